//! Engine configuration: identity, encoding, transport reliability and every timer.
//!
//! The defaults and where each comes from are tabled in the [module docs](super).

use std::time::Duration;

use iq_codec::model::MId;
use iq_codec::text::Style;

use super::codec::Encoding;
use super::Error;

/// Configuration of one [`Endpoint`](super::Endpoint) (one peer association).
///
/// Build with [`Config::new`] and change the public fields; [`Endpoint::new`](super::Endpoint::new)
/// checks them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Our message identifier, written into every message we send.
    pub mid: MId,
    /// Protocol version written into every message we send. Default 3 (Iq negotiates v3).
    pub version: u8,
    /// Encoding of the association. Default compact text.
    pub encoding: Encoding,
    /// The transport delivers reliably (SCTP, TCP): requests and replies are never repeated, but
    /// the overall request timer, Pending and the reply cache still run (H.248.1 D.2, H.248.4).
    /// Default `false` (UDP, Annex D.1).
    pub reliable: bool,

    /// First retransmission timeout of a request (and of a reply that needs an acknowledgement).
    /// Default 200 ms (H.248.1 D.1.5).
    pub initial_retransmit: Duration,
    /// Cap of the retransmission timeout. Default 4 s (H.248.1 D.1.3).
    pub max_retransmit: Duration,
    /// Factor the retransmission timeout is multiplied by after each retransmission. Default 2
    /// (H.248.1 D.1.3 "exponentially increasing backoff"; megaco `#megaco_incr_timer.factor`).
    pub retransmit_backoff: u32,
    /// With a seed, each retransmission timeout T is drawn uniformly from [T/2, T] (H.248.1
    /// D.1.3) with a xorshift generator seeded here; without one the timeouts are exact.
    /// Default `None`.
    pub retransmit_jitter_seed: Option<u64>,
    /// T-MAX: how long a request may go unanswered (no Reply, no Pending) before
    /// [`Event::Timeout`](super::Event::Timeout); no retransmission starts later than this.
    /// Also bounds the repetition of a reply that awaits its acknowledgement. Default 30 s
    /// (H.248.1 D.1.5).
    pub request_timeout: Duration,
    /// After a Pending: how long to wait for the reply or the next Pending before
    /// [`Event::Timeout`](super::Event::Timeout). Default 60 s (megaco `long_request_timer`).
    pub long_request_timer: Duration,
    /// Provisional response timer: a request still executing this long after it arrived gets a
    /// TransactionPending, and another one every further `pending_timer`. Default 200 ms (digest
    /// §1.5 lab value of MG/MGCProvisionalResponseTimerValue).
    pub pending_timer: Duration,
    /// How many Pendings we send for one incoming request; when one more would be due the
    /// request is aborted with error 506 and [`Event::RequestAborted`](super::Event::RequestAborted).
    /// `None` = no limit. Default `Some(3)` (digest §1.5 lab value of the
    /// MG/MGCOriginatedPendingLimit).
    pub sent_pending_limit: Option<u32>,
    /// How many Pendings we accept for one outgoing request; one more fails it with
    /// [`Event::PendingLimitExceeded`](super::Event::PendingLimitExceeded). `None` = no limit.
    /// Default `Some(3)` (as above).
    pub recv_pending_limit: Option<u32>,
    /// LONG-TIMER: how long a sent reply is kept to answer repetitions of its request, and
    /// how long transaction IDs are remembered (acknowledged incoming ones, to drop late
    /// duplicates; finished outgoing ones, to recognise repeated replies). Default 30 s (H.248.1
    /// D.1.1; megaco `reply_timer`).
    pub reply_timer: Duration,
    /// Acknowledge every reply received (three-way handshake), not only those with
    /// `ImmAckRequired`. Lets the peer drop its cached replies early. Default `false` (megaco
    /// `auto_ack`).
    pub auto_ack: bool,
    /// How long an acknowledgement may wait to ride along with other traffic; 0 = goes out at
    /// the next [`poll_transmit`](super::Endpoint::poll_transmit). Acknowledgements collected
    /// meanwhile go in one TransactionResponseAck with ranges. Default 0 (megaco
    /// `trans_timer`).
    pub ack_delay: Duration,
    /// Put several transactions (requests, replies, Pendings, acknowledgements queued between
    /// two [`poll_transmit`](super::Endpoint::poll_transmit) calls) into one message, up to
    /// [`max_transactions_per_message`](Self::max_transactions_per_message). Off, every message
    /// carries one transaction. Default `false` (megaco `trans_req`/`trans_ack`; the Ia profile
    /// typically uses one).
    pub bundle: bool,
    /// Most transactions in one message, sent and accepted; more in a received message is
    /// answered with error 413. Default 10 (TS 29.334 Table 5.10.1).
    pub max_transactions_per_message: usize,
    /// First transaction ID we allocate; IDs count up, wrap from 2^32-1 to 1 and skip IDs still
    /// in use. Default 1 (megaco `min_trans_id`).
    pub first_transaction_id: u32,
}

impl Config {
    /// Defaults for everything but our own mId.
    pub fn new(mid: MId) -> Self {
        Config {
            mid,
            version: 3,
            encoding: Encoding::Text(Style::Compact),
            reliable: false,
            initial_retransmit: Duration::from_millis(200),
            max_retransmit: Duration::from_secs(4),
            retransmit_backoff: 2,
            retransmit_jitter_seed: None,
            request_timeout: Duration::from_secs(30),
            long_request_timer: Duration::from_secs(60),
            pending_timer: Duration::from_millis(200),
            sent_pending_limit: Some(3),
            recv_pending_limit: Some(3),
            reply_timer: Duration::from_secs(30),
            auto_ack: false,
            ack_delay: Duration::ZERO,
            bundle: false,
            max_transactions_per_message: 10,
            first_transaction_id: 1,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let bad = |what| Err(Error::InvalidConfig(what));
        if self.initial_retransmit.is_zero() {
            return bad("initial_retransmit must be above zero");
        }
        if self.max_retransmit < self.initial_retransmit {
            return bad("max_retransmit must be at least initial_retransmit");
        }
        if self.retransmit_backoff == 0 {
            return bad("retransmit_backoff must be at least 1");
        }
        if self.request_timeout.is_zero() || self.long_request_timer.is_zero() {
            return bad("request_timeout and long_request_timer must be above zero");
        }
        if self.pending_timer.is_zero() {
            return bad("pending_timer must be above zero");
        }
        if self.reply_timer.is_zero() {
            return bad("reply_timer must be above zero");
        }
        if self.max_transactions_per_message == 0 {
            return bad("max_transactions_per_message must be at least 1");
        }
        if self.first_transaction_id == 0 {
            return bad("first_transaction_id must be at least 1");
        }
        Ok(())
    }
}
