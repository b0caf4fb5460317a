//! Deployment history against moto, which does not implement ListServiceDeployments (it
//! answers HTTP 500 with an HTML page, which the SDK reads as a transient error): berth's
//! history load must fail after a bounded number of attempts, not spin through the console's
//! eight-attempt read policy, and the deployments pane must say in words that history is
//! unavailable while the live deployments still show.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use berth::app::{Action, DataEvent, IdentityState, Session, State, View, update};
use berth::aws::{AwsTarget, history::HISTORY_MAX_ATTEMPTS};

use crate::common::{moto, screen};

/// Counts the attempts the SDK sends.
#[derive(Debug, Clone, Default)]
struct Attempts(Arc<AtomicUsize>);

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "count attempts"
    }
    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn moto_without_the_history_api_falls_back_quickly_with_a_reason() {
    let server = moto::shared();
    let target = AwsTarget {
        region: Some("us-east-1".into()),
        endpoint_url: Some(server.endpoint_url()),
        static_credentials: Some(("testing".into(), "testing".into())),
        ..AwsTarget::default()
    };
    // The console's own clients: the read retry policy of eight attempts is installed.
    let clients = berth::aws::connect(&target).await.unwrap();
    let seed = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
    seed.create_cluster()
        .cluster_name("hist")
        .send()
        .await
        .unwrap();
    seed.register_task_definition()
        .family("web")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("nginx")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .unwrap();
    seed.create_service()
        .cluster("hist")
        .service_name("web")
        .task_definition("web")
        .desired_count(1)
        .send()
        .await
        .unwrap();

    let attempts = Attempts::default();
    let ecs = aws_sdk_ecs::Client::from_conf(
        clients
            .ecs
            .config()
            .to_builder()
            .interceptor(attempts.clone())
            .build(),
    );
    let permits = tokio::sync::Semaphore::new(1);
    let err = berth::aws::history::load_cached(
        &ecs,
        &permits,
        &std::sync::Mutex::default(),
        "hist",
        "web",
        0,
    )
    .await
    .unwrap_err();
    let sent = attempts.0.load(Ordering::SeqCst);
    assert!(
        sent <= HISTORY_MAX_ATTEMPTS as usize && sent >= 1,
        "{sent} attempts for an operation moto does not serve"
    );
    assert!(
        sent < berth::aws::services::READ_MAX_ATTEMPTS as usize,
        "{sent} attempts: the console's read policy would have spun"
    );
    assert_eq!(err.operation, "ecs:ListServiceDeployments", "{err}");

    // The pane: DescribeServices from moto, the history failure as the runner reports it.
    let (found, _) = berth::aws::services::describe_services(&ecs, "hist", &["web".into()])
        .await
        .unwrap();
    let session = Session {
        target,
        region: None,
        connected: false,
        identity: IdentityState::Pending,
        read_only: true,
        protected: false,
        demo: false,
    };
    let keymap = berth::config::keymap::Keymap::load(None, None).unwrap().0;
    let mut state = State::new(session, keymap, 5, 1_800_000_000);
    update(
        &mut state,
        Action::AwsConnected {
            region: "us-east-1".into(),
        },
    );
    let mut view = berth::app::views::ServiceView {
        cluster: "hist".into(),
        service: "web".into(),
        ..Default::default()
    };
    let request = 900;
    view.data.begin(request, true);
    state.views.push(View::Deployments(view));
    update(
        &mut state,
        Action::Data {
            request,
            event: DataEvent::Services(found),
        },
    );
    update(
        &mut state,
        Action::Data {
            request,
            event: DataEvent::Done,
        },
    );
    update(
        &mut state,
        Action::HistoryLoaded {
            cluster: "hist".into(),
            service: "web".into(),
            result: Err(err),
        },
    );
    let text = screen::text(&screen::draw(
        &mut state,
        &screen::theme("default"),
        120,
        30,
    ));
    assert!(
        text.contains(
            "deployment history unavailable: ecs:ListServiceDeployments answered with something that is not an AWS response"
        ) && text.contains("showing live deployments only"),
        "{text}"
    );
    assert!(text.contains("PRIMARY"), "{text}");
    assert!(text.contains("web:1"), "{text}");
}
