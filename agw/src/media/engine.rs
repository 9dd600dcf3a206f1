//! The real media plane: UDP sockets bound from per-realm port pools, one task per context
//! relaying between its legs (access legs through [`super::leg::AccessLeg`], core legs plain
//! RTP), implementing [`super::api::MediaPlane`]. OWNER: media-net helper.
//!
//! Threading: [`Engine`] lives with `control` (synchronous calls); each context has one
//! tokio task that owns the context's sockets and legs and takes [`Command`]s over an
//! unbounded channel. Counters are atomics the task writes and [`Engine::stats`] reads.
//! Closing a leg is asynchronous: the port returns to its pool when the task has dropped
//! the socket (its next turn on the runtime); [`Engine::open_sockets`] tells when.

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use super::api::{
    DtlsRole, IceCredentials, LegId, LegKind, LegSpec, LegStats, LocalInfo, MediaError, MediaEvent,
    MediaPlane,
};
use super::cert::Certificate;
use super::leg::{AccessLeg, AccessLegConfig};
use super::plain::{PlainLeg, RtpReceiveStats};
use super::pool::PortPool;
use super::task::{Command, ContextTask, LegCounters, LegState, TaskGuard, TaskLeg};

/// One realm (`ipdc/realm` value) with its address and port range.
#[derive(Debug, Clone)]
pub struct RealmConfig {
    /// Realm name as the ALG writes it (`access`, `core`, ...).
    pub name: String,
    /// Address to bind.
    pub address: IpAddr,
    /// Address to write into Local SDP, if different (NAT in front of the AGW).
    pub advertise: Option<IpAddr>,
    /// Even ports from this range are used for RTP (RTCP muxed on the same port).
    pub ports: RangeInclusive<u16>,
}

/// Media-plane configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Realms; the first one is used when a termination names none.
    pub realms: Vec<RealmConfig>,
    /// The process certificate.
    pub certificate: Arc<Certificate>,
    /// DTLS handshake guard time.
    pub handshake_timeout: Duration,
    /// ICE consent expiry.
    pub consent_timeout: Duration,
}

#[derive(Debug)]
struct LegEntry {
    context: u32,
    kind: LegKind,
    spec: LegSpec,
    counters: Arc<LegCounters>,
}

#[derive(Debug)]
struct ContextEntry {
    tx: UnboundedSender<Command>,
    legs: usize,
}

/// The media plane. Must be created inside a tokio runtime (it spawns its tasks there).
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    handle: tokio::runtime::Handle,
    pools: Vec<PortPool>,
    /// foldhash (randomly seeded): the AGW assigns these IDs itself.
    legs: foldhash::HashMap<LegId, LegEntry>,
    contexts: foldhash::HashMap<u32, ContextEntry>,
    events_tx: UnboundedSender<MediaEvent>,
    events_rx: Option<UnboundedReceiver<MediaEvent>>,
    open_sockets: Arc<AtomicUsize>,
    live_tasks: Arc<AtomicUsize>,
}

/// ice-char (RFC 8839): ALPHA / DIGIT / "+" / "/": 64 symbols, so `byte & 63` is uniform.
const ICE_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// 8 ice-chars = 48 bits (RFC 8839 asks for at least 24).
const UFRAG_LEN: usize = 8;
/// 24 ice-chars = 144 bits (RFC 8839 asks for at least 128).
const PWD_LEN: usize = 24;

fn random_ice_string(len: usize) -> Result<String, MediaError> {
    let mut bytes = [0u8; 32];
    let bytes = &mut bytes[..len];
    getrandom::fill(bytes).map_err(|e| MediaError::Io(format!("random: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ICE_CHARS[usize::from(b & 63)]))
        .collect())
}

/// Fresh ICE credentials from the operating system's CSPRNG.
pub fn random_ice_credentials() -> Result<IceCredentials, MediaError> {
    Ok(IceCredentials {
        ufrag: random_ice_string(UFRAG_LEN)?,
        pwd: random_ice_string(PWD_LEN)?,
    })
}

impl Engine {
    /// Start the media plane on the current tokio runtime.
    pub fn new(config: EngineConfig) -> Result<Engine, MediaError> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|e| MediaError::Io(format!("media plane needs a tokio runtime: {e}")))?;
        let open_sockets = Arc::new(AtomicUsize::new(0));
        let mut pools: Vec<PortPool> = Vec::with_capacity(config.realms.len());
        for realm in &config.realms {
            if pools.iter().any(|p| p.name() == realm.name) {
                return Err(MediaError::Rejected(format!(
                    "realm {:?} configured twice",
                    realm.name
                )));
            }
            pools.push(PortPool::new(realm, open_sockets.clone()));
        }
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        Ok(Engine {
            config,
            handle,
            pools,
            legs: Default::default(),
            contexts: Default::default(),
            events_tx,
            events_rx: Some(events_rx),
            open_sockets,
            live_tasks: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The events channel for the daemon loop (taken once).
    pub fn take_events(&mut self) -> Option<UnboundedReceiver<MediaEvent>> {
        self.events_rx.take()
    }

    /// Legs open (opened and not closed).
    pub fn leg_count(&self) -> usize {
        self.legs.len()
    }

    /// UDP sockets still open (a closed leg's socket stays open until its task dropped it).
    pub fn open_sockets(&self) -> usize {
        self.open_sockets.load(Ordering::Relaxed)
    }

    /// Context tasks still running.
    pub fn task_count(&self) -> usize {
        self.live_tasks.load(Ordering::Relaxed)
    }

    /// Ports leased in `realm` (None for an unknown realm).
    pub fn ports_in_use(&self, realm: &str) -> Option<usize> {
        self.pool(realm).map(|p| p.in_use())
    }

    /// Tell a leg the clock rate of a dynamic payload type (from `a=rtpmap`), for jitter;
    /// dynamic types default to 8000 Hz.
    pub fn set_clock_rate(&mut self, leg: LegId, pt: u8, rate: u32) -> Result<(), MediaError> {
        let entry = self.legs.get(&leg).ok_or(MediaError::UnknownLeg(leg))?;
        self.send(entry.context, Command::ClockRate { leg, pt, rate })
    }

    fn pool(&self, realm: &str) -> Option<&PortPool> {
        if realm.is_empty() {
            return self.pools.first();
        }
        self.pools.iter().find(|p| p.name() == realm)
    }

    fn send(&self, context: u32, cmd: Command) -> Result<(), MediaError> {
        let ctx = self
            .contexts
            .get(&context)
            .ok_or_else(|| MediaError::Io(format!("context {context} has no task")))?;
        ctx.tx
            .send(cmd)
            .map_err(|_| MediaError::Io(format!("context {context} task ended")))
    }

    /// The command channel of `context`'s task, spawning the task when there is none.
    fn context_tx(&mut self, context: u32) -> UnboundedSender<Command> {
        if let Some(ctx) = self.contexts.get(&context) {
            return ctx.tx.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        self.live_tasks.fetch_add(1, Ordering::Relaxed);
        let task = ContextTask::new(
            context,
            self.events_tx.clone(),
            TaskGuard(self.live_tasks.clone()),
        );
        self.handle.spawn(task.run(rx));
        self.contexts.insert(
            context,
            ContextEntry {
                tx: tx.clone(),
                legs: 0,
            },
        );
        tx
    }

    /// One leg fewer in `context`; the last one out drops the channel, ending the task
    /// once it has worked through the commands already queued.
    fn release_context(&mut self, context: u32) {
        if let Some(ctx) = self.contexts.get_mut(&context) {
            ctx.legs = ctx.legs.saturating_sub(1);
            if ctx.legs == 0 {
                self.contexts.remove(&context);
            }
        }
    }
}

impl MediaPlane for Engine {
    fn open(&mut self, leg: LegId, spec: &LegSpec, now: Instant) -> Result<LocalInfo, MediaError> {
        if self.legs.contains_key(&leg) {
            return Err(MediaError::Rejected(format!("leg {leg:?} is already open")));
        }
        let pool = self
            .pool(&spec.realm)
            .ok_or_else(|| MediaError::UnknownRealm(spec.realm.clone()))?;
        let (ice, fingerprint) = match spec.kind {
            LegKind::DtlsSrtp => (
                Some(random_ice_credentials()?),
                Some(self.config.certificate.fingerprint().clone()),
            ),
            _ => (None, None),
        };
        let (std_socket, lease) = pool.bind()?;
        let addr = pool.advertised(lease.port());
        let socket = {
            let _runtime = self.handle.enter();
            tokio::net::UdpSocket::from_std(std_socket)
                .map_err(|e| MediaError::Io(e.to_string()))?
        };
        let state = match (spec.kind, &ice) {
            (LegKind::DtlsSrtp, Some(local_ice)) => {
                let config = AccessLegConfig {
                    leg,
                    local_ice: local_ice.clone(),
                    certificate: self.config.certificate.clone(),
                    handshake_timeout: self.config.handshake_timeout,
                    consent_timeout: self.config.consent_timeout,
                };
                LegState::Access(Box::new(AccessLeg::new(config, spec, now)))
            }
            _ => LegState::Plain(Box::new(PlainLeg::new(spec, now))),
        };
        let counters = Arc::new(LegCounters::default());
        let task_leg = TaskLeg {
            id: leg,
            socket,
            lease,
            spec: spec.clone(),
            counters: counters.clone(),
            state,
            access_rtp: RtpReceiveStats::new(now),
        };
        let tx = self.context_tx(spec.context);
        if tx.send(Command::Add(Box::new(task_leg))).is_err() {
            // The task cannot have ended while the engine holds its sender; be safe anyway.
            self.contexts.remove(&spec.context);
            return Err(MediaError::Io("context task ended".into()));
        }
        if let Some(ctx) = self.contexts.get_mut(&spec.context) {
            ctx.legs += 1;
        }
        self.legs.insert(
            leg,
            LegEntry {
                context: spec.context,
                kind: spec.kind,
                spec: spec.clone(),
                counters,
            },
        );
        tracing::debug!(?leg, context = spec.context, %addr, "leg opened");
        Ok(LocalInfo {
            addr,
            ice,
            fingerprint,
        })
    }

    fn update(&mut self, leg: LegId, spec: &LegSpec, now: Instant) -> Result<(), MediaError> {
        let entry = self.legs.get(&leg).ok_or(MediaError::UnknownLeg(leg))?;
        if spec.kind != entry.kind {
            return Err(MediaError::Rejected(
                "the transport of a leg cannot change".into(),
            ));
        }
        if spec.realm != entry.spec.realm {
            return Err(MediaError::Rejected(
                "the realm of a leg cannot change".into(),
            ));
        }
        // An access leg opened before the UE's answer waits as DTLS server; the answer may then
        // make the AGW the client (UE answered a=setup:passive, figure 6.2.10.5.2), so Server ->
        // Client is allowed here (the leg itself refuses it once a handshake has started).
        // Client -> Server never is: the AGW has already sent its ClientHello.
        if let (Some(DtlsRole::Client), Some(DtlsRole::Server)) =
            (entry.spec.dtls_role, spec.dtls_role)
        {
            return Err(MediaError::Rejected(
                "the DTLS role of a leg cannot change from client to server".into(),
            ));
        }
        let old_context = entry.context;
        if spec.context != old_context {
            // Move: the old task hands the leg (socket, state, counters) to the new one.
            let to = self.context_tx(spec.context);
            self.send(old_context, Command::MoveOut { leg, to })?;
            if let Some(ctx) = self.contexts.get_mut(&spec.context) {
                ctx.legs += 1;
            }
            self.release_context(old_context);
        }
        self.send(
            spec.context,
            Command::Update {
                leg,
                spec: Box::new(spec.clone()),
                now,
            },
        )?;
        if let Some(entry) = self.legs.get_mut(&leg) {
            entry.context = spec.context;
            entry.spec = spec.clone();
        }
        Ok(())
    }

    fn close(&mut self, leg: LegId) -> Result<LegStats, MediaError> {
        let entry = self.legs.remove(&leg).ok_or(MediaError::UnknownLeg(leg))?;
        if let Err(e) = self.send(entry.context, Command::Remove(leg)) {
            tracing::warn!(?leg, error = %e, "closing a leg whose task is gone");
        }
        self.release_context(entry.context);
        tracing::debug!(?leg, context = entry.context, "leg closed");
        Ok(entry.counters.snapshot())
    }

    fn stats(&self, leg: LegId) -> Result<LegStats, MediaError> {
        self.legs
            .get(&leg)
            .map(|e| e.counters.snapshot())
            .ok_or(MediaError::UnknownLeg(leg))
    }

    fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events_rx.as_mut()?.try_recv().ok()
    }
}
