//! The daemon against a real MG association (iq-link's sans-IO `Mg`), in memory: what happens
//! to an AGW's service and contexts when it registers again.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use iq_codec::model::{MId, ServiceChangeMethod};
use iq_link::association::{mg, mgc, Mg, MgConfig, MgEntry, Mgc, MgcConfig};

use super::agw::AgwConf;
use super::{Daemon, DaemonConfig};

fn mid(n: &str) -> MId {
    MId::Domain {
        name: n.into(),
        port: None,
    }
}

struct Lab {
    mg: Mg,
    mgc: Mgc,
    daemon: Daemon,
    addr: SocketAddr,
    now: Instant,
    /// Every MG event, in order.
    mg_events: Vec<mg::Event>,
    /// The MGC events the daemon handed back, in order.
    mgc_events: Vec<mgc::Event>,
}

impl Lab {
    fn new() -> Lab {
        let addr: SocketAddr = "192.0.2.20:2944".parse().unwrap();
        let mgc = Mgc::new(MgcConfig::new(
            mid("alg"),
            vec![MgEntry::any_port(mid("agw"), addr.ip())],
        ))
        .unwrap();
        let mut mc = MgConfig::new(mid("agw"), mid("alg"));
        mc.transaction.reliable = true;
        let mg = Mg::new(mc).unwrap();
        let daemon = Daemon::new(DaemonConfig {
            agws: vec![AgwConf {
                mid: mid("agw"),
                weight: 1,
                realms: Vec::new(),
            }],
            ..DaemonConfig::default()
        });
        Lab {
            mg,
            mgc,
            daemon,
            addr,
            now: Instant::now(),
            mg_events: Vec::new(),
            mgc_events: Vec::new(),
        }
    }

    /// Carry messages and events both ways until nothing moves.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.mg.poll_transmit() {
                self.mgc.handle_input(self.now, self.addr, &t.bytes);
                moved = true;
            }
            while let Some(t) = self.mgc.poll_transmit() {
                self.mg.handle_input(self.now, &t.bytes);
                moved = true;
            }
            while let Some(ev) = self.mgc.poll_event() {
                if let Some(ev) = self.daemon.handle_event(&mut self.mgc, self.now, ev) {
                    self.mgc_events.push(ev);
                }
                moved = true;
            }
            while let Some(ev) = self.mg.poll_event() {
                if let mg::Event::Connect { .. } = ev {
                    self.mg.transport_up(self.now);
                }
                self.mg_events.push(ev);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    fn registered_with(&self) -> Vec<ServiceChangeMethod> {
        self.mgc_events
            .iter()
            .filter_map(|e| match e {
                mgc::Event::MgRegistered { method, .. } => Some(method.clone()),
                _ => None,
            })
            .collect()
    }
}

/// After a loss the AGW comes back with `Disconnected` (it kept its contexts); the ALG holds
/// no session there, so it takes the AGW out of service with `Forced` (its contexts go) and
/// puts it back with `Restart`; the AGW takes sessions again only after that.
#[test]
fn disconnected_reregistration_without_sessions_clears_the_agw() {
    let mut lab = Lab::new();
    lab.mg.start(lab.now);
    lab.pump();
    assert_eq!(lab.registered_with(), [ServiceChangeMethod::Restart]);
    assert!(lab.daemon.agws.is_up(&mid("agw")));
    // A first registration (Restart) is not followed by any ServiceChange of ours.
    assert!(!lab
        .mg_events
        .iter()
        .any(|e| matches!(e, mg::Event::OutOfService { .. })));

    // The link goes; both sides notice.
    lab.mg.transport_down(lab.now);
    lab.mgc.transport_down(lab.now, lab.addr);
    lab.pump();
    assert!(!lab.daemon.agws.is_up(&mid("agw")));

    // The AGW retries after its backoff and re-registers; stop right after the MGC accepted
    // the registration: the AGW is not in service for sessions yet.
    lab.now += Duration::from_secs(5);
    lab.mg.handle_timeout(lab.now);
    while let Some(ev) = lab.mg.poll_event() {
        if let mg::Event::Connect { .. } = ev {
            lab.mg.transport_up(lab.now);
        }
        lab.mg_events.push(ev);
    }
    let sc = lab.mg.poll_transmit().expect("the registration");
    lab.mgc.handle_input(lab.now, lab.addr, &sc.bytes);
    while let Some(ev) = lab.mgc.poll_event() {
        if let Some(ev) = lab.daemon.handle_event(&mut lab.mgc, lab.now, ev) {
            lab.mgc_events.push(ev);
        }
    }
    assert_eq!(
        lab.registered_with(),
        [
            ServiceChangeMethod::Restart,
            ServiceChangeMethod::Disconnected
        ]
    );
    assert!(
        !lab.daemon.agws.is_up(&mid("agw")),
        "in service before its unknown contexts were cleared"
    );
    assert_eq!(lab.daemon.clearing.len(), 1);

    lab.pump();
    let service: Vec<String> = lab
        .mg_events
        .iter()
        .filter_map(|e| match e {
            mg::Event::OutOfService { method, .. } => Some(format!("out {method:?}")),
            mg::Event::InService { .. } => Some("in".into()),
            _ => None,
        })
        .collect();
    assert_eq!(service, ["out Forced", "in"]);
    assert!(lab.daemon.agws.is_up(&mid("agw")));
    assert!(lab.daemon.clearing.is_empty());
    // The daemon consumed its own ServiceChange replies.
    assert!(!lab
        .mgc_events
        .iter()
        .any(|e| matches!(e, mgc::Event::ServiceChangeDone { .. })));
}

/// An AGW lost while its contexts are being cleared: nothing of the clearing survives.
#[test]
fn loss_during_the_clearing_forgets_it() {
    let mut lab = Lab::new();
    lab.mg.start(lab.now);
    lab.pump();
    lab.mg.transport_down(lab.now);
    lab.mgc.transport_down(lab.now, lab.addr);
    lab.pump();
    lab.now += Duration::from_secs(5);
    lab.mg.handle_timeout(lab.now);
    while let Some(ev) = lab.mg.poll_event() {
        if let mg::Event::Connect { .. } = ev {
            lab.mg.transport_up(lab.now);
        }
    }
    let sc = lab.mg.poll_transmit().expect("the registration");
    lab.mgc.handle_input(lab.now, lab.addr, &sc.bytes);
    while let Some(ev) = lab.mgc.poll_event() {
        lab.daemon.handle_event(&mut lab.mgc, lab.now, ev);
    }
    assert_eq!(lab.daemon.clearing.len(), 1);
    lab.mgc.transport_down(lab.now, lab.addr);
    while let Some(ev) = lab.mgc.poll_event() {
        lab.daemon.handle_event(&mut lab.mgc, lab.now, ev);
    }
    assert!(lab.daemon.clearing.is_empty());
    assert!(!lab.daemon.agws.is_up(&mid("agw")));
}

/// The AGW side of the reconciliation tests: an MG holding `contexts`, answering the audit on
/// all contexts with one action reply per context (or `refuse` as the error on context `*`)
/// and Subtracts by removing the context. Returns the requests it saw, as compact text.
fn answer_requests(
    lab: &mut Lab,
    contexts: &mut std::collections::BTreeSet<u32>,
    refuse: Option<u16>,
) -> Vec<String> {
    use iq_codec::model::{
        ActionReply, ActionRequest, Command, ContextId, ErrorDescriptor, TransactionResult,
    };
    let mut seen = Vec::new();
    loop {
        lab.pump();
        let requests: Vec<(u32, Vec<ActionRequest>)> = lab
            .mg_events
            .drain(..)
            .filter_map(|e| match e {
                mg::Event::Request { id, actions } => Some((id, actions)),
                _ => None,
            })
            .collect();
        if requests.is_empty() {
            return seen;
        }
        for (id, actions) in requests {
            let mut replies = Vec::new();
            for a in &actions {
                let cmd = a.commands.first().map(|c| c.command.name()).unwrap_or("");
                seen.push(format!("{:?} {cmd}", a.context));
                let reply = |context, error| ActionReply {
                    context,
                    error,
                    context_reply: None,
                    commands: Vec::new(),
                };
                match (&a.context, &a.commands[0].command) {
                    (ContextId::All, Command::AuditValue(_)) => match refuse {
                        Some(code) => replies.push(reply(
                            ContextId::All,
                            Some(ErrorDescriptor { code, text: None }),
                        )),
                        None => {
                            replies.extend(contexts.iter().map(|c| reply(ContextId::Id(*c), None)))
                        }
                    },
                    (ContextId::Id(c), Command::Subtract(_)) => {
                        contexts.remove(c);
                        replies.push(reply(ContextId::Id(*c), None));
                    }
                    (other, _) => panic!("unexpected request on {other:?}"),
                }
            }
            lab.mg
                .send_reply(lab.now, id, TransactionResult::Actions(replies))
                .unwrap();
        }
    }
}

/// Contexts on the AGW that no session owns are listed by an audit on all contexts, confirmed
/// by a second audit and removed; nothing else is sent.
#[test]
fn unowned_contexts_are_audited_confirmed_and_removed() {
    let mut lab = Lab::new();
    lab.mg.start(lab.now);
    lab.pump();
    let mut contexts: std::collections::BTreeSet<u32> = [5, 7].into_iter().collect();
    lab.daemon.reconcile.schedule(&mid("agw"), lab.now);
    assert_eq!(lab.daemon.poll_timeout(), Some(lab.now));
    lab.daemon.handle_timeout(&mut lab.mgc, lab.now);
    let seen = answer_requests(&mut lab, &mut contexts, None);
    assert_eq!(seen, ["All AuditValue"]);
    assert_eq!(contexts.len(), 2, "removed after one look");
    let next = lab.daemon.poll_timeout().expect("the confirming audit");
    assert_eq!(next, lab.now + super::reconcile::CONFIRM_AFTER);
    lab.now = next;
    lab.daemon.handle_timeout(&mut lab.mgc, lab.now);
    let seen = answer_requests(&mut lab, &mut contexts, None);
    assert_eq!(seen, ["All AuditValue", "Id(5) Subtract", "Id(7) Subtract"]);
    assert!(contexts.is_empty());
    assert!(lab.daemon.cleaning.is_empty());
    assert!(!lab.daemon.reconcile.is_pending(&mid("agw")));
    assert_eq!(lab.daemon.poll_timeout(), None);
    // The daemon consumed the replies; the AGW stayed in service throughout.
    assert!(!lab
        .mgc_events
        .iter()
        .any(|e| matches!(e, mgc::Event::Reply { .. })));
    assert!(lab.daemon.agws.is_up(&mid("agw")));
}

/// An AGW without context `*` (501) is left alone after the one audit.
#[test]
fn an_agw_that_cannot_list_its_contexts_is_left_alone() {
    let mut lab = Lab::new();
    lab.mg.start(lab.now);
    lab.pump();
    let mut contexts: std::collections::BTreeSet<u32> = [5].into_iter().collect();
    lab.daemon.reconcile.schedule(&mid("agw"), lab.now);
    lab.daemon.handle_timeout(&mut lab.mgc, lab.now);
    let seen = answer_requests(&mut lab, &mut contexts, Some(501));
    assert_eq!(seen, ["All AuditValue"]);
    assert_eq!(contexts.len(), 1);
    assert!(!lab.daemon.reconcile.is_pending(&mid("agw")));
    assert_eq!(lab.daemon.poll_timeout(), None);
    assert!(lab.daemon.agws.is_up(&mid("agw")));
}

/// A table emptied after a burst gives its memory back (the soak at concurrency 1,000 ended
/// with the ALG's RSS 2.4 MB above its start before this), and a table in use keeps room.
#[test]
fn sparse_tables_shrink_after_a_burst() {
    eprintln!(
        "session entry: {} bytes",
        std::mem::size_of::<super::Entry>()
    );
    let mut m: std::collections::HashMap<u64, [u8; 64]> = (0..5000).map(|i| (i, [0; 64])).collect();
    let burst = m.capacity();
    assert!(burst >= 5000);
    // while more than a quarter is in use, nothing moves
    for i in 0..3000 {
        m.remove(&i);
        super::shrink_sparse(&mut m);
    }
    // (hashbrown's capacity counts removed slots as used until it rehashes, so not exact)
    assert!(
        m.capacity() >= burst * 3 / 4,
        "shrunk to {} while 2,000 of {burst} were in use",
        m.capacity()
    );
    for i in 3000..4990 {
        m.remove(&i);
        super::shrink_sparse(&mut m);
    }
    assert_eq!(m.len(), 10);
    assert!(
        m.capacity() <= 512,
        "10 entries left in a table of {} buckets (was {burst})",
        m.capacity()
    );
    assert!((4990..5000).all(|i| m.contains_key(&i)));
}
