//! RTP/RTCP packets of the agents: 20 ms audio with an RTCP sender report every second, and
//! the record of what was sent and received in plain form (the agent protocol's report).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// Packet interval.
pub const PTIME: Duration = Duration::from_millis(20);
/// RTCP sender report interval.
pub const RTCP_INTERVAL: Duration = Duration::from_secs(1);

/// One RTP packet as reported: (ssrc, seq, payload type, payload hex).
pub type Rtp = (u32, u16, u8, String);

/// A small PRNG (xorshift64*) seeded from the OS: payloads, SSRCs, ICE credentials.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded from `getrandom` (a fixed odd seed if the OS has none, which only weakens
    /// uniqueness, not the cryptography: DTLS keys come from the crypto provider).
    pub fn new() -> Rng {
        let seed = getrandom::u64().unwrap_or(0x9e37_79b9_7f4a_7c15);
        Rng(seed | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// `n` random octets.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 56) as u8).collect()
    }

    /// `n` characters of the ICE alphabet (RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/").
    pub fn ice_chars(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..n)
            .map(|_| ALPHABET[(self.next_u64() >> 58) as usize] as char)
            .collect()
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// RFC 5761 section 4: RTCP when the second octet is 192..=223.
pub fn is_rtcp(b: &[u8]) -> bool {
    b.get(1).is_some_and(|x| (192..=223).contains(x))
}

/// Parse a plain RTP packet (CSRCs, header extension and padding skipped).
pub fn parse_rtp(b: &[u8]) -> Option<Rtp> {
    if b.len() < 12 || b[0] >> 6 != 2 {
        return None;
    }
    let cc = usize::from(b[0] & 0x0f);
    let mut off = 12 + 4 * cc;
    if b[0] & 0x10 != 0 {
        let len = usize::from(u16::from_be_bytes([*b.get(off + 2)?, *b.get(off + 3)?]));
        off += 4 + 4 * len;
    }
    let mut end = b.len();
    if b[0] & 0x20 != 0 {
        end = end.checked_sub(usize::from(*b.last()?))?;
    }
    let payload = b.get(off..end)?;
    Some((
        u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        u16::from_be_bytes([b[2], b[3]]),
        b[1] & 0x7f,
        hex(payload),
    ))
}

/// The audio codec the agent sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codec {
    /// Negotiated payload type.
    pub pt: u8,
    /// Opus (48 kHz clock, 80 random octets a packet) rather than PCMU (8 kHz, 160 octets).
    pub opus: bool,
}

impl Codec {
    fn payload_len(self) -> usize {
        if self.opus {
            80
        } else {
            160
        }
    }

    fn ts_step(self) -> u32 {
        if self.opus {
            960
        } else {
            160
        }
    }
}

/// What the agent sent and received, in plain form.
#[derive(Debug, Default)]
pub struct Record {
    pub sent_rtp: Vec<Rtp>,
    pub recv_rtp: Vec<Rtp>,
    pub sent_rtcp: u64,
    pub recv_rtcp: u64,
}

impl Record {
    /// Note a received plain packet (RTP recorded, RTCP counted).
    pub fn received(&mut self, plain: &[u8]) {
        if is_rtcp(plain) {
            self.recv_rtcp += 1;
        } else if let Some(p) = parse_rtp(plain) {
            self.recv_rtp.push(p);
        }
    }

    /// The report fields of the agent protocol.
    pub fn to_json(&self) -> serde_json::Map<String, Value> {
        let list = |v: &[Rtp]| -> Value {
            v.iter()
                .map(|(s, q, pt, p)| json!([s, q, pt, p]))
                .collect::<Vec<_>>()
                .into()
        };
        let mut m = serde_json::Map::new();
        m.insert("sent_rtp".into(), list(&self.sent_rtp));
        m.insert("recv_rtp".into(), list(&self.recv_rtp));
        m.insert("sent_rtcp".into(), self.sent_rtcp.into());
        m.insert("recv_rtcp".into(), self.recv_rtcp.into());
        m
    }
}

/// The audio source: one packet every 20 ms from `start`, an SR every second.
#[derive(Debug)]
pub struct AudioSender {
    codec: Codec,
    ssrc: u32,
    cname: String,
    seq: u16,
    ts: u32,
    next: Instant,
    next_sr: Instant,
    packets: u32,
    octets: u32,
    rng: Rng,
}

impl AudioSender {
    /// A sender whose first packet goes at `start`.
    pub fn new(codec: Codec, ssrc: u32, cname: &str, start: Instant, rng: &mut Rng) -> Self {
        AudioSender {
            codec,
            ssrc,
            cname: cname.to_owned(),
            seq: (rng.next_u32() & 0x7fff) as u16,
            ts: rng.next_u32(),
            next: start,
            next_sr: start,
            packets: 0,
            octets: 0,
            rng: rng.clone(),
        }
    }

    /// When the next packet (RTP or RTCP) is due.
    pub fn next_due(&self) -> Instant {
        self.next.min(self.next_sr)
    }

    /// Move the schedule so that the first packet goes at `at` (nothing sent yet).
    pub fn restart(&mut self, at: Instant) {
        if self.packets == 0 {
            self.next = at;
            self.next_sr = at;
        }
    }

    /// The packets due at `now`, in order, plain; each RTP packet is recorded in `rec`.
    pub fn poll(&mut self, now: Instant, rec: &mut Record) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while self.next <= now {
            let mut payload = self.rng.bytes(self.codec.payload_len());
            if self.codec.opus {
                // a valid TOC (RFC 6716 3.1: CELT fullband 20 ms, mono, one frame) so real
                // decoders accept the random frame
                payload[0] = 0xf8;
            }
            let marker = if self.packets == 0 { 0x80 } else { 0 };
            let mut p = vec![0x80, marker | self.codec.pt];
            p.extend_from_slice(&self.seq.to_be_bytes());
            p.extend_from_slice(&self.ts.to_be_bytes());
            p.extend_from_slice(&self.ssrc.to_be_bytes());
            p.extend_from_slice(&payload);
            rec.sent_rtp
                .push((self.ssrc, self.seq, self.codec.pt, hex(&payload)));
            self.packets = self.packets.wrapping_add(1);
            self.octets = self.octets.wrapping_add(payload.len() as u32);
            self.seq = self.seq.wrapping_add(1);
            self.ts = self.ts.wrapping_add(self.codec.ts_step());
            self.next += PTIME;
            out.push(p);
            if self.next_sr <= now {
                out.push(self.sender_report());
                rec.sent_rtcp += 1;
                self.next_sr += RTCP_INTERVAL;
            }
        }
        out
    }

    /// RTCP compound: SR (no report blocks) + SDES CNAME (RFC 3550 6.4.1, 6.5).
    fn sender_report(&self) -> Vec<u8> {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let secs = since.as_secs() + 2_208_988_800;
        let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
        let mut p = vec![0x80, 200, 0, 6];
        p.extend_from_slice(&self.ssrc.to_be_bytes());
        p.extend_from_slice(&(secs as u32).to_be_bytes());
        p.extend_from_slice(&(frac as u32).to_be_bytes());
        p.extend_from_slice(&self.ts.to_be_bytes());
        p.extend_from_slice(&self.packets.to_be_bytes());
        p.extend_from_slice(&self.octets.to_be_bytes());
        // SDES: one chunk, CNAME item, END, padded to a word
        let name = &self.cname.as_bytes()[..self.cname.len().min(255)];
        let mut chunk = self.ssrc.to_be_bytes().to_vec();
        chunk.push(1);
        chunk.push(name.len() as u8);
        chunk.extend_from_slice(name);
        chunk.push(0);
        while chunk.len() % 4 != 0 {
            chunk.push(0);
        }
        let words = (chunk.len() / 4) as u16;
        p.extend_from_slice(&[0x81, 202]);
        p.extend_from_slice(&words.to_be_bytes());
        p.extend_from_slice(&chunk);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_paced_recorded_and_parse_back() {
        let mut rng = Rng::new();
        let t0 = Instant::now();
        let codec = Codec { pt: 0, opus: false };
        let mut s = AudioSender::new(codec, 0x1234_5678, "ue@lab", t0, &mut rng);
        let mut rec = Record::default();
        let pkts = s.poll(t0 + Duration::from_millis(1010), &mut rec);
        // 51 RTP packets (0, 20, ..., 1000 ms) and SRs at 0 and 1000 ms
        let rtp: Vec<_> = pkts.iter().filter(|p| !is_rtcp(p)).collect();
        let rtcp: Vec<_> = pkts.iter().filter(|p| is_rtcp(p)).collect();
        assert_eq!(rtp.len(), 51);
        assert_eq!(rtcp.len(), 2);
        assert_eq!(rec.sent_rtcp, 2);
        let parsed: Vec<Rtp> = rtp.iter().map(|p| parse_rtp(p).unwrap()).collect();
        assert_eq!(parsed, rec.sent_rtp);
        assert!(parsed.iter().all(|p| p.3.len() == 320 && p.2 == 0));
        for w in parsed.windows(2) {
            assert_eq!(w[1].1, w[0].1.wrapping_add(1));
            assert_ne!(w[1].3, w[0].3, "payloads are random");
        }
        // RTCP: SR length field matches, SDES follows and the compound is word aligned
        let sr = rtcp[0];
        assert_eq!(sr.len() % 4, 0);
        assert_eq!(usize::from(u16::from_be_bytes([sr[2], sr[3]])), 6);
        assert_eq!(sr[29], 202);
        let sdes_words = usize::from(u16::from_be_bytes([sr[30], sr[31]]));
        assert_eq!(28 + 4 + 4 * sdes_words, sr.len());
    }

    #[test]
    fn opus_payloads_are_80_octets_and_timestamps_step_960() {
        let mut rng = Rng::new();
        let t0 = Instant::now();
        let codec = Codec {
            pt: 111,
            opus: true,
        };
        let mut s = AudioSender::new(codec, 1, "x", t0, &mut rng);
        let mut rec = Record::default();
        let pkts = s.poll(t0 + Duration::from_millis(20), &mut rec);
        let rtp: Vec<_> = pkts.iter().filter(|p| !is_rtcp(p)).collect();
        assert_eq!(rtp.len(), 2);
        let ts = |p: &[u8]| u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
        assert_eq!(ts(rtp[1]).wrapping_sub(ts(rtp[0])), 960);
        assert_eq!(rtp[0].len(), 12 + 80);
        assert_eq!(rtp[0][1], 0x80 | 111, "marker on the first packet");
        assert_eq!(rtp[1][1], 111);
        assert_eq!(rtp[0][12], 0xf8, "opus TOC");
    }
}
