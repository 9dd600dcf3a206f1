//! Generated models BER can express in canonical form (names with binary IDs or in
//! `pXXXX/iXXXX` form, termination IDs of the default mapping, audit tokens and completion
//! reasons in bit order, `dialplanDD` digit map names): `ber_proptest.rs` and `ber_direct.rs`.

use iq_codec::model::*;
use proptest::prelude::*;

fn tid() -> impl Strategy<Value = TerminationId> {
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

fn tids() -> impl Strategy<Value = Vec<TerminationId>> {
    prop::collection::vec(tid(), 1..3)
}

fn value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .:/=-]{0,12}"
}

fn prop_name() -> impl Strategy<Value = String> {
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

fn extra() -> impl Strategy<Value = (Vec<String>, Option<ExtraInfo>)> {
    prop_oneof![
        value().prop_map(|v| (vec![v], None)),
        value().prop_map(|v| (vec![v], Some(ExtraInfo::Relation(Relation::UnequalTo)))),
        (value(), value()).prop_map(|(a, b)| (vec![a, b], Some(ExtraInfo::Range(true)))),
        prop::collection::vec(value(), 1..4).prop_map(|v| (v, Some(ExtraInfo::Sublist(false)))),
    ]
}

fn prop_parm() -> impl Strategy<Value = PropertyParm> {
    (prop_name(), extra()).prop_map(|(name, (value, extra))| PropertyParm {
        name: name.into(),
        value: value.into_iter().map(Text::from).collect(),
        extra,
    })
}

fn sdp() -> impl Strategy<Value = LocalRemoteDescriptor> {
    let line = (
        prop::sample::select(vec!["v", "o", "c", "m", "a", "b", "t"]),
        value(),
    )
        .prop_map(|(n, v)| PropertyParm::new(n, &v));
    prop::collection::vec(prop::collection::vec(line, 1..5), 0..3)
        .prop_map(|groups| LocalRemoteDescriptor { groups })
}

fn media() -> impl Strategy<Value = MediaDescriptor> {
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

fn signal() -> impl Strategy<Value = Signal> {
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

fn events() -> impl Strategy<Value = EventsDescriptor> {
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

fn audit() -> impl Strategy<Value = AuditDescriptor> {
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

fn command() -> impl Strategy<Value = Command> {
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
                    parms: ServiceChangeParm {
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
                    },
                })
            }),
    ]
}

fn reply() -> impl Strategy<Value = CommandReply> {
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
            body: MessageBody::Transactions(ts),
        })
}
