//! Function lengths: from the line of `fn` to the line of the closing brace of its body.

use super::lex::{Tok, skip_group};

/// A function found longer than allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct LongFn {
    /// The function's name.
    pub name: String,
    /// The line of its `fn` keyword.
    pub line: usize,
    /// Its length in lines, both ends included.
    pub lines: usize,
}

/// The functions with a body (in `toks`, see [`super::lex::without_tests`]) spanning more than
/// `max` lines.
pub fn long_fns(toks: &[Tok], max: usize) -> Vec<LongFn> {
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Some(name) = toks.get(i + 1).filter(|n| t.is("fn") && n.is_ident()) else {
            continue;
        };
        let Some(open) = body_start(toks, i + 2) else {
            continue;
        };
        let close = skip_group(toks, open).saturating_sub(1);
        let lines = toks[close].line + 1 - t.line;
        if lines > max {
            out.push(LongFn {
                name: name.text.clone(),
                line: t.line,
                lines,
            });
        }
    }
    out
}

/// The index of the `{` opening a function body whose signature continues at `i`; `None` for a
/// declaration without body (`fn f();` in a trait).
fn body_start(toks: &[Tok], i: usize) -> Option<usize> {
    let mut j = i;
    while j < toks.len() {
        match toks[j].text.as_str() {
            "{" => return Some(j),
            ";" => return None,
            "(" | "[" => j = skip_group(toks, j),
            _ => j += 1,
        }
    }
    None
}
