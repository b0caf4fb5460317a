//! Why an action did not happen, with its type kept until it is shown: an AWS error still
//! knows it is an expired SSO token (and raises the credentials banner with its fix), a
//! refusal knows it is berth's own decision.

use std::fmt;

use crate::aws::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// AWS answered with an error, or could not be reached.
    Aws(AwsError),
    /// berth refused: read-only mode, a protected account, no audit log.
    Refused(String),
    /// Something on this machine: a file, a process, the plugin.
    Local(String),
}

impl Failure {
    /// The AWS error, if this is one.
    pub fn aws(&self) -> Option<&AwsError> {
        match self {
            Failure::Aws(e) => Some(e),
            _ => None,
        }
    }

    /// No SDK clients yet (the connection failed or is still being made).
    pub fn not_connected() -> Failure {
        Failure::Aws(AwsError::not_connected())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Aws(e) => write!(f, "{}", e.plain()),
            Failure::Refused(why) => write!(f, "refused: {why}"),
            Failure::Local(why) => f.write_str(why),
        }
    }
}

impl From<AwsError> for Failure {
    fn from(e: AwsError) -> Failure {
        Failure::Aws(e)
    }
}
