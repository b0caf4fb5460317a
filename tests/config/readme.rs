//! The README stays true: its key reference is generated from `keymaps/default.toml`, its
//! pictures are the ones `examples/screenshots.rs` writes, and its
//! quick start names exactly the two commands that CI runs.
//!
//! To regenerate the key reference after changing the default keymap:
//! `BERTH_UPDATE_README=1 cargo test --test config readme`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use berth::config::keymap::Keymap;
use berth::config::reference::key_reference_markdown;

const START: &str =
    "<!-- keys:start (generated from keymaps/default.toml; see tests/config/readme.rs) -->\n";
const END: &str = "<!-- keys:end -->";

fn readme_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")
}

#[test]
fn readme_key_reference_matches_the_default_keymap() {
    let readme = std::fs::read_to_string(readme_path()).expect("README.md");
    let keymap = Keymap::load(Some("default"), None)
        .map(|(k, _)| k)
        .expect("default keymap");
    let generated = key_reference_markdown(&keymap);
    let start = readme
        .find(START)
        .expect("README has the keys:start marker")
        + START.len();
    let end = readme.find(END).expect("README has the keys:end marker");
    let current = &readme[start..end];
    if current != generated {
        if std::env::var_os("BERTH_UPDATE_README").is_some() {
            let updated = format!("{}{}{}", &readme[..start], generated, &readme[end..]);
            std::fs::write(readme_path(), updated).expect("write README.md");
            return;
        }
        panic!(
            "README key reference is out of date; run `BERTH_UPDATE_README=1 cargo test --test config readme`.\n--- README\n{current}\n--- generated\n{generated}"
        );
    }
}

#[test]
fn readme_quick_start_is_the_demo_and_the_ci_test_command() {
    let readme = std::fs::read_to_string(readme_path()).expect("README.md");
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Quick start section");
    let block = quick
        .split("```sh\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a sh code block");
    let commands: Vec<&str> = block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(commands.len(), 2, "exactly two commands: {commands:?}");
    assert!(commands[0].contains("--demo"), "{commands:?}");
    let ci =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run"))
            .expect(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim().starts_with(commands[1])),
        ".ci/run must run the README's test command {:?}",
        commands[1]
    );
}

/// Every picture the README shows exists and is written by `examples/screenshots.rs`, and
/// no PNG in `screenshots/` is left unused (a renamed scene would leave a stale one).
#[test]
fn readme_pictures_exist_and_are_the_ones_the_example_writes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(readme_path()).expect("README.md");
    let example =
        std::fs::read_to_string(root.join("examples/screenshots.rs")).expect("the example");
    let mut shown = std::collections::BTreeSet::new();
    for part in readme.split("](screenshots/").skip(1) {
        let name = part.split(')').next().unwrap_or("");
        assert!(name.ends_with(".png"), "not a PNG: {name}");
        shown.insert(name.to_string());
    }
    assert!(
        shown.len() >= 14,
        "the README shows {} pictures",
        shown.len()
    );
    for name in &shown {
        let path = root.join("screenshots").join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{name} is not a PNG file"
        );
        let stem = name.trim_end_matches(".png");
        assert!(
            example.contains(&format!("\"{stem}\"")),
            "{name} is not written by examples/screenshots.rs"
        );
    }
    for entry in std::fs::read_dir(root.join("screenshots")).expect("screenshots/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".png") {
            assert!(
                shown.contains(&name),
                "screenshots/{name} is not in the README"
            );
        }
    }
}

/// The README's `keymap.toml` example loads as a user layer, without warnings, and does what
/// its comment says.
#[test]
fn readme_keymap_example_does_what_it_says() {
    use berth::app::command::{Command, Context};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    let readme = std::fs::read_to_string(readme_path()).expect("README.md");
    let example = readme
        .split("**`keymap.toml`**")
        .nth(1)
        .and_then(|s| s.split("```toml\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("a toml block after **`keymap.toml`**");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("keymap.toml"), example).expect("write keymap.toml");
    let (keymap, warnings) = Keymap::load(None, Some(dir.path())).expect("the example loads");
    assert!(warnings.is_empty(), "{warnings:#?}");
    let s = Context::Services;
    let alt_f = KeyEvent::new(KeyCode::Char('f'), KeyModifiers::ALT);
    let shift_f = KeyEvent::new(KeyCode::Char('F'), KeyModifiers::NONE);
    assert_eq!(keymap.lookup(s, &alt_f), Some(Command::ForceDeploy));
    assert_eq!(keymap.lookup(s, &shift_f), None);
}
