//! A moto server (an independent implementation of the AWS APIs) for integration tests.
//!
//! `cargo test` must pass on a fresh machine, so nothing here skips when moto is missing: the
//! harness installs `moto[server]` into a virtualenv on first use. The venv lives in
//! `$BERTH_MOTO_VENV` when set (CI creates it up front), else in `<target dir>/moto-venv`.
//! Several test binaries run at once, so installation is serialised with a file lock and done
//! in a staging directory that is renamed into place only when complete.
//!
//! Because a staged venv is renamed, its console scripts carry a stale shebang; the server is
//! therefore started as `<venv>/bin/python -c <launcher>`, which imports `moto.server` directly.
//! The launcher also exits when its stdin closes: the test process holds the only write end, so
//! the server dies with the test binary even when that binary is killed or the shared server
//! (a `static`, never dropped) outlives every test.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Liveness bound for moto to start answering (imports take a few seconds on a busy machine).
const STARTUP_LIMIT: Duration = Duration::from_secs(90);
const START_ATTEMPTS: usize = 3;

/// Runs moto's server and exits as soon as stdin reaches end-of-file (the test binary is gone).
const LAUNCHER: &str = "\
import os, sys, threading
def _watch_parent():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=_watch_parent, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
";

/// The target directory of this build (`CARGO_TARGET_TMPDIR` is `<target>/tmp`).
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map_or_else(|| tmp.to_path_buf(), Path::to_path_buf)
}

/// Where the moto virtualenv is (or will be).
pub fn venv_dir() -> PathBuf {
    match std::env::var_os("BERTH_MOTO_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => target_dir().join("moto-venv"),
    }
}

fn venv_ready(venv: &Path) -> bool {
    venv.join("bin").join("moto_server").is_file() && venv.join("bin").join("python").exists()
}

/// Makes sure a venv with `moto[server]` exists and returns its directory. Installs it (once,
/// across concurrently running test binaries) when missing; panics with pip's output on failure.
pub fn ensure_installed() -> PathBuf {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(install_if_missing).clone()
}

fn install_if_missing() -> PathBuf {
    let venv = venv_dir();
    if venv_ready(&venv) {
        return venv;
    }
    let parent = venv
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let name = venv
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "moto-venv".to_owned());
    fs::create_dir_all(&parent)
        .unwrap_or_else(|e| panic!("moto harness: cannot create {}: {e}", parent.display()));

    let lock_path = parent.join(format!("{name}.lock"));
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("moto harness: cannot open {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("moto harness: cannot lock {}: {e}", lock_path.display()));

    // Another test binary may have finished the install while we waited for the lock.
    if venv_ready(&venv) {
        return venv;
    }
    if venv.exists() {
        if std::env::var_os("BERTH_MOTO_VENV").is_some() {
            panic!(
                "moto harness: BERTH_MOTO_VENV={} exists but has no bin/moto_server; \
                 remove it or point BERTH_MOTO_VENV at an empty path",
                venv.display()
            );
        }
        fs::remove_dir_all(&venv).unwrap_or_else(|e| {
            panic!("moto harness: cannot remove stale {}: {e}", venv.display())
        });
    }

    // Holding the lock, no one else is installing: staging dirs left by a killed run are junk.
    let staging_prefix = format!("{name}.staging-");
    if let Ok(entries) = fs::read_dir(&parent) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(&staging_prefix)
            {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    let staging = parent.join(format!("{staging_prefix}{}", std::process::id()));
    eprintln!(
        "moto harness: installing moto[server] into {} (first run only)",
        venv.display()
    );
    run_or_panic(
        Command::new("python3").arg("-m").arg("venv").arg(&staging),
        "`python3 -m venv` failed (on Debian/Ubuntu install the python3-venv package)",
    );
    run_or_panic(
        Command::new(staging.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("moto[server]"),
        "`pip install 'moto[server]'` failed",
    );
    if !venv_ready(&staging) {
        panic!(
            "moto harness: pip succeeded but {} has no bin/moto_server",
            staging.display()
        );
    }
    fs::rename(&staging, &venv).unwrap_or_else(|e| {
        panic!(
            "moto harness: cannot rename {} to {}: {e}",
            staging.display(),
            venv.display()
        )
    });
    drop(lock);
    venv
}

fn run_or_panic(cmd: &mut Command, what: &str) {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("moto harness: {what}: cannot run {cmd:?}: {e}"));
    if !output.status.success() {
        panic!(
            "moto harness: {what} ({}).\ncommand: {cmd:?}\nstdout:\n{}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A free loopback port: bind port 0, read the port, release it.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("moto harness: cannot bind a loopback port");
    listener
        .local_addr()
        .expect("moto harness: bound socket has no address")
        .port()
}

/// A running `moto_server` on 127.0.0.1, killed on drop.
pub struct MotoServer {
    child: Mutex<Child>,
    port: u16,
    log_path: PathBuf,
}

impl MotoServer {
    /// Installs moto if needed, starts a server on a free port and waits until it answers.
    pub fn start() -> MotoServer {
        let venv = ensure_installed();
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&venv) {
                Ok(server) => return server,
                Err(e) => failures.push(e),
            }
        }
        panic!(
            "moto harness: moto_server did not start after {START_ATTEMPTS} attempts:\n{}",
            failures.join("\n---\n")
        );
    }

    fn try_start(venv: &Path) -> Result<MotoServer, String> {
        let port = free_port();
        let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("moto-logs");
        fs::create_dir_all(&log_dir)
            .map_err(|e| format!("cannot create {}: {e}", log_dir.display()))?;
        let log_path = log_dir.join(format!("moto-{port}.log"));
        let log = File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot clone log handle: {e}"))?;
        let child = Command::new(venv.join("bin").join("python"))
            .arg("-c")
            .arg(LAUNCHER)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot spawn moto in {}: {e}", venv.display()))?;
        let server = MotoServer {
            child: Mutex::new(child),
            port,
            log_path,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_LIMIT;
        let mut last_error = String::from("no attempt yet");
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child().try_wait() {
                return Err(format!(
                    "moto_server on port {} exited with {status}; log:\n{}",
                    self.port,
                    self.log_tail()
                ));
            }
            match http_request(self.port, "GET", "/moto-api/", "") {
                Ok((200, _)) => return Ok(()),
                Ok((status, body)) => last_error = format!("HTTP {status}: {body}"),
                Err(e) => last_error = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "moto_server on port {} did not answer within {STARTUP_LIMIT:?} (last: {last_error}); log:\n{}",
            self.port,
            self.log_tail()
        ))
    }

    fn child(&self) -> MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// POSTs to the moto control API and panics unless it answers 200.
    pub fn post(&self, path: &str, body: &str) -> String {
        match http_request(self.port, "POST", path, body) {
            Ok((status, body)) if (200..300).contains(&status) => body,
            Ok((status, body)) => {
                panic!("moto harness: POST {path} answered HTTP {status}: {body}")
            }
            Err(e) => panic!("moto harness: POST {path} failed: {e}"),
        }
    }

    /// Clears all state.
    pub fn reset(&self) {
        self.post("/moto-api/reset", "");
    }

    /// Makes generated ids and ARNs deterministic from here on.
    pub fn seed(&self, a: u64) {
        self.post(&format!("/moto-api/seed?a={a}"), "");
    }

    /// Launches `count` EC2 instances and returns their ids (RegisterContainerInstance needs
    /// real ones). Spoken as the EC2 query protocol over plain HTTP: the EC2 SDK crate would
    /// cost minutes of compile time for this one call. moto routes on the credential scope of
    /// the Authorization header and does not check the signature.
    pub fn run_ec2_instances(&self, count: usize) -> Vec<String> {
        let body = format!(
            "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&InstanceType=t3.micro\
             &MinCount={count}&MaxCount={count}"
        );
        let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, \
                    SignedHeaders=host, Signature=0";
        let headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", auth),
        ];
        let xml = match http_request_with(self.port, "POST", "/", &headers, &body) {
            Ok((200, xml)) => xml,
            Ok((status, body)) => {
                panic!("moto harness: RunInstances answered HTTP {status}: {body}")
            }
            Err(e) => panic!("moto harness: RunInstances failed: {e}"),
        };
        let ids: Vec<String> = xml
            .split("<instanceId>")
            .skip(1)
            .filter_map(|rest| {
                rest.split_once("</instanceId>")
                    .map(|(id, _)| id.to_owned())
            })
            .collect();
        assert_eq!(
            ids.len(),
            count,
            "moto harness: RunInstances returned {xml}"
        );
        ids
    }

    /// Stops DescribeTasks from walking every task toward STOPPED.
    pub fn freeze_tasks(&self) {
        self.post(
            "/moto-api/state-manager/set-transition",
            r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#,
        );
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Exclusive use of this test binary's shared moto server, freshly reset.
///
/// One server per test binary keeps startup cost down; tests that use it run one at a time
/// (the guard holds a mutex), so each starts from an empty, reset server.
pub struct MotoLease {
    server: &'static MotoServer,
    _serial: MutexGuard<'static, ()>,
}

impl std::ops::Deref for MotoLease {
    type Target = MotoServer;
    fn deref(&self) -> &MotoServer {
        self.server
    }
}

/// Takes the shared server (starting it on first use) and resets it.
pub fn shared() -> MotoLease {
    static SERVER: OnceLock<MotoServer> = OnceLock::new();
    static SERIAL: Mutex<()> = Mutex::new(());
    let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let server = SERVER.get_or_init(MotoServer::start);
    server.reset();
    MotoLease {
        server,
        _serial: serial,
    }
}

/// A real SDK configuration aimed at `endpoint_url` with static dummy credentials.
pub async fn sdk_config(endpoint_url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "berth-tests",
        ))
        .endpoint_url(endpoint_url)
        .load()
        .await
}

/// A minimal blocking HTTP/1.1 request to 127.0.0.1:`port`; returns status and body.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(u16, String), String> {
    http_request_with(
        port,
        method,
        path,
        &[("Content-Type", "application/json")],
        body,
    )
}

/// [`http_request`] with explicit headers (besides Host, Content-Length and Connection).
pub fn http_request_with(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let io_limit = Some(Duration::from_secs(60));
    stream
        .set_read_timeout(io_limit)
        .and_then(|()| stream.set_write_timeout(io_limit))
        .map_err(|e| format!("socket timeouts: {e}"))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send {method} {path}: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("read response to {method} {path}: {e}"))?;
    parse_response(&response)
}

/// Splits a raw HTTP/1.x response into status code and body.
pub fn parse_response(raw: &[u8]) -> Result<(u16, String), String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("truncated HTTP response: {text:?}"))?;
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("bad HTTP status line: {status_line:?}"))?;
    Ok((status, body.to_owned()))
}
