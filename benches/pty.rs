//! What a user on a terminal feels, measured on the real binary in a pseudo-terminal:
//!
//! - startup: process start to the first frame (before any network answer), and to the
//!   first clusters row from the demo sandbox;
//! - terminal bytes per second while idle, while a deployment rolls, and while tailing logs,
//!   next to the number of screen cells that actually changed (sampled every 100 ms).
//!
//! Run: `cargo bench --bench pty` (uses the binary of the same profile; `--profile dev` for a
//! quick look). Prints a table; nothing here is asserted.

#[allow(dead_code, clippy::expect_used, clippy::unwrap_used)]
#[path = "../tests/common/pty.rs"]
mod pty;

use std::time::{Duration, Instant};

use pty::Pty;

fn wait(p: &Pty, what: &str, pred: impl Fn(&str) -> bool) -> Duration {
    let t0 = Instant::now();
    loop {
        if pred(&p.screen_text()) {
            return t0.elapsed();
        }
        if t0.elapsed() > Duration::from_secs(60) {
            panic!("never: {what}\n{}", p.screen_text());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn startup(runs: usize) {
    let mut first = Vec::new();
    let mut row = Vec::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut p = Pty::spawn(&["--demo"], &[], 80, 24);
        wait(&p, "first frame", |s| s.contains(" berth "));
        first.push(t0.elapsed());
        wait(&p, "first clusters row", |s| {
            s.lines().any(|l| l.trim_start().starts_with("prod "))
        });
        row.push(t0.elapsed());
        p.send_key("q");
        let _ = p.wait_exit();
    }
    println!(
        "startup ({runs} runs, median; min–max): first frame {:.1} ms ({:.1}–{:.1}); first clusters row {:.1} ms ({:.1}–{:.1})",
        ms(median(first.clone())),
        ms(*first.iter().min().unwrap_or(&Duration::ZERO)),
        ms(*first.iter().max().unwrap_or(&Duration::ZERO)),
        ms(median(row.clone())),
        ms(*row.iter().min().unwrap_or(&Duration::ZERO)),
        ms(*row.iter().max().unwrap_or(&Duration::ZERO)),
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Bytes written and cells changed over `secs`, sampling the screen every 100 ms.
fn traffic(p: &Pty, secs: u64) -> (f64, f64) {
    let start_bytes = p.bytes_written();
    let mut previous = cells(p);
    let mut changed = 0usize;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(100));
        let now = cells(p);
        changed += now
            .iter()
            .zip(previous.iter())
            .filter(|(a, b)| a != b)
            .count();
        previous = now;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    (
        (p.bytes_written() - start_bytes) as f64 / elapsed,
        changed as f64 / elapsed,
    )
}

fn cells(p: &Pty) -> Vec<String> {
    p.with_screen(|s| {
        let (rows, cols) = s.size();
        let mut out = Vec::with_capacity(usize::from(rows) * usize::from(cols));
        for r in 0..rows {
            for c in 0..cols {
                out.push(
                    s.cell(r, c)
                        .map(|c| c.contents().to_string())
                        .unwrap_or_default(),
                );
            }
        }
        out
    })
}

/// The logs pane's line count from its title (`N lines`).
fn lines_in_title(screen: &str) -> Option<u64> {
    let words: Vec<&str> = screen.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[1].starts_with("line"))
        .and_then(|w| w[0].replace(',', "").parse().ok())
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let secs = 20;
    startup(15);

    let p = Pty::spawn(
        &["--demo", "--cluster", "prod", "--service", "checkout-api"],
        &[],
        80,
        24,
    );
    wait(&p, "deployments", |s| s.contains("PRIMARY"));
    std::thread::sleep(Duration::from_secs(3));
    let (bytes, cells) = traffic(&p, secs);
    println!(
        "idle (deployments view, steady fleet, {secs} s): {bytes:.1} bytes/s, {cells:.1} changed cells/s"
    );
    drop(p);

    let p = Pty::spawn(
        &[
            "--demo",
            "--scenario",
            "bad-deploy",
            "--speed",
            "10",
            "--cluster",
            "prod",
            "--service",
            "checkout-api",
        ],
        &[],
        80,
        24,
    );
    wait(&p, "deployments", |s| s.contains("PRIMARY"));
    let (bytes, cells) = traffic(&p, secs);
    println!(
        "deployment rolling (bad-deploy at 10x, {secs} s): {bytes:.0} bytes/s, {cells:.0} changed cells/s ({:.1} bytes per changed cell)",
        bytes / cells.max(1.0)
    );
    drop(p);

    let p = Pty::spawn(
        &[
            "--demo",
            "--speed",
            "80",
            "--cluster",
            "prod",
            "--service",
            "web-frontend",
        ],
        &[],
        80,
        24,
    );
    wait(&p, "deployments", |s| s.contains("PRIMARY"));
    p.send_key("l");
    wait(&p, "log lines", |s| {
        lines_in_title(s).is_some_and(|n| n > 0)
    });
    std::thread::sleep(Duration::from_secs(3));
    let before = lines_in_title(&p.screen_text()).unwrap_or(0);
    let (bytes, cells) = traffic(&p, secs);
    let after = lines_in_title(&p.screen_text()).unwrap_or(0);
    let rate = after.saturating_sub(before) as f64 / secs as f64;
    println!(
        "tailing logs (web-frontend at 80x, {rate:.0} lines/s arriving, {secs} s): {bytes:.0} bytes/s, {cells:.0} changed cells/s ({:.1} bytes per changed cell)",
        bytes / cells.max(1.0)
    );
}
