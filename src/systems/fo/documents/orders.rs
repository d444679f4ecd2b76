//! Creating the built order in F&O once. Neither API has an idempotency key, so an order not
//! coupled yet is first looked up by its natural key (`CustomersOrderReference`, the Sales
//! order number, within its legal entity): a retry after a crash between the create and the
//! coupling finds the order it made and adds only the lines it lacks, never a twin.

use serde_json::{Value, json};

use super::build::{BUILT_LINES, HEADERS, LINE_SET};
use crate::error::Classify;
use crate::event::{Fields, Outcome, OutcomeStatus, WriteCommand};
use crate::systems::error::SystemError;
use crate::systems::fo::FoClient;
use crate::systems::fo::system::{COMPANY, SYSTEM};
use crate::systems::written::Written;

fn rejected(cmd: &WriteCommand, what: &str, e: &SystemError) -> Outcome {
    Outcome::failed_command(
        cmd,
        e.class(),
        e.actor().as_str(),
        e.field().map(str::to_string),
        format!(
            "mapping {}: F&O rejected {what} of {}: {e}; correct the cause, then `couplet errors retry`",
            cmd.mapping, cmd.source
        ),
    )
}

fn text(f: &Fields, k: &str) -> String {
    f.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn line_number(f: &Fields) -> i64 {
    f.get("LineNumber").and_then(Value::as_f64).unwrap_or(0.0) as i64
}

/// Executes an order create command of an order not coupled yet (the sales-order flow checks
/// that, and counts the outcome). Every failure is an outcome.
pub async fn execute(client: &FoClient, cmd: &WriteCommand) -> Outcome {
    let (Ok(o) | Err(o)) = create_in_fo(client, cmd).await;
    o
}

async fn create_in_fo(client: &FoClient, cmd: &WriteCommand) -> Result<Outcome, Outcome> {
    let mut header = cmd.fields.clone();
    let lines: Vec<Fields> = match header.remove(BUILT_LINES) {
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|l| match l {
                Value::Object(o) => Some(o),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let (written, made_now) = find_or_create(client, cmd, &header).await?;
    let company = text(&written.fields, COMPANY);
    let number = text(&written.fields, "SalesOrderNumber");
    add_missing_lines(
        client,
        cmd,
        &written.id,
        &company,
        &number,
        made_now,
        &lines,
    )
    .await?;
    let mut o = Outcome::for_command(
        cmd,
        if made_now {
            OutcomeStatus::Created
        } else {
            OutcomeStatus::Coupled
        },
    );
    o.target_id = Some(written.id.clone());
    o.target_etag = written.etag;
    o.target_modified_on = written.modified_on;
    o.reason = (!made_now).then(|| {
        format!(
            "found {HEADERS}/{} by its customer reference (created by an earlier attempt); its missing lines were added and it is coupled",
            written.id
        )
    });
    o.latency_ms = cmd
        .source_modified_on
        .map(|t| (chrono::Utc::now() - t).num_milliseconds().max(0));
    Ok(o)
}

/// The order an earlier attempt created (by the natural key, in its legal entity), or the
/// order created now; true when created now.
async fn find_or_create(
    client: &FoClient,
    cmd: &WriteCommand,
    header: &Fields,
) -> Result<(Written, bool), Outcome> {
    let filter = cmd
        .natural_key
        .iter()
        .map(|(f, v)| format!("{f} eq {}", crate::systems::http::urls::odata_string(v)))
        .collect::<Vec<_>>()
        .join(" and ");
    let mut found = if filter.is_empty() {
        Vec::new()
    } else {
        client
            .query(HEADERS, &filter)
            .await
            .map_err(|e| rejected(cmd, "the lookup of the order", &e))?
    };
    match found.len() {
        0 => client
            .create(HEADERS, header)
            .await
            .map(|w| (w, true))
            .map_err(|e| rejected(cmd, "the order header", &e)),
        1 => {
            let f = found.remove(0);
            let Some(id) = SYSTEM.record_id(HEADERS, &f) else {
                return Err(Outcome::failed_command(
                    cmd,
                    "malformed",
                    "external",
                    None,
                    format!(
                        "mapping {}: F&O returned an order without its key for {}",
                        cmd.mapping, cmd.source
                    ),
                ));
            };
            tracing::info!(order = %id, "Found the F&O order an earlier attempt created; completing it.");
            Ok((
                Written {
                    id,
                    etag: SYSTEM.record_etag(&f),
                    modified_on: None,
                    fields: f,
                },
                false,
            ))
        }
        n => Err(Outcome::failed_command(
            cmd,
            "ambiguous",
            "user",
            Some(super::build::REFERENCE.to_string()),
            format!(
                "mapping {}: {n} F&O sales orders match {filter} ({}); Couplet never guesses: delete the twins, then `couplet errors retry`",
                cmd.mapping, cmd.source
            ),
        )),
    }
}

/// Creates the lines order `number` lacks (by line number; all of them when `made_now`). When
/// a line fails on an order made now, the order is deleted, so the retry creates it whole.
async fn add_missing_lines(
    client: &FoClient,
    cmd: &WriteCommand,
    id: &str,
    company: &str,
    number: &str,
    made_now: bool,
    lines: &[Fields],
) -> Result<(), Outcome> {
    let lit = crate::systems::http::urls::odata_string;
    let existing: Vec<i64> = if made_now {
        Vec::new()
    } else {
        client
            .query(
                LINE_SET,
                &format!(
                    "SalesOrderNumber eq {} and {COMPANY} eq {}",
                    lit(number),
                    lit(company)
                ),
            )
            .await
            .map_err(|e| rejected(cmd, "the lookup of the order's lines", &e))?
            .iter()
            .map(line_number)
            .collect()
    };
    for line in lines.iter().filter(|l| !existing.contains(&line_number(l))) {
        let mut body: Fields = line
            .iter()
            .filter(|(k, _)| !k.starts_with("@couplet."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        body.insert(COMPANY.into(), json!(company));
        body.insert("SalesOrderNumber".into(), json!(number));
        if let Err(e) = client.create(LINE_SET, &body).await {
            let at = text(line, "@couplet.line");
            if made_now && let Err(d) = client.delete(HEADERS, id, "*").await {
                tracing::warn!(order = %id, error = %d, "Could not delete the incomplete order; the retry finds and completes it.");
            }
            return Err(rejected(cmd, &at, &e));
        }
    }
    Ok(())
}
