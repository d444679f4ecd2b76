//! Apply: idempotent writes to the target systems.

pub mod conflict;
pub mod intent;
pub mod locks;
pub mod stage;
pub mod targets;
pub mod writer;

pub use stage::ApplyStage;
pub use targets::Targets;
pub use writer::Writer;
