//! The demo's live edits, whichever the ERP: one edit and when it was made, and which records
//! to edit.

use chrono::{DateTime, Utc};

use crate::event::{Fields, System};

/// One live edit and when it was made.
pub struct Edit {
    /// The mapping of the record edited.
    pub mapping: String,
    /// The system it was edited on.
    pub system: System,
    /// Its id there.
    pub id: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The ids (`id_col`) of every third of `rows` after the first `skip`, at most `n`.
pub fn pick(rows: &[Fields], id_col: &str, n: usize, skip: usize) -> Vec<String> {
    rows.iter()
        .skip(skip)
        .step_by(3)
        .take(n)
        .filter_map(|r| r.get(id_col).and_then(|v| v.as_str()).map(str::to_string))
        .collect()
}
