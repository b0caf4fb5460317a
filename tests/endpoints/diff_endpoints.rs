//! The task-definition diff through the real SDK: on the sandbox's bad-deploy drill, through
//! the console's reducer and effect runner, revision 43 shows `PAYMENTS_BASE_URL` removed and
//! the service's database secret by name and ARN, while the secret's value (which the sandbox
//! does hold and serves to whoever asks Secrets Manager) appears nowhere: not on screen, not in
//! the export, and berth never asks for it. And against moto: two revisions registered there
//! compare the same way.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use berth::app::{Action, Command, View};
use berth::domain::taskdef_diff::{Change, diff};
use berth::sandbox::{self, SandboxOptions, Scenario};
use crossterm::event::KeyCode;

use crate::common::console::{Console, key, loaded, on_service, type_text};
use crate::common::moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revision_43_lost_a_variable_and_no_secret_value_is_ever_read() {
    let handle = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            scenario: Scenario::BadDeploy,
            speed: 60.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap();
    // The value is there to be had: Secrets Manager on the sandbox serves it.
    let arn = format!(
        "arn:aws:secretsmanager:us-east-1:{}:secret:prod/checkout-api/db-password-Xk29Qa",
        SandboxOptions::default().account_id
    );
    let (status, body) = crate::sandbox_support::http(
        handle.addr(),
        "POST",
        "/",
        &[
            ("x-amz-target", "secretsmanager.GetSecretValue"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        &format!("{{\"SecretId\":\"{arn}\"}}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(sandbox::secrets::MARKER), "{body}");
    handle.reset_stats();

    let mut console = Console::new(&handle);
    on_service(&mut console, "prod", "checkout-api").await;
    // The drill registers revision 43 two virtual minutes in: ask until it exists.
    let mut found = None;
    for _ in 0..60 {
        console.apply(Action::Command(Command::CommandMode));
        type_text(&mut console, "diff 43");
        console.apply(key(KeyCode::Enter));
        console.until("the diff answered", loaded).await;
        let View::Pane(_) = console.state.view() else {
            panic!("{}", console.screen());
        };
        let screen = console.screen();
        if screen.contains("checkout-api:42 → checkout-api:43 ·") {
            found = Some(screen);
            break;
        }
        console.apply(key(KeyCode::Esc));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let screen = found.expect("revision 43 was never registered");
    // side by side at the console's 220 columns: before, then (absent)
    let row = screen
        .lines()
        .find(|l| l.contains("- environment PAYMENTS_BASE_URL"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        row.contains("https://payments.prod.internal") && row.contains("(absent)"),
        "{row}"
    );
    // every line, the unchanged ones too
    console.apply(key(KeyCode::Enter));
    let expanded = console.screen();
    assert!(expanded.contains("secret DB_PASSWORD"), "{expanded}");
    assert!(expanded.contains("db-password-Xk29Qa"), "the ARN is shown");
    let (_, markdown, _) = berth::app::export::markdown(&console.state).unwrap();
    assert!(markdown.contains("| environment PAYMENTS_BASE_URL | removed |"));
    for text in [&screen, &expanded, &markdown] {
        assert!(!text.contains(sandbox::secrets::MARKER));
    }
    let stats = handle.stats();
    assert_eq!(stats.count("secretsmanager:GetSecretValue"), 0);
    assert!(
        stats.count("ecs:DescribeTaskDefinition") >= 2,
        "{:?}",
        stats.requests
    );
}

#[tokio::test]
async fn two_revisions_registered_in_moto_compare_field_by_field() {
    use aws_sdk_ecs::types::{ContainerDefinition, KeyValuePair, Secret};
    let server = moto::shared();
    let ecs = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
    let env = |pairs: &[(&str, &str)]| -> Vec<KeyValuePair> {
        pairs
            .iter()
            .map(|(n, v)| KeyValuePair::builder().name(*n).value(*v).build())
            .collect()
    };
    let register = |tag: &'static str, memory: &'static str, environment: Vec<KeyValuePair>| {
        ecs.register_task_definition()
            .family("diffy")
            .memory(memory)
            .cpu("256")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image(format!("1.dkr.ecr.eu-west-1.amazonaws.com/diffy:{tag}"))
                    .memory(256)
                    .set_environment(Some(environment))
                    .secrets(
                        Secret::builder()
                            .name("API_KEY")
                            .value_from("arn:aws:ssm:us-east-1:123456789012:parameter/diffy/key")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
    };
    register(
        "v1",
        "512",
        env(&[("MODE", "live"), ("UPSTREAM", "https://u.internal")]),
    )
    .await
    .unwrap();
    register("v2", "1024", env(&[("MODE", "live")]))
        .await
        .unwrap();

    let (old, new) = berth::aws::task_definitions::describe_pair(&ecs, "diffy:1", "diffy:2")
        .await
        .unwrap();
    let d = diff(&old, &new);
    let changed: Vec<(String, String, Change)> = d
        .changed
        .iter()
        .map(|l| (l.scope.clone(), l.field.clone(), l.change()))
        .collect();
    let has = |scope: &str, field: &str, change: Change| {
        changed
            .iter()
            .any(|(s, f, c)| s == scope && f == field && *c == change)
    };
    assert!(has("task", "memory", Change::Changed), "{changed:?}");
    assert!(has("container app", "image tag", Change::Changed));
    assert!(has(
        "container app",
        "environment UPSTREAM",
        Change::Removed
    ));
    assert_eq!(changed.len(), 3, "nothing else differs: {changed:?}");
    assert!(
        d.same.iter().any(|l| l.field == "secret API_KEY"
            && l.before
                .as_deref()
                .is_some_and(|v| v.contains("parameter/diffy/key"))),
        "{:?}",
        d.same
    );
    assert!(d.same.iter().any(|l| l.field == "environment MODE"));

    let err = berth::aws::task_definitions::describe_pair(&ecs, "diffy:1", "diffy:9")
        .await
        .unwrap_err();
    assert_eq!(err.operation, "ecs:DescribeTaskDefinition");
}
