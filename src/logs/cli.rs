//! `berth logs`: the tail engine for pipes. Events go to stdout (text or jsonl), everything
//! else (notes, status, errors) to stderr. Exit status: 0 done, 1 an AWS or lookup error,
//! 2 a usage error (bad --filter, --since, ...). A closed pipe (`| head`) ends quietly.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use super::output::{OutputFormat, write_event};
use super::query::Query;
use super::source::{self, Scope};
use super::tail::{self, TailMessage, TailMode, TailSpec, TailStatus};
use super::time;
use crate::aws::{AwsError, AwsTarget};

const AFTER_HELP: &str = "\
Filter language (--filter):
  free text (smart case)    timeout   \"connection reset\"
  level                     level>=warn   level=error
  fields of JSON/logfmt     status>=500   path~/api/   request_id=abc   http.method=POST
  origin                    task=1a2b3c4d   container=app   stream~web
  combine                   and (or juxtaposition), or, not / - / !, parentheses

Examples:
  berth logs --cluster prod --service checkout-api --since 1h --filter 'level>=error'
  berth logs --cluster prod --service checkout-api -f --output jsonl | jq .message
  berth logs --cluster prod --task 1a2b3c4d --container app --since 2024-05-01T12:00:00Z";

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct LogsArgs {
    /// Cluster name or ARN
    #[arg(long, value_name = "NAME")]
    pub cluster: String,

    /// Service: all its tasks' streams, merged by time
    #[arg(long, value_name = "NAME", required_unless_present = "task")]
    pub service: Option<String>,

    /// One task (id or ARN): all its containers, or --container
    #[arg(long, value_name = "ID")]
    pub task: Option<String>,

    /// Only this container
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,

    /// Start this far back (30s, 10m, 2h, 1d) or at an RFC 3339 time
    #[arg(long, default_value = "10m", value_name = "WHEN")]
    pub since: String,

    /// Keep printing new lines as they arrive
    #[arg(long, short = 'f')]
    pub follow: bool,

    /// Only lines matching this query (see below)
    #[arg(long, value_name = "QUERY")]
    pub filter: Option<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// With --follow: poll FilterLogEvents instead of using StartLiveTail
    #[arg(long)]
    pub poll: bool,

    /// With --follow: how long lines wait to be put in timestamp order
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub reorder_window: String,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("berth logs: {msg}");
    ExitCode::from(2)
}

fn aws_failure(e: &AwsError, profile: Option<&str>) -> ExitCode {
    eprintln!("berth logs: {}: {e}", e.title());
    if let Some(fix) = e.fix(profile) {
        eprintln!("  {fix}");
    }
    ExitCode::FAILURE
}

/// Run `berth logs`. `cli` supplies the global `--profile/--region/--endpoint-url` (and
/// `--demo`, which starts the embedded sandbox for the duration).
pub async fn run(args: LogsArgs, cli: &crate::cli::Cli) -> ExitCode {
    let query = match Query::parse(args.filter.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => {
            let src = args.filter.as_deref().unwrap_or("");
            return usage(format!(
                "bad --filter at {e}\n{}",
                e.render(src)
                    .lines()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    };
    let now = time::now_ms();
    let start_ms = match time::parse_since(&args.since, now) {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let Some(reorder_ms) = time::parse_duration_ms(&args.reorder_window) else {
        return usage(format!(
            "invalid --reorder-window {:?}: use a duration such as 5s",
            args.reorder_window
        ));
    };

    let (target, demo) = match crate::cli::resolve_target(cli).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("berth logs: cannot start the sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = tail_to_stdout(&args, &target, query, start_ms, reorder_ms).await;
    if let Some(handle) = demo {
        handle.shutdown().await;
    }
    code
}

async fn tail_to_stdout(
    args: &LogsArgs,
    target: &AwsTarget,
    query: Query,
    start_ms: i64,
    reorder_ms: i64,
) -> ExitCode {
    let profile = target.profile.as_deref();
    let clients = match crate::aws::connect(target).await {
        Ok(c) => c,
        Err(e) => return aws_failure(&e, profile),
    };
    let scope = Scope {
        cluster: args.cluster.clone(),
        service: args.service.clone(),
        task: args.task.clone(),
        container: args.container.clone(),
    };
    let resolved = match source::resolve(&clients, &scope, start_ms).await {
        Ok(r) => r,
        Err(source::ResolveError::Aws(e)) => return aws_failure(&e, profile),
        Err(source::ResolveError::NotFound(m)) => {
            eprintln!("berth logs: {m}");
            return ExitCode::FAILURE;
        }
    };
    for note in &resolved.notes {
        eprintln!("berth logs: note: {}", crate::text::sanitize(note));
    }
    if resolved.streams.is_empty() {
        eprintln!(
            "berth logs: no CloudWatch log streams to read for {}",
            match (&args.task, &args.service) {
                (Some(t), _) => format!("task {t}"),
                (None, Some(s)) => format!("service {s} (no started tasks?)"),
                _ => "this scope".into(),
            }
        );
        return ExitCode::FAILURE;
    }
    let targets = match source::targets(&resolved, &clients, target).await {
        Ok(t) => t,
        Err(e) => return aws_failure(&e, profile),
    };
    let mut spec = TailSpec::new(targets, start_ms);
    spec.follow = args.follow;
    spec.mode = if args.poll {
        TailMode::Poll
    } else {
        TailMode::Auto
    };
    spec.filter_pattern = query.to_filter_pattern();
    spec.reorder_ms = reorder_ms;
    let (_handle, mut rx) = tail::spawn(spec);

    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout());
    let mut told_throttled = false;
    while let Some(msg) = rx.recv().await {
        match msg {
            TailMessage::Events(events) => {
                for ev in events.iter().filter(|e| query.matches(e)) {
                    if let Err(e) = write_event(&mut out, args.output, ev) {
                        return write_failed(&e);
                    }
                }
                if args.follow
                    && let Err(e) = out.flush()
                {
                    return write_failed(&e);
                }
            }
            TailMessage::Older { .. } | TailMessage::HistoryLoaded { .. } => {}
            TailMessage::Status(s) => {
                if !args.follow && !matches!(s, TailStatus::Retrying { .. }) {
                    continue;
                }
                match s {
                    TailStatus::Live { sampled: false } => {
                        eprintln!("berth logs: live (StartLiveTail)")
                    }
                    TailStatus::Live { sampled: true } => {
                        eprintln!("berth logs: live tail is sampling")
                    }
                    TailStatus::Polling {
                        reason: Some(r), ..
                    } => eprintln!(
                        "berth logs: polling FilterLogEvents ({})",
                        crate::text::sanitize(&r)
                    ),
                    TailStatus::Polling { reason: None, .. } => {}
                    TailStatus::Throttled { .. } => {
                        if !told_throttled {
                            told_throttled = true;
                            eprintln!("berth logs: throttled by CloudWatch Logs; backing off");
                        }
                    }
                    TailStatus::Retrying { error, retry_in_ms } => eprintln!(
                        "berth logs: {error}; retrying in {:.1}s",
                        retry_in_ms as f64 / 1000.0
                    ),
                }
            }
            TailMessage::End(None) => break,
            TailMessage::End(Some(e)) => {
                let _ = out.flush();
                return aws_failure(&e, profile);
            }
        }
    }
    match out.flush() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => write_failed(&e),
    }
}

fn write_failed(e: &io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("berth logs: cannot write output: {e}");
    ExitCode::FAILURE
}
