//! The H.248.1 version 3 message model.
//!
//! One typed model for every message either encoding (text, Annex B; binary, Annex A) carries.
//! Its shape follows the ASN.1 module `MEDIA-GATEWAY-CONTROL version3` closely, so that the binary
//! codec maps each type one to one; where the text encoding has a form the ASN.1 lacks (e.g. the
//! five topology directions, which ASN.1 splits in two fields) the model keeps the richer form and
//! the binary codec maps it.
//!
//! Normalisation done by the decoders (H.248.1 Annex B: "identifiers are not case sensitive"):
//! package/item names, termination IDs, domain and device names and unquoted values are held in
//! lower case. Quoted strings keep their case; SDP lines keep everything.

use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A name or value in the model. Held inline up to 24 bytes, which covers nearly every package,
/// property and termination name and most SDP values, so a decoder does not allocate for each
/// (the allocator was 40% of the text decoder's work with `String`). Derefs to `str` and
/// compares with `&str`; build one with `.into()` or [`Text::from`].
pub type Text = compact_str::CompactString;

/// The values of a property: one inline, more on the heap (the common case is one).
pub type Values = smallvec::SmallVec<[Text; 1]>;

/// The termination IDs of a command or reply: one inline, more on the heap. Nearly every
/// command names one termination, and a `Vec` made that one a heap allocation per command
/// (a quarter of a decoded message's allocations). Derefs to a slice; build one with
/// `[id].into()` or `collect()`; serialises as a sequence, like a `Vec`.
pub type TermIds = smallvec::SmallVec<[TerminationId; 1]>;

/// The transactions of a message: one inline (the usual message), more on the heap. As
/// [`TermIds`]. (Actions and commands stay `Vec`s: held inline, their 100-180-byte
/// elements made every move of a transaction dearer than the allocation they save.)
pub type Transactions = smallvec::SmallVec<[Transaction; 1]>;

/// `s` in ASCII lower case as [`Text`] (the decoders' normalisation of names and tokens).
pub fn lower(s: &str) -> Text {
    // Most names arrive in lower case already; copying them as they are skips the in-place
    // rewrite (which has to make the string's storage mutable first).
    if !has_ascii_uppercase(s.as_bytes()) {
        return Text::from(s);
    }
    let mut t = Text::from(s);
    t.make_ascii_lowercase();
    t
}

/// Does `b` hold an ASCII upper-case letter? Eight octets at a time: for each octet `x` below
/// 0x80, `x + 0x3F` has its top bit set iff `x >= b'A'` and `x + 0x25` iff `x > b'Z'` (no carry
/// crosses octets, the sums stay below 0x100), so the test costs a few operations per eight
/// octets instead of a compare per octet (every decoded name and termination ID goes through
/// [`lower`]).
fn has_ascii_uppercase(b: &[u8]) -> bool {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let upper = |x: u64| {
        let ge_a = (x & LOW7) + 0x3F3F_3F3F_3F3F_3F3F;
        let gt_z = (x & LOW7) + 0x2525_2525_2525_2525;
        ge_a & !gt_z & !x & HIGH != 0
    };
    let n = b.len();
    // The octets left over by the eight-octet pieces are read in one more test, not a loop:
    // the last eight octets (overlapping the pieces) of a name of eight or more; the first and
    // last four of one of four to seven; the first, middle and last of a shorter one (most
    // names and termination IDs are shorter than eight octets).
    let last = if let Some(l) = n.checked_sub(8).and_then(|i| b.get(i..)) {
        let chunks = b.chunks_exact(8);
        for c in chunks {
            if c.try_into().is_ok_and(|c| upper(u64::from_le_bytes(c))) {
                return true;
            }
        }
        l.try_into().map_or(0, u64::from_le_bytes)
    } else if let (Some(lo), Some(hi)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        u64::from(u32::from_le_bytes(*lo)) | u64::from(u32::from_le_bytes(*hi)) << 32
    } else if let (Some(&f), Some(&m), Some(&l)) = (b.first(), b.get(n / 2), b.last()) {
        u64::from(f) | u64::from(m) << 8 | u64::from(l) << 16
    } else {
        0
    };
    upper(last)
}

/// One value.
pub fn one_value(v: impl Into<Text>) -> Values {
    Values::from_buf([v.into()])
}

/// A whole H.248 message: optional authentication header, version, sender identity and body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Annex H authentication header (text `Authentication = 0x..:0x..:0x..`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthHeader>,
    /// Protocol version from the header (`MEGACO/3` = 3). Kept as received.
    pub version: u8,
    /// Message identifier of the sender.
    pub mid: MId,
    /// Either a message-level error or a list of transactions.
    pub body: MessageBody,
}

/// Annex H authentication header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthHeader {
    /// Security parameter index (32 bits).
    pub spi: u32,
    /// Sequence number (32 bits).
    pub seq_num: u32,
    /// Authentication data (12 to 32 octets).
    pub data: Vec<u8>,
}

/// Message identifier (mId) of the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MId {
    /// `[192.0.2.1]:2944`
    Ip4 {
        /// Address.
        addr: Ipv4Addr,
        /// Port, if given.
        port: Option<u16>,
    },
    /// `[2001:db8::1]:2944`
    Ip6 {
        /// Address.
        addr: Ipv6Addr,
        /// Port, if given.
        port: Option<u16>,
    },
    /// `<mg1.example.net>:2944`
    Domain {
        /// Domain name (lower case).
        name: Text,
        /// Port, if given.
        port: Option<u16>,
    },
    /// A device name (`pathNAME`), e.g. `mg/device1`.
    Device(Text),
    /// `MTP{0A1B}`: an MTP point code, kept as its hex digits (lower case).
    Mtp(Text),
}

/// Body of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageBody {
    /// The whole message failed (e.g. 400 syntax error).
    Error(ErrorDescriptor),
    /// One or more transactions.
    Transactions(Transactions),
}

/// One transaction item of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transaction {
    /// `Transaction = id { ... }`
    Request(TransactionRequest),
    /// `Pending = id { }`
    Pending(TransactionId),
    /// `Reply = id { ... }`
    Reply(TransactionReply),
    /// `TransactionResponseAck { 1, 3-5 }`
    ResponseAck(Vec<TransactionAck>),
    /// v3 `Segment = id/n[/END]`
    SegmentReply(SegmentReply),
}

/// 32-bit transaction identifier.
pub type TransactionId = u32;

/// A transaction request: the actions, each on one context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRequest {
    /// Transaction identifier.
    pub id: TransactionId,
    /// Actions, in order.
    pub actions: Vec<ActionRequest>,
}

/// A transaction reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionReply {
    /// Transaction identifier.
    pub id: TransactionId,
    /// `ImmAckRequired`: the requester must send a TransactionResponseAck at once.
    #[serde(default)]
    pub imm_ack_required: bool,
    /// Error for the whole transaction, or the action replies.
    pub result: TransactionResult,
    /// v3 segmentation: segment number of this reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_number: Option<u16>,
    /// v3 segmentation: this is the last segment.
    #[serde(default)]
    pub segmentation_complete: bool,
}

/// Result of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionResult {
    /// The transaction failed as a whole.
    Error(ErrorDescriptor),
    /// One reply per action.
    Actions(Vec<ActionReply>),
}

/// One acknowledged transaction or range of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAck {
    /// First (or only) acknowledged transaction.
    pub first: TransactionId,
    /// Last transaction of a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<TransactionId>,
}

/// v3 segment reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentReply {
    /// Transaction whose segment is acknowledged.
    pub id: TransactionId,
    /// Segment number.
    pub segment_number: u16,
    /// The last segment.
    #[serde(default)]
    pub segmentation_complete: bool,
}

/// Error descriptor: code and optional text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDescriptor {
    /// Error code (H.248.8), 0..=999 in text.
    pub code: u16,
    /// Explanatory text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Context identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextId {
    /// `-`: the NULL context (binary 0).
    Null,
    /// `$`: the MG chooses (binary 0xFFFFFFFE).
    Choose,
    /// `*`: all contexts (binary 0xFFFFFFFF).
    All,
    /// A specific context, 1..=0xFFFFFFFD.
    Id(u32),
}

/// One action: a context, its properties and audit request, and commands on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// Context.
    pub context: ContextId,
    /// Context properties to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_request: Option<ContextRequest>,
    /// Context attributes to audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_audit: Option<ContextAttrAuditRequest>,
    /// Commands, in order.
    pub commands: Vec<CommandRequest>,
}

/// Context properties (in requests and replies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextRequest {
    /// `Priority = 0..15`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
    /// `Emergency` (true) or `EmergencyOff` (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<bool>,
    /// `Topology { ... }` triples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology: Vec<TopologyRequest>,
    /// v3 `IEPSCall = ON|OFF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ieps_call: Option<bool>,
    /// v3 `ContextAttr { props }`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<PropertyParm>,
    /// v3 `ContextAttr { ContextList = { ids } }`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_list: Vec<ContextId>,
}

impl ContextRequest {
    /// True when no property is set.
    pub fn is_empty(&self) -> bool {
        *self == ContextRequest::default()
    }
}

/// One topology triple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopologyRequest {
    /// From termination.
    pub from: TerminationId,
    /// To termination.
    pub to: TerminationId,
    /// Direction.
    pub direction: TopologyDirection,
    /// v3 stream the triple applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<u16>,
}

/// Topology direction (text tokens; ASN.1 splits the v3 extension into a second field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopologyDirection {
    /// `Bothway`
    Bothway,
    /// `Isolate`
    Isolate,
    /// `Oneway`
    Oneway,
    /// v3 `OnewayExternal`
    OnewayExternal,
    /// v3 `OnewayBoth`
    OnewayBoth,
}

/// v3 `ContextAudit { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextAttrAuditRequest {
    /// Audit the topology.
    #[serde(default)]
    pub topology: bool,
    /// Audit the emergency indicator.
    #[serde(default)]
    pub emergency: bool,
    /// Audit the priority.
    #[serde(default)]
    pub priority: bool,
    /// Audit the IEPS call indicator.
    #[serde(default)]
    pub ieps_call: bool,
    /// Context attribute properties to audit (names only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<PkgdName>,
    /// Selection by priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_priority: Option<u16>,
    /// Selection by emergency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_emergency: Option<bool>,
    /// Selection by IEPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_ieps: Option<bool>,
    /// Selection by context attribute values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select_props: Vec<PropertyParm>,
    /// AND / OR selection logic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_logic: Option<SelectLogic>,
}

/// Audit selection logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectLogic {
    /// `AND_LOGIC`
    And,
    /// `OR_LOGIC`
    Or,
}

/// One command of an action, with its `O-` (optional) and `W-` (wildcard return) flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRequest {
    /// The command.
    pub command: Command,
    /// `O-`: failure of this command does not stop the rest.
    #[serde(default)]
    pub optional: bool,
    /// `W-`: reply with a single wildcarded response.
    #[serde(default)]
    pub wildcard_return: bool,
}

/// Commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Add.
    Add(AmmRequest),
    /// Move.
    Move(AmmRequest),
    /// Modify.
    Modify(AmmRequest),
    /// Subtract.
    Subtract(SubtractRequest),
    /// AuditCapabilities.
    AuditCapabilities(AuditRequest),
    /// AuditValue.
    AuditValue(AuditRequest),
    /// Notify.
    Notify(NotifyRequest),
    /// ServiceChange.
    ServiceChange(ServiceChangeRequest),
}

impl Command {
    /// The long text token naming this command.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Add(_) => "Add",
            Command::Move(_) => "Move",
            Command::Modify(_) => "Modify",
            Command::Subtract(_) => "Subtract",
            Command::AuditCapabilities(_) => "AuditCapability",
            Command::AuditValue(_) => "AuditValue",
            Command::Notify(_) => "Notify",
            Command::ServiceChange(_) => "ServiceChange",
        }
    }
}

/// A termination identifier as text: `ROOT` is `root`; `$` and `*` may appear as wildcards in any
/// path segment (`ip/acc/$`, `a/*`). Held in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TerminationId(pub Text);

impl TerminationId {
    /// The ROOT termination.
    pub fn root() -> Self {
        TerminationId("root".into())
    }
    /// Build from text, normalising case.
    pub fn new(s: &str) -> Self {
        TerminationId(lower(s))
    }
    /// Is this ROOT?
    pub fn is_root(&self) -> bool {
        self.0 == "root"
    }
    /// Does this contain a CHOOSE (`$`) or ALL (`*`) wildcard?
    pub fn is_wildcard(&self) -> bool {
        self.0.contains(['$', '*'])
    }
    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `pkg/item` name (either part may be `*`), or an SDP line type in Local/Remote. Lower case.
pub type PkgdName = Text;

/// Add, Move and Modify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmmRequest {
    /// Terminations.
    pub termination_ids: TermIds,
    /// Descriptors, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descriptors: Vec<AmmDescriptor>,
}

/// Descriptors allowed in Add/Move/Modify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmmDescriptor {
    /// Media.
    Media(MediaDescriptor),
    /// Modem (deprecated by H.248.1 Corr.1, still parsed).
    Modem(ModemDescriptor),
    /// Mux.
    Mux(MuxDescriptor),
    /// Events.
    Events(EventsDescriptor),
    /// EventBuffer.
    EventBuffer(Vec<EventSpec>),
    /// Signals.
    Signals(Vec<SignalsItem>),
    /// DigitMap.
    DigitMap(DigitMapDescriptor),
    /// Audit.
    Audit(AuditDescriptor),
    /// Statistics.
    Statistics(Vec<StatisticsParameter>),
}

/// Subtract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtractRequest {
    /// Terminations.
    pub termination_ids: TermIds,
    /// `Audit { }` selects what the reply returns (empty = no statistics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditDescriptor>,
}

/// AuditValue and AuditCapabilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRequest {
    /// Terminations.
    pub termination_ids: TermIds,
    /// What to audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditDescriptor>,
}

/// Notify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyRequest {
    /// Terminations.
    pub termination_ids: TermIds,
    /// Observed events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_events: Option<ObservedEventsDescriptor>,
    /// Error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDescriptor>,
}

/// ServiceChange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceChangeRequest {
    /// Terminations (ROOT for the whole MG).
    pub termination_ids: TermIds,
    /// Parameters. Boxed: they are most of a ServiceChange's size (280 of 304 bytes), and
    /// inline they made every [`Command`] that size, which the codecs and daemons move around
    /// for each Add, Modify and Subtract.
    pub parms: Box<ServiceChangeParm>,
}

/// ServiceChange parameters (`Services { ... }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceChangeParm {
    /// Method.
    pub method: ServiceChangeMethod,
    /// `ServiceChangeAddress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<ServiceChangeAddress>,
    /// `Version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
    /// `Profile = name/version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ServiceChangeProfile>,
    /// `Reason = "901 Cold Boot"`: the reason code and optional text, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `Delay` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<u32>,
    /// `MgcIdToTry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mgc_id: Option<MId>,
    /// Time stamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimeNotation>,
    /// Extension parameters (`X-name = value`, `X+name = value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<PropertyParm>,
    /// v2 service change info: audit items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<AuditDescriptor>,
    /// v3 `ServiceChangeInc`: the service change is incomplete.
    #[serde(default)]
    pub incomplete: bool,
}

/// ServiceChange method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceChangeMethod {
    /// `Failover`
    Failover,
    /// `Forced`
    Forced,
    /// `Graceful`
    Graceful,
    /// `Restart`
    Restart,
    /// `Disconnected`
    Disconnected,
    /// `HandOff`
    HandOff,
    /// An extension method (`X-...`), lower case.
    Extension(String),
}

/// `ServiceChangeAddress`: an mId or just a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceChangeAddress {
    /// An address.
    MId(MId),
    /// A port number.
    Port(u16),
}

/// `Profile = name/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceChangeProfile {
    /// Profile name (lower case).
    pub name: String,
    /// Profile version.
    pub version: u8,
}

/// Reply parameters of ServiceChange.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceChangeResParm {
    /// `MgcIdToTry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mgc_id: Option<MId>,
    /// `ServiceChangeAddress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<ServiceChangeAddress>,
    /// `Version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
    /// `Profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ServiceChangeProfile>,
    /// Time stamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimeNotation>,
}

/// H.248 time stamp `yyyymmddThhmmssss`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeNotation {
    /// `yyyymmdd`
    pub date: Text,
    /// `hhmmssss` (hundredths of a second)
    pub time: Text,
}

impl TimeNotation {
    /// The UTC time stamp of `unix_secs` seconds (and `hundredths`) after 1970-01-01T00:00:00Z.
    pub fn utc(unix_secs: u64, hundredths: u32) -> TimeNotation {
        let (year, month, day) = civil_from_days(unix_secs / 86_400);
        let rem = unix_secs % 86_400;
        TimeNotation {
            date: compact_str::format_compact!("{year:04}{month:02}{day:02}"),
            time: compact_str::format_compact!(
                "{:02}{:02}{:02}{:02}",
                rem / 3600,
                (rem / 60) % 60,
                rem % 60,
                hundredths.min(99)
            ),
        }
    }
}

/// (year, month, day) of the day `days` after 1970-01-01, proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// One action's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionReply {
    /// Context.
    pub context: ContextId,
    /// Error for the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDescriptor>,
    /// Context properties returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_reply: Option<ContextRequest>,
    /// Command replies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<CommandReply>,
}

/// Command replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandReply {
    /// Add.
    Add(AmmsReply),
    /// Move.
    Move(AmmsReply),
    /// Modify.
    Modify(AmmsReply),
    /// Subtract.
    Subtract(AmmsReply),
    /// AuditCapabilities.
    AuditCapabilities(AuditReply),
    /// AuditValue.
    AuditValue(AuditReply),
    /// Notify.
    Notify(NotifyReply),
    /// ServiceChange.
    ServiceChange(ServiceChangeReply),
}

impl CommandReply {
    /// The long text token naming this command.
    pub fn name(&self) -> &'static str {
        match self {
            CommandReply::Add(_) => "Add",
            CommandReply::Move(_) => "Move",
            CommandReply::Modify(_) => "Modify",
            CommandReply::Subtract(_) => "Subtract",
            CommandReply::AuditCapabilities(_) => "AuditCapability",
            CommandReply::AuditValue(_) => "AuditValue",
            CommandReply::Notify(_) => "Notify",
            CommandReply::ServiceChange(_) => "ServiceChange",
        }
    }
}

/// Reply to Add, Move, Modify, Subtract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmmsReply {
    /// Terminations.
    pub termination_ids: TermIds,
    /// Returned descriptors (e.g. the Local SDP the MG chose, statistics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<TerminationAudit>,
}

/// Reply to AuditValue / AuditCapabilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditReply {
    /// `AuditValue = Context { t1, t2 }`: the terminations in the context.
    ContextAuditResult(TermIds),
    /// `AuditValue = Context { Error = ... }`.
    Error(ErrorDescriptor),
    /// `AuditValue = t1 { descriptors }`.
    AuditResult {
        /// Terminations.
        termination_ids: TermIds,
        /// Audited descriptors.
        audit: TerminationAudit,
    },
}

/// Notify reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyReply {
    /// Terminations.
    pub termination_ids: TermIds,
    /// Error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDescriptor>,
}

/// ServiceChange reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceChangeReply {
    /// Terminations.
    pub termination_ids: TermIds,
    /// Error or parameters.
    pub result: ServiceChangeResult,
}

/// ServiceChange result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceChangeResult {
    /// Refused.
    Error(ErrorDescriptor),
    /// Accepted, with parameters (possibly none).
    Parms(ServiceChangeResParm),
}

/// Descriptors returned in command replies.
pub type TerminationAudit = Vec<AuditReturnParameter>;

/// One returned descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditReturnParameter {
    /// Error.
    Error(ErrorDescriptor),
    /// Media.
    Media(MediaDescriptor),
    /// Modem.
    Modem(ModemDescriptor),
    /// Mux.
    Mux(MuxDescriptor),
    /// Events.
    Events(EventsDescriptor),
    /// EventBuffer.
    EventBuffer(Vec<EventSpec>),
    /// Signals.
    Signals(Vec<SignalsItem>),
    /// DigitMap.
    DigitMap(DigitMapDescriptor),
    /// ObservedEvents.
    ObservedEvents(ObservedEventsDescriptor),
    /// Statistics.
    Statistics(Vec<StatisticsParameter>),
    /// Packages.
    Packages(Vec<PackagesItem>),
    /// An empty descriptor named by its token (`Media`, `Packages`, ...).
    Empty(AuditItem),
}

/// `Media { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaDescriptor {
    /// TerminationState.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_state: Option<TerminationStateDescriptor>,
    /// Stream parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<Streams>,
}

/// Streams of a Media descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Streams {
    /// The single-stream shortcut: stream parameters directly in Media.
    One(StreamParms),
    /// `Stream = n { ... }` blocks.
    Multi(Vec<StreamDescriptor>),
}

/// `Stream = id { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDescriptor {
    /// Stream ID.
    pub id: u16,
    /// Parameters.
    pub parms: StreamParms,
}

/// Parameters of one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamParms {
    /// LocalControl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_control: Option<LocalControlDescriptor>,
    /// Local (SDP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalRemoteDescriptor>,
    /// Remote (SDP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<LocalRemoteDescriptor>,
    /// Statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<Vec<StatisticsParameter>>,
}

/// `LocalControl { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalControlDescriptor {
    /// `Mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<StreamMode>,
    /// `ReservedGroup = ON|OFF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_group: Option<bool>,
    /// `ReservedValue = ON|OFF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_value: Option<bool>,
    /// Package properties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<PropertyParm>,
}

/// Stream mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamMode {
    /// `SendOnly`
    SendOnly,
    /// `ReceiveOnly`
    RecvOnly,
    /// `SendReceive`
    SendRecv,
    /// `Inactive`
    Inactive,
    /// `Loopback`
    Loopback,
}

/// Local or Remote descriptor: SDP, as property groups (one per SDP session description, each
/// starting at its `v=` line); each SDP line is a property named by its type (`v`, `c`, `m`, `a`,
/// ...) with the rest of the line as its single value. This is the H.248.1 model of SDP and the
/// shape of the binary encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRemoteDescriptor {
    /// Property groups.
    pub groups: Vec<Vec<PropertyParm>>,
}

/// `TerminationState { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationStateDescriptor {
    /// Package properties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<PropertyParm>,
    /// `Buffer = OFF|LockStep`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_buffer_control: Option<EventBufferControl>,
    /// `ServiceStates = Test|OutOfService|InService`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_state: Option<ServiceState>,
}

/// Event buffer control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventBufferControl {
    /// `Off`
    Off,
    /// `LockStep`
    LockStep,
}

/// Service state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// `Test`
    Test,
    /// `OutOfService`
    OutOfSvc,
    /// `InService`
    InSvc,
}

/// A property (or event/signal parameter): name, values and how the values relate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyParm {
    /// `pkg/item` or parameter name (lower case), or an SDP line type (kept as written).
    pub name: PkgdName,
    /// Values; one for a plain value. For SDP lines the rest of the line.
    pub value: Values,
    /// How the values are to be read; `None` = a single value with `=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<ExtraInfo>,
}

impl PropertyParm {
    /// `name = value`.
    pub fn new(name: &str, value: &str) -> Self {
        PropertyParm {
            name: lower(name),
            value: one_value(value),
            extra: None,
        }
    }
}

/// How a property's values are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraInfo {
    /// `>`, `<` or `#` with one value.
    Relation(Relation),
    /// `[a:b]` (true).
    Range(bool),
    /// `[a,b,c]` all of (true) / `{a,b,c}` one of (false).
    Sublist(bool),
}

/// Relational operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// `>`
    GreaterThan,
    /// `<`
    SmallerThan,
    /// `#`
    UnequalTo,
}

/// `Mux = type { terminations }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuxDescriptor {
    /// Mux type.
    pub mux_type: MuxType,
    /// Terminations.
    pub termination_ids: TermIds,
}

/// Mux types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MuxType {
    /// H.221
    H221,
    /// H.223
    H223,
    /// H.226
    H226,
    /// V.76
    V76,
    /// v2 Nx64K
    Nx64k,
}

/// Deprecated Modem descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModemDescriptor {
    /// Modem types (`V18`, `V34`, ...), lower case.
    pub types: Vec<String>,
    /// Properties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<PropertyParm>,
}

/// `Events = requestId { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsDescriptor {
    /// Request identifier (absent in the empty form `Events`). `*` is 0xFFFFFFFF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<u32>,
    /// Requested events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<RequestedEvent>,
}

/// A requested event with its actions and parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedEvent {
    /// Event name.
    pub name: PkgdName,
    /// `Stream = n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<u16>,
    /// `KeepActive`.
    #[serde(default)]
    pub keep_active: bool,
    /// `DigitMap = ...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digit_map: Option<DigitMapDescriptor>,
    /// `Embed { Signals {..} }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed_signals: Option<Vec<SignalsItem>>,
    /// `Embed { Events = n {..} }` (first level only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed_events: Option<Box<EventsDescriptor>>,
    /// v3 notification behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_behaviour: Option<NotifyBehaviour>,
    /// v3 `ResetEventsDescriptor`.
    #[serde(default)]
    pub reset_events: bool,
    /// Other parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<PropertyParm>,
}

impl RequestedEvent {
    /// An event with no parameters.
    pub fn new(name: &str) -> Self {
        RequestedEvent {
            name: lower(name),
            stream: None,
            keep_active: false,
            digit_map: None,
            embed_signals: None,
            embed_events: None,
            notify_behaviour: None,
            reset_events: false,
            params: Vec::new(),
        }
    }
}

/// v3 notification behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyBehaviour {
    /// `ImmediateNotify`
    Immediate,
    /// `RegulatedNotify { Embed ... }`
    Regulated {
        /// Embedded events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        events: Option<Box<EventsDescriptor>>,
        /// Embedded signals.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signals: Option<Vec<SignalsItem>>,
    },
    /// `NeverNotify`
    Never,
}

/// One entry of a Signals descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalsItem {
    /// A signal.
    Signal(Signal),
    /// `SignalList = id { signals }`.
    List {
        /// List ID.
        id: u16,
        /// Signals played in sequence.
        signals: Vec<Signal>,
    },
}

/// A signal request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// Signal name.
    pub name: PkgdName,
    /// `Stream = n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<u16>,
    /// `SignalType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal_type: Option<SignalType>,
    /// `Duration` (ms, max 65535 in text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u16>,
    /// `NotifyCompletion = { ... }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_completion: Option<Vec<NotifyCompletion>>,
    /// `KeepActive`.
    #[serde(default)]
    pub keep_active: bool,
    /// v3 `Direction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<SignalDirection>,
    /// v3 `RequestID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<u32>,
    /// v3 `Intersignal` delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intersig_delay: Option<u16>,
    /// Other parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<PropertyParm>,
}

impl Signal {
    /// A signal with no parameters.
    pub fn new(name: &str) -> Self {
        Signal {
            name: lower(name),
            stream: None,
            signal_type: None,
            duration: None,
            notify_completion: None,
            keep_active: false,
            direction: None,
            request_id: None,
            intersig_delay: None,
            params: Vec::new(),
        }
    }
}

/// Signal type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalType {
    /// `OnOff`
    OnOff,
    /// `TimeOut`
    TimeOut,
    /// `Brief`
    Brief,
}

/// Signal completion notification reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyCompletion {
    /// `TimeOut`
    OnTimeOut,
    /// `IntByEvent`
    OnInterruptByEvent,
    /// `IntBySigDescr`
    OnInterruptByNewSignalDescr,
    /// `OtherReason`
    OtherReason,
    /// v3 `Iteration`
    Iteration,
}

/// v3 signal direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalDirection {
    /// `Internal`
    Internal,
    /// `External`
    External,
    /// `Both`
    Both,
}

/// `DigitMap = name`, `DigitMap = name { value }` or `DigitMap { value }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitMapDescriptor {
    /// Name (lower case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<DigitMapValue>,
}

/// A digit map with its timers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitMapValue {
    /// `T:` start timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timer: Option<u8>,
    /// `S:` short timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_timer: Option<u8>,
    /// `L:` long timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_timer: Option<u8>,
    /// v2 `Z:` duration timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_timer: Option<u8>,
    /// The digit map body without white space (e.g. `(0|00|[1-7]xxx)`).
    pub body: String,
}

/// `ObservedEvents = requestId { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedEventsDescriptor {
    /// Request identifier the events answer.
    pub request_id: u32,
    /// Events.
    pub events: Vec<ObservedEvent>,
}

/// One observed event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedEvent {
    /// Event name.
    pub name: PkgdName,
    /// `Stream = n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<u16>,
    /// Parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<PropertyParm>,
    /// Time of detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimeNotation>,
}

/// An EventBuffer entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSpec {
    /// Event name.
    pub name: PkgdName,
    /// `Stream = n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<u16>,
    /// Parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<PropertyParm>,
}

/// One statistic: name and optional values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatisticsParameter {
    /// Statistic name.
    pub name: PkgdName,
    /// Values (`name = v` gives one; `name = [a,b]` several; none for a request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Values>,
}

/// `Packages { name-version, ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackagesItem {
    /// Package name (lower case).
    pub name: String,
    /// Version.
    pub version: u8,
}

/// `Audit { ... }`: what a command's reply should return.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDescriptor {
    /// Whole descriptors requested by token (`Media`, `Events`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<AuditItem>,
    /// v2 individual audit of properties, events, signals, ... .
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ind_aud: Vec<IndAuditParameter>,
}

/// Descriptor tokens an Audit descriptor can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditItem {
    /// `Mux`
    Mux,
    /// `Modem`
    Modem,
    /// `Media`
    Media,
    /// `Events`
    Events,
    /// `Signals`
    Signals,
    /// `DigitMap`
    DigitMap,
    /// `Statistics`
    Statistics,
    /// `ObservedEvents`
    ObservedEvents,
    /// `Packages`
    Packages,
    /// `EventBuffer`
    EventBuffer,
}

/// v2 individual audit parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndAuditParameter {
    /// `Media { ... }`
    Media(IndAudMediaDescriptor),
    /// `Events = id { name }` / `Events { name }`
    Events {
        /// Request ID.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<u32>,
        /// Event name.
        name: PkgdName,
    },
    /// `EventBuffer { name [ { Stream = n } ] }`
    EventBuffer {
        /// Event name.
        name: PkgdName,
        /// Stream.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stream: Option<u16>,
    },
    /// `Signals { ... }` (None = `Signals { }`).
    Signals(Option<IndAudSignalParm>),
    /// `DigitMap = name`
    DigitMap(Option<String>),
    /// `Statistics { name }`
    Statistics(PkgdName),
    /// `Packages { name-version }`
    Packages(PackagesItem),
}

/// Individual audit of a signal or signal list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndAudSignalParm {
    /// A signal (name, optional stream).
    Signal {
        /// Signal name.
        name: PkgdName,
        /// Stream.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stream: Option<u16>,
        /// v3 signal request ID.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<u32>,
    },
    /// `SignalList = id [ { signal } ]`.
    List {
        /// List ID.
        id: u16,
        /// The signal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<PkgdName>,
    },
}

/// Individual audit of media.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndAudMediaDescriptor {
    /// TerminationState items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_state: Option<IndAudTerminationState>,
    /// Stream items: the single-stream shortcut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_parms: Option<IndAudStreamParms>,
    /// Stream items per stream.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<(u16, IndAudStreamParms)>,
}

/// One property item of an individual audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndAudProp {
    /// Audit this property.
    Name(PkgdName),
    /// v3 selection: terminations whose property has this value.
    Select(PropertyParm),
}

/// Individual audit of TerminationState.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndAudTerminationState {
    /// Properties to audit (by name) or to select on (with a value), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<IndAudProp>,
    /// `Buffer`.
    #[serde(default)]
    pub event_buffer_control: bool,
    /// `ServiceStates`.
    #[serde(default)]
    pub service_state: bool,
    /// v3 `ServiceStates = x` / `ServiceStates # x` selection (bool = equal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_state_sel: Option<(bool, ServiceState)>,
}

/// Individual audit of stream parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndAudStreamParms {
    /// LocalControl items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_control: Option<IndAudLocalControl>,
    /// Local.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalRemoteDescriptor>,
    /// Remote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<LocalRemoteDescriptor>,
    /// `Statistics { name }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<PkgdName>,
}

/// Individual audit of LocalControl.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndAudLocalControl {
    /// `Mode`.
    #[serde(default)]
    pub mode: bool,
    /// v3 `Mode = x` / `Mode # x` selection (bool = equal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode_sel: Option<(bool, StreamMode)>,
    /// `ReservedValue`.
    #[serde(default)]
    pub reserve_value: bool,
    /// `ReservedGroup`.
    #[serde(default)]
    pub reserve_group: bool,
    /// Properties to audit (by name) or to select on (with a value), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<IndAudProp>,
}

// ---------------------------------------------------------------------------------------------
// Convenience views used by tools and tests.

/// What one transaction is, in a line: kind, ID and the commands it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionSummary {
    /// `Request`, `Reply`, `Pending`, `ResponseAck` or `SegmentReply`.
    pub kind: &'static str,
    /// Transaction ID (first acknowledged ID for ResponseAck).
    pub id: u32,
    /// Command names (long tokens) in order.
    pub commands: Vec<&'static str>,
}

impl Message {
    /// One summary per transaction, in order; empty for a message-level error.
    pub fn transaction_summary(&self) -> Vec<TransactionSummary> {
        let MessageBody::Transactions(ts) = &self.body else {
            return Vec::new();
        };
        ts.iter()
            .map(|t| match t {
                Transaction::Request(r) => TransactionSummary {
                    kind: "Request",
                    id: r.id,
                    commands: r
                        .actions
                        .iter()
                        .flat_map(|a| a.commands.iter().map(|c| c.command.name()))
                        .collect(),
                },
                Transaction::Reply(r) => TransactionSummary {
                    kind: "Reply",
                    id: r.id,
                    commands: match &r.result {
                        TransactionResult::Error(_) => Vec::new(),
                        TransactionResult::Actions(acts) => acts
                            .iter()
                            .flat_map(|a| a.commands.iter().map(|c| c.name()))
                            .collect(),
                    },
                },
                Transaction::Pending(id) => TransactionSummary {
                    kind: "Pending",
                    id: *id,
                    commands: Vec::new(),
                },
                Transaction::ResponseAck(acks) => TransactionSummary {
                    kind: "ResponseAck",
                    id: acks.first().map(|a| a.first).unwrap_or(0),
                    commands: Vec::new(),
                },
                Transaction::SegmentReply(s) => TransactionSummary {
                    kind: "SegmentReply",
                    id: s.id,
                    commands: Vec::new(),
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    /// The eight-octet test agrees with the octet-by-octet one for every octet at every place
    /// in words of up to 19 octets, around octets just outside `A..=Z` and above 0x7F.
    #[test]
    fn has_ascii_uppercase_matches_the_octet_test() {
        for fill in [b'a', b'@', b'[', 0x7F, 0xC1, 0xFF] {
            for len in 0..20 {
                for at in 0..len {
                    for c in 0..=255u8 {
                        let mut b = vec![fill; len];
                        b[at] = c;
                        assert_eq!(
                            super::has_ascii_uppercase(&b),
                            b.iter().any(u8::is_ascii_uppercase),
                            "{b:?}"
                        );
                    }
                }
            }
        }
    }
}
