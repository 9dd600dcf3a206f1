//! BER octets → [`Message`] in one pass, without the [`super::asn`] types in between.
//!
//! The reference is the two-pass path `BinaryCodec::from_asn(&decode_ber(input)?)`: rasn's
//! derived BER decoder builds the `asn` value, [`super::map`] maps it. This module gives the
//! same result for every input (`tests/ber_direct.rs` compares the two): the same model, or an
//! error with the same `code` and `transaction_id` (a BER error: 400, no transaction; a mapping
//! error: the same path and reason too). For that it reads BER the way rasn 0.30's decoder does
//! (see [`Rd`]), walks the ASN.1 module in the order of `asn.rs`, one function per ASN.1 type,
//! and applies the mapping rules through the functions `map.rs` shares with its `Dec`.
//!
//! Two things a one-pass reader must take care of to stay equal to the two-pass path:
//!
//! * **A BER error anywhere wins over a mapping error**: the reference maps only a completely
//!   decoded message. When the walk meets a mapping error it stops; [`decode`] then walks the
//!   input again in *lenient* mode (mapping rules give a placeholder instead of an error, the
//!   model is thrown away) to find any BER error after that point.
//! * **The first mapping error in `map::Dec`'s order**, which is not always the BER order (e.g.
//!   `Dec` maps a RequestedEvent's parameters before its eventAction, and a ServiceChangeParm's
//!   reason before its address). Where the orders differ, the earlier component is decoded
//!   through [`Dd::hold`]: its mapping error is kept (the component is read again leniently to
//!   get past it) and returned where `Dec` would have met it. Leaf values (a termination ID, a
//!   `PkgdName`) are instead read raw and mapped in `Dec`'s order.

use super::map::{
    self, ctx_from, ctx_label, label, why, Broken, EVENT_BUFFER_CONTROLS, MUX_TYPES, RELATIONS,
    SC_METHODS, SERVICE_STATES, SIGNAL_TYPES, STREAM_MODES,
};
use super::tags::{
    self, universal, Tag, BIT_STRING, CONTEXT, ENUMERATED, INTEGER, OCTET_STRING, SEQUENCE,
};
use super::termid::TermIdMapping;
use super::BinDecodeError;
use crate::model::*;
use crate::packages::{ItemKind, Registry};
use smallvec::SmallVec;
use std::borrow::Cow;

// =============================================================================================
// Errors.

/// Why the walk stopped: malformed BER (reported as rasn would: 400, no transaction, the
/// component path) or a broken mapping rule (the `map::Dec` error).
///
/// One pointer, so that the walk's `Result`s stay small.
#[derive(Debug)]
struct Fail(Box<FailKind>);

#[derive(Debug)]
enum FailKind {
    Ber(BerFail),
    Map(BinDecodeError),
}

impl Fail {
    fn is_mapping(&self) -> bool {
        matches!(*self.0, FailKind::Map(_))
    }
}

#[derive(Debug)]
struct BerFail {
    /// The components being decoded, innermost first (`Type.component`).
    fields: Vec<&'static str>,
    reason: String,
}

type R<T> = Result<T, Fail>;

#[cold]
#[inline(never)]
fn ber(reason: impl Into<String>) -> Fail {
    Fail(Box::new(FailKind::Ber(BerFail {
        fields: Vec::new(),
        reason: reason.into(),
    })))
}

/// Where an error happened, added on the way out (only on the error path).
trait Located {
    /// Inside ASN.1 component `name` (`Type.component`): for BER errors.
    fn field(self, name: &'static str) -> Self;
    /// Inside the message part `label` names: for mapping errors, as `map::Dec::at`.
    fn at(self, label: impl FnOnce() -> String) -> Self;
}

/// Only a branch on the `Ok` path: the work is in [`Fail::in_field`] / [`Fail::at_label`], out
/// of line (an inlined `map_err` closure that builds a label made the hot functions bigger,
/// and a `map_err` left out of line moved every `Ok` value through memory).
impl<T> Located for R<T> {
    #[inline(always)]
    fn field(self, name: &'static str) -> Self {
        match self {
            Ok(v) => Ok(v),
            Err(e) => Err(e.in_field(name)),
        }
    }

    #[inline(always)]
    fn at(self, label: impl FnOnce() -> String) -> Self {
        match self {
            Ok(v) => Ok(v),
            Err(e) => Err(e.at_label(label)),
        }
    }
}

impl Fail {
    #[cold]
    #[inline(never)]
    fn in_field(mut self, name: &'static str) -> Fail {
        if let FailKind::Ber(b) = &mut *self.0 {
            b.fields.push(name);
        }
        self
    }

    #[cold]
    #[inline(never)]
    fn at_label(mut self, label: impl FnOnce() -> String) -> Fail {
        if let FailKind::Map(m) = &mut *self.0 {
            m.path = map::prefix_path(label(), &m.path);
        }
        self
    }
}

impl From<Fail> for BinDecodeError {
    fn from(f: Fail) -> Self {
        match *f.0 {
            FailKind::Map(m) => m,
            FailKind::Ber(b) => {
                let mut path = b
                    .fields
                    .iter()
                    .rev()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" / ");
                if path.is_empty() {
                    path.push_str("MegacoMessage");
                }
                BinDecodeError {
                    code: map::MALFORMED_CODE,
                    path,
                    transaction_id: None,
                    reason: b.reason,
                }
            }
        }
    }
}

// =============================================================================================
// The BER reader.

/// Nesting levels of constructed encodings that may be entered (rasn's default).
const MAX_DEPTH: u32 = 128;
/// End-of-contents octets (X.690 8.1.5).
const EOC: [u8; 2] = [0, 0];

/// The contents of one element.
#[derive(Clone, Copy)]
enum Len<'a> {
    /// Definite length: exactly these octets.
    Definite(&'a [u8]),
    /// Indefinite length: the contents follow in the reader's input, up to end-of-contents.
    Indefinite,
}

/// Identifier and length of one element (X.690 8.1.2, 8.1.3).
#[derive(Clone, Copy)]
struct Head<'a> {
    tag: Tag,
    constructed: bool,
    len: Len<'a>,
}

/// The contents of a constructed element being read (or of the whole input), as rasn 0.30's
/// BER decoder reads them:
///
/// * `indef`: the contents end at end-of-contents octets (indefinite length; also the top
///   level), else at the end of `input`.
/// * `depth`: constructed levels that may still be entered: entering a SEQUENCE, SET OF or
///   explicit tag when it is 0 is an error, inside it is one less (two less inside a SEQUENCE
///   OF); a constructed string's segments each take one more level.
/// * Integers: leading octets that only repeat the sign are dropped when the encoding is
///   longer than the Rust type; a non-negative value may have one octet more than the type;
///   the constructed bit of a primitive type is not checked; BOOLEAN: any non-zero octet is
///   TRUE.
/// * An explicit tag does not need the constructed bit; a SEQUENCE does.
#[derive(Clone, Copy)]
struct Rd<'a> {
    input: &'a [u8],
    indef: bool,
    /// `u32`, not `usize`: with `indef` it fills one word, so that an `Rd` is three words and
    /// a `Result<Rd, _>` fits the registers more often.
    depth: u32,
}

impl<'a> Rd<'a> {
    fn top(input: &'a [u8]) -> Self {
        Rd {
            input,
            indef: true,
            depth: MAX_DEPTH,
        }
    }

    /// At the end of the contents (where an OPTIONAL component is absent and a SEQUENCE OF
    /// ends).
    #[inline]
    fn at_end(&self) -> bool {
        self.input.is_empty() || (self.indef && self.input.starts_with(&EOC))
    }

    #[inline]
    fn octet(input: &mut &'a [u8]) -> R<u8> {
        let (&b, rest) = input
            .split_first()
            .ok_or_else(|| ber("incomplete: 1 more octet needed"))?;
        *input = rest;
        Ok(b)
    }

    #[inline]
    fn take(input: &mut &'a [u8], n: usize) -> R<&'a [u8]> {
        let (head, rest) = input.split_at_checked(n).ok_or_else(|| {
            ber(format!(
                "incomplete: {} more octet(s) needed",
                n.saturating_sub(input.len())
            ))
        })?;
        *input = rest;
        Ok(head)
    }

    /// Identifier octets (X.690 8.1.2), tag numbers up to `u32::MAX`.
    #[inline]
    fn identifier(input: &mut &'a [u8]) -> R<(Tag, bool)> {
        let first = Self::octet(input)?;
        let mut number = u32::from(first & 0x1f);
        if number == 0x1f {
            number = 0;
            loop {
                let b = Self::octet(input)?;
                if number > u32::MAX >> 7 {
                    return Err(ber("tag number does not fit 32 bits"));
                }
                number = number << 7 | u32::from(b & 0x7f);
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let tag = Tag::new(first >> 6, number);
        if tag == universal(0) {
            return Err(ber("end-of-contents octets where an element is expected"));
        }
        Ok((tag, first & 0x20 != 0))
    }

    /// One element's identifier and length; skips the contents of a definite length.
    #[inline(always)]
    fn head(&mut self, expected: Option<Tag>) -> R<Head<'a>> {
        // The common case inline: a one-octet identifier, a short definite length, the
        // contents there.
        let (id, len, rest) = match self.input {
            [id, len @ 0..=0x7f, rest @ ..] => (*id, usize::from(*len), rest),
            [id, 0x81, len, rest @ ..] => (*id, usize::from(*len), rest),
            _ => return self.head_slow(expected),
        };
        let tag = Tag::short(id);
        if id & 0x1f != 0x1f
            && id & 0xdf != 0
            && expected.is_none_or(|e| e == tag)
            && rest.len() >= len
        {
            let (c, rest) = rest.split_at(len);
            self.input = rest;
            return Ok(Head {
                tag,
                constructed: id & 0x20 != 0,
                len: Len::Definite(c),
            });
        }
        self.head_slow(expected)
    }

    #[inline(never)]
    fn head_slow(&mut self, expected: Option<Tag>) -> R<Head<'a>> {
        let (tag, constructed) = Self::identifier(&mut self.input)?;
        if let Some(e) = expected {
            if tag != e {
                return Err(ber(format!("expected tag {e}, found {tag}")));
            }
        }
        let first = Self::octet(&mut self.input)?;
        let len = match first {
            0..=0x7f => Len::Definite(Self::take(&mut self.input, usize::from(first))?),
            0x80 if constructed => Len::Indefinite,
            0x80 => return Err(ber("indefinite length of a primitive encoding")),
            0xff => return Err(ber("reserved length octet 0xff")),
            _ => {
                let mut n: usize = 0;
                for &b in Self::take(&mut self.input, usize::from(first & 0x7f))? {
                    n = n
                        .checked_mul(256)
                        .ok_or_else(|| ber("length does not fit the platform's usize"))?
                        | usize::from(b);
                }
                Len::Definite(Self::take(&mut self.input, n)?)
            }
        };
        Ok(Head {
            tag,
            constructed,
            len,
        })
    }

    /// The next element's tag, not consumed.
    #[inline(always)]
    fn peek(&self) -> R<Tag> {
        match self.input.first() {
            Some(&id) if id & 0x1f != 0x1f && id & 0xdf != 0 => Ok(Tag::short(id)),
            _ => self.peek_slow(),
        }
    }

    #[inline(never)]
    fn peek_slow(&self) -> R<Tag> {
        let mut input = self.input;
        Ok(Self::identifier(&mut input)?.0)
    }

    /// Whether an OPTIONAL component with `tag` is present.
    #[inline(always)]
    fn opt(&self, tag: Tag) -> R<bool> {
        // A one-octet identifier other than end-of-contents: not at the end, and no error.
        if let Some(&id) = self.input.first() {
            if id & 0x1f != 0x1f && id & 0xdf != 0 {
                return Ok(Tag::short(id) == tag);
            }
        }
        Ok(!self.at_end() && self.peek_slow()? == tag)
    }

    /// The common case of the next element, inline: a one-octet identifier that equals `id`
    /// in the bits of `mask` (0xdf: either encoding, 0xff: exactly), a definite length of up
    /// to three octets (0x82: the outer elements of a message over 255 octets), the contents
    /// there. Consumes the element and gives its contents; `None` (nothing
    /// consumed) for anything else, which the caller reads with the general [`Rd::head`].
    /// `id` is never that of end-of-contents (0): the expected tags are the module's.
    #[inline(always)]
    fn common(&mut self, id: u16, mask: u8) -> Option<&'a [u8]> {
        let (first, len, rest) = match self.input {
            [first, len @ 0..=0x7f, rest @ ..] => (*first, usize::from(*len), rest),
            [first, 0x81, len, rest @ ..] => (*first, usize::from(*len), rest),
            [first, 0x82, hi, lo, rest @ ..] => {
                (*first, usize::from(*hi) << 8 | usize::from(*lo), rest)
            }
            _ => return None,
        };
        if u16::from(first & mask) != id || rest.len() < len {
            return None;
        }
        let (c, rest) = rest.split_at(len);
        self.input = rest;
        Some(c)
    }

    /// The contents of a definite-length element with `tag` (a primitive type).
    #[inline(always)]
    fn primitive(&mut self, tag: Tag) -> R<&'a [u8]> {
        Ok(match self.common(tag.short_id(), 0xdf) {
            Some(c) => c,
            None => self.primitive_slow(tag)?,
        })
    }

    #[inline(never)]
    fn primitive_slow(&mut self, tag: Tag) -> R<&'a [u8]> {
        match self.head(Some(tag))?.len {
            Len::Definite(c) => Ok(c),
            Len::Indefinite => Err(ber("indefinite length where a primitive value is expected")),
        }
    }

    /// Enters a constructed element with `tag` (`sequence`: the constructed bit is required,
    /// as for a SEQUENCE; not for an explicit tag). Finish with [`Rd::close`].
    #[inline(always)]
    fn open(&mut self, tag: Tag, sequence: bool) -> R<Rd<'a>> {
        let (id, mask) = if sequence {
            (tag.short_id() | 0x20, 0xff)
        } else {
            (tag.short_id(), 0xdf)
        };
        // Built from parts, not returned from either branch: a `Result<Rd, _>` the inline
        // path and `open_slow` both wrote was kept in memory and copied on every open.
        let common = if self.depth != 0 {
            self.common(id, mask)
        } else {
            None
        };
        let (input, indef) = match common {
            Some(c) => (c, false),
            None => {
                let r = self.open_slow(tag, sequence)?;
                (r.input, r.indef)
            }
        };
        Ok(Rd {
            input,
            indef,
            depth: self.depth - 1,
        })
    }

    #[inline(never)]
    fn open_slow(&mut self, tag: Tag, sequence: bool) -> R<Rd<'a>> {
        if self.depth == 0 {
            return Err(ber("nesting deeper than the decoder's limit of 128 levels"));
        }
        let h = self.head(Some(tag))?;
        if sequence && !h.constructed {
            return Err(ber("primitive encoding of a constructed type"));
        }
        Ok(match h.len {
            Len::Definite(c) => Rd {
                input: c,
                indef: false,
                depth: self.depth - 1,
            },
            Len::Indefinite => Rd {
                input: self.input,
                indef: true,
                depth: self.depth - 1,
            },
        })
    }

    /// Enters a SEQUENCE OF with `tag`: iterate with `while !inner.at_end()`.
    #[inline(always)]
    fn open_list(&mut self, tag: Tag) -> R<Rd<'a>> {
        let mut inner = self.open(tag, true)?;
        inner.depth = inner.depth.saturating_sub(1);
        Ok(inner)
    }

    /// How many elements a SEQUENCE OF entered with [`Rd::open_list`] seems to have (the
    /// well-formed one-octet-tag, definite-length ones at its start, at most 16): the capacity
    /// of the model's Vec, so that it is allocated once and at its size, as `map::Dec` does.
    ///
    /// No `at_end` test: end-of-contents octets and the end of the input fail the patterns
    /// too.
    #[inline]
    fn count_hint(&self) -> usize {
        let mut input = self.input;
        let mut n = 0;
        while n < 16 {
            let (len, rest) = match input {
                [id, len @ 0..=0x7f, rest @ ..] if id & 0x1f != 0x1f && id & 0xdf != 0 => {
                    (usize::from(*len), rest)
                }
                [id, 0x81, len, rest @ ..] if id & 0x1f != 0x1f => (usize::from(*len), rest),
                _ => break,
            };
            match rest.get(len..) {
                Some(rest) => input = rest,
                None => break,
            }
            n += 1;
        }
        n
    }

    /// Leaves `inner` (entered with [`Rd::open`]): its contents must be used up.
    #[inline(always)]
    fn close(&mut self, inner: Rd<'a>) -> R<()> {
        if inner.indef {
            self.input = inner.input;
            self.end_of_contents()
        } else if inner.input.is_empty() {
            Ok(())
        } else {
            Err(ber(format!(
                "{} unexpected octet(s) after the last component",
                inner.input.len()
            )))
        }
    }

    fn end_of_contents(&mut self) -> R<()> {
        match self.input.strip_prefix(&EOC) {
            Some(rest) => {
                self.input = rest;
                Ok(())
            }
            None => Err(ber("missing end-of-contents octets")),
        }
    }

    /// Skips one whole element of any tag, nested indefinite lengths included (iteratively,
    /// without a depth limit, as rasn's `decode_any`).
    fn skip(&mut self) -> R<Tag> {
        let h = self.head(None)?;
        if let Len::Indefinite = h.len {
            let mut open = 0usize;
            loop {
                if let Some(rest) = self.input.strip_prefix(&EOC) {
                    self.input = rest;
                    if open == 0 {
                        break;
                    }
                    open -= 1;
                } else if let Len::Indefinite = self.head(None)?.len {
                    open += 1;
                }
            }
        }
        Ok(h.tag)
    }

    /// The end of an extensible SEQUENCE (asn.rs's `Ext<N>`): unknown extension additions,
    /// context tags `[first]` and up, are skipped; anything else is an error.
    #[inline(always)]
    fn extensions(&mut self, first: u32) -> R<()> {
        if self.at_end() {
            return Ok(());
        }
        self.extensions_slow(first)
    }

    #[inline(never)]
    fn extensions_slow(&mut self, first: u32) -> R<()> {
        while !self.at_end() {
            let tag = self.skip()?;
            if tag.class() != CONTEXT || tag.number() < first {
                return Err(ber(format!(
                    "unexpected element {tag} where only extension additions (context tags \
                     [{first}] and up) may follow"
                )));
            }
        }
        Ok(())
    }

    // --- Values.

    /// INTEGER of an unsigned Rust type of `width` octets.
    #[inline(always)]
    fn unsigned(&mut self, tag: Tag, width: usize) -> R<u64> {
        let c = self.primitive(tag)?;
        // The common case: non-negative, at most `width` octets, or one more when that is a
        // leading 0 (a value with the type's top bit set, such as context ID 0xFFFFFFFE).
        if let [first, ..] = c {
            if first & 0x80 == 0 && (c.len() <= width || (c.len() == width + 1 && *first == 0)) {
                // One and two octets (most values) without the general loop's setup.
                return Ok(match *c {
                    [a] => u64::from(a),
                    [a, b] => u64::from(u16::from_be_bytes([a, b])),
                    _ => c.iter().fold(0u64, |v, &b| v << 8 | u64::from(b)),
                });
            }
        }
        self.unsigned_slow(c, width)
    }

    #[inline(never)]
    fn unsigned_slow(&self, c: &[u8], width: usize) -> R<u64> {
        let c = if c.len() > width {
            without_sign_octets(c)
        } else {
            c
        };
        let digits = match c {
            [] => return Err(ber("empty INTEGER")),
            [first, ..] if first & 0x80 != 0 => {
                return Err(ber("negative INTEGER for an unsigned type"))
            }
            [0, rest @ ..] if rest.len() == width => rest,
            c if c.len() > width => {
                return Err(ber(format!("INTEGER does not fit {} bits", width * 8)))
            }
            c => c,
        };
        if digits.is_empty() {
            return Err(ber("empty INTEGER"));
        }
        Ok(digits.iter().fold(0u64, |v, &b| v << 8 | u64::from(b)))
    }

    #[inline(always)]
    fn u8(&mut self, tag: Tag) -> R<u8> {
        self.unsigned(tag, 1).map(|v| v as u8)
    }

    #[inline(always)]
    fn u16(&mut self, tag: Tag) -> R<u16> {
        self.unsigned(tag, 2).map(|v| v as u16)
    }

    #[inline(always)]
    fn u32(&mut self, tag: Tag) -> R<u32> {
        self.unsigned(tag, 4).map(|v| v as u32)
    }

    /// ENUMERATED (read as rasn's `isize`, 8 octets).
    #[inline]
    fn enumerated(&mut self, tag: Tag) -> R<i64> {
        let c = self.primitive(tag)?;
        // The common case: one octet.
        if let [b] = c {
            return Ok(i64::from(*b as i8));
        }
        let c = if c.len() > 8 {
            without_sign_octets(c)
        } else {
            c
        };
        match c {
            [] => Err(ber("empty ENUMERATED")),
            c if c.len() > 8 => Err(ber("ENUMERATED value does not fit 64 bits")),
            [first, ..] => Ok(c
                .iter()
                .skip(1)
                .fold(i64::from(*first as i8), |v, &b| v << 8 | i64::from(b))),
        }
    }

    /// ENUMERATED whose values are the indexes of `values`.
    fn enum_of<T: Clone>(&mut self, tag: Tag, values: &[T]) -> R<T> {
        let v = self.enumerated(tag)?;
        usize::try_from(v)
            .ok()
            .and_then(|i| values.get(i))
            .cloned()
            .ok_or_else(|| ber(format!("ENUMERATED value {v} not in the type")))
    }

    fn boolean(&mut self, tag: Tag) -> R<bool> {
        match self.primitive(tag)? {
            [b] => Ok(*b != 0),
            c => Err(ber(format!("BOOLEAN of {} octets", c.len()))),
        }
    }

    #[inline]
    fn null(&mut self, tag: Tag) -> R<()> {
        match self.primitive(tag)? {
            [] => Ok(()),
            c => Err(ber(format!("NULL of {} octets", c.len()))),
        }
    }

    /// OCTET STRING: borrowed when primitive, gathered from the segments when constructed.
    #[inline(always)]
    fn octets(&mut self, tag: Tag) -> R<Cow<'a, [u8]>> {
        // `?` and a new `Ok`, as in `open`, so that the result can stay in registers.
        Ok(match self.common(tag.short_id(), 0xff) {
            Some(c) => Cow::Borrowed(c),
            None => self.octets_slow(tag)?,
        })
    }

    #[inline(never)]
    fn octets_slow(&mut self, tag: Tag) -> R<Cow<'a, [u8]>> {
        let h = self.head(Some(tag))?;
        if let (Len::Definite(c), false) = (h.len, h.constructed) {
            return Ok(Cow::Borrowed(c));
        }
        let mut out = Vec::new();
        self.segments(h, OCTET_STRING, &mut |seg| {
            out.extend_from_slice(seg);
            Ok(())
        })?;
        Ok(Cow::Owned(out))
    }

    /// OCTET STRING (SIZE(N)).
    #[inline(always)]
    fn fixed<const N: usize>(&mut self, tag: Tag) -> R<[u8; N]> {
        let o = self.octets(tag)?;
        <[u8; N]>::try_from(&*o)
            .map_err(|_| ber(format!("OCTET STRING of {} octets, {N} required", o.len())))
    }

    /// IA5String: octets 0x00 to 0x7f.
    fn ia5(&mut self, tag: Tag) -> R<Cow<'a, [u8]>> {
        let o = self.octets(tag)?;
        if o.is_ascii() {
            Ok(o)
        } else {
            Err(ber("an octet above 0x7f is not an IA5String character"))
        }
    }

    /// BIT STRING: its first 16 bits and its length.
    fn bits(&mut self, tag: Tag) -> R<Bits> {
        let h = self.head(Some(tag))?;
        let mut bits = Bits::default();
        let mut add = |seg: &[u8]| -> R<()> {
            let (&unused, octets) = seg
                .split_first()
                .ok_or_else(|| ber("BIT STRING segment without its unused-bits octet"))?;
            let len = if unused > 7 {
                None
            } else {
                (octets.len() * 8).checked_sub(usize::from(unused))
            };
            let len = len.ok_or_else(|| ber(format!("BIT STRING with {unused} unused bits")))?;
            bits.append(octets, len);
            Ok(())
        };
        if let (Len::Definite(c), false) = (h.len, h.constructed) {
            add(c)?;
        } else {
            self.segments(h, BIT_STRING, &mut add)?;
        }
        Ok(bits)
    }

    /// The segments of a string encoding `h` (X.690 8.6.4, 8.7.3): primitive `segment` tagged
    /// strings, or constructed ones in turn, each constructed level one level deeper.
    fn segments(
        &mut self,
        h: Head<'a>,
        segment: Tag,
        add: &mut dyn FnMut(&'a [u8]) -> R<()>,
    ) -> R<()> {
        match h.len {
            Len::Definite(c) if !h.constructed => add(c),
            Len::Definite(c) => {
                let mut inner = self.nested_string(c)?;
                inner.string_segments(segment, add)?;
                if inner.input.is_empty() {
                    Ok(())
                } else {
                    Err(ber("octets after the segments of a constructed string"))
                }
            }
            Len::Indefinite => {
                let mut inner = self.nested_string(self.input)?;
                inner.string_segments(segment, add)?;
                inner.end_of_contents()?;
                self.input = inner.input;
                Ok(())
            }
        }
    }

    fn nested_string(&self, input: &'a [u8]) -> R<Rd<'a>> {
        let depth = self.depth.checked_sub(1).ok_or_else(|| {
            ber("constructed string nested deeper than the decoder's limit of 128 levels")
        })?;
        Ok(Rd {
            input,
            indef: false,
            depth,
        })
    }

    fn string_segments(&mut self, segment: Tag, add: &mut dyn FnMut(&'a [u8]) -> R<()>) -> R<()> {
        while !(self.input.is_empty() || self.input.starts_with(&EOC)) {
            let h = self.head(Some(segment))?;
            self.segments(h, segment, add)?;
        }
        Ok(())
    }

    /// OBJECT IDENTIFIER: only checked (the model carries none).
    fn object_identifier(&mut self, tag: Tag) -> R<()> {
        let mut c = self.primitive(tag)?;
        loop {
            // Each arc in base 128 fitting 32 bits; at least one.
            let mut arc: u32 = 0;
            loop {
                let b = Self::octet(&mut c)?;
                if arc > u32::MAX >> 7 {
                    return Err(ber("OBJECT IDENTIFIER arc does not fit 32 bits"));
                }
                arc = arc << 7 | u32::from(b & 0x7f);
                if b & 0x80 == 0 {
                    break;
                }
            }
            if c.is_empty() {
                return Ok(());
            }
        }
    }
}

/// `c` without the leading octets that only repeat the sign of the next one.
fn without_sign_octets(c: &[u8]) -> &[u8] {
    let sign = c.first().map_or(0, |f| f & 0x80);
    let fill = if sign == 0 { 0x00 } else { 0xff };
    let redundant = c
        .windows(2)
        .take_while(|p| matches!(p, [a, b] if *a == fill && b & 0x80 == sign))
        .count();
    c.get(redundant..).unwrap_or(c)
}

/// The named bits of a BIT STRING the model reads (audit tokens, NotifyCompletion: bits 0..9).
#[derive(Default, Clone, Copy)]
struct Bits {
    first: u16,
    len: usize,
}

impl Bits {
    fn append(&mut self, octets: &[u8], len: usize) {
        for i in 0..len.min(16usize.saturating_sub(self.len)) {
            if octets
                .get(i / 8)
                .is_some_and(|o| o & (0x80 >> (i % 8)) != 0)
            {
                self.first |= 1 << (self.len + i);
            }
        }
        self.len = self.len.saturating_add(len);
    }

    fn get(&self, bit: usize) -> bool {
        bit < 16 && self.first & (1 << bit) != 0
    }
}

/// A `TerminationID` as read, before mapping: wildcard octets and id octets.
#[derive(PartialEq, Eq)]
struct RawTid<'a> {
    wildcard: SmallVec<[u8; 8]>,
    id: Cow<'a, [u8]>,
}

/// `MId` and `ServiceChangeAddress` share these alternatives (at other tags).
#[derive(Clone, Copy)]
enum Address {
    Ip4,
    Ip6,
    Domain,
    Device,
    Mtp,
}

// =============================================================================================
// The walk.

/// One decoding of one message.
struct Dd<'c> {
    reg: &'c Registry,
    tids: &'c TermIdMapping,
    /// The transaction being decoded (mapping errors carry it).
    transaction: Option<u32>,
    /// Mapping rules give placeholders instead of errors (the BER-only second walk, and a
    /// held component's re-read).
    lenient: bool,
}

/// BER → model, as `from_asn(&decode_ber(input)?)` gives it.
pub(crate) fn decode(
    reg: &Registry,
    tids: &TermIdMapping,
    input: &[u8],
) -> Result<Message, BinDecodeError> {
    let mut d = Dd {
        reg,
        tids,
        transaction: None,
        lenient: false,
    };
    // Filled in place: moving the finished message out through `Result`s cost a copy of its
    // just-written fields (store-to-load forwarding stalls; measured).
    let mut msg = empty_message();
    match d.message(input, &mut msg) {
        Ok(()) => Ok(msg),
        Err(e) if e.is_mapping() => {
            // A BER error after the mapping error wins, as in the reference.
            d.transaction = None;
            d.lenient = true;
            match d.message(input, &mut empty_message()) {
                Err(ber) => Err(ber.into()),
                Ok(()) => {
                    let mut e = BinDecodeError::from(e);
                    map::whole_message_path(&mut e.path);
                    Err(e)
                }
            }
        }
        Err(ber) => Err(ber.into()),
    }
}

/// The message [`Dd::message`] fills.
fn empty_message() -> Message {
    Message {
        auth: None,
        version: 0,
        mid: MId::Device(Text::default()),
        body: MessageBody::Transactions(Transactions::new()),
    }
}

impl<'c> Dd<'c> {
    // --- Mapping rules.

    #[cold]
    fn broke(&self, b: Broken) -> Fail {
        Fail(Box::new(FailKind::Map(map::broken_error(
            b,
            self.transaction,
        ))))
    }

    /// A rule's result; in lenient mode a broken rule gives `fallback`.
    #[inline]
    fn rule<T>(&self, r: Result<T, Broken>, fallback: impl FnOnce() -> T) -> R<T> {
        match r {
            Ok(v) => Ok(v),
            Err(_) if self.lenient => Ok(fallback()),
            Err(b) => Err(self.broke(b)),
        }
    }

    /// A rule that only holds or not.
    #[inline]
    fn check(&self, holds: bool, broken: impl FnOnce() -> Broken) -> R<()> {
        if holds || self.lenient {
            Ok(())
        } else {
            Err(self.broke(broken()))
        }
    }

    /// Decodes a component whose mapping errors `map::Dec` meets later than those of the
    /// components after it: its mapping error is returned beside the value (read again
    /// leniently to get past it), for the caller to return at `Dec`'s point.
    fn hold<'a, T>(
        &mut self,
        rd: &mut Rd<'a>,
        f: impl Fn(&mut Self, &mut Rd<'a>) -> R<T>,
    ) -> R<(T, Option<Fail>)> {
        let start = *rd;
        match f(self, rd) {
            Err(e) if e.is_mapping() && !self.lenient => {
                *rd = start;
                self.lenient = true;
                let again = f(self, rd);
                self.lenient = false;
                Ok((again?, Some(e)))
            }
            r => Ok((r?, None)),
        }
    }

    fn name(&self, kind: ItemKind, n: [u8; 4]) -> R<Text> {
        self.rule(map::pkgd_name(self.reg, kind, n), Text::default)
    }

    fn tid(&self, t: &RawTid<'_>) -> R<TerminationId> {
        self.rule(map::term_id(self.tids, &t.wildcard, &t.id), || {
            TerminationId(Text::default())
        })
    }

    fn text(&self, what: impl FnOnce() -> String, o: &[u8]) -> R<Text> {
        self.rule(map::text_value(what, o), Text::default)
    }

    // --- MegacoMessage, Message.

    /// Fills `msg` (an [`empty_message`]).
    fn message(&mut self, input: &[u8], msg: &mut Message) -> R<()> {
        use tags::MegacoMessage as T;
        let mut top = Rd::top(input);
        let mut rd = top.open(SEQUENCE, true)?;
        if rd.opt(T::authHeader)? {
            msg.auth = Some(
                self.auth_header(&mut rd)
                    .field("MegacoMessage.auth_header")?,
            );
        }
        self.mess(&mut rd, msg).field("MegacoMessage.mess")?;
        top.close(rd)?;
        if !top.input.is_empty() {
            return Err(ber(format!(
                "{} octet(s) after the end of the MegacoMessage at offset {}",
                top.input.len(),
                input.len() - top.input.len()
            )));
        }
        Ok(())
    }

    fn auth_header(&mut self, rd: &mut Rd<'_>) -> R<AuthHeader> {
        use tags::AuthenticationHeader as T;
        let mut s = rd.open(tags::MegacoMessage::authHeader, true)?;
        let spi = s
            .fixed::<4>(T::secParmIndex)
            .field("AuthenticationHeader.sec_parm_index")?;
        let seq = s
            .fixed::<4>(T::seqNum)
            .field("AuthenticationHeader.seq_num")?;
        let ad = s.octets(T::ad).field("AuthenticationHeader.ad")?;
        rd.close(s)?;
        Ok(AuthHeader {
            spi: u32::from_be_bytes(spi),
            seq_num: u32::from_be_bytes(seq),
            data: ad.into_owned(),
        })
    }

    /// Fills `msg`'s version, mId and body.
    fn mess(&mut self, rd: &mut Rd<'_>, msg: &mut Message) -> R<()> {
        use tags::Message as T;
        let mut s = rd.open(tags::MegacoMessage::mess, true)?;
        msg.version = s.u8(T::version).field("Message.version")?;
        let mut e = s.open(T::mId, false).field("Message.m_id")?;
        self.mid(&mut e, &mut msg.mid)
            .field("Message.m_id")
            .at(|| "mId".to_string())?;
        s.close(e).field("Message.m_id")?;
        let mut e = s
            .open(T::messageBody, false)
            .field("Message.message_body")?;
        self.message_body(&mut e, &mut msg.body)
            .field("Message.message_body")?;
        s.close(e).field("Message.message_body")?;
        s.extensions(T::EXT).field("Message.ext")?;
        rd.close(s)?;
        Ok(())
    }

    /// Fills `body` (empty transactions).
    fn message_body(&mut self, rd: &mut Rd<'_>, body: &mut MessageBody) -> R<()> {
        use tags::MessageBody as T;
        match rd.peek()? {
            T::messageError => {
                *body = MessageBody::Error(self.error(rd, T::messageError)?);
                Ok(())
            }
            T::transactions => {
                let mut l = rd.open_list(T::transactions)?;
                // `decode` passes an empty message; anything else is a bug here, reported
                // as an error rather than a panic.
                let MessageBody::Transactions(out) = body else {
                    return Err(ber("internal: the message body to fill is not empty"));
                };
                out.reserve_exact(l.count_hint());
                while !l.at_end() {
                    self.transaction(&mut l, out)?;
                }
                rd.close(l)?;
                Ok(())
            }
            t => Err(no_choice("MessageBody", t)),
        }
    }

    /// `MId` (the alternative at `rd`), into `out` (as `address`).
    fn mid(&mut self, rd: &mut Rd<'_>, out: &mut MId) -> R<()> {
        use tags::MId as T;
        let (tag, alt) = match rd.peek()? {
            T::ip4Address => (T::ip4Address, Address::Ip4),
            T::ip6Address => (T::ip6Address, Address::Ip6),
            T::domainName => (T::domainName, Address::Domain),
            T::deviceName => (T::deviceName, Address::Device),
            T::mtpAddress => (T::mtpAddress, Address::Mtp),
            t => return Err(no_choice("MId", t)),
        };
        self.address(rd, tag, alt, out)
    }

    /// One of the address alternatives of `MId` / `ServiceChangeAddress`, tagged `tag`, into
    /// `out`: the caller reading the returned value's discriminant right after it was
    /// written stalled the store-to-load forwarding (measured).
    fn address(&mut self, rd: &mut Rd<'_>, tag: Tag, alt: Address, out: &mut MId) -> R<()> {
        *out = match alt {
            Address::Ip4 => {
                let (addr, port) = ip_address::<4>(rd, tag).field("IP4Address")?;
                MId::Ip4 {
                    addr: addr.into(),
                    port,
                }
            }
            Address::Ip6 => {
                let (addr, port) = ip_address::<16>(rd, tag).field("IP6Address")?;
                MId::Ip6 {
                    addr: addr.into(),
                    port,
                }
            }
            Address::Domain => {
                use tags::DomainName as T;
                let mut s = rd.open(tag, true)?;
                let name = s.ia5(T::name).field("DomainName.name")?;
                let port = if s.opt(T::portNumber)? {
                    Some(s.u16(T::portNumber).field("DomainName.port_number")?)
                } else {
                    None
                };
                rd.close(s)?;
                MId::Domain {
                    name: map::ia5_text(&name),
                    port,
                }
            }
            Address::Device => MId::Device(map::ia5_text(&rd.ia5(tag)?)),
            Address::Mtp => {
                let o = rd.octets(tag)?;
                MId::Mtp(self.rule(map::mtp_address(&o), Text::default)?)
            }
        };
        Ok(())
    }

    fn error(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<ErrorDescriptor> {
        use tags::ErrorDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let code = s.u16(T::errorCode).field("ErrorDescriptor.error_code")?;
        let text = if s.opt(T::errorText)? {
            Some(map::ia5_text(&s.ia5(T::errorText).field("ErrorDescriptor.error_text")?).into())
        } else {
            None
        };
        rd.close(s)?;
        Ok(ErrorDescriptor { code, text })
    }

    // --- Transactions.

    /// Pushes onto `out`, as `command_request`.
    fn transaction(&mut self, rd: &mut Rd<'_>, out: &mut Transactions) -> R<()> {
        use tags::Transaction as T;
        match rd.peek()? {
            T::transactionRequest => self.transaction_request(rd, out),
            T::transactionPending => {
                let mut s = rd.open(T::transactionPending, true)?;
                let id = s
                    .u32(tags::TransactionPending::transactionId)
                    .field("TransactionPending.transaction_id")?;
                s.extensions(tags::TransactionPending::EXT)
                    .field("TransactionPending.ext")?;
                rd.close(s)?;
                out.push(Transaction::Pending(id));
                Ok(())
            }
            T::transactionReply => self.transaction_reply(rd, out),
            T::transactionResponseAck => {
                use tags::TransactionAck as A;
                let mut l = rd.open_list(T::transactionResponseAck)?;
                let mut acks = Vec::with_capacity(l.count_hint());
                while !l.at_end() {
                    let mut s = l.open(SEQUENCE, true)?;
                    let first = s.u32(A::firstAck).field("TransactionAck.first_ack")?;
                    let last = if s.opt(A::lastAck)? {
                        Some(s.u32(A::lastAck).field("TransactionAck.last_ack")?)
                    } else {
                        None
                    };
                    l.close(s)?;
                    acks.push(TransactionAck { first, last });
                }
                rd.close(l)?;
                out.push(Transaction::ResponseAck(acks));
                Ok(())
            }
            T::segmentReply => {
                use tags::SegmentReply as S;
                let mut s = rd.open(T::segmentReply, true)?;
                let id = s
                    .u32(S::transactionId)
                    .field("SegmentReply.transaction_id")?;
                let segment_number = s
                    .u16(S::segmentNumber)
                    .field("SegmentReply.segment_number")?;
                let complete = if s.opt(S::segmentationComplete)? {
                    s.null(S::segmentationComplete)
                        .field("SegmentReply.segmentation_complete")?;
                    true
                } else {
                    false
                };
                s.extensions(S::EXT).field("SegmentReply.ext")?;
                rd.close(s)?;
                out.push(Transaction::SegmentReply(SegmentReply {
                    id,
                    segment_number,
                    segmentation_complete: complete,
                }));
                Ok(())
            }
            t => Err(no_choice("Transaction", t)),
        }
    }

    fn transaction_request(&mut self, rd: &mut Rd<'_>, out: &mut Transactions) -> R<()> {
        use tags::TransactionRequest as T;
        let mut s = rd.open(tags::Transaction::transactionRequest, true)?;
        let id = s
            .u32(T::transactionId)
            .field("TransactionRequest.transaction_id")?;
        self.transaction = Some(id);
        let mut l = s
            .open_list(T::actions)
            .field("TransactionRequest.actions")?;
        let mut actions = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            self.action_request(&mut l, &mut actions)
                .field("TransactionRequest.actions")
                .at(|| label::transaction(id))?;
        }
        s.close(l).field("TransactionRequest.actions")?;
        self.transaction = None;
        s.extensions(T::EXT).field("TransactionRequest.ext")?;
        rd.close(s)?;
        out.push(Transaction::Request(TransactionRequest { id, actions }));
        Ok(())
    }

    fn transaction_reply(&mut self, rd: &mut Rd<'_>, out: &mut Transactions) -> R<()> {
        use tags::TransactionReply as T;
        let mut s = rd.open(tags::Transaction::transactionReply, true)?;
        let id = s
            .u32(T::transactionId)
            .field("TransactionReply.transaction_id")?;
        let imm_ack_required = if s.opt(T::immAckRequired)? {
            s.null(T::immAckRequired)
                .field("TransactionReply.imm_ack_required")?;
            true
        } else {
            false
        };
        self.transaction = Some(id);
        let mut e = s
            .open(T::transactionResult, false)
            .field("TransactionReply.transaction_result")?;
        let result = self
            .transaction_result(&mut e)
            .field("TransactionReply.transaction_result")
            .at(|| label::reply(id))?;
        s.close(e).field("TransactionReply.transaction_result")?;
        self.transaction = None;
        let segment_number = if s.opt(T::segmentNumber)? {
            Some(
                s.u16(T::segmentNumber)
                    .field("TransactionReply.segment_number")?,
            )
        } else {
            None
        };
        let segmentation_complete = if s.opt(T::segmentationComplete)? {
            s.null(T::segmentationComplete)
                .field("TransactionReply.segmentation_complete")?;
            true
        } else {
            false
        };
        s.extensions(T::EXT).field("TransactionReply.ext")?;
        rd.close(s)?;
        out.push(Transaction::Reply(TransactionReply {
            id,
            imm_ack_required,
            result,
            segment_number,
            segmentation_complete,
        }));
        Ok(())
    }

    fn transaction_result(&mut self, rd: &mut Rd<'_>) -> R<TransactionResult> {
        use tags::TransactionResult as T;
        match rd.peek()? {
            T::transactionError => Ok(TransactionResult::Error(
                self.error(rd, T::transactionError)?,
            )),
            T::actionReplies => {
                let mut l = rd.open_list(T::actionReplies)?;
                let mut out = Vec::with_capacity(l.count_hint());
                while !l.at_end() {
                    self.action_reply(&mut l, &mut out)?;
                }
                rd.close(l)?;
                Ok(TransactionResult::Actions(out))
            }
            t => Err(no_choice("TransactionResult", t)),
        }
    }

    // --- Actions, contexts, commands.

    /// Pushes onto `out`, as `command_request`.
    fn action_request(&mut self, rd: &mut Rd<'_>, out: &mut Vec<ActionRequest>) -> R<()> {
        use tags::ActionRequest as T;
        let mut s = rd.open(SEQUENCE, true)?;
        let context = ctx_from(s.u32(T::contextId).field("ActionRequest.context_id")?);
        // Pushed first and filled in place: a finished request pushed from locals was copied
        // (176 bytes) with wide loads of its just-written fields.
        let i = out.len();
        out.push(ActionRequest {
            context,
            context_request: None,
            context_audit: None,
            commands: Vec::new(),
        });
        let a = &mut out[i];
        (|| {
            if s.opt(T::contextRequest)? {
                a.context_request = Some(
                    self.context_request(&mut s, T::contextRequest)
                        .field("ActionRequest.context_request")
                        .at(|| "contextRequest".to_string())?,
                );
            }
            if s.opt(T::contextAttrAuditReq)? {
                a.context_audit = Some(
                    self.context_audit(&mut s)
                        .field("ActionRequest.context_attr_audit_req")
                        .at(|| "contextAttrAuditReq".to_string())?,
                );
            }
            let mut l = s
                .open_list(T::commandRequests)
                .field("ActionRequest.command_requests")?;
            a.commands.reserve_exact(l.count_hint());
            while !l.at_end() {
                let i = a.commands.len();
                self.command_request(&mut l, &mut a.commands)
                    .field("ActionRequest.command_requests")
                    .at(|| label::command(i))?;
            }
            s.close(l).field("ActionRequest.command_requests")?;
            rd.close(s)
        })()
        .at(|| ctx_label(&context))
    }

    /// Pushes onto `out`, as `command_request`.
    fn action_reply(&mut self, rd: &mut Rd<'_>, out: &mut Vec<ActionReply>) -> R<()> {
        use tags::ActionReply as T;
        let mut s = rd.open(SEQUENCE, true)?;
        let context = ctx_from(s.u32(T::contextId).field("ActionReply.context_id")?);
        (|| {
            let error = if s.opt(T::errorDescriptor)? {
                Some(
                    self.error(&mut s, T::errorDescriptor)
                        .field("ActionReply.error_descriptor")?,
                )
            } else {
                None
            };
            let context_reply = if s.opt(T::contextReply)? {
                Some(
                    self.context_request(&mut s, T::contextReply)
                        .field("ActionReply.context_reply")
                        .at(|| "contextReply".to_string())?,
                )
            } else {
                None
            };
            let mut l = s
                .open_list(T::commandReply)
                .field("ActionReply.command_reply")?;
            let mut commands = Vec::with_capacity(l.count_hint());
            while !l.at_end() {
                let i = commands.len();
                self.command_reply(&mut l, &mut commands)
                    .field("ActionReply.command_reply")
                    .at(|| label::command_reply(i))?;
            }
            s.close(l).field("ActionReply.command_reply")?;
            // As in `action_request`.
            rd.close(s)?;
            out.push(ActionReply {
                context,
                error,
                context_reply,
                commands,
            });
            Ok(())
        })()
        .at(|| ctx_label(&context))
    }

    fn context_request(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<ContextRequest> {
        use tags::ContextRequest as T;
        let mut s = rd.open(tag, true)?;
        let priority = if s.opt(T::priority)? {
            Some(s.u8(T::priority).field("ContextRequest.priority")?)
        } else {
            None
        };
        let priority = self.rule(map::priority(priority), || None)?;
        let emergency = if s.opt(T::emergency)? {
            Some(s.boolean(T::emergency).field("ContextRequest.emergency")?)
        } else {
            None
        };
        let mut topology = Vec::new();
        if s.opt(T::topologyReq)? {
            let mut l = s
                .open_list(T::topologyReq)
                .field("ContextRequest.topology_req")?;
            while !l.at_end() {
                topology.push(
                    self.topology_request(&mut l)
                        .field("ContextRequest.topology_req")?,
                );
            }
            s.close(l).field("ContextRequest.topology_req")?;
        }
        let ieps_call = if s.opt(T::iepscallind)? {
            Some(
                s.boolean(T::iepscallind)
                    .field("ContextRequest.iepscallind")?,
            )
        } else {
            None
        };
        let props = if s.opt(T::contextProp)? {
            self.props(&mut s, T::contextProp)
                .field("ContextRequest.context_prop")?
        } else {
            Vec::new()
        };
        let mut context_list = Vec::new();
        if s.opt(T::contextList)? {
            let mut l = s
                .open_list(T::contextList)
                .field("ContextRequest.context_list")?;
            while !l.at_end() {
                context_list.push(ctx_from(
                    l.u32(INTEGER).field("ContextRequest.context_list")?,
                ));
            }
            s.close(l).field("ContextRequest.context_list")?;
        }
        s.extensions(T::EXT).field("ContextRequest.ext")?;
        rd.close(s)?;
        Ok(ContextRequest {
            priority,
            emergency,
            topology,
            ieps_call,
            props,
            context_list,
        })
    }

    fn topology_request(&mut self, rd: &mut Rd<'_>) -> R<TopologyRequest> {
        use tags::TopologyRequest as T;
        let mut s = rd.open(SEQUENCE, true)?;
        let from =
            termination_id(&mut s, T::terminationFrom).field("TopologyRequest.termination_from")?;
        let to =
            termination_id(&mut s, T::terminationTo).field("TopologyRequest.termination_to")?;
        let dir = s
            .enum_of(T::topologyDirection, &[0usize, 1, 2])
            .field("TopologyRequest.topology_direction")?;
        let stream = if s.opt(T::streamID)? {
            Some(s.u16(T::streamID).field("TopologyRequest.stream_id")?)
        } else {
            None
        };
        let ext = if s.opt(T::topologyDirectionExtension)? {
            Some(
                s.enum_of(T::topologyDirectionExtension, &[0usize, 1])
                    .field("TopologyRequest.topology_direction_extension")?,
            )
        } else {
            None
        };
        s.extensions(T::EXT).field("TopologyRequest.ext")?;
        rd.close(s)?;
        // `Dec` checks the direction before it maps the termination IDs.
        let direction = self.rule(map::topology_direction_from(dir, ext), || {
            TopologyDirection::Bothway
        })?;
        Ok(TopologyRequest {
            from: self.tid(&from)?,
            to: self.tid(&to)?,
            direction,
            stream,
        })
    }

    fn context_audit(&mut self, rd: &mut Rd<'_>) -> R<ContextAttrAuditRequest> {
        use tags::ContextAttrAuditRequest as T;
        let mut s = rd.open(tags::ActionRequest::contextAttrAuditReq, true)?;
        let null = |s: &mut Rd<'_>, tag: Tag, name: &'static str| -> R<bool> {
            if s.opt(tag)? {
                s.null(tag).field(name)?;
                Ok(true)
            } else {
                Ok(false)
            }
        };
        let topology = null(&mut s, T::topology, "ContextAttrAuditRequest.topology")?;
        let emergency = null(&mut s, T::emergency, "ContextAttrAuditRequest.emergency")?;
        let priority = null(&mut s, T::priority, "ContextAttrAuditRequest.priority")?;
        let ieps_call = null(
            &mut s,
            T::iepscallind,
            "ContextAttrAuditRequest.iepscallind",
        )?;
        let mut props = Vec::new();
        let mut select_props = Vec::new();
        if s.opt(T::contextPropAud)? {
            let mut l = s
                .open_list(T::contextPropAud)
                .field("ContextAttrAuditRequest.context_prop_aud")?;
            while !l.at_end() {
                match self
                    .ind_aud_prop(&mut l)
                    .field("ContextAttrAuditRequest.context_prop_aud")?
                {
                    IndAudProp::Name(n) => props.push(n),
                    IndAudProp::Select(p) => select_props.push(p),
                }
            }
            s.close(l)
                .field("ContextAttrAuditRequest.context_prop_aud")?;
        }
        let select_priority = if s.opt(T::selectpriority)? {
            Some(
                s.u8(T::selectpriority)
                    .field("ContextAttrAuditRequest.selectpriority")?,
            )
        } else {
            None
        };
        let select_priority = self.rule(map::priority(select_priority), || None)?;
        let select_emergency = if s.opt(T::selectemergency)? {
            Some(
                s.boolean(T::selectemergency)
                    .field("ContextAttrAuditRequest.selectemergency")?,
            )
        } else {
            None
        };
        let select_ieps = if s.opt(T::selectiepscallind)? {
            Some(
                s.boolean(T::selectiepscallind)
                    .field("ContextAttrAuditRequest.selectiepscallind")?,
            )
        } else {
            None
        };
        let select_logic = if s.opt(T::selectLogic)? {
            Some(select_logic(&mut s).field("ContextAttrAuditRequest.select_logic")?)
        } else {
            None
        };
        s.extensions(T::EXT).field("ContextAttrAuditRequest.ext")?;
        rd.close(s)?;
        Ok(ContextAttrAuditRequest {
            topology,
            emergency,
            priority,
            ieps_call,
            props,
            select_priority,
            select_emergency,
            select_ieps,
            select_props,
            select_logic,
        })
    }

    /// Pushes the `CommandRequest` onto `out` rather than returning it: moving a large value
    /// out through `Result`s (narrow stores, then wide loads of them) stalls store-to-load
    /// forwarding; measured faster.
    fn command_request(&mut self, rd: &mut Rd<'_>, out: &mut Vec<CommandRequest>) -> R<()> {
        use tags::CommandRequest as T;
        let mut s = rd.open(SEQUENCE, true)?;
        let mut e = s.open(T::command, false).field("CommandRequest.command")?;
        // `command` pushes the request; the flags after it are set in place (building the
        // request from a `Command` local and two flag locals cost wide reloads of narrow
        // stores, as above).
        self.command(&mut e, out).field("CommandRequest.command")?;
        let last = out.len() - 1;
        s.close(e).field("CommandRequest.command")?;
        if s.opt(T::optional)? {
            s.null(T::optional).field("CommandRequest.optional")?;
            out[last].optional = true;
        }
        if s.opt(T::wildcardReturn)? {
            s.null(T::wildcardReturn)
                .field("CommandRequest.wildcard_return")?;
            out[last].wildcard_return = true;
        }
        s.extensions(T::EXT).field("CommandRequest.ext")?;
        rd.close(s)?;
        Ok(())
    }

    /// Pushes a `CommandRequest` of the command, without its flags.
    fn command(&mut self, rd: &mut Rd<'_>, out: &mut Vec<CommandRequest>) -> R<()> {
        use tags::Command as T;
        let command = match rd.peek()? {
            T::addReq => {
                return self
                    .amm(rd, T::addReq, Command::Add, out)
                    .at(|| "Add".to_string())
            }
            T::moveReq => {
                return self
                    .amm(rd, T::moveReq, Command::Move, out)
                    .at(|| "Move".to_string())
            }
            T::modReq => {
                return self
                    .amm(rd, T::modReq, Command::Modify, out)
                    .at(|| "Modify".to_string())
            }
            T::subtractReq => self.subtract(rd).at(|| "Subtract".to_string())?,
            T::auditCapRequest => Command::AuditCapabilities(
                self.audit_request(rd, T::auditCapRequest)
                    .at(|| "AuditCapability".to_string())?,
            ),
            T::auditValueRequest => Command::AuditValue(
                self.audit_request(rd, T::auditValueRequest)
                    .at(|| "AuditValue".to_string())?,
            ),
            T::notifyReq => self.notify_request(rd).at(|| "Notify".to_string())?,
            T::serviceChangeReq => self
                .service_change_request(rd)
                .at(|| "ServiceChange".to_string())?,
            t => return Err(no_choice("Command", t)),
        };
        out.push(CommandRequest {
            command,
            optional: false,
            wildcard_return: false,
        });
        Ok(())
    }

    /// Pushes onto `out`, as `command_request`.
    fn command_reply(&mut self, rd: &mut Rd<'_>, out: &mut Vec<CommandReply>) -> R<()> {
        use tags::CommandReply as T;
        out.push(match rd.peek()? {
            T::addReply => CommandReply::Add(self.amms_reply(rd, T::addReply)?),
            T::moveReply => CommandReply::Move(self.amms_reply(rd, T::moveReply)?),
            T::modReply => CommandReply::Modify(self.amms_reply(rd, T::modReply)?),
            T::subtractReply => CommandReply::Subtract(self.amms_reply(rd, T::subtractReply)?),
            T::auditCapReply => {
                CommandReply::AuditCapabilities(self.audit_reply(rd, T::auditCapReply)?)
            }
            T::auditValueReply => {
                CommandReply::AuditValue(self.audit_reply(rd, T::auditValueReply)?)
            }
            T::notifyReply => {
                use tags::NotifyReply as N;
                let mut s = rd.open(T::notifyReply, true)?;
                let termination_ids = self
                    .tid_list(&mut s, N::terminationID)
                    .field("NotifyReply.termination_id")?;
                let error = if s.opt(N::errorDescriptor)? {
                    Some(
                        self.error(&mut s, N::errorDescriptor)
                            .field("NotifyReply.error_descriptor")?,
                    )
                } else {
                    None
                };
                s.extensions(N::EXT).field("NotifyReply.ext")?;
                rd.close(s)?;
                CommandReply::Notify(NotifyReply {
                    termination_ids,
                    error,
                })
            }
            T::serviceChangeReply => {
                use tags::ServiceChangeReply as S;
                let mut s = rd.open(T::serviceChangeReply, true)?;
                let termination_ids = self
                    .tid_list(&mut s, S::terminationID)
                    .field("ServiceChangeReply.termination_id")?;
                let mut e = s
                    .open(S::serviceChangeResult, false)
                    .field("ServiceChangeReply.service_change_result")?;
                let result = self
                    .service_change_result(&mut e)
                    .field("ServiceChangeReply.service_change_result")?;
                s.close(e)
                    .field("ServiceChangeReply.service_change_result")?;
                s.extensions(S::EXT).field("ServiceChangeReply.ext")?;
                rd.close(s)?;
                CommandReply::ServiceChange(ServiceChangeReply {
                    termination_ids,
                    result,
                })
            }
            t => return Err(no_choice("CommandReply", t)),
        });
        Ok(())
    }

    /// `SEQUENCE OF TerminationID`, mapped in order.
    fn tid_list(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<TermIds> {
        let mut l = rd.open_list(tag)?;
        let mut out = TermIds::with_capacity(l.count_hint());
        while !l.at_end() {
            let t = termination_id(&mut l, SEQUENCE)?;
            out.push(self.tid(&t)?);
        }
        rd.close(l)?;
        Ok(out)
    }

    /// Pushes the `CommandRequest` of the `AmmRequest` (`command`: which of Add, Move,
    /// Modify), without flags, as `command` does: no move of the request through a `Result`.
    fn amm(
        &mut self,
        rd: &mut Rd<'_>,
        tag: Tag,
        command: fn(AmmRequest) -> Command,
        out: &mut Vec<CommandRequest>,
    ) -> R<()> {
        use tags::AmmRequest as T;
        let mut s = rd.open(tag, true)?;
        let termination_ids = self
            .tid_list(&mut s, T::terminationID)
            .field("AmmRequest.termination_id")?;
        let mut l = s
            .open_list(T::descriptors)
            .field("AmmRequest.descriptors")?;
        let mut descriptors = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            self.amm_descriptor(&mut l, &mut descriptors)
                .field("AmmRequest.descriptors")?;
        }
        s.close(l).field("AmmRequest.descriptors")?;
        s.extensions(T::EXT).field("AmmRequest.ext")?;
        rd.close(s)?;
        out.push(CommandRequest {
            command: command(AmmRequest {
                termination_ids,
                descriptors,
            }),
            optional: false,
            wildcard_return: false,
        });
        Ok(())
    }

    /// Pushes onto `out`, as `command_request`.
    fn amm_descriptor(&mut self, rd: &mut Rd<'_>, out: &mut Vec<AmmDescriptor>) -> R<()> {
        use tags::AmmDescriptor as T;
        out.push(match rd.peek()? {
            T::mediaDescriptor => AmmDescriptor::Media(
                self.media(rd, T::mediaDescriptor)
                    .at(|| "Media".to_string())?,
            ),
            T::modemDescriptor => AmmDescriptor::Modem(
                self.modem(rd, T::modemDescriptor)
                    .at(|| "Modem".to_string())?,
            ),
            T::muxDescriptor => {
                AmmDescriptor::Mux(self.mux(rd, T::muxDescriptor).at(|| "Mux".to_string())?)
            }
            T::eventsDescriptor => AmmDescriptor::Events(
                self.events(rd, T::eventsDescriptor)
                    .at(|| "Events".to_string())?,
            ),
            T::eventBufferDescriptor => AmmDescriptor::EventBuffer(
                self.event_buffer(rd, T::eventBufferDescriptor)
                    .at(|| "EventBuffer".to_string())?,
            ),
            T::signalsDescriptor => AmmDescriptor::Signals(
                self.signals(rd, T::signalsDescriptor)
                    .at(|| "Signals".to_string())?,
            ),
            T::digitMapDescriptor => AmmDescriptor::DigitMap(
                self.digit_map_descriptor(rd, T::digitMapDescriptor)
                    .at(|| "DigitMap".to_string())?,
            ),
            T::auditDescriptor => AmmDescriptor::Audit(
                self.audit_descriptor(rd, T::auditDescriptor)
                    .at(|| "Audit".to_string())?,
            ),
            T::statisticsDescriptor => AmmDescriptor::Statistics(
                self.statistics(rd, T::statisticsDescriptor)
                    .at(|| "Statistics".to_string())?,
            ),
            t => return Err(no_choice("AmmDescriptor", t)),
        });
        Ok(())
    }

    fn amms_reply(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<AmmsReply> {
        use tags::AmmsReply as T;
        let mut s = rd.open(tag, true)?;
        let termination_ids = self
            .tid_list(&mut s, T::terminationID)
            .field("AmmsReply.termination_id")?;
        let audit = if s.opt(T::terminationAudit)? {
            Some(
                self.termination_audit(&mut s, T::terminationAudit)
                    .field("AmmsReply.termination_audit")?,
            )
        } else {
            None
        };
        s.extensions(T::EXT).field("AmmsReply.ext")?;
        rd.close(s)?;
        Ok(AmmsReply {
            termination_ids,
            audit,
        })
    }

    fn subtract(&mut self, rd: &mut Rd<'_>) -> R<Command> {
        use tags::SubtractRequest as T;
        let mut s = rd.open(tags::Command::subtractReq, true)?;
        let termination_ids = self
            .tid_list(&mut s, T::terminationID)
            .field("SubtractRequest.termination_id")?;
        let audit = if s.opt(T::auditDescriptor)? {
            Some(
                self.audit_descriptor(&mut s, T::auditDescriptor)
                    .field("SubtractRequest.audit_descriptor")?,
            )
        } else {
            None
        };
        s.extensions(T::EXT).field("SubtractRequest.ext")?;
        rd.close(s)?;
        Ok(Command::Subtract(SubtractRequest {
            termination_ids,
            audit,
        }))
    }

    /// terminationIDList, when present and not empty, is the whole list (terminationID is then
    /// its first). `Dec` checks and maps the list before the audit descriptor.
    fn audit_request(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<AuditRequest> {
        use tags::AuditRequest as T;
        let mut s = rd.open(tag, true)?;
        let first =
            termination_id(&mut s, T::terminationID).field("AuditRequest.termination_id")?;
        let (audit, held) = self.hold(&mut s, |d, s| {
            d.audit_descriptor(s, T::auditDescriptor)
                .field("AuditRequest.audit_descriptor")
        })?;
        let mut termination_ids = TermIds::new();
        if s.opt(T::terminationIDList)? {
            let mut l = s
                .open_list(T::terminationIDList)
                .field("AuditRequest.termination_id_list")?;
            while !l.at_end() {
                let t =
                    termination_id(&mut l, SEQUENCE).field("AuditRequest.termination_id_list")?;
                if termination_ids.is_empty() {
                    self.check(t == first, || Broken::bad(why::AUDIT_ID_NOT_FIRST))?;
                }
                termination_ids.push(self.tid(&t)?);
            }
            s.close(l).field("AuditRequest.termination_id_list")?;
        }
        if termination_ids.is_empty() {
            termination_ids.push(self.tid(&first)?);
        }
        if let Some(e) = held {
            return Err(e);
        }
        s.extensions(T::EXT).field("AuditRequest.ext")?;
        rd.close(s)?;
        Ok(AuditRequest {
            termination_ids,
            audit: Some(audit),
        })
    }

    fn audit_reply(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<AuditReply> {
        use tags::AuditReply as T;
        let mut e = rd.open(tag, false)?;
        let r = match e.peek()? {
            T::contextAuditResult => {
                AuditReply::ContextAuditResult(self.tid_list(&mut e, T::contextAuditResult)?)
            }
            T::error => AuditReply::Error(self.error(&mut e, T::error)?),
            T::auditResult => {
                use tags::AuditResult as A;
                let mut s = e.open(T::auditResult, true)?;
                let t =
                    termination_id(&mut s, A::terminationID).field("AuditResult.termination_id")?;
                let termination_ids = [self.tid(&t)?].into();
                let audit = self
                    .termination_audit(&mut s, A::terminationAuditResult)
                    .field("AuditResult.termination_audit_result")?;
                e.close(s)?;
                AuditReply::AuditResult {
                    termination_ids,
                    audit,
                }
            }
            T::auditResultTermList => {
                use tags::TermListAuditResult as A;
                let mut s = e.open(T::auditResultTermList, true)?;
                let termination_ids = self
                    .tid_list(&mut s, A::terminationIDList)
                    .field("TermListAuditResult.termination_id_list")?;
                self.check(!termination_ids.is_empty(), || {
                    Broken::bad(why::TERM_LIST_EMPTY)
                })?;
                let audit = self
                    .termination_audit(&mut s, A::terminationAuditResult)
                    .field("TermListAuditResult.termination_audit_result")?;
                s.extensions(A::EXT).field("TermListAuditResult.ext")?;
                e.close(s)?;
                AuditReply::AuditResult {
                    termination_ids,
                    audit,
                }
            }
            t => return Err(no_choice("AuditReply", t)),
        };
        rd.close(e)?;
        Ok(r)
    }

    fn termination_audit(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Vec<AuditReturnParameter>> {
        use tags::AuditReturnParameter as T;
        let mut l = rd.open_list(tag)?;
        let mut out = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            let p = match l.peek()? {
                T::errorDescriptor => {
                    AuditReturnParameter::Error(self.error(&mut l, T::errorDescriptor)?)
                }
                T::mediaDescriptor => AuditReturnParameter::Media(
                    self.media(&mut l, T::mediaDescriptor)
                        .at(|| "Media".to_string())?,
                ),
                T::modemDescriptor => AuditReturnParameter::Modem(
                    self.modem(&mut l, T::modemDescriptor)
                        .at(|| "Modem".to_string())?,
                ),
                T::muxDescriptor => AuditReturnParameter::Mux(
                    self.mux(&mut l, T::muxDescriptor)
                        .at(|| "Mux".to_string())?,
                ),
                T::eventsDescriptor => AuditReturnParameter::Events(
                    self.events(&mut l, T::eventsDescriptor)
                        .at(|| "Events".to_string())?,
                ),
                T::eventBufferDescriptor => AuditReturnParameter::EventBuffer(
                    self.event_buffer(&mut l, T::eventBufferDescriptor)
                        .at(|| "EventBuffer".to_string())?,
                ),
                T::signalsDescriptor => AuditReturnParameter::Signals(
                    self.signals(&mut l, T::signalsDescriptor)
                        .at(|| "Signals".to_string())?,
                ),
                T::digitMapDescriptor => AuditReturnParameter::DigitMap(
                    self.digit_map_descriptor(&mut l, T::digitMapDescriptor)
                        .at(|| "DigitMap".to_string())?,
                ),
                T::observedEventsDescriptor => AuditReturnParameter::ObservedEvents(
                    self.observed_events(&mut l, T::observedEventsDescriptor)
                        .at(|| "ObservedEvents".to_string())?,
                ),
                T::statisticsDescriptor => AuditReturnParameter::Statistics(
                    self.statistics(&mut l, T::statisticsDescriptor)
                        .at(|| "Statistics".to_string())?,
                ),
                T::packagesDescriptor => {
                    let mut pl = l.open_list(T::packagesDescriptor)?;
                    let mut items = Vec::with_capacity(pl.count_hint());
                    while !pl.at_end() {
                        items.push(self.packages_item(&mut pl, SEQUENCE, "PackagesItem")?);
                    }
                    l.close(pl)?;
                    AuditReturnParameter::Packages(items)
                }
                T::emptyDescriptors => {
                    let (items, has_props) = self.audit_tokens(&mut l, T::emptyDescriptors)?;
                    self.check(!has_props, || {
                        Broken::unsupported(why::EMPTY_DESCRIPTORS_PROPS)
                    })?;
                    out.extend(items.into_iter().map(AuditReturnParameter::Empty));
                    continue;
                }
                t => return Err(no_choice("AuditReturnParameter", t)),
            };
            out.push(p);
        }
        rd.close(l)?;
        Ok(out)
    }

    fn audit_descriptor(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<AuditDescriptor> {
        self.audit_descriptor_parts(rd, tag, true).map(|(d, _)| d)
    }

    /// `emptyDescriptors`: the tokens, and whether auditPropertyToken is there (which `Dec`
    /// does not map).
    fn audit_tokens(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<(Vec<AuditItem>, bool)> {
        let lenient = self.lenient;
        self.lenient = true;
        let r = self.audit_descriptor_parts(rd, tag, false);
        self.lenient = lenient;
        r.map(|(d, has)| (d.items, has))
    }

    fn audit_descriptor_parts(
        &mut self,
        rd: &mut Rd<'_>,
        tag: Tag,
        map_props: bool,
    ) -> R<(AuditDescriptor, bool)> {
        use tags::AuditDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let items = if s.opt(T::auditToken)? {
            let bits = s.bits(T::auditToken).field("AuditDescriptor.audit_token")?;
            map::audit_items_where(|b| bits.get(b))
        } else {
            Vec::new()
        };
        let mut ind_aud = Vec::new();
        let has_props = s.opt(T::auditPropertyToken)?;
        if has_props {
            let mut l = s
                .open_list(T::auditPropertyToken)
                .field("AuditDescriptor.audit_property_token")?;
            while !l.at_end() {
                let p = self
                    .ind_audit_parameter(&mut l)
                    .field("AuditDescriptor.audit_property_token")?;
                if map_props {
                    ind_aud.push(p);
                }
            }
            s.close(l).field("AuditDescriptor.audit_property_token")?;
        }
        s.extensions(T::EXT).field("AuditDescriptor.ext")?;
        rd.close(s)?;
        Ok((AuditDescriptor { items, ind_aud }, has_props))
    }

    // --- Individual audit.

    fn ind_audit_parameter(&mut self, rd: &mut Rd<'_>) -> R<IndAuditParameter> {
        use tags::IndAuditParameter as T;
        Ok(match rd.peek()? {
            T::indaudmediaDescriptor => {
                IndAuditParameter::Media(self.ind_aud_media(rd).at(|| "Media".to_string())?)
            }
            T::indaudeventsDescriptor => {
                use tags::IndAudEventsDescriptor as E;
                let mut s = rd.open(T::indaudeventsDescriptor, true)?;
                let request_id = if s.opt(E::requestID)? {
                    Some(
                        s.u32(E::requestID)
                            .field("IndAudEventsDescriptor.request_id")?,
                    )
                } else {
                    None
                };
                let name = s
                    .fixed::<4>(E::pkgdName)
                    .field("IndAudEventsDescriptor.pkgd_name")?;
                let stream = s.opt(E::streamID)?;
                if stream {
                    s.u16(E::streamID)
                        .field("IndAudEventsDescriptor.stream_id")?;
                }
                s.extensions(E::EXT).field("IndAudEventsDescriptor.ext")?;
                rd.close(s)?;
                self.check(!stream, || Broken::unsupported(why::IND_AUD_EVENTS_STREAM))?;
                IndAuditParameter::Events {
                    request_id,
                    name: self.name(ItemKind::Event, name)?,
                }
            }
            T::indaudeventBufferDescriptor => {
                use tags::IndAudEventBufferDescriptor as E;
                let mut s = rd.open(T::indaudeventBufferDescriptor, true)?;
                let name = s
                    .fixed::<4>(E::eventName)
                    .field("IndAudEventBufferDescriptor.event_name")?;
                let name = self.name(ItemKind::Event, name)?;
                let stream = if s.opt(E::streamID)? {
                    Some(
                        s.u16(E::streamID)
                            .field("IndAudEventBufferDescriptor.stream_id")?,
                    )
                } else {
                    None
                };
                s.extensions(E::EXT)
                    .field("IndAudEventBufferDescriptor.ext")?;
                rd.close(s)?;
                IndAuditParameter::EventBuffer { name, stream }
            }
            T::indaudsignalsDescriptor => {
                use tags::IndAudSignalsDescriptor as S;
                let mut e = rd.open(T::indaudsignalsDescriptor, false)?;
                let p = match e.peek()? {
                    S::signal => {
                        let (name, stream, request_id) = ind_aud_signal(&mut e, S::signal)?;
                        IndAudSignalParm::Signal {
                            name: self.name(ItemKind::Signal, name)?,
                            stream,
                            request_id,
                        }
                    }
                    S::seqSigList => {
                        use tags::IndAudSeqSigList as L;
                        let mut s = e.open(S::seqSigList, true)?;
                        let id = s.u16(L::id).field("IndAudSeqSigList.id")?;
                        let signal = if s.opt(L::signalList)? {
                            let (name, stream, request_id) = ind_aud_signal(&mut s, L::signalList)
                                .field("IndAudSeqSigList.signal_list")?;
                            self.check(stream.is_none() && request_id.is_none(), || {
                                Broken::unsupported(why::IND_AUD_LIST_SIGNAL)
                            })?;
                            Some(self.name(ItemKind::Signal, name)?)
                        } else {
                            None
                        };
                        e.close(s)?;
                        IndAudSignalParm::List { id, signal }
                    }
                    t => return Err(no_choice("IndAudSignalsDescriptor", t)),
                };
                rd.close(e)?;
                IndAuditParameter::Signals(Some(p))
            }
            T::indauddigitMapDescriptor => {
                use tags::IndAudDigitMapDescriptor as D;
                let mut s = rd.open(T::indauddigitMapDescriptor, true)?;
                let name = if s.opt(D::digitMapName)? {
                    Some(map::digit_map_name_from_octets(
                        s.fixed::<2>(D::digitMapName)
                            .field("IndAudDigitMapDescriptor.digit_map_name")?,
                    ))
                } else {
                    None
                };
                rd.close(s)?;
                IndAuditParameter::DigitMap(name)
            }
            T::indaudstatisticsDescriptor => IndAuditParameter::Statistics(
                self.ind_aud_statistics(rd, T::indaudstatisticsDescriptor)?,
            ),
            T::indaudpackagesDescriptor => IndAuditParameter::Packages(self.packages_item(
                rd,
                T::indaudpackagesDescriptor,
                "IndAudPackagesDescriptor",
            )?),
            t => return Err(no_choice("IndAuditParameter", t)),
        })
    }

    fn ind_aud_statistics(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Text> {
        let mut s = rd.open(tag, true)?;
        let name = s
            .fixed::<4>(tags::IndAudStatisticsDescriptor::statName)
            .field("IndAudStatisticsDescriptor.stat_name")?;
        rd.close(s)?;
        self.name(ItemKind::Statistic, name)
    }

    /// `PackagesItem` / `IndAudPackagesDescriptor` (the same components).
    fn packages_item(&mut self, rd: &mut Rd<'_>, tag: Tag, ty: &'static str) -> R<PackagesItem> {
        use tags::PackagesItem as T;
        let mut s = rd.open(tag, true)?;
        let name = s.fixed::<2>(T::packageName).field(ty)?;
        let name = self.rule(map::package_name(self.reg, name), String::new)?;
        let version = s.u8(T::packageVersion).field(ty)?;
        s.extensions(T::EXT).field(ty)?;
        rd.close(s)?;
        Ok(PackagesItem { name, version })
    }

    /// `Dec` maps the streams before the termination state.
    fn ind_aud_media(&mut self, rd: &mut Rd<'_>) -> R<IndAudMediaDescriptor> {
        use tags::IndAudMediaDescriptor as T;
        let mut s = rd.open(tags::IndAuditParameter::indaudmediaDescriptor, true)?;
        let (termination_state, held) = if s.opt(T::termStateDescr)? {
            let (t, held) = self.hold(&mut s, |d, s| {
                d.ind_aud_term_state(s)
                    .field("IndAudMediaDescriptor.term_state_descr")
            })?;
            (Some(t), held)
        } else {
            (None, None)
        };
        let mut stream_parms = None;
        let mut streams = Vec::new();
        if s.opt(T::streams)? {
            use tags::Streams as S;
            let mut e = s
                .open(T::streams, false)
                .field("IndAudMediaDescriptor.streams")?;
            match e.peek()? {
                S::oneStream => {
                    stream_parms = Some(
                        self.ind_aud_stream(&mut e, S::oneStream)
                            .field("IndAudMediaDescriptor.streams")?,
                    )
                }
                S::multiStream => {
                    use tags::StreamDescriptor as D;
                    let mut l = e.open_list(S::multiStream)?;
                    while !l.at_end() {
                        let mut sd = l.open(SEQUENCE, true)?;
                        let id = sd
                            .u16(D::streamID)
                            .field("IndAudStreamDescriptor.stream_id")?;
                        let parms = self
                            .ind_aud_stream(&mut sd, D::streamParms)
                            .field("IndAudStreamDescriptor.stream_parms")
                            .at(|| label::stream(id))?;
                        l.close(sd)?;
                        streams.push((id, parms));
                    }
                    e.close(l)?;
                }
                t => return Err(no_choice("IndAudMediaDescriptor.streams", t)),
            }
            s.close(e).field("IndAudMediaDescriptor.streams")?;
        }
        if let Some(e) = held {
            return Err(e);
        }
        s.extensions(T::EXT).field("IndAudMediaDescriptor.ext")?;
        rd.close(s)?;
        Ok(IndAudMediaDescriptor {
            termination_state,
            stream_parms,
            streams,
        })
    }

    fn ind_aud_term_state(&mut self, rd: &mut Rd<'_>) -> R<IndAudTerminationState> {
        use tags::IndAudTerminationStateDescriptor as T;
        let mut s = rd.open(tags::IndAudMediaDescriptor::termStateDescr, true)?;
        let props = self
            .ind_aud_props(&mut s, T::propertyParms)
            .field("IndAudTerminationStateDescriptor.property_parms")?;
        let event_buffer_control = s.opt(T::eventBufferControl)?;
        if event_buffer_control {
            s.null(T::eventBufferControl)
                .field("IndAudTerminationStateDescriptor.event_buffer_control")?;
        }
        let service_state = s.opt(T::serviceState)?;
        if service_state {
            s.null(T::serviceState)
                .field("IndAudTerminationStateDescriptor.service_state")?;
        }
        let service_state_sel = if s.opt(T::serviceStateSel)? {
            Some((
                true,
                s.enum_of(T::serviceStateSel, &SERVICE_STATES)
                    .field("IndAudTerminationStateDescriptor.service_state_sel")?,
            ))
        } else {
            None
        };
        s.extensions(T::EXT)
            .field("IndAudTerminationStateDescriptor.ext")?;
        rd.close(s)?;
        Ok(IndAudTerminationState {
            props,
            event_buffer_control,
            service_state,
            service_state_sel,
        })
    }

    fn ind_aud_stream(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<IndAudStreamParms> {
        use tags::IndAudStreamParms as T;
        let mut s = rd.open(tag, true)?;
        let local_control = if s.opt(T::localControlDescriptor)? {
            use tags::IndAudLocalControlDescriptor as L;
            let mut c = s.open(T::localControlDescriptor, true)?;
            let null = |c: &mut Rd<'_>, tag: Tag| -> R<bool> {
                if c.opt(tag)? {
                    c.null(tag)?;
                    Ok(true)
                } else {
                    Ok(false)
                }
            };
            let mode =
                null(&mut c, L::streamMode).field("IndAudLocalControlDescriptor.stream_mode")?;
            let reserve_value = null(&mut c, L::reserveValue)
                .field("IndAudLocalControlDescriptor.reserve_value")?;
            let reserve_group = null(&mut c, L::reserveGroup)
                .field("IndAudLocalControlDescriptor.reserve_group")?;
            let props = if c.opt(L::propertyParms)? {
                self.ind_aud_props(&mut c, L::propertyParms)
                    .field("IndAudLocalControlDescriptor.property_parms")?
            } else {
                Vec::new()
            };
            let mode_sel = if c.opt(L::streamModeSel)? {
                Some((
                    true,
                    c.enum_of(L::streamModeSel, &STREAM_MODES)
                        .field("IndAudLocalControlDescriptor.stream_mode_sel")?,
                ))
            } else {
                None
            };
            c.extensions(L::EXT)
                .field("IndAudLocalControlDescriptor.ext")?;
            s.close(c)
                .field("IndAudStreamParms.local_control_descriptor")?;
            Some(IndAudLocalControl {
                mode,
                mode_sel,
                reserve_value,
                reserve_group,
                props,
            })
        } else {
            None
        };
        let local = if s.opt(T::localDescriptor)? {
            Some(
                self.ind_aud_local_remote(&mut s, T::localDescriptor)
                    .field("IndAudStreamParms.local_descriptor")
                    .at(|| "Local".to_string())?,
            )
        } else {
            None
        };
        let remote = if s.opt(T::remoteDescriptor)? {
            Some(
                self.ind_aud_local_remote(&mut s, T::remoteDescriptor)
                    .field("IndAudStreamParms.remote_descriptor")
                    .at(|| "Remote".to_string())?,
            )
        } else {
            None
        };
        let statistics = if s.opt(T::statisticsDescriptor)? {
            Some(
                self.ind_aud_statistics(&mut s, T::statisticsDescriptor)
                    .field("IndAudStreamParms.statistics_descriptor")?,
            )
        } else {
            None
        };
        s.extensions(T::EXT).field("IndAudStreamParms.ext")?;
        rd.close(s)?;
        Ok(IndAudStreamParms {
            local_control,
            local,
            remote,
            statistics,
        })
    }

    fn ind_aud_props(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Vec<IndAudProp>> {
        let mut l = rd.open_list(tag)?;
        let mut out = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            out.push(self.ind_aud_prop(&mut l)?);
        }
        rd.close(l)?;
        Ok(out)
    }

    fn ind_aud_prop(&mut self, rd: &mut Rd<'_>) -> R<IndAudProp> {
        use tags::IndAudPropertyParm as T;
        let mut s = rd.open(SEQUENCE, true)?;
        let name = s.fixed::<4>(T::name).field("IndAudPropertyParm.name")?;
        let p = if s.opt(T::propertyParms)? {
            let mut one = Vec::with_capacity(1);
            self.prop(&mut s, T::propertyParms, Some(name), &mut one)
                .field("IndAudPropertyParm.property_parms")?;
            match one.pop() {
                Some(p) => IndAudProp::Select(p),
                None => return Err(ber("internal: IndAudPropertyParm without its property")),
            }
        } else {
            IndAudProp::Name(self.name(ItemKind::Property, name)?)
        };
        s.extensions(T::EXT).field("IndAudPropertyParm.ext")?;
        rd.close(s)?;
        Ok(p)
    }

    fn ind_aud_local_remote(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<LocalRemoteDescriptor> {
        use tags::IndAudLocalRemoteDescriptor as T;
        let mut s = rd.open(tag, true)?;
        if s.opt(T::propGroupID)? {
            s.u16(T::propGroupID)
                .field("IndAudLocalRemoteDescriptor.prop_group_id")?;
            self.check(false, || Broken::unsupported(why::IND_AUD_GROUP_ID))?;
        }
        let mut l = s
            .open_list(T::propGrps)
            .field("IndAudLocalRemoteDescriptor.prop_grps")?;
        let mut group = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            group.push(
                match self
                    .ind_aud_prop(&mut l)
                    .field("IndAudLocalRemoteDescriptor.prop_grps")?
                {
                    IndAudProp::Name(name) => PropertyParm {
                        name,
                        value: Values::new(),
                        extra: None,
                    },
                    IndAudProp::Select(pp) => {
                        self.check(!pp.value.is_empty(), || {
                            Broken::unsupported(why::IND_AUD_LINE_NO_VALUE)
                        })?;
                        pp
                    }
                },
            );
        }
        s.close(l).field("IndAudLocalRemoteDescriptor.prop_grps")?;
        s.extensions(T::EXT)
            .field("IndAudLocalRemoteDescriptor.ext")?;
        rd.close(s)?;
        Ok(LocalRemoteDescriptor {
            groups: if group.is_empty() {
                Vec::new()
            } else {
                vec![group]
            },
        })
    }

    // --- Notify, events.

    fn notify_request(&mut self, rd: &mut Rd<'_>) -> R<Command> {
        use tags::NotifyRequest as T;
        let mut s = rd.open(tags::Command::notifyReq, true)?;
        let termination_ids = self
            .tid_list(&mut s, T::terminationID)
            .field("NotifyRequest.termination_id")?;
        let o = self
            .observed_events(&mut s, T::observedEventsDescriptor)
            .field("NotifyRequest.observed_events_descriptor")?;
        let error = if s.opt(T::errorDescriptor)? {
            Some(
                self.error(&mut s, T::errorDescriptor)
                    .field("NotifyRequest.error_descriptor")?,
            )
        } else {
            None
        };
        s.extensions(T::EXT).field("NotifyRequest.ext")?;
        rd.close(s)?;
        Ok(Command::Notify(NotifyRequest {
            termination_ids,
            observed_events: (!o.events.is_empty()).then_some(o),
            error,
        }))
    }

    fn observed_events(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<ObservedEventsDescriptor> {
        use tags::ObservedEventsDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let request_id = s
            .u32(T::requestId)
            .field("ObservedEventsDescriptor.request_id")?;
        let mut l = s
            .open_list(T::observedEventLst)
            .field("ObservedEventsDescriptor.observed_event_lst")?;
        let mut events = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            self.observed_event(&mut l, &mut events)
                .field("ObservedEventsDescriptor.observed_event_lst")?;
        }
        s.close(l)
            .field("ObservedEventsDescriptor.observed_event_lst")?;
        rd.close(s)?;
        Ok(ObservedEventsDescriptor { request_id, events })
    }

    /// Pushes onto `out`, as `command_request`.
    fn observed_event(&mut self, rd: &mut Rd<'_>, out: &mut Vec<ObservedEvent>) -> R<()> {
        use tags::ObservedEvent as T;
        let mut s = rd.open(SEQUENCE, true)?;
        let item = s
            .fixed::<4>(T::eventName)
            .field("ObservedEvent.event_name")?;
        let name = self.name(ItemKind::Event, item)?;
        let stream = if s.opt(T::streamID)? {
            Some(s.u16(T::streamID).field("ObservedEvent.stream_id")?)
        } else {
            None
        };
        // Pushed here and filled in place: the parameters and the time stamp, copied into a
        // pushed event from locals, were reloaded right after being written (measured).
        let i = out.len();
        out.push(ObservedEvent {
            name,
            stream,
            params: Vec::new(),
            timestamp: None,
        });
        let ev = &mut out[i];
        self.ev_params(&mut s, T::eventParList, item, &mut ev.params)
            .field("ObservedEvent.event_par_list")?;
        if s.opt(T::timeNotation)? {
            time_notation(&mut s, T::timeNotation, &mut ev.timestamp)
                .field("ObservedEvent.time_notation")?;
        }
        s.extensions(T::EXT).field("ObservedEvent.ext")?;
        rd.close(s)
    }

    /// `SEQUENCE OF EventParameter` of event `item`, into the caller's (empty) `out`: the list
    /// returned through a `Result` was reloaded with wide loads of its just-written fields (a
    /// store-to-load forwarding stall; measured).
    fn ev_params(
        &mut self,
        rd: &mut Rd<'_>,
        tag: Tag,
        item: [u8; 4],
        out: &mut Vec<PropertyParm>,
    ) -> R<()> {
        use tags::EventParameter as T;
        let mut l = rd.open_list(tag)?;
        out.reserve_exact(l.count_hint());
        while !l.at_end() {
            let mut s = l.open(SEQUENCE, true)?;
            let id = s
                .fixed::<2>(T::eventParameterName)
                .field("EventParameter.event_parameter_name")?;
            let name = map::param_name(self.reg, ItemKind::Event, item, id);
            let value = self
                .value(&mut s, T::value, || format!("event parameter '{name}'"))
                .field("EventParameter.value")?;
            let extra = self.extra_info(&mut s, T::extraInfo, "EventParameter.extra_info")?;
            s.extensions(T::EXT).field("EventParameter.ext")?;
            l.close(s)?;
            out.push(PropertyParm { name, value, extra });
        }
        rd.close(l)
    }

    /// `Value` (SEQUENCE OF OCTET STRING) as model text; `what` names it in an error.
    fn value(&mut self, rd: &mut Rd<'_>, tag: Tag, what: impl Fn() -> String) -> R<Values> {
        let mut l = rd.open_list(tag)?;
        let mut out = Values::new();
        while !l.at_end() {
            let o = l.octets(OCTET_STRING)?;
            out.push(self.text(&what, &o)?);
        }
        rd.close(l)?;
        Ok(out)
    }

    /// The optional explicitly tagged `extraInfo` of PropertyParm, EventParameter, SigParameter.
    fn extra_info(
        &mut self,
        rd: &mut Rd<'_>,
        tag: Tag,
        field: &'static str,
    ) -> R<Option<ExtraInfo>> {
        use tags::ExtraInfo as T;
        if !rd.opt(tag)? {
            return Ok(None);
        }
        let mut e = rd.open(tag, false).field(field)?;
        let x = match e.peek().field(field)? {
            T::relation => ExtraInfo::Relation(e.enum_of(T::relation, &RELATIONS).field(field)?),
            T::range => ExtraInfo::Range(e.boolean(T::range).field(field)?),
            T::sublist => ExtraInfo::Sublist(e.boolean(T::sublist).field(field)?),
            t => return Err(no_choice("ExtraInfo", t)).field(field),
        };
        rd.close(e).field(field)?;
        Ok(Some(x))
    }

    // --- ServiceChange.

    fn service_change_request(&mut self, rd: &mut Rd<'_>) -> R<Command> {
        use tags::ServiceChangeRequest as T;
        let mut s = rd.open(tags::Command::serviceChangeReq, true)?;
        let termination_ids = self
            .tid_list(&mut s, T::terminationID)
            .field("ServiceChangeRequest.termination_id")?;
        let parms = self
            .sc_parm(&mut s)
            .field("ServiceChangeRequest.service_change_parms")?;
        s.extensions(T::EXT).field("ServiceChangeRequest.ext")?;
        rd.close(s)?;
        Ok(Command::ServiceChange(ServiceChangeRequest {
            termination_ids,
            parms,
        }))
    }

    fn service_change_result(&mut self, rd: &mut Rd<'_>) -> R<ServiceChangeResult> {
        use tags::ServiceChangeResult as T;
        match rd.peek()? {
            T::errorDescriptor => Ok(ServiceChangeResult::Error(
                self.error(rd, T::errorDescriptor)?,
            )),
            T::serviceChangeResParms => {
                use tags::ServiceChangeResParm as P;
                let mut s = rd.open(T::serviceChangeResParms, true)?;
                let mgc_id = self
                    .opt_mid(&mut s, P::serviceChangeMgcId)
                    .field("ServiceChangeResParm.service_change_mgc_id")?;
                let address = self
                    .opt_sc_address(&mut s, P::serviceChangeAddress)
                    .field("ServiceChangeResParm.service_change_address")?;
                let version = if s.opt(P::serviceChangeVersion)? {
                    Some(
                        s.u8(P::serviceChangeVersion)
                            .field("ServiceChangeResParm.service_change_version")?,
                    )
                } else {
                    None
                };
                let profile = self
                    .opt_profile(&mut s, P::serviceChangeProfile)
                    .field("ServiceChangeResParm.service_change_profile")?;
                let mut timestamp = None;
                if s.opt(P::timestamp)? {
                    time_notation(&mut s, P::timestamp, &mut timestamp)
                        .field("ServiceChangeResParm.timestamp")?;
                }
                s.extensions(P::EXT).field("ServiceChangeResParm.ext")?;
                rd.close(s)?;
                Ok(ServiceChangeResult::Parms(ServiceChangeResParm {
                    mgc_id,
                    address,
                    version,
                    profile,
                    timestamp,
                }))
            }
            t => Err(no_choice("ServiceChangeResult", t)),
        }
    }

    /// `Dec` maps the reason and nonStandardData first, then the address, profile and MGC ID,
    /// then serviceChangeInfo.
    ///
    /// Boxed here, where it is built: the 280-octet value was copied on its way up before.
    fn sc_parm(&mut self, rd: &mut Rd<'_>) -> R<Box<ServiceChangeParm>> {
        use tags::ServiceChangeParm as T;
        let mut s = rd.open(tags::ServiceChangeRequest::serviceChangeParms, true)?;
        let method = s
            .enum_of(T::serviceChangeMethod, &SC_METHODS)
            .field("ServiceChangeParm.service_change_method")?;
        let (address, held_address) = self.hold(&mut s, |d, s| {
            d.opt_sc_address(s, T::serviceChangeAddress)
                .field("ServiceChangeParm.service_change_address")
        })?;
        let version = if s.opt(T::serviceChangeVersion)? {
            Some(
                s.u8(T::serviceChangeVersion)
                    .field("ServiceChangeParm.service_change_version")?,
            )
        } else {
            None
        };
        let (profile, held_profile) = self.hold(&mut s, |d, s| {
            d.opt_profile(s, T::serviceChangeProfile)
                .field("ServiceChangeParm.service_change_profile")
        })?;
        let mut l = s
            .open_list(T::serviceChangeReason)
            .field("ServiceChangeParm.service_change_reason")?;
        let mut first = None;
        let mut count = 0usize;
        while !l.at_end() {
            let o = l
                .octets(OCTET_STRING)
                .field("ServiceChangeParm.service_change_reason")?;
            first.get_or_insert(o);
            count += 1;
        }
        s.close(l)
            .field("ServiceChangeParm.service_change_reason")?;
        let reason = self.rule(map::sc_reason(first.as_deref(), count), || None)?;
        let delay = if s.opt(T::serviceChangeDelay)? {
            Some(
                s.u32(T::serviceChangeDelay)
                    .field("ServiceChangeParm.service_change_delay")?,
            )
        } else {
            None
        };
        let (mgc_id, held_mgc) = self.hold(&mut s, |d, s| {
            d.opt_mid(s, T::serviceChangeMgcId)
                .field("ServiceChangeParm.service_change_mgc_id")
        })?;
        let mut timestamp = None;
        if s.opt(T::timeStamp)? {
            time_notation(&mut s, T::timeStamp, &mut timestamp)
                .field("ServiceChangeParm.time_stamp")?;
        }
        let extensions = if s.opt(T::nonStandardData)? {
            let (experimental, data) = non_standard_data(&mut s, T::nonStandardData)
                .field("ServiceChangeParm.non_standard_data")?;
            self.rule(map::sc_extensions(experimental.as_deref(), &data), Vec::new)?
        } else {
            Vec::new()
        };
        if let Some(e) = held_address.or(held_profile).or(held_mgc) {
            return Err(e);
        }
        let info = if s.opt(T::serviceChangeInfo)? {
            Some(
                self.audit_descriptor(&mut s, T::serviceChangeInfo)
                    .field("ServiceChangeParm.service_change_info")?,
            )
        } else {
            None
        };
        let incomplete = s.opt(T::serviceChangeIncompleteFlag)?;
        if incomplete {
            s.null(T::serviceChangeIncompleteFlag)
                .field("ServiceChangeParm.service_change_incomplete_flag")?;
        }
        s.extensions(T::EXT).field("ServiceChangeParm.ext")?;
        rd.close(s)?;
        Ok(Box::new(ServiceChangeParm {
            method,
            address,
            version,
            profile,
            reason,
            delay,
            mgc_id,
            timestamp,
            extensions,
            info,
            incomplete,
        }))
    }

    /// An optional explicitly tagged `MId`.
    fn opt_mid(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Option<MId>> {
        if !rd.opt(tag)? {
            return Ok(None);
        }
        let mut e = rd.open(tag, false)?;
        let mut m = MId::Device(Text::default());
        self.mid(&mut e, &mut m)?;
        rd.close(e)?;
        Ok(Some(m))
    }

    /// An optional explicitly tagged `ServiceChangeAddress`.
    fn opt_sc_address(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Option<ServiceChangeAddress>> {
        use tags::ServiceChangeAddress as T;
        if !rd.opt(tag)? {
            return Ok(None);
        }
        let mut e = rd.open(tag, false)?;
        let alt = match e.peek()? {
            T::portNumber => None,
            T::ip4Address => Some((T::ip4Address, Address::Ip4)),
            T::ip6Address => Some((T::ip6Address, Address::Ip6)),
            T::domainName => Some((T::domainName, Address::Domain)),
            T::deviceName => Some((T::deviceName, Address::Device)),
            T::mtpAddress => Some((T::mtpAddress, Address::Mtp)),
            t => return Err(no_choice("ServiceChangeAddress", t)),
        };
        let a = match alt {
            None => ServiceChangeAddress::Port(e.u16(T::portNumber)?),
            Some((tag, alt)) => {
                let mut m = MId::Device(Text::default());
                self.address(&mut e, tag, alt, &mut m)?;
                ServiceChangeAddress::MId(m)
            }
        };
        rd.close(e)?;
        Ok(Some(a))
    }

    /// An optional `ServiceChangeProfile`.
    fn opt_profile(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Option<ServiceChangeProfile>> {
        if !rd.opt(tag)? {
            return Ok(None);
        }
        let mut s = rd.open(tag, true)?;
        let name = s
            .ia5(tags::ServiceChangeProfile::profileName)
            .field("ServiceChangeProfile.profile_name")?;
        rd.close(s)?;
        let text = map::ia5_text(&name);
        Ok(Some(self.rule(map::sc_profile(&text), || {
            ServiceChangeProfile {
                name: String::new(),
                version: 0,
            }
        })?))
    }

    // --- Terminations, media.

    fn media(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<MediaDescriptor> {
        use tags::MediaDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let termination_state = if s.opt(T::termStateDescr)? {
            use tags::TerminationStateDescriptor as S;
            let mut t = s
                .open(T::termStateDescr, true)
                .field("MediaDescriptor.term_state_descr")?;
            let r = (|| {
                let props = self
                    .props(&mut t, S::propertyParms)
                    .field("TerminationStateDescriptor.property_parms")?;
                let event_buffer_control = if t.opt(S::eventBufferControl)? {
                    Some(
                        t.enum_of(S::eventBufferControl, &EVENT_BUFFER_CONTROLS)
                            .field("TerminationStateDescriptor.event_buffer_control")?,
                    )
                } else {
                    None
                };
                let service_state = if t.opt(S::serviceState)? {
                    Some(
                        t.enum_of(S::serviceState, &SERVICE_STATES)
                            .field("TerminationStateDescriptor.service_state")?,
                    )
                } else {
                    None
                };
                t.extensions(S::EXT)
                    .field("TerminationStateDescriptor.ext")?;
                Ok(TerminationStateDescriptor {
                    props,
                    event_buffer_control,
                    service_state,
                })
            })()
            .field("MediaDescriptor.term_state_descr")
            .at(|| "TerminationState".to_string())?;
            s.close(t).field("MediaDescriptor.term_state_descr")?;
            Some(r)
        } else {
            None
        };
        let streams = if s.opt(T::streams)? {
            use tags::Streams as S;
            let mut e = s.open(T::streams, false).field("MediaDescriptor.streams")?;
            let r = match e.peek().field("MediaDescriptor.streams")? {
                S::oneStream => Streams::One(
                    self.stream_parms(&mut e, S::oneStream)
                        .field("MediaDescriptor.streams")?,
                ),
                S::multiStream => {
                    use tags::StreamDescriptor as D;
                    let mut l = e
                        .open_list(S::multiStream)
                        .field("MediaDescriptor.streams")?;
                    let mut v = Vec::with_capacity(l.count_hint());
                    while !l.at_end() {
                        let mut sd = l.open(SEQUENCE, true).field("MediaDescriptor.streams")?;
                        let id = sd.u16(D::streamID).field("StreamDescriptor.stream_id")?;
                        let parms = self
                            .stream_parms(&mut sd, D::streamParms)
                            .field("StreamDescriptor.stream_parms")
                            .at(|| label::stream(id))?;
                        l.close(sd).field("MediaDescriptor.streams")?;
                        v.push(StreamDescriptor { id, parms });
                    }
                    e.close(l).field("MediaDescriptor.streams")?;
                    Streams::Multi(v)
                }
                t => return Err(no_choice("MediaDescriptor.streams", t)),
            };
            s.close(e).field("MediaDescriptor.streams")?;
            Some(r)
        } else {
            None
        };
        s.extensions(T::EXT).field("MediaDescriptor.ext")?;
        rd.close(s)?;
        Ok(MediaDescriptor {
            termination_state,
            streams,
        })
    }

    fn stream_parms(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<StreamParms> {
        use tags::StreamParms as T;
        let mut s = rd.open(tag, true)?;
        let local_control = if s.opt(T::localControlDescriptor)? {
            use tags::LocalControlDescriptor as L;
            let mut c = s
                .open(T::localControlDescriptor, true)
                .field("StreamParms.local_control_descriptor")?;
            let r = (|| {
                let mode = if c.opt(L::streamMode)? {
                    Some(
                        c.enum_of(L::streamMode, &STREAM_MODES)
                            .field("LocalControlDescriptor.stream_mode")?,
                    )
                } else {
                    None
                };
                let reserve_value = if c.opt(L::reserveValue)? {
                    Some(
                        c.boolean(L::reserveValue)
                            .field("LocalControlDescriptor.reserve_value")?,
                    )
                } else {
                    None
                };
                let reserve_group = if c.opt(L::reserveGroup)? {
                    Some(
                        c.boolean(L::reserveGroup)
                            .field("LocalControlDescriptor.reserve_group")?,
                    )
                } else {
                    None
                };
                let props = self
                    .props(&mut c, L::propertyParms)
                    .field("LocalControlDescriptor.property_parms")?;
                c.extensions(L::EXT).field("LocalControlDescriptor.ext")?;
                Ok(LocalControlDescriptor {
                    mode,
                    reserve_group,
                    reserve_value,
                    props,
                })
            })()
            .field("StreamParms.local_control_descriptor")
            .at(|| "LocalControl".to_string())?;
            s.close(c).field("StreamParms.local_control_descriptor")?;
            Some(r)
        } else {
            None
        };
        let local = if s.opt(T::localDescriptor)? {
            Some(
                self.local_remote(&mut s, T::localDescriptor)
                    .field("StreamParms.local_descriptor")
                    .at(|| "Local".to_string())?,
            )
        } else {
            None
        };
        let remote = if s.opt(T::remoteDescriptor)? {
            Some(
                self.local_remote(&mut s, T::remoteDescriptor)
                    .field("StreamParms.remote_descriptor")
                    .at(|| "Remote".to_string())?,
            )
        } else {
            None
        };
        let statistics = if s.opt(T::statisticsDescriptor)? {
            Some(
                self.statistics(&mut s, T::statisticsDescriptor)
                    .field("StreamParms.statistics_descriptor")
                    .at(|| "Statistics".to_string())?,
            )
        } else {
            None
        };
        s.extensions(T::EXT).field("StreamParms.ext")?;
        rd.close(s)?;
        Ok(StreamParms {
            local_control,
            local,
            remote,
            statistics,
        })
    }

    /// `SEQUENCE OF PropertyParm`.
    fn props(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Vec<PropertyParm>> {
        let mut l = rd.open_list(tag)?;
        let mut out = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            self.prop(&mut l, SEQUENCE, None, &mut out)?;
        }
        rd.close(l)?;
        Ok(out)
    }

    /// `PropertyParm`; `same_as`: the IndAudPropertyParm name it must repeat. Pushed onto
    /// `out`, as `command_request`.
    fn prop(
        &mut self,
        rd: &mut Rd<'_>,
        tag: Tag,
        same_as: Option<[u8; 4]>,
        out: &mut Vec<PropertyParm>,
    ) -> R<()> {
        use tags::PropertyParm as T;
        // The common encoding in one match (an SDP line is one such property): a definite
        // SEQUENCE of the name and a one-value list, nothing after it. Read as the general
        // path below reads it (the SEQUENCE and the list entered: two levels), mapped in the
        // same order (the name, then the value).
        if let [first, len, 0x80, 0x04, n0, n1, n2, n3, 0xa1, list, 0x04, k, rest @ ..] = rd.input {
            if same_as.is_none()
                && u16::from(*first) == tag.short_id() | 0x20
                && *len <= 0x7f
                && *list <= 0x7f
                && usize::from(*len) == usize::from(*list) + 8
                && usize::from(*list) == usize::from(*k) + 2
                && rd.depth >= 2
            {
                if let Some((o, rest)) = rest.split_at_checked(usize::from(*k)) {
                    rd.input = rest;
                    let name = self.name(ItemKind::Property, [*n0, *n1, *n2, *n3])?;
                    let value = self.text(|| format!("value of '{name}'"), o)?;
                    out.push(PropertyParm {
                        name,
                        value: Values::from_buf([value]),
                        extra: None,
                    });
                    return Ok(());
                }
            }
        }
        let mut s = rd.open(tag, true)?;
        let n = s.fixed::<4>(T::name).field("PropertyParm.name")?;
        if let Some(outer) = same_as {
            self.check(outer == n, || map::ind_aud_names_differ(outer, n))?;
        }
        let name = self.name(ItemKind::Property, n)?;
        let value = self
            .value(&mut s, T::value, || format!("value of '{name}'"))
            .field("PropertyParm.value")?;
        let extra = self.extra_info(&mut s, T::extraInfo, "PropertyParm.extra_info")?;
        s.extensions(T::EXT).field("PropertyParm.ext")?;
        rd.close(s)?;
        out.push(PropertyParm { name, value, extra });
        Ok(())
    }

    fn local_remote(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<LocalRemoteDescriptor> {
        use tags::LocalRemoteDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let mut l = s
            .open_list(T::propGrps)
            .field("LocalRemoteDescriptor.prop_grps")?;
        let mut groups = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            groups.push(
                self.props(&mut l, SEQUENCE)
                    .field("LocalRemoteDescriptor.prop_grps")?,
            );
        }
        s.close(l).field("LocalRemoteDescriptor.prop_grps")?;
        s.extensions(T::EXT).field("LocalRemoteDescriptor.ext")?;
        rd.close(s)?;
        Ok(LocalRemoteDescriptor { groups })
    }

    /// `Dec` checks nonStandardData before it maps the termination list.
    fn mux(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<MuxDescriptor> {
        use tags::MuxDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let mux_type = s
            .enum_of(T::muxType, &MUX_TYPES)
            .field("MuxDescriptor.mux_type")?;
        let (termination_ids, held) = self.hold(&mut s, |d, s| {
            d.tid_list(s, T::termList).field("MuxDescriptor.term_list")
        })?;
        if s.opt(T::nonStandardData)? {
            self.check(false, || Broken::unsupported(why::MUX_NSD))?;
            non_standard_data(&mut s, T::nonStandardData)
                .field("MuxDescriptor.non_standard_data")?;
        }
        if let Some(e) = held {
            return Err(e);
        }
        s.extensions(T::EXT).field("MuxDescriptor.ext")?;
        rd.close(s)?;
        Ok(MuxDescriptor {
            mux_type,
            termination_ids,
        })
    }

    fn events(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<EventsDescriptor> {
        use tags::EventsDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let request_id = if s.opt(T::requestID)? {
            Some(s.u32(T::requestID).field("EventsDescriptor.request_id")?)
        } else {
            None
        };
        let mut l = s
            .open_list(T::eventList)
            .field("EventsDescriptor.event_list")?;
        let mut events = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            let i = events.len();
            events.push(
                self.requested_event(&mut l, false)
                    .field("EventsDescriptor.event_list")
                    .at(|| label::event(i))?,
            );
        }
        s.close(l).field("EventsDescriptor.event_list")?;
        s.extensions(T::EXT).field("EventsDescriptor.ext")?;
        rd.close(s)?;
        Ok(EventsDescriptor { request_id, events })
    }

    /// `RequestedEvent` (`second`: `SecondRequestedEvent`, whose actions cannot embed events).
    /// `Dec` maps the parameters before the eventAction.
    fn requested_event(&mut self, rd: &mut Rd<'_>, second: bool) -> R<RequestedEvent> {
        use tags::RequestedEvent as T;
        let mut s = rd.open(SEQUENCE, true)?;
        let item = s
            .fixed::<4>(T::pkgdName)
            .field("RequestedEvent.pkgd_name")?;
        let name = self.name(ItemKind::Event, item)?;
        let stream = if s.opt(T::streamID)? {
            Some(s.u16(T::streamID).field("RequestedEvent.stream_id")?)
        } else {
            None
        };
        let (actions, held) = if s.opt(T::eventAction)? {
            let (a, held) = self.hold(&mut s, |d, s| {
                d.requested_actions(s, second)
                    .field("RequestedEvent.event_action")
            })?;
            (Some(a), held)
        } else {
            (None, None)
        };
        let mut params = Vec::new();
        self.ev_params(&mut s, T::evParList, item, &mut params)
            .field("RequestedEvent.ev_par_list")?;
        if let Some(e) = held {
            return Err(e);
        }
        s.extensions(T::EXT).field("RequestedEvent.ext")?;
        rd.close(s)?;
        let mut ev = RequestedEvent {
            name,
            stream,
            keep_active: false,
            digit_map: None,
            embed_signals: None,
            embed_events: None,
            notify_behaviour: None,
            reset_events: false,
            params,
        };
        if let Some(a) = actions {
            ev.keep_active = a.keep_active;
            ev.digit_map = a.digit_map;
            ev.embed_events = a.embed_events;
            ev.embed_signals = a.embed_signals;
            ev.notify_behaviour = a.notify_behaviour;
            ev.reset_events = a.reset_events;
        }
        Ok(ev)
    }

    /// `RequestedActions` (`second`: `SecondRequestedActions`, without secondEvent).
    fn requested_actions(&mut self, rd: &mut Rd<'_>, second: bool) -> R<Actions> {
        use tags::RequestedActions as A;
        use tags::SecondRequestedActions as B;
        let (ty, keep, dm, signals, notify, reset, ext) = if second {
            (
                "SecondRequestedActions",
                B::keepActive,
                B::eventDM,
                B::signalsDescriptor,
                B::notifyBehaviour,
                B::resetEventsDescriptor,
                B::EXT,
            )
        } else {
            (
                "RequestedActions",
                A::keepActive,
                A::eventDM,
                A::signalsDescriptor,
                A::notifyBehaviour,
                A::resetEventsDescriptor,
                A::EXT,
            )
        };
        let mut s = rd.open(tags::RequestedEvent::eventAction, true)?;
        let keep_active = if s.opt(keep)? {
            s.boolean(keep).field(ty)?
        } else {
            false
        };
        let digit_map = if s.opt(dm)? {
            Some(self.event_dm(&mut s, dm).field(ty)?)
        } else {
            None
        };
        let embed_events = if !second && s.opt(A::secondEvent)? {
            Some(Box::new(
                self.second_events(&mut s, A::secondEvent)
                    .field(ty)
                    .at(|| "Embed Events".to_string())?,
            ))
        } else {
            None
        };
        let embed_signals = if s.opt(signals)? {
            Some(
                self.signals(&mut s, signals)
                    .field(ty)
                    .at(|| "Embed Signals".to_string())?,
            )
        } else {
            None
        };
        let notify_behaviour = if s.opt(notify)? {
            Some(self.notify_behaviour(&mut s, notify).field(ty)?)
        } else {
            None
        };
        let reset_events = s.opt(reset)?;
        if reset_events {
            s.null(reset).field(ty)?;
        }
        s.extensions(ext).field(ty)?;
        rd.close(s)?;
        Ok(Actions {
            keep_active,
            digit_map,
            embed_events,
            embed_signals,
            notify_behaviour,
            reset_events,
        })
    }

    fn event_dm(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<DigitMapDescriptor> {
        use tags::EventDM as T;
        let mut e = rd.open(tag, false)?;
        let r = match e.peek()? {
            T::digitMapName => DigitMapDescriptor {
                name: Some(map::digit_map_name_from_octets(
                    e.fixed::<2>(T::digitMapName)?,
                )),
                value: None,
            },
            T::digitMapValue => DigitMapDescriptor {
                name: None,
                value: Some(digit_map_value(&mut e, T::digitMapValue)?),
            },
            t => return Err(no_choice("EventDM", t)),
        };
        rd.close(e)?;
        Ok(r)
    }

    fn notify_behaviour(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<NotifyBehaviour> {
        use tags::NotifyBehaviour as T;
        let mut e = rd.open(tag, false)?;
        let r = match e.peek()? {
            T::notifyImmediate => {
                e.null(T::notifyImmediate)?;
                NotifyBehaviour::Immediate
            }
            T::neverNotify => {
                e.null(T::neverNotify)?;
                NotifyBehaviour::Never
            }
            T::notifyRegulated => {
                use tags::RegulatedEmbeddedDescriptor as G;
                let mut s = e.open(T::notifyRegulated, true)?;
                let events = if s.opt(G::secondEvent)? {
                    Some(Box::new(
                        self.second_events(&mut s, G::secondEvent)
                            .field("RegulatedEmbeddedDescriptor.second_event")
                            .at(|| "RegulatedNotify Events".to_string())?,
                    ))
                } else {
                    None
                };
                let signals = if s.opt(G::signalsDescriptor)? {
                    Some(
                        self.signals(&mut s, G::signalsDescriptor)
                            .field("RegulatedEmbeddedDescriptor.signals_descriptor")
                            .at(|| "RegulatedNotify Signals".to_string())?,
                    )
                } else {
                    None
                };
                s.extensions(G::EXT)
                    .field("RegulatedEmbeddedDescriptor.ext")?;
                e.close(s)?;
                NotifyBehaviour::Regulated { events, signals }
            }
            t => return Err(no_choice("NotifyBehaviour", t)),
        };
        rd.close(e)?;
        Ok(r)
    }

    fn second_events(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<EventsDescriptor> {
        use tags::SecondEventsDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let request_id = if s.opt(T::requestID)? {
            Some(
                s.u32(T::requestID)
                    .field("SecondEventsDescriptor.request_id")?,
            )
        } else {
            None
        };
        let mut l = s
            .open_list(T::eventList)
            .field("SecondEventsDescriptor.event_list")?;
        let mut events = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            let i = events.len();
            events.push(
                self.requested_event(&mut l, true)
                    .field("SecondEventsDescriptor.event_list")
                    .at(|| label::event(i))?,
            );
        }
        s.close(l).field("SecondEventsDescriptor.event_list")?;
        s.extensions(T::EXT).field("SecondEventsDescriptor.ext")?;
        rd.close(s)?;
        Ok(EventsDescriptor { request_id, events })
    }

    fn event_buffer(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Vec<EventSpec>> {
        use tags::EventSpec as T;
        let mut l = rd.open_list(tag)?;
        let mut out = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            let mut s = l.open(SEQUENCE, true)?;
            let item = s.fixed::<4>(T::eventName).field("EventSpec.event_name")?;
            let name = self.name(ItemKind::Event, item)?;
            let stream = if s.opt(T::streamID)? {
                Some(s.u16(T::streamID).field("EventSpec.stream_id")?)
            } else {
                None
            };
            let mut params = Vec::new();
            self.ev_params(&mut s, T::eventParList, item, &mut params)
                .field("EventSpec.event_par_list")?;
            s.extensions(T::EXT).field("EventSpec.ext")?;
            l.close(s)?;
            out.push(EventSpec {
                name,
                stream,
                params,
            });
        }
        rd.close(l)?;
        Ok(out)
    }

    // --- Signals.

    fn signals(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Vec<SignalsItem>> {
        use tags::SignalRequest as T;
        let mut l = rd.open_list(tag)?;
        let mut out = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            out.push(match l.peek()? {
                T::signal => SignalsItem::Signal(self.signal(&mut l, T::signal)?),
                T::seqSigList => {
                    use tags::SeqSigList as S;
                    let mut s = l.open(T::seqSigList, true)?;
                    let id = s.u16(S::id).field("SeqSigList.id")?;
                    let mut sl = s.open_list(S::signalList).field("SeqSigList.signal_list")?;
                    let mut signals = Vec::with_capacity(sl.count_hint());
                    while !sl.at_end() {
                        signals.push(
                            self.signal(&mut sl, SEQUENCE)
                                .field("SeqSigList.signal_list")
                                .at(|| label::signal_list(id))?,
                        );
                    }
                    s.close(sl).field("SeqSigList.signal_list")?;
                    l.close(s)?;
                    SignalsItem::List { id, signals }
                }
                t => return Err(no_choice("SignalRequest", t)),
            });
        }
        rd.close(l)?;
        Ok(out)
    }

    fn signal(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Signal> {
        use tags::Signal as T;
        let mut s = rd.open(tag, true)?;
        let item = s.fixed::<4>(T::signalName).field("Signal.signal_name")?;
        let name = self.name(ItemKind::Signal, item)?;
        let stream = if s.opt(T::streamID)? {
            Some(s.u16(T::streamID).field("Signal.stream_id")?)
        } else {
            None
        };
        let signal_type = if s.opt(T::sigType)? {
            Some(
                s.enum_of(T::sigType, &SIGNAL_TYPES)
                    .field("Signal.sig_type")?,
            )
        } else {
            None
        };
        let duration = if s.opt(T::duration)? {
            Some(s.u16(T::duration).field("Signal.duration")?)
        } else {
            None
        };
        let notify_completion = if s.opt(T::notifyCompletion)? {
            let bits = s
                .bits(T::notifyCompletion)
                .field("Signal.notify_completion")?;
            Some(map::completions_where(|b| bits.get(b)))
        } else {
            None
        };
        let keep_active = if s.opt(T::keepActive)? {
            s.boolean(T::keepActive).field("Signal.keep_active")?
        } else {
            false
        };
        let mut l = s.open_list(T::sigParList).field("Signal.sig_par_list")?;
        let mut params = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            use tags::SigParameter as P;
            let mut p = l.open(SEQUENCE, true).field("Signal.sig_par_list")?;
            let id = p
                .fixed::<2>(P::sigParameterName)
                .field("SigParameter.sig_parameter_name")?;
            let pname = map::param_name(self.reg, ItemKind::Signal, item, id);
            let value = self
                .value(&mut p, P::value, || {
                    format!("parameter '{pname}' of signal '{name}'")
                })
                .field("SigParameter.value")?;
            let extra = self.extra_info(&mut p, P::extraInfo, "SigParameter.extra_info")?;
            p.extensions(P::EXT).field("SigParameter.ext")?;
            l.close(p).field("Signal.sig_par_list")?;
            params.push(PropertyParm {
                name: pname,
                value,
                extra,
            });
        }
        s.close(l).field("Signal.sig_par_list")?;
        let direction = if s.opt(T::direction)? {
            let v = s.enumerated(T::direction).field("Signal.direction")?;
            Some(
                map::signal_direction_from(v)
                    .ok_or_else(|| ber(format!("ENUMERATED value {v} not in the type")))
                    .field("Signal.direction")?,
            )
        } else {
            None
        };
        let request_id = if s.opt(T::requestID)? {
            Some(s.u32(T::requestID).field("Signal.request_id")?)
        } else {
            None
        };
        let intersig_delay = if s.opt(T::intersigDelay)? {
            Some(s.u16(T::intersigDelay).field("Signal.intersig_delay")?)
        } else {
            None
        };
        s.extensions(T::EXT).field("Signal.ext")?;
        rd.close(s)?;
        Ok(Signal {
            name,
            stream,
            signal_type,
            duration,
            notify_completion,
            keep_active,
            direction,
            request_id,
            intersig_delay,
            params,
        })
    }

    // --- Modem, digit maps, statistics.

    /// `Dec` checks nonStandardData before it maps the properties.
    fn modem(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<ModemDescriptor> {
        use tags::ModemDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let mut l = s.open_list(T::mtl).field("ModemDescriptor.mtl")?;
        let mut types = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            let v = l.enumerated(ENUMERATED).field("ModemDescriptor.mtl")?;
            let name = usize::try_from(v)
                .ok()
                .and_then(map::modem_type_name)
                .ok_or_else(|| ber(format!("ENUMERATED value {v} not in the type")))
                .field("ModemDescriptor.mtl")?;
            types.push(name.to_string());
        }
        s.close(l).field("ModemDescriptor.mtl")?;
        let (props, held) = self.hold(&mut s, |d, s| {
            d.props(s, T::mpl).field("ModemDescriptor.mpl")
        })?;
        if s.opt(T::nonStandardData)? {
            self.check(false, || Broken::unsupported(why::MODEM_NSD))?;
            non_standard_data(&mut s, T::nonStandardData)
                .field("ModemDescriptor.non_standard_data")?;
        }
        if let Some(e) = held {
            return Err(e);
        }
        rd.close(s)?;
        Ok(ModemDescriptor { types, props })
    }

    fn digit_map_descriptor(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<DigitMapDescriptor> {
        use tags::DigitMapDescriptor as T;
        let mut s = rd.open(tag, true)?;
        let name = if s.opt(T::digitMapName)? {
            Some(map::digit_map_name_from_octets(
                s.fixed::<2>(T::digitMapName)
                    .field("DigitMapDescriptor.digit_map_name")?,
            ))
        } else {
            None
        };
        let value = if s.opt(T::digitMapValue)? {
            Some(
                digit_map_value(&mut s, T::digitMapValue)
                    .field("DigitMapDescriptor.digit_map_value")?,
            )
        } else {
            None
        };
        rd.close(s)?;
        self.check(name.is_some() || value.is_some(), || {
            Broken::bad(why::DIGIT_MAP_EMPTY)
        })?;
        Ok(DigitMapDescriptor { name, value })
    }

    fn statistics(&mut self, rd: &mut Rd<'_>, tag: Tag) -> R<Vec<StatisticsParameter>> {
        use tags::StatisticsParameter as T;
        let mut l = rd.open_list(tag)?;
        let mut out = Vec::with_capacity(l.count_hint());
        while !l.at_end() {
            let mut s = l.open(SEQUENCE, true)?;
            let n = s
                .fixed::<4>(T::statName)
                .field("StatisticsParameter.stat_name")?;
            let name = self.name(ItemKind::Statistic, n)?;
            let value = if s.opt(T::statValue)? {
                Some(
                    self.value(&mut s, T::statValue, || format!("statistic '{name}'"))
                        .field("StatisticsParameter.stat_value")?,
                )
            } else {
                None
            };
            l.close(s)?;
            out.push(StatisticsParameter { name, value });
        }
        rd.close(l)?;
        Ok(out)
    }
}

/// What RequestedActions / SecondRequestedActions give the RequestedEvent.
struct Actions {
    keep_active: bool,
    digit_map: Option<DigitMapDescriptor>,
    embed_events: Option<Box<EventsDescriptor>>,
    embed_signals: Option<Vec<SignalsItem>>,
    notify_behaviour: Option<NotifyBehaviour>,
    reset_events: bool,
}

#[cold]
fn no_choice(ty: &str, tag: Tag) -> Fail {
    ber(format!("no alternative of {ty} has tag {tag}"))
}

// --- Types without mapping rules.

/// `IP4Address` / `IP6Address` (N octets), tagged `tag`.
fn ip_address<const N: usize>(rd: &mut Rd<'_>, tag: Tag) -> R<([u8; N], Option<u16>)> {
    use tags::IPAddress as T;
    let mut s = rd.open(tag, true)?;
    let addr = s.fixed::<N>(T::address).field("address")?;
    let port = if s.opt(T::portNumber)? {
        Some(s.u16(T::portNumber).field("port_number")?)
    } else {
        None
    };
    rd.close(s)?;
    Ok((addr, port))
}

/// `TerminationID`, tagged `tag`, as read.
fn termination_id<'a>(rd: &mut Rd<'a>, tag: Tag) -> R<RawTid<'a>> {
    use tags::TerminationID as T;
    // The common encoding in one match: a definite SEQUENCE of an empty wildcard list
    // (`[0]`, definite, empty) and a primitive id (`[1]`), nothing after it. What the general
    // path below reads the same, the depth checks included (the SEQUENCE and the list
    // entered: two levels).
    if let [first, len, 0xa0, 0x00, 0x81, n, rest @ ..] = rd.input {
        if u16::from(*first) == tag.short_id() | 0x20
            && *len <= 0x7f
            && usize::from(*len) == usize::from(*n) + 4
            && rd.depth >= 2
        {
            if let Some((id, rest)) = rest.split_at_checked(usize::from(*n)) {
                rd.input = rest;
                return Ok(RawTid {
                    wildcard: SmallVec::new(),
                    id: Cow::Borrowed(id),
                });
            }
        }
    }
    let mut s = rd.open(tag, true)?;
    let mut l = s.open_list(T::wildcard).field("TerminationID.wildcard")?;
    let mut wildcard = SmallVec::new();
    while !l.at_end() {
        let [w] = l.fixed::<1>(OCTET_STRING).field("TerminationID.wildcard")?;
        wildcard.push(w);
    }
    s.close(l).field("TerminationID.wildcard")?;
    let id = s.octets(T::id).field("TerminationID.id")?;
    s.extensions(T::EXT).field("TerminationID.ext")?;
    rd.close(s)?;
    Ok(RawTid { wildcard, id })
}

fn select_logic(rd: &mut Rd<'_>) -> R<SelectLogic> {
    use tags::SelectLogic as T;
    let mut e = rd.open(tags::ContextAttrAuditRequest::selectLogic, false)?;
    let r = match e.peek()? {
        T::andAUDITSelect => {
            e.null(T::andAUDITSelect)?;
            SelectLogic::And
        }
        T::orAUDITSelect => {
            e.null(T::orAUDITSelect)?;
            SelectLogic::Or
        }
        t => return Err(no_choice("SelectLogic", t)),
    };
    rd.close(e)?;
    Ok(r)
}

/// `IndAudSignal`, tagged `tag`: signal name as read, streamID, signalRequestID.
fn ind_aud_signal(rd: &mut Rd<'_>, tag: Tag) -> R<([u8; 4], Option<u16>, Option<u32>)> {
    use tags::IndAudSignal as T;
    let mut s = rd.open(tag, true)?;
    let name = s
        .fixed::<4>(T::signalName)
        .field("IndAudSignal.signal_name")?;
    let stream = if s.opt(T::streamID)? {
        Some(s.u16(T::streamID).field("IndAudSignal.stream_id")?)
    } else {
        None
    };
    let request_id = if s.opt(T::signalRequestID)? {
        Some(
            s.u32(T::signalRequestID)
                .field("IndAudSignal.signal_request_id")?,
        )
    } else {
        None
    };
    s.extensions(T::EXT).field("IndAudSignal.ext")?;
    rd.close(s)?;
    Ok((name, stream, request_id))
}

fn digit_map_value(rd: &mut Rd<'_>, tag: Tag) -> R<DigitMapValue> {
    use tags::DigitMapValue as T;
    let mut s = rd.open(tag, true)?;
    let timer = |s: &mut Rd<'_>, tag: Tag, name: &'static str| -> R<Option<u8>> {
        if s.opt(tag)? {
            Ok(Some(s.u8(tag).field(name)?))
        } else {
            Ok(None)
        }
    };
    let start_timer = timer(&mut s, T::startTimer, "DigitMapValue.start_timer")?;
    let short_timer = timer(&mut s, T::shortTimer, "DigitMapValue.short_timer")?;
    let long_timer = timer(&mut s, T::longTimer, "DigitMapValue.long_timer")?;
    let body = s
        .ia5(T::digitMapBody)
        .field("DigitMapValue.digit_map_body")?;
    let duration_timer = timer(&mut s, T::durationTimer, "DigitMapValue.duration_timer")?;
    s.extensions(T::EXT).field("DigitMapValue.ext")?;
    rd.close(s)?;
    Ok(DigitMapValue {
        start_timer,
        short_timer,
        long_timer,
        duration_timer,
        body: map::ia5_text(&body).into(),
    })
}

/// Into `out`: returned through a `Result`, its just-built texts were reloaded with wide loads
/// (store-to-load forwarding stalls; measured).
fn time_notation(rd: &mut Rd<'_>, tag: Tag, out: &mut Option<TimeNotation>) -> R<()> {
    use tags::TimeNotation as T;
    // The common encoding in one match: a definite SEQUENCE of an 8-character date and an
    // 8-character time, nothing after them (the general path below reads it the same: one
    // level entered, IA5 checked).
    if let [first, 0x14, 0x80, 0x08, rest @ ..] = rd.input {
        if u16::from(*first) == tag.short_id() | 0x20 && rd.depth >= 1 {
            if let Some((date, [0x81, 0x08, rest @ ..])) = rest.split_first_chunk::<8>() {
                if let Some((time, rest)) = rest.split_first_chunk::<8>() {
                    if date.is_ascii() && time.is_ascii() {
                        rd.input = rest;
                        *out = Some(map::time_notation(date, time));
                        return Ok(());
                    }
                }
            }
        }
    }
    let mut s = rd.open(tag, true)?;
    let date = s.ia5(T::date).field("TimeNotation.date")?;
    let time = s.ia5(T::time).field("TimeNotation.time")?;
    rd.close(s)?;
    *out = Some(map::time_notation(&date, &time));
    Ok(())
}

/// `NonStandardData`, tagged `tag`: the `experimental` identifier (None for the other
/// alternatives) and the data.
#[allow(clippy::type_complexity)]
fn non_standard_data<'a>(rd: &mut Rd<'a>, tag: Tag) -> R<(Option<Cow<'a, [u8]>>, Cow<'a, [u8]>)> {
    use tags::NonStandardData as T;
    use tags::NonStandardIdentifier as I;
    let mut s = rd.open(tag, true)?;
    let mut e = s
        .open(T::nonStandardIdentifier, false)
        .field("NonStandardData.non_standard_identifier")?;
    let experimental = match e.peek().field("NonStandardData.non_standard_identifier")? {
        I::object => {
            e.object_identifier(I::object)
                .field("NonStandardData.non_standard_identifier")?;
            None
        }
        I::h221NonStandard => {
            use tags::H221NonStandard as H;
            let mut h = e
                .open(I::h221NonStandard, true)
                .field("NonStandardData.non_standard_identifier")?;
            h.u8(H::t35CountryCode1)
                .field("H221NonStandard.t35_country_code1")?;
            h.u8(H::t35CountryCode2)
                .field("H221NonStandard.t35_country_code2")?;
            h.u8(H::t35Extension)
                .field("H221NonStandard.t35_extension")?;
            h.u16(H::manufacturerCode)
                .field("H221NonStandard.manufacturer_code")?;
            h.extensions(H::EXT).field("H221NonStandard.ext")?;
            e.close(h)
                .field("NonStandardData.non_standard_identifier")?;
            None
        }
        I::experimental => Some(
            e.ia5(I::experimental)
                .field("NonStandardData.non_standard_identifier")?,
        ),
        t => {
            return Err(no_choice("NonStandardIdentifier", t))
                .field("NonStandardData.non_standard_identifier")
        }
    };
    s.close(e)
        .field("NonStandardData.non_standard_identifier")?;
    let data = s.octets(T::data).field("NonStandardData.data")?;
    rd.close(s)?;
    Ok((experimental, data))
}
