//! berth: a terminal console for Amazon ECS. See `lib.rs` for the crate map.
//!
//! Startup order matters: parse the command line, start the log, load and validate keymap and
//! theme (a bad file prints file:line and exits 2 before the terminal is touched), then take the
//! terminal and draw the first frame before any network call answers.

use std::process::ExitCode;

use berth::app::{self, IdentityState, Session, State, View};
use berth::cli::{Cli, Commands};
use berth::config::{self, keymap::Keymap, theme::Theme};
use berth::sandbox::{self, SandboxOptions};
use berth::{logging, runtime, tui};

fn main() -> ExitCode {
    // Before anything changes them: re-applied exactly after an ECS Exec session.
    tui::save_original_terminal();
    let mut cli = Cli::parse_checked();
    if let Err(e) = tui::install_hooks() {
        eprintln!("berth: cannot install error hooks: {e}");
    }
    let log = match logging::init(cli.log_file.clone()) {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("berth: logging disabled: {e}");
            None
        }
    };

    let (keymap, theme, safety, warnings, user_config) = match load_config(&mut cli) {
        Ok(loaded) => loaded,
        Err(fatal) => {
            for line in &fatal {
                eprintln!("{line}");
            }
            eprintln!("berth: configuration errors; nothing was started");
            return ExitCode::from(2);
        }
    };
    for w in &warnings {
        tracing::warn!("config: {w}");
    }
    // a fleet that cannot be built is a usage error, said before anything starts (the demo
    // organisation's is built once its sandbox runs, and cannot fail)
    if cli.command.is_none()
        && !cli.demo
        && let Err(e) = berth::cli::fleet_setup(&cli, &user_config, None)
    {
        eprintln!("berth: {e}");
        return ExitCode::from(2);
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berth: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.clone() {
        Some(Commands::Logs(args)) => {
            // a plain command-line program: no terminal UI
            let code = runtime.block_on(berth::logs::cli::run(args, &cli));
            runtime.shutdown_background();
            return code;
        }
        Some(Commands::Fleet(args)) => {
            let code = runtime.block_on(berth::fleet_cli::run(args, &cli));
            runtime.shutdown_background();
            return code;
        }
        Some(Commands::Completions { shell }) => return completions(shell),
        Some(Commands::Man { dir }) => return man(dir.as_deref()),
        Some(Commands::ExecCheck(args)) => {
            let code = runtime.block_on(berth::exec::cli::check(args, &cli));
            runtime.shutdown_background();
            return code;
        }
        Some(Commands::Exec(args)) => {
            let code = runtime.block_on(berth::exec::cli::exec(args, &cli, safety));
            runtime.shutdown_background();
            return code;
        }
        Some(Commands::Sandbox { listen, args }) => {
            runtime.block_on(serve_sandbox(listen, SandboxOptions::from(&args)))
        }
        None => match runtime.block_on(console(cli, keymap, theme, safety, warnings, &user_config))
        {
            // Nobody is watching: nothing to print, nothing to wait for.
            Ok(app::Quit::TerminalLost) => {
                runtime.shutdown_background();
                return ExitCode::from(129);
            }
            Ok(app::Quit::Asked) => Ok(()),
            Err(e) => Err(e),
        },
    };
    // Dropping the runtime aborts any AWS call still in flight.
    runtime.shutdown_background();

    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:?}");
            eprintln!("berth: {e:?}");
            ExitCode::FAILURE
        }
    };
    if let Some(log) = log
        && log.errors() > 0
    {
        eprintln!(
            "berth: {} error(s) were logged to {}",
            log.errors(),
            log.path.display()
        );
    }
    code
}

/// `berth completions SHELL`: a closed pipe (`| head`) is not an error.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    match berth::cli::completions(shell, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth: cannot write the completions: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `berth man [--dir DIR]`: the page on stdout, or every page written to DIR.
fn man(dir: Option<&std::path::Path>) -> ExitCode {
    let Some(dir) = dir else {
        return match berth::cli::man_page(&mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("berth: cannot write the man page: {e}");
                ExitCode::FAILURE
            }
        };
    };
    match berth::cli::man_pages_to(dir) {
        Ok(pages) => {
            for p in pages {
                println!("{}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "berth: cannot write the man pages to {}: {e}",
                dir.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// What the console starts with, or every configuration error (file:line: what is wrong),
/// found before the terminal is touched.
type Config = (
    Keymap,
    Theme,
    berth::config::safety::Safety,
    Vec<String>,
    config::settings::UserConfig,
);

/// Load config.toml (its [console] table fills in flags not given), the keymap and the theme.
fn load_config(cli: &mut Cli) -> Result<Config, Vec<String>> {
    let user_dir = config::user_config_dir();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut warnings = Vec::new();
    let mut fatal = Vec::new();
    // config.toml first: its [console] table supplies defaults for the flags below.
    let user_config = match config::settings::UserConfig::load(user_dir.as_deref()) {
        Ok(c) => Some(c),
        Err(errors) => {
            fatal.extend(errors.iter().map(|d| d.to_string()));
            None
        }
    };
    let console_defaults = user_config
        .as_ref()
        .map(|c| c.console.clone())
        .unwrap_or_default();
    cli.read_only |= console_defaults.read_only;
    cli.refresh = cli.refresh.or(console_defaults.refresh);
    cli.exec_client = cli.exec_client.or(console_defaults.exec_client);
    cli.no_metrics |= console_defaults.metrics == Some(false);
    // --keymap wins over [console] keymap; errors about a name from the file point there.
    let keymap_from_file = match (&cli.keymap, &console_defaults.keymap) {
        (None, Some((name, place))) => Some((name.clone(), place.clone())),
        _ => None,
    };
    let keymap_selector = cli
        .keymap
        .clone()
        .or_else(|| keymap_from_file.as_ref().map(|(n, _)| n.clone()));
    let keymap = match Keymap::load(keymap_selector.as_deref(), user_dir.as_deref()) {
        Ok((k, w)) => {
            warnings.extend(w.iter().map(|d| d.to_string()));
            Some(k)
        }
        Err(errors) => {
            let errors = match &keymap_from_file {
                Some((_, place)) => place.relocate("keymap", errors),
                None => errors,
            };
            fatal.extend(errors.iter().map(|d| d.to_string()));
            None
        }
    };
    // --theme, then NO_COLOR (mono), then [console] theme, then the default.
    let theme_from_file = match (&cli.theme, no_color, &console_defaults.theme) {
        (None, false, Some((name, place))) => Some((name.clone(), place.clone())),
        _ => None,
    };
    let theme_selector = cli
        .theme
        .clone()
        .or_else(|| theme_from_file.as_ref().map(|(n, _)| n.clone()));
    let theme = match Theme::load(theme_selector.as_deref(), no_color, user_dir.as_deref()) {
        Ok((t, w)) => {
            warnings.extend(w.iter().map(|d| d.to_string()));
            Some(t)
        }
        Err(errors) => {
            let errors = match &theme_from_file {
                Some((_, place)) => place.relocate("theme", errors),
                None => errors,
            };
            fatal.extend(errors.iter().map(|d| d.to_string()));
            None
        }
    };
    match (keymap, theme, user_config) {
        (Some(keymap), Some(theme), Some(user_config)) => Ok((
            keymap,
            theme,
            user_config.safety.clone(),
            warnings,
            user_config,
        )),
        _ => Err(fatal),
    }
}

async fn console(
    cli: Cli,
    keymap: Keymap,
    theme: Theme,
    safety: berth::config::safety::Safety,
    warnings: Vec<String>,
    user_config: &config::settings::UserConfig,
) -> color_eyre::Result<app::Quit> {
    // The demo sandbox lives as long as the console.
    let (mut target, demo) = berth::cli::resolve_target(&cli).await?;
    // a fleet that cannot be built is said before the terminal is touched
    let fleet = berth::cli::fleet_setup(
        &cli,
        user_config,
        demo.as_ref().map(|h| h.endpoint_url()).as_deref(),
    )
    .map_err(|e| color_eyre::eyre::eyre!(e))?;
    // a fleet without --profile starts its session in the fleet's first pair (the default
    // profile may not exist on a machine whose profiles are all named)
    if let Some(first) = fleet.as_ref().and_then(|f| f.targets.first())
        && cli.profile.is_none()
        && demo.is_none()
    {
        target = first.target.clone();
    }
    let session = Session {
        target: target.clone(),
        region: target.region.clone(),
        connected: false,
        identity: IdentityState::Pending,
        read_only: cli.read_only,
        protected: false,
        demo: demo.is_some(),
    };
    let mut state = State::new(
        session,
        keymap,
        cli.refresh.unwrap_or(berth::cli::DEFAULT_REFRESH),
        runtime::now_unix(),
    );
    state.cli_read_only = cli.read_only;
    state.exec_client = cli.exec_client.unwrap_or_default();
    state.metrics.disabled = cli.no_metrics;
    state.safety = safety.clone();
    state.apply_safety();
    // --cluster/--service open there directly; only that view is loaded.
    if let Some(cluster) = &cli.cluster {
        state.views.push(app::nav::services_view(cluster));
        if let Some(service) = &cli.service {
            state
                .views
                .push(View::Deployments(app::nav::service_view(cluster, service)));
        }
    }
    state.known_profiles = berth::aws::profiles::known_profiles();
    state.fleet_config = app::fleet::FleetConfig {
        specs: user_config.fleets.clone(),
        aliases: user_config.aliases.clone(),
        sessions: berth::aws::profiles::sso_sessions(),
    };
    if let Some(setup) = fleet {
        let refresh = state.refresh_secs;
        state.fleet = Some(setup.clone());
        if cli.cluster.is_none() {
            state
                .views
                .push(View::Pane(Box::new(berth::panes::fleet::Fleet::new(
                    setup, refresh,
                ))));
        }
    }
    app::config_warnings(&mut state, &warnings);

    let clock = demo
        .as_ref()
        .map(|h| h.clock())
        .unwrap_or_else(runtime::wall_clock);
    let mut terminal = tui::Tui::new()?;
    let result = runtime::run(
        &mut terminal,
        state,
        safety,
        theme,
        vec![app::Effect::Connect(target)],
        clock,
    )
    .await;
    match result {
        Ok(app::Quit::TerminalLost) => terminal.abandon(),
        _ => drop(terminal),
    }
    if let Some(handle) = demo {
        handle.shutdown().await;
    }
    result
}

/// `berth sandbox`: serve until Ctrl-C. This is a plain command-line program, so it prints.
async fn serve_sandbox(
    listen: std::net::SocketAddr,
    opts: SandboxOptions,
) -> color_eyre::Result<()> {
    let scenario = opts.scenario;
    let fleet = (!opts.accounts.is_empty()).then(|| sandbox::credentials_snippet(&opts.accounts));
    let handle = sandbox::start(listen, opts).await?;
    if let Some(profiles) = fleet {
        // the profiles first, so the listen line and the hint stay on screen
        println!(
            "# berth sandbox fleet: profiles for ~/.aws/credentials (secrets are not checked)\n\n{profiles}\
             # try: AWS_PROFILE=prod aws --region eu-west-1 --endpoint-url {url} ecs list-clusters\n",
            url = handle.endpoint_url(),
        );
    }
    println!(
        "berth sandbox ({scenario:?}) listening on {url}\n\
         try: AWS_ACCESS_KEY_ID={id} AWS_SECRET_ACCESS_KEY=x aws --region us-east-1 --endpoint-url {url} ecs list-clusters\n\
         stop with Ctrl-C",
        url = handle.endpoint_url(),
        id = sandbox::DEMO_ACCESS_KEY_ID,
    );
    tokio::signal::ctrl_c().await?;
    handle.shutdown().await;
    Ok(())
}
