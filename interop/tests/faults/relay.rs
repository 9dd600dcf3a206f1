//! A lossy UDP relay between the AGW and the ALG (Iq over UDP): each datagram, by a seeded
//! generator, is dropped, duplicated or held back and sent after the next one (reordered).
//! It decodes what the ALG sends (H.248 text) and keeps the transaction IDs of the requests
//! that carry an Add: the requests the ALG sent, seen from outside both daemons.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iq_codec::model::{Command, MessageBody, Transaction};

/// What the relay did and saw.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub datagrams: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub reordered: u64,
    /// Transaction IDs of ALG requests carrying an Add (distinct).
    pub add_requests: BTreeSet<u32>,
    /// Add commands in them (each transaction counted once).
    pub adds: u64,
}

/// Impairment probabilities, percent.
#[derive(Debug, Clone, Copy)]
pub struct Impair {
    pub loss: u32,
    pub dup: u32,
    pub reorder: u32,
}

pub struct Relay {
    /// Give this to the AGW as its controller.
    pub agw_side: SocketAddr,
    pub stats: Arc<Mutex<Stats>>,
    stop: Arc<AtomicBool>,
}

/// xorshift32, seeded.
struct Rng(u32);
impl Rng {
    fn percent(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 % 100
    }
}

impl Relay {
    /// Relay between whoever sends to [`Relay::agw_side`] (the AGW) and `alg`.
    pub fn start(alg: SocketAddr, impair: Impair, seed: u32) -> Relay {
        let a = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        let b = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        b.connect(alg).unwrap();
        for s in [&a, &b] {
            s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        }
        let agw_side = a.local_addr().unwrap();
        let stats = Arc::new(Mutex::new(Stats::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let agw_addr: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
        // AGW -> ALG
        {
            let (a, b, stats, stop, agw_addr) = (
                a.clone(),
                b.clone(),
                stats.clone(),
                stop.clone(),
                agw_addr.clone(),
            );
            std::thread::spawn(move || {
                pump(
                    impair,
                    Rng(seed | 1),
                    &stop,
                    &stats,
                    |buf| match a.recv_from(buf) {
                        Ok((n, from)) => {
                            *agw_addr.lock().unwrap() = Some(from);
                            Some(n)
                        }
                        Err(_) => None,
                    },
                    |d| {
                        let _ = b.send(d);
                    },
                    false,
                )
            });
        }
        // ALG -> AGW
        {
            let (stats, stop) = (stats.clone(), stop.clone());
            std::thread::spawn(move || {
                pump(
                    impair,
                    Rng(seed.rotate_left(16) | 1),
                    &stop,
                    &stats,
                    |buf| b.recv(buf).ok(),
                    |d| {
                        if let Some(to) = *agw_addr.lock().unwrap() {
                            let _ = a.send_to(d, to);
                        }
                    },
                    true,
                )
            });
        }
        Relay {
            agw_side,
            stats,
            stop,
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap().clone()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[allow(clippy::too_many_arguments)]
fn pump(
    impair: Impair,
    mut rng: Rng,
    stop: &AtomicBool,
    stats: &Mutex<Stats>,
    mut recv: impl FnMut(&mut [u8]) -> Option<usize>,
    send: impl Fn(&[u8]),
    from_alg: bool,
) {
    let mut buf = vec![0u8; 65_536];
    // A datagram held back: sent after the next one, or after 50 ms.
    let mut held: Option<(Vec<u8>, Instant)> = None;
    while !stop.load(Ordering::Relaxed) {
        if let Some((d, t)) = &held {
            if t.elapsed() >= Duration::from_millis(50) {
                send(d);
                held = None;
            }
        }
        let Some(n) = recv(&mut buf) else {
            continue;
        };
        let d = buf[..n].to_vec();
        if from_alg {
            note_adds(stats, &d);
        }
        let mut s = stats.lock().unwrap();
        s.datagrams += 1;
        if rng.percent() < impair.loss {
            s.dropped += 1;
            continue;
        }
        let dup = rng.percent() < impair.dup;
        let reorder = held.is_none() && rng.percent() < impair.reorder;
        if reorder {
            s.reordered += 1;
            held = Some((d, Instant::now()));
            continue;
        }
        drop(s);
        send(&d);
        if dup {
            stats.lock().unwrap().duplicated += 1;
            send(&d);
        }
        if let Some((h, _)) = held.take() {
            send(&h);
        }
    }
}

fn note_adds(stats: &Mutex<Stats>, d: &[u8]) {
    let Ok(m) = iq_codec::text::decode(d) else {
        return;
    };
    let MessageBody::Transactions(ts) = m.body else {
        return;
    };
    let mut s = stats.lock().unwrap();
    for t in ts {
        let Transaction::Request(r) = t else { continue };
        let adds = r
            .actions
            .iter()
            .flat_map(|a| a.commands.iter())
            .filter(|c| matches!(c.command, Command::Add(_)))
            .count() as u64;
        if adds > 0 && s.add_requests.insert(r.id) {
            s.adds += adds;
        }
    }
}
