//! The process DTLS certificate (ECDSA P-256, generated at start or loaded from PEM) and its
//! fingerprint. OWNER: media-crypto helper (stub with the agreed API).

use super::api::Fingerprint;

/// The certificate and key the AGW presents on every DTLS association.
#[derive(Debug)]
pub struct Certificate {
    fingerprint: Fingerprint,
}

impl Certificate {
    /// sha-256 fingerprint of the DER certificate (returned in Local).
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }
}
