//! Tests of the scanners behind the architecture checks, on small inline examples.

use super::imports::{Graph, UseEntry, module_of, parse_use_tree};
use super::length::long_fns;
use super::lex::{blank, tokens, without_tests};

/// A crate made of `files` (path under `src/`, text).
fn graph(files: &[(&str, &str)]) -> Graph {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect();
    Graph::build(&sources)
}

/// The files `file` depends on.
fn deps(g: &Graph, file: &str) -> Vec<String> {
    g.edges[file].keys().cloned().collect()
}

fn texts(src: &str) -> Vec<String> {
    tokens(&blank(src)).into_iter().map(|t| t.text).collect()
}

#[test]
fn comments_and_literals_are_blanked_lines_kept() {
    let src = "a // crate::x\n/* crate::y /* nested */ */ b \"crate::z \\\" {\" c\n\
               r#\"crate::w \"{\"# d '{' e '\\'' f 'a g b\"{\" h";
    assert_eq!(
        texts(src),
        [
            "a", "b", "\"", "\"", "c", "r", "#", "\"", "\"", "#", "d", "'", "'", "e", "'", "'",
            "f", "'", "a", "g", "b", "\"", "\"", "h"
        ]
    );
    assert_eq!(blank(src).lines().count(), src.lines().count());
    let toks = tokens(&blank("x\n\n/* a\nb */ y"));
    assert_eq!((toks[0].line, toks[1].line), (1, 4));
}

#[test]
fn cfg_test_items_are_dropped_and_test_files_named() {
    let src = "fn a() {}\n#[cfg(test)]\nmod tests { fn b() {} }\n\
               #[cfg(test)]\n#[allow(unused)]\nfn c() { x(); }\n#[cfg(test)]\nmod more;\n\
               #[cfg(test)]\nuse crate::x::Y;\nfn d() {}";
    let (toks, mods) = without_tests(src);
    let names: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(
        names,
        ["fn", "a", "(", ")", "{", "}", "fn", "d", "(", ")", "{", "}"]
    );
    assert_eq!(mods, ["more"]);
}

#[test]
fn use_trees_are_expanded() {
    let toks = tokens("crate::a::{b::{C, D as E}, self, f::*};");
    let mut out = Vec::new();
    parse_use_tree(&toks, &mut 0, &[], &mut out);
    let entry = |p: &str, n: Option<&str>| UseEntry {
        path: p.split("::").map(String::from).collect(),
        name: n.map(String::from),
    };
    assert_eq!(
        out,
        [
            entry("crate::a::b::C", Some("C")),
            entry("crate::a::b::D", Some("E")),
            entry("crate::a", Some("a")),
            entry("crate::a::f", None),
        ]
    );
}

#[test]
fn module_paths_come_from_file_paths() {
    assert_eq!(module_of("lib.rs"), Vec::<String>::new());
    assert_eq!(module_of("a/mod.rs"), ["a"]);
    assert_eq!(module_of("a/b.rs"), ["a", "b"]);
}

#[test]
fn paths_resolve_to_the_deepest_file_and_through_re_exports() {
    let g = graph(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a/mod.rs", "mod key; pub use key::Key; pub fn here() {}"),
        ("a/key.rs", "pub struct Key;"),
        ("b/mod.rs", "pub mod x; pub mod y; pub mod z;"),
        // Through the re-export in a/mod.rs to a/key.rs.
        ("b/x.rs", "use crate::a::Key;"),
        // An item of a/mod.rs itself, named inline.
        ("b/y.rs", "fn f() { crate::a::here(); super::x::g(); }"),
        // A module imported by name, then used as a path; `$crate` and std are not followed.
        (
            "b/z.rs",
            "use crate::a; use std::fmt; fn f() { a::key::k(); $crate::b::y::f(); }",
        ),
    ]);
    assert_eq!(deps(&g, "b/x.rs"), ["a/key.rs"]);
    assert_eq!(deps(&g, "b/y.rs"), ["a/mod.rs", "b/x.rs"]);
    assert_eq!(deps(&g, "b/z.rs"), ["a/key.rs"]);
    // A re-export the file does not use itself is no dependency of it.
    assert!(deps(&g, "a/mod.rs").is_empty());
    assert!(g.cycles().is_empty());
}

#[test]
fn cycles_are_found_as_strongly_connected_files() {
    let g = graph(&[
        ("lib.rs", "pub mod a; pub mod b; pub mod c; pub mod d;"),
        ("a.rs", "use crate::b::B;"),
        ("b.rs", "pub struct B; fn f() { crate::c::g(); }"),
        ("c.rs", "use super::a; pub fn g() { a::h(); }"),
        // d depends on the cycle without being in it; its inline test module is not scanned.
        (
            "d.rs",
            "use crate::a::A;\n#[cfg(test)]\nmod tests { use crate::d::X; }",
        ),
    ]);
    assert_eq!(g.cycles(), [["a.rs", "b.rs", "c.rs"]]);
    let shown = g.describe(&g.cycles()[0]);
    assert!(shown.contains("a.rs:1 -> b.rs"), "{shown}");
}

#[test]
fn inline_modules_resolve_super_from_where_they_are() {
    let g = graph(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a.rs", "pub mod inner { use super::super::b::B; }"),
        ("b.rs", "pub struct B;"),
    ]);
    assert_eq!(deps(&g, "a.rs"), ["b.rs"]);
}

#[test]
fn function_length_counts_from_fn_to_closing_brace() {
    let src = "fn short() {\n}\n\
               pub async fn long(x: fn(u8) -> u8) -> Result<(), E>\nwhere E: Fn() {\n\
               let s = \"}}}\"; // }\n let c = '}';\n\n}\n\
               trait T { fn decl(&self); }\n\
               #[cfg(test)]\nmod tests {\nfn in_test() {\n\n\n\n\n}\n}";
    let long = long_fns(&without_tests(src).0, 4);
    assert_eq!(long.len(), 1, "{long:?}");
    assert_eq!(
        (long[0].name.as_str(), long[0].line, long[0].lines),
        ("long", 3, 6)
    );
}

#[test]
fn allow_lists_only_shrink() {
    let set = |items: &[&str]| -> std::collections::BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    };
    let (new, stale) = super::compare(&set(&["a", "b"]), &set(&["b", "c"]));
    assert_eq!((new, stale), (vec!["a".to_string()], vec!["c".to_string()]));
}
