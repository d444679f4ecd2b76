//! Couplet keeps a CRM (Dataverse) and an ERP (Business Central) in step, as an
//! event-sourced stream processor: capture → log → transform → apply → projection.
//!
//! See `README.md` for the flow and `../shared/DESIGN.md` for the shape.

pub mod apply;
#[cfg(test)]
mod architecture;
pub mod bus;
pub mod capture;
pub mod cli;
pub mod config;
pub mod console;
pub mod credentials;
pub mod drift;
pub mod dryrun;
pub mod error;
pub mod event;
pub mod flows;
pub mod fullsync;
pub mod invoices;
pub mod mapping;
pub mod metrics;
pub mod metrics_server;
pub mod odata;
pub mod opportunities;
pub mod orders;
pub mod pipeline;
pub mod private_fs;
pub mod quotes;
pub mod sandbox;
pub mod status_endpoint;
pub mod store;
pub mod systems;
pub mod transform;
pub mod waits;
