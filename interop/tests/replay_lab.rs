//! Traces recorded from our own lab runs replay with zero mismatches.
//!
//! For TCP and UDP, each in text and in binary: `iq-interop lab --pcap F --seconds 1` runs both
//! TS 23.334 6.2.10.5 figures (iq-alg, iq-agw, our UE and core peer); then
//!
//! - `replay --as mgc` of that capture against a fresh `iq-agw` (same transport and encoding,
//!   other port ranges): every recorded ALG request must be answered as recorded, with the
//!   AGW's IDs, ports, fingerprints and ICE credentials learnt and substituted;
//! - `replay --as mg` of it against a fresh `iq-alg`: the test drives the ALG's ng front as the
//!   lab did (offer, answer, delete per figure, with the SDPs the recorded requests carried as
//!   Remote descriptors), the replay answers with the recorded AGW's replies, and every request
//!   the ALG sends must be the recorded one.
//!
//! The number of transactions replayed must be the number of ALG requests the lab's own ladder
//! printed (its `Iq    ALG -> AGW  Request` lines, from the relay, not from the capture), so an
//! empty or truncated replay cannot pass.

mod common;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::ng::{Ng, B};
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

fn alg_config(transport: &str, encoding: &str, iq: SocketAddr, ng: SocketAddr) -> String {
    format!(
        r#"
[iq]
transport = "{transport}"
listen = "{iq}"
encoding = "{encoding}"
mid = "{ALG_MID}"
keepalive_secs = 30

[ng]
listen = "{ng}"

[[agw]]
mid = "{AGW_MID}"
address = "127.0.0.1"
"#
    )
}

/// SDP text of the first Remote descriptor in `v` (property `name=value` lines, in order).
fn remote_sdp(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("remote") {
                let lines: Vec<String> = r["groups"][0]
                    .as_array()?
                    .iter()
                    .map(|p| {
                        format!(
                            "{}={}",
                            p["name"].as_str().unwrap_or(""),
                            p["value"][0].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                return Some(lines.join("\r\n") + "\r\n");
            }
            o.values().find_map(remote_sdp)
        }
        Value::Array(a) => a.iter().find_map(remote_sdp),
        _ => None,
    }
}

/// `replay --as mg` of the lab's capture against a fresh iq-alg, driving its ng front as the
/// lab did: per figure (the recorded requests up to a Subtract) an offer with the SDP of the
/// first recorded Remote descriptor, an answer with the SDP of the Modify's Remote, a delete;
/// every request the ALG sends must be the recorded one (role values mapped).
fn replay_as_mg(transport: &str, encoding: &str, pcap: &Path, list: &[Value], requests: usize) {
    // the recorded ALG requests, in order: (command names, the request's JSON)
    let mut reqs: Vec<(Vec<String>, Value)> = Vec::new();
    for l in list.iter().filter(|l| l["direction"] == "mgc->mg") {
        for t in l["message"]["body"]["transactions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(r) = t.get("request") else { continue };
            let names = r["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|a| a["commands"].as_array().cloned().unwrap_or_default())
                .filter_map(|c| {
                    c["command"]
                        .as_object()
                        .and_then(|o| o.keys().next().cloned())
                })
                .collect();
            reqs.push((names, r.clone()));
        }
    }
    assert_eq!(reqs.len(), requests, "{reqs:?}");
    let mut figures: Vec<(String, String)> = Vec::new();
    let mut offer = None;
    for (names, r) in &reqs {
        if offer.is_none() {
            // The ALG keeps the role out of the Remote descriptor (it says it with the
            // xdtls/estab signal instead), so the UE's WebRTC offer gets back the
            // `a=setup:actpass` every such offer carries (RFC 8842).
            offer = remote_sdp(r).map(|sdp| {
                if sdp.contains("UDP/TLS/") && !sdp.contains("a=setup:") {
                    sdp + "a=setup:actpass\r\n"
                } else {
                    sdp
                }
            });
        }
        if names.iter().any(|n| n == "modify") {
            let answer = remote_sdp(r).expect("the Modify carries the answer's SDP");
            figures.push((offer.take().expect("an offer before the answer"), answer));
        }
    }
    assert_eq!(figures.len(), 2, "{reqs:?}");
    let iq = SocketAddr::from(([127, 0, 0, 1], free_port(transport)));
    let ng_addr = SocketAddr::from(([127, 0, 0, 1], free_port("udp")));
    let mut alg = Proc::daemon(
        "alg",
        &bin("iq-alg", "iq-alg"),
        &alg_config(transport, encoding, iq, ng_addr),
        &[],
    );
    alg.wait_for(&["listening on"], Duration::from_secs(10));
    let child = Command::new(env!("CARGO_BIN_EXE_iq-interop"))
        .args(["replay", "--as", "mg", "--quiet", "--timeout", "10"])
        .args(["--transport", transport, "--target"])
        .arg(iq.to_string())
        .arg(pcap)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    alg.wait_for(&["AGW in service for sessions"], Duration::from_secs(15));
    let mut ng = Ng::new(ng_addr);
    for (i, (offer, answer)) in figures.iter().enumerate() {
        let call = format!("replay-lab-{i}");
        let r = ng.call(B::d(&[
            ("command", B::s("offer")),
            ("call-id", B::s(&call)),
            ("from-tag", B::s("lab-from")),
            ("sdp", B::s(offer)),
        ]));
        assert_eq!(
            r.get("result").and_then(B::str).as_deref(),
            Some("ok"),
            "offer {i}: {r:?}"
        );
        let r = ng.call(B::d(&[
            ("command", B::s("answer")),
            ("call-id", B::s(&call)),
            ("from-tag", B::s("lab-from")),
            ("to-tag", B::s("lab-to")),
            ("sdp", B::s(answer)),
        ]));
        assert_eq!(
            r.get("result").and_then(B::str).as_deref(),
            Some("ok"),
            "answer {i}: {r:?}"
        );
        let r = ng.call(B::d(&[
            ("command", B::s("delete")),
            ("call-id", B::s(&call)),
            ("from-tag", B::s("lab-from")),
        ]));
        assert_eq!(
            r.get("result").and_then(B::str).as_deref(),
            Some("ok"),
            "delete {i}: {r:?}"
        );
    }
    let (code, out) = finish(child, &format!("replay --as mg {transport} {encoding}"));
    let (matched, bad) = verdicts(&out);
    assert!(bad.is_empty(), "{transport} {encoding}: mismatches:\n{out}");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(matched, requests, "{transport} {encoding}:\n{out}");
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
    replay_as_mg(transport, encoding, &pcap, &list, requests);
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
