//! Source-address allow-lists (CIDR prefixes) and a rate-limited log of what they drop.
//!
//! A listener with an [`AllowList`] (see [`TransportConfig::allow`](super::TransportConfig))
//! never hands a stranger's association to the application: a TCP connection or SCTP
//! association from an address outside the list is closed as soon as it is accepted, a UDP
//! datagram from one is dropped before any state is created for its sender. The daemons use
//! the same type for their other sockets (the IMS-ALG's ng front).
//!
//! ```
//! use iq_link::transport::{AllowList, IpNet};
//! let allow: AllowList = "10.0.0.0/8, ::1".parse().unwrap();
//! assert!(allow.allows("10.1.2.3".parse().unwrap()));
//! assert!(allow.allows("::1".parse().unwrap()));
//! assert!(!allow.allows("192.0.2.1".parse().unwrap()));
//! assert_eq!("192.0.2.1".parse::<IpNet>().unwrap().prefix(), 32);
//! ```

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::time::{Duration, Instant};

use thiserror::Error;

/// An IP prefix: an address and how many of its leading bits count (`192.0.2.0/24`,
/// `2001:db8::/32`; a bare address is a host prefix, /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a prefix did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IpNetError {
    /// The address part is not an IP address.
    #[error("{0:?} is not an IP address")]
    Address(String),
    /// The prefix length is not a number within the family's bits.
    #[error("prefix length {len:?} is not 0..={max}")]
    Prefix {
        /// The text after `/`.
        len: String,
        /// 32 or 128.
        max: u8,
    },
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what a dual-stack socket reports) are
/// compared as the IPv4 address they carry.
fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => a,
        },
        v4 => v4,
    }
}

impl IpNet {
    /// `addr/prefix`; `None` when `prefix` exceeds the family's bits.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// The prefix holding only `addr`.
    pub fn host(addr: IpAddr) -> IpNet {
        let addr = canonical(addr);
        IpNet {
            addr,
            prefix: if addr.is_ipv4() { 32 } else { 128 },
        }
    }

    /// The address as written.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `a` is inside the prefix (same family, same leading bits).
    pub fn contains(&self, a: IpAddr) -> bool {
        match (self.addr, canonical(a)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = IpNetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| IpNetError::Address(a.to_string()))?;
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| IpNetError::Prefix {
                    len: p.to_string(),
                    max,
                })?,
        };
        Ok(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Source prefixes allowed to talk to a socket. An empty list allows nobody.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowList {
    nets: Vec<IpNet>,
}

impl AllowList {
    /// Exactly these prefixes.
    pub fn new(nets: Vec<IpNet>) -> Self {
        AllowList { nets }
    }

    /// Loopback only: `127.0.0.0/8` and `::1/128`.
    pub fn loopback() -> Self {
        AllowList {
            nets: vec![
                IpNet {
                    addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
                    prefix: 8,
                },
                IpNet::host(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            ],
        }
    }

    /// Parse each of `items` as a prefix.
    pub fn parse_all<S: AsRef<str>>(items: &[S]) -> Result<Self, IpNetError> {
        items
            .iter()
            .map(|s| s.as_ref().parse())
            .collect::<Result<Vec<IpNet>, _>>()
            .map(AllowList::new)
    }

    /// Whether `a` is inside one of the prefixes.
    pub fn allows(&self, a: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(a))
    }

    /// The prefixes.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }
}

impl FromStr for AllowList {
    type Err = IpNetError;

    /// Comma- or white-space-separated prefixes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let items: Vec<&str> = s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|x| !x.is_empty())
            .collect();
        AllowList::parse_all(&items)
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.nets.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

/// Rate limit for logging dropped input: the first drop from a source is logged, then at most
/// one line per source per `interval` (saying how many were dropped since), and at most
/// `max_sources` sources are remembered (the oldest entry is forgotten first), so a flood from
/// many spoofed addresses costs bounded memory and bounded log volume.
#[derive(Debug)]
pub struct DropLog {
    interval: Duration,
    max_sources: usize,
    seen: HashMap<IpAddr, (Instant, u64)>,
}

impl DropLog {
    /// One line per source per `interval`; remember at most `max_sources` sources.
    pub fn new(interval: Duration, max_sources: usize) -> Self {
        DropLog {
            interval,
            max_sources: max_sources.max(1),
            seen: HashMap::new(),
        }
    }

    /// Count one drop from `from` at `now`. `Some(n)` means "log now": `n` drops from it
    /// (this one included) since the last line.
    pub fn note(&mut self, now: Instant, from: IpAddr) -> Option<u64> {
        if let Some((last, n)) = self.seen.get_mut(&from) {
            *n += 1;
            if now.saturating_duration_since(*last) >= self.interval {
                let count = *n;
                *last = now;
                *n = 0;
                return Some(count);
            }
            return None;
        }
        if self.seen.len() >= self.max_sources {
            let oldest = self
                .seen
                .iter()
                .min_by_key(|(_, (t, _))| *t)
                .map(|(a, _)| *a);
            if let Some(a) = oldest {
                self.seen.remove(&a);
            }
        }
        self.seen.insert(from, (now, 0));
        Some(1)
    }

    /// Sources remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no source is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

impl Default for DropLog {
    /// One line per source per minute, 1024 sources.
    fn default() -> Self {
        DropLog::new(Duration::from_secs(60), 1024)
    }
}

/// A listener's check of [`TransportConfig::allow`](super::TransportConfig): admits allowed
/// sources, logs the others (rate-limited).
#[derive(Debug)]
pub(crate) struct Gate {
    allow: Option<AllowList>,
    log: std::sync::Mutex<DropLog>,
    what: super::TransportKind,
}

impl Gate {
    pub(crate) fn new(allow: Option<AllowList>, what: super::TransportKind) -> Self {
        Gate {
            allow,
            log: std::sync::Mutex::new(DropLog::default()),
            what,
        }
    }

    /// Whether `peer` may talk to the listener; a refusal is logged.
    pub(crate) fn admit(&self, peer: std::net::SocketAddr) -> bool {
        let Some(allow) = &self.allow else {
            return true;
        };
        if allow.allows(peer.ip()) {
            return true;
        }
        let n = match self.log.lock() {
            Ok(mut l) => l.note(Instant::now(), peer.ip()),
            Err(_) => None,
        };
        if let Some(n) = n {
            tracing::warn!(
                %peer,
                transport = %self.what,
                dropped = n,
                "H.248 peer not in the allow-list: dropped"
            );
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes() {
        let n: IpNet = "192.0.2.0/24".parse().unwrap();
        assert!(n.contains(ip("192.0.2.255")));
        assert!(n.contains(ip("192.0.2.0")));
        assert!(!n.contains(ip("192.0.3.0")));
        assert!(!n.contains(ip("2001:db8::1")));
        // IPv4-mapped IPv6 is the IPv4 address.
        assert!(n.contains(ip("::ffff:192.0.2.7")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        let h: IpNet = "10.1.2.3".parse().unwrap();
        assert_eq!(h.prefix(), 32);
        assert!(h.contains(ip("10.1.2.3")));
        assert!(!h.contains(ip("10.1.2.4")));
        let v6: IpNet = "2001:db8::/33".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:7fff::1")));
        assert!(!v6.contains(ip("2001:db8:8000::1")));
        assert!(!v6.contains(ip("192.0.2.1")));
        assert_eq!(v6.to_string(), "2001:db8::/33");
        // A non-zero host part is fine: the prefix bits decide.
        assert!("10.9.9.9/8"
            .parse::<IpNet>()
            .unwrap()
            .contains(ip("10.0.0.1")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "x/8",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
        assert_eq!(IpNet::new(ip("10.0.0.0"), 33), None);
    }

    #[test]
    fn lists() {
        let l = AllowList::loopback();
        assert!(l.allows(ip("127.0.0.1")));
        assert!(l.allows(ip("127.9.9.9")));
        assert!(l.allows(ip("::1")));
        assert!(!l.allows(ip("10.0.0.1")));
        assert!(!l.allows(ip("::2")));
        assert!(!AllowList::default().allows(ip("127.0.0.1")));
        let l: AllowList = "127.0.0.1/32, 10.0.0.0/8 2001:db8::/32".parse().unwrap();
        assert_eq!(l.nets().len(), 3);
        assert!(!l.allows(ip("127.0.0.2")));
        assert!(l.allows(ip("10.200.0.1")));
        assert!(AllowList::parse_all(&["10.0.0.0/8", "nope"]).is_err());
    }

    #[test]
    fn drop_log_is_rate_limited_and_bounded() {
        let t = Instant::now();
        let mut d = DropLog::new(Duration::from_secs(10), 2);
        let (a, b, c) = (ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3"));
        assert_eq!(d.note(t, a), Some(1));
        for _ in 0..100 {
            assert_eq!(d.note(t + Duration::from_secs(1), a), None);
        }
        // After the interval: one line counting the drops since the last one.
        assert_eq!(d.note(t + Duration::from_secs(11), a), Some(101));
        assert_eq!(d.note(t + Duration::from_secs(12), b), Some(1));
        assert_eq!(d.note(t + Duration::from_secs(13), c), Some(1));
        assert_eq!(d.len(), 2, "at most max_sources remembered");
        // a was the oldest: forgotten, so it is logged again at once.
        assert_eq!(d.note(t + Duration::from_secs(13), a), Some(1));
    }
}
