//! `iq-interop lab --netns`: placeholder until the namespace deployment lands.

use std::process::ExitCode;

use super::LabArgs;

/// Run the lab in network namespaces.
pub fn run(_args: LabArgs) -> ExitCode {
    eprintln!("iq-interop lab --netns: not implemented yet");
    ExitCode::from(2)
}
