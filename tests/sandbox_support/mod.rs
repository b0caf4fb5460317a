//! Shared helpers for the sandbox tests: SDK clients for any endpoint URL, a raw HTTP
//! helper for the `/_sandbox` routes, polling, and backend-agnostic ECS assertions.
#![allow(dead_code)]

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::Credentials;
use berth::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY, SandboxHandle, SandboxOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub async fn start(opts: SandboxOptions) -> SandboxHandle {
    match berth::sandbox::start(([127, 0, 0, 1], 0).into(), opts).await {
        Ok(h) => h,
        Err(e) => panic!("sandbox failed to start: {e}"),
    }
}

pub async fn sdk_config(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            DEMO_ACCESS_KEY_ID,
            DEMO_SECRET_ACCESS_KEY,
            None,
            None,
            "sandbox",
        ))
        .load()
        .await
}

pub struct Clients {
    pub ecs: aws_sdk_ecs::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub sts: aws_sdk_sts::Client,
}

pub async fn clients(url: &str) -> Clients {
    let cfg = sdk_config(url).await;
    let logs_cfg = aws_sdk_cloudwatchlogs::config::Builder::from(&cfg)
        .interceptor(berth::sandbox::strip_stream_host_prefix_interceptor())
        .build();
    Clients {
        ecs: aws_sdk_ecs::Client::new(&cfg),
        logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs_cfg),
        ssm: aws_sdk_ssm::Client::new(&cfg),
        sts: aws_sdk_sts::Client::new(&cfg),
    }
}

/// A minimal HTTP/1.1 request over a fresh connection: (status, body).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = match tokio::net::TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => panic!("connect: {e}"),
    };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    let _ = stream.write_all(req.as_bytes()).await;
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Poll `check` up to `attempts` times, sleeping `every` between tries.
pub async fn poll<T, F, Fut>(attempts: usize, every: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..attempts {
        if let Some(v) = check().await {
            return Some(v);
        }
        tokio::time::sleep(every).await;
    }
    None
}

pub fn code<E: aws_sdk_ecs::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("").to_string()
}

// ----- backend-agnostic ECS assertions (usable against moto too) --------------------------

/// Walk ListClusters with a page size and return every ARN.
pub async fn all_cluster_arns(ecs: &aws_sdk_ecs::Client, page: i32) -> Vec<String> {
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..1000 {
        let resp = match ecs
            .list_clusters()
            .max_results(page)
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => panic!("ListClusters: {e:?}"),
        };
        let arns = resp.cluster_arns();
        assert!(arns.len() <= page as usize, "page larger than maxResults");
        out.extend(arns.iter().cloned());
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    out
}

pub async fn all_service_arns(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    page: Option<i32>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..1000 {
        let resp = match ecs
            .list_services()
            .cluster(cluster)
            .set_max_results(page)
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => panic!("ListServices: {e:?}"),
        };
        assert!(resp.service_arns().len() <= page.unwrap_or(10) as usize);
        out.extend(resp.service_arns().iter().cloned());
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    out
}

pub async fn all_task_arns(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: Option<&str>,
    status: Option<aws_sdk_ecs::types::DesiredStatus>,
    page: i32,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..10_000 {
        let resp = match ecs
            .list_tasks()
            .cluster(cluster)
            .set_service_name(service.map(str::to_string))
            .set_desired_status(status.clone())
            .max_results(page)
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => panic!("ListTasks: {e:?}"),
        };
        out.extend(resp.task_arns().iter().cloned());
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    out
}

pub async fn describe_service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
) -> Option<aws_sdk_ecs::types::Service> {
    let resp = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .ok()?;
    resp.services().first().cloned()
}

pub async fn describe_tasks(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    arns: &[String],
) -> Vec<aws_sdk_ecs::types::Task> {
    let mut out = Vec::new();
    for chunk in arns.chunks(100) {
        match ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
        {
            Ok(r) => out.extend(r.tasks().iter().cloned()),
            Err(e) => panic!("DescribeTasks: {e:?}"),
        }
    }
    out
}

pub fn eni_detail(task: &aws_sdk_ecs::types::Task, name: &str) -> Option<String> {
    task.attachments()
        .iter()
        .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
        .flat_map(|a| a.details())
        .find(|d| d.name() == Some(name))
        .and_then(|d| d.value().map(str::to_string))
}

/// DescribeServices with 11 names must be rejected with InvalidParameterException.
pub async fn assert_describe_services_batch_limit(ecs: &aws_sdk_ecs::Client, cluster: &str) {
    let names: Vec<String> = (0..11).map(|i| format!("svc-{i}")).collect();
    match ecs
        .describe_services()
        .cluster(cluster)
        .set_services(Some(names))
        .send()
        .await
    {
        Ok(_) => panic!("DescribeServices accepted 11 services"),
        Err(e) => assert_eq!(code(&e), "InvalidParameterException"),
    }
}

/// An unknown cluster surfaces as the SDK's typed ClusterNotFoundException.
pub async fn assert_cluster_not_found(ecs: &aws_sdk_ecs::Client) {
    match ecs.list_services().cluster("no-such-cluster").send().await {
        Ok(_) => panic!("ListServices on a missing cluster succeeded"),
        Err(e) => {
            let se = e.into_service_error();
            assert!(se.is_cluster_not_found_exception(), "got {se:?}");
        }
    }
}
