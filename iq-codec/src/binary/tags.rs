//! The BER tags of the MEDIA-GATEWAY-CONTROL v3 module, written down once for both one-pass
//! codecs ([`super::direct_dec`] reads with them, [`super::direct_enc`] writes with them).
//!
//! The module uses automatic tagging, so a component's tag is its position: the table below
//! lists each type's components in the order of `asn.rs` and numbers them `[0]`, `[1]`, ...
//! The differential tests (`tests/ber_direct.rs`, `tests/ber_direct_enc.rs`) check every tag
//! against rasn's derive of `asn.rs`, on every message they have.

/// A BER tag: class (X.690 8.1.2.2: 0 universal, 1 application, 2 context-specific, 3 private)
/// and number, packed in one integer (class above the 32 bits of the number) so that a
/// comparison is one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tag(u64);

pub(super) const UNIVERSAL: u8 = 0;
pub(super) const CONTEXT: u8 = 2;

impl Tag {
    pub(super) const fn new(class: u8, number: u32) -> Tag {
        Tag((class as u64) << 32 | number as u64)
    }

    /// From a one-octet identifier (tag number below 31).
    #[inline(always)]
    pub(super) const fn short(id: u8) -> Tag {
        Tag::new(id >> 6, (id & 0x1f) as u32)
    }

    pub(super) const fn class(self) -> u8 {
        (self.0 >> 32) as u8
    }

    pub(super) const fn number(self) -> u32 {
        self.0 as u32
    }

    /// The one-octet identifier of this tag, constructed bit clear (for the reader's inline
    /// paths, which compare it with the input's first octet); a value no octet has (0x100)
    /// when the number needs more identifier octets.
    #[inline(always)]
    pub(super) const fn short_id(self) -> u16 {
        if self.number() < 0x1f {
            (self.class() as u16) << 6 | self.number() as u16
        } else {
            0x100
        }
    }
}

/// `[n]`, the context-specific tag automatic tagging gives the n-th component.
pub(super) const fn ctx(number: u32) -> Tag {
    Tag::new(CONTEXT, number)
}

pub(super) const fn universal(number: u32) -> Tag {
    Tag::new(UNIVERSAL, number)
}

/// The universal tags the module uses untagged: SEQUENCE (OF) elements, `Value` elements,
/// `WildcardField`, `ContextID` of contextList, `ModemType` and the segments of constructed
/// strings.
pub(super) const INTEGER: Tag = universal(2);
pub(super) const BIT_STRING: Tag = universal(3);
pub(super) const OCTET_STRING: Tag = universal(4);
pub(super) const ENUMERATED: Tag = universal(10);
pub(super) const SEQUENCE: Tag = universal(16);

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.number();
        match self.class() {
            UNIVERSAL => write!(f, "[UNIVERSAL {n}]"),
            1 => write!(f, "[APPLICATION {n}]"),
            CONTEXT => write!(f, "[{n}]"),
            _ => write!(f, "[PRIVATE {n}]"),
        }
    }
}

/// One module per ASN.1 type, one constant per component: `tags::Message::mId` is `[1]`.
/// `EXT` is the number of the first tag an unknown extension addition of an extensible
/// SEQUENCE may have (the `N` of its `Ext<N>` field in `asn.rs`). Not every type's every
/// component is read or written by name (some are skipped as a whole), hence `dead_code`.
macro_rules! components {
    ($($ty:ident { $($name:ident),* $(; ext $n:literal)? })*) => {
        $(
            #[allow(non_snake_case, non_upper_case_globals, dead_code)]
            pub(super) mod $ty {
                use super::{ctx, Tag};
                components!(@each 0u32; $($name),*);
                $(pub(in crate::binary) const EXT: u32 = $n;)?
            }
        )*
    };
    (@each $i:expr; $first:ident $(, $rest:ident)*) => {
        pub(in crate::binary) const $first: Tag = ctx($i);
        // One identifier octet for every tag: the writer and the reader's inline paths rely
        // on it.
        const _: () = assert!($i < 31);
        components!(@each $i + 1; $($rest),*);
    };
    (@each $i:expr;) => {};
}

components! {
    MegacoMessage { authHeader, mess }
    AuthenticationHeader { secParmIndex, seqNum, ad }
    Message { version, mId, messageBody; ext 3 }
    MessageBody { messageError, transactions }
    MId { ip4Address, ip6Address, domainName, deviceName, mtpAddress }
    DomainName { name, portNumber }
    IPAddress { address, portNumber }
    Transaction {
        transactionRequest, transactionPending, transactionReply, transactionResponseAck,
        segmentReply
    }
    TransactionRequest { transactionId, actions; ext 2 }
    TransactionPending { transactionId; ext 1 }
    TransactionReply {
        transactionId, immAckRequired, transactionResult, segmentNumber,
        segmentationComplete; ext 5
    }
    TransactionResult { transactionError, actionReplies }
    SegmentReply { transactionId, segmentNumber, segmentationComplete; ext 3 }
    TransactionAck { firstAck, lastAck }
    ErrorDescriptor { errorCode, errorText }
    ActionRequest { contextId, contextRequest, contextAttrAuditReq, commandRequests }
    ActionReply { contextId, errorDescriptor, contextReply, commandReply }
    ContextRequest {
        priority, emergency, topologyReq, iepscallind, contextProp, contextList; ext 6
    }
    ContextAttrAuditRequest {
        topology, emergency, priority, iepscallind, contextPropAud, selectpriority,
        selectemergency, selectiepscallind, selectLogic; ext 9
    }
    SelectLogic { andAUDITSelect, orAUDITSelect }
    CommandRequest { command, optional, wildcardReturn; ext 3 }
    Command {
        addReq, moveReq, modReq, subtractReq, auditCapRequest, auditValueRequest, notifyReq,
        serviceChangeReq
    }
    CommandReply {
        addReply, moveReply, modReply, subtractReply, auditCapReply, auditValueReply,
        notifyReply, serviceChangeReply
    }
    TopologyRequest {
        terminationFrom, terminationTo, topologyDirection, streamID,
        topologyDirectionExtension; ext 5
    }
    AmmRequest { terminationID, descriptors; ext 2 }
    AmmDescriptor {
        mediaDescriptor, modemDescriptor, muxDescriptor, eventsDescriptor,
        eventBufferDescriptor, signalsDescriptor, digitMapDescriptor, auditDescriptor,
        statisticsDescriptor
    }
    AmmsReply { terminationID, terminationAudit; ext 2 }
    SubtractRequest { terminationID, auditDescriptor; ext 2 }
    AuditRequest { terminationID, auditDescriptor, terminationIDList; ext 3 }
    AuditReply { contextAuditResult, error, auditResult, auditResultTermList }
    AuditResult { terminationID, terminationAuditResult }
    TermListAuditResult { terminationIDList, terminationAuditResult; ext 2 }
    AuditReturnParameter {
        errorDescriptor, mediaDescriptor, modemDescriptor, muxDescriptor, eventsDescriptor,
        eventBufferDescriptor, signalsDescriptor, digitMapDescriptor,
        observedEventsDescriptor, statisticsDescriptor, packagesDescriptor, emptyDescriptors
    }
    AuditDescriptor { auditToken, auditPropertyToken; ext 2 }
    IndAuditParameter {
        indaudmediaDescriptor, indaudeventsDescriptor, indaudeventBufferDescriptor,
        indaudsignalsDescriptor, indauddigitMapDescriptor, indaudstatisticsDescriptor,
        indaudpackagesDescriptor
    }
    IndAudMediaDescriptor { termStateDescr, streams; ext 2 }
    Streams { oneStream, multiStream }
    StreamDescriptor { streamID, streamParms }
    IndAudStreamParms {
        localControlDescriptor, localDescriptor, remoteDescriptor, statisticsDescriptor; ext 4
    }
    IndAudLocalControlDescriptor {
        streamMode, reserveValue, reserveGroup, propertyParms, streamModeSel; ext 5
    }
    IndAudPropertyParm { name, propertyParms; ext 2 }
    IndAudLocalRemoteDescriptor { propGroupID, propGrps; ext 2 }
    IndAudTerminationStateDescriptor {
        propertyParms, eventBufferControl, serviceState, serviceStateSel; ext 4
    }
    IndAudEventsDescriptor { requestID, pkgdName, streamID; ext 3 }
    IndAudEventBufferDescriptor { eventName, streamID; ext 2 }
    IndAudSignalsDescriptor { signal, seqSigList }
    IndAudSeqSigList { id, signalList }
    IndAudSignal { signalName, streamID, signalRequestID; ext 3 }
    IndAudDigitMapDescriptor { digitMapName }
    IndAudStatisticsDescriptor { statName }
    IndAudPackagesDescriptor { packageName, packageVersion; ext 2 }
    NotifyRequest { terminationID, observedEventsDescriptor, errorDescriptor; ext 3 }
    NotifyReply { terminationID, errorDescriptor; ext 2 }
    ObservedEventsDescriptor { requestId, observedEventLst }
    ObservedEvent { eventName, streamID, eventParList, timeNotation; ext 4 }
    EventParameter { eventParameterName, value, extraInfo; ext 3 }
    ExtraInfo { relation, range, sublist }
    ServiceChangeRequest { terminationID, serviceChangeParms; ext 2 }
    ServiceChangeReply { terminationID, serviceChangeResult; ext 2 }
    ServiceChangeResult { errorDescriptor, serviceChangeResParms }
    TerminationID { wildcard, id; ext 2 }
    MediaDescriptor { termStateDescr, streams; ext 2 }
    StreamParms {
        localControlDescriptor, localDescriptor, remoteDescriptor, statisticsDescriptor; ext 4
    }
    LocalControlDescriptor { streamMode, reserveValue, reserveGroup, propertyParms; ext 4 }
    PropertyParm { name, value, extraInfo; ext 3 }
    LocalRemoteDescriptor { propGrps; ext 1 }
    TerminationStateDescriptor { propertyParms, eventBufferControl, serviceState; ext 3 }
    MuxDescriptor { muxType, termList, nonStandardData; ext 3 }
    EventsDescriptor { requestID, eventList; ext 2 }
    RequestedEvent { pkgdName, streamID, eventAction, evParList; ext 4 }
    RegulatedEmbeddedDescriptor { secondEvent, signalsDescriptor; ext 2 }
    NotifyBehaviour { notifyImmediate, notifyRegulated, neverNotify }
    RequestedActions {
        keepActive, eventDM, secondEvent, signalsDescriptor, notifyBehaviour,
        resetEventsDescriptor; ext 6
    }
    EventDM { digitMapName, digitMapValue }
    SecondEventsDescriptor { requestID, eventList; ext 2 }
    SecondRequestedActions {
        keepActive, eventDM, signalsDescriptor, notifyBehaviour, resetEventsDescriptor; ext 5
    }
    EventSpec { eventName, streamID, eventParList; ext 3 }
    SignalRequest { signal, seqSigList }
    SeqSigList { id, signalList }
    Signal {
        signalName, streamID, sigType, duration, notifyCompletion, keepActive, sigParList,
        direction, requestID, intersigDelay; ext 10
    }
    SigParameter { sigParameterName, value, extraInfo; ext 3 }
    ModemDescriptor { mtl, mpl, nonStandardData }
    DigitMapDescriptor { digitMapName, digitMapValue }
    DigitMapValue { startTimer, shortTimer, longTimer, digitMapBody, durationTimer; ext 5 }
    ServiceChangeParm {
        serviceChangeMethod, serviceChangeAddress, serviceChangeVersion,
        serviceChangeProfile, serviceChangeReason, serviceChangeDelay, serviceChangeMgcId,
        timeStamp, nonStandardData, serviceChangeInfo, serviceChangeIncompleteFlag; ext 11
    }
    ServiceChangeAddress {
        portNumber, ip4Address, ip6Address, domainName, deviceName, mtpAddress
    }
    ServiceChangeResParm {
        serviceChangeMgcId, serviceChangeAddress, serviceChangeVersion,
        serviceChangeProfile, timestamp; ext 5
    }
    ServiceChangeProfile { profileName }
    PackagesItem { packageName, packageVersion; ext 2 }
    StatisticsParameter { statName, statValue }
    NonStandardData { nonStandardIdentifier, data }
    NonStandardIdentifier { object, h221NonStandard, experimental }
    H221NonStandard {
        t35CountryCode1, t35CountryCode2, t35Extension, manufacturerCode; ext 4
    }
    TimeNotation { date, time }
}
