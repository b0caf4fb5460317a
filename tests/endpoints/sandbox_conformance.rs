//! Conformance of the sandbox through the real AWS SDK clients: every operation,
//! pagination, batch limits, error mapping and the sandbox's own routes.

use aws_sdk_ecs::types::{ClusterField, DesiredStatus};
use berth::sandbox::SandboxOptions;

use crate::sandbox_support::*;

#[tokio::test]
async fn ecs_clusters_list_and_describe() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let arns = all_cluster_arns(&c.ecs, 1).await;
    assert_eq!(arns.len(), 3);
    assert!(
        arns.iter()
            .any(|a| a == "arn:aws:ecs:us-east-1:123456789012:cluster/prod")
    );

    let resp = c
        .ecs
        .describe_clusters()
        .clusters("prod")
        .clusters("nope")
        .include(ClusterField::Statistics)
        .include(ClusterField::Settings)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let prod = &resp.clusters()[0];
    assert_eq!(prod.cluster_name(), Some("prod"));
    assert_eq!(prod.active_services_count(), 6);
    assert!(prod.running_tasks_count() >= 15);
    assert!(!prod.statistics().is_empty());
    assert_eq!(prod.settings()[0].value(), Some("enhanced")); // per-task metrics: enhanced observability
    assert!(
        prod.capacity_providers()
            .iter()
            .any(|p| p == "FARGATE_SPOT")
    );
    assert_eq!(resp.failures()[0].reason(), Some("MISSING"));
}

#[tokio::test]
async fn ecs_services_pagination_batch_limit_and_errors() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let paged = all_service_arns(&c.ecs, "prod", Some(4)).await;
    assert_eq!(paged.len(), 6);
    let default_page = all_service_arns(&c.ecs, "prod", None).await;
    assert_eq!(paged, default_page);
    match c
        .ecs
        .list_services()
        .cluster("prod")
        .max_results(101)
        .send()
        .await
    {
        Ok(_) => panic!("maxResults 101 accepted"),
        Err(e) => assert_eq!(code(&e), "InvalidParameterException"),
    }
    assert_describe_services_batch_limit(&c.ecs, "prod").await;
    assert_cluster_not_found(&c.ecs).await;

    let resp = c
        .ecs
        .describe_services()
        .cluster("prod")
        .services("checkout-api")
        .services(&paged[1])
        .services("ghost")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(resp.services().len(), 2);
    assert_eq!(resp.failures()[0].reason(), Some("MISSING"));
    let svc = &resp.services()[0];
    assert_eq!(svc.service_name(), Some("checkout-api"));
    assert_eq!(svc.desired_count(), 4);
    assert!(svc.created_at().is_some());
    assert!(!svc.events().is_empty());
    let dep = &svc.deployments()[0];
    assert_eq!(dep.status(), Some("PRIMARY"));
    assert_eq!(dep.rollout_state().map(|r| r.as_str()), Some("COMPLETED"));
    let cb = svc
        .deployment_configuration()
        .and_then(|d| d.deployment_circuit_breaker());
    assert!(cb.is_some_and(|cb| cb.enable()));
    let providers: Vec<&str> = svc
        .capacity_provider_strategy()
        .iter()
        .map(|c| c.capacity_provider())
        .collect();
    assert_eq!(providers, ["FARGATE", "FARGATE_SPOT"]);
    assert!(svc.enable_execute_command());

    match c
        .ecs
        .update_service()
        .cluster("prod")
        .service("ghost")
        .desired_count(1)
        .send()
        .await
    {
        Ok(_) => panic!("UpdateService on a missing service succeeded"),
        Err(e) => assert!(e.into_service_error().is_service_not_found_exception()),
    }
}

#[tokio::test]
async fn ecs_tasks_list_describe_stop() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let all = all_task_arns(&c.ecs, "prod", None, None, 5).await;
    let svc_tasks = all_task_arns(&c.ecs, "prod", Some("checkout-api"), None, 3).await;
    assert_eq!(svc_tasks.len(), 4);
    assert!(all.len() > svc_tasks.len());
    match c
        .ecs
        .list_tasks()
        .cluster("prod")
        .service_name("ghost")
        .send()
        .await
    {
        Ok(_) => panic!("ListTasks on a missing service succeeded"),
        Err(e) => assert!(e.into_service_error().is_service_not_found_exception()),
    }
    match c
        .ecs
        .describe_tasks()
        .cluster("prod")
        .set_tasks(Some((0..101).map(|i| i.to_string()).collect()))
        .send()
        .await
    {
        Ok(_) => panic!("DescribeTasks accepted 101 tasks"),
        Err(e) => assert_eq!(code(&e), "InvalidParameterException"),
    }

    let tasks = describe_tasks(&c.ecs, "prod", &all).await;
    assert_eq!(tasks.len(), all.len());
    // the services' tasks are steady; a scheduled job (group family:...) may be starting,
    // as it does every 15 virtual minutes on the clock's quarter hours
    let tasks: Vec<_> = tasks
        .into_iter()
        .filter(|t| t.group().is_some_and(|g| g.starts_with("service:")))
        .collect();
    assert!(tasks.len() >= svc_tasks.len(), "{}", tasks.len());
    let mut ips = std::collections::HashSet::new();
    for t in &tasks {
        assert_eq!(t.last_status(), Some("RUNNING"));
        assert!(
            t.availability_zone()
                .is_some_and(|az| az.starts_with("us-east-1"))
        );
        assert!(
            t.started_at().is_some() && t.pull_started_at().is_some() && t.created_at().is_some()
        );
        let ip = eni_detail(t, "privateIPv4Address").unwrap_or_default();
        assert!(ip.starts_with("10."), "ip {ip}");
        assert!(ips.insert(ip), "duplicate IP");
        for name in [
            "subnetId",
            "networkInterfaceId",
            "macAddress",
            "privateDnsName",
            "ipv6Address",
        ] {
            assert!(eni_detail(t, name).is_some(), "missing {name}");
        }
        assert!(t.containers().iter().all(|c| c.runtime_id().is_some()));
    }
    // some tasks have two containers and exec agents
    assert!(tasks.iter().any(|t| t.containers().len() == 2));
    assert!(tasks.iter().any(|t| {
        t.containers()[0]
            .managed_agents()
            .first()
            .and_then(|a| a.name())
            .is_some()
    }));

    // history: a deployment earlier in the hour left STOPPED tasks
    let stopped = all_task_arns(&c.ecs, "prod", None, Some(DesiredStatus::Stopped), 100).await;
    assert!(!stopped.is_empty(), "no stopped history");

    let victim = &svc_tasks[0];
    let resp = c
        .ecs
        .stop_task()
        .cluster("prod")
        .task(victim)
        .reason("testing the replacement")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let t = resp.task().unwrap_or_else(|| panic!("no task"));
    assert_eq!(t.desired_status(), Some("STOPPED"));
    assert_eq!(t.stopped_reason(), Some("testing the replacement"));
    assert_eq!(t.stop_code().map(|c| c.as_str()), Some("UserInitiated"));
    match c
        .ecs
        .stop_task()
        .cluster("prod")
        .task("0123456789abcdef0123456789abcdef")
        .send()
        .await
    {
        Ok(_) => panic!("StopTask on a missing task succeeded"),
        Err(e) => assert_eq!(code(&e), "InvalidParameterException"),
    }
}

#[tokio::test]
async fn ecs_task_definitions() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let r = c
            .ecs
            .list_task_definitions()
            .max_results(5)
            .set_next_token(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(r.task_definition_arns().len() <= 5);
        arns.extend(r.task_definition_arns().iter().cloned());
        token = r.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert!(arns.len() >= 26, "{}", arns.len());
    let svc = describe_service(&c.ecs, "prod", "payments-worker")
        .await
        .unwrap_or_else(|| panic!("no service"));
    let td_arn = svc.task_definition().unwrap_or_default().to_string();
    let r = c
        .ecs
        .describe_task_definition()
        .task_definition(&td_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let td = r.task_definition().unwrap_or_else(|| panic!("no td"));
    assert_eq!(td.network_mode().map(|m| m.as_str()), Some("awsvpc"));
    assert_eq!(td.container_definitions().len(), 2);
    let opts = td.container_definitions()[0]
        .log_configuration()
        .and_then(|l| l.options())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        opts.get("awslogs-group").map(String::as_str),
        Some("/ecs/prod/payments-worker")
    );
    assert_eq!(
        opts.get("awslogs-stream-prefix").map(String::as_str),
        Some("ecs")
    );
    match c
        .ecs
        .describe_task_definition()
        .task_definition("ghost:1")
        .send()
        .await
    {
        Ok(_) => panic!("unknown task definition described"),
        Err(e) => assert_eq!(code(&e), "ClientException"),
    }
}

#[tokio::test]
async fn exec_and_ssm_sessions() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let arns = all_task_arns(&c.ecs, "prod", Some("checkout-api"), None, 100).await;
    let r = c
        .ecs
        .execute_command()
        .cluster("prod")
        .task(&arns[0])
        .command("/bin/sh")
        .interactive(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let session = r.session().unwrap_or_else(|| panic!("no session"));
    assert!(
        session
            .stream_url()
            .is_some_and(|u| u.starts_with("ws://127.0.0.1:") && u.contains("/v1/data-channel/"))
    );
    assert!(session.token_value().is_some());

    let no_exec = all_task_arns(&c.ecs, "prod", Some("search-api"), None, 100).await;
    match c
        .ecs
        .execute_command()
        .cluster("prod")
        .task(&no_exec[0])
        .command("sh")
        .interactive(true)
        .send()
        .await
    {
        Ok(_) => panic!("exec on a task without exec succeeded"),
        Err(e) => assert_eq!(code(&e), "InvalidParameterException"),
    }

    let tasks = describe_tasks(&c.ecs, "prod", &arns[..1]).await;
    let t = &tasks[0];
    let id = t
        .task_arn()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let target = format!(
        "ecs:prod_{}_{}",
        id,
        t.containers()[0].runtime_id().unwrap_or_default()
    );
    let s = c
        .ssm
        .start_session()
        .target(&target)
        .document_name("AWS-StartPortForwardingSession")
        .parameters("portNumber", vec!["8080".to_string()])
        .parameters("localPortNumber", vec!["18080".to_string()])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let sid = s.session_id().unwrap_or_default().to_string();
    let active = c
        .ssm
        .describe_sessions()
        .state(aws_sdk_ssm::types::SessionState::Active)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        active
            .sessions()
            .iter()
            .any(|x| x.session_id() == Some(sid.as_str()))
    );
    c.ssm
        .terminate_session()
        .session_id(&sid)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let hist = c
        .ssm
        .describe_sessions()
        .state(aws_sdk_ssm::types::SessionState::History)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        hist.sessions()
            .iter()
            .any(|x| x.session_id() == Some(sid.as_str()))
    );
    match c
        .ssm
        .start_session()
        .target("ecs:prod_nope_nope")
        .send()
        .await
    {
        Ok(_) => panic!("session to a missing target"),
        Err(e) => assert_eq!(code(&e), "TargetNotConnected"),
    }
}

#[tokio::test]
async fn sts_and_raw_protocol_errors_and_stats() {
    let sb = start(SandboxOptions::default()).await;
    let c = clients(&sb.endpoint_url()).await;
    let id = c
        .sts
        .get_caller_identity()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(id.account(), Some("123456789012"));
    assert!(
        id.arn()
            .is_some_and(|a| a.starts_with("arn:aws:iam::123456789012:"))
    );

    let ct = ("content-type", "application/x-amz-json-1.1");
    let (status, body) = http(
        sb.addr(),
        "POST",
        "/",
        &[
            ct,
            (
                "x-amz-target",
                "AmazonEC2ContainerServiceV20141113.DeleteEverything",
            ),
        ],
        "{}",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");
    let (status, body) = http(
        sb.addr(),
        "POST",
        "/",
        &[
            ct,
            (
                "x-amz-target",
                "AmazonEC2ContainerServiceV20141113.ListClusters",
            ),
        ],
        "{not json",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("SerializationException"), "{body}");
    let (status, _) = http(
        sb.addr(),
        "POST",
        "/",
        &[ct, ("x-amz-target", "Bogus.Op")],
        "{}",
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = http(
        sb.addr(),
        "POST",
        "/",
        &[("content-type", "application/x-www-form-urlencoded")],
        "Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("<Account>123456789012</Account>"), "{body}");

    let stats = sb.stats();
    assert_eq!(stats.count("sts:GetCallerIdentity"), 2);
    assert_eq!(stats.count("ecs:DeleteEverything"), 1);
    let (status, body) = http(sb.addr(), "GET", "/_sandbox/stats", &[], "").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"sts:GetCallerIdentity\":2"), "{body}");
    let (status, _) = http(sb.addr(), "POST", "/_sandbox/stats/reset", &[], "").await;
    assert_eq!(status, 204);
    assert_eq!(sb.stats().total(), 0);

    // fault injection: expired credentials, toggled at runtime
    let (status, _) = http(
        sb.addr(),
        "POST",
        "/_sandbox/faults",
        &[("content-type", "application/json")],
        r#"{"expired_credentials":true}"#,
    )
    .await;
    assert_eq!(status, 204);
    match c.ecs.list_clusters().send().await {
        Ok(_) => panic!("expired credentials not injected"),
        Err(e) => assert_eq!(code(&e), "ExpiredTokenException"),
    }
    sb.set_faults(Default::default());
    assert!(c.ecs.list_clusters().send().await.is_ok());
    sb.shutdown().await;
}
