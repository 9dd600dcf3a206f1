//! The real `iq-alg` and `iq-agw` driven over the ng control protocol as Kamailio's rtpengine
//! module drives rtpengine: offer/answer/delete/query/list over UDP, bencoded, for both figures
//! of TS 23.334 6.2.10.5 (UE-originated: offer from the access side with a WebRTC SDP;
//! UE-terminated: offer from the core with a plain RTP SDP). The SDP answers must carry
//! fingerprint/setup/proto/ICE on the access side and none of it on the core side, with the
//! AGW's addresses from its realms; delete must release (list/query empty); a retransmitted
//! request gets the cached reply; losing the AGW releases its sessions.

mod common;

use common::*;
use iq_alg::ng::bencode::{self, Value};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// Port ranges of the AGW's realms, distinct per test (tests run in parallel).
fn start(access: (u16, u16), core: (u16, u16)) -> (Proc, Proc, Ng) {
    let alg_cfg = r#"
[iq]
transport = "tcp"
listen = "127.0.0.1:0"
encoding = "text"
mid = "<alg1.example.net>"
keepalive_secs = 30

[ng]
listen = "127.0.0.1:0"

[procedures]
actpass = "agw-client"

[[agw]]
mid = "<agw1.example.net>"
address = "127.0.0.1"
weight = 1
"#;
    let mut alg = Proc::spawn("alg", &alg_bin(), alg_cfg, &[]);
    let line = alg.wait_for(&["listening on"], T);
    let iq: SocketAddr = after(&line, "listening on ");
    let line = alg.wait_for(&["ng control on"], T);
    let ng: SocketAddr = after(&line, "ng control on ");
    let agw_cfg = format!(
        r#"
[iq]
transport = "tcp"
controller = "{iq}"
controller_mid = "<alg1.example.net>"
encoding = "text"
mid = "<agw1.example.net>"
profile = "threegiq/1"

[reconnect]
initial_ms = 300
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
    let mut agw = Proc::spawn("agw", &agw_bin(), &agw_cfg, &[]);
    agw.wait_for(&["iq_agw: registered"], T);
    alg.wait_for(&["AGW in service for sessions"], T);
    (alg, agw, Ng::new(ng))
}

fn after<A: std::str::FromStr>(line: &str, pat: &str) -> A {
    line.rsplit(pat)
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no address after {pat:?} in {line:?}"))
}

/// A bencode ng client (the codec is checked against bencode.py in ng_bencode_oracle.rs).
struct Ng {
    sock: UdpSocket,
    to: SocketAddr,
    n: u32,
}

impl Ng {
    fn new(to: SocketAddr) -> Ng {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(T)).unwrap();
        Ng { sock, to, n: 0 }
    }

    /// Send raw bytes with `cookie`, return the raw reply dictionary with that cookie.
    fn raw(&self, cookie: &str, body: &[u8]) -> Vec<u8> {
        let mut msg = format!("{cookie} ").into_bytes();
        msg.extend_from_slice(body);
        self.sock.send_to(&msg, self.to).unwrap();
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, _) = self.sock.recv_from(&mut buf).expect("ng reply in time");
            let r = &buf[..n];
            if let Some(rest) = r.strip_prefix(format!("{cookie} ").as_bytes()) {
                return rest.to_vec();
            }
        }
    }

    fn call_with(&mut self, cookie: &str, pairs: Vec<(&str, Value)>) -> (Vec<u8>, Value) {
        let body = Value::dict(pairs).encode();
        let raw = self.raw(cookie, &body);
        let v = bencode::decode(&raw).expect("bencoded reply");
        (raw, v)
    }

    fn call(&mut self, pairs: Vec<(&str, Value)>) -> Value {
        self.n += 1;
        let cookie = format!("{}_{}", std::process::id(), self.n);
        self.call_with(&cookie, pairs).1
    }
}

fn s(v: &str) -> Value {
    Value::str(v)
}

fn l(v: &[&str]) -> Value {
    Value::List(v.iter().map(Value::str).collect())
}

fn result(v: &Value) -> &str {
    v.get("result").and_then(Value::as_str).unwrap_or("?")
}

fn ok_sdp(v: &Value) -> String {
    assert_eq!(result(v), "ok", "{v:?}");
    v.get("sdp")
        .and_then(Value::as_str)
        .expect("sdp in reply")
        .to_string()
}

fn attr<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix(name))
        .map(str::trim)
}

fn media_port(sdp: &str) -> u16 {
    attr(sdp, "m=audio ")
        .and_then(|m| m.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no m=audio port in\n{sdp}"))
}

const UE_FP: &str = "sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00";

fn webrtc_sdp(setup: &str) -> String {
    format!(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
         m=audio 50000 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 127.0.0.1\r\n\
         a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n\
         a=ice-ufrag:Ue1x\r\na=ice-pwd:uepassword0123456789abcd\r\n\
         a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n\
         a=fingerprint:{UE_FP}\r\na=setup:{setup}\r\na=tls-id:ue0123456789abcdefghij\r\n\
         a=rtcp-mux\r\na=sendrecv\r\n"
    )
}

fn plain_sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
    )
}

/// Towards the core: plain RTP, no DTLS or ICE attributes, the AGW's core address.
fn check_core_side(sdp: &str, core: (u16, u16)) {
    let m = attr(sdp, "m=audio ").unwrap_or_default();
    assert!(m.contains(" RTP/AVP"), "core SDP proto:\n{sdp}");
    assert!(!m.contains("SAVP"), "core SDP proto:\n{sdp}");
    for a in [
        "a=fingerprint",
        "a=setup",
        "a=tls-id",
        "a=ice-",
        "a=candidate",
    ] {
        assert!(!sdp.contains(a), "core SDP carries {a}:\n{sdp}");
    }
    assert_eq!(attr(sdp, "c=IN IP4 "), Some("127.0.0.1"), "{sdp}");
    let p = media_port(sdp);
    assert!(
        (core.0..=core.1).contains(&p),
        "core port {p} not in {core:?}"
    );
}

/// Towards the UE: DTLS-SRTP proto, the AGW's fingerprint, `setup`, ICE credentials, a new
/// tls-id, the AGW's access address.
fn check_access_side(sdp: &str, setup: &str, access: (u16, u16)) {
    let m = attr(sdp, "m=audio ").unwrap_or_default();
    assert!(m.contains(" UDP/TLS/RTP/SAVP"), "access SDP proto:\n{sdp}");
    assert_eq!(attr(sdp, "a=setup:"), Some(setup), "{sdp}");
    let fp = attr(sdp, "a=fingerprint:").expect("AGW fingerprint");
    assert!(fp.starts_with("sha-256 "), "{fp}");
    assert_ne!(fp, UE_FP, "the UE's own fingerprint came back");
    assert_eq!(fp.len(), "sha-256 ".len() + 32 * 3 - 1, "{fp}");
    let ufrag = attr(sdp, "a=ice-ufrag:").expect("AGW ICE ufrag");
    assert!(
        !ufrag.is_empty() && ufrag != "$" && ufrag != "Ue1x",
        "{sdp}"
    );
    let pwd = attr(sdp, "a=ice-pwd:").expect("AGW ICE pwd");
    assert!(pwd.len() >= 22 && pwd != "$", "{sdp}");
    let tls_id = attr(sdp, "a=tls-id:").expect("ALG tls-id");
    assert!(
        tls_id.len() >= 20 && tls_id != "ue0123456789abcdefghij",
        "{sdp}"
    );
    assert!(sdp.contains("a=rtcp-mux"), "{sdp}");
    assert_eq!(attr(sdp, "c=IN IP4 "), Some("127.0.0.1"), "{sdp}");
    let p = media_port(sdp);
    assert!(
        (access.0..=access.1).contains(&p),
        "access port {p} not in {access:?}"
    );
}

fn list(ng: &mut Ng) -> Vec<String> {
    let v = ng.call(vec![("command", s("list"))]);
    assert_eq!(result(&v), "ok", "{v:?}");
    v.get("calls")
        .and_then(Value::as_list)
        .expect("calls")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect()
}

#[test]
fn ping_json_and_errors() {
    let (_alg, _agw, mut ng) = start((31000, 31019), (31020, 31039));
    assert_eq!(result(&ng.call(vec![("command", s("ping"))])), "pong");
    // JSON in, JSON out.
    let r = ng.raw("j1", br#"{"command":"ping"}"#);
    let j: serde_json::Value = serde_json::from_slice(&r).expect("JSON reply");
    assert_eq!(j["result"], "pong");
    // Errors are replies, not silence.
    let v = ng.call(vec![("command", s("answer")), ("call-id", s("nope"))]);
    assert_eq!(result(&v), "error");
    assert!(v.get("error-reason").is_some());
    let v = ng.call(vec![("command", s("query")), ("call-id", s("nope"))]);
    assert_eq!(result(&v), "error");
    let r = ng.raw("bad1", b"d7:command");
    let v = bencode::decode(&r).unwrap();
    assert_eq!(result(&v), "error");
    assert!(list(&mut ng).is_empty());
}

/// Figure 6.2.10.5.1: the UE offers (WebRTC), the core answers.
#[test]
fn ue_originated_offer_answer_delete() {
    let access = (31100, 31119);
    let core = (31120, 31139);
    let (mut alg, _agw, mut ng) = start(access, core);
    let call = "uo-call-1@pcscf";
    // As Kamailio sends it towards a plain SIP callee.
    let offer = ng.call(vec![
        ("command", s("offer")),
        ("call-id", s(call)),
        ("from-tag", s("ue-tag")),
        ("via-branch", s("z9hG4bK1")),
        ("sdp", s(&webrtc_sdp("actpass"))),
        ("ICE", s("remove")),
        ("DTLS", s("off")),
        ("transport-protocol", s("RTP/AVP")),
        ("rtcp-mux", l(&["demux"])),
        ("replace", l(&["origin", "session-connection"])),
        ("flags", l(&["trust-address"])),
        ("received-from", l(&["IP4", "127.0.0.1"])),
        ("x-unknown-key", s("ignored")),
    ]);
    let to_core = ok_sdp(&offer);
    check_core_side(&to_core, core);
    alg.wait_for(&["new session", "Access"], T);

    let answer_fields = vec![
        ("command", s("answer")),
        ("call-id", s(call)),
        ("from-tag", s("ue-tag")),
        ("to-tag", s("core-tag")),
        ("sdp", s(&plain_sdp(30000))),
        ("ICE", s("force")),
        ("DTLS", s("passive")),
        ("transport-protocol", s("UDP/TLS/RTP/SAVPF")),
        ("rtcp-mux", l(&["require"])),
    ];
    let (raw1, answer) = ng.call_with("ans-1", answer_fields.clone());
    let to_ue = ok_sdp(&answer);
    // UE offered actpass, policy agw-client: the AGW is active.
    println!("SDP to the UE:\n{to_ue}\nSDP to the core:\n{to_core}");
    check_access_side(&to_ue, "active", access);

    // A retransmission (same cookie) gets the same bytes, without a second Iq round.
    let (raw2, _) = ng.call_with("ans-1", answer_fields);
    assert_eq!(raw1, raw2);

    assert_eq!(list(&mut ng), vec![call.to_string()]);
    let q = ng.call(vec![("command", s("query")), ("call-id", s(call))]);
    assert_eq!(result(&q), "ok", "{q:?}");
    let tags = q.get("tags").and_then(Value::as_dict).expect("tags");
    assert!(tags.contains_key(&b"ue-tag"[..]) && tags.contains_key(&b"core-tag"[..]));
    let ue_tag = q.get("tags").and_then(|t| t.get("ue-tag")).unwrap();
    assert_eq!(
        ue_tag.get("in dialogue with").and_then(Value::as_str),
        Some("core-tag")
    );
    // The UE's stream: its address from its SDP, ours from the answer we gave it.
    let stream = &ue_tag.get("medias").and_then(Value::as_list).unwrap()[0]
        .get("streams")
        .and_then(Value::as_list)
        .unwrap()[0];
    assert_eq!(
        stream.get("local port").and_then(Value::as_int),
        Some(i64::from(media_port(&to_ue)))
    );
    assert_eq!(
        stream
            .get("endpoint")
            .and_then(|e| e.get("port"))
            .and_then(Value::as_int),
        Some(50000)
    );

    let d = ng.call(vec![
        ("command", s("delete")),
        ("call-id", s(call)),
        ("from-tag", s("ue-tag")),
    ]);
    assert_eq!(result(&d), "ok", "{d:?}");
    assert!(list(&mut ng).is_empty());
    assert_eq!(
        result(&ng.call(vec![("command", s("query")), ("call-id", s(call))])),
        "error"
    );
    alg.wait_for(&["session released", call], T);
    // Deleting again: not found.
    let d = ng.call(vec![("command", s("delete")), ("call-id", s(call))]);
    assert_eq!(result(&d), "error");
}

/// Figure 6.2.10.5.2: the core offers (plain RTP), the UE answers (WebRTC).
#[test]
fn ue_terminated_offer_answer_delete() {
    let access = (31200, 31219);
    let core = (31220, 31239);
    let (mut alg, _agw, mut ng) = start(access, core);
    let call = "ut-call-1@pcscf";
    // As Kamailio sends it towards a WebRTC callee.
    let offer = ng.call(vec![
        ("command", s("offer")),
        ("call-id", s(call)),
        ("from-tag", s("core-tag")),
        ("sdp", s(&plain_sdp(30002))),
        ("ICE", s("force")),
        ("DTLS", s("passive")),
        ("transport-protocol", s("UDP/TLS/RTP/SAVPF")),
        ("rtcp-mux", l(&["offer"])),
        ("SDES", l(&["off"])),
        ("direction", l(&["internal", "external"])),
        ("record call", s("no")),
    ]);
    let to_ue = ok_sdp(&offer);
    // An offer to the UE: actpass.
    check_access_side(&to_ue, "actpass", access);
    alg.wait_for(&["new session", "Core"], T);

    let answer = ng.call(vec![
        ("command", s("answer")),
        ("call-id", s(call)),
        ("from-tag", s("core-tag")),
        ("to-tag", s("ue-tag")),
        ("sdp", s(&webrtc_sdp("active"))),
        ("ICE", s("remove")),
        ("DTLS", s("off")),
        ("transport-protocol", s("RTP/AVP")),
        ("rtcp-mux", l(&["demux"])),
    ]);
    let to_core = ok_sdp(&answer);
    check_core_side(&to_core, core);
    assert_eq!(list(&mut ng), vec![call.to_string()]);

    // Delete the whole call (no tags).
    let d = ng.call(vec![("command", s("delete")), ("call-id", s(call))]);
    assert_eq!(result(&d), "ok", "{d:?}");
    assert!(list(&mut ng).is_empty());
    alg.wait_for(&["session released", call], T);
}

/// The AGW goes away with a session up: the ALG releases it and says so.
#[test]
fn agw_loss_releases_sessions() {
    let (mut alg, mut agw, mut ng) = start((31300, 31319), (31320, 31339));
    let call = "loss-1@pcscf";
    let offer = ng.call(vec![
        ("command", s("offer")),
        ("call-id", s(call)),
        ("from-tag", s("ue-tag")),
        ("sdp", s(&webrtc_sdp("actpass"))),
    ]);
    ok_sdp(&offer);
    assert_eq!(list(&mut ng), vec![call.to_string()]);
    agw.kill();
    alg.wait_for(&["AGW lost: releasing its sessions", "sessions=1"], T);
    alg.wait_for(&["session released", call], T);
    assert!(list(&mut ng).is_empty());
    // No AGW in service: a new offer is refused at once.
    let v = ng.call(vec![
        ("command", s("offer")),
        ("call-id", s("loss-2")),
        ("from-tag", s("x")),
        ("sdp", s(&plain_sdp(30004))),
    ]);
    assert_eq!(result(&v), "error", "{v:?}");
}

/// `[ng] recv_buffer_kib` reaches the socket: the ALG logs the receive buffer the kernel
/// granted (Linux doubles the request, capped by `net.core.rmem_max`), or warns when the cap
/// kept it below the setting. With the default 208 KiB a burst of 1,000 offers
/// (`iq-interop load --sessions 1000 --rate 0 --concurrency 1000`) lost datagrams in the
/// kernel: 2,279-2,504 retransmissions and 40-158 failed sessions per run, 0 and 0 with 4 MiB.
#[test]
fn ng_socket_gets_the_configured_receive_buffer() {
    let rmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .expect("/proc/sys/net/core/rmem_max")
        .trim()
        .parse()
        .expect("rmem_max");
    let alg_cfg = r#"
[iq]
transport = "tcp"
listen = "127.0.0.1:0"
encoding = "text"
mid = "<alg1.example.net>"

[ng]
listen = "127.0.0.1:0"
recv_buffer_kib = 1024

[[agw]]
mid = "<agw1.example.net>"
address = "127.0.0.1"
"#;
    let mut alg = Proc::spawn("alg", &alg_bin(), alg_cfg, &[]);
    let ng_line = alg.wait_for(&["ng control on"], T);
    let line = alg.wait_for(&["ng socket receive buffer"], T);
    let granted_kib = ((1024 * 1024).min(rmem_max) * 2) >> 10;
    if rmem_max >= 1024 * 1024 {
        assert!(
            line.contains("INFO") && line.contains(&format!("kib={granted_kib}")),
            "rmem_max {rmem_max}: expected {granted_kib} KiB granted: {line}"
        );
    } else {
        eprintln!(
            "NOTE: net.core.rmem_max is {rmem_max}: the ALG must warn that 1024 KiB was capped"
        );
        assert!(
            line.contains("WARN") && line.contains(&format!("granted_kib={granted_kib}")),
            "rmem_max {rmem_max}: expected a warning with {granted_kib} KiB granted: {line}"
        );
    }
    // and the socket still answers
    let ng: SocketAddr = after(&ng_line, "ng control on ");
    let mut ng = Ng::new(ng);
    assert_eq!(result(&ng.call(vec![("command", s("ping"))])), "pong");
}
