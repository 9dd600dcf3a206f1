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
///
/// Up to eight octets at a time: `x | 0x20` is the same for exactly the two cases of a letter,
/// so OR-ing 0x20 into the letter positions of the keyword (and of the word) and comparing
/// the words as integers tests each piece in a few instructions. The keyword is a constant at
/// every call site, so its pieces and masks fold to immediates; only the word is loaded.
#[inline(always)]
fn eq_fold(w: &[u8], k: &str) -> bool {
    let k = k.as_bytes();
    if w.len() != k.len() {
        return false;
    }
    let mut i = 0;
    while i < k.len() {
        let m = (k.len() - i).min(8);
        let (Some(wp), Some(kp)) = (w.get(i..i + m), k.get(i..i + m)) else {
            return false;
        };
        let mut mask = [0u8; 8];
        for (m, c) in mask.iter_mut().zip(kp) {
            *m = if c.is_ascii_alphabetic() { 0x20 } else { 0 };
        }
        let mask = u64::from_le_bytes(mask);
        if (piece(wp) | mask) != (piece(kp) | mask) {
            return false;
        }
        i += m;
    }
    true
}

/// Up to eight octets as a little-endian integer (zero above them).
#[inline(always)]
fn piece(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(a)
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

#[cfg(test)]
mod tests {
    use super::eq_fold;

    /// The word-at-a-time compare agrees with `eq_ignore_ascii_case` for every octet at every
    /// position of keywords of one to more than sixteen octets, letters or not.
    #[test]
    fn eq_fold_matches_byte_compare() {
        for k in [
            "!",
            "&",
            "A",
            "ON",
            "MTP",
            "H221",
            "ANDLgc",
            "MEGACO",
            "Nx64Kservice",
            "TransactionResponseAck",
            "ResetEventsDescriptor",
        ] {
            let naive = |w: &[u8]| w.eq_ignore_ascii_case(k.as_bytes());
            for case in [
                k.to_string(),
                k.to_ascii_lowercase(),
                k.to_ascii_uppercase(),
            ] {
                let base = case.into_bytes();
                assert!(eq_fold(&base, k));
                for i in 0..base.len() {
                    for b in 0..=255u8 {
                        let mut w = base.clone();
                        w[i] = b;
                        assert_eq!(eq_fold(&w, k), naive(&w), "{k} {w:?}");
                    }
                }
                assert!(!eq_fold(&base[1..], k));
            }
        }
    }
}
