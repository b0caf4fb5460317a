//! Field-by-field checks that berth's domain types say what the API said. The expected side is
//! read straight from the SDK's own types of an independent call, never from berth code.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use aws_sdk_ecs::types as sdk;
use aws_smithy_types::DateTime;
use berth::domain::{Service, Task, TaskDefinition};

fn secs(t: Option<&DateTime>) -> Option<i64> {
    t.map(|t| t.secs())
}

fn s(v: Option<&str>) -> Option<String> {
    v.map(str::to_string)
}

/// `arn:...:task-definition/web:3` -> `web:3`, spelled out here rather than borrowed.
fn td_short(arn: Option<&str>) -> String {
    let arn = arn.unwrap_or("");
    match arn.split_once("task-definition/") {
        Some((_, rest)) => rest.to_string(),
        None => arn.to_string(),
    }
}

pub fn assert_service_matches(mine: &Service, api: &sdk::Service) {
    let who = api.service_name().unwrap_or("?");
    assert_eq!(Some(mine.arn.as_str()), api.service_arn(), "{who}: arn");
    assert_eq!(Some(mine.name.as_str()), api.service_name(), "{who}: name");
    assert_eq!(Some(mine.cluster_arn.as_str()), api.cluster_arn(), "{who}");
    assert_eq!(Some(mine.status.as_str()), api.status(), "{who}: status");
    assert_eq!(mine.desired, api.desired_count(), "{who}: desired");
    assert_eq!(mine.running, api.running_count(), "{who}: running");
    assert_eq!(mine.pending, api.pending_count(), "{who}: pending");
    assert_eq!(
        mine.task_definition,
        td_short(api.task_definition()),
        "{who}"
    );
    assert_eq!(
        mine.launch_type,
        api.launch_type().map(|l| l.as_str().to_string()),
        "{who}: launch type"
    );
    let mine_cp: Vec<(&str, i32, i32)> = mine
        .capacity_providers
        .iter()
        .map(|c| (c.provider.as_str(), c.weight, c.base))
        .collect();
    let api_cp: Vec<(&str, i32, i32)> = api
        .capacity_provider_strategy()
        .iter()
        .map(|c| (c.capacity_provider(), c.weight(), c.base()))
        .collect();
    assert_eq!(mine_cp, api_cp, "{who}: capacity provider strategy");
    assert_eq!(mine.exec_enabled, api.enable_execute_command(), "{who}");
    let dc = api.deployment_configuration();
    let cb = dc.and_then(|d| d.deployment_circuit_breaker());
    assert_eq!(
        mine.deployment_config.minimum_healthy_percent,
        dc.and_then(|d| d.minimum_healthy_percent()),
        "{who}: min%"
    );
    assert_eq!(
        mine.deployment_config.maximum_percent,
        dc.and_then(|d| d.maximum_percent()),
        "{who}: max%"
    );
    assert_eq!(
        mine.deployment_config.circuit_breaker_enabled,
        cb.is_some_and(|c| c.enable()),
        "{who}: breaker"
    );
    assert_eq!(
        mine.deployment_config.circuit_breaker_rollback,
        cb.is_some_and(|c| c.rollback()),
        "{who}: rollback"
    );
    assert_eq!(
        mine.deployments.len(),
        api.deployments().len(),
        "{who}: deployments"
    );
    for (m, a) in mine.deployments.iter().zip(api.deployments()) {
        assert_eq!(Some(m.id.as_str()), a.id(), "{who}: deployment id");
        assert_eq!(Some(m.status.as_str()), a.status(), "{who}: {}", m.id);
        assert_eq!(
            m.rollout_state,
            a.rollout_state().map(|r| r.as_str().to_string()),
            "{who}: {} rolloutState",
            m.id
        );
        assert_eq!(m.rollout_state_reason, s(a.rollout_state_reason()), "{who}");
        assert_eq!(m.desired, a.desired_count(), "{who}: {} desired", m.id);
        assert_eq!(m.pending, a.pending_count(), "{who}: {} pending", m.id);
        assert_eq!(m.running, a.running_count(), "{who}: {} running", m.id);
        assert_eq!(m.failed_tasks, a.failed_tasks(), "{who}: {} failed", m.id);
        assert_eq!(m.task_definition, td_short(a.task_definition()), "{who}");
        assert_eq!(
            m.launch_type,
            a.launch_type().map(|l| l.as_str().to_string())
        );
        assert_eq!(m.created_at, secs(a.created_at()), "{who}: created");
        assert_eq!(m.updated_at, secs(a.updated_at()), "{who}: updated");
    }
    assert_eq!(mine.events.len(), api.events().len(), "{who}: events");
    for (m, a) in mine.events.iter().zip(api.events()) {
        assert_eq!(Some(m.id.as_str()), a.id(), "{who}: event id");
        assert_eq!(Some(m.message.as_str()), a.message(), "{who}: event");
        assert_eq!(m.created_at, secs(a.created_at()), "{who}: event time");
    }
    assert_eq!(mine.created_at, secs(api.created_at()), "{who}: createdAt");
    assert_eq!(
        mine.health_check_grace_period,
        api.health_check_grace_period_seconds()
    );
    assert_eq!(mine.platform_version, s(api.platform_version()));
    let subnets: Vec<String> = api
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .map(|v| v.subnets().to_vec())
        .unwrap_or_default();
    assert_eq!(mine.subnets, subnets, "{who}: subnets");
}

/// The value of an ENI attachment detail, read from the SDK type.
pub fn eni_detail(task: &sdk::Task, name: &str) -> Option<String> {
    task.attachments()
        .iter()
        .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
        .flat_map(|a| a.details())
        .find(|d| d.name() == Some(name))
        .and_then(|d| d.value().map(str::to_string))
}

pub fn assert_task_matches(mine: &Task, api: &sdk::Task) {
    let who = api.task_arn().unwrap_or("?");
    assert_eq!(Some(mine.arn.as_str()), api.task_arn());
    assert!(
        who.ends_with(&format!("/{}", mine.id)),
        "{who}: id {}",
        mine.id
    );
    assert_eq!(Some(mine.cluster_arn.as_str()), api.cluster_arn(), "{who}");
    assert_eq!(mine.group, s(api.group()), "{who}: group");
    assert_eq!(Some(mine.last_status.as_str()), api.last_status(), "{who}");
    assert_eq!(Some(mine.desired_status.as_str()), api.desired_status());
    assert_eq!(
        mine.health,
        api.health_status().map(|h| h.as_str().to_string()),
        "{who}: health"
    );
    assert_eq!(
        mine.task_definition,
        td_short(api.task_definition_arn()),
        "{who}"
    );
    assert_eq!(
        mine.launch_type,
        api.launch_type().map(|l| l.as_str().to_string())
    );
    assert_eq!(mine.capacity_provider, s(api.capacity_provider_name()));
    assert_eq!(mine.availability_zone, s(api.availability_zone()), "{who}");
    assert_eq!(mine.platform_version, s(api.platform_version()));
    assert_eq!(mine.cpu, s(api.cpu()), "{who}: cpu");
    assert_eq!(mine.memory, s(api.memory()), "{who}: memory");
    assert_eq!(mine.exec_enabled, api.enable_execute_command(), "{who}");
    assert_eq!(
        mine.stop_code,
        api.stop_code().map(|c| c.as_str().to_string()),
        "{who}: stopCode"
    );
    assert_eq!(
        mine.stopped_reason,
        s(api.stopped_reason()),
        "{who}: stoppedReason"
    );
    assert_eq!(mine.started_by, s(api.started_by()), "{who}: startedBy");
    assert_eq!(mine.created_at, secs(api.created_at()), "{who}: createdAt");
    assert_eq!(mine.pull_started_at, secs(api.pull_started_at()), "{who}");
    assert_eq!(mine.pull_stopped_at, secs(api.pull_stopped_at()), "{who}");
    assert_eq!(mine.started_at, secs(api.started_at()), "{who}: startedAt");
    assert_eq!(mine.stopping_at, secs(api.stopping_at()), "{who}");
    assert_eq!(mine.stopped_at, secs(api.stopped_at()), "{who}: stoppedAt");

    assert_eq!(mine.containers.len(), api.containers().len(), "{who}");
    for (m, a) in mine.containers.iter().zip(api.containers()) {
        let name = a.name().unwrap_or("?");
        assert_eq!(Some(m.name.as_str()), a.name(), "{who}: container");
        assert_eq!(m.image, s(a.image()), "{who}/{name}: image");
        assert_eq!(m.last_status, s(a.last_status()), "{who}/{name}");
        assert_eq!(m.exit_code, a.exit_code(), "{who}/{name}: exit code");
        assert_eq!(m.reason, s(a.reason()), "{who}/{name}: reason");
        assert_eq!(
            m.health,
            a.health_status().map(|h| h.as_str().to_string()),
            "{who}/{name}: health"
        );
        assert_eq!(m.runtime_id, s(a.runtime_id()), "{who}/{name}: runtimeId");
        let agent = a
            .managed_agents()
            .iter()
            .find(|g| g.name().map(|n| n.as_str()) == Some("ExecuteCommandAgent"))
            .and_then(|g| s(g.last_status()));
        assert_eq!(m.exec_agent_status, agent, "{who}/{name}: exec agent");
    }

    let api_enis: Vec<&sdk::Attachment> = api
        .attachments()
        .iter()
        .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
        .collect();
    assert_eq!(mine.enis.len(), api_enis.len(), "{who}: ENIs");
    if let Some(eni) = mine.enis.first() {
        assert_eq!(Some(eni.attachment_id.as_str()), api_enis[0].id());
        assert_eq!(eni.status, s(api_enis[0].status()), "{who}: ENI status");
        assert_eq!(eni.subnet_id, eni_detail(api, "subnetId"), "{who}");
        assert_eq!(eni.eni_id, eni_detail(api, "networkInterfaceId"), "{who}");
        assert_eq!(eni.mac, eni_detail(api, "macAddress"), "{who}: MAC");
        assert_eq!(eni.private_dns, eni_detail(api, "privateDnsName"), "{who}");
        assert_eq!(
            eni.private_ipv4,
            eni_detail(api, "privateIPv4Address"),
            "{who}: IPv4"
        );
        assert_eq!(eni.ipv6, eni_detail(api, "ipv6Address"), "{who}: IPv6");
    }
    assert_eq!(
        mine.private_ip().map(str::to_string),
        eni_detail(api, "privateIPv4Address")
    );

    // The raw view is the task object from the response body: it parses, names this task,
    // and carries what the SDK read (the ENI's IP inside `attachments`).
    let raw: serde_json::Value = serde_json::from_str(&mine.raw_json)
        .unwrap_or_else(|e| panic!("{who}: raw_json is not JSON ({e}): {:?}", mine.raw_json));
    assert_eq!(
        raw["taskArn"].as_str(),
        api.task_arn(),
        "{who}: raw taskArn"
    );
    assert_eq!(raw["lastStatus"].as_str(), api.last_status(), "{who}: raw");
    if let Some(ip) = eni_detail(api, "privateIPv4Address") {
        let attachments = raw["attachments"].to_string();
        assert!(
            attachments.contains(&ip),
            "{who}: raw attachments lack {ip}"
        );
    }
    assert!(
        mine.raw_json.contains('\n'),
        "{who}: raw_json is not pretty"
    );
}

pub fn assert_task_definition_matches(mine: &TaskDefinition, api: &sdk::TaskDefinition) {
    assert_eq!(Some(mine.arn.as_str()), api.task_definition_arn());
    assert_eq!(
        mine.family_revision,
        format!("{}:{}", api.family().unwrap_or(""), api.revision())
    );
    assert_eq!(
        mine.network_mode,
        api.network_mode().map(|m| m.as_str().to_string())
    );
    assert_eq!(mine.cpu, s(api.cpu()));
    assert_eq!(mine.memory, s(api.memory()));
    assert_eq!(mine.task_role_arn, s(api.task_role_arn()));
    assert_eq!(mine.execution_role_arn, s(api.execution_role_arn()));
    assert_eq!(mine.containers.len(), api.container_definitions().len());
    for (m, a) in mine.containers.iter().zip(api.container_definitions()) {
        assert_eq!(Some(m.name.as_str()), a.name());
        assert_eq!(Some(m.image.as_str()), a.image());
        assert_eq!(m.essential, a.essential().unwrap_or(true), "{}", m.name);
        assert_eq!(
            m.readonly_root_filesystem,
            a.readonly_root_filesystem() == Some(true)
        );
        assert_eq!(
            m.init_process_enabled,
            a.linux_parameters().and_then(|p| p.init_process_enabled()) == Some(true),
            "{}: initProcessEnabled",
            m.name
        );
        let api_log = a.log_configuration().map(|l| {
            let options: BTreeMap<String, String> = l
                .options()
                .map(|o| o.clone().into_iter().collect())
                .unwrap_or_default();
            (l.log_driver().as_str().to_string(), options)
        });
        let mine_log = m
            .log
            .as_ref()
            .map(|l| (l.driver.clone(), l.options.clone()));
        assert_eq!(mine_log, api_log, "{}: logConfiguration", m.name);
    }
}
