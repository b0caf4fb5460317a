//! Idle cost: AWS requests per minute that each visible view makes with default settings
//! (`--refresh 5`), nobody touching the keyboard. The real binary runs in a pseudo-terminal
//! against `berth sandbox` in another process; the sandbox counts the requests.
//!
//! Run: `cargo bench --bench idle_api` (30 s per view; prints a table).

#[allow(dead_code, clippy::expect_used, clippy::unwrap_used)]
#[path = "../tests/common/pty.rs"]
mod pty;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pty::Pty;

const SECS: u64 = 30;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn http(port: u16, method: &str, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("{e}"));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

fn sandbox(port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["sandbox", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "sandbox did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn main() {
    let port = free_port();
    let mut sb = sandbox(port);
    let url = format!("http://127.0.0.1:{port}");
    let env = [
        ("AWS_ACCESS_KEY_ID", berth::sandbox::DEMO_ACCESS_KEY_ID),
        (
            "AWS_SECRET_ACCESS_KEY",
            berth::sandbox::DEMO_SECRET_ACCESS_KEY,
        ),
    ];
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
            "deployments and events of a service",
            vec!["--cluster", "prod", "--service", "checkout-api"],
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
