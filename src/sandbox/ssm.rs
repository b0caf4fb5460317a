//! SSM sessions (StartSession, TerminateSession, DescribeSessions) and ECS ExecuteCommand,
//! which opens the same kind of session. No data channel is served: the stream URL points
//! at the real `ssmmessages` host shape, so only the control plane is simulated.

use serde_json::{Value, json};

use super::ecs::{cluster_idx, task_slot};
use super::model::*;
use super::server::Shared;
use super::sim::Sim;
use super::wire::*;

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub id: String,
    pub target: String,
    pub document: Option<String>,
    pub reason: Option<String>,
    pub started: Ms,
    pub ended: Option<Ms>,
}

const AGENT_ERROR: &str = "The execute command failed because execute command was not enabled when the task was run or the execute command agent isn't running. Wait and try again or run a new task with execute command enabled and try again.";

pub(crate) fn handle(shared: &Shared, op: &str, v: &Value) -> ApiResult {
    let mut sim = shared.sim();
    let sim = &mut *sim;
    match op {
        "StartSession" => start_session(sim, v),
        "TerminateSession" => terminate_session(sim, v),
        "DescribeSessions" => describe_sessions(sim, v),
        _ => Err(ApiError::unknown_operation(op)),
    }
}

fn new_session(
    sim: &mut Sim,
    prefix: &str,
    target: String,
    document: Option<String>,
    reason: Option<String>,
) -> Value {
    let id = format!("{prefix}-{}", sim.rng.hex(17));
    let token = format!("AAEAA{}{}", sim.rng.hex(40), sim.rng.hex(40));
    let now = sim.now;
    let url = format!(
        "wss://ssmmessages.{}.amazonaws.com/v1/data-channel/{id}?role=publish_subscribe&cell-number=AAEAAQ",
        sim.region
    );
    sim.sessions.push(Session {
        id: id.clone(),
        target,
        document,
        reason,
        started: now,
        ended: None,
    });
    json!({"SessionId": id, "TokenValue": token, "StreamUrl": url})
}

/// Resolve `ecs:<cluster>_<task-id>_<runtime-id>` to a running task whose agent runs.
fn check_ecs_target(sim: &Sim, target: &str) -> Result<(), ApiError> {
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
    let ok = t.last == TaskStatus::Running
        && t.containers.iter().any(|ct| {
            ct.runtime_id.as_deref() == Some(runtime) && ct.agent == Some(AgentState::Running)
        });
    if ok { Ok(()) } else { Err(not_connected()) }
}

fn start_session(sim: &mut Sim, v: &Value) -> ApiResult {
    let target = str_arg(v, "Target")
        .ok_or_else(|| ApiError::new("ValidationException", "Target is required."))?;
    if target.starts_with("ecs:") {
        check_ecs_target(sim, target)?;
    } else {
        return Err(ApiError::new(
            "TargetNotConnected",
            format!("{target} is not connected."),
        ));
    }
    let doc = str_arg(v, "DocumentName").map(str::to_string);
    let reason = str_arg(v, "Reason").map(str::to_string);
    Ok(new_session(sim, "berth", target.to_string(), doc, reason))
}

fn terminate_session(sim: &mut Sim, v: &Value) -> ApiResult {
    let id = str_arg(v, "SessionId")
        .ok_or_else(|| ApiError::new("ValidationException", "SessionId is required."))?;
    let now = sim.now;
    if let Some(s) = sim.sessions.iter_mut().find(|s| s.id == id)
        && s.ended.is_none()
    {
        s.ended = Some(now);
    }
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
pub(crate) fn execute_command(sim: &mut Sim, v: &Value) -> ApiResult {
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
    let s = new_session(
        sim,
        "ecs-execute-command",
        target,
        None,
        Some(command.to_string()),
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
