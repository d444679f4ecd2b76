//! `$expand`, first level only (`data-entities/odata.md`: "only first-level expansion is
//! supported"): a sales order header's `SalesOrderLines`, the lines of the same company and
//! order, optionally with their own `$select`. Any nested `$expand` is refused.

use serde_json::Value;

use super::schema::{ENUM_NAMESPACE, EntityDef, SALES_ORDER_HEADERS, SALES_ORDER_LINES};
use super::{FoError, shape};
use crate::event::Fields;
use crate::sandbox::table::Store;

/// A navigation property: from an entity to the rows of another with the same values in the
/// joined columns.
#[derive(Debug)]
pub(crate) struct Navigation {
    pub from: &'static EntityDef,
    pub name: &'static str,
    pub target: &'static EntityDef,
    /// (column of `from`, column of `target`) pairs that must match.
    pub on: &'static [(&'static str, &'static str)],
}

/// The navigation properties of the served entities.
pub(crate) static NAVIGATIONS: &[Navigation] = &[Navigation {
    from: &SALES_ORDER_HEADERS,
    name: "SalesOrderLines",
    target: &SALES_ORDER_LINES,
    on: &[
        ("dataAreaId", "dataAreaId"),
        ("SalesOrderNumber", "SalesOrderNumber"),
    ],
}];

/// The navigation properties of `def`.
pub(crate) fn of(def: &EntityDef) -> impl Iterator<Item = &'static Navigation> + '_ {
    NAVIGATIONS.iter().filter(move |n| n.from.set == def.set)
}

/// One expanded navigation property, with the target's selected columns.
#[derive(Debug)]
pub(crate) struct Expand {
    nav: &'static Navigation,
    select: Option<Vec<String>>,
}

fn no_property(def: &EntityDef, name: &str) -> FoError {
    FoError::bad_request(format!(
        "Could not find a property named '{name}' on type '{ENUM_NAMESPACE}.{}'.",
        def.type_name
    ))
}

/// Splits at the commas outside parentheses.
fn items(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(text[start..].trim());
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// Parses `$expand` for `def`.
pub(crate) fn parse(def: &EntityDef, text: &str) -> Result<Vec<Expand>, FoError> {
    let mut out = Vec::new();
    for item in items(text) {
        let (name, options) = match item.split_once('(') {
            Some((n, rest)) => (n.trim(), rest.strip_suffix(')').unwrap_or(rest)),
            None => (item, ""),
        };
        let nav = of(def)
            .find(|n| n.name == name)
            .ok_or_else(|| no_property(def, name))?;
        let mut select = None;
        for option in options.split(';').map(str::trim).filter(|o| !o.is_empty()) {
            let (k, v) = option.split_once('=').unwrap_or((option, ""));
            match k.trim() {
                "$select" => {
                    let names: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
                    if let Some(bad) = names.iter().find(|n| nav.target.column(n).is_none()) {
                        return Err(no_property(nav.target, bad));
                    }
                    select = Some(names);
                }
                "$expand" => {
                    return Err(FoError::bad_request(
                        "Only first-level expansion is supported: an expanded property cannot expand another.",
                    ));
                }
                other => {
                    return Err(FoError::bad_request(format!(
                        "The query option '{other}' is not supported inside $expand."
                    )));
                }
            }
        }
        out.push(Expand { nav, select });
    }
    Ok(out)
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a.and_then(Value::as_str), b.and_then(Value::as_str)) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// Adds the expanded properties of `row` (its fields) to `out` (its shape).
pub(crate) fn apply(expands: &[Expand], store: &Store, row: &Fields, out: &mut Fields) {
    for e in expands {
        let mut related: Vec<_> = store
            .table(e.nav.target.set)
            .map(|t| t.live())
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, r)| {
                e.nav
                    .on
                    .iter()
                    .all(|(mine, theirs)| same(row.get(*mine), r.fields.get(*theirs)))
            })
            .collect();
        related.sort_by(|a, b| {
            let n =
                |r: &crate::sandbox::table::Row| r.fields.get("LineNumber").and_then(Value::as_f64);
            n(a.1)
                .partial_cmp(&n(b.1))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let value: Vec<Value> = related
            .into_iter()
            .map(|(_, r)| Value::Object(shape(e.nav.target, r, e.select.as_deref())))
            .collect();
        out.insert(e.nav.name.to_string(), Value::Array(value));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sandbox::fo::render::put;
    use crate::sandbox::fo::schema::CUSTOMERS;
    use crate::sandbox::fo::state::Data;

    #[test]
    fn expands_an_orders_lines_of_the_same_company_only() {
        let mut d = Data::default();
        for (company, order, line) in [
            ("usmf", "1", 2.0),
            ("usmf", "1", 1.0),
            ("usmf", "2", 1.0),
            ("usrt", "1", 1.0),
        ] {
            put(
                &mut d,
                &SALES_ORDER_LINES,
                json!({"dataAreaId": company, "InventoryLotId": format!("{company}{order}{line}"), "SalesOrderNumber": order, "LineNumber": line, "ItemNumber": "I1"}),
            );
        }
        let header = json!({"dataAreaId": "USMF", "SalesOrderNumber": "1"})
            .as_object()
            .cloned()
            .unwrap();
        let ex = parse(
            &SALES_ORDER_HEADERS,
            "SalesOrderLines($select=LineNumber,ItemNumber)",
        )
        .unwrap();
        let mut out = Fields::new();
        apply(&ex, &d.store, &header, &mut out);
        let lines = out["SalesOrderLines"].as_array().unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["LineNumber"], json!(1.0));
        assert!(lines[0].get("SalesOrderNumber").is_none());
        assert!(parse(&SALES_ORDER_HEADERS, "SalesOrderLines($expand=X)").is_err());
        assert!(parse(&SALES_ORDER_HEADERS, "SalesOrderLines($select=Nope)").is_err());
        assert!(parse(&CUSTOMERS, "SalesOrderLines").is_err());
        assert_eq!(items("A($select=a,b),B"), ["A($select=a,b)", "B"]);
    }
}
