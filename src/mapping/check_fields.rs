//! Checking a mapping's fields against the systems' metadata: every mapped column must exist
//! on its side, and a column Couplet writes must be writable there. `Catalogue::parse` checks
//! the file itself; this needs the systems (`couplet mappings validate`).

use super::model::{Lookup, TableMapping};
use crate::event::Side;
use crate::event::System;
use crate::systems::metadata::EntitySchema;

/// One problem found, naming the mapping, the field, the side and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The mapping.
    pub mapping: String,
    /// The field (as named in the mapping file).
    pub field: String,
    /// The side it is missing on.
    pub side: System,
    /// The whole message.
    pub message: String,
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn side_name(s: System) -> &'static str {
    if s.is_crm() {
        "Dataverse"
    } else {
        "Business Central"
    }
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn closest<'a>(name: &str, schema: &'a EntitySchema) -> Option<&'a str> {
    schema
        .fields
        .iter()
        .map(|f| (distance(name, &f.name), f.name.as_str()))
        .filter(|(d, n)| *d * 2 <= name.len().max(n.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn missing(m: &TableMapping, what: &str, name: &str, schema: &EntitySchema) -> FieldProblem {
    let (noun, nouns, entity) = if schema.system.is_crm() {
        (
            "attribute",
            "attributes",
            format!("Dataverse entity {}", schema.type_name),
        )
    } else {
        (
            "property",
            "properties",
            format!(
                "Business Central entity set {} (type {})",
                schema.set, schema.type_name
            ),
        )
    };
    let hint = match closest(name, schema) {
        Some(c) => format!("did you mean `{c}`? "),
        None => String::new(),
    };
    FieldProblem {
        mapping: m.name.clone(),
        field: name.to_string(),
        side: schema.system,
        message: format!(
            "mapping {} {what} `{name}`: no {noun} `{name}` on {entity}; {hint}correct the name in the mapping file or disable the field (enabled = false); known {nouns}: {}",
            m.name,
            schema.names()
        ),
    }
}

/// Records a problem when `name` is missing from `schema`, or read-only while `written`.
fn need(
    out: &mut Vec<FieldProblem>,
    m: &TableMapping,
    schema: &EntitySchema,
    what: &str,
    name: &str,
    written: bool,
) {
    match schema.field(name) {
        None => out.push(missing(m, what, name, schema)),
        Some(f) if written && !f.writable => out.push(FieldProblem {
            mapping: m.name.clone(),
            field: name.to_string(),
            side: schema.system,
            message: format!(
                "mapping {} field `{name}`: {} `{name}` on {} {} is read-only, but the field's direction writes it; set the direction so that it is only read from {}",
                m.name,
                if schema.system.is_crm() { "attribute" } else { "property" },
                side_name(schema.system),
                schema.type_name,
                side_name(schema.system),
            ),
        }),
        Some(_) => {}
    }
}

/// Checks `m` against the CRM and ERP schemas of its entities. `erp_of` gives the ERP schema
/// of another mapping's entity (for coupling lookups' `erp_field`), when known.
pub fn check_mapping(
    m: &TableMapping,
    crm: &EntitySchema,
    erp: &EntitySchema,
    erp_of: &dyn Fn(&str) -> Option<EntitySchema>,
) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    for f in m.fields.iter().filter(|f| f.enabled) {
        let to_crm = f.direction.allows_from(Side::Erp) && m.direction.allows_from(Side::Erp);
        let to_erp = f.direction.allows_from(Side::Crm) && m.direction.allows_from(Side::Crm);
        for c in f.crm.columns() {
            need(&mut out, m, crm, "field", c, to_crm);
        }
        if !f.erp.is_empty() {
            need(&mut out, m, erp, "field", &f.erp, to_erp);
        }
        if let Some(Lookup::Coupling {
            mapping, erp_field, ..
        }) = &f.lookup
        {
            for c in f.crm.columns() {
                if crm.field(c).is_some() && !crm.is_lookup(c) {
                    out.push(FieldProblem {
                        mapping: m.name.clone(),
                        field: c.to_string(),
                        side: crm.system,
                        message: format!(
                            "mapping {} field `{c}`: a coupling lookup needs a lookup attribute, but `{c}` on Dataverse entity {} is {}; map the lookup column (e.g. parentcustomerid)",
                            m.name,
                            crm.type_name,
                            crm.field(c).map(|f| f.kind.as_str()).unwrap_or("")
                        ),
                    });
                }
            }
            if let Some(other) = erp_of(mapping)
                && other.field(erp_field).is_none()
            {
                out.push(missing(m, "lookup erp_field", erp_field, &other));
            }
        }
    }
    if let Some(k) = &m.crm_key {
        need(&mut out, m, crm, "crm_key", k, false);
    }
    if let Some(k) = &m.erp_key {
        need(&mut out, m, erp, "erp_key", k, false);
    }
    if let Some(k) = &m.crm_key_scope {
        need(&mut out, m, crm, "crm_key_scope", k, false);
    }
    if let Some(k) = &m.erp_key_scope {
        need(&mut out, m, erp, "erp_key_scope", k, false);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Catalogue;
    use crate::systems::metadata::FieldInfo;

    fn schema(system: System, set: &str, ty: &str, names: &[(&str, &str, bool)]) -> EntitySchema {
        EntitySchema {
            system,
            set: set.into(),
            type_name: ty.into(),
            fields: names
                .iter()
                .map(|(n, k, w)| FieldInfo {
                    name: n.to_string(),
                    kind: k.to_string(),
                    writable: *w,
                })
                .collect(),
        }
    }

    fn mapping(text: &str) -> TableMapping {
        let cat = Catalogue::parse("t.toml", text).unwrap();
        cat.ordered()[0].as_ref().clone()
    }

    const M: &str = r#"
[[mapping]]
name = "CUSTOMER"
crm_entity = "accounts"
erp_entity = "customers"
direction = "bidirectional"
crm_key = "accountnumber"
erp_key = "number"
  [[mapping.fields]]
  crm = "nmae"
  erp = "displayName"
  [[mapping.fields]]
  crm = "accountnumber"
  erp = "number"
  direction = "to_crm"
  [[mapping.fields]]
  crm = "telephone1"
  erp = "phoneNo"
  [[mapping.fields]]
  crm = "fullname"
  erp = "displayName"
  direction = "to_crm"
"#;

    #[test]
    fn names_the_mapping_field_side_and_fix() {
        let crm = schema(
            crate::systems::DATAVERSE,
            "accounts",
            "account",
            &[
                ("name", "String", true),
                ("accountnumber", "String", true),
                ("telephone1", "String", true),
                ("fullname", "String", false),
            ],
        );
        let erp = schema(
            crate::systems::BC,
            "customers",
            "customer",
            &[
                ("displayName", "Edm.String", true),
                ("number", "Edm.String", true),
                ("phoneNumber", "Edm.String", true),
            ],
        );
        let p = check_mapping(&mapping(M), &crm, &erp, &|_| None);
        assert_eq!(p.len(), 3, "{p:#?}");
        assert_eq!(p[0].field, "nmae");
        assert_eq!(p[0].side, crate::systems::DATAVERSE);
        assert!(p[0].message.starts_with(
            "mapping CUSTOMER field `nmae`: no attribute `nmae` on Dataverse entity account; did you mean `name`?"
        ), "{}", p[0].message);
        assert!(
            p[0].message
                .contains("known attributes: name, accountnumber")
        );
        assert_eq!(p[1].side, crate::systems::BC);
        assert!(p[1].message.contains("no property `phoneNo` on Business Central entity set customers (type customer); did you mean `phoneNumber`?"), "{}", p[1].message);
        assert!(
            p[2].message
                .contains("`fullname` on Dataverse account is read-only"),
            "{}",
            p[2].message
        );
    }

    #[test]
    fn distance_is_levenshtein() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("name", "name"), 0);
        assert_eq!(distance("", "abc"), 3);
    }
}
