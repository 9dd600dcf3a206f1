//! The control association between MG and MGC (H.248.1 clause 11; TS 29.334 §5.11, §5.12),
//! both roles, sans-IO and layered on the transaction [`Endpoint`](crate::transaction::Endpoint).
//!
//! - [`Mg`] (IMS-AGW): registers with ServiceChange on ROOT, negotiates the version, follows
//!   `MgcIdToTry` and HandOff, answers 505 until registered, answers the MGC's keepalives,
//!   runs the H.248.14 inactivity timer, detects loss and reconnects with backoff. It tells its
//!   driver to [`Connect`](mg::Event::Connect) and [`Disconnect`](mg::Event::Disconnect) and
//!   is told [`transport_up`](Mg::transport_up) / [`transport_down`](Mg::transport_down).
//! - [`Mgc`] (IMS-ALG): accepts registrations from configured MGs only (address and mId),
//!   negotiates version and profile, watches each MG (keepalive), and takes MGs out of service
//!   (`Forced`, `Graceful`), back in (`Restart`) or hands them off (`HandOff`).
//!
//! Both are driven like the engine: fed `(now, input)`, drained with `poll_transmit`,
//! `poll_event`, then asked `poll_timeout`. No sockets, no clock; randomness only from a
//! configured seed. Each owns its engines: one per association on the MG side (a new one for
//! each connection, the transaction numbering carried over), one per configured MG on the
//! MGC side (dropped when the MG is lost).
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::Instant;
//! use iq_codec::model::MId;
//! use iq_link::association::{mg, mgc, Mg, MgConfig, Mgc, MgcConfig, MgEntry};
//!
//! let mid = |n: &str| MId::Domain { name: n.into(), port: Some(2944) };
//! let mg_addr: SocketAddr = "192.0.2.10:2944".parse().unwrap();
//! let mut mgc = Mgc::new(MgcConfig::new(mid("alg.example.net"), vec![MgEntry::new(mid("agw.example.net"), mg_addr)])).unwrap();
//! let mut mg = Mg::new(MgConfig::new(mid("agw.example.net"), mid("alg.example.net"))).unwrap();
//! let now = Instant::now(); // the caller's clock
//!
//! mg.start(now);
//! assert!(matches!(mg.poll_event(), Some(mg::Event::Connect { .. })));
//! mg.transport_up(now); // the driver opened the transport
//! let sc = mg.poll_transmit().unwrap(); // ServiceChange Restart 901, Version 3, Profile threegiq/1
//! mgc.handle_input(now, mg_addr, &sc.bytes);
//! assert!(matches!(mgc.poll_event(), Some(mgc::Event::MgRegistered { version: 3, .. })));
//! let reply = mgc.poll_transmit().unwrap();
//! assert_eq!(reply.to, mg_addr);
//! mg.handle_input(now, &reply.bytes);
//! assert!(matches!(mg.poll_event(), Some(mg::Event::Registered { version: 3, .. })));
//! ```
//!
//! # MG states
//!
//! ```text
//!            start()
//!   Idle ─────────────► Connecting ──transport_up──► Registering ──reply OK──► Registered
//!                        ▲  │ connect timeout,         │  │ 406: retry one version lower  │
//!                        │  │ transport_down           │  │ (down to min_version)         │
//!                        │  ▼                          │  ▼                               │
//!                        │ Waiting ◄──── error reply, no reply, version too low ──┘       │
//!                        │ (backoff)                                                       │
//!                        │    ▲                                                            │
//!                        │    └─── transport_down, request timeout (T-MAX) ───────────────┤
//!                        │                                                                 │
//!                        └── at once: MgcIdToTry in the reply (Registering) ───────────────┤
//!                                     HandOff from the MGC (Registered) ───────────────────┘
//!   any state ──stop()──► Stopped ──start()──► Connecting
//! ```
//!
//! Every arrow out of Connecting/Registering/Registered ends the association: the engine is
//! dropped, open application requests are reported [`Abandoned`](mg::Event::Abandoned), and
//! [`Disconnect`](mg::Event::Disconnect) is emitted unless the transport is already down.
//! Requests from the MGC before Registered get error 505 (H.248.1 §11.2).
//!
//! How the MG registers (H.248.1 §11.2, §11.5), the method and reason of its ServiceChange:
//!
//! | situation | method / reason |
//! |---|---|
//! | first registration, or state not kept ([`Mg::set_state_kept`]) | `Restart` / [`MgConfig::restart_reason`] (901 Cold Boot) |
//! | after a loss, same MGC, state kept | `Disconnected` / 900 Service Restored |
//! | after a loss, another MGC of the list, state kept | `Failover` / 909 MGC Impending Failure |
//! | to the MGC named by `MgcIdToTry` in a reply | the method and reason just redirected |
//! | to the MGC named by a HandOff | `HandOff` / 903 MGC Directed Change |
//!
//! Which MGC: the primary first; after a failed attempt the next of [`MgConfig::mgcs`]; after
//! the loss of a registered association the primary, unless it is the one that failed (then
//! the first secondary); when a redirected or designated MGC fails, the list again (§11.5).
//! Redirections and handoffs connect at once; every other attempt waits the
//! [`Backoff`] delay (1 s, 2 s, 4 s, … 64 s by default; reset by a registration).
//!
//! Service state on the MG, set by the MGC's ServiceChanges on ROOT: `Forced` → out of
//! service at once; `Graceful` → going out of service, out after `Delay`; `Restart` → in
//! service. They are answered here and reported as events; the application enforces them.
//!
//! # MGC states, per configured MG
//!
//! ```text
//!                   ServiceChange Restart/Disconnected/Failover/HandOff on ROOT
//!                   from the MG's address with its mId, version >= min, profile accepted
//!   Unregistered ──────────────────────────────────────────────────────────► Registered
//!     ▲   │ version < min: 406; profile not accepted: 459;                        │
//!     │   │ redirect_to configured: reply MgcIdToTry (stays Unregistered);        │
//!     │   │ any other request: 504                                                │
//!     │   └──────────────────────────────────────────────┘                        │
//!     └──── max_failures requests unanswered, silence (inactivity timer),    ─────┘
//!           transport_down, HandOff accepted, refused re-registration
//! ```
//!
//! A message from an address or mId that is not configured is answered statelessly: every
//! request in it gets error 504 and nothing is kept.
//!
//! # Defaults and where they come from
//!
//! | field | default | source |
//! |---|---|---|
//! | [`MgConfig::max_version`], [`MgcConfig::max_version`] | 3 | digest §1.2 (Iq announces v3) |
//! | [`MgConfig::min_version`], [`MgcConfig::min_version`] | 2 | digest §1.2 (TS 29.334 references H.248.1 v2) |
//! | [`MgConfig::profile`] | `threegiq/1` | digest §1.1, §3.4 — **\[U\]** name unverified, make it configuration |
//! | [`MgConfig::restart_reason`] | 901 Cold Boot | H.248.8 reason list (digest §1.8), example digest §3.4 |
//! | [`MgConfig::state_kept_on_loss`] | `true` | H.248.1 §11.5 (`Disconnected` when contacting the previous MGC) |
//! | [`Backoff`] `initial` / `max` / `factor` | 1 s / 64 s / ×2 | ours: H.248.1 §11.2 says only "wait a random amount of time" (§9.2) |
//! | [`Backoff::jitter_seed`] | none (exact waits) | as the engine's `retransmit_jitter_seed`; seeded: uniform in [W/2, W] |
//! | [`MgConfig::connect_timeout`] | 30 s | ours, equal to T-MAX (H.248.1 D.1.5) |
//! | [`MgConfig::max_redirects`] | 4 | ours (loop guard) |
//! | [`MgConfig::answer_root_audit`], [`MgConfig::inactivity_timer`] | on | TS 29.334 Table 5.12.3 (both UDP monitoring methods) |
//! | [`MgConfig::loss_on_request_timeout`] | on | H.248.1 D.1.5 ("declares the MGC failed") |
//! | [`MgcConfig::keepalive`] | AuditValue ROOT after 30 s idle | TS 29.334 Table 5.12.3 (method); interval ours (provisioned) |
//! | [`MgcConfig::max_failures`] | 3 | ours (as the digest's Pending limit, §1.5) |
//! | [`MgcConfig::accepted_profiles`] / `echo_profile` | any / echo | digest §1.1 ("the MGC echoes/overrides it") |
//!
//! # Error codes
//!
//! | code | when | why this one |
//! |---|---|---|
//! | 505 | MG: a request before our ServiceChange was answered | H.248.1 §11.2 names it |
//! | 406 | MGC: registration below `min_version`; MG: falls back one version on it | H.248.1 §11.3 |
//! | 459 | MGC: profile not in `accepted_profiles` | H.248.8 "Unsupported or Unknown Profile" |
//! | 504 | MGC: any request from an unconfigured address/mId, or from a configured MG before it registered | H.248.8 "Command Received from unauthorized entity": the *sender* is not authorised. 402 "Unauthorized" is about a command on terminations the originator may not touch, so it does not fit |
//! | 472 | MG: HandOff without `MgcIdToTry` | H.248.8 "Required Information Missing" |
//! | 501 | MG: a ServiceChange method on ROOT the MGC may not send (Disconnected, Failover) | "Not Implemented" |
//!
//! The refusal of a registration (406, 459) is a ServiceChange reply carrying the error; the
//! stateless 504 is an error for the whole transaction.
//!
//! # Limits and unverified points
//!
//! - The H.248.14 `mit` parameter is taken in units of 10 ms **\[U\]** (recalled, the package
//!   text was not available); `it/ito` itself is verified (digest §1.8).
//! - The version goes in the message header of the registration as offered (digest §3.4
//!   shows `MEGACO/3`); after negotiation every message carries the negotiated one
//!   ([`Endpoint::set_version`](crate::transaction::Endpoint::set_version)).
//! - `ServiceChangeAddress` in the MGC's reply is ignored (replies go where requests came
//!   from, H.248.4); the MG's messages are not rechecked for their mId once registered (the
//!   source address binds them).
//! - An MG restarting within LONG-TIMER with transaction IDs the MGC's engine still
//!   remembers would be taken for a repetition; our MG continues its numbering across
//!   associations, and the MGC drops an MG's engine when it loses it.
//! - Open requests of the MG at a handoff are abandoned, not redirected to the new MGC
//!   (H.248.1 §11.5 allows either).

mod backoff;
pub mod mg;
pub mod mgc;
mod wire;

pub use backoff::Backoff;
pub use mg::{Mg, MgConfig};
pub use mgc::{Keepalive, MgEntry, Mgc, MgcConfig, OutOfService};

use thiserror::Error;

use crate::transaction;

/// Errors from the association's application-facing calls and constructors.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The transaction engine refused the call.
    #[error(transparent)]
    Transaction(#[from] transaction::Error),
    /// No registered association to carry it.
    #[error("the control association is not registered")]
    NotRegistered,
    /// The MG is not configured.
    #[error("unknown MG")]
    UnknownMg,
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}

/// What a controller that only listens answers to an MG's request: an empty reply to each
/// Notify, and error 501 (naming `who`) for the first other command of an action, whose later
/// commands are then not executed (H.248.1 8.2.2).
pub fn acknowledge_notifies(
    actions: &[iq_codec::model::ActionRequest],
    who: &str,
) -> iq_codec::model::TransactionResult {
    use iq_codec::model::{
        ActionReply, Command, CommandReply, ErrorDescriptor, NotifyReply, TransactionResult,
    };
    let mut replies = Vec::with_capacity(actions.len());
    for a in actions {
        let mut commands = Vec::new();
        let mut error = None;
        for c in &a.commands {
            match &c.command {
                Command::Notify(n) => commands.push(CommandReply::Notify(NotifyReply {
                    termination_ids: n.termination_ids.clone(),
                    error: None,
                })),
                other => {
                    error = Some(ErrorDescriptor {
                        code: error_code::NOT_IMPLEMENTED,
                        text: Some(format!("{} not implemented by {who}", other.name())),
                    });
                    break;
                }
            }
        }
        replies.push(ActionReply {
            context: a.context,
            error,
            context_reply: None,
            commands,
        });
    }
    TransactionResult::Actions(replies)
}

/// H.248 error codes the association answers with (H.248.8; digest §4.4).
pub mod error_code {
    /// 406 Version Not Supported.
    pub const VERSION_NOT_SUPPORTED: u16 = 406;
    /// 459 Unsupported or Unknown Profile.
    pub const UNSUPPORTED_PROFILE: u16 = 459;
    /// 472 Required Information Missing.
    pub const REQUIRED_INFORMATION_MISSING: u16 = 472;
    /// 501 Not Implemented.
    pub const NOT_IMPLEMENTED: u16 = 501;
    /// 504 Command Received from unauthorized entity.
    pub const UNAUTHORIZED_ENTITY: u16 = 504;
    /// 505 Transaction Request Received before a Service Change Reply has been received.
    pub const BEFORE_SERVICE_CHANGE_REPLY: u16 = 505;
}

/// ServiceChange reason codes (H.248.8; digest §1.8) and their text form `"901 Cold Boot"`.
pub mod reason {
    /// 900 Service Restored.
    pub const SERVICE_RESTORED: u16 = 900;
    /// 901 Cold Boot.
    pub const COLD_BOOT: u16 = 901;
    /// 902 Warm Boot.
    pub const WARM_BOOT: u16 = 902;
    /// 903 MGC Directed Change.
    pub const MGC_DIRECTED_CHANGE: u16 = 903;
    /// 905 Termination taken out of service.
    pub const TERMINATION_OUT_OF_SERVICE: u16 = 905;
    /// 908 MG Impending Failure.
    pub const MG_IMPENDING_FAILURE: u16 = 908;
    /// 909 MGC Impending Failure.
    pub const MGC_IMPENDING_FAILURE: u16 = 909;
    /// 918 Cancel Graceful.
    pub const CANCEL_GRACEFUL: u16 = 918;

    /// The standard text of a reason code.
    pub fn text(code: u16) -> Option<&'static str> {
        Some(match code {
            900 => "Service Restored",
            901 => "Cold Boot",
            902 => "Warm Boot",
            903 => "MGC Directed Change",
            904 => "Termination malfunctioning",
            905 => "Termination taken out of service",
            906 => "Loss of lower layer connectivity",
            907 => "Transmission Failure",
            908 => "MG Impending Failure",
            909 => "MGC Impending Failure",
            910 => "Media Capability Failure",
            911 => "Modem Capability Failure",
            912 => "Mux Capability Failure",
            913 => "Signal Capability Failure",
            914 => "Event Capability Failure",
            915 => "State Loss",
            916 => "Packages Change",
            917 => "Capabilities Change",
            918 => "Cancel Graceful",
            919 => "Warm Failover",
            920 => "Cold Failover",
            _ => return None,
        })
    }

    /// `"901 Cold Boot"` (just the number for codes without a standard text).
    pub fn format(code: u16) -> String {
        match text(code) {
            Some(t) => format!("{code} {t}"),
            None => code.to_string(),
        }
    }

    /// The code at the start of a received reason (`"901 Cold Boot"`, `"901"`).
    pub fn parse(reason: &str) -> Option<u16> {
        let digits: String = reason
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}
