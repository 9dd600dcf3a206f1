//! The lab's SIP proxy side: an rtpengine "ng" client (the ALG's own codec, `iq_alg::ng`).

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use iq_alg::ng::bencode::Value;
use iq_alg::ng::wire::{self, Format};

/// An ng client.
pub struct Ng {
    sock: UdpSocket,
    to: SocketAddr,
    n: u32,
    /// Every request and reply, for `--verbose`.
    pub transcript: Vec<String>,
}

impl Ng {
    /// Talk to the ALG's ng front at `to` from `local`'s address.
    pub fn new(local: std::net::IpAddr, to: SocketAddr) -> Result<Ng, String> {
        let sock = UdpSocket::bind((local, 0)).map_err(|e| format!("ng client socket: {e}"))?;
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .map_err(|e| e.to_string())?;
        Ok(Ng {
            sock,
            to,
            n: 0,
            transcript: Vec::new(),
        })
    }

    /// Send a request, retransmitting (same cookie) until the reply comes or 20 s pass.
    pub fn call(&mut self, pairs: Vec<(&str, Value)>) -> Result<Value, String> {
        self.n += 1;
        let cookie = format!("lab{}_{}", std::process::id(), self.n);
        let body = Value::dict(pairs);
        let msg = wire::encode(cookie.as_bytes(), &body, Format::Bencode);
        self.transcript
            .push(format!("SIP proxy -> ALG ng {cookie} {body:?}"));
        let mut buf = vec![0u8; 65_536];
        for _ in 0..40 {
            self.sock
                .send_to(&msg, self.to)
                .map_err(|e| format!("ng send to {}: {e}", self.to))?;
            while let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                let Ok(d) = wire::decode(&buf[..n]) else {
                    continue;
                };
                if d.cookie == cookie.as_bytes() {
                    self.transcript
                        .push(format!("ALG ng -> SIP proxy {cookie} {:?}", d.body));
                    return Ok(d.body);
                }
            }
        }
        Err(format!(
            "no ng reply from the ALG at {} within 20 s",
            self.to
        ))
    }
}

/// A byte-string value.
pub fn s(v: &str) -> Value {
    Value::str(v)
}

/// `result` of a reply.
pub fn result(r: &Value) -> String {
    r.get("result")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// The SDP of an `ok` reply, or the error.
pub fn ok_sdp(r: &Value) -> Result<String, String> {
    if result(r) != "ok" {
        return Err(format!(
            "ng result {:?}: {}",
            result(r),
            r.get("error-reason")
                .and_then(Value::as_str)
                .unwrap_or("(no reason)")
        ));
    }
    r.get("sdp")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| "ng reply without sdp".into())
}
