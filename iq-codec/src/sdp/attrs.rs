//! Typed SDP attributes (the values after `a=<name>:`).
//!
//! Each type has `parse(&str) -> Result<Self, SdpError>` for the attribute value and a
//! [`Display`](fmt::Display) that writes the value back (so `a=<name>:<Display>` is the line).

use super::fields::{is_token, is_word, Choosable, Connection};
use super::SdpError;
use std::fmt;

/// `<semantics> <item> ...` (a=group, a=ssrc-group): the semantics token and the items.
fn semantics_and_rest(s: &str) -> Result<(&str, Vec<&str>), String> {
    let mut w = words(s).into_iter();
    let Some(sem) = w.next() else {
        return Err("missing semantics".into());
    };
    if !is_token(sem) {
        return Err(format!("semantics '{sem}' is not a token"));
    }
    Ok((sem, w.collect()))
}

fn words(s: &str) -> Vec<&str> {
    s.split_ascii_whitespace().collect()
}

fn num<T: std::str::FromStr>(s: &str, what: &str, max_digits: usize) -> Result<T, String> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} '{s}' is not a number"));
    }
    s.parse()
        .map_err(|_| format!("{what} '{s}' is out of range"))
}

// ---------------------------------------------------------------------------------------------
// fingerprint

/// Hash function of an `a=fingerprint` (IANA "Hash Function Textual Names"), case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HashFunction {
    /// `sha-1`
    Sha1,
    /// `sha-224`
    Sha224,
    /// `sha-256`
    Sha256,
    /// `sha-384`
    Sha384,
    /// `sha-512`
    Sha512,
    /// `md5` (legacy, must not be used for new certificates)
    Md5,
    /// `md2` (legacy, must not be used)
    Md2,
    /// Any other token, held in lower case.
    Other(String),
}

impl HashFunction {
    /// Read a hash-function name (ASCII case ignored).
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("hash function", m))
    }

    fn parse_str(s: &str) -> Result<Self, String> {
        let l = s.to_ascii_lowercase();
        Ok(match l.as_str() {
            "sha-1" => HashFunction::Sha1,
            "sha-224" => HashFunction::Sha224,
            "sha-256" => HashFunction::Sha256,
            "sha-384" => HashFunction::Sha384,
            "sha-512" => HashFunction::Sha512,
            "md5" => HashFunction::Md5,
            "md2" => HashFunction::Md2,
            _ if is_token(&l) => HashFunction::Other(l),
            _ => return Err(format!("hash function '{s}' is not a token")),
        })
    }

    /// The registered name, lower case.
    pub fn as_str(&self) -> &str {
        match self {
            HashFunction::Sha1 => "sha-1",
            HashFunction::Sha224 => "sha-224",
            HashFunction::Sha256 => "sha-256",
            HashFunction::Sha384 => "sha-384",
            HashFunction::Sha512 => "sha-512",
            HashFunction::Md5 => "md5",
            HashFunction::Md2 => "md2",
            HashFunction::Other(s) => s,
        }
    }

    /// Length of the digest in octets, for the known functions.
    pub fn digest_len(&self) -> Option<usize> {
        Some(match self {
            HashFunction::Sha1 => 20,
            HashFunction::Sha224 => 28,
            HashFunction::Sha256 => 32,
            HashFunction::Sha384 => 48,
            HashFunction::Sha512 => 64,
            HashFunction::Md5 | HashFunction::Md2 => 16,
            HashFunction::Other(_) => return None,
        })
    }

    /// One of the SHA-2 family or SHA-1 (what RFC 8122 lets an endpoint rely on).
    pub fn is_sha(&self) -> bool {
        matches!(
            self,
            HashFunction::Sha1
                | HashFunction::Sha224
                | HashFunction::Sha256
                | HashFunction::Sha384
                | HashFunction::Sha512
        )
    }
}

impl fmt::Display for HashFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A certificate fingerprint (RFC 8122): hash function and digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// Hash function.
    pub hash: HashFunction,
    /// Digest octets.
    pub value: Vec<u8>,
}

impl Fingerprint {
    /// Parse `<hash-func> <HH:HH:...>` (hex in either case; for the known hash functions the
    /// number of octets must be the digest length).
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        match FingerprintAttr::parse_str(s) {
            Ok(FingerprintAttr::Value(f)) => Ok(f),
            Ok(_) => Err(SdpError::invalid("fingerprint", "a CHOOSE ($) fingerprint")),
            Err(m) => Err(SdpError::invalid("fingerprint", m)),
        }
    }

    /// Build one, checking the digest length of a known hash function.
    pub fn new(hash: HashFunction, value: Vec<u8>) -> Result<Self, SdpError> {
        check_len(&hash, value.len()).map_err(|m| SdpError::invalid("fingerprint", m))?;
        Ok(Fingerprint { hash, value })
    }

    /// The digest as upper-case hex pairs joined by `:` (`AA:BB:...`).
    pub fn hex(&self) -> String {
        let mut s = String::with_capacity(self.value.len() * 3);
        self.write_hex(&mut s)
            .expect("writing to a String does not fail");
        s
    }

    /// [`Fingerprint::hex`] into a writer: 32 octets at a time through a stack buffer, not a
    /// `String` (or a writer call) per octet.
    fn write_hex(&self, w: &mut impl fmt::Write) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut buf = [0u8; 32 * 3];
        for (n, chunk) in self.value.chunks(32).enumerate() {
            let mut len = 0;
            for (i, b) in chunk.iter().enumerate() {
                if n > 0 || i > 0 {
                    buf[len] = b':';
                    len += 1;
                }
                buf[len] = HEX[usize::from(b >> 4)];
                buf[len + 1] = HEX[usize::from(b & 0x0f)];
                len += 2;
            }
            // Only ASCII hex digits and colons were written.
            w.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }

    /// Does a certificate digest computed with `hash` match this fingerprint?
    pub fn matches(&self, hash: &HashFunction, digest: &[u8]) -> bool {
        &self.hash == hash && self.value == digest
    }
}

fn check_len(hash: &HashFunction, n: usize) -> Result<(), String> {
    if n == 0 {
        return Err("fingerprint has no octets".into());
    }
    match hash.digest_len() {
        Some(l) if l != n => Err(format!("{hash} fingerprint has {n} octets, expected {l}")),
        _ => Ok(()),
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.hash)?;
        self.write_hex(f)
    }
}

/// The value of one `a=fingerprint` line: a fingerprint, or the H.248 CHOOSE forms `$`
/// ("MG, give me your certificate fingerprint") and `<hash> $` ("... with this hash").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FingerprintAttr {
    /// `a=fingerprint:$`
    Choose,
    /// `a=fingerprint:sha-256 $`
    ChooseWithHash(HashFunction),
    /// `a=fingerprint:sha-256 AA:BB:...`
    Value(Fingerprint),
}

impl FingerprintAttr {
    /// Parse an `a=fingerprint` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("fingerprint", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let w = words(s);
        match w[..] {
            ["$"] => Ok(FingerprintAttr::Choose),
            [h, "$"] => Ok(FingerprintAttr::ChooseWithHash(HashFunction::parse_str(h)?)),
            [h, v] => {
                let hash = HashFunction::parse_str(h)?;
                let mut value = Vec::with_capacity(v.len().div_ceil(3));
                // Byte by byte rather than `split(':')` and `from_str_radix` per octet: a
                // fingerprint is read for every SDP that passes through (32-64 octets each).
                for pair in v.as_bytes().split(|&b| b == b':') {
                    let digit = |b: u8| char::from(b).to_digit(16);
                    let octet = match *pair {
                        [hi, lo] => digit(hi).zip(digit(lo)),
                        _ => None,
                    };
                    let Some((hi, lo)) = octet else {
                        return Err(format!(
                            "fingerprint octet '{}' is not two hex digits",
                            String::from_utf8_lossy(pair)
                        ));
                    };
                    // Two hex digits: at most 0xFF.
                    value.push((hi << 4 | lo) as u8);
                }
                check_len(&hash, value.len())?;
                Ok(FingerprintAttr::Value(Fingerprint { hash, value }))
            }
            _ => Err("expected '<hash-func> <HH:HH:...>' or '$'".into()),
        }
    }

    /// The fingerprint, unless this is a CHOOSE form.
    pub fn fingerprint(&self) -> Option<&Fingerprint> {
        match self {
            FingerprintAttr::Value(f) => Some(f),
            _ => None,
        }
    }

    /// Is this a CHOOSE form (`$` or `<hash> $`)?
    pub fn is_choose(&self) -> bool {
        !matches!(self, FingerprintAttr::Value(_))
    }
}

impl fmt::Display for FingerprintAttr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FingerprintAttr::Choose => f.write_str("$"),
            FingerprintAttr::ChooseWithHash(h) => write!(f, "{h} $"),
            FingerprintAttr::Value(v) => v.fmt(f),
        }
    }
}

impl From<Fingerprint> for FingerprintAttr {
    fn from(f: Fingerprint) -> Self {
        FingerprintAttr::Value(f)
    }
}

// ---------------------------------------------------------------------------------------------
// setup, tls-id, direction

/// `a=setup` (RFC 4145 / RFC 5763).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `active`: this endpoint opens (DTLS client).
    Active,
    /// `passive`: this endpoint waits (DTLS server).
    Passive,
    /// `actpass`: either; the answerer decides.
    Actpass,
    /// `holdconn`: no connection for now.
    Holdconn,
}

impl Setup {
    /// Parse (ASCII case ignored).
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("setup", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "active" => Setup::Active,
            "passive" => Setup::Passive,
            "actpass" => Setup::Actpass,
            "holdconn" => Setup::Holdconn,
            _ => {
                return Err(format!(
                    "'{s}' is not one of active, passive, actpass, holdconn"
                ))
            }
        })
    }

    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::Actpass => "actpass",
            Setup::Holdconn => "holdconn",
        }
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `a=tls-id` value (RFC 8842): 20 to 255 characters of `A-Z a-z 0-9 + / - _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TlsId(String);

impl TlsId {
    /// Validate and wrap.
    pub fn new(s: impl Into<String>) -> Result<Self, SdpError> {
        let s = s.into();
        Self::check(&s).map_err(|m| SdpError::invalid("tls-id", m))?;
        Ok(TlsId(s))
    }

    fn check(s: &str) -> Result<(), String> {
        if !(20..=255).contains(&s.len()) {
            return Err(format!(
                "tls-id must have 20 to 255 characters, '{s}' has {}",
                s.len()
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_')))
        {
            return Err(format!(
                "tls-id character {c:?} is not one of A-Z a-z 0-9 + / - _"
            ));
        }
        Ok(())
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        Self::check(s)?;
        Ok(TlsId(s.to_string()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TlsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Media direction attribute (`a=sendrecv` / `a=sendonly` / `a=recvonly` / `a=inactive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `sendrecv` (the default when none is given)
    SendRecv,
    /// `sendonly`
    SendOnly,
    /// `recvonly`
    RecvOnly,
    /// `inactive`
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// From an attribute name (ASCII case ignored).
    pub fn from_name(s: &str) -> Option<Self> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(s))
    }

    /// The direction an answerer mirrors (sendonly <-> recvonly).
    pub fn reverse(self) -> Self {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// ICE

fn is_ice_chars(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
}

/// Check an ICE ufrag (4..=256) or pwd (22..=256) of RFC 8839 `ice-char`s, or `$`.
pub(crate) fn ice_credential(s: &str, what: &str, min: usize) -> Result<Choosable<String>, String> {
    if s == "$" {
        return Ok(Choosable::Choose);
    }
    if !is_ice_chars(s) {
        return Err(format!(
            "{what} '{s}' has characters other than A-Z a-z 0-9 + /"
        ));
    }
    if !(min..=256).contains(&s.len()) {
        return Err(format!(
            "{what} must have {min} to 256 characters, '{s}' has {}",
            s.len()
        ));
    }
    Ok(Choosable::Value(s.to_string()))
}

/// ICE candidate type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CandidateType {
    /// `host`
    Host,
    /// `srflx`
    Srflx,
    /// `prflx`
    Prflx,
    /// `relay`
    Relay,
    /// Another token.
    Other(String),
}

impl CandidateType {
    fn parse(s: &str) -> Self {
        match s {
            "host" => CandidateType::Host,
            "srflx" => CandidateType::Srflx,
            "prflx" => CandidateType::Prflx,
            "relay" => CandidateType::Relay,
            o => CandidateType::Other(o.to_string()),
        }
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        match self {
            CandidateType::Host => "host",
            CandidateType::Srflx => "srflx",
            CandidateType::Prflx => "prflx",
            CandidateType::Relay => "relay",
            CandidateType::Other(s) => s,
        }
    }
}

impl fmt::Display for CandidateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `a=candidate` (RFC 8839):
/// `<foundation> <component> <transport> <priority> <address> <port> typ <type>
/// [raddr <addr>] [rport <port>] *(<ext-name> <ext-value>)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// 1 to 32 ice-chars.
    pub foundation: String,
    /// Component id (1 = RTP, 2 = RTCP).
    pub component: u16,
    /// `UDP`, `udp`, `TCP`, ... as written.
    pub transport: String,
    /// Priority.
    pub priority: u32,
    /// Address: IP, FQDN or mDNS name, as written.
    pub address: String,
    /// Port.
    pub port: u16,
    /// Candidate type.
    pub typ: CandidateType,
    /// `raddr`.
    pub raddr: Option<String>,
    /// `rport`.
    pub rport: Option<u16>,
    /// Extension name/value pairs in order (`generation 0`, `network-id 1`, `tcptype passive`,
    /// `ufrag abcd`, ...).
    pub extensions: Vec<(String, String)>,
}

impl Candidate {
    /// Parse an `a=candidate` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("candidate", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let w = words(s);
        if w.len() < 8 {
            return Err(format!(
                "needs '<foundation> <component> <transport> <priority> <address> <port> typ <type>', found {} fields",
                w.len()
            ));
        }
        let foundation = w[0];
        if foundation.is_empty() || foundation.len() > 32 || !is_ice_chars(foundation) {
            return Err(format!(
                "foundation '{foundation}' is not 1 to 32 of A-Z a-z 0-9 + /"
            ));
        }
        let component = num::<u16>(w[1], "component id", 3)?;
        if !is_token(w[2]) {
            return Err(format!("transport '{}' is not a token", w[2]));
        }
        let priority = num::<u32>(w[3], "priority", 10)?;
        let port = num::<u16>(w[5], "port", 5)?;
        if w[6] != "typ" {
            return Err(format!("expected 'typ' after the port, found '{}'", w[6]));
        }
        if !is_token(w[7]) {
            return Err(format!("candidate type '{}' is not a token", w[7]));
        }
        let mut c = Candidate {
            foundation: foundation.into(),
            component,
            transport: w[2].into(),
            priority,
            address: w[4].into(),
            port,
            typ: CandidateType::parse(w[7]),
            raddr: None,
            rport: None,
            extensions: Vec::new(),
        };
        let mut rest = &w[8..];
        if let ["raddr", a, tail @ ..] = rest {
            c.raddr = Some(a.to_string());
            rest = tail;
        }
        if let ["rport", p, tail @ ..] = rest {
            c.rport = Some(num(p, "rport", 5)?);
            rest = tail;
        }
        if rest.len() % 2 != 0 {
            return Err(format!("extension '{}' has no value", rest[rest.len() - 1]));
        }
        for pair in rest.chunks(2) {
            if !is_token(pair[0]) {
                return Err(format!("extension name '{}' is not a token", pair[0]));
            }
            c.extensions.push((pair[0].into(), pair[1].into()));
        }
        Ok(c)
    }

    /// The value of an extension (first occurrence), e.g. `generation`.
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            self.transport,
            self.priority,
            self.address,
            self.port,
            self.typ
        )?;
        if let Some(a) = &self.raddr {
            write!(f, " raddr {a}")?;
        }
        if let Some(p) = self.rport {
            write!(f, " rport {p}")?;
        }
        for (n, v) in &self.extensions {
            write!(f, " {n} {v}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// RTP / RTCP

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rtcp {
    /// RTCP port, or `$`.
    pub port: Choosable<u16>,
    /// Address, if given.
    pub connection: Option<Connection>,
}

impl Rtcp {
    /// Parse an `a=rtcp` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("rtcp", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let s = s.trim_matches(' ');
        let (p, rest) = match s.split_once(' ') {
            Some((p, r)) => (p, Some(r)),
            None => (s, None),
        };
        let port = if p == "$" {
            Choosable::Choose
        } else {
            Choosable::Value(num(p, "port", 5)?)
        };
        let connection = rest.map(Connection::parse_str).transpose()?;
        Ok(Rtcp { port, connection })
    }
}

impl fmt::Display for Rtcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.port)?;
        if let Some(c) = &self.connection {
            write!(f, " {c}")?;
        }
        Ok(())
    }
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtpMap {
    /// 0..=127.
    pub payload_type: u8,
    /// `opus`, `PCMU`, `VP8`, `telephone-event`, ...
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters (audio: channels).
    pub params: Option<String>,
}

impl RtpMap {
    /// Parse an `a=rtpmap` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("rtpmap", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let w = words(s);
        let [pt, enc] = w[..] else {
            return Err("expected '<payload type> <encoding>/<clock rate>[/<params>]'".into());
        };
        let payload_type = num::<u8>(pt, "payload type", 3)?;
        if payload_type > 127 {
            return Err(format!("payload type {payload_type} is above 127"));
        }
        let mut parts = enc.splitn(3, '/');
        let name = parts.next().unwrap_or("");
        if !is_token(name) {
            return Err(format!("encoding name '{name}' is not a token"));
        }
        let Some(rate) = parts.next() else {
            return Err(format!("'{enc}' has no /<clock rate>"));
        };
        let clock_rate = num::<u32>(rate, "clock rate", 10)?;
        let params = parts.next().map(str::to_string);
        if params.as_deref() == Some("") {
            return Err("empty encoding parameters".into());
        }
        Ok(RtpMap {
            payload_type,
            encoding: name.into(),
            clock_rate,
            params,
        })
    }

    /// Audio channels (the encoding parameters as a number; 1 when absent).
    pub fn channels(&self) -> Option<u32> {
        match &self.params {
            None => Some(1),
            Some(p) => p.parse().ok(),
        }
    }
}

impl fmt::Display for RtpMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(p) = &self.params {
            write!(f, "/{p}")?;
        }
        Ok(())
    }
}

/// `a=fmtp:<format> <format specific parameters>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fmtp {
    /// The format (payload type) it applies to.
    pub fmt: String,
    /// The parameters as written (e.g. `minptime=10;useinbandfec=1`).
    pub params: String,
}

impl Fmtp {
    /// Parse an `a=fmtp` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("fmtp", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let (fmt, params) = match s.split_once(' ') {
            Some((f, p)) => (f, p),
            None => (s, ""),
        };
        if !is_word(fmt) {
            return Err(format!("format '{fmt}' is not valid"));
        }
        Ok(Fmtp {
            fmt: fmt.into(),
            params: params.into(),
        })
    }

    /// `key=value` pairs split at `;` (a parameter without `=` has no value).
    pub fn param_list(&self) -> Vec<(&str, Option<&str>)> {
        self.params
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (p, None),
            })
            .collect()
    }

    /// One parameter's value.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.param_list()
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v)
    }
}

impl fmt::Display for Fmtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.params.is_empty() {
            f.write_str(&self.fmt)
        } else {
            write!(f, "{} {}", self.fmt, self.params)
        }
    }
}

/// `a=rtcp-fb:<payload type|*> <type> [<parameters>]` (RFC 4585), e.g. `96 nack pli`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtcpFb {
    /// Payload type or `*`.
    pub fmt: String,
    /// `nack`, `ccm`, `goog-remb`, `transport-cc`, `trr-int`, ...
    pub fb_type: String,
    /// The rest (`pli`, `fir`, ...), if any.
    pub param: Option<String>,
}

impl RtcpFb {
    /// Parse an `a=rtcp-fb` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("rtcp-fb", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let mut it = s.splitn(3, ' ');
        let fmt = it.next().unwrap_or("");
        let fb_type = it.next().unwrap_or("");
        if !is_word(fmt) || !is_token(fb_type) {
            return Err("expected '<payload type|*> <feedback type> [<parameters>]'".into());
        }
        Ok(RtcpFb {
            fmt: fmt.into(),
            fb_type: fb_type.into(),
            param: it.next().map(str::to_string),
        })
    }
}

impl fmt::Display for RtcpFb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.fmt, self.fb_type)?;
        if let Some(p) = &self.param {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// grouping, msid, ssrc, crypto

/// `a=group:<semantics> <id> ...` (RFC 5888), e.g. `BUNDLE 0 1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Group {
    /// `BUNDLE`, `LS`, `FID`, ...
    pub semantics: String,
    /// Identification tags (`a=mid` values).
    pub ids: Vec<String>,
}

impl Group {
    /// Parse an `a=group` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("group", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let (sem, ids) = semantics_and_rest(s)?;
        Ok(Group {
            semantics: sem.to_string(),
            ids: ids.iter().map(|x| x.to_string()).collect(),
        })
    }

    /// Is this `BUNDLE`?
    pub fn is_bundle(&self) -> bool {
        self.semantics.eq_ignore_ascii_case("BUNDLE")
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        for i in &self.ids {
            write!(f, " {i}")?;
        }
        Ok(())
    }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Msid {
    /// Stream id (`-` for none).
    pub id: String,
    /// Application data (track id), if given.
    pub appdata: Option<String>,
}

impl Msid {
    /// Parse an `a=msid` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("msid", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let w = words(s);
        match w[..] {
            [id] => Ok(Msid {
                id: id.into(),
                appdata: None,
            }),
            [id, a] => Ok(Msid {
                id: id.into(),
                appdata: Some(a.into()),
            }),
            _ => Err("expected '<id> [<appdata>]'".into()),
        }
    }
}

impl fmt::Display for Msid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)?;
        if let Some(a) = &self.appdata {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576), e.g. `1234 cname:abcd`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ssrc {
    /// SSRC.
    pub ssrc: u32,
    /// Source attribute name (`cname`, `msid`, `label`, ...).
    pub attribute: String,
    /// Source attribute value, if any.
    pub value: Option<String>,
}

impl Ssrc {
    /// Parse an `a=ssrc` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("ssrc", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let Some((id, attr)) = s.split_once(' ') else {
            return Err("expected '<ssrc> <attribute>[:<value>]'".into());
        };
        let ssrc = num::<u32>(id, "ssrc", 10)?;
        let (attribute, value) = match attr.split_once(':') {
            Some((a, v)) => (a, Some(v.to_string())),
            None => (attr, None),
        };
        if !is_token(attribute) {
            return Err(format!("source attribute '{attribute}' is not a token"));
        }
        Ok(Ssrc {
            ssrc,
            attribute: attribute.into(),
            value,
        })
    }
}

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ssrc, self.attribute)?;
        if let Some(v) = &self.value {
            write!(f, ":{v}")?;
        }
        Ok(())
    }
}

/// `a=ssrc-group:<semantics> <ssrc> ...` (RFC 5576), e.g. `FID 1 2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SsrcGroup {
    /// `FID`, `FEC`, `SIM`, ...
    pub semantics: String,
    /// SSRCs.
    pub ssrcs: Vec<u32>,
}

impl SsrcGroup {
    /// Parse an `a=ssrc-group` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("ssrc-group", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let (sem, ids) = semantics_and_rest(s)?;
        Ok(SsrcGroup {
            semantics: sem.to_string(),
            ssrcs: ids
                .iter()
                .map(|x| num(x, "ssrc", 10))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl fmt::Display for SsrcGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        for i in &self.ssrcs {
            write!(f, " {i}")?;
        }
        Ok(())
    }
}

/// `a=crypto:<tag> <crypto-suite> <key-params> [<session-params> ...]` (RFC 4568, SDES).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Crypto {
    /// Tag (1 to 9 digits).
    pub tag: u32,
    /// `AES_CM_128_HMAC_SHA1_80`, `AEAD_AES_128_GCM`, ...
    pub suite: String,
    /// Key parameters as written (`inline:<key||salt>[|lifetime][|MKI:len]`, several joined by
    /// `;`).
    pub key_params: String,
    /// Session parameters (`UNENCRYPTED_SRTCP`, `KDR=...`, ...).
    pub session_params: Vec<String>,
}

impl Crypto {
    /// Parse an `a=crypto` value.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Self::parse_str(s).map_err(|m| SdpError::invalid("crypto", m))
    }

    pub(crate) fn parse_str(s: &str) -> Result<Self, String> {
        let w = words(s);
        if w.len() < 3 {
            return Err("expected '<tag> <crypto-suite> <key-params> [<session-params>]'".into());
        }
        let tag = num::<u32>(w[0], "tag", 9)?;
        if !is_token(w[1]) {
            return Err(format!("crypto-suite '{}' is not a token", w[1]));
        }
        Ok(Crypto {
            tag,
            suite: w[1].into(),
            key_params: w[2].into(),
            session_params: w[3..].iter().map(|x| x.to_string()).collect(),
        })
    }
}

impl fmt::Display for Crypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.tag, self.suite, self.key_params)?;
        for p in &self.session_params {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}
