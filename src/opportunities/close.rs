//! Closing a Business Central opportunity when its coupled Dataverse opportunity is won
//! (statecode 1, `WinOpportunity`) or lost (statecode 2): its Status becomes `Won` or `Lost`.
//! Business Central's own filter (Status = Not Started|In Progress) keeps closed opportunities
//! out of the BC → Dataverse direction, and the OPPORTUNITY table filter keeps closed
//! Dataverse opportunities out of the field mappings, so the close is its own command: one
//! PATCH of `status`, written once (the coupling's hash), never creating an opportunity.

use crate::transform::decision::write_command;
use serde_json::{Value, json};
use tracing::Instrument;

use crate::error::Classify;
use crate::event::Side;
use crate::event::types::{OutcomeError, now_millis};
use crate::event::{ChangeEvent, Fields, Outcome, OutcomeStatus, WriteCommand, WriteOp};
use crate::mapping::model::TableMapping;
use crate::metrics::metrics;
use crate::store::Coupling;
use crate::systems::Target;
use crate::transform::Decision;
use crate::transform::hash::content_hash;

/// Marks a close command (the apply writes only `status`).
pub const CLOSE: &str = "@couplet.close";

/// The Business Central status of a closed Dataverse opportunity (statecode 1 Won, 2 Lost).
pub fn closed_status(ev: &ChangeEvent) -> Option<&'static str> {
    match ev.fields.get("statecode").and_then(Value::as_i64) {
        Some(1) => Some("Won"),
        Some(2) => Some("Lost"),
        _ => None,
    }
}

/// True for a close command of `m`.
pub fn is_close(m: &TableMapping, cmd: &WriteCommand) -> bool {
    m.runs(crate::mapping::model::FlowKind::Opportunity) && cmd.fields.contains_key(CLOSE)
}

/// Decides for a closed Dataverse opportunity (`status` from [`closed_status`]).
pub fn decide(
    ev: &ChangeEvent,
    m: &TableMapping,
    coupling: Option<Coupling>,
    status: &str,
    forced: bool,
) -> Decision {
    let record = ev.source.to_string();
    let outcome = |st, target: Option<String>, reason: String| {
        Outcome::for_event(
            ev,
            m.system(Side::Erp),
            &m.erp_entity,
            target,
            st,
            Some(reason),
        )
    };
    let Some(c) = coupling else {
        return Decision::Skip(outcome(
            OutcomeStatus::Filtered,
            None,
            format!(
                "{record} is closed ({status}) and not coupled: a closed opportunity is not created in Business Central"
            ),
        ));
    };
    let mut fields = Fields::new();
    fields.insert("status".into(), json!(status));
    fields.insert(CLOSE.into(), json!(true));
    let hash = content_hash(&fields);
    if !forced && c.hash_to(Side::Erp) == Some(hash.as_str()) {
        return Decision::Skip(outcome(
            OutcomeStatus::Unchanged,
            Some(c.erp_id.clone()),
            format!(
                "{record} is {status}; opportunities/{} was closed already",
                c.erp_id
            ),
        ));
    }
    Decision::Write(write_command(
        ev,
        m,
        m.system(Side::Erp),
        Some(c.erp_id.clone()),
        WriteOp::Update,
        fields,
        hash,
    ))
}

/// Writes a close command: `status` on the coupled Business Central opportunity.
pub async fn execute(target: &Target, cmd: &WriteCommand) -> Outcome {
    let span =
        tracing::info_span!("opportunity_close", record = %cmd.source, mapping = %cmd.mapping);
    let body: Fields = cmd
        .fields
        .iter()
        .filter(|(k, _)| !k.starts_with("@couplet."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let id = cmd.target_id.clone().unwrap_or_default();
    let o = match target
        .update(&cmd.target_entity, &id, &body, None)
        .instrument(span)
        .await
    {
        Ok(w) => {
            let mut o = Outcome::for_command(cmd, OutcomeStatus::Updated);
            o.target_id = Some(w.id);
            o.target_etag = w.etag;
            o.target_modified_on = w.modified_on;
            o.reason = Some(format!(
                "the Dataverse opportunity is closed: opportunities/{id} status {}",
                body.get("status").and_then(Value::as_str).unwrap_or("")
            ));
            o
        }
        Err(e) => {
            let mut o = Outcome::for_command(cmd, OutcomeStatus::Failed);
            o.error = Some(OutcomeError {
                class: e.class().to_string(),
                actor: e.actor().as_str().to_string(),
                field: Some("statecode".into()),
            });
            o.reason = Some(format!(
                "mapping {}: Business Central rejected closing opportunities/{id} for {}: {e}; correct the cause, then `couplet errors retry`",
                cmd.mapping, cmd.source
            ));
            o.at = now_millis();
            o
        }
    };
    metrics()
        .records
        .with_label_values(&[&cmd.mapping, "opportunity_close", o.status.as_str()])
        .inc();
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ChangeOp, RecordKey};
    use crate::mapping::Catalogue;

    fn event(state: i64) -> ChangeEvent {
        let mut f = Fields::new();
        f.insert("statecode".into(), json!(state));
        ChangeEvent::new(
            "OPPORTUNITY",
            RecordKey::new(crate::systems::DATAVERSE, "opportunities", "o1"),
            ChangeOp::Upsert,
            None,
            None,
            f,
        )
    }

    fn coupling(hash: Option<String>) -> Coupling {
        Coupling {
            mapping: "OPPORTUNITY".into(),
            crm_entity: "opportunities".into(),
            crm_id: "o1".into(),
            erp_entity: "opportunities".into(),
            erp_id: "b1".into(),
            crm_modified_on: None,
            erp_modified_on: None,
            crm_etag: None,
            erp_etag: None,
            hash_to_crm: None,
            hash_to_erp: hash,
            coupled_at: chrono::Utc::now(),
            last_sync_at: None,
            last_direction: None,
            last_result: None,
        }
    }

    #[test]
    fn won_and_lost_close_the_coupled_opportunity_once() {
        let cat = Catalogue::defaults().unwrap();
        let m = cat.get(super::super::MAPPING).unwrap();
        assert!(m.runs(crate::mapping::model::FlowKind::Opportunity));
        assert_eq!(closed_status(&event(0)), None);
        assert_eq!(closed_status(&event(2)), Some("Lost"));
        let won = event(1);
        let status = closed_status(&won).unwrap();
        // Not coupled: nothing is created.
        assert!(matches!(
            decide(&won, m, None, status, false),
            Decision::Skip(o) if o.status == OutcomeStatus::Filtered
        ));
        let Decision::Write(cmd) = decide(&won, m, Some(coupling(None)), status, false) else {
            panic!("a close command");
        };
        assert!(is_close(m, &cmd));
        assert_eq!(cmd.target_id.as_deref(), Some("b1"));
        assert_eq!(cmd.fields["status"], json!("Won"));
        // Written already (the coupling holds the hash): unchanged, unless forced.
        let done = coupling(Some(cmd.content_hash.clone()));
        assert!(matches!(
            decide(&won, m, Some(done.clone()), status, false),
            Decision::Skip(o) if o.status == OutcomeStatus::Unchanged
        ));
        assert!(matches!(
            decide(&won, m, Some(done), status, true),
            Decision::Write(_)
        ));
    }
}
