//! The engine over real UDP on 127.0.0.1: two plain legs in one context between a "UE"
//! socket and a "core" socket. Bytes arrive unchanged both ways, counters count them, a
//! sequence gap counts as lost, jitter follows RFC 3550 A.8, stream modes stop the right
//! direction, and latching learns the core's source address.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{LegId, LegKind, LegSpec, LegStats, MediaEvent, MediaPlane, StreamMode};
use iq_agw::media::cert::Certificate;
use iq_agw::media::engine::{Engine, EngineConfig, RealmConfig};
use tokio::net::UdpSocket;

fn engine(first_port: u16) -> Engine {
    let realm = |name: &str, base: u16| RealmConfig {
        name: name.into(),
        address: Ipv4Addr::LOCALHOST.into(),
        advertise: None,
        ports: base..=base + 199,
    };
    Engine::new(EngineConfig {
        realms: vec![realm("access", first_port), realm("core", first_port + 200)],
        certificate: Arc::new(Certificate::generate().unwrap()),
        handshake_timeout: Duration::from_secs(10),
        consent_timeout: Duration::from_secs(30),
    })
    .unwrap()
}

fn plain(context: u32, realm: &str, remote: Option<SocketAddr>) -> LegSpec {
    LegSpec {
        context,
        kind: LegKind::Plain,
        realm: realm.into(),
        mode: StreamMode::SendRecv,
        remote,
        remote_fingerprints: vec![],
        dtls_role: None,
        remote_ice: None,
        latching: false,
    }
}

fn rtp(seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0x80 | 111];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn rtcp_rr(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 201, 0, 1];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p
}

async fn recv(sock: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = [0u8; 4096];
    match tokio::time::timeout(Duration::from_millis(300), sock.recv_from(&mut buf)).await {
        Ok(Ok((n, from))) => Some((buf[..n].to_vec(), from)),
        _ => None,
    }
}

async fn eventually(
    engine: &Engine,
    leg: LegId,
    what: &str,
    f: impl Fn(&LegStats) -> bool,
) -> LegStats {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let s = engine.stats(leg).unwrap();
        if f(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: {s:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

struct Setup {
    engine: Engine,
    ue: UdpSocket,
    core: UdpSocket,
    a: SocketAddr,
    b: SocketAddr,
}

const A: LegId = LegId(1);
const B: LegId = LegId(2);

async fn setup(first_port: u16, latching_core: bool) -> Setup {
    let mut engine = engine(first_port);
    let ue = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let core = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let now = Instant::now();
    let a = engine
        .open(A, &plain(7, "access", Some(ue.local_addr().unwrap())), now)
        .unwrap();
    let mut core_spec = plain(7, "core", Some(core.local_addr().unwrap()));
    if latching_core {
        core_spec.remote = None;
        core_spec.latching = true;
    }
    let b = engine.open(B, &core_spec, now).unwrap();
    assert!(
        a.ice.is_none() && a.fingerprint.is_none(),
        "plain legs have no ICE/DTLS"
    );
    assert_eq!(a.addr.port() % 2, 0, "even port");
    assert!(
        (first_port..first_port + 200).contains(&a.addr.port()),
        "access port from the access range"
    );
    assert!(
        (first_port + 200..first_port + 400).contains(&b.addr.port()),
        "core port from the core range"
    );
    Setup {
        engine,
        ue,
        core,
        a: a.addr,
        b: b.addr,
    }
}

#[tokio::test]
async fn relays_both_ways_with_counters_loss_and_jitter() {
    let s = setup(21000, false).await;
    // UE -> core: RTP with a gap (seq 3 missing), then RTCP.
    let mut sent = 0u64;
    let mut octets = 0u64;
    for seq in [1u16, 2, 4, 5, 6] {
        let p = rtp(seq, u32::from(seq) * 160, 0xAABB_CCDD, &[seq as u8; 160]);
        s.ue.send_to(&p, s.a).await.unwrap();
        let (got, from) = recv(&s.core).await.expect("relayed to the core");
        assert_eq!(got, p, "payload bytes unchanged");
        assert_eq!(from, s.b, "sent from the core leg's port");
        sent += 1;
        octets += p.len() as u64;
    }
    let rr = rtcp_rr(0x1111);
    s.ue.send_to(&rr, s.a).await.unwrap();
    assert_eq!(recv(&s.core).await.unwrap().0, rr, "RTCP relayed too");
    sent += 1;
    octets += rr.len() as u64;

    let a = eventually(&s.engine, A, "A counted", |st| st.packets_received == sent).await;
    assert_eq!(a.octets_received, octets);
    assert_eq!(a.packets_lost, 1, "one sequence gap");
    let b = eventually(&s.engine, B, "B counted", |st| st.packets_sent == sent).await;
    assert_eq!(b.octets_sent, octets);
    assert_eq!(b.packets_received, 0);

    // core -> UE, with timestamps one second (8000 units at PCMU's 8 kHz) apart but sent
    // back to back: every transit difference is ~8000, so A.8's jitter climbs towards 8000
    // (J_n = 8000 * (1 - (15/16)^(n-1)); about 1800 after 5 packets).
    for seq in 0..5u16 {
        let mut p = rtp(100 + seq, u32::from(seq) * 8000, 0x0102_0304, b"core");
        p[1] = 0; // PT 0, PCMU
        s.core.send_to(&p, s.b).await.unwrap();
        let (got, from) = recv(&s.ue).await.expect("relayed to the UE");
        assert_eq!(got, p);
        assert_eq!(from, s.a);
    }
    let b = eventually(&s.engine, B, "B received", |st| st.packets_received == 5).await;
    assert_eq!(b.packets_lost, 0);
    assert!(
        (1000..8000).contains(&b.jitter),
        "jitter {} not per RFC 3550 A.8",
        b.jitter
    );
    let a = eventually(&s.engine, A, "A sent", |st| st.packets_sent == 5).await;
    assert!(
        a.jitter < 100,
        "UE stream was paced by its timestamps: jitter {}",
        a.jitter
    );

    // Garbage (not RTP/RTCP) is neither relayed nor counted.
    s.ue.send_to(&[0x00, 0x01, 0, 0], s.a).await.unwrap();
    s.ue.send_to(&[0x80], s.a).await.unwrap();
    assert!(recv(&s.core).await.is_none());
    assert_eq!(s.engine.stats(A).unwrap().packets_received, sent);
}

async fn flows(s: &Setup, seq: u16) -> (bool, bool) {
    let up = rtp(seq, 0, 1, b"up");
    s.ue.send_to(&up, s.a).await.unwrap();
    let up_ok = recv(&s.core).await.map(|(p, _)| p) == Some(up);
    let down = rtp(seq, 0, 2, b"down");
    s.core.send_to(&down, s.b).await.unwrap();
    let down_ok = recv(&s.ue).await.map(|(p, _)| p) == Some(down);
    (up_ok, down_ok)
}

#[tokio::test]
async fn stream_modes_stop_the_right_direction() {
    let mut s = setup(21400, false).await;
    let mut spec = plain(7, "access", Some(s.ue.local_addr().unwrap()));
    assert_eq!(flows(&s, 1).await, (true, true), "sendrecv");

    // Mode of the access termination A (UE side). SendOnly: A only sends to the UE.
    spec.mode = StreamMode::SendOnly;
    s.engine.update(A, &spec, Instant::now()).unwrap();
    assert_eq!(flows(&s, 2).await, (false, true), "A sendonly");
    // RecvOnly: A only receives from the UE.
    spec.mode = StreamMode::RecvOnly;
    s.engine.update(A, &spec, Instant::now()).unwrap();
    assert_eq!(flows(&s, 3).await, (true, false), "A recvonly");
    spec.mode = StreamMode::Inactive;
    s.engine.update(A, &spec, Instant::now()).unwrap();
    assert_eq!(flows(&s, 4).await, (false, false), "A inactive");
    spec.mode = StreamMode::SendRecv;
    s.engine.update(A, &spec, Instant::now()).unwrap();
    assert_eq!(flows(&s, 5).await, (true, true), "A sendrecv again");

    // The same on the core termination B: its SendOnly stops core -> UE.
    let mut core_spec = plain(7, "core", Some(s.core.local_addr().unwrap()));
    core_spec.mode = StreamMode::SendOnly;
    s.engine.update(B, &core_spec, Instant::now()).unwrap();
    assert_eq!(flows(&s, 6).await, (true, false), "B sendonly");
    core_spec.mode = StreamMode::RecvOnly;
    s.engine.update(B, &core_spec, Instant::now()).unwrap();
    assert_eq!(flows(&s, 7).await, (false, true), "B recvonly");

    // Loopback on A: the UE's media comes back to the UE and not to the core.
    core_spec.mode = StreamMode::SendRecv;
    s.engine.update(B, &core_spec, Instant::now()).unwrap();
    spec.mode = StreamMode::Loopback;
    s.engine.update(A, &spec, Instant::now()).unwrap();
    let p = rtp(8, 0, 1, b"loop");
    s.ue.send_to(&p, s.a).await.unwrap();
    assert_eq!(recv(&s.ue).await.map(|(x, _)| x), Some(p));
    assert!(recv(&s.core).await.is_none());

    // A remote address change takes effect.
    let ue2 = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    spec.mode = StreamMode::SendRecv;
    spec.remote = Some(ue2.local_addr().unwrap());
    s.engine.update(A, &spec, Instant::now()).unwrap();
    let down = rtp(9, 0, 2, b"to ue2");
    s.core.send_to(&down, s.b).await.unwrap();
    assert_eq!(recv(&ue2).await.map(|(x, _)| x), Some(down));
}

#[tokio::test]
async fn latching_learns_the_core_source() {
    let mut s = setup(21800, true).await;
    let mut events = s.engine.take_events().unwrap();
    // Before the core spoke, the core leg has nowhere to send: UE media is dropped.
    s.ue.send_to(&rtp(1, 0, 1, b"early"), s.a).await.unwrap();
    assert!(recv(&s.core).await.is_none());

    // The core speaks first from `core`; that source is latched.
    let hello = rtp(1, 0, 9, b"hello");
    s.core.send_to(&hello, s.b).await.unwrap();
    assert_eq!(recv(&s.ue).await.map(|(x, _)| x), Some(hello));
    let ev = tokio::time::timeout(Duration::from_secs(1), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ev,
        MediaEvent::PeerLearned {
            leg: B,
            addr: s.core.local_addr().unwrap()
        }
    );

    let up = rtp(2, 0, 1, b"now it goes");
    s.ue.send_to(&up, s.a).await.unwrap();
    let (got, from) = recv(&s.core).await.expect("sent to the latched source");
    assert_eq!((got, from), (up, s.b));

    // Another source is not accepted on the latched leg.
    let intruder = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    intruder
        .send_to(&rtp(3, 0, 66, b"intruder"), s.b)
        .await
        .unwrap();
    assert!(recv(&s.ue).await.is_none());
    assert_eq!(s.engine.stats(B).unwrap().packets_received, 1);
}

#[tokio::test]
async fn a_lone_leg_forwards_nothing_and_other_contexts_are_separate() {
    let mut engine = engine(22400);
    let ue = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let other = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let now = Instant::now();
    let a = engine
        .open(
            LegId(1),
            &plain(1, "access", Some(ue.local_addr().unwrap())),
            now,
        )
        .unwrap();
    // A leg of another context must not get context 1's media.
    engine
        .open(
            LegId(2),
            &plain(2, "core", Some(other.local_addr().unwrap())),
            now,
        )
        .unwrap();
    ue.send_to(&rtp(1, 0, 1, b"x"), a.addr).await.unwrap();
    assert!(recv(&other).await.is_none());
    assert!(recv(&ue).await.is_none());
    eventually(&engine, LegId(1), "counted", |s| s.packets_received == 1).await;
    assert_eq!(engine.stats(LegId(2)).unwrap().packets_sent, 0);

    // Moving leg 2 into context 1 (H.248 Move) joins them.
    engine
        .update(
            LegId(2),
            &plain(1, "core", Some(other.local_addr().unwrap())),
            now,
        )
        .unwrap();
    let p = rtp(2, 0, 1, b"after move");
    ue.send_to(&p, a.addr).await.unwrap();
    assert_eq!(recv(&other).await.map(|(x, _)| x), Some(p));
}
