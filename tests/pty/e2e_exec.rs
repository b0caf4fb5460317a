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

/// `--exec-client native`: the checklist says berth's built-in client runs, and (not in this
/// build yet) it ends the session with its message; the console comes back.
#[test]
fn the_built_in_client_ends_the_session_with_its_message() {
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
    ok(p.wait_for_text("not available in this build"));
    ok(p.wait_for_text("tasks of checkout-api"));
    assert!(plugin::read(&out).is_none(), "the plugin ran");
    let audit = p.home().join(".local/state/berth/audit.jsonl");
    let text = std::fs::read_to_string(&audit).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["outcome"], "error", "{text}");
    assert_eq!(
        last["parameters"]["ended"],
        "berth's built-in client is not available in this build"
    );
    p.send_key("q");
    let status = p.wait_exit().unwrap();
    assert!(status.success(), "{status:?}");
    ok(p.check_terminal_restored());
}
