//! Every account at once: the (profile, region) pairs of a fleet, what each answered, and the
//! rows the fleet view and `berth fleet` show: every service with a problem (the services
//! view's classifier), problems first, then the healthy services collapsed to one row per
//! cluster, and a row for each pair that could not be read, with its fix.

use super::problems::{Problem, Severity};
use super::service::Service;

/// One account and region to read: a profile name (or, on the demo sandbox, an account's
/// name) and a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FleetPair {
    pub profile: String,
    pub region: String,
}

impl FleetPair {
    pub fn new(profile: &str, region: &str) -> FleetPair {
        FleetPair {
            profile: profile.to_string(),
            region: region.to_string(),
        }
    }

    /// `prod-a/eu-west-1`: the key of the pair's rows.
    pub fn key(&self) -> String {
        format!("{}/{}", self.profile, self.region)
    }
}

/// `*` (any run of characters) and `?` (one character) against `name`; anything else is
/// literal. `prod-*` matches `prod-a` and `prod-`; `*` matches every name.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // the classic two-pointer match with one backtrack point: linear in practice, never
    // exponential whatever the pattern
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        match p.get(i) {
            Some('*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(&c) if c == '?' || c == n[j] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p[i.min(p.len())..].iter().all(|&c| c == '*')
}

/// The pairs of `patterns` (profile names or globs) × `regions`, against the profiles that
/// exist; also the patterns that matched no profile (said to the user, not an error: a glob
/// may legitimately match nothing on this machine). Sorted, each pair once.
pub fn expand(
    patterns: &[String],
    regions: &[String],
    known: &[String],
) -> (Vec<FleetPair>, Vec<String>) {
    let mut profiles: Vec<&str> = Vec::new();
    let mut unmatched = Vec::new();
    for pattern in patterns {
        let is_glob = pattern.contains(['*', '?']);
        let hits: Vec<&str> = if is_glob {
            known
                .iter()
                .filter(|k| glob_match(pattern, k))
                .map(String::as_str)
                .collect()
        } else {
            // a plain name is taken as written: the SDK says if it does not exist
            vec![pattern.as_str()]
        };
        if hits.is_empty() {
            unmatched.push(pattern.clone());
        }
        profiles.extend(hits);
    }
    profiles.sort_unstable();
    profiles.dedup();
    let mut pairs: Vec<FleetPair> = profiles
        .iter()
        .flat_map(|p| regions.iter().map(move |r| FleetPair::new(p, r)))
        .collect();
    pairs.sort();
    pairs.dedup();
    (pairs, unmatched)
}

/// What one pair answered.
#[derive(Debug, Clone, PartialEq)]
pub struct PairReport {
    pub pair: FleetPair,
    /// The account id (STS GetCallerIdentity), when it was read.
    pub account: Option<String>,
    pub outcome: Result<Vec<Service>, PairFailure>,
}

/// Why a pair could not be read, in words, with what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairFailure {
    /// `SSO session expired`, `access denied`, `ECS not enabled in this region`, ...
    pub what: String,
    /// The command or setting that fixes it.
    pub fix: String,
}

/// One row of the fleet table.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetRow {
    pub pair: FleetPair,
    /// The account's alias from config, else its id, else `?` (not read).
    pub account: String,
    pub kind: RowKind,
    /// Unique within the table.
    pub key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    /// A service with at least one problem.
    Problem {
        cluster: String,
        service: Box<Service>,
        problems: Vec<Problem>,
    },
    /// A pair that could not be read.
    Failed(PairFailure),
    /// A pair still loading (first load only).
    Loading,
    /// The healthy services of one cluster.
    Healthy { cluster: String, services: usize },
    /// A pair with no ECS services at all.
    Empty,
}

impl FleetRow {
    /// The order of the table: failures and problems by severity first, loading next, the
    /// healthy last.
    pub fn rank(&self) -> u8 {
        match &self.kind {
            RowKind::Failed(_) => 1,
            RowKind::Problem { problems, .. } => match problems.first().map(|p| p.severity) {
                Some(Severity::Critical) => 0,
                Some(Severity::Warning) => 2,
                _ => 3,
            },
            RowKind::Loading => 4,
            RowKind::Healthy { .. } => 5,
            RowKind::Empty => 6,
        }
    }

    pub fn cluster(&self) -> Option<&str> {
        match &self.kind {
            RowKind::Problem { cluster, .. } | RowKind::Healthy { cluster, .. } => Some(cluster),
            _ => None,
        }
    }

    pub fn service(&self) -> Option<&Service> {
        match &self.kind {
            RowKind::Problem { service, .. } => Some(service),
            _ => None,
        }
    }

    pub fn severity(&self) -> Option<Severity> {
        match &self.kind {
            RowKind::Problem { problems, .. } => problems.first().map(|p| p.severity),
            RowKind::Failed(_) => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// The rows of `reports` (pairs still loading from `pending`), problems classified by
/// `classify` (the services view's), accounts named by `alias`.
pub fn rows(
    reports: &[PairReport],
    pending: &[FleetPair],
    classify: &dyn Fn(&Service) -> Vec<Problem>,
    alias: &dyn Fn(&str) -> Option<String>,
) -> Vec<FleetRow> {
    // a pair whose identity could not be read is named by its profile
    let name = |account: &Option<String>, pair: &FleetPair| match account {
        Some(id) => alias(id).unwrap_or_else(|| id.clone()),
        None => format!("({})", pair.profile),
    };
    let mut out = Vec::new();
    for r in reports {
        let account = name(&r.account, &r.pair);
        let base = r.pair.key();
        match &r.outcome {
            Err(failure) => out.push(FleetRow {
                pair: r.pair.clone(),
                account,
                kind: RowKind::Failed(failure.clone()),
                key: base,
            }),
            Ok(services) if services.is_empty() => out.push(FleetRow {
                pair: r.pair.clone(),
                account,
                kind: RowKind::Empty,
                key: base,
            }),
            Ok(services) => {
                // healthy counts per cluster, in cluster order
                let mut healthy: Vec<(String, usize)> = Vec::new();
                for s in services {
                    let cluster = super::Cluster::name_from_arn(&s.cluster_arn).to_string();
                    // notices (a circuit breaker off) are not incidents: counted healthy
                    let problems = classify(s);
                    if problems.iter().all(|p| p.severity == Severity::Notice) {
                        match healthy.iter_mut().find(|(c, _)| *c == cluster) {
                            Some((_, n)) => *n += 1,
                            None => healthy.push((cluster, 1)),
                        }
                    } else {
                        out.push(FleetRow {
                            pair: r.pair.clone(),
                            account: account.clone(),
                            key: format!("{base}/{}", s.arn),
                            kind: RowKind::Problem {
                                cluster,
                                service: Box::new(s.clone()),
                                problems,
                            },
                        });
                    }
                }
                for (cluster, n) in healthy {
                    out.push(FleetRow {
                        pair: r.pair.clone(),
                        account: account.clone(),
                        key: format!("{base}/{cluster}/healthy"),
                        kind: RowKind::Healthy {
                            cluster,
                            services: n,
                        },
                    });
                }
            }
        }
    }
    for p in pending {
        if reports.iter().all(|r| r.pair != *p) {
            out.push(FleetRow {
                pair: p.clone(),
                account: "…".into(),
                kind: RowKind::Loading,
                key: p.key(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_shell() {
        for (p, n, hit) in [
            ("prod-*", "prod-a", true),
            ("prod-*", "prod-", true),
            ("prod-*", "staging", false),
            ("*", "anything", true),
            ("*-eu", "prod-eu", true),
            ("*-eu", "prod-us", false),
            ("p?od", "prod", true),
            ("p?od", "pod", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("", "", true),
            ("", "x", false),
        ] {
            assert_eq!(glob_match(p, n), hit, "{p} ~ {n}");
        }
        // no blow-up on a pathological pattern
        let long = "a".repeat(5000);
        assert!(!glob_match("*a*a*a*a*a*a*a*a*b", &long));
    }

    #[test]
    fn patterns_expand_against_known_profiles_once_each() {
        let known: Vec<String> = ["prod-a", "prod-b", "staging", "default"]
            .map(String::from)
            .to_vec();
        let (pairs, unmatched) = expand(
            &["prod-*".into(), "prod-a".into(), "qa-*".into()],
            &["us-east-1".into(), "eu-west-1".into()],
            &known,
        );
        let keys: Vec<String> = pairs.iter().map(FleetPair::key).collect();
        assert_eq!(
            keys,
            [
                "prod-a/eu-west-1",
                "prod-a/us-east-1",
                "prod-b/eu-west-1",
                "prod-b/us-east-1"
            ]
        );
        assert_eq!(unmatched, ["qa-*"]);
    }
}
