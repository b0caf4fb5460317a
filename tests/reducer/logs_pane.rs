//! The logs pane: reducer behaviour (follow, pause and "N new lines", filter, errors-only,
//! search, pivot, older history, save, session lifecycle) and snapshots of its states at
//! 80x24, with hostile lines rendered harmlessly.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::logs::{LogsView, TailState};
use berth::app::{Action, Command, DataEvent, Effect, State, View, update};
use berth::config::keymap::Keymap;
use berth::config::theme::Slot;
use berth::logs::session::SessionEvent;
use berth::logs::source::Scope;
use berth::logs::tail::{TailMessage, TailStatus};
use berth::logs::{LogEvent, Origin};

use crate::reducer;
use crate::screen::{draw, text, theme};

const NOW: i64 = 1_700_000_000;
const T0: i64 = NOW * 1000 - 300_000;
const TASK_A: &str = "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6";
const TASK_B: &str = "9f8e7d6c5b4a49388271605f4e3d2c1b";

fn state() -> State {
    reducer::signed_in(NOW, None, false, false)
}

fn service_scope() -> Scope {
    Scope {
        cluster: "prod".into(),
        service: Some("checkout-api".into()),
        task: None,
        container: None,
    }
}

/// A logs view of checkout-api on top, its session started: returns the tail id.
fn open(s: &mut State) -> u64 {
    s.views.push(View::Logs(Box::new(LogsView::new(
        service_scope(),
        NOW * 1000 - 600_000,
        s.logs_capacity,
    ))));
    let effects = update(s, Action::RefreshDue);
    let tail = effects
        .iter()
        .find_map(|e| match e {
            Effect::StartLogs {
                tail,
                scope,
                since_ms,
            } => {
                assert_eq!(scope, &service_scope());
                assert_eq!(*since_ms, NOW * 1000 - 600_000);
                Some(*tail)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no StartLogs in {effects:?}"));
    session(
        s,
        tail,
        SessionEvent::Resolved {
            streams: 4,
            containers: vec!["app".into(), "envoy".into()],
            notes: vec![],
            all_stopped: false,
        },
    );
    session(
        s,
        tail,
        SessionEvent::Tail(TailMessage::Status(TailStatus::Live { sampled: false })),
    );
    tail
}

fn session(s: &mut State, tail: u64, event: SessionEvent) {
    update(s, Action::Logs { tail, event });
}

fn events(s: &mut State, tail: u64, evs: Vec<LogEvent>) {
    session(s, tail, SessionEvent::Tail(TailMessage::Events(evs)));
}

fn ev(task: &str, container: &str, at: i64, raw: &str) -> LogEvent {
    LogEvent::new(
        &Origin::new("/ecs/checkout-api", &format!("ecs/{container}/{task}")),
        format!("{task}-{at}"),
        T0 + at,
        T0 + at + 100,
        raw.to_string(),
    )
}

fn json(level: &str, msg: &str, request: &str, extra: &str) -> String {
    format!(
        r#"{{"time":"2023-11-14T22:08:20Z","level":"{level}","msg":"{msg}","request_id":"{request}"{extra}}}"#
    )
}

/// A realistic mix: two tasks, two containers, levels, a logfmt line, a plain line and a
/// multi-line stack trace.
fn mixed() -> Vec<LogEvent> {
    vec![
        ev(
            TASK_A,
            "app",
            0,
            &json(
                "INFO",
                "request completed",
                "req-1",
                r#","status":200,"path":"/api/cart""#,
            ),
        ),
        ev(
            TASK_B,
            "envoy",
            700,
            r#"[2023-11-14T22:08:20.700Z] "GET /health HTTP/1.1" 200"#,
        ),
        ev(
            TASK_B,
            "app",
            1_200,
            &json(
                "WARN",
                "slow request",
                "req-2",
                r#","status":200,"latency_ms":1840"#,
            ),
        ),
        ev(
            TASK_A,
            "app",
            2_000,
            "level=error msg=\"payment declined\" request_id=req-3 status=502",
        ),
        ev(
            TASK_B,
            "app",
            2_500,
            "Error: connect ECONNREFUSED 10.0.3.7:5432\n    at TCPConnectWrap.afterConnect (node:net:1555:16)\n    at Pool.connect (/app/db.js:40:11)",
        ),
        ev(
            TASK_A,
            "app",
            3_000,
            &json(
                "ERROR",
                "upstream timeout",
                "req-1",
                r#","status":504,"path":"/api/pay""#,
            ),
        ),
        ev(
            TASK_B,
            "app",
            3_500,
            &json("DEBUG", "cache miss", "req-4", r#","key":"cart:42""#),
        ),
    ]
}

fn logs(s: &State) -> &LogsView {
    match s.view() {
        View::Logs(v) => v,
        other => panic!("not the logs view: {other:?}"),
    }
}

fn render(s: &mut State) -> String {
    reducer::screen(s, "default", 80, 24)
}

fn cmd(s: &mut State, c: Command) -> Vec<Effect> {
    update(s, Action::Command(c))
}

fn row_of(screen: &str, needle: &str) -> usize {
    screen
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{screen}"))
}

#[test]
fn structured_lines_show_time_level_task_container_message_and_fields() {
    let mut s = state();
    let tail = open(&mut s);
    events(&mut s, tail, mixed());
    let screen = render(&mut s);
    insta::assert_snapshot!("logs_structured_80x24", screen);
    let row = &screen
        .lines()
        .nth(row_of(&screen, "upstream timeout"))
        .unwrap()
        .to_string();
    assert!(
        row.starts_with("22:08:23.000 ERROR 1a2b3c4d app upstream timeout"),
        "{row}"
    );
    assert!(row.contains("request_id=req-1"), "{row}");
    // The stack trace stays one event, with its line count.
    let wide = text(&draw(&mut s, &theme("default"), 120, 24));
    assert!(
        wide.contains("ECONNREFUSED 10.0.3.7:5432 ↵ +2 lines"),
        "{wide}"
    );
    // Level colours: ERROR in the error slot, WARN in the warning slot.
    let buffer = draw(&mut s, &theme("default"), 80, 24);
    let t = theme("default");
    let y = row_of(&text(&buffer), "upstream timeout") as u16;
    assert_eq!(buffer[(13, y)].style().fg, t.style(Slot::LogError).fg);
    let y = row_of(&text(&buffer), "slow request") as u16;
    assert_eq!(buffer[(13, y)].style().fg, t.style(Slot::LogWarn).fg);
    // Mono (NO_COLOR): no colour at all, the error level still stands out.
    let buffer = draw(&mut s, &theme("mono"), 80, 24);
    let y = row_of(&text(&buffer), "upstream timeout") as u16;
    let style = buffer[(13, y)].style();
    use ratatui::style::Color;
    assert!(
        matches!(style.fg, None | Some(Color::Reset))
            && matches!(style.bg, None | Some(Color::Reset)),
        "{style:?}"
    );
    assert!(
        style
            .add_modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
}

#[test]
fn raw_mode_and_expanded_json() {
    let mut s = state();
    let tail = open(&mut s);
    events(&mut s, tail, mixed());
    cmd(&mut s, Command::ToggleRaw);
    let screen = render(&mut s);
    insta::assert_snapshot!("logs_raw_80x24", screen);
    assert!(
        screen.contains(r#"{"time":"2023-11-14T22:08:20Z","level":"INFO""#),
        "{screen}"
    );
    cmd(&mut s, Command::ToggleRaw);
    // Up twice from the newest (DEBUG) to the ERROR JSON line, expand it.
    cmd(&mut s, Command::Up);
    cmd(&mut s, Command::Select);
    let screen = render(&mut s);
    insta::assert_snapshot!("logs_expanded_80x24", screen);
    assert!(screen.contains(r#""msg": "upstream timeout","#), "{screen}");
    assert!(screen.contains(r#""status": 504"#), "{screen}");
    // Esc closes the detail first, without leaving the pane.
    cmd(&mut s, Command::Back);
    assert!(!logs(&s).expanded);
    assert!(matches!(s.view(), View::Logs(_)));
}

#[test]
fn errors_only_warnings_up_and_a_query_filter() {
    let mut s = state();
    let tail = open(&mut s);
    events(&mut s, tail, mixed());
    cmd(&mut s, Command::ErrorsOnly);
    let screen = render(&mut s);
    insta::assert_snapshot!("logs_filter_errors_80x24", screen);
    assert_eq!(logs(&s).buffer.view_len(), 3, "{screen}");
    assert!(screen.contains("filter level>=error (3 shown)"), "{screen}");
    assert!(!screen.contains("slow request"));
    cmd(&mut s, Command::WarningsUp);
    assert_eq!(logs(&s).buffer.view_len(), 4);
    cmd(&mut s, Command::WarningsUp);
    assert_eq!(
        logs(&s).buffer.view_len(),
        7,
        "same key again shows everything"
    );

    // `f` + a query, applied on Enter; a bad query keeps the line open with the error.
    cmd(&mut s, Command::Filter);
    for c in "status>=500 and".chars() {
        update(&mut s, Action::Key(key(c)));
    }
    update(&mut s, Action::Key(enter()));
    let input = s.input.as_ref().expect("input stays open on a bad query");
    assert!(
        input.error.as_deref().unwrap_or("").contains("column"),
        "{input:?}"
    );
    assert_eq!(logs(&s).buffer.view_len(), 7, "a bad query changes nothing");
    update(&mut s, Action::Key(backspace()));
    for _ in 0..3 {
        update(&mut s, Action::Key(backspace()));
    }
    update(&mut s, Action::Key(enter()));
    assert!(s.input.is_none());
    assert_eq!(logs(&s).buffer.filter().source, "status>=500");
    assert_eq!(logs(&s).buffer.view_len(), 2, "502 and 504");
    // Esc clears the filter before leaving.
    cmd(&mut s, Command::Back);
    assert_eq!(logs(&s).buffer.view_len(), 7);
    assert!(matches!(s.view(), View::Logs(_)));
}

fn key(c: char) -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c))
}
fn enter() -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter)
}
fn backspace() -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Backspace)
}

/// A key rebound in the user's keymap.toml is the key the pane, the footer and the search
/// line name, not the default's.
#[test]
fn a_rebound_key_is_the_one_the_pane_and_the_footer_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keymap.toml"),
        "[[logs]]\nkeys = [\"P\"]\naction = \"toggle_follow\"\n\n\
         [[logs]]\nkeys = [\"F\"]\naction = \"none\"\n\n\
         [[logs]]\nkeys = [\"ctrl-n\"]\naction = \"search_next\"\n\n\
         [[logs]]\nkeys = [\"n\"]\naction = \"none\"\n",
    )
    .unwrap();
    let (keymap, warnings) = Keymap::load(None, Some(dir.path())).unwrap();
    assert!(warnings.is_empty(), "{warnings:#?}");
    let mut s = state();
    s.keymap = keymap;
    let tail = open(&mut s);
    events(&mut s, tail, mixed());
    cmd(&mut s, Command::Up);
    assert!(!logs(&s).follow);
    let screen = render(&mut s);
    assert!(screen.contains("paused · P follows again"), "{screen}");
    let footer = screen.lines().last().unwrap_or_default();
    assert!(footer.contains("P pause"), "{footer}");
    assert!(
        !screen.contains("F follows") && !footer.contains("F pause"),
        "{screen}"
    );
    cmd(&mut s, Command::Search);
    let screen = render(&mut s);
    let footer = screen.lines().last().unwrap_or_default();
    assert!(footer.contains("ctrl-n/N next/previous"), "{footer}");
}

#[test]
fn scrolling_up_pauses_and_counts_new_lines_and_g_follows_again() {
    let mut s = state();
    let tail = open(&mut s);
    events(&mut s, tail, mixed());
    assert!(logs(&s).follow);
    assert_eq!(logs(&s).selected, 6);
    cmd(&mut s, Command::Up);
    cmd(&mut s, Command::Up);
    assert!(!logs(&s).follow);
    let selected_raw = logs(&s).selected_event().unwrap().raw.clone();
    let more: Vec<LogEvent> = (0..5)
        .map(|i| {
            ev(
                TASK_A,
                "app",
                10_000 + i * 100,
                &json("INFO", &format!("new line {i}"), "req-9", ""),
            )
        })
        .collect();
    events(&mut s, tail, more);
    assert_eq!(logs(&s).new_lines, 5);
    assert_eq!(
        logs(&s).selected_event().unwrap().raw,
        selected_raw,
        "the cursor stays on its line"
    );
    let screen = render(&mut s);
    insta::assert_snapshot!("logs_paused_new_lines_80x24", screen);
    assert!(
        screen.contains("paused · 5 new lines · F follows again"),
        "{screen}"
    );
    cmd(&mut s, Command::Bottom);
    assert!(logs(&s).follow);
    assert_eq!(logs(&s).new_lines, 0);
    assert_eq!(logs(&s).selected, 11);
    let screen = render(&mut s);
    assert!(!screen.contains("paused"), "{screen}");
    assert!(screen.contains("new line 4"), "{screen}");
}

#[test]
fn a_full_buffer_drops_the_oldest_and_says_how_many() {
    let mut s = state();
    s.logs_capacity = 20;
    let tail = open(&mut s);
    let many: Vec<LogEvent> = (0..35)
        .map(|i| {
            ev(
                TASK_A,
                "app",
                i * 10,
                &json("INFO", &format!("line {i}"), "r", ""),
            )
        })
        .collect();
    events(&mut s, tail, many);
    assert_eq!(logs(&s).buffer.len(), 20);
    assert_eq!(logs(&s).buffer.dropped(), 15);
    let screen = render(&mut s);
    insta::assert_snapshot!("logs_dropped_80x24", screen);
    assert!(screen.contains("20 lines · 15 dropped"), "{screen}");
    assert!(
        screen.contains("line 34") && !screen.contains("line 14 "),
        "{screen}"
    );
}

#[test]
fn hostile_lines_are_rendered_harmlessly() {
    let mut s = state();
    let tail = open(&mut s);
    let hostile = vec![
        ev(TASK_A, "app", 0, "\u{1b}]0;pwned title\u{7}title change"),
        ev(
            TASK_A,
            "app",
            10,
            "\u{1b}]52;c;cm0gLXJmIC8K\u{7}clipboard write",
        ),
        ev(TASK_A, "app", 20, "\u{1b}[2J\u{1b}[Hclear screen and home"),
        ev(TASK_A, "app", 30, "bidi \u{202e}desrever\u{202c} text"),
        ev(
            TASK_A,
            "app",
            40,
            "c1 \u{9b}31m controls \u{85} and bell \u{7}",
        ),
        ev(
            TASK_A,
            "app",
            50,
            &json("ERROR", "json with \\u001b[31m escape", "r", ""),
        ),
        ev(TASK_A, "app", 60, &"x".repeat(300_000)),
    ];
    events(&mut s, tail, hostile);
    let buffer = draw(&mut s, &theme("default"), 80, 24);
    let screen = text(&buffer);
    insta::assert_snapshot!("logs_hostile_80x24", screen);
    for cell in buffer.content() {
        for c in cell.symbol().chars() {
            let u = c as u32;
            assert!(
                !(u < 0x20 || (0x7f..=0x9f).contains(&u) || (0x202a..=0x202e).contains(&u)),
                "control character U+{u:04X} reached the screen:\n{screen}"
            );
        }
    }
    assert!(
        screen.contains("␛]52;c;cm0gLXJmIC8K␇clipboard write"),
        "{screen}"
    );
    assert!(screen.contains(&"x".repeat(40)), "{screen}");
    // Wrapping and expanding the long line stay bounded too.
    cmd(&mut s, Command::ToggleWrap);
    cmd(&mut s, Command::Select);
    let wrapped = render(&mut s);
    assert!(wrapped.contains("line detail"), "{wrapped}");
}

#[test]
fn search_highlights_and_n_moves_between_matches() {
    let mut s = state();
    let tail = open(&mut s);
    events(&mut s, tail, mixed());
    cmd(&mut s, Command::Top);
    cmd(&mut s, Command::Search);
    for c in "req-1".chars() {
        update(&mut s, Action::Key(key(c)));
    }
    update(&mut s, Action::Key(enter()));
    assert_eq!(logs(&s).selected, 0, "first match at or after the cursor");
    cmd(&mut s, Command::SearchNext);
    assert_eq!(logs(&s).selected, 5);
    cmd(&mut s, Command::SearchNext);
    assert_eq!(logs(&s).selected, 0, "wraps around");
    cmd(&mut s, Command::SearchPrev);
    assert_eq!(logs(&s).selected, 5);
    let buffer = draw(&mut s, &theme("default"), 80, 24);
    let screen = text(&buffer);
    let y = row_of(&screen, "request completed") as u16;
    let x = screen
        .lines()
        .nth(y as usize)
        .unwrap()
        .find("req-1")
        .unwrap();
    let col = screen.lines().nth(y as usize).unwrap()[..x].chars().count() as u16;
    assert_eq!(
        buffer[(col, y)].style().bg,
        theme("default").style(Slot::MatchHighlight).bg,
        "match highlighted:\n{screen}"
    );
    assert!(screen.contains("search req-1 · n/N"), "{screen}");
}

#[test]
fn pivot_filters_to_the_lines_request_id_across_tasks() {
    let mut s = state();
    let tail = open(&mut s);
    let mut evs = mixed();
    evs.push(ev(
        TASK_B,
        "app",
        4_000,
        &json("INFO", "retry succeeded", "req-1", ""),
    ));
    events(&mut s, tail, evs);
    // The newest line is req-1 on task B.
    cmd(&mut s, Command::Pivot);
    assert_eq!(logs(&s).buffer.filter().source, "request_id=req-1");
    let tasks: Vec<String> = logs(&s)
        .buffer
        .view_iter()
        .map(|e| e.short_task_id().to_string())
        .collect();
    assert_eq!(tasks, vec!["1a2b3c4d", "1a2b3c4d", "9f8e7d6c"]);
    cmd(&mut s, Command::Pivot);
    assert!(logs(&s).buffer.filter().is_empty(), "pivot again clears it");
    // A line without ids says so.
    cmd(&mut s, Command::Top);
    cmd(&mut s, Command::Down); // the envoy line
    cmd(&mut s, Command::Pivot);
    assert!(logs(&s).buffer.filter().is_empty());
    assert!(s.status.as_ref().unwrap().text.contains("no request"));
}

#[test]
fn older_history_is_prepended_and_the_cursor_keeps_its_line() {
    let mut s = state();
    let tail = open(&mut s);
    events(&mut s, tail, mixed());
    cmd(&mut s, Command::Up);
    let before = logs(&s).selected_event().unwrap().raw.clone();
    let effects = cmd(&mut s, Command::LoadOlder);
    assert_eq!(
        effects,
        vec![Effect::FetchOlderLogs {
            tail,
            span_ms: 600_000
        }]
    );
    assert!(cmd(&mut s, Command::LoadOlder).is_empty(), "one at a time");
    let older: Vec<LogEvent> = (0..3)
        .map(|i| ev(TASK_A, "app", -100_000 + i, &json("INFO", "old", "r0", "")))
        .collect();
    session(
        &mut s,
        tail,
        SessionEvent::Tail(TailMessage::Older {
            events: older,
            from_ms: T0 - 900_000,
            to_ms: T0 - 300_000,
        }),
    );
    let v = logs(&s);
    assert_eq!(v.buffer.len(), 10);
    assert_eq!(v.selected_event().unwrap().raw, before);
    assert_eq!(v.since_ms, T0 - 900_000);
    assert!(!v.loading_older);
}

#[test]
fn save_writes_the_filtered_lines_as_text() {
    let mut s = state();
    let tail = open(&mut s);
    events(&mut s, tail, mixed());
    cmd(&mut s, Command::ErrorsOnly);
    let effects = cmd(&mut s, Command::SaveLogs);
    let [
        Effect::SaveLogs {
            path,
            contents,
            lines,
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(*lines, 3);
    let text = String::from_utf8(contents.clone()).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("2023-")).count(),
        3,
        "{text}"
    );
    assert!(text.contains("upstream timeout") && !text.contains("slow request"));
    let name = path.to_string_lossy();
    assert!(
        name.starts_with("berth-service-checkout-api-") && name.ends_with(".log"),
        "{name}"
    );
}

#[test]
fn leaving_stops_the_session_and_late_messages_are_ignored() {
    let mut s = state();
    let tail = open(&mut s);
    events(&mut s, tail, mixed());
    let effects = cmd(&mut s, Command::Back);
    assert!(effects.contains(&Effect::StopLogs { tail }), "{effects:?}");
    assert_eq!(s.logs_tail, None);
    // An answer still in the channel changes nothing.
    let stack = s.views.len();
    events(&mut s, tail, mixed());
    assert_eq!(s.views.len(), stack);
    // Previous view brings the pane back with a fresh session.
    let effects = cmd(&mut s, Command::PreviousView);
    let restarted = effects.iter().find_map(|e| match e {
        Effect::StartLogs { tail, .. } => Some(*tail),
        _ => None,
    });
    assert!(restarted.is_some_and(|t| t != tail), "{effects:?}");
    assert_eq!(logs(&s).buffer.len(), 0, "re-read from the start");
    events(&mut s, tail, mixed());
    assert_eq!(
        logs(&s).buffer.len(),
        0,
        "the old session's lines are ignored"
    );
}

#[test]
fn container_cycling_restarts_with_one_container_then_all() {
    let mut s = state();
    let tail = open(&mut s);
    let effects = cmd(&mut s, Command::CycleContainer);
    let scope_of = |effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::StartLogs { scope, .. } => Some(scope.container.clone()),
            _ => None,
        })
    };
    assert_eq!(scope_of(&effects), Some(Some("app".into())));
    assert!(effects.contains(&Effect::StopLogs { tail }) || s.logs_tail != Some(tail));
    let new_tail = s.logs_tail.unwrap();
    session(
        &mut s,
        new_tail,
        SessionEvent::Resolved {
            streams: 2,
            containers: vec!["app".into(), "envoy".into()],
            notes: vec![],
            all_stopped: false,
        },
    );
    assert_eq!(
        scope_of(&cmd(&mut s, Command::CycleContainer)),
        Some(Some("envoy".into()))
    );
    assert_eq!(scope_of(&cmd(&mut s, Command::CycleContainer)), Some(None));
}

#[test]
fn failures_and_notes_are_shown_in_the_pane() {
    let mut s = state();
    let tail = open(&mut s);
    session(
        &mut s,
        tail,
        SessionEvent::Resolved {
            streams: 1,
            containers: vec!["app".into()],
            notes: vec![
                "container router uses FireLens (awsfirelens): its logs go to datadog".into(),
            ],
            all_stopped: false,
        },
    );
    session(
        &mut s,
        tail,
        SessionEvent::Failed {
            message: "access denied: logs:FilterLogEvents".into(),
            error: None,
        },
    );
    assert!(matches!(logs(&s).state, TailState::Failed(_)));
    let screen = render(&mut s);
    assert!(
        screen.contains("note: container router uses FireLens"),
        "{screen}"
    );
    assert!(
        screen.contains("access denied: logs:FilterLogEvents"),
        "{screen}"
    );
    // ctrl-r restarts.
    let effects = cmd(&mut s, Command::Refresh);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::StartLogs { .. })),
        "{effects:?}"
    );
}

#[test]
fn opens_from_services_tasks_and_task_detail_with_one_key() {
    use berth::domain::{Service, Task};
    let mut s = state();
    s.views = vec![View::Clusters, berth::app::nav::services_view("prod")];
    let request = s.next_request - 1;
    let _ = request;
    let effects = update(&mut s, Action::RefreshDue);
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadServices { request, .. } => Some(*request),
            _ => None,
        })
        .expect("services load");
    let service = Service {
        name: "checkout-api".into(),
        arn: "arn:aws:ecs:eu-west-1:1:service/prod/checkout-api".into(),
        status: "ACTIVE".into(),
        ..Service::default()
    };
    update(
        &mut s,
        Action::Data {
            request,
            event: DataEvent::Services(vec![service]),
        },
    );
    let effects = cmd(&mut s, Command::ShowLogs);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::StartLogs { scope, .. } if scope == &service_scope())),
        "{effects:?}"
    );
    // From a task: that task, all containers.
    s.views = vec![
        View::Clusters,
        berth::app::nav::task_detail_view("prod", "arn:aws:ecs:eu-west-1:1:task/prod/abc123"),
    ];
    let _ = Task::default();
    let effects = cmd(&mut s, Command::ShowLogs);
    let scope = effects
        .iter()
        .find_map(|e| match e {
            Effect::StartLogs { scope, .. } => Some(scope.clone()),
            _ => None,
        })
        .expect("start");
    assert_eq!(
        scope.task.as_deref(),
        Some("arn:aws:ecs:eu-west-1:1:task/prod/abc123")
    );
    assert_eq!(scope.container, None);
    assert!(s.breadcrumbs().join(" › ").ends_with("abc123 › logs"));
}

#[test]
fn a_stopped_tasks_logs_do_not_claim_to_be_live() {
    let mut s = state();
    let tail = open(&mut s);
    assert!(
        render(&mut s).contains("● live"),
        "a running service's tail is live"
    );
    session(
        &mut s,
        tail,
        SessionEvent::Resolved {
            streams: 1,
            containers: vec!["app".into()],
            notes: vec![],
            all_stopped: true,
        },
    );
    let screen = render(&mut s);
    assert!(screen.contains("■ stopped · no new lines"), "{screen}");
    assert!(!screen.contains("● live"), "{screen}");
}
