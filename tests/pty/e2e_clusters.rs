//! End-to-end: the real `berth` binary in a pseudo-terminal against a moto server.
//!
//! Also tests the pty harness itself against `/bin/sh`, so a harness bug is told apart from a
//! berth bug.

#![allow(clippy::expect_used)] // tests: a failed expectation is the report

use crate::common::moto;
use crate::common::pty::{self, Pty, key_bytes};

/// What the shipped default keymap says about one global action: its keys and description.
struct Binding {
    keys: Vec<String>,
    description: String,
}

fn global_bindings() -> Vec<(String, Binding)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/keymaps/default.toml");
    let text = std::fs::read_to_string(path).expect("read keymaps/default.toml");
    let doc: toml::Table = toml::from_str(&text).expect("parse keymaps/default.toml");
    let global = doc
        .get("global")
        .and_then(toml::Value::as_array)
        .expect("keymaps/default.toml has [[global]] bindings");
    global
        .iter()
        .filter_map(|b| {
            let action = b.get("action")?.as_str()?.to_owned();
            let keys = b
                .get("keys")?
                .as_array()?
                .iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect();
            let description = b.get("description")?.as_str()?.to_owned();
            Some((action, Binding { keys, description }))
        })
        .collect()
}

/// How many of the global bindings' descriptions are on screen: the help screen lists them
/// all, the footer at most a few, so this rising and falling tells the help screen apart
/// without depending on its layout.
fn descriptions_visible(screen: &str, bindings: &[(String, Binding)]) -> usize {
    bindings
        .iter()
        .filter(|(_, b)| screen.contains(&b.description))
        .count()
}

/// A screen line with the description and the key as a separate word on it.
fn line_shows_binding(screen: &str, key: &str, description: &str) -> bool {
    screen.lines().any(|line| {
        line.contains(description)
            && line
                .split(|c: char| c.is_whitespace() || c == ',' || c == '/' || c == '│')
                .any(|word| word == key)
    })
}

fn seed_clusters(server: &moto::MotoServer, names: &[&str]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let client = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
        for name in names {
            client
                .create_cluster()
                .cluster_name(*name)
                .send()
                .await
                .expect("create_cluster");
        }
    });
}

fn spawn_berth(server: &moto::MotoServer) -> Pty {
    let endpoint = server.endpoint_url();
    Pty::spawn(
        &["--endpoint-url", &endpoint, "--region", "us-east-1"],
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
        ],
        pty::DEFAULT_COLS,
        pty::DEFAULT_ROWS,
    )
}

#[test]
fn shows_clusters_opens_help_and_quits_cleanly() {
    let server = moto::shared();
    let clusters = ["e2e-prod", "e2e-staging"];
    seed_clusters(&server, &clusters);
    let bindings = global_bindings();
    let quit = &bindings
        .iter()
        .find(|(action, _)| action == "quit")
        .expect("the default keymap binds quit")
        .1;
    let quit_key = quit.keys.first().expect("quit has a key").clone();

    let mut berth = spawn_berth(&server);
    for name in clusters {
        berth.wait_for_text(name).unwrap_or_else(|e| panic!("{e}"));
    }

    let before_help = descriptions_visible(&berth.screen_text(), &bindings);
    berth.send_key("?");
    berth
        .wait_until("the help screen listing quit's key", |screen| {
            descriptions_visible(screen, &bindings) > before_help
                && line_shows_binding(screen, &quit_key, &quit.description)
        })
        .unwrap_or_else(|e| panic!("{e}"));

    berth.send_key("esc");
    berth
        .wait_until("the help screen to close", |screen| {
            descriptions_visible(screen, &bindings) <= before_help
        })
        .unwrap_or_else(|e| panic!("{e}"));

    berth.send_key(&quit_key);
    let status = berth.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        status.success(),
        "berth exited with {status}; screen:\n{}",
        pty::frame(&berth.screen_text())
    );
    berth
        .check_terminal_restored()
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn key_names_map_to_xterm_bytes() {
    let cases: &[(&str, &[u8])] = &[
        ("q", b"q"),
        ("?", b"?"),
        ("G", b"G"),
        ("é", "é".as_bytes()),
        ("enter", b"\r"),
        ("esc", b"\x1b"),
        ("tab", b"\t"),
        ("backtab", b"\x1b[Z"),
        ("backspace", b"\x7f"),
        ("space", b" "),
        ("up", b"\x1b[A"),
        ("down", b"\x1b[B"),
        ("right", b"\x1b[C"),
        ("left", b"\x1b[D"),
        ("home", b"\x1b[H"),
        ("end", b"\x1b[F"),
        ("pageup", b"\x1b[5~"),
        ("pagedown", b"\x1b[6~"),
        ("delete", b"\x1b[3~"),
        ("f1", b"\x1bOP"),
        ("f5", b"\x1b[15~"),
        ("f12", b"\x1b[24~"),
        ("ctrl-c", b"\x03"),
        ("ctrl-r", b"\x12"),
        ("ctrl-C", b"\x03"),
        ("ctrl-[", b"\x1b"),
        ("ctrl-space", b"\x00"),
        ("alt-x", b"\x1bx"),
        ("alt-enter", b"\x1b\r"),
    ];
    for (name, bytes) in cases {
        assert_eq!(key_bytes(name).as_deref(), Some(*bytes), "key {name:?}");
    }
    for unknown in [
        "", "ctrl-", "ctrl-1", "ctrl-ab", "f13", "hyper-x", "alt-nope",
    ] {
        assert_eq!(
            key_bytes(unknown),
            None,
            "key {unknown:?} should be unknown"
        );
    }
}

#[test]
fn help_line_matching_needs_the_key_as_a_word() {
    assert!(line_shows_binding(
        "  q, ctrl-c   Quit berth",
        "q",
        "Quit berth"
    ));
    assert!(line_shows_binding("│ q  Quit berth │", "q", "Quit berth"));
    assert!(!line_shows_binding(
        "  ctrl-q   Quit berth",
        "q",
        "Quit berth"
    ));
    assert!(!line_shows_binding("  q\n  Quit berth", "q", "Quit berth"));
}

fn sh(script: &str) -> Pty {
    Pty::spawn_program("/bin/sh", &["-c", script], &[], 40, 10)
}

#[test]
fn pty_harness_sees_screen_and_restoration() {
    let mut prog = sh(
        r"printf '\033[?1049h\033[?25lhello from the alternate screen'; \
         read line; printf '\033[?25h\033[?1049l'",
    );
    prog.wait_for_text("hello from the alternate")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(prog.with_screen(|s| s.alternate_screen()));
    assert!(prog.check_terminal_restored().is_err());
    prog.send_key("enter");
    let status = prog.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    prog.check_terminal_restored()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !prog.screen_text().contains("hello"),
        "primary screen is back"
    );
    assert!(pty::contains(
        &prog.raw_output(),
        pty::ENTER_ALTERNATE_SCREEN
    ));
    assert_eq!(prog.bytes_written(), prog.raw_output().len());
}

#[test]
fn pty_harness_reports_an_unrestored_terminal() {
    let mut prog = sh(r"printf '\033[?1049h\033[?25lbye'");
    let status = prog.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    let err = prog
        .check_terminal_restored()
        .expect_err("alternate screen never left");
    assert!(err.contains("alternate screen"), "{err}");
    assert!(err.contains("cursor still hidden"), "{err}");
}

#[test]
fn pty_harness_answers_cursor_position_queries_and_resizes() {
    let mut prog = sh(r#"stty raw -echo; printf '\033[3;5H\033[6n'; \
         reply=$(dd bs=1 count=6 2>/dev/null); stty sane; \
         printf '\r\nreply=%s\r\n' "$reply" | tr '\033' E; \
         read line; stty size"#);
    prog.wait_for_text("reply=E[3;5R")
        .unwrap_or_else(|e| panic!("{e}"));
    prog.resize(60, 15);
    prog.send_key("enter");
    prog.wait_for_text("15 60")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(prog.with_screen(|s| s.size()), (15, 60));
    assert!(prog.wait_exit().unwrap_or_else(|e| panic!("{e}")).success());
}

#[test]
fn pty_harness_controls_the_environment() {
    let mut prog = Pty::spawn_program(
        "/bin/sh",
        &[
            "-c",
            r#"printf '[%s][%s][%s][%s]' "$TERM" "${NO_COLOR-unset}" "$EXTRA" \
               "$(cat "$AWS_CONFIG_FILE" | wc -c)"; \
               case "$XDG_CONFIG_HOME" in "$HOME"/*) echo ' xdg-in-home';; esac"#,
        ],
        &[("EXTRA", "given")],
        80,
        5,
    );
    prog.wait_for_text("xdg-in-home")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        prog.screen_text()
            .contains("[xterm-256color][unset][given][0]"),
        "{}",
        prog.screen_text()
    );
    assert!(prog.wait_exit().unwrap_or_else(|e| panic!("{e}")).success());
}
