//! `couplet demo`: the sandbox, the embedded log and the engine in one process.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;

use super::build;
use super::edits::{Edit, pick};
use super::report::{Live, counts};
use crate::event::Side;
use crate::event::{Fields, System};
use crate::mapping::Catalogue;
use crate::pipeline::Engine;
use crate::sandbox::{RateLimit, Sandbox, SandboxConfig};
use crate::store::Store;
use crate::transform::compare::MappingCheck;

/// Options of `couplet demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Companies to seed.
    pub records: usize,
    /// Seed.
    pub seed: u64,
    /// Data directory (temporary when none).
    pub data_dir: Option<PathBuf>,
    /// Live edits per side.
    pub edits: usize,
    /// Service-protection limits on.
    pub throttle: bool,
    /// Settle timeout.
    pub timeout: Duration,
    /// Keep running after the summary.
    pub keep_running: bool,
    /// Serve `/metrics`, `/healthz` and `/readyz` here.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `embedded` or `kafka`.
    pub bus: String,
    /// Kafka bootstrap servers.
    pub brokers: Option<String>,
    /// Play the lead-to-cash story after the synchronisation demo.
    pub story: bool,
    /// The ERP kept in step with Sales (`bc` or `fo`).
    pub erp: System,
}

/// The engine's config for a demo sandbox: fast polls, and the log the demo was asked for.
fn engine_config(
    o: &DemoOptions,
    sb: &Sandbox,
    dir: &std::path::Path,
) -> anyhow::Result<crate::config::Config> {
    let mut cfg = build::sandbox_config_for(sb, dir, o.erp.as_str())?;
    cfg.capture.poll_interval_ms = 250;
    cfg.capture.bc_overlap_ms = 2000;
    if o.bus != "embedded" {
        let brokers = o
            .brokers
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--bus {} needs --brokers HOST:PORT", o.bus))?;
        cfg.bus.backend = o.bus.clone();
        cfg.bus.kafka = Some(toml::from_str(&format!("brokers = {brokers:?}"))?);
        // A fresh prefix per run, so a shared broker's older topics are not mixed in.
        cfg.bus.topic_prefix = format!(
            "couplet-demo-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        cfg.check()?;
    }
    Ok(cfg)
}

/// Runs the demo; returns whether every check passed.
pub async fn run(o: DemoOptions) -> anyhow::Result<bool> {
    let started = Instant::now();
    let mut scfg = SandboxConfig {
        seed: o.seed,
        records: o.records,
        ..Default::default()
    };
    if o.throttle {
        let tight = RateLimit {
            requests: 300,
            window: Duration::from_secs(10),
            concurrent: 52,
            retry_after: Duration::from_secs(1),
        };
        scfg.dataverse_limits = Some(tight);
        scfg.bc_limits = Some(RateLimit {
            concurrent: 5,
            ..tight
        });
        scfg.fo.limits = Some(tight);
    }
    let sb = Sandbox::start(scfg).await?;
    let (_tmp, dir) = match &o.data_dir {
        Some(d) => (None, d.clone()),
        None => {
            let t = tempfile::Builder::new().prefix("couplet-demo-").tempdir()?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let erp_url = if o.erp == crate::systems::fo::SYSTEM {
        format!(
            "Finance & Operations at {}data/ (legal entity usmf)",
            sb.fo_url()
        )
    } else {
        format!("Business Central at {}", sb.bc_api_url())
    };
    println!(
        "Sandbox up: Dataverse at {}, {erp_url}; {} companies seeded (seed {}). Data in {}.",
        sb.dataverse_url(),
        o.records,
        o.seed,
        dir.display()
    );
    let cfg = engine_config(&o, &sb, &dir)?;
    let parts = build::connect_parts(&cfg).await?;
    let (catalogue, store) = (parts.catalogue.clone(), parts.store.clone());
    crate::metrics::metrics().prime(&parts.catalogue, &parts.topics);
    let (server, console) = match o.metrics_listen {
        Some(addr) => {
            let (s, c) = super::console::demo_listener(addr).await?;
            (Some(s), c)
        }
        None => (None, None),
    };
    let mut engine = Engine::start(parts).await?;
    if let Some(s) = &server {
        s.set_probe(super::probe(&engine));
        if let Some(c) = &console {
            super::console::attach(c, &engine, s.local_addr())?;
        }
    }

    let live = Live::start(
        "Initial synchronisation (capture -> log -> transform -> apply):",
        catalogue.clone(),
        store.clone(),
    );
    let settled = engine.wait_idle(o.timeout).await?;
    live.finish().await;
    let initial = started.elapsed();
    if !settled {
        println!(
            "The initial synchronisation did not settle within {:?}.",
            o.timeout
        );
    } else {
        println!(
            "Initial synchronisation settled in {:.1} s.",
            initial.as_secs_f64()
        );
    }

    let edits = if o.erp == crate::systems::fo::SYSTEM {
        super::demo_fo::make_edits(&sb, &store, &catalogue, o.edits)?
    } else {
        make_edits(&sb, &store, &catalogue, o.edits)?
    };
    let live = Live::start(
        &format!(
            "Live changes: {} edits and new records on both sides:",
            edits.len()
        ),
        catalogue.clone(),
        store.clone(),
    );
    let settled_live = engine.wait_idle(o.timeout).await?;
    live.finish().await;
    let latencies = latencies(&store, &edits)?;

    let checks = verify(&sb, &store, &catalogue)?;
    let mut ok = settled && settled_live && report(&store, &catalogue, &checks, &latencies)?;
    if o.story {
        let story_dir = dir.join("lead-to-cash");
        ok &= if o.erp == crate::systems::fo::SYSTEM {
            super::story_fo::run(o.seed, &story_dir, |sb, d| engine_config(&o, sb, d)).await?
        } else {
            super::story::run(o.seed, &story_dir, |sb, d| engine_config(&o, sb, d)).await?
        };
    }
    println!(
        "{}",
        if ok {
            if o.story {
                "RESULT: OK: every record is coupled and equal on both sides, no duplicates, no errors; every lead-to-cash hop arrived."
            } else {
                "RESULT: OK: every record is coupled and equal on both sides, no duplicates, no errors."
            }
        } else {
            "RESULT: FAILED (see above)."
        }
    );

    if o.keep_running {
        println!("Still running; Ctrl-C to stop.");
        super::stop_signal().await;
    }
    engine.shutdown().await?;
    if let Some(s) = server {
        s.shutdown().await;
    }
    sb.shutdown().await;
    Ok(ok)
}

/// Edits coupled records on both sides and adds a new company with a contact on each side.
fn make_edits(
    sb: &Sandbox,
    store: &Store,
    catalogue: &Catalogue,
    n: usize,
) -> anyhow::Result<Vec<Edit>> {
    let mut edits = Vec::new();
    let mut push = |mapping: &str, system: System, id: String| {
        edits.push(Edit {
            mapping: mapping.into(),
            system,
            id,
            at: Utc::now(),
        });
    };
    if catalogue.get("CUSTOMER").is_some() {
        let accounts = sb.rows(crate::systems::DATAVERSE, "accounts");
        let mut edited_accounts = std::collections::HashSet::new();
        for (i, id) in pick(&accounts, "accountid", n, 0).into_iter().enumerate() {
            if store.coupling("CUSTOMER", Side::Crm, &id)?.is_some() {
                let mut f = Fields::new();
                f.insert("telephone1".into(), json!(format!("+1 555 01{i:02}")));
                sb.update_row(crate::systems::DATAVERSE, "accounts", &id, f)?;
                edited_accounts.insert(id.clone());
                push("CUSTOMER", crate::systems::DATAVERSE, id);
            }
        }
        let customers = sb.rows(crate::systems::BC, "customers");
        for (i, id) in pick(&customers, "id", n, 1).into_iter().enumerate() {
            // A pair edited on both sides at once is an update conflict (listed as an error
            // under the default policy): the demo edits each pair on one side only.
            if let Some(c) = store.coupling("CUSTOMER", Side::Erp, &id)?
                && !edited_accounts.contains(&c.crm_id)
            {
                let mut f = Fields::new();
                f.insert("phoneNumber".into(), json!(format!("+45 70 20 {i:02} 00")));
                sb.update_row(crate::systems::BC, "customers", &id, f)?;
                push("CUSTOMER", crate::systems::BC, id);
            }
        }
        let mut a = Fields::new();
        a.insert("name".into(), json!("Northwind Demo Traders"));
        a.insert("telephone1".into(), json!("+1 425 555 0100"));
        a.insert("address1_city".into(), json!("Redmond"));
        a.insert("address1_country".into(), json!("US"));
        a.insert("customertypecode".into(), json!(3));
        let acc = sb.insert_row(crate::systems::DATAVERSE, "accounts", a)?;
        push("CUSTOMER", crate::systems::DATAVERSE, acc.clone());
        let mut c = Fields::new();
        c.insert("displayName".into(), json!("Fabrikam Demo Supplies"));
        c.insert("city".into(), json!("Aarhus"));
        c.insert("country".into(), json!("DK"));
        c.insert("currencyCode".into(), json!("DKK"));
        let cust = sb.insert_row(crate::systems::BC, "customers", c)?;
        push("CUSTOMER", crate::systems::BC, cust.clone());
        if catalogue.get("CONTACT").is_some() {
            let mut p = Fields::new();
            p.insert("firstname".into(), json!("Dana"));
            p.insert("lastname".into(), json!("Birkby"));
            p.insert(
                "emailaddress1".into(),
                json!("dana.birkby@northwind-demo.example"),
            );
            p.insert(
                "parentcustomerid_account@odata.bind".into(),
                json!(format!("/accounts({acc})")),
            );
            let id = sb.insert_row(crate::systems::DATAVERSE, "contacts", p)?;
            push("CONTACT", crate::systems::DATAVERSE, id);
            if let Some(number) = sb
                .row(crate::systems::BC, "customers", &cust)
                .and_then(|r| r.get("number").and_then(|v| v.as_str()).map(str::to_string))
            {
                let mut q = Fields::new();
                q.insert("displayName".into(), json!("Jonas Kvist"));
                q.insert("type".into(), json!("Person"));
                q.insert("email".into(), json!("jonas.kvist@fabrikam-demo.example"));
                q.insert("companyNumber".into(), json!(number));
                let id = sb.insert_row(crate::systems::BC, "contacts", q)?;
                push("CONTACT", crate::systems::BC, id);
            }
        }
    }
    if catalogue.get("CONTACT").is_some() {
        let contacts = sb.rows(crate::systems::DATAVERSE, "contacts");
        let mut edited_contacts = std::collections::HashSet::new();
        for (i, id) in pick(&contacts, "contactid", n / 2, 2)
            .into_iter()
            .enumerate()
        {
            if store.coupling("CONTACT", Side::Crm, &id)?.is_some() {
                let mut f = Fields::new();
                f.insert("jobtitle".into(), json!(format!("Buyer {i}")));
                sb.update_row(crate::systems::DATAVERSE, "contacts", &id, f)?;
                edited_contacts.insert(id.clone());
                push("CONTACT", crate::systems::DATAVERSE, id);
            }
        }
        let contacts = sb.rows(crate::systems::BC, "contacts");
        for (i, id) in pick(&contacts, "id", n / 2, 0).into_iter().enumerate() {
            // One side only, as for the accounts above.
            if let Some(c) = store.coupling("CONTACT", Side::Erp, &id)?
                && !edited_contacts.contains(&c.crm_id)
            {
                let mut f = Fields::new();
                f.insert("jobTitle".into(), json!(format!("Controller {i}")));
                sb.update_row(crate::systems::BC, "contacts", &id, f)?;
                push("CONTACT", crate::systems::BC, id);
            }
        }
    }
    Ok(edits)
}

/// Milliseconds from each edit to its write on the other side.
fn latencies(store: &Store, edits: &[Edit]) -> anyhow::Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for e in edits {
        if let Some(c) = store.coupling(&e.mapping, e.system, &e.id)?
            && let Some(at) = c.last_sync_at.filter(|t| *t >= e.at)
        {
            out.push((e.mapping.clone(), (at - e.at).num_milliseconds()));
        }
    }
    Ok(out)
}

fn verify(
    sb: &Sandbox,
    store: &Store,
    catalogue: &Arc<Catalogue>,
) -> anyhow::Result<Vec<MappingCheck>> {
    Ok(super::sandbox_checks::compare_mappings(
        sb, store, catalogue,
    )?)
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(
    store: &Store,
    catalogue: &Catalogue,
    checks: &[MappingCheck],
    lat: &[(String, i64)],
) -> anyhow::Result<bool> {
    let counts = counts(catalogue, store);
    let w = counts
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0)
        .max(10);
    println!();
    println!(
        "{:<w$} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6}  change->write ms (p50 / max, n)",
        "mapping", "captured", "written", "coupled", "parked", "failed", "CRM", "ERP", "diffs"
    );
    let mut ok = true;
    for ((name, c), chk) in counts.iter().zip(checks) {
        let mut l: Vec<i64> = lat
            .iter()
            .filter(|(m, _)| m == name)
            .map(|(_, ms)| *ms)
            .collect();
        l.sort_unstable();
        println!(
            "{name:<w$} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6}  {} / {}, {}",
            c.captured,
            c.written,
            chk.coupled,
            c.parked,
            c.failed,
            chk.crm_records,
            chk.erp_records,
            chk.diffs.len(),
            percentile(&l, 0.5),
            l.last().copied().unwrap_or(0),
            l.len()
        );
        ok &= chk.ok() && c.parked == 0 && c.failed == 0;
    }
    for chk in checks {
        let show = |what: &str, items: &[String]| {
            if !items.is_empty() {
                println!(
                    "  {} {what}: {}",
                    chk.mapping,
                    items.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
                );
            }
        };
        show("uncoupled CRM records", &chk.uncoupled_crm);
        show("uncoupled ERP records", &chk.uncoupled_erp);
        show("duplicates", &chk.duplicates);
        show("dangling couplings", &chk.dangling);
        for d in chk.diffs.iter().take(5) {
            println!(
                "  {} {} <-> {} field {}: expected {} found {}",
                chk.mapping, d.crm_id, d.erp_id, d.field, d.expected, d.actual
            );
        }
    }
    for e in store.errors()?.iter().take(10) {
        println!("  error {} [{}]: {}", e.record, e.class, e.reason);
    }
    for p in store.parked()?.iter().take(10) {
        println!("  parked {}: {}", p.record, p.reason);
    }
    Ok(ok)
}
