//! A minimal rtpengine "ng" client for the tests (its own bencode, independent of the ALG's).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// A bencode value.
#[derive(Debug, Clone, PartialEq)]
pub enum B {
    I(i64),
    S(Vec<u8>),
    L(Vec<B>),
    D(BTreeMap<Vec<u8>, B>),
}

impl B {
    pub fn s(v: &str) -> B {
        B::S(v.as_bytes().to_vec())
    }
    pub fn d(pairs: &[(&str, B)]) -> B {
        B::D(
            pairs
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.clone()))
                .collect(),
        )
    }
    pub fn get(&self, k: &str) -> Option<&B> {
        match self {
            B::D(m) => m.get(k.as_bytes()),
            _ => None,
        }
    }
    pub fn str(&self) -> Option<String> {
        match self {
            B::S(s) => Some(String::from_utf8_lossy(s).into_owned()),
            _ => None,
        }
    }
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            B::I(i) => out.extend_from_slice(format!("i{i}e").as_bytes()),
            B::S(s) => {
                out.extend_from_slice(format!("{}:", s.len()).as_bytes());
                out.extend_from_slice(s);
            }
            B::L(l) => {
                out.push(b'l');
                l.iter().for_each(|v| v.encode(out));
                out.push(b'e');
            }
            B::D(m) => {
                out.push(b'd');
                for (k, v) in m {
                    B::S(k.clone()).encode(out);
                    v.encode(out);
                }
                out.push(b'e');
            }
        }
    }
    pub fn decode(b: &[u8]) -> Option<(B, usize)> {
        match *b.first()? {
            b'i' => {
                let e = b.iter().position(|&c| c == b'e')?;
                Some((
                    B::I(std::str::from_utf8(&b[1..e]).ok()?.parse().ok()?),
                    e + 1,
                ))
            }
            b'l' | b'd' => {
                let mut i = 1;
                let mut items = Vec::new();
                while *b.get(i)? != b'e' {
                    let (v, n) = B::decode(&b[i..])?;
                    items.push(v);
                    i += n;
                }
                if b[0] == b'l' {
                    return Some((B::L(items), i + 1));
                }
                let mut m = BTreeMap::new();
                let mut it = items.into_iter();
                while let (Some(B::S(k)), Some(v)) = (it.next(), it.next()) {
                    m.insert(k, v);
                }
                Some((B::D(m), i + 1))
            }
            b'0'..=b'9' => {
                let c = b.iter().position(|&c| c == b':')?;
                let n: usize = std::str::from_utf8(&b[..c]).ok()?.parse().ok()?;
                Some((B::S(b.get(c + 1..c + 1 + n)?.to_vec()), c + 1 + n))
            }
            _ => None,
        }
    }
}

/// An ng client on its own UDP socket.
pub struct Ng {
    sock: UdpSocket,
    to: SocketAddr,
    n: u32,
}

impl Ng {
    pub fn new(to: SocketAddr) -> Ng {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        Ng { sock, to, n: 0 }
    }

    /// Send `dict` and wait for the reply with the same cookie.
    pub fn call(&mut self, dict: B) -> B {
        self.n += 1;
        let cookie = format!("t{}_{}", std::process::id(), self.n);
        let mut msg = format!("{cookie} ").into_bytes();
        dict.encode(&mut msg);
        self.sock.send_to(&msg, self.to).unwrap();
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, _) = self.sock.recv_from(&mut buf).expect("ng reply within 15 s");
            let r = &buf[..n];
            let Some(sp) = r.iter().position(|&c| c == b' ') else {
                continue;
            };
            if &r[..sp] != cookie.as_bytes() {
                continue;
            }
            let (v, _) = B::decode(&r[sp + 1..]).expect("bencoded reply");
            return v;
        }
    }
}
