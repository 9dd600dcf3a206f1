//! Sans-IO H.248 transaction engine: no sockets and no clock inside.
//!
//! One [`Endpoint`] per peer association (an MGC and an MG each hold one for the other). It is
//! fed whole messages with the time they arrived ([`Endpoint::handle_input`]), the time when a
//! timer it asked for has come ([`Endpoint::handle_timeout`]) and the application's requests and
//! replies ([`Endpoint::send_request`], [`Endpoint::send_reply`]); it is drained for messages
//! to send ([`Endpoint::poll_transmit`]), application events ([`Endpoint::poll_event`]) and
//! the next timer ([`Endpoint::poll_timeout`]). Rule (as in str0m): after every call that
//! changes it, drain `poll_transmit` and `poll_event`, then ask `poll_timeout`.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use iq_codec::model::*;
//! use iq_link::transaction::{Config, Endpoint, Event};
//!
//! let mid = |n: &str| MId::Domain { name: n.into(), port: Some(2944) };
//! let mut mgc = Endpoint::new(Config::new(mid("alg.example.net"))).unwrap();
//! let mut mg = Endpoint::new(Config::new(mid("agw.example.net"))).unwrap();
//! let now = Instant::now(); // the caller's clock; the engine never reads one
//!
//! let audit = CommandRequest {
//!     command: Command::AuditValue(AuditRequest { termination_ids: [TerminationId::root()].into(), audit: None }),
//!     optional: false,
//!     wildcard_return: false,
//! };
//! let action = ActionRequest { context: ContextId::Null, context_request: None, context_audit: None, commands: vec![audit] };
//! let id = mgc.send_request(now, vec![action]).unwrap();
//! let request = mgc.poll_transmit().unwrap();
//!
//! mg.handle_input(now, &request.bytes);
//! let Some(Event::Request { id: rid, .. }) = mg.poll_event() else { panic!() };
//! let answer = ActionReply { context: ContextId::Null, error: None, context_reply: None, commands: vec![] };
//! mg.send_reply(now, rid, TransactionResult::Actions(vec![answer])).unwrap();
//! let reply = mg.poll_transmit().unwrap();
//!
//! mgc.handle_input(now + Duration::from_millis(5), &reply.bytes);
//! assert!(matches!(mgc.poll_event(), Some(Event::Reply { id: got, .. }) if got == id));
//! ```
//!
//! # What it does (H.248.1 Annex D, TS 29.334 §5.10)
//!
//! - **IDs and matching.** Outgoing requests get IDs counted up from
//!   [`Config::first_transaction_id`], wrapping to 1 and skipping IDs still in use or finished
//!   less than LONG-TIMER ago; replies and Pendings are matched on them. The peer's IDs are a
//!   separate space (one endpoint = one peer, so the ID alone identifies a transaction, D.1.2.1).
//! - **At-most-once (D.1.1).** A new request is delivered once ([`Event::Request`]). A
//!   repetition while it executes gets a TransactionPending (D.1.4); after the reply it gets the
//!   cached reply again; after the reply was acknowledged it is dropped silently (D.1.2.2). The
//!   cached reply is kept for LONG-TIMER ([`Config::reply_timer`]) or until acknowledged; the
//!   ID is kept for LONG-TIMER either way.
//! - **Retransmission (D.1.3, D.1.5; unreliable transports only).** An unanswered request is
//!   repeated after [`Config::initial_retransmit`], the timeout multiplied by
//!   [`Config::retransmit_backoff`] after each repetition up to [`Config::max_retransmit`]
//!   (with the defaults: 0.2, 0.6, 1.4, 3.0, 6.2, 10.2, … 26.2 s after the first sending). No
//!   repetition starts later than T-MAX ([`Config::request_timeout`]) after the first sending;
//!   at T-MAX the request fails with [`Event::Timeout`]. Over reliable transports
//!   ([`Config::reliable`]) nothing is repeated but T-MAX still applies (D.2, H.248.4).
//! - **Pending, both ways (D.1.4).** A request still executing [`Config::pending_timer`] after
//!   it arrived gets a TransactionPending, and another every `pending_timer`; past
//!   [`Config::sent_pending_limit`] it is answered with error 506 ([`Event::RequestAborted`]).
//!   A reply following a Pending carries `ImmAckRequired` and is repeated (unreliable
//!   transports, same backoff, up to T-MAX) until its TransactionResponseAck arrives. A received
//!   Pending stops the repetitions of that request and replaces T-MAX with
//!   [`Config::long_request_timer`], restarted by each further Pending; more than
//!   [`Config::recv_pending_limit`] Pendings fail it ([`Event::PendingLimitExceeded`]). A
//!   Pending after the reply is ignored.
//! - **Acknowledgements.** A reply with `ImmAckRequired` (or every reply with
//!   [`Config::auto_ack`]) is confirmed with a TransactionResponseAck; confirmations collected
//!   up to the next `poll_transmit` (or for [`Config::ack_delay`]) go in one item with ID
//!   ranges. A repeated reply that asks for it is confirmed again (the confirmation may have
//!   been lost). Acknowledgements for IDs we do not hold are ignored.
//! - **Message limits.** At most [`Config::max_transactions_per_message`] (10 on Iq, TS 29.334
//!   Table 5.10.1) transactions per message sent, bundled only with [`Config::bundle`]. A
//!   received message with more: its requests are answered with error 413 and not executed
//!   (a message-level 413 if it holds none), the rest is ignored.
//! - **Malformed input.** Answered by the engine: a reply with the decoder's code (403, 443,
//!   …) when the decoder knew the transaction ID, else a message-level error (400).
//!   [`Event::DecodeError`] tells the application. Message-level errors from the peer are never
//!   answered ([`Event::PeerError`]).
//! - **Determinism.** No clock is read and nothing is random unless
//!   [`Config::retransmit_jitter_seed`] is set (D.1.3's uniform pick in [T/2, T], from a seeded
//!   xorshift).
//!
//! # Timers and their defaults
//!
//! | [`Config`] field | default | source | megaco (Erlang/OTP) default |
//! |---|---|---|---|
//! | `initial_retransmit` | 200 ms | H.248.1 D.1.5 ("if the initial timer is set to 200 ms…"); digest §1.5 | `request_timer` = `#megaco_incr_timer{wait_for = 7 s}` |
//! | `retransmit_backoff` | ×2 | D.1.3 (exponential backoff mandatory; "double AAD") | `factor = 2`, `incr = 0` |
//! | `max_retransmit` | 4 s | D.1.3 ("a suggested maximum value is 4 seconds") | none |
//! | `request_timeout` (T-MAX) | 30 s | D.1.5 ("waiting a total delay of 30 seconds is probably acceptable") | `max_retries = infinity` |
//! | `long_request_timer` | 60 s | megaco | `long_request_timer` = 60 s |
//! | `pending_timer` | 200 ms | digest §1.5 lab value (ProvisionalResponseTimerValue, provisioned per TS 29.334 Table 5.10.7) | `pending_timer` = 30 s |
//! | `sent_pending_limit` / `recv_pending_limit` | 3 / 3 | digest §1.5 lab value (MG/MGCOriginatedPendingLimit, provisioned) | `infinity` / `infinity` |
//! | `reply_timer` (LONG-TIMER) | 30 s | D.1.1 ("a suggested value is 30 seconds") | `reply_timer` = 30 s |
//! | `ack_delay` | 0 | megaco (acks not held back) | `trans_timer` = 0 |
//! | `auto_ack` | off | megaco | `auto_ack` = false |
//! | `bundle` | off | megaco; Ia profile uses one transaction per message | `trans_req` = `trans_ack` = false |
//! | `max_transactions_per_message` | 10 | TS 29.334 Table 5.10.1 | `trans_req_maxcount` = `trans_ack_maxcount` = 10 |
//! | `first_transaction_id` | 1 | megaco | `min_trans_id` = 1 |
//!
//! The megaco column is from `lib/megaco/src/engine/megaco_config.erl` (`init_user_defaults`)
//! and `lib/megaco/include/megaco.hrl` (`#megaco_incr_timer{}`). Where the Annex D value and
//! megaco differ we follow Annex D for the retransmission schedule (megaco's 7 s first timeout
//! is far above an Iq round trip) and the digest's lab values for Pending (megaco's 30 s pending
//! timer would never fire before the requester's T-MAX). Over SCTP/TCP ([`Config::reliable`])
//! only `request_timeout`, `long_request_timer`, the Pending timer and limits and the reply
//! cache run.

mod codec;
mod config;
mod endpoint;

pub use codec::{BerCodec, Codec, EncodeError, Encoding, MalformedMessage, TextCodec};
pub use config::Config;
pub use endpoint::{
    Endpoint, Event, IncomingState, Stats, Transmit, ERROR_PENDING_LIMIT,
    ERROR_TOO_MANY_TRANSACTIONS,
};
pub use iq_codec::model::TransactionId;

use thiserror::Error;

/// Errors from the application-facing calls and from [`Endpoint::new`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// `send_reply` for an ID that is not an incoming request we know (never received, or
    /// forgotten after LONG-TIMER).
    #[error("transaction {0} is not a request from the peer awaiting a reply")]
    UnknownTransaction(TransactionId),
    /// `send_reply` for a request already answered (by the application, or by the engine with
    /// 506 after the Pending limit).
    #[error("transaction {0} was already answered")]
    AlreadyAnswered(TransactionId),
    /// `send_request` with no actions (a TransactionRequest carries at least one).
    #[error("a transaction request needs at least one action")]
    NoActions,
    /// Every transaction ID is in use.
    #[error("no free transaction ID")]
    IdsExhausted,
    /// The configured encoding is not available.
    #[error("encoding not available: {0}")]
    EncodingUnavailable(&'static str),
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}
