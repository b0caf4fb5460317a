//! Profile names from the shared AWS config files, for `:profile` completion. Only section
//! names are read; nothing else from these files is kept.

use std::path::PathBuf;

fn config_files() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let config = std::env::var_os("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/config")));
    let credentials = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/credentials")));
    config.into_iter().chain(credentials).collect()
}

/// Sorted, de-duplicated profile names (`[profile x]` in config, `[x]` in credentials).
pub fn known_profiles() -> Vec<String> {
    let mut names = Vec::new();
    for path in config_files() {
        if let Ok(text) = std::fs::read_to_string(&path) {
            names.extend(parse_profile_names(&text));
        }
    }
    names.sort();
    names.dedup();
    names
}

pub fn parse_profile_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let inner = l.strip_prefix('[')?.strip_suffix(']')?.trim();
            let name = inner.strip_prefix("profile ").unwrap_or(inner).trim();
            if name.is_empty() || name.starts_with("sso-session") || name.starts_with("services ") {
                return None;
            }
            Some(name.to_string())
        })
        .collect()
}

/// Each profile's `sso_session` (profiles that share one share an SSO token), from the
/// config file; only that key is read.
pub fn sso_sessions() -> std::collections::HashMap<String, String> {
    config_files()
        .first()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| parse_sso_sessions(&t))
        .unwrap_or_default()
}

pub fn parse_sso_sessions(text: &str) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let mut profile: Option<String> = None;
    for line in text.lines() {
        let l = line.trim();
        if let Some(inner) = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let inner = inner.trim();
            profile = match inner.strip_prefix("profile ") {
                Some(name) => Some(name.trim().to_string()),
                None if inner == "default" => Some("default".into()),
                None => None,
            };
            continue;
        }
        if let (Some(p), Some((key, value))) = (&profile, l.split_once('='))
            && key.trim() == "sso_session"
        {
            out.insert(p.clone(), value.trim().to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sso_sessions_by_profile() {
        let text = "[profile a]\nsso_session = corp\n[profile b]\nsso_session=corp\n[profile c]\nregion = x\n[sso-session corp]\nsso_region = us-east-1\n";
        let s = super::parse_sso_sessions(text);
        assert_eq!(s.get("a").map(String::as_str), Some("corp"));
        assert_eq!(s.get("b").map(String::as_str), Some("corp"));
        assert!(!s.contains_key("c") && !s.contains_key("corp"));
    }

    #[test]
    fn reads_section_names_only() {
        let text = "[default]\nregion=x\n[profile prod]\nsso_start_url=x\n[sso-session corp]\n[ staging ]\naws_secret_access_key=SECRET\n";
        assert_eq!(
            super::parse_profile_names(text),
            ["default", "prod", "staging"]
        );
    }
}
