//! SDP (RFC 8866) as carried in H.248 Local/Remote descriptors and exchanged by the IMS-ALG.
//!
//! [`Sdp`] is one session description kept as its lines, so that reading and writing is
//! lossless: `Sdp::parse(s)?.to_string() == s` for every text `parse` accepts (CRLF or LF line
//! ends, per line; a missing line end after the last line; unknown lines and attributes, all
//! in their order). Typed getters read the lines; typed setters and removers edit them in place,
//! so whatever they do not touch stays byte for byte.
//!
//! It also reads H.248's relaxed SDP (H.248.1 / RFC 3525 Appendix I): `o=`, `s=`, `t=` may be
//! missing, and the CHOOSE wildcard `$` may stand for an address, port, fingerprint or ICE
//! credential (`c=IN IP4 $`, `m=audio $ RTP/AVP 0`, `a=fingerprint:$`, `a=ice-ufrag:$`). A
//! Local/Remote descriptor may hold several session descriptions (each from its `v=` line):
//! the H.248 property groups, i.e. alternatives; see [`Sdp::parse_all`],
//! [`Sdp::from_descriptor`] and [`Sdp::to_descriptor`].
//!
//! Layout: the session-level lines form a [`Block`] ([`Sdp::session`]); each `m=` line with the
//! lines after it is a [`Media`], which dereferences to its own [`Block`] (the lines after the
//! `m=` line). Attribute getters and setters live on [`Block`], so they work at both levels;
//! [`Sdp`] adds the "media level, else session level" lookups (`effective_*`).
//!
//! What `parse` checks: every line is `<lowercase letter>=<value>` without NUL; no empty lines;
//! `v=0`; the fields of `o=`, `c=`, `m=`, `t=`, `b=`; attribute names are tokens. Attribute
//! values are checked when read through a typed getter, whose error names the line. The
//! order of session-level lines is not enforced (relaxed SDP); new lines are put where RFC 8866
//! wants them. [`Sdp::check_strict`] applies the full RFC 8866 rules (for SDP from SIP).
//!
//! ```
//! use iq_codec::sdp::{Sdp, Setup};
//! let text = "v=0\r\nc=IN IP4 198.51.100.20\r\nm=audio 50000 UDP/TLS/RTP/SAVPF 111\r\na=setup:actpass\r\n";
//! let mut sdp = Sdp::parse(text).unwrap();
//! assert_eq!(sdp.to_string(), text);
//! let m = &mut sdp.media_mut()[0];
//! assert_eq!(m.setup().unwrap(), Some(Setup::Actpass));
//! let core = m.proto().to_core().unwrap();
//! m.set_proto(core).unwrap();
//! m.remove_setup();
//! assert_eq!(sdp.to_string(), "v=0\r\nc=IN IP4 198.51.100.20\r\nm=audio 50000 RTP/AVPF 111\r\n");
//! ```

mod attrs;
mod block;
mod error;
mod fields;
mod h248;

pub use attrs::{
    Candidate, CandidateType, Crypto, Direction, Fingerprint, FingerprintAttr, Fmtp, Group,
    HashFunction, Msid, Rtcp, RtcpFb, RtpMap, Setup, Ssrc, SsrcGroup, TlsId,
};
pub use block::{Block, DTLS_ATTRIBUTES, ICE_ATTRIBUTES};
pub use error::SdpError;
pub use fields::{Bandwidth, Choosable, Connection, MediaLine, Origin, Proto};

use fields::is_token;
use std::fmt::{self, Write as _};
use std::ops::{Deref, DerefMut};

/// A line end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Eol {
    /// `\r\n` (RFC 8866; SIP bodies).
    #[default]
    CrLf,
    /// `\n` (H.248 text messages, and tolerated by RFC 8866 parsers).
    Lf,
}

impl Eol {
    /// The characters.
    pub fn as_str(self) -> &'static str {
        match self {
            Eol::CrLf => "\r\n",
            Eol::Lf => "\n",
        }
    }
}

/// One SDP line: `<kind>=<value>` and its line end.
#[derive(Debug, Clone)]
pub struct Line {
    kind: char,
    value: String,
    eol: Eol,
    no: Option<usize>,
}

/// Lines compare by kind, value and line end (not by input line number).
impl PartialEq for Line {
    fn eq(&self, o: &Self) -> bool {
        self.kind == o.kind && self.value == o.value && self.eol == o.eol
    }
}
impl Eq for Line {}

impl Line {
    /// A line `<kind>=<value>`, checked like [`Sdp::parse`] checks it. `v` and `m` lines cannot
    /// be inserted into a [`Block`]; use [`Sdp::new`] and [`Sdp::push_media`].
    pub fn new(kind: char, value: impl Into<String>) -> Result<Line, SdpError> {
        let value = value.into();
        check_line(kind, &value).map_err(|msg| SdpError::Syntax { line: None, msg })?;
        Ok(Line {
            kind,
            value,
            eol: Eol::default(),
            no: None,
        })
    }

    /// `a=<name>` or `a=<name>:<value>`.
    pub fn attribute(name: &str, value: Option<&str>) -> Result<Line, SdpError> {
        match value {
            None => Line::new('a', name),
            Some(v) => {
                if !is_token(name) {
                    return Err(SdpError::Syntax {
                        line: None,
                        msg: format!("attribute name '{name}' is not a token"),
                    });
                }
                let mut value = String::with_capacity(name.len() + 1 + v.len());
                value.push_str(name);
                value.push(':');
                value.push_str(v);
                Line::new('a', value)
            }
        }
    }

    /// The type letter.
    pub fn kind(&self) -> char {
        self.kind
    }

    /// Everything after `<kind>=`.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The line end.
    pub fn eol(&self) -> Eol {
        self.eol
    }

    /// 1-based line number in the parsed input; `None` for a line added or changed by editing.
    pub fn line_no(&self) -> Option<usize> {
        self.no
    }

    /// For `a=` lines: the attribute name (before the first `:`).
    pub fn attr_name(&self) -> Option<&str> {
        (self.kind == 'a').then(|| match colon(&self.value) {
            Some(i) => &self.value[..i],
            None => &self.value,
        })
    }

    /// For `a=` lines: the attribute value (after the first `:`), `None` for a property
    /// attribute (flag) like `a=rtcp-mux`.
    pub fn attr_value(&self) -> Option<&str> {
        if self.kind != 'a' {
            return None;
        }
        colon(&self.value).map(|i| &self.value[i + 1..])
    }

    /// Is this `a=<name>...` (name compared ignoring ASCII case)?
    pub fn is_attr(&self, name: &str) -> bool {
        // Compares the name in place instead of finding the `:` first: the SDP builders ask this
        // of every line for every attribute they look for (hundreds of calls per session).
        let v = self.value.as_bytes();
        self.kind == 'a'
            && v.len() >= name.len()
            && v[..name.len()].eq_ignore_ascii_case(name.as_bytes())
            && (v.len() == name.len() || v[name.len()] == b':')
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, last_unterminated: bool) -> fmt::Result {
        self.write_line(f)?;
        if !last_unterminated {
            f.write_str(self.eol.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Display for Line {
    /// `<kind>=<value>` without the line end.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_line(f)
    }
}

impl Line {
    /// `<kind>=<value>` as plain writes (no format machinery: every line of every SDP the
    /// daemons send goes through here).
    fn write_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        f.write_char(self.kind)?;
        f.write_char('=')?;
        f.write_str(&self.value)
    }
}

/// Byte offset of the first `:` (ASCII, so a valid `str` boundary); a plain loop, because the
/// names in front of it are a few bytes long and a general searcher costs more than the scan.
fn colon(s: &str) -> Option<usize> {
    s.bytes().position(|b| b == b':')
}

/// Check one line as `parse` does; `Err(what is wrong)`.
fn check_line(kind: char, value: &str) -> Result<(), String> {
    if !kind.is_ascii_lowercase() {
        return Err(format!("line type {kind:?} is not a lower-case letter"));
    }
    // SIMD byte search: the three are ASCII, and this runs for every line parsed or built.
    if let Some(i) = memchr::memchr3(b'\r', b'\n', 0, value.as_bytes()) {
        let b = value.as_bytes()[i];
        return Err(format!("{kind}= value contains {:?}", char::from(b)));
    }
    match kind {
        'v' if value != "0" => Err(format!("v= must be 0, found '{value}'")),
        'o' => fields::Origin::check(value).map(drop),
        'c' => fields::Connection::check(value).map(drop),
        'm' => fields::MediaParts::read(value).map(drop),
        'b' => fields::Bandwidth::parse_str(value).map(drop),
        't' => {
            let time = |s: &str| {
                s == "$"
                    || (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()))
            };
            let mut f = value.split_ascii_whitespace();
            match (f.next(), f.next(), f.next()) {
                (Some(a), Some(b), None) if time(a) && time(b) => Ok(()),
                _ => Err(format!(
                    "t= needs '<start-time> <stop-time>' (numbers), found '{value}'"
                )),
            }
        }
        'a' => {
            let name = colon(value).map_or(value, |i| &value[..i]);
            if is_token(name) {
                Ok(())
            } else {
                Err(format!("attribute name '{name}' is not a token"))
            }
        }
        _ => Ok(()),
    }
}

/// Which part of a session description a [`Block`] is (decides where new lines go).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) enum Level {
    #[default]
    Session,
    Media,
}

/// A media section: the `m=` line and the lines after it (the [`Block`] this dereferences to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    m: Line,
    block: Block,
}

impl Deref for Media {
    type Target = Block;
    fn deref(&self) -> &Block {
        &self.block
    }
}

impl DerefMut for Media {
    fn deref_mut(&mut self) -> &mut Block {
        &mut self.block
    }
}

impl Media {
    /// A media section with only its `m=` line (CRLF line ends; [`Sdp::push_media`] adopts the
    /// session's).
    pub fn new(m: &MediaLine) -> Result<Media, SdpError> {
        let value = m.checked_text()?;
        Ok(Media {
            m: Line {
                kind: 'm',
                value,
                eol: Eol::default(),
                no: None,
            },
            block: Block::new(Level::Media, Eol::default()),
        })
    }

    /// The `m=` line.
    pub fn m_line(&self) -> &Line {
        &self.m
    }

    /// The typed `m=` line.
    pub fn media_line(&self) -> MediaLine {
        // Checked when the line was read or set.
        MediaLine::parse_str(&self.m.value).unwrap_or_else(|_| MediaLine {
            media: String::new(),
            port: Choosable::Choose,
            port_count: None,
            proto: Proto::Other(String::new()),
            fmts: Vec::new(),
        })
    }

    /// Replace the `m=` line.
    pub fn set_media_line(&mut self, m: &MediaLine) -> Result<(), SdpError> {
        m.check()?;
        self.m.value = m.to_string();
        self.m.no = None;
        Ok(())
    }

    /// Replace the `m=` fields from `from` on by `new`, keeping the others as written
    /// (e.g. a lower-case proto stays lower case when only the port changes).
    fn edit_m(&mut self, from: usize, new: &[String]) -> Result<(), SdpError> {
        let mut f: Vec<String> = self
            .m
            .value
            .split_ascii_whitespace()
            .map(str::to_string)
            .collect();
        f.truncate(from);
        f.extend(new.iter().cloned());
        let v = f.join(" ");
        fields::MediaParts::read(&v).map_err(|m| SdpError::invalid("media (m=)", m))?;
        self.m.value = v;
        self.m.no = None;
        Ok(())
    }

    /// Media type (`audio`, `video`, `application`, ...).
    pub fn media_type(&self) -> String {
        // Checked when the line was read or set; read in place, not as a whole `MediaLine`.
        fields::MediaParts::read(&self.m.value).map_or_else(|_| String::new(), |p| p.media.into())
    }

    /// Port or `$`.
    pub fn port(&self) -> Choosable<u16> {
        // Checked when the line was read or set.
        fields::MediaParts::read(&self.m.value).map_or(Choosable::Choose, |p| p.port)
    }

    /// Set the port (keeps any port count).
    pub fn set_port(&mut self, port: Choosable<u16>) {
        // The port is the second field (`<media> <port>[/<count>] <proto> ...`, checked when the
        // line was read or set): replace it in place, since any port is valid there.
        let v = &self.m.value;
        let ws = |b: &u8| b.is_ascii_whitespace();
        let b = v.as_bytes();
        let Some(media_end) = b.iter().position(ws) else {
            return;
        };
        let Some(start) = b[media_end..]
            .iter()
            .position(|c| !ws(c))
            .map(|i| media_end + i)
        else {
            return;
        };
        let end = b[start..]
            .iter()
            .position(|c| ws(c) || *c == b'/')
            .map_or(b.len(), |i| start + i);
        let mut value = String::with_capacity(v.len() + 5);
        value.push_str(&v[..start]);
        // Writing into a `String` does not fail.
        let _ = write!(value, "{port}");
        value.push_str(&v[end..]);
        self.m.value = value;
        self.m.no = None;
    }

    /// Port count (`m=video 49170/2 ...`).
    pub fn port_count(&self) -> Option<u16> {
        fields::MediaParts::read(&self.m.value).map_or(None, |p| p.port_count)
    }

    /// Transport protocol.
    pub fn proto(&self) -> Proto {
        // Checked when the line was read or set.
        fields::MediaParts::read(&self.m.value)
            .map_or_else(|_| Proto::Other(String::new()), |p| Proto::parse(p.proto))
    }

    /// Set the transport protocol (e.g. to [`Proto::to_core`] of the current one), keeping the
    /// other fields as written. Fails only for a [`Proto::Other`] that is not a valid proto.
    pub fn set_proto(&mut self, proto: Proto) -> Result<(), SdpError> {
        if !fields::is_proto(proto.as_str()) {
            return Err(SdpError::invalid(
                "media (m=)",
                format!("proto '{proto}' is not valid"),
            ));
        }
        let new: Vec<String> = std::iter::once(proto.to_string())
            .chain(
                self.m
                    .value
                    .split_ascii_whitespace()
                    .skip(3)
                    .map(str::to_string),
            )
            .collect();
        self.edit_m(2, &new)
    }

    /// Formats (payload types etc.).
    pub fn fmts(&self) -> Vec<String> {
        fields::MediaParts::read(&self.m.value).map_or_else(
            |_| Vec::new(),
            |p| {
                p.fmts
                    .split_ascii_whitespace()
                    .map(str::to_string)
                    .collect()
            },
        )
    }

    /// Set the formats, keeping the other fields as written; an empty list is refused.
    pub fn set_fmts<S: AsRef<str>>(&mut self, fmts: &[S]) -> Result<(), SdpError> {
        let new: Vec<String> = fmts.iter().map(|s| s.as_ref().to_string()).collect();
        if let Some(bad) = new.iter().find(|f| !fields::is_word(f)) {
            return Err(SdpError::invalid(
                "media (m=)",
                format!("format '{bad}' is not valid"),
            ));
        }
        self.edit_m(3, &new)
    }

    /// All lines of the section, `m=` first.
    pub fn all_lines(&self) -> impl Iterator<Item = &Line> {
        std::iter::once(&self.m).chain(self.block.lines())
    }

    fn set_eol(&mut self, eol: Eol) {
        self.m.eol = eol;
        self.block.set_eol(eol);
    }
}

/// One SDP session description. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdp {
    session: Block,
    media: Vec<Media>,
    unterminated: bool,
}

/// One line of input: its text, its line end (`None` after the last line) and its number.
struct RawLine<'a> {
    text: &'a str,
    eol: Option<Eol>,
    no: usize,
}

fn split_lines(text: &str) -> Result<Vec<RawLine<'_>>, SdpError> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut no = 0;
    while !rest.is_empty() {
        no += 1;
        // Byte searches (SIMD): '\n' and '\r' are ASCII, so the slices stay on char boundaries.
        let (line, eol, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                let (l, eol) = match rest[..i].strip_suffix('\r') {
                    Some(l) => (l, Eol::CrLf),
                    None => (&rest[..i], Eol::Lf),
                };
                (l, Some(eol), &rest[i + 1..])
            }
            None => (rest, None, ""),
        };
        if memchr::memchr(b'\r', line.as_bytes()).is_some() {
            return Err(SdpError::Syntax {
                line: Some(no),
                msg: "carriage return not followed by line feed".into(),
            });
        }
        if line.is_empty() {
            return Err(SdpError::Syntax {
                line: Some(no),
                msg: "empty line".into(),
            });
        }
        out.push(RawLine {
            text: line,
            eol,
            no,
        });
        rest = next;
    }
    Ok(out)
}

/// A line ready to be placed: kind, value, line end, input number.
pub(crate) struct Parsed {
    pub(crate) kind: char,
    pub(crate) value: String,
    pub(crate) eol: Option<Eol>,
    pub(crate) no: usize,
}

impl Sdp {
    /// A session description holding only `v=0` (the H.248 minimum), with line ends `eol`.
    pub fn new(eol: Eol) -> Sdp {
        let mut session = Block::new(Level::Session, eol);
        session.lines.push(Line {
            kind: 'v',
            value: "0".into(),
            eol,
            no: None,
        });
        Sdp {
            session,
            media: Vec::new(),
            unterminated: false,
        }
    }

    /// Read exactly one session description. A second `v=` line is an error
    /// ([`SdpError::MultipleSessions`]); use [`Sdp::parse_all`] for H.248 alternatives.
    pub fn parse(text: &str) -> Result<Sdp, SdpError> {
        let mut all = Sdp::parse_all(text)?;
        if all.len() > 1 {
            let line = all[1].lines().next().and_then(Line::line_no).unwrap_or(0);
            return Err(SdpError::MultipleSessions { line });
        }
        all.pop().ok_or(SdpError::Empty)
    }

    /// Read any number of session descriptions, each starting at a `v=` line (the first one
    /// may start without; H.248 relaxed). Empty text gives none. Writing them one after the
    /// other ([`Sdp::write_all`]) gives the text back.
    pub fn parse_all(text: &str) -> Result<Vec<Sdp>, SdpError> {
        let mut lines = Vec::new();
        for raw in split_lines(text)? {
            // Byte search: '=' is ASCII, so both sides are `str` slices.
            let eq = memchr::memchr(b'=', raw.text.as_bytes());
            let Some((k, v)) = eq.map(|i| (&raw.text[..i], &raw.text[i + 1..])) else {
                return Err(SdpError::Syntax {
                    line: Some(raw.no),
                    msg: format!("expected '<type>=<value>', found '{}'", raw.text),
                });
            };
            let mut ch = k.chars();
            let kind = match (ch.next(), ch.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(SdpError::Syntax {
                        line: Some(raw.no),
                        msg: format!("line type '{k}' is not a single letter"),
                    })
                }
            };
            lines.push(Parsed {
                kind,
                value: v.to_string(),
                eol: raw.eol,
                no: raw.no,
            });
        }
        Sdp::build_all(lines)
    }

    /// Split checked lines into session descriptions at `v=` lines.
    pub(crate) fn build_all(lines: Vec<Parsed>) -> Result<Vec<Sdp>, SdpError> {
        let mut out = Vec::new();
        let mut cur: Vec<Parsed> = Vec::new();
        for p in lines {
            check_line(p.kind, &p.value).map_err(|msg| SdpError::Syntax {
                line: Some(p.no),
                msg,
            })?;
            if p.kind == 'v' && !cur.is_empty() {
                out.push(Sdp::build(std::mem::take(&mut cur)));
            }
            cur.push(p);
        }
        if !cur.is_empty() {
            out.push(Sdp::build(cur));
        }
        Ok(out)
    }

    /// Build one from checked, non-empty lines (at most the first a `v=`).
    fn build(lines: Vec<Parsed>) -> Sdp {
        let default = lines.first().and_then(|p| p.eol).unwrap_or_default();
        let unterminated = lines.last().is_some_and(|p| p.eol.is_none());
        let mut sdp = Sdp {
            session: Block::new(Level::Session, default),
            media: Vec::new(),
            unterminated,
        };
        for p in lines {
            let line = Line {
                kind: p.kind,
                value: p.value,
                eol: p.eol.unwrap_or(default),
                no: Some(p.no),
            };
            if line.kind == 'm' {
                sdp.media.push(Media {
                    m: line,
                    block: Block::new(Level::Media, default),
                });
            } else if let Some(m) = sdp.media.last_mut() {
                m.block.lines.push(line);
            } else {
                sdp.session.lines.push(line);
            }
        }
        sdp
    }

    /// Write several session descriptions one after the other (inverse of
    /// [`Sdp::parse_all`]).
    pub fn write_all(sdps: &[Sdp]) -> String {
        sdps.iter().map(Sdp::to_string).collect()
    }

    /// The session-level lines (everything before the first `m=`).
    pub fn session(&self) -> &Block {
        &self.session
    }

    /// The session-level lines, for editing.
    pub fn session_mut(&mut self) -> &mut Block {
        &mut self.session
    }

    /// Media sections in order.
    pub fn media(&self) -> &[Media] {
        &self.media
    }

    /// Media sections, for editing.
    pub fn media_mut(&mut self) -> &mut [Media] {
        &mut self.media
    }

    /// Append a media section (its line ends become the session's).
    pub fn push_media(&mut self, mut m: Media) -> &mut Media {
        m.set_eol(self.session.eol);
        self.media.push(m);
        let i = self.media.len() - 1;
        &mut self.media[i]
    }

    /// Insert a media section at `index` (its line ends become the session's).
    ///
    /// # Panics
    /// If `index > media().len()`.
    pub fn insert_media(&mut self, index: usize, mut m: Media) {
        m.set_eol(self.session.eol);
        self.media.insert(index, m);
    }

    /// Remove and return a media section.
    ///
    /// # Panics
    /// If `index >= media().len()`.
    pub fn remove_media(&mut self, index: usize) -> Media {
        self.media.remove(index)
    }

    /// All lines in order.
    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        self.session
            .lines()
            .iter()
            .chain(self.media.iter().flat_map(Media::all_lines))
    }

    /// The line end used for new lines (that of the first line).
    pub fn line_ending(&self) -> Eol {
        self.session.eol
    }

    /// Use `eol` for every line (e.g. CRLF for SIP, LF for H.248 text).
    pub fn set_line_ending(&mut self, eol: Eol) {
        self.session.set_eol(eol);
        for m in &mut self.media {
            m.set_eol(eol);
        }
    }

    /// Does the text end with a line end? (Always, unless parsed from text whose last line had
    /// none.)
    pub fn is_terminated(&self) -> bool {
        !self.unterminated
    }

    /// Write (`true`) or omit (`false`) the line end after the last line.
    pub fn set_terminated(&mut self, yes: bool) {
        self.unterminated = !yes;
    }

    /// Check the rules of full RFC 8866 SDP that [`Sdp::parse`] relaxes for H.248: the first
    /// line is `v=`; exactly one `o=` and one `s=`, at least one `t=`; session-level lines in
    /// the order `v o s i u e p c b t r z k a` and media-level ones in the order `i c b k a`;
    /// no other line types; `c=` at session level or in every media section; no CHOOSE (`$`)
    /// in `o=`, `c=`, `m=`, `t=`, `b=`. For SDP received over SIP (a failure is a 488 there).
    pub fn check_strict(&self) -> Result<(), SdpError> {
        let err = |l: &Line, msg: String| SdpError::Syntax { line: l.no, msg };
        const SESSION: &str = "vosiuepcbtrzka";
        const MEDIA: &str = "icbka";
        let rank = |order: &str, k: char| match k {
            'r' => order.find('t'),
            _ => order.find(k),
        };
        let Some(first) = self.session.lines.first() else {
            return Err(SdpError::invalid("SDP", "no v= line"));
        };
        if first.kind != 'v' {
            return Err(err(first, "the first line must be v=".into()));
        }
        let mut last = 0;
        for l in &self.session.lines {
            let Some(r) = rank(SESSION, l.kind) else {
                return Err(err(
                    l,
                    format!("{}= is not a session-level line type", l.kind),
                ));
            };
            if r < last {
                return Err(err(
                    l,
                    format!(
                        "{}= is out of order (session level: v o s i u e p c b t r z k a)",
                        l.kind
                    ),
                ));
            }
            last = r;
        }
        for (kind, name) in [('o', "o="), ('s', "s=")] {
            let n = self.session.lines.iter().filter(|l| l.kind == kind).count();
            if n != 1 {
                return Err(SdpError::invalid(
                    "SDP",
                    format!("{name} must appear exactly once at session level, found {n}"),
                ));
            }
        }
        if !self.session.lines.iter().any(|l| l.kind == 't') {
            return Err(SdpError::invalid("SDP", "no t= line"));
        }
        for m in &self.media {
            let mut last = 0;
            for l in m.block.lines() {
                let Some(r) = rank(MEDIA, l.kind) else {
                    return Err(err(
                        l,
                        format!("{}= is not a media-level line type", l.kind),
                    ));
                };
                if r < last {
                    return Err(err(
                        l,
                        format!("{}= is out of order (media level: m i c b k a)", l.kind),
                    ));
                }
                last = r;
            }
            if self.session.connection().is_none() && m.connection().is_none() {
                return Err(err(
                    &m.m,
                    "no c= line for this media section nor at session level".into(),
                ));
            }
        }
        for l in self.lines() {
            let choose = match l.kind {
                'o' | 'c' | 't' => l.value.split_ascii_whitespace().any(|w| w == "$"),
                'm' => l
                    .value
                    .split_ascii_whitespace()
                    .nth(1)
                    .is_some_and(|p| p.split('/').next() == Some("$")),
                'b' => l.value.ends_with(":$"),
                _ => false,
            };
            if choose {
                return Err(err(
                    l,
                    format!("{}= has the H.248 CHOOSE wildcard $", l.kind),
                ));
            }
        }
        Ok(())
    }

    /// The `v=` value (`0`), if there is a `v=` line.
    pub fn version(&self) -> Option<&str> {
        self.session.first_value('v')
    }

    /// `o=`, if present.
    pub fn origin(&self) -> Option<Origin> {
        self.session
            .first_value('o')
            .and_then(|v| Origin::parse_str(v).ok())
    }

    /// Replace (in place) or add `o=`.
    pub fn set_origin(&mut self, o: &Origin) -> Result<(), SdpError> {
        self.session.set_line('o', &o.to_string())
    }

    /// `s=`, if present.
    pub fn session_name(&self) -> Option<&str> {
        self.session.first_value('s')
    }

    /// Replace (in place) or add `s=`.
    pub fn set_session_name(&mut self, s: &str) -> Result<(), SdpError> {
        self.session.set_line('s', s)
    }

    /// The connection data that applies to media section `i`: its own `c=`, else the session's.
    pub fn effective_connection(&self, i: usize) -> Option<Connection> {
        self.media
            .get(i)
            .and_then(|m| m.connection())
            .or_else(|| self.session.connection())
    }

    /// The fingerprints that apply to media section `i`: its own if it has any, else the
    /// session-level ones (RFC 8122).
    pub fn effective_fingerprints(&self, i: usize) -> Result<Vec<FingerprintAttr>, SdpError> {
        if let Some(m) = self.media.get(i) {
            let own = m.fingerprints()?;
            if !own.is_empty() {
                return Ok(own);
            }
        }
        self.session.fingerprints()
    }

    /// `a=setup` of media section `i`, else the session-level one.
    pub fn effective_setup(&self, i: usize) -> Result<Option<Setup>, SdpError> {
        if let Some(s) = self.media.get(i).map(|m| m.setup()).transpose()?.flatten() {
            return Ok(Some(s));
        }
        self.session.setup()
    }

    /// The direction of media section `i`: its own attribute, else the session's, else
    /// `sendrecv` (RFC 8866 6.7).
    pub fn effective_direction(&self, i: usize) -> Result<Direction, SdpError> {
        if let Some(d) = self
            .media
            .get(i)
            .map(|m| m.direction())
            .transpose()?
            .flatten()
        {
            return Ok(d);
        }
        Ok(self.session.direction()?.unwrap_or(Direction::SendRecv))
    }

    /// `a=ice-ufrag` of media section `i`, else the session-level one.
    pub fn effective_ice_ufrag(&self, i: usize) -> Result<Option<Choosable<String>>, SdpError> {
        if let Some(s) = self
            .media
            .get(i)
            .map(|m| m.ice_ufrag())
            .transpose()?
            .flatten()
        {
            return Ok(Some(s));
        }
        self.session.ice_ufrag()
    }

    /// `a=ice-pwd` of media section `i`, else the session-level one.
    pub fn effective_ice_pwd(&self, i: usize) -> Result<Option<Choosable<String>>, SdpError> {
        if let Some(s) = self
            .media
            .get(i)
            .map(|m| m.ice_pwd())
            .transpose()?
            .flatten()
        {
            return Ok(Some(s));
        }
        self.session.ice_pwd()
    }

    /// Move the session-level `a=<name>` lines into every media section that has none of its
    /// own (placed as [`Block::add_attr`] places them), then remove them from the session
    /// level. Returns how many session-level lines were moved. Used e.g. for
    /// `a=fingerprint`, whose session-level form H.248 Remote descriptors carry per stream.
    pub fn move_session_attr_to_media(&mut self, name: &str) -> usize {
        let lines: Vec<Line> = self
            .session
            .lines()
            .iter()
            .filter(|l| l.is_attr(name))
            .cloned()
            .collect();
        if lines.is_empty() {
            return 0;
        }
        for m in &mut self.media {
            if m.has_attr(name) {
                continue;
            }
            for l in &lines {
                let mut l = l.clone();
                l.no = None;
                m.block.insert_attr_line(l);
            }
        }
        self.session.remove_attr(name)
    }
}

impl fmt::Display for Sdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut it = self.lines().peekable();
        while let Some(l) = it.next() {
            l.write(f, self.unterminated && it.peek().is_none())?;
        }
        Ok(())
    }
}

impl fmt::Display for Media {
    /// The section's lines (`m=` first), each with its line end.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.all_lines().try_for_each(|l| l.write(f, false))
    }
}

impl std::str::FromStr for Sdp {
    type Err = SdpError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sdp::parse(s)
    }
}

/// Serialized as its text.
impl serde::Serialize for Sdp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Deserialized from its text.
impl<'de> serde::Deserialize<'de> for Sdp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sdp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_match_whole_and_ignoring_case() {
        let l = |v: &str| Line::new('a', v).unwrap();
        assert!(l("rtcp-mux").is_attr("rtcp-mux"));
        assert!(l("RTCP-Mux").is_attr("rtcp-mux"));
        assert!(
            !l("rtcp-mux").is_attr("rtcp"),
            "a prefix of the name is another name"
        );
        assert!(!l("rtcp").is_attr("rtcp-mux"));
        assert!(l("rtcp:9 IN IP4 0.0.0.0").is_attr("rtcp"));
        assert!(!l("rtcpx:9").is_attr("rtcp"));
        assert!(l("setup:actpass").is_attr("SETUP"));
        assert!(
            !Line::new('b', "AS:64").unwrap().is_attr("AS"),
            "only a= lines"
        );
        assert_eq!(
            l("fingerprint:sha-256 AB:CD").attr_name(),
            Some("fingerprint")
        );
        assert_eq!(
            l("fingerprint:sha-256 AB:CD").attr_value(),
            Some("sha-256 AB:CD")
        );
        assert_eq!(l("ice-lite").attr_value(), None);
        assert_eq!(l("ice-lite").attr_name(), Some("ice-lite"));
        assert!(Line::new('a', "bad\rname").is_err());
        assert!(Line::new('a', "x:\u{e9}\0").is_err());
    }

    #[test]
    fn set_port_replaces_the_port_only() {
        let mut sdp = Sdp::parse(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
             m=audio 9/2 RTP/AVP 0 8\r\nm=video  5004  RTP/AVP 96\r\n",
        )
        .unwrap();
        sdp.media_mut()[0].set_port(Choosable::Value(40000));
        sdp.media_mut()[1].set_port(Choosable::Choose);
        let m = &sdp.media()[0];
        assert_eq!(m.port(), Choosable::Value(40000));
        assert_eq!(m.media_line().port_count, Some(2));
        assert_eq!(m.media_line().fmts, ["0", "8"]);
        assert_eq!(sdp.media()[1].port(), Choosable::Choose);
        let text = sdp.to_string();
        assert!(text.contains("m=audio 40000/2 RTP/AVP 0 8\r\n"), "{text}");
        assert!(text.contains("m=video  $  RTP/AVP 96\r\n"), "{text}");
        assert_eq!(Sdp::parse(&text).unwrap(), sdp);
    }
}
