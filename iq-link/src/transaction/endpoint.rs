//! The transaction state machine of one peer association.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iq_codec::model::{
    ActionRequest, ErrorDescriptor, MId, Message, MessageBody, Transaction, TransactionAck,
    TransactionId, TransactionReply, TransactionRequest, TransactionResult, Transactions,
};
use tracing::{debug, trace};

use super::codec::{Codec, EncodeError, MalformedMessage};
use super::config::Config;
use super::Error;

/// H.248 error 413: number of transactions in message exceeds maximum.
pub const ERROR_TOO_MANY_TRANSACTIONS: u16 = 413;
/// H.248 error 506: number of TransactionPendings exceeded.
pub const ERROR_PENDING_LIMIT: u16 = 506;

/// One message for the transport to carry to the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The encoded message.
    pub bytes: Vec<u8>,
    /// How many transactions (requests, replies, Pendings, TransactionResponseAcks) it
    /// carries; 0 for a message-level error.
    pub transactions: usize,
}

/// What the application hears from the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A new request from the peer: execute it and answer with
    /// [`Endpoint::send_reply`]. Repetitions of it are never delivered again.
    Request {
        /// Transaction ID (the peer's numbering).
        id: TransactionId,
        /// The actions to execute.
        actions: Vec<ActionRequest>,
    },
    /// The final reply to one of our requests.
    Reply {
        /// Transaction ID returned by [`Endpoint::send_request`].
        id: TransactionId,
        /// The peer's answer.
        result: TransactionResult,
    },
    /// One of our requests got no reply: T-MAX without Reply or Pending, or the long request
    /// timer without a further Pending. The peer may or may not have executed it.
    Timeout {
        /// Transaction ID.
        id: TransactionId,
    },
    /// The peer sent more Pendings for one of our requests than
    /// [`Config::recv_pending_limit`]; the request is given up.
    PendingLimitExceeded {
        /// Transaction ID.
        id: TransactionId,
    },
    /// An incoming request took longer than [`Config::sent_pending_limit`] Pendings allow; the
    /// engine answered it with error 506 and will refuse a later [`Endpoint::send_reply`].
    RequestAborted {
        /// Transaction ID.
        id: TransactionId,
    },
    /// A received message could not be decoded. The engine has answered it: with a reply
    /// carrying the error when the transaction ID was known, else with a message-level error.
    DecodeError {
        /// The decoder's error (code, transaction, what and where).
        error: MalformedMessage,
    },
    /// A received message held more than [`Config::max_transactions_per_message`]
    /// transactions. Its requests were answered with error 413 and not executed; the rest of
    /// it was ignored.
    TooManyTransactions {
        /// How many it held.
        count: usize,
    },
    /// The peer sent a message-level error (it could not decode something we sent).
    PeerError {
        /// The error.
        error: ErrorDescriptor,
    },
    /// A reply for a transaction we never sent or forgot long ago (outside the LONG-TIMER
    /// window). Acknowledged if it asked for it, otherwise ignored.
    UnexpectedReply {
        /// Transaction ID.
        id: TransactionId,
    },
    /// A transaction could not be encoded and was not sent. An outgoing request is given up;
    /// for a reply, the request stays open for another [`Endpoint::send_reply`].
    EncodeError {
        /// The transaction, if the failure concerns one.
        id: Option<TransactionId>,
        /// The codec's error.
        error: EncodeError,
    },
}

/// Where an incoming transaction stands (see [`Endpoint::incoming_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncomingState {
    /// Delivered to the application, not answered yet.
    Executing,
    /// Answered; the reply is cached to answer repetitions.
    Replied,
    /// Answered and acknowledged: the cached reply is dropped, repetitions are discarded.
    Acked,
}

/// Counters, for tests and monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Messages handed to the transport.
    pub messages_sent: u64,
    /// Messages received (decodable or not).
    pub messages_received: u64,
    /// Requests sent (first transmissions).
    pub requests_sent: u64,
    /// Request retransmissions.
    pub request_retransmissions: u64,
    /// New requests delivered to the application.
    pub requests_received: u64,
    /// Repetitions of known requests received (not delivered).
    pub duplicate_requests: u64,
    /// Of those, answered by resending the cached reply.
    pub replies_from_cache: u64,
    /// Of those, silently dropped because their reply was acknowledged.
    pub duplicates_discarded: u64,
    /// Replies sent (first transmissions, error replies made by the engine included).
    pub replies_sent: u64,
    /// Replies repeated because their `ImmAckRequired` acknowledgement did not come.
    pub reply_retransmissions: u64,
    /// Final replies to our requests received.
    pub replies_received: u64,
    /// Repeated replies for requests already finished.
    pub duplicate_replies: u64,
    /// TransactionPendings sent.
    pub pendings_sent: u64,
    /// TransactionPendings received for open requests.
    pub pendings_received: u64,
    /// Transaction IDs acknowledged in TransactionResponseAcks sent.
    pub acks_sent: u64,
    /// Cached replies released by TransactionResponseAcks received.
    pub acks_received: u64,
    /// Messages that failed to decode.
    pub decode_errors: u64,
    /// Requests that timed out.
    pub timeouts: u64,
}

/// A transaction kept for repetition: not sent yet, the bytes of a message holding only it, or
/// the model when it went out bundled (encoded alone on its first repetition).
#[derive(Debug)]
enum Stored {
    Queued,
    Nothing,
    Bytes(Arc<[u8]>),
    Model(Transaction),
}

#[derive(Debug)]
struct Outgoing {
    stored: Stored,
    sent_at: Instant,
    /// Current retransmission timeout (before jitter).
    interval: Duration,
    retransmit_at: Option<Instant>,
    deadline: Option<Instant>,
    pendings: u32,
}

#[derive(Debug)]
enum InState {
    Executing {
        pendings: u32,
        pending_at: Option<Instant>,
    },
    Replied {
        stored: Stored,
        replied_at: Instant,
        interval: Duration,
        resend_at: Option<Instant>,
    },
    Acked,
}

#[derive(Debug)]
struct Incoming {
    state: InState,
    /// End of the LONG-TIMER window (set once answered).
    expiry: Option<Instant>,
}

/// Timers, ordered by deadline in one set; each state remembers what it scheduled so it can
/// be cancelled exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Retransmit(TransactionId),
    RequestDeadline(TransactionId),
    PendingDue(TransactionId),
    ReplyResend(TransactionId),
    ReplyExpiry(TransactionId),
    CompletedExpiry(TransactionId),
    AckFlush,
}

type Timers = BTreeSet<(Instant, Timer)>;

/// Transaction-ID maps: foldhash (randomly seeded), several times cheaper than SipHash per
/// lookup; every transaction is looked up a few times.
use foldhash::HashMap as IdMap;

fn reschedule(timers: &mut Timers, slot: &mut Option<Instant>, timer: Timer, at: Option<Instant>) {
    if let Some(old) = slot.take() {
        timers.remove(&(old, timer));
    }
    if let Some(at) = at {
        timers.insert((at, timer));
        *slot = Some(at);
    }
}

/// xorshift64*: the only randomness, and only when seeded from the configuration.
#[derive(Debug, Clone)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
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
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The sans-IO H.248 transaction engine for one peer association.
///
/// Feed it what arrives ([`handle_input`](Self::handle_input)), the time when
/// [`poll_timeout`](Self::poll_timeout) comes ([`handle_timeout`](Self::handle_timeout)) and
/// the application's requests and replies; after each of these calls drain
/// [`poll_transmit`](Self::poll_transmit) and [`poll_event`](Self::poll_event), then ask
/// [`poll_timeout`](Self::poll_timeout) again. `now` must not go backwards.
#[derive(Debug)]
pub struct Endpoint {
    config: Config,
    codec: Arc<dyn Codec>,
    now: Option<Instant>,
    next_id: TransactionId,
    outgoing: IdMap<TransactionId, Outgoing>,
    /// Finished outgoing transactions, until the end of their LONG-TIMER window.
    completed: IdMap<TransactionId, Instant>,
    incoming: BTreeMap<TransactionId, Incoming>,
    timers: Timers,
    /// Transactions waiting for [`poll_transmit`](Self::poll_transmit).
    queue: VecDeque<Transaction>,
    /// Ready messages (repetitions, message-level errors) and their transaction counts.
    ready: VecDeque<(Vec<u8>, usize)>,
    /// IDs to acknowledge, and the time the oldest was queued.
    acks: BTreeSet<TransactionId>,
    ack_at: Option<Instant>,
    events: VecDeque<Event>,
    rng: Option<XorShift>,
    stats: Stats,
    peer_mid: Option<MId>,
}

/// Give back the memory of a table grown for a burst once it is mostly empty (less than a
/// quarter of its capacity above `floor`), keeping room for twice what is left.
fn shrink_if_sparse<K: Eq + std::hash::Hash, V, S: std::hash::BuildHasher>(
    m: &mut HashMap<K, V, S>,
    floor: usize,
) {
    let cap = m.capacity();
    if cap > floor && m.len() < cap / 4 {
        m.shrink_to(m.len() * 2);
    }
}

impl Endpoint {
    /// A new association endpoint. Fails if the configuration is inconsistent or its encoding
    /// is not available (binary, for now).
    pub fn new(config: Config) -> Result<Self, Error> {
        config.validate()?;
        let codec = config.encoding.codec().ok_or(Error::EncodingUnavailable(
            "binary (BER) model mapping is not built yet",
        ))?;
        Ok(Endpoint {
            rng: config.retransmit_jitter_seed.map(XorShift::new),
            next_id: config.first_transaction_id,
            config,
            codec,
            now: None,
            outgoing: IdMap::default(),
            completed: IdMap::default(),
            incoming: BTreeMap::new(),
            timers: BTreeSet::new(),
            queue: VecDeque::new(),
            ready: VecDeque::new(),
            acks: BTreeSet::new(),
            ack_at: None,
            events: VecDeque::new(),
            stats: Stats::default(),
            peer_mid: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Write `version` into the header of every message from now on: version negotiation
    /// (H.248.1 11.3) settles it in the middle of an association.
    pub fn set_version(&mut self, version: u8) {
        self.config.version = version;
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The peer's mId, as seen in the first message decoded from it.
    pub fn peer_mid(&self) -> Option<&MId> {
        self.peer_mid.as_ref()
    }

    /// How many of our requests await their final reply.
    pub fn outstanding_requests(&self) -> usize {
        self.outgoing.len()
    }

    /// Where an incoming transaction stands, while the engine remembers it.
    pub fn incoming_state(&self, id: TransactionId) -> Option<IncomingState> {
        self.incoming.get(&id).map(|i| match i.state {
            InState::Executing { .. } => IncomingState::Executing,
            InState::Replied { .. } => IncomingState::Replied,
            InState::Acked => IncomingState::Acked,
        })
    }

    // ------------------------------------------------------------------ application calls

    /// Send a request: allocates its transaction ID, queues it and starts its timers.
    pub fn send_request(
        &mut self,
        now: Instant,
        actions: Vec<ActionRequest>,
    ) -> Result<TransactionId, Error> {
        self.now = Some(now);
        if actions.is_empty() {
            return Err(Error::NoActions);
        }
        let id = self.allocate_id()?;
        let interval = self.config.initial_retransmit;
        let mut out = Outgoing {
            stored: Stored::Queued,
            sent_at: now,
            interval,
            retransmit_at: None,
            deadline: None,
            pendings: 0,
        };
        if !self.config.reliable {
            let at = now + self.jitter(interval);
            reschedule(
                &mut self.timers,
                &mut out.retransmit_at,
                Timer::Retransmit(id),
                Some(at),
            );
        }
        let deadline = now + self.config.request_timeout;
        reschedule(
            &mut self.timers,
            &mut out.deadline,
            Timer::RequestDeadline(id),
            Some(deadline),
        );
        self.outgoing.insert(id, out);
        self.queue
            .push_back(Transaction::Request(TransactionRequest { id, actions }));
        self.stats.requests_sent += 1;
        Ok(id)
    }

    /// Answer a request delivered as [`Event::Request`]. The reply is cached to answer
    /// repetitions of the request; it asks for an immediate acknowledgement if a Pending was
    /// sent for the request.
    pub fn send_reply(
        &mut self,
        now: Instant,
        id: TransactionId,
        result: TransactionResult,
    ) -> Result<(), Error> {
        self.now = Some(now);
        match self.incoming.get(&id).map(|i| &i.state) {
            Some(InState::Executing { .. }) => {
                self.answer(now, id, result);
                Ok(())
            }
            Some(_) => Err(Error::AlreadyAnswered(id)),
            None => Err(Error::UnknownTransaction(id)),
        }
    }

    // ------------------------------------------------------------------ input

    /// A whole message arrived from the peer.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        self.now = Some(now);
        self.stats.messages_received += 1;
        let msg = match self.codec.decode(bytes) {
            Ok(m) => m,
            Err(e) => return self.on_decode_error(now, e),
        };
        if self.peer_mid.is_none() {
            self.peer_mid = Some(msg.mid);
        }
        let transactions = match msg.body {
            MessageBody::Error(error) => {
                debug!(code = error.code, "message-level error from peer");
                self.events.push_back(Event::PeerError { error });
                return;
            }
            MessageBody::Transactions(ts) => ts,
        };
        if transactions.len() > self.config.max_transactions_per_message {
            return self.on_too_many(now, transactions);
        }
        for t in transactions {
            match t {
                Transaction::Request(r) => self.on_request(now, r),
                Transaction::Reply(r) => self.on_reply(now, r),
                Transaction::Pending(id) => self.on_pending(now, id),
                Transaction::ResponseAck(acks) => self.on_ack(&acks),
                // Segmentation is not used on Iq (TS 29.334 Table 5.12.2) and we never send
                // segmented replies, so there is nothing a SegmentReply could confirm.
                Transaction::SegmentReply(s) => trace!(id = s.id, "SegmentReply ignored"),
            }
        }
    }

    /// The time [`poll_timeout`](Self::poll_timeout) named has come (or passed).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        while let Some(&(at, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            self.fire(now, timer);
        }
    }

    // ------------------------------------------------------------------ output

    /// The next message to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        loop {
            if let Some((bytes, transactions)) = self.ready.pop_front() {
                self.stats.messages_sent += 1;
                return Some(Transmit {
                    bytes,
                    transactions,
                });
            }
            let limit = if self.config.bundle {
                self.config.max_transactions_per_message
            } else {
                1
            };
            let mut items = Transactions::new();
            if !self.acks.is_empty()
                && (self.acks_due() || (self.config.bundle && !self.queue.is_empty()))
            {
                items.push(self.take_acks());
            }
            while items.len() < limit {
                let Some(t) = self.queue.pop_front() else {
                    break;
                };
                if !self.is_stale(&t) {
                    items.push(t);
                }
            }
            if items.is_empty() {
                return None;
            }
            self.emit(items);
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|&(at, _)| at)
    }

    /// The next application event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ------------------------------------------------------------------ internals: requests in

    fn on_request(&mut self, now: Instant, r: TransactionRequest) {
        let id = r.id;
        if self.incoming.contains_key(&id) {
            return self.on_repetition(now, id);
        }
        let mut inc = Incoming {
            state: InState::Executing {
                pendings: 0,
                pending_at: None,
            },
            expiry: None,
        };
        if let InState::Executing { pending_at, .. } = &mut inc.state {
            let at = now + self.config.pending_timer;
            reschedule(
                &mut self.timers,
                pending_at,
                Timer::PendingDue(id),
                Some(at),
            );
        }
        self.incoming.insert(id, inc);
        self.stats.requests_received += 1;
        self.events.push_back(Event::Request {
            id,
            actions: r.actions,
        });
    }

    /// A request we already know arrived again (H.248.1 D.1.1, D.1.4, D.1.2.2).
    fn on_repetition(&mut self, now: Instant, id: TransactionId) {
        self.stats.duplicate_requests += 1;
        let Some(inc) = self.incoming.get_mut(&id) else {
            return;
        };
        match &mut inc.state {
            InState::Executing { .. } => self.send_pending(now, id),
            InState::Replied { stored, .. } => {
                self.stats.replies_from_cache += 1;
                if let Some(bytes) = repeat(&*self.codec, &self.config, stored) {
                    self.ready.push_back((bytes, 1));
                }
            }
            InState::Acked => self.stats.duplicates_discarded += 1,
        }
    }

    /// Send a Pending for an executing request, or abort it with 506 past the limit.
    fn send_pending(&mut self, now: Instant, id: TransactionId) {
        let Some(inc) = self.incoming.get_mut(&id) else {
            return;
        };
        let InState::Executing {
            pendings,
            pending_at,
        } = &mut inc.state
        else {
            return;
        };
        if self
            .config
            .sent_pending_limit
            .is_some_and(|l| *pendings >= l)
        {
            debug!(id, "sent pending limit reached, aborting with 506");
            let error = ErrorDescriptor {
                code: ERROR_PENDING_LIMIT,
                text: Some("Number of Transaction Pendings Exceeded".into()),
            };
            self.answer(now, id, TransactionResult::Error(error));
            self.events.push_back(Event::RequestAborted { id });
            return;
        }
        *pendings += 1;
        let at = now + self.config.pending_timer;
        reschedule(
            &mut self.timers,
            pending_at,
            Timer::PendingDue(id),
            Some(at),
        );
        self.stats.pendings_sent += 1;
        self.queue.push_back(Transaction::Pending(id));
    }

    /// Move an executing request to Replied and queue the reply.
    fn answer(&mut self, now: Instant, id: TransactionId, result: TransactionResult) {
        let Some(inc) = self.incoming.get_mut(&id) else {
            return;
        };
        let InState::Executing {
            pendings,
            pending_at,
        } = &mut inc.state
        else {
            return;
        };
        reschedule(&mut self.timers, pending_at, Timer::PendingDue(id), None);
        // H.248.1 D.1.4: whoever sent a Pending asks for an immediate acknowledgement.
        let imm_ack = *pendings > 0;
        let interval = self.config.initial_retransmit;
        let mut resend_at = None;
        if imm_ack && !self.config.reliable {
            let at = now + jitter(&mut self.rng, interval);
            reschedule(
                &mut self.timers,
                &mut resend_at,
                Timer::ReplyResend(id),
                Some(at),
            );
        }
        inc.state = InState::Replied {
            stored: Stored::Queued,
            replied_at: now,
            interval,
            resend_at,
        };
        let expiry = now + self.config.reply_timer;
        reschedule(
            &mut self.timers,
            &mut inc.expiry,
            Timer::ReplyExpiry(id),
            Some(expiry),
        );
        self.stats.replies_sent += 1;
        self.queue.push_back(Transaction::Reply(TransactionReply {
            id,
            imm_ack_required: imm_ack,
            result,
            segment_number: None,
            segmentation_complete: false,
        }));
    }

    fn on_ack(&mut self, acks: &[TransactionAck]) {
        for a in acks {
            let last = a.last.unwrap_or(a.first);
            if last < a.first {
                continue;
            }
            // Ranges name IDs; only those we hold matter (unknown ones are ignored).
            for (&id, inc) in self.incoming.range_mut(a.first..=last) {
                if let InState::Replied { resend_at, .. } = &mut inc.state {
                    reschedule(&mut self.timers, resend_at, Timer::ReplyResend(id), None);
                    // The ID stays until the LONG-TIMER expiry to drop late duplicates.
                    inc.state = InState::Acked;
                    self.stats.acks_received += 1;
                }
            }
        }
    }

    // ------------------------------------------------------------------ internals: replies in

    fn on_reply(&mut self, now: Instant, r: TransactionReply) {
        let id = r.id;
        if let Some(mut out) = self.outgoing.remove(&id) {
            self.cancel_outgoing(id, &mut out);
            self.complete(now, id);
            self.stats.replies_received += 1;
            if r.imm_ack_required || self.config.auto_ack {
                self.queue_ack(now, id);
            }
            self.events.push_back(Event::Reply {
                id,
                result: r.result,
            });
        } else {
            if self.completed.contains_key(&id) {
                self.stats.duplicate_replies += 1;
            } else {
                debug!(id, "reply for an unknown transaction");
                self.events.push_back(Event::UnexpectedReply { id });
            }
            // Our acknowledgement may have been lost: confirm again so the peer stops.
            if r.imm_ack_required {
                self.queue_ack(now, id);
            }
        }
    }

    fn on_pending(&mut self, now: Instant, id: TransactionId) {
        let Some(out) = self.outgoing.get_mut(&id) else {
            // H.248.1 D.1.4: a Pending after the reply (or for an unknown ID) is ignored.
            return;
        };
        self.stats.pendings_received += 1;
        out.pendings += 1;
        if self
            .config
            .recv_pending_limit
            .is_some_and(|l| out.pendings > l)
        {
            let mut out = self.outgoing.remove(&id).expect("present");
            self.cancel_outgoing(id, &mut out);
            self.complete(now, id);
            self.events.push_back(Event::PendingLimitExceeded { id });
            return;
        }
        // Switch to the long timer: the peer has the request, repeating it is pointless.
        reschedule(
            &mut self.timers,
            &mut out.retransmit_at,
            Timer::Retransmit(id),
            None,
        );
        let at = now + self.config.long_request_timer;
        reschedule(
            &mut self.timers,
            &mut out.deadline,
            Timer::RequestDeadline(id),
            Some(at),
        );
    }

    /// `out` has left `outgoing` (answered, timed out or failed): its timers go, and the table
    /// gives back the memory of a burst once it is mostly empty (an entry holds the encoded
    /// request; a table sized for a burst of thousands kept that size).
    fn cancel_outgoing(&mut self, id: TransactionId, out: &mut Outgoing) {
        reschedule(
            &mut self.timers,
            &mut out.retransmit_at,
            Timer::Retransmit(id),
            None,
        );
        reschedule(
            &mut self.timers,
            &mut out.deadline,
            Timer::RequestDeadline(id),
            None,
        );
        shrink_if_sparse(&mut self.outgoing, 256);
    }

    /// Remember a finished outgoing ID for LONG-TIMER (repeated replies, ID allocation).
    fn complete(&mut self, now: Instant, id: TransactionId) {
        let at = now + self.config.reply_timer;
        let mut slot = self.completed.remove(&id);
        reschedule(
            &mut self.timers,
            &mut slot,
            Timer::CompletedExpiry(id),
            Some(at),
        );
        self.completed.insert(id, at);
    }

    fn queue_ack(&mut self, now: Instant, id: TransactionId) {
        if self.acks.is_empty() && !self.config.ack_delay.is_zero() {
            let at = now + self.config.ack_delay;
            reschedule(
                &mut self.timers,
                &mut self.ack_at,
                Timer::AckFlush,
                Some(at),
            );
        }
        self.acks.insert(id);
    }

    fn acks_due(&self) -> bool {
        match (self.ack_at, self.now) {
            (Some(at), Some(now)) => now >= at,
            _ => true,
        }
    }

    /// All queued acknowledgements as one TransactionResponseAck with ranges.
    fn take_acks(&mut self) -> Transaction {
        reschedule(&mut self.timers, &mut self.ack_at, Timer::AckFlush, None);
        let acks = std::mem::take(&mut self.acks);
        self.stats.acks_sent += acks.len() as u64;
        let mut ranges: Vec<TransactionAck> = Vec::new();
        for id in acks {
            match ranges.last_mut() {
                Some(r) if r.last.unwrap_or(r.first).checked_add(1) == Some(id) => {
                    r.last = Some(id)
                }
                _ => ranges.push(TransactionAck {
                    first: id,
                    last: None,
                }),
            }
        }
        Transaction::ResponseAck(ranges)
    }

    // ------------------------------------------------------------------ internals: errors in

    fn on_decode_error(&mut self, now: Instant, e: MalformedMessage) {
        debug!(code = e.code, txn = ?e.transaction_id, reason = %e.reason, "undecodable message");
        self.stats.decode_errors += 1;
        match e.transaction_id {
            // The same ID from the same peer is the same transaction (D.1.2.1): a garbled
            // repetition of a known request is treated as a repetition.
            Some(id) if self.incoming.contains_key(&id) => self.on_repetition(now, id),
            Some(id) => {
                // Not executed, so not cached: a repetition gets the same answer.
                self.stats.replies_sent += 1;
                self.queue.push_back(error_reply(id, e.code, &e.reason));
            }
            None => {
                let body = MessageBody::Error(ErrorDescriptor {
                    code: e.code,
                    text: Some(sanitize(&e.reason)),
                });
                let msg = self.message(body);
                match self.codec.encode(&msg) {
                    Ok(bytes) => self.ready.push_back((bytes, 0)),
                    Err(error) => self
                        .events
                        .push_back(Event::EncodeError { id: None, error }),
                }
            }
        }
        self.events.push_back(Event::DecodeError { error: e });
    }

    fn on_too_many(&mut self, now: Instant, transactions: Transactions) {
        let count = transactions.len();
        debug!(count, "too many transactions in message");
        let mut requests = 0;
        for t in transactions {
            if let Transaction::Request(r) = t {
                requests += 1;
                if self.incoming.contains_key(&r.id) {
                    self.on_repetition(now, r.id);
                } else {
                    self.stats.replies_sent += 1;
                    self.queue.push_back(error_reply(
                        r.id,
                        ERROR_TOO_MANY_TRANSACTIONS,
                        "Number of transactions in message exceeds maximum",
                    ));
                }
            }
        }
        if requests == 0 {
            let body = MessageBody::Error(ErrorDescriptor {
                code: ERROR_TOO_MANY_TRANSACTIONS,
                text: Some("Number of transactions in message exceeds maximum".into()),
            });
            let msg = self.message(body);
            if let Ok(bytes) = self.codec.encode(&msg) {
                self.ready.push_back((bytes, 0));
            }
        }
        self.events.push_back(Event::TooManyTransactions { count });
    }

    // ------------------------------------------------------------------ internals: timers

    fn fire(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::Retransmit(id) => {
                let Some(out) = self.outgoing.get_mut(&id) else {
                    return;
                };
                out.retransmit_at = None;
                // D.1.5: no repetition starts later than T-MAX after the first sending.
                if now.duration_since(out.sent_at) >= self.config.request_timeout {
                    return;
                }
                if let Some(bytes) = repeat(&*self.codec, &self.config, &mut out.stored) {
                    trace!(id, "retransmitting request");
                    self.stats.request_retransmissions += 1;
                    self.ready.push_back((bytes, 1));
                }
                out.interval = next_interval(&self.config, out.interval);
                let at = now + jitter(&mut self.rng, out.interval);
                reschedule(&mut self.timers, &mut out.retransmit_at, timer, Some(at));
            }
            Timer::RequestDeadline(id) => {
                let Some(mut out) = self.outgoing.remove(&id) else {
                    return;
                };
                out.deadline = None;
                self.cancel_outgoing(id, &mut out);
                self.complete(now, id);
                debug!(id, "request timed out");
                self.stats.timeouts += 1;
                self.events.push_back(Event::Timeout { id });
            }
            Timer::PendingDue(id) => {
                if let Some(Incoming {
                    state: InState::Executing { pending_at, .. },
                    ..
                }) = self.incoming.get_mut(&id)
                {
                    *pending_at = None;
                    self.send_pending(now, id);
                }
            }
            Timer::ReplyResend(id) => {
                let Some(Incoming {
                    state:
                        InState::Replied {
                            stored,
                            replied_at,
                            interval,
                            resend_at,
                            ..
                        },
                    ..
                }) = self.incoming.get_mut(&id)
                else {
                    return;
                };
                *resend_at = None;
                if now.duration_since(*replied_at) >= self.config.request_timeout {
                    return;
                }
                if let Some(bytes) = repeat(&*self.codec, &self.config, stored) {
                    trace!(id, "repeating reply awaiting its acknowledgement");
                    self.stats.reply_retransmissions += 1;
                    self.ready.push_back((bytes, 1));
                }
                *interval = next_interval(&self.config, *interval);
                let at = now + jitter(&mut self.rng, *interval);
                reschedule(&mut self.timers, resend_at, timer, Some(at));
            }
            Timer::ReplyExpiry(id) => {
                if let Some(mut inc) = self.incoming.remove(&id) {
                    inc.expiry = None;
                    if let InState::Replied { resend_at, .. } = &mut inc.state {
                        reschedule(&mut self.timers, resend_at, Timer::ReplyResend(id), None);
                    }
                }
            }
            Timer::CompletedExpiry(id) => {
                self.completed.remove(&id);
                // The window holds (transactions per second) x LONG-TIMER entries: a burst
                // leaves a table sized for it. Give that memory back once it is mostly empty.
                shrink_if_sparse(&mut self.completed, 1024);
            }
            Timer::AckFlush => self.ack_at = None,
        }
    }

    fn jitter(&mut self, interval: Duration) -> Duration {
        jitter(&mut self.rng, interval)
    }

    // ------------------------------------------------------------------ internals: sending

    fn allocate_id(&mut self) -> Result<TransactionId, Error> {
        let in_use = self.outgoing.len() + self.completed.len();
        for _ in 0..=in_use {
            let id = self.next_id;
            self.next_id = if id == u32::MAX { 1 } else { id + 1 };
            if !self.outgoing.contains_key(&id) && !self.completed.contains_key(&id) {
                return Ok(id);
            }
        }
        Err(Error::IdsExhausted)
    }

    /// Queued items that no longer need to go out.
    fn is_stale(&self, t: &Transaction) -> bool {
        match t {
            // Given up (timed out) before it was ever sent.
            Transaction::Request(r) => !self.outgoing.contains_key(&r.id),
            // Answered in the meantime: the reply follows.
            Transaction::Pending(id) => !matches!(
                self.incoming.get(id),
                Some(Incoming {
                    state: InState::Executing { .. },
                    ..
                })
            ),
            _ => false,
        }
    }

    fn message(&self, body: MessageBody) -> Message {
        Message {
            auth: None,
            version: self.config.version,
            mid: self.config.mid.clone(),
            body,
        }
    }

    /// Encode `items` into one message, push it to `ready` and keep what repetitions need.
    fn emit(&mut self, items: Transactions) {
        let count = items.len();
        let (result, items) = encode(&*self.codec, &self.config, items);
        let bytes = match result {
            Ok(bytes) => bytes,
            Err(error) if count > 1 => {
                // Find the culprit: send the rest one by one.
                debug!(%error, "bundle failed to encode, sending its transactions singly");
                for t in items {
                    self.emit([t].into());
                }
                return;
            }
            Err(error) => {
                for t in items {
                    self.encode_failed(t, error.clone());
                }
                return;
            }
        };
        // A message holding just one request or reply is its own repetition; from a bundle
        // the transaction is kept as a model and encoded alone if it has to be repeated.
        let keep = |t: Transaction, bytes: &[u8]| {
            if count == 1 {
                Stored::Bytes(Arc::from(bytes))
            } else {
                Stored::Model(t)
            }
        };
        for t in items {
            match t {
                Transaction::Request(r) => {
                    if let Some(out) = self.outgoing.get_mut(&r.id) {
                        out.stored = if self.config.reliable {
                            Stored::Nothing
                        } else {
                            keep(Transaction::Request(r), &bytes)
                        };
                    }
                }
                Transaction::Reply(r) => {
                    if let Some(Incoming {
                        state: InState::Replied { stored, .. },
                        ..
                    }) = self.incoming.get_mut(&r.id)
                    {
                        if matches!(stored, Stored::Queued) {
                            *stored = keep(Transaction::Reply(r), &bytes);
                        }
                    }
                }
                _ => {}
            }
        }
        self.ready.push_back((bytes, count));
    }

    fn encode_failed(&mut self, t: Transaction, error: EncodeError) {
        let id = match &t {
            Transaction::Request(r) => {
                if let Some(mut out) = self.outgoing.remove(&r.id) {
                    self.cancel_outgoing(r.id, &mut out);
                }
                Some(r.id)
            }
            Transaction::Reply(r) => {
                // Back to executing so the application can answer again; a Pending already
                // sent still obliges the next reply to ask for an acknowledgement.
                if let Some(inc) = self.incoming.get_mut(&r.id) {
                    if let InState::Replied { resend_at, .. } = &mut inc.state {
                        reschedule(&mut self.timers, resend_at, Timer::ReplyResend(r.id), None);
                    }
                    let expiry = Timer::ReplyExpiry(r.id);
                    reschedule(&mut self.timers, &mut inc.expiry, expiry, None);
                    let mut pending_at = None;
                    if let Some(now) = self.now {
                        let at = now + self.config.pending_timer;
                        let timer = Timer::PendingDue(r.id);
                        reschedule(&mut self.timers, &mut pending_at, timer, Some(at));
                    }
                    inc.state = InState::Executing {
                        pendings: u32::from(r.imm_ack_required),
                        pending_at,
                    };
                }
                Some(r.id)
            }
            Transaction::Pending(id) => Some(*id),
            Transaction::ResponseAck(_) | Transaction::SegmentReply(_) => None,
        };
        self.events.push_back(Event::EncodeError { id, error });
    }
}

/// Encode `items` as one message from us; the items come back for bookkeeping.
fn encode(
    codec: &dyn Codec,
    config: &Config,
    items: Transactions,
) -> (Result<Vec<u8>, EncodeError>, Transactions) {
    let msg = Message {
        auth: None,
        version: config.version,
        mid: config.mid.clone(),
        body: MessageBody::Transactions(items),
    };
    let result = codec.encode(&msg);
    let MessageBody::Transactions(items) = msg.body else {
        unreachable!("built above")
    };
    (result, items)
}

/// The bytes to repeat a stored transaction with (encoding it alone the first time).
fn repeat(codec: &dyn Codec, config: &Config, stored: &mut Stored) -> Option<Vec<u8>> {
    match stored {
        Stored::Bytes(b) => Some(b.to_vec()),
        Stored::Model(_) => {
            let Stored::Model(t) = std::mem::replace(stored, Stored::Queued) else {
                unreachable!("matched above")
            };
            let (result, mut items) = encode(codec, config, [t].into());
            match result {
                Ok(bytes) => {
                    *stored = Stored::Bytes(Arc::from(bytes.as_slice()));
                    Some(bytes)
                }
                Err(_) => {
                    *stored = Stored::Model(items.pop().expect("one item"));
                    None
                }
            }
        }
        // Still in the queue (goes out at the next poll) or not kept (reliable transport).
        Stored::Queued | Stored::Nothing => None,
    }
}

fn next_interval(config: &Config, interval: Duration) -> Duration {
    interval
        .saturating_mul(config.retransmit_backoff)
        .min(config.max_retransmit)
}

/// H.248.1 D.1.3: uniformly in [T/2, T] when seeded, exactly T otherwise.
fn jitter(rng: &mut Option<XorShift>, interval: Duration) -> Duration {
    match rng {
        Some(rng) => interval.mul_f64(0.5 + 0.5 * rng.unit()),
        None => interval,
    }
}

fn error_reply(id: TransactionId, code: u16, reason: &str) -> Transaction {
    Transaction::Reply(TransactionReply {
        id,
        imm_ack_required: false,
        result: TransactionResult::Error(ErrorDescriptor {
            code,
            text: Some(sanitize(reason)),
        }),
        segment_number: None,
        segmentation_complete: false,
    })
}

/// Error text fit for a quoted string in either encoding: printable ASCII without `"`, short.
fn sanitize(reason: &str) -> String {
    reason
        .chars()
        .take(120)
        .map(|c| match c {
            '"' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}
