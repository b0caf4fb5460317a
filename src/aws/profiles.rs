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

#[cfg(test)]
mod tests {
    #[test]
    fn reads_section_names_only() {
        let text = "[default]\nregion=x\n[profile prod]\nsso_start_url=x\n[sso-session corp]\n[ staging ]\naws_secret_access_key=SECRET\n";
        assert_eq!(
            super::parse_profile_names(text),
            ["default", "prod", "staging"]
        );
    }
}
