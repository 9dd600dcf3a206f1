//! The lines of one level (session, or one media section after its `m=` line) and the typed
//! access to them.

use super::attrs::{
    ice_credential, Candidate, Crypto, Direction, FingerprintAttr, Fmtp, Group, Msid, Rtcp, RtcpFb,
    RtpMap, Setup, Ssrc, SsrcGroup, TlsId,
};
use super::fields::{Bandwidth, Choosable, Connection};
use super::{Eol, Level, Line, SdpError};

/// Lines of one level: the session level (everything before the first `m=`), or a media
/// section after its `m=` line ([`Media`](super::Media) dereferences to this).
///
/// Attribute names are matched ignoring ASCII case. Typed getters return `Err` naming the line
/// when a value does not parse, and for single-valued attributes (`setup`, `tls-id`, `mid`,
/// `ice-ufrag`, `ice-pwd`, `rtcp`, `ptime`, `maxptime`, direction) when they appear twice.
/// Setters replace the first existing line in place (and drop further ones), or add the line
/// where RFC 8866 puts it: attributes after the last attribute of the same name, else at the
/// end; other lines in the RFC 8866 order (`c=` after `i=`, `b=` after `c=`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Block {
    pub(crate) lines: Vec<Line>,
    level: Level,
    pub(crate) eol: Eol,
}

/// Attributes of ICE (RFC 8839, 8445, 8840) that [`Block::remove_ice`] drops.
pub const ICE_ATTRIBUTES: &[&str] = &[
    "ice-ufrag",
    "ice-pwd",
    "ice-lite",
    "ice-options",
    "ice-mismatch",
    "ice-pacing",
    "candidate",
    "remote-candidates",
    "end-of-candidates",
];

/// Attributes of DTLS (RFC 8122, 4145, 8842) that [`Block::remove_dtls`] drops.
pub const DTLS_ATTRIBUTES: &[&str] = &["fingerprint", "setup", "tls-id"];

fn attr_err(l: &Line, msg: impl Into<String>) -> SdpError {
    SdpError::Attribute {
        line: l.no,
        name: l.attr_name().unwrap_or("").to_string(),
        msg: msg.into(),
    }
}

/// Typed getters read a value without surrounding blanks (tolerated; the line keeps them).
fn trim(v: &str) -> &str {
    v.trim_matches([' ', '\t'])
}

fn positive_real(s: &str) -> Result<f64, String> {
    let ok = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|&b| b == b'.').count() <= 1
        && s.bytes().next().is_some_and(|b| b.is_ascii_digit());
    match s.parse::<f64>() {
        Ok(v) if ok && v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("'{s}' is not a positive number")),
    }
}

impl Block {
    pub(crate) fn new(level: Level, eol: Eol) -> Self {
        Block {
            lines: Vec::new(),
            level,
            eol,
        }
    }

    pub(crate) fn set_eol(&mut self, eol: Eol) {
        self.eol = eol;
        for l in &mut self.lines {
            l.eol = eol;
        }
    }

    /// The lines, in order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    pub(crate) fn first_value(&self, kind: char) -> Option<&str> {
        self.lines
            .iter()
            .find(|l| l.kind == kind)
            .map(|l| l.value.as_str())
    }

    /// RFC 8866 order of line types in this level (unknown types go with the attributes).
    fn rank(&self, kind: char) -> usize {
        let order = match self.level {
            Level::Session => "vosiuepcbtrzka",
            Level::Media => "icbka",
        };
        // Line types are ASCII: a byte search, not a char pattern.
        u8::try_from(kind)
            .ok()
            .and_then(|k| order.bytes().position(|b| b == k))
            .unwrap_or(order.len() - 1)
    }

    fn check_raw(line: &Line) -> Result<(), SdpError> {
        if matches!(line.kind, 'v' | 'm') {
            return Err(SdpError::Syntax {
                line: None,
                msg: format!(
                    "a {}= line cannot be put into a block (use Sdp::new / Sdp::push_media)",
                    line.kind
                ),
            });
        }
        Ok(())
    }

    /// Add a line where RFC 8866 orders it (an `a=` line after the last attribute of the same
    /// name, else at the end). `v=` and `m=` lines are refused.
    pub fn add_line(&mut self, mut line: Line) -> Result<(), SdpError> {
        Self::check_raw(&line)?;
        line.eol = self.eol;
        if line.kind == 'a' {
            self.insert_attr_line(line);
        } else {
            let r = self.rank(line.kind);
            let pos = self
                .lines
                .iter()
                .rposition(|l| self.rank(l.kind) <= r)
                .map_or(0, |i| i + 1);
            self.lines.insert(pos, line);
        }
        Ok(())
    }

    /// Insert a line at `index` (0 = first line of the block). `v=` and `m=` lines, and an
    /// index past the end, are refused.
    pub fn insert_line(&mut self, index: usize, mut line: Line) -> Result<(), SdpError> {
        Self::check_raw(&line)?;
        if index > self.lines.len() {
            return Err(SdpError::invalid(
                "line index",
                format!("{index} is past the end ({} lines)", self.lines.len()),
            ));
        }
        line.eol = self.eol;
        self.lines.insert(index, line);
        Ok(())
    }

    /// Remove and return the line at `index`.
    pub fn remove_line(&mut self, index: usize) -> Option<Line> {
        (index < self.lines.len()).then(|| self.lines.remove(index))
    }

    /// Keep only the lines for which `keep` is true.
    pub fn retain_lines(&mut self, keep: impl FnMut(&Line) -> bool) {
        self.lines.retain(keep);
    }

    /// Replace the first line of `kind` in place (dropping further ones) or add one.
    pub(crate) fn set_line(&mut self, kind: char, value: &str) -> Result<(), SdpError> {
        let new = Line::new(kind, value)?;
        match self.lines.iter().position(|l| l.kind == kind) {
            Some(i) => {
                self.lines[i].value = new.value;
                self.lines[i].no = None;
                let mut seen = 0;
                self.lines.retain(|l| {
                    if l.kind == kind {
                        seen += 1;
                        seen == 1
                    } else {
                        true
                    }
                });
                Ok(())
            }
            None => self.add_line(new),
        }
    }

    fn remove_kind(&mut self, kind: char) -> usize {
        let n = self.lines.len();
        self.lines.retain(|l| l.kind != kind);
        n - self.lines.len()
    }

    // -----------------------------------------------------------------------------------------
    // generic attributes

    /// All attributes as (name, value) in order; the value is `None` for a flag (`a=rtcp-mux`).
    pub fn attributes(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.lines
            .iter()
            .filter(|l| l.kind == 'a')
            .map(|l| (l.attr_name().unwrap_or(""), l.attr_value()))
    }

    fn attr_lines<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a Line> + use<'a, 'n> {
        self.lines.iter().filter(move |l| l.is_attr(name))
    }

    /// Is there an `a=<name>` line (flag or with value)?
    pub fn has_attr(&self, name: &str) -> bool {
        self.attr_lines(name).next().is_some()
    }

    /// The value of the first `a=<name>:<value>` line (`None` if absent or a flag).
    pub fn attr_value(&self, name: &str) -> Option<&str> {
        self.attr_lines(name).next().and_then(Line::attr_value)
    }

    /// The values of all `a=<name>:<value>` lines.
    pub fn attr_values(&self, name: &str) -> Vec<&str> {
        self.attr_lines(name).filter_map(Line::attr_value).collect()
    }

    pub(crate) fn insert_attr_line(&mut self, mut line: Line) {
        line.eol = self.eol;
        let name = line.attr_name().unwrap_or("");
        let pos = self
            .lines
            .iter()
            .rposition(|l| l.is_attr(name))
            .map_or(self.lines.len(), |i| i + 1);
        self.lines.insert(pos, line);
    }

    /// Add `a=<name>` / `a=<name>:<value>` after the last attribute of that name, else at the
    /// end.
    pub fn add_attr(&mut self, name: &str, value: Option<&str>) -> Result<(), SdpError> {
        let l = Line::attribute(name, value)?;
        self.insert_attr_line(l);
        Ok(())
    }

    /// Replace the first `a=<name>` line in place (dropping further ones), or add one.
    pub fn set_attr(&mut self, name: &str, value: Option<&str>) -> Result<(), SdpError> {
        let new = Line::attribute(name, value)?;
        match self.lines.iter().position(|l| l.is_attr(name)) {
            Some(i) => {
                self.lines[i].value = new.value;
                self.lines[i].no = None;
                let mut first = true;
                self.lines.retain(|l| {
                    if l.is_attr(name) {
                        std::mem::take(&mut first)
                    } else {
                        true
                    }
                });
            }
            None => self.insert_attr_line(new),
        }
        Ok(())
    }

    /// Remove every `a=<name>` line; returns how many.
    pub fn remove_attr(&mut self, name: &str) -> usize {
        let n = self.lines.len();
        self.lines.retain(|l| !l.is_attr(name));
        n - self.lines.len()
    }

    /// Set (`true`) or remove (`false`) a flag attribute such as `a=rtcp-mux`.
    pub fn set_flag(&mut self, name: &str, on: bool) -> Result<(), SdpError> {
        if on {
            if !self.has_attr(name) {
                self.add_attr(name, None)?;
            }
        } else {
            self.remove_attr(name);
        }
        Ok(())
    }

    fn typed_all<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, SdpError> {
        self.attr_lines(name)
            .map(|l| match l.attr_value() {
                Some(v) => parse(trim(v)).map_err(|m| attr_err(l, m)),
                None => Err(attr_err(l, "missing value")),
            })
            .collect()
    }

    fn typed_one<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, SdpError> {
        let mut it = self.attr_lines(name);
        let Some(first) = it.next() else {
            return Ok(None);
        };
        if let Some(second) = it.next() {
            return Err(attr_err(
                second,
                format!(
                    "appears more than once (first {})",
                    first
                        .no
                        .map_or("an added line".to_string(), |n| format!("on line {n}"))
                ),
            ));
        }
        match first.attr_value() {
            Some(v) => parse(trim(v)).map(Some).map_err(|m| attr_err(first, m)),
            None => Err(attr_err(first, "missing value")),
        }
    }

    // -----------------------------------------------------------------------------------------
    // c=, b=

    /// `c=` (the first one), if any.
    pub fn connection(&self) -> Option<Connection> {
        self.first_value('c')
            .and_then(|v| Connection::parse_str(v).ok())
    }

    /// Replace (in place) or add `c=`.
    pub fn set_connection(&mut self, c: &Connection) -> Result<(), SdpError> {
        let text = c.to_string();
        Connection::check(&text).map_err(|m| SdpError::invalid("connection", m))?;
        self.set_line('c', &text)
    }

    /// Remove `c=` lines; returns how many.
    pub fn remove_connection(&mut self) -> usize {
        self.remove_kind('c')
    }

    /// `b=` lines.
    pub fn bandwidths(&self) -> Vec<Bandwidth> {
        self.lines
            .iter()
            .filter(|l| l.kind == 'b')
            .filter_map(|l| Bandwidth::parse_str(&l.value).ok())
            .collect()
    }

    /// Replace (in place) the `b=` line of the same type, or add one.
    pub fn set_bandwidth(&mut self, b: &Bandwidth) -> Result<(), SdpError> {
        let new = Line::new('b', b.to_string())?;
        let same = |l: &Line| {
            l.kind == 'b'
                && Bandwidth::parse_str(&l.value)
                    .is_ok_and(|x| x.bwtype.eq_ignore_ascii_case(&b.bwtype))
        };
        match self.lines.iter().position(same) {
            Some(i) => {
                self.lines[i].value = new.value;
                self.lines[i].no = None;
                Ok(())
            }
            None => self.add_line(new),
        }
    }

    /// Remove all `b=` lines; returns how many.
    pub fn remove_bandwidths(&mut self) -> usize {
        self.remove_kind('b')
    }

    // -----------------------------------------------------------------------------------------
    // DTLS

    /// `a=fingerprint` lines (several allowed, RFC 8122), including the CHOOSE forms.
    pub fn fingerprints(&self) -> Result<Vec<FingerprintAttr>, SdpError> {
        self.typed_all("fingerprint", FingerprintAttr::parse_str)
    }

    /// Add an `a=fingerprint` line (after the existing ones).
    pub fn add_fingerprint(&mut self, f: &FingerprintAttr) -> Result<(), SdpError> {
        self.add_attr("fingerprint", Some(&f.to_string()))
    }

    /// Replace all `a=fingerprint` lines by `fs` (at the place of the first old one).
    pub fn set_fingerprints(&mut self, fs: &[FingerprintAttr]) -> Result<(), SdpError> {
        let pos = self.lines.iter().position(|l| l.is_attr("fingerprint"));
        self.remove_attr("fingerprint");
        match pos {
            Some(mut i) => {
                for f in fs {
                    let mut l = Line::attribute("fingerprint", Some(&f.to_string()))?;
                    l.eol = self.eol;
                    self.lines.insert(i, l);
                    i += 1;
                }
            }
            None => {
                for f in fs {
                    self.add_fingerprint(f)?;
                }
            }
        }
        Ok(())
    }

    /// Remove all `a=fingerprint` lines; returns how many.
    pub fn remove_fingerprints(&mut self) -> usize {
        self.remove_attr("fingerprint")
    }

    /// `a=setup`.
    pub fn setup(&self) -> Result<Option<Setup>, SdpError> {
        self.typed_one("setup", Setup::parse_str)
    }

    /// Replace (in place) or add `a=setup`.
    pub fn set_setup(&mut self, s: Setup) -> Result<(), SdpError> {
        self.set_attr("setup", Some(s.as_str()))
    }

    /// Remove `a=setup`; returns how many lines.
    pub fn remove_setup(&mut self) -> usize {
        self.remove_attr("setup")
    }

    /// `a=tls-id` (RFC 8842), validated.
    pub fn tls_id(&self) -> Result<Option<TlsId>, SdpError> {
        self.typed_one("tls-id", TlsId::parse_str)
    }

    /// Replace (in place) or add `a=tls-id`.
    pub fn set_tls_id(&mut self, id: &TlsId) -> Result<(), SdpError> {
        self.set_attr("tls-id", Some(id.as_str()))
    }

    /// Remove `a=tls-id`; returns how many lines.
    pub fn remove_tls_id(&mut self) -> usize {
        self.remove_attr("tls-id")
    }

    /// Remove `a=fingerprint`, `a=setup` and `a=tls-id` ([`DTLS_ATTRIBUTES`]); returns how many
    /// lines.
    pub fn remove_dtls(&mut self) -> usize {
        DTLS_ATTRIBUTES.iter().map(|n| self.remove_attr(n)).sum()
    }

    // -----------------------------------------------------------------------------------------
    // ICE

    /// `a=ice-ufrag` (4 to 256 ice-chars, or `$`).
    pub fn ice_ufrag(&self) -> Result<Option<Choosable<String>>, SdpError> {
        self.typed_one("ice-ufrag", |v| ice_credential(v, "ice-ufrag", 4))
    }

    /// Replace (in place) or add `a=ice-ufrag` (checked like the getter).
    pub fn set_ice_ufrag(&mut self, v: Choosable<&str>) -> Result<(), SdpError> {
        let s = v.value().copied().unwrap_or("$");
        ice_credential(s, "ice-ufrag", 4).map_err(|m| SdpError::invalid("ice-ufrag", m))?;
        self.set_attr("ice-ufrag", Some(s))
    }

    /// `a=ice-pwd` (22 to 256 ice-chars, or `$`).
    pub fn ice_pwd(&self) -> Result<Option<Choosable<String>>, SdpError> {
        self.typed_one("ice-pwd", |v| ice_credential(v, "ice-pwd", 22))
    }

    /// Replace (in place) or add `a=ice-pwd` (checked like the getter).
    pub fn set_ice_pwd(&mut self, v: Choosable<&str>) -> Result<(), SdpError> {
        let s = v.value().copied().unwrap_or("$");
        ice_credential(s, "ice-pwd", 22).map_err(|m| SdpError::invalid("ice-pwd", m))?;
        self.set_attr("ice-pwd", Some(s))
    }

    /// `a=ice-lite` present?
    pub fn ice_lite(&self) -> bool {
        self.has_attr("ice-lite")
    }

    /// Add or remove `a=ice-lite`.
    pub fn set_ice_lite(&mut self, on: bool) -> Result<(), SdpError> {
        self.set_flag("ice-lite", on)
    }

    /// `a=ice-options` tokens (all lines).
    pub fn ice_options(&self) -> Vec<String> {
        self.attr_values("ice-options")
            .into_iter()
            .flat_map(str::split_ascii_whitespace)
            .map(str::to_string)
            .collect()
    }

    /// Replace (in place) or add `a=ice-options:<tokens>`; an empty list removes it.
    pub fn set_ice_options<S: AsRef<str>>(&mut self, opts: &[S]) -> Result<(), SdpError> {
        if opts.is_empty() {
            self.remove_attr("ice-options");
            return Ok(());
        }
        let v: Vec<&str> = opts.iter().map(AsRef::as_ref).collect();
        if let Some(bad) = v.iter().find(|o| !super::fields::is_token(o)) {
            return Err(SdpError::invalid(
                "ice-options",
                format!("'{bad}' is not a token"),
            ));
        }
        self.set_attr("ice-options", Some(&v.join(" ")))
    }

    /// `a=candidate` lines.
    pub fn candidates(&self) -> Result<Vec<Candidate>, SdpError> {
        self.typed_all("candidate", Candidate::parse_str)
    }

    /// Add an `a=candidate` line (after the existing ones).
    pub fn add_candidate(&mut self, c: &Candidate) -> Result<(), SdpError> {
        self.add_attr("candidate", Some(&c.to_string()))
    }

    /// Remove all `a=candidate` lines; returns how many.
    pub fn remove_candidates(&mut self) -> usize {
        self.remove_attr("candidate")
    }

    /// `a=end-of-candidates` present?
    pub fn end_of_candidates(&self) -> bool {
        self.has_attr("end-of-candidates")
    }

    /// Add or remove `a=end-of-candidates`.
    pub fn set_end_of_candidates(&mut self, on: bool) -> Result<(), SdpError> {
        self.set_flag("end-of-candidates", on)
    }

    /// Remove all ICE attributes ([`ICE_ATTRIBUTES`]); returns how many lines.
    pub fn remove_ice(&mut self) -> usize {
        ICE_ATTRIBUTES.iter().map(|n| self.remove_attr(n)).sum()
    }

    // -----------------------------------------------------------------------------------------
    // RTP / RTCP

    /// `a=rtcp-mux` present?
    pub fn rtcp_mux(&self) -> bool {
        self.has_attr("rtcp-mux")
    }

    /// Add or remove `a=rtcp-mux`.
    pub fn set_rtcp_mux(&mut self, on: bool) -> Result<(), SdpError> {
        self.set_flag("rtcp-mux", on)
    }

    /// `a=rtcp-rsize` present?
    pub fn rtcp_rsize(&self) -> bool {
        self.has_attr("rtcp-rsize")
    }

    /// Add or remove `a=rtcp-rsize`.
    pub fn set_rtcp_rsize(&mut self, on: bool) -> Result<(), SdpError> {
        self.set_flag("rtcp-rsize", on)
    }

    /// `a=rtcp` (RFC 3605).
    pub fn rtcp(&self) -> Result<Option<Rtcp>, SdpError> {
        self.typed_one("rtcp", Rtcp::parse_str)
    }

    /// Replace (in place) or add `a=rtcp`.
    pub fn set_rtcp(&mut self, r: &Rtcp) -> Result<(), SdpError> {
        self.set_attr("rtcp", Some(&r.to_string()))
    }

    /// `a=rtpmap` lines.
    pub fn rtpmaps(&self) -> Result<Vec<RtpMap>, SdpError> {
        self.typed_all("rtpmap", RtpMap::parse_str)
    }

    /// The `a=rtpmap` of one payload type.
    pub fn rtpmap(&self, pt: u8) -> Result<Option<RtpMap>, SdpError> {
        Ok(self.rtpmaps()?.into_iter().find(|r| r.payload_type == pt))
    }

    /// Add an `a=rtpmap` line.
    pub fn add_rtpmap(&mut self, r: &RtpMap) -> Result<(), SdpError> {
        self.add_attr("rtpmap", Some(&r.to_string()))
    }

    /// `a=fmtp` lines.
    pub fn fmtps(&self) -> Result<Vec<Fmtp>, SdpError> {
        self.typed_all("fmtp", Fmtp::parse_str)
    }

    /// The `a=fmtp` of one format.
    pub fn fmtp(&self, fmt: &str) -> Result<Option<Fmtp>, SdpError> {
        Ok(self.fmtps()?.into_iter().find(|f| f.fmt == fmt))
    }

    /// `a=rtcp-fb` lines.
    pub fn rtcp_fbs(&self) -> Result<Vec<RtcpFb>, SdpError> {
        self.typed_all("rtcp-fb", RtcpFb::parse_str)
    }

    /// Keep only the `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines of the formats in `fmts`
    /// (`a=rtcp-fb:*` stays); returns how many lines were removed. Use after narrowing the
    /// `m=` format list.
    pub fn retain_formats<S: AsRef<str>>(&mut self, fmts: &[S]) -> usize {
        let n = self.lines.len();
        self.lines.retain(|l| {
            let per_format = ["rtpmap", "fmtp", "rtcp-fb"].iter().any(|a| l.is_attr(a));
            if !per_format {
                return true;
            }
            let f = l
                .attr_value()
                .and_then(|v| v.split_ascii_whitespace().next())
                .unwrap_or("");
            f == "*" || fmts.iter().any(|x| x.as_ref() == f)
        });
        n - self.lines.len()
    }

    /// `a=ptime` in milliseconds.
    pub fn ptime(&self) -> Result<Option<f64>, SdpError> {
        self.typed_one("ptime", positive_real)
    }

    /// `a=maxptime` in milliseconds.
    pub fn maxptime(&self) -> Result<Option<f64>, SdpError> {
        self.typed_one("maxptime", positive_real)
    }

    /// Replace (in place) or add `a=ptime` (whole milliseconds).
    pub fn set_ptime(&mut self, ms: u32) -> Result<(), SdpError> {
        self.set_attr("ptime", Some(&ms.to_string()))
    }

    /// Replace (in place) or add `a=maxptime` (whole milliseconds).
    pub fn set_maxptime(&mut self, ms: u32) -> Result<(), SdpError> {
        self.set_attr("maxptime", Some(&ms.to_string()))
    }

    /// Direction attribute of this level, if any (more than one is an error).
    pub fn direction(&self) -> Result<Option<Direction>, SdpError> {
        let mut found: Option<(Direction, &Line)> = None;
        for l in self.lines.iter().filter(|l| l.kind == 'a') {
            let Some(d) = l.attr_name().and_then(Direction::from_name) else {
                continue;
            };
            if let Some((_, first)) = found {
                return Err(attr_err(
                    l,
                    format!("a second direction attribute (first: a={})", first.value),
                ));
            }
            found = Some((d, l));
        }
        Ok(found.map(|(d, _)| d))
    }

    /// Set the direction: replaces the existing direction attribute in place, or adds one.
    pub fn set_direction(&mut self, d: Direction) -> Result<(), SdpError> {
        let is_dir = |l: &Line| l.attr_name().and_then(Direction::from_name).is_some();
        match self.lines.iter().position(is_dir) {
            Some(i) => {
                self.lines[i].value = d.as_str().to_string();
                self.lines[i].no = None;
                let mut first = true;
                self.lines
                    .retain(|l| !is_dir(l) || std::mem::take(&mut first));
                Ok(())
            }
            None => self.add_attr(d.as_str(), None),
        }
    }

    /// Remove every direction attribute; returns how many.
    pub fn remove_direction(&mut self) -> usize {
        let n = self.lines.len();
        self.lines
            .retain(|l| l.attr_name().and_then(Direction::from_name).is_none());
        n - self.lines.len()
    }

    // -----------------------------------------------------------------------------------------
    // grouping and identification

    /// `a=mid`.
    pub fn mid(&self) -> Result<Option<String>, SdpError> {
        self.typed_one("mid", |v| {
            if super::fields::is_word(v) {
                Ok(v.to_string())
            } else {
                Err(format!("'{v}' is not a valid identification tag"))
            }
        })
    }

    /// Replace (in place) or add `a=mid`.
    pub fn set_mid(&mut self, mid: &str) -> Result<(), SdpError> {
        if !super::fields::is_word(mid) {
            return Err(SdpError::invalid("mid", format!("'{mid}' is not valid")));
        }
        self.set_attr("mid", Some(mid))
    }

    /// `a=group` lines (session level).
    pub fn groups(&self) -> Result<Vec<Group>, SdpError> {
        self.typed_all("group", Group::parse_str)
    }

    /// The first `a=group:BUNDLE`.
    pub fn bundle(&self) -> Result<Option<Group>, SdpError> {
        Ok(self.groups()?.into_iter().find(Group::is_bundle))
    }

    /// Add an `a=group` line.
    pub fn add_group(&mut self, g: &Group) -> Result<(), SdpError> {
        self.add_attr("group", Some(&g.to_string()))
    }

    /// `a=msid` lines.
    pub fn msids(&self) -> Result<Vec<Msid>, SdpError> {
        self.typed_all("msid", Msid::parse_str)
    }

    /// `a=ssrc` lines.
    pub fn ssrcs(&self) -> Result<Vec<Ssrc>, SdpError> {
        self.typed_all("ssrc", Ssrc::parse_str)
    }

    /// `a=ssrc-group` lines.
    pub fn ssrc_groups(&self) -> Result<Vec<SsrcGroup>, SdpError> {
        self.typed_all("ssrc-group", SsrcGroup::parse_str)
    }

    // -----------------------------------------------------------------------------------------
    // SDES, data channel

    /// `a=crypto` lines (SDES, RFC 4568).
    pub fn cryptos(&self) -> Result<Vec<Crypto>, SdpError> {
        self.typed_all("crypto", Crypto::parse_str)
    }

    /// Add an `a=crypto` line.
    pub fn add_crypto(&mut self, c: &Crypto) -> Result<(), SdpError> {
        self.add_attr("crypto", Some(&c.to_string()))
    }

    /// Remove all `a=crypto` lines; returns how many.
    pub fn remove_cryptos(&mut self) -> usize {
        self.remove_attr("crypto")
    }

    /// `a=sctp-port` (RFC 8841).
    pub fn sctp_port(&self) -> Result<Option<u16>, SdpError> {
        self.typed_one("sctp-port", |v| {
            v.parse::<u16>()
                .map_err(|_| format!("'{v}' is not a port number"))
        })
    }

    /// `a=max-message-size` (RFC 8841).
    pub fn max_message_size(&self) -> Result<Option<u64>, SdpError> {
        self.typed_one("max-message-size", |v| {
            v.parse::<u64>()
                .map_err(|_| format!("'{v}' is not a number"))
        })
    }
}
