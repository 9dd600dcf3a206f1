//! `iq-interop lab` on loopback (Iq over TCP): both figures pass end to end with each UE (the
//! builtin one when this build has it, aiortc, OpenSSL+libsrtp), and a lab whose AGW cannot run
//! fails with a clear message and a non-zero status.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin_dir() -> PathBuf {
    common::bin("iq-agw", "iq-agw")
        .parent()
        .expect("bin dir")
        .to_path_buf()
}

fn lab(args: &[&str], dir: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .arg("lab")
        .args(args)
        .arg("--bin-dir")
        .arg(dir)
        .output()
        .expect("run iq-interop lab");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Exit 0, both figures PASS, and the ladder shows what the run must have done.
fn assert_passed(out: &Output, ice: bool) {
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "lab failed:\n{text}");
    assert!(
        text.contains("figure 6.2.10.5.1 (UE offers): PASS"),
        "{text}"
    );
    assert!(
        text.contains("figure 6.2.10.5.2 (core offers): PASS"),
        "{text}"
    );
    assert!(!text.contains("[FAIL]"), "{text}");
    // the Iq relay saw the ALG's Adds on both realms and the release
    for w in [
        "ALG -> AGW  Request",
        "Add $ (access, UDP/TLS/RTP/SAVP",
        "Add $ (core, RTP/AVP",
        "xdtls/estab",
        "Subtract ip/acc/t",
        "ClientHello from the AGW (expected from the AGW)",
        "ClientHello from the UE (expected from the UE)",
    ] {
        assert!(text.contains(w), "ladder lacks {w:?}:\n{text}");
    }
    assert_eq!(
        text.matches("[ok]  ICE checks").count(),
        if ice { 2 } else { 0 }
    );
}

#[test]
fn lab_default_ue_over_tcp_passes_both_figures() {
    let dir = bin_dir();
    let out = lab(&["--transport", "tcp", "--seconds", "2"], &dir);
    let text = String::from_utf8_lossy(&out.stdout);
    // the builtin UE and aiortc both do ICE
    assert_passed(&out, true);
    assert!(
        text.contains("UE   builtin") || text.contains("UE   aiortc"),
        "{text}"
    );
}

#[test]
fn lab_with_aiortc_ue_passes_both_figures() {
    if common::oracle_python("lab_loopback aiortc").is_none() {
        return;
    }
    let out = lab(
        &["--transport", "tcp", "--ue", "aiortc", "--seconds", "2"],
        &bin_dir(),
    );
    assert_passed(&out, true);
}

#[test]
fn lab_with_openssl_ue_passes_both_figures() {
    if common::oracle_python("lab_loopback openssl").is_none() {
        return;
    }
    let out = lab(
        &["--transport", "tcp", "--ue", "openssl", "--seconds", "2"],
        &bin_dir(),
    );
    assert_passed(&out, false);
}

#[test]
fn lab_over_udp_passes() {
    if common::oracle_python("lab_loopback udp").is_none() {
        return;
    }
    let out = lab(
        &["--transport", "udp", "--ue", "openssl", "--seconds", "1"],
        &bin_dir(),
    );
    assert_passed(&out, false);
}

#[test]
fn an_agw_that_exits_at_once_fails_the_lab_with_its_log() {
    let real = bin_dir();
    let fake = std::env::temp_dir().join(format!("iq-lab-fake-{}", std::process::id()));
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::copy(real.join("iq-alg"), fake.join("iq-alg")).unwrap();
    let agw = fake.join("iq-agw");
    std::fs::write(
        &agw,
        "#!/bin/sh\necho 'fake-agw: refusing to start' >&2\nexit 7\n",
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&agw).status().unwrap();
    let out = lab(&["--transport", "tcp"], &fake);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("agw exited early"), "{err}");
    assert!(
        err.contains("fake-agw: refusing to start"),
        "the AGW's last log lines are not shown: {err}"
    );
    // a directory without the daemons: named, with how to get them
    std::fs::remove_file(&agw).unwrap();
    let out = lab(&["--transport", "tcp"], &fake);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("iq-agw not found in"), "{err}");
    let _ = std::fs::remove_dir_all(&fake);
}
