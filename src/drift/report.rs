//! What a reconciliation found, per mapping: the drifted pairs (kept on the run's checkpoint,
//! so a resumed run reports what its earlier pages found) and their counts; as text and JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::Side;

/// Drifted pairs kept per run for the report (the counts are exact beyond it).
pub const MAX_LISTED: usize = 200;

/// One field of a pair that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDrift {
    /// The field, named on the side that would be written (`phoneNumber`, `creditlimit`).
    pub field: String,
    /// The side `field` is on.
    pub side: Side,
    /// The CRM's value, in the compared terms (mapped to the ERP's for a field written to
    /// the ERP).
    pub crm: Value,
    /// The ERP's value, in the compared terms.
    pub erp: Value,
}

/// One drift found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Drift {
    /// Both records exist and mapped values differ.
    Differs {
        /// CRM id.
        crm_id: String,
        /// ERP id.
        erp_id: String,
        /// The fields that differ.
        fields: Vec<FieldDrift>,
    },
    /// A coupling whose record is gone on `gone`'s side (or both).
    Missing {
        /// CRM id.
        crm_id: String,
        /// ERP id.
        erp_id: String,
        /// The side whose record is gone; `None`: both are gone.
        gone: Option<Side>,
    },
    /// An uncoupled record on `side` with the natural key of a coupled pair.
    Twin {
        /// CRM id of the coupled pair.
        crm_id: String,
        /// ERP id of the coupled pair.
        erp_id: String,
        /// The side of the uncoupled record.
        side: Side,
        /// Its id.
        id: String,
        /// The natural key they share (`scope/key` when scoped).
        key: String,
    },
}

/// Drift by kind (also the `kind` label of `couplet_reconcile_drift`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftCounts {
    /// Pairs whose mapped values differ.
    pub differs: u64,
    /// Couplings whose CRM record is gone.
    pub missing_crm: u64,
    /// Couplings whose ERP record is gone.
    pub missing_erp: u64,
    /// Couplings whose two records are gone.
    pub missing_both: u64,
    /// Uncoupled CRM records with a coupled record's natural key.
    pub twin_crm: u64,
    /// Uncoupled ERP records with a coupled record's natural key.
    pub twin_erp: u64,
}

/// The `kind` label values, in order.
pub const KINDS: [&str; 6] = [
    "differs",
    "missing_crm",
    "missing_erp",
    "missing_both",
    "twin_crm",
    "twin_erp",
];

impl DriftCounts {
    /// Counts `d`.
    pub fn add(&mut self, d: &Drift) {
        match d {
            Drift::Differs { .. } => self.differs += 1,
            Drift::Missing { gone: None, .. } => self.missing_both += 1,
            Drift::Missing {
                gone: Some(Side::Crm),
                ..
            } => self.missing_crm += 1,
            Drift::Missing {
                gone: Some(Side::Erp),
                ..
            } => self.missing_erp += 1,
            Drift::Twin {
                side: Side::Crm, ..
            } => self.twin_crm += 1,
            Drift::Twin {
                side: Side::Erp, ..
            } => self.twin_erp += 1,
        }
    }

    /// The counts in [`KINDS`]' order.
    pub fn by_kind(&self) -> [(&'static str, u64); 6] {
        [
            (KINDS[0], self.differs),
            (KINDS[1], self.missing_crm),
            (KINDS[2], self.missing_erp),
            (KINDS[3], self.missing_both),
            (KINDS[4], self.twin_crm),
            (KINDS[5], self.twin_erp),
        ]
    }

    /// Every drift found.
    pub fn total(&self) -> u64 {
        self.by_kind().iter().map(|(_, n)| n).sum()
    }
}

/// What one fix did to one pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixResult {
    /// CRM id.
    pub crm_id: String,
    /// ERP id.
    pub erp_id: String,
    /// The side whose record was put on the changes topic (`None`: not fixed).
    pub from: Option<Side>,
    /// The outcome's status (`updated`), or why nothing was put on the log.
    pub result: String,
    /// True when the pipeline wrote the pair (or found nothing left to write).
    pub settled: bool,
}

/// One mapping's reconciliation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingReport {
    /// The mapping.
    pub mapping: String,
    /// CRM entity set.
    pub crm_entity: String,
    /// ERP entity set.
    pub erp_entity: String,
    /// True when every coupling (or the whole sample) was checked; false when the run
    /// stopped early (page limit, shutdown) and the next run resumes it.
    pub complete: bool,
    /// True when this run resumed an interrupted one.
    pub resumed: bool,
    /// The sample size, when a sample was checked.
    pub sample: Option<usize>,
    /// Couplings of the mapping.
    pub couplings: u64,
    /// Couplings checked so far.
    pub checked: u64,
    /// Pages read so far.
    pub pages: u64,
    /// Checked pairs skipped because a record is outside the mapping's table filter (the
    /// pipeline does not synchronise them either).
    pub out_of_filter: u64,
    /// Drift by kind.
    pub counts: DriftCounts,
    /// The drift (up to [`MAX_LISTED`]).
    pub drift: Vec<Drift>,
    /// What `--fix` did.
    pub fixes: Vec<FixResult>,
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "(empty)".into(),
        other => other.to_string(),
    }
}

/// The report as text, one block per mapping.
pub fn render(reports: &[MappingReport], crm: &str, erp: &str) -> String {
    let mut s = String::new();
    for r in reports {
        let (ce, ee) = (&r.crm_entity, &r.erp_entity);
        let scope = match r.sample {
            Some(n) => format!("a sample of {n} of {} couplings", r.couplings),
            None => format!("{} couplings", r.couplings),
        };
        s += &format!(
            "{} ({crm}/{} <-> {erp}/{}): {scope}; {} checked in {} page(s){}{}\n",
            r.mapping,
            r.crm_entity,
            r.erp_entity,
            r.checked,
            r.pages,
            if r.resumed { ", resumed" } else { "" },
            if r.complete {
                String::new()
            } else {
                "; stopped early, `couplet reconcile` resumes it".into()
            }
        );
        for d in &r.drift {
            match d {
                Drift::Differs {
                    crm_id,
                    erp_id,
                    fields,
                } => {
                    s += &format!("  differs  {crm}/{ce}/{crm_id} <-> {erp}/{ee}/{erp_id}\n");
                    for f in fields {
                        s += &format!(
                            "           {} ({} field): CRM {} | ERP {}\n",
                            f.field,
                            f.side,
                            show(&f.crm),
                            show(&f.erp)
                        );
                    }
                }
                Drift::Missing {
                    crm_id,
                    erp_id,
                    gone,
                } => {
                    let what = match gone {
                        Some(Side::Crm) => format!("{crm}/{ce}/{crm_id} is gone"),
                        Some(Side::Erp) => format!("{erp}/{ee}/{erp_id} is gone"),
                        None => "both records are gone".into(),
                    };
                    s += &format!(
                        "  missing  {crm}/{ce}/{crm_id} <-> {erp}/{ee}/{erp_id}: {what} (uncouple it, or sync-now the other side to create it again)\n"
                    );
                }
                Drift::Twin {
                    crm_id,
                    erp_id,
                    side,
                    id,
                    key,
                } => {
                    let (system, set) = if side.is_crm() { (crm, ce) } else { (erp, ee) };
                    s += &format!(
                        "  twin     {system}/{set}/{id} has the natural key '{key}' of {crm}/{ce}/{crm_id} <-> {erp}/{ee}/{erp_id} but is not coupled (delete it, or uncouple the pair and couple this one)\n"
                    );
                }
            }
        }
        let listed = r.drift.len() as u64;
        if r.counts.total() > listed {
            s += &format!("  … and {} more\n", r.counts.total() - listed);
        }
        for f in &r.fixes {
            s += &format!(
                "  fix      {crm}/{ce}/{} <-> {erp}/{ee}/{}: {}{}\n",
                f.crm_id,
                f.erp_id,
                f.from
                    .map(|side| format!("from the {side}: "))
                    .unwrap_or_default(),
                f.result
            );
        }
        let c = &r.counts;
        s += &format!(
            "  drift: {} differing, {} missing (CRM {}, ERP {}, both {}), {} uncoupled twins (CRM {}, ERP {}){}\n",
            c.differs,
            c.missing_crm + c.missing_erp + c.missing_both,
            c.missing_crm,
            c.missing_erp,
            c.missing_both,
            c.twin_crm + c.twin_erp,
            c.twin_crm,
            c.twin_erp,
            if r.out_of_filter > 0 {
                format!(
                    "; {} pair(s) outside the table filter not compared",
                    r.out_of_filter
                )
            } else {
                String::new()
            }
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_text_name_every_kind() {
        let drift = vec![
            Drift::Differs {
                crm_id: "c1".into(),
                erp_id: "e1".into(),
                fields: vec![FieldDrift {
                    field: "phoneNumber".into(),
                    side: Side::Erp,
                    crm: Value::String("+1 1".into()),
                    erp: Value::Null,
                }],
            },
            Drift::Missing {
                crm_id: "c2".into(),
                erp_id: "e2".into(),
                gone: Some(Side::Crm),
            },
            Drift::Twin {
                crm_id: "c3".into(),
                erp_id: "e3".into(),
                side: Side::Erp,
                id: "e9".into(),
                key: "C0003".into(),
            },
        ];
        let mut counts = DriftCounts::default();
        drift.iter().for_each(|d| counts.add(d));
        assert_eq!(counts.total(), 3);
        assert_eq!(
            (counts.differs, counts.missing_crm, counts.twin_erp),
            (1, 1, 1)
        );
        let r = MappingReport {
            mapping: "CUSTOMER".into(),
            crm_entity: "accounts".into(),
            erp_entity: "customers".into(),
            complete: true,
            resumed: false,
            sample: None,
            couplings: 3,
            checked: 3,
            pages: 1,
            out_of_filter: 0,
            counts,
            drift,
            fixes: vec![],
        };
        let text = render(&[r], "dataverse", "bc");
        assert!(
            text.contains("phoneNumber (erp field): CRM \"+1 1\" | ERP (empty)"),
            "{text}"
        );
        assert!(text.contains("dataverse/accounts/c2 is gone"), "{text}");
        assert!(
            text.contains("bc/customers/e9 has the natural key 'C0003'"),
            "{text}"
        );
        assert!(
            text.contains(
                "drift: 1 differing, 1 missing (CRM 1, ERP 0, both 0), 1 uncoupled twins"
            ),
            "{text}"
        );
    }
}
