//! The access leg (`UDP/TLS/RTP/SAVP(F)`) as a sans-IO state machine, str0m style:
//! ICE-lite responder + consent tracking, DTLS-SRTP in the role `control` derived, SRTP
//! protect/unprotect. Fed `(now, datagram)`, polled for transmits, events and timeouts.
//! OWNER: media-crypto helper.
//!
//! Peer address: with ICE (`spec.remote_ice` set) the peer is learned from valid Binding
//! requests (the first one, then any with USE-CANDIDATE); without ICE it is `spec.remote`, or
//! the source of the first DTLS datagram when `spec.latching` (or when `spec.remote` is
//! unknown). Once a peer is known, DTLS and SRTP from any other address are dropped.
//!
//! DTLS: `Client` sends the ClientHello as soon as a peer and the remote fingerprints are
//! known. `Server` waits; a ClientHello arriving before the fingerprints (TS 23.334 NOTE 2/3)
//! is held and replayed into the handshake when `update` brings them. The handshake guard
//! (`handshake_timeout`) starts with the first ClientHello sent or received.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::api::{DtlsRole, IceCredentials, LegSpec, LegStats, MediaError, MediaEvent};
use super::cert::Certificate;
use super::demux::{classify, Packet};
use super::dtls::{DtlsAssoc, DtlsOutcome};
use super::srtp::{SrtpSession, UnprotectError};

pub use super::srtp::{
    DEFAULT_PROFILES, SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM, SRTP_AES128_CM_HMAC_SHA1_32,
    SRTP_AES128_CM_HMAC_SHA1_80,
};

/// How many early DTLS datagrams (ClientHello and its retransmissions) are held while the
/// fingerprints are unknown.
const MAX_HELD: usize = 8;

/// Fixed parameters of an access leg.
#[derive(Debug, Clone)]
pub struct AccessLegConfig {
    /// The leg's identity, copied into its events.
    pub leg: super::api::LegId,
    /// Our ICE credentials (returned in Local).
    pub local_ice: IceCredentials,
    /// The process certificate.
    pub certificate: Arc<Certificate>,
    /// Give up the handshake (and a held ClientHello waiting for the fingerprint) after this.
    pub handshake_timeout: Duration,
    /// ICE consent expiry (RFC 7675: 30 s without a valid check).
    pub consent_timeout: Duration,
}

/// What became of a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Received {
    /// `buf[..len]` now holds plain RTP or RTCP (decrypted in place) to relay to the other leg.
    Media {
        /// Length of the plain packet.
        len: usize,
        /// True for RTCP.
        rtcp: bool,
    },
    /// STUN or DTLS, handled inside the leg (look at `poll_transmit`).
    Consumed,
    /// Dropped (bad auth, replay, unknown peer, wrong password, garbage...).
    Dropped(DropReason),
}

/// Why a datagram was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// Not STUN/DTLS/RTP/RTCP per RFC 7983.
    Unclassified,
    /// STUN that failed MESSAGE-INTEGRITY/FINGERPRINT or had the wrong username.
    StunRejected,
    /// SRTP/SRTCP before keys exist.
    NoKeys,
    /// SRTP/SRTCP auth tag check failed.
    AuthFailed,
    /// SRTP/SRTCP replay.
    Replay,
    /// From an address that is not the negotiated/learned peer.
    WrongSource,
    /// Malformed packet.
    Malformed,
    /// The leg's DTLS attempt failed (`DtlsFailed` was emitted): nothing is accepted any more.
    DtlsFailed,
    /// SRTP/SRTCP of a new SSRC while the leg already knows
    /// [`MAX_SSRCS`](super::srtp::MAX_SSRCS) SSRCs (dropped before any crypto).
    SsrcLimit,
}

/// The DTLS side of the leg.
#[derive(Debug)]
enum Phase {
    /// Nothing sent or received yet.
    Idle,
    /// Server role, DTLS arrived before the remote fingerprints: held datagrams.
    Held(Vec<Vec<u8>>),
    /// Handshake in progress.
    Running(DtlsAssoc),
    /// Keys installed; the association stays to answer the peer's retransmitted last flight.
    Connected {
        assoc: DtlsAssoc,
        peer_cert: Vec<u8>,
    },
    /// Ended; nothing is forwarded any more.
    Failed,
}

/// An access leg.
#[derive(Debug)]
pub struct AccessLeg {
    config: AccessLegConfig,
    stats: LegStats,
    spec: LegSpec,
    role: DtlsRole,
    profiles: Vec<u16>,
    phase: Phase,
    srtp: Option<SrtpSession>,
    /// Where DTLS/SRTP goes, and the only accepted source once known.
    peer: Option<SocketAddr>,
    /// `spec.latching` without ICE: the first DTLS source replaces `spec.remote` once.
    latched: bool,
    /// Last valid Binding request (consent freshness).
    last_check: Option<Instant>,
    consent_expired: bool,
    /// Handshake guard deadline.
    guard: Option<Instant>,
    /// A DTLS datagram from the peer was accepted (as client: the peer answered our flight).
    dtls_heard: bool,
    /// As client: the first flight was resent at once when ICE nominated the pair.
    resent_on_nomination: bool,
    transmits: VecDeque<(SocketAddr, Vec<u8>)>,
    events: VecDeque<MediaEvent>,
}

impl AccessLeg {
    /// A new leg; `spec` is the spec at open time. Offers [`DEFAULT_PROFILES`].
    pub fn new(config: AccessLegConfig, spec: &LegSpec, now: Instant) -> Self {
        Self::with_profiles(config, spec, now, &DEFAULT_PROFILES)
    }

    /// A new leg offering/accepting only `profiles` (RFC 5764 numbers, preference order;
    /// unknown numbers are ignored, an empty result falls back to [`DEFAULT_PROFILES`]).
    pub fn with_profiles(
        config: AccessLegConfig,
        spec: &LegSpec,
        now: Instant,
        profiles: &[u16],
    ) -> Self {
        let mut profiles: Vec<u16> = profiles
            .iter()
            .copied()
            .filter(|p| DEFAULT_PROFILES.contains(p))
            .collect();
        if profiles.is_empty() {
            profiles = DEFAULT_PROFILES.to_vec();
        }
        let mut leg = AccessLeg {
            config,
            stats: LegStats::default(),
            spec: spec.clone(),
            role: spec.dtls_role.unwrap_or(DtlsRole::Server),
            profiles,
            phase: Phase::Idle,
            srtp: None,
            peer: if spec.remote_ice.is_none() {
                spec.remote
            } else {
                None
            },
            latched: false,
            last_check: None,
            consent_expired: false,
            guard: None,
            dtls_heard: false,
            resent_on_nomination: false,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        leg.maybe_start_client(now);
        leg
    }

    /// Apply a changed spec (fingerprints arrive, role set, remote ICE credentials...).
    pub fn update(&mut self, spec: &LegSpec, now: Instant) -> Result<(), MediaError> {
        let role = spec.dtls_role.unwrap_or(self.role);
        if role != self.role {
            if !matches!(self.phase, Phase::Idle) {
                return Err(MediaError::Rejected(
                    "DTLS role change after the handshake started".into(),
                ));
            }
            self.role = role;
        }
        let fps_changed = spec.remote_fingerprints != self.spec.remote_fingerprints;
        self.spec = spec.clone();
        if spec.remote_ice.is_none() && !self.latched && spec.remote.is_some() {
            self.peer = spec.remote;
        }
        if fps_changed {
            let fps = spec.remote_fingerprints.clone();
            match &mut self.phase {
                Phase::Running(assoc) => assoc.set_fingerprints(fps),
                Phase::Connected { assoc, peer_cert } => {
                    assoc.set_fingerprints(fps);
                    if !assoc.matches(peer_cert) {
                        self.fail("fingerprint-mismatch");
                    }
                }
                Phase::Held(_) if !fps.is_empty() => self.release_held(now),
                _ => {}
            }
        }
        self.maybe_start_client(now);
        Ok(())
    }

    /// A datagram arrived from `from`; `buf` holds it and may be rewritten in place.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, buf: &mut [u8]) -> Received {
        match classify(buf) {
            Packet::Stun => self.handle_stun(now, from, buf),
            Packet::Dtls => self.handle_dtls(now, from, buf),
            Packet::Rtp | Packet::Rtcp => self.handle_srtp(from, buf),
            _ => Received::Dropped(DropReason::Unclassified),
        }
    }

    fn handle_stun(&mut self, now: Instant, from: SocketAddr, buf: &[u8]) -> Received {
        let mut out = Vec::new();
        match super::stun::answer_binding(
            buf,
            from,
            &self.config.local_ice,
            self.spec.remote_ice.as_ref(),
            &mut out,
        ) {
            Ok(check) => {
                self.transmits.push_back((from, out));
                self.last_check = Some(now);
                self.consent_expired = false;
                if self.peer.is_none() || check.use_candidate {
                    self.set_peer(from);
                }
                let was_idle = matches!(self.phase, Phase::Idle);
                self.maybe_start_client(now);
                if check.use_candidate && !was_idle {
                    self.resend_on_nomination(now);
                }
                Received::Consumed
            }
            Err(e) => {
                tracing::debug!(leg = self.config.leg.0, %from, error = %e, "STUN dropped");
                Received::Dropped(DropReason::StunRejected)
            }
        }
    }

    /// As DTLS client, our ClientHello went out on the first check, which a full ICE agent
    /// usually sends before its side of the pair is usable: it drops DTLS until the pair is
    /// valid (and nominated), and rtc-dtls would resend only after its fixed 1 s interval,
    /// which delayed every call set-up with the AGW as client by a second. Nomination
    /// (USE-CANDIDATE) is the moment the controlling agent has a working pair, and it may
    /// have moved the peer to another address: send the flight again there, once, if the
    /// peer has not answered it yet.
    fn resend_on_nomination(&mut self, now: Instant) {
        if self.role != DtlsRole::Client || self.dtls_heard || self.resent_on_nomination {
            return;
        }
        if let Phase::Running(assoc) = &mut self.phase {
            self.resent_on_nomination = true;
            let outcome = assoc.retransmit_now(now);
            self.after_dtls(outcome);
        }
    }

    fn set_peer(&mut self, addr: SocketAddr) {
        if self.peer != Some(addr) {
            self.peer = Some(addr);
            self.events.push_back(MediaEvent::PeerLearned {
                leg: self.config.leg,
                addr,
            });
        }
    }

    /// Source check for DTLS (which may latch) and SRTP.
    fn source_ok(&mut self, from: SocketAddr, dtls: bool) -> bool {
        let ice = self.spec.remote_ice.is_some();
        if dtls && !ice && self.spec.latching && !self.latched {
            self.latched = true;
            self.set_peer(from);
            return true;
        }
        match self.peer {
            Some(p) => p == from,
            None if dtls => {
                self.set_peer(from);
                true
            }
            None => false,
        }
    }

    fn handle_dtls(&mut self, now: Instant, from: SocketAddr, buf: &[u8]) -> Received {
        if matches!(self.phase, Phase::Failed) {
            return Received::Dropped(DropReason::DtlsFailed);
        }
        if !self.source_ok(from, true) {
            return Received::Dropped(DropReason::WrongSource);
        }
        self.dtls_heard = true;
        let outcome = match &mut self.phase {
            Phase::Idle => {
                if self.role == DtlsRole::Client {
                    tracing::debug!(leg = self.config.leg.0, "DTLS before our ClientHello");
                    return Received::Dropped(DropReason::Malformed);
                }
                self.guard = Some(now + self.config.handshake_timeout);
                if self.spec.remote_fingerprints.is_empty() {
                    self.phase = Phase::Held(vec![buf.to_vec()]);
                    return Received::Consumed;
                }
                match DtlsAssoc::server(
                    &self.config.certificate,
                    &self.spec.remote_fingerprints,
                    &self.profiles,
                ) {
                    Ok(mut assoc) => {
                        let o = assoc.handle(now, buf);
                        self.phase = Phase::Running(assoc);
                        o
                    }
                    Err(e) => Some(DtlsOutcome::Failed(format!("config: {e}"))),
                }
            }
            Phase::Held(held) => {
                if held.len() < MAX_HELD {
                    held.push(buf.to_vec());
                }
                return Received::Consumed;
            }
            Phase::Running(assoc) | Phase::Connected { assoc, .. } => assoc.handle(now, buf),
            Phase::Failed => None,
        };
        self.after_dtls(outcome);
        Received::Consumed
    }

    /// Fingerprints arrived while a ClientHello was held: run the handshake on it now.
    fn release_held(&mut self, now: Instant) {
        let Phase::Held(held) = std::mem::replace(&mut self.phase, Phase::Idle) else {
            return;
        };
        match DtlsAssoc::server(
            &self.config.certificate,
            &self.spec.remote_fingerprints,
            &self.profiles,
        ) {
            Ok(mut assoc) => {
                let mut outcome = None;
                for d in &held {
                    if outcome.is_none() {
                        outcome = assoc.handle(now, d);
                    }
                }
                self.phase = Phase::Running(assoc);
                self.after_dtls(outcome);
            }
            Err(e) => self.fail(&format!("config: {e}")),
        }
    }

    fn maybe_start_client(&mut self, now: Instant) {
        if self.role != DtlsRole::Client
            || !matches!(self.phase, Phase::Idle)
            || self.peer.is_none()
            || self.spec.remote_fingerprints.is_empty()
        {
            return;
        }
        match DtlsAssoc::client(
            now,
            &self.config.certificate,
            &self.spec.remote_fingerprints,
            &self.profiles,
        ) {
            Ok(assoc) => {
                self.guard = Some(now + self.config.handshake_timeout);
                self.phase = Phase::Running(assoc);
                self.after_dtls(None);
            }
            Err(e) => self.fail(&format!("config: {e}")),
        }
    }

    /// Drain the association's datagrams and act on an outcome.
    fn after_dtls(&mut self, outcome: Option<DtlsOutcome>) {
        if let (Phase::Running(assoc) | Phase::Connected { assoc, .. }, Some(peer)) =
            (&mut self.phase, self.peer)
        {
            while let Some(d) = assoc.poll_transmit() {
                self.transmits.push_back((peer, d));
            }
        }
        match outcome {
            None => {}
            Some(DtlsOutcome::Failed(cause)) => self.fail(&cause),
            // The UE hung up its DTLS association after using it: not an establishment failure
            // (no estfail Notify); the SRTP keys stay until the ALG subtracts the termination.
            Some(DtlsOutcome::Closed) => {
                tracing::info!(leg = self.config.leg.0, "DTLS closed by the peer");
            }
            Some(DtlsOutcome::Connected {
                profile,
                keying_material,
                peer_cert,
            }) => {
                let is_client = self.role == DtlsRole::Client;
                match SrtpSession::new(profile, &keying_material, is_client) {
                    Ok(s) => {
                        self.srtp = Some(s);
                        self.guard = None;
                        if let Phase::Running(assoc) =
                            std::mem::replace(&mut self.phase, Phase::Failed)
                        {
                            self.phase = Phase::Connected { assoc, peer_cert };
                        }
                        self.events.push_back(MediaEvent::DtlsConnected {
                            leg: self.config.leg,
                            profile,
                        });
                    }
                    Err(e) => self.fail(&format!("srtp-keys: {e}")),
                }
            }
        }
    }

    fn fail(&mut self, cause: &str) {
        if matches!(self.phase, Phase::Failed) && self.srtp.is_none() {
            return;
        }
        tracing::info!(leg = self.config.leg.0, cause, "DTLS failed");
        // Send what the association queued (our fatal alert) before dropping it.
        if let (Phase::Running(assoc) | Phase::Connected { assoc, .. }, Some(peer)) =
            (&mut self.phase, self.peer)
        {
            while let Some(d) = assoc.poll_transmit() {
                self.transmits.push_back((peer, d));
            }
        }
        self.phase = Phase::Failed;
        self.srtp = None;
        self.guard = None;
        self.events.push_back(MediaEvent::DtlsFailed {
            leg: self.config.leg,
            cause: cause.to_owned(),
        });
    }

    fn handle_srtp(&mut self, from: SocketAddr, buf: &mut [u8]) -> Received {
        if matches!(self.phase, Phase::Failed) {
            return Received::Dropped(DropReason::DtlsFailed);
        }
        if !self.source_ok(from, false) {
            return Received::Dropped(DropReason::WrongSource);
        }
        let Some(srtp) = &mut self.srtp else {
            return Received::Dropped(DropReason::NoKeys);
        };
        match srtp.unprotect(buf) {
            Ok((len, rtcp)) => {
                self.stats.packets_received += 1;
                self.stats.octets_received += len as u64;
                Received::Media { len, rtcp }
            }
            Err(UnprotectError::AuthFailed) => {
                self.stats.srtp_auth_failures += 1;
                Received::Dropped(DropReason::AuthFailed)
            }
            Err(UnprotectError::Replay) => {
                self.stats.srtp_replays += 1;
                Received::Dropped(DropReason::Replay)
            }
            Err(UnprotectError::SsrcLimit) => Received::Dropped(DropReason::SsrcLimit),
            Err(_) => Received::Dropped(DropReason::Malformed),
        }
    }

    /// Protect plain RTP/RTCP from the other leg for sending to our peer: `buf[..len]` is the
    /// plain packet; on success the protected packet is `buf[..returned]` (the caller leaves
    /// tail room of at least 32 bytes). Errors when no keys yet.
    pub fn protect(&mut self, buf: &mut [u8], len: usize) -> Result<usize, MediaError> {
        let srtp = self
            .srtp
            .as_mut()
            .ok_or_else(|| MediaError::Rejected("no keys".into()))?;
        let n = srtp
            .protect(buf, len)
            .map_err(|e| MediaError::Rejected(e.to_string()))?;
        self.stats.packets_sent += 1;
        self.stats.octets_sent += n as u64;
        Ok(n)
    }

    /// Where media for our peer goes now; None while there is no consent/peer/keys.
    pub fn media_destination(&self) -> Option<SocketAddr> {
        self.srtp.as_ref()?;
        if self.spec.remote_ice.is_some() && (self.last_check.is_none() || self.consent_expired) {
            return None;
        }
        self.peer
    }

    /// The negotiated SRTP profile (RFC 5764 number) once keys are installed.
    pub fn srtp_profile(&self) -> Option<u16> {
        self.srtp.as_ref().map(SrtpSession::profile)
    }

    /// The DER certificate the peer presented and we verified (once connected).
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        match &self.phase {
            Phase::Connected { peer_cert, .. } => Some(peer_cert),
            _ => None,
        }
    }

    /// Next datagram the leg wants sent (STUN responses, DTLS flights).
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.transmits.pop_front()
    }

    /// Next report for `control`.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let dtls = match &self.phase {
            Phase::Running(a) => a.poll_timeout(),
            _ => None,
        };
        let consent = match self.last_check {
            Some(t) if !self.consent_expired => Some(t + self.config.consent_timeout),
            _ => None,
        };
        [dtls, self.guard, consent].into_iter().flatten().min()
    }

    /// Drive timers (DTLS retransmission, handshake guard, consent expiry).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(g) = self.guard {
            if now >= g {
                self.fail("timeout");
            }
        }
        if let Phase::Running(assoc) = &mut self.phase {
            let outcome = assoc.handle_timeout(now);
            self.after_dtls(outcome);
        }
        if let Some(t) = self.last_check {
            if !self.consent_expired && now >= t + self.config.consent_timeout {
                self.consent_expired = true;
                self.events.push_back(MediaEvent::ConsentExpired {
                    leg: self.config.leg,
                });
            }
        }
    }

    /// Inbound SRTP/SRTCP packets of a new SSRC dropped by the per-leg SSRC bound.
    pub fn srtp_ssrc_limit_drops(&self) -> u64 {
        self.srtp.as_ref().map_or(0, SrtpSession::ssrc_limit_drops)
    }

    /// Counters.
    pub fn stats(&self) -> LegStats {
        self.stats
    }
}
