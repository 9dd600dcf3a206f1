//! One task per context: owns the context's sockets and legs, relays media between them,
//! drives access-leg timers, and takes commands from the engine over a channel. No locks and
//! no allocation on the relay path: one receive buffer and one scratch buffer per task.
//! OWNER: media-net helper (relay core: srtp helper).
//!
//! The relay decisions themselves are sans-IO in [`RelayCore`]: it takes a received datagram
//! and the context's legs (anything that is a [`RelayLeg`]) and sends through each leg's
//! [`Egress`]. [`ContextTask`] feeds it from its UDP sockets; tests and benchmarks feed it
//! from memory with [`DetachedLeg`]s (`tests/relay_alloc.rs` checks that the relay path
//! does not allocate).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::Sleep;

use super::api::{LegId, LegSpec, LegStats, MediaEvent, StreamMode};
use super::leg::{AccessLeg, Received};
use super::plain::{PlainLeg, PlainReceived, RtpReceiveStats};
use super::pool::PortLease;

/// Largest datagram relayed (longer ones are truncated by the kernel and dropped here).
pub const RECV_MAX: usize = 2048;
/// Room after a packet for SRTP's auth tag (and MKI) when protecting in place.
pub const TAIL_ROOM: usize = 64;

/// Counters of one leg, written by its task and read by the engine at any time.
#[derive(Debug, Default)]
pub struct LegCounters {
    packets_received: AtomicU64,
    packets_sent: AtomicU64,
    octets_received: AtomicU64,
    octets_sent: AtomicU64,
    packets_lost: AtomicU64,
    jitter: AtomicU32,
    srtp_auth_failures: AtomicU64,
    srtp_replays: AtomicU64,
}

impl LegCounters {
    /// The counters now.
    pub fn snapshot(&self) -> LegStats {
        LegStats {
            packets_received: self.packets_received.load(Ordering::Relaxed),
            packets_sent: self.packets_sent.load(Ordering::Relaxed),
            octets_received: self.octets_received.load(Ordering::Relaxed),
            octets_sent: self.octets_sent.load(Ordering::Relaxed),
            packets_lost: self.packets_lost.load(Ordering::Relaxed),
            jitter: self.jitter.load(Ordering::Relaxed),
            srtp_auth_failures: self.srtp_auth_failures.load(Ordering::Relaxed),
            srtp_replays: self.srtp_replays.load(Ordering::Relaxed),
        }
    }

    fn received(&self, octets: usize) {
        self.packets_received.fetch_add(1, Ordering::Relaxed);
        self.octets_received
            .fetch_add(octets as u64, Ordering::Relaxed);
    }

    fn sent(&self, octets: usize) {
        self.packets_sent.fetch_add(1, Ordering::Relaxed);
        self.octets_sent.fetch_add(octets as u64, Ordering::Relaxed);
    }
}

/// Kind-specific state of a leg.
#[derive(Debug)]
#[non_exhaustive]
pub enum LegState {
    /// A plain RTP/RTCP leg.
    Plain(Box<PlainLeg>),
    /// A DTLS-SRTP access leg.
    Access(Box<AccessLeg>),
}

/// Where a leg's datagrams go out (its UDP socket, or a test double).
pub trait Egress {
    /// Send `data` to `to` now, without waiting (a full socket buffer drops the packet).
    fn try_send_to(&self, data: &[u8], to: SocketAddr) -> std::io::Result<usize>;
}

impl Egress for UdpSocket {
    fn try_send_to(&self, data: &[u8], to: SocketAddr) -> std::io::Result<usize> {
        UdpSocket::try_send_to(self, data, to)
    }
}

/// What the relay core touches of a leg.
pub struct LegParts<'a> {
    /// The leg's identity.
    pub id: LegId,
    /// Its stream mode.
    pub mode: StreamMode,
    /// Kind-specific state.
    pub state: &'a mut LegState,
    /// Counters the engine reads.
    pub counters: &'a LegCounters,
    /// Receiver statistics of an access leg (plain legs keep theirs in [`PlainLeg`]).
    pub access_rtp: &'a mut RtpReceiveStats,
    /// Where its datagrams go.
    pub egress: &'a dyn Egress,
}

/// A leg the relay core can work with.
pub trait RelayLeg {
    /// Borrow the parts the relay needs.
    fn parts(&mut self) -> LegParts<'_>;
}

/// A leg outside any context task (tests, benchmarks): the same relay path with any
/// [`Egress`].
#[derive(Debug)]
pub struct DetachedLeg<S> {
    /// Identity.
    pub id: LegId,
    /// Stream mode.
    pub mode: StreamMode,
    /// Kind-specific state.
    pub state: LegState,
    /// Counters.
    pub counters: LegCounters,
    /// Access-leg receiver statistics.
    pub access_rtp: RtpReceiveStats,
    /// Where it sends.
    pub egress: S,
}

impl<S: Egress> RelayLeg for DetachedLeg<S> {
    fn parts(&mut self) -> LegParts<'_> {
        LegParts {
            id: self.id,
            mode: self.mode,
            state: &mut self.state,
            counters: &self.counters,
            access_rtp: &mut self.access_rtp,
            egress: &self.egress,
        }
    }
}

impl RelayLeg for TaskLeg {
    fn parts(&mut self) -> LegParts<'_> {
        LegParts {
            id: self.id,
            mode: self.spec.mode,
            state: &mut self.state,
            counters: &self.counters,
            access_rtp: &mut self.access_rtp,
            egress: &self.socket,
        }
    }
}

/// A leg as its task owns it. Field order matters: the socket closes before the lease
/// returns the port to the pool.
#[derive(Debug)]
pub(crate) struct TaskLeg {
    pub(crate) id: LegId,
    pub(crate) socket: UdpSocket,
    pub(crate) lease: PortLease,
    pub(crate) spec: LegSpec,
    pub(crate) counters: Arc<LegCounters>,
    pub(crate) state: LegState,
    /// Receiver statistics for access legs (plain legs keep theirs in [`PlainLeg`]).
    pub(crate) access_rtp: RtpReceiveStats,
}

/// What the engine asks of a context task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Take over a leg (new, or moved from another context).
    Add(Box<TaskLeg>),
    /// Apply a changed spec.
    Update {
        leg: LegId,
        spec: Box<LegSpec>,
        now: Instant,
    },
    /// Set the clock rate of a dynamic payload type for jitter.
    ClockRate { leg: LegId, pt: u8, rate: u32 },
    /// Close the leg (its socket and port go with it).
    Remove(LegId),
    /// Hand the leg over to another context's task.
    MoveOut {
        leg: LegId,
        to: UnboundedSender<Command>,
    },
}

impl Command {
    fn leg(&self) -> LegId {
        match self {
            Command::Add(l) => l.id,
            Command::Update { leg, .. }
            | Command::ClockRate { leg, .. }
            | Command::Remove(leg)
            | Command::MoveOut { leg, .. } => *leg,
        }
    }
}

/// Decrements the engine's live-task count when the task ends (however it ends).
#[derive(Debug)]
pub(crate) struct TaskGuard(pub(crate) Arc<AtomicUsize>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

enum Wake {
    Command(Option<Command>),
    Timer,
    Datagram {
        leg: usize,
        len: usize,
        from: SocketAddr,
    },
    RecvError {
        leg: usize,
        error: std::io::Error,
    },
}

/// Does a termination in `mode` pass media received from its peer into the context?
fn takes_from_peer(mode: StreamMode) -> bool {
    matches!(mode, StreamMode::SendRecv | StreamMode::RecvOnly)
}

/// Does a termination in `mode` send media from the context to its peer?
fn gives_to_peer(mode: StreamMode) -> bool {
    matches!(mode, StreamMode::SendRecv | StreamMode::SendOnly)
}

/// The per-context task.
pub(crate) struct ContextTask {
    context: u32,
    legs: Vec<TaskLeg>,
    /// Commands for legs that have not arrived yet (a move in flight).
    pending: Vec<Command>,
    core: RelayCore,
    next_leg: usize,
    _guard: TaskGuard,
}

impl ContextTask {
    pub(crate) fn new(context: u32, events: UnboundedSender<MediaEvent>, guard: TaskGuard) -> Self {
        ContextTask {
            context,
            legs: Vec::with_capacity(2),
            pending: Vec::new(),
            core: RelayCore::new(events),
            next_leg: 0,
            _guard: guard,
        }
    }

    /// Run until the engine drops the command channel.
    pub(crate) async fn run(mut self, mut rx: UnboundedReceiver<Command>) {
        let far = tokio::time::Instant::now() + std::time::Duration::from_secs(86_400 * 365);
        let sleep = tokio::time::sleep_until(far);
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        loop {
            let wake = std::future::poll_fn(|cx| {
                self.poll_wake(cx, &mut rx, sleep.as_mut(), armed.is_some())
            })
            .await;
            match wake {
                Wake::Command(None) => break,
                Wake::Command(Some(cmd)) => self.command(cmd),
                Wake::Timer => {
                    // The sleep has fired: re-arm whatever the legs ask for next.
                    armed = None;
                    let now = Instant::now();
                    for i in 0..self.legs.len() {
                        if let LegState::Access(access) = &mut self.legs[i].state {
                            if access.poll_timeout().is_some_and(|t| t <= now) {
                                access.handle_timeout(now);
                            }
                        }
                        self.drain(i);
                    }
                }
                Wake::Datagram { leg, len, from } => {
                    self.core
                        .datagram(&mut self.legs, leg, len, from, Instant::now());
                }
                Wake::RecvError { leg, error } => {
                    tracing::debug!(context = self.context, leg = ?self.legs[leg].id, %error, "receive error");
                }
            }
            let deadline = self
                .legs
                .iter()
                .filter_map(|l| match &l.state {
                    LegState::Access(a) => a.poll_timeout(),
                    LegState::Plain(_) => None,
                })
                .min();
            if deadline != armed {
                armed = deadline;
                if let Some(d) = deadline {
                    // A deadline already past (a leg that keeps asking for "now") waits a
                    // millisecond rather than spinning.
                    let d = d.max(Instant::now() + std::time::Duration::from_millis(1));
                    sleep.as_mut().reset(tokio::time::Instant::from_std(d));
                }
            }
        }
        tracing::debug!(context = self.context, "context task ends");
    }

    fn poll_wake(
        &mut self,
        cx: &mut Context<'_>,
        rx: &mut UnboundedReceiver<Command>,
        sleep: Pin<&mut Sleep>,
        armed: bool,
    ) -> Poll<Wake> {
        if let Poll::Ready(cmd) = rx.poll_recv(cx) {
            return Poll::Ready(Wake::Command(cmd));
        }
        if armed && sleep.poll(cx).is_ready() {
            return Poll::Ready(Wake::Timer);
        }
        let n = self.legs.len();
        for k in 0..n {
            let i = (self.next_leg + k) % n;
            // Readiness first, then the read: the relay buffers are only touched (and, the
            // first time, allocated) when a datagram is there, so an idle context holds none.
            loop {
                match self.legs[i].socket.poll_recv_ready(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(error)) => {
                        self.next_leg = i + 1;
                        return Poll::Ready(Wake::RecvError { leg: i, error });
                    }
                    Poll::Pending => break,
                }
                match self.legs[i].socket.try_recv_from(self.core.recv_buf()) {
                    Ok((len, from)) => {
                        self.next_leg = i + 1;
                        return Poll::Ready(Wake::Datagram { leg: i, len, from });
                    }
                    // Spurious readiness: it is cleared now; poll again to register.
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(error) => {
                        self.next_leg = i + 1;
                        return Poll::Ready(Wake::RecvError { leg: i, error });
                    }
                }
            }
        }
        Poll::Pending
    }

    fn position(&self, leg: LegId) -> Option<usize> {
        self.legs.iter().position(|l| l.id == leg)
    }

    fn command(&mut self, cmd: Command) {
        if let Command::Add(leg) = cmd {
            let id = leg.id;
            self.legs.push(*leg);
            let i = self.legs.len() - 1;
            self.drain(i);
            // Replay what the engine sent for this leg before it arrived.
            let (mine, rest): (Vec<Command>, Vec<Command>) = std::mem::take(&mut self.pending)
                .into_iter()
                .partition(|c| c.leg() == id);
            self.pending = rest;
            for c in mine {
                self.command(c);
            }
            return;
        }
        let Some(i) = self.position(cmd.leg()) else {
            self.pending.push(cmd);
            return;
        };
        match cmd {
            Command::Add(_) => {}
            Command::Update { spec, now, .. } => {
                let leg = &mut self.legs[i];
                match &mut leg.state {
                    LegState::Plain(p) => p.update(&spec),
                    LegState::Access(a) => {
                        if let Err(e) = a.update(&spec, now) {
                            tracing::warn!(context = self.context, leg = ?leg.id, error = %e, "access leg refused the update");
                        }
                    }
                }
                leg.spec = *spec;
                self.drain(i);
            }
            Command::ClockRate { pt, rate, .. } => {
                let leg = &mut self.legs[i];
                match &mut leg.state {
                    LegState::Plain(p) => p.rtp.set_clock_rate(pt, rate),
                    LegState::Access(_) => leg.access_rtp.set_clock_rate(pt, rate),
                }
            }
            Command::Remove(_) => {
                let leg = self.legs.swap_remove(i);
                tracing::debug!(context = self.context, leg = ?leg.id, port = leg.lease.port(), "leg closed");
                drop(leg);
            }
            Command::MoveOut { to, .. } => {
                let leg = self.legs.swap_remove(i);
                if let Err(e) = to.send(Command::Add(Box::new(leg))) {
                    tracing::warn!(context = self.context, "move target gone; leg closed: {e}");
                }
            }
        }
        if self.next_leg >= self.legs.len() {
            self.next_leg = 0;
        }
    }

    fn drain(&mut self, i: usize) {
        if let Some(leg) = self.legs.get_mut(i) {
            self.core.drain(&mut leg.parts());
        }
    }
}

/// The sans-IO relay of one context: a receive buffer, a scratch buffer for protecting,
/// and the decisions (stream modes, loopback, counters, RTP statistics, SRTP) for each
/// datagram. Allocation-free per packet; the two buffers are allocated once, when the
/// first datagram is received, so that idle contexts (most of a gateway's, between calls'
/// set-up and media) do not hold 4 KiB each.
#[derive(Debug)]
pub struct RelayCore {
    events: UnboundedSender<MediaEvent>,
    buf: Vec<u8>,
    scratch: Vec<u8>,
}

impl RelayCore {
    /// A core reporting leg events (peer learned, DTLS, consent) on `events`.
    pub fn new(events: UnboundedSender<MediaEvent>) -> Self {
        RelayCore {
            events,
            buf: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Where the next datagram is received ([`RECV_MAX`] octets).
    pub fn recv_buf(&mut self) -> &mut [u8] {
        if self.buf.is_empty() {
            self.buf = vec![0; RECV_MAX + TAIL_ROOM];
            self.scratch = vec![0; RECV_MAX + TAIL_ROOM];
        }
        &mut self.buf[..RECV_MAX]
    }

    /// Send what an access leg wants sent, pass its events on, copy its SRTP counters.
    pub fn drain(&self, leg: &mut LegParts<'_>) {
        let LegState::Access(access) = &mut *leg.state else {
            return;
        };
        while let Some((to, data)) = access.poll_transmit() {
            if let Err(e) = leg.egress.try_send_to(&data, to) {
                tracing::debug!(leg = ?leg.id, %to, error = %e, "transmit failed");
            }
        }
        while let Some(ev) = access.poll_event() {
            let _ = self.events.send(ev);
        }
        let s = access.stats();
        leg.counters
            .srtp_auth_failures
            .store(s.srtp_auth_failures, Ordering::Relaxed);
        leg.counters
            .srtp_replays
            .store(s.srtp_replays, Ordering::Relaxed);
    }

    /// The datagram `recv_buf()[..len]` arrived on `legs[i]` from `from`: relay it.
    pub fn datagram<L: RelayLeg>(
        &mut self,
        legs: &mut [L],
        i: usize,
        len: usize,
        from: SocketAddr,
        now: Instant,
    ) {
        let len = len.min(RECV_MAX);
        if self.buf.is_empty() {
            // Nothing was received into `recv_buf()`.
            return;
        }
        let Some(leg) = legs.get_mut(i) else {
            return;
        };
        let mut leg = leg.parts();
        let (media, access) = match &mut *leg.state {
            LegState::Plain(p) => match p.on_datagram(from, &self.buf[..len]) {
                PlainReceived::Media { rtcp, learned } => {
                    if let Some(addr) = learned {
                        let _ = self
                            .events
                            .send(MediaEvent::PeerLearned { leg: leg.id, addr });
                    }
                    (Some((len, rtcp)), false)
                }
                PlainReceived::Dropped => (None, false),
            },
            LegState::Access(a) => match a.handle_datagram(now, from, &mut self.buf[..len]) {
                Received::Media { len, rtcp } if len <= RECV_MAX => (Some((len, rtcp)), true),
                _ => (None, true),
            },
        };
        if access {
            self.drain(&mut leg);
        }
        let Some((plain_len, rtcp)) = media else {
            return;
        };
        let mode = leg.mode;
        if mode == StreamMode::Loopback {
            leg.counters.received(len);
            Self::record_rtp(&mut leg, rtcp, &self.buf[..plain_len], now);
            Self::send_to_peer(&mut leg, &self.buf, &mut self.scratch, plain_len);
            return;
        }
        if !takes_from_peer(mode) {
            return;
        }
        leg.counters.received(len);
        Self::record_rtp(&mut leg, rtcp, &self.buf[..plain_len], now);
        for (j, other) in legs.iter_mut().enumerate() {
            if j == i {
                continue;
            }
            let mut other = other.parts();
            if !gives_to_peer(other.mode) {
                continue;
            }
            Self::send_to_peer(&mut other, &self.buf, &mut self.scratch, plain_len);
        }
    }

    fn record_rtp(leg: &mut LegParts<'_>, rtcp: bool, pkt: &[u8], now: Instant) {
        if rtcp {
            return;
        }
        let rtp = match &mut *leg.state {
            LegState::Plain(p) => &mut p.rtp,
            LegState::Access(_) => &mut *leg.access_rtp,
        };
        if rtp.on_rtp(pkt, now) {
            leg.counters
                .packets_lost
                .store(rtp.lost(), Ordering::Relaxed);
            leg.counters.jitter.store(rtp.jitter(), Ordering::Relaxed);
        }
    }

    /// Send the plain packet `buf[..len]` to `leg`'s peer (protecting it on access legs,
    /// in `scratch` so that `buf` stays plain for further legs).
    fn send_to_peer(leg: &mut LegParts<'_>, buf: &[u8], scratch: &mut [u8], len: usize) {
        let sent = match &mut *leg.state {
            LegState::Plain(p) => {
                let Some(dest) = p.destination() else {
                    return;
                };
                leg.egress.try_send_to(&buf[..len], dest)
            }
            LegState::Access(a) => {
                let Some(dest) = a.media_destination() else {
                    return;
                };
                scratch[..len].copy_from_slice(&buf[..len]);
                let n = match a.protect(scratch, len) {
                    Ok(n) if n <= scratch.len() => n,
                    Ok(_) => return,
                    Err(e) => {
                        tracing::trace!(leg = ?leg.id, error = %e, "not protected, dropped");
                        return;
                    }
                };
                leg.egress.try_send_to(&scratch[..n], dest)
            }
        };
        match sent {
            Ok(n) => leg.counters.sent(n),
            Err(e) => tracing::trace!(leg = ?leg.id, error = %e, "send failed, dropped"),
        }
    }
}
