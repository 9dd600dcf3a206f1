//! Traces recorded from our own lab runs replay with zero mismatches.
//!
//! For TCP and UDP, each in text and in binary: `iq-interop lab --pcap F --seconds 1` runs both
//! TS 23.334 6.2.10.5 figures (iq-alg, iq-agw, our UE and core peer); then `replay --as mgc`
//! of that capture against a fresh `iq-agw` (same transport and encoding, other port ranges):
//! every recorded ALG request must be answered as recorded, with the AGW's IDs, ports,
//! fingerprints and ICE credentials learnt and substituted.
//!
//! The number of transactions replayed must be the number of ALG requests the lab's own ladder
//! printed (its `Iq    ALG -> AGW  Request` lines, from the relay, not from the capture), so an
//! empty or truncated replay cannot pass.

mod common;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, Proc};
use serde_json::Value;

const ALG_MID: &str = "<alg.lab.example.net>";
const AGW_MID: &str = "<agw.lab.example.net>";

fn dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay_lab");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the lab; returns the capture and the number of ALG requests its ladder showed.
fn lab(transport: &str, encoding: &str) -> (PathBuf, usize) {
    let bin_dir = bin("iq-agw", "iq-agw").parent().unwrap().to_path_buf();
    let _ = bin("iq-alg", "iq-alg");
    let file = dir().join(format!("lab-{transport}-{encoding}.pcap"));
    let _ = std::fs::remove_file(&file);
    let out = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(["lab", "--transport", transport, "--encoding", encoding])
        .args(["--seconds", "1", "--ue", "builtin", "--pcap"])
        .arg(&file)
        .arg("--bin-dir")
        .arg(&bin_dir)
        .output()
        .expect("run the lab");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    println!("{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "the lab failed");
    assert!(
        text.contains(&format!(
            "(Iq {} 127.0.0.1:",
            transport.to_ascii_uppercase()
        )) && text.contains(&format!(", H.248 {encoding})")),
        "the lab did not say it ran {transport} {encoding}"
    );
    let requests = text
        .lines()
        .filter(|l| l.contains("  Iq    ALG -> AGW  Request "))
        .count();
    assert!(requests >= 6, "too few ALG requests in the ladder:\n{text}");
    (file, requests)
}

/// `replay --list` of the capture: the decoded messages.
fn listing(pcap: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(["replay", "--list"])
        .arg(pcap)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn free_port(transport: &str) -> u16 {
    if transport == "udp" {
        UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}

fn agw_config(transport: &str, encoding: &str, controller: SocketAddr) -> String {
    format!(
        r#"
[iq]
transport = "{transport}"
controller = "{controller}"
controller_mid = "{ALG_MID}"
encoding = "{encoding}"
mid = "{AGW_MID}"

[reconnect]
initial_ms = 200
max_ms = 1000

[[media.realm]]
name = "access"
address = "127.0.0.1"
ports = "47800-47839"

[[media.realm]]
name = "core"
address = "127.0.0.1"
ports = "47900-47939"
"#
    )
}

/// Waits for `child`; its stdout.
fn finish(mut child: std::process::Child, what: &str) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    println!("--- {what}\n{stdout}");
    (status.code(), stdout)
}

fn verdicts(out: &str) -> (usize, Vec<&str>) {
    let matched = out.lines().filter(|l| l.starts_with("MATCH ")).count();
    let bad = out
        .lines()
        .filter(|l| l.starts_with("MISMATCH") || l.starts_with("FAILED"))
        .collect();
    (matched, bad)
}

/// `replay --as mgc` of the lab's capture against a fresh iq-agw.
fn replay_as_mgc(transport: &str, encoding: &str, pcap: &Path, requests: usize) {
    let port = free_port(transport);
    let listen: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args([
            "replay",
            "--as",
            "mgc",
            "--quiet",
            "--fast",
            "--timeout",
            "10",
        ])
        .args([
            "--target",
            "127.0.0.1:0",
            "--transport",
            transport,
            "--listen",
        ])
        .arg(listen.to_string())
        .arg(pcap)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _agw = Proc::daemon(
        "agw",
        &bin("iq-agw", "iq-agw"),
        &agw_config(transport, encoding, listen),
        &[],
    );
    let (code, out) = finish(child, &format!("replay --as mgc {transport} {encoding}"));
    let (matched, bad) = verdicts(&out);
    assert!(bad.is_empty(), "{transport} {encoding}: mismatches:\n{out}");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(matched, requests, "{transport} {encoding}:\n{out}");
    assert!(
        out.contains(&format!(
            "{requests} transaction(s): {requests} matched, 0 did not; 0 trace error(s)"
        )),
        "{out}"
    );
}

/// One lab at a time: the machine is small and the replays' AGWs share port ranges.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn check(transport: &str, encoding: &str) {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (pcap, requests) = lab(transport, encoding);
    // the capture is read back with the encoding and transport the lab used
    let list = listing(&pcap);
    assert!(!list.is_empty());
    for l in &list {
        assert_eq!(l["transport"], transport, "{l}");
        let want = if encoding == "binary" {
            "binary"
        } else {
            "text"
        };
        assert_eq!(l["encoding"], want, "{l}");
    }
    replay_as_mgc(transport, encoding, &pcap, requests);
}

#[test]
fn lab_tcp_text_replays_with_zero_mismatches() {
    check("tcp", "text");
}

#[test]
fn lab_tcp_binary_replays_with_zero_mismatches() {
    check("tcp", "binary");
}

#[test]
fn lab_udp_text_replays_with_zero_mismatches() {
    check("udp", "text");
}

#[test]
fn lab_udp_binary_replays_with_zero_mismatches() {
    check("udp", "binary");
}
