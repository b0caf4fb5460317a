//! What `update` asks the outside world to do. The runtime's effect runner executes these off
//! the UI task and reports back with [`super::Action`]s.

use crate::aws::AwsTarget;

/// Identifies one load so that late answers to a superseded request are ignored.
pub type RequestId = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// (Re)build the SDK clients for this target; answers `AwsConnected`/`AwsConnectFailed`.
    Connect(AwsTarget),
    /// STS GetCallerIdentity; answers `IdentityResolved`.
    ResolveIdentity,
    /// ListClusters + DescribeClusters in batches; answers `Clusters` events.
    LoadClusters { request: RequestId },
    /// Leave the program.
    Quit,
}
