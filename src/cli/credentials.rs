//! `couplet credentials set|list|test|rotate|new-key`: the encrypted credential store.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::build;
use super::credentials_args::{CredentialsAction, RotateArgs, SetArgs, StoreArgs};
use crate::config::Config;
use crate::credentials::{
    CertificatePem, CredentialSet, CredentialStore, CredentialsSection, EntraApp, Resolver,
    StoreKey, UserPassword,
};
use crate::event::Side;
use crate::systems::Secret;
use crate::systems::client_assertion::{CertificateError, ClientCertificate};

/// Runs one `couplet credentials` action; false when a test failed.
pub async fn run(action: &CredentialsAction) -> anyhow::Result<bool> {
    match action {
        CredentialsAction::Set(a) => set(a).map(|_| true),
        CredentialsAction::List(a) => list(a).map(|_| true),
        CredentialsAction::Test { name, store } => test(name.as_deref(), store).await,
        CredentialsAction::Rotate(a) => rotate(a).map(|_| true),
        CredentialsAction::NewKey { file } => new_key(file.as_deref()).map(|_| true),
    }
}

/// The store's location and key settings, the config's with the command line's overrides.
struct Place {
    section: CredentialsSection,
    file: PathBuf,
    config: Option<Config>,
}

fn place(a: &StoreArgs) -> anyhow::Result<Place> {
    let config = a.config.as_deref().map(Config::load).transpose()?;
    let (mut section, data_dir) = match &config {
        Some(c) => (c.credentials.clone(), c.data_dir.clone()),
        None => (CredentialsSection::default(), PathBuf::from("couplet-data")),
    };
    if let Some(k) = &a.key_file {
        section.key_file = Some(k.clone());
    }
    if let Some(f) = &a.store {
        section.file = Some(f.clone());
    }
    let file = section.store_file(&data_dir);
    Ok(Place {
        section,
        file,
        config,
    })
}

impl Place {
    /// The key; on first use (no store yet) a configured key file that does not exist is
    /// created with a new key.
    fn key(&self, may_create: bool) -> anyhow::Result<StoreKey> {
        if let Some(f) = &self.section.key_file
            && may_create
            && !f.exists()
            && !self.file.exists()
        {
            let k = StoreKey::create_file(f)?;
            eprintln!(
                "Created key file {} (0600, key {}). Keep a copy apart from the data: without it the store cannot be read.",
                f.display(),
                k.id()
            );
            return Ok(k);
        }
        Ok(self.section.load_key()?)
    }

    fn open(&self, may_create: bool) -> anyhow::Result<CredentialStore> {
        Ok(CredentialStore::open(&self.file, self.key(may_create)?)?)
    }
}

fn read_secret(a: &SetArgs) -> anyhow::Result<Secret> {
    let value = match (&a.secret_env, a.secret_stdin) {
        (Some(var), _) => std::env::var(var)
            .with_context(|| format!("--secret-env: environment variable {var} is not set"))?,
        (None, true) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("--secret-stdin: cannot read standard input")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
        (None, false) => anyhow::bail!(
            "no secret: give --secret-env VAR (an environment variable holding it) or --secret-stdin, never on the command line (or, for an Entra app, --certificate-file and --private-key-file)"
        ),
    };
    if value.is_empty() {
        anyhow::bail!("the secret is empty");
    }
    Ok(Secret::new(value))
}

/// A certificate and its key from PEM files, checked (the key must be the certificate's).
fn read_certificate(cert: &Path, key: &Path) -> anyhow::Result<CertificatePem> {
    let read = |flag: &str, p: &Path| {
        std::fs::read_to_string(p).with_context(|| format!("{flag}: cannot read {}", p.display()))
    };
    let pem = CertificatePem {
        certificate: read("--certificate-file", cert)?,
        private_key: Secret::new(read("--private-key-file", key)?),
    };
    let c = ClientCertificate::from_pem(
        pem.certificate.as_bytes(),
        pem.private_key.expose().as_bytes(),
    )
    .map_err(|e| {
        let flag = match e {
            CertificateError::Certificate(_) => "--certificate-file",
            _ => "--private-key-file",
        };
        anyhow::anyhow!("{flag}: {e}")
    })?;
    eprintln!(
        "Certificate x5t#S256 {}, thumbprint {} in the Azure portal: the app registration must list this certificate.",
        c.thumbprint(),
        c.portal_thumbprint()
    );
    Ok(pem)
}

fn credential_set(a: &SetArgs) -> anyhow::Result<CredentialSet> {
    let need = |flag: &str, v: &Option<String>| {
        v.clone()
            .with_context(|| format!("--kind {} needs {flag}", a.kind))
    };
    Ok(match a.kind.as_str() {
        "user-password" => CredentialSet::UserPassword(UserPassword {
            user: need("--user", &a.user)?,
            password: read_secret(a)?,
            company_db: a.company_db.clone(),
        }),
        _ => {
            crate::systems::registry::check_url("--authority", &a.authority)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.setting, e.reason))?;
            let (client_secret, certificate) = match (&a.certificate_file, &a.private_key_file) {
                (Some(cert), Some(key)) => (Secret::default(), Some(read_certificate(cert, key)?)),
                _ => (read_secret(a)?, None),
            };
            CredentialSet::Entra(EntraApp {
                authority: a.authority.clone(),
                tenant_id: need("--tenant-id", &a.tenant_id)?,
                client_id: need("--client-id", &a.client_id)?,
                client_secret,
                certificate,
            })
        }
    })
}

fn set(a: &SetArgs) -> anyhow::Result<()> {
    let set = credential_set(a)?;
    let p = place(&a.store)?;
    let mut store = p.open(true)?;
    let replaced = store.set(&a.name, set)?;
    store.save()?;
    tracing::info!(credential = %a.name, file = %store.file().display(), replaced, "Credential stored.");
    println!(
        "{} credential '{}' in {} (key {}).",
        if replaced { "Replaced" } else { "Stored" },
        a.name,
        store.file().display(),
        store.key().id()
    );
    Ok(())
}

/// The systems of `cfg` whose credentials are the stored set `name`.
fn users_of(cfg: &Config, name: &str) -> Vec<String> {
    let r = Resolver::new(&cfg.auth, &cfg.credentials, &cfg.data_dir);
    [Side::Crm, Side::Erp]
        .into_iter()
        .filter_map(|side| cfg.system_section(side).ok())
        .map(|(reg, _)| reg.system.as_str().to_string())
        .filter(|s| r.origin(s).and_then(|(_, n)| n).as_deref() == Some(name))
        .collect()
}

fn list(a: &StoreArgs) -> anyhow::Result<()> {
    let p = place(a)?;
    if !p.file.exists() {
        println!(
            "No credential store at {}; `couplet credentials set NAME …` creates it.",
            p.file.display()
        );
        return Ok(());
    }
    let store = p.open(false)?;
    println!(
        "{:<20} {:<14} {:<25} {:<12} identity",
        "name", "kind", "updated", "used by"
    );
    for (name, s) in store.entries() {
        let used = p
            .config
            .as_ref()
            .map(|c| users_of(c, name).join(","))
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<20} {:<14} {:<25} {:<12} {}",
            name,
            s.set.kind(),
            s.updated.format("%Y-%m-%d %H:%M:%S UTC"),
            used,
            s.set.identity()
        );
    }
    println!(
        "{} credential(s) in {} (key {}).",
        store.entries().len(),
        store.file().display(),
        store.key().id()
    );
    Ok(())
}

async fn test(name: Option<&str>, a: &StoreArgs) -> anyhow::Result<bool> {
    let p = place(a)?;
    let mut cfg = p.config.context(
        "give --config FILE: the test signs in to the systems the config points at with the credentials it names",
    )?;
    cfg.credentials = p.section;
    if let Some(n) = name {
        // The stored set must exist, whether or not a system uses it.
        cfg.credentials.open_store(&cfg.data_dir)?.get(n)?;
    }
    let mut creds = Resolver::new(&cfg.auth, &cfg.credentials, &cfg.data_dir);
    let mut tested = 0;
    let mut ok = true;
    for side in [Side::Crm, Side::Erp] {
        let (reg, _) = cfg.system_section(side)?;
        let system = reg.system.as_str();
        let origin = creds.origin(system);
        if let Some(n) = name
            && origin.as_ref().and_then(|(_, c)| c.as_deref()) != Some(n)
        {
            continue;
        }
        let via = origin.map(|(setting, _)| setting).unwrap_or_default();
        tested += 1;
        let seen = match build::target(&cfg, side, &mut creds) {
            Ok(t) => t
                .connector()
                .test_connection()
                .await
                .map_err(anyhow::Error::from),
            Err(e) => Err(e),
        };
        match seen {
            Ok(seen) => println!("ok     {system} ({via}): {seen}"),
            Err(e) => {
                ok = false;
                println!("error  {system} ({via}): {e:#}");
            }
        }
    }
    if tested == 0
        && let Some(n) = name
    {
        anyhow::bail!(
            "no system of the config uses credential '{n}': name it with credential = \"{n}\" in [auth.<system>] (or [auth])"
        );
    }
    Ok(ok)
}

fn rotate(a: &RotateArgs) -> anyhow::Result<()> {
    let p = place(&a.store)?;
    if !p.file.exists() {
        anyhow::bail!(
            "no credential store at {}: nothing to re-encrypt",
            p.file.display()
        );
    }
    let mut store = p.open(false)?;
    let old = store.key().id();
    // With the key in a key file and no new key given, the new key replaces the file's: it
    // is written beside it first, the store re-encrypted, then the new file renamed over
    // the old, so that at every moment one of the two files opens the store.
    let (new, replace) = match (&a.new_key_file, &a.new_key_env, &p.section.key_file) {
        (Some(f), _, _) if f.exists() => (StoreKey::from_file(f)?, None),
        (Some(f), _, _) => (StoreKey::create_file(f)?, None),
        (None, Some(var), _) => (
            StoreKey::from_env(var)?
                .with_context(|| format!("--new-key-env: environment variable {var} is not set"))?,
            None,
        ),
        (None, None, Some(current)) => {
            let staged = staged_key_path(current);
            // The store opened with the current key above, so a `FILE.new` left by an
            // interrupted rotation holds no key the store needs.
            let _ = std::fs::remove_file(&staged);
            (
                StoreKey::create_file(&staged)?,
                Some((staged, current.clone())),
            )
        }
        (None, None, None) => anyhow::bail!(
            "the key comes from the environment variable {}: give the new key with --new-key-env VAR (after `export VAR=$(couplet credentials new-key)`) or --new-key-file FILE",
            p.section.key_env
        ),
    };
    if new.id() == old {
        anyhow::bail!("the new key is the current key ({old}); give another");
    }
    store.rekey(new.clone());
    store.save()?;
    if let Some((staged, current)) = &replace {
        std::fs::rename(staged, current).with_context(|| {
            format!(
                "the store is now encrypted under the key in {}; moving it over {} failed",
                staged.display(),
                current.display()
            )
        })?;
    }
    tracing::info!(file = %store.file().display(), old_key = %old, new_key = %new.id(), "Credential store re-encrypted.");
    println!(
        "Re-encrypted {} credential(s) in {} from key {old} to key {}.",
        store.entries().len(),
        store.file().display(),
        new.id()
    );
    match (&replace, &a.new_key_file, &a.new_key_env) {
        (Some((_, current)), _, _) => println!("The new key is in {}.", current.display()),
        (None, Some(f), _) => println!(
            "The new key is in {}: set [credentials] key_file = \"{}\" (the old key no longer opens the store).",
            f.display(),
            f.display()
        ),
        (None, None, Some(var)) => println!(
            "The new key is in {var}: set [credentials] key_env = \"{var}\", or put it in {} where Couplet runs.",
            p.section.key_env
        ),
        _ => {}
    }
    Ok(())
}

fn staged_key_path(current: &Path) -> PathBuf {
    let mut name = current.file_name().unwrap_or_default().to_os_string();
    name.push(".new");
    current.with_file_name(name)
}

fn new_key(file: Option<&Path>) -> anyhow::Result<()> {
    match file {
        Some(f) => {
            let k = StoreKey::create_file(f)?;
            println!("Wrote a new key ({}) to {} (0600).", k.id(), f.display());
        }
        None => println!("{}", StoreKey::generate("new key").encoded()),
    }
    Ok(())
}
