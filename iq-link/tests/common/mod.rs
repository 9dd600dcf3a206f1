//! Pieces shared by the simulated-network tests: a seeded generator and a link model
//! (latency, loss, duplication, reordering), as in `tests/transaction.rs`.

#![allow(dead_code)]

use std::time::Duration;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// xorshift64*.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
    /// Uniform in [lo, hi].
    pub fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        lo + (hi - lo).mul_f64(self.unit())
    }
}

/// How the in-memory link treats each message.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub loss: f64,
    pub dup: f64,
    /// Probability of an extra delay of up to `reorder_delay` (later messages overtake it).
    pub reorder: f64,
    pub latency: Duration,
    pub reorder_delay: Duration,
}

impl Link {
    pub fn perfect() -> Self {
        Link {
            loss: 0.0,
            dup: 0.0,
            reorder: 0.0,
            latency: ms(5),
            reorder_delay: Duration::ZERO,
        }
    }
    pub fn lossy(loss: f64, dup: f64, reorder: f64) -> Self {
        Link {
            loss,
            dup,
            reorder,
            latency: ms(5),
            reorder_delay: ms(120),
        }
    }
}
