//! The command line (clap). `berth --help` is the first documentation most people read.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::sandbox::SandboxArgs;

/// Seconds between refreshes of the visible view when neither `--refresh` nor config.toml
/// says otherwise.
pub const DEFAULT_REFRESH: u64 = 5;

const AFTER_HELP: &str = "\
Credentials come from the standard AWS chain: environment variables, ~/.aws profiles (including
SSO: run `aws sso login --profile NAME` first), web identity, and container or instance roles
(bastion hosts). The region comes from --region, AWS_REGION, the profile, or (on EC2) the
instance's region.

Examples:
  berth --profile prod --region eu-west-1
  berth --cluster prod --read-only
  AWS_ENDPOINT_URL=http://127.0.0.1:4566 berth

Files:
  keymaps and themes   $XDG_CONFIG_HOME/berth/{keymap,theme}.toml (override the shipped ones per key)
  config               $XDG_CONFIG_HOME/berth/config.toml ([console] refresh, theme, keymap,
                       read_only; protected and read-only [profiles.NAME] / [accounts.ID])
  log                  $XDG_STATE_HOME/berth/berth.log (level from BERTH_LOG, e.g. BERTH_LOG=debug)
  audit log            $XDG_STATE_HOME/berth/audit.jsonl (actions and exec sessions, 0600)

ECS Exec needs session-manager-plugin (newer than 1.2.497.0) on PATH, or its path in
BERTH_SESSION_MANAGER_PLUGIN.";

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
    #[arg(long, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// AWS region (default: AWS_REGION, then the profile's, then the EC2 instance's)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Send every AWS request to this endpoint (a sandbox, moto, a proxy)
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Open this cluster directly
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,

    /// Open this service directly (needs --cluster)
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub service: Option<String>,

    /// Refuse every action that changes AWS resources
    #[arg(long)]
    pub read_only: bool,

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
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,

    /// Run against the embedded sandbox: a simulated ECS fleet, no AWS account needed
    #[arg(long, help_heading = "Demo sandbox")]
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
    /// Print a service's or task's logs (CloudWatch awslogs), for pipes: text or jsonl
    Logs(crate::logs::cli::LogsArgs),
    /// Check every ECS Exec precondition of a task and print the report (exit 1 if one fails)
    ExecCheck(crate::exec::cli::ExecTarget),
    /// Open an ECS Exec shell in a container without the console (preflight, then the
    /// session-manager-plugin; exits with the session's exit code)
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

/// Write the completion script for `shell`, generated from this command line's definition.
/// (Generated into memory first: the generator panics when its writer fails, e.g. a closed
/// pipe.)
pub fn completions(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "berth", &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Write the man page, generated from this command line's definition.
pub fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory;
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    out.write_all(&page)?;
    out.flush()
}

/// Write every man page (berth.1 and one per subcommand, which berth.1 refers to) into `dir`.
/// They are documentation for `man`, so they are created readable as the umask allows.
pub fn man_pages_to(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    use clap::CommandFactory;
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)?;
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
        };
        Ok((target, Some(handle)))
    } else {
        Ok((
            crate::aws::AwsTarget {
                profile: cli.profile.clone(),
                region: cli.region.clone(),
                endpoint_url: cli.endpoint_url.clone(),
                static_credentials: None,
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

    #[test]
    fn refresh_must_be_positive() {
        assert!(Cli::try_parse_from(["berth", "--refresh", "0"]).is_err());
        let cli = Cli::try_parse_from(["berth", "--refresh", "10"]).unwrap();
        assert_eq!(cli.refresh, Some(10));
    }
}
