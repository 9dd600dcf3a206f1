//! A test controller (MGC) for driving a real `iq-agw` over the real transport: iq-link's
//! `MgcDriver` on its own tokio thread, behind a blocking facade (`request` waits for the
//! reply; requests from the AGW, e.g. Notify, are answered and queued for `next_request`).
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use iq_codec::model::{
    ActionRequest, MId, MessageBody, Transaction, TransactionReply, TransactionResult,
};
use iq_link::association::{mgc, MgEntry, Mgc, MgcConfig};
use iq_link::driver::{parse_mid, MgcDriver};
use iq_link::transport::{TransportConfig, TransportKind};
use tokio::sync::mpsc;

enum Cmd {
    Request(
        Vec<ActionRequest>,
        std_mpsc::Sender<Result<TransactionResult, String>>,
    ),
}

/// What the controller saw.
#[derive(Debug)]
pub enum Seen {
    /// An MG registered.
    Registered(MId),
    /// A request from the MG (already answered with an empty reply per command).
    Request(Vec<ActionRequest>),
    /// The MG's association was lost.
    Lost(MId),
}

/// The running controller.
pub struct TestMgc {
    pub addr: SocketAddr,
    cmd: mpsc::UnboundedSender<Cmd>,
    seen: std_mpsc::Receiver<Seen>,
    mg: Option<MId>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Notify is acknowledged, anything else gets 501 (see `acknowledge_notifies`).
fn ack(actions: &[ActionRequest]) -> TransactionResult {
    iq_link::association::acknowledge_notifies(actions, "the test MGC")
}

impl TestMgc {
    /// Listen on 127.0.0.1 (port chosen by the OS) with TCP, text encoding, accepting `mg_mid`.
    pub fn start(mg_mid: &str) -> TestMgc {
        let mid = parse_mid("<alg-test.example.net>").unwrap();
        let mg = parse_mid(mg_mid).unwrap();
        let mut cfg = MgcConfig::new(
            mid,
            vec![MgEntry::any_port(mg, IpAddr::V4(Ipv4Addr::LOCALHOST))],
        );
        cfg.keepalive = iq_link::association::Keepalive::Off;
        let mgc = Mgc::new(cfg).expect("mgc config");
        let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<Cmd>();
        let (seen_tx, seen_rx) = std_mpsc::channel();
        let (addr_tx, addr_rx) = std_mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let transport = TransportConfig::new(TransportKind::Tcp);
                let mut driver = MgcDriver::bind(mgc, &transport, "127.0.0.1:0".parse().unwrap())
                    .await
                    .expect("bind");
                addr_tx.send(driver.local_addr()).unwrap();
                let mut waiting: Vec<(u32, std_mpsc::Sender<Result<TransactionResult, String>>)> =
                    Vec::new();
                let mut registered: Option<MId> = None;
                loop {
                    let mut next: Option<Cmd> = None;
                    {
                        let mut on_event = |m: &mut Mgc, now: Instant, ev: mgc::Event| match ev {
                            mgc::Event::MgRegistered { mid, .. } => {
                                registered = Some(mid.clone());
                                let _ = seen_tx.send(Seen::Registered(mid));
                            }
                            mgc::Event::MgLost { mid, .. } => {
                                let _ = seen_tx.send(Seen::Lost(mid));
                            }
                            mgc::Event::Request { mg, id, actions } => {
                                let _ = m.send_reply(now, &mg, id, ack(&actions));
                                let _ = seen_tx.send(Seen::Request(actions));
                            }
                            mgc::Event::Reply { id, result, .. } => {
                                if let Some(i) = waiting.iter().position(|(w, _)| *w == id) {
                                    let (_, tx) = waiting.swap_remove(i);
                                    let _ = tx.send(Ok(result));
                                }
                            }
                            mgc::Event::Timeout { id, .. } | mgc::Event::Abandoned { id, .. } => {
                                if let Some(i) = waiting.iter().position(|(w, _)| *w == id) {
                                    let (_, tx) = waiting.swap_remove(i);
                                    let _ = tx.send(Err(format!("transaction {id} failed")));
                                }
                            }
                            _ => {}
                        };
                        let stop = async {
                            next = cmd_rx.recv().await;
                        };
                        driver.run_until(stop, &mut on_event).await;
                    }
                    match next {
                        None => break,
                        Some(Cmd::Request(actions, tx)) => {
                            let Some(mg) = registered.clone() else {
                                let _ = tx.send(Err("no MG registered".into()));
                                continue;
                            };
                            match driver.mgc.send_request(Instant::now(), &mg, actions) {
                                Ok(id) => waiting.push((id, tx)),
                                Err(e) => {
                                    let _ = tx.send(Err(e.to_string()));
                                }
                            }
                        }
                    }
                }
                driver.close();
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("mgc listening");
        TestMgc {
            addr,
            cmd: cmd_tx,
            seen: seen_rx,
            mg: None,
            thread: Some(thread),
        }
    }

    /// Wait until the MG registered.
    pub fn wait_registered(&mut self, timeout: Duration) -> MId {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.seen.recv_timeout(left) {
                Ok(Seen::Registered(m)) => {
                    self.mg = Some(m.clone());
                    return m;
                }
                Ok(_) => {}
                Err(_) => panic!("no MG registered within {timeout:?}"),
            }
        }
    }

    /// Send a request and wait for its reply.
    pub fn request(&self, actions: Vec<ActionRequest>) -> TransactionResult {
        let (tx, rx) = std_mpsc::channel();
        self.cmd
            .send(Cmd::Request(actions, tx))
            .expect("mgc thread alive");
        rx.recv_timeout(Duration::from_secs(10))
            .expect("reply within 10 s")
            .expect("transaction completed")
    }

    /// Send a request written as H.248 text actions (the body of a `Transaction = N { ... }`).
    pub fn request_text(&self, actions: &str) -> TransactionResult {
        let msg = format!("MEGACO/3 [127.0.0.1]:1\nTransaction = 1 {{ {actions} }}");
        let m = iq_codec::text::decode(msg.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{msg}"));
        let iq_codec::model::MessageBody::Transactions(ts) = m.body else {
            panic!("not transactions")
        };
        let iq_codec::model::Transaction::Request(r) = ts.into_iter().next().unwrap() else {
            panic!("not a request")
        };
        self.request(r.actions)
    }

    /// The next request the MG sent (Notify...), within `timeout`.
    pub fn next_request(&self, timeout: Duration) -> Option<Vec<ActionRequest>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.seen.recv_timeout(left) {
                Ok(Seen::Request(a)) => return Some(a),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }
}

impl Drop for TestMgc {
    fn drop(&mut self) {
        let (tx, _) = mpsc::unbounded_channel();
        self.cmd = tx; // closes the old sender: the driver loop ends
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The pretty text of a message from `mid` (as written in a header, e.g. `<agw1.example.net>`)
/// carrying the reply `result` to transaction `id`: what a trace file or a failure message
/// shows of a reply the controller received.
pub fn reply_text(mid: &str, id: u32, result: TransactionResult) -> String {
    let mut m = iq_codec::text::decode(format!("MEGACO/3 {mid}\nPending = 1 {{ }}\n").as_bytes())
        .expect("a header with this mId decodes");
    m.body = MessageBody::Transactions(
        [Transaction::Reply(TransactionReply {
            id,
            imm_ack_required: false,
            result,
            segment_number: None,
            segmentation_complete: false,
        })]
        .into(),
    );
    iq_codec::text::encode(&m, iq_codec::text::Style::Pretty)
}
