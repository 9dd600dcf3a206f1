//! `iq-alg`: the IMS-ALG side (H.248 MGC) of the Iq interface.
//!
//! Listens for IMS-AGWs, accepts registrations only from the configured ones (address and
//! mId; anyone else gets error 504), keeps the association alive and logs what happens.
//! Optionally probes each AGW that registers with an AuditValue on ROOT.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use iq_codec::model::{
    ActionReply, ActionRequest, AuditDescriptor, AuditItem, AuditRequest, Command, CommandReply,
    CommandRequest, ContextId, ErrorDescriptor, NotifyReply, TerminationId, TransactionResult,
};
use iq_codec::text::Style;
use iq_link::association::{mgc, Keepalive, MgEntry, Mgc, MgcConfig};
use iq_link::driver::{format_mid, parse_mid, MgcDriver};
use iq_link::driver::{init_logs, shutdown_signal};
use iq_link::transaction::Encoding;
use iq_link::transport::{self, EncodingMode, TransportConfig, TransportKind};
use serde::Deserialize;
use tracing::{error, info, warn};

/// IMS-ALG (H.248 MGC) for the 3GPP Iq interface.
///
/// Listens on the configured address and transport, accepts ServiceChange registrations only
/// from the AGWs listed in the configuration (their source address and mId must both match;
/// others are refused with error 504), watches them with keepalives and logs registrations,
/// refusals and losses. Stops cleanly on SIGINT/SIGTERM.
///
/// Configuration (TOML):
///
///   [iq]
///   transport = "tcp"            # "sctp", "tcp" or "udp"
///   listen = "127.0.0.1:2944"    # port 0 picks a free one (logged)
///   encoding = "text"            # "text" or "binary"
///   mid = "<alg1.example.net>"
///   keepalive_secs = 30          # AuditValue ROOT after this idle time; 0 = off
///
///   [[agw]]                      # one per AGW allowed to register
///   mid = "<agw1.example.net>"
///   address = "127.0.0.1"        # its source address (any source port)
///
///   [script]
///   probe = false                # after a registration, send AuditValue ROOT (Packages)
///
/// Logs go to stdout; RUST_LOG sets the filter (default "info").
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    iq: IqSection,
    #[serde(default)]
    agw: Vec<AgwSection>,
    #[serde(default)]
    script: ScriptSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IqSection {
    #[serde(default = "default_transport")]
    transport: String,
    listen: SocketAddr,
    #[serde(default = "default_encoding")]
    encoding: String,
    mid: String,
    #[serde(default = "default_keepalive")]
    keepalive_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgwSection {
    mid: String,
    address: IpAddr,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptSection {
    #[serde(default)]
    probe: bool,
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
    for a in &cfg.agw {
        let m = parse_mid(&a.mid).map_err(|e| format!("[[agw]] mid: {e}"))?;
        mgs.push(MgEntry::any_port(m, a.address));
    }
    if mgs.is_empty() {
        warn!("no [[agw]] configured: every registration will be refused");
    }
    let mut mc = MgcConfig::new(mid, mgs);
    mc.transaction.encoding = enc;
    mc.transaction.reliable = kind != TransportKind::Udp;
    mc.keepalive = match cfg.iq.keepalive_secs {
        0 => Keepalive::Off,
        s => Keepalive::AuditRoot {
            interval: Duration::from_secs(s),
        },
    };
    let mgc = Mgc::new(mc).map_err(|e| e.to_string())?;
    let mut transport = TransportConfig::new(kind);
    transport.encoding = EncodingMode::Fixed(tenc);
    Ok(Setup {
        mgc,
        transport,
        listen: cli.listen.unwrap_or(cfg.iq.listen),
        probe: cli.probe || cfg.script.probe,
    })
}

fn audit_root_packages() -> Vec<ActionRequest> {
    vec![ActionRequest {
        context: ContextId::Null,
        context_request: None,
        context_audit: None,
        commands: vec![CommandRequest {
            command: Command::AuditValue(AuditRequest {
                termination_ids: vec![TerminationId::root()],
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

/// Answer an AGW's request: Notify is acknowledged, anything else gets 501.
fn answer(actions: &[ActionRequest]) -> TransactionResult {
    let mut replies = Vec::new();
    for a in actions {
        let mut commands = Vec::new();
        let mut error = None;
        for c in &a.commands {
            match &c.command {
                Command::Notify(n) => commands.push(CommandReply::Notify(NotifyReply {
                    termination_ids: n.termination_ids.clone(),
                    error: None,
                })),
                other => {
                    error = Some(ErrorDescriptor {
                        code: 501,
                        text: Some(format!("{} not implemented by the ALG", other.name())),
                    });
                    break;
                }
            }
        }
        replies.push(ActionReply {
            context: a.context,
            error,
            context_reply: None,
            commands,
        });
    }
    TransactionResult::Actions(replies)
}

fn on_event(probe: bool, mgc: &mut Mgc, now: Instant, ev: mgc::Event) {
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
            if probe {
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
        mgc::Event::Reply { mg, id, result } => match result {
            TransactionResult::Error(e) => {
                warn!(mid = %format_mid(&mg), id, code = e.code, "probe reply: error")
            }
            TransactionResult::Actions(a) => {
                info!(mid = %format_mid(&mg), id, reply = ?a, "probe reply: ok")
            }
        },
        mgc::Event::Timeout { mg, id } => warn!(mid = %format_mid(&mg), id, "request timed out"),
        other => info!(event = ?other, "event"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs();
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
        let probe = s.probe;
        driver
            .run_until(shutdown_signal(), &mut |m, now, ev| {
                on_event(probe, m, now, ev)
            })
            .await;
        let registered: Vec<String> = driver
            .mgc
            .registered()
            .map(|(m, _)| format_mid(m))
            .collect();
        info!(?registered, "shutting down");
        driver.close();
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
