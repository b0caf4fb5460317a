//! The model: everything the screen shows, owned by the UI task alone.

use super::command::Context;
use super::effect::RequestId;
pub use super::views::{ClustersView, View};
use crate::aws::{AwsError, AwsTarget};
use crate::config::keymap::Keymap;
use crate::domain::Identity;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityState {
    /// Not asked yet, or the question is in flight.
    Pending,
    Known(Identity),
    Failed(AwsError),
}

/// Who and where we are: the header's content.
#[derive(Debug, Clone)]
pub struct Session {
    pub target: AwsTarget,
    /// Region once the SDK configuration resolved it.
    pub region: Option<String>,
    pub connected: bool,
    pub identity: IdentityState,
    pub read_only: bool,
    /// A production account: actions need the resource's name typed to confirm.
    pub protected: bool,
    /// Running against the embedded sandbox.
    pub demo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BannerLevel {
    Warning,
    Error,
}

/// A message that stays on screen until fixed or dismissed (credentials, config warnings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub level: BannerLevel,
    pub title: String,
    pub detail: String,
    pub fix: Option<String>,
    /// Credential and region problems clear themselves once a call succeeds.
    pub clears_on_success: bool,
}

impl Banner {
    pub fn from_error(err: &AwsError, profile: Option<&str>) -> Banner {
        Banner {
            level: BannerLevel::Error,
            title: err.title().to_string(),
            detail: err.to_string(),
            fix: err.fix(profile),
            clears_on_success: true,
        }
    }
}

/// A short message in the footer (copied, refreshed, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub is_error: bool,
    /// Unix second after which it disappears.
    pub until_unix: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Load {
    #[default]
    Idle,
    Loading {
        request: RequestId,
        total: Option<usize>,
        received: usize,
    },
}

impl Load {
    pub fn is_loading(&self) -> bool {
        matches!(self, Load::Loading { .. })
    }
}

/// A line of text being typed: a `/` filter or a `:` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
    /// The filter before editing started (Esc restores it).
    pub original: String,
    /// Completion candidates for the command line, shown under it.
    pub completions: Vec<String>,
    /// A command the line could not run.
    pub error: Option<String>,
}

impl Input {
    pub fn new(kind: InputKind, text: String) -> Input {
        Input {
            kind,
            original: text.clone(),
            text,
            completions: Vec::new(),
            error: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A table filter, applied as it is typed.
    Filter,
    Command,
    /// A logs query (`level>=warn and path~/api/`), applied on Enter.
    LogQuery,
    /// A `/` search in the logs pane, found as it is typed.
    Search,
}

pub struct State {
    pub session: Session,
    /// Navigation stack; never empty.
    pub views: Vec<View>,
    /// The stack before the last navigation (`previous_view` swaps back to it).
    pub previous: Option<Vec<View>>,
    pub clusters: ClustersView,
    /// The fleet the session was started with (`:fleet` opens it).
    pub fleet: Option<super::fleet::FleetSetup>,
    /// config.toml's fleets (`:fleet NAME`).
    pub fleet_config: super::fleet::FleetConfig,
    /// A filter or command being typed.
    pub input: Option<Input>,
    /// Profiles from ~/.aws/config, for `:profile` completion.
    pub known_profiles: Vec<String>,
    /// The help screen is open (with its scroll offset).
    pub help: Option<u16>,
    pub banner: Option<Banner>,
    pub status: Option<StatusLine>,
    pub keymap: Keymap,
    pub refresh_secs: u64,
    pub now_unix: i64,
    pub spinner: usize,
    pub next_request: RequestId,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    pub quitting: bool,
    pub cols: u16,
    pub rows: u16,
    /// Production profiles and accounts (config.toml), and whether --read-only was given.
    pub safety: crate::config::safety::Safety,
    pub cli_read_only: bool,
    /// A confirmation dialog for a mutating action.
    pub dialog: Option<super::mutations::Dialog>,
    /// The ECS Exec or port-forward dialog (preflight, container, command or ports).
    pub exec: Option<super::exec::ExecDialog>,
    /// Port forwards started in this session (ended ones stay listed).
    pub forwards: Vec<super::exec::Forward>,
    /// A deployment berth started, followed until it ends.
    pub watch: Option<super::mutations::RolloutWatch>,
    /// The ECS Exec client asked for (`--exec-client`, `[console] exec_client`): the
    /// preflight and every session of the console use it.
    pub exec_client: crate::exec::client::ExecClient,
    /// The logs session running for the logs view on top, if any.
    pub logs_tail: Option<super::logs::TailId>,
    /// Lines the logs pane keeps.
    pub logs_capacity: usize,
    /// Deployment history by `cluster/service`, for the services whose deployments view
    /// loaded it (see `app::history`).
    pub histories: std::collections::HashMap<String, crate::domain::history::History>,
    /// Target group health as last read (see `app::targets`).
    pub targets: super::targets::Targets,
    /// Auto scaling by `cluster/service`, for the services whose deployments view loaded it
    /// (see `app::scaling`).
    pub scalings: std::collections::HashMap<String, crate::domain::scaling::ScalingState>,
    /// CPU and memory trends, and what keeps them cheap (see `app::metrics`).
    pub metrics: super::metrics::Metrics,
}

impl State {
    pub fn new(session: Session, keymap: Keymap, refresh_secs: u64, now_unix: i64) -> State {
        // Read-only as started stays: config rules can add to it, never take it away.
        let session_read_only = session.read_only;
        State {
            session,
            views: vec![View::Clusters],
            previous: None,
            clusters: ClustersView::default(),
            fleet: None,
            fleet_config: Default::default(),
            input: None,
            known_profiles: Vec::new(),
            help: None,
            banner: None,
            status: None,
            keymap,
            refresh_secs: refresh_secs.max(1),
            now_unix,
            spinner: 0,
            next_request: 1,
            dirty: true,
            quitting: false,
            cols: 80,
            rows: 24,
            safety: Default::default(),
            cli_read_only: session_read_only,
            dialog: None,
            exec: None,
            forwards: Vec::new(),
            watch: None,
            exec_client: Default::default(),
            logs_tail: None,
            logs_capacity: crate::logs::buffer::DEFAULT_CAPACITY,
            histories: Default::default(),
            targets: Default::default(),
            scalings: Default::default(),
            metrics: Default::default(),
        }
    }

    pub fn view(&self) -> &View {
        // The stack is never empty: `Back` keeps the root.
        self.views.last().unwrap_or(&View::Clusters)
    }

    pub fn view_mut(&mut self) -> &mut View {
        if self.views.is_empty() {
            self.views.push(View::Clusters);
        }
        let last = self.views.len() - 1;
        &mut self.views[last]
    }

    /// The keymap context for key lookup and footer hints.
    pub fn context(&self) -> Context {
        if self.help.is_some() {
            Context::Help
        } else {
            self.view().context()
        }
    }

    /// Breadcrumbs for the header: `prod › checkout-api › tasks`.
    pub fn breadcrumbs(&self) -> Vec<String> {
        let view = self.view();
        let mut crumbs = Vec::new();
        if let Some(cluster) = view.cluster() {
            crumbs.push(cluster.to_string());
        }
        if let Some(service) = view.service() {
            crumbs.push(service.to_string());
        }
        crumbs.push(view.crumb());
        crumbs
    }

    /// Rows a page-up/down moves: the table height at the current size.
    pub fn page_rows(&self) -> usize {
        usize::from(self.rows.saturating_sub(6)).max(1)
    }

    /// A load the user should see in flight (drives the spinner).
    pub fn is_loading(&self) -> bool {
        let view_loading = match self.view() {
            View::Clusters => self.clusters.data.shows_loading(),
            View::Services(v) => v.data.shows_loading(),
            View::Deployments(v) | View::Events(v) => v.data.shows_loading(),
            View::Tasks(v) | View::Network(v) => v.data.shows_loading(),
            View::TaskDetail(v) => v.data.shows_loading(),
            View::Stopped(v) => v.data.shows_loading(),
            View::Forwards(_) => false,
            View::Timeline(v) => v.loading,
            View::Pane(p) => p.is_loading(),
            View::Logs(v) => matches!(
                v.state,
                super::logs::TailState::Resolving | super::logs::TailState::Reading
            ),
        };
        view_loading || matches!(self.session.identity, IdentityState::Pending)
    }

    /// Re-apply the safety rules for the current profile and (once known) account.
    pub fn apply_safety(&mut self) {
        let account = match &self.session.identity {
            IdentityState::Known(id) => Some(id.account.as_str()),
            _ => None,
        };
        let rule = self
            .safety
            .rule(self.session.target.profile.as_deref(), account);
        let read_only = self.cli_read_only || rule.read_only;
        if read_only != self.session.read_only || rule.protected != self.session.protected {
            self.dirty = true;
        }
        self.session.read_only = read_only;
        self.session.protected = rule.protected;
    }

    pub fn allocate_request(&mut self) -> RequestId {
        let id = self.next_request;
        self.next_request += 1;
        id
    }
}
