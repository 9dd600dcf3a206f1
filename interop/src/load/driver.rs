//! The SIP proxy side of `iq-interop load`: many figure 6.2.10.5.1 sessions (ng offer with the
//! WebRTC UE's SDP, ng answer with the core's plain RTP SDP, ng delete) in flight at once on a
//! few UDP sockets, replies matched by cookie, retransmissions on timeout (same cookie, as
//! Kamailio's rtpengine module does), started at a target rate and bounded in count, in
//! concurrency and in time.
//!
//! Single-threaded (a current-thread tokio runtime): one reader task per socket hands the
//! datagrams with their arrival time to the loop, which owns every session.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_alg::ng::bencode::Value;
use iq_alg::ng::wire::{self, Format};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// What one run does.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The ALG's ng address.
    pub alg: SocketAddr,
    /// Sessions to run.
    pub sessions: u64,
    /// Sessions started per second (0: as fast as the concurrency allows).
    pub rate: f64,
    /// Most sessions alive at once (being set up, held or being released).
    pub concurrency: usize,
    /// No session starts after this; held sessions are deleted then, and the run ends at most
    /// `drain` later.
    pub duration: Duration,
    /// How long the run waits for sessions in progress once `duration` has passed.
    pub drain: Duration,
    /// Time between the answer's reply and the delete.
    pub hold: Duration,
    /// UDP sockets (sessions spread over them round robin).
    pub sockets: usize,
    /// Retransmission interval of an unanswered request.
    pub retransmit: Duration,
    /// Retransmissions before the request counts as timed out.
    pub retries: u32,
    /// Call-ID prefix (unique per run).
    pub tag: String,
}

/// Latencies of one kind of request, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Latencies(pub Vec<u32>);

/// p50/p99/p99.9/max/mean in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Percentiles {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Latencies {
    fn push(&mut self, d: Duration) {
        self.0
            .push(u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
    }

    /// Nearest-rank percentiles.
    pub fn percentiles(&self) -> Percentiles {
        let mut v = self.0.clone();
        v.sort_unstable();
        let n = v.len();
        if n == 0 {
            return Percentiles::default();
        }
        let at = |q: f64| {
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            f64::from(v[rank - 1]) / 1000.0
        };
        let sum: u64 = v.iter().map(|&x| u64::from(x)).sum();
        Percentiles {
            n,
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: f64::from(v[n - 1]) / 1000.0,
            mean: sum as f64 / n as f64 / 1000.0,
        }
    }
}

/// What a run saw.
#[derive(Debug, Default, Clone)]
pub struct RunResult {
    /// Sessions started (offer sent).
    pub started: u64,
    /// Sessions whose answer got its SDP (Add, Add, Modify done).
    pub set_up: u64,
    /// Sessions whose delete was answered `ok` (Subtract done).
    pub released: u64,
    /// Sessions that failed (any reason).
    pub failed: u64,
    /// Sessions still in progress when the run ended.
    pub unfinished: u64,
    /// Failures by reason.
    pub failures: BTreeMap<String, u64>,
    /// ng requests sent (first transmissions).
    pub requests: u64,
    /// Retransmissions.
    pub retransmissions: u64,
    /// Replies for no request in flight (answers to retransmissions, foreign cookies).
    pub late_replies: u64,
    /// From the first offer to the last reply.
    pub elapsed: Duration,
    /// Offer sent -> answer's reply (the whole setup).
    pub setup: Latencies,
    /// Offer sent -> its reply.
    pub offer: Latencies,
    /// Answer sent -> its reply.
    pub answer: Latencies,
    /// Delete sent -> its reply.
    pub delete: Latencies,
    /// Most sessions held (set up, not yet deleted) at once.
    pub max_held: u64,
    /// Memory sampled while `max_held` sessions were held (see [`RunHooks::sample`]).
    pub held_sample: Option<u64>,
}

/// Callbacks of a run.
pub struct RunHooks<'a> {
    /// Called (at most every 200 ms) when the number of held sessions reached a new maximum
    /// and no session is being set up or released; returns a measurement (memory) to keep.
    pub sample: &'a mut dyn FnMut() -> Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Offer,
    Answer,
    Delete,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Offer => "offer",
            Kind::Answer => "answer",
            Kind::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Offering,
    Answering,
    Held,
    Deleting,
    Done,
}

struct Sess {
    state: State,
    offer_sent: Instant,
}

struct InFlight {
    session: u64,
    kind: Kind,
    first_sent: Instant,
    tries: u32,
    msg: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// Retransmit request `cookie` if still unanswered after `tries` transmissions.
    Retransmit { cookie: u64, tries: u32 },
    /// End the hold of session `s`.
    HoldEnd { s: u64 },
}

/// The WebRTC UE's offer (TS 23.334 figure 6.2.10.5.1): UDP/TLS/RTP/SAVPF with a fingerprint,
/// `a=setup:actpass`, ICE credentials and a host candidate, rtcp-mux. With ICE the AGW
/// (ICE-lite) sends nothing until the UE's checks arrive, so held sessions stay idle.
pub fn ue_offer(i: u64) -> String {
    let port = 10_000 + (i % 25_000) as u16 * 2;
    format!(
        "v=0\r\no=- {i} 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} UDP/TLS/RTP/SAVPF 111 0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n\
         a=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\na=sendrecv\r\n\
         a=ice-ufrag:u{i:07}\r\na=ice-pwd:p{i:023}\r\n\
         a=fingerprint:sha-256 8B:4D:5C:1E:0F:33:7A:92:C6:D1:E8:2B:44:90:AB:CD:\
         EF:01:23:45:67:89:9A:BC:DE:F0:12:34:56:78:9A:BC\r\n\
         a=setup:actpass\r\na=tls-id:ue{i:020}\r\n\
         a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\n"
    )
}

/// The core's answer to the ALG's RTP/AVPF offer.
pub fn core_answer(i: u64) -> String {
    let port = 40_000 + (i % 10_000) as u16 * 2;
    format!(
        "v=0\r\no=- {i} 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} RTP/AVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\na=sendrecv\r\n"
    )
}

fn s(v: &str) -> Value {
    Value::str(v)
}

struct Driver<'h, 'a> {
    cfg: RunConfig,
    socks: Vec<Arc<UdpSocket>>,
    sessions: Vec<Sess>,
    inflight: HashMap<u64, InFlight>,
    timers: BinaryHeap<Reverse<(Instant, Timer)>>,
    next_cookie: u64,
    alive: usize,
    held: u64,
    /// Sessions being set up or released (not held, not done).
    busy: usize,
    last_sample: Option<Instant>,
    first_offer: Option<Instant>,
    last_reply: Option<Instant>,
    r: RunResult,
    hooks: &'h mut RunHooks<'a>,
}

impl Driver<'_, '_> {
    fn call_id(&self, i: u64) -> String {
        format!("{}-{i}", self.cfg.tag)
    }

    fn request(&self, i: u64, kind: Kind) -> Value {
        let call = self.call_id(i);
        let from = format!("ft{i}");
        let mut pairs = vec![
            ("command", s(kind.name())),
            ("call-id", s(&call)),
            ("from-tag", s(&from)),
        ];
        match kind {
            Kind::Offer => {
                pairs.push(("sdp", s(&ue_offer(i))));
                pairs.push(("via-branch", s(&format!("z9hG4bK{i}"))));
                pairs.push(("direction", Value::List(vec![s("access"), s("core")])));
                pairs.push((
                    "replace",
                    Value::List(vec![s("origin"), s("session-connection")]),
                ));
                pairs.push(("received-from", Value::List(vec![s("IP4"), s("127.0.0.1")])));
                pairs.push(("flags", Value::List(vec![s("trust-address")])));
            }
            Kind::Answer => {
                pairs.push(("to-tag", s(&format!("tt{i}"))));
                pairs.push(("sdp", s(&core_answer(i))));
                pairs.push(("via-branch", s(&format!("z9hG4bK{i}"))));
                pairs.push(("direction", Value::List(vec![s("core"), s("access")])));
                pairs.push((
                    "replace",
                    Value::List(vec![s("origin"), s("session-connection")]),
                ));
                pairs.push(("flags", Value::List(vec![s("trust-address")])));
            }
            Kind::Delete => {
                pairs.push(("to-tag", s(&format!("tt{i}"))));
            }
        }
        Value::dict(pairs)
    }

    async fn send(&mut self, i: u64, kind: Kind, now: Instant) {
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        let body = self.request(i, kind);
        let msg = wire::encode(
            format!("{}_{cookie}", self.cfg.tag).as_bytes(),
            &body,
            Format::Bencode,
        );
        self.r.requests += 1;
        self.transmit(i, &msg).await;
        self.inflight.insert(
            cookie,
            InFlight {
                session: i,
                kind,
                first_sent: now,
                tries: 1,
                msg,
            },
        );
        self.timers.push(Reverse((
            now + self.cfg.retransmit,
            Timer::Retransmit { cookie, tries: 1 },
        )));
    }

    async fn transmit(&self, i: u64, msg: &[u8]) {
        let sock = &self.socks[(i as usize) % self.socks.len()];
        // A full socket buffer: the retransmission timer covers the loss.
        let _ = sock.send_to(msg, self.cfg.alg).await;
    }

    async fn start(&mut self, i: u64, now: Instant) {
        self.sessions.push(Sess {
            state: State::Offering,
            offer_sent: now,
        });
        self.first_offer.get_or_insert(now);
        self.r.started += 1;
        self.alive += 1;
        self.busy += 1;
        self.send(i, Kind::Offer, now).await;
    }

    fn fail(&mut self, i: u64, reason: String) {
        let Some(sess) = self.sessions.get_mut(i as usize) else {
            return;
        };
        if sess.state == State::Done {
            return;
        }
        if sess.state == State::Held {
            self.held -= 1;
        } else {
            self.busy -= 1;
        }
        sess.state = State::Done;
        self.alive -= 1;
        self.r.failed += 1;
        *self.r.failures.entry(reason).or_default() += 1;
    }

    async fn on_timer(&mut self, t: Timer, now: Instant) {
        match t {
            Timer::Retransmit { cookie, tries } => {
                let Some(f) = self.inflight.get_mut(&cookie) else {
                    return;
                };
                if f.tries != tries {
                    return;
                }
                if f.tries > self.cfg.retries {
                    let (i, kind) = (f.session, f.kind);
                    self.inflight.remove(&cookie);
                    self.fail(i, format!("{}: no reply (timeout)", kind.name()));
                    return;
                }
                f.tries += 1;
                let (i, msg, tries) = (f.session, f.msg.clone(), f.tries);
                self.r.retransmissions += 1;
                self.transmit(i, &msg).await;
                self.timers.push(Reverse((
                    now + self.cfg.retransmit,
                    Timer::Retransmit { cookie, tries },
                )));
            }
            Timer::HoldEnd { s } => self.end_hold(s, now).await,
        }
    }

    async fn end_hold(&mut self, i: u64, now: Instant) {
        let Some(sess) = self.sessions.get_mut(i as usize) else {
            return;
        };
        if sess.state != State::Held {
            return;
        }
        sess.state = State::Deleting;
        self.held -= 1;
        self.busy += 1;
        self.send(i, Kind::Delete, now).await;
    }

    async fn on_reply(&mut self, bytes: &[u8], at: Instant) {
        // `<run tag>_<n>`, as Kamailio's `<pid>_<n>`: the ALG answers a repeated (peer, cookie)
        // from its reply cache for 30 s, and a later run of this tool may be given a port an
        // earlier one used; with the bare counter it got that run's replies.
        let Some(cookie) = wire::cookie_of(bytes)
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.strip_prefix(self.cfg.tag.as_str()))
            .and_then(|c| c.strip_prefix('_'))
            .and_then(|c| c.parse::<u64>().ok())
        else {
            // Not one of ours.
            self.r.late_replies += 1;
            return;
        };
        let Some(f) = self.inflight.remove(&cookie) else {
            self.r.late_replies += 1;
            return;
        };
        self.last_reply = Some(at);
        let i = f.session;
        let latency = at.saturating_duration_since(f.first_sent);
        let body = match wire::decode(bytes) {
            Ok(d) => d.body,
            Err(e) => return self.fail(i, format!("{}: unreadable reply: {e}", f.kind.name())),
        };
        let result = body.get("result").and_then(Value::as_str).unwrap_or("?");
        if result != "ok" {
            let why = body
                .get("error-reason")
                .and_then(Value::as_str)
                .unwrap_or("(no reason)");
            let why: String = why.chars().take(80).collect();
            return self.fail(i, format!("{}: {result}: {why}", f.kind.name()));
        }
        let sdp = body.get("sdp").and_then(Value::as_str);
        match f.kind {
            Kind::Offer => {
                // Towards the core: plain RTP (SAVPF maps to AVPF, TS 23.334 5.11.2.4), no
                // DTLS or ICE.
                match sdp {
                    Some(sdp)
                        if sdp.contains(" RTP/AVPF ")
                            && !sdp.contains("a=fingerprint")
                            && !sdp.contains("a=ice-") => {}
                    _ => return self.fail(i, "offer: reply SDP is not plain RTP/AVPF".into()),
                }
                self.r.offer.push(latency);
                if let Some(sess) = self.sessions.get_mut(i as usize) {
                    sess.state = State::Answering;
                }
                self.send(i, Kind::Answer, at).await;
            }
            Kind::Answer => {
                // Towards the UE: DTLS-SRTP with the AGW's fingerprint, a role, ICE-lite.
                match sdp {
                    Some(sdp)
                        if sdp.contains(" UDP/TLS/RTP/SAVPF ")
                            && sdp.contains("a=fingerprint:sha-256 ")
                            && (sdp.contains("a=setup:active")
                                || sdp.contains("a=setup:passive"))
                            && sdp.contains("a=ice-ufrag:") => {}
                    _ => {
                        return self.fail(
                            i,
                            "answer: reply SDP lacks UDP/TLS/RTP/SAVPF, fingerprint, setup or ICE"
                                .into(),
                        )
                    }
                }
                self.r.answer.push(latency);
                self.r.set_up += 1;
                let Some(sess) = self.sessions.get_mut(i as usize) else {
                    return;
                };
                self.r
                    .setup
                    .push(at.saturating_duration_since(sess.offer_sent));
                if self.cfg.hold.is_zero() {
                    sess.state = State::Deleting;
                    self.send(i, Kind::Delete, at).await;
                } else {
                    sess.state = State::Held;
                    self.busy -= 1;
                    self.held += 1;
                    self.timers
                        .push(Reverse((at + self.cfg.hold, Timer::HoldEnd { s: i })));
                }
            }
            Kind::Delete => {
                self.r.delete.push(latency);
                self.r.released += 1;
                if let Some(sess) = self.sessions.get_mut(i as usize) {
                    sess.state = State::Done;
                }
                self.busy -= 1;
                self.alive -= 1;
            }
        }
    }

    /// Sample memory while the most sessions are held and nothing is in flight: at a new
    /// maximum (at most every 200 ms), and again every second while that maximum is held, so
    /// that the sample kept is the last one of the hold. What the daemons keep for a while
    /// after a burst of set-ups (Iq replies for repetitions, 30 s; the ng reply cache) has
    /// expired by then with `--hold` beyond 30 s: the figure is what an idle session costs.
    fn maybe_sample(&mut self, now: Instant) {
        if self.busy != 0 || self.held == 0 || self.held < self.r.max_held {
            return;
        }
        let since = self.last_sample.map(|t| now.duration_since(t));
        let due = if self.held > self.r.max_held {
            since.is_none_or(|d| d >= Duration::from_millis(200))
        } else {
            since.is_none_or(|d| d >= Duration::from_secs(1))
        };
        if !due {
            return;
        }
        self.last_sample = Some(now);
        self.r.max_held = self.held;
        self.r.held_sample = (self.hooks.sample)();
    }
}

/// SO_RCVBUF asked for each ng client socket.
const CLIENT_RECV_BUFFER: usize = 4 << 20;

/// Run `cfg` against the ALG. Errors: the sockets could not be set up.
pub async fn run(cfg: RunConfig, hooks: &mut RunHooks<'_>) -> Result<RunResult, String> {
    let bind: SocketAddr = if cfg.alg.is_ipv4() {
        "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?
    } else {
        "[::1]:0".parse().map_err(|e| format!("{e}"))?
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<(Vec<u8>, Instant)>();
    let mut socks = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..cfg.sockets.max(1) {
        let sock = UdpSocket::bind(bind)
            .await
            .map_err(|e| format!("ng client socket: {e}"))?;
        // A burst of --concurrency replies must not overflow the default 208 KiB (about 90
        // datagrams): dropped replies would count as the ALG's retransmissions and timeouts.
        // The kernel caps it at net.core.rmem_max; a refusal only leaves the default.
        let _ = socket2::SockRef::from(&sock).set_recv_buffer_size(CLIENT_RECV_BUFFER);
        let sock = Arc::new(sock);
        let (reader, tx) = (sock.clone(), tx.clone());
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            while let Ok((n, _)) = reader.recv_from(&mut buf).await {
                if tx.send((buf[..n].to_vec(), Instant::now())).is_err() {
                    break;
                }
            }
        }));
        socks.push(sock);
    }
    drop(tx);
    let t0 = Instant::now();
    let deadline = t0 + cfg.duration;
    let mut d = Driver {
        sessions: Vec::with_capacity(usize::try_from(cfg.sessions).unwrap_or(0).min(1 << 24)),
        cfg,
        socks,
        inflight: HashMap::new(),
        timers: BinaryHeap::new(),
        next_cookie: 1,
        alive: 0,
        held: 0,
        busy: 0,
        last_sample: None,
        first_offer: None,
        last_reply: None,
        r: RunResult::default(),
        hooks,
    };
    let interval = (d.cfg.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / d.cfg.rate));
    let mut next_start = t0;
    let mut stopping = false;
    loop {
        let now = Instant::now();
        if !stopping && now >= deadline {
            stopping = true;
            // Time is up: no new sessions, the held ones are deleted now.
            let held: Vec<u64> = (0..d.sessions.len() as u64)
                .filter(|&i| d.sessions[i as usize].state == State::Held)
                .collect();
            for i in held {
                d.end_hold(i, now).await;
            }
        }
        // Start sessions that are due.
        while !stopping
            && d.r.started < d.cfg.sessions
            && d.alive < d.cfg.concurrency
            && next_start <= now
        {
            let i = d.r.started;
            d.start(i, now).await;
            match interval {
                // Catch up at most one interval late (no bursts after a stall).
                Some(iv) => next_start = (next_start + iv).max(now - iv),
                None => next_start = now,
            }
        }
        // Timers due.
        while let Some(Reverse((t, _))) = d.timers.peek() {
            if *t > now {
                break;
            }
            if let Some(Reverse((_, timer))) = d.timers.pop() {
                d.on_timer(timer, now).await;
            }
        }
        // Replies already queued.
        while let Ok((bytes, at)) = rx.try_recv() {
            d.on_reply(&bytes, at).await;
        }
        d.maybe_sample(Instant::now());
        let all_started = d.r.started >= d.cfg.sessions;
        if (all_started || stopping) && d.alive == 0 {
            break;
        }
        if stopping && now >= deadline + d.cfg.drain {
            break;
        }
        // Sleep until the next start, timer or the deadline, or a reply.
        let mut wake = if stopping {
            deadline + d.cfg.drain
        } else {
            deadline
        };
        if !stopping && !all_started && d.alive < d.cfg.concurrency {
            wake = wake.min(next_start);
        }
        if let Some(Reverse((t, _))) = d.timers.peek() {
            wake = wake.min(*t);
        }
        if d.held > 0 && d.busy == 0 {
            // Sessions held: wake each second to sample memory (see `maybe_sample`).
            wake = wake.min(Instant::now() + Duration::from_secs(1));
        }
        if wake > Instant::now() {
            tokio::select! {
                m = rx.recv() => {
                    if let Some((bytes, at)) = m {
                        d.on_reply(&bytes, at).await;
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
        }
    }
    for r in readers {
        r.abort();
    }
    let mut r = d.r;
    r.unfinished = d.alive as u64;
    if r.unfinished > 0 {
        *r.failures
            .entry("unfinished when the run ended".into())
            .or_default() += r.unfinished;
    }
    r.elapsed = match (d.first_offer, d.last_reply) {
        (Some(a), Some(b)) => b.saturating_duration_since(a),
        _ => Duration::ZERO,
    };
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_nearest_rank() {
        let l = Latencies((1..=1000).collect());
        let p = l.percentiles();
        assert_eq!(p.n, 1000);
        assert_eq!(p.p50, 0.5);
        assert_eq!(p.p99, 0.99);
        assert_eq!(p.p999, 0.999);
        assert_eq!(p.max, 1.0);
        assert!((p.mean - 0.5005).abs() < 1e-9);
        assert_eq!(Latencies::default().percentiles().n, 0);
    }

    #[test]
    fn offer_is_a_webrtc_offer_the_alg_reads() {
        let sdp = iq_codec::sdp::Sdp::parse(&ue_offer(7)).expect("UE offer parses");
        let m = &sdp.media()[0];
        assert_eq!(m.proto().to_string(), "UDP/TLS/RTP/SAVPF");
        let core = iq_codec::sdp::Sdp::parse(&core_answer(7)).expect("core answer parses");
        assert_eq!(core.media()[0].proto().to_string(), "RTP/AVPF");
    }
}
