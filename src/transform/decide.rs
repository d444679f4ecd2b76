//! The per-change decision: write, skip (and why), park or fail.

use std::sync::Arc;

use super::currency::CurrencyTable;
use super::decision::{Decision, direction_to, write_command};
use super::error::TransformError;
use super::fields::{Context, FieldFailure, add_reverse_only, as_read, map_record};
use super::flow::{DecideContext, FlowChange};
use super::hash::content_hash;
use crate::error::Classify;
use crate::event::types::OutcomeError;
use crate::event::types::now_millis;
use crate::event::{
    ChangeEvent, ChangeOp, Outcome, OutcomeStatus, RecordKey, System, WriteCommand, WriteOp,
};
use crate::mapping::Catalogue;
use crate::mapping::model::{DeletionPolicy, TableMapping};
use crate::store::project::index_record;
use crate::store::{Coupling, ParkedEntry, Store};
use crate::systems::Target;

/// Applies the mappings to changes.
#[derive(Debug, Clone)]
pub struct Transformer {
    catalogue: Arc<Catalogue>,
    store: Store,
    currencies: CurrencyTable,
    orders: Arc<crate::orders::OrdersConfig>,
    /// The ERP, whose sales documents the document flows build.
    erp: Option<Target>,
}

impl Transformer {
    /// A transformer over these mappings, couplings and currencies.
    pub fn new(catalogue: Arc<Catalogue>, store: Store, currencies: CurrencyTable) -> Self {
        Transformer {
            catalogue,
            store,
            currencies,
            orders: Arc::new(crate::orders::OrdersConfig::default()),
            erp: None,
        }
    }

    /// Uses `orders` (`[orders]`) for sales-order mappings.
    pub fn with_orders(mut self, orders: crate::orders::OrdersConfig) -> Self {
        self.orders = Arc::new(orders);
        self
    }

    /// Builds the document flows' ERP documents with `erp`'s (without it, a sales order or
    /// quote fails as not buildable).
    pub fn with_erp(mut self, erp: Target) -> Self {
        self.erp = Some(erp);
        self
    }

    /// The mappings.
    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.catalogue
    }

    /// Decides what to do with `ev`. With `currencies_fresh`, an unknown currency fails the
    /// record instead of asking for a refresh.
    pub fn decide(
        &self,
        ev: &ChangeEvent,
        currencies_fresh: bool,
    ) -> Result<Decision, TransformError> {
        self.decide_with(ev, currencies_fresh, false)
    }

    /// [`Transformer::decide`]; with `force` (`couplet sync-now`) the echo, stale and
    /// unchanged checks are skipped: the mapped values are written whatever was synchronised
    /// before.
    pub fn decide_with(
        &self,
        ev: &ChangeEvent,
        currencies_fresh: bool,
        force: bool,
    ) -> Result<Decision, TransformError> {
        let Some(m) = self.catalogue.get(&ev.mapping).cloned() else {
            return Ok(unknown_mapping(ev, self.catalogue.pair()));
        };
        let d = Change::new(ev, &m);
        let (s, t) = (d.s, d.t);
        let coupling = self.store.coupling(&m.name, s, &ev.source.id)?;
        if ev.op == ChangeOp::Delete {
            return Ok(self.decide_delete(&d, coupling));
        }
        index_record(
            &self.store,
            &self.catalogue,
            &m,
            s,
            &ev.source.id,
            &ev.fields,
        )?;
        let flow = crate::flows::of_mapping(&m);
        let fc = FlowChange {
            ev,
            m: &m,
            coupling: &coupling,
            currencies_fresh,
            force,
        };
        let dx = self.flow_context();
        if let Some(decided) = flow.and_then(|f| f.decide_any_direction(&dx, &fc)) {
            return decided;
        }
        if !m.direction.allows_from(s) {
            return Ok(d.skip(
                OutcomeStatus::Filtered,
                None,
                format!(
                    "mapping {} runs {}; changes in {s} are not synchronised",
                    m.name,
                    m.direction.as_str()
                ),
            ));
        }
        if let Some(decided) = flow.and_then(|f| f.decide_unfiltered(&fc)) {
            return Ok(decided);
        }
        if let Some(f) = self.catalogue.filter(&m.name, s.is_crm())
            && !f.matches(&ev.fields)
        {
            return Ok(d.skip(
                OutcomeStatus::Filtered,
                coupling.as_ref().map(|c| c.id_on(t).to_string()),
                format!(
                    "outside the {} table filter of {}: {}",
                    s,
                    m.name,
                    m.filter(s).unwrap_or_default()
                ),
            ));
        }
        if let Some(decided) = flow.and_then(|f| f.decide(&dx, &fc)) {
            return decided;
        }
        // Couplet's own write coming back (same ETag as recorded after the write) is not
        // synchronised back as such; only values the target added or changed (an assigned
        // number, a normalised text) flow on, which the hash comparison below decides.
        let echo = coupling
            .as_ref()
            .is_some_and(|c| ev.etag.is_some() && ev.etag.as_deref() == c.etag(s));
        if let Some(skip) = self.skip_uncoupled_or_stale(&d, coupling.as_ref(), echo, force)? {
            return Ok(skip);
        }
        let cx = Context {
            catalogue: &self.catalogue,
            store: &self.store,
            currencies: &self.currencies,
        };
        let fields = match self.map_fields(&d, &cx, coupling.as_ref(), currencies_fresh)? {
            Ok(f) => f,
            Err(decided) => return Ok(decided),
        };
        Ok(self.write_unless_unchanged(&d, &cx, coupling.as_ref(), fields, echo, force))
    }

    /// Skips a change of an uncoupled record when the mapping synchronises only coupled ones
    /// (outside a full sync), and a change older than the version last synchronised.
    fn skip_uncoupled_or_stale(
        &self,
        d: &Change<'_>,
        coupling: Option<&Coupling>,
        echo: bool,
        force: bool,
    ) -> Result<Option<Decision>, TransformError> {
        let (ev, m, s, t) = (d.ev, d.m, d.s, d.t);
        if coupling.is_none()
            && m.sync_only_coupled
            && !crate::fullsync::state::is_full_sync_run(&self.store, ev.correlation_id)?
        {
            return Ok(Some(d.skip(
                OutcomeStatus::Filtered,
                None,
                format!(
                    "{} is not coupled and mapping {} synchronises only coupled records (sync_only_coupled); `couplet full-sync` creates it on the other side",
                    d.record, m.name
                ),
            )));
        }
        if let Some(c) = coupling
            && !echo
            && !force
            && c.is_older(s, ev.modified_on, ev.etag.as_deref())
            && let (Some(seen), Some(synced)) = (ev.modified_on, c.modified_on(s))
        {
            return Ok(Some(d.skip(
                OutcomeStatus::Stale,
                Some(c.id_on(t).to_string()),
                format!("modified {seen}, older than the last synchronised version ({synced})"),
            )));
        }
        Ok(None)
    }

    /// The decision on a deleted record, by the mapping's deletion policy.
    fn decide_delete(&self, d: &Change<'_>, coupling: Option<Coupling>) -> Decision {
        let (ev, m, record, t, t_entity) = (d.ev, d.m, &d.record, d.t, &d.t_entity);
        let Some(c) = coupling else {
            return d.skip(
                OutcomeStatus::Filtered,
                None,
                format!("{record} was deleted; it was not coupled, nothing to do"),
            );
        };
        let target_id = c.id_on(t).to_string();
        match m.deletion {
            DeletionPolicy::RemoveCoupling => d.skip(
                OutcomeStatus::Uncoupled,
                Some(target_id.clone()),
                format!(
                    "{record} was deleted; coupling removed, {t}/{t_entity}/{target_id} kept (deletion policy remove_coupling)"
                ),
            ),
            DeletionPolicy::None => d.skip(
                OutcomeStatus::Filtered,
                Some(target_id.clone()),
                format!(
                    "{record} was deleted; coupling kept (deletion policy none): a later change of {t}/{t_entity}/{target_id} fails as a deletion conflict"
                ),
            ),
            DeletionPolicy::Restore => {
                let survivor = RecordKey::new(t, t_entity.clone(), target_id.clone());
                let o = Outcome::for_event(
                    ev,
                    t,
                    t_entity,
                    Some(target_id.clone()),
                    OutcomeStatus::Uncoupled,
                    Some(format!(
                        "{record} was deleted; restoring it from {survivor} (deletion policy restore)"
                    )),
                );
                Decision::Restore(o, survivor)
            }
            DeletionPolicy::Propagate => Decision::Write(self.command(
                ev,
                m,
                t,
                Some(target_id),
                WriteOp::Delete,
                Default::default(),
            )),
        }
    }

    /// What the document flows decide with.
    fn flow_context(&self) -> DecideContext<'_> {
        DecideContext {
            store: &self.store,
            catalogue: &self.catalogue,
            currencies: &self.currencies,
            orders: &self.orders,
            erp: self.erp.as_ref().and_then(Target::documents),
        }
    }

    /// The change's fields mapped to the target; `Ok(Err(_))` when they cannot be (a
    /// currency refresh, a failure, or a park until a dependency is coupled).
    fn map_fields(
        &self,
        d: &Change<'_>,
        cx: &Context<'_>,
        coupling: Option<&Coupling>,
        currencies_fresh: bool,
    ) -> Result<Result<crate::event::Fields, Decision>, TransformError> {
        let (ev, m, t, t_entity) = (d.ev, d.m, d.t, &d.t_entity);
        let record = d.record.clone();
        let failed = |e: &TransformError| {
            Decision::Fail(self.failed(
                ev,
                t,
                t_entity,
                coupling.map(|c| c.id_on(t).to_string()),
                e,
            ))
        };
        Ok(match map_record(m, d.s, &ev.fields, cx) {
            Ok(f) => Ok(f),
            Err(FieldFailure::Store(e)) => return Err(e.into()),
            Err(FieldFailure::UnknownCurrency { .. }) if !currencies_fresh => {
                Err(Decision::RefreshCurrencies)
            }
            Err(FieldFailure::UnknownCurrency { field, value }) => {
                let e = TransformError::Field {
                    record,
                    field: field.clone(),
                    reason: format!(
                        "currency '{value}' has no transactioncurrency in Dataverse with that ISO code (or no currency in Business Central); create it there, or correct the record"
                    ),
                    class: "unknown_currency",
                };
                Err(failed(&e))
            }
            Err(FieldFailure::Fail {
                field,
                reason,
                class,
            }) => {
                let e = TransformError::Field {
                    record,
                    field,
                    reason,
                    class,
                };
                Err(failed(&e))
            }
            Err(FieldFailure::Park {
                waiting_for,
                reason,
            }) => {
                let reason = format!(
                    "mapping {}: {record} is parked: {reason}; it is re-driven automatically when {waiting_for} is coupled",
                    m.name
                );
                let o = Outcome::for_event(
                    ev,
                    t,
                    t_entity,
                    None,
                    OutcomeStatus::Parked,
                    Some(reason.clone()),
                );
                let p = ParkedEntry {
                    waiting_for,
                    record: ev.source.to_string(),
                    mapping: m.name.clone(),
                    reason,
                    parked_at: now_millis(),
                    event: ev.clone(),
                };
                Err(Decision::Park(o, p))
            }
        })
    }

    /// The write of the mapped `fields` (an update of the coupled record, or a create), unless
    /// they equal what was last written to the target (unchanged, or Couplet's own echo).
    fn write_unless_unchanged(
        &self,
        d: &Change<'_>,
        cx: &Context<'_>,
        coupling: Option<&Coupling>,
        fields: crate::event::Fields,
        echo: bool,
        force: bool,
    ) -> Decision {
        let (ev, m, s, t) = (d.ev, d.m, d.s, d.t);
        let hash = content_hash(&fields);
        if let Some(c) = coupling
            && !force
            && c.hash_to(t) == Some(hash.as_str())
        {
            let ours = c.last_direction.as_deref() == Some(direction_to(s));
            let (status, why) = match (echo, ours) {
                (true, true) => (OutcomeStatus::Echo, "Couplet's own write coming back"),
                (true, false) => (
                    OutcomeStatus::Unchanged,
                    "this version was already synchronised",
                ),
                _ => (
                    OutcomeStatus::Unchanged,
                    "the mapped values equal the last synchronised ones",
                ),
            };
            return d.skip(status, Some(c.id_on(t).to_string()), why.into());
        }
        let (op, target_id) = match coupling {
            Some(c) => (WriteOp::Update, Some(c.id_on(t).to_string())),
            None => (WriteOp::Create, None),
        };
        let mut reverse = as_read(m, &fields, t);
        add_reverse_only(m, s, &ev.fields, &mut reverse);
        let reverse_hash = map_record(m, t, &reverse, cx)
            .ok()
            .map(|f| content_hash(&f));
        let mut cmd = self.command(ev, m, t, target_id, op, fields);
        cmd.content_hash = hash;
        cmd.reverse_hash = reverse_hash;
        Decision::Write(cmd)
    }

    fn command(
        &self,
        ev: &ChangeEvent,
        m: &TableMapping,
        t: System,
        target_id: Option<String>,
        op: WriteOp,
        fields: crate::event::Fields,
    ) -> WriteCommand {
        let s = ev.source.system;
        let mut natural_key = Vec::new();
        // The key as the target stores it: the mapped value when the key field is mapped
        // this way (rules may rewrite it, e.g. a unit group's name), else the source's value.
        if let (Some(sk), Some(tk)) = (m.key(s), m.key(t))
            && let Some(v) = fields
                .get(tk)
                .and_then(|v| v.as_str())
                .or_else(|| ev.fields.get(sk).and_then(|v| v.as_str()))
                .map(str::trim)
            && !v.is_empty()
        {
            let v = if m.key_case_insensitive {
                v.to_lowercase()
            } else {
                v.to_string()
            };
            natural_key.push((tk.to_string(), v));
            // A scoped key (per legal entity) is looked up in its scope only; a target
            // without a scope value is looked up by the key alone (several matches: ambiguous).
            if let (Some(ss), Some(ts)) = (m.key_scope(s), m.key_scope(t))
                && let Some(scope) = fields
                    .get(ts)
                    .and_then(|v| v.as_str())
                    .or_else(|| ev.fields.get(ss).and_then(|v| v.as_str()))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .or(m.key_scope_default.as_deref())
            {
                natural_key.push((ts.to_string(), scope.trim().to_lowercase()));
            }
        }
        WriteCommand {
            natural_key,
            ..write_command(ev, m, t, target_id, op, fields, String::new())
        }
    }

    fn failed(
        &self,
        ev: &ChangeEvent,
        t: System,
        t_entity: &str,
        target_id: Option<String>,
        e: &TransformError,
    ) -> Outcome {
        let mut o = Outcome::for_event(
            ev,
            t,
            t_entity,
            target_id,
            OutcomeStatus::Failed,
            Some(e.to_string()),
        );
        o.error = Some(error_of(e, e.field()));
        o
    }
}

/// A change being decided, with what the steps of [`Transformer::decide_with`] share.
struct Change<'a> {
    ev: &'a ChangeEvent,
    m: &'a TableMapping,
    /// The changed record (`system/entity/id`).
    record: String,
    /// The side that changed.
    s: System,
    /// The other side, the one written to.
    t: System,
    /// The mapping's entity on the target side.
    t_entity: String,
}

impl<'a> Change<'a> {
    fn new(ev: &'a ChangeEvent, m: &'a TableMapping) -> Self {
        let record = ev.source.to_string();
        let s = ev.source.system;
        let t = m.pair.other(s);
        let t_entity = m.entity(t).to_string();
        Change {
            ev,
            m,
            record,
            s,
            t,
            t_entity,
        }
    }

    /// Skips the change: nothing to write, for `reason`.
    fn skip(&self, status: OutcomeStatus, target_id: Option<String>, reason: String) -> Decision {
        Decision::Skip(Outcome::for_event(
            self.ev,
            self.t,
            &self.t_entity,
            target_id,
            status,
            Some(reason),
        ))
    }
}

/// Fails a change of a mapping this configuration does not run.
fn unknown_mapping(ev: &ChangeEvent, pair: crate::event::Pair) -> Decision {
    let record = ev.source.to_string();
    let e = TransformError::UnknownMapping {
        record,
        mapping: ev.mapping.clone(),
    };
    let mut o = Outcome::for_event(
        ev,
        pair.other(ev.source.system),
        "",
        None,
        OutcomeStatus::Failed,
        Some(e.to_string()),
    );
    o.error = Some(error_of(&e, None));
    Decision::Fail(o)
}

fn error_of(e: &dyn Classify, field: Option<&str>) -> OutcomeError {
    OutcomeError {
        class: e.class().to_string(),
        actor: e.actor().as_str().to_string(),
        field: field.map(str::to_string),
    }
}
