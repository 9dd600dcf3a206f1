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
///
/// Replies are kept for the TTL unless the cache would hold more than its byte budget; then the
/// oldest go first. The budget is in bytes, not entries, because what a reply must outlive is
/// the client's retransmission span (Kamailio's rtpengine module: 5 retries 1 s apart), and the
/// number of replies inside that span grows with the request rate: a fixed 4,096 entries lasted
/// 1.4 s at 3,000 requests/s, so a late retransmitted offer was executed a second time.
#[derive(Debug)]
pub struct ReplyCache {
    ttl: Duration,
    max_bytes: usize,
    /// What the entries in `done` cost ([`cost`]).
    bytes: usize,
    done: HashMap<Key, (Instant, Vec<u8>)>,
    order: VecDeque<(Instant, Key)>,
    pending: HashMap<Key, Instant>,
}

type Key = (SocketAddr, Vec<u8>);

/// How late past its TTL a reply may go when it is expired by the clock.
pub const EXPIRY_GRAIN: Duration = Duration::from_secs(1);

/// Bytes one cached reply is counted for: cookie and reply, plus the map and queue entries and
/// the tables' spare capacity. An estimate: with 128 per entry and a 32 MiB budget the ALG's RSS
/// peaked at 80 MB under `iq-interop load --concurrency 1000`.
fn cost(key: &Key, reply: &[u8]) -> usize {
    const ENTRY: usize = 256;
    ENTRY + 2 * key.1.len() + reply.len()
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
    /// Keep replies for `ttl`, while they cost at most `max_bytes` together.
    pub fn new(ttl: Duration, max_bytes: usize) -> Self {
        ReplyCache {
            ttl,
            max_bytes,
            bytes: 0,
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
        if let Some((_, old)) = self.done.remove(&key) {
            self.bytes -= cost(&key, &old);
        }
        let c = cost(&key, &reply);
        while self.bytes + c > self.max_bytes && self.pop_oldest().is_some() {}
        self.bytes += c;
        self.done.insert(key.clone(), (now, reply));
        self.order.push_back((now, key));
    }

    /// Drop the oldest queue entry, and its reply if the entry is current; `None` when empty.
    fn pop_oldest(&mut self) -> Option<()> {
        let (t0, k) = self.order.pop_front()?;
        // an entry answered again since has a newer queue entry: keep it
        if self.done.get(&k).is_some_and(|(t, _)| *t == t0) {
            if let Some((_, r)) = self.done.remove(&k) {
                self.bytes -= cost(&k, &r);
            }
        }
        Some(())
    }

    /// When the oldest reply is due to go (rounded up by [`EXPIRY_GRAIN`], so that one wakeup
    /// expires a second's worth): replies must also go when no request comes to trigger it,
    /// or the last 30 s of a burst stay in memory for as long as the front is quiet.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.order
            .front()
            .map(|(t, _)| *t + self.ttl + EXPIRY_GRAIN)
    }

    /// Drop the replies whose time is up ([`poll_timeout`](Self::poll_timeout)).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire(now);
    }

    fn expire(&mut self, now: Instant) {
        while let Some((t, _)) = self.order.front() {
            if now.saturating_duration_since(*t) < self.ttl {
                break;
            }
            self.pop_oldest();
        }
        if self.done.capacity() > 64 && self.done.len() < self.done.capacity() / 8 {
            self.done.shrink_to_fit();
            self.order.shrink_to_fit();
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

    /// What the held replies are counted for, in bytes (at most the budget).
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmissions() {
        let mut c = ReplyCache::new(Duration::from_secs(30), 1 << 20);
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
    }

    /// The budget decides how many replies stay, whatever their number: the oldest go first,
    /// and a retransmission within the budget is still answered from the cache.
    #[test]
    fn bounded_by_bytes_oldest_first() {
        let t = Instant::now();
        let p: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let reply = vec![b'x'; 872];
        let one = cost(&(p, b"00000".to_vec()), &reply);
        assert_eq!(one, 1138);
        let mut c = ReplyCache::new(Duration::from_secs(30), 10 * one);
        for i in 0..25 {
            let cookie = format!("{i:05}");
            assert_eq!(c.check(t, p, cookie.as_bytes()), Seen::New);
            c.answered(t, p, cookie.as_bytes(), reply.clone());
            assert!(c.bytes() <= 10 * one, "over budget: {}", c.bytes());
        }
        assert_eq!(c.len(), 10);
        assert_eq!(c.bytes(), 10 * one);
        // the newest ten are answered from the cache, the older ones are new again
        assert_eq!(c.check(t, p, b"00024"), Seen::Answered(reply.clone()));
        assert_eq!(c.check(t, p, b"00015"), Seen::Answered(reply.clone()));
        assert_eq!(c.check(t, p, b"00014"), Seen::New);
        // answering the same request again replaces its entry, it does not count twice
        c.answered(t, p, b"00024", reply.clone());
        assert_eq!((c.len(), c.bytes()), (10, 10 * one));
    }

    /// Expiry gives the budget back.
    #[test]
    fn expiry_frees_the_budget() {
        let t = Instant::now();
        let p: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut c = ReplyCache::new(Duration::from_secs(5), 1 << 20);
        for i in 0..100 {
            let cookie = format!("c{i}");
            c.check(t, p, cookie.as_bytes());
            c.answered(t, p, cookie.as_bytes(), vec![0; 500]);
        }
        assert_eq!(c.len(), 100);
        assert!(c.bytes() > 100 * 500);
        assert_eq!(c.check(t + Duration::from_secs(6), p, b"new"), Seen::New);
        assert_eq!((c.len(), c.bytes()), (0, 0));
    }

    /// Without requests to trigger it, the clock expires the replies: the cache says when.
    #[test]
    fn the_clock_expires_replies_when_no_request_comes() {
        let t = Instant::now();
        let p: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut c = ReplyCache::new(Duration::from_secs(30), 1 << 20);
        assert_eq!(c.poll_timeout(), None);
        for i in 0..10u64 {
            let at = t + Duration::from_millis(100 * i);
            let cookie = format!("c{i}");
            c.check(at, p, cookie.as_bytes());
            c.answered(at, p, cookie.as_bytes(), vec![0; 100]);
        }
        let due = c.poll_timeout().expect("a deadline");
        assert_eq!(due, t + Duration::from_secs(30) + EXPIRY_GRAIN);
        c.handle_timeout(due);
        // everything answered within the grain after the first is gone at once
        assert_eq!((c.len(), c.bytes(), c.poll_timeout()), (0, 0, None));
    }
}
