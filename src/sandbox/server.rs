//! HTTP front: one endpoint for every service, routed by `X-Amz-Target` (JSON 1.1), by the
//! RPC v2 CBOR path `/service/<shape>/operation/<op>` (CloudWatch) or by the form `Action`
//! (query protocol: STS, and ELBv2 by its `Version` 2015-12-01). Adds latency, throttles with a token bucket,
//! injects faults, counts requests per operation, and never panics on bad input. The data
//! channel's WebSocket route (`/v1/data-channel/{id}`) is served here too.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::rng::Rng;
use super::sim::Sim;
use super::tenants::{Endpoint, Tenant};
use super::wire::ApiError;
use super::{
    Faults, SandboxOptions, Scenario, Stats, cloudwatch, datachannel, ecs, elbv2, kms, livetail,
    logs, scenario, ssm, sts,
};

const JSON_11: &str = "application/x-amz-json-1.1";

pub(crate) struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub(crate) struct Shared {
    sim: Mutex<Sim>,
    started: Instant,
    t0: i64,
    speed: f64,
    latency: Duration,
    bucket: Option<Mutex<Bucket>>,
    stats: Mutex<Stats>,
    /// One set of faults for the default fleet and every tenant.
    faults: Arc<Mutex<Faults>>,
    fault_rng: Mutex<Rng>,
    request_ids: Mutex<Rng>,
    pub(crate) closing: tokio::sync::watch::Receiver<bool>,
    closing_tx: tokio::sync::watch::Sender<bool>,
    /// Where the sandbox listens (the data channel's stream URLs point here).
    addr: SocketAddr,
    /// The account this fleet belongs to (ARNs in error messages).
    account_id: String,
    /// The data channel's live agents, by session id.
    pub(crate) channels: datachannel::Registry,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic while holding the lock must not take the endpoint down with it
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn new(opts: &SandboxOptions, addr: SocketAddr) -> Shared {
        let (closing_tx, _) = tokio::sync::watch::channel(false);
        Shared::build(
            opts,
            addr,
            Arc::new(Mutex::new(Faults::default())),
            closing_tx,
        )
    }

    /// The fleet of one tenant (account, region): `opts` says which; it shares this fleet's
    /// clock, faults and shutdown signal.
    pub(crate) fn tenant(&self, opts: &SandboxOptions) -> Shared {
        let opts = SandboxOptions {
            start_time_ms: Some(self.virtual_now()),
            ..opts.clone()
        };
        Shared::build(
            &opts,
            self.addr,
            self.faults.clone(),
            self.closing_tx.clone(),
        )
    }

    fn build(
        opts: &SandboxOptions,
        addr: SocketAddr,
        faults: Arc<Mutex<Faults>>,
        closing_tx: tokio::sync::watch::Sender<bool>,
    ) -> Shared {
        let t0 = opts.start_time_ms.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        });
        let mut sim = Sim::empty(opts.seed, &opts.region, &opts.account_id, opts.scenario, t0);
        sim.now = t0 - scenario::HISTORY_MS;
        sim.build_fleet(opts.scale, opts.clusters);
        sim.setup_drills();
        sim.setup_jobs();
        sim.setup_task_sets();
        sim.advance_to(t0);
        let (rate, burst) = match (opts.rate, opts.scenario) {
            (Some(r), _) => (Some(r), f64::from(opts.burst.max(1))),
            (None, Scenario::Throttle) => (Some(3.0), 8.0),
            (None, _) => (None, 0.0),
        };
        let bucket = rate.map(|rate| {
            Mutex::new(Bucket {
                rate: rate.max(0.001),
                burst,
                tokens: burst,
                last: Instant::now(),
            })
        });
        let closing = closing_tx.subscribe();
        Shared {
            sim: Mutex::new(sim),
            started: Instant::now(),
            t0,
            speed: if opts.speed.is_finite() && opts.speed > 0.0 {
                opts.speed
            } else {
                1.0
            },
            latency: Duration::from_millis(opts.latency_ms),
            bucket,
            stats: Mutex::new(Stats::default()),
            faults,
            fault_rng: Mutex::new(Rng::new(opts.seed ^ 0xFA17)),
            request_ids: Mutex::new(Rng::new(opts.seed ^ 0x5E55)),
            closing,
            closing_tx,
            addr,
            account_id: opts.account_id.clone(),
            channels: datachannel::Registry::default(),
        }
    }

    /// `ws://<listen address>/v1/data-channel/<id>?role=publish_subscribe` (an unspecified
    /// listen address is reached through loopback).
    pub(crate) fn stream_url(&self, session_id: &str) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        format!("ws://{addr}/v1/data-channel/{session_id}?role=publish_subscribe")
    }

    pub(crate) fn update_stats(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut lock(&self.stats));
    }

    /// A draw of the seeded fault generator: true with `pct` percent probability.
    pub(crate) fn fault_chance(&self, pct: f64) -> bool {
        pct > 0.0 && lock(&self.fault_rng).chance(pct / 100.0)
    }

    pub(crate) fn virtual_now(&self) -> i64 {
        self.t0 + (self.started.elapsed().as_secs_f64() * 1000.0 * self.speed) as i64
    }

    /// Lock the simulator with its clock advanced to now.
    pub(crate) fn sim(&self) -> MutexGuard<'_, Sim> {
        let now = self.virtual_now();
        let mut sim = lock(&self.sim);
        sim.advance_to(now);
        sim
    }

    pub(crate) fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }
    pub(crate) fn reset_stats(&self) {
        *lock(&self.stats) = Stats::default();
    }
    pub(crate) fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }
    pub(crate) fn set_faults(&self, f: Faults) {
        *lock(&self.faults) = f;
    }
    fn request_id(&self) -> String {
        lock(&self.request_ids).uuid()
    }
}

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    endpoint: Endpoint,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let app = Router::new()
        .route("/_sandbox/stats", get(stats_route))
        .route("/_sandbox/stats/reset", post(reset_route))
        .route("/_sandbox/faults", get(get_faults).post(set_faults))
        // ECS Exec's data channel serves the default fleet only: the WebSocket upgrade is
        // not signed by every plugin release, so it cannot name a tenant. A tenant's
        // ExecuteCommand answers, but its stream URL reaches no agent.
        .route("/v1/data-channel/{id}", get(datachannel::route))
        .route(
            "/federation/credentials",
            get(super::sso::get_role_credentials),
        )
        .fallback(aws_route)
        .with_state(endpoint.clone());
    // tenants share this sender, so their live tails and agents stop too
    let closing = endpoint.default.closing_tx.clone();
    let shutdown = async move {
        let _ = stop.wait_for(|v| *v).await;
        let _ = closing.send(true);
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::warn!("sandbox server stopped: {e}");
    }
}

async fn stats_route(State(endpoint): State<Endpoint>) -> Response {
    let stats = endpoint.tenants.total_stats(&endpoint.default);
    let body = serde_json::to_string(&stats).unwrap_or_else(|_| "{}".into());
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn reset_route(State(endpoint): State<Endpoint>) -> Response {
    endpoint.tenants.reset_stats(&endpoint.default);
    StatusCode::NO_CONTENT.into_response()
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    let body = serde_json::to_string(&shared.faults()).unwrap_or_else(|_| "{}".into());
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn set_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            shared.set_faults(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("invalid faults JSON: {e}")).into_response(),
    }
}

/// Which protocol and operation a request is.
enum Call {
    Json {
        service: &'static str,
        op: String,
    },
    Query {
        op: String,
        form: BTreeMap<String, String>,
    },
    /// Smithy RPC v2 CBOR (CloudWatch): `/service/<shape>/operation/<op>`.
    Cbor {
        op: String,
    },
}

/// How an answer is encoded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wire {
    Json,
    Query,
    Cbor,
}

fn wire_error(wire: Wire, e: &ApiError, request_id: &str) -> Response {
    match wire {
        Wire::Json => json_error(e, request_id),
        Wire::Query => sts::xml_error(e, request_id),
        Wire::Cbor => cbor_error(e, request_id),
    }
}

fn classify(path: &str, headers: &HeaderMap, body: &[u8]) -> Result<Call, ApiError> {
    if let Some(op) = cloudwatch::operation(path) {
        return Ok(Call::Cbor { op: op.to_string() });
    }
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, op) = target.split_once('.').unwrap_or((target, ""));
        let service = match prefix {
            "AmazonEC2ContainerServiceV20141113" => "ecs",
            "Logs_20140328" => "logs",
            "AmazonSSM" => "ssm",
            "TrentService" => "kms",
            "AWSSecurityTokenServiceV20110615" => "sts",
            "secretsmanager" => "secretsmanager",
            "AnyScaleFrontendService" => "application-autoscaling",
            _ => return Err(ApiError::unknown_operation(target)),
        };
        return Ok(Call::Json {
            service,
            op: op.to_string(),
        });
    }
    let form = sts::parse_form(body);
    match form.get("Action") {
        Some(op) => Ok(Call::Query {
            op: op.clone(),
            form,
        }),
        None => Err(ApiError::new(
            "UnknownOperationException",
            "Missing X-Amz-Target header or Action parameter.",
        )),
    }
}

async fn aws_route(
    State(endpoint): State<Endpoint>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = match classify(uri.path(), &headers, &body) {
        Ok(c) => c,
        Err(e) => {
            // no operation to authorise: counted on the default fleet
            let shared = &endpoint.default;
            count(shared, "unknown:unknown");
            return json_error(&e, &shared.request_id());
        }
    };
    let (name, wire) = match &call {
        Call::Json { service, op } => (format!("{service}:{op}"), Wire::Json),
        Call::Query { op, form } if elbv2::is_elbv2(form) => (format!("elbv2:{op}"), Wire::Query),
        Call::Query { op, .. } => (format!("sts:{op}"), Wire::Query),
        Call::Cbor { op } => (format!("cloudwatch:{op}"), Wire::Cbor),
    };
    let shared = match endpoint
        .tenants
        .resolve(&endpoint.default, &headers, &name)
        .await
    {
        Tenant::Default => endpoint.default.clone(),
        Tenant::Account(shared) => shared,
        // refused before any fleet: no latency, bucket or faults, as AWS refuses a bad
        // token before it meters the call
        Tenant::Rejected(e) => return wire_error(wire, &e, &endpoint.default.request_id()),
    };
    let request_id = shared.request_id();
    count(&shared, &name);

    let faults = shared.faults();
    if faults.denied_operations.contains(&name) {
        lock(&shared.stats).faults += 1;
        let action = name.clone();
        let e = ApiError::new(
            "AccessDeniedException",
            format!(
                "User: arn:aws:sts::{account}:assumed-role/berth-sandbox/console is not authorized to perform: {action} because no identity-based policy allows the {action} action",
                account = shared.account_id
            ),
        );
        return wire_error(wire, &e, &request_id);
    }
    let extra = if faults.operations.is_empty() || faults.operations.contains(&name) {
        Some(faults)
    } else {
        None
    };
    let delay = shared.latency
        + Duration::from_millis(extra.as_ref().map(|f| f.extra_latency_ms).unwrap_or(0));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(f) = extra
        && let Some(resp) = inject(&shared, &f, wire, &request_id)
    {
        return resp;
    }
    if let Some(bucket) = &shared.bucket
        && !lock(bucket).take()
    {
        lock(&shared.stats).throttled += 1;
        let e = ApiError::new("ThrottlingException", "Rate exceeded");
        return wire_error(wire, &e, &request_id);
    }

    match call {
        Call::Query { op, form } if elbv2::is_elbv2(&form) => {
            elbv2::handle(&shared, &op, &form, &request_id)
        }
        Call::Query { op, form } => sts::handle(&shared, &op, &form, &request_id),
        Call::Cbor { op } => match cloudwatch::handle(&shared, &op, &body) {
            Ok(body) => with_request_id(
                (
                    [
                        (header::CONTENT_TYPE, "application/cbor"),
                        (
                            header::HeaderName::from_static("smithy-protocol"),
                            "rpc-v2-cbor",
                        ),
                    ],
                    body,
                )
                    .into_response(),
                &request_id,
            ),
            Err(e) => cbor_error(&e, &request_id),
        },
        Call::Json { service, op } => {
            let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
                json!({})
            } else {
                match serde_json::from_slice(&body) {
                    Ok(v @ Value::Object(_)) => v,
                    Ok(_) | Err(_) => {
                        let e = ApiError::new(
                            "SerializationException",
                            "Start of structure or map found where not expected.",
                        );
                        return json_error(&e, &request_id);
                    }
                }
            };
            if service == "logs" && op == "StartLiveTail" {
                return match livetail::start(&shared, &input) {
                    Ok(resp) => resp,
                    Err(e) => json_error(&e, &request_id),
                };
            }
            let result = match service {
                "ecs" => ecs::handle(&shared, &op, &input),
                "logs" => logs::handle(&shared, &op, &input),
                "ssm" => ssm::handle(&shared, &op, &input),
                "kms" => kms::handle(&shared, &op, &input),
                "sts" => sts::handle_json(&shared, &op),
                "secretsmanager" => super::secrets::handle(&shared, &op, &input),
                "application-autoscaling" => super::scaling::handle(&shared, &op, &input),
                _ => Err(ApiError::unknown_operation(&op)),
            };
            match result {
                Ok(v) => json_ok(&v, &request_id),
                Err(e) => json_error(&e, &request_id),
            }
        }
    }
}

fn count(shared: &Shared, name: &str) {
    *lock(&shared.stats)
        .requests
        .entry(name.to_string())
        .or_default() += 1;
}

fn inject(shared: &Shared, f: &Faults, wire: Wire, request_id: &str) -> Option<Response> {
    let (err, reset) = {
        let mut rng = lock(&shared.fault_rng);
        (
            rng.chance(f.error_rate) && f.error_rate > 0.0,
            rng.chance(f.reset_rate) && f.reset_rate > 0.0,
        )
    };
    let e = if f.expired_credentials {
        ApiError::new(
            "ExpiredTokenException",
            "The security token included in the request is expired",
        )
    } else if err {
        ApiError {
            status: 500,
            code: "InternalFailure".into(),
            message: "Injected fault: internal failure.".into(),
        }
    } else if reset {
        lock(&shared.stats).faults += 1;
        // a body that fails mid-stream makes the server drop the connection
        let stream = futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("injected connection reset"))
        });
        return Some(Response::new(Body::from_stream(stream)));
    } else {
        return None;
    };
    lock(&shared.stats).faults += 1;
    Some(wire_error(wire, &e, request_id))
}

fn with_request_id(mut resp: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

pub(crate) fn json_ok(v: &Value, request_id: &str) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    with_request_id(
        ([(header::CONTENT_TYPE, JSON_11)], body).into_response(),
        request_id,
    )
}

/// An RPC v2 CBOR error: the CBOR envelope, and the code in `x-amzn-query-error` as the
/// query-compatible CloudWatch sends it (`Code;Sender`).
fn cbor_error(e: &ApiError, request_id: &str) -> Response {
    let body = cloudwatch::error_body(&e.code, &e.message);
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (
        status,
        [
            (header::CONTENT_TYPE, "application/cbor"),
            (
                header::HeaderName::from_static("smithy-protocol"),
                "rpc-v2-cbor",
            ),
        ],
        body,
    )
        .into_response();
    let fault = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    if let Ok(v) = HeaderValue::from_str(&format!("{};{fault}", e.code)) {
        resp.headers_mut().insert("x-amzn-query-error", v);
    }
    with_request_id(resp, request_id)
}

pub(crate) fn json_error(e: &ApiError, request_id: &str) -> Response {
    let body =
        serde_json::to_vec(&json!({"__type": e.code, "message": e.message})).unwrap_or_default();
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, [(header::CONTENT_TYPE, JSON_11)], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&e.code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    with_request_id(resp, request_id)
}
