//! Hostile media input (issue 10) against the real `iq-agw`: while a call is up (OpenSSL +
//! libsrtp UE on the access side, a plain-RTP core peer), another address (127.0.0.2) floods
//! the access and the core port as fast as it can with random bytes, fake STUN (bad
//! MESSAGE-INTEGRITY), fake DTLS ClientHellos, fake SRTP/SRTCP with wrong tags under many
//! SSRCs and fake RTP. The daemon must stay up, the call's media must keep flowing both ways
//! with the packets unchanged, none of the flood may reach either peer, and none of it may be
//! processed as the peer's (the SRTP auth-failure count stays 0: forged SRTP from a stranger
//! is dropped for its source before any crypto).

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::media::{actions, local, reply_text, rtp_list, CorePeer, Local, Ue};
use common::mgc::TestMgc;
use common::{bin, oracle_python, Proc};
use serde_json::json;

const AGW_MID: &str = "<agw1.example.net>";

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

/// xorshift32.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// One flood packet of kind `k`.
fn hostile(rng: &mut Rng, k: u32) -> Vec<u8> {
    match k % 6 {
        // random bytes
        0 => {
            let n = 1 + (rng.next() % 1200) as usize;
            rng.bytes(n)
        }
        // STUN Binding request with a USERNAME and a MESSAGE-INTEGRITY that cannot verify
        1 => {
            let mut m = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
            m.extend(rng.bytes(12));
            m.extend([0x00, 0x06, 0x00, 0x09]);
            m.extend(b"agw1:ue01\0\0\0");
            m.extend([0x00, 0x08, 0x00, 0x14]);
            m.extend(rng.bytes(20));
            let len = (m.len() - 20) as u16;
            m[2..4].copy_from_slice(&len.to_be_bytes());
            m
        }
        // DTLS 1.2 handshake record: a ClientHello-looking body
        2 => {
            let body = rng.bytes(120);
            let mut m = vec![22, 0xfe, 0xfd, 0, 0];
            m.extend(rng.bytes(6));
            m.extend((body.len() as u16 + 12).to_be_bytes());
            m.extend([
                1,
                0,
                0,
                body.len() as u8,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                body.len() as u8,
            ]);
            m.extend(body);
            m
        }
        // SRTP with a random SSRC (many SSRCs) and a wrong tag
        3 => {
            let mut m = vec![0x80, 0];
            m.extend(rng.bytes(10));
            m.extend(rng.bytes(160 + 10));
            m
        }
        // SRTCP SR with a wrong tag and index
        4 => {
            let mut m = vec![0x80, 200, 0, 6];
            m.extend(rng.bytes(24 + 4 + 10));
            m
        }
        // plain RTP, PT 0, random SSRC (for the core port)
        _ => {
            let mut m = vec![0x80, 0];
            m.extend(rng.bytes(10));
            m.extend(rng.bytes(160));
            m
        }
    }
}

/// Flood `targets` from 127.0.0.2 until `stop`; returns the packets sent.
fn flood(targets: Vec<SocketAddr>, stop: Arc<AtomicBool>, sent: Arc<AtomicU64>) {
    let sock = UdpSocket::bind("127.0.0.2:0").unwrap();
    let mut rng = Rng(0x9e37_79b9);
    let mut k = 0u32;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..64 {
            k = k.wrapping_add(1);
            let p = hostile(&mut rng, k);
            let to = targets[(k as usize / 6) % targets.len()];
            if sock.send_to(&p, to).is_ok() {
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Let the kernel breathe on a 2-core machine; still tens of thousands per second.
        std::thread::yield_now();
    }
}

fn ue_remote(port: u16, fingerprint: &str) -> String {
    format!(
        "v=0\nc=IN IP4 127.0.0.1\nm=audio {port} UDP/TLS/RTP/SAVP 0\na=rtpmap:0 PCMU/8000\na=rtcp-mux\na=fingerprint:{fingerprint}\n"
    )
}

fn add_access(mgc: &TestMgc, remote: &str) -> Local {
    let req = format!(
        "Context = $ {{ Add = $ {{ Media {{ TerminationState {{ ipdc/realm = \"access\" }}, \
         Stream = 1 {{ LocalControl {{ Mode = SendReceive }}, Local {{\nv=0\nc=IN IP4 $\n\
         m=audio $ UDP/TLS/RTP/SAVP 0\na=rtpmap:0 PCMU/8000\na=rtcp-mux\na=fingerprint:$\n}}, \
         Remote {{\n{remote}}} }} }}, Events = 2001 {{ xdtls/estfail }} }} }}"
    );
    local(&mgc.request_text(&req))
}

fn add_core(mgc: &TestMgc, context: u32, core_port: u16) -> Local {
    let req = format!(
        "Context = {context} {{ Add = $ {{ Media {{ TerminationState {{ ipdc/realm = \"core\" }}, \
         Stream = 1 {{ LocalControl {{ Mode = SendReceive }}, Local {{\nv=0\nc=IN IP4 $\n\
         m=audio $ RTP/AVP 0\na=rtpmap:0 PCMU/8000\n}}, Remote {{\nv=0\nc=IN IP4 127.0.0.1\n\
         m=audio {core_port} RTP/AVP 0\na=rtpmap:0 PCMU/8000\n}} }} }} }} }}"
    );
    local(&mgc.request_text(&req))
}

/// `got` is `want` in order with some packets missing; returns how many are missing.
fn subsequence_missing(
    got: &[common::media::Rtp],
    want: &[common::media::Rtp],
    what: &str,
) -> usize {
    let mut i = 0;
    for g in got {
        while i < want.len() && &want[i] != g {
            i += 1;
        }
        assert!(
            i < want.len(),
            "{what}: a packet that was never sent (or out of order) arrived: {g:?}"
        );
        i += 1;
    }
    want.len() - got.len()
}

#[test]
fn media_flood_on_the_access_port_neither_crashes_nor_disturbs_the_call() {
    flood_case((31600, 31619), (32600, 32619), false);
}

/// Found by this test (issue 10): the plain core leg relayed RTP from any source address to
/// the UE, so an off-path host could inject media into a call through the core port. Fixed
/// in `agw/src/media/plain.rs` (only the Remote address is the peer unless latching).
#[test]
fn media_flood_on_both_ports_neither_crashes_nor_disturbs_the_call() {
    flood_case((31640, 31659), (32640, 32659), true);
}

fn flood_case(access: (u16, u16), core_ports: (u16, u16), flood_core: bool) {
    let Some(py) = oracle_python("security_media") else {
        return;
    };
    let (mgc, mut agw) = start(access, core_ports);
    let mut ue = Ue::start(&py, "dtls_ue.py", true);
    let ue_fp = ue.hello["fingerprint"].as_str().unwrap().to_string();
    let ue_port = ue.hello["port"].as_u64().unwrap() as u16;
    let mut core = CorePeer::bind();
    let t1 = add_access(&mgc, &ue_remote(ue_port, &ue_fp));
    let t2 = add_core(&mgc, t1.context, core.addr().port());
    let rss_before = agw.rss_kib();

    // The flood starts before the UE's handshake and lasts the whole call.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let flooder = {
        let (stop, sent) = (stop.clone(), sent.clone());
        let targets = if flood_core {
            vec![t1.addr, t2.addr]
        } else {
            vec![t1.addr]
        };
        std::thread::spawn(move || flood(targets, stop, sent))
    };
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    ue.send(json!({
        "cmd": "run",
        "remote": t1.addr.to_string(),
        "role": "client",
        "peer_fingerprint": t1.fingerprint.clone().unwrap(),
        "seconds": 3.0,
        "packets": 100,
        "handshake_seconds": 10,
    }));
    core.run(t2.addr, 100, 0, Duration::from_millis(4500));
    let report = ue.read()["report"].clone();
    stop.store(true, Ordering::Relaxed);
    flooder.join().unwrap();
    let flood_secs = t0.elapsed().as_secs_f64() + 0.3;
    let flood_n = sent.load(Ordering::Relaxed);
    assert_eq!(
        agw.child.try_wait().unwrap(),
        None,
        "iq-agw died under the flood"
    );

    assert_eq!(report["handshake"], "ok", "UE report: {report}");
    let ue_sent = rtp_list(&report["sent_rtp"]);
    let ue_recv = rtp_list(&report["recv_rtp"]);
    // Nothing of the flood reached a peer, and what arrived is the other side's, in order.
    let lost_up = subsequence_missing(&core.received, &ue_sent, "UE->core");
    let lost_down = subsequence_missing(&ue_recv, &core.sent, "core->UE");
    assert_eq!(report["unprotect_failures"], 0, "the UE got forged SRTP");
    println!(
        "flood: {flood_n} packets in {flood_secs:.1} s ({:.0}/s) from 127.0.0.2; \
         UE->core {}/{} arrived, core->UE {}/{} arrived",
        flood_n as f64 / flood_secs,
        core.received.len(),
        ue_sent.len(),
        ue_recv.len(),
        core.sent.len()
    );
    assert!(
        flood_n > 10_000,
        "the flood was too small to mean anything: {flood_n}"
    );
    // Loopback on a loaded 2-core machine: a socket buffer may overflow under the flood, so a
    // few percent may be lost; the call must keep flowing.
    assert!(
        ue_sent.len() >= 90 && lost_up * 10 <= ue_sent.len(),
        "UE->core lost {lost_up}"
    );
    assert!(
        core.sent.len() >= 90 && lost_down * 10 <= core.sent.len(),
        "core->UE lost {lost_down}"
    );

    // After the flood: the AGW answers, and its statistics show that no forged SRTP was
    // authenticated against the call's keys (a stranger's packets are dropped for their
    // source first).
    let r = mgc.request_text(&format!(
        "Context = {} {{ Subtract = {}, Subtract = {} }}",
        t1.context, t1.termination, t2.termination
    ));
    actions(&r);
    let stats = reply_text(&r);
    let access = stats
        .split("Subtract")
        .find(|s| s.contains(&t1.termination))
        .unwrap_or_else(|| panic!("no statistics for {}:\n{stats}", t1.termination));
    assert!(
        access.contains("xdtls/srtpaf = 0"),
        "forged SRTP from the stranger was processed as the peer's:\n{stats}"
    );
    let rss_after = agw.rss_kib();
    println!("iq-agw VmRSS {rss_before} kB before, {rss_after} kB after the flood");
    assert!(
        rss_after < rss_before + 30_000,
        "iq-agw grew by {} kB under the flood",
        rss_after - rss_before
    );
    assert_eq!(agw.child.try_wait().unwrap(), None);
}
