//! The loads a view makes: every List paginated, every Describe in its API batch size, the
//! describes of one page running while the next page is listed, all of it bounded by one
//! semaphore of concurrent requests. Results arrive batch by batch through `progress`, so a
//! view shows its first rows while the rest load.
//!
//! These are the functions the console's effect runner calls; tests call the same ones.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{AwsError, Clients, ErrorKind, ecs, services, tasks};
use crate::domain::{Cluster, Service, Task};

/// What a load reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress<T> {
    /// Listing finished: this many resources will be described.
    Listed(usize),
    /// One described batch.
    Batch(Vec<T>),
}

/// ListClusters (all pages), then DescribeClusters in batches of 100.
pub async fn clusters(
    clients: &Clients,
    permits: &Semaphore,
    progress: &(impl Fn(Progress<Cluster>) + Sync),
) -> Result<(), AwsError> {
    let arns = {
        let _permit = permits.acquire().await;
        ecs::list_cluster_arns(&clients.ecs).await?
    };
    progress(Progress::Listed(arns.len()));
    for batch in arns.chunks(ecs::DESCRIBE_CLUSTERS_BATCH) {
        let described = {
            let _permit = permits.acquire().await;
            ecs::describe_clusters(&clients.ecs, batch).await?
        };
        progress(Progress::Batch(described));
    }
    Ok(())
}

/// ListServices page by page; each page's DescribeServices batches (10 each) run while the next
/// page is listed, bounded by `permits`. A failed describe stops the listing early.
pub async fn services(
    clients: &Clients,
    permits: &Arc<Semaphore>,
    cluster: &str,
    progress: &(impl Fn(Progress<Service>) + Clone + Send + Sync + 'static),
) -> Result<(), AwsError> {
    let mut describes = tokio::task::JoinSet::new();
    let mut token = None;
    let mut total = 0;
    loop {
        let (arns, next) = {
            let _permit = permits.acquire().await;
            services::list_services_page(&clients.ecs, cluster, token).await?
        };
        total += arns.len();
        for batch in arns.chunks(services::DESCRIBE_SERVICES_BATCH) {
            let batch = batch.to_vec();
            let ecs = clients.ecs.clone();
            let permits = permits.clone();
            let cluster = cluster.to_string();
            let progress = progress.clone();
            describes.spawn(async move {
                let _permit = permits.acquire().await;
                let (found, _missing) = services::describe_services(&ecs, &cluster, &batch).await?;
                progress(Progress::Batch(found));
                Ok::<(), AwsError>(())
            });
        }
        // Surface a failed describe early instead of listing on.
        while let Some(done) = describes.try_join_next() {
            flatten(done)?;
        }
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    progress(Progress::Listed(total));
    while let Some(done) = describes.join_next().await {
        flatten(done)?;
    }
    Ok(())
}

/// DescribeServices of one service; not found is an error that says where it looked.
pub async fn service(
    clients: &Clients,
    permits: &Semaphore,
    cluster: &str,
    service: &str,
) -> Result<Service, AwsError> {
    let _permit = permits.acquire().await;
    let (mut found, _missing) =
        services::describe_services(&clients.ecs, cluster, &[service.to_string()]).await?;
    found.pop().ok_or_else(|| {
        AwsError::new(
            ErrorKind::NotFound,
            "ecs:DescribeServices",
            format!("service {service} not found in cluster {cluster}"),
        )
    })
}

/// ListTasks (running, plus stopped when asked; all pages), then DescribeTasks in batches of
/// 100.
pub async fn tasks(
    clients: &Clients,
    permits: &Semaphore,
    cluster: &str,
    service: Option<&str>,
    include_stopped: bool,
    progress: &(impl Fn(Progress<Task>) + Sync),
) -> Result<(), AwsError> {
    use tasks::TaskListing;
    let mut arns = {
        let _permit = permits.acquire().await;
        tasks::list_task_arns(&clients.ecs, cluster, service, TaskListing::Running).await?
    };
    if include_stopped {
        let _permit = permits.acquire().await;
        arns.extend(
            tasks::list_task_arns(&clients.ecs, cluster, service, TaskListing::Stopped).await?,
        );
    }
    progress(Progress::Listed(arns.len()));
    for batch in arns.chunks(tasks::DESCRIBE_TASKS_BATCH) {
        let described = {
            let _permit = permits.acquire().await;
            tasks::describe_tasks(&clients.ecs, cluster, batch).await?
        };
        progress(Progress::Batch(described));
    }
    Ok(())
}

/// DescribeTasks of one task; a task ECS no longer knows is an error that says why it might be.
pub async fn task(
    clients: &Clients,
    permits: &Semaphore,
    cluster: &str,
    task: &str,
) -> Result<Task, AwsError> {
    let _permit = permits.acquire().await;
    let mut found = tasks::describe_tasks(&clients.ecs, cluster, &[task.to_string()]).await?;
    found.pop().ok_or_else(|| {
        AwsError::new(
            ErrorKind::NotFound,
            "ecs:DescribeTasks",
            format!("task {task} not found (stopped tasks disappear after about an hour)"),
        )
    })
}

/// A service's stopped tasks (all pages, described in batches of 100).
pub async fn stopped_tasks(
    clients: &Clients,
    permits: &Semaphore,
    cluster: &str,
    service: Option<&str>,
) -> Result<Vec<Task>, AwsError> {
    let arns = {
        let _permit = permits.acquire().await;
        tasks::list_task_arns(&clients.ecs, cluster, service, tasks::TaskListing::Stopped).await?
    };
    let mut out = Vec::with_capacity(arns.len());
    for batch in arns.chunks(tasks::DESCRIBE_TASKS_BATCH) {
        let _permit = permits.acquire().await;
        out.extend(tasks::describe_tasks(&clients.ecs, cluster, batch).await?);
    }
    Ok(out)
}

fn flatten(joined: Result<Result<(), AwsError>, tokio::task::JoinError>) -> Result<(), AwsError> {
    match joined {
        Ok(result) => result,
        Err(e) => Err(AwsError::new(
            ErrorKind::Other,
            "berth",
            format!("a request task failed: {e}"),
        )),
    }
}
