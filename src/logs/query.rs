//! The filter language of the logs pane and `berth logs --filter`.
//!
//! ```text
//! query      := or_expr
//! or_expr    := and_expr (("or" | "||") and_expr)*
//! and_expr   := unary ((("and" | "&&")? unary)*          juxtaposition means "and"
//! unary      := ("not" | "!" | "-") unary | primary
//! primary    := "(" or_expr ")" | comparison | text
//! comparison := FIELD OP value                            spaces around OP are optional
//! OP         := "=" | "==" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "!~"
//! value      := WORD | "quoted string"
//! text       := WORD | "quoted string"
//! FIELD      := [A-Za-z_@][A-Za-z0-9_.@-]*
//! ```
//!
//! Free text matches anywhere in the raw line, smart-case: case-insensitive unless the text
//! has an upper-case letter. `~` is "contains", case-sensitive (paths, hosts, ids).
//! `=`/`!=`/`<`... compare numerically when both sides are numbers, else as strings.
//! Fields: `level` (ordered: trace < debug < info < warn < error < fatal), `msg`/`message`,
//! `error`, `stream`, `task` (prefix of the task id), `container`, `group`, and any field of a
//! JSON or logfmt line (nested JSON keys are dotted: `http.status`). A comparison on a field a
//! line does not have is false (and its `!=`/`!~` negation true).

use std::fmt;

use super::LogEvent;
use super::parse::Level;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// 0-based character position in the query.
    pub position: usize,
    pub message: String,
}

impl QueryError {
    /// The query with a caret under the error: for terminals and stderr.
    pub fn render(&self, query: &str) -> String {
        let shown = crate::text::sanitize(query);
        format!(
            "{shown}\n{}^ {}",
            " ".repeat(self.position.min(shown.chars().count())),
            self.message
        )
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.position + 1, self.message)
    }
}

impl std::error::Error for QueryError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
    NotContains,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Contains => "~",
            Op::NotContains => "!~",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Level,
    Message,
    Error,
    Stream,
    Task,
    Container,
    Group,
    Key(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub needle: String,
    /// Smart case: true when the needle has an upper-case letter.
    pub case_sensitive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Text(Text),
    Compare {
        field: Field,
        op: Op,
        value: String,
        number: Option<f64>,
        level: Option<Level>,
    },
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// A parsed query. The empty query matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub source: String,
    pub expr: Option<Expr>,
}

impl Query {
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        let mut p = Parser {
            s: input,
            pos: 0,
            depth: 0,
        };
        p.skip_ws();
        if p.at_end() {
            return Ok(Query {
                source: input.to_string(),
                expr: None,
            });
        }
        let expr = p.or_expr()?;
        p.skip_ws();
        if !p.at_end() {
            return Err(p.error_here(match p.peek() {
                Some(')') => "unexpected ')' without a matching '('".to_string(),
                _ => "unexpected text".to_string(),
            }));
        }
        Ok(Query {
            source: input.to_string(),
            expr: Some(expr),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.expr.is_none()
    }

    pub fn matches(&self, ev: &LogEvent) -> bool {
        self.expr.as_ref().is_none_or(|e| e.matches(ev))
    }

    /// A CloudWatch filter pattern that selects a superset of the lines this query matches,
    /// to cut traffic; `None` when nothing useful can be expressed. Every line is still
    /// checked with [`Query::matches`].
    ///
    /// CloudWatch terms are case-sensitive substrings, so only case-sensitive parts are sent:
    /// free text with an upper-case letter, `field~value`, and `field=value` (a line whose
    /// field equals `abc` contains `abc`). Level, numeric ranges and case-insensitive text
    /// are evaluated locally. JSON selectors (`{ $.level = ... }`) are never produced: they
    /// would drop logfmt and plain-text lines that the query matches.
    pub fn to_filter_pattern(&self) -> Option<String> {
        let expr = self.expr.as_ref()?;
        if let Expr::Or(alts) = expr {
            let mut terms = Vec::new();
            for a in alts {
                match a.required_terms().as_slice() {
                    [Term::Has(t)] => terms.push(format!("?\"{t}\"")),
                    _ => return None,
                }
            }
            return Some(terms.join(" "));
        }
        let terms = expr.required_terms();
        if !terms.iter().any(|t| matches!(t, Term::Has(_))) {
            return None;
        }
        Some(
            terms
                .iter()
                .map(|t| match t {
                    Term::Has(s) => format!("\"{s}\""),
                    Term::Lacks(s) => format!("-\"{s}\""),
                })
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}

enum Term {
    Has(String),
    Lacks(String),
}

/// Can `s` be sent as a quoted CloudWatch term?
fn pattern_safe(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && !s.chars().any(|c| c == '"' || c == '\\' || c.is_control())
}

impl Expr {
    /// Terms every matching line must (not) contain; parts that cannot be expressed are
    /// dropped, which only widens the set.
    fn required_terms(&self) -> Vec<Term> {
        match self {
            Expr::Text(t) if t.case_sensitive && pattern_safe(&t.needle) => {
                vec![Term::Has(t.needle.clone())]
            }
            Expr::Compare {
                field,
                op: Op::Eq | Op::Contains,
                value,
                ..
            } if !matches!(
                field,
                Field::Level | Field::Task | Field::Stream | Field::Container | Field::Group
            ) && pattern_safe(value) =>
            {
                vec![Term::Has(value.clone())]
            }
            Expr::Not(inner) => match inner.as_ref() {
                Expr::Text(t) if t.case_sensitive && pattern_safe(&t.needle) => {
                    vec![Term::Lacks(t.needle.clone())]
                }
                _ => Vec::new(),
            },
            Expr::And(parts) => parts.iter().flat_map(Expr::required_terms).collect(),
            _ => Vec::new(),
        }
    }

    pub fn matches(&self, ev: &LogEvent) -> bool {
        match self {
            Expr::Text(t) => contains(&ev.raw, &t.needle, t.case_sensitive),
            Expr::Not(e) => !e.matches(ev),
            Expr::And(es) => es.iter().all(|e| e.matches(ev)),
            Expr::Or(es) => es.iter().any(|e| e.matches(ev)),
            Expr::Compare {
                field,
                op,
                value,
                number,
                level,
            } => {
                if let Field::Level = field {
                    let Some(have) = ev.parsed.level else {
                        return matches!(op, Op::Ne | Op::NotContains);
                    };
                    let Some(want) = level else {
                        return matches!(op, Op::Ne | Op::NotContains);
                    };
                    return match op {
                        Op::Eq | Op::Contains => have == *want,
                        Op::Ne | Op::NotContains => have != *want,
                        Op::Gt => have > *want,
                        Op::Ge => have >= *want,
                        Op::Lt => have < *want,
                        Op::Le => have <= *want,
                    };
                }
                let have = match field {
                    Field::Message => Some(ev.parsed.message(&ev.raw)),
                    Field::Error => ev.parsed.error(),
                    Field::Stream => Some(&*ev.stream),
                    Field::Container => Some(&*ev.container),
                    Field::Group => Some(&*ev.group),
                    Field::Task => {
                        return match op {
                            Op::Eq => !value.is_empty() && ev.task_id.starts_with(value.as_str()),
                            Op::Ne => !ev.task_id.starts_with(value.as_str()),
                            Op::Contains => ev.task_id.contains(value.as_str()),
                            Op::NotContains => !ev.task_id.contains(value.as_str()),
                            _ => compare(&ev.task_id, *op, value, *number),
                        };
                    }
                    Field::Key(k) => ev.parsed.field(k),
                    Field::Level => None,
                };
                match have {
                    Some(h) => compare(h, *op, value, *number),
                    None => matches!(op, Op::Ne | Op::NotContains),
                }
            }
        }
    }
}

fn compare(have: &str, op: Op, want: &str, want_num: Option<f64>) -> bool {
    let numeric = want_num.and_then(|w| have.trim().parse::<f64>().ok().map(|h| (h, w)));
    match op {
        Op::Contains => return have.contains(want),
        Op::NotContains => return !have.contains(want),
        _ => {}
    }
    let ord = match numeric {
        Some((h, w)) => h.partial_cmp(&w),
        None => Some(have.cmp(want)),
    };
    let Some(ord) = ord else { return op == Op::Ne };
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => ord == Equal,
        Op::Ne => ord != Equal,
        Op::Gt => ord == Greater,
        Op::Ge => ord != Less,
        Op::Lt => ord == Less,
        Op::Le => ord != Greater,
        Op::Contains | Op::NotContains => false,
    }
}

/// Substring search; `case_sensitive == false` folds ASCII case (the needle is lower-case).
pub fn contains(hay: &str, needle: &str, case_sensitive: bool) -> bool {
    if case_sensitive || !needle.bytes().any(|b| b.is_ascii_alphabetic()) {
        return hay.contains(needle);
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return true;
    }
    if n.len() > h.len() {
        return false;
    }
    let first = n[0].to_ascii_lowercase();
    let last_start = h.len() - n.len();
    let mut i = 0;
    while i <= last_start {
        if h[i].to_ascii_lowercase() == first && h[i..i + n.len()].eq_ignore_ascii_case(n) {
            return true;
        }
        i += 1;
    }
    if needle.is_ascii() {
        return false;
    }
    hay.to_lowercase().contains(&needle.to_lowercase())
}

const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a str,
    /// Byte offset.
    pos: usize,
    depth: usize,
}

fn is_field_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@'
}

fn is_field_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-')
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && c != '(' && c != ')' && c != '"'
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn column(&self, byte: usize) -> usize {
        self.s.get(..byte).map_or(0, |p| p.chars().count())
    }

    fn error_at(&self, byte: usize, message: impl Into<String>) -> QueryError {
        QueryError {
            position: self.column(byte),
            message: message.into(),
        }
    }

    fn error_here(&self, message: impl Into<String>) -> QueryError {
        self.error_at(self.pos, message)
    }

    /// A keyword (`and`, `or`, `not`) at the cursor, followed by a boundary.
    fn keyword(&self, kw: &str) -> bool {
        let r = self.rest();
        r.len() >= kw.len()
            && r.is_char_boundary(kw.len())
            && r[..kw.len()].eq_ignore_ascii_case(kw)
            && r[kw.len()..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || c == '(' || c == '"')
    }

    fn or_expr(&mut self) -> Result<Expr, QueryError> {
        let mut alts = vec![self.and_expr()?];
        loop {
            self.skip_ws();
            if self.keyword("or") || self.rest().starts_with("||") {
                self.pos += 2;
            } else {
                break;
            }
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') {
                return Err(self.error_here("expected a term after 'or'"));
            }
            alts.push(self.and_expr()?);
        }
        Ok(if alts.len() == 1 {
            alts.remove(0)
        } else {
            Expr::Or(alts)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, QueryError> {
        let mut parts = vec![self.unary()?];
        loop {
            self.skip_ws();
            if self.at_end()
                || self.peek() == Some(')')
                || self.keyword("or")
                || self.rest().starts_with("||")
            {
                break;
            }
            if self.keyword("and") {
                self.pos += 3;
            } else if self.rest().starts_with("&&") {
                self.pos += 2;
            }
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') {
                return Err(self.error_here("expected a term after 'and'"));
            }
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        self.skip_ws();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here("query nests too deeply"));
        }
        let negate = if self.keyword("not") {
            self.pos += 3;
            true
        } else if (self.rest().starts_with('!') && !self.rest().starts_with("!="))
            || (self.rest().starts_with('-')
                && self.rest()[1..].chars().next().is_some_and(is_word_char))
        {
            self.pos += 1;
            true
        } else {
            false
        };
        let result = if negate {
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') {
                Err(self.error_here("expected a term after 'not'"))
            } else {
                self.unary().map(|e| Expr::Not(Box::new(e)))
            }
        } else {
            self.primary()
        };
        self.depth -= 1;
        result
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            None => Err(self.error_here("expected a term")),
            Some(')') => Err(self.error_here("unexpected ')'")),
            Some('(') => {
                self.bump();
                self.skip_ws();
                if self.peek() == Some(')') {
                    return Err(self.error_here("empty parentheses"));
                }
                let e = self.or_expr()?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    return Err(self.error_at(start, "missing ')' for this '('"));
                }
                self.bump();
                Ok(e)
            }
            Some('"') => {
                let s = self.quoted()?;
                Ok(text_term(s))
            }
            Some(c) => {
                if is_field_start(c) {
                    let name_start = self.pos;
                    while self.peek().is_some_and(is_field_char) {
                        self.bump();
                    }
                    let name_end = self.pos;
                    self.skip_ws();
                    if let Some(op) = self.op() {
                        let name = &self.s[name_start..name_end];
                        return self.comparison(name, op);
                    }
                    self.pos = start;
                }
                if matches!(c, '=' | '<' | '>' | '~') {
                    return Err(self.error_here("expected a field name before the operator"));
                }
                while self.peek().is_some_and(is_word_char) {
                    self.bump();
                }
                Ok(text_term(self.s[start..self.pos].to_string()))
            }
        }
    }

    fn op(&mut self) -> Option<Op> {
        let r = self.rest();
        let (op, len) = if r.starts_with(">=") {
            (Op::Ge, 2)
        } else if r.starts_with("<=") {
            (Op::Le, 2)
        } else if r.starts_with("!=") {
            (Op::Ne, 2)
        } else if r.starts_with("!~") {
            (Op::NotContains, 2)
        } else if r.starts_with("==") {
            (Op::Eq, 2)
        } else if r.starts_with('=') {
            (Op::Eq, 1)
        } else if r.starts_with('>') {
            (Op::Gt, 1)
        } else if r.starts_with('<') {
            (Op::Lt, 1)
        } else if r.starts_with('~') {
            (Op::Contains, 1)
        } else {
            return None;
        };
        self.pos += len;
        Some(op)
    }

    fn quoted(&mut self) -> Result<String, QueryError> {
        let open = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error_at(open, "unterminated quoted string")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(c) => out.push(c),
                    None => return Err(self.error_at(open, "unterminated quoted string")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn comparison(&mut self, name: &str, op: Op) -> Result<Expr, QueryError> {
        self.skip_ws();
        let value_pos = self.pos;
        let value = match self.peek() {
            Some('"') => self.quoted()?,
            Some(c) if is_word_char(c) => {
                while self.peek().is_some_and(is_word_char) {
                    self.bump();
                }
                self.s[value_pos..self.pos].to_string()
            }
            _ => {
                return Err(self.error_here(format!("expected a value after '{}'", op.as_str())));
            }
        };
        let field = match name.to_ascii_lowercase().as_str() {
            "level" | "lvl" | "severity" => Field::Level,
            "msg" | "message" => Field::Message,
            "error" | "err" => Field::Error,
            "stream" => Field::Stream,
            "task" => Field::Task,
            "container" => Field::Container,
            "group" => Field::Group,
            _ => Field::Key(name.to_string()),
        };
        let level = if field == Field::Level {
            let l = Level::from_name(&value).or_else(|| {
                value
                    .parse::<f64>()
                    .ok()
                    .and_then(|n| Level::from_number(n, false))
            });
            if l.is_none() {
                return Err(self.error_at(
                    value_pos,
                    format!(
                        "unknown level {:?}: use trace, debug, info, warn, error or fatal",
                        crate::text::sanitize(&value)
                    ),
                ));
            }
            l
        } else {
            None
        };
        Ok(Expr::Compare {
            field,
            op,
            number: value.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
            value,
            level,
        })
    }
}

fn text_term(needle: String) -> Expr {
    let case_sensitive = needle.chars().any(char::is_uppercase);
    Expr::Text(Text {
        needle,
        case_sensitive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Origin;

    fn ev(raw: &str) -> LogEvent {
        LogEvent::new(
            &Origin::new("/ecs/prod/api", "ecs/app/0123456789abcdef"),
            "1".into(),
            0,
            0,
            raw.to_string(),
        )
    }

    fn q(s: &str) -> Query {
        Query::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn comparisons() {
        let line = ev(
            r#"{"level":"ERROR","msg":"boom","status":503,"path":"/api/v1/cart","request_id":"abc"}"#,
        );
        for (query, want) in [
            ("level>=warn", true),
            ("level<error", false),
            ("level=error", true),
            ("status>=500", true),
            ("status<500", false),
            ("status != 503", false),
            ("path~/api/", true),
            ("path!~/api/", false),
            ("request_id=abc", true),
            ("request_id=ab", false),
            ("missing=1", false),
            ("missing!=1", true),
            ("msg=boom", true),
            ("task=01234567", true),
            ("task=9", false),
            ("container=app", true),
            ("BOOM", false),
            ("boom", true),
            ("\"msg\":\"boom\"", true),
            ("level>=warn and not path~/health", true),
            ("(status<500 or level=fatal) and boom", false),
            ("-boom", false),
            ("!boom or cart", true),
            ("status>=500 && path~/api/ || nothing", true),
        ] {
            assert_eq!(q(query).matches(&line), want, "{query}");
        }
        let plain = ev("2024-05-01 WARN disk almost full");
        assert!(q("level>=warn").matches(&plain));
        assert!(!q("status>=500").matches(&plain));
        assert!(q("").matches(&plain));
    }

    #[test]
    fn errors_have_positions() {
        for (query, pos, needle) in [
            ("level>=loud", 7, "unknown level"),
            ("(a or b", 0, "missing ')'"),
            ("a or", 4, "expected a term"),
            ("a and )", 6, "expected a term"),
            ("status>=", 8, "expected a value"),
            ("a )", 2, "unexpected ')'"),
            ("\"open", 0, "unterminated"),
            ("not", 3, "expected a term"),
            ("=5", 0, "field name"),
            ("()", 1, "empty parentheses"),
        ] {
            match Query::parse(query) {
                Ok(q) => panic!("{query} parsed: {q:?}"),
                Err(e) => {
                    assert_eq!(e.position, pos, "{query}: {e}");
                    assert!(e.message.contains(needle), "{query}: {e}");
                }
            }
        }
        let e = Query::parse("level>=loud")
            .err()
            .unwrap_or_else(|| panic!());
        assert_eq!(e.to_string().split(':').next(), Some("column 8"));
        assert!(e.render("level>=loud").contains("\n       ^ unknown level"));
    }

    #[test]
    fn filter_patterns() {
        for (query, want) in [
            ("request_id=abc", Some(r#""abc""#)),
            ("level>=warn", None),
            ("error", None),
            ("ERROR timeout", Some(r#""ERROR""#)),
            ("Timeout -Health", Some(r#""Timeout" -"Health""#)),
            ("path~/api/ and level>=warn", Some(r#""/api/""#)),
            ("Foo or Bar", Some(r#"?"Foo" ?"Bar""#)),
            ("Foo or bar", None),
            ("status>=500", None),
            ("trace_id=\"a\\\"b\"", None),
            ("not Foo", None),
        ] {
            assert_eq!(q(query).to_filter_pattern().as_deref(), want, "{query}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let s = "(".repeat(10_000);
        assert!(Query::parse(&s).is_err());
        let s = "not ".repeat(10_000) + "x";
        assert!(Query::parse(&s).is_err());
    }
}
