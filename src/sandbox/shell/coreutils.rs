//! The commands that read files: `ls`, `cat`, `head`, `tail`, `wc`, `sha256sum`, `grep` and
//! `sort`. They stream the pieces a block at a time, so the data files stay lazy.

use super::files::{Node, is_executable, resolve};
use super::pieces::{
    Emit, Piece, for_each_block, for_each_line, nth_newline_end, slice_pieces, total_len,
};
use super::run::Frame;
use super::{CMD_OUTPUT_CAP, Shell};

/// `-n 5`, `-n5`, `-5`, `-c 100`: how much `head`/`tail` keep.
#[derive(Debug, Clone, Copy)]
enum Amount {
    Lines(u64),
    Bytes(u64),
}

impl Shell {
    pub(super) fn ls(&self, f: &Frame, args: &[String], e: &mut Emit) -> i32 {
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

    pub(super) fn cat(&self, f: &Frame, args: &[String], stdin: &[Piece], e: &mut Emit) -> i32 {
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

    pub(super) fn head_tail(
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

    pub(super) fn wc(&self, f: &Frame, args: &[String], stdin: &[Piece], e: &mut Emit) -> i32 {
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

    pub(super) fn sha256sum(
        &self,
        f: &Frame,
        args: &[String],
        stdin: &[Piece],
        e: &mut Emit,
    ) -> i32 {
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

    pub(super) fn grep(&self, f: &Frame, args: &[String], stdin: &[Piece], e: &mut Emit) -> i32 {
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

    pub(super) fn sort(&self, f: &Frame, args: &[String], stdin: &[Piece], e: &mut Emit) -> i32 {
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
