//! `iq-alg` and `iq-agw` as child processes with the lab's configurations, their logs collected
//! (and written to the lab directory), early exits reported with their last log lines.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iq_link::transport::TransportKind;

/// Find a daemon binary: in `bin_dir` when given (only there), else next to this executable,
/// else on PATH.
pub fn find_binary(name: &str, bin_dir: Option<&Path>) -> Result<PathBuf, String> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    if let Some(d) = bin_dir {
        let p = d.join(&file);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "{name} not found in {} (--bin-dir); build it with `cargo build -p {name}`",
                d.display()
            ))
        };
    }
    if let Some(p) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join(&file)))
        .filter(|p| p.is_file())
    {
        return Ok(p);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let p = d.join(&file);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    if let Some(p) = build_with_cargo_run(&file) {
        return Ok(p);
    }
    Err(format!(
        "{name} not found next to iq-interop nor on PATH; build it (`cargo build -p {name}`) or \
         pass --bin-dir"
    ))
}

/// Under `cargo run -p iq-interop -- lab` (the README's command) the daemons are not built by
/// that command: build them once, with the same profile and target directory, and return
/// `file` next to this executable. `cargo run` tells its child where cargo and the package are
/// (`CARGO`, `CARGO_MANIFEST_DIR`); anything else gets None.
fn build_with_cargo_run(file: &str) -> Option<PathBuf> {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let cargo = std::env::var_os("CARGO")?;
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?;
    let target_dir = profile_dir.parent()?;
    let profile = match profile_dir.file_name()?.to_str()? {
        "debug" => "dev",
        other => other,
    };
    let workspace = manifest.parent()?;
    if !workspace.join("alg/Cargo.toml").is_file() || !workspace.join("agw/Cargo.toml").is_file() {
        return None;
    }
    BUILT.call_once(|| {
        println!(
            "lab: iq-alg and iq-agw are not built yet: cargo build --profile {profile} -p iq-alg \
             -p iq-agw"
        );
        let status = Command::new(&cargo)
            .args([
                "build",
                "--profile",
                profile,
                "-p",
                "iq-alg",
                "-p",
                "iq-agw",
            ])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(workspace)
            .stdin(Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("lab: building iq-alg and iq-agw failed");
        }
    });
    Some(profile_dir.join(file)).filter(|p| p.is_file())
}

/// Strip ANSI colour escapes.
fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A running daemon.
pub struct Daemon {
    /// "alg" or "agw".
    pub name: &'static str,
    child: Child,
    /// Every log line so far.
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Start `prefix... bin --config cfg`, logging to `dir/<name>.log`.
    pub fn start(
        name: &'static str,
        bin: &Path,
        cfg: &Path,
        dir: &Path,
        wrap: &[String],
    ) -> Result<Daemon, String> {
        let mut cmd = if let Some((first, rest)) = wrap.split_first() {
            let mut c = Command::new(first);
            c.args(rest).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        cmd.arg("--config")
            .arg(cfg)
            .env(
                "RUST_LOG",
                std::env::var("IQ_LAB_RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {} ({}): {e}", name, bin.display()))?;
        crate::stop::track_daemon(child.id());
        let lines = Arc::new(Mutex::new(Vec::new()));
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).ok();
        let log = Arc::new(Mutex::new(log));
        for out in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let (lines, log) = (lines.clone(), log.clone());
            std::thread::spawn(move || {
                for l in BufReader::new(out).lines().map_while(Result::ok) {
                    let l = plain(&l);
                    if let Ok(mut f) = log.lock() {
                        if let Some(f) = f.as_mut() {
                            let _ = writeln!(f, "{l}");
                        }
                    }
                    if let Ok(mut v) = lines.lock() {
                        v.push(l);
                    }
                }
            });
        }
        Ok(Daemon { name, child, lines })
    }

    /// The last `n` log lines.
    pub fn tail(&self, n: usize) -> String {
        let v = self.lines.lock().map(|v| v.clone()).unwrap_or_default();
        let start = v.len().saturating_sub(n);
        v[start..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Lines containing every pattern.
    pub fn grep(&self, pats: &[&str]) -> Vec<String> {
        self.lines
            .lock()
            .map(|v| {
                v.iter()
                    .filter(|l| pats.iter().all(|p| l.contains(p)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Wait for a log line with every pattern; an early exit or a timeout is an error that
    /// shows the last log lines.
    pub fn wait_for(&mut self, pats: &[&str], timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.grep(pats).into_iter().next() {
                return Ok(l);
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                return Err(format!(
                    "{} exited early ({st}); its last log lines:\n{}",
                    self.name,
                    self.tail(15)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{}: no {pats:?} in its log within {timeout:?}; its last log lines:\n{}",
                    self.name,
                    self.tail(15)
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then kill after a grace time.
    pub fn stop(&mut self) {
        terminate(&mut self.child);
        crate::stop::forget_daemon(self.child.id());
    }
}

/// SIGTERM, then SIGKILL if `child` has not exited after a 3 s grace time.
pub(crate) fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        crate::stop::forget_daemon(self.child.id());
    }
}

/// The address after `marker` in a log line (`listening on 127.0.0.1:1234 ...`).
pub fn addr_after(line: &str, marker: &str) -> Option<SocketAddr> {
    line.split(marker)
        .nth(1)?
        .split_whitespace()
        .next()?
        .trim_end_matches(',')
        .parse()
        .ok()
}

/// `n` consecutive UDP ports, starting at an even one, all free on `ip` right now.
pub fn free_port_range(ip: IpAddr, n: u16) -> Result<(u16, u16), String> {
    let seed = std::process::id()
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
    for attempt in 0..200u32 {
        let base = 20_000 + ((seed.wrapping_add(attempt.wrapping_mul(7919)) % 19_000) as u16 & !1);
        let ok = (base..base + n).all(|p| UdpSocket::bind((ip, p)).is_ok());
        if ok {
            return Ok((base, base + n - 1));
        }
    }
    Err(format!("no {n} free consecutive UDP ports on {ip}"))
}

fn transport_name(k: TransportKind) -> &'static str {
    match k {
        TransportKind::Sctp => "sctp",
        TransportKind::Tcp => "tcp",
        TransportKind::Udp => "udp",
    }
}

/// The ALG's configuration.
pub fn alg_config(
    kind: TransportKind,
    encoding: super::IqEncoding,
    iq_listen: SocketAddr,
    ng: SocketAddr,
    agw_ip: IpAddr,
    ng_client: IpAddr,
) -> String {
    // The ALG answers ng only from its allow-list (default loopback); the lab's ng client is
    // in another namespace with --netns.
    format!(
        r#"# iq-interop lab: the IMS-ALG
[iq]
transport = "{t}"
listen = "{iq_listen}"
encoding = "{e}"
mid = "<alg.lab.example.net>"
keepalive_secs = 30

[ng]
listen = "{ng}"
allow = ["{ng_client}"]

[[agw]]
mid = "<agw.lab.example.net>"
address = "{agw_ip}"
"#,
        t = transport_name(kind),
        e = encoding.config_value()
    )
}

/// The AGW's configuration.
pub fn agw_config(
    kind: TransportKind,
    encoding: super::IqEncoding,
    controller: SocketAddr,
    local: Option<IpAddr>,
    access: (IpAddr, (u16, u16)),
    core: (IpAddr, (u16, u16)),
) -> String {
    let local = local
        .map(|ip| format!("local = \"{}\"\n", SocketAddr::new(ip, 0)))
        .unwrap_or_default();
    format!(
        r#"# iq-interop lab: the eIMS-AGW
[iq]
transport = "{t}"
controller = "{controller}"
controller_mid = "<alg.lab.example.net>"
encoding = "{e}"
mid = "<agw.lab.example.net>"
{local}
[reconnect]
initial_ms = 200
max_ms = 1000

[[media.realm]]
name = "access"
address = "{ai}"
ports = "{a0}-{a1}"

[[media.realm]]
name = "core"
address = "{ci}"
ports = "{c0}-{c1}"
"#,
        t = transport_name(kind),
        e = encoding.config_value(),
        ai = access.0,
        a0 = access.1 .0,
        a1 = access.1 .1,
        ci = core.0,
        c0 = core.1 .0,
        c1 = core.1 .1,
    )
}
