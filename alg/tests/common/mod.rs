//! Shared by the daemon tests (`daemons.rs`, and `sctp_daemons.rs` with the `vm-tests` feature):
//! real `iq-alg` / `iq-agw` processes whose stdout lines are collected and matched.
//!
//! The binaries are `$IQ_ALG_BIN` / `$IQ_AGW_BIN` when set (the SCTP VM passes them), otherwise
//! cargo's `iq-alg` and its sibling `iq-agw` in the target directory; `iq-agw` is built with
//! `cargo build -p iq-agw` first if missing (a test of one package only gets its own binaries).
#![allow(dead_code)] // each test target uses a different part

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Once;
use std::time::{Duration, Instant};

const ALG: &str = env!("CARGO_BIN_EXE_iq-alg");

/// `iq-alg`: `$IQ_ALG_BIN`, else the one cargo built for this test.
pub fn alg_bin() -> PathBuf {
    std::env::var_os("IQ_ALG_BIN").map_or_else(|| PathBuf::from(ALG), PathBuf::from)
}

/// `iq-agw`: `$IQ_AGW_BIN`, else the sibling of `iq-alg` (built first if missing or stale).
pub fn agw_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("IQ_AGW_BIN") {
        let p = PathBuf::from(p);
        assert!(p.exists(), "IQ_AGW_BIN={} missing", p.display());
        return p;
    }
    static BUILD: Once = Once::new();
    let path = PathBuf::from(ALG).with_file_name(format!("iq-agw{}", std::env::consts::EXE_SUFFIX));
    // `cargo test --workspace` has built it already; building again from inside a test would
    // re-resolve features and recompile half the tree, so only when it is missing or stale
    if !path.exists() || older_than_sources(&path) {
        BUILD.call_once(|| {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-p", "iq-agw"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("cargo runs");
            assert!(status.success(), "cargo build -p iq-agw failed");
        });
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

/// Whether `bin` is older than a source file of the crates it is built from.
fn older_than_sources(bin: &std::path::Path) -> bool {
    fn newest(dir: &std::path::Path, acc: &mut Option<std::time::SystemTime>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                newest(&p, acc);
            } else if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                if acc.is_none_or(|a| m > a) {
                    *acc = Some(m);
                }
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut src = None;
    for d in ["agw/src", "iq-link/src", "iq-codec/src"] {
        newest(&root.join(d), &mut src);
    }
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).ok();
    matches!((built, src), (Some(b), Some(s)) if s > b)
}

/// A running daemon whose stdout lines are collected.
pub struct Proc {
    pub name: &'static str,
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    _dir: TempDir,
}

pub struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("iq-daemons-{}-{tag}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Proc {
    pub fn spawn(name: &'static str, bin: &std::path::Path, config: &str, extra: &[&str]) -> Proc {
        let dir = TempDir::new(name);
        let cfg = dir.0.join("config.toml");
        std::fs::write(&cfg, config).unwrap();
        let mut child = Command::new(bin)
            .arg("--config")
            .arg(&cfg)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                println!("[{name}] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc {
            name,
            child,
            lines: rx,
            seen: Vec::new(),
            _dir: dir,
        }
    }

    /// The next line (after those already consumed) containing every one of `pats`.
    pub fn wait_for(&mut self, pats: &[&str], timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pats.iter().all(|p| line.contains(p)) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "{}: no line with {pats:?} within {timeout:?}; output:\n{}",
                    self.name,
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The lines not consumed yet, up to the end of the output (the process has exited).
    pub fn rest(&mut self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    out.push(line);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return out,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("{}: output still open after {timeout:?}", self.name)
                }
            }
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} did not exit within {timeout:?}", self.name)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn alg_config(transport: &str, listen: &str, encoding: &str, agw_mid: &str) -> String {
    format!(
        r#"
[iq]
transport = "{transport}"
listen = "{listen}"
encoding = "{encoding}"
mid = "<alg1.example.net>"
keepalive_secs = 30

[[agw]]
mid = "{agw_mid}"
address = "127.0.0.1"
"#
    )
}

pub fn agw_config(transport: &str, controller: SocketAddr, encoding: &str, mid: &str) -> String {
    format!(
        r#"
[iq]
transport = "{transport}"
controller = "{controller}"
controller_mid = "<alg1.example.net>"
encoding = "{encoding}"
mid = "{mid}"
profile = "threegiq/1"

[reconnect]
initial_ms = 300
max_ms = 1000
"#
    )
}

/// Start the ALG and return it with the address it listens on.
pub fn start_alg(
    transport: &str,
    listen: &str,
    encoding: &str,
    extra: &[&str],
) -> (Proc, SocketAddr) {
    let mut alg = Proc::spawn(
        "alg",
        &alg_bin(),
        &alg_config(transport, listen, encoding, "<agw1.example.net>"),
        extra,
    );
    let line = alg.wait_for(&["listening on"], Duration::from_secs(5));
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    (alg, addr)
}
