//! `berth fleet`: the fleet view's table once, for scripts and chat-ops. Rows go to stdout
//! (an aligned table, or one JSON object per row); progress, notes and errors to stderr.
//! Exit status: 0 nothing wrong, 1 a service with a problem or a pair that could not be read
//! (so a cron job or a bot can alert on it), 2 a usage or configuration error.
//!
//! The rows are the console's: the same loader, the same classifier, the same order (problems
//! and failures first, the healthy collapsed per cluster), so what a script alerts on is what
//! `:fleet` shows.

use std::collections::HashMap;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use serde::Serialize;

use crate::domain::fleet::{FleetPair, FleetRow, PairReport, RowKind, rows};
use crate::domain::problems::Severity;
use crate::text::sanitize;

const AFTER_HELP: &str = "\
The fleet is --fleet NAME ([fleet.NAME] in config.toml), --profiles and --regions, or
--demo --fleet (the sandbox's demo organisation).

Examples:
  berth fleet --fleet prod
  berth fleet --profiles 'prod-*' --regions us-east-1,eu-west-1
  berth fleet --fleet prod --output jsonl | jq -c 'select(.kind == \"problem\")'
  berth fleet --demo --fleet

Exit status: 0 no problem and no failed pair, 1 a problem or a failed pair, 2 a usage or
configuration error.";

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct FleetArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = FleetOutput::Text)]
    pub output: FleetOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FleetOutput {
    /// an aligned table and a summary line; safe for terminals
    #[default]
    Text,
    /// one JSON object per row, stable field names, for `jq`
    Jsonl,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("berth fleet: {msg}");
    ExitCode::from(2)
}

/// Run `berth fleet`. `cli` supplies the fleet (`--fleet`, `--profiles`/`--regions`, `--demo`).
pub async fn run(args: FleetArgs, cli: &crate::cli::Cli) -> ExitCode {
    let config = match crate::config::settings::UserConfig::load(
        crate::config::user_config_dir().as_deref(),
    ) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            return usage("configuration errors; nothing was read");
        }
    };
    if cli.sandbox.fleet.is_none() && cli.profiles.is_empty() {
        return usage(
            "which fleet? give --fleet NAME ([fleet.NAME] in config.toml), \
             --profiles GLOBS --regions REGIONS, or --demo --fleet",
        );
    }
    // the demo organisation lives in the embedded sandbox, for as long as the read
    let demo = if cli.demo && cli.sandbox.fleet.is_some() {
        match crate::cli::resolve_target(cli).await {
            Ok((_, handle)) => handle,
            Err(e) => {
                eprintln!("berth fleet: cannot start the sandbox: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let endpoint = demo.as_ref().map(|h| h.endpoint_url());
    let code = match crate::cli::fleet_setup(cli, &config, endpoint.as_deref()) {
        Ok(Some(setup)) => {
            let clock = demo
                .as_ref()
                .map(|h| h.clock())
                .unwrap_or_else(crate::clock::wall_clock);
            read_and_print(setup, args.output, clock).await
        }
        Ok(None) => usage("no fleet given (--fleet NAME, or --profiles and --regions)"),
        Err(e) => usage(e),
    };
    if let Some(handle) = demo {
        handle.shutdown().await;
    }
    code
}

async fn read_and_print(
    setup: crate::app::fleet::FleetSetup,
    output: FleetOutput,
    clock: crate::clock::Clock,
) -> ExitCode {
    for pattern in &setup.unmatched {
        eprintln!(
            "berth fleet: note: {} matches no profile here",
            sanitize(pattern)
        );
    }
    let pairs = setup.targets.len();
    eprintln!(
        "berth fleet: reading {pairs} account-region pairs of fleet {} ({} at a time)",
        sanitize(&setup.name),
        crate::aws::fleet::CONCURRENCY
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    crate::aws::fleet::load(setup.targets, crate::aws::fleet::CONCURRENCY, move |r| {
        // the receiver outlives the load: a send cannot fail here
        let _ = tx.send(r);
    })
    .await;
    let mut reports: Vec<PairReport> = Vec::with_capacity(pairs);
    while let Ok(r) = rx.try_recv() {
        reports.push(r);
    }
    let now = clock();
    let aliases = setup.aliases;
    let table = sorted_rows(&reports, now, &|id| aliases.get(id).cloned());
    let ids: HashMap<&FleetPair, &str> = reports
        .iter()
        .filter_map(|r| r.account.as_deref().map(|id| (&r.pair, id)))
        .collect();
    let lines: Vec<Line> = table
        .iter()
        .map(|row| Line::of(row, ids.get(&row.pair).copied()))
        .collect();
    let summary = Summary::of(&table, pairs);
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout());
    let written = match output {
        FleetOutput::Text => write_text(&mut out, &lines, &summary),
        FleetOutput::Jsonl => write_jsonl(&mut out, &lines),
    }
    .and_then(|()| out.flush());
    if output == FleetOutput::Jsonl {
        eprintln!("berth fleet: {}", summary.sentence());
    }
    match written {
        Ok(()) => {}
        // `| head`: the reader has what it wanted; the status still says what was found
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("berth fleet: cannot write output: {e}");
            return ExitCode::FAILURE;
        }
    }
    if summary.services > 0 || summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The fleet's rows in the view's order: by rank, then account, region, cluster, service.
pub fn sorted_rows(
    reports: &[PairReport],
    now: i64,
    alias: &dyn Fn(&str) -> Option<String>,
) -> Vec<FleetRow> {
    let mut table = rows(
        reports,
        &[],
        &|s| crate::app::fleet::classify(s, now),
        alias,
    );
    table.sort_by(|a, b| {
        (
            a.rank(),
            &a.account,
            &a.pair.region,
            &a.pair.profile,
            a.cluster().unwrap_or(""),
            a.service().map_or("", |s| s.name.as_str()),
        )
            .cmp(&(
                b.rank(),
                &b.account,
                &b.pair.region,
                &b.pair.profile,
                b.cluster().unwrap_or(""),
                b.service().map_or("", |s| s.name.as_str()),
            ))
    });
    table
}

/// One row as both outputs print it. Every field is present in every JSON object (null when
/// it does not apply to the row's kind), so a script can rely on the names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// `problem`, `failed`, `healthy`, `empty` or `loading`.
    pub kind: &'static str,
    /// The alias from config.toml, else the account id, else `(profile)` (not read).
    pub account: String,
    pub account_id: Option<String>,
    pub profile: String,
    pub region: String,
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub running: Option<i32>,
    pub desired: Option<i32>,
    /// The primary deployment's rollout state (IN_PROGRESS, COMPLETED, FAILED).
    pub rollout: Option<String>,
    /// `critical`, `warning` or `notice`; a failed pair is critical.
    pub severity: Option<&'static str>,
    /// Most severe first: `summary` or `summary: detail`.
    pub problems: Vec<String>,
    pub failure: Option<String>,
    pub fix: Option<String>,
    /// Healthy services of the cluster (a collapsed row).
    pub healthy: Option<usize>,
    /// The problems' summaries alone (the text table's PROBLEM column).
    #[serde(skip)]
    pub summaries: Vec<String>,
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Notice => "notice",
    }
}

impl Line {
    pub fn of(row: &FleetRow, account_id: Option<&str>) -> Line {
        let mut line = Line {
            kind: "",
            account: row.account.clone(),
            account_id: account_id.map(str::to_string),
            profile: row.pair.profile.clone(),
            region: row.pair.region.clone(),
            cluster: row.cluster().map(str::to_string),
            service: None,
            running: None,
            desired: None,
            rollout: None,
            severity: row.severity().map(severity_name),
            problems: Vec::new(),
            failure: None,
            fix: None,
            healthy: None,
            summaries: Vec::new(),
        };
        match &row.kind {
            RowKind::Problem {
                service, problems, ..
            } => {
                line.kind = "problem";
                line.service = Some(service.name.clone());
                line.running = Some(service.running);
                line.desired = Some(service.desired);
                line.rollout = service.primary().and_then(|d| d.rollout_state.clone());
                line.problems = problems
                    .iter()
                    .map(|p| match &p.detail {
                        Some(d) => format!("{}: {d}", p.summary),
                        None => p.summary.clone(),
                    })
                    .collect();
                line.summaries = problems.iter().map(|p| p.summary.clone()).collect();
            }
            RowKind::Failed(f) => {
                line.kind = "failed";
                line.failure = Some(f.what.clone());
                // the console's "then ctrl-r" means nothing here: run berth fleet again
                line.fix = Some(
                    f.fix
                        .strip_suffix(", then ctrl-r")
                        .unwrap_or(&f.fix)
                        .to_string(),
                );
            }
            RowKind::Healthy { services, .. } => {
                line.kind = "healthy";
                line.healthy = Some(*services);
            }
            RowKind::Empty => line.kind = "empty",
            RowKind::Loading => line.kind = "loading",
        }
        line
    }

    /// The text table's cells, sanitised, in [`HEADER`] order.
    fn cells(&self) -> [String; 8] {
        let s = |v: &str| sanitize(v).into_owned();
        let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_string(), s);
        let service = match (self.kind, &self.service, self.healthy) {
            (_, Some(name), _) => s(name),
            (_, None, Some(n)) => format!("{n} healthy"),
            ("empty", ..) => "no services".to_string(),
            ("loading", ..) => "loading".to_string(),
            _ => "-".to_string(),
        };
        let tasks = match (self.running, self.desired) {
            (Some(r), Some(d)) => format!("{r}/{d}"),
            _ => "-".to_string(),
        };
        let problem = match (&self.failure, &self.fix) {
            (Some(what), Some(fix)) => format!("{}; fix: {}", s(what), s(fix)),
            (Some(what), None) => s(what),
            // the summaries only: the details are in the jsonl and the console
            _ => self
                .summaries
                .iter()
                .map(|p| s(p))
                .collect::<Vec<_>>()
                .join("; "),
        };
        [
            s(&self.account),
            s(&self.profile),
            s(&self.region),
            opt(&self.cluster),
            service,
            tasks,
            opt(&self.rollout),
            problem,
        ]
    }
}

pub const HEADER: [&str; 8] = [
    "ACCOUNT", "PROFILE", "REGION", "CLUSTER", "SERVICE", "TASKS", "ROLLOUT", "PROBLEM",
];

/// The counts of the last line of the text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Problems (not notices) over all the problem rows.
    pub problems: usize,
    /// Services with a problem.
    pub services: usize,
    pub pairs: usize,
    pub failed: usize,
}

impl Summary {
    pub fn of(table: &[FleetRow], pairs: usize) -> Summary {
        let mut s = Summary {
            problems: 0,
            services: 0,
            pairs,
            failed: 0,
        };
        for row in table {
            match &row.kind {
                RowKind::Problem { problems, .. } => {
                    s.services += 1;
                    s.problems += problems
                        .iter()
                        .filter(|p| p.severity > Severity::Notice)
                        .count();
                }
                RowKind::Failed(_) => s.failed += 1,
                _ => {}
            }
        }
        s
    }

    pub fn sentence(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{} in {} across {}; {} failed",
            plural(self.problems, "problem", "problems"),
            plural(self.services, "service", "services"),
            plural(self.pairs, "pair", "pairs"),
            plural(self.failed, "pair", "pairs"),
        )
    }
}

/// The aligned table (columns as wide as their widest cell, the last one unpadded) and the
/// summary line.
pub fn write_text(w: &mut impl Write, lines: &[Line], summary: &Summary) -> io::Result<()> {
    use unicode_width::UnicodeWidthStr;
    let cells: Vec<[String; 8]> = lines.iter().map(Line::cells).collect();
    let mut widths = HEADER.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.width());
        }
    }
    let mut put = |row: &[String]| -> io::Result<()> {
        let mut text = String::new();
        for (i, c) in row.iter().enumerate() {
            if i + 1 == row.len() {
                text.push_str(c);
            } else {
                text.push_str(c);
                text.push_str(&" ".repeat(widths[i].saturating_sub(c.width()) + 2));
            }
        }
        writeln!(w, "{}", text.trim_end())
    };
    put(&HEADER.map(String::from))?;
    for row in &cells {
        put(row)?;
    }
    writeln!(w, "{}", summary.sentence())
}

/// One JSON object per row (serde_json escapes every control character).
pub fn write_jsonl(w: &mut impl Write, lines: &[Line]) -> io::Result<()> {
    for line in lines {
        serde_json::to_writer(&mut *w, line)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fleet::PairFailure;
    use crate::domain::problems::Problem;
    use crate::domain::{Deployment, Service};

    fn row(kind: RowKind) -> FleetRow {
        FleetRow {
            pair: FleetPair::new("prod", "eu-west-1"),
            account: "payments-prod".into(),
            kind,
            key: "k".into(),
        }
    }

    fn json(kind: RowKind, id: Option<&str>) -> serde_json::Value {
        let mut out = Vec::new();
        write_jsonl(&mut out, &[Line::of(&row(kind), id)]).unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text.lines().count(), 1, "{text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    const FIELDS: [&str; 15] = [
        "kind",
        "account",
        "account_id",
        "profile",
        "region",
        "cluster",
        "service",
        "running",
        "desired",
        "rollout",
        "severity",
        "problems",
        "failure",
        "fix",
        "healthy",
    ];

    fn problem_row() -> RowKind {
        RowKind::Problem {
            cluster: "prod".into(),
            service: Box::new(Service {
                name: "checkout-api".into(),
                running: 1,
                desired: 4,
                deployments: vec![Deployment {
                    status: "PRIMARY".into(),
                    rollout_state: Some("IN_PROGRESS".into()),
                    ..Deployment::default()
                }],
                ..Service::default()
            }),
            problems: vec![
                Problem {
                    severity: Severity::Critical,
                    summary: "3 tasks failed".into(),
                    detail: Some("Essential container exited".into()),
                },
                Problem {
                    severity: Severity::Warning,
                    summary: "1/4 running".into(),
                    detail: None,
                },
            ],
        }
    }

    #[test]
    fn jsonl_has_every_field_for_every_kind() {
        let problem = json(problem_row(), Some("210987654321"));
        let failed = json(
            RowKind::Failed(PairFailure {
                what: "credentials expired".into(),
                fix: "aws sso login --profile prod, then ctrl-r".into(),
            }),
            None,
        );
        let healthy = json(
            RowKind::Healthy {
                cluster: "batch".into(),
                services: 7,
            },
            Some("210987654321"),
        );
        let empty = json(RowKind::Empty, Some("210987654321"));
        let loading = json(RowKind::Loading, None);
        for v in [&problem, &failed, &healthy, &empty, &loading] {
            let keys: Vec<&str> = v
                .as_object()
                .unwrap_or_else(|| panic!("{v}"))
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, FIELDS, "{v}");
            assert_eq!(v["profile"], "prod");
            assert_eq!(v["region"], "eu-west-1");
            assert_eq!(v["account"], "payments-prod");
        }
        assert_eq!(
            problem,
            serde_json::json!({
                "kind": "problem", "account": "payments-prod", "account_id": "210987654321",
                "profile": "prod", "region": "eu-west-1", "cluster": "prod",
                "service": "checkout-api", "running": 1, "desired": 4, "rollout": "IN_PROGRESS",
                "severity": "critical",
                "problems": ["3 tasks failed: Essential container exited", "1/4 running"],
                "failure": null, "fix": null, "healthy": null,
            })
        );
        assert_eq!(failed["kind"], "failed");
        assert_eq!(failed["severity"], "critical");
        assert_eq!(failed["account_id"], serde_json::Value::Null);
        assert_eq!(failed["failure"], "credentials expired");
        assert_eq!(
            failed["fix"], "aws sso login --profile prod",
            "no console key"
        );
        assert_eq!(failed["problems"], serde_json::json!([]));
        assert_eq!(healthy["kind"], "healthy");
        assert_eq!(healthy["cluster"], "batch");
        assert_eq!(healthy["healthy"], 7);
        assert_eq!(healthy["severity"], serde_json::Value::Null);
        assert_eq!(empty["kind"], "empty");
        assert_eq!(loading["kind"], "loading");
    }

    #[test]
    fn text_is_aligned_sanitised_and_summarised() {
        let mut hostile = row(problem_row());
        if let RowKind::Problem { service, .. } = &mut hostile.kind {
            service.name = "evil\u{1b}]52;c;AAAA\u{7}".into();
        }
        let failed = row(RowKind::Failed(PairFailure {
            what: "access denied\u{1b}[2J".into(),
            fix: "the role needs ecs:ListClusters".into(),
        }));
        let healthy = row(RowKind::Healthy {
            cluster: "batch".into(),
            services: 7,
        });
        let table = vec![hostile, failed, healthy];
        let lines: Vec<Line> = table.iter().map(|r| Line::of(r, None)).collect();
        let mut out = Vec::new();
        write_text(&mut out, &lines, &Summary::of(&table, 3)).unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[0].starts_with("ACCOUNT"), "{text}");
        let at = rows[0].find("SERVICE").unwrap_or_else(|| panic!("{text}"));
        assert_eq!(rows[3].get(at..at + 9), Some("7 healthy"), "{text}");
        assert!(
            rows[1].contains("1/4") && rows[1].contains("IN_PROGRESS"),
            "{text}"
        );
        assert!(rows[1].ends_with("3 tasks failed; 1/4 running"), "{text}");
        assert!(
            rows[2].contains("access denied␛[2J; fix: the role needs ecs:ListClusters"),
            "{text}"
        );
        assert_eq!(
            rows[4],
            "2 problems in 1 service across 3 pairs; 1 pair failed"
        );
    }
}
