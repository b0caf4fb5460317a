//! Log lines as a pure function of (seed, stream, time): nothing is stored, so 20,000
//! tasks cost no memory for logs. Time is cut into 10-second slots; each slot of each
//! stream yields a few events from a hash. Boot lines follow `startedAt`, and the last
//! lines before a task ended depend on why it ended (crash, OOM, SIGTERM).

use super::fleet::Kind;
use super::model::{EndCause, Ms};
use super::rng::mix;

pub(crate) const SLOT_MS: Ms = 10_000;

/// What the generator needs to know about one stream.
#[derive(Debug, Clone)]
pub(crate) struct StreamInfo {
    pub name: String,
    pub key: u64,
    pub start: Ms,
    /// Exclusive end: when the container stopped, or "now" for a running task.
    pub end: Ms,
    pub cause: Option<EndCause>,
    pub app: bool,
    pub container: String,
    pub kind: Kind,
    pub service: String,
    pub version: String,
    pub leak: bool,
    /// (from, error share) of an incident affecting this service, if any.
    pub incident: Option<(Ms, f64)>,
    /// The hostile drill: add lines made to attack the terminal.
    pub hostile: bool,
}

/// Text made to attack a terminal (the hostile drill): OSC 52 clipboard write, title change,
/// hyperlink, screen clear and cursor home, colours; C0 and C1 controls, NUL, bidi override.
pub(crate) const HOSTILE: &[&str] = &[
    "pwn \u{1b}]52;c;ZWNobyBwd25lZA==\u{7}clipboard \u{1b}]0;PWNED-TITLE\u{7}title \u{1b}]8;;https://evil.example/\u{1b}\\link\u{1b}]8;;\u{1b}\\ \u{1b}[2J\u{1b}[Hcleared \u{1b}[31mred\u{1b}[0m",
    "controls \u{0}\u{1}\u{8}\u{7f} c1 \u{9b}31m\u{9d}0;x\u{9c} bidi \u{202e}lave\u{202c} end",
];

#[derive(Debug, Clone)]
pub(crate) struct LogEvent {
    pub ts: Ms,
    pub seq: u32,
    pub ingestion: Ms,
    pub message: String,
}

/// Events of one slot of one stream, sorted by (timestamp, seq). Visibility (ingestion
/// time vs now) and range filtering are left to the caller.
pub(crate) fn slot_events(seed: u64, s: &StreamInfo, slot: i64, out: &mut Vec<LogEvent>) {
    let lo = slot * SLOT_MS;
    let hi = lo + SLOT_MS;
    if hi <= s.start || lo >= s.end {
        return;
    }
    let first = out.len();
    let h = mix(&[seed, s.key, slot as u64]);
    let n = if s.app {
        match s.kind {
            Kind::Api | Kind::Frontend => h % 7,
            Kind::Worker => h % 4,
            Kind::Batch => h % 3,
        }
    } else {
        u64::from(h % 10 < 2)
    };
    if s.hostile && s.app && slot % 2 == 0 {
        hostile_lines(s, lo, slot, out);
    }
    let crash_tail = matches!(s.cause, Some(EndCause::Crash | EndCause::Oom));
    for j in 0..n {
        let hj = mix(&[h, j]);
        let ts = lo + (hj % SLOT_MS as u64) as Ms;
        if ts < s.start + 2_000 || ts >= s.end || (crash_tail && ts >= s.end - 2_000) {
            continue;
        }
        let message = if s.app {
            app_line(s, ts, hj)
        } else {
            sidecar_line(s, ts, hj)
        };
        push(out, ts, j as u32, hj, message);
    }
    if s.leak && s.app && h.is_multiple_of(2) {
        let ts = lo + 5_000;
        if ts > s.start + 2_000 && ts < s.end - 2_000 {
            let mb = 180 + (ts - s.start) / 1_500;
            let msg = json_line(
                ts,
                "WARN",
                &format!("heap usage high: {mb} MiB of 512 MiB"),
                &[("heap_used_mb", mb.to_string())],
            );
            push(out, ts, 90, h, msg);
        }
    }
    // boot lines
    if s.start >= lo && s.start < hi {
        for (k, line) in boot_lines(s).into_iter().enumerate() {
            let ts = s.start + 150 * k as Ms;
            if ts < s.end {
                push(out, ts, 100 + k as u32, mix(&[h, 100 + k as u64]), line);
            }
        }
    }
    // last lines before the end
    if let Some(cause) = s.cause {
        let lines = end_lines(s, cause);
        let m = lines.len() as Ms;
        for (k, line) in lines.into_iter().enumerate() {
            let ts = s.end - 1 - (m - k as Ms) * 90;
            if ts >= lo && ts < hi && ts >= s.start {
                push(out, ts, 200 + k as u32, mix(&[h, 200 + k as u64]), line);
            }
        }
    }
    if let Some(slice) = out.get_mut(first..) {
        slice.sort_by_key(|e| (e.ts, e.seq));
    }
}

fn push(out: &mut Vec<LogEvent>, ts: Ms, seq: u32, h: u64, message: String) {
    let late = (h >> 20).is_multiple_of(53);
    let delay = 150
        + ((h >> 8) % 1_500) as Ms
        + if late {
            5_000 + ((h >> 30) % 35_000) as Ms
        } else {
            0
        };
    out.push(LogEvent {
        ts,
        seq,
        ingestion: ts + delay,
        message,
    });
}

/// RFC 3339 UTC with milliseconds.
pub(crate) fn rfc3339(ms: Ms) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // civil-from-days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

fn json_line(ts: Ms, level: &str, msg: &str, extra: &[(&str, String)]) -> String {
    let mut m = serde_json::Map::new();
    m.insert("timestamp".into(), rfc3339(ts).into());
    m.insert("level".into(), level.into());
    m.insert("msg".into(), msg.into());
    for (k, v) in extra {
        let val = v
            .parse::<i64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| v.clone().into());
        m.insert((*k).into(), val);
    }
    serde_json::Value::Object(m).to_string()
}

const PATHS: &[&str] = &[
    "/api/v1/cart",
    "/api/v1/orders",
    "/api/v1/checkout",
    "/api/v1/items/{id}",
    "/health",
    "/api/v1/payments",
    "/api/v1/search",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const ERRORS: &[&str] = &[
    "upstream request failed: connection reset by peer",
    "database query timed out after 5000ms",
    "payment provider returned 503",
    "redis: connection pool exhausted",
    "context deadline exceeded",
];

fn app_line(s: &StreamInfo, ts: Ms, h: u64) -> String {
    let error_share = match s.incident {
        Some((from, share)) if ts >= from => share,
        _ => 0.02,
    };
    let r = (h >> 16) % 1000;
    let request_id = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h as u32,
        (h >> 32) as u16,
        (h >> 40) & 0xfff,
        (h >> 12) & 0xfff,
        (h >> 4) & 0xffff_ffff_ffff
    );
    let trace_id = format!(
        "1-{:08x}-{:024x}",
        (ts / 1000) as u32,
        u128::from(h) * 0x9e37_79b9
    );
    let trace_id: String = trace_id.chars().take(35).collect();
    let path = PATHS[(h % PATHS.len() as u64) as usize];
    let method = METHODS[((h >> 4) % METHODS.len() as u64) as usize];
    if r < 40 {
        // plain-text lines
        return match s.kind {
            Kind::Worker | Kind::Batch => format!(
                "{} INFO  [worker-{}] processed batch of {} messages",
                rfc3339(ts),
                h % 8,
                10 + h % 90
            ),
            _ => format!(
                "[{}] GC pause (young) {}ms, heap {}MB",
                rfc3339(ts),
                2 + h % 40,
                120 + h % 200
            ),
        };
    }
    if (r as f64) < 40.0 + error_share * 960.0 {
        let err = ERRORS[((h >> 7) % ERRORS.len() as u64) as usize];
        if (h >> 3).is_multiple_of(5) {
            return format!(
                "Error: {err}\n    at {}Client.request (/app/src/clients/http.js:{}:13)\n    at async Handler.handle (/app/src/handlers/{}.js:{}:21)\n    at async /app/src/server.js:88:7",
                s.service.split('-').next().unwrap_or("upstream"),
                40 + h % 200,
                s.service.replace('-', "_"),
                10 + h % 90
            );
        }
        let status = [500, 502, 503, 504][((h >> 9) % 4) as usize];
        return json_line(
            ts,
            "ERROR",
            err,
            &[
                ("request_id", request_id),
                ("trace_id", trace_id),
                ("method", method.into()),
                ("path", path.into()),
                ("status", status.to_string()),
                ("latency_ms", (1000 + h % 4000).to_string()),
            ],
        );
    }
    let slow = r > 960;
    let level = if slow { "WARN" } else { "INFO" };
    let msg = if slow {
        "slow request"
    } else {
        "request completed"
    };
    let status = if (h >> 13).is_multiple_of(20) {
        404
    } else {
        200
    };
    let latency = if slow { 800 + h % 2000 } else { 3 + h % 120 };
    json_line(
        ts,
        level,
        msg,
        &[
            ("request_id", request_id),
            ("trace_id", trace_id),
            ("method", method.into()),
            ("path", path.into()),
            ("status", status.to_string()),
            ("latency_ms", latency.to_string()),
        ],
    )
}

fn sidecar_line(s: &StreamInfo, ts: Ms, h: u64) -> String {
    match s.container.as_str() {
        "envoy" => format!(
            "[{}] \"GET /api/v1/items HTTP/1.1\" 200 - 0 {} {} {} \"-\" \"ELB-HealthChecker/2.0\"",
            rfc3339(ts),
            200 + h % 3000,
            2 + h % 50,
            1 + h % 40
        ),
        "fluent-bit" => format!(
            "[{}] [ info] [output:cloudwatch_logs:cloudwatch_logs.0] sent {} events",
            rfc3339(ts),
            1 + h % 200
        ),
        _ => format!(
            "{}\tinfo\texporterhelper/queue_sender.go:92\tExporting metrics\t{{\"kind\": \"exporter\", \"data_points\": {}}}",
            rfc3339(ts),
            10 + h % 500
        ),
    }
}

fn boot_lines(s: &StreamInfo) -> Vec<String> {
    if !s.app {
        return vec![format!("{} starting", s.container)];
    }
    let t = s.start;
    vec![
        json_line(
            t,
            "INFO",
            &format!("starting {} {}", s.service, s.version),
            &[],
        ),
        json_line(
            t + 150,
            "INFO",
            "loaded configuration from environment",
            &[],
        ),
        json_line(
            t + 300,
            "INFO",
            "connected to database",
            &[("pool_size", "20".into())],
        ),
        match s.kind {
            Kind::Api | Kind::Frontend => json_line(t + 450, "INFO", "listening on :8080", &[]),
            _ => json_line(
                t + 450,
                "INFO",
                "consumer started",
                &[("queue", format!("{}-jobs", s.service))],
            ),
        },
    ]
}

fn end_lines(s: &StreamInfo, cause: EndCause) -> Vec<String> {
    if !s.app {
        return vec!["received SIGTERM, shutting down".to_string()];
    }
    let t = s.end;
    match cause {
        EndCause::Crash => vec![
            json_line(t - 300, "ERROR", "missing required configuration PAYMENTS_BASE_URL", &[]),
            "Error: missing required configuration PAYMENTS_BASE_URL\n    at loadConfig (/app/src/config.js:41:11)\n    at main (/app/src/server.js:12:18)\n    at Object.<anonymous> (/app/src/server.js:97:1)".to_string(),
            json_line(t - 100, "FATAL", "process exiting with code 1", &[]),
        ],
        EndCause::Oom => vec![
            json_line(t - 300, "WARN", "heap usage critical: 507 MiB of 512 MiB", &[("heap_used_mb", "507".into())]),
            "<--- Last few GCs --->\n[1:0x5a1c3e0]   612034 ms: Mark-Compact 503.9 (517.2) -> 501.7 (517.4) MB, 412.3 / 0.0 ms  (average mu = 0.181) allocation failure".to_string(),
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory".to_string(),
        ],
        EndCause::FailedToStart => Vec::new(),
        EndCause::Spot | EndCause::Scheduler | EndCause::User | EndCause::ElbHealth => vec![
            json_line(t - 300, "INFO", "received SIGTERM, draining connections", &[]),
            json_line(t - 100, "INFO", "server closed, exiting", &[]),
        ],
    }
}

/// The hostile drill's lines, one per even slot, rotating: the escape-laden texts, a JSON
/// line whose message decodes to escapes, JSON nested 2,000 deep, and a 1 MiB line.
fn hostile_lines(s: &StreamInfo, lo: Ms, slot: i64, out: &mut Vec<LogEvent>) {
    let ts = lo + 500;
    if ts < s.start + 2_000 || ts >= s.end {
        return;
    }
    let which = (slot / 2).rem_euclid(5);
    let message = match which {
        0 | 1 => HOSTILE[which as usize].to_string(),
        2 => r#"{"level":"error","msg":"json \u001b]52;c;aGk=\u0007 \u001b[2J escaped","request_id":"r-1"}"#.to_string(),
        3 => format!("{}1{}", "{\"a\":".repeat(2_000), "}".repeat(2_000)),
        _ => format!("BIG {}", "x".repeat(1 << 20)),
    };
    push(out, ts, 900 + which as u32, slot as u64, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
