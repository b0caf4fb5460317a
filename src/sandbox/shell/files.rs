//! The simulated filesystem: a fixed tree that depends on the image flavour, read-only, with
//! the two data files generated on demand from their offsets.

use super::commands::PROGRAMS;
use super::pieces::Piece;
use super::run::Frame;
use super::{DATA_1M, DATA_1M_SIZE, DATA_10M, DATA_10M_SIZE, Shell};
use crate::sandbox::rng::{hash_str, mix};

/// Line `n` of the data files: `berth NNNNNNNN ` (line number modulo 10^8), 48 characters
/// from a URL-safe base64 alphabet, then `\n`: 64 bytes, all printable.
pub(super) fn data_line(n: u64) -> [u8; 64] {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut line = [0u8; 64];
    line[..6].copy_from_slice(b"berth ");
    let mut v = n % 100_000_000;
    for i in (6..14).rev() {
        line[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    line[14] = b' ';
    for j in 0..6u64 {
        let mut z = mix(&[n, j]);
        for c in 0..8 {
            line[15 + (j as usize) * 8 + c] = ALPHABET[(z & 63) as usize];
            z >>= 6;
        }
    }
    line[63] = b'\n';
    line
}

/// Fill `out` with the data-file bytes starting at `offset`.
pub(super) fn fill_data(offset: u64, out: &mut [u8]) {
    let mut pos = offset;
    let mut done = 0;
    while done < out.len() {
        let line = data_line(pos / 64);
        let col = (pos % 64) as usize;
        let n = (64 - col).min(out.len() - done);
        out[done..done + n].copy_from_slice(&line[col..col + n]);
        done += n;
        pos += n as u64;
    }
}

/// The first `size` bytes of the data files, generated a line at a time: `data-1m` is
/// `data_file(1 << 20)` and `data-10m` is `data_file(10 << 20)`. The shell itself serves
/// ranges (see [`fill_data`]); this is for tests that check a whole transfer.
#[cfg(test)]
pub(super) fn data_file(size: usize) -> impl Iterator<Item = u8> {
    DataBytes {
        pos: 0,
        end: size as u64,
        line: [0; 64],
    }
}

#[cfg(test)]
struct DataBytes {
    pos: u64,
    end: u64,
    line: [u8; 64],
}

#[cfg(test)]
impl Iterator for DataBytes {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        if self.pos >= self.end {
            return None;
        }
        let col = (self.pos % 64) as usize;
        if col == 0 {
            self.line = data_line(self.pos / 64);
        }
        self.pos += 1;
        Some(self.line[col])
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.end - self.pos).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Flavor {
    Alpine,
    Debian,
}

/// `a/../b` and `.` resolved against `cwd`.
pub(super) fn resolve(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Dir(Vec<String>),
    File(Vec<Piece>),
}

const OS_RELEASE_ALPINE: &str = "NAME=\"Alpine Linux\"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME=\"Alpine Linux v3.20\"
HOME_URL=\"https://alpinelinux.org/\"
BUG_REPORT_URL=\"https://gitlab.alpinelinux.org/alpine/aports/-/issues\"
";

const OS_RELEASE_DEBIAN: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"12\"
VERSION=\"12 (bookworm)\"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL=\"https://www.debian.org/\"
SUPPORT_URL=\"https://www.debian.org/support\"
BUG_REPORT_URL=\"https://bugs.debian.org/\"
";

pub(super) const KERNEL_RELEASE: &str = "5.10.228-219.884.amzn2.x86_64";

pub(super) const KERNEL_VERSION: &str = "#1 SMP Tue Oct 22 16:38:23 UTC 2024";

pub(super) const AGENT_DIR: &str = "/managed-agents/execute-command";

const AGENT_BINARIES: &[&str] = &["amazon-ssm-agent", "ssm-agent-worker", "ssm-session-worker"];

/// A few bytes that look like the start of an executable.
fn fake_binary(name: &str) -> Vec<Piece> {
    let mut b = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0".to_vec();
    b.extend_from_slice(name.as_bytes());
    b.push(0);
    vec![Piece::Bytes(b)]
}

pub(super) fn is_executable(path: &str) -> bool {
    path.starts_with("/bin/")
        || path.starts_with("/usr/bin/")
        || path.starts_with("/app/")
        || path
            .strip_prefix(AGENT_DIR)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|n| AGENT_BINARIES.contains(&n))
}

impl Shell {
    pub(super) fn app_name(&self) -> String {
        if self.ctx.container.is_empty() {
            "app".into()
        } else {
            self.ctx.container.replace('/', "_")
        }
    }

    /// The task's private address (for `hostname -i` and `/etc/hosts`).
    pub(super) fn ip(&self) -> String {
        let h = hash_str(&self.ctx.task_id);
        format!("10.0.{}.{}", (h >> 8) % 250 + 1, h % 250 + 2)
    }

    /// The node at an absolute, normalised path.
    pub(super) fn node(&self, path: &str) -> Option<Node> {
        fn dir(names: &[&str]) -> Option<Node> {
            Some(Node::Dir(names.iter().map(|s| s.to_string()).collect()))
        }
        fn text(s: String) -> Option<Node> {
            Some(Node::File(vec![Piece::Bytes(s.into_bytes())]))
        }
        let alpine = self.flavor == Flavor::Alpine;
        let task = &self.ctx.task_id;
        match path {
            "/" => dir(&[
                "app",
                "bin",
                "dev",
                "etc",
                "home",
                "lib",
                "managed-agents",
                "proc",
                "root",
                "run",
                "sbin",
                "sys",
                "tmp",
                "usr",
                "var",
            ]),
            "/app" => Some(Node::Dir(vec![self.app_name()])),
            "/bin" => {
                let mut names: Vec<String> = PROGRAMS
                    .iter()
                    .filter(|p| **p != "curl")
                    .map(|p| p.to_string())
                    .collect();
                names.push(if alpine { "busybox" } else { "dash" }.into());
                names.sort();
                names.dedup();
                Some(Node::Dir(names))
            }
            "/dev" => dir(&["null", "pts", "shm"]),
            "/etc" => {
                let release = if alpine {
                    "alpine-release"
                } else {
                    "debian_version"
                };
                dir(&[
                    release,
                    "group",
                    "hostname",
                    "hosts",
                    "os-release",
                    "passwd",
                    "resolv.conf",
                ])
            }
            "/managed-agents" => dir(&["execute-command"]),
            AGENT_DIR => dir(&[
                "amazon-ssm-agent",
                "certs",
                "configuration",
                "ssm-agent-worker",
                "ssm-session-worker",
            ]),
            "/managed-agents/execute-command/certs" => dir(&["tls-ca-bundle.pem"]),
            "/managed-agents/execute-command/configuration" => dir(&["amazon-ssm-agent.json"]),
            "/proc" => dir(&["loadavg", "uptime", "version"]),
            "/usr" => dir(&["bin", "lib", "local", "sbin", "share"]),
            "/usr/bin" => dir(&["curl"]),
            "/usr/local" => dir(&["bin"]),
            "/var" => dir(&["cache", "lib", "log", "tmp"]),
            "/var/lib" => dir(&["berth"]),
            "/var/lib/berth" => dir(&["data-10m", "data-1m"]),
            "/dev/pts" | "/dev/shm" | "/home" | "/lib" | "/root" | "/run" | "/sbin" | "/sys"
            | "/tmp" | "/usr/lib" | "/usr/local/bin" | "/usr/sbin" | "/usr/share"
            | "/var/cache" | "/var/log" | "/var/tmp" => dir(&[]),
            DATA_1M => Some(Node::File(vec![Piece::Data {
                start: 0,
                end: DATA_1M_SIZE,
            }])),
            DATA_10M => Some(Node::File(vec![Piece::Data {
                start: 0,
                end: DATA_10M_SIZE,
            }])),
            "/dev/null" => Some(Node::File(Vec::new())),
            "/etc/os-release" => text(
                if alpine {
                    OS_RELEASE_ALPINE
                } else {
                    OS_RELEASE_DEBIAN
                }
                .into(),
            ),
            "/etc/alpine-release" if alpine => text("3.20.3\n".into()),
            "/etc/debian_version" if !alpine => text("12.7\n".into()),
            "/etc/hostname" => text(format!("{task}\n")),
            "/etc/hosts" => text(format!(
                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{}\t{task}\n",
                self.ip()
            )),
            "/etc/passwd" => text(
                "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"
                    .into(),
            ),
            "/etc/group" => text("root:x:0:root\nnobody:x:65534:\n".into()),
            "/etc/resolv.conf" => text("nameserver 169.254.169.253\n".into()),
            "/proc/version" => text(format!(
                "Linux version {KERNEL_RELEASE} (mockbuild@ip-10-0-39-102) (gcc10-gcc (GCC) \
                 10.5.0 20230707 (Red Hat 10.5.0-1), GNU ld version 2.35.2-9.amzn2.0.1) \
                 {KERNEL_VERSION}\n"
            )),
            "/proc/uptime" => text("1843.27 3571.90\n".into()),
            "/proc/loadavg" => text("0.08 0.03 0.01 1/142 77\n".into()),
            "/managed-agents/execute-command/certs/tls-ca-bundle.pem" => text(
                "-----BEGIN CERTIFICATE-----\n(simulated by the berth sandbox)\n\
                 -----END CERTIFICATE-----\n"
                    .into(),
            ),
            "/managed-agents/execute-command/configuration/amazon-ssm-agent.json" => text(
                "{\n  \"Agent\": {\n    \"Region\": \"\",\n    \"ContainerMode\": true\n  }\n}\n"
                    .into(),
            ),
            p => {
                let (parent, base) = p.rsplit_once('/')?;
                let exists = match parent {
                    "/app" => base == self.app_name(),
                    "/bin" => {
                        matches!(self.node("/bin"), Some(Node::Dir(n)) if n.iter().any(|x| x == base))
                    }
                    "/usr/bin" => base == "curl",
                    AGENT_DIR => AGENT_BINARIES.contains(&base),
                    _ => false,
                };
                exists.then(|| Node::File(fake_binary(base)))
            }
        }
    }

    /// The contents of each operand (`-` or none: standard input), or why not.
    pub(super) fn inputs(
        &self,
        f: &Frame,
        operands: &[String],
        stdin: &[Piece],
    ) -> Vec<(String, Result<Vec<Piece>, &'static str>)> {
        if operands.is_empty() {
            return vec![("-".into(), Ok(stdin.to_vec()))];
        }
        operands
            .iter()
            .map(|o| {
                let r = if o == "-" {
                    Ok(stdin.to_vec())
                } else {
                    match self.node(&resolve(&f.cwd, o)) {
                        Some(Node::File(p)) => Ok(p),
                        Some(Node::Dir(_)) => Err("Is a directory"),
                        None => Err("No such file or directory"),
                    }
                };
                (o.clone(), r)
            })
            .collect()
    }
}
