//! The message model ([`crate::model`]) ⇔ the ASN.1 types ([`super::asn`]).
//!
//! [`Enc`] turns a [`Message`] into an [`asn::MegacoMessage`], [`Dec`] the other way;
//! [`EncRules`] are the encoding rules `Enc` shares with the direct encoder
//! (`super::direct_enc`, model → BER octets, what `BinaryCodec::encode` uses). The rules
//! (names to IDs, SDP, values, the constructs whose text and ASN.1 forms differ, termination IDs)
//! are documented on the module [`super`] and in `src/binary/README.md`; the comments here only
//! point at the rule a piece of code implements.

use super::asn;
use super::termid::{TermIdMapping, TidOctets};
use super::{BinDecodeError, EncodeError};
use crate::model::*;
use crate::packages::{is_reserved_item_name, ItemKind, Registry, WILDCARD_ID};
use asn::{BitString, FixedOctetString, Ia5String, OctetString};

/// H.248 code of every [`EncodeError`]: what megaco answers when its binary encoder cannot
/// express something (500 Internal software failure in the MG).
pub const ENCODE_ERROR_CODE: u16 = 500;
/// H.248 code of a BER message that is not valid (400 Syntax error in message).
pub const MALFORMED_CODE: u16 = 400;
/// H.248 code of valid BER the model cannot carry (501 Not implemented).
pub const UNSUPPORTED_CODE: u16 = 501;

/// `nonStandardIdentifier experimental` that marks ServiceChange extension parameters.
pub const SC_EXTENSIONS_ID: &str = "X-IQ-EXT";

type R<T, E> = Result<T, E>;

/// Bit numbers of `AuditDescriptor.auditToken` (muxToken(0) ... eventBufferToken(9)).
pub(crate) fn audit_bit(i: AuditItem) -> usize {
    match i {
        AuditItem::Mux => 0,
        AuditItem::Modem => 1,
        AuditItem::Media => 2,
        AuditItem::Events => 3,
        AuditItem::Signals => 4,
        AuditItem::DigitMap => 5,
        AuditItem::Statistics => 6,
        AuditItem::ObservedEvents => 7,
        AuditItem::Packages => 8,
        AuditItem::EventBuffer => 9,
    }
}

const AUDIT_ITEMS: [AuditItem; 10] = [
    AuditItem::Mux,
    AuditItem::Modem,
    AuditItem::Media,
    AuditItem::Events,
    AuditItem::Signals,
    AuditItem::DigitMap,
    AuditItem::Statistics,
    AuditItem::ObservedEvents,
    AuditItem::Packages,
    AuditItem::EventBuffer,
];

pub(crate) fn completion_bit(n: NotifyCompletion) -> usize {
    match n {
        NotifyCompletion::OnTimeOut => 0,
        NotifyCompletion::OnInterruptByEvent => 1,
        NotifyCompletion::OnInterruptByNewSignalDescr => 2,
        NotifyCompletion::OtherReason => 3,
        NotifyCompletion::Iteration => 4,
    }
}

const COMPLETIONS: [NotifyCompletion; 5] = [
    NotifyCompletion::OnTimeOut,
    NotifyCompletion::OnInterruptByEvent,
    NotifyCompletion::OnInterruptByNewSignalDescr,
    NotifyCompletion::OtherReason,
    NotifyCompletion::Iteration,
];

/// A named-bit BIT STRING as DER writes it: up to the highest set bit (no trailing zero bits).
fn named_bits(bits: impl IntoIterator<Item = usize>) -> BitString {
    let (mask, len) = named_bit_mask(bits);
    let mut bs = BitString::from_slice(&mask.to_be_bytes());
    bs.truncate(len);
    bs
}

/// The named bits (numbers 0..=15) as the first two octets of their BIT STRING (bit 0 is the
/// high bit of the first octet) and the DER length in bits: up to the highest set bit.
pub(crate) fn named_bit_mask(bits: impl IntoIterator<Item = usize>) -> (u16, usize) {
    bits.into_iter().fold((0, 0), |(mask, len), b| {
        (mask | 0x8000 >> b, len.max(b + 1))
    })
}

const MODEM_TYPES: [(&str, asn::ModemType); 9] = [
    ("v18", asn::ModemType::V18),
    ("v22", asn::ModemType::V22),
    ("v22b", asn::ModemType::V22bis),
    ("v32", asn::ModemType::V32),
    ("v32b", asn::ModemType::V32bis),
    ("v34", asn::ModemType::V34),
    ("v90", asn::ModemType::V90),
    ("v91", asn::ModemType::V91),
    ("synchisdn", asn::ModemType::SynchIsdn),
];

/// Digit map name ⇔ `Name` (2 octets): megaco's `dialplanDD` (each octet one decimal digit,
/// `dialplanD` and `dialplan` accepted on encoding as `dialplan0D` / `dialplan00`), and
/// `dialplanXXXX` (4 hex digits) for octet pairs megaco's form cannot write.
pub fn digit_map_name_to_octets(name: &str) -> Option<[u8; 2]> {
    let rest = name.to_ascii_lowercase();
    let rest = rest.strip_prefix("dialplan")?;
    let d = |c: u8| c.is_ascii_digit().then(|| c - b'0');
    match rest.as_bytes() {
        [] => Some([0, 0]),
        [b] => Some([0, d(*b)?]),
        [a, b] => Some([d(*a)?, d(*b)?]),
        [_, _, _, _] if rest.bytes().all(|c| c.is_ascii_hexdigit()) => {
            let v = u16::from_str_radix(rest, 16).ok()?;
            Some(v.to_be_bytes())
        }
        _ => None,
    }
}

/// `Name` octets of a digit map → its text name (see [`digit_map_name_to_octets`]).
pub fn digit_map_name_from_octets(o: [u8; 2]) -> String {
    // Written out by hand: `format!` cost some 600 instructions a name.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(12);
    s.push_str("dialplan");
    if o[0] <= 9 && o[1] <= 9 {
        o.iter().for_each(|&d| s.push(char::from(b'0' + d)));
    } else {
        for b in o {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    s
}

// =============================================================================================
// Encoding.

/// The model → BER mapping rules that are not about building a value: the package table and
/// termination ID lookups, the checks, and the errors with their paths. Shared by [`Enc`]
/// (model → ASN.1 values) and the direct encoder ([`super::direct_enc`], model → octets), so
/// both answer the same names, octets and errors.
pub(crate) struct EncRules<'a> {
    pub(crate) reg: &'a Registry,
    pub(crate) tids: &'a TermIdMapping,
    /// The transaction being encoded, for [`EncodeError::transaction_id`].
    pub(crate) transaction: Option<u32>,
}

/// An event's digit map in ASN.1 (EventDM): a name or a value.
pub(crate) enum EventDm<'d> {
    Name(&'d str),
    Value(&'d DigitMapValue),
}

/// The streams of an individual Media audit in ASN.1 (IndAudStreams).
pub(crate) enum IndAudStreamsOf<'m> {
    One(&'m IndAudStreamParms),
    Multi(&'m [(u16, IndAudStreamParms)]),
}

impl<'a> EncRules<'a> {
    pub(crate) fn new(reg: &'a Registry, tids: &'a TermIdMapping) -> Self {
        EncRules {
            reg,
            tids,
            transaction: None,
        }
    }

    pub(crate) fn err(&self, item: impl Into<String>, reason: impl Into<String>) -> EncodeError {
        EncodeError {
            // Filled in by `at` on the way out (`message` when nothing is).
            path: String::new(),
            item: item.into(),
            reason: reason.into(),
            code: ENCODE_ERROR_CODE,
            transaction_id: self.transaction,
        }
    }

    /// The error of a non-ASCII text where ASN.1 has an IA5String.
    pub(crate) fn not_ia5(&self, what: &str, s: &str) -> EncodeError {
        self.err(
            format!("{what} '{s}'"),
            "not ASCII, but the ASN.1 type is IA5String",
        )
    }

    /// `s` as IA5String octets (ASCII, 0x00..=0x7F).
    pub(crate) fn ia5_octets<'s>(&self, what: &str, s: &'s str) -> R<&'s [u8], EncodeError> {
        if s.is_ascii() {
            Ok(s.as_bytes())
        } else {
            Err(self.not_ia5(what, s))
        }
    }

    /// PkgdName: package ID and item ID of `name` as an item of `kind`.
    pub(crate) fn pkgd_id(&self, kind: ItemKind, name: &str) -> R<[u8; 4], EncodeError> {
        match self.reg.item_ids(kind, name) {
            Some((p, i)) => {
                let [a, b] = p.to_be_bytes();
                let [c, d] = i.to_be_bytes();
                Ok([a, b, c, d])
            }
            None => Err(self.err(
                format!("{} '{name}'", kind.as_str()),
                format!(
                    "no binary ID for this {} in the package table, and not of the pXXXX/iXXXX form",
                    kind.as_str()
                ),
            )),
        }
    }

    /// `Name` of parameter `param` of the event/signal `item`.
    pub(crate) fn param_id(
        &self,
        kind: ItemKind,
        item: &str,
        param: &str,
    ) -> R<[u8; 2], EncodeError> {
        let id = self.reg.param_id(kind, item, param).or_else(|| {
            is_reserved_item_name(param)
                .then(|| u16::from_str_radix(&param[1..], 16).ok())
                .flatten()
        });
        match id {
            Some(id) => Ok(id.to_be_bytes()),
            None => Err(self.err(
                format!("parameter '{param}' of {} '{item}'", kind.as_str()),
                "no binary ID for this parameter in the package table, and not of the iXXXX form",
            )),
        }
    }

    /// A termination ID's wildcard and id octets.
    pub(crate) fn tid_octets(&self, t: &TerminationId) -> R<TidOctets, EncodeError> {
        self.tids
            .encode_octets(t.as_str())
            .map_err(|why| self.err(format!("termination ID '{}'", t.as_str()), why))
    }

    /// MTP point code: the hex digits as 2 to 4 octets (an odd count gets a leading 0).
    pub(crate) fn mtp_octets(&self, hex: &str) -> R<Vec<u8>, EncodeError> {
        let h = if hex.len() % 2 == 1 {
            format!("0{hex}")
        } else {
            hex.to_string()
        };
        let octets: Option<Vec<u8>> = (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
            .collect();
        match octets {
            Some(o) if (2..=4).contains(&o.len()) => Ok(o),
            _ => Err(self.err(
                format!("MTP address '{hex}'"),
                "not 3 to 8 hex digits (the ASN.1 OCTET STRING has 2 to 4 octets)",
            )),
        }
    }

    pub(crate) fn small(&self, what: &str, v: u16, max: u16) -> R<u8, EncodeError> {
        if v > max {
            return Err(self.err(format!("{what} {v}"), format!("out of range 0..={max}")));
        }
        Ok(v as u8)
    }

    pub(crate) fn digit_map_name_id(&self, n: &str) -> R<[u8; 2], EncodeError> {
        digit_map_name_to_octets(n).ok_or_else(|| {
            self.err(
                format!("digit map name '{n}'"),
                "binary digit map names are 2 octets: only dialplanDD (decimal) and \
                 dialplanXXXX (hex) have one",
            )
        })
    }

    pub(crate) fn package_id(&self, name: &str) -> R<[u8; 2], EncodeError> {
        match self.reg.package_id(name) {
            Some(id) => Ok(id.to_be_bytes()),
            None => Err(self.err(
                format!("package '{name}'"),
                "no binary ID for this package in the package table, and not of the pXXXX form",
            )),
        }
    }

    pub(crate) fn modem_type(&self, t: &str) -> R<asn::ModemType, EncodeError> {
        MODEM_TYPES
            .iter()
            .find(|(n, _)| t.eq_ignore_ascii_case(n))
            .map(|(_, v)| *v)
            .ok_or_else(|| self.err(format!("modem type '{t}'"), "not a ModemType of ASN.1"))
    }

    /// An event's digit map: a name or a value (EventDM), not both.
    pub(crate) fn event_dm<'d>(&self, dm: &'d DigitMapDescriptor) -> R<EventDm<'d>, EncodeError> {
        match (&dm.name, &dm.value) {
            (Some(n), None) => Ok(EventDm::Name(n)),
            (None, Some(v)) => Ok(EventDm::Value(v)),
            _ => Err(self.err(
                "DigitMap",
                "an event's digit map is a name or a value in ASN.1 (EventDM), not both",
            )),
        }
    }

    /// Embedded events: a SecondEventsDescriptor, whose events cannot embed events again.
    pub(crate) fn second_event_check(&self, r: &RequestedEvent) -> R<(), EncodeError> {
        if r.embed_events.is_some() {
            return Err(self.err(
                "Embed Events",
                "an embedded event cannot embed events again in ASN.1 \
             (SecondRequestedActions has no secondEvent)",
            ));
        }
        Ok(())
    }

    /// AuditValue/AuditCapability request: the first termination (`terminationID`).
    pub(crate) fn audit_first<'t>(
        &self,
        ts: &'t [TerminationId],
    ) -> R<&'t TerminationId, EncodeError> {
        ts.first()
            .ok_or_else(|| self.err("AuditRequest", "no termination ID"))
    }

    /// The error of an audit result without termination ID.
    pub(crate) fn no_audit_result_tid(&self) -> EncodeError {
        self.err("AuditResult", "no termination ID")
    }

    pub(crate) fn ind_aud_signal<'p>(
        &self,
        s: &'p Option<IndAudSignalParm>,
    ) -> R<&'p IndAudSignalParm, EncodeError> {
        s.as_ref().ok_or_else(|| {
            self.err(
                "Signals { }",
                "an individual audit of all signals has no ASN.1 form \
                 (IndAudSignalsDescriptor needs a signal or a signal list)",
            )
        })
    }

    pub(crate) fn ind_aud_streams<'m>(
        &self,
        m: &'m IndAudMediaDescriptor,
    ) -> R<Option<IndAudStreamsOf<'m>>, EncodeError> {
        match (&m.stream_parms, m.streams.is_empty()) {
            (Some(_), false) => Err(self.err(
                "Media audit",
                "both stream parameters and Stream blocks: ASN.1 has one or the other",
            )),
            (Some(sp), true) => Ok(Some(IndAudStreamsOf::One(sp))),
            (None, false) => Ok(Some(IndAudStreamsOf::Multi(&m.streams))),
            (None, true) => Ok(None),
        }
    }

    /// `ServiceStates = x` (selection by equality) of an audited TerminationState.
    pub(crate) fn service_state_sel(
        &self,
        sel: Option<(bool, ServiceState)>,
    ) -> R<Option<asn::ServiceState>, EncodeError> {
        self.equality_sel(sel, service_state, "ServiceStates", "serviceStateSel")
    }

    /// `Mode = x` (selection by equality) of an audited LocalControl.
    pub(crate) fn stream_mode_sel(
        &self,
        sel: Option<(bool, StreamMode)>,
    ) -> R<Option<asn::StreamMode>, EncodeError> {
        self.equality_sel(sel, stream_mode, "Mode", "streamModeSel")
    }

    /// A selection `(equal, value)`: ASN.1 has the `=` form only (`component`).
    fn equality_sel<T, A>(
        &self,
        sel: Option<(bool, T)>,
        to_asn: fn(T) -> A,
        keyword: &str,
        component: &str,
    ) -> R<Option<A>, EncodeError> {
        match sel {
            None => Ok(None),
            Some((true, v)) => Ok(Some(to_asn(v))),
            Some((false, _)) => Err(self.err(
                format!("{keyword} # ..."),
                format!("ASN.1 selects by equality only ({component})"),
            )),
        }
    }

    /// An audited Local/Remote has one property group.
    pub(crate) fn ind_aud_group_check(&self, l: &LocalRemoteDescriptor) -> R<(), EncodeError> {
        if l.groups.len() > 1 {
            return Err(self.err(
                "property groups",
                "an audited Local/Remote has a single property group in ASN.1",
            ));
        }
        Ok(())
    }

    pub(crate) fn sc_method(
        &self,
        m: &ServiceChangeMethod,
    ) -> R<asn::ServiceChangeMethod, EncodeError> {
        Ok(match m {
            ServiceChangeMethod::Failover => asn::ServiceChangeMethod::Failover,
            ServiceChangeMethod::Forced => asn::ServiceChangeMethod::Forced,
            ServiceChangeMethod::Graceful => asn::ServiceChangeMethod::Graceful,
            ServiceChangeMethod::Restart => asn::ServiceChangeMethod::Restart,
            ServiceChangeMethod::Disconnected => asn::ServiceChangeMethod::Disconnected,
            ServiceChangeMethod::HandOff => asn::ServiceChangeMethod::HandOff,
            ServiceChangeMethod::Extension(m) => {
                return Err(self.err(
                    format!("ServiceChange method '{m}'"),
                    "ServiceChangeMethod is a closed ENUMERATED in ASN.1: extension methods have no binary form",
                ))
            }
        })
    }

    /// ServiceChange extension parameters (nonStandardData `X-IQ-EXT`), `None` without any.
    pub(crate) fn sc_extensions_data(
        &self,
        ext: &[PropertyParm],
    ) -> R<Option<String>, EncodeError> {
        if ext.is_empty() {
            Ok(None)
        } else {
            self.sc_extensions(ext).map(Some)
        }
    }

    /// `Profile = name/version` as the IA5String `"name/version"`.
    pub(crate) fn profile_text(&self, p: &ServiceChangeProfile) -> R<String, EncodeError> {
        let s = format!("{}/{}", p.name, p.version);
        self.ia5_octets("profile", &s)?;
        Ok(s)
    }

    /// ServiceChange extension parameters as Annex B text in the nonStandardData octets:
    /// `X-a="v",X+b>"w",X-c={"1","2"},X-d=["1","2"],X-e=["1":"2"]`, every value quoted.
    pub(crate) fn sc_extensions(&self, ext: &[PropertyParm]) -> R<String, EncodeError> {
        let mut out = String::new();
        for (i, p) in ext.iter().enumerate() {
            let bad = |why: &str| self.err(format!("ServiceChange extension '{}'", p.name), why);
            if p.name.is_empty() || p.name.contains(['=', '>', '<', '#', ',', '"']) {
                return Err(bad("name with a separator character"));
            }
            if p.value.iter().any(|v| v.contains('"')) {
                return Err(bad("value with a '\"'"));
            }
            let q = |v: &Text| format!("\"{v}\"");
            let vals = |sep: &str| p.value.iter().map(q).collect::<Vec<_>>().join(sep);
            if i > 0 {
                out.push(',');
            }
            out.push_str(&p.name);
            match p.extra {
                None | Some(ExtraInfo::Relation(_)) if p.value.len() != 1 => {
                    return Err(bad("needs exactly one value"))
                }
                None => out.push_str(&format!("={}", vals(""))),
                Some(ExtraInfo::Relation(r)) => {
                    let op = match r {
                        Relation::GreaterThan => '>',
                        Relation::SmallerThan => '<',
                        Relation::UnequalTo => '#',
                    };
                    out.push_str(&format!("{op}{}", vals("")));
                }
                Some(ExtraInfo::Sublist(false)) => out.push_str(&format!("={{{}}}", vals(","))),
                Some(ExtraInfo::Sublist(true)) => out.push_str(&format!("=[{}]", vals(","))),
                Some(ExtraInfo::Range(true)) if p.value.len() == 2 => {
                    out.push_str(&format!("=[{}]", vals(":")))
                }
                Some(ExtraInfo::Range(_)) => return Err(bad("a range needs exactly two values")),
            }
        }
        Ok(out)
    }
}

/// Runs `f` inside the message part `ctx` names: an error from `f` gets `ctx` in front of its
/// path. The label is only built for an error.
pub(crate) fn at<S, T>(
    s: &mut S,
    ctx: impl FnOnce() -> String,
    f: impl FnOnce(&mut S) -> R<T, EncodeError>,
) -> R<T, EncodeError> {
    f(s).map_err(|mut e| {
        e.path = prefix_path(ctx(), &e.path);
        e
    })
}

/// Model → ASN.1 for one message.
pub(crate) struct Enc<'a>(EncRules<'a>);

impl<'a> std::ops::Deref for Enc<'a> {
    type Target = EncRules<'a>;
    fn deref(&self) -> &EncRules<'a> {
        &self.0
    }
}

impl std::ops::DerefMut for Enc<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<'a> Enc<'a> {
    pub(crate) fn new(reg: &'a Registry, tids: &'a TermIdMapping) -> Self {
        Enc(EncRules::new(reg, tids))
    }

    fn at<T>(
        &mut self,
        ctx: impl FnOnce() -> String,
        f: impl FnOnce(&mut Self) -> R<T, EncodeError>,
    ) -> R<T, EncodeError> {
        at(self, ctx, f)
    }

    fn ia5(&self, what: &str, s: &str) -> R<Ia5String, EncodeError> {
        Ia5String::from_iso646_bytes(s.as_bytes()).map_err(|_| self.not_ia5(what, s))
    }

    fn pkgd(&self, kind: ItemKind, name: &str) -> R<asn::PkgdName, EncodeError> {
        self.pkgd_id(kind, name).map(FixedOctetString::from)
    }

    fn param_name(&self, kind: ItemKind, item: &str, param: &str) -> R<asn::Name, EncodeError> {
        self.param_id(kind, item, param).map(FixedOctetString::from)
    }

    fn value(v: &[Text]) -> asn::Value {
        v.iter()
            .map(|s| OctetString::from(s.as_bytes().to_vec()))
            .collect()
    }

    fn tid(&self, t: &TerminationId) -> R<asn::TerminationID, EncodeError> {
        let b = self.tid_octets(t)?;
        Ok(asn::TerminationID {
            wildcard: b
                .wildcard()
                .iter()
                .map(|&w| FixedOctetString::from([w]))
                .collect(),
            id: OctetString::from(b.id().to_vec()),
            ext: Default::default(),
        })
    }

    fn tids(&self, ts: &[TerminationId]) -> R<Vec<asn::TerminationID>, EncodeError> {
        ts.iter().map(|t| self.tid(t)).collect()
    }

    pub(crate) fn message(&mut self, m: &Message) -> R<asn::MegacoMessage, EncodeError> {
        let auth_header = m.auth.as_ref().map(|a| asn::AuthenticationHeader {
            sec_parm_index: FixedOctetString::from(a.spi.to_be_bytes()),
            seq_num: FixedOctetString::from(a.seq_num.to_be_bytes()),
            ad: OctetString::from(a.data.clone()),
        });
        let m_id = self.at(|| "mId".to_string(), |e| e.mid(&m.mid))?;
        let message_body =
            match &m.body {
                MessageBody::Error(ed) => asn::MessageBody::MessageError(self.error(ed)?),
                MessageBody::Transactions(ts) => asn::MessageBody::Transactions(
                    ts.iter()
                        .map(|t| self.transaction(t))
                        .collect::<R<_, EncodeError>>()?,
                ),
            };
        Ok(asn::MegacoMessage {
            auth_header,
            mess: asn::Message {
                version: m.version,
                m_id,
                message_body,
                ext: Default::default(),
            },
        })
    }

    fn mid(&self, m: &MId) -> R<asn::MId, EncodeError> {
        Ok(match m {
            MId::Ip4 { addr, port } => asn::MId::Ip4Address(ip4(addr, *port)),
            MId::Ip6 { addr, port } => asn::MId::Ip6Address(ip6(addr, *port)),
            MId::Domain { name, port } => asn::MId::DomainName(asn::DomainName {
                name: self.ia5("domain name", name)?,
                port_number: *port,
            }),
            MId::Device(d) => asn::MId::DeviceName(self.ia5("device name", d)?),
            MId::Mtp(hex) => asn::MId::MtpAddress(self.mtp(hex)?),
        })
    }

    fn mtp(&self, hex: &str) -> R<OctetString, EncodeError> {
        self.mtp_octets(hex).map(OctetString::from)
    }

    fn error(&self, ed: &ErrorDescriptor) -> R<asn::ErrorDescriptor, EncodeError> {
        Ok(asn::ErrorDescriptor {
            error_code: ed.code,
            error_text: ed
                .text
                .as_deref()
                .map(|t| self.ia5("error text", t))
                .transpose()?,
        })
    }

    fn transaction(&mut self, t: &Transaction) -> R<asn::Transaction, EncodeError> {
        Ok(match t {
            Transaction::Request(r) => {
                self.transaction = Some(r.id);
                let r = self.at(
                    || format!("Transaction {}", r.id),
                    |e| {
                        Ok(asn::TransactionRequest {
                            transaction_id: r.id,
                            actions: r
                                .actions
                                .iter()
                                .map(|a| e.at(|| ctx_label(&a.context), |e| e.action_request(a)))
                                .collect::<R<_, EncodeError>>()?,
                            ext: Default::default(),
                        })
                    },
                )?;
                self.transaction = None;
                asn::Transaction::TransactionRequest(r)
            }
            Transaction::Pending(id) => {
                asn::Transaction::TransactionPending(asn::TransactionPending {
                    transaction_id: *id,
                    ext: Default::default(),
                })
            }
            Transaction::Reply(r) => {
                self.transaction = Some(r.id);
                let res = self.at(
                    || format!("Reply {}", r.id),
                    |e| {
                        Ok(match &r.result {
                            TransactionResult::Error(ed) => {
                                asn::TransactionResult::TransactionError(e.error(ed)?)
                            }
                            TransactionResult::Actions(acts) => {
                                asn::TransactionResult::ActionReplies(
                                    acts.iter()
                                        .map(|a| {
                                            e.at(|| ctx_label(&a.context), |e| e.action_reply(a))
                                        })
                                        .collect::<R<_, EncodeError>>()?,
                                )
                            }
                        })
                    },
                )?;
                self.transaction = None;
                asn::Transaction::TransactionReply(asn::TransactionReply {
                    transaction_id: r.id,
                    imm_ack_required: r.imm_ack_required.then_some(()),
                    transaction_result: res,
                    segment_number: r.segment_number,
                    segmentation_complete: r.segmentation_complete.then_some(()),
                    ext: Default::default(),
                })
            }
            Transaction::ResponseAck(acks) => asn::Transaction::TransactionResponseAck(
                acks.iter()
                    .map(|a| asn::TransactionAck {
                        first_ack: a.first,
                        last_ack: a.last,
                    })
                    .collect(),
            ),
            Transaction::SegmentReply(s) => asn::Transaction::SegmentReply(asn::SegmentReply {
                transaction_id: s.id,
                segment_number: s.segment_number,
                segmentation_complete: s.segmentation_complete.then_some(()),
                ext: Default::default(),
            }),
        })
    }

    fn action_request(&mut self, a: &ActionRequest) -> R<asn::ActionRequest, EncodeError> {
        Ok(asn::ActionRequest {
            context_id: ctx_id(a.context),
            context_request: a
                .context_request
                .as_ref()
                .map(|c| {
                    self.at(
                        || "context properties".to_string(),
                        |e| e.context_request(c),
                    )
                })
                .transpose()?,
            context_attr_audit_req: a
                .context_audit
                .as_ref()
                .map(|c| self.at(|| "ContextAudit".to_string(), |e| e.context_audit(c)))
                .transpose()?,
            command_requests: a
                .commands
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    self.at(
                        || format!("command {} ({})", i + 1, c.command.name()),
                        |e| {
                            Ok(asn::CommandRequest {
                                command: e.command(&c.command)?,
                                optional: c.optional.then_some(()),
                                wildcard_return: c.wildcard_return.then_some(()),
                                ext: Default::default(),
                            })
                        },
                    )
                })
                .collect::<R<_, EncodeError>>()?,
        })
    }

    fn context_request(&mut self, c: &ContextRequest) -> R<asn::ContextRequest, EncodeError> {
        Ok(asn::ContextRequest {
            priority: c
                .priority
                .map(|p| self.small("priority", p, 15))
                .transpose()?,
            emergency: c.emergency,
            topology_req: if c.topology.is_empty() {
                None
            } else {
                Some(
                    c.topology
                        .iter()
                        .map(|t| {
                            let (dir, ext) = topology_direction(t.direction);
                            Ok(asn::TopologyRequest {
                                termination_from: self.tid(&t.from)?,
                                termination_to: self.tid(&t.to)?,
                                topology_direction: dir,
                                stream_id: t.stream,
                                topology_direction_extension: ext,
                                ext: Default::default(),
                            })
                        })
                        .collect::<R<_, EncodeError>>()?,
                )
            },
            iepscallind: c.ieps_call,
            context_prop: if c.props.is_empty() {
                None
            } else {
                Some(self.props(&c.props)?)
            },
            context_list: if c.context_list.is_empty() {
                None
            } else {
                Some(c.context_list.iter().map(|&c| ctx_id(c)).collect())
            },
            ext: Default::default(),
        })
    }

    fn context_audit(
        &mut self,
        c: &ContextAttrAuditRequest,
    ) -> R<asn::ContextAttrAuditRequest, EncodeError> {
        // Names first, then the selections (the model keeps them apart).
        let mut aud: Vec<asn::IndAudPropertyParm> = Vec::new();
        for n in &c.props {
            aud.push(asn::IndAudPropertyParm {
                name: self.pkgd(ItemKind::Property, n)?,
                property_parms: None,
                ext: Default::default(),
            });
        }
        for p in &c.select_props {
            aud.push(self.ind_aud_prop(&IndAudProp::Select(p.clone()))?);
        }
        Ok(asn::ContextAttrAuditRequest {
            topology: c.topology.then_some(()),
            emergency: c.emergency.then_some(()),
            priority: c.priority.then_some(()),
            iepscallind: c.ieps_call.then_some(()),
            context_prop_aud: (!aud.is_empty()).then_some(aud),
            selectpriority: c
                .select_priority
                .map(|p| self.small("selected priority", p, 15))
                .transpose()?,
            selectemergency: c.select_emergency,
            selectiepscallind: c.select_ieps,
            select_logic: c.select_logic.map(|l| match l {
                SelectLogic::And => asn::SelectLogic::AndAuditSelect(()),
                SelectLogic::Or => asn::SelectLogic::OrAuditSelect(()),
            }),
            ext: Default::default(),
        })
    }

    fn command(&mut self, c: &Command) -> R<asn::Command, EncodeError> {
        Ok(match c {
            Command::Add(a) => asn::Command::AddReq(self.amm(a)?),
            Command::Move(a) => asn::Command::MoveReq(self.amm(a)?),
            Command::Modify(a) => asn::Command::ModReq(self.amm(a)?),
            Command::Subtract(s) => asn::Command::SubtractReq(asn::SubtractRequest {
                termination_id: self.tids(&s.termination_ids)?,
                audit_descriptor: s
                    .audit
                    .as_ref()
                    .map(|a| self.at(|| "Audit".to_string(), |e| e.audit_descriptor(a)))
                    .transpose()?,
                ext: Default::default(),
            }),
            Command::AuditCapabilities(a) => asn::Command::AuditCapRequest(self.audit_request(a)?),
            Command::AuditValue(a) => asn::Command::AuditValueRequest(self.audit_request(a)?),
            Command::Notify(n) => asn::Command::NotifyReq(asn::NotifyRequest {
                termination_id: self.tids(&n.termination_ids)?,
                // ObservedEvents is mandatory in ASN.1: none (a v1 error-only Notify) is
                // requestId 0 with an empty list, which no text message has.
                observed_events_descriptor: match &n.observed_events {
                    Some(o) => {
                        self.at(|| "ObservedEvents".to_string(), |e| e.observed_events(o))?
                    }
                    None => asn::ObservedEventsDescriptor {
                        request_id: 0,
                        observed_event_lst: Vec::new(),
                    },
                },
                error_descriptor: n.error.as_ref().map(|e| self.error(e)).transpose()?,
                ext: Default::default(),
            }),
            Command::ServiceChange(s) => {
                asn::Command::ServiceChangeReq(asn::ServiceChangeRequest {
                    termination_id: self.tids(&s.termination_ids)?,
                    service_change_parms: self
                        .at(|| "Services".to_string(), |e| e.sc_parm(&s.parms))?,
                    ext: Default::default(),
                })
            }
        })
    }

    fn audit_request(&mut self, a: &AuditRequest) -> R<asn::AuditRequest, EncodeError> {
        // One termination: terminationID. Several: terminationID = the first and
        // terminationIDList = all of them. No audit descriptor = the empty one.
        let first = self.audit_first(&a.termination_ids)?;
        Ok(asn::AuditRequest {
            termination_id: self.tid(first)?,
            audit_descriptor: match &a.audit {
                Some(d) => self.at(|| "Audit".to_string(), |e| e.audit_descriptor(d))?,
                None => asn::AuditDescriptor::default(),
            },
            termination_id_list: if a.termination_ids.len() > 1 {
                Some(self.tids(&a.termination_ids)?)
            } else {
                None
            },
            ext: Default::default(),
        })
    }

    fn amm(&mut self, a: &AmmRequest) -> R<asn::AmmRequest, EncodeError> {
        Ok(asn::AmmRequest {
            termination_id: self.tids(&a.termination_ids)?,
            descriptors: a
                .descriptors
                .iter()
                .map(|d| self.amm_descriptor(d))
                .collect::<R<_, EncodeError>>()?,
            ext: Default::default(),
        })
    }

    fn amm_descriptor(&mut self, d: &AmmDescriptor) -> R<asn::AmmDescriptor, EncodeError> {
        Ok(match d {
            AmmDescriptor::Media(m) => asn::AmmDescriptor::MediaDescriptor(
                self.at(|| "Media".to_string(), |e| e.media(m))?,
            ),
            AmmDescriptor::Modem(m) => asn::AmmDescriptor::ModemDescriptor(
                self.at(|| "Modem".to_string(), |e| e.modem(m))?,
            ),
            AmmDescriptor::Mux(m) => asn::AmmDescriptor::MuxDescriptor(self.mux(m)?),
            AmmDescriptor::Events(ev) => asn::AmmDescriptor::EventsDescriptor(
                self.at(|| "Events".to_string(), |e| e.events(ev))?,
            ),
            AmmDescriptor::EventBuffer(eb) => asn::AmmDescriptor::EventBufferDescriptor(
                self.at(|| "EventBuffer".to_string(), |e| e.event_buffer(eb))?,
            ),
            AmmDescriptor::Signals(s) => asn::AmmDescriptor::SignalsDescriptor(
                self.at(|| "Signals".to_string(), |e| e.signals(s))?,
            ),
            AmmDescriptor::DigitMap(dm) => asn::AmmDescriptor::DigitMapDescriptor(
                self.at(|| "DigitMap".to_string(), |e| e.digit_map_descriptor(dm))?,
            ),
            AmmDescriptor::Audit(a) => asn::AmmDescriptor::AuditDescriptor(
                self.at(|| "Audit".to_string(), |e| e.audit_descriptor(a))?,
            ),
            AmmDescriptor::Statistics(s) => asn::AmmDescriptor::StatisticsDescriptor(
                self.at(|| "Statistics".to_string(), |e| e.statistics(s))?,
            ),
        })
    }

    fn media(&mut self, m: &MediaDescriptor) -> R<asn::MediaDescriptor, EncodeError> {
        Ok(asn::MediaDescriptor {
            term_state_descr: m
                .termination_state
                .as_ref()
                .map(|t| self.at(|| "TerminationState".to_string(), |e| e.term_state(t)))
                .transpose()?,
            streams: match &m.streams {
                None => None,
                Some(Streams::One(sp)) => Some(asn::Streams::OneStream(self.stream_parms(sp)?)),
                Some(Streams::Multi(v)) => Some(asn::Streams::MultiStream(
                    v.iter()
                        .map(|s| {
                            self.at(
                                || format!("Stream {}", s.id),
                                |e| {
                                    Ok(asn::StreamDescriptor {
                                        stream_id: s.id,
                                        stream_parms: e.stream_parms(&s.parms)?,
                                    })
                                },
                            )
                        })
                        .collect::<R<_, EncodeError>>()?,
                )),
            },
            ext: Default::default(),
        })
    }

    fn term_state(
        &mut self,
        t: &TerminationStateDescriptor,
    ) -> R<asn::TerminationStateDescriptor, EncodeError> {
        Ok(asn::TerminationStateDescriptor {
            property_parms: self.props(&t.props)?,
            event_buffer_control: t.event_buffer_control.map(event_buffer_control),
            service_state: t.service_state.map(service_state),
            ext: Default::default(),
        })
    }

    fn stream_parms(&mut self, sp: &StreamParms) -> R<asn::StreamParms, EncodeError> {
        Ok(asn::StreamParms {
            local_control_descriptor: sp
                .local_control
                .as_ref()
                .map(|lc| {
                    self.at(
                        || "LocalControl".to_string(),
                        |e| {
                            Ok(asn::LocalControlDescriptor {
                                stream_mode: lc.mode.map(stream_mode),
                                reserve_value: lc.reserve_value,
                                reserve_group: lc.reserve_group,
                                property_parms: e.props(&lc.props)?,
                                ext: Default::default(),
                            })
                        },
                    )
                })
                .transpose()?,
            local_descriptor: sp
                .local
                .as_ref()
                .map(|l| self.at(|| "Local".to_string(), |e| e.local_remote(l)))
                .transpose()?,
            remote_descriptor: sp
                .remote
                .as_ref()
                .map(|l| self.at(|| "Remote".to_string(), |e| e.local_remote(l)))
                .transpose()?,
            statistics_descriptor: sp
                .statistics
                .as_ref()
                .map(|s| self.at(|| "Statistics".to_string(), |e| e.statistics(s)))
                .transpose()?,
            ext: Default::default(),
        })
    }

    /// SDP: each line a PropertyParm of package 0x0000 with its Annex C tag, groups 1:1.
    fn local_remote(
        &mut self,
        l: &LocalRemoteDescriptor,
    ) -> R<asn::LocalRemoteDescriptor, EncodeError> {
        Ok(asn::LocalRemoteDescriptor {
            prop_grps: l
                .groups
                .iter()
                .map(|g| self.props(g))
                .collect::<R<_, EncodeError>>()?,
            ext: Default::default(),
        })
    }

    fn props(&mut self, ps: &[PropertyParm]) -> R<Vec<asn::PropertyParm>, EncodeError> {
        ps.iter().map(|p| self.prop(p)).collect()
    }

    fn prop(&self, p: &PropertyParm) -> R<asn::PropertyParm, EncodeError> {
        Ok(asn::PropertyParm {
            name: self.pkgd(ItemKind::Property, &p.name)?,
            value: Self::value(&p.value),
            extra_info: p.extra.map(extra_info),
            ext: Default::default(),
        })
    }

    fn modem(&mut self, m: &ModemDescriptor) -> R<asn::ModemDescriptor, EncodeError> {
        Ok(asn::ModemDescriptor {
            mtl: m
                .types
                .iter()
                .map(|t| self.modem_type(t))
                .collect::<R<_, EncodeError>>()?,
            mpl: self.props(&m.props)?,
            non_standard_data: None,
        })
    }

    fn mux(&self, m: &MuxDescriptor) -> R<asn::MuxDescriptor, EncodeError> {
        Ok(asn::MuxDescriptor {
            mux_type: mux_type(m.mux_type),
            term_list: self.tids(&m.termination_ids)?,
            non_standard_data: None,
            ext: Default::default(),
        })
    }

    fn events(&mut self, ev: &EventsDescriptor) -> R<asn::EventsDescriptor, EncodeError> {
        Ok(asn::EventsDescriptor {
            request_id: ev.request_id,
            event_list: ev
                .events
                .iter()
                .map(|r| self.at(|| format!("event '{}'", r.name), |e| e.requested_event(r)))
                .collect::<R<_, EncodeError>>()?,
            ext: Default::default(),
        })
    }

    fn ev_params(
        &self,
        event: &str,
        ps: &[PropertyParm],
    ) -> R<Vec<asn::EventParameter>, EncodeError> {
        ps.iter()
            .map(|p| {
                Ok(asn::EventParameter {
                    event_parameter_name: self.param_name(ItemKind::Event, event, &p.name)?,
                    value: Self::value(&p.value),
                    extra_info: p.extra.map(extra_info),
                    ext: Default::default(),
                })
            })
            .collect()
    }

    fn event_dm(&self, dm: &DigitMapDescriptor) -> R<asn::EventDM, EncodeError> {
        Ok(match self.0.event_dm(dm)? {
            EventDm::Name(n) => asn::EventDM::DigitMapName(self.digit_map_name(n)?),
            EventDm::Value(v) => asn::EventDM::DigitMapValue(self.digit_map_value(v)?),
        })
    }

    fn requested_event(&mut self, r: &RequestedEvent) -> R<asn::RequestedEvent, EncodeError> {
        let event_action = if has_requested_actions(r) {
            Some(asn::RequestedActions {
                keep_active: r.keep_active.then_some(true),
                event_dm: r.digit_map.as_ref().map(|d| self.event_dm(d)).transpose()?,
                second_event: r
                    .embed_events
                    .as_ref()
                    .map(|ev| self.at(|| "Embed Events".to_string(), |e| e.second_events(ev)))
                    .transpose()?,
                signals_descriptor: r
                    .embed_signals
                    .as_ref()
                    .map(|s| self.at(|| "Embed Signals".to_string(), |e| e.signals(s)))
                    .transpose()?,
                notify_behaviour: r
                    .notify_behaviour
                    .as_ref()
                    .map(|n| self.notify_behaviour(n))
                    .transpose()?,
                reset_events_descriptor: r.reset_events.then_some(()),
                ext: Default::default(),
            })
        } else {
            None
        };
        Ok(asn::RequestedEvent {
            pkgd_name: self.pkgd(ItemKind::Event, &r.name)?,
            stream_id: r.stream,
            event_action,
            ev_par_list: self.ev_params(&r.name, &r.params)?,
            ext: Default::default(),
        })
    }

    fn notify_behaviour(&mut self, n: &NotifyBehaviour) -> R<asn::NotifyBehaviour, EncodeError> {
        Ok(match n {
            NotifyBehaviour::Immediate => asn::NotifyBehaviour::NotifyImmediate(()),
            NotifyBehaviour::Never => asn::NotifyBehaviour::NeverNotify(()),
            NotifyBehaviour::Regulated { events, signals } => {
                asn::NotifyBehaviour::NotifyRegulated(asn::RegulatedEmbeddedDescriptor {
                    second_event: events
                        .as_ref()
                        .map(|ev| {
                            self.at(
                                || "RegulatedNotify Events".to_string(),
                                |e| e.second_events(ev),
                            )
                        })
                        .transpose()?,
                    signals_descriptor: signals
                        .as_ref()
                        .map(|s| {
                            self.at(|| "RegulatedNotify Signals".to_string(), |e| e.signals(s))
                        })
                        .transpose()?,
                    ext: Default::default(),
                })
            }
        })
    }

    /// Embedded events: a SecondEventsDescriptor, whose events cannot embed events again.
    fn second_events(
        &mut self,
        ev: &EventsDescriptor,
    ) -> R<asn::SecondEventsDescriptor, EncodeError> {
        Ok(asn::SecondEventsDescriptor {
            request_id: ev.request_id,
            event_list: ev
                .events
                .iter()
                .map(|r| {
                    self.at(
                        || format!("event '{}'", r.name),
                        |e| {
                            e.second_event_check(r)?;
                            let event_action = if has_requested_actions(r) {
                                Some(asn::SecondRequestedActions {
                                    keep_active: r.keep_active.then_some(true),
                                    event_dm: r
                                        .digit_map
                                        .as_ref()
                                        .map(|d| e.event_dm(d))
                                        .transpose()?,
                                    signals_descriptor: r
                                        .embed_signals
                                        .as_ref()
                                        .map(|s| {
                                            e.at(|| "Embed Signals".to_string(), |e| e.signals(s))
                                        })
                                        .transpose()?,
                                    notify_behaviour: r
                                        .notify_behaviour
                                        .as_ref()
                                        .map(|n| e.notify_behaviour(n))
                                        .transpose()?,
                                    reset_events_descriptor: r.reset_events.then_some(()),
                                    ext: Default::default(),
                                })
                            } else {
                                None
                            };
                            Ok(asn::SecondRequestedEvent {
                                pkgd_name: e.pkgd(ItemKind::Event, &r.name)?,
                                stream_id: r.stream,
                                event_action,
                                ev_par_list: e.ev_params(&r.name, &r.params)?,
                                ext: Default::default(),
                            })
                        },
                    )
                })
                .collect::<R<_, EncodeError>>()?,
            ext: Default::default(),
        })
    }

    fn event_buffer(&mut self, eb: &[EventSpec]) -> R<Vec<asn::EventSpec>, EncodeError> {
        eb.iter()
            .map(|s| {
                self.at(
                    || format!("event '{}'", s.name),
                    |e| {
                        Ok(asn::EventSpec {
                            event_name: e.pkgd(ItemKind::Event, &s.name)?,
                            stream_id: s.stream,
                            event_par_list: e.ev_params(&s.name, &s.params)?,
                            ext: Default::default(),
                        })
                    },
                )
            })
            .collect()
    }

    fn signals(&mut self, s: &[SignalsItem]) -> R<Vec<asn::SignalRequest>, EncodeError> {
        s.iter()
            .map(|i| {
                Ok(match i {
                    SignalsItem::Signal(sig) => asn::SignalRequest::Signal(self.signal(sig)?),
                    SignalsItem::List { id, signals } => self.at(
                        || format!("SignalList {id}"),
                        |e| {
                            Ok(asn::SignalRequest::SeqSigList(asn::SeqSigList {
                                id: *id,
                                signal_list: signals.iter().map(|s| e.signal(s)).collect::<R<
                                    _,
                                    EncodeError,
                                >>(
                                )?,
                            }))
                        },
                    )?,
                })
            })
            .collect()
    }

    fn signal(&mut self, s: &Signal) -> R<asn::Signal, EncodeError> {
        self.at(
            || format!("signal '{}'", s.name),
            |e| {
                Ok(asn::Signal {
                    signal_name: e.pkgd(ItemKind::Signal, &s.name)?,
                    stream_id: s.stream,
                    sig_type: s.signal_type.map(signal_type),
                    duration: s.duration,
                    notify_completion: s
                        .notify_completion
                        .as_ref()
                        .map(|v| named_bits(v.iter().map(|&n| completion_bit(n)))),
                    keep_active: s.keep_active.then_some(true),
                    sig_par_list: s
                        .params
                        .iter()
                        .map(|p| {
                            Ok(asn::SigParameter {
                                sig_parameter_name: e.param_name(
                                    ItemKind::Signal,
                                    &s.name,
                                    &p.name,
                                )?,
                                value: Self::value(&p.value),
                                extra_info: p.extra.map(extra_info),
                                ext: Default::default(),
                            })
                        })
                        .collect::<R<_, EncodeError>>()?,
                    direction: s.direction.map(signal_direction),
                    request_id: s.request_id,
                    intersig_delay: s.intersig_delay,
                    ext: Default::default(),
                })
            },
        )
    }

    fn digit_map_name(&self, n: &str) -> R<asn::Name, EncodeError> {
        self.digit_map_name_id(n).map(FixedOctetString::from)
    }

    fn digit_map_value(&self, v: &DigitMapValue) -> R<asn::DigitMapValue, EncodeError> {
        Ok(asn::DigitMapValue {
            start_timer: v.start_timer,
            short_timer: v.short_timer,
            long_timer: v.long_timer,
            digit_map_body: self.ia5("digit map body", &v.body)?,
            duration_timer: v.duration_timer,
            ext: Default::default(),
        })
    }

    fn digit_map_descriptor(
        &mut self,
        d: &DigitMapDescriptor,
    ) -> R<asn::DigitMapDescriptor, EncodeError> {
        Ok(asn::DigitMapDescriptor {
            digit_map_name: d
                .name
                .as_deref()
                .map(|n| self.digit_map_name(n))
                .transpose()?,
            digit_map_value: d
                .value
                .as_ref()
                .map(|v| self.digit_map_value(v))
                .transpose()?,
        })
    }

    fn statistics(
        &mut self,
        s: &[StatisticsParameter],
    ) -> R<Vec<asn::StatisticsParameter>, EncodeError> {
        s.iter()
            .map(|p| {
                Ok(asn::StatisticsParameter {
                    stat_name: self.pkgd(ItemKind::Statistic, &p.name)?,
                    stat_value: p.value.as_deref().map(Self::value),
                })
            })
            .collect()
    }

    fn package_name(&self, name: &str) -> R<asn::Name, EncodeError> {
        self.package_id(name).map(FixedOctetString::from)
    }

    fn observed_events(
        &mut self,
        o: &ObservedEventsDescriptor,
    ) -> R<asn::ObservedEventsDescriptor, EncodeError> {
        Ok(asn::ObservedEventsDescriptor {
            request_id: o.request_id,
            observed_event_lst: o
                .events
                .iter()
                .map(|ev| {
                    self.at(
                        || format!("event '{}'", ev.name),
                        |e| {
                            Ok(asn::ObservedEvent {
                                event_name: e.pkgd(ItemKind::Event, &ev.name)?,
                                stream_id: ev.stream,
                                event_par_list: e.ev_params(&ev.name, &ev.params)?,
                                time_notation: ev
                                    .timestamp
                                    .as_ref()
                                    .map(|t| e.time(t))
                                    .transpose()?,
                                ext: Default::default(),
                            })
                        },
                    )
                })
                .collect::<R<_, EncodeError>>()?,
        })
    }

    fn time(&self, t: &TimeNotation) -> R<asn::TimeNotation, EncodeError> {
        Ok(asn::TimeNotation {
            date: self.ia5("time stamp date", &t.date)?,
            time: self.ia5("time stamp time", &t.time)?,
        })
    }

    fn audit_descriptor(&mut self, a: &AuditDescriptor) -> R<asn::AuditDescriptor, EncodeError> {
        Ok(asn::AuditDescriptor {
            audit_token: (!a.items.is_empty())
                .then(|| named_bits(a.items.iter().map(|&i| audit_bit(i)))),
            audit_property_token: if a.ind_aud.is_empty() {
                None
            } else {
                Some(
                    a.ind_aud
                        .iter()
                        .map(|p| self.ind_audit_parameter(p))
                        .collect::<R<_, EncodeError>>()?,
                )
            },
            ext: Default::default(),
        })
    }

    fn ind_aud_prop(&self, p: &IndAudProp) -> R<asn::IndAudPropertyParm, EncodeError> {
        Ok(match p {
            IndAudProp::Name(n) => asn::IndAudPropertyParm {
                name: self.pkgd(ItemKind::Property, n)?,
                property_parms: None,
                ext: Default::default(),
            },
            IndAudProp::Select(pp) => asn::IndAudPropertyParm {
                name: self.pkgd(ItemKind::Property, &pp.name)?,
                property_parms: Some(self.prop(pp)?),
                ext: Default::default(),
            },
        })
    }

    fn ind_aud_props(&self, ps: &[IndAudProp]) -> R<Vec<asn::IndAudPropertyParm>, EncodeError> {
        ps.iter().map(|p| self.ind_aud_prop(p)).collect()
    }

    fn ind_audit_parameter(
        &mut self,
        p: &IndAuditParameter,
    ) -> R<asn::IndAuditParameter, EncodeError> {
        Ok(match p {
            IndAuditParameter::Media(m) => asn::IndAuditParameter::IndaudmediaDescriptor(
                self.at(|| "Media".to_string(), |e| e.ind_aud_media(m))?,
            ),
            IndAuditParameter::Events { request_id, name } => {
                asn::IndAuditParameter::IndaudeventsDescriptor(asn::IndAudEventsDescriptor {
                    request_id: *request_id,
                    pkgd_name: self.pkgd(ItemKind::Event, name)?,
                    stream_id: None,
                    ext: Default::default(),
                })
            }
            IndAuditParameter::EventBuffer { name, stream } => {
                asn::IndAuditParameter::IndaudeventBufferDescriptor(
                    asn::IndAudEventBufferDescriptor {
                        event_name: self.pkgd(ItemKind::Event, name)?,
                        stream_id: *stream,
                        ext: Default::default(),
                    },
                )
            }
            IndAuditParameter::Signals(s) => {
                asn::IndAuditParameter::IndaudsignalsDescriptor(match self.ind_aud_signal(s)? {
                    IndAudSignalParm::Signal {
                        name,
                        stream,
                        request_id,
                    } => asn::IndAudSignalsDescriptor::Signal(asn::IndAudSignal {
                        signal_name: self.pkgd(ItemKind::Signal, name)?,
                        stream_id: *stream,
                        signal_request_id: *request_id,
                        ext: Default::default(),
                    }),
                    IndAudSignalParm::List { id, signal } => {
                        asn::IndAudSignalsDescriptor::SeqSigList(asn::IndAudSeqSigList {
                            id: *id,
                            signal_list: signal
                                .as_deref()
                                .map(|n| {
                                    Ok(asn::IndAudSignal {
                                        signal_name: self.pkgd(ItemKind::Signal, n)?,
                                        stream_id: None,
                                        signal_request_id: None,
                                        ext: Default::default(),
                                    })
                                })
                                .transpose()?,
                        })
                    }
                })
            }
            IndAuditParameter::DigitMap(n) => {
                asn::IndAuditParameter::IndauddigitMapDescriptor(asn::IndAudDigitMapDescriptor {
                    digit_map_name: n.as_deref().map(|n| self.digit_map_name(n)).transpose()?,
                })
            }
            IndAuditParameter::Statistics(n) => asn::IndAuditParameter::IndaudstatisticsDescriptor(
                asn::IndAudStatisticsDescriptor {
                    stat_name: self.pkgd(ItemKind::Statistic, n)?,
                },
            ),
            IndAuditParameter::Packages(p) => {
                asn::IndAuditParameter::IndaudpackagesDescriptor(asn::IndAudPackagesDescriptor {
                    package_name: self.package_name(&p.name)?,
                    package_version: p.version,
                    ext: Default::default(),
                })
            }
        })
    }

    fn ind_aud_media(
        &mut self,
        m: &IndAudMediaDescriptor,
    ) -> R<asn::IndAudMediaDescriptor, EncodeError> {
        let streams = match self.ind_aud_streams(m)? {
            Some(IndAudStreamsOf::One(sp)) => {
                Some(asn::IndAudStreams::OneStream(self.ind_aud_stream(sp)?))
            }
            Some(IndAudStreamsOf::Multi(streams)) => Some(asn::IndAudStreams::MultiStream(
                streams
                    .iter()
                    .map(|(id, sp)| {
                        self.at(
                            || format!("Stream {id}"),
                            |e| {
                                Ok(asn::IndAudStreamDescriptor {
                                    stream_id: *id,
                                    stream_parms: e.ind_aud_stream(sp)?,
                                })
                            },
                        )
                    })
                    .collect::<R<_, EncodeError>>()?,
            )),
            None => None,
        };
        Ok(asn::IndAudMediaDescriptor {
            term_state_descr: m
                .termination_state
                .as_ref()
                .map(|t| {
                    self.at(
                        || "TerminationState".to_string(),
                        |e| {
                            let service_state_sel = e.service_state_sel(t.service_state_sel)?;
                            Ok(asn::IndAudTerminationStateDescriptor {
                                property_parms: e.ind_aud_props(&t.props)?,
                                event_buffer_control: t.event_buffer_control.then_some(()),
                                service_state: t.service_state.then_some(()),
                                service_state_sel,
                                ext: Default::default(),
                            })
                        },
                    )
                })
                .transpose()?,
            streams,
            ext: Default::default(),
        })
    }

    fn ind_aud_stream(&mut self, sp: &IndAudStreamParms) -> R<asn::IndAudStreamParms, EncodeError> {
        Ok(asn::IndAudStreamParms {
            local_control_descriptor: sp
                .local_control
                .as_ref()
                .map(|lc| {
                    self.at(
                        || "LocalControl".to_string(),
                        |e| {
                            let stream_mode_sel = e.stream_mode_sel(lc.mode_sel)?;
                            Ok(asn::IndAudLocalControlDescriptor {
                                stream_mode: lc.mode.then_some(()),
                                reserve_value: lc.reserve_value.then_some(()),
                                reserve_group: lc.reserve_group.then_some(()),
                                property_parms: if lc.props.is_empty() {
                                    None
                                } else {
                                    Some(e.ind_aud_props(&lc.props)?)
                                },
                                stream_mode_sel,
                                ext: Default::default(),
                            })
                        },
                    )
                })
                .transpose()?,
            local_descriptor: sp
                .local
                .as_ref()
                .map(|l| self.at(|| "Local".to_string(), |e| e.ind_aud_local_remote(l)))
                .transpose()?,
            remote_descriptor: sp
                .remote
                .as_ref()
                .map(|l| self.at(|| "Remote".to_string(), |e| e.ind_aud_local_remote(l)))
                .transpose()?,
            statistics_descriptor: sp
                .statistics
                .as_deref()
                .map(|n| {
                    Ok(asn::IndAudStatisticsDescriptor {
                        stat_name: self.pkgd(ItemKind::Statistic, n)?,
                    })
                })
                .transpose()?,
            ext: Default::default(),
        })
    }

    /// An audited Local/Remote: one group; a line with a value is a selection
    /// (IndAudPropertyParm with propertyParms), a line without values a plain name.
    fn ind_aud_local_remote(
        &mut self,
        l: &LocalRemoteDescriptor,
    ) -> R<asn::IndAudLocalRemoteDescriptor, EncodeError> {
        self.ind_aud_group_check(l)?;
        let mut prop_grps = Vec::new();
        for p in l.groups.iter().flatten() {
            prop_grps.push(if p.value.is_empty() {
                self.ind_aud_prop(&IndAudProp::Name(p.name.clone()))?
            } else {
                self.ind_aud_prop(&IndAudProp::Select(p.clone()))?
            });
        }
        Ok(asn::IndAudLocalRemoteDescriptor {
            prop_group_id: None,
            prop_grps,
            ext: Default::default(),
        })
    }

    fn sc_parm(&mut self, p: &ServiceChangeParm) -> R<asn::ServiceChangeParm, EncodeError> {
        let method = self.sc_method(&p.method)?;
        let non_standard_data =
            self.sc_extensions_data(&p.extensions)?
                .map(|data| asn::NonStandardData {
                    non_standard_identifier: asn::NonStandardIdentifier::Experimental(
                        Ia5String::from_iso646_bytes(SC_EXTENSIONS_ID.as_bytes())
                            .expect("ASCII constant"),
                    ),
                    data: OctetString::from(data.into_bytes()),
                });
        Ok(asn::ServiceChangeParm {
            service_change_method: method,
            service_change_address: p.address.as_ref().map(|a| self.sc_address(a)).transpose()?,
            service_change_version: p.version,
            service_change_profile: p.profile.as_ref().map(|pr| self.profile(pr)).transpose()?,
            service_change_reason: p
                .reason
                .iter()
                .map(|r| OctetString::from(r.as_bytes().to_vec()))
                .collect(),
            service_change_delay: p.delay,
            service_change_mgc_id: p.mgc_id.as_ref().map(|m| self.mid(m)).transpose()?,
            time_stamp: p.timestamp.as_ref().map(|t| self.time(t)).transpose()?,
            non_standard_data,
            service_change_info: p
                .info
                .as_ref()
                .map(|a| self.audit_descriptor(a))
                .transpose()?,
            service_change_incomplete_flag: p.incomplete.then_some(()),
            ext: Default::default(),
        })
    }

    fn sc_address(&self, a: &ServiceChangeAddress) -> R<asn::ServiceChangeAddress, EncodeError> {
        Ok(match a {
            ServiceChangeAddress::Port(p) => asn::ServiceChangeAddress::PortNumber(*p),
            ServiceChangeAddress::MId(m) => match self.mid(m)? {
                asn::MId::Ip4Address(a) => asn::ServiceChangeAddress::Ip4Address(a),
                asn::MId::Ip6Address(a) => asn::ServiceChangeAddress::Ip6Address(a),
                asn::MId::DomainName(d) => asn::ServiceChangeAddress::DomainName(d),
                asn::MId::DeviceName(d) => asn::ServiceChangeAddress::DeviceName(d),
                asn::MId::MtpAddress(m) => asn::ServiceChangeAddress::MtpAddress(m),
            },
        })
    }

    fn profile(&self, p: &ServiceChangeProfile) -> R<asn::ServiceChangeProfile, EncodeError> {
        Ok(asn::ServiceChangeProfile {
            profile_name: Ia5String::from_iso646_bytes(self.profile_text(p)?.as_bytes())
                .expect("checked ASCII"),
        })
    }

    fn sc_res_parm(&self, p: &ServiceChangeResParm) -> R<asn::ServiceChangeResParm, EncodeError> {
        Ok(asn::ServiceChangeResParm {
            service_change_mgc_id: p.mgc_id.as_ref().map(|m| self.mid(m)).transpose()?,
            service_change_address: p.address.as_ref().map(|a| self.sc_address(a)).transpose()?,
            service_change_version: p.version,
            service_change_profile: p.profile.as_ref().map(|pr| self.profile(pr)).transpose()?,
            timestamp: p.timestamp.as_ref().map(|t| self.time(t)).transpose()?,
            ext: Default::default(),
        })
    }

    fn action_reply(&mut self, a: &ActionReply) -> R<asn::ActionReply, EncodeError> {
        Ok(asn::ActionReply {
            context_id: ctx_id(a.context),
            error_descriptor: a.error.as_ref().map(|e| self.error(e)).transpose()?,
            context_reply: a
                .context_reply
                .as_ref()
                .map(|c| {
                    self.at(
                        || "context properties".to_string(),
                        |e| e.context_request(c),
                    )
                })
                .transpose()?,
            command_reply: a
                .commands
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    self.at(
                        || format!("reply {} ({})", i + 1, c.name()),
                        |e| e.command_reply(c),
                    )
                })
                .collect::<R<_, EncodeError>>()?,
        })
    }

    fn amms_reply(&mut self, r: &AmmsReply) -> R<asn::AmmsReply, EncodeError> {
        Ok(asn::AmmsReply {
            termination_id: self.tids(&r.termination_ids)?,
            termination_audit: r
                .audit
                .as_ref()
                .map(|a| self.termination_audit(a))
                .transpose()?,
            ext: Default::default(),
        })
    }

    fn command_reply(&mut self, c: &CommandReply) -> R<asn::CommandReply, EncodeError> {
        Ok(match c {
            CommandReply::Add(r) => asn::CommandReply::AddReply(self.amms_reply(r)?),
            CommandReply::Move(r) => asn::CommandReply::MoveReply(self.amms_reply(r)?),
            CommandReply::Modify(r) => asn::CommandReply::ModReply(self.amms_reply(r)?),
            CommandReply::Subtract(r) => asn::CommandReply::SubtractReply(self.amms_reply(r)?),
            CommandReply::AuditCapabilities(r) => {
                asn::CommandReply::AuditCapReply(self.audit_reply(r)?)
            }
            CommandReply::AuditValue(r) => asn::CommandReply::AuditValueReply(self.audit_reply(r)?),
            CommandReply::Notify(r) => asn::CommandReply::NotifyReply(asn::NotifyReply {
                termination_id: self.tids(&r.termination_ids)?,
                error_descriptor: r.error.as_ref().map(|e| self.error(e)).transpose()?,
                ext: Default::default(),
            }),
            CommandReply::ServiceChange(r) => {
                asn::CommandReply::ServiceChangeReply(asn::ServiceChangeReply {
                    termination_id: self.tids(&r.termination_ids)?,
                    service_change_result: match &r.result {
                        ServiceChangeResult::Error(e) => {
                            asn::ServiceChangeResult::ErrorDescriptor(self.error(e)?)
                        }
                        ServiceChangeResult::Parms(p) => {
                            asn::ServiceChangeResult::ServiceChangeResParms(self.sc_res_parm(p)?)
                        }
                    },
                    ext: Default::default(),
                })
            }
        })
    }

    /// One termination: auditResult; several: auditResultTermList.
    fn audit_reply(&mut self, r: &AuditReply) -> R<asn::AuditReply, EncodeError> {
        Ok(match r {
            AuditReply::ContextAuditResult(ts) => {
                asn::AuditReply::ContextAuditResult(self.tids(ts)?)
            }
            AuditReply::Error(e) => asn::AuditReply::Error(self.error(e)?),
            AuditReply::AuditResult {
                termination_ids,
                audit,
            } => match termination_ids.as_slice() {
                [] => return Err(self.no_audit_result_tid()),
                [one] => asn::AuditReply::AuditResult(asn::AuditResult {
                    termination_id: self.tid(one)?,
                    termination_audit_result: self.termination_audit(audit)?,
                }),
                many => asn::AuditReply::AuditResultTermList(asn::TermListAuditResult {
                    termination_id_list: self.tids(many)?,
                    termination_audit_result: self.termination_audit(audit)?,
                    ext: Default::default(),
                }),
            },
        })
    }

    /// Consecutive `Empty` items become one emptyDescriptors element (one BIT STRING).
    fn termination_audit(
        &mut self,
        ta: &[AuditReturnParameter],
    ) -> R<Vec<asn::AuditReturnParameter>, EncodeError> {
        let mut out = Vec::with_capacity(ta.len());
        let mut empties: Vec<AuditItem> = Vec::new();
        let flush = |empties: &mut Vec<AuditItem>, out: &mut Vec<asn::AuditReturnParameter>| {
            if !empties.is_empty() {
                out.push(asn::AuditReturnParameter::EmptyDescriptors(
                    asn::AuditDescriptor {
                        audit_token: Some(named_bits(empties.iter().map(|&i| audit_bit(i)))),
                        audit_property_token: None,
                        ext: Default::default(),
                    },
                ));
                empties.clear();
            }
        };
        for p in ta {
            if let AuditReturnParameter::Empty(i) = p {
                empties.push(*i);
                continue;
            }
            flush(&mut empties, &mut out);
            out.push(match p {
                AuditReturnParameter::Error(e) => {
                    asn::AuditReturnParameter::ErrorDescriptor(self.error(e)?)
                }
                AuditReturnParameter::Media(m) => asn::AuditReturnParameter::MediaDescriptor(
                    self.at(|| "Media".to_string(), |e| e.media(m))?,
                ),
                AuditReturnParameter::Modem(m) => asn::AuditReturnParameter::ModemDescriptor(
                    self.at(|| "Modem".to_string(), |e| e.modem(m))?,
                ),
                AuditReturnParameter::Mux(m) => {
                    asn::AuditReturnParameter::MuxDescriptor(self.mux(m)?)
                }
                AuditReturnParameter::Events(ev) => asn::AuditReturnParameter::EventsDescriptor(
                    self.at(|| "Events".to_string(), |e| e.events(ev))?,
                ),
                AuditReturnParameter::EventBuffer(eb) => {
                    asn::AuditReturnParameter::EventBufferDescriptor(
                        self.at(|| "EventBuffer".to_string(), |e| e.event_buffer(eb))?,
                    )
                }
                AuditReturnParameter::Signals(s) => asn::AuditReturnParameter::SignalsDescriptor(
                    self.at(|| "Signals".to_string(), |e| e.signals(s))?,
                ),
                AuditReturnParameter::DigitMap(d) => asn::AuditReturnParameter::DigitMapDescriptor(
                    self.at(|| "DigitMap".to_string(), |e| e.digit_map_descriptor(d))?,
                ),
                AuditReturnParameter::ObservedEvents(o) => {
                    asn::AuditReturnParameter::ObservedEventsDescriptor(
                        self.at(|| "ObservedEvents".to_string(), |e| e.observed_events(o))?,
                    )
                }
                AuditReturnParameter::Statistics(s) => {
                    asn::AuditReturnParameter::StatisticsDescriptor(
                        self.at(|| "Statistics".to_string(), |e| e.statistics(s))?,
                    )
                }
                AuditReturnParameter::Packages(ps) => {
                    asn::AuditReturnParameter::PackagesDescriptor(
                        ps.iter()
                            .map(|p| {
                                Ok(asn::PackagesItem {
                                    package_name: self.package_name(&p.name)?,
                                    package_version: p.version,
                                    ext: Default::default(),
                                })
                            })
                            .collect::<R<_, EncodeError>>()?,
                    )
                }
                AuditReturnParameter::Empty(_) => unreachable!("handled above"),
            });
        }
        flush(&mut empties, &mut out);
        Ok(out)
    }
}

/// `outer / inner` (just `outer` for an empty inner path).
pub(crate) fn prefix_path(outer: String, inner: &str) -> String {
    if inner.is_empty() {
        outer
    } else {
        let mut p = outer;
        p.push_str(" / ");
        p.push_str(inner);
        p
    }
}

/// An error path that no `at` filled in is the message itself.
pub(crate) fn whole_message_path(path: &mut String) {
    if path.is_empty() {
        path.push_str("message");
    }
}

pub(crate) fn ctx_label(c: &ContextId) -> String {
    match c {
        ContextId::Null => "Context -".to_string(),
        ContextId::Choose => "Context $".to_string(),
        ContextId::All => "Context *".to_string(),
        ContextId::Id(n) => format!("Context {n}"),
    }
}

pub(crate) fn ctx_id(c: ContextId) -> u32 {
    match c {
        ContextId::Null => 0,
        ContextId::Choose => 0xFFFF_FFFE,
        ContextId::All => 0xFFFF_FFFF,
        ContextId::Id(n) => n,
    }
}

pub(crate) fn ctx_from(n: u32) -> ContextId {
    match n {
        0 => ContextId::Null,
        0xFFFF_FFFE => ContextId::Choose,
        0xFFFF_FFFF => ContextId::All,
        n => ContextId::Id(n),
    }
}

fn ip4(addr: &std::net::Ipv4Addr, port: Option<u16>) -> asn::IP4Address {
    asn::IP4Address {
        address: FixedOctetString::from(addr.octets()),
        port_number: port,
    }
}

fn ip6(addr: &std::net::Ipv6Addr, port: Option<u16>) -> asn::IP6Address {
    asn::IP6Address {
        address: FixedOctetString::from(addr.octets()),
        port_number: port,
    }
}

pub(crate) fn service_state(s: ServiceState) -> asn::ServiceState {
    match s {
        ServiceState::Test => asn::ServiceState::Test,
        ServiceState::OutOfSvc => asn::ServiceState::OutOfSvc,
        ServiceState::InSvc => asn::ServiceState::InSvc,
    }
}

pub(crate) fn stream_mode(m: StreamMode) -> asn::StreamMode {
    match m {
        StreamMode::SendOnly => asn::StreamMode::SendOnly,
        StreamMode::RecvOnly => asn::StreamMode::RecvOnly,
        StreamMode::SendRecv => asn::StreamMode::SendRecv,
        StreamMode::Inactive => asn::StreamMode::Inactive,
        StreamMode::Loopback => asn::StreamMode::LoopBack,
    }
}

/// RequestedActions are present only if one of them is set (`keepActive` only when TRUE).
/// (An embedded event has no embedded events: [`EncRules::second_event_check`].)
pub(crate) fn has_requested_actions(r: &RequestedEvent) -> bool {
    r.keep_active
        || r.digit_map.is_some()
        || r.embed_signals.is_some()
        || r.embed_events.is_some()
        || r.notify_behaviour.is_some()
        || r.reset_events
}

/// Topology direction: `OnewayExternal` / `OnewayBoth` are `oneway` + the extension.
pub(crate) fn topology_direction(
    d: TopologyDirection,
) -> (
    asn::TopologyDirection,
    Option<asn::TopologyDirectionExtension>,
) {
    match d {
        TopologyDirection::Bothway => (asn::TopologyDirection::Bothway, None),
        TopologyDirection::Isolate => (asn::TopologyDirection::Isolate, None),
        TopologyDirection::Oneway => (asn::TopologyDirection::Oneway, None),
        TopologyDirection::OnewayExternal => (
            asn::TopologyDirection::Oneway,
            Some(asn::TopologyDirectionExtension::Onewayexternal),
        ),
        TopologyDirection::OnewayBoth => (
            asn::TopologyDirection::Oneway,
            Some(asn::TopologyDirectionExtension::Onewayboth),
        ),
    }
}

pub(crate) fn event_buffer_control(c: EventBufferControl) -> asn::EventBufferControl {
    match c {
        EventBufferControl::Off => asn::EventBufferControl::Off,
        EventBufferControl::LockStep => asn::EventBufferControl::LockStep,
    }
}

pub(crate) fn mux_type(m: MuxType) -> asn::MuxType {
    match m {
        MuxType::H221 => asn::MuxType::H221,
        MuxType::H223 => asn::MuxType::H223,
        MuxType::H226 => asn::MuxType::H226,
        MuxType::V76 => asn::MuxType::V76,
        MuxType::Nx64k => asn::MuxType::Nx64k,
    }
}

pub(crate) fn signal_type(t: SignalType) -> asn::SignalType {
    match t {
        SignalType::Brief => asn::SignalType::Brief,
        SignalType::OnOff => asn::SignalType::OnOff,
        SignalType::TimeOut => asn::SignalType::TimeOut,
    }
}

pub(crate) fn signal_direction(d: SignalDirection) -> asn::SignalDirection {
    match d {
        SignalDirection::Internal => asn::SignalDirection::Internal,
        SignalDirection::External => asn::SignalDirection::External,
        SignalDirection::Both => asn::SignalDirection::Both,
    }
}

pub(crate) fn extra_info(x: ExtraInfo) -> asn::ExtraInfo {
    match x {
        ExtraInfo::Relation(r) => asn::ExtraInfo::Relation(match r {
            Relation::GreaterThan => asn::Relation::GreaterThan,
            Relation::SmallerThan => asn::Relation::SmallerThan,
            Relation::UnequalTo => asn::Relation::UnequalTo,
        }),
        ExtraInfo::Range(b) => asn::ExtraInfo::Range(b),
        ExtraInfo::Sublist(b) => asn::ExtraInfo::Sublist(b),
    }
}

// =============================================================================================
// Decoding rules, on plain values: shared by [`Dec`] (from the ASN.1 types) and the direct BER
// decoder (`super::direct_dec`, from the octets). Each says what the model gets, or why it cannot
// (a [`Broken`] rule); the decoders add where (path) and the transaction.

/// A decoding rule the input breaks: the H.248 code to answer with and why.
#[derive(Debug)]
pub(crate) struct Broken {
    pub(crate) code: u16,
    pub(crate) reason: String,
}

impl Broken {
    /// Not valid per the ASN.1 module (400).
    pub(crate) fn bad(reason: impl Into<String>) -> Self {
        Broken {
            code: MALFORMED_CODE,
            reason: reason.into(),
        }
    }

    /// Valid, but the model cannot carry it (501).
    pub(crate) fn unsupported(reason: impl Into<String>) -> Self {
        Broken {
            code: UNSUPPORTED_CODE,
            reason: reason.into(),
        }
    }
}

/// The reasons of the rules that are a plain presence or shape check.
pub(crate) mod why {
    pub(crate) const DIGIT_MAP_EMPTY: &str = "DigitMapDescriptor with neither a name nor a value";
    pub(crate) const PACKAGE_WILDCARD: &str =
        "package name 0xFFFF (a wildcard) in a Packages descriptor";
    pub(crate) const AUDIT_ID_NOT_FIRST: &str =
        "terminationID is not the first of terminationIDList (the model holds one list)";
    pub(crate) const MODEM_NSD: &str = "nonStandardData in a Modem descriptor";
    pub(crate) const MUX_NSD: &str = "nonStandardData in a Mux descriptor";
    pub(crate) const IND_AUD_EVENTS_STREAM: &str = "streamID in an IndAudEventsDescriptor (the \
        model's individual Events audit has no stream)";
    pub(crate) const IND_AUD_LIST_SIGNAL: &str = "streamID or signalRequestID of the signal in an \
        audited signal list (the model holds only its name)";
    pub(crate) const IND_AUD_GROUP_ID: &str =
        "propGroupID in an audited Local/Remote (the model has no group number)";
    pub(crate) const IND_AUD_LINE_NO_VALUE: &str = "an audited Local/Remote property with \
        propertyParms but no value (the model writes a line without values as a plain name)";
    pub(crate) const SC_REASONS: &str =
        "serviceChangeReason with several values (the model holds one)";
    pub(crate) const SC_NSD: &str = "nonStandardData in ServiceChangeParm other than the \
        ServiceChange extensions (experimental \"X-IQ-EXT\")";
    pub(crate) const TERM_LIST_EMPTY: &str = "auditResultTermList without termination IDs";
    pub(crate) const EMPTY_DESCRIPTORS_PROPS: &str = "auditPropertyToken in emptyDescriptors (the \
        model's empty descriptors are tokens only)";
}

/// The model's values of the ENUMERATED types, indexed by their ASN.1 value.
pub(crate) const STREAM_MODES: [StreamMode; 5] = [
    StreamMode::SendOnly,
    StreamMode::RecvOnly,
    StreamMode::SendRecv,
    StreamMode::Inactive,
    StreamMode::Loopback,
];
pub(crate) const SERVICE_STATES: [ServiceState; 3] = [
    ServiceState::Test,
    ServiceState::OutOfSvc,
    ServiceState::InSvc,
];
pub(crate) const EVENT_BUFFER_CONTROLS: [EventBufferControl; 2] =
    [EventBufferControl::Off, EventBufferControl::LockStep];
pub(crate) const SIGNAL_TYPES: [SignalType; 3] =
    [SignalType::Brief, SignalType::OnOff, SignalType::TimeOut];
pub(crate) const RELATIONS: [Relation; 3] = [
    Relation::GreaterThan,
    Relation::SmallerThan,
    Relation::UnequalTo,
];
pub(crate) const MUX_TYPES: [MuxType; 5] = [
    MuxType::H221,
    MuxType::H223,
    MuxType::H226,
    MuxType::V76,
    MuxType::Nx64k,
];
pub(crate) const SC_METHODS: [ServiceChangeMethod; 6] = [
    ServiceChangeMethod::Failover,
    ServiceChangeMethod::Forced,
    ServiceChangeMethod::Graceful,
    ServiceChangeMethod::Restart,
    ServiceChangeMethod::Disconnected,
    ServiceChangeMethod::HandOff,
];

/// `SignalDirection` (internal(0), external(1), both(3)).
pub(crate) fn signal_direction_from(v: i64) -> Option<SignalDirection> {
    match v {
        0 => Some(SignalDirection::Internal),
        1 => Some(SignalDirection::External),
        3 => Some(SignalDirection::Both),
        _ => None,
    }
}

/// The model's name of `ModemType` value `v`.
pub(crate) fn modem_type_name(v: usize) -> Option<&'static str> {
    MODEM_TYPES.get(v).map(|(n, _)| *n)
}

/// `topologyDirection` (bothway(0), isolate(1), oneway(2)) with `topologyDirectionExtension`
/// (onewayexternal(0), onewayboth(1)).
pub(crate) fn topology_direction_from(
    dir: usize,
    ext: Option<usize>,
) -> Result<TopologyDirection, Broken> {
    const NAMES: [&str; 3] = ["Bothway", "Isolate", "Oneway"];
    Ok(match (dir, ext) {
        (0, None) => TopologyDirection::Bothway,
        (1, None) => TopologyDirection::Isolate,
        (2, None) => TopologyDirection::Oneway,
        (2, Some(0)) => TopologyDirection::OnewayExternal,
        (2, Some(1)) => TopologyDirection::OnewayBoth,
        (d, _) => {
            return Err(Broken::bad(format!(
                "topologyDirectionExtension with topologyDirection {} (only oneway can be \
                 extended)",
                NAMES.get(d).copied().unwrap_or("?")
            )))
        }
    })
}

/// A `PkgdName` (4 octets) as the name of an item of `kind`.
pub(crate) fn pkgd_name(reg: &Registry, kind: ItemKind, n: [u8; 4]) -> Result<Text, Broken> {
    let [p0, p1, i0, i1] = n;
    reg.item_name(
        kind,
        u16::from_be_bytes([p0, p1]),
        u16::from_be_bytes([i0, i1]),
    )
    .ok_or_else(|| {
        Broken::bad(format!(
            "PkgdName {} is not valid (package 0xFFFF needs item 0xFFFF)",
            hex_str(&n)
        ))
    })
}

/// Parameter `Name` `id` of the event/signal `item` of `kind`.
pub(crate) fn param_name(reg: &Registry, kind: ItemKind, item: [u8; 4], id: [u8; 2]) -> Text {
    let [p0, p1, i0, i1] = item;
    let id = u16::from_be_bytes(id);
    reg.param_name(
        kind,
        u16::from_be_bytes([p0, p1]),
        u16::from_be_bytes([i0, i1]),
        id,
    )
    .unwrap_or_else(|| crate::packages::hex_item_name(id).into())
}

/// A `TerminationID` from its wildcard octets and id octets.
pub(crate) fn term_id(
    tids: &TermIdMapping,
    wildcard: &[u8],
    id: &[u8],
) -> Result<TerminationId, Broken> {
    tids.decode(wildcard, id)
        .map_err(|e| Broken::bad(format!("TerminationID: {e}")))
}

/// A value's octets as model text; `what` names the value in the error (built only then).
pub(crate) fn text_value(what: impl FnOnce() -> String, o: &[u8]) -> Result<Text, Broken> {
    utf8_text(o).ok_or_else(|| {
        Broken::unsupported(format!(
            "{}: octets {} are not UTF-8 text, which the model's string values need",
            what(),
            hex_str(o)
        ))
    })
}

/// An IA5String's characters (ASCII, so UTF-8) as model text.
pub(crate) fn ia5_text(o: &[u8]) -> Text {
    // The strict check first: it is several times cheaper than the lossy conversion's chunk
    // walk, and IA5 octets always pass it.
    utf8_text(o).unwrap_or_else(|| Text::from_utf8_lossy(o))
}

/// `o` as text if it is UTF-8.
///
/// A short value is checked in a zero-padded, aligned copy: `str::from_utf8` checks aligned
/// octets a block of words at a time but goes octet by octet elsewhere, which made it cost
/// ~100 instructions for a date of 8 characters. The padding (zeros: ASCII) cannot turn an
/// incomplete sequence at the end into a valid one, so the copy is UTF-8 exactly when `o` is.
#[inline]
pub(crate) fn utf8_text(o: &[u8]) -> Option<Text> {
    #[repr(align(16))]
    struct Padded([u8; 32]);
    let mut p = Padded([0; 32]);
    match p.0.get_mut(..o.len()) {
        Some(head) => {
            head.copy_from_slice(o);
            let s = std::str::from_utf8(&p.0).ok()?;
            s.get(..o.len()).map(Text::from)
        }
        None => std::str::from_utf8(o).ok().map(Text::from),
    }
}

/// An `mtpAddress` (2 to 4 octets) as the model's hex digits (at most 8: an inline Text).
pub(crate) fn mtp_address(o: &[u8]) -> Result<Text, Broken> {
    if !(2..=4).contains(&o.len()) {
        return Err(Broken::bad(format!(
            "mtpAddress of {} octets (2 to 4 allowed)",
            o.len()
        )));
    }
    let mut buf = [0u8; 8];
    for (d, &b) in buf.chunks_exact_mut(2).zip(o) {
        d.copy_from_slice(&hex_octet(b));
    }
    Ok(Text::from_utf8(&buf[..2 * o.len()]).unwrap_or_default())
}

/// `priority` / `selectpriority` (INTEGER(0..15)).
pub(crate) fn priority(p: Option<u8>) -> Result<Option<u16>, Broken> {
    match p {
        Some(p) if p > 15 => Err(Broken::bad(format!("priority {p} out of range 0..=15"))),
        p => Ok(p.map(u16::from)),
    }
}

/// A package `Name` (2 octets) in a Packages descriptor or package audit.
pub(crate) fn package_name(reg: &Registry, id: [u8; 2]) -> Result<String, Broken> {
    let id = u16::from_be_bytes(id);
    if id == WILDCARD_ID {
        return Err(Broken::bad(why::PACKAGE_WILDCARD));
    }
    Ok(reg.package_name(id))
}

/// `serviceChangeProfile` (one IA5String `name/version`).
pub(crate) fn sc_profile(s: &str) -> Result<ServiceChangeProfile, Broken> {
    match s.rsplit_once('/') {
        Some((n, v))
            if !n.is_empty()
                && !v.is_empty()
                && v.len() <= 2
                && v.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(ServiceChangeProfile {
                name: n.to_string(),
                version: v.parse().unwrap_or(0),
            })
        }
        _ => Err(Broken::bad(format!(
            "serviceChangeProfile '{s}' is not name/version"
        ))),
    }
}

/// `serviceChangeReason` (SEQUENCE OF OCTET STRING) from its first value and number of values.
pub(crate) fn sc_reason(first: Option<&[u8]>, count: usize) -> Result<Option<String>, Broken> {
    match (first, count) {
        // Straight to the model's String (not through a Text).
        (Some(r), 1) => match std::str::from_utf8(r) {
            Ok(t) => Ok(Some(t.to_string())),
            Err(_) => text_value(|| "serviceChangeReason".to_string(), r).map(|t| Some(t.into())),
        },
        (_, 0) => Ok(None),
        _ => Err(Broken::unsupported(why::SC_REASONS)),
    }
}

/// ServiceChange extensions from `nonStandardData`: `experimental` is the identifier's string
/// when it is the `experimental` alternative (`None` for the other alternatives).
pub(crate) fn sc_extensions(
    experimental: Option<&[u8]>,
    data: &[u8],
) -> Result<Vec<PropertyParm>, Broken> {
    match experimental {
        Some(id) if id == SC_EXTENSIONS_ID.as_bytes() => {
            let text = text_value(|| "ServiceChange extensions".to_string(), data)?;
            parse_sc_extensions(&text).ok_or_else(|| {
                Broken::bad(format!(
                    "nonStandardData {SC_EXTENSIONS_ID} is not a list of X-name=\"value\": '{text}'"
                ))
            })
        }
        _ => Err(Broken::unsupported(why::SC_NSD)),
    }
}

/// IndAudPropertyParm `name` with `propertyParms` of another name.
pub(crate) fn ind_aud_names_differ(name: [u8; 4], parms_name: [u8; 4]) -> Broken {
    Broken::unsupported(format!(
        "IndAudPropertyParm name {} with propertyParms of {} (the model holds one name)",
        hex_str(&name),
        hex_str(&parms_name)
    ))
}

/// The audit items whose bit `bit(n)` says set, in bit order.
pub(crate) fn audit_items_where(bit: impl Fn(usize) -> bool) -> Vec<AuditItem> {
    AUDIT_ITEMS
        .iter()
        .copied()
        .filter(|&i| bit(audit_bit(i)))
        .collect()
}

/// The NotifyCompletion reasons whose bit `bit(n)` says set, in bit order.
pub(crate) fn completions_where(bit: impl Fn(usize) -> bool) -> Vec<NotifyCompletion> {
    COMPLETIONS
        .iter()
        .copied()
        .filter(|&c| bit(completion_bit(c)))
        .collect()
}

/// The path labels of the message structure.
pub(crate) mod label {
    pub(crate) fn transaction(id: u32) -> String {
        format!("Transaction {id}")
    }
    pub(crate) fn reply(id: u32) -> String {
        format!("Reply {id}")
    }
    pub(crate) fn command(i: usize) -> String {
        format!("command {}", i + 1)
    }
    pub(crate) fn command_reply(i: usize) -> String {
        format!("reply {}", i + 1)
    }
    pub(crate) fn event(i: usize) -> String {
        format!("event {}", i + 1)
    }
    pub(crate) fn stream(id: u16) -> String {
        format!("Stream {id}")
    }
    pub(crate) fn signal_list(id: u16) -> String {
        format!("SignalList {id}")
    }
}

/// The error of a broken rule at `path`, in `transaction`.
pub(crate) fn broken_error(b: Broken, transaction: Option<u32>) -> BinDecodeError {
    BinDecodeError {
        code: b.code,
        path: String::new(),
        transaction_id: transaction,
        reason: b.reason,
    }
}

/// Runs `f` inside the message part `ctx` names: an error from `f` gets `ctx` in front of its
/// path. The label is only built for an error.
pub(crate) fn within<T>(
    ctx: impl FnOnce() -> String,
    r: R<T, BinDecodeError>,
) -> R<T, BinDecodeError> {
    r.map_err(|mut e| {
        e.path = prefix_path(ctx(), &e.path);
        e
    })
}

// =============================================================================================
// Decoding.

/// ASN.1 → model for one message.
pub(crate) struct Dec<'a> {
    reg: &'a Registry,
    tids: &'a TermIdMapping,
    transaction: Option<u32>,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(reg: &'a Registry, tids: &'a TermIdMapping) -> Self {
        Dec {
            reg,
            tids,
            transaction: None,
        }
    }

    fn fail(&self, code: u16, reason: impl Into<String>) -> BinDecodeError {
        BinDecodeError {
            code,
            // Filled in by `at` on the way out (`message` when nothing is).
            path: String::new(),
            transaction_id: self.transaction,
            reason: reason.into(),
        }
    }

    fn bad(&self, reason: impl Into<String>) -> BinDecodeError {
        self.fail(MALFORMED_CODE, reason)
    }

    fn unsupported(&self, reason: impl Into<String>) -> BinDecodeError {
        self.fail(UNSUPPORTED_CODE, reason)
    }

    fn broke(&self, b: Broken) -> BinDecodeError {
        broken_error(b, self.transaction)
    }

    /// Runs `f` inside the message part `ctx` names: an error from `f` gets `ctx` in front of
    /// its path. The label is only built for an error.
    fn at<T>(
        &mut self,
        ctx: impl FnOnce() -> String,
        f: impl FnOnce(&mut Self) -> R<T, BinDecodeError>,
    ) -> R<T, BinDecodeError> {
        within(ctx, f(self))
    }

    fn ia5(s: &Ia5String) -> String {
        Self::ia5_text(s).into()
    }

    fn ia5_text(s: &Ia5String) -> Text {
        ia5_text(s.as_iso646_bytes())
    }

    /// A property's or parameter's values; `what` names it in an error (built only then).
    fn value(&self, what: impl Fn() -> String, v: &[OctetString]) -> R<Values, BinDecodeError> {
        v.iter()
            .map(|o| text_value(&what, o).map_err(|b| self.broke(b)))
            .collect()
    }

    fn name(&self, kind: ItemKind, n: &asn::PkgdName) -> R<Text, BinDecodeError> {
        pkgd_name(self.reg, kind, **n).map_err(|b| self.broke(b))
    }

    fn param(&self, kind: ItemKind, item: &asn::PkgdName, n: &asn::Name) -> Text {
        param_name(self.reg, kind, **item, **n)
    }

    fn tid(&self, t: &asn::TerminationID) -> R<TerminationId, BinDecodeError> {
        // Wildcard octets on the stack: a termination ID has at most a few (one per level).
        let w: smallvec::SmallVec<[u8; 8]> = t.wildcard.iter().map(|w| w[0]).collect();
        term_id(self.tids, &w, &t.id).map_err(|b| self.broke(b))
    }

    fn tids(&self, ts: &[asn::TerminationID]) -> R<TermIds, BinDecodeError> {
        ts.iter().map(|t| self.tid(t)).collect()
    }

    pub(crate) fn message(&mut self, m: &asn::MegacoMessage) -> R<Message, BinDecodeError> {
        let auth = m.auth_header.as_ref().map(|a| AuthHeader {
            spi: u32::from_be_bytes(*a.sec_parm_index),
            seq_num: u32::from_be_bytes(*a.seq_num),
            data: a.ad.to_vec(),
        });
        let mid = self.at(|| "mId".to_string(), |d| d.mid(&m.mess.m_id))?;
        let body = match &m.mess.message_body {
            asn::MessageBody::MessageError(e) => MessageBody::Error(self.error(e)),
            asn::MessageBody::Transactions(ts) => {
                MessageBody::Transactions(ts.iter().map(|t| self.transaction(t)).collect::<R<
                    _,
                    BinDecodeError,
                >>(
                )?)
            }
        };
        Ok(Message {
            auth,
            version: m.mess.version,
            mid,
            body,
        })
    }

    fn mid(&self, m: &asn::MId) -> R<MId, BinDecodeError> {
        Ok(match m {
            asn::MId::Ip4Address(a) => MId::Ip4 {
                addr: (*a.address).into(),
                port: a.port_number,
            },
            asn::MId::Ip6Address(a) => MId::Ip6 {
                addr: (*a.address).into(),
                port: a.port_number,
            },
            asn::MId::DomainName(d) => MId::Domain {
                name: Self::ia5_text(&d.name),
                port: d.port_number,
            },
            asn::MId::DeviceName(d) => MId::Device(Self::ia5_text(d)),
            asn::MId::MtpAddress(o) => MId::Mtp(self.mtp(o)?),
        })
    }

    fn mtp(&self, o: &[u8]) -> R<Text, BinDecodeError> {
        mtp_address(o).map_err(|b| self.broke(b))
    }

    fn error(&self, e: &asn::ErrorDescriptor) -> ErrorDescriptor {
        ErrorDescriptor {
            code: e.error_code,
            text: e.error_text.as_ref().map(Self::ia5),
        }
    }

    fn transaction(&mut self, t: &asn::Transaction) -> R<Transaction, BinDecodeError> {
        Ok(match t {
            asn::Transaction::TransactionRequest(r) => {
                self.transaction = Some(r.transaction_id);
                let actions = self.at(
                    || label::transaction(r.transaction_id),
                    |d| {
                        r.actions
                            .iter()
                            .map(|a| {
                                d.at(
                                    || ctx_label(&ctx_from(a.context_id)),
                                    |d| d.action_request(a),
                                )
                            })
                            .collect::<R<_, BinDecodeError>>()
                    },
                )?;
                self.transaction = None;
                Transaction::Request(TransactionRequest {
                    id: r.transaction_id,
                    actions,
                })
            }
            asn::Transaction::TransactionPending(p) => Transaction::Pending(p.transaction_id),
            asn::Transaction::TransactionReply(r) => {
                self.transaction = Some(r.transaction_id);
                let result = self.at(
                    || label::reply(r.transaction_id),
                    |d| {
                        Ok(match &r.transaction_result {
                            asn::TransactionResult::TransactionError(e) => {
                                TransactionResult::Error(d.error(e))
                            }
                            asn::TransactionResult::ActionReplies(acts) => {
                                TransactionResult::Actions(
                                    acts.iter()
                                        .map(|a| {
                                            d.at(
                                                || ctx_label(&ctx_from(a.context_id)),
                                                |d| d.action_reply(a),
                                            )
                                        })
                                        .collect::<R<_, BinDecodeError>>()?,
                                )
                            }
                        })
                    },
                )?;
                self.transaction = None;
                Transaction::Reply(TransactionReply {
                    id: r.transaction_id,
                    imm_ack_required: r.imm_ack_required.is_some(),
                    result,
                    segment_number: r.segment_number,
                    segmentation_complete: r.segmentation_complete.is_some(),
                })
            }
            asn::Transaction::TransactionResponseAck(acks) => Transaction::ResponseAck(
                acks.iter()
                    .map(|a| TransactionAck {
                        first: a.first_ack,
                        last: a.last_ack,
                    })
                    .collect(),
            ),
            asn::Transaction::SegmentReply(s) => Transaction::SegmentReply(SegmentReply {
                id: s.transaction_id,
                segment_number: s.segment_number,
                segmentation_complete: s.segmentation_complete.is_some(),
            }),
        })
    }

    fn action_request(&mut self, a: &asn::ActionRequest) -> R<ActionRequest, BinDecodeError> {
        Ok(ActionRequest {
            context: ctx_from(a.context_id),
            context_request: a
                .context_request
                .as_ref()
                .map(|c| self.at(|| "contextRequest".to_string(), |d| d.context_request(c)))
                .transpose()?,
            context_audit: a
                .context_attr_audit_req
                .as_ref()
                .map(|c| self.at(|| "contextAttrAuditReq".to_string(), |d| d.context_audit(c)))
                .transpose()?,
            commands: a
                .command_requests
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    self.at(
                        || label::command(i),
                        |d| {
                            Ok(CommandRequest {
                                command: d.command(&c.command)?,
                                optional: c.optional.is_some(),
                                wildcard_return: c.wildcard_return.is_some(),
                            })
                        },
                    )
                })
                .collect::<R<_, BinDecodeError>>()?,
        })
    }

    fn priority(&self, p: Option<u8>) -> R<Option<u16>, BinDecodeError> {
        priority(p).map_err(|b| self.broke(b))
    }

    fn context_request(&mut self, c: &asn::ContextRequest) -> R<ContextRequest, BinDecodeError> {
        Ok(ContextRequest {
            priority: self.priority(c.priority)?,
            emergency: c.emergency,
            topology: c
                .topology_req
                .iter()
                .flatten()
                .map(|t| {
                    let direction = topology_direction_from(
                        t.topology_direction as usize,
                        t.topology_direction_extension.map(|x| x as usize),
                    )
                    .map_err(|b| self.broke(b))?;
                    Ok(TopologyRequest {
                        from: self.tid(&t.termination_from)?,
                        to: self.tid(&t.termination_to)?,
                        direction,
                        stream: t.stream_id,
                    })
                })
                .collect::<R<_, BinDecodeError>>()?,
            ieps_call: c.iepscallind,
            props: self.props(c.context_prop.as_deref().unwrap_or_default())?,
            context_list: c
                .context_list
                .iter()
                .flatten()
                .map(|&n| ctx_from(n))
                .collect(),
        })
    }

    fn context_audit(
        &mut self,
        c: &asn::ContextAttrAuditRequest,
    ) -> R<ContextAttrAuditRequest, BinDecodeError> {
        let mut props = Vec::new();
        let mut select_props = Vec::new();
        for p in c.context_prop_aud.iter().flatten() {
            match self.ind_aud_prop(p)? {
                IndAudProp::Name(n) => props.push(n),
                IndAudProp::Select(pp) => select_props.push(pp),
            }
        }
        Ok(ContextAttrAuditRequest {
            topology: c.topology.is_some(),
            emergency: c.emergency.is_some(),
            priority: c.priority.is_some(),
            ieps_call: c.iepscallind.is_some(),
            props,
            select_priority: self.priority(c.selectpriority)?,
            select_emergency: c.selectemergency,
            select_ieps: c.selectiepscallind,
            select_props,
            select_logic: c.select_logic.as_ref().map(|l| match l {
                asn::SelectLogic::AndAuditSelect(()) => SelectLogic::And,
                asn::SelectLogic::OrAuditSelect(()) => SelectLogic::Or,
            }),
        })
    }

    fn command(&mut self, c: &asn::Command) -> R<Command, BinDecodeError> {
        Ok(match c {
            asn::Command::AddReq(a) => Command::Add(self.at(|| "Add".to_string(), |d| d.amm(a))?),
            asn::Command::MoveReq(a) => {
                Command::Move(self.at(|| "Move".to_string(), |d| d.amm(a))?)
            }
            asn::Command::ModReq(a) => {
                Command::Modify(self.at(|| "Modify".to_string(), |d| d.amm(a))?)
            }
            asn::Command::SubtractReq(s) => self.at(
                || "Subtract".to_string(),
                |d| {
                    Ok(Command::Subtract(SubtractRequest {
                        termination_ids: d.tids(&s.termination_id)?,
                        audit: s
                            .audit_descriptor
                            .as_ref()
                            .map(|a| d.audit_descriptor(a))
                            .transpose()?,
                    }))
                },
            )?,
            asn::Command::AuditCapRequest(a) => Command::AuditCapabilities(
                self.at(|| "AuditCapability".to_string(), |d| d.audit_request(a))?,
            ),
            asn::Command::AuditValueRequest(a) => {
                Command::AuditValue(self.at(|| "AuditValue".to_string(), |d| d.audit_request(a))?)
            }
            asn::Command::NotifyReq(n) => self.at(
                || "Notify".to_string(),
                |d| {
                    let o = &n.observed_events_descriptor;
                    Ok(Command::Notify(NotifyRequest {
                        termination_ids: d.tids(&n.termination_id)?,
                        observed_events: if o.observed_event_lst.is_empty() {
                            None
                        } else {
                            Some(d.observed_events(o)?)
                        },
                        error: n.error_descriptor.as_ref().map(|e| d.error(e)),
                    }))
                },
            )?,
            asn::Command::ServiceChangeReq(s) => self.at(
                || "ServiceChange".to_string(),
                |d| {
                    Ok(Command::ServiceChange(ServiceChangeRequest {
                        termination_ids: d.tids(&s.termination_id)?,
                        parms: Box::new(d.sc_parm(&s.service_change_parms)?),
                    }))
                },
            )?,
        })
    }

    /// terminationIDList, when present, is the whole list (terminationID is then its first).
    fn audit_request(&mut self, a: &asn::AuditRequest) -> R<AuditRequest, BinDecodeError> {
        let termination_ids = match &a.termination_id_list {
            Some(l) if !l.is_empty() => {
                if l[0] != a.termination_id {
                    return Err(self.bad(why::AUDIT_ID_NOT_FIRST));
                }
                self.tids(l)?
            }
            _ => [self.tid(&a.termination_id)?].into(),
        };
        Ok(AuditRequest {
            termination_ids,
            audit: Some(self.audit_descriptor(&a.audit_descriptor)?),
        })
    }

    fn amm(&mut self, a: &asn::AmmRequest) -> R<AmmRequest, BinDecodeError> {
        Ok(AmmRequest {
            termination_ids: self.tids(&a.termination_id)?,
            descriptors: a
                .descriptors
                .iter()
                .map(|d| self.amm_descriptor(d))
                .collect::<R<_, BinDecodeError>>()?,
        })
    }

    fn amm_descriptor(&mut self, d: &asn::AmmDescriptor) -> R<AmmDescriptor, BinDecodeError> {
        Ok(match d {
            asn::AmmDescriptor::MediaDescriptor(m) => {
                AmmDescriptor::Media(self.at(|| "Media".to_string(), |d| d.media(m))?)
            }
            asn::AmmDescriptor::ModemDescriptor(m) => {
                AmmDescriptor::Modem(self.at(|| "Modem".to_string(), |d| d.modem(m))?)
            }
            asn::AmmDescriptor::MuxDescriptor(m) => {
                AmmDescriptor::Mux(self.at(|| "Mux".to_string(), |d| d.mux(m))?)
            }
            asn::AmmDescriptor::EventsDescriptor(e) => {
                AmmDescriptor::Events(self.at(|| "Events".to_string(), |d| d.events(e))?)
            }
            asn::AmmDescriptor::EventBufferDescriptor(e) => AmmDescriptor::EventBuffer(
                self.at(|| "EventBuffer".to_string(), |d| d.event_buffer(e))?,
            ),
            asn::AmmDescriptor::SignalsDescriptor(s) => {
                AmmDescriptor::Signals(self.at(|| "Signals".to_string(), |d| d.signals(s))?)
            }
            asn::AmmDescriptor::DigitMapDescriptor(dm) => AmmDescriptor::DigitMap(
                self.at(|| "DigitMap".to_string(), |d| d.digit_map_descriptor(dm))?,
            ),
            asn::AmmDescriptor::AuditDescriptor(a) => {
                AmmDescriptor::Audit(self.at(|| "Audit".to_string(), |d| d.audit_descriptor(a))?)
            }
            asn::AmmDescriptor::StatisticsDescriptor(s) => AmmDescriptor::Statistics(
                self.at(|| "Statistics".to_string(), |d| d.statistics(s))?,
            ),
        })
    }

    fn media(&mut self, m: &asn::MediaDescriptor) -> R<MediaDescriptor, BinDecodeError> {
        Ok(MediaDescriptor {
            termination_state: m
                .term_state_descr
                .as_ref()
                .map(|t| {
                    self.at(
                        || "TerminationState".to_string(),
                        |d| {
                            Ok(TerminationStateDescriptor {
                                props: d.props(&t.property_parms)?,
                                event_buffer_control: t
                                    .event_buffer_control
                                    .map(|c| EVENT_BUFFER_CONTROLS[c as usize]),
                                service_state: t.service_state.map(service_state_from),
                            })
                        },
                    )
                })
                .transpose()?,
            streams: match &m.streams {
                None => None,
                Some(asn::Streams::OneStream(sp)) => Some(Streams::One(self.stream_parms(sp)?)),
                Some(asn::Streams::MultiStream(v)) => Some(Streams::Multi(
                    v.iter()
                        .map(|s| {
                            self.at(
                                || label::stream(s.stream_id),
                                |d| {
                                    Ok(StreamDescriptor {
                                        id: s.stream_id,
                                        parms: d.stream_parms(&s.stream_parms)?,
                                    })
                                },
                            )
                        })
                        .collect::<R<_, BinDecodeError>>()?,
                )),
            },
        })
    }

    fn stream_parms(&mut self, sp: &asn::StreamParms) -> R<StreamParms, BinDecodeError> {
        Ok(StreamParms {
            local_control: sp
                .local_control_descriptor
                .as_ref()
                .map(|lc| {
                    self.at(
                        || "LocalControl".to_string(),
                        |d| {
                            Ok(LocalControlDescriptor {
                                mode: lc.stream_mode.map(stream_mode_from),
                                reserve_group: lc.reserve_group,
                                reserve_value: lc.reserve_value,
                                props: d.props(&lc.property_parms)?,
                            })
                        },
                    )
                })
                .transpose()?,
            local: sp
                .local_descriptor
                .as_ref()
                .map(|l| self.at(|| "Local".to_string(), |d| d.local_remote(l)))
                .transpose()?,
            remote: sp
                .remote_descriptor
                .as_ref()
                .map(|l| self.at(|| "Remote".to_string(), |d| d.local_remote(l)))
                .transpose()?,
            statistics: sp
                .statistics_descriptor
                .as_ref()
                .map(|s| self.at(|| "Statistics".to_string(), |d| d.statistics(s)))
                .transpose()?,
        })
    }

    fn local_remote(
        &mut self,
        l: &asn::LocalRemoteDescriptor,
    ) -> R<LocalRemoteDescriptor, BinDecodeError> {
        Ok(LocalRemoteDescriptor {
            groups: l
                .prop_grps
                .iter()
                .map(|g| self.props(g))
                .collect::<R<_, BinDecodeError>>()?,
        })
    }

    fn props(&self, ps: &[asn::PropertyParm]) -> R<Vec<PropertyParm>, BinDecodeError> {
        ps.iter().map(|p| self.prop(p)).collect()
    }

    fn prop(&self, p: &asn::PropertyParm) -> R<PropertyParm, BinDecodeError> {
        let name = self.name(ItemKind::Property, &p.name)?;
        Ok(PropertyParm {
            value: self.value(|| format!("value of '{name}'"), &p.value)?,
            name,
            extra: p.extra_info.as_ref().map(extra_from),
        })
    }

    fn modem(&mut self, m: &asn::ModemDescriptor) -> R<ModemDescriptor, BinDecodeError> {
        if m.non_standard_data.is_some() {
            return Err(self.unsupported(why::MODEM_NSD));
        }
        Ok(ModemDescriptor {
            types: m
                .mtl
                .iter()
                .map(|&t| modem_type_name(t as usize).unwrap_or_default().to_string())
                .collect(),
            props: self.props(&m.mpl)?,
        })
    }

    fn mux(&mut self, m: &asn::MuxDescriptor) -> R<MuxDescriptor, BinDecodeError> {
        if m.non_standard_data.is_some() {
            return Err(self.unsupported(why::MUX_NSD));
        }
        Ok(MuxDescriptor {
            mux_type: MUX_TYPES[m.mux_type as usize],
            termination_ids: self.tids(&m.term_list)?,
        })
    }

    fn events(&mut self, e: &asn::EventsDescriptor) -> R<EventsDescriptor, BinDecodeError> {
        Ok(EventsDescriptor {
            request_id: e.request_id,
            events: e
                .event_list
                .iter()
                .enumerate()
                .map(|(i, r)| self.at(|| label::event(i), |d| d.requested_event(r)))
                .collect::<R<_, BinDecodeError>>()?,
        })
    }

    fn ev_params(
        &self,
        item: &asn::PkgdName,
        ps: &[asn::EventParameter],
    ) -> R<Vec<PropertyParm>, BinDecodeError> {
        ps.iter()
            .map(|p| {
                let name = self.param(ItemKind::Event, item, &p.event_parameter_name);
                Ok(PropertyParm {
                    value: self.value(|| format!("event parameter '{name}'"), &p.value)?,
                    name,
                    extra: p.extra_info.as_ref().map(extra_from),
                })
            })
            .collect()
    }

    fn event_dm(&self, dm: &asn::EventDM) -> DigitMapDescriptor {
        match dm {
            asn::EventDM::DigitMapName(n) => DigitMapDescriptor {
                name: Some(digit_map_name_from_octets(**n)),
                value: None,
            },
            asn::EventDM::DigitMapValue(v) => DigitMapDescriptor {
                name: None,
                value: Some(Self::digit_map_value(v)),
            },
        }
    }

    fn requested_event(&mut self, r: &asn::RequestedEvent) -> R<RequestedEvent, BinDecodeError> {
        let name = self.name(ItemKind::Event, &r.pkgd_name)?;
        let mut ev = RequestedEvent::new(&name);
        ev.stream = r.stream_id;
        ev.params = self.ev_params(&r.pkgd_name, &r.ev_par_list)?;
        if let Some(a) = &r.event_action {
            ev.keep_active = a.keep_active == Some(true);
            ev.digit_map = a.event_dm.as_ref().map(|dm| self.event_dm(dm));
            ev.embed_events = a
                .second_event
                .as_ref()
                .map(|s| self.at(|| "Embed Events".to_string(), |d| d.second_events(s)))
                .transpose()?
                .map(Box::new);
            ev.embed_signals = a
                .signals_descriptor
                .as_ref()
                .map(|s| self.at(|| "Embed Signals".to_string(), |d| d.signals(s)))
                .transpose()?;
            ev.notify_behaviour = a
                .notify_behaviour
                .as_ref()
                .map(|n| self.notify_behaviour(n))
                .transpose()?;
            ev.reset_events = a.reset_events_descriptor.is_some();
        }
        ev.name = name;
        Ok(ev)
    }

    fn notify_behaviour(&mut self, n: &asn::NotifyBehaviour) -> R<NotifyBehaviour, BinDecodeError> {
        Ok(match n {
            asn::NotifyBehaviour::NotifyImmediate(()) => NotifyBehaviour::Immediate,
            asn::NotifyBehaviour::NeverNotify(()) => NotifyBehaviour::Never,
            asn::NotifyBehaviour::NotifyRegulated(r) => NotifyBehaviour::Regulated {
                events: r
                    .second_event
                    .as_ref()
                    .map(|s| {
                        self.at(
                            || "RegulatedNotify Events".to_string(),
                            |d| d.second_events(s),
                        )
                    })
                    .transpose()?
                    .map(Box::new),
                signals: r
                    .signals_descriptor
                    .as_ref()
                    .map(|s| self.at(|| "RegulatedNotify Signals".to_string(), |d| d.signals(s)))
                    .transpose()?,
            },
        })
    }

    fn second_events(
        &mut self,
        s: &asn::SecondEventsDescriptor,
    ) -> R<EventsDescriptor, BinDecodeError> {
        Ok(EventsDescriptor {
            request_id: s.request_id,
            events: s
                .event_list
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    self.at(
                        || label::event(i),
                        |d| {
                            let name = d.name(ItemKind::Event, &r.pkgd_name)?;
                            let mut ev = RequestedEvent::new(&name);
                            ev.name = name;
                            ev.stream = r.stream_id;
                            ev.params = d.ev_params(&r.pkgd_name, &r.ev_par_list)?;
                            if let Some(a) = &r.event_action {
                                ev.keep_active = a.keep_active == Some(true);
                                ev.digit_map = a.event_dm.as_ref().map(|dm| d.event_dm(dm));
                                ev.embed_signals = a
                                    .signals_descriptor
                                    .as_ref()
                                    .map(|s| d.at(|| "Embed Signals".to_string(), |d| d.signals(s)))
                                    .transpose()?;
                                ev.notify_behaviour = a
                                    .notify_behaviour
                                    .as_ref()
                                    .map(|n| d.notify_behaviour(n))
                                    .transpose()?;
                                ev.reset_events = a.reset_events_descriptor.is_some();
                            }
                            Ok(ev)
                        },
                    )
                })
                .collect::<R<_, BinDecodeError>>()?,
        })
    }

    fn event_buffer(&mut self, eb: &[asn::EventSpec]) -> R<Vec<EventSpec>, BinDecodeError> {
        eb.iter()
            .map(|s| {
                Ok(EventSpec {
                    name: self.name(ItemKind::Event, &s.event_name)?,
                    stream: s.stream_id,
                    params: self.ev_params(&s.event_name, &s.event_par_list)?,
                })
            })
            .collect()
    }

    fn signals(&mut self, s: &[asn::SignalRequest]) -> R<Vec<SignalsItem>, BinDecodeError> {
        s.iter()
            .map(|r| {
                Ok(match r {
                    asn::SignalRequest::Signal(sig) => SignalsItem::Signal(self.signal(sig)?),
                    asn::SignalRequest::SeqSigList(l) => SignalsItem::List {
                        id: l.id,
                        signals: self.at(
                            || label::signal_list(l.id),
                            |d| l.signal_list.iter().map(|s| d.signal(s)).collect(),
                        )?,
                    },
                })
            })
            .collect()
    }

    fn signal(&mut self, s: &asn::Signal) -> R<Signal, BinDecodeError> {
        let name = self.name(ItemKind::Signal, &s.signal_name)?;
        let params = s
            .sig_par_list
            .iter()
            .map(|p| {
                let pname = self.param(ItemKind::Signal, &s.signal_name, &p.sig_parameter_name);
                Ok(PropertyParm {
                    value: self.value(
                        || format!("parameter '{pname}' of signal '{name}'"),
                        &p.value,
                    )?,
                    name: pname,
                    extra: p.extra_info.as_ref().map(extra_from),
                })
            })
            .collect::<R<_, BinDecodeError>>()?;
        Ok(Signal {
            stream: s.stream_id,
            signal_type: s.sig_type.map(|t| SIGNAL_TYPES[t as usize]),
            duration: s.duration,
            notify_completion: s
                .notify_completion
                .as_ref()
                .map(|bs| completions_where(|b| bs.get(b).is_some_and(|b| *b))),
            keep_active: s.keep_active == Some(true),
            direction: s.direction.and_then(|d| signal_direction_from(d as i64)),
            request_id: s.request_id,
            intersig_delay: s.intersig_delay,
            params,
            name,
        })
    }

    fn digit_map_value(v: &asn::DigitMapValue) -> DigitMapValue {
        DigitMapValue {
            start_timer: v.start_timer,
            short_timer: v.short_timer,
            long_timer: v.long_timer,
            duration_timer: v.duration_timer,
            body: Self::ia5(&v.digit_map_body),
        }
    }

    fn digit_map_descriptor(
        &mut self,
        d: &asn::DigitMapDescriptor,
    ) -> R<DigitMapDescriptor, BinDecodeError> {
        if d.digit_map_name.is_none() && d.digit_map_value.is_none() {
            return Err(self.bad(why::DIGIT_MAP_EMPTY));
        }
        Ok(DigitMapDescriptor {
            name: d.digit_map_name.map(|n| digit_map_name_from_octets(*n)),
            value: d.digit_map_value.as_ref().map(Self::digit_map_value),
        })
    }

    fn statistics(
        &mut self,
        s: &[asn::StatisticsParameter],
    ) -> R<Vec<StatisticsParameter>, BinDecodeError> {
        s.iter()
            .map(|p| {
                let name = self.name(ItemKind::Statistic, &p.stat_name)?;
                Ok(StatisticsParameter {
                    value: p
                        .stat_value
                        .as_ref()
                        .map(|v| self.value(|| format!("statistic '{name}'"), v))
                        .transpose()?,
                    name,
                })
            })
            .collect()
    }

    fn package_name(&self, n: &asn::Name) -> R<String, BinDecodeError> {
        package_name(self.reg, **n).map_err(|b| self.broke(b))
    }

    fn observed_events(
        &mut self,
        o: &asn::ObservedEventsDescriptor,
    ) -> R<ObservedEventsDescriptor, BinDecodeError> {
        Ok(ObservedEventsDescriptor {
            request_id: o.request_id,
            events: o
                .observed_event_lst
                .iter()
                .map(|e| {
                    Ok(ObservedEvent {
                        name: self.name(ItemKind::Event, &e.event_name)?,
                        stream: e.stream_id,
                        params: self.ev_params(&e.event_name, &e.event_par_list)?,
                        timestamp: e.time_notation.as_ref().map(time_from),
                    })
                })
                .collect::<R<_, BinDecodeError>>()?,
        })
    }

    fn audit_descriptor(&mut self, a: &asn::AuditDescriptor) -> R<AuditDescriptor, BinDecodeError> {
        Ok(AuditDescriptor {
            items: a.audit_token.as_ref().map(audit_items).unwrap_or_default(),
            ind_aud: a
                .audit_property_token
                .iter()
                .flatten()
                .map(|p| self.ind_audit_parameter(p))
                .collect::<R<_, BinDecodeError>>()?,
        })
    }

    fn ind_aud_prop(&self, p: &asn::IndAudPropertyParm) -> R<IndAudProp, BinDecodeError> {
        match &p.property_parms {
            None => Ok(IndAudProp::Name(self.name(ItemKind::Property, &p.name)?)),
            Some(pp) => {
                if pp.name != p.name {
                    return Err(self.broke(ind_aud_names_differ(*p.name, *pp.name)));
                }
                Ok(IndAudProp::Select(self.prop(pp)?))
            }
        }
    }

    fn ind_aud_props(&self, ps: &[asn::IndAudPropertyParm]) -> R<Vec<IndAudProp>, BinDecodeError> {
        ps.iter().map(|p| self.ind_aud_prop(p)).collect()
    }

    fn ind_audit_parameter(
        &mut self,
        p: &asn::IndAuditParameter,
    ) -> R<IndAuditParameter, BinDecodeError> {
        Ok(match p {
            asn::IndAuditParameter::IndaudmediaDescriptor(m) => {
                IndAuditParameter::Media(self.at(|| "Media".to_string(), |d| d.ind_aud_media(m))?)
            }
            asn::IndAuditParameter::IndaudeventsDescriptor(e) => {
                if e.stream_id.is_some() {
                    return Err(self.unsupported(why::IND_AUD_EVENTS_STREAM));
                }
                IndAuditParameter::Events {
                    request_id: e.request_id,
                    name: self.name(ItemKind::Event, &e.pkgd_name)?,
                }
            }
            asn::IndAuditParameter::IndaudeventBufferDescriptor(e) => {
                IndAuditParameter::EventBuffer {
                    name: self.name(ItemKind::Event, &e.event_name)?,
                    stream: e.stream_id,
                }
            }
            asn::IndAuditParameter::IndaudsignalsDescriptor(s) => {
                IndAuditParameter::Signals(Some(match s {
                    asn::IndAudSignalsDescriptor::Signal(sig) => IndAudSignalParm::Signal {
                        name: self.name(ItemKind::Signal, &sig.signal_name)?,
                        stream: sig.stream_id,
                        request_id: sig.signal_request_id,
                    },
                    asn::IndAudSignalsDescriptor::SeqSigList(l) => IndAudSignalParm::List {
                        id: l.id,
                        signal: match &l.signal_list {
                            None => None,
                            Some(sig) => {
                                if sig.stream_id.is_some() || sig.signal_request_id.is_some() {
                                    return Err(self.unsupported(why::IND_AUD_LIST_SIGNAL));
                                }
                                Some(self.name(ItemKind::Signal, &sig.signal_name)?)
                            }
                        },
                    },
                }))
            }
            asn::IndAuditParameter::IndauddigitMapDescriptor(dm) => IndAuditParameter::DigitMap(
                dm.digit_map_name.map(|n| digit_map_name_from_octets(*n)),
            ),
            asn::IndAuditParameter::IndaudstatisticsDescriptor(s) => {
                IndAuditParameter::Statistics(self.name(ItemKind::Statistic, &s.stat_name)?)
            }
            asn::IndAuditParameter::IndaudpackagesDescriptor(p) => {
                IndAuditParameter::Packages(PackagesItem {
                    name: self.package_name(&p.package_name)?,
                    version: p.package_version,
                })
            }
        })
    }

    fn ind_aud_media(
        &mut self,
        m: &asn::IndAudMediaDescriptor,
    ) -> R<IndAudMediaDescriptor, BinDecodeError> {
        let (stream_parms, streams) = match &m.streams {
            None => (None, Vec::new()),
            Some(asn::IndAudStreams::OneStream(sp)) => (Some(self.ind_aud_stream(sp)?), Vec::new()),
            Some(asn::IndAudStreams::MultiStream(v)) => (
                None,
                v.iter()
                    .map(|s| {
                        self.at(
                            || label::stream(s.stream_id),
                            |d| Ok((s.stream_id, d.ind_aud_stream(&s.stream_parms)?)),
                        )
                    })
                    .collect::<R<_, BinDecodeError>>()?,
            ),
        };
        Ok(IndAudMediaDescriptor {
            termination_state: m
                .term_state_descr
                .as_ref()
                .map(|t| {
                    Ok::<_, BinDecodeError>(IndAudTerminationState {
                        props: self.ind_aud_props(&t.property_parms)?,
                        event_buffer_control: t.event_buffer_control.is_some(),
                        service_state: t.service_state.is_some(),
                        service_state_sel: t
                            .service_state_sel
                            .map(|s| (true, service_state_from(s))),
                    })
                })
                .transpose()?,
            stream_parms,
            streams,
        })
    }

    fn ind_aud_stream(
        &mut self,
        sp: &asn::IndAudStreamParms,
    ) -> R<IndAudStreamParms, BinDecodeError> {
        Ok(IndAudStreamParms {
            local_control: sp
                .local_control_descriptor
                .as_ref()
                .map(|lc| {
                    Ok::<_, BinDecodeError>(IndAudLocalControl {
                        mode: lc.stream_mode.is_some(),
                        mode_sel: lc.stream_mode_sel.map(|m| (true, stream_mode_from(m))),
                        reserve_value: lc.reserve_value.is_some(),
                        reserve_group: lc.reserve_group.is_some(),
                        props: self
                            .ind_aud_props(lc.property_parms.as_deref().unwrap_or_default())?,
                    })
                })
                .transpose()?,
            local: sp
                .local_descriptor
                .as_ref()
                .map(|l| self.at(|| "Local".to_string(), |d| d.ind_aud_local_remote(l)))
                .transpose()?,
            remote: sp
                .remote_descriptor
                .as_ref()
                .map(|l| self.at(|| "Remote".to_string(), |d| d.ind_aud_local_remote(l)))
                .transpose()?,
            statistics: sp
                .statistics_descriptor
                .as_ref()
                .map(|s| self.name(ItemKind::Statistic, &s.stat_name))
                .transpose()?,
        })
    }

    fn ind_aud_local_remote(
        &mut self,
        l: &asn::IndAudLocalRemoteDescriptor,
    ) -> R<LocalRemoteDescriptor, BinDecodeError> {
        if l.prop_group_id.is_some() {
            return Err(self.unsupported(why::IND_AUD_GROUP_ID));
        }
        let mut group = Vec::new();
        for p in &l.prop_grps {
            group.push(match self.ind_aud_prop(p)? {
                IndAudProp::Name(name) => PropertyParm {
                    name,
                    value: Values::new(),
                    extra: None,
                },
                IndAudProp::Select(pp) => {
                    if pp.value.is_empty() {
                        return Err(self.unsupported(why::IND_AUD_LINE_NO_VALUE));
                    }
                    pp
                }
            });
        }
        Ok(LocalRemoteDescriptor {
            groups: if group.is_empty() {
                Vec::new()
            } else {
                vec![group]
            },
        })
    }

    fn sc_parm(&mut self, p: &asn::ServiceChangeParm) -> R<ServiceChangeParm, BinDecodeError> {
        let reasons = &p.service_change_reason;
        let reason =
            sc_reason(reasons.first().map(|r| &r[..]), reasons.len()).map_err(|b| self.broke(b))?;
        let extensions = match &p.non_standard_data {
            None => Vec::new(),
            Some(nsd) => {
                let experimental = match &nsd.non_standard_identifier {
                    asn::NonStandardIdentifier::Experimental(id) => Some(id.as_iso646_bytes()),
                    _ => None,
                };
                sc_extensions(experimental, &nsd.data).map_err(|b| self.broke(b))?
            }
        };
        Ok(ServiceChangeParm {
            method: SC_METHODS[p.service_change_method as usize].clone(),
            address: p
                .service_change_address
                .as_ref()
                .map(|a| self.sc_address(a))
                .transpose()?,
            version: p.service_change_version,
            profile: p
                .service_change_profile
                .as_ref()
                .map(|pr| self.profile(pr))
                .transpose()?,
            reason,
            delay: p.service_change_delay,
            mgc_id: p
                .service_change_mgc_id
                .as_ref()
                .map(|m| self.mid(m))
                .transpose()?,
            timestamp: p.time_stamp.as_ref().map(time_from),
            extensions,
            info: p
                .service_change_info
                .as_ref()
                .map(|a| self.audit_descriptor(a))
                .transpose()?,
            incomplete: p.service_change_incomplete_flag.is_some(),
        })
    }

    fn sc_address(&self, a: &asn::ServiceChangeAddress) -> R<ServiceChangeAddress, BinDecodeError> {
        Ok(match a {
            asn::ServiceChangeAddress::PortNumber(p) => ServiceChangeAddress::Port(*p),
            asn::ServiceChangeAddress::Ip4Address(a) => {
                ServiceChangeAddress::MId(self.mid(&asn::MId::Ip4Address(a.clone()))?)
            }
            asn::ServiceChangeAddress::Ip6Address(a) => {
                ServiceChangeAddress::MId(self.mid(&asn::MId::Ip6Address(a.clone()))?)
            }
            asn::ServiceChangeAddress::DomainName(d) => {
                ServiceChangeAddress::MId(self.mid(&asn::MId::DomainName(d.clone()))?)
            }
            asn::ServiceChangeAddress::DeviceName(d) => {
                ServiceChangeAddress::MId(MId::Device(Self::ia5_text(d)))
            }
            asn::ServiceChangeAddress::MtpAddress(o) => {
                ServiceChangeAddress::MId(MId::Mtp(self.mtp(o)?))
            }
        })
    }

    fn profile(&self, p: &asn::ServiceChangeProfile) -> R<ServiceChangeProfile, BinDecodeError> {
        sc_profile(&Self::ia5(&p.profile_name)).map_err(|b| self.broke(b))
    }

    fn sc_res_parm(
        &self,
        p: &asn::ServiceChangeResParm,
    ) -> R<ServiceChangeResParm, BinDecodeError> {
        Ok(ServiceChangeResParm {
            mgc_id: p
                .service_change_mgc_id
                .as_ref()
                .map(|m| self.mid(m))
                .transpose()?,
            address: p
                .service_change_address
                .as_ref()
                .map(|a| self.sc_address(a))
                .transpose()?,
            version: p.service_change_version,
            profile: p
                .service_change_profile
                .as_ref()
                .map(|pr| self.profile(pr))
                .transpose()?,
            timestamp: p.timestamp.as_ref().map(time_from),
        })
    }

    fn action_reply(&mut self, a: &asn::ActionReply) -> R<ActionReply, BinDecodeError> {
        Ok(ActionReply {
            context: ctx_from(a.context_id),
            error: a.error_descriptor.as_ref().map(|e| self.error(e)),
            context_reply: a
                .context_reply
                .as_ref()
                .map(|c| self.at(|| "contextReply".to_string(), |d| d.context_request(c)))
                .transpose()?,
            commands: a
                .command_reply
                .iter()
                .enumerate()
                .map(|(i, c)| self.at(|| label::command_reply(i), |d| d.command_reply(c)))
                .collect::<R<_, BinDecodeError>>()?,
        })
    }

    fn amms_reply(&mut self, r: &asn::AmmsReply) -> R<AmmsReply, BinDecodeError> {
        Ok(AmmsReply {
            termination_ids: self.tids(&r.termination_id)?,
            audit: r
                .termination_audit
                .as_ref()
                .map(|a| self.termination_audit(a))
                .transpose()?,
        })
    }

    fn command_reply(&mut self, c: &asn::CommandReply) -> R<CommandReply, BinDecodeError> {
        Ok(match c {
            asn::CommandReply::AddReply(r) => CommandReply::Add(self.amms_reply(r)?),
            asn::CommandReply::MoveReply(r) => CommandReply::Move(self.amms_reply(r)?),
            asn::CommandReply::ModReply(r) => CommandReply::Modify(self.amms_reply(r)?),
            asn::CommandReply::SubtractReply(r) => CommandReply::Subtract(self.amms_reply(r)?),
            asn::CommandReply::AuditCapReply(r) => {
                CommandReply::AuditCapabilities(self.audit_reply(r)?)
            }
            asn::CommandReply::AuditValueReply(r) => CommandReply::AuditValue(self.audit_reply(r)?),
            asn::CommandReply::NotifyReply(r) => CommandReply::Notify(NotifyReply {
                termination_ids: self.tids(&r.termination_id)?,
                error: r.error_descriptor.as_ref().map(|e| self.error(e)),
            }),
            asn::CommandReply::ServiceChangeReply(r) => {
                CommandReply::ServiceChange(ServiceChangeReply {
                    termination_ids: self.tids(&r.termination_id)?,
                    result: match &r.service_change_result {
                        asn::ServiceChangeResult::ErrorDescriptor(e) => {
                            ServiceChangeResult::Error(self.error(e))
                        }
                        asn::ServiceChangeResult::ServiceChangeResParms(p) => {
                            ServiceChangeResult::Parms(self.sc_res_parm(p)?)
                        }
                    },
                })
            }
        })
    }

    fn audit_reply(&mut self, r: &asn::AuditReply) -> R<AuditReply, BinDecodeError> {
        Ok(match r {
            asn::AuditReply::ContextAuditResult(ts) => {
                AuditReply::ContextAuditResult(self.tids(ts)?)
            }
            asn::AuditReply::Error(e) => AuditReply::Error(self.error(e)),
            asn::AuditReply::AuditResult(a) => AuditReply::AuditResult {
                termination_ids: [self.tid(&a.termination_id)?].into(),
                audit: self.termination_audit(&a.termination_audit_result)?,
            },
            asn::AuditReply::AuditResultTermList(a) if a.termination_id_list.is_empty() => {
                return Err(self.bad(why::TERM_LIST_EMPTY))
            }
            asn::AuditReply::AuditResultTermList(a) => AuditReply::AuditResult {
                termination_ids: self.tids(&a.termination_id_list)?,
                audit: self.termination_audit(&a.termination_audit_result)?,
            },
        })
    }

    fn termination_audit(
        &mut self,
        ta: &[asn::AuditReturnParameter],
    ) -> R<Vec<AuditReturnParameter>, BinDecodeError> {
        let mut out = Vec::with_capacity(ta.len());
        for p in ta {
            match p {
                asn::AuditReturnParameter::ErrorDescriptor(e) => {
                    out.push(AuditReturnParameter::Error(self.error(e)))
                }
                asn::AuditReturnParameter::MediaDescriptor(m) => out.push(
                    AuditReturnParameter::Media(self.at(|| "Media".to_string(), |d| d.media(m))?),
                ),
                asn::AuditReturnParameter::ModemDescriptor(m) => out.push(
                    AuditReturnParameter::Modem(self.at(|| "Modem".to_string(), |d| d.modem(m))?),
                ),
                asn::AuditReturnParameter::MuxDescriptor(m) => out.push(AuditReturnParameter::Mux(
                    self.at(|| "Mux".to_string(), |d| d.mux(m))?,
                )),
                asn::AuditReturnParameter::EventsDescriptor(e) => {
                    out.push(AuditReturnParameter::Events(
                        self.at(|| "Events".to_string(), |d| d.events(e))?,
                    ))
                }
                asn::AuditReturnParameter::EventBufferDescriptor(e) => {
                    out.push(AuditReturnParameter::EventBuffer(
                        self.at(|| "EventBuffer".to_string(), |d| d.event_buffer(e))?,
                    ))
                }
                asn::AuditReturnParameter::SignalsDescriptor(s) => {
                    out.push(AuditReturnParameter::Signals(
                        self.at(|| "Signals".to_string(), |d| d.signals(s))?,
                    ))
                }
                asn::AuditReturnParameter::DigitMapDescriptor(dm) => {
                    out.push(AuditReturnParameter::DigitMap(
                        self.at(|| "DigitMap".to_string(), |d| d.digit_map_descriptor(dm))?,
                    ))
                }
                asn::AuditReturnParameter::ObservedEventsDescriptor(o) => {
                    out.push(AuditReturnParameter::ObservedEvents(
                        self.at(|| "ObservedEvents".to_string(), |d| d.observed_events(o))?,
                    ))
                }
                asn::AuditReturnParameter::StatisticsDescriptor(s) => {
                    out.push(AuditReturnParameter::Statistics(
                        self.at(|| "Statistics".to_string(), |d| d.statistics(s))?,
                    ))
                }
                asn::AuditReturnParameter::PackagesDescriptor(ps) => {
                    out.push(AuditReturnParameter::Packages(
                        ps.iter()
                            .map(|p| {
                                Ok(PackagesItem {
                                    name: self.package_name(&p.package_name)?,
                                    version: p.package_version,
                                })
                            })
                            .collect::<R<_, BinDecodeError>>()?,
                    ))
                }
                asn::AuditReturnParameter::EmptyDescriptors(a) => {
                    if a.audit_property_token.is_some() {
                        return Err(self.unsupported(why::EMPTY_DESCRIPTORS_PROPS));
                    }
                    out.extend(
                        a.audit_token
                            .as_ref()
                            .map(audit_items)
                            .unwrap_or_default()
                            .into_iter()
                            .map(AuditReturnParameter::Empty),
                    );
                }
            }
        }
        Ok(out)
    }
}

fn audit_items(bs: &BitString) -> Vec<AuditItem> {
    audit_items_where(|b| bs.get(b).is_some_and(|b| *b))
}

pub(crate) fn hex_str(o: &[u8]) -> String {
    // One allocation, not one `format!` per octet.
    let mut s = String::with_capacity(2 * o.len());
    for &b in o {
        let [h, l] = hex_octet(b);
        s.push(char::from(h));
        s.push(char::from(l));
    }
    s
}

/// An octet's two lower-case hex digits.
fn hex_octet(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]
}

fn time_from(t: &asn::TimeNotation) -> TimeNotation {
    time_notation(t.date.as_iso646_bytes(), t.time.as_iso646_bytes())
}

/// `TimeNotation` from the characters of its `date` and `time`.
pub(crate) fn time_notation(date: &[u8], time: &[u8]) -> TimeNotation {
    TimeNotation {
        date: ia5_text(date),
        time: ia5_text(time),
    }
}

fn service_state_from(s: asn::ServiceState) -> ServiceState {
    SERVICE_STATES[s as usize]
}

fn stream_mode_from(m: asn::StreamMode) -> StreamMode {
    STREAM_MODES[m as usize]
}

fn extra_from(x: &asn::ExtraInfo) -> ExtraInfo {
    match x {
        asn::ExtraInfo::Relation(r) => ExtraInfo::Relation(RELATIONS[*r as usize]),
        asn::ExtraInfo::Range(b) => ExtraInfo::Range(*b),
        asn::ExtraInfo::Sublist(b) => ExtraInfo::Sublist(*b),
    }
}

/// Parses what `Enc::sc_extensions` writes (and nothing else).
fn parse_sc_extensions(s: &str) -> Option<Vec<PropertyParm>> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let quoted = |i: &mut usize| -> Option<String> {
        if b.get(*i) != Some(&b'"') {
            return None;
        }
        let start = *i + 1;
        let end = start + s[start..].find('"')?;
        *i = end + 1;
        Some(s[start..end].to_string())
    };
    while i < b.len() {
        let name_end = i + s[i..].find(['=', '>', '<', '#'])?;
        let name = s[i..name_end].to_string();
        if name.is_empty() || name.contains([',', '"']) {
            return None;
        }
        i = name_end + 1;
        let (value, extra) = match b[name_end] {
            b'>' => (
                vec![quoted(&mut i)?],
                Some(ExtraInfo::Relation(Relation::GreaterThan)),
            ),
            b'<' => (
                vec![quoted(&mut i)?],
                Some(ExtraInfo::Relation(Relation::SmallerThan)),
            ),
            b'#' => (
                vec![quoted(&mut i)?],
                Some(ExtraInfo::Relation(Relation::UnequalTo)),
            ),
            _ => match b.get(i) {
                Some(&open @ (b'{' | b'[')) => {
                    i += 1;
                    let mut v = vec![quoted(&mut i)?];
                    let mut range = false;
                    loop {
                        match b.get(i) {
                            Some(b',') if !range => {
                                i += 1;
                                v.push(quoted(&mut i)?);
                            }
                            Some(b':') if open == b'[' && v.len() == 1 => {
                                i += 1;
                                range = true;
                                v.push(quoted(&mut i)?);
                            }
                            Some(b'}') if open == b'{' => break,
                            Some(b']') if open == b'[' => break,
                            _ => return None,
                        }
                    }
                    i += 1;
                    let extra = match (open, range) {
                        (b'{', _) => ExtraInfo::Sublist(false),
                        (_, true) => ExtraInfo::Range(true),
                        _ => ExtraInfo::Sublist(true),
                    };
                    (v, Some(extra))
                }
                _ => (vec![quoted(&mut i)?], None),
            },
        };
        out.push(PropertyParm {
            name: name.into(),
            value: value.into_iter().map(Text::from).collect(),
            extra,
        });
        match b.get(i) {
            None => {}
            Some(b',') if i + 1 < b.len() => i += 1,
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_text_agrees_with_from_utf8() {
        let pieces: [&[u8]; 9] = [
            b"a",
            b"\x00",
            "é".as_bytes(),
            "€".as_bytes(),
            "😀".as_bytes(),
            b"\xc3",
            b"\xe2\x82",
            b"\xff",
            b"\x80",
        ];
        let mut next = crate::binary::test_rng(0x9e37_79b9_7f4a_7c15u64);
        for _ in 0..20_000 {
            let mut o = Vec::new();
            while o.len() < next(40) {
                // Mostly valid characters, now and then a broken sequence.
                let k = if next(16) == 0 {
                    next(pieces.len())
                } else {
                    next(5)
                };
                o.extend_from_slice(pieces[k]);
            }
            let want = std::str::from_utf8(&o).ok().map(Text::from);
            assert_eq!(utf8_text(&o), want, "{o:02x?}");
        }
    }

    #[test]
    fn sc_extension_text_round_trips() {
        let reg = Registry::builtin();
        let tids = TermIdMapping::default();
        let e = Enc::new(&reg, &tids);
        let ext = vec![
            PropertyParm::new("x-a", "v 1"),
            PropertyParm {
                name: "x+b".into(),
                value: vec!["w".into()].into(),
                extra: Some(ExtraInfo::Relation(Relation::UnequalTo)),
            },
            PropertyParm {
                name: "x-c".into(),
                value: vec!["1".into(), "2".into()].into(),
                extra: Some(ExtraInfo::Sublist(false)),
            },
            PropertyParm {
                name: "x-d".into(),
                value: vec!["1".into(), "2".into(), "3".into()].into(),
                extra: Some(ExtraInfo::Sublist(true)),
            },
            PropertyParm {
                name: "x-e".into(),
                value: vec!["1".into(), "2".into()].into(),
                extra: Some(ExtraInfo::Range(true)),
            },
        ];
        let s = e.sc_extensions(&ext).unwrap();
        assert_eq!(
            s,
            r#"x-a="v 1",x+b#"w",x-c={"1","2"},x-d=["1","2","3"],x-e=["1":"2"]"#
        );
        assert_eq!(parse_sc_extensions(&s).unwrap(), ext);
        for bad in ["", "x=", "x=\"a\",", "x=[\"a\":\"b\",\"c\"]", "x={\"a\"]"] {
            assert!(parse_sc_extensions(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn digit_map_names() {
        assert_eq!(digit_map_name_to_octets("dialplan00"), Some([0, 0]));
        assert_eq!(digit_map_name_to_octets("dialplan7"), Some([0, 7]));
        assert_eq!(digit_map_name_to_octets("dialplan"), Some([0, 0]));
        assert_eq!(digit_map_name_to_octets("dialplan12"), Some([1, 2]));
        assert_eq!(digit_map_name_to_octets("dialplan0a10"), Some([0x0a, 0x10]));
        assert_eq!(digit_map_name_to_octets("dp2"), None);
        // The written-out form is the formatted one, for every name.
        for o in (0..=u16::MAX).map(u16::to_be_bytes) {
            let want = if o[0] <= 9 && o[1] <= 9 {
                format!("dialplan{}{}", o[0], o[1])
            } else {
                format!("dialplan{:02x}{:02x}", o[0], o[1])
            };
            assert_eq!(digit_map_name_from_octets(o), want);
        }
        for o in [[0, 0], [9, 9], [1, 2], [0x0a, 0], [0xff, 0xff], [0, 10]] {
            assert_eq!(
                digit_map_name_to_octets(&digit_map_name_from_octets(o)),
                Some(o)
            );
        }
    }
}
