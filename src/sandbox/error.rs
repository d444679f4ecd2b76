//! Errors of the sandbox handle.

use std::net::SocketAddr;

use crate::error::{Actor, Classify, Retry};
use crate::event::System;

/// Why a sandbox operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A certificate to register on the app is not a PEM certificate.
    #[error("sandbox client certificate {index}: not a PEM certificate ({reason})")]
    Certificate {
        /// Its position in `SandboxConfig::client_certificates`.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A server could not listen on its address.
    #[error("cannot listen for the {server} emulator on {addr}: {source}")]
    Bind {
        /// Which emulator.
        server: &'static str,
        /// The address tried.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The entity set is not emulated.
    #[error("{system} has no entity set '{entity_set}' in the sandbox")]
    UnknownEntity {
        /// The system.
        system: System,
        /// The entity set asked for.
        entity_set: String,
    },
    /// No row with that id.
    #[error("{system} {entity_set}({id}) does not exist")]
    NotFound {
        /// The system.
        system: System,
        /// The entity set.
        entity_set: String,
        /// The id.
        id: String,
    },
    /// The emulated system rejected the write, as its API would (the message names the field).
    #[error("{system} rejected the write to {entity_set}({id}): {code} {message}")]
    Rejected {
        /// The system.
        system: System,
        /// The entity set.
        entity_set: String,
        /// The id, or `new` for a create.
        id: String,
        /// The system's error code.
        code: String,
        /// The system's error message.
        message: String,
    },
    /// Finance & Operations refused the change, as its OData service would (the message is
    /// its `innererror.message`).
    #[error("Finance & Operations rejected the change to {entity_set}: {status} {message}")]
    FoRejected {
        /// The entity set (public collection name).
        entity_set: String,
        /// The HTTP status F&O answers with.
        status: u16,
        /// The error text.
        message: String,
    },
}

impl Classify for SandboxError {
    fn actor(&self) -> Actor {
        match self {
            SandboxError::Bind { .. }
            | SandboxError::Certificate { .. }
            | SandboxError::Rejected { .. }
            | SandboxError::NotFound { .. }
            | SandboxError::FoRejected { .. } => Actor::User,
            SandboxError::UnknownEntity { .. } => Actor::Internal,
        }
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            SandboxError::Bind { .. } => "bind",
            SandboxError::Certificate { .. } => "certificate",
            SandboxError::UnknownEntity { .. } => "unknown_entity",
            SandboxError::NotFound { .. } => "not_found",
            SandboxError::Rejected { .. } | SandboxError::FoRejected { .. } => "validation",
        }
    }
}
