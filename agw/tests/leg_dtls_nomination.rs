//! The AGW as DTLS client behind ICE-lite: its ClientHello goes out on the UE's first
//! connectivity check, which a full ICE agent sends before its side of the pair is usable (it
//! drops DTLS until then). When the UE nominates the pair (USE-CANDIDATE), possibly from
//! another address, the leg sends its first flight again at once, to the nominated address,
//! instead of after rtc-dtls's fixed 1 s retransmission interval (which delayed every call
//! with the AGW as client by a second). Virtual clock: nothing here advances time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{
    DtlsRole, IceCredentials, LegId, LegKind, LegSpec, MediaEvent, StreamMode,
};
use iq_agw::media::cert::Certificate;
use iq_agw::media::leg::{AccessLeg, AccessLegConfig, Received};
use iq_agw::media::stun::{build_binding_request, IceControl};

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// DTLS record (RFC 7983: first octet 20..=63) carrying a ClientHello (handshake type 1).
fn is_client_hello(d: &[u8]) -> bool {
    d.len() > 13 && d[0] == 22 && d[13] == 1
}

fn check(n: u8, local: &IceCredentials, remote: &IceCredentials, nominate: bool) -> Vec<u8> {
    let mut out = Vec::new();
    build_binding_request(
        &[n; 12],
        &format!("{}:{}", local.ufrag, remote.ufrag),
        local.pwd.as_bytes(),
        1_853_817_087,
        IceControl::Controlling(0x1122_3344_5566_7788),
        nominate,
        &mut out,
    );
    out
}

struct Setup {
    agw: AccessLeg,
    ue: AccessLeg,
    local: IceCredentials,
    remote: IceCredentials,
    now: Instant,
}

fn setup() -> Setup {
    let local = IceCredentials {
        ufrag: "agw1".into(),
        pwd: "agwpwd0123456789abcdefgh".into(),
    };
    let remote = IceCredentials {
        ufrag: "ue01".into(),
        pwd: "uepwd0123456789abcdefghi".into(),
    };
    let agw_cert = Arc::new(Certificate::generate().unwrap());
    let ue_cert = Arc::new(Certificate::generate().unwrap());
    let now = Instant::now();
    let cfg = |id, cert: &Arc<Certificate>, ice: &IceCredentials| AccessLegConfig {
        leg: LegId(id),
        local_ice: ice.clone(),
        certificate: cert.clone(),
        handshake_timeout: Duration::from_secs(10),
        consent_timeout: Duration::from_secs(30),
    };
    let spec = LegSpec {
        context: 7,
        kind: LegKind::DtlsSrtp,
        realm: "access".into(),
        mode: StreamMode::SendRecv,
        remote: Some(addr(50009)),
        remote_fingerprints: vec![ue_cert.fingerprint().clone()],
        dtls_role: Some(DtlsRole::Client),
        remote_ice: Some(remote.clone()),
        latching: false,
    };
    let agw = AccessLeg::new(cfg(1, &agw_cert, &local), &spec, now);
    let ue_spec = LegSpec {
        remote: Some(addr(40000)),
        remote_fingerprints: vec![agw_cert.fingerprint().clone()],
        dtls_role: Some(DtlsRole::Server),
        remote_ice: None,
        ..spec
    };
    let ue = AccessLeg::new(cfg(2, &ue_cert, &remote), &ue_spec, now);
    Setup {
        agw,
        ue,
        local,
        remote,
        now,
    }
}

/// All datagrams the leg wants sent now, STUN responses left out.
fn dtls_out(leg: &mut AccessLeg) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut v = Vec::new();
    while let Some((to, d)) = leg.poll_transmit() {
        if (20..=63).contains(&d[0]) {
            v.push((to, d));
        }
    }
    v
}

#[test]
fn nomination_resends_the_client_hello_at_once_to_the_nominated_address() {
    let Setup {
        mut agw,
        mut ue,
        local,
        remote,
        now,
    } = setup();
    let (u1, u2) = (addr(50001), addr(50002));
    // Nothing before a check: ICE decides where the UE is.
    assert!(dtls_out(&mut agw).is_empty());

    // First check (not nominating) from u1: answered, and the ClientHello goes to u1.
    let mut m = check(1, &local, &remote, false);
    assert_eq!(agw.handle_datagram(now, u1, &mut m), Received::Consumed);
    let first = dtls_out(&mut agw);
    assert_eq!(first.len(), 1, "one ClientHello on the first check");
    assert_eq!(first[0].0, u1);
    assert!(is_client_hello(&first[0].1));
    // The UE was not ready (its ICE agent dropped it). A second plain check changes nothing.
    let mut m = check(2, &local, &remote, false);
    agw.handle_datagram(now, u1, &mut m);
    assert!(
        dtls_out(&mut agw).is_empty(),
        "no resend without nomination"
    );

    // The UE nominates the pair from u2: the same instant, the ClientHello goes again, to u2.
    let mut m = check(3, &local, &remote, true);
    assert_eq!(agw.handle_datagram(now, u2, &mut m), Received::Consumed);
    let again = dtls_out(&mut agw);
    assert_eq!(
        again.len(),
        1,
        "the first flight resent on nomination: {again:?}"
    );
    assert_eq!(again[0].0, u2, "to the nominated address");
    assert!(is_client_hello(&again[0].1));
    // Once only: a repeated nomination does not resend again.
    let mut m = check(4, &local, &remote, true);
    agw.handle_datagram(now, u2, &mut m);
    assert!(dtls_out(&mut agw).is_empty(), "resent once only");

    // The resent flight completes the handshake with a UE server at u2, without any timer.
    let mut pending = again;
    let mut events = Vec::new();
    for _ in 0..20 {
        for (_, mut d) in pending.drain(..) {
            ue.handle_datagram(now, addr(40000), &mut d);
        }
        while let Some((_, mut d)) = ue.poll_transmit() {
            agw.handle_datagram(now, u2, &mut d);
        }
        pending = dtls_out(&mut agw);
        while let Some(e) = agw.poll_event() {
            events.push(e);
        }
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, MediaEvent::DtlsConnected { .. })),
        "handshake done at the first instant: {events:?}"
    );
    assert!(agw.srtp_profile().is_some());
}

#[test]
fn a_first_check_that_nominates_sends_one_client_hello() {
    let Setup {
        mut agw,
        local,
        remote,
        now,
        ..
    } = setup();
    // Aggressive nomination: the first check already nominates; the flight just went out, so
    // it is not doubled.
    let mut m = check(1, &local, &remote, true);
    assert_eq!(
        agw.handle_datagram(now, addr(50001), &mut m),
        Received::Consumed
    );
    let out = dtls_out(&mut agw);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(is_client_hello(&out[0].1));
}
