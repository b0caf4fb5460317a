//! Many accounts and regions behind one sandbox endpoint (#18), through the real SDK: the
//! access key id picks the account and the client's region the fleet, and refused accounts
//! fail with the error codes AWS sends, in each wire protocol.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::collections::BTreeSet;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::Credentials;
use berth::sandbox::{
    AccountBehaviour, DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY, Faults, SandboxAccount,
    SandboxHandle, SandboxOptions, generated_accounts,
};

use crate::sandbox_support as sb;

const ALPHA: &str = "AKIABERTHALPHA000001";
const BETA: &str = "AKIABERTHBETA0000002";
const EXPIRED: &str = "AKIABERTHEXPIRED0003";
const DENIED: &str = "AKIABERTHDENIED00004";
const DISABLED: &str = "AKIABERTHOPTIN000005";

fn accounts() -> Vec<SandboxAccount> {
    let both = ["us-east-1", "eu-west-1"];
    vec![
        SandboxAccount::new("alpha", "111111111111", ALPHA, &both),
        SandboxAccount::new("beta", "222222222222", BETA, &both),
        SandboxAccount {
            behaviour: AccountBehaviour::ExpiredCredentials,
            ..SandboxAccount::new("expired", "333333333333", EXPIRED, &["us-east-1"])
        },
        SandboxAccount {
            behaviour: AccountBehaviour::Denied,
            ..SandboxAccount::new("denied", "444444444444", DENIED, &["us-east-1"])
        },
        SandboxAccount {
            behaviour: AccountBehaviour::RegionsDisabled(vec!["eu-west-1".into()]),
            ..SandboxAccount::new("optin", "555555555555", DISABLED, &both)
        },
    ]
}

async fn start(accounts: Vec<SandboxAccount>) -> SandboxHandle {
    sb::start(SandboxOptions {
        accounts,
        // the fleets hold still between calls
        speed: 1e-6,
        ..SandboxOptions::default()
    })
    .await
}

async fn config(url: &str, key: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(
            key,
            DEMO_SECRET_ACCESS_KEY,
            None,
            None,
            "sandbox",
        ))
        .load()
        .await
}

async fn ecs(url: &str, key: &str, region: &str) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&config(url, key, region).await)
}

async fn sts(url: &str, key: &str, region: &str) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&config(url, key, region).await)
}

async fn cluster_arns(url: &str, key: &str, region: &str) -> Vec<String> {
    let resp = ecs(url, key, region)
        .await
        .list_clusters()
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key} {region}: {e:?}"));
    resp.cluster_arns().to_vec()
}

#[tokio::test]
async fn each_account_and_region_has_its_own_fleet() {
    let sandbox = start(accounts()).await;
    let url = sandbox.endpoint_url();

    let mut service_sets = BTreeSet::new();
    for (key, account) in [(ALPHA, "111111111111"), (BETA, "222222222222")] {
        for region in ["us-east-1", "eu-west-1"] {
            let clusters = cluster_arns(&url, key, region).await;
            assert!(!clusters.is_empty(), "{key} {region}");
            let prefix = format!("arn:aws:ecs:{region}:{account}:cluster/");
            assert!(
                clusters.iter().all(|arn| arn.starts_with(&prefix)),
                "{key} {region}: {clusters:?}"
            );
            let services = sb::all_service_arns(&ecs(&url, key, region).await, "prod", None).await;
            assert!(!services.is_empty(), "{key} {region}: no services in prod");
            let prefix = format!("arn:aws:ecs:{region}:{account}:service/prod/");
            assert!(services.iter().all(|arn| arn.starts_with(&prefix)));
            let names: BTreeSet<String> = services
                .iter()
                .map(|arn| arn.trim_start_matches(&prefix).to_string())
                .collect();
            service_sets.insert(names);

            let who = sts(&url, key, region)
                .await
                .get_caller_identity()
                .send()
                .await
                .unwrap();
            assert_eq!(who.account(), Some(account), "{key} {region}");
        }
    }
    // fleet sizes vary by seed, so the tenants do not all list the same services
    assert!(service_sets.len() > 1, "{service_sets:?}");

    // the demo key still reaches the default fleet, in any region
    let demo = cluster_arns(&url, DEMO_ACCESS_KEY_ID, "eu-west-1").await;
    assert!(
        demo.iter()
            .all(|arn| arn.starts_with("arn:aws:ecs:us-east-1:123456789012:cluster/")),
        "{demo:?}"
    );
    let who = sts(&url, DEMO_ACCESS_KEY_ID, "us-east-1")
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some("123456789012"));
}

#[tokio::test]
async fn refused_accounts_fail_as_aws_does() {
    let sandbox = start(accounts()).await;
    let url = sandbox.endpoint_url();

    // expired: every call, STS included (JSON 1.1 and query)
    let err = ecs(&url, EXPIRED, "us-east-1")
        .await
        .list_clusters()
        .send()
        .await
        .unwrap_err();
    assert_eq!(sb::code(&err), "ExpiredTokenException");
    let err = sts(&url, EXPIRED, "us-east-1")
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(sb::code(&err), "ExpiredTokenException");

    // denied: ECS refuses and names the action; STS answers the account
    let err = ecs(&url, DENIED, "us-east-1")
        .await
        .list_clusters()
        .send()
        .await
        .unwrap_err();
    assert_eq!(sb::code(&err), "AccessDeniedException");
    let message = aws_sdk_ecs::error::ProvideErrorMetadata::message(&err).unwrap_or("");
    assert!(message.contains("ecs:ListClusters"), "{message}");
    assert!(message.contains("444444444444"), "{message}");
    let who = sts(&url, DENIED, "us-east-1")
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some("444444444444"));

    // a region the account has not enabled, and one it does not use
    for (key, region) in [(DISABLED, "eu-west-1"), (ALPHA, "ap-southeast-2")] {
        let err = ecs(&url, key, region)
            .await
            .list_clusters()
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            sb::code(&err),
            "UnrecognizedClientException",
            "{key} {region}"
        );
    }
    // the enabled region of the same account works
    assert!(!cluster_arns(&url, DISABLED, "us-east-1").await.is_empty());

    // an access key id nobody issued, over JSON 1.1, query and RPC v2 CBOR
    let err = ecs(&url, "AKIANOSUCHKEY0000000", "us-east-1")
        .await
        .list_clusters()
        .send()
        .await
        .unwrap_err();
    assert_eq!(sb::code(&err), "UnrecognizedClientException");
    let err = sts(&url, "AKIANOSUCHKEY0000000", "us-east-1")
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(sb::code(&err), "UnrecognizedClientException");
    let cw =
        aws_sdk_cloudwatch::Client::new(&config(&url, "AKIANOSUCHKEY0000000", "us-east-1").await);
    let now = aws_sdk_cloudwatch::primitives::DateTime::from_secs(1_800_000_000);
    let err = cw
        .get_metric_data()
        .start_time(now)
        .end_time(now)
        .send()
        .await
        .unwrap_err();
    assert_eq!(sb::code(&err), "UnrecognizedClientException");

    // refused requests are counted, per tenant and in the totals
    let expired = sandbox.stats_for(EXPIRED, "us-east-1");
    assert_eq!(expired.count("ecs:ListClusters"), 1);
    assert_eq!(expired.count("sts:GetCallerIdentity"), 1);
    let denied = sandbox.stats_for(DENIED, "us-east-1");
    assert_eq!(denied.count("ecs:ListClusters"), 1);
    assert_eq!(denied.count("sts:GetCallerIdentity"), 1);
    assert_eq!(
        sandbox
            .stats_for(DISABLED, "eu-west-1")
            .count("ecs:ListClusters"),
        1
    );
    assert_eq!(
        sandbox
            .stats_for(DISABLED, "us-east-1")
            .count("ecs:ListClusters"),
        1
    );
    let unknown = sandbox.stats_for("AKIANOSUCHKEY0000000", "us-east-1");
    assert_eq!(unknown.count("cloudwatch:GetMetricData"), 1);
    let total = sandbox.stats();
    assert_eq!(total.count("ecs:ListClusters"), 6);
    assert_eq!(total.count("sts:GetCallerIdentity"), 3);
    assert_eq!(
        sandbox.stats_for(DEMO_ACCESS_KEY_ID, "us-east-1").total(),
        0
    );

    sandbox.reset_stats();
    assert_eq!(sandbox.stats().total(), 0);
}

#[tokio::test]
async fn faults_reach_every_tenant() {
    let sandbox = start(accounts()).await;
    let url = sandbox.endpoint_url();
    sandbox.set_faults(Faults {
        denied_operations: vec!["ecs:ListClusters".into()],
        ..Faults::default()
    });
    for (key, account) in [
        (ALPHA, "111111111111"),
        (DEMO_ACCESS_KEY_ID, "123456789012"),
    ] {
        let err = ecs(&url, key, "us-east-1")
            .await
            .list_clusters()
            .send()
            .await
            .unwrap_err();
        assert_eq!(sb::code(&err), "AccessDeniedException", "{key}");
        let message = aws_sdk_ecs::error::ProvideErrorMetadata::message(&err).unwrap_or("");
        assert!(message.contains(account), "{key}: {message}");
    }
    assert_eq!(sandbox.stats().faults, 2);
    assert_eq!(sandbox.stats_for(ALPHA, "us-east-1").faults, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_tenants_answer_at_once() {
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let accounts = generated_accounts(20, &regions);
    let sandbox = start(accounts.clone()).await;
    let url = sandbox.endpoint_url();

    let started = std::time::Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for account in &accounts {
        for region in regions {
            let (url, key, id) = (
                url.clone(),
                account.access_key_id.clone(),
                account.account_id.clone(),
            );
            calls.spawn(async move {
                let arns = cluster_arns(&url, &key, region).await;
                (key, id, region, arns)
            });
        }
    }
    let mut answered = 0;
    while let Some(joined) = calls.join_next().await {
        let (key, id, region, arns) = joined.unwrap();
        let prefix = format!("arn:aws:ecs:{region}:{id}:cluster/");
        assert!(
            !arns.is_empty() && arns.iter().all(|arn| arn.starts_with(&prefix)),
            "{key} {region}: {arns:?}"
        );
        answered += 1;
    }
    // measured, not asserted (a shared CI machine decides wall-clock time)
    eprintln!("60 tenants built and answered in {:?}", started.elapsed());
    assert_eq!(answered, 60);
    assert_eq!(sandbox.stats().count("ecs:ListClusters"), 60);
    for account in &accounts {
        for region in regions {
            let stats = sandbox.stats_for(&account.access_key_id, region);
            assert_eq!(stats.count("ecs:ListClusters"), 1, "{}", account.name);
        }
    }
}
