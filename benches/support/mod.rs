//! What the process benchmarks share: a free port and `berth sandbox` in its own process.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `berth sandbox` listening on `port`, once it accepts connections.
pub fn sandbox(port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["sandbox", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "sandbox did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// One plain HTTP/1.1 request to the sandbox's control routes; the body of the answer.
#[allow(dead_code)]
pub fn http(port: u16, method: &str, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("{e}"));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

/// The demo sandbox's credentials, as environment variables.
pub fn demo_credentials() -> [(&'static str, &'static str); 2] {
    [
        ("AWS_ACCESS_KEY_ID", berth::sandbox::DEMO_ACCESS_KEY_ID),
        (
            "AWS_SECRET_ACCESS_KEY",
            berth::sandbox::DEMO_SECRET_ACCESS_KEY,
        ),
    ]
}
