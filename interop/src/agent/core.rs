//! The core peer: a plain RTP/AVP audio endpoint (RTP and RTCP on one port). During `run` it
//! sends 20 ms packets once the far end's first packet arrived (or 1 s into the run) and an SR
//! every second, and records everything it receives.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::rtp::{AudioSender, Codec, Record, Rng};
use super::sdp::{self, Remote};
use super::Endpoint;

/// Our offer's codecs: PCMU 0, opus 111.
const OFFER_CODECS: [Codec; 2] = [
    Codec { pt: 0, opus: false },
    Codec {
        pt: 111,
        opus: true,
    },
];
/// Start sending this long into a run if the far end stays silent.
const START_ANYWAY: Duration = Duration::from_secs(1);

/// The core endpoint.
pub struct CoreAgent {
    addr: SocketAddr,
    rng: Rng,
    session_id: u64,
    ssrc: u32,
    offered: bool,
    remote: Option<Remote>,
    codec: Option<Codec>,
    sender: Option<AudioSender>,
    /// Sending is held until this (or the first packet from the far end).
    hold_until: Option<Instant>,
    rec: Record,
    transmits: VecDeque<(SocketAddr, Vec<u8>)>,
}

impl CoreAgent {
    /// A core peer on the socket bound at `addr`.
    pub fn new(addr: SocketAddr) -> CoreAgent {
        let mut rng = Rng::new();
        CoreAgent {
            addr,
            session_id: rng.next_u64() >> 2,
            ssrc: rng.next_u32(),
            rng,
            offered: false,
            remote: None,
            codec: None,
            sender: None,
            hold_until: None,
            rec: Record::default(),
            transmits: VecDeque::new(),
        }
    }

    fn start(&mut self, remote: Remote, codec: Codec) -> Result<(), String> {
        if self.remote.is_some() {
            return Err("a description was already applied (no renegotiation)".into());
        }
        tracing::info!(peer = %remote.addr, ?codec, "core peer negotiated");
        self.codec = Some(codec);
        self.remote = Some(remote);
        Ok(())
    }
}

impl Endpoint for CoreAgent {
    fn offer(&mut self, _now: Instant) -> Result<String, String> {
        if self.remote.is_some() {
            return Err("already negotiated".into());
        }
        self.offered = true;
        Ok(sdp::plain(self.addr, self.session_id, &OFFER_CODECS))
    }

    fn answer(&mut self, _now: Instant, text: &str) -> Result<(), String> {
        if !self.offered {
            return Err("answer without our offer".into());
        }
        let remote = sdp::parse_remote(text)?;
        let codec = *remote
            .codecs
            .iter()
            .find(|c| {
                OFFER_CODECS
                    .iter()
                    .any(|o| o.pt == c.pt && o.opus == c.opus)
            })
            .ok_or("the answer has none of our codecs")?;
        self.start(remote, codec)
    }

    fn accept(&mut self, _now: Instant, text: &str) -> Result<String, String> {
        if self.offered {
            return Err("we already offered; send answer".into());
        }
        let remote = sdp::parse_remote(text)?;
        let codec = *remote
            .codecs
            .first()
            .ok_or("no common codec (PCMU, opus)")?;
        self.start(remote, codec)?;
        Ok(sdp::plain(self.addr, self.session_id, &[codec]))
    }

    fn start_media(&mut self, now: Instant) {
        let Some(codec) = self.codec else { return };
        let first = if self.rec.recv_rtp.is_empty() {
            self.hold_until = Some(now + START_ANYWAY);
            now + START_ANYWAY
        } else {
            now
        };
        self.sender = Some(AudioSender::new(
            codec,
            self.ssrc,
            "iq-core@lab",
            first,
            &mut self.rng,
        ));
    }

    fn stop_media(&mut self) {
        self.sender = None;
        self.hold_until = None;
    }

    fn report(&self) -> Value {
        let mut m = self.rec.to_json();
        m.insert("ice_state".into(), "none".into());
        if let Some(r) = &self.remote {
            m.insert("peer".into(), r.addr.to_string().into());
        }
        Value::Object(m)
    }

    fn handle_datagram(&mut self, now: Instant, _from: SocketAddr, buf: &mut [u8]) {
        let was_silent = self.rec.recv_rtp.is_empty();
        self.rec.received(buf);
        if was_silent && !self.rec.recv_rtp.is_empty() && self.hold_until.is_some() {
            self.hold_until = None;
            if let Some(s) = &mut self.sender {
                s.restart(now);
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        let (Some(sender), Some(remote)) = (&mut self.sender, &self.remote) else {
            return;
        };
        for p in sender.poll(now, &mut self.rec) {
            self.transmits.push_back((remote.addr, p));
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.sender.as_ref().map(AudioSender::next_due)
    }

    fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.transmits.pop_front()
    }
}
