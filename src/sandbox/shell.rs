//! The simulated container shell behind the sandbox's Session Manager data channel.
//!
//! The sandbox plays the SSM gateway and agent; this module plays what the agent would run
//! inside the container: a pty-backed `sh`. Nothing here runs a real process or reads a real
//! file: the filesystem, the processes and the network are a small, deterministic fiction
//! built from the task's [`ShellContext`].
//!
//! The model, in the order the bytes flow:
//! - [`Shell::start`] splits the ExecuteCommand string into words as the agent does (quotes,
//!   `$VAR`) and runs it once. `sh`/`bash` without arguments is an interactive shell;
//!   `sh -c SCRIPT [arg0 args...]` runs SCRIPT; any other word is a command run once.
//! - A script is a list of simple commands joined by `;`, `&&`, `||`, newlines and `|`, with
//!   quoting, parameter expansion (`$1`, `$?`, `${VAR:-x}`, ...), field splitting and the
//!   redirections a wrapper needs (`2>/dev/null`, `>/dev/null`, `2>&1`, `< FILE`). Shells
//!   nest: a script statement that is `sh` starts an interactive sub-shell reading the
//!   client's keystrokes; when it exits, the script goes on with `$?` set.
//! - The terminal is a canonical-mode line discipline: echo (unless `stty -echo`), erase,
//!   `^U`/`^W`, CR or LF ends a line, `^C` interrupts (it is handled when it arrives, as the
//!   kernel does, so it can stop a long `cat`), `^D` on an empty line is end of input, and
//!   output `\n` becomes `\r\n` while `onlcr` is on.
//! - Output is queued as pieces: bytes, or ranges of the generated data files, which are
//!   produced a block at a time as the client reads. The shell stops working ahead once
//!   64 KiB are pending, like a process blocked on a full pty, so memory stays bounded
//!   whatever is typed, and a command's own output is capped.
//!
//! Not simulated, on purpose: writing files (every path is read-only), command
//! substitution, here-documents, globbing, loops, job control. A command's standard input
//! is its pipeline predecessor or a `< FILE`, else empty: `cat` alone prints nothing rather
//! than reading the terminal. `curl -s` hides its error message as curl does (`-sS` shows
//! it). `date` follows [`Shell::set_clock`] when the server sets it.
//!
//! The data files `/var/lib/berth/data-1m` and `/var/lib/berth/data-10m` are prefixes of
//! one endless sequence of 64-byte printable lines (see [`data_file`]), so tests can check
//! transfers of 1 and 10 MiB end to end by checksum.

// Until the data-channel server drives it, only the tests use this module.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::Arc;

use unicode_width::UnicodeWidthChar;

use super::rng::{hash_str, mix};

/// Path of the 1 MiB data file.
pub(crate) const DATA_1M: &str = "/var/lib/berth/data-1m";
/// Path of the 10 MiB data file.
pub(crate) const DATA_10M: &str = "/var/lib/berth/data-10m";
/// Size of [`DATA_1M`].
pub(crate) const DATA_1M_SIZE: u64 = 1 << 20;
/// Size of [`DATA_10M`].
pub(crate) const DATA_10M_SIZE: u64 = 10 << 20;

/// Longest line the line discipline keeps (like Linux's `N_TTY_BUF_SIZE` less the newline).
const LINE_MAX: usize = 4095;
/// Keystrokes waiting to be read by the shell; more are dropped.
const INPUT_CAP: usize = 64 * 1024;
/// The shell stops producing output while this much is waiting to be read.
const HIGH_WATER: u64 = 64 * 1024;
/// Bytes one command may produce (data-file ranges are not counted: they are lazy).
const CMD_OUTPUT_CAP: usize = 256 * 1024;
/// Longest ExecuteCommand string and longest multi-line interactive input.
const SCRIPT_CAP: usize = 64 * 1024;
/// Nested shells at once, and shells started in one session.
const MAX_DEPTH: usize = 32;
const MAX_SPAWNS: u32 = 1000;
/// Data files are generated this many bytes at a time.
const BLOCK: usize = 4096;
/// Scans (checksums, counts) read the data files this many bytes at a time.
const SCAN_BLOCK: usize = 64 * 1024;

/// What the shell knows about the container it pretends to run in.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShellContext {
    pub task_id: String,
    pub container: String,
    pub image: String,
    pub env: Vec<(String, String)>,
    /// Names of variables ECS fills from Secrets Manager or Parameter Store; their values
    /// are never known to the sandbox, so they show as empty.
    pub secret_names: Vec<String>,
    /// Container ports the application listens on (for `curl localhost:<port>`).
    pub ports: Vec<u16>,
    pub cluster: String,
}

// ---------------------------------------------------------------------------------------
// Data files

/// Line `n` of the data files: `berth NNNNNNNN ` (line number modulo 10^8), 48 characters
/// from a URL-safe base64 alphabet, then `\n`: 64 bytes, all printable.
fn data_line(n: u64) -> [u8; 64] {
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
fn fill_data(offset: u64, out: &mut [u8]) {
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
/// `data_file(1 << 20)` and `data-10m` is `data_file(10 << 20)`.
pub(crate) fn data_file(size: usize) -> impl Iterator<Item = u8> {
    DataBytes {
        pos: 0,
        end: size as u64,
        line: [0; 64],
    }
}

struct DataBytes {
    pos: u64,
    end: u64,
    line: [u8; 64],
}

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

// ---------------------------------------------------------------------------------------
// Output pieces and the pty's output queue

/// A run of output: literal bytes, or a range of the data files (generated when read).
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Bytes(Vec<u8>),
    Data { start: u64, end: u64 },
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Bytes(b) => b.len() as u64,
            Piece::Data { start, end } => end - start,
        }
    }
}

fn total_len(pieces: &[Piece]) -> u64 {
    pieces.iter().map(Piece::len).sum()
}

/// Call `f` with consecutive blocks of the pieces' bytes until it returns false.
fn for_each_block(pieces: &[Piece], mut f: impl FnMut(&[u8]) -> bool) {
    let mut buf = Vec::new();
    for p in pieces {
        match p {
            Piece::Bytes(b) => {
                if !b.is_empty() && !f(b) {
                    return;
                }
            }
            Piece::Data { start, end } => {
                let mut pos = *start;
                while pos < *end {
                    let n = (*end - pos).min(SCAN_BLOCK as u64) as usize;
                    buf.resize(n, 0);
                    fill_data(pos, &mut buf);
                    if !f(&buf) {
                        return;
                    }
                    pos += n as u64;
                }
            }
        }
    }
}

/// Bytes `from..to` of the concatenated pieces.
fn slice_pieces(pieces: &[Piece], from: u64, to: u64) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut base = 0u64;
    for p in pieces {
        let len = p.len();
        let (lo, hi) = (from.max(base), to.min(base + len));
        if lo < hi {
            let (a, b) = (lo - base, hi - base);
            match p {
                Piece::Bytes(v) => out.push(Piece::Bytes(v[a as usize..b as usize].to_vec())),
                Piece::Data { start, .. } => out.push(Piece::Data {
                    start: start + a,
                    end: start + b,
                }),
            }
        }
        base += len;
    }
    out
}

/// Offset just past the `n`-th newline (1-based), if there are that many.
fn nth_newline_end(pieces: &[Piece], n: u64) -> Option<u64> {
    if n == 0 {
        return Some(0);
    }
    let mut seen = 0u64;
    let mut base = 0u64;
    let mut found = None;
    for_each_block(pieces, |b| {
        for (i, &c) in b.iter().enumerate() {
            if c == b'\n' {
                seen += 1;
                if seen == n {
                    found = Some(base + i as u64 + 1);
                    return false;
                }
            }
        }
        base += b.len() as u64;
        true
    });
    found
}

/// Call `f` with each line (without its `\n`); lines longer than 64 KiB are cut.
fn for_each_line(pieces: &[Piece], mut f: impl FnMut(&[u8]) -> bool) {
    let mut cur: Vec<u8> = Vec::new();
    let mut go = true;
    for_each_block(pieces, |b| {
        for &c in b {
            if c == b'\n' {
                if !f(&cur) {
                    go = false;
                    return false;
                }
                cur.clear();
            } else if cur.len() < SCAN_BLOCK {
                cur.push(c);
            }
        }
        true
    });
    if go && !cur.is_empty() {
        f(&cur);
    }
}

/// `\n` → `\r\n`, as a pty does with `onlcr`.
fn onlcr(bytes: &[u8]) -> Vec<u8> {
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
struct OutQueue {
    q: VecDeque<Queued>,
    /// Bytes waiting (data ranges counted before `onlcr`).
    pending: u64,
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

    fn push(&mut self, piece: Piece, crlf: bool) {
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

    fn read(&mut self, max: usize) -> Vec<u8> {
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

    fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// Bytes held in memory (data ranges excluded): what the bounds are about.
    fn materialized(&self) -> usize {
        self.q
            .iter()
            .map(|q| match q {
                Queued::Bytes { data, .. } => data.len(),
                Queued::Data { .. } => 0,
            })
            .sum()
    }
}

// ---------------------------------------------------------------------------------------
// Words, tokens and the parser

/// Part of a word, remembering whether it was quoted (quoted parts are not field-split).
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String, bool),
    Param {
        name: String,
        default: Option<String>,
        quoted: bool,
    },
    /// A leading unquoted `~`: `$HOME`.
    Tilde,
}

type Word = Vec<Part>;

fn literal_word(s: &str) -> Word {
    vec![Part::Lit(s.to_string(), true)]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Semi,
    Newline,
    And,
    Or,
    Pipe,
    Amp,
}

impl Op {
    fn shown(self) -> &'static str {
        match self {
            Op::Semi => "\";\"",
            Op::Newline => "newline",
            Op::And => "\"&&\"",
            Op::Or => "\"||\"",
            Op::Pipe => "\"|\"",
            Op::Amp => "\"&\"",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RedirOp {
    /// `>`, `>|`
    Out,
    /// `>>`
    Append,
    /// `<`
    In,
    /// `>&`
    DupOut,
    /// `<&`
    DupIn,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word),
    Op(Op),
    Redir(Option<u32>, RedirOp),
}

#[derive(Debug, Clone, PartialEq)]
enum SyntaxError {
    /// More input would complete it (open quote, trailing `&&`, `|` or `\`).
    Incomplete,
    Bad(String),
}

fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    ops: bool,
    toks: Vec<Tok>,
    word: Word,
    lit: String,
    in_word: bool,
}

impl Lexer<'_> {
    fn flush_lit(&mut self) {
        if !self.lit.is_empty() {
            self.word
                .push(Part::Lit(std::mem::take(&mut self.lit), false));
        }
    }

    fn end_word(&mut self) {
        self.flush_lit();
        if self.in_word {
            self.toks.push(Tok::Word(std::mem::take(&mut self.word)));
            self.in_word = false;
        }
    }

    /// `2` in `2>/dev/null`: a word of digits right before the operator.
    fn take_io_number(&mut self) -> Option<u32> {
        if self.in_word
            && self.word.is_empty()
            && !self.lit.is_empty()
            && self.lit.chars().all(|c| c.is_ascii_digit())
        {
            let n = self.lit.parse().ok()?;
            self.lit.clear();
            self.in_word = false;
            return Some(n);
        }
        None
    }

    fn single_quoted(&mut self) -> Result<(), SyntaxError> {
        self.flush_lit();
        self.in_word = true;
        let mut s = String::new();
        loop {
            match self.chars.next() {
                None => return Err(SyntaxError::Incomplete),
                Some('\'') => break,
                Some(c) => s.push(c),
            }
        }
        self.word.push(Part::Lit(s, true));
        Ok(())
    }

    fn double_quoted(&mut self) -> Result<(), SyntaxError> {
        self.flush_lit();
        self.in_word = true;
        let mut s = String::new();
        loop {
            match self.chars.next() {
                None => return Err(SyntaxError::Incomplete),
                Some('"') => break,
                Some('\\') => match self.chars.next() {
                    None => return Err(SyntaxError::Incomplete),
                    Some('\n') => {}
                    Some(c @ ('$' | '`' | '"' | '\\')) => s.push(c),
                    Some(c) => {
                        s.push('\\');
                        s.push(c);
                    }
                },
                Some('$') => {
                    if !s.is_empty() {
                        self.word.push(Part::Lit(std::mem::take(&mut s), true));
                    }
                    self.dollar(true)?;
                }
                Some('`') => return Err(not_simulated("command substitution")),
                Some(c) => s.push(c),
            }
        }
        // Always pushed, so that `""` is an (empty) field.
        self.word.push(Part::Lit(s, true));
        Ok(())
    }

    fn dollar(&mut self, quoted: bool) -> Result<(), SyntaxError> {
        self.flush_lit();
        self.in_word = true;
        let param = |name: String, default| Part::Param {
            name,
            default,
            quoted,
        };
        match self.chars.peek().copied() {
            Some('{') => {
                self.chars.next();
                let mut s = String::new();
                loop {
                    match self.chars.next() {
                        None => return Err(SyntaxError::Incomplete),
                        Some('}') => break,
                        Some(c) => s.push(c),
                    }
                }
                let (name, default) = match s.split_once(":-") {
                    Some((n, d)) => (n.to_string(), Some(d.to_string())),
                    None => (s, None),
                };
                let special = name.len() == 1 && "?#@*$!-".contains(name.as_str());
                let digits = !name.is_empty() && name.chars().all(|c| c.is_ascii_digit());
                if !(is_name(&name) || special || digits) {
                    return Err(SyntaxError::Bad("bad substitution".into()));
                }
                self.word.push(param(name, default));
            }
            Some('(') => return Err(not_simulated("command substitution")),
            Some(c) if c.is_ascii_digit() || "?#@*$!-".contains(c) => {
                self.chars.next();
                self.word.push(param(c.to_string(), None));
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let mut name = String::new();
                while let Some(&c) = self.chars.peek() {
                    if c == '_' || c.is_ascii_alphanumeric() {
                        name.push(c);
                        self.chars.next();
                    } else {
                        break;
                    }
                }
                self.word.push(param(name, None));
            }
            _ => self.word.push(Part::Lit("$".into(), quoted)),
        }
        Ok(())
    }
}

fn not_simulated(what: &str) -> SyntaxError {
    SyntaxError::Bad(format!("{what} is not simulated in the berth sandbox"))
}

/// Split `src` into tokens. With `ops` false (the ExecuteCommand string as the agent splits
/// it) only words exist: `;`, `|`, `>` are ordinary characters.
fn lex(src: &str, ops: bool) -> Result<Vec<Tok>, SyntaxError> {
    let mut lx = Lexer {
        chars: src.chars().peekable(),
        ops,
        toks: Vec::new(),
        word: Vec::new(),
        lit: String::new(),
        in_word: false,
    };
    while let Some(c) = lx.chars.next() {
        match c {
            ' ' | '\t' | '\r' => lx.end_word(),
            '\n' => {
                lx.end_word();
                if lx.ops {
                    lx.toks.push(Tok::Op(Op::Newline));
                }
            }
            ';' | '&' | '|' if lx.ops => {
                lx.end_word();
                let next = lx.chars.peek().copied();
                let op = match (c, next) {
                    ('&', Some('&')) => {
                        lx.chars.next();
                        Op::And
                    }
                    ('|', Some('|')) => {
                        lx.chars.next();
                        Op::Or
                    }
                    (';', Some(';')) => return Err(SyntaxError::Bad("unexpected \";;\"".into())),
                    ('&', _) => Op::Amp,
                    ('|', _) => Op::Pipe,
                    _ => Op::Semi,
                };
                lx.toks.push(Tok::Op(op));
            }
            '>' | '<' if lx.ops => {
                let fd = lx.take_io_number();
                lx.end_word();
                let next = lx.chars.peek().copied();
                let op = match (c, next) {
                    ('>', Some('>')) => Some(RedirOp::Append),
                    ('>', Some('&')) => Some(RedirOp::DupOut),
                    ('>', Some('|')) => Some(RedirOp::Out),
                    ('<', Some('&')) => Some(RedirOp::DupIn),
                    ('<', Some('<')) => return Err(not_simulated("a here-document")),
                    _ => None,
                };
                let op = match op {
                    Some(op) => {
                        lx.chars.next();
                        op
                    }
                    None if c == '>' => RedirOp::Out,
                    None => RedirOp::In,
                };
                lx.toks.push(Tok::Redir(fd, op));
            }
            '#' if lx.ops && !lx.in_word => {
                while let Some(&n) = lx.chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    lx.chars.next();
                }
            }
            '\\' => match lx.chars.next() {
                None => return Err(SyntaxError::Incomplete),
                Some('\n') => {}
                Some(n) => {
                    lx.flush_lit();
                    lx.word.push(Part::Lit(n.to_string(), true));
                    lx.in_word = true;
                }
            },
            '\'' => lx.single_quoted()?,
            '"' => lx.double_quoted()?,
            '$' => lx.dollar(false)?,
            '`' => return Err(not_simulated("command substitution")),
            '~' if !lx.in_word
                && matches!(
                    lx.chars.peek(),
                    None | Some('/' | ' ' | '\t' | '\n' | ';' | '&' | '|')
                ) =>
            {
                lx.word.push(Part::Tilde);
                lx.in_word = true;
            }
            _ => {
                lx.lit.push(c);
                lx.in_word = true;
            }
        }
    }
    lx.end_word();
    Ok(lx.toks)
}

#[derive(Debug, Clone, PartialEq)]
struct Redir {
    fd: Option<u32>,
    op: RedirOp,
    target: Word,
}

/// A simple command: assignments, words, redirections.
#[derive(Debug, Clone, Default, PartialEq)]
struct Cmd {
    assigns: Vec<(String, Word)>,
    words: Vec<Word>,
    redirs: Vec<Redir>,
}

impl Cmd {
    fn is_empty(&self) -> bool {
        self.assigns.is_empty() && self.words.is_empty() && self.redirs.is_empty()
    }
}

/// How a pipeline hangs on the one before it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Conn {
    Seq,
    And,
    Or,
}

/// One pipeline of a flattened and-or list: run when `conn` allows, given `$?`.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    conn: Conn,
    pipeline: Vec<Cmd>,
}

/// `NAME=value` at the start of a command.
fn assignment(w: &Word) -> Option<(String, Word)> {
    let Some(Part::Lit(first, false)) = w.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if !is_name(name) {
        return None;
    }
    let mut value = Vec::with_capacity(w.len());
    if !rest.is_empty() {
        value.push(Part::Lit(rest.to_string(), false));
    }
    value.extend(w[1..].iter().cloned());
    Some((name.to_string(), value))
}

fn parse(toks: Vec<Tok>) -> Result<Vec<Item>, SyntaxError> {
    let mut items = Vec::new();
    let mut pipeline: Vec<Cmd> = Vec::new();
    let mut cmd = Cmd::default();
    let mut conn = Conn::Seq;
    let mut need_cmd = false;
    let mut it = toks.into_iter();
    while let Some(t) = it.next() {
        match t {
            Tok::Word(w) => {
                need_cmd = false;
                if cmd.words.is_empty()
                    && let Some(a) = assignment(&w)
                {
                    cmd.assigns.push(a);
                    continue;
                }
                cmd.words.push(w);
            }
            Tok::Redir(fd, op) => {
                need_cmd = false;
                match it.next() {
                    Some(Tok::Word(target)) => cmd.redirs.push(Redir { fd, op, target }),
                    Some(Tok::Op(o)) => {
                        return Err(SyntaxError::Bad(format!("unexpected {}", o.shown())));
                    }
                    Some(Tok::Redir(..)) => {
                        return Err(SyntaxError::Bad("unexpected redirection".into()));
                    }
                    None => return Err(SyntaxError::Bad("unexpected newline".into())),
                }
            }
            Tok::Op(Op::Newline) if cmd.is_empty() => {}
            Tok::Op(op) => {
                if cmd.is_empty() {
                    return Err(SyntaxError::Bad(format!("unexpected {}", op.shown())));
                }
                pipeline.push(std::mem::take(&mut cmd));
                if op == Op::Pipe {
                    need_cmd = true;
                    continue;
                }
                items.push(Item {
                    conn,
                    pipeline: std::mem::take(&mut pipeline),
                });
                (conn, need_cmd) = match op {
                    Op::And => (Conn::And, true),
                    Op::Or => (Conn::Or, true),
                    _ => (Conn::Seq, false),
                };
            }
        }
    }
    if need_cmd {
        return Err(SyntaxError::Incomplete);
    }
    if !cmd.is_empty() {
        pipeline.push(cmd);
        items.push(Item { conn, pipeline });
    }
    Ok(items)
}

fn parse_script(src: &str) -> Result<Vec<Item>, SyntaxError> {
    parse(lex(src, true)?)
}

// ---------------------------------------------------------------------------------------
// The shell

#[derive(Debug, Clone, Copy, PartialEq)]
enum Flavor {
    Alpine,
    Debian,
}

#[derive(Debug, Clone)]
struct Tty {
    echo: bool,
    onlcr: bool,
    rows: u16,
    cols: u16,
}

#[derive(Debug, Clone, PartialEq)]
struct Var {
    name: String,
    value: String,
    exported: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// What the agent runs: the ExecuteCommand words, once. Not a shell.
    Bootstrap,
    /// `sh -c SCRIPT`.
    Script,
    /// `sh` reading the terminal.
    Interactive,
}

/// The line being typed into an interactive shell.
#[derive(Debug, Clone, Default)]
struct Editor {
    buf: Vec<u8>,
    /// Earlier lines of an unfinished command (open quote, trailing `&&`).
    cont: String,
    need_prompt: bool,
}

/// One running shell (or the bootstrap command).
#[derive(Debug, Clone)]
struct Frame {
    kind: Kind,
    pid: u32,
    /// `$0`
    name: String,
    /// `$1`...
    args: Vec<String>,
    vars: Vec<Var>,
    cwd: String,
    /// `$?`
    status: i32,
    items: Arc<[Item]>,
    pc: usize,
    done: bool,
    /// Set by `exec sh`: when the child ends, this shell ends with its status.
    exit_after_child: bool,
    /// What `ps` shows.
    cmdline: String,
    editor: Editor,
}

impl Frame {
    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.as_str())
    }

    fn set_var(&mut self, name: &str, value: String, export: bool) {
        match self.vars.iter_mut().find(|v| v.name == name) {
            Some(v) => {
                v.value = value;
                v.exported |= export;
            }
            None => self.vars.push(Var {
                name: name.to_string(),
                value,
                exported: export,
            }),
        }
    }

    fn exported(&self) -> Vec<Var> {
        self.vars.iter().filter(|v| v.exported).cloned().collect()
    }

    fn home(&self) -> String {
        self.var("HOME").unwrap_or("/").to_string()
    }
}

/// What running a command did.
#[derive(Debug)]
enum Outcome {
    Status(i32),
    /// The shell itself ends (`exit`, or a command run by `exec`).
    Exit(i32),
    /// A shell was started; the frame runs on top until it ends. The flag: `exec`.
    Spawn(Box<Frame>, bool),
}

/// Where a file descriptor goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sink {
    Tty,
    Null,
    Capture,
}

/// A command's output, in write order, per file descriptor (1 or 2).
#[derive(Debug, Default)]
struct Emit {
    parts: Vec<(usize, Piece)>,
    bytes: usize,
}

impl Emit {
    fn out(&mut self, s: &str) {
        self.push(1, s.as_bytes());
    }

    fn err(&mut self, s: &str) {
        self.push(2, s.as_bytes());
    }

    fn push(&mut self, fd: usize, b: &[u8]) {
        if b.is_empty() || self.full() {
            return;
        }
        let b = &b[..b.len().min(CMD_OUTPUT_CAP - self.bytes)];
        self.bytes += b.len();
        if let Some((last, Piece::Bytes(v))) = self.parts.last_mut()
            && *last == fd
        {
            v.extend_from_slice(b);
            return;
        }
        self.parts.push((fd, Piece::Bytes(b.to_vec())));
    }

    fn pieces(&mut self, fd: usize, pieces: Vec<Piece>) {
        for p in pieces {
            match p {
                Piece::Bytes(b) => self.push(fd, &b),
                Piece::Data { .. } => self.parts.push((fd, p)),
            }
        }
    }

    fn full(&self) -> bool {
        self.bytes >= CMD_OUTPUT_CAP
    }
}

/// The simulated shell session of one ExecuteCommand call.
#[derive(Debug)]
pub(crate) struct Shell {
    ctx: ShellContext,
    flavor: Flavor,
    tty: Tty,
    out: OutQueue,
    input: VecDeque<u8>,
    frames: Vec<Frame>,
    final_status: Option<i32>,
    next_pid: u32,
    spawns: u32,
    /// Milliseconds since the epoch for `date`; the system clock when unset.
    clock_ms: Option<u64>,
}

impl Shell {
    /// Start the session. `command` is the ExecuteCommand command string exactly as the
    /// client sent it.
    pub(crate) fn start(ctx: ShellContext, command: &str) -> Shell {
        let image = ctx.image.to_ascii_lowercase();
        let flavor = if !image.contains("alpine")
            && ["debian", "ubuntu", "bookworm", "bullseye", "trixie", "slim"]
                .iter()
                .any(|k| image.contains(k))
        {
            Flavor::Debian
        } else {
            Flavor::Alpine
        };
        let mut vars = Vec::new();
        let mut put = |name: &str, value: &str| {
            vars.retain(|v: &Var| v.name != name);
            vars.push(Var {
                name: name.to_string(),
                value: value.to_string(),
                exported: true,
            });
        };
        put(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        );
        put("HOSTNAME", &ctx.task_id);
        for (k, v) in &ctx.env {
            put(k, v);
        }
        // Secret values never reach the sandbox: the names show, empty.
        for k in &ctx.secret_names {
            put(k, "");
        }
        put("HOME", "/root");
        let mut command = command;
        if command.len() > SCRIPT_CAP {
            let mut end = SCRIPT_CAP;
            while !command.is_char_boundary(end) {
                end -= 1;
            }
            command = &command[..end];
        }
        let mut sh = Shell {
            ctx,
            flavor,
            tty: Tty {
                echo: true,
                onlcr: true,
                rows: 24,
                cols: 80,
            },
            out: OutQueue::default(),
            input: VecDeque::new(),
            frames: Vec::new(),
            final_status: None,
            next_pid: 60,
            spawns: 0,
            clock_ms: None,
        };
        match lex(command, false) {
            Ok(toks) => {
                let words = toks
                    .into_iter()
                    .filter_map(|t| match t {
                        Tok::Word(w) => Some(w),
                        _ => None,
                    })
                    .collect();
                let item = Item {
                    conn: Conn::Seq,
                    pipeline: vec![Cmd {
                        words,
                        ..Cmd::default()
                    }],
                };
                let pid = sh.alloc_pid();
                sh.frames.push(Frame {
                    kind: Kind::Bootstrap,
                    pid,
                    name: String::new(),
                    args: Vec::new(),
                    vars,
                    cwd: "/".into(),
                    status: 0,
                    items: Arc::from(vec![item]),
                    pc: 0,
                    done: false,
                    exit_after_child: false,
                    cmdline: command.to_string(),
                    editor: Editor::default(),
                });
            }
            Err(e) => {
                let msg = match e {
                    SyntaxError::Incomplete => "unterminated quoted string".to_string(),
                    SyntaxError::Bad(m) => m,
                };
                sh.tty_text(&format!("sh: syntax error: {msg}\n"));
                sh.final_status = Some(2);
            }
        }
        sh.pump();
        sh
    }

    /// Keystrokes from the client. `^C` takes effect at once (it interrupts a command
    /// whose output is still being read); everything else is read by the shell in order.
    pub(crate) fn input(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.final_status.is_some() {
                return;
            }
            if b == 0x03 {
                self.pump();
                self.interrupt();
            } else if self.input.len() < INPUT_CAP {
                self.input.push_back(b);
            }
        }
        self.pump();
    }

    /// The client's terminal size (what `stty size` reports).
    pub(crate) fn resize(&mut self, cols: u16, rows: u16) {
        self.tty.cols = cols;
        self.tty.rows = rows;
    }

    /// Up to `max` bytes of pending output; empty when there is none.
    pub(crate) fn read_output(&mut self, max: usize) -> Vec<u8> {
        self.pump();
        let out = self.out.read(max);
        self.pump();
        out
    }

    /// The exit status, once the command has ended and all its output was read.
    pub(crate) fn exited(&self) -> Option<i32> {
        if self.out.is_empty() {
            self.final_status
        } else {
            None
        }
    }

    /// Milliseconds since the epoch that `date` shows (the sandbox's virtual clock);
    /// without it the system clock is used.
    pub(crate) fn set_clock(&mut self, epoch_ms: u64) {
        self.clock_ms = Some(epoch_ms);
    }

    fn alloc_pid(&mut self) -> u32 {
        let p = self.next_pid;
        self.next_pid = self.next_pid.saturating_add(1 + (p % 3));
        p
    }

    fn tty_bytes(&mut self, b: &[u8]) {
        self.out.push_bytes(b, self.tty.onlcr);
    }

    fn tty_text(&mut self, s: &str) {
        self.tty_bytes(s.as_bytes());
    }

    // --- the scheduler -------------------------------------------------------------------

    /// Run until the shell waits for input, the output backs up, or the session ends.
    fn pump(&mut self) {
        while self.final_status.is_none() {
            let Some(top) = self.frames.last_mut() else {
                return;
            };
            let finished = top.pc >= top.items.len();
            if top.done || (finished && top.kind != Kind::Interactive) {
                self.pop_frame();
                continue;
            }
            if self.out.pending >= HIGH_WATER {
                return;
            }
            if !finished {
                self.step();
            } else if top.editor.need_prompt {
                top.editor.need_prompt = false;
                let prompt = format!("{} # ", top.cwd);
                self.tty_text(&prompt);
            } else if let Some(b) = self.input.pop_front() {
                self.edit(b);
            } else {
                return;
            }
        }
    }

    fn pop_frame(&mut self) {
        let Some(f) = self.frames.pop() else {
            return;
        };
        match self.frames.last_mut() {
            Some(parent) => {
                parent.status = f.status;
                if parent.exit_after_child {
                    parent.done = true;
                }
            }
            None => {
                self.final_status = Some(f.status);
                self.input.clear();
            }
        }
    }

    /// Run the top frame's next pipeline.
    fn step(&mut self) {
        let Some(mut f) = self.frames.pop() else {
            return;
        };
        let items = Arc::clone(&f.items);
        let Some(item) = items.get(f.pc) else {
            self.frames.push(f);
            return;
        };
        f.pc += 1;
        let run = match item.conn {
            Conn::Seq => true,
            Conn::And => f.status == 0,
            Conn::Or => f.status != 0,
        };
        if !run {
            self.frames.push(f);
            return;
        }
        let outcome = match item.pipeline.as_slice() {
            [one] => self.exec_cmd(&mut f, one, Vec::new(), false).0,
            many => Outcome::Status(self.exec_pipeline(&mut f, many)),
        };
        match outcome {
            Outcome::Status(n) => {
                f.status = n;
                self.frames.push(f);
            }
            Outcome::Exit(n) => {
                f.status = n;
                f.done = true;
                self.frames.push(f);
            }
            Outcome::Spawn(child, exec) => {
                f.exit_after_child = exec;
                self.frames.push(f);
                self.frames.push(*child);
            }
        }
    }

    // --- the line discipline -------------------------------------------------------------

    /// One byte typed into the interactive shell on top.
    fn edit(&mut self, b: u8) {
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
    fn interrupt(&mut self) {
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

// ---------------------------------------------------------------------------------------
// Expansion and execution

/// Commands found in `/bin` (and curl in `/usr/bin`).
const PROGRAMS: &[&str] = &[
    "ash",
    "bash",
    "cat",
    "clear",
    "curl",
    "date",
    "env",
    "grep",
    "head",
    "hostname",
    "id",
    "ls",
    "nproc",
    "printenv",
    "ps",
    "sh",
    "sha256sum",
    "sleep",
    "sort",
    "stty",
    "tail",
    "uname",
    "uptime",
    "wc",
    "wget",
    "which",
    "whoami",
];

/// Commands the shell itself implements.
const BUILTINS: &[&str] = &[
    ":", "[", "cd", "command", "echo", "exec", "exit", "export", "false", "help", "printf", "pwd",
    "set", "test", "true", "type", "unset",
];

fn program_path(name: &str) -> Option<String> {
    if name == "curl" {
        Some("/usr/bin/curl".into())
    } else if PROGRAMS.contains(&name) {
        Some(format!("/bin/{name}"))
    } else {
        None
    }
}

/// `a/../b` and `.` resolved against `cwd`.
fn resolve(cwd: &str, path: &str) -> String {
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

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Shell {
    fn param(&self, f: &Frame, name: &str) -> Option<String> {
        match name {
            "?" => Some(f.status.to_string()),
            "#" => Some(f.args.len().to_string()),
            "$" => Some(f.pid.to_string()),
            "!" => None,
            "-" => Some(if f.kind == Kind::Interactive { "i" } else { "" }.to_string()),
            "0" => Some(f.name.clone()),
            "@" | "*" => Some(f.args.join(" ")),
            n if n.chars().all(|c| c.is_ascii_digit()) => {
                let i: usize = n.parse().ok()?;
                f.args.get(i.checked_sub(1)?).cloned()
            }
            n => f.var(n).map(str::to_string),
        }
    }

    fn param_or_default(&self, f: &Frame, name: &str, default: &Option<String>) -> String {
        match (self.param(f, name), default) {
            (Some(v), Some(d)) if v.is_empty() => d.clone(),
            (Some(v), _) => v,
            (None, Some(d)) => d.clone(),
            (None, None) => String::new(),
        }
    }

    /// Expand a word into fields: parameters, `~`, and field splitting of unquoted
    /// expansions (no globbing).
    fn expand_fields(&self, f: &Frame, w: &Word) -> Vec<String> {
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut have = false;
        for p in w {
            match p {
                Part::Lit(s, quoted) => {
                    cur.push_str(s);
                    have |= *quoted || !s.is_empty();
                }
                Part::Tilde => {
                    cur.push_str(&f.home());
                    have = true;
                }
                Part::Param {
                    name, quoted: true, ..
                } if name == "@" => {
                    for (i, a) in f.args.iter().enumerate() {
                        if i > 0 {
                            fields.push(std::mem::take(&mut cur));
                        }
                        cur.push_str(a);
                        have = true;
                    }
                }
                Part::Param {
                    name,
                    default,
                    quoted,
                } => {
                    let v = self.param_or_default(f, name, default);
                    if *quoted {
                        cur.push_str(&v);
                        have = true;
                    } else {
                        for c in v.chars() {
                            if matches!(c, ' ' | '\t' | '\n') {
                                if have {
                                    fields.push(std::mem::take(&mut cur));
                                    have = false;
                                }
                            } else {
                                cur.push(c);
                                have = true;
                            }
                        }
                    }
                }
            }
        }
        if have {
            fields.push(cur);
        }
        fields
    }

    /// Expand a word into one string (assignments, redirection targets).
    fn expand_str(&self, f: &Frame, w: &Word) -> String {
        let mut s = String::new();
        for p in w {
            match p {
                Part::Lit(t, _) => s.push_str(t),
                Part::Tilde => s.push_str(&f.home()),
                Part::Param { name, default, .. } => {
                    s.push_str(&self.param_or_default(f, name, default))
                }
            }
        }
        s
    }

    fn exec_pipeline(&mut self, f: &mut Frame, cmds: &[Cmd]) -> i32 {
        let mut stdin = Vec::new();
        let mut status = 0;
        for (i, c) in cmds.iter().enumerate() {
            let last = i + 1 == cmds.len();
            let (outcome, captured) = self.exec_cmd(f, c, std::mem::take(&mut stdin), !last);
            status = match outcome {
                Outcome::Status(n) | Outcome::Exit(n) => n,
                Outcome::Spawn(..) => {
                    self.tty_text("sh: a shell inside a pipeline is not simulated\n");
                    2
                }
            };
            stdin = captured;
        }
        status
    }

    /// Run one simple command in frame `f`. With `capture`, its standard output is
    /// returned (for the next command of a pipeline) instead of going to the terminal.
    fn exec_cmd(
        &mut self,
        f: &mut Frame,
        cmd: &Cmd,
        mut stdin: Vec<Piece>,
        capture: bool,
    ) -> (Outcome, Vec<Piece>) {
        let mut sinks = [
            Sink::Tty,
            if capture { Sink::Capture } else { Sink::Tty },
            Sink::Tty,
        ];
        for r in &cmd.redirs {
            let target = self.expand_str(f, &r.target);
            let input = matches!(r.op, RedirOp::In | RedirOp::DupIn);
            let fd = r.fd.unwrap_or(if input { 0 } else { 1 }) as usize;
            let sink = match r.op {
                RedirOp::Out | RedirOp::Append => match target.as_str() {
                    "/dev/null" => Some(Sink::Null),
                    "/dev/stdout" | "/proc/self/fd/1" => Some(sinks[1]),
                    "/dev/stderr" | "/proc/self/fd/2" => Some(sinks[2]),
                    "/dev/tty" => Some(Sink::Tty),
                    _ => {
                        let msg = format!("sh: can't create {target}: Read-only file system\n");
                        self.route_err(sinks[2], &msg);
                        return (Outcome::Status(1), Vec::new());
                    }
                },
                RedirOp::DupOut => match target.as_str() {
                    "1" => Some(sinks[1]),
                    "2" => Some(sinks[2]),
                    "-" => Some(Sink::Null),
                    _ => {
                        let msg = format!("sh: {target}: bad file descriptor\n");
                        self.route_err(sinks[2], &msg);
                        return (Outcome::Status(1), Vec::new());
                    }
                },
                RedirOp::In => {
                    match self.node(&resolve(&f.cwd, &target)) {
                        Some(Node::File(p)) => {
                            if fd == 0 {
                                stdin = p;
                            }
                        }
                        Some(Node::Dir(_)) => {
                            let msg = format!("sh: can't open {target}: Is a directory\n");
                            self.route_err(sinks[2], &msg);
                            return (Outcome::Status(1), Vec::new());
                        }
                        None => {
                            let msg =
                                format!("sh: can't open {target}: No such file or directory\n");
                            self.route_err(sinks[2], &msg);
                            return (Outcome::Status(1), Vec::new());
                        }
                    }
                    None
                }
                RedirOp::DupIn => None,
            };
            if let (Some(sink), 1..=2) = (sink, fd) {
                sinks[fd] = sink;
            }
        }

        let argv: Vec<String> = cmd
            .words
            .iter()
            .flat_map(|w| self.expand_fields(f, w))
            .collect();
        let assigns: Vec<(String, String)> = cmd
            .assigns
            .iter()
            .map(|(n, w)| (n.clone(), self.expand_str(f, w)))
            .collect();
        if argv.is_empty() {
            for (n, v) in assigns {
                f.set_var(&n, v, false);
            }
            return (Outcome::Status(0), Vec::new());
        }
        let mut e = Emit::default();
        let outcome = self.dispatch(f, &argv, &assigns, stdin, &mut e);
        let mut captured = Vec::new();
        for (fd, piece) in e.parts {
            match sinks.get(fd).copied().unwrap_or(Sink::Null) {
                Sink::Tty => self.out.push(piece, self.tty.onlcr),
                Sink::Null => {}
                Sink::Capture => captured.push(piece),
            }
        }
        (outcome, captured)
    }

    fn route_err(&mut self, sink: Sink, msg: &str) {
        if sink == Sink::Tty {
            self.tty_text(msg);
        }
    }

    fn dispatch(
        &mut self,
        f: &mut Frame,
        argv: &[String],
        assigns: &[(String, String)],
        stdin: Vec<Piece>,
        e: &mut Emit,
    ) -> Outcome {
        let Some((first, args)) = argv.split_first() else {
            return Outcome::Status(0);
        };
        let name = match self.command_name(f, first) {
            Ok(n) => n,
            Err((msg, status)) => {
                e.err(&msg);
                return Outcome::Status(status);
            }
        };
        match name.as_str() {
            "sh" | "bash" | "ash" | "dash" => self.spawn_shell(f, argv, assigns, e),
            "exec" => {
                if args.is_empty() {
                    return Outcome::Status(0);
                }
                match self.dispatch(f, args, assigns, stdin, e) {
                    Outcome::Spawn(child, _) => Outcome::Spawn(child, true),
                    Outcome::Status(n) | Outcome::Exit(n) => Outcome::Exit(n),
                }
            }
            "exit" => match args.first() {
                None => Outcome::Exit(f.status),
                Some(a) => match a.parse::<i64>() {
                    Ok(n) => Outcome::Exit((n & 0xff) as i32),
                    Err(_) => {
                        e.err(&format!("sh: exit: Illegal number: {a}\n"));
                        if f.kind == Kind::Interactive {
                            Outcome::Status(2)
                        } else {
                            Outcome::Exit(2)
                        }
                    }
                },
            },
            "env" => {
                // `env [-i] [NAME=value...] [command...]`
                let mut extra: Vec<(String, String)> = assigns.to_vec();
                let mut rest = args;
                while let Some((a, more)) = rest.split_first() {
                    if a == "-i" || a == "-" {
                        rest = more;
                    } else if let Some((n, v)) = a.split_once('=').filter(|(n, _)| is_name(n)) {
                        extra.push((n.to_string(), v.to_string()));
                        rest = more;
                    } else {
                        break;
                    }
                }
                if rest.is_empty() {
                    for v in self.command_env(f, &extra) {
                        e.out(&format!("{}={}\n", v.name, v.value));
                    }
                    Outcome::Status(0)
                } else {
                    self.dispatch(f, rest, &extra, stdin, e)
                }
            }
            other => Outcome::Status(self.run(f, other, args, assigns, stdin, e)),
        }
    }

    /// The command a word names: a builtin or program by name, or by path in a `bin`
    /// directory; errors as `sh` words them.
    fn command_name(&self, f: &Frame, word: &str) -> Result<String, (String, i32)> {
        let not_found = |w: &str| {
            let msg = if f.kind == Kind::Bootstrap {
                format!(
                    "OCI runtime exec failed: exec failed: unable to start container process: \
                     exec: \"{w}\": executable file not found in $PATH: unknown\n"
                )
            } else {
                format!("sh: {w}: not found\n")
            };
            (msg, 127)
        };
        if !word.contains('/') {
            if BUILTINS.contains(&word) || PROGRAMS.contains(&word) {
                return Ok(word.to_string());
            }
            return Err(not_found(word));
        }
        let path = resolve(&f.cwd, word);
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", &path));
        let bin_dir = matches!(
            dir,
            "/bin" | "/usr/bin" | "/sbin" | "/usr/sbin" | "/usr/local/bin"
        );
        if bin_dir && program_path(base).is_some() {
            return Ok(base.to_string());
        }
        match self.node(&path) {
            Some(_) => Err((format!("sh: {word}: Permission denied\n"), 126)),
            None => Err(not_found(word)),
        }
    }

    /// The environment a command sees: exported variables plus `NAME=value` prefixes.
    fn command_env(&self, f: &Frame, assigns: &[(String, String)]) -> Vec<Var> {
        let mut vars = f.exported();
        for (n, v) in assigns {
            match vars.iter_mut().find(|x| &x.name == n) {
                Some(x) => x.value = v.clone(),
                None => vars.push(Var {
                    name: n.clone(),
                    value: v.clone(),
                    exported: true,
                }),
            }
        }
        vars
    }

    /// `sh [-i] [-l] [-c SCRIPT [arg0 [args...]]]`
    fn spawn_shell(
        &mut self,
        f: &Frame,
        argv: &[String],
        assigns: &[(String, String)],
        e: &mut Emit,
    ) -> Outcome {
        let mut script = None;
        let mut name = argv.first().cloned().unwrap_or_else(|| "sh".into());
        let mut args = Vec::new();
        let mut i = 1;
        while i < argv.len() {
            let a = &argv[i];
            if a == "--" {
                i += 1;
                break;
            }
            if a == "-" {
                i += 1;
                continue;
            }
            if a.starts_with('-') && a.len() > 1 && !a.starts_with("--") {
                if a.contains('c') {
                    let Some(s) = argv.get(i + 1) else {
                        e.err("sh: -c requires an argument\n");
                        return Outcome::Status(2);
                    };
                    script = Some(s.clone());
                    if let Some(n) = argv.get(i + 2) {
                        name = n.clone();
                    }
                    args = argv.iter().skip(i + 3).cloned().collect();
                    i = argv.len();
                    break;
                }
            } else if !a.starts_with("--") {
                break;
            }
            i += 1;
        }
        if script.is_none() && i < argv.len() {
            e.err(&format!(
                "sh: can't open '{}': No such file or directory\n",
                argv[i]
            ));
            return Outcome::Status(2);
        }
        if self.frames.len() + 2 > MAX_DEPTH || self.spawns >= MAX_SPAWNS {
            e.err("sh: can't fork: Resource temporarily unavailable\n");
            return Outcome::Status(2);
        }
        let (kind, items) = match &script {
            Some(s) => match parse_script(s) {
                Ok(items) => (Kind::Script, items),
                Err(err) => {
                    let msg = match err {
                        SyntaxError::Incomplete => "unexpected end of file".to_string(),
                        SyntaxError::Bad(m) => m,
                    };
                    e.err(&format!("{name}: syntax error: {msg}\n"));
                    return Outcome::Status(2);
                }
            },
            None => (Kind::Interactive, Vec::new()),
        };
        self.spawns += 1;
        let pid = self.alloc_pid();
        Outcome::Spawn(
            Box::new(Frame {
                kind,
                pid,
                name,
                args,
                vars: self.command_env(f, assigns),
                cwd: f.cwd.clone(),
                status: 0,
                items: Arc::from(items),
                pc: 0,
                done: false,
                exit_after_child: false,
                cmdline: argv.join(" "),
                editor: Editor {
                    need_prompt: true,
                    ..Editor::default()
                },
            }),
            false,
        )
    }
}

// ---------------------------------------------------------------------------------------
// The simulated filesystem

#[derive(Debug, Clone)]
enum Node {
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

const KERNEL_RELEASE: &str = "5.10.228-219.884.amzn2.x86_64";
const KERNEL_VERSION: &str = "#1 SMP Tue Oct 22 16:38:23 UTC 2024";

const AGENT_DIR: &str = "/managed-agents/execute-command";
const AGENT_BINARIES: &[&str] = &["amazon-ssm-agent", "ssm-agent-worker", "ssm-session-worker"];

/// A few bytes that look like the start of an executable.
fn fake_binary(name: &str) -> Vec<Piece> {
    let mut b = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0".to_vec();
    b.extend_from_slice(name.as_bytes());
    b.push(0);
    vec![Piece::Bytes(b)]
}

fn is_executable(path: &str) -> bool {
    path.starts_with("/bin/")
        || path.starts_with("/usr/bin/")
        || path.starts_with("/app/")
        || path
            .strip_prefix(AGENT_DIR)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|n| AGENT_BINARIES.contains(&n))
}

impl Shell {
    fn app_name(&self) -> String {
        if self.ctx.container.is_empty() {
            "app".into()
        } else {
            self.ctx.container.replace('/', "_")
        }
    }

    /// The task's private address (for `hostname -i` and `/etc/hosts`).
    fn ip(&self) -> String {
        let h = hash_str(&self.ctx.task_id);
        format!("10.0.{}.{}", (h >> 8) % 250 + 1, h % 250 + 2)
    }

    /// The node at an absolute, normalised path.
    fn node(&self, path: &str) -> Option<Node> {
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
    fn inputs(
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

// ---------------------------------------------------------------------------------------
// Commands

/// `-n 5`, `-n5`, `-5`, `-c 100`: how much `head`/`tail` keep.
#[derive(Debug, Clone, Copy)]
enum Amount {
    Lines(u64),
    Bytes(u64),
}

const HELP: &str = "berth sandbox shell: a simulated container, nothing here runs for real.
Commands: cat cd clear curl date echo env exit export grep head help hostname id ls
  nproc printenv printf ps pwd sh sha256sum sleep sort stty tail test true false
  type uname unset uptime wc wget which whoami
Files to try: /etc/os-release /var/lib/berth/data-1m /var/lib/berth/data-10m
Operators: ; && || | and redirections to /dev/null; ^C interrupts, ^D ends the shell.
";

impl Shell {
    /// Run a builtin or program (not shells, `exec`, `exit`, `env`: see `dispatch`).
    fn run(
        &mut self,
        f: &mut Frame,
        name: &str,
        args: &[String],
        assigns: &[(String, String)],
        stdin: Vec<Piece>,
        e: &mut Emit,
    ) -> i32 {
        match name {
            "true" | ":" => 0,
            "false" => 1,
            "echo" => echo(args, e),
            "printf" => printf(args, e),
            "pwd" => {
                e.out(&format!("{}\n", f.cwd));
                0
            }
            "cd" => self.cd(f, args, e),
            "export" => export(f, args, e),
            "unset" => {
                f.vars.retain(|v| !args.contains(&v.name));
                0
            }
            "set" => {
                if let Some(pos) = args.iter().position(|a| a == "--") {
                    f.args = args[pos + 1..].to_vec();
                } else if args.is_empty() {
                    for v in &f.vars {
                        e.out(&format!("{}={}\n", v.name, shell_quote(&v.value)));
                    }
                }
                0
            }
            "printenv" => {
                let env = self.command_env(f, assigns);
                if args.is_empty() {
                    for v in env {
                        e.out(&format!("{}={}\n", v.name, v.value));
                    }
                    return 0;
                }
                let mut status = 0;
                for a in args {
                    match env.iter().find(|v| &v.name == a) {
                        Some(v) => e.out(&format!("{}\n", v.value)),
                        None => status = 1,
                    }
                }
                status
            }
            "help" => {
                e.out(HELP);
                0
            }
            "type" | "command" | "which" => self.locate(name, args, e),
            "test" => test_status(self, f, args, e),
            "[" => match args.split_last() {
                Some((last, inner)) if last == "]" => test_status(self, f, inner, e),
                _ => {
                    e.err("sh: [: missing ]\n");
                    2
                }
            },
            "hostname" => {
                if args.iter().any(|a| a == "-i" || a == "-I") {
                    e.out(&format!("{}\n", self.ip()));
                } else {
                    e.out(&format!("{}\n", self.ctx.task_id));
                }
                0
            }
            "whoami" => {
                e.out("root\n");
                0
            }
            "id" => {
                let flags: String = args
                    .iter()
                    .filter_map(|a| a.strip_prefix('-'))
                    .collect::<Vec<_>>()
                    .concat();
                let named = flags.contains('n');
                let line = if flags.contains('u') || flags.contains('g') {
                    if named { "root" } else { "0" }
                } else {
                    "uid=0(root) gid=0(root) groups=0(root)"
                };
                e.out(&format!("{line}\n"));
                0
            }
            "uname" => self.uname(args, e),
            "nproc" => {
                e.out("2\n");
                0
            }
            "uptime" => {
                let (_, _, _, h, m, s, _) = self.now_parts();
                e.out(&format!(
                    " {h:02}:{m:02}:{s:02} up 30 min,  0 users,  load average: 0.08, 0.03, 0.01\n"
                ));
                0
            }
            "date" => {
                let fmt = args
                    .iter()
                    .find_map(|a| a.strip_prefix('+'))
                    .unwrap_or("%a %b %e %H:%M:%S UTC %Y");
                let s = self.format_date(fmt);
                e.out(&format!("{s}\n"));
                0
            }
            "sleep" => {
                if args.is_empty() {
                    e.err("sleep: missing operand\n");
                    return 1;
                }
                for a in args {
                    let n = a.trim_end_matches(['s', 'm', 'h', 'd']);
                    if !n.parse::<f64>().is_ok_and(|v| v >= 0.0) {
                        e.err(&format!("sleep: invalid number '{a}'\n"));
                        return 1;
                    }
                }
                // Simulated: time does not pass.
                0
            }
            "clear" => {
                e.out("\x1b[H\x1b[2J\x1b[3J");
                0
            }
            "stty" => self.stty(args, e),
            "ps" => self.ps(f, e),
            "ls" => self.ls(f, args, e),
            "cat" => self.cat(f, args, &stdin, e),
            "head" | "tail" => self.head_tail(f, name, args, &stdin, e),
            "wc" => self.wc(f, args, &stdin, e),
            "sha256sum" => self.sha256sum(f, args, &stdin, e),
            "grep" => self.grep(f, args, &stdin, e),
            "sort" => self.sort(f, args, &stdin, e),
            "curl" => self.curl(args, e),
            "wget" => self.wget(args, e),
            _ => {
                e.err(&format!("sh: {name}: not found\n"));
                127
            }
        }
    }

    fn cd(&self, f: &mut Frame, args: &[String], e: &mut Emit) -> i32 {
        let target = match args.first() {
            None => f.home(),
            Some(a) if a == "-" => f.var("OLDPWD").unwrap_or("/").to_string(),
            Some(a) => a.clone(),
        };
        let path = resolve(&f.cwd, &target);
        match self.node(&path) {
            Some(Node::Dir(_)) => {
                let old = std::mem::replace(&mut f.cwd, path);
                f.set_var("OLDPWD", old, false);
                0
            }
            Some(Node::File(_)) => {
                e.err(&format!("sh: cd: can't cd to {target}: Not a directory\n"));
                2
            }
            None => {
                e.err(&format!(
                    "sh: cd: can't cd to {target}: No such file or directory\n"
                ));
                2
            }
        }
    }

    fn locate(&self, how: &str, args: &[String], e: &mut Emit) -> i32 {
        let mut status = 0;
        let args: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        for a in args {
            let builtin = BUILTINS.contains(&a.as_str());
            let path = program_path(a);
            match (how, builtin, path) {
                ("type", true, _) => e.out(&format!("{a} is a shell builtin\n")),
                ("type", false, Some(p)) => e.out(&format!("{a} is {p}\n")),
                ("type", _, None) => {
                    e.err(&format!("{a}: not found\n"));
                    status = 1;
                }
                ("command", true, _) => e.out(&format!("{a}\n")),
                (_, _, Some(p)) => e.out(&format!("{p}\n")),
                _ => status = 1,
            }
        }
        status
    }

    fn uname(&self, args: &[String], e: &mut Emit) -> i32 {
        let mut flags = String::new();
        for a in args {
            match a.strip_prefix('-') {
                Some(f) if f.chars().all(|c| "asnrvmo".contains(c)) => flags.push_str(f),
                _ => {
                    e.err(&format!("uname: invalid option -- '{a}'\n"));
                    return 1;
                }
            }
        }
        if flags.contains('a') {
            flags = "snrvmo".into();
        }
        if flags.is_empty() {
            flags = "s".into();
        }
        let mut parts = Vec::new();
        for (c, v) in [
            ('s', "Linux"),
            ('n', self.ctx.task_id.as_str()),
            ('r', KERNEL_RELEASE),
            ('v', KERNEL_VERSION),
            ('m', "x86_64"),
            (
                'o',
                if self.flavor == Flavor::Alpine {
                    "Linux"
                } else {
                    "GNU/Linux"
                },
            ),
        ] {
            if flags.contains(c) {
                parts.push(v);
            }
        }
        e.out(&format!("{}\n", parts.join(" ")));
        0
    }

    fn stty(&mut self, args: &[String], e: &mut Emit) -> i32 {
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

    fn ps(&mut self, f: &Frame, e: &mut Emit) -> i32 {
        let width = usize::from(self.tty.cols.max(20));
        let row = |pid: &str, time: &str, cmd: &str| {
            let line = format!("{pid:>5} root     {time:>5} {cmd}");
            let cut: String = line.chars().take(width).collect();
            format!("{cut}\n")
        };
        let session = format!(
            "ecs-execute-command-{:012x}",
            hash_str(&self.ctx.task_id) & 0xffff_ffff_ffff
        );
        e.out(&format!("{:>5} USER     {:>5} COMMAND\n", "PID", "TIME"));
        e.out(&row("1", "0:03", &format!("/app/{}", self.app_name())));
        e.out(&row("7", "0:00", &format!("{AGENT_DIR}/amazon-ssm-agent")));
        e.out(&row("21", "0:00", &format!("{AGENT_DIR}/ssm-agent-worker")));
        e.out(&row(
            "43",
            "0:00",
            &format!("{AGENT_DIR}/ssm-session-worker {session}"),
        ));
        let mut shells: Vec<(u32, String)> = self
            .frames
            .iter()
            .chain(std::iter::once(f))
            .filter(|fr| fr.kind != Kind::Bootstrap)
            .map(|fr| (fr.pid, fr.cmdline.clone()))
            .collect();
        shells.sort();
        for (pid, cmd) in shells {
            e.out(&row(&pid.to_string(), "0:00", &cmd));
        }
        let me = self.alloc_pid();
        e.out(&row(&me.to_string(), "0:00", "ps"));
        0
    }

    fn ls(&self, f: &Frame, args: &[String], e: &mut Emit) -> i32 {
        let (mut all, mut long, mut one) = (false, false, false);
        let mut paths = Vec::new();
        for a in args {
            match a.strip_prefix('-') {
                Some(flags) if !flags.is_empty() => {
                    for c in flags.chars() {
                        match c {
                            'a' | 'A' => all = true,
                            'l' => long = true,
                            '1' => one = true,
                            'h' | 'F' | 'p' | 'r' | 't' | 'S' | 'n' => {}
                            _ => {
                                e.err(&format!("ls: unrecognized option: {c}\n"));
                                return 1;
                            }
                        }
                    }
                }
                _ => paths.push(a.clone()),
            }
        }
        if paths.is_empty() {
            paths.push(".".into());
        }
        let many = paths.len() > 1;
        let mut status = 0;
        let mut first = true;
        for p in &paths {
            let abs = resolve(&f.cwd, p);
            match self.node(&abs) {
                None => {
                    e.err(&format!("ls: {p}: No such file or directory\n"));
                    status = 1;
                }
                Some(Node::File(pieces)) => {
                    if long {
                        e.out(&self.long_entry(p, &abs, Some(total_len(&pieces))));
                    } else {
                        e.out(&format!("{p}\n"));
                    }
                }
                Some(Node::Dir(children)) => {
                    if many {
                        e.out(&format!("{}{p}:\n", if first { "" } else { "\n" }));
                    }
                    let mut names: Vec<String> = Vec::new();
                    if all {
                        names.push(".".into());
                        names.push("..".into());
                    }
                    names.extend(children);
                    if long {
                        e.out(&format!("total {}\n", names.len() * 4));
                        for n in &names {
                            let child = resolve(&abs, n);
                            let size = match self.node(&child) {
                                Some(Node::File(pc)) => Some(total_len(&pc)),
                                _ => None,
                            };
                            e.out(&self.long_entry(n, &child, size));
                        }
                    } else if one {
                        for n in &names {
                            e.out(&format!("{n}\n"));
                        }
                    } else {
                        e.out(&columns(&names, usize::from(self.tty.cols)));
                    }
                }
            }
            first = false;
        }
        status
    }

    /// One `ls -l` line; `size` is `None` for a directory.
    fn long_entry(&self, name: &str, path: &str, size: Option<u64>) -> String {
        let mode = match size {
            None => "drwxr-xr-x",
            Some(_) if is_executable(path) => "-rwxr-xr-x",
            Some(_) => "-rw-r--r--",
        };
        let when = self.format_date("%b %e %H:%M");
        format!(
            "{mode} {:>4} root     root     {:>10} {when} {name}\n",
            if size.is_none() { 2 } else { 1 },
            size.unwrap_or(4096)
        )
    }

    fn cat(&self, f: &Frame, args: &[String], stdin: &[Piece], e: &mut Emit) -> i32 {
        if let Some(bad) = args.iter().find(|a| a.starts_with('-') && a.len() > 1) {
            e.err(&format!("cat: unrecognized option '{bad}'\n"));
            return 1;
        }
        let mut status = 0;
        for (name, r) in self.inputs(f, args, stdin) {
            match r {
                Ok(p) => e.pieces(1, p),
                Err(why) => {
                    e.err(&format!("cat: {name}: {why}\n"));
                    status = 1;
                }
            }
        }
        status
    }

    fn head_tail(
        &self,
        f: &Frame,
        which: &str,
        args: &[String],
        stdin: &[Piece],
        e: &mut Emit,
    ) -> i32 {
        let mut amount = Amount::Lines(10);
        let mut files = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            let (kind, value) = if a == "-n" || a == "-c" {
                i += 1;
                (a.as_bytes()[1], args.get(i).cloned().unwrap_or_default())
            } else if let Some(v) = a.strip_prefix("-n") {
                (b'n', v.to_string())
            } else if let Some(v) = a.strip_prefix("-c") {
                (b'c', v.to_string())
            } else if a == "-f" || a == "-F" || a == "-q" {
                i += 1;
                continue;
            } else if a.len() > 1 && a.starts_with('-') {
                (b'n', a[1..].to_string())
            } else {
                files.push(a.clone());
                i += 1;
                continue;
            };
            let Ok(n) = value.trim_start_matches('+').parse::<u64>() else {
                e.err(&format!("{which}: invalid number '{value}'\n"));
                return 1;
            };
            amount = if kind == b'c' {
                Amount::Bytes(n)
            } else {
                Amount::Lines(n)
            };
            i += 1;
        }
        let headers = files.len() > 1;
        let mut status = 0;
        for (k, (name, r)) in self.inputs(f, &files, stdin).into_iter().enumerate() {
            let p = match r {
                Ok(p) => p,
                Err(why) => {
                    e.err(&format!("{which}: {name}: {why}\n"));
                    status = 1;
                    continue;
                }
            };
            if headers {
                e.out(&format!(
                    "{}==> {name} <==\n",
                    if k > 0 { "\n" } else { "" }
                ));
            }
            let len = total_len(&p);
            let (from, to) = match (which, amount) {
                ("head", Amount::Bytes(n)) => (0, n.min(len)),
                ("head", Amount::Lines(n)) => (0, nth_newline_end(&p, n).unwrap_or(len)),
                (_, Amount::Bytes(n)) => (len.saturating_sub(n), len),
                (_, Amount::Lines(n)) => {
                    let mut newlines = 0u64;
                    let mut last = b'\n';
                    for_each_block(&p, |b| {
                        newlines += b.iter().filter(|&&c| c == b'\n').count() as u64;
                        if let Some(&c) = b.last() {
                            last = c;
                        }
                        true
                    });
                    let lines = newlines + u64::from(last != b'\n');
                    let skip = lines.saturating_sub(n);
                    (nth_newline_end(&p, skip).unwrap_or(0), len)
                }
            };
            e.pieces(1, slice_pieces(&p, from, to));
        }
        status
    }

    fn wc(&self, f: &Frame, args: &[String], stdin: &[Piece], e: &mut Emit) -> i32 {
        let mut flags = String::new();
        let mut files = Vec::new();
        for a in args {
            match a.strip_prefix('-') {
                Some(fl) if !fl.is_empty() => {
                    if let Some(c) = fl.chars().find(|c| !"lwcm".contains(*c)) {
                        e.err(&format!("wc: invalid option -- '{c}'\n"));
                        return 1;
                    }
                    flags.push_str(&fl.replace('m', "c"));
                }
                _ => files.push(a.clone()),
            }
        }
        if flags.is_empty() {
            flags = "lwc".into();
        }
        let single = ["l", "w", "c"]
            .iter()
            .filter(|k| flags.contains(**k))
            .count()
            == 1;
        let mut status = 0;
        let mut totals = [0u64; 3];
        let inputs = self.inputs(f, &files, stdin);
        let many = inputs.len() > 1;
        let line = |counts: [u64; 3], name: &str| {
            let mut cols = Vec::new();
            for (i, k) in ['l', 'w', 'c'].into_iter().enumerate() {
                if flags.contains(k) {
                    cols.push(if single {
                        counts[i].to_string()
                    } else {
                        format!("{:>7}", counts[i])
                    });
                }
            }
            let mut s = cols.join(" ");
            if name != "-" {
                s.push(' ');
                s.push_str(name);
            }
            s.push('\n');
            s
        };
        for (name, r) in inputs {
            let p = match r {
                Ok(p) => p,
                Err(why) => {
                    e.err(&format!("wc: {name}: {why}\n"));
                    status = 1;
                    continue;
                }
            };
            let mut counts = [0, 0, total_len(&p)];
            if flags.contains('l') || flags.contains('w') {
                let mut in_word = false;
                for_each_block(&p, |b| {
                    for &c in b {
                        if c == b'\n' {
                            counts[0] += 1;
                        }
                        let space = c.is_ascii_whitespace();
                        if !space && !in_word {
                            counts[1] += 1;
                        }
                        in_word = !space;
                    }
                    true
                });
            }
            for i in 0..3 {
                totals[i] += counts[i];
            }
            e.out(&line(counts, &name));
        }
        if many {
            e.out(&line(totals, "total"));
        }
        status
    }

    fn sha256sum(&self, f: &Frame, args: &[String], stdin: &[Piece], e: &mut Emit) -> i32 {
        if let Some(bad) = args.iter().find(|a| a.starts_with('-') && a.len() > 1) {
            e.err(&format!("sha256sum: option '{bad}' is not simulated\n"));
            return 1;
        }
        let mut status = 0;
        for (name, r) in self.inputs(f, args, stdin) {
            match r {
                Ok(p) => {
                    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
                    for_each_block(&p, |b| {
                        ctx.update(b);
                        true
                    });
                    let hex: String = ctx
                        .finish()
                        .as_ref()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    e.out(&format!("{hex}  {name}\n"));
                }
                Err(why) => {
                    e.err(&format!("sha256sum: {name}: {why}\n"));
                    status = 1;
                }
            }
        }
        status
    }

    fn grep(&self, f: &Frame, args: &[String], stdin: &[Piece], e: &mut Emit) -> i32 {
        let (mut ignore, mut invert, mut count, mut number, mut quiet) =
            (false, false, false, false, false);
        let mut pattern = None;
        let mut files = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "-e" {
                i += 1;
                pattern = args.get(i).cloned();
            } else if let Some(fl) = a.strip_prefix('-').filter(|fl| !fl.is_empty()) {
                for c in fl.chars() {
                    match c {
                        'i' => ignore = true,
                        'v' => invert = true,
                        'c' => count = true,
                        'n' => number = true,
                        'q' | 's' => quiet |= c == 'q',
                        'E' | 'F' | 'a' => {}
                        _ => {
                            e.err(&format!("grep: invalid option -- '{c}'\n"));
                            return 2;
                        }
                    }
                }
            } else if pattern.is_none() {
                pattern = Some(a.clone());
            } else {
                files.push(a.clone());
            }
            i += 1;
        }
        let Some(pattern) = pattern else {
            e.err("Usage: grep [-ivcnq] PATTERN [FILE]...\n");
            return 2;
        };
        let pattern = if ignore {
            pattern.to_lowercase()
        } else {
            pattern
        };
        let (anchored_start, rest) = match pattern.strip_prefix('^') {
            Some(r) => (true, r),
            None => (false, pattern.as_str()),
        };
        let (anchored_end, needle) = match rest.strip_suffix('$') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let matches = |line: &str| -> bool {
            let owned;
            let line = if ignore {
                owned = line.to_lowercase();
                owned.as_str()
            } else {
                line
            };
            match (anchored_start, anchored_end) {
                (true, true) => line == needle,
                (true, false) => line.starts_with(needle),
                (false, true) => line.ends_with(needle),
                (false, false) => line.contains(needle),
            }
        };
        let inputs = self.inputs(f, &files, stdin);
        let prefix_names = inputs.len() > 1;
        let mut any = false;
        let mut status_err = false;
        for (name, r) in inputs {
            let p = match r {
                Ok(p) => p,
                Err(why) => {
                    e.err(&format!("grep: {name}: {why}\n"));
                    status_err = true;
                    continue;
                }
            };
            let mut n = 0u64;
            let mut hits = 0u64;
            for_each_line(&p, |raw| {
                n += 1;
                let line = String::from_utf8_lossy(raw);
                if matches(&line) != invert {
                    hits += 1;
                    any = true;
                    if quiet {
                        return false;
                    }
                    if !count {
                        let mut s = String::new();
                        if prefix_names {
                            s.push_str(&name);
                            s.push(':');
                        }
                        if number {
                            s.push_str(&format!("{n}:"));
                        }
                        s.push_str(&line);
                        s.push('\n');
                        e.out(&s);
                    }
                }
                !e.full()
            });
            if quiet && any {
                return 0;
            }
            if count {
                if prefix_names {
                    e.out(&format!("{name}:{hits}\n"));
                } else {
                    e.out(&format!("{hits}\n"));
                }
            }
        }
        if status_err {
            2
        } else if any {
            0
        } else {
            1
        }
    }

    fn sort(&self, f: &Frame, args: &[String], stdin: &[Piece], e: &mut Emit) -> i32 {
        let (mut reverse, mut numeric, mut unique) = (false, false, false);
        let mut files = Vec::new();
        for a in args {
            match a.strip_prefix('-').filter(|fl| !fl.is_empty()) {
                Some(fl) => {
                    for c in fl.chars() {
                        match c {
                            'r' => reverse = true,
                            'n' => numeric = true,
                            'u' => unique = true,
                            _ => {
                                e.err(&format!("sort: invalid option -- '{c}'\n"));
                                return 2;
                            }
                        }
                    }
                }
                None => files.push(a.clone()),
            }
        }
        let mut lines: Vec<String> = Vec::new();
        let mut held = 0usize;
        let mut status = 0;
        for (name, r) in self.inputs(f, &files, stdin) {
            match r {
                Ok(p) => for_each_line(&p, |l| {
                    held += l.len() + 1;
                    lines.push(String::from_utf8_lossy(l).into_owned());
                    held < CMD_OUTPUT_CAP
                }),
                Err(why) => {
                    e.err(&format!("sort: {name}: {why}\n"));
                    status = 2;
                }
            }
        }
        let key = |s: &str| -> f64 {
            let t = s.trim_start();
            let end = t
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
                .map_or(t.len(), |(i, _)| i);
            t[..end].parse().unwrap_or(0.0)
        };
        if numeric {
            lines.sort_by(|a, b| key(a).total_cmp(&key(b)).then_with(|| a.cmp(b)));
        } else {
            lines.sort();
        }
        if unique {
            lines.dedup();
        }
        if reverse {
            lines.reverse();
        }
        for l in lines {
            e.out(&l);
            e.out("\n");
        }
        status
    }
}

/// Names in columns, filled down then across, as `ls` does on a terminal.
fn columns(names: &[String], width: usize) -> String {
    if names.is_empty() {
        return String::new();
    }
    let col = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) + 2;
    let per_row = (width.max(col) / col).max(1);
    let rows = names.len().div_ceil(per_row);
    let mut s = String::new();
    for r in 0..rows {
        let mut line = String::new();
        for c in 0..per_row {
            if let Some(n) = names.get(c * rows + r) {
                line.push_str(&format!("{n:<col$}"));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

fn export(f: &mut Frame, args: &[String], e: &mut Emit) -> i32 {
    let names: Vec<&String> = args.iter().filter(|a| *a != "-p").collect();
    if names.is_empty() {
        for v in f.vars.iter().filter(|v| v.exported) {
            e.out(&format!("export {}={}\n", v.name, shell_quote(&v.value)));
        }
        return 0;
    }
    let mut status = 0;
    for a in names {
        let (n, v) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        if !is_name(n) {
            e.err(&format!("sh: export: {a}: bad variable name\n"));
            status = 1;
            continue;
        }
        match v {
            Some(v) => f.set_var(n, v, true),
            None => {
                if let Some(x) = f.vars.iter_mut().find(|x| x.name == n) {
                    x.exported = true;
                }
            }
        }
    }
    status
}

// --- echo, printf, test ------------------------------------------------------------------

/// One backslash escape (the `\` already read). `echo_style`: octal is `\0NNN` (echo,
/// `%b`); otherwise `\NNN` (printf formats). Returns true on `\c` (stop all output).
fn escape(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    out: &mut String,
    echo_style: bool,
) -> bool {
    let Some(c) = chars.next() else {
        out.push('\\');
        return false;
    };
    match c {
        'n' => out.push('\n'),
        't' => out.push('\t'),
        'r' => out.push('\r'),
        'a' => out.push('\x07'),
        'b' => out.push('\x08'),
        'e' => out.push('\x1b'),
        'f' => out.push('\x0c'),
        'v' => out.push('\x0b'),
        '\\' => out.push('\\'),
        'c' => return true,
        '0'..='7' => {
            let (mut v, mut digits) = if echo_style && c == '0' {
                (0u32, 0)
            } else if echo_style {
                out.push('\\');
                out.push(c);
                return false;
            } else {
                (c as u32 - '0' as u32, 1)
            };
            while digits < 3 {
                match chars.peek() {
                    Some(&d @ '0'..='7') => {
                        v = v * 8 + (d as u32 - '0' as u32);
                        chars.next();
                        digits += 1;
                    }
                    _ => break,
                }
            }
            out.push(char::from((v & 0xff) as u8));
        }
        other => {
            out.push('\\');
            out.push(other);
        }
    }
    false
}

fn echo(args: &[String], e: &mut Emit) -> i32 {
    let mut newline = true;
    let mut escapes = false;
    let mut rest = args;
    while let Some((a, more)) = rest.split_first() {
        match a.strip_prefix('-') {
            Some(fl) if !fl.is_empty() && fl.chars().all(|c| "neE".contains(c)) => {
                for c in fl.chars() {
                    match c {
                        'n' => newline = false,
                        'e' => escapes = true,
                        _ => escapes = false,
                    }
                }
                rest = more;
            }
            _ => break,
        }
    }
    let text = rest.join(" ");
    if escapes {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if escape(&mut chars, &mut out, true) {
                    e.out(&out);
                    return 0;
                }
            } else {
                out.push(c);
            }
        }
        e.out(&out);
    } else {
        e.out(&text);
    }
    if newline {
        e.out("\n");
    }
    0
}

/// A printf numeric argument: decimal, `0x` hex, or `'c` (the character's code).
fn printf_number(arg: &str) -> Option<i64> {
    let t = arg.trim();
    if t.is_empty() {
        return Some(0);
    }
    if let Some(c) = t.strip_prefix(['\'', '"']) {
        return Some(c.chars().next().map_or(0, |c| c as i64));
    }
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(h) => i64::from_str_radix(h, 16).ok()?,
        None => digits.parse::<i64>().ok()?,
    };
    Some(if neg { -v } else { v })
}

fn printf(args: &[String], e: &mut Emit) -> i32 {
    let Some((fmt, rest)) = args.split_first() else {
        e.err("sh: printf: usage: printf format [arg ...]\n");
        return 2;
    };
    let mut status = 0;
    let mut next = 0usize;
    let mut out = String::new();
    loop {
        let before = next;
        let stop = printf_once(fmt, rest, &mut next, &mut out, &mut status, e);
        if stop || next >= rest.len() || next == before || out.len() > CMD_OUTPUT_CAP {
            break;
        }
    }
    e.out(&out);
    status
}

/// One pass over the format. Returns true when output must stop (`\c`, bad directive).
fn printf_once(
    fmt: &str,
    args: &[String],
    next: &mut usize,
    out: &mut String,
    status: &mut i32,
    e: &mut Emit,
) -> bool {
    let take = |next: &mut usize| -> String {
        let a = args.get(*next).cloned().unwrap_or_default();
        *next += 1;
        a
    };
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() > CMD_OUTPUT_CAP {
            return true;
        }
        match c {
            '\\' => {
                if escape(&mut chars, out, false) {
                    return true;
                }
            }
            '%' => {
                if chars.peek() == Some(&'%') {
                    chars.next();
                    out.push('%');
                    continue;
                }
                let mut flags = String::new();
                while let Some(&f) = chars.peek() {
                    if "-+ #0".contains(f) {
                        flags.push(f);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
                              next: &mut usize|
                 -> Option<usize> {
                    if chars.peek() == Some(&'*') {
                        chars.next();
                        let a = take(next);
                        return Some(printf_number(&a).unwrap_or(0).clamp(0, 4096) as usize);
                    }
                    let mut s = String::new();
                    while let Some(&d) = chars.peek() {
                        if d.is_ascii_digit() {
                            s.push(d);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    if s.is_empty() {
                        None
                    } else {
                        Some(s.parse::<usize>().unwrap_or(4096).min(4096))
                    }
                };
                let width = number(&mut chars, next).unwrap_or(0);
                let precision = if chars.peek() == Some(&'.') {
                    chars.next();
                    Some(number(&mut chars, next).unwrap_or(0))
                } else {
                    None
                };
                let Some(conv) = chars.next() else {
                    e.err("sh: printf: %: invalid directive\n");
                    *status = 1;
                    return true;
                };
                let mut numeric = true;
                let body = match conv {
                    's' => {
                        numeric = false;
                        let a = take(next);
                        match precision {
                            Some(p) => a.chars().take(p).collect(),
                            None => a,
                        }
                    }
                    'b' => {
                        numeric = false;
                        let a = take(next);
                        let mut s = String::new();
                        let mut cs = a.chars().peekable();
                        let mut stop = false;
                        while let Some(c) = cs.next() {
                            if c == '\\' {
                                if escape(&mut cs, &mut s, true) {
                                    stop = true;
                                    break;
                                }
                            } else {
                                s.push(c);
                            }
                        }
                        if stop {
                            out.push_str(&s);
                            return true;
                        }
                        s
                    }
                    'c' => {
                        numeric = false;
                        take(next)
                            .chars()
                            .next()
                            .map(String::from)
                            .unwrap_or_default()
                    }
                    'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                        let a = take(next);
                        let v = printf_number(&a).unwrap_or_else(|| {
                            e.err(&format!("sh: printf: {a}: invalid number\n"));
                            *status = 1;
                            0
                        });
                        match conv {
                            'd' | 'i' => {
                                let sign = if v < 0 {
                                    "-"
                                } else if flags.contains('+') {
                                    "+"
                                } else if flags.contains(' ') {
                                    " "
                                } else {
                                    ""
                                };
                                format!("{sign}{}", v.unsigned_abs())
                            }
                            'u' => format!("{}", v as u64),
                            'x' => format!("{:x}", v as u64),
                            'X' => format!("{:X}", v as u64),
                            _ => format!("{:o}", v as u64),
                        }
                    }
                    'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                        let a = take(next);
                        let v = a.trim().parse::<f64>().unwrap_or_else(|_| {
                            if !a.trim().is_empty() {
                                e.err(&format!("sh: printf: {a}: invalid number\n"));
                                *status = 1;
                            }
                            0.0
                        });
                        format!("{v:.*}", precision.unwrap_or(6))
                    }
                    other => {
                        e.err(&format!("sh: printf: %{other}: invalid directive\n"));
                        *status = 1;
                        return true;
                    }
                };
                let len = body.chars().count();
                if len >= width {
                    out.push_str(&body);
                } else if flags.contains('-') {
                    out.push_str(&body);
                    out.extend(std::iter::repeat_n(' ', width - len));
                } else if numeric && flags.contains('0') {
                    let (sign, digits) = match body.strip_prefix(['-', '+', ' ']) {
                        Some(d) => (&body[..1], d),
                        None => ("", body.as_str()),
                    };
                    out.push_str(sign);
                    out.extend(std::iter::repeat_n('0', width - len));
                    out.push_str(digits);
                } else {
                    out.extend(std::iter::repeat_n(' ', width - len));
                    out.push_str(&body);
                }
            }
            c => out.push(c),
        }
    }
    false
}

/// `test`/`[`: status 0 true, 1 false, 2 error.
fn test_status(sh: &Shell, f: &Frame, args: &[String], e: &mut Emit) -> i32 {
    match test_eval(sh, f, args) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(msg) => {
            e.err(&format!("sh: test: {msg}\n"));
            2
        }
    }
}

fn test_eval(sh: &Shell, f: &Frame, args: &[String]) -> Result<bool, String> {
    let int = |s: &str| -> Result<i64, String> {
        s.trim()
            .parse::<i64>()
            .map_err(|_| format!("{s}: bad number"))
    };
    let node = |p: &str| sh.node(&resolve(&f.cwd, p));
    match args {
        [] => Ok(false),
        [a] => Ok(!a.is_empty()),
        [not, rest @ ..] if not == "!" => test_eval(sh, f, rest).map(|v| !v),
        [op, a] => match op.as_str() {
            "-z" => Ok(a.is_empty()),
            "-n" => Ok(!a.is_empty()),
            "-e" | "-r" | "-w" => Ok(node(a).is_some()),
            "-f" => Ok(matches!(node(a), Some(Node::File(_)))),
            "-d" => Ok(matches!(node(a), Some(Node::Dir(_)))),
            "-s" => Ok(matches!(node(a), Some(Node::File(p)) if total_len(&p) > 0)),
            "-x" => Ok(match node(a) {
                Some(Node::Dir(_)) => true,
                Some(Node::File(_)) => is_executable(&resolve(&f.cwd, a)),
                None => false,
            }),
            _ => Err(format!("{op}: unknown operand")),
        },
        [a, op, b] => match op.as_str() {
            "=" | "==" => Ok(a == b),
            "!=" => Ok(a != b),
            "-eq" => Ok(int(a)? == int(b)?),
            "-ne" => Ok(int(a)? != int(b)?),
            "-lt" => Ok(int(a)? < int(b)?),
            "-le" => Ok(int(a)? <= int(b)?),
            "-gt" => Ok(int(a)? > int(b)?),
            "-ge" => Ok(int(a)? >= int(b)?),
            _ => Err(format!("{op}: unknown operand")),
        },
        _ => Err("too many arguments".into()),
    }
}

// --- time ----------------------------------------------------------------------------------

/// Days since 1970-01-01 → (year, month 1–12, day 1–31), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days end each 400/100/4-year cycle.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Shell {
    fn now_ms(&self) -> u64 {
        self.clock_ms.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        })
    }

    /// (year, month, day, hour, minute, second, weekday 0 = Sunday), UTC.
    fn now_parts(&self) -> (i64, u32, u32, u64, u64, u64, u64) {
        let secs = self.now_ms() / 1000;
        let days = secs / 86_400;
        let (y, mo, d) = civil_from_days(days as i64);
        let rem = secs % 86_400;
        (
            y,
            mo,
            d,
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            (days + 4) % 7,
        )
    }

    fn format_date(&self, fmt: &str) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (y, mo, d, h, mi, s, wd) = self.now_parts();
        let mut out = String::new();
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('a') => out.push_str(DAYS[wd as usize % 7]),
                Some('b') | Some('h') => out.push_str(MONTHS[(mo as usize + 11) % 12]),
                Some('d') => out.push_str(&format!("{d:02}")),
                Some('e') => out.push_str(&format!("{d:>2}")),
                Some('H') => out.push_str(&format!("{h:02}")),
                Some('M') => out.push_str(&format!("{mi:02}")),
                Some('S') => out.push_str(&format!("{s:02}")),
                Some('Y') => out.push_str(&y.to_string()),
                Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
                Some('m') => out.push_str(&format!("{mo:02}")),
                Some('s') => out.push_str(&(self.now_ms() / 1000).to_string()),
                Some('F') => out.push_str(&format!("{y}-{mo:02}-{d:02}")),
                Some('T') => out.push_str(&format!("{h:02}:{mi:02}:{s:02}")),
                Some('Z') => out.push_str("UTC"),
                Some('z') => out.push_str("+0000"),
                Some('n') => out.push('\n'),
                Some('%') => out.push('%'),
                Some(o) => {
                    out.push('%');
                    out.push(o);
                }
                None => out.push('%'),
            }
        }
        out
    }
}

// --- the network -----------------------------------------------------------------------------

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

    fn curl(&self, args: &[String], e: &mut Emit) -> i32 {
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
    fn wget(&self, args: &[String], e: &mut Emit) -> i32 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TASK: &str = "0f4e1c2a9b8d4e7f8a1b2c3d4e5f6a7b";
    const SENTINEL: &str = "__BERTH_EXIT_9f3a";

    fn ctx() -> ShellContext {
        ShellContext {
            task_id: TASK.into(),
            container: "checkout-api".into(),
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout-api:v1.4.2".into(),
            env: vec![
                ("APP_ENV".into(), "prod".into()),
                ("LOG_LEVEL".into(), "info".into()),
            ],
            secret_names: vec!["DB_PASSWORD".into(), "STRIPE_KEY".into()],
            ports: vec![8080],
            cluster: "prod".into(),
        }
    }

    /// berth's wrapper around an interactive shell.
    fn interactive_wrapper() -> String {
        r#"sh -c 'sh -c "$1"; printf "\n%s%s:%s\n" __BERTH_ EXIT_9f3a "$?"' berth /bin/sh"#
            .to_string()
    }

    /// berth's wrapper around a scripted command.
    fn scripted_wrapper(cmd: &str) -> String {
        format!(
            r#"sh -c 'stty -echo -onlcr 2>/dev/null; sh -c "$1"; printf "\n%s%s:%s\n" __BERTH_ EXIT_9f3a "$?"' berth {}"#,
            shell_quote(cmd)
        )
    }

    fn drain(sh: &mut Shell) -> Vec<u8> {
        let mut all = Vec::new();
        loop {
            let chunk = sh.read_output(8192);
            if chunk.is_empty() {
                return all;
            }
            all.extend_from_slice(&chunk);
        }
    }

    fn text(sh: &mut Shell) -> String {
        String::from_utf8_lossy(&drain(sh)).into_owned()
    }

    fn typed(sh: &mut Shell, keys: &str) -> String {
        sh.input(keys.as_bytes());
        text(sh)
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        ring::digest::digest(&ring::digest::SHA256, bytes)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn wrapper_interactive_runs_hostname_and_reports_exit_3() {
        let mut sh = Shell::start(ctx(), &interactive_wrapper());
        assert_eq!(text(&mut sh), "/ # ");
        let out = typed(&mut sh, "hostname\r");
        assert_eq!(out, format!("hostname\r\n{TASK}\r\n/ # "));
        assert_eq!(sh.exited(), None);
        let out = typed(&mut sh, "exit 3\r");
        assert_eq!(out, format!("exit 3\r\n\r\n{SENTINEL}:3\r\n"));
        // The outer `sh -c` ends with printf's status; berth reads the sentinel.
        assert_eq!(sh.exited(), Some(0));
        sh.input(b"more\r");
        assert_eq!(sh.read_output(100), b"");
    }

    #[test]
    fn wrapper_scripted_mode_has_no_echo_or_cr() {
        let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /etc/os-release"));
        let out = text(&mut sh);
        assert!(
            out.starts_with("NAME=\"Alpine Linux\"\nID=alpine\n"),
            "{out}"
        );
        assert!(out.ends_with(&format!("\n\n{SENTINEL}:0\n")), "{out}");
        assert!(!out.contains('\r'));
        assert_eq!(sh.exited(), Some(0));

        let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /nope; true"));
        let out = text(&mut sh);
        assert_eq!(
            out,
            format!("cat: /nope: No such file or directory\n\n{SENTINEL}:0\n")
        );
        let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /nope"));
        assert!(text(&mut sh).ends_with(&format!("{SENTINEL}:1\n")));
    }

    #[test]
    fn debian_images_get_a_debian_os_release() {
        let mut c = ctx();
        c.image = "python:3.12-slim-bookworm".into();
        let mut sh = Shell::start(c, "cat /etc/os-release");
        assert!(text(&mut sh).contains("ID=debian\r\n"));
    }

    #[test]
    fn stty_size_follows_resize() {
        let mut sh = Shell::start(ctx(), "/bin/sh");
        text(&mut sh);
        assert!(typed(&mut sh, "stty size\r").contains("\r\n24 80\r\n"));
        sh.resize(120, 40);
        assert_eq!(typed(&mut sh, "stty size\r"), "stty size\r\n40 120\r\n/ # ");
    }

    #[test]
    fn env_lists_secret_names_without_values() {
        let mut sh = Shell::start(ctx(), "env");
        let out = text(&mut sh);
        let lines: Vec<&str> = out.split("\r\n").collect();
        for want in [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            &format!("HOSTNAME={TASK}"),
            "APP_ENV=prod",
            "LOG_LEVEL=info",
            "DB_PASSWORD=",
            "STRIPE_KEY=",
            "HOME=/root",
        ] {
            assert!(lines.contains(&want), "{want} missing in {out:?}");
        }
        assert_eq!(sh.exited(), Some(0));
        // `$SECRET` expands to nothing too.
        let mut sh = Shell::start(ctx(), r#"sh -c 'echo "[$DB_PASSWORD]" $APP_ENV'"#);
        assert_eq!(text(&mut sh), "[] prod\r\n");
    }

    #[test]
    fn data_1m_is_one_mib_and_sha256sum_matches_cat() {
        let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /var/lib/berth/data-1m"));
        let out = drain(&mut sh);
        let tail = format!("\n{SENTINEL}:0\n");
        assert!(out.ends_with(tail.as_bytes()));
        let data = &out[..out.len() - tail.len()];
        assert_eq!(data.len(), 1_048_576);
        assert!(
            data.iter()
                .all(|&b| b == b'\n' || (0x20..0x7f).contains(&b))
        );
        assert_eq!(data, data_file(1 << 20).collect::<Vec<u8>>().as_slice());
        assert_eq!(&data[..64], &data_line(0));
        assert_eq!(data.iter().filter(|&&b| b == b'\n').count(), 16_384);

        let mut sh = Shell::start(ctx(), &scripted_wrapper("sha256sum /var/lib/berth/data-1m"));
        let want = format!(
            "{}  /var/lib/berth/data-1m\n\n{SENTINEL}:0\n",
            sha256_hex(data)
        );
        assert_eq!(text(&mut sh), want);

        let mut sh = Shell::start(
            ctx(),
            &scripted_wrapper("wc -c /var/lib/berth/data-1m; head -c 70 /var/lib/berth/data-1m"),
        );
        let out = drain(&mut sh);
        let mut want = b"1048576 /var/lib/berth/data-1m\n".to_vec();
        want.extend_from_slice(&data[..70]);
        want.extend_from_slice(tail.as_bytes());
        assert_eq!(out, want);
    }

    #[test]
    fn data_10m_streams_in_bounded_memory() {
        const SIZE: usize = 10_485_760;
        let mut sh = Shell::start(
            ctx(),
            "sh -c 'stty -onlcr; cat /var/lib/berth/data-10m; echo done'",
        );
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        let mut total = 0usize;
        let mut after = Vec::new();
        loop {
            assert!(sh.out.materialized() <= 2 * HIGH_WATER as usize);
            let chunk = sh.read_output(65_536);
            if chunk.is_empty() {
                break;
            }
            let data = chunk.len().min(SIZE.saturating_sub(total));
            digest.update(&chunk[..data]);
            after.extend_from_slice(&chunk[data..]);
            total += chunk.len();
        }
        assert_eq!(total, SIZE + "done\n".len());
        assert_eq!(after, b"done\n");
        assert_eq!(sh.exited(), Some(0));
        let streamed: String = digest
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();

        let mut sh = Shell::start(
            ctx(),
            "sh -c 'stty -onlcr; sha256sum /var/lib/berth/data-10m'",
        );
        assert_eq!(
            text(&mut sh),
            format!("{streamed}  /var/lib/berth/data-10m\n")
        );
    }

    #[test]
    fn onlcr_on_and_off() {
        let mut sh = Shell::start(ctx(), "sh -c 'echo a; echo b'");
        assert_eq!(text(&mut sh), "a\r\nb\r\n");
        let mut sh = Shell::start(
            ctx(),
            "sh -c 'echo a; stty -onlcr; echo b; stty onlcr; echo c'",
        );
        assert_eq!(text(&mut sh), "a\r\nb\nc\r\n");
        // Echo of the typed newline follows the setting too.
        let mut sh = Shell::start(ctx(), "sh");
        text(&mut sh);
        assert_eq!(typed(&mut sh, "stty -onlcr\r"), "stty -onlcr\r\n/ # ");
        assert_eq!(typed(&mut sh, "pwd\r"), "pwd\n/\n/ # ");
    }

    #[test]
    fn stty_echo_toggles_echo() {
        let mut sh = Shell::start(ctx(), "sh");
        text(&mut sh);
        assert_eq!(typed(&mut sh, "stty -echo\r"), "stty -echo\r\n/ # ");
        assert_eq!(typed(&mut sh, "whoami\r"), "root\r\n/ # ");
        assert_eq!(typed(&mut sh, "stty echo\r"), "/ # ");
        assert_eq!(
            typed(&mut sh, "id\r"),
            "id\r\nuid=0(root) gid=0(root) groups=0(root)\r\n/ # "
        );
    }

    #[test]
    fn ctrl_c_prints_caret_c_and_a_new_prompt() {
        let mut sh = Shell::start(ctx(), &interactive_wrapper());
        text(&mut sh);
        assert_eq!(typed(&mut sh, "echo half"), "echo half");
        assert_eq!(typed(&mut sh, "\x03"), "^C\r\n/ # ");
        assert_eq!(typed(&mut sh, "echo $?\r"), "echo $?\r\n130\r\n/ # ");
        // Ctrl-\ and Ctrl-Z are shown and otherwise ignored.
        assert_eq!(typed(&mut sh, "ab\x1c\x1a"), "ab^\\^Z");
        assert_eq!(
            typed(&mut sh, "\x15true\r"),
            "\x08 \x08\x08 \x08true\r\n/ # "
        );
        assert_eq!(sh.exited(), None);
    }

    #[test]
    fn ctrl_c_interrupts_a_long_cat() {
        let mut sh = Shell::start(ctx(), &interactive_wrapper());
        text(&mut sh);
        sh.input(b"cat /var/lib/berth/data-10m\r");
        let first = sh.read_output(100_000);
        assert_eq!(first.len(), 100_000);
        sh.input(b"\x03");
        let rest = text(&mut sh);
        assert!(rest.len() < 200_000, "{}", rest.len());
        assert!(
            rest.ends_with("^C\r\n/ # "),
            "{:?}",
            &rest[rest.len().saturating_sub(40)..]
        );
        assert_eq!(
            typed(&mut sh, "exit\r"),
            format!("exit\r\n\r\n{SENTINEL}:130\r\n")
        );

        // Without an interactive shell, ^C ends the session.
        let mut sh = Shell::start(ctx(), &scripted_wrapper("cat /var/lib/berth/data-10m"));
        assert!(!sh.read_output(10).is_empty());
        sh.input(b"\x03");
        let rest = drain(&mut sh);
        assert!(rest.len() < 200_000);
        assert!(!String::from_utf8_lossy(&rest).contains(SENTINEL));
        assert_eq!(sh.exited(), Some(130));
    }

    #[test]
    fn unknown_command_is_127() {
        let mut sh = Shell::start(ctx(), &interactive_wrapper());
        text(&mut sh);
        assert_eq!(
            typed(&mut sh, "frobnicate --now\r"),
            "frobnicate --now\r\nsh: frobnicate: not found\r\n/ # "
        );
        assert_eq!(typed(&mut sh, "echo $?\r"), "echo $?\r\n127\r\n/ # ");
        let mut sh = Shell::start(ctx(), &scripted_wrapper("vim /etc/hosts"));
        assert_eq!(
            text(&mut sh),
            format!("sh: vim: not found\n\n{SENTINEL}:127\n")
        );
        // The agent itself runs a bare command: no shell to say "not found".
        let mut sh = Shell::start(ctx(), "vim");
        assert!(text(&mut sh).contains("executable file not found in $PATH"));
        assert_eq!(sh.exited(), Some(127));
    }

    #[test]
    fn exit_without_argument_uses_the_last_status() {
        let mut sh = Shell::start(ctx(), "sh -c 'false; exit'");
        assert_eq!(text(&mut sh), "");
        assert_eq!(sh.exited(), Some(1));
        let mut sh = Shell::start(ctx(), &interactive_wrapper());
        text(&mut sh);
        typed(&mut sh, "cat /missing\r");
        assert!(typed(&mut sh, "exit\r").ends_with(&format!("{SENTINEL}:1\r\n")));
        let mut sh = Shell::start(ctx(), "/bin/bash");
        text(&mut sh);
        typed(&mut sh, "true\r");
        assert_eq!(typed(&mut sh, "exit\r"), "exit\r\n");
        assert_eq!(sh.exited(), Some(0));
    }

    #[test]
    fn ctrl_d_on_an_empty_line_exits() {
        let mut sh = Shell::start(ctx(), "sh");
        text(&mut sh);
        typed(&mut sh, "false\r");
        assert_eq!(typed(&mut sh, "ab\x04"), "ab");
        assert_eq!(sh.exited(), None);
        assert_eq!(typed(&mut sh, "\x7f\x7f\x04"), "\x08 \x08\x08 \x08");
        assert_eq!(sh.exited(), Some(1));
    }

    #[test]
    fn bare_commands_run_once() {
        let mut sh = Shell::start(ctx(), "hostname");
        assert_eq!(text(&mut sh), format!("{TASK}\r\n"));
        assert_eq!(sh.exited(), Some(0));
        let mut sh = Shell::start(ctx(), "cat /etc/nothing");
        assert_eq!(
            text(&mut sh),
            "cat: /etc/nothing: No such file or directory\r\n"
        );
        assert_eq!(sh.exited(), Some(1));
        let mut sh = Shell::start(ctx(), "ls /var/lib/berth");
        assert_eq!(text(&mut sh), "data-10m  data-1m\r\n");
    }

    #[test]
    fn curl_reaches_only_the_task_ports() {
        let mut sh = Shell::start(ctx(), "curl -s localhost:8080/healthz");
        assert_eq!(text(&mut sh), format!("ok {TASK}\r\n"));
        assert_eq!(sh.exited(), Some(0));
        let mut sh = Shell::start(ctx(), "curl http://localhost:9000/healthz");
        assert_eq!(
            text(&mut sh),
            "curl: (7) Failed to connect to localhost port 9000 after 0 ms: Couldn't connect to server\r\n"
        );
        assert_eq!(sh.exited(), Some(7));
        // -s hides the message (as curl does), -S brings it back.
        let mut sh = Shell::start(ctx(), "curl -s localhost:9000/healthz");
        assert_eq!(text(&mut sh), "");
        assert_eq!(sh.exited(), Some(7));
        let mut sh = Shell::start(ctx(), "curl -sS localhost:9000/");
        assert!(text(&mut sh).starts_with("curl: (7)"));
        let mut sh = Shell::start(
            ctx(),
            "sh -c 'curl -s -o /dev/null -w \"%{http_code}\" http://127.0.0.1:8080/healthz'",
        );
        assert_eq!(text(&mut sh), "200");
        let mut sh = Shell::start(ctx(), "wget -qO- http://localhost:8080/healthz");
        assert_eq!(text(&mut sh), format!("ok {TASK}\r\n"));
    }

    #[test]
    fn words_split_like_a_posix_shell() {
        let mut sh = Shell::start(
            ctx(),
            r#"sh -c 'printf "[%s]" "$@" a\ b "c  d" '"'"'e'"'"' $0; printf "%s|%d|%5s|%-3s|%03d|%x\n" x 42 r l 7 255' zero "one two" "" three"#,
        );
        assert_eq!(
            text(&mut sh),
            "[one two][][three][a b][c  d][e][zero]x|42|    r|l  |007|ff\r\n"
        );
        let mut sh = Shell::start(
            ctx(),
            r#"sh -c 'X="a  b"; printf "<%s>" $X "$X" ${UNSET:-dflt} ~; echo'"#,
        );
        assert_eq!(text(&mut sh), "<a><b><a  b><dflt></root>\r\n");
        let mut sh = Shell::start(
            ctx(),
            r#"sh -c 'false && echo no || echo yes; true || echo no; echo $?'"#,
        );
        assert_eq!(text(&mut sh), "yes\r\n0\r\n");
        let mut sh = Shell::start(
            ctx(),
            r#"sh -c 'echo out >/dev/null; cat /nope 2>/dev/null; echo $?; cat /nope >/dev/null 2>&1 || echo quiet'"#,
        );
        assert_eq!(text(&mut sh), "1\r\nquiet\r\n");
        let mut sh = Shell::start(ctx(), "sh -c 'echo \"unterminated'");
        assert_eq!(
            text(&mut sh),
            "sh: syntax error: unexpected end of file\r\n"
        );
        assert_eq!(sh.exited(), Some(2));
    }

    #[test]
    fn nested_shells_and_exec() {
        let mut sh = Shell::start(
            ctx(),
            "sh -c 'sh -c \"exit 4\"; echo $?; exec sh -c \"exit 5\"; echo never'",
        );
        assert_eq!(text(&mut sh), "4\r\n");
        assert_eq!(sh.exited(), Some(5));
        // An interactive sub-shell inside an interactive shell.
        let mut sh = Shell::start(ctx(), "sh");
        text(&mut sh);
        typed(&mut sh, "cd /etc\r");
        assert_eq!(typed(&mut sh, "sh\r"), "sh\r\n/etc # ");
        assert_eq!(typed(&mut sh, "exit 9\r"), "exit 9\r\n/etc # ");
        assert_eq!(typed(&mut sh, "echo $?\r"), "echo $?\r\n9\r\n/etc # ");
    }

    #[test]
    fn pipes_and_filters() {
        let mut sh = Shell::start(
            ctx(),
            "sh -c 'env | grep -c _; ps | grep ssm-agent-worker | wc -l; cat /var/lib/berth/data-10m | wc -c; head -n 2 /var/lib/berth/data-1m | tail -n 1 | cut'",
        );
        let out = text(&mut sh);
        // `ps | grep` also finds the shell running the pipeline, as on a real box.
        assert!(
            out.starts_with("4\r\n2\r\n10485760\r\nsh: cut: not found\r\n"),
            "{out}"
        );
        let mut sh = Shell::start(ctx(), "sh -c 'tail -c 64 /var/lib/berth/data-1m'");
        let line = data_line(16_383);
        assert_eq!(text(&mut sh).as_bytes(), onlcr(&line).as_slice());
    }

    #[test]
    fn continuation_lines_and_syntax_errors() {
        let mut sh = Shell::start(ctx(), "sh");
        text(&mut sh);
        assert_eq!(typed(&mut sh, "echo 'a\r"), "echo 'a\r\n> ");
        assert_eq!(typed(&mut sh, "b'\r"), "b'\r\na\r\nb\r\n/ # ");
        assert_eq!(
            typed(&mut sh, "&& x\r"),
            "&& x\r\nsh: syntax error: unexpected \"&&\"\r\n/ # "
        );
        assert_eq!(
            typed(&mut sh, "echo $(id)\r").lines().nth(1),
            Some("sh: syntax error: command substitution is not simulated in the berth sandbox")
        );
    }

    #[test]
    fn line_is_capped_and_bytes_are_echoed_safely() {
        let mut sh = Shell::start(ctx(), "sh");
        text(&mut sh);
        sh.input(&vec![b'x'; 10_000]);
        let out = drain(&mut sh);
        assert_eq!(out.len(), LINE_MAX);
        let out = typed(&mut sh, "\r");
        assert!(out.contains(&format!("sh: {}: not found", "x".repeat(LINE_MAX))));
        // Invalid UTF-8 and escape sequences do not break anything.
        sh.input(b"\xff\xfe\x1b[A\r");
        let out = text(&mut sh);
        assert!(
            out.starts_with("\u{fffd}\u{fffd}^[[A\r\n") || out.contains("^[[A"),
            "{out:?}"
        );
        // Backspace over a multi-byte character removes all of it.
        sh.input("é\x7fecho ok\r".as_bytes());
        assert!(text(&mut sh).ends_with("ok\r\n/ # "));
    }

    #[test]
    fn shell_can_move_between_threads() {
        fn send<T: Send + 'static>() {}
        send::<Shell>();
    }

    #[test]
    fn lexer_and_parser_units() {
        let items = parse_script("a 2>/dev/null; b && c || d | e\n# comment\nf").unwrap();
        let conns: Vec<Conn> = items.iter().map(|i| i.conn).collect();
        assert_eq!(
            conns,
            [Conn::Seq, Conn::Seq, Conn::And, Conn::Or, Conn::Seq]
        );
        assert_eq!(items[0].pipeline[0].redirs[0].fd, Some(2));
        assert_eq!(items[3].pipeline.len(), 2);
        assert_eq!(parse_script("a &&"), Err(SyntaxError::Incomplete));
        assert_eq!(parse_script("a |\n b").map(|i| i.len()), Ok(1));
        assert!(matches!(parse_script("; a"), Err(SyntaxError::Bad(_))));
        // Without operators (the agent's split), `;` is an ordinary character.
        let toks = lex("a;b 'c d'", false).unwrap();
        assert_eq!(toks.len(), 2);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }

    #[test]
    fn date_uses_the_clock() {
        let mut sh = Shell::start(ctx(), "sh");
        text(&mut sh);
        sh.set_clock(1_796_406_894_000); // 2026-12-04 17:54:54 UTC, a Friday
        assert_eq!(
            typed(&mut sh, "date\r"),
            "date\r\nFri Dec  4 17:54:54 UTC 2026\r\n/ # "
        );
        assert_eq!(
            typed(&mut sh, "date +%F\r"),
            "date +%F\r\n2026-12-04\r\n/ # "
        );
    }

    fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
        let fragments: Vec<&'static [u8]> = vec![
            b"\r",
            b"\n",
            b"\x03",
            b"\x04",
            b"\x7f",
            b"\x15",
            b"\x17",
            b"\x1c",
            b"\x1a",
            b"'",
            b"\"",
            b"$",
            b"$1",
            b"${",
            b"|",
            b"&&",
            b";",
            b" ",
            b"\\",
            b">",
            b"2>&1",
            b"cat /var/lib/berth/data-10m",
            b"cat /var/lib/berth/data-1m | wc -l",
            b"sh",
            b"sh -c 'exit 4'",
            b"exit 2",
            b"exit",
            b"stty -echo",
            b"stty -onlcr",
            b"printf '%s%d%5x' a 1 2",
            b"env",
            b"ps",
            b"ls -la /",
            b"curl localhost:8080/",
            b"grep -n a /etc/hosts",
            b"echo -e '\\0101\\c'",
            b"cd ..",
            b"~",
            b"#",
        ];
        prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..8),
                prop::sample::select(fragments).prop_map(|f| f.to_vec()),
            ],
            0..40,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_input_never_panics_and_output_stays_bounded(
            keys in key_strategy(),
            splits in prop::collection::vec(1usize..64, 1..8),
            reads in prop::collection::vec(0usize..20_000, 1..8),
            wrapper in any::<bool>(),
        ) {
            let cmd = if wrapper { interactive_wrapper() } else { "/bin/sh".to_string() };
            let mut sh = Shell::start(ctx(), &cmd);
            let mut rest = keys.as_slice();
            let mut k = 0;
            while !rest.is_empty() {
                let n = splits[k % splits.len()].min(rest.len());
                sh.input(&rest[..n]);
                rest = &rest[n..];
                let max = reads[k % reads.len()];
                let out = sh.read_output(max);
                prop_assert!(out.len() <= max);
                prop_assert!(sh.out.materialized() <= HIGH_WATER as usize + CMD_OUTPUT_CAP + 8 * LINE_MAX);
                prop_assert!(sh.input.len() <= INPUT_CAP);
                k += 1;
            }
            // Whatever happened, the session can be brought to an end.
            sh.input(b"\x03\x04\x03\x04\x03\x04");
            let mut guard = 0;
            while sh.exited().is_none() && guard < 10_000 {
                sh.read_output(1 << 20);
                sh.input(b"\x03exit\r\x04");
                guard += 1;
            }
            prop_assert!(sh.exited().is_some());
        }
    }
}
