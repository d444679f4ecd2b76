//! `couplet mappings list | show NAME | validate`.

use std::path::Path;

use anyhow::Context as _;

use super::build;
use crate::config::Config;
use crate::event::Side;
use crate::mapping::check_fields::check_mapping;
use crate::mapping::model::{CrmColumns, FieldMapping};
use crate::mapping::{Catalogue, TableMapping};

/// Loads the mappings: `--file`, else the config's `mapping_file`, else the defaults of the
/// configured ERP (the default pair's without a config). Every mapping of the file, not only
/// those the config selects.
pub fn load(config: Option<&Path>, file: Option<&Path>) -> anyhow::Result<Catalogue> {
    // The document flows a user file leaves out come from its ERP's defaults (the
    // configured ERP's when a config is given, else the default pair's).
    let inherit = |user: Catalogue, cfg: Option<&Config>| -> anyhow::Result<Catalogue> {
        let defaults = match cfg.map(build::erp_defaults).transpose()?.flatten() {
            Some(d) => d,
            None => Catalogue::defaults()?,
        };
        Ok(user.with_default_flows(&defaults))
    };
    if let Some(f) = file {
        let cfg = config.and_then(|c| Config::load(c).ok());
        return inherit(Catalogue::load(f)?, cfg.as_ref());
    }
    if let Some(c) = config {
        let cfg = Config::load(c)?;
        if let Some(f) = &cfg.sync.mapping_file {
            return inherit(Catalogue::load(f)?, Some(&cfg));
        }
        if let Some(d) = build::erp_defaults(&cfg)? {
            return Ok(d);
        }
    }
    Ok(Catalogue::defaults()?)
}

/// A value as the mapping file would write it: strings bare, tables and arrays compact.
fn compact(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(o) => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{k}={}", compact(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        serde_json::Value::Array(a) => a.iter().map(compact).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// True for a value that says nothing (absent, false, empty).
fn is_blank(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null | serde_json::Value::Bool(false) => true,
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        serde_json::Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The table-level policies (`on_match`, `deletion`, and whatever else a mapping carries
/// beyond its entities, filters, keys and fields), as `key=value`.
fn policies(m: &TableMapping) -> String {
    const SHOWN: [&str; 11] = [
        "name",
        "crm_entity",
        "erp_entity",
        "direction",
        "crm_filter",
        "erp_filter",
        "depends_on",
        "crm_key",
        "erp_key",
        "key_case_insensitive",
        "fields",
    ];
    // Without its fields (a field without CRM column is not serialisable on its own).
    let table = TableMapping {
        fields: Vec::new(),
        ..m.clone()
    };
    let Ok(serde_json::Value::Object(o)) = serde_json::to_value(&table) else {
        return String::new();
    };
    o.iter()
        .filter(|(k, v)| !SHOWN.contains(&k.as_str()) && !is_blank(v))
        .map(|(k, v)| format!("{k}={}", compact(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `couplet mappings list`.
pub fn list(config: Option<&Path>, file: Option<&Path>) -> anyhow::Result<()> {
    let cat = load(config, file)?;
    println!(
        "{:<14} {:<32} {:<14} {:<18} {:>6}  policies",
        "mapping", "crm entity <-> erp entity", "direction", "depends on", "fields"
    );
    for m in cat.ordered() {
        let deps = if m.depends_on.is_empty() {
            "-".to_string()
        } else {
            m.depends_on.join(",")
        };
        println!(
            "{:<14} {:<32} {:<14} {:<18} {:>6}  {}",
            m.name,
            format!("{} <-> {}", m.crm_entity, m.erp_entity),
            m.direction.as_str(),
            deps,
            m.fields.iter().filter(|f| f.enabled).count(),
            policies(m)
        );
    }
    Ok(())
}

/// One field mapping: columns, direction, then every other setting it has (constant,
/// lookup, rules, value maps, …) as the mapping file names them.
fn field_line(f: &FieldMapping) -> String {
    let crm = match &f.crm {
        CrmColumns::None => "-".to_string(),
        c => c.display(),
    };
    let erp = if f.erp.is_empty() { "-" } else { &f.erp };
    let mut extra = Vec::new();
    // The columns are shown above (`CrmColumns::None` is not serialisable).
    let settings = FieldMapping {
        crm: CrmColumns::Many(Vec::new()),
        ..f.clone()
    };
    if let Ok(serde_json::Value::Object(o)) = serde_json::to_value(&settings) {
        for (k, v) in &o {
            if matches!(k.as_str(), "crm" | "erp" | "direction" | "enabled") || is_blank(v) {
                continue;
            }
            extra.push(match v {
                serde_json::Value::Bool(true) => k.replace('_', " "),
                _ => format!("{k} {}", compact(v)),
            });
        }
    }
    if !f.enabled {
        extra.push("DISABLED".into());
    }
    format!(
        "  {:<34} {:<22} {:<14} {}",
        crm,
        erp,
        f.direction.as_str(),
        extra.join("; ")
    )
}

/// `couplet mappings show NAME`.
pub fn show(name: &str, config: Option<&Path>, file: Option<&Path>) -> anyhow::Result<()> {
    let cat = load(config, file)?;
    let Some(m) = cat.get(name) else {
        let known: Vec<&str> = cat.ordered().iter().map(|m| m.name.as_str()).collect();
        anyhow::bail!(
            "no mapping named {name}; known mappings: {}",
            known.join(", ")
        );
    };
    println!("mapping    {}", m.name);
    println!(
        "entities   {} (Dataverse) <-> {} (Business Central)",
        m.crm_entity, m.erp_entity
    );
    println!("direction  {}", m.direction.as_str());
    if !m.depends_on.is_empty() {
        println!("depends on {}", m.depends_on.join(", "));
    }
    if let Some(f) = &m.crm_filter {
        println!("crm filter {f}");
    }
    if let Some(f) = &m.erp_filter {
        println!("erp filter {f}");
    }
    if m.crm_key.is_some() || m.erp_key.is_some() {
        println!(
            "keys       {} <-> {}{}",
            m.crm_key.as_deref().unwrap_or("-"),
            m.erp_key.as_deref().unwrap_or("-"),
            if m.key_case_insensitive {
                " (case-insensitive)"
            } else {
                ""
            }
        );
    }
    if let (Some(c), Some(e)) = (&m.crm_key_scope, &m.erp_key_scope) {
        println!("key scope  {c} <-> {e} (the same key in two scopes is two records)");
    }
    println!("policies   {}", policies(m));
    println!("fields");
    println!("  {:<34} {:<22} {:<14} details", "crm", "erp", "direction");
    for f in &m.fields {
        println!("{}", field_line(f));
    }
    Ok(())
}

/// `couplet mappings validate`: the file checks, then (unless `offline`) every mapped field
/// against the systems' metadata. Returns false when a problem was found.
pub async fn validate(
    config: Option<&Path>,
    file: Option<&Path>,
    offline: bool,
) -> anyhow::Result<bool> {
    let cat = match load(config, file) {
        Ok(c) => c,
        Err(e) => {
            println!("error: {e:#}");
            return Ok(false);
        }
    };
    let n = cat.ordered().len();
    if offline {
        println!(
            "{n} mapping(s) pass the file checks (syntax, names, directions, filters, dependencies). Field names were not checked against the systems (--offline)."
        );
        return Ok(true);
    }
    let Some(config) = config else {
        anyhow::bail!(
            "validate reads the systems' metadata: pass --config FILE, or --offline for the file checks only"
        );
    };
    let cfg = Config::load(config)?;
    let targets = build::targets(&cfg)?;
    let cat = cat.for_pair(targets.pair());
    let sets = |side: Side| -> Vec<String> {
        cat.ordered()
            .iter()
            .map(|m| m.entity(side).to_string())
            .collect()
    };
    let crm = targets
        .crm
        .connector()
        .metadata(&sets(Side::Crm))
        .await
        .with_context(|| format!("reading the metadata of {}", targets.crm.system()))?;
    let erp = targets
        .erp
        .connector()
        .metadata(&sets(Side::Erp))
        .await
        .with_context(|| format!("reading the metadata of {}", targets.erp.system()))?;
    let erp_of = |mapping: &str| cat.get(mapping).and_then(|m| erp.entity(&m.erp_entity));
    let mut problems = Vec::new();
    for m in cat.ordered() {
        match (crm.entity(&m.crm_entity), erp.entity(&m.erp_entity)) {
            (Some(crm), Some(erp)) => {
                let p = check_mapping(m, &crm, &erp, &erp_of);
                if p.is_empty() {
                    println!("ok     {} ({} fields)", m.name, m.fields.len());
                }
                problems.extend(p.into_iter().map(|p| p.message));
            }
            (c, e) => {
                if c.is_none() {
                    problems.push(format!(
                        "mapping {}: {}",
                        m.name,
                        crm.missing(&m.crm_entity)
                    ));
                }
                if e.is_none() {
                    problems.push(format!(
                        "mapping {}: {}",
                        m.name,
                        erp.missing(&m.erp_entity)
                    ));
                }
            }
        }
    }
    for p in &problems {
        println!("error  {p}");
    }
    if problems.is_empty() {
        println!("{n} mapping(s) valid: every mapped field exists on both sides.");
        Ok(true)
    } else {
        println!("{} problem(s) in {n} mapping(s).", problems.len());
        Ok(false)
    }
}
