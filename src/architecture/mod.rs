//! Architecture checks, run as unit tests over the crate's own source:
//!
//! - **no import cycle among files**: the file-level import graph ([`imports`]) has no cycle
//!   but those in [`ALLOWED_CYCLES`];
//! - **no long function in the generic stages** ([`GENERIC_STAGES`]): no function spans more
//!   than [`MAX_FN_LINES`] lines but those in [`ALLOWED_LONG_FNS`];
//! - **no system named by generic code**: no file of the generic stages depends on a file of
//!   a system's folder or of the emulators ([`SYSTEM_FOLDERS`]), and no file of the document
//!   flows ([`DOCUMENT_FLOWS`]) on an ERP's folder (they speak Dataverse, the CRM of every
//!   pair, and reach the ERP through its connector), but those in [`ALLOWED_SYSTEM_IMPORTS`].
//!
//! The allow-lists only shrink: a check fails on a violation not listed, and on a listed one
//! that no longer occurs (remove it from the list then).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use imports::Graph;

mod imports;
mod length;
mod lex;
mod tests;

/// The longest a function in the generic stages may be, in lines from `fn` to its closing brace.
pub const MAX_FN_LINES: usize = 120;

/// The folders of `src/` holding the generic stages, where [`MAX_FN_LINES`] applies.
pub const GENERIC_STAGES: &[&str] = &[
    "capture/",
    "bus/",
    "transform/",
    "apply/",
    "store/",
    "pipeline/",
    "mapping/",
    "event/",
    "fullsync/",
];

/// The folders of `src/` that hold one system's code (a connector, an emulator).
pub const SYSTEM_FOLDERS: &[&str] = &[
    "systems/bc/",
    "systems/dataverse/",
    "systems/fo/",
    "sandbox/",
];

/// The folders holding the generic document flows, whose CRM side is Dataverse's.
pub const DOCUMENT_FLOWS: &[&str] = &[
    "flows/",
    "orders/",
    "quotes/",
    "invoices/",
    "opportunities/",
];

/// The CRM's folder, which the document flows may name.
pub const CRM_FOLDER: &str = "systems/dataverse/";

/// Generic files known to name a system's file, as `generic file -> system file`, and why.
pub const ALLOWED_SYSTEM_IMPORTS: &[(&str, &str)] = &[];

/// Import cycles known and left for now: the files of each (paths under `src/`, sorted), and
/// why it is still there.
pub const ALLOWED_CYCLES: &[(&[&str], &str)] = &[
    (
        &["cli/demo.rs", "cli/mod.rs"],
        "cli/mod.rs dispatches to demo, which reuses its probe; command-line glue",
    ),
    (
        &[
            "sandbox/bc/fulfil.rs",
            "sandbox/bc/render.rs",
            "sandbox/bc/render_documents.rs",
            "sandbox/bc/routes.rs",
            "sandbox/bc/write.rs",
            "sandbox/bc/write_invoices.rs",
            "sandbox/bc/write_orders.rs",
            "sandbox/bc/write_quotes.rs",
            "sandbox/handle.rs",
            "sandbox/invoices.rs",
            "sandbox/seed.rs",
        ],
        "emulator, not a stage: the handle, seeding and BC's writers call one another",
    ),
    (
        &[
            "sandbox/world/catalogue.rs",
            "sandbox/world/documents.rs",
            "sandbox/world/gen_catalogue.rs",
            "sandbox/world/gen_documents.rs",
            "sandbox/world/gen_parties.rs",
            "sandbox/world/gen_pricelists.rs",
            "sandbox/world/generate.rs",
            "sandbox/world/mod.rs",
            "sandbox/world/parties.rs",
        ],
        "emulator, not a stage: the world's types and their generators share its key type",
    ),
    (
        &[
            "sandbox/bc/schema.rs",
            "sandbox/bc/schema_inventory.rs",
            "sandbox/bc/schema_invoices.rs",
            "sandbox/bc/schema_orders.rs",
            "sandbox/bc/schema_pricelists.rs",
            "sandbox/bc/schema_quotes.rs",
            "sandbox/bc/schema_sales.rs",
            "sandbox/bc/schema_shipments.rs",
        ],
        "emulator schema split per document, parts reusing the base's helpers",
    ),
    (
        &["sandbox/dataverse/actions.rs", "sandbox/dataverse/write.rs"],
        "emulator: actions write records, writes trigger actions",
    ),
    (
        &[
            "sandbox/dataverse/schema.rs",
            "sandbox/dataverse/schema_invoices.rs",
            "sandbox/dataverse/schema_orders.rs",
            "sandbox/dataverse/schema_posts.rs",
            "sandbox/dataverse/schema_quotes.rs",
            "sandbox/dataverse/schema_sales.rs",
        ],
        "emulator schema split per document, parts reusing the base's helpers",
    ),
];

/// Functions in the generic stages known to be longer than [`MAX_FN_LINES`]: `file::name`
/// (path under `src/`), and why it is still there.
pub const ALLOWED_LONG_FNS: &[(&str, &str)] = &[];

/// The library's source files, as (path under `src/`, text).
fn sources() -> Vec<(String, String)> {
    imports::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// The differences between what a check found and what its allow-list holds: the findings not
/// listed, and the listed entries not found.
fn compare(found: &BTreeSet<String>, allowed: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    let new = found.difference(allowed).cloned().collect();
    let stale = allowed.difference(found).cloned().collect();
    (new, stale)
}

#[test]
fn no_import_cycle_but_those_allowed() {
    let graph = Graph::build(&sources());
    let cycles = graph.cycles();
    let found: BTreeSet<String> = cycles.iter().map(|c| c.join(" ")).collect();
    let allowed: BTreeSet<String> = ALLOWED_CYCLES.iter().map(|(c, _)| c.join(" ")).collect();
    let (new, stale) = compare(&found, &allowed);
    let mut msg = String::new();
    for c in cycles.iter().filter(|c| new.contains(&c.join(" "))) {
        msg.push_str(&format!("  import cycle among {} files:\n", c.len()));
        msg.push_str(&graph.describe(c));
    }
    for s in &stale {
        msg.push_str(&format!(
            "  allowed cycle no longer found (remove it): {s}\n"
        ));
    }
    assert!(
        msg.is_empty(),
        "import cycles differ from ALLOWED_CYCLES:\n{msg}"
    );
}

#[test]
fn no_long_function_in_the_generic_stages_but_those_allowed() {
    let mut found = BTreeMap::new();
    for (rel, src) in sources() {
        if !GENERIC_STAGES.iter().any(|d| rel.starts_with(d)) {
            continue;
        }
        for f in length::long_fns(&lex::without_tests(&src).0, MAX_FN_LINES) {
            let at = format!("{rel}:{} is {} lines", f.line, f.lines);
            found.insert(format!("{rel}::{}", f.name), at);
        }
    }
    let keys: BTreeSet<String> = found.keys().cloned().collect();
    let allowed: BTreeSet<String> = ALLOWED_LONG_FNS
        .iter()
        .map(|(f, _)| f.to_string())
        .collect();
    let (new, stale) = compare(&keys, &allowed);
    let mut msg = String::new();
    for n in &new {
        msg.push_str(&format!("  fn {n} ({}), over {MAX_FN_LINES}\n", found[n]));
    }
    for s in &stale {
        msg.push_str(&format!(
            "  allowed long fn no longer found (remove it): {s}\n"
        ));
    }
    assert!(
        msg.is_empty(),
        "long functions differ from ALLOWED_LONG_FNS:\n{msg}"
    );
}

/// The files under `src/` that generic file `rel` may not depend on: a system's folder for the
/// stages, an ERP's folder for the document flows; `None` for other files.
fn forbidden_for(rel: &str) -> Option<Vec<&'static str>> {
    if GENERIC_STAGES.iter().any(|d| rel.starts_with(d)) {
        Some(SYSTEM_FOLDERS.to_vec())
    } else if DOCUMENT_FLOWS.iter().any(|d| rel.starts_with(d)) {
        Some(
            SYSTEM_FOLDERS
                .iter()
                .copied()
                .filter(|d| *d != CRM_FOLDER)
                .collect(),
        )
    } else {
        None
    }
}

#[test]
fn no_system_named_by_generic_code_but_those_allowed() {
    let graph = Graph::build(&sources());
    let mut found = BTreeMap::new();
    for (rel, deps) in &graph.edges {
        let Some(forbidden) = forbidden_for(rel) else {
            continue;
        };
        for (dep, line) in deps {
            if forbidden.iter().any(|d| dep.starts_with(d)) {
                found.insert(format!("{rel} -> {dep}"), *line);
            }
        }
    }
    let keys: BTreeSet<String> = found.keys().cloned().collect();
    let allowed: BTreeSet<String> = ALLOWED_SYSTEM_IMPORTS
        .iter()
        .map(|(f, t)| format!("{f} -> {t}"))
        .collect();
    let (new, stale) = compare(&keys, &allowed);
    let mut msg = String::new();
    for n in &new {
        msg.push_str(&format!("  {n} (line {})\n", found[n]));
    }
    for s in &stale {
        msg.push_str(&format!(
            "  allowed import no longer found (remove it): {s}\n"
        ));
    }
    assert!(
        msg.is_empty(),
        "generic code naming a system's files differs from ALLOWED_SYSTEM_IMPORTS:\n{msg}"
    );
}
