//! The built-in package table.
//!
//! Sources (read for IDs, nothing copied):
//! - RFC 3525 Annex E (H.248.1 v1 text, as shipped in Erlang/OTP `lib/megaco/doc/standard/`):
//!   every v1 package, item, parameter and enumeration value of `g` … `tdmc`.
//! - Erlang/OTP `megaco_binary_name_resolver_v3.erl` and Wireshark `packet-h248_annex_e.c`:
//!   the H.248.1 v2/v3 additions (`g/sc` `Meth=PI` and `RID`, `root` 0x0007/0x0008,
//!   `tonegen/pt` `btd`, `dg` signals' `btd`), and `seg` item IDs (megaco files them in `root`).
//! - IANA Megaco/H.248 package registry (versions and `extends` of 0x0001–0x000d).
//! - Wireshark `packet-h248-template.c`: package ID table (0x0001–0x010a), `it/ito`
//!   (0x0045/0x0001) and `hangterm` termination heartbeat (0x0098/0x0001);
//!   `packet-h248_10.c`: `chp/mgcon` (0x0001) with `reduction` (0x0001).
//! - TS 29.334 Tables 5.14.1.1 / 5.14.2.1 (via the digest, section 2): names, IDs, versions of
//!   the Iq packages.
//! - Digest section 2.4: the `xdtls` placeholders.
//!
//! Everything else is recalled, not read, and carries `confirmed: false` with a note.

use super::{ItemDef, ItemKind, PackageDef, ParamDef, ValueType as V};

fn prop(name: &str, id: u16, vt: V) -> ItemDef {
    ItemDef::new(ItemKind::Property, name, id).with_type(vt)
}

fn event(name: &str, id: u16) -> ItemDef {
    ItemDef::new(ItemKind::Event, name, id)
}

fn signal(name: &str, id: u16) -> ItemDef {
    ItemDef::new(ItemKind::Signal, name, id)
}

fn stat(name: &str, id: u16, vt: V) -> ItemDef {
    ItemDef::new(ItemKind::Statistic, name, id).with_type(vt)
}

fn par(name: &str, id: u16, vt: V) -> ParamDef {
    ParamDef::new(name, id, vt)
}

/// Tone direction values of `btd` (H.248.1 v2 tonegen/dg/cg; megaco and Wireshark agree).
fn btd() -> V {
    V::enumeration(&[("ext", 0x01), ("int", 0x02), ("both", 0x03)])
}

/// "List of tone ids": the values are tone IDs added by extending packages (dg, cg, ...).
fn tone_list() -> V {
    V::sublist(V::Enum(Vec::new()))
}

const ANNEX_E_V1: &str = "RFC 3525 (H.248.1 v1)";
const WS_MEGACO: &str = "Wireshark packet-h248_annex_e.c and OTP megaco_binary_name_resolver_v3";

/// DTMF digits as signal/event names and IDs (H.248.1 E.5.3 table).
const DTMF: [(&str, u16); 16] = [
    ("d0", 0x0010),
    ("d1", 0x0011),
    ("d2", 0x0012),
    ("d3", 0x0013),
    ("d4", 0x0014),
    ("d5", 0x0015),
    ("d6", 0x0016),
    ("d7", 0x0017),
    ("d8", 0x0018),
    ("d9", 0x0019),
    ("ds", 0x0020),
    ("do", 0x0021),
    ("da", 0x001a),
    ("db", 0x001b),
    ("dc", 0x001c),
    ("dd", 0x001d),
];

/// Call progress tones (H.248.1 E.7.3 table).
const CP_TONES: [(&str, u16); 9] = [
    ("dt", 0x0030),
    ("rt", 0x0031),
    ("bt", 0x0032),
    ("ct", 0x0033),
    ("sit", 0x0034),
    ("wt", 0x0035),
    ("prt", 0x0036),
    ("cw", 0x0037),
    ("cr", 0x0038),
];

fn annex_e() -> Vec<PackageDef> {
    let mut v = Vec::new();

    // E.1 Generic
    v.push(
        PackageDef::new("g", 0x0001)
            .with_version(2)
            .with_source(&format!(
                "H.248.1 Annex E.1; {ANNEX_E_V1} E.1; v2 items: {WS_MEGACO}"
            ))
            .with_item(
                event("cause", 0x0001)
                    .with_param(par(
                        "generalcause",
                        0x0001,
                        V::enumeration(&[
                            ("nr", 0x0001),
                            ("ur", 0x0002),
                            ("ft", 0x0003),
                            ("fp", 0x0004),
                            ("iw", 0x0005),
                            ("un", 0x0006),
                        ]),
                    ))
                    .with_param(par("failurecause", 0x0002, V::Octets)),
            )
            .with_item(
                event("sc", 0x0002)
                    .with_param(par("sigid", 0x0001, V::PkgdName))
                    .with_param(par(
                        "meth",
                        0x0002,
                        V::enumeration(&[
                            ("to", 0x0001),
                            ("ev", 0x0002),
                            ("sd", 0x0003),
                            ("nc", 0x0004),
                            ("pi", 0x0005),
                        ]),
                    ))
                    .with_param(par("slid", 0x0003, V::integer()))
                    .with_param(par("rid", 0x0004, V::integer()))
                    .with_note("Meth value PI (0x0005) and parameter RID are g version 2"),
            ),
    );

    // E.2 Base root
    v.push(
        PackageDef::new("root", 0x0002)
            .with_version(2)
            .with_source(&format!(
                "H.248.1 Annex E.2; {ANNEX_E_V1} E.2; 0x0007/0x0008 (v2): {WS_MEGACO}"
            ))
            .with_items([
                prop("maxnumberofcontexts", 0x0001, V::Double),
                prop("maxterminationspercontext", 0x0002, V::integer()),
                prop("normalmgexecutiontime", 0x0003, V::integer()),
                prop("normalmgcexecutiontime", 0x0004, V::integer()),
                prop("mgprovisionalresponsetimervalue", 0x0005, V::integer()),
                prop("mgcprovisionalresponsetimervalue", 0x0006, V::integer()),
                prop("mgcoriginatedpendinglimit", 0x0007, V::integer()),
                prop("mgoriginatedpendinglimit", 0x0008, V::integer()),
            ]),
    );

    // E.3 Tone generator
    v.push(
        PackageDef::new("tonegen", 0x0003)
            .with_version(2)
            .with_source(&format!(
                "H.248.1 Annex E.3; {ANNEX_E_V1} E.3; btd (v2): {WS_MEGACO}"
            ))
            .with_item(
                signal("pt", 0x0001)
                    .with_param(par("tl", 0x0001, tone_list()))
                    .with_param(par("ind", 0x0002, V::integer()))
                    .with_param(par("btd", 0x0003, btd())),
            ),
    );

    // E.4 Tone detection
    v.push(
        PackageDef::new("tonedet", 0x0004)
            .with_source(&format!("H.248.1 Annex E.4; {ANNEX_E_V1} E.4"))
            .with_items([
                event("std", 0x0001)
                    .with_param(par("tl", 0x0001, tone_list()))
                    .with_param(par("tid", 0x0003, V::Enum(Vec::new()))),
                event("etd", 0x0002)
                    .with_param(par("tl", 0x0001, tone_list()))
                    .with_param(par("tid", 0x0003, V::Enum(Vec::new())))
                    .with_param(par("dur", 0x0002, V::integer())),
                event("ltd", 0x0003)
                    .with_param(par("tl", 0x0001, tone_list()))
                    .with_param(par("dur", 0x0002, V::integer()))
                    .with_param(par("tid", 0x0003, V::Enum(Vec::new()))),
            ]),
    );

    // E.5 Basic DTMF generator
    v.push(
        PackageDef::new("dg", 0x0005)
            .with_version(2)
            .with_extends("tonegen")
            .with_source(&format!(
                "H.248.1 Annex E.5; {ANNEX_E_V1} E.5; btd (v2): {WS_MEGACO}"
            ))
            .with_items(
                DTMF.iter()
                    .map(|(n, id)| signal(n, *id).with_param(par("btd", 0x0001, btd()))),
            ),
    );

    // E.6 DTMF detection
    v.push(
        PackageDef::new("dd", 0x0006)
            .with_version(2)
            .with_extends("tonedet")
            .with_source(&format!("H.248.1 Annex E.6; {ANNEX_E_V1} E.6"))
            .with_items(DTMF.iter().map(|(n, id)| event(n, *id)))
            .with_item(
                event("ce", 0x0004)
                    .with_param(par("ds", 0x0001, V::String))
                    .with_param(par(
                        "meth",
                        0x0003,
                        V::enumeration(&[("um", 0x0001), ("pm", 0x0002), ("fm", 0x0003)]),
                    )),
            ),
    );

    // E.7 Call progress tones generator
    v.push(
        PackageDef::new("cg", 0x0007)
            .with_version(2)
            .with_extends("tonegen")
            .with_source(&format!("H.248.1 Annex E.7; {ANNEX_E_V1} E.7"))
            .with_items(
                CP_TONES.iter().map(|(n, id)| {
                    signal(n, *id).with_param(par("btd", 0x0001, btd()).unconfirmed())
                }),
            ),
    );

    // E.8 Call progress tones detection
    v.push(
        PackageDef::new("cd", 0x0008)
            .with_extends("tonedet")
            .with_source(&format!("H.248.1 Annex E.8; {ANNEX_E_V1} E.8"))
            .with_items(CP_TONES.iter().map(|(n, id)| event(n, *id))),
    );

    // E.9 Analog line supervision
    let strict = || V::enumeration(&[("exact", 0x00), ("state", 0x01), ("failwrong", 0x02)]);
    v.push(
        PackageDef::new("al", 0x0009)
            .with_source(&format!("H.248.1 Annex E.9; {ANNEX_E_V1} E.9"))
            .with_items([
                event("on", 0x0004)
                    .with_param(par("strict", 0x0001, strict()))
                    .with_param(par("init", 0x0002, V::Boolean)),
                event("of", 0x0005)
                    .with_param(par("strict", 0x0001, strict()))
                    .with_param(par("init", 0x0002, V::Boolean)),
                event("fl", 0x0006)
                    .with_param(par("mindur", 0x0004, V::integer()))
                    .with_param(par("maxdur", 0x0005, V::integer())),
                signal("ri", 0x0002)
                    .with_param(par("cad", 0x0006, V::sublist(V::integer())))
                    .with_param(par("freq", 0x0007, V::integer())),
            ]),
    );

    // E.10 Basic continuity
    v.push(
        PackageDef::new("ct", 0x000a)
            .with_source(&format!("H.248.1 Annex E.10; {ANNEX_E_V1} E.10"))
            .with_items([
                event("cmp", 0x0005).with_param(par(
                    "res",
                    0x0008,
                    V::enumeration(&[("success", 0x0001), ("failure", 0x0000)]),
                )),
                signal("ct", 0x0003),
                signal("rsp", 0x0004),
            ]),
    );

    // E.11 Network
    v.push(
        PackageDef::new("nt", 0x000b)
            .with_source(&format!("H.248.1 Annex E.11; {ANNEX_E_V1} E.11"))
            .with_items([
                prop("jit", 0x0007, V::integer()),
                event("netfail", 0x0005).with_param(par("cs", 0x0001, V::String)),
                event("qualert", 0x0006).with_param(par("th", 0x0001, V::integer_range(0, 99))),
                stat("dur", 0x0001, V::Double),
                stat("os", 0x0002, V::Double),
                stat("or", 0x0003, V::Double),
            ]),
    );

    // E.12 RTP
    v.push(
        PackageDef::new("rtp", 0x000c)
            .with_version(2)
            .with_extends("nt")
            .with_source(&format!("H.248.1 Annex E.12; {ANNEX_E_V1} E.12"))
            .with_items([
                event("pltrans", 0x0001).with_param(par(
                    "rtppltype",
                    0x0001,
                    V::sublist(V::String),
                )),
                stat("ps", 0x0004, V::Double),
                stat("pr", 0x0005, V::Double),
                stat("pl", 0x0006, V::Double),
                stat("jit", 0x0007, V::Double),
                stat("delay", 0x0008, V::Double),
            ]),
    );

    // E.13 TDM circuit
    v.push(
        PackageDef::new("tdmc", 0x000d)
            .with_extends("nt")
            .with_source(&format!("H.248.1 Annex E.13; {ANNEX_E_V1} E.13"))
            .with_items([
                prop("ec", 0x0008, V::Boolean),
                prop("gain", 0x000a, V::integer()),
            ]),
    );

    v
}

const IQ_MANDATORY: &str = "TS 29.334 Table 5.14.1.1 (name, ID, version; ID cross-checked in Wireshark packet-h248-template.c)";
const IQ_OPTIONAL: &str = "TS 29.334 Table 5.14.2.1 (name, ID, version; ID cross-checked in Wireshark packet-h248-template.c)";
const RECALLED: &str =
    "item name/ID recalled from the ITU-T Recommendation, not verified in a readable source";

fn iq_packages() -> Vec<PackageDef> {
    let mut v = Vec::new();

    v.push(
        PackageDef::new("ipnapt", 0x0099)
            .with_source(&format!("H.248.37; {IQ_MANDATORY}"))
            .with_item(
                prop("latch", 0x0001, V::Boolean)
                    .unconfirmed(&format!("{RECALLED} (H.248.37 clause 6.1, LocalControl)")),
            ),
    );

    let gm_note =
        format!("{RECALLED} (H.248.43 / ETSI TS 102 333 Annex B; digest section 7 item 5)");
    v.push(
        PackageDef::new("gm", 0x008c)
            .with_version(2)
            .with_source(&format!("H.248.43; {IQ_MANDATORY}"))
            .with_items([
                prop("saf", 0x0001, V::Boolean).unconfirmed(&gm_note),
                prop("sam", 0x0002, V::String).unconfirmed(&gm_note),
                prop("spf", 0x0003, V::Boolean).unconfirmed(&gm_note),
                prop("spr", 0x0004, V::String).unconfirmed(&gm_note),
                prop("esas", 0x0005, V::String).unconfirmed(&gm_note),
                prop(
                    "esps",
                    0x0006,
                    V::UInt {
                        min: Some(0),
                        max: Some(65535),
                    },
                )
                .unconfirmed(&gm_note),
            ]),
    );

    let tman_note = format!("{RECALLED} (H.248.53 / ETSI TS 102 333 Annex C)");
    v.push(
        PackageDef::new("tman", 0x008d)
            .with_source(&format!("H.248.53; {IQ_MANDATORY}"))
            .with_items([
                prop("pol", 0x0001, V::Boolean).unconfirmed(&tman_note),
                prop("sdr", 0x0002, V::uint()).unconfirmed(&tman_note),
                prop("mbs", 0x0003, V::uint()).unconfirmed(&tman_note),
                prop("pdr", 0x0004, V::uint()).unconfirmed(&tman_note),
                prop("dvt", 0x0005, V::uint()).unconfirmed(&tman_note),
            ]),
    );

    v.push(
        PackageDef::new("ipdc", 0x009d)
            .with_source(&format!("H.248.41; {IQ_MANDATORY}"))
            .with_item(prop("realm", 0x0001, V::String).unconfirmed(&format!(
                "{RECALLED} (H.248.41); placement TerminationState vs LocalControl open (digest section 7 item 5)"
            ))),
    );

    v.push(
        PackageDef::new("hangterm", 0x0098)
            .with_source(&format!(
                "H.248.36; {IQ_MANDATORY}; event thb = 0x0001 in Wireshark packet-h248-template.c"
            ))
            .with_item(
                event("thb", 0x0001)
                    .with_param(par("timerx", 0x0001, V::uint()))
                    .unconfirmed(
                        "event ID verified (Wireshark 'Termination Heartbeat' 0x00980001); text name 'thb' and \
                         parameter 'timerx' (0x0001, seconds) recalled, not verified (digest section 7 item 5)",
                    ),
            ),
    );

    v.push(
        PackageDef::new("ds", 0x008b)
            .with_version(2)
            .with_source(&format!("H.248.52; {IQ_MANDATORY}"))
            .with_item(
                prop("dscp", 0x0001, V::integer_range(0, 63))
                    .unconfirmed(&format!("{RECALLED} (H.248.52 / ETSI TS 102 333 Annex A)")),
            ),
    );

    v.push(
        PackageDef::new("rtcph", 0x00b5)
            .with_source(&format!("H.248.57; {IQ_MANDATORY}"))
            .with_item(prop("rtcpa", 0x0001, V::Boolean).unconfirmed(&format!(
                "{RECALLED} (H.248.57 'RTCP allocation'); low confidence"
            ))),
    );

    // Optional packages (TS 29.334 Table 5.14.2.1).
    v.push(
        PackageDef::new("it", 0x0045)
            .with_source(&format!(
                "H.248.14; {IQ_OPTIONAL}; event ito = 0x0001 in Wireshark packet-h248-template.c"
            ))
            .with_item(
                event("ito", 0x0001)
                    .with_param(par("mit", 0x0001, V::integer()).unconfirmed())
                    .with_note("event verified (Wireshark it/ito); parameter mit (maximum inactivity time) recalled"),
            ),
    );

    v.push(
        PackageDef::new("ocp", 0x0051)
            .with_source(&format!("H.248.11; {IQ_OPTIONAL}"))
            .with_item(event("mg_overload", 0x0001).unconfirmed(&format!("{RECALLED} (H.248.11)"))),
    );

    v.push(
        PackageDef::new("chp", 0x0029)
            .with_source(&format!(
                "H.248.10; {IQ_OPTIONAL}; items: Wireshark packet-h248_10.c"
            ))
            .with_item(event("mgcon", 0x0001).with_param(par(
                "reduction",
                0x0001,
                V::integer_range(0, 100),
            ))),
    );

    v.push(
        PackageDef::new("ipra", 0x00e0)
            .with_source(&format!("H.248.41 Amendment 1; {IQ_OPTIONAL}"))
            .unconfirmed(
                "package name/ID verified; its items are not established here: add them by profile",
            ),
    );

    let adid_note = format!("{RECALLED} (H.248.40 'IP flow stop detection')");
    v.push(
        PackageDef::new("adid", 0x009c)
            .with_source(&format!("H.248.40; {IQ_OPTIONAL}"))
            .with_item(
                event("ipstop", 0x0001)
                    .with_param(par("dt", 0x0001, V::integer()))
                    .with_param(par(
                        "dir",
                        0x0002,
                        V::enumeration(&[("internal", 0x01), ("external", 0x02), ("both", 0x03)]),
                    ))
                    .unconfirmed(&adid_note),
            ),
    );

    v
}

fn other_packages() -> Vec<PackageDef> {
    let ws = "ID from the IANA-derived Wireshark package table (packet-h248-template.c)";
    let mut v = vec![
        PackageDef::new("srtp", 0x0107)
            .with_source(&format!("H.248.77 Secure RTP package; {ws}"))
            .unconfirmed("text name recalled; items not established (SDES keys travel as SDP a=crypto)"),
        PackageDef::new("seg", 0x00a3)
            .with_extends("root")
            .with_source(&format!(
                "H.248.1v3 Annex E segmentation package; {ws}; item IDs from OTP megaco_binary_name_resolver_v3 (filed under root there)"
            ))
            .with_items([
                prop("mgsegmentationtimervalue", 0x0009, V::integer()),
                prop("mgcsegmentationtimervalue", 0x000a, V::integer()),
                prop("mgmaxpdusize", 0x000b, V::integer()),
                prop("mgcmaxpdusize", 0x000c, V::integer()),
            ]
            .map(|i| {
                i.unconfirmed(
                    "item IDs and names as in megaco, which files them under root (0x0002); their placement in seg (extends root) is recalled, not read",
                )
            }))
            .unconfirmed("text name 'seg' recalled; not used on Iq over SCTP (TS 29.334 Table 5.12.2)"),
    ];
    // H.248.7 Generic announcement: package, signal and parameter IDs as Wireshark's H.248.7
    // dissector (packet-h248_7.c) has them; `di` values ext/int/both = 1/2/3 there.
    let an_source = "H.248.7 Generic Announcement package; IDs from Wireshark packet-h248_7.c";
    let an_dir = || V::enumeration(&[("ext", 0x0001), ("int", 0x0002), ("both", 0x0003)]);
    v.push(
        PackageDef::new("an", 0x001d)
            .with_source(an_source)
            .with_items([
                signal("apf", 0x0001)
                    .with_param(par("an", 0x0001, V::integer()))
                    .with_param(par("noc", 0x0002, V::integer()))
                    .with_param(par("av", 0x0003, V::String))
                    .with_param(par("di", 0x0004, an_dir())),
                signal("apv", 0x0002)
                    .with_param(par("an", 0x0001, V::integer()))
                    .with_param(par("noc", 0x0002, V::integer()))
                    .with_param(par("av", 0x0003, V::String))
                    .with_param(par("num", 0x0004, V::integer()))
                    .with_param(par("spi", 0x0005, V::integer()))
                    .with_param(par("sp", 0x0006, V::String))
                    .with_param(par("di", 0x0007, an_dir())),
            ]),
    );
    // H.248.50 NAT traversal toolkit (STUN/ICE): IDs verified, names guessed, no items.
    for (name, id, what) in [
        ("stunbase", 0x00bd, "STUN base (H.248.50 7.1)"),
        ("mgstunc", 0x00be, "MG STUN client (H.248.50 7.2)"),
        ("mgturnc", 0x00bf, "MG TURN client (H.248.50 7.3)"),
        ("mgcstunc", 0x00c0, "MGC STUN client (H.248.50 7.4)"),
        ("stuninfo", 0x00c1, "STUN information (H.248.50 7.5)"),
        (
            "mgastuns",
            0x00c2,
            "MG act-as STUN server, ICE-lite (H.248.50 8.1)",
        ),
        (
            "ostuncc",
            0x00c3,
            "Originate STUN continuity check, full ICE (H.248.50 8.2)",
        ),
        (
            "mgcostunr",
            0x00c4,
            "MGC-originated STUN request (H.248.50 9.1)",
        ),
        ("rtpnoop", 0x00c5, "RTP NOOP request (H.248.50)"),
    ] {
        v.push(
            PackageDef::new(name, id)
                .with_source(&format!("{what}; {ws}"))
                .unconfirmed(
                    "text name is a placeholder (IANA row not readable); items not established",
                ),
        );
    }
    v
}

fn placeholders() -> Vec<PackageDef> {
    let note = "placeholder coding (digest section 2.4); confirm against TS 29.334 Table 5.17.1.1 / H.248.90/.93 (digest section 7 items 1-2)";
    vec![PackageDef::new("xdtls", 0x8f01)
        .with_source("digest placeholder (iq-dtls-digest.md section 2.4), private package ID range")
        .unconfirmed(note)
        .with_items([
            signal("estab", 0x0001).unconfirmed(&format!(
                "Establish (D)TLS session: present = AGW is DTLS client; {note}"
            )),
            event("estfail", 0x0001)
                .with_param(par("cause", 0x0001, V::String))
                .unconfirmed(&format!(
                    "Notify (D)TLS session establishment failure; {note}"
                )),
            stat("srtpaf", 0x0001, V::Double).unconfirmed(&format!(
                "SRTP/SRTCP packets dropped for a failed authentication tag (iq-agw statistic); {note}"
            )),
        ])]
}

/// The whole built-in table, in a fixed order.
pub(super) fn packages() -> Vec<PackageDef> {
    let mut v = annex_e();
    v.extend(iq_packages());
    v.extend(other_packages());
    v.extend(placeholders());
    v
}
