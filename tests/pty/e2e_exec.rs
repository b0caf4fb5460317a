//! ECS Exec end to end in a pseudo-terminal: the real binary on the demo sandbox, keys only,
//! at 80x24, with the recording plugin double (`--exec-client plugin`: auto may pick berth's
//! built-in client). The plugin must get the terminal in its
//! original (cooked) mode, not berth's raw mode; afterwards the console must come back
//! intact with "session ended (exit N)".

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::plugin;
use crate::common::pty::Pty;

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

#[test]
fn a_shell_session_gets_the_original_terminal_and_the_console_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let bin = plugin::install(dir.path());
    let out = dir.path().join("plugin.txt");
    let plugin_path = bin.join("session-manager-plugin");
    let mut p = Pty::spawn(
        &[
            "--demo",
            "--exec-client",
            "plugin",
            "--cluster",
            "prod",
            "--service",
            "checkout-api",
        ],
        &[
            (
                "BERTH_SESSION_MANAGER_PLUGIN",
                plugin_path.to_str().unwrap(),
            ),
            ("BERTH_TEST_PLUGIN_OUT", out.to_str().unwrap()),
            ("BERTH_TEST_PLUGIN_EXIT", "5"),
        ],
        80,
        24,
    );
    ok(p.wait_for_text("checkout-api"));
    p.send_key("t");
    ok(p.wait_for_text("RUNNING"));
    p.send_key("X");
    ok(p.wait_for_text("ECS Exec · task"));
    ok(p.wait_for_text("enter: start"));
    let screen = p.screen_text();
    assert!(screen.contains("✓ task RUNNING"), "{screen}");
    p.send_key("enter");
    ok(p.wait_for_text("session ended (exit 5)"));
    // The console is back: the tasks table redrawn in full, the dialog gone.
    ok(p.wait_for_text("tasks of checkout-api"));
    let screen = p.screen_text();
    assert!(!screen.contains("ECS Exec · task"), "{screen}");
    assert!(screen.contains("ID"), "{screen}");

    let rec = plugin::read(&out).expect("the plugin ran");
    assert_eq!(rec.argc, 6, "{rec:?}");
    assert!(rec.args[4].contains("\"Target\":\"ecs:prod_"), "{rec:?}");
    assert!(!rec.env.is_empty(), "no session in the environment");
    // Cooked mode, as the shell had it: berth's raw mode was undone before the plugin ran.
    let words: Vec<&str> = rec.stty.split_whitespace().collect();
    assert!(words.contains(&"icanon"), "{}", rec.stty);
    assert!(words.contains(&"echo"), "{}", rec.stty);
    assert!(words.contains(&"isig"), "{}", rec.stty);

    // Audited as `berth exec` audits (tests/pty/exec_cli.rs): opened, then how it ended.
    let audit = p.home().join(".local/state/berth/audit.jsonl");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "ok");
    assert_eq!(lines[1]["outcome"], "ended");
    let keys: Vec<&String> = lines[1]["parameters"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "cluster",
            "task",
            "container",
            "command",
            "session_id",
            "ended"
        ],
        "{}",
        lines[1]
    );
    assert_eq!(lines[1]["parameters"]["ended"], "exit 5");

    // Keys work again, and quitting restores the terminal.
    p.send_key("?");
    ok(p.wait_for_text("ECS Exec"));
    p.send_key("esc");
    ok(p.wait_for_text_gone("keys · default keymap"));
    p.send_key("q");
    let status = p.wait_exit().unwrap();
    assert!(status.success(), "{status:?}");
    ok(p.check_terminal_restored());
}

/// Ctrl-C during a session belongs to the remote shell: the terminal sends SIGINT to the whole
/// foreground group, the plugin (here a script that would wait forever) gets it, and berth
/// must neither die nor stop: it reports how the session ended and keeps working.
#[test]
fn ctrl_c_during_a_session_does_not_kill_berth() {
    let dir = tempfile::tempdir().unwrap();
    let bin = plugin::install(dir.path());
    let out = dir.path().join("plugin.txt");
    let plugin_path = bin.join("session-manager-plugin");
    let mut p = Pty::spawn(
        &[
            "--demo",
            "--exec-client",
            "plugin",
            "--cluster",
            "prod",
            "--service",
            "checkout-api",
        ],
        &[
            (
                "BERTH_SESSION_MANAGER_PLUGIN",
                plugin_path.to_str().unwrap(),
            ),
            ("BERTH_TEST_PLUGIN_OUT", out.to_str().unwrap()),
            ("BERTH_TEST_PLUGIN_WAIT", "1"),
        ],
        80,
        24,
    );
    ok(p.wait_for_text("checkout-api"));
    p.send_key("t");
    ok(p.wait_for_text("RUNNING"));
    p.send_key("X");
    ok(p.wait_for_text("enter: start"));
    p.send_key("enter");
    // The double prints this once it runs (and has recorded how it was started).
    ok(p.wait_for_text("Waiting for connections"));
    assert!(plugin::read(&out).is_some());
    p.send(b"\x03");
    ok(p.wait_for_text("session ended (signal 2)"));
    ok(p.wait_for_text("tasks of checkout-api"));
    p.send_key("q");
    let status = p.wait_exit().unwrap();
    assert!(status.success(), "{status:?}");
    ok(p.check_terminal_restored());
}

/// The demo's break-glass path with berth's built-in client (the issue's drill): a task, `X`,
/// `enter`, `hostname` prints the task id from the sandbox's simulated container, the size
/// follows a resize, `exit 3` brings berth back with "session ended (exit 3)", the terminal is
/// restored, and the audit file has the `ok` and `ended` lines. The plugin double is installed
/// too and must not run.
#[test]
fn the_built_in_client_runs_a_shell_on_the_demo_and_reports_its_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plugin.txt");
    let bin = plugin::install(dir.path());
    let plugin_path = bin.join("session-manager-plugin");
    let mut p = Pty::spawn(
        &[
            "--demo",
            "--exec-client",
            "native",
            "--cluster",
            "prod",
            "--service",
            "checkout-api",
        ],
        &[
            (
                "BERTH_SESSION_MANAGER_PLUGIN",
                plugin_path.to_str().unwrap(),
            ),
            ("BERTH_TEST_PLUGIN_OUT", out.to_str().unwrap()),
        ],
        100,
        30,
    );
    ok(p.wait_for_text("checkout-api"));
    p.send_key("t");
    ok(p.wait_for_text("RUNNING"));
    p.send_key("X");
    ok(p.wait_for_text("enter: start"));
    let screen = p.screen_text();
    assert!(
        screen.contains("✓ client: berth's built-in client (exec client: native)"),
        "{screen}"
    );
    p.send_key("enter");
    ok(p.wait_for_text("/ # "));
    p.send(b"hostname\r");
    let task_id = |s: &str| {
        s.lines()
            .map(str::trim)
            .find(|l| l.len() == 32 && l.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_string)
    };
    ok(p.wait_until("the task id", |s| task_id(s).is_some()));
    let id = task_id(&p.screen_text()).unwrap();
    // The size goes out when berth sees SIGWINCH, which may come after keys typed at once:
    // ask again until the answer follows (a person would see the same).
    p.resize(90, 26);
    let answers = |s: &str| s.lines().filter(|l| l.trim() == "30 100").count();
    let resized = (0..10).any(|_| {
        let before = answers(&p.screen_text());
        p.send(b"stty size\r");
        ok(p.wait_until("an answer", |s| s.contains("26 90") || answers(s) > before));
        p.screen_text().contains("26 90")
    });
    assert!(resized, "{}", p.screen_text());
    p.send(b"exit 3\r");
    ok(p.wait_for_text("session ended (exit 3)"));
    ok(p.wait_for_text("tasks of checkout-api"));
    assert!(plugin::read(&out).is_none(), "the plugin ran");
    let audit = p.home().join(".local/state/berth/audit.jsonl");
    let text = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["outcome"], "ok", "{text}");
    assert_eq!(lines[1]["outcome"], "ended", "{text}");
    assert_eq!(lines[1]["parameters"]["ended"], "exit 3", "{text}");
    assert_eq!(lines[1]["parameters"]["task"], id.as_str(), "{text}");
    assert_eq!(lines[1]["parameters"]["command"], "/bin/sh", "{text}");
    assert!(
        !text.contains("__BERTH_EXIT_") && !text.contains("Token"),
        "{text}"
    );
    p.send_key("q");
    let status = p.wait_exit().unwrap();
    assert!(status.success(), "{status:?}");
    ok(p.check_terminal_restored());
}
