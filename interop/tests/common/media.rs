//! Media-test helpers: the core peer (plain RTP on a UDP socket), the third-party UEs
//! (`interop/peers/webrtc/dtls_ue.py`: OpenSSL + libsrtp; `ue.py`: aiortc), and reading the
//! AGW's Local SDP out of an H.248 reply.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use iq_codec::model::{ActionReply, CommandReply, ContextId, TransactionResult};
use serde_json::Value;

/// One RTP packet as both sides record it: (ssrc, seq, payload type, payload hex).
pub type Rtp = (u32, u16, u8, String);

/// The pretty text of a reply (for scanning and for failure messages).
pub fn reply_text(result: &TransactionResult) -> String {
    super::mgc::reply_text("<agw>", 1, result.clone())
}

/// What an Add/Modify reply told us about one termination.
#[derive(Debug, Clone)]
pub struct Local {
    pub context: u32,
    pub termination: String,
    pub addr: SocketAddr,
    pub fingerprint: Option<String>,
    pub ice_ufrag: Option<String>,
    pub ice_pwd: Option<String>,
    pub text: String,
}

/// The action replies, panicking with the reply text on a transaction or action error.
pub fn actions(result: &TransactionResult) -> &[ActionReply] {
    match result {
        TransactionResult::Actions(a) => {
            for ar in a {
                assert!(ar.error.is_none(), "action error:\n{}", reply_text(result));
            }
            a
        }
        _ => panic!("transaction error:\n{}", reply_text(result)),
    }
}

/// The error code of a reply (transaction- or action-level), if any.
pub fn error_code(result: &TransactionResult) -> Option<u16> {
    match result {
        TransactionResult::Error(e) => Some(e.code),
        TransactionResult::Actions(a) => a.iter().find_map(|ar| ar.error.as_ref().map(|e| e.code)),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Read the Local SDP of the (single) Add/Modify reply in `result`.
pub fn local(result: &TransactionResult) -> Local {
    let a = &actions(result)[0];
    let context = match a.context {
        ContextId::Id(c) => c,
        ref other => panic!("context {other:?}"),
    };
    let termination = match a.commands.first() {
        Some(CommandReply::Add(r)) | Some(CommandReply::Modify(r)) => {
            r.termination_ids[0].0.clone()
        }
        other => panic!("not an Add/Modify reply: {other:?}"),
    };
    let text = reply_text(result);
    let line = |p: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(p).map(|v| v.trim().to_string()))
    };
    let ip = line("c=IN IP4 ").unwrap_or_else(|| panic!("no c= in\n{text}"));
    let port: u16 = line("m=audio ")
        .and_then(|m| m.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or_else(|| panic!("no m= port in\n{text}"));
    Local {
        context,
        termination: termination.to_string(),
        addr: format!("{ip}:{port}").parse().unwrap(),
        fingerprint: line("a=fingerprint:"),
        ice_ufrag: line("a=ice-ufrag:"),
        ice_pwd: line("a=ice-pwd:"),
        text,
    }
}

/// The core-side peer: plain RTP/RTCP on one UDP socket.
pub struct CorePeer {
    pub sock: UdpSocket,
    pub sent: Vec<Rtp>,
    pub received: Vec<Rtp>,
    pub rtcp_sent: usize,
    pub rtcp_received: usize,
}

fn parse_rtp(b: &[u8]) -> Option<Rtp> {
    if b.len() < 12 || b[0] >> 6 != 2 {
        return None;
    }
    let cc = (b[0] & 0x0f) as usize;
    let mut off = 12 + 4 * cc;
    if b[0] & 0x10 != 0 {
        let len = u16::from_be_bytes([*b.get(off + 2)?, *b.get(off + 3)?]) as usize;
        off += 4 + 4 * len;
    }
    let mut end = b.len();
    if b[0] & 0x20 != 0 {
        end = end.checked_sub(*b.last()? as usize)?;
    }
    let payload = b.get(off..end)?;
    Some((
        u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        u16::from_be_bytes([b[2], b[3]]),
        b[1] & 0x7f,
        payload.iter().map(|x| format!("{x:02x}")).collect(),
    ))
}

impl CorePeer {
    pub fn bind() -> CorePeer {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        CorePeer {
            sock,
            sent: Vec::new(),
            received: Vec::new(),
            rtcp_sent: 0,
            rtcp_received: 0,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// For `duration`: send `packets` RTP packets (PT `pt`, 160 pseudo-random payload bytes, 20 ms
    /// apart, an RTCP SR every 10) to `to` and record everything received. Sending starts when
    /// the first RTP packet from the UE arrives (the access leg has its keys by then, so nothing
    /// is dropped for want of them and the comparison can be exact).
    pub fn run(&mut self, to: SocketAddr, packets: usize, pt: u8, duration: Duration) {
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
                let mut pkt = vec![0x80, pt];
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
                self.sock.send_to(&pkt, to).unwrap();
                self.sent.push((ssrc, seq, pt, payload));
                if self.sent.len() % 10 == 1 {
                    // RTCP SR (no report blocks) + SDES CNAME: a valid compound packet
                    let mut sr = vec![0x80, 200, 0, 6];
                    sr.extend_from_slice(&ssrc.to_be_bytes());
                    sr.extend_from_slice(&[0u8; 20]);
                    sr.extend_from_slice(&[0x81, 202, 0, 3]);
                    sr.extend_from_slice(&ssrc.to_be_bytes());
                    sr.extend_from_slice(&[1, 4, b'c', b'o', b'r', b'e', 0, 0]);
                    self.sock.send_to(&sr, to).unwrap();
                    self.rtcp_sent += 1;
                }
                seq = seq.wrapping_add(1);
                next += Duration::from_millis(20);
            }
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                let b = &buf[..n];
                if n >= 2 && (192..=223).contains(&b[1]) {
                    self.rtcp_received += 1;
                } else if let Some(p) = parse_rtp(b) {
                    self.received.push(p);
                }
            }
        }
    }
}

/// A third-party UE process speaking JSON lines.
pub struct Ue {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    pub hello: Value,
}

impl Ue {
    /// `python script` with the oracle interpreter.
    pub fn start(python: &Path, script: &str, hello: bool) -> Ue {
        let path = super::workspace().join("interop/peers/webrtc").join(script);
        let mut cmd = Command::new(python);
        cmd.arg(path);
        Self::spawn(cmd, hello)
    }

    /// Any process speaking the agent protocol (e.g. `iq-interop agent ue`).
    pub fn spawn(mut cmd: Command, hello: bool) -> Ue {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the UE peer");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut ue = Ue {
            child,
            stdin,
            stdout,
            hello: Value::Null,
        };
        if hello {
            ue.hello = ue.read();
        }
        ue
    }

    /// Send one command.
    pub fn send(&mut self, cmd: Value) {
        writeln!(self.stdin, "{cmd}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Read one reply line.
    pub fn read(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let v: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("UE said {line:?}: {e}"));
        assert!(v.get("error").is_none(), "UE error: {v}");
        v
    }

    /// Send and read.
    pub fn call(&mut self, cmd: Value) -> Value {
        self.send(cmd);
        self.read()
    }
}

impl Drop for Ue {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{{\"cmd\":\"close\"}}");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Assert two packet lists are equal, reporting counts and the first difference (not the lists).
pub fn same_packets(got: &[Rtp], want: &[Rtp], what: &str) {
    if got == want {
        return;
    }
    let first = got.iter().zip(want).position(|(a, b)| a != b);
    let show = |p: Option<&Rtp>| {
        p.map(|p| {
            format!(
                "ssrc={:#x} seq={} pt={} len={}",
                p.0,
                p.1,
                p.2,
                p.3.len() / 2
            )
        })
    };
    panic!(
        "{what}: got {} packets, want {}; first difference at {:?}: got {:?}, want {:?}",
        got.len(),
        want.len(),
        first,
        first.map(|i| show(got.get(i))),
        first.map(|i| show(want.get(i))),
    );
}

/// RTP records from a UE report list.
pub fn rtp_list(v: &Value) -> Vec<Rtp> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_u64().unwrap() as u32,
                        p[1].as_u64().unwrap() as u16,
                        p[2].as_u64().unwrap() as u8,
                        p[3].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
