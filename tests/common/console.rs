//! A console without a terminal: the real reducer and effect runner against the sandbox,
//! driven by actions, rendered into a test backend. Its includer also declares `screen.rs`
//! beside it (`common/mod.rs` does; so does the screenshots example).

use std::time::Duration;

use berth::app::{Action, Command, Effect, IdentityState, Session, State, View, update};
use berth::aws::AwsTarget;
use berth::config::keymap::Keymap;
use berth::runtime::EffectRunner;
use berth::sandbox::{self, SandboxHandle};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc::UnboundedReceiver;

use super::screen;

pub struct Console {
    pub state: State,
    pub runner: EffectRunner,
    pub rx: UnboundedReceiver<Action>,
}

impl Console {
    /// A console connected to the sandbox, read-write.
    pub fn new(handle: &SandboxHandle) -> Console {
        Console::with(handle, false, None)
    }

    /// `read_only` as with `--read-only` (reducer and runner); audit lines go to `audit`.
    pub fn with(
        handle: &SandboxHandle,
        read_only: bool,
        audit: Option<std::path::PathBuf>,
    ) -> Console {
        Console::connect(handle, Console::target(handle), read_only, audit)
    }

    /// A read-write console whose clients abandon each request attempt after
    /// `attempt_timeout` (the console's default is [`berth::aws::DEFAULT_ATTEMPT_TIMEOUT`]).
    pub fn with_attempt_timeout(handle: &SandboxHandle, attempt_timeout: Duration) -> Console {
        let target = AwsTarget {
            attempt_timeout: Some(attempt_timeout),
            ..Console::target(handle)
        };
        Console::connect(handle, target, false, None)
    }

    /// How the console reaches the sandbox of `handle`.
    fn target(handle: &SandboxHandle) -> AwsTarget {
        AwsTarget {
            region: Some("us-east-1".into()),
            endpoint_url: Some(handle.endpoint_url()),
            static_credentials: Some((
                sandbox::DEMO_ACCESS_KEY_ID.into(),
                sandbox::DEMO_SECRET_ACCESS_KEY.into(),
            )),
            ..AwsTarget::default()
        }
    }

    fn connect(
        handle: &SandboxHandle,
        target: AwsTarget,
        read_only: bool,
        audit: Option<std::path::PathBuf>,
    ) -> Console {
        let session = Session {
            target: target.clone(),
            region: None,
            connected: false,
            identity: IdentityState::Pending,
            read_only,
            protected: false,
            demo: true,
        };
        let keymap = Keymap::load(None, None).unwrap().0;
        let state = State::new(session, keymap, 5, handle.virtual_now_ms() / 1000);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut runner = EffectRunner::new(tx);
        runner.read_only = read_only;
        runner.audit_path = audit;
        runner.run(Effect::Connect(target));
        Console { state, runner, rx }
    }

    pub fn apply(&mut self, action: Action) {
        for effect in update(&mut self.state, action) {
            // The terminal's effects (copy, hand-over, quit) are the loop's, not the runner's.
            if !matches!(effect, Effect::Terminal(_)) {
                self.runner.run(effect);
            }
        }
    }

    /// Feed results until `done` holds (bounded by a count of actions, not by time).
    pub async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        for _ in 0..10_000 {
            if done(&self.state) {
                return;
            }
            match tokio::time::timeout(Duration::from_secs(30), self.rx.recv()).await {
                Ok(Some(action)) => self.apply(action),
                _ => break,
            }
        }
        panic!("never reached: {what}\n{}", self.screen());
    }

    /// The console's frame at 220x60 in the default theme, as text.
    pub fn screen(&mut self) -> String {
        let theme = screen::theme("default");
        screen::text(&screen::draw(&mut self.state, &theme, 220, 60))
    }
}

pub fn loaded(state: &State) -> bool {
    match state.view() {
        View::Clusters => state.clusters.data.loaded_once,
        View::Services(v) => v.data.loaded_once,
        View::Deployments(v) | View::Events(v) => v.data.loaded_once,
        View::Tasks(v) | View::Network(v) => v.data.loaded_once,
        View::TaskDetail(v) => v.data.loaded_once,
        View::Logs(v) => v.history_loaded,
        View::Stopped(v) => v.data.loaded_once,
        View::Forwards(_) => true,
        View::Timeline(v) => v.data.is_some(),
        View::Pane(p) => p.answered(),
    }
}

pub fn key(c: KeyCode) -> Action {
    Action::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

pub fn type_text(console: &mut Console, text: &str) {
    for c in text.chars() {
        console.apply(key(KeyCode::Char(c)));
    }
}

/// Connected, on the services of `cluster`, with `service` selected (filtered to it).
pub async fn on_service(console: &mut Console, cluster: &str, service: &str) {
    console.until("connected", |s| s.session.connected).await;
    console.apply(Action::Command(Command::CommandMode));
    type_text(console, &format!("services {cluster}"));
    console.apply(key(KeyCode::Enter));
    console.until("services loaded", loaded).await;
    console.apply(Action::Command(Command::Filter));
    type_text(console, service);
    console.apply(key(KeyCode::Enter));
}

/// Refresh the visible view and apply what comes back, until `done` (or give up).
pub async fn refresh_until(console: &mut Console, what: &str, done: impl Fn(&State) -> bool) {
    for _ in 0..600 {
        if done(&console.state) {
            return;
        }
        console.apply(Action::RefreshDue);
        let deadline = tokio::time::sleep(Duration::from_millis(200));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                Some(a) = console.rx.recv() => console.apply(a),
                _ = &mut deadline => break,
            }
        }
    }
    panic!("never reached: {what}\n{}", console.screen());
}
