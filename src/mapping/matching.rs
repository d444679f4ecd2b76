//! Match-based coupling (Business Central's "Match-Based Coupling"): each uncoupled ERP record
//! is looked for among the uncoupled CRM records by match criteria, fields that must be equal.
//! Criteria have priorities: the fields of one priority are ANDed, lower priorities are tried
//! first, and the first priority that finds any uncoupled candidate decides: one candidate is
//! a match, several are *ambiguous* (never guessed). Empty values are not criteria; text is
//! compared trimmed and, unless asked otherwise, case-insensitively. A CRM record that is the
//! match of several ERP records is ambiguous for each of them.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::model::TableMapping;
use crate::event::Fields;

/// A `--match` specification that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriteriaError {
    /// No field mapping has that name on either side.
    #[error(
        "--match `{name}`: mapping {mapping} has no field mapping with that name on either side; fields that can be matched: {known}"
    )]
    UnknownField {
        /// The name given.
        name: String,
        /// The mapping.
        mapping: String,
        /// The fields that can be matched, `erp (crm)`.
        known: String,
    },
    /// The field has a constant or a lookup.
    #[error(
        "--match `{name}`: a field with a constant or a lookup cannot be a match criterion; pick a plain field"
    )]
    NotMatchable {
        /// The name given.
        name: String,
    },
    /// The priority is not a number.
    #[error("--match `{part}`: the priority after ':' must be a whole number")]
    BadPriority {
        /// The part given.
        part: String,
    },
    /// Nothing given.
    #[error("--match needs at least one field, e.g. --match displayName")]
    Empty,
}

impl crate::error::Classify for CriteriaError {
    fn actor(&self) -> crate::error::Actor {
        crate::error::Actor::User
    }
    fn retry(&self) -> crate::error::Retry {
        crate::error::Retry::Never
    }
    fn class(&self) -> &'static str {
        "match_criteria"
    }
}

/// One match field, with both sides' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    /// The ERP field.
    pub erp: String,
    /// The CRM column(s) (several are joined with spaces, as the mapping composes them).
    pub crm: Vec<String>,
    /// Lower is tried first.
    pub priority: u32,
}

/// Parses `--match displayName,city` or `--match name:1,phoneNumber:2`: each field by either
/// side's name of one of `m`'s field mappings (without a constant or a lookup).
pub fn parse_criteria(m: &TableMapping, spec: &str) -> Result<Vec<Criterion>, CriteriaError> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, priority) = match part.split_once(':') {
            Some((n, p)) => (
                n.trim(),
                p.trim()
                    .parse::<u32>()
                    .map_err(|_| CriteriaError::BadPriority {
                        part: part.to_string(),
                    })?,
            ),
            None => (part, 0),
        };
        let f = m
            .fields
            .iter()
            .find(|f| f.erp == name || f.crm.display() == name || f.crm.columns() == [name])
            .ok_or_else(|| {
                let known: Vec<String> = m
                    .fields
                    .iter()
                    .filter(|f| f.constant.is_none() && f.lookup.is_none() && !f.erp.is_empty())
                    .map(|f| format!("{} ({})", f.erp, f.crm.display()))
                    .collect();
                CriteriaError::UnknownField {
                    name: name.to_string(),
                    mapping: m.name.clone(),
                    known: known.join(", "),
                }
            })?;
        if f.constant.is_some()
            || f.lookup.is_some()
            || f.erp.is_empty()
            || f.crm.columns().is_empty()
        {
            return Err(CriteriaError::NotMatchable {
                name: name.to_string(),
            });
        }
        out.push(Criterion {
            erp: f.erp.clone(),
            crm: f.crm.columns().iter().map(|c| c.to_string()).collect(),
            priority,
        });
    }
    if out.is_empty() {
        return Err(CriteriaError::Empty);
    }
    Ok(out)
}

/// What matching found for one ERP record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchResult {
    /// Exactly one uncoupled CRM record.
    Matched {
        /// Its id.
        crm_id: String,
        /// The priority that found it.
        priority: u32,
    },
    /// Several: listed, never guessed.
    Ambiguous {
        /// The CRM candidates (or, when several ERP records match one CRM record, that one).
        candidates: Vec<String>,
        /// Why, in words.
        reason: String,
    },
    /// No uncoupled CRM record matches at any priority.
    Unmatched,
}

fn text(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        other => Some(other.to_string()),
    }
}

fn norm(s: String, case_sensitive: bool) -> String {
    if case_sensitive { s } else { s.to_lowercase() }
}

fn erp_value(c: &Criterion, rec: &Fields, cs: bool) -> Option<String> {
    text(rec.get(&c.erp)).map(|s| norm(s, cs))
}

fn crm_value(c: &Criterion, rec: &Fields, cs: bool) -> Option<String> {
    let parts: Vec<String> = c.crm.iter().filter_map(|k| text(rec.get(k))).collect();
    if parts.is_empty() {
        None
    } else {
        Some(norm(parts.join(" "), cs))
    }
}

/// One priority's criteria, and the uncoupled CRM ids by their values of those fields.
type PriorityIndex<'a> = (u32, Vec<&'a Criterion>, HashMap<Vec<String>, Vec<&'a str>>);

/// Matches `erp` records (id, fields) against `crm` records; `coupled_crm` are CRM ids that
/// are coupled already (never candidates). Results follow the order of `erp`.
pub fn match_records(
    criteria: &[Criterion],
    case_sensitive: bool,
    erp: &[(String, Fields)],
    crm: &[(String, Fields)],
    coupled_crm: &HashSet<String>,
) -> Vec<(String, MatchResult)> {
    let mut groups: BTreeMap<u32, Vec<&Criterion>> = BTreeMap::new();
    for c in criteria {
        groups.entry(c.priority).or_default().push(c);
    }
    // Per priority: the CRM records by their values of that priority's fields.
    let indexes: Vec<PriorityIndex<'_>> = groups
        .into_iter()
        .map(|(p, cs)| {
            let mut idx: HashMap<Vec<String>, Vec<&str>> = HashMap::new();
            for (id, rec) in crm {
                if coupled_crm.contains(id) {
                    continue;
                }
                let vals: Option<Vec<String>> = cs
                    .iter()
                    .map(|c| crm_value(c, rec, case_sensitive))
                    .collect();
                if let Some(v) = vals {
                    idx.entry(v).or_default().push(id.as_str());
                }
            }
            (p, cs, idx)
        })
        .collect();
    let mut out: Vec<(String, MatchResult)> = erp
        .iter()
        .map(|(id, rec)| {
            for (p, cs, idx) in &indexes {
                let vals: Option<Vec<String>> = cs
                    .iter()
                    .map(|c| erp_value(c, rec, case_sensitive))
                    .collect();
                let Some(vals) = vals else { continue };
                match idx.get(&vals).map(Vec::as_slice) {
                    None | Some([]) => continue,
                    Some([one]) => {
                        return (
                            id.clone(),
                            MatchResult::Matched {
                                crm_id: one.to_string(),
                                priority: *p,
                            },
                        );
                    }
                    Some(many) => {
                        let fields: Vec<&str> = cs.iter().map(|c| c.erp.as_str()).collect();
                        return (
                            id.clone(),
                            MatchResult::Ambiguous {
                                candidates: many.iter().map(|s| s.to_string()).collect(),
                                reason: format!(
                                    "{} uncoupled CRM records have the same {} (priority {p})",
                                    many.len(),
                                    fields.join(" + ")
                                ),
                            },
                        );
                    }
                }
            }
            (id.clone(), MatchResult::Unmatched)
        })
        .collect();
    // One CRM record matched by several ERP records: ambiguous for each of them.
    let mut claims: HashMap<String, usize> = HashMap::new();
    for (_, r) in &out {
        if let MatchResult::Matched { crm_id, .. } = r {
            *claims.entry(crm_id.clone()).or_default() += 1;
        }
    }
    for (_, r) in out.iter_mut() {
        if let MatchResult::Matched { crm_id, .. } = r
            && let Some(n) = claims.get(crm_id.as_str()).copied()
            && n > 1
        {
            *r = MatchResult::Ambiguous {
                candidates: vec![crm_id.clone()],
                reason: format!("{n} ERP records match this one CRM record"),
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Catalogue;
    use serde_json::json;

    fn rec(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect()
    }

    fn customer() -> TableMapping {
        Catalogue::defaults()
            .unwrap()
            .get("CUSTOMER")
            .unwrap()
            .as_ref()
            .clone()
    }

    #[test]
    fn parses_names_of_either_side_with_priorities() {
        let m = customer();
        let c = parse_criteria(&m, "displayName, telephone1:2").unwrap();
        assert_eq!(c[0].erp, "displayName");
        assert_eq!(c[0].crm, ["name"]);
        assert_eq!(c[0].priority, 0);
        assert_eq!(c[1].erp, "phoneNumber");
        assert_eq!(c[1].priority, 2);
        assert!(
            parse_criteria(&m, "nope")
                .unwrap_err()
                .to_string()
                .contains("displayName (name)")
        );
        assert_eq!(
            parse_criteria(&m, "currencyCode").unwrap_err(),
            CriteriaError::NotMatchable {
                name: "currencyCode".into()
            }
        );
        assert_eq!(parse_criteria(&m, " , ").unwrap_err(), CriteriaError::Empty);
        assert!(parse_criteria(&m, "name:x").is_err());
    }

    #[test]
    fn matched_ambiguous_unmatched_and_priorities() {
        let m = customer();
        let crit = parse_criteria(&m, "displayName:1,phoneNumber:2").unwrap();
        let crm = vec![
            (
                "a1".to_string(),
                rec(&[("name", "Alpha Ltd"), ("telephone1", "1")]),
            ),
            (
                "b1".to_string(),
                rec(&[("name", "Beta"), ("telephone1", "2")]),
            ),
            (
                "b2".to_string(),
                rec(&[("name", "beta "), ("telephone1", "3")]),
            ),
            (
                "c1".to_string(),
                rec(&[("name", "Gamma"), ("telephone1", "9")]),
            ),
            (
                "d1".to_string(),
                rec(&[("name", "Delta"), ("telephone1", "4")]),
            ),
        ];
        let erp = vec![
            (
                "A".to_string(),
                rec(&[("displayName", "ALPHA LTD"), ("phoneNumber", "7")]),
            ),
            (
                "B".to_string(),
                rec(&[("displayName", "Beta"), ("phoneNumber", "2")]),
            ),
            (
                "C".to_string(),
                rec(&[("displayName", "Other"), ("phoneNumber", "9")]),
            ),
            (
                "D".to_string(),
                rec(&[("displayName", "Delta"), ("phoneNumber", "")]),
            ),
            (
                "E".to_string(),
                rec(&[("displayName", "Nobody"), ("phoneNumber", "")]),
            ),
        ];
        let coupled: HashSet<String> = ["d1".to_string()].into();
        let r: HashMap<String, MatchResult> = match_records(&crit, false, &erp, &crm, &coupled)
            .into_iter()
            .collect();
        assert_eq!(
            r["A"],
            MatchResult::Matched {
                crm_id: "a1".into(),
                priority: 1
            }
        );
        // Two CRM records named Beta at the best priority: ambiguous, even though the phone
        // of a lower priority would single one out.
        assert!(
            matches!(&r["B"], MatchResult::Ambiguous { candidates, .. } if candidates.len() == 2)
        );
        // No name match: the phone (priority 2) decides.
        assert_eq!(
            r["C"],
            MatchResult::Matched {
                crm_id: "c1".into(),
                priority: 2
            }
        );
        // The only Delta is coupled already; an empty phone is no criterion.
        assert_eq!(r["D"], MatchResult::Unmatched);
        assert_eq!(r["E"], MatchResult::Unmatched);
        // Case-sensitive: ALPHA LTD no longer matches.
        let cs: HashMap<String, MatchResult> = match_records(&crit, true, &erp, &crm, &coupled)
            .into_iter()
            .collect();
        assert_eq!(cs["A"], MatchResult::Unmatched);
    }

    #[test]
    fn one_crm_record_claimed_twice_is_ambiguous() {
        let m = customer();
        let crit = parse_criteria(&m, "name").unwrap();
        let crm = vec![("x".to_string(), rec(&[("name", "Same")]))];
        let erp = vec![
            ("1".to_string(), rec(&[("displayName", "Same")])),
            ("2".to_string(), rec(&[("displayName", "same")])),
        ];
        for (_, r) in match_records(&crit, false, &erp, &crm, &HashSet::new()) {
            assert!(matches!(r, MatchResult::Ambiguous { .. }), "{r:?}");
        }
    }
}
