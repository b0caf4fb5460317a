//! The builtins with a small language of their own: `echo`, `printf`, `test`/`[`, and
//! `export`.

use super::files::{Node, is_executable, resolve};
use super::pieces::{Emit, total_len};
use super::run::Frame;
use super::words::{is_name, shell_quote};
use super::{CMD_OUTPUT_CAP, Shell};

pub(super) fn export(f: &mut Frame, args: &[String], e: &mut Emit) -> i32 {
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

pub(super) fn echo(args: &[String], e: &mut Emit) -> i32 {
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

pub(super) fn printf(args: &[String], e: &mut Emit) -> i32 {
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
pub(super) fn test_status(sh: &Shell, f: &Frame, args: &[String], e: &mut Emit) -> i32 {
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
