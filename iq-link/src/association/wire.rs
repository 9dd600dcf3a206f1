//! Building and recognising the messages the association itself sends and answers:
//! ServiceChange on ROOT, the empty AuditValue on ROOT and the H.248.14 inactivity timer.

use std::time::Duration;

use iq_codec::model::{
    ActionReply, ActionRequest, AmmDescriptor, AmmRequest, AmmsReply, AuditReply, AuditRequest,
    Command, CommandReply, CommandRequest, ContextId, ErrorDescriptor, EventsDescriptor, MId,
    NotifyReply, NotifyRequest, ObservedEvent, ObservedEventsDescriptor, PropertyParm,
    RequestedEvent, ServiceChangeAddress, ServiceChangeMethod, ServiceChangeParm,
    ServiceChangeProfile, ServiceChangeReply, ServiceChangeRequest, ServiceChangeResParm,
    ServiceChangeResult, TerminationId, TransactionResult,
};

use super::reason;

/// `it/ito`: the H.248.14 inactivity timeout event.
pub(crate) const ITO: &str = "it/ito";
/// `mit`: its maximum inactivity time parameter.
pub(crate) const MIT: &str = "mit";
/// Unit of `mit` [U: recalled from H.248.14, not verified here; see the module docs].
pub(crate) const MIT_UNIT: Duration = Duration::from_millis(10);

fn one_command(context: ContextId, command: Command) -> Vec<ActionRequest> {
    vec![ActionRequest {
        context,
        context_request: None,
        context_audit: None,
        commands: vec![CommandRequest {
            command,
            optional: false,
            wildcard_return: false,
        }],
    }]
}

fn one_reply(command: CommandReply) -> TransactionResult {
    TransactionResult::Actions(vec![ActionReply {
        context: ContextId::Null,
        error: None,
        context_reply: None,
        commands: vec![command],
    }])
}

/// The parts of a ServiceChange the association fills in.
#[derive(Debug, Clone)]
pub(crate) struct ScParms {
    pub method: ServiceChangeMethod,
    pub reason: u16,
    pub version: Option<u8>,
    pub profile: Option<ServiceChangeProfile>,
    pub address: Option<ServiceChangeAddress>,
    pub delay: Option<Duration>,
    pub mgc_id: Option<MId>,
}

impl ScParms {
    pub(crate) fn new(method: ServiceChangeMethod, reason: u16) -> Self {
        ScParms {
            method,
            reason,
            version: None,
            profile: None,
            address: None,
            delay: None,
            mgc_id: None,
        }
    }
}

/// `Context = - { ServiceChange = ROOT { Services { ... } } }`.
pub(crate) fn service_change(p: ScParms) -> Vec<ActionRequest> {
    let parms = ServiceChangeParm {
        method: p.method,
        address: p.address,
        version: p.version,
        profile: p.profile,
        reason: Some(reason::format(p.reason)),
        delay: p
            .delay
            .map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
        mgc_id: p.mgc_id,
        timestamp: None,
        extensions: Vec::new(),
        info: None,
        incomplete: false,
    };
    one_command(
        ContextId::Null,
        Command::ServiceChange(ServiceChangeRequest {
            termination_ids: [TerminationId::root()].into(),
            parms: Box::new(parms),
        }),
    )
}

/// The reply to a ServiceChange on ROOT: its parameters, or an error in the command reply.
pub(crate) fn service_change_reply(result: ServiceChangeResult) -> TransactionResult {
    one_reply(CommandReply::ServiceChange(ServiceChangeReply {
        termination_ids: [TerminationId::root()].into(),
        result,
    }))
}

pub(crate) fn service_change_accepted(parms: ServiceChangeResParm) -> TransactionResult {
    service_change_reply(ServiceChangeResult::Parms(parms))
}

pub(crate) fn service_change_refused(code: u16, text: &str) -> TransactionResult {
    service_change_reply(ServiceChangeResult::Error(error(code, text)))
}

pub(crate) fn error(code: u16, text: &str) -> ErrorDescriptor {
    ErrorDescriptor {
        code,
        text: Some(text.into()),
    }
}

/// An error for the whole transaction (`Reply = id { Error = code { "text" } }`).
pub(crate) fn transaction_error(code: u16, text: &str) -> TransactionResult {
    TransactionResult::Error(error(code, text))
}

/// `Context = - { AuditValue = ROOT }`: the MGC's keepalive over UDP (TS 29.334 Table 5.12.3).
pub(crate) fn audit_root() -> Vec<ActionRequest> {
    one_command(
        ContextId::Null,
        Command::AuditValue(AuditRequest {
            termination_ids: [TerminationId::root()].into(),
            audit: None,
        }),
    )
}

/// The answer to an empty AuditValue on ROOT: ROOT, nothing audited.
pub(crate) fn audit_root_reply() -> TransactionResult {
    one_reply(CommandReply::AuditValue(AuditReply::AuditResult {
        termination_ids: [TerminationId::root()].into(),
        audit: Vec::new(),
    }))
}

/// `Modify = ROOT { Events = rid { it/ito { mit = n } } }`: arms the MG's inactivity timer.
pub(crate) fn inactivity_timer(request_id: u32, mit: Duration) -> Vec<ActionRequest> {
    let units = (mit.as_millis() / MIT_UNIT.as_millis()).max(1);
    let mut ev = RequestedEvent::new(ITO);
    ev.params.push(PropertyParm::new(MIT, &units.to_string()));
    one_command(
        ContextId::Null,
        Command::Modify(AmmRequest {
            termination_ids: [TerminationId::root()].into(),
            descriptors: vec![AmmDescriptor::Events(EventsDescriptor {
                request_id: Some(request_id),
                events: vec![ev],
            })],
        }),
    )
}

pub(crate) fn modify_root_reply() -> TransactionResult {
    one_reply(CommandReply::Modify(AmmsReply {
        termination_ids: [TerminationId::root()].into(),
        audit: None,
    }))
}

/// `Notify = ROOT { ObservedEvents = rid { it/ito } }`: the MG has heard nothing for `mit`.
pub(crate) fn inactivity_timeout(request_id: u32) -> Vec<ActionRequest> {
    one_command(
        ContextId::Null,
        Command::Notify(NotifyRequest {
            termination_ids: [TerminationId::root()].into(),
            observed_events: Some(ObservedEventsDescriptor {
                request_id,
                events: vec![ObservedEvent {
                    name: ITO.into(),
                    stream: None,
                    params: Vec::new(),
                    timestamp: None,
                }],
            }),
            error: None,
        }),
    )
}

pub(crate) fn notify_root_reply() -> TransactionResult {
    one_reply(CommandReply::Notify(NotifyReply {
        termination_ids: [TerminationId::root()].into(),
        error: None,
    }))
}

/// What an incoming request is, as far as the association is concerned.
#[derive(Debug)]
pub(crate) enum Incoming<'a> {
    /// One ServiceChange on ROOT.
    ServiceChange(&'a ServiceChangeParm),
    /// One AuditValue on ROOT asking for nothing: a keepalive.
    AuditRoot,
    /// One Modify on ROOT whose only descriptor is Events with at most `it/ito`: the
    /// inactivity timer armed (request ID, `mit`) or disarmed (`None`).
    InactivityTimer(Option<(u32, Duration)>),
    /// One Notify on ROOT reporting only `it/ito`.
    InactivityTimeout,
    /// Anything else: for the application.
    Other,
}

/// The single command of a request, if it has exactly one and it is on ROOT alone.
fn single_root_command(actions: &[ActionRequest]) -> Option<&Command> {
    let [action] = actions else { return None };
    let [command] = action.commands.as_slice() else {
        return None;
    };
    if action.context != ContextId::Null {
        return None;
    }
    let ids = match &command.command {
        Command::ServiceChange(r) => &r.termination_ids,
        Command::AuditValue(r) => &r.termination_ids,
        Command::Modify(r) => &r.termination_ids,
        Command::Notify(r) => &r.termination_ids,
        _ => return None,
    };
    matches!(ids.as_slice(), [t] if t.is_root()).then_some(&command.command)
}

pub(crate) fn classify(actions: &[ActionRequest]) -> Incoming<'_> {
    match single_root_command(actions) {
        Some(Command::ServiceChange(r)) => Incoming::ServiceChange(&r.parms),
        Some(Command::AuditValue(r))
            if r.audit
                .as_ref()
                .is_none_or(|a| a.items.is_empty() && a.ind_aud.is_empty()) =>
        {
            Incoming::AuditRoot
        }
        Some(Command::Modify(r)) => match r.descriptors.as_slice() {
            [AmmDescriptor::Events(ed)] => match ed.events.as_slice() {
                [] => Incoming::InactivityTimer(None),
                [ev] if ev.name == ITO => {
                    let mit = ev
                        .params
                        .iter()
                        .find(|p| p.name == MIT)
                        .and_then(|p| p.value.first())
                        .and_then(|v| v.parse::<u32>().ok());
                    match (ed.request_id, mit) {
                        (Some(rid), Some(units)) if units > 0 => {
                            Incoming::InactivityTimer(Some((rid, MIT_UNIT * units)))
                        }
                        _ => Incoming::Other,
                    }
                }
                _ => Incoming::Other,
            },
            _ => Incoming::Other,
        },
        Some(Command::Notify(r)) => match &r.observed_events {
            Some(oe) if !oe.events.is_empty() && oe.events.iter().all(|e| e.name == ITO) => {
                Incoming::InactivityTimeout
            }
            _ => Incoming::Other,
        },
        _ => Incoming::Other,
    }
}

/// How a ServiceChange we sent was answered.
#[derive(Debug)]
pub(crate) enum ScOutcome {
    Accepted(ServiceChangeResParm),
    Refused(ErrorDescriptor),
}

/// The outcome of a ServiceChange from its transaction result: an error for the transaction,
/// the action or the command refuses it; otherwise the ServiceChange reply's parameters (none
/// if the reply carries no ServiceChange, as lenient peers do).
pub(crate) fn sc_outcome(result: &TransactionResult) -> ScOutcome {
    let actions = match result {
        TransactionResult::Error(e) => return ScOutcome::Refused(e.clone()),
        TransactionResult::Actions(a) => a,
    };
    for a in actions {
        if let Some(e) = &a.error {
            return ScOutcome::Refused(e.clone());
        }
        for c in &a.commands {
            if let CommandReply::ServiceChange(r) = c {
                return match &r.result {
                    ServiceChangeResult::Error(e) => ScOutcome::Refused(e.clone()),
                    ServiceChangeResult::Parms(p) => ScOutcome::Accepted(p.clone()),
                };
            }
        }
    }
    ScOutcome::Accepted(ServiceChangeResParm::default())
}

/// Do two mIds name the same entity? Domain and device names compare without case (the text
/// decoder lower-cases them, configurations may not); a port counts only if both give one.
pub(crate) fn mid_matches(a: &MId, b: &MId) -> bool {
    let ports = |x: &Option<u16>, y: &Option<u16>| x.is_none() || y.is_none() || x == y;
    match (a, b) {
        (MId::Ip4 { addr: x, port: p }, MId::Ip4 { addr: y, port: q }) => x == y && ports(p, q),
        (MId::Ip6 { addr: x, port: p }, MId::Ip6 { addr: y, port: q }) => x == y && ports(p, q),
        (MId::Domain { name: x, port: p }, MId::Domain { name: y, port: q }) => {
            x.eq_ignore_ascii_case(y) && ports(p, q)
        }
        (MId::Device(x), MId::Device(y)) | (MId::Mtp(x), MId::Mtp(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}
