//! Rendering snapshots (insta) at 80x24 and 200x50, plus cell-style assertions where colour or
//! modifiers carry meaning (snapshots drop styles).

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::app::{Action, Banner, BannerLevel, Command, Context, DataEvent, State, update};
use berth::aws::{AwsError, ErrorKind};
use berth::config::keymap::Keymap;
use berth::domain::Cluster;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use crate::reducer;
use crate::screen::{draw, text, theme};

fn base_state() -> State {
    reducer::unconnected(1_700_000_000, Some("prod-admin"), false, false)
}

fn clusters() -> Vec<Cluster> {
    vec![
        Cluster {
            arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/prod".into(),
            name: "prod".into(),
            status: "ACTIVE".into(),
            active_services: 14,
            running_tasks: 52,
            pending_tasks: 3,
            registered_instances: 0,
            capacity_providers: vec!["FARGATE".into(), "FARGATE_SPOT".into()],
            container_insights: Some("enabled".into()),
        },
        Cluster {
            arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/staging".into(),
            name: "staging".into(),
            status: "ACTIVE".into(),
            active_services: 9,
            running_tasks: 11,
            pending_tasks: 0,
            registered_instances: 0,
            capacity_providers: vec!["FARGATE".into()],
            container_insights: Some("disabled".into()),
        },
        Cluster {
            arn: "arn:aws:ecs:eu-west-1:210987654321:cluster/legacy".into(),
            name: "legacy".into(),
            status: "INACTIVE".into(),
            ..Cluster::default()
        },
    ]
}

/// A state that has connected, knows who it is, and loaded the clusters above.
fn loaded_state() -> State {
    let mut s = base_state();
    let request = reducer::connect(&mut s)
        .iter()
        .find_map(|e| match e {
            berth::app::Effect::LoadClusters { request } => Some(*request),
            _ => None,
        })
        .expect("load");
    reducer::sign_in(&mut s);
    for event in [
        DataEvent::Listed(3),
        DataEvent::Clusters(clusters()),
        DataEvent::Done,
    ] {
        update(&mut s, Action::Data { request, event });
    }
    s
}

/// Row index of the first line containing `needle`.
fn row_of(buffer: &Buffer, needle: &str) -> u16 {
    text(buffer)
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", text(buffer))) as u16
}

#[test]
fn clusters_pane_80x24() {
    let mut s = loaded_state();
    let buf = draw(&mut s, &theme("default"), 80, 24);
    insta::assert_snapshot!(text(&buf));
}

#[test]
fn clusters_pane_200x50() {
    let mut s = loaded_state();
    let buf = draw(&mut s, &theme("default"), 200, 50);
    insta::assert_snapshot!(text(&buf));
}

#[test]
fn header_shows_profile_region_account_and_identity() {
    let mut s = loaded_state();
    let buf = draw(&mut s, &theme("default"), 80, 24);
    let header = text(&buf).lines().next().unwrap_or_default().to_string();
    for part in [
        "prod-admin",
        "eu-west-1",
        "210987654321",
        "assumed-role/OnCall/alice",
    ] {
        assert!(header.contains(part), "{part} missing from {header:?}");
    }
}

#[test]
fn header_before_anything_answered() {
    let mut s = base_state();
    let buf = draw(&mut s, &theme("default"), 80, 24);
    insta::assert_snapshot!(text(&buf));
}

#[test]
fn help_screen_lists_the_active_bindings() {
    let mut s = loaded_state();
    update(&mut s, Action::Command(Command::Help));
    let first_page = text(&draw(&mut s, &theme("default"), 80, 24));
    let screen = help_scrolled_through(&mut s, 80, 24).join("\n");
    // Every binding of the clusters and global contexts is listed with its first key, on the
    // line where its description starts.
    for ctx in [Context::Clusters, Context::Global] {
        for b in s.keymap.bindings(ctx) {
            let key = b.keys[0].to_string();
            let first_words: String = first_words(&b.description, 2);
            let line = screen
                .lines()
                .find(|l| l.contains(&first_words) && l.contains(&format!(" {key}")))
                .unwrap_or_else(|| panic!("{key} {first_words:?} missing:\n{screen}"));
            assert!(line.trim_start().starts_with(&key), "{key} not on {line:?}");
        }
    }
    insta::assert_snapshot!(first_page);
}

/// The first `n` words of `text`, as they appear on one line.
fn first_words(text: &str, n: usize) -> String {
    text.split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text inside the help overlay's border, page by page as `j` scrolls it to the end,
/// asserting that scrolling stops there: one more `j` changes nothing, one `k` moves back.
fn help_scrolled_through(s: &mut State, cols: u16, rows: u16) -> Vec<String> {
    let t = theme("default");
    let overlay = berth::ui::help::area(ratatui::layout::Rect::new(0, 0, cols, rows));
    let inside = |buf: &Buffer| -> String {
        let mut out = String::new();
        for y in overlay.y + 1..overlay.bottom() - 1 {
            for x in overlay.x + 1..overlay.right() - 1 {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    };
    let mut pages = vec![inside(&draw(s, &t, cols, rows))];
    for _ in 0..200 {
        update(s, Action::Command(Command::Down));
        let page = inside(&draw(s, &t, cols, rows));
        if Some(&page) == pages.last() {
            let end = s.help;
            if end != Some(0) {
                update(s, Action::Command(Command::Up));
                assert_eq!(s.help, end.map(|n| n - 1), "one k leaves the end");
                let up = inside(&draw(s, &t, cols, rows));
                assert_ne!(Some(&up), pages.last(), "and moves the text");
            }
            update(s, Action::Command(Command::Bottom));
            assert_eq!(s.help, end, "bottom is the end");
            update(s, Action::Command(Command::Top));
            assert_eq!(s.help, Some(0));
            return pages;
        }
        pages.push(page);
    }
    panic!("help never stopped scrolling: {:?}", s.help);
}

/// At 80x24 every word of every description shows whole (wrapped, never cut at the border)
/// and action names stay out of the way; from 120 columns they show.
#[test]
fn help_at_80x24_wraps_whole_words_and_shows_action_names_only_when_wide() {
    for (keymap, read_only, open_services) in [
        ("default", false, false),
        ("default", true, true),
        ("vim", false, true),
    ] {
        let mut s = loaded_state();
        s.keymap = Keymap::load(Some(keymap), None)
            .map(|(k, _)| k)
            .expect("keymap");
        s.session.read_only = read_only;
        if open_services {
            update(&mut s, Action::Command(Command::Select));
        }
        let ctx = s.view().context();
        update(&mut s, Action::Command(Command::Help));
        let narrow = help_scrolled_through(&mut s, 80, 24).join("");
        let words: Vec<&str> = narrow.split_whitespace().collect();
        for b in s
            .keymap
            .bindings(ctx)
            .into_iter()
            .chain(s.keymap.bindings(Context::Global))
        {
            for word in b.description.split_whitespace() {
                assert!(
                    words.contains(&word),
                    "{keymap} {}: {word:?} of {:?} is not whole at 80x24:\n{narrow}",
                    ctx.name(),
                    b.description
                );
            }
            if b.command.name().contains('_') {
                assert!(
                    !words.contains(&b.command.name()),
                    "{keymap}: action name {} shown at 80 columns",
                    b.command.name()
                );
            }
        }
        let wide = help_scrolled_through(&mut s, 160, 50).join("");
        let words: Vec<&str> = wide.split_whitespace().collect();
        for b in s
            .keymap
            .bindings(ctx)
            .into_iter()
            .chain(s.keymap.bindings(Context::Global))
        {
            assert!(
                words.contains(&b.command.name()),
                "{keymap}: action name {} missing at 160 columns:\n{wide}",
                b.command.name()
            );
        }
    }
}

#[test]
fn help_screen_200x50() {
    let mut s = loaded_state();
    update(&mut s, Action::Command(Command::Help));
    let buf = draw(&mut s, &theme("default"), 200, 50);
    insta::assert_snapshot!(text(&buf));
}

#[test]
fn expired_credentials_banner() {
    let mut s = loaded_state();
    let err = AwsError::new(
        ErrorKind::ExpiredCredentials,
        "ecs:ListClusters",
        "The security token included in the request is expired",
    );
    s.banner = Some(Banner::from_error(&err, Some("prod-admin")));
    let buf = draw(&mut s, &theme("default"), 80, 24);
    let screen = text(&buf);
    assert!(
        screen.contains("aws sso login --profile prod-admin"),
        "{screen}"
    );
    // The banner's title is drawn in the error style.
    let y = row_of(&buf, "AWS credentials expired");
    let x = text(&buf)
        .lines()
        .nth(y as usize)
        .and_then(|l| l.find("AWS credentials expired"))
        .unwrap_or(0) as u16;
    assert_eq!(
        buf[(x, y)].style().fg,
        theme("default").style(berth::config::theme::Slot::Error).fg
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn config_warning_banner_and_load_error_in_place() {
    let mut s = loaded_state();
    berth::app::config_warnings(
        &mut s,
        &["keymap.toml:3:8: warning: key \"j\" bound twice in [clusters]".to_string()],
    );
    s.clusters.data.rows.clear();
    s.clusters.data.error = Some(AwsError::new(
        ErrorKind::AccessDenied,
        "ecs:ListClusters",
        "User is not authorized to perform ecs:ListClusters",
    ));
    let banner = s.banner.clone();
    assert!(matches!(
        banner,
        Some(Banner {
            level: BannerLevel::Warning,
            ..
        })
    ));
    let buf = draw(&mut s, &theme("default"), 80, 24);
    insta::assert_snapshot!(text(&buf));
}

#[test]
fn empty_region_says_so() {
    let mut s = loaded_state();
    let Some(berth::app::Effect::LoadClusters { request }) =
        update(&mut s, Action::Command(Command::Refresh))
            .first()
            .cloned()
    else {
        panic!("refresh");
    };
    for event in [DataEvent::Listed(0), DataEvent::Done] {
        update(&mut s, Action::Data { request, event });
    }
    let screen = text(&draw(&mut s, &theme("default"), 80, 24));
    assert!(screen.contains("No ECS clusters in eu-west-1"), "{screen}");
}

#[test]
fn hostile_cluster_names_are_rendered_harmlessly() {
    let mut s = loaded_state();
    s.clusters.data.rows[0].name = "evil\x1b]52;c;cHduZWQ=\x07\x1b[2J\u{202e}x".into();
    let buf = draw(&mut s, &theme("default"), 80, 24);
    for cell in buf.content() {
        assert!(
            !cell
                .symbol()
                .chars()
                .any(|c| c.is_control() || c == '\u{202e}'),
            "control character reached the buffer: {:?}",
            cell.symbol()
        );
    }
    assert!(text(&buf).contains("evil␛]52"), "{}", text(&buf));
}

#[test]
fn mono_theme_uses_no_colour_and_marks_the_selection_with_reverse() {
    let mono = theme("mono");
    assert!(mono.is_mono());
    let mut s = loaded_state();
    update(&mut s, Action::Command(Command::Down));
    let buf = draw(&mut s, &mono, 80, 24);
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "mono drew a colour: {cell:?}"
        );
    }
    // Rows are sorted by name: legacy, prod, staging; Down selects prod.
    let y = row_of(&buf, "prod ");
    assert!(
        buf[(0, y)].modifier.contains(Modifier::REVERSED),
        "selected row is reversed"
    );
    let other = row_of(&buf, "staging");
    assert!(!buf[(0, other)].modifier.contains(Modifier::REVERSED));
    insta::assert_snapshot!(text(&buf));
}

/// Below `MIN_COLS`x`MIN_ROWS` the screen is one notice, "too small (WxH)", cut to the width,
/// in the warning style, and nothing else; from the minimum up, the whole layout: header on the
/// first row, footer on the last, the help box (open here, the widest overlay) between them.
/// Every size from 1x1 to the minimum, and the minimum in one direction only.
#[test]
fn tiny_terminals_show_the_size_notice_and_the_minimum_shows_the_layout() {
    use berth::config::theme::Slot;
    use berth::ui::{MIN_COLS, MIN_ROWS};
    let mut s = loaded_state();
    update(&mut s, Action::Command(Command::Help));
    let t = theme("default");
    let warning = t.style(Slot::Warning);

    let mut sizes: Vec<(u16, u16)> = (1..=MIN_COLS)
        .flat_map(|c| (1..=MIN_ROWS).map(move |r| (c, r)))
        .collect();
    sizes.extend([
        (MIN_COLS - 1, 100),
        (300, MIN_ROWS - 1),
        (1, 100),
        (300, 1),
        (MIN_COLS + 1, MIN_ROWS + 1),
        (40, 10),
        (300, 100),
    ]);
    for (cols, rows) in sizes {
        let buf = draw(&mut s, &t, cols, rows);
        assert_eq!((buf.area.width, buf.area.height), (cols, rows));
        let screen = text(&buf);
        let lines: Vec<&str> = screen.lines().collect();
        if cols < MIN_COLS || rows < MIN_ROWS {
            let notice = format!("too small ({cols}x{rows})");
            let shown: String = notice.chars().take(usize::from(cols)).collect();
            let shown = shown.trim_end();
            assert_eq!(lines[0], shown, "{cols}x{rows}:\n{screen}");
            assert!(
                lines[1..].iter().all(|l| l.is_empty()),
                "{cols}x{rows}: more than the notice:\n{screen}"
            );
            for x in 0..u16::try_from(shown.len()).unwrap() {
                assert_eq!(
                    buf[(x, 0)].fg,
                    warning.fg.unwrap_or(Color::Reset),
                    "{cols}x{rows}: notice not in the warning style"
                );
            }
        } else {
            assert!(!screen.contains("too small"), "{cols}x{rows}:\n{screen}");
            assert!(lines[0].starts_with(" berth"), "{cols}x{rows}:\n{screen}");
            let last = lines[usize::from(rows) - 1];
            assert!(!last.is_empty(), "{cols}x{rows}: no footer:\n{screen}");
            assert!(
                lines[1].contains('┌'),
                "{cols}x{rows}: the help box does not start under the header:\n{screen}"
            );
            assert!(
                lines[usize::from(rows) - 2].contains('└'),
                "{cols}x{rows}: the help box does not end above the footer:\n{screen}"
            );
        }
    }
}
