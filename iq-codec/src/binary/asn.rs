//! The ASN.1 module `MEDIA-GATEWAY-CONTROL {itu-t(0) recommendation(0) h(8) h248(248) modules(0)
//! media-gateway-control(0) version3(3)}` of H.248.1 Annex A, as Rust types with `rasn` derives.
//!
//! One Rust type per ASN.1 type, in the module's order, with the module's names (types keep
//! their ASN.1 spelling, fields are the ASN.1 component names in snake case). Values are the raw
//! wire forms: package/item names are the 4 (`PkgdName`) or 2 (`Name`) octets, property and
//! parameter values are `SEQUENCE OF OCTET STRING`, termination IDs are their wildcard octets and
//! id octets. Mapping to and from the text-level model (`crate::model`) is done elsewhere.
//!
//! Tagging: the module is `AUTOMATIC TAGS`. Every tag that automatic tagging assigns is written
//! out here as `#[rasn(tag(context, n))]` (implicit), or `tag(explicit(context, n))` where the
//! component's type is a CHOICE (X.680 31.2.7: a tag on a CHOICE is always explicit). The
//! numbers continue after the extension marker for extension additions. Written-out tags (rather
//! than `#[rasn(automatic_tags)]`) are needed for the [`Ext`] field, see there.
//!
//! rasn 0.30 limitation met here: `tag(explicit(context, n))` on an OPTIONAL extension addition
//! does not compile (the derive wraps the field's `Option` once more: "expected
//! `Option<NotifyBehaviour>`, found `Option<Option<_>>`"). The three such components
//! (`ContextAttrAuditRequest.selectLogic`, `RequestedActions.notifyBehaviour`,
//! `SecondRequestedActions.notifyBehaviour`) are written `tag(context, n)`: rasn makes a tag on
//! a CHOICE type explicit by itself, which `tests/ber_asn.rs` checks on the bytes.
//!
//! Extensibility: a type whose ASN.1 has `...` is `#[non_exhaustive]` (rasn's marker for an
//! extensible type), its extension additions are `#[rasn(extension_addition)]`, and an
//! extensible SEQUENCE ends with an `ext: Ext` field that swallows extension additions this
//! version does not know. Unknown alternatives of an extensible CHOICE and unknown values of an
//! extensible ENUMERATED are decode errors (BER cannot skip a mandatory value).
//!
//! Constraints: the fixed sizes are types (`FixedOctetString<N>`); the other size and value
//! constraints of the module are given in the doc comments and carried by the Rust integer type
//! where it fits (0..99 and 0..15 are `u8`, 0..65535 `u16`, 0..4294967295 `u32`); they are not
//! checked, so decoding is lenient and encoding cannot fail.
//!
//! Where Wireshark's `h248v3.asn` (which writes the tags out by hand) differs, this file follows
//! the real module (Erlang/OTP megaco's `MEDIA-GATEWAY-CONTROL-v3.asn` agrees): EventName and
//! SignalName are `PkgdName` (Wireshark: OCTET STRING), `PropertyParm.value` is `SEQUENCE OF
//! OCTET STRING`, `ContextRequest.contextList` is `SEQUENCE OF ContextID`, and
//! `AuditRequest.terminationIDList` is `[2]` (Wireshark: `[3]`; megaco encodes `[2]`).
//! `SignalDirection.both` is 3 as in H.248.1 (Wireshark: 2).

use rasn::prelude::*;

pub use rasn::types::{BitString, FixedOctetString, Ia5String, ObjectIdentifier, OctetString};

// ------------------------------------------------------------------------------------------
// The one hand-written helper.

/// Extension additions this version does not know, at the end of an extensible SEQUENCE whose
/// version-3 components are tagged `[0]` to `[N-1]`.
///
/// Why it exists: rasn 0.30's BER decoder rejects any element left over after the known
/// components of a SEQUENCE (`UnexpectedExtraData`, or `MissingEndOfContents` for an
/// indefinite-length one), extensible or not; X.680/X.690 require a receiver to skip unknown
/// extension additions. This zero-sized type is decoded as an untagged (`Tag::EOC`) extension
/// addition, so the derived decoder hands it whatever follows the known components. It
/// consumes every remaining element (definite or indefinite length) and drops it, provided the
/// element's tag is context-specific and numbered `N` or more, as the automatic tag of a later
/// extension addition is; any other element there (a known component out of order or
/// repeated, a universal tag) is an error rather than silently lost. It encodes to nothing and
/// is `#[rasn(default)]`, so an absent one is no error. It only works with explicit per-field
/// tags: `#[rasn(automatic_tags)]` would give this field a tag too. Write `ext: Ext` (the
/// number is inferred) or `Default::default()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Ext<const N: u32>;

impl<const N: u32> AsnType for Ext<N> {
    const TAG: Tag = Tag::EOC;
}

impl<const N: u32> Decode for Ext<N> {
    fn decode_with_tag_and_constraints<D: Decoder>(
        decoder: &mut D,
        _tag: Tag,
        _constraints: &Constraints,
    ) -> Result<Self, D::Error> {
        use rasn::de::Error as _;
        // `decode_optional` answers None at the end of the enclosing contents (end of the
        // definite length, or the end-of-contents octets of an indefinite one).
        while let Some(SkippedElement(tlv)) = decoder.decode_optional::<SkippedElement>()? {
            match context_tag_number(&tlv) {
                Some(n) if n >= N => {}
                _ => {
                    return Err(D::Error::custom(
                        format_args!(
                            "unexpected element (first octets {}) where only extension \
                             additions (context tags [{N}] and up) may follow",
                            tlv.iter()
                                .take(4)
                                .map(|b| format!("{b:02x}"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                        decoder.codec(),
                    ))
                }
            }
        }
        Ok(Ext)
    }
}

impl<const N: u32> Encode for Ext<N> {
    fn encode_with_tag_and_constraints<'b, E: Encoder<'b>>(
        &self,
        _encoder: &mut E,
        _tag: Tag,
        _constraints: &Constraints,
        _identifier: Identifier,
    ) -> Result<(), E::Error> {
        Ok(())
    }
}

/// One whole TLV of any tag, its octets as read (used by [`Ext`] only).
struct SkippedElement(Vec<u8>);

impl AsnType for SkippedElement {
    const TAG: Tag = Tag::EOC;
}

impl Decode for SkippedElement {
    fn decode_with_tag_and_constraints<D: Decoder>(
        decoder: &mut D,
        _tag: Tag,
        _constraints: &Constraints,
    ) -> Result<Self, D::Error> {
        // Untagged (`Tag::EOC`), `decode_any` returns the whole encoding, identifier first.
        decoder
            .decode_any(Tag::EOC)
            .map(|any| SkippedElement(any.into_bytes()))
    }
}

/// The tag number of a BER element if its class is context-specific (X.690 8.1.2).
fn context_tag_number(tlv: &[u8]) -> Option<u32> {
    let (&first, rest) = tlv.split_first()?;
    if first >> 6 != 0b10 {
        return None;
    }
    if first & 0x1f != 0x1f {
        return Some(u32::from(first & 0x1f));
    }
    let mut n: u32 = 0;
    for &b in rest {
        n = n.checked_mul(128)?.checked_add(u32::from(b & 0x7f))?;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

// ------------------------------------------------------------------------------------------
// Simple types.

/// `SecurityParmIndex ::= OCTET STRING(SIZE(4))`
pub type SecurityParmIndex = FixedOctetString<4>;
/// `SequenceNum ::= OCTET STRING(SIZE(4))`
pub type SequenceNum = FixedOctetString<4>;
/// `AuthData ::= OCTET STRING (SIZE (12..32))`
pub type AuthData = OctetString;
/// `PathName ::= IA5String(SIZE (1..64))`
pub type PathName = Ia5String;
/// `TransactionId ::= INTEGER(0..4294967295)`
pub type TransactionId = u32;
/// `SegmentNumber ::= INTEGER(0..65535)`
pub type SegmentNumber = u16;
/// `TransactionResponseAck ::= SEQUENCE OF TransactionAck`
pub type TransactionResponseAck = SequenceOf<TransactionAck>;
/// `ErrorCode ::= INTEGER(0..65535)`
pub type ErrorCode = u16;
/// `ErrorText ::= IA5String`
pub type ErrorText = Ia5String;
/// `ContextID ::= INTEGER(0..4294967295)`: NULL 0, CHOOSE 0xFFFFFFFE, ALL 0xFFFFFFFF.
pub type ContextID = u32;
/// `TerminationAudit ::= SEQUENCE OF AuditReturnParameter`
pub type TerminationAudit = SequenceOf<AuditReturnParameter>;
/// `IndAudPropertyGroup ::= SEQUENCE OF IndAudPropertyParm`
pub type IndAudPropertyGroup = SequenceOf<IndAudPropertyParm>;
/// `EventName ::= PkgdName`
pub type EventName = PkgdName;
/// `WildcardField ::= OCTET STRING(SIZE(1))` (H.248.1 A.1: bit 7 CHOOSE(0)/ALL(1), bit 6 this
/// level(0)/this and lower levels(1), bits 5..0 the bit position).
pub type WildcardField = FixedOctetString<1>;
/// `TerminationIDList ::= SEQUENCE OF TerminationID`
pub type TerminationIDList = SequenceOf<TerminationID>;
/// `Name ::= OCTET STRING(SIZE(2))`
pub type Name = FixedOctetString<2>;
/// `PkgdName ::= OCTET STRING(SIZE(4))`: package ID (2 octets, 0x0000 = Annex C native tag,
/// 0xFFFF = all packages) then item ID (2 octets, 0xFFFF = all items).
pub type PkgdName = FixedOctetString<4>;
/// `PropertyGroup ::= SEQUENCE OF PropertyParm`
pub type PropertyGroup = SequenceOf<PropertyParm>;
/// `StreamID ::= INTEGER(0..65535)`
pub type StreamID = u16;
/// `EventBufferDescriptor ::= SEQUENCE OF EventSpec`
pub type EventBufferDescriptor = SequenceOf<EventSpec>;
/// `SignalsDescriptor ::= SEQUENCE OF SignalRequest`
pub type SignalsDescriptor = SequenceOf<SignalRequest>;
/// `SignalName ::= PkgdName`
pub type SignalName = PkgdName;
/// `NotifyCompletion ::= BIT STRING { onTimeOut(0), onInterruptByEvent(1),
/// onInterruptByNewSignalDescr(2), otherReason(3), onIteration(4) }` (bits as on the wire).
pub type NotifyCompletion = BitString;
/// `RequestID ::= INTEGER(0..4294967295)`: ALL is 0xFFFFFFFF.
pub type RequestID = u32;
/// `DigitMapName ::= Name`
pub type DigitMapName = Name;
/// `PackagesDescriptor ::= SEQUENCE OF PackagesItem`
pub type PackagesDescriptor = SequenceOf<PackagesItem>;
/// `StatisticsDescriptor ::= SEQUENCE OF StatisticsParameter`
pub type StatisticsDescriptor = SequenceOf<StatisticsParameter>;
/// `Value ::= SEQUENCE OF OCTET STRING`
pub type Value = SequenceOf<OctetString>;
/// `OCTET STRING(SIZE(2..4))` of `MId.mtpAddress` (Wireshark names it `MtpAddress`).
pub type MtpAddress = OctetString;

// ------------------------------------------------------------------------------------------
// Message, transactions.

/// `MegacoMessage ::= SEQUENCE { authHeader AuthenticationHeader OPTIONAL, mess Message }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct MegacoMessage {
    #[rasn(tag(context, 0))]
    pub auth_header: Option<AuthenticationHeader>,
    #[rasn(tag(context, 1))]
    pub mess: Message,
}

/// `AuthenticationHeader ::= SEQUENCE { secParmIndex, seqNum, ad }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct AuthenticationHeader {
    #[rasn(tag(context, 0))]
    pub sec_parm_index: SecurityParmIndex,
    #[rasn(tag(context, 1))]
    pub seq_num: SequenceNum,
    #[rasn(tag(context, 2))]
    pub ad: AuthData,
}

/// `Message ::= SEQUENCE { version INTEGER(0..99), mId MId, messageBody CHOICE {...}, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct Message {
    #[rasn(tag(context, 0))]
    pub version: u8,
    #[rasn(tag(explicit(context, 1)))]
    pub m_id: MId,
    #[rasn(tag(explicit(context, 2)))]
    pub message_body: MessageBody,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `Message.messageBody CHOICE { messageError ErrorDescriptor, transactions SEQUENCE OF
/// Transaction }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
pub enum MessageBody {
    #[rasn(tag(context, 0))]
    MessageError(ErrorDescriptor),
    #[rasn(tag(context, 1))]
    Transactions(SequenceOf<Transaction>),
}

/// `MId ::= CHOICE { ip4Address, ip6Address, domainName, deviceName, mtpAddress, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum MId {
    #[rasn(tag(context, 0))]
    Ip4Address(IP4Address),
    #[rasn(tag(context, 1))]
    Ip6Address(IP6Address),
    #[rasn(tag(context, 2))]
    DomainName(DomainName),
    #[rasn(tag(context, 3))]
    DeviceName(PathName),
    /// `OCTET STRING(SIZE(2..4))`: point code and network indicator, MSBs zero-padded.
    #[rasn(tag(context, 4))]
    MtpAddress(MtpAddress),
}

/// `DomainName ::= SEQUENCE { name IA5String, portNumber INTEGER(0..65535) OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct DomainName {
    #[rasn(tag(context, 0))]
    pub name: Ia5String,
    #[rasn(tag(context, 1))]
    pub port_number: Option<u16>,
}

/// `IP4Address ::= SEQUENCE { address OCTET STRING (SIZE(4)), portNumber INTEGER(0..65535)
/// OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct IP4Address {
    #[rasn(tag(context, 0))]
    pub address: FixedOctetString<4>,
    #[rasn(tag(context, 1))]
    pub port_number: Option<u16>,
}

/// `IP6Address ::= SEQUENCE { address OCTET STRING (SIZE(16)), portNumber INTEGER(0..65535)
/// OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct IP6Address {
    #[rasn(tag(context, 0))]
    pub address: FixedOctetString<16>,
    #[rasn(tag(context, 1))]
    pub port_number: Option<u16>,
}

/// `Transaction ::= CHOICE { transactionRequest, transactionPending, transactionReply,
/// transactionResponseAck, ..., segmentReply }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum Transaction {
    #[rasn(tag(context, 0))]
    TransactionRequest(TransactionRequest),
    #[rasn(tag(context, 1))]
    TransactionPending(TransactionPending),
    #[rasn(tag(context, 2))]
    TransactionReply(TransactionReply),
    #[rasn(tag(context, 3))]
    TransactionResponseAck(TransactionResponseAck),
    #[rasn(tag(context, 4), extension_addition)]
    SegmentReply(SegmentReply),
}

/// `TransactionRequest ::= SEQUENCE { transactionId, actions SEQUENCE OF ActionRequest, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct TransactionRequest {
    #[rasn(tag(context, 0))]
    pub transaction_id: TransactionId,
    #[rasn(tag(context, 1))]
    pub actions: SequenceOf<ActionRequest>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `TransactionPending ::= SEQUENCE { transactionId, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct TransactionPending {
    #[rasn(tag(context, 0))]
    pub transaction_id: TransactionId,
    #[rasn(default, extension_addition)]
    pub ext: Ext<1>,
}

/// `TransactionReply ::= SEQUENCE { transactionId, immAckRequired NULL OPTIONAL,
/// transactionResult CHOICE {...}, ..., segmentNumber OPTIONAL, segmentationComplete NULL
/// OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct TransactionReply {
    #[rasn(tag(context, 0))]
    pub transaction_id: TransactionId,
    #[rasn(tag(context, 1))]
    pub imm_ack_required: Option<()>,
    #[rasn(tag(explicit(context, 2)))]
    pub transaction_result: TransactionResult,
    #[rasn(tag(context, 3), extension_addition)]
    pub segment_number: Option<SegmentNumber>,
    #[rasn(tag(context, 4), extension_addition)]
    pub segmentation_complete: Option<()>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<5>,
}

/// `TransactionReply.transactionResult CHOICE { transactionError ErrorDescriptor,
/// actionReplies SEQUENCE OF ActionReply }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
pub enum TransactionResult {
    #[rasn(tag(context, 0))]
    TransactionError(ErrorDescriptor),
    #[rasn(tag(context, 1))]
    ActionReplies(SequenceOf<ActionReply>),
}

/// `SegmentReply ::= SEQUENCE { transactionId, segmentNumber, segmentationComplete NULL
/// OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct SegmentReply {
    #[rasn(tag(context, 0))]
    pub transaction_id: TransactionId,
    #[rasn(tag(context, 1))]
    pub segment_number: SegmentNumber,
    #[rasn(tag(context, 2))]
    pub segmentation_complete: Option<()>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `TransactionAck ::= SEQUENCE { firstAck TransactionId, lastAck TransactionId OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct TransactionAck {
    #[rasn(tag(context, 0))]
    pub first_ack: TransactionId,
    #[rasn(tag(context, 1))]
    pub last_ack: Option<TransactionId>,
}

/// `ErrorDescriptor ::= SEQUENCE { errorCode ErrorCode, errorText ErrorText OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct ErrorDescriptor {
    #[rasn(tag(context, 0))]
    pub error_code: ErrorCode,
    #[rasn(tag(context, 1))]
    pub error_text: Option<ErrorText>,
}

// ------------------------------------------------------------------------------------------
// Actions, contexts, commands.

/// `ActionRequest ::= SEQUENCE { contextId, contextRequest OPTIONAL, contextAttrAuditReq
/// OPTIONAL, commandRequests SEQUENCE OF CommandRequest }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct ActionRequest {
    #[rasn(tag(context, 0))]
    pub context_id: ContextID,
    #[rasn(tag(context, 1))]
    pub context_request: Option<ContextRequest>,
    #[rasn(tag(context, 2))]
    pub context_attr_audit_req: Option<ContextAttrAuditRequest>,
    #[rasn(tag(context, 3))]
    pub command_requests: SequenceOf<CommandRequest>,
}

/// `ActionReply ::= SEQUENCE { contextId, errorDescriptor OPTIONAL, contextReply ContextRequest
/// OPTIONAL, commandReply SEQUENCE OF CommandReply }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct ActionReply {
    #[rasn(tag(context, 0))]
    pub context_id: ContextID,
    #[rasn(tag(context, 1))]
    pub error_descriptor: Option<ErrorDescriptor>,
    #[rasn(tag(context, 2))]
    pub context_reply: Option<ContextRequest>,
    #[rasn(tag(context, 3))]
    pub command_reply: SequenceOf<CommandReply>,
}

/// `ContextRequest ::= SEQUENCE { priority INTEGER(0..15) OPTIONAL, emergency BOOLEAN OPTIONAL,
/// topologyReq SEQUENCE OF TopologyRequest OPTIONAL, ..., iepscallind BOOLEAN OPTIONAL,
/// contextProp SEQUENCE OF PropertyParm OPTIONAL, contextList SEQUENCE OF ContextID OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct ContextRequest {
    #[rasn(tag(context, 0))]
    pub priority: Option<u8>,
    #[rasn(tag(context, 1))]
    pub emergency: Option<bool>,
    #[rasn(tag(context, 2))]
    pub topology_req: Option<SequenceOf<TopologyRequest>>,
    #[rasn(tag(context, 3), extension_addition)]
    pub iepscallind: Option<bool>,
    #[rasn(tag(context, 4), extension_addition)]
    pub context_prop: Option<SequenceOf<PropertyParm>>,
    #[rasn(tag(context, 5), extension_addition)]
    pub context_list: Option<SequenceOf<ContextID>>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<6>,
}

/// `ContextAttrAuditRequest ::= SEQUENCE { topology NULL OPTIONAL, emergency NULL OPTIONAL,
/// priority NULL OPTIONAL, ..., iepscallind NULL OPTIONAL, contextPropAud SEQUENCE OF
/// IndAudPropertyParm OPTIONAL, selectpriority INTEGER(0..15) OPTIONAL, selectemergency BOOLEAN
/// OPTIONAL, selectiepscallind BOOLEAN OPTIONAL, selectLogic SelectLogic OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct ContextAttrAuditRequest {
    #[rasn(tag(context, 0))]
    pub topology: Option<()>,
    #[rasn(tag(context, 1))]
    pub emergency: Option<()>,
    #[rasn(tag(context, 2))]
    pub priority: Option<()>,
    #[rasn(tag(context, 3), extension_addition)]
    pub iepscallind: Option<()>,
    #[rasn(tag(context, 4), extension_addition)]
    pub context_prop_aud: Option<SequenceOf<IndAudPropertyParm>>,
    #[rasn(tag(context, 5), extension_addition)]
    pub selectpriority: Option<u8>,
    #[rasn(tag(context, 6), extension_addition)]
    pub selectemergency: Option<bool>,
    #[rasn(tag(context, 7), extension_addition)]
    pub selectiepscallind: Option<bool>,
    #[rasn(tag(context, 8), extension_addition)]
    pub select_logic: Option<SelectLogic>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<9>,
}

/// `SelectLogic ::= CHOICE { andAUDITSelect NULL, orAUDITSelect NULL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum SelectLogic {
    #[rasn(tag(context, 0))]
    AndAuditSelect(()),
    #[rasn(tag(context, 1))]
    OrAuditSelect(()),
}

/// `CommandRequest ::= SEQUENCE { command Command, optional NULL OPTIONAL, wildcardReturn NULL
/// OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct CommandRequest {
    #[rasn(tag(explicit(context, 0)))]
    pub command: Command,
    #[rasn(tag(context, 1))]
    pub optional: Option<()>,
    #[rasn(tag(context, 2))]
    pub wildcard_return: Option<()>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `Command ::= CHOICE { addReq, moveReq, modReq, subtractReq, auditCapRequest,
/// auditValueRequest, notifyReq, serviceChangeReq, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum Command {
    #[rasn(tag(context, 0))]
    AddReq(AmmRequest),
    #[rasn(tag(context, 1))]
    MoveReq(AmmRequest),
    #[rasn(tag(context, 2))]
    ModReq(AmmRequest),
    #[rasn(tag(context, 3))]
    SubtractReq(SubtractRequest),
    #[rasn(tag(context, 4))]
    AuditCapRequest(AuditRequest),
    #[rasn(tag(context, 5))]
    AuditValueRequest(AuditRequest),
    #[rasn(tag(context, 6))]
    NotifyReq(NotifyRequest),
    #[rasn(tag(context, 7))]
    ServiceChangeReq(ServiceChangeRequest),
}

/// `CommandReply ::= CHOICE { addReply, moveReply, modReply, subtractReply, auditCapReply,
/// auditValueReply, notifyReply, serviceChangeReply, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum CommandReply {
    #[rasn(tag(context, 0))]
    AddReply(AmmsReply),
    #[rasn(tag(context, 1))]
    MoveReply(AmmsReply),
    #[rasn(tag(context, 2))]
    ModReply(AmmsReply),
    #[rasn(tag(context, 3))]
    SubtractReply(AmmsReply),
    #[rasn(tag(explicit(context, 4)))]
    AuditCapReply(AuditReply),
    #[rasn(tag(explicit(context, 5)))]
    AuditValueReply(AuditReply),
    #[rasn(tag(context, 6))]
    NotifyReply(NotifyReply),
    #[rasn(tag(context, 7))]
    ServiceChangeReply(ServiceChangeReply),
}

/// `TopologyRequest ::= SEQUENCE { terminationFrom, terminationTo, topologyDirection
/// ENUMERATED {...}, ..., streamID OPTIONAL, topologyDirectionExtension ENUMERATED {...}
/// OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct TopologyRequest {
    #[rasn(tag(context, 0))]
    pub termination_from: TerminationID,
    #[rasn(tag(context, 1))]
    pub termination_to: TerminationID,
    #[rasn(tag(context, 2))]
    pub topology_direction: TopologyDirection,
    #[rasn(tag(context, 3), extension_addition)]
    pub stream_id: Option<StreamID>,
    #[rasn(tag(context, 4), extension_addition)]
    pub topology_direction_extension: Option<TopologyDirectionExtension>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<5>,
}

/// `TopologyRequest.topologyDirection ENUMERATED { bothway(0), isolate(1), oneway(2) }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
pub enum TopologyDirection {
    Bothway = 0,
    Isolate = 1,
    Oneway = 2,
}

/// `TopologyRequest.topologyDirectionExtension ENUMERATED { onewayexternal(0), onewayboth(1),
/// ... }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum TopologyDirectionExtension {
    Onewayexternal = 0,
    Onewayboth = 1,
}

/// `AmmRequest ::= SEQUENCE { terminationID TerminationIDList, descriptors SEQUENCE OF
/// AmmDescriptor, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct AmmRequest {
    #[rasn(tag(context, 0))]
    pub termination_id: TerminationIDList,
    #[rasn(tag(context, 1))]
    pub descriptors: SequenceOf<AmmDescriptor>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `AmmDescriptor ::= CHOICE { mediaDescriptor, modemDescriptor, muxDescriptor,
/// eventsDescriptor, eventBufferDescriptor, signalsDescriptor, digitMapDescriptor,
/// auditDescriptor, ..., statisticsDescriptor }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum AmmDescriptor {
    #[rasn(tag(context, 0))]
    MediaDescriptor(MediaDescriptor),
    #[rasn(tag(context, 1))]
    ModemDescriptor(ModemDescriptor),
    #[rasn(tag(context, 2))]
    MuxDescriptor(MuxDescriptor),
    #[rasn(tag(context, 3))]
    EventsDescriptor(EventsDescriptor),
    #[rasn(tag(context, 4))]
    EventBufferDescriptor(EventBufferDescriptor),
    #[rasn(tag(context, 5))]
    SignalsDescriptor(SignalsDescriptor),
    #[rasn(tag(context, 6))]
    DigitMapDescriptor(DigitMapDescriptor),
    #[rasn(tag(context, 7))]
    AuditDescriptor(AuditDescriptor),
    #[rasn(tag(context, 8), extension_addition)]
    StatisticsDescriptor(StatisticsDescriptor),
}

/// `AmmsReply ::= SEQUENCE { terminationID TerminationIDList, terminationAudit OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct AmmsReply {
    #[rasn(tag(context, 0))]
    pub termination_id: TerminationIDList,
    #[rasn(tag(context, 1))]
    pub termination_audit: Option<TerminationAudit>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `SubtractRequest ::= SEQUENCE { terminationID TerminationIDList, auditDescriptor
/// AuditDescriptor OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct SubtractRequest {
    #[rasn(tag(context, 0))]
    pub termination_id: TerminationIDList,
    #[rasn(tag(context, 1))]
    pub audit_descriptor: Option<AuditDescriptor>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `AuditRequest ::= SEQUENCE { terminationID TerminationID, auditDescriptor AuditDescriptor,
/// ..., terminationIDList TerminationIDList OPTIONAL }` (automatic tag `[2]`; Wireshark's
/// hand-tagged copy says `[3]`, megaco encodes `[2]`)
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct AuditRequest {
    #[rasn(tag(context, 0))]
    pub termination_id: TerminationID,
    #[rasn(tag(context, 1))]
    pub audit_descriptor: AuditDescriptor,
    #[rasn(tag(context, 2), extension_addition)]
    pub termination_id_list: Option<TerminationIDList>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `AuditReply ::= CHOICE { contextAuditResult TerminationIDList, error ErrorDescriptor,
/// auditResult AuditResult, ..., auditResultTermList TermListAuditResult }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum AuditReply {
    #[rasn(tag(context, 0))]
    ContextAuditResult(TerminationIDList),
    #[rasn(tag(context, 1))]
    Error(ErrorDescriptor),
    #[rasn(tag(context, 2))]
    AuditResult(AuditResult),
    #[rasn(tag(context, 3), extension_addition)]
    AuditResultTermList(TermListAuditResult),
}

/// `AuditResult ::= SEQUENCE { terminationID TerminationID, terminationAuditResult
/// TerminationAudit }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct AuditResult {
    #[rasn(tag(context, 0))]
    pub termination_id: TerminationID,
    #[rasn(tag(context, 1))]
    pub termination_audit_result: TerminationAudit,
}

/// `TermListAuditResult ::= SEQUENCE { terminationIDList, terminationAuditResult, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct TermListAuditResult {
    #[rasn(tag(context, 0))]
    pub termination_id_list: TerminationIDList,
    #[rasn(tag(context, 1))]
    pub termination_audit_result: TerminationAudit,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `AuditReturnParameter ::= CHOICE { errorDescriptor, mediaDescriptor, modemDescriptor,
/// muxDescriptor, eventsDescriptor, eventBufferDescriptor, signalsDescriptor,
/// digitMapDescriptor, observedEventsDescriptor, statisticsDescriptor, packagesDescriptor,
/// emptyDescriptors AuditDescriptor, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum AuditReturnParameter {
    #[rasn(tag(context, 0))]
    ErrorDescriptor(ErrorDescriptor),
    #[rasn(tag(context, 1))]
    MediaDescriptor(MediaDescriptor),
    #[rasn(tag(context, 2))]
    ModemDescriptor(ModemDescriptor),
    #[rasn(tag(context, 3))]
    MuxDescriptor(MuxDescriptor),
    #[rasn(tag(context, 4))]
    EventsDescriptor(EventsDescriptor),
    #[rasn(tag(context, 5))]
    EventBufferDescriptor(EventBufferDescriptor),
    #[rasn(tag(context, 6))]
    SignalsDescriptor(SignalsDescriptor),
    #[rasn(tag(context, 7))]
    DigitMapDescriptor(DigitMapDescriptor),
    #[rasn(tag(context, 8))]
    ObservedEventsDescriptor(ObservedEventsDescriptor),
    #[rasn(tag(context, 9))]
    StatisticsDescriptor(StatisticsDescriptor),
    #[rasn(tag(context, 10))]
    PackagesDescriptor(PackagesDescriptor),
    #[rasn(tag(context, 11))]
    EmptyDescriptors(AuditDescriptor),
}

/// `AuditDescriptor ::= SEQUENCE { auditToken BIT STRING { muxToken(0), modemToken(1),
/// mediaToken(2), eventsToken(3), signalsToken(4), digitMapToken(5), statsToken(6),
/// observedEventsToken(7), packagesToken(8), eventBufferToken(9) } OPTIONAL, ...,
/// auditPropertyToken SEQUENCE OF IndAuditParameter OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct AuditDescriptor {
    /// The named bits as on the wire (bit 0 first; trailing zero bits as received).
    #[rasn(tag(context, 0))]
    pub audit_token: Option<BitString>,
    #[rasn(tag(context, 1), extension_addition)]
    pub audit_property_token: Option<SequenceOf<IndAuditParameter>>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

// ------------------------------------------------------------------------------------------
// Individual audit (IndAud*).

/// `IndAuditParameter ::= CHOICE { indaudmediaDescriptor, indaudeventsDescriptor,
/// indaudeventBufferDescriptor, indaudsignalsDescriptor, indauddigitMapDescriptor,
/// indaudstatisticsDescriptor, indaudpackagesDescriptor, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum IndAuditParameter {
    #[rasn(tag(context, 0))]
    IndaudmediaDescriptor(IndAudMediaDescriptor),
    #[rasn(tag(context, 1))]
    IndaudeventsDescriptor(IndAudEventsDescriptor),
    #[rasn(tag(context, 2))]
    IndaudeventBufferDescriptor(IndAudEventBufferDescriptor),
    /// A CHOICE, so explicitly tagged.
    #[rasn(tag(explicit(context, 3)))]
    IndaudsignalsDescriptor(IndAudSignalsDescriptor),
    #[rasn(tag(context, 4))]
    IndauddigitMapDescriptor(IndAudDigitMapDescriptor),
    #[rasn(tag(context, 5))]
    IndaudstatisticsDescriptor(IndAudStatisticsDescriptor),
    #[rasn(tag(context, 6))]
    IndaudpackagesDescriptor(IndAudPackagesDescriptor),
}

/// `IndAudMediaDescriptor ::= SEQUENCE { termStateDescr OPTIONAL, streams CHOICE { oneStream
/// IndAudStreamParms, multiStream SEQUENCE OF IndAudStreamDescriptor } OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudMediaDescriptor {
    #[rasn(tag(context, 0))]
    pub term_state_descr: Option<IndAudTerminationStateDescriptor>,
    #[rasn(tag(explicit(context, 1)))]
    pub streams: Option<IndAudStreams>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `IndAudMediaDescriptor.streams CHOICE { oneStream IndAudStreamParms, multiStream SEQUENCE OF
/// IndAudStreamDescriptor }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
pub enum IndAudStreams {
    #[rasn(tag(context, 0))]
    OneStream(IndAudStreamParms),
    #[rasn(tag(context, 1))]
    MultiStream(SequenceOf<IndAudStreamDescriptor>),
}

/// `IndAudStreamDescriptor ::= SEQUENCE { streamID StreamID, streamParms IndAudStreamParms }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct IndAudStreamDescriptor {
    #[rasn(tag(context, 0))]
    pub stream_id: StreamID,
    #[rasn(tag(context, 1))]
    pub stream_parms: IndAudStreamParms,
}

/// `IndAudStreamParms ::= SEQUENCE { localControlDescriptor OPTIONAL, localDescriptor
/// OPTIONAL, remoteDescriptor OPTIONAL, ..., statisticsDescriptor OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudStreamParms {
    #[rasn(tag(context, 0))]
    pub local_control_descriptor: Option<IndAudLocalControlDescriptor>,
    #[rasn(tag(context, 1))]
    pub local_descriptor: Option<IndAudLocalRemoteDescriptor>,
    #[rasn(tag(context, 2))]
    pub remote_descriptor: Option<IndAudLocalRemoteDescriptor>,
    #[rasn(tag(context, 3), extension_addition)]
    pub statistics_descriptor: Option<IndAudStatisticsDescriptor>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<4>,
}

/// `IndAudLocalControlDescriptor ::= SEQUENCE { streamMode NULL OPTIONAL, reserveValue NULL
/// OPTIONAL, reserveGroup NULL OPTIONAL, propertyParms SEQUENCE OF IndAudPropertyParm OPTIONAL,
/// ..., streamModeSel StreamMode OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudLocalControlDescriptor {
    #[rasn(tag(context, 0))]
    pub stream_mode: Option<()>,
    #[rasn(tag(context, 1))]
    pub reserve_value: Option<()>,
    #[rasn(tag(context, 2))]
    pub reserve_group: Option<()>,
    #[rasn(tag(context, 3))]
    pub property_parms: Option<SequenceOf<IndAudPropertyParm>>,
    #[rasn(tag(context, 4), extension_addition)]
    pub stream_mode_sel: Option<StreamMode>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<5>,
}

/// `IndAudPropertyParm ::= SEQUENCE { name PkgdName, ..., propertyParms PropertyParm OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudPropertyParm {
    #[rasn(tag(context, 0))]
    pub name: PkgdName,
    #[rasn(tag(context, 1), extension_addition)]
    pub property_parms: Option<PropertyParm>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `IndAudLocalRemoteDescriptor ::= SEQUENCE { propGroupID INTEGER(0..65535) OPTIONAL,
/// propGrps IndAudPropertyGroup, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudLocalRemoteDescriptor {
    #[rasn(tag(context, 0))]
    pub prop_group_id: Option<u16>,
    #[rasn(tag(context, 1))]
    pub prop_grps: IndAudPropertyGroup,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `IndAudTerminationStateDescriptor ::= SEQUENCE { propertyParms SEQUENCE OF
/// IndAudPropertyParm, eventBufferControl NULL OPTIONAL, serviceState NULL OPTIONAL, ...,
/// serviceStateSel ServiceState OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudTerminationStateDescriptor {
    #[rasn(tag(context, 0))]
    pub property_parms: SequenceOf<IndAudPropertyParm>,
    #[rasn(tag(context, 1))]
    pub event_buffer_control: Option<()>,
    #[rasn(tag(context, 2))]
    pub service_state: Option<()>,
    #[rasn(tag(context, 3), extension_addition)]
    pub service_state_sel: Option<ServiceState>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<4>,
}

/// `IndAudEventsDescriptor ::= SEQUENCE { requestID OPTIONAL, pkgdName PkgdName, streamID
/// OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudEventsDescriptor {
    #[rasn(tag(context, 0))]
    pub request_id: Option<RequestID>,
    #[rasn(tag(context, 1))]
    pub pkgd_name: PkgdName,
    #[rasn(tag(context, 2))]
    pub stream_id: Option<StreamID>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `IndAudEventBufferDescriptor ::= SEQUENCE { eventName PkgdName, streamID OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudEventBufferDescriptor {
    #[rasn(tag(context, 0))]
    pub event_name: PkgdName,
    #[rasn(tag(context, 1))]
    pub stream_id: Option<StreamID>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `IndAudSignalsDescriptor ::= CHOICE { signal IndAudSignal, seqSigList IndAudSeqSigList, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum IndAudSignalsDescriptor {
    #[rasn(tag(context, 0))]
    Signal(IndAudSignal),
    #[rasn(tag(context, 1))]
    SeqSigList(IndAudSeqSigList),
}

/// `IndAudSeqSigList ::= SEQUENCE { id INTEGER(0..65535), signalList IndAudSignal OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct IndAudSeqSigList {
    #[rasn(tag(context, 0))]
    pub id: u16,
    #[rasn(tag(context, 1))]
    pub signal_list: Option<IndAudSignal>,
}

/// `IndAudSignal ::= SEQUENCE { signalName PkgdName, streamID OPTIONAL, ..., signalRequestID
/// RequestID OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudSignal {
    #[rasn(tag(context, 0))]
    pub signal_name: PkgdName,
    #[rasn(tag(context, 1))]
    pub stream_id: Option<StreamID>,
    #[rasn(tag(context, 2), extension_addition)]
    pub signal_request_id: Option<RequestID>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `IndAudDigitMapDescriptor ::= SEQUENCE { digitMapName DigitMapName OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
pub struct IndAudDigitMapDescriptor {
    #[rasn(tag(context, 0))]
    pub digit_map_name: Option<DigitMapName>,
}

/// `IndAudStatisticsDescriptor ::= SEQUENCE { statName PkgdName }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct IndAudStatisticsDescriptor {
    #[rasn(tag(context, 0))]
    pub stat_name: PkgdName,
}

/// `IndAudPackagesDescriptor ::= SEQUENCE { packageName Name, packageVersion INTEGER(0..99),
/// ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct IndAudPackagesDescriptor {
    #[rasn(tag(context, 0))]
    pub package_name: Name,
    #[rasn(tag(context, 1))]
    pub package_version: u8,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

// ------------------------------------------------------------------------------------------
// Notify, events.

/// `NotifyRequest ::= SEQUENCE { terminationID TerminationIDList, observedEventsDescriptor,
/// errorDescriptor OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct NotifyRequest {
    #[rasn(tag(context, 0))]
    pub termination_id: TerminationIDList,
    #[rasn(tag(context, 1))]
    pub observed_events_descriptor: ObservedEventsDescriptor,
    #[rasn(tag(context, 2))]
    pub error_descriptor: Option<ErrorDescriptor>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `NotifyReply ::= SEQUENCE { terminationID TerminationIDList, errorDescriptor OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct NotifyReply {
    #[rasn(tag(context, 0))]
    pub termination_id: TerminationIDList,
    #[rasn(tag(context, 1))]
    pub error_descriptor: Option<ErrorDescriptor>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `ObservedEventsDescriptor ::= SEQUENCE { requestId RequestID, observedEventLst SEQUENCE OF
/// ObservedEvent }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct ObservedEventsDescriptor {
    #[rasn(tag(context, 0))]
    pub request_id: RequestID,
    #[rasn(tag(context, 1))]
    pub observed_event_lst: SequenceOf<ObservedEvent>,
}

/// `ObservedEvent ::= SEQUENCE { eventName EventName, streamID OPTIONAL, eventParList SEQUENCE
/// OF EventParameter, timeNotation OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct ObservedEvent {
    #[rasn(tag(context, 0))]
    pub event_name: EventName,
    #[rasn(tag(context, 1))]
    pub stream_id: Option<StreamID>,
    #[rasn(tag(context, 2))]
    pub event_par_list: SequenceOf<EventParameter>,
    #[rasn(tag(context, 3))]
    pub time_notation: Option<TimeNotation>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<4>,
}

/// `EventParameter ::= SEQUENCE { eventParameterName Name, value Value, extraInfo CHOICE {...}
/// OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct EventParameter {
    #[rasn(tag(context, 0))]
    pub event_parameter_name: Name,
    #[rasn(tag(context, 1))]
    pub value: Value,
    #[rasn(tag(explicit(context, 2)))]
    pub extra_info: Option<ExtraInfo>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `extraInfo CHOICE { relation Relation, range BOOLEAN, sublist BOOLEAN }` of PropertyParm,
/// EventParameter and SigParameter (the same inline type in all three).
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
pub enum ExtraInfo {
    #[rasn(tag(context, 0))]
    Relation(Relation),
    #[rasn(tag(context, 1))]
    Range(bool),
    #[rasn(tag(context, 2))]
    Sublist(bool),
}

// ------------------------------------------------------------------------------------------
// ServiceChange.

/// `ServiceChangeRequest ::= SEQUENCE { terminationID TerminationIDList, serviceChangeParms
/// ServiceChangeParm, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct ServiceChangeRequest {
    #[rasn(tag(context, 0))]
    pub termination_id: TerminationIDList,
    #[rasn(tag(context, 1))]
    pub service_change_parms: ServiceChangeParm,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `ServiceChangeReply ::= SEQUENCE { terminationID TerminationIDList, serviceChangeResult
/// ServiceChangeResult, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct ServiceChangeReply {
    #[rasn(tag(context, 0))]
    pub termination_id: TerminationIDList,
    #[rasn(tag(explicit(context, 1)))]
    pub service_change_result: ServiceChangeResult,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `ServiceChangeResult ::= CHOICE { errorDescriptor ErrorDescriptor, serviceChangeResParms
/// ServiceChangeResParm }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
pub enum ServiceChangeResult {
    #[rasn(tag(context, 0))]
    ErrorDescriptor(ErrorDescriptor),
    #[rasn(tag(context, 1))]
    ServiceChangeResParms(ServiceChangeResParm),
}

// ------------------------------------------------------------------------------------------
// Terminations, media.

/// `TerminationID ::= SEQUENCE { wildcard SEQUENCE OF WildcardField, id OCTET STRING
/// (SIZE(1..8)), ... }`: ROOT is id 0xFFFFFFFFFFFFFFFF.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct TerminationID {
    #[rasn(tag(context, 0))]
    pub wildcard: SequenceOf<WildcardField>,
    /// 1 to 8 octets.
    #[rasn(tag(context, 1))]
    pub id: OctetString,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `MediaDescriptor ::= SEQUENCE { termStateDescr TerminationStateDescriptor OPTIONAL, streams
/// CHOICE { oneStream StreamParms, multiStream SEQUENCE OF StreamDescriptor } OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct MediaDescriptor {
    #[rasn(tag(context, 0))]
    pub term_state_descr: Option<TerminationStateDescriptor>,
    #[rasn(tag(explicit(context, 1)))]
    pub streams: Option<Streams>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `MediaDescriptor.streams CHOICE { oneStream StreamParms, multiStream SEQUENCE OF
/// StreamDescriptor }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
pub enum Streams {
    #[rasn(tag(context, 0))]
    OneStream(StreamParms),
    #[rasn(tag(context, 1))]
    MultiStream(SequenceOf<StreamDescriptor>),
}

/// `StreamDescriptor ::= SEQUENCE { streamID StreamID, streamParms StreamParms }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct StreamDescriptor {
    #[rasn(tag(context, 0))]
    pub stream_id: StreamID,
    #[rasn(tag(context, 1))]
    pub stream_parms: StreamParms,
}

/// `StreamParms ::= SEQUENCE { localControlDescriptor OPTIONAL, localDescriptor
/// LocalRemoteDescriptor OPTIONAL, remoteDescriptor LocalRemoteDescriptor OPTIONAL, ...,
/// statisticsDescriptor OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct StreamParms {
    #[rasn(tag(context, 0))]
    pub local_control_descriptor: Option<LocalControlDescriptor>,
    #[rasn(tag(context, 1))]
    pub local_descriptor: Option<LocalRemoteDescriptor>,
    #[rasn(tag(context, 2))]
    pub remote_descriptor: Option<LocalRemoteDescriptor>,
    #[rasn(tag(context, 3), extension_addition)]
    pub statistics_descriptor: Option<StatisticsDescriptor>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<4>,
}

/// `LocalControlDescriptor ::= SEQUENCE { streamMode StreamMode OPTIONAL, reserveValue BOOLEAN
/// OPTIONAL, reserveGroup BOOLEAN OPTIONAL, propertyParms SEQUENCE OF PropertyParm, ... }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct LocalControlDescriptor {
    #[rasn(tag(context, 0))]
    pub stream_mode: Option<StreamMode>,
    #[rasn(tag(context, 1))]
    pub reserve_value: Option<bool>,
    #[rasn(tag(context, 2))]
    pub reserve_group: Option<bool>,
    #[rasn(tag(context, 3))]
    pub property_parms: SequenceOf<PropertyParm>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<4>,
}

/// `StreamMode ::= ENUMERATED { sendOnly(0), recvOnly(1), sendRecv(2), inactive(3),
/// loopBack(4), ... }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum StreamMode {
    SendOnly = 0,
    RecvOnly = 1,
    SendRecv = 2,
    Inactive = 3,
    LoopBack = 4,
}

/// `PropertyParm ::= SEQUENCE { name PkgdName, value SEQUENCE OF OCTET STRING, extraInfo
/// CHOICE {...} OPTIONAL, ... }`: an empty value list means CHOOSE, several mean "one of"
/// unless `sublist`, `range` needs exactly two.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct PropertyParm {
    #[rasn(tag(context, 0))]
    pub name: PkgdName,
    #[rasn(tag(context, 1))]
    pub value: SequenceOf<OctetString>,
    #[rasn(tag(explicit(context, 2)))]
    pub extra_info: Option<ExtraInfo>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `Relation ::= ENUMERATED { greaterThan(0), smallerThan(1), unequalTo(2), ... }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum Relation {
    GreaterThan = 0,
    SmallerThan = 1,
    UnequalTo = 2,
}

/// `LocalRemoteDescriptor ::= SEQUENCE { propGrps SEQUENCE OF PropertyGroup, ... }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct LocalRemoteDescriptor {
    #[rasn(tag(context, 0))]
    pub prop_grps: SequenceOf<PropertyGroup>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<1>,
}

/// `TerminationStateDescriptor ::= SEQUENCE { propertyParms SEQUENCE OF PropertyParm,
/// eventBufferControl OPTIONAL, serviceState OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct TerminationStateDescriptor {
    #[rasn(tag(context, 0))]
    pub property_parms: SequenceOf<PropertyParm>,
    #[rasn(tag(context, 1))]
    pub event_buffer_control: Option<EventBufferControl>,
    #[rasn(tag(context, 2))]
    pub service_state: Option<ServiceState>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `EventBufferControl ::= ENUMERATED { off(0), lockStep(1), ... }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum EventBufferControl {
    Off = 0,
    LockStep = 1,
}

/// `ServiceState ::= ENUMERATED { test(0), outOfSvc(1), inSvc(2), ... }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum ServiceState {
    Test = 0,
    OutOfSvc = 1,
    InSvc = 2,
}

/// `MuxDescriptor ::= SEQUENCE { muxType MuxType, termList SEQUENCE OF TerminationID,
/// nonStandardData OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct MuxDescriptor {
    #[rasn(tag(context, 0))]
    pub mux_type: MuxType,
    #[rasn(tag(context, 1))]
    pub term_list: SequenceOf<TerminationID>,
    #[rasn(tag(context, 2))]
    pub non_standard_data: Option<NonStandardData>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

/// `MuxType ::= ENUMERATED { h221(0), h223(1), h226(2), v76(3), ..., nx64k(4) }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum MuxType {
    H221 = 0,
    H223 = 1,
    H226 = 2,
    V76 = 3,
    #[rasn(extension_addition)]
    Nx64k = 4,
}

/// `EventsDescriptor ::= SEQUENCE { requestID RequestID OPTIONAL, eventList SEQUENCE OF
/// RequestedEvent, ... }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct EventsDescriptor {
    #[rasn(tag(context, 0))]
    pub request_id: Option<RequestID>,
    #[rasn(tag(context, 1))]
    pub event_list: SequenceOf<RequestedEvent>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `RequestedEvent ::= SEQUENCE { pkgdName PkgdName, streamID OPTIONAL, eventAction
/// RequestedActions OPTIONAL, evParList SEQUENCE OF EventParameter, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct RequestedEvent {
    #[rasn(tag(context, 0))]
    pub pkgd_name: PkgdName,
    #[rasn(tag(context, 1))]
    pub stream_id: Option<StreamID>,
    #[rasn(tag(context, 2))]
    pub event_action: Option<RequestedActions>,
    #[rasn(tag(context, 3))]
    pub ev_par_list: SequenceOf<EventParameter>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<4>,
}

/// `RegulatedEmbeddedDescriptor ::= SEQUENCE { secondEvent SecondEventsDescriptor OPTIONAL,
/// signalsDescriptor SignalsDescriptor OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct RegulatedEmbeddedDescriptor {
    #[rasn(tag(context, 0))]
    pub second_event: Option<SecondEventsDescriptor>,
    #[rasn(tag(context, 1))]
    pub signals_descriptor: Option<SignalsDescriptor>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `NotifyBehaviour ::= CHOICE { notifyImmediate NULL, notifyRegulated
/// RegulatedEmbeddedDescriptor, neverNotify NULL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum NotifyBehaviour {
    #[rasn(tag(context, 0))]
    NotifyImmediate(()),
    #[rasn(tag(context, 1))]
    NotifyRegulated(RegulatedEmbeddedDescriptor),
    #[rasn(tag(context, 2))]
    NeverNotify(()),
}

/// `RequestedActions ::= SEQUENCE { keepActive BOOLEAN OPTIONAL, eventDM EventDM OPTIONAL,
/// secondEvent SecondEventsDescriptor OPTIONAL, signalsDescriptor OPTIONAL, ...,
/// notifyBehaviour NotifyBehaviour OPTIONAL, resetEventsDescriptor NULL OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct RequestedActions {
    #[rasn(tag(context, 0))]
    pub keep_active: Option<bool>,
    #[rasn(tag(explicit(context, 1)))]
    pub event_dm: Option<EventDM>,
    #[rasn(tag(context, 2))]
    pub second_event: Option<SecondEventsDescriptor>,
    #[rasn(tag(context, 3))]
    pub signals_descriptor: Option<SignalsDescriptor>,
    #[rasn(tag(context, 4), extension_addition)]
    pub notify_behaviour: Option<NotifyBehaviour>,
    #[rasn(tag(context, 5), extension_addition)]
    pub reset_events_descriptor: Option<()>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<6>,
}

/// `EventDM ::= CHOICE { digitMapName DigitMapName, digitMapValue DigitMapValue }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
pub enum EventDM {
    #[rasn(tag(context, 0))]
    DigitMapName(DigitMapName),
    #[rasn(tag(context, 1))]
    DigitMapValue(DigitMapValue),
}

/// `SecondEventsDescriptor ::= SEQUENCE { requestID RequestID OPTIONAL, eventList SEQUENCE OF
/// SecondRequestedEvent, ... }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct SecondEventsDescriptor {
    #[rasn(tag(context, 0))]
    pub request_id: Option<RequestID>,
    #[rasn(tag(context, 1))]
    pub event_list: SequenceOf<SecondRequestedEvent>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `SecondRequestedEvent ::= SEQUENCE { pkgdName PkgdName, streamID OPTIONAL, eventAction
/// SecondRequestedActions OPTIONAL, evParList SEQUENCE OF EventParameter, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct SecondRequestedEvent {
    #[rasn(tag(context, 0))]
    pub pkgd_name: PkgdName,
    #[rasn(tag(context, 1))]
    pub stream_id: Option<StreamID>,
    #[rasn(tag(context, 2))]
    pub event_action: Option<SecondRequestedActions>,
    #[rasn(tag(context, 3))]
    pub ev_par_list: SequenceOf<EventParameter>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<4>,
}

/// `SecondRequestedActions ::= SEQUENCE { keepActive BOOLEAN OPTIONAL, eventDM EventDM
/// OPTIONAL, signalsDescriptor OPTIONAL, ..., notifyBehaviour NotifyBehaviour OPTIONAL,
/// resetEventsDescriptor NULL OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct SecondRequestedActions {
    #[rasn(tag(context, 0))]
    pub keep_active: Option<bool>,
    #[rasn(tag(explicit(context, 1)))]
    pub event_dm: Option<EventDM>,
    #[rasn(tag(context, 2))]
    pub signals_descriptor: Option<SignalsDescriptor>,
    #[rasn(tag(context, 3), extension_addition)]
    pub notify_behaviour: Option<NotifyBehaviour>,
    #[rasn(tag(context, 4), extension_addition)]
    pub reset_events_descriptor: Option<()>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<5>,
}

/// `EventSpec ::= SEQUENCE { eventName EventName, streamID OPTIONAL, eventParList SEQUENCE OF
/// EventParameter, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct EventSpec {
    #[rasn(tag(context, 0))]
    pub event_name: EventName,
    #[rasn(tag(context, 1))]
    pub stream_id: Option<StreamID>,
    #[rasn(tag(context, 2))]
    pub event_par_list: SequenceOf<EventParameter>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

// ------------------------------------------------------------------------------------------
// Signals.

/// `SignalRequest ::= CHOICE { signal Signal, seqSigList SeqSigList, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum SignalRequest {
    #[rasn(tag(context, 0))]
    Signal(Signal),
    #[rasn(tag(context, 1))]
    SeqSigList(SeqSigList),
}

/// `SeqSigList ::= SEQUENCE { id INTEGER(0..65535), signalList SEQUENCE OF Signal }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct SeqSigList {
    #[rasn(tag(context, 0))]
    pub id: u16,
    #[rasn(tag(context, 1))]
    pub signal_list: SequenceOf<Signal>,
}

/// `Signal ::= SEQUENCE { signalName SignalName, streamID OPTIONAL, sigType SignalType
/// OPTIONAL, duration INTEGER(0..65535) OPTIONAL, notifyCompletion OPTIONAL, keepActive BOOLEAN
/// OPTIONAL, sigParList SEQUENCE OF SigParameter, ..., direction SignalDirection OPTIONAL,
/// requestID RequestID OPTIONAL, intersigDelay INTEGER(0..65535) OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct Signal {
    #[rasn(tag(context, 0))]
    pub signal_name: SignalName,
    #[rasn(tag(context, 1))]
    pub stream_id: Option<StreamID>,
    #[rasn(tag(context, 2))]
    pub sig_type: Option<SignalType>,
    #[rasn(tag(context, 3))]
    pub duration: Option<u16>,
    #[rasn(tag(context, 4))]
    pub notify_completion: Option<NotifyCompletion>,
    #[rasn(tag(context, 5))]
    pub keep_active: Option<bool>,
    #[rasn(tag(context, 6))]
    pub sig_par_list: SequenceOf<SigParameter>,
    #[rasn(tag(context, 7), extension_addition)]
    pub direction: Option<SignalDirection>,
    #[rasn(tag(context, 8), extension_addition)]
    pub request_id: Option<RequestID>,
    #[rasn(tag(context, 9), extension_addition)]
    pub intersig_delay: Option<u16>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<10>,
}

/// `SignalType ::= ENUMERATED { brief(0), onOff(1), timeOut(2), ... }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum SignalType {
    Brief = 0,
    OnOff = 1,
    TimeOut = 2,
}

/// `SignalDirection ::= ENUMERATED { internal(0), external(1), both(3), ... }` (H.248.1 and
/// megaco: both is 3; Wireshark's copy says 2)
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum SignalDirection {
    Internal = 0,
    External = 1,
    Both = 3,
}

/// `SigParameter ::= SEQUENCE { sigParameterName Name, value Value, extraInfo CHOICE {...}
/// OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct SigParameter {
    #[rasn(tag(context, 0))]
    pub sig_parameter_name: Name,
    #[rasn(tag(context, 1))]
    pub value: Value,
    #[rasn(tag(explicit(context, 2)))]
    pub extra_info: Option<ExtraInfo>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<3>,
}

// ------------------------------------------------------------------------------------------
// Modem, digit maps.

/// `ModemDescriptor ::= SEQUENCE { mtl SEQUENCE OF ModemType, mpl SEQUENCE OF PropertyParm,
/// nonStandardData NonStandardData OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct ModemDescriptor {
    #[rasn(tag(context, 0))]
    pub mtl: SequenceOf<ModemType>,
    #[rasn(tag(context, 1))]
    pub mpl: SequenceOf<PropertyParm>,
    #[rasn(tag(context, 2))]
    pub non_standard_data: Option<NonStandardData>,
}

/// `ModemType ::= ENUMERATED { v18(0), v22(1), v22bis(2), v32(3), v32bis(4), v34(5), v90(6),
/// v91(7), synchISDN(8), ... }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum ModemType {
    V18 = 0,
    V22 = 1,
    V22bis = 2,
    V32 = 3,
    V32bis = 4,
    V34 = 5,
    V90 = 6,
    V91 = 7,
    SynchIsdn = 8,
}

/// `DigitMapDescriptor ::= SEQUENCE { digitMapName DigitMapName OPTIONAL, digitMapValue
/// DigitMapValue OPTIONAL }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
pub struct DigitMapDescriptor {
    #[rasn(tag(context, 0))]
    pub digit_map_name: Option<DigitMapName>,
    #[rasn(tag(context, 1))]
    pub digit_map_value: Option<DigitMapValue>,
}

/// `DigitMapValue ::= SEQUENCE { startTimer INTEGER(0..99) OPTIONAL, shortTimer OPTIONAL,
/// longTimer OPTIONAL, digitMapBody IA5String, ..., durationTimer INTEGER(0..99) OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct DigitMapValue {
    #[rasn(tag(context, 0))]
    pub start_timer: Option<u8>,
    #[rasn(tag(context, 1))]
    pub short_timer: Option<u8>,
    #[rasn(tag(context, 2))]
    pub long_timer: Option<u8>,
    #[rasn(tag(context, 3))]
    pub digit_map_body: Ia5String,
    #[rasn(tag(context, 4), extension_addition)]
    pub duration_timer: Option<u8>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<5>,
}

// ------------------------------------------------------------------------------------------
// ServiceChange parameters.

/// `ServiceChangeParm ::= SEQUENCE { serviceChangeMethod, serviceChangeAddress OPTIONAL,
/// serviceChangeVersion INTEGER(0..99) OPTIONAL, serviceChangeProfile OPTIONAL,
/// serviceChangeReason Value, serviceChangeDelay INTEGER(0..4294967295) OPTIONAL,
/// serviceChangeMgcId MId OPTIONAL, timeStamp OPTIONAL, nonStandardData OPTIONAL, ...,
/// serviceChangeInfo AuditDescriptor OPTIONAL, serviceChangeIncompleteFlag NULL OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct ServiceChangeParm {
    #[rasn(tag(context, 0))]
    pub service_change_method: ServiceChangeMethod,
    #[rasn(tag(explicit(context, 1)))]
    pub service_change_address: Option<ServiceChangeAddress>,
    #[rasn(tag(context, 2))]
    pub service_change_version: Option<u8>,
    #[rasn(tag(context, 3))]
    pub service_change_profile: Option<ServiceChangeProfile>,
    /// The reason text ("901 Cold Boot"), each element an OCTET STRING (megaco puts the text
    /// itself; the ASN.1 comment asks for a BER-encoded IA5String inside).
    #[rasn(tag(context, 4))]
    pub service_change_reason: Value,
    #[rasn(tag(context, 5))]
    pub service_change_delay: Option<u32>,
    #[rasn(tag(explicit(context, 6)))]
    pub service_change_mgc_id: Option<MId>,
    #[rasn(tag(context, 7))]
    pub time_stamp: Option<TimeNotation>,
    #[rasn(tag(context, 8))]
    pub non_standard_data: Option<NonStandardData>,
    #[rasn(tag(context, 9), extension_addition)]
    pub service_change_info: Option<AuditDescriptor>,
    #[rasn(tag(context, 10), extension_addition)]
    pub service_change_incomplete_flag: Option<()>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<11>,
}

/// `ServiceChangeAddress ::= CHOICE { portNumber INTEGER(0..65535), ip4Address, ip6Address,
/// domainName, deviceName PathName, mtpAddress OCTET STRING(SIZE(2..4)), ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum ServiceChangeAddress {
    #[rasn(tag(context, 0))]
    PortNumber(u16),
    #[rasn(tag(context, 1))]
    Ip4Address(IP4Address),
    #[rasn(tag(context, 2))]
    Ip6Address(IP6Address),
    #[rasn(tag(context, 3))]
    DomainName(DomainName),
    #[rasn(tag(context, 4))]
    DeviceName(PathName),
    #[rasn(tag(context, 5))]
    MtpAddress(MtpAddress),
}

/// `ServiceChangeResParm ::= SEQUENCE { serviceChangeMgcId MId OPTIONAL, serviceChangeAddress
/// OPTIONAL, serviceChangeVersion INTEGER(0..99) OPTIONAL, serviceChangeProfile OPTIONAL,
/// timestamp TimeNotation OPTIONAL, ... }`
#[derive(AsnType, Debug, Clone, Default, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct ServiceChangeResParm {
    #[rasn(tag(explicit(context, 0)))]
    pub service_change_mgc_id: Option<MId>,
    #[rasn(tag(explicit(context, 1)))]
    pub service_change_address: Option<ServiceChangeAddress>,
    #[rasn(tag(context, 2))]
    pub service_change_version: Option<u8>,
    #[rasn(tag(context, 3))]
    pub service_change_profile: Option<ServiceChangeProfile>,
    #[rasn(tag(context, 4))]
    pub timestamp: Option<TimeNotation>,
    #[rasn(default, extension_addition)]
    pub ext: Ext<5>,
}

/// `ServiceChangeMethod ::= ENUMERATED { failover(0), forced(1), graceful(2), restart(3),
/// disconnected(4), handOff(5), ... }`
#[derive(AsnType, Debug, Clone, Copy, PartialEq, Eq, Hash, Decode, Encode)]
#[rasn(enumerated)]
#[non_exhaustive]
pub enum ServiceChangeMethod {
    Failover = 0,
    Forced = 1,
    Graceful = 2,
    Restart = 3,
    Disconnected = 4,
    HandOff = 5,
}

/// `ServiceChangeProfile ::= SEQUENCE { profileName IA5String(SIZE (1..67)) }`: "name/version".
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct ServiceChangeProfile {
    #[rasn(tag(context, 0))]
    pub profile_name: Ia5String,
}

/// `PackagesItem ::= SEQUENCE { packageName Name, packageVersion INTEGER(0..99), ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct PackagesItem {
    #[rasn(tag(context, 0))]
    pub package_name: Name,
    #[rasn(tag(context, 1))]
    pub package_version: u8,
    #[rasn(default, extension_addition)]
    pub ext: Ext<2>,
}

/// `StatisticsParameter ::= SEQUENCE { statName PkgdName, statValue Value OPTIONAL }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct StatisticsParameter {
    #[rasn(tag(context, 0))]
    pub stat_name: PkgdName,
    #[rasn(tag(context, 1))]
    pub stat_value: Option<Value>,
}

/// `NonStandardData ::= SEQUENCE { nonStandardIdentifier NonStandardIdentifier, data OCTET
/// STRING }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct NonStandardData {
    #[rasn(tag(explicit(context, 0)))]
    pub non_standard_identifier: NonStandardIdentifier,
    #[rasn(tag(context, 1))]
    pub data: OctetString,
}

/// `NonStandardIdentifier ::= CHOICE { object OBJECT IDENTIFIER, h221NonStandard
/// H221NonStandard, experimental IA5String(SIZE(8)), ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[rasn(choice)]
#[non_exhaustive]
pub enum NonStandardIdentifier {
    #[rasn(tag(context, 0))]
    Object(ObjectIdentifier),
    #[rasn(tag(context, 1))]
    H221NonStandard(H221NonStandard),
    /// 8 characters, "X-" or "X+" first.
    #[rasn(tag(context, 2))]
    Experimental(Ia5String),
}

/// `H221NonStandard ::= SEQUENCE { t35CountryCode1 INTEGER(0..255), t35CountryCode2
/// INTEGER(0..255), t35Extension INTEGER(0..255), manufacturerCode INTEGER(0..65535), ... }`
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
#[non_exhaustive]
pub struct H221NonStandard {
    #[rasn(tag(context, 0))]
    pub t35_country_code1: u8,
    #[rasn(tag(context, 1))]
    pub t35_country_code2: u8,
    #[rasn(tag(context, 2))]
    pub t35_extension: u8,
    #[rasn(tag(context, 3))]
    pub manufacturer_code: u16,
    #[rasn(default, extension_addition)]
    pub ext: Ext<4>,
}

/// `TimeNotation ::= SEQUENCE { date IA5String(SIZE(8)), time IA5String(SIZE(8)) }`: yyyymmdd
/// and hhmmssss.
#[derive(AsnType, Debug, Clone, PartialEq, Eq, Decode, Encode)]
pub struct TimeNotation {
    #[rasn(tag(context, 0))]
    pub date: Ia5String,
    #[rasn(tag(context, 1))]
    pub time: Ia5String,
}
