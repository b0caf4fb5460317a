//! The network as the container sees it: `curl` and `wget` reach only the task's own ports
//! on its own addresses; every other host does not resolve.

use super::Shell;
use super::pieces::Emit;

enum Http {
    Ok(String),
    NotFound,
    Refused,
    Unresolved,
}

/// `[scheme://]host[:port][/path]` → (host, port, path); `Err` for a bad port.
fn parse_url(url: &str) -> Result<(String, u16, String), ()> {
    let (default_port, rest) = if let Some(r) = url.strip_prefix("http://") {
        (80, r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (443, r)
    } else {
        (80, url)
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(h) = authority.strip_prefix('[') {
        match h.split_once(']') {
            Some((h, p)) => (h.to_string(), p.strip_prefix(':')),
            None => return Err(()),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| ())?,
        None => default_port,
    };
    Ok((host, port, path.to_string()))
}

impl Shell {
    fn http_get(&self, host: &str, port: u16, path: &str) -> Http {
        let local = matches!(host, "localhost" | "127.0.0.1" | "0.0.0.0" | "::1")
            || host == self.ctx.task_id
            || host == self.ip();
        if !local {
            return Http::Unresolved;
        }
        if !self.ctx.ports.contains(&port) {
            return Http::Refused;
        }
        let path = path.split('?').next().unwrap_or("/");
        if matches!(path, "/" | "/healthz" | "/health") {
            Http::Ok(format!("ok {}\n", self.ctx.task_id))
        } else {
            Http::NotFound
        }
    }

    pub(super) fn curl(&self, args: &[String], e: &mut Emit) -> i32 {
        let (mut silent, mut show_errors, mut fail, mut include, mut discard) =
            (false, false, false, false, false);
        let mut write_out = None;
        let mut url = None;
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            let mut value_of = |opt: char, i: &mut usize| -> Option<String> {
                *i += 1;
                let v = args.get(*i).cloned();
                if opt == 'o' {
                    discard = v.as_deref() == Some("/dev/null");
                }
                v
            };
            if let Some(long) = a.strip_prefix("--") {
                match long {
                    "silent" => silent = true,
                    "show-error" => show_errors = true,
                    "fail" => fail = true,
                    "include" => include = true,
                    "location" | "insecure" | "verbose" => {}
                    "output" => {
                        value_of('o', &mut i);
                    }
                    "write-out" => write_out = value_of('w', &mut i),
                    "max-time" | "connect-timeout" | "request" | "header" | "data"
                    | "user-agent" => {
                        value_of('x', &mut i);
                    }
                    _ => {
                        e.err(&format!(
                            "curl: option {a}: is unknown\ncurl: try 'curl --help' for more information\n"
                        ));
                        return 2;
                    }
                }
            } else if a.len() > 1 && a.starts_with('-') {
                for (j, c) in a.char_indices().skip(1) {
                    match c {
                        's' => silent = true,
                        'S' => show_errors = true,
                        'f' => fail = true,
                        'i' => include = true,
                        'L' | 'k' | 'v' => {}
                        'o' | 'w' | 'm' | 'X' | 'H' | 'd' | 'A' => {
                            let attached = &a[j + c.len_utf8()..];
                            let v = if attached.is_empty() {
                                value_of(c, &mut i)
                            } else {
                                if c == 'o' {
                                    discard = attached == "/dev/null";
                                }
                                Some(attached.to_string())
                            };
                            if c == 'w' {
                                write_out = v;
                            }
                            break;
                        }
                        _ => {
                            e.err(&format!(
                                "curl: option -{c}: is unknown\ncurl: try 'curl --help' for more information\n"
                            ));
                            return 2;
                        }
                    }
                }
            } else {
                url = Some(a.to_string());
            }
            i += 1;
        }
        let report = |e: &mut Emit, msg: &str| {
            if !silent || show_errors {
                e.err(msg);
            }
        };
        let Some(url) = url else {
            report(
                e,
                "curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information\n",
            );
            return 2;
        };
        let Ok((host, port, path)) = parse_url(&url) else {
            report(
                e,
                "curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535\n",
            );
            return 3;
        };
        let (code, body) = match self.http_get(&host, port, &path) {
            Http::Ok(body) => (200, body),
            Http::NotFound => {
                if fail {
                    report(e, "curl: (22) The requested URL returned error: 404\n");
                    return 22;
                }
                (404, "404 page not found\n".to_string())
            }
            Http::Refused => {
                report(
                    e,
                    &format!(
                        "curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server\n"
                    ),
                );
                return 7;
            }
            Http::Unresolved => {
                report(e, &format!("curl: (6) Could not resolve host: {host}\n"));
                return 6;
            }
        };
        if !discard {
            if include {
                let reason = if code == 200 { "OK" } else { "Not Found" };
                e.out(&format!(
                    "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                ));
            }
            e.out(&body);
        }
        if let Some(w) = write_out {
            e.out(
                &w.replace("%{http_code}", &code.to_string())
                    .replace("\\n", "\n"),
            );
        }
        0
    }

    /// busybox `wget`: only `-O -` / `-qO-` (to standard output) is useful read-only.
    pub(super) fn wget(&self, args: &[String], e: &mut Emit) -> i32 {
        let mut quiet = false;
        let mut to_stdout = false;
        let mut url = None;
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            if a.len() > 1 && a.starts_with('-') {
                if a.contains('q') {
                    quiet = true;
                }
                if let Some(pos) = a.find('O') {
                    let attached = &a[pos + 1..];
                    let target = if attached.is_empty() {
                        i += 1;
                        args.get(i).map(String::as_str).unwrap_or("")
                    } else {
                        attached
                    };
                    to_stdout = target == "-";
                }
            } else {
                url = Some(a.to_string());
            }
            i += 1;
        }
        let Some(url) = url else {
            e.err("BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-q] [-O FILE] URL\n");
            return 1;
        };
        let Ok((host, port, path)) = parse_url(&url) else {
            e.err(&format!("wget: bad address '{url}'\n"));
            return 1;
        };
        if !quiet {
            e.err(&format!("Connecting to {host}:{port} (127.0.0.1:{port})\n"));
        }
        match self.http_get(&host, port, &path) {
            Http::Ok(body) => {
                if to_stdout {
                    e.out(&body);
                    if !quiet {
                        e.err("writing to stdout\n");
                    }
                    0
                } else {
                    let name = path.rsplit('/').next().filter(|n| !n.is_empty());
                    e.err(&format!(
                        "wget: can't open '{}': Read-only file system\n",
                        name.unwrap_or("index.html")
                    ));
                    1
                }
            }
            Http::NotFound => {
                e.err("wget: server returned error: HTTP/1.1 404 Not Found\n");
                1
            }
            Http::Refused => {
                e.err("wget: can't connect to remote host (127.0.0.1): Connection refused\n");
                1
            }
            Http::Unresolved => {
                e.err(&format!("wget: bad address '{host}'\n"));
                1
            }
        }
    }
}
