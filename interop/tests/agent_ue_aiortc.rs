//! Our WebRTC UE (`iq-interop agent ue`) against aiortc (`interop/peers/webrtc/ue.py`, a
//! third-party ICE + DTLS + SRTP implementation) directly, no AGW in between: the two agents'
//! offers and answers are shuttled between them, then both send audio.
//!
//! - we offer (actpass), aiortc answers active: we are the DTLS server, ICE controlling;
//! - aiortc offers (actpass), we answer active: we are the DTLS client, ICE controlled;
//! - a tampered aiortc fingerprint: our handshake fails and no media is accepted.
//!
//! In each good case ICE completes, DTLS connects, every RTP packet one side sent arrives at
//! the other with the same SSRC, sequence number, payload type and payload, RTCP both ways.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::media::{rtp_list, Rtp, Ue};
use common::oracle_python;
use serde_json::{json, Value};

fn our_agent(role: &str) -> Ue {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iq-interop"));
    cmd.args(["agent", role, "--bind", "127.0.0.1"])
        .env("RUST_LOG", "iq_interop=info");
    Ue::spawn(cmd, false)
}

fn sdp(v: &Value) -> String {
    v["sdp"].as_str().expect("an sdp reply").to_string()
}

/// The payload type of the first format on the `m=audio` line.
fn first_pt(sdp: &str) -> u8 {
    sdp.lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|m| m.split_whitespace().nth(2))
        .and_then(|p| p.parse().ok())
        .expect("m=audio with a format")
}

/// Run aiortc longer than us (started first, reported last) so everything we send arrives
/// before it reports; return (our report, aiortc's report).
fn media(ours: &mut Ue, aiortc: &mut Ue) -> (Value, Value) {
    aiortc.send(json!({"cmd": "run", "seconds": 5.0}));
    std::thread::sleep(Duration::from_millis(300));
    let mine = ours.call(json!({"cmd": "run", "seconds": 3.5}))["report"].clone();
    let theirs = aiortc.read()["report"].clone();
    eprintln!(
        "our report: dtls {} {} ice {} sent {} recv {} rtcp {}/{} profile {}",
        mine["dtls_state"],
        mine["dtls_role"],
        mine["ice_state"],
        mine["sent_rtp"].as_array().map_or(0, Vec::len),
        mine["recv_rtp"].as_array().map_or(0, Vec::len),
        mine["sent_rtcp"],
        mine["recv_rtcp"],
        mine["srtp_profile"]
    );
    (mine, theirs)
}

fn check(mine: &Value, theirs: &Value, our_role: &str, pt: u8, controlling: bool) {
    assert_eq!(mine["ice_state"], "completed", "our report: {mine}");
    assert_eq!(mine["ice_controlling"], controlling);
    assert_eq!(mine["dtls_state"], "connected", "our report: {mine}");
    assert_eq!(theirs["dtls_state"], "connected");
    assert_eq!(theirs["ice_state"], "completed");
    assert_eq!(mine["dtls_role"], our_role);
    let their_role = if our_role == "client" {
        "server"
    } else {
        "client"
    };
    assert_eq!(theirs["dtls_role"], their_role);

    // us -> aiortc: everything we sent arrived unchanged, nothing else did
    let sent = rtp_list(&mine["sent_rtp"]);
    assert!(sent.len() >= 150, "we sent {} packets in 3.5 s", sent.len());
    let want_len = if pt == 0 { 320 } else { 160 };
    assert!(
        sent.iter().all(|p| p.2 == pt && p.3.len() == want_len),
        "we send the negotiated PT {pt} with {} octets",
        want_len / 2
    );
    let got = rtp_list(&theirs["recv_rtp"]);
    assert_eq!(got, sent, "aiortc received exactly what we sent, in order");

    // aiortc -> us: what we got is what aiortc sent, contiguous (no loss in between)
    let recv = rtp_list(&mine["recv_rtp"]);
    assert!(recv.len() >= 120, "we received {} packets", recv.len());
    let theirs_sent = rtp_list(&theirs["sent_rtp"]);
    let first = theirs_sent
        .iter()
        .position(|p| *p == recv[0])
        .expect("our first received packet is one aiortc sent");
    let window: Vec<Rtp> = theirs_sent[first..first + recv.len()].to_vec();
    assert_eq!(recv, window, "aiortc->us RTP differs or has gaps");
    let ssrcs: BTreeSet<u32> = recv.iter().map(|p| p.0).collect();
    assert_eq!(ssrcs.len(), 1);

    assert!(
        mine["recv_rtcp"].as_u64().unwrap() > 0,
        "no SRTCP from aiortc"
    );
    assert!(mine["sent_rtcp"].as_u64().unwrap() >= 3, "an SR a second");
    assert!(
        theirs["recv_rtcp"].as_u64().unwrap() > 0,
        "no SRTCP reached aiortc"
    );
}

#[test]
fn our_offer_aiortc_answers_we_are_dtls_server_and_ice_controlling() {
    let Some(py) = oracle_python("agent_ue_aiortc") else {
        return;
    };
    let mut ours = our_agent("ue");
    let mut aiortc = Ue::start(&py, "ue.py", false);
    let offer = sdp(&ours.call(json!({"cmd": "offer"})));
    for want in [
        "m=audio ",
        " UDP/TLS/RTP/SAVPF 111 0\r\n",
        "a=rtpmap:111 opus/48000/2\r\n",
        "a=rtpmap:0 PCMU/8000\r\n",
        "a=setup:actpass\r\n",
        "a=fingerprint:sha-256 ",
        "a=rtcp-mux\r\n",
        "a=sendrecv\r\n",
        "a=mid:0\r\n",
        "a=tls-id:",
        "typ host",
        "c=IN IP4 127.0.0.1\r\n",
    ] {
        assert!(offer.contains(want), "offer lacks {want:?}:\n{offer}");
    }
    let answer = sdp(&aiortc.call(json!({"cmd": "accept", "sdp": offer})));
    assert!(
        answer.contains("a=setup:active"),
        "aiortc answers active:\n{answer}"
    );
    let pt = first_pt(&answer);
    assert_eq!(pt, 111, "aiortc keeps our opus PT");
    assert_eq!(
        ours.call(json!({"cmd": "answer", "sdp": answer}))["ok"],
        true
    );
    let (mine, theirs) = media(&mut ours, &mut aiortc);
    check(&mine, &theirs, "server", pt, true);
}

#[test]
fn aiortc_offer_we_answer_active_we_are_dtls_client_and_ice_controlled() {
    let Some(py) = oracle_python("agent_ue_aiortc") else {
        return;
    };
    let mut ours = our_agent("ue");
    let mut aiortc = Ue::start(&py, "ue.py", false);
    let offer = sdp(&aiortc.call(json!({"cmd": "offer"})));
    assert!(offer.contains("a=setup:actpass"));
    let answer = sdp(&ours.call(json!({"cmd": "accept", "sdp": offer})));
    assert!(answer.contains("a=setup:active\r\n"), "{answer}");
    let pt = first_pt(&answer);
    assert_eq!(
        pt,
        first_pt(&offer),
        "we take aiortc's first (supported) codec"
    );
    assert_eq!(
        aiortc.call(json!({"cmd": "answer", "sdp": answer}))["ok"],
        true
    );
    let (mine, theirs) = media(&mut ours, &mut aiortc);
    check(&mine, &theirs, "client", pt, false);
}

/// One digit of aiortc's fingerprint changed: whichever role, our handshake must fail (the
/// peer certificate is checked against the signalled fingerprint) and no SRTP is accepted.
#[test]
fn a_wrong_fingerprint_fails_our_handshake_and_no_media_is_accepted() {
    let Some(py) = oracle_python("agent_ue_aiortc") else {
        return;
    };
    let mut ours = our_agent("ue");
    let mut aiortc = Ue::start(&py, "ue.py", false);
    let offer = sdp(&aiortc.call(json!({"cmd": "offer"})));
    let tampered: String = offer
        .split_inclusive('\n')
        .map(|l| {
            if let Some(rest) = l.strip_prefix("a=fingerprint:") {
                // flip the last hex digit of every fingerprint line
                let t = rest.trim_end();
                let (head, last) = t.split_at(t.len() - 1);
                let flipped = if last == "0" { "1" } else { "0" };
                format!("a=fingerprint:{head}{flipped}\r\n")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_ne!(tampered, offer);
    let answer = sdp(&ours.call(json!({"cmd": "accept", "sdp": tampered})));
    aiortc.call(json!({"cmd": "answer", "sdp": answer}));
    aiortc.send(json!({"cmd": "run", "seconds": 4.0}));
    let mine = ours.call(json!({"cmd": "run", "seconds": 3.0}))["report"].clone();
    let _ = aiortc.read();
    assert_eq!(
        mine["ice_state"], "completed",
        "ICE is not the problem: {mine}"
    );
    assert_eq!(mine["dtls_state"], "failed", "{mine}");
    assert!(
        mine["dtls_error"]
            .as_str()
            .unwrap_or("")
            .contains("fingerprint"),
        "{mine}"
    );
    assert_eq!(rtp_list(&mine["recv_rtp"]).len(), 0);
    assert_eq!(
        rtp_list(&mine["sent_rtp"]).len(),
        0,
        "nothing sent without keys"
    );
}
