//! Typed forms of the structural SDP lines (`o=`, `c=`, `m=`, `b=`) and the H.248 CHOOSE
//! wildcard `$`.

use super::SdpError;
use std::fmt;
use std::net::IpAddr;

/// RFC 8866 `token-char`: printable US-ASCII except space and `"(),/:;<=>?@[\]{}`... (the
/// separators).
pub(crate) const fn is_token_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x27' | '\x2A'..='\x2B' | '\x2D'..='\x2E' | '0'..='9' | 'A'..='Z' | '\x5E'..='\x7E')
}

/// The white-space separated fields of `s` when there are exactly `N`; otherwise how many
/// there are. No allocation: the `o=` and `c=` lines of every SDP read or built come here.
fn fields<const N: usize>(s: &str) -> Result<[&str; N], usize> {
    let mut out = [""; N];
    let mut n = 0;
    for f in s.split_ascii_whitespace() {
        if let Some(slot) = out.get_mut(n) {
            *slot = f;
        }
        n += 1;
    }
    if n == N {
        Ok(out)
    } else {
        Err(n)
    }
}

/// Non-empty and made of [`is_token_char`] only.
pub(crate) fn is_token(s: &str) -> bool {
    is_token_bytes(s.as_bytes())
}

/// [`is_token`] on bytes: every token char is ASCII, so testing bytes is the same test (a byte
/// of a multi-byte character is never one), without decoding characters.
fn is_token_bytes(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| TOKEN[usize::from(b)])
}

/// [`is_token_char`] for every byte, as a table: one load per byte of every token checked.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = is_token_char((b as u8) as char);
        b += 1;
    }
    t
};

/// An m-line proto: tokens joined by `/`.
pub(crate) fn is_proto(s: &str) -> bool {
    s.as_bytes().split(|&b| b == b'/').all(is_token_bytes)
}

/// Non-empty and without white space or control characters.
pub(crate) fn is_word(s: &str) -> bool {
    if s.is_ascii() {
        // The same test for ASCII (nearly every SDP word) without decoding characters.
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
    } else {
        s.chars().all(|c| !c.is_whitespace() && !c.is_control())
    }
}

/// A value that H.248 lets the MGC leave to the MG: `$` (CHOOSE, "MG, fill this in") or a
/// concrete value. Used for addresses, ports, ICE credentials and fingerprints in Local/Remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Choosable<T> {
    /// `$`
    Choose,
    /// A concrete value.
    Value(T),
}

impl<T> Choosable<T> {
    /// The concrete value, if any.
    pub fn value(&self) -> Option<&T> {
        match self {
            Choosable::Choose => None,
            Choosable::Value(v) => Some(v),
        }
    }

    /// Is this `$`?
    pub fn is_choose(&self) -> bool {
        matches!(self, Choosable::Choose)
    }

    /// Map the concrete value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Choosable<U> {
        match self {
            Choosable::Choose => Choosable::Choose,
            Choosable::Value(v) => Choosable::Value(f(v)),
        }
    }

    /// Borrowed form.
    pub fn as_ref(&self) -> Choosable<&T> {
        match self {
            Choosable::Choose => Choosable::Choose,
            Choosable::Value(v) => Choosable::Value(v),
        }
    }
}

impl<T: fmt::Display> fmt::Display for Choosable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choosable::Choose => f.write_str("$"),
            Choosable::Value(v) => v.fmt(f),
        }
    }
}

impl<T> From<T> for Choosable<T> {
    fn from(v: T) -> Self {
        Choosable::Value(v)
    }
}

fn port(s: &str) -> Result<Choosable<u16>, String> {
    if s == "$" {
        return Ok(Choosable::Choose);
    }
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port '{s}' is neither a number 0..65535 nor $"));
    }
    s.parse::<u16>()
        .map(Choosable::Value)
        .map_err(|_| format!("port '{s}' is out of range 0..65535"))
}

/// `c=<nettype> <addrtype> <connection-address>` (e.g. `c=IN IP4 192.0.2.1`, or `c=IN IP4 $`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Connection {
    /// `IN`.
    pub nettype: String,
    /// `IP4` or `IP6`.
    pub addrtype: String,
    /// The address as written (may carry a multicast `/ttl[/n]` suffix, or be an FQDN), or `$`.
    pub address: Choosable<String>,
}

impl Connection {
    /// `IN IP4 <addr>` or `IN IP6 <addr>`.
    pub fn ip(addr: IpAddr) -> Self {
        Connection {
            nettype: "IN".into(),
            addrtype: if addr.is_ipv4() { "IP4" } else { "IP6" }.into(),
            address: Choosable::Value(addr.to_string()),
        }
    }

    /// `IN IP4 $` (or `IN IP6 $`): ask the MG to choose.
    pub fn choose(ipv6: bool) -> Self {
        Connection {
            nettype: "IN".into(),
            addrtype: if ipv6 { "IP6" } else { "IP4" }.into(),
            address: Choosable::Choose,
        }
    }

    /// Parse the value of a `c=` line.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("connection (c=)", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let [nettype, addrtype, address] = Self::check(s)?;
        Ok(Connection {
            nettype: nettype.into(),
            addrtype: addrtype.into(),
            address: if address == "$" {
                Choosable::Choose
            } else {
                Choosable::Value(address.into())
            },
        })
    }

    /// Check a `c=` value in place; its three fields.
    pub(crate) fn check(s: &str) -> Result<[&str; 3], String> {
        let [nettype, addrtype, address] = fields(s).map_err(|n| {
            format!("c= needs 3 fields '<nettype> <addrtype> <address>', found {n}")
        })?;
        if !is_token(nettype) || !is_token(addrtype) || !is_word(address) {
            return Err("c= fields must be tokens".into());
        }
        Ok([nettype, addrtype, address])
    }

    /// The address as an IP address, when it is one (a multicast `/ttl` suffix is ignored).
    pub fn ip_addr(&self) -> Option<IpAddr> {
        let a = self.address.value()?;
        let a = a.split('/').next().unwrap_or(a);
        a.parse().ok()
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.nettype)?;
        f.write_str(" ")?;
        f.write_str(&self.addrtype)?;
        f.write_str(" ")?;
        f.write_str(self.address.value().map_or("$", String::as_str))
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `-` when there is none.
    pub username: String,
    /// Session id (digits in RFC 8866; kept as written).
    pub session_id: String,
    /// Session version (digits in RFC 8866; kept as written).
    pub session_version: String,
    /// `IN`.
    pub nettype: String,
    /// `IP4` / `IP6`.
    pub addrtype: String,
    /// Address (or FQDN), as written.
    pub address: String,
}

impl Origin {
    /// Parse the value of an `o=` line.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("origin (o=)", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let [u, id, ver, nt, at, addr] = Self::check(s)?;
        Ok(Origin {
            username: u.into(),
            session_id: id.into(),
            session_version: ver.into(),
            nettype: nt.into(),
            addrtype: at.into(),
            address: addr.into(),
        })
    }
}

impl Origin {
    /// Check an `o=` value in place; its six fields.
    pub(crate) fn check(s: &str) -> Result<[&str; 6], String> {
        let f = fields::<6>(s).map_err(|n| {
            format!(
                "o= needs 6 fields '<username> <sess-id> <sess-version> <nettype> <addrtype> <address>', found {n}"
            )
        })?;
        if !f.iter().all(|x| is_word(x)) {
            return Err("o= fields must be visible characters".into());
        }
        Ok(f)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Plain writes: this line is built for every SDP the ALG sends.
        for (i, x) in [
            &self.username,
            &self.session_id,
            &self.session_version,
            &self.nettype,
            &self.addrtype,
            &self.address,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(x)?;
        }
        Ok(())
    }
}

/// `b=<bwtype>:<bandwidth>` (e.g. `b=AS:64`, `b=TIAS:64000`, `b=RS:0`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bandwidth {
    /// `AS`, `CT`, `TIAS`, `RS`, `RR`, ...
    pub bwtype: String,
    /// The number (kbit/s for AS/CT, bit/s for TIAS), or `$`.
    pub bandwidth: Choosable<u64>,
}

impl Bandwidth {
    /// Parse the value of a `b=` line.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("bandwidth (b=)", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let Some((t, v)) = s.split_once(':') else {
            return Err("b= needs '<bwtype>:<bandwidth>'".into());
        };
        if !is_token(t) {
            return Err(format!("b= bandwidth type '{t}' is not a token"));
        }
        let bandwidth = if v == "$" {
            Choosable::Choose
        } else if !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) {
            Choosable::Value(
                v.parse()
                    .map_err(|_| format!("b= bandwidth '{v}' is too large"))?,
            )
        } else {
            return Err(format!("b= bandwidth '{v}' is not a number"));
        };
        Ok(Bandwidth {
            bwtype: t.into(),
            bandwidth,
        })
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.bwtype, self.bandwidth)
    }
}

/// The transport protocol of an `m=` line.
///
/// Parsing ignores ASCII case; [`Display`](fmt::Display) writes the registered spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Proto {
    /// `RTP/AVP` (RFC 3551)
    RtpAvp,
    /// `RTP/AVPF` (RFC 4585)
    RtpAvpf,
    /// `RTP/SAVP` (RFC 3711; SDES keying)
    RtpSavp,
    /// `RTP/SAVPF` (RFC 5124)
    RtpSavpf,
    /// `UDP/TLS/RTP/SAVP` (RFC 5764, DTLS-SRTP)
    UdpTlsRtpSavp,
    /// `UDP/TLS/RTP/SAVPF` (RFC 5764, DTLS-SRTP, WebRTC)
    UdpTlsRtpSavpf,
    /// `TCP/TLS/RTP/SAVP` (RFC 7850)
    TcpTlsRtpSavp,
    /// `TCP/TLS/RTP/SAVPF` (RFC 7850)
    TcpTlsRtpSavpf,
    /// `UDP/DTLS/SCTP` (RFC 8841, WebRTC data channel)
    UdpDtlsSctp,
    /// `TCP/DTLS/SCTP` (RFC 8841)
    TcpDtlsSctp,
    /// `udptl` (T.38, RFC 4612)
    Udptl,
    /// `UDP/TLS/UDPTL` (T.38 over DTLS, RFC 7345)
    UdpTlsUdptl,
    /// `TCP/MSRP` (RFC 4975)
    TcpMsrp,
    /// `TCP/TLS/MSRP` (RFC 4975)
    TcpTlsMsrp,
    /// `udp`
    Udp,
    /// Anything else, as written.
    Other(String),
}

const PROTOS: &[(Proto, &str)] = &[
    (Proto::RtpAvp, "RTP/AVP"),
    (Proto::RtpAvpf, "RTP/AVPF"),
    (Proto::RtpSavp, "RTP/SAVP"),
    (Proto::RtpSavpf, "RTP/SAVPF"),
    (Proto::UdpTlsRtpSavp, "UDP/TLS/RTP/SAVP"),
    (Proto::UdpTlsRtpSavpf, "UDP/TLS/RTP/SAVPF"),
    (Proto::TcpTlsRtpSavp, "TCP/TLS/RTP/SAVP"),
    (Proto::TcpTlsRtpSavpf, "TCP/TLS/RTP/SAVPF"),
    (Proto::UdpDtlsSctp, "UDP/DTLS/SCTP"),
    (Proto::TcpDtlsSctp, "TCP/DTLS/SCTP"),
    (Proto::Udptl, "udptl"),
    (Proto::UdpTlsUdptl, "UDP/TLS/UDPTL"),
    (Proto::TcpMsrp, "TCP/MSRP"),
    (Proto::TcpTlsMsrp, "TCP/TLS/MSRP"),
    (Proto::Udp, "udp"),
];

impl Proto {
    /// Read a proto string (ASCII case ignored for the registered ones).
    pub fn parse(s: &str) -> Proto {
        PROTOS
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(s))
            .map(|(p, _)| p.clone())
            .unwrap_or_else(|| Proto::Other(s.to_string()))
    }

    /// The registered spelling (or the text of [`Proto::Other`]).
    pub fn as_str(&self) -> &str {
        match self {
            Proto::Other(s) => s,
            p => PROTOS
                .iter()
                .find(|(q, _)| q == p)
                .map(|(_, n)| *n)
                .unwrap_or(""),
        }
    }

    /// Plain RTP: `RTP/AVP` or `RTP/AVPF`.
    pub fn is_avp(&self) -> bool {
        matches!(self, Proto::RtpAvp | Proto::RtpAvpf)
    }

    /// SRTP with SDES keying (`a=crypto`): `RTP/SAVP` or `RTP/SAVPF`.
    pub fn is_sdes_srtp(&self) -> bool {
        matches!(self, Proto::RtpSavp | Proto::RtpSavpf)
    }

    /// DTLS-SRTP: `UDP/TLS/RTP/SAVP(F)` or `TCP/TLS/RTP/SAVP(F)`.
    pub fn is_dtls_srtp(&self) -> bool {
        matches!(
            self,
            Proto::UdpTlsRtpSavp
                | Proto::UdpTlsRtpSavpf
                | Proto::TcpTlsRtpSavp
                | Proto::TcpTlsRtpSavpf
        )
    }

    /// Any secure RTP profile (SAVP or SAVPF, any keying).
    pub fn is_srtp(&self) -> bool {
        self.is_sdes_srtp() || self.is_dtls_srtp()
    }

    /// Any RTP profile (AVP, AVPF, SAVP, SAVPF in any transport).
    pub fn is_rtp(&self) -> bool {
        self.is_avp() || self.is_srtp()
    }

    /// An RTCP-feedback profile (AVPF or SAVPF).
    pub fn is_feedback(&self) -> bool {
        matches!(
            self,
            Proto::RtpAvpf | Proto::RtpSavpf | Proto::UdpTlsRtpSavpf | Proto::TcpTlsRtpSavpf
        )
    }

    /// WebRTC data channel: `UDP/DTLS/SCTP` or `TCP/DTLS/SCTP`.
    pub fn is_sctp(&self) -> bool {
        matches!(self, Proto::UdpDtlsSctp | Proto::TcpDtlsSctp)
    }

    /// Uses (D)TLS with fingerprints and `a=setup`: DTLS-SRTP, DTLS-SCTP, `UDP/TLS/UDPTL`,
    /// `TCP/TLS/MSRP`.
    pub fn uses_fingerprint(&self) -> bool {
        self.is_dtls_srtp()
            || self.is_sctp()
            || matches!(self, Proto::UdpTlsUdptl | Proto::TcpTlsMsrp)
    }

    /// TS 23.334 5.11.2.4: the core-side (non-secure) protocol for an access-side secure one:
    /// `UDP/TLS/RTP/SAVP` and `RTP/SAVP` -> `RTP/AVP`, `UDP/TLS/RTP/SAVPF` and `RTP/SAVPF` ->
    /// `RTP/AVPF` (also the TCP/TLS forms), `UDP/TLS/UDPTL` -> `udptl`. `None` for anything
    /// else (already plain, or not mappable).
    pub fn to_core(&self) -> Option<Proto> {
        Some(match self {
            Proto::UdpTlsRtpSavp | Proto::TcpTlsRtpSavp | Proto::RtpSavp => Proto::RtpAvp,
            Proto::UdpTlsRtpSavpf | Proto::TcpTlsRtpSavpf | Proto::RtpSavpf => Proto::RtpAvpf,
            Proto::UdpTlsUdptl => Proto::Udptl,
            _ => return None,
        })
    }

    /// TS 23.334 5.11.2.4 / 6.2.10.5: the access-side DTLS-SRTP protocol for a core-side one:
    /// `RTP/AVP` -> `UDP/TLS/RTP/SAVP`, `RTP/AVPF` -> `UDP/TLS/RTP/SAVPF`, `udptl` ->
    /// `UDP/TLS/UDPTL`. `None` for anything else.
    pub fn to_dtls(&self) -> Option<Proto> {
        Some(match self {
            Proto::RtpAvp => Proto::UdpTlsRtpSavp,
            Proto::RtpAvpf => Proto::UdpTlsRtpSavpf,
            Proto::Udptl => Proto::UdpTlsUdptl,
            _ => return None,
        })
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Proto {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Proto::parse(s))
    }
}

/// The value of an `m=` line: `<media> <port>[/<count>] <proto> <fmt> ...`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaLine {
    /// `audio`, `video`, `application`, `image`, `text`, `message`, ...
    pub media: String,
    /// Port, or `$`.
    pub port: Choosable<u16>,
    /// `/<count>` after the port, if given.
    pub port_count: Option<u16>,
    /// Transport protocol.
    pub proto: Proto,
    /// Formats (RTP payload types, or e.g. `webrtc-datachannel`, `t38`, `*`), at least one.
    pub fmts: Vec<String>,
}

impl MediaLine {
    /// Parse the value of an `m=` line.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("media (m=)", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let p = MediaParts::read(s)?;
        Ok(MediaLine {
            media: p.media.into(),
            port: p.port,
            port_count: p.port_count,
            proto: Proto::parse(p.proto),
            fmts: p
                .fmts
                .split_ascii_whitespace()
                .map(str::to_string)
                .collect(),
        })
    }

    pub(crate) fn check(&self) -> Result<(), SdpError> {
        self.checked_text().map(drop)
    }

    /// The line's text, if it reads back as this line.
    pub(crate) fn checked_text(&self) -> Result<String, SdpError> {
        let s = self.to_string();
        // Read back in place (no second `MediaLine`): every field must come back as it is.
        match MediaParts::read(&s) {
            Ok(p)
                if p.media == self.media
                    && p.port == self.port
                    && p.port_count == self.port_count
                    && Proto::parse(p.proto) == self.proto
                    && p.fmts
                        .split_ascii_whitespace()
                        .eq(self.fmts.iter().map(String::as_str)) =>
            {
                Ok(s)
            }
            Ok(_) => Err(SdpError::invalid(
                "media (m=)",
                format!("'{s}' does not read back the same"),
            )),
            Err(m) => Err(SdpError::invalid("media (m=)", m)),
        }
    }
}

/// An `m=` value read and checked in place, without building a [`MediaLine`] (no allocation):
/// the SDP model checks every `m=` line it reads or is given, and reads the port and proto of
/// stored lines, far more often than it needs the formats as a list.
pub(crate) struct MediaParts<'a> {
    pub(crate) media: &'a str,
    pub(crate) port: Choosable<u16>,
    pub(crate) port_count: Option<u16>,
    pub(crate) proto: &'a str,
    /// The formats as written (one or more, separated by white space).
    pub(crate) fmts: &'a str,
}

impl<'a> MediaParts<'a> {
    /// Read and check an `m=` value; the error says what is wrong.
    pub(crate) fn read(s: &'a str) -> Result<Self, String> {
        let too_few = || {
            format!(
                "m= needs '<media> <port> <proto> <fmt> ...' (at least 4 fields), found {}",
                s.split_ascii_whitespace().count()
            )
        };
        let mut it = s.split_ascii_whitespace();
        let (Some(media), Some(port_field), Some(proto)) = (it.next(), it.next(), it.next()) else {
            return Err(too_few());
        };
        // The formats are the rest of the value after the proto field (a sub-slice of `s`).
        let after_proto = proto.as_ptr() as usize - s.as_ptr() as usize + proto.len();
        let fmts = s[after_proto..].trim_start_matches(|c: char| c.is_ascii_whitespace());
        if fmts.is_empty() {
            return Err(too_few());
        }
        if !is_token(media) {
            return Err(format!("m= media '{media}' is not a token"));
        }
        let (p, count) = match port_field.split_once('/') {
            Some((p, c)) => (p, Some(c)),
            None => (port_field, None),
        };
        let port = port(p).map_err(|e| format!("m= {e}"))?;
        let port_count = match count {
            None => None,
            Some(c) => match c.parse::<u16>() {
                Ok(n) if n > 0 && c.bytes().all(|b| b.is_ascii_digit()) => Some(n),
                _ => return Err(format!("m= port count '{c}' is not a number 1..65535")),
            },
        };
        if !is_proto(proto) {
            return Err(format!("m= proto '{proto}' is not valid"));
        }
        if let Some(bad) = it.find(|x| !is_word(x)) {
            return Err(format!("m= format '{bad}' is not valid"));
        }
        Ok(MediaParts {
            media,
            port,
            port_count,
            proto,
            fmts,
        })
    }
}

impl fmt::Display for MediaLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Plain writes for the strings: `write!` per piece costs more than the piece here.
        let mut buf = [0u8; 20];
        f.write_str(&self.media)?;
        f.write_str(" ")?;
        match self.port {
            Choosable::Choose => f.write_str("$")?,
            Choosable::Value(p) => f.write_str(crate::text::decimal(p.into(), &mut buf))?,
        }
        if let Some(c) = self.port_count {
            f.write_str("/")?;
            f.write_str(crate::text::decimal(c.into(), &mut buf))?;
        }
        f.write_str(" ")?;
        f.write_str(self.proto.as_str())?;
        for x in &self.fmts {
            f.write_str(" ")?;
            f.write_str(x)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `o=` and `c=` take exactly their field count: fewer or more is an error that says how
    /// many there were (the in-place split must neither stop at N nor drop the extra ones).
    #[test]
    fn field_counts_are_exact() {
        assert_eq!(
            Connection::check("IN IP4 192.0.2.1"),
            Ok(["IN", "IP4", "192.0.2.1"])
        );
        for (v, n) in [
            ("IN IP4", 2),
            ("IN IP4 192.0.2.1 x", 4),
            ("", 0),
            ("IN  IP4\t1 2 3", 5),
        ] {
            let e = Connection::check(v).expect_err(v);
            assert!(e.ends_with(&format!("found {n}")), "{v:?}: {e}");
        }
        let o = "- 1 2 IN IP4 192.0.2.1";
        assert_eq!(
            Origin::check(o),
            Ok(["-", "1", "2", "IN", "IP4", "192.0.2.1"])
        );
        let e = Origin::check("- 1 2 IN IP4 192.0.2.1 extra").expect_err("7 fields");
        assert!(e.ends_with("found 7"), "{e}");
        let e = Origin::check("- 1 2 IN IP4").expect_err("5 fields");
        assert!(e.ends_with("found 5"), "{e}");
        assert!(
            Connection::check("IN IP4 \u{7f}x").is_err(),
            "control character in address"
        );
    }

    /// The byte-wise tests give the answers of their definitions on characters.
    #[test]
    fn byte_tests_agree_with_the_character_definitions() {
        let word =
            |s: &str| !s.is_empty() && s.chars().all(|c| !c.is_whitespace() && !c.is_control());
        let token = |s: &str| !s.is_empty() && s.chars().all(is_token_char);
        let proto = |s: &str| s.split('/').all(token);
        let chars = (0u32..0x3100).filter_map(char::from_u32);
        for c in chars {
            for s in [
                c.to_string(),
                format!("a{c}"),
                format!("{c}/b"),
                format!("a/{c}"),
            ] {
                assert_eq!(is_word(&s), word(&s), "is_word({s:?})");
                assert_eq!(is_token(&s), token(&s), "is_token({s:?})");
                assert_eq!(is_proto(&s), proto(&s), "is_proto({s:?})");
            }
        }
        for s in ["", "/", "RTP/", "/AVP", "UDP/TLS/RTP/SAVPF", "RTP//AVP"] {
            assert_eq!(is_proto(s), proto(s), "is_proto({s:?})");
            assert_eq!(is_word(s), word(s), "is_word({s:?})");
        }
    }
}
