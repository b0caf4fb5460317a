//! End-to-end terminal behaviour of the real binary in a pseudo-terminal, against its own moto
//! server: an idle screen writes nothing, resize storms are survived, and a bad keymap stops
//! berth before it touches the terminal.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use crate::common::moto::{self, MotoServer};
use crate::common::pty::{self, Pty};

fn seed(server: &MotoServer, names: &[&str]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let ecs = aws_sdk_ecs::Client::new(&moto::sdk_config(&server.endpoint_url()).await);
        for name in names {
            ecs.create_cluster()
                .cluster_name(*name)
                .send()
                .await
                .expect("create_cluster");
        }
    });
}

fn berth(server: &MotoServer, extra: &[&str], cols: u16, rows: u16) -> Pty {
    let endpoint = server.endpoint_url();
    let mut args = vec!["--endpoint-url", endpoint.as_str(), "--region", "us-east-1"];
    args.extend_from_slice(extra);
    Pty::spawn(
        &args,
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
        cols,
        rows,
    )
}

/// Wait (bounded) until the output has been quiet for `quiet`; returns the byte count then.
fn settle(p: &Pty, quiet: Duration) -> usize {
    let give_up = Instant::now() + pty::WAIT_LIMIT;
    let mut last = p.bytes_written();
    let mut since = Instant::now();
    while Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(100));
        let now = p.bytes_written();
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return now;
        }
    }
    panic!("output never settled:\n{}", p.screen_text());
}

#[test]
fn an_idle_screen_writes_nothing_even_while_refreshing() {
    let server = MotoServer::start();
    seed(&server, &["idle-alpha", "idle-beta"]);
    // Refresh every second so the window below spans several background refreshes.
    let mut p = berth(&server, &["--refresh", "1"], 80, 24);
    p.wait_for_text("idle-beta")
        .unwrap_or_else(|e| panic!("{e}"));
    // moto's default account id: the identity has resolved once it shows.
    p.wait_for_text("123456789012")
        .unwrap_or_else(|e| panic!("{e}"));
    let before = settle(&p, Duration::from_millis(1500));
    std::thread::sleep(Duration::from_secs(4));
    let after = p.bytes_written();
    assert_eq!(
        after - before,
        0,
        "idle screen wrote {} bytes during ~4 refreshes",
        after - before
    );

    // A change in the data is drawn by the next refresh.
    seed(&server, &["idle-gamma"]);
    p.wait_for_text("idle-gamma")
        .unwrap_or_else(|e| panic!("{e}"));

    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
    p.check_terminal_restored()
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn survives_a_resize_storm_and_tiny_sizes() {
    let server = MotoServer::start();
    seed(&server, &["storm-prod"]);
    let mut p = berth(&server, &[], 80, 24);
    p.wait_for_text("storm-prod")
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..60u16 {
        let (cols, rows) = match i % 6 {
            0 => (1, 1),
            1 => (300, 100),
            2 => (20, 4),
            3 => (81, 25),
            4 => (2, 30),
            _ => (120, 9),
        };
        p.resize(cols, rows);
    }
    p.resize(100, 30);
    p.wait_until("the table redrawn at 100x30", |s| {
        s.contains("storm-prod") && s.lines().count() >= 29
    })
    .unwrap_or_else(|e| panic!("{e}"));
    p.resize(20, 5);
    p.wait_for_text("too small")
        .unwrap_or_else(|e| panic!("{e}"));
    p.resize(80, 24);
    p.wait_for_text("storm-prod")
        .unwrap_or_else(|e| panic!("{e}"));
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
    p.check_terminal_restored()
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_broken_keymap_stops_before_the_terminal_is_touched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keymap = dir.path().join("broken.toml");
    std::fs::write(
        &keymap,
        "[[global]]\nkeys = [\"q\"]\naction = \"quit\"\n\n[[global]]\nkeys = [\"ctrl-nope\"]\naction = \"help\"\n",
    )
    .expect("write keymap");
    let path = keymap.to_string_lossy().into_owned();
    let mut p = Pty::spawn(&["--keymap", &path], &[], 80, 24);
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.exit_code(), 2, "{status:?}");
    let raw = p.raw_output();
    assert!(
        !pty::contains(&raw, pty::ENTER_ALTERNATE_SCREEN),
        "the alternate screen was entered before the config was validated"
    );
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.contains(&format!("{path}:6:")),
        "the error names the file and line 6: {text}"
    );
    assert!(text.contains("ctrl-nope"), "{text}");
}

#[test]
fn a_broken_safety_config_stops_before_the_terminal_is_touched() {
    let (dir, config) = write_user_config("[profiles.prod]\nprotected = true\nread_onyl = true\n");
    let text = refused_before_the_terminal(&dir);
    assert!(
        text.contains(&format!("{}:3:", config.display())),
        "the error names the file and line 3: {text}"
    );
    assert!(text.contains("read_onyl"), "{text}");
}

/// Start `--demo` with this config directory: it must exit 2 without entering the alternate
/// screen. Returns what it printed.
fn refused_before_the_terminal(dir: &tempfile::TempDir) -> String {
    let xdg = dir.path().to_string_lossy().into_owned();
    let mut p = Pty::spawn(&["--demo"], &[("XDG_CONFIG_HOME", &xdg)], 80, 24);
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.exit_code(), 2, "{status:?}");
    let raw = p.raw_output();
    assert!(!pty::contains(&raw, pty::ENTER_ALTERNATE_SCREEN));
    String::from_utf8_lossy(&raw).into_owned()
}

fn write_user_config(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let berth_dir = dir.path().join("berth");
    std::fs::create_dir_all(&berth_dir).expect("mkdir");
    let config = berth_dir.join("config.toml");
    std::fs::write(&config, text).expect("write config");
    (dir, config)
}

#[test]
fn a_theme_named_in_config_that_does_not_exist_is_reported_at_its_line() {
    let (dir, config) = write_user_config("[console]\nrefresh = 10\ntheme = \"neon\"\n");
    let text = refused_before_the_terminal(&dir);
    assert!(
        text.contains(&format!(
            "{}:3:9: error: [console] theme: unknown theme \"neon\"",
            config.display()
        )),
        "the error is about the file's line 3, not a command-line flag: {text}"
    );
    let xdg = dir.path().to_string_lossy().into_owned();
    // A flag wins over the file: the same file with --theme mono starts.
    let mut p = Pty::spawn(
        &["--demo", "--theme", "mono"],
        &[("XDG_CONFIG_HOME", &xdg)],
        80,
        24,
    );
    p.wait_for_text("prod").unwrap_or_else(|e| panic!("{e}"));
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.exit_code(), 0, "{status:?}");
}

#[test]
fn console_defaults_in_config_apply_read_only_and_the_theme() {
    let (dir, _config) = write_user_config("[console]\nread_only = true\ntheme = \"mono\"\n");
    let xdg = dir.path().to_string_lossy().into_owned();
    let mut p = Pty::spawn(&["--demo"], &[("XDG_CONFIG_HOME", &xdg)], 80, 24);
    p.wait_for_text("READ-ONLY")
        .unwrap_or_else(|e| panic!("{e}"));
    p.wait_for_text("prod").unwrap_or_else(|e| panic!("{e}"));
    let coloured = p.with_screen(|s| {
        let (rows, cols) = s.size();
        let mut n = 0;
        for r in 0..rows {
            for c in 0..cols {
                if let Some(cell) = s.cell(r, c)
                    && (cell.fgcolor() != vt100::Color::Default
                        || cell.bgcolor() != vt100::Color::Default)
                {
                    n += 1;
                }
            }
        }
        n
    });
    assert_eq!(
        coloured, 0,
        "the mono theme from config.toml draws no colour"
    );
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.exit_code(), 0, "{status:?}");

    // Without the file: colour, and no READ-ONLY.
    let mut p = Pty::spawn(&["--demo"], &[], 80, 24);
    p.wait_for_text("prod").unwrap_or_else(|e| panic!("{e}"));
    assert!(!p.screen_text().contains("READ-ONLY"));
    let coloured = p.with_screen(|s| {
        let (rows, cols) = s.size();
        (0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .filter(|&(r, c)| {
                s.cell(r, c)
                    .is_some_and(|cell| cell.fgcolor() != vt100::Color::Default)
            })
            .count()
    });
    assert!(coloured > 0, "the default theme draws colour");
    p.send_key("q");
    let _ = p.wait_exit();
}
