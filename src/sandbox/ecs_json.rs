//! Wire shapes of ECS resources (field names from botocore's ecs/2014-11-13 model).

use serde_json::{Map, Value, json};

use super::model::*;
use super::sim::Sim;
use super::wire::{opt_secs, secs};

fn put(m: &mut Map<String, Value>, key: &str, v: Value) {
    if !v.is_null() {
        m.insert(key.to_string(), v);
    }
}

pub(crate) fn cluster_json(sim: &Sim, c: usize, stats: bool, settings: bool) -> Value {
    let Some(cl) = sim.clusters.get(c) else {
        return Value::Null;
    };
    let mut running = 0;
    let mut pending = 0;
    for &slot in cl.tasks_live.values() {
        match sim.task(slot).map(|t| t.last) {
            Some(TaskStatus::Running) => running += 1,
            Some(_) => pending += 1,
            None => {}
        }
    }
    let mut m = Map::new();
    put(&mut m, "clusterArn", json!(cl.arn));
    put(&mut m, "clusterName", json!(cl.name));
    put(&mut m, "status", json!("ACTIVE"));
    put(&mut m, "registeredContainerInstancesCount", json!(0));
    put(&mut m, "runningTasksCount", json!(running));
    put(&mut m, "pendingTasksCount", json!(pending));
    put(&mut m, "activeServicesCount", json!(cl.services.len()));
    put(
        &mut m,
        "capacityProviders",
        json!(["FARGATE", "FARGATE_SPOT"]),
    );
    put(
        &mut m,
        "defaultCapacityProviderStrategy",
        json!([{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]),
    );
    put(&mut m, "tags", json!([]));
    if stats {
        let stat = |name: &str, v: usize| json!({"name": name, "value": v.to_string()});
        put(
            &mut m,
            "statistics",
            json!([
                stat("runningEC2TasksCount", 0),
                stat("runningFargateTasksCount", running),
                stat("pendingEC2TasksCount", 0),
                stat("pendingFargateTasksCount", pending),
                stat("activeEC2ServiceCount", 0),
                stat("activeFargateServiceCount", cl.services.len()),
                stat("drainingEC2ServiceCount", 0),
                stat("drainingFargateServiceCount", 0),
            ]),
        );
    } else {
        put(&mut m, "statistics", json!([]));
    }
    if settings {
        let v = cl.insights;
        put(
            &mut m,
            "settings",
            json!([{"name": "containerInsights", "value": v}]),
        );
    }
    Value::Object(m)
}

/// The cluster's `configuration`: the first cluster logs exec sessions to its own group
/// (OVERRIDE), the others use DEFAULT; `staging` encrypts its sessions with the sandbox's KMS
/// key.
pub(crate) fn exec_configuration_json(sim: &Sim, c: usize) -> Value {
    let Some(cl) = sim.clusters.get(c) else {
        return Value::Null;
    };
    if cl.name == "staging" {
        json!({"executeCommandConfiguration": {
            "logging": "DEFAULT",
            "kmsKeyId": super::kms::exec_key_arn(sim),
        }})
    } else if c == 0 {
        json!({"executeCommandConfiguration": {
            "logging": "OVERRIDE",
            "logConfiguration": {
                "cloudWatchLogGroupName": format!("/ecs/exec/{}", cl.name),
                "cloudWatchEncryptionEnabled": false,
            }
        }})
    } else {
        json!({"executeCommandConfiguration": {"logging": "DEFAULT"}})
    }
}

fn capacity_json(items: &[CapacityItem]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|c| json!({"capacityProvider": c.provider, "weight": c.weight, "base": c.base}))
            .collect(),
    )
}

fn network_json(sim: &Sim, svc: &Service) -> Value {
    let Some(cl) = sim.clusters.get(svc.cluster) else {
        return Value::Null;
    };
    let subnets: Vec<&str> = cl.subnets.iter().map(|s| s.id.as_str()).collect();
    json!({"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [cl.security_group], "assignPublicIp": "DISABLED"}})
}

pub(crate) fn service_json(sim: &Sim, s: usize) -> Value {
    let mut service = ecs_service_json(sim, s);
    super::task_sets::decorate(sim, s, &mut service);
    // a service on EC2 container instances names its launch type, not a strategy
    if sim
        .services
        .get(s)
        .is_some_and(|svc| svc.capacity.is_empty())
        && let Some(m) = service.as_object_mut()
    {
        m.remove("capacityProviderStrategy");
        m.insert("launchType".into(), json!("EC2"));
    }
    service
}

fn ecs_service_json(sim: &Sim, s: usize) -> Value {
    let Some(svc) = sim.services.get(s) else {
        return Value::Null;
    };
    let cluster_arn = sim
        .clusters
        .get(svc.cluster)
        .map(|c| c.arn.clone())
        .unwrap_or_default();
    let td_arn = |td: usize| {
        sim.task_defs
            .get(td)
            .map(|d| d.arn.clone())
            .unwrap_or_default()
    };
    let mut running = 0;
    let mut pending = 0;
    let mut per_dep: std::collections::HashMap<&str, (i32, i32)> = std::collections::HashMap::new();
    for &slot in svc.tasks_live.values() {
        if let Some(t) = sim.task(slot) {
            let e = per_dep.entry(t.started_by.as_str()).or_default();
            if t.last == TaskStatus::Running {
                running += 1;
                e.0 += 1;
            } else if t.last < TaskStatus::Running {
                pending += 1;
                e.1 += 1;
            }
        }
    }
    let network = network_json(sim, svc);
    let deployments: Vec<Value> = svc
        .deployments
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (r, p) = per_dep.get(d.id.as_str()).copied().unwrap_or((0, 0));
            json!({
                "id": d.id,
                "status": if i == 0 { "PRIMARY" } else { "ACTIVE" },
                "taskDefinition": td_arn(d.task_def),
                "desiredCount": if i == 0 { d.desired } else { 0 },
                "pendingCount": p,
                "runningCount": r,
                "failedTasks": d.failed_tasks,
                "createdAt": secs(d.created_at),
                "updatedAt": secs(d.updated_at),
                "capacityProviderStrategy": capacity_json(&svc.capacity),
                "platformVersion": "1.4.0",
                "platformFamily": "Linux",
                "networkConfiguration": network,
                "rolloutState": d.rollout.as_str(),
                "rolloutStateReason": d.reason,
            })
        })
        .collect();
    let events: Vec<Value> = svc
        .events
        .iter()
        .map(|e| json!({"id": e.id, "createdAt": secs(e.at), "message": e.message}))
        .collect();
    let load_balancers: Vec<Value> = svc
        .target_group
        .iter()
        .map(|tg| {
            let td = svc
                .deployments
                .first()
                .and_then(|d| sim.task_defs.get(d.task_def));
            let port = td
                .and_then(|d| d.containers.iter().find_map(|c| c.port))
                .unwrap_or(8080);
            json!({"targetGroupArn": tg, "containerName": svc.name, "containerPort": port})
        })
        .collect();
    let primary_td = svc
        .deployments
        .first()
        .map(|d| td_arn(d.task_def))
        .unwrap_or_default();
    json!({
        "serviceArn": svc.arn,
        "serviceName": svc.name,
        "clusterArn": cluster_arn,
        "loadBalancers": load_balancers,
        "serviceRegistries": [],
        "status": "ACTIVE",
        "desiredCount": svc.desired,
        "runningCount": running,
        "pendingCount": pending,
        "capacityProviderStrategy": capacity_json(&svc.capacity),
        "platformVersion": "LATEST",
        "platformFamily": "Linux",
        "taskDefinition": primary_td,
        "deploymentConfiguration": deployment_configuration_json(svc),
        "deployments": deployments,
        "roleArn": format!("arn:aws:iam::{}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS", sim.account),
        "events": events,
        "createdAt": secs(svc.created_at),
        "placementConstraints": [],
        "placementStrategy": [],
        "networkConfiguration": network,
        "healthCheckGracePeriodSeconds": svc.grace_s,
        "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": "ECS"},
        "createdBy": format!("arn:aws:iam::{}:role/deploy-pipeline", sim.account),
        "enableECSManagedTags": true,
        "propagateTags": "NONE",
        "enableExecuteCommand": svc.exec,
        "availabilityZoneRebalancing": "ENABLED",
    })
}

pub(crate) fn task_def_json(sim: &Sim, td: usize) -> Value {
    let Some(d) = sim.task_defs.get(td) else {
        return Value::Null;
    };
    let containers: Vec<Value> = d
        .containers
        .iter()
        .map(|c| {
            let mut m = Map::new();
            put(&mut m, "name", json!(c.name));
            put(&mut m, "image", json!(c.image));
            put(&mut m, "cpu", json!(c.cpu));
            put(&mut m, "memory", json!(c.memory));
            put(&mut m, "essential", json!(c.essential));
            let ports: Vec<Value> = c
                .port
                .iter()
                .map(|p| json!({"containerPort": p, "hostPort": p, "protocol": "tcp", "name": format!("{}-{p}-tcp", c.name), "appProtocol": "http"}))
                .collect();
            put(&mut m, "portMappings", Value::Array(ports));
            let mut env = vec![json!({"name": "APP_VERSION", "value": d.version}), json!({"name": "AWS_REGION", "value": d.log_region})];
            if c.app {
                env.extend(d.environment.iter().map(|(n, v)| json!({"name": n, "value": v})));
            }
            put(&mut m, "environment", Value::Array(env));
            if c.app && !d.secrets.is_empty() {
                let secrets: Vec<Value> = d.secrets.iter().map(|(n, a)| json!({"name": n, "valueFrom": a})).collect();
                put(&mut m, "secrets", Value::Array(secrets));
            }
            put(&mut m, "mountPoints", json!([]));
            put(&mut m, "volumesFrom", json!([]));
            put(&mut m, "linuxParameters", json!({"initProcessEnabled": true}));
            if c.health_check {
                let path = if d.fault == Fault::BadHealthPath { "/healthz" } else { "/health" };
                put(
                    &mut m,
                    "healthCheck",
                    json!({"command": ["CMD-SHELL", format!("curl -fsS http://localhost:{}{path} || exit 1", c.port.unwrap_or(8080))],
                           "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 10}),
                );
            }
            put(
                &mut m,
                "logConfiguration",
                json!({"logDriver": "awslogs", "options": {
                    "awslogs-group": d.log_group,
                    "awslogs-region": d.log_region,
                    "awslogs-stream-prefix": d.log_prefix,
                    "awslogs-create-group": "true",
                }}),
            );
            Value::Object(m)
        })
        .collect();
    json!({
        "taskDefinitionArn": d.arn,
        "containerDefinitions": containers,
        "family": d.family,
        "taskRoleArn": d.task_role,
        "executionRoleArn": d.execution_role,
        "networkMode": "awsvpc",
        "revision": d.revision,
        "volumes": [],
        "status": "ACTIVE",
        "requiresAttributes": [
            {"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"},
            {"name": "ecs.capability.execution-role-awslogs"},
            {"name": "com.amazonaws.ecs.capability.task-iam-role"},
            {"name": "ecs.capability.task-eni"},
        ],
        "placementConstraints": [],
        "compatibilities": ["EC2", "FARGATE"],
        "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        "requiresCompatibilities": ["FARGATE"],
        "cpu": d.cpu.to_string(),
        "memory": d.memory.to_string(),
        "registeredAt": secs(d.registered_at),
        "registeredBy": format!("arn:aws:sts::{}:assumed-role/deploy-pipeline/codebuild", sim.account),
    })
}

pub(crate) fn task_json(sim: &Sim, slot: usize) -> Value {
    let Some(t) = sim.task(slot) else {
        return Value::Null;
    };
    let cl = sim.clusters.get(t.cluster);
    let td = sim.task_defs.get(t.task_def);
    let subnet = cl.and_then(|c| c.subnets.get(t.subnet));
    let ip = ip_string(t.ip);
    let dns = if sim.region == "us-east-1" {
        format!("ip-{}.ec2.internal", ip.replace('.', "-"))
    } else {
        format!(
            "ip-{}.{}.compute.internal",
            ip.replace('.', "-"),
            sim.region
        )
    };
    let attach_status = match t.last {
        TaskStatus::Provisioning => "PRECREATED",
        TaskStatus::Stopped => "DELETED",
        TaskStatus::Deprovisioning => "DELETING",
        _ => "ATTACHED",
    };
    let mut details = vec![
        json!({"name": "subnetId", "value": subnet.map(|s| s.id.clone()).unwrap_or_default()}),
        json!({"name": "networkInterfaceId", "value": t.eni}),
        json!({"name": "macAddress", "value": t.mac}),
        json!({"name": "privateDnsName", "value": dns}),
        json!({"name": "privateIPv4Address", "value": ip}),
    ];
    details.push(json!({"name": "ipv6Address", "value": t.ipv6}));
    let health = t.health_str(sim.now);
    let containers: Vec<Value> = t
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let def = td.and_then(|d| d.containers.get(i));
            let last = match t.last {
                TaskStatus::Provisioning | TaskStatus::Pending | TaskStatus::Activating => "PENDING",
                TaskStatus::Running | TaskStatus::Deactivating => "RUNNING",
                _ if c.runtime_id.is_none() => "STOPPED",
                TaskStatus::Stopping if c.exit_code.is_none() => "RUNNING",
                _ => "STOPPED",
            };
            let mut m = Map::new();
            put(&mut m, "containerArn", json!(format!("arn:aws:ecs:{}:{}:container/{}/{}/{}", sim.region, sim.account, cl.map(|c| c.name.as_str()).unwrap_or(""), t.id, c.id)));
            put(&mut m, "taskArn", json!(t.arn));
            put(&mut m, "name", json!(c.name));
            put(&mut m, "image", json!(def.map(|d| d.image.clone()).unwrap_or_default()));
            if c.runtime_id.is_some() {
                put(&mut m, "imageDigest", json!(format!("sha256:{:016x}{:016x}{:016x}{:016x}", super::rng::hash_str(&c.name), t.task_def, super::rng::hash_str(&t.started_by), 7)));
            }
            put(&mut m, "runtimeId", json!(c.runtime_id));
            put(&mut m, "lastStatus", json!(last));
            put(&mut m, "exitCode", json!(c.exit_code));
            put(&mut m, "reason", json!(c.reason));
            put(&mut m, "networkBindings", json!([]));
            put(&mut m, "networkInterfaces", json!([{"attachmentId": t.attachment_id, "privateIpv4Address": ip, "ipv6Address": t.ipv6}]));
            let ch = if def.is_some_and(|d| d.health_check) { health } else { "UNKNOWN" };
            put(&mut m, "healthStatus", json!(ch));
            if let Some(a) = c.agent {
                let s = match a {
                    AgentState::Pending => "PENDING",
                    AgentState::Running => "RUNNING",
                    AgentState::Stopped => "STOPPED",
                };
                let mut agent = Map::new();
                put(&mut agent, "lastStartedAt", opt_secs(c.agent_started_at));
                put(&mut agent, "name", json!("ExecuteCommandAgent"));
                put(&mut agent, "lastStatus", json!(s));
                put(&mut m, "managedAgents", json!([Value::Object(agent)]));
            }
            put(&mut m, "cpu", json!(def.map(|d| d.cpu.to_string())));
            put(&mut m, "memory", json!(def.map(|d| d.memory.to_string())));
            Value::Object(m)
        })
        .collect();
    let overrides: Vec<Value> = t
        .containers
        .iter()
        .map(|c| json!({"name": c.name}))
        .collect();
    let mut m = Map::new();
    put(
        &mut m,
        "attachments",
        json!([{"id": t.attachment_id, "type": "ElasticNetworkInterface", "status": attach_status, "details": details}]),
    );
    put(
        &mut m,
        "attributes",
        json!([{"name": "ecs.cpu-architecture", "value": "x86_64"}]),
    );
    put(
        &mut m,
        "availabilityZone",
        json!(subnet.map(|s| s.az.clone())),
    );
    match t
        .instance
        .and_then(|i| super::instances::arn_of(sim, t.cluster, i))
    {
        Some(arn) => put(&mut m, "containerInstanceArn", json!(arn)),
        None => put(&mut m, "capacityProviderName", json!(t.capacity_provider)),
    }
    put(&mut m, "clusterArn", json!(cl.map(|c| c.arn.clone())));
    if t.connectivity_at.is_some() {
        put(
            &mut m,
            "connectivity",
            json!(if t.last == TaskStatus::Stopped {
                "DISCONNECTED"
            } else {
                "CONNECTED"
            }),
        );
    }
    put(&mut m, "connectivityAt", opt_secs(t.connectivity_at));
    put(&mut m, "containers", Value::Array(containers));
    put(&mut m, "cpu", json!(td.map(|d| d.cpu.to_string())));
    put(&mut m, "createdAt", secs(t.created_at));
    put(
        &mut m,
        "desiredStatus",
        json!(if t.desired_running {
            "RUNNING"
        } else {
            "STOPPED"
        }),
    );
    put(&mut m, "enableExecuteCommand", json!(t.exec));
    put(
        &mut m,
        "executionStoppedAt",
        opt_secs(t.execution_stopped_at),
    );
    let group = t
        .service
        .and_then(|s| sim.services.get(s))
        .map(|s| format!("service:{}", s.name))
        .unwrap_or_else(|| format!("family:{}", td.map(|d| d.family.as_str()).unwrap_or("")));
    put(&mut m, "group", json!(group));
    put(&mut m, "healthStatus", json!(health));
    put(&mut m, "lastStatus", json!(t.last.as_str()));
    put(
        &mut m,
        "launchType",
        json!(if t.instance.is_some() {
            "EC2"
        } else {
            "FARGATE"
        }),
    );
    put(&mut m, "memory", json!(td.map(|d| d.memory.to_string())));
    put(
        &mut m,
        "overrides",
        json!({"containerOverrides": overrides, "inferenceAcceleratorOverrides": []}),
    );
    put(&mut m, "platformVersion", json!("1.4.0"));
    put(&mut m, "platformFamily", json!("Linux"));
    put(&mut m, "pullStartedAt", opt_secs(t.pull_started_at));
    put(&mut m, "pullStoppedAt", opt_secs(t.pull_stopped_at));
    put(&mut m, "startedAt", opt_secs(t.started_at));
    put(&mut m, "startedBy", json!(t.started_by));
    put(&mut m, "stopCode", json!(t.stop_code));
    put(&mut m, "stoppedAt", opt_secs(t.stopped_at));
    put(&mut m, "stoppedReason", json!(t.stopped_reason));
    put(&mut m, "stoppingAt", opt_secs(t.stopping_at));
    put(&mut m, "tags", json!([]));
    put(&mut m, "taskArn", json!(t.arn));
    put(
        &mut m,
        "taskDefinitionArn",
        json!(td.map(|d| d.arn.clone())),
    );
    put(&mut m, "version", json!(t.version));
    put(&mut m, "ephemeralStorage", json!({"sizeInGiB": 20}));
    Value::Object(m)
}

fn deployment_configuration_json(svc: &Service) -> Value {
    let mut v = json!({
        "deploymentCircuitBreaker": {"enable": svc.breaker, "rollback": svc.rollback},
        "maximumPercent": svc.max_pct,
        "minimumHealthyPercent": svc.min_pct,
    });
    if let Some(bg) = &svc.blue_green {
        v["strategy"] = json!("BLUE_GREEN");
        v["bakeTimeInMinutes"] = json!(bg.bake_min);
        v["lifecycleHooks"] = json!([{
            "hookTargetArn": bg.hook_arn,
            "roleArn": "arn:aws:iam::123456789012:role/ecs-lifecycle-hooks",
            "lifecycleStages": [bg.hook_stage.as_str()],
        }]);
    }
    v
}
