//! `iq-interop replay`: read a trace (pcap, pcapng or the text trace format) and either list it
//! (`--list`, JSON lines) or replay the recorded controller's requests against a gateway under
//! test (`--as mgc`), comparing every live reply with the recorded one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use iq_codec::binary::BinaryCodec;

use crate::trace::{self, Filter};

/// Which recorded side we play.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Side {
    /// The controller: the gateway under test registers with us.
    Mgc,
    /// The gateway: we register with the controller under test and answer its requests as
    /// the recorded gateway did.
    Mg,
}

/// `iq-interop replay` arguments.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Print the decoded trace as JSON lines (one per message or error) and exit (status 1 if
    /// the trace has errors).
    #[arg(long)]
    pub list: bool,
    /// Side to play.
    #[arg(long = "as", value_enum, default_value_t = Side::Mgc)]
    pub side: Side,
    /// `--as mgc`: the gateway under test (its address; the port is checked when not 0).
    /// `--as mg`: the controller under test (address and port).
    #[arg(long)]
    pub target: Option<SocketAddr>,
    /// Where to listen for the gateway's connection.
    #[arg(long, default_value = "0.0.0.0:2944")]
    pub listen: SocketAddr,
    /// Transport of the replay.
    #[arg(long, default_value = "tcp")]
    pub transport: String,
    /// Send requests back to back instead of with the recorded pacing.
    #[arg(long)]
    pub fast: bool,
    /// Our mId (default: the recorded controller's).
    #[arg(long)]
    pub mid: Option<String>,
    /// Comparison rules (TOML), on top of the built-in ones.
    #[arg(long, value_name = "TOML")]
    pub rules: Option<PathBuf>,
    /// A reply later than this many milliseconds after its request is a mismatch (`latency`);
    /// overrides `max_reply_ms` of the rules file (default 2000).
    #[arg(long, value_name = "MS")]
    pub max_reply_ms: Option<u64>,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// No progress indicator (on standard error: a `\r` line on a terminal, else a line every
    /// `--progress-every` transactions).
    #[arg(long, short)]
    pub quiet: bool,
    /// Without a terminal, print progress every this many transactions.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub progress_every: usize,
    /// Record the replay itself (every H.248 message sent and received, with the real
    /// addresses and ports) as a pcap file (raw IPv4 with synthesized UDP, TCP+TPKT or SCTP
    /// headers).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Seconds to wait for the gateway's registration and for each reply.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// H.248 ports in captures (UDP, TCP, SCTP; SCTP also by PPID 7).
    #[arg(long, value_delimiter = ',', default_values_t = [2944u16, 2945])]
    pub ports: Vec<u16>,
    /// The trace.
    pub trace: PathBuf,
}

/// Entry point.
pub fn run(a: ReplayArgs) -> ExitCode {
    let filter = Filter {
        ports: a.ports.clone(),
    };
    let trace = match trace::read(&a.trace, &filter, &BinaryCodec::default()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("iq-interop replay: {e}");
            return ExitCode::from(2);
        }
    };
    if a.list {
        return list(&trace);
    }
    for e in &trace.errors {
        eprintln!("trace: {e}");
    }
    match a.side {
        Side::Mgc => mgc::run(&a, &trace),
        Side::Mg => mg::run(&a, &trace),
    }
}

fn list(trace: &trace::Trace) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let mut lines: Vec<(u32, serde_json::Value)> = Vec::new();
    for m in &trace.messages {
        let tx: Vec<_> = trace::transactions(&m.message)
            .into_iter()
            .map(|(k, id)| serde_json::json!({"kind": k, "id": id}))
            .collect();
        let mut v = serde_json::to_value(m).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("transactions".into(), tx.into());
        }
        lines.push((m.frame, v));
    }
    for e in &trace.errors {
        lines.push((
            e.frame,
            serde_json::json!({"frame": e.frame, "error": e.reason}),
        ));
    }
    lines.sort_by_key(|l| l.0);
    for (_, l) in lines {
        if writeln!(out, "{l}").is_err() {
            return ExitCode::from(2);
        }
    }
    if trace.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

mod diff;
mod mg;
mod mgc;
mod progress;
mod record;
