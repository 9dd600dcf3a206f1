//! Annex B tokens: every keyword with its long (pretty) and short (compact) spelling.
//! Matching is case-insensitive; either spelling is accepted everywhere.

/// A keyword: long and short spellings (and, for a few, an older alias).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kw {
    pub long: &'static str,
    pub short: &'static str,
    pub alias: &'static str,
}

impl Kw {
    /// Does `word` spell this keyword (any case, any form)?
    ///
    /// Always inlined: the keyword is a constant at every call site, so the length tests and
    /// the byte comparisons fold into a few instructions (the parser asks this for nearly every
    /// word, often for a chain of keywords).
    #[inline(always)]
    pub(crate) fn is(&self, word: &str) -> bool {
        let w = word.as_bytes();
        eq_fold(w, self.long)
            || eq_fold(w, self.short)
            || (!self.alias.is_empty() && eq_fold(w, self.alias))
    }
    /// Spelling for the chosen style.
    pub(crate) fn get(&self, compact: bool) -> &'static str {
        if compact {
            self.short
        } else {
            self.long
        }
    }
}

/// ASCII case-insensitive equality of a word and a keyword spelling.
#[inline(always)]
fn eq_fold(w: &[u8], k: &str) -> bool {
    let k = k.as_bytes();
    w.len() == k.len() && w.iter().zip(k).all(|(a, b)| a.eq_ignore_ascii_case(b))
}

macro_rules! kws {
    ($($name:ident = $long:literal, $short:literal $(, $alias:literal)?;)*) => {
        $(pub(crate) const $name: Kw = Kw { long: $long, short: $short, alias: kws!(@a $($alias)?) };)*
    };
    (@a) => { "" };
    (@a $a:literal) => { $a };
}

kws! {
    ADD = "Add", "A";
    AND_LGC = "ANDLgc", "ANDLgc", "ANSLgc";
    AUDIT = "Audit", "AT";
    AUDIT_CAP = "AuditCapability", "AC";
    AUDIT_VALUE = "AuditValue", "AV";
    AUTH = "Authentication", "AU";
    BOTH = "Both", "B";
    BOTHWAY = "Bothway", "BW";
    BRIEF = "Brief", "BR";
    BUFFER = "Buffer", "BF";
    CONTEXT = "Context", "C";
    CONTEXT_AUDIT = "ContextAudit", "CA";
    CONTEXT_ATTR = "ContextAttr", "CT";
    CONTEXT_LIST = "ContextList", "CLT";
    DIGIT_MAP = "DigitMap", "DM";
    DIRECTION = "SPADirection", "SPADI", "Direction";
    DISCONNECTED = "Disconnected", "DC";
    DELAY = "Delay", "DL";
    DURATION = "Duration", "DR";
    EMBED = "Embed", "EM";
    EMERGENCY = "Emergency", "EG";
    EMERGENCY_OFF = "EmergencyOff", "EGO", "EmergencyOffToken";
    EMERGENCY_VALUE = "EmergencyValue", "EGV";
    ERROR = "Error", "ER";
    EVENT_BUFFER = "EventBuffer", "EB";
    EVENTS = "Events", "E";
    EXTERNAL = "External", "EX";
    FAILOVER = "Failover", "FL";
    FORCED = "Forced", "FO";
    GRACEFUL = "Graceful", "GR";
    HANDOFF = "HandOff", "HO";
    IEPS = "IEPSCall", "IEPS";
    IMM_ACK = "ImmAckRequired", "IA";
    INACTIVE = "Inactive", "IN";
    INTERNAL = "Internal", "IT";
    INTSIG_DELAY = "Intersignal", "SPAIS";
    INT_BY_EVENT = "IntByEvent", "IBE";
    INT_BY_SIG = "IntBySigDescr", "IBS";
    ISOLATE = "Isolate", "IS";
    IN_SVC = "InService", "IV";
    ITERATION = "Iteration", "IR";
    KEEP_ACTIVE = "KeepActive", "KA";
    LOCAL = "Local", "L";
    LOCAL_CONTROL = "LocalControl", "O";
    LOCKSTEP = "LockStep", "SP";
    LOOPBACK = "Loopback", "LB";
    MEDIA = "Media", "M";
    MEGACO = "MEGACO", "!";
    SEGMENT = "Segment", "SM";
    METHOD = "Method", "MT";
    MGC_ID = "MgcIdToTry", "MG";
    MODE = "Mode", "MO";
    MODIFY = "Modify", "MF";
    MODEM = "Modem", "MD";
    MOVE = "Move", "MV";
    MTP = "MTP", "MTP";
    MUX = "Mux", "MX";
    NEVER_NOTIFY = "NeverNotify", "NBNN";
    NOTIFY = "Notify", "N";
    NOTIFY_COMPLETION = "NotifyCompletion", "NC";
    NOTIFY_IMMEDIATE = "ImmediateNotify", "NBIN";
    NOTIFY_REGULATED = "RegulatedNotify", "NBRN";
    NX64K = "Nx64Kservice", "N64";
    OBSERVED_EVENTS = "ObservedEvents", "OE";
    OFF = "OFF", "OFF";
    ONEWAY = "Oneway", "OW";
    ONEWAY_BOTH = "OnewayBoth", "OWB";
    ONEWAY_EXTERNAL = "OnewayExternal", "OWE";
    ON_OFF = "OnOff", "OO";
    OR_LGC = "ORLgc", "ORLgc";
    ON = "ON", "ON";
    OTHER_REASON = "OtherReason", "OR";
    OUT_OF_SVC = "OutOfService", "OS";
    PACKAGES = "Packages", "PG";
    PENDING = "Pending", "PN";
    PRIORITY = "Priority", "PR";
    PROFILE = "Profile", "PF";
    REASON = "Reason", "RE";
    RECVONLY = "ReceiveOnly", "RC";
    REPLY = "Reply", "P";
    RESET_EVENTS = "ResetEventsDescriptor", "RSE";
    RESTART = "Restart", "RS";
    REMOTE = "Remote", "R";
    REQUEST_ID = "SPARequestID", "SPARQ", "RequestID";
    RESERVED_GROUP = "ReservedGroup", "RG";
    RESERVED_VALUE = "ReservedValue", "RV";
    SEG_COMPLETE = "END", "&";
    SENDONLY = "SendOnly", "SO";
    SENDRECV = "SendReceive", "SR";
    SERVICES = "Services", "SV";
    SERVICE_STATES = "ServiceStates", "SI";
    SERVICE_CHANGE = "ServiceChange", "SC";
    SERVICE_CHANGE_ADDRESS = "ServiceChangeAddress", "AD";
    SERVICE_CHANGE_INC = "ServiceChangeInc", "SIC";
    SIGNAL_LIST = "SignalList", "SL";
    SIGNALS = "Signals", "SG";
    SIGNAL_TYPE = "SignalType", "SY";
    STATS = "Statistics", "SA";
    STREAM = "Stream", "ST";
    SUBTRACT = "Subtract", "S";
    TERMINATION_STATE = "TerminationState", "TS";
    TEST = "Test", "TE";
    TIMEOUT = "TimeOut", "TO";
    TOPOLOGY = "Topology", "TP";
    TRANSACTION = "Transaction", "T";
    RESPONSE_ACK = "TransactionResponseAck", "K";
    VERSION = "Version", "V";
    H221 = "H221", "H221";
    H223 = "H223", "H223";
    H226 = "H226", "H226";
    V76 = "V76", "V76";
}
