//! The embedded AWS-compatible endpoint and fleet simulator.
//!
//! berth must be tryable, demonstrable and testable without an AWS account, and the
//! console must exercise the same SDK path it uses against AWS. So the sandbox is a real
//! HTTP endpoint on loopback speaking the AWS wire protocols (JSON 1.1 for ECS, CloudWatch
//! Logs, SSM and Application Auto Scaling; the query protocol for STS), serving a simulated
//! fleet on a virtual clock.
//!
//! Layout: `server.rs` (HTTP, routing by `X-Amz-Target`, throttling, latency, faults,
//! stats), `ecs.rs`/`ecs_json.rs`, `logs.rs`/`loggen.rs`/`livetail.rs`, `ssm.rs`, `sts.rs`
//! (the services), `sim.rs`/`deploy.rs`/`fleet.rs`/`scenario.rs` (the simulated fleet),
//! `history.rs` (service deployments and revisions, and the blue/green stage machine),
//! `scaling.rs` (Application Auto Scaling targets, policies, activities, the at-capacity
//! drill),
//! `datachannel/` (the Session Manager data channel: gateway and SSM agent in one, serving
//! shells and port forwards of ECS Exec and StartSession over a WebSocket),
//! `accounts.rs`/`tenants.rs` (many accounts and regions on one endpoint, told apart by the
//! SigV4 credential scope, each with a fleet of its own).
//! (The StartLiveTail host fix-up for loopback endpoints lives in `aws::stream_prefix`.)

mod accounts;
mod cloudwatch;
mod datachannel;
mod deploy;
mod ecs;
mod ecs_json;
mod elbv2;
mod fleet;
mod history;
mod history_json;
mod instances;
mod jobs;
mod kms;
mod livetail;
mod load;
mod loggen;
mod logs;
mod logs_filter;
mod model;
mod rng;
mod scaling;
mod scenario;
pub mod secrets;
mod server;
mod shell;
mod sim;
mod ssm;
pub mod sso;
mod sts;
mod task_sets;
mod tenants;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub use crate::aws::stream_prefix::{StripStreamHostPrefix, strip_stream_host_prefix_interceptor};
pub use accounts::{
    AccountBehaviour, SandboxAccount, TENANT_CLUSTERS, TENANT_SCALE, credentials_snippet,
    demo_accounts, fleet_targets, generated_accounts,
};
pub use scenario::INCIDENT_DELAY_MS;

/// Access key id of the dummy credentials the console uses against the sandbox.
pub const DEMO_ACCESS_KEY_ID: &str = "AKIABERTHSANDBOX0001";
/// Secret of the dummy credentials (signatures are not verified).
pub const DEMO_SECRET_ACCESS_KEY: &str = "berth-sandbox-secret-key-not-a-real-secret";

/// Incident drills. Each starts two virtual minutes after startup (spot: one minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Scenario {
    /// A healthy fleet with normal noise: every 6–15 virtual minutes one task somewhere
    /// crashes (exit 1, "Essential container in task exited") or, on FARGATE_SPOT, is
    /// reclaimed; the service replaces it and returns to a steady state.
    #[default]
    Steady,
    /// `prod/checkout-api` gets revision `v2.0.0`, which exits 1 a few seconds after boot.
    /// Find: the deployment's failedTasks climbing, stopped tasks with exit code 1 and a
    /// stack trace at the end of their logs, then rolloutState FAILED ("tasks failed to
    /// start") and a rollback deployment to the last COMPLETED task definition that
    /// completes; web-frontend logs 502s from checkout meanwhile.
    BadDeploy,
    /// `prod/payments-worker` deploys `v3.7.1`, which leaks memory: the deployment
    /// completes, then each task dies 6–13 virtual minutes after starting with exit code 137
    /// and reason "OutOfMemoryError: Container killed due to memory usage"; logs show heap
    /// warnings growing before each crash. No rollback: the service keeps replacing tasks.
    Oom,
    /// `prod/orders-api` deploys a tag that does not exist. Find: tasks stopped with
    /// stopCode TaskFailedToStart and "CannotPullContainerError: ... not found", no log
    /// streams for them, the circuit breaker marks the rollout FAILED (rollback is off on
    /// this service), while the old deployment's tasks keep serving.
    ImagePull,
    /// `prod/notifications-worker` deploys a revision that reads a new Secrets Manager
    /// secret the execution role may not read. Find: TaskFailedToStart with
    /// "ResourceInitializationError: unable to pull secrets or registry auth ...
    /// AccessDeniedException"; the circuit breaker is disabled so the deployment stays
    /// IN_PROGRESS with failedTasks rising and the old tasks still running.
    Secrets,
    /// `prod/search-api` deploys a revision whose health check path is wrong. Tasks reach
    /// RUNNING, then after the 60 s grace period fail ELB health checks: events
    /// "(task x) failed ELB health checks in (target-group ...)", stoppedReason "Task failed
    /// ELB health checks in (target-group ...)", stopCode ServiceSchedulerInitiated. The
    /// circuit breaker is off, so it loops.
    ElbHealth,
    /// From one virtual minute after startup, a FARGATE_SPOT task in `prod` is reclaimed
    /// every 40–100 virtual seconds: stopCode SpotInterruption, "Your Spot Task was
    /// interrupted.", exit 143; services with a FARGATE_SPOT weight replace them.
    Spot,
    /// The API throttles bursts: unless `--rate` is given, a token bucket of 3 requests/s
    /// with a burst of 8 answers ThrottlingException ("Rate exceeded"). The fleet is steady.
    Throttle,
    /// Exec is enabled on several services but on about a third of their tasks the
    /// ExecuteCommandAgent is STOPPED: ExecuteCommand on those fails with
    /// InvalidParameterException ("... execute command agent isn't running ...").
    ExecBroken,
    /// Untrusted text everywhere on `prod/checkout-api`: a service event, a stopped task's
    /// reason and log lines carrying terminal escape sequences (screen clears, cursor moves,
    /// OSC 52 clipboard writes, title changes, hyperlinks), C0 and C1 controls, bidi
    /// overrides and NUL, JSON nested 2,000 deep and a 1 MiB line. The console must show
    /// them as visible text; the terminal must obey none of them.
    Hostile,
    /// `prod/ledger-api` (present only in this drill) deploys with ECS-native blue/green
    /// (bake time 10 minutes). Its Lambda lifecycle hook after the test traffic shift hangs
    /// for 25 virtual minutes in POST_TEST_TRAFFIC_SHIFT, then fails; ECS rolls back to the
    /// blue revision. Find: the stage not advancing, then ROLLBACK_SUCCESSFUL in the
    /// deployment history with the hook as the reason.
    BlueGreen,
    /// `prod/web-frontend` is busy: from the incident on its CPU runs at 93–97%, and its
    /// Application Auto Scaling target sits at its maximum (the target-tracking policy keeps
    /// asking for more; the activities say "maximum capacity"). Find: the CPU trend, "at
    /// maximum capacity" on the service, the scaling activities on the timeline.
    AtCapacity,
    /// The `batch-ec2` cluster (present only in this drill) runs on EC2 container instances;
    /// `batch-ec2/report-generator` scales out and its new tasks stay PENDING because no instance
    /// has the memory left: the service event says "was unable to place a task because no
    /// container instance met all of its requirements ... has insufficient memory available".
    /// Find: `:instances` with memory exhausted, the PENDING tasks and the placement problem.
    NoCapacity,
}

/// Sandbox options on the command line (flattened into `berth --demo` and `berth sandbox`).
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Incident drill to play.
    #[arg(long, value_enum, default_value_t = Scenario::Steady, global = true)]
    pub scenario: Scenario,
    /// Number of services (spread over clusters); default: a small demo fleet.
    #[arg(long, value_name = "N", global = true)]
    pub scale: Option<usize>,
    /// With --scale: how many clusters share the services (default: one per 400, at least 3).
    #[arg(long, value_name = "K", requires = "scale", global = true)]
    pub clusters: Option<usize>,
    /// Virtual clock multiplier.
    #[arg(long, default_value_t = 1.0, value_name = "X", global = true)]
    pub speed: f64,
    /// Seed of the simulated fleet (same seed, same fleet, ARNs and IPs).
    #[arg(long, default_value_t = 7, value_name = "S", global = true)]
    pub seed: u64,
    /// Delay added to every API response, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS", global = true)]
    pub latency_ms: u64,
    /// Token bucket refill rate in requests per second (unlimited when absent).
    #[arg(long, value_name = "PER_SEC", global = true)]
    pub rate: Option<f64>,
    /// Token bucket size (burst) when `--rate` is set.
    #[arg(long, default_value_t = 50, value_name = "N", global = true)]
    pub burst: u32,
    /// The fleet view across accounts and regions: NAME is a `[fleet.NAME]` of config.toml
    /// (alone: the only one there). With --demo, or `berth sandbox`, the sandbox also
    /// serves its demo organisation, several accounts and regions each selected by its own
    /// access key id (`berth sandbox --fleet` prints the profiles), and the fleet is theirs.
    #[arg(long, global = true, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
    pub fleet: Option<String>,
}

/// Everything [`start`] needs; build it from [`SandboxArgs`] or start from `default()`.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub scenario: Scenario,
    pub scale: Option<usize>,
    pub clusters: Option<usize>,
    pub speed: f64,
    pub seed: u64,
    pub latency_ms: u64,
    pub rate: Option<f64>,
    pub burst: u32,
    pub region: String,
    pub account_id: String,
    /// Virtual time (epoch ms) at startup; default: the wall clock.
    pub start_time_ms: Option<i64>,
    /// More accounts, each selected by its access key id and served in its regions (empty:
    /// the single default fleet). The default fleet stays reachable with
    /// [`DEMO_ACCESS_KEY_ID`]. Latency, rate limit and faults apply to each alike; the rate
    /// limit is one bucket per (account, region).
    pub accounts: Vec<SandboxAccount>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            scenario: Scenario::Steady,
            scale: None,
            clusters: None,
            speed: 1.0,
            seed: 7,
            latency_ms: 0,
            rate: None,
            burst: 50,
            region: "us-east-1".to_string(),
            account_id: "123456789012".to_string(),
            start_time_ms: None,
            accounts: Vec::new(),
        }
    }
}

impl From<&SandboxArgs> for SandboxOptions {
    fn from(a: &SandboxArgs) -> Self {
        SandboxOptions {
            scenario: a.scenario,
            scale: a.scale,
            clusters: a.clusters,
            speed: a.speed,
            seed: a.seed,
            latency_ms: a.latency_ms,
            rate: a.rate,
            burst: a.burst,
            accounts: if a.fleet.is_some() {
                demo_accounts()
            } else {
                Vec::new()
            },
            ..SandboxOptions::default()
        }
    }
}

/// Request counters, readable through [`SandboxHandle::stats`] or `GET /_sandbox/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Requests per operation, e.g. `"ecs:DescribeServices" -> 3` (throttled ones included).
    pub requests: BTreeMap<String, u64>,
    /// Requests answered with ThrottlingException by the token bucket.
    pub throttled: u64,
    /// Requests answered by an injected fault.
    pub faults: u64,
    /// The Session Manager data channel's WebSocket side.
    #[serde(default)]
    pub data_channel: DataChannelStats,
}

/// Counters of the data channel (`/v1/data-channel/<session-id>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DataChannelStats {
    /// WebSocket upgrades that carried an `Authorization` header (a SigV4-signing client).
    pub signed_upgrades: u64,
    /// WebSocket upgrades without one (the plugin before its signing release).
    pub unsigned_upgrades: u64,
    /// Connections whose OpenDataChannel named a valid token.
    pub connections: u64,
    /// Of those, the ones that joined a session that already had an agent (a reconnect).
    pub resumes: u64,
    /// Connections closed because the first frame was not a valid OpenDataChannel.
    pub refused: u64,
    /// Output messages the agent sent again because no ack came.
    pub retransmits: u64,
    /// Output frames altered, duplicated, held back or cut off by the `dc_*` faults.
    pub injected: u64,
}

impl Stats {
    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }
    pub fn count(&self, operation: &str) -> u64 {
        self.requests.get(operation).copied().unwrap_or(0)
    }

    /// Add another fleet's counters to these.
    pub(crate) fn absorb(&mut self, other: &Stats) {
        for (op, n) in &other.requests {
            *self.requests.entry(op.clone()).or_default() += n;
        }
        self.throttled += other.throttled;
        self.faults += other.faults;
        let (d, o) = (&mut self.data_channel, &other.data_channel);
        d.signed_upgrades += o.signed_upgrades;
        d.unsigned_upgrades += o.unsigned_upgrades;
        d.connections += o.connections;
        d.resumes += o.resumes;
        d.refused += o.refused;
        d.retransmits += o.retransmits;
        d.injected += o.injected;
    }
}

/// Faults injected at runtime (also `POST /_sandbox/faults` with this JSON).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Share of requests answered HTTP 500 `InternalFailure` (0.0–1.0).
    pub error_rate: f64,
    /// Extra delay per request.
    pub extra_latency_ms: u64,
    /// Share of requests whose connection is dropped mid-response.
    pub reset_rate: f64,
    /// Answer every request with `ExpiredTokenException`.
    pub expired_credentials: bool,
    /// Limit the faults to these operations (`"ecs:ListTasks"`); empty = all.
    pub operations: Vec<String>,
    /// Answer these operations (`"ecs:ListServiceDeployments"`) with AccessDeniedException,
    /// as for a role whose policy does not allow them (independent of `operations`).
    pub denied_operations: Vec<String>,
    /// Data channel: close the socket abruptly (no close frame) right after this many output
    /// messages (the handshake's included) have been written, once per session; the client
    /// must ResumeSession and reconnect.
    pub dc_drop_after: Option<u64>,
    /// Data channel: hold every frame the agent writes this long (at most 10 minutes).
    pub dc_delay_ms: u64,
    /// Data channel: percentage (0–100) of output messages written twice. This and the next
    /// two strike first transmissions only: retransmissions go out clean, so even 100 lets a
    /// session make progress.
    pub dc_duplicate_pct: f64,
    /// Data channel: percentage of output messages held back behind the next one.
    pub dc_reorder_pct: f64,
    /// Data channel: percentage of output messages with a payload byte flipped after the
    /// digest was computed (the client must drop them and wait for the retransmission).
    pub dc_corrupt_pct: f64,
    /// Data channel: send no acks for this long after a session's agent starts.
    pub dc_withhold_acks_ms: u64,
    /// Data channel: the agent version of new sessions' handshakes (default `3.3.1000.0`;
    /// `3.0.196.0` or older selects basic port forwarding instead of smux).
    pub agent_version: Option<String>,
    /// Data channel: the KMS key new sessions ask the client to encrypt with, instead of the
    /// one the cluster's exec configuration names (a key that does not exist shows how the
    /// client fails).
    pub exec_kms_key: Option<String>,
}

/// A running sandbox; stops when shut down or dropped.
pub struct SandboxHandle {
    addr: SocketAddr,
    /// The default fleet (the demo key's).
    shared: Arc<server::Shared>,
    tenants: Arc<tenants::Tenants>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for `--endpoint-url` or the SDK's `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Counters over every fleet: the default one and each account's regions, refused
    /// requests included.
    pub fn stats(&self) -> Stats {
        self.tenants.total_stats(&self.shared)
    }

    /// Counters of one account in one region, refused requests included ([`DEMO_ACCESS_KEY_ID`]:
    /// the default fleet's, whatever the region).
    pub fn stats_for(&self, access_key_id: &str, region: &str) -> Stats {
        self.tenants.stats_for(&self.shared, access_key_id, region)
    }

    pub fn reset_stats(&self) {
        self.tenants.reset_stats(&self.shared);
    }

    /// Every session token handed out so far (tests search logs and files for them).
    pub fn session_tokens(&self) -> Vec<String> {
        self.shared
            .sim()
            .sessions
            .iter()
            .flat_map(|s| s.tokens.iter().cloned())
            .collect()
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Current virtual time (epoch milliseconds).
    pub fn virtual_now_ms(&self) -> i64 {
        self.shared.virtual_now()
    }

    /// The virtual clock in unix seconds, for a console whose "3m ago" must agree with the
    /// sandbox's timestamps when `--speed` is not 1.
    pub fn clock(&self) -> crate::runtime::Clock {
        let shared = self.shared.clone();
        std::sync::Arc::new(move || shared.virtual_now().div_euclid(1000))
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
    }
}

/// Start the sandbox on `listen` (port 0 picks a free port) and serve in the background.
pub async fn start(listen: SocketAddr, opts: SandboxOptions) -> std::io::Result<SandboxHandle> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(server::Shared::new(&opts, addr));
    let tenants = Arc::new(tenants::Tenants::new(&opts));
    let endpoint = tenants::Endpoint {
        default: shared.clone(),
        tenants: tenants.clone(),
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(server::serve(listener, endpoint, rx));
    Ok(SandboxHandle {
        addr,
        shared,
        tenants,
        shutdown: Some(tx),
        task: Some(task),
    })
}
