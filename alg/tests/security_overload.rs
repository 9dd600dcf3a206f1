//! Overload (issue 10) with the real `iq-alg` and `iq-agw`: the AGW holds one context at most
//! (`[media] max_contexts = 1`) and the ALG one session per ng client
//! (`[ng] max_sessions_per_client = 1`). New sessions beyond either limit are refused (the
//! ALG's own cap before any Iq traffic, the AGW's with H.248 error 510), while the
//! established call keeps working (re-offer = Modify, delete = Subtract); once capacity frees,
//! new offers succeed again.

mod common;

use common::*;
use iq_alg::ng::bencode::{self, Value};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn after<A: std::str::FromStr>(line: &str, pat: &str) -> A {
    line.rsplit(pat)
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no address after {pat:?} in {line:?}"))
}

struct Ng {
    sock: UdpSocket,
    to: SocketAddr,
    n: u32,
}

impl Ng {
    fn new(from: &str, to: SocketAddr) -> Ng {
        let sock = UdpSocket::bind(format!("{from}:0")).unwrap();
        sock.set_read_timeout(Some(T)).unwrap();
        Ng { sock, to, n: 0 }
    }

    fn call(&mut self, pairs: Vec<(&str, Value)>) -> Value {
        self.n += 1;
        let cookie = format!("{}_{}", std::process::id(), self.n);
        let mut msg = format!("{cookie} ").into_bytes();
        msg.extend_from_slice(&Value::dict(pairs).encode());
        self.sock.send_to(&msg, self.to).unwrap();
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, _) = self.sock.recv_from(&mut buf).expect("ng reply in time");
            if let Some(rest) = buf[..n].strip_prefix(format!("{cookie} ").as_bytes()) {
                return bencode::decode(rest).expect("bencoded reply");
            }
        }
    }
}

fn s(v: &str) -> Value {
    Value::str(v)
}

fn result(v: &Value) -> &str {
    v.get("result").and_then(Value::as_str).unwrap_or("?")
}

fn reason(v: &Value) -> String {
    v.get("error-reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn plain_sdp(port: u16) -> String {
    format!(
        "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
    )
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

/// A core-originated offer (figure 6.2.10.5.2).
fn offer(ng: &mut Ng, call: &str, port: u16) -> Value {
    ng.call(vec![
        ("command", s("offer")),
        ("call-id", s(call)),
        ("from-tag", s("core-tag")),
        ("sdp", s(&plain_sdp(port))),
        ("direction", Value::List(vec![s("internal"), s("external")])),
    ])
}

fn answer(ng: &mut Ng, call: &str) -> Value {
    ng.call(vec![
        ("command", s("answer")),
        ("call-id", s(call)),
        ("from-tag", s("core-tag")),
        ("to-tag", s("ue-tag")),
        ("sdp", s(&webrtc_sdp("active"))),
    ])
}

fn delete(ng: &mut Ng, call: &str) -> Value {
    ng.call(vec![("command", s("delete")), ("call-id", s(call))])
}

#[test]
fn new_sessions_are_shed_established_ones_keep_working() {
    let alg_cfg = r#"
[iq]
transport = "tcp"
listen = "127.0.0.1:0"
encoding = "text"
mid = "<alg1.example.net>"

[ng]
listen = "127.0.0.1:0"
allow = ["127.0.0.1", "127.0.0.2"]
max_sessions_per_client = 1

[[agw]]
mid = "<agw1.example.net>"
address = "127.0.0.1"
"#;
    let mut alg = Proc::spawn("alg", &alg_bin(), alg_cfg, &[]);
    let iq: SocketAddr = after(&alg.wait_for(&["listening on"], T), "listening on ");
    let ngaddr: SocketAddr = after(&alg.wait_for(&["ng control on"], T), "ng control on ");
    let agw_cfg = format!(
        r#"
[iq]
transport = "tcp"
controller = "{iq}"
controller_mid = "<alg1.example.net>"
encoding = "text"
mid = "<agw1.example.net>"
profile = "threegiq/1"

[media]
max_contexts = 1

[[media.realm]]
name = "access"
address = "127.0.0.1"
ports = "31500-31519"

[[media.realm]]
name = "core"
address = "127.0.0.1"
ports = "31520-31539"
"#
    );
    let mut agw = Proc::spawn("agw", &agw_bin(), &agw_cfg, &[]);
    agw.wait_for(&["iq_agw: registered"], T);
    alg.wait_for(&["AGW in service for sessions"], T);
    let mut c1 = Ng::new("127.0.0.1", ngaddr);
    let mut c2 = Ng::new("127.0.0.2", ngaddr);

    // Call A from client 1: established (the AGW's only context).
    let a = offer(&mut c1, "call-a", 30010);
    assert_eq!(result(&a), "ok", "{a:?}");
    let a = answer(&mut c1, "call-a");
    assert_eq!(result(&a), "ok", "{a:?}");

    // Client 1 is at its cap: shed by the ALG itself, nothing reaches the AGW.
    let b = offer(&mut c1, "call-b", 30012);
    assert_eq!(result(&b), "error", "{b:?}");
    assert!(reason(&b).contains("overloaded"), "{b:?}");
    alg.wait_for(&["ng offer refused", "overloaded"], T);

    // Client 2 may open a session, but the AGW is full: 510 on the Add, an ng error.
    let c = offer(&mut c2, "call-c", 30014);
    assert_eq!(result(&c), "error", "{c:?}");
    agw.wait_for(&["overloaded: new context refused (510)"], T);
    assert!(
        reason(&c).contains("510") || reason(&c).to_ascii_lowercase().contains("resource"),
        "the ng error does not say why: {c:?}"
    );

    // The established call is untouched: a re-offer (Modify on the AGW) and its answer work.
    let a2 = offer(&mut c1, "call-a", 30016);
    assert_eq!(
        result(&a2),
        "ok",
        "re-offer of the established call: {a2:?}"
    );
    let a2 = answer(&mut c1, "call-a");
    assert_eq!(result(&a2), "ok", "{a2:?}");
    let q = c1.call(vec![("command", s("query")), ("call-id", s("call-a"))]);
    assert_eq!(result(&q), "ok", "{q:?}");

    // Capacity frees: the delete succeeds, then new offers from both clients work again.
    let d = delete(&mut c1, "call-a");
    assert_eq!(result(&d), "ok", "{d:?}");
    alg.wait_for(&["session released", "call-a"], T);
    let c = offer(&mut c2, "call-c", 30018);
    assert_eq!(result(&c), "ok", "after the delete: {c:?}");
    let d = delete(&mut c2, "call-c");
    assert_eq!(result(&d), "ok", "{d:?}");
    alg.wait_for(&["session released", "call-c"], T);
    let b = offer(&mut c1, "call-b", 30020);
    assert_eq!(result(&b), "ok", "client 1 below its cap again: {b:?}");
}
