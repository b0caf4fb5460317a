//! CPU and memory trends in the reducer and on screen: GetMetricData only for the rows on
//! screen and only when the CPU column shows, each service at most once a minute, one call in
//! flight, nothing at all with metrics off; throttling backs off; access denied is said in
//! place; the services list's trend columns at 80 (hidden), 120 and 200 columns and the chart
//! in the deployments pane (insta).

use std::collections::HashMap;

use berth::app::metrics::{METRICS_REFRESH_SECS, services_shown_from};
use berth::app::views::{ServiceView, ServicesView};
use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::aws::{AwsError, ErrorKind};
use berth::domain::metrics::{Series, ServiceMetrics};
use berth::domain::{Deployment, Service};

use crate::reducer::signed_in;
use crate::screen;

const NOW: i64 = 1_800_000_000;
const CLUSTER: &str = "arn:aws:ecs:eu-west-1:210987654321:cluster/prod";

fn service(i: usize) -> Service {
    let name = format!("svc-{i:04}");
    Service {
        arn: format!("arn:aws:ecs:eu-west-1:210987654321:service/prod/{name}"),
        name: name.clone(),
        cluster_arn: CLUSTER.into(),
        status: "ACTIVE".into(),
        desired: 2,
        running: 2,
        task_definition: format!("{name}:3"),
        deployments: vec![Deployment {
            id: format!("ecs-svc/{i}"),
            status: "PRIMARY".into(),
            rollout_state: Some("COMPLETED".into()),
            desired: 2,
            running: 2,
            task_definition: format!("{name}:3"),
            created_at: Some(NOW - 3600),
            ..Deployment::default()
        }],
        ..Service::default()
    }
}

/// The services list of `n` services, loaded, on a `cols`x`rows` terminal; the effects the
/// load's end asked for.
fn services(n: usize, cols: u16, rows: u16, off: bool) -> (State, Vec<Effect>) {
    let mut s = signed_in(NOW, None, false, false);
    s.metrics.disabled = off;
    update(&mut s, Action::Resize { cols, rows });
    let mut view = ServicesView {
        cluster: CLUSTER.into(),
        ..ServicesView::default()
    };
    view.data.begin(5, true);
    s.views.push(View::Services(view));
    let batch = (0..n).map(service).collect();
    update(
        &mut s,
        Action::Data {
            request: 5,
            event: DataEvent::Services(batch),
        },
    );
    let effects = update(
        &mut s,
        Action::Data {
            request: 5,
            event: DataEvent::Done,
        },
    );
    (s, effects)
}

fn metric_loads(effects: &[Effect]) -> Vec<Vec<String>> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadMetrics { services, .. } => Some(services.clone()),
            _ => None,
        })
        .collect()
}

/// The call the model waits for.
fn waiting(s: &State) -> u64 {
    s.metrics
        .in_flight
        .map(|(call, _)| call)
        .unwrap_or(u64::MAX)
}

/// A deterministic hour for service `name`: a ramp from `base` whose newest minute is `last`.
fn hour(base: f64, last: f64) -> Series {
    Series {
        points: (0..60)
            .map(|m| {
                let v = base + (last - base) * f64::from(m) / 59.0;
                (NOW - 3600 + i64::from(m) * 60, v)
            })
            .collect(),
    }
}

fn answer(s: &mut State, services: &[String], pick: impl Fn(usize) -> (f64, f64)) {
    answer_call(s, waiting(s), services, pick);
}

fn answer_call(s: &mut State, call: u64, services: &[String], pick: impl Fn(usize) -> (f64, f64)) {
    let found: HashMap<String, ServiceMetrics> = services
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (cpu, mem) = pick(i);
            (
                name.clone(),
                ServiceMetrics {
                    cpu: hour(5.0, cpu),
                    memory: hour(40.0, mem),
                },
            )
        })
        .collect();
    update(
        s,
        Action::MetricsLoaded {
            call,
            cluster: CLUSTER.into(),
            services: services.to_vec(),
            result: Ok(found),
        },
    );
}

fn render(s: &mut State, theme: &str, cols: u16, rows: u16) -> String {
    screen::text(&screen::draw(s, &screen::theme(theme), cols, rows))
}

#[test]
fn of_2000_services_only_the_rows_on_screen_are_asked_for_in_one_call() {
    let (s, effects) = services(2000, 120, 40, false);
    let loads = metric_loads(&effects);
    assert_eq!(loads.len(), 1, "{effects:?}");
    // asked before the first frame: exactly the rows that frame then shows
    let mut s = s;
    render(&mut s, "default", 120, 40);
    let View::Services(v) = s.view() else {
        panic!()
    };
    assert_eq!(v.table.visible.len(), 2000);
    let (offset, height) = (v.table.offset.get(), v.table.height.get());
    assert!(height > 20 && height < 40, "{height}");
    let on_screen: Vec<String> = v.table.visible[offset..offset + height]
        .iter()
        .map(|&i| v.data.rows[i].service.name.clone())
        .collect();
    assert_eq!(loads[0], on_screen);
    // so the frame asks for nothing more
    assert!(metric_loads(&update(&mut s, Action::RefreshDue)).is_empty());
}

#[test]
fn each_service_at_most_once_a_minute_and_one_call_in_flight() {
    let (mut s, effects) = services(50, 120, 30, false);
    let first = metric_loads(&effects).remove(0);
    // in flight: refreshes and keys ask for nothing more
    assert!(metric_loads(&update(&mut s, Action::RefreshDue)).is_empty());
    answer(&mut s, &first, |_| (30.0, 50.0));
    update(&mut s, Action::Tick { now_unix: NOW + 30 });
    assert!(metric_loads(&update(&mut s, Action::RefreshDue)).is_empty());
    // scrolling to the end brings new rows into view: only they are asked for
    update(&mut s, Action::Command(Command::PageDown));
    update(&mut s, Action::Command(Command::PageDown));
    render(&mut s, "default", 120, 30);
    let scrolled = metric_loads(&update(&mut s, Action::RefreshDue));
    assert_eq!(scrolled.len(), 1);
    assert!(
        scrolled[0].iter().all(|n| !first.contains(n)),
        "{scrolled:?}"
    );
    answer(&mut s, &scrolled[0], |_| (30.0, 50.0));
    // a minute after the first answer, the rows on screen again
    update(
        &mut s,
        Action::Tick {
            now_unix: NOW + METRICS_REFRESH_SECS + 30,
        },
    );
    assert_eq!(metric_loads(&update(&mut s, Action::RefreshDue)).len(), 1);
}

#[test]
fn below_the_cpu_column_and_with_metrics_off_nothing_is_asked_for() {
    let (mut s, effects) = services(50, services_shown_from() - 1, 40, false);
    assert!(metric_loads(&effects).is_empty());
    assert!(metric_loads(&update(&mut s, Action::RefreshDue)).is_empty());

    let (mut s, effects) = services(50, 200, 50, true);
    assert!(metric_loads(&effects).is_empty());
    assert!(metric_loads(&update(&mut s, Action::RefreshDue)).is_empty());
    update(
        &mut s,
        Action::Tick {
            now_unix: NOW + 3600,
        },
    );
    update(&mut s, Action::Command(Command::Select));
    assert!(matches!(s.view(), View::Deployments(_)));
    assert!(metric_loads(&update(&mut s, Action::RefreshDue)).is_empty());
    let screen = render(&mut s, "default", 200, 50);
    assert!(!screen.contains("CPU and memory"), "{screen}");
    update(&mut s, Action::Command(Command::Back));
    let screen = render(&mut s, "default", 200, 50);
    assert!(!screen.contains(" CPU "), "no trend columns:\n{screen}");
}

#[test]
fn throttling_backs_off_and_access_denied_is_said_in_place() {
    let (mut s, effects) = services(5, 120, 30, false);
    let first = metric_loads(&effects).remove(0);
    let error = |kind, code: &str| AwsError {
        kind,
        operation: "cloudwatch:GetMetricData".into(),
        code: Some(code.into()),
        message: "no".into(),
    };
    let call = waiting(&s);
    update(
        &mut s,
        Action::MetricsLoaded {
            call,
            cluster: CLUSTER.into(),
            services: first.clone(),
            result: Err(error(ErrorKind::Throttled, "ThrottlingException")),
        },
    );
    // not on the next refresh, nor 59 s later
    assert!(metric_loads(&update(&mut s, Action::RefreshDue)).is_empty());
    update(&mut s, Action::Tick { now_unix: NOW + 59 });
    assert!(metric_loads(&update(&mut s, Action::RefreshDue)).is_empty());
    update(&mut s, Action::Tick { now_unix: NOW + 61 });
    let again = metric_loads(&update(&mut s, Action::RefreshDue));
    assert_eq!(again, vec![first.clone()]);
    let call = waiting(&s);
    update(
        &mut s,
        Action::MetricsLoaded {
            call,
            cluster: CLUSTER.into(),
            services: first,
            result: Err(error(ErrorKind::AccessDenied, "AccessDeniedException")),
        },
    );
    let screen = render(&mut s, "default", 120, 30);
    assert!(screen.contains("✗ access denied"), "{screen}");
    assert!(screen.contains("svc-0000"), "the rest works:\n{screen}");
    open_detail(&mut s, 0);
    let screen = render(&mut s, "default", 120, 30);
    assert!(
        screen.contains("metrics unavailable: access denied"),
        "{screen}"
    );
}

/// Filter to service `i`, open its deployments view and load it; what opening asked for.
fn open_detail(s: &mut State, i: usize) -> Vec<Effect> {
    update(s, Action::Command(Command::Filter));
    crate::reducer::typed(s, &service(i).name);
    crate::reducer::key(s, crossterm::event::KeyCode::Enter);
    let mut effects = update(s, Action::Command(Command::Select));
    let View::Deployments(ServiceView { service: shown, .. }) = s.view() else {
        panic!("{:?}", s.view())
    };
    assert_eq!(*shown, service(i).name);
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadService { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    for event in [DataEvent::Services(vec![service(i)]), DataEvent::Done] {
        effects.extend(update(s, Action::Data { request, event }));
    }
    effects
}

#[test]
fn another_region_forgets_the_trends_and_drops_a_late_answer() {
    let (mut s, effects) = services(5, 120, 30, false);
    let first = metric_loads(&effects).remove(0);
    answer(&mut s, &first, |_| (30.0, 50.0));
    assert_eq!(s.metrics.trends.len(), 5);
    // asked again a minute later; then the console switches region
    update(&mut s, Action::Tick { now_unix: NOW + 61 });
    assert_eq!(metric_loads(&update(&mut s, Action::RefreshDue)).len(), 1);
    let old_call = waiting(&s);
    let reconnect = crate::reducer::connect(&mut s);
    assert!(s.metrics.trends.is_empty());
    assert_eq!(metric_loads(&reconnect).len(), 1, "the new region's rows");
    assert_ne!(waiting(&s), old_call);
    // the old clients' answer arrives late: dropped, not shown as this region's
    answer_call(&mut s, old_call, &first, |_| (99.0, 99.0));
    assert!(s.metrics.trends.is_empty());
    let screen = render(&mut s, "default", 120, 30);
    assert!(!screen.contains("99%"), "{screen}");
}

/// Five services whose CPU ends at 10, 30, 50, 75, 95% and memory at 40..80%.
fn with_trends(cols: u16, rows: u16) -> State {
    let (mut s, effects) = services(5, cols, rows, false);
    let asked = metric_loads(&effects).pop().unwrap_or_else(|| {
        // at 80 columns nothing is asked for: answer as if a wider screen had
        (0..5).map(|i| service(i).name).collect()
    });
    answer(&mut s, &asked, |i| {
        ([10.0, 30.0, 50.0, 75.0, 95.0][i], 40.0 + 10.0 * i as f64)
    });
    s
}

#[test]
fn services_trends_80x24_hidden() {
    let mut s = with_trends(80, 24);
    let screen = render(&mut s, "default", 80, 24);
    assert!(!screen.contains("CPU"), "{screen}");
    insta::assert_snapshot!("services_trends_80x24", screen);
}

#[test]
fn services_trends_120x30_cpu() {
    let mut s = with_trends(120, 30);
    let screen = render(&mut s, "default", 120, 30);
    assert!(
        screen.contains("CPU") && !screen.contains("MEM"),
        "MEM from 140:\n{screen}"
    );
    let busiest = format!("{}  95%", berth::domain::metrics::block(95.0));
    assert!(screen.contains(&busiest), "{screen}");
    insta::assert_snapshot!("services_trends_120x30", screen);
}

#[test]
fn services_trends_200x50_cpu_and_memory_mono() {
    let mut s = with_trends(200, 50);
    let screen = render(&mut s, "mono", 200, 50);
    assert!(screen.contains("CPU") && screen.contains("MEM"), "{screen}");
    insta::assert_snapshot!("services_trends_200x50_mono", screen);
}

#[test]
fn deployments_chart_120x40() {
    let mut s = with_trends(120, 40);
    // the busiest service's detail; read a moment ago for its row: not asked for again
    let effects = open_detail(&mut s, 4);
    assert!(metric_loads(&effects).is_empty(), "{effects:?}");
    let screen = render(&mut s, "default", 120, 40);
    assert!(
        screen.contains("CPU and memory, last 60 minutes"),
        "{screen}"
    );
    assert!(
        screen.contains("CPU  now  95%  avg  50%  max  95%"),
        "{screen}"
    );
    insta::assert_snapshot!("deployments_chart_120x40", screen);
}
