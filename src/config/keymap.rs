//! Keymaps: which key runs which [`Command`] in which [`Context`].
//!
//! A keymap file has one array-of-tables section per context (`[[global]]`, `[[clusters]]`, ...);
//! each entry binds `keys` to an `action` with a `description` for the help screen.
//!
//! Keymaps are layers. A file that starts with `extends = "default"` is a layer on top of that
//! shipped keymap (vim.toml and k9s.toml are); `$XDG_CONFIG_HOME/berth/keymap.toml` is a layer on
//! top of whichever keymap was chosen. A layer changes bindings key by key: its keys leave
//! whatever they did in that section and join the entry's action, which keeps its other keys,
//! its place in the help and (unless the entry gives one) its description; `action = "none"`
//! unbinds keys. One rule for shipped and user layers, so a derived keymap lists only what
//! differs. Problems are reported as [`Diagnostic`]s with file and line, never dropped silently.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use toml::de::{DeTable, DeValue};

use super::diag::{Diagnostic, Severity, did_you_mean, syntax_errors};
use super::key::KeyChord;
use super::{read_user_file, resolve_selector};
use crate::app::command::{Command, Context};

/// Shipped keymaps by name, embedded in the binary.
pub const SHIPPED_KEYMAPS: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
    ("k9s", include_str!("../../keymaps/k9s.toml")),
];

/// The user's override file inside the berth config directory.
pub const USER_KEYMAP_FILE: &str = "keymap.toml";

/// The action name that removes a key's binding.
const UNBIND: &str = "none";

/// The top-level key that makes a file a layer on top of a shipped keymap.
const EXTENDS: &str = "extends";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub context: Context,
    pub keys: Vec<KeyChord>,
    pub command: Command,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    name: String,
    /// In file order; user bindings for a new (context, command) are appended.
    bindings: Vec<Binding>,
}

/// A keymap file, validated but not yet applied.
struct File {
    /// The shipped keymap this file is a layer on, and where the file names it.
    extends: Option<(String, Range<usize>)>,
    entries: Vec<Entry>,
}

/// One entry of a keymap file, validated but not yet applied.
struct Entry {
    context: Context,
    span: Range<usize>,
    keys: Vec<(KeyChord, Range<usize>)>,
    /// None unbinds the keys.
    command: Option<Command>,
    description: Option<String>,
}

impl Keymap {
    /// `selector`: None = "default"; a shipped name ("default", "vim") or a file path.
    /// `user_dir`: the berth config directory; its `keymap.toml`, if present, overrides per key.
    /// Err holds fatal diagnostics (and any warnings found before them); Ok carries warnings.
    pub fn load(
        selector: Option<&str>,
        user_dir: Option<&Path>,
    ) -> Result<(Keymap, Vec<Diagnostic>), Vec<Diagnostic>> {
        let base = resolve_selector(
            "keymap",
            selector.unwrap_or("default"),
            "keymaps",
            SHIPPED_KEYMAPS,
        )?;
        let mut chain = vec![base.name.clone()];
        let (mut keymap, mut diags) = Keymap::layered(&base.src, &base.origin, &mut chain)?;
        keymap.name = base.name;

        if let Some(user) = read_user_file(user_dir, USER_KEYMAP_FILE)? {
            let (file, user_diags) = parse_file(&user.src, &user.origin);
            diags.extend(user_diags);
            if diags.iter().any(Diagnostic::is_error) {
                return Err(diags);
            }
            if let Some((name, span)) = &file.extends {
                diags.push(Diagnostic::at(
                    &user.origin,
                    &user.src,
                    span.clone(),
                    Severity::Warning,
                    format!(
                        "{EXTENDS} = \"{name}\" is ignored here: {USER_KEYMAP_FILE} always applies \
                         on top of the chosen keymap ({}); choose one with --keymap or \
                         [console] keymap",
                        keymap.name
                    ),
                ));
            }
            diags.extend(keymap.apply(file.entries, &user.src, &user.origin, true));
        }

        if let Some(warning) = keymap.ensure_quit_key() {
            diags.push(warning);
        }
        Ok((keymap, diags))
    }

    /// Parse one keymap file, and the shipped keymaps it extends, without the user layer.
    /// `origin` names it in diagnostics.
    pub fn from_toml_str(
        src: &str,
        origin: &str,
    ) -> Result<(Keymap, Vec<Diagnostic>), Vec<Diagnostic>> {
        Keymap::layered(src, origin, &mut Vec::new())
    }

    /// [`Keymap::from_toml_str`]; `chain` holds the shipped names already on the way here, so
    /// that a keymap extending itself is an error rather than endless recursion.
    fn layered(
        src: &str,
        origin: &str,
        chain: &mut Vec<String>,
    ) -> Result<(Keymap, Vec<Diagnostic>), Vec<Diagnostic>> {
        let (file, mut diags) = parse_file(src, origin);
        if diags.iter().any(Diagnostic::is_error) {
            return Err(diags);
        }
        let (mut keymap, base_diags, is_layer) = match &file.extends {
            None => (
                Keymap {
                    name: origin.to_string(),
                    bindings: Vec::new(),
                },
                Vec::new(),
                false,
            ),
            Some((name, span)) => {
                let error = |msg: String| {
                    vec![Diagnostic::at(
                        origin,
                        src,
                        span.clone(),
                        Severity::Error,
                        msg,
                    )]
                };
                let Some((base_name, base_src)) =
                    SHIPPED_KEYMAPS.iter().find(|(n, _)| *n == name.as_str())
                else {
                    let names = || SHIPPED_KEYMAPS.iter().map(|(n, _)| *n);
                    let hint = did_you_mean(name, names());
                    let known: Vec<&str> = names().collect();
                    return Err(error(format!(
                        "{EXTENDS}: unknown keymap \"{name}\"{hint}; a keymap extends a shipped \
                         one: {}",
                        known.join(", ")
                    )));
                };
                if chain.iter().any(|n| n == base_name) {
                    chain.push((*base_name).to_string());
                    return Err(error(format!(
                        "{EXTENDS}: keymap \"{base_name}\" would extend itself ({})",
                        chain.join(" extends ")
                    )));
                }
                chain.push((*base_name).to_string());
                let base_origin = format!("keymaps/{base_name}.toml (built in)");
                let (base, base_diags) = Keymap::layered(base_src, &base_origin, chain)?;
                (base, base_diags, true)
            }
        };
        diags.extend(keymap.apply(file.entries, src, origin, is_layer));
        diags.sort_by_key(|d| (d.line, d.column));
        let mut all = base_diags;
        all.extend(diags);
        Ok((keymap, all))
    }

    /// The shipped default keymap, for tests and fallbacks. Tests guarantee it parses; were it
    /// ever broken, only ctrl-c (quit) would be bound.
    pub fn built_in_default() -> Keymap {
        let src = SHIPPED_KEYMAPS.first().map_or("", |(_, src)| src);
        let mut keymap = Keymap::from_toml_str(src, "default")
            .map(|(keymap, _)| keymap)
            .unwrap_or_else(|_| Keymap {
                name: String::new(),
                bindings: Vec::new(),
            });
        keymap.name = "default".to_string();
        let _ = keymap.ensure_quit_key();
        keymap
    }

    /// The keymap's name: a shipped name, or the file it came from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The command `key` runs in `ctx`: the context's own bindings first, then global ones.
    /// Key releases run nothing.
    pub fn lookup(&self, ctx: Context, key: &KeyEvent) -> Option<Command> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        self.lookup_chord(ctx, KeyChord::from_event(key))
    }

    /// Like [`Keymap::lookup`], for a chord.
    pub fn lookup_chord(&self, ctx: Context, chord: KeyChord) -> Option<Command> {
        let find = |c: Context| {
            self.bindings
                .iter()
                .find(|b| b.context == c && b.keys.contains(&chord))
                .map(|b| b.command)
        };
        find(ctx).or_else(|| find(Context::Global))
    }

    /// The bindings of `ctx` alone (not global), in file order: the help screen's rows.
    pub fn bindings(&self, ctx: Context) -> Vec<&Binding> {
        self.bindings.iter().filter(|b| b.context == ctx).collect()
    }

    /// The keys that run `cmd` in `ctx`: the context's own, then global keys the context does
    /// not shadow. For footer hints.
    pub fn keys_for(&self, ctx: Context, cmd: Command) -> Vec<KeyChord> {
        let mut keys: Vec<KeyChord> = Vec::new();
        for b in self
            .bindings
            .iter()
            .filter(|b| b.context == ctx && b.command == cmd)
        {
            keys.extend(b.keys.iter().copied());
        }
        if ctx != Context::Global {
            for b in self
                .bindings
                .iter()
                .filter(|b| b.context == Context::Global && b.command == cmd)
            {
                keys.extend(
                    b.keys
                        .iter()
                        .copied()
                        .filter(|k| self.lookup_chord(ctx, *k) == Some(cmd)),
                );
            }
        }
        let mut seen = Vec::new();
        keys.retain(|k| {
            let new = !seen.contains(k);
            seen.push(*k);
            new
        });
        keys
    }

    /// The key hints show for `cmd` in `ctx`: the first of [`Keymap::keys_for`]. Footers, pane
    /// titles and messages that name a key all ask here, so a rebound key shows its new key.
    pub fn first_key(&self, ctx: Context, cmd: Command) -> Option<KeyChord> {
        self.keys_for(ctx, cmd).first().copied()
    }

    /// Apply parsed entries in order. A key bound again replaces its earlier binding in the
    /// same context; within one file that is worth a warning, from a layer it is the point.
    /// In a layer, an entry's keys join the binding its action already has in the context, so
    /// the action keeps its place, its other keys and its description.
    fn apply(
        &mut self,
        entries: Vec<Entry>,
        src: &str,
        origin: &str,
        is_layer: bool,
    ) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let mut seen: HashMap<(Context, KeyChord), Range<usize>> = HashMap::new();
        for entry in entries {
            let mut keys: Vec<KeyChord> = Vec::new();
            for (chord, span) in &entry.keys {
                if let Some(first) = seen.get(&(entry.context, *chord)) {
                    let (first_line, _) = super::diag::line_column(src, first.start);
                    diags.push(Diagnostic::at(
                        origin,
                        src,
                        span.clone(),
                        Severity::Warning,
                        format!(
                            "key \"{chord}\" is bound twice in [[{}]] (first at line {first_line}); \
                             the later binding wins",
                            entry.context.name()
                        ),
                    ));
                } else {
                    seen.insert((entry.context, *chord), span.clone());
                }
                for b in self
                    .bindings
                    .iter_mut()
                    .filter(|b| b.context == entry.context)
                {
                    b.keys.retain(|k| k != chord);
                }
                if !keys.contains(chord) {
                    keys.push(*chord);
                }
            }

            let Some(command) = entry.command else {
                continue;
            };
            // A binding emptied by an earlier entry of this layer is still found here (vim's
            // "l" moves from show_logs to select, then show_logs gets "L" in the same place).
            if is_layer
                && let Some(existing) = self
                    .bindings
                    .iter_mut()
                    .find(|b| b.context == entry.context && b.command == command)
            {
                existing.keys.extend(keys);
                if let Some(description) = entry.description {
                    existing.description = description;
                }
                continue;
            }
            let description = match entry.description {
                Some(d) => d,
                None => {
                    let inherited = self
                        .bindings
                        .iter()
                        .find(|b| b.command == command)
                        .map(|b| b.description.clone());
                    match inherited {
                        Some(d) if is_layer => d,
                        _ => {
                            diags.push(Diagnostic::at(
                                origin,
                                src,
                                entry.span.clone(),
                                Severity::Warning,
                                format!(
                                    "binding for \"{}\" has no description; the help screen \
                                     shows the action's name",
                                    command.name()
                                ),
                            ));
                            command.name().replace('_', " ")
                        }
                    }
                }
            };
            self.bindings.push(Binding {
                context: entry.context,
                keys,
                command,
                description,
            });
        }
        self.bindings.retain(|b| !b.keys.is_empty());
        diags
    }

    /// A keymap without a global quit key would trap the user: give ctrl-c back.
    fn ensure_quit_key(&mut self) -> Option<Diagnostic> {
        if !self.keys_for(Context::Global, Command::Quit).is_empty() {
            return None;
        }
        let ctrl_c = KeyChord::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        if self.lookup_chord(Context::Global, ctrl_c).is_some() {
            return Some(Diagnostic::whole(
                &self.name,
                Severity::Warning,
                "no key quits berth in [[global]]; bind one with action = \"quit\"",
            ));
        }
        self.bindings.push(Binding {
            context: Context::Global,
            keys: vec![ctrl_c],
            command: Command::Quit,
            description: "Quit berth".to_string(),
        });
        Some(Diagnostic::whole(
            &self.name,
            Severity::Warning,
            "no key quits berth in [[global]]; ctrl-c quits",
        ))
    }
}

/// Validate a keymap file into entries, collecting every problem rather than the first.
fn parse_file(src: &str, origin: &str) -> (File, Vec<Diagnostic>) {
    let (doc, errors) = DeTable::parse_recoverable(src);
    if !errors.is_empty() {
        let file = File {
            extends: None,
            entries: Vec::new(),
        };
        return (file, syntax_errors(origin, src, errors));
    }
    let mut diags = Vec::new();
    let mut entries = Vec::new();
    let mut extends = None;
    let error = |diags: &mut Vec<Diagnostic>, span: Range<usize>, msg: String| {
        diags.push(Diagnostic::at(origin, src, span, Severity::Error, msg));
    };
    let known_contexts = || Context::ALL.iter().map(|c| c.name());

    // The document map is sorted by name; restore file order so entries apply top to bottom.
    let mut sections: Vec<_> = doc.get_ref().iter().collect();
    sections.sort_by_key(|(k, _)| k.span().start);
    for (name, value) in sections {
        if name.get_ref() == EXTENDS {
            match value.get_ref() {
                DeValue::String(base) => extends = Some((base.to_string(), value.span())),
                other => error(
                    &mut diags,
                    value.span(),
                    format!(
                        "{EXTENDS} must be the name of a shipped keymap such as \"default\", \
                         found {}",
                        other.type_str()
                    ),
                ),
            }
            continue;
        }
        let Some(context) = Context::from_name(name.get_ref()) else {
            let hint = did_you_mean(name.get_ref(), known_contexts());
            let known: Vec<&str> = known_contexts().collect();
            error(
                &mut diags,
                name.span(),
                format!(
                    "unknown section [[{}]]{hint}; known sections: {}",
                    name.get_ref(),
                    known.join(", ")
                ),
            );
            continue;
        };
        let items = match value.get_ref() {
            DeValue::Array(items) if items.iter().all(|i| i.get_ref().is_table()) => items,
            _ => {
                error(
                    &mut diags,
                    name.span(),
                    format!(
                        "section \"{0}\" must be a list of bindings: write [[{0}]] above each \
                         binding's keys, action and description",
                        context.name()
                    ),
                );
                continue;
            }
        };
        for item in items.iter() {
            if let DeValue::Table(table) = item.get_ref()
                && let Some(entry) =
                    parse_entry(context, item.span(), table, src, origin, &mut diags)
            {
                entries.push(entry);
            }
        }
    }
    entries.sort_by_key(|e| e.span.start);
    (File { extends, entries }, diags)
}

fn parse_entry(
    context: Context,
    span: Range<usize>,
    table: &DeTable<'_>,
    src: &str,
    origin: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Entry> {
    const FIELDS: [&str; 3] = ["keys", "action", "description"];
    let errors_before = diags.iter().filter(|d| d.is_error()).count();
    let error = |diags: &mut Vec<Diagnostic>, span: Range<usize>, msg: String| {
        diags.push(Diagnostic::at(origin, src, span, Severity::Error, msg));
    };
    let field = |name: &str| table.iter().find(|(k, _)| k.get_ref() == name);

    for (key, _) in table.iter() {
        if key.get_ref() == EXTENDS {
            diags.push(Diagnostic::at(
                origin,
                src,
                key.span(),
                Severity::Error,
                format!(
                    "{EXTENDS} inside a [[{}]] binding: write it at the top of the file, above \
                     the first section",
                    context.name()
                ),
            ));
        } else if !FIELDS.contains(&key.get_ref().as_ref()) {
            let hint = did_you_mean(key.get_ref(), FIELDS);
            diags.push(Diagnostic::at(
                origin,
                src,
                key.span(),
                Severity::Warning,
                format!(
                    "unknown field \"{}\"{hint} in a [[{}]] binding (ignored; fields are keys, \
                     action, description)",
                    key.get_ref(),
                    context.name()
                ),
            ));
        }
    }

    let mut keys = Vec::new();
    match field("keys") {
        None => error(
            diags,
            span.clone(),
            format!(
                "binding in [[{}]] has no keys: add keys = [\"...\"]",
                context.name()
            ),
        ),
        Some((_, value)) => match value.get_ref() {
            DeValue::Array(items) if items.is_empty() => error(
                diags,
                value.span(),
                "keys is empty: list at least one key, or remove the binding".to_string(),
            ),
            DeValue::Array(items) => {
                for item in items.iter() {
                    match item.get_ref().as_str() {
                        Some(text) => match KeyChord::parse(text) {
                            Ok(chord) => keys.push((chord, item.span())),
                            Err(why) => {
                                error(diags, item.span(), format!("bad key {text:?}: {why}"))
                            }
                        },
                        None => error(
                            diags,
                            item.span(),
                            format!("keys must be strings, found {}", item.get_ref().type_str()),
                        ),
                    }
                }
            }
            other => error(
                diags,
                value.span(),
                format!(
                    "keys must be a list such as [\"q\", \"ctrl-c\"], found {}",
                    other.type_str()
                ),
            ),
        },
    }

    let mut command = None;
    match field("action").map(|(_, v)| (v.get_ref(), v.span())) {
        None => error(
            diags,
            span.clone(),
            format!(
                "binding in [[{}]] has no action: add action = \"...\"",
                context.name()
            ),
        ),
        Some((DeValue::String(name), _)) if name == UNBIND => {}
        Some((DeValue::String(name), action_span)) => match Command::from_name(name) {
            Some(c) => command = Some(c),
            None => {
                let names = || Command::ALL.iter().map(|c| c.name());
                let hint = did_you_mean(name, names());
                let known: Vec<&str> = names().collect();
                error(
                    diags,
                    action_span,
                    format!(
                        "unknown action \"{name}\"{hint}; known actions: {}, or \"{UNBIND}\" to \
                         unbind",
                        known.join(", ")
                    ),
                );
            }
        },
        Some((other, action_span)) => error(
            diags,
            action_span,
            format!("action must be a string, found {}", other.type_str()),
        ),
    }

    let description = match field("description").map(|(_, v)| (v.get_ref(), v.span())) {
        None => None,
        Some((DeValue::String(text), _)) => Some(text.trim().to_string()),
        Some((other, description_span)) => {
            error(
                diags,
                description_span,
                format!("description must be a string, found {}", other.type_str()),
            );
            None
        }
    };

    if diags.iter().filter(|d| d.is_error()).count() > errors_before {
        return None;
    }
    Some(Entry {
        context,
        span,
        keys,
        command,
        description: description.filter(|d| !d.is_empty()),
    })
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap::built_in_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keymap(src: &str) -> (Keymap, Vec<Diagnostic>) {
        Keymap::from_toml_str(src, "test.toml").unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn press(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    const SRC: &str = r#"
[[global]]
keys = ["q"]
action = "quit"
description = "Quit"

[[global]]
keys = ["j"]
action = "down"
description = "Down"

[[help]]
keys = ["q"]
action = "back"
description = "Close"
"#;

    #[test]
    fn context_shadows_global_and_releases_do_nothing() {
        let (km, warnings) = keymap(SRC);
        assert!(warnings.is_empty(), "{warnings:#?}");
        assert_eq!(km.lookup(Context::Help, &press('q')), Some(Command::Back));
        assert_eq!(km.lookup(Context::Help, &press('j')), Some(Command::Down));
        assert_eq!(
            km.lookup(Context::Clusters, &press('q')),
            Some(Command::Quit)
        );
        assert_eq!(km.lookup(Context::Clusters, &press('z')), None);
        let release = KeyEvent::new_with_kind(
            KeyCode::Char('q'),
            KeyModifiers::NONE,
            KeyEventKind::Release,
        );
        assert_eq!(km.lookup(Context::Clusters, &release), None);
    }

    #[test]
    fn keys_for_lists_only_keys_that_work_in_the_context() {
        let (km, _) = keymap(SRC);
        assert!(km.keys_for(Context::Help, Command::Quit).is_empty());
        assert_eq!(km.keys_for(Context::Clusters, Command::Quit).len(), 1);
        assert_eq!(km.bindings(Context::Global).len(), 2);
        assert_eq!(km.bindings(Context::Help).len(), 1);
    }

    #[test]
    fn a_keymap_without_quit_gets_ctrl_c_back() {
        let (mut km, _) =
            keymap("[[global]]\nkeys = [\"j\"]\naction = \"down\"\ndescription = \"d\"\n");
        assert!(km.ensure_quit_key().is_some());
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(km.lookup(Context::Clusters, &ctrl_c), Some(Command::Quit));
        assert!(km.ensure_quit_key().is_none());
    }

    #[test]
    fn a_layer_moves_keys_and_keeps_places_and_descriptions() {
        let layer = "extends = \"default\"\n\n\
                     [[services]]\nkeys = [\"l\", \"enter\"]\naction = \"select\"\n\n\
                     [[services]]\nkeys = [\"L\"]\naction = \"show_logs\"\n";
        let (km, warnings) = keymap(layer);
        assert!(warnings.is_empty(), "{warnings:#?}");
        let default = Keymap::default();
        let order = |km: &Keymap| -> Vec<(Command, String)> {
            km.bindings(Context::Services)
                .iter()
                .map(|b| (b.command, b.description.clone()))
                .collect()
        };
        // "l" left show_logs (emptying it) before "L" refilled it: same place, same words.
        assert_eq!(order(&km), order(&default));
        let keys = |cmd| -> Vec<String> {
            km.keys_for(Context::Services, cmd)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(keys(Command::Select), ["l", "enter"]);
        assert_eq!(keys(Command::ShowLogs), ["L"]);
    }

    #[test]
    fn a_keymap_cannot_extend_itself() {
        let src = "extends = \"default\"\n";
        let mut chain = vec!["default".to_string()];
        let Err(errors) = Keymap::layered(src, "keymaps/default.toml", &mut chain) else {
            panic!("default extending default should not load");
        };
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].message.contains("default extends default"),
            "{}",
            errors[0]
        );
        assert_eq!((errors[0].line, errors[0].column), (1, 11));
    }

    #[test]
    fn built_in_default_is_the_shipped_default() {
        let km = Keymap::default();
        assert_eq!(km.name(), "default");
        assert_eq!(km.lookup(Context::Global, &press('?')), Some(Command::Help));
    }
}
