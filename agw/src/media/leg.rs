//! The access leg (`UDP/TLS/RTP/SAVP(F)`) as a sans-IO state machine, str0m style:
//! ICE-lite responder + consent tracking, DTLS-SRTP in the role `control` derived, SRTP
//! protect/unprotect. Fed `(now, datagram)`, polled for transmits, events and timeouts.
//! OWNER: media-crypto helper (this file is a stub with the agreed API).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::api::{IceCredentials, LegSpec, LegStats, MediaError, MediaEvent};
use super::cert::Certificate;

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
}

/// An access leg.
#[derive(Debug)]
pub struct AccessLeg {
    config: AccessLegConfig,
    stats: LegStats,
}

impl AccessLeg {
    /// A new leg; `spec` is the spec at open time.
    pub fn new(config: AccessLegConfig, spec: &LegSpec, now: Instant) -> Self {
        let _ = (spec, now);
        AccessLeg {
            config,
            stats: LegStats::default(),
        }
    }
    /// Apply a changed spec (fingerprints arrive, role set, remote ICE credentials...).
    pub fn update(&mut self, spec: &LegSpec, now: Instant) -> Result<(), MediaError> {
        let _ = (spec, now);
        Ok(())
    }
    /// A datagram arrived from `from`; `buf` holds it and may be rewritten in place.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, buf: &mut [u8]) -> Received {
        let _ = (now, from, buf);
        Received::Dropped(DropReason::NoKeys)
    }
    /// Protect plain RTP/RTCP from the other leg for sending to our peer: `buf[..len]` is the
    /// plain packet; on success the protected packet is `buf[..returned]` (the caller leaves
    /// tail room of at least 32 bytes). Errors when no keys yet.
    pub fn protect(&mut self, buf: &mut [u8], len: usize) -> Result<usize, MediaError> {
        let _ = (buf, len);
        Err(MediaError::Rejected("no keys".into()))
    }
    /// Where media for our peer goes now; None while there is no consent/peer/keys.
    pub fn media_destination(&self) -> Option<SocketAddr> {
        None
    }
    /// Next datagram the leg wants sent (STUN responses, DTLS flights).
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        None
    }
    /// Next report for `control`.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        None
    }
    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    /// Drive timers (DTLS retransmission, handshake guard, consent expiry).
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
    }
    /// Counters.
    pub fn stats(&self) -> LegStats {
        let _ = &self.config;
        self.stats
    }
}
