//! The WebRTC UE: ICE (full agent) + DTLS in the role RFC 5763 gives us, verified against the
//! far end's `a=fingerprint` + SRTP/SRTCP, and 20 ms audio with an SR a second.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_agw::media::api::{DtlsRole, IceCredentials};
use iq_agw::media::cert::Certificate;
use iq_agw::media::demux::{classify, Packet};
use iq_agw::media::dtls::{DtlsAssoc, DtlsOutcome};
use iq_agw::media::srtp::{SrtpSession, DEFAULT_PROFILES};
use iq_codec::sdp::Setup;
use serde_json::Value;

use super::ice::{Ice, HOST_PRIORITY};
use super::rtp::{AudioSender, Codec, Record, Rng};
use super::sdp::{self, Remote, WebRtcLocal};
use super::Endpoint;

/// Our offer's codecs: opus 111, PCMU 0 (as a browser's audio-only offer).
const OFFER_CODECS: [Codec; 2] = [
    Codec {
        pt: 111,
        opus: true,
    },
    Codec { pt: 0, opus: false },
];

#[derive(Debug)]
enum Dtls {
    Idle,
    Running(DtlsAssoc),
    Connected(DtlsAssoc),
    Failed(String),
}

/// The UE endpoint.
pub struct UeAgent {
    addr: SocketAddr,
    cert: Arc<Certificate>,
    rng: Rng,
    local_ice: IceCredentials,
    tls_id: String,
    session_id: u64,
    ssrc: u32,
    cname: String,
    offered: bool,
    remote: Option<Remote>,
    codec: Option<Codec>,
    role: Option<DtlsRole>,
    ice: Option<Ice>,
    /// Without ICE: the far end's c=/m= address.
    direct_peer: Option<SocketAddr>,
    dtls: Dtls,
    srtp: Option<SrtpSession>,
    srtp_profile: Option<u16>,
    sender: Option<AudioSender>,
    rec: Record,
    unprotect_failures: u64,
    transmits: VecDeque<(SocketAddr, Vec<u8>)>,
}

impl UeAgent {
    /// A UE on the socket bound at `addr`, with a fresh P-256 certificate.
    pub fn new(addr: SocketAddr) -> Result<UeAgent, String> {
        let cert = Certificate::generate().map_err(|e| e.to_string())?;
        let mut rng = Rng::new();
        let local_ice = IceCredentials {
            ufrag: rng.ice_chars(8),
            pwd: rng.ice_chars(24),
        };
        Ok(UeAgent {
            addr,
            cert: Arc::new(cert),
            local_ice,
            tls_id: super::rtp::hex(&rng.bytes(16)),
            session_id: rng.next_u64() >> 2,
            ssrc: rng.next_u32(),
            cname: format!("iq-ue-{}", rng.ice_chars(8)),
            rng,
            offered: false,
            remote: None,
            codec: None,
            role: None,
            ice: None,
            direct_peer: None,
            dtls: Dtls::Idle,
            srtp: None,
            srtp_profile: None,
            sender: None,
            rec: Record::default(),
            unprotect_failures: 0,
            transmits: VecDeque::new(),
        })
    }

    fn local_sdp(
        &self,
        proto: &str,
        codecs: &[Codec],
        setup: Setup,
        mid: &str,
        bundle: bool,
    ) -> String {
        let l = WebRtcLocal {
            addr: self.addr,
            session_id: self.session_id,
            ice: &self.local_ice,
            fingerprint: self.cert.fingerprint(),
            tls_id: &self.tls_id,
            ssrc: self.ssrc,
            cname: &self.cname,
            candidate_priority: HOST_PRIORITY,
        };
        sdp::webrtc(&l, proto, codecs, setup, mid, bundle)
    }

    /// Check the far end's description and start ICE and DTLS in `role`.
    fn start(&mut self, now: Instant, remote: Remote, role: DtlsRole) -> Result<(), String> {
        if self.remote.is_some() {
            return Err("a description was already applied (no renegotiation)".into());
        }
        if remote.fingerprints.is_empty() {
            return Err("the far end signalled no usable a=fingerprint".into());
        }
        let codec = *remote
            .codecs
            .first()
            .ok_or("no common codec (opus, PCMU)")?;
        tracing::info!(
            ?role,
            ?codec,
            ice = remote.ice.is_some(),
            lite = remote.ice_lite,
            "starting"
        );
        match &remote.ice {
            Some(creds) => {
                let controlling = remote.ice_lite || self.offered;
                let cands = if remote.candidates.is_empty() {
                    vec![remote.addr]
                } else {
                    remote.candidates.clone()
                };
                let cands: Vec<SocketAddr> = cands
                    .into_iter()
                    .filter(|c| c.is_ipv4() == self.addr.is_ipv4())
                    .collect();
                if cands.is_empty() {
                    return Err("no remote candidate of our address family".into());
                }
                self.ice = Some(Ice::new(
                    now,
                    self.local_ice.clone(),
                    creds.clone(),
                    controlling,
                    &cands,
                    &mut self.rng,
                ));
            }
            None => self.direct_peer = Some(remote.addr),
        }
        if role == DtlsRole::Server {
            let assoc = DtlsAssoc::server(&self.cert, &remote.fingerprints, &DEFAULT_PROFILES)?;
            self.dtls = Dtls::Running(assoc);
        }
        self.codec = Some(codec);
        self.role = Some(role);
        self.remote = Some(remote);
        self.maybe_start_client(now);
        Ok(())
    }

    fn peer(&self) -> Option<SocketAddr> {
        match &self.ice {
            Some(ice) => ice.peer(),
            None => self.direct_peer,
        }
    }

    fn maybe_start_client(&mut self, now: Instant) {
        if self.role != Some(DtlsRole::Client) || !matches!(self.dtls, Dtls::Idle) {
            return;
        }
        if self.peer().is_none() {
            return;
        }
        let Some(remote) = &self.remote else { return };
        match DtlsAssoc::client(now, &self.cert, &remote.fingerprints, &DEFAULT_PROFILES) {
            Ok(a) => {
                tracing::info!("DTLS client: ClientHello");
                self.dtls = Dtls::Running(a);
            }
            Err(e) => self.dtls = Dtls::Failed(e),
        }
        self.flush_dtls();
    }

    fn flush_dtls(&mut self) {
        let Some(peer) = self.peer() else { return };
        if let Dtls::Running(a) | Dtls::Connected(a) = &mut self.dtls {
            while let Some(d) = a.poll_transmit() {
                self.transmits.push_back((peer, d));
            }
        }
    }

    fn flush_ice(&mut self) {
        if let Some(ice) = &mut self.ice {
            while let Some(t) = ice.poll_transmit() {
                self.transmits.push_back(t);
            }
        }
    }

    fn dtls_outcome(&mut self, outcome: Option<DtlsOutcome>) {
        match outcome {
            Some(DtlsOutcome::Connected {
                profile,
                keying_material,
                ..
            }) => {
                let is_client = self.role == Some(DtlsRole::Client);
                match SrtpSession::for_certificate(profile, &keying_material, is_client, &self.cert)
                {
                    Ok(s) => {
                        tracing::info!(profile, "DTLS connected, SRTP keys installed");
                        self.srtp = Some(s);
                        self.srtp_profile = Some(profile);
                        if let Dtls::Running(a) = std::mem::replace(&mut self.dtls, Dtls::Idle) {
                            self.dtls = Dtls::Connected(a);
                        }
                    }
                    Err(e) => self.dtls = Dtls::Failed(format!("srtp: {e}")),
                }
            }
            Some(DtlsOutcome::Failed(cause)) => {
                tracing::warn!(%cause, "DTLS failed");
                self.srtp = None;
                self.dtls = Dtls::Failed(cause);
            }
            Some(_) | None => {}
        }
    }

    fn send_media(&mut self, now: Instant) {
        let peer = self.peer();
        let Some(sender) = &mut self.sender else {
            return;
        };
        let (Some(srtp), Some(peer)) = (&mut self.srtp, peer) else {
            // no keys yet: the first packet goes when they are there
            sender.restart(now);
            return;
        };
        if now < sender.next_due() {
            return;
        }
        for plain in sender.poll(now, &mut self.rec) {
            let mut buf = plain.clone();
            buf.resize(plain.len() + 64, 0);
            match srtp.protect(&mut buf, plain.len()) {
                Ok(n) => {
                    buf.truncate(n);
                    self.transmits.push_back((peer, buf));
                }
                Err(e) => tracing::warn!(error = %e, "SRTP protect failed"),
            }
        }
    }
}

impl Endpoint for UeAgent {
    fn offer(&mut self, _now: Instant) -> Result<String, String> {
        if self.remote.is_some() {
            return Err("already negotiated".into());
        }
        self.offered = true;
        Ok(self.local_sdp(
            "UDP/TLS/RTP/SAVPF",
            &OFFER_CODECS,
            Setup::Actpass,
            "0",
            true,
        ))
    }

    fn answer(&mut self, now: Instant, text: &str) -> Result<(), String> {
        if !self.offered {
            return Err("answer without our offer".into());
        }
        let mut remote = sdp::parse_remote(text)?;
        // RFC 5763 5: the answerer picks; no a=setup in an answer means active.
        let role = match remote.setup {
            Some(Setup::Active) | None => DtlsRole::Server,
            Some(Setup::Passive) => DtlsRole::Client,
            Some(s) => return Err(format!("a=setup:{} in an answer", s.as_str())),
        };
        // the answer's codec must be one we offered
        remote.codecs.retain(|c| {
            OFFER_CODECS
                .iter()
                .any(|o| o.pt == c.pt && o.opus == c.opus)
        });
        self.start(now, remote, role)
    }

    fn accept(&mut self, now: Instant, text: &str) -> Result<String, String> {
        if self.offered {
            return Err("we already offered; send answer".into());
        }
        let remote = sdp::parse_remote(text)?;
        let (role, setup) = match remote.setup {
            Some(Setup::Actpass) | Some(Setup::Passive) | None => (DtlsRole::Client, Setup::Active),
            Some(Setup::Active) => (DtlsRole::Server, Setup::Passive),
            Some(s) => return Err(format!("cannot answer a=setup:{}", s.as_str())),
        };
        let codec = *remote
            .codecs
            .first()
            .ok_or("no common codec (opus, PCMU)")?;
        let mid = remote.mid.clone().unwrap_or_else(|| "0".into());
        let bundle = remote.bundle;
        // the answer keeps the offer's transport (SAVP or SAVPF)
        let proto = remote.proto.clone();
        self.start(now, remote, role)?;
        Ok(self.local_sdp(&proto, &[codec], setup, &mid, bundle))
    }

    fn start_media(&mut self, now: Instant) {
        if let Some(codec) = self.codec {
            self.sender = Some(AudioSender::new(
                codec,
                self.ssrc,
                &self.cname,
                now,
                &mut self.rng,
            ));
        }
    }

    fn stop_media(&mut self) {
        self.sender = None;
    }

    fn report(&self) -> Value {
        let mut m = self.rec.to_json();
        let dtls_state = match &self.dtls {
            Dtls::Connected(_) => "connected",
            Dtls::Failed(_) => "failed",
            Dtls::Running(_) => "connecting",
            Dtls::Idle => "new",
        };
        m.insert("dtls_state".into(), dtls_state.into());
        if let Dtls::Failed(cause) = &self.dtls {
            m.insert("dtls_error".into(), cause.clone().into());
        }
        m.insert(
            "dtls_role".into(),
            match self.role {
                Some(DtlsRole::Client) => "client".into(),
                Some(DtlsRole::Server) => "server".into(),
                None => Value::Null,
            },
        );
        let ice_state = match &self.ice {
            Some(ice) => ice.state().as_str(),
            None if self.direct_peer.is_some() => "none",
            None => "new",
        };
        m.insert("ice_state".into(), ice_state.into());
        if let Some(ice) = &self.ice {
            m.insert("ice_controlling".into(), ice.controlling().into());
        }
        if let Some(p) = self.peer() {
            m.insert("peer".into(), p.to_string().into());
        }
        m.insert("srtp_profile".into(), self.srtp_profile.into());
        m.insert("unprotect_failures".into(), self.unprotect_failures.into());
        Value::Object(m)
    }

    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, buf: &mut [u8]) {
        match classify(buf) {
            Packet::Stun => {
                if let Some(ice) = &mut self.ice {
                    ice.handle_stun(now, from, buf);
                }
                self.flush_ice();
                self.maybe_start_client(now);
            }
            Packet::Dtls => {
                let known = match &self.ice {
                    Some(ice) => ice.knows(from),
                    None => self.direct_peer == Some(from),
                };
                if !known {
                    tracing::debug!(%from, "DTLS from an unknown address dropped");
                    return;
                }
                let outcome = match &mut self.dtls {
                    Dtls::Running(a) | Dtls::Connected(a) => a.handle(now, buf),
                    _ => None,
                };
                self.dtls_outcome(outcome);
                self.flush_dtls();
            }
            Packet::Rtp | Packet::Rtcp => {
                if self.peer() != Some(from) {
                    return;
                }
                let Some(srtp) = &mut self.srtp else {
                    self.unprotect_failures += 1;
                    return;
                };
                match srtp.unprotect(buf) {
                    Ok((n, _)) => self.rec.received(&buf[..n]),
                    Err(e) => {
                        tracing::debug!(?e, "SRTP unprotect failed");
                        self.unprotect_failures += 1;
                    }
                }
            }
            _ => {}
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if let Some(ice) = &mut self.ice {
            if ice.poll_timeout().is_some_and(|t| t <= now) {
                ice.handle_timeout(now);
            }
        }
        self.flush_ice();
        self.maybe_start_client(now);
        let outcome = match &mut self.dtls {
            Dtls::Running(a) if a.poll_timeout().is_some_and(|t| t <= now) => a.handle_timeout(now),
            _ => None,
        };
        self.dtls_outcome(outcome);
        self.flush_dtls();
        self.send_media(now);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.ice.as_ref().and_then(Ice::poll_timeout);
        let mut take = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        if let Dtls::Running(a) = &self.dtls {
            take(a.poll_timeout());
        }
        if self.srtp.is_some() {
            take(self.sender.as_ref().map(AudioSender::next_due));
        } else if self.sender.is_some() {
            // waiting for keys: look again soon
            take(Some(Instant::now() + Duration::from_millis(20)));
        }
        t
    }

    fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.transmits.pop_front()
    }
}
