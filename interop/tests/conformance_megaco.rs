//! `iq-interop conformance` against a third-party MG: Erlang/OTP megaco's scripted MG
//! (`interop/peers/megaco/megaco_mg.escript`, see its README), TCP, text. It answers Add, Modify,
//! Subtract, AuditValue and ServiceChange with its own simple logic and has no media plane.
//!
//! What megaco's MG is held to, per scenario:
//! - PASS: registration (started with `--profile threegiq/1`; megaco sends Restart 901, version
//!   3), audit-root (it lists g, root, nt, rtp), audit-termination, plain-call (it fills `$` in c=
//!   and m=), re-offer (Modify keeps the mode, its audit reports it), release (statistics on
//!   Subtract, wildcard Subtract `*`, 411 afterwards), audit-all-contexts (the scripted MG answers
//!   an action on context ALL per context), error-unknown-context (411),
//!   error-unknown-termination (430), error-syntax (megaco answers a syntax error), service-change
//!   (it accepts MGC-directed ServiceChanges), error-unknown-package (440: the scripted MG accepts
//!   the base and Iq mandatory packages and refuses others, as an MG application must; megaco
//!   itself leaves package checks to the application).
//! - N/A: the three figure scenarios, because it does not announce the DTLS package `xdtls` (it
//!   is a plain H.248 MG, not an eIMS-AGW: fingerprints, ICE and the Establish signal are out of
//!   its reach); the media scenarios for the same reason (and it has no media plane); handoff
//!   (no `--handoff-to`; megaco_mg does not follow a HandOff anyway).
//!
//! Needs `escript` (Debian erlang-base + erlang-megaco): fails under CI without it, else a loud
//! SKIPPED.

mod conformance_util;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use conformance_util::{free_port, junit_matches_summary, Run};

fn have_escript() -> bool {
    let found = Command::new("sh")
        .args(["-c", "command -v escript"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("escript is not installed (Debian erlang-base, erlang-megaco)");
        }
        let _ = std::io::stderr().lock().write_all(
            b"\n*** SKIPPED conformance_megaco: escript is not installed. This test did NOT run. ***\n",
        );
    }
    found
}

#[test]
fn megaco_mg_passes_the_signalling_scenarios_it_can_do_and_media_is_not_applicable() {
    if !have_escript() {
        return;
    }
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut run = Run::start(&[
        "--mg",
        "<mg1.example.net>@127.0.0.1",
        "--listen",
        &listen,
        "--transport",
        "tcp",
        "--media",
        "--register-timeout",
        "20",
    ]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/megaco/megaco_mg.escript");
    let mut mg = Command::new("escript")
        .arg(script)
        .args([
            "--mgc",
            &listen,
            "--transport",
            "tcp",
            "--encoding",
            "text",
            "--mid",
            "<mg1.example.net>",
            "--profile",
            "threegiq/1",
            "--exit-after",
            "40",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start megaco_mg");
    let (code, table) = run.finish(Duration::from_secs(60));
    let _ = mg.kill();
    let _ = mg.wait();
    let pass = [
        "registration",
        "audit-root",
        "audit-termination",
        "plain-call",
        "re-offer",
        "release",
        "audit-all-contexts",
        "error-unknown-context",
        "error-unknown-termination",
        "error-syntax",
        "service-change",
        "error-unknown-package",
    ];
    let na_xdtls = [
        "fig-6.2.10.5.1",
        "fig-6.2.10.5.2",
        "fig-6.2.10.5.2-agw-client",
        "media-fig-6.2.10.5.1",
        "media-fig-6.2.10.5.2",
        "dtls-failure",
    ];
    for n in pass {
        assert_eq!(
            table.get(n).map(String::as_str),
            Some("PASS"),
            "{}",
            run.line(n)
        );
    }
    for n in na_xdtls {
        assert_eq!(
            table.get(n).map(String::as_str),
            Some("N/A"),
            "{}",
            run.line(n)
        );
        assert!(run.line(n).contains("xdtls"), "{}", run.line(n));
    }
    assert_eq!(table["handoff"], "N/A");
    assert_eq!(table.len(), pass.len() + na_xdtls.len() + 1);
    assert_eq!(
        code,
        Some(0),
        "every signalling scenario passes, the rest is N/A"
    );
    junit_matches_summary(&run.junit, &table);
}
