//! Request/reply transactions per second through two transaction engines in one process
//! (compact text, no network): `send_request` → encode → decode → `Event::Request` →
//! `send_reply` → encode → decode → `Event::Reply`, with timers running on a virtual clock.
//!
//! `cargo bench -p iq-link --bench engine`; criterion reports time per transaction and
//! transactions per second ("elem/s"). `codec_only_baseline` runs the same two encodes and two
//! decodes without the engines, so the difference is the engine's own cost.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iq_codec::model::*;
use iq_codec::text::{self, Style};
use iq_link::transaction::{Config, Endpoint, Event};

fn mid(name: &str) -> MId {
    MId::Domain {
        name: name.into(),
        port: Some(2944),
    }
}

/// A typical Iq request: Add a termination to a new context with a Local SDP to fill in.
fn add_request() -> Vec<ActionRequest> {
    vec![ActionRequest {
        context: ContextId::Choose,
        context_request: None,
        context_audit: None,
        commands: vec![CommandRequest {
            command: Command::Add(AmmRequest {
                termination_ids: [TerminationId::new("ip/acc/$")].into(),
                descriptors: vec![],
            }),
            optional: false,
            wildcard_return: false,
        }],
    }]
}

fn add_reply(n: u32) -> TransactionResult {
    TransactionResult::Actions(vec![ActionReply {
        context: ContextId::Id(n.max(1)),
        error: None,
        context_reply: None,
        commands: vec![CommandReply::Add(AmmsReply {
            termination_ids: [TerminationId::new(&format!("ip/acc/{n}"))].into(),
            audit: None,
        })],
    }])
}

struct Bench {
    now: Instant,
    mgc: Endpoint,
    mg: Endpoint,
}

impl Bench {
    fn new(bundle: bool) -> Self {
        let config = |name| {
            let mut c = Config::new(mid(name));
            c.bundle = bundle;
            c
        };
        Bench {
            now: Instant::now(),
            mgc: Endpoint::new(config("alg.example.net")).unwrap(),
            mg: Endpoint::new(config("agw.example.net")).unwrap(),
        }
    }

    /// `n` request/reply transactions, sent together (bundled into messages of up to 10 when
    /// the endpoints bundle). The virtual clock moves 1 ms per round so cached replies expire
    /// (LONG-TIMER 30 s) and the caches stay at their steady-state size.
    fn round(&mut self, n: usize) {
        self.now += Duration::from_millis(1);
        let now = self.now;
        for _ in 0..n {
            self.mgc.send_request(now, add_request()).unwrap();
        }
        while let Some(t) = self.mgc.poll_transmit() {
            self.mg.handle_input(now, &t.bytes);
        }
        while let Some(ev) = self.mg.poll_event() {
            if let Event::Request { id, .. } = ev {
                self.mg.send_reply(now, id, add_reply(id)).unwrap();
            }
        }
        while let Some(t) = self.mg.poll_transmit() {
            self.mgc.handle_input(now, &t.bytes);
        }
        let mut replies = 0;
        while let Some(ev) = self.mgc.poll_event() {
            if let Event::Reply { .. } = ev {
                replies += 1;
            }
        }
        assert_eq!(replies, n);
        self.mgc.handle_timeout(now);
        self.mg.handle_timeout(now);
    }
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));
    let mut b = Bench::new(false);
    g.bench_function("request_reply", |bench| bench.iter(|| b.round(1)));
    g.throughput(Throughput::Elements(10));
    let mut b = Bench::new(true);
    g.bench_function("request_reply_bundled_x10", |bench| {
        bench.iter(|| b.round(10))
    });
    // Baseline: the same four codec operations without the engines.
    g.throughput(Throughput::Elements(1));
    let message = |mid_name: &str, t: Transaction| Message {
        auth: None,
        version: 3,
        mid: mid(mid_name),
        body: MessageBody::Transactions([t].into()),
    };
    let request = message(
        "alg.example.net",
        Transaction::Request(TransactionRequest {
            id: 12345,
            actions: add_request(),
        }),
    );
    let reply = message(
        "agw.example.net",
        Transaction::Reply(TransactionReply {
            id: 12345,
            imm_ack_required: false,
            result: add_reply(12345),
            segment_number: None,
            segmentation_complete: false,
        }),
    );
    g.bench_function("codec_only_baseline", |bench| {
        bench.iter(|| {
            let a = text::encode(&request, Style::Compact);
            let a = text::decode(a.as_bytes()).unwrap();
            let b = text::encode(&reply, Style::Compact);
            let b = text::decode(b.as_bytes()).unwrap();
            (a, b)
        })
    });
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
