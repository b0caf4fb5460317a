//! Target health at `--scale 2000`, through the console's reducer and effect runner: the
//! services list reads DescribeTargetHealth only for the services on screen that have load
//! balancers, once per target group per refresh interval, never for the rest of the cluster.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::collections::BTreeSet;

use berth::app::{Action, View};
use berth::sandbox::SandboxOptions;

use crate::common::console::{Console, key, loaded, type_text};
use crate::sandbox_support as sb;

const SCALE: usize = 2000;
const ROWS: u16 = 24;

/// The target groups of the services in the first `n` rows of the services view.
fn on_screen_groups(console: &Console, n: usize) -> (BTreeSet<String>, usize, usize) {
    let View::Services(v) = console.state.view() else {
        panic!("not on services")
    };
    let mut groups = BTreeSet::new();
    let mut without = 0;
    for &i in v.table.visible.iter().take(n) {
        let s = &v.data.rows[i].service;
        if s.load_balancers.is_empty() {
            without += 1;
        }
        groups.extend(
            s.load_balancers
                .iter()
                .filter_map(|lb| lb.target_group_arn.clone()),
        );
    }
    let all_with = v
        .data
        .rows
        .iter()
        .filter(|r| !r.service.load_balancers.is_empty())
        .count();
    (groups, without, all_with)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_health_is_read_for_the_services_on_screen_only() {
    let sandbox = sb::start(SandboxOptions {
        scale: Some(SCALE),
        speed: 1e-6,
        ..SandboxOptions::default()
    })
    .await;
    let mut console = Console::new(&sandbox);
    console.apply(Action::Resize {
        cols: 80,
        rows: ROWS,
    });
    console.until("connected", |s| s.session.connected).await;
    // The biggest cluster of the fleet.
    let clients = sb::clients(&sandbox.endpoint_url()).await;
    let mut biggest = (0, String::new());
    for arn in sb::all_cluster_arns(&clients.ecs, 100).await {
        let name = arn.rsplit('/').next().unwrap().to_string();
        let n = sb::all_service_arns(&clients.ecs, &name, Some(100))
            .await
            .len();
        if n > biggest.0 {
            biggest = (n, name);
        }
    }
    let (count, cluster) = biggest;
    assert!(count > 100, "only {count} services in {cluster}");

    sandbox.reset_stats();
    console.apply(Action::Command(berth::app::Command::CommandMode));
    type_text(&mut console, &format!("services {cluster}"));
    console.apply(key(crossterm::event::KeyCode::Enter));
    console.until("services loaded", loaded).await;
    let (groups, without, all_with) = on_screen_groups(&console, usize::from(ROWS));
    assert!(!groups.is_empty(), "no load-balanced service on screen");
    assert!(without > 0, "every service on screen has a load balancer");
    console
        .until("target health of the rows on screen", |s| {
            groups.iter().all(|g| s.targets.groups.contains_key(g))
        })
        .await;
    let stats = sandbox.stats();
    let calls = stats.count("elbv2:DescribeTargetHealth");
    eprintln!(
        "{cluster}: {count} services, {all_with} with load balancers; on screen {} groups, \
         {without} without; DescribeTargetHealth {calls}",
        groups.len()
    );
    // One call per target group on screen; nothing for the services without load balancers
    // or for the rest of the cluster.
    assert_eq!(calls, groups.len() as u64);
    assert!(calls <= u64::from(ROWS));
    assert!((calls as usize) < all_with);
    assert_eq!(stats.count("elbv2:DescribeTargetGroups"), 0);

    // A refresh within the interval reads no target health again.
    console.apply(Action::RefreshDue);
    console.until("refreshed", loaded).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    while let Ok(a) = console.rx.try_recv() {
        console.apply(a);
    }
    assert_eq!(sandbox.stats().count("elbv2:DescribeTargetHealth"), calls);
    sandbox.shutdown().await;
}
