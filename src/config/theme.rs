//! Themes: a style for each semantic [`Slot`] (accent, warning, selection, ...) and for each ECS
//! state (rollout, task, health).
//!
//! Panes ask for `theme.style(Slot::TaskStopped)`, never for a colour, so a theme file can
//! restyle everything. Shipped themes use only the 16 ANSI colours so they follow the user's
//! terminal palette; `mono` uses none at all and tells states apart with bold, reverse,
//! underline and dim (the UI adds glyphs).

use std::ops::Range;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use toml::de::{DeTable, DeValue};

use super::diag::{Diagnostic, Severity, did_you_mean, syntax_errors};
use super::{read_user_file, resolve_selector};

/// Shipped themes by name, embedded in the binary.
pub const SHIPPED_THEMES: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// The user's override file inside the berth config directory.
pub const USER_THEME_FILE: &str = "theme.toml";

macro_rules! slots {
    ($($variant:ident => $name:literal,)*) => {
        /// A semantic style. Declaration order is the order of [`Slot::ALL`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Slot {
            $($variant,)*
        }

        impl Slot {
            pub const ALL: &'static [Slot] = &[$(Slot::$variant,)*];

            /// The snake_case name theme files use.
            pub fn name(self) -> &'static str {
                match self {
                    $(Slot::$variant => $name,)*
                }
            }
        }
    };
}

slots! {
    Text => "text",
    Muted => "muted",
    Accent => "accent",
    Title => "title",
    Border => "border",
    Header => "header",
    Selection => "selection",
    KeyHint => "key_hint",
    Info => "info",
    Success => "success",
    Warning => "warning",
    Error => "error",
    Danger => "danger",
    MatchHighlight => "match_highlight",
    StateActive => "state_active",
    StateInactive => "state_inactive",
    StateDraining => "state_draining",
    RolloutInProgress => "rollout_in_progress",
    RolloutCompleted => "rollout_completed",
    RolloutFailed => "rollout_failed",
    TaskProvisioning => "task_provisioning",
    TaskPending => "task_pending",
    TaskRunning => "task_running",
    TaskStopping => "task_stopping",
    TaskStopped => "task_stopped",
    HealthHealthy => "health_healthy",
    HealthUnhealthy => "health_unhealthy",
    HealthUnknown => "health_unknown",
    LogTrace => "log_trace",
    LogDebug => "log_debug",
    LogInfo => "log_info",
    LogWarn => "log_warn",
    LogError => "log_error",
}

impl Slot {
    pub fn from_name(name: &str) -> Option<Slot> {
        Slot::ALL.iter().copied().find(|s| s.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

const COLORS: &[(&str, Color)] = &[
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark_gray", Color::DarkGray),
    ("light_red", Color::LightRed),
    ("light_green", Color::LightGreen),
    ("light_yellow", Color::LightYellow),
    ("light_blue", Color::LightBlue),
    ("light_magenta", Color::LightMagenta),
    ("light_cyan", Color::LightCyan),
    ("white", Color::White),
    ("reset", Color::Reset),
];

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    name: String,
    /// Indexed by `Slot as usize`; always `Slot::ALL.len()` long.
    styles: Vec<Style>,
}

/// What one theme file says, validated: only the slots it defines.
struct ThemeFile {
    name: Option<String>,
    slots: Vec<(Slot, Style)>,
}

impl ThemeFile {
    fn has_colour(&self) -> bool {
        self.slots.iter().any(|(_, s)| uses_colour(s))
    }
}

fn uses_colour(style: &Style) -> bool {
    let coloured = |c: Option<Color>| c.is_some_and(|c| c != Color::Reset);
    coloured(style.fg) || coloured(style.bg)
}

impl Theme {
    /// `selector`: None picks "mono" when `no_color` (NO_COLOR set and non-empty), else
    /// "default"; otherwise a shipped name or a file path. `user_dir`: the berth config
    /// directory; its `theme.toml`, if present, replaces the slots it defines.
    pub fn load(
        selector: Option<&str>,
        no_color: bool,
        user_dir: Option<&Path>,
    ) -> Result<(Theme, Vec<Diagnostic>), Vec<Diagnostic>> {
        let selector = selector.unwrap_or(if no_color { "mono" } else { "default" });
        let base = resolve_selector("theme", selector, "themes", SHIPPED_THEMES)?;
        let (mut theme, mut diags) = Theme::from_toml_str(&base.src, &base.origin)?;
        if base.origin.ends_with("(built in)") || theme.name.is_empty() {
            theme.name = base.name;
        }
        if let Some(user) = read_user_file(user_dir, USER_THEME_FILE)? {
            let (file, user_diags) = parse_theme(&user.src, &user.origin);
            diags.extend(user_diags);
            match file {
                Some(file) if !diags.iter().any(Diagnostic::is_error) => {
                    for (slot, style) in file.slots {
                        theme.styles[slot.index()] = style;
                    }
                }
                _ => return Err(diags),
            }
        }
        Ok((theme, diags))
    }

    /// Parse one theme file on its own. Slots it leaves out come from the default theme, or
    /// are plain when the file uses no colour at all (a mono theme stays mono).
    pub fn from_toml_str(
        src: &str,
        origin: &str,
    ) -> Result<(Theme, Vec<Diagnostic>), Vec<Diagnostic>> {
        let (file, diags) = parse_theme(src, origin);
        let file = match file {
            Some(file) if !diags.iter().any(Diagnostic::is_error) => file,
            _ => return Err(diags),
        };
        let mut styles = if file.has_colour() {
            Theme::built_in_default().styles
        } else {
            Theme::plain().styles
        };
        for (slot, style) in file.slots {
            styles[slot.index()] = style;
        }
        let name = file.name.unwrap_or_else(|| {
            Path::new(origin)
                .file_stem()
                .map_or_else(|| origin.to_string(), |s| s.to_string_lossy().into_owned())
        });
        Ok((Theme { name, styles }, diags))
    }

    /// Every slot unstyled: the terminal's own colours.
    pub fn plain() -> Theme {
        Theme {
            name: "plain".to_string(),
            styles: vec![Style::default(); Slot::ALL.len()],
        }
    }

    /// The shipped default theme. Tests guarantee it parses; were it ever broken, berth would
    /// still run, unstyled.
    pub fn built_in_default() -> Theme {
        let src = SHIPPED_THEMES.first().map_or("", |(_, src)| src);
        let (file, _) = parse_theme(src, "themes/default.toml (built in)");
        let mut theme = Theme::plain();
        theme.name = "default".to_string();
        for (slot, style) in file.map(|f| f.slots).unwrap_or_default() {
            theme.styles[slot.index()] = style;
        }
        theme
    }

    pub fn style(&self, slot: Slot) -> Style {
        self.styles.get(slot.index()).copied().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// True if no slot sets a foreground or background colour.
    pub fn is_mono(&self) -> bool {
        !self.styles.iter().any(uses_colour)
    }
}

impl Default for Theme {
    fn default() -> Theme {
        Theme::built_in_default()
    }
}

fn parse_theme(src: &str, origin: &str) -> (Option<ThemeFile>, Vec<Diagnostic>) {
    let (doc, errors) = DeTable::parse_recoverable(src);
    if !errors.is_empty() {
        return (None, syntax_errors(origin, src, errors));
    }
    let mut diags = Vec::new();
    let mut file = ThemeFile {
        name: None,
        slots: Vec::new(),
    };
    let at = |diags: &mut Vec<Diagnostic>, span: Range<usize>, severity, msg: String| {
        diags.push(Diagnostic::at(origin, src, span, severity, msg));
    };

    for (key, value) in doc.get_ref().iter() {
        match (key.get_ref().as_ref(), value.get_ref()) {
            ("name", DeValue::String(name)) => file.name = Some(name.to_string()),
            ("name", other) => at(
                &mut diags,
                value.span(),
                Severity::Error,
                format!("name must be a string, found {}", other.type_str()),
            ),
            ("slots", DeValue::Table(slots)) => {
                for (slot_key, slot_value) in slots.iter() {
                    let Some(slot) = Slot::from_name(slot_key.get_ref()) else {
                        let hint =
                            did_you_mean(slot_key.get_ref(), Slot::ALL.iter().map(|s| s.name()));
                        at(
                            &mut diags,
                            slot_key.span(),
                            Severity::Warning,
                            format!("unknown slot \"{}\"{hint} (ignored)", slot_key.get_ref()),
                        );
                        continue;
                    };
                    if let Some(style) = parse_style(slot, slot_value, src, origin, &mut diags) {
                        file.slots.push((slot, style));
                    }
                }
            }
            ("slots", other) => at(
                &mut diags,
                value.span(),
                Severity::Error,
                format!(
                    "slots must be a table ([slots] followed by lines like accent = {{ fg = \"cyan\" }}), found {}",
                    other.type_str()
                ),
            ),
            (other, _) => {
                let hint = did_you_mean(other, ["name", "slots"]);
                at(
                    &mut diags,
                    key.span(),
                    Severity::Warning,
                    format!(
                        "unknown setting \"{other}\"{hint} (ignored; a theme has name and [slots])"
                    ),
                );
            }
        }
    }
    diags.sort_by_key(|d| (d.line, d.column));
    (Some(file), diags)
}

fn parse_style(
    slot: Slot,
    value: &toml::Spanned<DeValue<'_>>,
    src: &str,
    origin: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Style> {
    let at = |diags: &mut Vec<Diagnostic>, span: Range<usize>, severity, msg: String| {
        diags.push(Diagnostic::at(origin, src, span, severity, msg));
    };
    let DeValue::Table(table) = value.get_ref() else {
        at(
            diags,
            value.span(),
            Severity::Error,
            format!(
                "slot \"{}\" must be a table like {{ fg = \"cyan\", modifiers = [\"bold\"] }}, found {}",
                slot.name(),
                value.get_ref().type_str()
            ),
        );
        return None;
    };
    let errors_before = diags.iter().filter(|d| d.is_error()).count();
    let mut style = Style::default();
    for (key, field) in table.iter() {
        match key.get_ref().as_ref() {
            which @ ("fg" | "bg") => match parse_color(field.get_ref()) {
                Ok(color) if which == "fg" => style = style.fg(color),
                Ok(color) => style = style.bg(color),
                Err(why) => at(
                    diags,
                    field.span(),
                    Severity::Error,
                    format!("{which} of \"{}\": {why}", slot.name()),
                ),
            },
            "modifiers" => match field.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        match parse_modifier(item.get_ref()) {
                            Ok(m) => style = style.add_modifier(m),
                            Err(why) => at(
                                diags,
                                item.span(),
                                Severity::Error,
                                format!("modifier of \"{}\": {why}", slot.name()),
                            ),
                        }
                    }
                }
                other => at(
                    diags,
                    field.span(),
                    Severity::Error,
                    format!(
                        "modifiers of \"{}\" must be a list such as [\"bold\"], found {}",
                        slot.name(),
                        other.type_str()
                    ),
                ),
            },
            other => {
                let hint = did_you_mean(other, ["fg", "bg", "modifiers"]);
                at(
                    diags,
                    key.span(),
                    Severity::Warning,
                    format!(
                        "unknown field \"{other}\"{hint} in slot \"{}\" (ignored; fields are fg, bg, modifiers)",
                        slot.name()
                    ),
                );
            }
        }
    }
    (diags.iter().filter(|d| d.is_error()).count() == errors_before).then_some(style)
}

fn parse_color(value: &DeValue<'_>) -> Result<Color, String> {
    let Some(text) = value.as_str() else {
        return Err(format!("a colour is a string, found {}", value.type_str()));
    };
    if let Some((_, color)) = COLORS.iter().find(|(name, _)| *name == text) {
        return Ok(*color);
    }
    if let Some(hex) = text.strip_prefix('#')
        && hex.len() == 6
        && hex.chars().all(|c| c.is_ascii_hexdigit())
    {
        let byte =
            |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
        return Ok(Color::Rgb(byte(0), byte(2), byte(4)));
    }
    let hint = did_you_mean(text, COLORS.iter().map(|(name, _)| *name));
    let names: Vec<&str> = COLORS.iter().map(|(name, _)| *name).collect();
    Err(format!(
        "unknown colour \"{text}\"{hint}; use one of {} or #rrggbb",
        names.join(", ")
    ))
}

fn parse_modifier(value: &DeValue<'_>) -> Result<Modifier, String> {
    let Some(text) = value.as_str() else {
        return Err(format!(
            "a modifier is a string, found {}",
            value.type_str()
        ));
    };
    if let Some((_, m)) = MODIFIERS.iter().find(|(name, _)| *name == text) {
        return Ok(*m);
    }
    let hint = did_you_mean(text, MODIFIERS.iter().map(|(name, _)| *name));
    let names: Vec<&str> = MODIFIERS.iter().map(|(name, _)| *name).collect();
    Err(format!(
        "unknown modifier \"{text}\"{hint}; use one of {}",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_index_follows_all() {
        for (i, slot) in Slot::ALL.iter().enumerate() {
            assert_eq!(slot.index(), i);
            assert_eq!(Slot::from_name(slot.name()), Some(*slot));
        }
    }

    #[test]
    fn colours_and_modifiers_parse() {
        let s = |t: &str| DeValue::String(t.to_string().into());
        assert_eq!(parse_color(&s("dark_gray")), Ok(Color::DarkGray));
        assert_eq!(parse_color(&s("#0a0B0c")), Ok(Color::Rgb(10, 11, 12)));
        assert!(parse_color(&s("#0a0B0")).is_err());
        let err = parse_color(&s("purplish")).err().unwrap_or_default();
        assert!(err.contains("\"purplish\""), "{err}");
        assert!(
            parse_color(&s("dark_grey"))
                .err()
                .unwrap_or_default()
                .contains("did you mean \"dark_gray\"")
        );
        assert_eq!(parse_modifier(&s("reversed")), Ok(Modifier::REVERSED));
        assert!(parse_modifier(&s("blink")).is_err());
    }

    #[test]
    fn missing_slots_fall_back_to_default_or_plain() {
        let (coloured, _) = Theme::from_toml_str("[slots]\naccent = { fg = \"red\" }", "t")
            .unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(coloured.style(Slot::Accent).fg, Some(Color::Red));
        assert_eq!(
            coloured.style(Slot::Selection),
            Theme::built_in_default().style(Slot::Selection)
        );
        let (mono, _) = Theme::from_toml_str("[slots]\naccent = { modifiers = [\"bold\"] }", "t")
            .unwrap_or_else(|d| panic!("{d:?}"));
        assert!(mono.is_mono());
        assert_eq!(mono.style(Slot::Selection), Style::default());
    }
}
