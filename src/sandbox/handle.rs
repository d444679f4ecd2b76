//! [`Sandbox`]: starts the servers and gives tests direct access to their data.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::config::{Credentials, Fault, FaultKind, SandboxConfig, SandboxStats};
use super::dataverse::annotations::Annotations;
use super::dataverse::{self, write::Stamp};
use super::error::SandboxError;
use super::faults::Faults;
use super::fo::state::FoService;
use super::shared::{BC_ENVIRONMENT, BC_RESOURCE, Service, Shared};
use super::table::Store;
use super::throttle::Limiter;
use super::{bc, entra, fo, seed, serve, spoil};
use crate::event::{Fields, System};

/// A running sandbox: Entra ID, Dataverse, Business Central and Finance & Operations
/// emulators on loopback.
/// Dropping it stops the servers too; [`Sandbox::shutdown`] waits for them.
pub struct Sandbox {
    pub(super) shared: Arc<Shared>,
    servers: Vec<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("entra", &self.shared.entra_authority)
            .field("dataverse", &self.shared.dv_url)
            .field("bc", &self.shared.bc_api_url)
            .field("fo", &self.shared.fo_url)
            .finish()
    }
}

async fn listen(
    server: &'static str,
    ip: IpAddr,
    port: u16,
) -> Result<(TcpListener, SocketAddr), SandboxError> {
    let addr = SocketAddr::new(ip, port);
    let l = TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind {
            server,
            addr,
            source,
        })?;
    let local = l.local_addr().map_err(|source| SandboxError::Bind {
        server,
        addr,
        source,
    })?;
    Ok((l, local))
}

fn base_url(bind: IpAddr, addr: SocketAddr) -> String {
    let ip = if bind.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    };
    format!("http://{}/", SocketAddr::new(ip, addr.port()))
}

fn rejected(
    system: System,
    entity_set: &str,
    id: &str,
    code: &str,
    message: String,
) -> SandboxError {
    SandboxError::Rejected {
        system,
        entity_set: entity_set.into(),
        id: id.into(),
        code: code.into(),
        message,
    }
}

/// The certificates registered on the app, from their PEM texts.
fn registered_certificates(
    pems: &[String],
) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, SandboxError> {
    pems.iter()
        .enumerate()
        .map(|(index, pem)| {
            crate::systems::client_assertion::certificate_der(pem.as_bytes()).map_err(|e| {
                SandboxError::Certificate {
                    index,
                    reason: e.to_string(),
                }
            })
        })
        .collect()
}

impl Sandbox {
    /// Seeds the data and starts the servers.
    pub async fn start(cfg: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let (entra_l, entra_a) = listen("Entra ID", cfg.bind, cfg.entra_port).await?;
        let (dv_l, dv_a) = listen("Dataverse", cfg.bind, cfg.dataverse_port).await?;
        let (bc_l, bc_a) = listen("Business Central", cfg.bind, cfg.bc_port).await?;
        let (fo_l, fo_a) = listen("Finance & Operations", cfg.bind, cfg.fo.port).await?;
        let creds = seed::credentials(cfg.seed);
        let app_certificates = registered_certificates(&cfg.client_certificates)?;
        let mut dv_store = Store::default();
        let mut bc_store = Store::default();
        let users = seed::seed(&cfg, &creds, &mut dv_store, &mut bc_store);
        let bc_api_url = format!(
            "{}v2.0/{}/{}/api/v2.0/",
            base_url(cfg.bind, bc_a),
            creds.tenant_id,
            BC_ENVIRONMENT
        );
        let shared = Arc::new(Shared {
            creds,
            app_certificates,
            token_lifetime: cfg.token_lifetime,
            entra_authority: base_url(cfg.bind, entra_a),
            dv_url: base_url(cfg.bind, dv_a),
            bc_api_url,
            bc_company_id: users.bc_company_id,
            tokens: Mutex::new(Default::default()),
            tokens_issued: AtomicU64::new(0),
            dv: Service {
                store: Mutex::new(dv_store),
                faults: Default::default(),
                limiter: Limiter::new(cfg.dataverse_limits),
            },
            bc: Service {
                store: Mutex::new(bc_store),
                faults: Default::default(),
                limiter: Limiter::new(cfg.bc_limits),
            },
            fo_url: base_url(cfg.bind, fo_a),
            fo: FoService::new(&cfg.fo, users.fo),
            dv_app_user: users.app_user,
            dv_human_user: users.human_user,
        });
        let mut servers = Vec::new();
        let dv_router = spoil::layer(
            dataverse::routes::router(shared.clone()),
            shared.clone(),
            |s| &s.dv.faults,
        );
        let bc_router = spoil::layer(bc::routes::router(shared.clone()), shared.clone(), |s| {
            &s.bc.faults
        });
        let fo_router = spoil::layer(fo::routes::router(shared.clone()), shared.clone(), |s| {
            &s.fo.faults
        });
        for (name, listener, router) in [
            ("Entra ID", entra_l, entra::router(shared.clone())),
            ("Dataverse", dv_l, dv_router),
            ("Business Central", bc_l, bc_router),
            ("Finance & Operations", fo_l, fo_router),
        ] {
            let (tx, rx) = oneshot::channel::<()>();
            let task = tokio::spawn(serve::serve(name, listener, router, rx));
            servers.push((tx, task));
        }
        tracing::info!(entra = %shared.entra_authority, dataverse = %shared.dv_url, bc = %shared.bc_api_url, fo = %shared.fo_url, "sandbox started");
        Ok(Sandbox { shared, servers })
    }

    /// The app registration that is allowed in.
    pub fn credentials(&self) -> Credentials {
        self.shared.creds.clone()
    }

    /// `http://127.0.0.1:PORT/`; the token endpoint is `{authority}{tenant_id}/oauth2/v2.0/token`.
    pub fn entra_authority(&self) -> String {
        self.shared.entra_authority.clone()
    }

    /// The Dataverse environment URL, `http://127.0.0.1:PORT/` (token resource: without the
    /// trailing slash; Web API base: `{url}api/data/v9.2/`).
    pub fn dataverse_url(&self) -> String {
        self.shared.dv_url.clone()
    }

    /// The Business Central token resource, `https://api.businesscentral.dynamics.com`.
    pub fn bc_resource(&self) -> String {
        BC_RESOURCE.to_string()
    }

    /// `http://127.0.0.1:PORT/v2.0/{tenant_id}/{environment}/api/v2.0/`.
    pub fn bc_api_url(&self) -> String {
        self.shared.bc_api_url.clone()
    }

    /// The Finance & Operations environment URL, `http://127.0.0.1:PORT/` (token resource:
    /// without the trailing slash; OData service root: [`Sandbox::fo_data_url`]).
    pub fn fo_url(&self) -> String {
        self.shared.fo_url.clone()
    }

    /// The F&O OData service root, `http://127.0.0.1:PORT/data/`.
    pub fn fo_data_url(&self) -> String {
        self.shared.fo_data_url()
    }

    /// Registers the HTTPS endpoint F&O posts Business Events to (replacing any other), as
    /// System administration › Business events › Endpoints does.
    pub fn fo_register_endpoint(&self, url: &str) {
        self.shared.fo.events.register(url);
    }

    /// Business events F&O could not deliver after its retries (its error log).
    pub fn fo_failed_events(&self) -> Vec<serde_json::Value> {
        self.shared.fo.events.failed()
    }

    /// Injects a fault into Finance & Operations.
    pub fn fo_inject(&self, fault: Fault) {
        self.shared.fo.faults.inject(fault);
    }

    /// Request counters of Finance & Operations.
    pub fn fo_stats(&self) -> SandboxStats {
        self.shared.fo.faults.stats()
    }

    /// The id of the one BC company.
    pub fn bc_company_id(&self) -> String {
        self.shared.bc_company_id.clone()
    }

    /// Live rows shaped as a GET of the collection returns them (F&O's: every company).
    pub fn rows(&self, system: System, entity_set: &str) -> Vec<Fields> {
        match system.is_crm() {
            true => {
                let Some(def) = dataverse::schema::entity(entity_set) else {
                    return vec![];
                };
                let store = self.shared.dv.store.lock();
                let Some(t) = store.table(entity_set) else {
                    return vec![];
                };
                t.live()
                    .into_iter()
                    .map(|(_, r)| dataverse::shape(def, r, None, &Annotations::lookups()))
                    .collect()
            }
            false if system == crate::systems::fo::SYSTEM => self.fo_rows(entity_set),
            false => {
                let Some(def) = bc::schema::entity(entity_set) else {
                    return vec![];
                };
                let store = self.shared.bc.store.lock();
                let Some(t) = store.table(entity_set) else {
                    return vec![];
                };
                t.live()
                    .into_iter()
                    .map(|(id, r)| bc::shape(def, id, r, None))
                    .collect()
            }
        }
    }

    /// One live row, shaped as a GET returns it.
    pub fn row(&self, system: System, entity_set: &str, id: &str) -> Option<Fields> {
        let id = id.to_ascii_lowercase();
        match system.is_crm() {
            true => {
                let def = dataverse::schema::entity(entity_set)?;
                let store = self.shared.dv.store.lock();
                store
                    .table(entity_set)?
                    .get(&id)
                    .map(|r| dataverse::shape(def, r, None, &Annotations::lookups()))
            }
            false => {
                let def = bc::schema::entity(entity_set)?;
                let store = self.shared.bc.store.lock();
                store
                    .table(entity_set)?
                    .get(&id)
                    .map(|r| bc::shape(def, &id, r, None))
            }
        }
    }

    fn unknown(system: System, entity_set: &str) -> SandboxError {
        SandboxError::UnknownEntity {
            system,
            entity_set: entity_set.into(),
        }
    }

    fn human(&self) -> Stamp {
        Stamp {
            user: self.shared.dv_human_user.clone(),
            at: Utc::now(),
        }
    }

    /// Creates a row as a person would in the UI; `body` is an API POST body.
    pub fn insert_row(
        &self,
        system: System,
        entity_set: &str,
        body: Fields,
    ) -> Result<String, SandboxError> {
        match system.is_crm() {
            true => {
                let def = dataverse::schema::entity(entity_set)
                    .ok_or_else(|| Self::unknown(system, entity_set))?;
                let mut store = self.shared.dv.store.lock();
                let changes = dataverse::write::validate(&store, def, &body)
                    .map_err(|e| rejected(system, entity_set, "new", e.code, e.message))?;
                let id = dataverse::write::new_id(def, &changes);
                if store.table(entity_set).and_then(|t| t.get(&id)).is_some() {
                    return Err(rejected(
                        system,
                        entity_set,
                        &id,
                        "0x80040237",
                        "A record with matching key values already exists.".into(),
                    ));
                }
                dataverse::write::create(&mut store, def, &id, changes, &self.human());
                Ok(id)
            }
            false => {
                let def = bc::schema::entity(entity_set)
                    .ok_or_else(|| Self::unknown(system, entity_set))?;
                let changes = bc::write::validate(def, &body)
                    .map_err(|e| rejected(system, entity_set, "new", e.code, e.message))?;
                bc::write::create(&mut self.shared.bc.store.lock(), def, changes, Utc::now())
                    .map_err(|e| rejected(system, entity_set, "new", e.code, e.message))
            }
        }
    }

    /// Updates a row as a person would in the UI (bumps version, ETag and modified-on).
    pub fn update_row(
        &self,
        system: System,
        entity_set: &str,
        id: &str,
        patch: Fields,
    ) -> Result<(), SandboxError> {
        let id = id.to_ascii_lowercase();
        let not_found = || SandboxError::NotFound {
            system,
            entity_set: entity_set.into(),
            id: id.clone(),
        };
        match system.is_crm() {
            true => {
                let def = dataverse::schema::entity(entity_set)
                    .ok_or_else(|| Self::unknown(system, entity_set))?;
                let mut store = self.shared.dv.store.lock();
                let changes = dataverse::write::validate(&store, def, &patch)
                    .map_err(|e| rejected(system, entity_set, &id, e.code, e.message))?;
                if !dataverse::write::update(&mut store, def, &id, changes, &self.human()) {
                    return Err(not_found());
                }
                Ok(())
            }
            false => {
                let def = bc::schema::entity(entity_set)
                    .ok_or_else(|| Self::unknown(system, entity_set))?;
                let mut store = self.shared.bc.store.lock();
                if store.table(entity_set).and_then(|t| t.get(&id)).is_none() {
                    return Err(not_found());
                }
                let changes = bc::write::validate(def, &patch)
                    .map_err(|e| rejected(system, entity_set, &id, e.code, e.message))?;
                bc::write::update(&mut store, def, &id, changes, Utc::now())
                    .map_err(|e| rejected(system, entity_set, &id, e.code, e.message))
            }
        }
    }

    /// Deletes a row as a person would in the UI.
    pub fn delete_row(
        &self,
        system: System,
        entity_set: &str,
        id: &str,
    ) -> Result<(), SandboxError> {
        let id = id.to_ascii_lowercase();
        let not_found = || SandboxError::NotFound {
            system,
            entity_set: entity_set.into(),
            id: id.clone(),
        };
        match system.is_crm() {
            true => {
                let def = dataverse::schema::entity(entity_set)
                    .ok_or_else(|| Self::unknown(system, entity_set))?;
                if !dataverse::write::delete(&mut self.shared.dv.store.lock(), def, &id) {
                    return Err(not_found());
                }
                Ok(())
            }
            false => {
                let def = bc::schema::entity(entity_set)
                    .ok_or_else(|| Self::unknown(system, entity_set))?;
                bc::write::delete(&mut self.shared.bc.store.lock(), def, &id)
                    .map_err(|_| not_found())
            }
        }
    }

    /// Posts an item ledger entry in Business Central (a purchase, sale or adjustment of
    /// `quantity`, signed): the item's `inventory` moves, its `lastModifiedDateTime` and ETag
    /// do not (a FlowField, as in a real tenant). Returns the entry.
    pub fn bc_post_item_entry(
        &self,
        item_number: &str,
        entry_type: &str,
        quantity: f64,
        document_number: &str,
    ) -> Result<Fields, SandboxError> {
        let entry = bc::inventory::NewEntry {
            item_number,
            entry_type,
            quantity,
            document_number,
            description: "",
        };
        bc::inventory::post(&mut self.shared.bc.store.lock(), &entry, Utc::now()).map_err(|e| {
            rejected(
                crate::systems::BC,
                "itemLedgerEntries",
                item_number,
                e.code,
                e.message,
            )
        })
    }

    /// Runs a Dataverse Sales action (`ReviseQuote`, `WinQuote`, `ConvertQuoteToSalesOrder`,
    /// `WinOpportunity`) as a person would in the UI; `body` is the Web API request body.
    /// Returns the id of the record the action returns (the new quote or order), if any.
    pub fn dataverse_action(
        &self,
        name: &str,
        body: serde_json::Value,
    ) -> Result<Option<String>, SandboxError> {
        let body = body.as_object().cloned().unwrap_or_default();
        let mut store = self.shared.dv.store.lock();
        match dataverse::actions::run(&mut store, name, &body, &self.human()) {
            Ok(dataverse::actions::ActionResult::Record(_, id)) => Ok(Some(id)),
            Ok(dataverse::actions::ActionResult::Nothing) => Ok(None),
            Err(e) => Err(rejected(
                crate::systems::DATAVERSE,
                name,
                "",
                e.code,
                e.message,
            )),
        }
    }

    /// Every Dataverse delta token issued so far now fails with `0x80044352`.
    pub fn expire_change_tracking(&self) {
        self.shared.dv.store.lock().epoch += 1;
    }

    /// Injects a fault into one system.
    pub fn inject(&self, system: System, fault: Fault) {
        self.faults(system).inject(fault);
    }

    /// Ends the faults pending on one system (an outage is over).
    pub fn clear_faults(&self, system: System) {
        self.faults(system).clear();
    }

    /// Request counters of one system.
    pub fn stats(&self, system: System) -> SandboxStats {
        self.faults(system).stats()
    }

    /// The injected faults one system has served so far, by kind (every kind, zeros
    /// included).
    pub fn faults_served(&self, system: System) -> Vec<(FaultKind, u64)> {
        self.faults(system).served()
    }

    /// How many injected faults one system has not served yet.
    pub fn faults_pending(&self, system: System) -> u64 {
        self.faults(system).pending_count()
    }

    fn faults(&self, system: System) -> &Faults {
        if system == crate::systems::fo::SYSTEM {
            &self.shared.fo.faults
        } else {
            &self.service(system).faults
        }
    }

    /// Access tokens issued by the Entra emulator so far.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.tokens_issued.load(Ordering::Relaxed)
    }

    fn service(&self, system: System) -> &Service {
        match system.is_crm() {
            true => &self.shared.dv,
            false => &self.shared.bc,
        }
    }

    /// Stops the servers and waits for them (at most a few seconds).
    pub async fn shutdown(mut self) {
        for (tx, task) in self.servers.drain(..) {
            let _ = tx.send(());
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(3), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}
