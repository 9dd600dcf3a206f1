//! A blocking rtpengine "ng" client (bencode over UDP) on the ALG's own codec: drives both
//! `iq-alg`'s ng front and rtpengine with the same requests.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use iq_alg::ng::bencode::Value;
use iq_alg::ng::wire::{self, Format};

/// One ng peer.
pub struct Ng {
    sock: UdpSocket,
    peer: SocketAddr,
    seq: u64,
}

impl Ng {
    /// A client for the ng port at `peer`.
    pub fn new(peer: SocketAddr) -> Result<Ng, String> {
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("ng bind: {e}"))?;
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .map_err(|e| e.to_string())?;
        Ok(Ng { sock, peer, seq: 0 })
    }

    /// Send `body` and wait for the reply with the same cookie (retrying a few times, as a
    /// SIP proxy does); the reply must say `result: ok`.
    pub fn call(&mut self, body: &Value) -> Result<Value, String> {
        self.seq += 1;
        let cookie = format!("bench{}_{}", std::process::id(), self.seq);
        let msg = wire::encode(cookie.as_bytes(), body, Format::Bencode);
        let mut buf = vec![0u8; 65536];
        for _ in 0..20 {
            self.sock
                .send_to(&msg, self.peer)
                .map_err(|e| format!("ng send: {e}"))?;
            // until the read times out: then resend
            while let Ok(n) = self.sock.recv(&mut buf) {
                let Ok(d) = wire::decode(&buf[..n]) else {
                    continue;
                };
                if d.cookie != cookie.as_bytes() {
                    continue;
                }
                return match d.body.get("result").and_then(Value::as_str) {
                    Some("ok" | "pong") => Ok(d.body),
                    _ => Err(format!("ng {}: {:?}", command_of(body), d.body)),
                };
            }
        }
        Err(format!(
            "ng {}: no reply from {}",
            command_of(body),
            self.peer
        ))
    }

    /// `call` and return the reply's `sdp`.
    pub fn call_sdp(&mut self, body: &Value) -> Result<String, String> {
        let r = self.call(body)?;
        r.get("sdp")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("ng {}: no sdp in {r:?}", command_of(body)))
    }
}

fn command_of(body: &Value) -> String {
    body.get("command")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

/// A dictionary of text values, plus lists of flags under their keys.
pub fn req(pairs: &[(&str, &str)], lists: &[(&str, &[&str])]) -> Value {
    let mut v: Vec<(&str, Value)> = pairs.iter().map(|(k, s)| (*k, Value::str(s))).collect();
    for (k, items) in lists {
        v.push((*k, Value::List(items.iter().map(Value::str).collect())));
    }
    Value::dict(v)
}
