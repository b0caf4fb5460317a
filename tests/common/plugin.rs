//! A test double of `session-manager-plugin`: a shell script that answers `--version` (a
//! supported release, 1.2.764.0, unless `$BERTH_TEST_PLUGIN_VERSION` says otherwise), and
//! otherwise records its argv, the session environment variable and the terminal mode it was
//! given into `$BERTH_TEST_PLUGIN_OUT`, then exits with `$BERTH_TEST_PLUGIN_EXIT` (or, with
//! `BERTH_TEST_PLUGIN_WAIT=1`, stays up until killed, like a port forward).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

const SCRIPT: &str = r#"#!/bin/sh
if [ "$1" = "--version" ]; then
  echo "${BERTH_TEST_PLUGIN_VERSION:-1.2.764.0}"
  exit 0
fi
out="${BERTH_TEST_PLUGIN_OUT:-/dev/null}"
tmp="$out.tmp.$$"
{
  echo "argc=$#"
  for a in "$@"; do printf 'arg=%s\n' "$a"; done
  printf 'env=%s\n' "$AWS_SSM_START_SESSION_RESPONSE"
  if [ -t 0 ]; then printf 'stty=%s\n' "$(stty -a 2>/dev/null | tr '\n' ' ')"; else echo "stty=notty"; fi
} > "$tmp"
mv "$tmp" "$out"
if [ "${BERTH_TEST_PLUGIN_WAIT:-0}" = "1" ]; then
  echo "Starting session with SessionId: test"
  echo "Port ${BERTH_TEST_PLUGIN_PORT:-0} opened for sessionId test."
  echo "Waiting for connections..."
  while :; do sleep 1; done
fi
exit "${BERTH_TEST_PLUGIN_EXIT:-0}"
"#;

/// Write the double as `<dir>/bin/session-manager-plugin`; returns the bin directory.
pub fn install(dir: &Path) -> PathBuf {
    install_with(dir, None, false)
}

/// The double with its output file, exit code and waiting baked in (for plugins started by
/// this process, whose environment a test cannot set).
pub fn install_with(dir: &Path, exit: Option<i32>, wait: bool) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
    let path = bin.join("session-manager-plugin");
    let out = dir.join("plugin.txt");
    let script = SCRIPT
        .replace(
            "${BERTH_TEST_PLUGIN_OUT:-/dev/null}",
            &format!("${{BERTH_TEST_PLUGIN_OUT:-{}}}", out.display()),
        )
        .replace(
            "${BERTH_TEST_PLUGIN_EXIT:-0}",
            &format!("${{BERTH_TEST_PLUGIN_EXIT:-{}}}", exit.unwrap_or(0)),
        )
        .replace(
            "${BERTH_TEST_PLUGIN_WAIT:-0}",
            if wait {
                "${BERTH_TEST_PLUGIN_WAIT:-1}"
            } else {
                "${BERTH_TEST_PLUGIN_WAIT:-0}"
            },
        );
    std::fs::write(&path, script).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    bin
}

/// PATH with `bin` first and the system directories after (for sh, stty, sleep).
pub fn path_with(bin: &Path) -> String {
    format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display())
}

/// A PATH with no plugin on it.
pub fn path_without() -> String {
    "/usr/bin:/bin".to_string()
}

/// What one run of the double recorded.
#[derive(Debug, Default, Clone)]
pub struct Record {
    pub argc: usize,
    pub args: Vec<String>,
    pub env: String,
    pub stty: String,
}

pub fn read(path: &Path) -> Option<Record> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut r = Record::default();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("argc=") {
            r.argc = v.parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("arg=") {
            r.args.push(v.to_string());
        } else if let Some(v) = line.strip_prefix("env=") {
            r.env = v.to_string();
        } else if let Some(v) = line.strip_prefix("stty=") {
            r.stty = v.to_string();
        }
    }
    Some(r)
}
