//! Termination IDs between their text form (the model's [`TerminationId`]) and the binary
//! `TerminationID ::= SEQUENCE { wildcard SEQUENCE OF OCTET STRING(SIZE(1)), id OCTET
//! STRING(SIZE(1..8)) }` of H.248.1 Annex A.
//!
//! The text form of a termination ID is free (`ip/acc/t1001`, `tdm/trunk1/5`, ...) while the
//! binary form is at most 8 octets, so a mapping has to be configured. A [`TermIdMapping`] tries,
//! in this order:
//!
//! 1. **ROOT**: text `root` is eight 0xFF octets and no wildcard, both ways.
//! 2. **Lossless fallback** (encode only accepts it; decode produces it when nothing else
//!    applies): text `x` + the id octets in lower-case hex, then `_w` + hex for each wildcard
//!    octet, e.g. `x0a0b0c` or `x0a0000_w4f`. So any binary ID survives BER → model → BER.
//!    Such a text contains no `$`/`*`, so [`TerminationId::is_wildcard`] does not see the
//!    wildcard of a fallback ID.
//! 3. **Binary digits** (Erlang/OTP megaco's default convention, `megaco_binary_term_id_gen`,
//!    level configuration `[8, 8, 8]`): each `/`-separated text level is a string of `0`/`1`
//!    with exactly as many digits as the level has bits; the levels' bits are concatenated and
//!    packed into octets, most significant bit first (`11111111/00000000/00000001` = `FF 00 01`).
//!    A level may end with `$` (CHOOSE) or `*` (ALL) instead of its remaining bits, which are
//!    then zero in the id and described by one wildcard octet (H.248.1 A.1): bit 7 = ALL (1) or
//!    CHOOSE (0); bit 6 = "this and lower levels" (1) or "this level" (0); bits 5..0 = position
//!    of the first (most significant) wildcarded bit counted from the least significant bit of
//!    the whole id. As megaco does: the wildcard of the last text level is "this and lower
//!    levels" when configured levels follow it (those are zero-filled, e.g. `11111111/*` =
//!    wildcard `CF`, id `FF 00 00`; `*` = `D7`, `00 00 00`; `$` = `57`, `00 00 00`), "this level"
//!    when it is the last configured level (`11111111/00000000/0000001*` = `80`, `FF 00 02`) or
//!    when text levels follow (`11111111/$/00000001` = `0F`, `FF 00 01`). megaco's own decoder
//!    reads a "this level" wildcard one level too early (`11111111/$/00000001` comes back as
//!    `11111111$/00000000/00000001`); this decoder follows the encoding rule above.
//! 4. **Rules** ([`TermIdRule`]): text `<text_prefix><decimal N>` ⇔ `<id_prefix>` followed by N
//!    big-endian in `width` octets. With `digits = d` the decimal is written with exactly `d`
//!    digits (zero-padded), otherwise in canonical form (no leading zero). When the text prefix
//!    contains a `/`, the directory part (up to and including the last `/`) followed by `$` or
//!    `*` is the CHOOSE or ALL wildcard of the number: id = `<id_prefix>` + `width` zero octets,
//!    one wildcard octet `0x00`/`0x80` + (8 × width − 1) ("this level", the number being the
//!    last level). E.g. with the default rule `ip/acc/t` ⇔ `10` + 4 octets: `ip/acc/t1001` =
//!    `10 00 00 03 E9`, `ip/acc/$` = wildcard `1F`, id `10 00 00 00 00`.
//!
//! Encoding tries ROOT, the fallback form, binary digits, then the rules in order; a text ID
//! none of them expresses is an error (H.248 answers 500 to it, as megaco does). Decoding tries
//! ROOT, the rules, binary digits, then the fallback, and accepts a candidate text only if it
//! encodes back to exactly the same octets, so BER → model → BER never changes an ID.
//!
//! The default mapping ([`TermIdMapping::default`]) has the binary-digit levels `[8, 8, 8]` and
//! the rules of this project's AGW: `ip/acc/t<N>` ⇔ `10` + N in 4 octets (access side) and
//! `ip/core/t<N>` ⇔ `20` + N in 4 octets (core side). [`TermIdMapping::from_toml`] loads another
//! one:
//!
//! ```toml
//! use_default_rules = false   # default true: the rules below come after the default ones
//!
//! [binary_digits]
//! levels = [8, 8, 8]          # bits per level; [] switches the convention off
//!
//! [[rule]]
//! text_prefix = "tdm/trunk1/"
//! id_prefix = [0x30, 0x01]    # octets
//! width = 2
//! digits = 3                  # optional: tdm/trunk1/005
//! ```
//!
//! Checks on a configuration: levels of 1..=64 bits whose sum is a multiple of 8 and at most
//! 64; rule text prefixes non-empty, lower case, of `a-z 0-9 _ /`, not ending in a digit, not
//! of the fallback's `x<hex>` form, all different; `width` 1..=8, `id_prefix` + `width` at most 8
//! octets; no two rules whose ids can coincide (same length, one id prefix a prefix of the
//! other).

use crate::model::{TerminationId, Text};
use serde::Deserialize;
use thiserror::Error;

/// The ROOT termination's binary id.
pub const ROOT_ID: [u8; 8] = [0xFF; 8];

/// A binary termination ID: wildcard octets and id octets, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BinaryTermId {
    /// Wildcard octets (H.248.1 A.1 layout).
    pub wildcard: Vec<u8>,
    /// The id, 1 to 8 octets.
    pub id: Vec<u8>,
}

/// A binary termination ID as [`BinaryTermId`] without heap allocation (what the encoders
/// use): up to 8 id octets inline, wildcard octets inline up to 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TidOctets {
    id: [u8; 8],
    id_len: u8,
    wildcard: smallvec::SmallVec<[u8; 4]>,
}

impl TidOctets {
    /// `id` (1 to 8 octets) and no wildcard.
    fn new(id: &[u8]) -> Self {
        let mut t = TidOctets {
            id: [0; 8],
            id_len: id.len() as u8,
            wildcard: smallvec::SmallVec::new(),
        };
        t.id[..id.len()].copy_from_slice(id);
        t
    }

    /// The id octets.
    pub(crate) fn id(&self) -> &[u8] {
        &self.id[..usize::from(self.id_len)]
    }

    /// The wildcard octets.
    pub(crate) fn wildcard(&self) -> &[u8] {
        &self.wildcard
    }

    fn into_binary(self) -> BinaryTermId {
        BinaryTermId {
            wildcard: self.wildcard.to_vec(),
            id: self.id().to_vec(),
        }
    }
}

/// One text ⇔ binary rule: `<text_prefix><decimal>` ⇔ `<id_prefix><number in width octets>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermIdRule {
    /// Text before the number, e.g. `ip/acc/t` (lower case).
    pub text_prefix: String,
    /// Octets before the number.
    #[serde(default)]
    pub id_prefix: Vec<u8>,
    /// Octets of the number (big-endian), 1..=8.
    pub width: u8,
    /// Fixed number of decimal digits (zero-padded); `None` = canonical decimal.
    #[serde(default)]
    pub digits: Option<u8>,
}

impl TermIdRule {
    /// A rule with canonical decimals.
    pub fn new(text_prefix: &str, id_prefix: &[u8], width: u8) -> Self {
        TermIdRule {
            text_prefix: text_prefix.to_string(),
            id_prefix: id_prefix.to_vec(),
            width,
            digits: None,
        }
    }

    /// The text before the last segment (`ip/acc/` for `ip/acc/t`), if the prefix has a `/`.
    fn dir(&self) -> Option<&str> {
        self.text_prefix.rfind('/').map(|i| &self.text_prefix[..=i])
    }

    fn id_len(&self) -> usize {
        self.id_prefix.len() + usize::from(self.width)
    }

    /// The wildcard octet of `<dir>$` / `<dir>*`.
    fn wildcard_octet(&self, all: bool) -> u8 {
        (if all { 0x80 } else { 0x00 }) | (self.width * 8 - 1)
    }

    fn encode(&self, text: &str) -> Option<Result<TidOctets, String>> {
        // `validate` keeps id_prefix + width within 8 octets.
        let mut id = [0u8; 8];
        id[..self.id_prefix.len()].copy_from_slice(&self.id_prefix);
        if let Some(dir) = self.dir() {
            if let Some(w) = text.strip_prefix(dir) {
                if w == "$" || w == "*" {
                    let mut t = TidOctets::new(&id[..self.id_len()]);
                    t.wildcard.push(self.wildcard_octet(w == "*"));
                    return Some(Ok(t));
                }
            }
        }
        let rest = text.strip_prefix(self.text_prefix.as_str())?;
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match self.digits {
            Some(d) if rest.len() != usize::from(d) => {
                return Some(Err(format!(
                    "rule '{}' wants exactly {d} digits, '{rest}' has {}",
                    self.text_prefix,
                    rest.len()
                )))
            }
            None if rest.len() > 1 && rest.starts_with('0') => {
                return Some(Err(format!(
                    "rule '{}' wants a decimal without leading zeros, found '{rest}'",
                    self.text_prefix
                )))
            }
            _ => {}
        }
        let n: u64 = match rest.parse() {
            Ok(n) => n,
            Err(_) => return Some(Err(format!("number '{rest}' too large"))),
        };
        let bytes = n.to_be_bytes();
        let w = usize::from(self.width);
        if bytes[..8 - w].iter().any(|&b| b != 0) {
            return Some(Err(format!(
                "number {n} does not fit the {w} octet(s) of rule '{}'",
                self.text_prefix
            )));
        }
        id[self.id_prefix.len()..self.id_len()].copy_from_slice(&bytes[8 - w..]);
        Some(Ok(TidOctets::new(&id[..self.id_len()])))
    }

    fn decode(&self, wildcard: &[u8], id: &[u8]) -> Option<Text> {
        if id.len() != self.id_len() || !id.starts_with(&self.id_prefix) {
            return None;
        }
        let num = &id[self.id_prefix.len()..];
        match wildcard {
            [] => {
                let n = num.iter().fold(0u64, |a, &b| a << 8 | u64::from(b));
                let mut buf = [0u8; 20];
                let digits = crate::text::decimal(n, &mut buf);
                let width = self.digits.map_or(0, usize::from);
                let pad = width.saturating_sub(digits.len());
                let mut t = Text::with_capacity(self.text_prefix.len() + pad + digits.len());
                t.push_str(&self.text_prefix);
                (0..pad).for_each(|_| t.push('0'));
                t.push_str(digits);
                Some(t)
            }
            [w] => {
                let dir = self.dir()?;
                if num.iter().any(|&b| b != 0) {
                    return None;
                }
                let last = if *w == self.wildcard_octet(false) {
                    "$"
                } else if *w == self.wildcard_octet(true) {
                    "*"
                } else {
                    return None;
                };
                let mut t = Text::from(dir);
                t.push_str(last);
                Some(t)
            }
            _ => None,
        }
    }
}

/// A configuration that is not valid: what and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TermIdConfigError {
    /// Not TOML, or keys/values of the wrong shape.
    #[error("termination ID mapping: TOML: {0}")]
    Toml(String),
    /// A rule or the level configuration breaks a check (see the module docs).
    #[error("termination ID mapping: {0}")]
    Invalid(String),
}

/// How termination IDs are mapped between text and binary. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermIdMapping {
    levels: Vec<u8>,
    rules: Vec<TermIdRule>,
}

impl Default for TermIdMapping {
    /// Binary digits `[8, 8, 8]` and the AGW rules `ip/acc/t` ⇔ `10`+4 octets,
    /// `ip/core/t` ⇔ `20`+4 octets.
    fn default() -> Self {
        TermIdMapping {
            levels: vec![8, 8, 8],
            rules: default_rules(),
        }
    }
}

fn default_rules() -> Vec<TermIdRule> {
    vec![
        TermIdRule::new("ip/acc/t", &[0x10], 4),
        TermIdRule::new("ip/core/t", &[0x20], 4),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlMapping {
    #[serde(default = "yes")]
    use_default_rules: bool,
    #[serde(default)]
    binary_digits: Option<TomlDigits>,
    #[serde(default)]
    rule: Vec<TermIdRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlDigits {
    levels: Vec<u8>,
}

fn yes() -> bool {
    true
}

impl TermIdMapping {
    /// A mapping from binary-digit levels (empty = convention off) and rules; checked.
    pub fn new(levels: Vec<u8>, rules: Vec<TermIdRule>) -> Result<Self, TermIdConfigError> {
        let m = TermIdMapping { levels, rules };
        m.validate()?;
        Ok(m)
    }

    /// megaco's default alone: binary digits `[8, 8, 8]`, no rules.
    pub fn megaco() -> Self {
        TermIdMapping {
            levels: vec![8, 8, 8],
            rules: Vec::new(),
        }
    }

    /// Loads a mapping from TOML (format in the module docs).
    pub fn from_toml(text: &str) -> Result<Self, TermIdConfigError> {
        let t: TomlMapping =
            toml::from_str(text).map_err(|e| TermIdConfigError::Toml(e.to_string()))?;
        let levels = t.binary_digits.map_or_else(|| vec![8, 8, 8], |d| d.levels);
        let mut rules = if t.use_default_rules {
            default_rules()
        } else {
            Vec::new()
        };
        rules.extend(t.rule);
        TermIdMapping::new(levels, rules)
    }

    /// Bits per level of the binary-digit convention (empty when off).
    pub fn levels(&self) -> &[u8] {
        &self.levels
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[TermIdRule] {
        &self.rules
    }

    fn validate(&self) -> Result<(), TermIdConfigError> {
        let bad = |s: String| Err(TermIdConfigError::Invalid(s));
        if !self.levels.is_empty() {
            let total: u32 = self.levels.iter().map(|&l| u32::from(l)).sum();
            if self.levels.iter().any(|&l| l == 0 || l > 64) || total % 8 != 0 || total > 64 {
                return bad(format!(
                    "binary-digit levels {:?}: each 1..=64 bits, sum a multiple of 8 and at most 64",
                    self.levels
                ));
            }
        }
        for (i, r) in self.rules.iter().enumerate() {
            let p = &r.text_prefix;
            if p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'/')
            {
                return bad(format!(
                    "rule '{p}': text_prefix must be non-empty lower-case a-z, 0-9, '_' or '/'"
                ));
            }
            if p.ends_with(|c: char| c.is_ascii_digit()) {
                return bad(format!("rule '{p}': text_prefix must not end in a digit"));
            }
            if p.starts_with('x') && p[1..].bytes().all(|b| b.is_ascii_hexdigit()) {
                return bad(format!(
                    "rule '{p}': text_prefix has the form x<hex> of the fallback IDs"
                ));
            }
            if r.width == 0 || r.width > 8 || r.id_len() > 8 {
                return bad(format!(
                    "rule '{p}': width must be 1..=8 and id_prefix + width at most 8 octets"
                ));
            }
            if r.digits.is_some_and(|d| d == 0 || d > 20) {
                return bad(format!("rule '{p}': digits must be 1..=20"));
            }
            for o in &self.rules[..i] {
                if o.text_prefix == *p {
                    return bad(format!("two rules with text_prefix '{p}'"));
                }
                if o.id_len() == r.id_len()
                    && (o.id_prefix.starts_with(&r.id_prefix)
                        || r.id_prefix.starts_with(&o.id_prefix))
                {
                    return bad(format!(
                        "rules '{}' and '{p}' can give the same binary id",
                        o.text_prefix
                    ));
                }
            }
        }
        Ok(())
    }

    /// Text → binary. The error says why no form applies (the caller answers 500).
    pub fn encode(&self, tid: &TerminationId) -> Result<BinaryTermId, String> {
        self.encode_text(tid.as_str())
    }

    fn encode_text(&self, text: &str) -> Result<BinaryTermId, String> {
        self.encode_octets(text).map(TidOctets::into_binary)
    }

    /// [`Self::encode`] without heap allocation (for an ID in lower case).
    pub(crate) fn encode_octets(&self, text: &str) -> Result<TidOctets, String> {
        // The common case first: it is none of the forms tried before the binary digits below.
        if let Some(t) = self.plain_digits(text.as_bytes()) {
            return Ok(t);
        }
        if text.eq_ignore_ascii_case("root") {
            return Ok(TidOctets::new(&ROOT_ID));
        }
        let lower;
        let text = if text.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = text.to_ascii_lowercase();
            lower.as_str()
        } else {
            text
        };
        if let Some(b) = parse_fallback(text) {
            return Ok(b);
        }
        let digits = self.encode_digits(text);
        if let Some(Ok(b)) = digits {
            return Ok(b);
        }
        for r in &self.rules {
            if let Some(res) = r.encode(text) {
                return res;
            }
        }
        Err(match digits {
            Some(Err(e)) => e,
            _ => "no termination ID mapping rule matches it (and it is neither ROOT, \
                  binary-digit levels nor the x<hex> form)"
                .to_string(),
        })
    }

    /// Binary → text. Fails only for an id of 0 or more than 8 octets.
    pub fn decode(&self, wildcard: &[u8], id: &[u8]) -> Result<TerminationId, String> {
        if id.is_empty() || id.len() > 8 {
            return Err(format!(
                "termination id of {} octets (1 to 8 allowed)",
                id.len()
            ));
        }
        if wildcard.is_empty() && id == ROOT_ID {
            return Ok(TerminationId::root());
        }
        // `encode_octets`, not `encode`: the check needs no heap.
        let same = |text: &str| {
            self.encode_octets(text)
                .is_ok_and(|b| b.wildcard() == wildcard && b.id() == id)
        };
        for r in &self.rules {
            if let Some(t) = r.decode(wildcard, id) {
                if same(&t) {
                    return Ok(TerminationId(t));
                }
            }
        }
        if let Some(t) = self.decode_digits(wildcard, id) {
            // Without wildcards every level is written out in full, and such a text always
            // encodes back to the same octets: only wildcarded forms need the check.
            if wildcard.is_empty() || same(&t) {
                return Ok(TerminationId(t));
            }
        }
        let mut t = String::with_capacity(1 + 2 * id.len() + 4 * wildcard.len());
        t.push('x');
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let push_hex = |t: &mut String, b: u8| {
            t.push(char::from(HEX[usize::from(b >> 4)]));
            t.push(char::from(HEX[usize::from(b & 15)]));
        };
        for &b in id {
            push_hex(&mut t, b);
        }
        for &w in wildcard {
            t.push_str("_w");
            push_hex(&mut t, w);
        }
        Ok(TerminationId(t.into()))
    }

    /// The binary-digit form with every level written out in full and no wildcard
    /// (`00000001/00000010/00000011`), what [`Self::encode_digits`] gives for it, read eight
    /// digits at a time; `None` for any other text (the general path decides).
    fn plain_digits(&self, text: &[u8]) -> Option<TidOctets> {
        let n = self.levels.len();
        if n == 0 {
            return None;
        }
        // At most 64 bits, a whole number of octets (`validate`).
        let total: usize = self.levels.iter().map(|&l| usize::from(l)).sum();
        if text.len() != total + n - 1 {
            return None;
        }
        let mut bits = 0u64;
        let mut pos = 0;
        for (i, &l) in self.levels.iter().enumerate() {
            if i > 0 {
                if text[pos] != b'/' {
                    return None;
                }
                pos += 1;
            }
            let mut rest = &text[pos..pos + usize::from(l)];
            pos += usize::from(l);
            while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
                // Eight `0`/`1` characters (0x30/0x31) to eight bits, the first one highest.
                let x = u64::from_be_bytes(*chunk);
                if x & 0xFEFE_FEFE_FEFE_FEFE != 0x3030_3030_3030_3030 {
                    return None;
                }
                bits = bits << 8
                    | (x & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080) >> 56;
                rest = tail;
            }
            for &c in rest {
                if c & 0xFE != b'0' {
                    return None;
                }
                bits = bits << 1 | u64::from(c & 1);
            }
        }
        Some(TidOctets::new(&bits.to_be_bytes()[8 - total / 8..]))
    }

    /// The binary-digit convention; `None` if the text is not of its form at all.
    fn encode_digits(&self, text: &str) -> Option<Result<TidOctets, String>> {
        if self.levels.is_empty() {
            return None;
        }
        // The form, in one pass over the bytes (this runs for every termination ID of every
        // BER message encoded, and decoded with wildcards): levels of `0`/`1` digits separated
        // by `/`, none empty, each possibly ending in one `$` or `*`.
        // The same pass reads the bits of the common case: every level written out in full, no
        // wildcard (`plain` stays true); anything else takes the long way below.
        let mut n_parts = 1;
        let mut part_len = 0;
        let mut after_wildcard = false;
        let mut plain = true;
        let mut bits = 0u64;
        for &b in text.as_bytes() {
            match b {
                b'0' | b'1' if !after_wildcard => {
                    part_len += 1;
                    bits = bits.wrapping_shl(1) | u64::from(b & 1);
                }
                b'$' | b'*' if !after_wildcard => {
                    part_len += 1;
                    after_wildcard = true;
                    plain = false;
                }
                b'/' if part_len > 0 => {
                    plain &=
                        self.levels.get(n_parts - 1).map(|&l| usize::from(l)) == Some(part_len);
                    n_parts += 1;
                    part_len = 0;
                    after_wildcard = false;
                }
                _ => return None,
            }
        }
        if part_len == 0 {
            return None;
        }
        if plain
            && n_parts == self.levels.len()
            && usize::from(self.levels[n_parts - 1]) == part_len
        {
            // Every level has exactly its width: the bits are all there, at most 64 of them
            // (`validate`), a whole number of octets.
            let total: usize = self.levels.iter().map(|&l| usize::from(l)).sum();
            return Some(Ok(TidOctets::new(&bits.to_be_bytes()[8 - total / 8..])));
        }
        // Byte slices from here on: every byte is one of `01/$*`.
        let levels = || text.as_bytes().split(|&b| b == b'/');
        let as_text = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
        if n_parts > self.levels.len() {
            return Some(Err(format!(
                "{} binary-digit levels, {} configured",
                n_parts,
                self.levels.len()
            )));
        }
        // The levels add up to at most 64 bits (`validate`), and no more are ever pushed:
        // a level's bits are checked against its width before they are added.
        bits = 0;
        let mut n_bits = 0usize;
        let mut push = |bit: bool, n_bits: &mut usize| {
            bits = bits << 1 | u64::from(bit);
            *n_bits += 1;
        };
        let mut wildcard = smallvec::SmallVec::new();
        let last = n_parts - 1;
        for (i, p) in levels().enumerate() {
            let c = usize::from(self.levels[i]);
            let wc = match p.last() {
                Some(&w @ (b'$' | b'*')) => Some(w),
                _ => None,
            };
            let body = &p[..p.len() - usize::from(wc.is_some())];
            match wc {
                None => {
                    if body.len() != c {
                        return Some(Err(format!(
                            "binary-digit level {} is '{}' ({} bits), {c} bits configured",
                            i + 1,
                            as_text(body),
                            body.len()
                        )));
                    }
                    body.iter().for_each(|&b| push(b == b'1', &mut n_bits));
                }
                Some(w) => {
                    if body.len() >= c {
                        return Some(Err(format!(
                            "binary-digit level {} '{}': the wildcard must cover at least one of its {c} bits",
                            i + 1,
                            as_text(p)
                        )));
                    }
                    body.iter().for_each(|&b| push(b == b'1', &mut n_bits));
                    (body.len()..c).for_each(|_| push(false, &mut n_bits));
                    let rest: usize = self.levels[i + 1..].iter().map(|&l| usize::from(l)).sum();
                    let pos = (c - body.len() - 1 + rest) as u8;
                    let all = if w == b'*' { 0x80 } else { 0x00 };
                    let recursive = if i == last && rest > 0 { 0x40 } else { 0x00 };
                    wildcard.push(all | recursive | pos);
                    if i == last {
                        (0..rest).for_each(|_| push(false, &mut n_bits));
                    }
                }
            }
        }
        let total: usize = self.levels.iter().map(|&l| usize::from(l)).sum();
        if n_bits != total {
            return Some(Err(format!(
                "{} binary-digit levels without a wildcard, {} configured",
                n_parts,
                self.levels.len()
            )));
        }
        let mut t = TidOctets::new(&bits.to_be_bytes()[8 - total / 8..]);
        t.wildcard = wildcard;
        Some(Ok(t))
    }

    /// Reads binary digits; the caller checks that a wildcarded text encodes back to the same
    /// octets.
    fn decode_digits(&self, wildcard: &[u8], id: &[u8]) -> Option<Text> {
        let total: usize = self.levels.iter().map(|&l| usize::from(l)).sum();
        if self.levels.is_empty() || id.len() * 8 != total {
            return None;
        }
        if wildcard.is_empty() {
            // Every level in full: the common case, without the per-level table below.
            return Some(self.write_full(id));
        }
        // Per level: how many of its digits are written, and the wildcard after them.
        let mut shown: smallvec::SmallVec<[(usize, Option<char>); 8]> = self
            .levels
            .iter()
            .map(|&l| (usize::from(l), None))
            .collect();
        let mut cut = self.levels.len();
        for &w in wildcard {
            let pos = usize::from(w & 0x3F);
            if pos >= total {
                return None;
            }
            let idx = total - 1 - pos;
            let mut s = 0;
            let (i, k) = self.levels.iter().enumerate().find_map(|(i, &l)| {
                let l = usize::from(l);
                let r = (idx >= s && idx < s + l).then_some((i, idx - s));
                s += l;
                r
            })?;
            if shown[i].1.is_some() {
                return None;
            }
            shown[i] = (k, Some(if w & 0x80 != 0 { '*' } else { '$' }));
            if w & 0x40 != 0 {
                cut = cut.min(i + 1);
            }
        }
        Some(self.write_digits(id, shown.into_iter(), cut))
    }

    /// The text of `id` (at most 8 octets, as many bits as the levels hold) with every level
    /// written out in full. Octet levels whose text does not fit a Text inline
    /// (`11111111/00000000/00000001`, megaco's usual IDs) are built as a String of the digits'
    /// static text, which the Text then takes over (no UTF-8 check, no copy); anything else
    /// goes through [`Self::write_digits`].
    fn write_full(&self, id: &[u8]) -> Text {
        if self.levels.len() == id.len()
            && self.levels.iter().all(|&l| l == 8)
            && 9 * id.len() - 1 > INLINE_TEXT
        {
            let mut t = String::with_capacity(9 * id.len() - 1);
            for (i, &b) in id.iter().enumerate() {
                if i > 0 {
                    t.push('/');
                }
                // Indexed (never out of range), not `get`: eight octets, copied inline.
                let at = 8 * usize::from(b);
                t.push_str(&OCTET_DIGIT_TEXT[at..at + 8]);
            }
            return Text::from(t);
        }
        let full = self.levels.iter().map(|&l| (usize::from(l), None));
        self.write_digits(id, full, self.levels.len())
    }

    /// The text of `id` (at most 8 octets, as many bits as the levels hold): per level in
    /// `shown`, its first `n` digits and the wildcard after them, up to level `cut`.
    fn write_digits(
        &self,
        id: &[u8],
        shown: impl Iterator<Item = (usize, Option<char>)>,
        cut: usize,
    ) -> Text {
        // The id's bits as digits, eight per octet from a table (at most 8 octets).
        let mut bits = [0u8; 64];
        for (d, &b) in bits.chunks_exact_mut(8).zip(id) {
            d.copy_from_slice(&OCTET_DIGITS[usize::from(b)]);
        }
        // The text on the stack, made a Text once: 64 digits, 63 slashes, 64 wildcards at most.
        let mut buf = [0u8; 192];
        let mut len = 0;
        let mut start = 0;
        for (i, (&l, (n, wc))) in self.levels.iter().zip(shown).enumerate() {
            if i == cut {
                break;
            }
            if i > 0 {
                if let Some(slot) = buf.get_mut(len) {
                    *slot = b'/';
                    len += 1;
                }
            }
            // Digit k of the level is bit `start + k` of the id, counted from the first.
            if let (Some(digits), Some(from)) =
                (buf.get_mut(len..len + n), bits.get(start..start + n))
            {
                digits.copy_from_slice(from);
                len += n;
            }
            if let Some(w) = wc {
                if let Some(slot) = buf.get_mut(len) {
                    *slot = w as u8;
                    len += 1;
                }
            }
            start += usize::from(l);
        }
        // Every byte is one of `01/$*`.
        Text::from_utf8(buf.get(..len).unwrap_or_default()).unwrap_or_default()
    }
}

/// Each octet's eight binary digits, first bit first (`0x05` → `00000101`).
const OCTET_DIGITS: [[u8; 8]; 256] = {
    let mut t = [[b'0'; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut k = 0;
        while k < 8 {
            if b & (0x80 >> k) != 0 {
                t[b][k] = b'1';
            }
            k += 1;
        }
        b += 1;
    }
    t
};

/// [`OCTET_DIGITS`] as one text: octet `b`'s digits are `[8 * b..8 * b + 8]`.
const OCTET_DIGIT_TEXT: &str = {
    const FLAT: [u8; 2048] = {
        let mut t = [0u8; 2048];
        let mut i = 0;
        while i < 2048 {
            t[i] = OCTET_DIGITS[i / 8][i % 8];
            i += 1;
        }
        t
    };
    match std::str::from_utf8(&FLAT) {
        Ok(s) => s,
        Err(_) => panic!("binary digits are ASCII"),
    }
};

/// The longest text a `Text` holds without a heap allocation.
const INLINE_TEXT: usize = std::mem::size_of::<Text>();

/// `x<hex id>(_w<hex>)*` → the octets.
fn parse_fallback(text: &str) -> Option<TidOctets> {
    let rest = text.strip_prefix('x')?;
    let mut parts = rest.split("_w");
    let mut id = [0u8; 8];
    let n = hex(parts.next()?, &mut id)?;
    if n == 0 {
        return None;
    }
    let mut t = TidOctets::new(&id[..n]);
    for p in parts {
        let mut w = [0u8; 1];
        match hex(p, &mut w)? {
            1 => t.wildcard.push(w[0]),
            _ => return None,
        }
    }
    Some(t)
}

/// Hex digits into `out`: the number of octets, `None` if not hex or longer than `out`.
fn hex(s: &str, out: &mut [u8]) -> Option<usize> {
    if s.len() % 2 != 0 || s.len() / 2 > out.len() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    for (o, i) in out.iter_mut().zip((0..s.len()).step_by(2)) {
        *o = u8::from_str_radix(&s[i..i + 2], 16).ok()?;
    }
    Some(s.len() / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(m: &TermIdMapping, t: &str) -> (Vec<u8>, Vec<u8>) {
        let b = m
            .encode(&TerminationId::new(t))
            .unwrap_or_else(|e| panic!("{t}: {e}"));
        (b.wildcard, b.id)
    }

    #[test]
    fn megaco_examples() {
        let m = TermIdMapping::default();
        assert_eq!(enc(&m, "root"), (vec![], vec![0xff; 8]));
        assert_eq!(
            enc(&m, "11111111/00000000/00000001"),
            (vec![], vec![0xff, 0, 1])
        );
        assert_eq!(enc(&m, "11111111/*"), (vec![0xcf], vec![0xff, 0, 0]));
        assert_eq!(
            enc(&m, "11111111/$/00000001"),
            (vec![0x0f], vec![0xff, 0, 1])
        );
        assert_eq!(enc(&m, "*"), (vec![0xd7], vec![0, 0, 0]));
        assert_eq!(enc(&m, "$"), (vec![0x57], vec![0, 0, 0]));
        assert_eq!(enc(&m, "1111$"), (vec![0x53], vec![0xf0, 0, 0]));
        assert_eq!(
            enc(&m, "11111111/00000000/0000001*"),
            (vec![0x80], vec![0xff, 0, 2])
        );
        for t in [
            "11111111/*",
            "11111111/$/00000001",
            "*",
            "$",
            "1111$",
            "11111111/00000000/0000001*",
            "root",
        ] {
            let (w, id) = enc(&m, t);
            assert_eq!(m.decode(&w, &id).unwrap().as_str(), t);
        }
    }

    /// What is of the binary-digit form (`Some`, possibly an error about the configured
    /// levels) and what is not (`None`, so rules and the error for unmappable IDs apply).
    #[test]
    fn binary_digit_form() {
        let m = TermIdMapping::default();
        for t in [
            "1$1", "1$$", "$1", "", "/1", "1/", "1//1", "11a", "12", "1*/$*",
        ] {
            assert!(m.encode_digits(t).is_none(), "{t:?} taken as binary digits");
        }
        for t in ["1", "$", "*", "1/0/1$", "11111111/*"] {
            assert!(
                m.encode_digits(t).is_some(),
                "{t:?} not taken as binary digits"
            );
        }
        // Of the form, but not of the configured levels (8/8/8 by default).
        for t in [
            "1/1/1/1",
            "1/11111111/11111111",
            "11111111/11111111/111111111",
        ] {
            assert!(matches!(m.encode_digits(t), Some(Err(_))), "{t:?} accepted");
        }
    }

    /// The eight-at-a-time reading of plain binary digits answers what the general path
    /// answers, and for every text it takes.
    #[test]
    fn plain_digits_agree_with_the_general_path() {
        let mut next = crate::binary::test_rng(0x2545_f491_4f6c_dd1du64);
        for levels in [
            vec![8, 8, 8],
            vec![16, 8],
            vec![4, 4, 8, 8],
            vec![64],
            vec![3, 5, 8],
        ] {
            let m = TermIdMapping::new(levels.clone(), Vec::new()).unwrap();
            for _ in 0..2000 {
                let mut t: Vec<u8> = Vec::new();
                for (i, &l) in levels.iter().enumerate() {
                    if i > 0 {
                        t.push(b'/');
                    }
                    t.extend((0..l).map(|_| b"01"[next(2)]));
                }
                // Now and then one character replaced, added or removed.
                match next(6) {
                    0 => {
                        let i = next(t.len());
                        t[i] = b"012/$*xR"[next(8)];
                    }
                    1 => {
                        let i = next(t.len() + 1);
                        t.insert(i, b"01/$"[next(4)]);
                    }
                    2 => {
                        let i = next(t.len());
                        t.remove(i);
                    }
                    _ => {}
                }
                let text = std::str::from_utf8(&t).unwrap();
                let general = m.encode_digits(text);
                // What encodes decodes back: to the same text when nothing is wildcarded (the
                // table-driven digit writer), else to a text of the same octets.
                if let Some(Ok(b)) = &general {
                    let back = m.decode(b.wildcard(), b.id()).unwrap();
                    if b.wildcard().is_empty() {
                        assert_eq!(back.as_str(), text, "{levels:?}");
                    } else {
                        assert_eq!(m.encode_digits(back.as_str()), general, "{levels:?} {text}");
                    }
                }
                match m.plain_digits(&t) {
                    Some(p) => assert_eq!(general, Some(Ok(p)), "{levels:?} {text}"),
                    None => assert!(
                        !matches!(&general, Some(Ok(b)) if b.wildcard().is_empty()),
                        "{levels:?} {text}: not taken, but {general:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn rules_and_fallback() {
        let m = TermIdMapping::default();
        assert_eq!(enc(&m, "ip/acc/t1001"), (vec![], vec![0x10, 0, 0, 3, 0xe9]));
        assert_eq!(enc(&m, "ip/core/t3"), (vec![], vec![0x20, 0, 0, 0, 3]));
        assert_eq!(enc(&m, "ip/acc/$"), (vec![0x1f], vec![0x10, 0, 0, 0, 0]));
        assert_eq!(enc(&m, "ip/core/*"), (vec![0x9f], vec![0x20, 0, 0, 0, 0]));
        for t in ["ip/acc/t1001", "ip/core/t0", "ip/acc/$", "ip/core/*"] {
            let (w, id) = enc(&m, t);
            assert_eq!(m.decode(&w, &id).unwrap().as_str(), t);
        }
        assert!(m.encode(&TerminationId::new("ip/acc/t01")).is_err());
        assert!(m.encode(&TerminationId::new("ip/acc/t4294967296")).is_err());
        assert!(m.encode(&TerminationId::new("tdm/1")).is_err());
        assert!(m.encode(&TerminationId::new("1111111")).is_err());
        // Fallback both ways.
        assert_eq!(
            m.decode(&[0x4f], &[0x0a, 0, 0]).unwrap().as_str(),
            "00001010/$"
        );
        let t = m.decode(&[0x3f], &[0x0a, 0, 0]).unwrap();
        assert_eq!(t.as_str(), "x0a0000_w3f");
        assert_eq!(enc(&m, t.as_str()), (vec![0x3f], vec![0x0a, 0, 0]));
        assert_eq!(m.decode(&[], &[1, 2]).unwrap().as_str(), "x0102");
        // A wildcard octet the digit convention would not write: fallback, not a lossy text.
        let t = m.decode(&[0x17], &[0, 0, 0]).unwrap();
        assert_eq!(enc(&m, t.as_str()), (vec![0x17], vec![0, 0, 0]));
        assert!(m.decode(&[], &[]).is_err());
        assert!(m.decode(&[], &[0; 9]).is_err());
    }

    #[test]
    fn toml_config() {
        let m = TermIdMapping::from_toml(
            r#"
            use_default_rules = false
            [binary_digits]
            levels = []
            [[rule]]
            text_prefix = "tdm/trunk1/"
            id_prefix = [0x30, 0x01]
            width = 2
            digits = 3
            "#,
        )
        .unwrap();
        assert!(m.rules().len() == 1 && m.levels().is_empty());
        assert_eq!(enc(&m, "tdm/trunk1/005"), (vec![], vec![0x30, 1, 0, 5]));
        assert_eq!(
            m.decode(&[], &[0x30, 1, 0, 5]).unwrap().as_str(),
            "tdm/trunk1/005"
        );
        assert!(m.encode(&TerminationId::new("tdm/trunk1/5")).is_err());
        for bad in [
            "[[rule]]\ntext_prefix = \"t1\"\nwidth = 2",
            "[[rule]]\ntext_prefix = \"xa\"\nwidth = 2",
            "[[rule]]\ntext_prefix = \"a\"\nid_prefix = [1]\nwidth = 8",
            "[[rule]]\ntext_prefix = \"a\"\nwidth = 2\n[[rule]]\ntext_prefix = \"b\"\nwidth = 2",
            "[binary_digits]\nlevels = [7]",
            "nonsense = 1",
        ] {
            assert!(TermIdMapping::from_toml(bad).is_err(), "{bad}");
        }
    }
}
