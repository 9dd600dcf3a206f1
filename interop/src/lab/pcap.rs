//! What the lab saw, as a classic pcap file (LINKTYPE_RAW: every frame starts with a synthesized
//! IPv4 header). Iq messages are written as TCP segments with their TPKT header (with a
//! synthesized three-way handshake first, so that sequence numbers are consistent), as UDP
//! datagrams, or as SCTP packets with one DATA chunk of PPID 7 (H.248) each, depending on the
//! transport; media datagrams as UDP. Checksums are correct (IPv4, UDP, TCP; CRC32c for SCTP).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use iq_link::transport::TransportKind;

/// pcap LINKTYPE_RAW.
const LINKTYPE_RAW: u32 = 101;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_SCTP: u8 = 132;

/// One thing the lab saw.
#[derive(Debug, Clone)]
pub enum Seen {
    /// One whole H.248 message between two Iq endpoints (without transport framing).
    Iq {
        /// Transport of the association.
        kind: TransportKind,
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// SCTP stream.
        stream: u16,
        /// The message.
        data: Vec<u8>,
    },
    /// One UDP datagram (media).
    Udp {
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// Payload.
        data: Vec<u8>,
    },
}

/// A timestamped [`Seen`].
#[derive(Debug, Clone)]
pub struct Record {
    /// When.
    pub at: SystemTime,
    /// What.
    pub what: Seen,
}

/// The Internet checksum over the concatenation of `parts` (RFC 1071).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut hi: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match hi.take() {
                Some(h) => sum += u32::from(u16::from_be_bytes([h, b])),
                None => hi = Some(b),
            }
        }
    }
    if let Some(h) = hi {
        sum += u32::from(u16::from_be_bytes([h, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// CRC32c as SCTP uses it (RFC 9260 Appendix A).
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn v4(a: SocketAddr) -> [u8; 4] {
    match a.ip() {
        IpAddr::V4(ip) => ip.octets(),
        IpAddr::V6(ip) => ip.to_ipv4_mapped().unwrap_or(Ipv4Addr::LOCALHOST).octets(),
    }
}

fn pseudo(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(12);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0, proto]);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    p
}

/// Per-direction TCP sequence state.
#[derive(Default)]
struct TcpFlow {
    next_seq: u32,
}

/// Builds the capture in memory.
pub struct PcapWriter {
    buf: Vec<u8>,
    ident: u16,
    tcp: HashMap<(SocketAddr, SocketAddr), TcpFlow>,
    sctp_tsn: HashMap<(SocketAddr, SocketAddr), u32>,
    /// Frames written.
    pub frames: usize,
}

impl Default for PcapWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapWriter {
    /// An empty capture (global header only).
    pub fn new() -> Self {
        let mut buf = Vec::new();
        buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        buf.extend_from_slice(&2u16.to_le_bytes());
        buf.extend_from_slice(&4u16.to_le_bytes());
        buf.extend_from_slice(&0i32.to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        buf.extend_from_slice(&262_144u32.to_le_bytes());
        buf.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        PcapWriter {
            buf,
            ident: 0,
            tcp: HashMap::new(),
            sctp_tsn: HashMap::new(),
            frames: 0,
        }
    }

    /// The file's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn frame(&mut self, at: SystemTime, src: SocketAddr, dst: SocketAddr, proto: u8, l4: &[u8]) {
        // IPv4 carries at most 65535 octets; the lab's messages are far below that
        let Ok(total) = u16::try_from(20 + l4.len()) else {
            return;
        };
        self.ident = self.ident.wrapping_add(1);
        let mut ip = Vec::with_capacity(20 + l4.len());
        ip.extend_from_slice(&[0x45, 0]);
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&self.ident.to_be_bytes());
        ip.extend_from_slice(&[0x40, 0, 64, proto, 0, 0]);
        ip.extend_from_slice(&v4(src));
        ip.extend_from_slice(&v4(dst));
        let c = checksum(&[&ip]);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        ip.extend_from_slice(l4);
        let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let len = ip.len() as u32;
        self.buf
            .extend_from_slice(&(d.as_secs() as u32).to_le_bytes());
        self.buf.extend_from_slice(&d.subsec_micros().to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&ip);
        self.frames += 1;
    }

    /// One UDP datagram.
    pub fn udp(&mut self, at: SystemTime, src: SocketAddr, dst: SocketAddr, data: &[u8]) {
        let len = 8 + data.len();
        if len > 65_515 {
            return;
        }
        let mut u = Vec::with_capacity(len);
        u.extend_from_slice(&src.port().to_be_bytes());
        u.extend_from_slice(&dst.port().to_be_bytes());
        u.extend_from_slice(&(len as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(data);
        let mut c = checksum(&[&pseudo(v4(src), v4(dst), PROTO_UDP, len), &u]);
        if c == 0 {
            c = 0xffff;
        }
        u[6..8].copy_from_slice(&c.to_be_bytes());
        self.frame(at, src, dst, PROTO_UDP, &u);
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp_segment(
        &mut self,
        at: SystemTime,
        src: SocketAddr,
        dst: SocketAddr,
        flags: u8,
        seq: u32,
        ack: u32,
        data: &[u8],
    ) {
        let len = 20 + data.len();
        let mut t = Vec::with_capacity(len);
        t.extend_from_slice(&src.port().to_be_bytes());
        t.extend_from_slice(&dst.port().to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&ack.to_be_bytes());
        t.extend_from_slice(&[0x50, flags]);
        t.extend_from_slice(&65_535u16.to_be_bytes());
        t.extend_from_slice(&[0, 0, 0, 0]);
        t.extend_from_slice(data);
        let c = checksum(&[&pseudo(v4(src), v4(dst), PROTO_TCP, len), &t]);
        t[16..18].copy_from_slice(&c.to_be_bytes());
        self.frame(at, src, dst, PROTO_TCP, &t);
    }

    /// One H.248 message over TCP (TPKT-framed, H.248.1 Annex D.2); the first message of a
    /// connection is preceded by a synthesized handshake.
    pub fn tcp_message(&mut self, at: SystemTime, src: SocketAddr, dst: SocketAddr, msg: &[u8]) {
        let Ok(tpkt_len) = u16::try_from(msg.len() + 4) else {
            return;
        };
        if !self.tcp.contains_key(&(src, dst)) {
            // the side that speaks first is taken as the client
            let (cs, ss) = (1_000u32, 500_000u32);
            self.tcp_segment(at, src, dst, 0x02, cs, 0, &[]);
            self.tcp_segment(at, dst, src, 0x12, ss, cs + 1, &[]);
            self.tcp_segment(at, src, dst, 0x10, cs + 1, ss + 1, &[]);
            self.tcp.insert((src, dst), TcpFlow { next_seq: cs + 1 });
            self.tcp.insert((dst, src), TcpFlow { next_seq: ss + 1 });
        }
        let mut data = vec![3, 0];
        data.extend_from_slice(&tpkt_len.to_be_bytes());
        data.extend_from_slice(msg);
        let seq = self.tcp.get(&(src, dst)).map_or(0, |f| f.next_seq);
        let ack = self.tcp.get(&(dst, src)).map_or(0, |f| f.next_seq);
        self.tcp_segment(at, src, dst, 0x18, seq, ack, &data);
        if let Some(f) = self.tcp.get_mut(&(src, dst)) {
            f.next_seq = f.next_seq.wrapping_add(data.len() as u32);
        }
        // the receiver's acknowledgement, so that the capture shows no missing ACKs
        let next = seq.wrapping_add(data.len() as u32);
        self.tcp_segment(at, dst, src, 0x10, ack, next, &[]);
    }

    /// One H.248 message in an SCTP DATA chunk (PPID 7, unordered flag clear, B and E set).
    pub fn sctp_message(
        &mut self,
        at: SystemTime,
        src: SocketAddr,
        dst: SocketAddr,
        stream: u16,
        msg: &[u8],
    ) {
        let tsn = self.sctp_tsn.entry((src, dst)).or_insert(1);
        let this_tsn = *tsn;
        *tsn = tsn.wrapping_add(1);
        let chunk_len = 16 + msg.len();
        let mut s = Vec::with_capacity(12 + chunk_len + 3);
        s.extend_from_slice(&src.port().to_be_bytes());
        s.extend_from_slice(&dst.port().to_be_bytes());
        s.extend_from_slice(&0x1a2b_3c4du32.to_be_bytes()); // verification tag
        s.extend_from_slice(&[0, 0, 0, 0]);
        s.extend_from_slice(&[0, 0x03]);
        s.extend_from_slice(&(chunk_len as u16).to_be_bytes());
        s.extend_from_slice(&this_tsn.to_be_bytes());
        s.extend_from_slice(&stream.to_be_bytes());
        s.extend_from_slice(&((this_tsn.wrapping_sub(1)) as u16).to_be_bytes());
        s.extend_from_slice(&iq_link::transport::H248_SCTP_PPID.to_be_bytes());
        s.extend_from_slice(msg);
        while s.len() % 4 != 0 {
            s.push(0);
        }
        let c = crc32c(&s);
        // CRC32c is written in little-endian byte order (RFC 9260 Appendix A)
        s[8..12].copy_from_slice(&c.to_le_bytes());
        self.frame(at, src, dst, PROTO_SCTP, &s);
    }

    /// Write one record; `iq_port` maps the ALG side's Iq port to the one given (2944, so that
    /// Wireshark dissects H.248 without "Decode As").
    pub fn record(&mut self, r: &Record, map_port: &dyn Fn(SocketAddr) -> SocketAddr) {
        match &r.what {
            Seen::Udp { src, dst, data } => self.udp(r.at, *src, *dst, data),
            Seen::Iq {
                kind,
                src,
                dst,
                stream,
                data,
            } => {
                let (s, d) = (map_port(*src), map_port(*dst));
                match kind {
                    TransportKind::Tcp => self.tcp_message(r.at, s, d, data),
                    TransportKind::Udp => self.udp(r.at, s, d, data),
                    TransportKind::Sctp => self.sctp_message(r.at, s, d, *stream, data),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_verify() {
        // a header with its checksum filled in sums to 0 (RFC 1071)
        let mut w = PcapWriter::new();
        let a: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:6000".parse().unwrap();
        w.udp(UNIX_EPOCH, a, b, b"hello");
        let ip = &w.buf[24 + 16..];
        assert_eq!(checksum(&[&ip[..20]]), 0);
        let udp = &ip[20..];
        assert_eq!(
            checksum(&[&pseudo(v4(a), v4(b), PROTO_UDP, udp.len()), udp]),
            0
        );
        // RFC 3720 B.4 CRC32c test vector: 32 zero bytes
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
    }
}
