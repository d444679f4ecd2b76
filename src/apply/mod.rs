//! Apply: idempotent writes to the target systems.

pub mod conflict;
pub mod intent;
pub mod locks;
pub mod stage;
pub mod writer;

pub use crate::systems::Targets;
pub use stage::ApplyStage;
pub use writer::Writer;
