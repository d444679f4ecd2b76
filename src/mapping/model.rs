//! The mapping file format. Each ERP's defaults ship in its folder
//! (`src/systems/bc/mappings.toml`); a deployment can replace them with its own file
//! (`[sync] mapping_file`).

use serde::{Deserialize, Serialize};

use super::rules::Rule;
use super::schedule::Schedule;
use super::value_map::ValueMapEntry;
use crate::event::{Pair, Side, System};

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Both ways.
    Bidirectional,
    /// ERP → CRM only.
    ToCrm,
    /// CRM → ERP only.
    ToErp,
}

impl Direction {
    /// True when data may flow from `source` to the other side.
    pub fn allows_from(self, source: impl Into<Side>) -> bool {
        let source = source.into();
        match self {
            Direction::Bidirectional => true,
            Direction::ToCrm => !source.is_crm(),
            Direction::ToErp => source.is_crm(),
        }
    }

    /// `to_crm`, `to_erp` or `bidirectional`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Bidirectional => "bidirectional",
            Direction::ToCrm => "to_crm",
            Direction::ToErp => "to_erp",
        }
    }
}

/// Which side's values win when a create finds an uncoupled record with the same natural key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMatch {
    /// The ERP record's values are written to the CRM (Business Central's full-sync default).
    ErpWins,
    /// The CRM record's values are written to the ERP.
    CrmWins,
}

impl OnMatch {
    /// The side whose values win.
    pub fn winner(self) -> Side {
        match self {
            OnMatch::ErpWins => Side::Erp,
            OnMatch::CrmWins => Side::Crm,
        }
    }
}

/// What happens when a coupled record is deleted on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionPolicy {
    /// Remove the coupling; the other side's record is kept and stays uncoupled.
    RemoveCoupling,
    /// Recreate the deleted record on its side from the surviving one and couple the new
    /// record (Business Central's "Restore Records").
    Restore,
    /// Delete the coupled record on the other side too, then remove the coupling.
    Propagate,
    /// Keep the coupling; a later change of the surviving record fails with a deletion
    /// conflict in the errors list (Business Central's default).
    None,
}

impl DeletionPolicy {
    /// The policy's name in mapping files.
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionPolicy::RemoveCoupling => "remove_coupling",
            DeletionPolicy::Restore => "restore",
            DeletionPolicy::Propagate => "propagate",
            DeletionPolicy::None => "none",
        }
    }
}

/// What happens when both records of a pair changed since their last synchronisation and a
/// bidirectional field differs (Business Central's "Update-Conflict Resolution").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateConflict {
    /// Write nothing; list the record in the errors list with both records and the differing
    /// fields. After a user edits one side, `couplet errors retry` resolves it.
    Fail,
    /// The CRM record's values are written to the ERP ("Get Update from Integration").
    CrmWins,
    /// The ERP record's values are written to the CRM ("Send Update to Integration").
    ErpWins,
}

impl UpdateConflict {
    /// The side whose values win, if one does.
    pub fn winner(self) -> Option<Side> {
        match self {
            UpdateConflict::Fail => None,
            UpdateConflict::CrmWins => Some(Side::Crm),
            UpdateConflict::ErpWins => Some(Side::Erp),
        }
    }

    /// The policy's name in mapping files.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateConflict::Fail => "fail",
            UpdateConflict::CrmWins => "crm_wins",
            UpdateConflict::ErpWins => "erp_wins",
        }
    }
}

/// How a field's value is translated through a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Lookup {
    /// ERP currency code ↔ CRM `transactioncurrency` id, by ISO code; a blank ERP code is the
    /// local currency (`[sync] lcy_code`).
    Currency,
    /// A record coupled in another mapping: the CRM side holds the coupled CRM record's id
    /// (a lookup column), the ERP side holds the coupled ERP record's `erp_field` value
    /// (e.g. the customer number).
    Coupling {
        /// The mapping whose couplings resolve the reference, e.g. `CUSTOMER`.
        mapping: String,
        /// The CRM navigation property to bind when writing, e.g. `parentcustomerid_account`.
        crm_bind: String,
        /// The ERP field of the referenced record that the ERP side stores (e.g. `number`).
        erp_field: String,
    },
}

/// One field mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// CRM column(s). Several columns are joined with spaces towards the ERP and split back
    /// (the last word is the last column, the rest the first column), as for person names.
    #[serde(default = "no_crm_columns")]
    pub crm: CrmColumns,
    /// ERP field (empty for a constant written to the CRM).
    #[serde(default)]
    pub erp: String,
    /// Direction of this field.
    #[serde(default = "default_field_direction")]
    pub direction: Direction,
    /// Translation through a reference.
    #[serde(default)]
    pub lookup: Option<Lookup>,
    /// A constant written to the target column instead of the source value (the direction
    /// says which side is the target).
    #[serde(default)]
    pub constant: Option<serde_json::Value>,
    /// Transformation rules applied to the value on its way, in order.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// When a lookup cannot be resolved, write null instead of parking/failing the record.
    #[serde(default)]
    pub clear_on_failed_lookup: bool,
    /// A disabled field mapping is ignored.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Value-by-value translation (option sets): `[{ erp = "NET30", crm = 1 }, ...]`. A value
    /// with no entry fails the record, naming the field and the value.
    #[serde(default)]
    pub value_map: Vec<ValueMapEntry>,
    /// Never write null to the target: a blank source value (or a failed lookup with
    /// `clear_on_failed_lookup`) leaves the target's value as it is (Business Central's
    /// "Not Null", which protects `ownerid`).
    #[serde(default)]
    pub not_null: bool,
}

/// One CRM column, or several composed into one ERP field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CrmColumns {
    /// No CRM column (a constant written to the ERP).
    #[serde(skip)]
    None,
    /// A single column.
    One(String),
    /// Several columns, e.g. `["firstname", "lastname"]`.
    Many(Vec<String>),
}

impl CrmColumns {
    /// The columns as a slice.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            CrmColumns::None => vec![],
            CrmColumns::One(c) => vec![c.as_str()],
            CrmColumns::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }

    /// A display name: the column, or the columns joined with `+`.
    pub fn display(&self) -> String {
        self.columns().join("+")
    }
}

impl FieldMapping {
    /// The field's name on `side`, for messages.
    pub fn name_on(&self, side: impl Into<Side>) -> String {
        let side = side.into();
        if side.is_crm() {
            self.crm.display()
        } else {
            self.erp.clone()
        }
    }
}

/// The document flow a table mapping runs instead of the plain record synchronisation
/// (`flow = "…"` in a mapping file; absent: records are synchronised field by field). The
/// flow, not the mapping's entity sets, decides how a change is completed, decided and
/// applied: each kind is one implementation of `transform::flow::DocumentFlow`, whose
/// CRM-side state machine is generic and whose ERP-side documents the ERP's folder builds.
/// An unknown value is an error naming the values allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// CRM sales orders to the ERP once submitted (header and lines as one aggregate), and
    /// the ERP order's release, shipments and invoices back to the CRM order.
    SalesOrder,
    /// CRM quotes to the ERP as sales quotes: activate, revise (archive and rebuild), won
    /// (linked to its order or released).
    SalesQuote,
    /// The ERP's posted sales invoices to the CRM (billed, paid, canceled) with the account
    /// statistics of coupled customers.
    SalesInvoice,
    /// Opportunities, synchronised as records while open; a won or lost CRM opportunity
    /// closes the ERP's.
    Opportunity,
}

impl FlowKind {
    /// Every flow.
    pub const ALL: [FlowKind; 4] = [
        FlowKind::SalesOrder,
        FlowKind::SalesQuote,
        FlowKind::SalesInvoice,
        FlowKind::Opportunity,
    ];

    /// The value in a mapping file.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::SalesOrder => "sales_order",
            FlowKind::SalesQuote => "sales_quote",
            FlowKind::SalesInvoice => "sales_invoice",
            FlowKind::Opportunity => "opportunity",
        }
    }
}

/// One integration table mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableMapping {
    /// Unique name, e.g. `CUSTOMER`.
    pub name: String,
    /// CRM entity set, e.g. `accounts`.
    pub crm_entity: String,
    /// ERP entity set, e.g. `customers`.
    pub erp_entity: String,
    /// Direction of the table.
    pub direction: Direction,
    /// OData filter on CRM records (evaluated on captured rows).
    #[serde(default)]
    pub crm_filter: Option<String>,
    /// OData filter on ERP records.
    #[serde(default)]
    pub erp_filter: Option<String>,
    /// Mappings that must be synchronised first (their couplings resolve this one's lookups).
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// CRM natural-key column, looked up before a create so a retry never makes a twin.
    #[serde(default)]
    pub crm_key: Option<String>,
    /// ERP natural-key field.
    #[serde(default)]
    pub erp_key: Option<String>,
    /// A CRM column that qualifies the natural key: the same key in two of its values is two
    /// records (the legal entity of an account, when the ERP keeps several companies).
    #[serde(default)]
    pub crm_key_scope: Option<String>,
    /// The ERP field that qualifies the natural key (F&O's `dataAreaId`).
    #[serde(default)]
    pub erp_key_scope: Option<String>,
    /// The scope of a record whose scope column is blank (the default legal entity, as
    /// `[fo] legal_entity`): accounts made before the column was filled keep matching their
    /// customers in that company.
    #[serde(default)]
    pub key_scope_default: Option<String>,
    /// Normalise natural keys to lower case before comparing (e-mail addresses).
    #[serde(default)]
    pub key_case_insensitive: bool,
    /// Whose values win when a create finds an existing uncoupled twin.
    #[serde(default = "default_on_match")]
    pub on_match: OnMatch,
    /// What a deletion does (Business Central's "Deletion-Conflict Resolution").
    #[serde(default = "default_deletion", alias = "deletion_conflict")]
    pub deletion: DeletionPolicy,
    /// What an update conflict does (both sides changed since the last synchronisation and a
    /// bidirectional field differs).
    #[serde(default = "default_update_conflict")]
    pub update_conflict: UpdateConflict,
    /// Business Central's "Synch. Only Coupled Records": when true, a new record is not
    /// created on the other side by change capture or a schedule, only by `couplet full-sync`.
    #[serde(default)]
    pub sync_only_coupled: bool,
    /// Read the mapping's tables on this schedule (for tables without change capture): each
    /// run reads both tables and synchronises the records modified since the previous run.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// The field mappings.
    #[serde(default)]
    pub fields: Vec<FieldMapping>,
    /// The document flow the mapping runs (absent: the plain record flow). A user mapping
    /// file that leaves it out of a mapping named and shaped as a default one inherits the
    /// default's (see `Catalogue::with_default_flows`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowKind>,
    /// The systems this mapping joins: the engine's pair, set when the catalogue is made for
    /// it (never read from a mapping file).
    #[serde(skip, default = "crate::systems::pair::default_pair")]
    pub pair: Pair,
}

impl TableMapping {
    /// True when the mapping runs the document flow `kind`.
    pub fn runs(&self, kind: FlowKind) -> bool {
        self.flow == Some(kind)
    }

    /// The system on `side`.
    pub fn system(&self, side: Side) -> System {
        self.pair.system(side)
    }

    /// The entity set on `side`.
    pub fn entity(&self, side: impl Into<Side>) -> &str {
        let side = side.into();
        if side.is_crm() {
            &self.crm_entity
        } else {
            &self.erp_entity
        }
    }

    /// The natural-key field on `side`.
    pub fn key(&self, side: impl Into<Side>) -> Option<&str> {
        let side = side.into();
        if side.is_crm() {
            self.crm_key.as_deref()
        } else {
            self.erp_key.as_deref()
        }
    }

    /// The column qualifying the natural key on `side`, if any.
    pub fn key_scope(&self, side: impl Into<Side>) -> Option<&str> {
        let side = side.into();
        if side.is_crm() {
            self.crm_key_scope.as_deref()
        } else {
            self.erp_key_scope.as_deref()
        }
    }

    /// The natural key of `rec`, a record on `side`, as compared between records: trimmed,
    /// lower-cased when the mapping says so, led by its scope (`usmf/c00001`) when the key
    /// is scoped; `None` when the key (or its scope) is blank.
    pub fn natural_key_of(
        &self,
        side: impl Into<Side>,
        rec: &crate::event::Fields,
    ) -> Option<String> {
        let side = side.into();
        let text = |column: &str| {
            rec.get(column)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    if self.key_case_insensitive {
                        v.to_lowercase()
                    } else {
                        v.to_string()
                    }
                })
        };
        let key = text(self.key(side)?)?;
        match self.key_scope(side) {
            None => Some(key),
            Some(scope) => {
                let scope = text(scope).or_else(|| self.key_scope_default.clone())?;
                Some(format!("{}/{key}", scope.trim().to_lowercase()))
            }
        }
    }

    /// The OData filter finding the records of `system` (on this mapping's `side`) whose
    /// natural key is `pairs` (the key, then its scope, as write commands carry them); a
    /// scope equal to `key_scope_default` also matches a blank scope.
    pub fn natural_key_filter(&self, system: System, pairs: &[(String, String)]) -> String {
        let literal = crate::systems::http::urls::odata_string;
        pairs
            .iter()
            .map(|(field, value)| {
                let is_scope = self.key_scope(system.side()) == Some(field.as_str());
                let default = self
                    .key_scope_default
                    .as_deref()
                    .is_some_and(|d| d.trim().eq_ignore_ascii_case(value.trim()));
                if is_scope && default {
                    let blank = match system.rules().blank_text {
                        crate::event::BlankText::Null => "null".to_string(),
                        crate::event::BlankText::EmptyString => "''".to_string(),
                    };
                    format!("({field} eq {} or {field} eq {blank})", literal(value))
                } else {
                    format!("{field} eq {}", literal(value))
                }
            })
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// The name the scoped natural key is indexed under (`dataAreaId+CustomerAccount`), when
    /// the key on `side` is scoped.
    pub fn scoped_key_name(&self, side: impl Into<Side>) -> Option<String> {
        let side = side.into();
        Some(format!("{}+{}", self.key_scope(side)?, self.key(side)?))
    }

    /// The table filter on `side`.
    pub fn filter(&self, side: impl Into<Side>) -> Option<&str> {
        let side = side.into();
        if side.is_crm() {
            self.crm_filter.as_deref()
        } else {
            self.erp_filter.as_deref()
        }
    }

    /// Enabled field mappings that carry data from `source` to the other side.
    pub fn fields_from(&self, source: impl Into<Side>) -> impl Iterator<Item = &FieldMapping> {
        let source = source.into();
        self.fields
            .iter()
            .filter(move |f| f.enabled && f.direction.allows_from(source))
    }
}

fn no_crm_columns() -> CrmColumns {
    CrmColumns::None
}
fn default_true() -> bool {
    true
}
fn default_field_direction() -> Direction {
    Direction::Bidirectional
}
fn default_on_match() -> OnMatch {
    OnMatch::ErpWins
}
fn default_deletion() -> DeletionPolicy {
    DeletionPolicy::RemoveCoupling
}
fn default_update_conflict() -> UpdateConflict {
    UpdateConflict::Fail
}

/// A mapping file: `[[mapping]]` tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// The mappings.
    #[serde(rename = "mapping")]
    pub mappings: Vec<TableMapping>,
}

#[cfg(test)]
mod policy_tests {
    use crate::mapping::Catalogue;
    use crate::mapping::catalogue::DEFAULTS;

    use super::*;

    /// The defaults with the first `from` in the CUSTOMER mapping replaced by `to`.
    fn customer_with(from: &str, to: &str) -> String {
        let start = DEFAULTS.find("name = \"CUSTOMER\"").unwrap();
        let (head, tail) = DEFAULTS.split_at(start);
        format!("{head}{}", tail.replacen(from, to, 1))
    }

    #[test]
    fn policies_default_in_one_place_and_parse() {
        let cat = Catalogue::defaults().unwrap();
        let m = cat.get("CUSTOMER").unwrap();
        assert_eq!(m.update_conflict, UpdateConflict::Fail);
        assert!(!m.sync_only_coupled && m.schedule.is_none());

        let text = customer_with(
            "deletion = \"remove_coupling\"",
            "deletion_conflict = \"restore\"\nupdate_conflict = \"erp_wins\"\nsync_only_coupled = true\nschedule = { daily = [\"07:00\"] }",
        );
        let cat = Catalogue::parse("m.toml", &text).unwrap();
        let m = cat.get("CUSTOMER").unwrap();
        assert_eq!(m.deletion, DeletionPolicy::Restore);
        assert_eq!(m.update_conflict.winner(), Some(Side::Erp));
        assert!(m.sync_only_coupled);
        assert_eq!(m.schedule, Some(Schedule::Daily(vec!["07:00".to_string()])));
    }

    #[test]
    fn a_bad_schedule_names_the_mapping_and_value() {
        let text = customer_with(
            "deletion = \"remove_coupling\"",
            "deletion = \"remove_coupling\"\nschedule = { every = \"5 weeks\" }",
        );
        let e = Catalogue::parse("m.toml", &text).unwrap_err().to_string();
        assert!(e.contains("CUSTOMER") && e.contains("5 weeks"), "{e}");
    }
}
