//! Revising a Business Central quote from a new Dataverse revision (§6.3: "The existing BC
//! quote is archived first, its lines are deleted, it is reopened, and it is rebuilt"):
//! - the quote's current version is archived, unless the latest archived version already
//!   holds exactly its header and lines (a retry after a crash or a rejected line archives
//!   nothing twice);
//! - a Released quote is reopened;
//! - the lines are replaced, then the header is updated. A line Business Central rejects puts
//!   the previous lines back (the quote stays as archived, its header untouched), so the retry
//!   after the fix starts from the same state.

use serde_json::Value;

use super::quote_lines::{LINES, add_lines, rejected, sequence, text};
use super::sets::SALES_QUOTES as SET;
use crate::event::{Fields, Outcome, WriteCommand};
use crate::systems::{BcClient, SystemError, Written};

/// What identifies a line's content, in sequence order.
fn signature(lines: &[Fields]) -> Vec<(i64, String, String, String, String)> {
    let s = |l: &Fields, k: &str| match l.get(k) {
        Some(Value::Number(n)) => n.as_f64().map(|f| f.to_string()).unwrap_or_default(),
        Some(Value::String(t)) => t.clone(),
        _ => String::new(),
    };
    let mut v: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                sequence(l),
                s(l, "lineType"),
                s(l, "lineObjectNumber"),
                s(l, "quantity"),
                s(l, "unitPrice"),
            )
        })
        .collect();
    v.sort();
    v
}

/// The header fields an archived version keeps, compared with the quote's.
const ARCHIVED_HEADER: &[&str] = &[
    "customerNumber",
    "externalDocumentNumber",
    "yourReference",
    "validUntilDate",
];

fn same_header(archive: &Fields, quote: &Fields) -> bool {
    ARCHIVED_HEADER
        .iter()
        .all(|k| text(archive, k).unwrap_or("") == text(quote, k).unwrap_or(""))
}

/// The latest archived version of `id` (its header and lines), if it has one.
async fn latest_archive(
    bc: &BcClient,
    id: &str,
) -> Result<Option<(Fields, Vec<Fields>)>, SystemError> {
    let archives = bc
        .query("salesQuoteArchives", &format!("quoteId eq {id}"))
        .await?;
    let latest = archives.iter().max_by(|a, b| {
        let v = |f: &Fields| {
            f.get("versionNumber")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
        };
        v(a).total_cmp(&v(b))
    });
    let Some((header, archive)) = latest.and_then(|a| text(a, "id").map(|id| (a, id))) else {
        return Ok(None);
    };
    let lines = bc
        .query("salesQuoteArchiveLines", &format!("archiveId eq {archive}"))
        .await?;
    Ok(Some((header.clone(), lines)))
}

/// Archives the current version of quote `id` (header `quote`, lines `current`; read here
/// when not given), unless the latest archived version holds exactly this header and these
/// lines: a retry after a crash archives nothing twice. Returns true when it archived now.
pub async fn archive_current(
    bc: &BcClient,
    id: &str,
    current: Option<(&Fields, &[Fields])>,
) -> Result<bool, SystemError> {
    let read;
    let (quote, lines) = match current {
        Some(c) => c,
        None => {
            let quote = bc.get(SET, id).await?.unwrap_or_default();
            let lines = bc
                .query(&format!("{SET}({id})/{LINES}"), "sequence gt 0")
                .await?;
            read = (quote, lines);
            (&read.0, read.1.as_slice())
        }
    };
    let archived = latest_archive(bc, id).await?;
    if archived.is_some_and(|(h, a)| same_header(&h, quote) && signature(&a) == signature(lines)) {
        tracing::info!(quote = %id, "The quote's current version is archived already; not archiving it again.");
        return Ok(false);
    }
    bc.action(SET, id, "archive").await?;
    Ok(true)
}

async fn delete_lines(bc: &BcClient, lines: &[Fields]) -> Result<(), SystemError> {
    for l in lines {
        if let Some(line) = text(l, "id") {
            bc.delete(LINES, line, "*").await?;
        }
    }
    Ok(())
}

/// Archives quote `id` (when needed), reopens it, replaces its lines and updates its header.
pub async fn revise(
    bc: &BcClient,
    cmd: &WriteCommand,
    id: &str,
    header: &Fields,
    lines: &[Fields],
) -> Result<Written, Outcome> {
    let current = bc
        .get(SET, id)
        .await
        .map_err(|e| rejected(cmd, "the lookup of the quote to revise", &e))?
        .ok_or_else(|| {
            Outcome::failed_command(
                cmd,
                "deletion_conflict",
                "user",
                None,
                format!(
                    "mapping {}: {} revises salesQuotes/{id}, which no longer exists in Business Central; uncouple the previous revision (`couplet uncouple`), then `couplet errors retry` creates it anew",
                    cmd.mapping, cmd.source
                ),
            )
        })?;
    let lines_set = format!("{SET}({id})/{LINES}");
    let old = bc
        .query(&lines_set, "sequence gt 0")
        .await
        .map_err(|e| rejected(cmd, "the lookup of the quote's lines", &e))?;
    archive_current(bc, id, Some((&current, &old)))
        .await
        .map_err(|e| rejected(cmd, "the archiving of the quote's previous version", &e))?;
    if text(&current, "documentStatus") == Some("Released") {
        bc.action(SET, id, "reopen")
            .await
            .map_err(|e| rejected(cmd, "the reopening of the quote", &e))?;
    }
    delete_lines(bc, &old)
        .await
        .map_err(|e| rejected(cmd, "the deletion of the quote's previous lines", &e))?;
    if let Err(o) = add_lines(bc, cmd, id, lines, &[]).await {
        // Put the previous version back: the retry starts from the archived state.
        let restored = async {
            let written = bc.query(&lines_set, "sequence gt 0").await?;
            delete_lines(bc, &written).await?;
            for l in &old {
                bc.create(&lines_set, l).await?;
            }
            Ok::<(), SystemError>(())
        }
        .await;
        if let Err(e) = restored {
            tracing::warn!(quote = %id, error = %e, "Could not put the quote's previous lines back; the retry rebuilds it.");
        }
        return Err(o);
    }
    bc.update(SET, id, header, "*")
        .await
        .map_err(|e| rejected(cmd, "the quote header", &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signatures_compare_line_content_in_sequence_order() {
        let a = json!({"sequence": 20000, "lineType": "Item", "lineObjectNumber": "I1", "quantity": 2, "unitPrice": 5.0});
        let b = json!({"sequence": 10000, "lineType": "Item", "lineObjectNumber": "I2", "quantity": 1, "unitPrice": 3});
        let x: Vec<Fields> = [a.clone(), b.clone()]
            .iter()
            .map(|v| v.as_object().unwrap().clone())
            .collect();
        let y: Vec<Fields> = [b, a]
            .iter()
            .map(|v| v.as_object().unwrap().clone())
            .collect();
        assert_eq!(signature(&x), signature(&y));
        let mut z = y.clone();
        z[0].insert("quantity".into(), json!(4));
        assert_ne!(signature(&x), signature(&z));
    }
}
