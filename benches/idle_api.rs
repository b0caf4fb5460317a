//! Idle cost: AWS requests per minute that each visible view makes with default settings
//! (`--refresh 5`), nobody touching the keyboard. The real binary runs in a pseudo-terminal
//! against `berth sandbox` in another process; the sandbox counts the requests.
//!
//! Run: `cargo bench --bench idle_api` (a minute per view, so the once-a-minute CPU and
//! memory read is counted once; prints a table). The pseudo-terminal is 120x40: wide enough
//! for the services list's CPU trend and tall enough for the deployments pane's chart, so
//! metrics are on; the `--no-metrics` rows show the same views without them.
//! `IDLE_API_ONLY=tasks` measures only the views whose name holds "tasks".

#[allow(dead_code, clippy::expect_used, clippy::unwrap_used)]
#[path = "../tests/common/pty.rs"]
mod pty;
mod support;

use std::time::{Duration, Instant};

use pty::Pty;
use support::{demo_credentials, free_port, http, sandbox};

const SECS: u64 = 60;

fn main() {
    let port = free_port();
    let mut sb = sandbox(port);
    let url = format!("http://127.0.0.1:{port}");
    let env = demo_credentials();
    // `IDLE_API_ONLY=tasks`: only the views whose name holds it
    let only = std::env::var("IDLE_API_ONLY").unwrap_or_default();
    println!("| view | requests/min | by operation |");
    println!("|---|---:|---|");
    for (name, args, ready, keys) in [
        ("clusters", vec![], "prod", vec![]),
        (
            "services of a cluster (6 services)",
            vec!["--cluster", "prod"],
            "checkout-api",
            vec![],
        ),
        (
            "services of a cluster, --no-metrics",
            vec!["--cluster", "prod", "--no-metrics"],
            "checkout-api",
            vec![],
        ),
        (
            "deployments and events of a service",
            vec!["--cluster", "prod", "--service", "checkout-api"],
            "PRIMARY",
            vec![],
        ),
        (
            "deployments and events, --no-metrics",
            vec![
                "--cluster",
                "prod",
                "--service",
                "checkout-api",
                "--no-metrics",
            ],
            "PRIMARY",
            vec![],
        ),
        (
            "tasks of a service",
            vec!["--cluster", "prod", "--service", "checkout-api"],
            "RUNNING",
            vec!["t"],
        ),
        (
            "logs of a service (followed)",
            vec!["--cluster", "prod", "--service", "checkout-api"],
            "streams",
            vec!["l"],
        ),
    ] {
        if !name.contains(only.as_str()) {
            continue;
        }
        let mut all = vec!["--endpoint-url", url.as_str(), "--region", "us-east-1"];
        all.extend(args);
        let p = Pty::spawn(&all, &env, 120, 40);
        std::thread::sleep(Duration::from_secs(2));
        for k in keys {
            p.send_key(k);
        }
        let t0 = Instant::now();
        while !p.screen_text().contains(ready) {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "{name}: {}",
                p.screen_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_secs(3));
        http(port, "POST", "/_sandbox/stats/reset");
        std::thread::sleep(Duration::from_secs(SECS));
        let stats: serde_json::Value =
            serde_json::from_str(&http(port, "GET", "/_sandbox/stats")).unwrap_or_default();
        let per_min = 60.0 / SECS as f64;
        let mut total = 0.0;
        let mut ops = Vec::new();
        if let Some(reqs) = stats["requests"].as_object() {
            for (op, n) in reqs {
                let n = n.as_f64().unwrap_or(0.0) * per_min;
                total += n;
                ops.push(format!("{op} {n:.0}"));
            }
        }
        println!("| {name} | {total:.0} | {} |", ops.join(", "));
        drop(p);
    }
    let _ = sb.kill();
    let _ = sb.wait();
}
