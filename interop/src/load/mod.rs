//! `iq-interop load`: control-plane load on the IMS-ALG's ng front with the real AGW behind it.
//!
//! Starts `iq-alg` and one or more `iq-agw` on loopback with configurations of its own (or
//! attaches to a running ALG with `--alg`), then plays a SIP proxy that sets up and releases
//! many TS 23.334 figure 6.2.10.5.1 sessions at once ([`driver`]): ng offer (the WebRTC UE's
//! SDP) -> ng answer (the core's plain RTP SDP) -> ng delete, which the ALG turns into Add,
//! Add, Modify and Subtract on an AGW. Reports sessions set up and released per second, Iq
//! transactions per second (counted by the ALG: the ng `statistics` command), setup latency
//! percentiles and the AGW's memory per idle (held) session; `--json` for scripts, `--soak` for
//! the memory soak of issue 10.

mod driver;

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use iq_alg::ng::bencode::Value;
use iq_alg::ng::wire::{self, Format};

use crate::lab::daemons::find_binary;
use crate::lab::Transport;
use driver::{Percentiles, RunConfig, RunHooks, RunResult};

/// `iq-interop load` options.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Attach to a running ALG's ng front (ADDR, UDP) instead of starting the daemons.
    #[arg(long, value_name = "ADDR")]
    pub alg: Option<SocketAddr>,
    /// With --alg: the ALG's process ID, for its memory figures.
    #[arg(long, value_name = "PID", requires = "alg")]
    pub alg_pid: Option<u32>,
    /// With --alg: the AGW's process ID (repeatable), for the memory per idle session.
    #[arg(long, value_name = "PID", requires = "alg")]
    pub agw_pid: Vec<u32>,
    /// Iq transport between the daemons it starts.
    #[arg(long, value_enum, default_value_t = Transport::Tcp)]
    pub transport: Transport,
    /// AGWs to start (default: as many as the open-files limit needs for --concurrency held
    /// sessions, two UDP sockets per session).
    #[arg(long, value_name = "N")]
    pub agws: Option<usize>,
    /// Sessions to set up and release (default 10000; 100000 with --soak).
    #[arg(long, value_name = "N")]
    pub sessions: Option<u64>,
    /// Sessions started per second (0: as fast as --concurrency allows).
    #[arg(long, default_value_t = 5000.0)]
    pub rate: f64,
    /// Most sessions alive at once (being set up, held, being released).
    #[arg(long, default_value_t = 1000)]
    pub concurrency: usize,
    /// Longest run in seconds: no session starts later, held ones are deleted then (default:
    /// three times sessions/rate with the rate taken as at most 900/s (so with --rate 0 too),
    /// plus --hold; at least 60).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Seconds each session is held (idle) between the answer and the delete.
    #[arg(long, default_value_t = 0.0)]
    pub hold: f64,
    /// UDP sockets the ng requests are spread over.
    #[arg(long, default_value_t = 2)]
    pub sockets: usize,
    /// Retransmission interval of an unanswered ng request, in ms (Kamailio's rtpengine
    /// module: 1000).
    #[arg(long, default_value_t = 1000)]
    pub retransmit_ms: u64,
    /// Retransmissions before a request counts as timed out (Kamailio: 5).
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// Sessions run (and not counted) before the measurement.
    #[arg(long, value_name = "N")]
    pub warmup: Option<u64>,
    /// Memory soak (issue 10): a warm-up of --warmup sessions (default 1000, repeated for at
    /// least 65 s), then --sessions (default 100000); RSS of iq-alg and iq-agw after each,
    /// measured 65 s after the traffic stopped (the daemons' 60 s LONG-TIMER window of finished
    /// transactions and their 30 s caches of replies have expired by then), and the ratio; exit
    /// status 1 if either grew by more than 10%.
    #[arg(long)]
    pub soak: bool,
    /// RUST_LOG of the daemons it starts (their default, "info", as deployed).
    #[arg(long, default_value = "info", value_name = "FILTER")]
    pub daemon_log: String,
    /// Directory with `iq-alg` and `iq-agw` (default: next to this executable, else PATH).
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// Keep the directory with the configurations and the daemons' logs (and print it).
    #[arg(long)]
    pub keep: bool,
    /// The report as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

/// A daemon started by the tool, its log in a file.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn start(name: &str, bin: &Path, cfg: &Path, dir: &Path, filter: &str) -> Result<Proc, String> {
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .arg("--config")
            .arg(cfg)
            .env("RUST_LOG", filter)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", bin.display()))?;
        crate::stop::track_daemon(child.id());
        Ok(Proc {
            name: name.to_string(),
            child,
            log,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The first log line containing `pat`.
    fn wait_for(&mut self, pat: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(l) = text.lines().find(|l| l.contains(pat)) {
                return Ok(l.to_string());
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited early ({st}); its last log lines:\n{}",
                    self.name,
                    self.tail(15)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{}: no {pat:?} in its log within {timeout:?} (is --daemon-log hiding \
                     info lines?); its last log lines:\n{}",
                    self.name,
                    self.tail(15)
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        crate::lab::daemons::terminate(&mut self.child);
        crate::stop::forget_daemon(self.child.id());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        crate::stop::forget_daemon(self.child.id());
    }
}

/// Resident memory of a process in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// CPU time (user + system) a process has used, in seconds (`/proc/PID/stat`, 100 ticks/s).
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (in parentheses, may contain spaces): state is field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn sum_cpu(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| cpu_secs(p)).sum()
}

/// The soft open-files limit of this process (inherited by the daemons), from
/// `/proc/self/limits`.
fn open_files_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

/// AGWs needed to hold `concurrency` sessions (two sockets each) under `limit` descriptors.
fn agws_needed(concurrency: usize, limit: Option<u64>) -> usize {
    let per_agw = limit.map_or(u64::MAX, |l| l.saturating_sub(256) / 2).max(1);
    let c = concurrency as u64;
    usize::try_from(c.div_ceil(per_agw)).unwrap_or(1).max(1)
}

fn transport_name(t: Transport) -> &'static str {
    match t {
        Transport::Sctp => "sctp",
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    }
}

fn agw_mid(i: usize) -> String {
    format!("<agw{i}.load.example.net>")
}

fn alg_config(t: Transport, agws: usize) -> String {
    let mut s = format!(
        r#"# iq-interop load: the IMS-ALG
[iq]
transport = "{}"
listen = "127.0.0.1:0"
encoding = "text"
mid = "<alg.load.example.net>"

[ng]
listen = "127.0.0.1:0"
"#,
        transport_name(t)
    );
    for i in 0..agws {
        s.push_str(&format!(
            "\n[[agw]]\nmid = \"{}\"\naddress = \"127.0.0.1\"\n",
            agw_mid(i)
        ));
    }
    s
}

/// AGW `i`: its realms on addresses of their own (127.0.<10+i>.1 access, .2 core), each with
/// the even ports of 10000-60999 (25500 sessions).
fn agw_config(t: Transport, i: usize, controller: SocketAddr) -> String {
    format!(
        r#"# iq-interop load: eIMS-AGW {i}
[iq]
transport = "{}"
controller = "{controller}"
controller_mid = "<alg.load.example.net>"
encoding = "text"
mid = "{}"

[reconnect]
initial_ms = 200
max_ms = 1000

[[media.realm]]
name = "access"
address = "127.0.{n}.1"
ports = "10000-60999"

[[media.realm]]
name = "core"
address = "127.0.{n}.2"
ports = "10000-60999"
"#,
        transport_name(t),
        agw_mid(i),
        n = 10 + i
    )
}

fn addr_after(line: &str, marker: &str) -> Option<SocketAddr> {
    line.split(marker)
        .nth(1)?
        .split_whitespace()
        .next()?
        .trim_end_matches(',')
        .parse()
        .ok()
}

/// The ALG's counters (ng `statistics`).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct AlgStats {
    iq_requests: u64,
    iq_add: u64,
    iq_modify: u64,
    iq_subtract: u64,
    iq_other: u64,
    iq_replies_ok: u64,
    iq_replies_error: u64,
    iq_timeouts: u64,
    iq_unsent: u64,
    sessions_created: u64,
    sessions_released: u64,
    sessions_now: u64,
}

impl AlgStats {
    fn minus(&self, b: &AlgStats) -> AlgStats {
        AlgStats {
            iq_requests: self.iq_requests.saturating_sub(b.iq_requests),
            iq_add: self.iq_add.saturating_sub(b.iq_add),
            iq_modify: self.iq_modify.saturating_sub(b.iq_modify),
            iq_subtract: self.iq_subtract.saturating_sub(b.iq_subtract),
            iq_other: self.iq_other.saturating_sub(b.iq_other),
            iq_replies_ok: self.iq_replies_ok.saturating_sub(b.iq_replies_ok),
            iq_replies_error: self.iq_replies_error.saturating_sub(b.iq_replies_error),
            iq_timeouts: self.iq_timeouts.saturating_sub(b.iq_timeouts),
            iq_unsent: self.iq_unsent.saturating_sub(b.iq_unsent),
            sessions_created: self.sessions_created.saturating_sub(b.sessions_created),
            sessions_released: self.sessions_released.saturating_sub(b.sessions_released),
            sessions_now: self.sessions_now,
        }
    }
}

/// Ask the ALG for its counters; None when it does not answer or has no `statistics`.
fn alg_stats(alg: SocketAddr) -> Option<AlgStats> {
    let bind = if alg.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let sock = UdpSocket::bind(bind).ok()?;
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    let cookie = format!("stats{}", std::process::id());
    let msg = wire::encode(
        cookie.as_bytes(),
        &Value::dict([("command", Value::str("statistics"))]),
        Format::Bencode,
    );
    let mut buf = vec![0u8; 65_536];
    for _ in 0..10 {
        sock.send_to(&msg, alg).ok()?;
        while let Ok((n, _)) = sock.recv_from(&mut buf) {
            let Ok(d) = wire::decode(&buf[..n]) else {
                continue;
            };
            if d.cookie != cookie.as_bytes() {
                continue;
            }
            let b = d.body;
            if b.get("result").and_then(Value::as_str) != Some("ok") {
                return None;
            }
            let get = |sec: &str, k: &str| -> u64 {
                b.get(sec)
                    .and_then(|s| s.get(k))
                    .and_then(Value::as_int)
                    .and_then(|i| u64::try_from(i).ok())
                    .unwrap_or(0)
            };
            b.get("iq")?;
            return Some(AlgStats {
                iq_requests: get("iq", "requests"),
                iq_add: get("iq", "add"),
                iq_modify: get("iq", "modify"),
                iq_subtract: get("iq", "subtract"),
                iq_other: get("iq", "other"),
                iq_replies_ok: get("iq", "replies-ok"),
                iq_replies_error: get("iq", "replies-error"),
                iq_timeouts: get("iq", "timeouts"),
                iq_unsent: get("iq", "unsent"),
                sessions_created: get("totalstatistics", "managedsess"),
                sessions_released: get("totalstatistics", "releasedsess"),
                sessions_now: get("currentstatistics", "sessionsown"),
            });
        }
    }
    None
}

/// The daemons of a run (started, or attached to).
struct Lab {
    alg: SocketAddr,
    alg_pid: Option<u32>,
    agw_pids: Vec<u32>,
    procs: Vec<Proc>,
    dir: Option<PathBuf>,
}

fn start_lab(args: &LoadArgs, agws: usize) -> Result<Lab, String> {
    if let Some(alg) = args.alg {
        return Ok(Lab {
            alg,
            alg_pid: args.alg_pid,
            agw_pids: args.agw_pid.clone(),
            procs: Vec::new(),
            dir: None,
        });
    }
    let alg_bin = find_binary("iq-alg", args.bin_dir.as_deref())?;
    let agw_bin = find_binary("iq-agw", args.bin_dir.as_deref())?;
    let dir = std::env::temp_dir().join(format!("iq-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, text: &str| -> Result<PathBuf, String> {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(p)
    };
    let mut lab = Lab {
        alg: SocketAddr::from(([127, 0, 0, 1], 0)),
        alg_pid: None,
        agw_pids: Vec::new(),
        procs: Vec::new(),
        dir: Some(dir.clone()),
    };
    let cfg = write("alg.toml", &alg_config(args.transport, agws))?;
    let mut alg = Proc::start("alg", &alg_bin, &cfg, &dir, &args.daemon_log)?;
    let line = alg.wait_for("listening on", Duration::from_secs(10))?;
    let iq = addr_after(&line, "listening on ")
        .ok_or_else(|| format!("no Iq address in the ALG's log line {line:?}"))?;
    let line = alg.wait_for("ng control on", Duration::from_secs(10))?;
    lab.alg = addr_after(&line, "ng control on ")
        .ok_or_else(|| format!("no ng address in the ALG's log line {line:?}"))?;
    lab.alg_pid = Some(alg.pid());
    lab.procs.push(alg);
    for i in 0..agws {
        let cfg = write(&format!("agw{i}.toml"), &agw_config(args.transport, i, iq))?;
        let p = Proc::start(&format!("agw{i}"), &agw_bin, &cfg, &dir, &args.daemon_log)?;
        lab.agw_pids.push(p.pid());
        lab.procs.push(p);
    }
    for p in lab.procs.iter_mut().skip(1) {
        p.wait_for("registered", Duration::from_secs(15))?;
    }
    // The ALG puts an AGW in service when it accepts the registration; give it a moment.
    std::thread::sleep(Duration::from_millis(200));
    Ok(lab)
}

fn sum_rss(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| rss_kib(p)).sum()
}

/// The report (the JSON document of `--json`; the table prints the same figures).
#[derive(Debug, serde::Serialize)]
struct Report {
    config: ReportConfig,
    sessions: ReportSessions,
    elapsed_s: f64,
    /// Sessions set up and released per second.
    sessions_per_s: f64,
    /// Setups (answer replied) per second.
    setups_per_s: f64,
    /// Releases (delete replied) per second.
    releases_per_s: f64,
    /// Iq transactions per second (counted by the ALG), None without `statistics`.
    iq_transactions_per_s: Option<f64>,
    iq: Option<AlgStats>,
    latency_ms: BTreeMap<&'static str, Percentiles>,
    ng: ReportNg,
    failures: BTreeMap<String, u64>,
    memory: ReportMemory,
    cpu: ReportCpu,
    soak: Option<ReportSoak>,
}

/// CPU the daemons used during the run: robust on a shared machine, where wall-clock rates
/// are not.
#[derive(Debug, serde::Serialize)]
struct ReportCpu {
    alg_secs: Option<f64>,
    agw_secs: Option<f64>,
    /// CPU microseconds per session set up and released.
    alg_us_per_session: Option<f64>,
    agw_us_per_session: Option<f64>,
    /// Sessions set up and released per second of CPU of the busier daemon.
    sessions_per_cpu_s: Option<f64>,
}

#[derive(Debug, serde::Serialize)]
struct ReportConfig {
    sessions: u64,
    rate: f64,
    concurrency: usize,
    hold_s: f64,
    duration_s: f64,
    sockets: usize,
    agws: usize,
    transport: &'static str,
    warmup: u64,
    daemon_log: String,
}

#[derive(Debug, serde::Serialize)]
struct ReportSessions {
    started: u64,
    set_up: u64,
    released: u64,
    failed: u64,
    unfinished: u64,
}

#[derive(Debug, serde::Serialize)]
struct ReportNg {
    requests: u64,
    retransmissions: u64,
    late_replies: u64,
}

#[derive(Debug, serde::Serialize)]
struct ReportMemory {
    agw_rss_before_kib: Option<u64>,
    agw_rss_held_kib: Option<u64>,
    held_sessions: u64,
    agw_kib_per_idle_session: Option<f64>,
    alg_rss_before_kib: Option<u64>,
    alg_rss_after_kib: Option<u64>,
    agw_rss_after_kib: Option<u64>,
}

#[derive(Debug, serde::Serialize)]
struct ReportSoak {
    warmup: u64,
    sessions: u64,
    alg_rss_before_kib: Option<u64>,
    alg_rss_after_kib: Option<u64>,
    alg_ratio: Option<f64>,
    agw_rss_before_kib: Option<u64>,
    agw_rss_after_kib: Option<u64>,
    agw_ratio: Option<f64>,
    within_10_percent: bool,
}

/// Longer than what the daemons keep for a while on purpose: finished Iq transactions for the
/// H.248 LONG-TIMER window (iq-link's `long_request_timer`, 60 s), Iq replies for repetitions
/// (30 s), the ng reply cache (30 s). The warm-up lasts as long, so that these windows are
/// full (and their tables at their steady size) before the first measurement.
const SOAK_SETTLE_SECS: u64 = 65;

/// `iq-interop load`. Exit status 0 when every session was set up and released, 1 when some
/// failed (or `--soak` saw memory grow by more than 10%), 2 when the run could not be made.
pub fn run(args: LoadArgs) -> ExitCode {
    match run_inner(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &LoadArgs) -> Result<bool, String> {
    let sessions = args
        .sessions
        .unwrap_or(if args.soak { 100_000 } else { 10_000 });
    let warmup = args.warmup.unwrap_or(if args.soak { 1_000 } else { 0 });
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let duration = args.duration.unwrap_or_else(|| {
        // the rate asked for, or 900/s if that is less, as if reached a third of the time:
        // a rate this host cannot reach must not cut the run short (the default 5,000/s did,
        // at 79,357 of a soak's 100,000 sessions on 2 cores)
        let assumed = if args.rate > 0.0 {
            args.rate.min(900.0)
        } else {
            900.0
        };
        let base = sessions as f64 / assumed;
        (3.0 * base + args.hold).max(60.0)
    });
    let limit = open_files_limit();
    let agws = match (args.alg, args.agws) {
        (Some(_), _) => args.agw_pid.len(),
        (None, Some(n)) => n.max(1),
        (None, None) => agws_needed(args.concurrency, limit),
    };
    if args.alg.is_none() && !args.json && agws > 1 && args.agws.is_none() {
        println!(
            "load: open-files limit {} allows about {} sessions per AGW (two UDP sockets \
             each): starting {agws} AGWs (raise `ulimit -n` for one)",
            limit.unwrap_or(0),
            limit.unwrap_or(0).saturating_sub(256) / 2
        );
    }
    let mut lab = start_lab(args, agws)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let tag = format!("load{}", std::process::id());
    let cfg = |n: u64, phase: &str, duration: f64, hold: f64| RunConfig {
        alg: lab.alg,
        sessions: n,
        rate: args.rate,
        concurrency: args.concurrency,
        duration: Duration::from_secs_f64(duration.max(0.001)),
        drain: Duration::from_millis(args.retransmit_ms * (u64::from(args.retries) + 2)),
        hold: Duration::from_secs_f64(hold.max(0.0)),
        sockets: args.sockets,
        retransmit: Duration::from_millis(args.retransmit_ms.max(1)),
        retries: args.retries,
        tag: format!("{tag}-{phase}"),
    };
    // What the daemons keep for a while on purpose must have expired before memory is
    // compared (--soak): finished Iq transactions (H.248 LONG-TIMER, 60 s), replies to repeated
    // Iq requests (30 s) and to retransmitted ng requests (the ALG's reply cache, 30 s, expired
    // by its clock). Otherwise a short pause.
    let settle = || {
        if args.soak {
            std::thread::sleep(Duration::from_secs(SOAK_SETTLE_SECS));
        } else {
            std::thread::sleep(Duration::from_millis(1500));
        }
    };
    if warmup > 0 {
        // The soak's warm-up also lasts as long as those caches keep things, so that their
        // high-water marks are reached before the first measurement.
        let started = Instant::now();
        let mut round = 0;
        loop {
            let mut none = || None;
            let mut hooks = RunHooks { sample: &mut none };
            let w = rt.block_on(driver::run(
                cfg(warmup, &format!("warmup{round}"), duration, 0.0),
                &mut hooks,
            ))?;
            if w.released != warmup {
                eprintln!(
                    "load: warm-up: {} of {warmup} sessions released; failures: {:?}",
                    w.released, w.failures
                );
            }
            round += 1;
            if !args.soak || started.elapsed() >= Duration::from_secs(SOAK_SETTLE_SECS) {
                break;
            }
        }
        settle();
    }
    let alg_before = lab.alg_pid.and_then(rss_kib);
    let agw_before = sum_rss(&lab.agw_pids);
    let stats_before = alg_stats(lab.alg);
    let alg_cpu0 = lab.alg_pid.and_then(cpu_secs);
    let agw_cpu0 = sum_cpu(&lab.agw_pids);
    let agw_pids = lab.agw_pids.clone();
    let mut sample = || sum_rss(&agw_pids);
    let mut hooks = RunHooks {
        sample: &mut sample,
    };
    let r: RunResult = rt.block_on(driver::run(
        cfg(sessions, "run", duration, args.hold),
        &mut hooks,
    ))?;
    let alg_cpu = lab
        .alg_pid
        .and_then(cpu_secs)
        .zip(alg_cpu0)
        .map(|(a, b)| a - b);
    let agw_cpu = sum_cpu(&lab.agw_pids).zip(agw_cpu0).map(|(a, b)| a - b);
    settle();
    let stats_after = alg_stats(lab.alg);
    let alg_after = lab.alg_pid.and_then(rss_kib);
    let agw_after = sum_rss(&lab.agw_pids);
    let iq = match (stats_after, stats_before) {
        (Some(a), Some(b)) => Some(a.minus(&b)),
        _ => None,
    };
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let per_s = |n: u64| n as f64 / secs;
    let mut latency = BTreeMap::new();
    latency.insert("setup", r.setup.percentiles());
    latency.insert("offer", r.offer.percentiles());
    latency.insert("answer", r.answer.percentiles());
    latency.insert("delete", r.delete.percentiles());
    let per_idle = match (r.held_sample, agw_before) {
        (Some(h), Some(b)) if r.max_held > 0 => {
            Some(h.saturating_sub(b) as f64 / r.max_held as f64)
        }
        _ => None,
    };
    let ratio = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    };
    let soak = args.soak.then(|| {
        let (ar, gr) = (ratio(alg_after, alg_before), ratio(agw_after, agw_before));
        ReportSoak {
            warmup,
            // what was done, not what was asked (a run cut short by --duration says so)
            sessions: r.released,
            alg_rss_before_kib: alg_before,
            alg_rss_after_kib: alg_after,
            alg_ratio: ar,
            agw_rss_before_kib: agw_before,
            agw_rss_after_kib: agw_after,
            agw_ratio: gr,
            within_10_percent: ar.is_some_and(|x| x <= 1.10) && gr.is_some_and(|x| x <= 1.10),
        }
    });
    let report = Report {
        config: ReportConfig {
            sessions,
            rate: args.rate,
            concurrency: args.concurrency,
            hold_s: args.hold,
            duration_s: duration,
            sockets: args.sockets,
            agws,
            transport: transport_name(args.transport),
            warmup,
            daemon_log: args.daemon_log.clone(),
        },
        sessions: ReportSessions {
            started: r.started,
            set_up: r.set_up,
            released: r.released,
            failed: r.failed,
            unfinished: r.unfinished,
        },
        elapsed_s: secs,
        sessions_per_s: per_s(r.released),
        setups_per_s: per_s(r.set_up),
        releases_per_s: per_s(r.released),
        iq_transactions_per_s: iq.map(|s| per_s(s.iq_requests)),
        iq,
        latency_ms: latency,
        ng: ReportNg {
            requests: r.requests,
            retransmissions: r.retransmissions,
            late_replies: r.late_replies,
        },
        failures: r.failures.clone(),
        memory: ReportMemory {
            agw_rss_before_kib: agw_before,
            agw_rss_held_kib: r.held_sample,
            held_sessions: r.max_held,
            agw_kib_per_idle_session: per_idle,
            alg_rss_before_kib: alg_before,
            alg_rss_after_kib: alg_after,
            agw_rss_after_kib: agw_after,
        },
        cpu: {
            let per = |c: Option<f64>| {
                c.filter(|_| r.released > 0)
                    .map(|c| c * 1e6 / r.released as f64)
            };
            let busier = match (alg_cpu, agw_cpu) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            ReportCpu {
                alg_secs: alg_cpu,
                agw_secs: agw_cpu,
                alg_us_per_session: per(alg_cpu),
                agw_us_per_session: per(agw_cpu),
                sessions_per_cpu_s: busier.filter(|c| *c > 0.0).map(|c| r.released as f64 / c),
            }
        },
        soak,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print_table(&report);
    }
    // Dead daemons are a failure of the run too.
    let mut dead = Vec::new();
    for p in &mut lab.procs {
        if let Ok(Some(st)) = p.child.try_wait() {
            dead.push(format!(
                "{} exited during the run ({st}); its last log lines:\n{}",
                p.name,
                p.tail(10)
            ));
        }
    }
    for p in &mut lab.procs {
        p.stop();
    }
    match &lab.dir {
        Some(d) if args.keep => {
            eprintln!("load: configurations and logs kept in {}", d.display())
        }
        Some(d) => {
            let _ = std::fs::remove_dir_all(d);
        }
        None => {}
    }
    for d in &dead {
        eprintln!("load: {d}");
    }
    let ok = r.released == sessions && r.failed == 0 && dead.is_empty();
    let soak_ok = report.soak.as_ref().is_none_or(|s| s.within_10_percent);
    Ok(ok && soak_ok)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn print_table(r: &Report) {
    let c = &r.config;
    println!(
        "iq-interop load: {} sessions, rate {}/s, concurrency {}, hold {} s, {} AGW(s), Iq over \
         {}, warm-up {}, daemon log {:?}",
        c.sessions, c.rate, c.concurrency, c.hold_s, c.agws, c.transport, c.warmup, c.daemon_log
    );
    let s = &r.sessions;
    println!(
        "  sessions        started {}  set up {}  released {}  failed {}  unfinished {}",
        s.started, s.set_up, s.released, s.failed, s.unfinished
    );
    println!("  elapsed         {:.3} s", r.elapsed_s);
    println!(
        "  throughput      {:.0} sessions set up+released/s ({:.0} setups/s, {:.0} releases/s)",
        r.sessions_per_s, r.setups_per_s, r.releases_per_s
    );
    match (&r.iq, r.iq_transactions_per_s) {
        (Some(iq), Some(tps)) => println!(
            "  Iq              {:.0} transactions/s: {} transactions (Add {}, Modify {}, \
             Subtract {}, other {}), replies ok {} error {}, timeouts {}",
            tps,
            iq.iq_requests,
            iq.iq_add,
            iq.iq_modify,
            iq.iq_subtract,
            iq.iq_other,
            iq.iq_replies_ok,
            iq.iq_replies_error,
            iq.iq_timeouts
        ),
        _ => println!("  Iq              - (the ALG did not answer `statistics`)"),
    }
    println!("  latency (ms)       n        p50      p99    p99.9      max     mean");
    for (k, p) in &r.latency_ms {
        println!(
            "    {k:<12} {:>7} {:>9.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            p.n, p.p50, p.p99, p.p999, p.max, p.mean
        );
    }
    let c = &r.cpu;
    println!(
        "  CPU             ALG {} s ({} us/session), AGW {} s ({} us/session): {} sessions \
         per CPU-second of the busier daemon",
        opt(c.alg_secs.map(|x| format!("{x:.2}"))),
        opt(c.alg_us_per_session.map(|x| format!("{x:.0}"))),
        opt(c.agw_secs.map(|x| format!("{x:.2}"))),
        opt(c.agw_us_per_session.map(|x| format!("{x:.0}"))),
        opt(c.sessions_per_cpu_s.map(|x| format!("{x:.0}")))
    );
    println!(
        "  ng              {} requests, {} retransmissions, {} late replies",
        r.ng.requests, r.ng.retransmissions, r.ng.late_replies
    );
    let m = &r.memory;
    println!(
        "  AGW memory      RSS {} KiB before, {} KiB with {} idle sessions held: {} KiB per \
         idle session; {} KiB after",
        opt(m.agw_rss_before_kib),
        opt(m.agw_rss_held_kib),
        m.held_sessions,
        opt(m.agw_kib_per_idle_session.map(|x| format!("{x:.2}"))),
        opt(m.agw_rss_after_kib)
    );
    println!(
        "  ALG memory      RSS {} KiB before, {} KiB after",
        opt(m.alg_rss_before_kib),
        opt(m.alg_rss_after_kib)
    );
    if let Some(k) = &r.soak {
        println!(
            "  soak            after {} warm-up + {} sessions: ALG {} -> {} KiB (x{}), AGW {} \
             -> {} KiB (x{}): {}",
            k.warmup,
            k.sessions,
            opt(k.alg_rss_before_kib),
            opt(k.alg_rss_after_kib),
            opt(k.alg_ratio.map(|x| format!("{x:.3}"))),
            opt(k.agw_rss_before_kib),
            opt(k.agw_rss_after_kib),
            opt(k.agw_ratio.map(|x| format!("{x:.3}"))),
            if k.within_10_percent {
                "within 10%"
            } else {
                "GREW by more than 10%"
            }
        );
    }
    if !r.failures.is_empty() {
        println!("  failures");
        for (why, n) in &r.failures {
            println!("    {n:>8}  {why}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agw_count_follows_the_fd_limit() {
        // 20000 descriptors: about 9872 sessions per AGW.
        assert_eq!(agws_needed(1000, Some(20_000)), 1);
        assert_eq!(agws_needed(9_872, Some(20_000)), 1);
        assert_eq!(agws_needed(9_873, Some(20_000)), 2);
        assert_eq!(agws_needed(20_000, Some(20_000)), 3);
        assert_eq!(agws_needed(20_000, None), 1);
    }

    #[test]
    fn cpu_and_rss_of_this_process() {
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {}
        assert!(cpu_secs(std::process::id()).is_some_and(|c| c > 0.0));
        assert!(rss_kib(std::process::id()).is_some_and(|k| k > 0));
        assert_eq!(cpu_secs(u32::MAX), None);
    }

    #[test]
    fn configs_parse_as_toml() {
        let a: toml::Value = toml::from_str(&alg_config(Transport::Tcp, 2)).unwrap();
        assert_eq!(a["agw"].as_array().map(Vec::len), Some(2));
        let g: toml::Value = toml::from_str(&agw_config(
            Transport::Udp,
            1,
            "127.0.0.1:2944".parse().unwrap(),
        ))
        .unwrap();
        assert_eq!(
            g["media"]["realm"][0]["address"].as_str(),
            Some("127.0.11.1")
        );
        assert_eq!(g["iq"]["mid"].as_str(), Some("<agw1.load.example.net>"));
    }
}
