//! The end check of a chaos run, on the stopped instance's projection: every mapping coupled
//! and equal on both sides, no twin, nothing in error or parked, and each side holding exactly
//! the records expected. Each discrepancy comes with the audit trail of its records.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::build;
use crate::event::Side;
use crate::mapping::Catalogue;
use crate::sandbox::Sandbox;
use crate::store::Store;
use crate::transform::compare::MappingCheck;

/// What the end check found.
#[derive(Debug, Default)]
pub struct Found {
    /// Couplings per mapping.
    pub coupled: Vec<(String, usize)>,
    /// Each discrepancy, in words.
    pub problems: Vec<String>,
}

/// Opens the projection of a just-stopped instance (sled may hold its lock a moment longer).
async fn open_store(data_dir: &Path) -> anyhow::Result<Store> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match build::open_store(data_dir) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() < deadline => {
                tracing::debug!(error = %e, "chaos: the projection is still locked");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn trail(store: &Store, record: &str) -> String {
    match store.audit(record) {
        Ok(entries) if entries.is_empty() => format!("{record}: no audit entry"),
        Ok(entries) => {
            let lines: Vec<String> = entries
                .iter()
                .map(|e| format!("{} {} {}", e.at.format("%H:%M:%S%.3f"), e.kind, e.summary))
                .collect();
            format!("{record}: {}", lines.join(" | "))
        }
        Err(e) => format!("{record}: the audit trail cannot be read: {e}"),
    }
}

fn describe(
    c: &MappingCheck,
    m: &crate::mapping::model::TableMapping,
    store: &Store,
) -> Vec<String> {
    let mut out = Vec::new();
    let crm_key = |id: &str| format!("{}/{}/{id}", m.system(Side::Crm), m.crm_entity);
    let erp_key = |id: &str| format!("{}/{}/{id}", m.system(Side::Erp), m.erp_entity);
    for id in &c.uncoupled_crm {
        out.push(format!(
            "{} uncoupled CRM record {}",
            c.mapping,
            trail(store, &crm_key(id))
        ));
    }
    for id in &c.uncoupled_erp {
        out.push(format!(
            "{} uncoupled ERP record {}",
            c.mapping,
            trail(store, &erp_key(id))
        ));
    }
    for d in &c.duplicates {
        out.push(format!("{} twin (natural key held twice): {d}", c.mapping));
    }
    for d in &c.dangling {
        out.push(format!("{} coupling to a missing record: {d}", c.mapping));
    }
    for d in &c.diffs {
        out.push(format!(
            "{} {} <-> {} field {}: expected {} found {}; {}",
            c.mapping,
            d.crm_id,
            d.erp_id,
            d.field,
            d.expected,
            d.actual,
            trail(store, &crm_key(&d.crm_id))
        ));
    }
    out
}

fn compare_all(
    sb: &Sandbox,
    store: &Store,
    catalogue: &Catalogue,
) -> anyhow::Result<Vec<(MappingCheck, Vec<String>)>> {
    let checks = crate::cli::sandbox_checks::compare_mappings(sb, store, catalogue)?;
    Ok(catalogue
        .ordered()
        .iter()
        .zip(checks)
        .map(|(m, c)| {
            let problems = describe(&c, m, store);
            (c, problems)
        })
        .collect())
}

/// Checks the stopped instance configured by `config` against the sandbox.
pub async fn check(sb: &Sandbox, config: &Path) -> anyhow::Result<Found> {
    let cfg = crate::config::Config::load(config)?;
    let store = open_store(&cfg.data_dir).await?;
    let catalogue = build::catalogue(&cfg)?;
    let mut found = Found::default();
    for (c, problems) in compare_all(sb, &store, &catalogue)? {
        found.coupled.push((c.mapping.clone(), c.coupled));
        found.problems.extend(problems);
    }
    for e in store.errors()? {
        found.problems.push(format!(
            "in the errors list: {} [{}, {}] field {:?}: {}; {}",
            e.record,
            e.class,
            e.actor,
            e.field,
            e.reason,
            trail(&store, &e.record)
        ));
    }
    for p in store.parked()? {
        found.problems.push(format!(
            "still parked: {} waiting for {}: {}; {}",
            p.record,
            p.waiting_for,
            p.reason,
            trail(&store, &p.record)
        ));
    }
    Ok(found)
}
