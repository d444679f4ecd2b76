//! Dataverse change tracking (`Prefer: odata.track-changes`): the initial full read, delta
//! reads from a `$deltatoken`, `$deletedEntity` entries, paging that pins the version range,
//! and expired tokens.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::query::{Cookie, MAX_PAGE, Opts, Req, TrackPos, link, page_response};
use super::{DvError, shape};

/// The error for a token from before `expire_change_tracking` (or an unreadable one).
pub(crate) fn expired() -> DvError {
    DvError::new(
        StatusCode::BAD_REQUEST,
        "0x80044352",
        "Version stamp associated with the client has expired. Please perform a full sync.",
    )
}

/// `<version>!<epoch>!<MM/dd/yyyy HH:mm:ss>`, like the real `919042!08/22/2017 08:10:44`.
fn token(version: u64, epoch: u64) -> String {
    format!(
        "{version}!{epoch}!{}",
        chrono::Utc::now().format("%m/%d/%Y %H:%M:%S")
    )
}

fn parse_token(t: &str) -> Option<(u64, u64)> {
    let mut parts = t.split('!');
    let v = parts.next()?.parse().ok()?;
    let e = parts.next()?.parse().ok()?;
    Some((v, e))
}

/// A tracked GET: initial full read or delta, one page.
pub(crate) fn read(req: &Req<'_>, opts: &Opts) -> Result<Response, DvError> {
    if let Some(opt) = opts.rejected_with_tracking {
        return Err(DvError::bad_query(format!(
            "The \"${opt}\" query parameter isn't supported when Change Tracking is enabled."
        )));
    }
    let annotations = super::annotations::Annotations::of(&req.prefer);
    let store = req.shared.dv.store.lock();
    let pos = match (&opts.cookie, &opts.deltatoken) {
        (Some(Cookie { track: Some(p), .. }), _) => p.clone(),
        (_, Some(t)) => {
            let (after, epoch) = parse_token(t).ok_or_else(expired)?;
            if epoch != store.epoch || after > store.version {
                return Err(expired());
            }
            TrackPos {
                after,
                upto: store.version,
                epoch,
                delta: true,
                in_deletes: false,
                last_version: 0,
                last_id: String::new(),
            }
        }
        _ => TrackPos {
            after: 0,
            upto: store.version,
            epoch: store.epoch,
            delta: false,
            in_deletes: false,
            last_version: 0,
            last_id: String::new(),
        },
    };
    if pos.epoch != store.epoch {
        return Err(expired());
    }
    let size = req
        .prefer
        .maxpagesize
        .map(|n| n.clamp(1, MAX_PAGE))
        .unwrap_or(MAX_PAGE);
    let base = req.shared.dv_api_base();
    let set = req.def.set;
    let mut value = Vec::new();
    let mut last: Option<(bool, u64, String)> = None;
    let mut more = false;
    if let Some(table) = store.table(set) {
        let changes = table.changes(pos.after, pos.upto);
        let cursor = (pos.last_version, pos.last_id.as_str());
        if !pos.in_deletes {
            for (id, row) in changes
                .upserts
                .iter()
                .filter(|(id, r)| (r.version, *id) > cursor)
            {
                if value.len() == size {
                    more = true;
                    break;
                }
                value.push(Value::Object(shape(
                    req.def,
                    row,
                    opts.select.as_deref(),
                    &annotations,
                )));
                last = Some((false, row.version, id.to_string()));
            }
        }
        if pos.delta && !more {
            let cursor = if pos.in_deletes { cursor } else { (0, "") };
            for (id, version) in changes.deletes.iter().filter(|(id, v)| (*v, *id) > cursor) {
                if value.len() == size {
                    more = true;
                    break;
                }
                value.push(json!({
                    "@odata.context": format!("{base}$metadata#{set}/$deletedEntity"),
                    "id": id,
                    "reason": "deleted",
                }));
                last = Some((true, *version, id.to_string()));
            }
        }
    }
    let page = opts.cookie.as_ref().map(|c| c.page).unwrap_or(1);
    let (next, delta_link) = if more {
        let (in_deletes, last_version, last_id) = last.unwrap_or_default();
        let cookie = Cookie {
            page: page + 1,
            offset: 0,
            track: Some(TrackPos {
                in_deletes,
                last_version,
                last_id,
                ..pos.clone()
            }),
        };
        (
            Some(link(
                req,
                &["$select"],
                &format!("$skiptoken={}", cookie.encode()),
            )),
            None,
        )
    } else {
        let t = urlencoding::encode(&token(pos.upto, pos.epoch)).into_owned();
        (
            None,
            Some(link(req, &["$select"], &format!("$deltatoken={t}"))),
        )
    };
    let mut context = format!("{base}$metadata#{}", opts.context_set(req.def));
    if pos.delta {
        context.push_str("/$delta");
    }
    drop(store);
    let mut applied = vec!["odata.track-changes".to_string()];
    if let Some(n) = req.prefer.maxpagesize {
        applied.push(format!("odata.maxpagesize={}", n.clamp(1, MAX_PAGE)));
    }
    Ok(page_response(
        req, context, value, next, delta_link, applied,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let t = token(42, 3);
        assert_eq!(parse_token(&t), Some((42, 3)));
        assert_eq!(parse_token("junk"), None);
        assert_eq!(expired().code, "0x80044352");
    }
}
