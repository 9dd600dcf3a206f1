//! `iq-agw`: the eIMS-AGW side (H.248 MG) of the Iq interface.
//!
//! Registers with the configured IMS-ALG (ServiceChange Restart), re-registers with backoff
//! after a loss, executes the ALG's requests on `iq_agw::control` over the real media plane
//! (`iq_agw::media::engine`), and sends the Notify requests the media events call for.

/// mimalloc instead of glibc malloc (see `iq_alloc`): both daemons allocate and free many
/// small model objects per request (malloc/free were 20-25% of their profiles). Measured with
/// `iq-interop load --sessions 20000 --rate 0 --concurrency 300`, alternating builds: CPU per
/// session ALG 290-333 -> 209-230 us, AGW 291-316 -> 193-224 us (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: iq_alloc::Allocator = iq_alloc::Allocator;

/// How often freed memory is handed back to the system (`iq_alloc::spawn_release`), so that
/// an idle daemon's RSS falls back after a burst.
const RELEASE_MEMORY_EVERY: Duration = Duration::from_secs(2);

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use iq_agw::control::{Control, ControlConfig};
use iq_agw::media::api::MediaEvent;
use iq_agw::media::cert::Certificate;
use iq_agw::media::engine::{Engine, EngineConfig, RealmConfig};
use iq_codec::model::{ServiceChangeMethod, ServiceChangeProfile};
use iq_codec::text::Style;
use iq_link::association::{mg, reason, Backoff, Mg, MgConfig};
use iq_link::driver::{format_mid, parse_mid, MgDriver};
use iq_link::driver::{init_logs, shutdown_signal};
use iq_link::transaction::Encoding;
use iq_link::transport::{self, EncodingMode, TransportConfig, TransportKind};
use serde::Deserialize;
use tracing::{error, info, warn};

/// eIMS-AGW (H.248 MG) for the 3GPP Iq interface: contexts, terminations and their media
/// (ICE-lite + DTLS-SRTP towards the WebRTC client, plain RTP towards the IMS core).
///
/// Connects to the configured controller (IMS-ALG), registers with ServiceChange Restart,
/// re-registers with backoff after a loss (Disconnected when it kept its contexts), and
/// executes the ALG's Add/Modify/Move/Subtract/AuditValue/AuditCapabilities: Add $ allocates
/// context IDs and names terminations ip/acc/tN or ip/core/tN by ipdc/realm; each stream with
/// an m-line gets a media leg in its realm (UDP/TLS/RTP/SAVP(F) = DTLS-SRTP, RTP/AVP(F) =
/// plain RTP), and every $ in Local SDP is filled (address, port, a=fingerprint, ICE
/// credentials). Signals { xdtls/estab } makes the AGW the DTLS client, otherwise it is the
/// server. A failed DTLS handshake is notified (xdtls/estfail) when the Events descriptor asked
/// for it. Messages from anyone but the controller are dropped. On SIGINT/SIGTERM it sends
/// ServiceChange Forced (905), closes every media leg and exits.
///
/// Configuration (TOML):
///
///   [iq]
///   transport = "tcp"                      # "sctp", "tcp" or "udp"
///   controller = "127.0.0.1:2944"          # the ALG
///   controller_mid = "<alg1.example.net>"  # optional, default [controller address]
///   encoding = "text"                      # "text" or "binary"
///   mid = "<agw1.example.net>"
///   profile = "threegiq/1"                 # optional ("" for none)
///   local = "127.0.0.1:0"                  # optional source address
///   max_message = 65531                    # largest H.248 message accepted (octets; TCP:
///                                          # a larger TPKT length closes the connection,
///                                          # UDP/SCTP: dropped and logged)
///   The AGW opens the association itself and takes control only from that peer: its UDP
///   socket is connected to the controller (the kernel drops other sources), TCP and SCTP
///   are its own outgoing connection; it listens on no Iq port.
///
///   [reconnect]                            # optional
///   initial_ms = 1000
///   max_ms = 64000
///
///   [timers]                               # optional
///   request_timeout_ms = 30000             # T-MAX: an unanswered request of ours (UDP: after
///                                          # its retransmissions) means the ALG is lost
///   long_timer_ms = 30000                  # LONG-TIMER: how long replies are kept to answer
///                                          # repeated requests (H.248.1 D.1.1)
///
///   [media]                                # optional
///   address = "127.0.0.1"                  # the default realms' address
///   first_port = 10000                     # the default realms' ports: access from here
///                                          # (5000 ports), core the 5000 after
///   termination_names = "text"             # "text": ip/acc/t5, ip/core/t6;
///                                          # "binary": 00000001/00000000/00000101
///                                          # (binary-digit levels, as megaco's BER expects)
///   max_contexts = 10000                   # optional cap: a new context beyond is refused
///                                          # with 510 and, if the ALG set Events
///                                          # ocp/mg_overload on ROOT, notified (H.248.11)
///
///   [[media.realm]]                        # optional, repeatable; replaces the default
///   name = "access"                        # realms access and core; the first one is used
///   address = "127.0.0.1"                  # when a termination names no ipdc/realm.
///   advertise = "203.0.113.10"             # optional: address written into Local SDP
///   ports = "20000-29999"                  # UDP port range (even ports carry RTP+RTCP)
///
///   [dtls]                                 # optional
///   cert = "agw.crt"                       # PEM certificate and its ECDSA P-256 key;
///   key = "agw.key"                        # a fresh self-signed one when absent
///   handshake_timeout_ms = 10000           # DTLS handshake guard time
///
///   [ice]                                  # optional
///   consent_timeout_ms = 30000             # ICE consent expiry (RFC 7675)
///
/// Logs go to stdout; RUST_LOG sets the filter (default "info").
/// At "info" each Iq request answered, termination added and context deleted is logged;
/// RUST_LOG=iq_agw=debug adds legs opened and terminations subtracted. Warnings and errors are
/// written at once, other lines within 50 ms.
#[derive(Debug, Parser)]
#[command(name = "iq-agw", version, verbatim_doc_comment)]
struct Cli {
    /// Configuration file (TOML, see above).
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// Override `[iq] controller`.
    #[arg(long, value_name = "ADDR")]
    controller: Option<SocketAddr>,
    /// Exit (status 3) when the controller refuses the registration with an error.
    #[arg(long)]
    exit_on_refusal: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    iq: IqSection,
    #[serde(default)]
    reconnect: ReconnectSection,
    #[serde(default)]
    media: MediaSection,
    #[serde(default)]
    timers: TimersSection,
    #[serde(default)]
    dtls: DtlsSection,
    #[serde(default)]
    ice: IceSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DtlsSection {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    handshake_timeout_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IceSection {
    consent_timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RealmSection {
    name: String,
    address: IpAddr,
    advertise: Option<IpAddr>,
    ports: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimersSection {
    request_timeout_ms: Option<u64>,
    long_timer_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IqSection {
    #[serde(default = "default_transport")]
    transport: String,
    controller: SocketAddr,
    controller_mid: Option<String>,
    #[serde(default = "default_encoding")]
    encoding: String,
    mid: String,
    profile: Option<String>,
    local: Option<SocketAddr>,
    max_message: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReconnectSection {
    #[serde(default = "default_initial_ms")]
    initial_ms: u64,
    #[serde(default = "default_max_ms")]
    max_ms: u64,
}

impl Default for ReconnectSection {
    fn default() -> Self {
        ReconnectSection {
            initial_ms: default_initial_ms(),
            max_ms: default_max_ms(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MediaSection {
    #[serde(default = "default_media_address")]
    address: IpAddr,
    #[serde(default = "default_first_port")]
    first_port: u16,
    #[serde(default = "default_termination_names")]
    termination_names: String,
    max_contexts: Option<usize>,
    #[serde(default)]
    realm: Vec<RealmSection>,
}

impl Default for MediaSection {
    fn default() -> Self {
        MediaSection {
            address: default_media_address(),
            first_port: default_first_port(),
            termination_names: default_termination_names(),
            max_contexts: None,
            realm: Vec::new(),
        }
    }
}

/// `"20000-29999"` (or one port).
fn port_range(s: &str) -> Result<RangeInclusive<u16>, String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.trim().parse().map_err(|e| format!("ports {s:?}: {e}"))?;
    let b: u16 = b.trim().parse().map_err(|e| format!("ports {s:?}: {e}"))?;
    if a == 0 || b < a.saturating_add(1) {
        return Err(format!(
            "ports {s:?}: need a range low-high with low > 0 and at least two ports"
        ));
    }
    Ok(a..=b)
}

/// The realms: `[[media.realm]]`, else `access` and `core` on `[media] address`.
fn realms(m: &MediaSection) -> Result<Vec<RealmConfig>, String> {
    if m.realm.is_empty() {
        let first = m.first_port.max(1);
        let mid = first.saturating_add(4999);
        if mid == u16::MAX {
            return Err(format!(
                "[media] first_port {first} leaves no room for two realms"
            ));
        }
        return Ok(vec![
            RealmConfig {
                name: "access".into(),
                address: m.address,
                advertise: None,
                ports: first..=mid,
            },
            RealmConfig {
                name: "core".into(),
                address: m.address,
                advertise: None,
                ports: mid + 1..=mid.saturating_add(5000),
            },
        ]);
    }
    let mut out: Vec<RealmConfig> = Vec::new();
    for r in &m.realm {
        let name = r.name.to_ascii_lowercase();
        if name.is_empty() || out.iter().any(|x| x.name == name) {
            return Err(format!("[[media.realm]] name {:?}: empty or twice", r.name));
        }
        out.push(RealmConfig {
            name,
            address: r.address,
            advertise: r.advertise,
            ports: port_range(&r.ports).map_err(|e| format!("[[media.realm]] {}: {e}", r.name))?,
        });
    }
    Ok(out)
}

fn default_transport() -> String {
    "sctp".into()
}
fn default_encoding() -> String {
    "text".into()
}
fn default_initial_ms() -> u64 {
    1000
}
fn default_max_ms() -> u64 {
    64_000
}
fn default_media_address() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}
fn default_first_port() -> u16 {
    10_000
}
fn default_termination_names() -> String {
    "text".into()
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

fn profile(s: &str) -> Result<Option<ServiceChangeProfile>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let (name, version) = s
        .split_once('/')
        .ok_or_else(|| format!("profile {s:?}: expected name/version"))?;
    let version = version
        .parse()
        .map_err(|e| format!("profile {s:?}: bad version: {e}"))?;
    Ok(Some(ServiceChangeProfile {
        name: name.to_ascii_lowercase(),
        version,
    }))
}

struct Setup {
    mg: Mg,
    transport: TransportConfig,
    controller: SocketAddr,
    local: Option<SocketAddr>,
    engine: EngineConfig,
    control: ControlConfig,
}

fn setup(cli: &Cli) -> Result<Setup, String> {
    let text = std::fs::read_to_string(&cli.config)
        .map_err(|e| format!("cannot read {}: {e}", cli.config.display()))?;
    let cfg: Config =
        toml::from_str(&text).map_err(|e| format!("bad config {}: {e}", cli.config.display()))?;
    let kind = transport_kind(&cfg.iq.transport)?;
    let (enc, tenc) = encoding(&cfg.iq.encoding)?;
    if !matches!(cfg.media.termination_names.as_str(), "text" | "binary") {
        return Err(format!(
            "[media] termination_names: \"{}\" is neither \"text\" nor \"binary\"",
            cfg.media.termination_names
        ));
    }
    let controller = cli.controller.unwrap_or(cfg.iq.controller);
    let mid = parse_mid(&cfg.iq.mid).map_err(|e| format!("[iq] mid: {e}"))?;
    let mgc_mid = match &cfg.iq.controller_mid {
        Some(m) => parse_mid(m).map_err(|e| format!("[iq] controller_mid: {e}"))?,
        None => parse_mid(&format!("[{}]:{}", controller.ip(), controller.port()))?,
    };
    let mut mc = MgConfig::new(mid, mgc_mid);
    mc.transaction.encoding = enc;
    mc.transaction.reliable = kind != TransportKind::Udp;
    if let Some(ms) = cfg.timers.request_timeout_ms {
        if ms == 0 {
            return Err("[timers] request_timeout_ms must be above zero".into());
        }
        mc.transaction.request_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = cfg.timers.long_timer_ms {
        if ms == 0 {
            return Err("[timers] long_timer_ms must be above zero".into());
        }
        mc.transaction.reply_timer = Duration::from_millis(ms);
    }
    if let Some(p) = &cfg.iq.profile {
        mc.profile = profile(p)?;
    }
    let mut backoff = Backoff::default();
    backoff.initial = Duration::from_millis(cfg.reconnect.initial_ms);
    backoff.max = Duration::from_millis(cfg.reconnect.max_ms);
    mc.reconnect = backoff;
    mc.connect_timeout = Duration::from_secs(10);
    let mg = Mg::new(mc).map_err(|e| e.to_string())?;
    let mut transport = TransportConfig::new(kind);
    transport.encoding = EncodingMode::Fixed(tenc);
    match cfg.iq.max_message {
        Some(0) => return Err("[iq] max_message must be above zero".into()),
        Some(n) => transport.max_message = n.min(transport::DEFAULT_MAX_MESSAGE),
        None => {}
    }
    let realms = realms(&cfg.media)?;
    let certificate = match (&cfg.dtls.cert, &cfg.dtls.key) {
        (Some(c), Some(k)) => Certificate::load(c, k).map_err(|e| format!("[dtls]: {e}"))?,
        (None, None) => Certificate::generate().map_err(|e| format!("DTLS certificate: {e}"))?,
        _ => return Err("[dtls] cert and key go together".into()),
    };
    let ms = |v: Option<u64>, default: u64, what: &str| -> Result<Duration, String> {
        match v {
            Some(0) => Err(format!("{what} must be above zero")),
            v => Ok(Duration::from_millis(v.unwrap_or(default))),
        }
    };
    let mut control = ControlConfig::new(realms.iter().map(|r| r.name.clone()).collect());
    control.binary_names = cfg.media.termination_names == "binary";
    control.max_contexts = cfg.media.max_contexts;
    Ok(Setup {
        mg,
        transport,
        controller,
        local: cfg.iq.local,
        engine: EngineConfig {
            realms,
            certificate: Arc::new(certificate),
            handshake_timeout: ms(
                cfg.dtls.handshake_timeout_ms,
                10_000,
                "[dtls] handshake_timeout_ms",
            )?,
            consent_timeout: ms(
                cfg.ice.consent_timeout_ms,
                30_000,
                "[ice] consent_timeout_ms",
            )?,
        },
        control,
    })
}

struct App {
    control: Control<Engine>,
    exit_on_refusal: bool,
    refused: Option<u16>,
}

impl App {
    fn on_event(&mut self, mg: &mut Mg, now: Instant, ev: mg::Event) {
        match ev {
            mg::Event::Registered {
                mgc,
                version,
                profile,
                method,
            } => info!(
                mgc = %format_mid(&mgc),
                ?method,
                version,
                profile = ?profile.map(|p| format!("{}/{}", p.name, p.version)),
                "registered"
            ),
            mg::Event::RegistrationFailed {
                mgc,
                failure,
                retry_in,
            } => {
                let code = match &failure {
                    mg::Failure::Refused(e) => Some(e.code),
                    _ => None,
                };
                match code {
                    Some(code) => warn!(
                        mgc = %format_mid(&mgc),
                        code,
                        ?retry_in,
                        "registration refused code={code}"
                    ),
                    None => {
                        info!(mgc = %format_mid(&mgc), ?failure, ?retry_in, "registration failed")
                    }
                }
                if self.exit_on_refusal && code.is_some() {
                    self.refused = code;
                }
            }
            mg::Event::Lost {
                mgc,
                failure,
                retry_in,
            } => warn!(mgc = %format_mid(&mgc), ?failure, ?retry_in, "association lost"),
            mg::Event::VersionRefused { version, next } => {
                info!(version, ?next, "version refused")
            }
            mg::Event::Redirected { from, to } => {
                info!(from = %format_mid(&from), to = %format_mid(&to), "redirected")
            }
            mg::Event::HandOff { from, to } => {
                info!(from = %format_mid(&from), to = %format_mid(&to), "handed off")
            }
            mg::Event::OutOfService { method, reason } => {
                info!(?method, ?reason, "out of service");
                if method == ServiceChangeMethod::Forced {
                    self.control.clear();
                }
            }
            mg::Event::GoingOutOfService { delay, reason } => {
                info!(?delay, ?reason, "going out of service")
            }
            mg::Event::InService { reason } => info!(?reason, "in service"),
            mg::Event::Request { id, actions } => {
                let result = self.control.execute(now, &actions);
                info!(
                    id,
                    commands = ?actions
                        .iter()
                        .flat_map(|a| a.commands.iter().map(|c| c.command.name()))
                        .collect::<Vec<_>>(),
                    contexts = self.control.context_count(),
                    legs = self.control.leg_count(),
                    "request answered"
                );
                if let Err(e) = mg.send_reply(now, id, result) {
                    warn!(%e, "cannot reply");
                }
                // H.248.11: a context refused for capacity is notified (ocp/mg_overload) when
                // the ALG asked for it.
                while let Some(actions) = self.control.poll_notify() {
                    match mg.send_request(now, actions) {
                        Ok(id) => info!(id, "Notify sent: ocp/mg_overload"),
                        Err(e) => warn!(%e, "cannot send the overload Notify"),
                    }
                }
            }
            mg::Event::Reply { id, result } => info!(id, ?result, "reply"),
            mg::Event::Timeout { id } => warn!(id, "request timed out"),
            mg::Event::Abandoned { id } => warn!(id, "request abandoned"),
            other => info!(event = ?other, "event"),
        }
    }

    fn on_media(&mut self, mg: &mut Mg, now: Instant, ev: MediaEvent) {
        let Some(actions) = self.control.handle_media_event(now, ev) else {
            return;
        };
        match mg.send_request(now, actions) {
            Ok(id) => info!(id, "Notify sent"),
            Err(e) => warn!(%e, "cannot send the Notify"),
        }
    }
}

/// Resolves once the application has seen a refusal it must exit on.
async fn refusal(flag: std::rc::Rc<std::cell::Cell<bool>>) {
    while !flag.get() {
        tokio::time::sleep(Duration::from_millis(20)).await;
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
        info!(
            controller = %s.controller,
            transport = %s.transport.kind,
            mid = %format_mid(&s.mg.config().transaction.mid),
            "starting"
        );
        let mut engine = match Engine::new(s.engine) {
            Ok(e) => e,
            Err(e) => {
                error!(%e, "cannot start the media plane");
                return ExitCode::from(2);
            }
        };
        let (_no_events, none) = tokio::sync::mpsc::unbounded_channel();
        let mut media_events = engine.take_events().unwrap_or(none);
        let mut driver = MgDriver::new(s.mg, s.transport, s.controller, s.local);
        let app = RefCell::new(App {
            control: Control::new(engine, s.control),
            exit_on_refusal: cli.exit_on_refusal,
            refused: None,
        });
        let refused_flag = std::rc::Rc::new(std::cell::Cell::new(false));
        let flag = refused_flag.clone();
        let mut on_event = |mg: &mut Mg, now: Instant, ev: mg::Event| {
            let mut app = app.borrow_mut();
            app.on_event(mg, now, ev);
            if app.refused.is_some() {
                flag.set(true);
            }
        };
        let mut on_media =
            |mg: &mut Mg, now: Instant, ev: MediaEvent| app.borrow_mut().on_media(mg, now, ev);
        tokio::select! {
            biased;
            _ = shutdown_signal() => {}
            _ = refusal(refused_flag.clone()) => {}
            _ = driver.run_until_with(
                std::future::pending::<()>(),
                &mut media_events,
                &mut on_event,
                &mut on_media,
            ) => {}
        }
        if refused_flag.get() {
            driver.mg.stop();
            app.borrow_mut().control.clear();
            error!("registration refused, exiting");
            return ExitCode::from(3);
        }
        driver
            .shutdown(
                ServiceChangeMethod::Forced,
                reason::TERMINATION_OUT_OF_SERVICE,
                Duration::from_secs(2),
                &mut on_event,
            )
            .await;
        app.borrow_mut().control.clear();
        info!("stopped");
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two-node lab file in `deploy/` is a valid configuration (fields and realms).
    #[test]
    fn deploy_config_parses() {
        let cfg: Config = toml::from_str(include_str!("../../deploy/agw.toml")).unwrap();
        let r = realms(&cfg.media).unwrap();
        assert_eq!(
            r.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["access", "core"]
        );
        assert_eq!(cfg.iq.transport, "sctp");
    }

    #[test]
    fn config_parses() {
        let cfg: Config = toml::from_str(
            r#"
            [iq]
            transport = "tcp"
            controller = "127.0.0.1:2944"
            encoding = "text"
            mid = "<agw1.example.net>"
            profile = "threegiq/1"
            [reconnect]
            initial_ms = 200
            "#,
        )
        .unwrap();
        assert_eq!(cfg.reconnect.initial_ms, 200);
        assert_eq!(cfg.reconnect.max_ms, 64_000);
        assert_eq!(
            profile(cfg.iq.profile.as_deref().unwrap())
                .unwrap()
                .unwrap()
                .name,
            "threegiq"
        );
        // No media config: realms access and core on 127.0.0.1, disjoint port ranges.
        let r = realms(&cfg.media).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].name.as_str(), r[1].name.as_str()), ("access", "core"));
        assert_eq!(r[0].address, IpAddr::from([127, 0, 0, 1]));
        assert!(r[0].ports.end() < r[1].ports.start());
        assert_eq!(*r[0].ports.start(), 10_000);
    }

    #[test]
    fn realms_dtls_and_ice_parse() {
        let cfg: Config = toml::from_str(
            r#"
            [iq]
            controller = "127.0.0.1:2944"
            mid = "<agw1.example.net>"
            [media]
            termination_names = "binary"
            max_contexts = 5
            [[media.realm]]
            name = "Access"
            address = "192.0.2.1"
            advertise = "203.0.113.10"
            ports = "20000-20999"
            [[media.realm]]
            name = "core"
            address = "10.0.0.10"
            ports = "30000-30099"
            [dtls]
            handshake_timeout_ms = 5000
            [ice]
            consent_timeout_ms = 20000
            "#,
        )
        .unwrap();
        let r = realms(&cfg.media).unwrap();
        assert_eq!(r[0].name, "access");
        assert_eq!(r[0].advertise, Some(IpAddr::from([203, 0, 113, 10])));
        assert_eq!(r[0].ports, 20000..=20999);
        assert_eq!(r[1].ports, 30000..=30099);
        assert_eq!(cfg.media.max_contexts, Some(5));
        assert_eq!(cfg.dtls.handshake_timeout_ms, Some(5000));
        assert_eq!(cfg.ice.consent_timeout_ms, Some(20000));
        assert!(port_range("3000").is_err());
        assert!(port_range("4000-3000").is_err());
        assert!(port_range("0-10").is_err());
        assert!(port_range("a-b").is_err());
        assert!(toml::from_str::<Config>(
            "[iq]\ncontroller = \"127.0.0.1:1\"\nmid = \"<a>\"\n[dtls]\nbogus = 1\n"
        )
        .is_err());
    }
}
