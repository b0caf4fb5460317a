//! The generated outputs of the real binary: completion scripts and the man page, written
//! whole to a pipe, and a reader that goes away early (`| head`) is not a crash.

use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn completions_and_man_page_are_written_and_a_closed_pipe_is_not_a_crash() {
    for args in [
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
        vec!["completions", "fish"],
        vec!["man"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "{args:?}: {:?}", out.status);
        assert!(
            out.stdout.len() > 1_000,
            "{args:?}: {} bytes",
            out.stdout.len()
        );

        // The reader is gone before anything is written (`| head -0`).
        let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        drop(child.stdout.take());
        let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            status.code().is_some(),
            "{args:?} died by a signal: {status:?}"
        );
    }
}

#[test]
fn man_dir_writes_a_page_per_subcommand_that_berth_1_refers_to() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "{:?}", out);
    let main =
        std::fs::read_to_string(dir.path().join("berth.1")).unwrap_or_else(|e| panic!("{e}"));
    for sub in [
        "sandbox",
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
    assert_eq!(listed.lines().count(), 7, "{listed}");

    // the completion scripts know the subcommands and the flags
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(["completions", shell])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        for word in ["exec-check", "refresh", "read-only", "scenario"] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
}
