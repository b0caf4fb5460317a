//! The audit log: one JSON line per mutating action and per exec or port-forward
//! session in `$XDG_STATE_HOME/berth/audit.jsonl`, mode 0600. Written by the effect runner
//! where the request is made, so nothing that leaves the process escapes it: refused actions
//! (read-only) are written too.
//!
//! Never written: credentials, session tokens, exec stream URLs. The entry has no field that
//! could hold one.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::mutation::Mutation;

pub const FILE_NAME: &str = "audit.jsonl";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    /// Who made the call (STS caller ARN).
    pub caller: Option<String>,
    /// `force_new_deployment`, `stop_task`, `scale`, `roll_back`.
    pub action: String,
    /// What it acted on (`service prod/checkout-api`).
    pub target: String,
    /// The action's parameters (cluster, service, reason, counts, task definitions).
    pub parameters: serde_json::Value,
    /// `ok`, `error`, `refused`.
    pub outcome: String,
    pub error: Option<String>,
}

/// Who and where: filled in by the runner from the session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    pub caller: Option<String>,
}

impl Entry {
    pub fn new(
        time_ms: i64,
        actor: &Actor,
        mutation: &Mutation,
        outcome: &str,
        error: Option<String>,
    ) -> Entry {
        let mut parameters = serde_json::to_value(mutation).unwrap_or(serde_json::Value::Null);
        let action = parameters
            .as_object_mut()
            .and_then(|m| m.remove("action"))
            .and_then(|a| a.as_str().map(str::to_string))
            .unwrap_or_default();
        Entry {
            time: crate::logs::time::format_rfc3339(time_ms),
            profile: actor.profile.clone(),
            region: actor.region.clone(),
            account: actor.account.clone(),
            caller: actor.caller.clone(),
            action,
            target: mutation.target(),
            parameters,
            outcome: outcome.to_string(),
            error,
        }
    }
}

impl Entry {
    /// A line for an exec or port-forward session (`action` is `exec` or `port_forward`).
    /// `parameters` must never hold the session token or stream URL.
    pub fn session(
        time_ms: i64,
        actor: &Actor,
        action: &str,
        target: String,
        parameters: serde_json::Value,
        outcome: &str,
        error: Option<String>,
    ) -> Entry {
        Entry {
            time: crate::logs::time::format_rfc3339(time_ms),
            profile: actor.profile.clone(),
            region: actor.region.clone(),
            account: actor.account.clone(),
            caller: actor.caller.clone(),
            action: action.to_string(),
            target,
            parameters,
            outcome: outcome.to_string(),
            error,
        }
    }
}

/// Why an action that changes something (or opens a session) must not run, checked where
/// the request is made: `--read-only`, a read-only profile or account, an account whose
/// rules cannot be checked yet, or no place to write the audit line.
pub fn refusal(
    read_only: bool,
    safety: &crate::config::safety::Safety,
    actor: &Actor,
    audit_path: Option<&Path>,
) -> Option<String> {
    let rule = safety.rule(actor.profile.as_deref(), actor.account.as_deref());
    if read_only || rule.read_only {
        Some("read-only mode: refused before sending".to_string())
    } else if actor.account.is_none() && !safety.accounts.is_empty() {
        Some(
            "the account is not known yet, so its safety rules cannot be checked: refused"
                .to_string(),
        )
    } else if audit_path.is_none() {
        Some("no state directory for the audit log: refused".to_string())
    } else {
        None
    }
}

/// Append, logging (not failing) when the file cannot be written.
pub fn record(path: Option<&Path>, entry: &Entry) {
    if let Some(path) = path
        && let Err(e) = append(path, entry)
    {
        tracing::error!("audit log {}: {e}", path.display());
    }
}

/// The default audit file, in the state directory.
pub fn default_path() -> Option<PathBuf> {
    crate::logging::state_dir().map(|d| d.join(FILE_NAME))
}

/// Append one line (the file is created 0600, its directory 0700).
pub fn append(path: &Path, entry: &Entry) -> io::Result<()> {
    let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut file = crate::logging::create_private_file(path)?;
    // One write per line, O_APPEND: concurrent berths do not interleave lines.
    file.write_all(&line)?;
    file.sync_data()
}

/// The last `n` entries, newest first (lines that do not parse are skipped).
pub fn recent(path: &Path, n: usize) -> io::Result<Vec<Entry>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut all: Vec<Entry> = io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect();
    all.reverse();
    all.truncate(n);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lines_are_private_and_read_back_newest_first() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state/audit.jsonl");
        let actor = Actor {
            profile: Some("prod".into()),
            region: Some("eu-west-1".into()),
            account: Some("210987654321".into()),
            caller: Some("arn:aws:sts::210987654321:assumed-role/OnCall/alice".into()),
        };
        let m = Mutation::ForceNewDeployment {
            cluster: "prod".into(),
            service: "checkout-api".into(),
        };
        append(&path, &Entry::new(0, &actor, &m, "ok", None)).unwrap_or_else(|e| panic!("{e}"));
        let s = Mutation::StopTask {
            cluster: "prod".into(),
            task: "arn:aws:ecs:eu-west-1:1:task/prod/abc".into(),
            reason: "stuck".into(),
        };
        append(
            &path,
            &Entry::new(1000, &actor, &s, "refused", Some("read-only".into())),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let entries = recent(&path, 10).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].action, "stop_task");
        assert_eq!(entries[0].outcome, "refused");
        assert_eq!(entries[0].parameters["reason"], "stuck");
        assert_eq!(entries[1].action, "force_new_deployment");
        assert_eq!(entries[1].target, "service prod/checkout-api");
        assert_eq!(entries[1].time, "1970-01-01T00:00:00.000Z");
    }
}
