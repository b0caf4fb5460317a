//! The fleet in the model: which pairs a fleet reads, how its problems are classified (the
//! services view's own classifier, so a service is a problem here exactly when its row says
//! so there), and how often it refreshes.

use std::collections::HashMap;

use crate::aws::fleet::FleetTarget;
use crate::domain::Service;
use crate::domain::problems::Problem;

/// The fleet the session was started with (`--fleet`, `--profiles`/`--regions`, or the demo
/// organisation), ready to open with `:fleet`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetSetup {
    /// `prod` for `[fleet.prod]`, `demo`, or `--profiles ...` for a one-off.
    pub name: String,
    pub targets: Vec<FleetTarget>,
    /// Patterns that matched no profile on this machine (said in the title).
    pub unmatched: Vec<String>,
    /// Account aliases from config.toml, by account id.
    pub aliases: std::collections::BTreeMap<String, String>,
}

/// The fleet `name` of `profiles` (names or globs, against `known`) × `regions`, reaching AWS
/// at `endpoint` when one is set; an error in one line when no profile matches at all.
pub fn build(
    name: &str,
    profiles: &[String],
    regions: &[String],
    known: &[String],
    sessions: &HashMap<String, String>,
    endpoint: Option<&str>,
    aliases: std::collections::BTreeMap<String, String>,
) -> Result<FleetSetup, String> {
    let (pairs, unmatched) = crate::domain::fleet::expand(profiles, regions, known);
    if pairs.is_empty() {
        return Err(format!(
            "fleet {name}: no profile matches {} (profiles here: {})",
            profiles.join(", "),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    }
    let targets = pairs
        .into_iter()
        .map(|pair| FleetTarget {
            target: crate::aws::AwsTarget {
                profile: Some(pair.profile.clone()),
                region: Some(pair.region.clone()),
                endpoint_url: endpoint.map(str::to_string),
                static_credentials: None,
                attempt_timeout: None,
            },
            sso_session: sessions.get(&pair.profile).cloned(),
            account: None,
            pair,
        })
        .collect();
    Ok(FleetSetup {
        name: name.to_string(),
        targets,
        unmatched,
        aliases,
    })
}

/// The fleets of config.toml, for `:fleet NAME` (with what building one needs).
#[derive(Debug, Clone, Default)]
pub struct FleetConfig {
    pub specs: std::collections::BTreeMap<String, crate::config::settings::FleetSpec>,
    pub aliases: std::collections::BTreeMap<String, String>,
    /// Each profile's `sso_session`.
    pub sessions: HashMap<String, String>,
}

/// A service's problems as its row in the services view shows them (before the history, auto
/// scaling and target-health reads that only an opened service gets).
pub fn classify(service: &Service, now: i64) -> Vec<Problem> {
    super::data::row_problems(
        service,
        &HashMap::new(),
        &HashMap::new(),
        &super::targets::Targets::default(),
        now,
    )
}

/// Seconds between background refreshes of a fleet of `pairs`: the console's interval, but
/// at least [`MIN_REFRESH_SECS`] and two seconds a pair (60 pairs: every two minutes), so a
/// fleet left on screen costs every account little.
pub fn refresh_secs(console_refresh: u64, pairs: usize) -> i64 {
    let by_size = 2 * i64::try_from(pairs).unwrap_or(i64::MAX / 2);
    i64::try_from(console_refresh)
        .unwrap_or(i64::MAX)
        .max(MIN_REFRESH_SECS)
        .max(by_size)
}

/// The fleet view never refreshes more often than this.
pub const MIN_REFRESH_SECS: i64 = 30;

#[cfg(test)]
mod tests {
    #[test]
    fn the_interval_grows_with_the_fleet() {
        assert_eq!(super::refresh_secs(5, 6), 30);
        assert_eq!(super::refresh_secs(5, 60), 120);
        assert_eq!(super::refresh_secs(300, 6), 300);
    }
}
