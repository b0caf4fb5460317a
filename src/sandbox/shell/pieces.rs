//! Output as pieces: literal bytes or ranges of the data files, which are generated only when
//! read, so a 10 MiB `cat` never sits in memory. Commands write into an [`Emit`].

use super::files::fill_data;
use super::{CMD_OUTPUT_CAP, SCAN_BLOCK};

/// A run of output: literal bytes, or a range of the data files (generated when read).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Piece {
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

pub(super) fn total_len(pieces: &[Piece]) -> u64 {
    pieces.iter().map(Piece::len).sum()
}

/// Call `f` with consecutive blocks of the pieces' bytes until it returns false.
pub(super) fn for_each_block(pieces: &[Piece], mut f: impl FnMut(&[u8]) -> bool) {
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
pub(super) fn slice_pieces(pieces: &[Piece], from: u64, to: u64) -> Vec<Piece> {
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
pub(super) fn nth_newline_end(pieces: &[Piece], n: u64) -> Option<u64> {
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
pub(super) fn for_each_line(pieces: &[Piece], mut f: impl FnMut(&[u8]) -> bool) {
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

/// A command's output, in write order, per file descriptor (1 or 2).
#[derive(Debug, Default)]
pub(super) struct Emit {
    pub(super) parts: Vec<(usize, Piece)>,
    bytes: usize,
}

impl Emit {
    pub(super) fn out(&mut self, s: &str) {
        self.push(1, s.as_bytes());
    }

    pub(super) fn err(&mut self, s: &str) {
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

    pub(super) fn pieces(&mut self, fd: usize, pieces: Vec<Piece>) {
        for p in pieces {
            match p {
                Piece::Bytes(b) => self.push(fd, &b),
                Piece::Data { .. } => self.parts.push((fd, p)),
            }
        }
    }

    pub(super) fn full(&self) -> bool {
        self.bytes >= CMD_OUTPUT_CAP
    }
}
