//! Scale benchmark: time to the first services row and to the full list, and API calls per
//! operation, for one cluster of N services on the sandbox, through the console's own effect
//! runner (the code path the UI uses) and the real SDK.
//!
//! Run: `cargo bench --bench scale` (add `-- --quick` for 100/1,000/2,000 services only).
//! Each case starts its own sandbox with all N services in one cluster, the given simulated
//! latency per request, and an ECS-like token bucket: 50 tokens (the burst ECS documents for
//! cluster reads), refilled at 20 per second (assumed sustained rate).

use std::time::{Duration, Instant};

use berth::app::{Action, DataEvent, Effect};
use berth::aws::AwsTarget;
use berth::runtime::EffectRunner;
use berth::sandbox::{self, SandboxOptions};

const RATE: f64 = 20.0;
const BURST: u32 = 50;

struct Outcome {
    services: usize,
    first_row: Duration,
    full_list: Duration,
    list_calls: u64,
    describe_calls: u64,
    throttled: u64,
}

async fn measure(n: usize, latency_ms: u64) -> Result<Outcome, String> {
    let opts = SandboxOptions {
        scale: Some(n),
        clusters: Some(1),
        latency_ms,
        rate: Some(RATE),
        burst: BURST,
        speed: 1e-6,
        ..SandboxOptions::default()
    };
    let handle = sandbox::start(([127, 0, 0, 1], 0).into(), opts)
        .await
        .map_err(|e| e.to_string())?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = EffectRunner::new(tx);
    runner.run(Effect::Connect(AwsTarget {
        region: Some("us-east-1".into()),
        endpoint_url: Some(handle.endpoint_url()),
        static_credentials: Some((
            sandbox::DEMO_ACCESS_KEY_ID.into(),
            sandbox::DEMO_SECRET_ACCESS_KEY.into(),
        )),
        ..AwsTarget::default()
    }));
    match rx.recv().await {
        Some(Action::AwsConnected { .. }) => {}
        other => return Err(format!("connect: {other:?}")),
    }
    // Let the bucket fill up, as it would be for a console that just started.
    tokio::time::sleep(Duration::from_secs_f64(f64::from(BURST) / RATE)).await;
    handle.reset_stats();

    let start = Instant::now();
    runner.run(Effect::LoadServices {
        request: 1,
        cluster: "prod".into(),
    });
    let mut first_row = None;
    let mut services = 0;
    loop {
        match rx.recv().await {
            Some(Action::Data { event, .. }) => match event {
                DataEvent::Services(batch) => {
                    first_row.get_or_insert_with(|| start.elapsed());
                    services += batch.len();
                }
                DataEvent::Done => break,
                DataEvent::Failed(e) => return Err(e.to_string()),
                _ => {}
            },
            Some(_) => {}
            None => return Err("runner stopped".into()),
        }
    }
    let full_list = start.elapsed();
    let stats = handle.stats();
    handle.shutdown().await;
    Ok(Outcome {
        services,
        first_row: first_row.unwrap_or(full_list),
        full_list,
        list_calls: stats.count("ecs:ListServices"),
        describe_calls: stats.count("ecs:DescribeServices"),
        throttled: stats.throttled,
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes: &[usize] = if quick {
        &[100, 1_000, 2_000]
    } else {
        &[100, 1_000, 2_000, 5_000]
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "| services | latency | first row | full list | ListServices (min) | DescribeServices (min) | throttled |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for &n in sizes {
        for latency in [0, 50] {
            match runtime.block_on(measure(n, latency)) {
                Ok(o) => println!(
                    "| {} | {latency} ms | {:.0} ms | {:.2} s | {} ({}) | {} ({}) | {} |",
                    o.services,
                    o.first_row.as_secs_f64() * 1000.0,
                    o.full_list.as_secs_f64(),
                    o.list_calls,
                    o.services.div_ceil(100),
                    o.describe_calls,
                    o.services.div_ceil(10),
                    o.throttled,
                ),
                Err(e) => println!("| {n} | {latency} ms | error: {e} |"),
            }
        }
    }
}
