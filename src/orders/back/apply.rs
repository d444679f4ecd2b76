//! Bringing the Dataverse order in step with its Business Central order, idempotently: the
//! order is read first, and only what differs is written. Header values go in while the order
//! is Active (Dataverse edits only Active orders: a Submitted or Fulfilled order is set Active,
//! edited, and set to its state again, as Business Central does); a post is created only when
//! the order's timeline does not carry its text yet (the text names the BC document number, so
//! a replay or a retry never posts twice); the state is set last.

use serde_json::{Value, json};
use tracing::Instrument;

use super::{ACCOUNT_POSTS, POSTS, STAGE};
use crate::error::Classify;
use crate::event::types::{OutcomeError, now_millis};
use crate::event::{Fields, Outcome, OutcomeStatus, WriteCommand};
use crate::metrics::metrics;
use crate::systems::{DataverseClient, SystemError, Target};

const SET: &str = "salesorders";
/// Header columns Couplet writes (the rest of the command is posts and state).
const HEADER: &[&str] = &[
    "datefulfilled",
    "requestdeliveryby",
    "totalamountlessfreight",
    "totalamount",
];

fn failed(cmd: &WriteCommand, e: &SystemError, what: &str) -> Outcome {
    let mut o = Outcome::for_command(cmd, OutcomeStatus::Failed);
    o.error = Some(OutcomeError {
        class: e.class().to_string(),
        actor: e.actor().as_str().to_string(),
        field: e.field().map(str::to_string),
    });
    o.reason = Some(format!(
        "mapping {}: Dataverse rejected {what} of salesorders/{} (from {}): {e}; correct the cause, then `couplet errors retry`",
        cmd.mapping,
        cmd.target_id.as_deref().unwrap_or("?"),
        cmd.source
    ));
    o.at = now_millis();
    o
}

/// True when the Dataverse value `a` equals the wanted `b` (amounts to the cent, dates by day).
fn same(a: Option<&Value>, b: &Value) -> bool {
    let a = a.unwrap_or(&Value::Null);
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap_or(f64::NAN) - y.as_f64().unwrap_or(f64::NAN)).abs() < 0.005
        }
        (Value::String(x), Value::String(y)) => x.get(..10).unwrap_or(x) == y.as_str(),
        _ => a == b,
    }
}

fn state_of(f: &Fields) -> (i64, i64) {
    let n = |k: &str| f.get(k).and_then(Value::as_i64).unwrap_or(0);
    (n("statecode"), n("statuscode"))
}

/// Executes an order-status command against Dataverse. Only a broken projection is an error.
pub async fn execute(
    target: &Target,
    cmd: &WriteCommand,
) -> Result<Outcome, crate::store::StoreError> {
    let span = tracing::info_span!("order_status", record = %cmd.source, order = cmd.target_id.as_deref().unwrap_or(""));
    let outcome = match target.client::<crate::systems::DataverseClient>() {
        Some(dv) => write(dv, cmd).instrument(span).await,
        None => {
            let mut o = Outcome::for_command(cmd, OutcomeStatus::Failed);
            o.reason = Some(format!(
                "mapping {}: order status flows to Dataverse only",
                cmd.mapping
            ));
            o.error = Some(OutcomeError {
                class: "unsupported_target".into(),
                actor: "user".into(),
                field: None,
            });
            o
        }
    };
    metrics()
        .records
        .with_label_values(&[&cmd.mapping, STAGE, outcome.status.as_str()])
        .inc();
    Ok(outcome)
}

async fn write(dv: &DataverseClient, cmd: &WriteCommand) -> Outcome {
    let Some(id) = cmd.target_id.clone() else {
        let mut o = Outcome::for_command(cmd, OutcomeStatus::Failed);
        o.error = Some(OutcomeError {
            class: "malformed".into(),
            actor: "internal".into(),
            field: None,
        });
        o.reason = Some(format!(
            "mapping {}: the command for {} names no Dataverse order",
            cmd.mapping, cmd.source
        ));
        return o;
    };
    let mut select: Vec<&str> = HEADER.to_vec();
    select.extend(["statecode", "statuscode", "_customerid_value"]);
    let current = match dv.get(SET, &id, &select).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            let mut o = Outcome::for_command(cmd, OutcomeStatus::Failed);
            o.error = Some(OutcomeError {
                class: "not_found".into(),
                actor: "user".into(),
                field: None,
            });
            o.reason = Some(format!(
                "mapping {}: the Dataverse order salesorders/{id} coupled to {} no longer exists; `couplet uncouple {} --crm-id {id}` removes the coupling",
                cmd.mapping, cmd.source, cmd.mapping
            ));
            return o;
        }
        Err(e) => return failed(cmd, &e, "the read"),
    };
    let mut done: Vec<String> = Vec::new();
    let mut last = None;
    let mut state = state_of(&current);
    let want = state_of(&cmd.fields);

    // 1. Header values that differ, with the order Active meanwhile.
    let mut header = Fields::new();
    for k in HEADER {
        if let Some(v) = cmd.fields.get(*k)
            && !same(current.get(*k), v)
        {
            header.insert((*k).to_string(), v.clone());
        }
    }
    if !header.is_empty() {
        let before = state;
        if state.0 != 0 {
            let active = json!({"statecode": 0, "statuscode": 2});
            match dv.update(SET, &id, &as_fields(active), None).await {
                Ok(_) => state = (0, 2),
                Err(e) => return failed(cmd, &e, "setting Active (to edit)"),
            }
        }
        match dv.update(SET, &id, &header, None).await {
            Ok(w) => last = Some(w),
            Err(e) => {
                if before != state {
                    // Leave the order in the state it had; the retry edits it again.
                    let back = json!({"statecode": before.0, "statuscode": before.1});
                    if let Err(r) = dv.update(SET, &id, &as_fields(back), None).await {
                        tracing::warn!(error = %r, "Could not set the order back to its state; the retry sets it.");
                    }
                }
                return failed(cmd, &e, "the header values");
            }
        }
        done.push(header.keys().cloned().collect::<Vec<_>>().join(", "));
    }

    // 2. Posts not on the order's timeline yet, then the account's wall ("Order … has been
    // posted in Business Central", once per posted invoice).
    let wanted = strings(cmd.fields.get(POSTS));
    match super::posts::ensure(dv, super::posts::ORDER_WALL, &id, &wanted, &cmd.mapping).await {
        Ok(0) => {}
        Ok(n) => done.push(format!("{n} post(s)")),
        Err(e) => return failed(cmd, &e, "a post on the order's timeline"),
    }
    let on_account = strings(cmd.fields.get(ACCOUNT_POSTS));
    if !on_account.is_empty() {
        let account = match super::posts::account_of(dv, &current).await {
            Ok(a) => a,
            Err(e) => return failed(cmd, &e, "the read of the order's account"),
        };
        if let Some(account) = account {
            match super::posts::ensure(
                dv,
                super::posts::ACCOUNT_WALL,
                &account,
                &on_account,
                &cmd.mapping,
            )
            .await
            {
                Ok(0) => {}
                Ok(n) => done.push(format!("{n} post(s) on the account")),
                Err(e) => return failed(cmd, &e, "a post on the account's wall"),
            }
        }
    }

    // 3. The state (an Invoiced order stays Invoiced).
    if want.0 != 0 && state != want && state.0 != 4 {
        let body = as_fields(json!({"statecode": want.0, "statuscode": want.1}));
        match dv.update(SET, &id, &body, None).await {
            Ok(w) => last = Some(w),
            Err(e) => return failed(cmd, &e, "the state"),
        }
        done.push(format!("state {}/{}", want.0, want.1));
    }

    let mut o = Outcome::for_command(
        cmd,
        if done.is_empty() {
            OutcomeStatus::Unchanged
        } else {
            OutcomeStatus::Updated
        },
    );
    o.reason = Some(if done.is_empty() {
        "the Dataverse order already carries these values, posts and state".into()
    } else {
        format!("written: {}", done.join("; "))
    });
    if let Some(w) = last {
        o.target_etag = w.etag;
        o.target_modified_on = w.modified_on;
    }
    o.latency_ms = cmd
        .source_modified_on
        .map(|t| (chrono::Utc::now() - t).num_milliseconds().max(0));
    o.at = now_millis();
    o
}

/// The texts of a command field holding a list of posts.
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn as_fields(v: Value) -> Fields {
    match v {
        Value::Object(m) => m,
        _ => Fields::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_by_cent_and_day() {
        assert!(!same(None, &json!(40.0)));
        assert!(!same(Some(&Value::Null), &json!("2026-12-02")));
        assert!(same(Some(&json!(40)), &json!(40.001)));
        assert!(same(
            Some(&json!("2026-12-02T00:00:00Z")),
            &json!("2026-12-02")
        ));
        assert!(!same(Some(&json!(39.0)), &json!(40.0)));
    }
}
