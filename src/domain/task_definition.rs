use std::collections::BTreeMap;

/// The parts of a task definition the console needs: where logs go, exec preconditions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskDefinition {
    pub arn: String,
    /// `family:revision`.
    pub family_revision: String,
    pub network_mode: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub containers: Vec<ContainerDefinition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    pub essential: bool,
    pub readonly_root_filesystem: bool,
    pub init_process_enabled: bool,
    /// `portMappings[].containerPort` (a port forward's default remote port).
    pub ports: Vec<u16>,
    pub log: Option<LogConfiguration>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogConfiguration {
    /// `awslogs`, `awsfirelens`, `splunk`, ...
    pub driver: String,
    /// Driver options (`awslogs-group`, `awslogs-region`, `awslogs-stream-prefix`, ...).
    pub options: BTreeMap<String, String>,
}
