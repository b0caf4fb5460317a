//! berth dies with its terminal. The real binary runs in a pseudo-terminal against the sandbox;
//! the terminal's master side is closed (what sshd does when an SSH connection drops, what
//! tmux does on kill-session) and the process must be gone within 2 s, with no AWS request
//! counted after the close. Driven by `tests/fixtures/hangup.py` (python3, which the test
//! harness needs for moto anyway), because the test must hold the only master descriptor to
//! close it.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use berth::sandbox::{self, SandboxOptions};

struct Outcome {
    /// Requests the sandbox counted while berth was running, before the close.
    before_close: u64,
    at_close: u64,
    /// Counted again 2 s after the exit (or after giving up on it).
    later: u64,
    /// `EXITED <secs> <status>` or `ALIVE`.
    verdict: String,
}

async fn hang_up(mode: &str) -> Outcome {
    hang_up_with(mode, &["--refresh", "1"], "").await
}

/// [`hang_up`] with berth's own `args` and an AWS credentials file holding `credentials`.
async fn hang_up_with(mode: &str, args: &[&str], credentials: &str) -> Outcome {
    let sb = sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .expect("sandbox");
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("aws-credentials"), credentials).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hangup.py");
    let url = sb.endpoint_url();
    let mut py = Command::new("python3")
        .arg(script)
        .arg(mode)
        .arg("prod")
        .arg(env!("CARGO_BIN_EXE_berth"))
        .args(["--endpoint-url", &url, "--region", "us-east-1"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("TERM", "xterm-256color")
        .env("LANG", "C.UTF-8")
        .env("AWS_ACCESS_KEY_ID", sandbox::DEMO_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", sandbox::DEMO_SECRET_ACCESS_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.path().join("aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("aws-credentials"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs the pty driver");
    let mut lines = BufReader::new(py.stdout.take().unwrap()).lines();
    let mut next = move || lines.next().and_then(Result::ok).unwrap_or_default();
    let ready = tokio::task::block_in_place(&mut next);
    assert_eq!(ready, "READY", "berth never showed its clusters");
    let before_close = sb.stats().total();
    py.stdin.as_mut().unwrap().write_all(b"close\n").unwrap();
    let closed = tokio::task::block_in_place(&mut next);
    assert_eq!(closed, "CLOSED");
    let at_close = sb.stats().total();
    let verdict = tokio::task::block_in_place(&mut next);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = sb.stats().total();
    let _ = py.wait();
    sb.shutdown().await;
    Outcome {
        before_close,
        at_close,
        later,
        verdict,
    }
}

fn assert_gone_quietly(o: &Outcome) {
    // It was polling (so "no request after" means something): --refresh 1 for 3 s.
    assert!(
        o.before_close >= 3,
        "berth made {} requests",
        o.before_close
    );
    let secs: f64 = match o.verdict.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["EXITED", secs, _status] => secs.parse().unwrap(),
        _ => panic!(
            "berth still running after its terminal closed: {}",
            o.verdict
        ),
    };
    assert!(secs <= 2.0, "berth took {secs} s to exit");
    assert_eq!(
        o.later, o.at_close,
        "requests after the terminal closed: {} -> {}",
        o.at_close, o.later
    );
}

/// An SSH session dropping: the kernel hangs up the line and sends SIGHUP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_terminal_ends_berth_within_two_seconds() {
    let o = hang_up("ctty").await;
    assert_gone_quietly(&o);
}

/// The fleet view reads every pair with clients of its own: they die with the terminal too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_terminal_ends_a_fleet_view_and_its_reads() {
    // two profiles in two regions, all answered by the sandbox's one fleet
    let credentials = format!(
        "[a]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n\n\
         [b]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n",
        id = sandbox::DEMO_ACCESS_KEY_ID,
        secret = sandbox::DEMO_SECRET_ACCESS_KEY,
    );
    let o = hang_up_with(
        "ctty",
        &["--profiles", "a,b", "--regions", "us-east-1,eu-west-1"],
        &credentials,
    )
    .await;
    assert_gone_quietly(&o);
}

/// No SIGHUP arrives (the terminal is not berth's controlling terminal, or the signal was
/// lost): the dead line alone must end berth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_up_line_without_sighup_ends_berth_too() {
    let o = hang_up("noctty").await;
    assert_gone_quietly(&o);
}

/// ctrl-c quits: the reducer's quit effect is acted on by the loop (the runtime used to ignore
/// `Effect::Quit` and quit through a flag the reducer set beside it).
#[test]
fn ctrl_c_ends_berth_and_restores_the_terminal() {
    use crate::common::pty;
    let mut p = pty::Pty::spawn(&["--demo"], &[], 80, 24);
    p.wait_for_text("prod").unwrap_or_else(|e| panic!("{e}"));
    p.send(b"\x03");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
    p.check_terminal_restored()
        .unwrap_or_else(|e| panic!("{e}"));
}
