//! RFC 3711 section 3.3.1 / appendix A: packet index estimation from a 16-bit sequence
//! number, and the 128-packet replay window (section 3.3.2) used for SRTP and SRTCP.
//!
//! Everything here is split into a side-effect-free *check* and a *commit*: the caller
//! commits only after the packet authenticated, so a forged packet never moves the window
//! or the rollover counter.

/// Packets remembered behind the highest index (libsrtp's default).
pub const WINDOW: u64 = 128;

/// Largest SRTP packet index (48 bits, RFC 3711 section 3.2.1).
pub const MAX_SRTP_INDEX: u64 = (1 << 48) - 1;

/// Largest SRTCP index (31 bits, RFC 3711 section 3.4).
pub const MAX_SRTCP_INDEX: u64 = (1 << 31) - 1;

/// Why the window refused an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayError {
    /// Already received.
    Duplicate,
    /// Behind the window (or before the first index of the stream).
    TooOld,
}

/// A sliding window over packet indices: the highest index accepted and a bitmap of the
/// 128 indices at and below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayWindow {
    top: u64,
    /// Bit `d` set: index `top - d` was accepted.
    bits: u128,
}

impl ReplayWindow {
    /// A window whose first accepted index is `first`.
    pub fn starting_at(first: u64) -> Self {
        ReplayWindow {
            top: first,
            bits: 1,
        }
    }

    /// Highest index accepted so far.
    pub fn top(&self) -> u64 {
        self.top
    }

    /// May `index` be accepted? (No state change.)
    pub fn check(&self, index: u64) -> Result<(), ReplayError> {
        if index > self.top {
            return Ok(());
        }
        let delta = self.top - index;
        if delta >= WINDOW {
            return Err(ReplayError::TooOld);
        }
        if self.bits & (1u128 << delta) != 0 {
            return Err(ReplayError::Duplicate);
        }
        Ok(())
    }

    /// Record `index` as received (after it authenticated).
    pub fn commit(&mut self, index: u64) {
        if index > self.top {
            let shift = index - self.top;
            self.bits = if shift >= WINDOW {
                0
            } else {
                self.bits << shift
            };
            self.bits |= 1;
            self.top = index;
        } else {
            let delta = self.top - index;
            if delta < WINDOW {
                self.bits |= 1u128 << delta;
            }
        }
    }
}

/// RFC 3711 appendix A: the 48-bit index of a packet with sequence number `seq`, given the
/// highest index seen so far (`ROC || s_l`). `None` when the guess falls before index 0 or
/// beyond 2^48 - 1.
pub fn estimate_index(highest: u64, seq: u16) -> Option<u64> {
    let roc = highest >> 16;
    let s_l = (highest & 0xffff) as u16;
    let v = if s_l < 0x8000 {
        if i32::from(seq) - i32::from(s_l) > 0x8000 {
            roc.checked_sub(1)?
        } else {
            roc
        }
    } else if u32::from(s_l) - 0x8000 > u32::from(seq) {
        roc + 1
    } else {
        roc
    };
    let index = (v << 16) | u64::from(seq);
    (index <= MAX_SRTP_INDEX).then_some(index)
}
