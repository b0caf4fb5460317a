//! Plain ECS types the console shows. No SDK types leak past `aws/`.

mod cluster;
mod identity;

pub use cluster::Cluster;
pub use identity::Identity;
