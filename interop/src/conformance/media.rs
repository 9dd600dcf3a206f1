//! The media peers of the conformance run: a plain-RTP core peer on a UDP socket and the
//! OpenSSL + libsrtp UE (`interop/peers/webrtc/dtls_ue.py`, JSON lines on stdin/stdout).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use crate::agent::rtp::Rtp;
use crate::agent::rtp::{is_rtcp, parse_rtp};

/// The core-side peer: plain RTP/RTCP on one UDP socket.
pub struct CorePeer {
    sock: UdpSocket,
    /// What it sent.
    pub sent: Vec<Rtp>,
    /// What it received.
    pub received: Vec<Rtp>,
    /// RTCP packets received.
    pub rtcp_received: usize,
}

impl CorePeer {
    /// Bind on `ip`, any port.
    pub fn bind(ip: std::net::IpAddr) -> std::io::Result<CorePeer> {
        let sock = UdpSocket::bind(SocketAddr::new(ip, 0))?;
        sock.set_read_timeout(Some(Duration::from_millis(5)))?;
        Ok(CorePeer {
            sock,
            sent: Vec::new(),
            received: Vec::new(),
            rtcp_received: 0,
        })
    }

    /// The socket's address.
    pub fn addr(&self) -> std::io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// For `duration`: once the first RTP packet from the far side arrived, send `packets`
    /// PCMU packets 20 ms apart (an RTCP SR every 10) to `to`; record everything received.
    pub fn run(&mut self, to: SocketAddr, packets: usize, duration: Duration) {
        let ssrc = 0x5eed_c0de_u32;
        let start = Instant::now();
        let mut next = start;
        let mut seq: u16 = 7000;
        let mut x: u32 = 0x1234_5678;
        let mut buf = [0u8; 2048];
        while start.elapsed() < duration {
            if self.received.is_empty() {
                next = Instant::now();
            }
            if !self.received.is_empty() && self.sent.len() < packets && Instant::now() >= next {
                let mut pkt = vec![0x80, 0];
                pkt.extend_from_slice(&seq.to_be_bytes());
                pkt.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
                pkt.extend_from_slice(&ssrc.to_be_bytes());
                let mut payload = String::new();
                for _ in 0..160 {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    let b = (x & 0xff) as u8;
                    pkt.push(b);
                    payload.push_str(&format!("{b:02x}"));
                }
                let _ = self.sock.send_to(&pkt, to);
                self.sent.push((ssrc, seq, 0, payload));
                if self.sent.len() % 10 == 1 {
                    let mut sr = vec![0x80, 200, 0, 6];
                    sr.extend_from_slice(&ssrc.to_be_bytes());
                    sr.extend_from_slice(&[0u8; 20]);
                    sr.extend_from_slice(&[0x81, 202, 0, 3]);
                    sr.extend_from_slice(&ssrc.to_be_bytes());
                    sr.extend_from_slice(&[1, 4, b'c', b'o', b'r', b'e', 0, 0]);
                    let _ = self.sock.send_to(&sr, to);
                }
                seq = seq.wrapping_add(1);
                next += Duration::from_millis(20);
            }
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                let b = &buf[..n];
                if is_rtcp(b) {
                    self.rtcp_received += 1;
                } else if let Some(p) = parse_rtp(b) {
                    self.received.push(p);
                }
            }
        }
    }
}

/// Where the UE scripts and their Python are.
#[derive(Debug, Clone)]
pub struct UeSetup {
    /// The interpreter with pyOpenSSL + pylibsrtp.
    pub python: PathBuf,
    /// `interop/peers/webrtc`.
    pub peers: PathBuf,
}

impl UeSetup {
    /// Check that the interpreter has what `dtls_ue.py` needs; `Err` says why not.
    pub fn probe(&self) -> Result<(), String> {
        let script = self.peers.join("dtls_ue.py");
        if !script.exists() {
            return Err(format!("no UE script at {}", script.display()));
        }
        let ok = Command::new(&self.python)
            .args(["-c", "import pylibsrtp, OpenSSL"])
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{} lacks pyOpenSSL/pylibsrtp (set IQ_ORACLE_PYTHON or --python)",
                self.python.display()
            ))
        }
    }
}

/// The OpenSSL + libsrtp UE process.
pub struct Ue {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Its certificate fingerprint.
    pub fingerprint: String,
    /// Its UDP port.
    pub port: u16,
}

impl Ue {
    /// Start `dtls_ue.py` and read its hello.
    pub fn start(setup: &UeSetup) -> Result<Ue, String> {
        let mut child = Command::new(&setup.python)
            .arg(Path::new(&setup.peers).join("dtls_ue.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the UE: {e}"))?;
        let stdin = child.stdin.take().ok_or("UE stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("UE stdout")?);
        let mut ue = Ue {
            child,
            stdin,
            stdout,
            fingerprint: String::new(),
            port: 0,
        };
        let hello = ue.read()?;
        ue.fingerprint = hello["fingerprint"]
            .as_str()
            .ok_or("UE hello without fingerprint")?
            .to_string();
        ue.port = hello["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or("UE hello without port")?;
        Ok(ue)
    }

    /// Send one command.
    pub fn send(&mut self, cmd: &Value) -> Result<(), String> {
        writeln!(self.stdin, "{cmd}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| format!("UE gone: {e}"))
    }

    /// Read one reply line.
    pub fn read(&mut self) -> Result<Value, String> {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("UE read: {e}"))?;
        let v: Value = serde_json::from_str(&line).map_err(|e| format!("UE said {line:?}: {e}"))?;
        if let Some(e) = v.get("error") {
            return Err(format!("UE error: {e}"));
        }
        Ok(v)
    }
}

impl Drop for Ue {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{{\"cmd\":\"close\"}}");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// RTP records of a UE report list.
pub fn rtp_list(v: &Value) -> Vec<Rtp> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        u32::try_from(p[0].as_u64()?).ok()?,
                        u16::try_from(p[1].as_u64()?).ok()?,
                        u8::try_from(p[2].as_u64()?).ok()?,
                        p[3].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
