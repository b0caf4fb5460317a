//! berth's own Session Manager client: ECS Exec and port forwarding with nothing installed.
//!
//! - [`channel`]: one data channel (WebSocket, handshake, acks, retransmission, KMS,
//!   keep-alive, resume).
//! - [`forward`]: port forwarding from a local listener (smux or basic).
//! - [`shell`]: an interactive shell on the terminal, or a scripted command on stdin/stdout.
//! - [`exit_status`]: the `sh -c` wrapper that reports the command's exit status.
//! - [`osc`]: what a remote shell may not do to the local terminal.

pub mod channel;
pub mod exit_status;
pub mod forward;
pub mod osc;
pub mod shell;

pub use channel::{Channel, Grant};
pub use shell::Outcome;

use crate::aws::ssmmessages::ChannelAccess;
use crate::exec::plugin::SessionGrant;

impl Grant {
    /// The grant ExecuteCommand or StartSession returned, for `target`.
    pub fn from_session(session: SessionGrant, target: &str) -> Grant {
        Grant {
            session_id: session.session_id,
            stream_url: session.stream_url,
            token: session.token,
            target: target.to_string(),
        }
    }
}

/// Open the channel and run an interactive shell on the terminal until it ends.
pub async fn run_interactive(access: ChannelAccess, grant: Grant, marker: Option<&str>) -> Outcome {
    match channel::open(access, grant).await {
        Ok(ch) => shell::interactive(ch, marker).await,
        Err(e) => Outcome {
            status: None,
            how: e,
            failed: true,
        },
    }
}
