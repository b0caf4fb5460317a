//! `session-manager-plugin`: finding it, asking its version, and starting it the way the AWS
//! CLI does, except that the session (with its token) travels in the environment variable
//! `AWS_SSM_START_SESSION_RESPONSE`, never in argv where `ps` would show it.
//!
//! argv: `AWS_SSM_START_SESSION_RESPONSE <region> StartSession <profile> <request-json>
//! <ssm-endpoint>` — the variable's name first, then always all five.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::preflight::Plugin;

pub const PLUGIN_NAME: &str = "session-manager-plugin";
/// Overrides the PATH search (a plugin installed somewhere unusual).
pub const PLUGIN_ENV: &str = "BERTH_SESSION_MANAGER_PLUGIN";
pub const SESSION_ENV: &str = "AWS_SSM_START_SESSION_RESPONSE";

/// Where the plugin's installer puts it when it is not on PATH.
const KNOWN_PLACES: &[&str] = &[
    "/usr/local/sessionmanagerplugin/bin/session-manager-plugin",
    "/usr/local/bin/session-manager-plugin",
];

/// Find the plugin: `$BERTH_SESSION_MANAGER_PLUGIN`, then PATH, then the installer's places.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(PLUGIN_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| is_executable(p));
    }
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(PLUGIN_NAME))
            .find(|p| is_executable(p))
    });
    from_path.or_else(|| {
        KNOWN_PLACES
            .iter()
            .map(PathBuf::from)
            .find(|p| is_executable(p))
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Find the plugin (or take `at`) and ask its version (bounded: a wedged binary cannot hang the preflight).
pub async fn probe(at: Option<PathBuf>) -> Plugin {
    let Some(path) = at.or_else(find) else {
        return Plugin::Missing;
    };
    let run = tokio::process::Command::new(&path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let version = match tokio::time::timeout(Duration::from_secs(5), run).await {
        Ok(Ok(out)) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            Some(crate::text::sanitize(&text).into_owned()).filter(|v| !v.is_empty())
        }
        _ => None,
    };
    Plugin::Found { path, version }
}

/// The session ECS or SSM returned. Its `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionGrant {
    pub session_id: String,
    pub stream_url: String,
    /// Zeroised when the grant is dropped.
    pub token: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for SessionGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionGrant")
            .field("session_id", &self.session_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl SessionGrant {
    /// The JSON the plugin expects (the StartSession response's shape).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "SessionId": self.session_id,
            "StreamUrl": self.stream_url,
            "TokenValue": self.token.as_str(),
        })
        .to_string()
    }
}

/// Everything needed to start the plugin. `Debug` hides the token (via [`SessionGrant`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub session: SessionGrant,
}

/// The SSM endpoint the plugin is told about: the custom endpoint when there is one.
pub fn ssm_endpoint(region: &str, endpoint_url: Option<&str>) -> String {
    match endpoint_url {
        Some(url) => url.to_string(),
        None if region.starts_with("cn-") => format!("https://ssm.{region}.amazonaws.com.cn"),
        None => format!("https://ssm.{region}.amazonaws.com"),
    }
}

/// Build the invocation. `request` is the StartSession request as JSON (`{"Target": ...}`,
/// plus `DocumentName` and `Parameters` for port forwarding).
pub fn invocation(
    program: PathBuf,
    session: SessionGrant,
    region: &str,
    profile: Option<&str>,
    request: &serde_json::Value,
    endpoint_url: Option<&str>,
) -> Invocation {
    Invocation {
        program,
        args: vec![
            SESSION_ENV.to_string(),
            region.to_string(),
            "StartSession".to_string(),
            profile.unwrap_or_default().to_string(),
            request.to_string(),
            ssm_endpoint(region, endpoint_url),
        ],
        session,
    }
}

impl Invocation {
    /// A command with the session in the environment; stdio is the caller's choice.
    pub fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .env(SESSION_ENV, self.session.to_json())
            .kill_on_drop(true);
        cmd
    }
}

/// How the plugin ended, for "session ended (exit N)".
pub fn describe_exit(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "unknown status".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> SessionGrant {
        SessionGrant {
            session_id: "ecs-execute-command-1".into(),
            stream_url: "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/x".into(),
            token: "SECRET-TOKEN".to_string().into(),
        }
    }

    #[test]
    fn the_token_is_in_the_environment_and_never_in_argv_or_debug() {
        let inv = invocation(
            "/bin/plugin".into(),
            grant(),
            "eu-west-1",
            Some("prod"),
            &serde_json::json!({"Target": "ecs:c_t_r"}),
            None,
        );
        assert_eq!(inv.args.len(), 6);
        assert_eq!(inv.args[0], SESSION_ENV);
        assert_eq!(inv.args[1], "eu-west-1");
        assert_eq!(inv.args[2], "StartSession");
        assert_eq!(inv.args[3], "prod");
        assert_eq!(inv.args[4], r#"{"Target":"ecs:c_t_r"}"#);
        assert_eq!(inv.args[5], "https://ssm.eu-west-1.amazonaws.com");
        assert!(inv.args.iter().all(|a| !a.contains("SECRET-TOKEN")));
        assert!(!format!("{inv:?}").contains("SECRET-TOKEN"));
        let json: serde_json::Value =
            serde_json::from_str(&inv.session.to_json()).unwrap_or_default();
        assert_eq!(json["TokenValue"], "SECRET-TOKEN");
        assert_eq!(json["SessionId"], "ecs-execute-command-1");
    }

    #[test]
    fn no_profile_is_an_empty_argument_and_endpoints_follow_the_partition() {
        let inv = invocation(
            "/bin/plugin".into(),
            grant(),
            "cn-north-1",
            None,
            &serde_json::json!({}),
            None,
        );
        assert_eq!(inv.args[3], "");
        assert_eq!(inv.args[5], "https://ssm.cn-north-1.amazonaws.com.cn");
        assert_eq!(
            ssm_endpoint("us-east-1", Some("http://127.0.0.1:4566")),
            "http://127.0.0.1:4566"
        );
    }
}
