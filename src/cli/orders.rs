//! `couplet orders create-in-erp ORDER --config C`: creates one submitted Dataverse order in
//! the ERP now (the flow for `[orders] auto_create = false`). The order is marked as
//! requested in the checkpoints changelog and its change goes onto the changes topic as a
//! forced change, as `couplet sync-now` does, so the audit trail and the metrics record it.
//! Without a running instance the command runs the stages itself; with one on Kafka, that
//! instance does the work and the command waits for its outcome.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

use super::args::CreateInErpArgs;
use super::local;
use crate::config::Config;
use crate::event::{OutcomeStatus, RecordKey};
use crate::orders::on_demand::{find_submitted, mark_requested};
use crate::pipeline::engine::instance_id;
use crate::pipeline::state::StateLog;
use crate::pipeline::sync_now::{LocalStages, read_change, request, wait_outcomes};
use crate::systems::DataverseClient;

fn show(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// Runs `couplet orders create-in-erp`.
pub async fn create_in_erp(a: &CreateInErpArgs) -> anyhow::Result<bool> {
    let cfg = Config::load(&a.config)?;
    let catalogue = super::build::catalogue(&cfg)?;
    let Some(m) = catalogue
        .ordered()
        .iter()
        .find(|m| m.runs(crate::mapping::model::FlowKind::SalesOrder))
        .cloned()
    else {
        anyhow::bail!(
            "no mapping with flow = \"sales_order\" in this configuration; add SALESORDER to [sync] mappings"
        );
    };
    let opened = local::open(&cfg, "couplet orders create-in-erp").await?;
    let p = &opened.parts;
    let (Some(dv), Some(erp)) = (
        p.targets.crm.client::<DataverseClient>(),
        p.targets.erp.documents(),
    ) else {
        anyhow::bail!(
            "`couplet orders` works on Dataverse and an ERP with sales documents; {} has none",
            p.targets.erp.system()
        );
    };
    let row = find_submitted(dv, &a.order).await?;
    let Some(id) = row.get("salesorderid").and_then(Value::as_str) else {
        anyhow::bail!(
            "Dataverse returned the sales order '{}' without a salesorderid",
            a.order
        );
    };
    let number = show(row.get("ordernumber"));
    let key = RecordKey::new(
        crate::systems::DATAVERSE,
        m.crm_entity.clone(),
        id.to_string(),
    );
    let Some(ev) = read_change(p.targets.get(key.system), &m.name, &key)
        .await
        .with_context(|| format!("reading {key}"))?
    else {
        anyhow::bail!("{key} ({number}) no longer exists in Dataverse");
    };
    p.bus
        .ensure_topics(&crate::pipeline::captures::topic_specs(p))
        .await?;
    let state = StateLog::new(
        p.bus.clone(),
        p.topics.clone(),
        p.store.clone(),
        instance_id(&p.store)?,
    );
    mark_requested(&state, id).await?;
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let ids: HashSet<uuid::Uuid> = [ev.correlation_id].into();
    let timeout = Duration::from_secs(a.timeout_secs);
    let stages = match opened.local {
        true => Some(LocalStages::start(p).await?),
        false => None,
    };
    request(&p.bus, &p.topics, &ev).await?;
    let outcome = wait_outcomes(&p.bus, &p.topics, &ids, since, timeout).await;
    if let Some(stages) = stages {
        stages.stop(Duration::from_secs(10)).await?;
    }
    let outcome = outcome?;
    let Some(o) = outcome.get(&ev.correlation_id) else {
        anyhow::bail!(
            "no outcome for {key} ({number}) within {} s; is `couplet run` running? The request is on {}; `couplet audit {key}` shows what happens to it",
            a.timeout_secs,
            p.topics.changes
        );
    };
    let target = o
        .target_key()
        .map(|k| k.to_string())
        .unwrap_or_else(|| format!("{}/{}", o.target_system, o.target_entity));
    println!(
        "{}: {key} ({number}) -> {target}: {}{}",
        m.name,
        o.status.as_str(),
        o.reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    let done = matches!(
        o.status,
        OutcomeStatus::Created | OutcomeStatus::Coupled | OutcomeStatus::Unchanged
    );
    let (true, Some(erp_id)) = (done, o.target_id.as_deref()) else {
        return Ok(false);
    };
    let Some(rows) = erp.describe_order(erp_id).await? else {
        anyhow::bail!("{target} is not in {} any more", p.targets.erp.system());
    };
    for row in rows {
        println!("{row}");
    }
    Ok(true)
}
