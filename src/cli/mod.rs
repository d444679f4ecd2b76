//! The command line.

/// Entry point of the `couplet` binary.
pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
