//! The IMS-ALG session procedures of TS 23.334 clause 6.2.10.5 (e2ae security with DTLS-SRTP,
//! figures 6.2.10.5.1 UE-originated and 6.2.10.5.2 UE-terminated), clause 5.11.2.4 (the
//! SAVP<->AVP / SAVPF<->AVPF mapping) and the plain case of clause 6.2.1, as a sans-IO state
//! machine: one [`Session`] per call (per SIP dialog).
//!
//! # Driving a session
//!
//! The caller (the daemon) feeds inputs, each with the current time, and then drains
//! [`Session::poll_output`] until it returns `None`:
//!
//! - SDP from either side: [`Session::handle_offer`] / [`Session::handle_answer`] with the
//!   [`Side`] it came from ([`Side::Access`] = the served UE / WIC, [`Side::Core`] = the IMS
//!   core). An offer from the access side starts the UE-originated flow, one from the core the
//!   UE-terminated flow; later offers are re-offers.
//! - Iq replies: every [`Output::Iq`] carries a [`TxToken`]; the caller sends the actions as ONE
//!   H.248 transaction to the AGW and hands the outcome back with
//!   [`Session::handle_iq_reply`] (the decoded [`TransactionResult`], or a timeout / transport
//!   failure).
//! - Notify commands from the AGW for this session's context: [`Session::handle_notify`]
//!   (`xdtls/estfail` releases the session and reports [`FailureReason::DtlsFailure`];
//!   `hangterm/thb` heartbeats are accepted). The caller replies to the Notify itself.
//! - Release (SIP BYE / CANCEL, or any reason of the caller): [`Session::release`].
//! - Timers: [`Session::poll_timeout`] / [`Session::handle_timeout`] (the wait for the other
//!   side's SDP answer, [`SessionConfig::answer_timeout`]).
//!
//! Outputs: Iq requests ([`Output::Iq`]), SDP for one side ([`Output::Sdp`]), and the
//! terminal events [`Output::Failed`] (the session cannot continue; a release of whatever was
//! created on the AGW follows) and [`Output::Released`] (nothing of the session is left on the
//! AGW; the session can be dropped). A failure is always followed, eventually, by `Released`.
//!
//! # What is sent (digest sections 3, 5.1, 6)
//!
//! - One H.248 context per session; T1 = access termination (realm
//!   [`SessionConfig::access_realm`]), T2 = core termination ([`SessionConfig::core_realm`]).
//!   One H.248 stream per active m-line: `Stream = i + 1` for the m-line at index `i`
//!   (rejected m-lines, port 0, get no stream and stay rejected; the numbering never shifts).
//! - The two Adds are sent one after the other (the second goes into the context the first
//!   one's reply names). UE-originated: Add T1 (reserve and configure: Local `$`, Remote = UE
//!   SDP), Add T2 (reserve), offer to the core, Modify T2 (Remote = core answer, Local narrowed
//!   to the answered formats), answer to the UE. UE-terminated: Add T2 (reserve and configure),
//!   Add T1 (reserve), offer to the UE, Modify T1 (Remote = UE answer), answer to the core.
//! - Access termination with DTLS-SRTP: proto `UDP/TLS/RTP/SAVP(F)`, Local `a=fingerprint:$`,
//!   `a=ice-ufrag:$`, `a=ice-pwd:$` (the AGW's values come back in the reply), Remote with the
//!   UE fingerprint(s) (session-level ones moved into the m-section), ICE credentials and
//!   candidates; Events `hangterm/thb` + `xdtls/estfail` on the Add (digest 0.2 #7: on the
//!   first request configuring the access termination, in both flows), Signals `xdtls/estab`
//!   iff the AGW is the DTLS client. The UE's `a=setup` and `a=tls-id` never go to the AGW;
//!   the ALG's tls-id never crosses Iq (digest 0.2 #5).
//! - The DTLS role is derived once per m-line ([`DtlsRole`], stored in the session) and read by
//!   both the SDP writer (`a=setup`) and the Iq writer (`xdtls/estab`).
//! - Release: one transaction with `Subtract` of both terminations, each with an empty
//!   `Audit { }`: the ALG does not use the statistics, and `Audit{}` tells the AGW not to
//!   return them (TS 29.334 5.8).
//!
//! SDP written to a side gets the ALG's own `o=` line for that side (`o=- <id> <version> IN
//! IP4|IP6 <AGW address facing that side>`, the version incremented each time a changed SDP is
//! sent) and `s=-`; the `t=` line is copied from the input (or `t=0 0`).

mod builder;
mod session;
mod tls_id;

pub use iq_codec::sdp::{Sdp, Setup, TlsId};
pub use tls_id::TlsIdAllocator;

use iq_codec::model::{
    ActionRequest, ErrorDescriptor, NotifyRequest, TerminationId, TransactionResult,
};
use std::time::{Duration, Instant};

/// Which side of the ALG an SDP comes from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Side {
    /// The served UE / WIC (IMS access network); the AGW's access termination T1.
    Access,
    /// The IMS core network; the AGW's core termination T2.
    Core,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Access => Side::Core,
            Side::Core => Side::Access,
        }
    }
}

/// Offer or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SdpKind {
    /// An SDP offer.
    Offer,
    /// An SDP answer.
    Answer,
}

/// The AGW's DTLS role on one access m-line. Derived once per m-line (and per DTLS
/// association) from the UE's `a=setup` (digest 5.1); the SDP writer and the Iq writer both read
/// this one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DtlsRole {
    /// The AGW sends the ClientHello: the ALG sends `Signals { xdtls/estab }` and writes
    /// `a=setup:active` in its answer to the UE.
    Client,
    /// The AGW waits for the UE's ClientHello: no Establish signal, `a=setup:passive`.
    Server,
}

impl DtlsRole {
    /// The role for the UE's `a=setup` value: `active` -> server, `passive` -> client,
    /// `actpass` -> `policy` when `in_offer` (in an answer it is an error, as is `holdconn`).
    pub fn from_ue_setup(
        setup: Setup,
        in_offer: bool,
        policy: ActpassPolicy,
    ) -> Result<DtlsRole, ProcedureError> {
        match setup {
            Setup::Active => Ok(DtlsRole::Server),
            Setup::Passive => Ok(DtlsRole::Client),
            Setup::Actpass if in_offer => Ok(match policy {
                ActpassPolicy::AgwClient => DtlsRole::Client,
                ActpassPolicy::AgwServer => DtlsRole::Server,
            }),
            Setup::Actpass => Err(ProcedureError::BadSdp(
                "a=setup:actpass is not allowed in an SDP answer (RFC 5763 5)".into(),
            )),
            Setup::Holdconn => Err(ProcedureError::BadSdp(
                "a=setup:holdconn is not usable for DTLS-SRTP".into(),
            )),
        }
    }

    /// The `a=setup` value the ALG writes in an answer to the UE for this AGW role.
    pub fn answer_setup(self) -> Setup {
        match self {
            DtlsRole::Client => Setup::Active,
            DtlsRole::Server => Setup::Passive,
        }
    }

    /// Does the ALG send the Establish (D)TLS session signal (`xdtls/estab`) for this role?
    pub fn sends_establish(self) -> bool {
        self == DtlsRole::Client
    }
}

/// Who the AGW is when the UE offers `a=setup:actpass` (the ALG decides, TS 23.334 6.2.10.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ActpassPolicy {
    /// AGW = DTLS client, answer `a=setup:active` (RFC 5763 5 recommends the answerer be
    /// active; the handshake then runs while the answer travels). The default.
    #[default]
    AgwClient,
    /// AGW = DTLS server, answer `a=setup:passive`.
    AgwServer,
}

/// Per-session configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// The AGW's DTLS role when the UE offers `actpass`.
    pub actpass_policy: ActpassPolicy,
    /// `ipdc/realm` of the access termination (default `access`).
    pub access_realm: String,
    /// `ipdc/realm` of the core termination (default `core`).
    pub core_realm: String,
    /// Request latching on the access termination (`ipnapt/latch = ON` in its LocalControl;
    /// default true).
    pub latching: bool,
    /// Hanging-termination heartbeat (`hangterm/thb { timerx = N }`, seconds) requested on
    /// both terminations; `None` = not requested (default 60).
    pub heartbeat_secs: Option<u32>,
    /// RequestID of the Events descriptor of the access termination (default 2001).
    pub access_events_id: u32,
    /// RequestID of the Events descriptor of the core termination (default 2002).
    pub core_events_id: u32,
    /// UE-terminated calls: offer DTLS-SRTP (`UDP/TLS/RTP/SAVP(F)`, WebRTC / e2ae) to the UE
    /// for the core's `RTP/AVP(F)` m-lines (true, the default), or plain RTP (false, clause
    /// 6.2.1). UE-originated calls follow the UE's proto per m-line.
    pub access_dtls: bool,
    /// How long to wait for the other side's SDP answer before failing the session
    /// (`None` = forever; default 120 s).
    pub answer_timeout: Option<Duration>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            actpass_policy: ActpassPolicy::default(),
            access_realm: "access".into(),
            core_realm: "core".into(),
            latching: true,
            heartbeat_secs: Some(60),
            access_events_id: 2001,
            core_events_id: 2002,
            access_dtls: true,
            answer_timeout: Some(Duration::from_secs(120)),
        }
    }
}

/// Identifies one Iq transaction a session asked for; unique within the session. The caller
/// maps its H.248 transaction ID to (session, token) and gives the token back with the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxToken(pub u64);

/// How an Iq transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IqOutcome {
    /// The AGW's TransactionReply result (actions, or a transaction-level error).
    Replied(TransactionResult),
    /// No reply in time (the transaction layer gave up).
    TimedOut,
    /// The request could not be sent or the association went down.
    Failed(String),
}

/// What the session wants done.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// Send these actions to the AGW as one transaction; report the outcome with `token`.
    Iq {
        /// Token for [`Session::handle_iq_reply`].
        token: TxToken,
        /// The actions (one context each).
        actions: Vec<ActionRequest>,
    },
    /// Deliver this SDP to `side`.
    Sdp {
        /// Where it goes.
        side: Side,
        /// Offer or answer.
        kind: SdpKind,
        /// The session description (CRLF line ends, full RFC 8866 form).
        sdp: Sdp,
    },
    /// The session failed (the caller rejects / ends the call). A release of what exists on the
    /// AGW follows; [`Output::Released`] comes last.
    Failed {
        /// Why.
        reason: FailureReason,
    },
    /// Nothing of this session is left on the AGW (or the AGW could not be reached to delete
    /// it); the session is finished and can be dropped.
    Released,
}

/// Why a session failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// The AGW answered a request with an H.248 error.
    AgwError(ErrorDescriptor),
    /// An Iq request got no reply.
    IqTimeout,
    /// An Iq request could not be sent.
    IqFailed(String),
    /// The AGW's reply lacked what the procedure needs (context, termination, Local SDP...).
    BadReply(String),
    /// The AGW reported a failed DTLS handshake (`xdtls/estfail`), with its cause if given.
    DtlsFailure {
        /// The `cause` parameter of the event.
        cause: Option<String>,
    },
    /// An SDP answer could not be used (the caller has already been told by an `Err`).
    BadAnswer(String),
    /// The other side did not answer within [`SessionConfig::answer_timeout`].
    AnswerTimeout,
}

/// What [`Session::handle_notify`] made of a Notify.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyOutcome {
    /// `xdtls/estfail`: the session failed and is being released.
    DtlsFailed,
    /// A `hangterm/thb` heartbeat: the terminations are alive.
    Heartbeat,
    /// Not for this session, or no event the procedures use.
    Ignored,
}

/// Coarse state of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// No SDP yet.
    Idle,
    /// An offer/answer exchange is in progress (Iq transactions or the other side's answer
    /// outstanding).
    Negotiating,
    /// Offer/answer complete; media configured.
    Established,
    /// Subtracting the terminations.
    Releasing,
    /// Finished.
    Released,
}

/// Errors returned to the caller for an input it should reject (the session state is
/// unchanged unless the variant says otherwise).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProcedureError {
    /// The SDP cannot be used (SIP 488). For an answer, the session is also released.
    #[error("unusable SDP: {0}")]
    BadSdp(String),
    /// An offer/answer exchange is already in progress (SIP 491 for a re-offer).
    #[error("an offer/answer exchange is in progress")]
    OfferPending,
    /// An answer arrived without an outstanding offer to that side.
    #[error("no offer outstanding towards the {0:?} side")]
    UnexpectedAnswer(Side),
    /// The session is released or releasing.
    #[error("the session is released")]
    Released,
    /// The token does not name an outstanding transaction of this session.
    #[error("unknown transaction token {0:?}")]
    UnknownToken(TxToken),
}

/// One call's IMS-ALG procedures. See the [module documentation](self).
#[derive(Debug)]
pub struct Session {
    inner: session::Inner,
}

impl Session {
    /// A new idle session. `tls_ids` is shared by all sessions of the ALG (uniqueness of the
    /// ALG's `a=tls-id` values).
    pub fn new(config: SessionConfig, tls_ids: TlsIdAllocator) -> Session {
        Session {
            inner: session::Inner::new(config, tls_ids),
        }
    }

    /// An SDP offer from `from`. The first offer starts the session (access = UE-originated,
    /// core = UE-terminated); later ones are re-offers. `Err` = reject the offer (the session
    /// keeps its previous state).
    pub fn handle_offer(
        &mut self,
        from: Side,
        sdp: Sdp,
        now: Instant,
    ) -> Result<(), ProcedureError> {
        self.inner.handle_offer(from, sdp, now)
    }

    /// An SDP answer from `from` to the offer the session sent there. `Err(BadSdp)` also
    /// starts the release (the call cannot be set up with it).
    pub fn handle_answer(
        &mut self,
        from: Side,
        sdp: Sdp,
        now: Instant,
    ) -> Result<(), ProcedureError> {
        self.inner.handle_answer(from, sdp, now)
    }

    /// The outcome of the Iq transaction `token`.
    pub fn handle_iq_reply(
        &mut self,
        token: TxToken,
        outcome: IqOutcome,
        now: Instant,
    ) -> Result<(), ProcedureError> {
        self.inner.handle_iq_reply(token, outcome, now)
    }

    /// A Notify from the AGW (for this session's context).
    pub fn handle_notify(&mut self, notify: &NotifyRequest, now: Instant) -> NotifyOutcome {
        self.inner.handle_notify(notify, now)
    }

    /// Release the session: Subtract whatever exists on the AGW (waiting for outstanding Adds
    /// first), then [`Output::Released`]. Idempotent.
    pub fn release(&mut self, now: Instant) {
        self.inner.release(now)
    }

    /// When [`Session::handle_timeout`] should be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.inner.poll_timeout()
    }

    /// Run the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.inner.handle_timeout(now)
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.inner.poll_output()
    }

    /// The H.248 context, once the AGW has chosen it.
    pub fn context(&self) -> Option<u32> {
        self.inner.context()
    }

    /// The termination of `side`, once the AGW has named it.
    pub fn termination(&self, side: Side) -> Option<&TerminationId> {
        self.inner.termination(side)
    }

    /// Coarse state.
    pub fn phase(&self) -> Phase {
        self.inner.phase()
    }

    /// The AGW's DTLS role on m-line `m_line` (0-based), once derived.
    pub fn dtls_role(&self, m_line: usize) -> Option<DtlsRole> {
        self.inner.dtls_role(m_line)
    }

    /// The ALG's `a=tls-id` on m-line `m_line`, once allocated.
    pub fn alg_tls_id(&self, m_line: usize) -> Option<&TlsId> {
        self.inner.alg_tls_id(m_line)
    }
}
