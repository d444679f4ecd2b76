//! Local emulators of Microsoft Entra ID, Dataverse, Business Central and Finance &
//! Operations, seeded with realistic data: one neutral world (`world/`) generated from the
//! seed, which each emulator renders into its own tables (`dataverse/render.rs`,
//! `bc/render.rs`, `fo/render.rs`). Each runs as its own axum server on its own port;
//! `couplet sandbox` starts them, and `couplet demo` and the tests use them in-process through
//! [`Sandbox`].

mod auth;
pub(crate) mod bc;
mod config;
pub(crate) mod dataverse;
mod entra;
mod entra_assertion;
mod error;
mod faults;
pub(crate) mod fo;
mod handle;
mod handle_fo;
mod handle_fulfil;
pub(crate) mod http;
pub(crate) mod invoices;
mod seed;
mod serve;
mod shared;
mod spoil;
pub(crate) mod table;
mod throttle;
mod world;

pub use config::{
    BusinessEventsConfig, Credentials, Fault, FaultKind, FoConfig, Lost, RateLimit, Requests,
    SandboxConfig, SandboxStats,
};
pub use error::SandboxError;
pub use handle::Sandbox;
pub use invoices::{InvoiceLine, InvoiceToPost, PostedInvoice, SourceOrder};
