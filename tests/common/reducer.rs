//! Set-up shared by the reducer tests (actions in, state and effects out, a frame rendered into
//! a ratatui buffer): the one state builder (a state before and after connecting to a region,
//! and with a known caller), keys, and the screen as text. The reducer test binary includes it
//! with `screen.rs` and no other harness (`#[path = "../common/reducer.rs"] mod reducer;`), so
//! it does not compile the network and pty harnesses.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use berth::app::{Action, Effect, IdentityState, Session, State, update};
use berth::aws::AwsTarget;
use berth::config::keymap::Keymap;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::screen;

/// A state at `now` with the default keymap and `profile`, before it has connected.
pub fn unconnected(now: i64, profile: Option<&str>, read_only: bool, protected: bool) -> State {
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
    State::new(session, keymap, 5, now)
}

/// `s` connects to eu-west-1: returns what the reducer asks for next (the caller's identity,
/// the clusters).
pub fn connect(s: &mut State) -> Vec<Effect> {
    update(
        s,
        Action::AwsConnected {
            region: "eu-west-1".into(),
        },
    )
}

/// The caller becomes known: alice's OnCall role in account 210987654321.
pub fn sign_in(s: &mut State) {
    update(
        s,
        Action::IdentityResolved(Ok(berth::domain::Identity {
            account: "210987654321".into(),
            arn: "arn:aws:sts::210987654321:assumed-role/OnCall/alice".into(),
            user_id: "x".into(),
        })),
    );
}

/// [`unconnected`], then connected to eu-west-1, before the caller identity is known.
pub fn connected(now: i64, profile: Option<&str>, read_only: bool, protected: bool) -> State {
    let mut s = unconnected(now, profile, read_only, protected);
    connect(&mut s);
    s
}

/// [`connected`], and the caller known ([`sign_in`]).
pub fn signed_in(now: i64, profile: Option<&str>, read_only: bool, protected: bool) -> State {
    let mut s = connected(now, profile, read_only, protected);
    sign_in(&mut s);
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

/// The frame at `cols`x`rows` in the shipped theme `theme`, as text ([`screen::text`]).
pub fn screen(s: &mut State, theme: &str, cols: u16, rows: u16) -> String {
    screen::text(&screen::draw(s, &screen::theme(theme), cols, rows))
}

/// The status line's text (empty when there is none).
pub fn status(s: &State) -> String {
    s.status
        .as_ref()
        .map(|x| x.text.clone())
        .unwrap_or_default()
}
