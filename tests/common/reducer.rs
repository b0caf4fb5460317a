//! Set-up shared by the reducer tests (actions in, state and effects out, a frame rendered into
//! a ratatui buffer): a state connected to a region with a known caller, keys, and the screen
//! as text. The reducer test binary includes it alone (`#[path = "../common/reducer.rs"]
//! mod reducer;`), so it does not compile the network and pty harnesses.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use berth::app::{Action, Effect, IdentityState, Session, State, update};
use berth::aws::AwsTarget;
use berth::config::keymap::Keymap;
use berth::config::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A state at `now` with the default keymap, connected to eu-west-1 as `profile`, before the
/// caller identity is known.
pub fn connected(now: i64, profile: Option<&str>, read_only: bool, protected: bool) -> State {
    let session = Session {
        target: AwsTarget {
            profile: profile.map(str::to_string),
            ..AwsTarget::default()
        },
        region: None,
        connected: false,
        identity: IdentityState::Pending,
        read_only,
        protected,
        demo: false,
    };
    let keymap = Keymap::load(None, None).unwrap().0;
    let mut s = State::new(session, keymap, 5, now);
    update(
        &mut s,
        Action::AwsConnected {
            region: "eu-west-1".into(),
        },
    );
    s
}

/// [`connected`], and the caller known: alice's OnCall role in account 210987654321.
pub fn signed_in(now: i64, profile: Option<&str>, read_only: bool, protected: bool) -> State {
    let mut s = connected(now, profile, read_only, protected);
    update(
        &mut s,
        Action::IdentityResolved(Ok(berth::domain::Identity {
            account: "210987654321".into(),
            arn: "arn:aws:sts::210987654321:assumed-role/OnCall/alice".into(),
            user_id: "x".into(),
        })),
    );
    s
}

pub fn key(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        key(s, KeyCode::Char(c));
    }
}

/// The frame at `cols`x`rows` in `theme`, as text with trailing spaces trimmed.
pub fn screen(s: &mut State, theme: &str, cols: u16, rows: u16) -> String {
    update(s, Action::Resize { cols, rows });
    let theme = Theme::load(Some(theme), theme == "mono", None).unwrap().0;
    let mut terminal = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    terminal.draw(|f| berth::ui::render(f, s, &theme)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    (0..rows)
        .map(|y| {
            (0..cols)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The status line's text (empty when there is none).
pub fn status(s: &State) -> String {
    s.status
        .as_ref()
        .map(|x| x.text.clone())
        .unwrap_or_default()
}
