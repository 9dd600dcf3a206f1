//! The rtpengine-compatible "ng" control protocol, so that a SIP proxy (Kamailio's `rtpengine`
//! module, OpenSIPS's) can drive the IMS-ALG as if it were rtpengine.
//!
//! A UDP datagram is `<cookie> <dictionary>`; the reply is the same cookie, a space and the
//! reply dictionary. The dictionary is bencoded ([`bencode`]) or JSON ([`wire`]). Requests are
//! read into typed structures ([`request`]), replies built by [`reply`]. [`side`] decides which
//! side (access/WebRTC or core) an offer comes from. Retransmitted requests (same cookie) are
//! answered from [`ReplyCache`].

pub mod bencode;
pub mod reply;
pub mod request;
pub mod side;
pub mod stats;
pub mod wire;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Cached replies by (peer, cookie), so that a retransmitted request gets the same answer
/// without being executed twice; and requests in progress, so that a retransmission of a
/// request still being worked on is dropped (the reply will come).
#[derive(Debug)]
pub struct ReplyCache {
    ttl: Duration,
    max: usize,
    done: HashMap<(SocketAddr, Vec<u8>), (Instant, Vec<u8>)>,
    order: VecDeque<(Instant, (SocketAddr, Vec<u8>))>,
    pending: HashMap<(SocketAddr, Vec<u8>), Instant>,
}

/// What to do with an incoming request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Seen {
    /// New: execute it.
    New,
    /// Already answered: send this again.
    Answered(Vec<u8>),
    /// Still being worked on: drop it.
    InProgress,
}

impl ReplyCache {
    /// Keep replies for `ttl`, at most `max` of them.
    pub fn new(ttl: Duration, max: usize) -> Self {
        ReplyCache {
            ttl,
            max,
            done: HashMap::new(),
            order: VecDeque::new(),
            pending: HashMap::new(),
        }
    }

    /// Look a request up; a new one is marked in progress.
    pub fn check(&mut self, now: Instant, peer: SocketAddr, cookie: &[u8]) -> Seen {
        self.expire(now);
        let key = (peer, cookie.to_vec());
        if let Some((_, r)) = self.done.get(&key) {
            return Seen::Answered(r.clone());
        }
        if self.pending.contains_key(&key) {
            return Seen::InProgress;
        }
        self.pending.insert(key, now);
        Seen::New
    }

    /// Remember the reply sent for a request.
    pub fn answered(&mut self, now: Instant, peer: SocketAddr, cookie: &[u8], reply: Vec<u8>) {
        let key = (peer, cookie.to_vec());
        self.pending.remove(&key);
        while self.done.len() >= self.max {
            match self.order.pop_front() {
                Some((_, k)) => {
                    self.done.remove(&k);
                }
                None => break,
            }
        }
        self.done.insert(key.clone(), (now, reply));
        self.order.push_back((now, key));
    }

    fn expire(&mut self, now: Instant) {
        while let Some((t, _)) = self.order.front() {
            if now.saturating_duration_since(*t) < self.ttl {
                break;
            }
            if let Some((t0, k)) = self.order.pop_front() {
                // Only drop the entry if it was not refreshed since.
                if self.done.get(&k).is_some_and(|(t, _)| *t == t0) {
                    self.done.remove(&k);
                }
            }
        }
        let ttl = self.ttl;
        self.pending
            .retain(|_, t| now.saturating_duration_since(*t) < ttl * 4);
    }

    /// Replies held.
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// Whether no reply is held.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmissions() {
        let mut c = ReplyCache::new(Duration::from_secs(30), 2);
        let t = Instant::now();
        let p: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let q: SocketAddr = "127.0.0.1:5001".parse().unwrap();
        assert_eq!(c.check(t, p, b"a"), Seen::New);
        assert_eq!(c.check(t, p, b"a"), Seen::InProgress);
        // Same cookie from another peer is another request.
        assert_eq!(c.check(t, q, b"a"), Seen::New);
        c.answered(t, p, b"a", b"a d6:result4:ponge".to_vec());
        assert_eq!(
            c.check(t, p, b"a"),
            Seen::Answered(b"a d6:result4:ponge".to_vec())
        );
        // Expiry.
        assert_eq!(c.check(t + Duration::from_secs(31), p, b"a"), Seen::New);
        // Bounded.
        c.answered(t, p, b"1", vec![1]);
        c.answered(t, p, b"2", vec![2]);
        c.answered(t, p, b"3", vec![3]);
        assert!(c.len() <= 2);
    }
}
