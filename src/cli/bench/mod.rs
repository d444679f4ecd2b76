//! `couplet bench`: long runs that measure Couplet against the sandbox.

pub mod chaos;
