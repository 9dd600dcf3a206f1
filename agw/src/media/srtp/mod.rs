//! The SRTP/SRTCP contexts of one access leg (RFC 3711, 5764, 7714), keyed from the DTLS
//! exporter, RTP and RTCP multiplexed on one port (RFC 5761). OWNER: srtp helper.
//!
//! Our own in-place implementation on RustCrypto primitives (`aes`, `ctr`, `hmac`+`sha1`,
//! `aes-gcm`, `subtle`), replacing `rtc-srtp` 0.21 which allocated an output `BytesMut` per
//! packet and a per-SSRC state before authentication. See `benches/srtp.rs` for the
//! measured difference.
//!
//! - [`kdf`]: RFC 3711 section 4.3 key derivation (kdr 0; AES-128 and AES-256 PRF).
//! - [`cm`]: the AES-CM keystream and counter block (RFC 3711 section 4.1.1).
//! - [`replay`]: packet index estimation (appendix A) and the 128-packet replay window.
//! - [`context`]: one direction: AES-CM + HMAC-SHA1-80/32 or AEAD_AES_128/256_GCM
//!   (RFC 7714), SRTP and SRTCP, at most [`context::MAX_SSRCS`] SSRC states.
//!
//! No allocation per packet: protect and unprotect work on the caller's buffer, the keyed
//! cipher and HMAC states are built once, and the SSRC table is allocated up front.

pub mod cm;
pub mod context;
pub mod kdf;
pub mod replay;

pub use context::{
    Context, Direction, KeyError, Profile, ProtectError, SessionKeys, UnprotectError, MAX_SSRCS,
};

/// `SRTP_AES128_CM_HMAC_SHA1_80` (RFC 5764).
pub const SRTP_AES128_CM_HMAC_SHA1_80: u16 = 0x0001;
/// `SRTP_AES128_CM_HMAC_SHA1_32` (RFC 5764).
pub const SRTP_AES128_CM_HMAC_SHA1_32: u16 = 0x0002;
/// `SRTP_AEAD_AES_128_GCM` (RFC 7714).
pub const SRTP_AEAD_AES_128_GCM: u16 = 0x0007;
/// `SRTP_AEAD_AES_256_GCM` (RFC 7714).
pub const SRTP_AEAD_AES_256_GCM: u16 = 0x0008;

/// The profiles an access leg offers/accepts by default, in preference order.
pub const DEFAULT_PROFILES: [u16; 4] = [
    SRTP_AEAD_AES_128_GCM,
    SRTP_AES128_CM_HMAC_SHA1_80,
    SRTP_AEAD_AES_256_GCM,
    SRTP_AES128_CM_HMAC_SHA1_32,
];

/// Exporter output length for a profile: 2 * (master key + master salt).
pub fn keying_material_len(n: u16) -> Option<usize> {
    Profile::from_number(n).map(|p| 2 * (p.key_len() + p.salt_len()))
}

/// RFC 5761 section 4: RTCP when the second octet (marker + PT) is 192..=223.
pub fn is_rtcp(buf: &[u8]) -> bool {
    buf.get(1).is_some_and(|b| (192..=223).contains(b))
}

/// Outbound and inbound contexts of one leg.
#[derive(Debug)]
pub struct SrtpSession {
    profile: u16,
    tx: Context,
    rx: Context,
}

impl SrtpSession {
    /// Split the RFC 5764 section 4.2 keying material (client key, server key, client salt,
    /// server salt) and build the contexts: we write with our role's key.
    pub fn new(
        profile_no: u16,
        keying_material: &[u8],
        is_client: bool,
    ) -> Result<SrtpSession, KeyError> {
        let p = Profile::from_number(profile_no).ok_or(KeyError::UnsupportedProfile(profile_no))?;
        let (k, s) = (p.key_len(), p.salt_len());
        if keying_material.len() != 2 * (k + s) {
            return Err(KeyError::Length {
                what: "keying material",
                got: keying_material.len(),
                want: 2 * (k + s),
            });
        }
        let client_key = &keying_material[..k];
        let server_key = &keying_material[k..2 * k];
        let client_salt = &keying_material[2 * k..2 * k + s];
        let server_salt = &keying_material[2 * k + s..];
        let ((lk, ls), (rk, rs)) = if is_client {
            ((client_key, client_salt), (server_key, server_salt))
        } else {
            ((server_key, server_salt), (client_key, client_salt))
        };
        Ok(SrtpSession {
            profile: profile_no,
            tx: Context::from_master(p, lk, ls, Direction::Outbound)?,
            rx: Context::from_master(p, rk, rs, Direction::Inbound)?,
        })
    }

    /// [`SrtpSession::new`] for users outside this crate that hold the certificate the
    /// DTLS association ran with (kept for the lab UE; the certificate is not needed any
    /// more since the transform does not use the DTLS crypto provider).
    pub fn for_certificate(
        profile_no: u16,
        keying_material: &[u8],
        is_client: bool,
        _cert: &super::cert::Certificate,
    ) -> Result<SrtpSession, KeyError> {
        Self::new(profile_no, keying_material, is_client)
    }

    /// RFC 5764 profile number.
    pub fn profile(&self) -> u16 {
        self.profile
    }

    /// Protect `buf[..len]` (RTP or RTCP by RFC 5761) into `buf[..returned]`; `buf` needs
    /// room for the tag after the packet (20 octets is always enough).
    pub fn protect(&mut self, buf: &mut [u8], len: usize) -> Result<usize, ProtectError> {
        let plain = buf.get(..len).ok_or(ProtectError::Malformed)?;
        if is_rtcp(plain) {
            self.tx.protect_rtcp(buf, len)
        } else {
            self.tx.protect_rtp(buf, len)
        }
    }

    /// Unprotect `buf` in place; returns the plain length and whether it is RTCP.
    pub fn unprotect(&mut self, buf: &mut [u8]) -> Result<(usize, bool), UnprotectError> {
        if is_rtcp(buf) {
            self.rx.unprotect_rtcp(buf).map(|n| (n, true))
        } else {
            self.rx.unprotect_rtp(buf).map(|n| (n, false))
        }
    }

    /// Inbound packets of a new SSRC dropped because [`MAX_SSRCS`] SSRCs were known.
    pub fn ssrc_limit_drops(&self) -> u64 {
        self.rx.ssrc_limit_drops()
    }

    /// The outbound context (for inspection).
    pub fn outbound(&self) -> &Context {
        &self.tx
    }

    /// The inbound context (for inspection).
    pub fn inbound(&self) -> &Context {
        &self.rx
    }
}
