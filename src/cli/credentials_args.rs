//! `couplet credentials …` arguments. Secrets are never taken from the command line (where
//! `ps` and shell histories show them): from an environment variable or standard input.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// Where the store and its key are.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// A config file: its `data_dir` and `[credentials]` section say where the store and
    /// its key are (and `test` connects its systems).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The store file (instead of the config's; default `couplet-data/credentials.enc`).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// The key file (instead of the config's, or of the key variable).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

/// `couplet credentials …`.
#[derive(Debug, Subcommand)]
pub enum CredentialsAction {
    /// Store a credential set under NAME, replacing a set of that name (this is how a secret
    /// is replaced). Creates the store, and the key file when one is configured and missing.
    Set(SetArgs),
    /// The stored sets: name, kind, identity (tenant and client id, or user), when set, and
    /// which systems of the config use it. Never a secret.
    List(StoreArgs),
    /// Sign in with stored credentials: every system of the config that uses NAME (or every
    /// system, without NAME) authenticates and reads something small.
    Test {
        /// The stored set to test.
        name: Option<String>,
        /// Where.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Re-encrypt the whole store under a new key. With a key file and no option: a new key
    /// replaces the key file's. Secrets are replaced with `set`, not here.
    Rotate(RotateArgs),
    /// Print a new random key (for the key variable), or write it to a new key file (`0600`).
    NewKey {
        /// Write it to this file (which must not exist) instead of printing it.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

/// `couplet credentials set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The set's name, referred to from the config with `credential = "NAME"`.
    pub name: String,
    /// `entra` (an Entra ID app: Dataverse, Business Central, F&O) or `user-password`
    /// (SAP Business One's Service Layer).
    #[arg(long, default_value = "entra", value_parser = ["entra", "user-password"])]
    pub kind: String,
    /// Entra ID authority (token host), ending in `/`.
    #[arg(long, default_value = crate::credentials::model::DEFAULT_AUTHORITY)]
    pub authority: String,
    /// Directory (tenant) id or domain (entra).
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// Application (client) id (entra).
    #[arg(long)]
    pub client_id: Option<String>,
    /// User name (user-password).
    #[arg(long)]
    pub user: Option<String>,
    /// Company database (user-password, SAP Business One).
    #[arg(long)]
    pub company_db: Option<String>,
    /// Read the secret (client secret or password) from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "secret_stdin")]
    pub secret_env: Option<String>,
    /// Read the secret from the first line of standard input.
    #[arg(long)]
    pub secret_stdin: bool,
    /// Sign in with this certificate (PEM) instead of a client secret (entra): one uploaded
    /// to the app registration. Stored (encrypted) with its key.
    #[arg(long, value_name = "FILE", requires = "private_key_file", conflicts_with_all = ["secret_env", "secret_stdin"])]
    pub certificate_file: Option<PathBuf>,
    /// The certificate's private key (PEM, RSA), with --certificate-file.
    #[arg(long, value_name = "FILE", requires = "certificate_file")]
    pub private_key_file: Option<PathBuf>,
    /// Where.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `couplet credentials rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The new key's file: read when it exists (it must be `0600`), else created.
    #[arg(long, value_name = "FILE", conflicts_with = "new_key_env")]
    pub new_key_file: Option<PathBuf>,
    /// The environment variable holding the new key.
    #[arg(long, value_name = "VAR")]
    pub new_key_env: Option<String>,
    /// Where (the current key).
    #[command(flatten)]
    pub store: StoreArgs,
}
