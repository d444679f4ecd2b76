//! The one HTTP retry policy shared by every system client.

pub mod authenticator;
pub mod client;
pub mod config;
pub mod gate;
pub mod page;
pub mod retry;
pub mod urls;

pub use authenticator::{Authenticator, Credential};
pub use client::ApiClient;
pub use config::HttpConfig;
pub use gate::HostGate;
pub use retry::{RetryAction, classify, parse_retry_after};
