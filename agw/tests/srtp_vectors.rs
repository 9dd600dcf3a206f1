//! Published test vectors for the in-place SRTP implementation (`iq_agw::media::srtp`):
//! RFC 3711 appendix B.2 (AES-CM keystream) and B.3 (key derivation), RFC 7714 section 16
//! (SRTP AEAD_AES_128_GCM / AEAD_AES_256_GCM) and section 17 (SRTCP, encrypted and
//! tagged-only). The numbers are typed from the RFCs, never produced by the code under test.

use aes::cipher::KeyInit;
use aes::Aes128;
use iq_agw::media::srtp::cm::{apply_keystream, counter_block};
use iq_agw::media::srtp::kdf;
use iq_agw::media::srtp::{Context, Direction, Profile, SessionKeys, UnprotectError};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    assert!(s.len() % 2 == 0, "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// RFC 3711 B.2: session key, the "already shifted" salt as counter, SSRC 0, index 0.
#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
    let salt: [u8; 14] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD").try_into().unwrap();
    let iv = counter_block(&salt, 0, 0);
    assert_eq!(iv.to_vec(), hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
    // Keystream segment length: 1044512 octets (65282 AES blocks).
    let mut ks = vec![0u8; 1_044_512];
    apply_keystream(Aes128::new_from_slice(&key).unwrap(), &iv, &mut ks);
    assert_eq!(
        ks[..48].to_vec(),
        hex("E03EAD0935C95E80E166B16DD92B4EB4
             D23513162B02D0F72A43A2FE4A5F97AB
             41E95B3BB0A2E8DD477901E4FCA894C0")
    );
    // Counters ...FEFF, ...FF00, ...FF01: the end of the segment.
    assert_eq!(
        ks[ks.len() - 48..].to_vec(),
        hex("EC8CDF7398607CB0F2D21675EA9EA1E4
             362B7C3C6773516318A077D7FC5073AE
             6A2CC3787889374FBEB4C81B17BA6C44")
    );
}

/// RFC 3711 section 4.1.1: SSRC and index land where the IV formula puts them.
#[test]
fn rfc3711_counter_block_places_ssrc_and_index() {
    let salt = [0u8; 14];
    let iv = counter_block(&salt, 0x0102_0304, 0x0000_a1b2_c3d4_e5f6);
    // (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), with k_s = 0.
    assert_eq!(iv.to_vec(), hex("00000000 01020304 a1b2c3d4 e5f60000"));
}

/// RFC 3711 B.3: cipher key, cipher salt and the 94-octet auth key block.
#[test]
fn rfc3711_b3_key_derivation() {
    let mk = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
    let ms = hex("0EC675AD498AFEEBB6960B3AABE6");
    let mut k = [0u8; 16];
    kdf::derive(&mk, &ms, kdf::LABEL_RTP_ENCRYPTION, &mut k).unwrap();
    assert_eq!(k.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
    let mut s = [0u8; 14];
    kdf::derive(&mk, &ms, kdf::LABEL_RTP_SALT, &mut s).unwrap();
    assert_eq!(s.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
    let mut a = [0u8; 94];
    kdf::derive(&mk, &ms, kdf::LABEL_RTP_AUTH, &mut a).unwrap();
    assert_eq!(
        a.to_vec(),
        hex(
            "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
        )
    );
    // The profile-level derivation takes the first 20 octets as the HMAC-SHA1 key.
    let keys = SessionKeys::derive(Profile::Aes128CmHmacSha1_80, &mk, &ms, false).unwrap();
    assert_eq!(keys.key, hex("C61E7A93744F39EE10734AFE3FF7A087"));
    assert_eq!(keys.salt, hex("30CBBC08863D8C85D49DB34A9AE1"));
    assert_eq!(keys.auth, hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
}

/// RFC 7714 sections 16 and 17 use session keys directly: key 00 01 .. and the salt
/// "Quid pro quo" (51 75 69 64 20 70 72 6f 20 71 75 6f).
fn gcm_keys(profile: Profile) -> SessionKeys {
    let key = match profile {
        Profile::AeadAes256Gcm => {
            hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        }
        _ => hex("000102030405060708090a0b0c0d0e0f"),
    };
    SessionKeys {
        key,
        salt: hex("517569642070726f2071756f"),
        auth: vec![],
    }
}

fn gcm_context(profile: Profile, direction: Direction) -> Context {
    let k = gcm_keys(profile);
    Context::from_session_keys(profile, &k, &k, direction).unwrap()
}

/// RFC 7714 section 16: the RTP packet (12-octet header, "Gallia est omnis divisa in
/// partes tres").
const RTP_PLAIN: &str = "8040f17b 8041f8d3 5501a0b2
    47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573";

fn srtp_gcm_case(profile: Profile, cipher_and_tag: &str) {
    let plain = hex(RTP_PLAIN);
    let mut want = hex("8040f17b 8041f8d3 5501a0b2");
    want.extend(hex(cipher_and_tag));
    let mut buf = plain.clone();
    buf.resize(plain.len() + 16, 0);
    let mut tx = gcm_context(profile, Direction::Outbound);
    let n = tx.protect_rtp(&mut buf, plain.len()).unwrap();
    assert_eq!(buf[..n].to_vec(), want, "{profile:?} protect");

    let mut rx = gcm_context(profile, Direction::Inbound);
    let mut wire = want.clone();
    wire[20] ^= 0x01;
    assert_eq!(rx.unprotect_rtp(&mut wire), Err(UnprotectError::AuthFailed));
    let mut wire = want.clone();
    let n = rx.unprotect_rtp(&mut wire).unwrap();
    assert_eq!(wire[..n].to_vec(), plain, "{profile:?} unprotect");
    let mut again = want.clone();
    assert_eq!(rx.unprotect_rtp(&mut again), Err(UnprotectError::Replay));
}

/// RFC 7714 16.1.1 / 16.1.2: SRTP AEAD_AES_128_GCM encryption and decryption.
#[test]
fn rfc7714_16_1_srtp_aes128_gcm() {
    srtp_gcm_case(
        Profile::AeadAes128Gcm,
        "f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833
         899d7f27 beb16a91 52cf765e e4390cce",
    );
}

/// RFC 7714 16.2.1 / 16.2.2: SRTP AEAD_AES_256_GCM encryption and decryption.
#[test]
fn rfc7714_16_2_srtp_aes256_gcm() {
    srtp_gcm_case(
        Profile::AeadAes256Gcm,
        "32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b
         7aa3db36 dfffd6b0 f9bb7878 d7a76c13",
    );
}

/// RFC 7714 section 17: the RTCP packet and its SRTCP index 0x5d4.
const RTCP_HEADER: &str = "81c8000d 4d617273";
const RTCP_PAYLOAD: &str = "4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
    deadbeef deadbeef deadbeef deadbeef deadbeef";

fn srtcp_gcm_case(profile: Profile, body_and_tag: &str, word: &str) {
    let mut wire = hex(RTCP_HEADER);
    wire.extend(hex(body_and_tag));
    wire.extend(hex(word));
    let mut plain = hex(RTCP_HEADER);
    plain.extend(hex(RTCP_PAYLOAD));

    let mut rx = gcm_context(profile, Direction::Inbound);
    let mut bad = wire.clone();
    bad[9] ^= 0x80;
    assert_eq!(rx.unprotect_rtcp(&mut bad), Err(UnprotectError::AuthFailed));
    // The index word is authenticated too.
    let mut bad = wire.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    assert_eq!(rx.unprotect_rtcp(&mut bad), Err(UnprotectError::AuthFailed));
    let mut buf = wire.clone();
    let n = rx.unprotect_rtcp(&mut buf).unwrap();
    assert_eq!(buf[..n].to_vec(), plain, "{profile:?} {word}");
    let mut again = wire.clone();
    assert_eq!(rx.unprotect_rtcp(&mut again), Err(UnprotectError::Replay));
}

/// RFC 7714 17.1: SRTCP AEAD_AES_128_GCM encryption (E = 1).
#[test]
fn rfc7714_17_1_srtcp_aes128_gcm_encrypted() {
    srtcp_gcm_case(
        Profile::AeadAes128Gcm,
        "63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda
         4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade",
        "800005d4",
    );
}

/// RFC 7714 17.2: SRTCP AEAD_AES_256_GCM verification and decryption (E = 1).
#[test]
fn rfc7714_17_2_srtcp_aes256_gcm_encrypted() {
    srtcp_gcm_case(
        Profile::AeadAes256Gcm,
        "d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1 110555be
         8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be",
        "800005d4",
    );
}

/// RFC 7714 17.3: SRTCP AEAD_AES_128_GCM tagging only (E = 0): payload in the clear.
#[test]
fn rfc7714_17_3_srtcp_aes128_gcm_tag_only() {
    let mut body = RTCP_PAYLOAD.to_owned();
    body.push_str(" 841dd968 3dd78ec9 2ae58790 125f62b3");
    srtcp_gcm_case(Profile::AeadAes128Gcm, &body, "000005d4");
}

/// RFC 7714 17.4: SRTCP AEAD_AES_256_GCM tag verification (E = 0).
#[test]
fn rfc7714_17_4_srtcp_aes256_gcm_tag_only() {
    let mut body = RTCP_PAYLOAD.to_owned();
    body.push_str(" 91db4afb feee5a97 8fab4393 ed2615fe");
    srtcp_gcm_case(Profile::AeadAes256Gcm, &body, "000005d4");
}
