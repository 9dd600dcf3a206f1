//! The process DTLS certificate (ECDSA P-256, generated at start or loaded from PEM) and its
//! fingerprint, plus the SDP text form of [`Fingerprint`] (`a=fingerprint`, RFC 8122).
//! OWNER: media-crypto helper.

use std::fmt;
use std::path::Path;

use rtc_dtls::crypto::Certificate as DtlsCertificate;
use rtc_dtls::crypto_provider::{RTCCryptoProvider, SignatureScheme};
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use std::sync::Arc;

use super::api::{Fingerprint, HashFunction};

/// Why the certificate could not be made or loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// Reading a PEM file failed.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The OS error text.
        reason: String,
    },
    /// A file is not PEM or has no usable block.
    #[error("bad PEM in {path}: {reason}")]
    Pem {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The key is not an ECDSA P-256 key in PKCS#8 or SEC1 form.
    #[error("unusable private key: {0}")]
    Key(String),
    /// The crypto provider or certificate generator failed.
    #[error("crypto: {0}")]
    Crypto(String),
}

/// The certificate and key the AGW presents on every DTLS association.
pub struct Certificate {
    fingerprint: Fingerprint,
    dtls: DtlsCertificate,
    provider: Arc<dyn RTCCryptoProvider>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("fingerprint", &self.fingerprint.to_string())
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// A fresh self-signed ECDSA P-256 certificate (one per process, made at start).
    pub fn generate() -> Result<Certificate, CertError> {
        let provider = provider()?;
        let dtls = DtlsCertificate::generate_self_signed_with_alg(
            vec!["iq-agw".to_owned()],
            &rcgen::PKCS_ECDSA_P256_SHA256,
            provider.crypto(),
        )
        .map_err(|e| CertError::Crypto(e.to_string()))?;
        Self::from_parts(dtls, provider)
    }

    /// Load a PEM certificate (the first `CERTIFICATE` block is ours; further blocks are sent
    /// as the chain) and its ECDSA P-256 private key (`PRIVATE KEY` = PKCS#8, or
    /// `EC PRIVATE KEY` = SEC1 as `openssl ecparam -genkey` writes it).
    pub fn load(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Certificate, CertError> {
        let cert_path = cert_path.as_ref();
        let key_path = key_path.as_ref();
        let certs: Vec<Vec<u8>> = read_pem(cert_path)?
            .into_iter()
            .filter(|p| p.tag() == "CERTIFICATE")
            .map(|p| p.into_contents())
            .collect();
        if certs.is_empty() {
            return Err(CertError::Pem {
                path: cert_path.display().to_string(),
                reason: "no CERTIFICATE block".into(),
            });
        }
        let keys = read_pem(key_path)?;
        let pkcs8 = keys
            .iter()
            .find_map(|p| match p.tag() {
                "PRIVATE KEY" => Some(p.contents().to_vec()),
                "EC PRIVATE KEY" => Some(sec1_p256_to_pkcs8(p.contents())),
                _ => None,
            })
            .ok_or_else(|| CertError::Pem {
                path: key_path.display().to_string(),
                reason: "no PRIVATE KEY or EC PRIVATE KEY block".into(),
            })?;
        let provider = provider()?;
        let key = provider
            .crypto()
            .import_signing_key(SignatureScheme::EcdsaP256Sha256, &pkcs8)
            .map_err(|e| CertError::Key(format!("not an ECDSA P-256 key: {e}")))?;
        // The certificate's SubjectPublicKeyInfo must carry this key's public point (a key
        // from another pair would only show up as failed handshakes later).
        let public = key.public_key().bytes.to_vec();
        if public.is_empty()
            || !certs[0]
                .windows(public.len())
                .any(|w| w == public.as_slice())
        {
            return Err(CertError::Key(
                "the private key does not belong to the certificate".into(),
            ));
        }
        let chain = certs
            .into_iter()
            .map(rustls_pki_types_der)
            .collect::<Vec<_>>();
        Self::from_parts(DtlsCertificate::from_signing_key(chain, key), provider)
    }

    fn from_parts(
        dtls: DtlsCertificate,
        provider: Arc<dyn RTCCryptoProvider>,
    ) -> Result<Certificate, CertError> {
        let der = dtls
            .certificate
            .first()
            .ok_or_else(|| CertError::Crypto("empty certificate chain".into()))?;
        let fingerprint = Fingerprint::of_der(HashFunction::Sha256, der.as_ref());
        Ok(Certificate {
            fingerprint,
            dtls,
            provider,
        })
    }

    /// sha-256 fingerprint of the DER certificate (returned in Local).
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// The DER of our (leaf) certificate.
    pub fn der(&self) -> &[u8] {
        self.dtls
            .certificate
            .first()
            .map(|c| c.as_ref())
            .unwrap_or(&[])
    }

    pub(crate) fn dtls(&self) -> &DtlsCertificate {
        &self.dtls
    }

    pub(crate) fn provider(&self) -> &Arc<dyn RTCCryptoProvider> {
        &self.provider
    }
}

fn provider() -> Result<Arc<dyn RTCCryptoProvider>, CertError> {
    rtc_dtls::crypto_provider::default_provider().map_err(|e| CertError::Crypto(e.to_string()))
}

fn rustls_pki_types_der(der: Vec<u8>) -> rustls_pki_types::CertificateDer<'static> {
    rustls_pki_types::CertificateDer::from(der)
}

fn read_pem(path: &Path) -> Result<Vec<pem::Pem>, CertError> {
    let text = std::fs::read(path).map_err(|e| CertError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    pem::parse_many(text).map_err(|e| CertError::Pem {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Wrap a SEC1 `ECPrivateKey` of a P-256 key into PKCS#8 `PrivateKeyInfo` (RFC 5208/5915).
fn sec1_p256_to_pkcs8(sec1: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { id-ecPublicKey, prime256v1 }
    const ALG: [u8; 21] = [
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(&ALG);
    body.push(0x04);
    der_len(&mut body, sec1.len());
    body.extend_from_slice(sec1);
    let mut out = vec![0x30];
    der_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

impl HashFunction {
    /// The RFC 8122 / IANA name (`sha-256`).
    pub fn name(self) -> &'static str {
        match self {
            HashFunction::Sha1 => "sha-1",
            HashFunction::Sha224 => "sha-224",
            HashFunction::Sha256 => "sha-256",
            HashFunction::Sha384 => "sha-384",
            HashFunction::Sha512 => "sha-512",
        }
    }

    /// Parse a hash name, case-insensitively; None for hashes we do not support (md5, md2...).
    pub fn from_name(name: &str) -> Option<HashFunction> {
        [
            HashFunction::Sha1,
            HashFunction::Sha224,
            HashFunction::Sha256,
            HashFunction::Sha384,
            HashFunction::Sha512,
        ]
        .into_iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
    }

    /// Digest length in octets.
    pub fn digest_len(self) -> usize {
        match self {
            HashFunction::Sha1 => 20,
            HashFunction::Sha224 => 28,
            HashFunction::Sha256 => 32,
            HashFunction::Sha384 => 48,
            HashFunction::Sha512 => 64,
        }
    }

    /// Hash `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashFunction::Sha1 => Sha1::digest(data).to_vec(),
            HashFunction::Sha224 => Sha224::digest(data).to_vec(),
            HashFunction::Sha256 => Sha256::digest(data).to_vec(),
            HashFunction::Sha384 => Sha384::digest(data).to_vec(),
            HashFunction::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

impl Fingerprint {
    /// The fingerprint of a DER certificate with `hash`.
    pub fn of_der(hash: HashFunction, der: &[u8]) -> Fingerprint {
        Fingerprint {
            hash,
            digest: hash.digest(der),
        }
    }

    /// Whether the DER certificate `der` has this fingerprint.
    pub fn matches_der(&self, der: &[u8]) -> bool {
        self.digest.len() == self.hash.digest_len() && self.hash.digest(der) == self.digest
    }

    /// Parse the value of `a=fingerprint` (`sha-256 AB:CD:...`, RFC 8122 section 5): a hash
    /// name (case-insensitive; sha-1/224/256/384/512), one or more spaces, and the digest as
    /// colon-separated two-digit hex pairs (either case) of exactly the hash's length.
    /// A leading `a=fingerprint:` / `fingerprint:` is tolerated. None for anything else.
    pub fn parse_sdp(text: &str) -> Option<Fingerprint> {
        let text = text.trim();
        let text = text.strip_prefix("a=").unwrap_or(text);
        let text = match text.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("fingerprint:") => &text[12..],
            _ => text,
        };
        let (name, hex) = text.split_once([' ', '\t'])?;
        let hash = HashFunction::from_name(name)?;
        let hex = hex.trim();
        let mut digest = Vec::with_capacity(hash.digest_len());
        for pair in hex.split(':') {
            let b = pair.as_bytes();
            if b.len() != 2 {
                return None;
            }
            digest.push((hex_val(b[0])? << 4) | hex_val(b[1])?);
        }
        (digest.len() == hash.digest_len()).then_some(Fingerprint { hash, digest })
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The SDP text form: `sha-256 AB:CD:...` (uppercase hex, RFC 8122).
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hash.name())?;
        for (i, b) in self.digest.iter().enumerate() {
            write!(f, "{}{b:02X}", if i == 0 { ' ' } else { ':' })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec1_wrap_length_forms() {
        let mut v = Vec::new();
        der_len(&mut v, 0x7f);
        assert_eq!(v, [0x7f]);
        v.clear();
        der_len(&mut v, 0x80);
        assert_eq!(v, [0x81, 0x80]);
        v.clear();
        der_len(&mut v, 0x1234);
        assert_eq!(v, [0x82, 0x12, 0x34]);
    }
}
