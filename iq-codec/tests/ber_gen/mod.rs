//! The generator of models BER can express in canonical form (names with binary IDs or in
//! `pXXXX/iXXXX` form, termination IDs of the default mapping, audit tokens and completion
//! reasons in bit order, `dialplanDD` digit map names), shared by `ber_proptest.rs` and
//! `ber_direct_enc.rs`; and [`spoil`], which breaks such a model in ways the BER encoder
//! refuses.
#![allow(dead_code)]

use iq_codec::model::*;
use proptest::prelude::*;

pub fn tid() -> impl Strategy<Value = TerminationId> {
    prop_oneof![
        Just(TerminationId::root()),
        (0u32..100_000).prop_map(|n| TerminationId(format!("ip/acc/t{n}").into())),
        (0u32..100_000).prop_map(|n| TerminationId(format!("ip/core/t{n}").into())),
        Just(TerminationId::new("ip/acc/$")),
        Just(TerminationId::new("ip/core/*")),
        (any::<[bool; 24]>()).prop_map(|b| {
            let s: String = b.iter().map(|&x| if x { '1' } else { '0' }).collect();
            TerminationId(format!("{}/{}/{}", &s[..8], &s[8..16], &s[16..]).into())
        }),
        Just(TerminationId::new("$")),
        Just(TerminationId::new("11111111/*")),
        (any::<u32>()).prop_map(|n| TerminationId(format!("x{n:08x}").into())),
    ]
}

pub fn tids() -> impl Strategy<Value = TermIds> {
    prop::collection::vec(tid(), 1..3).prop_map(TermIds::from_vec)
}

pub fn value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .:/=-]{0,12}"
}

pub fn prop_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("nt/jit".to_string()),
        Just("tdmc/gain".to_string()),
        Just("tdmc/ec".to_string()),
        (1u16..0xfffe, 0u16..0xfffe).prop_map(|(p, i)| format!("p{p:04x}/i{i:04x}")),
    ]
    .prop_filter("known package IDs have names", |n| {
        !n.starts_with('p')
            || iq_codec::packages::Registry::shared_builtin()
                .package_by_id(u16::from_str_radix(&n[1..5], 16).unwrap())
                .is_none()
    })
}

pub fn extra() -> impl Strategy<Value = (Vec<String>, Option<ExtraInfo>)> {
    prop_oneof![
        value().prop_map(|v| (vec![v], None)),
        value().prop_map(|v| (vec![v], Some(ExtraInfo::Relation(Relation::UnequalTo)))),
        (value(), value()).prop_map(|(a, b)| (vec![a, b], Some(ExtraInfo::Range(true)))),
        prop::collection::vec(value(), 1..4).prop_map(|v| (v, Some(ExtraInfo::Sublist(false)))),
    ]
}

pub fn prop_parm() -> impl Strategy<Value = PropertyParm> {
    (prop_name(), extra()).prop_map(|(name, (value, extra))| PropertyParm {
        name: name.into(),
        value: value.into_iter().map(Text::from).collect(),
        extra,
    })
}

pub fn sdp() -> impl Strategy<Value = LocalRemoteDescriptor> {
    let line = (
        prop::sample::select(vec!["v", "o", "c", "m", "a", "b", "t"]),
        value(),
    )
        .prop_map(|(n, v)| PropertyParm::new(n, &v));
    prop::collection::vec(prop::collection::vec(line, 1..5), 0..3)
        .prop_map(|groups| LocalRemoteDescriptor { groups })
}

pub fn media() -> impl Strategy<Value = MediaDescriptor> {
    let lc = (
        prop::option::of(prop::sample::select(vec![
            StreamMode::SendRecv,
            StreamMode::Inactive,
            StreamMode::Loopback,
        ])),
        prop::option::of(any::<bool>()),
        prop::collection::vec(prop_parm(), 0..3),
    )
        .prop_map(|(mode, rv, props)| LocalControlDescriptor {
            mode,
            reserve_group: None,
            reserve_value: rv,
            props,
        });
    let sp = (
        prop::option::of(lc),
        prop::option::of(sdp()),
        prop::option::of(sdp()),
    )
        .prop_map(|(local_control, local, remote)| StreamParms {
            local_control,
            local,
            remote,
            statistics: None,
        });
    (
        prop::option::of(prop::collection::vec(prop_parm(), 0..3)),
        prop::collection::vec((1u16..9, sp), 0..3),
    )
        .prop_map(|(ts, streams)| MediaDescriptor {
            termination_state: ts.map(|props| TerminationStateDescriptor {
                props,
                event_buffer_control: Some(EventBufferControl::Off),
                service_state: None,
            }),
            streams: (!streams.is_empty()).then(|| {
                Streams::Multi(
                    streams
                        .into_iter()
                        .map(|(id, parms)| StreamDescriptor { id, parms })
                        .collect(),
                )
            }),
        })
}

pub fn signal() -> impl Strategy<Value = Signal> {
    (
        prop::sample::select(vec!["cg/rt", "al/ri", "dg/d1", "p8f07/i0002"]),
        prop::option::of(1u16..9),
        prop::option::of(prop::sample::subsequence(
            vec![
                NotifyCompletion::OnTimeOut,
                NotifyCompletion::OnInterruptByEvent,
                NotifyCompletion::OtherReason,
                NotifyCompletion::Iteration,
            ],
            0..4,
        )),
        any::<bool>(),
        prop::collection::vec((0u16..0xfffe, value()), 0..2),
    )
        .prop_map(|(n, stream, nc, ka, params)| {
            let mut s = Signal::new(n);
            s.stream = stream;
            s.notify_completion = nc;
            s.keep_active = ka;
            s.params = params
                .into_iter()
                .map(|(i, v)| PropertyParm::new(&format!("i{i:04x}"), &v))
                .collect();
            s
        })
}

pub fn events() -> impl Strategy<Value = EventsDescriptor> {
    let ev = (
        prop::sample::select(vec!["al/on", "g/cause", "dd/ce", "p8f02/i0002"]),
        any::<bool>(),
        prop::option::of(0u8..10),
        prop::option::of(prop::collection::vec(signal(), 0..2)),
        prop::collection::vec((0u16..0xfffe, value()), 0..2),
    )
        .prop_map(|(n, ka, dm, emb, params)| {
            let mut e = RequestedEvent::new(n);
            e.keep_active = ka;
            e.digit_map = dm.map(|d| DigitMapDescriptor {
                name: Some(format!("dialplan0{d}")),
                value: None,
            });
            e.embed_signals = emb.map(|v| v.into_iter().map(SignalsItem::Signal).collect());
            e.params = params
                .into_iter()
                .map(|(i, v)| PropertyParm::new(&format!("i{i:04x}"), &v))
                .collect();
            e
        });
    (
        prop::option::of(any::<u32>()),
        prop::collection::vec(ev, 0..3),
    )
        .prop_map(|(request_id, events)| EventsDescriptor { request_id, events })
}

pub fn audit() -> impl Strategy<Value = AuditDescriptor> {
    prop::sample::subsequence(
        vec![
            AuditItem::Mux,
            AuditItem::Media,
            AuditItem::Events,
            AuditItem::Statistics,
            AuditItem::Packages,
        ],
        0..5,
    )
    .prop_map(|items| AuditDescriptor {
        items,
        ind_aud: Vec::new(),
    })
}

pub fn command() -> impl Strategy<Value = Command> {
    let amm = (
        tids(),
        prop::collection::vec(
            prop_oneof![
                media().prop_map(AmmDescriptor::Media),
                events().prop_map(AmmDescriptor::Events),
                prop::collection::vec(signal().prop_map(SignalsItem::Signal), 0..3)
                    .prop_map(AmmDescriptor::Signals),
                audit().prop_map(AmmDescriptor::Audit),
            ],
            0..3,
        ),
    )
        .prop_map(|(termination_ids, descriptors)| AmmRequest {
            termination_ids,
            descriptors,
        })
        .boxed();
    prop_oneof![
        amm.clone().prop_map(Command::Add),
        amm.prop_map(Command::Modify),
        (tids(), prop::option::of(audit())).prop_map(|(termination_ids, audit)| {
            Command::Subtract(SubtractRequest {
                termination_ids,
                audit,
            })
        }),
        (tids(), audit()).prop_map(|(termination_ids, a)| Command::AuditValue(AuditRequest {
            termination_ids,
            audit: Some(a),
        })),
        (
            tids(),
            "[a-z0-9 ]{0,10}",
            prop::collection::vec(prop_parm(), 0..2)
        )
            .prop_map(|(termination_ids, reason, mut ext)| {
                for (i, e) in ext.iter_mut().enumerate() {
                    e.name = format!("x-e{i}").into();
                }
                Command::ServiceChange(ServiceChangeRequest {
                    termination_ids,
                    parms: Box::new(ServiceChangeParm {
                        method: ServiceChangeMethod::Restart,
                        address: None,
                        version: Some(3),
                        profile: Some(ServiceChangeProfile {
                            name: "resgw".into(),
                            version: 1,
                        }),
                        reason: Some(reason),
                        delay: None,
                        mgc_id: None,
                        timestamp: None,
                        extensions: ext,
                        info: None,
                        incomplete: false,
                    }),
                })
            }),
    ]
}

pub fn reply() -> impl Strategy<Value = CommandReply> {
    let ret = prop_oneof![
        media().prop_map(AuditReturnParameter::Media),
        prop::sample::select(vec![
            AuditItem::Media,
            AuditItem::Events,
            AuditItem::Packages
        ])
        .prop_map(AuditReturnParameter::Empty),
    ];
    (tids(), prop::collection::vec(ret, 0..4)).prop_map(|(termination_ids, mut audit)| {
        // Consecutive empty descriptors are one BIT STRING: generate them in bit order.
        let mut i = 0;
        while i < audit.len() {
            let mut j = i;
            while j < audit.len() && matches!(audit[j], AuditReturnParameter::Empty(_)) {
                j += 1;
            }
            let run: &mut [AuditReturnParameter] = &mut audit[i..j];
            run.sort_by_key(|x| match x {
                AuditReturnParameter::Empty(AuditItem::Media) => 0,
                AuditReturnParameter::Empty(AuditItem::Events) => 1,
                _ => 2,
            });
            i = j.max(i + 1);
        }
        audit.dedup();
        CommandReply::AuditValue(AuditReply::AuditResult {
            termination_ids,
            audit,
        })
    })
}

pub fn message() -> impl Strategy<Value = Message> {
    let mid = prop_oneof![
        (any::<[u8; 4]>(), prop::option::of(any::<u16>())).prop_map(|(a, port)| MId::Ip4 {
            addr: a.into(),
            port
        }),
        (any::<[u8; 16]>(), prop::option::of(any::<u16>())).prop_map(|(a, port)| MId::Ip6 {
            addr: a.into(),
            port
        }),
        "[a-z]{1,8}\\.example\\.net".prop_map(|name| MId::Domain {
            name: name.into(),
            port: None
        }),
        any::<[u8; 3]>().prop_map(|b| MId::Mtp(b.iter().map(|x| format!("{x:02x}")).collect())),
    ];
    let request = (any::<u32>(), prop::collection::vec(command(), 1..3)).prop_map(|(id, cmds)| {
        Transaction::Request(TransactionRequest {
            id,
            actions: vec![ActionRequest {
                context: ContextId::Id(7),
                context_request: None,
                context_audit: None,
                commands: cmds
                    .into_iter()
                    .map(|command| CommandRequest {
                        command,
                        optional: false,
                        wildcard_return: false,
                    })
                    .collect(),
            }],
        })
    });
    let reply = (any::<u32>(), prop::collection::vec(reply(), 1..3)).prop_map(|(id, commands)| {
        Transaction::Reply(TransactionReply {
            id,
            imm_ack_required: false,
            result: TransactionResult::Actions(vec![ActionReply {
                context: ContextId::Choose,
                error: None,
                context_reply: None,
                commands,
            }]),
            segment_number: None,
            segmentation_complete: false,
        })
    });
    (
        mid,
        prop::collection::vec(prop_oneof![request, reply], 1..3),
    )
        .prop_map(|(mid, ts)| Message {
            auth: None,
            version: 3,
            mid,
            body: MessageBody::Transactions(ts.into()),
        })
}

/// A generated message broken by one to three [`spoil`]s: the BER encoder refuses most of them
/// (a few spoils find nothing to break in a given model, one adds something BER can carry).
pub fn spoiled_message() -> impl Strategy<Value = Message> {
    (
        message(),
        prop::collection::vec((0u8..SPOILS, any::<usize>()), 1..4),
    )
        .prop_map(|(mut m, spoils)| {
            for (kind, which) in spoils {
                spoil(&mut m, kind, which);
            }
            m
        })
}

/// How many kinds of [`spoil`] there are.
pub const SPOILS: u8 = 19;

/// Breaks `m` in way `kind` (0..SPOILS), at the `which`-th place (modulo the places there are):
/// a model element BER cannot express (non-ASCII IA5String, MTP address too long, termination
/// ID no mapping rule matches, names without binary ID, extension ServiceChange method, bad
/// extension parameter, digit map name, an audit without termination ID, ...).
pub fn spoil(m: &mut Message, kind: u8, which: usize) {
    fn pick<T>(mut v: Vec<&mut T>, which: usize) -> Option<&mut T> {
        if v.is_empty() {
            return None;
        }
        let i = which % v.len();
        Some(v.swap_remove(i))
    }
    match kind {
        0 => {
            m.mid = MId::Domain {
                name: "h\u{f6}st.example.net".into(),
                port: None,
            }
        }
        1 => m.mid = MId::Mtp("123456789".into()),
        2 => m.mid = MId::Device("dev\u{e9}/1".into()),
        3 => {
            if let Some(t) = pick(tids_of(m), which) {
                *t = TerminationId::new("tdm/1");
            }
        }
        4 => {
            if let Some(p) = pick(props_of(m), which) {
                p.name = "foo/bar".into();
            }
        }
        5 => {
            if let Some(e) = pick(events_of(m), which) {
                e.name = "zz/zz".into();
            }
        }
        6 => {
            if let Some(e) = pick(events_of(m), which) {
                e.params.push(PropertyParm::new("nope", "1"));
            }
        }
        7 => {
            if let Some(s) = pick(signals_of(m), which) {
                s.name = "qq/qq".into();
            }
        }
        8 => {
            if let Some(s) = pick(signals_of(m), which) {
                s.params.push(PropertyParm::new("nope", "1"));
            }
        }
        9 => {
            if let Some(p) = pick(sc_parms_of(m), which) {
                p.method = ServiceChangeMethod::Extension("x-foo".into());
            }
        }
        10 => {
            if let Some(p) = pick(sc_parms_of(m), which) {
                p.extensions.push(PropertyParm::new("x=bad", "1"));
            }
        }
        11 => {
            if let Some(e) = pick(events_of(m), which) {
                e.digit_map = Some(DigitMapDescriptor {
                    name: Some("dialplanabc".into()),
                    value: None,
                });
            }
        }
        12 => {
            // An audit without termination IDs (request or reply).
            let mut lists: Vec<&mut TermIds> = Vec::new();
            for t in transactions(m) {
                match t {
                    Transaction::Request(r) => {
                        for c in r.actions.iter_mut().flat_map(|a| &mut a.commands) {
                            if let Command::AuditValue(a) = &mut c.command {
                                lists.push(&mut a.termination_ids);
                            }
                        }
                    }
                    Transaction::Reply(r) => {
                        if let TransactionResult::Actions(acts) = &mut r.result {
                            for c in acts.iter_mut().flat_map(|a| &mut a.commands) {
                                if let CommandReply::AuditValue(AuditReply::AuditResult {
                                    termination_ids,
                                    ..
                                }) = c
                                {
                                    lists.push(termination_ids);
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            if let Some(l) = pick(lists, which) {
                l.clear();
            }
        }
        // Two errors where the reference meets them in another order than it writes the
        // octets: the first one must be the one reported.
        14 => {
            // RequestedActions before the event name.
            if let Some(e) = pick(events_of(m), which) {
                e.name = "zz/zz".into();
                if which % 2 == 0 {
                    e.digit_map = Some(DigitMapDescriptor {
                        name: Some("dialplanabc".into()),
                        value: None,
                    });
                } else {
                    let mut s = Signal::new("qq/qq");
                    s.keep_active = true;
                    e.embed_signals = Some(vec![SignalsItem::Signal(s)]);
                }
            }
        }
        15 => {
            // ServiceChange extensions before the profile, the method before both.
            if let Some(p) = pick(sc_parms_of(m), which) {
                p.profile = Some(ServiceChangeProfile {
                    name: "r\u{e9}sgw".into(),
                    version: 1,
                });
                p.extensions.push(PropertyParm::new("x,bad", "1"));
                if which % 2 == 0 {
                    p.method = ServiceChangeMethod::Extension("x-foo".into());
                }
            }
        }
        16 => {
            // An individual Media audit: its streams before its TerminationState.
            let bad_state = IndAudTerminationState {
                service_state_sel: Some((false, ServiceState::InSvc)),
                ..Default::default()
            };
            let bad_stream = IndAudStreamParms {
                local_control: Some(IndAudLocalControl {
                    mode_sel: Some((false, StreamMode::SendRecv)),
                    ..Default::default()
                }),
                ..Default::default()
            };
            let media = match which % 3 {
                0 => IndAudMediaDescriptor {
                    termination_state: Some(bad_state),
                    stream_parms: Some(IndAudStreamParms::default()),
                    streams: vec![(1, IndAudStreamParms::default())],
                },
                1 => IndAudMediaDescriptor {
                    termination_state: Some(bad_state),
                    stream_parms: Some(bad_stream),
                    streams: Vec::new(),
                },
                _ => IndAudMediaDescriptor {
                    termination_state: Some(bad_state),
                    stream_parms: None,
                    streams: vec![(2, IndAudStreamParms::default()), (3, bad_stream)],
                },
            };
            add_descriptor(
                m,
                which,
                AmmDescriptor::Audit(AuditDescriptor {
                    items: Vec::new(),
                    ind_aud: vec![IndAuditParameter::Media(media)],
                }),
            );
        }
        17 => {
            // Embedded events that embed events again, after a bad digit map.
            if let Some(e) = pick(events_of(m), which) {
                let mut inner = RequestedEvent::new("al/on");
                inner.embed_events = Some(Box::new(EventsDescriptor {
                    request_id: Some(1),
                    events: vec![RequestedEvent::new("al/of")],
                }));
                e.embed_events = Some(Box::new(EventsDescriptor {
                    request_id: Some(2),
                    events: vec![inner],
                }));
                if which % 2 == 0 {
                    e.digit_map = Some(DigitMapDescriptor {
                        name: Some("nodialplan".into()),
                        value: None,
                    });
                }
            }
        }
        18 => {
            // An audited Local/Remote: fine with one group, refused with two.
            let group = vec![
                PropertyParm::new("v", ""),
                PropertyParm::new("o", "- 1 1 IN IP4 a"),
            ];
            let mut groups = vec![group];
            if which % 2 == 1 {
                groups.push(vec![PropertyParm::new("v", "0")]);
            }
            let mut local = LocalRemoteDescriptor { groups };
            local.groups[0][0].value.clear();
            let media = IndAudMediaDescriptor {
                stream_parms: Some(IndAudStreamParms {
                    local: Some(local.clone()),
                    remote: Some(local),
                    ..Default::default()
                }),
                ..Default::default()
            };
            add_descriptor(
                m,
                which,
                AmmDescriptor::Audit(AuditDescriptor {
                    items: Vec::new(),
                    ind_aud: vec![IndAuditParameter::Media(media)],
                }),
            );
        }
        _ => {
            // Descriptors that have no ASN.1 form, added to an Add/Modify.
            {
                let d = match which % 3 {
                    0 => AmmDescriptor::Audit(AuditDescriptor {
                        items: Vec::new(),
                        ind_aud: vec![IndAuditParameter::Signals(None)],
                    }),
                    1 => AmmDescriptor::DigitMap(DigitMapDescriptor {
                        name: None,
                        value: Some(DigitMapValue {
                            start_timer: Some(3),
                            short_timer: None,
                            long_timer: None,
                            duration_timer: None,
                            body: "(0s|\u{e4})".into(),
                        }),
                    }),
                    _ => AmmDescriptor::Modem(ModemDescriptor {
                        types: vec!["v34".into(), "v99".into()],
                        props: Vec::new(),
                    }),
                };
                add_descriptor(m, which, d);
            }
        }
    }
}

/// Puts `d` among the descriptors of one of the Add/Move/Modify commands, if there is one.
fn add_descriptor(m: &mut Message, which: usize, d: AmmDescriptor) {
    let amms: Vec<&mut AmmRequest> = walk(m)
        .0
        .into_iter()
        .filter_map(|c| match c {
            Command::Add(a) | Command::Modify(a) | Command::Move(a) => Some(a),
            _ => None,
        })
        .collect();
    if amms.is_empty() {
        return;
    }
    let n = amms.len();
    let a = amms.into_iter().nth(which % n).expect("in range");
    let at = which % (a.descriptors.len() + 1);
    a.descriptors.insert(at, d);
}

fn transactions(m: &mut Message) -> Vec<&mut Transaction> {
    match &mut m.body {
        MessageBody::Transactions(ts) => ts.iter_mut().collect(),
        MessageBody::Error(_) => Vec::new(),
    }
}

/// The commands and command replies of `m`, in one walk.
fn walk(m: &mut Message) -> (Vec<&mut Command>, Vec<&mut CommandReply>) {
    let (mut cmds, mut reps) = (Vec::new(), Vec::new());
    for t in transactions(m) {
        match t {
            Transaction::Request(r) => {
                for a in &mut r.actions {
                    cmds.extend(a.commands.iter_mut().map(|c| &mut c.command));
                }
            }
            Transaction::Reply(r) => {
                if let TransactionResult::Actions(acts) = &mut r.result {
                    for a in acts {
                        reps.extend(a.commands.iter_mut());
                    }
                }
            }
            _ => {}
        }
    }
    (cmds, reps)
}

fn tids_of(m: &mut Message) -> Vec<&mut TerminationId> {
    let (cmds, reps) = walk(m);
    let mut out: Vec<&mut TerminationId> = Vec::new();
    for r in reps {
        if let CommandReply::AuditValue(AuditReply::AuditResult {
            termination_ids, ..
        }) = r
        {
            out.extend(termination_ids.iter_mut());
        }
    }
    for c in cmds {
        match c {
            Command::Add(a) | Command::Modify(a) | Command::Move(a) => {
                out.extend(a.termination_ids.iter_mut())
            }
            Command::Subtract(s) => out.extend(s.termination_ids.iter_mut()),
            Command::AuditValue(a) | Command::AuditCapabilities(a) => {
                out.extend(a.termination_ids.iter_mut())
            }
            Command::ServiceChange(s) => out.extend(s.termination_ids.iter_mut()),
            Command::Notify(n) => out.extend(n.termination_ids.iter_mut()),
        }
    }
    out
}

/// The descriptors of the Add/Move/Modify commands.
fn amm_descriptors(m: &mut Message) -> Vec<&mut AmmDescriptor> {
    let mut out = Vec::new();
    for c in walk(m).0 {
        if let Command::Add(a) | Command::Modify(a) | Command::Move(a) = c {
            out.extend(a.descriptors.iter_mut());
        }
    }
    out
}

fn medias(m: &mut Message) -> Vec<&mut MediaDescriptor> {
    let (cmds, reps) = walk(m);
    let mut out: Vec<&mut MediaDescriptor> = Vec::new();
    for r in reps {
        if let CommandReply::AuditValue(AuditReply::AuditResult { audit, .. }) = r {
            for p in audit {
                if let AuditReturnParameter::Media(md) = p {
                    out.push(md);
                }
            }
        }
    }
    for c in cmds {
        if let Command::Add(a) | Command::Modify(a) | Command::Move(a) = c {
            for d in &mut a.descriptors {
                if let AmmDescriptor::Media(md) = d {
                    out.push(md);
                }
            }
        }
    }
    out
}

fn props_of(m: &mut Message) -> Vec<&mut PropertyParm> {
    let mut out = Vec::new();
    for md in medias(m) {
        if let Some(ts) = &mut md.termination_state {
            out.extend(ts.props.iter_mut());
        }
        let parms: Vec<&mut StreamParms> = match &mut md.streams {
            None => Vec::new(),
            Some(Streams::One(sp)) => vec![sp],
            Some(Streams::Multi(v)) => v.iter_mut().map(|s| &mut s.parms).collect(),
        };
        for sp in parms {
            if let Some(lc) = &mut sp.local_control {
                out.extend(lc.props.iter_mut());
            }
            for l in [&mut sp.local, &mut sp.remote].into_iter().flatten() {
                out.extend(l.groups.iter_mut().flatten());
            }
        }
    }
    out
}

fn events_of(m: &mut Message) -> Vec<&mut RequestedEvent> {
    let mut out = Vec::new();
    for d in amm_descriptors(m) {
        if let AmmDescriptor::Events(ev) = d {
            out.extend(ev.events.iter_mut());
        }
    }
    out
}

fn signals_of(m: &mut Message) -> Vec<&mut Signal> {
    let mut out: Vec<&mut Signal> = Vec::new();
    for d in amm_descriptors(m) {
        let items: Vec<&mut SignalsItem> = match d {
            AmmDescriptor::Signals(items) => items.iter_mut().collect(),
            AmmDescriptor::Events(ev) => ev
                .events
                .iter_mut()
                .flat_map(|e| e.embed_signals.iter_mut().flatten())
                .collect(),
            _ => Vec::new(),
        };
        for item in items {
            if let SignalsItem::Signal(s) = item {
                out.push(s);
            }
        }
    }
    out
}

fn sc_parms_of(m: &mut Message) -> Vec<&mut ServiceChangeParm> {
    walk(m)
        .0
        .into_iter()
        .filter_map(|c| match c {
            Command::ServiceChange(s) => Some(&mut *s.parms),
            _ => None,
        })
        .collect()
}
