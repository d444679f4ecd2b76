//! Composite keys: the predicate of `Entity(dataAreaId='usmf',CustomerAccount='US-001')`,
//! which must name every key field and nothing else (F&O does not accept a partial key,
//! `data-entities/odata.md`), and the store's row id built from a row's key values.

use serde_json::Value;

use super::FoError;
use super::schema::{EntityDef, Kind};
use crate::event::Fields;

/// Splits `Set(predicate)` into the set name and the predicate text, if any.
pub(crate) fn split_segment(segment: &str) -> Result<(&str, Option<&str>), FoError> {
    let Some(open) = segment.find('(') else {
        return Ok((segment, None));
    };
    let inner = segment[open + 1..].strip_suffix(')').ok_or_else(|| {
        FoError::bad_request(format!("Bad Request - Error in query syntax: '{segment}'."))
    })?;
    Ok((&segment[..open], Some(inner)))
}

/// Splits a predicate at the commas outside quoted strings.
fn parts(predicate: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in predicate.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The key values of a predicate, in the entity's key order.
pub(crate) fn parse(def: &EntityDef, predicate: &str) -> Result<Vec<Value>, FoError> {
    let bad = || {
        FoError::bad_request(format!(
            "The key '{predicate}' does not name every key property of '{}': {}.",
            def.type_name,
            def.keys.join(", ")
        ))
    };
    // A one-column key may be given by its value alone, as OData allows: `UnitsOfMeasure('ea')`.
    let named;
    let predicate = match def.keys {
        [only] if predicate.trim().starts_with('\'') || predicate.trim().parse::<u64>().is_ok() => {
            named = format!("{only}={predicate}");
            named.as_str()
        }
        _ => predicate,
    };
    let mut found: Vec<(String, Value)> = Vec::new();
    for part in parts(predicate) {
        let (name, raw) = part.split_once('=').ok_or_else(bad)?;
        let name = name.trim();
        let raw = raw.trim();
        let column = def
            .keys
            .iter()
            .find(|k| **k == name)
            .and_then(|k| def.column(k))
            .ok_or_else(bad)?;
        let value = match column.kind {
            Kind::Int64 | Kind::Int32 => raw.parse::<u64>().map(Value::from).map_err(|_| bad())?,
            _ => {
                let s = raw
                    .strip_prefix('\'')
                    .and_then(|r| r.strip_suffix('\''))
                    .ok_or_else(bad)?;
                Value::String(s.replace("''", "'"))
            }
        };
        if found.iter().any(|(n, _)| n == name) {
            return Err(bad());
        }
        found.push((name.to_string(), value));
    }
    def.keys
        .iter()
        .map(|k| {
            found
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .ok_or_else(bad)
        })
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string(),
    }
}

/// The store id of the row with these key values: lower-cased (F&O compares keys without
/// regard to case), joined by `|`.
pub(crate) fn row_id_of(values: &[Value]) -> String {
    values.iter().map(text).collect::<Vec<_>>().join("|")
}

/// The store id of a row from its fields.
pub(crate) fn row_id(def: &EntityDef, fields: &Fields) -> String {
    let values: Vec<Value> = def
        .keys
        .iter()
        .map(|k| fields.get(*k).cloned().unwrap_or(Value::Null))
        .collect();
    row_id_of(&values)
}

/// The key predicate of a row, as its URL carries it.
pub(crate) fn predicate(def: &EntityDef, fields: &Fields) -> String {
    def.keys
        .iter()
        .map(|k| match fields.get(*k) {
            Some(Value::String(s)) => format!("{k}='{}'", s.replace('\'', "''")),
            Some(v) => format!("{k}={v}"),
            None => format!("{k}=null"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::fo::schema::{CUSTOMERS, SALES_PRICE_AGREEMENTS, UNITS_OF_MEASURE};
    use serde_json::json;

    #[test]
    fn composite_keys_need_every_field() {
        let v = parse(&CUSTOMERS, "dataAreaId='USMF',CustomerAccount='US-001'").unwrap();
        assert_eq!(v, vec![json!("USMF"), json!("US-001")]);
        assert_eq!(row_id_of(&v), "usmf|us-001");
        let v = parse(
            &CUSTOMERS,
            "CustomerAccount='O''Neil, Ltd',dataAreaId='usmf'",
        )
        .unwrap();
        assert_eq!(v[1], json!("O'Neil, Ltd"));
        assert!(parse(&CUSTOMERS, "CustomerAccount='US-001'").is_err());
        assert!(parse(&CUSTOMERS, "'US-001'").is_err());
        assert!(parse(&CUSTOMERS, "dataAreaId='usmf',CustomerAccount='a',Foo='b'").is_err());
        let p = parse(
            &SALES_PRICE_AGREEMENTS,
            "dataAreaId='usmf',RecordId=5637144576",
        )
        .unwrap();
        assert_eq!(p[1], json!(5637144576u64));
        assert!(parse(&SALES_PRICE_AGREEMENTS, "dataAreaId='usmf',RecordId='x'").is_err());
        let mut f = Fields::new();
        f.insert("dataAreaId".into(), json!("usmf"));
        f.insert("CustomerAccount".into(), json!("O'Neil"));
        assert_eq!(
            predicate(&CUSTOMERS, &f),
            "dataAreaId='usmf',CustomerAccount='O''Neil'"
        );
        assert_eq!(row_id(&CUSTOMERS, &f), "usmf|o'neil");
        assert_eq!(
            split_segment("CustomersV3(x)").unwrap(),
            ("CustomersV3", Some("x"))
        );
        assert!(split_segment("CustomersV3(x").is_err());
    }

    #[test]
    fn a_shared_entity_is_keyed_by_its_one_column_named_or_not() {
        let named = parse(&UNITS_OF_MEASURE, "UnitSymbol='ea'").unwrap();
        assert_eq!(named, vec![json!("ea")]);
        assert_eq!(parse(&UNITS_OF_MEASURE, "'ea'").unwrap(), named);
        assert!(parse(&UNITS_OF_MEASURE, "dataAreaId='usmf',UnitSymbol='ea'").is_err());
        let mut f = Fields::new();
        f.insert("UnitSymbol".into(), json!("PCS"));
        assert_eq!(row_id(&UNITS_OF_MEASURE, &f), "pcs");
        assert_eq!(predicate(&UNITS_OF_MEASURE, &f), "UnitSymbol='PCS'");
    }
}
