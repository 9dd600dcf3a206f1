//! Pure helpers: the SDP the ALG puts into Local/Remote and sends to each side, and the H.248
//! descriptors of its requests. No state; the session decides what to call.

use iq_codec::model::{
    ActionReply, AmmDescriptor, AuditReturnParameter, CommandReply, ContextId, ErrorDescriptor,
    EventsDescriptor, LocalControlDescriptor, LocalRemoteDescriptor, MediaDescriptor, PropertyParm,
    RequestedEvent, Signal, SignalsItem, StreamDescriptor, StreamMode, StreamParms, Streams,
    TerminationId, TerminationStateDescriptor, TransactionResult,
};
use iq_codec::sdp::{
    Candidate, CandidateType, Choosable, Connection, Direction, Eol, FingerprintAttr, Line, Media,
    Origin, Proto, Sdp, SdpError, Setup, TlsId, DTLS_ATTRIBUTES, ICE_ATTRIBUTES,
};
use std::collections::BTreeMap;

/// Media-level attributes of the peer that go into a Remote descriptor (in their order).
const REMOTE_ATTRS: &[&str] = &[
    "rtpmap", "fmtp", "rtcp-fb", "ptime", "maxptime", "rtcp", "rtcp-mux",
];
/// ... and, for a DTLS-SRTP access stream, these too.
const REMOTE_DTLS_ATTRS: &[&str] = &[
    "fingerprint",
    "ice-ufrag",
    "ice-pwd",
    "candidate",
    "end-of-candidates",
];
/// Codec attributes copied into a Local request.
const LOCAL_CODEC_ATTRS: &[&str] = &["rtpmap", "fmtp", "ptime", "maxptime"];

/// The ICE host candidate priority for a host candidate of component 1 with the highest local
/// preference (RFC 8445 5.1.2.1: type preference 126, local preference 65535).
pub(crate) const HOST_PRIORITY: u32 = (126 << 24) | (65535 << 8) | 255;

/// SDP errors as text for [`super::ProcedureError::BadSdp`].
pub(crate) fn sdp_err(e: SdpError) -> String {
    e.to_string()
}

/// Why an SDP could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildError(pub String);

impl From<SdpError> for BuildError {
    fn from(e: SdpError) -> Self {
        BuildError(e.to_string())
    }
}

fn berr<T>(msg: impl Into<String>) -> Result<T, BuildError> {
    Err(BuildError(msg.into()))
}

/// `IN IP4 $` / `IN IP6 $` following the address family of `like` (IP4 when unknown).
fn choose_connection(like: Option<&Connection>) -> Connection {
    Connection::choose(like.is_some_and(|c| c.addrtype.eq_ignore_ascii_case("IP6")))
}

/// A one-stream H.248 SDP: `v=0`, `c=`, and the m-section.
fn stream_sdp(c: &Connection, m: Media) -> Result<Sdp, BuildError> {
    let mut s = Sdp::new(Eol::Lf);
    s.session_mut().set_connection(c)?;
    s.push_media(m);
    Ok(s)
}

/// The Remote descriptor SDP for m-line `i` of a peer's SDP: `c=` (effective), the `m=` line
/// as the peer wrote it, its codec / RTCP attributes and, for a DTLS-SRTP access stream, the
/// fingerprint(s) and ICE attributes (session-level ones moved into the m-section, after the
/// m-section's own lines). `a=setup`, `a=tls-id`, `a=mid`, directions and everything else stay
/// out (the role goes as the Establish signal, the direction as the LocalControl mode).
pub(crate) fn remote_for_stream(peer: &Sdp, i: usize, dtls: bool) -> Result<Sdp, BuildError> {
    let mut work = peer.clone();
    if dtls {
        for name in ["fingerprint", "ice-ufrag", "ice-pwd"] {
            work.move_session_attr_to_media(name);
        }
    }
    let Some(pm) = work.media().get(i) else {
        return berr(format!("no m-line {i}"));
    };
    let c = work
        .effective_connection(i)
        .ok_or_else(|| BuildError(format!("m-line {i} has no c= address")))?;
    let mut m = Media::new(&pm.media_line())?;
    let mut names: Vec<&str> = REMOTE_ATTRS.to_vec();
    if dtls {
        names.extend_from_slice(REMOTE_DTLS_ATTRS);
    }
    copy_in_order(pm, &mut m, &names);
    stream_sdp(&c, m)
}

/// The Local request for a new stream: `c=IN IP4 $`, `m=<media> $ <proto> <fmts>` with the
/// offered formats and their codec attributes, `a=rtcp-mux` when `rtcp_mux`, and for a
/// DTLS-SRTP access stream `a=fingerprint:$`, `a=ice-ufrag:$`, `a=ice-pwd:$`.
pub(crate) fn local_request(
    offer: &Sdp,
    i: usize,
    proto: &Proto,
    rtcp_mux: bool,
    dtls: bool,
    like: Option<&Connection>,
) -> Result<Sdp, BuildError> {
    let Some(om) = offer.media().get(i) else {
        return berr(format!("no m-line {i}"));
    };
    let mut ml = om.media_line();
    ml.port = Choosable::Choose;
    ml.port_count = None;
    ml.proto = proto.clone();
    let mut m = Media::new(&ml)?;
    copy_in_order(om, &mut m, LOCAL_CODEC_ATTRS);
    if rtcp_mux {
        m.set_rtcp_mux(true)?;
    }
    if dtls {
        m.add_fingerprint(&FingerprintAttr::Choose)?;
        m.set_ice_ufrag(Choosable::Choose)?;
        m.set_ice_pwd(Choosable::Choose)?;
    }
    stream_sdp(&choose_connection(like), m)
}

/// Copy the `a=` lines named in `names`, keeping the source order.
fn copy_in_order(from: &iq_codec::sdp::Block, to: &mut iq_codec::sdp::Block, names: &[&str]) {
    for l in from.lines() {
        if l.kind() == 'a' && names.iter().any(|n| l.is_attr(n)) {
            let end = to.lines().len();
            let _ = to.insert_line(end, l.clone());
        }
    }
}

/// The Local to send once the answer chose formats: the AGW's Local with the `m=` formats
/// narrowed to those of the answer (kept in the Local's order) and the attributes of the
/// dropped formats removed. `None` when no format is left (then the Local is not narrowed).
pub(crate) fn narrowed_local(local: &Sdp, answer_fmts: &[String]) -> Option<Sdp> {
    let mut s = local.clone();
    let m = s.media_mut().first_mut()?;
    let keep: Vec<String> = m
        .fmts()
        .into_iter()
        .filter(|f| answer_fmts.iter().any(|a| a == f))
        .collect();
    if keep.is_empty() {
        return None;
    }
    m.set_fmts(&keep).ok()?;
    m.retain_formats(&keep);
    Some(s)
}

/// What the AGW returned in a Local for one stream, checked for what the procedures need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LocalInfo {
    /// The Local SDP as returned (H.248 form).
    pub sdp: Sdp,
    pub connection: Connection,
    pub port: u16,
}

/// Check a returned Local: one m-line with a concrete port, a concrete `c=`, and for a
/// DTLS-SRTP access stream a concrete fingerprint and ICE credentials.
pub(crate) fn check_local(sdp: Sdp, dtls: bool) -> Result<LocalInfo, String> {
    let m = sdp
        .media()
        .first()
        .ok_or_else(|| "Local has no m= line".to_string())?;
    let port = *m
        .port()
        .value()
        .ok_or_else(|| "Local m= port is still $".to_string())?;
    let connection = sdp
        .effective_connection(0)
        .filter(|c| !c.address.is_choose())
        .ok_or_else(|| "Local has no concrete c= address".to_string())?;
    if dtls {
        let fps = sdp.effective_fingerprints(0).map_err(sdp_err)?;
        if fps.is_empty() || fps.iter().any(FingerprintAttr::is_choose) {
            return Err("Local has no concrete a=fingerprint".into());
        }
        for (name, v) in [
            ("ice-ufrag", sdp.effective_ice_ufrag(0).map_err(sdp_err)?),
            ("ice-pwd", sdp.effective_ice_pwd(0).map_err(sdp_err)?),
        ] {
            if !matches!(v, Some(Choosable::Value(_))) {
                return Err(format!("Local has no concrete a={name}"));
            }
        }
    }
    Ok(LocalInfo {
        sdp,
        connection,
        port,
    })
}

/// What an outgoing m-section gets from the session for one m-line.
pub(crate) struct OutStream<'a> {
    /// The AGW's Local of the termination facing the destination (None = the m-line is
    /// rejected / inactive: port 0).
    pub local: Option<&'a LocalInfo>,
    /// Proto to write.
    pub proto: Proto,
    /// DTLS-SRTP towards the UE: fingerprint, setup, tls-id, ICE.
    pub dtls: Option<DtlsOut<'a>>,
    /// Write `a=rtcp-mux` (access side).
    pub rtcp_mux: bool,
    /// `a=mid` to restore (access side, when the input lacks one).
    pub mid: Option<&'a str>,
}

/// DTLS attributes of one m-section towards the UE.
pub(crate) struct DtlsOut<'a> {
    pub setup: Setup,
    pub tls_id: &'a TlsId,
}

/// Build the SDP for `dest` from the SDP `input` of the other side: ALG's `o=`, `s=-`, input
/// `t=`, `c=` of the AGW, per m-line the input's section with port / proto / address of the
/// AGW and the DTLS / ICE attributes rewritten. `origin` = (session id, version).
pub(crate) fn outgoing_sdp(
    input: &Sdp,
    to_access: bool,
    streams: &[OutStream<'_>],
    origin: (u64, u64),
) -> Result<Sdp, BuildError> {
    let mut out = Sdp::new(Eol::CrLf);
    let session_c = streams
        .iter()
        .find_map(|s| s.local.map(|l| l.connection.clone()))
        .ok_or_else(|| BuildError("no active m-line".into()))?;
    let addr = session_c
        .address
        .value()
        .cloned()
        .unwrap_or_else(|| "0.0.0.0".into());
    out.set_origin(&Origin::parse(&format!(
        "- {} {} IN {} {}",
        origin.0, origin.1, session_c.addrtype, addr
    ))?)?;
    out.set_session_name("-")?;
    out.session_mut().set_connection(&session_c)?;
    let t_line = input
        .session()
        .lines()
        .iter()
        .find(|l| l.kind() == 't')
        .map(|l| l.value().to_string())
        .unwrap_or_else(|| "0 0".into());
    out.session_mut().add_line(Line::new('t', t_line)?)?;
    // Session-level b= and attributes, minus DTLS, ICE and BUNDLE grouping.
    for l in input.session().lines() {
        let keep = match l.kind() {
            'b' => true,
            'a' => {
                let bundle = l.is_attr("group")
                    && l.attr_value()
                        .is_some_and(|v| v.trim_start().to_ascii_uppercase().starts_with("BUNDLE"));
                let dtls_or_ice = DTLS_ATTRIBUTES.iter().any(|n| l.is_attr(n))
                    || ICE_ATTRIBUTES.iter().any(|n| l.is_attr(n));
                !bundle && !dtls_or_ice
            }
            _ => false,
        };
        if keep {
            let end = out.session().lines().len();
            out.session_mut().insert_line(end, l.clone())?;
        }
    }
    let mut any_dtls = false;
    for (i, im) in input.media().iter().enumerate() {
        let Some(s) = streams.get(i) else {
            return berr(format!("no plan for m-line {i}"));
        };
        let mut ml = im.media_line();
        ml.proto = s.proto.clone();
        ml.port = Choosable::Value(s.local.map_or(0, |l| l.port));
        ml.port_count = None;
        let mut m = Media::new(&ml)?;
        for l in im.lines() {
            let drop = l.kind() == 'c'
                || (l.kind() == 'a'
                    && (DTLS_ATTRIBUTES.iter().any(|n| l.is_attr(n))
                        || ICE_ATTRIBUTES.iter().any(|n| l.is_attr(n))
                        || l.is_attr("rtcp")
                        || l.is_attr("rtcp-mux-only")
                        || l.is_attr("bundle-only")
                        || (!to_access && l.is_attr("rtcp-mux"))));
            if !drop {
                let end = m.lines().len();
                m.insert_line(end, l.clone())?;
            }
        }
        if let Some(local) = s.local {
            if local.connection != session_c {
                m.set_connection(&local.connection)?;
            }
            if to_access {
                if let Some(mid) = s.mid {
                    if m.mid()?.is_none() {
                        m.set_mid(mid)?;
                    }
                }
                if s.rtcp_mux {
                    m.set_rtcp_mux(true)?;
                }
            }
            if let Some(d) = &s.dtls {
                any_dtls = true;
                let lm = &local.sdp;
                for fp in lm.effective_fingerprints(0)? {
                    m.add_fingerprint(&fp)?;
                }
                m.set_setup(d.setup)?;
                m.set_tls_id(d.tls_id)?;
                if let Some(Choosable::Value(u)) = lm.effective_ice_ufrag(0)? {
                    m.set_ice_ufrag(Choosable::Value(&u))?;
                }
                if let Some(Choosable::Value(p)) = lm.effective_ice_pwd(0)? {
                    m.set_ice_pwd(Choosable::Value(&p))?;
                }
                let mut cands = lm.media().first().map(|x| x.candidates()).transpose()?;
                if cands.as_ref().is_none_or(Vec::is_empty) {
                    cands = Some(vec![host_candidate(local)]);
                }
                for c in cands.unwrap_or_default() {
                    m.add_candidate(&c)?;
                }
                m.set_end_of_candidates(true)?;
            }
        } else if to_access {
            if let Some(mid) = s.mid {
                if m.mid()?.is_none() {
                    m.set_mid(mid)?;
                }
            }
        }
        out.push_media(m);
    }
    if any_dtls && to_access {
        out.session_mut().set_ice_lite(true)?;
    }
    Ok(out)
}

/// `1 1 udp 2130706431 <addr> <port> typ host`.
fn host_candidate(local: &LocalInfo) -> Candidate {
    Candidate {
        foundation: "1".into(),
        component: 1,
        transport: "udp".into(),
        priority: HOST_PRIORITY,
        address: local
            .connection
            .address
            .value()
            .cloned()
            .unwrap_or_default(),
        port: local.port,
        typ: CandidateType::Host,
        raddr: None,
        rport: None,
        extensions: Vec::new(),
    }
}

/// The SDP text without its `o=` line (to decide whether the version must change).
pub(crate) fn body_without_origin(sdp: &Sdp) -> String {
    sdp.lines()
        .filter(|l| l.kind() != 'o')
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The LocalControl mode of a termination from its peer's direction attribute (the peer's
/// point of view): `sendonly` (peer only sends) -> the termination only receives.
pub(crate) fn mode_for_peer(d: Direction) -> StreamMode {
    match d {
        Direction::SendRecv => StreamMode::SendRecv,
        Direction::SendOnly => StreamMode::RecvOnly,
        Direction::RecvOnly => StreamMode::SendOnly,
        Direction::Inactive => StreamMode::Inactive,
    }
}

/// Per-stream parts of one Add/Modify.
#[derive(Debug, Default, Clone)]
pub(crate) struct StreamReq {
    pub mode: Option<StreamMode>,
    pub latch: bool,
    pub local: Option<Sdp>,
    pub remote: Option<Sdp>,
}

impl StreamReq {
    pub(crate) fn is_empty(&self) -> bool {
        self.mode.is_none() && self.local.is_none() && self.remote.is_none()
    }
}

/// Descriptors of one Add/Modify: Media (TerminationState with the realm when `realm` is
/// given, then the streams by id), Events, Signals (in that order, as the digest examples).
pub(crate) fn amm_descriptors(
    realm: Option<&str>,
    streams: &BTreeMap<u16, StreamReq>,
    events: Option<EventsDescriptor>,
    estab_streams: &[u16],
    single_stream: bool,
) -> Vec<AmmDescriptor> {
    let mut out = Vec::new();
    let descs: Vec<StreamDescriptor> = streams
        .iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|(&id, r)| StreamDescriptor {
            id,
            parms: StreamParms {
                local_control: r.mode.map(|mode| LocalControlDescriptor {
                    mode: Some(mode),
                    reserve_group: None,
                    reserve_value: None,
                    props: if r.latch {
                        vec![PropertyParm::new("ipnapt/latch", "on")]
                    } else {
                        Vec::new()
                    },
                }),
                local: r.local.as_ref().map(LocalRemoteDescriptor::from),
                remote: r.remote.as_ref().map(LocalRemoteDescriptor::from),
                statistics: None,
            },
        })
        .collect();
    if realm.is_some() || !descs.is_empty() {
        out.push(AmmDescriptor::Media(MediaDescriptor {
            termination_state: realm.map(|r| TerminationStateDescriptor {
                props: vec![PropertyParm::new("ipdc/realm", r)],
                event_buffer_control: None,
                service_state: None,
            }),
            streams: (!descs.is_empty()).then_some(Streams::Multi(descs)),
        }));
    }
    if let Some(e) = events {
        out.push(AmmDescriptor::Events(e));
    }
    if !estab_streams.is_empty() {
        out.push(AmmDescriptor::Signals(
            estab_streams
                .iter()
                .map(|&id| {
                    let mut s = Signal::new("xdtls/estab");
                    if !(single_stream && id == 1) {
                        s.stream = Some(id);
                    }
                    SignalsItem::Signal(s)
                })
                .collect(),
        ));
    }
    out
}

/// `Events = id { hangterm/thb { timerx = N }, xdtls/estfail }` (each part optional).
pub(crate) fn events(id: u32, heartbeat: Option<u32>, estfail: bool) -> Option<EventsDescriptor> {
    let mut ev = Vec::new();
    if let Some(t) = heartbeat {
        let mut e = RequestedEvent::new("hangterm/thb");
        e.params.push(PropertyParm::new("timerx", &t.to_string()));
        ev.push(e);
    }
    if estfail {
        ev.push(RequestedEvent::new("xdtls/estfail"));
    }
    (!ev.is_empty()).then_some(EventsDescriptor {
        request_id: Some(id),
        events: ev,
    })
}

/// What one Add/Modify reply brought back.
#[derive(Debug, Default)]
pub(crate) struct AmmResult {
    pub context: Option<u32>,
    pub termination: Option<TerminationId>,
    /// Local SDP per stream id.
    pub locals: BTreeMap<u16, Sdp>,
}

/// An error in a reply.
pub(crate) enum ReplyError {
    Agw(ErrorDescriptor),
    Bad(String),
}

/// Read the reply to a transaction: every command reply of every action, in order. Errors:
/// the transaction error, an action error, or an Error in a command's returned descriptors.
pub(crate) fn read_reply(result: &TransactionResult) -> Result<Vec<AmmResult>, ReplyError> {
    let actions: &Vec<ActionReply> = match result {
        TransactionResult::Error(e) => return Err(ReplyError::Agw(e.clone())),
        TransactionResult::Actions(a) => a,
    };
    let mut out = Vec::new();
    for a in actions {
        if let Some(e) = &a.error {
            return Err(ReplyError::Agw(e.clone()));
        }
        let context = match a.context {
            ContextId::Id(n) => Some(n),
            _ => None,
        };
        for c in &a.commands {
            let r = match c {
                CommandReply::Add(r) | CommandReply::Modify(r) | CommandReply::Subtract(r) => r,
                CommandReply::Move(r) => r,
                other => {
                    return Err(ReplyError::Bad(format!(
                        "unexpected {} reply",
                        other.name()
                    )))
                }
            };
            let mut res = AmmResult {
                context,
                termination: r.termination_ids.first().cloned(),
                locals: BTreeMap::new(),
            };
            for p in r.audit.iter().flatten() {
                match p {
                    AuditReturnParameter::Error(e) => return Err(ReplyError::Agw(e.clone())),
                    AuditReturnParameter::Media(md) => {
                        let streams: Vec<(u16, &StreamParms)> = match &md.streams {
                            None => Vec::new(),
                            Some(Streams::One(sp)) => vec![(1, sp)],
                            Some(Streams::Multi(v)) => v.iter().map(|d| (d.id, &d.parms)).collect(),
                        };
                        for (id, sp) in streams {
                            if let Some(l) = &sp.local {
                                let mut sdps = Sdp::from_descriptor(l).map_err(|e| {
                                    ReplyError::Bad(format!("Local of stream {id}: {e}"))
                                })?;
                                if !sdps.is_empty() {
                                    res.locals.insert(id, sdps.remove(0));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            out.push(res);
        }
    }
    Ok(out)
}
