//! The MG (IMS-AGW) side of the control association.
//!
//! See the [module docs](super) for the state diagram and the defaults.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use iq_codec::model::{
    ActionRequest, ErrorDescriptor, MId, ServiceChangeAddress, ServiceChangeMethod,
    ServiceChangeParm, ServiceChangeProfile, TransactionId, TransactionResult,
};
use tracing::{debug, info, trace, warn};

use super::backoff::{Backoff, BackoffState};
use super::wire::{self, Incoming, ScOutcome, ScParms};
use super::{error_code, reason, Error};
use crate::transaction::{self, Endpoint, Transmit};

/// Configuration of the MG side.
///
/// Build with [`MgConfig::new`] and change the public fields; [`Mg::new`] checks them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MgConfig {
    /// The transaction engine's configuration for each association; its `mid` is ours. Its
    /// `version` is overridden by the negotiated one and its `first_transaction_id` is only
    /// used for the first association (later ones continue the numbering, so that an MGC that
    /// still remembers our old IDs does not take a new request for a repetition).
    pub transaction: transaction::Config,
    /// The MGCs to register with, primary first then the secondaries (H.248.1 §11.2), as the
    /// mIds the driver is told to connect to ([`Event::Connect`]). At least one.
    pub mgcs: Vec<MId>,
    /// Highest protocol version, offered in the ServiceChange `Version`. Default 3 (digest
    /// §1.2: Iq announces v3).
    pub max_version: u8,
    /// Lowest protocol version we accept from the MGC or fall back to after a 406. Default 2
    /// (TS 29.334 references H.248.1 v2; digest §1.2).
    pub min_version: u8,
    /// `Profile` offered in the ServiceChange. Default `threegiq/1` [U: the Iq profile name is
    /// not verified, digest §1.1]; `None` sends none.
    pub profile: Option<ServiceChangeProfile>,
    /// Reason of the first registration (`Restart`). Default 901 Cold Boot (H.248.8; digest
    /// §3.4). Also used to re-register after a loss when state was not kept.
    pub restart_reason: u16,
    /// `ServiceChangeAddress` to put in the registration (where the MGC should send to), if
    /// any. Default `None`: the MGC answers to where the messages come from.
    pub service_change_address: Option<ServiceChangeAddress>,
    /// The MG keeps its contexts when the association is lost, so it re-registers with
    /// `Disconnected` / 900 (same MGC) or `Failover` / 909 (another MGC) instead of
    /// `Restart` (H.248.1 §11.5). Can be changed at run time with [`Mg::set_state_kept`].
    /// Default `true`.
    pub state_kept_on_loss: bool,
    /// Waits between attempts after a failure (see [`Backoff`]).
    pub reconnect: Backoff,
    /// How long the driver may take to report [`Mg::transport_up`] after an
    /// [`Event::Connect`] before the attempt counts as failed. Default 30 s (as T-MAX).
    pub connect_timeout: Duration,
    /// Most `MgcIdToTry` redirections followed in a row before the attempt counts as failed
    /// (guards against redirection loops). Default 4.
    pub max_redirects: u32,
    /// Answer an empty AuditValue on ROOT (the MGC's keepalive over UDP, TS 29.334 Table
    /// 5.12.3) inside the association instead of handing it to the application. Default `true`.
    pub answer_root_audit: bool,
    /// Support the H.248.14 inactivity timer: a Modify on ROOT that only sets Events
    /// `it/ito{mit}` is answered here, and after `mit` without any message from the MGC we send
    /// Notify `it/ito` (TS 29.334 Table 5.12.3, "MGC polling by MG"). Default `true`.
    pub inactivity_timer: bool,
    /// A request of ours that gets no reply within T-MAX means the MGC failed (H.248.1
    /// D.1.5): the association is given up and re-established. Default `true`.
    pub loss_on_request_timeout: bool,
}

impl MgConfig {
    /// Defaults for everything but our mId and the primary MGC.
    pub fn new(mid: MId, mgc: MId) -> Self {
        MgConfig {
            transaction: transaction::Config::new(mid),
            mgcs: vec![mgc],
            max_version: 3,
            min_version: 2,
            profile: Some(ServiceChangeProfile {
                name: "threegiq".into(),
                version: 1,
            }),
            restart_reason: reason::COLD_BOOT,
            service_change_address: None,
            state_kept_on_loss: true,
            reconnect: Backoff::default(),
            connect_timeout: Duration::from_secs(30),
            max_redirects: 4,
            answer_root_audit: true,
            inactivity_timer: true,
            loss_on_request_timeout: true,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        let bad = |what| Err(Error::InvalidConfig(what));
        if self.mgcs.is_empty() {
            return bad("at least one MGC is needed");
        }
        if self.min_version == 0 || self.min_version > self.max_version {
            return bad("need 1 <= min_version <= max_version");
        }
        if self.connect_timeout.is_zero() {
            return bad("connect_timeout must be above zero");
        }
        self.reconnect.validate().map_err(Error::InvalidConfig)?;
        Ok(())
    }
}

/// Why an attempt failed or an association was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The driver reported [`Mg::transport_down`].
    TransportDown,
    /// No [`Mg::transport_up`] within [`MgConfig::connect_timeout`].
    ConnectTimeout,
    /// Our ServiceChange got no reply (T-MAX, or the Pending limit).
    NoReply,
    /// The MGC refused the registration with this error.
    Refused(ErrorDescriptor),
    /// The MGC's version is below [`MgConfig::min_version`], or it refused every version we
    /// could offer with 406.
    VersionNotSupported {
        /// The version the MGC answered with, if it named one.
        offered: Option<u8>,
    },
    /// More than [`MgConfig::max_redirects`] `MgcIdToTry` in a row.
    TooManyRedirects,
    /// A request of ours got no reply ([`MgConfig::loss_on_request_timeout`]).
    RequestTimeout {
        /// The request.
        id: TransactionId,
    },
}

/// What the MG side tells its driver and application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Driver: open a transport to this MGC (resolve a domain name as TS 29.334 §5.11 says),
    /// then call [`Mg::transport_up`] (or [`Mg::transport_down`] if it fails). Over UDP, "open"
    /// is choosing the destination; call `transport_up` at once.
    Connect {
        /// The MGC.
        target: MId,
    },
    /// Driver: close the current transport. Everything [`Mg::poll_transmit`] returned before
    /// this event still belongs to it (e.g. the reply to a HandOff).
    Disconnect,
    /// The MGC accepted our registration.
    Registered {
        /// The MGC.
        mgc: MId,
        /// The negotiated protocol version, used from now on.
        version: u8,
        /// The profile: the MGC's if it named one, else the one we offered.
        profile: Option<ServiceChangeProfile>,
        /// The method we registered with (`Restart`, `Disconnected`, `Failover`, `HandOff`).
        method: ServiceChangeMethod,
    },
    /// The MGC answered 406 to the version we offered; we try `next` (or give up if `None`).
    VersionRefused {
        /// The version refused.
        version: u8,
        /// The version offered next.
        next: Option<u8>,
    },
    /// The MGC's reply named another MGC (`MgcIdToTry`, H.248.1 §11.2): we disconnect and
    /// register there.
    Redirected {
        /// The MGC that redirected us.
        from: MId,
        /// The MGC to try.
        to: MId,
    },
    /// The MGC handed us off (ServiceChange `HandOff`, H.248.1 §11.5): we disconnect and
    /// register at `to` with `HandOff` / 903.
    HandOff {
        /// The MGC that handed us off.
        from: MId,
        /// The designated MGC.
        to: MId,
    },
    /// An attempt to register failed; another follows after `retry_in`.
    RegistrationFailed {
        /// The MGC tried.
        mgc: MId,
        /// Why.
        failure: Failure,
        /// When the next attempt starts.
        retry_in: Duration,
    },
    /// The registered association was lost; a new one is attempted after `retry_in`.
    Lost {
        /// The MGC we were registered with.
        mgc: MId,
        /// Why.
        failure: Failure,
        /// When the next attempt starts.
        retry_in: Duration,
    },
    /// The MGC takes the MG out of service gracefully (ServiceChange `Graceful` on ROOT):
    /// finish what runs, accept nothing new; [`Event::OutOfService`] follows after `delay`
    /// (never, without one: the application decides when it is idle).
    GoingOutOfService {
        /// `Delay` from the ServiceChange.
        delay: Option<Duration>,
        /// Reason code, if one could be read.
        reason: Option<u16>,
    },
    /// The MG is out of service: at once for `Forced` (all contexts are gone, H.248.1
    /// 7.2.8), or when a `Graceful` delay ran out.
    OutOfService {
        /// `Forced` or `Graceful`.
        method: ServiceChangeMethod,
        /// Reason code, if one could be read.
        reason: Option<u16>,
    },
    /// The MGC put the MG back in service (ServiceChange `Restart` on ROOT).
    InService {
        /// Reason code, if one could be read.
        reason: Option<u16>,
    },
    /// A request from the MGC for the application; answer with [`Mg::send_reply`].
    Request {
        /// Transaction ID.
        id: TransactionId,
        /// The actions.
        actions: Vec<ActionRequest>,
    },
    /// The reply to one of the application's requests.
    Reply {
        /// Transaction ID from [`Mg::send_request`].
        id: TransactionId,
        /// The result.
        result: TransactionResult,
    },
    /// One of the application's requests got no reply (T-MAX or the Pending limit).
    Timeout {
        /// Transaction ID.
        id: TransactionId,
    },
    /// One of the application's requests was still open when its association ended; the MGC
    /// may or may not have executed it.
    Abandoned {
        /// Transaction ID.
        id: TransactionId,
    },
    /// Any other event of the transaction engine (decode errors, peer errors, ...).
    Transaction(transaction::Event),
}

/// Where the MG stands (see [`Mg::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Before [`Mg::start`].
    Idle,
    /// Waiting for the transport ([`Event::Connect`] sent).
    Connecting,
    /// ServiceChange sent, no reply yet.
    Registering,
    /// Registered: the association carries the application's traffic.
    Registered,
    /// Waiting for the next attempt.
    Waiting,
    /// After [`Mg::stop`].
    Stopped,
}

/// Service state of the MG as the MGC set it (see [`Mg::service`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// In service.
    InService,
    /// Graceful out-of-service under way.
    GoingOutOfService,
    /// Out of service.
    OutOfService,
}

#[derive(Debug)]
enum State {
    Idle,
    Connecting {
        target: MId,
        deadline: Instant,
    },
    Registering {
        target: MId,
        txn: TransactionId,
        version: u8,
        method: ServiceChangeMethod,
        reason: u16,
    },
    Registered {
        mgc: MId,
        version: u8,
        profile: Option<ServiceChangeProfile>,
    },
    Waiting {
        target: MId,
        until: Instant,
    },
    Stopped,
}

/// A registration to be made somewhere other than the configured list says (a redirection or
/// a handoff), with the method and reason it must use.
#[derive(Debug, Clone)]
struct Diverted {
    to: MId,
    method: ServiceChangeMethod,
    reason: u16,
}

/// The MGC's H.248.14 inactivity timer request.
#[derive(Debug, Clone)]
struct Inactivity {
    request_id: u32,
    mit: Duration,
    due: Instant,
    /// Our `it/ito` Notify awaiting its reply (no second one while it is open).
    notify: Option<TransactionId>,
}

/// The MG side of the control association: registers with the MGC, negotiates the version,
/// follows redirections and handoffs, answers keepalives, detects loss and reconnects.
///
/// Sans-IO like the transaction [`Endpoint`] it owns (one per association): feed it what
/// arrives ([`handle_input`](Self::handle_input)), the transport's state
/// ([`transport_up`](Self::transport_up), [`transport_down`](Self::transport_down)), the time
/// when [`poll_timeout`](Self::poll_timeout) comes ([`handle_timeout`](Self::handle_timeout))
/// and the application's requests and replies; after each call drain
/// [`poll_transmit`](Self::poll_transmit) (first) and [`poll_event`](Self::poll_event), then
/// ask `poll_timeout`. `now` must not go backwards.
#[derive(Debug)]
pub struct Mg {
    config: MgConfig,
    state: State,
    ep: Option<Endpoint>,
    /// Next transaction ID, carried from one association to the next.
    next_txn: u32,
    /// Open requests of the application (and our own out-of-service requests).
    app_requests: BTreeSet<TransactionId>,
    /// The configured MGC the last attempt from the list went to.
    home: usize,
    diverted: Option<Diverted>,
    redirects: u32,
    /// The MGC we were last registered with.
    controlling: Option<MId>,
    state_kept: bool,
    backoff: BackoffState,
    service: Service,
    graceful_at: Option<(Instant, Option<u16>)>,
    inactivity: Option<Inactivity>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

impl Mg {
    /// A new MG side, idle until [`start`](Self::start). Fails if the configuration is
    /// inconsistent or its encoding is not available.
    pub fn new(config: MgConfig) -> Result<Self, Error> {
        config.validate()?;
        // Check the engine takes this configuration now rather than at the first connection.
        Endpoint::new(config.transaction.clone())?;
        Ok(Mg {
            next_txn: config.transaction.first_transaction_id,
            state_kept: config.state_kept_on_loss,
            backoff: BackoffState::new(config.reconnect.clone()),
            config,
            state: State::Idle,
            ep: None,
            app_requests: BTreeSet::new(),
            home: 0,
            diverted: None,
            redirects: 0,
            controlling: None,
            service: Service::InService,
            graceful_at: None,
            inactivity: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MgConfig {
        &self.config
    }

    /// Where the association stands.
    pub fn status(&self) -> Status {
        match self.state {
            State::Idle => Status::Idle,
            State::Connecting { .. } => Status::Connecting,
            State::Registering { .. } => Status::Registering,
            State::Registered { .. } => Status::Registered,
            State::Waiting { .. } => Status::Waiting,
            State::Stopped => Status::Stopped,
        }
    }

    /// The MGC we are registered with.
    pub fn mgc(&self) -> Option<&MId> {
        match &self.state {
            State::Registered { mgc, .. } => Some(mgc),
            _ => None,
        }
    }

    /// The negotiated version, while registered.
    pub fn version(&self) -> Option<u8> {
        match self.state {
            State::Registered { version, .. } => Some(version),
            _ => None,
        }
    }

    /// The profile in force, while registered.
    pub fn profile(&self) -> Option<&ServiceChangeProfile> {
        match &self.state {
            State::Registered { profile, .. } => profile.as_ref(),
            _ => None,
        }
    }

    /// Service state as set by the MGC.
    pub fn service(&self) -> Service {
        self.service
    }

    /// The transaction engine of the current association, for inspection.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.ep.as_ref()
    }

    /// Whether the MG still holds its contexts: decides how it re-registers after a loss
    /// (`Disconnected`/`Failover` if so, `Restart` if not; H.248.1 §11.5).
    pub fn set_state_kept(&mut self, kept: bool) {
        self.state_kept = kept;
    }

    // ------------------------------------------------------------------ driver calls

    /// Start: connect to the primary MGC and register with `Restart`
    /// ([`MgConfig::restart_reason`]). Also restarts after [`stop`](Self::stop).
    pub fn start(&mut self, now: Instant) {
        if !matches!(self.state, State::Idle | State::Stopped) {
            return;
        }
        self.home = 0;
        self.controlling = None;
        self.diverted = None;
        self.redirects = 0;
        self.backoff.reset();
        let target = self.config.mgcs[0].clone();
        self.connect(now, target);
    }

    /// Stop: close the association (no ServiceChange is sent; send one with
    /// [`send_service_change`](Self::send_service_change) first if the MGC should know).
    pub fn stop(&mut self) {
        match self.state {
            State::Idle | State::Stopped => {}
            State::Waiting { .. } => self.state = State::Stopped,
            _ => {
                info!("stopped");
                self.end_association(true, true);
                self.state = State::Stopped;
            }
        }
    }

    /// The transport asked for by [`Event::Connect`] is up: the ServiceChange goes out.
    pub fn transport_up(&mut self, now: Instant) {
        let State::Connecting { target, .. } = &self.state else {
            trace!(status = ?self.status(), "transport up ignored");
            return;
        };
        let target = target.clone();
        let mut cfg = self.config.transaction.clone();
        cfg.version = self.config.max_version;
        cfg.first_transaction_id = self.next_txn;
        let ep = Endpoint::new(cfg).expect("configuration checked by Mg::new");
        self.ep = Some(ep);
        self.inactivity = None;
        self.send_registration(now, target, self.config.max_version);
    }

    /// The transport is gone (SCTP association lost, TCP closed, ...).
    pub fn transport_down(&mut self, now: Instant) {
        match self.state {
            State::Connecting { .. } | State::Registering { .. } | State::Registered { .. } => {
                self.fail(now, Failure::TransportDown, false)
            }
            _ => trace!("transport down ignored"),
        }
    }

    /// A whole message arrived on the current transport.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        let Some(ep) = self.ep.as_mut() else {
            trace!("message without an association dropped");
            return;
        };
        ep.handle_input(now, bytes);
        // Any message from the MGC restarts the H.248.14 timer.
        if let Some(i) = &mut self.inactivity {
            i.due = now + i.mit;
        }
        self.pump(now);
    }

    /// The time [`poll_timeout`](Self::poll_timeout) named has come (or passed).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(ep) = self.ep.as_mut() {
            if ep.poll_timeout().is_some_and(|t| t <= now) {
                ep.handle_timeout(now);
                self.pump(now);
            }
        }
        match &self.state {
            State::Connecting { deadline, .. } if *deadline <= now => {
                self.fail(now, Failure::ConnectTimeout, true)
            }
            State::Waiting { until, target } if *until <= now => {
                let target = target.clone();
                self.connect(now, target);
            }
            _ => {}
        }
        if let Some((at, reason)) = self.graceful_at {
            if at <= now {
                self.graceful_at = None;
                self.service = Service::OutOfService;
                info!("out of service (graceful delay over)");
                self.events.push_back(Event::OutOfService {
                    method: ServiceChangeMethod::Graceful,
                    reason,
                });
            }
        }
        if let Some(i) = &mut self.inactivity {
            if i.due <= now && matches!(self.state, State::Registered { .. }) {
                i.due = now + i.mit;
                if i.notify.is_none() {
                    debug!(mit = ?i.mit, "inactivity timer expired, notifying it/ito");
                    let rid = i.request_id;
                    let ep = self.ep.as_mut().expect("registered");
                    match ep.send_request(now, wire::inactivity_timeout(rid)) {
                        Ok(id) => {
                            i.notify = Some(id);
                            self.next_txn = id.checked_add(1).unwrap_or(1);
                        }
                        Err(e) => warn!(%e, "cannot send it/ito Notify"),
                    }
                    self.pump(now);
                }
            }
        }
    }

    /// The next message to send on the current transport.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event. [`Event::Connect`] and [`Event::Disconnect`] wait until
    /// [`poll_transmit`](Self::poll_transmit) is drained, so that nothing meant for the old
    /// transport goes out on the new one.
    pub fn poll_event(&mut self) -> Option<Event> {
        if matches!(
            self.events.front(),
            Some(Event::Connect { .. } | Event::Disconnect)
        ) && !self.transmits.is_empty()
        {
            return None;
        }
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let state = match &self.state {
            State::Connecting { deadline, .. } => Some(*deadline),
            State::Waiting { until, .. } => Some(*until),
            _ => None,
        };
        [
            self.ep.as_ref().and_then(Endpoint::poll_timeout),
            state,
            self.graceful_at.map(|g| g.0),
            self.inactivity
                .as_ref()
                .filter(|_| matches!(self.state, State::Registered { .. }))
                .map(|i| i.due),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ------------------------------------------------------------------ application calls

    /// Send a request to the MGC. Only while registered ([`Error::NotRegistered`] otherwise).
    pub fn send_request(
        &mut self,
        now: Instant,
        actions: Vec<ActionRequest>,
    ) -> Result<TransactionId, Error> {
        if !matches!(self.state, State::Registered { .. }) {
            return Err(Error::NotRegistered);
        }
        let ep = self.ep.as_mut().ok_or(Error::NotRegistered)?;
        let id = ep.send_request(now, actions)?;
        self.note_txn(id);
        self.app_requests.insert(id);
        self.pump(now);
        Ok(id)
    }

    /// Answer a request delivered as [`Event::Request`].
    pub fn send_reply(
        &mut self,
        now: Instant,
        id: TransactionId,
        result: TransactionResult,
    ) -> Result<(), Error> {
        let ep = self.ep.as_mut().ok_or(Error::NotRegistered)?;
        ep.send_reply(now, id, result)?;
        self.pump(now);
        Ok(())
    }

    /// Send a ServiceChange on ROOT to the MGC, e.g. `Graceful` with a delay or `Forced`
    /// (stage 2 "IMS-AGW Out-of-Service", TS 23.334 clause 8; reasons 905, 908). The reply
    /// comes as [`Event::Reply`].
    pub fn send_service_change(
        &mut self,
        now: Instant,
        method: ServiceChangeMethod,
        reason: u16,
        delay: Option<Duration>,
    ) -> Result<TransactionId, Error> {
        let mut p = ScParms::new(method, reason);
        p.delay = delay;
        self.send_request(now, wire::service_change(p))
    }

    // ------------------------------------------------------------------ internals

    /// The engine counts up from the last ID it gave; the next association starts there, so
    /// an MGC that still remembers our old IDs does not take a new request for a repetition.
    fn note_txn(&mut self, id: TransactionId) {
        self.next_txn = id.checked_add(1).unwrap_or(1);
    }

    fn connect(&mut self, now: Instant, target: MId) {
        info!(?target, "connecting to MGC");
        self.events.push_back(Event::Connect {
            target: target.clone(),
        });
        self.state = State::Connecting {
            target,
            deadline: now + self.config.connect_timeout,
        };
    }

    /// How to register with `target` (H.248.1 §11.2, §11.5).
    fn method_for(&self, target: &MId) -> (ServiceChangeMethod, u16) {
        if let Some(d) = self.diverted.as_ref().filter(|d| d.to == *target) {
            return (d.method.clone(), d.reason);
        }
        match &self.controlling {
            Some(c) if self.state_kept && c == target => {
                (ServiceChangeMethod::Disconnected, reason::SERVICE_RESTORED)
            }
            Some(_) if self.state_kept => {
                (ServiceChangeMethod::Failover, reason::MGC_IMPENDING_FAILURE)
            }
            _ => (ServiceChangeMethod::Restart, self.config.restart_reason),
        }
    }

    fn send_registration(&mut self, now: Instant, target: MId, version: u8) {
        let (method, reason) = self.method_for(&target);
        if let Some(ep) = &mut self.ep {
            ep.set_version(version);
        }
        let mut p = ScParms::new(method.clone(), reason);
        p.version = Some(version);
        p.profile = self.config.profile.clone();
        p.address = self.config.service_change_address.clone();
        let ep = self.ep.as_mut().expect("association open");
        match ep.send_request(now, wire::service_change(p)) {
            Ok(txn) => {
                self.note_txn(txn);
                info!(?target, ?method, reason, version, "registering");
                self.state = State::Registering {
                    target,
                    txn,
                    version,
                    method,
                    reason,
                };
                self.pump(now);
            }
            Err(e) => {
                warn!(%e, "cannot send the ServiceChange");
                self.fail(now, Failure::NoReply, true);
            }
        }
    }

    /// Drain the engine: transmits to our queue, events through the state machine.
    fn pump(&mut self, now: Instant) {
        loop {
            let Some(ep) = self.ep.as_mut() else { return };
            while let Some(t) = ep.poll_transmit() {
                self.transmits.push_back(t);
            }
            let Some(ev) = ep.poll_event() else { return };
            self.on_engine_event(now, ev);
        }
    }

    fn on_engine_event(&mut self, now: Instant, ev: transaction::Event) {
        use transaction::Event as E;
        match ev {
            E::Request { id, actions } => self.on_request(now, id, actions),
            E::Reply { id, result } => {
                if let State::Registering { txn, .. } = self.state {
                    if txn == id {
                        return self.on_registration_reply(now, result);
                    }
                }
                if let Some(i) = self.inactivity.as_mut().filter(|i| i.notify == Some(id)) {
                    i.notify = None;
                }
                if self.app_requests.remove(&id) {
                    self.events.push_back(Event::Reply { id, result });
                }
            }
            E::Timeout { id } | E::PendingLimitExceeded { id } => {
                if let State::Registering { txn, .. } = self.state {
                    if txn == id {
                        return self.fail(now, Failure::NoReply, true);
                    }
                }
                // An unanswered it/ito is what the inactivity timer is for (H.248.14).
                let ito = self
                    .inactivity
                    .as_ref()
                    .is_some_and(|i| i.notify == Some(id));
                if self.app_requests.remove(&id) {
                    self.events.push_back(Event::Timeout { id });
                }
                if (self.config.loss_on_request_timeout || ito)
                    && matches!(self.state, State::Registered { .. })
                {
                    self.fail(now, Failure::RequestTimeout { id }, true);
                }
            }
            other => self.events.push_back(Event::Transaction(other)),
        }
    }

    fn reply(&mut self, now: Instant, id: TransactionId, result: TransactionResult) {
        if let Some(ep) = self.ep.as_mut() {
            if let Err(e) = ep.send_reply(now, id, result) {
                warn!(id, %e, "association reply refused by the engine");
            }
        }
    }

    fn on_request(&mut self, now: Instant, id: TransactionId, actions: Vec<ActionRequest>) {
        if !matches!(self.state, State::Registered { .. }) {
            // H.248.1 §11.2: a command before the ServiceChange reply gets 505.
            debug!(id, "request before registration, answering 505");
            return self.reply(
                now,
                id,
                wire::transaction_error(
                    error_code::BEFORE_SERVICE_CHANGE_REPLY,
                    "Transaction Request Received before a Service Change Reply has been received",
                ),
            );
        }
        match wire::classify(&actions) {
            Incoming::ServiceChange(p) => {
                let p = p.clone();
                self.on_mgc_service_change(now, id, p)
            }
            Incoming::AuditRoot if self.config.answer_root_audit => {
                trace!(id, "answering AuditValue ROOT keepalive");
                self.reply(now, id, wire::audit_root_reply())
            }
            Incoming::InactivityTimer(set) if self.config.inactivity_timer => {
                self.inactivity = set.map(|(request_id, mit)| Inactivity {
                    request_id,
                    mit,
                    due: now + mit,
                    notify: None,
                });
                debug!(?set, "inactivity timer (it/ito) set by the MGC");
                self.reply(now, id, wire::modify_root_reply())
            }
            _ => self.events.push_back(Event::Request { id, actions }),
        }
    }

    /// A ServiceChange on ROOT from the MGC (H.248.1 §11.5, 7.2.8).
    fn on_mgc_service_change(&mut self, now: Instant, id: TransactionId, p: ServiceChangeParm) {
        let code = p.reason.as_deref().and_then(reason::parse);
        info!(id, method = ?p.method, reason = code, "ServiceChange from the MGC");
        match p.method {
            ServiceChangeMethod::HandOff => {
                let Some(to) = p.mgc_id else {
                    return self.reply(
                        now,
                        id,
                        wire::service_change_refused(
                            error_code::REQUIRED_INFORMATION_MISSING,
                            "HandOff without MgcIdToTry",
                        ),
                    );
                };
                self.reply(now, id, wire::service_change_accepted(Default::default()));
                let from = self.mgc().cloned().expect("registered");
                self.events.push_back(Event::HandOff {
                    from,
                    to: to.clone(),
                });
                self.diverted = Some(Diverted {
                    to: to.clone(),
                    method: ServiceChangeMethod::HandOff,
                    reason: reason::MGC_DIRECTED_CHANGE,
                });
                self.redirects = 0;
                // The reply goes out on the old transport before the Disconnect.
                self.end_association(true, true);
                self.connect(now, to);
            }
            ServiceChangeMethod::Forced => {
                self.reply(now, id, wire::service_change_accepted(Default::default()));
                self.service = Service::OutOfService;
                self.graceful_at = None;
                self.events.push_back(Event::OutOfService {
                    method: ServiceChangeMethod::Forced,
                    reason: code,
                });
            }
            ServiceChangeMethod::Graceful => {
                self.reply(now, id, wire::service_change_accepted(Default::default()));
                let delay = p.delay.map(|ms| Duration::from_millis(ms.into()));
                if self.service != Service::OutOfService {
                    self.service = Service::GoingOutOfService;
                    self.graceful_at = delay.map(|d| (now + d, code));
                }
                self.events.push_back(Event::GoingOutOfService {
                    delay,
                    reason: code,
                });
            }
            ServiceChangeMethod::Restart => {
                self.reply(now, id, wire::service_change_accepted(Default::default()));
                self.service = Service::InService;
                self.graceful_at = None;
                self.events.push_back(Event::InService { reason: code });
            }
            _ => self.reply(
                now,
                id,
                wire::service_change_refused(
                    error_code::NOT_IMPLEMENTED,
                    "ServiceChange method not supported from the MGC",
                ),
            ),
        }
    }

    fn on_registration_reply(&mut self, now: Instant, result: TransactionResult) {
        let State::Registering {
            target,
            version,
            method,
            reason,
            ..
        } = &self.state
        else {
            return;
        };
        let (target, version, method, reason) = (target.clone(), *version, method.clone(), *reason);
        match wire::sc_outcome(&result) {
            ScOutcome::Refused(e) if e.code == error_code::VERSION_NOT_SUPPORTED => {
                let next = (version > self.config.min_version).then(|| version - 1);
                info!(version, ?next, "MGC refused the version (406)");
                self.events
                    .push_back(Event::VersionRefused { version, next });
                match next {
                    Some(v) => self.send_registration(now, target, v),
                    None => self.fail(now, Failure::VersionNotSupported { offered: None }, true),
                }
            }
            ScOutcome::Refused(e) => {
                info!(code = e.code, "MGC refused the registration");
                self.fail(now, Failure::Refused(e), true)
            }
            ScOutcome::Accepted(p) => {
                if let Some(to) = p.mgc_id {
                    return self.redirect(now, target, to, method, reason);
                }
                // H.248.1 §11.3: the MGC answers with a lower version or none (ours).
                let negotiated = p.version.unwrap_or(version).min(version);
                if negotiated < self.config.min_version {
                    info!(offered = negotiated, "MGC version below our minimum");
                    return self.fail(
                        now,
                        Failure::VersionNotSupported { offered: p.version },
                        true,
                    );
                }
                if let Some(ep) = &mut self.ep {
                    ep.set_version(negotiated);
                }
                let profile = p.profile.or_else(|| self.config.profile.clone());
                info!(mgc = ?target, version = negotiated, ?profile, "registered");
                self.controlling = Some(target.clone());
                self.diverted = None;
                self.redirects = 0;
                self.backoff.reset();
                self.service = Service::InService;
                self.graceful_at = None;
                self.state = State::Registered {
                    mgc: target.clone(),
                    version: negotiated,
                    profile: profile.clone(),
                };
                self.events.push_back(Event::Registered {
                    mgc: target,
                    version: negotiated,
                    profile,
                    method,
                });
            }
        }
    }

    /// `MgcIdToTry` in the reply (H.248.1 §11.2): register there instead, same method.
    fn redirect(
        &mut self,
        now: Instant,
        from: MId,
        to: MId,
        method: ServiceChangeMethod,
        reason: u16,
    ) {
        self.redirects += 1;
        if self.redirects > self.config.max_redirects {
            return self.fail(now, Failure::TooManyRedirects, true);
        }
        info!(?from, ?to, "redirected by MgcIdToTry");
        self.events.push_back(Event::Redirected {
            from,
            to: to.clone(),
        });
        self.diverted = Some(Diverted {
            to: to.clone(),
            method,
            reason,
        });
        self.end_association(true, true);
        self.connect(now, to);
    }

    /// Close the current association: abandon open requests, drop the engine, tell the
    /// driver. `keep_transmits` keeps what is queued for the old transport (a HandOff reply).
    fn end_association(&mut self, disconnect: bool, keep_transmits: bool) {
        if keep_transmits {
            if let Some(ep) = self.ep.as_mut() {
                while let Some(t) = ep.poll_transmit() {
                    self.transmits.push_back(t);
                }
            }
        } else {
            self.transmits.clear();
        }
        for id in std::mem::take(&mut self.app_requests) {
            self.events.push_back(Event::Abandoned { id });
        }
        self.ep = None;
        self.inactivity = None;
        if disconnect {
            self.events.push_back(Event::Disconnect);
        }
    }

    /// The attempt or the association failed: close it and schedule the next attempt.
    fn fail(&mut self, now: Instant, failure: Failure, disconnect: bool) {
        let (current, registered) = match &self.state {
            State::Connecting { target, .. } | State::Registering { target, .. } => {
                (target.clone(), false)
            }
            State::Registered { mgc, .. } => (mgc.clone(), true),
            _ => return,
        };
        self.end_association(disconnect, false);
        let n = self.config.mgcs.len();
        let diverted = self.diverted.take().is_some_and(|d| d.to == current);
        let next = if registered {
            // H.248.1 §11.5: start at the primary unless it is the one that failed.
            if n > 1 && current == self.config.mgcs[0] {
                1
            } else {
                0
            }
        } else if diverted {
            // The designated MGC did not take us: as if our MGC failed (§11.5).
            if n > 1 && self.controlling.as_ref() == Some(&self.config.mgcs[0]) {
                1
            } else {
                0
            }
        } else {
            (self.home + 1) % n
        };
        self.home = next;
        if !diverted {
            self.redirects = 0;
        }
        let target = self.config.mgcs[next].clone();
        let delay = self.backoff.next_delay();
        if registered {
            warn!(mgc = ?current, ?failure, ?delay, "association lost");
            self.events.push_back(Event::Lost {
                mgc: current,
                failure,
                retry_in: delay,
            });
        } else {
            warn!(mgc = ?current, ?failure, ?delay, "registration failed");
            self.events.push_back(Event::RegistrationFailed {
                mgc: current,
                failure,
                retry_in: delay,
            });
        }
        self.state = State::Waiting {
            target,
            until: now + delay,
        };
    }
}
