//! Change capture: Dataverse change tracking and Business Central polling, turned into
//! events on the log, with checkpoints saved only after the events they cover are appended.

pub mod availability;
pub mod bc;
pub mod dataverse;
pub mod emit;
pub mod plan;
pub mod runner;
pub mod scheduled;
pub mod status;
pub mod watermark;

pub use bc::BcCapture;
pub use dataverse::DataverseCapture;
pub use plan::{CaptureContext, CapturePlan, CaptureTask};
pub use status::CaptureStatus;
