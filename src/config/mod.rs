//! Keymaps and themes: shipped defaults embedded from `keymaps/` and `themes/`, layered with the
//! user's files from `$XDG_CONFIG_HOME/berth/`.
//!
//! Everything is validated before the terminal is touched: fatal problems come back as
//! `Err(Vec<Diagnostic>)` for `main` to print (exit code 2); warnings come back with the loaded
//! value so the UI can show them. Nothing here panics on bad input.

pub mod diag;
pub mod key;
pub mod keymap;
pub mod reference;
pub mod safety;
pub mod settings;
pub mod theme;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use diag::{Diagnostic, Severity};
pub use key::KeyChord;
pub use keymap::{Binding, Keymap};
pub use theme::{Slot, Theme};

/// The berth directory for user configuration: `$XDG_CONFIG_HOME/berth`, else
/// `$HOME/.config/berth`. None when neither variable is usable.
pub fn user_config_dir() -> Option<PathBuf> {
    user_config_dir_from(
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

/// [`user_config_dir`] with the environment passed in. Relative values are ignored, as the
/// XDG base directory specification asks.
pub fn user_config_dir_from(
    xdg_config_home: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let absolute = |v: Option<OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    absolute(xdg_config_home)
        .or_else(|| absolute(home).map(|h| h.join(".config")))
        .map(|base| base.join("berth"))
}

/// A configuration file's text and how diagnostics should name it.
pub(crate) struct Source {
    pub name: String,
    pub origin: String,
    pub src: String,
}

/// Resolve `selector` to a shipped file (by name) or a readable file (by path).
/// `kind` ("keymap", "theme") and `dir` ("keymaps", "themes") only shape messages.
pub(crate) fn resolve_selector(
    kind: &str,
    selector: &str,
    dir: &str,
    shipped: &[(&str, &str)],
) -> Result<Source, Vec<Diagnostic>> {
    if let Some((name, src)) = shipped.iter().find(|(name, _)| *name == selector) {
        return Ok(Source {
            name: (*name).to_string(),
            origin: format!("{dir}/{name}.toml (built in)"),
            src: (*src).to_string(),
        });
    }
    match std::fs::read_to_string(selector) {
        Ok(src) => Ok(Source {
            name: Path::new(selector).file_stem().map_or_else(
                || selector.to_string(),
                |s| s.to_string_lossy().into_owned(),
            ),
            origin: selector.to_string(),
            src,
        }),
        Err(e) if selector.contains(std::path::MAIN_SEPARATOR) || selector.ends_with(".toml") => {
            Err(vec![Diagnostic::whole(
                selector,
                Severity::Error,
                format!("cannot read {kind} file: {e}"),
            )])
        }
        Err(e) => {
            let names: Vec<&str> = shipped.iter().map(|(name, _)| *name).collect();
            let hint = diag::did_you_mean(selector, names.iter().copied());
            Err(vec![Diagnostic::whole(
                selector,
                Severity::Error,
                format!(
                    "unknown {kind} \"{selector}\"{hint}: not a shipped {kind} ({}) and not a \
                     readable file ({e})",
                    names.join(", ")
                ),
            )])
        }
    }
}

/// Read `user_dir/file` if it exists. A file that exists but cannot be read is fatal: the user
/// meant it to apply.
pub(crate) fn read_user_file(
    user_dir: Option<&Path>,
    file: &str,
) -> Result<Option<Source>, Vec<Diagnostic>> {
    let Some(dir) = user_dir else {
        return Ok(None);
    };
    let path = dir.join(file);
    let origin = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(src) => Ok(Some(Source {
            name: file.to_string(),
            origin,
            src,
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(vec![Diagnostic::whole(
            &origin,
            Severity::Error,
            format!("cannot read: {e}"),
        )]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_dir_prefers_absolute_xdg_then_home() {
        let dir = |x: Option<&str>, h: Option<&str>| {
            user_config_dir_from(x.map(OsString::from), h.map(OsString::from))
        };
        assert_eq!(dir(Some("/x"), Some("/h")), Some(PathBuf::from("/x/berth")));
        assert_eq!(
            dir(Some("rel"), Some("/h")),
            Some(PathBuf::from("/h/.config/berth"))
        );
        assert_eq!(dir(None, None), None);
    }
}
