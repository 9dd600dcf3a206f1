//! A daemon under test: spawned with its own configuration in a scratch directory, its
//! standard output and error read line by line (so we can wait for "registered"), killed on
//! drop.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running daemon.
pub struct Daemon {
    /// Short name for messages.
    pub name: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
    /// The scratch directory (configuration).
    pub dir: PathBuf,
}

/// A fresh scratch directory under the system temporary directory.
pub fn scratch(name: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("iq-bench-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn forward(r: impl Read + Send + 'static, tx: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
}

impl Daemon {
    /// Start `cmd` (already given its arguments).
    pub fn spawn(name: &str, mut cmd: Command, dir: PathBuf) -> Result<Daemon, String> {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start {name}: {e}"))?;
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            forward(out, tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            forward(err, tx);
        }
        Ok(Daemon {
            name: name.to_owned(),
            child,
            lines: rx,
            seen: Vec::new(),
            dir,
        })
    }

    /// An iq daemon (`--config FILE`) with `config` written to its scratch directory.
    pub fn iq(name: &str, bin: &Path, config: &str) -> Result<Daemon, String> {
        let dir = scratch(name)?;
        let cfg = dir.join("config.toml");
        std::fs::write(&cfg, config).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin);
        cmd.arg("--config").arg(&cfg).env("RUST_LOG", "info");
        Daemon::spawn(name, cmd, dir)
    }

    /// The process id (for `/proc/PID/stat`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for a line containing every pattern; the line.
    pub fn wait_for(&mut self, pats: &[&str], timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pats.iter().all(|p| line.contains(p)) {
                        return Ok(line);
                    }
                }
                Err(_) => {
                    let name = self.name.clone();
                    if let Ok(Some(st)) = self.child.try_wait() {
                        return Err(format!("{name} exited ({st}): {}", self.tail()));
                    }
                    return Err(format!(
                        "{name}: no line with {pats:?} within {timeout:?}: {}",
                        self.tail()
                    ));
                }
            }
        }
    }

    /// Read what is pending (keeps the pipe drained).
    pub fn drain(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
    }

    /// The last log lines, for error messages.
    pub fn tail(&mut self) -> String {
        self.drain();
        let n = self.seen.len().saturating_sub(8);
        self.seen[n..].join("\n  ")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
