//! The handshake's JSON documents. The agent asks for client actions (the session type, KMS
//! encryption) in a HandshakeRequest; the client answers each in a HandshakeResponse
//! (success, failure or unsupported); with KMS the agent then sends an encrypted challenge the
//! client must answer; a HandshakeComplete, whose customer message is shown, starts the session.
//! Field names are case-sensitive as the protocol spells them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ACTION_SESSION_TYPE: &str = "SessionType";
pub const ACTION_KMS_ENCRYPTION: &str = "KMSEncryption";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HandshakeRequest {
    #[serde(rename = "AgentVersion", default)]
    pub agent_version: String,
    #[serde(rename = "RequestedClientActions", default)]
    pub actions: Vec<RequestedAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestedAction {
    #[serde(rename = "ActionType")]
    pub action_type: String,
    #[serde(rename = "ActionParameters", default)]
    pub parameters: Value,
}

/// What a `SessionType` action selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionKind {
    /// `Standard_Stream`, `InteractiveCommands`, `NonInteractiveCommands`: a shell or command.
    Shell { non_interactive: bool },
    /// Port forwarding, with its properties (`portNumber`, `type`, ...).
    Port(PortProperties),
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PortProperties {
    #[serde(rename = "portNumber")]
    pub port_number: String,
    #[serde(rename = "localPortNumber")]
    pub local_port_number: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "host")]
    pub host: String,
}

impl PortProperties {
    /// A local listener forwards connections (as opposed to the plugin's stdin/stdout mode).
    pub fn is_local_port_forwarding(&self) -> bool {
        self.kind == "LocalPortForwarding"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionTypeParameters {
    #[serde(rename = "SessionType")]
    pub session_type: String,
    #[serde(rename = "Properties", default)]
    pub properties: Value,
}

impl SessionTypeParameters {
    pub fn kind(&self) -> Option<SessionKind> {
        match self.session_type.as_str() {
            "Standard_Stream" | "InteractiveCommands" => Some(SessionKind::Shell {
                non_interactive: false,
            }),
            "NonInteractiveCommands" => Some(SessionKind::Shell {
                non_interactive: true,
            }),
            "Port" => Some(SessionKind::Port(
                serde_json::from_value(self.properties.clone()).unwrap_or_default(),
            )),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsEncryptionParameters {
    #[serde(rename = "KMSKeyId")]
    pub key_id: String,
}

/// How the client handled an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    Success = 1,
    Failed = 2,
    Unsupported = 3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HandshakeResponse {
    #[serde(rename = "ClientVersion")]
    pub client_version: String,
    #[serde(rename = "ProcessedClientActions")]
    pub actions: Vec<ProcessedAction>,
    #[serde(rename = "Errors")]
    pub errors: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessedAction {
    #[serde(rename = "ActionType")]
    pub action_type: String,
    #[serde(rename = "ActionStatus")]
    pub status: i32,
    /// Absent is null: the agent decodes into a Go `json.RawMessage`, which an absent field
    /// leaves nil, and clients that have no result omit it (aws-ssm-bridge does).
    #[serde(rename = "ActionResult", default)]
    pub result: Value,
    #[serde(rename = "Error", default)]
    pub error: String,
}

impl ProcessedAction {
    pub fn new(action_type: &str, status: ActionStatus, result: Value, error: &str) -> Self {
        ProcessedAction {
            action_type: action_type.to_string(),
            status: status as i32,
            result,
            error: error.to_string(),
        }
    }
}

/// The result of a successful KMS action: the data key's ciphertext for the agent to decrypt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsEncryptionResult {
    #[serde(rename = "KMSCipherTextKey")]
    pub ciphertext_key: String,
    #[serde(rename = "KMSCipherTextHash")]
    pub ciphertext_hash: Option<String>,
}

/// EncChallengeRequest and EncChallengeResponse: base64 of the encrypted random bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncryptionChallenge {
    #[serde(rename = "Challenge")]
    pub challenge: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HandshakeComplete {
    #[serde(rename = "HandshakeTimeToComplete", default)]
    pub time_to_complete_ns: i64,
    #[serde(rename = "CustomerMessage", default)]
    pub customer_message: String,
}

/// A terminal size update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub cols: u32,
    pub rows: u32,
}

/// An agent version, four dot-separated numbers. Features are gated on it being strictly
/// newer than a threshold; a version with another number of parts supports none of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AgentVersion(pub [u32; 4]);

impl AgentVersion {
    pub fn parse(s: &str) -> Option<AgentVersion> {
        let parts: Vec<u32> = s
            .trim()
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        <[u32; 4]>::try_from(parts).ok().map(AgentVersion)
    }

    fn newer_than(s: &str, threshold: [u32; 4]) -> bool {
        AgentVersion::parse(s).is_some_and(|v| v > AgentVersion(threshold))
    }

    /// Multiplexed (smux) port forwarding.
    pub fn supports_mux(s: &str) -> bool {
        Self::newer_than(s, [3, 0, 196, 0])
    }

    /// smux keep-alive may be left off.
    pub fn mux_keepalive_optional(s: &str) -> bool {
        Self::newer_than(s, [3, 1, 1511, 0])
    }

    /// Basic port forwarding understands the TerminateSession flag.
    pub fn supports_terminate_flag(s: &str) -> bool {
        Self::newer_than(s, [2, 3, 722, 0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_with_both_actions_parses() {
        let json = r#"{"AgentVersion":"3.3.1000.0","RequestedClientActions":[
            {"ActionType":"SessionType","ActionParameters":{"SessionType":"Port","Properties":{"portNumber":"8080","type":"LocalPortForwarding"}}},
            {"ActionType":"KMSEncryption","ActionParameters":{"KMSKeyId":"arn:aws:kms:eu-west-1:1:key/k"}}]}"#;
        let r: HandshakeRequest = serde_json::from_str(json).unwrap_or_default();
        assert_eq!(r.agent_version, "3.3.1000.0");
        assert_eq!(r.actions.len(), 2);
        let st: SessionTypeParameters = serde_json::from_value(r.actions[0].parameters.clone())
            .unwrap_or_else(|e| panic!("{e}"));
        let Some(SessionKind::Port(p)) = st.kind() else {
            panic!("not a port session: {st:?}")
        };
        assert_eq!(p.port_number, "8080");
        assert!(p.is_local_port_forwarding());
        let kms: KmsEncryptionParameters = serde_json::from_value(r.actions[1].parameters.clone())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(kms.key_id.ends_with("key/k"));
    }

    #[test]
    fn the_response_is_spelled_as_the_agent_expects() {
        let r = HandshakeResponse {
            client_version: "berth/0.1.0".into(),
            actions: vec![ProcessedAction::new(
                ACTION_SESSION_TYPE,
                ActionStatus::Success,
                Value::Null,
                "",
            )],
            errors: None,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap_or_default(),
            r#"{"ClientVersion":"berth/0.1.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}"#
        );
    }

    #[test]
    fn a_response_without_action_result_or_error_parses_as_null_and_empty() {
        // as aws-ssm-bridge sends it; the agent's Go decoder leaves absent fields zero
        let r: HandshakeResponse = serde_json::from_str(
            r#"{"ClientVersion":"1.2.764.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1}],"Errors":[]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.actions,
            vec![ProcessedAction::new(
                ACTION_SESSION_TYPE,
                ActionStatus::Success,
                Value::Null,
                ""
            )]
        );
        assert_eq!(r.errors, Some(Vec::new()));
    }

    #[test]
    fn session_types_select_shell_or_port_and_others_none() {
        let k = |t: &str| {
            SessionTypeParameters {
                session_type: t.into(),
                properties: Value::Null,
            }
            .kind()
        };
        assert_eq!(
            k("Standard_Stream"),
            Some(SessionKind::Shell {
                non_interactive: false
            })
        );
        assert_eq!(
            k("InteractiveCommands"),
            Some(SessionKind::Shell {
                non_interactive: false
            })
        );
        assert_eq!(
            k("NonInteractiveCommands"),
            Some(SessionKind::Shell {
                non_interactive: true
            })
        );
        assert!(matches!(k("Port"), Some(SessionKind::Port(_))));
        assert_eq!(k("Telepathy"), None);
    }

    #[test]
    fn agent_version_gates_need_four_parts_and_are_strict() {
        assert!(AgentVersion::supports_mux("3.0.197.0"));
        assert!(!AgentVersion::supports_mux("3.0.196.0"));
        assert!(!AgentVersion::supports_mux("3.1"));
        assert!(!AgentVersion::supports_mux("garbage"));
        assert!(AgentVersion::supports_mux("3.3.1000.0"));
        assert!(AgentVersion::mux_keepalive_optional("3.1.1512.0"));
        assert!(!AgentVersion::mux_keepalive_optional("3.1.1511.0"));
        assert!(AgentVersion::supports_terminate_flag("2.3.723.0"));
        assert!(!AgentVersion::supports_terminate_flag("2.3.722.0"));
    }

    #[test]
    fn complete_and_size_round_trip() {
        let c: HandshakeComplete = serde_json::from_str(
            r#"{"HandshakeTimeToComplete":1500000,"CustomerMessage":"Welcome"}"#,
        )
        .unwrap_or_default();
        assert_eq!(c.customer_message, "Welcome");
        assert_eq!(
            serde_json::to_string(&Size { cols: 80, rows: 24 }).unwrap_or_default(),
            r#"{"cols":80,"rows":24}"#
        );
    }
}
