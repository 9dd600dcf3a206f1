//! The conformance controller: iq-link's [`Mgc`] behind our own small driver loop on a tokio
//! thread, with a blocking facade for the scenarios.
//!
//! Our own loop rather than [`iq_link::driver::MgcDriver`] because the conformance run needs
//! three things the daemon driver does not offer: a tap on every received message (to see the
//! MG's registration request as it was sent), raw bytes on the wire (a syntax-error probe the
//! engine would never encode) with the reply to them caught before the engine sees it, and
//! learning the MG's mId from its first message when `--mg` gives only an address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_codec::model::{
    ActionRequest, Command, ErrorDescriptor, MId, Message, MessageBody, ServiceChangeMethod,
    ServiceChangeParm, Transaction, TransactionResult,
};
use iq_link::association::{mgc, Keepalive, MgEntry, Mgc, MgcConfig, OutOfService};
use iq_link::driver::format_mid;
use iq_link::transaction::{Codec, Encoding};
use iq_link::transport::{
    Connection, Received, StreamKey, Transport, TransportConfig, TransportError, TransportKind,
};
use tokio::sync::mpsc;

/// Transaction IDs of raw probes: far above what the engine numbers its own requests with.
const PROBE_BASE: u32 = 0x7f00_0000;

/// What the controller needs to know.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Our mId.
    pub mid: MId,
    /// The MG's mId, if given (else learnt from its first message).
    pub mg_mid: Option<MId>,
    /// The MG's address (port checked only when given).
    pub mg_addr: IpAddr,
    /// The MG's source port, if it must match.
    pub mg_port: Option<u16>,
    /// Transport.
    pub transport: TransportKind,
    /// Binary (BER) instead of text.
    pub binary: bool,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Per-request reply timeout.
    pub request_timeout: Duration,
}

/// The MG's registration as it arrived and as the association accepted it.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The MG's mId.
    pub mid: MId,
    /// Negotiated version.
    pub version: u8,
    /// The ServiceChange parameters of the MG's request (from the wire tap), if decoded.
    pub request: Option<ServiceChangeParm>,
    /// The termination IDs of that ServiceChange.
    pub terminations: Vec<String>,
    /// The message header version of the request.
    pub header_version: Option<u8>,
    /// Where from.
    pub address: SocketAddr,
}

/// Something the MG did on its own.
#[derive(Debug, Clone)]
pub enum Seen {
    /// It registered.
    Registered(Box<Registration>),
    /// It sent a request (answered: Notify with a Notify reply, anything else 501).
    Request(Vec<ActionRequest>),
    /// It was lost.
    Lost(String),
    /// A ServiceChange of ours was answered.
    ServiceChangeDone(mgc::ServiceChangeOutcome),
    /// It accepted a HandOff.
    HandedOff(MId),
    /// It sent a ServiceChange on ROOT (out of service...).
    MgServiceChange(ServiceChangeMethod),
}

impl Seen {
    /// One line for the step log.
    pub fn describe(&self) -> String {
        match self {
            Seen::Registered(r) => format!(
                "MG registered ({:?})",
                r.request.as_ref().map(|p| &p.method)
            ),
            Seen::Request(a) => format!("MG request: {} action(s)", a.len()),
            Seen::Lost(why) => format!("MG lost: {why}"),
            Seen::ServiceChangeDone(o) => format!("ServiceChange answered: {o:?}"),
            Seen::HandedOff(to) => format!("MG handed off to {}", format_mid(to)),
            Seen::MgServiceChange(m) => format!("MG ServiceChange {m:?}"),
        }
    }
}

/// The reply to a raw probe: a transaction reply or a message-level error.
#[derive(Debug, Clone)]
pub enum ProbeReply {
    /// `Reply = id { ... }`.
    Reply(TransactionResult),
    /// A message whose body is an error descriptor.
    MessageError(ErrorDescriptor),
}

type Answer<T> = std_mpsc::Sender<Result<T, String>>;

enum Cmd {
    Request(Vec<ActionRequest>, Answer<TransactionResult>),
    Raw(Vec<u8>, u32, Answer<ProbeReply>),
    ServiceChange(ScKind, Answer<u32>),
}

/// A ServiceChange the controller sends.
#[derive(Debug, Clone)]
pub enum ScKind {
    /// Forced out of service, with a reason.
    Forced(u16),
    /// Back in service (Restart), with a reason.
    Restart(u16),
    /// HandOff to another MGC.
    HandOff(MId),
}

/// One message on the wire, as sent or received (`replay --pcap` records them).
#[derive(Debug, Clone)]
pub struct Wire {
    /// When.
    pub at: std::time::SystemTime,
    /// Transport.
    pub kind: TransportKind,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// The message (without transport framing).
    pub data: Vec<u8>,
}

/// The running controller.
pub struct Link {
    /// Where we listen.
    pub addr: SocketAddr,
    cmd: Option<mpsc::UnboundedSender<Cmd>>,
    seen: std_mpsc::Receiver<Seen>,
    backlog: Vec<Seen>,
    timeout: Duration,
    /// The registered MG (mId as text), once known.
    pub mg: Option<MId>,
    next_probe: u32,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn encoding(binary: bool) -> Encoding {
    if binary {
        Encoding::Binary
    } else {
        Encoding::Text(iq_codec::text::Style::Pretty)
    }
}

/// Notify is acknowledged, anything else gets 501 (see `acknowledge_notifies`).
fn answer(actions: &[ActionRequest]) -> TransactionResult {
    iq_link::association::acknowledge_notifies(actions, "iq-interop")
}

/// The MG's ServiceChange on ROOT in a decoded message, with the header version.
fn registration_request(m: &Message) -> Option<(ServiceChangeParm, Vec<String>)> {
    let MessageBody::Transactions(ts) = &m.body else {
        return None;
    };
    ts.iter().find_map(|t| match t {
        Transaction::Request(r) => r.actions.iter().find_map(|a| {
            a.commands.iter().find_map(|c| match &c.command {
                Command::ServiceChange(sc) => Some((
                    (*sc.parms).clone(),
                    sc.termination_ids.iter().map(|t| t.0.to_string()).collect(),
                )),
                _ => None,
            })
        }),
        _ => None,
    })
}

struct Loop {
    cfg: LinkConfig,
    codec: Arc<dyn Codec>,
    mgc: Option<Mgc>,
    mg_mid: Option<MId>,
    conns: HashMap<SocketAddr, Arc<Connection>>,
    seen: std_mpsc::Sender<Seen>,
    waiting: Vec<(u32, Answer<TransactionResult>)>,
    probes: Vec<(u32, SocketAddr, Answer<ProbeReply>)>,
    scs: Vec<(u32, Answer<u32>)>,
    last_sc: Option<(ServiceChangeParm, Vec<String>, u8)>,
    registered_from: Option<SocketAddr>,
    tap: Option<std_mpsc::Sender<Wire>>,
}

impl Loop {
    /// Copies a message to the tap, if any (`sent`: we sent it on `conn`).
    fn tap(&self, conn: &Connection, sent: bool, data: &[u8]) {
        if let Some(t) = &self.tap {
            let (me, peer) = (conn.local_addr(), conn.peer_addr());
            let (src, dst) = if sent { (me, peer) } else { (peer, me) };
            let _ = t.send(Wire {
                at: std::time::SystemTime::now(),
                kind: conn.kind(),
                src,
                dst,
                data: data.to_vec(),
            });
        }
    }

    fn new_mgc(&self, mid: MId) -> Option<Mgc> {
        let entry = match self.cfg.mg_port {
            Some(p) => MgEntry::new(mid, SocketAddr::new(self.cfg.mg_addr, p)),
            None => MgEntry::any_port(mid, self.cfg.mg_addr),
        };
        let mut c = MgcConfig::new(self.cfg.mid.clone(), vec![entry]);
        c.keepalive = Keepalive::Off;
        c.max_failures = 0;
        c.min_version = 1;
        c.transaction.encoding = encoding(self.cfg.binary);
        c.transaction.reliable = self.cfg.transport != TransportKind::Udp;
        c.transaction.request_timeout = self.cfg.request_timeout;
        c.transaction.long_request_timer = self.cfg.request_timeout * 3;
        match Mgc::new(c) {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("iq-interop conformance: controller configuration refused: {e}");
                None
            }
        }
    }

    fn matches_mg(&self, from: SocketAddr) -> bool {
        from.ip() == self.cfg.mg_addr && self.cfg.mg_port.is_none_or(|p| p == from.port())
    }

    /// One received message: probes and the registration tap first, then the association.
    fn input(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if !self.matches_mg(from) {
            tracing::info!(%from, "message from other than the MG under test ignored");
            return;
        }
        let decoded = self.codec.decode(data).ok();
        if let Some(m) = &decoded {
            // a probe's reply (or the message error that answers it)
            if !self.probes.is_empty() {
                let hit = match &m.body {
                    MessageBody::Error(e) => self
                        .probes
                        .iter()
                        .position(|(_, f, _)| *f == from)
                        .map(|i| (i, ProbeReply::MessageError(e.clone()))),
                    MessageBody::Transactions(ts) => ts.iter().find_map(|t| match t {
                        Transaction::Reply(r) => self
                            .probes
                            .iter()
                            .position(|(id, _, _)| *id == r.id)
                            .map(|i| (i, ProbeReply::Reply(r.result.clone()))),
                        _ => None,
                    }),
                };
                if let Some((i, reply)) = hit {
                    let (_, _, tx) = self.probes.swap_remove(i);
                    let _ = tx.send(Ok(reply));
                    return;
                }
            }
            if let Some((p, t)) = registration_request(m) {
                if p.method != ServiceChangeMethod::Forced
                    && p.method != ServiceChangeMethod::Graceful
                {
                    self.last_sc = Some((p, t, m.version));
                }
            }
            if self.mgc.is_none() {
                let mid = self.mg_mid.clone().unwrap_or_else(|| m.mid.clone());
                println!("MG {} ({from}) connected", format_mid(&m.mid));
                self.mg_mid = Some(mid.clone());
                self.mgc = self.new_mgc(mid);
            }
        }
        if self.mgc.is_none() {
            if let Some(mid) = self.mg_mid.clone() {
                self.mgc = self.new_mgc(mid);
            }
        }
        if let Some(m) = self.mgc.as_mut() {
            m.handle_input(now, from, data);
        }
    }

    fn on_event(&mut self, now: Instant, ev: mgc::Event) {
        let Some(m) = self.mgc.as_mut() else { return };
        match ev {
            mgc::Event::MgRegistered {
                mid,
                version,
                address,
                ..
            } => {
                self.registered_from = Some(address);
                let (request, terminations, header_version) = match self.last_sc.take() {
                    Some((p, t, v)) => (Some(p), t, Some(v)),
                    None => (None, Vec::new(), None),
                };
                let _ = self.seen.send(Seen::Registered(Box::new(Registration {
                    mid,
                    version,
                    request,
                    terminations,
                    header_version,
                    address,
                })));
            }
            mgc::Event::Refused { from, mid, code } => {
                println!(
                    "refused a request from {from} ({}) with {code}",
                    mid.as_ref().map(format_mid).unwrap_or_default()
                );
            }
            mgc::Event::MgLost { mid, cause } => {
                let _ = self
                    .seen
                    .send(Seen::Lost(format!("{} lost: {cause:?}", format_mid(&mid))));
                for (_, tx) in self.waiting.drain(..) {
                    let _ = tx.send(Err("the MG was lost".into()));
                }
            }
            mgc::Event::Request { mg, id, actions } => {
                let _ = m.send_reply(now, &mg, id, answer(&actions));
                let _ = self.seen.send(Seen::Request(actions));
            }
            mgc::Event::Reply { id, result, .. } => {
                if let Some(i) = self.waiting.iter().position(|(w, _)| *w == id) {
                    let (_, tx) = self.waiting.swap_remove(i);
                    let _ = tx.send(Ok(result));
                }
            }
            mgc::Event::Timeout { id, .. } | mgc::Event::Abandoned { id, .. } => {
                if let Some(i) = self.waiting.iter().position(|(w, _)| *w == id) {
                    let (_, tx) = self.waiting.swap_remove(i);
                    let _ = tx.send(Err(format!("no reply to transaction {id}")));
                }
                if let Some(i) = self.scs.iter().position(|(w, _)| *w == id) {
                    let (_, tx) = self.scs.swap_remove(i);
                    let _ = tx.send(Err(format!("no reply to ServiceChange {id}")));
                }
            }
            mgc::Event::ServiceChangeDone { outcome, .. } => {
                let _ = self.seen.send(Seen::ServiceChangeDone(outcome));
            }
            mgc::Event::MgHandedOff { to, .. } => {
                let _ = self.seen.send(Seen::HandedOff(to));
            }
            mgc::Event::MgServiceChange { method, .. } => {
                let _ = self.seen.send(Seen::MgServiceChange(method));
            }
            _ => {}
        }
    }

    fn command(&mut self, now: Instant, c: Cmd) -> Option<(SocketAddr, Vec<u8>)> {
        let registered = self
            .mgc
            .as_ref()
            .and_then(|m| m.registered().next().map(|(mid, _)| mid.clone()));
        match c {
            Cmd::Request(actions, tx) => {
                let (Some(m), Some(mg)) = (self.mgc.as_mut(), registered) else {
                    let _ = tx.send(Err("no MG registered".into()));
                    return None;
                };
                match m.send_request(now, &mg, actions) {
                    Ok(id) => self.waiting.push((id, tx)),
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
                None
            }
            Cmd::Raw(bytes, id, tx) => match self.registered_from {
                Some(to) => {
                    self.probes.push((id, to, tx));
                    Some((to, bytes))
                }
                None => {
                    let _ = tx.send(Err("no MG registered".into()));
                    None
                }
            },
            Cmd::ServiceChange(kind, tx) => {
                let (Some(m), Some(mg)) = (self.mgc.as_mut(), registered) else {
                    let _ = tx.send(Err("no MG registered".into()));
                    return None;
                };
                let r = match kind {
                    ScKind::Forced(reason) => {
                        m.take_out_of_service(now, &mg, OutOfService::Forced, reason)
                    }
                    ScKind::Restart(reason) => m.restore_service(now, &mg, reason),
                    ScKind::HandOff(to) => m.hand_off(now, &mg, to),
                };
                let _ = tx.send(r.map_err(|e| e.to_string()));
                None
            }
        }
    }

    async fn flush(&mut self) {
        loop {
            let mut busy = false;
            while let Some(t) = self.mgc.as_mut().and_then(Mgc::poll_transmit) {
                busy = true;
                if let Some(c) = self.conns.get(&t.to).cloned() {
                    self.tap(&c, true, &t.bytes);
                    if let Err(e) = c.send(&t.bytes, StreamKey::CONTROL).await {
                        tracing::warn!(to = %t.to, %e, "send failed");
                    }
                }
            }
            if let Some(ev) = self.mgc.as_mut().and_then(Mgc::poll_event) {
                busy = true;
                self.on_event(Instant::now(), ev);
            }
            if !busy {
                return;
            }
        }
    }
}

enum Input {
    Accepted(Connection),
    Received(SocketAddr, Result<Received, TransportError>),
}

impl Link {
    /// Listen and start the controller thread. Returns once listening (or the bind error).
    pub fn start(cfg: LinkConfig) -> Result<Link, String> {
        Self::start_tapped(cfg, None)
    }

    /// [`Link::start`], copying every message sent and received to `tap`.
    pub fn start_tapped(
        cfg: LinkConfig,
        tap: Option<std_mpsc::Sender<Wire>>,
    ) -> Result<Link, String> {
        let codec = encoding(cfg.binary)
            .codec()
            .ok_or("encoding not available")?;
        let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<Cmd>();
        let (seen_tx, seen_rx) = std_mpsc::channel();
        let (addr_tx, addr_rx) = std_mpsc::channel::<Result<SocketAddr, String>>();
        let timeout = cfg.request_timeout;
        let loop_codec = codec.clone();
        let thread = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = addr_tx.send(Err(format!("tokio runtime: {e}")));
                    return;
                }
            };
            rt.block_on(async move {
                let mut tc = TransportConfig::new(cfg.transport);
                tc.encoding = iq_link::transport::EncodingMode::Fixed(if cfg.binary {
                    iq_link::transport::Encoding::Binary
                } else {
                    iq_link::transport::Encoding::Text
                });
                let listener = match tc.listen(cfg.listen).await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = addr_tx.send(Err(format!(
                            "cannot listen on {} ({}): {e}",
                            cfg.listen, cfg.transport
                        )));
                        return;
                    }
                };
                let _ = addr_tx.send(Ok(listener.local_addr()));
                let (in_tx, mut in_rx) = mpsc::unbounded_channel::<Input>();
                let atx = in_tx.clone();
                let acceptor = tokio::spawn(async move {
                    loop {
                        match listener.accept().await {
                            Ok(c) => {
                                if atx.send(Input::Accepted(c)).is_err() {
                                    break;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(%e, "accept failed");
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        }
                    }
                });
                let mut lp = Loop {
                    mg_mid: cfg.mg_mid.clone(),
                    cfg,
                    codec: loop_codec,
                    mgc: None,
                    conns: HashMap::new(),
                    seen: seen_tx,
                    waiting: Vec::new(),
                    probes: Vec::new(),
                    scs: Vec::new(),
                    last_sc: None,
                    registered_from: None,
                    tap,
                };
                let mut readers = Vec::new();
                loop {
                    lp.flush().await;
                    let at = lp.mgc.as_ref().and_then(Mgc::poll_timeout);
                    let timer = async {
                        match at {
                            Some(at) => tokio::time::sleep_until(at.into()).await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        c = cmd_rx.recv() => {
                            let Some(c) = c else { break };
                            if let Some((to, bytes)) = lp.command(Instant::now(), c) {
                                if let Some(conn) = lp.conns.get(&to).cloned() {
                                    lp.tap(&conn, true, &bytes);
                                    if let Err(e) = conn.send(&bytes, StreamKey::CONTROL).await {
                                        tracing::warn!(%to, %e, "probe send failed");
                                    }
                                }
                            }
                        }
                        i = in_rx.recv() => match i {
                            None => break,
                            Some(Input::Accepted(c)) => {
                                let peer = c.peer_addr();
                                let conn = Arc::new(c);
                                lp.conns.insert(peer, conn.clone());
                                let tx = in_tx.clone();
                                readers.push(tokio::spawn(async move {
                                    loop {
                                        let r = conn.recv().await;
                                        let fatal = r.as_ref().err().is_some_and(TransportError::is_fatal);
                                        if tx.send(Input::Received(peer, r)).is_err() || fatal {
                                            break;
                                        }
                                    }
                                }));
                            }
                            Some(Input::Received(peer, Ok(m))) => {
                                if let Some(conn) = lp.conns.get(&peer).cloned() {
                                    lp.tap(&conn, false, &m.data);
                                }
                                lp.input(Instant::now(), peer, &m.data);
                            }
                            Some(Input::Received(peer, Err(e))) => {
                                if e.is_fatal() {
                                    lp.conns.remove(&peer);
                                    if let Some(m) = lp.mgc.as_mut() {
                                        m.transport_down(Instant::now(), peer);
                                    }
                                }
                            }
                        },
                        _ = timer => {
                            if let Some(m) = lp.mgc.as_mut() {
                                m.handle_timeout(Instant::now());
                            }
                        }
                    }
                }
                acceptor.abort();
                for r in readers {
                    r.abort();
                }
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the controller did not start".to_string())??;
        Ok(Link {
            addr,
            cmd: Some(cmd_tx),
            seen: seen_rx,
            backlog: Vec::new(),
            timeout,
            mg: None,
            next_probe: PROBE_BASE,
            thread: Some(thread),
        })
    }

    fn send(&self, c: Cmd) -> Result<(), String> {
        self.cmd
            .as_ref()
            .ok_or("controller stopped")?
            .send(c)
            .map_err(|_| "controller thread ended".to_string())
    }

    /// The next event matching `pick` within `timeout`; other events are kept for later.
    pub fn wait_for<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&Seen) -> Option<T>,
    ) -> Option<T> {
        if let Some(i) = self.backlog.iter().position(|s| pick(s).is_some()) {
            let s = self.backlog.remove(i);
            return pick(&s);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.seen.recv_timeout(left) {
                Ok(s) => {
                    if let Some(t) = pick(&s) {
                        return Some(t);
                    }
                    self.backlog.push(s);
                }
                Err(_) => return None,
            }
        }
    }

    /// Forget queued events (between scenarios).
    pub fn drain(&mut self) -> Vec<Seen> {
        let mut out = std::mem::take(&mut self.backlog);
        while let Ok(s) = self.seen.try_recv() {
            out.push(s);
        }
        out
    }

    /// Wait for a registration.
    pub fn wait_registered(&mut self, timeout: Duration) -> Option<Registration> {
        let r = self.wait_for(timeout, |s| match s {
            Seen::Registered(r) => Some((**r).clone()),
            _ => None,
        })?;
        self.mg = Some(r.mid.clone());
        Some(r)
    }

    /// Send a request; its reply (or why there is none).
    pub fn request(&self, actions: Vec<ActionRequest>) -> Result<TransactionResult, String> {
        let (tx, rx) = std_mpsc::channel();
        self.send(Cmd::Request(actions, tx))?;
        rx.recv_timeout(self.timeout + Duration::from_secs(2))
            .map_err(|_| format!("no reply within {:?}", self.timeout))?
    }

    /// Send raw bytes as one message with transaction ID `probe_id()`; the reply.
    pub fn raw(&mut self, bytes: Vec<u8>, id: u32) -> Result<ProbeReply, String> {
        let (tx, rx) = std_mpsc::channel();
        self.send(Cmd::Raw(bytes, id, tx))?;
        rx.recv_timeout(self.timeout)
            .map_err(|_| format!("no reply within {:?}", self.timeout))?
    }

    /// A fresh transaction ID for a raw probe.
    pub fn probe_id(&mut self) -> u32 {
        self.next_probe += 1;
        self.next_probe
    }

    /// Send a ServiceChange on ROOT; its outcome.
    pub fn service_change(&mut self, kind: ScKind) -> Result<mgc::ServiceChangeOutcome, String> {
        let (tx, rx) = std_mpsc::channel();
        self.send(Cmd::ServiceChange(kind, tx))?;
        rx.recv_timeout(Duration::from_secs(2))
            .map_err(|_| "controller did not answer".to_string())??;
        self.wait_for(self.timeout, |s| match s {
            Seen::ServiceChangeDone(o) => Some(o.clone()),
            _ => None,
        })
        .ok_or_else(|| format!("no ServiceChange reply within {:?}", self.timeout))
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.cmd = None; // the loop ends when the command channel closes
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
