//! The plain (core side) leg: where its media goes (Remote or latched source), which
//! datagrams it accepts, and receiver statistics per RFC 3550 (A.1 sequence tracking, A.3
//! loss, A.8 interarrival jitter). Sans-IO: the engine feeds it datagrams and the time.
//! OWNER: media-net helper.

use std::net::SocketAddr;
use std::time::Instant;

use super::api::LegSpec;
use super::demux::{classify, Packet};

/// Clock rate of a payload type for jitter (RFC 3551 static types; dynamic types default
/// to 8000 Hz unless told otherwise with [`RtpReceiveStats::set_clock_rate`]).
pub fn static_clock_rate(pt: u8) -> Option<u32> {
    match pt {
        0 | 3 | 4 | 5 | 7 | 8 | 9 | 12 | 13 | 15 | 18 => Some(8000),
        6 => Some(16000),
        10 | 11 => Some(44100),
        16 => Some(11025),
        17 => Some(22050),
        14 | 25 | 26 | 28 | 31 | 32 | 33 | 34 => Some(90000),
        _ => None,
    }
}

/// Clock rate assumed for dynamic payload types without a configured rate.
pub const DEFAULT_CLOCK_RATE: u32 = 8000;

const RTP_SEQ_MOD: u32 = 1 << 16;
const MAX_DROPOUT: u32 = 3000;
const MAX_MISORDER: u32 = 100;

/// Receiver statistics of one RTP stream (the latest SSRC seen; an SSRC change starts a
/// new source, keeping the loss counted so far).
#[derive(Debug, Clone)]
pub struct RtpReceiveStats {
    epoch: Instant,
    dynamic_rates: [u32; 32],
    ssrc: Option<u32>,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    received: u64,
    lost_before: u64,
    /// Previous relative transit time and the payload type it was measured with.
    transit: Option<(u32, u8)>,
    /// Jitter in 1/16 timestamp units (RFC 3550 A.8 integer form).
    jitter_q4: u32,
}

impl RtpReceiveStats {
    /// Fresh statistics; `epoch` is any instant before the first arrival.
    pub fn new(epoch: Instant) -> Self {
        RtpReceiveStats {
            epoch,
            dynamic_rates: [DEFAULT_CLOCK_RATE; 32],
            ssrc: None,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            received: 0,
            lost_before: 0,
            transit: None,
            jitter_q4: 0,
        }
    }

    /// Set the clock rate of a dynamic payload type (96..=127) from its rtpmap; other
    /// payload types are ignored.
    pub fn set_clock_rate(&mut self, pt: u8, rate: u32) {
        if (96..=127).contains(&pt) && rate > 0 {
            self.dynamic_rates[usize::from(pt - 96)] = rate;
        }
    }

    fn clock_rate(&self, pt: u8) -> u32 {
        if (96..=127).contains(&pt) {
            self.dynamic_rates[usize::from(pt - 96)]
        } else {
            static_clock_rate(pt).unwrap_or(DEFAULT_CLOCK_RATE)
        }
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.transit = None;
    }

    /// Account one RTP packet (`pkt` is the whole plain RTP packet) arriving at `now`.
    /// Returns false when the packet is not counted (too short, or a sequence jump that
    /// RFC 3550 A.1 treats as bad until confirmed).
    pub fn on_rtp(&mut self, pkt: &[u8], now: Instant) -> bool {
        if pkt.len() < 12 {
            return false;
        }
        let pt = pkt[1] & 0x7f;
        let seq = u16::from_be_bytes([pkt[2], pkt[3]]);
        let ts = u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]);
        let ssrc = u32::from_be_bytes([pkt[8], pkt[9], pkt[10], pkt[11]]);

        if self.ssrc != Some(ssrc) {
            if self.ssrc.is_some() {
                self.lost_before = self.lost_before.saturating_add(self.source_lost());
            }
            self.ssrc = Some(ssrc);
            self.init_seq(seq);
        } else {
            let udelta = u32::from(seq.wrapping_sub(self.max_seq));
            if udelta < MAX_DROPOUT {
                if seq < self.max_seq {
                    self.cycles = self.cycles.wrapping_add(RTP_SEQ_MOD);
                }
                self.max_seq = seq;
            } else if udelta <= RTP_SEQ_MOD - MAX_MISORDER {
                if u32::from(seq) == self.bad_seq {
                    // Two sequential packets after a big jump: the source restarted.
                    self.lost_before = self.lost_before.saturating_add(self.source_lost());
                    self.init_seq(seq);
                } else {
                    self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                    return false;
                }
            }
            // else: duplicate or reordered packet, counted as received.
        }
        self.received += 1;

        // RFC 3550 A.8: arrival time in timestamp units, relative transit, smoothed |D|.
        let rate = u128::from(self.clock_rate(pt));
        let elapsed = now.saturating_duration_since(self.epoch).as_nanos();
        let arrival = ((elapsed * rate) / 1_000_000_000) as u32;
        let transit = arrival.wrapping_sub(ts);
        if let Some((prev, prev_pt)) = self.transit {
            if prev_pt == pt {
                let d = (transit.wrapping_sub(prev) as i32).unsigned_abs();
                // J += (|D| - J) / 16, kept as 16 * J.
                self.jitter_q4 = self
                    .jitter_q4
                    .wrapping_add(d)
                    .wrapping_sub((self.jitter_q4 + 8) >> 4);
            }
        }
        self.transit = Some((transit, pt));
        true
    }

    fn source_lost(&self) -> u64 {
        if self.ssrc.is_none() {
            return 0;
        }
        let extended_max = u64::from(self.cycles) + u64::from(self.max_seq);
        let expected = extended_max + 1 - u64::from(self.base_seq);
        expected.saturating_sub(self.received)
    }

    /// Cumulative packets lost (expected minus received, RFC 3550 A.3; never negative).
    pub fn lost(&self) -> u64 {
        self.lost_before.saturating_add(self.source_lost())
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }

    /// RTP packets counted.
    pub fn received(&self) -> u64 {
        self.received
    }
}

/// What a plain leg made of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainReceived {
    /// RTP or RTCP to relay.
    Media {
        /// RTCP rather than RTP.
        rtcp: bool,
        /// The source was latched by this packet.
        learned: Option<SocketAddr>,
    },
    /// Not RTP/RTCP, too short, or not from the latched source.
    Dropped,
}

/// A plain RTP/RTCP leg (rtcp-mux on one port).
#[derive(Debug, Clone)]
pub struct PlainLeg {
    remote: Option<SocketAddr>,
    latching: bool,
    latched: Option<SocketAddr>,
    /// Receiver statistics of media accepted from the peer.
    pub rtp: RtpReceiveStats,
}

impl PlainLeg {
    /// A new leg for `spec`.
    pub fn new(spec: &LegSpec, now: Instant) -> Self {
        PlainLeg {
            remote: spec.remote,
            latching: spec.latching,
            latched: None,
            rtp: RtpReceiveStats::new(now),
        }
    }

    /// Apply a changed spec: a new Remote or a change of latching forgets the latched source.
    pub fn update(&mut self, spec: &LegSpec) {
        if spec.remote != self.remote || spec.latching != self.latching {
            self.latched = None;
        }
        self.remote = spec.remote;
        self.latching = spec.latching;
    }

    /// Where media for the peer goes: the latched source, else the Remote address.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.latched.or(self.remote)
    }

    /// The latched source, if any.
    pub fn latched(&self) -> Option<SocketAddr> {
        self.latched
    }

    /// Classify and filter a datagram from `from`. With latching, the first RTP/RTCP
    /// packet's source becomes the peer and packets from other sources are dropped. Without
    /// latching only the Remote descriptor's address is the peer (symmetric RTP; its RTCP
    /// may also come from the next port up, RFC 3550's convention): anything else, and
    /// anything before a Remote is known, is dropped, so that no off-path host can inject
    /// media into the call through the core port.
    pub fn on_datagram(&mut self, from: SocketAddr, pkt: &[u8]) -> PlainReceived {
        let rtcp = match classify(pkt) {
            Packet::Rtp if pkt.len() >= 12 => false,
            Packet::Rtcp if pkt.len() >= 8 => true,
            _ => return PlainReceived::Dropped,
        };
        let mut learned = None;
        if self.latching {
            match self.latched {
                None => {
                    self.latched = Some(from);
                    learned = Some(from);
                }
                Some(peer) if peer != from => return PlainReceived::Dropped,
                Some(_) => {}
            }
        } else if !self.is_remote_source(from, rtcp) {
            return PlainReceived::Dropped;
        }
        PlainReceived::Media { rtcp, learned }
    }

    fn is_remote_source(&self, from: SocketAddr, rtcp: bool) -> bool {
        match self.remote {
            Some(r) if r == from => true,
            Some(r) => rtcp && r.ip() == from.ip() && r.port().checked_add(1) == Some(from.port()),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::api::{LegKind, StreamMode};

    fn spec(remote: Option<SocketAddr>, latching: bool) -> LegSpec {
        LegSpec {
            context: 1,
            kind: LegKind::Plain,
            realm: "core".into(),
            mode: StreamMode::SendRecv,
            remote,
            remote_fingerprints: Vec::new(),
            dtls_role: None,
            remote_ice: None,
            latching,
        }
    }

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    const RTP: [u8; 12] = [0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9];
    const RTCP: [u8; 8] = [0x80, 200, 0, 1, 0, 0, 0, 9];

    #[test]
    fn without_latching_only_the_remote_is_the_peer() {
        let mut leg = PlainLeg::new(&spec(Some(a("192.0.2.1:4000")), false), Instant::now());
        let media = |r| matches!(r, PlainReceived::Media { .. });
        assert!(media(leg.on_datagram(a("192.0.2.1:4000"), &RTP)));
        assert!(media(leg.on_datagram(a("192.0.2.1:4000"), &RTCP)));
        // RTCP from the next port up (RFC 3550), but not RTP from there
        assert!(media(leg.on_datagram(a("192.0.2.1:4001"), &RTCP)));
        assert_eq!(
            leg.on_datagram(a("192.0.2.1:4001"), &RTP),
            PlainReceived::Dropped
        );
        // an off-path source: another port, another address
        assert_eq!(
            leg.on_datagram(a("192.0.2.1:5000"), &RTP),
            PlainReceived::Dropped
        );
        assert_eq!(
            leg.on_datagram(a("198.51.100.7:4000"), &RTP),
            PlainReceived::Dropped
        );
        assert_eq!(leg.destination(), Some(a("192.0.2.1:4000")));
    }

    #[test]
    fn before_a_remote_nothing_is_accepted_without_latching() {
        let mut leg = PlainLeg::new(&spec(None, false), Instant::now());
        assert_eq!(
            leg.on_datagram(a("192.0.2.1:4000"), &RTP),
            PlainReceived::Dropped
        );
        leg.update(&spec(Some(a("192.0.2.1:4000")), false));
        assert!(matches!(
            leg.on_datagram(a("192.0.2.1:4000"), &RTP),
            PlainReceived::Media { .. }
        ));
    }

    #[test]
    fn latching_takes_the_first_source_then_only_it() {
        let mut leg = PlainLeg::new(&spec(Some(a("192.0.2.1:4000")), true), Instant::now());
        assert_eq!(
            leg.on_datagram(a("203.0.113.5:6000"), &RTP),
            PlainReceived::Media {
                rtcp: false,
                learned: Some(a("203.0.113.5:6000"))
            }
        );
        assert_eq!(
            leg.on_datagram(a("192.0.2.1:4000"), &RTP),
            PlainReceived::Dropped
        );
        assert_eq!(leg.destination(), Some(a("203.0.113.5:6000")));
    }
}
