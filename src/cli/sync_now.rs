//! `couplet sync-now MAPPING RECORD --direction to-crm|to-erp`: reads the source record fresh
//! and puts it on the changes topic marked as forced; the transform and apply stages write it
//! to the coupled record (or create and couple one, through the natural key) whatever was
//! synchronised before. Without a running instance the command runs those stages itself;
//! with one on Kafka, that instance does the work and the command waits for its outcome.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context as _;

use super::args::SyncNowArgs;
use super::local;
use crate::config::Config;
use crate::event::{OutcomeStatus, RecordKey, System};
use crate::pipeline::sync_now::{LocalStages, read_change, request, wait_outcomes};
use crate::store::Store;

/// Works out the source record from `RECORD`: a key or an id of the source side, or a key or
/// id of the target side that is coupled.
fn source_key(
    m: &crate::mapping::TableMapping,
    source: System,
    record: &str,
    store: &Store,
) -> anyhow::Result<RecordKey> {
    let target = m.pair.other(source);
    let (system, id) = if record.contains('/') {
        let k: RecordKey = record.parse().map_err(|e: String| anyhow::anyhow!(e))?;
        if k.entity != m.entity(k.system) {
            anyhow::bail!(
                "{k} is not a record of mapping {} ({} / {})",
                m.name,
                m.crm_entity,
                m.erp_entity
            );
        }
        (Some(k.system), k.id)
    } else {
        (None, record.to_string())
    };
    if system != Some(source)
        && let Some(c) = store.coupling(&m.name, target, &id)?
    {
        return Ok(RecordKey::new(
            source,
            m.entity(source).to_string(),
            c.id_on(source),
        ));
    }
    if system == Some(target) {
        anyhow::bail!(
            "{record} is on the target side and no coupling resolves it here; pass the {} record's id",
            source
        );
    }
    Ok(RecordKey::new(source, m.entity(source).to_string(), id))
}

/// Runs `couplet sync-now`.
pub async fn run(a: &SyncNowArgs) -> anyhow::Result<bool> {
    let cfg = Config::load(&a.config)?;
    let catalogue = super::build::catalogue(&cfg)?;
    let Some(m) = catalogue.get(&a.mapping).cloned() else {
        let known: Vec<&str> = catalogue
            .ordered()
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        anyhow::bail!(
            "no mapping named {} in this configuration; known mappings: {}",
            a.mapping,
            known.join(", ")
        );
    };
    let source = if a.direction == "to-crm" {
        m.system(crate::event::Side::Erp)
    } else {
        m.system(crate::event::Side::Crm)
    };
    if !m.direction.allows_from(source) {
        anyhow::bail!(
            "mapping {} runs {}: it never writes from {source}, so --direction {} cannot be synchronised",
            m.name,
            m.direction.as_str(),
            a.direction
        );
    }
    let opened = local::open(&cfg, "couplet sync-now").await?;
    let p = &opened.parts;
    let key = source_key(&m, source, &a.record, &p.store)?;
    let Some(ev) = read_change(p.targets.get(key.system), &m.name, &key)
        .await
        .with_context(|| format!("reading {key}"))?
    else {
        anyhow::bail!("{key} does not exist in {source}; nothing to synchronise");
    };
    let topics = &p.topics;
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let ids: HashSet<uuid::Uuid> = [ev.correlation_id].into();
    let timeout = Duration::from_secs(a.timeout_secs);
    // Without a running instance, this command runs the stages for the forced change.
    let stages = match opened.local {
        true => Some(LocalStages::start(p).await?),
        false => None,
    };
    request(&p.bus, topics, &ev).await?;
    let outcome = wait_outcomes(&p.bus, topics, &ids, since, timeout).await;
    if let Some(stages) = stages {
        stages.stop(Duration::from_secs(10)).await?;
    }
    let outcome = outcome?;
    let Some(o) = outcome.get(&ev.correlation_id) else {
        anyhow::bail!(
            "no outcome for {key} within {} s; is `couplet run` running? The change is on {}; `couplet audit {key}` shows what happens to it",
            a.timeout_secs,
            topics.changes
        );
    };
    let target = o
        .target_key()
        .map(|k| k.to_string())
        .unwrap_or_else(|| format!("{}/{}", o.target_system, o.target_entity));
    println!(
        "{}: {key} -> {target}: {}{}",
        m.name,
        o.status.as_str(),
        o.reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    if !o.status.wrote() && o.status != OutcomeStatus::Coupled {
        return Ok(false);
    }
    if let Some(id) = &o.target_id {
        let written = p
            .targets
            .get(o.target_system)
            .get(&o.target_entity, id)
            .await?;
        if let Some(rec) = written {
            println!("{target} now holds:");
            for f in m.fields_from(source) {
                let name = f.name_on(o.target_system);
                for col in name.split('+').filter(|c| !c.is_empty()) {
                    let read = if o.target_system.is_crm() && rec.get(col).is_none() {
                        format!("_{col}_value")
                    } else {
                        col.to_string()
                    };
                    let v = rec.get(&read).cloned().unwrap_or(serde_json::Value::Null);
                    println!("  {col:<28} {v}");
                }
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Catalogue;
    use crate::store::Coupling;

    #[test]
    fn the_record_is_resolved_to_the_source_side() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = chrono::Utc::now();
        store
            .put_coupling(&Coupling {
                mapping: "CUSTOMER".into(),
                crm_entity: "accounts".into(),
                crm_id: "crm-1".into(),
                erp_entity: "customers".into(),
                erp_id: "erp-1".into(),
                crm_modified_on: None,
                erp_modified_on: None,
                crm_etag: None,
                erp_etag: None,
                hash_to_crm: None,
                hash_to_erp: None,
                coupled_at: t,
                last_sync_at: None,
                last_direction: None,
                last_result: None,
            })
            .unwrap();
        let cat = Catalogue::defaults().unwrap();
        let m = cat.get("CUSTOMER").unwrap();
        let key = |record: &str, source| source_key(m, source, record, &store);
        // A source id, bare or as a key.
        assert_eq!(
            key("erp-1", crate::systems::BC).unwrap().to_string(),
            "bc/customers/erp-1"
        );
        assert_eq!(
            key("bc/customers/erp-1", crate::systems::BC)
                .unwrap()
                .to_string(),
            "bc/customers/erp-1"
        );
        // A coupled target id stands for its source.
        assert_eq!(
            key("crm-1", crate::systems::BC).unwrap().to_string(),
            "bc/customers/erp-1"
        );
        assert_eq!(
            key("bc/customers/erp-1", crate::systems::DATAVERSE)
                .unwrap()
                .to_string(),
            "dataverse/accounts/crm-1"
        );
        // An uncoupled target key cannot be resolved; another entity is refused.
        assert!(
            key("dataverse/accounts/crm-2", crate::systems::BC)
                .unwrap_err()
                .to_string()
                .contains("on the target side")
        );
        assert!(
            key("bc/contacts/erp-1", crate::systems::BC)
                .unwrap_err()
                .to_string()
                .contains("is not a record of mapping CUSTOMER")
        );
        // An unknown bare id is taken as the source side's.
        assert_eq!(
            key("new", crate::systems::DATAVERSE).unwrap().to_string(),
            "dataverse/accounts/new"
        );
    }
}
