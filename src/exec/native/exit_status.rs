//! The command's exit status, which an ECS Exec session never carries (ECS opens only
//! interactive sessions, and the agent sends an exit code only in non-interactive ones).
//!
//! The command runs under `sh -c` with a wrapper that prints one unique line after it ends:
//! a newline, `__BERTH_EXIT_<nonce>:<status>`, a newline. [`ExitFilter`] recognises that line
//! in the output stream (across message boundaries), removes it with the newline before it,
//! and keeps the status. The marker is printed from two halves (`printf "%s%s"`), so the
//! command line itself (in `ps`, say) never contains it whole. The nonce is random per session.

/// How berth runs the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// What goes to ExecuteCommand.
    pub command: String,
    /// What the output is watched for; `None` when the command runs as given.
    pub marker: Option<String>,
}

/// Quote `s` for a POSIX shell (single quotes, embedded ones as `'\''`).
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `command` wrapped to report its exit status. `scripted` also turns the remote terminal's
/// echo and newline translation off (the output goes to a pipe or file as it was written).
/// `raw` runs the command as given (no `sh` in the container, or the user asked).
pub fn wrap(command: &str, scripted: bool, raw: bool) -> Wrapped {
    if raw {
        return Wrapped {
            command: command.to_string(),
            marker: None,
        };
    }
    let mut nonce = [0u8; 6];
    crate::exec::channel::message::fill_random(&mut nonce);
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let prefix = if scripted {
        "stty -echo -onlcr 2>/dev/null; "
    } else {
        ""
    };
    let script = format!(r#"{prefix}sh -c "$1"; printf "\n%s%s:%s\n" __BERTH_ EXIT_{nonce} "$?""#);
    Wrapped {
        command: format!("sh -c {} berth {}", quote(&script), quote(command)),
        marker: Some(format!("__BERTH_EXIT_{nonce}:")),
    }
}

/// Longest status line tail accepted after the marker (digits and a line end).
const MAX_TAIL: usize = 16;

/// Removes the status line from the output and keeps the status.
#[derive(Debug)]
pub struct ExitFilter {
    marker: Vec<u8>,
    held: Vec<u8>,
    status: Option<i32>,
}

impl ExitFilter {
    pub fn new(marker: &str) -> ExitFilter {
        ExitFilter {
            marker: marker.as_bytes().to_vec(),
            held: Vec::new(),
            status: None,
        }
    }

    pub fn status(&self) -> Option<i32> {
        self.status
    }

    /// The bytes of `input` to show now (some may be held back until the next call, when
    /// they could begin the status line).
    pub fn feed(&mut self, input: &[u8]) -> Vec<u8> {
        self.held.extend_from_slice(input);
        let mut out = Vec::with_capacity(self.held.len());
        loop {
            if self.status.is_some() {
                out.append(&mut self.held);
                return out;
            }
            match find(&self.held, &self.marker) {
                Some(at) => {
                    let tail_start = at + self.marker.len();
                    let tail = &self.held[tail_start..];
                    let Some(nl) = tail.iter().position(|b| *b == b'\n') else {
                        if tail.len() > MAX_TAIL {
                            // Not our line after all: show it.
                            out.append(&mut self.held);
                            return out;
                        }
                        // Wait for the rest of the line; show what precedes it.
                        let start = line_start(&self.held, at);
                        out.extend_from_slice(&self.held[..start]);
                        self.held.drain(..start);
                        return out;
                    };
                    let digits = String::from_utf8_lossy(&tail[..nl]);
                    match digits.trim_end_matches('\r').parse::<i32>() {
                        Ok(code) => {
                            let start = line_start(&self.held, at);
                            out.extend_from_slice(&self.held[..start]);
                            self.held.drain(..tail_start + nl + 1);
                            self.status = Some(code);
                        }
                        Err(_) => {
                            let end = tail_start + nl + 1;
                            out.extend_from_slice(&self.held[..end]);
                            self.held.drain(..end);
                        }
                    }
                }
                None => {
                    let keep = partial_suffix(&self.held, &self.marker);
                    let split = self.held.len() - keep;
                    out.extend_from_slice(&self.held[..split]);
                    self.held.drain(..split);
                    return out;
                }
            }
        }
    }

    /// Whatever is still held (the stream ended).
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.held)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where the status line starts: the marker, or the `\n` / `\r\n` just before it.
fn line_start(held: &[u8], marker_at: usize) -> usize {
    let mut start = marker_at;
    if start > 0 && held[start - 1] == b'\n' {
        start -= 1;
        if start > 0 && held[start - 1] == b'\r' {
            start -= 1;
        }
    }
    start
}

/// How many bytes at the end of `held` could be the beginning of `\r\n` + marker (held back).
fn partial_suffix(held: &[u8], marker: &[u8]) -> usize {
    let mut lead = b"\r\n".to_vec();
    lead.extend_from_slice(marker);
    let max = held.len().min(lead.len());
    for n in (1..=max).rev() {
        let tail = &held[held.len() - n..];
        if lead.starts_with(tail) || lead[1..].starts_with(tail) {
            return n;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_wrapper_quotes_the_command_and_names_a_fresh_marker() {
        let a = wrap("echo 'hi there'; exit 3", false, false);
        let b = wrap("echo hi", false, false);
        assert_ne!(a.marker, b.marker);
        let marker = a.marker.clone().unwrap_or_default();
        assert!(marker.starts_with("__BERTH_EXIT_") && marker.ends_with(':'));
        assert!(
            a.command.starts_with("sh -c 'sh -c \"$1\"; printf "),
            "{}",
            a.command
        );
        assert!(
            a.command
                .ends_with(r#" berth 'echo '\''hi there'\''; exit 3'"#),
            "{}",
            a.command
        );
        // the marker is never whole on the command line
        assert!(!a.command.contains(marker.trim_end_matches(':')));
        let s = wrap("cat /etc/os-release", true, false);
        assert!(
            s.command
                .starts_with("sh -c 'stty -echo -onlcr 2>/dev/null; sh -c"),
            "{}",
            s.command
        );
        let raw = wrap("/bin/sh", false, true);
        assert_eq!(raw.command, "/bin/sh");
        assert_eq!(raw.marker, None);
    }

    #[test]
    fn the_status_line_is_removed_and_its_status_kept() {
        let mut f = ExitFilter::new("__BERTH_EXIT_ab12:");
        let mut shown = f.feed(b"/ # exit 3\r\n");
        shown.extend(f.feed(b"\r\n__BERTH_EXIT_ab12:3\r\n"));
        shown.extend(f.finish());
        assert_eq!(String::from_utf8_lossy(&shown), "/ # exit 3\r\n");
        assert_eq!(f.status(), Some(3));
    }

    #[test]
    fn a_line_split_at_every_byte_is_still_found() {
        let stream = b"hello\n\n__BERTH_EXIT_ab12:127\nafter";
        for cut in 0..stream.len() {
            let mut f = ExitFilter::new("__BERTH_EXIT_ab12:");
            let mut shown = f.feed(&stream[..cut]);
            shown.extend(f.feed(&stream[cut..]));
            shown.extend(f.finish());
            assert_eq!(
                String::from_utf8_lossy(&shown),
                "hello\nafter",
                "cut at {cut}"
            );
            assert_eq!(f.status(), Some(127), "cut at {cut}");
        }
    }

    #[test]
    fn a_prompt_is_never_held_back() {
        let mut f = ExitFilter::new("__BERTH_EXIT_ab12:");
        assert_eq!(f.feed(b"/ # "), b"/ # ".to_vec());
        assert_eq!(
            f.feed(b"_"),
            b"_".to_vec(),
            "an underscore alone cannot start the line"
        );
        // a trailing newline may begin the status line: held until more arrives
        assert_eq!(f.feed(b"ls\r\n"), b"ls".to_vec());
        assert_eq!(f.feed(b"bin\r\n"), b"\r\nbin".to_vec());
    }

    #[test]
    fn something_that_only_looks_like_the_marker_is_shown() {
        let mut f = ExitFilter::new("__BERTH_EXIT_ab12:");
        let mut shown = f.feed(b"\n__BERTH_EXIT_ab12:notanumber\n");
        shown.extend(f.finish());
        assert_eq!(
            String::from_utf8_lossy(&shown),
            "\n__BERTH_EXIT_ab12:notanumber\n"
        );
        assert_eq!(f.status(), None);
        let mut f = ExitFilter::new("__BERTH_EXIT_ab12:");
        let long = format!("\n__BERTH_EXIT_ab12:{}", "9".repeat(40));
        let mut shown = f.feed(long.as_bytes());
        shown.extend(f.finish());
        assert_eq!(String::from_utf8_lossy(&shown), long);
        let mut f = ExitFilter::new("__BERTH_EXIT_ab12:");
        let other = f.feed(b"\n__BERTH_EXIT_ffff:1\n");
        assert_eq!(other, b"\n__BERTH_EXIT_ffff:1".to_vec());
        assert_eq!(f.status(), None);
    }

    proptest! {
        #[test]
        fn everything_but_the_status_line_is_shown_once_in_order(
            before in "[a-z \r\n#/]{0,80}", after in "[a-z \r\n]{0,20}", code in 0i32..256,
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let stream = format!("{before}\n__BERTH_EXIT_ab12:{code}\n{after}");
            let bytes = stream.as_bytes();
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut f = ExitFilter::new("__BERTH_EXIT_ab12:");
            let mut shown = Vec::new();
            let mut last = 0;
            for p in points {
                shown.extend(f.feed(&bytes[last..p]));
                last = p;
            }
            shown.extend(f.feed(&bytes[last..]));
            shown.extend(f.finish());
            let expected = match before.strip_suffix('\r') {
                // "\r\n" + marker: the whole line end goes with it
                Some(b) => format!("{b}{after}"),
                None => format!("{before}{after}"),
            };
            prop_assert_eq!(String::from_utf8_lossy(&shown).to_string(), expected);
            prop_assert_eq!(f.status(), Some(code));
        }
    }
}
