//! Annex B encoder: pretty (long tokens, one item per line, indented) and compact (short tokens,
//! no optional white space).

use super::tokens::{self as t, Kw};
use crate::model::*;
use std::fmt::Write;

pub(crate) struct Encoder {
    out: String,
    compact: bool,
    /// Protocol version of the message being written.
    version: u8,
    depth: usize,
    /// Per open block: has an item been written yet?
    first: Vec<bool>,
}

/// Can `v` be written unquoted without changing its meaning? Unquoted values are read back in
/// lower case, so a value with upper-case letters is quoted.
fn is_safe_value(v: &str) -> bool {
    !v.is_empty()
        && v.bytes().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
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
        })
}

impl Encoder {
    pub(crate) fn new(compact: bool) -> Self {
        Encoder {
            out: String::with_capacity(1024),
            compact,
            version: 3,
            depth: 0,
            first: Vec::with_capacity(16),
        }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    // ------------------------------------------------------------------ layout primitives

    fn kw(&mut self, k: Kw) {
        self.out.push_str(k.get(self.compact));
    }

    fn s(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// A decimal number, without going through `fmt` (one per transaction, context, stream,
    /// request ID...).
    fn num(&mut self, n: impl Into<u64>) {
        let mut buf = [0; 20];
        // Digit by digit: cheaper than pushing the digits as a `str`, which has to be checked
        // for UTF-8 first.
        let start = super::decimal_digits(n.into(), &mut buf);
        buf[start..]
            .iter()
            .for_each(|&d| self.out.push(char::from(d)));
    }

    fn eq(&mut self) {
        self.s(if self.compact { "=" } else { " = " });
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.tabs();
    }

    /// One tab per nesting level, written as one slice.
    fn tabs(&mut self) {
        const TABS: &str = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
        let mut n = self.depth;
        while n > 0 {
            let k = n.min(TABS.len());
            self.out.push_str(&TABS[..k]);
            n -= k;
        }
    }

    fn begin(&mut self) {
        self.s(if self.compact { "{" } else { " {" });
        self.depth += 1;
        self.first.push(true);
    }

    fn item(&mut self) {
        let first = self
            .first
            .last_mut()
            .map(|f| std::mem::replace(f, false))
            .unwrap_or(true);
        if !first {
            self.out.push(',');
        }
        if !self.compact {
            self.newline();
        }
    }

    fn end(&mut self) {
        self.depth -= 1;
        let empty = self.first.pop().unwrap_or(true);
        if !self.compact {
            if empty {
                self.out.push(' ');
            } else {
                self.newline();
            }
        }
        self.out.push('}');
    }

    /// `, ` between inline list items.
    fn comma(&mut self) {
        self.s(if self.compact { "," } else { ", " });
    }

    fn value(&mut self, v: &str) {
        if is_safe_value(v) {
            self.s(v);
        } else {
            self.quoted(v);
        }
    }

    /// `"v"` as ABNF `quotedString` allows it: no DQUOTE and no line breaks or other control
    /// characters inside. Those cannot be carried, so they are written as `'` and a space
    /// (the message stays legal; a decoder sees the nearest legal text).
    fn quoted(&mut self, v: &str) {
        self.out.push('"');
        for c in v.chars() {
            match c {
                '"' => self.out.push('\''),
                '\t' => self.out.push('\t'),
                c if c.is_control() => self.out.push(' '),
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn tid(&mut self, t: &TerminationId) {
        if t.is_root() {
            self.s("ROOT");
        } else {
            self.s(t.as_str());
        }
    }

    fn tids(&mut self, ts: &[TerminationId]) {
        if ts.len() == 1 {
            self.tid(&ts[0]);
        } else {
            self.out.push('[');
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.tid(t);
            }
            self.out.push(']');
        }
    }

    fn context_id(&mut self, c: ContextId) {
        match c {
            ContextId::Null => self.s("-"),
            ContextId::Choose => self.s("$"),
            ContextId::All => self.s("*"),
            ContextId::Id(n) => self.num(n),
        }
    }

    fn request_id(&mut self, id: u32) {
        if id == u32::MAX {
            self.s("*");
        } else {
            self.num(id);
        }
    }

    // ------------------------------------------------------------------ message

    pub(crate) fn message(&mut self, m: &Message) {
        self.version = m.version;
        if let Some(a) = &m.auth {
            self.kw(t::AUTH);
            self.eq();
            let _ = write!(self.out, "0x{:08X}:0x{:08X}:0x", a.spi, a.seq_num);
            for b in &a.data {
                let _ = write!(self.out, "{b:02X}");
            }
            self.out.push('\n');
        }
        self.kw(t::MEGACO);
        self.out.push('/');
        self.num(m.version);
        self.out.push(' ');
        self.mid(&m.mid);
        self.out.push('\n');
        match &m.body {
            MessageBody::Error(e) => {
                self.error(e);
                self.out.push('\n');
            }
            MessageBody::Transactions(ts) => {
                for (i, t) in ts.iter().enumerate() {
                    self.transaction(t);
                    // megaco's parser rejects white space after a final segment reply.
                    if !(i + 1 == ts.len() && matches!(t, Transaction::SegmentReply(_))) {
                        self.out.push('\n');
                    }
                }
            }
        }
    }

    fn mid(&mut self, m: &MId) {
        match m {
            MId::Ip4 { addr, port } => {
                // By hand: `Ipv4Addr`'s Display goes through the formatting machinery, a
                // tenth of a whole message's encoding.
                self.out.push('[');
                for (i, o) in addr.octets().into_iter().enumerate() {
                    if i > 0 {
                        self.out.push('.');
                    }
                    self.num(o);
                }
                self.out.push(']');
                self.port(*port);
            }
            MId::Ip6 { addr, port } => {
                let _ = write!(self.out, "[{addr}]");
                self.port(*port);
            }
            MId::Domain { name, port } => {
                self.out.push('<');
                self.s(name);
                self.out.push('>');
                self.port(*port);
            }
            MId::Device(d) => self.s(d),
            MId::Mtp(h) => {
                self.kw(t::MTP);
                let _ = write!(self.out, "{{{h}}}");
            }
        }
    }

    fn port(&mut self, p: Option<u16>) {
        if let Some(p) = p {
            self.out.push(':');
            self.num(p);
        }
    }

    fn transaction(&mut self, tr: &Transaction) {
        match tr {
            Transaction::Request(r) => {
                self.kw(t::TRANSACTION);
                self.eq();
                self.num(r.id);
                self.begin();
                for a in &r.actions {
                    self.item();
                    self.action_request(a);
                }
                self.end();
            }
            Transaction::Reply(r) => {
                self.kw(t::REPLY);
                self.eq();
                self.num(r.id);
                if let Some(n) = r.segment_number {
                    self.out.push('/');
                    self.num(n);
                    if r.segmentation_complete {
                        self.out.push('/');
                        self.kw(t::SEG_COMPLETE);
                    }
                }
                self.begin();
                if r.imm_ack_required {
                    self.item();
                    self.kw(t::IMM_ACK);
                }
                match &r.result {
                    TransactionResult::Error(e) => {
                        self.item();
                        self.error(e);
                    }
                    TransactionResult::Actions(acts) => {
                        for a in acts {
                            self.item();
                            self.action_reply(a);
                        }
                    }
                }
                self.end();
            }
            Transaction::Pending(id) => {
                self.kw(t::PENDING);
                self.eq();
                self.num(*id);
                self.s(if self.compact { "{}" } else { " { }" });
            }
            Transaction::ResponseAck(acks) => {
                self.kw(t::RESPONSE_ACK);
                self.begin();
                for a in acks {
                    self.item();
                    self.num(a.first);
                    if let Some(l) = a.last {
                        self.out.push('-');
                        self.num(l);
                    }
                }
                self.end();
            }
            Transaction::SegmentReply(s) => {
                self.kw(t::SEGMENT);
                self.eq();
                self.num(s.id);
                self.out.push('/');
                self.num(s.segment_number);
                if s.segmentation_complete {
                    self.out.push('/');
                    self.kw(t::SEG_COMPLETE);
                }
            }
        }
    }

    fn error(&mut self, e: &ErrorDescriptor) {
        self.kw(t::ERROR);
        self.eq();
        self.num(e.code);
        match &e.text {
            Some(txt) => {
                self.s(if self.compact { "{" } else { " { " });
                self.quoted(txt);
                self.s(if self.compact { "}" } else { " }" });
            }
            None => self.s(if self.compact { "{}" } else { " { }" }),
        }
    }

    fn action_request(&mut self, a: &ActionRequest) {
        self.kw(t::CONTEXT);
        self.eq();
        self.context_id(a.context);
        self.begin();
        if let Some(c) = &a.context_request {
            self.context_props(c);
        }
        if let Some(ca) = &a.context_audit {
            self.item();
            self.context_audit(ca);
        }
        for c in &a.commands {
            self.item();
            self.command_request(c);
        }
        self.end();
    }

    /// Context properties, each as an item of the open block.
    fn context_props(&mut self, c: &ContextRequest) {
        if let Some(p) = c.priority {
            self.item();
            self.kw(t::PRIORITY);
            self.eq();
            self.num(p);
        }
        if let Some(e) = c.emergency {
            self.item();
            if !e && self.version < 3 {
                // v1/v2 stacks disagree on the long form (megaco wants "EmergencyOffToken");
                // the short token is read by all.
                self.s(t::EMERGENCY_OFF.short);
            } else {
                self.kw(if e { t::EMERGENCY } else { t::EMERGENCY_OFF });
            }
        }
        if !c.topology.is_empty() {
            self.item();
            self.kw(t::TOPOLOGY);
            self.begin();
            for tr in &c.topology {
                self.item();
                self.tid(&tr.from);
                self.comma();
                self.tid(&tr.to);
                self.comma();
                self.kw(match tr.direction {
                    TopologyDirection::Bothway => t::BOTHWAY,
                    TopologyDirection::Isolate => t::ISOLATE,
                    TopologyDirection::Oneway => t::ONEWAY,
                    TopologyDirection::OnewayExternal => t::ONEWAY_EXTERNAL,
                    TopologyDirection::OnewayBoth => t::ONEWAY_BOTH,
                });
                if let Some(s) = tr.stream {
                    self.comma();
                    self.kw(t::STREAM);
                    self.eq();
                    self.num(s);
                }
            }
            self.end();
        }
        if let Some(i) = c.ieps_call {
            self.item();
            self.kw(t::IEPS);
            self.eq();
            self.kw(if i { t::ON } else { t::OFF });
        }
        if !c.props.is_empty() {
            self.item();
            self.kw(t::CONTEXT_ATTR);
            self.begin();
            for p in &c.props {
                self.item();
                self.prop(p);
            }
            self.end();
        }
        if !c.context_list.is_empty() {
            self.item();
            self.kw(t::CONTEXT_ATTR);
            self.begin();
            self.item();
            self.kw(t::CONTEXT_LIST);
            self.eq();
            self.out.push('{');
            for (i, id) in c.context_list.iter().enumerate() {
                if i > 0 {
                    self.comma();
                }
                self.context_id(*id);
            }
            self.out.push('}');
            self.end();
        }
    }

    fn context_audit(&mut self, a: &ContextAttrAuditRequest) {
        self.kw(t::CONTEXT_AUDIT);
        self.begin();
        if a.topology {
            self.item();
            self.kw(t::TOPOLOGY);
        }
        if a.emergency {
            self.item();
            self.kw(t::EMERGENCY);
        }
        if a.priority {
            self.item();
            self.kw(t::PRIORITY);
        }
        if a.ieps_call {
            self.item();
            self.kw(t::IEPS);
        }
        for p in &a.props {
            self.item();
            self.s(p);
        }
        if let Some(p) = a.select_priority {
            self.item();
            self.kw(t::PRIORITY);
            self.eq();
            self.num(p);
        }
        if let Some(e) = a.select_emergency {
            self.item();
            self.kw(t::EMERGENCY_VALUE);
            self.eq();
            self.kw(if e { t::EMERGENCY } else { t::EMERGENCY_OFF });
        }
        if let Some(i) = a.select_ieps {
            self.item();
            self.kw(t::IEPS);
            self.eq();
            self.kw(if i { t::ON } else { t::OFF });
        }
        if !a.select_props.is_empty() {
            self.item();
            self.kw(t::CONTEXT_ATTR);
            self.begin();
            for p in &a.select_props {
                self.item();
                self.prop(p);
            }
            self.end();
        }
        if let Some(l) = a.select_logic {
            self.item();
            self.kw(match l {
                SelectLogic::And => t::AND_LGC,
                SelectLogic::Or => t::OR_LGC,
            });
        }
        self.end();
    }

    fn command_request(&mut self, c: &CommandRequest) {
        if c.optional {
            self.s("O-");
        }
        if c.wildcard_return {
            self.s("W-");
        }
        match &c.command {
            Command::Add(r) => self.amm(t::ADD, r),
            Command::Move(r) => self.amm(t::MOVE, r),
            Command::Modify(r) => self.amm(t::MODIFY, r),
            Command::Subtract(r) => {
                self.kw(t::SUBTRACT);
                self.eq();
                self.tids(&r.termination_ids);
                self.opt_audit(r.audit.as_ref());
            }
            Command::AuditValue(r) => self.audit_request(t::AUDIT_VALUE, r),
            Command::AuditCapabilities(r) => self.audit_request(t::AUDIT_CAP, r),
            Command::Notify(n) => {
                self.kw(t::NOTIFY);
                self.eq();
                self.tids(&n.termination_ids);
                self.begin();
                if let Some(oe) = &n.observed_events {
                    self.item();
                    self.observed_events(oe);
                }
                if let Some(e) = &n.error {
                    self.item();
                    self.error(e);
                }
                self.end();
            }
            Command::ServiceChange(sc) => {
                self.kw(t::SERVICE_CHANGE);
                self.eq();
                self.tids(&sc.termination_ids);
                self.begin();
                self.item();
                self.service_change_parms(&sc.parms);
                self.end();
            }
        }
    }

    fn amm(&mut self, k: Kw, r: &AmmRequest) {
        self.kw(k);
        self.eq();
        self.tids(&r.termination_ids);
        if !r.descriptors.is_empty() {
            self.begin();
            for d in &r.descriptors {
                self.item();
                self.amm_descriptor(d);
            }
            self.end();
        }
    }

    fn audit_request(&mut self, k: Kw, r: &AuditRequest) {
        self.kw(k);
        self.eq();
        self.tids(&r.termination_ids);
        self.opt_audit(r.audit.as_ref());
    }

    fn opt_audit(&mut self, a: Option<&AuditDescriptor>) {
        if let Some(a) = a {
            self.begin();
            self.item();
            self.audit_descriptor(a);
            self.end();
        }
    }

    fn amm_descriptor(&mut self, d: &AmmDescriptor) {
        match d {
            AmmDescriptor::Media(m) => self.media(m),
            AmmDescriptor::Modem(m) => self.modem(m),
            AmmDescriptor::Mux(m) => self.mux(m),
            AmmDescriptor::Events(e) => self.events(e),
            AmmDescriptor::EventBuffer(e) => self.event_buffer(e),
            AmmDescriptor::Signals(s) => self.signals(s),
            AmmDescriptor::DigitMap(d) => self.digit_map(d),
            AmmDescriptor::Audit(a) => self.audit_descriptor(a),
            AmmDescriptor::Statistics(s) => self.statistics(s),
        }
    }

    // ------------------------------------------------------------------ replies

    fn action_reply(&mut self, a: &ActionReply) {
        self.kw(t::CONTEXT);
        self.eq();
        self.context_id(a.context);
        if a.error.is_none() && a.context_reply.is_none() && a.commands.is_empty() {
            return;
        }
        self.begin();
        if let Some(c) = &a.context_reply {
            self.context_props(c);
        }
        for c in &a.commands {
            self.item();
            self.command_reply(c);
        }
        if let Some(e) = &a.error {
            self.item();
            self.error(e);
        }
        self.end();
    }

    fn command_reply(&mut self, c: &CommandReply) {
        match c {
            CommandReply::Add(r) => self.amms_reply(t::ADD, r),
            CommandReply::Move(r) => self.amms_reply(t::MOVE, r),
            CommandReply::Modify(r) => self.amms_reply(t::MODIFY, r),
            CommandReply::Subtract(r) => self.amms_reply(t::SUBTRACT, r),
            CommandReply::AuditValue(r) => self.audit_reply(t::AUDIT_VALUE, r),
            CommandReply::AuditCapabilities(r) => self.audit_reply(t::AUDIT_CAP, r),
            CommandReply::Notify(n) => {
                self.kw(t::NOTIFY);
                self.eq();
                self.tids(&n.termination_ids);
                if let Some(e) = &n.error {
                    self.begin();
                    self.item();
                    self.error(e);
                    self.end();
                }
            }
            CommandReply::ServiceChange(r) => {
                self.kw(t::SERVICE_CHANGE);
                self.eq();
                self.tids(&r.termination_ids);
                match &r.result {
                    ServiceChangeResult::Error(e) => {
                        self.begin();
                        self.item();
                        self.error(e);
                        self.end();
                    }
                    ServiceChangeResult::Parms(p) if *p != ServiceChangeResParm::default() => {
                        self.begin();
                        self.item();
                        self.kw(t::SERVICES);
                        self.begin();
                        self.sc_res_items(p);
                        self.end();
                        self.end();
                    }
                    ServiceChangeResult::Parms(_) => {}
                }
            }
        }
    }

    fn amms_reply(&mut self, k: Kw, r: &AmmsReply) {
        self.kw(k);
        self.eq();
        self.tids(&r.termination_ids);
        if let Some(a) = &r.audit {
            self.termination_audit(a);
        }
    }

    fn audit_reply(&mut self, k: Kw, r: &AuditReply) {
        self.kw(k);
        self.eq();
        match r {
            AuditReply::ContextAuditResult(ts) => {
                self.kw(t::CONTEXT);
                self.begin();
                for tid in ts {
                    self.item();
                    self.tid(tid);
                }
                self.end();
            }
            AuditReply::Error(e) => {
                self.kw(t::CONTEXT);
                self.begin();
                self.item();
                self.error(e);
                self.end();
            }
            AuditReply::AuditResult {
                termination_ids,
                audit,
            } => {
                if let [only] = termination_ids.as_slice() {
                    if t::CONTEXT.is(only.as_str()) {
                        // `AuditValue = c` would read as a context audit result.
                        self.out.push('[');
                        self.tid(only);
                        self.out.push(']');
                    } else {
                        self.tids(termination_ids);
                    }
                } else {
                    self.tids(termination_ids);
                }
                if !audit.is_empty() {
                    self.termination_audit(audit);
                }
            }
        }
    }

    fn termination_audit(&mut self, a: &TerminationAudit) {
        self.begin();
        for p in a {
            self.item();
            match p {
                AuditReturnParameter::Error(e) => self.error(e),
                AuditReturnParameter::Media(m) => self.media(m),
                AuditReturnParameter::Modem(m) => self.modem(m),
                AuditReturnParameter::Mux(m) => self.mux(m),
                AuditReturnParameter::Events(e) => self.events(e),
                AuditReturnParameter::EventBuffer(e) => self.event_buffer(e),
                AuditReturnParameter::Signals(s) => self.signals(s),
                AuditReturnParameter::DigitMap(d) => self.digit_map(d),
                AuditReturnParameter::ObservedEvents(o) => self.observed_events(o),
                AuditReturnParameter::Statistics(s) => self.statistics(s),
                AuditReturnParameter::Packages(p) => {
                    self.kw(t::PACKAGES);
                    self.begin();
                    for i in p {
                        self.item();
                        self.package_item(i);
                    }
                    self.end();
                }
                AuditReturnParameter::Empty(i) => self.audit_item(*i),
            }
        }
        self.end();
    }

    fn package_item(&mut self, p: &PackagesItem) {
        self.s(&p.name);
        self.out.push('-');
        self.num(p.version);
    }

    // ------------------------------------------------------------------ descriptors

    fn media(&mut self, m: &MediaDescriptor) {
        self.kw(t::MEDIA);
        self.begin();
        if let Some(ts) = &m.termination_state {
            self.item();
            self.termination_state(ts);
        }
        match &m.streams {
            None => {}
            Some(Streams::One(sp)) => self.stream_parms(sp),
            Some(Streams::Multi(v)) => {
                for sd in v {
                    self.item();
                    self.kw(t::STREAM);
                    self.eq();
                    self.num(sd.id);
                    self.begin();
                    self.stream_parms(&sd.parms);
                    self.end();
                }
            }
        }
        self.end();
    }

    fn stream_parms(&mut self, sp: &StreamParms) {
        if let Some(lc) = &sp.local_control {
            self.item();
            self.kw(t::LOCAL_CONTROL);
            self.begin();
            if let Some(m) = lc.mode {
                self.item();
                self.kw(t::MODE);
                self.eq();
                self.stream_mode(m);
            }
            if let Some(v) = lc.reserve_group {
                self.item();
                self.kw(t::RESERVED_GROUP);
                self.eq();
                self.kw(if v { t::ON } else { t::OFF });
            }
            if let Some(v) = lc.reserve_value {
                self.item();
                self.kw(t::RESERVED_VALUE);
                self.eq();
                self.kw(if v { t::ON } else { t::OFF });
            }
            for p in &lc.props {
                self.item();
                self.prop(p);
            }
            self.end();
        }
        if let Some(l) = &sp.local {
            self.item();
            self.kw(t::LOCAL);
            self.sdp(l);
        }
        if let Some(r) = &sp.remote {
            self.item();
            self.kw(t::REMOTE);
            self.sdp(r);
        }
        if let Some(s) = &sp.statistics {
            self.item();
            self.statistics(s);
        }
    }

    fn stream_mode(&mut self, m: StreamMode) {
        self.kw(match m {
            StreamMode::SendOnly => t::SENDONLY,
            StreamMode::RecvOnly => t::RECVONLY,
            StreamMode::SendRecv => t::SENDRECV,
            StreamMode::Inactive => t::INACTIVE,
            StreamMode::Loopback => t::LOOPBACK,
        });
    }

    /// SDP goes unindented, one line per property, `}` escaped.
    fn sdp(&mut self, d: &LocalRemoteDescriptor) {
        if d.groups.is_empty() {
            self.s(if self.compact { "{}" } else { " { }" });
            return;
        }
        self.s(if self.compact { "{\n" } else { " {\n" });
        for g in &d.groups {
            for p in g {
                self.s(&p.name);
                self.out.push('=');
                for (i, v) in p.value.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    // `}` is escaped as `\}`; everything else is copied in runs.
                    let mut rest = v.as_str();
                    while let Some(i) = memchr::memchr(b'}', rest.as_bytes()) {
                        // `}` is ASCII, so `i` and `i + 1` are char boundaries.
                        self.out.push_str(&rest[..i]);
                        self.out.push_str("\\}");
                        rest = &rest[i + 1..];
                    }
                    self.out.push_str(rest);
                }
                self.out.push('\n');
            }
        }
        if !self.compact {
            // An empty line before the indented brace: without it the indentation would be a
            // last "SDP line" without '=' (Wireshark flags that as malformed).
            self.out.push('\n');
            self.tabs();
        }
        self.out.push('}');
    }

    fn termination_state(&mut self, ts: &TerminationStateDescriptor) {
        self.kw(t::TERMINATION_STATE);
        self.begin();
        if let Some(s) = ts.service_state {
            self.item();
            self.kw(t::SERVICE_STATES);
            self.eq();
            self.service_state(s);
        }
        if let Some(b) = ts.event_buffer_control {
            self.item();
            self.kw(t::BUFFER);
            self.eq();
            self.kw(match b {
                EventBufferControl::Off => t::OFF,
                EventBufferControl::LockStep => t::LOCKSTEP,
            });
        }
        for p in &ts.props {
            self.item();
            self.prop(p);
        }
        self.end();
    }

    fn service_state(&mut self, s: ServiceState) {
        self.kw(match s {
            ServiceState::Test => t::TEST,
            ServiceState::OutOfSvc => t::OUT_OF_SVC,
            ServiceState::InSvc => t::IN_SVC,
        });
    }

    fn prop(&mut self, p: &PropertyParm) {
        self.s(&p.name);
        self.parm_value(p);
    }

    fn parm_value(&mut self, p: &PropertyParm) {
        let first = p.value.first().map_or("", |v| v.as_str());
        match p.extra {
            None if p.value.len() == 1 => {
                self.eq();
                self.value(first);
            }
            Some(ExtraInfo::Relation(r)) => {
                self.s(match r {
                    Relation::GreaterThan => ">",
                    Relation::SmallerThan => "<",
                    Relation::UnequalTo => "#",
                });
                self.value(first);
            }
            Some(ExtraInfo::Range(true)) if p.value.len() == 2 => {
                self.eq();
                self.out.push('[');
                self.value(&p.value[0]);
                self.out.push(':');
                self.value(&p.value[1]);
                self.out.push(']');
            }
            Some(ExtraInfo::Sublist(false)) => {
                self.eq();
                self.out.push('{');
                self.value_list(&p.value);
                self.out.push('}');
            }
            _ => {
                // `[a,b]`: all of (and the fallback for shapes text cannot say otherwise).
                self.eq();
                self.out.push('[');
                self.value_list(&p.value);
                self.out.push(']');
            }
        }
    }

    fn value_list(&mut self, vs: &[Text]) {
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                self.comma();
            }
            self.value(v);
        }
    }

    fn mux(&mut self, m: &MuxDescriptor) {
        self.kw(t::MUX);
        self.eq();
        self.kw(match m.mux_type {
            MuxType::H221 => t::H221,
            MuxType::H223 => t::H223,
            MuxType::H226 => t::H226,
            MuxType::V76 => t::V76,
            MuxType::Nx64k => t::NX64K,
        });
        self.out.push('{');
        for (i, tid) in m.termination_ids.iter().enumerate() {
            if i > 0 {
                self.comma();
            }
            self.tid(tid);
        }
        self.out.push('}');
    }

    fn modem(&mut self, m: &ModemDescriptor) {
        self.kw(t::MODEM);
        if m.types.len() == 1 {
            self.eq();
            self.s(&m.types[0]);
        } else {
            self.out.push('[');
            self.s(&m.types.join(","));
            self.out.push(']');
        }
        if !m.props.is_empty() {
            self.begin();
            for p in &m.props {
                self.item();
                self.prop(p);
            }
            self.end();
        }
    }

    fn events(&mut self, e: &EventsDescriptor) {
        self.kw(t::EVENTS);
        let Some(id) = e.request_id else {
            return;
        };
        self.eq();
        self.request_id(id);
        self.begin();
        for ev in &e.events {
            self.item();
            self.requested_event(ev);
        }
        self.end();
    }

    fn requested_event(&mut self, e: &RequestedEvent) {
        self.s(&e.name);
        let has_params = e.stream.is_some()
            || e.keep_active
            || e.digit_map.is_some()
            || e.embed_signals.is_some()
            || e.embed_events.is_some()
            || e.notify_behaviour.is_some()
            || e.reset_events
            || !e.params.is_empty();
        if !has_params {
            return;
        }
        self.begin();
        if let Some(s) = e.stream {
            self.item();
            self.kw(t::STREAM);
            self.eq();
            self.num(s);
        }
        if e.keep_active {
            self.item();
            self.kw(t::KEEP_ACTIVE);
        }
        if let Some(d) = &e.digit_map {
            self.item();
            self.digit_map(d);
        }
        if e.embed_signals.is_some() || e.embed_events.is_some() {
            self.item();
            self.embed(e.embed_signals.as_deref(), e.embed_events.as_deref());
        }
        if let Some(nb) = &e.notify_behaviour {
            self.item();
            match nb {
                NotifyBehaviour::Immediate => self.kw(t::NOTIFY_IMMEDIATE),
                NotifyBehaviour::Never => self.kw(t::NEVER_NOTIFY),
                NotifyBehaviour::Regulated { events, signals } => {
                    self.kw(t::NOTIFY_REGULATED);
                    if events.is_some() || signals.is_some() {
                        self.begin();
                        self.item();
                        self.embed(signals.as_deref(), events.as_deref());
                        self.end();
                    }
                }
            }
        }
        if e.reset_events {
            self.item();
            self.kw(t::RESET_EVENTS);
        }
        for p in &e.params {
            self.item();
            self.prop(p);
        }
        self.end();
    }

    fn embed(&mut self, sig: Option<&[SignalsItem]>, ev: Option<&EventsDescriptor>) {
        self.kw(t::EMBED);
        self.begin();
        if let Some(s) = sig {
            self.item();
            self.signals(s);
        }
        if let Some(e) = ev {
            self.item();
            self.events(e);
        }
        self.end();
    }

    fn signals(&mut self, s: &[SignalsItem]) {
        self.kw(t::SIGNALS);
        if s.is_empty() {
            return;
        }
        self.begin();
        for item in s {
            self.item();
            match item {
                SignalsItem::Signal(sig) => self.signal(sig),
                SignalsItem::List { id, signals } => {
                    self.kw(t::SIGNAL_LIST);
                    self.eq();
                    self.num(*id);
                    self.begin();
                    for sig in signals {
                        self.item();
                        self.signal(sig);
                    }
                    self.end();
                }
            }
        }
        self.end();
    }

    fn signal(&mut self, s: &Signal) {
        self.s(&s.name);
        let has = s.stream.is_some()
            || s.signal_type.is_some()
            || s.duration.is_some()
            || s.notify_completion.is_some()
            || s.keep_active
            || s.direction.is_some()
            || s.request_id.is_some()
            || s.intersig_delay.is_some()
            || !s.params.is_empty();
        if !has {
            return;
        }
        self.begin();
        if let Some(v) = s.stream {
            self.item();
            self.kw(t::STREAM);
            self.eq();
            self.num(v);
        }
        if let Some(v) = s.signal_type {
            self.item();
            self.kw(t::SIGNAL_TYPE);
            self.eq();
            self.kw(match v {
                SignalType::OnOff => t::ON_OFF,
                SignalType::TimeOut => t::TIMEOUT,
                SignalType::Brief => t::BRIEF,
            });
        }
        if let Some(v) = s.duration {
            self.item();
            self.kw(t::DURATION);
            self.eq();
            self.num(v);
        }
        if let Some(v) = &s.notify_completion {
            self.item();
            self.kw(t::NOTIFY_COMPLETION);
            self.eq();
            self.out.push('{');
            for (i, r) in v.iter().enumerate() {
                if i > 0 {
                    self.comma();
                }
                self.kw(match r {
                    NotifyCompletion::OnTimeOut => t::TIMEOUT,
                    NotifyCompletion::OnInterruptByEvent => t::INT_BY_EVENT,
                    NotifyCompletion::OnInterruptByNewSignalDescr => t::INT_BY_SIG,
                    NotifyCompletion::OtherReason => t::OTHER_REASON,
                    NotifyCompletion::Iteration => t::ITERATION,
                });
            }
            self.out.push('}');
        }
        if s.keep_active {
            self.item();
            self.kw(t::KEEP_ACTIVE);
        }
        if let Some(d) = s.direction {
            self.item();
            self.kw(t::DIRECTION);
            self.eq();
            self.kw(match d {
                SignalDirection::Internal => t::INTERNAL,
                SignalDirection::External => t::EXTERNAL,
                SignalDirection::Both => t::BOTH,
            });
        }
        if let Some(r) = s.request_id {
            self.item();
            self.kw(t::REQUEST_ID);
            self.eq();
            self.request_id(r);
        }
        if let Some(d) = s.intersig_delay {
            self.item();
            self.kw(t::INTSIG_DELAY);
            self.eq();
            self.num(d);
        }
        for p in &s.params {
            self.item();
            self.prop(p);
        }
        self.end();
    }

    fn digit_map(&mut self, d: &DigitMapDescriptor) {
        self.kw(t::DIGIT_MAP);
        self.eq();
        if let Some(n) = &d.name {
            self.s(n);
        }
        if let Some(v) = &d.value {
            self.s(if self.compact || d.name.is_none() {
                "{"
            } else {
                " {"
            });
            if !self.compact {
                self.out.push(' ');
            }
            let timers = [
                ("T:", v.start_timer),
                ("S:", v.short_timer),
                ("L:", v.long_timer),
                ("Z:", v.duration_timer),
            ];
            for (k, val) in timers {
                if let Some(n) = val {
                    self.s(k);
                    self.num(n);
                    self.comma();
                }
            }
            self.s(&v.body);
            self.s(if self.compact { "}" } else { " }" });
        }
    }

    fn observed_events(&mut self, o: &ObservedEventsDescriptor) {
        self.kw(t::OBSERVED_EVENTS);
        self.eq();
        self.request_id(o.request_id);
        self.begin();
        for e in &o.events {
            self.item();
            if let Some(ts) = &e.timestamp {
                self.time(ts);
                self.out.push(':');
            }
            self.event_spec(&e.name, e.stream, &e.params);
        }
        self.end();
    }

    fn event_spec(&mut self, name: &str, stream: Option<u16>, params: &[PropertyParm]) {
        self.s(name);
        if stream.is_none() && params.is_empty() {
            return;
        }
        self.begin();
        if let Some(s) = stream {
            self.item();
            self.kw(t::STREAM);
            self.eq();
            self.num(s);
        }
        for p in params {
            self.item();
            self.prop(p);
        }
        self.end();
    }

    fn time(&mut self, ts: &TimeNotation) {
        self.s(&ts.date);
        self.out.push('T');
        self.s(&ts.time);
    }

    fn event_buffer(&mut self, v: &[EventSpec]) {
        self.kw(t::EVENT_BUFFER);
        if v.is_empty() {
            return;
        }
        self.begin();
        for e in v {
            self.item();
            self.event_spec(&e.name, e.stream, &e.params);
        }
        self.end();
    }

    fn statistics(&mut self, v: &[StatisticsParameter]) {
        self.kw(t::STATS);
        if v.is_empty() {
            return;
        }
        self.begin();
        for s in v {
            self.item();
            self.s(&s.name);
            match &s.value {
                None => {}
                Some(vals) if vals.len() == 1 => {
                    self.eq();
                    self.value(&vals[0]);
                }
                Some(vals) => {
                    self.eq();
                    self.out.push('[');
                    self.value_list(vals);
                    self.out.push(']');
                }
            }
        }
        self.end();
    }

    fn audit_item(&mut self, i: AuditItem) {
        self.kw(match i {
            AuditItem::Mux => t::MUX,
            AuditItem::Modem => t::MODEM,
            AuditItem::Media => t::MEDIA,
            AuditItem::Events => t::EVENTS,
            AuditItem::Signals => t::SIGNALS,
            AuditItem::DigitMap => t::DIGIT_MAP,
            AuditItem::Statistics => t::STATS,
            AuditItem::ObservedEvents => t::OBSERVED_EVENTS,
            AuditItem::Packages => t::PACKAGES,
            AuditItem::EventBuffer => t::EVENT_BUFFER,
        });
    }

    fn audit_descriptor(&mut self, a: &AuditDescriptor) {
        self.kw(t::AUDIT);
        self.begin();
        for i in &a.items {
            self.item();
            self.audit_item(*i);
        }
        for p in &a.ind_aud {
            self.item();
            self.ind_aud(p);
        }
        self.end();
    }

    fn ind_aud(&mut self, p: &IndAuditParameter) {
        match p {
            IndAuditParameter::Media(m) => {
                self.kw(t::MEDIA);
                self.begin();
                if let Some(ts) = &m.termination_state {
                    self.item();
                    self.kw(t::TERMINATION_STATE);
                    self.begin();
                    for p in &ts.props {
                        self.item();
                        self.ind_aud_prop(p);
                    }
                    if ts.event_buffer_control {
                        self.item();
                        self.kw(t::BUFFER);
                    }
                    if ts.service_state {
                        self.item();
                        self.kw(t::SERVICE_STATES);
                    }
                    if let Some((eq, s)) = ts.service_state_sel {
                        self.item();
                        self.kw(t::SERVICE_STATES);
                        self.s(if eq { "=" } else { "#" });
                        self.service_state(s);
                    }
                    self.end();
                }
                if let Some(sp) = &m.stream_parms {
                    self.ind_aud_stream_parms(sp);
                }
                for (id, sp) in &m.streams {
                    self.item();
                    self.kw(t::STREAM);
                    self.eq();
                    self.num(*id);
                    self.begin();
                    self.ind_aud_stream_parms(sp);
                    self.end();
                }
                self.end();
            }
            IndAuditParameter::Events { request_id, name } => {
                self.kw(t::EVENTS);
                if let Some(id) = request_id {
                    self.eq();
                    self.request_id(*id);
                }
                self.begin();
                self.item();
                self.s(name);
                self.end();
            }
            IndAuditParameter::EventBuffer { name, stream } => {
                self.kw(t::EVENT_BUFFER);
                self.begin();
                self.item();
                self.s(name);
                if let Some(s) = stream {
                    self.begin();
                    self.item();
                    self.kw(t::STREAM);
                    self.eq();
                    self.num(*s);
                    self.end();
                }
                self.end();
            }
            IndAuditParameter::Signals(None) => {
                self.kw(t::SIGNALS);
                self.s(if self.compact { "{}" } else { " { }" });
            }
            IndAuditParameter::Signals(Some(sp)) => {
                self.kw(t::SIGNALS);
                self.begin();
                self.item();
                match sp {
                    IndAudSignalParm::Signal {
                        name,
                        stream,
                        request_id,
                    } => {
                        let mut s = Signal::new(name);
                        s.stream = *stream;
                        s.request_id = *request_id;
                        self.signal(&s);
                    }
                    IndAudSignalParm::List { id, signal } => {
                        self.kw(t::SIGNAL_LIST);
                        self.eq();
                        self.num(*id);
                        if let Some(n) = signal {
                            self.begin();
                            self.item();
                            self.s(n);
                            self.end();
                        }
                    }
                }
                self.end();
            }
            IndAuditParameter::DigitMap(n) => {
                self.kw(t::DIGIT_MAP);
                if let Some(n) = n {
                    self.eq();
                    self.s(n);
                }
            }
            IndAuditParameter::Statistics(n) => {
                self.kw(t::STATS);
                self.begin();
                self.item();
                self.s(n);
                self.end();
            }
            IndAuditParameter::Packages(p) => {
                self.kw(t::PACKAGES);
                self.begin();
                self.item();
                self.package_item(p);
                self.end();
            }
        }
    }

    fn ind_aud_prop(&mut self, p: &IndAudProp) {
        match p {
            IndAudProp::Name(n) => self.s(n),
            IndAudProp::Select(p) => self.prop(p),
        }
    }

    fn ind_aud_stream_parms(&mut self, sp: &IndAudStreamParms) {
        if let Some(lc) = &sp.local_control {
            self.item();
            self.kw(t::LOCAL_CONTROL);
            self.begin();
            if lc.mode {
                self.item();
                self.kw(t::MODE);
            }
            if let Some((eq, m)) = lc.mode_sel {
                self.item();
                self.kw(t::MODE);
                self.s(if eq { "=" } else { "#" });
                self.stream_mode(m);
            }
            if lc.reserve_value {
                self.item();
                self.kw(t::RESERVED_VALUE);
            }
            if lc.reserve_group {
                self.item();
                self.kw(t::RESERVED_GROUP);
            }
            for p in &lc.props {
                self.item();
                self.ind_aud_prop(p);
            }
            self.end();
        }
        if let Some(l) = &sp.local {
            self.item();
            self.kw(t::LOCAL);
            self.sdp(l);
        }
        if let Some(r) = &sp.remote {
            self.item();
            self.kw(t::REMOTE);
            self.sdp(r);
        }
        if let Some(s) = &sp.statistics {
            self.item();
            self.kw(t::STATS);
            self.begin();
            self.item();
            self.s(s);
            self.end();
        }
    }

    // ------------------------------------------------------------------ ServiceChange

    fn service_change_parms(&mut self, p: &ServiceChangeParm) {
        self.kw(t::SERVICES);
        self.begin();
        self.item();
        self.kw(t::METHOD);
        self.eq();
        match &p.method {
            ServiceChangeMethod::Failover => self.kw(t::FAILOVER),
            ServiceChangeMethod::Forced => self.kw(t::FORCED),
            ServiceChangeMethod::Graceful => self.kw(t::GRACEFUL),
            ServiceChangeMethod::Restart => self.kw(t::RESTART),
            ServiceChangeMethod::Disconnected => self.kw(t::DISCONNECTED),
            ServiceChangeMethod::HandOff => self.kw(t::HANDOFF),
            ServiceChangeMethod::Extension(x) => self.s(x),
        }
        if let Some(r) = &p.reason {
            self.item();
            self.kw(t::REASON);
            self.eq();
            self.value(r);
        }
        if let Some(d) = p.delay {
            self.item();
            self.kw(t::DELAY);
            self.eq();
            self.num(d);
        }
        self.sc_common(
            p.address.as_ref(),
            p.profile.as_ref(),
            p.version,
            p.mgc_id.as_ref(),
            p.timestamp.as_ref(),
        );
        for x in &p.extensions {
            self.item();
            self.prop(x);
        }
        if let Some(info) = &p.info {
            for i in &info.items {
                self.item();
                self.audit_item(*i);
            }
            for ia in &info.ind_aud {
                self.item();
                self.ind_aud(ia);
            }
        }
        if p.incomplete {
            self.item();
            self.kw(t::SERVICE_CHANGE_INC);
        }
        self.end();
    }

    fn sc_res_items(&mut self, p: &ServiceChangeResParm) {
        self.sc_common(
            p.address.as_ref(),
            p.profile.as_ref(),
            p.version,
            p.mgc_id.as_ref(),
            p.timestamp.as_ref(),
        );
    }

    fn sc_common(
        &mut self,
        address: Option<&ServiceChangeAddress>,
        profile: Option<&ServiceChangeProfile>,
        version: Option<u8>,
        mgc_id: Option<&MId>,
        timestamp: Option<&TimeNotation>,
    ) {
        if let Some(a) = address {
            self.item();
            self.kw(t::SERVICE_CHANGE_ADDRESS);
            self.eq();
            match a {
                ServiceChangeAddress::MId(m) => self.mid(m),
                ServiceChangeAddress::Port(p) => self.num(*p),
            }
        }
        if let Some(pr) = profile {
            self.item();
            self.kw(t::PROFILE);
            self.eq();
            self.s(&pr.name);
            self.out.push('/');
            self.num(pr.version);
        }
        if let Some(v) = version {
            self.item();
            self.kw(t::VERSION);
            self.eq();
            self.num(v);
        }
        if let Some(m) = mgc_id {
            self.item();
            self.kw(t::MGC_ID);
            self.eq();
            self.mid(m);
        }
        if let Some(ts) = timestamp {
            self.item();
            self.time(ts);
        }
    }
}
