//! Over real HTTP, without the engine: the sandbox's emulators (Dataverse, Business Central,
//! Finance & Operations, Entra ID) and their metadata endpoints, and Couplet's system clients
//! against a scripted server.
//!
//! One test binary, so the library and librdkafka are linked once for all of them. Each module
//! is a former `tests/<name>.rs`: run one with `cargo test --test http <name>::`
//! (e.g. `cargo test --test http systems_clients::`).

mod sandbox_support;
mod systems_support;

mod authenticator;
mod certificate_auth;
mod dataverse_annotations;
mod fo_business_events;
mod fo_connector;
mod fo_sandbox_http;
mod metadata_endpoints;
mod sandbox_faults;
mod sandbox_http;
mod sandbox_quotes_http;
mod systems_clients;
