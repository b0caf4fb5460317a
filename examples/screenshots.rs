//! Regenerate `screenshots/*.png` from the sandbox drills:
//!
//! ```sh
//! cargo run --release --example screenshots
//! ```
//!
//! Each scene drives the real reducer and effect runner against the embedded sandbox (as the
//! console does), renders what the console draws into a ratatui buffer, and paints that
//! buffer's cells (characters, colours, bold, reverse) into a PNG with DejaVu Sans Mono
//! (`fonts-dejavu-core` on Debian; another monospace font with `BERTH_SCREENSHOT_FONT`).

#[allow(dead_code, clippy::expect_used, clippy::unwrap_used)]
#[path = "../tests/common/console.rs"]
mod console;
#[path = "../tests/common/screen.rs"]
mod screen;

use std::path::{Path, PathBuf};
use std::time::Duration;

use berth::app::{Action, Command, State, View, update};
use berth::config::theme::Theme;
use berth::sandbox::{self, SandboxOptions, Scenario};
use console::{Console, key, loaded, on_service, type_text};
use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const COLS: u16 = 120;
const ROWS: u16 = 34;
const PX: f32 = 15.0;

type Rgb = [u8; 3];
const BG: Rgb = [0x1d, 0x1f, 0x21];
const FG: Rgb = [0xd0, 0xd0, 0xd0];

fn ansi(c: Color) -> Option<Rgb> {
    Some(match c {
        Color::Reset => return None,
        Color::Black => [0x1d, 0x1f, 0x21],
        Color::Red => [0xcc, 0x66, 0x66],
        Color::Green => [0xb5, 0xbd, 0x68],
        Color::Yellow => [0xf0, 0xc6, 0x74],
        Color::Blue => [0x81, 0xa2, 0xbe],
        Color::Magenta => [0xb2, 0x94, 0xbb],
        Color::Cyan => [0x8a, 0xbe, 0xb7],
        Color::Gray => [0xc5, 0xc8, 0xc6],
        Color::DarkGray => [0x70, 0x78, 0x80],
        Color::LightRed => [0xff, 0x7b, 0x7b],
        Color::LightGreen => [0xc8, 0xe6, 0x8c],
        Color::LightYellow => [0xff, 0xe0, 0x8c],
        Color::LightBlue => [0xa0, 0xc8, 0xf0],
        Color::LightMagenta => [0xd7, 0xaf, 0xf0],
        Color::LightCyan => [0xa0, 0xe6, 0xe6],
        Color::White => [0xff, 0xff, 0xff],
        Color::Rgb(r, g, b) => [r, g, b],
        Color::Indexed(i) => {
            let v = i.saturating_mul(10);
            [v, v, v]
        }
    })
}

struct Fonts {
    regular: fontdue::Font,
    bold: fontdue::Font,
    fallback: Option<fontdue::Font>,
}

fn load_font(path: &Path) -> Option<fontdue::Font> {
    let bytes = std::fs::read(path).ok()?;
    fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default()).ok()
}

fn fonts() -> Fonts {
    let regular = std::env::var_os("BERTH_SCREENSHOT_FONT")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf".into());
    let Some(r) = load_font(&regular) else {
        eprintln!(
            "cannot read the font {}: install fonts-dejavu-core or set BERTH_SCREENSHOT_FONT",
            regular.display()
        );
        std::process::exit(2);
    };
    let bold = load_font(Path::new(
        "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    ));
    Fonts {
        bold: bold.unwrap_or_else(|| r.clone()),
        fallback: load_font(Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")),
        regular: r,
    }
}

/// Which arms (left, right, up, down) a light box-drawing character has.
fn box_arms(c: char) -> Option<[bool; 4]> {
    Some(match c {
        '─' => [true, true, false, false],
        '│' => [false, false, true, true],
        '┌' | '╭' => [false, true, false, true],
        '┐' | '╮' => [true, false, false, true],
        '└' | '╰' => [false, true, true, false],
        '┘' | '╯' => [true, false, true, false],
        '├' => [false, true, true, true],
        '┤' => [true, false, true, true],
        '┬' => [true, true, false, true],
        '┴' => [true, true, true, false],
        '┼' => [true, true, true, true],
        _ => return None,
    })
}

/// Paint the buffer into an RGB image: one cell per character, colours and bold/reverse.
fn paint(buf: &Buffer, fonts: &Fonts, out: &Path) {
    let metrics = fonts.regular.metrics('M', PX);
    let cw = metrics.advance_width.ceil() as usize;
    let lines = fonts
        .regular
        .horizontal_line_metrics(PX)
        .map(|m| (m.ascent, m.new_line_size))
        .unwrap_or((PX, PX * 1.2));
    let ch = lines.1.ceil() as usize;
    let ascent = lines.0;
    let (cols, rows) = (buf.area.width, buf.area.height);
    let (w, h) = (usize::from(cols) * cw, usize::from(rows) * ch);
    let mut img = vec![0u8; w * h * 3];
    for px in img.chunks_mut(3) {
        px.copy_from_slice(&BG);
    }
    for y in 0..rows {
        for x in 0..cols {
            let cell = &buf[(x, y)];
            let mut fg = ansi(cell.fg).unwrap_or(FG);
            let mut bg = ansi(cell.bg).unwrap_or(BG);
            if cell.modifier.contains(Modifier::REVERSED) {
                std::mem::swap(&mut fg, &mut bg);
            }
            if cell.modifier.contains(Modifier::DIM) {
                fg = [
                    fg[0] / 2 + BG[0] / 2,
                    fg[1] / 2 + BG[1] / 2,
                    fg[2] / 2 + BG[2] / 2,
                ];
            }
            let (x0, y0) = (usize::from(x) * cw, usize::from(y) * ch);
            for yy in y0..y0 + ch {
                for xx in x0..x0 + cw {
                    let i = (yy * w + xx) * 3;
                    img[i..i + 3].copy_from_slice(&bg);
                }
            }
            let Some(c) = cell.symbol().chars().next() else {
                continue;
            };
            if c == ' ' {
                continue;
            }
            // Box-drawing lines are drawn, not rasterised: glyphs leave gaps between cells.
            if let Some(arms) = box_arms(c) {
                let (cx, cy) = (x0 + cw / 2, y0 + ch / 2);
                let mut put = |xx: usize, yy: usize| {
                    if xx < w && yy < h {
                        let i = (yy * w + xx) * 3;
                        img[i..i + 3].copy_from_slice(&fg);
                    }
                };
                let [left, right, up, down] = arms;
                let (from_x, to_x) = (
                    if left { x0 } else { cx },
                    if right { x0 + cw } else { cx + 1 },
                );
                if left || right {
                    for xx in from_x..to_x {
                        put(xx, cy);
                    }
                }
                let (from_y, to_y) = (
                    if up { y0 } else { cy },
                    if down { y0 + ch } else { cy + 1 },
                );
                if up || down {
                    for yy in from_y..to_y {
                        put(cx, yy);
                    }
                }
                continue;
            }
            let mut font = if cell.modifier.contains(Modifier::BOLD) {
                &fonts.bold
            } else {
                &fonts.regular
            };
            if font.lookup_glyph_index(c) == 0
                && let Some(f) = &fonts.fallback
            {
                font = f;
            }
            let (m, bitmap) = font.rasterize(c, PX);
            let top = y0 as i32 + ascent.round() as i32 - m.height as i32 - m.ymin;
            let left = x0 as i32 + m.xmin;
            for gy in 0..m.height {
                for gx in 0..m.width {
                    let a = bitmap[gy * m.width + gx] as u32;
                    if a == 0 {
                        continue;
                    }
                    let (px, py) = (left + gx as i32, top + gy as i32);
                    if px < 0 || py < 0 || px as usize >= w || py as usize >= h {
                        continue;
                    }
                    let i = (py as usize * w + px as usize) * 3;
                    for k in 0..3 {
                        let under = img[i + k] as u32;
                        img[i + k] = ((fg[k] as u32 * a + under * (255 - a)) / 255) as u8;
                    }
                }
            }
            if cell.modifier.contains(Modifier::UNDERLINED) {
                let yy = y0 + ch - 2;
                for xx in x0..x0 + cw {
                    let i = (yy * w + xx) * 3;
                    img[i..i + 3].copy_from_slice(&fg);
                }
            }
        }
    }
    let file = std::fs::File::create(out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().unwrap_or_else(|e| panic!("{e}"));
    writer
        .write_image_data(&img)
        .unwrap_or_else(|e| panic!("{e}"));
    println!("wrote {}", out.display());
}

async fn sandbox(scenario: Scenario, speed: f64) -> sandbox::SandboxHandle {
    sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            scenario,
            speed,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Refresh and apply answers until `done` (bounded), letting virtual time pass.
async fn wait(console: &mut Console, what: &str, done: impl Fn(&State) -> bool) {
    for _ in 0..600 {
        if done(&console.state) {
            return;
        }
        console.apply(Action::Command(Command::Refresh));
        let deadline = tokio::time::sleep(Duration::from_millis(250));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                Some(a) = console.rx.recv() => console.apply(a),
                _ = &mut deadline => break,
            }
        }
    }
    panic!("never: {what}");
}

fn shot(
    console: &mut Console,
    sb: &sandbox::SandboxHandle,
    theme: &Theme,
    fonts: &Fonts,
    name: &str,
) {
    shot_at(console, sb, theme, fonts, name, (COLS, ROWS));
}

fn shot_at(
    console: &mut Console,
    sb: &sandbox::SandboxHandle,
    theme: &Theme,
    fonts: &Fonts,
    name: &str,
    size: (u16, u16),
) {
    // ages follow the sandbox's virtual clock, as in `berth --demo`
    let now = sb.virtual_now_ms() / 1000;
    update(&mut console.state, Action::Tick { now_unix: now });
    // the picture's size through the runner: what it makes visible is read, not dropped
    console.apply(Action::Resize {
        cols: size.0,
        rows: size.1,
    });
    let buf = screen::draw(&mut console.state, theme, size.0, size.1);
    paint(
        &buf,
        fonts,
        &Path::new("screenshots").join(format!("{name}.png")),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let fonts = fonts();
    let theme = Theme::load(Some("default"), false, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .0;
    let mono = Theme::load(Some("mono"), true, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .0;
    let _ = std::fs::create_dir_all("screenshots");

    // The bad-deploy drill: clusters, services with the problem, the failed rollout, the
    // timeline, tasks and network. At 10x the rollback takes a few seconds, long enough to
    // catch the FAILED deployment still listed beside the one replacing it.
    let sb = sandbox(Scenario::BadDeploy, 10.0).await;
    let mut c = Console::new(&sb);
    // the size the pictures are drawn at: what the screen shows decides what is read (the
    // CPU trends of the rows on screen, per-task CPU/MEM from 104 columns)
    c.apply(Action::Resize {
        cols: COLS,
        rows: ROWS,
    });
    c.until("connected", |s| s.session.connected).await;
    c.until("clusters", loaded).await;
    shot(&mut c, &sb, &theme, &fonts, "clusters");
    on_service(&mut c, "prod", "").await;
    wait(&mut c, "checkout-api failing", |s| match s.view() {
        View::Services(v) => v.data.rows.iter().any(|r| {
            r.service.name == "checkout-api"
                && r.service
                    .deployments
                    .iter()
                    .any(|d| d.rollout_state.as_deref() == Some("FAILED"))
        }),
        _ => false,
    })
    .await;
    shot(&mut c, &sb, &theme, &fonts, "services-problem");
    shot(&mut c, &sb, &mono, &fonts, "services-mono");
    c.apply(Action::Command(Command::Filter));
    type_text(&mut c, "checkout-api");
    c.apply(key(KeyCode::Enter));
    c.apply(Action::Command(Command::Select));
    c.until("deployments", loaded).await;
    wait(&mut c, "a FAILED deployment listed", |s| match s.view() {
        View::Deployments(v) => v.service().is_some_and(|svc| {
            svc.deployments
                .iter()
                .any(|d| d.rollout_state.as_deref() == Some("FAILED"))
        }),
        _ => false,
    })
    .await;
    shot(&mut c, &sb, &theme, &fonts, "deployments-failed");
    c.apply(Action::Command(Command::ShowTimeline));
    c.until("timeline", loaded).await;
    shot(&mut c, &sb, &theme, &fonts, "timeline");
    c.apply(Action::Command(Command::Back));
    c.apply(Action::Command(Command::ShowTasks));
    c.until("tasks", loaded).await;
    // prod has Container Insights' enhanced observability: each running task's CPU/MEM
    c.until("per-task CPU and memory", |s| match s.view() {
        View::Tasks(v) => v
            .data
            .rows
            .iter()
            .any(|t| matches!(&t.usage, Some(Ok(m)) if !m.cpu.points.is_empty())),
        _ => false,
    })
    .await;
    shot(&mut c, &sb, &theme, &fonts, "tasks");
    c.apply(Action::Command(Command::ShowNetwork));
    c.until("network", loaded).await;
    shot(&mut c, &sb, &theme, &fonts, "network");
    c.apply(Action::Command(Command::Help));
    shot(&mut c, &sb, &theme, &fonts, "help");
    c.apply(key(KeyCode::Esc));
    sb.shutdown().await;

    // The README's tour at 80x24, key for key: `j` `enter` `w` `enter` `l`.
    let small = (80, 24);
    let sb = sandbox(Scenario::BadDeploy, 10.0).await;
    let mut c = Console::new(&sb);
    c.until("connected", |s| s.session.connected).await;
    c.until("clusters", loaded).await;
    let crashed = |s: &State| match s.view() {
        View::Services(v) => v.data.rows.first().is_some_and(|r| {
            r.service.name == "checkout-api"
                && r.problems
                    .first()
                    .is_some_and(|p| p.summary == "rollout FAILED" || p.summary == "rolled back")
        }),
        _ => false,
    };
    c.apply(key(KeyCode::Char('j')));
    c.apply(key(KeyCode::Enter));
    c.until("services", loaded).await;
    wait(&mut c, "checkout-api first, with its problem", crashed).await;
    shot_at(&mut c, &sb, &theme, &fonts, "tour-1-services", small);
    // `w` once the crashed tasks are listed as stopped (else `esc` and `w` again: the
    // selection stays on the group it was on when a new one sorts above it).
    for attempt in 0..60 {
        c.apply(key(KeyCode::Char('w')));
        c.until("why stopped", loaded).await;
        let crash_first = |s: &State| match s.view() {
            View::Stopped(v) => {
                v.groups
                    .first()
                    .is_some_and(|g| g.cause == berth::domain::stop_cause::StopCause::CrashOnStart)
                    && v.table.selected_row() == Some(0)
            }
            _ => false,
        };
        if crash_first(&c.state) {
            break;
        }
        assert!(attempt < 59, "crashed on start never came first");
        c.apply(key(KeyCode::Esc));
        tokio::time::sleep(Duration::from_millis(500)).await;
        while let Ok(a) = c.rx.try_recv() {
            c.apply(a);
        }
    }
    shot_at(&mut c, &sb, &theme, &fonts, "tour-2-why", small);
    c.apply(key(KeyCode::Enter));
    c.until("the crashed tasks", loaded).await;
    shot_at(&mut c, &sb, &theme, &fonts, "tour-3-tasks", small);
    c.apply(key(KeyCode::Char('l')));
    wait(&mut c, "the crash in the logs", |s| match s.view() {
        View::Logs(v) => v.history_loaded && v.buffer.len() >= 7,
        _ => false,
    })
    .await;
    shot_at(&mut c, &sb, &theme, &fonts, "tour-4-logs", small);
    c.apply(key(KeyCode::Esc));
    c.until("the crashed tasks again", loaded).await;
    c.apply(key(KeyCode::Char('D')));
    c.until("the diff of revision 43", loaded).await;
    shot_at(&mut c, &sb, &theme, &fonts, "tour-5-diff", small);
    shot(&mut c, &sb, &theme, &fonts, "diff");
    sb.shutdown().await;

    // Logs of a busy service, warnings and up.
    let sb = sandbox(Scenario::BadDeploy, 20.0).await;
    let mut c = Console::new(&sb);
    on_service(&mut c, "prod", "web-frontend").await;
    c.apply(Action::Command(Command::ShowLogs));
    c.until("logs", loaded).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    while let Ok(a) = c.rx.try_recv() {
        c.apply(a);
    }
    c.apply(Action::Command(Command::Filter));
    type_text(&mut c, "level>=warn or status>=500");
    c.apply(key(KeyCode::Enter));
    shot(&mut c, &sb, &theme, &fonts, "logs-filter");
    sb.shutdown().await;

    // Why tasks stopped, in the oom drill.
    let sb = sandbox(Scenario::Oom, 60.0).await;
    let mut c = Console::new(&sb);
    on_service(&mut c, "prod", "payments-worker").await;
    c.apply(Action::Command(Command::ShowStopCauses));
    wait(&mut c, "oom stops", |s| match s.view() {
        View::Stopped(v) => v
            .groups
            .iter()
            .any(|g| g.cause == berth::domain::stop_cause::StopCause::OutOfMemory),
        _ => false,
    })
    .await;
    shot(&mut c, &sb, &theme, &fonts, "stopped");
    sb.shutdown().await;

    // The exec preflight on a task whose agent stopped (exec-broken drill).
    let sb = sandbox(Scenario::ExecBroken, 1.0).await;
    let mut c = Console::new(&sb);
    let plugin = std::env::temp_dir().join("session-manager-plugin");
    let _ = std::fs::write(&plugin, "#!/bin/sh\necho 1.2.764.0\n");
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755));
    }
    c.runner.plugin_override = Some(plugin);
    on_service(&mut c, "prod", "checkout-api").await;
    c.apply(Action::Command(Command::ShowTasks));
    c.until("tasks", loaded).await;
    c.apply(Action::Command(Command::Exec));
    c.until("preflight", |s| {
        s.exec.as_ref().is_some_and(|d| d.inputs.is_some())
    })
    .await;
    shot(&mut c, &sb, &theme, &fonts, "exec-preflight");
    sb.shutdown().await;

    // The fleet of the demo organisation (`berth --demo --fleet`), once prod/us-east-1's bad
    // deploy shows among the problems.
    let sb = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            accounts: sandbox::demo_accounts(),
            speed: 10.0,
            ..SandboxOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let mut c = Console::new(&sb);
    c.until("connected", |s| s.session.connected).await;
    let accounts = sandbox::demo_accounts();
    c.state.fleet = Some(berth::app::fleet::FleetSetup {
        name: "demo".into(),
        targets: sandbox::fleet_targets(&accounts, &sb.endpoint_url()),
        unmatched: Vec::new(),
        aliases: accounts
            .iter()
            .map(|a| (a.account_id.clone(), a.name.clone()))
            .collect(),
    });
    c.apply(key(KeyCode::Char(':')));
    type_text(&mut c, "fleet");
    c.apply(key(KeyCode::Enter));
    wait(&mut c, "the bad deploy among the fleet's problems", |s| {
        // the pane's own export lists the rows it shows
        matches!(s.view(), View::Pane(p)
            if p.markdown("fleet").is_ok_and(|(md, _)| md.contains("checkout-api")))
    })
    .await;
    shot(&mut c, &sb, &theme, &fonts, "fleet");
    sb.shutdown().await;
}
