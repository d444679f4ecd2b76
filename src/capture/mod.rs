//! Change capture: the runner of the change sources each connector plans (Dataverse's change
//! tracking and Business Central's polling live in their folders), the shared watermark poller
//! and scheduled reads, turning changes into events on the log, with checkpoints saved only
//! after the events they cover are appended.

pub mod emit;
pub mod plan;
pub mod runner;
pub mod scheduled;
pub mod status;
pub mod watermark;

pub use plan::{CaptureContext, CapturePlan, CaptureTask};
pub use status::CaptureStatus;
