//! `iq-bench`: the media-plane and DTLS figures of BENCHMARKS.md, each measured against its
//! peer in the same invocation.
//!
//! - `iq-bench relay`: SRTP->RTP and RTP->SRTP relay throughput of a real `iq-agw` (driven
//!   through a real `iq-alg`'s ng front) against Debian's `rtpengine` in userspace, and the
//!   libsrtp protect/unprotect floor.
//! - `iq-bench dtls`: DTLS-SRTP handshakes per second per core on the AGW side against
//!   OpenSSL doing the same handshake.

mod daemon;
mod dtls;
mod floor;
mod ng;
mod relay;
mod sdp;
mod stat;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "iq-bench",
    about = "iq media-plane and DTLS benchmarks against their peers"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Media relay throughput: iq-agw vs rtpengine (userspace) vs the libsrtp floor.
    Relay {
        /// Packets per direction and relay.
        #[arg(long, default_value_t = 200_000)]
        packets: usize,
        /// Calls (streams per direction) the packets are spread over.
        #[arg(long, default_value_t = 400)]
        calls: usize,
        /// Offered packets per second in total (0: as fast as one thread sends). The default
        /// is 50 packets per second per call, i.e. real 20 ms audio, for the 400 calls.
        #[arg(long, default_value_t = 20_000)]
        rate: u64,
        /// Where iq-agw and iq-alg are (default: build them with `cargo build --release`
        /// and take them from the target directory next to iq-bench).
        #[arg(long)]
        bin_dir: Option<PathBuf>,
        /// rtpengine's executable.
        #[arg(long, default_value = "/usr/bin/rtpengine")]
        rtpengine: PathBuf,
        /// Measure each relay this many times, alternating, on the same calls; the run with
        /// the median CPU per packet is shown.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Record each relay with `perf record -g` into DIR/<relay>.perf.data while measuring.
        #[arg(long)]
        perf: Option<PathBuf>,
    },
    /// DTLS handshakes per second per core, gateway side: iq-agw's DTLS vs OpenSSL.
    Dtls {
        /// Handshakes per role and implementation.
        #[arg(long, default_value_t = 500)]
        handshakes: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    println!("{}", provenance());
    let r = match cli.cmd {
        Cmd::Relay {
            packets,
            calls,
            rate,
            bin_dir,
            rtpengine,
            repeat,
            perf,
        } => relay_cmd(
            packets,
            calls.max(1),
            rate,
            bin_dir,
            &rtpengine,
            repeat.max(1),
            perf,
        ),
        Cmd::Dtls { handshakes } => dtls_cmd(handshakes),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iq-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// The commit measured and whether the tree had local changes.
fn provenance() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(floor::workspace())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let head = git(&["rev-parse", "--short=12", "HEAD"]);
    if head.is_empty() {
        return "iq-bench outside a git checkout (commit unknown)".into();
    }
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]);
    format!(
        "iq-bench at commit {head}{}",
        if dirty.is_empty() {
            ""
        } else {
            " (working tree has uncommitted changes)"
        }
    )
}

fn goal(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

/// The run with the median CPU per packet.
fn median(mut runs: Vec<relay::Run>) -> relay::Run {
    runs.sort_by(|a, b| a.cpu_ns_per_packet().total_cmp(&b.cpu_ns_per_packet()));
    runs[runs.len() / 2]
}

fn kpps(x: f64) -> String {
    format!("{:.0}k", x / 1000.0)
}

fn relay_cmd(
    packets: usize,
    calls: usize,
    rate: u64,
    bin_dir: Option<PathBuf>,
    rtpengine: &std::path::Path,
    repeat: usize,
    perf: Option<PathBuf>,
) -> Result<(), String> {
    floor::ensure_packages(&["rtpengine-daemon", "libsrtp2-dev"])?;
    let bin_dir = match bin_dir {
        Some(d) => d,
        None => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = Command::new(cargo)
                .args(["build", "--release", "-p", "iq-agw", "-p", "iq-alg"])
                .current_dir(floor::workspace())
                .status()
                .map_err(|e| format!("cargo: {e}"))?;
            if !st.success() {
                return Err("cargo build --release -p iq-agw -p iq-alg failed".into());
            }
            std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(PathBuf::from))
                .ok_or("no directory of iq-bench")?
        }
    };
    let opt = relay::Options { packets, rate };

    let srtp = floor::compile("srtp_floor", &["-lsrtp2"])?;
    let fl = floor::run_json(&srtp, &["300000"])?;
    let (prot, unprot) = (
        floor::num(&fl, "protect_ns")?,
        floor::num(&fl, "unprotect_ns")?,
    );

    println!(
        "relay: {packets} packets per direction over {calls} calls, offered {}",
        match rate {
            0 => "as fast as one sending thread goes".to_owned(),
            r => format!("at {r} pkt/s"),
        }
    );
    // both relays up at once (an idle one costs nothing), measured in turn `repeat` times
    let (mut agw_call, agw_daemons) = relay::agw_call(&bin_dir, calls)?;
    let (mut rte_call, rte_daemons) = relay::rtpengine_call(rtpengine, calls)?;
    let mut agw_runs = Vec::new();
    let mut rte_runs = Vec::new();
    for r in 0..repeat {
        let rec = Perf::start(perf.as_deref(), &format!("iq-agw-{r}"), agw_call.pid())?;
        agw_runs.push(relay::measure(&mut agw_call, &opt)?);
        rec.stop();
        let rec = Perf::start(perf.as_deref(), &format!("rtpengine-{r}"), rte_call.pid())?;
        match relay::measure(&mut rte_call, &opt) {
            Ok(x) => rte_runs.push(x),
            Err(e) => {
                for mut d in rte_daemons {
                    let tail = d.tail();
                    eprintln!("[{}] {tail}", d.name);
                }
                return Err(e);
            }
        }
        rec.stop();
    }
    drop(agw_daemons);
    if std::env::var_os("IQ_BENCH_VERBOSE").is_some() {
        for mut d in rte_daemons {
            let tail = d.tail();
            println!("[{}] {tail}", d.name);
        }
    } else {
        drop(rte_daemons);
    }
    let agw = (
        median(agw_runs.iter().map(|r| r.0).collect()),
        median(agw_runs.iter().map(|r| r.1).collect()),
    );
    let rte = (
        median(rte_runs.iter().map(|r| r.0).collect()),
        median(rte_runs.iter().map(|r| r.1).collect()),
    );
    let per_core = |runs: &[(relay::Run, relay::Run)], second: bool| {
        runs.iter()
            .map(|r| kpps(if second { r.1 } else { r.0 }.pps_per_core()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "runs (pkt/s per core): iq-agw SRTP->RTP [{}] RTP->SRTP [{}]; rtpengine SRTP->RTP [{}] RTP->SRTP [{}]; medians below",
        per_core(&agw_runs, false),
        per_core(&agw_runs, true),
        per_core(&rte_runs, false),
        per_core(&rte_runs, true),
    );
    println!(
        "{:<11} {:<10} {:>9} {:>9} {:>8} {:>10} {:>12}",
        "direction", "relay", "offered/s", "relayed/s", "lost", "CPU/packet", "pkt/s/core"
    );
    let dirs = [
        ("SRTP->RTP", agw.0, rte.0, unprot, "unprotect"),
        ("RTP->SRTP", agw.1, rte.1, prot, "protect"),
    ];
    for (name, a, r, floor_ns, what) in dirs {
        for (who, x) in [("iq-agw", a), ("rtpengine", r)] {
            println!(
                "{:<11} {:<10} {:>9} {:>9} {:>7.1}% {:>8.2}us {:>12}",
                name,
                who,
                kpps(x.offered_pps()),
                kpps(x.relayed_pps()),
                100.0 * (x.offered.saturating_sub(x.relayed)) as f64 / x.offered.max(1) as f64,
                x.cpu_ns_per_packet() / 1000.0,
                kpps(x.pps_per_core()),
            );
        }
        let ratio = a.pps_per_core() / r.pps_per_core();
        println!(
            "{:<11} {:<10} {:>51}",
            name,
            "libsrtp",
            format!(
                "{what} only {:.2}us {:>12}",
                floor_ns / 1000.0,
                kpps(1e9 / floor_ns)
            )
        );
        println!(
            "{name}: iq-agw / rtpengine = {ratio:.2}x per core (goal >= 1.5x: {}); iq-agw {} pkt/s per core (goal >= 500k: {}); iq-agw / libsrtp {what} floor = {:.2}x",
            goal(ratio >= 1.5),
            kpps(a.pps_per_core()),
            goal(a.pps_per_core() >= 500_000.0),
            a.pps_per_core() * floor_ns / 1e9,
        );
    }
    println!(
        "libsrtp: {} (CPU per packet of a protect/unprotect loop, no sockets)",
        fl.get("version").and_then(|v| v.as_str()).unwrap_or("?")
    );
    Ok(())
}

/// `perf record -g -p PID` while a relay is measured (stopped with SIGINT, as perf expects).
struct Perf(Option<std::process::Child>);

impl Perf {
    fn start(dir: Option<&std::path::Path>, name: &str, pid: u32) -> Result<Perf, String> {
        let Some(dir) = dir else {
            return Ok(Perf(None));
        };
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let out = dir.join(format!("{name}.perf.data"));
        let child = Command::new("perf")
            .args(["record", "-g", "-q", "-o"])
            .arg(&out)
            .args(["-p", &pid.to_string()])
            .spawn()
            .map_err(|e| format!("perf: {e}"))?;
        println!("perf: recording {name} (pid {pid}) into {}", out.display());
        std::thread::sleep(std::time::Duration::from_millis(500));
        Ok(Perf(Some(child)))
    }

    fn stop(self) {
        if let Some(mut c) = self.0 {
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }
}

fn dtls_cmd(n: u64) -> Result<(), String> {
    let ossl = floor::compile("dtls_openssl", &["-lssl", "-lcrypto"])?;
    println!("dtls: {n} full handshakes per role (ECDSA P-256 both sides, mutual auth, DTLS 1.2, use_srtp), gateway-side CPU only");
    println!(
        "{:<7} {:<8} {:>12} {:>14} {:>10}",
        "role", "impl", "CPU/hs", "hs/s per core", "peer CPU"
    );
    for (role, name) in [
        (dtls::GwRole::Server, "server"),
        (dtls::GwRole::Client, "client"),
    ] {
        let ours = dtls::run(n, role)?;
        let o = floor::run_json(&ossl, &[&n.to_string(), name])?;
        let o_ns = floor::num(&o, "gateway_ns")?;
        let o_peer = floor::num(&o, "peer_ns")?;
        let our_ns = ours.gw_cpu.as_nanos() as f64;
        println!(
            "{:<7} {:<8} {:>10.0}us {:>14.0} {:>8.0}us",
            name,
            "iq-agw",
            our_ns / 1000.0,
            1e9 / our_ns,
            ours.peer_cpu.as_nanos() as f64 / 1000.0
        );
        println!(
            "{:<7} {:<8} {:>10.0}us {:>14.0} {:>8.0}us",
            name,
            "openssl",
            o_ns / 1000.0,
            1e9 / o_ns,
            o_peer / 1000.0
        );
        println!(
            "{name}: iq-agw / OpenSSL = {:.2}x handshakes per core; iq-agw {:.0}/s per core (goal >= 1000: {})",
            o_ns / our_ns,
            1e9 / our_ns,
            goal(1e9 / our_ns >= 1000.0)
        );
    }
    println!(
        "OpenSSL: {}",
        floor::run_json(&ossl, &["1", "server"])?
            .get("version")
            .and_then(|v| v.as_str())
            .unwrap_or("?")
    );
    Ok(())
}
