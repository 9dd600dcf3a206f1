//! A full ICE agent (RFC 8445) for one component with host candidates only, sans-IO:
//! connectivity checks to every remote candidate (controlling: each carries USE-CANDIDATE,
//! so the first verified success response selects and completes; controlled: completes when
//! the peer nominates a pair our own check validated), answers to the peer's checks, and
//! consent freshness (RFC 7675) once completed.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use iq_agw::media::api::IceCredentials;
use iq_agw::media::stun::{self, IceControl};

use super::rtp::Rng;

/// Pacing of new checks (RFC 8445 Ta).
const TA: Duration = Duration::from_millis(50);
/// First retransmission timeout of a check; doubles up to [`MAX_RTO`].
const RTO: Duration = Duration::from_millis(100);
const MAX_RTO: Duration = Duration::from_millis(1600);
/// Give up when not completed after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Consent checks (RFC 7675: every 5 s, randomised 0.8..1.2) and expiry.
const CONSENT_INTERVAL: Duration = Duration::from_secs(5);
const CONSENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Type preference of a peer-reflexive candidate (the PRIORITY of our checks).
const PRFLX_PRIORITY: u32 = (110 << 24) | (65535 << 8) | 255;
/// Priority of our host candidate (component 1).
pub const HOST_PRIORITY: u32 = (126 << 24) | (65535 << 8) | 255;

/// The agent's state, named as the report has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IceState {
    /// Checks running.
    Checking,
    /// A pair is selected (nominated).
    Completed,
    /// No pair in time, or consent lost.
    Failed,
}

impl IceState {
    /// The report's word.
    pub fn as_str(self) -> &'static str {
        match self {
            IceState::Checking => "checking",
            IceState::Completed => "completed",
            IceState::Failed => "failed",
        }
    }
}

#[derive(Debug)]
struct Pair {
    remote: SocketAddr,
    tid: [u8; 12],
    next_send: Instant,
    rto: Duration,
    /// Our check got a verified success response.
    valid: bool,
    /// The (controlling) peer nominated it with USE-CANDIDATE.
    nominated_by_peer: bool,
}

/// One ICE agent.
#[derive(Debug)]
pub struct Ice {
    local: IceCredentials,
    remote: IceCredentials,
    controlling: bool,
    tiebreaker: u64,
    pairs: Vec<Pair>,
    selected: Option<SocketAddr>,
    state: IceState,
    deadline: Instant,
    next_consent: Option<Instant>,
    consent_tids: VecDeque<[u8; 12]>,
    last_consent: Instant,
    rng: Rng,
    transmits: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Valid checks answered / responses verified (for the report).
    pub checks_answered: u64,
    pub responses_verified: u64,
}

impl Ice {
    /// Start checking `candidates` (at most 8 are used).
    pub fn new(
        now: Instant,
        local: IceCredentials,
        remote: IceCredentials,
        controlling: bool,
        candidates: &[SocketAddr],
        rng: &mut Rng,
    ) -> Ice {
        let mut ice = Ice {
            local,
            remote,
            controlling,
            tiebreaker: rng.next_u64(),
            pairs: Vec::new(),
            selected: None,
            state: IceState::Checking,
            deadline: now + CONNECT_TIMEOUT,
            next_consent: None,
            consent_tids: VecDeque::new(),
            last_consent: now,
            rng: rng.clone(),
            transmits: VecDeque::new(),
            checks_answered: 0,
            responses_verified: 0,
        };
        for (i, c) in candidates.iter().take(8).enumerate() {
            ice.add_pair(*c, now + TA * i as u32);
        }
        ice
    }

    fn add_pair(&mut self, remote: SocketAddr, at: Instant) -> usize {
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&self.rng.bytes(12));
        self.pairs.push(Pair {
            remote,
            tid,
            next_send: at,
            rto: RTO,
            valid: false,
            nominated_by_peer: false,
        });
        self.pairs.len() - 1
    }

    /// Current state.
    pub fn state(&self) -> IceState {
        self.state
    }

    /// Whether we are the controlling agent.
    pub fn controlling(&self) -> bool {
        self.controlling
    }

    /// Where media goes: the selected pair, else (controlled, before nomination) the first
    /// pair our own check validated.
    pub fn peer(&self) -> Option<SocketAddr> {
        if self.state == IceState::Failed {
            return None;
        }
        self.selected
            .or_else(|| self.pairs.iter().find(|p| p.valid).map(|p| p.remote))
    }

    /// Whether `addr` is a remote candidate we check (or learned from a valid check).
    pub fn knows(&self, addr: SocketAddr) -> bool {
        self.pairs.iter().any(|p| p.remote == addr)
    }

    fn check(&mut self, i: usize) {
        let p = &self.pairs[i];
        let role = if self.controlling {
            IceControl::Controlling(self.tiebreaker)
        } else {
            IceControl::Controlled(self.tiebreaker)
        };
        let mut out = Vec::new();
        stun::build_binding_request(
            &p.tid,
            &format!("{}:{}", self.remote.ufrag, self.local.ufrag),
            self.remote.pwd.as_bytes(),
            PRFLX_PRIORITY,
            role,
            self.controlling,
            &mut out,
        );
        self.transmits.push_back((p.remote, out));
    }

    fn consent_check(&mut self, now: Instant) {
        let Some(to) = self.selected else { return };
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&self.rng.bytes(12));
        let role = if self.controlling {
            IceControl::Controlling(self.tiebreaker)
        } else {
            IceControl::Controlled(self.tiebreaker)
        };
        let mut out = Vec::new();
        stun::build_binding_request(
            &tid,
            &format!("{}:{}", self.remote.ufrag, self.local.ufrag),
            self.remote.pwd.as_bytes(),
            PRFLX_PRIORITY,
            role,
            false,
            &mut out,
        );
        self.transmits.push_back((to, out));
        self.consent_tids.push_back(tid);
        if self.consent_tids.len() > 8 {
            self.consent_tids.pop_front();
        }
        let jitter = 800 + self.rng.next_u32() % 400;
        self.next_consent = Some(now + CONSENT_INTERVAL * jitter / 1000);
    }

    fn complete(&mut self, now: Instant, remote: SocketAddr) {
        if self.state != IceState::Checking {
            return;
        }
        tracing::info!(%remote, controlling = self.controlling, "ICE completed");
        self.selected = Some(remote);
        self.state = IceState::Completed;
        self.last_consent = now;
        self.next_consent = Some(now + CONSENT_INTERVAL);
    }

    /// A STUN datagram from `from`.
    pub fn handle_stun(&mut self, now: Instant, from: SocketAddr, msg: &[u8]) {
        if self.state == IceState::Failed {
            return;
        }
        let mut out = Vec::new();
        match stun::answer_binding(msg, from, &self.local, Some(&self.remote), &mut out) {
            Ok(check) => {
                self.checks_answered += 1;
                self.transmits.push_back((from, out));
                // a triggered check towards the sender (peer-reflexive if new)
                let i = match self.pairs.iter().position(|p| p.remote == from) {
                    Some(i) => i,
                    None => {
                        tracing::debug!(%from, "peer-reflexive remote candidate");
                        self.add_pair(from, now)
                    }
                };
                let p = &mut self.pairs[i];
                if !p.valid && p.next_send > now {
                    p.next_send = now;
                }
                if check.use_candidate && !self.controlling {
                    p.nominated_by_peer = true;
                    if p.valid {
                        self.complete(now, from);
                    }
                }
                return;
            }
            Err(stun::StunError::NotBindingRequest) => {}
            Err(e) => {
                tracing::debug!(%from, error = %e, "STUN request dropped");
                return;
            }
        }
        // a response: to one of our checks, or to a consent check
        if let Some(i) = self.pairs.iter().position(|p| p.remote == from && !p.valid) {
            let tid = self.pairs[i].tid;
            match stun::verify_binding_response(msg, &tid, self.remote.pwd.as_bytes()) {
                Ok(mapped) => {
                    self.responses_verified += 1;
                    tracing::debug!(%from, %mapped, "check succeeded");
                    let p = &mut self.pairs[i];
                    p.valid = true;
                    if self.controlling || p.nominated_by_peer {
                        self.complete(now, from);
                    }
                }
                Err(e) => tracing::debug!(%from, error = %e, "STUN response dropped"),
            }
            return;
        }
        if Some(from) == self.selected {
            let ok = self.consent_tids.iter().any(|tid| {
                stun::verify_binding_response(msg, tid, self.remote.pwd.as_bytes()).is_ok()
            });
            if ok {
                self.responses_verified += 1;
                self.last_consent = now;
            }
        }
    }

    /// Drive retransmissions, consent and the deadlines.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            IceState::Failed => {}
            IceState::Checking => {
                if now >= self.deadline {
                    tracing::warn!("ICE failed: no nominated pair in time");
                    self.state = IceState::Failed;
                    return;
                }
                for i in 0..self.pairs.len() {
                    let p = &self.pairs[i];
                    if !p.valid && p.next_send <= now {
                        self.check(i);
                        let p = &mut self.pairs[i];
                        p.next_send = now + p.rto;
                        p.rto = (p.rto * 2).min(MAX_RTO);
                    }
                }
            }
            IceState::Completed => {
                if now.duration_since(self.last_consent) >= CONSENT_TIMEOUT {
                    tracing::warn!("ICE consent lost");
                    self.state = IceState::Failed;
                    return;
                }
                if self.next_consent.is_some_and(|t| t <= now) {
                    self.consent_check(now);
                }
            }
        }
    }

    /// When [`Ice::handle_timeout`] wants to run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            IceState::Failed => None,
            IceState::Checking => self
                .pairs
                .iter()
                .filter(|p| !p.valid)
                .map(|p| p.next_send)
                .chain(std::iter::once(self.deadline))
                .min(),
            IceState::Completed => {
                let expiry = self.last_consent + CONSENT_TIMEOUT;
                Some(self.next_consent.map_or(expiry, |t| t.min(expiry)))
            }
        }
    }

    /// Next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.transmits.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(u: &str) -> IceCredentials {
        IceCredentials {
            ufrag: u.into(),
            pwd: format!("{u}-password-of-22-chars"),
        }
    }

    fn drain(a: &mut Ice) -> Vec<(SocketAddr, Vec<u8>)> {
        std::iter::from_fn(|| a.poll_transmit()).collect()
    }

    /// Two agents wired back to back on a virtual clock: the controlling one nominates, both
    /// complete on the same pair, consent keeps them completed, silence fails them.
    #[test]
    fn two_full_agents_complete_keep_consent_and_fail_on_silence() {
        let mut rng = Rng::new();
        let a_addr: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        let b_addr: SocketAddr = "127.0.0.1:2000".parse().unwrap();
        let t0 = Instant::now();
        let mut a = Ice::new(t0, creds("aaaa"), creds("bbbb"), true, &[b_addr], &mut rng);
        let mut b = Ice::new(t0, creds("bbbb"), creds("aaaa"), false, &[a_addr], &mut rng);
        let mut now = t0;
        for _ in 0..200 {
            a.handle_timeout(now);
            b.handle_timeout(now);
            for _ in 0..4 {
                for (to, m) in drain(&mut a) {
                    assert_eq!(to, b_addr);
                    b.handle_stun(now, a_addr, &m);
                }
                for (to, m) in drain(&mut b) {
                    assert_eq!(to, a_addr);
                    a.handle_stun(now, b_addr, &m);
                }
            }
            now += Duration::from_millis(10);
        }
        assert_eq!(a.state(), IceState::Completed);
        assert_eq!(b.state(), IceState::Completed);
        assert_eq!(a.peer(), Some(b_addr));
        assert_eq!(b.peer(), Some(a_addr));
        // a minute of consent checks: still completed
        for _ in 0..600 {
            a.handle_timeout(now);
            b.handle_timeout(now);
            for (_, m) in drain(&mut a) {
                b.handle_stun(now, a_addr, &m);
            }
            for (_, m) in drain(&mut b) {
                a.handle_stun(now, b_addr, &m);
            }
            now += Duration::from_millis(100);
        }
        assert_eq!(a.state(), IceState::Completed);
        assert!(a.responses_verified > 5, "consent responses verified");
        // b goes silent: a fails after 30 s
        for _ in 0..350 {
            a.handle_timeout(now);
            drain(&mut a);
            now += Duration::from_millis(100);
        }
        assert_eq!(a.state(), IceState::Failed);
        assert_eq!(a.peer(), None);
    }

    #[test]
    fn wrong_password_never_completes() {
        let mut rng = Rng::new();
        let b_addr: SocketAddr = "127.0.0.1:2000".parse().unwrap();
        let t0 = Instant::now();
        let mut wrong = creds("bbbb");
        wrong.pwd = "not-bs-password-at-all".into();
        let mut a = Ice::new(t0, creds("aaaa"), wrong, true, &[b_addr], &mut rng);
        let mut b = Ice::new(t0, creds("bbbb"), creds("aaaa"), false, &[], &mut rng);
        let mut now = t0;
        let mut sent = 0;
        while now < t0 + Duration::from_secs(16) {
            a.handle_timeout(now);
            for (_, m) in drain(&mut a) {
                sent += 1;
                b.handle_stun(now, "127.0.0.1:1000".parse().unwrap(), &m);
            }
            assert!(
                drain(&mut b).is_empty(),
                "b answers no check it cannot verify"
            );
            now += Duration::from_millis(50);
        }
        assert!(sent > 5, "checks are retransmitted ({sent})");
        assert_eq!(a.state(), IceState::Failed);
    }
}
