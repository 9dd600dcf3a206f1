//! One DTLS 1.2 association of an access leg, sans-IO, with RFC 8122 fingerprint verification
//! and the RFC 5764 key export. OWNER: media-crypto helper.
//!
//! # Crate choice: `rtc-dtls` / `rtc-srtp` 0.21 (webrtc-rs sans-IO line)
//!
//! - The access leg is a sans-IO state machine fed `(now, datagram)` and polled for
//!   transmits and timeouts, driven by a virtual clock in tests. `rtc-dtls` has exactly that
//!   shape (`read(now, ..)`, `poll_transmit`, `poll_timeout`, `handle_timeout(now)`): it reads
//!   no clock and owns no socket, so retransmission, our handshake guard and ICE consent run
//!   on one clock and the in-memory two-leg tests are deterministic.
//! - `webrtc-dtls` 0.12 is frozen, and both it and `dtls` 0.17 are async: each association
//!   wants its own `Conn` (socket adaptor) and a tokio timer, i.e. per-leg tasks and channels
//!   between the engine's socket task and the handshake, plus wall-clock sleeps in tests.
//! - `rtc-dtls` 0.21 negotiates all four SRTP profiles we need (`use_srtp` 0x0001, 0x0002,
//!   0x0007, 0x0008, i.e. AEAD_AES_256_GCM included), exposes `export_keying_material`
//!   ("EXTRACTOR-dtls_srtp") and a peer-certificate callback, where the RFC 8122 fingerprint
//!   check goes (we additionally re-check the leaf after completion, so verification is never
//!   skipped even if the callback were bypassed). `rtc-srtp` 0.21 shares its crypto provider
//!   (ring), has per-SSRC replay windows and all four profiles.
//! - Interop: tested against OpenSSL 3 (pyOpenSSL, DTLS client and server) and libsrtp
//!   (pylibsrtp) in `agw/tests/dtls_openssl.rs`.
//!
//! Caveats found while integrating: `rtc_dtls::endpoint::Endpoint` keys associations by
//! remote address; we key our single association by a fixed synthetic address and route the
//! datagrams ourselves, so an ICE peer-address change does not orphan the handshake. The CA
//! chain check must be switched off (`insecure_skip_verify`, self-signed WebRTC certificates);
//! the fingerprint callback is the verification. The crate's SRTP API is not in place: see
//! [`super::srtp`] for the per-packet allocations.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::BytesMut;
use rtc_dtls::config::{ClientAuthType, ConfigBuilder, ExtendedMasterSecretType};
use rtc_dtls::endpoint::{Endpoint, EndpointEvent};
use rtc_dtls::extension::extension_use_srtp::SrtpProtectionProfile;
use rtc_shared::error::Error as DtlsError;
use rtc_shared::TransportProtocol;

use super::api::Fingerprint;
use super::cert::Certificate;

/// RFC 5764 section 4.2 exporter label.
pub const EXPORTER_LABEL: &str = "EXTRACTOR-dtls_srtp";

/// The synthetic key of our one association inside the rtc-dtls endpoint (never sent to).
const ASSOC_KEY: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9);

/// What an input did to the association.
#[derive(Debug)]
#[non_exhaustive]
pub enum DtlsOutcome {
    /// The handshake completed, the peer certificate matched; SRTP keying material exported.
    Connected {
        /// RFC 5764 profile number.
        profile: u16,
        /// `2 * (key + salt)` octets: client key, server key, client salt, server salt.
        keying_material: Vec<u8>,
        /// The DER of the peer's leaf certificate.
        peer_cert: Vec<u8>,
    },
    /// The attempt ended; cause text for `DtlsFailed`.
    Failed(String),
    /// The peer closed (close_notify or a closing alert) an association that had completed:
    /// a normal end (a browser hanging up), not a (D)TLS establishment failure.
    Closed,
}

/// Shared with the verification callback: the acceptable fingerprints (updatable) and
/// whether the callback rejected the peer.
#[derive(Default)]
struct Verdict {
    fingerprints: Vec<Fingerprint>,
    mismatch: bool,
}

/// One association.
pub struct DtlsAssoc {
    endpoint: Endpoint,
    verdict: Arc<Mutex<Verdict>>,
    completed: bool,
    done: bool,
}

impl std::fmt::Debug for DtlsAssoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DtlsAssoc")
            .field("completed", &self.completed)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

fn to_profile(n: u16) -> Option<SrtpProtectionProfile> {
    match SrtpProtectionProfile::from(n) {
        SrtpProtectionProfile::Unsupported => None,
        p => Some(p),
    }
}

impl DtlsAssoc {
    /// Start a client association: the ClientHello is queued at once.
    pub fn client(
        now: Instant,
        cert: &Certificate,
        fingerprints: &[Fingerprint],
        profiles: &[u16],
    ) -> Result<DtlsAssoc, String> {
        let (config, verdict) = Self::config(cert, fingerprints, profiles, true)?;
        let mut endpoint = Endpoint::new(ASSOC_KEY, TransportProtocol::UDP, None);
        endpoint
            .connect(now, ASSOC_KEY, config, None)
            .map_err(|e| e.to_string())?;
        Ok(DtlsAssoc {
            endpoint,
            verdict,
            completed: false,
            done: false,
        })
    }

    /// A server association waiting for the ClientHello.
    pub fn server(
        cert: &Certificate,
        fingerprints: &[Fingerprint],
        profiles: &[u16],
    ) -> Result<DtlsAssoc, String> {
        let (config, verdict) = Self::config(cert, fingerprints, profiles, false)?;
        let endpoint = Endpoint::new(ASSOC_KEY, TransportProtocol::UDP, Some(config));
        Ok(DtlsAssoc {
            endpoint,
            verdict,
            completed: false,
            done: false,
        })
    }

    #[allow(clippy::type_complexity)]
    fn config(
        cert: &Certificate,
        fingerprints: &[Fingerprint],
        profiles: &[u16],
        is_client: bool,
    ) -> Result<(Arc<rtc_dtls::config::HandshakeConfig>, Arc<Mutex<Verdict>>), String> {
        let verdict = Arc::new(Mutex::new(Verdict {
            fingerprints: fingerprints.to_vec(),
            mismatch: false,
        }));
        let v = verdict.clone();
        let verify: rtc_dtls::config::VerifyPeerCertificateFn =
            Arc::new(move |certs: &[Vec<u8>], _chains| {
                let Ok(mut v) = v.lock() else {
                    return Err(DtlsError::Other("fingerprint-mismatch".into()));
                };
                let ok = certs
                    .first()
                    .is_some_and(|leaf| v.fingerprints.iter().any(|f| f.matches_der(leaf)));
                if ok {
                    Ok(())
                } else {
                    v.mismatch = true;
                    Err(DtlsError::Other("fingerprint-mismatch".into()))
                }
            });
        let profiles: Vec<SrtpProtectionProfile> =
            profiles.iter().filter_map(|p| to_profile(*p)).collect();
        if profiles.is_empty() {
            return Err("no supported SRTP profile".into());
        }
        let config = ConfigBuilder::default()
            .with_crypto_provider(cert.provider().clone())
            .with_certificates(vec![cert.dtls().clone()])
            .with_srtp_protection_profiles(profiles)
            .with_extended_master_secret(ExtendedMasterSecretType::Request)
            // No CA chain in WebRTC: the RFC 8122 fingerprint callback is the verification.
            .with_insecure_skip_verify(true)
            .with_verify_peer_certificate(Some(verify))
            // The UE must present its certificate so we can check its fingerprint.
            .with_client_auth(ClientAuthType::RequireAnyClientCert)
            // SNI is meaningless here (self-signed, fingerprint-authenticated); naming one keeps
            // the crate from warning on every client handshake
            .with_server_name("webrtc".into())
            .build(is_client, None)
            .map_err(|e| e.to_string())?;
        Ok((Arc::new(config), verdict))
    }

    /// Feed one DTLS datagram.
    pub fn handle(&mut self, now: Instant, datagram: &[u8]) -> Option<DtlsOutcome> {
        if self.done {
            return None;
        }
        let res = self
            .endpoint
            .read(now, ASSOC_KEY, None, BytesMut::from(datagram));
        match res {
            Ok(events) => {
                for ev in events {
                    match ev {
                        EndpointEvent::HandshakeComplete => return Some(self.complete()),
                        EndpointEvent::PeerClosed => {
                            self.done = true;
                            return Some(if self.completed {
                                DtlsOutcome::Closed
                            } else {
                                DtlsOutcome::Failed("closed".into())
                            });
                        }
                        _ => {}
                    }
                }
                None
            }
            Err(e) => {
                let mismatch = self.verdict.lock().map(|v| v.mismatch).unwrap_or(true);
                if self.completed && matches!(e, DtlsError::ErrAlertFatalOrClose) {
                    self.done = true;
                    return Some(DtlsOutcome::Closed);
                }
                let cause = if mismatch {
                    "fingerprint-mismatch".to_owned()
                } else if matches!(e, DtlsError::ErrAlertFatalOrClose) {
                    "alert".to_owned()
                } else if self.completed {
                    // A bad record after completion (old epoch, undecryptable) is dropped.
                    tracing::debug!(error = %e, "DTLS record dropped");
                    return None;
                } else {
                    format!("handshake-failure: {e}")
                };
                self.done = true;
                Some(DtlsOutcome::Failed(cause))
            }
        }
    }

    fn complete(&mut self) -> DtlsOutcome {
        self.completed = true;
        let Some(state) = self.endpoint.get_connection_state(ASSOC_KEY) else {
            self.done = true;
            return DtlsOutcome::Failed("handshake-failure: no state".into());
        };
        // Belt and braces: the callback already checked the leaf; check it again.
        let Some(leaf) = state.peer_certificates.first().cloned() else {
            self.done = true;
            return DtlsOutcome::Failed("fingerprint-mismatch".into());
        };
        if !self.matches(&leaf) {
            self.done = true;
            return DtlsOutcome::Failed("fingerprint-mismatch".into());
        }
        let profile = state.srtp_protection_profile();
        let Some(len) = super::srtp::keying_material_len(profile as u16) else {
            self.done = true;
            return DtlsOutcome::Failed("no-srtp-profile".into());
        };
        match state.export_keying_material(EXPORTER_LABEL, &[], len) {
            Ok(km) => DtlsOutcome::Connected {
                profile: profile as u16,
                keying_material: km.into_bytes(),
                peer_cert: leaf,
            },
            Err(e) => {
                self.done = true;
                DtlsOutcome::Failed(format!("export: {e}"))
            }
        }
    }

    /// Whether `der` matches one of the current fingerprints.
    pub fn matches(&self, der: &[u8]) -> bool {
        self.verdict
            .lock()
            .map(|v| v.fingerprints.iter().any(|f| f.matches_der(der)))
            .unwrap_or(false)
    }

    /// New remote fingerprints (an update): used by the callback from now on.
    pub fn set_fingerprints(&mut self, fingerprints: Vec<Fingerprint>) {
        if let Ok(mut v) = self.verdict.lock() {
            v.fingerprints = fingerprints;
        }
    }

    /// Next datagram to send to the peer.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.endpoint.poll_transmit().map(|t| t.message.to_vec())
    }

    /// Next retransmission time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.done || self.completed {
            return None;
        }
        self.endpoint.poll_timeout(&ASSOC_KEY)
    }

    /// Send the current flight again now rather than at its retransmission time: for the
    /// moment the peer has just become able to receive it (ICE nominated the pair), so that
    /// a first flight the peer dropped before does not cost a whole retransmission interval.
    /// Counts against the crate's retransmission budget like any retransmission.
    pub fn retransmit_now(&mut self, now: Instant) -> Option<DtlsOutcome> {
        let due = self.poll_timeout()?;
        self.handle_timeout(due.max(now))
    }

    /// Drive retransmission; Failed("timeout") when the crate gives up.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<DtlsOutcome> {
        if self.done || self.completed {
            return None;
        }
        match self.endpoint.handle_timeout(ASSOC_KEY, now) {
            Ok(()) => None,
            Err(e) => {
                tracing::debug!(error = %e, "DTLS retransmissions exhausted");
                self.done = true;
                Some(DtlsOutcome::Failed("timeout".into()))
            }
        }
    }
}
