//! The generated outputs of the real binary: completion scripts and the man page, written
//! whole to a pipe, and a reader that goes away early (`| head`) is not a crash.

use std::process::{Command, Stdio};

/// The binary with a home of its own: no user config can stop it, its log goes to `home`.
fn berth(home: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .stdin(Stdio::null());
    cmd
}

#[test]
fn completions_and_man_page_are_written_and_a_closed_pipe_is_not_a_crash() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for args in [
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
        vec!["completions", "fish"],
        vec!["man"],
    ] {
        let out = berth(home.path())
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "{args:?}: {:?}", out.status);
        assert!(
            out.stdout.len() > 1_000,
            "{args:?}: {} bytes",
            out.stdout.len()
        );

        // `| head -0`: the reader is gone before berth writes. Closed before the child
        // starts, so the first write always fails (each output fits in a pipe buffer: a
        // reader closed later could miss it). Rust ignores SIGPIPE, so the write returns
        // EPIPE, and berth ends as a pipe's writer should: exit 0, nothing on stderr.
        let (reader, writer) = std::io::pipe().unwrap_or_else(|e| panic!("{e}"));
        drop(reader);
        let out = berth(home.path())
            .args(&args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} into a closed pipe: {:?}; stderr: {stderr}",
            out.status
        );
        assert!(
            stderr.is_empty(),
            "{args:?} into a closed pipe wrote to stderr: {stderr}"
        );
    }
}

#[test]
fn man_dir_writes_a_page_per_subcommand_that_berth_1_refers_to() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = berth(home.path())
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "{:?}", out);
    let main =
        std::fs::read_to_string(dir.path().join("berth.1")).unwrap_or_else(|e| panic!("{e}"));
    for sub in [
        "sandbox",
        "fleet",
        "logs",
        "exec-check",
        "exec",
        "completions",
        "man",
    ] {
        let page = dir.path().join(format!("berth-{sub}.1"));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(
            text.starts_with(".ie") || text.contains(".TH"),
            "{sub}: not roff"
        );
        let roff_name = format!("berth\\-{}(1)", sub.replace('-', "\\-"));
        assert!(main.contains(&roff_name), "berth.1 refers to {roff_name}");
    }
    // the paths written are listed, one per line
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listed.lines().count(), 8, "{listed}");

    // the completion scripts know the subcommands and the flags
    for shell in ["bash", "zsh", "fish"] {
        let out = berth(home.path())
            .args(["completions", shell])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        for word in ["exec-check", "refresh", "read-only", "scenario"] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
}
