//! The model: everything the screen shows, owned by the UI task alone.

use super::command::Context;
use super::effect::RequestId;
use crate::aws::{AwsError, AwsTarget};
use crate::config::keymap::Keymap;
use crate::domain::{Cluster, Identity};

/// A view on the navigation stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Clusters,
    /// The services of one cluster (placeholder until the services pane lands).
    Services {
        cluster: String,
    },
}

impl View {
    pub fn context(&self) -> Context {
        match self {
            View::Clusters => Context::Clusters,
            View::Services { .. } => Context::Services,
        }
    }
}

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

#[derive(Debug, Clone, Default)]
pub struct ClustersView {
    pub rows: Vec<Cluster>,
    pub selected: usize,
    pub load: Load,
    /// Rows of a refresh in progress; swapped in when complete so the table does not flicker.
    pub incoming: Vec<Cluster>,
    /// The last load's error, shown in place of (or above) the table.
    pub error: Option<AwsError>,
    /// When a load last succeeded.
    pub loaded_at: Option<i64>,
    /// At least one load completed (distinguishes "no clusters" from "not loaded yet").
    pub loaded_once: bool,
    /// Show the loading indicator for the load in flight: the first load and ones the user
    /// asked for. Background refreshes stay invisible, so an idle screen writes nothing.
    pub loading_shown: bool,
}

impl ClustersView {
    pub fn selected_cluster(&self) -> Option<&Cluster> {
        self.rows.get(self.selected)
    }
}

pub struct State {
    pub session: Session,
    /// Navigation stack; never empty.
    pub views: Vec<View>,
    pub clusters: ClustersView,
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
}

impl State {
    pub fn new(session: Session, keymap: Keymap, refresh_secs: u64, now_unix: i64) -> State {
        State {
            session,
            views: vec![View::Clusters],
            clusters: ClustersView::default(),
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
        }
    }

    pub fn view(&self) -> &View {
        // The stack is never empty: `Back` keeps the root.
        self.views.last().unwrap_or(&View::Clusters)
    }

    /// The keymap context for key lookup and footer hints.
    pub fn context(&self) -> Context {
        if self.help.is_some() {
            Context::Help
        } else {
            self.view().context()
        }
    }

    /// Breadcrumbs for the header: `clusters › prod › services`.
    pub fn breadcrumbs(&self) -> Vec<String> {
        let mut crumbs = Vec::new();
        for v in &self.views {
            match v {
                View::Clusters => crumbs.push("clusters".to_string()),
                View::Services { cluster } => {
                    crumbs.push(cluster.clone());
                    crumbs.push("services".to_string());
                }
            }
        }
        crumbs
    }

    /// Rows a page-up/down moves: the table height at the current size.
    pub fn page_rows(&self) -> usize {
        usize::from(self.rows.saturating_sub(6)).max(1)
    }

    /// A load the user should see in flight (drives the spinner).
    pub fn is_loading(&self) -> bool {
        (self.clusters.load.is_loading() && self.clusters.loading_shown)
            || matches!(self.session.identity, IdentityState::Pending)
    }

    pub fn allocate_request(&mut self) -> RequestId {
        let id = self.next_request;
        self.next_request += 1;
        id
    }
}
