//! Our lab agents (`iq-interop agent ue` and `iq-interop agent core`) against the real
//! `iq-agw`, driven over Iq (TCP) by the test controller with the figure 6.2.10.5.1 and
//! 6.2.10.5.2 requests: our UE does full ICE (controlling, the AGW is ICE-lite) and DTLS-SRTP
//! in the role the SDP gives it; our core peer speaks plain RTP. Audio each agent sends must
//! reach the other through the AGW unchanged (SSRC, sequence number, payload type, payload),
//! RTCP both ways.

mod common;

use std::process::Command;
use std::time::Duration;

use common::media::{actions, local, rtp_list, same_packets, Local, Ue};
use common::mgc::TestMgc;
use common::{bin, Proc};
use serde_json::{json, Value};

const AGW_MID: &str = "<agw-agent.example.net>";

/// A test controller and an `iq-agw` registered with it (realms on 127.0.0.1).
fn start(access: (u16, u16), core: (u16, u16)) -> (TestMgc, Proc) {
    let mut mgc = TestMgc::start(AGW_MID);
    let config = format!(
        r#"
[iq]
transport = "tcp"
controller = "{}"
controller_mid = "<alg-test.example.net>"
encoding = "text"
mid = "{AGW_MID}"

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
        mgc.addr, access.0, access.1, core.0, core.1
    );
    let agw = Proc::daemon("agw", &bin("iq-agw", "iq-agw"), &config, &[]);
    mgc.wait_registered(Duration::from_secs(10));
    (mgc, agw)
}

fn agent(role: &str) -> Ue {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iq-interop"));
    cmd.args(["agent", role]).env("RUST_LOG", "iq_interop=info");
    Ue::spawn(cmd, false)
}

fn sdp(v: &Value) -> String {
    v["sdp"].as_str().expect("an sdp reply").to_string()
}

/// A UE description reduced to an H.248 Remote as the ALG builds it: address, port, PCMU,
/// rtcp-mux, ICE credentials and candidates, fingerprints.
fn ue_remote(sdp: &str) -> String {
    let port = sdp
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|m| m.split_whitespace().next())
        .expect("m=audio port");
    let keep: String = sdp
        .lines()
        .filter(|l| {
            [
                "a=ice-ufrag:",
                "a=ice-pwd:",
                "a=fingerprint:",
                "a=candidate:",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    format!(
        "v=0\nc=IN IP4 127.0.0.1\nm=audio {port} UDP/TLS/RTP/SAVPF 0\na=rtpmap:0 PCMU/8000\na=rtcp-mux\n{keep}"
    )
}

/// The SDP the ALG gives the UE from T1's Local (ICE-lite AGW at session level).
fn sdp_for_ue(t1: &Local, setup: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\nm=audio {port} UDP/TLS/RTP/SAVPF 0\r\n\
         c=IN IP4 127.0.0.1\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n\
         a=ice-ufrag:{u}\r\na=ice-pwd:{p}\r\n\
         a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\na=end-of-candidates\r\n\
         a=fingerprint:{fp}\r\na=setup:{setup}\r\n",
        port = t1.addr.port(),
        u = t1.ice_ufrag.as_deref().expect("AGW ice-ufrag"),
        p = t1.ice_pwd.as_deref().expect("AGW ice-pwd"),
        fp = t1.fingerprint.as_deref().expect("AGW fingerprint"),
    )
}

/// The SDP the ALG gives the core side from T2's Local.
fn sdp_for_core(t2: &Local) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n\
         a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
        ip = t2.addr.ip(),
        port = t2.addr.port()
    )
}

/// T1 (access, DTLS-SRTP, ICE-lite) in a new context; the Establish signal iff `agw_client`.
fn add_access(mgc: &TestMgc, remote: Option<&str>, agw_client: bool) -> Local {
    let remote = remote.map_or(String::new(), |r| format!(", Remote {{\n{r}}}"));
    let signals = if agw_client {
        ", Signals { xdtls/estab }"
    } else {
        ""
    };
    let req = format!(
        "Context = $ {{ Add = $ {{ Media {{ TerminationState {{ ipdc/realm = \"access\" }}, \
         Stream = 1 {{ LocalControl {{ Mode = SendReceive, ipnapt/latch = ON }}, Local {{\nv=0\nc=IN IP4 $\n\
         m=audio $ UDP/TLS/RTP/SAVP 0\na=rtpmap:0 PCMU/8000\na=rtcp-mux\na=fingerprint:$\n\
         a=ice-ufrag:$\na=ice-pwd:$\n}}{remote} }} }}, Events = 2001 {{ xdtls/estfail }}{signals} }} }}"
    );
    local(&mgc.request_text(&req))
}

/// T2 (core, plain RTP) in `context`, with the core peer's address when known.
fn add_core(mgc: &TestMgc, context: u32, remote_port: Option<u16>) -> Local {
    let remote = remote_port.map_or(String::new(), |p| {
        format!(
            ", Remote {{\nv=0\nc=IN IP4 127.0.0.1\nm=audio {p} RTP/AVP 0\na=rtpmap:0 PCMU/8000\n}}"
        )
    });
    let req = format!(
        "Context = {context} {{ Add = $ {{ Media {{ TerminationState {{ ipdc/realm = \"core\" }}, \
         Stream = 1 {{ LocalControl {{ Mode = SendReceive }}, Local {{\nv=0\nc=IN IP4 $\n\
         m=audio $ RTP/AVP 0\na=rtpmap:0 PCMU/8000\n}}{remote} }} }} }} }}"
    );
    local(&mgc.request_text(&req))
}

fn modify_remote(mgc: &TestMgc, context: u32, term: &str, remote: &str, extra: &str) {
    let r = mgc.request_text(&format!(
        "Context = {context} {{ Modify = {term} {{ Media {{ Stream = 1 {{ Remote {{\n{remote}}} }} }}{extra} }} }}"
    ));
    actions(&r);
}

fn m_port(sdp: &str) -> u16 {
    sdp.lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|m| m.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("m=audio port")
}

/// Both agents send; the core peer runs longer (started first, reported last) so all UE audio
/// is in before it reports. Checks the relay both ways; returns the UE report.
fn media_both_ways(ue: &mut Ue, core: &mut Ue, ue_role: &str) -> Value {
    core.send(json!({"cmd": "run", "seconds": 5.0}));
    let mine = ue.call(json!({"cmd": "run", "seconds": 3.5}))["report"].clone();
    let theirs = core.read()["report"].clone();
    assert_eq!(mine["ice_state"], "completed", "UE report: {mine}");
    assert_eq!(mine["ice_controlling"], true, "the AGW is ICE-lite");
    assert_eq!(mine["dtls_state"], "connected", "UE report: {mine}");
    assert_eq!(mine["dtls_role"], ue_role);
    assert_eq!(mine["unprotect_failures"], 0, "UE report: {mine}");

    let ue_sent = rtp_list(&mine["sent_rtp"]);
    assert!(ue_sent.len() >= 150, "UE sent {}", ue_sent.len());
    assert!(
        ue_sent.iter().all(|p| p.2 == 0 && p.3.len() == 320),
        "PCMU, 160 octets"
    );
    same_packets(
        &rtp_list(&theirs["recv_rtp"]),
        &ue_sent,
        "UE->core through the AGW",
    );

    // the core starts once the UE's first packet arrived, so nothing of it is lost
    let core_sent = rtp_list(&theirs["sent_rtp"]);
    let ue_recv = rtp_list(&mine["recv_rtp"]);
    assert!(ue_recv.len() >= 100, "UE received {}", ue_recv.len());
    assert!(core_sent.len() >= ue_recv.len());
    same_packets(
        &ue_recv,
        &core_sent[..ue_recv.len()],
        "core->UE through the AGW",
    );

    assert!(
        theirs["recv_rtcp"].as_u64().unwrap() > 0,
        "no RTCP reached the core"
    );
    assert!(
        mine["recv_rtcp"].as_u64().unwrap() > 0,
        "no SRTCP reached the UE"
    );
    assert_eq!(theirs["ice_state"], "none");
    assert!(
        theirs.get("dtls_state").is_none(),
        "the core peer has no DTLS"
    );
    mine
}

fn subtract(mgc: &TestMgc, context: u32, t1: &str, t2: &str) {
    actions(&mgc.request_text(&format!(
        "Context = {context} {{ Subtract = {t1}, Subtract = {t2} }}"
    )));
}

/// Figure 6.2.10.5.1: the UE offers (actpass); the ALG makes the AGW the DTLS client
/// (Establish signal) and answers `active`; our UE is the DTLS server. The core side gets the
/// AGW's core offer and our core agent answers it.
#[test]
fn our_ue_and_core_agent_figure_6_2_10_5_1() {
    let (mgc, _agw) = start((37000, 37019), (38000, 38019));
    let mut ue = agent("ue");
    let mut core = agent("core");
    let offer = sdp(&ue.call(json!({"cmd": "offer"})));
    assert!(offer.contains("a=setup:actpass"));
    let t1 = add_access(&mgc, Some(&ue_remote(&offer)), true);
    let t2 = add_core(&mgc, t1.context, None);
    let core_answer = sdp(&core.call(json!({"cmd": "accept", "sdp": sdp_for_core(&t2)})));
    assert!(core_answer.contains(" RTP/AVP 0\r\n"), "{core_answer}");
    modify_remote(
        &mgc,
        t1.context,
        &t2.termination,
        &format!(
            "v=0\nc=IN IP4 127.0.0.1\nm=audio {} RTP/AVP 0\na=rtpmap:0 PCMU/8000\n",
            m_port(&core_answer)
        ),
        "",
    );
    assert_eq!(
        ue.call(json!({"cmd": "answer", "sdp": sdp_for_ue(&t1, "active")}))["ok"],
        true
    );
    media_both_ways(&mut ue, &mut core, "server");
    subtract(&mgc, t1.context, &t1.termination, &t2.termination);
}

/// Figure 6.2.10.5.2: the core offers (our core agent), T1 is reserved and the UE gets an
/// actpass offer; our UE answers active, so the AGW is the DTLS server (no Establish signal).
#[test]
fn our_ue_and_core_agent_figure_6_2_10_5_2() {
    let (mgc, _agw) = start((37020, 37039), (38020, 38039));
    let mut ue = agent("ue");
    let mut core = agent("core");
    let core_offer = sdp(&core.call(json!({"cmd": "offer"})));
    assert!(core_offer.contains(" RTP/AVP 0 111\r\n"), "{core_offer}");
    let t1 = add_access(&mgc, None, false);
    let t2 = add_core(&mgc, t1.context, Some(m_port(&core_offer)));
    assert_eq!(
        core.call(json!({"cmd": "answer", "sdp": sdp_for_core(&t2)}))["ok"],
        true
    );
    let answer = sdp(&ue.call(json!({"cmd": "accept", "sdp": sdp_for_ue(&t1, "actpass")})));
    assert!(answer.contains("a=setup:active\r\n"), "{answer}");
    modify_remote(
        &mgc,
        t1.context,
        &t1.termination,
        &ue_remote(&answer),
        ", Events = 2002 { xdtls/estfail }",
    );
    media_both_ways(&mut ue, &mut core, "client");
    subtract(&mgc, t1.context, &t1.termination, &t2.termination);
}
