//! Dynamics 365 Finance & Operations **Business Events**, received over HTTP: a push that
//! wakes the F&O watermark polls early.
//!
//! F&O posts one small JSON event per change to a registered HTTPS endpoint (here the custom
//! `CustomerChangedBusinessEvent`, `ReleasedProductChangedBusinessEvent` and
//! `SalesOrderChangedBusinessEvent`, see [`payload::KNOWN_EVENTS`]). The [`Receiver`] checks
//! the shared-secret header, reads the event ([`payload`]), drops duplicates and stale
//! deliveries ([`dedup`]) and, for a fresh event, wakes the polls of the entity set it
//! concerns ([`Wakes`]). It never carries the change itself: the poll reads it, and stays the
//! source of truth, so an event lost or refused only delays a change to the next interval.
//!
//! Wiring, from an F&O configuration section:
//!
//! ```ignore
//! let wakes = Wakes::new();
//! let receiver = Receiver::start(&fo_cfg.business_events, wakes.clone()).await?;
//! // each F&O watermark poll, e.g. the customers':
//! let wake = wakes.subscribe("CustomersV3");
//! // … in its loop, instead of sleeping out the interval:
//! tokio::select! { _ = tokio::time::sleep(interval) => {}, _ = wake.notified() => {} }
//! // at the end:
//! receiver.shutdown().await;
//! ```

pub mod config;
pub mod dedup;
pub mod endpoint;
pub mod payload;
pub mod receiver;
pub mod stats;
pub mod tls;
pub mod wakes;

mod auth;

pub use config::BusinessEventsConfig;
pub use dedup::{Dedup, RecordRef, Verdict};
pub use endpoint::EventEndpoint;
pub use payload::{BusinessEvent, KNOWN_EVENTS, KnownEvent, PayloadError};
pub use receiver::{Receiver, ReceiverError};
pub use stats::{EventStats, Outcome};
pub use wakes::Wakes;
