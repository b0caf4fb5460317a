//! Rendering benchmark: frame time of the services table with 5,000 rows at 80x24 and
//! 200x60 (criterion), and the bytes a frame writes to the terminal through the real
//! crossterm backend (printed once): the first full frame, a frame where nothing changed,
//! and a frame after moving the selection by one row.
//!
//! Run: `cargo bench --bench render`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use berth::app::{Action, Command, DataEvent, Effect, IdentityState, Session, State, update};
use berth::domain::{Deployment, Service};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};

const NOW: i64 = 1_714_564_800;
const SERVICES: usize = 5_000;

fn services(n: usize) -> Vec<Service> {
    (0..n)
        .map(|i| {
            let name = format!("service-{i:05}");
            let unhealthy = i % 17 == 0;
            Service {
                arn: format!("arn:aws:ecs:eu-west-1:210987654321:service/prod/{name}"),
                name: name.clone(),
                status: "ACTIVE".into(),
                desired: 4,
                running: if unhealthy { 2 } else { 4 },
                pending: if unhealthy { 2 } else { 0 },
                task_definition: format!("{name}:{}", 1 + i % 40),
                launch_type: Some("FARGATE".into()),
                deployments: vec![Deployment {
                    id: format!("ecs-svc/{i}"),
                    status: "PRIMARY".into(),
                    rollout_state: Some(
                        if unhealthy {
                            "IN_PROGRESS"
                        } else {
                            "COMPLETED"
                        }
                        .into(),
                    ),
                    desired: 4,
                    running: if unhealthy { 2 } else { 4 },
                    task_definition: format!("{name}:{}", 1 + i % 40),
                    created_at: Some(NOW - 3600 - i as i64),
                    updated_at: Some(NOW - 60),
                    ..Deployment::default()
                }],
                created_at: Some(NOW - 86_400 * 30),
                ..Service::default()
            }
        })
        .collect()
}

fn state(cols: u16, rows: u16) -> State {
    let session = Session {
        target: berth::aws::AwsTarget::default(),
        region: Some("eu-west-1".into()),
        connected: true,
        identity: IdentityState::Pending,
        read_only: false,
        protected: false,
        demo: false,
    };
    let keymap = berth::config::keymap::Keymap::load(None, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .0;
    let mut s = State::new(session, keymap, 5, NOW);
    s.views.push(berth::app::nav::services_view("prod"));
    let effects = update(&mut s, Action::Command(Command::Refresh));
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadServices { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no load: {effects:?}"));
    for event in [DataEvent::Services(services(SERVICES)), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    update(&mut s, Action::Resize { cols, rows });
    s
}

/// A writer that counts what it is given.
#[derive(Clone, Default)]
struct Counting(Arc<Mutex<usize>>);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut n) = self.0.lock() {
            *n += buf.len();
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bytes_per_frame(cols: u16, rows: u16) {
    let theme = berth::config::theme::Theme::load(Some("default"), false, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .0;
    let mut s = state(cols, rows);
    let counter = Counting::default();
    let backend = CrosstermBackend::new(counter.clone());
    let mut terminal = Terminal::with_options(
        backend,
        ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, cols, rows)),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut measure = |s: &State| {
        let before = counter.0.lock().map(|n| *n).unwrap_or(0);
        terminal
            .draw(|f| berth::ui::render(f, s, &theme))
            .unwrap_or_else(|e| panic!("{e}"));
        counter.0.lock().map(|n| *n).unwrap_or(0) - before
    };
    let first = measure(&s);
    let same = measure(&s);
    update(&mut s, Action::Command(Command::Down));
    let moved = measure(&s);
    println!(
        "bytes/frame services {SERVICES} rows {cols}x{rows}: first {first}, unchanged {same}, selection moved {moved} (screen has {} cells)",
        usize::from(cols) * usize::from(rows)
    );
}

fn bench(c: &mut Criterion) {
    let theme = berth::config::theme::Theme::load(Some("default"), false, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .0;
    let mut g = c.benchmark_group("render");
    for (cols, rows) in [(80u16, 24u16), (200, 60)] {
        bytes_per_frame(cols, rows);
        let state = state(cols, rows);
        let mut terminal =
            Terminal::new(TestBackend::new(cols, rows)).unwrap_or_else(|e| panic!("{e}"));
        g.bench_function(format!("services_{SERVICES}_rows_{cols}x{rows}"), |b| {
            b.iter(|| {
                terminal
                    .draw(|f| berth::ui::render(f, &state, &theme))
                    .unwrap_or_else(|e| panic!("{e}"));
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
