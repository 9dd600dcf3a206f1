//! Thin tokio drivers for the sans-IO [`association`](crate::association): they own the
//! sockets and the clock, feed `(Instant::now(), bytes)` into [`Mg`] / [`Mgc`], sleep until
//! `poll_timeout`, send what `poll_transmit` returns and hand every other event to the
//! application's callback (which may call back into the association, e.g. `send_reply`).
//!
//! - [`MgDriver`] (IMS-AGW): opens the transport to the one configured controller when the
//!   association asks ([`mg::Event::Connect`]), closes it on [`mg::Event::Disconnect`], reports
//!   transport loss, and drops messages from anyone but the controller.
//! - [`MgcDriver`] (IMS-ALG): listens, keeps one connection per peer address (TCP connection,
//!   SCTP association or UDP peer), routes each transmit to its peer and reports closed
//!   connections as [`Mgc::transport_down`].
//!
//! Both run until a caller-given future completes ([`MgDriver::run_until`],
//! [`MgcDriver::run_until`]), so that the daemon decides about signals and shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_codec::model::{MId, ServiceChangeMethod, TransactionId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::association::{mg, mgc, Mg, Mgc};
use crate::transport::{
    Connection, Received, StreamKey, Transport, TransportConfig, TransportError,
};

/// Parse an mId as written in configuration: `<name>`, `<name>:port`, `[a.b.c.d]`,
/// `[a.b.c.d]:port`, `[v6]:port`, or a bare device name.
pub fn parse_mid(s: &str) -> Result<MId, String> {
    let s = s.trim();
    let (body, port) = match s.rfind([']', '>']) {
        Some(end) => {
            let rest = &s[end + 1..];
            let port = match rest.strip_prefix(':') {
                Some(p) => Some(
                    p.parse::<u16>()
                        .map_err(|e| format!("bad port in {s}: {e}"))?,
                ),
                None if rest.is_empty() => None,
                None => return Err(format!("unexpected {rest:?} after the mId {s}")),
            };
            (&s[..=end], port)
        }
        None => (s, None),
    };
    if let Some(name) = body.strip_prefix('<').and_then(|b| b.strip_suffix('>')) {
        if name.is_empty() {
            return Err("empty domain name".into());
        }
        return Ok(MId::Domain {
            name: name.to_ascii_lowercase().into(),
            port,
        });
    }
    if let Some(addr) = body.strip_prefix('[').and_then(|b| b.strip_suffix(']')) {
        return match addr.parse::<IpAddr>() {
            Ok(IpAddr::V4(addr)) => Ok(MId::Ip4 { addr, port }),
            Ok(IpAddr::V6(addr)) => Ok(MId::Ip6 { addr, port }),
            Err(e) => Err(format!("bad address in {s}: {e}")),
        };
    }
    if body.is_empty() {
        return Err("empty mId".into());
    }
    Ok(MId::Device(body.into()))
}

/// An mId in its text form (`<name>:port`, `[addr]:port`, ...), for logs.
pub fn format_mid(m: &MId) -> String {
    let with_port = |base: String, port: &Option<u16>| match port {
        Some(p) => format!("{base}:{p}"),
        None => base,
    };
    match m {
        MId::Ip4 { addr, port } => with_port(format!("[{addr}]"), port),
        MId::Ip6 { addr, port } => with_port(format!("[{addr}]"), port),
        MId::Domain { name, port } => with_port(format!("<{name}>"), port),
        MId::Device(d) => d.to_string(),
        MId::Mtp(p) => format!("MTP{{{p}}}"),
    }
}

/// Sleep until `at`, or forever without one.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

type Incoming = (u64, Result<Received, TransportError>);

/// Read messages off `conn` into `tx` until a fatal error (which is forwarded too).
fn spawn_reader<T: Send + 'static>(
    conn: Arc<Connection>,
    tx: mpsc::UnboundedSender<T>,
    wrap: impl Fn(Result<Received, TransportError>) -> T + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let r = conn.recv().await;
            let fatal = r.as_ref().err().is_some_and(TransportError::is_fatal);
            if tx.send(wrap(r)).is_err() || fatal {
                break;
            }
        }
    })
}

/// Most inputs taken per loop turn once one has arrived: those already queued are handled
/// before the replies and requests they produce are flushed, so that a busy association sends
/// them in one write instead of one each (and wakes once for them).
const DRAIN: usize = 64;

/// Hand `f` the inputs already queued, up to [`DRAIN`] in this turn (one was taken before).
fn drain<T>(rx: &mut mpsc::UnboundedReceiver<T>, mut f: impl FnMut(T)) {
    let mut taken = 1;
    while let Some(v) = queued(rx, &mut taken) {
        f(v)
    }
}

/// The next input already queued, while fewer than [`DRAIN`] were taken this turn (`taken`).
fn queued<T>(rx: &mut mpsc::UnboundedReceiver<T>, taken: &mut usize) -> Option<T> {
    if *taken >= DRAIN {
        return None;
    }
    let v = rx.try_recv().ok()?;
    *taken += 1;
    Some(v)
}

enum Step<T> {
    Stop,
    Input(Option<T>),
    Timer,
}

// ---------------------------------------------------------------------------------- MG

/// Drives an [`Mg`] over one transport to one controller.
pub struct MgDriver {
    /// The association (for the application's requests and inspection).
    pub mg: Mg,
    transport: TransportConfig,
    controller: SocketAddr,
    local: Option<SocketAddr>,
    connect_timeout: Duration,
    conn: Option<(Arc<Connection>, JoinHandle<()>)>,
    generation: u64,
    tx: mpsc::UnboundedSender<Incoming>,
    rx: mpsc::UnboundedReceiver<Incoming>,
    awaiting: Option<TransactionId>,
}

impl std::fmt::Debug for MgDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MgDriver")
            .field("controller", &self.controller)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl MgDriver {
    /// Drive `mg` over `transport` to `controller` (from `local` if given). Every
    /// [`mg::Event::Connect`] opens a transport to `controller`, whatever its target mId.
    pub fn new(
        mg: Mg,
        transport: TransportConfig,
        controller: SocketAddr,
        local: Option<SocketAddr>,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let connect_timeout = mg.config().connect_timeout;
        MgDriver {
            mg,
            transport,
            controller,
            local,
            connect_timeout,
            conn: None,
            generation: 0,
            tx,
            rx,
            awaiting: None,
        }
    }

    /// Start the association (if not started) and run it until `stop` completes. Events
    /// other than `Connect`/`Disconnect` go to `on_event`.
    pub async fn run_until<F, E>(&mut self, stop: F, on_event: &mut E)
    where
        F: Future,
        E: FnMut(&mut Mg, Instant, mg::Event),
    {
        if matches!(self.mg.status(), mg::Status::Idle | mg::Status::Stopped) {
            self.mg.start(Instant::now());
        }
        self.run(stop, on_event, false).await;
    }

    /// Shut down: if registered, send a ServiceChange on ROOT (`method`, `reason`) and wait up
    /// to `wait` for its reply; then stop the association and close the transport.
    pub async fn shutdown<E>(
        &mut self,
        method: ServiceChangeMethod,
        reason: u16,
        wait: Duration,
        on_event: &mut E,
    ) where
        E: FnMut(&mut Mg, Instant, mg::Event),
    {
        if self.mg.status() == mg::Status::Registered {
            match self
                .mg
                .send_service_change(Instant::now(), method.clone(), reason, None)
            {
                Ok(id) => {
                    info!(?method, reason, "sent ServiceChange before shutting down");
                    self.awaiting = Some(id);
                    self.run(tokio::time::sleep(wait), on_event, true).await;
                }
                Err(e) => warn!(%e, "cannot send the shutdown ServiceChange"),
            }
        }
        self.mg.stop();
        self.flush(on_event).await;
        self.close();
    }

    async fn run<F, E>(&mut self, stop: F, on_event: &mut E, until_answered: bool)
    where
        F: Future,
        E: FnMut(&mut Mg, Instant, mg::Event),
    {
        let (_keep, mut none) = mpsc::unbounded_channel::<std::convert::Infallible>();
        self.run_inner(
            stop,
            on_event,
            until_answered,
            &mut none,
            &mut |_, _, i| match i {},
        )
        .await
    }

    /// Like [`run_until`](Self::run_until), with the application's own inputs in the same
    /// loop (e.g. the AGW's media events): every message received on `inputs` goes to
    /// `on_input`, which may send requests through the association. Once `inputs` is closed it
    /// is no longer read.
    pub async fn run_until_with<F, E, T, I>(
        &mut self,
        stop: F,
        inputs: &mut mpsc::UnboundedReceiver<T>,
        on_event: &mut E,
        on_input: &mut I,
    ) where
        F: Future,
        E: FnMut(&mut Mg, Instant, mg::Event),
        I: FnMut(&mut Mg, Instant, T),
    {
        if matches!(self.mg.status(), mg::Status::Idle | mg::Status::Stopped) {
            self.mg.start(Instant::now());
        }
        self.run_inner(stop, on_event, false, inputs, on_input)
            .await;
    }

    async fn run_inner<F, E, T, I>(
        &mut self,
        stop: F,
        on_event: &mut E,
        until_answered: bool,
        inputs: &mut mpsc::UnboundedReceiver<T>,
        on_input: &mut I,
    ) where
        F: Future,
        E: FnMut(&mut Mg, Instant, mg::Event),
        I: FnMut(&mut Mg, Instant, T),
    {
        enum MgStep<N, T> {
            Stop,
            Input(Option<N>),
            App(Option<T>),
            Timer,
        }
        let mut stop = std::pin::pin!(stop);
        let mut inputs_open = true;
        loop {
            self.flush(on_event).await;
            if until_answered && self.awaiting.is_none() {
                return;
            }
            let timer = sleep_until(self.mg.poll_timeout());
            let step = tokio::select! {
                _ = &mut stop => MgStep::Stop,
                m = self.rx.recv() => MgStep::Input(m),
                a = inputs.recv(), if inputs_open => MgStep::App(a),
                _ = timer => MgStep::Timer,
            };
            let now = Instant::now();
            let step = match step {
                MgStep::Stop => Step::Stop,
                MgStep::Input(m) => Step::Input(m),
                MgStep::Timer => Step::Timer,
                MgStep::App(None) => {
                    inputs_open = false;
                    continue;
                }
                MgStep::App(Some(a)) => {
                    on_input(&mut self.mg, now, a);
                    drain(inputs, |a| on_input(&mut self.mg, Instant::now(), a));
                    continue;
                }
            };
            match step {
                Step::Stop => return,
                Step::Timer => self.mg.handle_timeout(now),
                Step::Input(None) => return,
                Step::Input(Some(incoming)) => {
                    self.on_incoming(now, incoming);
                    let mut taken = 1;
                    while let Some(incoming) = queued(&mut self.rx, &mut taken) {
                        self.on_incoming(Instant::now(), incoming);
                    }
                }
            }
        }
    }

    /// One message (or receive error) from the transport.
    fn on_incoming(&mut self, now: Instant, (generation, r): Incoming) {
        if generation != self.generation {
            return;
        }
        match r {
            Ok(m) if m.peer != self.controller => {
                warn!(from = %m.peer, "message from other than the controller dropped")
            }
            Ok(m) => self.mg.handle_input(now, &m.data),
            Err(e) if e.is_fatal() => {
                info!(controller = %self.controller, %e, "transport lost");
                self.close();
                self.mg.transport_down(now);
            }
            Err(e) => debug!(%e, "receive error"),
        }
    }

    async fn flush<E>(&mut self, on_event: &mut E)
    where
        E: FnMut(&mut Mg, Instant, mg::Event),
    {
        let mut batch = Vec::new();
        loop {
            let mut busy = false;
            while let Some(t) = self.mg.poll_transmit() {
                busy = true;
                batch.push(t.bytes);
            }
            if let Some(ev) = self.mg.poll_event() {
                busy = true;
                match ev {
                    mg::Event::Connect { target } => {
                        self.send_batch(&mut batch).await;
                        self.connect(&target).await
                    }
                    mg::Event::Disconnect => {
                        self.send_batch(&mut batch).await;
                        self.close()
                    }
                    ev => {
                        if let (
                            Some(id),
                            mg::Event::Reply { id: r, .. }
                            | mg::Event::Timeout { id: r }
                            | mg::Event::Abandoned { id: r },
                        ) = (self.awaiting, &ev)
                        {
                            if id == *r {
                                self.awaiting = None;
                            }
                        }
                        on_event(&mut self.mg, Instant::now(), ev)
                    }
                }
            }
            if !busy {
                if batch.is_empty() {
                    return;
                }
                // Sending may fail and change the association's state: look again after.
                self.send_batch(&mut batch).await;
            }
        }
    }

    /// Send what one flush produced: on TCP one write for all of it.
    async fn send_batch(&mut self, batch: &mut Vec<Vec<u8>>) {
        crate::logs::flush();
        if batch.is_empty() {
            return;
        }
        let Some((conn, _)) = &self.conn else {
            debug!(messages = batch.len(), "no transport, messages dropped");
            batch.clear();
            return;
        };
        if let Err(e) = conn.send_batch(batch, StreamKey::CONTROL).await {
            warn!(%e, "send failed");
            if e.is_fatal() {
                self.close();
                self.mg.transport_down(Instant::now());
            }
        }
        batch.clear();
    }

    async fn connect(&mut self, target: &MId) {
        self.close();
        info!(
            controller = %self.controller,
            mgc = %format_mid(target),
            transport = %self.transport.kind,
            "connecting"
        );
        let attempt = tokio::time::timeout(
            self.connect_timeout,
            self.transport.connect(self.controller, self.local),
        )
        .await;
        let now = Instant::now();
        match attempt {
            Ok(Ok(conn)) => {
                let conn = Arc::new(conn);
                self.generation += 1;
                let generation = self.generation;
                let reader = spawn_reader(conn.clone(), self.tx.clone(), move |r| (generation, r));
                info!(local = %conn.local_addr(), controller = %self.controller, "transport up");
                self.conn = Some((conn, reader));
                self.mg.transport_up(now);
            }
            Ok(Err(e)) => {
                info!(controller = %self.controller, %e, "cannot connect");
                self.mg.transport_down(now);
            }
            Err(_) => {
                info!(controller = %self.controller, "connect timed out");
                self.mg.transport_down(now);
            }
        }
    }

    fn close(&mut self) {
        if let Some((_, reader)) = self.conn.take() {
            reader.abort();
            self.generation += 1;
        }
    }
}

// ---------------------------------------------------------------------------------- MGC

enum MgcInput {
    Accepted(Connection),
    Received(SocketAddr, Result<Received, TransportError>),
}

/// An application driven by [`MgcDriver::run_app`]: association events, its own inputs and
/// its own timer, each with the association so that it can send requests and replies.
pub trait MgcApp {
    /// What arrives on the application's input channel.
    type Input;
    /// An event of the association.
    fn on_event(&mut self, mgc: &mut Mgc, now: Instant, ev: mgc::Event);
    /// One message from the application's input channel.
    fn on_input(&mut self, mgc: &mut Mgc, now: Instant, input: Self::Input);
    /// When the application wants [`on_wakeup`](Self::on_wakeup) next (asked after every step).
    fn next_wakeup(&self) -> Option<Instant> {
        None
    }
    /// `next_wakeup` has come.
    fn on_wakeup(&mut self, _mgc: &mut Mgc, _now: Instant) {}
}

/// Drives an [`Mgc`] behind one listener.
pub struct MgcDriver {
    /// The association (for the application's requests and inspection).
    pub mgc: Mgc,
    local: SocketAddr,
    conns: HashMap<SocketAddr, (Arc<Connection>, JoinHandle<()>)>,
    acceptor: JoinHandle<()>,
    tx: mpsc::UnboundedSender<MgcInput>,
    rx: mpsc::UnboundedReceiver<MgcInput>,
}

impl std::fmt::Debug for MgcDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MgcDriver")
            .field("local", &self.local)
            .field("connections", &self.conns.len())
            .finish()
    }
}

impl MgcDriver {
    /// Listen on `local` with `transport` and drive `mgc`.
    pub async fn bind(
        mgc: Mgc,
        transport: &TransportConfig,
        local: SocketAddr,
    ) -> Result<Self, TransportError> {
        let listener = transport.listen(local).await?;
        let local = listener.local_addr();
        let (tx, rx) = mpsc::unbounded_channel();
        let atx = tx.clone();
        let acceptor = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok(c) => {
                        if atx.send(MgcInput::Accepted(c)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        warn!(%e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(MgcDriver {
            mgc,
            local,
            conns: HashMap::new(),
            acceptor,
            tx,
            rx,
        })
    }

    /// The bound address (with the actual port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Run until `stop` completes; every event goes to `on_event`.
    pub async fn run_until<F, E>(&mut self, stop: F, on_event: &mut E)
    where
        F: Future,
        E: FnMut(&mut Mgc, Instant, mgc::Event),
    {
        struct Events<'a, E>(&'a mut E);
        impl<E: FnMut(&mut Mgc, Instant, mgc::Event)> MgcApp for Events<'_, E> {
            type Input = std::convert::Infallible;
            fn on_event(&mut self, mgc: &mut Mgc, now: Instant, ev: mgc::Event) {
                (self.0)(mgc, now, ev)
            }
            fn on_input(&mut self, _: &mut Mgc, _: Instant, i: Self::Input) {
                match i {}
            }
        }
        let (_keep, mut none) = mpsc::unbounded_channel();
        self.run_app(stop, &mut none, &mut Events(on_event)).await;
    }

    /// Like [`run_until`](Self::run_until), with the application's own inputs and timer in the
    /// same loop (e.g. the IMS-ALG's ng control datagrams): every message received on `inputs`
    /// goes to [`MgcApp::on_input`], and [`MgcApp::on_wakeup`] runs when
    /// [`MgcApp::next_wakeup`] (asked after every step) comes. Once `inputs` is closed it is
    /// no longer read.
    pub async fn run_app<F, A>(
        &mut self,
        stop: F,
        inputs: &mut mpsc::UnboundedReceiver<A::Input>,
        app: &mut A,
    ) where
        F: Future,
        A: MgcApp,
    {
        let mut stop = std::pin::pin!(stop);
        let mut inputs_open = true;
        loop {
            self.flush(&mut |m: &mut Mgc, now, ev| app.on_event(m, now, ev))
                .await;
            let app_at = app.next_wakeup();
            let timer = sleep_until(match (self.mgc.poll_timeout(), app_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            });
            // One value per loop turn, moved straight into its handler.
            #[allow(clippy::large_enum_variant)]
            enum Ext<I> {
                Stop,
                Mgc(Option<MgcInput>),
                App(Option<I>),
                Timer,
            }
            let step = tokio::select! {
                _ = &mut stop => Ext::Stop,
                m = self.rx.recv() => Ext::Mgc(m),
                i = inputs.recv(), if inputs_open => Ext::App(i),
                _ = timer => Ext::Timer,
            };
            let now = Instant::now();
            let step = match step {
                Ext::Stop | Ext::Mgc(None) => Step::Stop,
                Ext::Timer => {
                    if self.mgc.poll_timeout().is_some_and(|t| t <= now) {
                        self.mgc.handle_timeout(now);
                    }
                    if app.next_wakeup().is_some_and(|w| w <= now) {
                        app.on_wakeup(&mut self.mgc, now);
                    }
                    continue;
                }
                Ext::App(None) => {
                    inputs_open = false;
                    continue;
                }
                Ext::App(Some(i)) => {
                    app.on_input(&mut self.mgc, now, i);
                    drain(inputs, |i| app.on_input(&mut self.mgc, Instant::now(), i));
                    continue;
                }
                Ext::Mgc(Some(m)) => Step::Input(Some(m)),
            };
            match step {
                Step::Stop | Step::Input(None) | Step::Timer => return,
                Step::Input(Some(m)) => {
                    self.on_input(now, m);
                    let mut taken = 1;
                    while let Some(m) = queued(&mut self.rx, &mut taken) {
                        self.on_input(Instant::now(), m);
                    }
                }
            }
        }
    }

    /// One accepted connection, or one message (or receive error) from a peer.
    fn on_input(&mut self, now: Instant, m: MgcInput) {
        match m {
            MgcInput::Accepted(c) => {
                let peer = c.peer_addr();
                info!(%peer, transport = %c.kind(), "new peer");
                let conn = Arc::new(c);
                let reader = spawn_reader(conn.clone(), self.tx.clone(), move |r| {
                    MgcInput::Received(peer, r)
                });
                if let Some((_, old)) = self.conns.insert(peer, (conn, reader)) {
                    old.abort();
                }
            }
            MgcInput::Received(peer, r) => match r {
                Ok(m) => self.mgc.handle_input(now, peer, &m.data),
                Err(e) if e.is_fatal() => {
                    info!(%peer, %e, "peer transport closed");
                    if let Some((_, reader)) = self.conns.remove(&peer) {
                        reader.abort();
                    }
                    self.mgc.transport_down(now, peer);
                }
                Err(e) => debug!(%peer, %e, "receive error"),
            },
        }
    }

    /// Close every connection and stop listening.
    pub fn close(&mut self) {
        self.acceptor.abort();
        for (_, (_, reader)) in self.conns.drain() {
            reader.abort();
        }
    }

    async fn flush<E>(&mut self, on_event: &mut E)
    where
        E: FnMut(&mut Mgc, Instant, mgc::Event),
    {
        // Consecutive messages to one peer go out together (one write on TCP).
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut batch_to = None;
        loop {
            let mut busy = false;
            while let Some(t) = self.mgc.poll_transmit() {
                busy = true;
                if let Some(to) = batch_to.filter(|to| *to != t.to) {
                    self.send_batch(to, &mut batch).await;
                }
                batch_to = Some(t.to);
                batch.push(t.bytes);
            }
            if let Some(ev) = self.mgc.poll_event() {
                busy = true;
                on_event(&mut self.mgc, Instant::now(), ev);
            }
            if !busy {
                let Some(to) = batch_to.take() else {
                    return;
                };
                // Sending may fail and change the association's state: look again after.
                self.send_batch(to, &mut batch).await;
            }
        }
    }

    /// Send the messages for `to` that one flush produced.
    async fn send_batch(&mut self, to: SocketAddr, batch: &mut Vec<Vec<u8>>) {
        crate::logs::flush();
        let Some((conn, _)) = self.conns.get(&to) else {
            debug!(%to, messages = batch.len(), "no connection to the peer, messages dropped");
            batch.clear();
            return;
        };
        if let Err(e) = conn.send_batch(batch, StreamKey::CONTROL).await {
            warn!(%to, %e, "send failed");
            if e.is_fatal() {
                if let Some((_, reader)) = self.conns.remove(&to) {
                    reader.abort();
                }
                self.mgc.transport_down(Instant::now(), to);
            }
        }
        batch.clear();
    }
}

impl Drop for MgcDriver {
    fn drop(&mut self) {
        self.close();
    }
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere): the daemons' clean-shutdown trigger.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => info!("SIGINT"),
                    _ = term.recv() => info!("SIGTERM"),
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Log to standard output, filtered by `RUST_LOG` (default `info`), without colour codes so that
/// logs and tests can read the lines. Lines are written in batches (`crate::logs`): keep the
/// returned guard until the end of `main`, which writes what is left.
pub fn init_logs() -> crate::logs::Flush {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let flush = crate::logs::start_flushing();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::logs::Stdout)
        .with_ansi(false)
        .fmt_fields(crate::logs::Fields)
        .event_format(crate::logs::LineFormat)
        .init();
    flush
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_takes_at_most_drain_inputs_in_order() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..100 {
            tx.send(i).unwrap();
        }
        // One input was taken by the turn's select; the turn takes DRAIN - 1 more.
        assert_eq!(rx.try_recv().unwrap(), 0);
        let mut got = Vec::new();
        drain(&mut rx, |v| got.push(v));
        assert_eq!(got, (1..DRAIN as i32).collect::<Vec<_>>());
        // The rest waits for the next turns, in order.
        assert_eq!(rx.try_recv().unwrap(), DRAIN as i32);
        let mut taken = 1;
        let mut next = Vec::new();
        while let Some(v) = queued(&mut rx, &mut taken) {
            next.push(v);
        }
        assert_eq!(next.len(), 100 - DRAIN - 1);
        assert_eq!(next.first(), Some(&(DRAIN as i32 + 1)));
        assert!(queued(&mut rx, &mut 1).is_none(), "empty queue");
    }

    #[test]
    fn mids_parse_and_format() {
        for s in [
            "<agw1.example.net>",
            "<agw1.example.net>:2944",
            "[127.0.0.1]:2944",
            "[::1]",
            "mg/device1",
        ] {
            let m = parse_mid(s).unwrap();
            assert_eq!(format_mid(&m), s);
        }
        assert_eq!(
            parse_mid("<AGW.example.net>").unwrap(),
            MId::Domain {
                name: "agw.example.net".into(),
                port: None
            }
        );
        assert!(parse_mid("<>").is_err());
        assert!(parse_mid("[1.2.3]").is_err());
        assert!(parse_mid("<a>:x").is_err());
    }
}
