//! Which client runs an ECS Exec session or a port forward: the official
//! `session-manager-plugin` or berth's built-in one.
//!
//! The preference comes from `--exec-client` or `[console] exec_client` in config.toml (the
//! flag wins), `auto` when neither says:
//! - `auto`: the plugin when a supported one is installed (at least [`PLUGIN_MIN`]), berth's
//!   built-in client otherwise (no plugin, an older one, or one whose version cannot be read);
//! - `native`: always berth's built-in client;
//! - `plugin`: a supported plugin, or no session (the preflight says how to install or
//!   upgrade it).
//!
//! [`choose`] is pure: the preflight shows its answer as the "client" line, and the session is
//! started with its [`Runner`].

use std::path::PathBuf;

use super::preflight::{self, INSTALL_HINT, Plugin};

/// The oldest supported `session-manager-plugin`, AWS's documented minimum: the release that
/// signs the OpenDataChannel request. (It also reads the session from
/// `AWS_SSM_START_SESSION_RESPONSE`, which every release after 1.2.497.0 does.)
pub const PLUGIN_MIN: [u32; 4] = [1, 2, 764, 0];

/// [`PLUGIN_MIN`] as people write it.
pub const PLUGIN_MIN_TEXT: &str = "1.2.764.0";

/// What berth's built-in client is called in messages.
pub const NATIVE_NAME: &str = "berth's built-in client";

/// Which client the user asked for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Deserialize,
    serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ExecClient {
    /// session-manager-plugin when a supported one (1.2.764.0 or later) is installed, else
    /// berth's built-in client
    #[default]
    Auto,
    /// berth's built-in client, always
    Native,
    /// session-manager-plugin, always (it must be installed, 1.2.764.0 or later)
    Plugin,
}

impl ExecClient {
    /// Every value, as written on the command line and in config.toml.
    pub const ALL: [ExecClient; 3] = [ExecClient::Auto, ExecClient::Native, ExecClient::Plugin];

    pub fn as_str(self) -> &'static str {
        match self {
            ExecClient::Auto => "auto",
            ExecClient::Native => "native",
            ExecClient::Plugin => "plugin",
        }
    }

    /// The value written as `text` (`auto`, `native`, `plugin`; exact, as clap reads it).
    pub fn parse(text: &str) -> Option<ExecClient> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

impl std::fmt::Display for ExecClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What runs a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// berth's built-in Session Manager client.
    Native,
    /// `session-manager-plugin` at this path.
    Plugin(PathBuf),
}

/// The client a session will use, why, and (when there is none) what is wrong and its fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// `None`: no session can start (the plugin was asked for and is missing or too old).
    pub runner: Option<Runner>,
    /// In words, for the preflight's "client" line.
    pub why: String,
    /// What is wrong, and how to fix it (only when `runner` is `None`).
    pub problem: Option<(String, String)>,
}

/// The plugin's state, as far as the choice goes.
enum Found<'a> {
    Missing,
    Supported { path: &'a PathBuf, version: &'a str },
    Older { path: &'a PathBuf, version: &'a str },
    Unreadable { path: &'a PathBuf },
}

fn classify(plugin: &Plugin) -> Found<'_> {
    match plugin {
        Plugin::Missing => Found::Missing,
        Plugin::Found { path, version } => {
            let text = version.as_deref().map(str::trim).unwrap_or_default();
            match version.as_deref().and_then(preflight::parse_version) {
                Some(v) if preflight::version_at_least(&v, &PLUGIN_MIN) => Found::Supported {
                    path,
                    version: text,
                },
                Some(_) => Found::Older {
                    path,
                    version: text,
                },
                None => Found::Unreadable { path },
            }
        }
    }
}

/// Choose the client for `pref`, given what was found of the plugin.
pub fn choose(pref: ExecClient, plugin: &Plugin) -> Choice {
    let native = |why: String| Choice {
        runner: Some(Runner::Native),
        why,
        problem: None,
    };
    match (pref, classify(plugin)) {
        (ExecClient::Native, _) => native(format!("{NATIVE_NAME} (exec client: native)")),
        (ExecClient::Auto | ExecClient::Plugin, Found::Supported { path, version }) => Choice {
            runner: Some(Runner::Plugin(path.clone())),
            why: format!("session-manager-plugin {version} at {}", path.display()),
            problem: None,
        },
        (ExecClient::Auto, Found::Missing) => native(format!(
            "session-manager-plugin not found: using {NATIVE_NAME}"
        )),
        (ExecClient::Auto, Found::Older { version, .. }) => native(format!(
            "session-manager-plugin {version} is older than {PLUGIN_MIN_TEXT}: using {NATIVE_NAME}"
        )),
        (ExecClient::Auto, Found::Unreadable { path }) => native(format!(
            "{} did not report its version: using {NATIVE_NAME}",
            path.display()
        )),
        (ExecClient::Plugin, Found::Missing) => refused(
            "session-manager-plugin not found (exec client: plugin)".to_string(),
            INSTALL_HINT.to_string(),
        ),
        (ExecClient::Plugin, Found::Older { path, version }) => refused(
            format!(
                "session-manager-plugin {version} at {} is older than {PLUGIN_MIN_TEXT} (exec client: plugin)",
                path.display()
            ),
            format!(
                "upgrade to {PLUGIN_MIN_TEXT} or later (the release that signs the OpenDataChannel request); {INSTALL_HINT}"
            ),
        ),
        (ExecClient::Plugin, Found::Unreadable { path }) => refused(
            format!(
                "{} did not report its version (exec client: plugin)",
                path.display()
            ),
            format!(
                "check that `{} --version` works; {INSTALL_HINT}",
                path.display()
            ),
        ),
    }
}

/// No runner: what is wrong, and the fix (with the way out through the built-in client).
fn refused(what: String, fix: String) -> Choice {
    Choice {
        runner: None,
        why: what.clone(),
        problem: Some((
            what,
            format!("{fix}; or use --exec-client auto (exec_client = \"auto\") for {NATIVE_NAME}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(version: Option<&str>) -> Plugin {
        Plugin::Found {
            path: "/usr/local/bin/session-manager-plugin".into(),
            version: version.map(str::to_string),
        }
    }

    fn plugin_path() -> Runner {
        Runner::Plugin("/usr/local/bin/session-manager-plugin".into())
    }

    #[test]
    fn auto_runs_a_supported_plugin() {
        for v in ["1.2.764.0", "1.2.764.0\n", "1.2.779.0", "1.3.0.0", "2.0"] {
            let c = choose(ExecClient::Auto, &found(Some(v)));
            assert_eq!(c.runner, Some(plugin_path()), "{v}");
            assert_eq!(c.problem, None);
            assert_eq!(
                c.why,
                format!(
                    "session-manager-plugin {} at /usr/local/bin/session-manager-plugin",
                    v.trim()
                )
            );
        }
    }

    #[test]
    fn auto_falls_back_to_the_built_in_client_and_says_why() {
        let c = choose(ExecClient::Auto, &found(Some("1.2.650.0")));
        assert_eq!(c.runner, Some(Runner::Native));
        assert_eq!(
            c.why,
            "session-manager-plugin 1.2.650.0 is older than 1.2.764.0: using berth's built-in client"
        );
        assert_eq!(c.problem, None);

        let c = choose(ExecClient::Auto, &found(Some("1.2.763.9")));
        assert_eq!(c.runner, Some(Runner::Native));

        let c = choose(ExecClient::Auto, &Plugin::Missing);
        assert_eq!(c.runner, Some(Runner::Native));
        assert_eq!(
            c.why,
            "session-manager-plugin not found: using berth's built-in client"
        );

        for unreadable in [None, Some("unknown"), Some("")] {
            let c = choose(ExecClient::Auto, &found(unreadable));
            assert_eq!(c.runner, Some(Runner::Native), "{unreadable:?}");
            assert_eq!(
                c.why,
                "/usr/local/bin/session-manager-plugin did not report its version: using berth's built-in client"
            );
        }
    }

    #[test]
    fn native_is_always_the_built_in_client() {
        for plugin in [
            found(Some("1.2.779.0")),
            found(Some("1.2.650.0")),
            found(None),
            Plugin::Missing,
        ] {
            let c = choose(ExecClient::Native, &plugin);
            assert_eq!(c.runner, Some(Runner::Native), "{plugin:?}");
            assert_eq!(c.problem, None);
            assert!(c.why.contains("berth's built-in client"), "{}", c.why);
        }
    }

    #[test]
    fn plugin_needs_a_supported_plugin_and_says_how_to_get_one() {
        let c = choose(ExecClient::Plugin, &found(Some("1.2.764.0")));
        assert_eq!(c.runner, Some(plugin_path()));
        assert_eq!(c.problem, None);

        let c = choose(ExecClient::Plugin, &Plugin::Missing);
        assert_eq!(c.runner, None);
        let (what, fix) = c.problem.unwrap_or_default();
        assert!(what.contains("not found"), "{what}");
        assert!(fix.starts_with(INSTALL_HINT), "{fix}");
        assert!(fix.contains("--exec-client auto"), "{fix}");

        let c = choose(ExecClient::Plugin, &found(Some("1.2.650.0")));
        assert_eq!(c.runner, None);
        let (what, fix) = c.problem.unwrap_or_default();
        assert!(what.contains("1.2.650.0"), "{what}");
        assert!(what.contains("older than 1.2.764.0"), "{what}");
        assert!(fix.starts_with("upgrade to 1.2.764.0 or later"), "{fix}");
        assert!(fix.contains(INSTALL_HINT), "{fix}");

        let c = choose(ExecClient::Plugin, &found(None));
        assert_eq!(c.runner, None);
        let (what, fix) = c.problem.unwrap_or_default();
        assert!(what.contains("did not report its version"), "{what}");
        assert!(
            fix.contains("/usr/local/bin/session-manager-plugin --version"),
            "{fix}"
        );
    }

    #[test]
    fn values_read_as_they_are_written() {
        for c in ExecClient::ALL {
            assert_eq!(ExecClient::parse(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.as_str());
            let v = clap::ValueEnum::to_possible_value(&c).map(|v| v.get_name().to_string());
            assert_eq!(v.as_deref(), Some(c.as_str()));
        }
        assert_eq!(ExecClient::parse("Plugin"), None);
        assert_eq!(ExecClient::default(), ExecClient::Auto);
        #[derive(serde::Deserialize)]
        struct T {
            c: ExecClient,
        }
        let t: T = toml::from_str("c = \"native\"").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.c, ExecClient::Native);
    }
}
