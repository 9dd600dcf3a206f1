//! The contract between the H.248 side of the AGW (`control`, sans-IO) and the media plane
//! (`media`): what a termination asks of its media leg, and what the leg reports back.
//!
//! `control` owns contexts and terminations and translates H.248 descriptors into a
//! [`LegSpec`]; it never touches a socket. The media plane implements [`MediaPlane`]:
//! it binds a UDP port from the realm's range, runs ICE-lite / DTLS-SRTP on access legs,
//! plain RTP on core legs, and relays between the two legs of a context.

use std::net::SocketAddr;
use std::time::Instant;

/// Identifies one media leg (one stream of one termination) across the AGW process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// Which transport the leg speaks, from the m-line proto of Local/Remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegKind {
    /// `RTP/AVP` or `RTP/AVPF`: plain RTP/RTCP on UDP (core side).
    Plain,
    /// `UDP/TLS/RTP/SAVP` or `UDP/TLS/RTP/SAVPF`: ICE-lite + DTLS-SRTP (access side).
    DtlsSrtp,
}

/// The DTLS role of the AGW on one access leg. Derived once by `control` from the presence
/// of the Establish (D)TLS session signal (present = client, absent = server) and read by
/// the handshake; nothing else decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtlsRole {
    /// The AGW sends the ClientHello.
    Client,
    /// The AGW waits for the peer's ClientHello.
    Server,
}

/// Hash function of an `a=fingerprint` (RFC 8122 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashFunction {
    /// `sha-1`
    Sha1,
    /// `sha-224`
    Sha224,
    /// `sha-256`
    Sha256,
    /// `sha-384`
    Sha384,
    /// `sha-512`
    Sha512,
}

/// A certificate fingerprint as signalled in SDP (`a=fingerprint:sha-256 AB:CD:...`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// The hash function.
    pub hash: HashFunction,
    /// The digest octets (not the hex text).
    pub digest: Vec<u8>,
}

/// ICE credentials (`a=ice-ufrag`, `a=ice-pwd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCredentials {
    /// Username fragment.
    pub ufrag: String,
    /// Password.
    pub pwd: String,
}

/// Stream mode from LocalControl (H.248.1 7.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamMode {
    /// Media flows both ways (the H.248 default is... see control; we default to SendRecv).
    #[default]
    SendRecv,
    /// The termination only sends towards its peer (receives nothing from it).
    SendOnly,
    /// The termination only receives from its peer.
    RecvOnly,
    /// Nothing flows.
    Inactive,
    /// Loopback (media from the peer is sent back to the peer).
    Loopback,
}

/// Everything the media plane needs to know about one leg. `control` sends the whole
/// spec on every change (open and update); the media plane diffs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegSpec {
    /// The H.248 context the leg belongs to; legs of one context relay to each other.
    pub context: u32,
    /// Plain RTP or DTLS-SRTP.
    pub kind: LegKind,
    /// The realm name (`ipdc/realm`), selecting the address and port pool.
    pub realm: String,
    /// Stream mode.
    pub mode: StreamMode,
    /// Where to send media, from Remote `c=`/`m=` (None until the Remote is known).
    pub remote: Option<SocketAddr>,
    /// Remote `a=fingerprint` values (media level, or session level when the m-section has
    /// none). The peer certificate must match one whose hash we support.
    pub remote_fingerprints: Vec<Fingerprint>,
    /// The AGW's role (access legs only). `None` for plain legs.
    pub dtls_role: Option<DtlsRole>,
    /// The peer's ICE credentials from Remote (None = peer does not do ICE: reach it at
    /// `remote`, with latching when `latching`).
    pub remote_ice: Option<IceCredentials>,
    /// Latch onto the source address of the first valid packet (ipnapt/latch).
    pub latching: bool,
}

/// What the media plane chose for a new leg; `control` writes it into the Local reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalInfo {
    /// The bound address and port.
    pub addr: SocketAddr,
    /// The AGW's ICE credentials (access legs).
    pub ice: Option<IceCredentials>,
    /// The AGW certificate's fingerprint (access legs): sha-256.
    pub fingerprint: Option<Fingerprint>,
}

/// Counters of one leg (reported in Statistics on Subtract and AuditValue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LegStats {
    /// RTP/RTCP packets received from the leg's peer (after decryption on access legs).
    pub packets_received: u64,
    /// Packets sent to the leg's peer.
    pub packets_sent: u64,
    /// Octets received (payload of UDP datagrams).
    pub octets_received: u64,
    /// Octets sent.
    pub octets_sent: u64,
    /// RTP packets lost (from sequence-number gaps).
    pub packets_lost: u64,
    /// Interarrival jitter (RFC 3550 A.8), in timestamp units.
    pub jitter: u32,
    /// SRTP/SRTCP packets dropped for a failed auth tag.
    pub srtp_auth_failures: u64,
    /// SRTP/SRTCP packets dropped as replays.
    pub srtp_replays: u64,
}

/// Why a media-plane request failed; `control` maps it to an H.248 error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The realm is not configured (H.248 error 449 / 421 in control).
    #[error("unknown realm {0:?}")]
    UnknownRealm(String),
    /// No free port in the realm's range (H.248 error 510).
    #[error("no free port in realm {0:?}")]
    NoPorts(String),
    /// The leg does not exist.
    #[error("unknown leg {0:?}")]
    UnknownLeg(LegId),
    /// The spec cannot be applied (e.g. role change after the handshake started).
    #[error("cannot apply: {0}")]
    Rejected(String),
    /// Operating-system error while binding.
    #[error("io: {0}")]
    Io(String),
}

/// Asynchronous reports from the media plane to `control` (which turns the requested ones
/// into Notify commands).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// The DTLS handshake completed and SRTP keys are installed.
    DtlsConnected {
        /// The leg.
        leg: LegId,
        /// The negotiated SRTP protection profile (RFC 5764 number).
        profile: u16,
    },
    /// The DTLS handshake failed (mismatch, timeout, alert); nothing is forwarded.
    DtlsFailed {
        /// The leg.
        leg: LegId,
        /// Cause text for the failure Notify (`fingerprint-mismatch`, `timeout`, `alert`, ...).
        cause: String,
    },
    /// ICE consent expired (RFC 7675): the leg stopped sending.
    ConsentExpired {
        /// The leg.
        leg: LegId,
    },
    /// A peer address was learned (ICE check or latching).
    PeerLearned {
        /// The leg.
        leg: LegId,
        /// The address.
        addr: SocketAddr,
    },
}

/// The media plane as seen from `control`. Calls are synchronous and cheap (they hand work
/// to the media tasks); events arrive through [`MediaPlane::poll_event`] (the real plane also
/// offers an async channel for the daemon loop).
pub trait MediaPlane {
    /// Bind a port in the spec's realm and start the leg.
    fn open(&mut self, leg: LegId, spec: &LegSpec, now: Instant) -> Result<LocalInfo, MediaError>;
    /// Apply a changed spec.
    fn update(&mut self, leg: LegId, spec: &LegSpec, now: Instant) -> Result<(), MediaError>;
    /// Stop the leg, free its port; returns its final counters.
    fn close(&mut self, leg: LegId) -> Result<LegStats, MediaError>;
    /// Current counters.
    fn stats(&self, leg: LegId) -> Result<LegStats, MediaError>;
    /// Next asynchronous report, if any.
    fn poll_event(&mut self) -> Option<MediaEvent>;
}
