//! `iq-interop`: the lab tool: codec, end-to-end lab runs, conformance against third-party
//! gateways and controllers, trace replay and printing, the lab's media peers, control-plane load.

use clap::{Parser, Subcommand, ValueEnum};
use iq_codec::binary::{BinaryCodec, TermIdMapping};
use iq_codec::packages::Registry;
use iq_codec::text::{self, Style};
use std::io::{Read, Write};
use std::process::ExitCode;

mod agent;
mod conformance;
mod lab;
mod load;
mod replay;
mod stop;
mod trace;
mod trace_cmd;

#[derive(Parser)]
#[command(
    name = "iq-interop",
    version,
    about = "Iq (H.248) lab tool: codec, lab runs, conformance, trace replay"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Decode one H.248 message and write it re-encoded.
    ///
    /// Reads FILE (or standard input), decodes it as the `--from` encoding and writes it in the
    /// `--to` form on standard output. On bad input prints `line:column: error CODE: reason`
    /// (text) or `PATH: error CODE: reason` (BER) on standard error and exits with status 2;
    /// CODE is the H.248 error code a receiver would answer with (400 syntax error, 403 syntax
    /// error in transaction, 406 version not supported, 501 not implemented). A message BER
    /// cannot express (`--to ber`) is reported the same way with code 500.
    ///
    /// BER (H.248.1 Annex A) is read and written as raw octets, or as hex text with `--hex`
    /// (input: hex digits, white space ignored; output: lower-case hex and a newline).
    Codec {
        /// Input encoding.
        #[arg(long, value_enum, default_value_t = From::Text)]
        from: From,
        /// Output form: pretty text (long tokens), compact text (short tokens) or JSON (a stable
        /// rendering of the decoded model, for diffs and scripts).
        #[arg(long, value_enum, default_value_t = To::Pretty)]
        to: To,
        /// BER as hex text instead of raw octets (input with `--from ber`, output with
        /// `--to ber`).
        #[arg(long)]
        hex: bool,
        /// Package table profile (TOML) applied on the built-in table for BER names.
        #[arg(long, value_name = "TOML")]
        packages: Option<std::path::PathBuf>,
        /// Termination ID mapping (TOML) for BER; default: binary digits [8,8,8] and the AGW
        /// rules ip/acc/t<N> and ip/core/t<N>.
        #[arg(long, value_name = "TOML")]
        term_ids: Option<std::path::PathBuf>,
        /// Message file; standard input when absent.
        file: Option<std::path::PathBuf>,
    },
    /// Play a lab media peer driven by JSON lines on standard input (the agent protocol of
    /// interop/peers/webrtc/ue.py): `ue` is our WebRTC UE (full ICE agent, DTLS-SRTP in the
    /// RFC 5763 role, fingerprint verified), `core` a plain RTP/AVP peer. Commands:
    /// {"cmd":"offer"}, {"cmd":"answer","sdp":..}, {"cmd":"accept","sdp":..},
    /// {"cmd":"run","seconds":N} (send 20 ms audio + RTCP SR, then report), {"cmd":"close"}.
    /// Replies are JSON lines on standard output; logs (RUST_LOG) go to standard error.
    Agent {
        /// Which peer to play.
        #[arg(value_enum)]
        role: agent::Role,
        /// Address of the media socket (an ephemeral port on it).
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
    },
    /// Run both TS 23.334 6.2.10.5 figures end to end: starts iq-alg and iq-agw, plays the SIP
    /// proxy (ng), the UE and the core peer, checks ICE, DTLS, SRTP<->RTP, RTCP and release,
    /// prints a ladder of what crossed each interface and a verdict per figure. Exit status 0
    /// when everything passed, 1 when a check failed, 2 when the lab could not run.
    Lab(lab::LabArgs),
    /// Run the Iq procedure scenarios against a media gateway (we are the ALG), or with
    /// `--mgc` against a controller (we are the MG); summary table and JUnit XML.
    Conformance(conformance::ConformanceArgs),
    /// Replay a recorded H.248 trace (pcap, pcapng or text trace) against a gateway under test,
    /// comparing each live reply with the recorded one; `--list` prints the decoded trace.
    Replay(replay::ReplayArgs),
    /// Control-plane load: starts iq-alg and iq-agw (or attaches to an ALG with --alg) and
    /// sets up and releases many figure 6.2.10.5.1 sessions through the ALG's ng front (offer,
    /// answer, delete = Add, Add, Modify, Subtract on the AGW) at a target rate; reports
    /// sessions/s, Iq transactions/s, setup latency percentiles and AGW memory per idle session
    /// (`--json`); `--soak` is the memory soak (100,000 sessions, RSS before and after).
    Load(load::LoadArgs),
    /// Print a trace (pcap, pcapng or text trace) as a ladder: time, direction between the two
    /// mIds, transaction, commands with their contexts and terminations, error codes;
    /// `--context`/`--termination` keep only the transactions that name them.
    Trace(trace_cmd::TraceArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum From {
    /// H.248.1 Annex B text (long or short tokens).
    Text,
    /// H.248.1 Annex A binary (ASN.1 BER), definite or indefinite lengths.
    Ber,
}

#[derive(Clone, Copy, ValueEnum)]
enum To {
    /// Text with long tokens, indented.
    Pretty,
    /// Text with short tokens, no optional white space.
    Compact,
    /// JSON rendering of the model.
    Json,
    /// H.248.1 Annex A binary (ASN.1 BER, definite lengths).
    Ber,
}

/// mimalloc, as the daemons use (`iq_alloc`): `iq-interop load` shares the machine's cores with
/// the iq-alg and iq-agw it measures, and glibc malloc was about 30% of its instructions
/// (callgrind, 2,000 sessions): every cycle the load generator spends is taken from the
/// daemons under test.
#[global_allocator]
static GLOBAL: iq_alloc::Allocator = iq_alloc::Allocator;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Codec {
            from,
            to,
            hex,
            packages,
            term_ids,
            file,
        } => codec(from, to, hex, packages, term_ids, file),
        Cmd::Agent { role, bind } => agent::main(role, bind),
        Cmd::Lab(args) => lab::run(args),
        Cmd::Conformance(args) => conformance::run(args),
        Cmd::Replay(args) => replay::run(args),
        Cmd::Load(args) => load::run(args),
        Cmd::Trace(args) => trace_cmd::run(args),
    }
}

/// The BER codec from the optional profile files.
fn binary_codec(
    packages: Option<&std::path::Path>,
    term_ids: Option<&std::path::Path>,
) -> Result<BinaryCodec, String> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let mut codec = BinaryCodec::default();
    if let Some(p) = packages {
        let reg = Registry::with_profile(&read(p)?).map_err(|e| format!("{}: {e}", p.display()))?;
        codec = codec.with_registry(reg);
    }
    if let Some(p) = term_ids {
        let m = TermIdMapping::from_toml(&read(p)?).map_err(|e| format!("{}: {e}", p.display()))?;
        codec = codec.with_term_ids(m);
    }
    Ok(codec)
}

/// Hex text (white space ignored) → octets.
fn from_hex(input: &[u8]) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if digits.len() % 2 != 0 {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("'{}' is not hex", String::from_utf8_lossy(p)))
        })
        .collect()
}

fn codec(
    from: From,
    to: To,
    hex: bool,
    packages: Option<std::path::PathBuf>,
    term_ids: Option<std::path::PathBuf>,
    file: Option<std::path::PathBuf>,
) -> ExitCode {
    let input = match &file {
        Some(p) => std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())),
        None => {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .map(|_| v)
                .map_err(|e| format!("stdin: {e}"))
        }
    };
    let input = match input {
        Ok(i) => i,
        Err(e) => {
            eprintln!("iq-interop codec: cannot read {e}");
            return ExitCode::from(2);
        }
    };
    let name = file
        .as_ref()
        .map_or("<stdin>".to_string(), |p| p.display().to_string());
    let needs_ber = matches!(from, From::Ber) || matches!(to, To::Ber);
    let ber = if needs_ber {
        match binary_codec(packages.as_deref(), term_ids.as_deref()) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("iq-interop codec: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    let msg = match from {
        From::Text => text::decode(&input).map_err(|e| format!("{name}:{e}")),
        From::Ber => {
            let octets = if hex {
                match from_hex(&input) {
                    Ok(o) => o,
                    Err(e) => {
                        eprintln!("{name}: error 400: bad hex input: {e}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                input
            };
            let codec = ber.as_ref().expect("codec built for BER");
            codec.decode(&octets).map_err(|e| format!("{name}: {e}"))
        }
    };
    let msg = match msg {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let To::Ber = to {
        let codec = ber.as_ref().expect("codec built for BER");
        let octets = match codec.encode(&msg) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{name}: {e}");
                return ExitCode::from(2);
            }
        };
        let mut stdout = std::io::stdout().lock();
        let r = if hex {
            let h: String = octets.iter().map(|b| format!("{b:02x}")).collect();
            writeln!(stdout, "{h}")
        } else {
            stdout.write_all(&octets)
        };
        return match r.and_then(|_| stdout.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("iq-interop codec: cannot write: {e}");
                ExitCode::from(2)
            }
        };
    }
    let out = match to {
        To::Pretty => text::encode(&msg, Style::Pretty),
        To::Compact => text::encode(&msg, Style::Compact),
        To::Json => match serde_json::to_string_pretty(&msg) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("iq-interop codec: JSON rendering failed: {e}");
                return ExitCode::from(2);
            }
        },
        To::Ber => unreachable!("written above"),
    };
    print!("{out}");
    ExitCode::SUCCESS
}
