//! What changed between two revisions of a task definition (issue 16's diff, its data half):
//! the fields an engineer compares at 3am, read from DescribeTaskDefinition's JSON as ECS sent
//! it, task level first, then each container by name. Secrets are compared by name and
//! `valueFrom` ARN only: their values are never read, by this or anything else in berth.
//!
//! [`diff`] returns every compared line, changed ones first (in field order), and how many
//! were the same, so a view can show the changes and collapse the rest to a count.

use serde_json::Value;

/// One compared field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `task`, or `container app`.
    pub scope: String,
    /// `memory`, `environment PAYMENTS_BASE_URL`, `image tag`, ...
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Line {
    pub fn change(&self) -> Change {
        match (&self.before, &self.after) {
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (a, b) if a == b => Change::Same,
            _ => Change::Changed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Changed,
    Same,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diff {
    /// Added, removed and changed lines, in field order.
    pub changed: Vec<Line>,
    /// Lines equal on both sides (shown collapsed as a count).
    pub same: Vec<Line>,
}

/// The `taskDefinition` object of a DescribeTaskDefinition answer, or the object itself.
fn task_definition(v: &Value) -> &Value {
    v.get("taskDefinition").unwrap_or(v)
}

/// A scalar as text (`None` when absent or null); arrays and objects as compact JSON.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// `repo:tag@digest` split into (repository, tag, digest).
fn image_parts(image: &str) -> (String, Option<String>, Option<String>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d.to_string())),
        None => (image, None),
    };
    // a tag follows the last ':' after the last '/' (a registry may have a port)
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(i) => (
            rest[..slash + i].to_string(),
            Some(rest[slash + i + 1..].to_string()),
            digest,
        ),
        None => (rest.to_string(), None, digest),
    }
}

/// Name/value pairs of an array of objects (`environment`, `secrets`), sorted by name.
fn named(v: Option<&Value>, value_key: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = v
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    let name = e.get("name")?.as_str()?.to_string();
                    Some((name, text(e.get(value_key))))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

struct Builder {
    lines: Vec<Line>,
}

impl Builder {
    fn push(&mut self, scope: &str, field: &str, before: Option<String>, after: Option<String>) {
        if before.is_none() && after.is_none() {
            return;
        }
        self.lines.push(Line {
            scope: scope.to_string(),
            field: field.to_string(),
            before,
            after,
        });
    }

    fn field(&mut self, scope: &str, name: &str, a: &Value, b: &Value, key: &str) {
        self.push(scope, name, text(a.get(key)), text(b.get(key)));
    }

    fn pairs(
        &mut self,
        scope: &str,
        prefix: &str,
        a: Vec<(String, Option<String>)>,
        b: Vec<(String, Option<String>)>,
    ) {
        let mut names: Vec<&String> = a.iter().chain(b.iter()).map(|(n, _)| n).collect();
        names.sort();
        names.dedup();
        for name in names {
            let find = |v: &Vec<(String, Option<String>)>| {
                v.iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, val)| val.clone().unwrap_or_default())
            };
            self.push(scope, &format!("{prefix} {name}"), find(&a), find(&b));
        }
    }
}

const TASK_FIELDS: &[(&str, &str)] = &[
    ("cpu", "cpu"),
    ("memory", "memory"),
    ("task role", "taskRoleArn"),
    ("execution role", "executionRoleArn"),
    ("network mode", "networkMode"),
    ("runtime platform", "runtimePlatform"),
    ("volumes", "volumes"),
    ("ephemeral storage", "ephemeralStorage"),
];

const CONTAINER_FIELDS: &[(&str, &str)] = &[
    ("command", "command"),
    ("entry point", "entryPoint"),
    ("cpu", "cpu"),
    ("memory", "memory"),
    ("memory reservation", "memoryReservation"),
    ("port mappings", "portMappings"),
    ("health check", "healthCheck"),
    ("log configuration", "logConfiguration"),
    ("ulimits", "ulimits"),
    ("read-only root filesystem", "readonlyRootFilesystem"),
    ("depends on", "dependsOn"),
    ("essential", "essential"),
];

/// Compare revision `old` with `new` (DescribeTaskDefinition answers or their
/// `taskDefinition` objects).
pub fn diff(old: &Value, new: &Value) -> Diff {
    let (a, b) = (task_definition(old), task_definition(new));
    let mut out = Builder { lines: Vec::new() };
    for (name, key) in TASK_FIELDS {
        out.field("task", name, a, b, key);
    }
    let containers = |v: &Value| -> Vec<Value> {
        v.get("containerDefinitions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (ca, cb) = (containers(a), containers(b));
    let mut names: Vec<String> = Vec::new();
    for c in ca.iter().chain(cb.iter()) {
        if let Some(n) = c.get("name").and_then(Value::as_str)
            && !names.iter().any(|x| x == n)
        {
            names.push(n.to_string());
        }
    }
    for name in names {
        let scope = format!("container {name}");
        let find = |v: &[Value]| {
            v.iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(name.as_str()))
                .cloned()
        };
        let (x, y) = match (find(&ca), find(&cb)) {
            (Some(x), Some(y)) => (x, y),
            (x, y) => {
                // a container added or removed: one line
                let image = |c: &Option<Value>| c.as_ref().and_then(|c| text(c.get("image")));
                out.push(&scope, "container", image(&x), image(&y));
                continue;
            }
        };
        let image = |c: &Value| text(c.get("image")).map(|i| image_parts(&i));
        match (image(&x), image(&y)) {
            (Some((ra, ta, da)), Some((rb, tb, db))) => {
                out.push(&scope, "image repository", Some(ra), Some(rb));
                out.push(&scope, "image tag", ta, tb);
                out.push(&scope, "image digest", da, db);
            }
            (ia, ib) => out.push(
                &scope,
                "image",
                ia.map(|(r, _, _)| r),
                ib.map(|(r, _, _)| r),
            ),
        }
        out.pairs(
            &scope,
            "environment",
            named(x.get("environment"), "value"),
            named(y.get("environment"), "value"),
        );
        // names and ARNs only: a secret's value is never read
        out.pairs(
            &scope,
            "secret",
            named(x.get("secrets"), "valueFrom"),
            named(y.get("secrets"), "valueFrom"),
        );
        for (field, key) in CONTAINER_FIELDS {
            out.field(&scope, field, &x, &y, key);
        }
    }
    let (changed, same) = out
        .lines
        .into_iter()
        .partition(|l| l.change() != Change::Same);
    Diff { changed, same }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn td(rev: u32, image: &str, env: Value, memory: &str) -> Value {
        json!({"taskDefinition": {
            "family": "checkout-api", "revision": rev, "cpu": "512", "memory": memory,
            "networkMode": "awsvpc",
            "taskRoleArn": "arn:aws:iam::1:role/checkout",
            "containerDefinitions": [{
                "name": "app", "image": image, "essential": true,
                "environment": env,
                "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbC"}],
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "healthCheck": {"command": ["CMD-SHELL", "curl -f localhost:8080/healthz"], "interval": 30}
            }]
        }})
    }

    #[test]
    fn the_bad_deploy_shows_the_removed_variable_and_the_new_tag_first() {
        let old = td(
            42,
            "1.dkr.ecr.eu-west-1.amazonaws.com/checkout:v42",
            json!([{"name": "PAYMENTS_BASE_URL", "value": "https://payments.internal"},
                   {"name": "LOG_LEVEL", "value": "info"}]),
            "1024",
        );
        let new = td(
            43,
            "1.dkr.ecr.eu-west-1.amazonaws.com/checkout:v43",
            json!([{"name": "LOG_LEVEL", "value": "info"}]),
            "1024",
        );
        let d = diff(&old, &new);
        let shown: Vec<(String, Change)> = d
            .changed
            .iter()
            .map(|l| (format!("{} {}", l.scope, l.field), l.change()))
            .collect();
        assert_eq!(
            shown,
            [
                ("container app image tag".to_string(), Change::Changed),
                (
                    "container app environment PAYMENTS_BASE_URL".to_string(),
                    Change::Removed
                ),
            ]
        );
        let removed = &d.changed[1];
        assert_eq!(removed.before.as_deref(), Some("https://payments.internal"));
        assert_eq!(d.changed[0].before.as_deref(), Some("v42"));
        assert_eq!(d.changed[0].after.as_deref(), Some("v43"));
        // everything else is counted, not lost
        assert!(d.same.iter().any(|l| l.field == "memory"));
        assert!(d.same.iter().any(|l| l.field == "secret DB_PASSWORD"));
        assert!(d.same.iter().any(|l| l.field == "health check"));
    }

    #[test]
    fn secrets_compare_by_arn_only_and_containers_come_and_go() {
        let mut old = td(1, "nginx:1.27", json!([]), "512");
        let mut new = td(2, "nginx:1.27", json!([]), "1024");
        new["taskDefinition"]["containerDefinitions"][0]["secrets"][0]["valueFrom"] =
            json!("arn:aws:secretsmanager:eu-west-1:1:secret:db-XyZ");
        new["taskDefinition"]["containerDefinitions"]
            .as_array_mut()
            .unwrap_or_else(|| panic!("containers"))
            .push(json!({"name": "envoy", "image": "envoyproxy/envoy:v1.31"}));
        old["taskDefinition"]["ephemeralStorage"] = json!({"sizeInGiB": 21});
        let d = diff(&old, &new);
        let by = |f: &str| d.changed.iter().find(|l| l.field == f).cloned();
        let secret = by("secret DB_PASSWORD").unwrap_or_else(|| panic!("{d:?}"));
        assert_eq!(secret.change(), Change::Changed);
        assert!(
            secret
                .after
                .as_deref()
                .is_some_and(|a| a.ends_with("db-XyZ"))
        );
        let memory = by("memory").unwrap_or_else(|| panic!("{d:?}"));
        assert_eq!(
            (memory.scope.as_str(), memory.after.as_deref()),
            ("task", Some("1024"))
        );
        let envoy = by("container").unwrap_or_else(|| panic!("{d:?}"));
        assert_eq!(envoy.scope, "container envoy");
        assert_eq!(envoy.change(), Change::Added);
        let storage = by("ephemeral storage").unwrap_or_else(|| panic!("{d:?}"));
        assert_eq!(storage.change(), Change::Removed);
    }

    #[test]
    fn image_references_split_into_repository_tag_and_digest() {
        assert_eq!(
            image_parts("registry:5000/team/app:v2@sha256:abc"),
            (
                "registry:5000/team/app".to_string(),
                Some("v2".to_string()),
                Some("sha256:abc".to_string())
            )
        );
        assert_eq!(
            image_parts("registry:5000/team/app"),
            ("registry:5000/team/app".to_string(), None, None)
        );
        assert_eq!(image_parts("nginx"), ("nginx".to_string(), None, None));
    }

    #[test]
    fn identical_revisions_have_no_changes_and_garbage_is_not_a_panic() {
        let a = td(1, "nginx:1", json!([{"name": "A", "value": "1"}]), "512");
        let d = diff(&a, &a);
        assert!(d.changed.is_empty(), "{d:?}");
        assert!(d.same.len() >= 8, "{d:?}");
        let d = diff(&json!(null), &json!({"taskDefinition": 7}));
        assert!(d.changed.is_empty() && d.same.is_empty());
        let d = diff(&json!({"containerDefinitions": "x"}), &a);
        assert!(!d.changed.is_empty());
    }
}
