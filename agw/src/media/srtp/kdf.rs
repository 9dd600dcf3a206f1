//! RFC 3711 section 4.3: the AES-CM key derivation (PRF) with a key derivation rate of 0,
//! for AES-128 master keys (RFC 3711, RFC 7714 AEAD_AES_128_GCM) and AES-256 master keys
//! (RFC 7714 AEAD_AES_256_GCM, which uses AES-256-CM as its PRF, RFC 6188 section 7).

use aes::cipher::KeyInit;
use aes::{Aes128, Aes256};

/// SRTP encryption key label.
pub const LABEL_RTP_ENCRYPTION: u8 = 0x00;
/// SRTP authentication key label.
pub const LABEL_RTP_AUTH: u8 = 0x01;
/// SRTP salt label.
pub const LABEL_RTP_SALT: u8 = 0x02;
/// SRTCP encryption key label.
pub const LABEL_RTCP_ENCRYPTION: u8 = 0x03;
/// SRTCP authentication key label.
pub const LABEL_RTCP_AUTH: u8 = 0x04;
/// SRTCP salt label.
pub const LABEL_RTCP_SALT: u8 = 0x05;

/// Why keys could not be derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KdfError {
    /// The master key is neither 16 nor 32 octets.
    #[error("master key of {0} octets (16 or 32 expected)")]
    KeyLength(usize),
    /// The master salt is longer than 14 octets.
    #[error("master salt of {0} octets (at most 14)")]
    SaltLength(usize),
}

/// Derive `out.len()` octets for `label` (r = index DIV kdr = 0).
///
/// The PRF input is `x * 2^16` with `x = (label || r) XOR master_salt`, the salt being
/// right-padded with zeros to 14 octets when shorter (RFC 7714's 12-octet salts; libsrtp
/// does the same), and the output is the AES-CM keystream from that counter.
pub fn derive(
    master_key: &[u8],
    master_salt: &[u8],
    label: u8,
    out: &mut [u8],
) -> Result<(), KdfError> {
    if master_salt.len() > 14 {
        return Err(KdfError::SaltLength(master_salt.len()));
    }
    let mut iv = [0u8; 16];
    iv[..master_salt.len()].copy_from_slice(master_salt);
    // key_id = label || r (48 bits of r = 0) is 7 octets, aligned to the end of the
    // 14-octet salt: the label lands on octet 7.
    iv[7] ^= label;
    out.fill(0);
    match master_key.len() {
        16 => {
            let aes = Aes128::new_from_slice(master_key)
                .map_err(|_| KdfError::KeyLength(master_key.len()))?;
            super::cm::apply_keystream(aes, &iv, out);
        }
        32 => {
            let aes = Aes256::new_from_slice(master_key)
                .map_err(|_| KdfError::KeyLength(master_key.len()))?;
            super::cm::apply_keystream(aes, &iv, out);
        }
        n => return Err(KdfError::KeyLength(n)),
    }
    Ok(())
}
