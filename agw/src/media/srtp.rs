//! The SRTP/SRTCP contexts of one access leg (RFC 3711, 5764, 7714), keyed from the DTLS
//! exporter, RTP and RTCP multiplexed on one port (RFC 5761). OWNER: media-crypto helper.
//!
//! # Allocations per packet (what `rtc-srtp` 0.21 forces)
//!
//! `rtc_srtp::context::Context` has no in-place API: `encrypt_rtp`/`encrypt_rtcp`/
//! `decrypt_rtp`/`decrypt_rtcp` take `&[u8]` and return a fresh `BytesMut`. So every
//! `protect` and every successful `unprotect` costs exactly one heap allocation (the output
//! `BytesMut`, sized to the packet) plus one copy back into the caller's buffer. Nothing else is
//! allocated per packet on our side; the crate parses the RTP header into an `rtp::Header`
//! whose CSRC/extension vectors allocate only when the packet carries CSRCs or header
//! extensions. A per-SSRC state (with its replay window) is allocated on the first packet
//! of each new SSRC — before authentication, which the crate does not let us avoid.

use rtc_dtls::crypto_provider::RTCCrypto;
use rtc_shared::error::Error as SrtpError;
use rtc_srtp::context::Context;
use rtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use rtc_srtp::protection_profile::ProtectionProfile;

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

/// Replay window (packets), as libsrtp's default.
const REPLAY_WINDOW: usize = 128;

fn profile(n: u16) -> Option<ProtectionProfile> {
    match n {
        SRTP_AES128_CM_HMAC_SHA1_80 => Some(ProtectionProfile::Aes128CmHmacSha1_80),
        SRTP_AES128_CM_HMAC_SHA1_32 => Some(ProtectionProfile::Aes128CmHmacSha1_32),
        SRTP_AEAD_AES_128_GCM => Some(ProtectionProfile::AeadAes128Gcm),
        SRTP_AEAD_AES_256_GCM => Some(ProtectionProfile::AeadAes256Gcm),
        _ => None,
    }
}

/// Exporter output length for a profile: 2 * (master key + master salt).
pub fn keying_material_len(n: u16) -> Option<usize> {
    profile(n).map(|p| 2 * (p.key_len() + p.salt_len()))
}

/// RFC 5761 section 4: RTCP when the second octet (marker + PT) is 192..=223.
pub fn is_rtcp(buf: &[u8]) -> bool {
    buf.get(1).is_some_and(|b| (192..=223).contains(b))
}

/// Why an inbound packet was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnprotectError {
    /// The authentication tag did not verify.
    AuthFailed,
    /// Replayed (or too old) packet.
    Replay,
    /// Not a parsable SRTP/SRTCP packet.
    Malformed,
}

/// Outbound and inbound contexts of one leg.
pub struct SrtpSession {
    profile: u16,
    tx: Context,
    rx: Context,
}

impl std::fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpSession")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl SrtpSession {
    /// Split the RFC 5764 section 4.2 keying material (client key, server key, client salt,
    /// server salt) and build the contexts: we write with our role's key.
    pub fn new(
        profile_no: u16,
        keying_material: &[u8],
        is_client: bool,
        crypto: &dyn RTCCrypto,
    ) -> Result<SrtpSession, String> {
        let p = profile(profile_no).ok_or_else(|| format!("unsupported profile {profile_no}"))?;
        let (k, s) = (p.key_len(), p.salt_len());
        if keying_material.len() != 2 * (k + s) {
            return Err("keying material length".into());
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
        let tx = Context::new(lk, ls, p, None, None, crypto).map_err(|e| e.to_string())?;
        let rx = Context::new(
            rk,
            rs,
            p,
            Some(srtp_replay_protection(REPLAY_WINDOW)),
            Some(srtcp_replay_protection(REPLAY_WINDOW)),
            crypto,
        )
        .map_err(|e| e.to_string())?;
        Ok(SrtpSession {
            profile: profile_no,
            tx,
            rx,
        })
    }

    /// [`SrtpSession::new`] with the crypto provider of `cert` (the certificate the DTLS
    /// association ran with), for users outside this crate.
    pub fn for_certificate(
        profile_no: u16,
        keying_material: &[u8],
        is_client: bool,
        cert: &super::cert::Certificate,
    ) -> Result<SrtpSession, String> {
        let provider = cert.provider().clone();
        Self::new(profile_no, keying_material, is_client, provider.crypto())
    }

    /// RFC 5764 profile number.
    pub fn profile(&self) -> u16 {
        self.profile
    }

    /// Protect `buf[..len]` (RTP or RTCP by RFC 5761) into `buf[..returned]`.
    pub fn protect(&mut self, buf: &mut [u8], len: usize) -> Result<usize, String> {
        let plain = buf.get(..len).ok_or("len beyond buffer")?;
        let out = if is_rtcp(plain) {
            self.tx.encrypt_rtcp(plain)
        } else {
            self.tx.encrypt_rtp(plain)
        }
        .map_err(|e| e.to_string())?;
        let dst = buf
            .get_mut(..out.len())
            .ok_or("no tail room for the auth tag")?;
        dst.copy_from_slice(&out);
        Ok(out.len())
    }

    /// Unprotect `buf` in place; returns the plain length and whether it is RTCP.
    pub fn unprotect(&mut self, buf: &mut [u8]) -> Result<(usize, bool), UnprotectError> {
        let rtcp = is_rtcp(buf);
        let res = if rtcp {
            self.rx.decrypt_rtcp(buf)
        } else {
            self.rx.decrypt_rtp(buf)
        };
        match res {
            Ok(plain) => {
                let dst = buf
                    .get_mut(..plain.len())
                    .ok_or(UnprotectError::Malformed)?;
                dst.copy_from_slice(&plain);
                Ok((plain.len(), rtcp))
            }
            Err(SrtpError::SrtpSsrcDuplicated(..) | SrtpError::SrtcpSsrcDuplicated(..)) => {
                Err(UnprotectError::Replay)
            }
            Err(
                SrtpError::ErrFailedToVerifyAuthTag
                | SrtpError::RtpFailedToVerifyAuthTag
                | SrtpError::RtcpFailedToVerifyAuthTag,
            ) => Err(UnprotectError::AuthFailed),
            Err(_) => Err(UnprotectError::Malformed),
        }
    }
}
