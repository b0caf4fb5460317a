//! The README's tour, key for key: "a deployment just failed: find out why in five
//! keystrokes" (`j` `enter` `w` `enter` `l`) on the bad-deploy drill, the real binary in an
//! 80x24 pseudo-terminal. If a step of the tour stops working, this fails, and the README
//! must change with it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::pty::Pty;

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// The first data row of a table view (header, breadcrumb, title, column names above it).
fn first_row(screen: &str) -> &str {
    screen.lines().nth(4).unwrap_or("")
}

#[test]
fn the_readme_tour_finds_the_cause_in_five_keystrokes() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(
        readme.contains("cargo run -- --demo --scenario bad-deploy --speed 10")
            && readme.contains("| `j` `enter` |")
            && readme.contains("| `w` |")
            && readme.contains("| `enter` |")
            && readme.contains("| `l` |")
            && readme.contains("| `esc` `D` |"),
        "the README still describes this tour"
    );

    let mut p = Pty::spawn(
        &["--demo", "--scenario", "bad-deploy", "--speed", "10"],
        &[],
        80,
        24,
    );
    ok(p.wait_until("clusters, prod second", |s| {
        s.lines().nth(5).is_some_and(|l| l.starts_with("prod "))
    }));

    // 1-2. `j` `enter`: prod's services, the failing one first with its problem.
    p.send_key("j");
    p.send_key("enter");
    ok(p.wait_for_text("prod › services"));
    for attempt in 0..4 {
        let r = p.wait_until("checkout-api first, marked", |s| {
            let row = first_row(s);
            row.starts_with("checkout-api")
                && (row.contains("✗ rollout FAILED") || row.contains("✗ rolled back"))
        });
        match r {
            Ok(()) => break,
            Err(e) if attempt == 3 => panic!("{e}"),
            Err(_) => {}
        }
    }

    // 3. `w`: why its tasks stopped; crashing on start is the first cause. (The reader
    // presses `w` once the rollout has failed; pressed earlier, the crashed tasks may not be
    // listed as stopped yet, and the selection stays on the group it was on. Then `esc` `w`
    // again, as a person would.)
    let mut selected_crash = false;
    for _ in 0..6 {
        p.send_key("w");
        ok(p.wait_for_text("checkout-api › why tasks stopped"));
        let first = p.wait_until("crashed on start first", |s| {
            first_row(s).starts_with("crashed on start")
        });
        if first.is_ok()
            && p.screen_text()
                .contains("crashed on start · enter lists the tasks")
        {
            selected_crash = true;
            break;
        }
        p.send_key("esc");
        ok(p.wait_for_text("prod › services"));
    }
    assert!(
        selected_crash,
        "crashed on start never came first:\n{}",
        p.screen_text()
    );
    ok(p.wait_for_text("fix: exited right after starting"));

    // 4. `enter`: those tasks, revision 43, exit code 1.
    p.send_key("enter");
    ok(p.wait_for_text("stopped: crashed on start"));
    ok(
        p.wait_until("a crashed task of revision 43 with exit 1", |s| {
            let row = first_row(s);
            let cols: Vec<&str> = row.split_whitespace().collect();
            cols.get(1) == Some(&"STOPPED") && cols.get(2) == Some(&"43") && row.contains(" 1 ")
        }),
    );

    // 5. `l`: its last lines before it stopped: the cause.
    p.send_key("l");
    ok(p.wait_for_text("› logs"));
    ok(p.wait_for_text("ERROR missing required configuration PAYMENTS_BASE_URL"));
    ok(p.wait_for_text("FATAL process exiting with code 1"));
    ok(p.wait_for_text("■ stopped · no new lines"));

    // 6. `esc` `D`: what changed in revision 43: the variable it lost.
    p.send_key("esc");
    ok(p.wait_for_text("stopped: crashed on start"));
    p.send_key("D");
    ok(p.wait_for_text("diff 42 → 43"));
    ok(p.wait_for_text("- environment PAYMENTS_BASE_URL: https://payments.prod.internal"));
    ok(p.wait_for_text("checkout-api:42 → checkout-api:43 ·"));
    // every field (the secret by name and ARN), and the export: never the secret's value
    p.send_key("enter");
    ok(p.wait_for_text("unchanged:"));
    p.send_key("E");
    ok(p.wait_for_text("exported"));
    let export = std::fs::read_dir(p.home())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().contains("diff-42-43"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .expect("the exported diff");
    assert!(
        export.contains("| environment PAYMENTS_BASE_URL | removed |"),
        "{export}"
    );
    assert!(export.contains("| secret DB_PASSWORD |") || export.contains("unchanged"));
    let marker = berth::sandbox::secrets::MARKER;
    assert!(!export.contains(marker));
    assert!(!p.screen_text().contains(marker));
    let log =
        std::fs::read_to_string(p.home().join(".local/state/berth/berth.log")).unwrap_or_default();
    assert!(!log.contains(marker));

    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
    ok(p.check_terminal_restored());
}
