//! Config fixtures: every shipped keymap and theme loads cleanly, and each invalid file under
//! `tests/fixtures/` fails (or warns) with a specific message naming the file and line.

use std::fs;
use std::path::{Path, PathBuf};

use berth::app::command::{Command, Context};
use berth::config::keymap::SHIPPED_KEYMAPS;
use berth::config::theme::SHIPPED_THEMES;
use berth::config::{Diagnostic, KeyChord, Keymap, Severity, Slot, Theme};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;
use ratatui::style::{Color, Modifier};

fn fixture(kind: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
        .join(name)
}

/// The 1-based line of the only line of `path` (comments aside) that contains `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    let src = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<usize> = src
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#') && l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{needle:?} should be on exactly one line of {path:?}"
    );
    lines[0]
}

/// The 1-based line of the `[[section]]` header of the binding whose body contains `needle`.
fn header_line_above(path: &Path, needle: &str) -> usize {
    let src = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body = line_of(path, needle);
    src.lines()
        .enumerate()
        .take(body)
        .filter(|(_, l)| l.starts_with("[["))
        .map(|(i, _)| i + 1)
        .last()
        .unwrap_or_else(|| panic!("no header above {needle:?} in {path:?}"))
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c), KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    key(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn shipped_keymap(name: &str) -> Keymap {
    match Keymap::load(Some(name), None) {
        Ok((keymap, warnings)) => {
            assert!(warnings.is_empty(), "{name}: {warnings:#?}");
            keymap
        }
        Err(errors) => panic!("{name}: {errors:#?}"),
    }
}

fn load_keymap_fixture(name: &str) -> (PathBuf, Result<Vec<Diagnostic>, Vec<Diagnostic>>) {
    let path = fixture("keymaps", name);
    let result = Keymap::load(path.to_str(), None).map(|(_, warnings)| warnings);
    (path, result)
}

fn load_theme_fixture(name: &str) -> (PathBuf, Result<Vec<Diagnostic>, Vec<Diagnostic>>) {
    let path = fixture("themes", name);
    let result = Theme::load(path.to_str(), false, None).map(|(_, warnings)| warnings);
    (path, result)
}

/// Assert that `diags` holds a diagnostic of `severity` on the line of `path` containing
/// `needle`, whose message contains `message`, and that its display names file and line.
fn assert_diagnostic(
    diags: &[Diagnostic],
    path: &Path,
    severity: Severity,
    needle: &str,
    message: &str,
) {
    let line = line_of(path, needle);
    let found = diags
        .iter()
        .find(|d| d.line == line && d.severity == severity && d.message.contains(message));
    let Some(d) = found else {
        panic!("no {severity} containing {message:?} on line {line} of {path:?} in {diags:#?}");
    };
    assert_eq!(d.origin, path.display().to_string());
    let prefix = format!("{}:{line}:{}: {severity}: ", path.display(), d.column);
    assert!(
        d.to_string().starts_with(&prefix),
        "{d} should start with {prefix}"
    );
    assert!(d.column >= 1);
}

fn expect_keymap_error(name: &str, needle: &str, message: &str) -> Vec<Diagnostic> {
    let (path, result) = load_keymap_fixture(name);
    let Err(errors) = result else {
        panic!("{name} should not load");
    };
    assert_diagnostic(&errors, &path, Severity::Error, needle, message);
    errors
}

fn expect_keymap_warning(name: &str, needle: &str, message: &str) {
    let (path, result) = load_keymap_fixture(name);
    let warnings = result.unwrap_or_else(|e| panic!("{name} should load: {e:#?}"));
    assert_diagnostic(&warnings, &path, Severity::Warning, needle, message);
}

fn expect_theme_error(name: &str, needle: &str, message: &str) {
    let (path, result) = load_theme_fixture(name);
    let Err(errors) = result else {
        panic!("{name} should not load");
    };
    assert_diagnostic(&errors, &path, Severity::Error, needle, message);
}

// ---- shipped files ----

#[test]
fn shipped_keymaps_load_without_errors_or_warnings() {
    assert!(SHIPPED_KEYMAPS.iter().any(|(n, _)| *n == "default"));
    assert!(SHIPPED_KEYMAPS.iter().any(|(n, _)| *n == "vim"));
    for (name, src) in SHIPPED_KEYMAPS {
        match Keymap::from_toml_str(src, name) {
            Ok((_, warnings)) => assert!(warnings.is_empty(), "{name}: {warnings:#?}"),
            Err(errors) => panic!("{name}: {errors:#?}"),
        }
        assert_eq!(shipped_keymap(name).name(), *name);
    }
}

/// The text the binary embeds (`SHIPPED_KEYMAPS`, `SHIPPED_THEMES`, compiled in with
/// `include_str!`) is what `keymaps/` and `themes/` hold when the test runs, file for file:
/// every file on disk is shipped under its name, and every shipped name has its file.
#[test]
fn shipped_files_on_disk_are_the_embedded_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (dir, shipped) in [("keymaps", SHIPPED_KEYMAPS), ("themes", SHIPPED_THEMES)] {
        let mut on_disk: Vec<String> = fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .filter_map(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        on_disk.sort();
        let mut names: Vec<String> = shipped.iter().map(|(n, _)| (*n).to_string()).collect();
        names.sort();
        assert_eq!(on_disk, names, "{dir}/*.toml and what the binary ships");
        for (name, embedded) in shipped {
            let path = root.join(dir).join(format!("{name}.toml"));
            let disk = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert!(
                disk == *embedded,
                "{} differs from the {name} the binary embeds; rebuild",
                path.display()
            );
        }
    }
}

/// Every binding of `keymap`, one a line in help order (context by context):
/// `context  action  keys  description`. What a user sees in help, footers and lookups.
fn binding_listing(keymap: &Keymap) -> String {
    let mut out = String::new();
    for ctx in Context::ALL {
        for b in keymap.bindings(*ctx) {
            let keys: Vec<String> = b.keys.iter().map(ToString::to_string).collect();
            out.push_str(&format!(
                "{:<12} {:<18} {:<22} {}\n",
                ctx.name(),
                b.command.name(),
                keys.join(" "),
                b.description
            ));
        }
    }
    out
}

/// The shipped keymaps bind exactly what `tests/fixtures/keymaps/bindings/NAME.txt` lists.
/// The vim and k9s listings were written from the full copies of default.toml those files
/// used to be, before they became layers on top of it, so nothing was lost in the move.
/// After an intended change:
/// `BERTH_UPDATE_KEYMAP_LISTINGS=1 cargo test --test config config_fixtures` and read the diff.
#[test]
fn shipped_keymaps_bind_what_their_listings_say() {
    for (name, _) in SHIPPED_KEYMAPS {
        let path = fixture("keymaps", &format!("bindings/{name}.txt"));
        let actual = binding_listing(&shipped_keymap(name));
        if std::env::var_os("BERTH_UPDATE_KEYMAP_LISTINGS").is_some() {
            fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
                .unwrap_or_else(|e| panic!("{e}"));
            fs::write(&path, &actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            continue;
        }
        let expected =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let missing: Vec<&str> = expected
            .lines()
            .filter(|l| !actual.lines().any(|a| a == *l))
            .collect();
        let extra: Vec<&str> = actual
            .lines()
            .filter(|l| !expected.lines().any(|e| e == *l))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: bindings differ from {}\n--- listed, not bound:\n{}\n--- bound, not listed:\n{}",
            path.display(),
            missing.join("\n"),
            extra.join("\n")
        );
        assert_eq!(actual, expected, "{name}: same bindings, different order");
    }
}

#[test]
fn every_shipped_keymap_binds_what_default_binds() {
    let default = shipped_keymap("default");
    for (name, _) in SHIPPED_KEYMAPS {
        let keymap = shipped_keymap(name);
        for ctx in Context::ALL {
            for cmd in Command::ALL {
                if !default.keys_for(*ctx, *cmd).is_empty() {
                    assert!(
                        !keymap.keys_for(*ctx, *cmd).is_empty(),
                        "{name} has no key for {} in {}",
                        cmd.name(),
                        ctx.name()
                    );
                }
            }
        }
    }
}

#[test]
fn default_keymap_binds_every_command() {
    let default = shipped_keymap("default");
    for cmd in Command::ALL {
        let bound = Context::ALL
            .iter()
            .any(|ctx| !default.keys_for(*ctx, *cmd).is_empty());
        assert!(bound, "default.toml does not bind {}", cmd.name());
    }
}

#[test]
fn ctrl_c_quits_everywhere_in_every_shipped_keymap() {
    for (name, _) in SHIPPED_KEYMAPS {
        let keymap = shipped_keymap(name);
        for ctx in Context::ALL {
            assert_eq!(
                keymap.lookup(*ctx, &ctrl('c')),
                Some(Command::Quit),
                "{name} in {}",
                ctx.name()
            );
        }
    }
}

#[test]
fn default_keymap_has_the_documented_keys() {
    let km = shipped_keymap("default");
    let g = Context::Global;
    assert_eq!(km.lookup(g, &ch('q')), Some(Command::Quit));
    assert_eq!(km.lookup(g, &ch('?')), Some(Command::Help));
    assert_eq!(km.lookup(g, &ctrl('r')), Some(Command::Refresh));
    assert_eq!(
        km.lookup(g, &key(KeyCode::Esc, KeyModifiers::NONE)),
        Some(Command::Back)
    );
    assert_eq!(km.lookup(g, &ch('k')), Some(Command::Up));
    assert_eq!(km.lookup(g, &ch('j')), Some(Command::Down));
    assert_eq!(km.lookup(g, &ctrl('b')), Some(Command::PageUp));
    assert_eq!(
        km.lookup(g, &key(KeyCode::PageDown, KeyModifiers::NONE)),
        Some(Command::PageDown)
    );
    assert_eq!(km.lookup(g, &ch('g')), Some(Command::Top));
    assert_eq!(km.lookup(g, &ch('G')), Some(Command::Bottom));
    assert_eq!(km.lookup(g, &ch('x')), Some(Command::DismissBanner));
    assert_eq!(
        km.lookup(Context::Clusters, &key(KeyCode::Enter, KeyModifiers::NONE)),
        Some(Command::Select)
    );
}

#[test]
fn vim_keymap_has_vim_keys() {
    let km = shipped_keymap("vim");
    assert_eq!(km.lookup(Context::Global, &ch('h')), Some(Command::Back));
    assert_eq!(
        km.lookup(Context::Global, &ctrl('u')),
        Some(Command::PageUp)
    );
    assert_eq!(
        km.lookup(Context::Global, &ctrl('d')),
        Some(Command::PageDown)
    );
    assert_eq!(
        km.lookup(Context::Clusters, &ch('l')),
        Some(Command::Select)
    );
}

#[test]
fn k9s_keymap_has_k9s_keys() {
    let km = shipped_keymap("k9s");
    assert_eq!(km.lookup(Context::Tasks, &ch('s')), Some(Command::Exec));
    assert_eq!(
        km.lookup(Context::Tasks, &ch('F')),
        Some(Command::PortForward)
    );
    assert_eq!(
        km.lookup(Context::Tasks, &ctrl('k')),
        Some(Command::StopTask)
    );
    assert_eq!(km.lookup(Context::Tasks, &ch('d')), Some(Command::Select));
    assert_eq!(km.lookup(Context::Services, &ch('s')), Some(Command::Scale));
    assert_eq!(
        km.lookup(Context::Services, &ch('r')),
        Some(Command::ForceDeploy)
    );
    assert_eq!(
        km.lookup(Context::Services, &ctrl('l')),
        Some(Command::RollBack)
    );
    assert_eq!(
        km.lookup(Context::TaskDetail, &ch('y')),
        Some(Command::ToggleRaw)
    );
    assert_eq!(km.lookup(Context::Global, &ctrl('c')), Some(Command::Quit));
    assert_eq!(
        km.lookup(Context::Global, &ch('q')),
        None,
        "k9s quits with :q or ctrl-c"
    );
}

#[test]
fn shipped_keys_round_trip_through_display() {
    for (name, _) in SHIPPED_KEYMAPS {
        let keymap = shipped_keymap(name);
        for ctx in Context::ALL {
            for binding in keymap.bindings(*ctx) {
                assert!(!binding.description.is_empty());
                for k in &binding.keys {
                    assert_eq!(KeyChord::parse(&k.to_string()), Ok(*k), "{name}: {k}");
                }
            }
        }
    }
}

#[test]
fn shipped_themes_load_without_errors_or_warnings() {
    for (name, src) in SHIPPED_THEMES {
        match Theme::from_toml_str(src, name) {
            Ok((theme, warnings)) => {
                assert!(warnings.is_empty(), "{name}: {warnings:#?}");
                assert_eq!(theme.name(), *name);
            }
            Err(errors) => panic!("{name}: {errors:#?}"),
        }
        match Theme::load(Some(name), false, None) {
            Ok((theme, warnings)) => {
                assert!(warnings.is_empty(), "{name}: {warnings:#?}");
                assert_eq!(theme.name(), *name);
            }
            Err(errors) => panic!("{name}: {errors:#?}"),
        }
    }
}

#[test]
fn shipped_themes_define_every_slot_and_use_only_ansi_colours() {
    const ANSI: &[&str] = &[
        "black",
        "red",
        "green",
        "yellow",
        "blue",
        "magenta",
        "cyan",
        "gray",
        "dark_gray",
        "light_red",
        "light_green",
        "light_yellow",
        "light_blue",
        "light_magenta",
        "light_cyan",
        "white",
    ];
    for (name, src) in SHIPPED_THEMES {
        let doc: toml::Table = toml::from_str(src).unwrap_or_else(|e| panic!("{name}: {e}"));
        let slots = doc
            .get("slots")
            .and_then(|s| s.as_table())
            .unwrap_or_else(|| panic!("{name} has no [slots]"));
        for slot in Slot::ALL {
            let Some(style) = slots.get(slot.name()).and_then(|s| s.as_table()) else {
                panic!("{name} does not define {}", slot.name());
            };
            for field in ["fg", "bg"] {
                if let Some(colour) = style.get(field).and_then(|c| c.as_str()) {
                    assert!(
                        ANSI.contains(&colour),
                        "{name}: {}.{field} = {colour}",
                        slot.name()
                    );
                }
            }
        }
    }
}

#[test]
fn mono_theme_has_no_colour_and_is_chosen_by_no_color() {
    let (mono, _) = Theme::load(None, true, None).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(mono.name(), "mono");
    assert!(mono.is_mono());
    for slot in Slot::ALL {
        let style = mono.style(*slot);
        assert_eq!((style.fg, style.bg), (None, None), "{}", slot.name());
    }
    let has = |slot: Slot, m: Modifier| mono.style(slot).add_modifier.contains(m);
    assert!(has(Slot::Selection, Modifier::REVERSED));
    assert!(
        has(Slot::RolloutFailed, Modifier::BOLD) && has(Slot::RolloutFailed, Modifier::REVERSED)
    );
    assert!(has(Slot::TaskStopped, Modifier::DIM));
    assert!(has(Slot::Warning, Modifier::BOLD));
    // States that mean different things look different.
    let states = [
        Slot::TaskProvisioning,
        Slot::TaskPending,
        Slot::TaskRunning,
        Slot::TaskStopping,
        Slot::TaskStopped,
    ];
    for (i, a) in states.iter().enumerate() {
        for b in &states[i + 1..] {
            assert_ne!(mono.style(*a), mono.style(*b), "{a:?} vs {b:?}");
        }
    }

    let (default, _) = Theme::load(None, false, None).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(default.name(), "default");
    assert!(!default.is_mono());
    // An explicit choice wins over NO_COLOR.
    let (light, _) = Theme::load(Some("light"), true, None).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(light.name(), "light");
}

#[test]
fn light_theme_puts_no_light_colour_on_the_light_background() {
    let (light, _) = Theme::load(Some("light"), false, None).unwrap_or_else(|e| panic!("{e:#?}"));
    let light_colours = [
        Color::White,
        Color::Gray,
        Color::Yellow,
        Color::Cyan,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
    ];
    for slot in Slot::ALL {
        let style = light.style(*slot);
        if let Some(fg) = style.fg
            && light_colours.contains(&fg)
        {
            let bg = style.bg.unwrap_or(Color::Reset);
            assert!(
                !light_colours.contains(&bg) && bg != Color::Reset,
                "{}: light {fg:?} on a light background",
                slot.name()
            );
        }
    }
}

#[test]
fn high_contrast_reverses_the_selection() {
    let (hc, _) =
        Theme::load(Some("high-contrast"), false, None).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(
        hc.style(Slot::Selection)
            .add_modifier
            .contains(Modifier::REVERSED)
    );
    assert!(hc.style(Slot::Error).add_modifier.contains(Modifier::BOLD));
}

// ---- invalid keymaps ----

#[test]
fn keymap_syntax_error_names_file_and_line() {
    expect_keymap_error("syntax_error.toml", "action = \"quit", "invalid TOML");
}

#[test]
fn keymap_unknown_action_suggests_the_closest() {
    let errors = expect_keymap_error(
        "unknown_action.toml",
        "\"quitt\"",
        "unknown action \"quitt\"",
    );
    assert!(
        errors[0].message.contains("did you mean \"quit\""),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].message.contains("dismiss_banner"),
        "lists the known actions"
    );
    assert_eq!(errors[0].snippet, "\"quitt\"");
}

#[test]
fn keymap_bad_key_is_an_error() {
    expect_keymap_error("bad_key.toml", "enterr", "unknown key \"enterr\"");
}

#[test]
fn keymap_unknown_section_is_an_error() {
    expect_keymap_error(
        "unknown_section.toml",
        "[[servces]]",
        "unknown section [[servces]]",
    );
}

#[test]
fn keymap_binding_without_keys_is_an_error() {
    expect_keymap_error("missing_keys.toml", "[[clusters]]", "has no keys");
}

#[test]
fn keymap_binding_without_action_is_an_error() {
    let (path, result) = load_keymap_fixture("missing_action.toml");
    let errors = result.err().unwrap_or_default();
    let line = header_line_above(&path, "keys = [\"?\"]");
    assert!(
        errors
            .iter()
            .any(|d| d.line == line && d.is_error() && d.message.contains("has no action")),
        "line {line}: {errors:#?}"
    );
}

#[test]
fn keymap_empty_keys_is_an_error() {
    expect_keymap_error("empty_keys.toml", "keys = []", "keys is empty");
}

#[test]
fn keymap_plain_table_section_is_an_error() {
    expect_keymap_error(
        "plain_table_section.toml",
        "[global]",
        "must be a list of bindings",
    );
}

#[test]
fn keymap_reports_every_error_in_file_order() {
    let errors = expect_keymap_error("several_errors.toml", "ctrl-shift-?", "bad key");
    let path = fixture("keymaps", "several_errors.toml");
    assert_diagnostic(
        &errors,
        &path,
        Severity::Error,
        "selekt",
        "unknown action \"selekt\"",
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].line < errors[1].line);
}

#[test]
fn keymap_duplicate_key_warns_and_the_later_binding_wins() {
    expect_keymap_warning(
        "duplicate_key.toml",
        "[\"?\", \"r\"]",
        "\"r\" is bound twice",
    );
    let path = fixture("keymaps", "duplicate_key.toml");
    let (keymap, _) = Keymap::load(path.to_str(), None).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(
        keymap.lookup(Context::Global, &ch('r')),
        Some(Command::Help)
    );
    let refresh = keymap.keys_for(Context::Global, Command::Refresh);
    assert!(refresh.is_empty(), "{refresh:?}");
}

#[test]
fn keymap_missing_description_warns_and_falls_back_to_the_action() {
    let path = fixture("keymaps", "missing_description.toml");
    let (keymap, warnings) = Keymap::load(path.to_str(), None).unwrap_or_else(|e| panic!("{e:#?}"));
    let line = header_line_above(&path, "action = \"refresh\"");
    assert!(
        warnings
            .iter()
            .any(|d| d.line == line && d.message.contains("no description")),
        "line {line}: {warnings:#?}"
    );
    let descriptions: Vec<&str> = keymap
        .bindings(Context::Global)
        .iter()
        .map(|b| b.description.as_str())
        .collect();
    assert_eq!(descriptions, ["Quit berth", "refresh"]);
}

// ---- layers (extends) ----

#[test]
fn keymap_extending_an_unknown_keymap_is_an_error_with_a_suggestion() {
    let errors = expect_keymap_error(
        "extends_unknown.toml",
        "extends = \"vimm\"",
        "extends: unknown keymap \"vimm\"",
    );
    assert!(
        errors[0].message.contains("did you mean \"vim\""),
        "{}",
        errors[0]
    );
}

#[test]
fn keymap_extends_below_a_section_is_an_error() {
    expect_keymap_error(
        "extends_inside_binding.toml",
        "extends = \"default\"",
        "write it at the top of the file",
    );
}

#[test]
fn keymap_layer_errors_name_the_layer_file_and_line() {
    expect_keymap_error(
        "extends_bad_action.toml",
        "tail_logz",
        "unknown action \"tail_logz\"",
    );
    expect_keymap_warning("extends_vim.toml", "\"P\", \"p\"", "\"p\" is bound twice");
}

#[test]
fn keymap_layer_changes_only_the_keys_it_names() {
    let vim = shipped_keymap("vim");
    let path = fixture("keymaps", "extends_vim.toml");
    let (layer, _) = Keymap::load(path.to_str(), None).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(layer.name(), "extends_vim");
    let s = Context::Services;
    assert_eq!(layer.lookup(s, &ch('o')), Some(Command::ShowLogs));
    assert_eq!(layer.lookup(s, &ch('L')), None, "unbound by the layer");
    assert_eq!(layer.lookup(s, &ch('l')), Some(Command::Select), "vim's l");
    assert_eq!(
        layer.lookup(Context::Clusters, &ch('o')),
        Some(Command::SortNext)
    );
    assert_eq!(layer.lookup(Context::Logs, &ch('p')), Some(Command::Pivot));
    assert_eq!(
        layer.lookup(Context::Logs, &ch('F')),
        Some(Command::ToggleFollow)
    );
    // show_logs keeps its place in help and its description.
    let place = |km: &Keymap| {
        km.bindings(s)
            .iter()
            .position(|b| b.command == Command::ShowLogs)
            .map(|i| (i, km.bindings(s)[i].description.clone()))
    };
    assert_eq!(place(&layer), place(&vim));
    // Everything else is vim's.
    for ctx in Context::ALL
        .iter()
        .filter(|c| ![s, Context::Logs].contains(c))
    {
        assert_eq!(layer.bindings(*ctx), vim.bindings(*ctx), "{}", ctx.name());
    }
}

#[test]
fn user_keymap_layers_on_a_derived_keymap_and_ignores_extends() {
    let dir = user_dir_with(
        "keymap.toml",
        "extends = \"default\"\n\n[[services]]\nkeys = [\"l\"]\naction = \"show_logs\"\n",
    );
    let (keymap, warnings) =
        Keymap::load(Some("vim"), Some(dir.path())).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_diagnostic(
        &warnings,
        &dir.path().join("keymap.toml"),
        Severity::Warning,
        "extends",
        "is ignored here",
    );
    assert_eq!(keymap.name(), "vim");
    let s = Context::Services;
    assert_eq!(keymap.lookup(s, &ch('l')), Some(Command::ShowLogs));
    assert_eq!(keymap.lookup(s, &ch('L')), Some(Command::ShowLogs));
    assert_eq!(
        keymap.lookup(Context::Global, &ch('h')),
        Some(Command::Back),
        "still vim underneath"
    );
    let select: Vec<String> = keymap
        .keys_for(s, Command::Select)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(select, ["enter"]);
}

#[test]
fn unknown_keymap_selector_is_an_error_with_a_suggestion() {
    let Err(errors) = Keymap::load(Some("vimm"), None) else {
        panic!("vimm should not load");
    };
    assert_eq!(errors.len(), 1);
    let text = errors[0].to_string();
    assert!(
        text.starts_with("vimm: error: unknown keymap \"vimm\""),
        "{text}"
    );
    assert!(
        text.contains("did you mean \"vim\"") && text.contains("default, vim"),
        "{text}"
    );
}

#[test]
fn unreadable_keymap_path_is_an_error() {
    let Err(errors) = Keymap::load(Some("/no/such/keymap.toml"), None) else {
        panic!("a missing file should not load");
    };
    let text = errors[0].to_string();
    assert!(
        text.starts_with("/no/such/keymap.toml: error: cannot read keymap file"),
        "{text}"
    );
    let Err(errors) = Theme::load(Some("/no/such/theme.toml"), false, None) else {
        panic!("a missing file should not load");
    };
    assert!(
        errors[0].message.contains("cannot read theme file"),
        "{}",
        errors[0]
    );
}

// ---- invalid themes ----

#[test]
fn theme_syntax_error_names_file_and_line() {
    expect_theme_error(
        "syntax_error.toml",
        "modifiers = [\"bold\"]",
        "invalid TOML",
    );
}

#[test]
fn theme_bad_colour_is_an_error() {
    expect_theme_error("bad_colour.toml", "purplish", "unknown colour \"purplish\"");
}

#[test]
fn theme_bad_modifier_is_an_error() {
    expect_theme_error(
        "bad_modifier.toml",
        "blinking",
        "unknown modifier \"blinking\"",
    );
}

#[test]
fn theme_non_table_slot_is_an_error() {
    expect_theme_error(
        "non_table_slot.toml",
        "accent = \"cyan\"",
        "must be a table",
    );
}

#[test]
fn theme_unknown_slot_warns_with_a_suggestion() {
    let (path, result) = load_theme_fixture("unknown_slot.toml");
    let warnings = result.unwrap_or_else(|e| panic!("should load: {e:#?}"));
    assert_diagnostic(
        &warnings,
        &path,
        Severity::Warning,
        "acent",
        "did you mean \"accent\"",
    );
}

// ---- user overrides ----

fn user_dir_with(file: &str, contents: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    fs::write(dir.path().join(file), contents).unwrap_or_else(|e| panic!("{e}"));
    dir
}

#[test]
fn user_keymap_rebinds_and_unbinds_per_key() {
    let dir = user_dir_with(
        "keymap.toml",
        "[[global]]\nkeys = [\"Q\"]\naction = \"quit\"\n\n[[global]]\nkeys = [\"q\"]\naction = \"none\"\n",
    );
    let (keymap, warnings) =
        Keymap::load(None, Some(dir.path())).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(keymap.lookup(Context::Global, &ch('q')), None);
    assert_eq!(
        keymap.lookup(Context::Global, &ch('Q')),
        Some(Command::Quit)
    );
    assert_eq!(
        keymap.lookup(Context::Global, &ctrl('c')),
        Some(Command::Quit)
    );
    // Other bindings are untouched, and quit is still listed once for the help screen.
    assert_eq!(
        keymap.lookup(Context::Global, &ch('?')),
        Some(Command::Help)
    );
    let quits: Vec<_> = keymap
        .bindings(Context::Global)
        .into_iter()
        .filter(|b| b.command == Command::Quit)
        .collect();
    assert_eq!(quits.len(), 1);
    assert_eq!(quits[0].description, "Quit berth");
    let shown: Vec<String> = keymap
        .keys_for(Context::Global, Command::Quit)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(shown, ["ctrl-c", "Q"]);
}

#[test]
fn user_keymap_overriding_a_shipped_key_is_not_a_warning() {
    let dir = user_dir_with(
        "keymap.toml",
        "[[global]]\nkeys = [\"x\"]\naction = \"refresh\"\ndescription = \"Reload\"\n",
    );
    let (keymap, warnings) =
        Keymap::load(Some("vim"), Some(dir.path())).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(
        keymap.lookup(Context::Global, &ch('x')),
        Some(Command::Refresh)
    );
    assert!(
        keymap
            .keys_for(Context::Global, Command::DismissBanner)
            .is_empty()
    );
}

#[test]
fn user_keymap_errors_name_the_user_file() {
    let dir = user_dir_with(
        "keymap.toml",
        "[[global]]\nkeys = [\"q\"]\naction = \"quitt\"\n",
    );
    let Err(errors) = Keymap::load(None, Some(dir.path())) else {
        panic!("should not load");
    };
    let path = dir.path().join("keymap.toml");
    assert_diagnostic(
        &errors,
        &path,
        Severity::Error,
        "quitt",
        "did you mean \"quit\"",
    );
}

#[test]
fn unbinding_every_quit_key_gives_ctrl_c_back_with_a_warning() {
    let dir = user_dir_with(
        "keymap.toml",
        "[[global]]\nkeys = [\"q\", \"ctrl-c\"]\naction = \"none\"\n",
    );
    let (keymap, warnings) =
        Keymap::load(None, Some(dir.path())).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(
        keymap.lookup(Context::Global, &ctrl('c')),
        Some(Command::Quit)
    );
    assert_eq!(keymap.lookup(Context::Global, &ch('q')), None);
    assert!(
        warnings.iter().any(|w| w.message.contains("ctrl-c quits")),
        "{warnings:#?}"
    );
}

#[test]
fn user_theme_overrides_one_slot_only() {
    let dir = user_dir_with("theme.toml", "[slots]\naccent = { fg = \"magenta\" }\n");
    let (base, _) = Theme::load(None, false, None).unwrap_or_else(|e| panic!("{e:#?}"));
    let (theme, warnings) =
        Theme::load(None, false, Some(dir.path())).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(theme.name(), "default");
    for slot in Slot::ALL {
        if *slot == Slot::Accent {
            assert_eq!(theme.style(*slot).fg, Some(Color::Magenta));
            assert!(
                theme.style(*slot).add_modifier.is_empty(),
                "the slot is replaced whole"
            );
        } else {
            assert_eq!(theme.style(*slot), base.style(*slot), "{}", slot.name());
        }
    }
}

#[test]
fn user_theme_errors_name_the_user_file() {
    let dir = user_dir_with("theme.toml", "[slots]\n\nwarning = { bg = \"purplish\" }\n");
    let Err(errors) = Theme::load(None, false, Some(dir.path())) else {
        panic!("should not load");
    };
    let path = dir.path().join("theme.toml");
    assert_diagnostic(
        &errors,
        &path,
        Severity::Error,
        "purplish",
        "unknown colour",
    );
}

// ---- lookup semantics ----

#[test]
fn context_bindings_take_precedence_over_global() {
    let km = shipped_keymap("default");
    assert_eq!(km.lookup(Context::Help, &ch('q')), Some(Command::Back));
    assert_eq!(km.lookup(Context::Clusters, &ch('q')), Some(Command::Quit));
    assert_eq!(km.lookup(Context::Help, &ch('j')), Some(Command::Down));
    // Footer hints only show keys that work in the context.
    let quit_in_help: Vec<String> = km
        .keys_for(Context::Help, Command::Quit)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(quit_in_help, ["ctrl-c"]);
}

#[test]
fn shifted_letters_match_however_the_terminal_reports_them() {
    let km = shipped_keymap("default");
    let g = Context::Global;
    assert_eq!(
        km.lookup(g, &key(KeyCode::Char('G'), KeyModifiers::NONE)),
        Some(Command::Bottom)
    );
    assert_eq!(
        km.lookup(g, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
        Some(Command::Bottom)
    );
    assert_eq!(
        km.lookup(g, &key(KeyCode::Char('g'), KeyModifiers::SHIFT)),
        Some(Command::Bottom)
    );
    assert_eq!(km.lookup(g, &ch('g')), Some(Command::Top));
    assert_eq!(
        km.lookup(g, &key(KeyCode::Char('?'), KeyModifiers::SHIFT)),
        Some(Command::Help)
    );
    assert_eq!(KeyChord::parse("shift-g"), KeyChord::parse("G"));
}

// ---- robustness ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic_on_arbitrary_text(s in "\\PC*") {
        let _ = KeyChord::parse(&s);
        let _ = Keymap::from_toml_str(&s, "prop");
        let _ = Theme::from_toml_str(&s, "prop");
    }

    #[test]
    fn parsers_never_panic_on_almost_valid_files(
        section in "[a-z_]{0,10}",
        keys in proptest::collection::vec("[ -~]{0,12}", 0..4),
        action in "[a-z_ ]{0,14}",
        colour in "[#a-z_0-9]{0,10}",
        modifier in "[a-z_]{0,12}",
    ) {
        let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        let keymap = format!(
            "[[{section}]]\nkeys = [{}]\naction = {action:?}\n",
            keys.join(", ")
        );
        let _ = Keymap::from_toml_str(&keymap, "prop");
        let theme = format!("[slots]\n{section} = {{ fg = {colour:?}, modifiers = [{modifier:?}] }}\n");
        let _ = Theme::from_toml_str(&theme, "prop");
    }

    #[test]
    fn parsers_never_panic_on_damaged_shipped_files(cut in 0usize..4000, insert in "\\PC{0,3}") {
        for (_, src) in SHIPPED_KEYMAPS.iter().chain(SHIPPED_THEMES) {
            let mut at = cut.min(src.len());
            while !src.is_char_boundary(at) {
                at -= 1;
            }
            let damaged = format!("{}{insert}{}", &src[..at], &src[at..]);
            let _ = Keymap::from_toml_str(&damaged, "prop");
            let _ = Theme::from_toml_str(&damaged, "prop");
            let _ = Keymap::from_toml_str(&src[..at], "prop");
        }
    }

    #[test]
    fn parsed_keys_round_trip(s in "((ctrl|alt|shift)-){0,2}([ -~]|enter|tab|f[0-9]{1,2}|pgdn|up)") {
        if let Ok(k) = KeyChord::parse(&s) {
            prop_assert_eq!(KeyChord::parse(&k.to_string()), Ok(k));
        }
    }
}
