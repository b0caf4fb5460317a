//! An EC2 container instance of a cluster: what `:instances` shows and what decides whether a
//! task can be placed (CPU units and memory left, the agent connected, ACTIVE or DRAINING).

/// One container instance. Resources are ECS's units: CPU units (1,024 per vCPU), MiB.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerInstance {
    pub arn: String,
    /// `i-0abc…`.
    pub ec2_instance_id: String,
    /// `m5.large` (the `ecs.instance-type` attribute).
    pub instance_type: Option<String>,
    /// The `ecs.availability-zone` attribute.
    pub availability_zone: Option<String>,
    pub agent_connected: bool,
    pub agent_version: Option<String>,
    /// ACTIVE, DRAINING, REGISTERING, ...
    pub status: String,
    pub running_tasks: i32,
    pub pending_tasks: i32,
    pub cpu_registered: i64,
    pub cpu_remaining: i64,
    pub memory_registered: i64,
    pub memory_remaining: i64,
    pub capacity_provider: Option<String>,
    pub registered_at: Option<i64>,
}

impl ContainerInstance {
    /// The id at the end of the ARN.
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }

    /// Share of memory in use, 0–100 (0 when nothing is registered).
    pub fn memory_used_pct(&self) -> i64 {
        used_pct(self.memory_registered, self.memory_remaining)
    }

    pub fn cpu_used_pct(&self) -> i64 {
        used_pct(self.cpu_registered, self.cpu_remaining)
    }

    /// Why a task needing `cpu` units and `memory` MiB would not fit here, if it would not.
    pub fn cannot_fit(&self, cpu: i64, memory: i64) -> Option<&'static str> {
        if self.status != "ACTIVE" {
            Some("not ACTIVE")
        } else if !self.agent_connected {
            Some("agent disconnected")
        } else if self.memory_remaining < memory {
            Some("insufficient memory")
        } else if self.cpu_remaining < cpu {
            Some("insufficient CPU")
        } else {
            None
        }
    }
}

fn used_pct(registered: i64, remaining: i64) -> i64 {
    if registered <= 0 {
        return 0;
    }
    ((registered - remaining.clamp(0, registered)) * 100 / registered).clamp(0, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_fit() {
        let ci = ContainerInstance {
            status: "ACTIVE".into(),
            agent_connected: true,
            cpu_registered: 2048,
            cpu_remaining: 512,
            memory_registered: 7680,
            memory_remaining: 1536,
            ..ContainerInstance::default()
        };
        assert_eq!(ci.memory_used_pct(), 80);
        assert_eq!(ci.cpu_used_pct(), 75);
        assert_eq!(ci.cannot_fit(256, 2048), Some("insufficient memory"));
        assert_eq!(ci.cannot_fit(1024, 1024), Some("insufficient CPU"));
        assert_eq!(ci.cannot_fit(256, 1024), None);
        let draining = ContainerInstance {
            status: "DRAINING".into(),
            ..ci.clone()
        };
        assert_eq!(draining.cannot_fit(1, 1), Some("not ACTIVE"));
        assert_eq!(ContainerInstance::default().memory_used_pct(), 0);
    }
}
