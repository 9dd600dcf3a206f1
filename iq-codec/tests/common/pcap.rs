//! pcap writing and tshark PDML reading shared by the Wireshark tests (`tshark.rs` for the
//! text encoding, `tshark_ber.rs` for BER).
//!
//! Captures are classic pcap, LINKTYPE_RAW (every packet starts with its IPv4 header), one
//! packet per frame from the MG (192.0.2.1) to the MGC (192.0.2.2). UDP datagrams carry no
//! checksum; SCTP packets carry a correct CRC32c (RFC 9260 Appendix A).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const MG_ADDR: [u8; 4] = [192, 0, 2, 1];
pub const MGC_ADDR: [u8; 4] = [192, 0, 2, 2];
/// pcap LINKTYPE_RAW: the packet starts with the IPv4 header.
pub const LINKTYPE_RAW: u32 = 101;
/// `_ws.expert.severity` of PI_ERROR.
pub const SEVERITY_ERROR: &str = "8388608";
/// `_ws.expert.group` of PI_MALFORMED.
pub const GROUP_MALFORMED: &str = "117440512";

/// The Internet checksum (RFC 1071) over the concatenation of `parts`.
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// CRC32c (Castagnoli, reflected polynomial 0x82F63B78), as SCTP uses it (RFC 9260
/// Appendix A): initial value all ones, final complement.
pub fn crc32c(data: &[u8]) -> u32 {
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

pub fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, ident: u16, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).expect("message too large for one IPv4 packet");
    let mut h = Vec::with_capacity(20 + payload.len());
    h.extend_from_slice(&[0x45, 0]);
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&ident.to_be_bytes());
    h.extend_from_slice(&[0x40, 0]); // DF, offset 0
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = checksum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// A pcap file being built in memory.
pub struct Pcap {
    pub buf: Vec<u8>,
    pub frames: u32,
    ip_ident: u16,
}

impl Default for Pcap {
    fn default() -> Self {
        Self::new()
    }
}

impl Pcap {
    pub fn new() -> Self {
        let mut buf = Vec::new();
        buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        buf.extend_from_slice(&2u16.to_le_bytes());
        buf.extend_from_slice(&4u16.to_le_bytes());
        buf.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        buf.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        buf.extend_from_slice(&262_144u32.to_le_bytes()); // snaplen
        buf.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        Pcap {
            buf,
            frames: 0,
            ip_ident: 0,
        }
    }

    /// Appends one IPv4 packet; returns its frame number (1-based, as tshark counts).
    pub fn ip_packet(&mut self, src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> u32 {
        self.ip_ident = self.ip_ident.wrapping_add(1);
        let pkt = ipv4(src, dst, proto, self.ip_ident, payload);
        self.frames += 1;
        let len = u32::try_from(pkt.len()).unwrap();
        self.buf
            .extend_from_slice(&(1_700_000_000 + self.frames).to_le_bytes());
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&pkt);
        self.frames
    }

    /// One UDP datagram MG:`port` -> MGC:`port` carrying `msg` (checksum 0, i.e. none); returns
    /// its frame number.
    pub fn udp(&mut self, port: u16, msg: &[u8]) -> u32 {
        let len = u16::try_from(8 + msg.len()).expect("message too large for UDP");
        let mut d = Vec::with_capacity(8 + msg.len());
        d.extend_from_slice(&port.to_be_bytes());
        d.extend_from_slice(&port.to_be_bytes());
        d.extend_from_slice(&len.to_be_bytes());
        d.extend_from_slice(&[0, 0]); // no checksum
        d.extend_from_slice(msg);
        self.ip_packet(MG_ADDR, MGC_ADDR, 17, &d)
    }

    pub fn write(&self, path: &Path) {
        fs::write(path, &self.buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// One direction of an SCTP association MG:`port` -> MGC:`port`, stream 0: every message is one
/// SCTP packet with one DATA chunk (unfragmented, ordered), TSN and stream sequence number
/// counting up. No INIT / INIT-ACK / COOKIE handshake is written: tshark dissects DATA chunks
/// without one.
pub struct SctpSender {
    pub port: u16,
    pub verification_tag: u32,
    tsn: u32,
    ssn: u16,
}

impl SctpSender {
    pub fn new(port: u16) -> Self {
        SctpSender {
            port,
            verification_tag: 0x1a2b_3c4d,
            tsn: 1_000,
            ssn: 0,
        }
    }

    /// Appends one SCTP packet carrying `msg` in a DATA chunk with payload protocol identifier
    /// `ppid`; returns its frame number.
    pub fn data(&mut self, p: &mut Pcap, ppid: u32, msg: &[u8]) -> u32 {
        let chunk_len = u16::try_from(16 + msg.len()).expect("message too large for SCTP");
        let mut s = Vec::with_capacity(12 + 16 + msg.len() + 3);
        s.extend_from_slice(&self.port.to_be_bytes());
        s.extend_from_slice(&self.port.to_be_bytes());
        s.extend_from_slice(&self.verification_tag.to_be_bytes());
        s.extend_from_slice(&[0, 0, 0, 0]); // checksum, filled in below
        s.extend_from_slice(&[0, 0x03]); // DATA, flags B|E (one complete, ordered message)
        s.extend_from_slice(&chunk_len.to_be_bytes());
        s.extend_from_slice(&self.tsn.to_be_bytes());
        s.extend_from_slice(&0u16.to_be_bytes()); // stream identifier
        s.extend_from_slice(&self.ssn.to_be_bytes());
        s.extend_from_slice(&ppid.to_be_bytes());
        s.extend_from_slice(msg);
        while s.len() % 4 != 0 {
            s.push(0); // chunk padding, not counted in the chunk length
        }
        // The CRC32c goes into the packet in the byte order of its bit-reflected computation
        // (RFC 9260 Appendix A: least significant byte first).
        let c = crc32c(&s);
        s[8..12].copy_from_slice(&c.to_le_bytes());
        self.tsn = self.tsn.wrapping_add(1);
        self.ssn = self.ssn.wrapping_add(1);
        p.ip_packet(MG_ADDR, MGC_ADDR, 132, &s)
    }
}

// ------------------------------------------------------------------------------------------
// PDML

/// Escapes line ends and tabs, so that what tshark shows fits on one line (tshark's PDML has
/// mostly done so already, writing `\n` for a line end).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

pub fn xml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let ent = &rest[1..end];
        let ch = match ent {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                if let Some(hex) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                } else if let Some(dec) = ent.strip_prefix('#') {
                    dec.parse().ok().and_then(char::from_u32)
                } else {
                    None
                }
            }
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Value of attribute `attr` (e.g. ` show="`) in one PDML line.
pub fn attr(line: &str, attr: &str) -> Option<String> {
    let start = line.find(attr)? + attr.len();
    let len = line[start..].find('"')?;
    Some(xml_unescape(&line[start..start + len]))
}

/// Collects a frame's flags from its PDML lines: expert infos of severity Error (this includes
/// "Malformed Packet (Exception occurred)"), expert infos of group Malformed whatever their
/// severity, and any other `_ws.malformed` entry, in tshark's words (`_ws.expert.message`).
#[derive(Debug, Default)]
pub struct ExpertFlags {
    last_message: String,
    last_severity: String,
    malformed: Option<String>,
    pub errors: Vec<String>,
}

impl ExpertFlags {
    /// Looks at one field (`name`, `show`) of the frame; `line` is its PDML line.
    pub fn field(&mut self, name: &str, show: &str, line: &str) {
        match name {
            "_ws.expert.message" => self.last_message = show.to_string(),
            "_ws.expert.severity" => self.last_severity = show.to_string(),
            "_ws.expert.group" => {
                let message = escape(&self.last_message);
                if (self.last_severity == SEVERITY_ERROR || show == GROUP_MALFORMED)
                    && !self.errors.contains(&message)
                {
                    self.errors.push(message);
                }
            }
            "_ws.malformed" if line.starts_with("<proto ") => {
                let what = attr(line, " showname=\"").unwrap_or_else(|| "Malformed Packet".into());
                self.malformed.get_or_insert(what);
            }
            _ => {}
        }
    }

    /// The frame's flags (a bare `_ws.malformed` counts only if nothing else was flagged).
    pub fn finish(mut self) -> Vec<String> {
        if let Some(m) = self.malformed.take() {
            if self.errors.is_empty() {
                self.errors.push(m);
            }
        }
        self.errors
    }
}

// ------------------------------------------------------------------------------------------
// tools

/// Does `tool arg` start at all?
pub fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Starts `tshark -n -r PCAP [OPTIONS] -T pdml > PDML 2> PDML.stderr` with a private (empty)
/// configuration directory, so that no user preference changes what tshark shows.
pub fn spawn_tshark(pcap: &Path, pdml: &Path, config_dir: &Path, options: &[&str]) -> Child {
    let out = fs::File::create(pdml).unwrap();
    let err = fs::File::create(pdml.with_extension("stderr")).unwrap();
    Command::new("tshark")
        .env("WIRESHARK_CONFIG_DIR", config_dir)
        .arg("-n")
        .arg("-r")
        .arg(pcap)
        .args(options)
        .args(["-T", "pdml"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("cannot start tshark")
}

/// Waits for a tshark started by [`spawn_tshark`] and returns its PDML; panics with its stderr
/// if it failed.
pub fn finish_tshark(child: Child, pdml: &Path) -> String {
    let status = child.wait_with_output().unwrap().status;
    let text = fs::read_to_string(pdml).unwrap();
    assert!(
        status.success(),
        "tshark failed on {}: {}",
        pdml.display(),
        fs::read_to_string(pdml.with_extension("stderr")).unwrap_or_default()
    );
    text
}

/// `bytes` as lower-case hex, `n` octets at most (then `...`).
pub fn hex(bytes: &[u8], n: usize) -> String {
    let mut s = String::with_capacity(2 * bytes.len().min(n) + 3);
    for b in bytes.iter().take(n) {
        let _ = write!(s, "{b:02x}");
    }
    if bytes.len() > n {
        s.push_str("...");
    }
    s
}

/// One transaction as tshark shows it (or as we expect it to show it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub kind: String,
    pub id: Option<u32>,
    pub commands: Vec<String>,
}

/// `Kind ID [Command, ...], ...` (tshark's escapes kept), or `nothing`: the form the known-limits
/// files quote.
pub fn format_view(view: &[Shown]) -> String {
    if view.is_empty() {
        return "nothing".to_string();
    }
    let mut s = String::new();
    for (i, t) in view.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&t.kind);
        if let Some(id) = t.id {
            let _ = write!(s, " {id}");
        }
        let commands: Vec<String> = t.commands.iter().map(|c| escape(c)).collect();
        let _ = write!(s, " [{}]", commands.join(", "));
    }
    s
}
