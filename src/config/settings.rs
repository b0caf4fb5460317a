//! The user's `$XDG_CONFIG_HOME/berth/config.toml`: console defaults and safety rules.
//!
//! ```toml
//! [console]
//! refresh = 10             # seconds between refreshes of the visible view (1..=3600)
//! theme = "high-contrast"  # a shipped theme or a file (relative to this directory)
//! keymap = "vim"           # a shipped keymap or a file
//! read_only = true         # every profile and account, as with --read-only
//! exec_client = "auto"     # ECS Exec client: auto, native or plugin, as with --exec-client
//! metrics = false          # never call CloudWatch (no CPU/memory trends), as with --no-metrics
//!
//! [profiles.prod]          # see `safety.rs`
//! protected = true
//! ```
//!
//! Command-line flags win over `[console]`. Every value is checked here, with its line,
//! before the terminal is touched; a theme or keymap named here that cannot be loaded is
//! reported at its line in this file, not as if it had been typed on the command line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::diag::{Diagnostic, Severity};
use super::safety::{Rule, Safety};
use crate::exec::client::ExecClient;

/// Where a value was written, so later errors about it can point there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub origin: String,
    pub line: usize,
    pub column: usize,
    pub snippet: String,
}

impl Place {
    fn new(origin: &str, src: &str, span: std::ops::Range<usize>) -> Place {
        let d = Diagnostic::at(origin, src, span, Severity::Error, "");
        Place {
            origin: d.origin,
            line: d.line,
            column: d.column,
            snippet: d.snippet,
        }
    }

    /// Re-point errors about a theme or keymap named here at this line. `what` is
    /// `"theme"` or `"keymap"`.
    pub fn relocate(&self, what: &str, errors: Vec<Diagnostic>) -> Vec<Diagnostic> {
        errors
            .into_iter()
            .map(|d| {
                if d.line != 0 {
                    // an error inside the named file already says where
                    return d;
                }
                Diagnostic {
                    origin: self.origin.clone(),
                    line: self.line,
                    column: self.column,
                    severity: d.severity,
                    message: format!("[console] {what}: {}", d.message),
                    snippet: self.snippet.clone(),
                }
            })
            .collect()
    }
}

/// `[console]`: defaults for the command-line flags of the same names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Console {
    pub refresh: Option<u64>,
    /// The selector (shipped name or path, relative paths resolved against the config
    /// directory) and where it was written.
    pub theme: Option<(String, Place)>,
    pub keymap: Option<(String, Place)>,
    pub read_only: bool,
    /// The ECS Exec client (`auto`, `native`, `plugin`); `--exec-client` wins.
    pub exec_client: Option<ExecClient>,
    /// CPU/memory trends from CloudWatch (`None`: on); `--no-metrics` wins.
    pub metrics: Option<bool>,
}

/// A `[fleet.NAME]`: the profiles (names or globs) and regions the fleet view reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetSpec {
    pub profiles: Vec<String>,
    pub regions: Vec<String>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserConfig {
    pub console: Console,
    pub safety: Safety,
    /// `[fleet.NAME]` sections, by name.
    pub fleets: BTreeMap<String, FleetSpec>,
    /// `alias = "..."` of `[accounts."ID"]`, by account id (the fleet view names accounts so).
    pub aliases: BTreeMap<String, String>,
}

pub const REFRESH_RANGE: std::ops::RangeInclusive<u64> = 1..=3600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    console: RawConsole,
    #[serde(default)]
    profiles: BTreeMap<String, Rule>,
    #[serde(default)]
    accounts: BTreeMap<String, RawAccount>,
    #[serde(default)]
    fleet: BTreeMap<String, RawFleet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    #[serde(default)]
    protected: bool,
    #[serde(default)]
    read_only: bool,
    alias: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    profiles: Spanned<Vec<String>>,
    regions: Spanned<Vec<String>>,
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`: lowercase words and a number, by hyphens.
fn plausible_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConsole {
    refresh: Option<Spanned<i64>>,
    theme: Option<Spanned<String>>,
    keymap: Option<Spanned<String>>,
    #[serde(default)]
    read_only: bool,
    exec_client: Option<Spanned<String>>,
    metrics: Option<bool>,
}

impl UserConfig {
    /// Parse a config file; errors name the line and what is wrong. `dir` is where the file
    /// lives: relative theme and keymap paths are resolved against it.
    pub fn from_toml_str(
        src: &str,
        origin: &str,
        dir: Option<&Path>,
    ) -> Result<UserConfig, Diagnostic> {
        let raw: RawFile = toml::from_str(src).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            Diagnostic::at(origin, src, span, Severity::Error, e.message().to_string())
        })?;
        for id in raw.accounts.keys() {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                let at = src.find(id.as_str()).unwrap_or(0);
                return Err(Diagnostic::at(
                    origin,
                    src,
                    at..at + id.len(),
                    Severity::Error,
                    format!("account {id:?} is not a 12-digit AWS account id"),
                ));
            }
        }
        let refresh = match raw.console.refresh {
            None => None,
            Some(r) => {
                let value = *r.get_ref();
                match u64::try_from(value) {
                    Ok(v) if REFRESH_RANGE.contains(&v) => Some(v),
                    _ => {
                        return Err(Diagnostic::at(
                            origin,
                            src,
                            r.span(),
                            Severity::Error,
                            format!(
                                "refresh = {value}: must be a whole number of seconds from {} to {}",
                                REFRESH_RANGE.start(),
                                REFRESH_RANGE.end()
                            ),
                        ));
                    }
                }
            }
        };
        let selector = |v: Option<Spanned<String>>, what: &str| -> Result<_, Diagnostic> {
            let Some(v) = v else { return Ok(None) };
            let span = v.span();
            let place = Place::new(origin, src, span.clone());
            let value = v.into_inner();
            if value.trim().is_empty() {
                return Err(Diagnostic::at(
                    origin,
                    src,
                    span,
                    Severity::Error,
                    format!("{what} is empty: name a shipped {what} or a file"),
                ));
            }
            Ok(Some((resolve_relative(&value, dir), place)))
        };
        let exec_client = match raw.console.exec_client {
            None => None,
            Some(v) => match ExecClient::parse(v.get_ref()) {
                Some(c) => Some(c),
                None => {
                    let names = ExecClient::ALL.map(ExecClient::as_str);
                    let hint = super::diag::did_you_mean(v.get_ref(), names);
                    return Err(Diagnostic::at(
                        origin,
                        src,
                        v.span(),
                        Severity::Error,
                        format!(
                            "exec_client = {:?}{hint}: must be \"auto\", \"native\" or \"plugin\"",
                            v.get_ref()
                        ),
                    ));
                }
            },
        };
        let mut fleets = BTreeMap::new();
        for (name, f) in raw.fleet {
            let fail = |span: std::ops::Range<usize>, msg: String| {
                Diagnostic::at(origin, src, span, Severity::Error, msg)
            };
            if f.profiles.get_ref().is_empty() {
                return Err(fail(
                    f.profiles.span(),
                    format!(
                        "[fleet.{name}] profiles is empty: name profiles or globs (\"prod-*\")"
                    ),
                ));
            }
            if f.regions.get_ref().is_empty() {
                return Err(fail(
                    f.regions.span(),
                    format!("[fleet.{name}] regions is empty: name at least one (\"us-east-1\")"),
                ));
            }
            if let Some(bad) = f.regions.get_ref().iter().find(|r| !plausible_region(r)) {
                return Err(fail(
                    f.regions.span(),
                    format!(
                        "[fleet.{name}] region {bad:?} is not a region name like \"eu-west-1\""
                    ),
                ));
            }
            if let Some(bad) = f.profiles.get_ref().iter().find(|p| p.trim().is_empty()) {
                return Err(fail(
                    f.profiles.span(),
                    format!("[fleet.{name}] profile {bad:?} is empty"),
                ));
            }
            fleets.insert(
                name,
                FleetSpec {
                    profiles: f.profiles.into_inner(),
                    regions: f.regions.into_inner(),
                },
            );
        }
        let aliases = raw
            .accounts
            .iter()
            .filter_map(|(id, a)| Some((id.clone(), a.alias.clone()?)))
            .collect();
        let accounts = raw
            .accounts
            .into_iter()
            .map(|(id, a)| {
                (
                    id,
                    Rule {
                        protected: a.protected,
                        read_only: a.read_only,
                    },
                )
            })
            .collect();
        let theme = selector(raw.console.theme, "theme")?;
        let keymap = selector(raw.console.keymap, "keymap")?;
        Ok(UserConfig {
            console: Console {
                refresh,
                theme,
                keymap,
                read_only: raw.console.read_only,
                exec_client,
                metrics: raw.console.metrics,
            },
            safety: Safety {
                profiles: raw.profiles,
                accounts,
            },
            fleets,
            aliases,
        })
    }

    /// Load the user's file (absent: defaults, no rules).
    pub fn load(user_dir: Option<&Path>) -> Result<UserConfig, Vec<Diagnostic>> {
        match super::read_user_file(user_dir, super::safety::USER_CONFIG_FILE)? {
            None => Ok(UserConfig::default()),
            Some(source) => UserConfig::from_toml_str(&source.src, &source.origin, user_dir)
                .map_err(|d| vec![d]),
        }
    }
}

/// A path-like selector (`mine.toml`, `themes/x.toml`) relative to the config directory; a
/// bare name (`vim`) is a shipped one and stays as written.
fn resolve_relative(value: &str, dir: Option<&Path>) -> String {
    let path_like = value.contains(std::path::MAIN_SEPARATOR) || value.ends_with(".toml");
    match dir {
        Some(dir) if path_like && Path::new(value).is_relative() => {
            dir.join(value).display().to_string()
        }
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<UserConfig, Diagnostic> {
        UserConfig::from_toml_str(src, "config.toml", Some(Path::new("/etc/berth")))
    }

    #[test]
    fn console_defaults_are_read() {
        let c = parse(
            "[console]\nrefresh = 10\ntheme = \"mono\"\nkeymap = \"mine.toml\"\nread_only = true\n\n[profiles.prod]\nprotected = true\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.console.refresh, Some(10));
        assert!(c.console.read_only);
        let (theme, place) = c.console.theme.unwrap_or_else(|| panic!("no theme"));
        assert_eq!(theme, "mono");
        assert_eq!((place.line, place.column), (3, 9));
        let (keymap, _) = c.console.keymap.unwrap_or_else(|| panic!("no keymap"));
        assert_eq!(keymap, "/etc/berth/mine.toml");
        assert!(c.safety.rule(Some("prod"), None).protected);
    }

    #[test]
    fn the_exec_client_is_read() {
        for (value, want) in [
            ("auto", ExecClient::Auto),
            ("native", ExecClient::Native),
            ("plugin", ExecClient::Plugin),
        ] {
            let c = parse(&format!("[console]\nexec_client = \"{value}\"\n"))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.console.exec_client, Some(want));
        }
        let c = parse("[console]\nrefresh = 10\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.console.exec_client, None,
            "absent: the flag or auto decides"
        );
    }

    #[test]
    fn metrics_can_be_switched_off() {
        let c = parse("[console]\nmetrics = false\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.console.metrics, Some(false));
        let c = parse("[console]\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.console.metrics, None, "absent: on");
    }

    #[test]
    fn fleets_and_account_aliases_are_read_and_bad_ones_name_their_line() {
        let c = parse(
            "[fleet.prod]\nprofiles = [\"prod-*\", \"shared\"]\nregions = [\"us-east-1\", \"eu-west-1\"]\n\n[accounts.\"210987654321\"]\nalias = \"payments-prod\"\nprotected = true\n",
        )
        .unwrap();
        assert_eq!(c.fleets["prod"].profiles, ["prod-*", "shared"]);
        assert_eq!(c.fleets["prod"].regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(c.aliases["210987654321"], "payments-prod");
        assert!(c.safety.rule(None, Some("210987654321")).protected);
        for (src, line, words) in [
            (
                "[fleet.a]\nprofiles = []\nregions = [\"us-east-1\"]\n",
                2,
                "profiles is empty",
            ),
            (
                "[fleet.a]\nprofiles = [\"p\"]\nregions = [\"useast1\"]\n",
                3,
                "not a region name",
            ),
            ("[fleet.a]\nprofiles = [\"p\"]\n", 1, "regions"),
            (
                "[fleet.a]\nprofiles = [\"p\"]\nregions = [\"us-east-1\"]\nzones = 3\n",
                4,
                "zones",
            ),
            (
                "[accounts.\"210987654321\"]\nalias = 7\n",
                2,
                "expected a string",
            ),
        ] {
            let e = parse(src).unwrap_err();
            assert_eq!(e.line, line, "{src}: {e:?}");
            assert!(format!("{e:?}").contains(words), "{src}: {e:?}");
        }
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        assert_eq!(
            parse("").unwrap_or_else(|e| panic!("{e}")),
            UserConfig::default()
        );
    }

    #[test]
    fn bad_console_values_name_their_line() {
        for (src, line, needle) in [
            ("[console]\nrefresh = 0\n", 2, "from 1 to 3600"),
            ("[console]\nrefresh = -5\n", 2, "from 1 to 3600"),
            ("[console]\n\nrefresh = 86400\n", 3, "from 1 to 3600"),
            ("[console]\nrefresh = \"10\"\n", 2, "expected i64"),
            ("[console]\nthemes = \"mono\"\n", 2, "themes"),
            ("[console]\nkeymap = \"  \"\n", 2, "keymap is empty"),
            ("[console]\nread_only = 1\n", 2, "bool"),
            (
                "[console]\nrefresh = 5\nexec_client = \"plugins\"\n",
                3,
                "exec_client = \"plugins\" (did you mean \"plugin\"?): must be \"auto\", \"native\" or \"plugin\"",
            ),
            ("[console]\nexec_client = \"\"\n", 2, "must be \"auto\""),
            ("[console]\nexec_client = true\n", 2, "string"),
            ("[console]\nrefresh = 5\nmetrics = \"off\"\n", 3, "bool"),
        ] {
            let e = parse(src)
                .err()
                .unwrap_or_else(|| panic!("accepted {src:?}"));
            assert_eq!(e.line, line, "{src:?}: {e}");
            assert!(e.message.contains(needle), "{src:?}: {e}");
        }
    }

    #[test]
    fn errors_about_a_named_theme_point_at_the_file() {
        let c = parse("[console]\ntheme = \"neon\"\n").unwrap_or_else(|e| panic!("{e}"));
        let (_, place) = c.console.theme.unwrap_or_else(|| panic!("no theme"));
        let moved = place.relocate(
            "theme",
            vec![Diagnostic::whole(
                "neon",
                Severity::Error,
                "unknown theme \"neon\"",
            )],
        );
        assert_eq!(moved[0].origin, "config.toml");
        assert_eq!(moved[0].line, 2);
        assert!(
            moved[0]
                .message
                .starts_with("[console] theme: unknown theme")
        );
    }
}
