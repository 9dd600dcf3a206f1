//! Unit tests of the control over a mock media plane (the only place a mock is used: the layer
//! above the media plane). The mock records every open/update/close so the tests can check
//! the specs handed down and that failures leave no leg open.

use super::*;
use crate::media::api::{Fingerprint, HashFunction, IceCredentials};
use iq_codec::model::{MessageBody, Transaction};
use iq_codec::sdp::{Choosable, FingerprintAttr, Sdp};
use std::net::{IpAddr, SocketAddr};

#[path = "tests_digest.rs"]
mod digest;

#[derive(Debug, Default)]
struct Mock {
    open: BTreeMap<LegId, LegSpec>,
    opened: Vec<(LegId, LegSpec)>,
    updates: Vec<(LegId, LegSpec)>,
    closed: Vec<LegId>,
    infos: BTreeMap<LegId, LocalInfo>,
    next_access: u16,
    next_core: u16,
    fail_open: Option<MediaError>,
    stats: LegStats,
}

fn agw_fingerprint() -> Fingerprint {
    Fingerprint {
        hash: HashFunction::Sha256,
        digest: (0..32u8).map(|i| 0xA0 ^ i).collect(),
    }
}

impl MediaPlane for Mock {
    fn open(&mut self, leg: LegId, spec: &LegSpec, _now: Instant) -> Result<LocalInfo, MediaError> {
        if let Some(e) = self.fail_open.take() {
            return Err(e);
        }
        assert!(!self.open.contains_key(&leg), "leg {leg:?} opened twice");
        let (ip, port): (IpAddr, u16) = match spec.realm.as_str() {
            "access" => {
                let p = 40000 + 2 * self.next_access;
                self.next_access += 1;
                ([203, 0, 113, 10].into(), p)
            }
            "core" => {
                let p = 20000 + 2 * self.next_core;
                self.next_core += 1;
                ([10, 0, 0, 10].into(), p)
            }
            other => return Err(MediaError::UnknownRealm(other.into())),
        };
        let access = spec.kind == LegKind::DtlsSrtp;
        let info = LocalInfo {
            addr: SocketAddr::new(ip, port),
            ice: access.then(|| IceCredentials {
                ufrag: format!("Agw{}", leg.0),
                pwd: format!("agwPasswordAgwPassword{}", leg.0),
            }),
            fingerprint: access.then(agw_fingerprint),
        };
        self.open.insert(leg, spec.clone());
        self.opened.push((leg, spec.clone()));
        self.infos.insert(leg, info.clone());
        Ok(info)
    }
    fn update(&mut self, leg: LegId, spec: &LegSpec, _now: Instant) -> Result<(), MediaError> {
        let cur = self.open.get_mut(&leg).ok_or(MediaError::UnknownLeg(leg))?;
        *cur = spec.clone();
        self.updates.push((leg, spec.clone()));
        Ok(())
    }
    fn close(&mut self, leg: LegId) -> Result<LegStats, MediaError> {
        self.open.remove(&leg).ok_or(MediaError::UnknownLeg(leg))?;
        self.closed.push(leg);
        Ok(self.stats)
    }
    fn stats(&self, leg: LegId) -> Result<LegStats, MediaError> {
        self.open
            .contains_key(&leg)
            .then_some(self.stats)
            .ok_or(MediaError::UnknownLeg(leg))
    }
    fn poll_event(&mut self) -> Option<MediaEvent> {
        None
    }
}

fn control() -> Control<Mock> {
    Control::new(
        Mock::default(),
        ControlConfig::new(vec!["access".into(), "core".into()]),
    )
}

fn decode(text: &str) -> Vec<ActionRequest> {
    let msg = iq_codec::text::decode(text.as_bytes()).expect("decodes");
    match msg.body {
        MessageBody::Transactions(ts) => match ts.into_iter().next() {
            Some(Transaction::Request(r)) => r.actions,
            other => panic!("not a request: {other:?}"),
        },
        other => panic!("not transactions: {other:?}"),
    }
}

/// A request with the given actions body (`Context = ... { ... }`).
fn req(body: &str) -> Vec<ActionRequest> {
    decode(&format!(
        "MEGACO/3 <alg1.example.net>:2944\nTransaction = 9 {{ {body} }}"
    ))
}

fn run(c: &mut Control<Mock>, actions: &[ActionRequest]) -> Vec<ActionReply> {
    match c.execute(Instant::now(), actions) {
        TransactionResult::Actions(a) => a,
        TransactionResult::Error(e) => panic!("transaction error {e:?}"),
    }
}

/// The single action's reply, which must not carry an error.
fn ok(c: &mut Control<Mock>, actions: &[ActionRequest]) -> ActionReply {
    let mut r = run(c, actions);
    assert_eq!(r.len(), 1);
    let r = r.remove(0);
    assert_eq!(r.error, None, "{r:?}");
    r
}

/// The error code of the single action.
fn code(c: &mut Control<Mock>, actions: &[ActionRequest]) -> u16 {
    let r = run(c, actions);
    let e = r.last().and_then(|a| a.error.clone()).expect("an error");
    assert!(e.text.as_deref().is_some_and(|t| !t.is_empty()), "{e:?}");
    e.code
}

fn ctx_of(r: &ActionReply) -> u32 {
    match r.context {
        ContextId::Id(i) => i,
        c => panic!("context {c:?}"),
    }
}

fn amms(r: &CommandReply) -> &AmmsReply {
    match r {
        CommandReply::Add(a) | CommandReply::Modify(a) | CommandReply::Subtract(a) => a,
        CommandReply::Move(a) => a,
        other => panic!("not an AMMS reply: {other:?}"),
    }
}

/// The Local SDP returned for stream 1 (single-stream or `Stream = 1` form).
fn reply_local(r: &CommandReply) -> Option<Sdp> {
    let audit = amms(r).audit.as_ref()?;
    audit.iter().find_map(|p| match p {
        AuditReturnParameter::Media(m) => {
            let parms = match m.streams.as_ref()? {
                Streams::One(p) => p,
                Streams::Multi(v) => &v.iter().find(|s| s.id == 1)?.parms,
            };
            let l = parms.local.as_ref()?;
            let mut v = Sdp::from_descriptor(l).expect("Local parses");
            assert_eq!(v.len(), 1);
            Some(v.remove(0))
        }
        _ => None,
    })
}

fn tid(s: &str) -> TerminationId {
    TerminationId::new(s)
}

fn ue_fingerprint() -> Fingerprint {
    let mut d = Vec::new();
    for _ in 0..2 {
        d.extend([
            0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE,
            0xFF, 0x00,
        ]);
    }
    Fingerprint {
        hash: HashFunction::Sha256,
        digest: d,
    }
}

/// Local SDP checks shared by both figures: every `$` filled from the leg's LocalInfo.
fn check_access_local(sdp: &Sdp, info: &LocalInfo) {
    let text = sdp.to_string();
    assert!(!text.contains('$'), "{text}");
    assert_eq!(
        sdp.effective_connection(0).and_then(|c| c.ip_addr()),
        Some(info.addr.ip())
    );
    let m = &sdp.media()[0];
    assert_eq!(m.port(), Choosable::Value(info.addr.port()));
    assert_eq!(m.proto().as_str(), "UDP/TLS/RTP/SAVPF");
    let fps = sdp.effective_fingerprints(0).unwrap();
    assert_eq!(fps.len(), 1);
    let FingerprintAttr::Value(f) = &fps[0] else {
        panic!("{fps:?}")
    };
    assert_eq!(f.hash.as_str(), "sha-256");
    assert_eq!(f.value, info.fingerprint.as_ref().unwrap().digest);
    // The text form: upper-case hex pairs.
    assert!(
        text.contains("a=fingerprint:sha-256 A0:A1:A2:A3:"),
        "{text}"
    );
    let ice = info.ice.as_ref().unwrap();
    assert_eq!(
        sdp.effective_ice_ufrag(0).unwrap(),
        Some(Choosable::Value(ice.ufrag.clone()))
    );
    assert_eq!(
        sdp.effective_ice_pwd(0).unwrap(),
        Some(Choosable::Value(ice.pwd.clone()))
    );
    assert!(sdp.session().ice_lite(), "session-level a=ice-lite: {text}");
    // What the ALG wrote and the AGW need not change stays.
    assert!(m.rtcp_mux());
    assert_eq!(m.fmts(), vec!["111", "0"]);
}

// ------------------------------------------------------------------ figure 6.2.10.5.1

#[test]
fn figure_1_ue_originated() {
    let mut c =
        control().with_wall_clock(|| UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000));
    // Step 2: Add T1 (access, reserve and configure, AGW = DTLS client).
    let r = ok(&mut c, &decode(digest::F1_ADD_T1));
    let ctx = ctx_of(&r);
    let t1 = amms(&r.commands[0]).termination_ids[0].clone();
    assert_eq!(t1, tid("ip/acc/t1"));
    let (leg1, spec1) = c.leg_of(&t1, 1).map(|(l, s)| (l, s.clone())).unwrap();
    assert_eq!(
        spec1,
        LegSpec {
            context: ctx,
            kind: LegKind::DtlsSrtp,
            realm: "access".into(),
            mode: StreamMode::SendRecv,
            remote: Some("198.51.100.20:50000".parse().unwrap()),
            remote_fingerprints: vec![ue_fingerprint()],
            dtls_role: Some(DtlsRole::Client),
            remote_ice: Some(IceCredentials {
                ufrag: "Ue7f".into(),
                pwd: "uePasswordUePassword22".into()
            }),
            latching: true,
        }
    );
    let info1 = c.media().infos[&leg1].clone();
    let local = reply_local(&r.commands[0]).expect("Local in the Add reply");
    check_access_local(&local, &info1);

    // Step 4: Add T2 (core, reserve) into the same context.
    let t4 = digest::F1_ADD_T2.replace("4711", &ctx.to_string());
    let r = ok(&mut c, &decode(&t4));
    assert_eq!(ctx_of(&r), ctx);
    let t2 = amms(&r.commands[0]).termination_ids[0].clone();
    assert_eq!(t2, tid("ip/core/t2"));
    let (leg2, spec2) = c.leg_of(&t2, 1).map(|(l, s)| (l, s.clone())).unwrap();
    assert_eq!(spec2.kind, LegKind::Plain);
    assert_eq!(spec2.realm, "core");
    assert_eq!(spec2.dtls_role, None);
    assert_eq!(spec2.remote, None);
    assert!(!spec2.latching);
    let local2 = reply_local(&r.commands[0]).expect("Local in the Add reply");
    let info2 = c.media().infos[&leg2].clone();
    assert_eq!(
        local2.to_string(),
        format!(
            "v=0\nc=IN IP4 {}\nm=audio {} RTP/AVPF 111 0\na=rtpmap:111 opus/48000/2\n",
            info2.addr.ip(),
            info2.addr.port()
        )
    );
    assert_eq!(c.termination_count(), 2);
    assert_eq!(c.terminations_in(ctx), vec![t1.clone(), t2.clone()]);

    // Step 8: Modify T2 with the core answer; Local fully specified, so no Media back.
    let t8 = digest::F1_MOD_T2
        .replace("4711", &ctx.to_string())
        .replace("ip/core/t1002", t2.as_str())
        .replace("m=audio 20000", &format!("m=audio {}", info2.addr.port()));
    let r = ok(&mut c, &decode(&t8));
    assert_eq!(amms(&r.commands[0]).audit, None);
    let spec2b = c.leg_of(&t2, 1).unwrap().1.clone();
    assert_eq!(spec2b.remote, Some("10.0.1.50:30000".parse().unwrap()));
    assert_eq!(c.media().updates.last(), Some(&(leg2, spec2b)));
    // T1 was not touched by the Modify of T2.
    assert!(c.media().updates.iter().all(|(l, _)| *l != leg1));

    // Failure path (3.2.9): DTLS fails on T1 -> Notify xdtls/estfail with requestID 2001.
    let n = c
        .handle_media_event(
            Instant::now(),
            MediaEvent::DtlsFailed {
                leg: leg1,
                cause: "fingerprint-mismatch".into(),
            },
        )
        .expect("a Notify");
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].context, ContextId::Id(ctx));
    let Command::Notify(nr) = &n[0].commands[0].command else {
        panic!("{n:?}")
    };
    assert_eq!(nr.termination_ids.as_slice(), std::slice::from_ref(&t1));
    let oe = nr.observed_events.as_ref().unwrap();
    assert_eq!(oe.request_id, 2001);
    assert_eq!(oe.events[0].name, "xdtls/estfail");
    assert_eq!(
        oe.events[0].params,
        vec![PropertyParm::new("cause", "fingerprint-mismatch")]
    );
    // 1700000000 = 2023-11-14 22:13:20 UTC.
    assert_eq!(
        oe.events[0].timestamp,
        Some(TimeNotation {
            date: "20231114".into(),
            time: "22132000".into()
        })
    );
    // The Notify encodes as text the way the digest shows it.
    let text = iq_codec::text::encode(
        &iq_codec::model::Message {
            auth: None,
            version: 3,
            mid: iq_codec::model::MId::Domain {
                name: "agw1.example.net".into(),
                port: Some(2944),
            },
            body: MessageBody::Transactions(
                [Transaction::Request(iq_codec::model::TransactionRequest {
                    id: 70001,
                    actions: n,
                })]
                .into(),
            ),
        },
        iq_codec::text::Style::Pretty,
    );
    assert!(text.contains("xdtls/estfail"), "{text}");
    assert!(text.contains("fingerprint-mismatch"), "{text}");
    // T2 asked for no DTLS failure event: nothing to notify.
    assert_eq!(
        c.handle_media_event(
            Instant::now(),
            MediaEvent::DtlsFailed {
                leg: leg2,
                cause: "timeout".into()
            }
        ),
        None
    );

    // Release (3.2.10): Subtract both with Audit { } -> no statistics, everything closed.
    let t10 = digest::F1_SUB
        .replace("4711", &ctx.to_string())
        .replace("ip/acc/t1001", t1.as_str())
        .replace("ip/core/t1002", t2.as_str());
    let r = ok(&mut c, &decode(&t10));
    assert_eq!(r.commands.len(), 2);
    for (cmd, t) in r.commands.iter().zip([&t1, &t2]) {
        assert!(matches!(cmd, CommandReply::Subtract(_)));
        assert_eq!(
            amms(cmd).termination_ids.as_slice(),
            std::slice::from_ref(t)
        );
        assert_eq!(amms(cmd).audit, None);
    }
    assert!(c.media().open.is_empty());
    assert_eq!(c.context_count(), 0);
    assert_eq!(c.leg_count(), 0);
}

// ------------------------------------------------------------------ figure 6.2.10.5.2

fn figure_2_until_mod(establish: bool) -> (Control<Mock>, u32, TerminationId, TerminationId) {
    let mut c = control();
    // Step 2: Add T2 (core, reserve and configure).
    let r = ok(&mut c, &decode(digest::F2_ADD_T2));
    let ctx = ctx_of(&r);
    let t2 = amms(&r.commands[0]).termination_ids[0].clone();
    assert_eq!(t2, tid("ip/core/t1"));
    let spec = c.leg_of(&t2, 1).unwrap().1.clone();
    assert_eq!(spec.kind, LegKind::Plain);
    assert_eq!(spec.remote, Some("10.0.1.50:30000".parse().unwrap()));
    assert_eq!(spec.remote_fingerprints, vec![]);
    assert!(reply_local(&r.commands[0]).is_some());

    // Step 4: Add T1 (access, reserve, fingerprint request); no Remote, no Establish.
    let t4 = digest::F2_ADD_T1.replace("4712", &ctx.to_string());
    let r = ok(&mut c, &decode(&t4));
    let t1 = amms(&r.commands[0]).termination_ids[0].clone();
    assert_eq!(t1, tid("ip/acc/t2"));
    let (leg1, spec1) = c.leg_of(&t1, 1).map(|(l, s)| (l, s.clone())).unwrap();
    assert_eq!(spec1.kind, LegKind::DtlsSrtp);
    assert_eq!(spec1.remote, None);
    assert_eq!(spec1.remote_ice, None);
    assert_eq!(spec1.dtls_role, Some(DtlsRole::Server));
    assert!(spec1.latching);
    let info1 = c.media().infos[&leg1].clone();
    check_access_local(&reply_local(&r.commands[0]).unwrap(), &info1);

    // Step 8: Modify T1 with the UE's answer.
    let mut t8 = digest::F2_MOD_T1
        .replace("4712", &ctx.to_string())
        .replace("ip/acc/t2002", t1.as_str())
        .replace("m=audio 40002", &format!("m=audio {}", info1.addr.port()));
    if establish {
        t8 = t8.replacen(
            "          }\n        }\n      }\n    }",
            "          }\n        }\n      },\n      Signals { xdtls/estab }\n    }",
            1,
        );
        assert!(t8.contains("xdtls/estab"));
    }
    let r = ok(&mut c, &decode(&t8));
    assert_eq!(
        amms(&r.commands[0]).audit,
        None,
        "no Media in the MOD reply"
    );
    (c, ctx, t1, t2)
}

#[test]
fn figure_2_ue_terminated_ue_active() {
    let (mut c, ctx, t1, _t2) = figure_2_until_mod(false);
    let (leg1, spec) = c.leg_of(&t1, 1).map(|(l, s)| (l, s.clone())).unwrap();
    assert_eq!(spec.context, ctx);
    assert_eq!(spec.dtls_role, Some(DtlsRole::Server));
    assert_eq!(spec.remote, Some("198.51.100.21:50002".parse().unwrap()));
    assert_eq!(spec.remote_fingerprints, vec![ue_fingerprint()]);
    assert_eq!(
        spec.remote_ice,
        Some(IceCredentials {
            ufrag: "Ub2c".into(),
            pwd: "ubPasswordUbPassword333".into()
        })
    );
    assert_eq!(c.media().updates.last().map(|u| u.0), Some(leg1));
    // The role is fixed now: an Establish signal later is refused and changes nothing.
    let before = c.media().updates.len();
    let e = code(
        &mut c,
        &req(&format!(
            "Context = {ctx} {{ Modify = {} {{ Signals {{ xdtls/estab }} }} }}",
            t1.as_str()
        )),
    );
    assert_eq!(e, BAD_VALUE);
    assert_eq!(c.media().updates.len(), before);
    assert_eq!(
        c.leg_of(&t1, 1).unwrap().1.dtls_role,
        Some(DtlsRole::Server)
    );
}

#[test]
fn figure_2_ue_terminated_ue_passive() {
    let (c, _ctx, t1, _) = figure_2_until_mod(true);
    let spec = c.leg_of(&t1, 1).unwrap().1;
    assert_eq!(spec.dtls_role, Some(DtlsRole::Client));
    assert_eq!(spec.remote_fingerprints, vec![ue_fingerprint()]);
}

#[test]
fn establish_in_an_earlier_command_keeps_client() {
    let mut c = control();
    let r = ok(
        &mut c,
        &req("Context = $ { Add = $ { Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ UDP/TLS/RTP/SAVPF 111\na=fingerprint:$\n } } }, Signals { xdtls/estab } } }"),
    );
    let ctx = ctx_of(&r);
    let t = amms(&r.commands[0]).termination_ids[0].clone();
    assert_eq!(c.leg_of(&t, 1).unwrap().1.dtls_role, Some(DtlsRole::Client));
    // A Modify with the Remote and no Signals descriptor: still client.
    ok(
        &mut c,
        &req(&format!("Context = {ctx} {{ Modify = {} {{ Media {{ Stream = 1 {{ Remote {{ \nv=0\nc=IN IP4 192.0.2.7\nm=audio 5000 UDP/TLS/RTP/SAVPF 111\na=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\n }} }} }} }} }}", t.as_str())),
    );
    let spec = c.leg_of(&t, 1).unwrap().1;
    assert_eq!(spec.dtls_role, Some(DtlsRole::Client));
    assert_eq!(spec.remote_fingerprints[0].hash, HashFunction::Sha1);
    assert_eq!(spec.remote, Some("192.0.2.7:5000".parse().unwrap()));
}

// ------------------------------------------------------------------ errors, no leaks

const PLAIN_LOCAL: &str = "Local { \nv=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\n }";

fn add_plain(c: &mut Control<Mock>, realm: &str) -> (u32, TerminationId) {
    let r = ok(
        c,
        &req(&format!(
            "Context = $ {{ Add = $ {{ Media {{ TerminationState {{ ipdc/realm = \"{realm}\" }}, Stream = 1 {{ LocalControl {{ Mode = SendReceive }}, {PLAIN_LOCAL} }} }} }} }}"
        )),
    );
    (ctx_of(&r), amms(&r.commands[0]).termination_ids[0].clone())
}

/// Nothing open, nothing kept.
fn assert_clean(c: &Control<Mock>) {
    assert!(c.media().open.is_empty(), "{:?}", c.media().open);
    assert_eq!(c.context_count(), 0);
    assert_eq!(c.termination_count(), 0);
    assert_eq!(c.leg_count(), 0);
}

#[test]
fn failed_adds_leave_nothing() {
    let cases: &[(&str, u16)] = &[
        // unknown realm
        ("Media { TerminationState { ipdc/realm = \"mars\" }, Stream = 1 { LOCAL } }", BAD_VALUE),
        // unknown package / property / unsupported property
        ("Media { TerminationState { foo/bar = 1 }, Stream = 1 { LOCAL } }", UNKNOWN_PACKAGE),
        ("Media { TerminationState { ipdc/nosuch = 1 }, Stream = 1 { LOCAL } }", NO_SUCH_PROPERTY),
        ("Media { Stream = 1 { LocalControl { nt/jit = 1 }, LOCAL } }", UNSUPPORTED_PROPERTY),
        ("Media { Stream = 1 { LocalControl { ipnapt/latch = maybe }, LOCAL } }", BAD_VALUE),
        // events and signals
        ("Media { Stream = 1 { LOCAL } }, Events = 5 { zz/top }", UNKNOWN_PACKAGE),
        ("Media { Stream = 1 { LOCAL } }, Events = 5 { xdtls/nosuch }", NO_SUCH_EVENT),
        ("Media { Stream = 1 { LOCAL } }, Events = 5 { g/sc }", CANNOT_DETECT_EVENT),
        ("Media { Stream = 1 { LOCAL } }, Signals { xdtls/nosuch }", NO_SUCH_SIGNAL),
        ("Media { Stream = 1 { LOCAL } }, Signals { cg/dt }", CANNOT_GENERATE_SIGNAL),
        // descriptors
        ("Media { Stream = 1 { LOCAL } }, DigitMap = dm1 { (0|1) }", UNSUPPORTED_DESCRIPTOR),
        ("Media { Stream = 1 { LOCAL } }, Events = 5 { g/cause }, Events = 6 { g/cause }", DESCRIPTOR_TWICE),
        // SDP
        ("Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ RTP/XYZ 0\n } } }", BAD_VALUE),
        ("Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ RTP/SAVP 0\n } } }", NOT_IMPLEMENTED),
        ("Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\nm=video $ RTP/AVP 96\n } } }", NOT_IMPLEMENTED),
        ("Media { Stream = 1 { LOCAL, Remote { \nv=0\nc=IN IP4 $\nm=audio 4000 RTP/AVP 0\n } } }", BAD_VALUE),
        ("Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ UDP/TLS/RTP/SAVP 0\n }, Remote { \nv=0\nc=IN IP4 192.0.2.1\nm=audio 4000 UDP/TLS/RTP/SAVP 0\n } } }", BAD_VALUE),
        ("Media { Stream = 1 { LOCAL, Remote { \nv=0\nc=IN IP4 192.0.2.1\nm=audio 4000 UDP/TLS/RTP/SAVP 0\n } } }", BAD_VALUE),
        // the leg opens, then the Local cannot be filled: the leg is closed again
        ("Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\na=fingerprint:$\n } } }", BAD_VALUE),
        ("Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ UDP/TLS/RTP/SAVP 0\na=fingerprint:sha-1 $\n } } }", BAD_VALUE),
        ("Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\na=rtcp:$\n } } }", BAD_VALUE),
        ("Media { Stream = 1 { Local { \nv=0\nc=IN IP4 192.0.2.99\nm=audio 7000 RTP/AVP 0\n } } }", BAD_VALUE),
    ];
    for (desc, want) in cases {
        let mut c = control();
        let desc = desc.replace("LOCAL", PLAIN_LOCAL);
        let got = code(
            &mut c,
            &req(&format!("Context = $ {{ Add = $ {{ {desc} }} }}")),
        );
        assert_eq!(got, *want, "{desc}");
        assert_clean(&c);
        // Whatever was opened was closed again.
        let m = c.media();
        assert_eq!(m.opened.len(), m.closed.len(), "{desc}");
    }
}

#[test]
fn no_ports_is_510_and_leaves_nothing() {
    let mut c = control();
    c.media_mut().fail_open = Some(MediaError::NoPorts("access".into()));
    let r = run(
        &mut c,
        &req(&format!(
            "Context = $ {{ Add = $ {{ Media {{ Stream = 1 {{ {PLAIN_LOCAL} }} }} }} }}"
        )),
    );
    assert_eq!(r[0].error.as_ref().unwrap().code, INSUFFICIENT_RESOURCES);
    assert_eq!(r[0].context, ContextId::Choose);
    assert_clean(&c);
    // The next Add works and gets context 1 (no ID was consumed by a kept context).
    let (ctx, _) = add_plain(&mut c, "access");
    assert_eq!(c.terminations_in(ctx).len(), 1);
}

#[test]
fn second_add_failing_keeps_the_first_and_stops_the_transaction() {
    let mut c = control();
    let (ctx, t1) = add_plain(&mut c, "access");
    c.media_mut().fail_open = Some(MediaError::NoPorts("core".into()));
    let r = run(
        &mut c,
        &req(&format!(
            "Context = {ctx} {{ Add = $ {{ Media {{ Stream = 1 {{ {PLAIN_LOCAL} }} }} }}, Subtract = {t} }}, Context = {ctx} {{ Subtract = {t} }}",
            t = t1.as_str()
        )),
    );
    // One action reply (the second action was not run), with the error and no command reply.
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].error.as_ref().unwrap().code, INSUFFICIENT_RESOURCES);
    assert!(r[0].commands.is_empty());
    assert_eq!(c.terminations_in(ctx), vec![t1.clone()]);
    assert_eq!(c.media().open.len(), 1);
}

#[test]
fn optional_command_failure_does_not_stop_the_action() {
    let mut c = control();
    let (ctx, t1) = add_plain(&mut c, "access");
    let r = ok(
        &mut c,
        &req(&format!(
            "Context = {ctx} {{ O-Modify = ip/acc/t99, Subtract = {} }}",
            t1.as_str()
        )),
    );
    assert_eq!(r.commands.len(), 2);
    let a = amms(&r.commands[0]);
    assert_eq!(
        a.audit.as_ref().unwrap()[0],
        AuditReturnParameter::Error(ErrorDescriptor {
            code: UNKNOWN_TERMINATION,
            text: Some("unknown termination ip/acc/t99".into())
        })
    );
    assert_clean(&c);
}

#[test]
fn modify_failing_after_an_update_restores_the_leg() {
    let mut c = control();
    let r = ok(
        &mut c,
        &req("Context = $ { Add = $ { Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ UDP/TLS/RTP/SAVPF 111\na=fingerprint:$\n } } } } }"),
    );
    let ctx = ctx_of(&r);
    let t = amms(&r.commands[0]).termination_ids[0].clone();
    let (leg, before) = c.leg_of(&t, 1).map(|(l, s)| (l, s.clone())).unwrap();
    // New Remote (the spec changes: update), then a Local asking for a sha-1 fingerprint
    // (cannot be filled): the update is undone.
    let e = code(
        &mut c,
        &req(&format!(
            "Context = {ctx} {{ Modify = {} {{ Media {{ Stream = 1 {{ Local {{ \nv=0\nc=IN IP4 $\nm=audio $ UDP/TLS/RTP/SAVPF 111\na=fingerprint:sha-1 $\n }}, Remote {{ \nv=0\nc=IN IP4 192.0.2.7\nm=audio 5000 UDP/TLS/RTP/SAVPF 111\na=fingerprint:sha-256 {}\n }} }} }} }} }}",
            t.as_str(),
            ue_fingerprint().digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
        )),
    );
    assert_eq!(e, BAD_VALUE);
    assert_eq!(c.media().updates.len(), 2, "update, then the undo");
    assert_eq!(c.media().open[&leg], before);
    assert_eq!(c.leg_of(&t, 1).unwrap().1, &before);
}

#[test]
fn command_and_context_errors() {
    let mut c = control();
    let (ctx, t1) = add_plain(&mut c, "access");
    let (ctx2, t2) = add_plain(&mut c, "core");
    assert_ne!(ctx, ctx2);
    assert_eq!(t2, tid("ip/core/t2"));
    let cases: Vec<(String, u16)> = vec![
        (format!("Context = 999 {{ Modify = {} }}", t1.as_str()), UNKNOWN_CONTEXT),
        (format!("Context = {ctx} {{ Modify = ip/acc/t77 }}"), UNKNOWN_TERMINATION),
        (format!("Context = {ctx} {{ Modify = {} }}", t2.as_str()), NOT_IN_CONTEXT),
        (format!("Context = {ctx} {{ Subtract = ip/zz/* }}"), NO_WILDCARD_MATCH),
        (format!("Context = {ctx} {{ Add = {} }}", t2.as_str()), ALREADY_IN_CONTEXT),
        (format!("Context = {ctx} {{ Add = * }}"), SYNTAX_IN_COMMAND),
        (format!("Context = {ctx} {{ Subtract = ip/$ }}"), SYNTAX_IN_COMMAND),
        (format!("Context = {ctx} {{ Add = ROOT }}"), NOT_ALLOWED_ON_TERMINATION),
        (format!("Context = $ {{ Modify = {} }}", t1.as_str()), ILLEGAL_ACTION),
        ("Context = - { Add = $ }".to_string(), ILLEGAL_ACTION),
        (format!("Context = {ctx} {{ Move = {} }}", t1.as_str()), ILLEGAL_ACTION),
        (format!("Context = {ctx} {{ Notify = {} {{ ObservedEvents = 1 {{ g/cause }} }} }}", t1.as_str()), NOT_IMPLEMENTED),
        (format!("Context = - {{ AuditValue = {} {{ Audit {{ Media }} }} }}", t1.as_str()), NOT_IN_CONTEXT),
        ("Context = - { AuditValue = ip/acc/t77 { Audit { Media } } }".to_string(), UNKNOWN_TERMINATION),
        (format!("Context = {ctx} {{ Modify = {} {{ Media {{ Stream = 1 {{ Local {{ \nv=0\nc=IN IP4 $\nm=audio $ UDP/TLS/RTP/SAVP 0\n }} }} }} }} }}", t1.as_str()), NOT_IMPLEMENTED),
        (format!("Context = {ctx} {{ Modify = {} {{ Media {{ TerminationState {{ ipdc/realm = \"core\" }} }} }} }}", t1.as_str()), NOT_IMPLEMENTED),
    ];
    let opened = c.media().opened.len();
    for (body, want) in cases {
        let got = code(&mut c, &req(&body));
        assert_eq!(got, want, "{body}");
        assert_eq!(c.terminations_in(ctx), vec![t1.clone()], "{body}");
        assert_eq!(c.terminations_in(ctx2), vec![t2.clone()], "{body}");
        assert_eq!(c.media().open.len(), 2, "{body}");
    }
    assert_eq!(c.media().opened.len(), opened);
}

#[test]
fn context_cap_is_510_and_leaves_nothing() {
    let mut cfg = ControlConfig::new(vec!["access".into()]);
    cfg.max_contexts = Some(1);
    let mut c = Control::new(Mock::default(), cfg);
    add_plain(&mut c, "access");
    let e = code(
        &mut c,
        &req(&format!(
            "Context = $ {{ Add = $ {{ Media {{ Stream = 1 {{ {PLAIN_LOCAL} }} }} }} }}"
        )),
    );
    assert_eq!(e, INSUFFICIENT_RESOURCES);
    assert_eq!(c.context_count(), 1);
    assert_eq!(c.media().open.len(), 1);
    assert_eq!(c.overload_count(), 1);
    // Nobody asked for ocp/mg_overload: nothing to notify.
    assert!(c.poll_notify().is_none());
}

#[test]
fn overload_is_notified_when_ocp_was_requested_on_root() {
    let mut cfg = ControlConfig::new(vec!["access".into()]);
    cfg.max_contexts = Some(1);
    let mut c = Control::new(Mock::default(), cfg);
    // The MGC asks for H.248.11 overload notifications on ROOT.
    let r = c.execute(
        Instant::now(),
        &req("Context = - { Modify = ROOT { Events = 77 { ocp/mg_overload } } }"),
    );
    assert!(
        matches!(&r, TransactionResult::Actions(a) if a.iter().all(|a| a.error.is_none())),
        "{r:?}"
    );
    let (ctx, _) = add_plain(&mut c, "access");
    assert!(c.poll_notify().is_none(), "no overload yet");
    for _ in 0..2 {
        let e = code(
            &mut c,
            &req(&format!(
                "Context = $ {{ Add = $ {{ Media {{ Stream = 1 {{ {PLAIN_LOCAL} }} }} }} }}"
            )),
        );
        assert_eq!(e, INSUFFICIENT_RESOURCES);
    }
    // One Notify per refused context, on ROOT in the NULL context, with the requestID.
    for _ in 0..2 {
        let n = c.poll_notify().expect("a Notify per refusal");
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].context, ContextId::Null);
        let Command::Notify(nr) = &n[0].commands[0].command else {
            panic!("not a Notify: {n:?}");
        };
        assert!(nr.termination_ids[0].is_root());
        let oe = nr.observed_events.as_ref().unwrap();
        assert_eq!(oe.request_id, 77);
        assert_eq!(oe.events[0].name, "ocp/mg_overload");
        // It is a valid H.248 message: the text encoding decodes to the same actions.
        let msg = iq_codec::model::Message {
            auth: None,
            version: 3,
            mid: iq_codec::model::MId::Domain {
                name: "agw".into(),
                port: None,
            },
            body: MessageBody::Transactions(
                [Transaction::Request(iq_codec::model::TransactionRequest {
                    id: 1,
                    actions: n.clone(),
                })]
                .into(),
            ),
        };
        let text = iq_codec::text::encode(&msg, iq_codec::text::Style::Compact);
        assert_eq!(decode(&text), n, "{text}");
    }
    assert!(c.poll_notify().is_none());
    // Capacity frees: a new context is accepted again, nothing notified.
    let sub = c.execute(
        Instant::now(),
        &req(&format!("Context = {ctx} {{ Subtract = * }}")),
    );
    assert!(
        matches!(&sub, TransactionResult::Actions(a) if a.iter().all(|a| a.error.is_none())),
        "{sub:?}"
    );
    add_plain(&mut c, "access");
    assert_eq!(c.context_count(), 1);
    assert!(c.poll_notify().is_none());
}

// ------------------------------------------------------------------ Subtract, statistics

fn sample_stats() -> LegStats {
    LegStats {
        packets_received: 300,
        packets_sent: 290,
        octets_received: 48_000,
        octets_sent: 46_400,
        packets_lost: 100,
        jitter: 480,
        srtp_auth_failures: 7,
        srtp_replays: 1,
    }
}

fn stat_value(v: &[StatisticsParameter], name: &str) -> String {
    v.iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no {name} in {v:?}"))
        .value
        .as_ref()
        .unwrap()[0]
        .to_string()
}

#[test]
fn subtract_returns_statistics_unless_audit_is_empty() {
    let mut c = control();
    c.media_mut().stats = sample_stats();
    // Access leg with opus (48 kHz): jitter 480 units = 10 ms.
    let r = ok(
        &mut c,
        &req("Context = $ { Add = $ { Media { Stream = 1 { Local { \nv=0\nc=IN IP4 $\nm=audio $ UDP/TLS/RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\na=fingerprint:$\n } } } } }"),
    );
    let ctx = ctx_of(&r);
    let t = amms(&r.commands[0]).termination_ids[0].clone();
    let r = ok(
        &mut c,
        &req(&format!("Context = {ctx} {{ Subtract = {} }}", t.as_str())),
    );
    let audit = amms(&r.commands[0]).audit.clone().expect("statistics");
    let AuditReturnParameter::Statistics(s) = &audit[0] else {
        panic!("{audit:?}")
    };
    let names: Vec<&str> = s.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "nt/dur",
            "nt/os",
            "nt/or",
            "rtp/ps",
            "rtp/pr",
            "rtp/pl",
            "rtp/jit",
            "xdtls/srtpaf"
        ]
    );
    assert_eq!(stat_value(s, "nt/os"), "46400");
    assert_eq!(stat_value(s, "nt/or"), "48000");
    assert_eq!(stat_value(s, "rtp/ps"), "290");
    assert_eq!(stat_value(s, "rtp/pr"), "300");
    assert_eq!(stat_value(s, "rtp/pl"), "25"); // 100 of 400 expected
    assert_eq!(stat_value(s, "rtp/jit"), "10");
    assert_eq!(stat_value(s, "xdtls/srtpaf"), "7");
    // Every name is in the package table as a statistic (binary encoding needs the IDs).
    for n in names {
        assert!(
            Registry::builtin()
                .item_ids(ItemKind::Statistic, n)
                .is_some(),
            "{n} not in the package table"
        );
    }
    assert_clean(&c);

    // Plain core leg, PCMU (8 kHz): 480 units = 60 ms; no SRTP statistic; Audit { } = none.
    let (ctx, t) = add_plain(&mut c, "core");
    let r = ok(
        &mut c,
        &req(&format!(
            "Context = {ctx} {{ AuditValue = {} {{ Audit {{ Statistics }} }} }}",
            t.as_str()
        )),
    );
    let CommandReply::AuditValue(AuditReply::AuditResult { audit, .. }) = &r.commands[0] else {
        panic!("{r:?}")
    };
    let AuditReturnParameter::Statistics(s) = &audit[0] else {
        panic!("{audit:?}")
    };
    assert_eq!(stat_value(s, "rtp/jit"), "60");
    assert!(s.iter().all(|p| p.name != "xdtls/srtpaf"));
    let r = ok(
        &mut c,
        &req(&format!(
            "Context = {ctx} {{ Subtract = {} {{ Audit {{ }} }} }}",
            t.as_str()
        )),
    );
    assert_eq!(amms(&r.commands[0]).audit, None);
    assert_clean(&c);
}

#[test]
fn subtract_wildcard_and_wildcard_response() {
    let mut c = control();
    let (ctx, t1) = add_plain(&mut c, "access");
    let r = ok(
        &mut c,
        &req(&format!("Context = {ctx} {{ Add = $ {{ Media {{ TerminationState {{ ipdc/realm = \"core\" }}, Stream = 1 {{ {PLAIN_LOCAL} }} }} }} }}")),
    );
    let t2 = amms(&r.commands[0]).termination_ids[0].clone();
    // A second context that must survive.
    let (other, t3) = add_plain(&mut c, "access");
    let r = ok(
        &mut c,
        &req(&format!(
            "Context = {ctx} {{ Subtract = * {{ Audit {{ }} }} }}"
        )),
    );
    let gone: Vec<_> = r
        .commands
        .iter()
        .map(|x| amms(x).termination_ids[0].clone())
        .collect();
    assert_eq!(gone, vec![t1, t2]);
    assert_eq!(c.context_count(), 1);
    assert_eq!(c.terminations_in(other), vec![t3]);
    assert_eq!(c.media().open.len(), 1);
    // W- form: one reply naming the wildcard.
    let r = ok(
        &mut c,
        &req(&format!(
            "Context = {other} {{ W-Subtract = * {{ Audit {{ }} }} }}"
        )),
    );
    assert_eq!(r.commands.len(), 1);
    assert_eq!(amms(&r.commands[0]).termination_ids.as_slice(), [tid("*")]);
    assert_clean(&c);
}

#[test]
fn all_contexts_audit_lists_them_and_subtract_clears_them() {
    let mut c = control();
    // Nothing there: 431, whatever is asked.
    assert_eq!(
        code(&mut c, &req("Context = * { AuditValue = * { Audit { } } }")),
        NO_WILDCARD_MATCH
    );
    let (c1, t1) = add_plain(&mut c, "access");
    let r = ok(
        &mut c,
        &req(&format!("Context = {c1} {{ Add = $ {{ Media {{ TerminationState {{ ipdc/realm = \"core\" }}, Stream = 1 {{ {PLAIN_LOCAL} }} }} }} }}")),
    );
    let t2 = amms(&r.commands[0]).termination_ids[0].clone();
    let (c2, t3) = add_plain(&mut c, "core");
    // The list of contexts with their terminations: one action reply per context.
    let r = run(&mut c, &req("Context = * { AuditValue = * { Audit { } } }"));
    let listed: Vec<(u32, Vec<TerminationId>)> = r
        .iter()
        .map(|a| {
            assert_eq!(a.error, None, "{a:?}");
            let ids = a
                .commands
                .iter()
                .flat_map(|x| match x {
                    CommandReply::AuditValue(AuditReply::AuditResult {
                        termination_ids, ..
                    }) => termination_ids.clone(),
                    other => panic!("not an audit result: {other:?}"),
                })
                .collect();
            (ctx_of(a), ids)
        })
        .collect();
    assert_eq!(
        listed,
        vec![(c1, vec![t1.clone(), t2]), (c2, vec![t3.clone()])]
    );
    // A named termination: only the context holding it answers.
    let r = run(
        &mut c,
        &req(&format!(
            "Context = * {{ AuditValue = {} {{ Audit {{ }} }} }}",
            t3.as_str()
        )),
    );
    assert_eq!(r.len(), 1);
    assert_eq!(ctx_of(&r[0]), c2);
    // The reply survives the text encoder and decoder (several action replies, context IDs).
    let msg = iq_codec::model::Message {
        auth: None,
        version: 3,
        mid: iq_codec::model::MId::Domain {
            name: "agw.example.net".into(),
            port: None,
        },
        body: MessageBody::Transactions(
            [Transaction::Reply(iq_codec::model::TransactionReply {
                id: 9,
                imm_ack_required: false,
                segment_number: None,
                segmentation_complete: false,
                result: TransactionResult::Actions(r.clone()),
            })]
            .into(),
        ),
    };
    let text = iq_codec::text::encode(&msg, iq_codec::text::Style::Compact);
    assert_eq!(
        iq_codec::text::decode(text.as_bytes()).expect("decodes"),
        msg
    );
    // Other commands on all contexts: 501, nothing touched.
    assert_eq!(
        code(
            &mut c,
            &req(&format!("Context = * {{ Modify = {} }}", t1.as_str()))
        ),
        NOT_IMPLEMENTED
    );
    assert_eq!(c.context_count(), 2);
    // Subtract from all contexts: every leg closed, every context gone.
    let r = run(&mut c, &req("Context = * { Subtract = * { Audit { } } }"));
    assert_eq!(r.iter().map(ctx_of).collect::<Vec<_>>(), vec![c1, c2]);
    assert!(r.iter().all(|a| a.error.is_none()));
    assert_clean(&c);
}

// ------------------------------------------------------------------ audit, move, service change

#[test]
fn audit_root_and_termination() {
    let mut c = control();
    let r = ok(
        &mut c,
        &req("Context = - { AuditValue = ROOT { Audit { Packages } } }"),
    );
    let CommandReply::AuditValue(AuditReply::AuditResult { audit, .. }) = &r.commands[0] else {
        panic!("{r:?}")
    };
    let AuditReturnParameter::Packages(p) = &audit[0] else {
        panic!("{audit:?}")
    };
    for n in ["root", "ipdc", "it", "xdtls", "hangterm"] {
        assert!(p.iter().any(|x| x.name == n), "{n} in {p:?}");
    }
    let (ctx, t) = add_plain(&mut c, "core");
    let r = ok(
        &mut c,
        &req(&format!(
            "Context = {ctx} {{ AuditValue = {} {{ Audit {{ Media }} }} }}",
            t.as_str()
        )),
    );
    let CommandReply::AuditValue(AuditReply::AuditResult {
        audit,
        termination_ids,
    }) = &r.commands[0]
    else {
        panic!("{r:?}")
    };
    assert_eq!(termination_ids.as_slice(), std::slice::from_ref(&t));
    let AuditReturnParameter::Media(m) = &audit[0] else {
        panic!("{audit:?}")
    };
    let ts = m.termination_state.as_ref().unwrap();
    assert_eq!(first_prop(&ts.props, PROP_REALM), Some("core"));
    let Some(Streams::Multi(s)) = &m.streams else {
        panic!("{m:?}")
    };
    let local = Sdp::from_descriptor(s[0].parms.local.as_ref().unwrap()).unwrap();
    assert_eq!(local[0].media()[0].port(), Choosable::Value(20000));
    assert_eq!(
        s[0].parms.local_control.as_ref().unwrap().mode,
        Some(H248Mode::SendRecv)
    );
    // AuditCapabilities: the realms one can choose.
    let r = ok(
        &mut c,
        &req(&format!(
            "Context = {ctx} {{ AuditCapability = {} {{ Audit {{ Media }} }} }}",
            t.as_str()
        )),
    );
    let CommandReply::AuditCapabilities(AuditReply::AuditResult { audit, .. }) = &r.commands[0]
    else {
        panic!("{r:?}")
    };
    let AuditReturnParameter::Media(m) = &audit[0] else {
        panic!("{audit:?}")
    };
    assert_eq!(
        m.termination_state.as_ref().unwrap().props[0]
            .value
            .as_slice(),
        ["access", "core"]
    );
}

#[test]
fn move_changes_the_context_of_the_legs() {
    let mut c = control();
    let (a, t1) = add_plain(&mut c, "access");
    let (b, _t2) = add_plain(&mut c, "core");
    let leg = c.leg_of(&t1, 1).unwrap().0;
    let r = ok(
        &mut c,
        &req(&format!("Context = {b} {{ Move = {} }}", t1.as_str())),
    );
    assert!(matches!(r.commands[0], CommandReply::Move(_)));
    assert_eq!(c.context_of(&t1), Some(b));
    assert_eq!(c.context_count(), 1, "context {a} deleted");
    assert_eq!(c.media().open[&leg].context, b);
}

#[test]
fn service_change_on_a_termination_stops_and_restores_media() {
    let mut c = control();
    let (ctx, t) = add_plain(&mut c, "access");
    let leg = c.leg_of(&t, 1).unwrap().0;
    ok(&mut c, &req(&format!("Context = {ctx} {{ ServiceChange = {} {{ Services {{ Method = Forced, Reason = 905 }} }} }}", t.as_str())));
    assert_eq!(c.media().open[&leg].mode, StreamMode::Inactive);
    ok(&mut c, &req(&format!("Context = - {{ ServiceChange = {} {{ Services {{ Method = Restart, Reason = 900 }} }} }}", t.as_str())));
    assert_eq!(c.media().open[&leg].mode, StreamMode::SendRecv);
    let e = code(&mut c, &req(&format!("Context = - {{ ServiceChange = {} {{ Services {{ Method = HandOff, Reason = 903 }} }} }}", t.as_str())));
    assert_eq!(e, NOT_IMPLEMENTED);
}

#[test]
fn binary_names_and_clear() {
    let mut cfg = ControlConfig::new(vec!["access".into(), "core".into()]);
    cfg.binary_names = true;
    let mut c = Control::new(Mock::default(), cfg);
    let (_, t1) = add_plain(&mut c, "access");
    let (_, t2) = add_plain(&mut c, "core");
    assert_eq!(t1, tid("00000001/00000000/00000001"));
    assert_eq!(t2, tid("00000010/00000000/00000010"));
    c.clear();
    assert_clean(&c);
    assert_eq!(c.media().closed.len(), 2);
}

#[test]
fn time_notation_is_utc() {
    let t = |s| time_notation(UNIX_EPOCH + std::time::Duration::from_millis(s));
    assert_eq!(
        t(0),
        TimeNotation {
            date: "19700101".into(),
            time: "00000000".into()
        }
    );
    // 2000-03-01 00:00:01.23 UTC (951868800 s, Python datetime; leap-year February behind it).
    assert_eq!(
        t(951_868_801_230),
        TimeNotation {
            date: "20000301".into(),
            time: "00000123".into()
        }
    );
    assert_eq!(t(1_700_000_000_000).date, "20231114");
}
