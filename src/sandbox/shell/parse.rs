//! The parser: tokens into a flat list of pipelines joined by `;`, `&&`, `||` and newlines.

use super::words::{Op, Part, RedirOp, SyntaxError, Tok, Word, is_name, lex};

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Redir {
    pub(super) fd: Option<u32>,
    pub(super) op: RedirOp,
    pub(super) target: Word,
}

/// A simple command: assignments, words, redirections.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Cmd {
    pub(super) assigns: Vec<(String, Word)>,
    pub(super) words: Vec<Word>,
    pub(super) redirs: Vec<Redir>,
}

impl Cmd {
    fn is_empty(&self) -> bool {
        self.assigns.is_empty() && self.words.is_empty() && self.redirs.is_empty()
    }
}

/// How a pipeline hangs on the one before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Conn {
    Seq,
    And,
    Or,
}

/// One pipeline of a flattened and-or list: run when `conn` allows, given `$?`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item {
    pub(super) conn: Conn,
    pub(super) pipeline: Vec<Cmd>,
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

pub(super) fn parse_script(src: &str) -> Result<Vec<Item>, SyntaxError> {
    parse(lex(src, true)?)
}
