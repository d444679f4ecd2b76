//! `couplet … | head -1`: a reader that leaves early ends the command quietly, not with a
//! panic (exit 101).

use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_couplet"))
        .args(["mappings", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("couplet runs");
    // The reader leaves before the command prints its first line.
    drop(child.stdout.take());
    let status = child.wait().expect("couplet ends");
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut stderr).expect("stderr");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}
