//! The transform's decision for a captured posted invoice: create it (not coupled yet), set
//! its state (coupled, and the payment status moved), skip it (stale, unchanged), park it (the
//! customer is not coupled yet) or fail it.

use crate::transform::decision::write_command;
use serde_json::json;

use super::build::{ACCOUNT, BuildContext, CUSTOMER_ID, CUSTOMER_MAPPING, build};
use super::state::{InvoiceState, describe, of_payment};
use crate::event::Side;
use crate::event::{ChangeEvent, Fields, Outcome, OutcomeStatus, WriteCommand, WriteOp};
use crate::mapping::model::TableMapping;
use crate::store::Coupling;
use crate::systems::documents::PostedInvoice;
use crate::transform::hash::content_hash;
use crate::transform::{Decision, TransformError};

/// The hash recorded for an invoice written to Dataverse: its state. The invoice's content is
/// written once; only the state changes afterwards.
pub fn state_hash(s: InvoiceState) -> String {
    let mut f = Fields::new();
    f.insert("statecode".into(), json!(s.0));
    f.insert("statuscode".into(), json!(s.1));
    content_hash(&f)
}

fn command(
    ev: &ChangeEvent,
    invoice: &PostedInvoice,
    m: &TableMapping,
    op: WriteOp,
    target_id: Option<String>,
    fields: Fields,
    hash: String,
) -> WriteCommand {
    let natural_key = invoice
        .number
        .as_ref()
        .map(|n| vec![("invoicenumber".to_string(), n.clone())])
        .unwrap_or_default();
    WriteCommand {
        natural_key,
        ..write_command(
            ev,
            m,
            m.system(crate::event::Side::Crm),
            target_id,
            op,
            fields,
            hash,
        )
    }
}

/// Decides for a captured posted invoice `ev` (the table filter has passed), `invoice` being
/// it in the flows' terms (`ErpDocuments::interpret_posted_invoice`). `forced`
/// (`couplet sync-now`) writes the state even when it equals the last one written.
pub fn decide(
    cx: &BuildContext<'_>,
    ev: &ChangeEvent,
    invoice: &PostedInvoice,
    m: &TableMapping,
    coupling: Option<Coupling>,
    currencies_fresh: bool,
    forced: bool,
) -> Result<Decision, TransformError> {
    let t = m.system(crate::event::Side::Crm);
    let record = ev.source.to_string();
    let outcome = |status, target: Option<String>, reason: String| {
        Outcome::for_event(ev, t, &m.crm_entity, target, status, Some(reason))
    };
    let state = of_payment(invoice.payment);
    let hash = state_hash(state);
    if let Some(c) = coupling {
        if !forced
            && c.is_older(Side::Erp, ev.modified_on, ev.etag.as_deref())
            && let (Some(seen), Some(synced)) = (ev.modified_on, c.modified_on(Side::Erp))
        {
            return Ok(Decision::Skip(outcome(
                OutcomeStatus::Stale,
                Some(c.crm_id.clone()),
                format!("modified {seen}, older than the last synchronised version ({synced})"),
            )));
        }
        if !forced && c.hash_to(t) == Some(hash.as_str()) {
            return Ok(Decision::Skip(outcome(
                OutcomeStatus::Unchanged,
                Some(c.crm_id.clone()),
                format!(
                    "invoices/{} is {} already; a posted invoice is created once, then only its state follows",
                    c.crm_id,
                    describe(state)
                ),
            )));
        }
        let mut f = Fields::new();
        f.insert("statecode".into(), json!(state.0));
        f.insert("statuscode".into(), json!(state.1));
        if let Some(customer) = invoice.customer_id.as_deref() {
            f.insert(CUSTOMER_ID.into(), json!(customer));
            if let Some(a) = cx.store.coupling(CUSTOMER_MAPPING, Side::Erp, customer)? {
                f.insert(ACCOUNT.into(), json!(a.crm_id));
            }
        }
        return Ok(Decision::Write(command(
            ev,
            invoice,
            m,
            WriteOp::Update,
            Some(c.crm_id.clone()),
            f,
            hash,
        )));
    }
    let fields = match build(cx, &record, invoice) {
        Ok(f) => f,
        Err(Err(e)) => return Err(e.into()),
        Err(Ok(e)) => {
            return Ok(crate::transform::document::not_built(
                ev,
                m,
                e,
                currencies_fresh,
                outcome,
            ));
        }
    };
    Ok(Decision::Write(command(
        ev,
        invoice,
        m,
        WriteOp::Create,
        None,
        fields,
        hash,
    )))
}
