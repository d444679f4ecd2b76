//! OData query pieces shared by the sandbox emulators and the mapping engine.

pub mod csdl;
pub mod filter;
