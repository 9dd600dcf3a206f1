//! Bencode (the BitTorrent encoding rtpengine's "ng" protocol uses): integers `i<n>e`, byte
//! strings `<len>:<bytes>`, lists `l...e` and dictionaries `d<key><value>...e`.
//!
//! Decoding is strict: no leading zeros (`i03e`, `03:abc`), no `i-0e`, no empty integer, no
//! trailing bytes, dictionary keys must be byte strings and unique (their order is not
//! checked: real peers do not always sort them). Byte strings, nesting depth and element counts
//! are bounded by [`Limits`]. Encoding always writes dictionary keys sorted (the canonical form).
//! Neither direction panics on any input.

use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

/// One bencoded value.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    /// `i<n>e`.
    Int(i64),
    /// `<len>:<bytes>`.
    Bytes(Vec<u8>),
    /// `l<values>e`.
    List(Vec<Value>),
    /// `d<key><value>...e`, keys sorted.
    Dict(BTreeMap<Vec<u8>, Value>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Bytes(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Value::List(l) => f.debug_list().entries(l).finish(),
            Value::Dict(d) => f
                .debug_map()
                .entries(d.iter().map(|(k, v)| (String::from_utf8_lossy(k), v)))
                .finish(),
        }
    }
}

impl Value {
    /// A byte string from text.
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::Bytes(s.as_ref().as_bytes().to_vec())
    }

    /// A dictionary from `(key, value)` pairs.
    pub fn dict<K: AsRef<str>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Dict(
            pairs
                .into_iter()
                .map(|(k, v)| (k.as_ref().as_bytes().to_vec(), v))
                .collect(),
        )
    }

    /// The bytes of a byte string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// A byte string as UTF-8 text.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// An integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// A dictionary.
    pub fn as_dict(&self) -> Option<&BTreeMap<Vec<u8>, Value>> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// `self[key]` for a dictionary.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_dict().and_then(|d| d.get(key.as_bytes()))
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Append the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(i) => {
                out.push(b'i');
                if *i < 0 {
                    out.push(b'-');
                }
                push_decimal(out, i.unsigned_abs());
                out.push(b'e');
            }
            Value::Bytes(b) => encode_bytes(b, out),
            Value::List(l) => {
                out.push(b'l');
                for v in l {
                    v.encode_into(out);
                }
                out.push(b'e');
            }
            Value::Dict(d) => {
                out.push(b'd');
                for (k, v) in d {
                    encode_bytes(k, out);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }
}

fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    push_decimal(out, b.len() as u64);
    out.push(b':');
    out.extend_from_slice(b);
}

/// `n` in decimal, without the `String` that `to_string` would allocate for every length
/// prefix of every reply.
fn push_decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(iq_codec::text::decimal(n, &mut [0; 20]).as_bytes());
}

/// Bounds applied while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of lists/dictionaries (the top-level dictionary is depth 1).
    pub max_depth: usize,
    /// Longest byte string.
    pub max_bytes: usize,
    /// Most values in all (every list element, dictionary key and value counts).
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // An ng datagram is at most 64 KiB; SDPs are a few KiB.
        Limits {
            max_depth: 32,
            max_bytes: 65_536,
            max_items: 16_384,
        }
    }
}

/// Why a bencoded input was refused; `at` is the byte offset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a value.
    #[error("unexpected end of input at byte {at}")]
    Eof {
        /// Offset.
        at: usize,
    },
    /// A byte that cannot start or continue a value here.
    #[error("unexpected byte 0x{byte:02x} at byte {at}")]
    Unexpected {
        /// Offset.
        at: usize,
        /// The byte.
        byte: u8,
    },
    /// A malformed integer or length (empty, leading zero, `-0`, overflow).
    #[error("bad number at byte {at}")]
    BadNumber {
        /// Offset.
        at: usize,
    },
    /// A dictionary key that is not a byte string.
    #[error("dictionary key is not a byte string at byte {at}")]
    KeyNotString {
        /// Offset.
        at: usize,
    },
    /// The same key twice in one dictionary.
    #[error("duplicate dictionary key at byte {at}")]
    DuplicateKey {
        /// Offset.
        at: usize,
    },
    /// Bytes after the value.
    #[error("trailing data at byte {at}")]
    Trailing {
        /// Offset.
        at: usize,
    },
    /// Nested too deep.
    #[error("nesting deeper than {max} at byte {at}")]
    TooDeep {
        /// Offset.
        at: usize,
        /// The limit.
        max: usize,
    },
    /// A byte string longer than the limit.
    #[error("byte string of {len} bytes exceeds {max} at byte {at}")]
    TooLong {
        /// Offset.
        at: usize,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More values than the limit.
    #[error("more than {max} values")]
    TooMany {
        /// The limit.
        max: usize,
    },
}

/// Decode exactly one value filling `input`, with the default [`Limits`].
pub fn decode(input: &[u8]) -> Result<Value, DecodeError> {
    decode_with(input, Limits::default())
}

/// Decode exactly one value filling `input`.
pub fn decode_with(input: &[u8], limits: Limits) -> Result<Value, DecodeError> {
    let mut d = Decoder {
        input,
        pos: 0,
        limits,
        items: 0,
    };
    let v = d.value()?;
    if d.pos != input.len() {
        return Err(DecodeError::Trailing { at: d.pos });
    }
    Ok(v)
}

/// Decode one value at the start of `input`; returns it and the number of bytes it took.
pub fn decode_prefix(input: &[u8], limits: Limits) -> Result<(Value, usize), DecodeError> {
    let mut d = Decoder {
        input,
        pos: 0,
        limits,
        items: 0,
    };
    let v = d.value()?;
    Ok((v, d.pos))
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    limits: Limits,
    items: usize,
}

enum Frame {
    List(Vec<Value>),
    Dict(BTreeMap<Vec<u8>, Value>, Option<Vec<u8>>),
}

impl Decoder<'_> {
    fn peek(&self) -> Result<u8, DecodeError> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or(DecodeError::Eof { at: self.pos })
    }

    fn count(&mut self) -> Result<(), DecodeError> {
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(DecodeError::TooMany {
                max: self.limits.max_items,
            });
        }
        Ok(())
    }

    /// Iterative (explicit stack), so that depth is bounded by the limit, not the call stack.
    fn value(&mut self) -> Result<Value, DecodeError> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            // Read one item: either a scalar, an opening bracket or a closing `e`.
            let at = self.pos;
            let b = self.peek()?;
            let mut done: Option<Value> = None;
            match b {
                b'e' if !stack.is_empty() => {
                    self.pos += 1;
                    match stack.pop() {
                        Some(Frame::List(l)) => done = Some(Value::List(l)),
                        Some(Frame::Dict(d, None)) => done = Some(Value::Dict(d)),
                        // `e` where a value was due.
                        Some(Frame::Dict(_, Some(_))) | None => {
                            return Err(DecodeError::Unexpected { at, byte: b })
                        }
                    }
                }
                b'l' | b'd' => {
                    if matches!(stack.last(), Some(Frame::Dict(_, None))) {
                        return Err(DecodeError::KeyNotString { at });
                    }
                    if stack.len() >= self.limits.max_depth {
                        return Err(DecodeError::TooDeep {
                            at,
                            max: self.limits.max_depth,
                        });
                    }
                    self.count()?;
                    self.pos += 1;
                    stack.push(if b == b'l' {
                        Frame::List(Vec::new())
                    } else {
                        Frame::Dict(BTreeMap::new(), None)
                    });
                }
                b'i' => {
                    if matches!(stack.last(), Some(Frame::Dict(_, None))) {
                        return Err(DecodeError::KeyNotString { at });
                    }
                    self.count()?;
                    self.pos += 1;
                    done = Some(Value::Int(self.int()?));
                }
                b'0'..=b'9' => {
                    self.count()?;
                    done = Some(Value::Bytes(self.bytes()?));
                }
                _ => return Err(DecodeError::Unexpected { at, byte: b }),
            }
            let Some(v) = done else { continue };
            // Attach the finished value to its parent (or return it at the top).
            match stack.last_mut() {
                None => return Ok(v),
                Some(Frame::List(l)) => l.push(v),
                Some(Frame::Dict(d, key)) => match key.take() {
                    None => {
                        let Value::Bytes(k) = v else {
                            return Err(DecodeError::KeyNotString { at });
                        };
                        if d.contains_key(&k) {
                            return Err(DecodeError::DuplicateKey { at });
                        }
                        *key = Some(k);
                    }
                    Some(k) => {
                        d.insert(k, v);
                    }
                },
            }
        }
    }

    /// Digits up to `end`, strict: no leading zero (except "0" itself), no "-0".
    fn number(&mut self, end: u8, signed: bool) -> Result<i64, DecodeError> {
        let start = self.pos;
        let rest = &self.input[start..];
        let Some(len) = rest.iter().position(|&c| c == end) else {
            return Err(DecodeError::Eof {
                at: self.input.len(),
            });
        };
        let text = &rest[..len];
        let (neg, digits) = match text.split_first() {
            Some((b'-', d)) if signed => (true, d),
            _ => (false, text),
        };
        let bad = DecodeError::BadNumber { at: start };
        if digits.is_empty()
            || !digits.iter().all(u8::is_ascii_digit)
            || (digits.len() > 1 && digits[0] == b'0')
            || (neg && digits == b"0")
        {
            return Err(bad);
        }
        let mut n: i64 = 0;
        for &c in digits {
            n = n
                .checked_mul(10)
                .and_then(|n| {
                    let d = i64::from(c - b'0');
                    if neg {
                        n.checked_sub(d)
                    } else {
                        n.checked_add(d)
                    }
                })
                .ok_or(bad.clone())?;
        }
        self.pos = start + len + 1;
        Ok(n)
    }

    fn int(&mut self) -> Result<i64, DecodeError> {
        self.number(b'e', true)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let at = self.pos;
        let len = self.number(b':', false)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::BadNumber { at })?;
        if len > self.limits.max_bytes {
            return Err(DecodeError::TooLong {
                at,
                len,
                max: self.limits.max_bytes,
            });
        }
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.input.len())
            .ok_or(DecodeError::Eof {
                at: self.input.len(),
            })?;
        let b = self.input[self.pos..end].to_vec();
        self.pos = end;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Result<Value, DecodeError> {
        decode(s.as_bytes())
    }

    #[test]
    fn scalars() {
        assert_eq!(d("i42e"), Ok(Value::Int(42)));
        assert_eq!(d("i-7e"), Ok(Value::Int(-7)));
        assert_eq!(d("i0e"), Ok(Value::Int(0)));
        assert_eq!(d("i9223372036854775807e"), Ok(Value::Int(i64::MAX)));
        assert_eq!(d("i-9223372036854775808e"), Ok(Value::Int(i64::MIN)));
        assert_eq!(d("4:spam"), Ok(Value::str("spam")));
        assert_eq!(d("0:"), Ok(Value::str("")));
    }

    #[test]
    fn strictness() {
        for bad in [
            "i03e",
            "i-0e",
            "ie",
            "i-e",
            "i1",
            "03:abc",
            "4:abc",
            "-1:a",
            "i9223372036854775808e",
            "l",
            "d",
            "di1ei2ee",
            "d1:ae",
            "d1:a1:b1:a1:ce",
            "i1ei2e",
            "x",
            "",
            "e",
            "1:ab",
            "i+1e",
            "i 1e",
        ] {
            assert!(d(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn containers_and_unsorted_keys() {
        let v = d("d1:bi2e1:al1:xi-1eee").unwrap();
        assert_eq!(v.get("a").and_then(Value::as_list).map(<[_]>::len), Some(2));
        assert_eq!(v.get("b").and_then(Value::as_int), Some(2));
        // Output is sorted.
        assert_eq!(v.encode(), b"d1:al1:xi-1ee1:bi2ee");
        assert_eq!(d("le"), Ok(Value::List(vec![])));
        assert_eq!(d("de"), Ok(Value::Dict(BTreeMap::new())));
    }

    #[test]
    fn limits() {
        let deep = "l".repeat(40) + &"e".repeat(40);
        assert!(matches!(d(&deep), Err(DecodeError::TooDeep { .. })));
        let ok = "l".repeat(32) + &"e".repeat(32);
        assert!(d(&ok).is_ok());
        let big = Limits {
            max_bytes: 3,
            ..Limits::default()
        };
        assert!(matches!(
            decode_with(b"4:abcd", big),
            Err(DecodeError::TooLong { .. })
        ));
        let few = Limits {
            max_items: 3,
            ..Limits::default()
        };
        assert!(matches!(
            decode_with(b"li1ei2ei3ee", few),
            Err(DecodeError::TooMany { .. })
        ));
        // A huge declared length does not allocate or panic.
        assert!(d("99999999999999999999999:x").is_err());
        assert!(d("9999:x").is_err());
    }

    #[test]
    fn prefix() {
        let (v, n) = decode_prefix(b"i5exyz", Limits::default()).unwrap();
        assert_eq!((v, n), (Value::Int(5), 3));
    }

    #[test]
    fn integers_and_length_prefixes_encode_in_decimal() {
        for (n, text) in [
            (0i64, "i0e"),
            (7, "i7e"),
            (-7, "i-7e"),
            (1_000_000, "i1000000e"),
            (i64::MAX, "i9223372036854775807e"),
            (i64::MIN, "i-9223372036854775808e"),
        ] {
            assert_eq!(Value::Int(n).encode(), text.as_bytes());
        }
        for len in [0usize, 9, 10, 99, 100, 12_345] {
            let v = Value::Bytes(vec![b'x'; len]);
            let e = v.encode();
            let prefix = format!("{len}:");
            assert!(e.starts_with(prefix.as_bytes()), "{len}");
            assert_eq!(e.len(), prefix.len() + len);
        }
    }
}
