//! Plain ECS types the console shows. No SDK types leak past `aws/`.

mod cluster;
pub mod container_instance;
pub mod fleet;
pub mod history;
mod identity;
pub mod metrics;
pub mod mutation;
pub mod problems;
pub mod scaling;
mod service;
pub mod severity;
pub mod stop_cause;
pub mod targets;
mod task;
mod task_definition;
pub mod task_set;
pub mod taskdef_diff;
pub mod timeline;

pub use cluster::Cluster;
pub use container_instance::ContainerInstance;
pub use identity::Identity;
pub use service::{
    CapacityProviderItem, Deployment, DeploymentConfig, Service, ServiceEvent, family_revision,
};
pub use task::{Container, Eni, NetworkBinding, Task};
pub use task_definition::{ContainerDefinition, LogConfiguration, TaskDefinition};
pub use task_set::{DeploymentController, TaskSet};
