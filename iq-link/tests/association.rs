//! Behaviour of the control association (MG and MGC sides), driven through an in-memory
//! network with a virtual clock: one MG, one or two MGCs, a link that can lose, duplicate and
//! reorder (seeded), and a transport that can be cut. Every run is reproducible.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{ms, secs, Link, Rng};
use iq_codec::model::*;
use iq_codec::text::{self, Style};
use iq_link::association::mg::{self, Failure, Service, Status};
use iq_link::association::mgc::{self, LossCause, ServiceChangeOutcome};
use iq_link::association::{
    error_code, reason, Backoff, Error, Keepalive, Mg, MgConfig, MgEntry, Mgc, MgcConfig,
    OutOfService,
};

// ---------------------------------------------------------------------------------------------
// Harness

fn domain(name: &str) -> MId {
    MId::Domain {
        name: name.into(),
        port: Some(2944),
    }
}

fn mg_mid() -> MId {
    domain("agw1.example.net")
}

fn mgc_mid(i: usize) -> MId {
    domain(&format!("alg{}.example.net", i + 1))
}

fn mg_addr() -> SocketAddr {
    "192.0.2.10:2944".parse().unwrap()
}

fn mgc_addr(i: usize) -> SocketAddr {
    format!("192.0.2.{}:2944", i + 1).parse().unwrap()
}

fn mg_config() -> MgConfig {
    MgConfig::new(mg_mid(), mgc_mid(0))
}

fn mgc_config(i: usize) -> MgcConfig {
    MgcConfig::new(mgc_mid(i), vec![MgEntry::new(mg_mid(), mg_addr())])
}

fn reliable_mg(mut c: MgConfig) -> MgConfig {
    c.transaction.reliable = true;
    c
}

fn reliable_mgc(mut c: MgcConfig) -> MgcConfig {
    c.transaction.reliable = true;
    c
}

/// What an application answers: one empty reply of the same kind per command; it implements
/// nothing on ROOT (501).
fn answer(actions: &[ActionRequest]) -> TransactionResult {
    if let Some(Command::Modify(m)) = actions.first().map(|a| &a.commands[0].command) {
        if m.termination_ids.as_slice() == [TerminationId::root()] {
            return TransactionResult::Actions(vec![ActionReply {
                context: ContextId::Null,
                error: Some(ErrorDescriptor {
                    code: 501,
                    text: Some("Not Implemented".into()),
                }),
                context_reply: None,
                commands: vec![],
            }]);
        }
    }
    TransactionResult::Actions(
        actions
            .iter()
            .map(|a| ActionReply {
                context: a.context,
                error: None,
                context_reply: None,
                commands: a
                    .commands
                    .iter()
                    .map(|c| match &c.command {
                        Command::Notify(n) => CommandReply::Notify(NotifyReply {
                            termination_ids: n.termination_ids.clone(),
                            error: None,
                        }),
                        Command::Add(r) | Command::Modify(r) => CommandReply::Modify(AmmsReply {
                            termination_ids: r.termination_ids.clone(),
                            audit: None,
                        }),
                        other => panic!("test application got {}", other.name()),
                    })
                    .collect(),
            })
            .collect(),
    )
}

fn one(context: ContextId, command: Command) -> Vec<ActionRequest> {
    vec![ActionRequest {
        context,
        context_request: None,
        context_audit: None,
        commands: vec![CommandRequest {
            command,
            optional: false,
            wildcard_return: false,
        }],
    }]
}

/// An Add of a new termination (MGC → MG traffic).
fn add() -> Vec<ActionRequest> {
    one(
        ContextId::Choose,
        Command::Add(AmmRequest {
            termination_ids: [TerminationId::new("ip/$")].into(),
            descriptors: vec![],
        }),
    )
}

/// A Notify on a termination (MG → MGC traffic).
fn notify() -> Vec<ActionRequest> {
    one(
        ContextId::Id(7),
        Command::Notify(NotifyRequest {
            termination_ids: [TerminationId::new("ip/1")].into(),
            observed_events: Some(ObservedEventsDescriptor {
                request_id: 1,
                events: vec![ObservedEvent {
                    name: "hangterm/thb".into(),
                    stream: None,
                    params: vec![],
                    timestamp: None,
                }],
            }),
            error: None,
        }),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Mg,
    Mgc(usize),
    Stranger(SocketAddr),
}

/// One message on the wire, decoded.
#[derive(Debug, Clone)]
struct Wire {
    at: Instant,
    from: Node,
    to: Node,
    msg: Message,
    dropped: bool,
}

impl Wire {
    fn items(&self) -> &[Transaction] {
        match &self.msg.body {
            MessageBody::Transactions(t) => t,
            MessageBody::Error(_) => &[],
        }
    }
    fn requests(&self) -> impl Iterator<Item = &TransactionRequest> {
        self.items().iter().filter_map(|t| match t {
            Transaction::Request(r) => Some(r),
            _ => None,
        })
    }
    fn replies(&self) -> impl Iterator<Item = &TransactionReply> {
        self.items().iter().filter_map(|t| match t {
            Transaction::Reply(r) => Some(r),
            _ => None,
        })
    }
    /// The parameters of the ServiceChange request this message carries, if any.
    fn service_change(&self) -> Option<&ServiceChangeParm> {
        self.requests()
            .find_map(|r| match &r.actions[0].commands[0].command {
                Command::ServiceChange(sc) => Some(&*sc.parms),
                _ => None,
            })
    }
    fn first_command(&self) -> Option<&Command> {
        self.requests()
            .next()
            .map(|r| &r.actions[0].commands[0].command)
    }
    fn sc_reply(&self) -> Option<&ServiceChangeResult> {
        self.replies().find_map(|r| match &r.result {
            TransactionResult::Actions(a) => a[0].commands.iter().find_map(|c| match c {
                CommandReply::ServiceChange(s) => Some(&s.result),
                _ => None,
            }),
            _ => None,
        })
    }
    fn error_codes(&self) -> Vec<u16> {
        self.replies()
            .filter_map(|r| match &r.result {
                TransactionResult::Error(e) => Some(e.code),
                TransactionResult::Actions(a) => a[0].commands.iter().find_map(|c| match c {
                    CommandReply::ServiceChange(ServiceChangeReply {
                        result: ServiceChangeResult::Error(e),
                        ..
                    }) => Some(e.code),
                    _ => None,
                }),
            })
            .collect()
    }
}

struct Packet {
    at: Instant,
    seq: u64,
    from: Node,
    to: Node,
    /// `None`: the sender closed the (reliable) transport, after what it sent before.
    bytes: Option<Vec<u8>>,
}

/// What the driver will tell the MG once the connect delay has passed.
#[derive(Debug, Clone, Copy)]
enum Pending {
    Up(usize),
    Refused,
}

struct MgcNode {
    mgc: Mgc,
    reachable: bool,
    /// Connection attempts to it never complete (no refusal either).
    blackhole: bool,
    events: Vec<(Instant, mgc::Event)>,
}

type DropRule = Box<dyn FnMut(&Wire) -> bool>;

/// One MG and its MGCs on a virtual network.
struct Net {
    start: Instant,
    now: Instant,
    mg: Mg,
    mg_events: Vec<(Instant, mg::Event)>,
    /// The MGC the MG's transport is up to.
    connected: Option<usize>,
    pending: Option<(Instant, Pending)>,
    mgcs: Vec<MgcNode>,
    /// SCTP-like: connection refusals and losses are reported to both ends.
    reliable: bool,
    connect_delay: Duration,
    link: Link,
    rng: Rng,
    in_flight: Vec<Packet>,
    seq: u64,
    log: Vec<Wire>,
    drop_rule: Option<DropRule>,
    /// The applications answer requests at once.
    auto_answer: bool,
}

impl Net {
    fn new(mg: MgConfig, mgcs: Vec<MgcConfig>, link: Link, seed: u64) -> Self {
        let start = Instant::now(); // only as the origin of the virtual clock
        Net {
            start,
            now: start,
            reliable: mg.transaction.reliable,
            mg: Mg::new(mg).expect("valid MG config"),
            mg_events: Vec::new(),
            connected: None,
            pending: None,
            mgcs: mgcs
                .into_iter()
                .map(|c| MgcNode {
                    mgc: Mgc::new(c).expect("valid MGC config"),
                    reachable: true,
                    blackhole: false,
                    events: Vec::new(),
                })
                .collect(),
            connect_delay: ms(10),
            link,
            rng: Rng::new(seed),
            in_flight: Vec::new(),
            seq: 0,
            log: Vec::new(),
            drop_rule: None,
            auto_answer: true,
        }
    }

    fn udp(link: Link, seed: u64) -> Self {
        Net::new(mg_config(), vec![mgc_config(0)], link, seed)
    }

    fn sctp() -> Self {
        Net::new(
            reliable_mg(mg_config()),
            vec![reliable_mgc(mgc_config(0))],
            Link::perfect(),
            1,
        )
    }

    fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn at(&self, d: Duration) -> Instant {
        self.start + d
    }

    fn mgc(&mut self, i: usize) -> &mut Mgc {
        &mut self.mgcs[i].mgc
    }

    fn start_mg(&mut self) {
        let now = self.now;
        self.mg.start(now);
        self.drive();
    }

    fn addr(&self, n: Node) -> SocketAddr {
        match n {
            Node::Mg => mg_addr(),
            Node::Mgc(i) => mgc_addr(i),
            Node::Stranger(a) => a,
        }
    }

    fn node_of(&self, to: SocketAddr) -> Node {
        if to == mg_addr() {
            Node::Mg
        } else {
            Node::Stranger(to)
        }
    }

    fn transmit(&mut self, from: Node, to: Node, bytes: Vec<u8>) {
        let msg = text::decode(&bytes).expect("the association sends decodable messages");
        let mut wire = Wire {
            at: self.now,
            from,
            to,
            msg,
            dropped: false,
        };
        if let Some(rule) = &mut self.drop_rule {
            wire.dropped = rule(&wire);
        }
        let cut = [from, to]
            .iter()
            .any(|n| matches!(n, Node::Mgc(i) if !self.mgcs[*i].reachable));
        let deliver = !wire.dropped && !cut && !matches!(to, Node::Stranger(_));
        self.log.push(wire);
        if !deliver || self.rng.chance(self.link.loss) {
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
                from,
                to,
                bytes: Some(bytes.clone()),
            });
        }
    }

    /// Raw bytes to an MGC from any address, as if they had just arrived.
    fn inject_mgc(&mut self, i: usize, from: SocketAddr, bytes: &[u8]) {
        let now = self.now;
        self.mgcs[i].mgc.handle_input(now, from, bytes);
        self.drive();
    }

    fn on_mg_event(&mut self, ev: mg::Event) {
        let now = self.now;
        self.mg_events.push((now, ev.clone()));
        match ev {
            mg::Event::Connect { target } => {
                let i = self
                    .mgcs
                    .iter()
                    .position(|n| n.mgc.config().transaction.mid == target);
                let outcome = match i {
                    Some(i) if self.mgcs[i].blackhole => return,
                    Some(i) if self.mgcs[i].reachable => Pending::Up(i),
                    // UDP cannot tell: the MG finds out by its requests' timeouts.
                    Some(i) if !self.reliable => Pending::Up(i),
                    _ => Pending::Refused,
                };
                self.pending = Some((now + self.connect_delay, outcome));
            }
            mg::Event::Disconnect => {
                self.pending = None;
                if let Some(i) = self.connected.take() {
                    if self.reliable {
                        // A graceful close: the MGC sees it after what was sent before.
                        self.seq += 1;
                        self.in_flight.push(Packet {
                            at: now + self.link.latency,
                            seq: self.seq,
                            from: Node::Mg,
                            to: Node::Mgc(i),
                            bytes: None,
                        });
                    }
                }
            }
            mg::Event::Request { id, actions } if self.auto_answer => {
                self.mg
                    .send_reply(now, id, answer(&actions))
                    .expect("reply accepted");
            }
            _ => {}
        }
    }

    fn on_mgc_event(&mut self, i: usize, ev: mgc::Event) {
        let now = self.now;
        self.mgcs[i].events.push((now, ev.clone()));
        if let mgc::Event::Request { mg, id, actions } = ev {
            if self.auto_answer {
                self.mgcs[i]
                    .mgc
                    .send_reply(now, &mg, id, answer(&actions))
                    .expect("reply accepted");
            }
        }
    }

    /// Run everything that happens at the current instant until nothing changes.
    fn drive(&mut self) {
        loop {
            let mut progress = false;
            while let Some(t) = self.mg.poll_transmit() {
                progress = true;
                match self.connected {
                    Some(i) => self.transmit(Node::Mg, Node::Mgc(i), t.bytes),
                    None => {
                        let msg = text::decode(&t.bytes).unwrap();
                        panic!("MG sent with no transport up: {msg:?}");
                    }
                }
            }
            while let Some(ev) = self.mg.poll_event() {
                progress = true;
                self.on_mg_event(ev);
            }
            for i in 0..self.mgcs.len() {
                while let Some(t) = self.mgcs[i].mgc.poll_transmit() {
                    progress = true;
                    let to = self.node_of(t.to);
                    self.transmit(Node::Mgc(i), to, t.bytes);
                }
                while let Some(ev) = self.mgcs[i].mgc.poll_event() {
                    progress = true;
                    self.on_mgc_event(i, ev);
                }
            }
            if !progress {
                break;
            }
        }
    }

    fn next_time(&self) -> Option<Instant> {
        let mut times = vec![
            self.mg.poll_timeout(),
            self.in_flight.iter().map(|p| p.at).min(),
            self.pending.map(|p| p.0),
        ];
        times.extend(self.mgcs.iter().map(|n| n.mgc.poll_timeout()));
        times.into_iter().flatten().min()
    }

    /// Advance to the next thing that happens; false when nothing is left.
    fn step(&mut self) -> bool {
        self.drive();
        let Some(next) = self.next_time() else {
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        if let Some((at, what)) = self.pending {
            if at <= now {
                self.pending = None;
                match what {
                    Pending::Up(i) => {
                        self.connected = Some(i);
                        self.mg.transport_up(now);
                    }
                    Pending::Refused => self.mg.transport_down(now),
                }
                self.drive();
            }
        }
        let mut arrived: Vec<Packet> = Vec::new();
        let mut k = 0;
        while k < self.in_flight.len() {
            if self.in_flight[k].at <= now {
                arrived.push(self.in_flight.swap_remove(k));
            } else {
                k += 1;
            }
        }
        arrived.sort_by_key(|p| (p.at, p.seq));
        for p in arrived {
            match (p.from, p.to, p.bytes) {
                // The MG's transport only carries its current MGC's messages.
                (Node::Mgc(i), Node::Mg, Some(b)) if self.connected == Some(i) => {
                    self.mg.handle_input(now, &b)
                }
                (from, Node::Mgc(i), Some(b)) if self.mgcs[i].reachable => {
                    let from = self.addr(from);
                    self.mgcs[i].mgc.handle_input(now, from, &b)
                }
                (_, Node::Mgc(i), None) => self.mgcs[i].mgc.transport_down(now, mg_addr()),
                _ => {}
            }
            self.drive();
        }
        if self.mg.poll_timeout().is_some_and(|t| t <= now) {
            self.mg.handle_timeout(now);
        }
        for n in &mut self.mgcs {
            if n.mgc.poll_timeout().is_some_and(|t| t <= now) {
                n.mgc.handle_timeout(now);
            }
        }
        self.drive();
        true
    }

    /// Run until `until` (virtual time since start).
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

    /// Run for `d` more.
    fn run_for(&mut self, d: Duration) {
        let until = self.elapsed() + d;
        self.run_until(until);
    }

    /// Make MGC `i` unreachable. Over SCTP both ends see the association go down.
    fn cut(&mut self, i: usize) {
        let now = self.now;
        self.mgcs[i].reachable = false;
        if self.reliable && self.connected == Some(i) {
            self.connected = None;
            self.mg.transport_down(now);
            self.mgcs[i].mgc.transport_down(now, mg_addr());
        }
        self.drive();
    }

    fn heal(&mut self, i: usize) {
        self.mgcs[i].reachable = true;
    }

    fn wire(&self, from: Node) -> impl Iterator<Item = &Wire> {
        self.log.iter().filter(move |w| w.from == from)
    }

    fn mg_registrations(&self) -> Vec<(Instant, MId, u8, ServiceChangeMethod)> {
        self.mg_events
            .iter()
            .filter_map(|(t, e)| match e {
                mg::Event::Registered {
                    mgc,
                    version,
                    method,
                    ..
                } => Some((*t, mgc.clone(), *version, method.clone())),
                _ => None,
            })
            .collect()
    }

    fn mgc_registrations(&self, i: usize) -> Vec<&mgc::Event> {
        self.mgcs[i]
            .events
            .iter()
            .map(|(_, e)| e)
            .filter(|e| matches!(e, mgc::Event::MgRegistered { .. }))
            .collect()
    }

    fn connects(&self) -> Vec<(Duration, MId)> {
        self.mg_events
            .iter()
            .filter_map(|(t, e)| match e {
                mg::Event::Connect { target } => Some((*t - self.start, target.clone())),
                _ => None,
            })
            .collect()
    }

    /// ServiceChanges the MG sent, with where to.
    fn mg_service_changes(&self) -> Vec<(Node, ServiceChangeParm)> {
        self.wire(Node::Mg)
            .filter_map(|w| Some((w.to, w.service_change()?.clone())))
            .collect()
    }
}

fn profile(name: &str, version: u8) -> ServiceChangeProfile {
    ServiceChangeProfile {
        name: name.into(),
        version,
    }
}

// ---------------------------------------------------------------------------------------------
// Registration

#[test]
fn mg_registers_with_restart_cold_boot_version_3_and_profile() {
    let mut net = Net::sctp();
    net.start_mg();
    net.run_for(secs(1));

    assert_eq!(net.connects(), vec![(Duration::ZERO, mgc_id_of(0))]);
    let scs: Vec<&Wire> = net
        .wire(Node::Mg)
        .filter(|w| w.service_change().is_some())
        .collect();
    assert_eq!(scs.len(), 1);
    let w = scs[0];
    assert_eq!(w.at, net.at(ms(10)), "sent as soon as the transport is up");
    assert_eq!(w.msg.version, 3);
    assert_eq!(w.msg.mid, mg_mid());
    let r = w.requests().next().unwrap();
    assert_eq!(r.actions.len(), 1);
    assert_eq!(r.actions[0].context, ContextId::Null);
    let Command::ServiceChange(sc) = &r.actions[0].commands[0].command else {
        panic!("not a ServiceChange");
    };
    assert_eq!(sc.termination_ids.as_slice(), [TerminationId::root()]);
    assert_eq!(
        *sc.parms,
        ServiceChangeParm {
            method: ServiceChangeMethod::Restart,
            address: None,
            version: Some(3),
            profile: Some(profile("threegiq", 1)),
            reason: Some("901 Cold Boot".into()),
            delay: None,
            mgc_id: None,
            timestamp: None,
            extensions: vec![],
            info: None,
            incomplete: false,
        }
    );

    // The reply: Version 3 and the profile echoed, in a v3 message from the MGC.
    let reply = net
        .wire(Node::Mgc(0))
        .find(|w| w.sc_reply().is_some())
        .unwrap();
    assert_eq!(reply.msg.version, 3);
    assert_eq!(reply.msg.mid, mgc_mid(0));
    assert_eq!(
        reply.sc_reply(),
        Some(&ServiceChangeResult::Parms(ServiceChangeResParm {
            version: Some(3),
            profile: Some(profile("threegiq", 1)),
            ..Default::default()
        }))
    );

    assert_eq!(
        net.mg_registrations(),
        vec![(net.at(ms(20)), mgc_mid(0), 3, ServiceChangeMethod::Restart)]
    );
    assert_eq!(net.mg.status(), Status::Registered);
    assert_eq!(net.mg.version(), Some(3));
    assert_eq!(net.mg.profile(), Some(&profile("threegiq", 1)));
    assert_eq!(
        net.mgc_registrations(0),
        vec![&mgc::Event::MgRegistered {
            mid: mg_mid(),
            version: 3,
            profile: Some(profile("threegiq", 1)),
            method: ServiceChangeMethod::Restart,
            reason: Some(reason::COLD_BOOT),
            address: mg_addr(),
        }]
    );
    assert_eq!(net.mgc(0).registration(&mg_mid()).unwrap().version, 3);
}

fn mgc_id_of(i: usize) -> MId {
    mgc_mid(i)
}

#[test]
fn registered_association_carries_application_traffic_both_ways() {
    let mut net = Net::sctp();
    net.start_mg();
    net.run_for(secs(1));
    let now = net.now;
    let down = net.mgc(0).send_request(now, &mg_mid(), add()).unwrap();
    let up = net.mg.send_request(now, notify()).unwrap();
    net.run_for(secs(1));
    assert!(net
        .mg_events
        .iter()
        .any(|(_, e)| matches!(e, mg::Event::Request { .. })));
    assert!(net
        .mg_events
        .iter()
        .any(|(_, e)| matches!(e, mg::Event::Reply { id, .. } if *id == up)));
    assert!(net.mgcs[0]
        .events
        .iter()
        .any(|(_, e)| matches!(e, mgc::Event::Reply { id, .. } if *id == down)));
    assert!(net.mgcs[0]
        .events
        .iter()
        .any(|(_, e)| matches!(e, mgc::Event::Request { mg, .. } if *mg == mg_mid())));
}

#[test]
fn application_cannot_send_before_registration() {
    let mut mg = Mg::new(mg_config()).unwrap();
    let now = Instant::now();
    assert_eq!(mg.send_request(now, notify()), Err(Error::NotRegistered));
    let mut mgc = Mgc::new(mgc_config(0)).unwrap();
    assert_eq!(
        mgc.send_request(now, &mg_mid(), add()),
        Err(Error::NotRegistered)
    );
    assert_eq!(
        mgc.send_request(now, &domain("other.example.net"), add()),
        Err(Error::UnknownMg)
    );
}

// ---------------------------------------------------------------------------------------------
// Version negotiation and profile

#[test]
fn mgc_answers_with_its_lower_version_and_later_messages_carry_it() {
    let mut c = reliable_mgc(mgc_config(0));
    c.max_version = 2;
    let mut net = Net::new(reliable_mg(mg_config()), vec![c], Link::perfect(), 1);
    net.start_mg();
    net.run_for(secs(1));

    let sc = net.mg_service_changes();
    assert_eq!(sc.len(), 1);
    assert_eq!(
        sc[0].1.version,
        Some(3),
        "the MG offers its highest version"
    );
    let reply = net
        .wire(Node::Mgc(0))
        .find(|w| w.sc_reply().is_some())
        .unwrap();
    assert_eq!(reply.msg.version, 2, "the reply already speaks v2");
    assert!(matches!(
        reply.sc_reply(),
        Some(ServiceChangeResult::Parms(p)) if p.version == Some(2)
    ));
    assert_eq!(net.mg.version(), Some(2));
    assert!(matches!(
        net.mgc_registrations(0)[0],
        mgc::Event::MgRegistered { version: 2, .. }
    ));

    // Everything after the registration is version 2, both ways.
    let now = net.now;
    net.mg.send_request(now, notify()).unwrap();
    net.mgc(0).send_request(now, &mg_mid(), add()).unwrap();
    let after = net.log.len();
    net.run_for(secs(1));
    let later: Vec<&Wire> = net.log[after..].iter().collect();
    assert!(later.len() >= 4, "two requests and two replies");
    assert!(later.iter().all(|w| w.msg.version == 2), "{later:#?}");
}

/// A scripted MGC: the test writes its replies by hand.
struct Scripted {
    mg: Mg,
    now: Instant,
    sent: Vec<Message>,
    events: Vec<mg::Event>,
}

impl Scripted {
    fn new(config: MgConfig) -> Self {
        let now = Instant::now();
        let mut mg = Mg::new(config).unwrap();
        mg.start(now);
        let mut s = Scripted {
            mg,
            now,
            sent: vec![],
            events: vec![],
        };
        s.drain();
        s.mg.transport_up(now);
        s.drain();
        s
    }

    fn drain(&mut self) {
        while let Some(t) = self.mg.poll_transmit() {
            self.sent.push(text::decode(&t.bytes).unwrap());
        }
        while let Some(e) = self.mg.poll_event() {
            self.events.push(e);
        }
    }

    fn feed(&mut self, body: Transaction) {
        let msg = Message {
            auth: None,
            version: 3,
            mid: mgc_mid(0),
            body: MessageBody::Transactions([body].into()),
        };
        self.now += ms(5);
        let bytes = text::encode(&msg, Style::Pretty);
        self.mg.handle_input(self.now, bytes.as_bytes());
        self.drain();
    }

    fn last_request(&self) -> &TransactionRequest {
        self.sent
            .iter()
            .rev()
            .find_map(|m| match &m.body {
                MessageBody::Transactions(t) => t.iter().find_map(|t| match t {
                    Transaction::Request(r) => Some(r),
                    _ => None,
                }),
                _ => None,
            })
            .unwrap()
    }

    fn reply_sc(&mut self, result: ServiceChangeResult) {
        let id = self.last_request().id;
        self.feed(Transaction::Reply(TransactionReply {
            id,
            imm_ack_required: false,
            result: TransactionResult::Actions(vec![ActionReply {
                context: ContextId::Null,
                error: None,
                context_reply: None,
                commands: vec![CommandReply::ServiceChange(ServiceChangeReply {
                    termination_ids: [TerminationId::root()].into(),
                    result,
                })],
            }]),
            segment_number: None,
            segmentation_complete: false,
        }));
    }
}

fn sc_version(r: &TransactionRequest) -> Option<u8> {
    match &r.actions[0].commands[0].command {
        Command::ServiceChange(sc) => sc.parms.version,
        _ => None,
    }
}

#[test]
fn error_406_makes_the_mg_retry_one_version_lower() {
    let mut s = Scripted::new(mg_config());
    let first = s.last_request().clone();
    assert_eq!(sc_version(&first), Some(3));
    assert_eq!(s.sent.last().unwrap().version, 3);

    s.reply_sc(ServiceChangeResult::Error(ErrorDescriptor {
        code: 406,
        text: Some("Version Not Supported".into()),
    }));
    let second = s.last_request().clone();
    assert_ne!(second.id, first.id, "a new transaction");
    assert_eq!(sc_version(&second), Some(2));
    assert_eq!(s.sent.last().unwrap().version, 2, "the header follows");
    assert!(s.events.contains(&mg::Event::VersionRefused {
        version: 3,
        next: Some(2)
    }));

    s.reply_sc(ServiceChangeResult::Parms(ServiceChangeResParm {
        version: Some(2),
        ..Default::default()
    }));
    assert_eq!(s.mg.status(), Status::Registered);
    assert_eq!(s.mg.version(), Some(2));
}

#[test]
fn error_406_at_the_minimum_version_fails_the_attempt_and_backs_off() {
    let mut s = Scripted::new(mg_config());
    for _ in 0..2 {
        s.reply_sc(ServiceChangeResult::Error(ErrorDescriptor {
            code: 406,
            text: None,
        }));
    }
    assert!(s.events.contains(&mg::Event::VersionRefused {
        version: 2,
        next: None
    }));
    assert!(s.events.contains(&mg::Event::RegistrationFailed {
        mgc: mgc_mid(0),
        failure: Failure::VersionNotSupported { offered: None },
        retry_in: secs(1),
    }));
    assert!(s.events.contains(&mg::Event::Disconnect));
    assert_eq!(s.mg.status(), Status::Waiting);
}

#[test]
fn reply_version_below_the_mg_minimum_is_not_accepted() {
    let mut s = Scripted::new(mg_config());
    s.reply_sc(ServiceChangeResult::Parms(ServiceChangeResParm {
        version: Some(1),
        ..Default::default()
    }));
    assert!(s.events.iter().any(|e| matches!(
        e,
        mg::Event::RegistrationFailed {
            failure: Failure::VersionNotSupported { offered: Some(1) },
            ..
        }
    )));
    assert_eq!(s.mg.status(), Status::Waiting);
}

#[test]
fn mgc_refuses_a_version_below_its_minimum_with_406() {
    let mut mgc = reliable_mgc(mgc_config(0));
    mgc.min_version = 3;
    let mut mg = reliable_mg(mg_config());
    mg.max_version = 2;
    let mut net = Net::new(mg, vec![mgc], Link::perfect(), 1);
    net.start_mg();
    net.run_for(ms(500));

    let reply = net
        .wire(Node::Mgc(0))
        .find(|w| w.sc_reply().is_some())
        .unwrap();
    assert_eq!(reply.error_codes(), vec![error_code::VERSION_NOT_SUPPORTED]);
    assert_eq!(reply.msg.version, 2, "answered in the MG's version");
    assert!(net.mgcs[0].events.iter().any(|(_, e)| matches!(
        e,
        mgc::Event::Refused { code: 406, mid: Some(m), .. } if *m == mg_mid()
    )));
    assert!(net.mgc(0).registration(&mg_mid()).is_none());
    // The MG cannot go lower than 2: the attempt fails.
    assert!(net.mg_events.iter().any(|(_, e)| matches!(
        e,
        mg::Event::RegistrationFailed {
            failure: Failure::VersionNotSupported { .. },
            ..
        }
    )));
}

#[test]
fn mg_falls_back_to_version_2_when_the_mgc_wants_3_at_least_then_not() {
    // MG offers 3 to an MGC accepting 2..=2: the MGC answers Version 2 (no 406 needed).
    let mut mgc = reliable_mgc(mgc_config(0));
    mgc.max_version = 2;
    mgc.min_version = 2;
    let mut net = Net::new(reliable_mg(mg_config()), vec![mgc], Link::perfect(), 1);
    net.start_mg();
    net.run_for(ms(500));
    assert_eq!(net.mg.version(), Some(2));
}

#[test]
fn profile_is_echoed_and_an_unaccepted_profile_gets_459() {
    // Echo.
    let mut mg = reliable_mg(mg_config());
    mg.profile = Some(profile("threegiq", 2));
    let mut net = Net::new(mg, vec![reliable_mgc(mgc_config(0))], Link::perfect(), 1);
    net.start_mg();
    net.run_for(ms(500));
    let reply = net
        .wire(Node::Mgc(0))
        .find(|w| w.sc_reply().is_some())
        .unwrap();
    assert!(matches!(
        reply.sc_reply(),
        Some(ServiceChangeResult::Parms(p)) if p.profile == Some(profile("threegiq", 2))
    ));
    assert_eq!(net.mg.profile(), Some(&profile("threegiq", 2)));

    // No echo configured: the MG keeps the profile it offered.
    let mut mgc = reliable_mgc(mgc_config(0));
    mgc.echo_profile = false;
    let mut net = Net::new(reliable_mg(mg_config()), vec![mgc], Link::perfect(), 1);
    net.start_mg();
    net.run_for(ms(500));
    let reply = net
        .wire(Node::Mgc(0))
        .find(|w| w.sc_reply().is_some())
        .unwrap();
    assert!(matches!(reply.sc_reply(), Some(ServiceChangeResult::Parms(p)) if p.profile.is_none()));
    assert_eq!(net.mg.profile(), Some(&profile("threegiq", 1)));

    // Not accepted: 459.
    let mut mgc = reliable_mgc(mgc_config(0));
    mgc.accepted_profiles = vec![profile("threegiq", 1)];
    let mut mg = reliable_mg(mg_config());
    mg.profile = Some(profile("etsi_ia", 1));
    let mut net = Net::new(mg, vec![mgc], Link::perfect(), 1);
    net.start_mg();
    net.run_for(ms(500));
    let reply = net
        .wire(Node::Mgc(0))
        .find(|w| w.sc_reply().is_some())
        .unwrap();
    assert_eq!(reply.error_codes(), vec![error_code::UNSUPPORTED_PROFILE]);
    assert!(net.mg_events.iter().any(|(_, e)| matches!(
        e,
        mg::Event::RegistrationFailed {
            failure: Failure::Refused(ErrorDescriptor { code: 459, .. }),
            ..
        }
    )));
}

// ---------------------------------------------------------------------------------------------
// Admission

#[test]
fn unconfigured_mg_is_refused_with_504_and_leaves_no_state() {
    // An MG with another mId at the configured address.
    let mut mg = reliable_mg(mg_config());
    mg.transaction.mid = domain("intruder.example.net");
    let mut net = Net::new(mg, vec![reliable_mgc(mgc_config(0))], Link::perfect(), 1);
    net.start_mg();
    net.run_for(ms(500));
    let reply = net.wire(Node::Mgc(0)).next().unwrap();
    assert_eq!(reply.error_codes(), vec![error_code::UNAUTHORIZED_ENTITY]);
    assert!(matches!(
        reply.replies().next().unwrap().result,
        TransactionResult::Error(_)
    ));
    assert_eq!(
        net.mgcs[0].events[0].1,
        mgc::Event::Refused {
            from: mg_addr(),
            mid: Some(domain("intruder.example.net")),
            code: 504
        }
    );
    assert!(net.mgc(0).endpoint(&mg_mid()).is_none(), "no engine for it");
    assert!(net.mg_events.iter().any(|(_, e)| matches!(
        e,
        mg::Event::RegistrationFailed {
            failure: Failure::Refused(ErrorDescriptor { code: 504, .. }),
            ..
        }
    )));

    // The configured mId from an unconfigured address.
    let mut net = Net::udp(Link::perfect(), 1);
    let stranger: SocketAddr = "198.51.100.7:2944".parse().unwrap();
    let sc = format!(
        "!/3 {} T=9{{C=-{{SC=ROOT{{SV{{MT=RS,RE=\"901 Cold Boot\",V=3}}}}}}}}",
        "<agw1.example.net>:2944"
    );
    net.inject_mgc(0, stranger, sc.as_bytes());
    let reply = net.wire(Node::Mgc(0)).last().unwrap();
    assert_eq!(reply.to, Node::Stranger(stranger));
    assert_eq!(reply.replies().next().unwrap().id, 9);
    assert_eq!(reply.error_codes(), vec![504]);
    assert!(net.mgc(0).registration(&mg_mid()).is_none());
    assert!(net.mgc(0).endpoint(&mg_mid()).is_none());

    // A stranger's undecodable bytes are dropped without an answer.
    let before = net.log.len();
    net.inject_mgc(0, stranger, b"garbage");
    assert_eq!(net.log.len(), before);
}

#[test]
fn configured_mg_gets_504_for_commands_before_it_registers() {
    let mut net = Net::udp(Link::perfect(), 1);
    let notify = "!/3 <agw1.example.net>:2944 T=4{C=7{N=ip/1{OE=1{hangterm/thb}}}}";
    net.inject_mgc(0, mg_addr(), notify.as_bytes());
    let reply = net.wire(Node::Mgc(0)).last().unwrap();
    assert_eq!(reply.to, Node::Mg);
    assert_eq!(reply.error_codes(), vec![504]);
    assert!(!net.mgcs[0]
        .events
        .iter()
        .any(|(_, e)| matches!(e, mgc::Event::Request { .. })));
}

#[test]
fn requests_before_registration_are_answered_with_505() {
    let mut s = Scripted::new(mg_config());
    // The MGC's keepalive overtakes its ServiceChange reply.
    s.feed(Transaction::Request(TransactionRequest {
        id: 77,
        actions: vec![ActionRequest {
            context: ContextId::Null,
            context_request: None,
            context_audit: None,
            commands: vec![CommandRequest {
                command: Command::AuditValue(AuditRequest {
                    termination_ids: [TerminationId::root()].into(),
                    audit: None,
                }),
                optional: false,
                wildcard_return: false,
            }],
        }],
    }));
    let reply = s.sent.last().unwrap();
    let MessageBody::Transactions(t) = &reply.body else {
        panic!()
    };
    let Transaction::Reply(r) = &t[0] else {
        panic!("{t:?}")
    };
    assert_eq!(r.id, 77);
    assert_eq!(
        r.result,
        TransactionResult::Error(ErrorDescriptor {
            code: error_code::BEFORE_SERVICE_CHANGE_REPLY,
            text: Some(
                "Transaction Request Received before a Service Change Reply has been received"
                    .into()
            ),
        })
    );
    assert!(!s
        .events
        .iter()
        .any(|e| matches!(e, mg::Event::Request { .. })));

    // Once registered, the same keepalive is answered normally.
    s.reply_sc(ServiceChangeResult::Parms(Default::default()));
    assert_eq!(s.mg.status(), Status::Registered);
    s.feed(Transaction::Request(TransactionRequest {
        id: 78,
        actions: one(
            ContextId::Null,
            Command::AuditValue(AuditRequest {
                termination_ids: [TerminationId::root()].into(),
                audit: None,
            }),
        ),
    }));
    let MessageBody::Transactions(t) = &s.sent.last().unwrap().body else {
        panic!()
    };
    assert!(matches!(
        &t[0],
        Transaction::Reply(TransactionReply {
            id: 78,
            result: TransactionResult::Actions(_),
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Redirection and handoff

#[test]
fn mgc_id_to_try_redirects_the_mg_to_another_mgc() {
    let mut first = reliable_mgc(mgc_config(0));
    first.mgs[0].redirect_to = Some(mgc_mid(1));
    let second = reliable_mgc(mgc_config(1));
    let mut net = Net::new(
        reliable_mg(mg_config()),
        vec![first, second],
        Link::perfect(),
        1,
    );
    net.start_mg();
    net.run_for(secs(1));

    // The first MGC's reply names the second.
    let reply = net
        .wire(Node::Mgc(0))
        .find(|w| w.sc_reply().is_some())
        .unwrap();
    assert!(matches!(
        reply.sc_reply(),
        Some(ServiceChangeResult::Parms(p)) if p.mgc_id == Some(mgc_mid(1)) && p.version.is_none()
    ));
    assert!(net.mgcs[0].events.iter().any(|(_, e)| *e
        == mgc::Event::MgRedirected {
            mid: mg_mid(),
            to: mgc_mid(1)
        }));
    // The MG disconnects and connects to the second at once, with the same Restart.
    assert_eq!(
        net.connects(),
        vec![(Duration::ZERO, mgc_mid(0)), (ms(20), mgc_mid(1))]
    );
    let scs = net.mg_service_changes();
    assert_eq!(scs.len(), 2);
    assert_eq!(scs[1].0, Node::Mgc(1));
    assert_eq!(scs[1].1.method, ServiceChangeMethod::Restart);
    assert_eq!(scs[1].1.reason.as_deref(), Some("901 Cold Boot"));
    assert!(net.mg_events.iter().any(|(_, e)| *e
        == mg::Event::Redirected {
            from: mgc_mid(0),
            to: mgc_mid(1)
        }));
    assert_eq!(net.mg.mgc(), Some(&mgc_mid(1)));
    assert_eq!(net.mgc_registrations(1).len(), 1);
    assert!(net.mgc(0).registration(&mg_mid()).is_none());
}

#[test]
fn endless_redirection_gives_up_after_max_redirects() {
    let mut a = reliable_mgc(mgc_config(0));
    a.mgs[0].redirect_to = Some(mgc_mid(1));
    let mut b = reliable_mgc(mgc_config(1));
    b.mgs[0].redirect_to = Some(mgc_mid(0));
    let mut net = Net::new(reliable_mg(mg_config()), vec![a, b], Link::perfect(), 1);
    net.start_mg();
    net.run_for(ms(500));
    let redirects = net
        .mg_events
        .iter()
        .filter(|(_, e)| matches!(e, mg::Event::Redirected { .. }))
        .count();
    assert_eq!(redirects, 4);
    assert!(net.mg_events.iter().any(|(_, e)| matches!(
        e,
        mg::Event::RegistrationFailed {
            failure: Failure::TooManyRedirects,
            ..
        }
    )));
    assert_eq!(net.mg.status(), Status::Waiting);
}

#[test]
fn handoff_from_the_mgc_moves_the_mg_which_registers_with_handoff_903() {
    let mut net = Net::new(
        reliable_mg(mg_config()),
        vec![reliable_mgc(mgc_config(0)), reliable_mgc(mgc_config(1))],
        Link::perfect(),
        1,
    );
    net.start_mg();
    net.run_for(secs(1));
    let now = net.now;
    let id = net.mgc(0).hand_off(now, &mg_mid(), mgc_mid(1)).unwrap();
    net.run_for(secs(1));

    let ho = net
        .wire(Node::Mgc(0))
        .find_map(|w| w.service_change().cloned())
        .unwrap();
    assert_eq!(ho.method, ServiceChangeMethod::HandOff);
    assert_eq!(ho.reason.as_deref(), Some("903 MGC Directed Change"));
    assert_eq!(ho.mgc_id, Some(mgc_mid(1)));

    // The MG answered on the old transport, then moved.
    let answered = net
        .wire(Node::Mg)
        .find(|w| w.replies().any(|r| r.id == id))
        .unwrap();
    assert_eq!(answered.to, Node::Mgc(0));
    let scs = net.mg_service_changes();
    assert_eq!(scs.len(), 2);
    assert_eq!(scs[1].0, Node::Mgc(1));
    assert_eq!(scs[1].1.method, ServiceChangeMethod::HandOff);
    assert_eq!(scs[1].1.reason.as_deref(), Some("903 MGC Directed Change"));
    assert_eq!(scs[1].1.version, Some(3));

    assert!(net.mg_events.iter().any(|(_, e)| *e
        == mg::Event::HandOff {
            from: mgc_mid(0),
            to: mgc_mid(1)
        }));
    assert_eq!(net.mg.mgc(), Some(&mgc_mid(1)));
    assert!(matches!(
        net.mgc_registrations(1)[0],
        mgc::Event::MgRegistered {
            method: ServiceChangeMethod::HandOff,
            reason: Some(903),
            ..
        }
    ));
    let old: Vec<&mgc::Event> = net.mgcs[0].events.iter().map(|(_, e)| e).collect();
    assert!(old.contains(&&mgc::Event::ServiceChangeDone {
        mid: mg_mid(),
        id,
        method: ServiceChangeMethod::HandOff,
        outcome: ServiceChangeOutcome::Accepted,
    }));
    assert!(old.contains(&&mgc::Event::MgHandedOff {
        mid: mg_mid(),
        to: mgc_mid(1)
    }));
    assert!(net.mgc(0).registration(&mg_mid()).is_none());
}

// ---------------------------------------------------------------------------------------------
// Out of service

#[test]
fn forced_out_of_service_from_the_mgc_and_back_in() {
    let mut net = Net::sctp();
    net.start_mg();
    net.run_for(secs(1));
    let now = net.now;
    let id = net
        .mgc(0)
        .take_out_of_service(
            now,
            &mg_mid(),
            OutOfService::Forced,
            reason::TERMINATION_OUT_OF_SERVICE,
        )
        .unwrap();
    net.run_for(secs(1));

    let sc = net
        .wire(Node::Mgc(0))
        .find_map(|w| w.service_change().cloned())
        .unwrap();
    assert_eq!(sc.method, ServiceChangeMethod::Forced);
    assert_eq!(
        sc.reason.as_deref(),
        Some("905 Termination taken out of service")
    );
    assert_eq!(net.mg.service(), Service::OutOfService);
    assert!(net.mg_events.iter().any(|(_, e)| *e
        == mg::Event::OutOfService {
            method: ServiceChangeMethod::Forced,
            reason: Some(905)
        }));
    assert!(net.mgcs[0].events.iter().any(|(_, e)| *e
        == mgc::Event::ServiceChangeDone {
            mid: mg_mid(),
            id,
            method: ServiceChangeMethod::Forced,
            outcome: ServiceChangeOutcome::Accepted
        }));
    assert_eq!(net.mg.status(), Status::Registered, "the association stays");

    let now = net.now;
    net.mgc(0)
        .restore_service(now, &mg_mid(), reason::SERVICE_RESTORED)
        .unwrap();
    net.run_for(secs(1));
    assert_eq!(net.mg.service(), Service::InService);
    assert!(net
        .mg_events
        .iter()
        .any(|(_, e)| *e == mg::Event::InService { reason: Some(900) }));
}

#[test]
fn graceful_out_of_service_takes_effect_after_the_delay() {
    let mut net = Net::sctp();
    net.start_mg();
    net.run_until(secs(1));
    let now = net.now;
    net.mgc(0)
        .take_out_of_service(
            now,
            &mg_mid(),
            OutOfService::Graceful {
                delay: Some(secs(5)),
            },
            reason::TERMINATION_OUT_OF_SERVICE,
        )
        .unwrap();
    net.run_until(secs(2));
    let sc = net
        .wire(Node::Mgc(0))
        .find_map(|w| w.service_change().cloned())
        .unwrap();
    assert_eq!(sc.method, ServiceChangeMethod::Graceful);
    assert_eq!(sc.delay, Some(5000));
    assert_eq!(net.mg.service(), Service::GoingOutOfService);
    net.run_until(secs(7));
    assert_eq!(net.mg.service(), Service::OutOfService);
    let times: Vec<(Duration, &mg::Event)> = net
        .mg_events
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                mg::Event::GoingOutOfService { .. } | mg::Event::OutOfService { .. }
            )
        })
        .map(|(t, e)| (*t - net.start, e))
        .collect();
    assert_eq!(
        times,
        vec![
            (
                secs(1) + ms(5),
                &mg::Event::GoingOutOfService {
                    delay: Some(secs(5)),
                    reason: Some(905)
                }
            ),
            (
                secs(6) + ms(5),
                &mg::Event::OutOfService {
                    method: ServiceChangeMethod::Graceful,
                    reason: Some(905)
                }
            ),
        ]
    );
}

#[test]
fn mg_initiated_graceful_out_of_service_reaches_the_mgc() {
    let mut net = Net::sctp();
    net.start_mg();
    net.run_for(secs(1));
    let now = net.now;
    let id = net
        .mg
        .send_service_change(
            now,
            ServiceChangeMethod::Graceful,
            reason::MG_IMPENDING_FAILURE,
            Some(secs(30)),
        )
        .unwrap();
    net.run_for(secs(1));
    assert!(net.mgcs[0].events.iter().any(|(_, e)| *e
        == mgc::Event::MgServiceChange {
            mid: mg_mid(),
            method: ServiceChangeMethod::Graceful,
            reason: Some(908),
            delay: Some(secs(30))
        }));
    assert!(net
        .mg_events
        .iter()
        .any(|(_, e)| matches!(e, mg::Event::Reply { id: got, .. } if *got == id)));
}

// ---------------------------------------------------------------------------------------------
// Loss and reconnection

#[test]
fn lost_association_reconnects_with_exponential_backoff_and_re_registers_disconnected() {
    let mut net = Net::sctp();
    net.start_mg();
    net.run_until(secs(1));
    net.cut(0); // at 1 s: the SCTP association fails, and the MGC stays unreachable
    net.run_until(secs(9));
    net.heal(0);
    net.run_until(secs(30));

    // Lost at 1 s, first attempt 1 s later; each refusal (10 ms after its attempt) waits
    // twice as long as the one before: 2 s, 4 s, 8 s. The MGC is back at 9 s, so the attempt
    // at 16.03 s succeeds.
    let lost: Vec<&mg::Event> = net
        .mg_events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| matches!(e, mg::Event::Lost { .. }))
        .collect();
    assert_eq!(
        lost,
        vec![&mg::Event::Lost {
            mgc: mgc_mid(0),
            failure: Failure::TransportDown,
            retry_in: secs(1)
        }]
    );
    let waits: Vec<Duration> = net
        .mg_events
        .iter()
        .filter_map(|(_, e)| match e {
            mg::Event::RegistrationFailed {
                failure: Failure::TransportDown,
                retry_in,
                ..
            } => Some(*retry_in),
            _ => None,
        })
        .collect();
    assert_eq!(waits, vec![secs(2), secs(4), secs(8)]);
    let connects: Vec<Duration> = net.connects().into_iter().map(|c| c.0).collect();
    assert_eq!(
        connects,
        vec![
            Duration::ZERO,
            secs(2),
            secs(4) + ms(10),
            secs(8) + ms(20),
            secs(16) + ms(30),
        ]
    );
    let regs = net.mg_registrations();
    assert_eq!(regs.len(), 2);
    assert_eq!(
        regs[1],
        (
            net.at(secs(16) + ms(50)),
            mgc_mid(0),
            3,
            ServiceChangeMethod::Disconnected
        )
    );
    let sc = net.mg_service_changes().last().unwrap().1.clone();
    assert_eq!(sc.method, ServiceChangeMethod::Disconnected);
    assert_eq!(sc.reason.as_deref(), Some("900 Service Restored"));

    // The MGC saw the loss and the re-registration.
    let mgc_events: Vec<&mgc::Event> = net.mgcs[0].events.iter().map(|(_, e)| e).collect();
    assert!(mgc_events.contains(&&mgc::Event::MgLost {
        mid: mg_mid(),
        cause: LossCause::TransportDown
    }));
    assert!(matches!(
        net.mgc_registrations(0)[1],
        mgc::Event::MgRegistered {
            method: ServiceChangeMethod::Disconnected,
            reason: Some(900),
            ..
        }
    ));
}

#[test]
fn failover_to_the_secondary_mgc_uses_failover_909_and_abandons_open_requests() {
    let mut mg = reliable_mg(mg_config());
    mg.mgcs = vec![mgc_mid(0), mgc_mid(1)];
    let mut net = Net::new(
        mg,
        vec![reliable_mgc(mgc_config(0)), reliable_mgc(mgc_config(1))],
        Link::perfect(),
        1,
    );
    net.auto_answer = false;
    net.start_mg();
    net.run_until(secs(2) - ms(100));
    let now = net.now;
    let open = net.mg.send_request(now, notify()).unwrap();
    net.run_until(secs(2));
    net.cut(0);
    net.run_until(secs(5));

    assert!(net
        .mg_events
        .iter()
        .any(|(_, e)| *e == mg::Event::Abandoned { id: open }));
    // §11.5: the primary failed, so the first secondary, after the first backoff wait.
    assert_eq!(net.connects().last().unwrap(), &(secs(3), mgc_mid(1)));
    let sc = net.mg_service_changes().last().unwrap().clone();
    assert_eq!(sc.0, Node::Mgc(1));
    assert_eq!(sc.1.method, ServiceChangeMethod::Failover);
    assert_eq!(sc.1.reason.as_deref(), Some("909 MGC Impending Failure"));
    assert_eq!(net.mg.mgc(), Some(&mgc_mid(1)));
    // The new association numbers its transactions after the old one's.
    let ids: Vec<u32> = net
        .wire(Node::Mg)
        .flat_map(|w| w.requests().map(|r| r.id).collect::<Vec<_>>())
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
}

#[test]
fn mg_that_lost_its_state_re_registers_with_restart() {
    let mut net = Net::sctp();
    net.start_mg();
    net.run_until(secs(1));
    net.mg.set_state_kept(false);
    net.cut(0);
    net.heal(0);
    net.run_until(secs(5));
    let sc = net.mg_service_changes().last().unwrap().1.clone();
    assert_eq!(sc.method, ServiceChangeMethod::Restart);
    assert_eq!(sc.reason.as_deref(), Some("901 Cold Boot"));
    assert_eq!(net.mg_registrations().len(), 2);
}

#[test]
fn transport_that_never_comes_up_times_out_and_backs_off() {
    let mut net = Net::sctp();
    net.mgcs[0].blackhole = true;
    net.start_mg();
    net.run_until(secs(35));
    assert!(net.mg_events.iter().any(|(t, e)| *t == net.at(secs(30))
        && *e
            == mg::Event::RegistrationFailed {
                mgc: mgc_mid(0),
                failure: Failure::ConnectTimeout,
                retry_in: secs(1)
            }));
    assert_eq!(
        net.connects(),
        vec![(Duration::ZERO, mgc_mid(0)), (secs(31), mgc_mid(0))]
    );
}

#[test]
fn reconnection_waits_are_jittered_from_the_seed() {
    let run = |seed| {
        let mut mg = reliable_mg(mg_config());
        mg.reconnect = Backoff::default();
        mg.reconnect.jitter_seed = Some(seed);
        let mut net = Net::new(mg, vec![reliable_mgc(mgc_config(0))], Link::perfect(), 1);
        net.start_mg();
        net.run_until(secs(1));
        net.cut(0);
        net.run_until(secs(60));
        net.mg_events
            .iter()
            .filter_map(|(_, e)| match e {
                mg::Event::Lost { retry_in, .. }
                | mg::Event::RegistrationFailed { retry_in, .. } => Some(*retry_in),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let a = run(11);
    assert_eq!(a, run(11), "same seed, same waits");
    assert_ne!(a, run(12));
    for (n, w) in a.iter().enumerate() {
        let full = secs(1 << n).min(secs(64));
        assert!(*w >= full / 2 && *w <= full, "wait {n}: {w:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Keepalive over UDP

#[test]
fn udp_keepalive_audits_root_when_idle_and_declares_the_mg_lost_after_three_failures() {
    let mut net = Net::udp(Link::perfect(), 1);
    net.start_mg();
    net.run_until(secs(40));

    // Registered at 15 ms (MGC side); the first keepalive after 30 s of silence.
    let keepalives: Vec<&Wire> = net
        .wire(Node::Mgc(0))
        .filter(|w| matches!(w.first_command(), Some(Command::AuditValue(_))))
        .collect();
    assert_eq!(keepalives.len(), 1);
    let k = keepalives[0];
    assert_eq!(k.at, net.at(secs(30) + ms(15)));
    let r = k.requests().next().unwrap();
    assert_eq!(
        r.actions,
        one(
            ContextId::Null,
            Command::AuditValue(AuditRequest {
                termination_ids: [TerminationId::root()].into(),
                audit: None,
            })
        )
    );
    // The MG answered it itself: ROOT, nothing audited.
    let answer = net
        .wire(Node::Mg)
        .find(|w| w.replies().any(|x| x.id == r.id))
        .unwrap();
    assert!(matches!(
        &answer.replies().next().unwrap().result,
        TransactionResult::Actions(a) if a[0].commands == vec![CommandReply::AuditValue(AuditReply::AuditResult {
            termination_ids: [TerminationId::root()].into(),
            audit: vec![],
        })]
    ));
    assert!(!net
        .mg_events
        .iter()
        .any(|(_, e)| matches!(e, mg::Event::Request { .. })));

    // The MG falls silent at 40 s. Keepalive at 60.025 s (30 s after the last reply), no
    // reply within T-MAX (30 s): another at once, twice more; the third failure loses it.
    net.cut(0);
    net.run_until(secs(200));
    let mut ids: Vec<(Duration, u32)> = net
        .wire(Node::Mgc(0))
        .filter(|w| matches!(w.first_command(), Some(Command::AuditValue(_))))
        .map(|w| (w.at - net.start, w.requests().next().unwrap().id))
        .collect();
    ids.dedup_by_key(|x| x.1); // retransmissions
    let firsts: Vec<Duration> = ids.iter().map(|x| x.0).collect();
    assert_eq!(
        firsts,
        vec![
            secs(30) + ms(15),
            secs(60) + ms(25),
            secs(90) + ms(25),
            secs(120) + ms(25)
        ]
    );
    let lost: Vec<(Duration, &mgc::Event)> = net.mgcs[0]
        .events
        .iter()
        .filter(|(_, e)| matches!(e, mgc::Event::MgLost { .. }))
        .map(|(t, e)| (*t - net.start, e))
        .collect();
    assert_eq!(
        lost,
        vec![(
            secs(150) + ms(25),
            &mgc::Event::MgLost {
                mid: mg_mid(),
                cause: LossCause::Unanswered { failures: 3 }
            }
        )]
    );
    assert!(net.mgc(0).registration(&mg_mid()).is_none());
    assert!(net.mgc(0).endpoint(&mg_mid()).is_none());
}

#[test]
fn keepalive_is_not_sent_while_the_mg_talks() {
    let mut net = Net::udp(Link::perfect(), 1);
    net.start_mg();
    for n in 1..=10 {
        net.run_until(secs(20 * n));
        let now = net.now;
        net.mg.send_request(now, notify()).unwrap();
    }
    net.run_until(secs(205));
    assert!(!net
        .wire(Node::Mgc(0))
        .any(|w| matches!(w.first_command(), Some(Command::AuditValue(_)))));
}

#[test]
fn inactivity_timer_makes_the_mg_notify_ito_and_both_sides_detect_the_loss() {
    let mut c = mgc_config(0);
    c.keepalive = Keepalive::InactivityTimer {
        mit: secs(10),
        request_id: 99,
    };
    let mut net = Net::new(mg_config(), vec![c], Link::perfect(), 1);
    net.start_mg();
    net.run_until(secs(35));

    // The MGC arms it on registration: Modify ROOT { Events = 99 { it/ito { mit = 1000 } } }.
    let modify = net
        .wire(Node::Mgc(0))
        .find(|w| matches!(w.first_command(), Some(Command::Modify(_))))
        .unwrap();
    assert_eq!(modify.at, net.at(ms(15)));
    let Some(Command::Modify(m)) = modify.first_command() else {
        unreachable!()
    };
    assert_eq!(m.termination_ids.as_slice(), [TerminationId::root()]);
    let [AmmDescriptor::Events(ed)] = m.descriptors.as_slice() else {
        panic!("{m:?}")
    };
    assert_eq!(ed.request_id, Some(99));
    assert_eq!(ed.events[0].name, "it/ito");
    assert_eq!(ed.events[0].params, vec![PropertyParm::new("mit", "1000")]);

    // The MG notifies after each 10 s without a message; the MGC answers.
    let itos: Vec<Duration> = net
        .wire(Node::Mg)
        .filter(|w| matches!(w.first_command(), Some(Command::Notify(_))))
        .map(|w| w.at - net.start)
        .collect();
    assert_eq!(
        itos,
        vec![secs(10) + ms(20), secs(20) + ms(30), secs(30) + ms(40)]
    );
    let Some(Command::Notify(n)) = net
        .wire(Node::Mg)
        .find(|w| matches!(w.first_command(), Some(Command::Notify(_))))
        .unwrap()
        .first_command()
    else {
        unreachable!()
    };
    let oe = n.observed_events.as_ref().unwrap();
    assert_eq!((oe.request_id, oe.events[0].name.as_str()), (99, "it/ito"));
    assert!(!net.mgcs[0]
        .events
        .iter()
        .any(|(_, e)| matches!(e, mgc::Event::Request { .. })));

    // The MGC becomes unreachable: the ito at 40.05 s goes unanswered (T-MAX 30 s), the MG
    // gives the association up at 70.05 s; the MGC declares the MG lost after 3 × mit of
    // silence, at 60.045 s.
    net.cut(0);
    net.run_until(secs(80));
    assert!(net
        .mg_events
        .iter()
        .any(|(t, e)| *t == net.at(secs(70) + ms(50))
            && matches!(
                e,
                mg::Event::Lost {
                    failure: Failure::RequestTimeout { .. },
                    retry_in,
                    ..
                } if *retry_in == secs(1)
            )));
    assert!(net.mgcs[0]
        .events
        .iter()
        .any(|(t, e)| *t == net.at(secs(60) + ms(45))
            && *e
                == mgc::Event::MgLost {
                    mid: mg_mid(),
                    cause: LossCause::Silent { silence: secs(30) }
                }));

    // Back: a repetition of the MG's new ServiceChange gets through; it registers again with
    // Disconnected, exactly once.
    net.heal(0);
    net.run_until(secs(120));
    let regs = net.mg_registrations();
    assert_eq!(regs.len(), 2);
    assert_eq!(regs[1].3, ServiceChangeMethod::Disconnected);
    assert_eq!(net.mgc_registrations(0).len(), 2);
}

#[test]
fn mgc_audits_root_instead_when_the_mg_refuses_the_inactivity_timer() {
    let mut mg = mg_config();
    mg.inactivity_timer = false; // the Modify reaches the application, which refuses it
    let mut c = mgc_config(0);
    c.keepalive = Keepalive::InactivityTimer {
        mit: secs(10),
        request_id: 99,
    };
    let mut net = Net::new(mg, vec![c], Link::perfect(), 1);
    net.start_mg();
    net.run_until(secs(65));
    let audits: Vec<Duration> = net
        .wire(Node::Mgc(0))
        .filter(|w| matches!(w.first_command(), Some(Command::AuditValue(_))))
        .map(|w| w.at - net.start)
        .collect();
    // Refusal back at 25 ms; then every 10 s of silence (each answered 10 ms later).
    assert_eq!(
        audits,
        vec![
            secs(10) + ms(25),
            secs(20) + ms(35),
            secs(30) + ms(45),
            secs(40) + ms(55),
            secs(50) + ms(65),
            secs(60) + ms(75)
        ]
    );
    assert!(!net.mgcs[0]
        .events
        .iter()
        .any(|(_, e)| matches!(e, mgc::Event::MgLost { .. })));
    assert!(!net
        .wire(Node::Mg)
        .any(|w| matches!(w.first_command(), Some(Command::Notify(_)))));
}

// ---------------------------------------------------------------------------------------------
// Lossy link

#[test]
fn lossy_link_still_registers_exactly_once() {
    let mut retransmitted = 0;
    let mut duplicates = 0;
    for seed in 1..=40 {
        let mut net = Net::udp(Link::lossy(0.3, 0.2, 0.3), seed);
        net.start_mg();
        net.run_until(secs(25));
        assert_eq!(net.mg.status(), Status::Registered, "seed {seed}");
        assert_eq!(net.mg_registrations().len(), 1, "seed {seed}");
        assert_eq!(net.mgc_registrations(0).len(), 1, "seed {seed}");
        let mg_stats = net.mg.endpoint().unwrap().stats().clone();
        let mgc_stats = net.mgc(0).endpoint(&mg_mid()).unwrap().stats().clone();
        assert_eq!(mg_stats.requests_sent, 1, "one ServiceChange, seed {seed}");
        assert_eq!(mgc_stats.requests_received, 1, "executed once, seed {seed}");
        retransmitted += mg_stats.request_retransmissions;
        duplicates += mgc_stats.duplicate_requests;
    }
    assert!(retransmitted > 10, "the link did lose ServiceChanges");
    assert!(duplicates > 5, "and repetitions reached the MGC");
}
