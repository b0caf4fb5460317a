//! Key chords as written in keymap files (`q`, `G`, `ctrl-c`, `shift-tab`, `pgdn`) and as
//! reported by terminals.
//!
//! Terminals disagree about SHIFT: one reports `G` as `Char('G')`, another as `Char('G')` with
//! SHIFT, a third (with keyboard enhancement) as `Char('g')` with SHIFT; `?` may or may not carry
//! SHIFT; shift-tab arrives as `BackTab`, sometimes with SHIFT. Both sides are normalised to one
//! form so a binding matches whatever the terminal sends: a character carries no SHIFT (it is
//! already in the character's case), and shift-tab is `BackTab`.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::diag::did_you_mean;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    code: KeyCode,
    modifiers: KeyModifiers,
}

/// Named keys, canonical spelling first for each code (Display uses the first match).
const NAMED_KEYS: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    // Aliases, accepted but never printed.
    ("escape", KeyCode::Esc),
    ("return", KeyCode::Enter),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("del", KeyCode::Delete),
];

const MODIFIER_PREFIXES: &[(&str, KeyModifiers)] = &[
    ("ctrl-", KeyModifiers::CONTROL),
    ("alt-", KeyModifiers::ALT),
    ("shift-", KeyModifiers::SHIFT),
];

const MAX_FUNCTION_KEY: u8 = 12;

impl KeyChord {
    /// A chord from a code and modifiers, normalised like terminal input.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> KeyChord {
        normalise(code, modifiers)
    }

    /// The chord a terminal key event stands for.
    pub fn from_event(event: &KeyEvent) -> KeyChord {
        normalise(event.code, event.modifiers)
    }

    /// True if `event` is a press (or repeat) of this chord. Releases never match.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        event.kind != KeyEventKind::Release && KeyChord::from_event(event) == *self
    }

    pub fn code(&self) -> KeyCode {
        self.code
    }

    pub fn modifiers(&self) -> KeyModifiers {
        self.modifiers
    }

    /// Parse the keymap spelling: `q`, `?`, `G`, `enter`, `f5`, `ctrl-c`, `alt-x`, `shift-tab`.
    /// Modifier prefixes and key names are case-insensitive; single characters are not.
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        if text.is_empty() {
            return Err("empty key".to_string());
        }
        let mut rest = text;
        let mut modifiers = KeyModifiers::NONE;
        'prefixes: loop {
            for (prefix, flag) in MODIFIER_PREFIXES {
                let Some(head) = rest.get(..prefix.len()) else {
                    continue;
                };
                // `ctrl-` alone is not a modifier: `-` may be the key itself (`ctrl--`).
                if head.eq_ignore_ascii_case(prefix) && rest.len() > prefix.len() {
                    if modifiers.contains(*flag) {
                        return Err(format!("modifier \"{prefix}\" repeated in \"{text}\""));
                    }
                    modifiers |= *flag;
                    rest = &rest[prefix.len()..];
                    continue 'prefixes;
                }
            }
            break;
        }

        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if c.is_control() {
                    return Err(format!(
                        "control character in key \"{}\"",
                        text.escape_debug()
                    ));
                }
                if c == ' ' {
                    return Err("write a space as \"space\"".to_string());
                }
                if modifiers.contains(KeyModifiers::SHIFT) && !c.is_lowercase() {
                    return Err(format!(
                        "\"{text}\": shift combines with lowercase letters and named keys; \
                         write the character shift produces instead"
                    ));
                }
                KeyCode::Char(c)
            }
            _ => named_key(rest)?,
        };
        Ok(normalise(code, modifiers))
    }
}

fn named_key(name: &str) -> Result<KeyCode, String> {
    let lower = name.to_ascii_lowercase();
    if let Some((_, code)) = NAMED_KEYS.iter().find(|(n, _)| *n == lower) {
        return Ok(*code);
    }
    if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok())
        && (1..=MAX_FUNCTION_KEY).contains(&n)
    {
        return Ok(KeyCode::F(n));
    }
    let hint = did_you_mean(&lower, NAMED_KEYS.iter().map(|(n, _)| *n));
    Err(format!(
        "unknown key \"{name}\"{hint}: use a single character, a name (enter, esc, tab, \
         backtab, space, backspace, delete, insert, up, down, left, right, home, end, pgup, \
         pgdn, f1..f{MAX_FUNCTION_KEY}) and optional ctrl-, alt-, shift- prefixes"
    ))
}

fn normalise(code: KeyCode, modifiers: KeyModifiers) -> KeyChord {
    let mut code = code;
    let mut modifiers = modifiers;
    match code {
        KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
            code = KeyCode::BackTab;
            modifiers.remove(KeyModifiers::SHIFT);
        }
        KeyCode::BackTab => modifiers.remove(KeyModifiers::SHIFT),
        KeyCode::Char(c) => {
            if modifiers.contains(KeyModifiers::SHIFT) {
                let mut upper = c.to_uppercase();
                if let (Some(u), None) = (upper.next(), upper.next()) {
                    code = KeyCode::Char(u);
                }
            }
            modifiers.remove(KeyModifiers::SHIFT);
        }
        _ => {}
    }
    KeyChord { code, modifiers }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const PRINTED: &[(KeyModifiers, &str)] = &[
            (KeyModifiers::CONTROL, "ctrl-"),
            (KeyModifiers::ALT, "alt-"),
            (KeyModifiers::SUPER, "super-"),
            (KeyModifiers::HYPER, "hyper-"),
            (KeyModifiers::META, "meta-"),
            (KeyModifiers::SHIFT, "shift-"),
        ];
        for (flag, prefix) in PRINTED {
            if self.modifiers.contains(*flag) {
                f.write_str(prefix)?;
            }
        }
        if let Some((name, _)) = NAMED_KEYS.iter().find(|(_, c)| *c == self.code) {
            return f.write_str(name);
        }
        match self.code {
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{}", format!("{other:?}").to_ascii_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chord(s: &str) -> KeyChord {
        match KeyChord::parse(s) {
            Ok(k) => k,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn parses_characters_names_and_modifiers() {
        assert_eq!(chord("q").code(), KeyCode::Char('q'));
        assert_eq!(chord("?").code(), KeyCode::Char('?'));
        assert_eq!(chord("-").code(), KeyCode::Char('-'));
        assert_eq!(chord("enter").code(), KeyCode::Enter);
        assert_eq!(chord("Enter").code(), KeyCode::Enter);
        assert_eq!(chord("f12").code(), KeyCode::F(12));
        let c = chord("ctrl-c");
        assert_eq!(
            (c.code(), c.modifiers()),
            (KeyCode::Char('c'), KeyModifiers::CONTROL)
        );
        let m = chord("ctrl--");
        assert_eq!(
            (m.code(), m.modifiers()),
            (KeyCode::Char('-'), KeyModifiers::CONTROL)
        );
        assert_eq!(chord("alt-x").modifiers(), KeyModifiers::ALT);
    }

    #[test]
    fn shift_is_folded_into_characters_and_backtab() {
        assert_eq!(chord("shift-g"), chord("G"));
        assert_eq!(chord("shift-tab"), chord("backtab"));
        assert_ne!(chord("g"), chord("G"));
        assert_eq!(chord("shift-up").modifiers(), KeyModifiers::SHIFT);
        let g = chord("G");
        assert!(g.matches(&press(KeyCode::Char('G'), KeyModifiers::NONE)));
        assert!(g.matches(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(g.matches(&press(KeyCode::Char('g'), KeyModifiers::SHIFT)));
        assert!(!g.matches(&press(KeyCode::Char('g'), KeyModifiers::NONE)));
        assert!(chord("?").matches(&press(KeyCode::Char('?'), KeyModifiers::SHIFT)));
        assert!(chord("backtab").matches(&press(KeyCode::BackTab, KeyModifiers::SHIFT)));
        assert!(chord("shift-tab").matches(&press(KeyCode::Tab, KeyModifiers::SHIFT)));
        assert!(!chord("q").matches(&press(KeyCode::Char('q'), KeyModifiers::CONTROL)));
    }

    #[test]
    fn releases_never_match() {
        let release = KeyEvent::new_with_kind(
            KeyCode::Char('q'),
            KeyModifiers::NONE,
            KeyEventKind::Release,
        );
        assert!(!chord("q").matches(&release));
    }

    #[test]
    fn rejects_bad_keys_with_a_reason() {
        for bad in [
            "",
            "entr",
            "ctrl-",
            "f13",
            "f0",
            "ctrl-ctrl-c",
            "shift-?",
            "shift-1",
            " ",
        ] {
            let err = KeyChord::parse(bad).err();
            assert!(err.is_some(), "{bad:?} parsed");
        }
        let err = KeyChord::parse("entr").err().unwrap_or_default();
        assert!(err.contains("did you mean \"enter\""), "{err}");
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let cases = [
            ("q", "q"),
            ("?", "?"),
            ("G", "G"),
            ("shift-g", "G"),
            ("CTRL-c", "ctrl-c"),
            ("ctrl-C", "ctrl-C"),
            ("escape", "esc"),
            ("pagedown", "pgdn"),
            ("shift-tab", "backtab"),
            ("ctrl-alt-shift-left", "ctrl-alt-shift-left"),
            ("alt-ctrl-x", "ctrl-alt-x"),
            ("space", "space"),
            ("f5", "f5"),
        ];
        for (input, shown) in cases {
            let k = chord(input);
            assert_eq!(k.to_string(), shown, "{input}");
            assert_eq!(chord(&k.to_string()), k, "{input}");
        }
    }
}
