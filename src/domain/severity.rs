//! How bad a service event is: one rule, used by every screen that colours events (the
//! deployments pane, the events pane, the timeline), so the same event never reads as an
//! error on one screen and a warning on another.

/// Worst last, so `max` finds the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Good,
    Info,
    Warn,
    Bad,
}

/// The severity of an ECS service event, from its wording (ECS events have no level).
pub fn event_severity(message: &str) -> Severity {
    let m = message.to_ascii_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if any(&["steady state", "deployment completed"]) {
        Severity::Good
    } else if any(&[
        "rolling back",
        "rolled back",
        "fail",
        "unable",
        "unhealthy",
        "error",
    ]) {
        Severity::Bad
    } else if any(&["deregistered", "stopped", "draining"]) {
        Severity::Warn
    } else {
        Severity::Info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_event_wordings_have_one_severity() {
        for (message, want) in [
            ("(service web) has reached a steady state.", Severity::Good),
            (
                "(service web) (deployment ecs-svc/1) deployment completed.",
                Severity::Good,
            ),
            (
                "(service web) (port 8080) is unhealthy in target-group tg due to (reason Health checks failed).",
                Severity::Bad,
            ),
            (
                "(service web) was unable to place a task because no container instance met all of its requirements.",
                Severity::Bad,
            ),
            (
                "(service web) deployment ecs-svc/2 deployment failed: tasks failed to start.",
                Severity::Bad,
            ),
            (
                "(service web) rolling back to deployment ecs-svc/1.",
                Severity::Bad,
            ),
            (
                "(service web) has stopped 1 running tasks: (task 1a2b).",
                Severity::Warn,
            ),
            (
                "(service web) deregistered 1 targets in (target-group tg)",
                Severity::Warn,
            ),
            (
                "(service web) has started 2 tasks: (task 1a2b) (task 3c4d).",
                Severity::Info,
            ),
        ] {
            assert_eq!(event_severity(message), want, "{message}");
        }
    }
}
