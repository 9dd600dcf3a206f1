//! Model → BER octets in one pass, without the ASN.1 values of [`super::asn`] in between.
//!
//! What it writes is exactly what `encode_ber(&to_asn(msg)?)` writes (definite lengths, minimal
//! length and INTEGER octets, primitive strings, the components in the order of `asn.rs`), and
//! where that fails it fails with the same [`EncodeError`]: the mapping rules that are not about
//! building values (names to IDs, termination IDs, the checks and their errors) are
//! [`EncRules`], shared with [`super::map::Enc`]. `tests/ber_direct_enc.rs` compares the two on
//! every corpus message, the BER fuzz corpus and generated models.
//!
//! Why: the two-pass path (model → `asn::MegacoMessage` → rasn's BER encoder) allocates every
//! value of the ASN.1 tree and walks it twice; see `src/binary/README.md` for the counts.
//!
//! The writer ([`Writer`]) puts a constructed value's identifier and one length octet down,
//! writes the contents, then patches the length; a contents of 128 octets or more gets the long
//! form, the contents shifted along by the extra length octets. Every tag is a context-specific
//! (`[n]`) or universal tag number below 31, i.e. one identifier octet. Functions follow the
//! types of `asn.rs`, in its order; each takes the identifier octet its value is written with
//! (the tag of the component or SEQUENCE OF it stands in), and a CHOICE-typed component gets
//! its explicit tag from the caller.
//!
//! Errors leave the output half written; it is dropped with the error. Where `map::Enc` checks
//! something before the part written ahead of it (the event name after the RequestedActions,
//! the streams of an individual Media audit before its TerminationState, the ServiceChange
//! method and extensions first), the check is made in the same order here, so that the first
//! error of a message is the same one.

use super::asn;
use super::map::{
    at, audit_bit, completion_bit, ctx_id, ctx_label, event_buffer_control, extra_info,
    has_requested_actions, mux_type, named_bit_mask, service_state, signal_direction, signal_type,
    stream_mode, topology_direction, EncRules, EventDm, IndAudStreamsOf, SC_EXTENSIONS_ID,
};
use super::tags::{self, Tag, ENUMERATED, INTEGER, OCTET_STRING, SEQUENCE};
use super::termid::TermIdMapping;
use super::EncodeError;
use crate::model::*;
use crate::packages::{ItemKind, Registry};

type R<T = ()> = Result<T, EncodeError>;

// The component tags are the shared table's ([`super::tags`]); these make identifier octets
// of them (every tag there is below 31, so one octet).

/// The identifier octet of `t`, primitive.
const fn p(t: Tag) -> u8 {
    t.short_id() as u8
}

/// The identifier octet of `t`, constructed (SEQUENCE, SEQUENCE OF, explicit tags).
const fn c(t: Tag) -> u8 {
    t.short_id() as u8 | 0x20
}

/// The numbers of the address alternatives of MId / ServiceChangeAddress, which share their
/// alternatives but not their numbers.
struct MIdTags {
    ip4_address: Tag,
    ip6_address: Tag,
    domain_name: Tag,
    device_name: Tag,
    mtp_address: Tag,
}

const MID_ALTERNATIVES: MIdTags = MIdTags {
    ip4_address: tags::MId::ip4Address,
    ip6_address: tags::MId::ip6Address,
    domain_name: tags::MId::domainName,
    device_name: tags::MId::deviceName,
    mtp_address: tags::MId::mtpAddress,
};

const SC_ADDRESS_ALTERNATIVES: MIdTags = MIdTags {
    ip4_address: tags::ServiceChangeAddress::ip4Address,
    ip6_address: tags::ServiceChangeAddress::ip6Address,
    domain_name: tags::ServiceChangeAddress::domainName,
    device_name: tags::ServiceChangeAddress::deviceName,
    mtp_address: tags::ServiceChangeAddress::mtpAddress,
};

/// The components after eventDM of RequestedActions / SecondRequestedActions (which has no
/// secondEvent, so its numbers are one lower).
struct ActionTags {
    signals_descriptor: Tag,
    notify_behaviour: Tag,
    reset_events_descriptor: Tag,
}

const REQUESTED_ACTIONS_TAIL: ActionTags = ActionTags {
    signals_descriptor: tags::RequestedActions::signalsDescriptor,
    notify_behaviour: tags::RequestedActions::notifyBehaviour,
    reset_events_descriptor: tags::RequestedActions::resetEventsDescriptor,
};

const SECOND_REQUESTED_ACTIONS_TAIL: ActionTags = ActionTags {
    signals_descriptor: tags::SecondRequestedActions::signalsDescriptor,
    notify_behaviour: tags::SecondRequestedActions::notifyBehaviour,
    reset_events_descriptor: tags::SecondRequestedActions::resetEventsDescriptor,
};

/// BER output: definite lengths, minimal length and INTEGER octets.
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// Starts a constructed value: its identifier and a length octet to patch. Returns where
    /// the contents start, for [`Self::close`].
    #[inline]
    fn open(&mut self, id: u8) -> usize {
        self.out.extend_from_slice(&[id, 0]);
        self.out.len()
    }

    /// Ends the value [`Self::open`] started: its length octets.
    #[inline]
    fn close(&mut self, start: usize) {
        let len = self.out.len() - start;
        if len < 0x80 {
            self.out[start - 1] = len as u8;
        } else {
            self.close_long(start, len);
        }
    }

    /// The long form (X.690 8.1.3.5): the reserved octet counts the length octets, which take
    /// their place before the contents, shifted along.
    #[inline(never)]
    fn close_long(&mut self, start: usize, len: usize) {
        let n = len.to_be_bytes().iter().take_while(|&&b| b == 0).count();
        let octets = &len.to_be_bytes()[n..];
        self.out[start - 1] = 0x80 | octets.len() as u8;
        let end = self.out.len();
        self.out.resize(end + octets.len(), 0);
        self.out.copy_within(start..end, start + octets.len());
        self.out[start..start + octets.len()].copy_from_slice(octets);
    }

    /// A primitive value with these contents (OCTET STRING, IA5String).
    #[inline]
    fn bytes(&mut self, id: u8, contents: &[u8]) {
        if contents.len() < 0x80 {
            self.out.extend_from_slice(&[id, contents.len() as u8]);
            self.out.extend_from_slice(contents);
        } else {
            let start = self.open(id);
            self.out.extend_from_slice(contents);
            self.close(start);
        }
    }

    /// An INTEGER (or ENUMERATED) in the fewest two's complement octets.
    #[inline]
    fn int(&mut self, id: u8, v: u32) {
        let v = u64::from(v);
        let n = (64 - v.leading_zeros() as usize) / 8 + 1;
        self.out.extend_from_slice(&[id, n as u8]);
        self.out.extend_from_slice(&v.to_be_bytes()[8 - n..]);
    }

    /// NULL, or with a constructed `id` an empty SEQUENCE (OF).
    fn null(&mut self, id: u8) {
        self.out.extend_from_slice(&[id, 0]);
    }

    fn boolean(&mut self, id: u8, b: bool) {
        self.out
            .extend_from_slice(&[id, 1, if b { 0xFF } else { 0x00 }]);
    }

    /// A named-bit BIT STRING of `len` bits ([`named_bit_mask`]): unused-bits octet, then the
    /// octets.
    fn bits(&mut self, id: u8, (mask, len): (u16, usize)) {
        let octets = len.div_ceil(8);
        let unused = (octets * 8 - len) as u8;
        self.out.extend_from_slice(&[id, 1 + octets as u8, unused]);
        self.out.extend_from_slice(&mask.to_be_bytes()[..octets]);
    }

    /// `Value ::= SEQUENCE OF OCTET STRING`: the octets of each text value.
    fn values(&mut self, id: u8, values: &[Text]) {
        let s = self.open(id);
        for v in values {
            self.bytes(p(OCTET_STRING), v.as_bytes());
        }
        self.close(s);
    }
}

/// Model → BER for one message, in one pass.
pub(crate) struct DirectEnc<'a> {
    r: EncRules<'a>,
    w: Writer,
}

/// The output buffer's first size: most messages fit, larger ones grow it a few times.
const INITIAL_CAPACITY: usize = 512;

/// Encodes `m` in BER as `encode_ber(&Enc::message(m)?)` does.
pub(crate) fn encode(reg: &Registry, tids: &TermIdMapping, m: &Message) -> R<Vec<u8>> {
    let mut e = DirectEnc {
        r: EncRules::new(reg, tids),
        w: Writer {
            out: Vec::with_capacity(INITIAL_CAPACITY),
        },
    };
    e.megaco_message(m)?;
    Ok(e.w.out)
}

impl DirectEnc<'_> {
    /// [`at`] with a fixed label.
    fn within(&mut self, label: &'static str, f: impl FnOnce(&mut Self) -> R) -> R {
        at(self, || label.to_string(), f)
    }

    // ---------------------------------------------------------------------------------------
    // Message, transactions.

    fn megaco_message(&mut self, m: &Message) -> R {
        use tags::{AuthenticationHeader as ah, MegacoMessage as mm, Message as ms};
        let top = self.w.open(c(SEQUENCE));
        if let Some(a) = &m.auth {
            let s = self.w.open(c(mm::authHeader));
            self.w.bytes(p(ah::secParmIndex), &a.spi.to_be_bytes());
            self.w.bytes(p(ah::seqNum), &a.seq_num.to_be_bytes());
            self.w.bytes(p(ah::ad), &a.data);
            self.w.close(s);
        }
        let mess = self.w.open(c(mm::mess));
        self.w.int(p(ms::version), u32::from(m.version));
        let mid = self.w.open(c(ms::mId));
        self.within("mId", |e| e.mid(&m.mid, &MID_ALTERNATIVES))?;
        self.w.close(mid);
        let body = self.w.open(c(ms::messageBody));
        match &m.body {
            MessageBody::Error(ed) => {
                self.error_descriptor(c(tags::MessageBody::messageError), ed)?
            }
            MessageBody::Transactions(ts) => {
                let l = self.w.open(c(tags::MessageBody::transactions));
                for t in ts {
                    self.transaction(t)?;
                }
                self.w.close(l);
            }
        }
        self.w.close(body);
        self.w.close(mess);
        self.w.close(top);
        Ok(())
    }

    /// MId, or the same alternatives of ServiceChangeAddress (`tags`).
    fn mid(&mut self, m: &MId, tags: &MIdTags) -> R {
        match m {
            MId::Ip4 { addr, port } => self.ip_address(c(tags.ip4_address), &addr.octets(), *port),
            MId::Ip6 { addr, port } => self.ip_address(c(tags.ip6_address), &addr.octets(), *port),
            MId::Domain { name, port } => {
                let name = self.r.ia5_octets("domain name", name)?;
                let s = self.w.open(c(tags.domain_name));
                self.w.bytes(p(tags::DomainName::name), name);
                if let Some(port) = port {
                    self.w
                        .int(p(tags::DomainName::portNumber), u32::from(*port));
                }
                self.w.close(s);
            }
            MId::Device(d) => {
                let d = self.r.ia5_octets("device name", d)?;
                self.w.bytes(p(tags.device_name), d);
            }
            MId::Mtp(hex) => {
                let o = self.r.mtp_octets(hex)?;
                self.w.bytes(p(tags.mtp_address), &o);
            }
        }
        Ok(())
    }

    /// IP4Address / IP6Address.
    fn ip_address(&mut self, id: u8, address: &[u8], port: Option<u16>) {
        let s = self.w.open(id);
        self.w.bytes(p(tags::IPAddress::address), address);
        if let Some(port) = port {
            self.w.int(p(tags::IPAddress::portNumber), u32::from(port));
        }
        self.w.close(s);
    }

    fn transaction(&mut self, t: &Transaction) -> R {
        use tags::Transaction as tr;
        match t {
            Transaction::Request(r) => {
                use tags::TransactionRequest as rq;
                self.r.transaction = Some(r.id);
                let s = self.w.open(c(tr::transactionRequest));
                at(
                    self,
                    || format!("Transaction {}", r.id),
                    |e| {
                        e.w.int(p(rq::transactionId), r.id);
                        let l = e.w.open(c(rq::actions));
                        for a in &r.actions {
                            at(e, || ctx_label(&a.context), |e| e.action_request(a))?;
                        }
                        e.w.close(l);
                        Ok(())
                    },
                )?;
                self.w.close(s);
                self.r.transaction = None;
            }
            Transaction::Pending(id) => {
                let s = self.w.open(c(tr::transactionPending));
                self.w.int(p(tags::TransactionPending::transactionId), *id);
                self.w.close(s);
            }
            Transaction::Reply(r) => self.transaction_reply(c(tr::transactionReply), r)?,
            Transaction::ResponseAck(acks) => {
                use tags::TransactionAck as ta;
                let s = self.w.open(c(tr::transactionResponseAck));
                for a in acks {
                    let e = self.w.open(c(SEQUENCE));
                    self.w.int(p(ta::firstAck), a.first);
                    if let Some(last) = a.last {
                        self.w.int(p(ta::lastAck), last);
                    }
                    self.w.close(e);
                }
                self.w.close(s);
            }
            Transaction::SegmentReply(sr) => {
                use tags::SegmentReply as sg;
                let s = self.w.open(c(tr::segmentReply));
                self.w.int(p(sg::transactionId), sr.id);
                self.w
                    .int(p(sg::segmentNumber), u32::from(sr.segment_number));
                if sr.segmentation_complete {
                    self.w.null(p(sg::segmentationComplete));
                }
                self.w.close(s);
            }
        }
        Ok(())
    }

    fn transaction_reply(&mut self, id: u8, r: &TransactionReply) -> R {
        use tags::{TransactionReply as rp, TransactionResult as res};
        self.r.transaction = Some(r.id);
        let s = self.w.open(id);
        self.w.int(p(rp::transactionId), r.id);
        if r.imm_ack_required {
            self.w.null(p(rp::immAckRequired));
        }
        let result = self.w.open(c(rp::transactionResult));
        at(
            self,
            || format!("Reply {}", r.id),
            |e| match &r.result {
                TransactionResult::Error(ed) => e.error_descriptor(c(res::transactionError), ed),
                TransactionResult::Actions(acts) => {
                    let l = e.w.open(c(res::actionReplies));
                    for a in acts {
                        at(e, || ctx_label(&a.context), |e| e.action_reply(a))?;
                    }
                    e.w.close(l);
                    Ok(())
                }
            },
        )?;
        self.w.close(result);
        if let Some(n) = r.segment_number {
            self.w.int(p(rp::segmentNumber), u32::from(n));
        }
        if r.segmentation_complete {
            self.w.null(p(rp::segmentationComplete));
        }
        self.w.close(s);
        self.r.transaction = None;
        Ok(())
    }

    fn error_descriptor(&mut self, id: u8, ed: &ErrorDescriptor) -> R {
        use tags::ErrorDescriptor as er;
        let s = self.w.open(id);
        self.w.int(p(er::errorCode), u32::from(ed.code));
        if let Some(t) = &ed.text {
            let t = self.r.ia5_octets("error text", t)?;
            self.w.bytes(p(er::errorText), t);
        }
        self.w.close(s);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Actions, contexts, commands.

    fn action_request(&mut self, a: &ActionRequest) -> R {
        use tags::ActionRequest as ar;
        let s = self.w.open(c(SEQUENCE));
        self.w.int(p(ar::contextId), ctx_id(a.context));
        if let Some(cr) = &a.context_request {
            self.within("context properties", |e| {
                e.context_request(c(ar::contextRequest), cr)
            })?;
        }
        if let Some(ca) = &a.context_audit {
            self.within("ContextAudit", |e| {
                e.context_attr_audit_request(c(ar::contextAttrAuditReq), ca)
            })?;
        }
        let l = self.w.open(c(ar::commandRequests));
        for (i, cmd) in a.commands.iter().enumerate() {
            at(
                self,
                || format!("command {} ({})", i + 1, cmd.command.name()),
                |e| e.command_request(cmd),
            )?;
        }
        self.w.close(l);
        self.w.close(s);
        Ok(())
    }

    fn action_reply(&mut self, a: &ActionReply) -> R {
        use tags::ActionReply as ar;
        let s = self.w.open(c(SEQUENCE));
        self.w.int(p(ar::contextId), ctx_id(a.context));
        if let Some(ed) = &a.error {
            self.error_descriptor(c(ar::errorDescriptor), ed)?;
        }
        if let Some(cr) = &a.context_reply {
            self.within("context properties", |e| {
                e.context_request(c(ar::contextReply), cr)
            })?;
        }
        let l = self.w.open(c(ar::commandReply));
        for (i, cmd) in a.commands.iter().enumerate() {
            at(
                self,
                || format!("reply {} ({})", i + 1, cmd.name()),
                |e| e.command_reply(cmd),
            )?;
        }
        self.w.close(l);
        self.w.close(s);
        Ok(())
    }

    fn context_request(&mut self, id: u8, cr: &ContextRequest) -> R {
        use tags::{ContextRequest as cq, TopologyRequest as tq};
        let s = self.w.open(id);
        if let Some(prio) = cr.priority {
            let v = self.r.small("priority", prio, 15)?;
            self.w.int(p(cq::priority), u32::from(v));
        }
        if let Some(b) = cr.emergency {
            self.w.boolean(p(cq::emergency), b);
        }
        if !cr.topology.is_empty() {
            let l = self.w.open(c(cq::topologyReq));
            for t in &cr.topology {
                let e = self.w.open(c(SEQUENCE));
                self.termination_id(c(tq::terminationFrom), &t.from)?;
                self.termination_id(c(tq::terminationTo), &t.to)?;
                let (dir, ext) = topology_direction(t.direction);
                self.w.int(p(tq::topologyDirection), dir as u32);
                if let Some(sid) = t.stream {
                    self.w.int(p(tq::streamID), u32::from(sid));
                }
                if let Some(ext) = ext {
                    self.w.int(p(tq::topologyDirectionExtension), ext as u32);
                }
                self.w.close(e);
            }
            self.w.close(l);
        }
        if let Some(b) = cr.ieps_call {
            self.w.boolean(p(cq::iepscallind), b);
        }
        if !cr.props.is_empty() {
            self.property_parms(c(cq::contextProp), &cr.props)?;
        }
        if !cr.context_list.is_empty() {
            let l = self.w.open(c(cq::contextList));
            for &ctx in &cr.context_list {
                self.w.int(p(INTEGER), ctx_id(ctx));
            }
            self.w.close(l);
        }
        self.w.close(s);
        Ok(())
    }

    fn context_attr_audit_request(&mut self, id: u8, ca: &ContextAttrAuditRequest) -> R {
        use tags::{ContextAttrAuditRequest as cq, SelectLogic as sl};
        let s = self.w.open(id);
        if ca.topology {
            self.w.null(p(cq::topology));
        }
        if ca.emergency {
            self.w.null(p(cq::emergency));
        }
        if ca.priority {
            self.w.null(p(cq::priority));
        }
        if ca.ieps_call {
            self.w.null(p(cq::iepscallind));
        }
        // Names first, then the selections (the model keeps them apart).
        if !ca.props.is_empty() || !ca.select_props.is_empty() {
            let l = self.w.open(c(cq::contextPropAud));
            for n in &ca.props {
                self.ind_aud_property_name(n)?;
            }
            for sel in &ca.select_props {
                self.ind_aud_property_select(sel)?;
            }
            self.w.close(l);
        }
        if let Some(prio) = ca.select_priority {
            let v = self.r.small("selected priority", prio, 15)?;
            self.w.int(p(cq::selectpriority), u32::from(v));
        }
        if let Some(b) = ca.select_emergency {
            self.w.boolean(p(cq::selectemergency), b);
        }
        if let Some(b) = ca.select_ieps {
            self.w.boolean(p(cq::selectiepscallind), b);
        }
        if let Some(logic) = ca.select_logic {
            let x = self.w.open(c(cq::selectLogic));
            self.w.null(p(match logic {
                SelectLogic::And => sl::andAUDITSelect,
                SelectLogic::Or => sl::orAUDITSelect,
            }));
            self.w.close(x);
        }
        self.w.close(s);
        Ok(())
    }

    fn command_request(&mut self, cr: &CommandRequest) -> R {
        use tags::CommandRequest as cq;
        let s = self.w.open(c(SEQUENCE));
        let x = self.w.open(c(cq::command));
        self.command(&cr.command)?;
        self.w.close(x);
        if cr.optional {
            self.w.null(p(cq::optional));
        }
        if cr.wildcard_return {
            self.w.null(p(cq::wildcardReturn));
        }
        self.w.close(s);
        Ok(())
    }

    fn command(&mut self, cmd: &Command) -> R {
        use tags::Command as cm;
        match cmd {
            Command::Add(a) => self.amm_request(c(cm::addReq), a),
            Command::Move(a) => self.amm_request(c(cm::moveReq), a),
            Command::Modify(a) => self.amm_request(c(cm::modReq), a),
            Command::Subtract(sr) => {
                use tags::SubtractRequest as sq;
                let s = self.w.open(c(cm::subtractReq));
                self.termination_ids(c(sq::terminationID), &sr.termination_ids)?;
                if let Some(a) = &sr.audit {
                    self.within("Audit", |e| e.audit_descriptor(c(sq::auditDescriptor), a))?;
                }
                self.w.close(s);
                Ok(())
            }
            Command::AuditCapabilities(a) => self.audit_request(c(cm::auditCapRequest), a),
            Command::AuditValue(a) => self.audit_request(c(cm::auditValueRequest), a),
            Command::Notify(n) => self.notify_request(c(cm::notifyReq), n),
            Command::ServiceChange(sc) => {
                use tags::ServiceChangeRequest as sq;
                let s = self.w.open(c(cm::serviceChangeReq));
                self.termination_ids(c(sq::terminationID), &sc.termination_ids)?;
                self.within("Services", |e| {
                    e.service_change_parm(c(sq::serviceChangeParms), &sc.parms)
                })?;
                self.w.close(s);
                Ok(())
            }
        }
    }

    fn command_reply(&mut self, cmd: &CommandReply) -> R {
        use tags::CommandReply as cr;
        match cmd {
            CommandReply::Add(r) => self.amms_reply(c(cr::addReply), r),
            CommandReply::Move(r) => self.amms_reply(c(cr::moveReply), r),
            CommandReply::Modify(r) => self.amms_reply(c(cr::modReply), r),
            CommandReply::Subtract(r) => self.amms_reply(c(cr::subtractReply), r),
            CommandReply::AuditCapabilities(r) => self.audit_reply(c(cr::auditCapReply), r),
            CommandReply::AuditValue(r) => self.audit_reply(c(cr::auditValueReply), r),
            CommandReply::Notify(r) => {
                use tags::NotifyReply as nr;
                let s = self.w.open(c(cr::notifyReply));
                self.termination_ids(c(nr::terminationID), &r.termination_ids)?;
                if let Some(ed) = &r.error {
                    self.error_descriptor(c(nr::errorDescriptor), ed)?;
                }
                self.w.close(s);
                Ok(())
            }
            CommandReply::ServiceChange(r) => {
                use tags::{ServiceChangeReply as sr, ServiceChangeResult as res};
                let s = self.w.open(c(cr::serviceChangeReply));
                self.termination_ids(c(sr::terminationID), &r.termination_ids)?;
                let x = self.w.open(c(sr::serviceChangeResult));
                match &r.result {
                    ServiceChangeResult::Error(ed) => {
                        self.error_descriptor(c(res::errorDescriptor), ed)?
                    }
                    ServiceChangeResult::Parms(parms) => {
                        self.service_change_res_parm(c(res::serviceChangeResParms), parms)?
                    }
                }
                self.w.close(x);
                self.w.close(s);
                Ok(())
            }
        }
    }

    fn amm_request(&mut self, id: u8, a: &AmmRequest) -> R {
        use tags::AmmRequest as aq;
        let s = self.w.open(id);
        self.termination_ids(c(aq::terminationID), &a.termination_ids)?;
        let l = self.w.open(c(aq::descriptors));
        for d in &a.descriptors {
            self.amm_descriptor(d)?;
        }
        self.w.close(l);
        self.w.close(s);
        Ok(())
    }

    fn amm_descriptor(&mut self, d: &AmmDescriptor) -> R {
        use tags::AmmDescriptor as ad;
        match d {
            AmmDescriptor::Media(m) => {
                self.within("Media", |e| e.media_descriptor(c(ad::mediaDescriptor), m))
            }
            AmmDescriptor::Modem(m) => {
                self.within("Modem", |e| e.modem_descriptor(c(ad::modemDescriptor), m))
            }
            AmmDescriptor::Mux(m) => self.mux_descriptor(c(ad::muxDescriptor), m),
            AmmDescriptor::Events(ev) => self.within("Events", |e| {
                e.events_descriptor(c(ad::eventsDescriptor), ev, false)
            }),
            AmmDescriptor::EventBuffer(eb) => self.within("EventBuffer", |e| {
                e.event_buffer_descriptor(c(ad::eventBufferDescriptor), eb)
            }),
            AmmDescriptor::Signals(sg) => self.within("Signals", |e| {
                e.signals_descriptor(c(ad::signalsDescriptor), sg)
            }),
            AmmDescriptor::DigitMap(dm) => self.within("DigitMap", |e| {
                e.digit_map_descriptor(c(ad::digitMapDescriptor), dm)
            }),
            AmmDescriptor::Audit(a) => {
                self.within("Audit", |e| e.audit_descriptor(c(ad::auditDescriptor), a))
            }
            AmmDescriptor::Statistics(st) => self.within("Statistics", |e| {
                e.statistics_descriptor(c(ad::statisticsDescriptor), st)
            }),
        }
    }

    fn amms_reply(&mut self, id: u8, r: &AmmsReply) -> R {
        use tags::AmmsReply as ar;
        let s = self.w.open(id);
        self.termination_ids(c(ar::terminationID), &r.termination_ids)?;
        if let Some(a) = &r.audit {
            self.termination_audit(c(ar::terminationAudit), a)?;
        }
        self.w.close(s);
        Ok(())
    }

    /// One termination: terminationID. Several: terminationID = the first and
    /// terminationIDList = all of them. No audit descriptor = the empty one.
    fn audit_request(&mut self, id: u8, a: &AuditRequest) -> R {
        use tags::AuditRequest as aq;
        let first = self.r.audit_first(&a.termination_ids)?;
        let s = self.w.open(id);
        self.termination_id(c(aq::terminationID), first)?;
        match &a.audit {
            Some(d) => self.within("Audit", |e| e.audit_descriptor(c(aq::auditDescriptor), d))?,
            // An empty SEQUENCE: identifier and length 0.
            None => self.w.null(c(aq::auditDescriptor)),
        }
        if a.termination_ids.len() > 1 {
            self.termination_ids(c(aq::terminationIDList), &a.termination_ids)?;
        }
        self.w.close(s);
        Ok(())
    }

    /// An AuditReply CHOICE inside its explicit tag `id`. One termination: auditResult;
    /// several: auditResultTermList.
    fn audit_reply(&mut self, id: u8, r: &AuditReply) -> R {
        use tags::{AuditReply as ar, AuditResult as res};
        let x = self.w.open(id);
        match r {
            AuditReply::ContextAuditResult(ts) => {
                self.termination_ids(c(ar::contextAuditResult), ts)?
            }
            AuditReply::Error(ed) => self.error_descriptor(c(ar::error), ed)?,
            AuditReply::AuditResult {
                termination_ids,
                audit,
            } => match termination_ids.as_slice() {
                [] => return Err(self.r.no_audit_result_tid()),
                [one] => {
                    let s = self.w.open(c(ar::auditResult));
                    self.termination_id(c(res::terminationID), one)?;
                    self.termination_audit(c(res::terminationAuditResult), audit)?;
                    self.w.close(s);
                }
                many => {
                    let s = self.w.open(c(ar::auditResultTermList));
                    self.termination_ids(c(res::terminationID), many)?;
                    self.termination_audit(c(res::terminationAuditResult), audit)?;
                    self.w.close(s);
                }
            },
        }
        self.w.close(x);
        Ok(())
    }

    /// TerminationAudit. Consecutive `Empty` items are one emptyDescriptors element.
    fn termination_audit(&mut self, id: u8, ta: &[AuditReturnParameter]) -> R {
        use tags::AuditReturnParameter as rp;
        let s = self.w.open(id);
        let mut run_start = None;
        for (i, item) in ta.iter().enumerate() {
            if let AuditReturnParameter::Empty(_) = item {
                run_start.get_or_insert(i);
                continue;
            }
            if let Some(start) = run_start.take() {
                self.empty_descriptors(&ta[start..i]);
            }
            match item {
                AuditReturnParameter::Error(ed) => {
                    self.error_descriptor(c(rp::errorDescriptor), ed)?
                }
                AuditReturnParameter::Media(m) => {
                    self.within("Media", |e| e.media_descriptor(c(rp::mediaDescriptor), m))?
                }
                AuditReturnParameter::Modem(m) => {
                    self.within("Modem", |e| e.modem_descriptor(c(rp::modemDescriptor), m))?
                }
                AuditReturnParameter::Mux(m) => self.mux_descriptor(c(rp::muxDescriptor), m)?,
                AuditReturnParameter::Events(ev) => self.within("Events", |e| {
                    e.events_descriptor(c(rp::eventsDescriptor), ev, false)
                })?,
                AuditReturnParameter::EventBuffer(eb) => self.within("EventBuffer", |e| {
                    e.event_buffer_descriptor(c(rp::eventBufferDescriptor), eb)
                })?,
                AuditReturnParameter::Signals(sg) => self.within("Signals", |e| {
                    e.signals_descriptor(c(rp::signalsDescriptor), sg)
                })?,
                AuditReturnParameter::DigitMap(dm) => self.within("DigitMap", |e| {
                    e.digit_map_descriptor(c(rp::digitMapDescriptor), dm)
                })?,
                AuditReturnParameter::ObservedEvents(o) => self.within("ObservedEvents", |e| {
                    e.observed_events_descriptor(c(rp::observedEventsDescriptor), o)
                })?,
                AuditReturnParameter::Statistics(st) => self.within("Statistics", |e| {
                    e.statistics_descriptor(c(rp::statisticsDescriptor), st)
                })?,
                AuditReturnParameter::Packages(ps) => {
                    let l = self.w.open(c(rp::packagesDescriptor));
                    for pk in ps {
                        self.packages_item(c(SEQUENCE), pk)?;
                    }
                    self.w.close(l);
                }
                AuditReturnParameter::Empty(_) => {}
            }
        }
        if let Some(start) = run_start {
            self.empty_descriptors(&ta[start..]);
        }
        self.w.close(s);
        Ok(())
    }

    /// A run of `Empty` items: one emptyDescriptors AuditDescriptor with their bits.
    fn empty_descriptors(&mut self, run: &[AuditReturnParameter]) {
        let bits = named_bit_mask(run.iter().filter_map(|item| match item {
            AuditReturnParameter::Empty(i) => Some(audit_bit(*i)),
            _ => None,
        }));
        let s = self.w.open(c(tags::AuditReturnParameter::emptyDescriptors));
        self.w.bits(p(tags::AuditDescriptor::auditToken), bits);
        self.w.close(s);
    }

    fn audit_descriptor(&mut self, id: u8, a: &AuditDescriptor) -> R {
        use tags::AuditDescriptor as ad;
        let s = self.w.open(id);
        if !a.items.is_empty() {
            let bits = named_bit_mask(a.items.iter().map(|&i| audit_bit(i)));
            self.w.bits(p(ad::auditToken), bits);
        }
        if !a.ind_aud.is_empty() {
            let l = self.w.open(c(ad::auditPropertyToken));
            for ia in &a.ind_aud {
                self.ind_audit_parameter(ia)?;
            }
            self.w.close(l);
        }
        self.w.close(s);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Individual audit (IndAud*).

    fn ind_audit_parameter(&mut self, ia: &IndAuditParameter) -> R {
        use tags::IndAuditParameter as ip;
        match ia {
            IndAuditParameter::Media(m) => self.within("Media", |e| {
                e.ind_aud_media_descriptor(c(ip::indaudmediaDescriptor), m)
            })?,
            IndAuditParameter::Events { request_id, name } => {
                use tags::IndAudEventsDescriptor as ie;
                let n = self.r.pkgd_id(ItemKind::Event, name)?;
                let s = self.w.open(c(ip::indaudeventsDescriptor));
                if let Some(rid) = request_id {
                    self.w.int(p(ie::requestID), *rid);
                }
                self.w.bytes(p(ie::pkgdName), &n);
                self.w.close(s);
            }
            IndAuditParameter::EventBuffer { name, stream } => {
                use tags::IndAudEventBufferDescriptor as ib;
                let n = self.r.pkgd_id(ItemKind::Event, name)?;
                let s = self.w.open(c(ip::indaudeventBufferDescriptor));
                self.w.bytes(p(ib::eventName), &n);
                if let Some(sid) = stream {
                    self.w.int(p(ib::streamID), u32::from(*sid));
                }
                self.w.close(s);
            }
            IndAuditParameter::Signals(sp) => {
                let sp = self.r.ind_aud_signal(sp)?;
                let x = self.w.open(c(ip::indaudsignalsDescriptor));
                self.ind_aud_signals_descriptor(sp)?;
                self.w.close(x);
            }
            IndAuditParameter::DigitMap(n) => {
                let s = self.w.open(c(ip::indauddigitMapDescriptor));
                if let Some(n) = n {
                    let o = self.r.digit_map_name_id(n)?;
                    self.w
                        .bytes(p(tags::IndAudDigitMapDescriptor::digitMapName), &o);
                }
                self.w.close(s);
            }
            IndAuditParameter::Statistics(n) => {
                self.ind_aud_statistics_descriptor(c(ip::indaudstatisticsDescriptor), n)?
            }
            IndAuditParameter::Packages(pk) => {
                self.packages_item(c(ip::indaudpackagesDescriptor), pk)?
            }
        }
        Ok(())
    }

    fn ind_aud_media_descriptor(&mut self, id: u8, m: &IndAudMediaDescriptor) -> R {
        use tags::{IndAudMediaDescriptor as im, StreamDescriptor as sd, Streams as st};
        // map::Enc checks the streams before the TerminationState: so does the order of the
        // errors here (the TerminationState's error is held until the streams are written).
        let streams = self.r.ind_aud_streams(m)?;
        let s = self.w.open(id);
        let term_state = match &m.termination_state {
            Some(t) => self.within("TerminationState", |e| {
                e.ind_aud_termination_state_descriptor(c(im::termStateDescr), t)
            }),
            None => Ok(()),
        };
        match streams {
            None => {}
            Some(IndAudStreamsOf::One(sp)) => {
                let x = self.w.open(c(im::streams));
                self.ind_aud_stream_parms(c(st::oneStream), sp)?;
                self.w.close(x);
            }
            Some(IndAudStreamsOf::Multi(v)) => {
                let x = self.w.open(c(im::streams));
                let l = self.w.open(c(st::multiStream));
                for (sid, sp) in v {
                    at(
                        self,
                        || format!("Stream {sid}"),
                        |e| {
                            let d = e.w.open(c(SEQUENCE));
                            e.w.int(p(sd::streamID), u32::from(*sid));
                            e.ind_aud_stream_parms(c(sd::streamParms), sp)?;
                            e.w.close(d);
                            Ok(())
                        },
                    )?;
                }
                self.w.close(l);
                self.w.close(x);
            }
        }
        term_state?;
        self.w.close(s);
        Ok(())
    }

    fn ind_aud_stream_parms(&mut self, id: u8, sp: &IndAudStreamParms) -> R {
        use tags::StreamParms as sq;
        let s = self.w.open(id);
        if let Some(lc) = &sp.local_control {
            self.within("LocalControl", |e| {
                e.ind_aud_local_control_descriptor(c(sq::localControlDescriptor), lc)
            })?;
        }
        if let Some(l) = &sp.local {
            self.within("Local", |e| {
                e.ind_aud_local_remote_descriptor(c(sq::localDescriptor), l)
            })?;
        }
        if let Some(l) = &sp.remote {
            self.within("Remote", |e| {
                e.ind_aud_local_remote_descriptor(c(sq::remoteDescriptor), l)
            })?;
        }
        if let Some(n) = &sp.statistics {
            self.ind_aud_statistics_descriptor(c(sq::statisticsDescriptor), n)?;
        }
        self.w.close(s);
        Ok(())
    }

    fn ind_aud_local_control_descriptor(&mut self, id: u8, lc: &IndAudLocalControl) -> R {
        use tags::IndAudLocalControlDescriptor as il;
        let sel = self.r.stream_mode_sel(lc.mode_sel)?;
        let s = self.w.open(id);
        if lc.mode {
            self.w.null(p(il::streamMode));
        }
        if lc.reserve_value {
            self.w.null(p(il::reserveValue));
        }
        if lc.reserve_group {
            self.w.null(p(il::reserveGroup));
        }
        if !lc.props.is_empty() {
            let l = self.w.open(c(il::propertyParms));
            for ip in &lc.props {
                self.ind_aud_property_parm(ip)?;
            }
            self.w.close(l);
        }
        if let Some(m) = sel {
            self.w.int(p(il::streamModeSel), m as u32);
        }
        self.w.close(s);
        Ok(())
    }

    fn ind_aud_property_parm(&mut self, ip: &IndAudProp) -> R {
        match ip {
            IndAudProp::Name(n) => self.ind_aud_property_name(n),
            IndAudProp::Select(pp) => self.ind_aud_property_select(pp),
        }
    }

    /// IndAudPropertyParm without propertyParms.
    fn ind_aud_property_name(&mut self, name: &str) -> R {
        let n = self.r.pkgd_id(ItemKind::Property, name)?;
        let s = self.w.open(c(SEQUENCE));
        self.w.bytes(p(tags::IndAudPropertyParm::name), &n);
        self.w.close(s);
        Ok(())
    }

    /// IndAudPropertyParm with propertyParms (a selection).
    fn ind_aud_property_select(&mut self, pp: &PropertyParm) -> R {
        use tags::IndAudPropertyParm as ia;
        let n = self.r.pkgd_id(ItemKind::Property, &pp.name)?;
        let s = self.w.open(c(SEQUENCE));
        self.w.bytes(p(ia::name), &n);
        self.property_parm_named(c(ia::propertyParms), n, pp);
        self.w.close(s);
        Ok(())
    }

    /// An audited Local/Remote: one group; a line with a value is a selection, a line without
    /// values a plain name.
    fn ind_aud_local_remote_descriptor(&mut self, id: u8, l: &LocalRemoteDescriptor) -> R {
        self.r.ind_aud_group_check(l)?;
        let s = self.w.open(id);
        let g = self.w.open(c(tags::IndAudLocalRemoteDescriptor::propGrps));
        for pp in l.groups.iter().flatten() {
            if pp.value.is_empty() {
                self.ind_aud_property_name(&pp.name)?;
            } else {
                self.ind_aud_property_select(pp)?;
            }
        }
        self.w.close(g);
        self.w.close(s);
        Ok(())
    }

    fn ind_aud_termination_state_descriptor(&mut self, id: u8, t: &IndAudTerminationState) -> R {
        use tags::IndAudTerminationStateDescriptor as it;
        let sel = self.r.service_state_sel(t.service_state_sel)?;
        let s = self.w.open(id);
        let l = self.w.open(c(it::propertyParms));
        for ip in &t.props {
            self.ind_aud_property_parm(ip)?;
        }
        self.w.close(l);
        if t.event_buffer_control {
            self.w.null(p(it::eventBufferControl));
        }
        if t.service_state {
            self.w.null(p(it::serviceState));
        }
        if let Some(st) = sel {
            self.w.int(p(it::serviceStateSel), st as u32);
        }
        self.w.close(s);
        Ok(())
    }

    /// An IndAudSignalsDescriptor CHOICE (its explicit tag is the caller's).
    fn ind_aud_signals_descriptor(&mut self, sp: &IndAudSignalParm) -> R {
        use tags::{IndAudSeqSigList as sl, IndAudSignalsDescriptor as sd};
        match sp {
            IndAudSignalParm::Signal {
                name,
                stream,
                request_id,
            } => self.ind_aud_signal(c(sd::signal), name, *stream, *request_id),
            IndAudSignalParm::List { id, signal } => {
                let s = self.w.open(c(sd::seqSigList));
                self.w.int(p(sl::id), u32::from(*id));
                if let Some(n) = signal {
                    self.ind_aud_signal(c(sl::signalList), n, None, None)?;
                }
                self.w.close(s);
                Ok(())
            }
        }
    }

    fn ind_aud_signal(
        &mut self,
        id: u8,
        name: &str,
        stream: Option<u16>,
        request_id: Option<u32>,
    ) -> R {
        use tags::IndAudSignal as is;
        let n = self.r.pkgd_id(ItemKind::Signal, name)?;
        let s = self.w.open(id);
        self.w.bytes(p(is::signalName), &n);
        if let Some(sid) = stream {
            self.w.int(p(is::streamID), u32::from(sid));
        }
        if let Some(rid) = request_id {
            self.w.int(p(is::signalRequestID), rid);
        }
        self.w.close(s);
        Ok(())
    }

    fn ind_aud_statistics_descriptor(&mut self, id: u8, name: &str) -> R {
        let n = self.r.pkgd_id(ItemKind::Statistic, name)?;
        let s = self.w.open(id);
        self.w
            .bytes(p(tags::IndAudStatisticsDescriptor::statName), &n);
        self.w.close(s);
        Ok(())
    }

    /// IndAudPackagesDescriptor / PackagesItem (the same components).
    fn packages_item(&mut self, id: u8, pk: &PackagesItem) -> R {
        use tags::PackagesItem as pi;
        let n = self.r.package_id(&pk.name)?;
        let s = self.w.open(id);
        self.w.bytes(p(pi::packageName), &n);
        self.w.int(p(pi::packageVersion), u32::from(pk.version));
        self.w.close(s);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Notify, events.

    fn notify_request(&mut self, id: u8, n: &NotifyRequest) -> R {
        use tags::{NotifyRequest as nq, ObservedEventsDescriptor as od};
        let s = self.w.open(id);
        self.termination_ids(c(nq::terminationID), &n.termination_ids)?;
        match &n.observed_events {
            Some(o) => self.within("ObservedEvents", |e| {
                e.observed_events_descriptor(c(nq::observedEventsDescriptor), o)
            })?,
            // ObservedEvents is mandatory in ASN.1: none (a v1 error-only Notify) is
            // requestId 0 with an empty list.
            None => {
                let o = self.w.open(c(nq::observedEventsDescriptor));
                self.w.int(p(od::requestId), 0);
                self.w.null(c(od::observedEventLst)); // an empty SEQUENCE OF
                self.w.close(o);
            }
        }
        if let Some(ed) = &n.error {
            self.error_descriptor(c(nq::errorDescriptor), ed)?;
        }
        self.w.close(s);
        Ok(())
    }

    fn observed_events_descriptor(&mut self, id: u8, o: &ObservedEventsDescriptor) -> R {
        use tags::{ObservedEvent as oe, ObservedEventsDescriptor as od};
        let s = self.w.open(id);
        self.w.int(p(od::requestId), o.request_id);
        let l = self.w.open(c(od::observedEventLst));
        for ev in &o.events {
            at(
                self,
                || format!("event '{}'", ev.name),
                |e| {
                    e.event_spec(c(SEQUENCE), &ev.name, ev.stream, &ev.params, |e| match &ev
                        .timestamp
                    {
                        Some(t) => e.time_notation(c(oe::timeNotation), t),
                        None => Ok(()),
                    })
                },
            )?;
        }
        self.w.close(l);
        self.w.close(s);
        Ok(())
    }

    /// EventSpec, and ObservedEvent (the same first components, then what `tail` writes).
    fn event_spec(
        &mut self,
        id: u8,
        name: &str,
        stream: Option<u16>,
        params: &[PropertyParm],
        tail: impl FnOnce(&mut Self) -> R,
    ) -> R {
        use tags::ObservedEvent as oe;
        let n = self.r.pkgd_id(ItemKind::Event, name)?;
        let s = self.w.open(id);
        self.w.bytes(p(oe::eventName), &n);
        if let Some(sid) = stream {
            self.w.int(p(oe::streamID), u32::from(sid));
        }
        self.parameters(c(oe::eventParList), ItemKind::Event, name, params)?;
        tail(self)?;
        self.w.close(s);
        Ok(())
    }

    /// `SEQUENCE OF EventParameter` / `SEQUENCE OF SigParameter` of event/signal `item`.
    fn parameters(&mut self, id: u8, kind: ItemKind, item: &str, ps: &[PropertyParm]) -> R {
        use tags::EventParameter as ep;
        let l = self.w.open(id);
        for pp in ps {
            let n = self.r.param_id(kind, item, &pp.name)?;
            let s = self.w.open(c(SEQUENCE));
            self.w.bytes(p(ep::eventParameterName), &n);
            self.w.values(c(ep::value), &pp.value);
            if let Some(x) = pp.extra {
                self.extra_info(c(ep::extraInfo), x);
            }
            self.w.close(s);
        }
        self.w.close(l);
        Ok(())
    }

    /// An ExtraInfo CHOICE inside its explicit tag `id`.
    fn extra_info(&mut self, id: u8, x: ExtraInfo) {
        use tags::ExtraInfo as xi;
        let s = self.w.open(id);
        match extra_info(x) {
            asn::ExtraInfo::Relation(r) => self.w.int(p(xi::relation), r as u32),
            asn::ExtraInfo::Range(b) => self.w.boolean(p(xi::range), b),
            asn::ExtraInfo::Sublist(b) => self.w.boolean(p(xi::sublist), b),
        }
        self.w.close(s);
    }

    // ---------------------------------------------------------------------------------------
    // ServiceChange.

    fn service_change_parm(&mut self, id: u8, sc: &ServiceChangeParm) -> R {
        use tags::{NonStandardData as nd, ServiceChangeParm as sp};
        // map::Enc checks the method and the extensions first.
        let method = self.r.sc_method(&sc.method)?;
        let extensions = self.r.sc_extensions_data(&sc.extensions)?;
        let s = self.w.open(id);
        self.w.int(p(sp::serviceChangeMethod), method as u32);
        if let Some(a) = &sc.address {
            let x = self.w.open(c(sp::serviceChangeAddress));
            self.service_change_address(a)?;
            self.w.close(x);
        }
        if let Some(v) = sc.version {
            self.w.int(p(sp::serviceChangeVersion), u32::from(v));
        }
        if let Some(pr) = &sc.profile {
            self.service_change_profile(c(sp::serviceChangeProfile), pr)?;
        }
        let r = self.w.open(c(sp::serviceChangeReason));
        if let Some(reason) = &sc.reason {
            self.w.bytes(p(OCTET_STRING), reason.as_bytes());
        }
        self.w.close(r);
        if let Some(d) = sc.delay {
            self.w.int(p(sp::serviceChangeDelay), d);
        }
        if let Some(m) = &sc.mgc_id {
            let x = self.w.open(c(sp::serviceChangeMgcId));
            self.mid(m, &MID_ALTERNATIVES)?;
            self.w.close(x);
        }
        if let Some(t) = &sc.timestamp {
            self.time_notation(c(sp::timeStamp), t)?;
        }
        if let Some(data) = extensions {
            let x = self.w.open(c(sp::nonStandardData));
            let i = self.w.open(c(nd::nonStandardIdentifier));
            self.w.bytes(
                p(tags::NonStandardIdentifier::experimental),
                SC_EXTENSIONS_ID.as_bytes(),
            );
            self.w.close(i);
            self.w.bytes(p(nd::data), data.as_bytes());
            self.w.close(x);
        }
        if let Some(a) = &sc.info {
            self.audit_descriptor(c(sp::serviceChangeInfo), a)?;
        }
        if sc.incomplete {
            self.w.null(p(sp::serviceChangeIncompleteFlag));
        }
        self.w.close(s);
        Ok(())
    }

    /// A ServiceChangeAddress CHOICE (its explicit tag is the caller's).
    fn service_change_address(&mut self, a: &ServiceChangeAddress) -> R {
        use tags::ServiceChangeAddress as sa;
        match a {
            ServiceChangeAddress::Port(port) => {
                self.w.int(p(sa::portNumber), u32::from(*port));
                Ok(())
            }
            ServiceChangeAddress::MId(m) => self.mid(m, &SC_ADDRESS_ALTERNATIVES),
        }
    }

    fn service_change_res_parm(&mut self, id: u8, rp: &ServiceChangeResParm) -> R {
        use tags::ServiceChangeResParm as sr;
        let s = self.w.open(id);
        if let Some(m) = &rp.mgc_id {
            let x = self.w.open(c(sr::serviceChangeMgcId));
            self.mid(m, &MID_ALTERNATIVES)?;
            self.w.close(x);
        }
        if let Some(a) = &rp.address {
            let x = self.w.open(c(sr::serviceChangeAddress));
            self.service_change_address(a)?;
            self.w.close(x);
        }
        if let Some(v) = rp.version {
            self.w.int(p(sr::serviceChangeVersion), u32::from(v));
        }
        if let Some(pr) = &rp.profile {
            self.service_change_profile(c(sr::serviceChangeProfile), pr)?;
        }
        if let Some(t) = &rp.timestamp {
            self.time_notation(c(sr::timestamp), t)?;
        }
        self.w.close(s);
        Ok(())
    }

    fn service_change_profile(&mut self, id: u8, pr: &ServiceChangeProfile) -> R {
        let text = self.r.profile_text(pr)?;
        let s = self.w.open(id);
        self.w
            .bytes(p(tags::ServiceChangeProfile::profileName), text.as_bytes());
        self.w.close(s);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Terminations, media.

    fn termination_id(&mut self, id: u8, t: &TerminationId) -> R {
        use tags::TerminationID as ti;
        let o = self.r.tid_octets(t)?;
        let s = self.w.open(id);
        let l = self.w.open(c(ti::wildcard));
        for &w in o.wildcard() {
            self.w.bytes(p(OCTET_STRING), &[w]);
        }
        self.w.close(l);
        self.w.bytes(p(ti::id), o.id());
        self.w.close(s);
        Ok(())
    }

    /// `TerminationIDList ::= SEQUENCE OF TerminationID`.
    fn termination_ids(&mut self, id: u8, ts: &[TerminationId]) -> R {
        let l = self.w.open(id);
        for t in ts {
            self.termination_id(c(SEQUENCE), t)?;
        }
        self.w.close(l);
        Ok(())
    }

    fn media_descriptor(&mut self, id: u8, m: &MediaDescriptor) -> R {
        use tags::{MediaDescriptor as md, StreamDescriptor as sd, Streams as st};
        let s = self.w.open(id);
        if let Some(t) = &m.termination_state {
            self.within("TerminationState", |e| {
                e.termination_state_descriptor(c(md::termStateDescr), t)
            })?;
        }
        match &m.streams {
            None => {}
            Some(Streams::One(sp)) => {
                let x = self.w.open(c(md::streams));
                self.stream_parms(c(st::oneStream), sp)?;
                self.w.close(x);
            }
            Some(Streams::Multi(v)) => {
                let x = self.w.open(c(md::streams));
                let l = self.w.open(c(st::multiStream));
                for sdesc in v {
                    at(
                        self,
                        || format!("Stream {}", sdesc.id),
                        |e| {
                            let d = e.w.open(c(SEQUENCE));
                            e.w.int(p(sd::streamID), u32::from(sdesc.id));
                            e.stream_parms(c(sd::streamParms), &sdesc.parms)?;
                            e.w.close(d);
                            Ok(())
                        },
                    )?;
                }
                self.w.close(l);
                self.w.close(x);
            }
        }
        self.w.close(s);
        Ok(())
    }

    fn stream_parms(&mut self, id: u8, sp: &StreamParms) -> R {
        use tags::StreamParms as sq;
        let s = self.w.open(id);
        if let Some(lc) = &sp.local_control {
            self.within("LocalControl", |e| {
                e.local_control_descriptor(c(sq::localControlDescriptor), lc)
            })?;
        }
        if let Some(l) = &sp.local {
            self.within("Local", |e| {
                e.local_remote_descriptor(c(sq::localDescriptor), l)
            })?;
        }
        if let Some(l) = &sp.remote {
            self.within("Remote", |e| {
                e.local_remote_descriptor(c(sq::remoteDescriptor), l)
            })?;
        }
        if let Some(st) = &sp.statistics {
            self.within("Statistics", |e| {
                e.statistics_descriptor(c(sq::statisticsDescriptor), st)
            })?;
        }
        self.w.close(s);
        Ok(())
    }

    fn local_control_descriptor(&mut self, id: u8, lc: &LocalControlDescriptor) -> R {
        use tags::LocalControlDescriptor as lq;
        let s = self.w.open(id);
        if let Some(m) = lc.mode {
            self.w.int(p(lq::streamMode), stream_mode(m) as u32);
        }
        if let Some(b) = lc.reserve_value {
            self.w.boolean(p(lq::reserveValue), b);
        }
        if let Some(b) = lc.reserve_group {
            self.w.boolean(p(lq::reserveGroup), b);
        }
        self.property_parms(c(lq::propertyParms), &lc.props)?;
        self.w.close(s);
        Ok(())
    }

    /// `SEQUENCE OF PropertyParm` (a PropertyGroup, the propertyParms of a descriptor).
    fn property_parms(&mut self, id: u8, ps: &[PropertyParm]) -> R {
        let l = self.w.open(id);
        for pp in ps {
            let n = self.r.pkgd_id(ItemKind::Property, &pp.name)?;
            self.property_parm_named(c(SEQUENCE), n, pp);
        }
        self.w.close(l);
        Ok(())
    }

    /// A PropertyParm whose name's PkgdName `name` is looked up.
    fn property_parm_named(&mut self, id: u8, name: [u8; 4], pp: &PropertyParm) {
        use tags::PropertyParm as pm;
        let s = self.w.open(id);
        self.w.bytes(p(pm::name), &name);
        self.w.values(c(pm::value), &pp.value);
        if let Some(x) = pp.extra {
            self.extra_info(c(pm::extraInfo), x);
        }
        self.w.close(s);
    }

    /// SDP: each line a PropertyParm of package 0x0000 with its Annex C tag, groups 1:1.
    fn local_remote_descriptor(&mut self, id: u8, l: &LocalRemoteDescriptor) -> R {
        let s = self.w.open(id);
        let g = self.w.open(c(tags::LocalRemoteDescriptor::propGrps));
        for grp in &l.groups {
            self.property_parms(c(SEQUENCE), grp)?;
        }
        self.w.close(g);
        self.w.close(s);
        Ok(())
    }

    fn termination_state_descriptor(&mut self, id: u8, t: &TerminationStateDescriptor) -> R {
        use tags::TerminationStateDescriptor as ts;
        let s = self.w.open(id);
        self.property_parms(c(ts::propertyParms), &t.props)?;
        if let Some(ebc) = t.event_buffer_control {
            self.w
                .int(p(ts::eventBufferControl), event_buffer_control(ebc) as u32);
        }
        if let Some(st) = t.service_state {
            self.w.int(p(ts::serviceState), service_state(st) as u32);
        }
        self.w.close(s);
        Ok(())
    }

    fn mux_descriptor(&mut self, id: u8, m: &MuxDescriptor) -> R {
        use tags::MuxDescriptor as mx;
        let s = self.w.open(id);
        self.w.int(p(mx::muxType), mux_type(m.mux_type) as u32);
        self.termination_ids(c(mx::termList), &m.termination_ids)?;
        self.w.close(s);
        Ok(())
    }

    /// EventsDescriptor, or SecondEventsDescriptor (`second`: embedded events).
    fn events_descriptor(&mut self, id: u8, ev: &EventsDescriptor, second: bool) -> R {
        use tags::EventsDescriptor as ed;
        let s = self.w.open(id);
        if let Some(rid) = ev.request_id {
            self.w.int(p(ed::requestID), rid);
        }
        let l = self.w.open(c(ed::eventList));
        for r in &ev.events {
            at(
                self,
                || format!("event '{}'", r.name),
                |e| e.requested_event(r, second),
            )?;
        }
        self.w.close(l);
        self.w.close(s);
        Ok(())
    }

    /// RequestedEvent, or SecondRequestedEvent (`second`), which cannot embed events.
    fn requested_event(&mut self, r: &RequestedEvent, second: bool) -> R {
        use tags::RequestedEvent as re;
        if second {
            self.r.second_event_check(r)?;
        }
        // map::Enc builds the RequestedActions before it looks the name up: an error in the
        // actions comes first.
        let name = self.r.pkgd_id(ItemKind::Event, &r.name);
        let s = self.w.open(c(SEQUENCE));
        if let Ok(n) = &name {
            self.w.bytes(p(re::pkgdName), n);
        }
        if let Some(sid) = r.stream {
            self.w.int(p(re::streamID), u32::from(sid));
        }
        if has_requested_actions(r) {
            self.requested_actions(c(re::eventAction), r, second)?;
        }
        name?;
        self.parameters(c(re::evParList), ItemKind::Event, &r.name, &r.params)?;
        self.w.close(s);
        Ok(())
    }

    /// RequestedActions, or SecondRequestedActions (`second`).
    fn requested_actions(&mut self, id: u8, r: &RequestedEvent, second: bool) -> R {
        use tags::{EventDM as dm, RequestedActions as ra};
        let tail: &ActionTags = if second {
            &SECOND_REQUESTED_ACTIONS_TAIL
        } else {
            &REQUESTED_ACTIONS_TAIL
        };
        let s = self.w.open(id);
        if r.keep_active {
            self.w.boolean(p(ra::keepActive), true);
        }
        if let Some(d) = &r.digit_map {
            let x = self.w.open(c(ra::eventDM));
            match self.r.event_dm(d)? {
                EventDm::Name(n) => {
                    let o = self.r.digit_map_name_id(n)?;
                    self.w.bytes(p(dm::digitMapName), &o);
                }
                EventDm::Value(v) => self.digit_map_value(c(dm::digitMapValue), v)?,
            }
            self.w.close(x);
        }
        if let Some(ev) = &r.embed_events {
            self.within("Embed Events", |e| {
                e.events_descriptor(c(ra::secondEvent), ev, true)
            })?;
        }
        if let Some(sg) = &r.embed_signals {
            self.within("Embed Signals", |e| {
                e.signals_descriptor(c(tail.signals_descriptor), sg)
            })?;
        }
        if let Some(nb) = &r.notify_behaviour {
            self.notify_behaviour(c(tail.notify_behaviour), nb)?;
        }
        if r.reset_events {
            self.w.null(p(tail.reset_events_descriptor));
        }
        self.w.close(s);
        Ok(())
    }

    /// A NotifyBehaviour CHOICE inside its explicit tag `id`.
    fn notify_behaviour(&mut self, id: u8, nb: &NotifyBehaviour) -> R {
        use tags::{NotifyBehaviour as nt, RegulatedEmbeddedDescriptor as rd};
        let x = self.w.open(id);
        match nb {
            NotifyBehaviour::Immediate => self.w.null(p(nt::notifyImmediate)),
            NotifyBehaviour::Never => self.w.null(p(nt::neverNotify)),
            NotifyBehaviour::Regulated { events, signals } => {
                let s = self.w.open(c(nt::notifyRegulated));
                if let Some(ev) = events {
                    self.within("RegulatedNotify Events", |e| {
                        e.events_descriptor(c(rd::secondEvent), ev, true)
                    })?;
                }
                if let Some(sg) = signals {
                    self.within("RegulatedNotify Signals", |e| {
                        e.signals_descriptor(c(rd::signalsDescriptor), sg)
                    })?;
                }
                self.w.close(s);
            }
        }
        self.w.close(x);
        Ok(())
    }

    /// `EventBufferDescriptor ::= SEQUENCE OF EventSpec`.
    fn event_buffer_descriptor(&mut self, id: u8, eb: &[EventSpec]) -> R {
        let l = self.w.open(id);
        for sp in eb {
            at(
                self,
                || format!("event '{}'", sp.name),
                |e| e.event_spec(c(SEQUENCE), &sp.name, sp.stream, &sp.params, |_| Ok(())),
            )?;
        }
        self.w.close(l);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Signals.

    /// `SignalsDescriptor ::= SEQUENCE OF SignalRequest`.
    fn signals_descriptor(&mut self, id: u8, items: &[SignalsItem]) -> R {
        use tags::{SeqSigList as sl, SignalRequest as sr};
        let l = self.w.open(id);
        for item in items {
            match item {
                SignalsItem::Signal(sig) => self.signal(c(sr::signal), sig)?,
                SignalsItem::List {
                    id: list_id,
                    signals,
                } => at(
                    self,
                    || format!("SignalList {list_id}"),
                    |e| {
                        let s = e.w.open(c(sr::seqSigList));
                        e.w.int(p(sl::id), u32::from(*list_id));
                        let list = e.w.open(c(sl::signalList));
                        for sig in signals {
                            e.signal(c(SEQUENCE), sig)?;
                        }
                        e.w.close(list);
                        e.w.close(s);
                        Ok(())
                    },
                )?,
            }
        }
        self.w.close(l);
        Ok(())
    }

    fn signal(&mut self, id: u8, sig: &Signal) -> R {
        use tags::Signal as sg;
        at(
            self,
            || format!("signal '{}'", sig.name),
            |e| {
                let n = e.r.pkgd_id(ItemKind::Signal, &sig.name)?;
                let s = e.w.open(id);
                e.w.bytes(p(sg::signalName), &n);
                if let Some(sid) = sig.stream {
                    e.w.int(p(sg::streamID), u32::from(sid));
                }
                if let Some(t) = sig.signal_type {
                    e.w.int(p(sg::sigType), signal_type(t) as u32);
                }
                if let Some(d) = sig.duration {
                    e.w.int(p(sg::duration), u32::from(d));
                }
                if let Some(nc) = &sig.notify_completion {
                    let bits = named_bit_mask(nc.iter().map(|&n| completion_bit(n)));
                    e.w.bits(p(sg::notifyCompletion), bits);
                }
                if sig.keep_active {
                    e.w.boolean(p(sg::keepActive), true);
                }
                e.parameters(c(sg::sigParList), ItemKind::Signal, &sig.name, &sig.params)?;
                if let Some(d) = sig.direction {
                    e.w.int(p(sg::direction), signal_direction(d) as u32);
                }
                if let Some(rid) = sig.request_id {
                    e.w.int(p(sg::requestID), rid);
                }
                if let Some(d) = sig.intersig_delay {
                    e.w.int(p(sg::intersigDelay), u32::from(d));
                }
                e.w.close(s);
                Ok(())
            },
        )
    }

    // ---------------------------------------------------------------------------------------
    // Modem, digit maps.

    fn modem_descriptor(&mut self, id: u8, m: &ModemDescriptor) -> R {
        use tags::ModemDescriptor as md;
        let s = self.w.open(id);
        let l = self.w.open(c(md::mtl));
        for t in &m.types {
            let mt = self.r.modem_type(t)?;
            self.w.int(p(ENUMERATED), mt as u32);
        }
        self.w.close(l);
        self.property_parms(c(md::mpl), &m.props)?;
        self.w.close(s);
        Ok(())
    }

    fn digit_map_descriptor(&mut self, id: u8, d: &DigitMapDescriptor) -> R {
        use tags::DigitMapDescriptor as dd;
        let s = self.w.open(id);
        if let Some(n) = &d.name {
            let o = self.r.digit_map_name_id(n)?;
            self.w.bytes(p(dd::digitMapName), &o);
        }
        if let Some(v) = &d.value {
            self.digit_map_value(c(dd::digitMapValue), v)?;
        }
        self.w.close(s);
        Ok(())
    }

    fn digit_map_value(&mut self, id: u8, v: &DigitMapValue) -> R {
        use tags::DigitMapValue as dv;
        let body = self.r.ia5_octets("digit map body", &v.body)?;
        let s = self.w.open(id);
        for (t, timer) in [
            (dv::startTimer, v.start_timer),
            (dv::shortTimer, v.short_timer),
            (dv::longTimer, v.long_timer),
        ] {
            if let Some(timer) = timer {
                self.w.int(p(t), u32::from(timer));
            }
        }
        self.w.bytes(p(dv::digitMapBody), body);
        if let Some(timer) = v.duration_timer {
            self.w.int(p(dv::durationTimer), u32::from(timer));
        }
        self.w.close(s);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Statistics, time.

    /// `StatisticsDescriptor ::= SEQUENCE OF StatisticsParameter`.
    fn statistics_descriptor(&mut self, id: u8, st: &[StatisticsParameter]) -> R {
        use tags::StatisticsParameter as sp;
        let l = self.w.open(id);
        for sparm in st {
            let n = self.r.pkgd_id(ItemKind::Statistic, &sparm.name)?;
            let s = self.w.open(c(SEQUENCE));
            self.w.bytes(p(sp::statName), &n);
            if let Some(v) = &sparm.value {
                self.w.values(c(sp::statValue), v);
            }
            self.w.close(s);
        }
        self.w.close(l);
        Ok(())
    }

    fn time_notation(&mut self, id: u8, t: &TimeNotation) -> R {
        use tags::TimeNotation as tn;
        let date = self.r.ia5_octets("time stamp date", &t.date)?;
        let time = self.r.ia5_octets("time stamp time", &t.time)?;
        let s = self.w.open(id);
        self.w.bytes(p(tn::date), date);
        self.w.bytes(p(tn::time), time);
        self.w.close(s);
        Ok(())
    }
}
