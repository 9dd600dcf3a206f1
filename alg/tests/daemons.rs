//! End-to-end tests with real processes: `iq-alg` and `iq-agw` on loopback, ephemeral ports.
//!
//! The `iq-agw` binary is the sibling of `iq-alg` in the target directory; it is built with
//! `cargo build -p iq-agw` first if missing (a test of one package only gets its own
//! binaries).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Once;
use std::time::{Duration, Instant};

const ALG: &str = env!("CARGO_BIN_EXE_iq-alg");

fn agw_bin() -> PathBuf {
    static BUILD: Once = Once::new();
    let path = PathBuf::from(ALG).with_file_name(format!("iq-agw{}", std::env::consts::EXE_SUFFIX));
    BUILD.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "iq-agw"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build -p iq-agw failed");
    });
    assert!(path.exists(), "{} missing", path.display());
    path
}

/// A running daemon whose stdout lines are collected.
struct Proc {
    name: &'static str,
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    _dir: TempDir,
}

struct TempDir(PathBuf);

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
    fn spawn(name: &'static str, bin: &std::path::Path, config: &str, extra: &[&str]) -> Proc {
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
    fn wait_for(&mut self, pats: &[&str], timeout: Duration) -> String {
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

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
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

fn alg_config(transport: &str, listen: &str, encoding: &str, agw_mid: &str) -> String {
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

fn agw_config(transport: &str, controller: SocketAddr, encoding: &str, mid: &str) -> String {
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
fn start_alg(transport: &str, listen: &str, encoding: &str, extra: &[&str]) -> (Proc, SocketAddr) {
    let mut alg = Proc::spawn(
        "alg",
        std::path::Path::new(ALG),
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

fn register(transport: &str, encoding: &str) {
    let (mut alg, addr) = start_alg(transport, "127.0.0.1:0", encoding, &["--probe"]);
    let mut agw = Proc::spawn(
        "agw",
        &agw_bin(),
        &agw_config(transport, addr, encoding, "<agw1.example.net>"),
        &[],
    );
    let t = Duration::from_secs(5);
    alg.wait_for(
        &["registration accepted", "<agw1.example.net>", "Restart"],
        t,
    );
    agw.wait_for(&["iq_agw: registered", "Restart", "version=3"], t);
    // The probe: AuditValue ROOT with Packages, answered by the AGW's application.
    agw.wait_for(&["request answered", "AuditValue"], t);
    alg.wait_for(&["probe reply: ok", "Packages"], t);
    // Clean shutdown: ServiceChange Forced reaches the ALG, exit status 0.
    agw.terminate();
    alg.wait_for(&["MG service change", "Forced"], t);
    assert_eq!(agw.wait_exit(t), Some(0));
    alg.terminate();
    assert_eq!(alg.wait_exit(t), Some(0));
}

#[test]
fn tcp_text_registration() {
    register("tcp", "text");
}

#[test]
fn udp_text_registration() {
    register("udp", "text");
}

#[test]
fn tcp_binary_registration() {
    register("tcp", "binary");
}

#[test]
fn udp_binary_registration() {
    register("udp", "binary");
}

#[test]
fn agw_reregisters_after_alg_restart() {
    let (mut alg, addr) = start_alg("tcp", "127.0.0.1:0", "text", &[]);
    let mut agw = Proc::spawn(
        "agw",
        &agw_bin(),
        &agw_config("tcp", addr, "text", "<agw1.example.net>"),
        &[],
    );
    let t = Duration::from_secs(5);
    alg.wait_for(&["registration accepted", "Restart"], t);
    agw.wait_for(&["iq_agw: registered", "Restart"], t);

    alg.kill();
    agw.wait_for(&["association lost"], t);
    let restarted = Instant::now();
    let (mut alg, addr2) = start_alg("tcp", &addr.to_string(), "text", &[]);
    assert_eq!(addr, addr2);
    // Backoff is 300 ms doubling up to 1 s: re-registration well within 3 s of the restart.
    let line = agw.wait_for(&["iq_agw: registered"], Duration::from_secs(3));
    assert!(
        line.contains("Disconnected") || line.contains("Restart"),
        "method: {line}"
    );
    assert!(restarted.elapsed() < Duration::from_secs(3));
    alg.wait_for(&["registration accepted", "Disconnected"], t);
}

#[test]
fn unconfigured_mid_is_refused_with_504() {
    let (mut alg, addr) = start_alg("tcp", "127.0.0.1:0", "binary", &[]);
    let mut agw = Proc::spawn(
        "agw",
        &agw_bin(),
        &agw_config("tcp", addr, "binary", "<rogue.example.net>"),
        &["--exit-on-refusal"],
    );
    let t = Duration::from_secs(5);
    alg.wait_for(
        &["registration refused", "code=504", "<rogue.example.net>"],
        t,
    );
    agw.wait_for(&["registration refused", "code=504"], t);
    assert_eq!(agw.wait_exit(t), Some(3));
}

/// Erlang/OTP megaco's MG (interop/peers/megaco) registers with `iq-alg` over TCP.
/// Needs `escript` (Erlang): fails under CI without it, says SKIPPED loudly elsewhere.
#[test]
fn megaco_mg_registers_with_alg() {
    if Command::new("escript").arg("-h").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "escript (Erlang) is not installed; the test command installs it"
        );
        eprintln!("\n*** SKIPPED megaco_mg_registers_with_alg: escript not installed. This test did NOT run. ***\n");
        return;
    }
    let mut alg = Proc::spawn(
        "alg",
        std::path::Path::new(ALG),
        &alg_config("tcp", "127.0.0.1:0", "text", "<megaco-mg.example.net>"),
        &["--probe"],
    );
    let line = alg.wait_for(&["listening on"], Duration::from_secs(5));
    let addr = line.rsplit("listening on ").next().unwrap();
    let addr = addr.split_whitespace().next().unwrap().to_string();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop/peers/megaco/megaco_mg.escript");
    let mut mg = Command::new("escript")
        .arg(&script)
        .args(["--mgc", &addr, "--transport", "tcp", "--encoding", "text"])
        .args(["--mid", "<megaco-mg.example.net>", "--exit-after", "4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("escript runs");
    let t = Duration::from_secs(10);
    alg.wait_for(
        &[
            "registration accepted",
            "<megaco-mg.example.net>",
            "Restart",
        ],
        t,
    );
    alg.wait_for(&["probe reply"], t);
    let _ = mg.kill();
    let out = mg.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(text.contains("ServiceChange"), "{text}");
}
