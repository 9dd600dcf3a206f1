//! Open and close 200 legs (plain and DTLS-SRTP, with traffic): afterwards no leg, no
//! socket, no task, and the process's open file descriptors are back to where they were.
//! Alone in its binary so that no other test's sockets disturb the descriptor count.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{LegId, LegKind, LegSpec, MediaPlane, StreamMode};
use iq_agw::media::cert::Certificate;
use iq_agw::media::engine::{Engine, EngineConfig, RealmConfig};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[tokio::test]
async fn open_and_close_200_legs_leaves_nothing() {
    let cert = Arc::new(Certificate::generate().unwrap());
    let mut engine = Engine::new(EngineConfig {
        realms: vec![RealmConfig {
            name: "r".into(),
            address: Ipv4Addr::LOCALHOST.into(),
            advertise: None,
            ports: 23000..=23999,
        }],
        certificate: cert,
        handshake_timeout: Duration::from_secs(10),
        consent_timeout: Duration::from_secs(30),
    })
    .unwrap();
    let peer = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let metrics = tokio::runtime::Handle::current().metrics();
    tokio::task::yield_now().await;
    let fds_before = open_fds();
    let tasks_before = metrics.num_alive_tasks();

    let now = Instant::now();
    let mut addrs = Vec::new();
    for i in 0..200u64 {
        let spec = LegSpec {
            context: (i / 2) as u32,
            kind: if i % 4 == 0 {
                LegKind::DtlsSrtp
            } else {
                LegKind::Plain
            },
            realm: "r".into(),
            mode: StreamMode::SendRecv,
            remote: Some(peer.local_addr().unwrap()),
            remote_fingerprints: vec![],
            dtls_role: None,
            remote_ice: None,
            latching: i % 3 == 0,
        };
        addrs.push(engine.open(LegId(i), &spec, now).unwrap().addr);
    }
    assert_eq!(engine.leg_count(), 200);
    assert_eq!(engine.open_sockets(), 200);
    assert_eq!(engine.task_count(), 100);
    assert_eq!(open_fds(), fds_before + 200, "one descriptor per leg");
    // Some traffic so that the tasks have done real work.
    let pkt = [0x80u8, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xee];
    for a in &addrs {
        peer.send_to(&pkt, a).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;

    for i in 0..200u64 {
        engine.close(LegId(i)).unwrap();
    }
    assert_eq!(engine.leg_count(), 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while engine.open_sockets() != 0 || engine.task_count() != 0 {
        assert!(
            Instant::now() < deadline,
            "sockets {} tasks {}",
            engine.open_sockets(),
            engine.task_count()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(engine.ports_in_use("r"), Some(0));
    assert_eq!(
        metrics.num_alive_tasks(),
        tasks_before,
        "runtime tasks back"
    );
    assert_eq!(open_fds(), fds_before, "descriptors back");
}
