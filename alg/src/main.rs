//! `iq-alg`: the IMS-ALG side (H.248 MGC) of the Iq interface.
//!
//! Listens for IMS-AGWs, accepts registrations only from the configured ones (address and
//! mId; anyone else gets error 504), keeps the association alive and logs what happens.
//! Optionally probes each AGW that registers with an AuditValue on ROOT.
//!
//! Serves the rtpengine-compatible "ng" control protocol (UDP) so that a SIP proxy drives the
//! sessions: each offer/answer/delete becomes the TS 23.334 procedures
//! ([`iq_alg::procedures`]) run against an AGW chosen among the registered ones
//! ([`iq_alg::daemon`]).

/// mimalloc instead of glibc malloc (see `iq_alloc`): both daemons allocate and free many
/// small model objects per request (malloc/free were 20-25% of their profiles). Measured with
/// `iq-interop load --sessions 20000 --rate 0 --concurrency 300`, alternating builds: CPU per
/// session ALG 290-333 -> 209-230 us, AGW 291-316 -> 193-224 us (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: iq_alloc::Allocator = iq_alloc::Allocator;

/// How often freed memory is handed back to the system (`iq_alloc::spawn_release`), so that
/// an idle daemon's RSS falls back after a burst.
const RELEASE_MEMORY_EVERY: Duration = Duration::from_secs(2);

use std::cell::Cell;
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use iq_alg::daemon::agw::AgwConf;
use iq_alg::daemon::{Daemon, DaemonConfig};
use iq_alg::ng::side::RealmNames;
use iq_alg::procedures::{ActpassPolicy, SessionConfig};
use iq_codec::model::{
    ActionRequest, AuditDescriptor, AuditItem, AuditRequest, Command, CommandRequest, ContextId,
    MId, TerminationId, TransactionId, TransactionResult,
};
use iq_codec::text::Style;
use iq_link::association::{mgc, Keepalive, MgEntry, Mgc, MgcConfig};
use iq_link::driver::{format_mid, parse_mid, MgcApp, MgcDriver};
use iq_link::driver::{init_logs, shutdown_signal};
use iq_link::transaction::Encoding;
use iq_link::transport::{
    self, AllowList, DropLog, EncodingMode, IpNet, TransportConfig, TransportKind,
};
use serde::Deserialize;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

/// IMS-ALG (H.248 MGC) for the 3GPP Iq interface.
///
/// Listens on the configured address and transport, accepts ServiceChange registrations only
/// from the AGWs listed in the configuration (their source address and mId must both match;
/// others are refused with error 504), watches them with keepalives and logs registrations,
/// refusals and losses. Stops cleanly on SIGINT/SIGTERM.
///
/// It also serves the rtpengine "ng" control protocol on UDP (`[ng] listen`), so that a SIP
/// proxy (Kamailio's rtpengine module) drives the calls: offer, answer, delete, query, list,
/// ping. Each call gets an AGW (registered, in service, by realm and weight) and runs the
/// TS 23.334 6.2.10.5 procedures there; the ng reply to an offer/answer carries the SDP for the
/// other side once the AGW has answered.
///
/// Configuration (TOML):
///
///   [iq]
///   transport = "sctp"           # "sctp" (default), "tcp" or "udp"
///   listen = "0.0.0.0:2944"      # default; port 0 picks a free one (logged)
///   encoding = "text"            # "text" or "binary"
///   mid = "<alg1.example.net>"
///   keepalive_secs = 30          # AuditValue ROOT after this idle time; 0 = off
///   inactivity_ms = 0            # >0: instead ask each AGW for H.248.14 inactivity
///                                # notifications (it/ito, mit = this), the MG-driven keepalive
///   max_message = 65531          # largest H.248 message accepted (octets); TCP: a larger
///                                # TPKT length closes the connection; UDP and SCTP: a larger
///                                # message is dropped (logged)
///
///   Only the addresses of the [[agw]] entries may open an Iq association (TCP connection,
///   SCTP association, UDP datagrams): anyone else is closed/dropped before a byte of H.248 is
///   read, logged at most once a minute per address. A configured address with an unknown
///   mId is answered with error 504.
///
///   [[agw]]                      # one per AGW allowed to register
///   mid = "<agw1.example.net>"
///   address = "127.0.0.1"        # its source address (any source port)
///   weight = 1                   # share of new sessions (0 = none)
///   realms = ["access"]          # realm names (ng `direction`) it serves; empty = any
///                                # (`realm = "x"` is the same as realms = ["x"])
///
///   [ng]
///   listen = "127.0.0.1:2223"    # default; "" disables the ng front. If the default
///                                # address is taken, the daemon runs without it (warning);
///                                # an explicit address that cannot be bound is an error
///   allow = ["127.0.0.0/8", "::1"]  # default (loopback only): ng clients (the SIP
///                                # proxies), CIDR prefixes or addresses; datagrams from
///                                # elsewhere are dropped unanswered (logged at most once a
///                                # minute per address)
///   max_message = 32768          # largest ng datagram read (octets); a larger one is
///                                # answered with an error when its cookie is readable
///   max_sessions = 100000        # new offers beyond this many sessions are refused with
///                                # "overloaded" (established sessions are kept); 0 = no cap
///   max_sessions_per_client = 0  # the same per ng client address; 0 = no cap
///   recv_buffer_kib = 4096       # the ng socket's receive buffer (SO_RCVBUF; the kernel caps
///                                # it at net.core.rmem_max, logged at start): the default
///                                # 208 KiB holds about 90 requests, and a proxy's burst of
///                                # offers beyond that is dropped before the daemon sees it
///   reply_cache_kib = 16384      # replies kept for retransmitted requests (same cookie,
///                                # answered again, not executed again) for 30 s, in at most
///                                # this much memory; beyond, the oldest go first
///
///   [procedures]
///   actpass = "agw-client"       # UE offers a=setup:actpass: AGW is DTLS "agw-client"
///                                # (answer a=setup:active) or "agw-server" (passive)
///   access_realm = "access"      # ipdc/realm of the access termination (T1)
///   core_realm = "core"          # ipdc/realm of the core termination (T2)
///   access_names = ["access", "external"]  # ng `direction` names meaning the access side
///   core_names = ["core", "internal"]      # ... and the core side
///   access_dtls = true           # offer DTLS-SRTP to the UE for core RTP offers
///   heartbeat_secs = 60          # hangterm/thb on both terminations; 0 = not requested
///   answer_timeout_secs = 120    # wait for the other side's answer; 0 = forever
///
///   [script]
///   probe = false                # after a registration, send AuditValue ROOT (Packages)
///
/// Benchmark: `--bench N` sends N AuditValue ROOT (Packages) requests to the first AGW that
/// registers, at most `--bench-window` outstanding at a time, prints
/// `bench done n=N ok=.. failed=.. secs=.. tps=..` on stdout and exits (0 if all succeeded).
///
/// Logs go to stdout; RUST_LOG sets the filter (default "info").
/// At "info" a session logs its start and its release; RUST_LOG=iq_alg=debug adds every ng
/// request and reply. Warnings and errors are written at once, other lines within 50 ms.
#[derive(Debug, Parser)]
#[command(name = "iq-alg", version, verbatim_doc_comment)]
struct Cli {
    /// Configuration file (TOML, see above).
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// After each registration, send AuditValue ROOT (Packages) to the AGW and log the reply.
    #[arg(long)]
    probe: bool,
    /// Override `[iq] listen`.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Override `[ng] listen` (the rtpengine-compatible ng control socket, UDP).
    #[arg(long, value_name = "ADDR")]
    ng_listen: Option<SocketAddr>,
    /// Send this many AuditValue ROOT requests to the first AGW that registers, print the
    /// transactions per second and exit.
    #[arg(long, value_name = "N")]
    bench: Option<u64>,
    /// Most outstanding benchmark requests at a time.
    #[arg(long, value_name = "W", default_value_t = 64)]
    bench_window: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    iq: IqSection,
    #[serde(default)]
    agw: Vec<AgwSection>,
    #[serde(default)]
    script: ScriptSection,
    #[serde(default)]
    ng: NgSection,
    #[serde(default)]
    procedures: ProceduresSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NgSection {
    /// Empty = disabled.
    #[serde(default = "default_ng_listen")]
    listen: String,
    /// ng clients allowed (CIDR); `None` = loopback only.
    #[serde(default)]
    allow: Option<Vec<String>>,
    #[serde(default = "default_ng_max_message")]
    max_message: usize,
    #[serde(default = "default_max_sessions")]
    max_sessions: usize,
    #[serde(default)]
    max_sessions_per_client: usize,
    #[serde(default = "default_reply_cache_kib")]
    reply_cache_kib: usize,
    #[serde(default = "default_ng_recv_buffer_kib")]
    recv_buffer_kib: usize,
}

impl Default for NgSection {
    fn default() -> Self {
        NgSection {
            listen: default_ng_listen(),
            allow: None,
            max_message: default_ng_max_message(),
            max_sessions: default_max_sessions(),
            max_sessions_per_client: 0,
            reply_cache_kib: default_reply_cache_kib(),
            recv_buffer_kib: default_ng_recv_buffer_kib(),
        }
    }
}

fn default_ng_max_message() -> usize {
    32_768
}
fn default_ng_recv_buffer_kib() -> usize {
    4096
}
fn default_reply_cache_kib() -> usize {
    iq_alg::daemon::DEFAULT_REPLY_CACHE_BYTES >> 10
}
fn default_max_sessions() -> usize {
    100_000
}
fn default_iq_max_message() -> usize {
    transport::DEFAULT_MAX_MESSAGE
}

const DEFAULT_NG_LISTEN: &str = "127.0.0.1:2223";

fn default_ng_listen() -> String {
    DEFAULT_NG_LISTEN.into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProceduresSection {
    #[serde(default = "default_actpass")]
    actpass: String,
    #[serde(default = "default_access")]
    access_realm: String,
    #[serde(default = "default_core")]
    core_realm: String,
    #[serde(default)]
    access_names: Option<Vec<String>>,
    #[serde(default)]
    core_names: Option<Vec<String>>,
    #[serde(default = "default_true")]
    access_dtls: bool,
    #[serde(default = "default_heartbeat")]
    heartbeat_secs: u32,
    #[serde(default = "default_answer_timeout")]
    answer_timeout_secs: u64,
}

impl Default for ProceduresSection {
    fn default() -> Self {
        ProceduresSection {
            actpass: default_actpass(),
            access_realm: default_access(),
            core_realm: default_core(),
            access_names: None,
            core_names: None,
            access_dtls: true,
            heartbeat_secs: default_heartbeat(),
            answer_timeout_secs: default_answer_timeout(),
        }
    }
}

fn default_actpass() -> String {
    "agw-client".into()
}
fn default_access() -> String {
    "access".into()
}
fn default_core() -> String {
    "core".into()
}
fn default_true() -> bool {
    true
}
fn default_heartbeat() -> u32 {
    60
}
fn default_answer_timeout() -> u64 {
    120
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IqSection {
    #[serde(default = "default_transport")]
    transport: String,
    #[serde(default = "default_iq_listen")]
    listen: SocketAddr,
    #[serde(default = "default_encoding")]
    encoding: String,
    mid: String,
    #[serde(default = "default_keepalive")]
    keepalive_secs: u64,
    #[serde(default)]
    inactivity_ms: u64,
    #[serde(default = "default_iq_max_message")]
    max_message: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgwSection {
    mid: String,
    address: IpAddr,
    #[serde(default = "default_weight")]
    weight: u32,
    #[serde(default)]
    realm: Option<String>,
    #[serde(default)]
    realms: Vec<String>,
}

fn default_weight() -> u32 {
    1
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptSection {
    #[serde(default)]
    probe: bool,
}

fn default_iq_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 2944))
}

fn default_transport() -> String {
    "sctp".into()
}
fn default_encoding() -> String {
    "text".into()
}
fn default_keepalive() -> u64 {
    30
}

fn transport_kind(s: &str) -> Result<TransportKind, String> {
    match s.to_ascii_lowercase().as_str() {
        "sctp" => Ok(TransportKind::Sctp),
        "tcp" => Ok(TransportKind::Tcp),
        "udp" => Ok(TransportKind::Udp),
        other => Err(format!("unknown transport {other:?} (sctp, tcp or udp)")),
    }
}

fn encoding(s: &str) -> Result<(Encoding, transport::Encoding), String> {
    match s.to_ascii_lowercase().as_str() {
        "text" => Ok((Encoding::Text(Style::Compact), transport::Encoding::Text)),
        "binary" => Ok((Encoding::Binary, transport::Encoding::Binary)),
        other => Err(format!("unknown encoding {other:?} (text or binary)")),
    }
}

struct Setup {
    mgc: Mgc,
    transport: TransportConfig,
    listen: SocketAddr,
    probe: bool,
    bench: Option<u64>,
    bench_window: u64,
    daemon: DaemonConfig,
    /// The ng socket address, and whether it was asked for explicitly.
    ng: Option<(SocketAddr, bool)>,
    /// Who may send ng requests, and how large they may be.
    ng_limits: NgLimits,
}

/// Ask for a receive buffer of `bytes` on the ng socket and log what the kernel granted (Linux
/// reports twice the usable size, capped by `net.core.rmem_max`).
fn ng_recv_buffer(sock: &UdpSocket, bytes: usize) {
    if bytes == 0 {
        return;
    }
    let s = socket2::SockRef::from(sock);
    if let Err(e) = s.set_recv_buffer_size(bytes) {
        warn!(%e, asked = bytes, "ng socket: SO_RCVBUF not set");
        return;
    }
    match s.recv_buffer_size() {
        Ok(got) if got < bytes => warn!(
            asked_kib = bytes >> 10,
            granted_kib = got >> 10,
            "ng socket receive buffer below [ng] recv_buffer_kib (raise net.core.rmem_max): a \
             burst of requests beyond it is dropped by the kernel"
        ),
        Ok(got) => info!(kib = got >> 10, "ng socket receive buffer"),
        Err(e) => warn!(%e, "ng socket: SO_RCVBUF unreadable"),
    }
}

/// What the ng socket's reader lets through.
#[derive(Debug, Clone)]
struct NgLimits {
    allow: AllowList,
    max_message: usize,
    /// SO_RCVBUF asked for the ng socket, bytes.
    recv_buffer: usize,
}

fn procedures_config(p: &ProceduresSection) -> Result<(SessionConfig, RealmNames), String> {
    let actpass_policy = match p.actpass.to_ascii_lowercase().as_str() {
        "agw-client" | "client" | "active" => ActpassPolicy::AgwClient,
        "agw-server" | "server" | "passive" => ActpassPolicy::AgwServer,
        other => {
            return Err(format!(
                "[procedures] actpass {other:?}: \"agw-client\" or \"agw-server\""
            ))
        }
    };
    let sc = SessionConfig {
        actpass_policy,
        access_realm: p.access_realm.clone(),
        core_realm: p.core_realm.clone(),
        access_dtls: p.access_dtls,
        heartbeat_secs: (p.heartbeat_secs > 0).then_some(p.heartbeat_secs),
        answer_timeout: (p.answer_timeout_secs > 0)
            .then(|| Duration::from_secs(p.answer_timeout_secs)),
        ..SessionConfig::default()
    };
    let mut realms = RealmNames::default();
    // The termination realms always name their side.
    if let Some(a) = &p.access_names {
        realms.access = a.clone();
    }
    if let Some(c) = &p.core_names {
        realms.core = c.clone();
    }
    if !realms.access.contains(&p.access_realm) {
        realms.access.push(p.access_realm.clone());
    }
    if !realms.core.contains(&p.core_realm) {
        realms.core.push(p.core_realm.clone());
    }
    Ok((sc, realms))
}

fn setup(cli: &Cli) -> Result<Setup, String> {
    let text = std::fs::read_to_string(&cli.config)
        .map_err(|e| format!("cannot read {}: {e}", cli.config.display()))?;
    let cfg: Config =
        toml::from_str(&text).map_err(|e| format!("bad config {}: {e}", cli.config.display()))?;
    let kind = transport_kind(&cfg.iq.transport)?;
    let (enc, tenc) = encoding(&cfg.iq.encoding)?;
    let mid = parse_mid(&cfg.iq.mid).map_err(|e| format!("[iq] mid: {e}"))?;
    let mut mgs = Vec::new();
    let mut agws = Vec::new();
    let mut iq_allow = Vec::new();
    for a in &cfg.agw {
        let m = parse_mid(&a.mid).map_err(|e| format!("[[agw]] mid: {e}"))?;
        mgs.push(MgEntry::any_port(m.clone(), a.address));
        iq_allow.push(IpNet::host(a.address));
        let mut realms = a.realms.clone();
        realms.extend(a.realm.clone());
        agws.push(AgwConf {
            mid: m,
            weight: a.weight,
            realms,
        });
    }
    let (session, realms) = procedures_config(&cfg.procedures)?;
    let ng = match cli.ng_listen {
        Some(a) => Some((a, true)),
        None if cfg.ng.listen.trim().is_empty() => None,
        None => {
            let a: SocketAddr = cfg
                .ng
                .listen
                .trim()
                .parse()
                .map_err(|e| format!("[ng] listen {:?}: {e}", cfg.ng.listen))?;
            Some((a, cfg.ng.listen.trim() != DEFAULT_NG_LISTEN))
        }
    };
    if mgs.is_empty() {
        warn!("no [[agw]] configured: every registration will be refused");
    }
    let mut mc = MgcConfig::new(mid, mgs);
    mc.transaction.encoding = enc;
    mc.transaction.reliable = kind != TransportKind::Udp;
    mc.keepalive = match (cfg.iq.inactivity_ms, cfg.iq.keepalive_secs) {
        (0, 0) => Keepalive::Off,
        (0, s) => Keepalive::AuditRoot {
            interval: Duration::from_secs(s),
        },
        (ms, _) => Keepalive::InactivityTimer {
            mit: Duration::from_millis(ms),
            request_id: 1,
        },
    };
    let mgc = Mgc::new(mc).map_err(|e| e.to_string())?;
    let mut transport = TransportConfig::new(kind);
    transport.encoding = EncodingMode::Fixed(tenc);
    if cfg.iq.max_message == 0 {
        return Err("[iq] max_message must be above zero".into());
    }
    transport.max_message = cfg.iq.max_message.min(transport::DEFAULT_MAX_MESSAGE);
    // Only the configured AGWs' addresses reach the association layer at all.
    transport.allow = Some(AllowList::new(iq_allow));
    let ng_allow = match &cfg.ng.allow {
        None => AllowList::loopback(),
        Some(items) => AllowList::parse_all(items).map_err(|e| format!("[ng] allow: {e}"))?,
    };
    if cfg.ng.max_message < 16 {
        return Err("[ng] max_message must be at least 16 octets".into());
    }
    let cap = |n: usize| (n > 0).then_some(n);
    Ok(Setup {
        mgc,
        transport,
        listen: cli.listen.unwrap_or(cfg.iq.listen),
        probe: cli.probe || cfg.script.probe,
        bench: cli.bench,
        bench_window: cli.bench_window,
        daemon: DaemonConfig {
            session,
            realms,
            agws,
            max_sessions: cap(cfg.ng.max_sessions),
            max_sessions_per_client: cap(cfg.ng.max_sessions_per_client),
            reply_cache_bytes: cfg.ng.reply_cache_kib.saturating_mul(1024),
            ..DaemonConfig::default()
        },
        ng,
        ng_limits: NgLimits {
            allow: ng_allow,
            max_message: cfg.ng.max_message.min(65_507),
            recv_buffer: cfg.ng.recv_buffer_kib.saturating_mul(1024),
        },
    })
}

fn audit_root_packages() -> Vec<ActionRequest> {
    vec![ActionRequest {
        context: ContextId::Null,
        context_request: None,
        context_audit: None,
        commands: vec![CommandRequest {
            command: Command::AuditValue(AuditRequest {
                termination_ids: [TerminationId::root()].into(),
                audit: Some(AuditDescriptor {
                    items: vec![AuditItem::Packages],
                    ind_aud: Vec::new(),
                }),
            }),
            optional: false,
            wildcard_return: false,
        }],
    }]
}

/// Notify is acknowledged, anything else gets 501 (see `acknowledge_notifies`).
fn answer(actions: &[ActionRequest]) -> TransactionResult {
    iq_link::association::acknowledge_notifies(actions, "the ALG")
}

/// Reads the ng socket: datagrams from allowed clients, at most `max_message` octets, go to
/// the daemon; others are dropped here (a stranger's unanswered, an oversized one answered
/// with an error when its cookie is readable), logged at most once a minute per address.
async fn ng_reader(
    sock: Arc<UdpSocket>,
    tx: mpsc::UnboundedSender<(SocketAddr, Vec<u8>)>,
    limits: NgLimits,
) {
    // One octet more than the limit, so that a larger datagram is seen as such (the kernel
    // truncates it to the buffer).
    let mut buf = vec![0u8; limits.max_message + 1];
    let mut strangers = DropLog::default();
    let mut oversized = DropLog::default();
    loop {
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                debug!(%e, "ng receive error");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if !limits.allow.allows(peer.ip()) {
            if let Some(count) = strangers.note(Instant::now(), peer.ip()) {
                warn!(%peer, dropped = count, "ng: client not in [ng] allow, datagram dropped");
            }
            continue;
        }
        if n > limits.max_message {
            if let Some(count) = oversized.note(Instant::now(), peer.ip()) {
                warn!(%peer, max = limits.max_message, dropped = count, "ng: datagram larger than [ng] max_message");
            }
            if let Some(cookie) = iq_alg::ng::wire::cookie_of(&buf[..n]) {
                let reply = iq_alg::ng::wire::encode(
                    cookie,
                    &iq_alg::ng::reply::error("Message too large"),
                    iq_alg::ng::wire::Format::Bencode,
                );
                let _ = sock.try_send_to(&reply, peer);
            }
            continue;
        }
        if tx.send((peer, buf[..n].to_vec())).is_err() {
            break;
        }
    }
}

/// What the event handler keeps between events.
struct App {
    probe: bool,
    bench: Option<Bench>,
    /// The session table (ng front <-> procedures <-> Iq).
    daemon: Daemon,
    /// The ng socket, for replies.
    ng: Option<Arc<UdpSocket>>,
}

impl MgcApp for App {
    type Input = (SocketAddr, Vec<u8>);

    fn on_event(&mut self, mgc: &mut Mgc, now: Instant, ev: mgc::Event) {
        if let Some(ev) = self.daemon.handle_event(mgc, now, ev) {
            self.on_other_event(mgc, now, ev);
        }
        self.flush_ng();
    }

    fn on_input(&mut self, mgc: &mut Mgc, now: Instant, (peer, bytes): Self::Input) {
        self.daemon.handle_ng(mgc, now, peer, &bytes);
        self.flush_ng();
    }

    fn next_wakeup(&self) -> Option<Instant> {
        self.daemon.poll_timeout()
    }

    fn on_wakeup(&mut self, mgc: &mut Mgc, now: Instant) {
        self.daemon.handle_timeout(mgc, now);
        self.flush_ng();
    }
}

/// `--bench`: N AuditValue ROOT requests to one AGW, `window` outstanding at most.
struct Bench {
    total: u64,
    window: u64,
    mg: Option<MId>,
    started: Instant,
    sent: u64,
    ok: u64,
    failed: u64,
    outstanding: HashSet<TransactionId>,
    /// Set once every request has ended: `Some(true)` if all succeeded.
    finished: Rc<Cell<Option<bool>>>,
}

impl Bench {
    /// Send requests until the window is full or all are sent.
    fn fill(&mut self, mgc: &mut Mgc, now: Instant) {
        let Some(mg) = self.mg.clone() else { return };
        while self.sent < self.total && (self.outstanding.len() as u64) < self.window {
            match mgc.send_request(now, &mg, audit_root_packages()) {
                Ok(id) => {
                    self.sent += 1;
                    self.outstanding.insert(id);
                }
                Err(e) => {
                    warn!(%e, "bench request not sent");
                    self.sent += 1;
                    self.failed += 1;
                }
            }
        }
        self.check_end();
    }

    fn check_end(&mut self) {
        if self.ok + self.failed < self.total || self.finished.get().is_some() {
            return;
        }
        let secs = self.started.elapsed().as_secs_f64();
        let tps = self.total as f64 / secs.max(1e-9);
        println!(
            "bench done n={} ok={} failed={} window={} secs={secs:.3} tps={tps:.0}",
            self.total, self.ok, self.failed, self.window
        );
        info!(
            n = self.total,
            ok = self.ok,
            failed = self.failed,
            secs,
            tps,
            "bench done"
        );
        self.finished.set(Some(self.failed == 0));
    }
}

impl App {
    fn is_bench(&self, mg: &MId, id: TransactionId) -> bool {
        self.bench
            .as_ref()
            .is_some_and(|b| b.mg.as_ref() == Some(mg) && b.outstanding.contains(&id))
    }

    fn bench_done(&mut self, mgc: &mut Mgc, now: Instant, id: TransactionId, ok: bool) {
        if let Some(b) = self.bench.as_mut() {
            b.outstanding.remove(&id);
            if ok {
                b.ok += 1;
            } else {
                b.failed += 1;
            }
            b.fill(mgc, now);
        }
    }

    /// Send the daemon's ng replies (UDP: a full socket buffer drops the reply; the client
    /// retransmits and gets it from the reply cache).
    fn flush_ng(&mut self) {
        // The log lines about these replies go out before the replies do.
        iq_link::logs::flush();
        while let Some((peer, bytes)) = self.daemon.poll_datagram() {
            match &self.ng {
                Some(sock) => {
                    if let Err(e) = sock.try_send_to(&bytes, peer) {
                        warn!(%peer, %e, "ng reply not sent");
                    }
                }
                None => debug!("ng reply without an ng socket dropped"),
            }
        }
    }

    fn on_other_event(&mut self, mgc: &mut Mgc, now: Instant, ev: mgc::Event) {
        match ev {
            mgc::Event::MgRegistered {
                mid,
                version,
                profile,
                method,
                reason,
                address,
            } => {
                info!(
                    mid = %format_mid(&mid),
                    %address,
                    ?method,
                    reason = ?reason,
                    version,
                    profile = ?profile.map(|p| format!("{}/{}", p.name, p.version)),
                    "registration accepted"
                );
                if let Some(b) = self.bench.as_mut().filter(|b| b.mg.is_none()) {
                    b.mg = Some(mid.clone());
                    b.started = Instant::now();
                    b.fill(mgc, now);
                } else if self.probe {
                    match mgc.send_request(now, &mid, audit_root_packages()) {
                        Ok(id) => info!(mid = %format_mid(&mid), id, "probe sent: AuditValue ROOT"),
                        Err(e) => warn!(%e, "probe not sent"),
                    }
                }
            }
            mgc::Event::Refused { from, mid, code } => warn!(
                %from,
                mid = %mid.as_ref().map(format_mid).unwrap_or_else(|| "?".into()),
                code,
                "registration refused"
            ),
            mgc::Event::MgLost { mid, cause } => {
                warn!(mid = %format_mid(&mid), ?cause, "MG lost")
            }
            mgc::Event::MgRedirected { mid, to } => {
                info!(mid = %format_mid(&mid), to = %format_mid(&to), "MG redirected")
            }
            mgc::Event::MgServiceChange {
                mid,
                method,
                reason,
                delay,
            } => info!(mid = %format_mid(&mid), ?method, ?reason, ?delay, "MG service change"),
            mgc::Event::Request { mg, id, actions } => {
                info!(mid = %format_mid(&mg), id, "request from MG");
                if let Err(e) = mgc.send_reply(now, &mg, id, answer(&actions)) {
                    warn!(%e, "cannot reply");
                }
            }
            mgc::Event::Reply { mg, id, result } if self.is_bench(&mg, id) => {
                let ok = matches!(&result, TransactionResult::Actions(a) if a.iter().all(|a| a.error.is_none()));
                self.bench_done(mgc, now, id, ok);
            }
            mgc::Event::Timeout { mg, id } if self.is_bench(&mg, id) => {
                self.bench_done(mgc, now, id, false);
            }
            mgc::Event::Reply { mg, id, result } => match result {
                TransactionResult::Error(e) => {
                    warn!(mid = %format_mid(&mg), id, code = e.code, "probe reply: error")
                }
                TransactionResult::Actions(a) => {
                    info!(mid = %format_mid(&mg), id, reply = ?a, "probe reply: ok")
                }
            },
            mgc::Event::Timeout { mg, id } => {
                warn!(mid = %format_mid(&mg), id, "request timed out")
            }
            other => info!(event = ?other, "event"),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _logs = init_logs();
    let s = match setup(&cli) {
        Ok(s) => s,
        Err(e) => {
            error!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error!(%e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        iq_alloc::spawn_release(RELEASE_MEMORY_EVERY);
        let kind = s.transport.kind;
        let mut driver = match MgcDriver::bind(s.mgc, &s.transport, s.listen).await {
            Ok(d) => d,
            Err(e) => {
                error!(%e, listen = %s.listen, "cannot listen");
                return ExitCode::FAILURE;
            }
        };
        info!(
            listen = %driver.local_addr(),
            transport = %kind,
            "listening on {}",
            driver.local_addr()
        );
        let (ng_tx, mut ng_rx) = mpsc::unbounded_channel();
        let ng = match s.ng {
            None => {
                info!("ng control disabled");
                None
            }
            Some((addr, explicit)) => match UdpSocket::bind(addr).await {
                Ok(sock) => {
                    let sock = Arc::new(sock);
                    let at = sock.local_addr().unwrap_or(addr);
                    info!(ng = %at, "ng control on {at}");
                    info!(allow = %s.ng_limits.allow, max_message = s.ng_limits.max_message, "ng clients allowed");
                    ng_recv_buffer(&sock, s.ng_limits.recv_buffer);
                    tokio::spawn(ng_reader(sock.clone(), ng_tx, s.ng_limits.clone()));
                    Some(sock)
                }
                Err(e) if explicit => {
                    error!(%e, ng = %addr, "cannot bind the ng control socket");
                    return ExitCode::FAILURE;
                }
                Err(e) => {
                    warn!(%e, ng = %addr, "ng control disabled: the default address is not available");
                    None
                }
            },
        };
        let finished = Rc::new(Cell::new(None));
        let mut app = App {
            daemon: Daemon::new(s.daemon),
            ng,
            probe: s.probe,
            bench: s.bench.map(|total| Bench {
                total,
                window: s.bench_window.max(1),
                mg: None,
                started: Instant::now(),
                sent: 0,
                ok: 0,
                failed: 0,
                outstanding: HashSet::new(),
                finished: finished.clone(),
            }),
        };
        let bench_end = {
            let finished = finished.clone();
            async move {
                while finished.get().is_none() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        };
        driver
            .run_app(
                async {
                    tokio::select! {
                        _ = shutdown_signal() => {}
                        _ = bench_end => {}
                    }
                },
                &mut ng_rx,
                &mut app,
            )
            .await;
        let registered: Vec<String> = driver
            .mgc
            .registered()
            .map(|(m, _)| format_mid(m))
            .collect();
        info!(?registered, "shutting down");
        driver.close();
        match finished.get() {
            Some(false) => ExitCode::FAILURE,
            _ => ExitCode::SUCCESS,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two-node lab file in `deploy/` is a valid configuration.
    #[test]
    fn deploy_config_parses() {
        let cfg: Config = toml::from_str(include_str!("../../deploy/alg.toml")).unwrap();
        assert_eq!(cfg.agw.len(), 1);
    }

    #[test]
    fn config_parses() {
        let cfg: Config = toml::from_str(
            r#"
            [iq]
            transport = "udp"
            listen = "127.0.0.1:0"
            encoding = "binary"
            mid = "<alg1.example.net>"
            [[agw]]
            mid = "<agw1.example.net>"
            address = "127.0.0.1"
            [script]
            probe = true
            "#,
        )
        .unwrap();
        assert_eq!(
            transport_kind(&cfg.iq.transport).unwrap(),
            TransportKind::Udp
        );
        assert!(encoding(&cfg.iq.encoding).is_ok());
        assert_eq!(cfg.agw.len(), 1);
        assert!(cfg.script.probe);
        let _: iq_codec::model::MId = parse_mid(&cfg.agw[0].mid).unwrap();
    }

    #[test]
    fn ng_procedures_and_agw_sections() {
        let cfg: Config = toml::from_str(
            r#"
            [iq]
            mid = "<alg1.example.net>"
            [ng]
            listen = "127.0.0.1:5000"
            [procedures]
            actpass = "agw-server"
            access_realm = "wss"
            core_names = ["ims"]
            heartbeat_secs = 0
            answer_timeout_secs = 0
            [[agw]]
            mid = "<agw1.example.net>"
            address = "127.0.0.1"
            weight = 3
            realm = "wss"
            "#,
        )
        .unwrap();
        // Defaults: SCTP on 2944.
        assert_eq!(
            transport_kind(&cfg.iq.transport).unwrap(),
            TransportKind::Sctp
        );
        assert_eq!(cfg.iq.listen.port(), 2944);
        assert_eq!(cfg.agw[0].weight, 3);
        let (sc, realms) = procedures_config(&cfg.procedures).unwrap();
        assert_eq!(sc.actpass_policy, ActpassPolicy::AgwServer);
        assert_eq!(sc.access_realm, "wss");
        assert_eq!(sc.heartbeat_secs, None);
        assert_eq!(sc.answer_timeout, None);
        // The termination realm always names its side; configured names replace the defaults.
        assert_eq!(
            realms.side_of("wss"),
            Some(iq_alg::procedures::Side::Access)
        );
        assert_eq!(
            realms.side_of("external"),
            Some(iq_alg::procedures::Side::Access)
        );
        assert_eq!(realms.side_of("ims"), Some(iq_alg::procedures::Side::Core));
        assert_eq!(realms.side_of("internal"), None);
        let bad = ProceduresSection {
            actpass: "maybe".into(),
            ..ProceduresSection::default()
        };
        assert!(procedures_config(&bad).is_err());
        // The defaults of an absent [ng] and [procedures].
        let cfg: Config = toml::from_str("[iq]\nmid = \"<a>\"\n").unwrap();
        assert_eq!(cfg.ng.listen, DEFAULT_NG_LISTEN);
        assert_eq!(cfg.procedures.actpass, "agw-client");
        assert!(toml::from_str::<Config>("[iq]\nmid = \"<a>\"\n[ng]\nlisten = 1\n").is_err());
    }
}
