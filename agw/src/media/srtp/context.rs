//! One direction of an SRTP/SRTCP crypto context (RFC 3711 section 3.2): the session keys
//! of a profile, and the per-SSRC state (rollover counter and replay window for SRTP, SRTCP
//! index and replay window for SRTCP) of at most [`MAX_SSRCS`] streams.
//!
//! Everything works in place on the caller's buffer: no allocation per packet. Inbound, a
//! packet is authenticated before anything is decrypted or remembered, and the state of a
//! new SSRC is committed only after its first packet authenticated; beyond [`MAX_SSRCS`]
//! the packet of a new SSRC is dropped (and counted) without any crypto. Outbound, the
//! least recently used stream is forgotten to make room (the plain side is not an attacker
//! that can forge authenticated packets, and a relayed stream must not stall because the
//! core side changed SSRC more than 16 times).

use aes::cipher::KeyInit;
use aes::Aes128;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::cm::{apply_keystream, counter_block};
use super::kdf::{self, KdfError};
use super::replay::{estimate_index, ReplayWindow, MAX_SRTCP_INDEX};

/// SSRC states kept per direction of a leg.
pub const MAX_SSRCS: usize = 16;

/// GCM tag length (RFC 7714 section 10: full 16 octets).
const GCM_TAG: usize = 16;

/// An SRTP protection profile (RFC 5764 section 4.1.2, RFC 7714 section 14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (0x0001).
    Aes128CmHmacSha1_80,
    /// `SRTP_AES128_CM_HMAC_SHA1_32` (0x0002): 32-bit SRTP tag, 80-bit SRTCP tag.
    Aes128CmHmacSha1_32,
    /// `SRTP_AEAD_AES_128_GCM` (0x0007).
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (0x0008).
    AeadAes256Gcm,
}

impl Profile {
    /// The profile of an RFC 5764 number.
    pub fn from_number(n: u16) -> Option<Profile> {
        match n {
            0x0001 => Some(Profile::Aes128CmHmacSha1_80),
            0x0002 => Some(Profile::Aes128CmHmacSha1_32),
            0x0007 => Some(Profile::AeadAes128Gcm),
            0x0008 => Some(Profile::AeadAes256Gcm),
            _ => None,
        }
    }

    /// RFC 5764 number.
    pub fn number(self) -> u16 {
        match self {
            Profile::Aes128CmHmacSha1_80 => 0x0001,
            Profile::Aes128CmHmacSha1_32 => 0x0002,
            Profile::AeadAes128Gcm => 0x0007,
            Profile::AeadAes256Gcm => 0x0008,
        }
    }

    /// Master (and session) encryption key length.
    pub fn key_len(self) -> usize {
        match self {
            Profile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Master (and session) salt length.
    pub fn salt_len(self) -> usize {
        match self {
            Profile::Aes128CmHmacSha1_80 | Profile::Aes128CmHmacSha1_32 => 14,
            Profile::AeadAes128Gcm | Profile::AeadAes256Gcm => 12,
        }
    }

    /// Session authentication key length (HMAC-SHA1: 20; GCM: none).
    pub fn auth_key_len(self) -> usize {
        if self.is_aead() {
            0
        } else {
            20
        }
    }

    /// SRTP authentication tag length.
    pub fn rtp_tag_len(self) -> usize {
        match self {
            Profile::Aes128CmHmacSha1_80 => 10,
            Profile::Aes128CmHmacSha1_32 => 4,
            Profile::AeadAes128Gcm | Profile::AeadAes256Gcm => GCM_TAG,
        }
    }

    /// SRTCP authentication tag length (80 bits for both HMAC-SHA1 profiles, RFC 5764 4.1.2).
    pub fn rtcp_tag_len(self) -> usize {
        if self.is_aead() {
            GCM_TAG
        } else {
            10
        }
    }

    /// AEAD (RFC 7714) rather than AES-CM + HMAC-SHA1.
    pub fn is_aead(self) -> bool {
        matches!(self, Profile::AeadAes128Gcm | Profile::AeadAes256Gcm)
    }
}

/// Why a context could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not one of the four profiles.
    #[error("unsupported SRTP profile {0:#06x}")]
    UnsupportedProfile(u16),
    /// A key, salt or keying material of the wrong length for the profile.
    #[error("{what} of {got} octets, {want} expected")]
    Length {
        /// Which input.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The profile's length.
        want: usize,
    },
    /// Key derivation refused the master key or salt.
    #[error("key derivation: {0}")]
    Kdf(#[from] KdfError),
}

/// Why an outbound packet was not protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectError {
    /// Not a parsable RTP/RTCP packet (or `len` beyond the buffer).
    #[error("malformed RTP/RTCP packet")]
    Malformed,
    /// The buffer has no room after the packet for the tag (and SRTCP trailer).
    #[error("no tail room for the SRTP trailer")]
    NoRoom,
    /// The packet's index falls before the stream's first packet (sequence number jumped
    /// back beyond 2^15 with a rollover counter of 0): a receiver would reject it.
    #[error("RTP sequence number before the stream's first packet")]
    OutOfOrder,
    /// 2^48 SRTP or 2^31 SRTCP packets under one key: no more without re-keying.
    #[error("SRTP/SRTCP index exhausted for this key")]
    IndexExhausted,
}

/// Why an inbound packet was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnprotectError {
    /// The authentication tag did not verify.
    #[error("SRTP authentication failed")]
    AuthFailed,
    /// Replayed (or too old) packet.
    #[error("SRTP replay")]
    Replay,
    /// Not a parsable SRTP/SRTCP packet.
    #[error("malformed SRTP/SRTCP packet")]
    Malformed,
    /// A new SSRC while [`MAX_SSRCS`] streams are already known: dropped unauthenticated.
    #[error("too many SSRCs")]
    SsrcLimit,
}

/// Session keys of SRTP or of SRTCP in one direction (RFC 3711 section 4.3 outputs).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// Session encryption key (16 or 32 octets).
    pub key: Vec<u8>,
    /// Session salt (14 octets for AES-CM, 12 for GCM).
    pub salt: Vec<u8>,
    /// Session authentication key (20 octets; empty for GCM).
    pub auth: Vec<u8>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(..)")
    }
}

impl SessionKeys {
    /// Derive the SRTP (`rtcp` false) or SRTCP session keys from a master key and salt.
    pub fn derive(
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
        rtcp: bool,
    ) -> Result<SessionKeys, KeyError> {
        check_len("master key", master_key.len(), profile.key_len())?;
        check_len("master salt", master_salt.len(), profile.salt_len())?;
        let (le, la, ls) = if rtcp {
            (
                kdf::LABEL_RTCP_ENCRYPTION,
                kdf::LABEL_RTCP_AUTH,
                kdf::LABEL_RTCP_SALT,
            )
        } else {
            (
                kdf::LABEL_RTP_ENCRYPTION,
                kdf::LABEL_RTP_AUTH,
                kdf::LABEL_RTP_SALT,
            )
        };
        let mut keys = SessionKeys {
            key: vec![0; profile.key_len()],
            salt: vec![0; profile.salt_len()],
            auth: vec![0; profile.auth_key_len()],
        };
        kdf::derive(master_key, master_salt, le, &mut keys.key)?;
        kdf::derive(master_key, master_salt, ls, &mut keys.salt)?;
        kdf::derive(master_key, master_salt, la, &mut keys.auth)?;
        Ok(keys)
    }
}

fn check_len(what: &'static str, got: usize, want: usize) -> Result<(), KeyError> {
    if got == want {
        Ok(())
    } else {
        Err(KeyError::Length { what, got, want })
    }
}

/// AES-CM + HMAC-SHA1 keyed state.
struct CmKeys {
    aes: Aes128,
    salt: [u8; 14],
    /// HMAC keyed once; cloned per packet (a copy of two SHA-1 states, no allocation).
    mac: Hmac<Sha1>,
    tag_len: usize,
}

/// The keyed transform of SRTP or SRTCP in one direction.
enum Transform {
    Cm(Box<CmKeys>),
    Gcm128(Box<Aes128Gcm>, [u8; 12]),
    Gcm256(Box<Aes256Gcm>, [u8; 12]),
}

impl Transform {
    fn new(profile: Profile, keys: &SessionKeys, rtcp: bool) -> Result<Transform, KeyError> {
        check_len("session key", keys.key.len(), profile.key_len())?;
        check_len("session salt", keys.salt.len(), profile.salt_len())?;
        check_len("session auth key", keys.auth.len(), profile.auth_key_len())?;
        let bad_key = |got| KeyError::Length {
            what: "session key",
            got,
            want: profile.key_len(),
        };
        Ok(match profile {
            Profile::Aes128CmHmacSha1_80 | Profile::Aes128CmHmacSha1_32 => {
                let aes = Aes128::new_from_slice(&keys.key).map_err(|_| bad_key(keys.key.len()))?;
                let mac = <Hmac<Sha1> as Mac>::new_from_slice(&keys.auth)
                    .map_err(|_| bad_key(keys.auth.len()))?;
                let mut salt = [0u8; 14];
                salt.copy_from_slice(&keys.salt);
                Transform::Cm(Box::new(CmKeys {
                    aes,
                    salt,
                    mac,
                    tag_len: if rtcp {
                        profile.rtcp_tag_len()
                    } else {
                        profile.rtp_tag_len()
                    },
                }))
            }
            Profile::AeadAes128Gcm => {
                let aead =
                    Aes128Gcm::new_from_slice(&keys.key).map_err(|_| bad_key(keys.key.len()))?;
                Transform::Gcm128(Box::new(aead), gcm_salt(&keys.salt))
            }
            Profile::AeadAes256Gcm => {
                let aead =
                    Aes256Gcm::new_from_slice(&keys.key).map_err(|_| bad_key(keys.key.len()))?;
                Transform::Gcm256(Box::new(aead), gcm_salt(&keys.salt))
            }
        })
    }

    fn tag_len(&self) -> usize {
        match self {
            Transform::Cm(cm) => cm.tag_len,
            Transform::Gcm128(..) | Transform::Gcm256(..) => GCM_TAG,
        }
    }

    /// GCM seal in place; returns the tag.
    fn seal(&self, iv: &[u8; 12], aad: &[u8], data: &mut [u8]) -> Option<[u8; GCM_TAG]> {
        let tag = match self {
            Transform::Gcm128(a, _) => a.encrypt_in_place_detached(iv.into(), aad, data),
            Transform::Gcm256(a, _) => a.encrypt_in_place_detached(iv.into(), aad, data),
            Transform::Cm(_) => return None,
        }
        .ok()?;
        let mut out = [0u8; GCM_TAG];
        out.copy_from_slice(&tag);
        Some(out)
    }

    /// GCM verify, then decrypt in place (nothing is decrypted when the tag is wrong).
    fn open(&self, iv: &[u8; 12], aad: &[u8], data: &mut [u8], tag: &[u8; GCM_TAG]) -> bool {
        match self {
            Transform::Gcm128(a, _) => a
                .decrypt_in_place_detached(iv.into(), aad, data, tag.into())
                .is_ok(),
            Transform::Gcm256(a, _) => a
                .decrypt_in_place_detached(iv.into(), aad, data, tag.into())
                .is_ok(),
            Transform::Cm(_) => false,
        }
    }

    fn gcm_salt(&self) -> &[u8; 12] {
        match self {
            Transform::Gcm128(_, s) | Transform::Gcm256(_, s) => s,
            Transform::Cm(_) => &[0; 12],
        }
    }
}

fn gcm_salt(s: &[u8]) -> [u8; 12] {
    let mut salt = [0u8; 12];
    salt.copy_from_slice(s);
    salt
}

/// RFC 7714 sections 8.1 and 9.1: `(00 00 || SSRC || ROC || SEQ) XOR salt` for SRTP, and
/// `(00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt` for SRTCP: in both the 48 low
/// bits of `index` on octets 6..12.
fn gcm_iv(salt: &[u8; 12], ssrc: u32, index: u64) -> [u8; 12] {
    let mut iv = *salt;
    for (d, s) in iv[2..6].iter_mut().zip(ssrc.to_be_bytes()) {
        *d ^= s;
    }
    for (d, s) in iv[6..12].iter_mut().zip(&index.to_be_bytes()[2..8]) {
        *d ^= s;
    }
    iv
}

/// HMAC-SHA1 over `parts`, compared in constant time with `tag` (or written to `out`).
fn hmac_tag(cm: &CmKeys, parts: [&[u8]; 2]) -> [u8; 20] {
    let mut m = cm.mac.clone();
    for p in parts {
        m.update(p);
    }
    let mut out = [0u8; 20];
    out.copy_from_slice(&m.finalize().into_bytes());
    out
}

/// Length of the RTP header (fixed part, CSRCs and header extension) of `pkt`, which must
/// be version 2 and hold the whole header.
pub fn rtp_header_len(pkt: &[u8]) -> Option<usize> {
    let b0 = *pkt.first()?;
    if b0 >> 6 != 2 || pkt.len() < 12 {
        return None;
    }
    let mut n = 12 + 4 * usize::from(b0 & 0x0f);
    if b0 & 0x10 != 0 {
        let ext = pkt.get(n..n + 4)?;
        n += 4 + 4 * usize::from(u16::from_be_bytes([ext[2], ext[3]]));
    }
    (n <= pkt.len()).then_some(n)
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// What a direction knows of one SSRC.
#[derive(Debug, Clone, Copy)]
struct Stream {
    ssrc: u32,
    /// SRTP: highest index (`ROC || s_l`) and, inbound, the replay window.
    rtp: Option<ReplayWindow>,
    /// SRTCP: highest index (outbound: the last one sent) and, inbound, the replay window.
    rtcp: Option<ReplayWindow>,
    /// Stamp of the last use (outbound LRU).
    used: u64,
}

/// Which way a context protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// We protect (sender).
    Outbound,
    /// We unprotect (receiver, with replay protection).
    Inbound,
}

/// One direction of an SRTP/SRTCP session.
pub struct Context {
    profile: Profile,
    direction: Direction,
    rtp: Transform,
    rtcp: Transform,
    streams: Vec<Stream>,
    clock: u64,
    ssrc_limit_drops: u64,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("profile", &self.profile)
            .field("direction", &self.direction)
            .field("ssrcs", &self.streams.len())
            .field("ssrc_limit_drops", &self.ssrc_limit_drops)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context from a master key and salt (RFC 3711 key derivation, kdr 0).
    pub fn from_master(
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
        direction: Direction,
    ) -> Result<Context, KeyError> {
        let rtp = SessionKeys::derive(profile, master_key, master_salt, false)?;
        let rtcp = SessionKeys::derive(profile, master_key, master_salt, true)?;
        Context::from_session_keys(profile, &rtp, &rtcp, direction)
    }

    /// A context from already derived session keys (as test vectors give them).
    pub fn from_session_keys(
        profile: Profile,
        rtp: &SessionKeys,
        rtcp: &SessionKeys,
        direction: Direction,
    ) -> Result<Context, KeyError> {
        Ok(Context {
            profile,
            direction,
            rtp: Transform::new(profile, rtp, false)?,
            rtcp: Transform::new(profile, rtcp, true)?,
            streams: Vec::with_capacity(MAX_SSRCS),
            clock: 0,
            ssrc_limit_drops: 0,
        })
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Packets of new SSRCs dropped because [`MAX_SSRCS`] were known (inbound).
    pub fn ssrc_limit_drops(&self) -> u64 {
        self.ssrc_limit_drops
    }

    /// SSRCs with state.
    pub fn ssrc_count(&self) -> usize {
        self.streams.len()
    }

    /// The rollover counter of an SSRC's SRTP stream, if known.
    pub fn roc(&self, ssrc: u32) -> Option<u32> {
        let s = self.streams.iter().find(|s| s.ssrc == ssrc)?;
        s.rtp.map(|w| (w.top() >> 16) as u32)
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The outbound stream of `ssrc`, created (evicting the least recently used one when
    /// full) if new.
    fn tx_stream(&mut self, ssrc: u32) -> usize {
        let now = self.tick();
        if let Some(i) = self.streams.iter().position(|s| s.ssrc == ssrc) {
            self.streams[i].used = now;
            return i;
        }
        let fresh = Stream {
            ssrc,
            rtp: None,
            rtcp: None,
            used: now,
        };
        if self.streams.len() < MAX_SSRCS {
            self.streams.push(fresh);
            return self.streams.len() - 1;
        }
        let mut oldest = 0;
        for (i, s) in self.streams.iter().enumerate() {
            if s.used < self.streams[oldest].used {
                oldest = i;
            }
        }
        tracing::debug!(
            evicted = self.streams[oldest].ssrc,
            ssrc,
            "SRTP outbound SSRC table full"
        );
        self.streams[oldest] = fresh;
        oldest
    }

    /// The inbound stream of `ssrc`: `Ok(Some(i))` known, `Ok(None)` new and there is room.
    fn rx_stream(&mut self, ssrc: u32) -> Result<Option<usize>, UnprotectError> {
        match self.streams.iter().position(|s| s.ssrc == ssrc) {
            Some(i) => Ok(Some(i)),
            None if self.streams.len() < MAX_SSRCS => Ok(None),
            None => {
                self.ssrc_limit_drops += 1;
                Err(UnprotectError::SsrcLimit)
            }
        }
    }

    /// Commit the inbound state of an authenticated packet.
    fn rx_commit(&mut self, slot: Option<usize>, ssrc: u32, index: u64, rtcp: bool) {
        let now = self.tick();
        let i = match slot {
            Some(i) => i,
            None => {
                self.streams.push(Stream {
                    ssrc,
                    rtp: None,
                    rtcp: None,
                    used: now,
                });
                self.streams.len() - 1
            }
        };
        let s = &mut self.streams[i];
        s.used = now;
        let w = if rtcp { &mut s.rtcp } else { &mut s.rtp };
        match w {
            Some(w) => w.commit(index),
            None => *w = Some(ReplayWindow::starting_at(index)),
        }
    }

    /// Protect the RTP packet `buf[..len]` in place; the SRTP packet is `buf[..returned]`.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, ProtectError> {
        let pkt = buf.get(..len).ok_or(ProtectError::Malformed)?;
        let hdr = rtp_header_len(pkt).ok_or(ProtectError::Malformed)?;
        let tag_len = self.rtp.tag_len();
        if buf.len() < len + tag_len {
            return Err(ProtectError::NoRoom);
        }
        let seq = u16::from_be_bytes([buf[2], buf[3]]);
        let ssrc = be32(&buf[8..12]);
        let i = self.tx_stream(ssrc);
        let index = match self.streams[i].rtp {
            Some(w) => estimate_index(w.top(), seq).ok_or(ProtectError::OutOfOrder)?,
            None => u64::from(seq),
        };
        match &self.rtp {
            Transform::Cm(cm) => {
                apply_keystream(
                    &cm.aes,
                    &counter_block(&cm.salt, ssrc, index),
                    &mut buf[hdr..len],
                );
                let roc = ((index >> 16) as u32).to_be_bytes();
                let tag = hmac_tag(cm, [&buf[..len], &roc]);
                buf[len..len + tag_len].copy_from_slice(&tag[..tag_len]);
            }
            t => {
                let iv = gcm_iv(t.gcm_salt(), ssrc, index);
                let (head, rest) = buf.split_at_mut(hdr);
                let tag = t
                    .seal(&iv, head, &mut rest[..len - hdr])
                    .ok_or(ProtectError::Malformed)?;
                buf[len..len + GCM_TAG].copy_from_slice(&tag);
            }
        }
        let s = &mut self.streams[i];
        match &mut s.rtp {
            Some(w) => w.commit(index),
            None => s.rtp = Some(ReplayWindow::starting_at(index)),
        }
        Ok(len + tag_len)
    }

    /// Verify and decrypt the SRTP packet `buf` in place; returns the RTP length.
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, UnprotectError> {
        let tag_len = self.rtp.tag_len();
        let body = buf
            .len()
            .checked_sub(tag_len)
            .ok_or(UnprotectError::Malformed)?;
        let hdr = rtp_header_len(&buf[..body]).ok_or(UnprotectError::Malformed)?;
        let seq = u16::from_be_bytes([buf[2], buf[3]]);
        let ssrc = be32(&buf[8..12]);
        let slot = self.rx_stream(ssrc)?;
        let index = match slot.and_then(|i| self.streams[i].rtp) {
            Some(w) => {
                let index = estimate_index(w.top(), seq).ok_or(UnprotectError::Replay)?;
                w.check(index).map_err(|_| UnprotectError::Replay)?;
                index
            }
            None => u64::from(seq),
        };
        match &self.rtp {
            Transform::Cm(cm) => {
                let roc = ((index >> 16) as u32).to_be_bytes();
                let tag = hmac_tag(cm, [&buf[..body], &roc]);
                if !bool::from(tag[..tag_len].ct_eq(&buf[body..])) {
                    return Err(UnprotectError::AuthFailed);
                }
                apply_keystream(
                    &cm.aes,
                    &counter_block(&cm.salt, ssrc, index),
                    &mut buf[hdr..body],
                );
            }
            t => {
                let iv = gcm_iv(t.gcm_salt(), ssrc, index);
                let mut tag = [0u8; GCM_TAG];
                tag.copy_from_slice(&buf[body..]);
                let (head, rest) = buf.split_at_mut(hdr);
                if !t.open(&iv, head, &mut rest[..body - hdr], &tag) {
                    return Err(UnprotectError::AuthFailed);
                }
            }
        }
        self.rx_commit(slot, ssrc, index, false);
        Ok(body)
    }

    /// Protect the RTCP packet `buf[..len]` in place (always encrypted, E = 1); the SRTCP
    /// packet is `buf[..returned]`.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, ProtectError> {
        let pkt = buf.get(..len).ok_or(ProtectError::Malformed)?;
        if len < 8 || pkt[0] >> 6 != 2 {
            return Err(ProtectError::Malformed);
        }
        let tag_len = self.rtcp.tag_len();
        let total = len + 4 + tag_len;
        if buf.len() < total {
            return Err(ProtectError::NoRoom);
        }
        let ssrc = be32(&buf[4..8]);
        let i = self.tx_stream(ssrc);
        let index = match self.streams[i].rtcp {
            Some(w) => w.top() + 1,
            None => 0,
        };
        if index > MAX_SRTCP_INDEX {
            return Err(ProtectError::IndexExhausted);
        }
        let word = (0x8000_0000 | index as u32).to_be_bytes();
        match &self.rtcp {
            Transform::Cm(cm) => {
                apply_keystream(
                    &cm.aes,
                    &counter_block(&cm.salt, ssrc, index),
                    &mut buf[8..len],
                );
                buf[len..len + 4].copy_from_slice(&word);
                let tag = hmac_tag(cm, [&buf[..len + 4], &[]]);
                buf[len + 4..total].copy_from_slice(&tag[..tag_len]);
            }
            t => {
                let iv = gcm_iv(t.gcm_salt(), ssrc, index);
                let mut aad = [0u8; 12];
                aad[..8].copy_from_slice(&buf[..8]);
                aad[8..].copy_from_slice(&word);
                let tag = t
                    .seal(&iv, &aad, &mut buf[8..len])
                    .ok_or(ProtectError::Malformed)?;
                buf[len..len + GCM_TAG].copy_from_slice(&tag);
                buf[len + GCM_TAG..total].copy_from_slice(&word);
            }
        }
        let s = &mut self.streams[i];
        match &mut s.rtcp {
            Some(w) => w.commit(index),
            None => s.rtcp = Some(ReplayWindow::starting_at(index)),
        }
        Ok(total)
    }

    /// Verify and (when E = 1) decrypt the SRTCP packet `buf` in place; returns the RTCP
    /// length.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, UnprotectError> {
        let tag_len = self.rtcp.tag_len();
        let n = buf
            .len()
            .checked_sub(4 + tag_len)
            .filter(|n| *n >= 8)
            .ok_or(UnprotectError::Malformed)?;
        if buf[0] >> 6 != 2 {
            return Err(UnprotectError::Malformed);
        }
        let aead = !matches!(self.rtcp, Transform::Cm(_));
        // AES-CM: packet || E+index || tag. AEAD (RFC 7714 9.2): packet || tag || E+index.
        let word_at = if aead { n + tag_len } else { n };
        let word = be32(&buf[word_at..word_at + 4]);
        let encrypted = word & 0x8000_0000 != 0;
        let index = u64::from(word & 0x7fff_ffff);
        let ssrc = be32(&buf[4..8]);
        let slot = self.rx_stream(ssrc)?;
        if let Some(w) = slot.and_then(|i| self.streams[i].rtcp) {
            w.check(index).map_err(|_| UnprotectError::Replay)?;
        }
        match &self.rtcp {
            Transform::Cm(cm) => {
                let tag = hmac_tag(cm, [&buf[..n + 4], &[]]);
                if !bool::from(tag[..tag_len].ct_eq(&buf[n + 4..])) {
                    return Err(UnprotectError::AuthFailed);
                }
                if encrypted {
                    apply_keystream(
                        &cm.aes,
                        &counter_block(&cm.salt, ssrc, index),
                        &mut buf[8..n],
                    );
                }
            }
            t => {
                let iv = gcm_iv(t.gcm_salt(), ssrc, index);
                let mut tag = [0u8; GCM_TAG];
                tag.copy_from_slice(&buf[n..n + GCM_TAG]);
                let ok = if encrypted {
                    let mut aad = [0u8; 12];
                    aad[..8].copy_from_slice(&buf[..8]);
                    aad[8..].copy_from_slice(&word.to_be_bytes());
                    t.open(&iv, &aad, &mut buf[8..n], &tag)
                } else {
                    // RFC 7714 9.2 with E = 0: the whole packet and the E+index word are
                    // the associated data. Bring the word next to the packet (over the tag,
                    // saved above) so that the AAD is one slice.
                    buf.copy_within(word_at..word_at + 4, n);
                    t.open(&iv, &buf[..n + 4], &mut [], &tag)
                };
                if !ok {
                    return Err(UnprotectError::AuthFailed);
                }
            }
        }
        self.rx_commit(slot, ssrc, index, true);
        Ok(n)
    }
}
