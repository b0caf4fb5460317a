//! ECS Exec and SSM sessions: ExecuteCommand, StartSession (port forwarding),
//! TerminateSession, and the cluster's exec logging configuration.

use aws_sdk_ecs::types::ClusterField;

use super::AwsError;
use crate::exec::plugin::SessionGrant;
use crate::exec::preflight::ExecLogging;

/// The cluster's `executeCommandConfiguration` (None when the cluster has none).
pub async fn cluster_exec_logging(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
) -> Result<Option<ExecLogging>, AwsError> {
    let out = ecs
        .describe_clusters()
        .clusters(cluster)
        .include(ClusterField::Configurations)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeClusters", &e))?;
    Ok(out
        .clusters()
        .first()
        .and_then(|c| c.configuration())
        .and_then(|c| c.execute_command_configuration())
        .map(|x| {
            let log = x.log_configuration();
            ExecLogging {
                logging: x.logging().map(|l| l.as_str().to_string()),
                cloudwatch_group: log
                    .and_then(|l| l.cloud_watch_log_group_name())
                    .map(str::to_string),
                s3_bucket: log.and_then(|l| l.s3_bucket_name()).map(str::to_string),
                kms_key: x.kms_key_id().map(str::to_string),
            }
        }))
}

fn grant(
    op: &'static str,
    id: Option<&str>,
    url: Option<&str>,
    token: Option<&str>,
) -> Result<SessionGrant, AwsError> {
    match (id, url, token) {
        (Some(id), Some(url), Some(token)) => Ok(SessionGrant {
            session_id: id.to_string(),
            stream_url: url.to_string(),
            token: zeroize::Zeroizing::new(token.to_string()),
        }),
        _ => Err(AwsError::new(
            super::ErrorKind::Other,
            op,
            "the response has no complete session".to_string(),
        )),
    }
}

/// `ecs:ExecuteCommand` (interactive). Returns the session for the plugin.
pub async fn execute_command(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    task: &str,
    container: &str,
    command: &str,
) -> Result<SessionGrant, AwsError> {
    let out = ecs
        .execute_command()
        .cluster(cluster)
        .task(task)
        .container(container)
        .command(command)
        .interactive(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:ExecuteCommand", &e))?;
    let s = out.session();
    grant(
        "ecs:ExecuteCommand",
        s.and_then(|s| s.session_id()),
        s.and_then(|s| s.stream_url()),
        s.and_then(|s| s.token_value()),
    )
}

/// `ssm:StartSession` with a port-forwarding document. `parameters` are the document's
/// parameters (`portNumber`, `localPortNumber`, `host`).
pub async fn start_port_forward(
    ssm: &aws_sdk_ssm::Client,
    target: &str,
    document: &str,
    parameters: &[(String, String)],
    reason: &str,
) -> Result<SessionGrant, AwsError> {
    let mut req = ssm
        .start_session()
        .target(target)
        .document_name(document)
        .reason(reason);
    for (k, v) in parameters {
        req = req.parameters(k, vec![v.clone()]);
    }
    let out = req
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ssm:StartSession", &e))?;
    grant(
        "ssm:StartSession",
        out.session_id(),
        out.stream_url(),
        out.token_value(),
    )
}

/// `ssm:TerminateSession`.
pub async fn terminate_session(ssm: &aws_sdk_ssm::Client, id: &str) -> Result<(), AwsError> {
    ssm.terminate_session()
        .session_id(id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ssm:TerminateSession", &e))?;
    Ok(())
}
