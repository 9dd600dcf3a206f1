//! Typed ng requests: the subset of rtpengine's keys that Kamailio's `rtpengine` module sends
//! for WebRTC <-> RTP bridging. Unknown keys are kept (by name) and ignored; they never make a
//! request fail.
//!
//! Key names are matched the way rtpengine does: `-`, `_` and ` ` are equivalent
//! (`received from` = `received-from`), and case is ignored (`ICE` = `ice`). Kamailio also
//! passes unrecognised words of its flags string through in `flags`; forms rtpengine treats as
//! keys there (`ICE=force`, `DTLS=off`, `transport-protocol=RTP/AVP`, `rtcp-mux-demux`,
//! `SDES-off`, `direction=...`) are read as such when the key itself is absent.

use thiserror::Error;
use tracing::debug;

use super::bencode::Value;

/// An ng command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// `ping`.
    Ping,
    /// `offer`.
    Offer(OfferAnswer),
    /// `answer`.
    Answer(OfferAnswer),
    /// `delete`.
    Delete(Delete),
    /// `query`.
    Query(CallRef),
    /// `list`.
    List {
        /// `limit` (most call-ids to return).
        limit: Option<usize>,
    },
    /// `statistics`: the daemon's counters ([`super::stats::Counters::reply`]).
    Statistics,
    /// Any other command (answered with an error).
    Unsupported(String),
}

impl Request {
    /// The command name.
    pub fn name(&self) -> &str {
        match self {
            Request::Ping => "ping",
            Request::Offer(_) => "offer",
            Request::Answer(_) => "answer",
            Request::Delete(_) => "delete",
            Request::Query(_) => "query",
            Request::List { .. } => "list",
            Request::Statistics => "statistics",
            Request::Unsupported(s) => s,
        }
    }
}

/// The keys of `offer` and `answer`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferAnswer {
    /// `call-id`.
    pub call_id: String,
    /// `from-tag`.
    pub from_tag: String,
    /// `to-tag` (answers; re-offers).
    pub to_tag: Option<String>,
    /// `via-branch`.
    pub via_branch: Option<String>,
    /// `sdp`.
    pub sdp: String,
    /// `flags`.
    pub flags: Vec<String>,
    /// `replace`.
    pub replace: Vec<String>,
    /// `transport-protocol`: the protocol wanted towards the recipient.
    pub transport_protocol: Option<String>,
    /// `ICE`: `remove`, `force`, `default`, ...
    pub ice: Option<String>,
    /// `DTLS`: `off`, `passive`, `active`, ...
    pub dtls: Option<String>,
    /// `rtcp-mux`: `demux`, `accept`, `offer`, `require`, ...
    pub rtcp_mux: Vec<String>,
    /// `direction`: the logical interfaces (realms) of the sender and of the recipient.
    pub direction: Vec<String>,
    /// `SDES`.
    pub sdes: Vec<String>,
    /// `media address`.
    pub media_address: Option<String>,
    /// `received from`: address family and address.
    pub received_from: Option<(String, String)>,
    /// `record call`.
    pub record_call: Option<String>,
    /// `label`.
    pub label: Option<String>,
    /// Keys not understood (ignored).
    pub unknown: Vec<String>,
}

impl OfferAnswer {
    /// Whether `flags` holds `flag` (case-insensitive, `-`/`_`/` ` equivalent).
    pub fn has_flag(&self, flag: &str) -> bool {
        // Byte-wise, without normalised copies.
        self.flags.iter().any(|x| {
            x.len() == flag.len()
                && x.bytes()
                    .zip(flag.bytes())
                    .all(|(a, b)| canonical(a) == canonical(b))
        })
    }
}

/// `delete`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delete {
    /// `call-id`.
    pub call_id: String,
    /// `from-tag` (absent: the whole call).
    pub from_tag: Option<String>,
    /// `to-tag`.
    pub to_tag: Option<String>,
    /// `via-branch`.
    pub via_branch: Option<String>,
    /// `flags` (e.g. `fatal`).
    pub flags: Vec<String>,
}

/// `query`: a call, optionally narrowed to tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRef {
    /// `call-id`.
    pub call_id: String,
    /// `from-tag`.
    pub from_tag: Option<String>,
    /// `to-tag`.
    pub to_tag: Option<String>,
}

/// Why a request was refused (sent back as `error-reason`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No `command` key.
    #[error("No command given")]
    NoCommand,
    /// A required key is missing.
    #[error("No {0} in message")]
    Missing(&'static str),
    /// A key has the wrong type (e.g. a list where a string is due).
    #[error("Wrong type for key '{0}'")]
    WrongType(String),
}

/// One byte of the canonical key form: ASCII lower case, `_` and ` ` turned into `-`. Only
/// ASCII bytes change, to ASCII bytes, so a key keeps its length and stays UTF-8.
fn canonical(b: u8) -> u8 {
    match b {
        b'_' | b' ' => b'-',
        b => b.to_ascii_lowercase(),
    }
}

/// Canonical key form: lower case, `_` and ` ` turned into `-` ([`canonical`] per character).
pub fn normalize(k: &str) -> String {
    k.chars()
        .map(|c| match u8::try_from(c) {
            Ok(b) if b.is_ascii() => char::from(canonical(b)),
            _ => c,
        })
        .collect()
}

/// A key as [`normalize`] gives it, borrowed when it is already in that form (the usual case:
/// Kamailio sends `call-id`, `from-tag`...), so reading a request does not allocate per key.
fn normalize_key(k: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(k) {
        Ok(s) if k.iter().all(|&b| canonical(b) == b) => std::borrow::Cow::Borrowed(s),
        _ => std::borrow::Cow::Owned(normalize(&String::from_utf8_lossy(k))),
    }
}

/// The dictionary with normalised keys (later duplicates after normalisation are ignored).
struct Dict<'a> {
    entries: Vec<(std::borrow::Cow<'a, str>, &'a Value)>,
}

impl<'a> Dict<'a> {
    fn new(v: &'a Value) -> Option<Self> {
        let d = v.as_dict()?;
        Some(Dict {
            entries: d.iter().map(|(k, v)| (normalize_key(k), v)).collect(),
        })
    }

    fn raw(&self, key: &str) -> Option<&'a Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// A string: byte strings (lossy UTF-8) and integers are accepted.
    fn string(&self, key: &str) -> Result<Option<String>, RequestError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Bytes(b)) => Ok(Some(lossy(b))),
            Some(Value::Int(i)) => Ok(Some(i.to_string())),
            Some(_) => Err(RequestError::WrongType(key.to_string())),
        }
    }

    fn required(&self, key: &'static str) -> Result<String, RequestError> {
        self.string(key)?.ok_or(RequestError::Missing(key))
    }

    /// A list of strings; a single string counts as a one-element list (rtpengine accepts that).
    fn list(&self, key: &str) -> Result<Vec<String>, RequestError> {
        match self.raw(key) {
            None => Ok(Vec::new()),
            Some(Value::List(l)) => l
                .iter()
                .map(|v| match v {
                    Value::Bytes(b) => Ok(lossy(b)),
                    Value::Int(i) => Ok(i.to_string()),
                    _ => Err(RequestError::WrongType(key.to_string())),
                })
                .collect(),
            Some(Value::Bytes(b)) => Ok(vec![lossy(b)]),
            Some(_) => Err(RequestError::WrongType(key.to_string())),
        }
    }
}

/// Bytes as text, invalid UTF-8 replaced. `from_utf8` first: its ASCII fast path checks an SDP
/// body several times faster than the lossy decoder's byte-by-byte walk.
fn lossy(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

const OFFER_KEYS: &[&str] = &[
    "command",
    "call-id",
    "from-tag",
    "to-tag",
    "via-branch",
    "sdp",
    "flags",
    "replace",
    "transport-protocol",
    "ice",
    "dtls",
    "rtcp-mux",
    "direction",
    "sdes",
    "media-address",
    "received-from",
    "record-call",
    "label",
];

/// Read a request dictionary.
pub fn parse(body: &Value) -> Result<Request, RequestError> {
    let d = Dict::new(body).ok_or(RequestError::WrongType("(message)".into()))?;
    let command = d.string("command")?.ok_or(RequestError::NoCommand)?;
    let req = match command.to_ascii_lowercase().as_str() {
        "ping" => Request::Ping,
        "statistics" => Request::Statistics,
        "offer" => Request::Offer(offer_answer(&d, false)?),
        "answer" => Request::Answer(offer_answer(&d, true)?),
        "delete" => Request::Delete(Delete {
            call_id: d.required("call-id")?,
            from_tag: d.string("from-tag")?,
            to_tag: d.string("to-tag")?,
            via_branch: d.string("via-branch")?,
            flags: d.list("flags")?,
        }),
        "query" => Request::Query(CallRef {
            call_id: d.required("call-id")?,
            from_tag: d.string("from-tag")?,
            to_tag: d.string("to-tag")?,
        }),
        "list" => Request::List {
            limit: match d.raw("limit") {
                Some(Value::Int(i)) => usize::try_from(*i).ok(),
                Some(Value::Bytes(b)) => std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()),
                _ => None,
            },
        },
        other => Request::Unsupported(other.to_string()),
    };
    Ok(req)
}

fn offer_answer(d: &Dict<'_>, answer: bool) -> Result<OfferAnswer, RequestError> {
    let mut r = OfferAnswer {
        call_id: d.required("call-id")?,
        from_tag: d.required("from-tag")?,
        to_tag: d.string("to-tag")?,
        via_branch: d.string("via-branch")?,
        sdp: d.required("sdp")?,
        flags: d.list("flags")?,
        replace: d.list("replace")?,
        transport_protocol: d.string("transport-protocol")?,
        ice: d.string("ice")?,
        dtls: d.string("dtls")?,
        rtcp_mux: d.list("rtcp-mux")?,
        direction: d.list("direction")?,
        sdes: d.list("sdes")?,
        media_address: d.string("media-address")?,
        received_from: None,
        record_call: d.string("record-call")?,
        label: d.string("label")?,
        unknown: Vec::new(),
    };
    if answer && r.to_tag.is_none() {
        return Err(RequestError::Missing("to-tag"));
    }
    let rf = d.list("received-from")?;
    if let [family, addr] = rf.as_slice() {
        r.received_from = Some((family.clone(), addr.clone()));
    }
    flags_as_keys(&mut r);
    for (k, _) in &d.entries {
        if !OFFER_KEYS.contains(&k.as_ref()) {
            debug!(key = %k, "ng: unknown key ignored");
            r.unknown.push(k.to_string());
        }
    }
    Ok(r)
}

/// Kamailio passes words of its flags string it does not know in `flags`: read the ones that
/// rtpengine would treat as keys, when the key itself was not given.
fn flags_as_keys(r: &mut OfferAnswer) {
    let mut rest = Vec::new();
    for f in std::mem::take(&mut r.flags) {
        let n = normalize(&f);
        let (key, val) = match f.split_once('=') {
            Some((k, v)) => (normalize(k), Some(v.to_string())),
            None => (n.clone(), None),
        };
        let used = match (key.as_str(), val) {
            ("ice", Some(v)) if r.ice.is_none() => {
                r.ice = Some(v);
                true
            }
            ("dtls", Some(v)) if r.dtls.is_none() => {
                r.dtls = Some(v);
                true
            }
            ("transport-protocol", Some(v)) if r.transport_protocol.is_none() => {
                r.transport_protocol = Some(v);
                true
            }
            ("direction", Some(v)) if r.direction.len() < 2 => {
                r.direction.push(v);
                true
            }
            ("media-address", Some(v)) if r.media_address.is_none() => {
                r.media_address = Some(v);
                true
            }
            ("label", Some(v)) if r.label.is_none() => {
                r.label = Some(v);
                true
            }
            (_, None) if n.starts_with("rtcp-mux-") => {
                r.rtcp_mux.push(n["rtcp-mux-".len()..].to_string());
                true
            }
            (_, None) if n.starts_with("sdes-") => {
                r.sdes.push(n["sdes-".len()..].to_string());
                true
            }
            (_, None)
                if matches!(
                    n.as_str(),
                    "rtp/avp"
                        | "rtp/avpf"
                        | "rtp/savp"
                        | "rtp/savpf"
                        | "udp/tls/rtp/savp"
                        | "udp/tls/rtp/savpf"
                ) && r.transport_protocol.is_none() =>
            {
                r.transport_protocol = Some(f.to_ascii_uppercase());
                true
            }
            _ => false,
        };
        if !used {
            rest.push(f);
        }
    }
    r.flags = rest;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ng::bencode;

    fn req(pairs: Vec<(&str, Value)>) -> Result<Request, RequestError> {
        parse(&Value::dict(pairs))
    }

    /// The borrowed key and the byte-wise flag test agree with `normalize`, the definition.
    #[test]
    fn key_and_flag_forms_match_normalize() {
        let words = [
            "call-id",
            "Call-ID",
            "call_id",
            "call id",
            "CALL ID",
            "trust-address",
            "ICE",
            "ice",
            "rtcp_mux",
            "rtcp-mux",
            "rtcp-Mux",
            "a-b_c d",
            "",
            "é-x",
            "É-x",
            "x\u{0}",
            "-",
        ];
        for w in words {
            assert_eq!(normalize_key(w.as_bytes()), normalize(w), "{w:?}");
            let oa = OfferAnswer {
                flags: vec![w.to_string()],
                ..OfferAnswer::default()
            };
            for f in words {
                assert_eq!(oa.has_flag(f), normalize(w) == normalize(f), "{w:?} {f:?}");
            }
        }
        // Invalid UTF-8 keys read as rtpengine would: lossy.
        assert_eq!(normalize_key(b"ca\xffll"), "ca\u{fffd}ll");
    }

    #[test]
    fn commands() {
        assert_eq!(
            req(vec![("command", Value::str("ping"))]),
            Ok(Request::Ping)
        );
        assert_eq!(req(vec![]), Err(RequestError::NoCommand));
        assert_eq!(
            req(vec![
                ("command", Value::str("list")),
                ("limit", Value::Int(3))
            ]),
            Ok(Request::List { limit: Some(3) })
        );
        assert_eq!(
            req(vec![("command", Value::str("Statistics"))]),
            Ok(Request::Statistics)
        );
        assert_eq!(
            req(vec![("command", Value::str("start recording"))]),
            Ok(Request::Unsupported("start recording".into()))
        );
        assert_eq!(
            req(vec![
                ("command", Value::str("offer")),
                ("call-id", Value::str("c"))
            ]),
            Err(RequestError::Missing("from-tag"))
        );
        assert_eq!(
            req(vec![("command", Value::List(vec![]))]),
            Err(RequestError::WrongType("command".into()))
        );
    }

    #[test]
    fn answer_needs_to_tag() {
        let r = req(vec![
            ("command", Value::str("answer")),
            ("call-id", Value::str("c")),
            ("from-tag", Value::str("f")),
            ("sdp", Value::str("v=0\r\n")),
        ]);
        assert_eq!(r, Err(RequestError::Missing("to-tag")));
    }

    /// A Kamailio-style offer, bencoded by hand (as on the wire), with spaced and dashed keys,
    /// flags carrying keys, and unknown keys.
    #[test]
    fn kamailio_offer() {
        let wire = b"d7:command5:offer3:ICE5:force4:DTLS7:passive18:transport-protocol\
17:UDP/TLS/RTP/SAVPF8:rtcp-muxl5:offere7:call-id6:abc@h18:from-tag2:ft10:via-branch\
6:z9hG4b13:received froml3:IP49:127.0.0.1e7:replacel6:origin18:session-connectione5:flags\
l13:trust-address8:SDES-off4:weire9:directionl8:external8:internale11:record call2:no\
12:x-vendor-keyi7e3:sdp4:v=0\ne";
        let v = bencode::decode(wire).unwrap();
        let Ok(Request::Offer(o)) = parse(&v) else {
            panic!("not an offer: {:?}", parse(&v))
        };
        assert_eq!(o.call_id, "abc@h1");
        assert_eq!(o.from_tag, "ft");
        assert_eq!(o.via_branch.as_deref(), Some("z9hG4b"));
        assert_eq!(o.ice.as_deref(), Some("force"));
        assert_eq!(o.dtls.as_deref(), Some("passive"));
        assert_eq!(o.transport_protocol.as_deref(), Some("UDP/TLS/RTP/SAVPF"));
        assert_eq!(o.rtcp_mux, ["offer"]);
        assert_eq!(o.direction, ["external", "internal"]);
        assert_eq!(
            o.received_from,
            Some(("IP4".to_string(), "127.0.0.1".to_string()))
        );
        assert_eq!(o.replace, ["origin", "session-connection"]);
        assert_eq!(o.sdes, ["off"]);
        assert_eq!(o.flags, ["trust-address", "weir"]);
        assert!(o.has_flag("trust_address"));
        assert_eq!(o.record_call.as_deref(), Some("no"));
        assert_eq!(o.sdp, "v=0\n");
        assert_eq!(o.unknown, ["x-vendor-key"]);
    }

    #[test]
    fn flags_carry_keys() {
        let r = req(vec![
            ("command", Value::str("offer")),
            ("call-id", Value::str("c")),
            ("from-tag", Value::str("f")),
            ("sdp", Value::str("v=0")),
            (
                "flags",
                Value::List(vec![
                    Value::str("ICE=remove"),
                    Value::str("DTLS=off"),
                    Value::str("RTP/AVP"),
                    Value::str("rtcp-mux-demux"),
                    Value::str("direction=internal"),
                    Value::str("direction=external"),
                ]),
            ),
        ]);
        let Ok(Request::Offer(o)) = r else {
            panic!("{r:?}")
        };
        assert_eq!(o.ice.as_deref(), Some("remove"));
        assert_eq!(o.dtls.as_deref(), Some("off"));
        assert_eq!(o.transport_protocol.as_deref(), Some("RTP/AVP"));
        assert_eq!(o.rtcp_mux, ["demux"]);
        assert_eq!(o.direction, ["internal", "external"]);
        assert!(o.flags.is_empty());
    }
}
