//! Everything that can happen to the model arrives as an `Action` on one channel: keys from the
//! input thread, timer ticks, and results of AWS calls from the effect runner.

use crossterm::event::KeyEvent;

use super::command::Command;
use super::effect::RequestId;
use crate::aws::AwsError;
use crate::domain::{Cluster, Identity, Service, Task};

#[derive(Debug, Clone)]
pub enum Action {
    /// A key press from the terminal, translated through the keymap by `update`.
    Key(KeyEvent),
    /// A command, already resolved (from a key, or sent directly by tests).
    Command(Command),
    /// The terminal was resized; the next frame redraws everything.
    Resize {
        cols: u16,
        rows: u16,
    },
    /// One second passed (spinners, staleness, relative times).
    Tick {
        now_unix: i64,
    },
    /// The terminal went away (hang-up, end of input, SIGHUP): nobody is watching.
    TerminalLost,
    /// The focused view's refresh interval elapsed.
    RefreshDue,
    /// SDK configuration resolved for the session's profile and region.
    AwsConnected {
        region: String,
    },
    /// SDK configuration could not be resolved (no region, bad profile).
    AwsConnectFailed(AwsError),
    /// STS GetCallerIdentity answered.
    IdentityResolved(Result<Identity, AwsError>),
    /// A logs session reported.
    Logs {
        tail: super::logs::TailId,
        event: crate::logs::session::SessionEvent,
    },
    /// A mutation was answered (or refused): the message, or the error.
    Mutated {
        mutation: crate::domain::mutation::Mutation,
        result: Result<String, super::Failure>,
    },
    /// The audit log's newest lines (newest first), or why it could not be read.
    /// The exec preflight of `task` was read (or could not be).
    ExecPreflight {
        task: String,
        result: Result<Box<crate::exec::Inputs>, super::Failure>,
    },
    /// A shell session was opened (hand the terminal over), or why not.
    SessionReady(Result<Box<super::exec::HandOver>, super::Failure>),
    /// The plugin exited and the terminal is ours again.
    SessionEnded {
        message: String,
        ok: bool,
    },
    /// A port forward started (or why not).
    ForwardStarted(Result<super::exec::Forward, super::Failure>),
    /// A port forward's plugin exited or was stopped.
    ForwardEnded {
        id: u64,
        how: String,
    },
    /// berth's built-in client on a running forward: a connection opened, or a problem.
    ForwardNote {
        id: u64,
        connection: bool,
        problem: Option<String>,
    },
    /// A timeline load answered.
    TimelineLoaded {
        request: RequestId,
        result: Result<Box<super::timeline::TimelineData>, super::Failure>,
    },
    /// Target groups' health was read (per group: targets, or why not).
    TargetHealthLoaded(crate::aws::targets::TargetHealthReport),
    /// CPU and memory trends of `services` were read (or could not be).
    MetricsLoaded {
        call: u64,
        cluster: String,
        services: Vec<String>,
        result: Result<
            std::collections::HashMap<String, crate::domain::metrics::ServiceMetrics>,
            AwsError,
        >,
    },
    /// Per-task metrics were read (or could not be). `insights` is the cluster's
    /// `containerInsights` setting when it was read for this call.
    TaskMetricsLoaded {
        call: u64,
        cluster: String,
        insights: Option<Option<String>>,
        tasks: Vec<String>,
        result: Result<
            std::collections::HashMap<String, crate::domain::metrics::ServiceMetrics>,
            AwsError,
        >,
    },
    /// A service's deployment history was read (or could not be).
    HistoryLoaded {
        cluster: String,
        service: String,
        result: Result<Vec<crate::domain::history::HistoryDeployment>, AwsError>,
    },
    /// A service's auto scaling was read (or could not be).
    ScalingLoaded {
        cluster: String,
        service: String,
        result: Result<crate::domain::scaling::Scaling, AwsError>,
    },
    /// A save finished: the message to show, or why it failed.
    /// A pane's load answered (see `app::pane`).
    PaneLoaded {
        request: RequestId,
        result: Result<super::pane::PaneData, super::Failure>,
    },
    Saved(Result<String, String>),
    /// Progress of a load started by an effect.
    Data {
        request: RequestId,
        event: DataEvent,
    },
}

/// What a load reports, batch by batch.
#[derive(Debug, Clone)]
pub enum DataEvent {
    /// Listing finished: this many resources will be described.
    Listed(usize),
    Clusters(Vec<Cluster>),
    Services(Vec<Service>),
    Tasks(Vec<Task>),
    /// All batches delivered.
    Done,
    Failed(AwsError),
}
