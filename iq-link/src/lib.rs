//! `iq-link`: how H.248 messages get across between an IMS-ALG (MGC) and an IMS-AGW (MG).
//!
//! - [`transaction`]: the sans-IO transaction engine (no sockets, no clock: fed `(now, bytes)`,
//!   polled for messages to send, timers and events), shared by both roles.
//! - [`association`]: the control association on top of it (sans-IO too): MG registration,
//!   version negotiation, handoff, keepalive, loss and reconnection; MGC admission of
//!   configured MGs, out-of-service and handoff.
//! - [`driver`]: thin tokio drivers that run the associations over the transports.
//! - [`logs`]: the daemons' log line format, cheap enough to keep per-transaction lines on.
//! - [`transport`]: thin drivers that move bytes: SCTP (kernel, H.248.4), TCP with TPKT
//!   (H.248.1 Annex D.2) and UDP with ALF (Annex D.1).

pub mod association;
pub mod driver;
pub mod logs;
pub mod transaction;
pub mod transport;
