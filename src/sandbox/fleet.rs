//! Building the initial fleet: clusters with subnets, task definitions, services and
//! their running tasks, all drawn from the seed so the same seed gives the same fleet.

use std::collections::{BTreeMap, VecDeque};

use super::model::*;
use super::sim::Sim;

/// The kind of workload a service name stands for; drives containers, ports and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Api,
    Worker,
    Frontend,
    Batch,
}

pub(crate) struct Profile {
    pub name: &'static str,
    pub kind: Kind,
    /// Weight of FARGATE_SPOT in the capacity strategy (0 = on-demand only).
    pub spot: i32,
    pub exec: bool,
    pub sidecar: Option<&'static str>,
}

const fn p(
    name: &'static str,
    kind: Kind,
    spot: i32,
    exec: bool,
    sidecar: Option<&'static str>,
) -> Profile {
    Profile {
        name,
        kind,
        spot,
        exec,
        sidecar,
    }
}

/// Service names, in the order they are handed out to clusters.
pub(crate) const PROFILES: &[Profile] = &[
    p("checkout-api", Kind::Api, 1, true, None),
    p(
        "payments-worker",
        Kind::Worker,
        0,
        true,
        Some("otel-collector"),
    ),
    p("orders-api", Kind::Api, 0, true, None),
    p("search-api", Kind::Api, 0, false, None),
    p("notifications-worker", Kind::Worker, 3, false, None),
    p("web-frontend", Kind::Frontend, 0, true, Some("envoy")),
    p("inventory-api", Kind::Api, 0, true, None),
    p("report-generator", Kind::Batch, 2, false, None),
    p("etl-ingest", Kind::Batch, 3, true, Some("fluent-bit")),
    p("image-resizer", Kind::Worker, 3, false, None),
    p("auth-api", Kind::Api, 0, true, Some("envoy")),
    p("cart-api", Kind::Api, 1, false, None),
    p("email-worker", Kind::Worker, 2, false, None),
    p("pricing-api", Kind::Api, 0, true, None),
    p(
        "recommendations-api",
        Kind::Api,
        1,
        false,
        Some("otel-collector"),
    ),
    p("shipping-worker", Kind::Worker, 1, true, None),
    p("ledger-api", Kind::Api, 0, true, None),
    p(
        "fraud-scorer",
        Kind::Worker,
        0,
        false,
        Some("otel-collector"),
    ),
    p("catalog-api", Kind::Api, 1, false, None),
    p("webhooks-worker", Kind::Worker, 2, false, None),
    p("admin-frontend", Kind::Frontend, 0, true, None),
    p("audit-exporter", Kind::Batch, 3, false, None),
    p("graphql-gateway", Kind::Api, 0, true, Some("envoy")),
    p("session-api", Kind::Api, 0, false, None),
];

pub(crate) fn profile(service: &str) -> &'static Profile {
    PROFILES
        .iter()
        .find(|p| service.starts_with(p.name))
        .unwrap_or(&PROFILES[0])
}

/// The hand-made demo fleet: (cluster, service, desired count).
const DEMO: &[(&str, &str, i32)] = &[
    ("prod", "checkout-api", 4),
    ("prod", "payments-worker", 3),
    ("prod", "orders-api", 3),
    ("prod", "search-api", 2),
    ("prod", "notifications-worker", 2),
    ("prod", "web-frontend", 4),
    ("staging", "checkout-api", 1),
    ("staging", "payments-worker", 1),
    ("staging", "orders-api", 1),
    ("staging", "web-frontend", 1),
    ("batch", "report-generator", 2),
    ("batch", "etl-ingest", 2),
    ("batch", "image-resizer", 1),
];

/// The blue/green service of the blue/green drill (cluster `prod`).
pub(crate) const BLUE_GREEN_SERVICE: &str = "ledger-api";

const CLUSTERS: &[&str] = &["prod", "staging", "batch"];
const AZS: &[&str] = &["a", "b", "c"];

impl Sim {
    /// Build clusters, task definitions, services and running tasks at `self.now`.
    pub(crate) fn build_fleet(&mut self, scale: Option<usize>, clusters: Option<usize>) {
        let plan: Vec<(String, String, i32)> = match scale {
            None => DEMO
                .iter()
                .map(|(c, s, d)| (c.to_string(), s.to_string(), *d))
                .collect(),
            Some(n) => {
                let nclusters = clusters.unwrap_or_else(|| n.div_ceil(400).max(3)).max(1);
                (0..n)
                    .map(|i| {
                        let c = i % nclusters;
                        let round = c / CLUSTERS.len();
                        let base = CLUSTERS.get(c % CLUSTERS.len()).copied().unwrap_or("prod");
                        let cluster = if round == 0 {
                            base.to_string()
                        } else {
                            format!("{base}-{}", round + 1)
                        };
                        let k = i / nclusters;
                        let prof = &PROFILES[k % PROFILES.len()];
                        let name = if k < PROFILES.len() {
                            prof.name.to_string()
                        } else {
                            format!("{}-{}", prof.name, k / PROFILES.len() + 1)
                        };
                        let desired = [2, 3, 4, 4, 5, 6][(self.rng.next_u64() % 6) as usize];
                        (cluster, name, desired)
                    })
                    .collect()
            }
        };
        for (cluster, _, _) in &plan {
            if !self.cluster_by_name.contains_key(cluster) {
                self.add_cluster(cluster);
            }
        }
        for (cluster, name, desired) in plan {
            if let Some(&c) = self.cluster_by_name.get(&cluster) {
                self.add_service(c, &name, desired);
            }
        }
        // Added last, and only for its drill, so every other drill's fleet (ids, IPs,
        // timings drawn from the seed) stays what it was.
        if self.scenario == super::Scenario::BlueGreen
            && scale.is_none()
            && let Some(&c) = self.cluster_by_name.get("prod")
        {
            self.add_blue_green_service(c);
        }
        if self.scenario == super::Scenario::NoCapacity && scale.is_none() {
            self.add_ec2_cluster();
        }
    }

    /// `prod/ledger-api`: ECS-native blue/green with a 10-minute bake time and a Lambda hook
    /// after the test traffic shift. In its drill the hook hangs 25 virtual minutes, then
    /// fails, and ECS rolls back.
    fn add_blue_green_service(&mut self, c: usize) {
        let name = BLUE_GREEN_SERVICE;
        self.add_service(c, name, 2);
        let Some(s) = self
            .clusters
            .get(c)
            .and_then(|x| x.services.get(name).copied())
        else {
            return;
        };
        let hook_arn = format!(
            "arn:aws:lambda:{}:{}:function:ledger-api-smoke-test",
            self.region, self.account
        );
        if let Some(svc) = self.services.get_mut(s) {
            svc.blue_green = Some(super::history::BlueGreen {
                bake_min: 10,
                hook_arn,
                hook_stage: super::history::Stage::PostTestTrafficShift,
                hook_ms: 25 * 60_000,
                hook_fails: true,
            });
        }
    }

    pub(crate) fn add_cluster(&mut self, name: &str) {
        let idx = self.clusters.len();
        let second = 16 + (idx as u32 % 200);
        let subnets = AZS
            .iter()
            .enumerate()
            .map(|(i, az)| Subnet {
                id: format!("subnet-{}", self.rng.hex(17)),
                az: format!("{}{}", self.region, az),
                base: (10 << 24) | (second << 16) | ((i as u32 * 64) << 8),
                prefix: 18,
                next: 4 + (self.rng.next_u64() % 64) as u32,
                free: VecDeque::new(),
            })
            .collect();
        let cluster = Cluster {
            name: name.to_string(),
            arn: format!(
                "arn:aws:ecs:{}:{}:cluster/{}",
                self.region, self.account, name
            ),
            subnets,
            security_group: format!("sg-{}", self.rng.hex(17)),
            // prod has enhanced observability (per-task metrics); other prod clusters the
            // standard level, which stops at the service and the family
            insights: match name {
                "prod" => "enhanced",
                n if n.starts_with("prod") => "enabled",
                _ => "disabled",
            },
            services: BTreeMap::new(),
            tasks_live: BTreeMap::new(),
            tasks_stopped: BTreeMap::new(),
            instances: Vec::new(),
        };
        self.cluster_by_name.insert(name.to_string(), idx);
        self.clusters.push(cluster);
    }

    pub(crate) fn register_initial(
        &mut self,
        cluster: &str,
        service: &str,
        prof: &Profile,
    ) -> usize {
        let family = if cluster == "prod" || cluster.starts_with("prod-") {
            service.to_string()
        } else {
            format!("{service}-{}", cluster.split('-').next().unwrap_or(cluster))
        };
        let revision = self.rng.range(3, 60) as i32;
        let version = format!(
            "v{}.{}.{}",
            self.rng.range(1, 3),
            self.rng.range(0, 14),
            self.rng.range(0, 9)
        );
        let repo = format!(
            "{}.dkr.ecr.{}.amazonaws.com/{}",
            self.account, self.region, service
        );
        let port = match prof.kind {
            Kind::Api => Some(8080),
            Kind::Frontend => Some(3000),
            _ => None,
        };
        let mut containers = vec![ContainerDef {
            name: service.to_string(),
            image: format!("{repo}:{version}"),
            cpu: 256,
            memory: 512,
            essential: true,
            port,
            health_check: port.is_some(),
            app: true,
        }];
        if let Some(side) = prof.sidecar {
            let image = match side {
                "envoy" => "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod",
                "fluent-bit" => "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2",
                _ => "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
            };
            containers.push(ContainerDef {
                name: side.to_string(),
                image: image.to_string(),
                cpu: 128,
                memory: 256,
                essential: false,
                port: None,
                health_check: false,
                app: false,
            });
        }
        let registered_at = self.now - self.rng.range(2, 30) * 86_400_000;
        let td = TaskDef {
            family: family.clone(),
            revision,
            arn: format!(
                "arn:aws:ecs:{}:{}:task-definition/{}:{}",
                self.region, self.account, family, revision
            ),
            containers,
            cpu: if prof.sidecar.is_some() { 1024 } else { 512 },
            memory: if prof.sidecar.is_some() { 2048 } else { 1024 },
            log_group: format!("/ecs/{cluster}/{service}"),
            log_prefix: "ecs".to_string(),
            log_region: self.region.clone(),
            registered_at,
            execution_role: format!("arn:aws:iam::{}:role/ecsTaskExecutionRole", self.account),
            task_role: format!("arn:aws:iam::{}:role/{}-task-role", self.account, service),
            fault: Fault::None,
            version,
            environment: vec![
                ("LOG_LEVEL".to_string(), "info".to_string()),
                (
                    "PAYMENTS_BASE_URL".to_string(),
                    format!("https://payments.{cluster}.internal"),
                ),
            ],
            secrets: vec![(
                "DB_PASSWORD".to_string(),
                super::secrets::arn(&self.region, &self.account, cluster, service),
            )],
        };
        // an older revision exists too, as in any real account
        let mut older = td.clone();
        older.revision = revision - 1;
        older.arn = format!(
            "arn:aws:ecs:{}:{}:task-definition/{}:{}",
            self.region,
            self.account,
            family,
            revision - 1
        );
        older.registered_at = registered_at - self.rng.range(1, 9) * 86_400_000;
        for def in [older, td] {
            let idx = self.task_defs.len();
            self.td_by_arn.insert(def.arn.clone(), idx);
            self.families
                .entry(def.family.clone())
                .or_default()
                .push(idx);
            self.task_defs.push(def);
        }
        self.task_defs.len() - 1
    }

    pub(crate) fn add_service(&mut self, c: usize, name: &str, desired: i32) {
        let Some(cluster) = self.clusters.get(c) else {
            return;
        };
        if cluster.services.contains_key(name) {
            return;
        }
        let cname = cluster.name.clone();
        let prof = profile(name);
        let td = self.register_initial(&cname, name, prof);
        let capacity = if prof.spot > 0 {
            vec![
                CapacityItem {
                    provider: "FARGATE",
                    weight: 1,
                    base: 1,
                },
                CapacityItem {
                    provider: "FARGATE_SPOT",
                    weight: prof.spot,
                    base: 0,
                },
            ]
        } else {
            vec![CapacityItem {
                provider: "FARGATE",
                weight: 1,
                base: 0,
            }]
        };
        let target_group = matches!(prof.kind, Kind::Api | Kind::Frontend).then(|| {
            let short: String = format!("{cname}-{name}").chars().take(32).collect();
            format!(
                "arn:aws:elasticloadbalancing:{}:{}:targetgroup/{}/{}",
                self.region,
                self.account,
                short.trim_end_matches('-'),
                self.rng.hex(16)
            )
        });
        let created_at = self.now - self.rng.range(20, 400) * 86_400_000;
        let dep_id = format!("ecs-svc/{}", self.rng.digits(19));
        let dep_created = self.now - self.rng.range(3, 96) * 3_600_000;
        let (min_pct, max_pct) = if prof.kind == Kind::Batch {
            (50, 100)
        } else {
            (100, 200)
        };
        let s = self.services.len();
        let log_group = self
            .task_defs
            .get(td)
            .map(|d| d.log_group.clone())
            .unwrap_or_default();
        self.services.push(Service {
            name: name.to_string(),
            arn: format!(
                "arn:aws:ecs:{}:{}:service/{}/{}",
                self.region, self.account, cname, name
            ),
            cluster: c,
            desired,
            deployments: vec![Deployment {
                id: dep_id.clone(),
                task_def: td,
                desired,
                created_at: dep_created,
                updated_at: dep_created + 240_000,
                rollout: Rollout::Completed,
                reason: format!("ECS deployment {dep_id} completed."),
                failed_tasks: 0,
            }],
            min_pct,
            max_pct,
            breaker: true,
            rollback: true,
            grace_s: if target_group.is_some() { 60 } else { 0 },
            exec: prof.exec,
            capacity,
            target_group,
            created_at,
            events: VecDeque::new(),
            tasks_live: BTreeMap::new(),
            tasks_stopped: BTreeMap::new(),
            last_completed: Some((dep_id.clone(), td)),
            steady: true,
            launches: 0,
            reconcile_at: None,
            revisions: Vec::new(),
            history: Vec::new(),
            blue_green: None,
            placement_failed_at: None,
        });
        self.record_initial_deployment(s, &dep_id, td, dep_created);
        if let Some(cl) = self.clusters.get_mut(c) {
            cl.services.insert(name.to_string(), s);
        }
        self.log_groups.insert(log_group, s);
        let saved_now = self.now;
        self.now = dep_created;
        let mut ids = Vec::new();
        for _ in 0..desired {
            if let Some(slot) = self.launch(s, &dep_id, td) {
                let started = dep_created + self.rng.range(40_000, 90_000);
                let broken = self.exec_agent_broken(slot);
                self.backdate_running(slot, started, broken);
                if let Some(t) = self.task(slot) {
                    ids.push(t.id.clone());
                }
            }
        }
        self.now = dep_created + 60_000;
        let list = ids
            .iter()
            .map(|id| format!("(task {id})"))
            .collect::<Vec<_>>()
            .join(" ");
        if !ids.is_empty() {
            self.event(
                s,
                format!("(service {name}) has started {} tasks: {list}.", ids.len()),
            );
        }
        self.now = dep_created + 240_000;
        self.event(
            s,
            format!("(service {name}) deployment {dep_id} deployment completed."),
        );
        self.event(s, format!("(service {name}) has reached a steady state."));
        self.now = saved_now;
    }
}
