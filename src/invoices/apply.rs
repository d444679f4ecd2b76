//! Writing a built invoice to Dataverse, idempotently, and keeping its state.
//!
//! - **Create**: an invoice coupled already only has its state set. Otherwise it is first
//!   looked up by its number (`invoicenumber`), so a retry after a crash between the create and
//!   the coupling finds the invoice it made, completes its missing lines (by `lineitemnumber`)
//!   and couples it. A new invoice is created Active / Billed with its lines; a line Dataverse
//!   rejects deletes the header just made, so the retry creates it whole. The order link: the
//!   SALESORDER coupling (resolved in transform), else the order whose `ordernumber` is the
//!   invoice's Your Reference, when its account is the invoice's customer.
//! - **State**: Paid / Partial, Paid / Complete or Canceled, as the transform decided. A closed
//!   invoice is set back to Active / Billed first, as Business Central does.
//!
//! After either, the customer's account statistics are refreshed (see `statistics.rs`).

use serde_json::{Value, json};
use tracing::Instrument;

use super::build::{ACCOUNT, CUSTOMER_ID, INVOICE_LINES, LINE_LABEL, YOUR_REFERENCE};
use super::state::{ACTIVE, BILLED, InvoiceState, describe};
use crate::apply::Targets;
use crate::error::Classify;
use crate::event::Side;
use crate::event::{Fields, Outcome, OutcomeStatus, WriteCommand, WriteOp};
use crate::metrics::metrics;
use crate::store::{Store, StoreError};
use crate::systems::http::urls::odata_literal;
use crate::systems::{DataverseClient, SystemError, Written};
use crate::transform::CurrencyTable;

const SET: &str = "invoices";
const LINES_SET: &str = "invoicedetails";

fn rejected(cmd: &WriteCommand, what: &str, e: &SystemError) -> Outcome {
    Outcome::failed_command(
        cmd,
        e.class(),
        e.actor().as_str(),
        e.field().map(str::to_string),
        format!(
            "mapping {}: Dataverse rejected {what} of {}: {e}; correct the cause, then `couplet errors retry`",
            cmd.mapping, cmd.source
        ),
    )
}

fn int(f: &Fields, k: &str) -> Option<i64> {
    f.get(k).and_then(Value::as_i64)
}

fn text<'a>(f: &'a Fields, k: &str) -> Option<&'a str> {
    f.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn body(f: &Fields) -> Fields {
    f.iter()
        .filter(|(k, _)| !k.starts_with("@couplet."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn desired(cmd: &WriteCommand) -> InvoiceState {
    (
        int(&cmd.fields, "statecode").unwrap_or(ACTIVE),
        int(&cmd.fields, "statuscode").unwrap_or(BILLED),
    )
}

fn state_of(f: &Fields) -> InvoiceState {
    (
        int(f, "statecode").unwrap_or(ACTIVE),
        int(f, "statuscode").unwrap_or(1),
    )
}

/// Sets invoice `id` from state `now` to `want`: a closed invoice is reactivated (Active /
/// Billed) first. Returns the last write, `None` when nothing had to change.
async fn set_state(
    dv: &DataverseClient,
    id: &str,
    now: InvoiceState,
    want: InvoiceState,
) -> Result<Option<Written>, SystemError> {
    if now == want {
        return Ok(None);
    }
    let patch = |s: InvoiceState| {
        let mut f = Fields::new();
        f.insert("statecode".into(), json!(s.0));
        f.insert("statuscode".into(), json!(s.1));
        f
    };
    if now.0 != ACTIVE || want == (ACTIVE, BILLED) {
        let reactivated = dv.update(SET, id, &patch((ACTIVE, BILLED)), None).await?;
        if want == (ACTIVE, BILLED) {
            return Ok(Some(reactivated));
        }
    }
    Ok(Some(dv.update(SET, id, &patch(want), None).await?))
}

/// Executes an invoice command. Only a broken projection is an error.
pub async fn execute(
    targets: &Targets,
    store: &Store,
    currencies: &CurrencyTable,
    cmd: &WriteCommand,
) -> Result<Outcome, StoreError> {
    let number = cmd
        .natural_key
        .first()
        .map(|k| k.1.clone())
        .unwrap_or_default();
    let span =
        tracing::info_span!("invoice", record = %cmd.source, invoice = %number, op = ?cmd.op);
    async move {
        let Some(dv) = targets.crm.client::<crate::systems::DataverseClient>() else {
            return Ok(Outcome::failed_command(
                cmd,
                "unsupported_target",
                "user",
                None,
                format!("mapping {}: invoices are written to Dataverse only", cmd.mapping),
            ));
        };
        let coupled = store.coupling(&cmd.mapping, Side::Erp, &cmd.source.id)?;
        let (stage, outcome) = match (cmd.op, coupled) {
            (_, Some(c)) => ("invoice_state", update_state(dv, cmd, &c.crm_id).await),
            (WriteOp::Create, None) => ("invoice_create", create(dv, cmd, &number).await),
            (_, None) => (
                "invoice_state",
                Outcome::failed_command(
                    cmd,
                    "not_coupled",
                    "internal",
                    None,
                    format!(
                        "mapping {}: {} is not coupled to a Dataverse invoice any more; `couplet errors retry` creates it",
                        cmd.mapping, cmd.source
                    ),
                ),
            ),
        };
        metrics()
            .records
            .with_label_values(&[&cmd.mapping, stage, outcome.status.as_str()])
            .inc();
        if outcome.status != OutcomeStatus::Failed
            && let (Some(customer), Some(account)) =
                (text(&cmd.fields, CUSTOMER_ID), text(&cmd.fields, ACCOUNT))
        {
            super::statistics::refresh_logged(targets, currencies, &cmd.mapping, customer, account)
                .await;
        }
        Ok(outcome)
    }
    .instrument(span)
    .await
}

async fn update_state(dv: &DataverseClient, cmd: &WriteCommand, id: &str) -> Outcome {
    let want = desired(cmd);
    let current = match dv
        .get(SET, id, &["invoiceid", "statecode", "statuscode"])
        .await
    {
        Ok(Some(f)) => f,
        Ok(None) => {
            return Outcome::failed_command(
                cmd,
                "not_found",
                "user",
                None,
                format!(
                    "mapping {}: Dataverse invoice {id}, coupled to {}, does not exist any more; uncouple it (`couplet uncouple {} --erp-id {}`), then `couplet errors retry` creates it again",
                    cmd.mapping, cmd.source, cmd.mapping, cmd.source.id
                ),
            );
        }
        Err(e) => return rejected(cmd, "the read of the invoice", &e),
    };
    let now = state_of(&current);
    let written = match set_state(dv, id, now, want).await {
        Ok(w) => w,
        Err(e) => return rejected(cmd, &format!("the state {}", describe(want)), &e),
    };
    let mut o = Outcome::for_command(cmd, OutcomeStatus::Updated);
    o.target_id = Some(id.to_string());
    if let Some(w) = written {
        o.target_etag = w.etag;
        o.target_modified_on = w.modified_on;
        o.reason = Some(format!("invoice set {}", describe(want)));
    } else {
        o.reason = Some(format!("invoice is {} already", describe(want)));
    }
    o.latency_ms = cmd
        .source_modified_on
        .map(|t| (chrono::Utc::now() - t).num_milliseconds().max(0));
    o
}

const ORDER_COLUMNS: &[&str] = &[
    "salesorderid",
    "name",
    "_customerid_value",
    "_ownerid_value",
];

/// The Dataverse order whose number is `reference`, when it sells to `account`; otherwise why
/// the invoice is not linked.
async fn order_by_reference(
    dv: &DataverseClient,
    reference: &str,
    account: Option<&str>,
) -> Result<Result<Fields, String>, SystemError> {
    let filter = format!("ordernumber eq {}", odata_literal(&json!(reference)));
    let mut orders = dv.query("salesorders", &filter, ORDER_COLUMNS).await?;
    match orders.len() {
        0 => Ok(Err(format!(
            "no Dataverse order has ordernumber '{reference}'"
        ))),
        1 => {
            let o = orders.remove(0);
            if account.is_some() && text(&o, "_customerid_value") != account {
                return Ok(Err(format!(
                    "Dataverse order {reference} sells to another customer than the invoice; not linked"
                )));
            }
            Ok(Ok(o))
        }
        n => Ok(Err(format!(
            "{n} Dataverse orders have ordernumber '{reference}'; not linked (never guessed)"
        ))),
    }
}

/// Links the header to the order it came from, as Business Central copies it: the order
/// (through the SALESORDER coupling resolved in transform, else by Your Reference), its name
/// and its owner. Why an order is not linked goes to `notes`.
async fn link_order(
    dv: &DataverseClient,
    cmd: &WriteCommand,
    header: &mut Fields,
    notes: &mut Vec<String>,
) -> Result<(), SystemError> {
    const BIND: &str = "salesorderid@odata.bind";
    let coupled = header
        .get(BIND)
        .and_then(Value::as_str)
        .and_then(|b| b.strip_prefix("/salesorders("))
        .and_then(|b| b.strip_suffix(')'))
        .map(str::to_string);
    let order = match coupled {
        Some(id) => match dv.get("salesorders", &id, ORDER_COLUMNS).await? {
            Some(o) => Some(o),
            None => {
                header.remove(BIND);
                notes.push(format!(
                    "the coupled Dataverse order {id} does not exist any more; not linked"
                ));
                None
            }
        },
        None => match text(&cmd.fields, YOUR_REFERENCE) {
            Some(reference) => {
                match order_by_reference(dv, reference, text(&cmd.fields, ACCOUNT)).await? {
                    Ok(o) => Some(o),
                    Err(why) => {
                        notes.push(why);
                        None
                    }
                }
            }
            None => None,
        },
    };
    if let Some(o) = order
        && let Some(id) = text(&o, "salesorderid")
    {
        header.insert(BIND.into(), json!(format!("/salesorders({id})")));
        if let Some(n) = text(&o, "name") {
            header.insert("name".into(), json!(n));
        }
        if let Some(owner) = text(&o, "_ownerid_value") {
            header.insert(
                "ownerid@odata.bind".into(),
                json!(format!("/systemusers({owner})")),
            );
        }
    }
    Ok(())
}

async fn create(dv: &DataverseClient, cmd: &WriteCommand, number: &str) -> Outcome {
    let mut header = cmd.fields.clone();
    let lines: Vec<Fields> = match header.remove(INVOICE_LINES) {
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|l| match l {
                Value::Object(o) => Some(o),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let want = desired(cmd);
    header.remove("statecode");
    header.insert("statuscode".into(), json!(BILLED));
    let mut notes = Vec::new();

    // The invoice made by an earlier attempt, if any.
    let filter = format!("invoicenumber eq {}", odata_literal(&json!(number)));
    let mut found = match dv
        .query(SET, &filter, &["invoiceid", "statecode", "statuscode"])
        .await
    {
        Ok(f) => f,
        Err(e) => return rejected(cmd, "the lookup of the invoice", &e),
    };
    let (id, now, made_now) = match found.len() {
        0 => {
            if let Err(e) = link_order(dv, cmd, &mut header, &mut notes).await {
                return rejected(cmd, "the lookup of the order", &e);
            }
            match dv.create(SET, &body(&header)).await {
                Ok(w) => (w.id, (ACTIVE, BILLED), true),
                Err(e) => return rejected(cmd, "the invoice header", &e),
            }
        }
        1 => {
            let f = found.remove(0);
            let Some(id) = text(&f, "invoiceid").map(str::to_string) else {
                return Outcome::failed_command(
                    cmd,
                    "malformed",
                    "external",
                    None,
                    format!(
                        "mapping {}: Dataverse returned an invoice without an id for {}",
                        cmd.mapping, cmd.source
                    ),
                );
            };
            tracing::info!(invoice = %id, "Found the Dataverse invoice an earlier attempt created; completing it.");
            (id, state_of(&f), false)
        }
        n => {
            return Outcome::failed_command(
                cmd,
                "ambiguous",
                "user",
                Some("invoicenumber".into()),
                format!(
                    "mapping {}: {n} Dataverse invoices have invoicenumber '{number}' ({}); Couplet never guesses: delete the twins, then `couplet errors retry`",
                    cmd.mapping, cmd.source
                ),
            );
        }
    };
    let existing: Vec<i64> = if made_now {
        Vec::new()
    } else {
        match dv
            .query(
                LINES_SET,
                &format!("_invoiceid_value eq {id}"),
                &["lineitemnumber"],
            )
            .await
        {
            Ok(rows) => rows
                .iter()
                .filter_map(|r| int(r, "lineitemnumber"))
                .collect(),
            Err(e) => return rejected(cmd, "the lookup of the invoice's lines", &e),
        }
    };
    let missing: Vec<&Fields> = lines
        .iter()
        .filter(|l| int(l, "lineitemnumber").is_none_or(|n| !existing.contains(&n)))
        .collect();
    if !missing.is_empty() && now.0 != ACTIVE {
        return Outcome::failed_command(
            cmd,
            "invoice_closed",
            "user",
            None,
            format!(
                "mapping {}: Dataverse invoice {id} ({number}) is {} and misses {} line(s); set it Active, then `couplet errors retry`",
                cmd.mapping,
                describe(now),
                missing.len()
            ),
        );
    }
    for line in missing {
        let mut b = body(line);
        b.insert(
            "invoiceid@odata.bind".into(),
            json!(format!("/invoices({id})")),
        );
        if let Err(e) = dv.create(LINES_SET, &b).await {
            let at = text(line, LINE_LABEL).unwrap_or("a line").to_string();
            if made_now {
                // Leave no half invoice behind: the retry creates it whole.
                if let Err(d) = dv.delete(SET, &id).await {
                    tracing::warn!(invoice = %id, error = %d, "Could not delete the incomplete invoice; the retry finds and completes it.");
                }
            }
            return rejected(cmd, &at, &e);
        }
    }
    let mut written = match dv.get(SET, &id, &["invoiceid", "modifiedon"]).await {
        Ok(Some(f)) => Written::from_fields(f, "invoiceid", "modifiedon"),
        Ok(None) => None,
        Err(e) => return rejected(cmd, "the read of the invoice", &e),
    };
    match set_state(dv, &id, now, want).await {
        Ok(Some(w)) => written = Some(w),
        Ok(None) => {}
        Err(e) => return rejected(cmd, &format!("the state {}", describe(want)), &e),
    }
    let mut o = Outcome::for_command(
        cmd,
        if made_now {
            OutcomeStatus::Created
        } else {
            OutcomeStatus::Coupled
        },
    );
    o.target_id = Some(id.clone());
    if let Some(w) = written {
        o.target_etag = w.etag;
        o.target_modified_on = w.modified_on;
    }
    if !made_now {
        notes.insert(
            0,
            format!("found invoices/{id} by invoicenumber (created by an earlier attempt); its missing lines were added and it is coupled"),
        );
    }
    o.reason = (!notes.is_empty()).then(|| notes.join("; "));
    o.latency_ms = cmd
        .source_modified_on
        .map(|t| (chrono::Utc::now() - t).num_milliseconds().max(0));
    o
}
