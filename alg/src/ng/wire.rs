//! One ng datagram: `<cookie> <dictionary>`, the dictionary bencoded or JSON (rtpengine accepts
//! both and answers in the format it was asked in).

use std::collections::BTreeMap;

use thiserror::Error;

use super::bencode::{self, DecodeError, Limits, Value};

/// How the dictionary of a datagram was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Bencode.
    Bencode,
    /// JSON.
    Json,
}

/// Why a datagram could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    /// No space separating the cookie from the dictionary, or an empty cookie.
    #[error("no cookie")]
    NoCookie,
    /// The bencoded dictionary is malformed.
    #[error("bad bencode: {0}")]
    Bencode(#[from] DecodeError),
    /// The JSON dictionary is malformed.
    #[error("bad JSON: {0}")]
    Json(String),
    /// The document is not a dictionary.
    #[error("the message is not a dictionary")]
    NotDict,
}

/// A decoded datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The cookie (opaque bytes, echoed in the reply).
    pub cookie: Vec<u8>,
    /// The dictionary.
    pub body: Value,
    /// How it was written.
    pub format: Format,
}

/// Longest cookie accepted.
pub const MAX_COOKIE: usize = 256;

/// The cookie of a datagram, if it has one (for an error reply when the rest is unreadable).
pub fn cookie_of(bytes: &[u8]) -> Option<&[u8]> {
    let sp = bytes.iter().position(|&b| b == b' ')?;
    (sp > 0 && sp <= MAX_COOKIE).then(|| &bytes[..sp])
}

/// Split and decode a datagram.
pub fn decode(bytes: &[u8]) -> Result<Datagram, WireError> {
    let cookie = cookie_of(bytes).ok_or(WireError::NoCookie)?;
    let rest = &bytes[cookie.len() + 1..];
    // Tolerate trailing white space / newline (hand-typed `nc` sessions).
    let end = rest
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    let rest = &rest[..end];
    let (body, format) = if rest.first() == Some(&b'{') {
        (json_to_value(rest)?, Format::Json)
    } else {
        (
            bencode::decode_with(rest, Limits::default())?,
            Format::Bencode,
        )
    };
    if !matches!(body, Value::Dict(_)) {
        return Err(WireError::NotDict);
    }
    Ok(Datagram {
        cookie: cookie.to_vec(),
        body,
        format,
    })
}

/// Encode a reply: the same cookie, a space, the dictionary.
pub fn encode(cookie: &[u8], body: &Value, format: Format) -> Vec<u8> {
    let mut out = cookie.to_vec();
    out.push(b' ');
    match format {
        Format::Json => {
            let j = value_to_json(body);
            out.extend_from_slice(j.to_string().as_bytes());
        }
        _ => body.encode_into(&mut out),
    }
    out
}

fn json_to_value(bytes: &[u8]) -> Result<Value, WireError> {
    let j: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| WireError::Json(e.to_string()))?;
    let limits = Limits::default();
    let mut items = 0usize;
    from_json(&j, 1, &limits, &mut items)
}

fn from_json(
    j: &serde_json::Value,
    depth: usize,
    limits: &Limits,
    items: &mut usize,
) -> Result<Value, WireError> {
    use serde_json::Value as J;
    *items += 1;
    if *items > limits.max_items {
        return Err(DecodeError::TooMany {
            max: limits.max_items,
        }
        .into());
    }
    if depth > limits.max_depth {
        return Err(DecodeError::TooDeep {
            at: 0,
            max: limits.max_depth,
        }
        .into());
    }
    Ok(match j {
        J::Null => Value::str(""),
        J::Bool(b) => Value::Int(i64::from(*b)),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::str(n.to_string()),
        },
        J::String(s) => {
            if s.len() > limits.max_bytes {
                return Err(DecodeError::TooLong {
                    at: 0,
                    len: s.len(),
                    max: limits.max_bytes,
                }
                .into());
            }
            Value::str(s)
        }
        J::Array(a) => Value::List(
            a.iter()
                .map(|v| from_json(v, depth + 1, limits, items))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(o) => {
            let mut d = BTreeMap::new();
            for (k, v) in o {
                d.insert(
                    k.as_bytes().to_vec(),
                    from_json(v, depth + 1, limits, items)?,
                );
            }
            Value::Dict(d)
        }
    })
}

fn value_to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Int(i) => J::from(*i),
        Value::Bytes(b) => J::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(l) => J::Array(l.iter().map(value_to_json).collect()),
        Value::Dict(d) => J::Object(
            d.iter()
                .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), value_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bencode_datagram() {
        let d = decode(b"5323_1 d7:command4:pinge").unwrap();
        assert_eq!(d.cookie, b"5323_1");
        assert_eq!(d.format, Format::Bencode);
        assert_eq!(d.body.get("command").and_then(Value::as_str), Some("ping"));
        let r = encode(
            &d.cookie,
            &Value::dict([("result", Value::str("pong"))]),
            d.format,
        );
        assert_eq!(r, b"5323_1 d6:result4:ponge");
    }

    #[test]
    fn json_datagram() {
        let d = decode(br#"abc {"command":"list","limit":5,"flags":["a",true]}"#).unwrap();
        assert_eq!(d.format, Format::Json);
        assert_eq!(d.body.get("limit").and_then(Value::as_int), Some(5));
        let r = encode(
            &d.cookie,
            &Value::dict([("result", Value::str("ok"))]),
            d.format,
        );
        assert_eq!(r, br#"abc {"result":"ok"}"#);
    }

    #[test]
    fn bad_datagrams() {
        assert_eq!(decode(b"nocookie"), Err(WireError::NoCookie));
        assert_eq!(decode(b" d1:ai1ee"), Err(WireError::NoCookie));
        assert_eq!(decode(b"c li1ee"), Err(WireError::NotDict));
        assert!(matches!(decode(b"c d1:a"), Err(WireError::Bencode(_))));
        assert!(matches!(decode(b"c {\"a\":"), Err(WireError::Json(_))));
        assert_eq!(cookie_of(b"c d1:a"), Some(&b"c"[..]));
    }
}
