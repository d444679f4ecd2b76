//! Building the engine's parts from a config file.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::bus::{Bus, EmbeddedBus, Topics};
use crate::config::Config;
use crate::credentials::Resolver;
use crate::event::Side;
use crate::mapping::Catalogue;
use crate::pipeline::EngineParts;
use crate::store::Store;
use crate::systems::registry::ConnectContext;
use crate::systems::{CredentialOrigin, Target, Targets, TokenCache};

/// The mappings a config selects.
pub fn catalogue(cfg: &Config) -> anyhow::Result<Arc<Catalogue>> {
    let (erp, _) = cfg.system_section(Side::Erp)?;
    let all = match &cfg.sync.mapping_file {
        Some(p) => {
            let user = Catalogue::load(p)?;
            match erp_defaults(cfg)? {
                Some(d) => user.with_default_flows(&d),
                None => user,
            }
        }
        None => Catalogue::parse(&format!("{}'s default mappings", erp.system), erp.mappings)?,
    };
    let selection: Vec<String> = if cfg.sync.mappings.is_empty() {
        erp.default_selection
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        cfg.sync.mappings.clone()
    };
    Ok(Arc::new(all.select(&selection)?))
}

/// The default mappings of the configured ERP (`[erp] system`), which a user mapping file's
/// mappings inherit their document flows from; `None` when the name is not a registered
/// ERP (the config's own check says so).
pub fn erp_defaults(cfg: &Config) -> anyhow::Result<Option<Catalogue>> {
    let Some(r) = crate::systems::registry::find(&cfg.erp.system)
        .filter(|s| s.side() == Side::Erp)
        .and_then(crate::systems::registry::registered)
    else {
        return Ok(None);
    };
    let file = format!("{}'s default mappings", r.system);
    Ok(Some(Catalogue::parse(&file, r.mappings)?))
}

/// Opens the projection under the data directory.
pub fn open_store(data_dir: &std::path::Path) -> anyhow::Result<Store> {
    crate::private_fs::create_private_dir(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    Ok(Store::open(&data_dir.join("projection"))?)
}

/// Opens the configured log: Kafka, or the embedded log under the data directory.
pub async fn connect_bus(cfg: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    match (cfg.bus.backend.as_str(), &cfg.bus.kafka) {
        ("kafka", Some(k)) => Ok(Arc::new(crate::bus::KafkaBus::connect(k).await?)),
        _ => open_configured_bus(cfg),
    }
}

/// Opens the embedded log under the data directory (cleaned every 60 s).
pub fn open_bus(data_dir: &std::path::Path) -> anyhow::Result<Arc<dyn Bus>> {
    open_bus_cleaning_every(
        data_dir,
        crate::bus::RetentionConfig::default().check_interval(),
    )
}

/// Opens the embedded log under the configured data directory, cleaned every
/// `[bus.retention] check_secs`.
fn open_configured_bus(cfg: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    open_bus_cleaning_every(&cfg.data_dir, cfg.bus.retention.check_interval())
}

fn open_bus_cleaning_every(
    data_dir: &std::path::Path,
    every: Duration,
) -> anyhow::Result<Arc<dyn Bus>> {
    crate::private_fs::create_private_dir(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    Ok(Arc::new(EmbeddedBus::open_cleaning_every(
        &data_dir.join("log"),
        every,
    )?))
}

/// The CRM's and the ERP's connectors (`[erp] system`), built by their registrations from
/// their sections, each signing in with its own credentials (`[auth.<system>]`, or the shared
/// `[auth]`), resolved from the credential store or the config.
pub fn targets(cfg: &Config) -> anyhow::Result<Targets> {
    let mut creds = Resolver::new(&cfg.auth, &cfg.credentials, &cfg.data_dir);
    Ok(Targets {
        crm: target(cfg, Side::Crm, &mut creds)?,
        erp: target(cfg, Side::Erp, &mut creds)?,
    })
}

/// The connector on `side`, signing in with the credentials `creds` resolves for it.
pub fn target(cfg: &Config, side: Side, creds: &mut Resolver<'_>) -> anyhow::Result<Target> {
    let (r, section) = cfg.system_section(side)?;
    let system = r.system.as_str();
    let app = creds.entra_app(system)?;
    let origin = match creds.origin(system) {
        Some((setting, Some(name))) => CredentialOrigin::Stored { setting, name },
        Some((table, None)) => CredentialOrigin::Table(table),
        None => CredentialOrigin::default(),
    };
    let proof = app.proof().map_err(|e| {
        let setting = match &origin {
            CredentialOrigin::Stored { setting, name } => {
                format!("{setting} (stored credential '{name}')")
            }
            CredentialOrigin::Table(t) => format!("{t}.certificate_file"),
        };
        anyhow::anyhow!("setting {setting}: {e}")
    })?;
    let cx = ConnectContext {
        tokens: Arc::new(
            TokenCache::with_proof(
                &app.authority,
                &app.tenant_id,
                &app.client_id,
                proof,
                cfg.http.clone(),
            )
            .with_origin(origin),
        ),
        http: cfg.http.clone(),
    };
    let c = (r.connect)(section, &cx)
        .map_err(|e| anyhow::anyhow!("setting {}: {}", e.setting, e.reason))?;
    Ok(Target::new(c))
}

/// Everything the engine needs, from a config, on the embedded log (see [`connect_parts`]
/// for any backend).
pub fn parts(cfg: &Config) -> anyhow::Result<EngineParts> {
    parts_on(cfg, open_configured_bus(cfg)?)
}

/// Everything the engine needs, from a config, on the configured backend.
pub async fn connect_parts(cfg: &Config) -> anyhow::Result<EngineParts> {
    let bus = connect_bus(cfg).await?;
    parts_on(cfg, bus)
}

fn parts_on(cfg: &Config, bus: Arc<dyn Bus>) -> anyhow::Result<EngineParts> {
    let targets = targets(cfg)?;
    let catalogue = catalogue(cfg)?.for_pair(targets.pair());
    check_flows(&catalogue, &targets)?;
    Ok(EngineParts {
        catalogue: Arc::new(catalogue),
        store: open_store(&cfg.data_dir)?,
        bus,
        topics: Topics::new(&cfg.bus.topic_prefix).with_retention(cfg.bus.retention.clone()),
        partitions: cfg.bus.partitions,
        targets,
        poll_interval: Duration::from_millis(cfg.capture.poll_interval_ms),
        overlap: Duration::from_millis(cfg.capture.bc_overlap_ms),
        apply_concurrency: cfg.sync.apply_concurrency,
        lcy: cfg.sync.lcy_code.clone(),
        orders: cfg.orders.clone(),
        shutdown_grace: cfg.sync.shutdown_grace(),
    })
}

/// Refuses a mapping whose document flow the ERP does not take part in (F&O takes sales
/// orders, not quotes or invoices), naming the mapping and what to do.
pub fn check_flows(catalogue: &Catalogue, targets: &Targets) -> anyhow::Result<()> {
    let erp = targets.erp.system();
    let supported = targets.erp.documents().map(|d| d.flows()).unwrap_or(&[]);
    for m in catalogue.ordered() {
        if let Some(flow) = m.flow
            && !supported.contains(&flow)
        {
            anyhow::bail!(
                "mapping {}: {erp} does not take part in the {} flow; remove {} from [sync] mappings (or from the mapping file)",
                m.name,
                flow.as_str(),
                m.name
            );
        }
    }
    Ok(())
}

/// A config file's `[bus]` section for a Kafka-protocol broker at `brokers` (Tansu, in the
/// tests and the chaos suite), topics under `prefix`, 6 partitions. One record per producer
/// batch: Tansu 0.6 returns nothing of a batch to a consumer that starts inside it
/// (`scripts/check-broker-mid-batch.py`), so a partition handed over at a committed offset in
/// the middle of a batch would skip the batch's tail.
pub fn tansu_bus_section(prefix: &str, brokers: &str) -> String {
    format!(
        "\n[bus]\nbackend = \"kafka\"\npartitions = 6\ntopic_prefix = \"{prefix}\"\n\n[bus.kafka]\nbrokers = \"{brokers}\"\n\n[bus.kafka.extra]\n\"batch.num.messages\" = \"1\"\n"
    )
}

/// The environment variable `couplet sandbox`'s printed config takes the client secret from.
pub const SANDBOX_SECRET_ENV: &str = "COUPLET_SANDBOX_CLIENT_SECRET";

/// A config file's text pointing at a running sandbox, its client secret inline (for tests
/// and the demo, which never write it where others could read it; `couplet sandbox` prints
/// [`sandbox_config_text_env`]).
pub fn sandbox_config_text(sb: &crate::sandbox::Sandbox, data_dir: &std::path::Path) -> String {
    let secret = format!("client_secret = \"{}\"", sb.credentials().client_secret);
    sandbox_config_with(sb, data_dir, &secret)
}

/// A config file's text pointing at a running sandbox, the client secret read from the
/// environment variable [`SANDBOX_SECRET_ENV`].
pub fn sandbox_config_text_env(sb: &crate::sandbox::Sandbox, data_dir: &std::path::Path) -> String {
    let secret = format!("client_secret_env = \"{SANDBOX_SECRET_ENV}\"");
    sandbox_config_with(sb, data_dir, &secret)
}

fn sandbox_config_with(
    sb: &crate::sandbox::Sandbox,
    data_dir: &std::path::Path,
    secret_line: &str,
) -> String {
    let c = sb.credentials();
    format!(
        r#"# Couplet config for the local sandbox (`couplet sandbox`).
data_dir = "{data_dir}"

[auth]
authority = "{authority}"
tenant_id = "{tenant}"
client_id = "{client}"
{secret_line}

[dataverse]
url = "{dv}"

[bc]
api_url = "{bc}"
company_id = "{company}"
resource = "{resource}"

[fo]
url = "{fo}"
legal_entity = "usmf"

[capture]
poll_interval_ms = 500
"#,
        data_dir = data_dir.display(),
        authority = sb.entra_authority(),
        tenant = c.tenant_id,
        client = c.client_id,
        dv = sb.dataverse_url(),
        bc = sb.bc_api_url(),
        company = sb.bc_company_id(),
        resource = sb.bc_resource(),
        fo = sb.fo_url(),
    )
}

/// A parsed config pointing at a running sandbox, with Business Central as the ERP.
pub fn sandbox_config(
    sb: &crate::sandbox::Sandbox,
    data_dir: &std::path::Path,
) -> anyhow::Result<Config> {
    let cfg: Config =
        toml::from_str(&sandbox_config_text(sb, data_dir)).context("sandbox config")?;
    cfg.check()?;
    Ok(cfg)
}

/// A parsed config pointing at a running sandbox, with `erp` (a registered ERP's name) as
/// the ERP.
pub fn sandbox_config_for(
    sb: &crate::sandbox::Sandbox,
    data_dir: &std::path::Path,
    erp: &str,
) -> anyhow::Result<Config> {
    let mut cfg = sandbox_config(sb, data_dir)?;
    cfg.erp.system = erp.to_string();
    cfg.check()?;
    Ok(cfg)
}
