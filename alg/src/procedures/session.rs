//! The session state machine. One offer/answer exchange ("flow") runs at a time:
//!
//! 1. configure the offerer's termination with the offer (initial: Add in `$`; re-offer:
//!    Modify of what changed, skipped when nothing did);
//! 2. reserve the answerer's termination (initial: Add in the context; re-offer: Modify for new
//!    streams only);
//! 3. send the offer to the answerer's side;
//! 4. wait for the answer;
//! 5. configure the answerer's termination with the answer (Modify of what changed);
//! 6. send the answer to the offerer's side.

use super::builder::{self, AmmResult, DtlsOut, LocalInfo, OutStream, ReplyError, StreamReq};
use super::*;
use iq_codec::model::{
    AmmRequest, AuditDescriptor, Command, CommandRequest, ContextId, StreamMode, SubtractRequest,
};
use iq_codec::sdp::{Direction, Proto};
use rand::RngExt;
use std::collections::{BTreeMap, VecDeque};
use tracing::{debug, warn};

const ACCESS: usize = 0;
const CORE: usize = 1;

fn ix(side: Side) -> usize {
    match side {
        Side::Access => ACCESS,
        Side::Core => CORE,
    }
}

/// One m-line of the session.
#[derive(Debug, Clone)]
struct Stream {
    /// A stream exists on the AGW and media flows (not rejected).
    active: bool,
    /// DTLS-SRTP on the access side.
    dtls: bool,
    access_proto: Proto,
    core_proto: Proto,
    access_rtcp_mux: bool,
    /// The AGW's DTLS role (the one derived value).
    role: Option<DtlsRole>,
    alg_tls_id: Option<TlsId>,
    ue_tls_id: Option<TlsId>,
    /// The UE's fingerprints (normalised text) of the current association.
    ue_fps: Vec<String>,
    ue_mid: Option<String>,
    /// The AGW's Local per side (last reply, or last narrowed Local sent).
    local: [Option<LocalInfo>; 2],
    /// Last Remote sent per side.
    remote: [Option<Sdp>; 2],
    /// Last mode sent per side.
    mode: [Option<StreamMode>; 2],
    /// Scratch of the running flow.
    flow: StreamFlow,
}

#[derive(Debug, Clone, Default)]
struct StreamFlow {
    /// Active in the offer.
    offered: bool,
    /// Needs `$` Locals (new on the AGW, or re-enabled).
    new: bool,
    /// Was active and the offer disables it.
    disable: bool,
    /// A new DTLS association on this m-line in this flow (Establish when client).
    new_assoc: bool,
    /// Rejected by the answer.
    rejected: bool,
}

impl Stream {
    fn new() -> Self {
        Stream {
            active: false,
            dtls: false,
            access_proto: Proto::RtpAvp,
            core_proto: Proto::RtpAvp,
            access_rtcp_mux: false,
            role: None,
            alg_tls_id: None,
            ue_tls_id: None,
            ue_fps: Vec::new(),
            ue_mid: None,
            local: [None, None],
            remote: [None, None],
            mode: [None, None],
            flow: StreamFlow::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    ConfigureOfferer,
    ReserveAnswerer,
    AwaitAnswer,
    ConfigureAnswerer,
}

#[derive(Debug)]
struct Flow {
    offerer: Side,
    initial: bool,
    offer: Sdp,
    answer: Option<Sdp>,
    step: Step,
    /// The outstanding transaction of this flow.
    token: Option<TxToken>,
    deadline: Option<Instant>,
}

#[derive(Debug)]
enum State {
    Idle,
    Flow(Box<Flow>),
    Established,
    Releasing {
        /// A flow transaction whose reply may still name created terminations.
        pending: Option<TxToken>,
        /// The side that transaction configured.
        pending_side: Side,
        /// The Subtract transaction.
        subtract: Option<TxToken>,
    },
    Released,
}

#[derive(Debug, Default)]
struct OriginState {
    id: u64,
    version: u64,
    last: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    cfg: SessionConfig,
    tls_ids: TlsIdAllocator,
    out: VecDeque<Output>,
    next_token: u64,
    context: Option<u32>,
    term: [Option<TerminationId>; 2],
    streams: Vec<Stream>,
    state: State,
    origin: [OriginState; 2],
    estfail_requested: bool,
}

/// A validated plan for an offer, applied only when the whole offer is acceptable.
struct OfferPlan {
    streams: Vec<Stream>,
}

impl Inner {
    pub(crate) fn new(cfg: SessionConfig, tls_ids: TlsIdAllocator) -> Self {
        let mut rng = rand::rng();
        let mut origin = [OriginState::default(), OriginState::default()];
        for o in &mut origin {
            o.id = rng.random_range(1..=i64::MAX as u64);
        }
        Inner {
            cfg,
            tls_ids,
            out: VecDeque::new(),
            next_token: 1,
            context: None,
            term: [None, None],
            streams: Vec::new(),
            state: State::Idle,
            origin,
            estfail_requested: false,
        }
    }

    // -----------------------------------------------------------------------------------------
    // accessors

    pub(crate) fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }
    pub(crate) fn context(&self) -> Option<u32> {
        self.context
    }
    pub(crate) fn termination(&self, side: Side) -> Option<&TerminationId> {
        self.term[ix(side)].as_ref()
    }
    pub(crate) fn phase(&self) -> Phase {
        match self.state {
            State::Idle => Phase::Idle,
            State::Flow(_) => Phase::Negotiating,
            State::Established => Phase::Established,
            State::Releasing { .. } => Phase::Releasing,
            State::Released => Phase::Released,
        }
    }
    pub(crate) fn dtls_role(&self, m: usize) -> Option<DtlsRole> {
        self.streams.get(m).and_then(|s| s.role)
    }
    pub(crate) fn alg_tls_id(&self, m: usize) -> Option<&TlsId> {
        self.streams.get(m).and_then(|s| s.alg_tls_id.as_ref())
    }
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Flow(f) => f.deadline,
            _ => None,
        }
    }

    fn token(&mut self) -> TxToken {
        let t = TxToken(self.next_token);
        self.next_token += 1;
        t
    }

    fn send(&mut self, actions: Vec<ActionRequest>) -> TxToken {
        let token = self.token();
        self.out.push_back(Output::Iq { token, actions });
        token
    }

    // -----------------------------------------------------------------------------------------
    // offers

    pub(crate) fn handle_offer(
        &mut self,
        from: Side,
        sdp: Sdp,
        now: Instant,
    ) -> Result<(), ProcedureError> {
        let initial = match self.state {
            State::Idle => true,
            State::Established => false,
            State::Flow(_) => return Err(ProcedureError::OfferPending),
            State::Releasing { .. } | State::Released => return Err(ProcedureError::Released),
        };
        let plan = self.plan_offer(from, &sdp, initial)?;
        self.streams = plan.streams;
        debug!(
            ?from,
            initial,
            m_lines = self.streams.len(),
            "offer accepted"
        );
        self.state = State::Flow(Box::new(Flow {
            offerer: from,
            initial,
            offer: sdp,
            answer: None,
            step: Step::ConfigureOfferer,
            token: None,
            deadline: None,
        }));
        self.configure_offerer(now);
        Ok(())
    }

    /// Check the offer and work out every stream's state (roles, tls-ids are not allocated
    /// here; see `configure_offerer`).
    fn plan_offer(
        &self,
        from: Side,
        sdp: &Sdp,
        initial: bool,
    ) -> Result<OfferPlan, ProcedureError> {
        let bad = |m: String| ProcedureError::BadSdp(m);
        if sdp.media().len() < self.streams.len() {
            return Err(bad(format!(
                "the offer has {} m-lines, fewer than the {} already negotiated (RFC 3264 8)",
                sdp.media().len(),
                self.streams.len()
            )));
        }
        let mut streams = self.streams.clone();
        let mut any = false;
        for (i, m) in sdp.media().iter().enumerate() {
            if i >= streams.len() {
                streams.push(Stream::new());
            }
            let st = &mut streams[i];
            st.flow = StreamFlow::default();
            let proto = m.proto();
            let port = m.port().value().copied().unwrap_or(0);
            let usable = match from {
                Side::Access => {
                    proto.is_avp() || matches!(proto, Proto::UdpTlsRtpSavp | Proto::UdpTlsRtpSavpf)
                }
                Side::Core => proto.is_avp(),
            };
            let offered = port != 0 && usable;
            if offered
                && sdp
                    .effective_connection(i)
                    .and_then(|c| c.ip_addr())
                    .is_none()
            {
                return Err(bad(format!("m-line {i} has no usable c= address")));
            }
            if st.active && offered {
                // An existing stream keeps its transport kind.
                let dtls_now = match from {
                    Side::Access => proto.is_dtls_srtp(),
                    Side::Core => st.dtls,
                };
                if dtls_now != st.dtls {
                    return Err(bad(format!(
                        "m-line {i} changes between DTLS-SRTP and plain RTP"
                    )));
                }
            }
            if !offered && !st.active {
                // A rejected m-line keeps its proto (mapped when it maps) on both sides.
                let mapped = match from {
                    Side::Access => proto.to_core(),
                    Side::Core if self.cfg.access_dtls => proto.to_dtls(),
                    Side::Core => None,
                };
                let (a, c) = match from {
                    Side::Access => (proto.clone(), mapped.unwrap_or(proto.clone())),
                    Side::Core => (mapped.unwrap_or(proto.clone()), proto.clone()),
                };
                st.access_proto = a;
                st.core_proto = c;
            }
            st.flow.offered = offered;
            st.flow.new = offered && !st.active;
            st.flow.disable = !offered && st.active;
            if offered {
                any = true;
                if st.flow.new {
                    match from {
                        Side::Access => {
                            st.dtls = proto.is_dtls_srtp();
                            st.access_proto = proto.clone();
                            st.core_proto = proto.to_core().unwrap_or(proto.clone());
                            st.access_rtcp_mux = m.rtcp_mux();
                        }
                        Side::Core => {
                            st.dtls = self.cfg.access_dtls;
                            st.core_proto = proto.clone();
                            st.access_proto = if st.dtls {
                                proto.to_dtls().unwrap_or(proto.clone())
                            } else {
                                proto.clone()
                            };
                            st.access_rtcp_mux = st.dtls || m.rtcp_mux();
                        }
                    }
                }
                if from == Side::Access {
                    st.ue_mid = m.mid().map_err(|e| bad(e.to_string()))?;
                }
                if from == Side::Access && st.dtls {
                    let fps = sdp
                        .effective_fingerprints(i)
                        .map_err(|e| bad(e.to_string()))?;
                    if fps.is_empty() || fps.iter().any(|f| f.is_choose()) {
                        return Err(bad(format!("m-line {i} (DTLS-SRTP) has no a=fingerprint")));
                    }
                    let fps: Vec<String> = fps
                        .iter()
                        .map(|f| f.to_string().to_ascii_uppercase())
                        .collect();
                    let setup = sdp
                        .effective_setup(i)
                        .map_err(|e| bad(e.to_string()))?
                        // RFC 4145: an offer without a=setup means active.
                        .unwrap_or(Setup::Active);
                    let tls_id = m.tls_id().map_err(|e| bad(e.to_string()))?;
                    let kept_role_ok = !matches!(
                        (st.role, setup),
                        (Some(DtlsRole::Client), Setup::Active)
                            | (Some(DtlsRole::Server), Setup::Passive)
                    );
                    let same = !st.flow.new
                        && st.role.is_some()
                        && st.ue_tls_id == tls_id
                        && st.ue_fps == fps
                        && kept_role_ok;
                    if !same {
                        st.role = Some(DtlsRole::from_ue_setup(
                            setup,
                            true,
                            self.cfg.actpass_policy,
                        )?);
                        st.flow.new_assoc = true;
                    }
                    st.ue_tls_id = tls_id;
                    st.ue_fps = fps;
                }
            }
        }
        if initial && !any {
            return Err(bad("no usable m-line in the offer".into()));
        }
        Ok(OfferPlan { streams })
    }

    fn flow_mut(&mut self) -> Option<&mut Flow> {
        match &mut self.state {
            State::Flow(f) => Some(f),
            _ => None,
        }
    }

    fn flow(&self) -> Option<&Flow> {
        match &self.state {
            State::Flow(f) => Some(f),
            _ => None,
        }
    }

    fn realm(&self, side: Side) -> String {
        match side {
            Side::Access => self.cfg.access_realm.clone(),
            Side::Core => self.cfg.core_realm.clone(),
        }
    }

    fn events_for(&self, side: Side, estfail: bool) -> Option<iq_codec::model::EventsDescriptor> {
        match side {
            Side::Access => {
                builder::events(self.cfg.access_events_id, self.cfg.heartbeat_secs, estfail)
            }
            Side::Core => builder::events(self.cfg.core_events_id, self.cfg.heartbeat_secs, false),
        }
    }

    fn proto(&self, i: usize, side: Side) -> Proto {
        let s = &self.streams[i];
        match side {
            Side::Access => s.access_proto.clone(),
            Side::Core => s.core_proto.clone(),
        }
    }

    /// The Local `$` request of stream `i` on `side`, from the offer's m-section.
    fn local_request(&self, offer: &Sdp, i: usize, side: Side) -> Result<Sdp, String> {
        let st = &self.streams[i];
        let like = offer.effective_connection(i);
        let (mux, dtls) = match side {
            Side::Access => (st.access_rtcp_mux, st.dtls),
            Side::Core => (false, false),
        };
        builder::local_request(offer, i, &self.proto(i, side), mux, dtls, like.as_ref())
            .map_err(|e| e.0)
    }

    /// An Add (context `$` or the session's) or a Modify for `side`.
    fn amm_action(
        &self,
        side: Side,
        add: bool,
        reqs: &BTreeMap<u16, StreamReq>,
        events: Option<iq_codec::model::EventsDescriptor>,
        estab: &[u16],
    ) -> ActionRequest {
        let single = self
            .streams
            .iter()
            .filter(|s| s.active || s.flow.offered)
            .count()
            <= 1;
        let desc = builder::amm_descriptors(
            add.then(|| self.realm(side)).as_deref(),
            reqs,
            events,
            estab,
            single,
        );
        let tid = if add {
            TerminationId::new("$")
        } else {
            self.term[ix(side)]
                .clone()
                .unwrap_or_else(|| TerminationId::new("$"))
        };
        let amm = AmmRequest {
            termination_ids: [tid].into(),
            descriptors: desc,
        };
        ActionRequest {
            context: self.context.map_or(ContextId::Choose, ContextId::Id),
            context_request: None,
            context_audit: None,
            commands: vec![CommandRequest {
                command: if add {
                    Command::Add(amm)
                } else {
                    Command::Modify(amm)
                },
                optional: false,
                wildcard_return: false,
            }],
        }
    }

    /// Step 1.
    fn configure_offerer(&mut self, now: Instant) {
        let Some(flow) = self.flow() else { return };
        let (side, initial, offer) = (flow.offerer, flow.initial, flow.offer.clone());
        // Allocate the ALG tls-ids of new associations (UE offers).
        if side == Side::Access {
            for st in &mut self.streams {
                if st.flow.offered && st.dtls && st.flow.new_assoc {
                    if let Some(old) = st.alg_tls_id.take() {
                        self.tls_ids.free(&old);
                    }
                    st.alg_tls_id = Some(self.tls_ids.allocate());
                }
            }
        }
        let mut reqs = BTreeMap::new();
        let mut estab = Vec::new();
        let mut any_dtls = false;
        for i in 0..self.streams.len() {
            let id = (i + 1) as u16;
            let st = &self.streams[i];
            let mut r = StreamReq::default();
            if st.flow.offered {
                let dtls = side == Side::Access && st.dtls;
                any_dtls |= st.dtls && side == Side::Access;
                let remote = match builder::remote_for_stream(&offer, i, dtls) {
                    Ok(r) => r,
                    Err(e) => return self.fail(FailureReason::BadAnswer(e.0), now),
                };
                let dir = offer.effective_direction(i).unwrap_or(Direction::SendRecv);
                let mode = builder::mode_for_peer(dir);
                if st.flow.new {
                    match self.local_request(&offer, i, side) {
                        Ok(l) => r.local = Some(l),
                        Err(e) => return self.fail(FailureReason::BadAnswer(e), now),
                    }
                }
                if st.flow.new || st.mode[ix(side)] != Some(mode) {
                    r.mode = Some(mode);
                }
                if st.flow.new || st.remote[ix(side)].as_ref() != Some(&remote) {
                    r.remote = Some(remote);
                }
                if dtls && st.flow.new_assoc && st.role.is_some_and(DtlsRole::sends_establish) {
                    estab.push(id);
                }
            } else if st.flow.disable {
                r.mode = Some(StreamMode::Inactive);
            }
            if r.mode.is_some() && side == Side::Access && self.cfg.latching {
                r.latch = true;
            }
            if !r.is_empty() {
                reqs.insert(id, r);
            }
        }
        // Record what is sent.
        for (&id, r) in &reqs {
            let st = &mut self.streams[usize::from(id) - 1];
            if let Some(m) = r.mode {
                st.mode[ix(side)] = Some(m);
            }
            if let Some(rem) = &r.remote {
                st.remote[ix(side)] = Some(rem.clone());
            }
        }
        let estfail = side == Side::Access && any_dtls && !self.estfail_requested;
        let events = if initial {
            self.events_for(side, estfail)
        } else if estfail {
            self.events_for(side, true)
        } else {
            None
        };
        if estfail {
            self.estfail_requested = true;
        }
        if !initial && reqs.is_empty() && estab.is_empty() && events.is_none() {
            self.reserve_answerer(now);
            return;
        }
        let action = self.amm_action(side, initial, &reqs, events, &estab);
        let token = self.send(vec![action]);
        if let Some(f) = self.flow_mut() {
            f.step = Step::ConfigureOfferer;
            f.token = Some(token);
        }
    }

    /// Step 2.
    fn reserve_answerer(&mut self, now: Instant) {
        let Some(flow) = self.flow() else { return };
        let (side, initial, offer) = (flow.offerer.other(), flow.initial, flow.offer.clone());
        let mut reqs = BTreeMap::new();
        let mut any_dtls = false;
        for i in 0..self.streams.len() {
            let st = &self.streams[i];
            if !st.flow.new {
                continue;
            }
            any_dtls |= side == Side::Access && st.dtls;
            let local = match self.local_request(&offer, i, side) {
                Ok(l) => l,
                Err(e) => return self.fail(FailureReason::BadAnswer(e), now),
            };
            reqs.insert(
                (i + 1) as u16,
                StreamReq {
                    mode: Some(StreamMode::SendRecv),
                    latch: side == Side::Access && self.cfg.latching,
                    local: Some(local),
                    remote: None,
                },
            );
        }
        for (&id, r) in &reqs {
            self.streams[usize::from(id) - 1].mode[ix(side)] = r.mode;
        }
        let estfail = any_dtls && !self.estfail_requested;
        let events = if initial {
            self.events_for(side, estfail)
        } else if estfail {
            self.events_for(side, true)
        } else {
            None
        };
        if estfail {
            self.estfail_requested = true;
        }
        if !initial && reqs.is_empty() && events.is_none() {
            self.send_offer(now);
            return;
        }
        let action = self.amm_action(side, initial, &reqs, events, &[]);
        let token = self.send(vec![action]);
        if let Some(f) = self.flow_mut() {
            f.step = Step::ReserveAnswerer;
            f.token = Some(token);
        }
    }

    /// Next `o=` (id, version) for `side` given the SDP body.
    fn origin_for(&mut self, side: Side, sdp: &Sdp) -> (u64, u64) {
        let body = builder::body_without_origin(sdp);
        let o = &mut self.origin[ix(side)];
        match &o.last {
            Some(b) if *b == body => {}
            Some(_) => {
                o.version += 1;
                o.last = Some(body);
            }
            None => o.last = Some(body),
        }
        (o.id, o.version)
    }

    /// Build the SDP for `dest` from `input` (the other side's SDP).
    fn build_out(&mut self, dest: Side, input: &Sdp, kind: SdpKind) -> Result<Sdp, String> {
        let to_access = dest == Side::Access;
        // The o= version depends on whether the rest changed since the last SDP to `dest`: build
        // with a placeholder origin, then put the real session id and version in (the builder
        // writes nothing else from them).
        let mut sdp = {
            let streams: Vec<OutStream<'_>> = self
                .streams
                .iter()
                .map(|st| {
                    let live = st.flow.offered && !st.flow.rejected;
                    let local = if live {
                        st.local[ix(dest)].as_ref()
                    } else {
                        None
                    };
                    OutStream {
                        local,
                        proto: if to_access {
                            st.access_proto.clone()
                        } else {
                            st.core_proto.clone()
                        },
                        dtls: match (to_access && st.dtls && local.is_some(), &st.alg_tls_id) {
                            (true, Some(t)) => Some(DtlsOut {
                                setup: match kind {
                                    SdpKind::Offer => Setup::Actpass,
                                    _ => st.role.map_or(Setup::Actpass, DtlsRole::answer_setup),
                                },
                                tls_id: t,
                            }),
                            _ => None,
                        },
                        rtcp_mux: st.access_rtcp_mux,
                        mid: st.ue_mid.as_deref(),
                    }
                })
                .collect();
            builder::outgoing_sdp(input, to_access, &streams, (0, 0)).map_err(|e| e.0)?
        };
        let (id, version) = self.origin_for(dest, &sdp);
        let mut o = sdp
            .origin()
            .ok_or_else(|| "the built SDP has no o= line".to_string())?;
        o.session_id = id.to_string();
        o.session_version = version.to_string();
        sdp.set_origin(&o).map_err(|e| e.to_string())?;
        Ok(sdp)
    }

    /// Step 3.
    fn send_offer(&mut self, now: Instant) {
        let Some(flow) = self.flow() else { return };
        let (dest, offer) = (flow.offerer.other(), flow.offer.clone());
        if dest == Side::Access {
            for st in &mut self.streams {
                if st.flow.offered && st.dtls && st.alg_tls_id.is_none() {
                    st.alg_tls_id = Some(self.tls_ids.allocate());
                }
            }
        }
        match self.build_out(dest, &offer, SdpKind::Offer) {
            Ok(sdp) => self.out.push_back(Output::Sdp {
                side: dest,
                kind: SdpKind::Offer,
                sdp,
            }),
            Err(e) => return self.fail(FailureReason::BadReply(e), now),
        }
        let deadline = self.cfg.answer_timeout.map(|d| now + d);
        if let Some(f) = self.flow_mut() {
            f.step = Step::AwaitAnswer;
            f.token = None;
            f.deadline = deadline;
        }
    }

    // -----------------------------------------------------------------------------------------
    // answers

    pub(crate) fn handle_answer(
        &mut self,
        from: Side,
        sdp: Sdp,
        now: Instant,
    ) -> Result<(), ProcedureError> {
        match &self.state {
            State::Flow(f) if f.step == Step::AwaitAnswer && f.offerer.other() == from => {}
            State::Releasing { .. } | State::Released => return Err(ProcedureError::Released),
            _ => return Err(ProcedureError::UnexpectedAnswer(from)),
        }
        match self.plan_answer(from, &sdp) {
            Ok(streams) => self.streams = streams,
            Err(e) => {
                let msg = e.to_string();
                self.fail(FailureReason::BadAnswer(msg), now);
                return Err(e);
            }
        }
        if let Some(f) = self.flow_mut() {
            f.answer = Some(sdp);
            f.deadline = None;
        }
        self.configure_answerer(now);
        Ok(())
    }

    fn plan_answer(&self, from: Side, sdp: &Sdp) -> Result<Vec<Stream>, ProcedureError> {
        let bad = |m: String| ProcedureError::BadSdp(m);
        if sdp.media().len() != self.streams.len() {
            return Err(bad(format!(
                "the answer has {} m-lines, the offer {}",
                sdp.media().len(),
                self.streams.len()
            )));
        }
        let mut streams = self.streams.clone();
        for (i, m) in sdp.media().iter().enumerate() {
            let st = &mut streams[i];
            if !st.flow.offered {
                continue;
            }
            if m.port().value().copied().unwrap_or(0) == 0 {
                st.flow.rejected = true;
                continue;
            }
            if sdp
                .effective_connection(i)
                .and_then(|c| c.ip_addr())
                .is_none()
            {
                return Err(bad(format!("m-line {i} has no usable c= address")));
            }
            if from == Side::Access && st.dtls {
                if !m.proto().is_dtls_srtp() {
                    return Err(bad(format!(
                        "m-line {i}: DTLS-SRTP was offered, the answer has {}",
                        m.proto()
                    )));
                }
                let fps = sdp
                    .effective_fingerprints(i)
                    .map_err(|e| bad(e.to_string()))?;
                if fps.is_empty() || fps.iter().any(|f| f.is_choose()) {
                    return Err(bad(format!("m-line {i} (DTLS-SRTP) has no a=fingerprint")));
                }
                let fps: Vec<String> = fps
                    .iter()
                    .map(|f| f.to_string().to_ascii_uppercase())
                    .collect();
                let setup = sdp
                    .effective_setup(i)
                    .map_err(|e| bad(e.to_string()))?
                    .unwrap_or(Setup::Active);
                let role = DtlsRole::from_ue_setup(setup, false, self.cfg.actpass_policy)?;
                let tls_id = m.tls_id().map_err(|e| bad(e.to_string()))?;
                let same = !st.flow.new
                    && st.role == Some(role)
                    && st.ue_tls_id == tls_id
                    && st.ue_fps == fps;
                if !same {
                    st.flow.new_assoc = true;
                }
                st.role = Some(role);
                st.ue_tls_id = tls_id;
                st.ue_fps = fps;
                st.ue_mid = m.mid().map_err(|e| bad(e.to_string()))?;
            }
        }
        Ok(streams)
    }

    /// Step 5.
    fn configure_answerer(&mut self, now: Instant) {
        let Some(flow) = self.flow() else { return };
        let Some(answer) = flow.answer.clone() else {
            return;
        };
        let side = flow.offerer.other();
        let offerer = flow.offerer;
        let mut reqs = BTreeMap::new();
        let mut other = BTreeMap::new();
        let mut estab = Vec::new();
        for i in 0..self.streams.len() {
            let id = (i + 1) as u16;
            let st = &self.streams[i];
            let mut r = StreamReq::default();
            if st.flow.offered && st.flow.rejected {
                if st.mode[ix(side)] != Some(StreamMode::Inactive) {
                    r.mode = Some(StreamMode::Inactive);
                }
                if st.mode[ix(offerer)] != Some(StreamMode::Inactive) {
                    let mut o = StreamReq {
                        mode: Some(StreamMode::Inactive),
                        ..StreamReq::default()
                    };
                    o.latch = offerer == Side::Access && self.cfg.latching;
                    other.insert(id, o);
                }
            } else if st.flow.offered {
                let dtls = side == Side::Access && st.dtls;
                let remote = match builder::remote_for_stream(&answer, i, dtls) {
                    Ok(r) => r,
                    Err(e) => return self.fail(FailureReason::BadAnswer(e.0), now),
                };
                let dir = answer.effective_direction(i).unwrap_or(Direction::SendRecv);
                let mode = builder::mode_for_peer(dir);
                if st.mode[ix(side)] != Some(mode) {
                    r.mode = Some(mode);
                }
                if st.remote[ix(side)].as_ref() != Some(&remote) {
                    r.remote = Some(remote);
                }
                let fmts = answer.media()[i].fmts();
                if let Some(l) = &st.local[ix(side)] {
                    if let Some(n) = builder::narrowed_local(&l.sdp, &fmts) {
                        if n != l.sdp {
                            r.local = Some(n);
                        }
                    }
                }
                if dtls && st.flow.new_assoc && st.role.is_some_and(DtlsRole::sends_establish) {
                    estab.push(id);
                }
            } else if st.flow.disable && st.mode[ix(side)] != Some(StreamMode::Inactive) {
                r.mode = Some(StreamMode::Inactive);
            }
            if r.mode.is_some() && side == Side::Access && self.cfg.latching {
                r.latch = true;
            }
            if !r.is_empty() {
                reqs.insert(id, r);
            }
        }
        for (&id, r) in &reqs {
            let st = &mut self.streams[usize::from(id) - 1];
            if let Some(m) = r.mode {
                st.mode[ix(side)] = Some(m);
            }
            if let Some(rem) = &r.remote {
                st.remote[ix(side)] = Some(rem.clone());
            }
            if let (Some(l), Some(info)) = (&r.local, &mut st.local[ix(side)]) {
                info.sdp = l.clone();
            }
        }
        for (&id, r) in &other {
            if let Some(m) = r.mode {
                self.streams[usize::from(id) - 1].mode[ix(offerer)] = Some(m);
            }
        }
        let any_dtls = side == Side::Access
            && self
                .streams
                .iter()
                .any(|s| s.flow.offered && !s.flow.rejected && s.dtls);
        let estfail = any_dtls && !self.estfail_requested;
        if estfail {
            self.estfail_requested = true;
        }
        let events = if estfail {
            self.events_for(side, true)
        } else {
            None
        };
        if reqs.is_empty() && estab.is_empty() && events.is_none() && other.is_empty() {
            self.finish_flow(now);
            return;
        }
        let mut action = self.amm_action(side, false, &reqs, events, &estab);
        if !other.is_empty() {
            let o = self.amm_action(offerer, false, &other, None, &[]);
            action.commands.extend(o.commands);
        }
        if action.commands.iter().all(|c| match &c.command {
            Command::Modify(a) => a.descriptors.is_empty(),
            _ => false,
        }) {
            self.finish_flow(now);
            return;
        }
        action
            .commands
            .retain(|c| !matches!(&c.command, Command::Modify(a) if a.descriptors.is_empty()));
        let token = self.send(vec![action]);
        if let Some(f) = self.flow_mut() {
            f.step = Step::ConfigureAnswerer;
            f.token = Some(token);
        }
    }

    /// Step 6.
    fn finish_flow(&mut self, now: Instant) {
        let Some(flow) = self.flow() else { return };
        let Some(answer) = flow.answer.clone() else {
            return;
        };
        let dest = flow.offerer;
        match self.build_out(dest, &answer, SdpKind::Answer) {
            Ok(sdp) => self.out.push_back(Output::Sdp {
                side: dest,
                kind: SdpKind::Answer,
                sdp,
            }),
            Err(e) => return self.fail(FailureReason::BadReply(e), now),
        }
        for st in &mut self.streams {
            if st.flow.offered && !st.flow.rejected {
                st.active = true;
            } else if st.flow.disable || st.flow.rejected {
                st.active = false;
            }
            if !st.active || !st.dtls {
                if let Some(t) = st.alg_tls_id.take() {
                    self.tls_ids.free(&t);
                }
                st.role = None;
                st.ue_tls_id = None;
                st.ue_fps.clear();
            }
            st.flow = StreamFlow::default();
        }
        self.state = State::Established;
    }

    // -----------------------------------------------------------------------------------------
    // Iq replies

    pub(crate) fn handle_iq_reply(
        &mut self,
        token: TxToken,
        outcome: IqOutcome,
        now: Instant,
    ) -> Result<(), ProcedureError> {
        match &mut self.state {
            State::Flow(f) if f.token == Some(token) => {
                f.token = None;
                let step = f.step;
                let result = match outcome {
                    IqOutcome::Replied(r) => r,
                    IqOutcome::TimedOut => {
                        self.fail(FailureReason::IqTimeout, now);
                        return Ok(());
                    }
                    IqOutcome::Failed(e) => {
                        self.fail(FailureReason::IqFailed(e), now);
                        return Ok(());
                    }
                };
                let results = match builder::read_reply(&result) {
                    Ok(r) => r,
                    Err(ReplyError::Agw(e)) => {
                        // An Add that failed as a whole created nothing; still absorb ids.
                        self.fail(FailureReason::AgwError(e), now);
                        return Ok(());
                    }
                    Err(ReplyError::Bad(m)) => {
                        self.fail(FailureReason::BadReply(m), now);
                        return Ok(());
                    }
                };
                if let Err(m) = self.absorb(step, &results) {
                    self.fail(FailureReason::BadReply(m), now);
                    return Ok(());
                }
                match step {
                    Step::ConfigureOfferer => self.reserve_answerer(now),
                    Step::ReserveAnswerer => self.send_offer(now),
                    Step::ConfigureAnswerer => self.finish_flow(now),
                    Step::AwaitAnswer => {}
                }
                Ok(())
            }
            State::Releasing {
                pending,
                pending_side,
                ..
            } if *pending == Some(token) => {
                *pending = None;
                let side = *pending_side;
                if let IqOutcome::Replied(r) = &outcome {
                    if let Ok(results) = builder::read_reply(r) {
                        for res in results {
                            self.absorb_ids(side, &res);
                        }
                    }
                }
                self.send_subtract();
                Ok(())
            }
            State::Releasing { subtract, .. } if *subtract == Some(token) => {
                match &outcome {
                    IqOutcome::Replied(r) => {
                        if let Err(ReplyError::Agw(e)) = builder::read_reply(r) {
                            warn!(code = e.code, "Subtract answered with an error");
                        }
                    }
                    other => warn!(?other, "Subtract did not complete"),
                }
                self.finish_release();
                Ok(())
            }
            _ => Err(ProcedureError::UnknownToken(token)),
        }
    }

    /// Record the context and termination a reply names for `side` (release path).
    fn absorb_ids(&mut self, side: Side, res: &AmmResult) {
        if self.context.is_none() {
            self.context = res.context;
        }
        if let Some(t) = res.termination.as_ref().filter(|t| !t.is_wildcard()) {
            if self.term[ix(side)].is_none() {
                self.term[ix(side)] = Some(t.clone());
            }
        }
    }

    /// Take what a flow transaction's reply brought: context, termination, Locals.
    fn absorb(&mut self, step: Step, results: &[AmmResult]) -> Result<(), String> {
        let Some(flow) = self.flow() else {
            return Ok(());
        };
        let side = match step {
            Step::ConfigureOfferer => flow.offerer,
            _ => flow.offerer.other(),
        };
        let initial_add = flow.initial && step != Step::ConfigureAnswerer;
        let first = results
            .first()
            .ok_or_else(|| "the reply has no command".to_string())?;
        if initial_add {
            let ctx = first
                .context
                .ok_or_else(|| "the Add reply names no context".to_string())?;
            if self.context.is_some_and(|c| c != ctx) {
                return Err(format!(
                    "the Add reply names context {ctx}, the session has {:?}",
                    self.context
                ));
            }
            self.context = Some(ctx);
            let t = first
                .termination
                .clone()
                .filter(|t| !t.is_wildcard())
                .ok_or_else(|| "the Add reply names no termination".to_string())?;
            self.term[ix(side)] = Some(t);
        }
        // Locals asked for with `$` in this step.
        let wanted: Vec<usize> = (0..self.streams.len())
            .filter(|&i| self.streams[i].flow.new && step != Step::ConfigureAnswerer)
            .collect();
        for i in wanted {
            let id = (i + 1) as u16;
            let dtls = side == Side::Access && self.streams[i].dtls;
            let sdp = first
                .locals
                .get(&id)
                .cloned()
                .ok_or_else(|| format!("the reply has no Local for stream {id}"))?;
            let info = builder::check_local(sdp, dtls).map_err(|e| format!("stream {id}: {e}"))?;
            self.streams[i].local[ix(side)] = Some(info);
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Notify, failure, release

    pub(crate) fn handle_notify(&mut self, n: &NotifyRequest, now: Instant) -> NotifyOutcome {
        let ours = n
            .termination_ids
            .iter()
            .any(|t| self.term.iter().flatten().any(|x| x == t));
        if !ours {
            return NotifyOutcome::Ignored;
        }
        let Some(oe) = &n.observed_events else {
            return NotifyOutcome::Ignored;
        };
        let mut out = NotifyOutcome::Ignored;
        for e in &oe.events {
            if e.name.eq_ignore_ascii_case("xdtls/estfail") {
                let cause = e
                    .params
                    .iter()
                    .find(|p| p.name.eq_ignore_ascii_case("cause"))
                    .and_then(|p| p.value.first().map(|v| v.to_string()));
                if !matches!(self.state, State::Releasing { .. } | State::Released) {
                    self.fail(FailureReason::DtlsFailure { cause }, now);
                }
                return NotifyOutcome::DtlsFailed;
            }
            if e.name.eq_ignore_ascii_case("hangterm/thb") {
                out = NotifyOutcome::Heartbeat;
            }
        }
        out
    }

    fn fail(&mut self, reason: FailureReason, now: Instant) {
        warn!(?reason, context = ?self.context, "session failed");
        self.out.push_back(Output::Failed { reason });
        self.release(now);
    }

    pub(crate) fn release(&mut self, _now: Instant) {
        match &self.state {
            State::Releasing { .. } | State::Released => {}
            State::Flow(f) if f.token.is_some() => {
                let pending_side = match f.step {
                    Step::ConfigureOfferer => f.offerer,
                    _ => f.offerer.other(),
                };
                self.state = State::Releasing {
                    pending: f.token,
                    pending_side,
                    subtract: None,
                };
            }
            _ => self.send_subtract(),
        }
    }

    fn send_subtract(&mut self) {
        let (Some(ctx), true) = (self.context, self.term.iter().any(Option::is_some)) else {
            self.finish_release();
            return;
        };
        let commands = [ACCESS, CORE]
            .iter()
            .filter_map(|&s| self.term[s].clone())
            .map(|t| CommandRequest {
                command: Command::Subtract(SubtractRequest {
                    termination_ids: [t].into(),
                    audit: Some(AuditDescriptor::default()),
                }),
                optional: false,
                wildcard_return: false,
            })
            .collect();
        let token = self.send(vec![ActionRequest {
            context: ContextId::Id(ctx),
            context_request: None,
            context_audit: None,
            commands,
        }]);
        self.state = State::Releasing {
            pending: None,
            pending_side: Side::Access,
            subtract: Some(token),
        };
    }

    fn finish_release(&mut self) {
        for st in &mut self.streams {
            if let Some(t) = st.alg_tls_id.take() {
                self.tls_ids.free(&t);
            }
        }
        self.state = State::Released;
        self.out.push_back(Output::Released);
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if let State::Flow(f) = &self.state {
            if f.deadline.is_some_and(|d| d <= now) {
                self.fail(FailureReason::AnswerTimeout, now);
            }
        }
    }
}
