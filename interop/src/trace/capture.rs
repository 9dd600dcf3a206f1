//! Capture files (pcap, pcapng) down to H.248 payloads: link layer, IPv4/IPv6, UDP, TCP with
//! TPKT (RFC 1006) reassembly, SCTP DATA chunks (bundling, fragmentation by B/E flags and TSN).
//!
//! Written here rather than with a crate: the two container formats are a few dozen lines each,
//! and no small crate covers the part that matters (TCP/TPKT and SCTP reassembly with a frame
//! number on every error).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{TraceError, Transport};

/// One captured packet.
#[derive(Debug, Clone)]
pub struct Frame {
    /// 1-based, as Wireshark numbers frames.
    pub number: u32,
    /// Seconds since the epoch.
    pub time: f64,
    /// LINKTYPE_* of the interface.
    pub linktype: u32,
    /// Captured octets.
    pub data: Vec<u8>,
}

/// One reassembled H.248 payload.
#[derive(Debug, Clone)]
pub struct Payload {
    /// Frame in which the payload was completed.
    pub frame: u32,
    /// Its capture time.
    pub time: f64,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Transport.
    pub transport: Transport,
    /// The message octets.
    pub data: Vec<u8>,
}

fn u16_at(d: &[u8], at: usize, le: bool) -> Option<u16> {
    let b: [u8; 2] = d.get(at..at + 2)?.try_into().ok()?;
    Some(if le {
        u16::from_le_bytes(b)
    } else {
        u16::from_be_bytes(b)
    })
}

fn u32_at(d: &[u8], at: usize, le: bool) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}

/// Splits a pcap or pcapng file into frames. A damaged file yields the frames before the damage
/// and an error naming the frame number where reading stopped.
pub fn frames(file: &[u8]) -> Result<(Vec<Frame>, Vec<TraceError>), String> {
    let magic = u32_at(file, 0, false).ok_or("file too short for a capture header")?;
    match magic {
        0x0A0D_0D0A => Ok(pcapng(file)),
        0xa1b2_c3d4 | 0xa1b2_3c4d | 0xd4c3_b2a1 | 0x4d3c_b2a1 => Ok(pcap(file)),
        _ => Err(format!("not a pcap or pcapng file (magic {magic:08x})")),
    }
}

fn pcap(file: &[u8]) -> (Vec<Frame>, Vec<TraceError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let le = matches!(u32_at(file, 0, false), Some(0xd4c3_b2a1 | 0x4d3c_b2a1));
    let nanos = matches!(u32_at(file, 0, le), Some(0xa1b2_3c4d));
    let Some(linktype) = u32_at(file, 20, le) else {
        errors.push(TraceError::new(0, "pcap header truncated"));
        return (out, errors);
    };
    let linktype = linktype & 0x0fff_ffff;
    let mut at = 24;
    let mut number = 0u32;
    while at < file.len() {
        number += 1;
        let hdr = (
            u32_at(file, at, le),
            u32_at(file, at + 4, le),
            u32_at(file, at + 8, le),
        );
        let (Some(sec), Some(frac), Some(incl)) = hdr else {
            errors.push(TraceError::new(number, "record header truncated"));
            break;
        };
        let start = at + 16;
        let Some(data) = file.get(start..start.saturating_add(incl as usize)) else {
            errors.push(TraceError::new(
                number,
                format!("record truncated: {incl} octets announced"),
            ));
            break;
        };
        let div = if nanos { 1e9 } else { 1e6 };
        out.push(Frame {
            number,
            time: f64::from(sec) + f64::from(frac) / div,
            linktype,
            data: data.to_vec(),
        });
        at = start + incl as usize;
    }
    (out, errors)
}

struct Iface {
    linktype: u32,
    /// Timestamp units per second.
    units: f64,
}

fn pcapng(file: &[u8]) -> (Vec<Frame>, Vec<TraceError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut le = true;
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut at = 0usize;
    let mut number = 0u32;
    while at < file.len() {
        let Some(btype) = u32_at(file, at, le) else {
            errors.push(TraceError::new(number + 1, "block header truncated"));
            break;
        };
        if btype == 0x0A0D_0D0A {
            // Section header: its byte-order magic decides the endianness of the section.
            match u32_at(file, at + 8, true) {
                Some(0x1A2B_3C4D) => le = true,
                Some(0x4D3C_2B1A) => le = false,
                _ => {
                    errors.push(TraceError::new(number + 1, "bad pcapng byte-order magic"));
                    break;
                }
            }
            ifaces.clear();
        }
        let Some(blen) = u32_at(file, at + 4, le).map(|l| l as usize) else {
            errors.push(TraceError::new(number + 1, "block header truncated"));
            break;
        };
        if blen < 12 || blen % 4 != 0 || at.saturating_add(blen) > file.len() {
            errors.push(TraceError::new(
                number + 1,
                format!("pcapng block of type {btype:#x} has a bad length {blen}"),
            ));
            break;
        }
        let body = &file[at + 8..at + blen - 4];
        match btype {
            1 => {
                let linktype = u32::from(u16_at(body, 0, le).unwrap_or(0));
                let mut units = 1e6;
                // Options after linktype(2) reserved(2) snaplen(4).
                let mut o = 8;
                while let (Some(code), Some(len)) = (u16_at(body, o, le), u16_at(body, o + 2, le)) {
                    if code == 0 {
                        break;
                    }
                    if code == 9 {
                        if let Some(&r) = body.get(o + 4) {
                            let exp = i32::from(r & 0x7f);
                            units = if r & 0x80 != 0 {
                                2f64.powi(exp)
                            } else {
                                10f64.powi(exp)
                            };
                        }
                    }
                    o += 4 + usize::from(len).div_ceil(4) * 4;
                }
                ifaces.push(Iface { linktype, units });
            }
            2 | 3 | 6 => {
                number += 1;
                let (iface, ts, data) = match btype {
                    6 => {
                        let cap = u32_at(body, 12, le).unwrap_or(u32::MAX) as usize;
                        (
                            u32_at(body, 0, le),
                            u32_at(body, 4, le)
                                .zip(u32_at(body, 8, le))
                                .map(|(h, l)| (u64::from(h) << 32) | u64::from(l)),
                            body.get(20..20usize.saturating_add(cap)),
                        )
                    }
                    2 => {
                        let cap = u32_at(body, 12, le).unwrap_or(u32::MAX) as usize;
                        (
                            u16_at(body, 0, le).map(u32::from),
                            u32_at(body, 4, le)
                                .zip(u32_at(body, 8, le))
                                .map(|(h, l)| (u64::from(h) << 32) | u64::from(l)),
                            body.get(20..20usize.saturating_add(cap)),
                        )
                    }
                    _ => {
                        let orig = u32_at(body, 0, le).unwrap_or(0) as usize;
                        let avail = body.len().saturating_sub(4);
                        (Some(0), Some(0), body.get(4..4 + orig.min(avail)))
                    }
                };
                let iface = iface.and_then(|i| ifaces.get(i as usize));
                match (iface, ts, data) {
                    (Some(i), Some(ts), Some(d)) => out.push(Frame {
                        number,
                        time: ts as f64 / i.units,
                        linktype: i.linktype,
                        data: d.to_vec(),
                    }),
                    (None, _, _) => errors.push(TraceError::new(
                        number,
                        "packet block names an interface that was not described",
                    )),
                    _ => errors.push(TraceError::new(number, "packet block truncated")),
                }
            }
            _ => {}
        }
        at += blen;
    }
    (out, errors)
}

/// Which packets carry H.248.
#[derive(Debug, Clone)]
pub struct Filter {
    /// UDP, TCP and SCTP ports (either end).
    pub ports: Vec<u16>,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            ports: vec![2944, 2945],
        }
    }
}

#[derive(Default)]
struct TcpFlow {
    next: Option<u32>,
    pending: BTreeMap<u32, (u32, Vec<u8>)>,
    buf: Vec<u8>,
    last_frame: u32,
    last_time: f64,
    broken: bool,
}

struct Frag {
    flags: u8,
    frame: u32,
    time: f64,
    data: Vec<u8>,
}

#[derive(Default)]
struct SctpFlow {
    frags: BTreeMap<u32, Frag>,
    seen: HashSet<u32>,
}

type Flow = (SocketAddr, SocketAddr);

/// Extracts H.248 payloads from frames, in the order they complete.
#[derive(Default)]
pub struct Extractor {
    filter: Filter,
    tcp: HashMap<Flow, TcpFlow>,
    sctp: HashMap<Flow, SctpFlow>,
    /// What came out.
    pub payloads: Vec<Payload>,
    /// What could not be read.
    pub errors: Vec<TraceError>,
}

impl Extractor {
    /// With the given filter.
    pub fn new(filter: Filter) -> Self {
        Extractor {
            filter,
            ..Extractor::default()
        }
    }

    fn ours(&self, a: u16, b: u16) -> bool {
        self.filter.ports.contains(&a) || self.filter.ports.contains(&b)
    }

    fn err(&mut self, frame: u32, reason: impl Into<String>) {
        self.errors.push(TraceError::new(frame, reason));
    }

    /// One frame.
    pub fn frame(&mut self, f: &Frame) {
        let d = &f.data[..];
        let ip = match f.linktype {
            // Ethernet, with 802.1Q tags skipped.
            1 => {
                let mut at = 12;
                loop {
                    match u16_at(d, at, false) {
                        Some(0x8100 | 0x88a8) => at += 4,
                        Some(0x0800 | 0x86dd) => break d.get(at + 2..),
                        Some(_) => return,
                        None => break None,
                    }
                }
            }
            // Raw IP, IPv4, IPv6.
            101 | 12 | 14 | 228 | 229 => Some(d),
            // BSD loopback: 4-octet address family.
            0 | 109 => d.get(4..),
            // Linux cooked v1: protocol at 14.
            113 => match u16_at(d, 14, false) {
                Some(0x0800 | 0x86dd) => d.get(16..),
                Some(_) => return,
                None => None,
            },
            // Linux cooked v2: protocol at 0.
            276 => match u16_at(d, 0, false) {
                Some(0x0800 | 0x86dd) => d.get(20..),
                Some(_) => return,
                None => None,
            },
            other => {
                self.err(f.number, format!("unsupported link type {other}"));
                return;
            }
        };
        let Some(ip) = ip else {
            self.err(f.number, "link-layer header truncated");
            return;
        };
        self.ip(f, ip);
    }

    fn ip(&mut self, f: &Frame, ip: &[u8]) {
        let Some(&v) = ip.first() else {
            self.err(f.number, "empty IP packet");
            return;
        };
        let (src, dst, proto, payload): (IpAddr, IpAddr, u8, &[u8]) = match v >> 4 {
            4 => {
                let ihl = usize::from(v & 0x0f) * 4;
                let total = u16_at(ip, 2, false).map_or(0, usize::from);
                if ihl < 20 || ip.len() < ihl || total < ihl {
                    self.err(f.number, "IPv4 header truncated");
                    return;
                }
                let frag = u16_at(ip, 6, false).unwrap_or(0);
                let proto = ip[9];
                let s = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
                let t = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
                if frag & 0x3fff != 0 {
                    if matches!(proto, 6 | 17 | 132) {
                        self.err(f.number, "fragmented IPv4 packet (not reassembled)");
                    }
                    return;
                }
                let end = total.min(ip.len());
                (s.into(), t.into(), proto, &ip[ihl..end])
            }
            6 => {
                if ip.len() < 40 {
                    self.err(f.number, "IPv6 header truncated");
                    return;
                }
                let plen = u16_at(ip, 4, false).map_or(0, usize::from);
                let mut next = ip[6];
                let s: [u8; 16] = ip[8..24].try_into().unwrap_or([0; 16]);
                let t: [u8; 16] = ip[24..40].try_into().unwrap_or([0; 16]);
                let end = (40 + plen).min(ip.len());
                let mut at = 40;
                while matches!(next, 0 | 43 | 60) {
                    let (Some(&n), Some(&l)) = (ip.get(at), ip.get(at + 1)) else {
                        self.err(f.number, "IPv6 extension header truncated");
                        return;
                    };
                    next = n;
                    at += (usize::from(l) + 1) * 8;
                }
                if next == 44 {
                    self.err(f.number, "fragmented IPv6 packet (not reassembled)");
                    return;
                }
                let Some(p) = ip.get(at..end) else {
                    self.err(f.number, "IPv6 packet truncated");
                    return;
                };
                (Ipv6Addr::from(s).into(), Ipv6Addr::from(t).into(), next, p)
            }
            _ => {
                self.err(f.number, format!("IP version {} unknown", v >> 4));
                return;
            }
        };
        match proto {
            17 => self.udp(f, src, dst, payload),
            6 => self.tcp(f, src, dst, payload),
            132 => self.sctp(f, src, dst, payload),
            _ => {}
        }
    }

    fn udp(&mut self, f: &Frame, src: IpAddr, dst: IpAddr, d: &[u8]) {
        let (Some(sp), Some(dp), Some(len)) = (
            u16_at(d, 0, false),
            u16_at(d, 2, false),
            u16_at(d, 4, false),
        ) else {
            self.err(f.number, "UDP header truncated");
            return;
        };
        if !self.ours(sp, dp) {
            return;
        }
        let end = usize::from(len).clamp(8, d.len().max(8));
        let Some(data) = d.get(8..end) else {
            self.err(f.number, "UDP datagram truncated");
            return;
        };
        self.payloads.push(Payload {
            frame: f.number,
            time: f.time,
            src: SocketAddr::new(src, sp),
            dst: SocketAddr::new(dst, dp),
            transport: Transport::Udp,
            data: data.to_vec(),
        });
    }

    fn tcp(&mut self, f: &Frame, src: IpAddr, dst: IpAddr, d: &[u8]) {
        let (Some(sp), Some(dp), Some(seq)) = (
            u16_at(d, 0, false),
            u16_at(d, 2, false),
            u32_at(d, 4, false),
        ) else {
            self.err(f.number, "TCP header truncated");
            return;
        };
        if !self.ours(sp, dp) {
            return;
        }
        let off = d.get(12).map_or(0, |o| usize::from(o >> 4) * 4);
        let flags = d.get(13).copied().unwrap_or(0);
        let Some(data) = d.get(off..).filter(|_| off >= 20) else {
            self.err(f.number, "TCP header truncated");
            return;
        };
        let key = (SocketAddr::new(src, sp), SocketAddr::new(dst, dp));
        let flow = self.tcp.entry(key).or_default();
        if flags & 0x02 != 0 {
            // SYN: the data starts one past its sequence number.
            *flow = TcpFlow {
                next: Some(seq.wrapping_add(1)),
                ..TcpFlow::default()
            };
        }
        if data.is_empty() || flow.broken {
            return;
        }
        let seq = if flags & 0x02 != 0 {
            seq.wrapping_add(1)
        } else {
            seq
        };
        let next = *flow.next.get_or_insert(seq);
        flow.last_frame = f.number;
        flow.last_time = f.time;
        // Out of order: keep for later. Old: trim the retransmitted part.
        let ahead = seq.wrapping_sub(next) as i32;
        if ahead > 0 {
            flow.pending.insert(seq, (f.number, data.to_vec()));
            return;
        }
        let skip = ahead.unsigned_abs() as usize;
        if skip < data.len() {
            flow.buf.extend_from_slice(&data[skip..]);
            flow.next = Some(next.wrapping_add((data.len() - skip) as u32));
        }
        // Drain what is now in order.
        while let Some(n) = flow.next {
            let Some((&s, _)) = flow
                .pending
                .iter()
                .find(|(&s, _)| (s.wrapping_sub(n) as i32) <= 0)
            else {
                break;
            };
            let Some((_, d)) = flow.pending.remove(&s) else {
                break;
            };
            let skip = n.wrapping_sub(s) as usize;
            if skip < d.len() {
                flow.buf.extend_from_slice(&d[skip..]);
                flow.next = Some(n.wrapping_add((d.len() - skip) as u32));
            }
        }
        // TPKT framing: version 3, reserved, 16-bit length including the 4-octet header.
        loop {
            let flow = match self.tcp.get_mut(&key) {
                Some(fl) => fl,
                None => return,
            };
            if flow.buf.len() < 4 {
                return;
            }
            if flow.buf[0] != 3 {
                let first = flow.buf[0];
                flow.broken = true;
                flow.buf.clear();
                self.err(
                    f.number,
                    format!("TCP {} -> {}: not a TPKT header (first octet {:#04x}); rest of this direction skipped", key.0, key.1, first),
                );
                return;
            }
            let len = usize::from(u16::from_be_bytes([flow.buf[2], flow.buf[3]]));
            if len < 4 {
                flow.broken = true;
                flow.buf.clear();
                self.err(f.number, format!("TPKT length {len} below its header size"));
                return;
            }
            if flow.buf.len() < len {
                return;
            }
            let msg: Vec<u8> = flow.buf.drain(..len).skip(4).collect();
            self.payloads.push(Payload {
                frame: f.number,
                time: f.time,
                src: key.0,
                dst: key.1,
                transport: Transport::Tcp,
                data: msg,
            });
        }
    }

    fn sctp(&mut self, f: &Frame, src: IpAddr, dst: IpAddr, d: &[u8]) {
        let (Some(sp), Some(dp)) = (u16_at(d, 0, false), u16_at(d, 2, false)) else {
            self.err(f.number, "SCTP header truncated");
            return;
        };
        let key = (SocketAddr::new(src, sp), SocketAddr::new(dst, dp));
        let ports = self.ours(sp, dp);
        let mut at = 12;
        while at + 4 <= d.len() {
            let ctype = d[at];
            let flags = d[at + 1];
            let clen = u16_at(d, at + 2, false).map_or(0, usize::from);
            if clen < 4 || at + clen > d.len() {
                self.err(
                    f.number,
                    format!("SCTP chunk of type {ctype} has a bad length {clen}"),
                );
                return;
            }
            let chunk = &d[at..at + clen];
            at += clen.div_ceil(4) * 4;
            if ctype != 0 {
                continue;
            }
            let (Some(tsn), Some(ppid)) = (u32_at(chunk, 4, false), u32_at(chunk, 12, false))
            else {
                self.err(f.number, "SCTP DATA chunk truncated");
                continue;
            };
            if ppid != 7 && !ports {
                continue;
            }
            let data = chunk.get(16..).unwrap_or_default().to_vec();
            let flow = self.sctp.entry(key).or_default();
            if !flow.seen.insert(tsn) {
                continue; // retransmission
            }
            flow.frags.insert(
                tsn,
                Frag {
                    flags,
                    frame: f.number,
                    time: f.time,
                    data,
                },
            );
            self.sctp_assemble(key);
        }
    }

    fn sctp_assemble(&mut self, key: Flow) {
        let Some(flow) = self.sctp.get_mut(&key) else {
            return;
        };
        loop {
            // A beginning fragment whose run up to an end fragment is complete.
            let mut found = None;
            for (&tsn, fr) in &flow.frags {
                if fr.flags & 0x02 == 0 {
                    continue;
                }
                let mut t = tsn;
                loop {
                    match flow.frags.get(&t) {
                        Some(x) if x.flags & 0x01 != 0 => {
                            found = Some((tsn, t));
                            break;
                        }
                        Some(x) if t != tsn && x.flags & 0x02 != 0 => break,
                        Some(_) => t = t.wrapping_add(1),
                        None => break,
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            let Some((first, last)) = found else {
                return;
            };
            let mut data = Vec::new();
            let mut frame = 0;
            let mut time = 0.0;
            let mut t = first;
            loop {
                if let Some(fr) = flow.frags.remove(&t) {
                    data.extend_from_slice(&fr.data);
                    frame = fr.frame;
                    time = fr.time;
                }
                if t == last {
                    break;
                }
                t = t.wrapping_add(1);
            }
            self.payloads.push(Payload {
                frame,
                time,
                src: key.0,
                dst: key.1,
                transport: Transport::Sctp,
                data,
            });
        }
    }

    /// End of capture: whatever is left incomplete is an error.
    pub fn finish(&mut self) {
        let mut errs = Vec::new();
        for ((s, d), fl) in &self.tcp {
            if !fl.broken && (!fl.buf.is_empty() || !fl.pending.is_empty()) {
                errs.push(TraceError::new(
                    fl.last_frame,
                    format!(
                        "TCP {s} -> {d}: {} octet(s) of an incomplete TPKT message at the end of the capture{}",
                        fl.buf.len(),
                        if fl.pending.is_empty() { "" } else { " (and segments after a gap)" }
                    ),
                ));
            }
        }
        for ((s, d), fl) in &self.sctp {
            if let Some(fr) = fl.frags.values().next() {
                errs.push(TraceError::new(
                    fr.frame,
                    format!(
                        "SCTP {s} -> {d}: {} fragment(s) of an incomplete user message at the end of the capture",
                        fl.frags.len()
                    ),
                ));
            }
        }
        errs.sort_by_key(|e| e.frame);
        self.errors.extend(errs);
    }
}
