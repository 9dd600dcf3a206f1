//! `iq-interop agent ue|core`: the lab's own WebRTC UE and core peer, driven by the JSON-lines
//! agent protocol of `interop/peers/webrtc/ue.py` on stdin/stdout (logs on stderr), so the lab
//! and the tests can swap our UE, aiortc and the OpenSSL UE:
//!
//! ```text
//! {"cmd":"offer"}                -> {"sdp": "<our offer>"}
//! {"cmd":"answer","sdp":"..."}   -> {"ok": true}            apply the far end's answer
//! {"cmd":"accept","sdp":"..."}   -> {"sdp": "<our answer>"} answer the far end's offer
//! {"cmd":"run","seconds":N}      -> {"report": {...}}       send audio for N s, then report
//! {"cmd":"close"}                -> {"ok": true}            and exit
//! anything wrong                 -> {"error": "..."}
//! ```
//!
//! ICE and DTLS start as soon as `answer`/`accept` applied the far end's description and run
//! in the background between commands. The report: `sent_rtp`/`recv_rtp`
//! (`[[ssrc, seq, pt, payload_hex], ...]`, plain), `sent_rtcp`/`recv_rtcp` (compound packet
//! counts), `ice_state` (`completed`/`failed`/`checking`; `none` without ICE) and for the UE
//! `dtls_state` (`connected`/`failed`/`connecting`/`new`), `dtls_role` (`client`/`server`),
//! plus `srtp_profile`, `unprotect_failures`, `peer`, `ice_controlling`.
//!
//! Each agent is a sans-IO state machine ([`Endpoint`]) driven by one UDP socket loop on a
//! current-thread tokio runtime.

mod core;
mod ice;
pub(crate) mod rtp;
mod sdp;
mod ue;

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UdpSocket;

/// Which agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// WebRTC UE: ICE (full agent) + DTLS-SRTP, `UDP/TLS/RTP/SAVPF`.
    Ue,
    /// Core peer: plain `RTP/AVP`.
    Core,
}

/// A sans-IO agent endpoint.
pub(crate) trait Endpoint {
    fn offer(&mut self, now: Instant) -> Result<String, String>;
    fn answer(&mut self, now: Instant, sdp: &str) -> Result<(), String>;
    fn accept(&mut self, now: Instant, sdp: &str) -> Result<String, String>;
    fn start_media(&mut self, now: Instant);
    fn stop_media(&mut self);
    fn report(&self) -> Value;
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, buf: &mut [u8]);
    fn handle_timeout(&mut self, now: Instant);
    fn poll_timeout(&self) -> Option<Instant>;
    fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)>;
}

/// Run the agent until `close` or the end of standard input.
pub fn main(role: Role, bind: IpAddr) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("iq-interop agent: runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(serve(role, bind)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iq-interop agent: {e}");
            ExitCode::from(2)
        }
    }
}

async fn emit(out: &mut tokio::io::Stdout, v: Value) -> Result<(), String> {
    let line = format!("{v}\n");
    out.write_all(line.as_bytes())
        .await
        .map_err(|e| format!("stdout: {e}"))?;
    out.flush().await.map_err(|e| format!("stdout: {e}"))
}

/// What one command line asks.
enum Cmd {
    Reply(Value),
    Run(Duration),
    Close,
}

fn command(ep: &mut dyn Endpoint, line: &str) -> Cmd {
    let now = Instant::now();
    let err = |e: String| Cmd::Reply(json!({ "error": e }));
    let msg: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return err(format!("not JSON: {e}")),
    };
    let sdp = msg.get("sdp").and_then(Value::as_str);
    match msg.get("cmd").and_then(Value::as_str) {
        Some("offer") => match ep.offer(now) {
            Ok(s) => Cmd::Reply(json!({ "sdp": s })),
            Err(e) => err(e),
        },
        Some("answer") => match sdp
            .ok_or("no sdp".to_string())
            .and_then(|s| ep.answer(now, s))
        {
            Ok(()) => Cmd::Reply(json!({ "ok": true })),
            Err(e) => err(e),
        },
        Some("accept") => match sdp
            .ok_or("no sdp".to_string())
            .and_then(|s| ep.accept(now, s))
        {
            Ok(s) => Cmd::Reply(json!({ "sdp": s })),
            Err(e) => err(e),
        },
        Some("run") => {
            let secs = msg.get("seconds").and_then(Value::as_f64).unwrap_or(3.0);
            if !(0.0..=3600.0).contains(&secs) {
                return err(format!("seconds {secs} out of range"));
            }
            Cmd::Run(Duration::from_secs_f64(secs))
        }
        Some("close") => Cmd::Close,
        Some(other) => err(format!("unknown command {other:?}")),
        None => err("no cmd".into()),
    }
}

async fn serve(role: Role, bind: IpAddr) -> Result<(), String> {
    let sock = UdpSocket::bind(SocketAddr::new(bind, 0))
        .await
        .map_err(|e| format!("bind {bind}: {e}"))?;
    let local = sock.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%local, ?role, "agent listening");
    let mut ep: Box<dyn Endpoint> = match role {
        Role::Ue => Box::new(ue::UeAgent::new(local)?),
        Role::Core => Box::new(core::CoreAgent::new(local)),
    };
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    let mut buf = vec![0u8; 2048];
    let mut run_until: Option<Instant> = None;
    loop {
        while let Some((to, d)) = ep.poll_transmit() {
            if let Err(e) = sock.send_to(&d, to).await {
                tracing::debug!(%to, error = %e, "send failed");
            }
        }
        let wake = [ep.poll_timeout(), run_until].into_iter().flatten().min();
        let sleep = async {
            match wake {
                Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            line = lines.next_line(), if run_until.is_none() => {
                let line = match line {
                    Ok(Some(l)) => l,
                    Ok(None) => return Ok(()),
                    Err(e) => return Err(format!("stdin: {e}")),
                };
                if line.trim().is_empty() {
                    continue;
                }
                match command(ep.as_mut(), &line) {
                    Cmd::Reply(v) => emit(&mut out, v).await?,
                    Cmd::Run(d) => {
                        let now = Instant::now();
                        ep.start_media(now);
                        run_until = Some(now + d);
                    }
                    Cmd::Close => {
                        emit(&mut out, json!({"ok": true})).await?;
                        return Ok(());
                    }
                }
            }
            r = sock.recv_from(&mut buf) => {
                match r {
                    Ok((n, from)) => ep.handle_datagram(Instant::now(), from, &mut buf[..n]),
                    // ICMP port unreachable and the like: keep going
                    Err(e) => tracing::debug!(error = %e, "recv failed"),
                }
            }
            () = sleep => {
                let now = Instant::now();
                ep.handle_timeout(now);
                if run_until.is_some_and(|t| t <= now) {
                    run_until = None;
                    ep.stop_media();
                    emit(&mut out, json!({ "report": ep.report() })).await?;
                }
            }
        }
    }
}
