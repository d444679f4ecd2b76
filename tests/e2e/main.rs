//! End-to-end runs of the engine against the sandbox, in-process: initial and live sync,
//! deletes, faults, full sync, the default catalogue, schedules, policies, sales orders,
//! quotes, invoices, availability, create intents, replay and rebuild, Avro interop, and a log
//! written before the connector interface.
//!
//! One test binary, so the library and librdkafka are linked once for all of them. Each module
//! is a former `tests/<name>.rs`: run one with `cargo test --test e2e <name>::`
//! (e.g. `cargo test --test e2e e2e_sync::`). Metrics are process-global and shared by every
//! test here (see `common`).

#[path = "../common/mod.rs"]
mod common;
mod orders_support;

mod avro_interop;
mod create_intents;
mod dry_run;
mod e2e_availability;
mod e2e_bad_input;
mod e2e_catalogue;
mod e2e_deletes;
mod e2e_drift;
mod e2e_faults;
mod e2e_fo;
mod e2e_fo_orders;
mod e2e_fo_prices;
mod e2e_full_sync;
mod e2e_full_sync_catalogue;
mod e2e_invoices;
mod e2e_orders;
mod e2e_orders_back;
mod e2e_orders_flow;
mod e2e_policies;
mod e2e_quotes;
mod e2e_restart;
mod e2e_schedules;
mod e2e_sync;
mod log_compat;
mod replay_rebuild;
