//! Dynamics 365 Finance & Operations.

pub mod events;
