//! Local emulators of Microsoft Entra ID, Dataverse and Business Central, seeded with
//! realistic data. Each runs as its own axum server on its own port; `couplet sandbox` starts
//! them, and `couplet demo` and the tests use them in-process through [`Sandbox`].

mod auth;
pub(crate) mod bc;
mod config;
pub(crate) mod dataverse;
mod entra;
mod error;
mod faults;
mod handle;
mod handle_fulfil;
pub(crate) mod http;
pub(crate) mod invoices;
mod names;
mod seed;
mod seed_invoices;
mod seed_orders;
mod seed_pricelists;
mod seed_quotes;
mod seed_sales;
mod shared;
pub(crate) mod table;
mod throttle;

pub use config::{Credentials, Fault, RateLimit, SandboxConfig, SandboxStats};
pub use error::SandboxError;
pub use handle::Sandbox;
pub use invoices::{InvoiceLine, InvoiceToPost, PostedInvoice, SourceOrder};
