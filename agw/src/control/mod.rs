//! The H.248 side of the eIMS-AGW, sans-IO: contexts and terminations, and the mapping of
//! H.248 descriptors onto media legs ([`MediaPlane`]).
//!
//! [`Control::execute`] runs one transaction request and returns its reply;
//! [`Control::handle_media_event`] turns the media plane's reports into the Notify requests the
//! ALG asked for (Events descriptor); [`Control::clear`] closes everything (forced out of
//! service).
//!
//! How descriptors become a [`LegSpec`] (one leg per stream that has an m-line in Local or
//! Remote):
//!
//! | LegSpec field | from |
//! |---|---|
//! | `realm` | `ipdc/realm` in the stream's LocalControl, else TerminationState, else the first configured realm |
//! | `kind` | m-line proto of Local (else Remote): `UDP/TLS/RTP/SAVP(F)` = DTLS-SRTP, `RTP/AVP(F)` = plain; other registered protos 501, unknown ones 449 |
//! | `mode` | LocalControl `Mode` (kept until changed; default SendReceive); Inactive while the termination is out of service |
//! | `remote` | Remote `c=` (media level, else session) and m= port; none for port 0 or an unspecified address |
//! | `remote_fingerprints` | Remote `a=fingerprint` (media level, else session level); the sha-1/sha-2 ones |
//! | `remote_ice` | Remote `a=ice-ufrag` / `a=ice-pwd` |
//! | `latching` | `ipnapt/latch` (LocalControl, else TerminationState) |
//! | `dtls_role` | `xdtls/estab` in the Signals descriptor of this or an earlier command = Client, else Server; fixed once the stream has a Remote or the signal was seen |
//!
//! Replies follow TS 29.334 §5.8: Add/Modify return the (full) Local of every stream whose
//! requested Local had a `$`, with every `$` filled (address, port, `a=fingerprint:sha-256
//! ...`, ICE credentials, plus `a=ice-lite` on access legs). Subtract returns statistics unless
//! its `Audit { }` is empty. Error codes: [`codes`].
//!
//! A failed command leaves no state behind: every leg it opened is closed and every leg it
//! changed gets its old spec back before the error is returned.

pub mod codes;
mod sdp;
mod stored;

use stored::Stored;

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use iq_codec::model::{
    ActionReply, ActionRequest, AmmDescriptor, AmmRequest, AmmsReply, AuditDescriptor, AuditItem,
    AuditReply, AuditRequest, AuditReturnParameter, Command, CommandReply, CommandRequest,
    ContextId, ErrorDescriptor, EventsDescriptor, ExtraInfo, IndAuditParameter,
    LocalControlDescriptor, LocalRemoteDescriptor, MediaDescriptor, NotifyReply, NotifyRequest,
    ObservedEvent, ObservedEventsDescriptor, PackagesItem, PropertyParm, ServiceChangeMethod,
    ServiceChangeReply, ServiceChangeRequest, ServiceChangeResParm, ServiceChangeResult,
    ServiceState, SignalsItem, StatisticsParameter, StreamDescriptor, StreamMode as H248Mode,
    StreamParms, Streams, TerminationId, TerminationStateDescriptor, TimeNotation,
    TransactionResult,
};
use iq_codec::packages::{ItemKind, Registry};
use tracing::{debug, info, info_span, warn};

use crate::media::api::{
    DtlsRole, LegId, LegKind, LegSpec, LegStats, LocalInfo, MediaError, MediaEvent, MediaPlane,
    StreamMode,
};
use codes::*;

/// The Establish (D)TLS session signal (digest 2.4 placeholder): present = AGW is DTLS client.
pub const SIGNAL_ESTABLISH: &str = "xdtls/estab";
/// The (D)TLS session establishment failure event (digest 2.4 placeholder), parameter `cause`.
pub const EVENT_DTLS_FAILURE: &str = "xdtls/estfail";
/// The termination heartbeat event (accepted and stored; no periodic Notify yet).
pub const EVENT_HEARTBEAT: &str = "hangterm/thb";
/// The realm property.
pub const PROP_REALM: &str = "ipdc/realm";
/// The latching property.
pub const PROP_LATCH: &str = "ipnapt/latch";

/// Statistic names returned on Subtract and AuditValue (package table names).
pub mod stats {
    /// Duration of the termination in the context, ms (H.248.1 E.11 `nt/dur`).
    pub const DURATION: &str = "nt/dur";
    /// Octets sent (H.248.1 E.11 `nt/os`).
    pub const OCTETS_SENT: &str = "nt/os";
    /// Octets received (H.248.1 E.11 `nt/or`).
    pub const OCTETS_RECEIVED: &str = "nt/or";
    /// Packets sent (H.248.1 E.12 `rtp/ps`).
    pub const PACKETS_SENT: &str = "rtp/ps";
    /// Packets received (H.248.1 E.12 `rtp/pr`).
    pub const PACKETS_RECEIVED: &str = "rtp/pr";
    /// Packet loss as a percentage of the expected packets (H.248.1 E.12 `rtp/pl`).
    pub const PACKET_LOSS: &str = "rtp/pl";
    /// Interarrival jitter in ms (H.248.1 E.12 `rtp/jit`); in RTP timestamp units when the
    /// stream's clock rate is unknown.
    pub const JITTER: &str = "rtp/jit";
    /// SRTP/SRTCP packets dropped for a failed authentication tag (placeholder statistic of
    /// the `xdtls` package; access legs only).
    pub const SRTP_AUTH_FAILURES: &str = "xdtls/srtpaf";
}

/// Packages whose properties are accepted in TerminationState/LocalControl (stored; only
/// `ipdc/realm` and `ipnapt/latch` have an effect).
const PROPERTY_PACKAGES: &[&str] = &["ipdc", "ipnapt", "gm", "tman", "ds", "rtcph"];
/// Events accepted in an Events descriptor.
const SUPPORTED_EVENTS: &[&str] = &[
    EVENT_DTLS_FAILURE,
    EVENT_HEARTBEAT,
    "g/cause",
    "it/ito",
    EVENT_MG_OVERLOAD,
];
/// H.248.11 MG overload event, requested on ROOT: notified for each new context refused for
/// capacity.
pub const EVENT_MG_OVERLOAD: &str = "ocp/mg_overload";
/// Signals accepted in a Signals descriptor.
const SUPPORTED_SIGNALS: &[&str] = &[SIGNAL_ESTABLISH];
/// Packages reported by AuditValue `Packages`.
const AUDIT_PACKAGES: &[&str] = &[
    "root", "g", "nt", "rtp", "ipdc", "ipnapt", "hangterm", "it", "xdtls", "ocp",
];

/// Configuration of the control.
#[derive(Debug, Clone)]
pub struct ControlConfig {
    /// Realm names (`ipdc/realm` values) the media plane serves; the first is the default.
    pub realms: Vec<String>,
    /// Name chosen terminations with binary-digit levels (`00000001/00000000/00000101`:
    /// realm 1 access / 2 core, then the number in two 8-bit levels) instead of `ip/acc/t5`,
    /// for stacks (megaco's BER) that carry only such IDs.
    pub binary_names: bool,
    /// At most this many contexts: a new context beyond is refused with 510 (insufficient
    /// resources: the gateway is at capacity, H.248.11 overload) and, when the MGC asked for
    /// `ocp/mg_overload` on ROOT, notified. `None` = only the ID space limits (412 when it is
    /// exhausted).
    pub max_contexts: Option<usize>,
}

impl ControlConfig {
    /// Text names, no cap.
    pub fn new(realms: Vec<String>) -> Self {
        ControlConfig {
            realms,
            binary_names: false,
            max_contexts: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Leg {
    id: LegId,
    spec: LegSpec,
    info: LocalInfo,
}

#[derive(Debug, Clone, Default)]
struct Stream {
    mode: Option<H248Mode>,
    lc_props: Vec<PropertyParm>,
    /// Local and Remote, packed ([`stored`]); read with [`Stored::get`].
    local: Option<Stored>,
    remote: Option<Stored>,
    /// `xdtls/estab` aimed at this stream.
    establish: bool,
    /// The DTLS role, once fixed.
    role: Option<DtlsRole>,
    leg: Option<Leg>,
}

#[derive(Debug, Clone)]
struct Term {
    id: TerminationId,
    context: u32,
    ts_props: Vec<PropertyParm>,
    service_state: Option<ServiceState>,
    out_of_service: bool,
    /// Boxed: a B-tree leaf holds room for 11 values, and a `Stream` (with its leg's spec) is
    /// some hundreds of bytes, so unboxed a one-stream termination carried kilobytes of empty
    /// slots per idle session.
    streams: BTreeMap<u16, Box<Stream>>,
    events: Option<EventsDescriptor>,
    signals: Option<Vec<SignalsItem>>,
    /// `xdtls/estab` without a stream: applies to every stream.
    establish: bool,
    created: Instant,
}

enum Undo {
    Opened(LegId),
    Updated(LegId, LegSpec),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Amm {
    Add,
    Modify,
    Move,
}

type Res<T> = Result<T, ErrorDescriptor>;

/// Contexts and terminations over a media plane. See the [module documentation](self).
pub struct Control<M: MediaPlane> {
    media: M,
    config: ControlConfig,
    registry: &'static Registry,
    contexts: BTreeMap<u32, Vec<TerminationId>>,
    terms: BTreeMap<TerminationId, Term>,
    legs: foldhash::HashMap<LegId, (TerminationId, u16)>,
    next_context: u32,
    next_termination: u32,
    next_leg: u64,
    root_events: Option<EventsDescriptor>,
    wall_clock: fn() -> SystemTime,
    /// Notify requests produced while executing requests (H.248.11 `ocp/mg_overload`).
    notifies: std::collections::VecDeque<Vec<ActionRequest>>,
    /// New contexts refused for capacity since start.
    overloads: u64,
}

impl<M: MediaPlane> std::fmt::Debug for Control<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("contexts", &self.contexts.len())
            .field("terminations", &self.terms.len())
            .finish()
    }
}

fn first_prop<'a>(props: &'a [PropertyParm], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.first())
        .map(|v| v.as_str())
}

fn on_off(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Some(true),
        "off" | "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn api_mode(m: H248Mode) -> StreamMode {
    match m {
        H248Mode::SendOnly => StreamMode::SendOnly,
        H248Mode::RecvOnly => StreamMode::RecvOnly,
        H248Mode::SendRecv => StreamMode::SendRecv,
        H248Mode::Inactive => StreamMode::Inactive,
        H248Mode::Loopback => StreamMode::Loopback,
    }
}

fn media_error(e: MediaError) -> ErrorDescriptor {
    let code = match &e {
        MediaError::UnknownRealm(_) | MediaError::Rejected(_) => BAD_VALUE,
        MediaError::NoPorts(_) => INSUFFICIENT_RESOURCES,
        _ => INTERNAL,
    };
    err(code, &format!("media: {e}"))
}

/// Does termination `id` match the (possibly wildcarded, `*` per level) pattern?
fn matches(pattern: &str, id: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let i: Vec<&str> = id.split('/').collect();
    p.len() == i.len() && p.iter().zip(&i).all(|(a, b)| *a == "*" || a == b)
}

/// A UTC `TimeNotation` (`yyyymmdd`, `hhmmssss` with hundredths).
pub fn time_notation(t: SystemTime) -> TimeNotation {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    TimeNotation::utc(d.as_secs(), d.subsec_millis() / 10)
}

impl<M: MediaPlane> Control<M> {
    /// A control with no contexts over `media`.
    pub fn new(media: M, config: ControlConfig) -> Self {
        Control {
            media,
            config,
            registry: Registry::shared_builtin(),
            contexts: BTreeMap::new(),
            terms: BTreeMap::new(),
            legs: Default::default(),
            next_context: 1,
            next_termination: 1,
            next_leg: 1,
            root_events: None,
            wall_clock: SystemTime::now,
            notifies: std::collections::VecDeque::new(),
            overloads: 0,
        }
    }

    /// Use another wall clock for ObservedEvent time stamps (tests).
    pub fn with_wall_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.wall_clock = clock;
        self
    }

    /// The media plane.
    pub fn media(&self) -> &M {
        &self.media
    }

    /// The media plane, mutable.
    pub fn media_mut(&mut self) -> &mut M {
        &mut self.media
    }

    /// Number of contexts.
    pub fn context_count(&self) -> usize {
        self.contexts.len()
    }

    /// Number of terminations (in all contexts).
    pub fn termination_count(&self) -> usize {
        self.terms.len()
    }

    /// Number of open media legs.
    pub fn leg_count(&self) -> usize {
        self.legs.len()
    }

    /// The context a termination is in.
    pub fn context_of(&self, id: &TerminationId) -> Option<u32> {
        self.terms.get(id).map(|t| t.context)
    }

    /// The terminations of a context, in the order they were added.
    pub fn terminations_in(&self, context: u32) -> Vec<TerminationId> {
        self.contexts.get(&context).cloned().unwrap_or_default()
    }

    /// The leg of a termination's stream and its current spec.
    pub fn leg_of(&self, id: &TerminationId, stream: u16) -> Option<(LegId, &LegSpec)> {
        let l = self.terms.get(id)?.streams.get(&stream)?.leg.as_ref()?;
        Some((l.id, &l.spec))
    }

    /// Forced out of service: close every leg and forget every context.
    pub fn clear(&mut self) {
        let legs: Vec<LegId> = self.legs.keys().copied().collect();
        for l in legs {
            if let Err(e) = self.media.close(l) {
                warn!(leg = l.0, %e, "closing leg");
            }
        }
        info!(
            contexts = self.contexts.len(),
            terminations = self.terms.len(),
            "all contexts cleared"
        );
        self.legs.clear();
        self.terms.clear();
        self.contexts.clear();
    }

    /// Execute a transaction request and build its reply. Actions run in order; a failed
    /// (non-optional) command ends its action (the action reply carries the error after the
    /// replies of the commands before it) and the transaction (later actions are not run).
    pub fn execute(&mut self, now: Instant, actions: &[ActionRequest]) -> TransactionResult {
        let mut replies = Vec::with_capacity(actions.len());
        for a in actions {
            let failed = if a.context == ContextId::All {
                let (mut r, failed) = self.action_all(now, a);
                replies.append(&mut r);
                failed
            } else {
                let (reply, failed) = self.action(now, a);
                replies.push(reply);
                failed
            };
            if failed {
                break;
            }
        }
        TransactionResult::Actions(replies)
    }

    fn action(&mut self, now: Instant, a: &ActionRequest) -> (ActionReply, bool) {
        let mut reply = ActionReply {
            context: a.context,
            error: None,
            context_reply: None,
            commands: Vec::new(),
        };
        let span = info_span!("context", ctx = ?a.context);
        let _g = span.enter();
        if let ContextId::Id(id) = a.context {
            if !self.contexts.contains_key(&id) {
                reply.error = Some(err(UNKNOWN_CONTEXT, &format!("unknown context {id}")));
                return (reply, true);
            }
        }
        if let Some(cr) = &a.context_request {
            if !cr.is_empty() {
                debug!(?cr, "context properties accepted and ignored");
            }
        }
        let mut ctx = a.context;
        let mut failed = false;
        for c in &a.commands {
            match self.command(now, &mut ctx, c) {
                Ok(mut r) => reply.commands.append(&mut r),
                Err(e) if c.optional => {
                    debug!(code = e.code, "optional command failed");
                    reply.commands.push(error_reply(&c.command, e));
                }
                Err(e) => {
                    info!(command = c.command.name(), code = e.code, text = ?e.text, "command failed");
                    reply.error = Some(e);
                    failed = true;
                    break;
                }
            }
        }
        reply.context = match ctx {
            ContextId::Id(id) if self.contexts.contains_key(&id) => ctx,
            ContextId::Id(_) if a.context == ContextId::Choose => a.context,
            c => c,
        };
        (reply, failed)
    }

    /// An action on all contexts (`*`, H.248.1 6.1.1). Its AuditValue, AuditCapabilities and
    /// Subtract commands run in every context in turn, with one action reply for each context
    /// where the termination IDs match: an AuditValue of `*` in context `*` lists the contexts
    /// and their terminations (H.248.1 7.2.5), a Subtract of `*` there clears them all (7.2.3).
    /// A context where nothing matches is left out of the reply; nothing matching anywhere is
    /// error 431. Other commands on all contexts are not implemented (501).
    fn action_all(&mut self, now: Instant, a: &ActionRequest) -> (Vec<ActionReply>, bool) {
        let all = |error| ActionReply {
            context: ContextId::All,
            error: Some(error),
            context_reply: None,
            commands: Vec::new(),
        };
        if let Some(c) = a.commands.iter().find(|c| {
            !matches!(
                c.command,
                Command::AuditValue(_) | Command::AuditCapabilities(_) | Command::Subtract(_)
            )
        }) {
            let text = format!(
                "{} on all contexts (*) is not supported (only AuditValue, AuditCapabilities \
                 and Subtract)",
                c.command.name()
            );
            return (vec![all(err(NOT_IMPLEMENTED, &text))], true);
        }
        let span = info_span!("context", ctx = "*");
        let _g = span.enter();
        let ids: Vec<u32> = self.contexts.keys().copied().collect();
        let mut replies = Vec::new();
        for id in ids {
            let mut reply = ActionReply {
                context: ContextId::Id(id),
                error: None,
                context_reply: None,
                commands: Vec::new(),
            };
            let mut matched = false;
            for c in &a.commands {
                if !self.contexts.contains_key(&id) {
                    // An earlier Subtract of the action emptied it.
                    break;
                }
                let mut ctx = ContextId::Id(id);
                match self.command(now, &mut ctx, c) {
                    Ok(mut r) => {
                        matched = true;
                        reply.commands.append(&mut r);
                    }
                    // Not this context's terminations.
                    Err(e) if e.code == NO_WILDCARD_MATCH || e.code == NOT_IN_CONTEXT => {}
                    Err(e) if c.optional => {
                        matched = true;
                        reply.commands.push(error_reply(&c.command, e));
                    }
                    Err(e) => {
                        info!(command = c.command.name(), context = id, code = e.code, text = ?e.text, "command on all contexts failed");
                        reply.error = Some(e);
                        replies.push(reply);
                        return (replies, true);
                    }
                }
            }
            if matched {
                replies.push(reply);
            }
        }
        if replies.is_empty() {
            return (
                vec![all(err(
                    NO_WILDCARD_MATCH,
                    "no context holds a matching termination",
                ))],
                true,
            );
        }
        debug!(contexts = replies.len(), "action on all contexts");
        (replies, false)
    }

    fn command(
        &mut self,
        now: Instant,
        ctx: &mut ContextId,
        c: &CommandRequest,
    ) -> Res<Vec<CommandReply>> {
        let w = c.wildcard_return;
        match (&c.command, *ctx) {
            (Command::Add(r), ContextId::Choose) => {
                let id = self.new_context_id()?;
                let out = self.amm(now, id, r, Amm::Add, w)?;
                *ctx = ContextId::Id(id);
                Ok(out)
            }
            (Command::Add(r), ContextId::Id(id)) => self.amm(now, id, r, Amm::Add, w),
            (Command::Move(r), ContextId::Choose) => {
                let id = self.new_context_id()?;
                let out = self.amm(now, id, r, Amm::Move, w)?;
                *ctx = ContextId::Id(id);
                Ok(out)
            }
            (Command::Move(r), ContextId::Id(id)) => self.amm(now, id, r, Amm::Move, w),
            (Command::Modify(r), ContextId::Id(id)) => self.amm(now, id, r, Amm::Modify, w),
            (Command::Modify(r), ContextId::Null) => self.modify_null(r),
            (Command::Subtract(r), ContextId::Id(id)) => {
                self.subtract(now, id, &r.termination_ids, r.audit.as_ref(), w)
            }
            (Command::AuditValue(r), _) => self.audit(now, *ctx, r, false),
            (Command::AuditCapabilities(r), _) => self.audit(now, *ctx, r, true),
            (Command::Notify(_), _) => {
                Err(err(NOT_IMPLEMENTED, "Notify is sent by the MG, not to it"))
            }
            (Command::ServiceChange(r), _) => self.service_change(now, *ctx, r),
            (other, c) => Err(err(
                ILLEGAL_ACTION,
                &format!("{} is not allowed in context {}", other.name(), ctx_text(c)),
            )),
        }
    }

    fn new_context_id(&mut self) -> Res<u32> {
        if self
            .config
            .max_contexts
            .is_some_and(|m| self.contexts.len() >= m)
        {
            self.overloaded();
            return Err(err(
                INSUFFICIENT_RESOURCES,
                "overloaded: the context limit is reached",
            ));
        }
        for _ in 0..=u32::MAX {
            let id = self.next_context;
            self.next_context = if id >= 0xFFFF_FFFD { 1 } else { id + 1 };
            if !self.contexts.contains_key(&id) {
                return Ok(id);
            }
        }
        Err(err(NO_CONTEXT_ID, "no context ID available"))
    }

    /// A new context was refused for capacity: count it and, when the MGC asked for
    /// `ocp/mg_overload` on ROOT (H.248.11), queue the Notify for [`Control::poll_notify`].
    fn overloaded(&mut self) {
        self.overloads += 1;
        let Some(events) = &self.root_events else {
            warn!(
                overloads = self.overloads,
                "overloaded: new context refused (510)"
            );
            return;
        };
        let Some(request_id) = events.request_id else {
            return;
        };
        if !events.events.iter().any(|e| e.name == EVENT_MG_OVERLOAD) {
            warn!(
                overloads = self.overloads,
                "overloaded: new context refused (510)"
            );
            return;
        }
        warn!(
            overloads = self.overloads,
            "overloaded: new context refused (510), notifying ocp/mg_overload"
        );
        self.notifies.push_back(vec![ActionRequest {
            context: ContextId::Null,
            context_request: None,
            context_audit: None,
            commands: vec![CommandRequest {
                command: Command::Notify(NotifyRequest {
                    termination_ids: [TerminationId::root()].into(),
                    observed_events: Some(ObservedEventsDescriptor {
                        request_id,
                        events: vec![ObservedEvent {
                            name: EVENT_MG_OVERLOAD.into(),
                            stream: None,
                            params: Vec::new(),
                            timestamp: Some(time_notation((self.wall_clock)())),
                        }],
                    }),
                    error: None,
                }),
                optional: false,
                wildcard_return: false,
            }],
        }]);
    }

    /// The next Notify request the last requests produced (send it to the MGC).
    pub fn poll_notify(&mut self) -> Option<Vec<ActionRequest>> {
        self.notifies.pop_front()
    }

    /// New contexts refused because the context limit was reached, since start.
    pub fn overload_count(&self) -> u64 {
        self.overloads
    }

    fn choose_name(&mut self, realm: &str) -> Res<TerminationId> {
        let core = realm.contains("core");
        let limit: u32 = if self.config.binary_names {
            0xFFFF
        } else {
            u32::MAX
        };
        for _ in 0..limit {
            let n = self.next_termination;
            self.next_termination = if n >= limit { 1 } else { n + 1 };
            let id = if self.config.binary_names {
                // level 1: the realm (1 access, 2 core); levels 2 and 3: the number.
                let r = if core { 2 } else { 1 };
                TerminationId::new(&format!("{r:08b}/{:08b}/{:08b}", (n >> 8) & 0xff, n & 0xff))
            } else {
                TerminationId::new(&format!("ip/{}/t{n}", if core { "core" } else { "acc" }))
            };
            if !self.terms.contains_key(&id) {
                return Ok(id);
            }
        }
        Err(err(OUT_OF_TERMINATION_IDS, "no termination ID available"))
    }

    /// Resolve the termination IDs of a command in context `ctx` (wildcards match within it).
    fn resolve(&self, ctx: u32, ids: &[TerminationId]) -> Res<Vec<TerminationId>> {
        let mut out: Vec<TerminationId> = Vec::new();
        let members = self.contexts.get(&ctx).cloned().unwrap_or_default();
        for t in ids {
            if t.is_root() {
                return Err(err(NOT_ALLOWED_ON_TERMINATION, "ROOT is not in a context"));
            }
            if t.as_str().contains('$') {
                return Err(err(
                    SYNTAX_IN_COMMAND,
                    &format!("CHOOSE ($) in {} is only allowed in Add/Move", t.as_str()),
                ));
            }
            if t.as_str().contains('*') {
                let m: Vec<_> = members
                    .iter()
                    .filter(|x| matches(t.as_str(), x.as_str()))
                    .cloned()
                    .collect();
                if m.is_empty() {
                    return Err(err(
                        NO_WILDCARD_MATCH,
                        &format!("no termination in context {ctx} matches {}", t.as_str()),
                    ));
                }
                out.extend(m);
            } else {
                match self.terms.get(t) {
                    Some(x) if x.context == ctx => out.push(t.clone()),
                    Some(x) => {
                        return Err(err(
                            NOT_IN_CONTEXT,
                            &format!("{} is in context {}, not {ctx}", t.as_str(), x.context),
                        ))
                    }
                    None => {
                        return Err(err(
                            UNKNOWN_TERMINATION,
                            &format!("unknown termination {}", t.as_str()),
                        ))
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|t| seen.insert(t.clone()));
        Ok(out)
    }

    // ------------------------------------------------------------------ Add / Modify / Move

    fn amm(
        &mut self,
        now: Instant,
        ctx: u32,
        r: &AmmRequest,
        kind: Amm,
        wildcard_return: bool,
    ) -> Res<Vec<CommandReply>> {
        check_descriptors(&r.descriptors)?;
        // The terminations to work on, as copies: committed only when all succeed.
        let mut work: Vec<Term> = Vec::new();
        match kind {
            Amm::Add => {
                for t in &r.termination_ids {
                    let id = if t.as_str().contains('$') {
                        let realm = self.requested_realm(&r.descriptors)?;
                        self.choose_name(&realm)?
                    } else if t.is_root() {
                        return Err(err(NOT_ALLOWED_ON_TERMINATION, "ROOT cannot be added"));
                    } else if t.as_str().contains('*') {
                        return Err(err(SYNTAX_IN_COMMAND, "ALL (*) cannot be added"));
                    } else if let Some(x) = self.terms.get(t) {
                        return Err(err(
                            ALREADY_IN_CONTEXT,
                            &format!("{} is already in context {}", t.as_str(), x.context),
                        ));
                    } else {
                        t.clone()
                    };
                    if work.iter().any(|w| w.id == id) {
                        return Err(err(SYNTAX_IN_COMMAND, "termination named twice"));
                    }
                    work.push(Term {
                        id,
                        context: ctx,
                        ts_props: Vec::new(),
                        service_state: None,
                        out_of_service: false,
                        streams: BTreeMap::new(),
                        events: None,
                        signals: None,
                        establish: false,
                        created: now,
                    });
                }
            }
            Amm::Modify => {
                for id in self.resolve(ctx, &r.termination_ids)? {
                    work.push(self.terms[&id].clone());
                }
            }
            Amm::Move => {
                for t in &r.termination_ids {
                    if t.is_root() {
                        return Err(err(NOT_ALLOWED_ON_TERMINATION, "ROOT cannot be moved"));
                    }
                    if t.is_wildcard() {
                        return Err(err(
                            SYNTAX_IN_COMMAND,
                            "Move needs a specific termination ID",
                        ));
                    }
                    let Some(x) = self.terms.get(t) else {
                        return Err(err(
                            UNKNOWN_TERMINATION,
                            &format!("unknown termination {}", t.as_str()),
                        ));
                    };
                    if x.context == ctx {
                        return Err(err(
                            ILLEGAL_ACTION,
                            &format!("{} is already in context {ctx}", t.as_str()),
                        ));
                    }
                    let mut x = x.clone();
                    x.context = ctx;
                    work.push(x);
                }
            }
        }
        if work.is_empty() {
            return Err(err(SYNTAX_IN_COMMAND, "no termination ID"));
        }
        let mut undo = Vec::new();
        let mut audits = Vec::new();
        for t in &mut work {
            let span = info_span!("termination", term = t.id.as_str(), ctx);
            let _g = span.enter();
            match self.apply(now, t, &r.descriptors, &mut undo) {
                Ok(a) => audits.push(a),
                Err(e) => {
                    self.rollback(now, undo);
                    return Err(e);
                }
            }
        }
        // Commit.
        let mut replies = Vec::new();
        for (t, audit) in work.into_iter().zip(audits) {
            let old_ctx = self.terms.get(&t.id).map(|o| o.context);
            if let Some(old) = old_ctx.filter(|o| *o != ctx) {
                if let Some(v) = self.contexts.get_mut(&old) {
                    v.retain(|x| *x != t.id);
                    if v.is_empty() {
                        self.contexts.remove(&old);
                        info!(context = old, "context deleted (last termination moved)");
                    }
                }
            }
            let members = self.contexts.entry(ctx).or_default();
            if !members.contains(&t.id) {
                members.push(t.id.clone());
            }
            for (sid, s) in &t.streams {
                if let Some(l) = &s.leg {
                    self.legs.insert(l.id, (t.id.clone(), *sid));
                }
            }
            let reply = AmmsReply {
                termination_ids: [t.id.clone()].into(),
                audit,
            };
            match kind {
                Amm::Add => info!(term = t.id.as_str(), context = ctx, "added"),
                Amm::Move => info!(term = t.id.as_str(), context = ctx, "moved"),
                Amm::Modify => debug!(term = t.id.as_str(), context = ctx, "modified"),
            }
            self.terms.insert(t.id.clone(), t);
            replies.push(match kind {
                Amm::Add => CommandReply::Add(reply),
                Amm::Modify => CommandReply::Modify(reply),
                Amm::Move => CommandReply::Move(reply),
            });
        }
        if wildcard_return && kind == Amm::Modify && replies.len() > 1 {
            return Ok(vec![CommandReply::Modify(AmmsReply {
                termination_ids: r.termination_ids.clone(),
                audit: None,
            })]);
        }
        Ok(replies)
    }

    /// The realm named in the descriptors (for naming a new termination).
    fn requested_realm(&self, ds: &[AmmDescriptor]) -> Res<String> {
        for d in ds {
            if let AmmDescriptor::Media(m) = d {
                if let Some(r) = m
                    .termination_state
                    .as_ref()
                    .and_then(|ts| first_prop(&ts.props, PROP_REALM))
                {
                    return Ok(r.to_string());
                }
                for (_, p) in streams_of(m) {
                    if let Some(r) = p
                        .local_control
                        .as_ref()
                        .and_then(|lc| first_prop(&lc.props, PROP_REALM))
                    {
                        return Ok(r.to_string());
                    }
                }
            }
        }
        self.default_realm()
    }

    fn default_realm(&self) -> Res<String> {
        self.config
            .realms
            .first()
            .cloned()
            .ok_or_else(|| err(INTERNAL, "no realm configured"))
    }

    fn check_realm(&self, r: &str) -> Res<()> {
        if self.config.realms.iter().any(|x| x == r) {
            Ok(())
        } else {
            Err(err(
                BAD_VALUE,
                &format!(
                    "unknown realm {r:?} (configured: {})",
                    self.config.realms.join(", ")
                ),
            ))
        }
    }

    fn check_property(&self, p: &PropertyParm) -> Res<()> {
        let (pkg, _) = p.name.split_once('/').unwrap_or((p.name.as_str(), ""));
        if self.registry.package_by_name(pkg).is_none() {
            return Err(err(
                UNKNOWN_PACKAGE,
                &format!("unknown package {pkg:?} (property {})", p.name),
            ));
        }
        if self
            .registry
            .item_def(ItemKind::Property, &p.name)
            .is_none()
        {
            return Err(err(
                NO_SUCH_PROPERTY,
                &format!("no property {} in package {pkg}", p.name),
            ));
        }
        if !PROPERTY_PACKAGES.contains(&pkg) {
            return Err(err(
                UNSUPPORTED_PROPERTY,
                &format!("property {} is not supported", p.name),
            ));
        }
        match p.name.as_str() {
            PROP_REALM => {
                let v = p.value.first().map_or("", |v| v.as_str());
                if p.value.len() != 1 || p.extra.is_some() {
                    return Err(err(BAD_VALUE, "ipdc/realm needs one value"));
                }
                self.check_realm(v)
            }
            PROP_LATCH => match p.value.first().and_then(|v| on_off(v)) {
                Some(_) if p.value.len() == 1 => Ok(()),
                _ => Err(err(
                    BAD_VALUE,
                    &format!("ipnapt/latch = {:?}: expected ON or OFF", p.value),
                )),
            },
            _ => Ok(()),
        }
    }

    fn check_item(&self, kind: ItemKind, name: &str, supported: &[&str]) -> Res<()> {
        let (pkg, _) = name.split_once('/').unwrap_or((name, ""));
        let (unknown_item, unsupported, what) = match kind {
            ItemKind::Event => (NO_SUCH_EVENT, CANNOT_DETECT_EVENT, "event"),
            _ => (NO_SUCH_SIGNAL, CANNOT_GENERATE_SIGNAL, "signal"),
        };
        if self.registry.package_by_name(pkg).is_none() {
            return Err(err(
                UNKNOWN_PACKAGE,
                &format!("unknown package {pkg:?} ({what} {name})"),
            ));
        }
        if self.registry.item_def(kind, name).is_none() {
            return Err(err(
                unknown_item,
                &format!("no {what} {name} in package {pkg}"),
            ));
        }
        if !supported.contains(&name) {
            return Err(err(unsupported, &format!("{what} {name} is not supported")));
        }
        Ok(())
    }

    /// Apply the descriptors of an Add/Modify/Move to (a copy of) a termination, opening and
    /// updating its legs (recorded in `undo`). Returns the reply's descriptors.
    fn apply(
        &mut self,
        now: Instant,
        t: &mut Term,
        ds: &[AmmDescriptor],
        undo: &mut Vec<Undo>,
    ) -> Res<Option<Vec<AuditReturnParameter>>> {
        let mut reply_media: Option<(bool, Vec<(u16, LocalRemoteDescriptor)>)> = None;
        let mut choose_in: Vec<u16> = Vec::new();
        let mut audit_req: Option<&AuditDescriptor> = None;
        for d in ds {
            match d {
                AmmDescriptor::Media(m) => {
                    if let Some(ts) = &m.termination_state {
                        for p in &ts.props {
                            self.check_property(p)?;
                        }
                        merge_props(&mut t.ts_props, &ts.props);
                        if let Some(s) = ts.service_state {
                            t.service_state = Some(s);
                            t.out_of_service = s == ServiceState::OutOfSvc;
                        }
                    }
                    let single = matches!(m.streams, Some(Streams::One(_)));
                    reply_media = Some((single, Vec::new()));
                    for (sid, p) in streams_of(m) {
                        let s = t.streams.entry(sid).or_default();
                        if let Some(lc) = &p.local_control {
                            for pp in &lc.props {
                                self.check_property(pp)?;
                            }
                            if lc.mode.is_some() {
                                s.mode = lc.mode;
                            }
                            merge_props(&mut s.lc_props, &lc.props);
                        }
                        if let Some(l) = &p.local {
                            if sdp::has_choose(l) {
                                choose_in.push(sid);
                            }
                            s.local = (!l.groups.is_empty()).then(|| Stored::new(l));
                        }
                        if let Some(rm) = &p.remote {
                            s.remote = (!rm.groups.is_empty()).then(|| Stored::new(rm));
                        }
                    }
                }
                AmmDescriptor::Events(e) => {
                    for ev in &e.events {
                        self.check_item(ItemKind::Event, &ev.name, SUPPORTED_EVENTS)?;
                        if let Some(sid) = ev.stream {
                            if !t.streams.contains_key(&sid) && ds_streams(ds).all(|x| x != sid) {
                                return Err(err(
                                    BAD_VALUE,
                                    &format!("event {} on unknown stream {sid}", ev.name),
                                ));
                            }
                        }
                    }
                    t.events = (e.request_id.is_some() && !e.events.is_empty()).then(|| e.clone());
                }
                AmmDescriptor::Signals(sigs) => {
                    for item in sigs {
                        let list: Vec<&iq_codec::model::Signal> = match item {
                            SignalsItem::Signal(s) => vec![s],
                            SignalsItem::List { signals, .. } => signals.iter().collect(),
                        };
                        for s in list {
                            self.check_item(ItemKind::Signal, &s.name, SUPPORTED_SIGNALS)?;
                            if s.name == SIGNAL_ESTABLISH {
                                match s.stream {
                                    Some(sid) => t.streams.entry(sid).or_default().establish = true,
                                    None => t.establish = true,
                                }
                            }
                        }
                    }
                    t.signals = Some(sigs.clone());
                }
                AmmDescriptor::Audit(a) => audit_req = Some(a),
                AmmDescriptor::Statistics(_) => {}
                other => {
                    return Err(err(
                        UNSUPPORTED_DESCRIPTOR,
                        &format!("{} descriptor is not supported", descriptor_name(other)),
                    ))
                }
            }
        }
        // Bring every stream's leg in line with the descriptors.
        let default_realm = self.default_realm()?;
        let sids: Vec<u16> = t.streams.keys().copied().collect();
        for sid in sids {
            self.sync_stream(now, t, sid, &default_realm, undo)?;
            if choose_in.contains(&sid) {
                let s = &t.streams[&sid];
                let l = s.local.as_ref().map(Stored::get).unwrap_or_default();
                if let Some((_, v)) = reply_media.as_mut() {
                    v.push((sid, l));
                }
            } else if let (Some(s), Some(l)) = (t.streams.get(&sid), &t.streams[&sid].leg) {
                if let Some(local) = s.local.as_ref().map(Stored::get) {
                    if let Some(sdp) = sdp::first_sdp(&local, "Local")? {
                        sdp::check_local_matches(&sdp, &l.info)?;
                    }
                }
            }
        }
        let mut out = Vec::new();
        if let Some((single, v)) = reply_media {
            if !v.is_empty() {
                let streams = if single && v.len() == 1 {
                    Streams::One(StreamParms {
                        local: Some(v[0].1.clone()),
                        ..Default::default()
                    })
                } else {
                    Streams::Multi(
                        v.into_iter()
                            .map(|(id, l)| StreamDescriptor {
                                id,
                                parms: StreamParms {
                                    local: Some(l),
                                    ..Default::default()
                                },
                            })
                            .collect(),
                    )
                };
                out.push(AuditReturnParameter::Media(MediaDescriptor {
                    termination_state: None,
                    streams: Some(streams),
                }));
            }
        }
        if let Some(a) = audit_req {
            for p in self.audit_items(now, t, a)? {
                if !out.iter().any(|o| same_kind(o, &p)) {
                    out.push(p);
                }
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    /// Compute the stream's spec from its descriptors, open/update its leg, fill `$` in its
    /// Local.
    fn sync_stream(
        &mut self,
        now: Instant,
        t: &mut Term,
        sid: u16,
        default_realm: &str,
        undo: &mut Vec<Undo>,
    ) -> Res<()> {
        let term_realm = first_prop(&t.ts_props, PROP_REALM).map(str::to_string);
        let term_latch = first_prop(&t.ts_props, PROP_LATCH).and_then(on_off);
        let establish_all = t.establish;
        let out_of_service = t.out_of_service;
        let context = t.context;
        let serial = u64::from(context);
        let s = t.streams.get_mut(&sid).expect("stream exists");
        let local_d = s.local.as_ref().map(Stored::get);
        let local = match &local_d {
            Some(l) => sdp::first_sdp(l, "Local")?,
            None => None,
        };
        let remote = match s.remote.as_ref().map(Stored::get) {
            Some(r) => {
                if sdp::has_choose(&r) {
                    return Err(err(
                        BAD_VALUE,
                        "Remote: CHOOSE ($) is not allowed in Remote",
                    ));
                }
                sdp::first_sdp(&r, "Remote")?
            }
            None => None,
        };
        let kl = local
            .as_ref()
            .map(|x| sdp::kind_of(x, "Local"))
            .transpose()?
            .flatten();
        let kr = remote
            .as_ref()
            .map(|x| sdp::kind_of(x, "Remote"))
            .transpose()?
            .flatten();
        let kind = match (kl, kr) {
            (Some(a), Some(b)) if a != b => {
                return Err(err(
                    BAD_VALUE,
                    "Local and Remote name different transport protocols",
                ))
            }
            (Some(k), _) | (None, Some(k)) => k,
            (None, None) => {
                if local
                    .as_ref()
                    .is_some_and(|_| local_d.as_ref().is_some_and(sdp::has_choose))
                {
                    return Err(err(BAD_VALUE, "Local: $ without an m= line"));
                }
                return Ok(());
            }
        };
        if let Some(l) = &s.leg {
            if l.spec.kind != kind {
                return Err(err(
                    NOT_IMPLEMENTED,
                    "changing the transport protocol of a stream is not supported",
                ));
            }
        }
        let realm = first_prop(&s.lc_props, PROP_REALM)
            .map(str::to_string)
            .or(term_realm)
            .unwrap_or_else(|| default_realm.to_string());
        if let Some(l) = &s.leg {
            if l.spec.realm != realm {
                return Err(err(
                    NOT_IMPLEMENTED,
                    &format!(
                        "moving a stream from realm {:?} to {realm:?} is not supported",
                        l.spec.realm
                    ),
                ));
            }
        }
        let latching = first_prop(&s.lc_props, PROP_LATCH)
            .and_then(on_off)
            .or(term_latch)
            .unwrap_or(false);
        let rp = match &remote {
            Some(r) => sdp::remote_params(r, kind)?,
            None => sdp::RemoteParams::default(),
        };
        let dtls_role = if kind == LegKind::DtlsSrtp {
            let establish = establish_all || s.establish;
            let role = match s.role {
                Some(DtlsRole::Server) if establish => return Err(err(
                    BAD_VALUE,
                    "xdtls/estab after the DTLS role was fixed as server (Remote given without it)",
                )),
                Some(r) => r,
                None if establish => DtlsRole::Client,
                None => DtlsRole::Server,
            };
            if establish || remote.is_some() {
                s.role = Some(role);
            }
            Some(role)
        } else {
            None
        };
        let mode = if out_of_service {
            StreamMode::Inactive
        } else {
            s.mode.map(api_mode).unwrap_or_default()
        };
        let spec = LegSpec {
            context,
            kind,
            realm,
            mode,
            remote: rp.addr,
            remote_fingerprints: rp.fingerprints,
            dtls_role,
            remote_ice: rp.ice,
            latching,
        };
        match &mut s.leg {
            None => {
                let id = LegId(self.next_leg);
                self.next_leg += 1;
                let info = self.media.open(id, &spec, now).map_err(media_error)?;
                undo.push(Undo::Opened(id));
                debug!(leg = id.0, stream = sid, addr = %info.addr, ?kind, role = ?spec.dtls_role, "leg opened");
                s.leg = Some(Leg { id, spec, info });
            }
            Some(l) if l.spec != spec => {
                self.media.update(l.id, &spec, now).map_err(media_error)?;
                undo.push(Undo::Updated(l.id, l.spec.clone()));
                debug!(leg = l.id.0, stream = sid, "leg updated");
                l.spec = spec;
            }
            Some(_) => {}
        }
        // Fill the Local's `$`.
        if let (Some(l), Some(mut sdp)) = (&s.leg, local) {
            if local_d.as_ref().is_some_and(sdp::has_choose) {
                sdp::fill_local(&mut sdp, &l.info, kind, serial)?;
                s.local = Some(Stored::new(&LocalRemoteDescriptor::from(&sdp)));
            }
        }
        Ok(())
    }

    fn rollback(&mut self, now: Instant, undo: Vec<Undo>) {
        for u in undo.into_iter().rev() {
            match u {
                Undo::Opened(l) => {
                    if let Err(e) = self.media.close(l) {
                        warn!(leg = l.0, %e, "rollback: closing leg");
                    }
                }
                Undo::Updated(l, spec) => {
                    if let Err(e) = self.media.update(l, &spec, now) {
                        warn!(leg = l.0, %e, "rollback: restoring leg");
                    }
                }
            }
        }
    }

    fn modify_null(&mut self, r: &AmmRequest) -> Res<Vec<CommandReply>> {
        if !matches!(r.termination_ids.as_slice(), [t] if t.is_root()) {
            for t in &r.termination_ids {
                if let Some(x) = self.terms.get(t) {
                    return Err(err(
                        NOT_IN_CONTEXT,
                        &format!("{} is in context {}", t.as_str(), x.context),
                    ));
                }
            }
            return Err(err(UNKNOWN_TERMINATION, "only ROOT is in the NULL context"));
        }
        check_descriptors(&r.descriptors)?;
        for d in &r.descriptors {
            match d {
                AmmDescriptor::Events(e) => {
                    for ev in &e.events {
                        self.check_item(ItemKind::Event, &ev.name, SUPPORTED_EVENTS)?;
                    }
                    self.root_events = Some(e.clone());
                }
                AmmDescriptor::Media(m) => {
                    for p in m.termination_state.iter().flat_map(|ts| ts.props.iter()) {
                        self.check_property(p)?;
                    }
                }
                AmmDescriptor::Audit(_) | AmmDescriptor::Statistics(_) => {}
                other => {
                    return Err(err(
                        UNSUPPORTED_DESCRIPTOR,
                        &format!(
                            "{} descriptor on ROOT is not supported",
                            descriptor_name(other)
                        ),
                    ))
                }
            }
        }
        Ok(vec![CommandReply::Modify(AmmsReply {
            termination_ids: [TerminationId::root()].into(),
            audit: None,
        })])
    }

    // ------------------------------------------------------------------ Subtract

    fn subtract(
        &mut self,
        now: Instant,
        ctx: u32,
        ids: &[TerminationId],
        audit: Option<&AuditDescriptor>,
        wildcard_return: bool,
    ) -> Res<Vec<CommandReply>> {
        let gone = self.resolve(ctx, ids)?;
        // Statistics unless `Audit { }` is empty; other audit items as asked.
        let wanted = match audit {
            None => Some(AuditDescriptor {
                items: vec![AuditItem::Statistics],
                ind_aud: Vec::new(),
            }),
            Some(a) if a.items.is_empty() && a.ind_aud.is_empty() => None,
            Some(a) => Some(a.clone()),
        };
        if let Some(a) = &wanted {
            if let Some(t) = gone.first() {
                // Validate before anything is closed.
                let t = self.terms[t].clone();
                self.audit_items(now, &t, a)?;
            }
        }
        let mut replies = Vec::new();
        for id in &gone {
            let Some(t) = self.terms.remove(id) else {
                continue;
            };
            let mut final_stats: BTreeMap<u16, LegStats> = BTreeMap::new();
            for (sid, s) in &t.streams {
                if let Some(l) = &s.leg {
                    let st = match self.media.close(l.id) {
                        Ok(st) => st,
                        Err(e) => {
                            warn!(leg = l.id.0, %e, "closing leg");
                            LegStats::default()
                        }
                    };
                    self.legs.remove(&l.id);
                    final_stats.insert(*sid, st);
                }
            }
            let audit = match &wanted {
                Some(a) => {
                    let v = self.audit_items_with(now, &t, a, Some(&final_stats))?;
                    (!v.is_empty()).then_some(v)
                }
                None => None,
            };
            debug!(term = id.as_str(), context = ctx, "subtracted");
            replies.push(CommandReply::Subtract(AmmsReply {
                termination_ids: [id.clone()].into(),
                audit,
            }));
        }
        if let Some(v) = self.contexts.get_mut(&ctx) {
            v.retain(|x| !gone.contains(x));
            if v.is_empty() {
                self.contexts.remove(&ctx);
                info!(context = ctx, "context deleted");
            }
        }
        if wildcard_return {
            return Ok(vec![CommandReply::Subtract(AmmsReply {
                termination_ids: ids.into(),
                audit: None,
            })]);
        }
        Ok(replies)
    }

    // ------------------------------------------------------------------ Audit

    fn packages(&self) -> Vec<PackagesItem> {
        AUDIT_PACKAGES
            .iter()
            .map(|n| PackagesItem {
                name: (*n).into(),
                version: self
                    .registry
                    .package_by_name(n)
                    .map(|p| p.version)
                    .unwrap_or(1),
            })
            .collect()
    }

    fn audit(
        &mut self,
        now: Instant,
        ctx: ContextId,
        r: &AuditRequest,
        capabilities: bool,
    ) -> Res<Vec<CommandReply>> {
        let wrap = |a: AuditReply| {
            if capabilities {
                CommandReply::AuditCapabilities(a)
            } else {
                CommandReply::AuditValue(a)
            }
        };
        let empty = AuditDescriptor::default();
        let a = r.audit.as_ref().unwrap_or(&empty);
        let ids: Vec<TerminationId> = match ctx {
            ContextId::Null => {
                if let [t] = r.termination_ids.as_slice() {
                    if t.is_root() {
                        let mut out = Vec::new();
                        let wants_packages = a.items.contains(&AuditItem::Packages)
                            || a.ind_aud
                                .iter()
                                .any(|i| matches!(i, IndAuditParameter::Packages(_)));
                        if wants_packages {
                            out.push(AuditReturnParameter::Packages(self.packages()));
                        }
                        if capabilities && a.items.contains(&AuditItem::Media) {
                            out.push(AuditReturnParameter::Media(self.realm_capabilities()));
                        }
                        if a.items.contains(&AuditItem::Events) {
                            if let Some(e) = &self.root_events {
                                out.push(AuditReturnParameter::Events(e.clone()));
                            }
                        }
                        return Ok(vec![wrap(AuditReply::AuditResult {
                            termination_ids: [TerminationId::root()].into(),
                            audit: out,
                        })]);
                    }
                }
                for t in &r.termination_ids {
                    if let Some(x) = self.terms.get(t) {
                        return Err(err(
                            NOT_IN_CONTEXT,
                            &format!("{} is in context {}", t.as_str(), x.context),
                        ));
                    }
                }
                return Err(err(
                    UNKNOWN_TERMINATION,
                    &format!(
                        "unknown termination {}",
                        r.termination_ids
                            .first()
                            .map(TerminationId::as_str)
                            .unwrap_or("")
                    ),
                ));
            }
            ContextId::Id(id) => self.resolve(id, &r.termination_ids)?,
            c => {
                return Err(err(
                    ILLEGAL_ACTION,
                    &format!("audit in context {}", ctx_text(c)),
                ))
            }
        };
        let mut out = Vec::new();
        for id in ids {
            let t = self.terms[&id].clone();
            let audit = if capabilities {
                let mut v = Vec::new();
                if a.items.is_empty() || a.items.contains(&AuditItem::Media) {
                    v.push(AuditReturnParameter::Media(self.realm_capabilities()));
                }
                if a.items.contains(&AuditItem::Packages) {
                    v.push(AuditReturnParameter::Packages(self.packages()));
                }
                v
            } else {
                self.audit_items(now, &t, a)?
            };
            out.push(wrap(AuditReply::AuditResult {
                termination_ids: [id].into(),
                audit,
            }));
        }
        Ok(out)
    }

    /// `TerminationState { ipdc/realm = { realms } }`: the realms one can choose.
    fn realm_capabilities(&self) -> MediaDescriptor {
        MediaDescriptor {
            termination_state: Some(TerminationStateDescriptor {
                props: vec![PropertyParm {
                    name: PROP_REALM.into(),
                    value: self
                        .config
                        .realms
                        .iter()
                        .map(|r| r.as_str().into())
                        .collect(),
                    extra: Some(ExtraInfo::Sublist(false)),
                }],
                event_buffer_control: None,
                service_state: None,
            }),
            streams: None,
        }
    }

    fn audit_items(
        &self,
        now: Instant,
        t: &Term,
        a: &AuditDescriptor,
    ) -> Res<Vec<AuditReturnParameter>> {
        self.audit_items_with(now, t, a, None)
    }

    fn audit_items_with(
        &self,
        now: Instant,
        t: &Term,
        a: &AuditDescriptor,
        final_stats: Option<&BTreeMap<u16, LegStats>>,
    ) -> Res<Vec<AuditReturnParameter>> {
        let mut out = Vec::new();
        let all_stats = || self.statistics(now, t, final_stats);
        for item in &a.items {
            match item {
                AuditItem::Media => out.push(AuditReturnParameter::Media(self.media_of(t))),
                AuditItem::Statistics => out.push(AuditReturnParameter::Statistics(all_stats())),
                AuditItem::Events => out.push(match &t.events {
                    Some(e) => AuditReturnParameter::Events(e.clone()),
                    None => AuditReturnParameter::Empty(AuditItem::Events),
                }),
                AuditItem::Signals => out.push(match &t.signals {
                    Some(s) => AuditReturnParameter::Signals(s.clone()),
                    None => AuditReturnParameter::Empty(AuditItem::Signals),
                }),
                AuditItem::Packages => out.push(AuditReturnParameter::Packages(self.packages())),
                other => out.push(AuditReturnParameter::Empty(*other)),
            }
        }
        let mut picked: Vec<StatisticsParameter> = Vec::new();
        for i in &a.ind_aud {
            match i {
                IndAuditParameter::Statistics(name) => {
                    let s = all_stats()
                        .into_iter()
                        .find(|s| s.name == name)
                        .ok_or_else(|| {
                            err(NO_SUCH_AUDITED_ITEM, &format!("no statistic {name}"))
                        })?;
                    picked.push(s);
                }
                IndAuditParameter::Media(_) => {
                    if !out
                        .iter()
                        .any(|o| matches!(o, AuditReturnParameter::Media(_)))
                    {
                        out.push(AuditReturnParameter::Media(self.media_of(t)))
                    }
                }
                IndAuditParameter::Packages(_) => {
                    out.push(AuditReturnParameter::Packages(self.packages()))
                }
                IndAuditParameter::Events { .. } => {
                    if let Some(e) = &t.events {
                        out.push(AuditReturnParameter::Events(e.clone()))
                    }
                }
                IndAuditParameter::Signals(_) => {
                    if let Some(s) = &t.signals {
                        out.push(AuditReturnParameter::Signals(s.clone()))
                    }
                }
                other => {
                    return Err(err(
                        NOT_IMPLEMENTED,
                        &format!("individual audit of {other:?} is not supported"),
                    ))
                }
            }
        }
        if !picked.is_empty() {
            out.push(AuditReturnParameter::Statistics(picked));
        }
        Ok(out)
    }

    fn media_of(&self, t: &Term) -> MediaDescriptor {
        let mut ts_props = t.ts_props.clone();
        if first_prop(&ts_props, PROP_REALM).is_none() {
            if let Some(r) = t
                .streams
                .values()
                .find_map(|s| s.leg.as_ref().map(|l| l.spec.realm.clone()))
            {
                ts_props.insert(0, PropertyParm::new(PROP_REALM, &r));
            }
        }
        let streams = t
            .streams
            .iter()
            .map(|(id, s)| StreamDescriptor {
                id: *id,
                parms: StreamParms {
                    local_control: Some(LocalControlDescriptor {
                        mode: Some(s.mode.unwrap_or(H248Mode::SendRecv)),
                        reserve_group: None,
                        reserve_value: None,
                        props: s.lc_props.clone(),
                    }),
                    local: s.local.as_ref().map(Stored::get),
                    remote: s.remote.as_ref().map(Stored::get),
                    statistics: None,
                },
            })
            .collect::<Vec<_>>();
        MediaDescriptor {
            termination_state: Some(TerminationStateDescriptor {
                props: ts_props,
                event_buffer_control: None,
                service_state: Some(if t.out_of_service {
                    ServiceState::OutOfSvc
                } else {
                    t.service_state.unwrap_or(ServiceState::InSvc)
                }),
            }),
            streams: (!streams.is_empty()).then_some(Streams::Multi(streams)),
        }
    }

    /// The termination's statistics (summed over its legs).
    fn statistics(
        &self,
        now: Instant,
        t: &Term,
        final_stats: Option<&BTreeMap<u16, LegStats>>,
    ) -> Vec<StatisticsParameter> {
        let mut sum = LegStats::default();
        let mut jitter_ms: Option<f64> = None;
        let mut jitter_units = 0u32;
        let mut access = false;
        for (sid, s) in &t.streams {
            let Some(l) = &s.leg else { continue };
            let st = match final_stats.and_then(|f| f.get(sid)) {
                Some(st) => *st,
                None => self.media.stats(l.id).unwrap_or_default(),
            };
            access |= l.spec.kind == LegKind::DtlsSrtp;
            sum.packets_received += st.packets_received;
            sum.packets_sent += st.packets_sent;
            sum.octets_received += st.octets_received;
            sum.octets_sent += st.octets_sent;
            sum.packets_lost += st.packets_lost;
            sum.srtp_auth_failures += st.srtp_auth_failures;
            let rate = s
                .remote
                .as_ref()
                .or(s.local.as_ref())
                .map(Stored::get)
                .and_then(|d| sdp::first_sdp(&d, "").ok().flatten())
                .and_then(|x| sdp::clock_rate(&x));
            match rate {
                Some(r) if r > 0 => {
                    let ms = f64::from(st.jitter) * 1000.0 / f64::from(r);
                    jitter_ms = Some(jitter_ms.map_or(ms, |j: f64| j.max(ms)));
                }
                _ => jitter_units = jitter_units.max(st.jitter),
            }
        }
        let expected = sum.packets_received + sum.packets_lost;
        let loss = if expected == 0 {
            0.0
        } else {
            sum.packets_lost as f64 * 100.0 / expected as f64
        };
        let jit = match jitter_ms {
            Some(ms) => format!(
                "{}",
                (ms.max(f64::from(jitter_units)) * 100.0).round() / 100.0
            ),
            None => jitter_units.to_string(),
        };
        let dur = now.saturating_duration_since(t.created).as_millis();
        let mut v = vec![
            stat(stats::DURATION, dur.to_string()),
            stat(stats::OCTETS_SENT, sum.octets_sent.to_string()),
            stat(stats::OCTETS_RECEIVED, sum.octets_received.to_string()),
            stat(stats::PACKETS_SENT, sum.packets_sent.to_string()),
            stat(stats::PACKETS_RECEIVED, sum.packets_received.to_string()),
            stat(
                stats::PACKET_LOSS,
                format!("{}", (loss * 100.0).round() / 100.0),
            ),
            stat(stats::JITTER, jit),
        ];
        if access {
            v.push(stat(
                stats::SRTP_AUTH_FAILURES,
                sum.srtp_auth_failures.to_string(),
            ));
        }
        v
    }

    // ------------------------------------------------------------------ ServiceChange

    fn service_change(
        &mut self,
        now: Instant,
        ctx: ContextId,
        r: &ServiceChangeRequest,
    ) -> Res<Vec<CommandReply>> {
        if r.termination_ids.iter().any(TerminationId::is_root) {
            return Err(err(
                NOT_IMPLEMENTED,
                "ServiceChange on ROOT must be the only command of its transaction",
            ));
        }
        let ids = match ctx {
            ContextId::Id(id) => self.resolve(id, &r.termination_ids)?,
            ContextId::Null => {
                let mut out = Vec::new();
                for t in &r.termination_ids {
                    let m: Vec<_> = self
                        .terms
                        .keys()
                        .filter(|x| matches(t.as_str(), x.as_str()))
                        .cloned()
                        .collect();
                    if m.is_empty() {
                        return Err(err(
                            if t.is_wildcard() {
                                NO_WILDCARD_MATCH
                            } else {
                                UNKNOWN_TERMINATION
                            },
                            &format!("unknown termination {}", t.as_str()),
                        ));
                    }
                    out.extend(m);
                }
                out
            }
            c => {
                return Err(err(
                    ILLEGAL_ACTION,
                    &format!("ServiceChange in context {}", ctx_text(c)),
                ))
            }
        };
        let out_of_service = match r.parms.method {
            ServiceChangeMethod::Forced | ServiceChangeMethod::Graceful => true,
            ServiceChangeMethod::Restart => false,
            ref m => {
                return Err(err(
                    NOT_IMPLEMENTED,
                    &format!("ServiceChange method {m:?} on a termination is not supported"),
                ))
            }
        };
        let mut work: Vec<Term> = ids.iter().map(|i| self.terms[i].clone()).collect();
        let mut undo = Vec::new();
        let default_realm = self.default_realm()?;
        for t in &mut work {
            t.out_of_service = out_of_service;
            t.service_state = Some(if out_of_service {
                ServiceState::OutOfSvc
            } else {
                ServiceState::InSvc
            });
            let sids: Vec<u16> = t.streams.keys().copied().collect();
            for sid in sids {
                if let Err(e) = self.sync_stream(now, t, sid, &default_realm, &mut undo) {
                    self.rollback(now, undo);
                    return Err(e);
                }
            }
        }
        let mut replies = Vec::new();
        for t in work {
            info!(
                term = t.id.as_str(),
                out_of_service, "service change from the MGC"
            );
            replies.push(CommandReply::ServiceChange(ServiceChangeReply {
                termination_ids: [t.id.clone()].into(),
                result: ServiceChangeResult::Parms(ServiceChangeResParm::default()),
            }));
            self.terms.insert(t.id.clone(), t);
        }
        Ok(replies)
    }

    // ------------------------------------------------------------------ media events

    /// A report from the media plane. Returns the Notify to send to the ALG when the leg's
    /// termination asked for the event (Events descriptor): `xdtls/estfail { cause }` for a
    /// failed DTLS handshake, with that descriptor's requestID and a time stamp.
    pub fn handle_media_event(
        &mut self,
        now: Instant,
        ev: MediaEvent,
    ) -> Option<Vec<ActionRequest>> {
        let _ = now;
        match ev {
            MediaEvent::DtlsFailed { leg, cause } => {
                let (tid, sid) = self.legs.get(&leg)?.clone();
                let t = self.terms.get(&tid)?;
                let span = info_span!("termination", term = tid.as_str(), ctx = t.context);
                let _g = span.enter();
                warn!(leg = leg.0, stream = sid, %cause, "DTLS failed");
                let events = t.events.as_ref()?;
                let request_id = events.request_id?;
                let requested = events
                    .events
                    .iter()
                    .find(|e| e.name == EVENT_DTLS_FAILURE && e.stream.is_none_or(|s| s == sid))?;
                let observed = ObservedEvent {
                    name: EVENT_DTLS_FAILURE.into(),
                    stream: requested.stream,
                    params: vec![PropertyParm {
                        name: "cause".into(),
                        value: iq_codec::model::one_value(cause),
                        extra: None,
                    }],
                    timestamp: Some(time_notation((self.wall_clock)())),
                };
                info!(request_id, "notifying xdtls/estfail");
                Some(vec![ActionRequest {
                    context: ContextId::Id(t.context),
                    context_request: None,
                    context_audit: None,
                    commands: vec![CommandRequest {
                        command: Command::Notify(NotifyRequest {
                            termination_ids: [tid.clone()].into(),
                            observed_events: Some(ObservedEventsDescriptor {
                                request_id,
                                events: vec![observed],
                            }),
                            error: None,
                        }),
                        optional: false,
                        wildcard_return: false,
                    }],
                }])
            }
            MediaEvent::DtlsConnected { leg, profile } => {
                info!(leg = leg.0, profile, term = ?self.legs.get(&leg).map(|x| x.0.as_str().to_string()), "DTLS connected");
                None
            }
            MediaEvent::ConsentExpired { leg } => {
                warn!(leg = leg.0, term = ?self.legs.get(&leg).map(|x| x.0.as_str().to_string()), "ICE consent expired");
                None
            }
            MediaEvent::PeerLearned { leg, addr } => {
                debug!(leg = leg.0, %addr, "peer learned");
                None
            }
        }
    }
}

fn stat(name: &str, v: String) -> StatisticsParameter {
    StatisticsParameter {
        name: name.into(),
        value: Some(iq_codec::model::one_value(v)),
    }
}

fn same_kind(a: &AuditReturnParameter, b: &AuditReturnParameter) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn ctx_text(c: ContextId) -> String {
    match c {
        ContextId::Null => "-".into(),
        ContextId::Choose => "$".into(),
        ContextId::All => "*".into(),
        ContextId::Id(i) => i.to_string(),
    }
}

/// The streams of a Media descriptor with their IDs (the single-stream form is stream 1).
fn streams_of(m: &MediaDescriptor) -> Vec<(u16, &StreamParms)> {
    match &m.streams {
        Some(Streams::One(p)) => vec![(1, p)],
        Some(Streams::Multi(v)) => v.iter().map(|s| (s.id, &s.parms)).collect(),
        None => Vec::new(),
    }
}

fn ds_streams(ds: &[AmmDescriptor]) -> impl Iterator<Item = u16> + '_ {
    ds.iter().flat_map(|d| match d {
        AmmDescriptor::Media(m) => streams_of(m).into_iter().map(|(i, _)| i).collect(),
        _ => Vec::new(),
    })
}

/// Replace properties by name, add new ones.
fn merge_props(into: &mut Vec<PropertyParm>, new: &[PropertyParm]) {
    for p in new {
        match into.iter_mut().find(|x| x.name == p.name) {
            Some(x) => *x = p.clone(),
            None => into.push(p.clone()),
        }
    }
}

fn descriptor_name(d: &AmmDescriptor) -> &'static str {
    match d {
        AmmDescriptor::Media(_) => "Media",
        AmmDescriptor::Modem(_) => "Modem",
        AmmDescriptor::Mux(_) => "Mux",
        AmmDescriptor::Events(_) => "Events",
        AmmDescriptor::EventBuffer(_) => "EventBuffer",
        AmmDescriptor::Signals(_) => "Signals",
        AmmDescriptor::DigitMap(_) => "DigitMap",
        AmmDescriptor::Audit(_) => "Audit",
        AmmDescriptor::Statistics(_) => "Statistics",
    }
}

/// 448 for a descriptor that appears twice.
fn check_descriptors(ds: &[AmmDescriptor]) -> Res<()> {
    for (i, d) in ds.iter().enumerate() {
        if ds[..i]
            .iter()
            .any(|e| std::mem::discriminant(e) == std::mem::discriminant(d))
        {
            return Err(err(
                DESCRIPTOR_TWICE,
                &format!("{} descriptor appears twice", descriptor_name(d)),
            ));
        }
    }
    Ok(())
}

/// The reply of an optional command that failed.
fn error_reply(c: &Command, e: ErrorDescriptor) -> CommandReply {
    let amms = |ids: &[TerminationId]| AmmsReply {
        termination_ids: ids.into(),
        audit: Some(vec![AuditReturnParameter::Error(e.clone())]),
    };
    match c {
        Command::Add(r) => CommandReply::Add(amms(&r.termination_ids)),
        Command::Move(r) => CommandReply::Move(amms(&r.termination_ids)),
        Command::Modify(r) => CommandReply::Modify(amms(&r.termination_ids)),
        Command::Subtract(r) => CommandReply::Subtract(amms(&r.termination_ids)),
        Command::AuditValue(_) => CommandReply::AuditValue(AuditReply::Error(e)),
        Command::AuditCapabilities(_) => CommandReply::AuditCapabilities(AuditReply::Error(e)),
        Command::Notify(r) => CommandReply::Notify(NotifyReply {
            termination_ids: r.termination_ids.clone(),
            error: Some(e),
        }),
        Command::ServiceChange(r) => CommandReply::ServiceChange(ServiceChangeReply {
            termination_ids: r.termination_ids.clone(),
            result: ServiceChangeResult::Error(e),
        }),
    }
}

#[cfg(test)]
mod tests;
