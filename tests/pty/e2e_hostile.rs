//! Hostile text end to end: the real binary on the sandbox's `hostile` drill in a
//! pseudo-terminal. Service events, a stopped task's reason and log lines carry OSC 52
//! clipboard writes, title changes, hyperlinks, screen clears, C0/C1 controls, NUL, bidi
//! overrides, JSON nested 2,000 deep and a 1 MiB line. Asserted on the bytes berth wrote to
//! the terminal: none of the attack sequences reach it, while the text shows with visible
//! stand-ins and the console keeps working.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::pty::{Pty, contains};

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// Byte sequences berth itself never writes (it copies with OSC 52 only when asked) and an
/// attacker would need.
const FORBIDDEN: &[(&str, &[u8])] = &[
    ("OSC (clipboard, title, hyperlink)", b"\x1b]"),
    ("BEL", b"\x07"),
    ("NUL", b"\x00"),
    ("C1 CSI", "\u{9b}".as_bytes()),
    ("C1 OSC", "\u{9d}".as_bytes()),
    ("C1 ST", "\u{9c}".as_bytes()),
    ("bidi override", "\u{202e}".as_bytes()),
    ("backspace", b"\x08"),
];

fn assert_clean(p: &Pty, where_: &str) {
    let raw = p.raw_output();
    for (what, bytes) in FORBIDDEN {
        assert!(
            !contains(&raw, bytes),
            "{what} reached the terminal ({where_})"
        );
    }
}

#[test]
fn attack_text_is_shown_not_obeyed() {
    let mut p = Pty::spawn(
        &[
            "--demo",
            "--scenario",
            "hostile",
            "--cluster",
            "prod",
            "--service",
            "checkout-api",
        ],
        &[],
        120,
        40,
    );
    // The service's events, in the deployments view.
    ok(p.wait_for_text("clipboard"));
    let screen = p.screen_text();
    assert!(screen.contains("␛]52;c;"), "no visible stand-in:\n{screen}");
    assert!(screen.contains("PWNED-TITLE"), "{screen}");
    assert_clean(&p, "events");

    // The stopped task's reason, grouped by cause.
    p.send_key("w");
    ok(p.wait_for_text("stopped by a user"));
    assert_clean(&p, "why stopped");
    p.send_key("esc");
    ok(p.wait_for_text_gone("why tasks stopped"));

    // The logs: escape-laden lines, escapes inside JSON strings, deep JSON, a 1 MiB line.
    p.send_key("l");
    ok(p.wait_for_text("streams"));
    // Only the attack lines (they arrive between ordinary ones).
    p.send_key("f");
    p.send(b"pwn or controls or json or BIG");
    p.send_key("enter");
    ok(p.wait_for_text("BIG xxxx"));
    ok(p.wait_for_text("controls"));
    ok(p.wait_for_text("json"));
    assert_clean(&p, "logs");
    // Expanding a line (pretty JSON) and leaving, a key at a time.
    p.send_key("enter");
    std::thread::sleep(std::time::Duration::from_millis(300));
    for _ in 0..3 {
        p.send_key("esc");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    ok(p.wait_for_text_gone("› logs"));
    assert_clean(&p, "expanded");

    // Still alive and answering keys; the terminal comes back clean.
    p.send_key("?");
    ok(p.wait_for_text("keys · default keymap"));
    p.send_key("esc");
    ok(p.wait_for_text_gone("keys · default keymap"));
    p.send_key("q");
    let status = p.wait_exit().unwrap();
    assert!(status.success(), "{status:?}");
    ok(p.check_terminal_restored());
    assert_clean(&p, "after quitting");
}
