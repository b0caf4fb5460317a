//! Words: the lexer (quotes, `$VAR`, operators, redirections) and expansion (parameters, `~`,
//! field splitting of unquoted expansions).

use super::Shell;
use super::run::{Frame, Kind};

/// Part of a word, remembering whether it was quoted (quoted parts are not field-split).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Part {
    Lit(String, bool),
    Param {
        name: String,
        default: Option<String>,
        quoted: bool,
    },
    /// A leading unquoted `~`: `$HOME`.
    Tilde,
}

pub(super) type Word = Vec<Part>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Semi,
    Newline,
    And,
    Or,
    Pipe,
    Amp,
}

impl Op {
    pub(super) fn shown(self) -> &'static str {
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
pub(super) enum RedirOp {
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
pub(super) enum Tok {
    Word(Word),
    Op(Op),
    Redir(Option<u32>, RedirOp),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum SyntaxError {
    /// More input would complete it (open quote, trailing `&&`, `|` or `\`).
    Incomplete,
    Bad(String),
}

pub(super) fn is_name(s: &str) -> bool {
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
pub(super) fn lex(src: &str, ops: bool) -> Result<Vec<Tok>, SyntaxError> {
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

pub(super) fn shell_quote(s: &str) -> String {
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
    pub(super) fn expand_fields(&self, f: &Frame, w: &Word) -> Vec<String> {
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
    pub(super) fn expand_str(&self, f: &Frame, w: &Word) -> String {
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
}
