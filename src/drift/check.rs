//! What differs in a page of pairs: missing records, mapped values that differ (compared as
//! the demo's and the tests' side-by-side check compares them,
//! [`crate::transform::compare::compare_pair`]), and uncoupled twins.

use std::collections::HashSet;

use super::read::PairRead;
use super::report::{Drift, FieldDrift};
use crate::event::{Fields, Side};
use crate::mapping::TableMapping;
use crate::store::StoreError;
use crate::transform::compare::compare_pair;
use crate::transform::fields::Context;

/// What one page holds.
#[derive(Debug, Default)]
pub struct PageCheck {
    /// Drift found, in the page's order.
    pub drift: Vec<Drift>,
    /// Pairs not compared: a record is outside the mapping's table filter.
    pub out_of_filter: u64,
}

fn in_filter(cx: &Context<'_>, m: &TableMapping, side: Side, row: &Fields) -> bool {
    cx.catalogue
        .filter(&m.name, side.is_crm())
        .is_none_or(|f| f.matches(row))
}

/// Compares the pairs of a page; `twins` are the records of either side found by the page's
/// natural keys.
pub fn check_page(
    m: &TableMapping,
    pairs: &[PairRead],
    twins: &[(Side, Fields)],
    cx: &Context<'_>,
) -> Result<PageCheck, StoreError> {
    let mut out = PageCheck::default();
    for p in pairs {
        let c = &p.coupling;
        let (cr, er) = match (&p.crm, &p.erp) {
            (Some(cr), Some(er)) => (cr, er),
            (crm, erp) => {
                let gone = match (crm.is_none(), erp.is_none()) {
                    (true, true) => None,
                    (true, false) => Some(Side::Crm),
                    _ => Some(Side::Erp),
                };
                out.drift.push(Drift::Missing {
                    crm_id: c.crm_id.clone(),
                    erp_id: c.erp_id.clone(),
                    gone,
                });
                continue;
            }
        };
        if !in_filter(cx, m, Side::Crm, cr) || !in_filter(cx, m, Side::Erp, er) {
            out.out_of_filter += 1;
            continue;
        }
        let mut diffs = Vec::new();
        compare_pair(m, c, cr, er, cx, &mut diffs);
        if !diffs.is_empty() {
            out.drift.push(Drift::Differs {
                crm_id: c.crm_id.clone(),
                erp_id: c.erp_id.clone(),
                fields: diffs
                    .into_iter()
                    .map(|d| {
                        let (crm, erp) = match d.side {
                            Side::Erp => (d.expected, d.actual),
                            Side::Crm => (d.actual, d.expected),
                        };
                        FieldDrift {
                            field: d.field,
                            side: d.side,
                            crm,
                            erp,
                        }
                    })
                    .collect(),
            });
        }
    }
    out.drift.extend(find_twins(m, pairs, twins, cx)?);
    Ok(out)
}

/// The records of `twins` that share a natural key with a pair of the page, are inside the
/// table filter, and are not coupled in the mapping.
fn find_twins(
    m: &TableMapping,
    pairs: &[PairRead],
    twins: &[(Side, Fields)],
    cx: &Context<'_>,
) -> Result<Vec<Drift>, StoreError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (side, row) in twins {
        let side = *side;
        let system = m.system(side);
        let Some(id) = system.record_id(m.entity(side), row) else {
            continue;
        };
        let Some(key) = m.natural_key_of(side, row) else {
            continue;
        };
        if !in_filter(cx, m, side, row) || !seen.insert((side, id.to_ascii_lowercase())) {
            continue;
        }
        if cx.store.coupling(&m.name, side, &id)?.is_some()
            || cx
                .store
                .coupling(&m.name, side, &id.to_ascii_lowercase())?
                .is_some()
        {
            continue;
        }
        // The pair (of this page) whose record on either side has this key.
        let matched = pairs.iter().find(|p| {
            [Side::Crm, Side::Erp].iter().any(|s| {
                p.record(*s)
                    .and_then(|r| m.natural_key_of(*s, r))
                    .is_some_and(|k| k == key)
            })
        });
        if let Some(p) = matched {
            out.push(Drift::Twin {
                crm_id: p.coupling.crm_id.clone(),
                erp_id: p.coupling.erp_id.clone(),
                side,
                id,
                key,
            });
        }
    }
    Ok(out)
}
