//! `iq-interop conformance`: the Iq procedure scenarios run against any media gateway, with us
//! as the ALG (MGC); or, with `--mgc`, a small set against a controller, with us as the MG.
//!
//! On Iq the MG opens the association, so we listen and accept the MG named by `--mg`; every
//! scenario is a named test case of requests and checks (see [`scenarios`]); the result is a
//! summary table on standard output and, with `--junit FILE`, a JUnit XML report. The exit status
//! is 0 iff no scenario failed (not-applicable ones do not count as failures, nor as passes).

mod check;
pub(crate) mod link;
mod media;
mod mg_side;
mod report;
mod scenarios;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use iq_codec::model::MId;
use iq_link::driver::{format_mid, parse_mid};
use iq_link::transport::TransportKind;

use report::Outcome;

/// Command-line options of `iq-interop conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The MG under test, `[MID@]ADDR` (e.g. `<agw1.example.net>@192.0.2.7`): we listen and
    /// accept its registration from ADDR (IP, or IP:port to pin its source port); without MID
    /// its mId is learnt from its first message.
    #[arg(
        long,
        value_name = "[MID@]ADDR",
        conflicts_with = "mgc",
        required_unless_present = "mgc"
    )]
    pub mg: Option<String>,
    /// The other direction: the controller under test, `[MID@]ADDR:PORT`; we register with it
    /// as an MG and check its ServiceChange reply and that it answers our Notify.
    #[arg(long, value_name = "[MID@]ADDR:PORT")]
    pub mgc: Option<String>,
    /// Where to listen for the MG (default 0.0.0.0:2944, 0.0.0.0:2945 with binary).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Transport of the Iq association.
    #[arg(long, value_enum, default_value_t = Transport::Sctp)]
    pub transport: Transport,
    /// Encoding of the Iq association.
    #[arg(long, value_enum, default_value_t = Enc::Text)]
    pub encoding: Enc,
    /// Run the media scenarios too (UE and core peer on this host; the MG's Local addresses
    /// must be reachable from here).
    #[arg(long)]
    pub media: bool,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run only these scenarios (names as in the summary; `registration` always runs).
    #[arg(long, value_name = "NAME", num_args = 1..)]
    pub only: Vec<String>,
    /// Our own mId.
    #[arg(long, default_value = "<iq-interop.conformance>")]
    pub mid: String,
    /// `ipdc/realm` for access terminations (`""`: none sent).
    #[arg(long, default_value = "access")]
    pub access_realm: String,
    /// `ipdc/realm` for core terminations (`""`: none sent).
    #[arg(long, default_value = "core")]
    pub core_realm: String,
    /// HandOff scenario: the mId of the MGC to hand the MG off to (N/A without).
    #[arg(long, value_name = "MID")]
    pub handoff_to: Option<String>,
    /// Seconds to wait for the MG to register.
    #[arg(long, default_value_t = 30.0)]
    pub register_timeout: f64,
    /// Seconds to wait for each reply.
    #[arg(long, default_value_t = 10.0)]
    pub request_timeout: f64,
    /// Python with pyOpenSSL + pylibsrtp for the media UE (default `$IQ_ORACLE_PYTHON`, else
    /// `target/oracle/venv/bin/python` of the source tree).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Print every step of every scenario.
    #[arg(long)]
    pub verbose: bool,
    /// List the scenarios and exit.
    #[arg(long)]
    pub list: bool,
}

/// `--transport`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Transport {
    /// SCTP (H.248.4), the Iq transport.
    Sctp,
    /// TCP with TPKT (H.248.1 Annex D.2).
    Tcp,
    /// UDP (H.248.1 Annex D.1).
    Udp,
}

/// `--encoding`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Enc {
    /// Annex B text.
    Text,
    /// Annex A BER.
    Binary,
}

fn kind(t: Transport) -> TransportKind {
    match t {
        Transport::Sctp => TransportKind::Sctp,
        Transport::Tcp => TransportKind::Tcp,
        Transport::Udp => TransportKind::Udp,
    }
}

/// `[MID@]ADDR`.
fn split_mid(s: &str) -> Result<(Option<MId>, &str), String> {
    match s.rsplit_once('@') {
        Some((m, a)) => Ok((Some(parse_mid(m)?), a)),
        None => Ok((None, s)),
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() && s > 0.0 { s } else { 1.0 })
}

fn finish(suite: &str, outcomes: &[Outcome], junit: Option<&PathBuf>) -> ExitCode {
    print!("{}", report::summary(outcomes));
    if let Some(p) = junit {
        if let Err(e) = std::fs::write(p, report::junit(suite, outcomes)) {
            eprintln!("iq-interop conformance: cannot write {}: {e}", p.display());
            return ExitCode::from(2);
        }
        println!("JUnit report: {}", p.display());
    }
    let (_, failed, _) = report::counts(outcomes);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Run `iq-interop conformance`.
pub fn run(a: ConformanceArgs) -> ExitCode {
    match run_inner(a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("iq-interop conformance: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(a: ConformanceArgs) -> Result<ExitCode, String> {
    let all = scenarios::all();
    if a.list {
        for s in &all {
            println!(
                "{:<26} {}{}",
                s.name,
                s.about,
                if s.media { " [--media]" } else { "" }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    for o in &a.only {
        if !all.iter().any(|s| s.name == o) {
            return Err(format!("no scenario {o:?} (see --list)"));
        }
    }
    let binary = matches!(a.encoding, Enc::Binary);
    let mid = parse_mid(&a.mid)?;
    if let Some(mgc) = &a.mgc {
        let (mgc_mid, addr) = split_mid(mgc)?;
        let mgc_addr: SocketAddr = addr.parse().map_err(|e| format!("--mgc {addr}: {e}"))?;
        let mgc_mid = mgc_mid.unwrap_or(match mgc_addr.ip() {
            IpAddr::V4(addr) => MId::Ip4 {
                addr,
                port: Some(mgc_addr.port()),
            },
            IpAddr::V6(addr) => MId::Ip6 {
                addr,
                port: Some(mgc_addr.port()),
            },
        });
        let side = mg_side::MgSide {
            mid,
            mgc_mid,
            mgc_addr,
            transport: kind(a.transport),
            binary,
            timeout: secs(a.register_timeout.min(a.request_timeout.max(5.0))),
        };
        let outcomes = side.run();
        return Ok(finish("iq-conformance-mgc", &outcomes, a.junit.as_ref()));
    }
    let mg = a.mg.as_deref().ok_or("--mg or --mgc is needed")?;
    let (mg_mid, addr) = split_mid(mg)?;
    let (mg_addr, mg_port) = match addr.parse::<SocketAddr>() {
        Ok(s) => (s.ip(), Some(s.port()).filter(|p| *p != 0)),
        Err(_) => (
            addr.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .map_err(|e| format!("--mg {addr}: {e}"))?,
            None,
        ),
    };
    let listen = a
        .listen
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], if binary { 2945 } else { 2944 })));
    let mut link = link::Link::start(link::LinkConfig {
        mid,
        mg_mid: mg_mid.clone(),
        mg_addr,
        mg_port,
        transport: kind(a.transport),
        binary,
        listen,
        request_timeout: secs(a.request_timeout),
    })?;
    println!(
        "iq-interop conformance: listening on {} ({}, {}) for the MG {}{}",
        link.addr,
        kind(a.transport),
        if binary { "binary" } else { "text" },
        mg_mid
            .as_ref()
            .map(|m| format!("{} at ", format_mid(m)))
            .unwrap_or_default(),
        addr
    );
    let python = a
        .python
        .clone()
        .or_else(|| std::env::var_os("IQ_ORACLE_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/oracle/venv/bin/python")
        });
    let realm = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    let opts = scenarios::Options {
        media: a.media,
        ue: media::UeSetup {
            python,
            peers: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/webrtc"),
        },
        access_realm: realm(&a.access_realm),
        core_realm: realm(&a.core_realm),
        handoff_to: a.handoff_to.as_deref().map(parse_mid).transpose()?,
        binary,
        register_timeout: secs(a.register_timeout),
    };
    let mut ctx = scenarios::Ctx::new(&mut link, &opts);
    let mut outcomes = Vec::new();
    for s in &all {
        if !a.only.is_empty() && s.name != "registration" && !a.only.iter().any(|o| o == s.name) {
            continue;
        }
        let o = ctx.run(s, a.verbose);
        println!(
            "{:<26} {}",
            o.name,
            match &o.verdict {
                report::Verdict::Pass => "PASS".to_string(),
                report::Verdict::Fail(m) => format!("FAIL {m}"),
                report::Verdict::NotApplicable(m) => format!("N/A  {m}"),
            }
        );
        outcomes.push(o);
    }
    println!();
    Ok(finish("iq-conformance", &outcomes, a.junit.as_ref()))
}
