//! Annex B decoder: a recursive-descent parser working directly on the bytes (no separate token
//! pass), because several constructs (SDP in Local/Remote, digit maps, IPv6 mIds) must be read raw.
//!
//! Every function returns `Result`; nothing indexes past the input, and every loop consumes input
//! or stops, so any byte string terminates with a message or a [`DecodeError`].

use super::tokens::{self as t, Kw};
use crate::error::DecodeError;
use crate::model::*;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Errors are boxed inside the parser: every function returns an `R`, and a one-word error keeps
/// `R<()>` and `R<&str>` in registers instead of a 56-byte `DecodeError` written through memory.
type R<T> = Result<T, Box<DecodeError>>;

/// Nesting bound for the few recursive constructs (embedded events and signals).
const MAX_DEPTH: usize = 8;

/// A word peeked at the current position ([`Parser::peek_word_span`]): its start, its end and
/// the word; `None` where no word is next. Handed to the function that consumes it
/// ([`Parser::take_peeked`]) so that the word is not scanned twice.
type Peeked<'a> = Option<(usize, usize, &'a str)>;

pub(crate) struct Parser<'a> {
    s: &'a [u8],
    /// The input as text when it is valid UTF-8 (the usual case), so that words are slices of
    /// it without a UTF-8 check each; empty otherwise, so that every slice of it fails and
    /// the callers fall back to the octets (one test on the common path, not two).
    utf8: &'a str,
    pos: usize,
    /// Error code for failures at the current place (400 for the message, 403 inside a request).
    code: u16,
    /// Transaction being parsed, for errors.
    txn: Option<u32>,
    depth: usize,
    /// The last word scanned: (its start, its end). The parser often peeks at a word and then
    /// reads it; the input never changes, so a word starting at the same place is the same
    /// word. Keyed on the start (after the white space skip, which costs little when there is
    /// nothing to skip) rather than on where the scan began: one compare and two stores per
    /// scan instead of two and three (-54 instructions per compact message, -38 per text one).
    last_word: (usize, usize),
}

/// A `[bool; 256]` of the test applied to each octet, built at compile time: one load per
/// octet where a chain of range and equality tests would cost several.
macro_rules! octet_table {
    (|$c:ident| $test:expr) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $c = i as u8;
            t[i] = $test;
            i += 1;
        }
        t
    }};
}

/// SafeChar lookup (ABNF `SafeChar`), one entry per octet.
static SAFE: [bool; 256] = octet_table!(|c| safe_char(c));

/// White space and the `;` that starts a comment: what [`Parser::ws`] skips.
static SKIP: [bool; 256] = octet_table!(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b';'));

#[inline(always)]
fn is_safe(c: u8) -> bool {
    SAFE[c as usize]
}

/// End of the run of SafeChars from `i`.
#[inline(always)]
fn safe_run_end(s: &[u8], i: usize) -> usize {
    run_end(s, i, &SAFE)
}

/// End of the run of octets from `i` that `table` accepts. Eight octets at a time while eight
/// remain, so that the loop tests one bound per eight octets instead of one per octet.
#[inline(always)]
fn run_end(s: &[u8], mut i: usize, table: &[bool; 256]) -> usize {
    while let Some(c) = s.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        if let Some(k) = c.iter().position(|&b| !table[b as usize]) {
            return i + k;
        }
        i += 8;
    }
    while s.get(i).is_some_and(|&b| table[b as usize]) {
        i += 1;
    }
    i
}

/// `v.push(x)`, the first push making room for four items (what `Vec`'s growth gives it) in
/// line: `Vec::new()` + `push` goes through the out-of-line growth path
/// (`RawVec::grow_one`, `finish_grow`, a `realloc` of nothing) for a list's first item.
#[inline(always)]
fn push<T>(v: &mut Vec<T>, x: T) {
    if v.capacity() == 0 {
        *v = Vec::with_capacity(4);
    }
    v.push(x);
}

const fn safe_char(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'+' | b'-'
                | b'&'
                | b'!'
                | b'_'
                | b'/'
                | b'\''
                | b'?'
                | b'@'
                | b'^'
                | b'`'
                | b'~'
                | b'*'
                | b'$'
                | b'\\'
                | b'('
                | b')'
                | b'%'
                | b'|'
                | b'.'
        )
}

impl<'a> Parser<'a> {
    pub(crate) fn new(s: &'a [u8]) -> Self {
        Parser {
            s,
            utf8: std::str::from_utf8(s).unwrap_or_default(),
            pos: 0,
            code: 400,
            txn: None,
            depth: 0,
            last_word: (usize::MAX, usize::MAX),
        }
    }

    // ------------------------------------------------------------------ errors and lexing

    fn err_at<T>(&self, pos: usize, reason: impl Into<String>) -> R<T> {
        let pos = pos.min(self.s.len());
        let before = &self.s[..pos];
        let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
        let col = pos
            - before
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        Err(Box::new(DecodeError {
            line,
            column: col,
            code: self.code,
            transaction_id: self.txn,
            reason: reason.into(),
        }))
    }

    fn err<T>(&self, reason: impl Into<String>) -> R<T> {
        self.err_at(self.pos, reason)
    }

    fn found(&self) -> String {
        match self.s.get(self.pos) {
            None => "end of message".into(),
            Some(&c) if is_safe(c) => {
                let end = self.s[self.pos..]
                    .iter()
                    .position(|&c| !is_safe(c))
                    .map_or(self.s.len(), |e| self.pos + e);
                format!(
                    "'{}'",
                    String::from_utf8_lossy(&self.s[self.pos..end.min(self.pos + 40)])
                )
            }
            Some(&c) if c.is_ascii_graphic() => format!("'{}'", c as char),
            Some(&c) => format!("byte 0x{c:02x}"),
        }
    }

    /// Skip white space (SP, HTAB, CR, LF) and `;` comments.
    ///
    /// The position is kept in a local and stored once: the skip is inlined before nearly
    /// every token, and most skips end at once or after one octet.
    #[inline(always)]
    fn ws(&mut self) {
        let s = self.s;
        let mut i = self.pos;
        while let Some(&c) = s.get(i) {
            if !SKIP[c as usize] {
                break;
            }
            if c == b';' {
                while let Some(&c) = s.get(i) {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    i += 1;
                }
            } else {
                i += 1;
            }
        }
        self.pos = i;
    }

    /// Position of the next token (after white space), for error reports.
    fn mark(&mut self) -> usize {
        self.ws();
        self.pos
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Consume `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consume `c`, which must be next. Inlined with the error out of line, like [`Self::word`].
    #[inline(always)]
    fn expect(&mut self, c: u8) -> R<()> {
        if self.eat(c) {
            Ok(())
        } else {
            self.expected(c)
        }
    }

    #[cold]
    #[inline(never)]
    fn expected(&self, c: u8) -> R<()> {
        self.err(format!("expected '{}', found {}", c as char, self.found()))
    }

    /// A run of SafeChars (a NAME, number, path name, token ...).
    ///
    /// Inlined (with the error out of line): the parser reads most words through this, and a
    /// call would return the `R<&str>` through memory.
    #[inline(always)]
    fn word(&mut self) -> R<&'a str> {
        match self.scan_word() {
            Some(w) => Ok(w),
            None => self.no_word(),
        }
    }

    /// Where the next word starts (for errors about it) and the word: `mark()` then `word()`
    /// with one white space skip.
    #[inline(always)]
    fn word_at(&mut self) -> R<(usize, &'a str)> {
        let w = self.word()?;
        Ok((self.pos - w.len(), w))
    }

    #[cold]
    #[inline(never)]
    fn no_word<T>(&self) -> R<T> {
        self.err(format!("expected a name or number, found {}", self.found()))
    }

    /// The next run of SafeChars, consumed; `None` (consuming only white space) if there is none.
    #[inline(always)]
    fn scan_word(&mut self) -> Option<&'a str> {
        // A word starting where the last scanned one started is that word.
        self.ws();
        let start = self.pos;
        let end = if self.last_word.0 == start {
            self.last_word.1
        } else {
            let end = safe_run_end(self.s, start);
            self.last_word = (start, end);
            end
        };
        if end == start {
            self.pos = start;
            return None;
        }
        self.pos = end;
        // SafeChars are ASCII, so both conversions succeed.
        match self.utf8.get(start..end) {
            Some(w) => Some(w),
            None => self.ascii(start, end),
        }
    }

    /// `s[start..end]` (ASCII) as text when the input is not UTF-8 as a whole; out of line,
    /// as such input is rare.
    #[cold]
    #[inline(never)]
    fn ascii(&self, start: usize, end: usize) -> Option<&'a str> {
        self.s
            .get(start..end)
            .and_then(|w| std::str::from_utf8(w).ok())
    }

    /// Inlined: a call returns the word through memory and reloads the parser's state.
    #[inline(always)]
    fn peek_word(&mut self) -> Option<&'a str> {
        let save = self.pos;
        let w = self.scan_word();
        self.pos = save;
        w
    }

    /// The next word with where it starts and ends; consumes nothing.
    #[inline(always)]
    fn peek_word_span(&mut self) -> Peeked<'a> {
        let save = self.pos;
        let w = self.scan_word();
        let end = self.pos;
        self.pos = save;
        w.map(|w| (end - w.len(), end, w))
    }

    /// [`Self::word_at`] for a word [`Self::peek_word_span`] found at the current position:
    /// consumes it without scanning it again (`None`: there is no word, the same error).
    #[inline(always)]
    fn take_peeked(&mut self, peeked: Peeked<'a>) -> R<(usize, &'a str)> {
        match peeked {
            Some((start, end, w)) => {
                self.pos = end;
                Ok((start, w))
            }
            None => self.word_at(),
        }
    }

    /// Is the next word `kw` and the character after it `c`? Consumes nothing. Keywords double
    /// as names (a termination may be called `c`, a property `ct`), so where a name may stand a
    /// keyword is only taken as one when followed by its syntax.
    ///
    /// Inlined, like [`Self::eat_kw`]: the keyword is a constant at each call site, so its
    /// compare folds to a few instructions; out of line, it compared octet by octet with a
    /// keyword held in memory.
    #[inline(always)]
    fn at_kw_then(&mut self, kw: Kw, c: u8) -> bool {
        let save = self.pos;
        let hit = self.scan_word().is_some_and(|w| kw.is(w)) && self.peek() == Some(c);
        self.pos = save;
        hit
    }

    /// Consume the keyword if it is the next word. Inlined (see [`Self::at_kw_then`]).
    #[inline(always)]
    fn eat_kw(&mut self, kw: Kw) -> bool {
        let save = self.pos;
        match self.scan_word() {
            Some(w) if kw.is(w) => true,
            _ => {
                self.pos = save;
                false
            }
        }
    }

    /// Inlined (the keyword is a constant at each call site), error out of line.
    #[inline(always)]
    fn expect_kw(&mut self, kw: Kw) -> R<()> {
        let save = self.pos;
        match self.scan_word() {
            Some(w) if kw.is(w) => Ok(()),
            _ => self.expected_kw(save, kw),
        }
    }

    #[cold]
    #[inline(never)]
    fn expected_kw(&mut self, save: usize, kw: Kw) -> R<()> {
        self.pos = save;
        self.err(format!("expected '{}', found {}", kw.long, self.found()))
    }

    /// Inlined, with the rare paths out of line: a call cost some 20 instructions of register
    /// saves and restores around a few digits (-34 instructions per message with
    /// [`Self::termination_id`] inlined too).
    #[inline(always)]
    fn number<T: TryFrom<u64>>(&mut self, what: &str) -> R<T> {
        match self.take_num() {
            Some(n) => Ok(n),
            None => self.number_word(what),
        }
    }

    /// [`Self::number`] when the next word is no number of up to ten digits that fits `T`:
    /// the word as a number, or the error.
    #[inline(never)]
    fn number_word<T: TryFrom<u64>>(&mut self, what: &str) -> R<T> {
        let (start, w) = self.word_at()?;
        match parse_num(w).and_then(|n| T::try_from(n).ok()) {
            Some(n) => Ok(n),
            None => self.bad_number(start, what, w),
        }
    }

    /// The next word, consumed, when it is a number of 1 to 10 digits (what [`parse_num`]
    /// accepts) that fits `T`; `None` (only white space consumed) otherwise. One pass reads
    /// the digits and finds the word's end, instead of scanning the word and then parsing it.
    #[inline(always)]
    fn take_num<T: TryFrom<u64>>(&mut self) -> Option<T> {
        self.ws();
        let s = self.s;
        let start = self.pos;
        let mut i = start;
        let mut n = 0u64;
        while let Some(&c) = s.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            // At most 10 digits are taken; more wrap harmlessly and are refused below.
            n = n.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        if i == start || i - start > 10 || s.get(i).is_some_and(|&c| is_safe(c)) {
            return None;
        }
        let n = T::try_from(n).ok()?;
        self.pos = i;
        Some(n)
    }

    #[cold]
    #[inline(never)]
    fn bad_number<T>(&self, start: usize, what: &str, w: &str) -> R<T> {
        self.err_at(
            start,
            format!("{what}: '{w}' is not a valid number in range"),
        )
    }

    fn quoted(&mut self) -> R<Text> {
        let start = self.mark();
        if self.s.get(self.pos) != Some(&b'"') {
            return self.err(format!("expected a quoted string, found {}", self.found()));
        }
        self.pos += 1;
        let body = self.pos;
        // The closing quote, and whether the octets before it are plain (printable ASCII and
        // tabs, the usual text), found in one pass with the position in a local.
        let mut i = body;
        let mut plain = true;
        while let Some(&c) = self.s.get(i) {
            if c == b'"' {
                let v = self.text(body, i);
                // ABNF quotedString holds SafeChar / RestChar / WSP only. Control characters
                // (line breaks, NUL...) from a careless peer are read as the space the encoder
                // writes for them, rather than refusing the whole message over an error text.
                // Plain text needs no look at the characters.
                let v = if !plain && v.chars().any(|c| c != '\t' && c.is_control()) {
                    v.chars()
                        .map(|c| if c != '\t' && c.is_control() { ' ' } else { c })
                        .collect()
                } else {
                    Text::from(v.as_ref())
                };
                self.pos = i + 1;
                return Ok(v);
            }
            plain &= matches!(c, b' '..=b'~' | b'\t');
            i += 1;
        }
        self.pos = i;
        self.err_at(start, "unterminated quoted string")
    }

    /// VALUE = quotedString / 1*(SafeChar). An unquoted value is case-insensitive like every
    /// other token (Annex B), so it is held in lower case; a quoted one keeps its case.
    ///
    /// Inlined (see [`Self::number`]).
    #[inline(always)]
    fn value(&mut self) -> R<Text> {
        if self.peek() == Some(b'"') {
            self.quoted()
        } else {
            Ok(lower(self.word()?))
        }
    }

    /// `s[start..end]` as text (lossy for invalid UTF-8); borrowed when the input is UTF-8.
    /// Both ends must be at ASCII octets (or the input's ends).
    fn text(&self, start: usize, end: usize) -> std::borrow::Cow<'a, str> {
        match self.utf8.get(start..end) {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => String::from_utf8_lossy(&self.s[start..end]),
        }
    }

    /// Read the raw octets of a `{ ... }` body (Local, Remote): `\}` stands for `}`.
    fn raw_braced(&mut self) -> R<std::borrow::Cow<'a, str>> {
        self.expect(b'{')?;
        let start = self.pos;
        // Fast path: no `\}` escape before the closing brace, so the body is a slice.
        if let Some(len) = memchr::memchr2(b'}', b'\\', &self.s[start..]) {
            if self.s[start + len] == b'}' {
                self.pos = start + len + 1;
                return Ok(self.text(start, start + len));
            }
        }
        let mut out = Vec::new();
        while let Some(&c) = self.s.get(self.pos) {
            match c {
                b'\\' if self.s.get(self.pos + 1) == Some(&b'}') => {
                    out.push(b'}');
                    self.pos += 2;
                }
                b'}' => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned().into());
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        self.err_at(start, "unterminated descriptor body: missing '}'")
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("descriptors nested too deeply");
        }
        Ok(())
    }

    /// `{ item, item ... }` with at least one item (or none if `allow_empty`).
    fn braced_list(
        &mut self,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self) -> R<()>,
    ) -> R<()> {
        self.expect(b'{')?;
        if allow_empty && self.eat(b'}') {
            return Ok(());
        }
        loop {
            item(self)?;
            // One white space skip for both tests.
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.no_list_end(),
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn no_list_end(&self) -> R<()> {
        self.err(format!("expected ',' or '}}', found {}", self.found()))
    }

    // ------------------------------------------------------------------ message

    pub(crate) fn message(&mut self) -> R<Message> {
        self.ws();
        let mut auth = None;
        if let Some(w) = self.peek_word() {
            if t::AUTH.is(w) {
                self.word()?;
                self.expect(b'=')?;
                let spi = self.hex_u32("SecurityParmIndex")?;
                self.expect(b':')?;
                let seq = self.hex_u32("SequenceNum")?;
                self.expect(b':')?;
                let (start, w) = self.word_at()?;
                let data = w
                    .strip_prefix("0x")
                    .or_else(|| w.strip_prefix("0X"))
                    .and_then(hex_bytes)
                    .filter(|d| (12..=32).contains(&d.len()));
                let Some(data) = data else {
                    return self
                        .err_at(start, "AuthData must be 0x followed by 24 to 64 hex digits");
                };
                auth = Some(AuthHeader {
                    spi,
                    seq_num: seq,
                    data,
                });
            }
        }
        let (start, hdr) = self.word_at()?;
        let Some((tok, ver)) = header_split(hdr).or_else(|| split_at_byte(hdr, b'/')) else {
            return self.err_at(
                start,
                format!("expected 'MEGACO/<version>' or '!/<version>', found '{hdr}'"),
            );
        };
        if !t::MEGACO.is(tok) {
            return self.err_at(
                start,
                format!("expected 'MEGACO/<version>' or '!/<version>', found '{hdr}'"),
            );
        }
        let version: u8 = match parse_num(ver) {
            Some(v) if ver.len() <= 2 => v as u8,
            _ => return self.err_at(start, format!("bad protocol version '{ver}'")),
        };
        if !(1..=3).contains(&version) {
            self.code = 406;
            return self.err_at(
                start,
                format!("version {version} not supported (1, 2 and 3 are)"),
            );
        }
        // SEP is mandatory between version and mId.
        if !matches!(
            self.s.get(self.pos),
            Some(b' ' | b'\t' | b'\r' | b'\n' | b';')
        ) {
            return self.err("expected white space after the protocol version");
        }
        let mid = self.mid()?;
        let body = if self.at_kw_then(t::ERROR, b'=') {
            MessageBody::Error(self.error_descriptor()?)
        } else {
            // Vectors here are made with the room their items usually need (one transaction
            // per message and one action per transaction; the first push would allocate four
            // of most other items anyway), so that pushes skip `Vec`'s out-of-line growth path.
            let mut ts = Transactions::new();
            while !self.at_end() {
                ts.push(self.transaction()?);
            }
            if ts.is_empty() {
                return self.err("message has no transactions");
            }
            MessageBody::Transactions(ts)
        };
        if !self.at_end() {
            return self.err(format!("unexpected {} after the message", self.found()));
        }
        Ok(Message {
            auth,
            version,
            mid,
            body,
        })
    }

    fn hex_u32(&mut self, what: &str) -> R<u32> {
        let (start, w) = self.word_at()?;
        w.strip_prefix("0x")
            .or_else(|| w.strip_prefix("0X"))
            // 8 digits per the ABNF; more with leading zeros are tolerated (megaco writes them).
            .filter(|h| !h.is_empty() && h.len() <= 16)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .and_then(|v| u32::try_from(v).ok())
            .map_or_else(
                || self.err_at(start, format!("{what} must be 0x and 8 hex digits")),
                Ok,
            )
    }

    /// mId = (domainAddress / domainName) [":" portNumber] / mtpAddress / deviceName
    fn mid(&mut self) -> R<MId> {
        match self.peek() {
            Some(b'[') => {
                self.pos += 1;
                let start = self.mark();
                // The usual dotted quad read in place: it is the whole address when a ']'
                // follows it (the first ']' then ends the address, as below).
                if let Some((a, len)) = self.s.get(start..).and_then(ipv4_at) {
                    if self.s.get(start + len) == Some(&b']') {
                        self.pos = start + len + 1;
                        let port = self.opt_port()?;
                        return Ok(MId::Ip4 { addr: a, port });
                    }
                }
                let end = memchr::memchr(b']', &self.s[start..]);
                let Some(end) = end.map(|e| start + e) else {
                    return self.err_at(start, "unterminated '[' address");
                };
                self.pos = end + 1;
                let port = self.opt_port()?;
                if let Some(a) = ipv4(&self.s[start..end]) {
                    return Ok(MId::Ip4 { addr: a, port });
                }
                let text = self.text(start, end);
                if let Ok(a) = text.parse::<Ipv4Addr>() {
                    Ok(MId::Ip4 { addr: a, port })
                } else if let Ok(a) = text.parse::<Ipv6Addr>() {
                    Ok(MId::Ip6 { addr: a, port })
                } else {
                    self.err_at(start, format!("'{text}' is not an IPv4 or IPv6 address"))
                }
            }
            Some(b'<') => {
                self.pos += 1;
                // Domain octets are SafeChars: when the run of them ends the word, it is the
                // word, found in one pass instead of a word scan and a check of its octets.
                self.ws();
                let start = self.pos;
                let end = run_end(self.s, start, &DOMAIN);
                if end > start && !self.s.get(end).is_some_and(|&c| is_safe(c)) {
                    if let Some(name) = self.utf8.get(start..end) {
                        self.pos = end;
                        let name = lower(name);
                        self.expect(b'>')?;
                        let port = self.opt_port()?;
                        return Ok(MId::Domain { name, port });
                    }
                }
                let (start, name) = self.word_at()?;
                if !name.bytes().all(|c| DOMAIN[c as usize]) {
                    return self.err_at(start, format!("'{name}' is not a domain name"));
                }
                let name = lower(name);
                self.expect(b'>')?;
                let port = self.opt_port()?;
                Ok(MId::Domain { name, port })
            }
            _ => {
                let (start, w) = self.word_at()?;
                if t::MTP.is(w) && self.peek() == Some(b'{') {
                    self.pos += 1;
                    let hs = self.pos;
                    let h = self.word()?;
                    if !(4..=8).contains(&h.len()) || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                        return self.err_at(hs, "MTP address must be 4 to 8 hex digits");
                    }
                    let h = h.to_ascii_lowercase();
                    self.expect(b'}')?;
                    Ok(MId::Mtp(h.into()))
                } else if w.as_bytes()[0].is_ascii_alphabetic() {
                    Ok(MId::Device(lower(w)))
                } else {
                    self.err_at(start, format!("'{w}' is not a valid mId"))
                }
            }
        }
    }

    /// Inlined (see [`Self::number`]).
    #[inline(always)]
    fn opt_port(&mut self) -> R<Option<u16>> {
        // The port follows without white space in well-formed messages; be lenient.
        let save = self.pos;
        if self.eat(b':') {
            // A ':' after an mId can only be a port.
            return Ok(Some(self.number("port number")?));
        }
        self.pos = save;
        Ok(None)
    }

    // ------------------------------------------------------------------ transactions

    fn transaction(&mut self) -> R<Transaction> {
        let start = self.mark();
        let Ok(w) = self.word() else {
            return self.err(format!(
                "expected Transaction, Reply, Pending, TransactionResponseAck or Segment, found {}",
                self.found()
            ));
        };
        if t::TRANSACTION.is(w) {
            self.expect(b'=')?;
            let id = self.number("TransactionID")?;
            self.txn = Some(id);
            self.code = 403;
            let mut actions = Vec::with_capacity(1);
            self.braced_list(false, |p| p.action_request(&mut actions))?;
            self.code = 400;
            self.txn = None;
            Ok(Transaction::Request(TransactionRequest { id, actions }))
        } else if t::REPLY.is(w) {
            self.expect(b'=')?;
            let (id, seg, complete) = self.id_and_segment()?;
            self.expect(b'{')?;
            let imm = if self.eat_kw(t::IMM_ACK) {
                self.expect(b',')?;
                true
            } else {
                false
            };
            let result = if self.at_kw_then(t::ERROR, b'=') {
                TransactionResult::Error(self.error_descriptor()?)
            } else {
                let mut acts = Vec::with_capacity(1);
                self.action_reply(&mut acts)?;
                while self.eat(b',') {
                    self.action_reply(&mut acts)?;
                }
                TransactionResult::Actions(acts)
            };
            self.expect(b'}')?;
            Ok(Transaction::Reply(TransactionReply {
                id,
                imm_ack_required: imm,
                result,
                segment_number: seg,
                segmentation_complete: complete,
            }))
        } else if t::PENDING.is(w) {
            self.expect(b'=')?;
            let id = self.number("TransactionID")?;
            self.expect(b'{')?;
            self.expect(b'}')?;
            Ok(Transaction::Pending(id))
        } else if t::RESPONSE_ACK.is(w) {
            let mut acks = Vec::new();
            self.braced_list(false, |p| {
                let (start, w) = p.word_at()?;
                let ack = match w.split_once('-') {
                    Some((a, b)) => (parse_num(a), parse_num(b).map(Some)),
                    None => (parse_num(w), Some(None)),
                };
                match ack {
                    (Some(first), Some(last))
                        if first <= u32::MAX as u64
                            && last.is_none_or(|l| l <= u32::MAX as u64) =>
                    {
                        push(
                            &mut acks,
                            TransactionAck {
                                first: first as u32,
                                last: last.map(|l| l as u32),
                            },
                        )
                    }
                    _ => return p.err_at(start, format!("bad transaction ack '{w}'")),
                }
                Ok(())
            })?;
            Ok(Transaction::ResponseAck(acks))
        } else if t::SEGMENT.is(w) {
            self.expect(b'=')?;
            let (id, seg, complete) = self.id_and_segment()?;
            let Some(segment_number) = seg else {
                return self.err("Segment reply without a segment number");
            };
            Ok(Transaction::SegmentReply(SegmentReply {
                id,
                segment_number,
                segmentation_complete: complete,
            }))
        } else {
            self.err_at(
                start,
                format!("expected Transaction, Reply, Pending, TransactionResponseAck or Segment, found '{w}'"),
            )
        }
    }

    /// `id [/ segment [/ END]]` (one SafeChars run, since '/' is a SafeChar).
    fn id_and_segment(&mut self) -> R<(u32, Option<u16>, bool)> {
        // The common case: a bare ID.
        if let Some(id) = self.take_num() {
            return Ok((id, None, false));
        }
        let (start, w) = self.word_at()?;
        let bad = |p: &Self| p.err_at(start, format!("bad transaction ID '{w}'"));
        // A bare number that `take_num` left: out of range.
        if let Some(id) = parse_num(w) {
            return match u32::try_from(id) {
                Ok(id) => Ok((id, None, false)),
                Err(_) => bad(self),
            };
        }
        let mut parts = w.split('/');
        let Some(id) = parts
            .next()
            .and_then(parse_num)
            .and_then(|n| u32::try_from(n).ok())
        else {
            return bad(self);
        };
        let seg = match parts.next() {
            None => None,
            Some(s) => match parse_num(s).and_then(|n| u16::try_from(n).ok()) {
                Some(n) => Some(n),
                None => return bad(self),
            },
        };
        let complete = match parts.next() {
            None => false,
            Some(s) if t::SEG_COMPLETE.is(s) => true,
            Some(_) => return bad(self),
        };
        if parts.next().is_some() {
            return bad(self);
        }
        Ok((id, seg, complete))
    }

    /// Inlined, the rare paths out of line (see [`Self::number`]).
    #[inline(always)]
    fn context_id(&mut self) -> R<ContextId> {
        if let Some(n) = self.take_num::<u32>() {
            return Ok(match n {
                0 => ContextId::Null,
                0xFFFF_FFFE => ContextId::Choose,
                0xFFFF_FFFF => ContextId::All,
                n => ContextId::Id(n),
            });
        }
        // `-`, `$` or `*` alone (take_num has skipped the white space).
        if let Some(&c @ (b'-' | b'$' | b'*')) = self.s.get(self.pos) {
            if !self.s.get(self.pos + 1).is_some_and(|&c| is_safe(c)) {
                self.pos += 1;
                return Ok(match c {
                    b'-' => ContextId::Null,
                    b'$' => ContextId::Choose,
                    _ => ContextId::All,
                });
            }
        }
        self.context_id_word()
    }

    /// [`Self::context_id`] for any other word: out of line, like [`Self::number_word`].
    #[inline(never)]
    fn context_id_word(&mut self) -> R<ContextId> {
        let (start, w) = self.word_at()?;
        match w {
            "-" => Ok(ContextId::Null),
            "$" => Ok(ContextId::Choose),
            "*" => Ok(ContextId::All),
            _ => match parse_num(w).and_then(|n| u32::try_from(n).ok()) {
                Some(0) => Ok(ContextId::Null),
                Some(0xFFFF_FFFE) => Ok(ContextId::Choose),
                Some(0xFFFF_FFFF) => Ok(ContextId::All),
                Some(n) => Ok(ContextId::Id(n)),
                None => self.err_at(start, format!("bad ContextID '{w}'")),
            },
        }
    }

    /// Pushes the action onto `out` first and fills it in place, as `command_request`,
    /// `command_reply`, `action_reply` and `amm_descriptor` push theirs: returned through
    /// `R<..>`, each of these 100-180-byte values was copied right after it was built, and the
    /// copy's wide loads of just-stored fields wait for the stores (store-to-load forwarding
    /// fails). Measured: 3-4% of the whole decode's wall-clock time.
    fn action_request(&mut self, out: &mut Vec<ActionRequest>) -> R<()> {
        self.expect_kw(t::CONTEXT)?;
        self.expect(b'=')?;
        let context = self.context_id()?;
        let i = out.len();
        out.push(ActionRequest {
            context,
            context_request: None,
            context_audit: None,
            commands: Vec::with_capacity(4),
        });
        let a = &mut out[i];
        let mut creq = None;
        self.braced_list(false, |p| {
            // The item's first word, scanned once for the three tests below.
            let peeked = p.peek_word_span();
            let w = peeked.map(|(_, _, w)| w);
            if t::CONTEXT_AUDIT.is(w.unwrap_or("")) {
                p.word()?;
                a.context_audit = Some(p.context_audit()?);
                Ok(())
            } else if p.context_property(&mut creq, w)? {
                Ok(())
            } else {
                p.command_request(peeked, &mut a.commands)?;
                Ok(())
            }
        })?;
        a.context_request = creq.filter(|c| !c.is_empty());
        Ok(())
    }

    /// Parses one context property into `c` if the next word, `w` (peeked by the caller at
    /// the current position), starts one.
    ///
    /// `c` is made on the first word that may start a property: most actions have none, and
    /// a `ContextRequest` made up front cost its drop and `is_empty`'s compare with a default
    /// one (which is made and dropped too) in every action.
    fn context_property(&mut self, c: &mut Option<ContextRequest>, w: Option<&'a str>) -> R<bool> {
        let save = self.pos;
        let Some(w) = w else {
            return Ok(false);
        };
        // Every property keyword starts with one of these letters and no command does: one
        // test sends the usual command on without the chain of keyword compares.
        if !w
            .as_bytes()
            .first()
            .is_some_and(|c| matches!(c | 0x20, b't' | b'p' | b'e' | b'i' | b'c'))
        {
            return Ok(false);
        }
        let c = c.get_or_insert_with(ContextRequest::default);
        if t::TOPOLOGY.is(w) {
            self.word()?;
            self.topology(&mut c.topology)?;
        } else if t::PRIORITY.is(w) {
            self.word()?;
            self.expect(b'=')?;
            c.priority = Some(self.number("Priority")?);
        } else if t::EMERGENCY_OFF.is(w) {
            self.word()?;
            c.emergency = Some(false);
        } else if t::EMERGENCY.is(w) {
            self.word()?;
            c.emergency = Some(true);
        } else if t::IEPS.is(w) {
            self.word()?;
            self.expect(b'=')?;
            c.ieps_call = Some(self.on_off()?);
        } else if t::CONTEXT_ATTR.is(w) {
            self.word()?;
            self.expect(b'{')?;
            if self.eat_kw(t::CONTEXT_LIST) {
                self.expect(b'=')?;
                self.braced_list(false, |p| {
                    push(&mut c.context_list, p.context_id()?);
                    Ok(())
                })?;
                self.expect(b'}')?;
            } else {
                self.pos -= 1; // back to '{'
                self.braced_list(false, |p| {
                    push(&mut c.props, p.property_parm()?);
                    Ok(())
                })?;
            }
        } else {
            self.pos = save;
            return Ok(false);
        }
        Ok(true)
    }

    fn on_off(&mut self) -> R<bool> {
        let (start, w) = self.word_at()?;
        if t::ON.is(w) {
            Ok(true)
        } else if t::OFF.is(w) {
            Ok(false)
        } else {
            self.err_at(start, format!("expected ON or OFF, found '{w}'"))
        }
    }

    fn topology(&mut self, out: &mut Vec<TopologyRequest>) -> R<()> {
        self.expect(b'{')?;
        loop {
            let from = self.termination_id()?;
            self.expect(b',')?;
            let to = self.termination_id()?;
            self.expect(b',')?;
            let (start, d) = self.word_at()?;
            let direction = if t::BOTHWAY.is(d) {
                TopologyDirection::Bothway
            } else if t::ISOLATE.is(d) {
                TopologyDirection::Isolate
            } else if t::ONEWAY.is(d) {
                TopologyDirection::Oneway
            } else if t::ONEWAY_EXTERNAL.is(d) {
                TopologyDirection::OnewayExternal
            } else if t::ONEWAY_BOTH.is(d) {
                TopologyDirection::OnewayBoth
            } else {
                return self.err_at(start, format!("expected a topology direction, found '{d}'"));
            };
            let mut direction = direction;
            // megaco writes a v3 extension direction after its base: `Oneway, OnewayBoth`.
            let save = self.pos;
            if direction == TopologyDirection::Oneway
                && self.eat(b',')
                && !self.next_triple_starts_here()
            {
                match self.peek_word() {
                    Some(w) if t::ONEWAY_BOTH.is(w) => {
                        self.word()?;
                        direction = TopologyDirection::OnewayBoth;
                    }
                    Some(w) if t::ONEWAY_EXTERNAL.is(w) => {
                        self.word()?;
                        direction = TopologyDirection::OnewayExternal;
                    }
                    _ => self.pos = save,
                }
            } else {
                self.pos = save;
            }
            let mut stream = None;
            // A ',' not followed by this triple's stream starts the next triple.
            let mut next_triple = false;
            if self.eat(b',') {
                let next = self.peek_word();
                if self.at_kw_then(t::STREAM, b'=') {
                    self.word()?;
                    self.expect(b'=')?;
                    stream = Some(self.number("StreamID")?);
                } else if next.is_some_and(|w| w.bytes().all(|c| c.is_ascii_digit()))
                    && self.bare_stream_follows()
                {
                    // megaco writes the stream of a topology triple as a bare number.
                    stream = Some(self.number("StreamID")?);
                } else {
                    next_triple = true;
                }
            }
            push(
                out,
                TopologyRequest {
                    from,
                    to,
                    direction,
                    stream,
                },
            );
            if next_triple {
                continue;
            }
            if self.eat(b'}') {
                return Ok(());
            }
            self.expect(b',')?;
        }
    }

    /// After `from, to, direction,` a bare number is megaco's stream ID, unless it is the first
    /// termination of the next triple (`num, to, direction`). Consumes nothing.
    fn bare_stream_follows(&mut self) -> bool {
        !self.next_triple_starts_here()
    }

    /// Does a topology triple `from, to, direction` start at the current position? Termination
    /// IDs may be spelled like direction tokens or numbers, so this decides what a word after a
    /// direction is. Consumes nothing.
    fn next_triple_starts_here(&mut self) -> bool {
        let save = self.pos;
        let is_triple = self.scan_word().is_some()
            && self.eat(b',')
            && self.scan_word().is_some()
            && self.eat(b',')
            && self.scan_word().is_some_and(|d| {
                [
                    t::BOTHWAY,
                    t::ISOLATE,
                    t::ONEWAY,
                    t::ONEWAY_EXTERNAL,
                    t::ONEWAY_BOTH,
                ]
                .iter()
                .any(|k| k.is(d))
            });
        self.pos = save;
        is_triple
    }

    fn context_audit(&mut self) -> R<ContextAttrAuditRequest> {
        let mut a = ContextAttrAuditRequest::default();
        self.braced_list(false, |p| p.context_audit_item(&mut a, true))?;
        Ok(a)
    }

    fn context_audit_item(&mut self, a: &mut ContextAttrAuditRequest, outer: bool) -> R<()> {
        let (start, w) = self.word_at()?;
        let has_eq = self.peek() == Some(b'=');
        if t::TOPOLOGY.is(w) {
            a.topology = true;
        } else if t::EMERGENCY_VALUE.is(w) {
            self.expect(b'=')?;
            let v = self.word()?;
            a.select_emergency = Some(if t::EMERGENCY_OFF.is(v) {
                false
            } else if t::EMERGENCY.is(v) {
                true
            } else {
                return self.err(format!("expected Emergency or EmergencyOff, found '{v}'"));
            });
        } else if t::EMERGENCY.is(w) {
            a.emergency = true;
        } else if t::PRIORITY.is(w) {
            if has_eq {
                self.expect(b'=')?;
                a.select_priority = Some(self.number("Priority")?);
            } else {
                a.priority = true;
            }
        } else if t::IEPS.is(w) {
            if has_eq {
                self.expect(b'=')?;
                a.select_ieps = Some(self.on_off()?);
            } else {
                a.ieps_call = true;
            }
        } else if t::AND_LGC.is(w) {
            a.select_logic = Some(SelectLogic::And);
        } else if t::OR_LGC.is(w) {
            a.select_logic = Some(SelectLogic::Or);
        } else if t::CONTEXT_ATTR.is(w) && outer && self.peek() == Some(b'{') {
            // Either ContextAttr { props } (selection) or ContextAttr { audit items }.
            self.expect(b'{')?;
            loop {
                let save = self.pos;
                let n = self.word()?;
                let is_prop = matches!(self.peek(), Some(b'=' | b'#' | b'<' | b'>'))
                    && !t::PRIORITY.is(n)
                    && !t::IEPS.is(n)
                    && !t::EMERGENCY_VALUE.is(n);
                self.pos = save;
                if is_prop {
                    push(&mut a.select_props, self.property_parm()?);
                } else {
                    self.context_audit_item(a, false)?;
                }
                if self.eat(b'}') {
                    break;
                }
                self.expect(b',')?;
            }
        } else if w.contains('/') || is_name(w) {
            push(&mut a.props, lower(w));
        } else {
            return self.err_at(start, format!("unexpected '{w}' in ContextAudit"));
        }
        Ok(())
    }

    // ------------------------------------------------------------------ commands

    /// Inlined: see [`Self::number`].
    #[inline(always)]
    fn termination_id(&mut self) -> R<TerminationId> {
        let (start, w) = self.word_at()?;
        if w.len() > 64 * 8 {
            return self.err_at(start, "termination ID too long");
        }
        Ok(TerminationId::new(w))
    }

    /// termIDList = terminationID / LSBRKT terminationID *(COMMA terminationID) RSBRKT
    ///
    /// Inlined (see [`Self::number`]).
    #[inline(always)]
    fn term_id_list(&mut self) -> R<TermIds> {
        let list = self.eat(b'[');
        let mut v: TermIds = [self.termination_id()?].into();
        if list {
            while self.eat(b',') {
                v.push(self.termination_id()?);
            }
            self.expect(b']')?;
        }
        Ok(v)
    }

    /// `peeked`: the next word as [`Self::peek_word_span`] found it at the current position.
    fn command_request(&mut self, peeked: Peeked<'a>, out: &mut Vec<CommandRequest>) -> R<()> {
        let (start, mut w) = self.take_peeked(peeked)?;
        let mut optional = false;
        let mut wildcard_return = false;
        loop {
            // One test for the usual command without a prefix.
            if w.as_bytes().get(1) != Some(&b'-') {
                break;
            }
            if let Some(rest) = w.strip_prefix("O-").or_else(|| w.strip_prefix("o-")) {
                optional = true;
                w = rest;
            } else if let Some(rest) = w.strip_prefix("W-").or_else(|| w.strip_prefix("w-")) {
                wildcard_return = true;
                w = rest;
            } else {
                break;
            }
        }
        let command = if t::ADD.is(w) || t::MOVE.is(w) || t::MODIFY.is(w) {
            self.expect(b'=')?;
            let termination_ids = self.term_id_list()?;
            let mut descriptors = Vec::new();
            if self.peek() == Some(b'{') {
                descriptors = Vec::with_capacity(4);
                self.braced_list(false, |p| {
                    p.amm_descriptor(&mut descriptors)?;
                    Ok(())
                })?;
            }
            let r = AmmRequest {
                termination_ids,
                descriptors,
            };
            if t::ADD.is(w) {
                Command::Add(r)
            } else if t::MOVE.is(w) {
                Command::Move(r)
            } else {
                Command::Modify(r)
            }
        } else if t::SUBTRACT.is(w) {
            self.expect(b'=')?;
            let termination_ids = self.term_id_list()?;
            let audit = self.opt_audit_body()?;
            Command::Subtract(SubtractRequest {
                termination_ids,
                audit,
            })
        } else if t::AUDIT_VALUE.is(w) || t::AUDIT_CAP.is(w) {
            self.expect(b'=')?;
            let termination_ids = self.term_id_list()?;
            let audit = self.opt_audit_body()?;
            let r = AuditRequest {
                termination_ids,
                audit,
            };
            if t::AUDIT_VALUE.is(w) {
                Command::AuditValue(r)
            } else {
                Command::AuditCapabilities(r)
            }
        } else if t::NOTIFY.is(w) {
            self.expect(b'=')?;
            let termination_ids = self.term_id_list()?;
            let mut n = NotifyRequest {
                termination_ids,
                observed_events: None,
                error: None,
            };
            self.braced_list(false, |p| {
                let peeked = p.peek_word_span();
                let w = peeked.map_or("", |(_, _, w)| w);
                if t::OBSERVED_EVENTS.is(w) && n.observed_events.is_none() {
                    p.take_peeked(peeked)?;
                    n.observed_events = Some(p.observed_events()?);
                } else if p.at_kw_then(t::ERROR, b'=') && n.error.is_none() {
                    n.error = Some(p.error_descriptor()?);
                } else {
                    return p.err(format!(
                        "expected ObservedEvents or Error in Notify, found {}",
                        p.found()
                    ));
                }
                Ok(())
            })?;
            Command::Notify(n)
        } else if t::SERVICE_CHANGE.is(w) {
            self.expect(b'=')?;
            let termination_ids = self.term_id_list()?;
            self.expect(b'{')?;
            self.expect_kw(t::SERVICES)?;
            let parms = self.service_change_parms()?;
            self.expect(b'}')?;
            Command::ServiceChange(ServiceChangeRequest {
                termination_ids,
                parms: Box::new(parms),
            })
        } else {
            self.code = if self.code == 403 { 443 } else { self.code };
            let e = self.err_at(start, format!("unknown command or context property '{w}'"));
            return e;
        };
        out.push(CommandRequest {
            command,
            optional,
            wildcard_return,
        });
        Ok(())
    }

    fn opt_audit_body(&mut self) -> R<Option<AuditDescriptor>> {
        if self.eat(b'{') {
            self.expect_kw(t::AUDIT)?;
            let a = self.audit_descriptor()?;
            self.expect(b'}')?;
            Ok(Some(a))
        } else {
            Ok(None)
        }
    }

    fn amm_descriptor(&mut self, out: &mut Vec<AmmDescriptor>) -> R<()> {
        let (start, w) = self.word_at()?;
        let d = if t::MEDIA.is(w) {
            AmmDescriptor::Media(self.media()?)
        } else if t::MODEM.is(w) {
            AmmDescriptor::Modem(self.modem()?)
        } else if t::MUX.is(w) {
            AmmDescriptor::Mux(self.mux()?)
        } else if t::EVENTS.is(w) {
            AmmDescriptor::Events(self.events()?)
        } else if t::EVENT_BUFFER.is(w) {
            AmmDescriptor::EventBuffer(self.event_buffer()?)
        } else if t::SIGNALS.is(w) {
            AmmDescriptor::Signals(self.signals()?)
        } else if t::DIGIT_MAP.is(w) {
            AmmDescriptor::DigitMap(self.digit_map()?)
        } else if t::AUDIT.is(w) {
            AmmDescriptor::Audit(self.audit_descriptor()?)
        } else if t::STATS.is(w) {
            AmmDescriptor::Statistics(self.statistics()?)
        } else {
            self.code = if self.code == 403 { 444 } else { self.code };
            return self.err_at(start, format!("unknown descriptor '{w}'"));
        };
        out.push(d);
        Ok(())
    }

    // ------------------------------------------------------------------ replies

    fn action_reply(&mut self, out: &mut Vec<ActionReply>) -> R<()> {
        self.expect_kw(t::CONTEXT)?;
        self.expect(b'=')?;
        let context = self.context_id()?;
        let i = out.len();
        out.push(ActionReply {
            context,
            error: None,
            context_reply: None,
            commands: Vec::new(),
        });
        let r = &mut out[i];
        if self.peek() != Some(b'{') {
            return Ok(());
        }
        r.commands = Vec::with_capacity(4);
        let mut creq = None;
        self.braced_list(false, |p| {
            // The item's first word, scanned once for the tests below.
            let peeked = p.peek_word_span();
            let w = peeked.map(|(_, _, w)| w);
            if t::ERROR.is(w.unwrap_or("")) && p.at_kw_then(t::ERROR, b'=') {
                if r.error.is_some() {
                    return p.err("two Error descriptors in one action reply");
                }
                r.error = Some(p.error_descriptor()?);
            } else if !p.context_property(&mut creq, w)? {
                p.command_reply(peeked, &mut r.commands)?;
            }
            Ok(())
        })?;
        r.context_reply = creq.filter(|c| !c.is_empty());
        Ok(())
    }

    /// `peeked`: the next word as [`Self::peek_word_span`] found it at the current position.
    fn command_reply(&mut self, peeked: Peeked<'a>, out: &mut Vec<CommandReply>) -> R<()> {
        let (start, w) = self.take_peeked(peeked)?;
        if t::ADD.is(w) || t::MOVE.is(w) || t::MODIFY.is(w) || t::SUBTRACT.is(w) {
            self.expect(b'=')?;
            let termination_ids = self.term_id_list()?;
            let audit = if self.peek() == Some(b'{') {
                Some(self.termination_audit()?)
            } else {
                None
            };
            let r = AmmsReply {
                termination_ids,
                audit,
            };
            out.push(if t::ADD.is(w) {
                CommandReply::Add(r)
            } else if t::MOVE.is(w) {
                CommandReply::Move(r)
            } else if t::MODIFY.is(w) {
                CommandReply::Modify(r)
            } else {
                CommandReply::Subtract(r)
            });
            Ok(())
        } else if t::AUDIT_VALUE.is(w) || t::AUDIT_CAP.is(w) {
            self.expect(b'=')?;
            let r = if self.eat_kw(t::CONTEXT) {
                self.expect(b'{')?;
                if self.at_kw_then(t::ERROR, b'=') {
                    let e = self.error_descriptor()?;
                    self.expect(b'}')?;
                    AuditReply::Error(e)
                } else {
                    let mut v: TermIds = [self.termination_id()?].into();
                    while self.eat(b',') {
                        v.push(self.termination_id()?);
                    }
                    self.expect(b'}')?;
                    AuditReply::ContextAuditResult(v)
                }
            } else {
                let termination_ids = self.term_id_list()?;
                let audit = if self.peek() == Some(b'{') {
                    self.termination_audit()?
                } else {
                    Vec::new()
                };
                AuditReply::AuditResult {
                    termination_ids,
                    audit,
                }
            };
            out.push(if t::AUDIT_VALUE.is(w) {
                CommandReply::AuditValue(r)
            } else {
                CommandReply::AuditCapabilities(r)
            });
            Ok(())
        } else if t::NOTIFY.is(w) {
            self.expect(b'=')?;
            let termination_ids = self.term_id_list()?;
            let error = if self.eat(b'{') {
                let e = self.error_descriptor()?;
                self.expect(b'}')?;
                Some(e)
            } else {
                None
            };
            out.push(CommandReply::Notify(NotifyReply {
                termination_ids,
                error,
            }));
            Ok(())
        } else if t::SERVICE_CHANGE.is(w) {
            self.expect(b'=')?;
            let termination_ids = self.term_id_list()?;
            let result = if self.eat(b'{') {
                let r = if self.at_kw_then(t::ERROR, b'=') {
                    ServiceChangeResult::Error(self.error_descriptor()?)
                } else {
                    self.expect_kw(t::SERVICES)?;
                    ServiceChangeResult::Parms(self.service_change_res_parms()?)
                };
                self.expect(b'}')?;
                r
            } else {
                ServiceChangeResult::Parms(ServiceChangeResParm::default())
            };
            out.push(CommandReply::ServiceChange(ServiceChangeReply {
                termination_ids,
                result,
            }));
            Ok(())
        } else {
            self.err_at(start, format!("unknown command reply '{w}'"))
        }
    }

    fn termination_audit(&mut self) -> R<TerminationAudit> {
        let mut v = Vec::with_capacity(4);
        self.braced_list(false, |p| {
            v.push(p.audit_return_parameter()?);
            Ok(())
        })?;
        Ok(v)
    }

    fn audit_return_parameter(&mut self) -> R<AuditReturnParameter> {
        let (start, w) = self.word_at()?;
        let next = self.peek();
        let has_body = matches!(next, Some(b'{' | b'='));
        use AuditReturnParameter as A;
        Ok(if t::ERROR.is(w) {
            self.pos = start;
            A::Error(self.error_descriptor()?)
        } else if t::MEDIA.is(w) {
            if has_body {
                A::Media(self.media()?)
            } else {
                A::Empty(AuditItem::Media)
            }
        } else if t::MODEM.is(w) {
            if has_body || next == Some(b'[') {
                A::Modem(self.modem()?)
            } else {
                A::Empty(AuditItem::Modem)
            }
        } else if t::MUX.is(w) {
            if has_body {
                A::Mux(self.mux()?)
            } else {
                A::Empty(AuditItem::Mux)
            }
        } else if t::EVENTS.is(w) {
            A::Events(self.events()?)
        } else if t::SIGNALS.is(w) {
            A::Signals(self.signals()?)
        } else if t::DIGIT_MAP.is(w) {
            if has_body {
                A::DigitMap(self.digit_map()?)
            } else {
                A::Empty(AuditItem::DigitMap)
            }
        } else if t::OBSERVED_EVENTS.is(w) {
            if has_body {
                A::ObservedEvents(self.observed_events()?)
            } else {
                A::Empty(AuditItem::ObservedEvents)
            }
        } else if t::EVENT_BUFFER.is(w) {
            A::EventBuffer(self.event_buffer()?)
        } else if t::STATS.is(w) {
            if has_body {
                A::Statistics(self.statistics()?)
            } else {
                A::Empty(AuditItem::Statistics)
            }
        } else if t::PACKAGES.is(w) {
            if has_body {
                A::Packages(self.packages()?)
            } else {
                A::Empty(AuditItem::Packages)
            }
        } else {
            return self.err_at(start, format!("unknown descriptor '{w}' in reply"));
        })
    }

    // ------------------------------------------------------------------ descriptors

    fn error_descriptor(&mut self) -> R<ErrorDescriptor> {
        self.expect_kw(t::ERROR)?;
        self.expect(b'=')?;
        let (start, w) = self.word_at()?;
        let code = match parse_num(w) {
            Some(n) if n <= 999 && w.len() <= 4 => n as u16,
            _ => return self.err_at(start, format!("bad error code '{w}'")),
        };
        self.expect(b'{')?;
        let text = if self.peek() == Some(b'"') {
            Some(self.quoted()?.into())
        } else {
            None
        };
        self.expect(b'}')?;
        Ok(ErrorDescriptor { code, text })
    }

    fn media(&mut self) -> R<MediaDescriptor> {
        let mut m = MediaDescriptor::default();
        let mut one = StreamParms::default();
        let mut multi: Vec<StreamDescriptor> = Vec::new();
        let mut saw_one = false;
        self.braced_list(true, |p| {
            let start = p.mark();
            let peeked = p.peek_word_span();
            let w = peeked.map_or("", |(_, _, w)| w);
            if t::TERMINATION_STATE.is(w) {
                p.take_peeked(peeked)?;
                if m.termination_state.is_some() {
                    return p.err_at(start, "TerminationState appears twice");
                }
                m.termination_state = Some(p.termination_state()?);
            } else if t::STREAM.is(w) {
                p.take_peeked(peeked)?;
                p.expect(b'=')?;
                let id = p.number("StreamID")?;
                let mut sp = StreamParms::default();
                p.braced_list(true, |p| p.stream_parm(&mut sp, None))?;
                push(&mut multi, StreamDescriptor { id, parms: sp });
            } else {
                saw_one = true;
                p.stream_parm(&mut one, peeked)?;
            }
            Ok(())
        })?;
        if saw_one && !multi.is_empty() {
            return self.err("Media mixes Stream descriptors with stream parameters");
        }
        if saw_one {
            m.streams = Some(Streams::One(one));
        } else if !multi.is_empty() {
            m.streams = Some(Streams::Multi(multi));
        }
        Ok(m)
    }

    /// `peeked`: the next word if the caller has peeked at it (see [`Self::take_peeked`]).
    fn stream_parm(&mut self, sp: &mut StreamParms, peeked: Peeked<'a>) -> R<()> {
        let (start, w) = self.take_peeked(peeked)?;
        let twice =
            |p: &Self, what: &str| p.err_at(start, format!("{what} appears twice in a stream"));
        if t::LOCAL_CONTROL.is(w) {
            if sp.local_control.is_some() {
                return twice(self, "LocalControl");
            }
            sp.local_control = Some(self.local_control()?);
        } else if t::LOCAL.is(w) {
            if sp.local.is_some() {
                return twice(self, "Local");
            }
            sp.local = Some(self.local_remote()?);
        } else if t::REMOTE.is(w) {
            if sp.remote.is_some() {
                return twice(self, "Remote");
            }
            sp.remote = Some(self.local_remote()?);
        } else if t::STATS.is(w) {
            if sp.statistics.is_some() {
                return twice(self, "Statistics");
            }
            sp.statistics = Some(self.statistics()?);
        } else {
            return self.err_at(start, format!("unexpected '{w}' in a stream"));
        }
        Ok(())
    }

    fn local_control(&mut self) -> R<LocalControlDescriptor> {
        let mut lc = LocalControlDescriptor::default();
        self.braced_list(false, |p| {
            let peeked = p.peek_word_span();
            let w = peeked.map_or("", |(_, _, w)| w);
            if t::MODE.is(w) {
                p.take_peeked(peeked)?;
                p.expect(b'=')?;
                lc.mode = Some(p.stream_mode()?);
            } else if t::RESERVED_GROUP.is(w) {
                p.take_peeked(peeked)?;
                p.expect(b'=')?;
                lc.reserve_group = Some(p.on_off()?);
            } else if t::RESERVED_VALUE.is(w) {
                p.take_peeked(peeked)?;
                p.expect(b'=')?;
                lc.reserve_value = Some(p.on_off()?);
            } else {
                push(&mut lc.props, p.property_parm()?);
            }
            Ok(())
        })?;
        Ok(lc)
    }

    fn stream_mode(&mut self) -> R<StreamMode> {
        let (start, w) = self.word_at()?;
        Ok(if t::SENDONLY.is(w) {
            StreamMode::SendOnly
        } else if t::RECVONLY.is(w) {
            StreamMode::RecvOnly
        } else if t::SENDRECV.is(w) {
            StreamMode::SendRecv
        } else if t::INACTIVE.is(w) {
            StreamMode::Inactive
        } else if t::LOOPBACK.is(w) {
            StreamMode::Loopback
        } else {
            return self.err_at(start, format!("unknown stream mode '{w}'"));
        })
    }

    fn local_remote(&mut self) -> R<LocalRemoteDescriptor> {
        let start = self.mark();
        let body = self.raw_braced()?;
        match sdp_groups(&body) {
            Ok(groups) => Ok(LocalRemoteDescriptor { groups }),
            Err(line) => self.err_at(
                start,
                format!("SDP line without '=' in Local/Remote: '{line}'"),
            ),
        }
    }

    fn termination_state(&mut self) -> R<TerminationStateDescriptor> {
        let mut ts = TerminationStateDescriptor::default();
        self.braced_list(false, |p| {
            let peeked = p.peek_word_span();
            let w = peeked.map_or("", |(_, _, w)| w);
            if t::SERVICE_STATES.is(w) {
                p.take_peeked(peeked)?;
                p.expect(b'=')?;
                ts.service_state = Some(p.service_state()?);
            } else if t::BUFFER.is(w) {
                p.take_peeked(peeked)?;
                p.expect(b'=')?;
                let (start, v) = p.word_at()?;
                ts.event_buffer_control = Some(if t::OFF.is(v) {
                    EventBufferControl::Off
                } else if t::LOCKSTEP.is(v) {
                    EventBufferControl::LockStep
                } else {
                    return p.err_at(start, format!("expected OFF or LockStep, found '{v}'"));
                });
            } else {
                push(&mut ts.props, p.property_parm()?);
            }
            Ok(())
        })?;
        Ok(ts)
    }

    fn service_state(&mut self) -> R<ServiceState> {
        let (start, v) = self.word_at()?;
        Ok(if t::TEST.is(v) {
            ServiceState::Test
        } else if t::OUT_OF_SVC.is(v) {
            ServiceState::OutOfSvc
        } else if t::IN_SVC.is(v) {
            ServiceState::InSvc
        } else {
            return self.err_at(start, format!("unknown service state '{v}'"));
        })
    }

    /// propertyParm = pkgdName parmValue
    fn property_parm(&mut self) -> R<PropertyParm> {
        let (start, name) = self.word_at()?;
        if !is_pkgd_name(name) {
            return self.err_at(start, format!("'{name}' is not a valid property name"));
        }
        let name = lower(name);
        self.parm_value(name)
    }

    /// parmValue = (EQUAL alternativeValue) / (INEQUAL / LESSER / GREATER) VALUE
    fn parm_value(&mut self, name: Text) -> R<PropertyParm> {
        let rel = match self.peek() {
            Some(b'=') => None,
            Some(b'#') => Some(Relation::UnequalTo),
            Some(b'<') => Some(Relation::SmallerThan),
            Some(b'>') => Some(Relation::GreaterThan),
            _ => {
                return self.err(format!(
                    "expected '=', '#', '<' or '>' after '{name}', found {}",
                    self.found()
                ))
            }
        };
        self.pos += 1;
        if let Some(r) = rel {
            return Ok(PropertyParm {
                name,
                value: one_value(self.value()?),
                extra: Some(ExtraInfo::Relation(r)),
            });
        }
        match self.peek() {
            Some(b'{') => {
                let mut value = Values::new();
                self.braced_list(false, |p| {
                    value.push(p.value()?);
                    Ok(())
                })?;
                Ok(PropertyParm {
                    name,
                    value,
                    extra: Some(ExtraInfo::Sublist(false)),
                })
            }
            Some(b'[') => {
                self.pos += 1;
                let first = self.value()?;
                if self.eat(b':') {
                    let second = self.value()?;
                    self.expect(b']')?;
                    return Ok(PropertyParm {
                        name,
                        value: Values::from_iter([first, second]),
                        extra: Some(ExtraInfo::Range(true)),
                    });
                }
                let mut value = one_value(first);
                while self.eat(b',') {
                    value.push(self.value()?);
                }
                self.expect(b']')?;
                Ok(PropertyParm {
                    name,
                    value,
                    extra: Some(ExtraInfo::Sublist(true)),
                })
            }
            _ => Ok(PropertyParm {
                name,
                value: one_value(self.value()?),
                extra: None,
            }),
        }
    }

    fn mux(&mut self) -> R<MuxDescriptor> {
        self.expect(b'=')?;
        let (start, w) = self.word_at()?;
        let mux_type = if t::H221.is(w) {
            MuxType::H221
        } else if t::H223.is(w) {
            MuxType::H223
        } else if t::H226.is(w) {
            MuxType::H226
        } else if t::V76.is(w) {
            MuxType::V76
        } else if t::NX64K.is(w) {
            MuxType::Nx64k
        } else {
            return self.err_at(start, format!("unknown mux type '{w}'"));
        };
        let mut termination_ids = TermIds::new();
        self.braced_list(false, |p| {
            termination_ids.push(p.termination_id()?);
            Ok(())
        })?;
        Ok(MuxDescriptor {
            mux_type,
            termination_ids,
        })
    }

    fn modem(&mut self) -> R<ModemDescriptor> {
        let mut types = Vec::new();
        if self.eat(b'=') {
            types.push(self.word()?.to_ascii_lowercase());
        } else {
            self.expect(b'[')?;
            types.push(self.word()?.to_ascii_lowercase());
            while self.eat(b',') {
                types.push(self.word()?.to_ascii_lowercase());
            }
            self.expect(b']')?;
        }
        let mut props = Vec::new();
        if self.peek() == Some(b'{') {
            self.braced_list(false, |p| {
                push(&mut props, p.property_parm()?);
                Ok(())
            })?;
        }
        Ok(ModemDescriptor { types, props })
    }

    fn request_id(&mut self) -> R<u32> {
        if self.peek_word() == Some("*") {
            self.word()?;
            return Ok(u32::MAX);
        }
        self.number("RequestID")
    }

    fn events(&mut self) -> R<EventsDescriptor> {
        if !self.eat(b'=') {
            return Ok(EventsDescriptor::default());
        }
        let request_id = Some(self.request_id()?);
        let mut events = Vec::with_capacity(4);
        self.enter()?;
        self.braced_list(false, |p| {
            events.push(p.requested_event()?);
            Ok(())
        })?;
        self.depth -= 1;
        Ok(EventsDescriptor { request_id, events })
    }

    fn requested_event(&mut self) -> R<RequestedEvent> {
        let (start, name) = self.word_at()?;
        if !is_pkgd_name(name) {
            return self.err_at(start, format!("'{name}' is not a valid event name"));
        }
        let mut e = RequestedEvent::new(name);
        if self.peek() == Some(b'{') {
            self.braced_list(false, |p| p.event_parameter(&mut e))?;
        }
        Ok(e)
    }

    fn event_parameter(&mut self, e: &mut RequestedEvent) -> R<()> {
        let (start, w) = self.word_at()?;
        if t::KEEP_ACTIVE.is(w) {
            e.keep_active = true;
        } else if t::EMBED.is(w) {
            let (sig, ev) = self.embed()?;
            e.embed_signals = sig;
            e.embed_events = ev;
        } else if t::DIGIT_MAP.is(w) && matches!(self.peek(), Some(b'=' | b'{')) {
            e.digit_map = Some(self.digit_map()?);
        } else if t::NOTIFY_IMMEDIATE.is(w) {
            e.notify_behaviour = Some(NotifyBehaviour::Immediate);
        } else if t::NEVER_NOTIFY.is(w) {
            e.notify_behaviour = Some(NotifyBehaviour::Never);
        } else if t::NOTIFY_REGULATED.is(w) {
            let (signals, events) = if self.eat(b'{') {
                self.expect_kw(t::EMBED)?;
                let r = self.embed()?;
                self.expect(b'}')?;
                r
            } else {
                (None, None)
            };
            e.notify_behaviour = Some(NotifyBehaviour::Regulated { events, signals });
        } else if t::RESET_EVENTS.is(w) {
            e.reset_events = true;
        } else if t::STREAM.is(w) && self.peek() == Some(b'=') {
            self.expect(b'=')?;
            e.stream = Some(self.number("StreamID")?);
        } else if is_name(w) {
            push(&mut e.params, self.parm_value(lower(w))?);
        } else {
            return self.err_at(start, format!("unexpected '{w}' in event parameters"));
        }
        Ok(())
    }

    /// `Embed { Signals {..} [, Events = id {..}] }` or `Embed { Events = id {..} }`.
    #[allow(clippy::type_complexity)]
    fn embed(&mut self) -> R<(Option<Vec<SignalsItem>>, Option<Box<EventsDescriptor>>)> {
        self.enter()?;
        self.expect(b'{')?;
        let mut sig = None;
        let mut ev = None;
        if self.eat_kw(t::SIGNALS) {
            sig = Some(self.signals()?);
            if self.eat(b',') {
                self.expect_kw(t::EVENTS)?;
                ev = Some(Box::new(self.events()?));
            }
        } else {
            self.expect_kw(t::EVENTS)?;
            ev = Some(Box::new(self.events()?));
        }
        self.expect(b'}')?;
        self.depth -= 1;
        Ok((sig, ev))
    }

    fn signals(&mut self) -> R<Vec<SignalsItem>> {
        let mut v = Vec::new();
        if self.peek() != Some(b'{') {
            return Ok(v);
        }
        self.braced_list(true, |p| {
            if p.eat_kw(t::SIGNAL_LIST) {
                p.expect(b'=')?;
                let id = p.number("SignalListID")?;
                let mut signals = Vec::new();
                p.braced_list(false, |p| {
                    push(&mut signals, p.signal_request()?);
                    Ok(())
                })?;
                push(&mut v, SignalsItem::List { id, signals });
            } else {
                push(&mut v, SignalsItem::Signal(p.signal_request()?));
            }
            Ok(())
        })?;
        Ok(v)
    }

    fn signal_request(&mut self) -> R<Signal> {
        let (start, name) = self.word_at()?;
        if !is_pkgd_name(name) {
            return self.err_at(start, format!("'{name}' is not a valid signal name"));
        }
        let mut s = Signal::new(name);
        if self.peek() != Some(b'{') {
            return Ok(s);
        }
        self.braced_list(false, |p| {
            let (start, w) = p.word_at()?;
            if t::STREAM.is(w) && p.peek() == Some(b'=') {
                p.expect(b'=')?;
                s.stream = Some(p.number("StreamID")?);
            } else if t::SIGNAL_TYPE.is(w) {
                p.expect(b'=')?;
                let (st, v) = p.word_at()?;
                s.signal_type = Some(if t::ON_OFF.is(v) {
                    SignalType::OnOff
                } else if t::TIMEOUT.is(v) {
                    SignalType::TimeOut
                } else if t::BRIEF.is(v) {
                    SignalType::Brief
                } else {
                    return p.err_at(st, format!("unknown signal type '{v}'"));
                });
            } else if t::DURATION.is(w) {
                p.expect(b'=')?;
                s.duration = Some(p.number("Duration")?);
            } else if t::NOTIFY_COMPLETION.is(w) {
                p.expect(b'=')?;
                let mut reasons = Vec::new();
                p.braced_list(false, |p| {
                    let (st, v) = p.word_at()?;
                    reasons.push(if t::TIMEOUT.is(v) {
                        NotifyCompletion::OnTimeOut
                    } else if t::INT_BY_EVENT.is(v) {
                        NotifyCompletion::OnInterruptByEvent
                    } else if t::INT_BY_SIG.is(v) {
                        NotifyCompletion::OnInterruptByNewSignalDescr
                    } else if t::OTHER_REASON.is(v) {
                        NotifyCompletion::OtherReason
                    } else if t::ITERATION.is(v) {
                        NotifyCompletion::Iteration
                    } else {
                        return p.err_at(st, format!("unknown completion reason '{v}'"));
                    });
                    Ok(())
                })?;
                s.notify_completion = Some(reasons);
            } else if t::KEEP_ACTIVE.is(w) {
                s.keep_active = true;
            } else if t::DIRECTION.is(w) {
                p.expect(b'=')?;
                let (st, v) = p.word_at()?;
                s.direction = Some(if t::EXTERNAL.is(v) {
                    SignalDirection::External
                } else if t::INTERNAL.is(v) {
                    SignalDirection::Internal
                } else if t::BOTH.is(v) {
                    SignalDirection::Both
                } else {
                    return p.err_at(st, format!("unknown signal direction '{v}'"));
                });
            } else if t::REQUEST_ID.is(w) {
                p.expect(b'=')?;
                s.request_id = Some(p.request_id()?);
            } else if t::INTSIG_DELAY.is(w) {
                p.expect(b'=')?;
                s.intersig_delay = Some(p.number("Intersignal delay")?);
            } else if is_name(w) {
                push(&mut s.params, p.parm_value(lower(w))?);
            } else {
                return p.err_at(start, format!("unexpected '{w}' in signal parameters"));
            }
            Ok(())
        })?;
        Ok(s)
    }

    /// After the DigitMap token: `= name`, `= name { value }` or `{ value }`.
    fn digit_map(&mut self) -> R<DigitMapDescriptor> {
        let mut name = None;
        if self.eat(b'=') && self.peek() != Some(b'{') {
            let (start, n) = self.word_at()?;
            if !is_name(n) {
                return self.err_at(start, format!("'{n}' is not a valid digit map name"));
            }
            name = Some(n.to_ascii_lowercase());
        }
        let value = if self.peek() == Some(b'{') {
            let start = self.mark();
            let body = self.raw_braced()?;
            match digit_map_value(&body) {
                Some(v) => Some(v),
                None => return self.err_at(start, "malformed digit map"),
            }
        } else {
            None
        };
        if name.is_none() && value.is_none() {
            return self.err("DigitMap needs a name or a value");
        }
        Ok(DigitMapDescriptor { name, value })
    }

    fn observed_events(&mut self) -> R<ObservedEventsDescriptor> {
        self.expect(b'=')?;
        let request_id = self.request_id()?;
        let mut events = Vec::new();
        self.braced_list(false, |p| {
            push(&mut events, p.observed_event(true)?);
            Ok(())
        })?;
        Ok(ObservedEventsDescriptor { request_id, events })
    }

    fn observed_event(&mut self, allow_ts: bool) -> R<ObservedEvent> {
        let (start, mut w) = self.word_at()?;
        let mut timestamp = None;
        if self.peek() == Some(b':') {
            if !allow_ts {
                return self.err("time stamp not allowed here");
            }
            timestamp = Some(
                time_notation(w)
                    .map_or_else(|| self.err_at(start, format!("bad time stamp '{w}'")), Ok)?,
            );
            self.pos += 1;
            w = self.word()?;
        }
        if !is_pkgd_name(w) {
            return self.err_at(start, format!("'{w}' is not a valid event name"));
        }
        let mut e = ObservedEvent {
            name: lower(w),
            stream: None,
            params: Vec::new(),
            timestamp,
        };
        if self.peek() == Some(b'{') {
            self.braced_list(false, |p| {
                let (start, n) = p.word_at()?;
                if t::STREAM.is(n) && p.peek() == Some(b'=') {
                    p.expect(b'=')?;
                    e.stream = Some(p.number("StreamID")?);
                } else if is_name(n) {
                    push(&mut e.params, p.parm_value(lower(n))?);
                } else {
                    return p.err_at(start, format!("unexpected '{n}' in event parameters"));
                }
                Ok(())
            })?;
        }
        Ok(e)
    }

    fn event_buffer(&mut self) -> R<Vec<EventSpec>> {
        let mut v = Vec::new();
        if self.peek() != Some(b'{') {
            return Ok(v);
        }
        self.braced_list(false, |p| {
            let e = p.observed_event(false)?;
            push(
                &mut v,
                EventSpec {
                    name: e.name,
                    stream: e.stream,
                    params: e.params,
                },
            );
            Ok(())
        })?;
        Ok(v)
    }

    fn statistics(&mut self) -> R<Vec<StatisticsParameter>> {
        let mut v = Vec::new();
        if self.peek() != Some(b'{') {
            return Ok(v);
        }
        self.braced_list(false, |p| {
            let (start, name) = p.word_at()?;
            if !is_pkgd_name(name) {
                return p.err_at(start, format!("'{name}' is not a valid statistic name"));
            }
            let value = if p.eat(b'=') {
                if p.eat(b'[') {
                    let mut vals = one_value(p.value()?);
                    while p.eat(b',') {
                        vals.push(p.value()?);
                    }
                    p.expect(b']')?;
                    Some(vals)
                } else {
                    Some(one_value(p.value()?))
                }
            } else {
                None
            };
            push(
                &mut v,
                StatisticsParameter {
                    name: lower(name),
                    value,
                },
            );
            Ok(())
        })?;
        Ok(v)
    }

    fn packages(&mut self) -> R<Vec<PackagesItem>> {
        let mut v = Vec::new();
        self.braced_list(false, |p| {
            push(&mut v, p.packages_item()?);
            Ok(())
        })?;
        Ok(v)
    }

    fn packages_item(&mut self) -> R<PackagesItem> {
        let (start, w) = self.word_at()?;
        match w.rsplit_once('-') {
            Some((n, ver)) if is_name(n) => match parse_num(ver).and_then(|v| u8::try_from(v).ok())
            {
                Some(version) => Ok(PackagesItem {
                    name: n.to_ascii_lowercase(),
                    version,
                }),
                None => self.err_at(start, format!("bad package version in '{w}'")),
            },
            _ => self.err_at(start, format!("expected name-version, found '{w}'")),
        }
    }

    /// After the Audit token.
    fn audit_descriptor(&mut self) -> R<AuditDescriptor> {
        let mut a = AuditDescriptor::default();
        self.braced_list(true, |p| {
            let (start, w) = p.word_at()?;
            let next = p.peek();
            let body = matches!(next, Some(b'{' | b'='));
            let item = |i| Some(i);
            let simple = if body {
                None
            } else if t::MUX.is(w) {
                item(AuditItem::Mux)
            } else if t::MODEM.is(w) {
                item(AuditItem::Modem)
            } else if t::MEDIA.is(w) {
                item(AuditItem::Media)
            } else if t::EVENTS.is(w) {
                item(AuditItem::Events)
            } else if t::SIGNALS.is(w) {
                item(AuditItem::Signals)
            } else if t::DIGIT_MAP.is(w) {
                item(AuditItem::DigitMap)
            } else if t::STATS.is(w) {
                item(AuditItem::Statistics)
            } else if t::OBSERVED_EVENTS.is(w) {
                item(AuditItem::ObservedEvents)
            } else if t::PACKAGES.is(w) {
                item(AuditItem::Packages)
            } else if t::EVENT_BUFFER.is(w) {
                item(AuditItem::EventBuffer)
            } else {
                return p.err_at(start, format!("unexpected '{w}' in Audit"));
            };
            if let Some(i) = simple {
                push(&mut a.items, i);
                return Ok(());
            }
            push(&mut a.ind_aud, p.ind_aud(w, start)?);
            Ok(())
        })?;
        Ok(a)
    }

    fn ind_aud(&mut self, w: &str, start: usize) -> R<IndAuditParameter> {
        Ok(if t::MEDIA.is(w) {
            let mut m = IndAudMediaDescriptor::default();
            let mut one = IndAudStreamParms::default();
            let mut saw_one = false;
            self.braced_list(false, |p| {
                let peeked = p.peek_word_span();
                let w = peeked.map_or("", |(_, _, w)| w);
                if t::TERMINATION_STATE.is(w) {
                    p.take_peeked(peeked)?;
                    m.termination_state = Some(p.ind_aud_term_state()?);
                } else if t::STREAM.is(w) {
                    p.take_peeked(peeked)?;
                    p.expect(b'=')?;
                    let id = p.number("StreamID")?;
                    let mut sp = IndAudStreamParms::default();
                    p.expect(b'{')?;
                    p.ind_aud_stream_parm(&mut sp)?;
                    p.expect(b'}')?;
                    m.streams.push((id, sp));
                } else {
                    saw_one = true;
                    p.ind_aud_stream_parm(&mut one)?;
                }
                Ok(())
            })?;
            if saw_one {
                m.stream_parms = Some(one);
            }
            IndAuditParameter::Media(m)
        } else if t::EVENTS.is(w) {
            let request_id = if self.eat(b'=') {
                Some(self.request_id()?)
            } else {
                None
            };
            self.expect(b'{')?;
            let name = self.pkgd_name()?;
            self.expect(b'}')?;
            IndAuditParameter::Events { request_id, name }
        } else if t::EVENT_BUFFER.is(w) {
            self.expect(b'{')?;
            let name = self.pkgd_name()?;
            let mut stream = None;
            if self.eat(b'{') {
                self.expect_kw(t::STREAM)?;
                self.expect(b'=')?;
                stream = Some(self.number("StreamID")?);
                self.expect(b'}')?;
            }
            self.expect(b'}')?;
            IndAuditParameter::EventBuffer { name, stream }
        } else if t::SIGNALS.is(w) {
            self.expect(b'{')?;
            if self.eat(b'}') {
                return Ok(IndAuditParameter::Signals(None));
            }
            let parm = if self.eat_kw(t::SIGNAL_LIST) {
                self.expect(b'=')?;
                let id = self.number("SignalListID")?;
                let signal = if self.eat(b'{') {
                    let n = self.pkgd_name()?;
                    self.expect(b'}')?;
                    Some(n)
                } else {
                    None
                };
                IndAudSignalParm::List { id, signal }
            } else {
                let s = self.signal_request()?;
                IndAudSignalParm::Signal {
                    name: s.name,
                    stream: s.stream,
                    request_id: s.request_id,
                }
            };
            self.expect(b'}')?;
            IndAuditParameter::Signals(Some(parm))
        } else if t::DIGIT_MAP.is(w) {
            self.expect(b'=')?;
            let n = self.word()?;
            IndAuditParameter::DigitMap(Some(n.to_ascii_lowercase()))
        } else if t::STATS.is(w) {
            self.expect(b'{')?;
            let n = self.pkgd_name()?;
            self.expect(b'}')?;
            IndAuditParameter::Statistics(n)
        } else if t::PACKAGES.is(w) {
            self.expect(b'{')?;
            let p = self.packages_item()?;
            self.expect(b'}')?;
            IndAuditParameter::Packages(p)
        } else {
            return self.err_at(start, format!("unexpected '{w}' in Audit"));
        })
    }

    fn pkgd_name(&mut self) -> R<PkgdName> {
        let (start, n) = self.word_at()?;
        if !is_pkgd_name(n) {
            return self.err_at(start, format!("'{n}' is not a valid package name"));
        }
        Ok(lower(n))
    }

    fn ind_aud_stream_parm(&mut self, sp: &mut IndAudStreamParms) -> R<()> {
        let (start, w) = self.word_at()?;
        if t::LOCAL_CONTROL.is(w) {
            let mut lc = IndAudLocalControl::default();
            self.braced_list(false, |p| {
                let (start, w) = p.word_at()?;
                let next = p.peek();
                if t::MODE.is(w) {
                    match next {
                        Some(b'=') | Some(b'#') => {
                            p.pos += 1;
                            lc.mode_sel = Some((next == Some(b'='), p.stream_mode()?));
                        }
                        _ => lc.mode = true,
                    }
                } else if t::RESERVED_VALUE.is(w) {
                    lc.reserve_value = true;
                } else if t::RESERVED_GROUP.is(w) {
                    lc.reserve_group = true;
                } else if is_pkgd_name(w) {
                    if matches!(next, Some(b'=' | b'#' | b'<' | b'>')) {
                        lc.props.push(IndAudProp::Select(p.parm_value(lower(w))?));
                    } else {
                        lc.props.push(IndAudProp::Name(lower(w)));
                    }
                } else {
                    return p.err_at(start, format!("unexpected '{w}' in LocalControl audit"));
                }
                Ok(())
            })?;
            sp.local_control = Some(lc);
        } else if t::LOCAL.is(w) {
            sp.local = Some(self.local_remote()?);
        } else if t::REMOTE.is(w) {
            sp.remote = Some(self.local_remote()?);
        } else if t::STATS.is(w) {
            self.expect(b'{')?;
            sp.statistics = Some(self.pkgd_name()?);
            self.expect(b'}')?;
        } else {
            return self.err_at(start, format!("unexpected '{w}' in Media audit"));
        }
        Ok(())
    }

    fn ind_aud_term_state(&mut self) -> R<IndAudTerminationState> {
        let mut ts = IndAudTerminationState::default();
        self.braced_list(false, |p| {
            let (start, w) = p.word_at()?;
            let next = p.peek();
            if t::SERVICE_STATES.is(w) {
                match next {
                    Some(b'=') | Some(b'#') => {
                        p.pos += 1;
                        ts.service_state_sel = Some((next == Some(b'='), p.service_state()?));
                    }
                    _ => ts.service_state = true,
                }
            } else if t::BUFFER.is(w) {
                ts.event_buffer_control = true;
            } else if is_pkgd_name(w) {
                if matches!(next, Some(b'=' | b'#' | b'<' | b'>')) {
                    ts.props.push(IndAudProp::Select(p.parm_value(lower(w))?));
                } else {
                    ts.props.push(IndAudProp::Name(lower(w)));
                }
            } else {
                return p.err_at(start, format!("unexpected '{w}' in TerminationState audit"));
            }
            Ok(())
        })?;
        Ok(ts)
    }

    // ------------------------------------------------------------------ ServiceChange

    fn service_change_parms(&mut self) -> R<ServiceChangeParm> {
        let mut method = None;
        let mut sc = ServiceChangeParm {
            method: ServiceChangeMethod::Restart,
            address: None,
            version: None,
            profile: None,
            reason: None,
            delay: None,
            mgc_id: None,
            timestamp: None,
            extensions: Vec::new(),
            info: None,
            incomplete: false,
        };
        let start = self.mark();
        self.braced_list(false, |p| {
            let (start, w) = p.word_at()?;
            if t::METHOD.is(w) {
                p.expect(b'=')?;
                let m = p.word()?;
                method = Some(if t::FAILOVER.is(m) {
                    ServiceChangeMethod::Failover
                } else if t::FORCED.is(m) {
                    ServiceChangeMethod::Forced
                } else if t::GRACEFUL.is(m) {
                    ServiceChangeMethod::Graceful
                } else if t::RESTART.is(m) {
                    ServiceChangeMethod::Restart
                } else if t::DISCONNECTED.is(m) {
                    ServiceChangeMethod::Disconnected
                } else if t::HANDOFF.is(m) {
                    ServiceChangeMethod::HandOff
                } else if m.len() > 2
                    && (m.starts_with("X-")
                        || m.starts_with("x-")
                        || m.starts_with("X+")
                        || m.starts_with("x+"))
                {
                    ServiceChangeMethod::Extension(m.to_ascii_lowercase())
                } else {
                    return p.err_at(start, format!("unknown ServiceChange method '{m}'"));
                });
            } else if t::REASON.is(w) {
                p.expect(b'=')?;
                sc.reason = Some(p.value()?.into());
            } else if t::DELAY.is(w) {
                p.expect(b'=')?;
                sc.delay = Some(p.number("Delay")?);
            } else if t::SERVICE_CHANGE_ADDRESS.is(w) {
                p.expect(b'=')?;
                sc.address = Some(p.sc_address()?);
            } else if t::PROFILE.is(w) {
                p.expect(b'=')?;
                sc.profile = Some(p.profile()?);
            } else if t::VERSION.is(w) {
                p.expect(b'=')?;
                sc.version = Some(p.version_number()?);
            } else if t::MGC_ID.is(w) {
                p.expect(b'=')?;
                sc.mgc_id = Some(p.mid()?);
            } else if t::SERVICE_CHANGE_INC.is(w) {
                sc.incomplete = true;
            } else if let Some(ts) = time_notation(w) {
                sc.timestamp = Some(ts);
            } else if (w.starts_with("X-")
                || w.starts_with("x-")
                || w.starts_with("X+")
                || w.starts_with("x+"))
                && w.len() > 2
            {
                sc.extensions.push(p.parm_value(lower(w))?);
            } else if matches!(p.peek(), Some(b'{' | b'=')) {
                let ia = p.ind_aud(w, start)?;
                sc.info
                    .get_or_insert_with(AuditDescriptor::default)
                    .ind_aud
                    .push(ia);
            } else {
                let item = if t::MUX.is(w) {
                    AuditItem::Mux
                } else if t::MODEM.is(w) {
                    AuditItem::Modem
                } else if t::MEDIA.is(w) {
                    AuditItem::Media
                } else if t::EVENTS.is(w) {
                    AuditItem::Events
                } else if t::SIGNALS.is(w) {
                    AuditItem::Signals
                } else if t::DIGIT_MAP.is(w) {
                    AuditItem::DigitMap
                } else if t::STATS.is(w) {
                    AuditItem::Statistics
                } else if t::OBSERVED_EVENTS.is(w) {
                    AuditItem::ObservedEvents
                } else if t::PACKAGES.is(w) {
                    AuditItem::Packages
                } else if t::EVENT_BUFFER.is(w) {
                    AuditItem::EventBuffer
                } else {
                    return p.err_at(start, format!("unexpected '{w}' in Services"));
                };
                sc.info
                    .get_or_insert_with(AuditDescriptor::default)
                    .items
                    .push(item);
            }
            Ok(())
        })?;
        match method {
            Some(m) => sc.method = m,
            None => return self.err_at(start, "ServiceChange without Method"),
        }
        Ok(sc)
    }

    fn service_change_res_parms(&mut self) -> R<ServiceChangeResParm> {
        let mut r = ServiceChangeResParm::default();
        self.braced_list(false, |p| {
            let (start, w) = p.word_at()?;
            if t::SERVICE_CHANGE_ADDRESS.is(w) {
                p.expect(b'=')?;
                r.address = Some(p.sc_address()?);
            } else if t::PROFILE.is(w) {
                p.expect(b'=')?;
                r.profile = Some(p.profile()?);
            } else if t::VERSION.is(w) {
                p.expect(b'=')?;
                r.version = Some(p.version_number()?);
            } else if t::MGC_ID.is(w) {
                p.expect(b'=')?;
                r.mgc_id = Some(p.mid()?);
            } else if let Some(ts) = time_notation(w) {
                r.timestamp = Some(ts);
            } else {
                return p.err_at(start, format!("unexpected '{w}' in ServiceChange reply"));
            }
            Ok(())
        })?;
        Ok(r)
    }

    fn sc_address(&mut self) -> R<ServiceChangeAddress> {
        let save = self.pos;
        if let Some(w) = self.peek_word() {
            if w.bytes().all(|c| c.is_ascii_digit()) {
                self.pos = save;
                return Ok(ServiceChangeAddress::Port(self.number("port number")?));
            }
        }
        Ok(ServiceChangeAddress::MId(self.mid()?))
    }

    fn profile(&mut self) -> R<ServiceChangeProfile> {
        let (start, w) = self.word_at()?;
        match w.rsplit_once('/') {
            Some((n, v)) if is_name(n) => match parse_num(v).and_then(|v| u8::try_from(v).ok()) {
                Some(version) => Ok(ServiceChangeProfile {
                    name: n.to_ascii_lowercase(),
                    version,
                }),
                None => self.err_at(start, format!("bad profile version in '{w}'")),
            },
            _ => self.err_at(
                start,
                format!("expected Profile = name/version, found '{w}'"),
            ),
        }
    }

    fn version_number(&mut self) -> R<u8> {
        let (start, w) = self.word_at()?;
        match parse_num(w) {
            Some(v) if w.len() <= 2 => Ok(v as u8),
            _ => self.err_at(start, format!("bad version '{w}'")),
        }
    }
}

/// Decimal number (no sign), at most 10 digits.
/// A run of 1 to 10 decimal digits (the longest UINT32 with leading zeros).
fn parse_num(w: &str) -> Option<u64> {
    if w.is_empty() || w.len() > 10 {
        return None;
    }
    let mut n = 0u64;
    for c in w.bytes() {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    Some(n)
}

/// `w` split at the first `b` (an ASCII octet): a byte search, cheaper than a `char` pattern
/// on the short words the parser splits.
/// A good message header, `MEGACO/v` or `!/v`, split at its '/': the version has one or two
/// digits, so the '/' is looked for at the second and third octets from the end rather than
/// by a scan from the start (-35 instructions per `MEGACO/1` header). A token that spells
/// MEGACO or `!` holds no '/', so that '/' is the first, as [`split_at_byte`] finds it;
/// `None` for any other header, which the caller then splits as before.
fn header_split(w: &str) -> Option<(&str, &str)> {
    let b = w.as_bytes();
    let n = b.len();
    let i = if n >= 2 && b.get(n - 2) == Some(&b'/') {
        n - 2
    } else if n >= 3 && b.get(n - 3) == Some(&b'/') {
        n - 3
    } else {
        return None;
    };
    let (tok, ver) = (w.get(..i)?, w.get(i + 1..)?);
    t::MEGACO.is(tok).then_some((tok, ver))
}

fn split_at_byte(w: &str, b: u8) -> Option<(&str, &str)> {
    let i = w.bytes().position(|c| c == b)?;
    Some((w.get(..i)?, w.get(i + 1..)?))
}

/// Dotted-quad IPv4 exactly as `Ipv4Addr::from_str` takes it (four decimal octets of 1 to 3
/// digits, at most 255, no leading zero), without going through `str`; `None` for anything
/// else, which the caller then hands to the standard parsers.
///
/// One pass over the octets, each octet's digits read up to the '.' that must follow it,
/// rather than splitting at the dots first and then reading each part.
fn ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    ipv4_at(b).and_then(|(a, len)| (len == b.len()).then_some(a))
}

/// A dotted quad as [`ipv4`] reads it at the start of `b`, and its length (what follows it
/// is not looked at).
fn ipv4_at(b: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    let mut rest = b;
    for (k, o) in octets.iter_mut().enumerate() {
        let mut n = 0u16;
        let mut len = 0;
        while let Some(d) = rest
            .get(len)
            .map(|c| c.wrapping_sub(b'0'))
            .filter(|&d| d <= 9)
        {
            if len == 3 {
                return None;
            }
            n = n * 10 + u16::from(d);
            len += 1;
        }
        if len == 0 || (len > 1 && rest[0] == b'0') {
            return None;
        }
        *o = u8::try_from(n).ok()?;
        rest = &rest[len..];
        if k < 3 {
            rest = rest.strip_prefix(b".")?;
        }
    }
    Some((Ipv4Addr::from(octets), b.len() - rest.len()))
}

fn hex_bytes(h: &str) -> Option<Vec<u8>> {
    if h.len() % 2 != 0 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
        .collect()
}

/// NAME = ALPHA *63(ALPHA / DIGIT / "_")
pub(crate) fn is_name(w: &str) -> bool {
    is_name_bytes(w.as_bytes())
}

/// Octets that may follow a NAME's first: ALPHA / DIGIT / "_", one table load each.
static NAME_REST: [bool; 256] = octet_table!(|c| c.is_ascii_alphanumeric() || c == b'_');

/// Octets of a domain name in a `<...>` mId: ALPHA / DIGIT / "-" / ".".
static DOMAIN: [bool; 256] = octet_table!(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.');

fn is_name_bytes(b: &[u8]) -> bool {
    match b.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphabetic()
                && rest.len() < 64
                && rest.iter().all(|&c| NAME_REST[c as usize])
        }
        None => false,
    }
}

/// pkgdName = (PackageName / "*") "/" (ItemID / "*") / PackageName (a bare name, as megaco
/// accepts for SDP-less properties and items of Annex C). On the octets, so that the split
/// needs no `str` boundary checks (every decoded package item name comes here).
pub(crate) fn is_pkgd_name(w: &str) -> bool {
    let b = w.as_bytes();
    let part = |p: &[u8]| p == b"*" || is_name_bytes(p);
    match b.iter().position(|&c| c == b'/') {
        Some(i) => b.get(..i).is_some_and(part) && b.get(i + 1..).is_some_and(part),
        None => is_name_bytes(b),
    }
}

/// `yyyymmddThhmmssss`
fn time_notation(w: &str) -> Option<TimeNotation> {
    let (d, t) = w.split_once(['T', 't'])?;
    (d.len() == 8
        && t.len() == 8
        && d.bytes().all(|c| c.is_ascii_digit())
        && t.bytes().all(|c| c.is_ascii_digit()))
    .then(|| TimeNotation {
        date: d.into(),
        time: t.into(),
    })
}

/// Split SDP text into property groups; `Err(line)` for a line that is not `x=value`.
pub(crate) fn sdp_groups(body: &str) -> Result<Vec<Vec<PropertyParm>>, String> {
    // One group (one SDP session) is the usual case.
    let mut groups: Vec<Vec<PropertyParm>> = Vec::with_capacity(1);
    // White space before the closing brace is layout, not part of the last SDP value.
    let body = body.trim_end();
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    // Lines end at CR or LF (an empty piece between CR and LF is skipped as blank). Byte
    // searches throughout: every separator here is ASCII, and this runs for every SDP line of
    // every Local and Remote received.
    let bytes = body.as_bytes();
    let mut start = 0;
    while start <= bytes.len() {
        let end = memchr::memchr2(b'\n', b'\r', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        // Cut at ASCII bytes, so `str` boundaries.
        let raw = &body[start..end];
        start = end + 1;
        // Leading white space is layout (indentation); trailing white space is kept, as megaco
        // keeps it, since it is part of an SDP value.
        let lead = raw.bytes().take_while(blank).count();
        let line = &raw[lead..];
        if line.bytes().all(|b| blank(&b)) {
            continue;
        }
        let Some(eq) = memchr::memchr(b'=', line.as_bytes()) else {
            return Err(line.to_string());
        };
        let (k, v) = (&line[..eq], &line[eq + 1..]);
        // `v=`, not `v =`, is the usual case: skip the trim's char decoding for it.
        let k = if k.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric) {
            k
        } else {
            k.trim_end()
        };
        if k.is_empty()
            || !k
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        {
            return Err(line.to_string());
        }
        let p = PropertyParm {
            name: Text::from(k),
            value: one_value(v),
            extra: None,
        };
        if k == "v" || groups.is_empty() {
            // Room for this line and every line left (one group is the usual case): no
            // regrowth per line. The rest, trimmed, ends without a line break, so it holds one
            // line more than it has LFs (none when this was the last line).
            let room = match bytes.get(start..) {
                Some(rest) => 2 + memchr::memchr_iter(b'\n', rest).count(),
                None => 1,
            };
            let mut g = Vec::with_capacity(room);
            g.push(p);
            groups.push(g);
        } else if let Some(g) = groups.last_mut() {
            g.push(p);
        }
    }
    Ok(groups)
}

/// `T:10, S:5, L:20, Z:2, (0|1x)` -> timers and body.
fn digit_map_value(body: &str) -> Option<DigitMapValue> {
    let mut v = DigitMapValue {
        start_timer: None,
        short_timer: None,
        long_timer: None,
        duration_timer: None,
        body: String::new(),
    };
    let mut rest = body.trim_matches(|c: char| c.is_ascii_whitespace());
    while let Some((k, after)) = rest.split_once(':') {
        let k = k.trim();
        let slot = match k {
            "T" | "t" => &mut v.start_timer,
            "S" | "s" => &mut v.short_timer,
            "L" | "l" => &mut v.long_timer,
            "Z" | "z" => &mut v.duration_timer,
            _ => break,
        };
        let (num, tail) = after.split_once(',')?;
        let num = num.trim();
        if num.is_empty() || num.len() > 2 || !num.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *slot = Some(num.parse().ok()?);
        rest = tail.trim_start();
    }
    // The body without white space, all of it digit map octets (ASCII): one pass over the
    // octets, pushing each kept one, instead of decoding chars into a string and then
    // checking it. Any other octet (non-ASCII ones included) refuses the body.
    let mut b = String::with_capacity(rest.len());
    for &c in rest.as_bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if !(c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'(' | b')' | b'|' | b'[' | b']' | b'-' | b'.' | b'#' | b'*'
            ))
        {
            return None;
        }
        b.push(char::from(c));
    }
    if b.is_empty() {
        return None;
    }
    v.body = b;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast IPv4 reader accepts exactly what `Ipv4Addr::from_str` accepts, with the same
    /// value, over every short string of digits and dots and some longer ones.
    #[test]
    fn ipv4_matches_std() {
        let mut cases: Vec<String> = vec![
            "1.2.3.4".into(),
            "255.255.255.255".into(),
            "256.1.1.1".into(),
            "01.2.3.4".into(),
            "0.0.0.0".into(),
            "1.2.3".into(),
            "1.2.3.4.5".into(),
            "1..3.4".into(),
            "1.2.3.4 ".into(),
            "a.b.c.d".into(),
            "1000.1.1.1".into(),
            "::1".into(),
            String::new(),
        ];
        // Every string of up to 7 characters over "0", "1", "9", "5" and ".".
        let alphabet = ['0', '1', '9', '5', '.'];
        let mut frontier = vec![String::new()];
        for _ in 0..7 {
            let mut next = Vec::new();
            for s in &frontier {
                for c in alphabet {
                    next.push(format!("{s}{c}"));
                }
            }
            cases.extend(next.iter().cloned());
            frontier = next;
        }
        for c in &cases {
            let ours = ipv4(c.as_bytes());
            let std = c.parse::<Ipv4Addr>().ok();
            assert_eq!(ours, std, "{c:?}");
        }
    }

    #[test]
    fn parse_num_is_decimal_up_to_ten_digits() {
        assert_eq!(parse_num("0"), Some(0));
        assert_eq!(parse_num("0000000042"), Some(42));
        assert_eq!(parse_num("4294967295"), Some(4_294_967_295));
        assert_eq!(parse_num("9999999999"), Some(9_999_999_999));
        assert_eq!(parse_num("12345678901"), None);
        assert_eq!(parse_num(""), None);
        assert_eq!(parse_num("1a"), None);
        assert_eq!(parse_num("+1"), None);
        assert_eq!(split_at_byte("a/b/c", b'/'), Some(("a", "b/c")));
        assert_eq!(split_at_byte("abc", b'/'), None);
    }
}
