//! Property tests for the configuration parsers (keymaps, themes, safety rules, key names):
//! no input makes them panic, and every error names its origin and a line inside the input
//! (or 0 when it is not about a line), with a message a person can act on.

use berth::config::key::KeyChord;
use berth::config::keymap::Keymap;
use berth::config::safety::Safety;
use berth::config::theme::Theme;
use proptest::prelude::*;

/// Lines shaped like the files (sections, keys, values), mixed with noise.
fn toml_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[[global]]".to_string()),
        Just("[[services]]".to_string()),
        Just("[[no_such_context]]".to_string()),
        Just("[profiles.prod]".to_string()),
        Just("[accounts.\"210987654321\"]".to_string()),
        Just("[accounts.\"12\"]".to_string()),
        Just("[slots]".to_string()),
        Just("keys = [\"q\", \"ctrl-c\"]".to_string()),
        Just("keys = [\"ctrl-\"]".to_string()),
        Just("keys = \"q\"".to_string()),
        Just("action = \"quit\"".to_string()),
        Just("action = \"no_such\"".to_string()),
        Just("description = \"x\"".to_string()),
        Just("protected = true".to_string()),
        Just("read_only = \"yes\"".to_string()),
        Just("name = \"mine\"".to_string()),
        Just("text = { fg = \"red\", modifiers = [\"bold\"] }".to_string()),
        Just("error = { fg = \"#zzzzzz\" }".to_string()),
        Just("accent = { fg = 300 }".to_string()),
        Just("= = =".to_string()),
        Just("\"unterminated".to_string()),
        "[ -~]{0,30}",
        "\\PC{0,12}",
    ]
}

fn toml_file() -> impl Strategy<Value = String> {
    prop::collection::vec(toml_line(), 0..12).prop_map(|lines| lines.join("\n"))
}

fn lines_of(src: &str) -> usize {
    src.lines().count().max(1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn keymaps_never_panic_and_errors_point_inside(src in toml_file()) {
        match Keymap::from_toml_str(&src, "fuzz.toml") {
            Ok((_, warnings)) => {
                for w in warnings {
                    prop_assert!(w.line <= lines_of(&src) + 1, "{w}");
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in errors {
                    prop_assert_eq!(&e.origin, "fuzz.toml");
                    prop_assert!(e.line <= lines_of(&src) + 1, "{} for {:?}", e, src);
                    prop_assert!(!e.message.trim().is_empty());
                    prop_assert!(e.to_string().contains("fuzz.toml"));
                }
            }
        }
    }

    #[test]
    fn themes_never_panic_and_errors_point_inside(src in toml_file()) {
        if let Err(errors) = Theme::from_toml_str(&src, "fuzz.toml") {
            prop_assert!(!errors.is_empty());
            for e in errors {
                prop_assert!(e.line <= lines_of(&src) + 1, "{} for {:?}", e, src);
                prop_assert!(!e.message.trim().is_empty());
            }
        }
    }

    #[test]
    fn safety_rules_never_panic_and_errors_point_inside(src in toml_file()) {
        if let Err(e) = Safety::from_toml_str(&src, "config.toml") {
            prop_assert!(e.line <= lines_of(&src) + 1, "{} for {:?}", e, src);
            prop_assert!(e.to_string().contains("config.toml"));
        }
    }

    #[test]
    fn key_names_never_panic(text in "\\PC{0,16}") {
        if let Err(msg) = KeyChord::parse(&text) {
            prop_assert!(!msg.trim().is_empty());
        }
    }

    #[test]
    fn key_names_round_trip(
        base in prop_oneof![
            "[a-z0-9]".prop_map(|s: String| s),
            Just("enter".to_string()), Just("esc".to_string()), Just("tab".to_string()),
            Just("f5".to_string()), Just("pgdn".to_string()), Just("space".to_string()),
        ],
        ctrl in any::<bool>(),
        alt in any::<bool>(),
    ) {
        let mut name = String::new();
        if ctrl { name.push_str("ctrl-"); }
        if alt { name.push_str("alt-"); }
        name.push_str(&base);
        let parsed = KeyChord::parse(&name);
        prop_assert!(parsed.is_ok(), "{name}: {parsed:?}");
    }
}
