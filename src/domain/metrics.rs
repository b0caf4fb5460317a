//! CPU and memory utilisation of a service over the last hour (CloudWatch AWS/ECS, one
//! datapoint a minute), and how the console draws it: a sparkline of block characters whose
//! height is the percentage itself (0–100%, never rescaled to the window, so a flat 95% looks
//! full and a flat 5% looks empty), which reads the same in the mono theme as in colour.

/// The window the console reads: the last hour.
pub const METRICS_WINDOW_SECS: i64 = 3600;
/// CloudWatch's AWS/ECS resolution, and the period the console asks for.
pub const METRICS_PERIOD_SECS: i32 = 60;

/// Datapoints of one metric, oldest first: (unix seconds, percent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub points: Vec<(i64, f64)>,
}

impl Series {
    /// The newest datapoint's value.
    pub fn current(&self) -> Option<f64> {
        self.points.last().map(|p| p.1)
    }

    pub fn average(&self) -> Option<f64> {
        (!self.points.is_empty())
            .then(|| self.points.iter().map(|p| p.1).sum::<f64>() / self.points.len() as f64)
    }

    pub fn max(&self) -> Option<f64> {
        self.points.iter().map(|p| p.1).reduce(f64::max)
    }

    /// The newest `width` datapoints as block characters (fewer when there are fewer).
    pub fn sparkline(&self, width: usize) -> String {
        let skip = self.points.len().saturating_sub(width);
        self.points[skip..].iter().map(|p| block(p.1)).collect()
    }
}

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The block for `percent`: eighths of 100%, the lowest block for anything up to 12.5%.
pub fn block(percent: f64) -> char {
    let eighths = (percent.clamp(0.0, 100.0) / 12.5).ceil() as usize;
    BLOCKS[eighths.saturating_sub(1).min(7)]
}

/// One service's (or one task's) last hour.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceMetrics {
    pub cpu: Series,
    pub memory: Series,
}

/// One running task whose CPU and memory the screen shows (Container Insights with enhanced
/// observability publishes them by ClusterName, TaskDefinitionFamily and TaskId).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    pub arn: String,
    pub family: String,
    /// The task-level CPU units and MiB, when the task has them (always on Fargate): the
    /// percentages are computed from these, so only the two `*Utilized` metrics are
    /// requested. Without them the `*Reserved` metrics are requested too (four a task).
    pub cpu_units: Option<u32>,
    pub memory_mib: Option<u32>,
}

impl TaskQuery {
    /// The metrics this task costs.
    pub fn metrics(&self) -> usize {
        2 + usize::from(self.cpu_units.is_none()) + usize::from(self.memory_mib.is_none())
    }
}

/// The `containerInsights` cluster setting that publishes per-task metrics.
pub const PER_TASK_INSIGHTS: &str = "enhanced";

/// Why a service's metrics could not be read, as the screen says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsUnavailable {
    /// `cloudwatch:GetMetricData` is not allowed to this identity.
    AccessDenied,
    /// Any other failure, in one line.
    Failed(String),
}

impl std::fmt::Display for MetricsUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsUnavailable::AccessDenied => f.write_str("metrics unavailable: access denied"),
            MetricsUnavailable::Failed(m) => write!(f, "metrics unavailable: {m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_absolute_percentages() {
        assert_eq!(block(0.0), '▁');
        assert_eq!(block(12.5), '▁');
        assert_eq!(block(50.0), '▄');
        assert_eq!(block(95.0), '█');
        assert_eq!(block(250.0), '█');
        let s = Series {
            points: (0..70).map(|i| (i * 60, f64::from(i as i32))).collect(),
        };
        assert_eq!(s.sparkline(3), "▆▆▆");
        assert_eq!(s.sparkline(100).chars().count(), 70);
        assert_eq!(s.current(), Some(69.0));
        assert_eq!(s.max(), Some(69.0));
        assert_eq!(s.average(), Some(34.5));
    }
}
