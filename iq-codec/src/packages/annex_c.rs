//! H.248.1 Annex C: tags of the native media stream properties (package 0x0000).
//!
//! Source: RFC 3525 Annex C (H.248.1 v1 text, read in the Erlang/OTP megaco documentation) for
//! every tag below; the SDP tags (C.11) are also what megaco's binary name resolver encodes
//! (`megaco_binary_name_resolver_v3.erl`, `encode_native`), and megaco's BER output carries SDP
//! in Local/Remote as these properties (`v=` 0xB001, `c=` 0xB008, `m=` 0xB00F).
//!
//! Annex C defines no text names; the text encoding uses SDP instead. The SDP line types are
//! their own names (`v` … `m`, the complete RFC 2327/4566 set: no other line type has a tag).
//! For the other properties the names here are the Annex C `PropertyID` in lower case, made
//! into H.248 NAMEs where the PropertyID has spaces (e.g. "Transmission mode" → `transmode`);
//! `ipv4`, `ipv6`, `port`, `porttype` are megaco's names. The ATM/AAL/bearer-capability tags
//! (C.4, C.7–C.10) are not listed; they pass through as `p0000/iXXXX`.

use super::ValueType;

/// One Annex C property: tag, text name, value type and Annex C clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnnexCProperty {
    /// Property tag (the item ID under package 0x0000).
    pub tag: u16,
    /// Text name (lower case).
    pub name: &'static str,
    /// Annex C clause, e.g. "C.11".
    pub clause: &'static str,
    /// Value kind as given in Annex C.
    pub kind: AnnexCType,
}

/// Annex C value kinds (Annex C: "N bits"/"M octets" types are octet strings in BER, "N bit
/// integer" types integers, "String" an IA5String).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnnexCType {
    /// String (IA5String in BER). All SDP equivalents.
    String,
    /// Octet string / bit field.
    Octets,
    /// Integer.
    Integer,
    /// Boolean.
    Boolean,
    /// Enumeration.
    Enum,
}

impl AnnexCType {
    /// The matching [`ValueType`].
    pub fn value_type(self) -> ValueType {
        match self {
            AnnexCType::String => ValueType::String,
            AnnexCType::Octets => ValueType::Octets,
            AnnexCType::Integer => ValueType::uint(),
            AnnexCType::Boolean => ValueType::Boolean,
            AnnexCType::Enum => ValueType::Unknown,
        }
    }
}

/// SDP line type → Annex C.11 tag, in tag order (RFC 3525 C.11 "SDP equivalents").
pub const SDP_LINE_TYPES: [(&str, u16); 15] = [
    ("v", 0xB001),
    ("o", 0xB002),
    ("s", 0xB003),
    ("i", 0xB004),
    ("u", 0xB005),
    ("e", 0xB006),
    ("p", 0xB007),
    ("c", 0xB008),
    ("b", 0xB009),
    ("z", 0xB00A),
    ("k", 0xB00B),
    ("a", 0xB00C),
    ("t", 0xB00D),
    ("r", 0xB00E),
    ("m", 0xB00F),
];

const fn p(tag: u16, name: &'static str, clause: &'static str, kind: AnnexCType) -> AnnexCProperty {
    AnnexCProperty {
        tag,
        name,
        clause,
        kind,
    }
}

use AnnexCType::{Boolean as B, Enum as E, Integer as N, Octets as O, String as S};

const PROPS: &[AnnexCProperty] = &[
    // C.1 General media attributes
    p(0x1001, "media", "C.1", E),
    p(0x1002, "transmode", "C.1", E),
    p(0x1003, "numofchannels", "C.1", N),
    p(0x1004, "samplingrate", "C.1", N),
    p(0x1005, "bitrate", "C.1", N),
    p(0x1006, "acodec", "C.1", O),
    p(0x1007, "samplepp", "C.1", N),
    p(0x1008, "silencesupp", "C.1", B),
    p(0x1009, "encrypttype", "C.1", O),
    p(0x100A, "encryptkey", "C.1", O),
    p(0x100B, "echocanc", "C.1", O),
    p(0x100C, "gain", "C.1", N),
    p(0x100D, "jitterbuff", "C.1", N),
    p(0x100E, "propdelay", "C.1", N),
    p(0x100F, "rtppayload", "C.1", N),
    // C.2 Mux properties
    p(0x2001, "h222", "C.2", O),
    p(0x2002, "h223", "C.2", O),
    p(0x2003, "v76", "C.2", O),
    p(0x2004, "h2250", "C.2", O),
    // C.3 General bearer properties
    p(0x3001, "mediatx", "C.3", E),
    p(0x3002, "bir", "C.3", O),
    p(0x3003, "nsap", "C.3", O),
    // C.5 Frame Relay
    p(0x5001, "dlci", "C.5", N),
    p(0x5002, "cid", "C.5", N),
    p(0x5003, "sid", "C.5", N),
    p(0x5004, "payload", "C.5", N),
    // C.6 IP
    p(0x6001, "ipv4", "C.6", O),
    p(0x6002, "ipv6", "C.6", O),
    p(0x6003, "port", "C.6", N),
    p(0x6004, "porttype", "C.6", E),
    // C.11 SDP equivalents
    p(0xB001, "v", "C.11", S),
    p(0xB002, "o", "C.11", S),
    p(0xB003, "s", "C.11", S),
    p(0xB004, "i", "C.11", S),
    p(0xB005, "u", "C.11", S),
    p(0xB006, "e", "C.11", S),
    p(0xB007, "p", "C.11", S),
    p(0xB008, "c", "C.11", S),
    p(0xB009, "b", "C.11", S),
    p(0xB00A, "z", "C.11", S),
    p(0xB00B, "k", "C.11", S),
    p(0xB00C, "a", "C.11", S),
    p(0xB00D, "t", "C.11", S),
    p(0xB00E, "r", "C.11", S),
    p(0xB00F, "m", "C.11", S),
    // C.12 H.245
    p(0xC001, "olc", "C.12", O),
    p(0xC002, "olcack", "C.12", O),
    p(0xC003, "olccnf", "C.12", O),
    p(0xC004, "olcrej", "C.12", O),
    p(0xC005, "clc", "C.12", O),
    p(0xC006, "clcack", "C.12", O),
];

/// The Annex C properties known here, in tag order.
pub fn annex_c_properties() -> &'static [AnnexCProperty] {
    PROPS
}

/// Annex C.11 tag of an SDP line type (`"v"` → 0xB001, `"m"` → 0xB00F). Exact, lower case.
pub fn sdp_tag(line_type: &str) -> Option<u16> {
    SDP_LINE_TYPES
        .iter()
        .find(|(t, _)| *t == line_type)
        .map(|(_, tag)| *tag)
}

/// SDP line type of an Annex C.11 tag (0xB00C → `"a"`).
pub fn sdp_line_type(tag: u16) -> Option<&'static str> {
    SDP_LINE_TYPES
        .iter()
        .find(|(_, t)| *t == tag)
        .map(|(n, _)| *n)
}

/// Tag of an Annex C property name (SDP line types included). Case-insensitive for the
/// multi-letter names, exact for the SDP letters.
pub fn annex_c_tag(name: &str) -> Option<u16> {
    if name.len() == 1 {
        return sdp_tag(name);
    }
    PROPS
        .iter()
        .find(|p| p.name.len() > 1 && p.name.eq_ignore_ascii_case(name))
        .map(|p| p.tag)
}

/// Name of an Annex C tag (SDP line types included).
pub fn annex_c_name(tag: u16) -> Option<&'static str> {
    PROPS.iter().find(|p| p.tag == tag).map(|p| p.name)
}
