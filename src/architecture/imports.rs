//! The file-level import graph of the crate and its cycles.
//!
//! A file depends on another when it names an item the other defines: through a `use`
//! (`crate::…`, `super::…`, `self::…`, or a child module), or through a path in its code
//! starting with `crate::`, `super::`, `self::`, a child module, or a module it imported by
//! name. A path resolves to the deepest existing module file (`a/b.rs` or `a/b/mod.rs`), and
//! through that file's re-exports (`pub use x::Item`) to the file the item comes from, so
//! naming `crate::event::System` depends on `event/key.rs`, not on `event/mod.rs`. A
//! re-export is a dependency of the re-exporting file only when that file also uses the name.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::lex::{Tok, without_tests};

/// One name a `use` brings into scope (or a glob).
#[derive(Debug, Clone, PartialEq)]
pub struct UseEntry {
    /// The path as written, with `crate`, `super` or `self` first when written so.
    pub path: Vec<String>,
    /// The name bound (the alias when `as` is used); `None` for a glob.
    pub name: Option<String>,
}

/// A parsed source file.
struct File {
    /// Its module path (`["apply", "writer"]` for `apply/writer.rs`).
    module: Vec<String>,
    /// Its tokens, `#[cfg(test)]` items left out.
    toks: Vec<Tok>,
}

/// A use statement found in a file.
struct UseStmt {
    /// The module path it is written in (the file's, plus any inline `mod` around it).
    scope: Vec<String>,
    /// Whether it is a re-export (`pub use`, `pub(crate) use`, …).
    public: bool,
    /// The line of its `use` keyword.
    line: usize,
    entries: Vec<UseEntry>,
}

/// The crate's files and the import graph between them.
pub struct Graph {
    /// File (path relative to `src/`) → the files it depends on, with a line naming each.
    pub edges: BTreeMap<String, BTreeMap<String, usize>>,
}

/// The source files of the library under `src_dir`, following `mod name;` declarations from
/// `lib.rs` (so `#[cfg(test)]` files are left out), as (path relative to `src_dir`, text).
pub fn load(src_dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec!["lib.rs".to_string()];
    while let Some(rel) = todo.pop() {
        let Ok(src) = std::fs::read_to_string(src_dir.join(&rel)) else {
            continue;
        };
        let dir = match rel
            .strip_suffix("mod.rs")
            .or_else(|| rel.strip_suffix("lib.rs"))
        {
            Some(d) => d.to_string(),
            None => format!("{}/", rel.trim_end_matches(".rs")),
        };
        for name in declared_mods(&without_tests(&src).0) {
            let flat = format!("{dir}{name}.rs");
            let nested = format!("{dir}{name}/mod.rs");
            todo.push(if src_dir.join(&flat).exists() {
                flat
            } else {
                nested
            });
        }
        out.push((rel, src));
    }
    out.sort();
    out
}

/// The module path of a file from its path relative to `src/`.
pub fn module_of(rel: &str) -> Vec<String> {
    let mut segs: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(segs.last().map(String::as_str), Some("mod" | "lib")) {
        segs.pop();
    }
    segs
}

/// The `mod name;` (file module) declarations at the top level of a file.
fn declared_mods(toks: &[Tok]) -> Vec<String> {
    let mut depth = 0usize;
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.text.as_str() {
            "{" => depth += 1,
            "}" => depth = depth.saturating_sub(1),
            "mod" if depth == 0 => {
                if let (Some(name), Some(semi)) = (toks.get(i + 1), toks.get(i + 2))
                    && semi.is(";")
                {
                    out.push(name.text.clone());
                }
            }
            _ => {}
        }
    }
    out
}

/// Parses the use tree after a `use` keyword at `toks[*i]`, appending its entries to `out`
/// with `prefix` before each path; leaves `*i` after the tree.
pub fn parse_use_tree(toks: &[Tok], i: &mut usize, prefix: &[String], out: &mut Vec<UseEntry>) {
    let mut path = prefix.to_vec();
    while let Some(t) = toks.get(*i) {
        if t.is("{") {
            *i += 1;
            while toks.get(*i).is_some_and(|t| !t.is("}")) {
                let before = *i;
                parse_use_tree(toks, i, &path, out);
                // Past the comma, or past a token that is no use tree.
                if toks.get(*i).is_some_and(|t| t.is(",")) || *i == before {
                    *i += 1;
                }
            }
            *i += 1;
            return;
        }
        if t.is("*") {
            *i += 1;
            out.push(UseEntry { path, name: None });
            return;
        }
        if !t.is_ident() {
            return;
        }
        path.push(t.text.clone());
        *i += 1;
        if toks.get(*i).is_some_and(|t| t.is("::")) {
            *i += 1;
            continue;
        }
        if path.len() > 1 && path.last().is_some_and(|s| s == "self") {
            path.pop();
        }
        let mut name = path.last().cloned();
        if toks.get(*i).is_some_and(|t| t.is("as")) {
            name = toks.get(*i + 1).map(|t| t.text.clone());
            *i += 2;
        }
        out.push(UseEntry { path, name });
        return;
    }
}

impl Graph {
    /// The import graph of the given files (paths relative to `src/`, and their text).
    pub fn build(sources: &[(String, String)]) -> Graph {
        let files: BTreeMap<String, File> = sources
            .iter()
            .map(|(rel, src)| {
                let toks = without_tests(src).0;
                (
                    rel.clone(),
                    File {
                        module: module_of(rel),
                        toks,
                    },
                )
            })
            .collect();
        let modules: HashMap<Vec<String>, String> = files
            .iter()
            .map(|(rel, f)| (f.module.clone(), rel.clone()))
            .collect();
        let uses: BTreeMap<&String, Vec<UseStmt>> = files
            .iter()
            .map(|(rel, f)| (rel, use_statements(&f.toks, &f.module)))
            .collect();
        let mut r = Resolver {
            modules,
            reexports: HashMap::new(),
        };
        for (rel, stmts) in &uses {
            let mut names = HashMap::new();
            for s in stmts
                .iter()
                .filter(|s| s.public && s.scope == files[*rel].module)
            {
                for e in &s.entries {
                    if let (Some(n), Some(abs)) = (&e.name, r.absolute(&s.scope, &e.path)) {
                        names.insert(n.clone(), abs);
                    }
                }
            }
            r.reexports.insert((*rel).clone(), names);
        }
        let mut edges = BTreeMap::new();
        for (rel, f) in &files {
            edges.insert(rel.clone(), r.file_edges(rel, f, &uses[rel]));
        }
        Graph { edges }
    }

    /// The import cycles: each set of two or more files that all reach one another (a strongly
    /// connected component), sorted.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let names: Vec<&String> = self.edges.keys().collect();
        let index: HashMap<&String, usize> =
            names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let succ: Vec<Vec<usize>> = names
            .iter()
            .map(|n| {
                self.edges[*n]
                    .keys()
                    .filter_map(|t| index.get(t).copied())
                    .collect()
            })
            .collect();
        let mut out: Vec<Vec<String>> = strongly_connected(&succ)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut files: Vec<String> = c.iter().map(|&i| names[i].clone()).collect();
                files.sort();
                files
            })
            .collect();
        out.sort();
        out
    }

    /// The edges among `files`, one per line as `a.rs:LINE -> b.rs`, to show a cycle.
    pub fn describe(&self, files: &[String]) -> String {
        let set: BTreeSet<&String> = files.iter().collect();
        let mut out = String::new();
        for f in files {
            for (to, line) in self.edges.get(f).into_iter().flatten() {
                if set.contains(to) {
                    out.push_str(&format!("      {f}:{line} -> {to}\n"));
                }
            }
        }
        out
    }
}

/// The use statements of a file whose module path is `module`.
fn use_statements(toks: &[Tok], module: &[String]) -> Vec<UseStmt> {
    let mut out = Vec::new();
    let mut scopes = ScopeTracker::new(module);
    let mut i = 0;
    while i < toks.len() {
        scopes.step(toks, i);
        if toks[i].is("use") && toks.get(i + 1).is_some_and(|t| !t.is("<")) {
            let public = is_public(toks, i);
            let mut entries = Vec::new();
            let mut j = i + 1;
            parse_use_tree(toks, &mut j, &[], &mut entries);
            out.push(UseStmt {
                scope: scopes.current(),
                public,
                line: toks[i].line,
                entries,
            });
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    out
}

/// Whether the item whose keyword is at `i` is declared `pub` or `pub(…)`.
fn is_public(toks: &[Tok], i: usize) -> bool {
    match i.checked_sub(1).map(|p| &toks[p]) {
        Some(t) if t.is("pub") => true,
        Some(t) if t.is(")") => (0..i.saturating_sub(1))
            .rev()
            .find(|&j| toks[j].is("("))
            .and_then(|j| j.checked_sub(1))
            .is_some_and(|j| toks[j].is("pub")),
        _ => false,
    }
}

/// Follows inline `mod name { … }` blocks while tokens are walked in order.
struct ScopeTracker {
    base: Vec<String>,
    depth: usize,
    /// Inline modules open: name and the brace depth inside them.
    open: Vec<(String, usize)>,
    pending: Option<String>,
}

impl ScopeTracker {
    fn new(module: &[String]) -> Self {
        ScopeTracker {
            base: module.to_vec(),
            depth: 0,
            open: Vec::new(),
            pending: None,
        }
    }

    /// Takes the token at `i` into account.
    fn step(&mut self, toks: &[Tok], i: usize) {
        let t = &toks[i];
        if t.is("mod") && toks.get(i + 2).is_some_and(|n| n.is("{")) {
            self.pending = toks.get(i + 1).map(|n| n.text.clone());
        } else if t.is("{") {
            self.depth += 1;
            if let Some(name) = self.pending.take() {
                self.open.push((name, self.depth));
            }
        } else if t.is("}") {
            if self.open.last().is_some_and(|(_, d)| *d == self.depth) {
                self.open.pop();
            }
            self.depth = self.depth.saturating_sub(1);
        }
    }

    /// The module path at the current token.
    fn current(&self) -> Vec<String> {
        let mut m = self.base.clone();
        m.extend(self.open.iter().map(|(n, _)| n.clone()));
        m
    }
}

/// Resolves paths to files.
struct Resolver {
    /// Module path → file.
    modules: HashMap<Vec<String>, String>,
    /// File → the names it re-exports → the absolute path each comes from.
    reexports: HashMap<String, HashMap<String, Vec<String>>>,
}

impl Resolver {
    /// The absolute module path of `path` written in module `scope`, or `None` when it does not
    /// start in this crate (`std::…`, another crate, a local item).
    fn absolute(&self, scope: &[String], path: &[String]) -> Option<Vec<String>> {
        let first = path.first()?;
        let mut abs = match first.as_str() {
            "crate" => Vec::new(),
            "self" => scope.to_vec(),
            "super" => {
                let ups = path.iter().take_while(|s| *s == "super").count();
                let mut base = scope[..scope.len().checked_sub(ups)?].to_vec();
                base.extend(path[ups..].iter().cloned());
                return Some(base);
            }
            _ => {
                let mut child = scope.to_vec();
                child.push(first.clone());
                if !self.modules.contains_key(&child) {
                    return None;
                }
                return Some([scope, path].concat());
            }
        };
        abs.extend(path[1..].iter().cloned());
        Some(abs)
    }

    /// The file defining what the absolute path `abs` names: the deepest module file on the
    /// path, or the file it re-exports the next segment from.
    fn file_of(&self, abs: &[String], hops: usize) -> Option<&String> {
        let k = (0..=abs.len())
            .rev()
            .find(|&k| self.modules.contains_key(&abs[..k]))?;
        let file = &self.modules[&abs[..k]];
        if let Some(next) = abs.get(k)
            && hops < 8
            && let Some(target) = self.reexports.get(file).and_then(|r| r.get(next))
        {
            let mut p = target.clone();
            p.extend(abs[k + 1..].iter().cloned());
            if p != abs {
                return self.file_of(&p, hops + 1);
            }
        }
        Some(file)
    }

    /// The files `rel` depends on, with the first line naming each.
    fn file_edges(&self, rel: &str, f: &File, stmts: &[UseStmt]) -> BTreeMap<String, usize> {
        let mut edges = BTreeMap::new();
        let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
        let body_idents: BTreeSet<&str> = body_tokens(&f.toks)
            .into_iter()
            .filter(|&i| f.toks[i].is_ident())
            .map(|i| f.toks[i].text.as_str())
            .collect();
        for s in stmts {
            for e in &s.entries {
                if s.public
                    && e.name
                        .as_ref()
                        .is_none_or(|n| !body_idents.contains(n.as_str()))
                {
                    continue;
                }
                let Some(abs) = self.absolute(&s.scope, &e.path) else {
                    continue;
                };
                match &e.name {
                    Some(n) if self.modules.contains_key(&abs) => {
                        aliases.insert(n.clone(), abs);
                    }
                    _ => self.add_edge(&mut edges, rel, &abs, s.line),
                }
            }
        }
        let mut scopes = ScopeTracker::new(&f.module);
        let body = body_tokens(&f.toks);
        let mut prev = None;
        for &i in &body {
            for j in prev.map_or(0, |p| p + 1)..=i {
                scopes.step(&f.toks, j);
            }
            prev = Some(i);
            let Some(path) = path_at(&f.toks, i) else {
                continue;
            };
            let abs = match aliases.get(&path[0]) {
                Some(m) => Some([m.as_slice(), &path[1..]].concat()),
                None => self.absolute(&scopes.current(), &path),
            };
            if let Some(abs) = abs {
                self.add_edge(&mut edges, rel, &abs, f.toks[i].line);
            }
        }
        edges
    }

    fn add_edge(
        &self,
        edges: &mut BTreeMap<String, usize>,
        rel: &str,
        abs: &[String],
        line: usize,
    ) {
        if let Some(to) = self.file_of(abs, 0)
            && to != rel
        {
            edges.entry(to.clone()).or_insert(line);
        }
    }
}

/// The indices of the tokens outside use statements.
fn body_tokens(toks: &[Tok]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i].is("use") && toks.get(i + 1).is_some_and(|t| !t.is("<")) {
            let mut j = i + 1;
            parse_use_tree(toks, &mut j, &[], &mut Vec::new());
            i = j.max(i + 1);
        } else {
            out.push(i);
            i += 1;
        }
    }
    out
}

/// The path starting at token `i` (`a::b::c`), when a path with at least two segments starts
/// there (not in the middle of one, nor in a macro's `$crate::`).
fn path_at(toks: &[Tok], i: usize) -> Option<Vec<String>> {
    let before = i.checked_sub(1).map(|p| toks[p].text.as_str());
    if !toks[i].is_ident() || matches!(before, Some("::" | "$")) {
        return None;
    }
    let mut path = vec![toks[i].text.clone()];
    let mut j = i + 1;
    while toks.get(j).is_some_and(|t| t.is("::")) && toks.get(j + 1).is_some_and(Tok::is_ident) {
        path.push(toks[j + 1].text.clone());
        j += 2;
    }
    (path.len() > 1).then_some(path)
}

/// Tarjan's strongly connected components of the graph `succ` (node → successors).
fn strongly_connected(succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        succ: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.succ[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(comp);
        }
    }
    let n = succ.len();
    let mut s = State {
        succ,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}
