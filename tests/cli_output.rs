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
