//! The pty: a canonical-mode line discipline (echo, erase, `^U`, `^W`, `^C`, `^D`), the
//! `onlcr` output translation, the queue of output waiting for the client, and `stty`.

use std::collections::VecDeque;
use std::sync::Arc;

use unicode_width::UnicodeWidthChar;

use super::files::fill_data;
use super::parse::parse_script;
use super::pieces::{Emit, Piece};
use super::run::Kind;
use super::words::SyntaxError;
use super::{BLOCK, LINE_MAX, SCRIPT_CAP, Shell};

#[derive(Debug, Clone)]
pub(super) struct Tty {
    pub(super) echo: bool,
    pub(super) onlcr: bool,
    pub(super) rows: u16,
    pub(super) cols: u16,
}

/// The line being typed into an interactive shell.
#[derive(Debug, Clone, Default)]
pub(super) struct Editor {
    pub(super) buf: Vec<u8>,
    /// Earlier lines of an unfinished command (open quote, trailing `&&`).
    pub(super) cont: String,
    pub(super) need_prompt: bool,
}

/// `\n` → `\r\n`, as a pty does with `onlcr`.
pub(super) fn onlcr(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + bytes.len() / 16);
    for &b in bytes {
        if b == b'\n' {
            v.push(b'\r');
        }
        v.push(b);
    }
    v
}

#[derive(Debug)]
enum Queued {
    Bytes { data: Vec<u8>, pos: usize },
    Data { pos: u64, end: u64, onlcr: bool },
}

/// Output waiting for the client, in order.
#[derive(Debug, Default)]
pub(super) struct OutQueue {
    q: VecDeque<Queued>,
    /// Bytes waiting (data ranges counted before `onlcr`).
    pub(super) pending: u64,
}

impl OutQueue {
    fn push_bytes(&mut self, bytes: &[u8], crlf: bool) {
        if bytes.is_empty() {
            return;
        }
        let bytes = if crlf { onlcr(bytes) } else { bytes.to_vec() };
        self.pending += bytes.len() as u64;
        if let Some(Queued::Bytes { data, .. }) = self.q.back_mut() {
            data.extend_from_slice(&bytes);
        } else {
            self.q.push_back(Queued::Bytes {
                data: bytes,
                pos: 0,
            });
        }
    }

    pub(super) fn push(&mut self, piece: Piece, crlf: bool) {
        match piece {
            Piece::Bytes(b) => self.push_bytes(&b, crlf),
            Piece::Data { start, end } if start < end => {
                self.pending += end - start;
                self.q.push_back(Queued::Data {
                    pos: start,
                    end,
                    onlcr: crlf,
                });
            }
            Piece::Data { .. } => {}
        }
    }

    pub(super) fn read(&mut self, max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < max {
            let Some(front) = self.q.front_mut() else {
                break;
            };
            match front {
                Queued::Bytes { data, pos } => {
                    let n = (max - out.len()).min(data.len() - *pos);
                    out.extend_from_slice(&data[*pos..*pos + n]);
                    *pos += n;
                    self.pending = self.pending.saturating_sub(n as u64);
                    if *pos >= data.len() {
                        self.q.pop_front();
                    }
                }
                Queued::Data {
                    pos,
                    end,
                    onlcr: crlf,
                } => {
                    let n = (*end - *pos).min(BLOCK as u64) as usize;
                    let mut block = vec![0u8; n];
                    fill_data(*pos, &mut block);
                    *pos += n as u64;
                    let done = *pos >= *end;
                    let block = if *crlf { onlcr(&block) } else { block };
                    // The range shrank by n; the block holds its bytes (plus any CRs).
                    self.pending = self.pending.saturating_sub(n as u64) + block.len() as u64;
                    if done {
                        self.q.pop_front();
                    }
                    self.q.push_front(Queued::Bytes {
                        data: block,
                        pos: 0,
                    });
                }
            }
        }
        out
    }

    /// `^C`: what the killed command still had to say is dropped, from its first data
    /// range on (bytes already generated before it stay, as if already on the wire).
    fn drop_streams(&mut self) {
        if let Some(i) = self.q.iter().position(|q| matches!(q, Queued::Data { .. })) {
            self.q.truncate(i);
            self.pending = self
                .q
                .iter()
                .map(|q| match q {
                    Queued::Bytes { data, pos } => (data.len() - pos) as u64,
                    Queued::Data { pos, end, .. } => end - pos,
                })
                .sum();
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// Bytes held in memory (data ranges excluded): what the bounds are about.
    #[cfg(test)]
    pub(super) fn materialized(&self) -> usize {
        self.q
            .iter()
            .map(|q| match q {
                Queued::Bytes { data, .. } => data.len(),
                Queued::Data { .. } => 0,
            })
            .sum()
    }
}

impl Shell {
    fn tty_bytes(&mut self, b: &[u8]) {
        self.out.push_bytes(b, self.tty.onlcr);
    }

    pub(super) fn tty_text(&mut self, s: &str) {
        self.tty_bytes(s.as_bytes());
    }

    /// One byte typed into the interactive shell on top.
    pub(super) fn edit(&mut self, b: u8) {
        let echo = self.tty.echo;
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        let ed = &mut f.editor;
        let mut shown: Vec<u8> = Vec::new();
        let mut line = None;
        let mut eof = false;
        match b {
            b'\r' | b'\n' => {
                shown.push(b'\n');
                line = Some(std::mem::take(&mut ed.buf));
            }
            0x7f | 0x08 => {
                if let Some(w) = erase_last(&mut ed.buf) {
                    for _ in 0..w {
                        shown.extend_from_slice(b"\x08 \x08");
                    }
                }
            }
            // ^U: kill the line.
            0x15 => {
                while let Some(w) = erase_last(&mut ed.buf) {
                    for _ in 0..w {
                        shown.extend_from_slice(b"\x08 \x08");
                    }
                }
            }
            // ^W: erase the word before the cursor.
            0x17 => {
                let mut seen_word = false;
                while let Some(&last) = ed.buf.last() {
                    let space = last == b' ' || last == b'\t';
                    if space && seen_word {
                        break;
                    }
                    seen_word |= !space;
                    if let Some(w) = erase_last(&mut ed.buf) {
                        for _ in 0..w {
                            shown.extend_from_slice(b"\x08 \x08");
                        }
                    }
                }
            }
            0x04 => eof = ed.buf.is_empty(),
            0x1c => shown.extend_from_slice(b"^\\"),
            0x1a => shown.extend_from_slice(b"^Z"),
            // ^C is handled on arrival; nothing to do if one gets here.
            0x03 => {}
            _ => {
                if ed.buf.len() < LINE_MAX {
                    ed.buf.push(b);
                    if b < 0x20 && b != b'\t' {
                        shown.push(b'^');
                        shown.push(b + 0x40);
                    } else {
                        shown.push(b);
                    }
                }
            }
        }
        if echo {
            self.tty_bytes(&shown);
        }
        if eof {
            self.end_of_input();
        }
        if let Some(line) = line {
            self.run_line(&line);
        }
    }

    /// `^D` on an empty line: the shell ends with `$?` (or a syntax error mid-command).
    fn end_of_input(&mut self) {
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        if !f.editor.cont.is_empty() {
            f.status = 2;
            self.tty_text("sh: syntax error: unexpected end of file\n");
            if let Some(f) = self.frames.last_mut() {
                f.done = true;
            }
        } else {
            f.done = true;
        }
    }

    fn run_line(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        let mut src = std::mem::take(&mut f.editor.cont);
        src.push_str(&text);
        match parse_script(&src) {
            Ok(items) => {
                f.items = Arc::from(items);
                f.pc = 0;
                f.editor.need_prompt = true;
            }
            Err(SyntaxError::Incomplete) if src.len() < SCRIPT_CAP => {
                src.push('\n');
                f.editor.cont = src;
                self.tty_text("> ");
            }
            Err(e) => {
                let msg = match e {
                    SyntaxError::Incomplete => "input too long".to_string(),
                    SyntaxError::Bad(m) => m,
                };
                f.status = 2;
                f.editor.need_prompt = true;
                self.tty_text(&format!("sh: syntax error: {msg}\n"));
            }
        }
    }

    /// `^C`: the foreground command dies; the innermost interactive shell prints a new
    /// prompt with `$?` = 130. Without one (a script), the session ends with 130.
    pub(super) fn interrupt(&mut self) {
        if self.final_status.is_some() || self.frames.is_empty() {
            return;
        }
        self.out.drop_streams();
        self.input.clear();
        if self.tty.echo {
            self.tty_text("^C");
        }
        match self
            .frames
            .iter()
            .rposition(|f| f.kind == Kind::Interactive)
        {
            Some(i) => {
                self.frames.truncate(i + 1);
                if let Some(f) = self.frames.last_mut() {
                    f.items = Arc::from(Vec::new());
                    f.pc = 0;
                    f.done = false;
                    f.exit_after_child = false;
                    f.status = 130;
                    f.editor = Editor {
                        need_prompt: true,
                        ..Editor::default()
                    };
                }
                self.tty_text("\n");
            }
            None => {
                self.frames.clear();
                self.final_status = Some(130);
            }
        }
    }

    pub(super) fn stty(&mut self, args: &[String], e: &mut Emit) -> i32 {
        const NO_OPS: &[&str] = &[
            "icanon", "isig", "icrnl", "opost", "ixon", "iexten", "echoe", "echok", "echoctl",
            "echoke", "cooked", "raw",
        ];
        if args.is_empty() || args.iter().all(|a| a == "-a" || a == "-g") {
            let mut s = format!(
                "speed 38400 baud; rows {}; columns {}; line = 0;\n",
                self.tty.rows, self.tty.cols
            );
            let mut off = Vec::new();
            if !self.tty.echo {
                off.push("-echo");
            }
            if !self.tty.onlcr {
                off.push("-onlcr");
            }
            if !off.is_empty() {
                s.push_str(&off.join(" "));
                s.push('\n');
            }
            e.out(&s);
            return 0;
        }
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            match a {
                "size" => e.out(&format!("{} {}\n", self.tty.rows, self.tty.cols)),
                "echo" => self.tty.echo = true,
                "-echo" => self.tty.echo = false,
                "onlcr" => self.tty.onlcr = true,
                "-onlcr" => self.tty.onlcr = false,
                "sane" => {
                    self.tty.echo = true;
                    self.tty.onlcr = true;
                }
                "rows" | "cols" | "columns" => {
                    let Some(n) = args.get(i + 1).and_then(|v| v.parse::<u16>().ok()) else {
                        e.err(&format!("stty: missing or invalid argument to '{a}'\n"));
                        return 1;
                    };
                    if a == "rows" {
                        self.tty.rows = n;
                    } else {
                        self.tty.cols = n;
                    }
                    i += 1;
                }
                _ if NO_OPS.contains(&a.trim_start_matches('-')) => {}
                _ => {
                    e.err(&format!("stty: invalid argument '{a}'\n"));
                    return 1;
                }
            }
            i += 1;
        }
        0
    }
}

/// Remove the last character of a line; how many columns it took on screen.
fn erase_last(buf: &mut Vec<u8>) -> Option<usize> {
    let len = buf.len();
    if len == 0 {
        return None;
    }
    let mut start = len - 1;
    while start > 0 && len - start < 4 && buf[start] & 0xC0 == 0x80 {
        start -= 1;
    }
    let width = match std::str::from_utf8(&buf[start..]) {
        Ok(s) => {
            let mut cs = s.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) if (c as u32) < 0x20 && c != '\t' => 2,
                (Some(c), None) => c.width().unwrap_or(1).max(1),
                _ => {
                    start = len - 1;
                    1
                }
            }
        }
        Err(_) => {
            start = len - 1;
            1
        }
    };
    buf.truncate(start);
    Some(width)
}
