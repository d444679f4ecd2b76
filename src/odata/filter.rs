//! An OData v4 `$filter` parser and evaluator, covering what Dataverse and Business Central
//! clients send: comparisons (`eq ne gt ge lt le`), `and`, `or`, `not`, parentheses, string,
//! number, boolean, `null`, GUID, unquoted DateTimeOffset and enum (`Namespace.Type'Member'`)
//! literals, and the string functions `contains`, `startswith` and `endswith`.
//! [`Filter::with_eq_wildcards`] makes `*` in a string compared with `eq`/`ne` a wildcard, as
//! Finance & Operations reads it.
//!
//! Evaluation follows Dataverse semantics: string equality is case-insensitive, a missing field
//! is `null`, numbers compare numerically and a string holding an ISO date compares as an instant
//! against a DateTimeOffset literal.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::Value;

use crate::error::{Actor, Classify, Retry};
use crate::event::Fields;

/// A parsed `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    root: Node,
    eq_wildcards: bool,
}

/// Why a `$filter` could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// A token that does not fit the grammar where it stands.
    #[error("unexpected '{token}' at column {column} in $filter '{text}'")]
    Unexpected {
        /// The offending token.
        token: String,
        /// 1-based character column where it starts.
        column: usize,
        /// The whole filter text.
        text: String,
    },
    /// The expression stopped before it was complete.
    #[error("unexpected end of $filter '{text}': expected {expected}")]
    UnexpectedEnd {
        /// What was expected next.
        expected: &'static str,
        /// The whole filter text.
        text: String,
    },
    /// A string literal without its closing quote.
    #[error("unterminated string starting at column {column} in $filter '{text}'")]
    UnterminatedString {
        /// 1-based column of the opening quote.
        column: usize,
        /// The whole filter text.
        text: String,
    },
}

impl Classify for FilterError {
    fn actor(&self) -> Actor {
        Actor::User
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        "invalid_filter"
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    fn from_word(w: &str) -> Option<CmpOp> {
        Some(match w.to_ascii_lowercase().as_str() {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }

    /// The operator with its operands swapped (`5 lt x` is `x gt 5`).
    fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            other => other,
        }
    }
}

/// String functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrFn {
    Contains,
    StartsWith,
    EndsWith,
}

/// A literal value in a filter.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Guid(String),
    DateTime(DateTime<FixedOffset>),
    /// `Namespace.Type'Member'`: compares as the member name.
    Enum(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Cmp {
        field: String,
        op: CmpOp,
        value: Literal,
    },
    Func {
        func: StrFn,
        field: String,
        value: String,
    },
}

/// Parses a `$filter` expression.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    let tokens = lex(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        text,
    };
    let root = p.or_expr()?;
    if let Some(t) = p.peek() {
        return Err(p.unexpected(t));
    }
    Ok(Filter {
        root,
        eq_wildcards: false,
    })
}

impl Filter {
    /// True when the row satisfies the filter.
    pub fn matches(&self, row: &Fields) -> bool {
        eval(&self.root, row, self.eq_wildcards)
    }

    /// The same filter, where `*` inside a string literal compared with `eq` or `ne` matches
    /// any run of characters (Finance & Operations' "contains" form, `Name eq '*retail*'`).
    pub fn with_eq_wildcards(mut self) -> Filter {
        self.eq_wildcards = true;
        self
    }

    /// True when an enum literal is compared with an ordering operator (`gt`, `ge`, `lt`,
    /// `le`), which Finance & Operations does not allow.
    pub fn orders_enums(&self) -> bool {
        orders_enums(&self.root)
    }

    /// Every field name the filter refers to, in order of appearance.
    pub fn fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_fields(&self.root, &mut out);
        out
    }
}

fn orders_enums(n: &Node) -> bool {
    match n {
        Node::And(a, b) | Node::Or(a, b) => orders_enums(a) || orders_enums(b),
        Node::Not(a) => orders_enums(a),
        Node::Cmp {
            op,
            value: Literal::Enum(_),
            ..
        } => !matches!(op, CmpOp::Eq | CmpOp::Ne),
        _ => false,
    }
}

fn collect_fields(n: &Node, out: &mut Vec<String>) {
    match n {
        Node::And(a, b) | Node::Or(a, b) => {
            collect_fields(a, out);
            collect_fields(b, out);
        }
        Node::Not(a) => collect_fields(a, out),
        Node::Cmp { field, .. } | Node::Func { field, .. } => {
            if !out.contains(field) {
                out.push(field.clone());
            }
        }
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    /// An enum literal's member name.
    Enum(String),
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    raw: String,
    column: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '+' | '/' | '@')
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' || c == ',' {
            let tok = match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                _ => Tok::Comma,
            };
            out.push(Token {
                tok,
                raw: c.to_string(),
                column,
            });
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => {
                        return Err(FilterError::UnterminatedString {
                            column,
                            text: text.to_string(),
                        });
                    }
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        s.push('\'');
                        j += 2;
                    }
                    Some('\'') => {
                        j += 1;
                        break;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        j += 1;
                    }
                }
            }
            out.push(Token {
                tok: Tok::Str(s),
                raw: chars[i..j].iter().collect(),
                column,
            });
            i = j;
        } else if is_word_char(c) {
            let start = i;
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            let w: String = chars[start..i].iter().collect();
            if w.contains('.') && chars.get(i) == Some(&'\'') {
                // `Namespace.Type'Member'`, written without a space before the quote.
                let close = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map(|p| i + 1 + p)
                    .ok_or_else(|| FilterError::UnterminatedString {
                        column: i + 1,
                        text: text.to_string(),
                    })?;
                out.push(Token {
                    tok: Tok::Enum(chars[i + 1..close].iter().collect()),
                    raw: chars[start..=close].iter().collect(),
                    column,
                });
                i = close + 1;
                continue;
            }
            out.push(Token {
                tok: Tok::Word(w.clone()),
                raw: w,
                column,
            });
        } else {
            return Err(FilterError::Unexpected {
                token: c.to_string(),
                column,
                text: text.to_string(),
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- parser

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    text: &'a str,
}

fn is_ident(w: &str) -> bool {
    let mut chars = w.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '/')
}

fn is_guid(w: &str) -> bool {
    w.len() == 36
        && w.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn parse_instant(w: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(w) {
        return Some(d);
    }
    let date = NaiveDate::parse_from_str(w, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset())
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).cloned()
    }

    fn next(&mut self, expected: &'static str) -> Result<Token, FilterError> {
        let t = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or_else(|| self.end(expected))?;
        self.pos += 1;
        Ok(t)
    }

    fn end(&self, expected: &'static str) -> FilterError {
        FilterError::UnexpectedEnd {
            expected,
            text: self.text.to_string(),
        }
    }

    fn unexpected(&self, t: Token) -> FilterError {
        FilterError::Unexpected {
            token: t.raw,
            column: t.column,
            text: self.text.to_string(),
        }
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn or_expr(&mut self) -> Result<Node, FilterError> {
        let mut left = self.and_expr()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and_expr()?;
            left = Node::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Node, FilterError> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Node::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, FilterError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(Node::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, FilterError> {
        let t = self.next("an expression")?;
        match &t.tok {
            Tok::LParen => {
                let inner = self.or_expr()?;
                let close = self.next("')'")?;
                if close.tok != Tok::RParen {
                    return Err(self.unexpected(close));
                }
                Ok(inner)
            }
            Tok::Word(w) if self.is_call() => {
                let func = match w.to_ascii_lowercase().as_str() {
                    "contains" => StrFn::Contains,
                    "startswith" => StrFn::StartsWith,
                    "endswith" => StrFn::EndsWith,
                    _ => return Err(self.unexpected(t)),
                };
                self.pos += 1; // '('
                let field_tok = self.next("a property name")?;
                let field = match &field_tok.tok {
                    Tok::Word(f) if is_ident(f) => f.clone(),
                    _ => return Err(self.unexpected(field_tok)),
                };
                let comma = self.next("','")?;
                if comma.tok != Tok::Comma {
                    return Err(self.unexpected(comma));
                }
                let val_tok = self.next("a string literal")?;
                let value = match &val_tok.tok {
                    Tok::Str(s) => s.clone(),
                    _ => return Err(self.unexpected(val_tok)),
                };
                let close = self.next("')'")?;
                if close.tok != Tok::RParen {
                    return Err(self.unexpected(close));
                }
                Ok(Node::Func { func, field, value })
            }
            _ => self.comparison(t),
        }
    }

    fn is_call(&self) -> bool {
        matches!(
            self.tokens.get(self.pos),
            Some(Token {
                tok: Tok::LParen,
                ..
            })
        )
    }

    fn comparison(&mut self, first: Token) -> Result<Node, FilterError> {
        let op_tok = self.next("a comparison operator")?;
        let op = match &op_tok.tok {
            Tok::Word(w) => CmpOp::from_word(w).ok_or_else(|| self.unexpected(op_tok.clone()))?,
            _ => return Err(self.unexpected(op_tok)),
        };
        let second = self.next("a value")?;
        if let Some(field) = field_name(&first) {
            let value = literal(&second).ok_or_else(|| self.unexpected(second))?;
            return Ok(Node::Cmp { field, op, value });
        }
        let value = literal(&first).ok_or_else(|| self.unexpected(first))?;
        let field = field_name(&second).ok_or_else(|| self.unexpected(second))?;
        Ok(Node::Cmp {
            field,
            op: op.flipped(),
            value,
        })
    }
}

fn field_name(t: &Token) -> Option<String> {
    match &t.tok {
        Tok::Word(w) if is_ident(w) && literal(t).is_none() => Some(w.clone()),
        _ => None,
    }
}

fn literal(t: &Token) -> Option<Literal> {
    match &t.tok {
        Tok::Str(s) => Some(Literal::Str(s.clone())),
        Tok::Enum(m) => Some(Literal::Enum(m.clone())),
        Tok::Word(w) => {
            let lower = w.to_ascii_lowercase();
            match lower.as_str() {
                "null" => return Some(Literal::Null),
                "true" => return Some(Literal::Bool(true)),
                "false" => return Some(Literal::Bool(false)),
                _ => {}
            }
            if is_guid(w) {
                return Some(Literal::Guid(lower));
            }
            if w.len() >= 10
                && w.as_bytes()[4] == b'-'
                && w[..4].bytes().all(|b| b.is_ascii_digit())
            {
                return parse_instant(w).map(Literal::DateTime);
            }
            let first = w.chars().next()?;
            if first.is_ascii_digit() || first == '-' || first == '+' {
                let trimmed = w.trim_end_matches(['m', 'M', 'd', 'D', 'l', 'L']);
                return trimmed
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Literal::Number);
            }
            None
        }
        _ => None,
    }
}

// ---------------------------------------------------------------- evaluation

fn eval(n: &Node, row: &Fields, wildcards: bool) -> bool {
    match n {
        Node::And(a, b) => eval(a, row, wildcards) && eval(b, row, wildcards),
        Node::Or(a, b) => eval(a, row, wildcards) || eval(b, row, wildcards),
        Node::Not(a) => !eval(a, row, wildcards),
        Node::Func { func, field, value } => match row.get(field) {
            Some(Value::String(s)) => {
                let s = s.to_lowercase();
                let v = value.to_lowercase();
                match func {
                    StrFn::Contains => s.contains(&v),
                    StrFn::StartsWith => s.starts_with(&v),
                    StrFn::EndsWith => s.ends_with(&v),
                }
            }
            _ => false,
        },
        Node::Cmp { field, op, value } => {
            let actual = row.get(field).unwrap_or(&Value::Null);
            match (wildcards, op, value, actual) {
                (true, CmpOp::Eq | CmpOp::Ne, Literal::Str(pattern), Value::String(s))
                    if pattern.contains('*') =>
                {
                    glob::matches(pattern, s) == (*op == CmpOp::Eq)
                }
                _ => compare(actual, *op, value),
            }
        }
    }
}

fn compare(actual: &Value, op: CmpOp, lit: &Literal) -> bool {
    let actual_null = actual.is_null();
    let lit_null = matches!(lit, Literal::Null);
    if actual_null || lit_null {
        let both = actual_null && lit_null;
        return match op {
            CmpOp::Eq => both,
            CmpOp::Ne => !both,
            _ => false,
        };
    }
    let ord = match (actual, lit) {
        (Value::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(a), Literal::Number(b)) => a.as_f64().and_then(|a| a.partial_cmp(b)),
        (Value::String(a), Literal::Number(b)) => {
            a.trim().parse::<f64>().ok().and_then(|a| a.partial_cmp(b))
        }
        (Value::Number(a), Literal::Str(b)) => b
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|b| a.as_f64().and_then(|a| a.partial_cmp(&b))),
        (Value::String(a), Literal::Str(b) | Literal::Guid(b) | Literal::Enum(b)) => {
            Some(a.to_lowercase().cmp(&b.to_lowercase()))
        }
        (Value::String(a), Literal::DateTime(b)) => {
            parse_instant(a.trim()).map(|a| a.with_timezone(&Utc).cmp(&b.with_timezone(&Utc)))
        }
        _ => None,
    };
    match ord {
        None => op == CmpOp::Ne,
        Some(o) => match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
        },
    }
}

mod glob;
#[cfg(test)]
mod tests;
