//! ECS Exec with berth's built-in client against the embedded sandbox (in this process, on
//! loopback): how long from `enter` in the exec dialog (ExecuteCommand, the signed WebSocket,
//! the handshake) to the first byte of the shell's prompt, and how fast a 10 MiB `cat` comes
//! through a session (acks, ordering and the exit-status filter included).
//!
//! Run: `cargo bench --profile dev --bench exec` (the dev profile avoids a release build of
//! the SDK stack; a release build is faster still). Prints the median and 90th percentile of
//! 20 session starts and the throughput of 3 transfers.

use std::time::{Duration, Instant};

use berth::aws::ssmmessages::ChannelAccess;
use berth::aws::{self, AwsTarget, Clients};
use berth::exec::native::{Grant, channel, exit_status, shell};
use berth::sandbox::SandboxOptions;

const STARTS: usize = 20;
const TRANSFERS: usize = 3;
const TEN_MIB: usize = 10 * 1024 * 1024;

async fn exec_task(clients: &Clients) -> (String, String, String) {
    let tasks = clients
        .ecs
        .list_tasks()
        .cluster("prod")
        .service_name("checkout-api")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let arn = tasks.task_arns().first().cloned().unwrap_or_default();
    let described = clients
        .ecs
        .describe_tasks()
        .cluster("prod")
        .tasks(&arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let task = described
        .tasks()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no task"));
    let c = task
        .containers()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no container"));
    let id = arn.rsplit('/').next().unwrap_or_default().to_string();
    let target = format!("ecs:prod_{id}_{}", c.runtime_id().unwrap_or_default());
    (arn, c.name().unwrap_or_default().to_string(), target)
}

async fn open(
    clients: &Clients,
    command: &str,
    scripted: bool,
) -> (channel::Channel, Option<String>) {
    let (arn, container, target) = exec_task(clients).await;
    let wrapped = exit_status::wrap(command, scripted, false);
    let grant =
        aws::exec::execute_command(&clients.ecs, "prod", &arn, &container, &wrapped.command)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    let ch = channel::open(
        ChannelAccess::new(clients),
        Grant::from_session(grant, &target),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    (ch, wrapped.marker)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let sb = berth::sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let target = AwsTarget {
            region: Some("us-east-1".into()),
            endpoint_url: Some(sb.endpoint_url()),
            static_credentials: Some((
                berth::sandbox::DEMO_ACCESS_KEY_ID.into(),
                berth::sandbox::DEMO_SECRET_ACCESS_KEY.into(),
            )),
            ..AwsTarget::default()
        };
        let clients = aws::connect(&target)
            .await
            .unwrap_or_else(|e| panic!("{e}"));

        let mut starts = Vec::new();
        for _ in 0..STARTS {
            let t0 = Instant::now();
            let (mut ch, _) = open(&clients, "/bin/sh", false).await;
            loop {
                match ch.events.recv().await {
                    Some(channel::Event::Output(b)) if !b.is_empty() => break,
                    Some(channel::Event::Closed(_) | channel::Event::Failed(_)) | None => {
                        panic!("the session ended before its prompt")
                    }
                    Some(_) => {}
                }
            }
            starts.push(t0.elapsed());
        }
        starts.sort();
        println!(
            "exec: enter to first prompt byte: median {:.1} ms, p90 {:.1} ms ({STARTS} sessions)",
            percentile(&starts, 0.5).as_secs_f64() * 1000.0,
            percentile(&starts, 0.9).as_secs_f64() * 1000.0,
        );

        for _ in 0..TRANSFERS {
            let (ch, marker) = open(&clients, "cat /var/lib/berth/data-10m", true).await;
            let mut out = Vec::with_capacity(TEN_MIB);
            let t0 = Instant::now();
            let outcome =
                shell::scripted(ch, marker.as_deref(), tokio::io::empty(), &mut out).await;
            let took = t0.elapsed();
            assert_eq!(out.len(), TEN_MIB, "{outcome:?}");
            assert_eq!(outcome.status, Some(0));
            println!(
                "exec: 10 MiB cat through a session: {:.1} MB/s ({:.2} s)",
                TEN_MIB as f64 / took.as_secs_f64() / 1e6,
                took.as_secs_f64()
            );
        }
        sb.shutdown().await;
    });
}
