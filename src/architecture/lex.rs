//! A small Rust lexer for the architecture checks: blanks comments and literals, splits the rest
//! into tokens with their line numbers, and drops the items under `#[cfg(test)]`.

/// One token of source text, with the (1-based) line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Tok {
    /// An identifier or keyword, `::`, or a single punctuation character.
    pub text: String,
    /// The line the token is on.
    pub line: usize,
}

impl Tok {
    /// Whether the token is exactly `s`.
    pub fn is(&self, s: &str) -> bool {
        self.text == s
    }

    /// Whether the token is an identifier or keyword (not a number or punctuation).
    pub fn is_ident(&self) -> bool {
        self.text
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
    }
}

/// `src` with every comment and every string, byte-string and character literal replaced by
/// spaces (a literal keeps its quotes); newlines are kept, so lines keep their numbers.
pub fn blank(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    // Pushes c[from..to], every character but a newline as a space.
    let blank_to = |out: &mut String, from: usize, to: usize| {
        for &ch in &c[from..to.min(c.len())] {
            out.push(if ch == '\n' { '\n' } else { ' ' });
        }
    };
    while i < c.len() {
        let prev_ident = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            let end = (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len());
            blank_to(&mut out, i, end);
            i = end;
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let (mut j, mut depth) = (i + 2, 1);
            while j < c.len() && depth > 0 {
                if c[j] == '/' && c.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank_to(&mut out, i, j);
            i = j;
        } else if let Some((open, hashes)) = raw_string_start(&c, i, prev_ident) {
            // r"…", r#"…"#, br"…": no escapes, ends at a quote followed by as many hashes.
            let mut j = open + 1;
            while j < c.len() && !(c[j] == '"' && (1..=hashes).all(|h| c.get(j + h) == Some(&'#')))
            {
                j += 1;
            }
            let end = (j + 1 + hashes).min(c.len());
            out.extend(&c[i..=open]);
            blank_to(&mut out, open + 1, j);
            out.extend(&c[j.min(c.len())..end]);
            i = end;
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            out.push('"');
            blank_to(&mut out, i + 1, j);
            if j < c.len() {
                out.push('"');
            }
            i = j + 1;
        } else if c[i] == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), or else a lifetime ('a, 'static).
            let end = if c.get(i + 1) == Some(&'\\') {
                // The escaped character is never the end: '\'' and '\\' end after it.
                (i + 3..c.len()).find(|&j| c[j] == '\'' || c[j] == '\n')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    out.push('\'');
                    blank_to(&mut out, i + 1, e);
                    out.push('\'');
                    i = e + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Where a raw string starting at `i` opens (the index of its `"`) and how many `#` it uses.
fn raw_string_start(c: &[char], i: usize, prev_ident: bool) -> Option<(usize, usize)> {
    if prev_ident {
        return None;
    }
    let r = match (c[i], c.get(i + 1)) {
        ('r', _) => i,
        ('b' | 'c', Some('r')) => i + 1,
        _ => return None,
    };
    let hashes = c[r + 1..].iter().take_while(|&&ch| ch == '#').count();
    (c.get(r + 1 + hashes) == Some(&'"')).then_some((r + 1 + hashes, hashes))
}

/// The tokens of blanked text (see [`blank`]): identifiers and numbers whole, `::` as one
/// token, any other non-space character alone.
pub fn tokens(clean: &str) -> Vec<Tok> {
    let c: Vec<char> = clean.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let text = c[start..i].iter().collect();
            out.push(Tok { text, line });
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Tok {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Tok {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

/// The tokens of a source file without its `#[cfg(test)]` items, and the names of the
/// `#[cfg(test)] mod name;` files it declares (test-only files, not part of the build).
pub fn without_tests(src: &str) -> (Vec<Tok>, Vec<String>) {
    let toks = tokens(&blank(src));
    let mut kept = Vec::with_capacity(toks.len());
    let mut test_mods = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if !is_cfg_test(&toks, i) {
            kept.push(toks[i].clone());
            i += 1;
            continue;
        }
        // Skip this attribute and any others on the same item, then the item itself.
        let mut j = i;
        while toks.get(j).is_some_and(|t| t.is("#")) {
            j = skip_group(&toks, j + 1);
        }
        let item = j;
        if let [m, name, semi, ..] = &toks[item.min(toks.len())..]
            && m.is("mod")
            && semi.is(";")
        {
            test_mods.push(name.text.clone());
        }
        i = skip_item(&toks, item);
    }
    (kept, test_mods)
}

/// Whether `#[cfg(test)]` starts at `i`.
fn is_cfg_test(toks: &[Tok], i: usize) -> bool {
    let want = ["#", "[", "cfg", "(", "test", ")", "]"];
    toks.len() >= i + want.len() && want.iter().zip(&toks[i..]).all(|(w, t)| t.is(w))
}

/// The index after the bracketed group (`[…]`, `(…)` or `{…}`) that opens at `i`.
pub fn skip_group(toks: &[Tok], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j < toks.len() {
        match toks[j].text.as_str() {
            "[" | "(" | "{" => depth += 1,
            "]" | ")" | "}" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    toks.len()
}

/// The index after the item starting at `i`: after its first `;` outside brackets, or after
/// the brace block it opens outside parentheses and square brackets.
fn skip_item(toks: &[Tok], i: usize) -> usize {
    let mut j = i;
    while j < toks.len() {
        match toks[j].text.as_str() {
            ";" => return j + 1,
            "(" | "[" | "{" => {
                let is_brace = toks[j].is("{");
                j = skip_group(toks, j);
                if is_brace {
                    return j;
                }
            }
            _ => j += 1,
        }
    }
    toks.len()
}
