//! Behaviour of the sans-IO transaction engine, two endpoints (MGC and MG) driven through an
//! in-memory link with a virtual clock. The link loses, duplicates, delays and reorders
//! messages under a seeded xorshift generator, so every run is reproducible.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use iq_codec::model::*;
use iq_codec::text::{self, Style};
use iq_link::transaction::{
    Codec, Config, EncodeError, Encoding, Endpoint, Error, Event, IncomingState, MalformedMessage,
    Stats, TextCodec, Transmit,
};

// ---------------------------------------------------------------------------------------------
// Harness

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn mgc_mid() -> MId {
    MId::Domain {
        name: "alg.example.net".into(),
        port: Some(2944),
    }
}

fn mg_mid() -> MId {
    MId::Domain {
        name: "agw.example.net".into(),
        port: Some(2944),
    }
}

/// Request number `n`: an Add in context `n + 1` (context 0 is the NULL context), so the
/// reply can be checked against it.
fn request(n: u32) -> Vec<ActionRequest> {
    vec![ActionRequest {
        context: ContextId::Id(n + 1),
        context_request: None,
        context_audit: None,
        commands: vec![CommandRequest {
            command: Command::Add(AmmRequest {
                termination_ids: [TerminationId::new(&format!("ip/{n}"))].into(),
                descriptors: vec![],
            }),
            optional: false,
            wildcard_return: false,
        }],
    }]
}

/// What the test application answers: the same context, the same termination.
fn answer(actions: &[ActionRequest]) -> TransactionResult {
    TransactionResult::Actions(
        actions
            .iter()
            .map(|a| ActionReply {
                context: a.context,
                error: None,
                context_reply: None,
                commands: vec![CommandReply::Add(AmmsReply {
                    termination_ids: match &a.commands[0].command {
                        Command::Add(r) => r.termination_ids.clone(),
                        _ => Default::default(),
                    },
                    audit: None,
                })],
            })
            .collect(),
    )
}

fn context_of(result: &TransactionResult) -> Option<u32> {
    match result {
        TransactionResult::Actions(a) => match a.first()?.context {
            ContextId::Id(n) => Some(n - 1),
            _ => None,
        },
        TransactionResult::Error(_) => None,
    }
}

fn error_code(result: &TransactionResult) -> Option<u16> {
    match result {
        TransactionResult::Error(e) => Some(e.code),
        _ => None,
    }
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
    /// Uniform in [lo, hi].
    fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        lo + (hi - lo).mul_f64(self.unit())
    }
}

#[derive(Debug, Clone, Copy)]
struct Link {
    loss: f64,
    dup: f64,
    /// Probability that a message gets an extra delay of up to `reorder_delay` (so later
    /// messages overtake it).
    reorder: f64,
    latency: Duration,
    reorder_delay: Duration,
}

impl Link {
    fn perfect() -> Self {
        Link {
            loss: 0.0,
            dup: 0.0,
            reorder: 0.0,
            latency: ms(5),
            reorder_delay: Duration::ZERO,
        }
    }
    fn lossy(loss: f64, dup: f64, reorder: f64) -> Self {
        Link {
            loss,
            dup,
            reorder,
            latency: ms(5),
            reorder_delay: ms(120),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Mgc,
    Mg,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Mgc => Side::Mg,
            Side::Mg => Side::Mgc,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Reply(TransactionResult),
    Timeout,
    PendingLimit,
}

/// The application answers after this delay; `None` never answers.
type ReplyPolicy = Box<dyn FnMut(&mut Rng, u32) -> Option<Duration>>;

struct Peer {
    ep: Endpoint,
    /// Requests from the other side this application executed: their ID -> times.
    executed: HashMap<u32, u32>,
    /// Our requests: ID -> request number.
    sent: HashMap<u32, u32>,
    /// Final outcomes of our requests, in order, with the time.
    outcomes: HashMap<u32, Vec<(Instant, Outcome)>>,
    /// Replies the application will send: (when, ID, result).
    due_replies: Vec<(Instant, u32, TransactionResult)>,
    policy: ReplyPolicy,
    /// Every other event.
    events: Vec<(Instant, Event)>,
    /// `send_reply` refusals.
    reply_errors: Vec<Error>,
}

impl Peer {
    fn new(config: Config) -> Self {
        Peer {
            ep: Endpoint::new(config).expect("valid config"),
            executed: HashMap::new(),
            sent: HashMap::new(),
            outcomes: HashMap::new(),
            due_replies: Vec::new(),
            policy: Box::new(|_, _| Some(Duration::ZERO)),
            events: Vec::new(),
            reply_errors: Vec::new(),
        }
    }
}

/// One message on the wire, decoded, for inspection.
#[derive(Debug, Clone)]
struct Wire {
    at: Instant,
    from: Side,
    msg: Message,
    bytes: Vec<u8>,
    /// Dropped by the drop rule (never delivered).
    dropped: bool,
}

impl Wire {
    fn items(&self) -> &[Transaction] {
        match &self.msg.body {
            MessageBody::Transactions(t) => t,
            MessageBody::Error(_) => &[],
        }
    }
    fn has_request(&self, id: u32) -> bool {
        self.items()
            .iter()
            .any(|t| matches!(t, Transaction::Request(r) if r.id == id))
    }
    fn has_reply(&self, id: u32) -> bool {
        self.items()
            .iter()
            .any(|t| matches!(t, Transaction::Reply(r) if r.id == id))
    }
    fn pendings(&self) -> usize {
        self.items()
            .iter()
            .filter(|t| matches!(t, Transaction::Pending(_)))
            .count()
    }
    fn acks(&self) -> Vec<TransactionAck> {
        self.items()
            .iter()
            .filter_map(|t| match t {
                Transaction::ResponseAck(a) => Some(a.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

struct Packet {
    at: Instant,
    seq: u64,
    to: Side,
    bytes: Vec<u8>,
}

type DropRule = Box<dyn FnMut(Side, &Message) -> bool>;

struct Pair {
    start: Instant,
    now: Instant,
    mgc: Peer,
    mg: Peer,
    link: Link,
    rng: Rng,
    in_flight: Vec<Packet>,
    seq: u64,
    /// Requests to send later: (when, from, request number).
    schedule: Vec<(Instant, Side, u32)>,
    /// Decode and keep every transmit (and apply `drop_rule`).
    record: bool,
    log: Vec<Wire>,
    /// Drop the messages this returns true for (deterministic loss).
    drop_rule: Option<DropRule>,
}

impl Pair {
    fn new(mgc: Config, mg: Config, link: Link, seed: u64) -> Self {
        let start = Instant::now(); // only as the origin of the virtual clock
        Pair {
            start,
            now: start,
            mgc: Peer::new(mgc),
            mg: Peer::new(mg),
            link,
            rng: Rng::new(seed),
            in_flight: Vec::new(),
            seq: 0,
            schedule: Vec::new(),
            record: true,
            log: Vec::new(),
            drop_rule: None,
        }
    }

    fn defaults(link: Link, seed: u64) -> Self {
        Pair::new(Config::new(mgc_mid()), Config::new(mg_mid()), link, seed)
    }

    fn peer(&mut self, side: Side) -> &mut Peer {
        match side {
            Side::Mgc => &mut self.mgc,
            Side::Mg => &mut self.mg,
        }
    }

    fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn at(&self, d: Duration) -> Instant {
        self.start + d
    }

    /// Send request number `n` from `side` now.
    fn send(&mut self, side: Side, n: u32) -> u32 {
        let now = self.now;
        let peer = self.peer(side);
        let id = peer
            .ep
            .send_request(now, request(n))
            .expect("request accepted");
        peer.sent.insert(id, n);
        id
    }

    /// Hand raw bytes to one endpoint, as if they had just arrived.
    fn inject(&mut self, to: Side, bytes: &[u8]) {
        let now = self.now;
        self.peer(to).ep.handle_input(now, bytes);
        self.drive();
    }

    fn transmit(&mut self, from: Side, t: Transmit) {
        let mut dropped = false;
        if self.record || self.drop_rule.is_some() {
            let msg = if t.bytes.first() == Some(&0x30) {
                iq_codec::binary::decode_message(&t.bytes).expect("the engine sends decodable BER")
            } else {
                text::decode(&t.bytes).expect("the engine sends decodable messages")
            };
            if let Some(rule) = &mut self.drop_rule {
                dropped = rule(from, &msg);
            }
            if self.record {
                self.log.push(Wire {
                    at: self.now,
                    from,
                    msg,
                    bytes: t.bytes.clone(),
                    dropped,
                });
            }
        }
        if dropped || self.rng.chance(self.link.loss) {
            return;
        }
        let copies = if self.rng.chance(self.link.dup) { 2 } else { 1 };
        for _ in 0..copies {
            let mut delay = self.link.latency;
            if self.rng.chance(self.link.reorder) {
                delay += self.rng.between(Duration::ZERO, self.link.reorder_delay);
            }
            self.seq += 1;
            self.in_flight.push(Packet {
                at: self.now + delay,
                seq: self.seq,
                to: from.other(),
                bytes: t.bytes.clone(),
            });
        }
    }

    fn on_event(&mut self, side: Side, ev: Event) {
        let now = self.now;
        let Pair { rng, .. } = self;
        let peer = match side {
            Side::Mgc => &mut self.mgc,
            Side::Mg => &mut self.mg,
        };
        match ev {
            Event::Request { id, actions } => {
                *peer.executed.entry(id).or_default() += 1;
                if let Some(delay) = (peer.policy)(rng, id) {
                    peer.due_replies.push((now + delay, id, answer(&actions)));
                }
            }
            Event::Reply { id, result } => peer
                .outcomes
                .entry(id)
                .or_default()
                .push((now, Outcome::Reply(result))),
            Event::Timeout { id } => peer
                .outcomes
                .entry(id)
                .or_default()
                .push((now, Outcome::Timeout)),
            Event::PendingLimitExceeded { id } => peer
                .outcomes
                .entry(id)
                .or_default()
                .push((now, Outcome::PendingLimit)),
            other => peer.events.push((now, other)),
        }
    }

    /// Run everything that happens at the current instant until nothing changes.
    fn drive(&mut self) {
        loop {
            let mut progress = false;
            for side in [Side::Mgc, Side::Mg] {
                let now = self.now;
                let peer = self.peer(side);
                let mut due = Vec::new();
                peer.due_replies.retain(|r| {
                    if r.0 <= now {
                        due.push(r.clone());
                        false
                    } else {
                        true
                    }
                });
                for (_, id, result) in due {
                    if let Err(e) = peer.ep.send_reply(now, id, result) {
                        peer.reply_errors.push(e);
                    }
                    progress = true;
                }
                while let Some(t) = self.peer(side).ep.poll_transmit() {
                    self.transmit(side, t);
                    progress = true;
                }
                while let Some(ev) = self.peer(side).ep.poll_event() {
                    self.on_event(side, ev);
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
    }

    fn next_time(&self) -> Option<Instant> {
        [
            self.mgc.ep.poll_timeout(),
            self.mg.ep.poll_timeout(),
            self.in_flight.iter().map(|p| p.at).min(),
            self.mgc.due_replies.iter().map(|r| r.0).min(),
            self.mg.due_replies.iter().map(|r| r.0).min(),
            self.schedule.iter().map(|s| s.0).min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advance to the next thing that happens; false when nothing is left.
    fn step(&mut self) -> bool {
        self.drive();
        let Some(next) = self.next_time() else {
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        // Scheduled requests.
        let mut sends: Vec<_> = self
            .schedule
            .iter()
            .filter(|s| s.0 <= now)
            .cloned()
            .collect();
        self.schedule.retain(|s| s.0 > now);
        sends.sort_by_key(|s| s.0);
        for (_, side, n) in sends {
            self.send(side, n);
        }
        // Deliveries, in arrival order.
        let mut arrived: Vec<Packet> = Vec::new();
        let mut i = 0;
        while i < self.in_flight.len() {
            if self.in_flight[i].at <= now {
                arrived.push(self.in_flight.swap_remove(i));
            } else {
                i += 1;
            }
        }
        arrived.sort_by_key(|p| (p.at, p.seq));
        for p in arrived {
            self.peer(p.to).ep.handle_input(now, &p.bytes);
            self.drive();
        }
        // Timers.
        for side in [Side::Mgc, Side::Mg] {
            if self.peer(side).ep.poll_timeout().is_some_and(|t| t <= now) {
                self.peer(side).ep.handle_timeout(now);
            }
        }
        self.drive();
        true
    }

    /// Run until nothing is left to do (all timers expired) or `limit` of virtual time.
    fn run(&mut self, limit: Duration) {
        while self.elapsed() < limit && self.step() {}
    }

    /// Run until `until` (virtual time since start) at the latest.
    fn run_until(&mut self, until: Duration) {
        loop {
            self.drive();
            match self.next_time() {
                Some(t) if t <= self.at(until) => {
                    self.step();
                }
                _ => break,
            }
        }
        self.now = self.now.max(self.at(until));
        self.drive();
    }

    fn wire(&self, from: Side) -> impl Iterator<Item = &Wire> {
        self.log.iter().filter(move |w| w.from == from)
    }
}

fn reliable(mut c: Config) -> Config {
    c.reliable = true;
    c
}

// ---------------------------------------------------------------------------------------------
// Basics

#[test]
fn request_is_answered_over_a_perfect_link() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    let id = p.send(Side::Mgc, 7);
    p.run(Duration::from_secs(120));

    assert_eq!(p.mg.executed.len(), 1);
    let outcomes = &p.mgc.outcomes[&id];
    assert_eq!(outcomes.len(), 1);
    let Outcome::Reply(result) = &outcomes[0].1 else {
        panic!("expected a reply, got {outcomes:?}")
    };
    assert_eq!(context_of(result), Some(7));
    assert_eq!(outcomes[0].0 - p.start, ms(10), "one round trip");
    // One request, one reply, nothing else.
    assert_eq!(p.log.len(), 2);
    assert!(p.log[0].has_request(id) && p.log[1].has_reply(id));
    assert_eq!(p.mgc.ep.stats().request_retransmissions, 0);
    // Everything expires: nothing left behind.
    assert_eq!(p.mgc.ep.outstanding_requests(), 0);
    assert_eq!(p.mg.ep.incoming_state(id), None);
    assert_eq!(p.mgc.ep.poll_timeout(), None);
    assert_eq!(p.mg.ep.poll_timeout(), None);
}

#[test]
fn every_message_carries_our_mid_and_version() {
    let mut mgc = Config::new(mgc_mid());
    mgc.version = 2;
    let mut p = Pair::new(mgc, Config::new(mg_mid()), Link::lossy(0.2, 0.1, 0.1), 3);
    p.mg.policy = Box::new(|rng, _| Some(rng.between(ms(0), ms(700))));
    for n in 0..20 {
        p.schedule.push((p.at(ms(n as u64 * 30)), Side::Mgc, n));
    }
    p.run(Duration::from_secs(300));
    assert!(p.log.len() > 40);
    for w in &p.log {
        let (mid, version) = match w.from {
            Side::Mgc => (mgc_mid(), 2),
            Side::Mg => (mg_mid(), 3),
        };
        assert_eq!(w.msg.mid, mid);
        assert_eq!(w.msg.version, version);
    }
    assert_eq!(p.mg.ep.peer_mid(), Some(&mgc_mid()));
}

#[test]
fn transaction_ids_are_unique_and_wrap_to_one() {
    let mut c = Config::new(mgc_mid());
    c.first_transaction_id = u32::MAX - 1;
    let mut ep = Endpoint::new(c).unwrap();
    let now = Instant::now();
    let ids: Vec<u32> = (0..4)
        .map(|n| ep.send_request(now, request(n)).unwrap())
        .collect();
    assert_eq!(ids, [u32::MAX - 1, u32::MAX, 1, 2]);
}

#[test]
fn application_errors_are_reported() {
    let mut ep = Endpoint::new(Config::new(mg_mid())).unwrap();
    let now = Instant::now();
    assert_eq!(ep.send_request(now, vec![]), Err(Error::NoActions));
    assert_eq!(
        ep.send_reply(now, 5, answer(&request(5))),
        Err(Error::UnknownTransaction(5))
    );
    let mut c = Config::new(mg_mid());
    c.max_transactions_per_message = 0;
    assert!(matches!(Endpoint::new(c), Err(Error::InvalidConfig(_))));
}

#[test]
fn binary_endpoints_interwork_over_ber() {
    let mut mgc = Config::new(mgc_mid());
    mgc.encoding = Encoding::Binary;
    let mut mg = Config::new(mg_mid());
    mg.encoding = Encoding::Binary;
    let mut p = Pair::new(mgc, mg, Link::perfect(), 1);
    // `ip/acc/t<N>` has a binary form in the default termination-ID mapping.
    let mut actions = request(1);
    if let Command::Add(a) = &mut actions[0].commands[0].command {
        a.termination_ids = [TerminationId::new("ip/acc/t1001")].into();
    }
    let id = p.mgc.ep.send_request(p.now, actions.clone()).unwrap();
    p.run(Duration::from_secs(60));
    // BER: a SEQUENCE, definite length, both ways.
    assert_eq!(p.log[0].bytes[0], 0x30);
    assert_eq!(p.log[1].bytes[0], 0x30);
    assert_eq!(p.mg.executed.values().copied().collect::<Vec<_>>(), vec![1]);
    // The test application echoes the request's terminations: they survived BER both ways.
    match &p.mgc.outcomes[&id][0].1 {
        Outcome::Reply(TransactionResult::Actions(a)) => match &a[0].commands[0] {
            CommandReply::Add(r) => {
                assert_eq!(
                    r.termination_ids.as_slice(),
                    [TerminationId::new("ip/acc/t1001")]
                )
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn pretty_and_compact_endpoints_interwork() {
    let mut mgc = Config::new(mgc_mid());
    mgc.encoding = Encoding::Text(Style::Pretty);
    let mut p = Pair::new(mgc, Config::new(mg_mid()), Link::perfect(), 1);
    let id = p.send(Side::Mgc, 3);
    p.run(Duration::from_secs(60));
    assert!(p.log[0].bytes.starts_with(b"MEGACO/3 "));
    assert!(p.log[1].bytes.starts_with(b"!/3 "));
    assert!(matches!(p.mgc.outcomes[&id][0].1, Outcome::Reply(_)));
}

/// Text, except that it refuses messages touching context 666.
#[derive(Debug)]
struct Picky;

impl Codec for Picky {
    fn encode(&self, msg: &Message) -> Result<Vec<u8>, EncodeError> {
        if format!("{msg:?}").contains("Id(666)") {
            return Err(EncodeError {
                reason: "context 666 has no encoding".into(),
            });
        }
        TextCodec(Style::Compact).encode(msg)
    }
    fn decode(&self, bytes: &[u8]) -> Result<Message, MalformedMessage> {
        TextCodec(Style::Compact).decode(bytes)
    }
}

#[test]
fn custom_codec_failures_fail_only_the_transaction_concerned() {
    let mut c = Config::new(mgc_mid());
    c.encoding = Encoding::Custom(std::sync::Arc::new(Picky));
    c.bundle = true;
    let mut ep = Endpoint::new(c).unwrap();
    let now = Instant::now();
    let good = ep.send_request(now, request(1)).unwrap();
    let bad = ep.send_request(now, request(665)).unwrap();
    let also_good = ep.send_request(now, request(2)).unwrap();
    let sent: Vec<Message> = std::iter::from_fn(|| ep.poll_transmit())
        .map(|t| text::decode(&t.bytes).unwrap())
        .collect();
    let ids: Vec<u32> = sent
        .iter()
        .flat_map(|m| m.transaction_summary())
        .map(|s| s.id)
        .collect();
    assert_eq!(
        ids,
        [good, also_good],
        "the bundle is split around the culprit"
    );
    assert!(matches!(
        ep.poll_event(),
        Some(Event::EncodeError { id: Some(id), .. }) if id == bad
    ));
    assert_eq!(
        ep.outstanding_requests(),
        2,
        "the unsendable request is given up"
    );
}

#[test]
fn unencodable_reply_leaves_the_request_open_for_another_answer() {
    let mut c = Config::new(mg_mid());
    c.encoding = Encoding::Custom(std::sync::Arc::new(Picky));
    let mut p = Pair::new(Config::new(mgc_mid()), c, Link::perfect(), 1);
    p.mg.policy = Box::new(|_, _| None);
    let id = p.send(Side::Mgc, 1);
    p.run_until(ms(10));
    let now = p.now;
    let bad = TransactionResult::Actions(vec![ActionReply {
        context: ContextId::Id(666),
        error: None,
        context_reply: None,
        commands: vec![],
    }]);
    p.mg.ep.send_reply(now, id, bad).unwrap();
    p.drive();
    assert!(matches!(
        &p.mg.events[..],
        [(_, Event::EncodeError { id: Some(i), .. })] if *i == id
    ));
    assert_eq!(p.mg.ep.incoming_state(id), Some(IncomingState::Executing));
    p.mg.ep.send_reply(now, id, answer(&request(1))).unwrap();
    p.run(Duration::from_secs(120));
    assert!(matches!(p.mgc.outcomes[&id][..], [(_, Outcome::Reply(_))]));
}

// ---------------------------------------------------------------------------------------------
// At-most-once, reply cache, retransmission

#[test]
fn retransmitted_request_is_answered_from_cache() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    let mut dropped = false;
    p.drop_rule = Some(Box::new(move |from, msg| {
        let is_reply = matches!(&msg.body, MessageBody::Transactions(t)
            if t.iter().any(|t| matches!(t, Transaction::Reply(_))));
        if from == Side::Mg && is_reply && !dropped {
            dropped = true;
            return true;
        }
        false
    }));
    let id = p.send(Side::Mgc, 1);
    p.run(Duration::from_secs(120));

    // Executed once, answered once.
    assert_eq!(p.mg.executed[&id], 1);
    assert_eq!(p.mgc.outcomes[&id].len(), 1);
    assert!(matches!(p.mgc.outcomes[&id][0].1, Outcome::Reply(_)));
    // The retransmission (at 200 ms) got the cached reply, byte for byte.
    assert_eq!(p.mgc.ep.stats().request_retransmissions, 1);
    assert_eq!(p.mg.ep.stats().replies_from_cache, 1);
    assert_eq!(p.mg.ep.stats().replies_sent, 1);
    let replies: Vec<&Wire> = p.wire(Side::Mg).filter(|w| w.has_reply(id)).collect();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0].bytes, replies[1].bytes);
    assert!(replies[0].dropped && !replies[1].dropped);
    assert_eq!(replies[1].at - p.start, ms(205));
}

#[test]
fn duplicated_messages_are_executed_and_reported_once() {
    let mut link = Link::perfect();
    link.dup = 1.0; // every message arrives twice
    let mut p = Pair::defaults(link, 2);
    let ids: Vec<u32> = (0..5).map(|n| p.send(Side::Mgc, n)).collect();
    p.run(Duration::from_secs(120));
    for id in ids {
        assert_eq!(p.mg.executed[&id], 1);
        assert_eq!(p.mgc.outcomes[&id].len(), 1);
    }
    // The second copy of each request gets the cached reply: two replies, each doubled.
    assert_eq!(p.mg.ep.stats().replies_from_cache, 5);
    assert_eq!(p.mgc.ep.stats().duplicate_replies, 15);
}

#[test]
fn retransmissions_back_off_exponentially_and_stop_at_t_max() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    p.drop_rule = Some(Box::new(|from, _| from == Side::Mgc)); // the MG hears nothing
    let id = p.send(Side::Mgc, 1);
    p.run(Duration::from_secs(120));

    let sent: Vec<Duration> = p.wire(Side::Mgc).map(|w| w.at - p.start).collect();
    let expect: Vec<Duration> = [
        0, 200, 600, 1400, 3000, 6200, 10200, 14200, 18200, 22200, 26200,
    ]
    .into_iter()
    .map(ms)
    .collect();
    assert_eq!(
        sent, expect,
        "200 ms doubling, capped at 4 s, none after T-MAX"
    );
    assert_eq!(
        p.mgc.outcomes[&id],
        vec![(p.at(ms(30_000)), Outcome::Timeout)]
    );
    assert_eq!(p.mgc.ep.stats().request_retransmissions, 10);
    assert_eq!(p.mgc.ep.stats().timeouts, 1);
}

#[test]
fn jittered_retransmissions_are_seeded_and_within_half_to_full_timeout() {
    let schedule = |seed: u64| {
        let mut c = Config::new(mgc_mid());
        c.retransmit_jitter_seed = Some(seed);
        let mut p = Pair::new(c, Config::new(mg_mid()), Link::perfect(), 1);
        p.drop_rule = Some(Box::new(|from, _| from == Side::Mgc));
        p.send(Side::Mgc, 1);
        p.run(Duration::from_secs(120));
        p.wire(Side::Mgc)
            .map(|w| w.at - p.start)
            .collect::<Vec<_>>()
    };
    let a = schedule(42);
    assert_eq!(a, schedule(42), "same seed, same schedule");
    assert_ne!(a, schedule(43));
    let mut nominal = ms(200);
    for pair in a.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= nominal / 2 && gap <= nominal,
            "{gap:?} vs {nominal:?}"
        );
        nominal = (nominal * 2).min(Duration::from_secs(4));
    }
    assert!(*a.last().unwrap() < Duration::from_secs(30));
}

#[test]
fn reliable_mode_sends_no_retransmissions() {
    let mut p = Pair::new(
        reliable(Config::new(mgc_mid())),
        reliable(Config::new(mg_mid())),
        Link::perfect(),
        1,
    );
    p.drop_rule = Some(Box::new(|from, _| from == Side::Mgc));
    let id = p.send(Side::Mgc, 1);
    p.run(Duration::from_secs(120));
    assert_eq!(p.wire(Side::Mgc).count(), 1, "sent once, never repeated");
    assert_eq!(
        p.mgc.outcomes[&id],
        vec![(p.at(ms(30_000)), Outcome::Timeout)]
    );
}

#[test]
fn reliable_mode_still_sends_pending_but_never_repeats_the_reply() {
    let mut p = Pair::new(
        reliable(Config::new(mgc_mid())),
        reliable(Config::new(mg_mid())),
        Link::perfect(),
        1,
    );
    p.mg.policy = Box::new(|_, _| Some(ms(500)));
    // Lose the acknowledgement: over a reliable transport the reply is not repeated anyway.
    p.drop_rule = Some(Box::new(|from, msg| {
        from == Side::Mgc
            && matches!(&msg.body, MessageBody::Transactions(t)
                if t.iter().any(|t| matches!(t, Transaction::ResponseAck(_))))
    }));
    let id = p.send(Side::Mgc, 1);
    p.run(Duration::from_secs(120));
    assert!(matches!(p.mgc.outcomes[&id][..], [(_, Outcome::Reply(_))]));
    assert_eq!(p.wire(Side::Mg).map(Wire::pendings).sum::<usize>(), 2);
    assert_eq!(p.wire(Side::Mg).filter(|w| w.has_reply(id)).count(), 1);
    assert_eq!(p.mgc.ep.stats().request_retransmissions, 0);
    assert_eq!(p.mg.ep.stats().reply_retransmissions, 0);
}

#[test]
fn reply_cache_and_ids_expire_after_the_reply_timer() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    let id = p.send(Side::Mgc, 1);
    p.run_until(Duration::from_secs(1));
    assert_eq!(p.mg.ep.incoming_state(id), Some(IncomingState::Replied));
    p.run_until(ms(30_004));
    assert_eq!(p.mg.ep.incoming_state(id), Some(IncomingState::Replied));
    p.run_until(ms(30_006)); // replied at 5 ms + LONG-TIMER 30 s
    assert_eq!(p.mg.ep.incoming_state(id), None);
}

// ---------------------------------------------------------------------------------------------
// Pending, long timer, limits, immediate acknowledgement

#[test]
fn slow_reply_makes_responder_send_pending_and_requester_switch_to_long_timer() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    p.mg.policy = Box::new(|_, _| Some(ms(500)));
    let id = p.send(Side::Mgc, 1);
    p.run(Duration::from_secs(120));

    // The request arrived at 5 ms; its repetition (sent at 200 ms, before any Pending could
    // arrive) at 205 ms, answered with a Pending that restarts the pending timer; the timer
    // sends the next at 405 ms; the reply follows at 505 ms.
    let pendings: Vec<Duration> = p
        .wire(Side::Mg)
        .filter(|w| w.pendings() > 0)
        .map(|w| w.at - p.start)
        .collect();
    assert_eq!(pendings, [ms(205), ms(405)]);
    // After the first Pending the requester stopped repeating.
    let requests: Vec<Duration> = p
        .wire(Side::Mgc)
        .filter(|w| w.has_request(id))
        .map(|w| w.at - p.start)
        .collect();
    assert_eq!(requests, [ms(0), ms(200)]);
    // The reply asks for an immediate acknowledgement and gets it.
    let reply = p.wire(Side::Mg).find(|w| w.has_reply(id)).unwrap();
    assert!(matches!(&reply.items()[0], Transaction::Reply(r) if r.imm_ack_required));
    let ack = p.wire(Side::Mgc).find(|w| !w.acks().is_empty()).unwrap();
    assert_eq!(
        ack.acks(),
        [TransactionAck {
            first: id,
            last: None
        }]
    );
    assert_eq!(ack.at, reply.at + ms(5), "acknowledged on arrival");
    // One reply, no timeout, executed once.
    assert!(matches!(p.mgc.outcomes[&id][..], [(_, Outcome::Reply(_))]));
    assert_eq!(p.mg.executed[&id], 1);
    assert_eq!(p.mgc.ep.stats().pendings_received, 2);
}

#[test]
fn pending_keeps_a_request_alive_beyond_t_max() {
    let mut mg = Config::new(mg_mid());
    mg.pending_timer = Duration::from_secs(10);
    mg.sent_pending_limit = None;
    let mut mgc = Config::new(mgc_mid());
    mgc.recv_pending_limit = None;
    let mut p = Pair::new(mgc, mg, Link::perfect(), 1);
    p.mg.policy = Box::new(|_, _| Some(Duration::from_secs(45)));
    let id = p.send(Side::Mgc, 1);
    p.run(Duration::from_secs(300));
    let outcomes = &p.mgc.outcomes[&id];
    assert_eq!(outcomes.len(), 1);
    assert!(matches!(outcomes[0].1, Outcome::Reply(_)));
    assert_eq!(
        outcomes[0].0 - p.start,
        ms(45_010),
        "no timeout at T-MAX (30 s)"
    );
}

#[test]
fn long_request_timer_expires_without_further_pending() {
    let mut mg = Config::new(mg_mid());
    mg.pending_timer = Duration::from_secs(1000); // Pending only for repetitions
    let mut p = Pair::new(Config::new(mgc_mid()), mg, Link::perfect(), 1);
    p.mg.policy = Box::new(|_, _| None); // never answers
    let id = p.send(Side::Mgc, 1);
    p.run(Duration::from_secs(300));
    // Retransmission at 200 ms, Pending back at 210 ms, then 60 s of silence.
    assert_eq!(
        p.mgc.outcomes[&id],
        vec![(p.at(ms(60_210)), Outcome::Timeout)]
    );
}

#[test]
fn requester_gives_up_past_its_pending_limit() {
    let mut mg = Config::new(mg_mid());
    mg.pending_timer = ms(100);
    mg.sent_pending_limit = None;
    let mut mgc = Config::new(mgc_mid());
    mgc.recv_pending_limit = Some(2);
    let mut p = Pair::new(mgc, mg, Link::perfect(), 1);
    p.mg.policy = Box::new(|_, _| None);
    let id = p.send(Side::Mgc, 1);
    p.run_until(Duration::from_secs(2));
    // Pendings leave at 105, 205, 305 ms (the first stops the repetitions): the third is
    // one too many.
    assert_eq!(
        p.mgc.outcomes[&id],
        vec![(p.at(ms(310)), Outcome::PendingLimit)]
    );
    assert_eq!(p.mgc.ep.outstanding_requests(), 0);
}

#[test]
fn responder_aborts_with_506_past_its_pending_limit() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    p.mg.policy = Box::new(|_, _| Some(Duration::from_secs(2))); // too slow
    let id = p.send(Side::Mgc, 1);
    p.run(Duration::from_secs(120));

    assert_eq!(p.wire(Side::Mg).map(Wire::pendings).sum::<usize>(), 3);
    assert!(p
        .mg
        .events
        .iter()
        .any(|(_, e)| *e == Event::RequestAborted { id }));
    let outcomes = &p.mgc.outcomes[&id];
    assert_eq!(outcomes.len(), 1);
    let Outcome::Reply(result) = &outcomes[0].1 else {
        panic!("{outcomes:?}")
    };
    assert_eq!(error_code(result), Some(506));
    // The application's late answer is refused; nothing else goes out for it.
    assert_eq!(p.mg.reply_errors, vec![Error::AlreadyAnswered(id)]);
    assert_eq!(p.wire(Side::Mg).filter(|w| w.has_reply(id)).count(), 1);
}

#[test]
fn imm_ack_required_reply_is_acknowledged_and_responder_drops_cached_reply() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    p.mg.policy = Box::new(|_, _| Some(ms(300)));
    let id = p.send(Side::Mgc, 1);
    p.run_until(Duration::from_secs(1));
    assert_eq!(p.mg.ep.incoming_state(id), Some(IncomingState::Acked));
    assert_eq!(p.mg.ep.stats().acks_received, 1);
    // A late copy of the request is dropped silently: no reply, no event, not executed.
    let original = p
        .wire(Side::Mgc)
        .find(|w| w.has_request(id))
        .unwrap()
        .bytes
        .clone();
    let sent_before = p.log.len();
    p.inject(Side::Mg, &original);
    assert_eq!(p.log.len(), sent_before);
    assert_eq!(p.mg.ep.stats().duplicates_discarded, 1);
    assert_eq!(p.mg.executed[&id], 1);
    assert!(p.mg.events.is_empty());
}

#[test]
fn lost_acknowledgement_is_repeated_when_the_reply_is_repeated() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    p.mg.policy = Box::new(|_, _| Some(ms(300)));
    let mut dropped = false;
    p.drop_rule = Some(Box::new(move |from, msg| {
        let is_ack = matches!(&msg.body, MessageBody::Transactions(t)
            if t.iter().any(|t| matches!(t, Transaction::ResponseAck(_))));
        if from == Side::Mgc && is_ack && !dropped {
            dropped = true;
            return true;
        }
        false
    }));
    let id = p.send(Side::Mgc, 1);
    p.run(Duration::from_secs(120));

    // Reply at 300 ms, repeated 200 ms later; the second acknowledgement gets through.
    let replies: Vec<Duration> = p
        .wire(Side::Mg)
        .filter(|w| w.has_reply(id))
        .map(|w| w.at - p.start)
        .collect();
    assert_eq!(replies, [ms(305), ms(505)]);
    assert_eq!(
        p.wire(Side::Mgc).filter(|w| !w.acks().is_empty()).count(),
        2
    );
    assert_eq!(
        p.mgc.outcomes[&id].len(),
        1,
        "the repeated reply is not reported"
    );
    assert_eq!(p.mgc.ep.stats().duplicate_replies, 1);
    assert_eq!(p.mg.ep.stats().reply_retransmissions, 1);
}

#[test]
fn acknowledgements_are_collected_into_ranges() {
    let mut mgc = Config::new(mgc_mid());
    mgc.auto_ack = true;
    mgc.ack_delay = ms(50);
    let mut p = Pair::new(mgc, Config::new(mg_mid()), Link::perfect(), 1);
    let ids: Vec<u32> = (0..5).map(|n| p.send(Side::Mgc, n)).collect();
    let extra = p.send(Side::Mgc, 9);
    p.mg.policy = Box::new(move |_, id| Some(if id == extra { ms(20) } else { ms(0) }));
    p.run_until(Duration::from_secs(1));
    let acks: Vec<&Wire> = p.wire(Side::Mgc).filter(|w| !w.acks().is_empty()).collect();
    assert_eq!(acks.len(), 1, "one message");
    assert_eq!(
        acks[0].acks(),
        [TransactionAck {
            first: ids[0],
            last: Some(extra)
        }],
        "one range"
    );
    assert_eq!(acks[0].at - p.start, ms(60), "held for ack_delay");
    for id in ids {
        assert_eq!(p.mg.ep.incoming_state(id), Some(IncomingState::Acked));
    }
}

#[test]
fn response_ack_for_unknown_ids_is_ignored() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    let id = p.send(Side::Mgc, 1);
    p.run_until(Duration::from_secs(1));
    assert_eq!(p.mg.ep.incoming_state(id), Some(IncomingState::Replied));
    let sent_before = p.log.len();
    p.inject(
        Side::Mg,
        b"!/3 <alg.example.net>:2944\nK{1000-4000000000,7,9-3}",
    );
    assert_eq!(p.log.len(), sent_before, "nothing answered");
    assert!(p.mg.events.is_empty(), "nothing reported");
    assert_eq!(p.mg.ep.incoming_state(id), Some(IncomingState::Replied));
    // A range that covers a known ID among unknown ones releases just that one.
    p.inject(
        Side::Mg,
        format!("!/3 <alg.example.net>:2944\nK{{0-{}}}", id + 100).as_bytes(),
    );
    assert_eq!(p.mg.ep.incoming_state(id), Some(IncomingState::Acked));
    assert_eq!(p.mg.ep.stats().acks_received, 1);
}

#[test]
fn unexpected_reply_is_reported_and_stray_pending_ignored() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    p.inject(Side::Mgc, b"!/3 <agw.example.net>:2944\nPN=99{}");
    assert!(p.mgc.events.is_empty());
    p.inject(
        Side::Mgc,
        b"!/3 <agw.example.net>:2944\nP=99{IA,C=1{A=ip/1}}",
    );
    assert_eq!(
        p.mgc.events,
        vec![(p.now, Event::UnexpectedReply { id: 99 })]
    );
    // It asked for an acknowledgement and gets one, so the peer stops repeating.
    assert_eq!(
        p.wire(Side::Mgc).last().unwrap().acks(),
        [TransactionAck {
            first: 99,
            last: None
        }]
    );
}

#[test]
fn pending_after_the_reply_is_ignored() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    let id = p.send(Side::Mgc, 1);
    p.run_until(Duration::from_secs(1));
    p.inject(
        Side::Mgc,
        format!("!/3 <agw.example.net>:2944\nPN={id}{{}}").as_bytes(),
    );
    assert_eq!(p.mgc.outcomes[&id].len(), 1);
    assert!(p.mgc.events.is_empty());
    assert_eq!(p.mgc.ep.poll_transmit(), None);
}

// ---------------------------------------------------------------------------------------------
// Malformed input, message limits, bundling

#[test]
fn malformed_message_is_answered_with_400() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    p.inject(Side::Mg, b"garbage");
    let answer = p.wire(Side::Mg).last().expect("answered").clone();
    let MessageBody::Error(e) = &answer.msg.body else {
        panic!("{answer:?}")
    };
    assert_eq!(e.code, 400);
    assert!(matches!(&p.mg.events[..], [(_, Event::DecodeError { error })] if error.code == 400));
    // Delivered to the sender, the error is reported and not answered.
    p.run(Duration::from_secs(1));
    assert!(matches!(&p.mgc.events[..], [(_, Event::PeerError { error })] if error.code == 400));
    assert_eq!(p.wire(Side::Mgc).count(), 0);
}

#[test]
fn malformed_transaction_is_answered_with_403_reply() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    for (txn, code) in [
        (&b"!/3 <alg.example.net>:2944\nT=7{C=-{AV=ROOT{}}"[..], 403),
        (b"!/3 <alg.example.net>:2944\nT=8{C=-{XX=ROOT}}", 443),
    ] {
        for _ in 0..2 {
            p.inject(Side::Mg, txn);
            let w = p.wire(Side::Mg).last().unwrap();
            let [Transaction::Reply(r)] = w.items() else {
                panic!("{w:?}")
            };
            assert_eq!(error_code(&r.result), Some(code));
        }
    }
    assert!(p.mg.executed.is_empty(), "nothing executed");
    assert_eq!(p.mg.ep.stats().decode_errors, 4);
    assert_eq!(p.mg.ep.incoming_state(7), None, "not cached");
}

fn many_requests(first: u32, count: u32) -> Vec<u8> {
    let msg = Message {
        auth: None,
        version: 3,
        mid: mgc_mid(),
        body: MessageBody::Transactions(
            (first..first + count)
                .map(|id| {
                    Transaction::Request(TransactionRequest {
                        id,
                        actions: request(id),
                    })
                })
                .collect(),
        ),
    };
    text::encode(&msg, Style::Compact).into_bytes()
}

#[test]
fn more_than_ten_transactions_in_a_message_is_answered_with_413() {
    let mut mg = Config::new(mg_mid());
    mg.bundle = true;
    let mut p = Pair::new(Config::new(mgc_mid()), mg, Link::perfect(), 1);
    p.inject(Side::Mg, &many_requests(1, 11));
    assert!(p.mg.executed.is_empty(), "none executed");
    assert!(matches!(
        &p.mg.events[..],
        [(_, Event::TooManyTransactions { count: 11 })]
    ));
    let answers: Vec<&Wire> = p.wire(Side::Mg).collect();
    assert_eq!(
        answers.iter().map(|w| w.items().len()).collect::<Vec<_>>(),
        [10, 1]
    );
    for w in answers {
        for t in w.items() {
            let Transaction::Reply(r) = t else { panic!() };
            assert_eq!(error_code(&r.result), Some(413));
        }
    }
    // Ten is fine.
    p.inject(Side::Mg, &many_requests(100, 10));
    assert_eq!(p.mg.executed.len(), 10);
    // More than ten without requests: a message-level 413.
    let pendings = "PN=1{}".repeat(11);
    p.inject(
        Side::Mg,
        format!("!/3 <alg.example.net>:2944\n{pendings}").as_bytes(),
    );
    let MessageBody::Error(e) = &p.wire(Side::Mg).last().unwrap().msg.body else {
        panic!()
    };
    assert_eq!(e.code, 413);
}

#[test]
fn bundled_transactions_respect_the_limit_of_ten() {
    let mut mgc = Config::new(mgc_mid());
    mgc.bundle = true;
    let mut mg = Config::new(mg_mid());
    mg.bundle = true;
    let mut p = Pair::new(mgc, mg, Link::perfect(), 1);
    let ids: Vec<u32> = (0..25).map(|n| p.send(Side::Mgc, n)).collect();
    p.run(Duration::from_secs(120));
    let sizes = |side| p.wire(side).map(|w| w.items().len()).collect::<Vec<_>>();
    assert_eq!(sizes(Side::Mgc), [10, 10, 5]);
    assert_eq!(
        sizes(Side::Mg),
        [10, 10, 5],
        "replies to one message go out together"
    );
    for id in ids {
        assert!(matches!(p.mgc.outcomes[&id][..], [(_, Outcome::Reply(_))]));
    }
}

#[test]
fn unbundled_endpoint_sends_one_transaction_per_message() {
    let mut p = Pair::defaults(Link::perfect(), 1);
    p.inject(Side::Mg, &many_requests(1, 3));
    assert_eq!(p.mg.executed.len(), 3);
    assert_eq!(
        p.wire(Side::Mg)
            .map(|w| w.items().len())
            .collect::<Vec<_>>(),
        [1, 1, 1]
    );
}

#[test]
fn bundled_acknowledgement_rides_with_the_next_request() {
    let mut mgc = Config::new(mgc_mid());
    mgc.bundle = true;
    mgc.ack_delay = Duration::from_secs(1);
    let mut p = Pair::new(mgc, Config::new(mg_mid()), Link::perfect(), 1);
    p.mg.policy = Box::new(|_, _| Some(ms(300)));
    let first = p.send(Side::Mgc, 1);
    p.run_until(ms(400)); // reply with ImmAckRequired arrived at 305 ms
    let second = p.send(Side::Mgc, 2);
    p.run_until(ms(401));
    let w = p.wire(Side::Mgc).last().unwrap();
    assert!(w.has_request(second));
    assert_eq!(w.acks(), [TransactionAck { first, last: None }]);
}

// ---------------------------------------------------------------------------------------------
// The property run: many seeds through a bad link

#[derive(Default, Debug)]
struct Totals {
    requests: usize,
    replies: usize,
    timeouts: usize,
    executed: usize,
    not_executed: usize,
    mgc: Stats,
    mg: Stats,
}

fn add(total: &mut Stats, s: &Stats) {
    total.request_retransmissions += s.request_retransmissions;
    total.replies_from_cache += s.replies_from_cache;
    total.duplicate_requests += s.duplicate_requests;
    total.duplicates_discarded += s.duplicates_discarded;
    total.pendings_sent += s.pendings_sent;
    total.pendings_received += s.pendings_received;
    total.reply_retransmissions += s.reply_retransmissions;
    total.duplicate_replies += s.duplicate_replies;
    total.acks_sent += s.acks_sent;
    total.messages_sent += s.messages_sent;
}

/// One seed: the MGC sends 50 requests (every 20 ms) and the MG 10 (every 100 ms) while both
/// answer the other's; 15 % of the answers are slow (250-900 ms, so Pendings flow).
fn lossy_run(seed: u64, link: Link, totals: &mut Totals) {
    let config = |mid| {
        let mut c = Config::new(mid);
        // Duplicated Pendings would count against the limits; they have their own tests.
        c.sent_pending_limit = None;
        c.recv_pending_limit = None;
        c
    };
    let mut p = Pair::new(config(mgc_mid()), config(mg_mid()), link, seed);
    p.record = false;
    let policy = || -> ReplyPolicy {
        Box::new(|rng, _| {
            Some(if rng.chance(0.15) {
                rng.between(ms(250), ms(900))
            } else {
                rng.between(ms(0), ms(30))
            })
        })
    };
    p.mgc.policy = policy();
    p.mg.policy = policy();
    for n in 0..50 {
        p.schedule.push((p.at(ms(20 * n as u64)), Side::Mgc, n));
    }
    for n in 0..10 {
        p.schedule
            .push((p.at(ms(100 * n as u64 + 7)), Side::Mg, 1000 + n));
    }
    p.run(Duration::from_secs(600));
    assert!(p.next_time().is_none(), "seed {seed}: did not settle");

    for (requester, responder) in [(&p.mgc, &p.mg), (&p.mg, &p.mgc)] {
        for (&id, &n) in &requester.sent {
            let outcomes = requester.outcomes.get(&id).map_or(&[][..], |o| &o[..]);
            // Exactly one final outcome per request.
            assert_eq!(outcomes.len(), 1, "seed {seed}, request {id}: {outcomes:?}");
            let executed = responder.executed.get(&id).copied().unwrap_or(0);
            // Executed at most once, ever.
            assert!(
                executed <= 1,
                "seed {seed}, request {id} executed {executed} times"
            );
            match &outcomes[0].1 {
                Outcome::Reply(result) => {
                    assert_eq!(
                        context_of(result),
                        Some(n),
                        "seed {seed}: wrong reply {result:?}"
                    );
                    assert_eq!(executed, 1, "seed {seed}: reply without execution");
                    totals.replies += 1;
                }
                Outcome::Timeout => totals.timeouts += 1,
                Outcome::PendingLimit => panic!("seed {seed}: no limits configured"),
            }
            totals.requests += 1;
            if executed == 1 {
                totals.executed += 1;
            } else {
                totals.not_executed += 1;
            }
        }
        assert!(requester.reply_errors.is_empty(), "seed {seed}");
        assert!(
            requester.events.is_empty(),
            "seed {seed}: unexpected events {:?}",
            requester.events
        );
        assert_eq!(requester.ep.outstanding_requests(), 0);
    }
    add(&mut totals.mgc, p.mgc.ep.stats());
    add(&mut totals.mg, p.mg.ep.stats());
}

fn lossy_campaign(name: &str, link: Link) -> Totals {
    let mut totals = Totals::default();
    for seed in 0..200 {
        lossy_run(seed, link, &mut totals);
    }
    println!(
        "{name}: {link:?}\n  200 seeds, {} requests: {} replies, {} timeouts, {} executed, {} never reached the peer\n  \
         MGC: {} retransmissions, {} replies from cache, {} duplicates dropped after ack, {} pendings sent, {} received, {} reply repeats, {} acks sent, {} messages\n  \
         MG:  {} retransmissions, {} replies from cache, {} duplicates dropped after ack, {} pendings sent, {} received, {} reply repeats, {} acks sent, {} messages",
        totals.requests, totals.replies, totals.timeouts, totals.executed, totals.not_executed,
        totals.mgc.request_retransmissions, totals.mgc.replies_from_cache, totals.mgc.duplicates_discarded,
        totals.mgc.pendings_sent, totals.mgc.pendings_received, totals.mgc.reply_retransmissions, totals.mgc.acks_sent, totals.mgc.messages_sent,
        totals.mg.request_retransmissions, totals.mg.replies_from_cache, totals.mg.duplicates_discarded,
        totals.mg.pendings_sent, totals.mg.pendings_received, totals.mg.reply_retransmissions, totals.mg.acks_sent, totals.mg.messages_sent,
    );
    totals
}

#[test]
fn lossy_link_executes_every_request_exactly_once() {
    // 15 % loss, 10 % duplication, 15 % reordering (up to 120 ms extra), each way.
    let t = lossy_campaign("loss 15%", Link::lossy(0.15, 0.10, 0.15));
    assert_eq!(t.requests, 200 * 60);
    // Eleven tries within T-MAX each succeed with p = 0.85^2: a timeout is a 1-in-10^6 event.
    assert!(t.timeouts <= 2, "{} timeouts", t.timeouts);
    assert!(t.mgc.request_retransmissions > 1000);
    assert!(
        t.mg.replies_from_cache > 500,
        "repetitions were answered from the cache"
    );
    assert!(t.mg.pendings_sent > 0 && t.mgc.pendings_received > 0);
    assert!(t.mgc.duplicate_replies > 0 && t.mg.duplicate_requests > 0);
}

#[test]
fn very_lossy_link_still_never_executes_twice() {
    // 40 % loss makes timeouts possible; at-most-once and one outcome per request must hold.
    let t = lossy_campaign("loss 40%", Link::lossy(0.40, 0.20, 0.20));
    assert_eq!(t.requests, 200 * 60);
    // P(all 11 tries fail) = (1 - 0.6^2)^11 = 0.74 %; allow twice that.
    assert!(
        t.timeouts <= t.requests * 15 / 1000,
        "{} timeouts of {}",
        t.timeouts,
        t.requests
    );
}
