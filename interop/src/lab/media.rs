//! The media side of the lab: the core peer (plain RTP/RTCP, 20 ms audio) and the relay on the
//! access leg, which carries the UE's packets to and from the AGW unchanged, counts them by
//! class (RFC 7983: STUN, DTLS, SRTP, SRTCP), notes who sent the DTLS ClientHello and records
//! them for the pcap.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::iq::Log;
use super::pcap::{Record, Seen};

pub use crate::agent::rtp::{is_rtcp, parse_rtp, Rtp};

fn record(log: &Log, src: SocketAddr, dst: SocketAddr, data: &[u8]) {
    if let Ok(mut l) = log.lock() {
        l.push(Record {
            at: SystemTime::now(),
            what: Seen::Udp {
                src,
                dst,
                data: data.to_vec(),
            },
        });
    }
}

/// Packet counts of one direction of the access leg.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// STUN (ICE checks and answers).
    pub stun: usize,
    /// DTLS records.
    pub dtls: usize,
    /// SRTP.
    pub srtp: usize,
    /// SRTCP.
    pub srtcp: usize,
    /// Anything else.
    pub other: usize,
    /// A DTLS ClientHello went this way.
    pub client_hello: bool,
}

impl Counts {
    fn add(&mut self, b: &[u8]) {
        match b.first() {
            Some(0..=3) => self.stun += 1,
            Some(20..=63) => {
                self.dtls += 1;
                // handshake record (22), first handshake message type ClientHello (1)
                if b[0] == 22 && b.get(13) == Some(&1) {
                    self.client_hello = true;
                }
            }
            Some(128..=191) if is_rtcp(b) => self.srtcp += 1,
            Some(128..=191) => self.srtp += 1,
            _ => self.other += 1,
        }
    }
}

#[derive(Debug, Default)]
struct RelayState {
    ue: Option<SocketAddr>,
    agw: Option<SocketAddr>,
    ue_to_agw: Counts,
    agw_to_ue: Counts,
}

/// The access-leg relay: socket A faces the UE (its address goes into the SDP for the UE),
/// socket B faces the AGW (its address goes into the SDP for the AGW in place of the UE's).
pub struct AccessRelay {
    /// Facing the UE.
    pub a: SocketAddr,
    /// Facing the AGW.
    pub b: SocketAddr,
    state: Arc<Mutex<RelayState>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl AccessRelay {
    /// Bind both sockets on `ip` and start relaying.
    pub fn start(ip: std::net::IpAddr, log: Log) -> std::io::Result<AccessRelay> {
        let sa = UdpSocket::bind((ip, 0))?;
        let sb = UdpSocket::bind((ip, 0))?;
        sa.set_read_timeout(Some(Duration::from_millis(50)))?;
        sb.set_read_timeout(Some(Duration::from_millis(50)))?;
        let (a, b) = (sa.local_addr()?, sb.local_addr()?);
        let state = Arc::new(Mutex::new(RelayState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let sa = Arc::new(sa);
        let sb = Arc::new(sb);
        let mut threads = Vec::new();
        for ue_side in [true, false] {
            let (rx, tx) = if ue_side {
                (sa.clone(), sb.clone())
            } else {
                (sb.clone(), sa.clone())
            };
            let (state, stop, log) = (state.clone(), stop.clone(), log.clone());
            threads.push(std::thread::spawn(move || {
                let mut buf = vec![0u8; 65_536];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, from)) = rx.recv_from(&mut buf) else {
                        continue;
                    };
                    let pkt = &buf[..n];
                    let to = {
                        let Ok(mut s) = state.lock() else { return };
                        if ue_side {
                            // latching: the UE is wherever its packets come from
                            s.ue = Some(from);
                            s.ue_to_agw.add(pkt);
                            s.agw
                        } else {
                            if s.agw.is_none() {
                                s.agw = Some(from);
                            }
                            s.agw_to_ue.add(pkt);
                            s.ue
                        }
                    };
                    if ue_side {
                        record(&log, from, a, pkt);
                    }
                    if let Some(to) = to {
                        if !ue_side {
                            record(&log, a, to, pkt);
                        }
                        let _ = tx.send_to(pkt, to);
                    }
                }
            }));
        }
        Ok(AccessRelay {
            a,
            b,
            state,
            stop,
            threads,
        })
    }

    /// Where the UE is (from its SDP, until its packets say otherwise).
    pub fn set_ue(&self, ue: SocketAddr) {
        if let Ok(mut s) = self.state.lock() {
            s.ue.get_or_insert(ue);
        }
    }

    /// Where the AGW's access termination is (from the SDP the ALG gave the UE).
    pub fn set_agw(&self, agw: SocketAddr) {
        if let Ok(mut s) = self.state.lock() {
            s.agw = Some(agw);
        }
    }

    /// Counts so far: (UE -> AGW, AGW -> UE).
    pub fn counts(&self) -> (Counts, Counts) {
        self.state
            .lock()
            .map(|s| (s.ue_to_agw, s.agw_to_ue))
            .unwrap_or_default()
    }

    /// Stop relaying.
    pub fn stop(mut self) -> (Counts, Counts) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.counts()
    }
}

/// What the core peer did and saw.
#[derive(Debug, Default)]
pub struct CoreResult {
    /// RTP sent.
    pub sent: Vec<Rtp>,
    /// RTP received.
    pub received: Vec<Rtp>,
    /// RTCP compound packets sent.
    pub rtcp_sent: usize,
    /// RTCP compound packets received.
    pub rtcp_received: usize,
}

/// The core-network peer: plain RTP and RTCP on one UDP socket.
pub struct CorePeer {
    sock: UdpSocket,
}

impl CorePeer {
    /// Bind on `ip`.
    pub fn bind(ip: std::net::IpAddr) -> std::io::Result<CorePeer> {
        let sock = UdpSocket::bind((ip, 0))?;
        sock.set_read_timeout(Some(Duration::from_millis(5)))?;
        Ok(CorePeer { sock })
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.sock
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Run on a thread until `stop`: once the first RTP packet from the UE has arrived (the
    /// access leg has its keys by then), send 20 ms PCMU-sized packets (160 pseudo-random
    /// octets, PT 0) to `to` until `send_for` has passed (and before `send_until`), an RTCP SR + SDES every 10 packets;
    /// record everything.
    pub fn spawn(
        self,
        to: SocketAddr,
        send_until: Option<Instant>,
        send_for: Duration,
        stop: Arc<AtomicBool>,
        log: Log,
    ) -> std::thread::JoinHandle<CoreResult> {
        std::thread::spawn(move || {
            let me = self.addr();
            let mut r = CoreResult::default();
            let ssrc = 0x5eed_c0de_u32;
            let mut seq: u16 = 7000;
            let mut x: u32 = 0x1234_5678;
            let mut started: Option<Instant> = None;
            let mut next = Instant::now();
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                if let Some(s) = started {
                    if now >= next
                        && now.duration_since(s) < send_for
                        && send_until.is_none_or(|u| now < u)
                    {
                        let mut pkt = vec![0x80, 0];
                        pkt.extend_from_slice(&seq.to_be_bytes());
                        pkt.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
                        pkt.extend_from_slice(&ssrc.to_be_bytes());
                        let mut payload = String::with_capacity(320);
                        for _ in 0..160 {
                            x ^= x << 13;
                            x ^= x >> 17;
                            x ^= x << 5;
                            let b = (x & 0xff) as u8;
                            pkt.push(b);
                            payload.push_str(&format!("{b:02x}"));
                        }
                        if self.sock.send_to(&pkt, to).is_ok() {
                            record(&log, me, to, &pkt);
                            r.sent.push((ssrc, seq, 0, payload));
                        }
                        if r.sent.len() % 10 == 1 {
                            let mut sr = vec![0x80, 200, 0, 6];
                            sr.extend_from_slice(&ssrc.to_be_bytes());
                            sr.extend_from_slice(&[0u8; 20]);
                            sr.extend_from_slice(&[0x81, 202, 0, 3]);
                            sr.extend_from_slice(&ssrc.to_be_bytes());
                            sr.extend_from_slice(&[1, 4, b'c', b'o', b'r', b'e', 0, 0]);
                            if self.sock.send_to(&sr, to).is_ok() {
                                record(&log, me, to, &sr);
                                r.rtcp_sent += 1;
                            }
                        }
                        seq = seq.wrapping_add(1);
                        next += Duration::from_millis(20);
                    }
                }
                if let Ok((n, from)) = self.sock.recv_from(&mut buf) {
                    let b = &buf[..n];
                    record(&log, from, me, b);
                    if is_rtcp(b) {
                        r.rtcp_received += 1;
                    } else if let Some(p) = parse_rtp(b) {
                        r.received.push(p);
                        if started.is_none() {
                            started = Some(Instant::now());
                            next = Instant::now();
                        }
                    }
                }
            }
            r
        })
    }
}

/// How one direction of media went: `sent` by one side, `received` by the other.
#[derive(Debug, Clone, Copy, Default)]
pub struct Compare {
    /// Packets sent.
    pub sent: usize,
    /// Packets received.
    pub received: usize,
    /// Received packets identical (SSRC, sequence number, PT, payload) to a sent one.
    pub identical: usize,
    /// Received packets that match no sent packet.
    pub foreign: usize,
}

/// Compare what one side sent with what the other received. Received packets whose sequence
/// number is beyond the last one in `sent` (sent after the sender's report was taken) are not
/// counted.
pub fn compare(sent: &[Rtp], received: &[Rtp]) -> Compare {
    use std::collections::HashSet;
    let set: HashSet<&Rtp> = sent.iter().collect();
    let known: HashSet<(u32, u16)> = sent.iter().map(|p| (p.0, p.1)).collect();
    let last_seq: std::collections::HashMap<u32, u16> =
        sent.iter().fold(Default::default(), |mut m, p| {
            m.insert(p.0, p.1);
            m
        });
    let mut c = Compare {
        sent: sent.len(),
        ..Compare::default()
    };
    for p in received {
        let beyond = match last_seq.get(&p.0) {
            Some(&l) => !known.contains(&(p.0, p.1)) && p.1.wrapping_sub(l) < 0x8000,
            None => false,
        };
        if beyond {
            continue;
        }
        c.received += 1;
        if set.contains(p) {
            c.identical += 1;
        } else {
            c.foreign += 1;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_parse_and_compare() {
        let mut pkt = vec![0x80, 0, 0x1b, 0x58, 0, 0, 0, 0, 0, 0, 0, 7];
        pkt.extend_from_slice(&[1, 2, 3]);
        let p = parse_rtp(&pkt).unwrap();
        assert_eq!(p, (7, 7000, 0, "010203".to_string()));
        let sent = vec![p.clone(), (7, 7001, 0, "ff".into())];
        // a corrupted copy is foreign; a later packet (sent after the report) is not counted
        let recv = vec![p, (7, 7001, 0, "fe".into()), (7, 7002, 0, "00".into())];
        let c = compare(&sent, &recv);
        assert_eq!((c.sent, c.received, c.identical, c.foreign), (2, 2, 1, 1));
    }
}
