//! Property tests of the text codec.
//!
//! 1. `decode(encode(m, style)) == m` for arbitrary models `m` restricted to what the text form
//!    can say canonically (pretty and compact).
//! 2. For every message of `tests/corpus/*.txt`, `encode(decode(t))` is a fixed point of
//!    `encode . decode`, in both styles.
//!
//! Restrictions of the generator (each one a limitation of the Annex B text form, or of the
//! normalisation the decoder does by design; see the model's module doc):
//!
//! * names (package/item, termination IDs, domain and device names, digit map names, modem
//!   types, profile names) are generated in lower case: the decoder folds them;
//! * termination IDs are ABNF `pathNAME`s (start with a letter), `ROOT`, `$` or `*`;
//! * bare (package-less) names and parameter names are never spelled like a keyword (`Mode`,
//!   `Stream`, `KeepActive`, `ServiceStates`, ...): where the keyword takes the same `= value`
//!   form in the same place, the text is ambiguous (`LocalControl { Mode = SO }`);
//! * quoted strings (values, error text) contain no `"`;
//! * SDP lines are `name=value`, the value without CR/LF and without trailing white space, one
//!   value and no `extra`; every session group but the first starts with `v=`, and no `v=` line
//!   appears elsewhere (the decoder starts a group at each `v=` line);
//! * a `PropertyParm` with `extra: None` or a `Relation` has exactly one value, `Range` is
//!   `Range(true)` with two values, sublists have at least one value;
//! * lists that the ABNF requires to be non-empty are non-empty (actions of a request, action
//!   replies, command lists of an action, termination ID lists, events of an `Events = id {..}`,
//!   observed events, signal lists, `NotifyCompletion`, LocalControl, TerminationState,
//!   `ContextAudit`, returned descriptors of a command reply, `Packages`, statistic values,
//!   ResponseAck ranges, mux terminations, modem types);
//! * optional descriptors/properties that would be written as nothing are `None` rather than
//!   `Some(empty)` (`context_request`, `context_reply`, `Streams::One(empty)`,
//!   `Streams::Multi(vec![])`, `ServiceChangeParm::info` without items);
//! * `Events` without a request ID has no events;
//! * in a reply's returned descriptors, `Events`, `Signals` and `EventBuffer` are never
//!   `Empty(..)` (the bare token decodes as the empty descriptor) and an empty `Statistics` is
//!   `Empty(Statistics)`;
//! * an individual `DigitMap` audit has a name (`DigitMap` alone is the `AuditItem`);
//! * an individual audit `Stream = n { .. }` carries exactly one stream parameter (ABNF
//!   `indAudstreamDescriptor`);
//! * a reply's `segmentation_complete` is only set with a `segment_number`;
//! * context IDs `Id(n)` are in `1..=0xFFFFFFFD` (0, `$` and `*` have their own variants);
//! * numbers that the text form writes with at most two digits (`Version`, digit map timers)
//!   are at most 99; error codes at most 999; message version 1..=3; MTP addresses 4..8 hex
//!   digits (lower case); auth data 12..=32 octets; time stamps are 8+8 digits;
//! * embedded events nest at most two levels (the decoder bounds nesting).
//!
//! Keyword-spelled names (termination IDs `c`, `context`, `st`, `er`, ...; ContextAudit property
//! names `ct`), and individual audits in `ServiceChangeParm::info`, are generated on purpose:
//! they once broke the codec (keywords double as names in Annex B).

use iq_codec::model::*;
use iq_codec::text::{decode, encode, Style};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// Generate keyword-spelled names and ServiceChange individual audits (see the module docs).
fn known_bugs() -> bool {
    true
}

// ------------------------------------------------------------------------------------------------
// Names and values

/// Every keyword spelling of Annex B (long, short, alias), lower case, and `root`.
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "add", "a", "andlgc", "anslgc", "audit", "at", "auditcapability", "ac", "auditvalue", "av",
    "authentication", "au", "both", "b", "bothway", "bw", "brief", "br", "buffer", "bf", "context",
    "c", "contextaudit", "ca", "contextattr", "ct", "contextlist", "clt", "digitmap", "dm",
    "spadirection", "spadi", "direction", "disconnected", "dc", "delay", "dl", "duration", "dr",
    "embed", "em", "emergency", "eg", "emergencyoff", "ego", "emergencyofftoken", "emergencyvalue",
    "egv", "error", "er", "eventbuffer", "eb", "events", "e", "external", "ex", "failover", "fl",
    "forced", "fo", "graceful", "gr", "handoff", "ho", "iepscall", "ieps", "immackrequired", "ia",
    "inactive", "in", "internal", "it", "intersignal", "spais", "intbyevent", "ibe",
    "intbysigdescr", "ibs", "isolate", "is", "inservice", "iv", "iteration", "ir", "keepactive",
    "ka", "local", "l", "localcontrol", "o", "lockstep", "sp", "loopback", "lb", "media", "m",
    "megaco", "segment", "sm", "method", "mt", "mgcidtotry", "mg", "mode", "mo", "modify", "mf",
    "modem", "md", "move", "mv", "mtp", "mux", "mx", "nevernotify", "nbnn", "notify", "n",
    "notifycompletion", "nc", "immediatenotify", "nbin", "regulatednotify", "nbrn", "nx64kservice",
    "n64", "observedevents", "oe", "off", "oneway", "ow", "onewayboth", "owb", "onewayexternal",
    "owe", "onoff", "oo", "orlgc", "on", "otherreason", "or", "outofservice", "os", "packages",
    "pg", "pending", "pn", "priority", "pr", "profile", "pf", "reason", "re", "receiveonly", "rc",
    "reply", "p", "reseteventsdescriptor", "rse", "restart", "rs", "remote", "r", "sparequestid",
    "sparq", "requestid", "reservedgroup", "rg", "reservedvalue", "rv", "end", "sendonly", "so",
    "sendreceive", "sr", "services", "sv", "servicestates", "si", "servicechange", "sc",
    "servicechangeaddress", "ad", "servicechangeinc", "sic", "signallist", "sl", "signals", "sg",
    "signaltype", "sy", "statistics", "sa", "stream", "st", "subtract", "s", "terminationstate",
    "ts", "test", "te", "timeout", "to", "topology", "tp", "transaction", "t",
    "transactionresponseack", "k", "version", "v", "h221", "h223", "h226", "v76", "root",
];

fn not_keyword(s: &str) -> bool {
    !KEYWORDS.contains(&s.to_ascii_lowercase().as_str())
}

/// NAME = ALPHA *(ALPHA / DIGIT / "_"), lower case, not a keyword.
fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,7}".prop_filter("keyword", |s| not_keyword(s))
}

/// A name that may be a keyword (only used where the text form cannot confuse it).
fn any_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,7}"
}

/// pkgdName: `pkg/item` (either part may be `*`) or a bare non-keyword name.
fn pkgd_name() -> impl Strategy<Value = Text> {
    prop_oneof![
        6 => (any_name(), any_name()).prop_map(|(p, i)| format!("{p}/{i}")),
        1 => any_name().prop_map(|i| format!("*/{i}")),
        1 => any_name().prop_map(|p| format!("{p}/*")),
        2 => name(),
    ]
    .prop_map(Text::from)
}

/// A value: unquoted SafeChars (lower case) or a quoted string (any case, no `"`).
fn value() -> impl Strategy<Value = Text> {
    prop_oneof![
        3 => "[a-z0-9+&!_/'?@^`~*$\\\\()%|.-]{1,10}",
        1 => "[0-9]{1,5}",
        2 => "[ -!#-~\té]{0,12}",
    ]
    .prop_map(Text::from)
}

/// Quoted-string text (error text).
fn quoted_text() -> impl Strategy<Value = String> {
    "[ -!#-~\té]{0,20}"
}

fn property_parm_named(n: BoxedStrategy<Text>) -> impl Strategy<Value = PropertyParm> {
    let rel = prop_oneof![
        Just(Relation::GreaterThan),
        Just(Relation::SmallerThan),
        Just(Relation::UnequalTo)
    ];
    let form = prop_oneof![
        4 => value().prop_map(|v| (vec![v], None)),
        1 => (rel, value()).prop_map(|(r, v)| (vec![v], Some(ExtraInfo::Relation(r)))),
        1 => (value(), value()).prop_map(|(a, b)| (vec![a, b], Some(ExtraInfo::Range(true)))),
        1 => vec(value(), 1..4).prop_map(|v| (v, Some(ExtraInfo::Sublist(true)))),
        1 => vec(value(), 1..4).prop_map(|v| (v, Some(ExtraInfo::Sublist(false)))),
    ];
    (n, form).prop_map(|(name, (value, extra))| PropertyParm {
        name,
        value: value.into(),
        extra,
    })
}

/// A package property.
fn pkg_prop() -> impl Strategy<Value = PropertyParm> {
    property_parm_named(pkgd_name().boxed())
}

/// An event or signal parameter (NAME, not a keyword).
fn param() -> impl Strategy<Value = PropertyParm> {
    property_parm_named(name().prop_map(Text::from).boxed())
}

/// TerminationID: ROOT, `$`, `*` or a pathNAME with optional wildcards. IDs spelled like a
/// keyword (`c`, `st`, `er`, ...) are valid pathNAMEs that the codec mishandles in a few places
/// (suspected bugs, reported): generated only with `IQ_PROPTEST_KNOWN_BUGS=1`.
fn termination_id() -> BoxedStrategy<TerminationId> {
    let seg = prop_oneof![
        4 => "[a-z0-9_]{1,5}",
        1 => Just("$".to_string()),
        1 => Just("*".to_string()),
    ];
    let normal = prop_oneof![
        1 => Just(TerminationId::root()),
        1 => Just(TerminationId("$".into())),
        1 => Just(TerminationId("*".into())),
        8 => (name(), vec(seg, 0..4), option::weighted(0.1, domain_name()))
            .prop_map(|(first, rest, domain)| {
                let mut s = first;
                for r in rest {
                    s.push('/');
                    s.push_str(&r);
                }
                if let Some(d) = domain {
                    s.push('@');
                    s.push_str(&d);
                }
                TerminationId(s.into())
            }),
    ]
    .boxed();
    if known_bugs() {
        prop_oneof![
            4 => normal,
            1 => prop::sample::select(KEYWORDS).prop_map(|k| TerminationId(k.to_string().into())),
        ]
        .boxed()
    } else {
        normal
    }
}

fn tids() -> impl Strategy<Value = TermIds> {
    vec(termination_id(), 1..4).prop_map(TermIds::from_vec)
}

fn context_id() -> impl Strategy<Value = ContextId> {
    prop_oneof![
        Just(ContextId::Null),
        Just(ContextId::Choose),
        Just(ContextId::All),
        (1u32..=0xFFFF_FFFD).prop_map(ContextId::Id),
        (1u32..=20).prop_map(ContextId::Id),
    ]
}

fn request_id() -> impl Strategy<Value = u32> {
    prop_oneof![3 => any::<u32>(), 1 => Just(u32::MAX), 2 => 0u32..100]
}

fn time_notation() -> impl Strategy<Value = TimeNotation> {
    ("[0-9]{8}", "[0-9]{8}").prop_map(|(date, time)| TimeNotation {
        date: date.into(),
        time: time.into(),
    })
}

fn error_descriptor() -> impl Strategy<Value = ErrorDescriptor> {
    (0u16..=999, option::of(quoted_text())).prop_map(|(code, text)| ErrorDescriptor { code, text })
}

// ------------------------------------------------------------------------------------------------
// mIds

fn domain_name() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,8}(\\.[a-z0-9-]{1,8}){0,3}"
}

fn device_name() -> impl Strategy<Value = Text> {
    "[a-z][a-z0-9_]{0,6}(/[a-z0-9_$*]{1,4}){0,2}".prop_map(Text::from)
}

fn mid() -> impl Strategy<Value = MId> {
    prop_oneof![
        (any::<u32>(), option::of(any::<u16>())).prop_map(|(a, port)| MId::Ip4 {
            addr: Ipv4Addr::from(a),
            port
        }),
        (any::<u128>(), option::of(any::<u16>())).prop_map(|(a, port)| MId::Ip6 {
            addr: Ipv6Addr::from(a),
            port
        }),
        (any::<u32>(), option::of(any::<u16>())).prop_map(|(a, port)| MId::Ip6 {
            addr: Ipv4Addr::from(a).to_ipv6_mapped(),
            port
        }),
        (domain_name(), option::of(any::<u16>())).prop_map(|(name, port)| MId::Domain {
            name: name.into(),
            port
        }),
        device_name().prop_map(MId::Device),
        "[0-9a-f]{4,8}".prop_map(|m| MId::Mtp(m.into())),
    ]
}

// ------------------------------------------------------------------------------------------------
// Descriptors

fn sdp_line_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop_oneof![
            Just("o"), Just("s"), Just("c"), Just("t"), Just("m"), Just("a"), Just("b"),
            Just("i"), Just("e"), Just("k")
        ]
        .prop_map(str::to_string),
        1 => "[a-zA-Z0-9_-]{1,4}".prop_filter("v starts a group", |s| s != "v"),
    ]
}

/// The rest of an SDP line: no CR/LF, no trailing white space.
fn sdp_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{0,30}",
        1 => "[ -~\té]{0,10}[{}\\\\]{1,3}[ -~]{0,5}",
    ]
    .prop_map(|s| s.trim_end_matches([' ', '\t']).to_string())
}

fn sdp_group(first: bool) -> impl Strategy<Value = Vec<PropertyParm>> {
    let line = (sdp_line_name(), sdp_value()).prop_map(|(n, v)| PropertyParm {
        name: n.into(),
        value: one_value(v),
        extra: None,
    });
    let lead = if first { 0..2usize } else { 1..2usize };
    (lead, "[0-9]{1,2}", vec(line, 0..6)).prop_filter_map("empty group", |(lead, v0, rest)| {
        let mut g = Vec::new();
        if lead == 1 {
            g.push(PropertyParm::new("v", &v0));
        }
        g.extend(rest);
        (!g.is_empty()).then_some(g)
    })
}

fn local_remote() -> impl Strategy<Value = LocalRemoteDescriptor> {
    (
        option::weighted(0.9, sdp_group(true)),
        vec(sdp_group(false), 0..2),
    )
        .prop_map(|(first, rest)| {
            let mut groups = Vec::new();
            if let Some(g) = first {
                groups.push(g);
                groups.extend(rest);
            }
            LocalRemoteDescriptor { groups }
        })
}

fn stream_mode() -> impl Strategy<Value = StreamMode> {
    prop_oneof![
        Just(StreamMode::SendOnly),
        Just(StreamMode::RecvOnly),
        Just(StreamMode::SendRecv),
        Just(StreamMode::Inactive),
        Just(StreamMode::Loopback),
    ]
}

fn service_state() -> impl Strategy<Value = ServiceState> {
    prop_oneof![
        Just(ServiceState::Test),
        Just(ServiceState::OutOfSvc),
        Just(ServiceState::InSvc)
    ]
}

fn statistics() -> impl Strategy<Value = Vec<StatisticsParameter>> {
    vec(
        (pkgd_name(), option::of(vec(value(), 1..4))).prop_map(|(name, value)| {
            StatisticsParameter {
                name,
                value: value.map(Values::from),
            }
        }),
        0..4,
    )
}

fn local_control() -> impl Strategy<Value = LocalControlDescriptor> {
    (
        option::of(stream_mode()),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        vec(pkg_prop(), 0..3),
    )
        .prop_map(
            |(mode, reserve_group, reserve_value, props)| LocalControlDescriptor {
                mode,
                reserve_group,
                reserve_value,
                props,
            },
        )
        .prop_filter("LocalControl needs an item", |lc| {
            *lc != LocalControlDescriptor::default()
        })
}

fn stream_parms() -> impl Strategy<Value = StreamParms> {
    (
        option::of(local_control()),
        option::of(local_remote()),
        option::of(local_remote()),
        option::weighted(0.3, statistics()),
    )
        .prop_map(|(local_control, local, remote, statistics)| StreamParms {
            local_control,
            local,
            remote,
            statistics,
        })
}

fn termination_state() -> impl Strategy<Value = TerminationStateDescriptor> {
    (
        vec(pkg_prop(), 0..3),
        option::of(prop_oneof![
            Just(EventBufferControl::Off),
            Just(EventBufferControl::LockStep)
        ]),
        option::of(service_state()),
    )
        .prop_map(
            |(props, event_buffer_control, service_state)| TerminationStateDescriptor {
                props,
                event_buffer_control,
                service_state,
            },
        )
        .prop_filter("TerminationState needs an item", |t| {
            *t != TerminationStateDescriptor::default()
        })
}

fn media() -> impl Strategy<Value = MediaDescriptor> {
    let streams = prop_oneof![
        1 => Just(None),
        2 => stream_parms()
            .prop_filter("empty", |s| *s != StreamParms::default())
            .prop_map(|s| Some(Streams::One(s))),
        2 => vec(
            (any::<u16>(), stream_parms()).prop_map(|(id, parms)| StreamDescriptor { id, parms }),
            1..3
        )
        .prop_map(|v| Some(Streams::Multi(v))),
    ];
    (option::of(termination_state()), streams).prop_map(|(termination_state, streams)| {
        MediaDescriptor {
            termination_state,
            streams,
        }
    })
}

fn modem() -> impl Strategy<Value = ModemDescriptor> {
    (vec("[a-z][a-z0-9]{0,5}", 1..3), vec(pkg_prop(), 0..3))
        .prop_map(|(types, props)| ModemDescriptor { types, props })
}

fn mux() -> impl Strategy<Value = MuxDescriptor> {
    (
        prop_oneof![
            Just(MuxType::H221),
            Just(MuxType::H223),
            Just(MuxType::H226),
            Just(MuxType::V76),
            Just(MuxType::Nx64k)
        ],
        tids(),
    )
        .prop_map(|(mux_type, termination_ids)| MuxDescriptor {
            mux_type,
            termination_ids,
        })
}

fn digit_map_value() -> impl Strategy<Value = DigitMapValue> {
    (
        option::of(0u8..=99),
        option::of(0u8..=99),
        option::of(0u8..=99),
        option::of(0u8..=99),
        "[0-9a-zA-Z()|\\[\\].#*-]{1,20}",
    )
        .prop_map(
            |(start_timer, short_timer, long_timer, duration_timer, body)| DigitMapValue {
                start_timer,
                short_timer,
                long_timer,
                duration_timer,
                body,
            },
        )
}

fn digit_map() -> impl Strategy<Value = DigitMapDescriptor> {
    (option::of(name()), option::of(digit_map_value()))
        .prop_filter("DigitMap needs a name or a value", |(n, v)| {
            n.is_some() || v.is_some()
        })
        .prop_map(|(name, value)| DigitMapDescriptor { name, value })
}

fn signal() -> impl Strategy<Value = Signal> {
    let nc = prop_oneof![
        Just(NotifyCompletion::OnTimeOut),
        Just(NotifyCompletion::OnInterruptByEvent),
        Just(NotifyCompletion::OnInterruptByNewSignalDescr),
        Just(NotifyCompletion::OtherReason),
        Just(NotifyCompletion::Iteration),
    ];
    let opts = (
        option::of(any::<u16>()),
        option::of(prop_oneof![
            Just(SignalType::OnOff),
            Just(SignalType::TimeOut),
            Just(SignalType::Brief)
        ]),
        option::of(any::<u16>()),
        option::of(vec(nc, 1..4)),
        any::<bool>(),
        option::of(prop_oneof![
            Just(SignalDirection::Internal),
            Just(SignalDirection::External),
            Just(SignalDirection::Both)
        ]),
        option::of(request_id()),
        option::of(any::<u16>()),
        vec(param(), 0..3),
    );
    (pkgd_name(), prop::bool::weighted(0.4), opts).prop_map(
        |(
            name,
            with_opts,
            (
                stream,
                signal_type,
                duration,
                notify_completion,
                keep_active,
                direction,
                request_id,
                intersig_delay,
                params,
            ),
        )| {
            if !with_opts {
                return Signal::new(&name);
            }
            Signal {
                name,
                stream,
                signal_type,
                duration,
                notify_completion,
                keep_active,
                direction,
                request_id,
                intersig_delay,
                params,
            }
        },
    )
}

fn signals() -> impl Strategy<Value = Vec<SignalsItem>> {
    vec(
        prop_oneof![
            3 => signal().prop_map(SignalsItem::Signal),
            1 => (any::<u16>(), vec(signal(), 1..3))
                .prop_map(|(id, signals)| SignalsItem::List { id, signals }),
        ],
        0..3,
    )
}

/// An Events descriptor; `depth` bounds the nesting of embedded events.
fn events(depth: u32) -> BoxedStrategy<EventsDescriptor> {
    let with = (request_id(), vec(requested_event(depth), 1..3)).prop_map(|(id, events)| {
        EventsDescriptor {
            request_id: Some(id),
            events,
        }
    });
    prop_oneof![1 => Just(EventsDescriptor::default()), 5 => with].boxed()
}

fn requested_event(depth: u32) -> BoxedStrategy<RequestedEvent> {
    let embed_events = if depth == 0 {
        Just(None).boxed()
    } else {
        option::of(events(depth - 1).prop_map(Box::new)).boxed()
    };
    let regulated_events = if depth == 0 {
        Just(None).boxed()
    } else {
        option::of(events(depth - 1).prop_map(Box::new)).boxed()
    };
    let nb = prop_oneof![
        Just(NotifyBehaviour::Immediate),
        Just(NotifyBehaviour::Never),
        (regulated_events, option::of(signals()))
            .prop_map(|(events, signals)| NotifyBehaviour::Regulated { events, signals }),
    ];
    let opts = (
        option::of(any::<u16>()),
        any::<bool>(),
        option::weighted(0.2, digit_map()),
        option::weighted(0.3, signals()),
        embed_events,
        option::weighted(0.3, nb),
        any::<bool>(),
        vec(param(), 0..3),
    );
    (pkgd_name(), prop::bool::weighted(0.5), opts)
        .prop_map(
            |(
                name,
                with_opts,
                (
                    stream,
                    keep_active,
                    digit_map,
                    embed_signals,
                    embed_events,
                    notify_behaviour,
                    reset_events,
                    params,
                ),
            )| {
                if !with_opts {
                    return RequestedEvent::new(&name);
                }
                RequestedEvent {
                    name,
                    stream,
                    keep_active,
                    digit_map,
                    embed_signals,
                    embed_events,
                    notify_behaviour,
                    reset_events,
                    params,
                }
            },
        )
        .boxed()
}

fn event_spec() -> impl Strategy<Value = EventSpec> {
    (pkgd_name(), option::of(any::<u16>()), vec(param(), 0..3)).prop_map(
        |(name, stream, params)| EventSpec {
            name,
            stream,
            params,
        },
    )
}

fn observed_events() -> impl Strategy<Value = ObservedEventsDescriptor> {
    let ev = (
        pkgd_name(),
        option::of(any::<u16>()),
        vec(param(), 0..3),
        option::of(time_notation()),
    )
        .prop_map(|(name, stream, params, timestamp)| ObservedEvent {
            name,
            stream,
            params,
            timestamp,
        });
    (request_id(), vec(ev, 1..4))
        .prop_map(|(request_id, events)| ObservedEventsDescriptor { request_id, events })
}

fn packages_item() -> impl Strategy<Value = PackagesItem> {
    (any_name(), any::<u8>()).prop_map(|(name, version)| PackagesItem { name, version })
}

fn audit_item() -> impl Strategy<Value = AuditItem> {
    prop_oneof![
        Just(AuditItem::Mux),
        Just(AuditItem::Modem),
        Just(AuditItem::Media),
        Just(AuditItem::Events),
        Just(AuditItem::Signals),
        Just(AuditItem::DigitMap),
        Just(AuditItem::Statistics),
        Just(AuditItem::ObservedEvents),
        Just(AuditItem::Packages),
        Just(AuditItem::EventBuffer),
    ]
}

// ------------------------------------------------------------------------------------------------
// Audit descriptors (incl. individual audit)

fn ind_aud_prop() -> impl Strategy<Value = IndAudProp> {
    prop_oneof![
        pkgd_name().prop_map(IndAudProp::Name),
        pkg_prop().prop_map(IndAudProp::Select),
    ]
}

fn ind_aud_local_control() -> impl Strategy<Value = IndAudLocalControl> {
    (
        any::<bool>(),
        option::of((any::<bool>(), stream_mode())),
        any::<bool>(),
        any::<bool>(),
        vec(ind_aud_prop(), 0..4),
    )
        .prop_map(
            |(mode, mode_sel, reserve_value, reserve_group, props)| IndAudLocalControl {
                mode,
                mode_sel,
                reserve_value,
                reserve_group,
                props,
            },
        )
        .prop_filter("LocalControl needs an item", |l| {
            *l != IndAudLocalControl::default()
        })
}

fn ind_aud_stream_parms() -> impl Strategy<Value = IndAudStreamParms> {
    (
        option::of(ind_aud_local_control()),
        option::weighted(0.3, local_remote()),
        option::weighted(0.3, local_remote()),
        option::of(pkgd_name()),
    )
        .prop_map(
            |(local_control, local, remote, statistics)| IndAudStreamParms {
                local_control,
                local,
                remote,
                statistics,
            },
        )
        .prop_filter("empty", |s| *s != IndAudStreamParms::default())
}

/// `Stream = n { one indAudstreamParm }`.
fn ind_aud_one_stream_parm() -> impl Strategy<Value = IndAudStreamParms> {
    prop_oneof![
        ind_aud_local_control().prop_map(|l| IndAudStreamParms {
            local_control: Some(l),
            ..Default::default()
        }),
        local_remote().prop_map(|l| IndAudStreamParms {
            local: Some(l),
            ..Default::default()
        }),
        local_remote().prop_map(|r| IndAudStreamParms {
            remote: Some(r),
            ..Default::default()
        }),
        pkgd_name().prop_map(|s| IndAudStreamParms {
            statistics: Some(s),
            ..Default::default()
        }),
    ]
}

fn ind_aud_term_state() -> impl Strategy<Value = IndAudTerminationState> {
    (
        vec(ind_aud_prop(), 0..4),
        any::<bool>(),
        any::<bool>(),
        option::of((any::<bool>(), service_state())),
    )
        .prop_map(
            |(props, event_buffer_control, service_state, service_state_sel)| {
                IndAudTerminationState {
                    props,
                    event_buffer_control,
                    service_state,
                    service_state_sel,
                }
            },
        )
        .prop_filter("TerminationState needs an item", |t| {
            *t != IndAudTerminationState::default()
        })
}

fn ind_aud_media() -> impl Strategy<Value = IndAudMediaDescriptor> {
    (
        option::of(ind_aud_term_state()),
        option::of(ind_aud_stream_parms()),
        vec((any::<u16>(), ind_aud_one_stream_parm()), 0..3),
    )
        .prop_map(
            |(termination_state, stream_parms, streams)| IndAudMediaDescriptor {
                termination_state,
                stream_parms,
                streams,
            },
        )
        .prop_filter("Media needs an item", |m| {
            *m != IndAudMediaDescriptor::default()
        })
}

fn ind_aud() -> impl Strategy<Value = IndAuditParameter> {
    prop_oneof![
        2 => ind_aud_media().prop_map(IndAuditParameter::Media),
        1 => (option::of(request_id()), pkgd_name())
            .prop_map(|(request_id, name)| IndAuditParameter::Events { request_id, name }),
        1 => (pkgd_name(), option::of(any::<u16>()))
            .prop_map(|(name, stream)| IndAuditParameter::EventBuffer { name, stream }),
        1 => Just(IndAuditParameter::Signals(None)),
        1 => (pkgd_name(), option::of(any::<u16>()), option::of(request_id())).prop_map(
            |(name, stream, request_id)| IndAuditParameter::Signals(Some(
                IndAudSignalParm::Signal { name, stream, request_id }
            ))
        ),
        1 => (any::<u16>(), option::of(pkgd_name())).prop_map(|(id, signal)| {
            IndAuditParameter::Signals(Some(IndAudSignalParm::List { id, signal }))
        }),
        1 => name().prop_map(|n| IndAuditParameter::DigitMap(Some(n))),
        1 => pkgd_name().prop_map(IndAuditParameter::Statistics),
        1 => packages_item().prop_map(IndAuditParameter::Packages),
    ]
}

fn audit_descriptor() -> impl Strategy<Value = AuditDescriptor> {
    (vec(audit_item(), 0..4), vec(ind_aud(), 0..3))
        .prop_map(|(items, ind_aud)| AuditDescriptor { items, ind_aud })
}

// ------------------------------------------------------------------------------------------------
// ServiceChange

fn sc_address() -> impl Strategy<Value = ServiceChangeAddress> {
    prop_oneof![
        mid().prop_map(ServiceChangeAddress::MId),
        any::<u16>().prop_map(ServiceChangeAddress::Port),
    ]
}

fn sc_profile() -> impl Strategy<Value = ServiceChangeProfile> {
    (any_name(), any::<u8>()).prop_map(|(name, version)| ServiceChangeProfile { name, version })
}

fn extension_name() -> impl Strategy<Value = String> {
    "x[-+][a-z0-9]{1,6}"
}

fn sc_method() -> impl Strategy<Value = ServiceChangeMethod> {
    prop_oneof![
        Just(ServiceChangeMethod::Failover),
        Just(ServiceChangeMethod::Forced),
        Just(ServiceChangeMethod::Graceful),
        Just(ServiceChangeMethod::Restart),
        Just(ServiceChangeMethod::Disconnected),
        Just(ServiceChangeMethod::HandOff),
        extension_name().prop_map(ServiceChangeMethod::Extension),
    ]
}

/// v2 audit items of a ServiceChange. The v3 ABNF (`serviceChangeParm = .. / auditItem`,
/// `auditItem = .. / indAudterminationAudit`) lets them be individual audits too, but the codec
/// drops those (suspected bug, reported): they are generated only with
/// `IQ_PROPTEST_KNOWN_BUGS=1`.
fn sc_info() -> impl Strategy<Value = AuditDescriptor> {
    let ind_aud_max = if known_bugs() { 3 } else { 1 };
    (vec(audit_item(), 1..4), vec(ind_aud(), 0..ind_aud_max))
        .prop_map(|(items, ind_aud)| AuditDescriptor { items, ind_aud })
}

fn sc_parm() -> impl Strategy<Value = ServiceChangeParm> {
    (
        sc_method(),
        option::of(sc_address()),
        option::of(0u8..=99),
        option::of(sc_profile()),
        option::of(value()),
        option::of(any::<u32>()),
        option::of(mid()),
        option::of(time_notation()),
        vec(
            property_parm_named(extension_name().prop_map(Text::from).boxed()),
            0..3,
        ),
        option::weighted(0.3, sc_info()),
        any::<bool>(),
    )
        .prop_map(
            |(
                method,
                address,
                version,
                profile,
                reason,
                delay,
                mgc_id,
                timestamp,
                extensions,
                info,
                incomplete,
            )| ServiceChangeParm {
                method,
                address,
                version,
                profile,
                reason: reason.map(String::from),
                delay,
                mgc_id,
                timestamp,
                extensions,
                info,
                incomplete,
            },
        )
}

fn sc_res_parm() -> impl Strategy<Value = ServiceChangeResParm> {
    (
        option::of(mid()),
        option::of(sc_address()),
        option::of(0u8..=99),
        option::of(sc_profile()),
        option::of(time_notation()),
    )
        .prop_map(
            |(mgc_id, address, version, profile, timestamp)| ServiceChangeResParm {
                mgc_id,
                address,
                version,
                profile,
                timestamp,
            },
        )
}

// ------------------------------------------------------------------------------------------------
// Contexts, commands, transactions

fn topology() -> impl Strategy<Value = TopologyRequest> {
    (
        termination_id(),
        termination_id(),
        prop_oneof![
            Just(TopologyDirection::Bothway),
            Just(TopologyDirection::Isolate),
            Just(TopologyDirection::Oneway),
            Just(TopologyDirection::OnewayExternal),
            Just(TopologyDirection::OnewayBoth),
        ],
        option::of(any::<u16>()),
    )
        .prop_map(|(from, to, direction, stream)| TopologyRequest {
            from,
            to,
            direction,
            stream,
        })
}

fn context_request() -> impl Strategy<Value = ContextRequest> {
    (
        option::of(any::<u16>()),
        option::of(any::<bool>()),
        vec(topology(), 0..3),
        option::of(any::<bool>()),
        vec(pkg_prop(), 0..3),
        vec(context_id(), 0..3),
    )
        .prop_map(
            |(priority, emergency, topology, ieps_call, props, context_list)| ContextRequest {
                priority,
                emergency,
                topology,
                ieps_call,
                props,
                context_list,
            },
        )
        .prop_filter("empty", |c| !c.is_empty())
}

/// A property name audited in `ContextAudit { .. }`. A bare `ct`/`contextattr` there (not
/// followed by `{`) is read back as the ContextAttr keyword (suspected bug, reported): generated
/// only with `IQ_PROPTEST_KNOWN_BUGS=1`.
fn context_audit_prop_name() -> BoxedStrategy<Text> {
    if known_bugs() {
        prop_oneof![
            8 => pkgd_name(),
            1 => Just(Text::from("ct")),
            1 => Just(Text::from("contextattr")),
        ]
        .boxed()
    } else {
        pkgd_name().boxed()
    }
}

fn context_audit() -> impl Strategy<Value = ContextAttrAuditRequest> {
    (
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        vec(context_audit_prop_name(), 0..3),
        option::of(any::<u16>()),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        vec(pkg_prop(), 0..3),
        option::of(prop_oneof![Just(SelectLogic::And), Just(SelectLogic::Or)]),
    )
        .prop_map(
            |(
                (topology, emergency, priority, ieps_call),
                props,
                select_priority,
                select_emergency,
                select_ieps,
                select_props,
                select_logic,
            )| ContextAttrAuditRequest {
                topology,
                emergency,
                priority,
                ieps_call,
                props,
                select_priority,
                select_emergency,
                select_ieps,
                select_props,
                select_logic,
            },
        )
        .prop_filter("ContextAudit needs an item", |a| {
            *a != ContextAttrAuditRequest::default()
        })
}

fn amm_descriptor() -> impl Strategy<Value = AmmDescriptor> {
    prop_oneof![
        4 => media().prop_map(AmmDescriptor::Media),
        1 => modem().prop_map(AmmDescriptor::Modem),
        1 => mux().prop_map(AmmDescriptor::Mux),
        2 => events(2).prop_map(AmmDescriptor::Events),
        1 => vec(event_spec(), 0..3).prop_map(AmmDescriptor::EventBuffer),
        2 => signals().prop_map(AmmDescriptor::Signals),
        1 => digit_map().prop_map(AmmDescriptor::DigitMap),
        1 => audit_descriptor().prop_map(AmmDescriptor::Audit),
        1 => statistics().prop_map(AmmDescriptor::Statistics),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let amm = (tids(), vec(amm_descriptor(), 0..4))
        .prop_map(|(termination_ids, descriptors)| AmmRequest {
            termination_ids,
            descriptors,
        })
        .boxed();
    let audit = (tids(), option::of(audit_descriptor()))
        .prop_map(|(termination_ids, audit)| AuditRequest {
            termination_ids,
            audit,
        })
        .boxed();
    let notify = (
        tids(),
        option::of(observed_events()),
        option::of(error_descriptor()),
    )
        .prop_filter("Notify needs ObservedEvents or Error", |(_, o, e)| {
            o.is_some() || e.is_some()
        })
        .prop_map(|(termination_ids, observed_events, error)| NotifyRequest {
            termination_ids,
            observed_events,
            error,
        });
    prop_oneof![
        3 => amm.clone().prop_map(Command::Add),
        1 => amm.clone().prop_map(Command::Move),
        2 => amm.prop_map(Command::Modify),
        1 => (tids(), option::of(audit_descriptor())).prop_map(|(termination_ids, audit)| {
            Command::Subtract(SubtractRequest { termination_ids, audit })
        }),
        1 => audit.clone().prop_map(Command::AuditValue),
        1 => audit.prop_map(Command::AuditCapabilities),
        1 => notify.prop_map(Command::Notify),
        1 => (tids(), sc_parm()).prop_map(|(termination_ids, parms)| {
            Command::ServiceChange(ServiceChangeRequest { termination_ids, parms: Box::new(parms) })
        }),
    ]
}

fn command_request() -> impl Strategy<Value = CommandRequest> {
    (command(), any::<bool>(), any::<bool>()).prop_map(|(command, optional, wildcard_return)| {
        CommandRequest {
            command,
            optional,
            wildcard_return,
        }
    })
}

fn action_request() -> impl Strategy<Value = ActionRequest> {
    (
        context_id(),
        option::weighted(0.3, context_request()),
        option::weighted(0.15, context_audit()),
        vec(command_request(), 0..3),
    )
        .prop_filter("an action needs an item", |(_, r, a, c)| {
            r.is_some() || a.is_some() || !c.is_empty()
        })
        .prop_map(
            |(context, context_request, context_audit, commands)| ActionRequest {
                context,
                context_request,
                context_audit,
                commands,
            },
        )
}

fn audit_return_parameter() -> impl Strategy<Value = AuditReturnParameter> {
    use AuditReturnParameter as A;
    prop_oneof![
        1 => error_descriptor().prop_map(A::Error),
        4 => media().prop_map(A::Media),
        1 => modem().prop_map(A::Modem),
        1 => mux().prop_map(A::Mux),
        2 => events(2).prop_map(A::Events),
        1 => vec(event_spec(), 0..3).prop_map(A::EventBuffer),
        1 => signals().prop_map(A::Signals),
        1 => digit_map().prop_map(A::DigitMap),
        1 => observed_events().prop_map(A::ObservedEvents),
        1 => statistics().prop_filter("empty", |s| !s.is_empty()).prop_map(A::Statistics),
        1 => vec(packages_item(), 1..4).prop_map(A::Packages),
        2 => prop_oneof![
            Just(AuditItem::Mux),
            Just(AuditItem::Modem),
            Just(AuditItem::Media),
            Just(AuditItem::DigitMap),
            Just(AuditItem::Statistics),
            Just(AuditItem::ObservedEvents),
            Just(AuditItem::Packages),
        ]
        .prop_map(A::Empty),
    ]
}

fn termination_audit() -> impl Strategy<Value = TerminationAudit> {
    vec(audit_return_parameter(), 1..4)
}

fn command_reply() -> impl Strategy<Value = CommandReply> {
    let amms = (tids(), option::of(termination_audit()))
        .prop_map(|(termination_ids, audit)| AmmsReply {
            termination_ids,
            audit,
        })
        .boxed();
    let audit = prop_oneof![
        tids().prop_map(AuditReply::ContextAuditResult),
        error_descriptor().prop_map(AuditReply::Error),
        (tids(), prop_oneof![Just(Vec::new()), termination_audit()]).prop_map(
            |(termination_ids, audit)| AuditReply::AuditResult {
                termination_ids,
                audit
            }
        ),
    ]
    .boxed();
    let sc = (
        tids(),
        prop_oneof![
            error_descriptor().prop_map(ServiceChangeResult::Error),
            sc_res_parm().prop_map(ServiceChangeResult::Parms),
        ],
    )
        .prop_map(|(termination_ids, result)| ServiceChangeReply {
            termination_ids,
            result,
        });
    prop_oneof![
        3 => amms.clone().prop_map(CommandReply::Add),
        1 => amms.clone().prop_map(CommandReply::Move),
        2 => amms.clone().prop_map(CommandReply::Modify),
        1 => amms.prop_map(CommandReply::Subtract),
        1 => audit.clone().prop_map(CommandReply::AuditValue),
        1 => audit.prop_map(CommandReply::AuditCapabilities),
        1 => (tids(), option::of(error_descriptor()))
            .prop_map(|(termination_ids, error)| CommandReply::Notify(NotifyReply {
                termination_ids,
                error
            })),
        1 => sc.prop_map(CommandReply::ServiceChange),
    ]
}

fn action_reply() -> impl Strategy<Value = ActionReply> {
    (
        context_id(),
        option::weighted(0.2, error_descriptor()),
        option::weighted(0.3, context_request()),
        vec(command_reply(), 0..3),
    )
        .prop_map(|(context, error, context_reply, commands)| ActionReply {
            context,
            error,
            context_reply,
            commands,
        })
}

fn transaction() -> impl Strategy<Value = Transaction> {
    let request = (any::<u32>(), vec(action_request(), 1..3))
        .prop_map(|(id, actions)| Transaction::Request(TransactionRequest { id, actions }));
    let seg = prop_oneof![
        2 => Just((None, false)),
        1 => (any::<u16>(), any::<bool>()).prop_map(|(n, c)| (Some(n), c)),
    ];
    let reply = (
        any::<u32>(),
        any::<bool>(),
        prop_oneof![
            1 => error_descriptor().prop_map(TransactionResult::Error),
            4 => vec(action_reply(), 1..3).prop_map(TransactionResult::Actions),
        ],
        seg,
    )
        .prop_map(
            |(id, imm_ack_required, result, (segment_number, complete))| {
                Transaction::Reply(TransactionReply {
                    id,
                    imm_ack_required,
                    result,
                    segment_number,
                    segmentation_complete: complete,
                })
            },
        );
    let ack = (any::<u32>(), option::of(any::<u32>()))
        .prop_map(|(first, last)| TransactionAck { first, last });
    prop_oneof![
        4 => request,
        4 => reply,
        1 => any::<u32>().prop_map(Transaction::Pending),
        1 => vec(ack, 1..4).prop_map(Transaction::ResponseAck),
        1 => (any::<u32>(), any::<u16>(), any::<bool>()).prop_map(|(id, n, c)| {
            Transaction::SegmentReply(SegmentReply {
                id,
                segment_number: n,
                segmentation_complete: c,
            })
        }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let auth = (any::<u32>(), any::<u32>(), vec(any::<u8>(), 12..=32))
        .prop_map(|(spi, seq_num, data)| AuthHeader { spi, seq_num, data });
    let body = prop_oneof![
        1 => error_descriptor().prop_map(MessageBody::Error),
        8 => vec(transaction(), 1..3).prop_map(|ts| MessageBody::Transactions(ts.into())),
    ];
    (option::weighted(0.1, auth), 1u8..=3, mid(), body).prop_map(|(auth, version, mid, body)| {
        Message {
            auth,
            version,
            mid,
            body,
        }
    })
}

// ------------------------------------------------------------------------------------------------
// Round trip

fn check_roundtrip(m: &Message, style: Style) -> Result<(), TestCaseError> {
    let text = encode(m, style);
    match decode(text.as_bytes()) {
        Ok(back) => prop_assert_eq!(
            &back,
            m,
            "{:?} text does not decode to the model:\n{}",
            style,
            text
        ),
        Err(e) => prop_assert!(
            false,
            "{:?} text does not decode: {}\n{}\nmodel: {:?}",
            style,
            e,
            text,
            m
        ),
    }
    Ok(())
}

/// Runs the property on a thread with a large stack: the nested strategies of a whole message
/// need more than the default 2 MiB in an unoptimised build.
fn run_roundtrip(style: Style) {
    let t = std::thread::Builder::new()
        .name(format!("roundtrip-{style:?}"))
        .stack_size(256 << 20)
        .spawn(move || {
            // 256 cases unless PROPTEST_CASES says otherwise.
            let mut runner = TestRunner::new(ProptestConfig {
                failure_persistence: None,
                ..ProptestConfig::default()
            });
            let cases = runner.config().cases;
            if let Err(e) = runner.run(&message(), |m| check_roundtrip(&m, style)) {
                panic!("{style:?} round trip failed: {e}");
            }
            eprintln!("{style:?}: {cases} cases passed");
        })
        .expect("spawn test thread");
    if let Err(p) = t.join() {
        std::panic::resume_unwind(p);
    }
}

#[test]
fn roundtrip_pretty() {
    run_roundtrip(Style::Pretty);
}

#[test]
fn roundtrip_compact() {
    run_roundtrip(Style::Compact);
}

// ------------------------------------------------------------------------------------------------
// Corpus fixed point

/// The corpus must reach this size (it is being completed; see tests/corpus).
const MIN_CORPUS: usize = 150;

#[test]
fn corpus_reencoding_is_a_fixed_point() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for f in &files {
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let input = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let m = match decode(&input) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: does not decode: {e}"));
                continue;
            }
        };
        for style in [Style::Pretty, Style::Compact] {
            let once = encode(&m, style);
            match decode(once.as_bytes()) {
                Ok(m2) => {
                    let twice = encode(&m2, style);
                    if twice != once {
                        failures.push(format!(
                            "{name}: {style:?}: not a fixed point:\n--- once\n{once}\n--- twice\n{twice}"
                        ));
                    }
                }
                Err(e) => failures.push(format!(
                    "{name}: {style:?}: re-encoding does not decode: {e}\n{once}"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    assert!(
        files.len() >= MIN_CORPUS,
        "corpus has {} files, expected at least {MIN_CORPUS}",
        files.len()
    );
}
