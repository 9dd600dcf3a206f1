//! AES in counter mode as RFC 3711 section 4.1.1 uses it: a 128-bit counter block, the
//! low 16 bits counting blocks, XORed over the data in place.

use aes::cipher::consts::U16;
use aes::cipher::{BlockCipher, BlockEncrypt, BlockSizeUser, InnerIvInit, StreamCipher};

/// XOR the keystream that starts at counter block `iv` into `data`, in place.
///
/// RFC 3711 gives the counter as a 128-bit big-endian integer incremented per block; within
/// one packet (at most 2^16 blocks, far beyond any datagram) only the low 16 bits move.
pub fn apply_keystream<C>(cipher: C, iv: &[u8; 16], data: &mut [u8])
where
    C: BlockCipher + BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let core = ctr::CtrCore::<C, ctr::flavors::Ctr128BE>::inner_iv_init(cipher, iv.into());
    ctr::Ctr128BE::<C>::from_core(core).apply_keystream(data);
}

/// RFC 3711 section 4.1.1: the counter block of a packet, `(k_s * 2^16) XOR (SSRC * 2^64)
/// XOR (i * 2^16)` with `i` the SRTP packet index (48 bits) or the SRTCP index (31 bits).
pub fn counter_block(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    for (d, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
        *d ^= s;
    }
    // i * 2^16: the 48 low bits of the index on octets 8..14.
    for (d, s) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..8]) {
        *d ^= s;
    }
    iv
}
