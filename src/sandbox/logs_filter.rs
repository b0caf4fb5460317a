//! A subset of the CloudWatch Logs filter pattern syntax: terms (`ERROR timeout`, all must
//! appear), optional terms (`?ERROR ?WARN`, any), exclusions (`-health`), quoted phrases,
//! and JSON patterns such as `{ $.level = "ERROR" }`, `{ $.status >= 500 }` joined with
//! `&&` or `||`. Matching is case-sensitive, as in CloudWatch.

use serde_json::Value;

use super::wire::ApiError;

#[derive(Debug, Clone)]
pub(crate) enum Pattern {
    All,
    Terms {
        all: Vec<String>,
        any: Vec<String>,
        none: Vec<String>,
    },
    Json {
        clauses: Vec<Clause>,
        or: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Clause {
    path: Vec<String>,
    op: String,
    value: String,
    quoted: bool,
}

impl Pattern {
    pub(crate) fn parse(text: &str) -> Result<Pattern, ApiError> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(Pattern::All);
        }
        if let Some(inner) = t.strip_prefix('{') {
            let inner = inner
                .strip_suffix('}')
                .ok_or_else(|| ApiError::invalid("Invalid character(s) in term: missing '}'"))?;
            let or = inner.contains("||");
            let parts: Vec<&str> = if or {
                inner.split("||").collect()
            } else {
                inner.split("&&").collect()
            };
            let clauses = parts
                .into_iter()
                .map(parse_clause)
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Pattern::Json { clauses, or });
        }
        let (mut all, mut any, mut none) = (Vec::new(), Vec::new(), Vec::new());
        for term in split_terms(t) {
            if let Some(x) = term.strip_prefix('?') {
                any.push(unquote(x));
            } else if let Some(x) = term.strip_prefix('-').filter(|x| !x.is_empty()) {
                none.push(unquote(x));
            } else {
                all.push(unquote(&term));
            }
        }
        Ok(Pattern::Terms { all, any, none })
    }

    pub(crate) fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms { all, any, none } => {
                all.iter().all(|t| message.contains(t.as_str()))
                    && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
                    && !none.iter().any(|t| message.contains(t.as_str()))
            }
            Pattern::Json { clauses, or } => {
                let Ok(v) = serde_json::from_str::<Value>(message) else {
                    return false;
                };
                if *or {
                    clauses.iter().any(|c| c.matches(&v))
                } else {
                    clauses.iter().all(|c| c.matches(&v))
                }
            }
        }
    }
}

fn split_terms(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in t.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                cur.push(ch);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(s: &str) -> String {
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
        .to_string()
}

fn parse_clause(text: &str) -> Result<Clause, ApiError> {
    let t = text
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    let bad = || ApiError::invalid(format!("Invalid filter pattern clause: {t}"));
    let rest = t.strip_prefix("$.").ok_or_else(bad)?;
    let ops = ["!=", ">=", "<=", "=", ">", "<"];
    let (idx, op) = ops
        .iter()
        .filter_map(|op| rest.find(op).map(|i| (i, *op)))
        .min_by_key(|(i, op)| (*i, usize::MAX - op.len()))
        .ok_or_else(bad)?;
    let path = rest.get(..idx).ok_or_else(bad)?.trim();
    let value = rest.get(idx + op.len()..).ok_or_else(bad)?.trim();
    let quoted = value.starts_with('"');
    Ok(Clause {
        path: path.split('.').map(str::to_string).collect(),
        op: op.to_string(),
        value: unquote(value),
        quoted,
    })
}

impl Clause {
    fn matches(&self, v: &Value) -> bool {
        let mut cur = v;
        for p in &self.path {
            match cur.get(p) {
                Some(x) => cur = x,
                None => return false,
            }
        }
        let num = cur.as_f64();
        let want_num = self.value.parse::<f64>().ok();
        match (self.op.as_str(), num, want_num) {
            ("=", Some(a), Some(b)) if !self.quoted => a == b,
            ("!=", Some(a), Some(b)) if !self.quoted => a != b,
            (">", Some(a), Some(b)) => a > b,
            ("<", Some(a), Some(b)) => a < b,
            (">=", Some(a), Some(b)) => a >= b,
            ("<=", Some(a), Some(b)) => a <= b,
            ("=", _, _) => text_of(cur).is_some_and(|s| wildcard(&self.value, &s)),
            ("!=", _, _) => text_of(cur).is_some_and(|s| !wildcard(&self.value, &s)),
            _ => false,
        }
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `*` matches any run of characters.
fn wildcard(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, tail)) => {
            s.starts_with(head) && {
                let rest = &s[head.len()..];
                (0..=rest.len())
                    .filter(|&i| rest.is_char_boundary(i))
                    .any(|i| wildcard(tail, &rest[i..]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_term_patterns() -> Result<(), ApiError> {
        let line = r#"{"level":"ERROR","status":503,"msg":"db timeout"}"#;
        assert!(Pattern::parse(r#"{ $.level = "ERROR" }"#)?.matches(line));
        assert!(Pattern::parse("{ $.status >= 500 && $.level = ERR* }")?.matches(line));
        assert!(!Pattern::parse(r#"{ $.level = "INFO" }"#)?.matches(line));
        assert!(Pattern::parse("ERROR timeout")?.matches(line));
        assert!(Pattern::parse("?WARN ?ERROR")?.matches(line));
        assert!(!Pattern::parse("ERROR -db")?.matches(line));
        assert!(Pattern::parse(r#""db timeout""#)?.matches(line));
        assert!(Pattern::parse("{ $.level = ").is_err());
        Ok(())
    }
}
