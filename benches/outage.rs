//! An endpoint going away and coming back: how long the console takes to say so, and to
//! recover. The real binary runs in a pseudo-terminal with `--refresh 2` against
//! `berth sandbox` in another process, which is killed and restarted on the same port.
//!
//! Run: `cargo bench --bench outage` (prints one line per trial; about 15 s each).

#[allow(dead_code, clippy::expect_used, clippy::unwrap_used)]
#[path = "../tests/common/pty.rs"]
mod pty;
mod support;

use std::time::{Duration, Instant};

use pty::Pty;
use support::{demo_credentials, free_port, sandbox};

const TRIALS: usize = 3;

/// Seconds until `pred` holds on the screen (polled every 20 ms, at most 120 s).
fn until(p: &Pty, pred: impl Fn(&str) -> bool) -> f64 {
    let t0 = Instant::now();
    while !pred(&p.screen_text()) {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "{}",
            p.screen_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    t0.elapsed().as_secs_f64()
}

fn main() {
    let failed = |s: &str| s.contains("cannot reach") || s.contains("refresh failed");
    for trial in 1..=TRIALS {
        let port = free_port();
        let mut sb = sandbox(port);
        let url = format!("http://127.0.0.1:{port}");
        let env = demo_credentials();
        let args = [
            "--endpoint-url",
            url.as_str(),
            "--region",
            "us-east-1",
            "--refresh",
            "2",
            "--cluster",
            "prod",
        ];
        let p = Pty::spawn(&args, &env, 120, 30);
        until(&p, |s| s.contains("checkout-api"));
        std::thread::sleep(Duration::from_secs(3));
        let _ = sb.kill();
        let _ = sb.wait();
        let shown = until(&p, failed);
        let mut sb = sandbox(port);
        let recovered = until(&p, |s| !failed(s));
        println!(
            "trial {trial}: endpoint down -> said after {shown:.2} s; back -> recovered after {recovered:.2} s (refresh 2 s)"
        );
        drop(p);
        let _ = sb.kill();
        let _ = sb.wait();
    }
}
