//! The dry-run's text output (the JSON output is the [`Report`] serialised).

use std::fmt::Write as _;

use super::model::{FieldChange, MappingCounts, Report, Verdict};

/// A value as the report shows it: JSON, strings quoted.
fn value(v: Option<&serde_json::Value>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The counts table, one row per mapping.
fn counts_table(r: &Report, out: &mut String) {
    let shown: Vec<Verdict> = Verdict::ALL
        .into_iter()
        .filter(|v| {
            matches!(v, Verdict::Same | Verdict::Changed)
                || r.mappings.values().any(|c| c.count(*v) > 0)
        })
        .collect();
    let mut header = format!("{:<14} {:>7} {:>7}", "mapping", "changes", "records");
    for v in &shown {
        let _ = write!(header, " {:>w$}", v.label(), w = v.label().len().max(4));
    }
    let _ = writeln!(out, "{header}   fields +added -removed ~changed");
    let row = |name: &str, c: &MappingCounts| {
        let mut line = format!("{name:<14} {:>7} {:>7}", c.changes, c.records);
        for v in &shown {
            let _ = write!(line, " {:>w$}", c.count(*v), w = v.label().len().max(4));
        }
        let _ = write!(
            line,
            "   +{} -{} ~{}",
            c.fields_added, c.fields_removed, c.fields_changed
        );
        line
    };
    for (name, c) in &r.mappings {
        let _ = writeln!(out, "{}", row(name, c));
    }
}

/// The report as text: the window, the counts per mapping, then each record decided
/// differently with its changes and their field diffs.
pub fn text(r: &Report, file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Dry run of {file} over {} ({} log): {} change(s) replayed, nothing written.",
        r.window, r.backend, r.changes
    );
    for (m, n) in &r.missing_mappings {
        let _ = writeln!(
            out,
            "{n} change(s) of mapping {m} not replayed: {file} has no mapping {m}."
        );
    }
    if r.undecodable > 0 {
        let _ = writeln!(
            out,
            "{} message(s) of the log did not decode and were skipped.",
            r.undecodable
        );
    }
    out.push('\n');
    counts_table(r, &mut out);
    if r.records.is_empty() {
        let _ = writeln!(
            out,
            "\nEvery change is decided as the log shows: the new mappings write nothing differently."
        );
        return out;
    }
    for rec in &r.records {
        let _ = writeln!(out, "\n{} ({})", rec.record, rec.mapping);
        for c in &rec.changes {
            // "would update", "would be filtered".
            let be = if matches!(c.would.as_str(), "create" | "update" | "delete") {
                ""
            } else {
                "be "
            };
            let _ = write!(
                out,
                "  {}  {}: was {}, would {be}{}",
                c.captured_at.format("%Y-%m-%dT%H:%M:%SZ"),
                c.verdict.label(),
                c.was,
                c.would
            );
            match &c.reason {
                Some(why) => {
                    let _ = writeln!(out, " ({why})");
                }
                None => out.push('\n'),
            }
            for f in &c.fields {
                let line = match f.change {
                    FieldChange::Added => format!("+ {}: {}", f.field, value(f.would_be.as_ref())),
                    FieldChange::Removed => format!("- {}: {}", f.field, value(f.was.as_ref())),
                    FieldChange::Changed => format!(
                        "~ {}: {} -> {}",
                        f.field,
                        value(f.was.as_ref()),
                        value(f.would_be.as_ref())
                    ),
                };
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    out
}
