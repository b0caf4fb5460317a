//! Which profiles and accounts are production: `$XDG_CONFIG_HOME/berth/config.toml`.
//!
//! ```toml
//! [profiles.prod]          # an AWS profile name; a trailing * matches a prefix (prod-*)
//! protected = true         # actions need the service name (or task id) typed to confirm
//! read_only = true         # actions are impossible, as with --read-only
//!
//! [accounts."210987654321"]
//! protected = true
//! ```
//!
//! Accounts are matched once the caller identity is known; profiles at once. A bad file is
//! an error with its line, before the terminal is touched.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::diag::Diagnostic;

pub const USER_CONFIG_FILE: &str = "config.toml";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub read_only: bool,
}

impl Rule {
    fn or(self, other: Rule) -> Rule {
        Rule {
            protected: self.protected || other.protected,
            read_only: self.read_only || other.read_only,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Safety {
    pub profiles: BTreeMap<String, Rule>,
    pub accounts: BTreeMap<String, Rule>,
}

impl Safety {
    /// Parse a config file (the whole of it, `[console]` included) and keep its rules;
    /// errors name the line and what is wrong.
    pub fn from_toml_str(src: &str, origin: &str) -> Result<Safety, Diagnostic> {
        super::settings::UserConfig::from_toml_str(src, origin, None).map(|c| c.safety)
    }

    /// The rule for a profile (exact name, or a `prefix*` pattern) and an account.
    pub fn rule(&self, profile: Option<&str>, account: Option<&str>) -> Rule {
        let profile = profile.unwrap_or("default");
        let mut rule = Rule::default();
        for (pattern, r) in &self.profiles {
            let hit = match pattern.strip_suffix('*') {
                Some(prefix) => profile.starts_with(prefix),
                None => pattern == profile,
            };
            if hit {
                rule = rule.or(*r);
            }
        }
        if let Some(r) = account.and_then(|a| self.accounts.get(a)) {
            rule = rule.or(*r);
        }
        rule
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_patterns_and_accounts_combine() {
        let s = Safety::from_toml_str(
            "[profiles.prod]\nprotected = true\n\n[profiles.\"audit-*\"]\nread_only = true\n\n[accounts.\"210987654321\"]\nprotected = true\nread_only = true\n",
            "config.toml",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.rule(Some("prod"), None),
            Rule {
                protected: true,
                read_only: false
            }
        );
        assert!(s.rule(Some("audit-eu"), None).read_only);
        assert_eq!(s.rule(Some("dev"), None), Rule::default());
        assert_eq!(
            s.rule(Some("dev"), Some("210987654321")),
            Rule {
                protected: true,
                read_only: true
            }
        );
    }

    #[test]
    fn mistakes_name_the_line() {
        let e = Safety::from_toml_str("[profiles.prod]\nprotectd = true\n", "config.toml")
            .err()
            .unwrap_or_else(|| panic!("accepted a typo"));
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("protectd"), "{e}");
        let e = Safety::from_toml_str("[accounts.\"12345\"]\nprotected = true\n", "config.toml")
            .err()
            .unwrap_or_else(|| panic!("accepted a short account id"));
        assert_eq!(e.line, 1, "{e}");
        assert!(e.message.contains("12-digit"), "{e}");
        let e = Safety::from_toml_str("[profiles.prod]\nprotected = \"yes\"\n", "config.toml")
            .err()
            .unwrap_or_else(|| panic!("accepted a string"));
        assert_eq!(e.line, 2, "{e}");
    }
}
