//! Writing a quote command to Business Central, idempotently:
//! - `create`: the quote is first looked up by its key (`yourReference` = the Dataverse
//!   quotenumber), so a retry after a crash finds the quote it made and completes its missing
//!   lines instead of making a twin; a line Business Central rejects deletes the new header;
//! - `revise`: the coupled predecessor's Business Central quote is archived (its current
//!   version with its lines), reopened if released, its lines deleted, its header updated and
//!   the new lines created; the outcome re-couples it to the new quote id;
//! - `existing`: the quote is in Business Central already.
//!
//! Then, for a Won quote: `link` sets the order's Quote No. and archives the quote when the
//! order exists in Business Central already (otherwise its creation does it), `release`
//! releases the quote (no order to follow).

use serde_json::Value;
#[cfg(test)]
use serde_json::json;
use tracing::Instrument;

use super::quote_lines::{LINES, add_lines, rejected, sequence, text};
use super::quote_link::{BcQuote, link_existing_order};
use super::sets::SALES_QUOTES as SET;
use crate::event::{Fields, Outcome, OutcomeStatus, WriteCommand};
use crate::metrics::metrics;
use crate::quotes::CONTROL;
use crate::systems::connector::Connector;
use crate::systems::{BcClient, Written};

/// Executes a quote command: the outcome says what was written, or why not.
pub async fn execute(target: &dyn Connector, cmd: &WriteCommand) -> Outcome {
    let mode = cmd
        .fields
        .get(CONTROL)
        .and_then(|c| c.get("mode"))
        .and_then(Value::as_str)
        .unwrap_or("create")
        .to_string();
    let span =
        tracing::info_span!("quote", record = %cmd.source, mapping = %cmd.mapping, mode = %mode);
    let outcome = match target.as_any().downcast_ref::<BcClient>() {
        Some(bc) => write(bc, cmd, &mode).instrument(span).await,
        None => Outcome::failed_command(
            cmd,
            "unsupported_target",
            "user",
            None,
            format!(
                "mapping {}: sales quotes are sent to Business Central only",
                cmd.mapping
            ),
        ),
    };
    let stage = match mode.as_str() {
        "revise" => "quote_revise",
        "existing" => "quote_won",
        _ => "quote_create",
    };
    metrics()
        .records
        .with_label_values(&[&cmd.mapping, stage, outcome.status.as_str()])
        .inc();
    outcome
}

fn lines_of(fields: &mut Fields) -> Vec<Fields> {
    match fields.remove(LINES) {
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|l| match l {
                Value::Object(o) => Some(o),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

async fn write(bc: &BcClient, cmd: &WriteCommand, mode: &str) -> Outcome {
    let mut header = cmd.fields.clone();
    let control = header.remove(CONTROL).unwrap_or(Value::Null);
    let lines = lines_of(&mut header);
    let discount = header.remove("discountAmount");
    if let Err(e) = super::opportunity_link::resolve(bc, &mut header).await {
        return rejected(cmd, "the lookup of the quote's opportunity", &e);
    }
    let (id, mut written, created, reason) = match mode {
        "create" => match create(bc, cmd, &header, &lines).await {
            Ok(r) => r,
            Err(o) => return o,
        },
        "revise" => {
            let Some(id) = cmd.target_id.clone() else {
                return Outcome::failed_command(
                    cmd,
                    "malformed",
                    "internal",
                    None,
                    format!("{}: a revision without the quote to revise", cmd.source),
                );
            };
            match super::quote_revise::revise(bc, cmd, &id, &header, &lines).await {
                Ok(w) => {
                    let of = control
                        .get("revise_of")
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    let r = format!(
                        "revision of dataverse/quotes/{of}: the previous version of salesQuotes/{id} was archived, the quote rebuilt and coupled to this revision"
                    );
                    (id, Some(w), false, Some(r))
                }
                Err(o) => return o,
            }
        }
        _ => match cmd.target_id.clone() {
            Some(id) => (id, None, false, None),
            None => {
                return Outcome::failed_command(
                    cmd,
                    "malformed",
                    "internal",
                    None,
                    format!("{}: no Business Central quote to process", cmd.source),
                );
            }
        },
    };
    if mode != "existing"
        && let Some(d) = discount
    {
        let mut patch = Fields::new();
        patch.insert("discountAmount".into(), d);
        match bc.update(SET, &id, &patch, "*").await {
            Ok(w) => written = Some(w),
            Err(e) => return rejected(cmd, "the quote discount", &e),
        }
    }
    let mut reasons: Vec<String> = reason.into_iter().collect();
    if let Some(won) = control.get("won").filter(|w| w.is_object()) {
        match won_step(bc, cmd, &id, won).await {
            Ok(Some(w)) => {
                reasons.push(w.0);
                if w.1.is_some() {
                    written = w.1;
                }
            }
            Ok(None) => {}
            Err(o) => return o,
        }
    }
    let mut o = Outcome::for_command(
        cmd,
        if created {
            OutcomeStatus::Created
        } else {
            OutcomeStatus::Updated
        },
    );
    o.target_id = Some(id);
    if let Some(w) = written {
        o.target_etag = w.etag;
        o.target_modified_on = w.modified_on;
    }
    o.reason = (!reasons.is_empty()).then(|| reasons.join("; "));
    o.latency_ms = cmd
        .source_modified_on
        .map(|t| (chrono::Utc::now() - t).num_milliseconds().max(0));
    o
}

type Made = (String, Option<Written>, bool, Option<String>);

/// Creates the quote, or completes the one an earlier attempt made (found by Your Reference).
async fn create(
    bc: &BcClient,
    cmd: &WriteCommand,
    header: &Fields,
    lines: &[Fields],
) -> Result<Made, Outcome> {
    let mut found = Vec::new();
    if let Some((field, value)) = cmd.natural_key.first() {
        let filter = format!("{field} eq '{}'", value.replace('\'', "''"));
        found = bc
            .query(SET, &filter)
            .await
            .map_err(|e| rejected(cmd, "the lookup of the quote", &e))?;
    }
    match found.len() {
        0 => {
            let w = bc
                .create(SET, header)
                .await
                .map_err(|e| rejected(cmd, "the quote header", &e))?;
            if let Err(o) = add_lines(bc, cmd, &w.id, lines, &[]).await {
                // Leave no half quote behind: the retry creates it whole.
                if let Err(d) = bc.delete(SET, &w.id, "*").await {
                    tracing::warn!(quote = %w.id, error = %d, "Could not delete the incomplete quote; the retry finds and completes it.");
                }
                return Err(o);
            }
            Ok((w.id.clone(), Some(w), true, None))
        }
        1 => {
            let f = found.remove(0);
            let Some(w) = Written::from_fields(f, "id", "lastModifiedDateTime") else {
                return Err(Outcome::failed_command(
                    cmd,
                    "malformed",
                    "external",
                    None,
                    format!(
                        "mapping {}: Business Central returned a quote without an id for {}",
                        cmd.mapping, cmd.source
                    ),
                ));
            };
            let existing: Vec<i64> = bc
                .query(&format!("{SET}({})/{LINES}", w.id), "sequence gt 0")
                .await
                .map_err(|e| rejected(cmd, "the lookup of the quote's lines", &e))?
                .iter()
                .map(sequence)
                .collect();
            add_lines(bc, cmd, &w.id, lines, &existing).await?;
            tracing::info!(quote = %w.id, "Found the Business Central quote an earlier attempt created; completed it.");
            let r = format!(
                "found salesQuotes/{} by yourReference (created by an earlier attempt); its missing lines were added and it is coupled",
                w.id
            );
            Ok((w.id.clone(), Some(w), false, Some(r)))
        }
        n => Err(Outcome::failed_command(
            cmd,
            "ambiguous",
            "user",
            Some("quotenumber".into()),
            format!(
                "mapping {}: {n} Business Central sales quotes have yourReference = '{}' ({}); Couplet never guesses: delete the twins, then `couplet errors retry`",
                cmd.mapping,
                cmd.natural_key.first().map(|k| k.1.as_str()).unwrap_or(""),
                cmd.source
            ),
        )),
    }
}

/// The step after a quote is won: link its order, or release the quote.
async fn won_step(
    bc: &BcClient,
    cmd: &WriteCommand,
    id: &str,
    won: &Value,
) -> Result<Option<(String, Option<Written>)>, Outcome> {
    let action = won.get("action").and_then(Value::as_str).unwrap_or("");
    if action == "release" {
        bc.action(SET, id, "release")
            .await
            .map_err(|e| rejected(cmd, "the release of the won quote", &e))?;
        let w = bc
            .get(SET, id)
            .await
            .ok()
            .flatten()
            .and_then(|f| Written::from_fields(f, "id", "lastModifiedDateTime"));
        return Ok(Some((
            "won without an order to follow: the quote is released".into(),
            w,
        )));
    }
    // The order is submitted: find it in Business Central (its coupling, else its key).
    let mut order = won
        .get("order_erp")
        .and_then(Value::as_str)
        .map(str::to_string);
    if order.is_none()
        && let Some(n) = won.get("ordernumber").and_then(Value::as_str)
    {
        let filter = format!("yourReference eq '{}'", n.replace('\'', "''"));
        let rows = bc
            .query("salesOrders", &filter)
            .await
            .map_err(|e| rejected(cmd, "the lookup of the quote's order", &e))?;
        if rows.len() == 1 {
            order = text(&rows[0], "id").map(str::to_string);
        }
    }
    let Some(order) = order else {
        return Ok(Some((
            "won; its submitted order is not in Business Central yet: the order's creation sets Quote No. and archives the quote".into(),
            None,
        )));
    };
    let quote = bc
        .get(SET, id)
        .await
        .map_err(|e| rejected(cmd, "the lookup of the won quote", &e))?
        .and_then(|f| text(&f, "number").map(str::to_string))
        .map(|number| BcQuote {
            id: id.to_string(),
            number,
        });
    let Some(quote) = quote else {
        return Err(Outcome::failed_command(
            cmd,
            "deletion_conflict",
            "user",
            None,
            format!(
                "mapping {}: the Business Central quote salesQuotes/{id} of {} no longer exists",
                cmd.mapping, cmd.source
            ),
        ));
    };
    let linked = link_existing_order(bc, &order, &quote)
        .await
        .map_err(|e| rejected(cmd, "the link of the quote's order", &e))?;
    Ok(Some((
        if linked {
            format!(
                "won: salesOrders/{order} gets Quote No. {} and the quote is archived",
                quote.number
            )
        } else {
            format!(
                "won: salesOrders/{order} has Quote No. {} already",
                quote.number
            )
        },
        None,
    )))
}

#[cfg(test)]
mod tests {
    use super::super::quote_lines::body;
    use super::*;

    #[test]
    fn lines_and_bodies_drop_the_control_keys() {
        let mut f = Fields::new();
        f.insert(
            LINES.into(),
            json!([{"sequence": 10000, "@couplet.line": "x", "quantity": 1}, 3]),
        );
        let lines = lines_of(&mut f);
        assert_eq!(lines.len(), 1);
        assert!(!f.contains_key(LINES));
        let b = body(&lines[0]);
        assert!(!b.contains_key("@couplet.line"));
        assert_eq!(sequence(&b), 10000);
    }
}
