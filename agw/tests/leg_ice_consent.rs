//! The ICE-lite side of the access leg: Binding requests made by aioice (third-party) are
//! answered, the peer is learned (first check, then USE-CANDIDATE), DTLS/SRTP from other
//! addresses is dropped, and consent (RFC 7675) expires without checks.
//!
//! Needs the oracle venv (aioice); fails when `CI` is set and it is missing. Tolerates the
//! `stun::answer_binding` stub (skips loudly) until media-net's STUN lands.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{
    DtlsRole, IceCredentials, LegId, LegKind, LegSpec, MediaEvent, StreamMode,
};
use iq_agw::media::cert::Certificate;
use iq_agw::media::leg::{AccessLeg, AccessLegConfig, DropReason, Received};
use iq_agw::media::stun::{answer_binding, StunError};

const CONSENT: Duration = Duration::from_secs(30);

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn python() -> Option<PathBuf> {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let p = std::env::var_os("IQ_ORACLE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| ws.join("target/oracle/venv/bin/python"));
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!("oracle python venv missing (CI is set)");
    }
    eprintln!("!!! SKIPPING leg_ice_consent: oracle venv missing !!!");
    None
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn requests(
    py: &Path,
    local: &IceCredentials,
    remote: &IceCredentials,
) -> HashMap<String, Vec<u8>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/dtls_ice_requests.py");
    let o = Command::new(py)
        .arg(script)
        .args([&local.ufrag, &local.pwd, &remote.ufrag])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), unhex(v)))
        .collect()
}

#[test]
fn checks_learn_the_peer_guard_sources_and_keep_consent() {
    let Some(py) = python() else { return };
    let local = IceCredentials {
        ufrag: "agw1".into(),
        pwd: "agwpwd0123456789abcdefgh".into(),
    };
    let remote = IceCredentials {
        ufrag: "ue01".into(),
        pwd: "uepwd0123456789abcdefghi".into(),
    };
    let reqs = requests(&py, &local, &remote);
    let mut scratch = Vec::new();
    if matches!(
        answer_binding(&reqs["plain"], addr(1), &local, Some(&remote), &mut scratch),
        Err(StunError::Malformed("stub"))
    ) {
        eprintln!("!!! SKIPPING leg_ice_consent: stun::answer_binding is still the stub !!!");
        return;
    }

    let (u1, u2) = (addr(50001), addr(50002));
    let agw_cert = Arc::new(Certificate::generate().unwrap());
    let ue_cert = Arc::new(Certificate::generate().unwrap());
    let mut now = Instant::now();
    let spec = LegSpec {
        context: 3,
        kind: LegKind::DtlsSrtp,
        realm: "access".into(),
        mode: StreamMode::SendRecv,
        remote: Some(addr(50009)), // c=/m= address; ICE decides
        remote_fingerprints: vec![ue_cert.fingerprint().clone()],
        dtls_role: Some(DtlsRole::Server),
        remote_ice: Some(remote.clone()),
        latching: false,
    };
    let cfg = |id, cert: &Arc<Certificate>, ice: &IceCredentials| AccessLegConfig {
        leg: LegId(id),
        local_ice: ice.clone(),
        certificate: cert.clone(),
        handshake_timeout: Duration::from_secs(10),
        consent_timeout: CONSENT,
    };
    let mut agw = AccessLeg::new(cfg(1, &agw_cert, &local), &spec, now);
    let mut events = Vec::new();
    let drain = |leg: &mut AccessLeg, ev: &mut Vec<MediaEvent>| {
        while let Some(e) = leg.poll_event() {
            ev.push(e);
        }
    };

    // Wrong password: dropped, nothing sent, nothing learned.
    let mut m = reqs["badpwd"].clone();
    assert_eq!(
        agw.handle_datagram(now, u1, &mut m),
        Received::Dropped(DropReason::StunRejected)
    );
    assert!(agw.poll_transmit().is_none());
    drain(&mut agw, &mut events);
    assert!(events.is_empty());

    // First valid check from u1: answered to u1 (a Binding success response), peer learned.
    let mut m = reqs["plain"].clone();
    assert_eq!(agw.handle_datagram(now, u1, &mut m), Received::Consumed);
    let (to, resp) = agw.poll_transmit().expect("response");
    assert_eq!(to, u1);
    assert_eq!(&resp[..2], &[0x01, 0x01], "Binding success response");
    assert_eq!(&resp[8..20], &reqs["plain"][8..20], "same transaction id");
    drain(&mut agw, &mut events);
    assert_eq!(
        events,
        vec![MediaEvent::PeerLearned {
            leg: LegId(1),
            addr: u1
        }]
    );
    events.clear();

    // A non-nominating check from u2 is answered but does not move the peer ...
    let mut m = reqs["plain2"].clone();
    assert_eq!(agw.handle_datagram(now, u2, &mut m), Received::Consumed);
    assert_eq!(agw.poll_transmit().map(|t| t.0), Some(u2));
    drain(&mut agw, &mut events);
    assert!(events.is_empty());
    // ... USE-CANDIDATE from u2 does, once.
    for _ in 0..2 {
        let mut m = reqs["nominate"].clone();
        assert_eq!(agw.handle_datagram(now, u2, &mut m), Received::Consumed);
        assert_eq!(agw.poll_transmit().map(|t| t.0), Some(u2));
    }
    drain(&mut agw, &mut events);
    assert_eq!(
        events,
        vec![MediaEvent::PeerLearned {
            leg: LegId(1),
            addr: u2
        }]
    );
    events.clear();

    // A DTLS client (no ICE of its own in this harness) at u2 handshakes with the AGW.
    let ue_spec = LegSpec {
        remote: Some(addr(40000)),
        remote_fingerprints: vec![agw_cert.fingerprint().clone()],
        dtls_role: Some(DtlsRole::Client),
        remote_ice: None,
        ..spec.clone()
    };
    let mut ue = AccessLeg::new(cfg(2, &ue_cert, &remote), &ue_spec, now);
    // DTLS from the old candidate u1 is refused.
    let (_, mut hello) = ue.poll_transmit().expect("ClientHello");
    let mut copy = hello.clone();
    assert_eq!(
        agw.handle_datagram(now, u1, &mut copy),
        Received::Dropped(DropReason::WrongSource)
    );
    assert_eq!(agw.handle_datagram(now, u2, &mut hello), Received::Consumed);
    for _ in 0..20 {
        while let Some((to, mut d)) = agw.poll_transmit() {
            assert_eq!(to, u2);
            ue.handle_datagram(now, addr(40000), &mut d);
        }
        while let Some((_, mut d)) = ue.poll_transmit() {
            agw.handle_datagram(now, u2, &mut d);
        }
    }
    drain(&mut agw, &mut events);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, MediaEvent::DtlsConnected { .. })),
        "{events:?}"
    );
    assert_eq!(agw.media_destination(), Some(u2));

    // SRTP from u1 is refused, from u2 accepted.
    let plain = [0x80u8, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4];
    let mut b = plain.to_vec();
    b.resize(80, 0);
    let n = ue.protect(&mut b, plain.len()).unwrap();
    let mut wrong = b[..n].to_vec();
    assert_eq!(
        agw.handle_datagram(now, u1, &mut wrong),
        Received::Dropped(DropReason::WrongSource)
    );
    let mut right = b[..n].to_vec();
    assert!(matches!(
        agw.handle_datagram(now, u2, &mut right),
        Received::Media { .. }
    ));

    // Consent: checks every 5 s keep it; 30 s of silence expire it exactly once.
    let last = now;
    assert_eq!(agw.poll_timeout(), Some(last + CONSENT));
    now += Duration::from_secs(29);
    agw.handle_timeout(now);
    drain(&mut agw, &mut events);
    assert!(!events.contains(&MediaEvent::ConsentExpired { leg: LegId(1) }));
    assert_eq!(agw.media_destination(), Some(u2));
    now = last + CONSENT;
    agw.handle_timeout(now);
    agw.handle_timeout(now + Duration::from_secs(5));
    drain(&mut agw, &mut events);
    assert_eq!(
        events
            .iter()
            .filter(|e| **e == MediaEvent::ConsentExpired { leg: LegId(1) })
            .count(),
        1
    );
    assert_eq!(agw.media_destination(), None);
    // A fresh valid check from the peer restores it.
    let mut m = reqs["nominate"].clone();
    assert_eq!(agw.handle_datagram(now, u2, &mut m), Received::Consumed);
    assert_eq!(agw.media_destination(), Some(u2));
}
