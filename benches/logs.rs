//! Log ingest benchmarks: parsing JSON lines, building events and indexing them into the
//! bounded buffer with a filter active, re-filtering a full buffer, and (printed once) the
//! memory held by 100,000 buffered lines; and drawing the logs pane with 100,000 lines
//! buffered and a filter active.
//!
//! Run: `cargo bench --bench logs`. Targets: parse + index >= 200,000 JSON lines/s per core;
//! a logs-pane frame < 2 ms with 100,000 lines and a filter.

use std::hint::black_box;

use berth::logs::buffer::LogBuffer;
use berth::logs::parse::parse;
use berth::logs::query::Query;
use berth::logs::{LogEvent, Origin};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const LINES: usize = 100_000;

/// Lines shaped like the sandbox's (and typical services'): JSON with a request id, trace
/// id, method, path, status and latency; a few plain lines and stack traces mixed in.
fn lines() -> Vec<String> {
    let paths = [
        "/api/v1/cart",
        "/api/v1/orders",
        "/health",
        "/api/v1/items/42",
    ];
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..LINES)
        .map(|i| {
            h ^= h << 13;
            h ^= h >> 7;
            h ^= h << 17;
            let ms = 1_714_564_800_000u64 + i as u64 * 37;
            match h % 50 {
                0 => format!("2024-05-01T12:00:{:02}.000Z INFO  [worker-{}] processed batch of {} messages", i % 60, h % 8, h % 90),
                1 => "Error: upstream request failed\n    at Client.request (/app/src/http.js:40:13)\n    at async Handler.handle (/app/src/h.js:10:21)".to_string(),
                _ => format!(
                    r#"{{"timestamp":"2024-05-01T12:{:02}:{:02}.{:03}Z","level":"{}","msg":"{}","request_id":"{:08x}-{:04x}-4abc-a123-{:012x}","trace_id":"1-{:08x}-{:024x}","method":"GET","path":"{}","status":{},"latency_ms":{}}}"#,
                    (ms / 60_000) % 60,
                    (ms / 1000) % 60,
                    ms % 1000,
                    if h.is_multiple_of(17) { "ERROR" } else if h.is_multiple_of(11) { "WARN" } else { "INFO" },
                    if h.is_multiple_of(17) { "database query timed out after 5000ms" } else { "request completed" },
                    h as u32,
                    (h >> 32) as u16,
                    h & 0xffff_ffff_ffff,
                    (ms / 1000) as u32,
                    u128::from(h) * 0x9e37,
                    paths[(h % 4) as usize],
                    if h.is_multiple_of(17) { 503 } else { 200 },
                    h % 300
                ),
            }
        })
        .collect()
}

fn events(lines: &[String], origins: &[Origin]) -> Vec<LogEvent> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            LogEvent::new(
                &origins[i % origins.len()],
                format!("{:056}", i),
                1_714_564_800_000 + i as i64,
                1_714_564_800_500 + i as i64,
                l.clone(),
            )
        })
        .collect()
}

fn origins() -> Vec<Origin> {
    (0..12)
        .map(|t| {
            Origin::new(
                "/ecs/prod/checkout-api",
                &format!("ecs/checkout-api/{t:032x}"),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let lines = lines();
    let origins = origins();

    // memory for 100,000 buffered lines, printed once: the buffer's own accounting, and the
    // process's resident set before and after (Linux /proc)
    {
        let rss_before = rss_kib();
        let mut buf = LogBuffer::new(LINES);
        buf.set_filter(Query::parse("level>=warn").unwrap_or_else(|e| panic!("{e}")));
        buf.extend(events(&lines, &origins));
        let raw: usize = lines.iter().map(String::len).sum();
        println!(
            "memory: {} lines buffered = {:.1} MiB (raw text {:.1} MiB, {:.0} bytes/line); {} pass level>=warn",
            buf.len(),
            buf.approx_bytes() as f64 / (1024.0 * 1024.0),
            raw as f64 / (1024.0 * 1024.0),
            buf.approx_bytes() as f64 / buf.len() as f64,
            buf.view_len()
        );
        if let (Some(before), Some(after)) = (rss_before, rss_kib()) {
            println!(
                "resident set: {:.1} MiB before, {:.1} MiB with the buffer (+{:.1} MiB)",
                before as f64 / 1024.0,
                after as f64 / 1024.0,
                after.saturating_sub(before) as f64 / 1024.0
            );
        }
        drop(buf);
    }

    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(LINES as u64));
    g.sample_size(10);
    g.bench_function("parse_100k_lines", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(parse(black_box(l)));
            }
        })
    });
    g.bench_function("parse_and_index_100k_lines_filter_active", |b| {
        b.iter_batched(
            || lines.clone(),
            |owned| {
                let mut buf = LogBuffer::new(LINES);
                buf.set_filter(
                    Query::parse("level>=warn or status>=500").unwrap_or_else(|e| panic!("{e}")),
                );
                buf.extend(owned.into_iter().enumerate().map(|(i, l)| {
                    LogEvent::new(
                        &origins[i % origins.len()],
                        format!("{:056}", i),
                        1_714_564_800_000 + i as i64,
                        1_714_564_800_500 + i as i64,
                        l,
                    )
                }));
                black_box(buf.view_len())
            },
            criterion::BatchSize::LargeInput,
        )
    });
    let mut full = LogBuffer::new(LINES);
    full.extend(events(&lines, &origins));
    g.bench_function("refilter_100k_lines", |b| {
        let q =
            Query::parse("path~/api/ and status>=500 or timeout").unwrap_or_else(|e| panic!("{e}"));
        b.iter(|| {
            full.set_filter(q.clone());
            black_box(full.view_len())
        })
    });
    g.finish();

    render(c, &lines, &origins);
}

/// One frame of the whole screen (header, logs pane, footer) into a test backend.
fn render(c: &mut Criterion, lines: &[String], origins: &[Origin]) {
    use berth::app::logs::LogsView;
    use berth::app::{Action, IdentityState, Session, State, View, update};
    use berth::logs::source::Scope;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::sync::Arc;

    let session = Session {
        target: berth::aws::AwsTarget::default(),
        region: Some("eu-west-1".into()),
        connected: true,
        identity: IdentityState::Pending,
        read_only: false,
        protected: false,
        demo: false,
    };
    let keymap = berth::config::keymap::Keymap::load(None, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .0;
    let theme = berth::config::theme::Theme::load(Some("default"), false, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .0;
    let mut g = c.benchmark_group("render");
    for (name, wrap, follow, cols, rows) in [
        ("frame_100k_lines_filter_80x24", false, true, 80, 24),
        ("frame_100k_lines_filter_200x50", false, true, 200, 50),
        ("frame_100k_lines_filter_200x60", false, true, 200, 60),
        ("frame_100k_lines_no_filter_200x60", false, true, 200, 60),
        (
            "frame_100k_lines_filter_wrapped_paused_200x50",
            true,
            false,
            200,
            50,
        ),
    ] {
        let mut state = State::new(session.clone(), keymap.clone(), 5, 1_714_564_800);
        let mut view = LogsView::new(
            Scope {
                cluster: "prod".into(),
                service: Some("checkout-api".into()),
                task: None,
                container: None,
            },
            0,
            LINES,
        );
        let mut buf = LogBuffer::new(LINES);
        if !name.contains("no_filter") {
            buf.set_filter(
                Query::parse("level>=warn or status>=500").unwrap_or_else(|e| panic!("{e}")),
            );
        }
        buf.extend(events(lines, origins));
        view.selected = if follow {
            buf.view_len() - 1
        } else {
            buf.view_len() / 2
        };
        view.follow = follow;
        view.wrap = wrap;
        view.buffer = Arc::new(buf);
        view.tail = 1;
        state.views.push(View::Logs(Box::new(view)));
        state.logs_tail = Some(1);
        update(&mut state, Action::Resize { cols, rows });
        let mut terminal =
            Terminal::new(TestBackend::new(cols, rows)).unwrap_or_else(|e| panic!("{e}"));
        g.bench_function(name, |b| {
            b.iter(|| {
                terminal
                    .draw(|f| berth::ui::render(f, &state, &theme))
                    .unwrap_or_else(|e| panic!("{e}"));
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

/// VmRSS of this process in KiB (Linux).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
