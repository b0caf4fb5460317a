//! Many AWS accounts and regions behind one sandbox endpoint (issue 18: a fleet view across
//! profiles and regions needs something to look at).
//!
//! An account is selected by the access key id the client signs with; its region by the
//! SigV4 credential scope. Each (account, region) gets its own simulated fleet, built on
//! first use (see `tenants.rs`). This file holds only the configuration: what accounts exist
//! and how each one behaves, plus the built-in demo fleet and a generator for tests.

use std::ops::RangeInclusive;

use super::Scenario;

/// How an account answers, whatever its fleet holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AccountBehaviour {
    /// Answers like a healthy account with full ECS read access.
    #[default]
    Normal,
    /// Every call fails with `ExpiredTokenException`: an SSO session that lapsed.
    ExpiredCredentials,
    /// Every `ecs:*` call fails with `AccessDeniedException`; STS still answers (a role
    /// that may sign in but holds no ECS permissions).
    Denied,
    /// These regions answer `UnrecognizedClientException`, as an opt-in region the account
    /// has not enabled does.
    RegionsDisabled(Vec<String>),
}

/// One simulated AWS account of a multi-account sandbox ([`super::SandboxOptions::accounts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxAccount {
    /// A profile name a person would give it ("prod").
    pub name: String,
    /// 12 digits; appears in every ARN and in STS GetCallerIdentity.
    pub account_id: String,
    /// The access key id that selects this account (the secret is never verified).
    pub access_key_id: String,
    /// Regions the account uses; any other region answers `UnrecognizedClientException`.
    pub regions: Vec<String>,
    /// Seed of the account's fleets; each region mixes in its name so regions differ.
    pub seed: u64,
    /// The drill played in the first region of `regions`; the others run `Steady`.
    pub scenario: Scenario,
    /// Services per region (`None`: in [`TENANT_SCALE`], by seed).
    pub scale: Option<usize>,
    /// Clusters per region (`None`: in [`TENANT_CLUSTERS`], by seed).
    pub clusters: Option<usize>,
    pub behaviour: AccountBehaviour,
}

/// Services of a tenant's fleet unless the account says: small, because a fleet view's first
/// sweep builds every tenant it asks (about 1.1–1.3 ms each in a debug build, against 2 ms for
/// the 13-service default demo fleet), and varied so tenants' service lists differ.
pub const TENANT_SCALE: RangeInclusive<usize> = 6..=12;
/// Clusters of a tenant's fleet unless the account says (the first is `prod`, where the
/// drills run).
pub const TENANT_CLUSTERS: RangeInclusive<usize> = 2..=3;

impl SandboxAccount {
    /// A `Normal` account playing `Steady`, with the default small fleet.
    pub fn new(name: &str, account_id: &str, access_key_id: &str, regions: &[&str]) -> Self {
        SandboxAccount {
            name: name.to_string(),
            account_id: account_id.to_string(),
            access_key_id: access_key_id.to_string(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            seed: seed_of(account_id),
            scenario: Scenario::Steady,
            scale: None,
            clusters: None,
            behaviour: AccountBehaviour::Normal,
        }
    }

    /// Whether a request signed for `region` may reach this account's fleet there.
    pub fn serves_region(&self, region: &str) -> bool {
        let disabled = match &self.behaviour {
            AccountBehaviour::RegionsDisabled(list) => list.iter().any(|r| r == region),
            _ => false,
        };
        !disabled && self.regions.iter().any(|r| r == region)
    }
}

/// A stable seed from the account id, so two accounts never share a fleet by accident.
fn seed_of(account_id: &str) -> u64 {
    account_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The built-in demo fleet of `berth sandbox --fleet`: five accounts in a plausible
/// organisation, each showing one thing a fleet view must handle.
pub fn demo_accounts() -> Vec<SandboxAccount> {
    let prod = SandboxAccount {
        scenario: Scenario::BadDeploy,
        ..SandboxAccount::new(
            "prod",
            "210987654321",
            "AKIABERTHPROD0000001",
            &["us-east-1", "eu-west-1"],
        )
    };
    let staging = SandboxAccount::new(
        "staging",
        "310987654322",
        "AKIABERTHSTAGING0002",
        &["us-east-1", "eu-west-1"],
    );
    let shared = SandboxAccount::new(
        "shared-services",
        "410987654323",
        "AKIABERTHSHARED00003",
        &["us-east-1"],
    );
    let data = SandboxAccount {
        behaviour: AccountBehaviour::RegionsDisabled(vec!["eu-west-1".to_string()]),
        ..SandboxAccount::new(
            "data",
            "510987654324",
            "AKIABERTHDATA0000004",
            &["us-east-1", "eu-west-1"],
        )
    };
    let legacy = SandboxAccount {
        behaviour: AccountBehaviour::ExpiredCredentials,
        ..SandboxAccount::new(
            "legacy",
            "610987654325",
            "AKIABERTHLEGACY00005",
            &["us-east-1"],
        )
    };
    let audit = SandboxAccount {
        behaviour: AccountBehaviour::Denied,
        ..SandboxAccount::new(
            "audit",
            "710987654326",
            "AKIABERTHAUDIT000006",
            &["us-east-1"],
        )
    };
    vec![prod, staging, shared, data, legacy, audit]
}

/// `n` `Normal`, `Steady` accounts named `acct-01`..., all in `regions`, with account ids
/// `100000000001`... and keys `AKIABERTHGEN0000001`...; deterministic. Change a behaviour or a
/// scenario by editing the returned structs.
pub fn generated_accounts(n: usize, regions: &[&str]) -> Vec<SandboxAccount> {
    (1..=n)
        .map(|i| {
            SandboxAccount::new(
                &format!("acct-{i:02}"),
                &format!("{:012}", 100_000_000_000_u64 + i as u64),
                &format!("AKIABERTHGEN{i:08}"),
                regions,
            )
        })
        .collect()
}

/// `~/.aws/credentials` profiles for `accounts`, with each account's regions and behaviour
/// as comments, so a person can point the AWS CLI or berth at a fleet sandbox.
pub fn credentials_snippet(accounts: &[SandboxAccount]) -> String {
    use clap::ValueEnum;
    let mut out = String::new();
    for a in accounts {
        let regions: Vec<String> = a
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let drill = a.scenario.to_possible_value();
                match drill {
                    Some(d) if i == 0 && a.scenario != Scenario::Steady => {
                        format!("{r} (drill: {})", d.get_name())
                    }
                    _ => r.clone(),
                }
            })
            .collect();
        let behaviour = match &a.behaviour {
            AccountBehaviour::Normal => String::new(),
            AccountBehaviour::ExpiredCredentials => "; credentials expired".to_string(),
            AccountBehaviour::Denied => "; no ECS permissions".to_string(),
            AccountBehaviour::RegionsDisabled(r) => format!("; not enabled in {}", r.join(", ")),
        };
        out.push_str(&format!(
            "[{name}]\n# account {id}, regions {regions}{behaviour}\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n",
            name = a.name,
            id = a.account_id,
            regions = regions.join(", "),
            key = a.access_key_id,
            secret = super::DEMO_SECRET_ACCESS_KEY,
        ));
    }
    out
}

/// The fleet view's pairs for `accounts` served at `endpoint`: each account's regions, signed
/// with the account's key (the console's `--demo --fleet`, tests and benchmarks).
pub fn fleet_targets(
    accounts: &[SandboxAccount],
    endpoint: &str,
) -> Vec<crate::aws::fleet::FleetTarget> {
    accounts
        .iter()
        .flat_map(|a| {
            a.regions
                .iter()
                .map(move |r| crate::aws::fleet::FleetTarget {
                    pair: crate::domain::fleet::FleetPair::new(&a.name, r),
                    target: crate::aws::AwsTarget {
                        profile: None,
                        region: Some(r.clone()),
                        endpoint_url: Some(endpoint.to_string()),
                        static_credentials: Some((
                            a.access_key_id.clone(),
                            super::DEMO_SECRET_ACCESS_KEY.to_string(),
                        )),
                        attempt_timeout: None,
                    },
                    sso_session: None,
                    account: None,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_accounts_are_distinct_and_well_formed() {
        let accounts = demo_accounts();
        for a in &accounts {
            assert_eq!(a.account_id.len(), 12, "{}", a.name);
            assert!(a.account_id.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(a.access_key_id.len(), 20, "{}", a.access_key_id);
            assert!(a.access_key_id.starts_with("AKIA"));
            assert!(!a.regions.is_empty());
        }
        let mut ids: Vec<_> = accounts.iter().map(|a| &a.account_id).collect();
        let mut keys: Vec<_> = accounts.iter().map(|a| &a.access_key_id).collect();
        ids.sort();
        ids.dedup();
        keys.sort();
        keys.dedup();
        assert_eq!(ids.len(), accounts.len());
        assert_eq!(keys.len(), accounts.len());
        let data = accounts.iter().find(|a| a.name == "data");
        assert!(
            data.is_some_and(|d| d.serves_region("us-east-1") && !d.serves_region("eu-west-1"))
        );
    }

    #[test]
    fn the_snippet_names_every_profile_and_its_regions() {
        let text = credentials_snippet(&demo_accounts());
        assert!(text.contains(
            "[prod]\n# account 210987654321, regions us-east-1 (drill: bad-deploy), eu-west-1\naws_access_key_id = AKIABERTHPROD0000001\n"
        ));
        assert!(text.contains("regions us-east-1; credentials expired"));
        assert!(text.contains("; not enabled in eu-west-1"));
        assert_eq!(text.matches("aws_secret_access_key = ").count(), 6);
    }

    #[test]
    fn generated_accounts_are_deterministic() {
        let a = generated_accounts(20, &["us-east-1"]);
        assert_eq!(a, generated_accounts(20, &["us-east-1"]));
        assert_eq!(a.first().map(|x| x.name.as_str()), Some("acct-01"));
        assert_eq!(
            a.get(19).map(|x| x.access_key_id.as_str()),
            Some("AKIABERTHGEN00000020")
        );
        assert!(a.iter().all(|x| x.account_id.len() == 12));
    }
}
