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
use super::termid::TermIdMapping;
use super::EncodeError;
use crate::model::*;
use crate::packages::{ItemKind, Registry};

type R<T = ()> = Result<T, EncodeError>;

/// Identifier octets: class and form bits, and the tag numbers of `asn.rs` (`#[rasn(tag(context,
/// n))]`), by type and component. The module is `AUTOMATIC TAGS`: a component's number is its
/// position, counting on after the extension marker.
mod tag {
    /// `[n]` with a primitive encoding.
    pub const fn p(n: u8) -> u8 {
        0x80 | n
    }
    /// `[n]` with a constructed encoding (SEQUENCE, SEQUENCE OF, explicit tags).
    pub const fn c(n: u8) -> u8 {
        0xA0 | n
    }
    /// UNIVERSAL 2 INTEGER (`SEQUENCE OF ContextID`).
    pub const INTEGER: u8 = 0x02;
    /// UNIVERSAL 4 OCTET STRING (`Value`, `SEQUENCE OF WildcardField`).
    pub const OCTET_STRING: u8 = 0x04;
    /// UNIVERSAL 10 ENUMERATED (`SEQUENCE OF ModemType`).
    pub const ENUMERATED: u8 = 0x0A;
    /// UNIVERSAL 16 SEQUENCE, constructed (the outer value and SEQUENCE OF elements).
    pub const SEQUENCE: u8 = 0x30;

    pub mod megaco_message {
        pub const AUTH_HEADER: u8 = 0;
        pub const MESS: u8 = 1;
    }
    pub mod authentication_header {
        pub const SEC_PARM_INDEX: u8 = 0;
        pub const SEQ_NUM: u8 = 1;
        pub const AD: u8 = 2;
    }
    pub mod message {
        pub const VERSION: u8 = 0;
        pub const M_ID: u8 = 1;
        pub const MESSAGE_BODY: u8 = 2;
    }
    pub mod message_body {
        pub const MESSAGE_ERROR: u8 = 0;
        pub const TRANSACTIONS: u8 = 1;
    }
    /// MId and ServiceChangeAddress share their alternatives but not their numbers.
    pub mod m_id {
        pub const ALTERNATIVES: super::MIdTags = super::MIdTags {
            ip4_address: 0,
            ip6_address: 1,
            domain_name: 2,
            device_name: 3,
            mtp_address: 4,
        };
    }
    pub mod domain_name {
        pub const NAME: u8 = 0;
        pub const PORT_NUMBER: u8 = 1;
    }
    /// IP4Address and IP6Address.
    pub mod ip_address {
        pub const ADDRESS: u8 = 0;
        pub const PORT_NUMBER: u8 = 1;
    }
    pub mod transaction {
        pub const TRANSACTION_REQUEST: u8 = 0;
        pub const TRANSACTION_PENDING: u8 = 1;
        pub const TRANSACTION_REPLY: u8 = 2;
        pub const TRANSACTION_RESPONSE_ACK: u8 = 3;
        pub const SEGMENT_REPLY: u8 = 4;
    }
    pub mod transaction_request {
        pub const TRANSACTION_ID: u8 = 0;
        pub const ACTIONS: u8 = 1;
    }
    pub mod transaction_pending {
        pub const TRANSACTION_ID: u8 = 0;
    }
    pub mod transaction_reply {
        pub const TRANSACTION_ID: u8 = 0;
        pub const IMM_ACK_REQUIRED: u8 = 1;
        pub const TRANSACTION_RESULT: u8 = 2;
        pub const SEGMENT_NUMBER: u8 = 3;
        pub const SEGMENTATION_COMPLETE: u8 = 4;
    }
    pub mod transaction_result {
        pub const TRANSACTION_ERROR: u8 = 0;
        pub const ACTION_REPLIES: u8 = 1;
    }
    pub mod segment_reply {
        pub const TRANSACTION_ID: u8 = 0;
        pub const SEGMENT_NUMBER: u8 = 1;
        pub const SEGMENTATION_COMPLETE: u8 = 2;
    }
    pub mod transaction_ack {
        pub const FIRST_ACK: u8 = 0;
        pub const LAST_ACK: u8 = 1;
    }
    pub mod error_descriptor {
        pub const ERROR_CODE: u8 = 0;
        pub const ERROR_TEXT: u8 = 1;
    }
    pub mod action_request {
        pub const CONTEXT_ID: u8 = 0;
        pub const CONTEXT_REQUEST: u8 = 1;
        pub const CONTEXT_ATTR_AUDIT_REQ: u8 = 2;
        pub const COMMAND_REQUESTS: u8 = 3;
    }
    pub mod action_reply {
        pub const CONTEXT_ID: u8 = 0;
        pub const ERROR_DESCRIPTOR: u8 = 1;
        pub const CONTEXT_REPLY: u8 = 2;
        pub const COMMAND_REPLY: u8 = 3;
    }
    pub mod context_request {
        pub const PRIORITY: u8 = 0;
        pub const EMERGENCY: u8 = 1;
        pub const TOPOLOGY_REQ: u8 = 2;
        pub const IEPSCALLIND: u8 = 3;
        pub const CONTEXT_PROP: u8 = 4;
        pub const CONTEXT_LIST: u8 = 5;
    }
    pub mod context_attr_audit_request {
        pub const TOPOLOGY: u8 = 0;
        pub const EMERGENCY: u8 = 1;
        pub const PRIORITY: u8 = 2;
        pub const IEPSCALLIND: u8 = 3;
        pub const CONTEXT_PROP_AUD: u8 = 4;
        pub const SELECTPRIORITY: u8 = 5;
        pub const SELECTEMERGENCY: u8 = 6;
        pub const SELECTIEPSCALLIND: u8 = 7;
        pub const SELECT_LOGIC: u8 = 8;
    }
    pub mod select_logic {
        pub const AND_AUDIT_SELECT: u8 = 0;
        pub const OR_AUDIT_SELECT: u8 = 1;
    }
    pub mod command_request {
        pub const COMMAND: u8 = 0;
        pub const OPTIONAL: u8 = 1;
        pub const WILDCARD_RETURN: u8 = 2;
    }
    pub mod command {
        pub const ADD_REQ: u8 = 0;
        pub const MOVE_REQ: u8 = 1;
        pub const MOD_REQ: u8 = 2;
        pub const SUBTRACT_REQ: u8 = 3;
        pub const AUDIT_CAP_REQUEST: u8 = 4;
        pub const AUDIT_VALUE_REQUEST: u8 = 5;
        pub const NOTIFY_REQ: u8 = 6;
        pub const SERVICE_CHANGE_REQ: u8 = 7;
    }
    pub mod command_reply {
        pub const ADD_REPLY: u8 = 0;
        pub const MOVE_REPLY: u8 = 1;
        pub const MOD_REPLY: u8 = 2;
        pub const SUBTRACT_REPLY: u8 = 3;
        pub const AUDIT_CAP_REPLY: u8 = 4;
        pub const AUDIT_VALUE_REPLY: u8 = 5;
        pub const NOTIFY_REPLY: u8 = 6;
        pub const SERVICE_CHANGE_REPLY: u8 = 7;
    }
    pub mod topology_request {
        pub const TERMINATION_FROM: u8 = 0;
        pub const TERMINATION_TO: u8 = 1;
        pub const TOPOLOGY_DIRECTION: u8 = 2;
        pub const STREAM_ID: u8 = 3;
        pub const TOPOLOGY_DIRECTION_EXTENSION: u8 = 4;
    }
    pub mod amm_request {
        pub const TERMINATION_ID: u8 = 0;
        pub const DESCRIPTORS: u8 = 1;
    }
    pub mod amm_descriptor {
        pub const MEDIA_DESCRIPTOR: u8 = 0;
        pub const MODEM_DESCRIPTOR: u8 = 1;
        pub const MUX_DESCRIPTOR: u8 = 2;
        pub const EVENTS_DESCRIPTOR: u8 = 3;
        pub const EVENT_BUFFER_DESCRIPTOR: u8 = 4;
        pub const SIGNALS_DESCRIPTOR: u8 = 5;
        pub const DIGIT_MAP_DESCRIPTOR: u8 = 6;
        pub const AUDIT_DESCRIPTOR: u8 = 7;
        pub const STATISTICS_DESCRIPTOR: u8 = 8;
    }
    pub mod amms_reply {
        pub const TERMINATION_ID: u8 = 0;
        pub const TERMINATION_AUDIT: u8 = 1;
    }
    pub mod subtract_request {
        pub const TERMINATION_ID: u8 = 0;
        pub const AUDIT_DESCRIPTOR: u8 = 1;
    }
    pub mod audit_request {
        pub const TERMINATION_ID: u8 = 0;
        pub const AUDIT_DESCRIPTOR: u8 = 1;
        pub const TERMINATION_ID_LIST: u8 = 2;
    }
    pub mod audit_reply {
        pub const CONTEXT_AUDIT_RESULT: u8 = 0;
        pub const ERROR: u8 = 1;
        pub const AUDIT_RESULT: u8 = 2;
        pub const AUDIT_RESULT_TERM_LIST: u8 = 3;
    }
    /// AuditResult and TermListAuditResult.
    pub mod audit_result {
        pub const TERMINATION_ID: u8 = 0;
        pub const TERMINATION_AUDIT_RESULT: u8 = 1;
    }
    pub mod audit_return_parameter {
        pub const ERROR_DESCRIPTOR: u8 = 0;
        pub const MEDIA_DESCRIPTOR: u8 = 1;
        pub const MODEM_DESCRIPTOR: u8 = 2;
        pub const MUX_DESCRIPTOR: u8 = 3;
        pub const EVENTS_DESCRIPTOR: u8 = 4;
        pub const EVENT_BUFFER_DESCRIPTOR: u8 = 5;
        pub const SIGNALS_DESCRIPTOR: u8 = 6;
        pub const DIGIT_MAP_DESCRIPTOR: u8 = 7;
        pub const OBSERVED_EVENTS_DESCRIPTOR: u8 = 8;
        pub const STATISTICS_DESCRIPTOR: u8 = 9;
        pub const PACKAGES_DESCRIPTOR: u8 = 10;
        pub const EMPTY_DESCRIPTORS: u8 = 11;
    }
    pub mod audit_descriptor {
        pub const AUDIT_TOKEN: u8 = 0;
        pub const AUDIT_PROPERTY_TOKEN: u8 = 1;
    }
    pub mod ind_audit_parameter {
        pub const INDAUDMEDIA_DESCRIPTOR: u8 = 0;
        pub const INDAUDEVENTS_DESCRIPTOR: u8 = 1;
        pub const INDAUDEVENT_BUFFER_DESCRIPTOR: u8 = 2;
        pub const INDAUDSIGNALS_DESCRIPTOR: u8 = 3;
        pub const INDAUDDIGIT_MAP_DESCRIPTOR: u8 = 4;
        pub const INDAUDSTATISTICS_DESCRIPTOR: u8 = 5;
        pub const INDAUDPACKAGES_DESCRIPTOR: u8 = 6;
    }
    pub mod ind_aud_media_descriptor {
        pub const TERM_STATE_DESCR: u8 = 0;
        pub const STREAMS: u8 = 1;
    }
    /// IndAudStreams and Streams.
    pub mod streams {
        pub const ONE_STREAM: u8 = 0;
        pub const MULTI_STREAM: u8 = 1;
    }
    /// IndAudStreamDescriptor and StreamDescriptor.
    pub mod stream_descriptor {
        pub const STREAM_ID: u8 = 0;
        pub const STREAM_PARMS: u8 = 1;
    }
    /// IndAudStreamParms and StreamParms.
    pub mod stream_parms {
        pub const LOCAL_CONTROL_DESCRIPTOR: u8 = 0;
        pub const LOCAL_DESCRIPTOR: u8 = 1;
        pub const REMOTE_DESCRIPTOR: u8 = 2;
        pub const STATISTICS_DESCRIPTOR: u8 = 3;
    }
    pub mod ind_aud_local_control_descriptor {
        pub const STREAM_MODE: u8 = 0;
        pub const RESERVE_VALUE: u8 = 1;
        pub const RESERVE_GROUP: u8 = 2;
        pub const PROPERTY_PARMS: u8 = 3;
        pub const STREAM_MODE_SEL: u8 = 4;
    }
    pub mod ind_aud_property_parm {
        pub const NAME: u8 = 0;
        pub const PROPERTY_PARMS: u8 = 1;
    }
    pub mod ind_aud_local_remote_descriptor {
        pub const PROP_GRPS: u8 = 1;
    }
    pub mod ind_aud_termination_state_descriptor {
        pub const PROPERTY_PARMS: u8 = 0;
        pub const EVENT_BUFFER_CONTROL: u8 = 1;
        pub const SERVICE_STATE: u8 = 2;
        pub const SERVICE_STATE_SEL: u8 = 3;
    }
    pub mod ind_aud_events_descriptor {
        pub const REQUEST_ID: u8 = 0;
        pub const PKGD_NAME: u8 = 1;
    }
    pub mod ind_aud_event_buffer_descriptor {
        pub const EVENT_NAME: u8 = 0;
        pub const STREAM_ID: u8 = 1;
    }
    pub mod ind_aud_signals_descriptor {
        pub const SIGNAL: u8 = 0;
        pub const SEQ_SIG_LIST: u8 = 1;
    }
    pub mod ind_aud_seq_sig_list {
        pub const ID: u8 = 0;
        pub const SIGNAL_LIST: u8 = 1;
    }
    pub mod ind_aud_signal {
        pub const SIGNAL_NAME: u8 = 0;
        pub const STREAM_ID: u8 = 1;
        pub const SIGNAL_REQUEST_ID: u8 = 2;
    }
    pub mod ind_aud_digit_map_descriptor {
        pub const DIGIT_MAP_NAME: u8 = 0;
    }
    pub mod ind_aud_statistics_descriptor {
        pub const STAT_NAME: u8 = 0;
    }
    /// IndAudPackagesDescriptor and PackagesItem.
    pub mod packages_item {
        pub const PACKAGE_NAME: u8 = 0;
        pub const PACKAGE_VERSION: u8 = 1;
    }
    pub mod notify_request {
        pub const TERMINATION_ID: u8 = 0;
        pub const OBSERVED_EVENTS_DESCRIPTOR: u8 = 1;
        pub const ERROR_DESCRIPTOR: u8 = 2;
    }
    pub mod notify_reply {
        pub const TERMINATION_ID: u8 = 0;
        pub const ERROR_DESCRIPTOR: u8 = 1;
    }
    pub mod observed_events_descriptor {
        pub const REQUEST_ID: u8 = 0;
        pub const OBSERVED_EVENT_LST: u8 = 1;
    }
    /// ObservedEvent and EventSpec (EventSpec has no timeNotation).
    pub mod observed_event {
        pub const EVENT_NAME: u8 = 0;
        pub const STREAM_ID: u8 = 1;
        pub const EVENT_PAR_LIST: u8 = 2;
        pub const TIME_NOTATION: u8 = 3;
    }
    /// EventParameter and SigParameter.
    pub mod event_parameter {
        pub const NAME: u8 = 0;
        pub const VALUE: u8 = 1;
        pub const EXTRA_INFO: u8 = 2;
    }
    pub mod extra_info {
        pub const RELATION: u8 = 0;
        pub const RANGE: u8 = 1;
        pub const SUBLIST: u8 = 2;
    }
    pub mod service_change_request {
        pub const TERMINATION_ID: u8 = 0;
        pub const SERVICE_CHANGE_PARMS: u8 = 1;
    }
    pub mod service_change_reply {
        pub const TERMINATION_ID: u8 = 0;
        pub const SERVICE_CHANGE_RESULT: u8 = 1;
    }
    pub mod service_change_result {
        pub const ERROR_DESCRIPTOR: u8 = 0;
        pub const SERVICE_CHANGE_RES_PARMS: u8 = 1;
    }
    pub mod termination_id {
        pub const WILDCARD: u8 = 0;
        pub const ID: u8 = 1;
    }
    pub mod media_descriptor {
        pub const TERM_STATE_DESCR: u8 = 0;
        pub const STREAMS: u8 = 1;
    }
    pub mod local_control_descriptor {
        pub const STREAM_MODE: u8 = 0;
        pub const RESERVE_VALUE: u8 = 1;
        pub const RESERVE_GROUP: u8 = 2;
        pub const PROPERTY_PARMS: u8 = 3;
    }
    pub mod property_parm {
        pub const NAME: u8 = 0;
        pub const VALUE: u8 = 1;
        pub const EXTRA_INFO: u8 = 2;
    }
    pub mod local_remote_descriptor {
        pub const PROP_GRPS: u8 = 0;
    }
    pub mod termination_state_descriptor {
        pub const PROPERTY_PARMS: u8 = 0;
        pub const EVENT_BUFFER_CONTROL: u8 = 1;
        pub const SERVICE_STATE: u8 = 2;
    }
    pub mod mux_descriptor {
        pub const MUX_TYPE: u8 = 0;
        pub const TERM_LIST: u8 = 1;
    }
    /// EventsDescriptor and SecondEventsDescriptor.
    pub mod events_descriptor {
        pub const REQUEST_ID: u8 = 0;
        pub const EVENT_LIST: u8 = 1;
    }
    /// RequestedEvent and SecondRequestedEvent.
    pub mod requested_event {
        pub const PKGD_NAME: u8 = 0;
        pub const STREAM_ID: u8 = 1;
        pub const EVENT_ACTION: u8 = 2;
        pub const EV_PAR_LIST: u8 = 3;
    }
    pub mod regulated_embedded_descriptor {
        pub const SECOND_EVENT: u8 = 0;
        pub const SIGNALS_DESCRIPTOR: u8 = 1;
    }
    pub mod notify_behaviour {
        pub const NOTIFY_IMMEDIATE: u8 = 0;
        pub const NOTIFY_REGULATED: u8 = 1;
        pub const NEVER_NOTIFY: u8 = 2;
    }
    pub mod requested_actions {
        pub const KEEP_ACTIVE: u8 = 0;
        pub const EVENT_DM: u8 = 1;
        pub const SECOND_EVENT: u8 = 2;
        pub const TAIL: super::ActionTags = super::ActionTags {
            signals_descriptor: 3,
            notify_behaviour: 4,
            reset_events_descriptor: 5,
        };
    }
    pub mod event_dm {
        pub const DIGIT_MAP_NAME: u8 = 0;
        pub const DIGIT_MAP_VALUE: u8 = 1;
    }
    /// SecondRequestedActions: keepActive and eventDM as in RequestedActions, no secondEvent.
    pub mod second_requested_actions {
        pub const TAIL: super::ActionTags = super::ActionTags {
            signals_descriptor: 2,
            notify_behaviour: 3,
            reset_events_descriptor: 4,
        };
    }
    pub mod signal_request {
        pub const SIGNAL: u8 = 0;
        pub const SEQ_SIG_LIST: u8 = 1;
    }
    pub mod seq_sig_list {
        pub const ID: u8 = 0;
        pub const SIGNAL_LIST: u8 = 1;
    }
    pub mod signal {
        pub const SIGNAL_NAME: u8 = 0;
        pub const STREAM_ID: u8 = 1;
        pub const SIG_TYPE: u8 = 2;
        pub const DURATION: u8 = 3;
        pub const NOTIFY_COMPLETION: u8 = 4;
        pub const KEEP_ACTIVE: u8 = 5;
        pub const SIG_PAR_LIST: u8 = 6;
        pub const DIRECTION: u8 = 7;
        pub const REQUEST_ID: u8 = 8;
        pub const INTERSIG_DELAY: u8 = 9;
    }
    pub mod modem_descriptor {
        pub const MTL: u8 = 0;
        pub const MPL: u8 = 1;
    }
    pub mod digit_map_descriptor {
        pub const DIGIT_MAP_NAME: u8 = 0;
        pub const DIGIT_MAP_VALUE: u8 = 1;
    }
    pub mod digit_map_value {
        pub const START_TIMER: u8 = 0;
        pub const SHORT_TIMER: u8 = 1;
        pub const LONG_TIMER: u8 = 2;
        pub const DIGIT_MAP_BODY: u8 = 3;
        pub const DURATION_TIMER: u8 = 4;
    }
    pub mod service_change_parm {
        pub const SERVICE_CHANGE_METHOD: u8 = 0;
        pub const SERVICE_CHANGE_ADDRESS: u8 = 1;
        pub const SERVICE_CHANGE_VERSION: u8 = 2;
        pub const SERVICE_CHANGE_PROFILE: u8 = 3;
        pub const SERVICE_CHANGE_REASON: u8 = 4;
        pub const SERVICE_CHANGE_DELAY: u8 = 5;
        pub const SERVICE_CHANGE_MGC_ID: u8 = 6;
        pub const TIME_STAMP: u8 = 7;
        pub const NON_STANDARD_DATA: u8 = 8;
        pub const SERVICE_CHANGE_INFO: u8 = 9;
        pub const SERVICE_CHANGE_INCOMPLETE_FLAG: u8 = 10;
    }
    pub mod service_change_address {
        pub const PORT_NUMBER: u8 = 0;
        pub const ALTERNATIVES: super::MIdTags = super::MIdTags {
            ip4_address: 1,
            ip6_address: 2,
            domain_name: 3,
            device_name: 4,
            mtp_address: 5,
        };
    }
    pub mod service_change_res_parm {
        pub const SERVICE_CHANGE_MGC_ID: u8 = 0;
        pub const SERVICE_CHANGE_ADDRESS: u8 = 1;
        pub const SERVICE_CHANGE_VERSION: u8 = 2;
        pub const SERVICE_CHANGE_PROFILE: u8 = 3;
        pub const TIMESTAMP: u8 = 4;
    }
    pub mod service_change_profile {
        pub const PROFILE_NAME: u8 = 0;
    }
    pub mod statistics_parameter {
        pub const STAT_NAME: u8 = 0;
        pub const STAT_VALUE: u8 = 1;
    }
    pub mod non_standard_data {
        pub const NON_STANDARD_IDENTIFIER: u8 = 0;
        pub const DATA: u8 = 1;
    }
    pub mod non_standard_identifier {
        pub const EXPERIMENTAL: u8 = 2;
    }
    pub mod time_notation {
        pub const DATE: u8 = 0;
        pub const TIME: u8 = 1;
    }

    /// The numbers of the address alternatives of MId / ServiceChangeAddress.
    pub struct MIdTags {
        pub ip4_address: u8,
        pub ip6_address: u8,
        pub domain_name: u8,
        pub device_name: u8,
        pub mtp_address: u8,
    }

    /// The numbers of the components after eventDM of RequestedActions /
    /// SecondRequestedActions.
    pub struct ActionTags {
        pub signals_descriptor: u8,
        pub notify_behaviour: u8,
        pub reset_events_descriptor: u8,
    }
}

use tag::{c, p, ActionTags, MIdTags};

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
            self.bytes(tag::OCTET_STRING, v.as_bytes());
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
        use tag::{authentication_header as ah, megaco_message as mm, message as ms};
        let top = self.w.open(tag::SEQUENCE);
        if let Some(a) = &m.auth {
            let s = self.w.open(c(mm::AUTH_HEADER));
            self.w.bytes(p(ah::SEC_PARM_INDEX), &a.spi.to_be_bytes());
            self.w.bytes(p(ah::SEQ_NUM), &a.seq_num.to_be_bytes());
            self.w.bytes(p(ah::AD), &a.data);
            self.w.close(s);
        }
        let mess = self.w.open(c(mm::MESS));
        self.w.int(p(ms::VERSION), u32::from(m.version));
        let mid = self.w.open(c(ms::M_ID));
        self.within("mId", |e| e.mid(&m.mid, &tag::m_id::ALTERNATIVES))?;
        self.w.close(mid);
        let body = self.w.open(c(ms::MESSAGE_BODY));
        match &m.body {
            MessageBody::Error(ed) => {
                self.error_descriptor(c(tag::message_body::MESSAGE_ERROR), ed)?
            }
            MessageBody::Transactions(ts) => {
                let l = self.w.open(c(tag::message_body::TRANSACTIONS));
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
                self.w.bytes(p(tag::domain_name::NAME), name);
                if let Some(port) = port {
                    self.w
                        .int(p(tag::domain_name::PORT_NUMBER), u32::from(*port));
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
        self.w.bytes(p(tag::ip_address::ADDRESS), address);
        if let Some(port) = port {
            self.w.int(p(tag::ip_address::PORT_NUMBER), u32::from(port));
        }
        self.w.close(s);
    }

    fn transaction(&mut self, t: &Transaction) -> R {
        use tag::transaction as tr;
        match t {
            Transaction::Request(r) => {
                use tag::transaction_request as rq;
                self.r.transaction = Some(r.id);
                let s = self.w.open(c(tr::TRANSACTION_REQUEST));
                at(
                    self,
                    || format!("Transaction {}", r.id),
                    |e| {
                        e.w.int(p(rq::TRANSACTION_ID), r.id);
                        let l = e.w.open(c(rq::ACTIONS));
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
                let s = self.w.open(c(tr::TRANSACTION_PENDING));
                self.w.int(p(tag::transaction_pending::TRANSACTION_ID), *id);
                self.w.close(s);
            }
            Transaction::Reply(r) => self.transaction_reply(c(tr::TRANSACTION_REPLY), r)?,
            Transaction::ResponseAck(acks) => {
                use tag::transaction_ack as ta;
                let s = self.w.open(c(tr::TRANSACTION_RESPONSE_ACK));
                for a in acks {
                    let e = self.w.open(tag::SEQUENCE);
                    self.w.int(p(ta::FIRST_ACK), a.first);
                    if let Some(last) = a.last {
                        self.w.int(p(ta::LAST_ACK), last);
                    }
                    self.w.close(e);
                }
                self.w.close(s);
            }
            Transaction::SegmentReply(sr) => {
                use tag::segment_reply as sg;
                let s = self.w.open(c(tr::SEGMENT_REPLY));
                self.w.int(p(sg::TRANSACTION_ID), sr.id);
                self.w
                    .int(p(sg::SEGMENT_NUMBER), u32::from(sr.segment_number));
                if sr.segmentation_complete {
                    self.w.null(p(sg::SEGMENTATION_COMPLETE));
                }
                self.w.close(s);
            }
        }
        Ok(())
    }

    fn transaction_reply(&mut self, id: u8, r: &TransactionReply) -> R {
        use tag::{transaction_reply as rp, transaction_result as res};
        self.r.transaction = Some(r.id);
        let s = self.w.open(id);
        self.w.int(p(rp::TRANSACTION_ID), r.id);
        if r.imm_ack_required {
            self.w.null(p(rp::IMM_ACK_REQUIRED));
        }
        let result = self.w.open(c(rp::TRANSACTION_RESULT));
        at(
            self,
            || format!("Reply {}", r.id),
            |e| match &r.result {
                TransactionResult::Error(ed) => e.error_descriptor(c(res::TRANSACTION_ERROR), ed),
                TransactionResult::Actions(acts) => {
                    let l = e.w.open(c(res::ACTION_REPLIES));
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
            self.w.int(p(rp::SEGMENT_NUMBER), u32::from(n));
        }
        if r.segmentation_complete {
            self.w.null(p(rp::SEGMENTATION_COMPLETE));
        }
        self.w.close(s);
        self.r.transaction = None;
        Ok(())
    }

    fn error_descriptor(&mut self, id: u8, ed: &ErrorDescriptor) -> R {
        use tag::error_descriptor as er;
        let s = self.w.open(id);
        self.w.int(p(er::ERROR_CODE), u32::from(ed.code));
        if let Some(t) = &ed.text {
            let t = self.r.ia5_octets("error text", t)?;
            self.w.bytes(p(er::ERROR_TEXT), t);
        }
        self.w.close(s);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Actions, contexts, commands.

    fn action_request(&mut self, a: &ActionRequest) -> R {
        use tag::action_request as ar;
        let s = self.w.open(tag::SEQUENCE);
        self.w.int(p(ar::CONTEXT_ID), ctx_id(a.context));
        if let Some(cr) = &a.context_request {
            self.within("context properties", |e| {
                e.context_request(c(ar::CONTEXT_REQUEST), cr)
            })?;
        }
        if let Some(ca) = &a.context_audit {
            self.within("ContextAudit", |e| {
                e.context_attr_audit_request(c(ar::CONTEXT_ATTR_AUDIT_REQ), ca)
            })?;
        }
        let l = self.w.open(c(ar::COMMAND_REQUESTS));
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
        use tag::action_reply as ar;
        let s = self.w.open(tag::SEQUENCE);
        self.w.int(p(ar::CONTEXT_ID), ctx_id(a.context));
        if let Some(ed) = &a.error {
            self.error_descriptor(c(ar::ERROR_DESCRIPTOR), ed)?;
        }
        if let Some(cr) = &a.context_reply {
            self.within("context properties", |e| {
                e.context_request(c(ar::CONTEXT_REPLY), cr)
            })?;
        }
        let l = self.w.open(c(ar::COMMAND_REPLY));
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
        use tag::{context_request as cq, topology_request as tq};
        let s = self.w.open(id);
        if let Some(prio) = cr.priority {
            let v = self.r.small("priority", prio, 15)?;
            self.w.int(p(cq::PRIORITY), u32::from(v));
        }
        if let Some(b) = cr.emergency {
            self.w.boolean(p(cq::EMERGENCY), b);
        }
        if !cr.topology.is_empty() {
            let l = self.w.open(c(cq::TOPOLOGY_REQ));
            for t in &cr.topology {
                let e = self.w.open(tag::SEQUENCE);
                self.termination_id(c(tq::TERMINATION_FROM), &t.from)?;
                self.termination_id(c(tq::TERMINATION_TO), &t.to)?;
                let (dir, ext) = topology_direction(t.direction);
                self.w.int(p(tq::TOPOLOGY_DIRECTION), dir as u32);
                if let Some(sid) = t.stream {
                    self.w.int(p(tq::STREAM_ID), u32::from(sid));
                }
                if let Some(ext) = ext {
                    self.w.int(p(tq::TOPOLOGY_DIRECTION_EXTENSION), ext as u32);
                }
                self.w.close(e);
            }
            self.w.close(l);
        }
        if let Some(b) = cr.ieps_call {
            self.w.boolean(p(cq::IEPSCALLIND), b);
        }
        if !cr.props.is_empty() {
            self.property_parms(c(cq::CONTEXT_PROP), &cr.props)?;
        }
        if !cr.context_list.is_empty() {
            let l = self.w.open(c(cq::CONTEXT_LIST));
            for &ctx in &cr.context_list {
                self.w.int(tag::INTEGER, ctx_id(ctx));
            }
            self.w.close(l);
        }
        self.w.close(s);
        Ok(())
    }

    fn context_attr_audit_request(&mut self, id: u8, ca: &ContextAttrAuditRequest) -> R {
        use tag::{context_attr_audit_request as cq, select_logic as sl};
        let s = self.w.open(id);
        if ca.topology {
            self.w.null(p(cq::TOPOLOGY));
        }
        if ca.emergency {
            self.w.null(p(cq::EMERGENCY));
        }
        if ca.priority {
            self.w.null(p(cq::PRIORITY));
        }
        if ca.ieps_call {
            self.w.null(p(cq::IEPSCALLIND));
        }
        // Names first, then the selections (the model keeps them apart).
        if !ca.props.is_empty() || !ca.select_props.is_empty() {
            let l = self.w.open(c(cq::CONTEXT_PROP_AUD));
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
            self.w.int(p(cq::SELECTPRIORITY), u32::from(v));
        }
        if let Some(b) = ca.select_emergency {
            self.w.boolean(p(cq::SELECTEMERGENCY), b);
        }
        if let Some(b) = ca.select_ieps {
            self.w.boolean(p(cq::SELECTIEPSCALLIND), b);
        }
        if let Some(logic) = ca.select_logic {
            let x = self.w.open(c(cq::SELECT_LOGIC));
            self.w.null(p(match logic {
                SelectLogic::And => sl::AND_AUDIT_SELECT,
                SelectLogic::Or => sl::OR_AUDIT_SELECT,
            }));
            self.w.close(x);
        }
        self.w.close(s);
        Ok(())
    }

    fn command_request(&mut self, cr: &CommandRequest) -> R {
        use tag::command_request as cq;
        let s = self.w.open(tag::SEQUENCE);
        let x = self.w.open(c(cq::COMMAND));
        self.command(&cr.command)?;
        self.w.close(x);
        if cr.optional {
            self.w.null(p(cq::OPTIONAL));
        }
        if cr.wildcard_return {
            self.w.null(p(cq::WILDCARD_RETURN));
        }
        self.w.close(s);
        Ok(())
    }

    fn command(&mut self, cmd: &Command) -> R {
        use tag::command as cm;
        match cmd {
            Command::Add(a) => self.amm_request(c(cm::ADD_REQ), a),
            Command::Move(a) => self.amm_request(c(cm::MOVE_REQ), a),
            Command::Modify(a) => self.amm_request(c(cm::MOD_REQ), a),
            Command::Subtract(sr) => {
                use tag::subtract_request as sq;
                let s = self.w.open(c(cm::SUBTRACT_REQ));
                self.termination_ids(c(sq::TERMINATION_ID), &sr.termination_ids)?;
                if let Some(a) = &sr.audit {
                    self.within("Audit", |e| e.audit_descriptor(c(sq::AUDIT_DESCRIPTOR), a))?;
                }
                self.w.close(s);
                Ok(())
            }
            Command::AuditCapabilities(a) => self.audit_request(c(cm::AUDIT_CAP_REQUEST), a),
            Command::AuditValue(a) => self.audit_request(c(cm::AUDIT_VALUE_REQUEST), a),
            Command::Notify(n) => self.notify_request(c(cm::NOTIFY_REQ), n),
            Command::ServiceChange(sc) => {
                use tag::service_change_request as sq;
                let s = self.w.open(c(cm::SERVICE_CHANGE_REQ));
                self.termination_ids(c(sq::TERMINATION_ID), &sc.termination_ids)?;
                self.within("Services", |e| {
                    e.service_change_parm(c(sq::SERVICE_CHANGE_PARMS), &sc.parms)
                })?;
                self.w.close(s);
                Ok(())
            }
        }
    }

    fn command_reply(&mut self, cmd: &CommandReply) -> R {
        use tag::command_reply as cr;
        match cmd {
            CommandReply::Add(r) => self.amms_reply(c(cr::ADD_REPLY), r),
            CommandReply::Move(r) => self.amms_reply(c(cr::MOVE_REPLY), r),
            CommandReply::Modify(r) => self.amms_reply(c(cr::MOD_REPLY), r),
            CommandReply::Subtract(r) => self.amms_reply(c(cr::SUBTRACT_REPLY), r),
            CommandReply::AuditCapabilities(r) => self.audit_reply(c(cr::AUDIT_CAP_REPLY), r),
            CommandReply::AuditValue(r) => self.audit_reply(c(cr::AUDIT_VALUE_REPLY), r),
            CommandReply::Notify(r) => {
                use tag::notify_reply as nr;
                let s = self.w.open(c(cr::NOTIFY_REPLY));
                self.termination_ids(c(nr::TERMINATION_ID), &r.termination_ids)?;
                if let Some(ed) = &r.error {
                    self.error_descriptor(c(nr::ERROR_DESCRIPTOR), ed)?;
                }
                self.w.close(s);
                Ok(())
            }
            CommandReply::ServiceChange(r) => {
                use tag::{service_change_reply as sr, service_change_result as res};
                let s = self.w.open(c(cr::SERVICE_CHANGE_REPLY));
                self.termination_ids(c(sr::TERMINATION_ID), &r.termination_ids)?;
                let x = self.w.open(c(sr::SERVICE_CHANGE_RESULT));
                match &r.result {
                    ServiceChangeResult::Error(ed) => {
                        self.error_descriptor(c(res::ERROR_DESCRIPTOR), ed)?
                    }
                    ServiceChangeResult::Parms(parms) => {
                        self.service_change_res_parm(c(res::SERVICE_CHANGE_RES_PARMS), parms)?
                    }
                }
                self.w.close(x);
                self.w.close(s);
                Ok(())
            }
        }
    }

    fn amm_request(&mut self, id: u8, a: &AmmRequest) -> R {
        use tag::amm_request as aq;
        let s = self.w.open(id);
        self.termination_ids(c(aq::TERMINATION_ID), &a.termination_ids)?;
        let l = self.w.open(c(aq::DESCRIPTORS));
        for d in &a.descriptors {
            self.amm_descriptor(d)?;
        }
        self.w.close(l);
        self.w.close(s);
        Ok(())
    }

    fn amm_descriptor(&mut self, d: &AmmDescriptor) -> R {
        use tag::amm_descriptor as ad;
        match d {
            AmmDescriptor::Media(m) => {
                self.within("Media", |e| e.media_descriptor(c(ad::MEDIA_DESCRIPTOR), m))
            }
            AmmDescriptor::Modem(m) => {
                self.within("Modem", |e| e.modem_descriptor(c(ad::MODEM_DESCRIPTOR), m))
            }
            AmmDescriptor::Mux(m) => self.mux_descriptor(c(ad::MUX_DESCRIPTOR), m),
            AmmDescriptor::Events(ev) => self.within("Events", |e| {
                e.events_descriptor(c(ad::EVENTS_DESCRIPTOR), ev, false)
            }),
            AmmDescriptor::EventBuffer(eb) => self.within("EventBuffer", |e| {
                e.event_buffer_descriptor(c(ad::EVENT_BUFFER_DESCRIPTOR), eb)
            }),
            AmmDescriptor::Signals(sg) => self.within("Signals", |e| {
                e.signals_descriptor(c(ad::SIGNALS_DESCRIPTOR), sg)
            }),
            AmmDescriptor::DigitMap(dm) => self.within("DigitMap", |e| {
                e.digit_map_descriptor(c(ad::DIGIT_MAP_DESCRIPTOR), dm)
            }),
            AmmDescriptor::Audit(a) => {
                self.within("Audit", |e| e.audit_descriptor(c(ad::AUDIT_DESCRIPTOR), a))
            }
            AmmDescriptor::Statistics(st) => self.within("Statistics", |e| {
                e.statistics_descriptor(c(ad::STATISTICS_DESCRIPTOR), st)
            }),
        }
    }

    fn amms_reply(&mut self, id: u8, r: &AmmsReply) -> R {
        use tag::amms_reply as ar;
        let s = self.w.open(id);
        self.termination_ids(c(ar::TERMINATION_ID), &r.termination_ids)?;
        if let Some(a) = &r.audit {
            self.termination_audit(c(ar::TERMINATION_AUDIT), a)?;
        }
        self.w.close(s);
        Ok(())
    }

    /// One termination: terminationID. Several: terminationID = the first and
    /// terminationIDList = all of them. No audit descriptor = the empty one.
    fn audit_request(&mut self, id: u8, a: &AuditRequest) -> R {
        use tag::audit_request as aq;
        let first = self.r.audit_first(&a.termination_ids)?;
        let s = self.w.open(id);
        self.termination_id(c(aq::TERMINATION_ID), first)?;
        match &a.audit {
            Some(d) => self.within("Audit", |e| e.audit_descriptor(c(aq::AUDIT_DESCRIPTOR), d))?,
            // An empty SEQUENCE: identifier and length 0.
            None => self.w.null(c(aq::AUDIT_DESCRIPTOR)),
        }
        if a.termination_ids.len() > 1 {
            self.termination_ids(c(aq::TERMINATION_ID_LIST), &a.termination_ids)?;
        }
        self.w.close(s);
        Ok(())
    }

    /// An AuditReply CHOICE inside its explicit tag `id`. One termination: auditResult;
    /// several: auditResultTermList.
    fn audit_reply(&mut self, id: u8, r: &AuditReply) -> R {
        use tag::{audit_reply as ar, audit_result as res};
        let x = self.w.open(id);
        match r {
            AuditReply::ContextAuditResult(ts) => {
                self.termination_ids(c(ar::CONTEXT_AUDIT_RESULT), ts)?
            }
            AuditReply::Error(ed) => self.error_descriptor(c(ar::ERROR), ed)?,
            AuditReply::AuditResult {
                termination_ids,
                audit,
            } => match termination_ids.as_slice() {
                [] => return Err(self.r.no_audit_result_tid()),
                [one] => {
                    let s = self.w.open(c(ar::AUDIT_RESULT));
                    self.termination_id(c(res::TERMINATION_ID), one)?;
                    self.termination_audit(c(res::TERMINATION_AUDIT_RESULT), audit)?;
                    self.w.close(s);
                }
                many => {
                    let s = self.w.open(c(ar::AUDIT_RESULT_TERM_LIST));
                    self.termination_ids(c(res::TERMINATION_ID), many)?;
                    self.termination_audit(c(res::TERMINATION_AUDIT_RESULT), audit)?;
                    self.w.close(s);
                }
            },
        }
        self.w.close(x);
        Ok(())
    }

    /// TerminationAudit. Consecutive `Empty` items are one emptyDescriptors element.
    fn termination_audit(&mut self, id: u8, ta: &[AuditReturnParameter]) -> R {
        use tag::audit_return_parameter as rp;
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
                    self.error_descriptor(c(rp::ERROR_DESCRIPTOR), ed)?
                }
                AuditReturnParameter::Media(m) => {
                    self.within("Media", |e| e.media_descriptor(c(rp::MEDIA_DESCRIPTOR), m))?
                }
                AuditReturnParameter::Modem(m) => {
                    self.within("Modem", |e| e.modem_descriptor(c(rp::MODEM_DESCRIPTOR), m))?
                }
                AuditReturnParameter::Mux(m) => self.mux_descriptor(c(rp::MUX_DESCRIPTOR), m)?,
                AuditReturnParameter::Events(ev) => self.within("Events", |e| {
                    e.events_descriptor(c(rp::EVENTS_DESCRIPTOR), ev, false)
                })?,
                AuditReturnParameter::EventBuffer(eb) => self.within("EventBuffer", |e| {
                    e.event_buffer_descriptor(c(rp::EVENT_BUFFER_DESCRIPTOR), eb)
                })?,
                AuditReturnParameter::Signals(sg) => self.within("Signals", |e| {
                    e.signals_descriptor(c(rp::SIGNALS_DESCRIPTOR), sg)
                })?,
                AuditReturnParameter::DigitMap(dm) => self.within("DigitMap", |e| {
                    e.digit_map_descriptor(c(rp::DIGIT_MAP_DESCRIPTOR), dm)
                })?,
                AuditReturnParameter::ObservedEvents(o) => self.within("ObservedEvents", |e| {
                    e.observed_events_descriptor(c(rp::OBSERVED_EVENTS_DESCRIPTOR), o)
                })?,
                AuditReturnParameter::Statistics(st) => self.within("Statistics", |e| {
                    e.statistics_descriptor(c(rp::STATISTICS_DESCRIPTOR), st)
                })?,
                AuditReturnParameter::Packages(ps) => {
                    let l = self.w.open(c(rp::PACKAGES_DESCRIPTOR));
                    for pk in ps {
                        self.packages_item(tag::SEQUENCE, pk)?;
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
        let s = self
            .w
            .open(c(tag::audit_return_parameter::EMPTY_DESCRIPTORS));
        self.w.bits(p(tag::audit_descriptor::AUDIT_TOKEN), bits);
        self.w.close(s);
    }

    fn audit_descriptor(&mut self, id: u8, a: &AuditDescriptor) -> R {
        use tag::audit_descriptor as ad;
        let s = self.w.open(id);
        if !a.items.is_empty() {
            let bits = named_bit_mask(a.items.iter().map(|&i| audit_bit(i)));
            self.w.bits(p(ad::AUDIT_TOKEN), bits);
        }
        if !a.ind_aud.is_empty() {
            let l = self.w.open(c(ad::AUDIT_PROPERTY_TOKEN));
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
        use tag::ind_audit_parameter as ip;
        match ia {
            IndAuditParameter::Media(m) => self.within("Media", |e| {
                e.ind_aud_media_descriptor(c(ip::INDAUDMEDIA_DESCRIPTOR), m)
            })?,
            IndAuditParameter::Events { request_id, name } => {
                use tag::ind_aud_events_descriptor as ie;
                let n = self.r.pkgd_id(ItemKind::Event, name)?;
                let s = self.w.open(c(ip::INDAUDEVENTS_DESCRIPTOR));
                if let Some(rid) = request_id {
                    self.w.int(p(ie::REQUEST_ID), *rid);
                }
                self.w.bytes(p(ie::PKGD_NAME), &n);
                self.w.close(s);
            }
            IndAuditParameter::EventBuffer { name, stream } => {
                use tag::ind_aud_event_buffer_descriptor as ib;
                let n = self.r.pkgd_id(ItemKind::Event, name)?;
                let s = self.w.open(c(ip::INDAUDEVENT_BUFFER_DESCRIPTOR));
                self.w.bytes(p(ib::EVENT_NAME), &n);
                if let Some(sid) = stream {
                    self.w.int(p(ib::STREAM_ID), u32::from(*sid));
                }
                self.w.close(s);
            }
            IndAuditParameter::Signals(sp) => {
                let sp = self.r.ind_aud_signal(sp)?;
                let x = self.w.open(c(ip::INDAUDSIGNALS_DESCRIPTOR));
                self.ind_aud_signals_descriptor(sp)?;
                self.w.close(x);
            }
            IndAuditParameter::DigitMap(n) => {
                let s = self.w.open(c(ip::INDAUDDIGIT_MAP_DESCRIPTOR));
                if let Some(n) = n {
                    let o = self.r.digit_map_name_id(n)?;
                    self.w
                        .bytes(p(tag::ind_aud_digit_map_descriptor::DIGIT_MAP_NAME), &o);
                }
                self.w.close(s);
            }
            IndAuditParameter::Statistics(n) => {
                self.ind_aud_statistics_descriptor(c(ip::INDAUDSTATISTICS_DESCRIPTOR), n)?
            }
            IndAuditParameter::Packages(pk) => {
                self.packages_item(c(ip::INDAUDPACKAGES_DESCRIPTOR), pk)?
            }
        }
        Ok(())
    }

    fn ind_aud_media_descriptor(&mut self, id: u8, m: &IndAudMediaDescriptor) -> R {
        use tag::{ind_aud_media_descriptor as im, stream_descriptor as sd, streams as st};
        // map::Enc checks the streams before the TerminationState: so does the order of the
        // errors here (the TerminationState's error is held until the streams are written).
        let streams = self.r.ind_aud_streams(m)?;
        let s = self.w.open(id);
        let term_state = match &m.termination_state {
            Some(t) => self.within("TerminationState", |e| {
                e.ind_aud_termination_state_descriptor(c(im::TERM_STATE_DESCR), t)
            }),
            None => Ok(()),
        };
        match streams {
            None => {}
            Some(IndAudStreamsOf::One(sp)) => {
                let x = self.w.open(c(im::STREAMS));
                self.ind_aud_stream_parms(c(st::ONE_STREAM), sp)?;
                self.w.close(x);
            }
            Some(IndAudStreamsOf::Multi(v)) => {
                let x = self.w.open(c(im::STREAMS));
                let l = self.w.open(c(st::MULTI_STREAM));
                for (sid, sp) in v {
                    at(
                        self,
                        || format!("Stream {sid}"),
                        |e| {
                            let d = e.w.open(tag::SEQUENCE);
                            e.w.int(p(sd::STREAM_ID), u32::from(*sid));
                            e.ind_aud_stream_parms(c(sd::STREAM_PARMS), sp)?;
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
        use tag::stream_parms as sq;
        let s = self.w.open(id);
        if let Some(lc) = &sp.local_control {
            self.within("LocalControl", |e| {
                e.ind_aud_local_control_descriptor(c(sq::LOCAL_CONTROL_DESCRIPTOR), lc)
            })?;
        }
        if let Some(l) = &sp.local {
            self.within("Local", |e| {
                e.ind_aud_local_remote_descriptor(c(sq::LOCAL_DESCRIPTOR), l)
            })?;
        }
        if let Some(l) = &sp.remote {
            self.within("Remote", |e| {
                e.ind_aud_local_remote_descriptor(c(sq::REMOTE_DESCRIPTOR), l)
            })?;
        }
        if let Some(n) = &sp.statistics {
            self.ind_aud_statistics_descriptor(c(sq::STATISTICS_DESCRIPTOR), n)?;
        }
        self.w.close(s);
        Ok(())
    }

    fn ind_aud_local_control_descriptor(&mut self, id: u8, lc: &IndAudLocalControl) -> R {
        use tag::ind_aud_local_control_descriptor as il;
        let sel = self.r.stream_mode_sel(lc.mode_sel)?;
        let s = self.w.open(id);
        if lc.mode {
            self.w.null(p(il::STREAM_MODE));
        }
        if lc.reserve_value {
            self.w.null(p(il::RESERVE_VALUE));
        }
        if lc.reserve_group {
            self.w.null(p(il::RESERVE_GROUP));
        }
        if !lc.props.is_empty() {
            let l = self.w.open(c(il::PROPERTY_PARMS));
            for ip in &lc.props {
                self.ind_aud_property_parm(ip)?;
            }
            self.w.close(l);
        }
        if let Some(m) = sel {
            self.w.int(p(il::STREAM_MODE_SEL), m as u32);
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
        let s = self.w.open(tag::SEQUENCE);
        self.w.bytes(p(tag::ind_aud_property_parm::NAME), &n);
        self.w.close(s);
        Ok(())
    }

    /// IndAudPropertyParm with propertyParms (a selection).
    fn ind_aud_property_select(&mut self, pp: &PropertyParm) -> R {
        use tag::ind_aud_property_parm as ia;
        let n = self.r.pkgd_id(ItemKind::Property, &pp.name)?;
        let s = self.w.open(tag::SEQUENCE);
        self.w.bytes(p(ia::NAME), &n);
        self.property_parm_named(c(ia::PROPERTY_PARMS), n, pp);
        self.w.close(s);
        Ok(())
    }

    /// An audited Local/Remote: one group; a line with a value is a selection, a line without
    /// values a plain name.
    fn ind_aud_local_remote_descriptor(&mut self, id: u8, l: &LocalRemoteDescriptor) -> R {
        self.r.ind_aud_group_check(l)?;
        let s = self.w.open(id);
        let g = self
            .w
            .open(c(tag::ind_aud_local_remote_descriptor::PROP_GRPS));
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
        use tag::ind_aud_termination_state_descriptor as it;
        let sel = self.r.service_state_sel(t.service_state_sel)?;
        let s = self.w.open(id);
        let l = self.w.open(c(it::PROPERTY_PARMS));
        for ip in &t.props {
            self.ind_aud_property_parm(ip)?;
        }
        self.w.close(l);
        if t.event_buffer_control {
            self.w.null(p(it::EVENT_BUFFER_CONTROL));
        }
        if t.service_state {
            self.w.null(p(it::SERVICE_STATE));
        }
        if let Some(st) = sel {
            self.w.int(p(it::SERVICE_STATE_SEL), st as u32);
        }
        self.w.close(s);
        Ok(())
    }

    /// An IndAudSignalsDescriptor CHOICE (its explicit tag is the caller's).
    fn ind_aud_signals_descriptor(&mut self, sp: &IndAudSignalParm) -> R {
        use tag::{ind_aud_seq_sig_list as sl, ind_aud_signals_descriptor as sd};
        match sp {
            IndAudSignalParm::Signal {
                name,
                stream,
                request_id,
            } => self.ind_aud_signal(c(sd::SIGNAL), name, *stream, *request_id),
            IndAudSignalParm::List { id, signal } => {
                let s = self.w.open(c(sd::SEQ_SIG_LIST));
                self.w.int(p(sl::ID), u32::from(*id));
                if let Some(n) = signal {
                    self.ind_aud_signal(c(sl::SIGNAL_LIST), n, None, None)?;
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
        use tag::ind_aud_signal as is;
        let n = self.r.pkgd_id(ItemKind::Signal, name)?;
        let s = self.w.open(id);
        self.w.bytes(p(is::SIGNAL_NAME), &n);
        if let Some(sid) = stream {
            self.w.int(p(is::STREAM_ID), u32::from(sid));
        }
        if let Some(rid) = request_id {
            self.w.int(p(is::SIGNAL_REQUEST_ID), rid);
        }
        self.w.close(s);
        Ok(())
    }

    fn ind_aud_statistics_descriptor(&mut self, id: u8, name: &str) -> R {
        let n = self.r.pkgd_id(ItemKind::Statistic, name)?;
        let s = self.w.open(id);
        self.w
            .bytes(p(tag::ind_aud_statistics_descriptor::STAT_NAME), &n);
        self.w.close(s);
        Ok(())
    }

    /// IndAudPackagesDescriptor / PackagesItem (the same components).
    fn packages_item(&mut self, id: u8, pk: &PackagesItem) -> R {
        use tag::packages_item as pi;
        let n = self.r.package_id(&pk.name)?;
        let s = self.w.open(id);
        self.w.bytes(p(pi::PACKAGE_NAME), &n);
        self.w.int(p(pi::PACKAGE_VERSION), u32::from(pk.version));
        self.w.close(s);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Notify, events.

    fn notify_request(&mut self, id: u8, n: &NotifyRequest) -> R {
        use tag::{notify_request as nq, observed_events_descriptor as od};
        let s = self.w.open(id);
        self.termination_ids(c(nq::TERMINATION_ID), &n.termination_ids)?;
        match &n.observed_events {
            Some(o) => self.within("ObservedEvents", |e| {
                e.observed_events_descriptor(c(nq::OBSERVED_EVENTS_DESCRIPTOR), o)
            })?,
            // ObservedEvents is mandatory in ASN.1: none (a v1 error-only Notify) is
            // requestId 0 with an empty list.
            None => {
                let o = self.w.open(c(nq::OBSERVED_EVENTS_DESCRIPTOR));
                self.w.int(p(od::REQUEST_ID), 0);
                self.w.null(c(od::OBSERVED_EVENT_LST)); // an empty SEQUENCE OF
                self.w.close(o);
            }
        }
        if let Some(ed) = &n.error {
            self.error_descriptor(c(nq::ERROR_DESCRIPTOR), ed)?;
        }
        self.w.close(s);
        Ok(())
    }

    fn observed_events_descriptor(&mut self, id: u8, o: &ObservedEventsDescriptor) -> R {
        use tag::{observed_event as oe, observed_events_descriptor as od};
        let s = self.w.open(id);
        self.w.int(p(od::REQUEST_ID), o.request_id);
        let l = self.w.open(c(od::OBSERVED_EVENT_LST));
        for ev in &o.events {
            at(
                self,
                || format!("event '{}'", ev.name),
                |e| {
                    e.event_spec(
                        tag::SEQUENCE,
                        &ev.name,
                        ev.stream,
                        &ev.params,
                        |e| match &ev.timestamp {
                            Some(t) => e.time_notation(c(oe::TIME_NOTATION), t),
                            None => Ok(()),
                        },
                    )
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
        use tag::observed_event as oe;
        let n = self.r.pkgd_id(ItemKind::Event, name)?;
        let s = self.w.open(id);
        self.w.bytes(p(oe::EVENT_NAME), &n);
        if let Some(sid) = stream {
            self.w.int(p(oe::STREAM_ID), u32::from(sid));
        }
        self.parameters(c(oe::EVENT_PAR_LIST), ItemKind::Event, name, params)?;
        tail(self)?;
        self.w.close(s);
        Ok(())
    }

    /// `SEQUENCE OF EventParameter` / `SEQUENCE OF SigParameter` of event/signal `item`.
    fn parameters(&mut self, id: u8, kind: ItemKind, item: &str, ps: &[PropertyParm]) -> R {
        use tag::event_parameter as ep;
        let l = self.w.open(id);
        for pp in ps {
            let n = self.r.param_id(kind, item, &pp.name)?;
            let s = self.w.open(tag::SEQUENCE);
            self.w.bytes(p(ep::NAME), &n);
            self.w.values(c(ep::VALUE), &pp.value);
            if let Some(x) = pp.extra {
                self.extra_info(c(ep::EXTRA_INFO), x);
            }
            self.w.close(s);
        }
        self.w.close(l);
        Ok(())
    }

    /// An ExtraInfo CHOICE inside its explicit tag `id`.
    fn extra_info(&mut self, id: u8, x: ExtraInfo) {
        use tag::extra_info as xi;
        let s = self.w.open(id);
        match extra_info(x) {
            asn::ExtraInfo::Relation(r) => self.w.int(p(xi::RELATION), r as u32),
            asn::ExtraInfo::Range(b) => self.w.boolean(p(xi::RANGE), b),
            asn::ExtraInfo::Sublist(b) => self.w.boolean(p(xi::SUBLIST), b),
        }
        self.w.close(s);
    }

    // ---------------------------------------------------------------------------------------
    // ServiceChange.

    fn service_change_parm(&mut self, id: u8, sc: &ServiceChangeParm) -> R {
        use tag::{non_standard_data as nd, service_change_parm as sp};
        // map::Enc checks the method and the extensions first.
        let method = self.r.sc_method(&sc.method)?;
        let extensions = self.r.sc_extensions_data(&sc.extensions)?;
        let s = self.w.open(id);
        self.w.int(p(sp::SERVICE_CHANGE_METHOD), method as u32);
        if let Some(a) = &sc.address {
            let x = self.w.open(c(sp::SERVICE_CHANGE_ADDRESS));
            self.service_change_address(a)?;
            self.w.close(x);
        }
        if let Some(v) = sc.version {
            self.w.int(p(sp::SERVICE_CHANGE_VERSION), u32::from(v));
        }
        if let Some(pr) = &sc.profile {
            self.service_change_profile(c(sp::SERVICE_CHANGE_PROFILE), pr)?;
        }
        let r = self.w.open(c(sp::SERVICE_CHANGE_REASON));
        if let Some(reason) = &sc.reason {
            self.w.bytes(tag::OCTET_STRING, reason.as_bytes());
        }
        self.w.close(r);
        if let Some(d) = sc.delay {
            self.w.int(p(sp::SERVICE_CHANGE_DELAY), d);
        }
        if let Some(m) = &sc.mgc_id {
            let x = self.w.open(c(sp::SERVICE_CHANGE_MGC_ID));
            self.mid(m, &tag::m_id::ALTERNATIVES)?;
            self.w.close(x);
        }
        if let Some(t) = &sc.timestamp {
            self.time_notation(c(sp::TIME_STAMP), t)?;
        }
        if let Some(data) = extensions {
            let x = self.w.open(c(sp::NON_STANDARD_DATA));
            let i = self.w.open(c(nd::NON_STANDARD_IDENTIFIER));
            self.w.bytes(
                p(tag::non_standard_identifier::EXPERIMENTAL),
                SC_EXTENSIONS_ID.as_bytes(),
            );
            self.w.close(i);
            self.w.bytes(p(nd::DATA), data.as_bytes());
            self.w.close(x);
        }
        if let Some(a) = &sc.info {
            self.audit_descriptor(c(sp::SERVICE_CHANGE_INFO), a)?;
        }
        if sc.incomplete {
            self.w.null(p(sp::SERVICE_CHANGE_INCOMPLETE_FLAG));
        }
        self.w.close(s);
        Ok(())
    }

    /// A ServiceChangeAddress CHOICE (its explicit tag is the caller's).
    fn service_change_address(&mut self, a: &ServiceChangeAddress) -> R {
        use tag::service_change_address as sa;
        match a {
            ServiceChangeAddress::Port(port) => {
                self.w.int(p(sa::PORT_NUMBER), u32::from(*port));
                Ok(())
            }
            ServiceChangeAddress::MId(m) => self.mid(m, &sa::ALTERNATIVES),
        }
    }

    fn service_change_res_parm(&mut self, id: u8, rp: &ServiceChangeResParm) -> R {
        use tag::service_change_res_parm as sr;
        let s = self.w.open(id);
        if let Some(m) = &rp.mgc_id {
            let x = self.w.open(c(sr::SERVICE_CHANGE_MGC_ID));
            self.mid(m, &tag::m_id::ALTERNATIVES)?;
            self.w.close(x);
        }
        if let Some(a) = &rp.address {
            let x = self.w.open(c(sr::SERVICE_CHANGE_ADDRESS));
            self.service_change_address(a)?;
            self.w.close(x);
        }
        if let Some(v) = rp.version {
            self.w.int(p(sr::SERVICE_CHANGE_VERSION), u32::from(v));
        }
        if let Some(pr) = &rp.profile {
            self.service_change_profile(c(sr::SERVICE_CHANGE_PROFILE), pr)?;
        }
        if let Some(t) = &rp.timestamp {
            self.time_notation(c(sr::TIMESTAMP), t)?;
        }
        self.w.close(s);
        Ok(())
    }

    fn service_change_profile(&mut self, id: u8, pr: &ServiceChangeProfile) -> R {
        let text = self.r.profile_text(pr)?;
        let s = self.w.open(id);
        self.w.bytes(
            p(tag::service_change_profile::PROFILE_NAME),
            text.as_bytes(),
        );
        self.w.close(s);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Terminations, media.

    fn termination_id(&mut self, id: u8, t: &TerminationId) -> R {
        use tag::termination_id as ti;
        let o = self.r.tid_octets(t)?;
        let s = self.w.open(id);
        let l = self.w.open(c(ti::WILDCARD));
        for &w in o.wildcard() {
            self.w.bytes(tag::OCTET_STRING, &[w]);
        }
        self.w.close(l);
        self.w.bytes(p(ti::ID), o.id());
        self.w.close(s);
        Ok(())
    }

    /// `TerminationIDList ::= SEQUENCE OF TerminationID`.
    fn termination_ids(&mut self, id: u8, ts: &[TerminationId]) -> R {
        let l = self.w.open(id);
        for t in ts {
            self.termination_id(tag::SEQUENCE, t)?;
        }
        self.w.close(l);
        Ok(())
    }

    fn media_descriptor(&mut self, id: u8, m: &MediaDescriptor) -> R {
        use tag::{media_descriptor as md, stream_descriptor as sd, streams as st};
        let s = self.w.open(id);
        if let Some(t) = &m.termination_state {
            self.within("TerminationState", |e| {
                e.termination_state_descriptor(c(md::TERM_STATE_DESCR), t)
            })?;
        }
        match &m.streams {
            None => {}
            Some(Streams::One(sp)) => {
                let x = self.w.open(c(md::STREAMS));
                self.stream_parms(c(st::ONE_STREAM), sp)?;
                self.w.close(x);
            }
            Some(Streams::Multi(v)) => {
                let x = self.w.open(c(md::STREAMS));
                let l = self.w.open(c(st::MULTI_STREAM));
                for sdesc in v {
                    at(
                        self,
                        || format!("Stream {}", sdesc.id),
                        |e| {
                            let d = e.w.open(tag::SEQUENCE);
                            e.w.int(p(sd::STREAM_ID), u32::from(sdesc.id));
                            e.stream_parms(c(sd::STREAM_PARMS), &sdesc.parms)?;
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
        use tag::stream_parms as sq;
        let s = self.w.open(id);
        if let Some(lc) = &sp.local_control {
            self.within("LocalControl", |e| {
                e.local_control_descriptor(c(sq::LOCAL_CONTROL_DESCRIPTOR), lc)
            })?;
        }
        if let Some(l) = &sp.local {
            self.within("Local", |e| {
                e.local_remote_descriptor(c(sq::LOCAL_DESCRIPTOR), l)
            })?;
        }
        if let Some(l) = &sp.remote {
            self.within("Remote", |e| {
                e.local_remote_descriptor(c(sq::REMOTE_DESCRIPTOR), l)
            })?;
        }
        if let Some(st) = &sp.statistics {
            self.within("Statistics", |e| {
                e.statistics_descriptor(c(sq::STATISTICS_DESCRIPTOR), st)
            })?;
        }
        self.w.close(s);
        Ok(())
    }

    fn local_control_descriptor(&mut self, id: u8, lc: &LocalControlDescriptor) -> R {
        use tag::local_control_descriptor as lq;
        let s = self.w.open(id);
        if let Some(m) = lc.mode {
            self.w.int(p(lq::STREAM_MODE), stream_mode(m) as u32);
        }
        if let Some(b) = lc.reserve_value {
            self.w.boolean(p(lq::RESERVE_VALUE), b);
        }
        if let Some(b) = lc.reserve_group {
            self.w.boolean(p(lq::RESERVE_GROUP), b);
        }
        self.property_parms(c(lq::PROPERTY_PARMS), &lc.props)?;
        self.w.close(s);
        Ok(())
    }

    /// `SEQUENCE OF PropertyParm` (a PropertyGroup, the propertyParms of a descriptor).
    fn property_parms(&mut self, id: u8, ps: &[PropertyParm]) -> R {
        let l = self.w.open(id);
        for pp in ps {
            let n = self.r.pkgd_id(ItemKind::Property, &pp.name)?;
            self.property_parm_named(tag::SEQUENCE, n, pp);
        }
        self.w.close(l);
        Ok(())
    }

    /// A PropertyParm whose name's PkgdName `name` is looked up.
    fn property_parm_named(&mut self, id: u8, name: [u8; 4], pp: &PropertyParm) {
        use tag::property_parm as pm;
        let s = self.w.open(id);
        self.w.bytes(p(pm::NAME), &name);
        self.w.values(c(pm::VALUE), &pp.value);
        if let Some(x) = pp.extra {
            self.extra_info(c(pm::EXTRA_INFO), x);
        }
        self.w.close(s);
    }

    /// SDP: each line a PropertyParm of package 0x0000 with its Annex C tag, groups 1:1.
    fn local_remote_descriptor(&mut self, id: u8, l: &LocalRemoteDescriptor) -> R {
        let s = self.w.open(id);
        let g = self.w.open(c(tag::local_remote_descriptor::PROP_GRPS));
        for grp in &l.groups {
            self.property_parms(tag::SEQUENCE, grp)?;
        }
        self.w.close(g);
        self.w.close(s);
        Ok(())
    }

    fn termination_state_descriptor(&mut self, id: u8, t: &TerminationStateDescriptor) -> R {
        use tag::termination_state_descriptor as ts;
        let s = self.w.open(id);
        self.property_parms(c(ts::PROPERTY_PARMS), &t.props)?;
        if let Some(ebc) = t.event_buffer_control {
            self.w.int(
                p(ts::EVENT_BUFFER_CONTROL),
                event_buffer_control(ebc) as u32,
            );
        }
        if let Some(st) = t.service_state {
            self.w.int(p(ts::SERVICE_STATE), service_state(st) as u32);
        }
        self.w.close(s);
        Ok(())
    }

    fn mux_descriptor(&mut self, id: u8, m: &MuxDescriptor) -> R {
        use tag::mux_descriptor as mx;
        let s = self.w.open(id);
        self.w.int(p(mx::MUX_TYPE), mux_type(m.mux_type) as u32);
        self.termination_ids(c(mx::TERM_LIST), &m.termination_ids)?;
        self.w.close(s);
        Ok(())
    }

    /// EventsDescriptor, or SecondEventsDescriptor (`second`: embedded events).
    fn events_descriptor(&mut self, id: u8, ev: &EventsDescriptor, second: bool) -> R {
        use tag::events_descriptor as ed;
        let s = self.w.open(id);
        if let Some(rid) = ev.request_id {
            self.w.int(p(ed::REQUEST_ID), rid);
        }
        let l = self.w.open(c(ed::EVENT_LIST));
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
        use tag::requested_event as re;
        if second {
            self.r.second_event_check(r)?;
        }
        // map::Enc builds the RequestedActions before it looks the name up: an error in the
        // actions comes first.
        let name = self.r.pkgd_id(ItemKind::Event, &r.name);
        let s = self.w.open(tag::SEQUENCE);
        if let Ok(n) = &name {
            self.w.bytes(p(re::PKGD_NAME), n);
        }
        if let Some(sid) = r.stream {
            self.w.int(p(re::STREAM_ID), u32::from(sid));
        }
        if has_requested_actions(r) {
            self.requested_actions(c(re::EVENT_ACTION), r, second)?;
        }
        name?;
        self.parameters(c(re::EV_PAR_LIST), ItemKind::Event, &r.name, &r.params)?;
        self.w.close(s);
        Ok(())
    }

    /// RequestedActions, or SecondRequestedActions (`second`).
    fn requested_actions(&mut self, id: u8, r: &RequestedEvent, second: bool) -> R {
        use tag::{event_dm as dm, requested_actions as ra};
        let tail: &ActionTags = if second {
            &tag::second_requested_actions::TAIL
        } else {
            &ra::TAIL
        };
        let s = self.w.open(id);
        if r.keep_active {
            self.w.boolean(p(ra::KEEP_ACTIVE), true);
        }
        if let Some(d) = &r.digit_map {
            let x = self.w.open(c(ra::EVENT_DM));
            match self.r.event_dm(d)? {
                EventDm::Name(n) => {
                    let o = self.r.digit_map_name_id(n)?;
                    self.w.bytes(p(dm::DIGIT_MAP_NAME), &o);
                }
                EventDm::Value(v) => self.digit_map_value(c(dm::DIGIT_MAP_VALUE), v)?,
            }
            self.w.close(x);
        }
        if let Some(ev) = &r.embed_events {
            self.within("Embed Events", |e| {
                e.events_descriptor(c(ra::SECOND_EVENT), ev, true)
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
        use tag::{notify_behaviour as nt, regulated_embedded_descriptor as rd};
        let x = self.w.open(id);
        match nb {
            NotifyBehaviour::Immediate => self.w.null(p(nt::NOTIFY_IMMEDIATE)),
            NotifyBehaviour::Never => self.w.null(p(nt::NEVER_NOTIFY)),
            NotifyBehaviour::Regulated { events, signals } => {
                let s = self.w.open(c(nt::NOTIFY_REGULATED));
                if let Some(ev) = events {
                    self.within("RegulatedNotify Events", |e| {
                        e.events_descriptor(c(rd::SECOND_EVENT), ev, true)
                    })?;
                }
                if let Some(sg) = signals {
                    self.within("RegulatedNotify Signals", |e| {
                        e.signals_descriptor(c(rd::SIGNALS_DESCRIPTOR), sg)
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
                |e| e.event_spec(tag::SEQUENCE, &sp.name, sp.stream, &sp.params, |_| Ok(())),
            )?;
        }
        self.w.close(l);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Signals.

    /// `SignalsDescriptor ::= SEQUENCE OF SignalRequest`.
    fn signals_descriptor(&mut self, id: u8, items: &[SignalsItem]) -> R {
        use tag::{seq_sig_list as sl, signal_request as sr};
        let l = self.w.open(id);
        for item in items {
            match item {
                SignalsItem::Signal(sig) => self.signal(c(sr::SIGNAL), sig)?,
                SignalsItem::List {
                    id: list_id,
                    signals,
                } => at(
                    self,
                    || format!("SignalList {list_id}"),
                    |e| {
                        let s = e.w.open(c(sr::SEQ_SIG_LIST));
                        e.w.int(p(sl::ID), u32::from(*list_id));
                        let list = e.w.open(c(sl::SIGNAL_LIST));
                        for sig in signals {
                            e.signal(tag::SEQUENCE, sig)?;
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
        use tag::signal as sg;
        at(
            self,
            || format!("signal '{}'", sig.name),
            |e| {
                let n = e.r.pkgd_id(ItemKind::Signal, &sig.name)?;
                let s = e.w.open(id);
                e.w.bytes(p(sg::SIGNAL_NAME), &n);
                if let Some(sid) = sig.stream {
                    e.w.int(p(sg::STREAM_ID), u32::from(sid));
                }
                if let Some(t) = sig.signal_type {
                    e.w.int(p(sg::SIG_TYPE), signal_type(t) as u32);
                }
                if let Some(d) = sig.duration {
                    e.w.int(p(sg::DURATION), u32::from(d));
                }
                if let Some(nc) = &sig.notify_completion {
                    let bits = named_bit_mask(nc.iter().map(|&n| completion_bit(n)));
                    e.w.bits(p(sg::NOTIFY_COMPLETION), bits);
                }
                if sig.keep_active {
                    e.w.boolean(p(sg::KEEP_ACTIVE), true);
                }
                e.parameters(
                    c(sg::SIG_PAR_LIST),
                    ItemKind::Signal,
                    &sig.name,
                    &sig.params,
                )?;
                if let Some(d) = sig.direction {
                    e.w.int(p(sg::DIRECTION), signal_direction(d) as u32);
                }
                if let Some(rid) = sig.request_id {
                    e.w.int(p(sg::REQUEST_ID), rid);
                }
                if let Some(d) = sig.intersig_delay {
                    e.w.int(p(sg::INTERSIG_DELAY), u32::from(d));
                }
                e.w.close(s);
                Ok(())
            },
        )
    }

    // ---------------------------------------------------------------------------------------
    // Modem, digit maps.

    fn modem_descriptor(&mut self, id: u8, m: &ModemDescriptor) -> R {
        use tag::modem_descriptor as md;
        let s = self.w.open(id);
        let l = self.w.open(c(md::MTL));
        for t in &m.types {
            let mt = self.r.modem_type(t)?;
            self.w.int(tag::ENUMERATED, mt as u32);
        }
        self.w.close(l);
        self.property_parms(c(md::MPL), &m.props)?;
        self.w.close(s);
        Ok(())
    }

    fn digit_map_descriptor(&mut self, id: u8, d: &DigitMapDescriptor) -> R {
        use tag::digit_map_descriptor as dd;
        let s = self.w.open(id);
        if let Some(n) = &d.name {
            let o = self.r.digit_map_name_id(n)?;
            self.w.bytes(p(dd::DIGIT_MAP_NAME), &o);
        }
        if let Some(v) = &d.value {
            self.digit_map_value(c(dd::DIGIT_MAP_VALUE), v)?;
        }
        self.w.close(s);
        Ok(())
    }

    fn digit_map_value(&mut self, id: u8, v: &DigitMapValue) -> R {
        use tag::digit_map_value as dv;
        let body = self.r.ia5_octets("digit map body", &v.body)?;
        let s = self.w.open(id);
        for (t, timer) in [
            (dv::START_TIMER, v.start_timer),
            (dv::SHORT_TIMER, v.short_timer),
            (dv::LONG_TIMER, v.long_timer),
        ] {
            if let Some(timer) = timer {
                self.w.int(p(t), u32::from(timer));
            }
        }
        self.w.bytes(p(dv::DIGIT_MAP_BODY), body);
        if let Some(timer) = v.duration_timer {
            self.w.int(p(dv::DURATION_TIMER), u32::from(timer));
        }
        self.w.close(s);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Statistics, time.

    /// `StatisticsDescriptor ::= SEQUENCE OF StatisticsParameter`.
    fn statistics_descriptor(&mut self, id: u8, st: &[StatisticsParameter]) -> R {
        use tag::statistics_parameter as sp;
        let l = self.w.open(id);
        for sparm in st {
            let n = self.r.pkgd_id(ItemKind::Statistic, &sparm.name)?;
            let s = self.w.open(tag::SEQUENCE);
            self.w.bytes(p(sp::STAT_NAME), &n);
            if let Some(v) = &sparm.value {
                self.w.values(c(sp::STAT_VALUE), v);
            }
            self.w.close(s);
        }
        self.w.close(l);
        Ok(())
    }

    fn time_notation(&mut self, id: u8, t: &TimeNotation) -> R {
        use tag::time_notation as tn;
        let date = self.r.ia5_octets("time stamp date", &t.date)?;
        let time = self.r.ia5_octets("time stamp time", &t.time)?;
        let s = self.w.open(id);
        self.w.bytes(p(tn::DATE), date);
        self.w.bytes(p(tn::TIME), time);
        self.w.close(s);
        Ok(())
    }
}
