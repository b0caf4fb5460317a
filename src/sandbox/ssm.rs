//! SSM sessions (StartSession, ResumeSession, TerminateSession, DescribeSessions) and ECS
//! ExecuteCommand, which opens the same kind of session. A session's `StreamUrl` points at the
//! sandbox's own data channel (`ws://<listen address>/v1/data-channel/<id>`, served by
//! `datachannel/`), and the session remembers what its channel runs: a shell in the task's
//! container, or a port forward to the container's HTTP service or to a remote host.

use serde_json::{Value, json};

use super::datachannel::{ChannelSpec, Run, ShellContext};
use super::ecs::{cluster_idx, task_slot};
use super::ecs_json::exec_configuration_json;
use super::model::*;
use super::server::Shared;
use super::sim::Sim;
use super::wire::*;

/// Tokens kept valid per session (each ResumeSession adds one; the oldest go first).
const MAX_TOKENS: usize = 8;

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub id: String,
    pub target: String,
    pub document: Option<String>,
    pub reason: Option<String>,
    pub started: Ms,
    pub ended: Option<Ms>,
    /// Tokens an OpenDataChannel may present, oldest first.
    pub tokens: Vec<String>,
    /// What the data channel runs.
    pub channel: ChannelSpec,
}

impl Session {
    pub(crate) fn accepts(&self, token: &str) -> bool {
        self.ended.is_none() && !token.is_empty() && self.tokens.iter().any(|t| t == token)
    }
}

const AGENT_ERROR: &str = "The execute command failed because execute command was not enabled when the task was run or the execute command agent isn't running. Wait and try again or run a new task with execute command enabled and try again.";

pub(crate) fn handle(shared: &Shared, op: &str, v: &Value) -> ApiResult {
    let mut sim = shared.sim();
    let sim = &mut *sim;
    match op {
        "StartSession" => start_session(shared, sim, v),
        "ResumeSession" => resume_session(shared, sim, v),
        "TerminateSession" => terminate_session(shared, sim, v),
        "DescribeSessions" => describe_sessions(sim, v),
        _ => Err(ApiError::unknown_operation(op)),
    }
}

fn new_token(sim: &mut Sim) -> String {
    format!("AAEAA{}{}", sim.rng.hex(40), sim.rng.hex(40))
}

fn new_session(
    shared: &Shared,
    sim: &mut Sim,
    prefix: &str,
    target: String,
    document: Option<String>,
    reason: Option<String>,
    channel: ChannelSpec,
) -> Value {
    let id = format!("{prefix}-{}", sim.rng.hex(17));
    let token = new_token(sim);
    let now = sim.now;
    let url = shared.stream_url(&id);
    sim.sessions.push(Session {
        id: id.clone(),
        target,
        document,
        reason,
        started: now,
        ended: None,
        tokens: vec![token.clone()],
        channel,
    });
    json!({"SessionId": id, "TokenValue": token, "StreamUrl": url})
}

/// The container a session runs in, as its shell sees it.
fn container_context(sim: &Sim, slot: usize, container: usize) -> ShellContext {
    let Some(t) = sim.task(slot) else {
        return ShellContext::default();
    };
    let td = sim.task_defs.get(t.task_def);
    let name = t
        .containers
        .get(container)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let def = td.and_then(|d| d.containers.iter().find(|c| c.name == name));
    let cluster = sim
        .clusters
        .get(t.cluster)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let runtime = t
        .containers
        .get(container)
        .and_then(|c| c.runtime_id.clone())
        .unwrap_or_default();
    let metadata = format!("http://169.254.170.2/v4/{runtime}");
    let mut env = vec![
        (
            "APP_VERSION".to_string(),
            td.map(|d| d.version.clone()).unwrap_or_default(),
        ),
        ("AWS_REGION".to_string(), sim.region.clone()),
        ("AWS_DEFAULT_REGION".to_string(), sim.region.clone()),
        (
            "AWS_EXECUTION_ENV".to_string(),
            if t.capacity_provider.starts_with("FARGATE") {
                "AWS_ECS_FARGATE"
            } else {
                "AWS_ECS_EC2"
            }
            .to_string(),
        ),
        ("ECS_CONTAINER_METADATA_URI".to_string(), metadata.clone()),
        ("ECS_CONTAINER_METADATA_URI_V4".to_string(), metadata),
    ];
    env.sort();
    ShellContext {
        task_id: t.id.clone(),
        container: name,
        image: def.map(|c| c.image.clone()).unwrap_or_default(),
        env,
        secret_names: match (td, def) {
            (Some(d), Some(c)) if c.app => d.secrets.iter().map(|(n, _)| n.clone()).collect(),
            _ => Vec::new(),
        },
        // awsvpc: every container of the task listens on the same localhost
        ports: td
            .map(|d| d.containers.iter().filter_map(|c| c.port).collect())
            .unwrap_or_default(),
        cluster,
    }
}

/// The KMS key the cluster's exec configuration names, if any.
fn cluster_kms_key(sim: &Sim, cluster: usize) -> Option<String> {
    exec_configuration_json(sim, cluster)["executeCommandConfiguration"]["kmsKeyId"]
        .as_str()
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

/// Resolve `ecs:<cluster>_<task-id>_<runtime-id>` to a running task whose agent runs:
/// (cluster, task slot, container index).
fn check_ecs_target(sim: &Sim, target: &str) -> Result<(usize, usize, usize), ApiError> {
    let not_connected =
        || ApiError::new("TargetNotConnected", format!("{target} is not connected."));
    let rest = target.strip_prefix("ecs:").ok_or_else(not_connected)?;
    let mut parts = rest.splitn(3, '_');
    let (Some(cluster), Some(task), Some(runtime)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(not_connected());
    };
    let c = sim
        .cluster_by_name
        .get(cluster)
        .copied()
        .ok_or_else(not_connected)?;
    let slot = task_slot(sim, c, task).map_err(|_| not_connected())?;
    let t = sim.task(slot).ok_or_else(not_connected)?;
    if t.last != TaskStatus::Running {
        return Err(not_connected());
    }
    t.containers
        .iter()
        .position(|ct| {
            ct.runtime_id.as_deref() == Some(runtime) && ct.agent == Some(AgentState::Running)
        })
        .map(|i| (c, slot, i))
        .ok_or_else(not_connected)
}

/// The first value of a StartSession parameter (`Parameters` maps names to lists).
fn parameter(v: &Value, name: &str) -> Option<String> {
    let p = v.get("Parameters")?.get(name)?;
    match p {
        Value::Array(items) => items.first()?.as_str().map(str::to_string),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// What a StartSession document runs.
fn session_run(doc: Option<&str>, v: &Value) -> Result<Run, ApiError> {
    let port = || parameter(v, "portNumber").unwrap_or_else(|| "80".to_string());
    let local_port = parameter(v, "localPortNumber").filter(|p| !p.is_empty());
    match doc {
        None | Some("SSM-SessionManagerRunShell") => Ok(Run::Shell {
            session_type: "Standard_Stream",
            command: "sh".to_string(),
        }),
        Some("AWS-StartInteractiveCommand") => Ok(Run::Shell {
            session_type: "InteractiveCommands",
            command: parameter(v, "command").ok_or_else(|| {
                ApiError::new(
                    "InvalidDocument",
                    "Document AWS-StartInteractiveCommand requires the command parameter.",
                )
            })?,
        }),
        Some("AWS-StartPortForwardingSession") => Ok(Run::Port {
            port: port(),
            local_port,
            host: None,
        }),
        Some("AWS-StartPortForwardingSessionToRemoteHost") => Ok(Run::Port {
            port: port(),
            local_port,
            host: Some(parameter(v, "host").filter(|h| !h.is_empty()).ok_or_else(|| {
                ApiError::new(
                    "InvalidDocument",
                    "Document AWS-StartPortForwardingSessionToRemoteHost requires the host parameter.",
                )
            })?),
        }),
        Some(other) => Err(ApiError::new(
            "InvalidDocument",
            format!("Document {other} does not exist in your account."),
        )),
    }
}

fn start_session(shared: &Shared, sim: &mut Sim, v: &Value) -> ApiResult {
    let target = str_arg(v, "Target")
        .ok_or_else(|| ApiError::new("ValidationException", "Target is required."))?;
    if !target.starts_with("ecs:") {
        return Err(ApiError::new(
            "TargetNotConnected",
            format!("{target} is not connected."),
        ));
    }
    let (c, slot, container) = check_ecs_target(sim, target)?;
    let doc = str_arg(v, "DocumentName").map(str::to_string);
    let run = session_run(doc.as_deref(), v)?;
    let channel = ChannelSpec {
        run,
        container: container_context(sim, slot, container),
        kms_key: cluster_kms_key(sim, c),
    };
    let reason = str_arg(v, "Reason").map(str::to_string);
    Ok(new_session(
        shared,
        sim,
        "berth",
        target.to_string(),
        doc,
        reason,
        channel,
    ))
}

/// A new token for a session whose client lost its connection. A session that has ended is
/// answered without a token, which the plugin reports as a timed-out session.
fn resume_session(shared: &Shared, sim: &mut Sim, v: &Value) -> ApiResult {
    let id = str_arg(v, "SessionId")
        .ok_or_else(|| ApiError::new("ValidationException", "SessionId is required."))?;
    let token = new_token(sim);
    let Some(s) = sim.sessions.iter_mut().find(|s| s.id == id) else {
        return Err(ApiError::new(
            "DoesNotExistException",
            format!("Session {id} does not exist."),
        ));
    };
    if s.ended.is_some() {
        return Ok(json!({"SessionId": id}));
    }
    if s.tokens.len() >= MAX_TOKENS {
        s.tokens.remove(0);
    }
    s.tokens.push(token.clone());
    Ok(json!({"SessionId": id, "TokenValue": token, "StreamUrl": shared.stream_url(id)}))
}

fn terminate_session(shared: &Shared, sim: &mut Sim, v: &Value) -> ApiResult {
    let id = str_arg(v, "SessionId")
        .ok_or_else(|| ApiError::new("ValidationException", "SessionId is required."))?;
    let now = sim.now;
    if let Some(s) = sim.sessions.iter_mut().find(|s| s.id == id)
        && s.ended.is_none()
    {
        s.ended = Some(now);
    }
    // a connected client gets channel_closed
    shared.channels.terminate(id);
    // like SSM, terminating an unknown or finished session is not an error
    Ok(json!({"SessionId": id}))
}

fn describe_sessions(sim: &Sim, v: &Value) -> ApiResult {
    let state = str_arg(v, "State")
        .ok_or_else(|| ApiError::new("ValidationException", "State is required."))?;
    let active = match state {
        "Active" => true,
        "History" => false,
        _ => {
            return Err(ApiError::new(
                "ValidationException",
                "State must be Active or History.",
            ));
        }
    };
    let max = page_size(v, "MaxResults", 20, 200)?;
    let start: usize = match opt_token(v, "NextToken")? {
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::new("InvalidNextToken", "The token is not valid."))?,
        None => 0,
    };
    let mut target_filter = None;
    if let Some(Value::Array(filters)) = v.get("Filters") {
        for f in filters {
            if str_arg(f, "key") == Some("Target") {
                target_filter = str_arg(f, "value");
            }
        }
    }
    let matching: Vec<&Session> = sim
        .sessions
        .iter()
        .rev()
        .filter(|s| s.ended.is_none() == active)
        .filter(|s| target_filter.is_none_or(|t| t == s.target))
        .collect();
    let items: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max)
        .map(|s| {
            let mut o = json!({
                "SessionId": s.id,
                "Target": s.target,
                "Status": if s.ended.is_some() { "Terminated" } else { "Connected" },
                "StartDate": secs(s.started),
                "Owner": format!("arn:aws:iam::{}:user/berth-demo", sim.account),
                "MaxSessionDuration": "20",
            });
            if let Some(e) = s.ended {
                o["EndDate"] = secs(e);
            }
            if let Some(d) = &s.document {
                o["DocumentName"] = json!(d);
            }
            if let Some(r) = &s.reason {
                o["Reason"] = json!(r);
            }
            o
        })
        .collect();
    let mut out = json!({"Sessions": items});
    if start + max < matching.len() {
        out["NextToken"] = json!(encode_token(&(start + max).to_string()));
    }
    Ok(out)
}

/// ECS ExecuteCommand: checks the ECS Exec preconditions and opens a session.
pub(crate) fn execute_command(shared: &Shared, sim: &mut Sim, v: &Value) -> ApiResult {
    let c = cluster_idx(sim, v)?;
    let task = str_arg(v, "task").ok_or_else(|| ApiError::invalid("Task cannot be empty."))?;
    let command =
        str_arg(v, "command").ok_or_else(|| ApiError::invalid("Command cannot be empty."))?;
    if bool_arg(v, "interactive") != Some(true) {
        return Err(ApiError::invalid(
            "Interactive is the only mode supported currently.",
        ));
    }
    let slot = task_slot(sim, c, task)?;
    let t = sim
        .task(slot)
        .ok_or_else(|| ApiError::invalid("The referenced task was not found."))?;
    if t.last != TaskStatus::Running || !t.desired_running {
        return Err(ApiError::invalid(
            "The execute command failed because the task is not in RUNNING state.",
        ));
    }
    let idx = match str_arg(v, "container") {
        Some(name) => t
            .containers
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                ApiError::invalid(format!("The container {name} does not exist in the task."))
            })?,
        None if t.containers.len() == 1 => 0,
        None => {
            return Err(ApiError::invalid(
                "The execute command failed because the container name must be specified when the task has more than one container.",
            ));
        }
    };
    let ct = t
        .containers
        .get(idx)
        .ok_or_else(|| ApiError::invalid("Container not found."))?;
    if !t.exec || ct.agent != Some(AgentState::Running) {
        return Err(ApiError::invalid(AGENT_ERROR));
    }
    let cluster = sim
        .clusters
        .get(c)
        .map(|x| (x.name.clone(), x.arn.clone()))
        .unwrap_or_default();
    let target = format!(
        "ecs:{}_{}_{}",
        cluster.0,
        t.id,
        ct.runtime_id.clone().unwrap_or_default()
    );
    let container_arn = format!(
        "arn:aws:ecs:{}:{}:container/{}/{}/{}",
        sim.region, sim.account, cluster.0, t.id, ct.id
    );
    let (task_arn, cname) = (t.arn.clone(), ct.name.clone());
    let channel = ChannelSpec {
        run: Run::Shell {
            session_type: "InteractiveCommands",
            command: command.to_string(),
        },
        container: container_context(sim, slot, idx),
        kms_key: cluster_kms_key(sim, c),
    };
    let s = new_session(
        shared,
        sim,
        "ecs-execute-command",
        target,
        None,
        Some(command.to_string()),
        channel,
    );
    Ok(json!({
        "clusterArn": cluster.1,
        "containerArn": container_arn,
        "containerName": cname,
        "interactive": true,
        "session": {"sessionId": s["SessionId"], "streamUrl": s["StreamUrl"], "tokenValue": s["TokenValue"]},
        "taskArn": task_arn,
    }))
}
