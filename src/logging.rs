//! tracing to a private file. Nothing is ever printed to the terminal while the UI is up.
//!
//! The file is created with mode 0600 (it may contain account ids and resource names). Credentials
//! never reach it: berth logs none, and the SDK's signing and credential crates are capped at
//! `warn` whatever `BERTH_LOG` asks for, because their debug output can include request headers.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Targets whose verbose output may carry secrets: never above `warn`.
const CAPPED: &[&str] = &[
    "aws_sigv4",
    "aws_credential_types",
    "aws_runtime",
    "aws_smithy_runtime",
    "aws_smithy_http_client",
    "aws_config",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "tungstenite",
    "tokio_tungstenite",
];

/// Keeps the log alive; tells at exit whether errors were logged.
pub struct LogGuard {
    pub path: PathBuf,
    errors: Arc<AtomicUsize>,
    _worker: tracing_appender::non_blocking::WorkerGuard,
}

impl LogGuard {
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }
}

/// `$XDG_STATE_HOME/berth` (or `~/.local/state/berth`).
pub fn state_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".local/state"),
    };
    Some(base.join("berth"))
}

/// Create (or open for append) a file only the owner can read, creating its directory (0700).
pub fn create_private_file(path: &Path) -> io::Result<fs::File> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    // An existing file keeps its mode on open: tighten it.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// The filter: `BERTH_LOG` (default `info`), with the secret-bearing targets capped.
pub fn filter(spec: Option<&str>) -> EnvFilter {
    let spec = spec.filter(|s| !s.trim().is_empty()).unwrap_or("info");
    let mut filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in CAPPED {
        if let Ok(directive) = format!("{target}=warn").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

struct ErrorCounter(Arc<AtomicUsize>);

impl<S: Subscriber> Layer<S> for ErrorCounter {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() == Level::ERROR {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Start logging to `path` (or the default location).
pub fn init(path: Option<PathBuf>) -> io::Result<LogGuard> {
    let path = match path {
        Some(p) => p,
        None => state_dir()
            .ok_or_else(|| io::Error::other("neither XDG_STATE_HOME nor HOME is set"))?
            .join("berth.log"),
    };
    let file = create_private_file(&path)?;
    let (writer, worker) = tracing_appender::non_blocking(file);
    let errors = Arc::new(AtomicUsize::new(0));
    let spec = std::env::var("BERTH_LOG").ok();
    tracing_subscriber::registry()
        .with(filter(spec.as_deref()))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_target(true),
        )
        .with(ErrorCounter(errors.clone()))
        .try_init()
        .map_err(io::Error::other)?;
    Ok(LogGuard {
        path,
        errors,
        _worker: worker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_file_is_0600_even_if_it_existed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/berth.log");
        create_private_file(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        create_private_file(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }

    #[test]
    fn signing_targets_stay_capped_at_warn() {
        let f = filter(Some("trace")).to_string();
        assert!(f.contains("aws_sigv4=warn"), "{f}");
        assert!(f.contains("trace"), "{f}");
    }
}
