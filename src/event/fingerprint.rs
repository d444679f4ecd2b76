//! The Parsing Canonical Form of an Avro schema and its CRC-64-AVRO (Rabin) fingerprint, as
//! the Avro specification defines them ("Parsing Canonical Form for Schemas", "Schema
//! Fingerprints").
//!
//! apache-avro 0.22 reduces `{"type": "long", "logicalType": "timestamp-millis"}` to
//! `{"type":"long"}` instead of `"long"` in its canonical form, so its fingerprint of any
//! schema with a logical type differs from the one every other Avro implementation computes
//! from the same `.avsc`. The single-object header uses this module's fingerprint instead.

use serde_json::Value;

const PRIMITIVES: &[&str] = &[
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// The Parsing Canonical Form of the schema `text` (JSON).
pub fn canonical_form(text: &str) -> Result<String, serde_json::Error> {
    let v: Value = serde_json::from_str(text)?;
    let mut out = String::new();
    pcf(&v, "", &mut out);
    Ok(out)
}

/// The CRC-64-AVRO fingerprint of `bytes` (the 64-bit Rabin fingerprint of the specification).
pub fn rabin(bytes: &[u8]) -> u64 {
    const EMPTY: u64 = 0xc15d_213a_a4d7_a795;
    let table: [u64; 256] = std::array::from_fn(|i| {
        let mut fp = i as u64;
        for _ in 0..8 {
            fp = (fp >> 1) ^ (EMPTY & (fp & 1).wrapping_neg());
        }
        fp
    });
    bytes.iter().fold(EMPTY, |fp, b| {
        (fp >> 8) ^ table[((fp ^ u64::from(*b)) & 0xff) as usize]
    })
}

/// The single-object encoding header of the schema `text`: `0xC3 0x01`, then its fingerprint
/// in little-endian order.
pub fn single_object_header(text: &str) -> Result<Vec<u8>, serde_json::Error> {
    let fp = rabin(canonical_form(text)?.as_bytes());
    let mut h = vec![0xC3, 0x01];
    h.extend_from_slice(&fp.to_le_bytes());
    Ok(h)
}

fn quoted(out: &mut String, s: &str) {
    // serde_json writes non-ASCII as UTF-8 and escapes only what JSON requires ([STRINGS]).
    out.push_str(&Value::String(s.to_string()).to_string());
}

/// [FULLNAMES]: a name with a dot is full; otherwise it takes the namespace in force.
fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
    }
}

fn namespace_of(full: &str) -> &str {
    full.rsplit_once('.').map(|(ns, _)| ns).unwrap_or("")
}

fn pcf(v: &Value, ns: &str, out: &mut String) {
    match v {
        Value::String(s) if PRIMITIVES.contains(&s.as_str()) => quoted(out, s),
        Value::String(s) => quoted(out, &full_name(s, ns)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pcf(item, ns, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let typ = match map.get("type") {
                // [PRIMITIVES]: {"type": "long", ...} is "long" (logicalType and the rest are
                // stripped).
                Some(Value::String(t)) => t.as_str(),
                Some(other) => return pcf(other, ns, out),
                None => return quoted(out, ""),
            };
            if PRIMITIVES.contains(&typ) {
                return quoted(out, typ);
            }
            let mut ns = ns.to_string();
            let mut parts: Vec<String> = Vec::new();
            if let Some(name) = map.get("name").and_then(Value::as_str) {
                let enclosing = map
                    .get("namespace")
                    .and_then(Value::as_str)
                    .unwrap_or(&ns)
                    .to_string();
                let full = full_name(name, &enclosing);
                ns = namespace_of(&full).to_string();
                let mut p = String::from("\"name\":");
                quoted(&mut p, &full);
                parts.push(p);
            }
            // [ORDER]: name, type, fields, symbols, items, values, size; [STRIP] the rest.
            let mut p = String::from("\"type\":");
            quoted(&mut p, typ);
            parts.push(p);
            if let Some(Value::Array(fields)) = map.get("fields") {
                let mut p = String::from("\"fields\":[");
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        p.push(',');
                    }
                    p.push_str("{\"name\":");
                    quoted(&mut p, f.get("name").and_then(Value::as_str).unwrap_or(""));
                    p.push_str(",\"type\":");
                    pcf(f.get("type").unwrap_or(&Value::Null), &ns, &mut p);
                    p.push('}');
                }
                p.push(']');
                parts.push(p);
            }
            if let Some(Value::Array(symbols)) = map.get("symbols") {
                let mut p = String::from("\"symbols\":[");
                for (i, s) in symbols.iter().enumerate() {
                    if i > 0 {
                        p.push(',');
                    }
                    quoted(&mut p, s.as_str().unwrap_or(""));
                }
                p.push(']');
                parts.push(p);
            }
            for key in ["items", "values"] {
                if let Some(inner) = map.get(key) {
                    let mut p = format!("\"{key}\":");
                    pcf(inner, &ns, &mut p);
                    parts.push(p);
                }
            }
            if let Some(size) = map.get("size") {
                // [INTEGERS]: no quotes, no leading zeros.
                let n = size
                    .as_u64()
                    .or_else(|| size.as_str().and_then(|s| s.trim().parse().ok()))
                    .unwrap_or(0);
                parts.push(format!("\"size\":{n}"));
            }
            out.push('{');
            out.push_str(&parts.join(","));
            out.push('}');
        }
        // Not a schema; kept visible rather than dropped.
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::avro::{CHANGE_EVENT_SCHEMA, OUTCOME_SCHEMA, WRITE_COMMAND_SCHEMA};

    fn fp_hex(text: &str) -> String {
        hex::encode(rabin(canonical_form(text).unwrap().as_bytes()).to_le_bytes())
    }

    #[test]
    fn primitives_and_logical_types_reduce_to_names() {
        assert_eq!(canonical_form(r#""int""#).unwrap(), r#""int""#);
        assert_eq!(
            canonical_form(r#"{"type":"long","logicalType":"timestamp-millis"}"#).unwrap(),
            r#""long""#
        );
        // The fingerprint the Avro test suite and fastavro give for "int".
        assert_eq!(fp_hex(r#""int""#), "8f5c393f1ad57572");
    }

    #[test]
    fn names_order_and_strip() {
        let s = r#"{"type":"record","name":"R","namespace":"a.b","doc":"d","fields":[
            {"name":"f","type":{"type":"fixed","name":"F","size":"16","logicalType":"decimal","precision":4}},
            {"name":"g","type":"F","doc":"x","default":null},
            {"name":"h","type":{"type":"array","items":{"type":"enum","name":"c.E","symbols":["X","Y"]}}}]}"#;
        assert_eq!(
            canonical_form(s).unwrap(),
            r#"{"name":"a.b.R","type":"record","fields":[{"name":"f","type":{"name":"a.b.F","type":"fixed","size":16}},{"name":"g","type":"a.b.F"},{"name":"h","type":{"type":"array","items":{"name":"c.E","type":"enum","symbols":["X","Y"]}}}]}"#
        );
        // As computed by fastavro 1.13 (`fingerprint(to_parsing_canonical_form(..), "CRC-64-AVRO")`).
        assert_eq!(fp_hex(s), "e7e81796660725cd");
    }

    #[test]
    fn shipped_schemas_match_fastavro() {
        // Computed by fastavro 1.13 from the .avsc files; tests/avro_interop.rs checks the same
        // against the installed fastavro.
        assert_eq!(fp_hex(CHANGE_EVENT_SCHEMA), "d9099b31b603f051");
        assert_eq!(fp_hex(WRITE_COMMAND_SCHEMA), "844a81fd06de7013");
        assert_eq!(fp_hex(OUTCOME_SCHEMA), "667ff1326d0c1d79");
    }
}
