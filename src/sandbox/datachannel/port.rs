//! Port forwarding inside the sandbox: the agent's end of a port session.
//!
//! With an agent version above 3.0.196.0 the data channel carries one smux v1 byte stream in
//! which the client opens a stream per local connection; each stream is connected to its own
//! destination. Older agent versions forward one connection at a time as raw bytes, and the
//! client's DisconnectToPort flag ends it (the next bytes start a new one).
//!
//! Destinations are in-process: the container's HTTP service when the session forwards to one
//! of the task's ports (`GET /healthz` answers `200 ok <task-id>`, other paths 404, one
//! response per connection), an echo when it forwards to a remote host. A port the task does
//! not listen on is answered with the ConnectToPortError flag. Everything is bounded: a request
//! head of at most [`MAX_REQUEST`] bytes, and no more client data taken while
//! [`PENDING_LIMIT`] bytes wait to be sent.

use std::collections::{BTreeMap, VecDeque};

use super::ShellContext;
use crate::exec::channel::message::{Flag, PayloadType};
use crate::exec::channel::smux::{Event, Mux};

/// Largest HTTP request head read.
pub(super) const MAX_REQUEST: usize = 16 * 1024;
/// Bytes waiting to go out before the forward takes no more input.
pub(super) const PENDING_LIMIT: usize = 1024 * 1024;

/// Where the session's connections go.
#[derive(Debug, Clone)]
enum Target {
    Http {
        task_id: String,
    },
    Echo,
    /// Nothing listens on that port.
    Refused,
}

/// One forwarded connection's far end.
enum Destination {
    Http(HttpService),
    Echo { buf: VecDeque<u8>, eof: bool },
}

impl Destination {
    fn input(&mut self, data: &[u8]) {
        match self {
            Destination::Http(h) => h.input(data),
            Destination::Echo { buf, eof } => {
                if !*eof {
                    buf.extend(data);
                }
            }
        }
    }

    /// The client's side will send no more.
    fn eof(&mut self) {
        match self {
            Destination::Http(h) => h.eof(),
            Destination::Echo { eof, .. } => *eof = true,
        }
    }

    fn read(&mut self, max: usize) -> Vec<u8> {
        let buf = match self {
            Destination::Http(h) => &mut h.out,
            Destination::Echo { buf, .. } => buf,
        };
        let n = max.min(buf.len());
        buf.drain(..n).collect()
    }

    fn pending(&self) -> usize {
        match self {
            Destination::Http(h) => h.out.len(),
            Destination::Echo { buf, .. } => buf.len(),
        }
    }

    /// Everything said, and this end has closed.
    fn done(&self) -> bool {
        match self {
            Destination::Http(h) => h.answered && h.out.is_empty(),
            Destination::Echo { buf, eof } => *eof && buf.is_empty(),
        }
    }
}

/// The container's HTTP service: reads one request head, answers, closes.
struct HttpService {
    task_id: String,
    request: Vec<u8>,
    out: VecDeque<u8>,
    answered: bool,
}

impl HttpService {
    fn new(task_id: &str) -> HttpService {
        HttpService {
            task_id: task_id.to_string(),
            request: Vec::new(),
            out: VecDeque::new(),
            answered: false,
        }
    }

    fn input(&mut self, data: &[u8]) {
        if self.answered {
            return;
        }
        let room = MAX_REQUEST.saturating_sub(self.request.len());
        self.request
            .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        if let Some(end) = find(&self.request, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&self.request[..end]).to_string();
            self.answer_head(&head);
        } else if self.request.len() >= MAX_REQUEST {
            self.respond(
                431,
                "Request Header Fields Too Large",
                "request too large\n",
                true,
            );
        }
    }

    fn eof(&mut self) {
        if !self.answered {
            if self.request.is_empty() {
                self.answered = true;
            } else {
                self.respond(400, "Bad Request", "incomplete request\n", true);
            }
        }
    }

    fn answer_head(&mut self, head: &str) {
        let line = head.lines().next().unwrap_or_default();
        let mut parts = line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return self.respond(400, "Bad Request", "bad request line\n", true);
        };
        if !version.starts_with("HTTP/1.") {
            return self.respond(400, "Bad Request", "unsupported version\n", true);
        }
        let path = target.split('?').next().unwrap_or_default();
        let body = format!("ok {}\n", self.task_id);
        match (method, path) {
            ("GET", "/healthz") => self.respond(200, "OK", &body, true),
            ("HEAD", "/healthz") => self.respond(200, "OK", &body, false),
            (_, "/healthz") => {
                self.respond(405, "Method Not Allowed", "method not allowed\n", true)
            }
            _ => self.respond(404, "Not Found", "not found\n", true),
        }
    }

    fn respond(&mut self, status: u16, reason: &str, body: &str, with_body: bool) {
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nServer: berth-sandbox\r\n\r\n",
            body.len()
        );
        self.out.extend(head.as_bytes());
        if with_body {
            self.out.extend(body.as_bytes());
        }
        self.answered = true;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

enum Mode {
    /// One raw connection at a time; `refused` once ConnectToPortError was sent for it.
    Basic {
        dest: Option<Destination>,
        refused: bool,
    },
    /// smux streams, each to its own destination; `out` is the smux byte stream to send.
    Mux {
        mux: Mux,
        streams: BTreeMap<u32, Destination>,
        out: VecDeque<u8>,
    },
}

/// A port session's forwarding.
pub(super) struct Forward {
    target: Target,
    mode: Mode,
    flags: VecDeque<Flag>,
    broken: Option<String>,
}

impl Forward {
    pub(super) fn new(
        container: &ShellContext,
        port: &str,
        host: Option<&str>,
        mux: bool,
    ) -> Forward {
        let target = match (host, port.trim().parse::<u16>()) {
            (Some(_), Ok(p)) if p > 0 => Target::Echo,
            (None, Ok(p)) if container.ports.contains(&p) => Target::Http {
                task_id: container.task_id.clone(),
            },
            _ => Target::Refused,
        };
        let mode = if mux {
            Mode::Mux {
                mux: Mux::server(),
                streams: BTreeMap::new(),
                out: VecDeque::new(),
            }
        } else {
            Mode::Basic {
                dest: None,
                refused: false,
            }
        };
        Forward {
            target,
            mode,
            flags: VecDeque::new(),
            broken: None,
        }
    }

    fn connect(target: &Target) -> Option<Destination> {
        match target {
            Target::Http { task_id } => Some(Destination::Http(HttpService::new(task_id))),
            Target::Echo => Some(Destination::Echo {
                buf: VecDeque::new(),
                eof: false,
            }),
            Target::Refused => None,
        }
    }

    /// Bytes from the client's side.
    pub(super) fn input(&mut self, data: &[u8]) {
        match &mut self.mode {
            Mode::Basic { dest, refused } => {
                if dest.is_none() {
                    *dest = Self::connect(&self.target);
                }
                match dest {
                    Some(d) => d.input(data),
                    None if !*refused => {
                        *refused = true;
                        self.flags.push_back(Flag::ConnectToPortError);
                    }
                    None => {}
                }
            }
            Mode::Mux { mux, streams, out } => {
                let events = match mux.receive(data) {
                    Ok(e) => e,
                    Err(e) => {
                        self.broken = Some(format!("Port forwarding stream failed: {e}"));
                        return;
                    }
                };
                for event in events {
                    match event {
                        Event::Opened(id) => match Self::connect(&self.target) {
                            Some(d) => {
                                streams.insert(id, d);
                            }
                            None => {
                                self.flags.push_back(Flag::ConnectToPortError);
                                out.extend(mux.close(id));
                            }
                        },
                        Event::Data(id, bytes) => {
                            if let Some(d) = streams.get_mut(&id) {
                                d.input(&bytes);
                            }
                        }
                        Event::Closed(id) => {
                            if let Some(d) = streams.get_mut(&id) {
                                d.eof();
                            }
                        }
                    }
                }
                out.extend(mux.take_output());
            }
        }
    }

    /// A flag from the client: DisconnectToPort ends the basic mode's connection.
    pub(super) fn flag(&mut self, flag: Flag) {
        if flag == Flag::DisconnectToPort
            && let Mode::Basic { dest, refused } = &mut self.mode
        {
            *dest = None;
            *refused = false;
        }
    }

    /// Whether more client data can be taken now.
    pub(super) fn ready(&self) -> bool {
        let pending = match &self.mode {
            Mode::Basic { dest, .. } => dest.as_ref().map_or(0, Destination::pending),
            Mode::Mux { streams, out, .. } => {
                out.len() + streams.values().map(Destination::pending).sum::<usize>()
            }
        };
        pending < PENDING_LIMIT
    }

    /// The next message for the client: a flag, or up to `max` bytes.
    pub(super) fn next(&mut self, max: usize) -> Option<(PayloadType, Vec<u8>)> {
        if let Some(flag) = self.flags.pop_front() {
            return Some((PayloadType::FLAG, flag.to_payload()));
        }
        let data = match &mut self.mode {
            Mode::Basic { dest, .. } => dest.as_mut().map(|d| d.read(max)).unwrap_or_default(),
            Mode::Mux { mux, streams, out } => {
                // move what the destinations said into the smux stream, closing finished ones
                let ids: Vec<u32> = streams.keys().copied().collect();
                for id in ids {
                    if out.len() >= max {
                        break;
                    }
                    let Some(d) = streams.get_mut(&id) else {
                        continue;
                    };
                    let chunk = d.read(max);
                    if !chunk.is_empty() {
                        out.extend(mux.write(id, &chunk));
                    }
                    if d.done() {
                        streams.remove(&id);
                        out.extend(mux.close(id));
                    }
                }
                let n = max.min(out.len());
                out.drain(..n).collect()
            }
        };
        (!data.is_empty()).then_some((PayloadType::OUTPUT, data))
    }

    /// Why the session cannot go on (a broken smux stream).
    pub(super) fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container() -> ShellContext {
        ShellContext {
            task_id: "abc123".into(),
            ports: vec![8080],
            ..ShellContext::default()
        }
    }

    fn drain(f: &mut Forward) -> Vec<(PayloadType, Vec<u8>)> {
        std::iter::from_fn(|| f.next(4096)).collect()
    }

    #[test]
    fn basic_mode_answers_healthz_and_a_disconnect_starts_over() {
        let mut f = Forward::new(&container(), "8080", None, false);
        f.input(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        let out: Vec<u8> = drain(&mut f).into_iter().flat_map(|(_, d)| d).collect();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nok abc123\n"), "{text}");
        f.input(b"GET /healthz HTTP/1.1\r\n\r\n");
        assert!(drain(&mut f).is_empty(), "one response per connection");
        f.flag(Flag::DisconnectToPort);
        f.input(b"GET /nope HTTP/1.0\r\n\r\n");
        let out: Vec<u8> = drain(&mut f).into_iter().flat_map(|(_, d)| d).collect();
        assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 404 Not Found"));
    }

    #[test]
    fn a_port_nobody_listens_on_is_refused_with_the_flag() {
        let mut f = Forward::new(&container(), "9999", None, false);
        f.input(b"GET / HTTP/1.1\r\n\r\n");
        f.input(b"more");
        assert_eq!(
            drain(&mut f),
            vec![(PayloadType::FLAG, Flag::ConnectToPortError.to_payload())]
        );
    }

    #[test]
    fn smux_streams_each_reach_their_own_destination() {
        let mut client = Mux::client();
        let mut f = Forward::new(&container(), "8080", Some("db.internal"), true);
        let a = client.open().unwrap_or(0);
        let b = client.open().unwrap_or(0);
        let mut wire = client.take_output();
        wire.extend(client.write(a, b"ping-a"));
        wire.extend(client.write(b, b"ping-b"));
        wire.extend(client.close(a));
        // cut anywhere
        for piece in wire.chunks(5) {
            f.input(piece);
        }
        let back: Vec<u8> = drain(&mut f).into_iter().flat_map(|(_, d)| d).collect();
        let events = client.receive(&back).unwrap_or_default();
        assert!(
            events.contains(&Event::Data(a, b"ping-a".to_vec())),
            "{events:?}"
        );
        assert!(
            events.contains(&Event::Data(b, b"ping-b".to_vec())),
            "{events:?}"
        );
        assert!(events.contains(&Event::Closed(a)), "{events:?}");
        assert!(!events.contains(&Event::Closed(b)), "{events:?}");
    }

    #[test]
    fn a_huge_request_head_is_bounded() {
        let mut f = Forward::new(&container(), "8080", None, false);
        for _ in 0..100 {
            f.input(&[b'a'; 1024]);
        }
        let out: Vec<u8> = drain(&mut f).into_iter().flat_map(|(_, d)| d).collect();
        assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 431"));
    }
}
