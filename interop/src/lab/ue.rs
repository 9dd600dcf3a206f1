//! The UE: a child process speaking the JSON-lines UE agent protocol of
//! `interop/peers/webrtc/ue.py` (builtin `iq-interop agent ue`, or aiortc's `ue.py`), or the
//! OpenSSL+libsrtp `dtls_ue.py`, which has no SDP of its own (the lab writes its SDP from the
//! fingerprint and port it announces) and no ICE.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use super::media::{CoreResult, Rtp};
use super::sdp;

/// Which UE implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UeKind {
    /// `iq-interop agent ue` (this tool's own ICE + DTLS + SRTP endpoint).
    Builtin,
    /// aiortc (`interop/peers/webrtc/ue.py`).
    Aiortc,
    /// OpenSSL + libsrtp (`interop/peers/webrtc/dtls_ue.py`), no ICE.
    Openssl,
}

impl UeKind {
    /// Name for the ladder.
    pub fn label(self) -> &'static str {
        match self {
            UeKind::Builtin => "builtin (iq-interop agent ue)",
            UeKind::Aiortc => "aiortc (ue.py)",
            UeKind::Openssl => "OpenSSL+libsrtp (dtls_ue.py)",
        }
    }
}

/// The Python interpreter for the peers: `$IQ_ORACLE_PYTHON`, else the workspace's oracle venv,
/// else `python3`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("IQ_ORACLE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/oracle/venv/bin/python");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("python3")
}

/// Where the Python peers are: `$IQ_PEERS_DIR`, else this crate's `peers/webrtc`.
pub fn peers_dir() -> PathBuf {
    std::env::var_os("IQ_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/webrtc"))
}

/// What the UE reported after the media run.
#[derive(Debug, Default, Clone)]
pub struct UeReport {
    /// DTLS handshake completed (and, for OpenSSL, the AGW's certificate matched the SDP).
    pub dtls_ok: bool,
    /// The UE's DTLS state or error, in its words.
    pub dtls_state: String,
    /// The UE's DTLS role ("client"/"server") when it says.
    pub role: Option<String>,
    /// SRTP protection profile when it says.
    pub profile: Option<String>,
    /// ICE state when it does ICE.
    pub ice_state: Option<String>,
    /// RTP sent (plain, before SRTP).
    pub sent_rtp: Vec<Rtp>,
    /// RTP received (after SRTP).
    pub recv_rtp: Vec<Rtp>,
    /// RTCP compound packets sent.
    pub sent_rtcp: u64,
    /// RTCP compound packets received.
    pub recv_rtcp: u64,
}

fn rtp_list(v: &Value) -> Vec<Rtp> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        u32::try_from(p.get(0)?.as_u64()?).ok()?,
                        u16::try_from(p.get(1)?.as_u64()?).ok()?,
                        u8::try_from(p.get(2)?.as_u64()?).ok()?,
                        p.get(3)?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A running UE.
pub struct Ue {
    kind: UeKind,
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    hello: Value,
    /// The SDP the UE got from the far end (OpenSSL UE: the lab plays its SDP logic).
    remote: Option<String>,
    /// Every line exchanged, for `--verbose`.
    pub transcript: Vec<String>,
    ip: std::net::IpAddr,
}

const TIMEOUT: Duration = Duration::from_secs(30);

impl Ue {
    /// Start our core agent (`iq-interop agent core`, plain RTP/AVP) as a process: the core
    /// peer of the namespace deployment, where the core network is a namespace of its own.
    pub fn start_core(
        self_exe: &std::path::Path,
        wrap: &[String],
        ip: std::net::IpAddr,
    ) -> Result<Ue, String> {
        let args = vec![
            "agent".to_string(),
            "core".into(),
            "--bind".into(),
            ip.to_string(),
        ];
        Self::spawn(UeKind::Builtin, self_exe.to_path_buf(), args, wrap, ip)
            .map_err(|e| e.replace("the UE", "the core agent"))
    }

    /// Start the UE (`wrap` prefixes the command, e.g. `ip netns exec NS`).
    pub fn start(
        kind: UeKind,
        self_exe: &std::path::Path,
        wrap: &[String],
        ip: std::net::IpAddr,
    ) -> Result<Ue, String> {
        let (prog, args): (PathBuf, Vec<String>) = match kind {
            UeKind::Builtin => (
                self_exe.to_path_buf(),
                vec!["agent".into(), "ue".into(), "--bind".into(), ip.to_string()],
            ),
            UeKind::Aiortc => (
                python(),
                vec![peers_dir().join("ue.py").display().to_string()],
            ),
            UeKind::Openssl => (
                python(),
                vec![peers_dir().join("dtls_ue.py").display().to_string()],
            ),
        };
        Self::spawn(kind, prog, args, wrap, ip)
    }

    fn spawn(
        kind: UeKind,
        prog: PathBuf,
        args: Vec<String>,
        wrap: &[String],
        ip: std::net::IpAddr,
    ) -> Result<Ue, String> {
        let mut cmd = if let Some((first, rest)) = wrap.split_first() {
            let mut c = Command::new(first);
            c.args(rest).arg(&prog);
            c
        } else {
            Command::new(&prog)
        };
        cmd.args(&args)
            .env("IQ_UE_ADDRESS", ip.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the UE ({}): {e}", prog.display()))?;
        let stdin = child.stdin.take().ok_or("UE stdin")?;
        let stdout = child.stdout.take().ok_or("UE stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut ue = Ue {
            kind,
            child,
            stdin,
            lines: rx,
            hello: Value::Null,
            remote: None,
            transcript: Vec::new(),
            ip,
        };
        if kind == UeKind::Openssl {
            ue.hello = ue.read(TIMEOUT)?;
        }
        Ok(ue)
    }

    fn send(&mut self, v: Value) -> Result<(), String> {
        let s = v.to_string();
        self.transcript.push(format!("lab -> UE {s}"));
        writeln!(self.stdin, "{s}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| format!("UE gone: {e}"))
    }

    fn read(&mut self, timeout: Duration) -> Result<Value, String> {
        let line = self.lines.recv_timeout(timeout).map_err(|_| {
            let status = self
                .child
                .try_wait()
                .ok()
                .flatten()
                .map(|s| format!(" (exited: {s})"))
                .unwrap_or_default();
            format!("no answer from the UE within {timeout:?}{status}")
        })?;
        self.transcript.push(format!("UE -> lab {line}"));
        let v: Value = serde_json::from_str(&line).map_err(|e| format!("UE said {line:?}: {e}"))?;
        if let Some(e) = v.get("error") {
            return Err(format!("UE error: {e}"));
        }
        Ok(v)
    }

    fn call(&mut self, v: Value) -> Result<Value, String> {
        self.send(v)?;
        self.read(TIMEOUT)
    }

    /// The OpenSSL UE's SDP (no ICE): its address, fingerprint and the given setup.
    fn openssl_sdp(&self, setup: &str) -> Result<String, String> {
        let fp = self.hello["fingerprint"]
            .as_str()
            .ok_or("UE hello without fingerprint")?;
        let port = self.hello["port"].as_u64().ok_or("UE hello without port")?;
        let ip = self.ip;
        Ok(format!(
            "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nt=0 0\r\nc=IN IP4 {ip}\r\n\
             m=audio {port} UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n\
             a=fingerprint:{fp}\r\na=setup:{setup}\r\na=tls-id:ue0123456789abcdefghij\r\n"
        ))
    }

    /// Our offer.
    pub fn offer(&mut self) -> Result<String, String> {
        if self.kind == UeKind::Openssl {
            return self.openssl_sdp("actpass");
        }
        let r = self.call(json!({"cmd": "offer"}))?;
        r["sdp"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("offer reply without sdp: {r}"))
    }

    /// Apply the far end's answer.
    pub fn answer(&mut self, sdp: &str) -> Result<(), String> {
        self.remote = Some(sdp.to_string());
        if self.kind == UeKind::Openssl {
            return Ok(());
        }
        self.call(json!({"cmd": "answer", "sdp": sdp})).map(|_| ())
    }

    /// Answer the far end's offer.
    pub fn accept(&mut self, sdp: &str) -> Result<String, String> {
        self.remote = Some(sdp.to_string());
        if self.kind == UeKind::Openssl {
            // RFC 5763: the answerer to actpass is active (DTLS client)
            let setup = match sdp::setup(sdp) {
                Some("active") => "passive",
                _ => "active",
            };
            return self.openssl_sdp(setup);
        }
        let r = self.call(json!({"cmd": "accept", "sdp": sdp}))?;
        r["sdp"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("accept reply without sdp: {r}"))
    }

    /// Send audio for `seconds`, then report.
    pub fn run(&mut self, seconds: f64, our_role: &str) -> Result<UeReport, String> {
        let v = if self.kind == UeKind::Openssl {
            let remote = self.remote.clone().unwrap_or_default();
            let addr = sdp::media_addr(&remote).ok_or("no media address in the SDP for the UE")?;
            let fp = sdp::fingerprint(&remote).ok_or("no fingerprint in the SDP for the UE")?;
            let packets = (seconds * 50.0).round() as u64;
            self.send(json!({
                "cmd": "run", "remote": addr.to_string(), "role": our_role,
                "peer_fingerprint": fp, "seconds": seconds + 0.6, "packets": packets,
                "handshake_seconds": 10,
            }))?;
            self.read(Duration::from_secs_f64(seconds + 40.0))?
        } else {
            self.send(json!({"cmd": "run", "seconds": seconds}))?;
            self.read(Duration::from_secs_f64(seconds + 40.0))?
        };
        let r = &v["report"];
        let mut rep = UeReport {
            sent_rtp: rtp_list(&r["sent_rtp"]),
            recv_rtp: rtp_list(&r["recv_rtp"]),
            sent_rtcp: r["sent_rtcp"].as_u64().unwrap_or(0),
            recv_rtcp: r["recv_rtcp"].as_u64().unwrap_or(0),
            profile: r["profile"].as_str().map(String::from),
            ice_state: r["ice_state"].as_str().map(String::from),
            ..UeReport::default()
        };
        if self.kind == UeKind::Openssl {
            rep.dtls_state = r["handshake"].as_str().unwrap_or("?").to_string();
            rep.dtls_ok = rep.dtls_state == "ok";
            rep.role = Some(our_role.to_string());
        } else {
            rep.dtls_state = r["dtls_state"].as_str().unwrap_or("?").to_string();
            rep.dtls_ok = rep.dtls_state == "connected";
            rep.role = r["dtls_role"].as_str().map(String::from);
        }
        Ok(rep)
    }

    /// The core agent: start a run of `seconds` (the report is read by [`Ue::core_report`]).
    pub fn start_run(&mut self, seconds: f64) -> Result<(), String> {
        self.send(json!({"cmd": "run", "seconds": seconds}))
    }

    /// The core agent: the report of the run started by [`Ue::start_run`].
    pub fn core_report(&mut self, seconds: f64) -> Result<CoreResult, String> {
        let v = self.read(Duration::from_secs_f64(seconds + 40.0))?;
        let r = &v["report"];
        let count = |k: &str| usize::try_from(r[k].as_u64().unwrap_or(0)).unwrap_or(usize::MAX);
        Ok(CoreResult {
            sent: rtp_list(&r["sent_rtp"]),
            received: rtp_list(&r["recv_rtp"]),
            rtcp_sent: count("sent_rtcp"),
            rtcp_received: count("recv_rtcp"),
        })
    }

    /// Close the UE and reap it.
    pub fn close(mut self) {
        let _ = self.send(json!({"cmd": "close"}));
        let _ = self.lines.recv_timeout(Duration::from_secs(2));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Ue {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
