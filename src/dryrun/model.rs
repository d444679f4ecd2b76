//! The dry-run's report: counts per mapping, and the changes the new mappings decide
//! differently, grouped by record, each with its field diff. Serialised as the JSON output.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// How one field would be written differently.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldChange {
    /// Written by the new mappings only.
    Added,
    /// Written before, not by the new mappings.
    Removed,
    /// Written by both, with another value.
    Changed,
}

/// One field of the target written differently.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    /// The target's field (the target API's name).
    pub field: String,
    /// Added, removed or changed.
    pub change: FieldChange,
    /// The value written (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was: Option<serde_json::Value>,
    /// The value the new mappings would write (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_be: Option<serde_json::Value>,
}

/// How the new mappings' decision on a change compares with what the log shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The same decision, the same values.
    Same,
    /// A write either way, with other values (the field diff says which).
    Changed,
    /// Outside a table filter before (or a direction), written now.
    FilteredIn,
    /// Written before, outside the new table filter (or direction) now.
    FilteredOut,
    /// Would be parked now (a lookup whose record is not coupled).
    WouldPark,
    /// Would fail now (a value the new mappings cannot map).
    WouldFail,
    /// Failed in the transform before, decided otherwise now.
    NoLongerFails,
    /// Parked before, decided otherwise now.
    NoLongerParks,
    /// Another decision than the log's, none of the above (a deletion policy, a
    /// `sync_only_coupled`).
    OtherDecision,
    /// Not compared: nothing on the log to compare with (not transformed yet; or a change
    /// that wrote nothing and whose record's earlier write is past the log's retention).
    NotCompared,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Verdict; 10] = [
        Verdict::Same,
        Verdict::Changed,
        Verdict::FilteredIn,
        Verdict::FilteredOut,
        Verdict::WouldPark,
        Verdict::WouldFail,
        Verdict::NoLongerFails,
        Verdict::NoLongerParks,
        Verdict::OtherDecision,
        Verdict::NotCompared,
    ];

    /// The name in the text output, e.g. `filtered in`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Same => "same",
            Verdict::Changed => "changed",
            Verdict::FilteredIn => "filtered in",
            Verdict::FilteredOut => "filtered out",
            Verdict::WouldPark => "would park",
            Verdict::WouldFail => "would fail",
            Verdict::NoLongerFails => "no longer fails",
            Verdict::NoLongerParks => "no longer parks",
            Verdict::OtherDecision => "other decision",
            Verdict::NotCompared => "not compared",
        }
    }
}

/// One change decided differently.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeDiff {
    /// The change's event id (commands and outcomes carry it).
    pub event_id: Uuid,
    /// When it was captured.
    pub captured_at: DateTime<Utc>,
    /// How the decisions compare.
    pub verdict: Verdict,
    /// What the log shows: the command and its outcome (`update (updated)`, `create
    /// (coupled)`), or the transform's outcome (`filtered`, `unchanged`, `parked`, …).
    pub was: String,
    /// What the new mappings decide (`update`, `create`, `filtered`, `parked`, `failed`, …).
    pub would: String,
    /// Why, for a decision without a write (the filter, the missing coupling, the field at
    /// fault), or why not compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The fields written differently (for a write either way: against the logged command;
    /// for a change that wrote nothing: against the record's last write).
    pub fields: Vec<FieldDiff>,
}

/// A record with the changes the new mappings decide differently.
#[derive(Debug, Clone, Serialize)]
pub struct RecordDiff {
    /// The source record, `<system>/<entity>/<id>`.
    pub record: String,
    /// Its mapping.
    pub mapping: String,
    /// Its changes decided differently, in log order.
    pub changes: Vec<ChangeDiff>,
}

/// Counts of one mapping.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MappingCounts {
    /// Changes replayed.
    pub changes: u64,
    /// Records they belong to.
    pub records: u64,
    /// Changes per verdict (verdicts with none left out).
    pub verdicts: BTreeMap<Verdict, u64>,
    /// Fields the new mappings would add, over all changes.
    pub fields_added: u64,
    /// Fields they would no longer write.
    pub fields_removed: u64,
    /// Fields they would write with another value.
    pub fields_changed: u64,
}

impl MappingCounts {
    /// The number of changes with `v`.
    pub fn count(&self, v: Verdict) -> u64 {
        self.verdicts.get(&v).copied().unwrap_or(0)
    }
}

/// What a dry-run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The log's backend (`embedded` or `kafka`).
    pub backend: String,
    /// The window replayed, e.g. `since 2026-12-07T20:00:00Z` or `last 100 changes`.
    pub window: String,
    /// Distinct changes replayed.
    pub changes: u64,
    /// Messages of the changes, commands and outcomes topics that did not decode (skipped).
    pub undecodable: u64,
    /// Changes of mappings the new file does not have (not replayed), per mapping.
    pub missing_mappings: BTreeMap<String, u64>,
    /// Counts per mapping.
    pub mappings: BTreeMap<String, MappingCounts>,
    /// Records with changes decided differently.
    pub records: Vec<RecordDiff>,
}

impl Report {
    /// True when the new mappings decide every compared change as the log shows.
    pub fn no_difference(&self) -> bool {
        self.records.iter().all(|r| {
            r.changes
                .iter()
                .all(|c| matches!(c.verdict, Verdict::Same | Verdict::NotCompared))
        })
    }
}
