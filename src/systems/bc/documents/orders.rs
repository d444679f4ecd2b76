//! Creating the built order in Business Central, idempotently: an order coupled already is
//! not created again; otherwise the order is first looked up by its key (`yourReference` =
//! the Dataverse order number), so a retry after a crash between the create and the coupling
//! finds the order it made and completes its missing lines instead of making a twin.

use serde_json::{Value, json};

use super::build::ORDER_LINES;
use super::quote_link::BcQuote;
use crate::error::Classify;
use crate::event::{Fields, Outcome, OutcomeStatus, WriteCommand};
use crate::systems::connector::Connector;
use crate::systems::{BcClient, SystemError, Written};

const SET: &str = "salesOrders";

fn rejected(
    cmd: &WriteCommand,
    what: &str,
    e: &SystemError,
    fallback_field: Option<&str>,
) -> Outcome {
    let field = e
        .field()
        .map(str::to_string)
        .or_else(|| fallback_field.map(str::to_string));
    Outcome::failed_command(
        cmd,
        e.class(),
        e.actor().as_str(),
        field,
        format!(
            "mapping {}: Business Central rejected {what} of {}: {e}; correct the cause, then `couplet errors retry`",
            cmd.mapping, cmd.source
        ),
    )
}

fn sequence(f: &Fields) -> i64 {
    f.get("sequence").and_then(Value::as_f64).unwrap_or(0.0) as i64
}

fn body(f: &Fields) -> Fields {
    f.iter()
        .filter(|(k, _)| !k.starts_with("@couplet."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Executes an order create command of an order not coupled yet (the sales-order flow checks
/// that, and counts the outcome). Every failure is an outcome.
pub async fn execute(target: &dyn Connector, cmd: &WriteCommand) -> Outcome {
    let Some(bc) = target.as_any().downcast_ref::<BcClient>() else {
        return Outcome::failed_command(
            cmd,
            "unsupported_target",
            "user",
            None,
            format!(
                "mapping {}: sales orders are created in Business Central only",
                cmd.mapping
            ),
        );
    };
    let (Ok(o) | Err(o)) = create_in_bc(target, bc, cmd).await;
    o
}

/// Creates the order in Business Central, or completes the one an earlier attempt created:
/// the header, the lines it lacks, the document discount, then the archiving of its quote.
/// `Err` is the outcome of a step that failed.
async fn create_in_bc(
    target: &dyn Connector,
    bc: &BcClient,
    cmd: &WriteCommand,
) -> Result<Outcome, Outcome> {
    let Prepared {
        header,
        lines,
        discount,
        quote,
    } = prepare(bc, cmd).await?;
    let (mut written, made_now) = find_or_create(target, cmd, &header).await?;
    let id = written.id.clone();
    add_missing_lines(target, bc, cmd, &id, made_now, &lines).await?;
    if let Some(d) = discount {
        let mut patch = Fields::new();
        patch.insert("discountAmount".into(), d);
        match target.update(SET, &id, &patch, None).await {
            Ok(w) => written = w,
            Err(e) => {
                return Err(rejected(
                    cmd,
                    "the order discount",
                    &e,
                    Some("discountamount"),
                ));
            }
        }
    }
    if let Some(q) = &quote
        && let Err(e) = super::quote_link::archive(bc, &q.id).await
    {
        return Err(rejected(
            cmd,
            "the archiving of the order's quote",
            &e,
            None,
        ));
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
    o.target_etag = written.etag;
    o.target_modified_on = written.modified_on;
    o.reason = (!made_now).then(|| format!(
        "found salesOrders/{id} by yourReference (created by an earlier attempt); its missing lines were added and it is coupled"
    ));
    o.latency_ms = cmd
        .source_modified_on
        .map(|t| (chrono::Utc::now() - t).num_milliseconds().max(0));
    Ok(o)
}

/// The built order taken apart for its writes.
struct Prepared {
    /// The header to create, its quote and opportunity resolved.
    header: Fields,
    /// The lines, created one by one after the header.
    lines: Vec<Fields>,
    /// The document discount, set once the lines are in.
    discount: Option<Value>,
    /// The Business Central quote the order was made from, archived at the end.
    quote: Option<BcQuote>,
}

/// Splits the command's fields into header, lines and discount, and resolves the order's
/// quote (its Quote No.) and opportunity in Business Central.
async fn prepare(bc: &BcClient, cmd: &WriteCommand) -> Result<Prepared, Outcome> {
    let mut header = cmd.fields.clone();
    let lines: Vec<Fields> = header
        .remove(ORDER_LINES)
        .and_then(|v| match v {
            Value::Array(a) => Some(
                a.into_iter()
                    .filter_map(|l| match l {
                        Value::Object(o) => Some(o),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default();
    let discount = header.remove("discountAmount");
    // An order made from a quote: its Business Central quote gives the Quote No.
    let quote = match header.remove(super::quote_link::QUOTE_REFERENCE) {
        Some(Value::String(r)) => match super::quote_link::find_quote(bc, &r).await {
            Ok(q) => q,
            Err(e) => return Err(rejected(cmd, "the lookup of the order's quote", &e, None)),
        },
        _ => None,
    };
    if let Some(q) = &quote {
        header.insert("quoteNumber".into(), json!(q.number));
    }
    if let Err(e) = super::opportunity_link::resolve(bc, &mut header).await {
        return Err(rejected(
            cmd,
            "the lookup of the order's opportunity",
            &e,
            None,
        ));
    }
    Ok(Prepared {
        header,
        lines,
        discount,
        quote,
    })
}

/// The order an earlier attempt created (found by the command's natural key), or else the
/// order created now from `header`; true when created now.
async fn find_or_create(
    target: &dyn Connector,
    cmd: &WriteCommand,
    header: &Fields,
) -> Result<(Written, bool), Outcome> {
    // The order made by an earlier attempt, if any.
    let mut found = Vec::new();
    if let Some((field, value)) = cmd.natural_key.first() {
        found = match target.find_eq(SET, field, &json!(value)).await {
            Ok(f) => f,
            Err(e) => return Err(rejected(cmd, "the lookup of the order", &e, None)),
        };
    }
    match found.len() {
        0 => match target.create(SET, header).await {
            Ok(w) => Ok((w, true)),
            Err(e) => {
                let fallback = e.to_string().contains("Customer").then_some("customerid");
                Err(rejected(cmd, "the order header", &e, fallback))
            }
        },
        1 => {
            let f = found.remove(0);
            let Some(w) = Written::from_fields(f, "id", "lastModifiedDateTime") else {
                return Err(Outcome::failed_command(
                    cmd,
                    "malformed",
                    "external",
                    None,
                    format!(
                        "mapping {}: Business Central returned an order without an id for {}",
                        cmd.mapping, cmd.source
                    ),
                ));
            };
            tracing::info!(order = %w.id, "Found the Business Central order an earlier attempt created; completing it.");
            Ok((w, false))
        }
        n => Err(Outcome::failed_command(
            cmd,
            "ambiguous",
            "user",
            cmd.natural_key.first().map(|k| k.0.clone()),
            format!(
                "mapping {}: {n} Business Central sales orders have yourReference = '{}' ({}); Couplet never guesses: delete the twins, then `couplet errors retry`",
                cmd.mapping,
                cmd.natural_key.first().map(|k| k.1.as_str()).unwrap_or(""),
                cmd.source
            ),
        )),
    }
}

/// Creates the lines order `id` lacks (all of them when `made_now`). When a line fails on an
/// order made now, the order is deleted, so the retry creates it whole.
async fn add_missing_lines(
    target: &dyn Connector,
    bc: &BcClient,
    cmd: &WriteCommand,
    id: &str,
    made_now: bool,
    lines: &[Fields],
) -> Result<(), Outcome> {
    let lines_set = format!("{SET}({id})/salesOrderLines");
    let existing: Vec<i64> = if made_now {
        Vec::new()
    } else {
        match bc.query(&lines_set, "sequence gt 0").await {
            Ok(rows) => rows.iter().map(sequence).collect(),
            Err(e) => return Err(rejected(cmd, "the lookup of the order's lines", &e, None)),
        }
    };
    for line in lines.iter().filter(|l| !existing.contains(&sequence(l))) {
        if let Err(e) = target.create(&lines_set, &body(line)).await {
            let at = line
                .get("@couplet.line")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("line {}", sequence(line)));
            if made_now {
                // Leave no half order behind: the retry creates it whole.
                if let Err(d) = target.delete(SET, id).await {
                    tracing::warn!(order = %id, error = %d, "Could not delete the incomplete order; the retry finds and completes it.");
                }
            }
            return Err(rejected(cmd, &at, &e, None));
        }
    }
    Ok(())
}
