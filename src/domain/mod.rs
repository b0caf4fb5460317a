//! Plain ECS types the console shows. No SDK types leak past `aws/`.

mod cluster;
pub mod history;
mod identity;
pub mod metrics;
pub mod mutation;
pub mod problems;
mod service;
pub mod severity;
pub mod stop_cause;
mod task;
mod task_definition;
pub mod task_set;
pub mod taskdef_diff;
pub mod timeline;

pub use cluster::Cluster;
pub use identity::Identity;
pub use service::{
    CapacityProviderItem, Deployment, DeploymentConfig, Service, ServiceEvent, family_revision,
};
pub use task::{Container, Eni, Task};
pub use task_definition::{ContainerDefinition, LogConfiguration, TaskDefinition};
pub use task_set::{DeploymentController, TaskSet};
