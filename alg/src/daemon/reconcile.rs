//! Context reconciliation with an AGW: contexts there that no session of ours owns are found
//! with an AuditValue on all contexts and removed with Subtract.
//!
//! When: an AGW re-registers having kept its contexts while we still hold sessions there (we
//! may have released others meanwhile), or one of our transactions to it timed out or was
//! abandoned (a Subtract that never arrived leaves its context behind). Either schedules a
//! reconciliation of that AGW.
//!
//! How (H.248.1 7.2.5, 6.1.1): `Context = * { AuditValue = * { Audit { } } }` lists the
//! contexts and their terminations, one action reply per context. A listed context that no
//! session of ours owns is a *candidate*; it is removed (`Context = N { Subtract = *
//! { Audit { } } }`) only if a second audit [`CONFIRM_AFTER`] later lists it again and it is
//! still unowned. The second look is what makes this safe on any transport: a session whose
//! `Add` (context `$`) the AGW has executed but whose reply we have not yet read owns a
//! context we cannot know yet; by the second audit that reply has arrived or timed out.
//!
//! An AGW that cannot list its contexts (an error instead of the list, e.g. 501 from a gateway
//! without context `*`) is logged, and its unknown contexts stay: nothing is guessed.
//!
//! Sans-IO: the daemon asks [`Reconciler::due`] for the AGWs to audit at its timer, reports the
//! transaction IDs it used, and hands the replies to [`Reconciler::audited`].

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use iq_codec::model::{
    ActionReply, ActionRequest, AuditDescriptor, AuditRequest, Command, CommandRequest, ContextId,
    ErrorDescriptor, MId, SubtractRequest, TerminationId, TransactionId, TransactionResult,
};

use super::agw::same_mid;

/// Time between the audit that finds candidates and the one that confirms them.
pub const CONFIRM_AFTER: Duration = Duration::from_secs(5);

/// Contexts removed per Subtract transaction (one action each), so that a gateway left with
/// thousands of contexts is not sent one message beyond any size limit.
pub const SUBTRACTS_PER_TRANSACTION: usize = 50;

/// H.248.1 error 431: no termination matched the wildcard (no context at all).
const NO_WILDCARD_MATCH: u16 = 431;

#[derive(Debug)]
struct Pending {
    mid: MId,
    /// When to send the next audit (none while one is in flight).
    due: Option<Instant>,
    /// The audit in flight.
    audit: Option<TransactionId>,
    /// Unowned contexts the previous audit listed.
    candidates: Option<BTreeSet<u32>>,
}

/// What an audit reply means for the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Audited {
    /// Not a reconciliation audit.
    NotOurs,
    /// Every listed context is owned: nothing to do.
    Clean {
        /// Contexts the AGW listed.
        listed: usize,
    },
    /// Unowned contexts found; a second audit is scheduled to confirm them.
    Candidates(BTreeSet<u32>),
    /// Unowned in two audits: remove them (the requests are [`subtract_requests`]).
    Remove(BTreeSet<u32>),
    /// The AGW did not list its contexts.
    Refused(ErrorDescriptor),
}

/// The reconciliations scheduled or in progress, per AGW.
#[derive(Debug, Default)]
pub struct Reconciler {
    pending: Vec<Pending>,
}

impl Reconciler {
    /// Reconcile `mid` at `at` (earlier of this and any time already set; an audit in flight
    /// is not repeated).
    pub fn schedule(&mut self, mid: &MId, at: Instant) {
        match self.pending.iter_mut().find(|p| same_mid(&p.mid, mid)) {
            Some(p) => {
                if p.audit.is_none() {
                    p.due = Some(p.due.map_or(at, |d| d.min(at)));
                }
            }
            None => self.pending.push(Pending {
                mid: mid.clone(),
                due: Some(at),
                audit: None,
                candidates: None,
            }),
        }
    }

    /// Whether a reconciliation of `mid` is scheduled or running.
    pub fn is_pending(&self, mid: &MId) -> bool {
        self.pending.iter().any(|p| same_mid(&p.mid, mid))
    }

    /// The next time [`Reconciler::due`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.iter().filter_map(|p| p.due).min()
    }

    /// The AGWs to audit now; each is then awaiting [`Reconciler::audit_sent`] (or
    /// [`Reconciler::forget`] when the audit could not be sent).
    pub fn due(&mut self, now: Instant) -> Vec<MId> {
        let mut out = Vec::new();
        for p in &mut self.pending {
            if p.due.is_some_and(|d| d <= now) {
                p.due = None;
                out.push(p.mid.clone());
            }
        }
        out
    }

    /// The audit of `mid` went out as transaction `id`.
    pub fn audit_sent(&mut self, mid: &MId, id: TransactionId) {
        if let Some(p) = self.pending.iter_mut().find(|p| same_mid(&p.mid, mid)) {
            p.audit = Some(id);
        }
    }

    /// Drop whatever is pending for `mid` (it is gone, or the audit failed).
    pub fn forget(&mut self, mid: &MId) {
        self.pending.retain(|p| !same_mid(&p.mid, mid));
    }

    /// Whether transaction `id` to `mid` is a reconciliation audit.
    pub fn is_audit(&self, mid: &MId, id: TransactionId) -> bool {
        self.pending
            .iter()
            .any(|p| same_mid(&p.mid, mid) && p.audit == Some(id))
    }

    /// The reply to transaction `id` from `mid`; `owned` are the contexts our sessions there
    /// hold now.
    pub fn audited(
        &mut self,
        now: Instant,
        mid: &MId,
        id: TransactionId,
        result: &TransactionResult,
        owned: &BTreeSet<u32>,
    ) -> Audited {
        let Some(i) = self
            .pending
            .iter()
            .position(|p| same_mid(&p.mid, mid) && p.audit == Some(id))
        else {
            return Audited::NotOurs;
        };
        let listed = match listed_contexts(result) {
            Ok(l) => l,
            Err(e) => {
                self.pending.swap_remove(i);
                return Audited::Refused(e);
            }
        };
        let unowned: BTreeSet<u32> = listed.difference(owned).copied().collect();
        let p = &mut self.pending[i];
        p.audit = None;
        let confirmed: BTreeSet<u32> = match &p.candidates {
            Some(c) => c.intersection(&unowned).copied().collect(),
            None => BTreeSet::new(),
        };
        let fresh: BTreeSet<u32> = unowned.difference(&confirmed).copied().collect();
        if fresh.is_empty() {
            self.pending.swap_remove(i);
        } else {
            p.candidates = Some(fresh.clone());
            p.due = Some(now + CONFIRM_AFTER);
        }
        if !confirmed.is_empty() {
            Audited::Remove(confirmed)
        } else if !fresh.is_empty() {
            Audited::Candidates(fresh)
        } else {
            Audited::Clean {
                listed: listed.len(),
            }
        }
    }
}

/// `Context = * { AuditValue = * { Audit { } } }`: the list of contexts.
pub fn audit_request() -> Vec<ActionRequest> {
    vec![ActionRequest {
        context: ContextId::All,
        context_request: None,
        context_audit: None,
        commands: vec![CommandRequest {
            command: Command::AuditValue(AuditRequest {
                termination_ids: [TerminationId::new("*")].into(),
                audit: Some(AuditDescriptor::default()),
            }),
            optional: false,
            wildcard_return: false,
        }],
    }]
}

/// `Context = N { Subtract = * { Audit { } } }` for each context, in transactions of at most
/// [`SUBTRACTS_PER_TRANSACTION`] actions.
pub fn subtract_requests(contexts: &BTreeSet<u32>) -> Vec<Vec<ActionRequest>> {
    let all: Vec<ActionRequest> = contexts
        .iter()
        .map(|&c| ActionRequest {
            context: ContextId::Id(c),
            context_request: None,
            context_audit: None,
            commands: vec![CommandRequest {
                command: Command::Subtract(SubtractRequest {
                    termination_ids: [TerminationId::new("*")].into(),
                    audit: Some(AuditDescriptor::default()),
                }),
                optional: false,
                wildcard_return: false,
            }],
        })
        .collect();
    all.chunks(SUBTRACTS_PER_TRANSACTION)
        .map(<[ActionRequest]>::to_vec)
        .collect()
}

/// The contexts an audit on all contexts listed: the IDs of its action replies. Error 431 on
/// context `*` means there are none; any other error (of the transaction or of an action)
/// means the AGW did not list them.
pub fn listed_contexts(result: &TransactionResult) -> Result<BTreeSet<u32>, ErrorDescriptor> {
    let replies: &[ActionReply] = match result {
        TransactionResult::Error(e) => return Err(e.clone()),
        TransactionResult::Actions(a) => a,
    };
    let mut out = BTreeSet::new();
    for a in replies {
        match (&a.context, &a.error) {
            (ContextId::All, Some(e)) if e.code == NO_WILDCARD_MATCH => {}
            (_, Some(e)) => return Err(e.clone()),
            (ContextId::Id(c), None) => {
                out.insert(*c);
            }
            (other, None) => {
                return Err(ErrorDescriptor {
                    code: 400,
                    text: Some(format!(
                        "audit reply for context {other:?}, not a context ID"
                    )),
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mid() -> MId {
        MId::Domain {
            name: "agw".into(),
            port: None,
        }
    }

    fn listing(ids: &[u32]) -> TransactionResult {
        TransactionResult::Actions(
            ids.iter()
                .map(|&c| ActionReply {
                    context: ContextId::Id(c),
                    error: None,
                    context_reply: None,
                    commands: Vec::new(),
                })
                .collect(),
        )
    }

    fn set(v: &[u32]) -> BTreeSet<u32> {
        v.iter().copied().collect()
    }

    /// Run one audit round: due at `now`, sent as `id`, answered with `listed`.
    fn round(
        r: &mut Reconciler,
        now: Instant,
        id: TransactionId,
        listed: &[u32],
        owned: &[u32],
    ) -> Audited {
        assert_eq!(r.due(now), vec![mid()], "an audit due at {now:?}");
        r.audit_sent(&mid(), id);
        assert!(r.is_audit(&mid(), id));
        assert!(!r.is_audit(&mid(), id + 1));
        r.audited(now, &mid(), id, &listing(listed), &set(owned))
    }

    #[test]
    fn only_contexts_unowned_in_two_audits_are_removed() {
        let t0 = Instant::now();
        let mut r = Reconciler::default();
        r.schedule(&mid(), t0);
        // 3 is ours; 5 and 7 are not (yet: 7's Add reply is still on its way).
        assert_eq!(
            round(&mut r, t0, 1, &[3, 5, 7], &[3]),
            Audited::Candidates(set(&[5, 7]))
        );
        assert_eq!(r.poll_timeout(), Some(t0 + CONFIRM_AFTER));
        assert!(r
            .due(t0 + CONFIRM_AFTER - Duration::from_millis(1))
            .is_empty());
        // Second look: 7 is owned now, 5 still not, 9 is new (a candidate, not removed).
        let t1 = t0 + CONFIRM_AFTER;
        assert_eq!(
            round(&mut r, t1, 2, &[3, 5, 7, 9], &[3, 7]),
            Audited::Remove(set(&[5]))
        );
        // 9 gets its own second look.
        assert_eq!(
            round(&mut r, t1 + CONFIRM_AFTER, 3, &[3, 7, 9], &[3, 7]),
            Audited::Remove(set(&[9]))
        );
        assert!(!r.is_pending(&mid()));
        assert_eq!(r.poll_timeout(), None);
    }

    #[test]
    fn a_clean_gateway_ends_the_reconciliation() {
        let t0 = Instant::now();
        let mut r = Reconciler::default();
        r.schedule(&mid(), t0 + Duration::from_secs(2));
        r.schedule(&mid(), t0); // the earlier time wins
        assert_eq!(
            round(&mut r, t0, 1, &[3], &[3]),
            Audited::Clean { listed: 1 }
        );
        assert!(!r.is_pending(&mid()));
        // No context at all: 431 on context *.
        r.schedule(&mid(), t0);
        assert_eq!(r.due(t0), vec![mid()]);
        r.audit_sent(&mid(), 2);
        let none = TransactionResult::Actions(vec![ActionReply {
            context: ContextId::All,
            error: Some(ErrorDescriptor {
                code: 431,
                text: None,
            }),
            context_reply: None,
            commands: Vec::new(),
        }]);
        assert_eq!(
            r.audited(t0, &mid(), 2, &none, &BTreeSet::new()),
            Audited::Clean { listed: 0 }
        );
    }

    #[test]
    fn a_gateway_that_cannot_list_is_left_alone() {
        let t0 = Instant::now();
        let mut r = Reconciler::default();
        r.schedule(&mid(), t0);
        assert_eq!(r.due(t0), vec![mid()]);
        r.audit_sent(&mid(), 1);
        // A schedule while the audit is in flight does not send a second one.
        r.schedule(&mid(), t0);
        assert!(r.due(t0).is_empty());
        let refused = TransactionResult::Actions(vec![ActionReply {
            context: ContextId::All,
            error: Some(ErrorDescriptor {
                code: 501,
                text: Some("not implemented".into()),
            }),
            context_reply: None,
            commands: Vec::new(),
        }]);
        assert!(matches!(
            r.audited(t0, &mid(), 1, &refused, &BTreeSet::new()),
            Audited::Refused(ErrorDescriptor { code: 501, .. })
        ));
        assert!(!r.is_pending(&mid()));
        // A transaction that is not ours is said so.
        assert_eq!(
            r.audited(t0, &mid(), 1, &listing(&[1]), &BTreeSet::new()),
            Audited::NotOurs
        );
    }

    #[test]
    fn subtracts_are_batched_and_encode() {
        let many: BTreeSet<u32> = (1..=120).collect();
        let txns = subtract_requests(&many);
        assert_eq!(
            txns.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![50, 50, 20]
        );
        assert_eq!(txns[2][19].context, ContextId::Id(120));
        // The requests are what the text codec writes as the standard form.
        let msg = |actions: Vec<ActionRequest>| iq_codec::model::Message {
            auth: None,
            version: 3,
            mid: mid(),
            body: iq_codec::model::MessageBody::Transactions(
                [iq_codec::model::Transaction::Request(
                    iq_codec::model::TransactionRequest { id: 1, actions },
                )]
                .into(),
            ),
        };
        let text = iq_codec::text::encode(
            &msg(subtract_requests(&set(&[5]))[0].clone()),
            iq_codec::text::Style::Compact,
        );
        assert!(text.contains("C=5{S=*{AT{}}}"), "{text}");
        let text = iq_codec::text::encode(&msg(audit_request()), iq_codec::text::Style::Compact);
        assert!(text.contains("C=*{AV=*{AT{}}}"), "{text}");
    }
}
