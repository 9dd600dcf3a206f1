//! Reconnection backoff (MG side) and the seeded generator behind its jitter.

use std::time::Duration;

/// How long the MG waits before it tries to (re)establish a control association after a
/// failure: `initial`, multiplied by `factor` after each failed attempt up to `max`, reset by a
/// successful registration.
///
/// H.248.1 §11.2/§11.5 only says "wait a random amount of time" (§9.2) before starting over;
/// the numbers are ours (see the [module docs](super) for the table).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// Wait before the first reconnection attempt after a loss. Default 1 s.
    pub initial: Duration,
    /// Largest wait. Default 64 s.
    pub max: Duration,
    /// Factor the wait is multiplied by after each failed attempt. Default 2.
    pub factor: u32,
    /// With a seed, each wait W is drawn uniformly from [W/2, W] (the same rule H.248.1 D.1.3
    /// gives for retransmissions) with a xorshift generator seeded here, so that many MGs that
    /// lost the same MGC do not come back in step; without one the waits are exact. Default
    /// `None`.
    pub jitter_seed: Option<u64>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(64),
            factor: 2,
            jitter_seed: None,
        }
    }
}

impl Backoff {
    pub(crate) fn validate(&self) -> Result<(), &'static str> {
        if self.initial.is_zero() {
            return Err("reconnect.initial must be above zero");
        }
        if self.max < self.initial {
            return Err("reconnect.max must be at least reconnect.initial");
        }
        if self.factor == 0 {
            return Err("reconnect.factor must be at least 1");
        }
        Ok(())
    }
}

/// The running state of a [`Backoff`].
#[derive(Debug, Clone)]
pub(crate) struct BackoffState {
    config: Backoff,
    attempt: u32,
    rng: Option<XorShift>,
}

impl BackoffState {
    pub(crate) fn new(config: Backoff) -> Self {
        BackoffState {
            rng: config.jitter_seed.map(XorShift::new),
            config,
            attempt: 0,
        }
    }

    /// The wait before the next attempt; each call counts one failed attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let c = &self.config;
        let base = c
            .initial
            .saturating_mul(c.factor.saturating_pow(self.attempt))
            .min(c.max);
        self.attempt = self.attempt.saturating_add(1);
        match &mut self.rng {
            Some(rng) => base.mul_f64(0.5 + 0.5 * rng.unit()),
            None => base,
        }
    }

    /// A registration succeeded: the next loss waits `initial` again.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// xorshift64*, as in the transaction engine: the only randomness, and only when seeded.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut b = BackoffState::new(Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(5),
            ..Backoff::default()
        });
        let got: Vec<u64> = (0..5).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 5, 5]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_half_to_full() {
        let mut b = BackoffState::new(Backoff {
            jitter_seed: Some(7),
            ..Backoff::default()
        });
        for n in 0..8u32 {
            let full = Duration::from_secs(1u64 << n).min(Duration::from_secs(64));
            let d = b.next_delay();
            assert!(d >= full / 2 && d <= full, "{d:?} vs {full:?}");
        }
    }
}
