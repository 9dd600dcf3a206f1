//! The MGC (IMS-ALG) side of the control associations, one per configured MG.
//!
//! See the [module docs](super) for the state diagram and the defaults.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_codec::model::{
    ActionRequest, ErrorDescriptor, MId, Message, MessageBody, ServiceChangeMethod,
    ServiceChangeParm, ServiceChangeProfile, ServiceChangeResParm, Transaction, TransactionId,
    TransactionReply, TransactionResult,
};
use tracing::{debug, debug_span, info, trace, warn};

use super::wire::{self, Incoming, ScOutcome, ScParms};
use super::{error_code, reason, Error};
use crate::transaction::{self, Codec, Endpoint};

/// One MG we accept registrations from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MgEntry {
    /// Its mId, as it writes it in its message headers (domain names compare without case;
    /// a port counts only if both sides give one).
    pub mid: MId,
    /// The address its messages come from.
    pub address: IpAddr,
    /// The source port, if it must match too (`None`: any port, e.g. an SCTP client port).
    pub port: Option<u16>,
    /// Answer its registrations with `MgcIdToTry` = this MGC instead of accepting them
    /// (H.248.1 §11.2 redirection). Default `None`.
    pub redirect_to: Option<MId>,
}

impl MgEntry {
    /// An MG at this address and port.
    pub fn new(mid: MId, address: SocketAddr) -> Self {
        MgEntry {
            mid,
            address: address.ip(),
            port: Some(address.port()),
            redirect_to: None,
        }
    }

    /// An MG at this address, any source port.
    pub fn any_port(mid: MId, address: IpAddr) -> Self {
        MgEntry {
            mid,
            address,
            port: None,
            redirect_to: None,
        }
    }

    fn matches_address(&self, from: SocketAddr) -> bool {
        self.address == from.ip() && self.port.is_none_or(|p| p == from.port())
    }
}

/// How the MGC watches a registered MG over an unreliable transport (TS 29.334 Table 5.12.3).
/// Over SCTP the transport's own heartbeats do it and nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Keepalive {
    /// Nothing beyond counting unanswered requests ([`MgcConfig::max_failures`]).
    Off,
    /// An empty AuditValue on ROOT after `interval` without any message from the MG (the
    /// MGC-driven method).
    AuditRoot {
        /// Idle time before a keepalive.
        interval: Duration,
    },
    /// Ask the MG for H.248.14 inactivity notifications (`it/ito` with `mit`) on
    /// registration (the MG-driven method); silence for `max_failures × mit` means the MG is
    /// lost. An MG that refuses the request is audited on ROOT after `mit` idle instead.
    InactivityTimer {
        /// Maximum inactivity time for the MG.
        mit: Duration,
        /// Request ID of the Events descriptor.
        request_id: u32,
    },
}

/// Configuration of the MGC side.
///
/// Build with [`MgcConfig::new`] and change the public fields; [`Mgc::new`] checks them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MgcConfig {
    /// The transaction engine's configuration, one engine per MG; its `mid` is ours, its
    /// `version` is overridden by the negotiated one, `reliable` says whether keepalives run.
    pub transaction: transaction::Config,
    /// The MGs we control. Registrations from anyone else are refused with 504.
    pub mgs: Vec<MgEntry>,
    /// Highest protocol version we speak. Default 3 (digest §1.2).
    pub max_version: u8,
    /// Lowest protocol version we accept; below it a registration gets 406 (H.248.1 §11.3).
    /// Default 2 (digest §1.2).
    pub min_version: u8,
    /// Profiles we accept; an MG offering another gets 459 "Unsupported or Unknown Profile".
    /// Empty accepts any (the Iq profile name is unverified, digest §1.1). Default empty.
    pub accepted_profiles: Vec<ServiceChangeProfile>,
    /// Echo the MG's profile in the registration reply (digest §3.4 does). Default `true`.
    pub echo_profile: bool,
    /// Liveness checks over unreliable transports. Default `AuditRoot` every 30 s.
    pub keepalive: Keepalive,
    /// Consecutive requests to an MG that end without a reply (T-MAX, Pending limit) before
    /// it is declared lost; 0 never. Default 3.
    pub max_failures: u32,
}

impl MgcConfig {
    /// Defaults for everything but our mId and the MGs.
    pub fn new(mid: MId, mgs: Vec<MgEntry>) -> Self {
        MgcConfig {
            transaction: transaction::Config::new(mid),
            mgs,
            max_version: 3,
            min_version: 2,
            accepted_profiles: Vec::new(),
            echo_profile: true,
            keepalive: Keepalive::AuditRoot {
                interval: Duration::from_secs(30),
            },
            max_failures: 3,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        let bad = |what| Err(Error::InvalidConfig(what));
        if self.min_version == 0 || self.min_version > self.max_version {
            return bad("need 1 <= min_version <= max_version");
        }
        match &self.keepalive {
            Keepalive::AuditRoot { interval } if interval.is_zero() => {
                return bad("keepalive interval must be above zero")
            }
            Keepalive::InactivityTimer { mit, .. } if *mit < wire::MIT_UNIT => {
                return bad("inactivity timer mit must be at least 10 ms")
            }
            Keepalive::InactivityTimer { .. } if self.max_failures == 0 => {
                return bad("the inactivity timer needs max_failures above zero")
            }
            _ => {}
        }
        Ok(())
    }
}

/// One message for the transport: to whom, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Destination: where the MG's messages come from.
    pub to: SocketAddr,
    /// The encoded message.
    pub bytes: Vec<u8>,
    /// How many transactions it carries.
    pub transactions: usize,
}

/// Why an MG was declared lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LossCause {
    /// The driver reported [`Mgc::transport_down`].
    TransportDown,
    /// [`MgcConfig::max_failures`] requests in a row got no reply.
    Unanswered {
        /// How many.
        failures: u32,
    },
    /// Nothing heard for this long while the inactivity timer should have made the MG talk.
    Silent {
        /// How long.
        silence: Duration,
    },
    /// The MG registered again with a version we do not accept, or was redirected.
    Reregistration,
}

/// How a ServiceChange we sent to an MG ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceChangeOutcome {
    /// The MG accepted it.
    Accepted,
    /// The MG answered with an error.
    Refused(ErrorDescriptor),
    /// No reply.
    NoReply,
}

/// How to take an MG out of service ([`Mgc::take_out_of_service`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutOfService {
    /// At once; the MG's contexts are gone (H.248.1 7.2.8 `Forced`).
    Forced,
    /// After the calls end or `delay` runs out (H.248.1 7.2.8 `Graceful`).
    Graceful {
        /// `Delay`.
        delay: Option<Duration>,
    },
}

/// What the MGC side tells its application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An MG registered (or registered again: a `Restart` means it lost its state).
    MgRegistered {
        /// The MG.
        mid: MId,
        /// Negotiated version.
        version: u8,
        /// Profile agreed (the MG's, if it offered one).
        profile: Option<ServiceChangeProfile>,
        /// `Restart`, `Disconnected`, `Failover` or `HandOff`.
        method: ServiceChangeMethod,
        /// Reason code, if one could be read.
        reason: Option<u16>,
        /// Where it registered from.
        address: SocketAddr,
    },
    /// A configured MG was told to register elsewhere ([`MgEntry::redirect_to`]).
    MgRedirected {
        /// The MG.
        mid: MId,
        /// The MGC it was sent to.
        to: MId,
    },
    /// A request was refused: from an unknown peer or unregistered MG (504), or a
    /// registration with an unacceptable version (406) or profile (459).
    Refused {
        /// Source address.
        from: SocketAddr,
        /// The sender's mId, if the message could be read.
        mid: Option<MId>,
        /// The error code answered.
        code: u16,
    },
    /// A registered MG is gone.
    MgLost {
        /// The MG.
        mid: MId,
        /// Why.
        cause: LossCause,
    },
    /// A registered MG sent a ServiceChange on ROOT other than a registration (e.g. `Forced`
    /// or `Graceful` out-of-service, TS 23.334 "IMS-AGW Out-of-Service"); it was accepted.
    MgServiceChange {
        /// The MG.
        mid: MId,
        /// Method.
        method: ServiceChangeMethod,
        /// Reason code, if one could be read.
        reason: Option<u16>,
        /// `Delay`.
        delay: Option<Duration>,
    },
    /// A ServiceChange we sent ([`Mgc::take_out_of_service`], [`Mgc::hand_off`],
    /// [`Mgc::restore_service`]) was answered.
    ServiceChangeDone {
        /// The MG.
        mid: MId,
        /// Transaction ID returned when it was sent.
        id: TransactionId,
        /// Its method.
        method: ServiceChangeMethod,
        /// How it ended.
        outcome: ServiceChangeOutcome,
    },
    /// An MG accepted our HandOff and left for `to`; it is no longer registered here.
    MgHandedOff {
        /// The MG.
        mid: MId,
        /// The MGC it goes to.
        to: MId,
    },
    /// A request from a registered MG; answer with [`Mgc::send_reply`].
    Request {
        /// The MG.
        mg: MId,
        /// Transaction ID.
        id: TransactionId,
        /// The actions.
        actions: Vec<ActionRequest>,
    },
    /// The reply to one of the application's requests.
    Reply {
        /// The MG.
        mg: MId,
        /// Transaction ID.
        id: TransactionId,
        /// The result.
        result: TransactionResult,
    },
    /// One of the application's requests got no reply.
    Timeout {
        /// The MG.
        mg: MId,
        /// Transaction ID.
        id: TransactionId,
    },
    /// One of the application's requests was open when its MG was lost.
    Abandoned {
        /// The MG.
        mg: MId,
        /// Transaction ID.
        id: TransactionId,
    },
    /// Any other event of an MG's transaction engine.
    Transaction {
        /// The MG.
        mg: MId,
        /// The event.
        event: transaction::Event,
    },
}

/// A registered MG (see [`Mgc::registration`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Negotiated version.
    pub version: u8,
    /// Agreed profile.
    pub profile: Option<ServiceChangeProfile>,
    /// Where it registered from.
    pub address: SocketAddr,
}

#[derive(Debug)]
struct Slot {
    entry: MgEntry,
    remote: Option<SocketAddr>,
    ep: Option<Endpoint>,
    reg: Option<Registration>,
    failures: u32,
    last_rx: Option<Instant>,
    keepalive_due: Option<Instant>,
    keepalive_txn: Option<TransactionId>,
    /// Our ServiceChanges awaiting a reply: method and, for HandOff, the designated MGC.
    service_changes: BTreeMap<TransactionId, (ServiceChangeMethod, Option<MId>)>,
    /// The Modify arming the inactivity timer.
    inactivity_txn: Option<TransactionId>,
    /// The MG refused the inactivity timer: watch it with AuditValue ROOT every `mit`.
    inactivity_refused: bool,
    app_requests: BTreeSet<TransactionId>,
}

impl Slot {
    fn new(entry: MgEntry) -> Self {
        Slot {
            entry,
            remote: None,
            ep: None,
            reg: None,
            failures: 0,
            last_rx: None,
            keepalive_due: None,
            keepalive_txn: None,
            service_changes: BTreeMap::new(),
            inactivity_txn: None,
            inactivity_refused: false,
            app_requests: BTreeSet::new(),
        }
    }

    /// Forget the association: a later message starts from scratch.
    fn reset(&mut self) -> Vec<TransactionId> {
        self.ep = None;
        self.reg = None;
        self.failures = 0;
        self.keepalive_due = None;
        self.keepalive_txn = None;
        self.service_changes.clear();
        self.inactivity_txn = None;
        self.inactivity_refused = false;
        std::mem::take(&mut self.app_requests).into_iter().collect()
    }
}

/// The MGC side: accepts registrations from the configured MGs, negotiates version and
/// profile, watches them (keepalive), and takes them out of service or hands them off.
///
/// Sans-IO: one transaction [`Endpoint`] per MG inside; feed it what arrives with its source
/// address ([`handle_input`](Self::handle_input)), transport losses
/// ([`transport_down`](Self::transport_down)), the time when
/// [`poll_timeout`](Self::poll_timeout) comes ([`handle_timeout`](Self::handle_timeout)) and the
/// application's requests and replies; after each call drain
/// [`poll_transmit`](Self::poll_transmit) and [`poll_event`](Self::poll_event), then ask
/// `poll_timeout`. `now` must not go backwards.
#[derive(Debug)]
pub struct Mgc {
    config: MgcConfig,
    codec: Arc<dyn Codec>,
    slots: Vec<Slot>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

impl Mgc {
    /// A new MGC side. Fails if the configuration is inconsistent or its encoding is not
    /// available.
    pub fn new(config: MgcConfig) -> Result<Self, Error> {
        config.validate()?;
        Endpoint::new(config.transaction.clone())?;
        let codec = config
            .transaction
            .encoding
            .codec()
            .expect("checked by Endpoint::new");
        Ok(Mgc {
            slots: config.mgs.iter().cloned().map(Slot::new).collect(),
            config,
            codec,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MgcConfig {
        &self.config
    }

    /// The registration of an MG, if it is registered.
    pub fn registration(&self, mg: &MId) -> Option<&Registration> {
        self.slot(mg).ok().and_then(|i| self.slots[i].reg.as_ref())
    }

    /// The registered MGs.
    pub fn registered(&self) -> impl Iterator<Item = (&MId, &Registration)> {
        self.slots
            .iter()
            .filter_map(|s| Some((&s.entry.mid, s.reg.as_ref()?)))
    }

    /// The transaction engine of an MG's association, for inspection.
    pub fn endpoint(&self, mg: &MId) -> Option<&Endpoint> {
        self.slot(mg).ok().and_then(|i| self.slots[i].ep.as_ref())
    }

    // ------------------------------------------------------------------ driver calls

    /// A whole message arrived from `from`.
    pub fn handle_input(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        // The registered MG at this address takes it as it is.
        if let Some(i) = self
            .slots
            .iter()
            .position(|s| s.reg.is_some() && s.remote == Some(from) && s.ep.is_some())
        {
            return self.feed(now, i, from, bytes);
        }
        // Otherwise the sender must be configured: address and mId.
        match self.codec.decode(bytes) {
            Ok(msg) => {
                match self.slots.iter().position(|s| {
                    s.entry.matches_address(from) && wire::mid_matches(&s.entry.mid, &msg.mid)
                }) {
                    Some(i) => self.feed(now, i, from, bytes),
                    None => self.refuse_stranger(from, msg),
                }
            }
            // Let the engine answer a configured MG's garbage (400/403); drop a stranger's.
            Err(e) => match self
                .slots
                .iter()
                .position(|s| s.entry.matches_address(from))
            {
                Some(i) => self.feed(now, i, from, bytes),
                None => debug!(%from, code = e.code, "undecodable message from a stranger dropped"),
            },
        }
    }

    /// The transport to `from` is gone (SCTP association or TCP connection closed).
    pub fn transport_down(&mut self, now: Instant, from: SocketAddr) {
        let _ = now;
        for i in 0..self.slots.len() {
            if self.slots[i].remote == Some(from) {
                if self.slots[i].reg.is_some() {
                    self.lose(i, LossCause::TransportDown);
                } else {
                    self.slots[i].reset();
                }
            }
        }
    }

    /// The time [`poll_timeout`](Self::poll_timeout) named has come (or passed).
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in 0..self.slots.len() {
            if let Some(ep) = self.slots[i].ep.as_mut() {
                if ep.poll_timeout().is_some_and(|t| t <= now) {
                    ep.handle_timeout(now);
                    self.pump(now, i);
                }
            }
            if self.slots[i].reg.is_none() {
                continue;
            }
            if let Some(limit) = self.silence_limit(i) {
                let last = self.slots[i].last_rx.unwrap_or(now);
                if now.duration_since(last) >= limit {
                    self.lose(
                        i,
                        LossCause::Silent {
                            silence: now.duration_since(last),
                        },
                    );
                    continue;
                }
            }
            if self.slots[i].keepalive_due.is_some_and(|t| t <= now) {
                self.send_keepalive(now, i);
            }
        }
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .iter()
            .flat_map(|s| {
                let limit = silence_limit(&self.config, s);
                let silence = match (limit, s.reg.as_ref(), s.last_rx) {
                    (Some(l), Some(_), Some(t)) => Some(t + l),
                    _ => None,
                };
                [
                    s.ep.as_ref().and_then(Endpoint::poll_timeout),
                    s.keepalive_due.filter(|_| s.reg.is_some()),
                    silence,
                ]
            })
            .flatten()
            .min()
    }

    // ------------------------------------------------------------------ application calls

    /// Send a request to a registered MG.
    pub fn send_request(
        &mut self,
        now: Instant,
        mg: &MId,
        actions: Vec<ActionRequest>,
    ) -> Result<TransactionId, Error> {
        let i = self.registered_slot(mg)?;
        let id = self.request(now, i, actions)?;
        self.slots[i].app_requests.insert(id);
        self.pump(now, i);
        Ok(id)
    }

    /// Answer a request delivered as [`Event::Request`].
    pub fn send_reply(
        &mut self,
        now: Instant,
        mg: &MId,
        id: TransactionId,
        result: TransactionResult,
    ) -> Result<(), Error> {
        let i = self.slot(mg)?;
        let ep = self.slots[i].ep.as_mut().ok_or(Error::NotRegistered)?;
        ep.send_reply(now, id, result)?;
        self.pump(now, i);
        Ok(())
    }

    /// Take a registered MG out of service: ServiceChange `Forced` or `Graceful` (with
    /// `Delay`) on ROOT. [`Event::ServiceChangeDone`] follows. Reason e.g. 905 "Termination
    /// taken out of service".
    pub fn take_out_of_service(
        &mut self,
        now: Instant,
        mg: &MId,
        how: OutOfService,
        reason: u16,
    ) -> Result<TransactionId, Error> {
        let (method, delay) = match how {
            OutOfService::Forced => (ServiceChangeMethod::Forced, None),
            OutOfService::Graceful { delay } => (ServiceChangeMethod::Graceful, delay),
        };
        let mut p = ScParms::new(method, reason);
        p.delay = delay;
        self.service_change(now, mg, p, None)
    }

    /// Put an MG back in service: ServiceChange `Restart` on ROOT with `reason` (900 "Service
    /// Restored", or 918 "Cancel Graceful").
    pub fn restore_service(
        &mut self,
        now: Instant,
        mg: &MId,
        reason: u16,
    ) -> Result<TransactionId, Error> {
        let p = ScParms::new(ServiceChangeMethod::Restart, reason);
        self.service_change(now, mg, p, None)
    }

    /// Hand an MG off to another MGC: ServiceChange `HandOff`, 903 "MGC Directed Change",
    /// `MgcIdToTry` = `to` (H.248.1 §11.5). When the MG accepts, it is no longer registered
    /// here ([`Event::MgHandedOff`]).
    pub fn hand_off(&mut self, now: Instant, mg: &MId, to: MId) -> Result<TransactionId, Error> {
        let mut p = ScParms::new(ServiceChangeMethod::HandOff, reason::MGC_DIRECTED_CHANGE);
        p.mgc_id = Some(to.clone());
        self.service_change(now, mg, p, Some(to))
    }

    // ------------------------------------------------------------------ internals

    fn slot(&self, mg: &MId) -> Result<usize, Error> {
        self.slots
            .iter()
            .position(|s| wire::mid_matches(&s.entry.mid, mg))
            .ok_or(Error::UnknownMg)
    }

    fn registered_slot(&self, mg: &MId) -> Result<usize, Error> {
        let i = self.slot(mg)?;
        match (&self.slots[i].reg, &self.slots[i].ep) {
            (Some(_), Some(_)) => Ok(i),
            _ => Err(Error::NotRegistered),
        }
    }

    fn silence_limit(&self, i: usize) -> Option<Duration> {
        silence_limit(&self.config, &self.slots[i])
    }

    fn keepalive_interval(&self, i: usize) -> Option<Duration> {
        keepalive_interval(&self.config, &self.slots[i])
    }

    fn request(
        &mut self,
        now: Instant,
        i: usize,
        actions: Vec<ActionRequest>,
    ) -> Result<TransactionId, Error> {
        let ep = self.slots[i].ep.as_mut().ok_or(Error::NotRegistered)?;
        Ok(ep.send_request(now, actions)?)
    }

    fn service_change(
        &mut self,
        now: Instant,
        mg: &MId,
        p: ScParms,
        to: Option<MId>,
    ) -> Result<TransactionId, Error> {
        let i = self.registered_slot(mg)?;
        let method = p.method.clone();
        let id = self.request(now, i, wire::service_change(p))?;
        info!(mg = ?self.slots[i].entry.mid, id, ?method, "ServiceChange to the MG");
        self.slots[i].service_changes.insert(id, (method, to));
        self.pump(now, i);
        Ok(id)
    }

    fn send_keepalive(&mut self, now: Instant, i: usize) {
        self.slots[i].keepalive_due = None;
        if self.slots[i].keepalive_txn.is_some() {
            return;
        }
        match self.request(now, i, wire::audit_root()) {
            Ok(id) => {
                trace!(mg = ?self.slots[i].entry.mid, id, "keepalive AuditValue ROOT");
                self.slots[i].keepalive_txn = Some(id);
            }
            Err(e) => warn!(%e, "cannot send keepalive"),
        }
        self.pump(now, i);
    }

    fn feed(&mut self, now: Instant, i: usize, from: SocketAddr, bytes: &[u8]) {
        let keepalive = self.keepalive_interval(i);
        let slot = &mut self.slots[i];
        slot.remote = Some(from);
        slot.last_rx = Some(now);
        if slot.reg.is_some() && slot.keepalive_txn.is_none() {
            slot.keepalive_due = keepalive.map(|k| now + k);
        }
        if slot.ep.is_none() {
            let mut cfg = self.config.transaction.clone();
            cfg.version = self.config.max_version;
            slot.ep = Some(Endpoint::new(cfg).expect("checked by Mgc::new"));
        }
        slot.ep
            .as_mut()
            .expect("created above")
            .handle_input(now, bytes);
        self.pump(now, i);
    }

    /// Refuse every request of a message from a peer we do not control, without keeping any
    /// state for it. 504 "Command Received from unauthorized entity" (H.248.8): the sender
    /// itself is not authorised (402 "Unauthorized" is about a command on terminations).
    fn refuse_stranger(&mut self, from: SocketAddr, msg: Message) {
        let MessageBody::Transactions(ts) = msg.body else {
            return;
        };
        let replies: Vec<Transaction> = ts
            .into_iter()
            .filter_map(|t| match t {
                Transaction::Request(r) => Some(Transaction::Reply(TransactionReply {
                    id: r.id,
                    imm_ack_required: false,
                    result: wire::transaction_error(
                        error_code::UNAUTHORIZED_ENTITY,
                        "Command Received from unauthorized entity",
                    ),
                    segment_number: None,
                    segmentation_complete: false,
                })),
                _ => None,
            })
            .collect();
        if replies.is_empty() {
            return;
        }
        info!(%from, mid = ?msg.mid, "refusing a peer that is not a configured MG (504)");
        let max = self.config.transaction.max_transactions_per_message.max(1);
        for chunk in replies.chunks(max) {
            let reply = Message {
                auth: None,
                version: msg.version.clamp(1, self.config.max_version),
                mid: self.config.transaction.mid.clone(),
                body: MessageBody::Transactions(chunk.iter().cloned().collect()),
            };
            match self.codec.encode(&reply) {
                Ok(bytes) => self.transmits.push_back(Transmit {
                    to: from,
                    bytes,
                    transactions: chunk.len(),
                }),
                Err(e) => warn!(%e, "cannot encode the refusal"),
            }
        }
        self.events.push_back(Event::Refused {
            from,
            mid: Some(msg.mid),
            code: error_code::UNAUTHORIZED_ENTITY,
        });
    }

    fn pump(&mut self, now: Instant, i: usize) {
        let _span = debug_span!("mg", mid = ?self.slots[i].entry.mid).entered();
        loop {
            let slot = &mut self.slots[i];
            let Some(ep) = slot.ep.as_mut() else { return };
            while let Some(t) = ep.poll_transmit() {
                match slot.remote {
                    Some(to) => self.transmits.push_back(Transmit {
                        to,
                        bytes: t.bytes,
                        transactions: t.transactions,
                    }),
                    None => warn!("message for an MG with no known address dropped"),
                }
            }
            let Some(ev) = ep.poll_event() else { return };
            self.on_engine_event(now, i, ev);
        }
    }

    fn reply(&mut self, now: Instant, i: usize, id: TransactionId, result: TransactionResult) {
        if let Some(ep) = self.slots[i].ep.as_mut() {
            if let Err(e) = ep.send_reply(now, id, result) {
                warn!(id, %e, "association reply refused by the engine");
            }
        }
    }

    fn on_engine_event(&mut self, now: Instant, i: usize, ev: transaction::Event) {
        use transaction::Event as E;
        let mid = self.slots[i].entry.mid.clone();
        match ev {
            E::Request { id, actions } => self.on_request(now, i, id, actions),
            E::Reply { id, result } => {
                let keepalive = self.keepalive_interval(i);
                let slot = &mut self.slots[i];
                slot.failures = 0;
                if slot.keepalive_txn == Some(id) {
                    slot.keepalive_txn = None;
                    slot.keepalive_due = keepalive.map(|k| now + k);
                } else if let Some((method, to)) = slot.service_changes.remove(&id) {
                    let outcome = match wire::sc_outcome(&result) {
                        ScOutcome::Accepted(_) => ServiceChangeOutcome::Accepted,
                        ScOutcome::Refused(e) => ServiceChangeOutcome::Refused(e),
                    };
                    let accepted = outcome == ServiceChangeOutcome::Accepted;
                    self.events.push_back(Event::ServiceChangeDone {
                        mid: mid.clone(),
                        id,
                        method,
                        outcome,
                    });
                    if let (Some(to), true) = (to, accepted) {
                        info!(?mid, ?to, "MG handed off");
                        for id in self.slots[i].reset() {
                            self.events.push_back(Event::Abandoned {
                                mg: mid.clone(),
                                id,
                            });
                        }
                        self.events.push_back(Event::MgHandedOff { mid, to });
                    }
                } else if slot.inactivity_txn == Some(id) {
                    slot.inactivity_txn = None;
                    if let ScOutcome::Refused(e) = wire::sc_outcome(&result) {
                        warn!(
                            code = e.code,
                            "MG refused the inactivity timer, auditing ROOT instead"
                        );
                        slot.inactivity_refused = true;
                        let keepalive = keepalive_interval(&self.config, slot);
                        slot.keepalive_due = keepalive.map(|k| now + k);
                    }
                } else if slot.app_requests.remove(&id) {
                    self.events.push_back(Event::Reply {
                        mg: mid,
                        id,
                        result,
                    });
                }
            }
            E::Timeout { id } | E::PendingLimitExceeded { id } => {
                let keepalive = self.keepalive_interval(i);
                let slot = &mut self.slots[i];
                slot.failures += 1;
                let failures = slot.failures;
                if slot.keepalive_txn == Some(id) {
                    slot.keepalive_txn = None;
                    // Probe again at once: the engine already repeated this one to T-MAX.
                    slot.keepalive_due = keepalive.map(|_| now);
                } else if let Some((method, _)) = slot.service_changes.remove(&id) {
                    self.events.push_back(Event::ServiceChangeDone {
                        mid: mid.clone(),
                        id,
                        method,
                        outcome: ServiceChangeOutcome::NoReply,
                    });
                } else if slot.inactivity_txn == Some(id) {
                    slot.inactivity_txn = None;
                } else if slot.app_requests.remove(&id) {
                    self.events.push_back(Event::Timeout {
                        mg: mid.clone(),
                        id,
                    });
                }
                debug!(id, failures, "request to the MG unanswered");
                let max = self.config.max_failures;
                if max > 0 && failures >= max && self.slots[i].reg.is_some() {
                    self.lose(i, LossCause::Unanswered { failures });
                }
            }
            event => self.events.push_back(Event::Transaction { mg: mid, event }),
        }
    }

    fn on_request(
        &mut self,
        now: Instant,
        i: usize,
        id: TransactionId,
        actions: Vec<ActionRequest>,
    ) {
        let registered = self.slots[i].reg.is_some();
        match wire::classify(&actions) {
            Incoming::ServiceChange(p) => {
                let p = p.clone();
                match p.method {
                    ServiceChangeMethod::Restart
                    | ServiceChangeMethod::Disconnected
                    | ServiceChangeMethod::Failover
                    | ServiceChangeMethod::HandOff => return self.on_registration(now, i, id, p),
                    _ if registered => {
                        let reason = p.reason.as_deref().and_then(reason::parse);
                        info!(id, method = ?p.method, reason, "ServiceChange from the MG");
                        self.reply(
                            now,
                            i,
                            id,
                            wire::service_change_accepted(Default::default()),
                        );
                        self.events.push_back(Event::MgServiceChange {
                            mid: self.slots[i].entry.mid.clone(),
                            method: p.method,
                            reason,
                            delay: p.delay.map(|ms| Duration::from_millis(ms.into())),
                        });
                        return;
                    }
                    _ => {}
                }
            }
            Incoming::InactivityTimeout if registered => {
                trace!(id, "it/ito from the MG");
                return self.reply(now, i, id, wire::notify_root_reply());
            }
            _ if registered => {
                self.events.push_back(Event::Request {
                    mg: self.slots[i].entry.mid.clone(),
                    id,
                    actions,
                });
                return;
            }
            _ => {}
        }
        debug!(id, "request from an unregistered MG, answering 504");
        self.reply(
            now,
            i,
            id,
            wire::transaction_error(
                error_code::UNAUTHORIZED_ENTITY,
                "Command Received from unauthorized entity (not registered)",
            ),
        );
        self.events.push_back(Event::Refused {
            from: self.slots[i].remote.expect("set by feed"),
            mid: Some(self.slots[i].entry.mid.clone()),
            code: error_code::UNAUTHORIZED_ENTITY,
        });
    }

    /// A registration (H.248.1 §11.2, §11.3): version, profile, redirection.
    fn on_registration(&mut self, now: Instant, i: usize, id: TransactionId, p: ServiceChangeParm) {
        let mid = self.slots[i].entry.mid.clone();
        let from = self.slots[i].remote.expect("set by feed");
        let reason = p.reason.as_deref().and_then(reason::parse);
        // No Version means version 1.
        let offered = p.version.unwrap_or(1);
        let version = offered.min(self.config.max_version);
        let refusal = if version < self.config.min_version {
            Some((error_code::VERSION_NOT_SUPPORTED, "Version Not Supported"))
        } else if !self.config.accepted_profiles.is_empty()
            && p.profile
                .as_ref()
                .is_some_and(|pr| !self.config.accepted_profiles.contains(pr))
        {
            Some((
                error_code::UNSUPPORTED_PROFILE,
                "Unsupported or Unknown Profile",
            ))
        } else {
            None
        };
        if let Some((code, text)) = refusal {
            info!(?mid, offered, profile = ?p.profile, code, "registration refused");
            // Answer in a version the MG can read.
            if let Some(ep) = &mut self.slots[i].ep {
                ep.set_version(offered.clamp(1, self.config.max_version));
            }
            self.reply(now, i, id, wire::service_change_refused(code, text));
            self.events.push_back(Event::Refused {
                from,
                mid: Some(mid),
                code,
            });
            if self.slots[i].reg.is_some() {
                self.lose(i, LossCause::Reregistration);
            }
            return;
        }
        if let Some(to) = self.slots[i].entry.redirect_to.clone() {
            info!(?mid, ?to, "redirecting the MG (MgcIdToTry)");
            let parms = ServiceChangeResParm {
                mgc_id: Some(to.clone()),
                ..Default::default()
            };
            self.reply(now, i, id, wire::service_change_accepted(parms));
            if self.slots[i].reg.is_some() {
                self.lose(i, LossCause::Reregistration);
            }
            self.events.push_back(Event::MgRedirected { mid, to });
            return;
        }
        let profile = p.profile.clone().filter(|_| self.config.echo_profile);
        // The reply already speaks the negotiated version (§11.3: "thereafter").
        if let Some(ep) = &mut self.slots[i].ep {
            ep.set_version(version);
        }
        let parms = ServiceChangeResParm {
            version: Some(version),
            profile: profile.clone(),
            ..Default::default()
        };
        self.reply(now, i, id, wire::service_change_accepted(parms));
        info!(?mid, version, ?profile, method = ?p.method, reason, %from, "MG registered");
        let keepalive = self.keepalive_interval(i);
        let slot = &mut self.slots[i];
        slot.reg = Some(Registration {
            version,
            profile: p.profile.clone(),
            address: from,
        });
        slot.failures = 0;
        slot.keepalive_due = keepalive.map(|k| now + k);
        self.events.push_back(Event::MgRegistered {
            mid,
            version,
            profile: p.profile,
            method: p.method,
            reason,
            address: from,
        });
        if let Keepalive::InactivityTimer { mit, request_id } = self.config.keepalive {
            if !self.config.transaction.reliable {
                match self.request(now, i, wire::inactivity_timer(request_id, mit)) {
                    Ok(txn) => self.slots[i].inactivity_txn = Some(txn),
                    Err(e) => warn!(%e, "cannot arm the MG's inactivity timer"),
                }
            }
        }
        self.pump(now, i);
    }

    /// Move what the MG's engine has queued to our queue (before the engine is dropped).
    fn drain(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        let (Some(ep), Some(to)) = (slot.ep.as_mut(), slot.remote) else {
            return;
        };
        while let Some(t) = ep.poll_transmit() {
            self.transmits.push_back(Transmit {
                to,
                bytes: t.bytes,
                transactions: t.transactions,
            });
        }
    }

    fn lose(&mut self, i: usize, cause: LossCause) {
        let mid = self.slots[i].entry.mid.clone();
        warn!(?mid, ?cause, "MG lost");
        self.drain(i);
        for id in self.slots[i].reset() {
            self.events.push_back(Event::Abandoned {
                mg: mid.clone(),
                id,
            });
        }
        self.events.push_back(Event::MgLost { mid, cause });
    }
}

/// Silence after which a registered MG is lost: with the inactivity timer armed, the MG talks
/// at least every `mit`.
fn silence_limit(config: &MgcConfig, slot: &Slot) -> Option<Duration> {
    match config.keepalive {
        Keepalive::InactivityTimer { mit, .. }
            if !config.transaction.reliable && !slot.inactivity_refused =>
        {
            Some(mit * config.max_failures)
        }
        _ => None,
    }
}

/// Idle time before an AuditValue ROOT keepalive, if this MG is watched that way.
fn keepalive_interval(config: &MgcConfig, slot: &Slot) -> Option<Duration> {
    if config.transaction.reliable {
        return None;
    }
    match config.keepalive {
        Keepalive::AuditRoot { interval } => Some(interval),
        Keepalive::InactivityTimer { mit, .. } if slot.inactivity_refused => Some(mit),
        _ => None,
    }
}
