//! The fleet at 80x24 on the demo organisation (`berth --demo --fleet`): the broken pairs on
//! their own rows with their fix while the rest load, the bad deploy's service listed once
//! among the problems, `enter` opens it in its own account and region (the header says which),
//! `esc` comes back to the fleet on the same row.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::pty::Pty;

fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// The sandbox serving the demo organisation, on a runtime of its own (the console under
/// test is another process).
fn organisation() -> (tokio::runtime::Runtime, berth::sandbox::SandboxHandle) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let handle = runtime
        .block_on(berth::sandbox::start(
            ([127, 0, 0, 1], 0).into(),
            berth::sandbox::SandboxOptions {
                accounts: berth::sandbox::demo_accounts(),
                ..Default::default()
            },
        ))
        .expect("sandbox");
    (runtime, handle)
}

/// The SSO session every test profile uses: its config section.
const SSO_SESSION: &str = "[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n\
    sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n";

/// A home with ~/.aws/config, ~/.aws/credentials and the SDK's cached token of session
/// `corp` (its file is named by the sha1 of the session name), expiring at `expires`.
fn aws_home(config: &str, credentials: &str, token: &str, expires: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("temp dir");
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(aws.join("sso").join("cache")).unwrap();
    std::fs::write(aws.join("credentials"), credentials).unwrap();
    std::fs::write(aws.join("config"), format!("{config}\n{SSO_SESSION}")).unwrap();
    std::fs::write(
        aws.join("sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json"),
        format!(
            r#"{{"startUrl":"https://example.awsapps.com/start","region":"us-east-1","accessToken":"{token}","expiresAt":"{expires}"}}"#
        ),
    )
    .unwrap();
    home
}

/// The console on `home`'s AWS files with `args`, at 140x24.
fn console_in(home: &tempfile::TempDir, args: &[&str], extra: &[(&str, &str)]) -> Pty {
    let aws = home.path().join(".aws");
    let (config, credentials) = (aws.join("config"), aws.join("credentials"));
    let mut env = vec![
        ("HOME", home.path().to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
    ];
    env.extend_from_slice(extra);
    Pty::spawn(args, &env, 140, 24)
}

#[test]
fn demo_fleet_lists_the_incident_opens_it_in_its_account_and_comes_back() {
    let mut p = Pty::spawn(&["--demo", "--fleet", "--speed", "10"], &[], 80, 24);
    ok(p.wait_for_text("fleet demo · 9 pairs"));
    // the three broken pairs, each said on its own row
    ok(p.wait_until("the expired, denied and disabled pairs", |s| {
        s.lines()
            .any(|l| l.starts_with("(legacy)") && l.contains("credentials expired"))
            && s.lines()
                .any(|l| l.starts_with("audit") && l.contains("access denied"))
            && s.lines().any(|l| {
                l.starts_with("(data)") && l.contains("eu-west-1") && l.contains("refused")
            })
    }));
    // the bad deploy in prod/us-east-1 starts two virtual minutes in: read again until it shows
    let incident = |s: &str| {
        s.lines()
            // table rows (the line under the table names the selected row as prod/us-east-1)
            .filter(|l| {
                l.starts_with("prod ") && l.contains("us-east-1") && l.contains("checkout-api")
            })
            .count()
            == 1
    };
    for _ in 0..45 {
        if incident(&p.screen_text()) {
            break;
        }
        p.send_key("ctrl-r");
        std::thread::sleep(std::time::Duration::from_millis(700));
    }
    ok(p.wait_until("checkout-api of prod/us-east-1 listed once", incident));
    // select it: filter to it, then open it
    p.send_key("/");
    p.send(b"checkout");
    p.send_key("enter");
    ok(p.wait_for_text("prod/us-east-1 · checkout-api:"));
    p.send_key("enter");
    ok(p.wait_for_text("prod › checkout-api › deployments"));
    // the session is the prod account's now
    ok(p.wait_for_text("210987654321"));
    ok(p.wait_for_text("PRIMARY"));
    p.send_key("esc");
    ok(p.wait_for_text("fleet demo · 9 pairs"));
    ok(p.wait_for_text("prod/us-east-1 · checkout-api:"));
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_fleet_that_cannot_be_built_is_said_before_the_terminal_is_touched() {
    let mut p = Pty::spawn(&["--fleet", "nope"], &[], 80, 24);
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(!status.success());
    assert_eq!(status.exit_code(), 2);
    let screen = p.screen_text();
    assert!(
        screen.contains("berth: --fleet nope: no [fleet.nope] in config.toml"),
        "{screen}"
    );
    let raw = p.raw_output();
    assert!(
        !crate::common::pty::contains(&raw, b"\x1b[?1049h"),
        "the alternate screen was entered"
    );
}

/// The fleet through the real credential chain: profiles from ~/.aws files matched by a glob,
/// static keys for two sandbox accounts, and an SSO profile whose cached token has expired.
/// The SSO pair says so on its row with its `aws sso login` while the others load.
#[test]
fn profiles_from_the_aws_files_with_an_expired_sso_session_on_its_own_row() {
    let (runtime, handle) = organisation();
    // expired a long time ago, and no refresh token to renew it with
    let home = aws_home(
        "[profile prod]\nregion = us-east-1\n\n[profile staging]\nregion = us-east-1\n\n\
         [profile corp-sso]\nsso_session = corp\nsso_account_id = 210987654321\nsso_role_name = OnCall\nregion = us-east-1\n",
        "[prod]\naws_access_key_id = AKIABERTHPROD0000001\naws_secret_access_key = not-checked\n\n\
         [staging]\naws_access_key_id = AKIABERTHSTAGING0002\naws_secret_access_key = not-checked\n",
        "expired-token-not-a-secret",
        "2020-01-01T00:00:00Z",
    );
    let endpoint = handle.endpoint_url();
    let mut p = console_in(
        &home,
        &[
            "--profiles",
            "*",
            "--regions",
            "us-east-1",
            "--endpoint-url",
            &endpoint,
        ],
        &[],
    );
    ok(p.wait_for_text("fleet --profiles * · 3 pairs"));
    ok(p.wait_until(
        "the expired SSO pair with its fix, the others loaded",
        |s| {
            s.lines().any(|l| l.starts_with("(corp-sso)"))
                && s.contains("aws sso login --profile corp-sso")
                && s.lines()
                    .any(|l| l.starts_with("prod ") || l.starts_with("210987654321"))
                && s.lines()
                    .any(|l| l.starts_with("staging") || l.starts_with("310987654322"))
        },
    ));
    let screen = p.screen_text();
    assert!(!screen.contains("expired-token-not-a-secret"), "{screen}");
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
    drop(handle);
    runtime.shutdown_background();
}

/// Two profiles of one SSO session (`sso_session = corp`), each in two regions: the SDK's SSO
/// provider trades the one cached token for each profile's role credentials at the sandbox's
/// portal (`AWS_ENDPOINT_URL_SSO`), once per profile, not once per pair; both accounts load.
#[test]
fn profiles_of_one_sso_session_share_its_token_and_each_profile_asks_once() {
    let (runtime, handle) = organisation();
    // valid for decades
    let token = format!("{}corp-token", berth::sandbox::sso::TOKEN_PREFIX);
    let home = aws_home(
        "[profile corp-prod]\nsso_session = corp\nsso_account_id = 210987654321\nsso_role_name = OnCall\nregion = us-east-1\n\n\
         [profile corp-staging]\nsso_session = corp\nsso_account_id = 310987654322\nsso_role_name = OnCall\nregion = us-east-1\n",
        "",
        &token,
        "2099-01-01T00:00:00Z",
    );
    let endpoint = handle.endpoint_url();
    let mut p = console_in(
        &home,
        &[
            "--profiles",
            "corp-*",
            "--regions",
            "us-east-1,eu-west-1",
            "--endpoint-url",
            &endpoint,
        ],
        &[("AWS_ENDPOINT_URL_SSO", &endpoint)],
    );
    ok(p.wait_for_text("fleet --profiles corp-* · 4 pairs"));
    ok(p.wait_until("both accounts in both regions", |s| {
        ["210987654321", "310987654322"].iter().all(|id| {
            ["us-east-1", "eu-west-1"]
                .iter()
                .all(|r| s.lines().any(|l| l.starts_with(id) && l.contains(r)))
        }) && s.contains("0 pairs failed")
    }));
    let stats = handle.stats();
    // the fleet: one per profile (2), shared by its two regions (not 4); the console's own
    // session, started in the fleet's first pair, resolves its credentials once more
    assert_eq!(
        stats.count("sso:GetRoleCredentials"),
        3,
        "one role-credentials call per profile, shared by its regions: {stats:?}"
    );
    assert_eq!(
        stats.count("sts:GetCallerIdentity"),
        5,
        "4 pairs and the session"
    );
    assert!(!p.screen_text().contains(&token));
    p.send_key("q");
    let status = p.wait_exit().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
    drop(handle);
    runtime.shutdown_background();
}
