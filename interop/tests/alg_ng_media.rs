//! The ALG and the AGW together, driven through the ALG's rtpengine-compatible ng front as a SIP
//! proxy (Kamailio's rtpengine module) would: both figures of TS 23.334 6.2.10.5 complete, and a
//! real DTLS handshake from a third-party peer (OpenSSL, with libsrtp for SRTP) completes against
//! the fingerprint and role the ALG signalled; the audio is relayed SRTP<->RTP both ways.

mod common;

use std::time::Duration;

use common::media::{rtp_list, same_packets, CorePeer, Ue};
use common::ng::{Ng, B};
use common::{bin, oracle_python, Proc};
use serde_json::json;

/// Start `iq-alg` (Iq on TCP, ng on `ng_port`) and `iq-agw` registered with it.
fn start(ng_port: u16, access: (u16, u16), core: (u16, u16)) -> (Proc, Proc, Ng) {
    let alg_cfg = format!(
        r#"
[iq]
transport = "tcp"
listen = "127.0.0.1:0"
encoding = "text"
mid = "<alg1.example.net>"
keepalive_secs = 30

[ng]
listen = "127.0.0.1:{ng_port}"

[[agw]]
mid = "<agw1.example.net>"
address = "127.0.0.1"
"#
    );
    let mut alg = Proc::daemon("alg", &bin("iq-alg", "iq-alg"), &alg_cfg, &[]);
    let line = alg.wait_for(&["listening on"], Duration::from_secs(10));
    let iq: std::net::SocketAddr = line
        .rsplit("listening on ")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let agw_cfg = format!(
        r#"
[iq]
transport = "tcp"
controller = "{iq}"
controller_mid = "<alg1.example.net>"
encoding = "text"
mid = "<agw1.example.net>"

[reconnect]
initial_ms = 200
max_ms = 1000

[[media.realm]]
name = "access"
address = "127.0.0.1"
ports = "{}-{}"

[[media.realm]]
name = "core"
address = "127.0.0.1"
ports = "{}-{}"
"#,
        access.0, access.1, core.0, core.1
    );
    let mut agw = Proc::daemon("agw", &bin("iq-agw", "iq-agw"), &agw_cfg, &[]);
    agw.wait_for(&["registered"], Duration::from_secs(10));
    let ng = Ng::new(format!("127.0.0.1:{ng_port}").parse().unwrap());
    (alg, agw, ng)
}

fn attr<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines().find_map(|l| l.trim_end().strip_prefix(name))
}

fn media_addr(sdp: &str) -> std::net::SocketAddr {
    let ip = attr(sdp, "c=IN IP4 ").expect("c= line").trim();
    let port = attr(sdp, "m=audio ")
        .and_then(|m| m.split_whitespace().next())
        .expect("m= line");
    format!("{ip}:{port}").parse().unwrap()
}

fn ok_sdp(reply: &B) -> String {
    assert_eq!(
        reply.get("result").and_then(B::str).as_deref(),
        Some("ok"),
        "{reply:?}"
    );
    reply.get("sdp").and_then(B::str).expect("sdp in the reply")
}

/// The UE's SDP (no ICE: the AGW reaches it at its SDP address).
fn ue_sdp(port: u16, fingerprint: &str, setup: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n\
         a=fingerprint:{fingerprint}\r\na=setup:{setup}\r\na=tls-id:ue0123456789abcdefghij\r\n"
    )
}

fn core_sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

/// What the SDP towards the core must not carry, and what the SDP towards the UE must.
fn check_core_side(sdp: &str) {
    assert!(sdp.contains(" RTP/AVP "), "core SDP not RTP/AVP:\n{sdp}");
    for a in ["a=fingerprint", "a=setup", "a=tls-id", "a=ice-"] {
        assert!(!sdp.contains(a), "core SDP carries {a}:\n{sdp}");
    }
}

fn check_ue_side(sdp: &str, setup: &str) -> String {
    assert!(sdp.contains(" UDP/TLS/RTP/SAVP "), "UE SDP proto:\n{sdp}");
    assert_eq!(attr(sdp, "a=setup:").map(str::trim), Some(setup), "{sdp}");
    let tls_id = attr(sdp, "a=tls-id:").expect("ALG tls-id").trim();
    assert!(tls_id.len() >= 20 && tls_id != "ue0123456789abcdefghij");
    let fp = attr(sdp, "a=fingerprint:").expect("AGW fingerprint").trim();
    assert!(fp.starts_with("sha-256 "), "{fp}");
    fp.to_string()
}

fn run_media(
    ue: &mut Ue,
    agw_access: std::net::SocketAddr,
    agw_core: std::net::SocketAddr,
    fp: &str,
    ue_role: &str,
    core: &mut CorePeer,
) -> serde_json::Value {
    ue.send(json!({
        "cmd": "run", "remote": agw_access.to_string(), "role": ue_role,
        "peer_fingerprint": fp, "seconds": 2.5, "packets": 50,
    }));
    core.run(agw_core, 50, 0, Duration::from_millis(3000));
    let report = ue.read()["report"].clone();
    assert_eq!(report["handshake"], "ok", "{report}");
    same_packets(
        &core.received,
        &rtp_list(&report["sent_rtp"]),
        "UE->core RTP",
    );
    same_packets(&rtp_list(&report["recv_rtp"]), &core.sent, "core->UE RTP");
    assert!(
        core.rtcp_received > 0 && report["recv_rtcp"].as_u64().unwrap() > 0,
        "RTCP both ways"
    );
    report
}

fn delete(ng: &mut Ng, call: &str) {
    let r = ng.call(B::d(&[
        ("command", B::s("delete")),
        ("call-id", B::s(call)),
        ("from-tag", B::s("ft")),
    ]));
    assert_eq!(
        r.get("result").and_then(B::str).as_deref(),
        Some("ok"),
        "{r:?}"
    );
    let l = ng.call(B::d(&[("command", B::s("list"))]));
    let calls = format!("{:?}", l.get("calls"));
    assert!(
        !calls.contains(call),
        "call still listed after delete: {calls}"
    );
}

#[test]
fn ue_originated_figure_6_2_10_5_1_through_ng_with_openssl_ue() {
    let Some(py) = oracle_python("alg_ng_media") else {
        return;
    };
    let (_alg, _agw, mut ng) = start(22301, (33000, 33019), (34000, 34019));
    let mut ue = Ue::start(&py, "dtls_ue.py", true);
    let ue_fp = ue.hello["fingerprint"].as_str().unwrap().to_string();
    let ue_port = ue.hello["port"].as_u64().unwrap() as u16;
    let mut core = CorePeer::bind();
    let call = "fig1-call";
    let offer = ng.call(B::d(&[
        ("command", B::s("offer")),
        ("call-id", B::s(call)),
        ("from-tag", B::s("ft")),
        ("sdp", B::s(&ue_sdp(ue_port, &ue_fp, "actpass"))),
    ]));
    let to_core = ok_sdp(&offer);
    check_core_side(&to_core);
    let agw_core = media_addr(&to_core);
    let answer = ng.call(B::d(&[
        ("command", B::s("answer")),
        ("call-id", B::s(call)),
        ("from-tag", B::s("ft")),
        ("to-tag", B::s("tt")),
        ("sdp", B::s(&core_sdp(core.addr().port()))),
    ]));
    let to_ue = ok_sdp(&answer);
    // actpass: the ALG's default makes the AGW the DTLS client -> a=setup:active
    let fp = check_ue_side(&to_ue, "active");
    run_media(
        &mut ue,
        media_addr(&to_ue),
        agw_core,
        &fp,
        "server",
        &mut core,
    );
    delete(&mut ng, call);
}

fn ue_terminated(ng_port: u16, access: (u16, u16), core_ports: (u16, u16), ue_setup: &str) {
    let Some(py) = oracle_python("alg_ng_media") else {
        return;
    };
    let (_alg, _agw, mut ng) = start(ng_port, access, core_ports);
    let mut ue = Ue::start(&py, "dtls_ue.py", true);
    let ue_fp = ue.hello["fingerprint"].as_str().unwrap().to_string();
    let ue_port = ue.hello["port"].as_u64().unwrap() as u16;
    let mut core = CorePeer::bind();
    let call = "fig2-call";
    let offer = ng.call(B::d(&[
        ("command", B::s("offer")),
        ("call-id", B::s(call)),
        ("from-tag", B::s("ft")),
        ("sdp", B::s(&core_sdp(core.addr().port()))),
    ]));
    let to_ue = ok_sdp(&offer);
    let fp = check_ue_side(&to_ue, "actpass");
    let answer = ng.call(B::d(&[
        ("command", B::s("answer")),
        ("call-id", B::s(call)),
        ("from-tag", B::s("ft")),
        ("to-tag", B::s("tt")),
        ("sdp", B::s(&ue_sdp(ue_port, &ue_fp, ue_setup))),
    ]));
    let to_core = ok_sdp(&answer);
    check_core_side(&to_core);
    // UE active: it is the DTLS client and the AGW the server; passive: the reverse (the
    // ALG's Modify carries the Establish signal)
    let ue_role = if ue_setup == "active" {
        "client"
    } else {
        "server"
    };
    run_media(
        &mut ue,
        media_addr(&to_ue),
        media_addr(&to_core),
        &fp,
        ue_role,
        &mut core,
    );
    delete(&mut ng, call);
}

#[test]
fn ue_terminated_figure_6_2_10_5_2_through_ng_with_openssl_ue() {
    ue_terminated(22302, (33020, 33039), (34020, 34039), "active");
}

#[test]
fn ue_terminated_with_passive_ue_makes_the_agw_dtls_client() {
    ue_terminated(22304, (33060, 33079), (34060, 34079), "passive");
}

#[test]
fn dtls_failure_notify_releases_the_session_on_the_control_front() {
    let Some(py) = oracle_python("alg_ng_media") else {
        return;
    };
    let (_alg, mut agw, mut ng) = start(22303, (33040, 33059), (34040, 34059));
    let mut ue = Ue::start(&py, "dtls_ue.py", true);
    let ue_port = ue.hello["port"].as_u64().unwrap() as u16;
    // the UE signals a fingerprint that is not its certificate's
    let wrong = format!("sha-256 {}", vec!["CD"; 32].join(":"));
    let mut core = CorePeer::bind();
    let call = "estfail-call";
    let offer = ng.call(B::d(&[
        ("command", B::s("offer")),
        ("call-id", B::s(call)),
        ("from-tag", B::s("ft")),
        ("sdp", B::s(&ue_sdp(ue_port, &wrong, "actpass"))),
    ]));
    let agw_core = media_addr(&ok_sdp(&offer));
    let answer = ng.call(B::d(&[
        ("command", B::s("answer")),
        ("call-id", B::s(call)),
        ("from-tag", B::s("ft")),
        ("to-tag", B::s("tt")),
        ("sdp", B::s(&core_sdp(core.addr().port()))),
    ]));
    let to_ue = ok_sdp(&answer);
    let fp = check_ue_side(&to_ue, "active");
    ue.send(json!({
        "cmd": "run", "remote": media_addr(&to_ue).to_string(), "role": "server",
        "peer_fingerprint": fp, "seconds": 1, "packets": 10, "handshake_seconds": 4,
    }));
    core.run(agw_core, 0, 0, Duration::from_millis(1500));
    let report = ue.read()["report"].clone();
    assert_ne!(
        report["handshake"], "ok",
        "the AGW accepted the wrong certificate"
    );
    assert!(
        core.received.is_empty(),
        "media forwarded without authentication"
    );
    // the AGW notified the failure; the ALG released the call: it leaves the ng call list
    agw.wait_for(&["Notify sent"], Duration::from_secs(10));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let l = ng.call(B::d(&[("command", B::s("list"))]));
        if !format!("{:?}", l.get("calls")).contains(call) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "call still listed 10 s after the DTLS failure"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let q = ng.call(B::d(&[("command", B::s("query")), ("call-id", B::s(call))]));
    assert_eq!(
        q.get("result").and_then(B::str).as_deref(),
        Some("error"),
        "{q:?}"
    );
}
