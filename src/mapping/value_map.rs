//! Value maps: a field whose values are translated one by one, e.g. a Business Central payment
//! terms code and the Dataverse option value of `account.paymenttermscode` (Business Central's
//! "CRM Option Mapping").

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One pair of a value map. In a mapping file:
/// `value_map = [{ erp = "NET30", crm = 1 }, { erp = "NET60", crm = 4 }]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueMapEntry {
    /// The ERP value (a code; compared without regard to case and surrounding blanks).
    pub erp: String,
    /// The CRM value (an option-set value, or any JSON value).
    pub crm: Value,
}

/// A value a value map does not contain: the record fails, naming the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "value '{value}' has no entry in the value map (known: {known}); add it to the mapping's value_map, or correct the record"
)]
pub struct Unmapped {
    /// The value, as text.
    pub value: String,
    /// The values the map knows, for the message.
    pub known: String,
}

fn erp_norm(s: &str) -> String {
    s.trim().to_uppercase()
}

fn crm_norm(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n
            .as_f64()
            .map(|f| {
                if f.fract() == 0.0 {
                    format!("{}", f as i64)
                } else {
                    f.to_string()
                }
            })
            .unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

fn blank(v: &Value) -> bool {
    v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty())
}

/// Translates an ERP value to the CRM. A blank value is null (Business Central: "a blank option
/// gives a blank code").
pub fn to_crm(map: &[ValueMapEntry], v: &Value) -> Result<Value, Unmapped> {
    if blank(v) {
        return Ok(Value::Null);
    }
    let key = erp_norm(&crm_norm(v));
    map.iter()
        .find(|e| erp_norm(&e.erp) == key)
        .map(|e| e.crm.clone())
        .ok_or_else(|| Unmapped {
            value: crm_norm(v),
            known: map
                .iter()
                .map(|e| e.erp.clone())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Translates a CRM value to the ERP. A blank value is an empty code.
pub fn to_erp(map: &[ValueMapEntry], v: &Value) -> Result<Value, Unmapped> {
    if blank(v) {
        return Ok(Value::String(String::new()));
    }
    let key = crm_norm(v);
    map.iter()
        .find(|e| crm_norm(&e.crm) == key)
        .map(|e| Value::String(e.erp.clone()))
        .ok_or_else(|| Unmapped {
            value: key,
            known: map
                .iter()
                .map(|e| crm_norm(&e.crm))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// An inconsistent value map: the offending value and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inconsistent {
    /// The value to look for in the file (as written there).
    pub value: String,
    /// What is wrong and how to fix it.
    pub reason: String,
}

/// Checks that the map is one-to-one where it is used: an ERP value listed twice is always
/// ambiguous; a CRM value listed twice is ambiguous when values flow to the ERP (`to_erp`).
pub fn check(map: &[ValueMapEntry], to_erp: bool) -> Result<(), Inconsistent> {
    for (i, e) in map.iter().enumerate() {
        if e.erp.trim().is_empty() {
            return Err(Inconsistent {
                value: e.erp.clone(),
                reason: "a value_map entry has an empty erp value; blank values map to blank by themselves, remove the entry".into(),
            });
        }
        if blank(&e.crm) || e.crm.is_array() || e.crm.is_object() {
            return Err(Inconsistent {
                value: e.erp.clone(),
                reason: format!(
                    "value_map entry erp = \"{}\" needs a crm value that is a number, text or boolean",
                    e.erp
                ),
            });
        }
        for other in &map[..i] {
            if erp_norm(&other.erp) == erp_norm(&e.erp) {
                return Err(Inconsistent {
                    value: e.erp.clone(),
                    reason: format!(
                        "value_map lists erp value \"{}\" twice; each ERP value may appear once",
                        e.erp
                    ),
                });
            }
            if to_erp && crm_norm(&other.crm) == crm_norm(&e.crm) {
                return Err(Inconsistent {
                    value: e.erp.clone(),
                    reason: format!(
                        "value_map maps crm value {} to both \"{}\" and \"{}\"; a field that flows to the ERP needs one ERP value per CRM value",
                        crm_norm(&e.crm),
                        other.erp,
                        e.erp
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map() -> Vec<ValueMapEntry> {
        vec![
            ValueMapEntry {
                erp: "NET30".into(),
                crm: json!(1),
            },
            ValueMapEntry {
                erp: "2%10NET30".into(),
                crm: json!(2),
            },
        ]
    }

    #[test]
    fn translates_both_ways_ignoring_case_and_blanks() {
        let m = map();
        assert_eq!(to_crm(&m, &json!("net30 ")).unwrap(), json!(1));
        assert_eq!(to_crm(&m, &json!("")).unwrap(), Value::Null);
        assert_eq!(to_erp(&m, &json!(2)).unwrap(), json!("2%10NET30"));
        assert_eq!(to_erp(&m, &json!(2.0)).unwrap(), json!("2%10NET30"));
        assert_eq!(to_erp(&m, &Value::Null).unwrap(), json!(""));
    }

    #[test]
    fn unmapped_values_are_named() {
        let e = to_crm(&map(), &json!("COD")).unwrap_err();
        assert_eq!(e.value, "COD");
        assert!(e.to_string().contains("'COD'") && e.to_string().contains("NET30"));
        let e = to_erp(&map(), &json!(7)).unwrap_err();
        assert_eq!(e.value, "7");
    }

    #[test]
    fn inconsistent_maps_are_rejected() {
        let mut m = map();
        m.push(ValueMapEntry {
            erp: "net30".into(),
            crm: json!(3),
        });
        let e = check(&m, false).unwrap_err();
        assert_eq!(e.value, "net30");
        let mut m = map();
        m.push(ValueMapEntry {
            erp: "NET45".into(),
            crm: json!(1),
        });
        assert!(check(&m, false).is_ok());
        assert!(check(&m, true).unwrap_err().reason.contains("crm value 1"));
        assert!(check(&map(), true).is_ok());
    }
}
