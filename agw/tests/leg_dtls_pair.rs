//! Two sans-IO access legs (one DTLS client, one server) shuttling datagrams in memory on a
//! virtual clock: handshake, SRTP/SRTCP both ways per profile, and the negative paths
//! (fingerprint mismatch, tampering, replay, early ClientHello, guard timeout, role change).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{
    DtlsRole, Fingerprint, HashFunction, IceCredentials, LegId, LegKind, LegSpec, MediaError,
    MediaEvent, StreamMode,
};
use iq_agw::media::cert::Certificate;
use iq_agw::media::leg::{
    AccessLeg, AccessLegConfig, DropReason, Received, DEFAULT_PROFILES, SRTP_AEAD_AES_128_GCM,
    SRTP_AEAD_AES_256_GCM, SRTP_AES128_CM_HMAC_SHA1_32, SRTP_AES128_CM_HMAC_SHA1_80,
};

const GUARD: Duration = Duration::from_secs(10);

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

const A: u16 = 40000;
const B: u16 = 40002;

fn config(id: u64, cert: &Arc<Certificate>) -> AccessLegConfig {
    AccessLegConfig {
        leg: LegId(id),
        local_ice: IceCredentials {
            ufrag: format!("u{id}"),
            pwd: "0123456789abcdefghijklmnop".into(),
        },
        certificate: cert.clone(),
        handshake_timeout: GUARD,
        consent_timeout: Duration::from_secs(30),
    }
}

fn spec(role: DtlsRole, remote: u16, fps: Vec<Fingerprint>) -> LegSpec {
    LegSpec {
        context: 1,
        kind: LegKind::DtlsSrtp,
        realm: "access".into(),
        mode: StreamMode::SendRecv,
        remote: Some(addr(remote)),
        remote_fingerprints: fps,
        dtls_role: Some(role),
        remote_ice: None,
        latching: false,
    }
}

struct Pair {
    a: AccessLeg,
    b: AccessLeg,
    now: Instant,
    a_events: Vec<MediaEvent>,
    b_events: Vec<MediaEvent>,
    media_seen: bool,
}

impl Pair {
    /// A = client (id 1, port A), B = server (id 2, port B), each knowing the other's cert.
    fn new(profiles_a: &[u16], profiles_b: &[u16]) -> (Pair, Arc<Certificate>, Arc<Certificate>) {
        let ca = Arc::new(Certificate::generate().unwrap());
        let cb = Arc::new(Certificate::generate().unwrap());
        let now = Instant::now();
        let a = AccessLeg::with_profiles(
            config(1, &ca),
            &spec(DtlsRole::Client, B, vec![cb.fingerprint().clone()]),
            now,
            profiles_a,
        );
        let b = AccessLeg::with_profiles(
            config(2, &cb),
            &spec(DtlsRole::Server, A, vec![ca.fingerprint().clone()]),
            now,
            profiles_b,
        );
        (Pair::from_legs(a, b, now), ca, cb)
    }

    fn from_legs(a: AccessLeg, b: AccessLeg, now: Instant) -> Pair {
        Pair {
            a,
            b,
            now,
            a_events: vec![],
            b_events: vec![],
            media_seen: false,
        }
    }

    /// Move every queued datagram once each way; returns how many moved.
    fn shuttle(&mut self) -> usize {
        let mut moved = 0;
        while let Some((to, mut d)) = self.a.poll_transmit() {
            assert_eq!(to, addr(B), "A sends to B");
            let r = self.b.handle_datagram(self.now, addr(A), &mut d);
            self.media_seen |= matches!(r, Received::Media { .. });
            moved += 1;
        }
        while let Some((to, mut d)) = self.b.poll_transmit() {
            assert_eq!(to, addr(A), "B sends to A");
            let r = self.a.handle_datagram(self.now, addr(B), &mut d);
            self.media_seen |= matches!(r, Received::Media { .. });
            moved += 1;
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push(e);
        }
        moved
    }

    /// Shuttle until quiet, advancing the virtual clock to the next timeout when idle, up
    /// to `limit` of virtual time.
    fn run(&mut self, limit: Duration) {
        let end = self.now + limit;
        for _ in 0..10_000 {
            if self.shuttle() > 0 {
                continue;
            }
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                }
                _ => return,
            }
        }
        panic!("no quiescence");
    }
}

fn connected(events: &[MediaEvent]) -> Option<u16> {
    events.iter().find_map(|e| match e {
        MediaEvent::DtlsConnected { profile, .. } => Some(*profile),
        _ => None,
    })
}

fn failed(events: &[MediaEvent]) -> Option<String> {
    events.iter().find_map(|e| match e {
        MediaEvent::DtlsFailed { cause, .. } => Some(cause.clone()),
        _ => None,
    })
}

fn rtp(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 111];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(seq as u32 * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An RTCP sender report (PT 200) with no report blocks.
fn rtcp_sr(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 200, 0, 6];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0x11; 20]);
    p
}

/// Protect `plain` on `from` and unprotect on `to`; returns the receive verdict and plain out.
fn send(from: &mut AccessLeg, to: &mut AccessLeg, src: u16, plain: &[u8], now: Instant) -> Vec<u8> {
    let mut buf = plain.to_vec();
    buf.resize(plain.len() + 64, 0);
    let n = from.protect(&mut buf, plain.len()).expect("protect");
    assert!(n > plain.len(), "auth tag added");
    assert_ne!(&buf[12..plain.len()], &plain[12..], "payload encrypted");
    buf.truncate(n);
    let r = to.handle_datagram(now, addr(src), &mut buf);
    match r {
        Received::Media { len, rtcp } => {
            assert_eq!(rtcp, plain[1] == 200, "RFC 5761 classification");
            buf[..len].to_vec()
        }
        other => panic!("not media: {other:?}"),
    }
}

#[test]
fn handshake_and_srtp_both_ways_for_each_profile() {
    for profile in [
        SRTP_AES128_CM_HMAC_SHA1_80,
        SRTP_AES128_CM_HMAC_SHA1_32,
        SRTP_AEAD_AES_128_GCM,
        SRTP_AEAD_AES_256_GCM,
    ] {
        let (mut p, _, _) = Pair::new(&[profile], &DEFAULT_PROFILES);
        p.run(Duration::from_secs(5));
        assert_eq!(connected(&p.a_events), Some(profile), "{:?}", p.a_events);
        assert_eq!(connected(&p.b_events), Some(profile), "{:?}", p.b_events);
        assert_eq!(p.a.media_destination(), Some(addr(B)));
        assert_eq!(p.b.media_destination(), Some(addr(A)));
        let now = p.now;
        for seq in 0..3u16 {
            let m = rtp(1000 + seq, 0xA1A1_0001, b"hello from A, some payload bytes");
            assert_eq!(send(&mut p.a, &mut p.b, A, &m, now), m, "A->B RTP");
            let m = rtp(7 + seq, 0xB2B2_0002, &[seq as u8; 160]);
            assert_eq!(send(&mut p.b, &mut p.a, B, &m, now), m, "B->A RTP");
        }
        let r = rtcp_sr(0xA1A1_0001);
        assert_eq!(send(&mut p.a, &mut p.b, A, &r, now), r, "A->B RTCP");
        let r = rtcp_sr(0xB2B2_0002);
        assert_eq!(send(&mut p.b, &mut p.a, B, &r, now), r, "B->A RTCP");
        let (sa, sb) = (p.a.stats(), p.b.stats());
        assert_eq!((sa.packets_sent, sa.packets_received), (4, 4));
        assert_eq!((sb.packets_sent, sb.packets_received), (4, 4));
    }
}

#[test]
fn server_preference_decides_among_common_profiles() {
    // Client offers all, server accepts only 256-GCM then 32: result must be one both allow.
    let (mut p, _, _) = Pair::new(
        &DEFAULT_PROFILES,
        &[SRTP_AEAD_AES_256_GCM, SRTP_AES128_CM_HMAC_SHA1_32],
    );
    p.run(Duration::from_secs(5));
    let got = connected(&p.a_events).expect("connected");
    assert!([SRTP_AEAD_AES_256_GCM, SRTP_AES128_CM_HMAC_SHA1_32].contains(&got));
    assert_eq!(connected(&p.b_events), Some(got));
}

#[test]
fn no_common_profile_fails() {
    let (mut p, _, _) = Pair::new(&[SRTP_AES128_CM_HMAC_SHA1_80], &[SRTP_AEAD_AES_128_GCM]);
    p.run(Duration::from_secs(60));
    assert!(connected(&p.a_events).is_none() && connected(&p.b_events).is_none());
    assert!(failed(&p.a_events).is_some() || failed(&p.b_events).is_some());
}

fn wrong_fp() -> Fingerprint {
    let other = Certificate::generate().unwrap();
    other.fingerprint().clone()
}

#[test]
fn server_with_wrong_fingerprint_fails_and_forwards_nothing() {
    let ca = Arc::new(Certificate::generate().unwrap());
    let cb = Arc::new(Certificate::generate().unwrap());
    let now = Instant::now();
    let a = AccessLeg::new(
        config(1, &ca),
        &spec(DtlsRole::Client, B, vec![cb.fingerprint().clone()]),
        now,
    );
    let b = AccessLeg::new(
        config(2, &cb),
        &spec(DtlsRole::Server, A, vec![wrong_fp()]),
        now,
    );
    let mut p = Pair::from_legs(a, b, now);
    p.run(Duration::from_secs(60));
    assert_eq!(failed(&p.b_events).as_deref(), Some("fingerprint-mismatch"));
    assert!(connected(&p.b_events).is_none());
    assert!(
        connected(&p.a_events).is_none(),
        "client must not complete either"
    );
    assert!(
        failed(&p.a_events).is_some(),
        "client learns of the failure (alert/timeout)"
    );
    assert!(!p.media_seen);
    assert_eq!(p.b.media_destination(), None);
    let mut buf = rtp(1, 1, b"x");
    buf.resize(100, 0);
    assert!(matches!(
        p.b.protect(&mut buf, 13),
        Err(MediaError::Rejected(_))
    ));
    let mut d = rtp(1, 1, &[0u8; 40]);
    assert_eq!(
        p.b.handle_datagram(p.now, addr(A), &mut d),
        Received::Dropped(DropReason::DtlsFailed)
    );
}

#[test]
fn client_with_wrong_fingerprint_fails() {
    let ca = Arc::new(Certificate::generate().unwrap());
    let cb = Arc::new(Certificate::generate().unwrap());
    let now = Instant::now();
    let a = AccessLeg::new(
        config(1, &ca),
        &spec(DtlsRole::Client, B, vec![wrong_fp()]),
        now,
    );
    let b = AccessLeg::new(
        config(2, &cb),
        &spec(DtlsRole::Server, A, vec![ca.fingerprint().clone()]),
        now,
    );
    let mut p = Pair::from_legs(a, b, now);
    p.run(Duration::from_secs(60));
    assert_eq!(failed(&p.a_events).as_deref(), Some("fingerprint-mismatch"));
    assert!(connected(&p.a_events).is_none());
    assert!(connected(&p.b_events).is_none());
    assert!(!p.media_seen);
}

#[test]
fn other_hash_fingerprints_are_checked_too() {
    // The server knows the client only by sha-512 and sha-1 fingerprints.
    let ca = Arc::new(Certificate::generate().unwrap());
    let cb = Arc::new(Certificate::generate().unwrap());
    let fps = vec![
        Fingerprint::of_der(HashFunction::Sha512, ca.der()),
        Fingerprint::of_der(HashFunction::Sha1, ca.der()),
    ];
    let now = Instant::now();
    let a = AccessLeg::new(
        config(1, &ca),
        &spec(DtlsRole::Client, B, vec![cb.fingerprint().clone()]),
        now,
    );
    let b = AccessLeg::new(config(2, &cb), &spec(DtlsRole::Server, A, fps), now);
    let mut p = Pair::from_legs(a, b, now);
    p.run(Duration::from_secs(5));
    assert!(connected(&p.b_events).is_some(), "{:?}", p.b_events);
    // And a mismatching sha-384 alone fails.
    let mut bad = Fingerprint::of_der(HashFunction::Sha384, ca.der());
    bad.digest[0] ^= 1;
    let a = AccessLeg::new(
        config(1, &ca),
        &spec(DtlsRole::Client, B, vec![cb.fingerprint().clone()]),
        now,
    );
    let b = AccessLeg::new(config(2, &cb), &spec(DtlsRole::Server, A, vec![bad]), now);
    let mut p = Pair::from_legs(a, b, now);
    p.run(Duration::from_secs(60));
    assert_eq!(failed(&p.b_events).as_deref(), Some("fingerprint-mismatch"));
}

#[test]
fn tampered_and_replayed_srtp_are_dropped_and_counted() {
    for profile in [SRTP_AES128_CM_HMAC_SHA1_80, SRTP_AEAD_AES_128_GCM] {
        let (mut p, _, _) = Pair::new(&[profile], &[profile]);
        p.run(Duration::from_secs(5));
        assert!(connected(&p.b_events).is_some());
        let plain = rtp(500, 0x1234_5678, b"media payload for tamper test");
        let mut buf = plain.clone();
        buf.resize(plain.len() + 64, 0);
        let n = p.a.protect(&mut buf, plain.len()).unwrap();
        buf.truncate(n);
        let original = buf.clone();

        let mut flipped = original.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x01; // auth tag (or GCM tag) byte
        assert_eq!(
            p.b.handle_datagram(p.now, addr(A), &mut flipped),
            Received::Dropped(DropReason::AuthFailed)
        );
        assert_eq!(p.b.stats().srtp_auth_failures, 1);
        assert_eq!(p.b.stats().packets_received, 0);

        // The genuine packet still passes (the forgery did not advance the replay window).
        let mut good = original.clone();
        assert_eq!(
            p.b.handle_datagram(p.now, addr(A), &mut good),
            Received::Media {
                len: plain.len(),
                rtcp: false
            }
        );
        assert_eq!(&good[..plain.len()], &plain[..]);

        let mut again = original.clone();
        assert_eq!(
            p.b.handle_datagram(p.now, addr(A), &mut again),
            Received::Dropped(DropReason::Replay)
        );
        let s = p.b.stats();
        assert_eq!(
            (s.srtp_replays, s.srtp_auth_failures, s.packets_received),
            (1, 1, 1)
        );

        // SRTCP replay too.
        let r = rtcp_sr(0x1234_5678);
        let mut buf = r.clone();
        buf.resize(r.len() + 64, 0);
        let n = p.a.protect(&mut buf, r.len()).unwrap();
        buf.truncate(n);
        let mut first = buf.clone();
        assert!(matches!(
            p.b.handle_datagram(p.now, addr(A), &mut first),
            Received::Media { rtcp: true, .. }
        ));
        let mut second = buf.clone();
        assert_eq!(
            p.b.handle_datagram(p.now, addr(A), &mut second),
            Received::Dropped(DropReason::Replay)
        );
        assert_eq!(p.b.stats().srtp_replays, 2);

        // From another address: dropped before decryption.
        let mut other = original.clone();
        assert_eq!(
            p.b.handle_datagram(p.now, addr(A + 100), &mut other),
            Received::Dropped(DropReason::WrongSource)
        );
    }
}

#[test]
fn srtp_before_keys_is_dropped() {
    let (mut p, _, _) = Pair::new(&DEFAULT_PROFILES, &DEFAULT_PROFILES);
    let mut d = rtp(1, 1, &[0u8; 40]);
    assert_eq!(
        p.b.handle_datagram(p.now, addr(A), &mut d),
        Received::Dropped(DropReason::NoKeys)
    );
    let mut buf = vec![0u8; 100];
    buf[..13].copy_from_slice(&rtp(1, 1, b"x"));
    assert!(p.a.protect(&mut buf, 13).is_err());
    assert_eq!(p.a.media_destination(), None);
}

/// Server (B) without the client's fingerprint yet: the ClientHello is held, the handshake
/// completes once `update` brings it.
#[test]
fn early_client_hello_completes_after_update() {
    let ca = Arc::new(Certificate::generate().unwrap());
    let cb = Arc::new(Certificate::generate().unwrap());
    let now = Instant::now();
    let a = AccessLeg::new(
        config(1, &ca),
        &spec(DtlsRole::Client, B, vec![cb.fingerprint().clone()]),
        now,
    );
    let b_spec_early = spec(DtlsRole::Server, A, vec![]);
    let b = AccessLeg::new(config(2, &cb), &b_spec_early, now);
    let mut p = Pair::from_legs(a, b, now);
    p.run(Duration::from_secs(3));
    assert!(connected(&p.a_events).is_none() && connected(&p.b_events).is_none());
    assert!(failed(&p.b_events).is_none());
    // A role change is no longer possible: the peer's ClientHello is being held.
    let mut as_client = b_spec_early.clone();
    as_client.dtls_role = Some(DtlsRole::Client);
    assert!(matches!(
        p.b.update(&as_client, p.now),
        Err(MediaError::Rejected(_))
    ));
    let mut full = b_spec_early.clone();
    full.remote_fingerprints = vec![ca.fingerprint().clone()];
    p.b.update(&full, p.now).unwrap();
    p.run(Duration::from_secs(5));
    assert!(connected(&p.a_events).is_some(), "{:?}", p.a_events);
    assert!(connected(&p.b_events).is_some(), "{:?}", p.b_events);
    let now = p.now;
    let m = rtp(9, 99, b"after early hello");
    assert_eq!(send(&mut p.a, &mut p.b, A, &m, now), m);
}

#[test]
fn early_client_hello_times_out_without_fingerprint() {
    let ca = Arc::new(Certificate::generate().unwrap());
    let cb = Arc::new(Certificate::generate().unwrap());
    let now = Instant::now();
    let a = AccessLeg::new(
        config(1, &ca),
        &spec(DtlsRole::Client, B, vec![cb.fingerprint().clone()]),
        now,
    );
    let b = AccessLeg::new(config(2, &cb), &spec(DtlsRole::Server, A, vec![]), now);
    let mut p = Pair::from_legs(a, b, now);
    p.run(GUARD + Duration::from_secs(1));
    assert_eq!(failed(&p.b_events).as_deref(), Some("timeout"));
    assert!(p.now >= now + GUARD, "not before the guard time");
    // A late fingerprint does not revive it.
    let mut full = spec(DtlsRole::Server, A, vec![ca.fingerprint().clone()]);
    full.mode = StreamMode::SendRecv;
    p.b.update(&full, p.now).unwrap();
    p.run(Duration::from_secs(5));
    assert!(connected(&p.b_events).is_none());
}

#[test]
fn client_without_answer_times_out_at_guard() {
    let ca = Arc::new(Certificate::generate().unwrap());
    let start = Instant::now();
    let mut a = AccessLeg::new(
        config(1, &ca),
        &spec(DtlsRole::Client, B, vec![wrong_fp()]),
        start,
    );
    let mut now = start;
    let mut sent = 0;
    let mut events = vec![];
    while let Some(t) = a.poll_timeout() {
        while a.poll_transmit().is_some() {
            sent += 1;
        }
        now = t;
        a.handle_timeout(now);
        while let Some(e) = a.poll_event() {
            events.push(e);
        }
        if now > start + Duration::from_secs(3600) {
            break;
        }
    }
    assert!(sent >= 2, "ClientHello retransmitted ({sent})");
    assert_eq!(failed(&events).as_deref(), Some("timeout"));
    assert!(now <= start + GUARD, "guard bounds the attempt");
}

#[test]
fn role_change_allowed_before_any_handshake() {
    let ca = Arc::new(Certificate::generate().unwrap());
    let cb = Arc::new(Certificate::generate().unwrap());
    let now = Instant::now();
    // B starts as server with no remote yet, then becomes client with the remote known.
    let mut b_spec = spec(DtlsRole::Server, A, vec![ca.fingerprint().clone()]);
    b_spec.remote = None;
    let b = AccessLeg::new(config(2, &cb), &b_spec, now);
    let a = AccessLeg::new(
        config(1, &ca),
        &spec(DtlsRole::Server, B, vec![cb.fingerprint().clone()]),
        now,
    );
    let mut p = Pair::from_legs(a, b, now);
    p.run(Duration::from_secs(1));
    b_spec.remote = Some(addr(A));
    b_spec.dtls_role = Some(DtlsRole::Client);
    p.b.update(&b_spec, p.now).unwrap();
    // Swap roles in the harness: B now sends first; the shuttle is symmetric.
    p.run(Duration::from_secs(5));
    assert!(connected(&p.a_events).is_some(), "{:?}", p.a_events);
    assert!(connected(&p.b_events).is_some(), "{:?}", p.b_events);
    // After completion, a role change is rejected.
    b_spec.dtls_role = Some(DtlsRole::Server);
    assert!(matches!(
        p.b.update(&b_spec, p.now),
        Err(MediaError::Rejected(_))
    ));
}

#[test]
fn fingerprint_update_that_no_longer_matches_ends_the_leg() {
    let (mut p, ca, _) = Pair::new(&DEFAULT_PROFILES, &DEFAULT_PROFILES);
    p.run(Duration::from_secs(5));
    assert!(connected(&p.b_events).is_some());
    let mut s = spec(DtlsRole::Server, A, vec![ca.fingerprint().clone()]);
    p.b.update(&s, p.now).unwrap();
    assert!(
        p.b.media_destination().is_some(),
        "same fingerprint: unchanged"
    );
    s.remote_fingerprints = vec![wrong_fp()];
    p.b.update(&s, p.now).unwrap();
    p.shuttle();
    assert_eq!(failed(&p.b_events).as_deref(), Some("fingerprint-mismatch"));
    assert_eq!(p.b.media_destination(), None);
}

#[test]
fn latching_follows_the_first_dtls_source() {
    let ca = Arc::new(Certificate::generate().unwrap());
    let cb = Arc::new(Certificate::generate().unwrap());
    let now = Instant::now();
    let a = AccessLeg::new(
        config(1, &ca),
        &spec(DtlsRole::Client, B, vec![cb.fingerprint().clone()]),
        now,
    );
    // B was told a stale address (behind NAT): it must latch onto A's real source.
    let mut b_spec = spec(DtlsRole::Server, A + 50, vec![ca.fingerprint().clone()]);
    b_spec.latching = true;
    let b = AccessLeg::new(config(2, &cb), &b_spec, now);
    let mut p = Pair::from_legs(a, b, now);
    p.run(Duration::from_secs(5)); // the shuttle asserts B answers to A, not A + 50
    assert!(connected(&p.b_events).is_some(), "{:?}", p.b_events);
    assert!(p.b_events.contains(&MediaEvent::PeerLearned {
        leg: LegId(2),
        addr: addr(A)
    }));
    assert_eq!(p.b.media_destination(), Some(addr(A)));
    // Once latched, another source is refused.
    let now = p.now;
    let mut buf = rtp(5, 5, b"latched");
    buf.resize(100, 0);
    let n = p.a.protect(&mut buf, 19).unwrap();
    let mut d = buf[..n].to_vec();
    assert_eq!(
        p.b.handle_datagram(now, addr(A + 50), &mut d),
        Received::Dropped(DropReason::WrongSource)
    );
}

#[test]
fn without_latching_a_foreign_dtls_source_is_refused() {
    let (mut p, _, _) = Pair::new(&DEFAULT_PROFILES, &DEFAULT_PROFILES);
    let (_, mut hello) = p.a.poll_transmit().expect("ClientHello");
    assert_eq!(
        p.b.handle_datagram(p.now, addr(A + 1), &mut hello),
        Received::Dropped(DropReason::WrongSource)
    );
    assert!(p.b.poll_transmit().is_none());
}
