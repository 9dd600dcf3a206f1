//! Shared by the interop end-to-end tests: the workspace's daemons as real processes, the test
//! controller ([`mgc`]) and the third-party peers.
#![allow(dead_code)] // each test target uses a different part

pub mod media;
pub mod mgc;
pub mod ng;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Once};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A workspace binary (`iq-agw`, `iq-alg`): `$IQ_<NAME>_BIN` when set, else cargo's build of it
/// next to `iq-interop` (`cargo test --workspace` builds it; when it is missing or older than
/// the sources, as after `cargo test -p iq-interop` alone, it is built once with `cargo build`).
pub fn bin(package: &str, name: &str) -> PathBuf {
    let var = format!("IQ_{}_BIN", name.trim_start_matches("iq-").to_uppercase());
    if let Some(p) = std::env::var_os(&var) {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_BIN_EXE_iq-interop"))
        .with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    static BUILD: Once = Once::new();
    if !p.exists() || stale(&p) {
        BUILD.call_once(|| {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-p", "iq-agw", "-p", "iq-alg"])
                .current_dir(workspace())
                .status()
                .expect("cargo runs");
            assert!(status.success(), "cargo build -p iq-agw -p iq-alg failed");
        });
    }
    let _ = package;
    assert!(p.exists(), "{} missing", p.display());
    p
}

/// Newest modification time of the sources a daemon is built from.
fn newest_source() -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                if newest.is_none_or(|n| m > n) {
                    *newest = Some(m);
                }
            }
        }
    }
    let mut newest = None;
    for dir in ["agw/src", "alg/src", "iq-link/src", "iq-codec/src"] {
        walk(&workspace().join(dir), &mut newest);
    }
    newest
}

/// A binary older than the sources (e.g. `cargo test -p iq-interop` after an AGW change).
fn stale(bin: &Path) -> bool {
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).ok();
    matches!((built, newest_source()), (Some(b), Some(s)) if s > b)
}

/// The Python interpreter with the oracle packages (aiortc, pylibsrtp, pyOpenSSL).
/// Missing: a failure under CI, a loud skip (None) otherwise.
pub fn oracle_python(test: &str) -> Option<PathBuf> {
    let p = std::env::var_os("IQ_ORACLE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/oracle/venv/bin/python"));
    let ok = Command::new(&p)
        .args(["-c", "import aiortc, pylibsrtp, OpenSSL"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{test}: {} lacks aiortc/pylibsrtp/pyOpenSSL (run scripts/test.sh)",
            p.display()
        );
    }
    eprintln!(
        "\n*** SKIPPING {test}: no oracle Python at {} (run scripts/test.sh) ***\n",
        p.display()
    );
    None
}

/// A running process whose stdout lines are collected (and echoed for the test log).
pub struct Proc {
    pub name: &'static str,
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    pub dir: PathBuf,
}

impl Proc {
    /// `bin --config <dir>/config.toml extra...` with `config` written to a fresh directory.
    pub fn daemon(name: &'static str, bin: &Path, config: &str, extra: &[&str]) -> Proc {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("iq-interop-{}-{name}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("config.toml");
        std::fs::write(&cfg, config).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg("--config")
            .arg(&cfg)
            .args(extra)
            .env("RUST_LOG", "info");
        Self::spawn(name, cmd, dir)
    }

    fn spawn(name: &'static str, mut cmd: Command, dir: PathBuf) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
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
            dir,
        }
    }

    /// The next line containing every one of `pats`.
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

    /// Number of open file descriptors of the process (Linux).
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Resident memory of the process in KiB (Linux `VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// SIGTERM (clean shutdown).
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
