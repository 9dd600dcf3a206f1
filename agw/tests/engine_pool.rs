//! Port pools: a realm with a 4-port range (two even ports) gives two legs and then
//! NoPorts without leaking anything; a closed leg's port comes back; unknown realms are
//! refused; DTLS-SRTP legs get fresh ICE credentials and the certificate's fingerprint.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{LegId, LegKind, LegSpec, MediaError, MediaPlane, StreamMode};
use iq_agw::media::cert::Certificate;
use iq_agw::media::engine::{Engine, EngineConfig, RealmConfig};

fn spec(context: u32, realm: &str, kind: LegKind) -> LegSpec {
    LegSpec {
        context,
        kind,
        realm: realm.into(),
        mode: StreamMode::SendRecv,
        remote: None,
        remote_fingerprints: vec![],
        dtls_role: None,
        remote_ice: None,
        latching: false,
    }
}

fn engine(cert: Arc<Certificate>) -> Engine {
    Engine::new(EngineConfig {
        realms: vec![
            RealmConfig {
                name: "tiny".into(),
                address: Ipv4Addr::LOCALHOST.into(),
                advertise: Some(Ipv4Addr::new(192, 0, 2, 7).into()),
                // 22001 is odd: the pool starts at 22002. Two even ports: 22002, 22004.
                ports: 22001..=22004,
            },
            RealmConfig {
                name: "big".into(),
                address: Ipv4Addr::LOCALHOST.into(),
                advertise: None,
                ports: 22100..=22199,
            },
        ],
        certificate: cert,
        handshake_timeout: Duration::from_secs(10),
        consent_timeout: Duration::from_secs(30),
    })
    .unwrap()
}

async fn wait_sockets(engine: &Engine, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while engine.open_sockets() != n {
        assert!(
            Instant::now() < deadline,
            "open sockets {} != {n}",
            engine.open_sockets()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn four_port_range_gives_two_legs() {
    let mut e = engine(Arc::new(Certificate::generate().unwrap()));
    let now = Instant::now();
    let l1 = e
        .open(LegId(1), &spec(1, "tiny", LegKind::Plain), now)
        .unwrap();
    let l2 = e
        .open(LegId(2), &spec(1, "tiny", LegKind::Plain), now)
        .unwrap();
    let ports: HashSet<u16> = [l1.addr.port(), l2.addr.port()].into();
    assert_eq!(ports, HashSet::from([22002, 22004]));
    assert_eq!(
        l1.addr.ip(),
        std::net::IpAddr::from(Ipv4Addr::new(192, 0, 2, 7)),
        "advertised address"
    );

    // Exhausted: NoPorts, and nothing left behind.
    assert_eq!(
        e.open(LegId(3), &spec(2, "tiny", LegKind::Plain), now),
        Err(MediaError::NoPorts("tiny".into()))
    );
    assert_eq!(e.leg_count(), 2);
    assert_eq!(e.open_sockets(), 2);
    assert_eq!(e.ports_in_use("tiny"), Some(2));
    // The failed leg does not exist.
    assert_eq!(e.stats(LegId(3)), Err(MediaError::UnknownLeg(LegId(3))));
    assert_eq!(e.task_count(), 1, "no task for the failed leg's context");

    // Close one: its port comes back and is handed out again.
    e.close(LegId(1)).unwrap();
    assert_eq!(e.leg_count(), 1);
    wait_sockets(&e, 1).await;
    assert_eq!(e.ports_in_use("tiny"), Some(1));
    // The OS must have the port free too: bind it ourselves.
    drop(std::net::UdpSocket::bind(("127.0.0.1", l1.addr.port())).expect("port really closed"));
    let l3 = e
        .open(LegId(3), &spec(2, "tiny", LegKind::Plain), now)
        .unwrap();
    assert_eq!(l3.addr.port(), l1.addr.port());
    assert_eq!(e.close(LegId(1)), Err(MediaError::UnknownLeg(LegId(1))));
}

#[tokio::test]
async fn ports_the_os_refuses_are_skipped() {
    let mut e = engine(Arc::new(Certificate::generate().unwrap()));
    // Someone else holds 22100: the pool skips it.
    let squatter = std::net::UdpSocket::bind("127.0.0.1:22100").unwrap();
    let l = e
        .open(LegId(1), &spec(1, "big", LegKind::Plain), Instant::now())
        .unwrap();
    assert_eq!(l.addr.port(), 22102);
    drop(squatter);
}

#[tokio::test]
async fn unknown_realm_and_empty_realm() {
    let mut e = engine(Arc::new(Certificate::generate().unwrap()));
    assert_eq!(
        e.open(
            LegId(1),
            &spec(1, "nowhere", LegKind::Plain),
            Instant::now()
        ),
        Err(MediaError::UnknownRealm("nowhere".into()))
    );
    assert_eq!(e.leg_count(), 0);
    assert_eq!(e.open_sockets(), 0);
    // No realm named: the first realm.
    let l = e
        .open(LegId(2), &spec(1, "", LegKind::Plain), Instant::now())
        .unwrap();
    assert!((22002..=22004).contains(&l.addr.port()));
}

#[tokio::test]
async fn dtls_legs_get_ice_credentials_and_fingerprint() {
    let cert = Arc::new(Certificate::generate().unwrap());
    let mut e = engine(cert.clone());
    let now = Instant::now();
    let a = e
        .open(LegId(1), &spec(1, "big", LegKind::DtlsSrtp), now)
        .unwrap();
    let b = e
        .open(LegId(2), &spec(2, "big", LegKind::DtlsSrtp), now)
        .unwrap();
    let (ia, ib) = (a.ice.unwrap(), b.ice.unwrap());
    for ice in [&ia, &ib] {
        assert!(ice.ufrag.len() >= 4 && ice.pwd.len() >= 22, "{ice:?}");
        let ice_char = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
        assert!(
            ice.ufrag.chars().all(ice_char) && ice.pwd.chars().all(ice_char),
            "{ice:?}"
        );
    }
    assert_ne!(ia.ufrag, ib.ufrag);
    assert_ne!(ia.pwd, ib.pwd);
    assert_eq!(a.fingerprint.as_ref(), Some(cert.fingerprint()));
    assert_eq!(b.fingerprint.as_ref(), Some(cert.fingerprint()));
    // Changing a leg's transport is refused.
    assert!(matches!(
        e.update(LegId(1), &spec(1, "big", LegKind::Plain), now),
        Err(MediaError::Rejected(_))
    ));
}
