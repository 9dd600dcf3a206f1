//! STUN for an ICE-lite responder (RFC 8489/8445/7675): verify Binding requests
//! (USERNAME, MESSAGE-INTEGRITY with our ice-pwd, FINGERPRINT) and build the success
//! response. Pure functions, no state, no allocation besides the caller's output buffer.
//! OWNER: media-net helper.
//!
//! An ICE-lite agent never sends error responses: every failure is reported as a
//! [`StunError`] and the caller drops the request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::api::IceCredentials;

/// The magic cookie of RFC 8489 (the second word of every STUN header).
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// XOR constant of the FINGERPRINT attribute ("STUN").
pub const FINGERPRINT_XOR: u32 = 0x5354_554e;
/// Binding request message type.
pub const BINDING_REQUEST: u16 = 0x0001;
/// Binding success response message type.
pub const BINDING_SUCCESS: u16 = 0x0101;

const HEADER_LEN: usize = 20;
const ATTR_MAPPED_ADDRESS: u16 = 0x0001;
const ATTR_USERNAME: u16 = 0x0006;
const ATTR_MESSAGE_INTEGRITY: u16 = 0x0008;
const ATTR_ERROR_CODE: u16 = 0x0009;
const ATTR_UNKNOWN_ATTRIBUTES: u16 = 0x000A;
const ATTR_REALM: u16 = 0x0014;
const ATTR_NONCE: u16 = 0x0015;
const ATTR_MESSAGE_INTEGRITY_SHA256: u16 = 0x001C;
const ATTR_PASSWORD_ALGORITHM: u16 = 0x001D;
const ATTR_USERHASH: u16 = 0x001E;
const ATTR_XOR_MAPPED_ADDRESS: u16 = 0x0020;
const ATTR_PRIORITY: u16 = 0x0024;
const ATTR_USE_CANDIDATE: u16 = 0x0025;
const ATTR_FINGERPRINT: u16 = 0x8028;
const ATTR_ICE_CONTROLLED: u16 = 0x8029;
const ATTR_ICE_CONTROLLING: u16 = 0x802A;
/// Longest USERNAME RFC 8489 allows (513 octets of UTF-8 fit in less).
const MAX_USERNAME: usize = 763;

/// A verified Binding request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingCheck {
    /// USE-CANDIDATE present (the controlling peer nominates this pair).
    pub use_candidate: bool,
    /// The peer's ufrag (the part after ':' in USERNAME).
    pub remote_ufrag: String,
}

/// Why a STUN message was not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StunError {
    /// Not a well-formed STUN message.
    #[error("malformed STUN: {0}")]
    Malformed(&'static str),
    /// Not a Binding request (responses, indications and other methods are ignored).
    #[error("not a binding request")]
    NotBindingRequest,
    /// USERNAME missing or not `<our ufrag>:<peer ufrag>`.
    #[error("wrong username")]
    WrongUsername,
    /// MESSAGE-INTEGRITY missing or wrong.
    #[error("bad message integrity")]
    BadIntegrity,
    /// FINGERPRINT missing or wrong.
    #[error("bad fingerprint")]
    BadFingerprint,
    /// A comprehension-required attribute (type below 0x8000) we do not know, before
    /// MESSAGE-INTEGRITY (a full agent would answer 420; ICE-lite drops). Added by media-net.
    #[error("unknown comprehension-required attribute 0x{0:04x}")]
    UnknownAttribute(u16),
    /// Not a Binding success response (an error response, a request, another method).
    /// Added by the lab UE (controlling side).
    #[error("not a binding success response (type 0x{0:04x})")]
    NotBindingResponse(u16),
    /// A response to a transaction we did not send (or no longer wait for).
    #[error("unexpected transaction id")]
    WrongTransaction,
    /// A success response without XOR-MAPPED-ADDRESS.
    #[error("no XOR-MAPPED-ADDRESS")]
    NoMappedAddress,
}

/// What [`verify_message`] read from a message whose FINGERPRINT and MESSAGE-INTEGRITY
/// verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView<'a> {
    /// Message type (method and class), e.g. [`BINDING_REQUEST`].
    pub message_type: u16,
    /// Transaction ID.
    pub transaction_id: [u8; 12],
    /// USERNAME value (unpadded), if present before MESSAGE-INTEGRITY.
    pub username: Option<&'a [u8]>,
    /// USE-CANDIDATE present.
    pub use_candidate: bool,
    /// PRIORITY value.
    pub priority: Option<u32>,
    /// XOR-MAPPED-ADDRESS, decoded.
    pub xor_mapped_address: Option<SocketAddr>,
    /// The first comprehension-required attribute type this module does not know.
    pub unknown_required: Option<u16>,
}

/// Locations and values found by one walk over the attributes.
struct Walk<'a> {
    message_type: u16,
    transaction_id: [u8; 12],
    username: Option<&'a [u8]>,
    use_candidate: bool,
    priority: Option<u32>,
    xor_mapped: Option<&'a [u8]>,
    unknown_required: Option<u16>,
    /// Offset of the MESSAGE-INTEGRITY attribute header.
    integrity_at: Option<usize>,
    /// Offset of the FINGERPRINT attribute header.
    fingerprint_at: Option<usize>,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Header checks and one pass over the attributes; no cryptography.
fn walk(msg: &[u8]) -> Result<Walk<'_>, StunError> {
    if msg.len() < HEADER_LEN {
        return Err(StunError::Malformed("shorter than a header"));
    }
    let message_type = be16(msg, 0).ok_or(StunError::Malformed("header"))?;
    if message_type & 0xC000 != 0 {
        return Err(StunError::Malformed("first two bits not zero"));
    }
    let length = usize::from(be16(msg, 2).ok_or(StunError::Malformed("header"))?);
    if be32(msg, 4) != Some(MAGIC_COOKIE) {
        return Err(StunError::Malformed("no magic cookie"));
    }
    if length % 4 != 0 || HEADER_LEN + length != msg.len() {
        return Err(StunError::Malformed("length field does not match"));
    }
    let mut transaction_id = [0u8; 12];
    transaction_id.copy_from_slice(&msg[8..HEADER_LEN]);
    let mut w = Walk {
        message_type,
        transaction_id,
        username: None,
        use_candidate: false,
        priority: None,
        xor_mapped: None,
        unknown_required: None,
        integrity_at: None,
        fingerprint_at: None,
    };
    let mut pos = HEADER_LEN;
    while pos < msg.len() {
        let ty = be16(msg, pos).ok_or(StunError::Malformed("truncated attribute"))?;
        let len =
            usize::from(be16(msg, pos + 2).ok_or(StunError::Malformed("truncated attribute"))?);
        let start = pos + 4;
        let end = start + len;
        let next = start + len.div_ceil(4) * 4;
        if next > msg.len() {
            return Err(StunError::Malformed("attribute overruns the message"));
        }
        let value = &msg[start..end];
        if w.fingerprint_at.is_some() {
            return Err(StunError::Malformed("attribute after FINGERPRINT"));
        }
        if ty == ATTR_FINGERPRINT {
            if len != 4 {
                return Err(StunError::Malformed("FINGERPRINT length"));
            }
            w.fingerprint_at = Some(pos);
        } else if w.integrity_at.is_some() {
            // RFC 8489 14.5: everything after MESSAGE-INTEGRITY but FINGERPRINT (and
            // MESSAGE-INTEGRITY-SHA256, which we do not use) is ignored.
        } else {
            match ty {
                ATTR_MESSAGE_INTEGRITY => {
                    if len != 20 {
                        return Err(StunError::Malformed("MESSAGE-INTEGRITY length"));
                    }
                    w.integrity_at = Some(pos);
                }
                ATTR_USERNAME => {
                    if len > MAX_USERNAME {
                        return Err(StunError::Malformed("USERNAME too long"));
                    }
                    w.username = Some(value);
                }
                ATTR_USE_CANDIDATE => w.use_candidate = true,
                ATTR_PRIORITY => {
                    if len != 4 {
                        return Err(StunError::Malformed("PRIORITY length"));
                    }
                    w.priority = be32(value, 0);
                }
                ATTR_XOR_MAPPED_ADDRESS => w.xor_mapped = Some(value),
                ATTR_MAPPED_ADDRESS
                | ATTR_ERROR_CODE
                | ATTR_UNKNOWN_ATTRIBUTES
                | ATTR_REALM
                | ATTR_NONCE
                | ATTR_MESSAGE_INTEGRITY_SHA256
                | ATTR_PASSWORD_ALGORITHM
                | ATTR_USERHASH => {}
                t if t < 0x8000 => {
                    w.unknown_required.get_or_insert(t);
                }
                _ => {}
            }
        }
        pos = next;
    }
    Ok(w)
}

/// CRC-32 of `msg[..fingerprint_at]` xor "STUN" equals the FINGERPRINT value, and the
/// attribute is the last one.
fn fingerprint_ok(msg: &[u8], at: usize) -> bool {
    if at + 8 != msg.len() {
        return false;
    }
    let Some(value) = be32(msg, at + 4) else {
        return false;
    };
    crc32fast::hash(&msg[..at]) ^ FINGERPRINT_XOR == value
}

/// The header with its length field set as if the message ended right after an attribute
/// of `attr_total` octets starting at `end_at`.
fn adjusted_header(msg: &[u8], end_at: usize, attr_total: usize) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(&msg[..HEADER_LEN]);
    let len = (end_at + attr_total - HEADER_LEN) as u16;
    header[2..4].copy_from_slice(&len.to_be_bytes());
    header
}

fn integrity_mac(key: &[u8]) -> Hmac<Sha1> {
    <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// HMAC-SHA1 over the message up to the MESSAGE-INTEGRITY attribute at `at`, with the
/// header length adjusted to end after it (RFC 8489 14.5), compared in constant time.
fn integrity_ok(msg: &[u8], at: usize, key: &[u8]) -> bool {
    let Some(tag) = msg.get(at + 4..at + 24) else {
        return false;
    };
    let mut mac = integrity_mac(key);
    mac.update(&adjusted_header(msg, at, 24));
    mac.update(&msg[HEADER_LEN..at]);
    mac.verify_slice(tag).is_ok()
}

fn decode_xor_address(value: &[u8], transaction_id: &[u8; 12]) -> Option<SocketAddr> {
    let family = *value.get(1)?;
    let port = be16(value, 2)? ^ (MAGIC_COOKIE >> 16) as u16;
    let mut pad = [0u8; 16];
    pad[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    pad[4..].copy_from_slice(transaction_id);
    match (family, value.len()) {
        (1, 8) => {
            let mut a = [0u8; 4];
            for (i, b) in a.iter_mut().enumerate() {
                *b = value[4 + i] ^ pad[i];
            }
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), port))
        }
        (2, 20) => {
            let mut a = [0u8; 16];
            for (i, b) in a.iter_mut().enumerate() {
                *b = value[4 + i] ^ pad[i];
            }
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(a)), port))
        }
        _ => None,
    }
}

/// Parse `msg` and verify its FINGERPRINT (required) and MESSAGE-INTEGRITY (required,
/// HMAC-SHA1 keyed with `key`: the ICE password for short-term credentials). Works for
/// requests and responses (tests use it on RFC 5769's sample responses). Added by media-net.
pub fn verify_message<'a>(msg: &'a [u8], key: &[u8]) -> Result<MessageView<'a>, StunError> {
    let w = walk(msg)?;
    match w.fingerprint_at {
        Some(at) if fingerprint_ok(msg, at) => {}
        _ => return Err(StunError::BadFingerprint),
    }
    match w.integrity_at {
        Some(at) if integrity_ok(msg, at, key) => {}
        _ => return Err(StunError::BadIntegrity),
    }
    let xor_mapped_address = match w.xor_mapped {
        Some(v) => Some(
            decode_xor_address(v, &w.transaction_id)
                .ok_or(StunError::Malformed("XOR-MAPPED-ADDRESS"))?,
        ),
        None => None,
    };
    Ok(MessageView {
        message_type: w.message_type,
        transaction_id: w.transaction_id,
        username: w.username,
        use_candidate: w.use_candidate,
        priority: w.priority,
        xor_mapped_address,
        unknown_required: w.unknown_required,
    })
}

fn push_attr_header(out: &mut Vec<u8>, ty: u16, len: u16) {
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
}

fn set_length(out: &mut [u8], body_len: usize) {
    out[2..4].copy_from_slice(&(body_len as u16).to_be_bytes());
}

/// Write a Binding success response for `transaction_id` to `out` (cleared first):
/// XOR-MAPPED-ADDRESS of `mapped` (IPv4-mapped IPv6 addresses are written as IPv4),
/// MESSAGE-INTEGRITY keyed with `key`, FINGERPRINT. Added by media-net.
pub fn write_binding_success(
    transaction_id: &[u8; 12],
    mapped: SocketAddr,
    key: &[u8],
    out: &mut Vec<u8>,
) {
    out.clear();
    out.extend_from_slice(&BINDING_SUCCESS.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    out.extend_from_slice(transaction_id);

    let mut pad = [0u8; 16];
    pad[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    pad[4..].copy_from_slice(transaction_id);
    let xport = mapped.port() ^ (MAGIC_COOKIE >> 16) as u16;
    match mapped.ip().to_canonical() {
        IpAddr::V4(a) => {
            push_attr_header(out, ATTR_XOR_MAPPED_ADDRESS, 8);
            out.extend_from_slice(&[0, 1]);
            out.extend_from_slice(&xport.to_be_bytes());
            for (i, b) in a.octets().iter().enumerate() {
                out.push(b ^ pad[i]);
            }
        }
        IpAddr::V6(a) => {
            push_attr_header(out, ATTR_XOR_MAPPED_ADDRESS, 20);
            out.extend_from_slice(&[0, 2]);
            out.extend_from_slice(&xport.to_be_bytes());
            for (i, b) in a.octets().iter().enumerate() {
                out.push(b ^ pad[i]);
            }
        }
    }

    // MESSAGE-INTEGRITY: the length field counts the attribute being added.
    let at = out.len();
    set_length(out, at + 24 - HEADER_LEN);
    let mut mac = integrity_mac(key);
    mac.update(out);
    let tag = mac.finalize().into_bytes();
    push_attr_header(out, ATTR_MESSAGE_INTEGRITY, 20);
    out.extend_from_slice(&tag);

    // FINGERPRINT, likewise.
    let at = out.len();
    set_length(out, at + 8 - HEADER_LEN);
    let crc = crc32fast::hash(out) ^ FINGERPRINT_XOR;
    push_attr_header(out, ATTR_FINGERPRINT, 4);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Verify `msg` (a Binding request from `from`) against our credentials (and the peer's ufrag
/// when known) and write the success response into `out` (cleared first).
///
/// Checks, in order: STUN header (cookie, length, attribute layout), Binding request type,
/// FINGERPRINT (required, last), MESSAGE-INTEGRITY (required, keyed with `local.pwd`),
/// USERNAME = `<local ufrag>:<remote ufrag>` (the remote part must equal `remote.ufrag`
/// when given), no unknown comprehension-required attribute. `out` is left empty on error.
pub fn answer_binding(
    msg: &[u8],
    from: SocketAddr,
    local: &IceCredentials,
    remote: Option<&IceCredentials>,
    out: &mut Vec<u8>,
) -> Result<BindingCheck, StunError> {
    out.clear();
    let w = walk(msg)?;
    if w.message_type != BINDING_REQUEST {
        return Err(StunError::NotBindingRequest);
    }
    let view = verify_message(msg, local.pwd.as_bytes())?;
    let username = view.username.ok_or(StunError::WrongUsername)?;
    let username = std::str::from_utf8(username).map_err(|_| StunError::WrongUsername)?;
    let (ours, theirs) = username.split_once(':').ok_or(StunError::WrongUsername)?;
    if ours != local.ufrag || theirs.is_empty() {
        return Err(StunError::WrongUsername);
    }
    if let Some(remote) = remote {
        if theirs != remote.ufrag {
            return Err(StunError::WrongUsername);
        }
    }
    if let Some(t) = view.unknown_required {
        return Err(StunError::UnknownAttribute(t));
    }
    write_binding_success(&view.transaction_id, from, local.pwd.as_bytes(), out);
    Ok(BindingCheck {
        use_candidate: view.use_candidate,
        remote_ufrag: theirs.to_owned(),
    })
}

/// The ICE role a Binding request claims (RFC 8445 7.1.1), with the agent's tie-breaker.
/// Added by the lab UE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceControl {
    /// ICE-CONTROLLING (0x802A).
    Controlling(u64),
    /// ICE-CONTROLLED (0x8029).
    Controlled(u64),
}

/// Write a connectivity check (RFC 8445 7.1) for `transaction_id` to `out` (cleared first):
/// USERNAME (`<peer ufrag>:<our ufrag>`, as given), PRIORITY, ICE-CONTROLLING or
/// ICE-CONTROLLED with the tie-breaker, USE-CANDIDATE when `use_candidate` (the controlling
/// side nominates), MESSAGE-INTEGRITY keyed with the PEER's ice-pwd `pwd`, FINGERPRINT.
/// Added by the lab UE (a full agent).
pub fn build_binding_request(
    transaction_id: &[u8; 12],
    username: &str,
    pwd: &[u8],
    priority: u32,
    role: IceControl,
    use_candidate: bool,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.extend_from_slice(&BINDING_REQUEST.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    out.extend_from_slice(transaction_id);

    let name = username.as_bytes();
    let name = &name[..name.len().min(MAX_USERNAME)];
    push_attr_header(out, ATTR_USERNAME, name.len() as u16);
    out.extend_from_slice(name);
    out.resize(out.len() + (4 - name.len() % 4) % 4, 0);

    push_attr_header(out, ATTR_PRIORITY, 4);
    out.extend_from_slice(&priority.to_be_bytes());

    let (ty, tie) = match role {
        IceControl::Controlling(t) => (ATTR_ICE_CONTROLLING, t),
        IceControl::Controlled(t) => (ATTR_ICE_CONTROLLED, t),
    };
    push_attr_header(out, ty, 8);
    out.extend_from_slice(&tie.to_be_bytes());

    if use_candidate {
        push_attr_header(out, ATTR_USE_CANDIDATE, 0);
    }

    let at = out.len();
    set_length(out, at + 24 - HEADER_LEN);
    let mut mac = integrity_mac(pwd);
    mac.update(out);
    let tag = mac.finalize().into_bytes();
    push_attr_header(out, ATTR_MESSAGE_INTEGRITY, 20);
    out.extend_from_slice(&tag);

    let at = out.len();
    set_length(out, at + 8 - HEADER_LEN);
    let crc = crc32fast::hash(out) ^ FINGERPRINT_XOR;
    push_attr_header(out, ATTR_FINGERPRINT, 4);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Verify `msg` as the success response to our Binding request `transaction_id`: STUN
/// layout, Binding success type, the transaction ID, FINGERPRINT, MESSAGE-INTEGRITY keyed
/// with the PEER's ice-pwd `pwd` (the responder signs with its own password), and return the
/// XOR-MAPPED-ADDRESS (our address as the peer saw it). Added by the lab UE.
pub fn verify_binding_response(
    msg: &[u8],
    transaction_id: &[u8; 12],
    pwd: &[u8],
) -> Result<SocketAddr, StunError> {
    let w = walk(msg)?;
    if w.message_type != BINDING_SUCCESS {
        return Err(StunError::NotBindingResponse(w.message_type));
    }
    if &w.transaction_id != transaction_id {
        return Err(StunError::WrongTransaction);
    }
    let view = verify_message(msg, pwd)?;
    view.xor_mapped_address.ok_or(StunError::NoMappedAddress)
}

#[cfg(test)]
mod request_tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let d: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
        d.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    /// RFC 5769 section 2: password and transaction ID of all three samples.
    const RFC_PWD: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";
    const RFC_TID: [u8; 12] = [
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    ];

    /// RFC 5769 2.1 Sample Request.
    fn rfc_request() -> Vec<u8> {
        hex(
            "00 01 00 58  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
             80 22 00 10  53 54 55 4e  20 74 65 73  74 20 63 6c  69 65 6e 74
             00 24 00 04  6e 00 01 ff
             80 29 00 08  93 2f f9 b1  51 26 3b 36
             00 06 00 09  65 76 74 6a  3a 68 36 76  59 20 20 20
             00 08 00 14  9a ea a7 0c  bf d8 cb 56  78 1e f2 b5  b2 d3 f2 49  c1 b5 71 a2
             80 28 00 04  e5 7a 3b cf",
        )
    }

    /// RFC 5769 2.2 Sample IPv4 Response.
    fn rfc_ipv4_response() -> Vec<u8> {
        hex(
            "01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
             80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
             00 20 00 08  00 01 a1 47  e1 12 a6 43
             00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7
             80 28 00 04  c0 7d 4c 96",
        )
    }

    /// RFC 5769 2.3 Sample IPv6 Response.
    fn rfc_ipv6_response() -> Vec<u8> {
        hex(
            "01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
             80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
             00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
             00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41
             80 28 00 04  c8 fb 0b 4c",
        )
    }

    /// The attributes of a message as (type, value) pairs, read independently of `walk`.
    fn attrs(msg: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        let mut pos = 20;
        while pos + 4 <= msg.len() {
            let ty = u16::from_be_bytes([msg[pos], msg[pos + 1]]);
            let len = usize::from(u16::from_be_bytes([msg[pos + 2], msg[pos + 3]]));
            out.push((ty, msg[pos + 4..pos + 4 + len].to_vec()));
            pos += 4 + len.div_ceil(4) * 4;
        }
        assert_eq!(pos, msg.len(), "attributes fill the message exactly");
        out
    }

    #[test]
    fn rfc5769_responses_give_the_mapped_addresses() {
        assert_eq!(
            verify_binding_response(&rfc_ipv4_response(), &RFC_TID, RFC_PWD),
            Ok("192.0.2.1:32853".parse().unwrap())
        );
        assert_eq!(
            verify_binding_response(&rfc_ipv6_response(), &RFC_TID, RFC_PWD),
            Ok("[2001:db8:1234:5678:11:2233:4455:6677]:32853"
                .parse()
                .unwrap())
        );
    }

    #[test]
    fn rfc5769_response_rejections() {
        let r = rfc_ipv4_response();
        let mut tid = RFC_TID;
        tid[11] ^= 1;
        assert_eq!(
            verify_binding_response(&r, &tid, RFC_PWD),
            Err(StunError::WrongTransaction)
        );
        assert_eq!(
            verify_binding_response(&r, &RFC_TID, b"VOkJxbRl1RmTxUk/WvJxBu"),
            Err(StunError::BadIntegrity)
        );
        // the sample REQUEST is not a response
        assert_eq!(
            verify_binding_response(&rfc_request(), &RFC_TID, RFC_PWD),
            Err(StunError::NotBindingResponse(BINDING_REQUEST))
        );
        // one flipped bit in the mapped address: FINGERPRINT (checked first) fails
        let mut bad = r.clone();
        bad[44] ^= 0x01;
        assert_eq!(
            verify_binding_response(&bad, &RFC_TID, RFC_PWD),
            Err(StunError::BadFingerprint)
        );
        // an error response (class bits 0x0110) is refused whatever it carries
        let mut err = r.clone();
        err[1] = 0x11;
        assert_eq!(
            verify_binding_response(&err, &RFC_TID, RFC_PWD),
            Err(StunError::NotBindingResponse(0x0111))
        );
        assert!(matches!(
            verify_binding_response(&r[..r.len() - 4], &RFC_TID, RFC_PWD),
            Err(StunError::Malformed(_))
        ));
    }

    /// Our request with the RFC 5769 2.1 sample's values carries the same PRIORITY,
    /// ICE-CONTROLLED and USERNAME attributes octet for octet (the sample adds SOFTWARE, so the
    /// integrity and fingerprint values differ; those are checked by the responder below).
    #[test]
    fn request_carries_the_rfc5769_sample_attributes() {
        let mut out = Vec::new();
        build_binding_request(
            &RFC_TID,
            "evtj:h6vY",
            RFC_PWD,
            0x6e00_01ff,
            IceControl::Controlled(0x932f_f9b1_5126_3b36),
            false,
            &mut out,
        );
        assert_eq!(&out[..2], &[0x00, 0x01]);
        assert_eq!(&out[4..20], &rfc_request()[4..20]);
        let ours = attrs(&out);
        let theirs = attrs(&rfc_request());
        for ty in [ATTR_PRIORITY, ATTR_ICE_CONTROLLED, ATTR_USERNAME] {
            let a = ours.iter().find(|(t, _)| *t == ty).map(|(_, v)| v);
            let b = theirs.iter().find(|(t, _)| *t == ty).map(|(_, v)| v);
            assert!(
                a.is_some() && a == b,
                "attribute 0x{ty:04x}: {a:?} vs {b:?}"
            );
        }
        // MESSAGE-INTEGRITY then FINGERPRINT close the message, no USE-CANDIDATE
        let types: Vec<u16> = ours.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            &types[types.len() - 2..],
            &[ATTR_MESSAGE_INTEGRITY, ATTR_FINGERPRINT]
        );
        assert!(!types.contains(&ATTR_USE_CANDIDATE));
        // the RFC's responder side accepts it: the existing ICE-lite responder with the
        // sample's credentials ("evtj" is the responder's ufrag)
        let local = IceCredentials {
            ufrag: "evtj".into(),
            pwd: String::from_utf8(RFC_PWD.to_vec()).unwrap(),
        };
        let from: SocketAddr = "192.0.2.1:32853".parse().unwrap();
        let mut resp = Vec::new();
        let check = answer_binding(&out, from, &local, None, &mut resp).unwrap();
        assert!(!check.use_candidate);
        assert_eq!(check.remote_ufrag, "h6vY");
    }

    #[test]
    fn controlling_check_is_answered_and_the_answer_verifies() {
        let agw = IceCredentials {
            ufrag: "AGWu".into(),
            pwd: "agwPasswordOf24Chars+/xy".into(),
        };
        let tid = *b"abcdefghijkl";
        let mut req = Vec::new();
        build_binding_request(
            &tid,
            "AGWu:ueUF",
            agw.pwd.as_bytes(),
            0x7e7f_00ff,
            IceControl::Controlling(0x0102_0304_0506_0708),
            true,
            &mut req,
        );
        let a = attrs(&req);
        assert!(a.contains(&(ATTR_USE_CANDIDATE, vec![])));
        assert!(a.contains(&(
            ATTR_ICE_CONTROLLING,
            0x0102_0304_0506_0708u64.to_be_bytes().to_vec()
        )));
        assert!(a.contains(&(ATTR_PRIORITY, 0x7e7f_00ffu32.to_be_bytes().to_vec())));
        let from: SocketAddr = "[2001:db8::7]:40000".parse().unwrap();
        let mut resp = Vec::new();
        let check = answer_binding(&req, from, &agw, None, &mut resp).unwrap();
        assert!(check.use_candidate);
        assert_eq!(check.remote_ufrag, "ueUF");
        assert_eq!(
            verify_binding_response(&resp, &tid, agw.pwd.as_bytes()),
            Ok(from)
        );
        // signed with another password, or answering another transaction: refused
        assert_eq!(
            verify_binding_response(&resp, &tid, b"ueOwnPasswordIsNotTheKey"),
            Err(StunError::BadIntegrity)
        );
        assert_eq!(
            verify_binding_response(&resp, b"abcdefghijkm", agw.pwd.as_bytes()),
            Err(StunError::WrongTransaction)
        );
        // the wrong key on the request side: the responder drops it
        build_binding_request(
            &tid,
            "AGWu:ueUF",
            b"not-the-agw-password",
            1,
            IceControl::Controlling(1),
            true,
            &mut req,
        );
        assert_eq!(
            answer_binding(&req, from, &agw, None, &mut resp),
            Err(StunError::BadIntegrity)
        );
    }

    #[test]
    fn usernames_of_every_padding_length_verify() {
        let agw = IceCredentials {
            ufrag: "AG".into(),
            pwd: "p".repeat(22),
        };
        for peer in ["a", "ab", "abc", "abcd", "abcde"] {
            let mut req = Vec::new();
            let user = format!("AG:{peer}");
            build_binding_request(
                &[7; 12],
                &user,
                agw.pwd.as_bytes(),
                9,
                IceControl::Controlled(3),
                false,
                &mut req,
            );
            assert_eq!(req.len() % 4, 0);
            let mut resp = Vec::new();
            let check = answer_binding(&req, "127.0.0.1:9".parse().unwrap(), &agw, None, &mut resp)
                .unwrap_or_else(|e| panic!("{user}: {e}"));
            assert_eq!(check.remote_ufrag, peer);
        }
    }
}
