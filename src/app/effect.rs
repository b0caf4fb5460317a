//! What `update` asks the outside world to do. The runtime's effect runner executes these off
//! the UI task and reports back with [`super::Action`]s.

use crate::aws::AwsTarget;

/// Identifies one load so that late answers to a superseded request are ignored.
pub type RequestId = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// (Re)build the SDK clients for this target; answers `AwsConnected`/`AwsConnectFailed`.
    Connect(AwsTarget),
    /// STS GetCallerIdentity; answers `IdentityResolved`.
    ResolveIdentity,
    /// ListClusters + DescribeClusters in batches; answers `Data` events.
    LoadClusters {
        request: RequestId,
    },
    /// ListServices pages + DescribeServices in batches of 10.
    LoadServices {
        request: RequestId,
        cluster: String,
    },
    /// DescribeServices of one service (deployments and events).
    LoadService {
        request: RequestId,
        cluster: String,
        service: String,
    },
    /// ListTasks (running, and stopped if asked) + DescribeTasks in batches of 100.
    LoadTasks {
        request: RequestId,
        cluster: String,
        service: Option<String>,
        include_stopped: bool,
    },
    /// DescribeTasks of one task.
    LoadTask {
        request: RequestId,
        cluster: String,
        task: String,
    },
    /// Resolve a logs scope and tail it (following); answers `Action::Logs`. Replaces any
    /// running session.
    StartLogs {
        tail: super::logs::TailId,
        scope: crate::logs::source::Scope,
        since_ms: i64,
    },
    StopLogs {
        tail: super::logs::TailId,
    },
    /// Read `span_ms` more history before what the session has read.
    FetchOlderLogs {
        tail: super::logs::TailId,
        span_ms: i64,
    },
    /// Write the logs pane's lines to a new file (0600); answers `Action::Saved`.
    SaveLogs {
        path: std::path::PathBuf,
        contents: Vec<u8>,
        lines: usize,
    },
    /// A confirmed change to AWS resources; answers `Action::Mutated`. The runner refuses it
    /// in read-only mode and writes an audit line either way.
    Mutate {
        mutation: crate::domain::mutation::Mutation,
        actor: crate::audit::Actor,
    },
    /// The ECS Exec preflight of a task: DescribeTasks, DescribeTaskDefinition,
    /// DescribeClusters (exec configuration) and the local plugin, for a session by `client`;
    /// answers `Action::ExecPreflight`.
    ExecPreflight {
        cluster: String,
        task: String,
        client: crate::exec::client::ExecClient,
    },
    /// Open a shell (answers `SessionReady`) or a port forward (answers `ForwardStarted`).
    /// Refused in read-only mode by the runner; audited.
    StartSession(Box<super::exec::SessionRequest>),
    /// Stop a port forward: the plugin and `ssm:TerminateSession`.
    StopForward {
        id: u64,
    },
    /// Read a service's timeline over `[from_ms, to_ms]`: DescribeServices, its stopped
    /// tasks, and its error log lines; answers `Action::TimelineLoaded`.
    LoadTimeline {
        request: RequestId,
        cluster: String,
        service: String,
        from_ms: i64,
        to_ms: i64,
    },
    /// Read a service's deployment history (ListServiceDeployments of those created since
    /// `since`, unix seconds; DescribeServiceDeployments, DescribeServiceRevisions); answers
    /// `Action::HistoryLoaded`.
    LoadHistory {
        cluster: String,
        service: String,
        since: i64,
    },
    /// DescribeTargetHealth of each target group (and DescribeTargetGroups of them with
    /// `settings`); answers `Action::TargetHealthLoaded`.
    LoadTargetHealth {
        arns: Vec<String>,
        settings: bool,
    },
    /// Read a service's auto scaling (DescribeScalableTargets, DescribeScalingPolicies,
    /// DescribeScalingActivities); answers `Action::ScalingLoaded`.
    LoadScaling {
        cluster: String,
        service: String,
    },
    /// GetMetricData: CPU and memory of `services` of `cluster` over the hour before `now`
    /// (unix seconds); answers `Action::MetricsLoaded`.
    LoadMetrics {
        /// Echoed in the answer: only the call the model waits for is applied.
        call: u64,
        cluster: String,
        services: Vec<String>,
        now: i64,
    },
    /// Per-task CPU and memory (Container Insights, enhanced observability) of running tasks
    /// of `cluster`; answers `Action::TaskMetricsLoaded`. With `check_insights` the cluster's
    /// setting is read first (one DescribeClusters) and no metric is asked for unless it is
    /// `enhanced`.
    LoadTaskMetrics {
        call: u64,
        cluster: String,
        tasks: Vec<crate::domain::metrics::TaskQuery>,
        check_insights: bool,
        now: i64,
    },
    /// Create a new file (0600, never overwriting) with `contents`; answers `Action::Saved`
    /// with `message`.
    /// A pane's load (see `app::pane`).
    LoadPane {
        request: RequestId,
        load: super::pane::PaneLoad,
    },
    WriteFile {
        path: std::path::PathBuf,
        contents: Vec<u8>,
        message: String,
    },
    /// Something only the loop can do, because it owns the terminal.
    Terminal(TerminalEffect),
}

/// Effects on the terminal itself, run by the loop (which owns it), never by the runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalEffect {
    /// Put text on the clipboard with OSC 52 (works over SSH).
    Copy(String),
    /// Give the terminal to the plugin until it exits; answers `SessionEnded`.
    HandOver(Box<super::exec::HandOver>),
    /// Leave the program: stop every poller, tail, forward and session, then exit.
    Quit(Quit),
}

/// Why berth is leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quit {
    /// The user asked (a key, `:quit`, SIGTERM or SIGINT).
    Asked,
    /// The terminal went away (hang-up, end of input, a failed write): nobody is watching.
    TerminalLost,
}

impl Effect {
    pub fn quit() -> Effect {
        Effect::Terminal(TerminalEffect::Quit(Quit::Asked))
    }
}
