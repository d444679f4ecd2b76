//! The parts of Business Central's quote writer that its revision shares: the lines of a
//! quote created one by one, and the outcome of a step Business Central rejects.

use serde_json::Value;

use super::sets::SALES_QUOTES as SET;
use crate::error::Classify;
use crate::event::{Fields, Outcome, WriteCommand};
use crate::systems::{BcClient, SystemError};

pub(super) const LINES: &str = super::sets::QUOTE_LINES;

pub(super) fn rejected(cmd: &WriteCommand, what: &str, e: &SystemError) -> Outcome {
    let fallback = e.to_string().contains("Customer").then_some("customerid");
    Outcome::failed_command(
        cmd,
        e.class(),
        e.actor().as_str(),
        e.field()
            .map(str::to_string)
            .or(fallback.map(str::to_string)),
        format!(
            "mapping {}: Business Central rejected {what} of {}: {e}; correct the cause, then `couplet errors retry`",
            cmd.mapping, cmd.source
        ),
    )
}

pub(super) fn sequence(f: &Fields) -> i64 {
    f.get("sequence").and_then(Value::as_f64).unwrap_or(0.0) as i64
}

pub(super) fn body(f: &Fields) -> Fields {
    f.iter()
        .filter(|(k, _)| !k.starts_with("@couplet."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(super) fn text<'a>(f: &'a Fields, k: &str) -> Option<&'a str> {
    f.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

pub(super) async fn add_lines(
    bc: &BcClient,
    cmd: &WriteCommand,
    id: &str,
    lines: &[Fields],
    skip: &[i64],
) -> Result<(), Outcome> {
    let set = format!("{SET}({id})/{LINES}");
    for line in lines.iter().filter(|l| !skip.contains(&sequence(l))) {
        if let Err(e) = bc.create(&set, &body(line)).await {
            let at = text(line, "@couplet.line")
                .map(str::to_string)
                .unwrap_or_else(|| format!("line {}", sequence(line)));
            return Err(rejected(cmd, &at, &e));
        }
    }
    Ok(())
}
