//! The command line (clap). `berth --help` is the first documentation most people read.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::sandbox::SandboxArgs;

/// Seconds between refreshes of the visible view when neither `--refresh` nor config.toml
/// says otherwise.
pub const DEFAULT_REFRESH: u64 = 5;

/// Help heading of the options that may go before or after a subcommand.
const GLOBAL: &str = "Global options";

const AFTER_HELP: &str = "\
Credentials come from the standard AWS chain: environment variables, ~/.aws profiles (including
SSO: run `aws sso login --profile NAME` first), web identity, and container or instance roles
(bastion hosts). The region comes from --region, AWS_REGION, the profile, or (on EC2) the
instance's region.

Global options and the demo sandbox's go before or after a subcommand; --cluster and --service
before one are the console's, so a subcommand takes its own after its name.

Examples:
  berth --profile prod --region eu-west-1
  berth --cluster prod --read-only
  berth logs --profile prod --cluster prod --service checkout-api --since 1h
  berth --profiles 'prod-*' --regions us-east-1,eu-west-1     (every account at once)
  berth fleet --fleet prod --output jsonl                      (the same, for scripts)
  AWS_ENDPOINT_URL=http://127.0.0.1:4566 berth

Files:
  keymaps and themes   $XDG_CONFIG_HOME/berth/{keymap,theme}.toml (override the shipped ones per key)
  config               $XDG_CONFIG_HOME/berth/config.toml ([console] refresh, theme, keymap,
                       read_only, exec_client; protected and read-only [profiles.NAME] /
                       [accounts.ID], an account's alias; fleets: [fleet.NAME] profiles,
                       regions)
  log                  $XDG_STATE_HOME/berth/berth.log (level from BERTH_LOG, e.g. BERTH_LOG=debug)
  audit log            $XDG_STATE_HOME/berth/audit.jsonl (actions and exec sessions, 0600)

ECS Exec and port forwarding run session-manager-plugin when a supported one (1.2.764.0 or
later) is on PATH or at BERTH_SESSION_MANAGER_PLUGIN, and berth's built-in client otherwise
(--exec-client chooses).";

#[derive(Debug, Clone, Parser)]
#[command(
    name = "berth",
    version,
    about = "A terminal console for Amazon ECS, built for on-call triage",
    long_about = None,
    after_help = AFTER_HELP,
)]
pub struct Cli {
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")
    #[arg(long, env = "AWS_PROFILE", value_name = "NAME", global = true, help_heading = GLOBAL)]
    pub profile: Option<String>,

    /// AWS region (default: AWS_REGION, then the profile's, then the EC2 instance's)
    #[arg(long, value_name = "REGION", global = true, help_heading = GLOBAL)]
    pub region: Option<String>,

    /// Send every AWS request to this endpoint (a sandbox, moto, a proxy)
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL", global = true, help_heading = GLOBAL)]
    pub endpoint_url: Option<String>,

    /// Profiles for a one-off fleet view, comma-separated; globs allowed (`prod-*`); needs
    /// --regions
    #[arg(long, value_name = "GLOBS", value_delimiter = ',', global = true, requires = "regions", help_heading = GLOBAL)]
    pub profiles: Vec<String>,

    /// Regions for --profiles, comma-separated (`us-east-1,eu-west-1`)
    #[arg(long, value_name = "REGIONS", value_delimiter = ',', global = true, requires = "profiles", help_heading = GLOBAL)]
    pub regions: Vec<String>,

    /// Open this cluster directly
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,

    /// Open this service directly (needs --cluster)
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub service: Option<String>,

    /// Refuse every action that changes AWS resources
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub read_only: bool,

    /// Client for ECS Exec and port forwarding: auto (session-manager-plugin 1.2.764.0 or
    /// later when installed, else berth's built-in client), native or plugin [default: auto,
    /// or [console] exec_client in config.toml]
    #[arg(long, value_enum, value_name = "CLIENT", global = true, help_heading = GLOBAL)]
    pub exec_client: Option<crate::exec::client::ExecClient>,

    /// Never call CloudWatch: no CPU/memory trends, no GetMetricData cost [default: on, or
    /// [console] metrics in config.toml]
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_metrics: bool,

    /// Theme: default, mono, light, high-contrast, or a path to a TOML file
    /// (default: mono when NO_COLOR is set)
    #[arg(long, value_name = "NAME|PATH")]
    pub theme: Option<String>,

    /// Keymap: default, vim, k9s, or a path to a TOML file
    #[arg(long, value_name = "NAME|PATH")]
    pub keymap: Option<String>,

    /// Seconds between refreshes of the visible view [default: 5, or [console] refresh in
    /// config.toml]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub refresh: Option<u64>,

    /// Write the log here instead of $XDG_STATE_HOME/berth/berth.log
    #[arg(long, value_name = "PATH", global = true, help_heading = GLOBAL)]
    pub log_file: Option<PathBuf>,

    /// Run against the embedded sandbox: a simulated ECS fleet, no AWS account needed
    #[arg(long, help_heading = "Demo sandbox", global = true)]
    pub demo: bool,

    #[command(flatten, next_help_heading = "Demo sandbox")]
    pub sandbox: SandboxArgs,

    #[command(subcommand)]
    pub command: Option<Commands>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Commands {
    /// Serve the sandbox alone, for the AWS CLI or any SDK
    /// (`aws --endpoint-url http://127.0.0.1:4566 ecs list-clusters`)
    Sandbox {
        /// Address to listen on (loopback unless you mean otherwise)
        #[arg(long, default_value = "127.0.0.1:4566", value_name = "ADDR")]
        listen: std::net::SocketAddr,

        #[command(flatten)]
        args: SandboxArgs,
    },
    /// Print every account's problems at once (the fleet view's table, once): text or jsonl;
    /// exit 1 when a service has a problem or a pair cannot be read
    Fleet(crate::fleet_cli::FleetArgs),
    /// Print a service's or task's logs (CloudWatch awslogs), for pipes: text or jsonl
    Logs(crate::logs::cli::LogsArgs),
    /// Check every ECS Exec precondition of a task and print the report (exit 1 if one fails)
    ExecCheck(crate::exec::cli::ExecTarget),
    /// Open an ECS Exec shell in a container without the console (preflight, then the
    /// session, by session-manager-plugin or berth's built-in client as --exec-client says;
    /// exits with the session's exit code)
    Exec(crate::exec::cli::ExecArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout
    /// (`berth completions bash > /etc/bash_completion.d/berth`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout (`berth man > ~/.local/share/man/man1/berth.1`),
    /// or with --dir write it and one page per subcommand (berth-logs.1, ...) into DIR
    Man {
        /// Write berth.1 and berth-<subcommand>.1 into this directory
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The command line as `berth` parses it and documents it (help, man pages, completions).
///
/// The options a subcommand reads from the top level are `global`, so they may come before or
/// after the subcommand, as with the AWS CLI and kubectl. The demo sandbox's settings are global
/// too, but their long help belongs to `berth --help` and `berth sandbox --help`: every other
/// subcommand gets them as hidden copies, which parse the same (clap propagates a global only
/// to a subcommand that lacks an argument of that id).
pub fn command() -> clap::Command {
    use clap::{Args, CommandFactory};
    let hidden: Vec<clap::Arg> = SandboxArgs::augment_args(clap::Command::new("sandbox"))
        .get_arguments()
        .map(|a| a.clone().hide(true))
        .collect();
    Cli::command().mut_subcommands(|sub| match sub.get_name() {
        "sandbox" => sub,
        // `--fleet NAME` is what `berth fleet` reads: shown there, with its own words
        "fleet" => sub.args(hidden.iter().cloned().map(|a| {
            if a.get_id() == "fleet" {
                a.hide(false).help_heading(GLOBAL).help(
                    "The fleet: a [fleet.NAME] of config.toml (alone: the only one there); \
                     with --demo, the sandbox's demo organisation",
                )
            } else {
                a
            }
        })),
        _ => sub.args(hidden.iter().cloned()),
    })
}

/// Console options: before a subcommand they are not the subcommand's (`berth --cluster a logs
/// --cluster b` would read b and ignore a), so there they are refused.
const CONSOLE_ONLY: [&str; 2] = ["cluster", "service"];

impl Cli {
    /// Parse the process's arguments with [`command`]; on an error, or for `--help` and
    /// `--version`, print and exit as clap does.
    pub fn parse_checked() -> Cli {
        Self::try_parse_checked(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// [`command`]'s parse, plus the rule clap cannot state: the console's `--cluster` and
    /// `--service` are refused before a subcommand (which takes its own after its name).
    pub fn try_parse_checked<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::FromArgMatches;
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        let mut cmd = command();
        let matches = match cmd.try_get_matches_from_mut(&args) {
            Ok(m) => m,
            // `berth --cluster prod logs --service api` fails first for the missing
            // `--cluster` of `logs`: say where the one given went instead.
            Err(e) => {
                let partial = command().ignore_errors(true).try_get_matches_from(&args);
                return Err(match partial {
                    Ok(m) => console_option_before_subcommand(&mut cmd, &m).unwrap_or(e),
                    Err(_) => e,
                });
            }
        };
        if let Some(e) = console_option_before_subcommand(&mut cmd, &matches) {
            return Err(e);
        }
        Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
    }
}

fn console_option_before_subcommand(
    cmd: &mut clap::Command,
    matches: &clap::ArgMatches,
) -> Option<clap::Error> {
    let sub = matches.subcommand_name()?;
    let id = CONSOLE_ONLY
        .into_iter()
        .find(|id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine))?;
    Some(cmd.error(
        clap::error::ErrorKind::ArgumentConflict,
        format!(
            "--{id} before `{sub}` is the console's option, which `berth {sub}` does not \
             read; give the subcommand's options after it (berth {sub} --help)"
        ),
    ))
}

/// Write the completion script for `shell`, generated from this command line's definition.
/// (Generated into memory first: the generator panics when its writer fails, e.g. a closed
/// pipe.)
pub fn completions(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut cmd = command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "berth", &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Write the man page, generated from this command line's definition.
pub fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command()).render(&mut page)?;
    out.write_all(&page)?;
    out.flush()
}

/// Write every man page (berth.1 and one per subcommand, which berth.1 refers to) into `dir`.
/// They are documentation for `man`, so they are created readable as the umask allows.
pub fn man_pages_to(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(command(), dir)?;
    let mut written: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("berth") && n.ends_with(".1"))
        })
        .collect();
    written.sort();
    Ok(written)
}

/// The fleet the command line asks for, if any: `--demo --fleet` (the sandbox's demo
/// organisation at `demo_endpoint`), `--profiles`/`--regions`, or `--fleet NAME` from
/// `[fleet.NAME]` of config.toml. An error says what is wrong in one line.
pub fn fleet_setup(
    cli: &Cli,
    config: &crate::config::settings::UserConfig,
    demo_endpoint: Option<&str>,
) -> Result<Option<crate::app::fleet::FleetSetup>, String> {
    use crate::app::fleet::FleetSetup;
    let mut aliases = config.aliases.clone();
    if let (Some(endpoint), Some(_)) = (demo_endpoint, &cli.sandbox.fleet) {
        let accounts = crate::sandbox::demo_accounts();
        for a in &accounts {
            aliases
                .entry(a.account_id.clone())
                .or_insert_with(|| a.name.clone());
        }
        return Ok(Some(FleetSetup {
            name: "demo".into(),
            targets: crate::sandbox::fleet_targets(&accounts, endpoint),
            unmatched: Vec::new(),
            aliases,
        }));
    }
    let (name, profiles, regions) = if !cli.profiles.is_empty() {
        (
            format!("--profiles {}", cli.profiles.join(",")),
            cli.profiles.clone(),
            cli.regions.clone(),
        )
    } else if let Some(wanted) = &cli.sandbox.fleet {
        let names: Vec<&str> = config.fleets.keys().map(String::as_str).collect();
        let (name, spec) = if wanted.is_empty() {
            match config.fleets.iter().next() {
                Some((n, f)) if config.fleets.len() == 1 => (n.clone(), f.clone()),
                _ if names.is_empty() => {
                    return Err(
                        "--fleet: no [fleet.NAME] in config.toml (or use --profiles and --regions)"
                            .into(),
                    );
                }
                _ => return Err(format!("--fleet: which one? {}", names.join(", "))),
            }
        } else {
            match config.fleets.get(wanted) {
                Some(f) => (wanted.clone(), f.clone()),
                None => {
                    return Err(format!(
                        "--fleet {wanted}: no [fleet.{wanted}] in config.toml{}",
                        if names.is_empty() {
                            String::new()
                        } else {
                            format!(" (there: {})", names.join(", "))
                        }
                    ));
                }
            }
        };
        (name, spec.profiles, spec.regions)
    } else {
        return Ok(None);
    };
    let known = crate::aws::profiles::known_profiles();
    let sessions = crate::aws::profiles::sso_sessions();
    crate::app::fleet::build(
        &name,
        &profiles,
        &regions,
        &known,
        &sessions,
        cli.endpoint_url.as_deref(),
        aliases,
    )
    .map(Some)
}

/// Where the command-line programs send requests: the embedded sandbox with `--demo`
/// (returned so it lives as long as the caller needs it), otherwise the flags.
pub async fn resolve_target(
    cli: &Cli,
) -> std::io::Result<(crate::aws::AwsTarget, Option<crate::sandbox::SandboxHandle>)> {
    if cli.demo {
        let opts = crate::sandbox::SandboxOptions::from(&cli.sandbox);
        let region = opts.region.clone();
        let handle = crate::sandbox::start(([127, 0, 0, 1], 0).into(), opts).await?;
        let target = crate::aws::AwsTarget {
            profile: None,
            region: Some(region),
            endpoint_url: Some(handle.endpoint_url()),
            static_credentials: Some((
                crate::sandbox::DEMO_ACCESS_KEY_ID.to_string(),
                crate::sandbox::DEMO_SECRET_ACCESS_KEY.to_string(),
            )),
            attempt_timeout: None,
        };
        Ok((target, Some(handle)))
    } else {
        Ok((
            crate::aws::AwsTarget {
                profile: cli.profile.clone(),
                region: cli.region.clone(),
                endpoint_url: cli.endpoint_url.clone(),
                static_credentials: None,
                attempt_timeout: None,
            },
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
        command().debug_assert();
    }

    #[test]
    fn service_requires_cluster() {
        let err = Cli::try_parse_from(["berth", "--service", "api"]);
        assert!(err.is_err());
        let ok = Cli::try_parse_from(["berth", "--cluster", "prod", "--service", "api"]);
        assert!(ok.is_ok());
    }

    #[test]
    fn completions_come_from_the_definition() {
        for (shell, marker) in [
            (clap_complete::Shell::Bash, "_berth()"),
            (clap_complete::Shell::Zsh, "#compdef berth"),
            (clap_complete::Shell::Fish, "complete -c berth"),
        ] {
            let mut out = Vec::new();
            completions(shell, &mut out).unwrap();
            let text = String::from_utf8_lossy(&out);
            assert!(text.contains(marker), "{shell}: {marker} missing");
            for word in ["exec-check", "read-only", "profile", "completions"] {
                assert!(text.contains(word), "{shell}: {word} missing");
            }
        }
    }

    #[test]
    fn the_man_page_lists_options_and_subcommands() {
        let mut out = Vec::new();
        man_page(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with(".ie") || text.contains(".TH berth"),
            "{text}"
        );
        for word in ["read\\-only", "exec\\-check", "session", "logs"] {
            assert!(text.contains(word), "{word} missing from the man page");
        }
    }

    /// What each subcommand needs to parse at all.
    const SUBCOMMANDS: [&[&str]; 7] = [
        &["fleet", "--output", "jsonl"],
        &["logs", "--cluster", "c", "--service", "s"],
        &["exec", "--cluster", "c", "--task", "t"],
        &["exec-check", "--cluster", "c", "--task", "t"],
        &["sandbox"],
        &["completions", "bash"],
        &["man"],
    ];

    type Check = fn(&Cli) -> bool;

    /// Every option a subcommand reads from the top level, with a value that is not its
    /// default, and how to see that it arrived.
    const GLOBALS: [(&[&str], Check); 15] = [
        (&["--profile", "p"], |c| c.profile.as_deref() == Some("p")),
        (&["--region", "eu-west-1"], |c| {
            c.region.as_deref() == Some("eu-west-1")
        }),
        (&["--endpoint-url", "http://127.0.0.1:4566"], |c| {
            c.endpoint_url.as_deref() == Some("http://127.0.0.1:4566")
        }),
        (&["--read-only"], |c| c.read_only),
        (&["--no-metrics"], |c| c.no_metrics),
        (&["--exec-client", "plugin"], |c| {
            c.exec_client == Some(crate::exec::client::ExecClient::Plugin)
        }),
        (&["--log-file", "/tmp/b.log"], |c| {
            c.log_file.as_deref() == Some(std::path::Path::new("/tmp/b.log"))
        }),
        (&["--demo"], |c| c.demo),
        (&["--scenario", "bad-deploy"], |c| {
            c.sandbox.scenario == crate::sandbox::Scenario::BadDeploy
        }),
        (&["--scale", "40", "--clusters", "4"], |c| {
            c.sandbox.scale == Some(40) && c.sandbox.clusters == Some(4)
        }),
        (&["--speed", "10"], |c| c.sandbox.speed == 10.0),
        (&["--seed", "3"], |c| c.sandbox.seed == 3),
        (&["--latency-ms", "25"], |c| c.sandbox.latency_ms == 25),
        (&["--rate", "2.5"], |c| c.sandbox.rate == Some(2.5)),
        (&["--burst", "9"], |c| c.sandbox.burst == 9),
    ];

    fn argv(first: &[&[&str]], then: &[&[&str]]) -> Vec<String> {
        std::iter::once("berth")
            .chain(first.iter().chain(then).flat_map(|a| a.iter().copied()))
            .map(String::from)
            .collect()
    }

    /// The subcommand's own options survive the globals around them.
    fn assert_subcommand_intact(cli: &Cli, argv: &[String]) {
        let intact = match &cli.command {
            Some(Commands::Logs(a)) => a.cluster == "c" && a.service.as_deref() == Some("s"),
            Some(Commands::Exec(a)) => a.target.cluster == "c" && a.target.task == "t",
            Some(Commands::ExecCheck(a)) => a.cluster == "c" && a.task == "t",
            Some(Commands::Completions { shell }) => *shell == clap_complete::Shell::Bash,
            Some(Commands::Fleet(a)) => a.output == crate::fleet_cli::FleetOutput::Jsonl,
            Some(Commands::Sandbox { .. } | Commands::Man { .. }) => true,
            None => false,
        };
        assert!(intact, "{argv:?} parsed as {:?}", cli.command);
    }

    type Parse = fn(&[String]) -> Result<Cli, clap::Error>;

    /// clap's derived parser, and the one `berth` runs (with the hidden copies and the
    /// console-only rule): both must read the same.
    const PARSERS: [Parse; 2] = [|a| Cli::try_parse_from(a), |a| Cli::try_parse_checked(a)];

    #[test]
    fn every_global_option_goes_before_or_after_every_subcommand() {
        for parse in PARSERS {
            for sub in SUBCOMMANDS {
                for (global, arrived) in GLOBALS {
                    for argv in [argv(&[global], &[sub]), argv(&[sub], &[global])] {
                        let cli = parse(&argv).unwrap_or_else(|e| panic!("{argv:?} refused:\n{e}"));
                        assert!(arrived(&cli), "{argv:?}: {global:?} was lost: {cli:?}");
                        assert_subcommand_intact(&cli, &argv);
                    }
                }
                // all at once, and split around the subcommand
                let (a, b) = GLOBALS.split_at(GLOBALS.len() / 2);
                let a: Vec<&[&str]> = a.iter().map(|(g, _)| *g).collect();
                let b: Vec<&[&str]> = b.iter().map(|(g, _)| *g).collect();
                let all: Vec<&[&str]> = a.iter().chain(&b).copied().collect();
                for argv in [
                    argv(&all, &[sub]),
                    argv(&[sub], &all),
                    argv(&[&a[..], &[sub], &b[..]].concat(), &[]),
                ] {
                    let cli = parse(&argv).unwrap_or_else(|e| panic!("{argv:?} refused:\n{e}"));
                    for (global, arrived) in GLOBALS {
                        assert!(arrived(&cli), "{argv:?}: {global:?} was lost: {cli:?}");
                    }
                    assert_subcommand_intact(&cli, &argv);
                }
            }
        }
    }

    /// `--cluster`/`--service` before a subcommand would be ignored next to the subcommand's
    /// own: refused, and the console's `berth --cluster X [--service Y]` still opens there.
    #[test]
    fn console_cluster_and_service_are_refused_before_a_subcommand() {
        for (args, refused) in [
            (
                &["--cluster", "x", "logs", "--cluster", "c", "--service", "s"][..],
                "--cluster before `logs`",
            ),
            // the mistake a user makes: the subcommand then lacks its own --cluster
            (
                &["--cluster", "c", "logs", "--service", "s"],
                "--cluster before `logs`",
            ),
            (
                &["--cluster", "c", "exec-check", "--task", "t"],
                "--cluster before `exec-check`",
            ),
            (
                &[
                    "--cluster",
                    "x",
                    "--service",
                    "y",
                    "exec",
                    "--cluster",
                    "c",
                    "--task",
                    "t",
                ],
                "--cluster before `exec`",
            ),
            (&["--cluster", "x", "sandbox"], "--cluster before `sandbox`"),
            // --service also needs the console's --cluster: the clearer message wins
            (
                &["--service", "y", "logs", "--cluster", "c", "--service", "s"],
                "--service before `logs`",
            ),
        ] {
            let argv = argv(&[args], &[]);
            let err = Cli::try_parse_checked(&argv)
                .err()
                .unwrap_or_else(|| panic!("{argv:?} was accepted"));
            assert_eq!(err.exit_code(), 2, "{argv:?}");
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{argv:?}: {err}"
            );
            assert!(err.to_string().contains(refused), "{argv:?}: {err}");
        }

        let cli = Cli::try_parse_checked([
            "berth",
            "--profile",
            "p",
            "--cluster",
            "x",
            "--service",
            "y",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (
                cli.cluster.as_deref(),
                cli.service.as_deref(),
                cli.profile.as_deref()
            ),
            (Some("x"), Some("y"), Some("p"))
        );
        assert!(cli.command.is_none());
        // the subcommand's --service does not need the console's --cluster
        let cli = Cli::try_parse_checked(["berth", "logs", "--service", "s", "--cluster", "c"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(cli.cluster.is_none() && cli.service.is_none());
        assert_subcommand_intact(&cli, &[]);
    }

    /// `berth logs --help` is about logs: the globals under their own heading, the demo
    /// sandbox's settings (parsed, see above) left to `berth --help` and `berth sandbox --help`.
    #[test]
    fn subcommand_help_lists_globals_and_leaves_the_sandbox_settings_out() {
        let mut cmd = command();
        cmd.build();
        let help = |cmd: &mut clap::Command| cmd.render_long_help().to_string();
        let top = help(&mut cmd);
        assert!(
            top.contains("Global options:") && top.contains("--scenario"),
            "{top}"
        );
        for sub in ["logs", "exec", "exec-check", "fleet"] {
            let sc = cmd
                .find_subcommand_mut(sub)
                .unwrap_or_else(|| panic!("{sub}"));
            let text = help(sc);
            let globals = text
                .split("Global options:")
                .nth(1)
                .unwrap_or_else(|| panic!("{sub}: no Global options heading:\n{text}"));
            for flag in [
                "--profile",
                "--region",
                "--endpoint-url",
                "--read-only",
                "--exec-client",
                "--log-file",
            ] {
                assert!(globals.contains(flag), "{sub}: {flag} not global:\n{text}");
            }
            assert!(text.contains("--demo"), "{sub}:\n{text}");
            assert!(!text.contains("--scenario"), "{sub}:\n{text}");
        }
        let sandbox = help(
            cmd.find_subcommand_mut("sandbox")
                .unwrap_or_else(|| panic!("sandbox")),
        );
        assert!(sandbox.contains("--scenario"), "{sandbox}");
        let fleet = help(
            cmd.find_subcommand_mut("fleet")
                .unwrap_or_else(|| panic!("fleet")),
        );
        for flag in ["--fleet", "--profiles", "--regions", "--demo", "--output"] {
            assert!(fleet.contains(flag), "fleet: {flag}:\n{fleet}");
        }
        assert!(!fleet.contains("--scenario"), "{fleet}");
    }

    /// `berth sandbox` serves what the demo settings say, wherever they are written.
    #[test]
    fn sandbox_settings_before_the_sandbox_subcommand_reach_it() {
        for argv in [
            ["berth", "--scenario", "oom", "--seed", "3", "sandbox"],
            ["berth", "sandbox", "--scenario", "oom", "--seed", "3"],
        ] {
            let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
            let Some(Commands::Sandbox { args, .. }) = &cli.command else {
                panic!("{argv:?} parsed as {:?}", cli.command);
            };
            assert_eq!(args.scenario, crate::sandbox::Scenario::Oom, "{argv:?}");
            assert_eq!(args.seed, 3, "{argv:?}");
        }
    }

    /// Given twice, the one written later wins (as it would for one written twice in a row
    /// of `aws` options): no silent mix of the two.
    #[test]
    fn a_global_given_before_and_after_takes_the_later_value() {
        let cli = Cli::try_parse_from([
            "berth",
            "--region",
            "us-east-1",
            "logs",
            "--cluster",
            "c",
            "--service",
            "s",
            "--region",
            "eu-west-1",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.region.as_deref(), Some("eu-west-1"));
    }

    /// `--exec-client` reads auto, native and plugin, before or after a subcommand, and
    /// nothing else; absent, it is left for config.toml (then auto).
    #[test]
    fn exec_client_is_one_of_three_before_or_after_a_subcommand() {
        use crate::exec::client::ExecClient;
        let exec = ["exec", "--cluster", "c", "--task", "t"];
        for (value, want) in [
            ("auto", ExecClient::Auto),
            ("native", ExecClient::Native),
            ("plugin", ExecClient::Plugin),
        ] {
            let flag = ["--exec-client", value];
            for argv in [
                argv(&[&flag], &[&exec]),
                argv(&[&exec], &[&flag]),
                argv(
                    &[&flag],
                    &[&["exec-check", "--cluster", "c", "--task", "t"]],
                ),
                argv(&[&flag], &[]),
            ] {
                for parse in PARSERS {
                    let cli = parse(&argv).unwrap_or_else(|e| panic!("{argv:?} refused:\n{e}"));
                    assert_eq!(cli.exec_client, Some(want), "{argv:?}");
                }
            }
        }
        let cli = Cli::try_parse_checked(["berth", "exec", "--cluster", "c", "--task", "t"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.exec_client, None);
        // the later one wins, as for every global
        let cli = Cli::try_parse_checked([
            "berth",
            "--exec-client",
            "plugin",
            "exec-check",
            "--cluster",
            "c",
            "--task",
            "t",
            "--exec-client",
            "native",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.exec_client, Some(ExecClient::Native));
        for bad in ["fast", "Plugin", ""] {
            let err = Cli::try_parse_checked(["berth", "--exec-client", bad])
                .err()
                .unwrap_or_else(|| panic!("{bad:?} was accepted"));
            assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue, "{bad:?}");
            let text = err.to_string();
            assert!(text.contains("auto, native, plugin"), "{text}");
        }
        let help = command().render_long_help().to_string();
        assert!(help.contains("--exec-client <CLIENT>"), "{help}");
    }

    #[test]
    fn refresh_must_be_positive() {
        assert!(Cli::try_parse_from(["berth", "--refresh", "0"]).is_err());
        let cli = Cli::try_parse_from(["berth", "--refresh", "10"]).unwrap();
        assert_eq!(cli.refresh, Some(10));
    }
}
