//! Tests of the package table (`iq_codec::packages`).
//!
//! Expected IDs are the values read in the sources, not copied from the table under test:
//! - RFC 3525 Annex E (H.248.1 v1 text, shipped in Erlang/OTP `lib/megaco/doc/standard/`);
//! - Erlang/OTP `megaco_binary_name_resolver_v3.erl` (v2 items, Annex C tags);
//! - Wireshark `packet-h248-template.c` (package table, `it/ito`, hangterm heartbeat) and
//!   `packet-h248_10.c` (`chp`);
//! - RFC 3525 Annex C.11 (SDP tags);
//! - the digest, sections 2.1/2.2 (TS 29.334 package tables) and 2.4 (placeholders).

use iq_codec::packages::{
    annex_c_tag, is_valid_name, sdp_line_type, sdp_tag, ItemKind, ProfileError, Registry,
    ValueType, SDP_LINE_TYPES, WILDCARD_ID,
};

use ItemKind::{Event, Property, Signal, Statistic};

fn reg() -> Registry {
    Registry::builtin()
}

/// (kind, text name, package ID, item ID) as read in RFC 3525 Annex E (clause in comment).
const ANNEX_E: &[(ItemKind, &str, u16, u16)] = &[
    (Event, "g/cause", 0x0001, 0x0001), // E.1.2 "EventID: cause (0x0001)"
    (Event, "g/sc", 0x0001, 0x0002),    // E.1.2 "EventID: sc (0x0002)"
    (Property, "root/maxnumberofcontexts", 0x0002, 0x0001), // E.2.1
    (Property, "root/maxterminationspercontext", 0x0002, 0x0002), // E.2.1
    (Property, "root/normalmgexecutiontime", 0x0002, 0x0003), // E.2.1
    (Property, "root/normalmgcexecutiontime", 0x0002, 0x0004), // E.2.1
    (
        Property,
        "root/mgprovisionalresponsetimervalue",
        0x0002,
        0x0005,
    ), // E.2.1
    (
        Property,
        "root/mgcprovisionalresponsetimervalue",
        0x0002,
        0x0006,
    ), // E.2.1
    (Property, "root/mgcoriginatedpendinglimit", 0x0002, 0x0007), // v2: megaco v3 resolver + Wireshark
    (Property, "root/mgoriginatedpendinglimit", 0x0002, 0x0008), // v2: megaco v3 resolver + Wireshark
    (Signal, "tonegen/pt", 0x0003, 0x0001),                      // E.3.3 "SignalID: pt (0x0001)"
    (Event, "tonedet/std", 0x0004, 0x0001),                      // E.4.2 "EventID: std, 0x0001"
    (Event, "tonedet/etd", 0x0004, 0x0002),                      // E.4.2
    (Event, "tonedet/ltd", 0x0004, 0x0003),                      // E.4.2
    (Signal, "dg/d0", 0x0005, 0x0010),                           // E.5.3 table
    (Signal, "dg/d9", 0x0005, 0x0019),                           // E.5.3 table
    (Signal, "dg/ds", 0x0005, 0x0020), // E.5.3 "DTMF character * ds (0x0020)"
    (Signal, "dg/do", 0x0005, 0x0021), // E.5.3 "DTMF character # do (0x0021)"
    (Signal, "dg/da", 0x0005, 0x001a), // E.5.3
    (Signal, "dg/dd", 0x0005, 0x001d), // E.5.3
    (Event, "dd/d5", 0x0006, 0x0015),  // E.6.2 (same IDs as E.5.3)
    (Event, "dd/ce", 0x0006, 0x0004),  // E.6.2 "EventID: ce, 0x0004"
    (Signal, "cg/dt", 0x0007, 0x0030), // E.7.3 table
    (Signal, "cg/sit", 0x0007, 0x0034), // E.7.3 table
    (Signal, "cg/cr", 0x0007, 0x0038), // E.7.3 table
    (Event, "cd/bt", 0x0008, 0x0032),  // E.8.2 (as in E.7.3)
    (Event, "al/on", 0x0009, 0x0004),  // E.9.2 "EventID: on (0x0004)"
    (Event, "al/of", 0x0009, 0x0005),  // E.9.2
    (Event, "al/fl", 0x0009, 0x0006),  // E.9.2
    (Signal, "al/ri", 0x0009, 0x0002), // E.9.3 "SignalID: ri, 0x0002"
    (Event, "ct/cmp", 0x000a, 0x0005), // E.10.2
    (Signal, "ct/ct", 0x000a, 0x0003), // E.10.3
    (Signal, "ct/rsp", 0x000a, 0x0004), // E.10.3
    (Property, "nt/jit", 0x000b, 0x0007), // E.11.1
    (Event, "nt/netfail", 0x000b, 0x0005), // E.11.2
    (Event, "nt/qualert", 0x000b, 0x0006), // E.11.2
    (Statistic, "nt/dur", 0x000b, 0x0001), // E.11.4
    (Statistic, "nt/os", 0x000b, 0x0002), // E.11.4
    (Statistic, "nt/or", 0x000b, 0x0003), // E.11.4
    (Event, "rtp/pltrans", 0x000c, 0x0001), // E.12.2
    (Statistic, "rtp/ps", 0x000c, 0x0004), // E.12.4
    (Statistic, "rtp/pr", 0x000c, 0x0005), // E.12.4
    (Statistic, "rtp/pl", 0x000c, 0x0006), // E.12.4
    (Statistic, "rtp/jit", 0x000c, 0x0007), // E.12.4
    (Statistic, "rtp/delay", 0x000c, 0x0008), // E.12.4
    (Property, "tdmc/ec", 0x000d, 0x0008), // E.13.1
    (Property, "tdmc/gain", 0x000d, 0x000a), // E.13.1
];

#[test]
fn annex_e_items_both_ways() {
    let r = reg();
    for &(kind, name, pkg, item) in ANNEX_E {
        assert_eq!(r.item_ids(kind, name), Some((pkg, item)), "{kind} {name}");
        assert_eq!(
            r.item_name(kind, pkg, item).as_deref(),
            Some(name),
            "{kind} {pkg:#06x}/{item:#06x}"
        );
        let def = r.item_def(kind, name).expect(name);
        assert!(def.confirmed, "{name} should be confirmed");
    }
}

#[test]
fn annex_e_package_ids_versions_and_extends() {
    let r = reg();
    // (name, ID, version, extends): IANA Megaco/H.248 package registry rows 0x0001-0x000d.
    let rows: &[(&str, u16, u8, Option<&str>)] = &[
        ("g", 0x0001, 2, None),
        ("root", 0x0002, 2, None),
        ("tonegen", 0x0003, 2, None),
        ("tonedet", 0x0004, 1, None),
        ("dg", 0x0005, 2, Some("tonegen")),
        ("dd", 0x0006, 2, Some("tonedet")),
        ("cg", 0x0007, 2, Some("tonegen")),
        ("cd", 0x0008, 1, Some("tonedet")),
        ("al", 0x0009, 1, None),
        ("ct", 0x000a, 1, None),
        ("nt", 0x000b, 1, None),
        ("rtp", 0x000c, 2, Some("nt")),
        ("tdmc", 0x000d, 1, Some("nt")),
    ];
    for &(name, id, version, extends) in rows {
        let p = r.package_by_name(name).expect(name);
        assert_eq!(p.id, id, "{name}");
        assert_eq!(p.version, version, "{name}");
        assert_eq!(p.extends.as_deref(), extends, "{name}");
        assert!(p.confirmed);
        assert!(p.source.contains("H.248.1 Annex E"), "{name}: {}", p.source);
        assert_eq!(r.package_by_id(id).map(|p| p.name.as_str()), Some(name));
        assert_eq!(r.package_id(name), Some(id));
        assert_eq!(r.package_name(id), name);
    }
}

#[test]
fn annex_e_parameters_and_enums() {
    let r = reg();
    // (kind, item, parameter, ID): RFC 3525 Annex E; rid/btd from megaco v3 + Wireshark.
    let params: &[(ItemKind, &str, &str, u16)] = &[
        (Event, "g/cause", "generalcause", 0x0001),  // E.1.2
        (Event, "g/cause", "failurecause", 0x0002),  // E.1.2
        (Event, "g/sc", "sigid", 0x0001),            // E.1.2
        (Event, "g/sc", "meth", 0x0002),             // E.1.2
        (Event, "g/sc", "slid", 0x0003),             // E.1.2
        (Event, "g/sc", "rid", 0x0004),              // v2 (megaco, Wireshark)
        (Signal, "tonegen/pt", "tl", 0x0001),        // E.3.3
        (Signal, "tonegen/pt", "ind", 0x0002),       // E.3.3
        (Signal, "tonegen/pt", "btd", 0x0003),       // v2 (megaco, Wireshark)
        (Event, "tonedet/etd", "tid", 0x0003),       // E.4.2
        (Event, "tonedet/etd", "dur", 0x0002),       // E.4.2
        (Signal, "dg/d1", "btd", 0x0001),            // v2 (megaco, Wireshark)
        (Event, "dd/ce", "ds", 0x0001),              // E.6.2
        (Event, "dd/ce", "meth", 0x0003),            // E.6.2
        (Event, "al/on", "strict", 0x0001),          // E.9.2
        (Event, "al/of", "init", 0x0002),            // E.9.2
        (Event, "al/fl", "mindur", 0x0004),          // E.9.2
        (Event, "al/fl", "maxdur", 0x0005),          // E.9.2
        (Signal, "al/ri", "cad", 0x0006),            // E.9.3
        (Signal, "al/ri", "freq", 0x0007),           // E.9.3
        (Event, "ct/cmp", "res", 0x0008),            // E.10.2
        (Event, "nt/netfail", "cs", 0x0001),         // E.11.2
        (Event, "nt/qualert", "th", 0x0001),         // E.11.2
        (Event, "rtp/pltrans", "rtppltype", 0x0001), // E.12.2
    ];
    for &(kind, item, param, id) in params {
        assert_eq!(r.param_id(kind, item, param), Some(id), "{item} {param}");
        let (p, i) = r.item_ids(kind, item).unwrap();
        assert_eq!(
            r.param_name(kind, p, i, id).as_deref(),
            Some(param),
            "{item} {param}"
        );
    }
    // Text parameter names are case-insensitive (H.248.1 writes "Generalcause", "SigID").
    assert_eq!(r.param_id(Event, "g/cause", "Generalcause"), Some(1));
    assert_eq!(r.param_id(Event, "G/SC", "SigID"), Some(1));

    // Enumeration values, RFC 3525 Annex E.
    let gc = &r
        .param_def(Event, "g/cause", "generalcause")
        .unwrap()
        .value_type;
    assert_eq!(gc.enum_value("NR"), Some(0x0001)); // E.1.2 "NR" Normal Release (0x0001)
    assert_eq!(gc.enum_value("fp"), Some(0x0004)); // "FP" Failure, Permanent (0x0004)
    assert_eq!(gc.enum_name(0x0006), Some("un")); // "UN" Unsupported (0x0006)
    let meth = &r.param_def(Event, "g/sc", "meth").unwrap().value_type;
    assert_eq!(meth.enum_value("sd"), Some(0x0003)); // "SD" (0x0003) Halted by new Signals descriptor
    let strict = &r.param_def(Event, "al/on", "strict").unwrap().value_type;
    assert_eq!(strict.enum_value("failwrong"), Some(0x02)); // E.9.2 "failWrong" (0x02)
    let res = &r.param_def(Event, "ct/cmp", "res").unwrap().value_type;
    assert_eq!(res.enum_value("success"), Some(0x0001)); // E.10.2 success (0x0001)
    assert_eq!(res.enum_value("failure"), Some(0x0000)); // failure (0x0000)
    let dm = &r.param_def(Event, "dd/ce", "meth").unwrap().value_type;
    assert_eq!(dm.enum_value("fm"), Some(0x0003)); // E.6.2 "FM" (0x0003)
                                                   // Types: root maxNumberOfContexts is "double", tdmc/ec boolean (RFC 3525 E.2.1, E.13.1).
    assert_eq!(
        r.item_def(Property, "root/maxnumberofcontexts")
            .unwrap()
            .value_type,
        ValueType::Double
    );
    assert_eq!(
        r.item_def(Property, "tdmc/ec").unwrap().value_type,
        ValueType::Boolean
    );
    assert_eq!(
        r.param_def(Event, "nt/qualert", "th").unwrap().value_type,
        ValueType::integer_range(0, 99) // E.11.2 "Possible values: 0 to 99"
    );
}

#[test]
fn extended_packages_resolve_through_extends() {
    let r = reg();
    // dd extends tonedet (E.6): tonedet events are usable as dd/..., with dd's package ID.
    assert_eq!(r.item_ids(Event, "dd/std"), Some((0x0006, 0x0001)));
    assert_eq!(
        r.item_name(Event, 0x0006, 0x0001).as_deref(),
        Some("dd/std")
    );
    assert_eq!(r.item_ids(Event, "cd/ltd"), Some((0x0008, 0x0003)));
    // Parameters of inherited items too.
    assert_eq!(r.param_id(Event, "dd/etd", "dur"), Some(0x0002));
    assert_eq!(
        r.param_name(Event, 0x0006, 0x0002, 0x0002).as_deref(),
        Some("dur")
    );
    // dg/cg extend tonegen: pt through dg.
    assert_eq!(r.item_ids(Signal, "dg/pt"), Some((0x0005, 0x0001)));
    assert_eq!(r.param_id(Signal, "cg/pt", "ind"), Some(0x0002));
    // rtp and tdmc extend nt (E.12/E.13).
    assert_eq!(r.item_ids(Statistic, "rtp/os"), Some((0x000c, 0x0002)));
    assert_eq!(r.item_ids(Event, "rtp/netfail"), Some((0x000c, 0x0005)));
    assert_eq!(r.item_ids(Property, "tdmc/jit"), Some((0x000d, 0x0007)));
    assert_eq!(
        r.item_name(Statistic, 0x000c, 0x0001).as_deref(),
        Some("rtp/dur")
    );
    // A base does not see its extensions' items.
    assert_eq!(r.item_ids(Event, "tonedet/d0"), None);
    assert_eq!(r.item_ids(Event, "nt/pltrans"), None);
    // The ID spaces of the kinds are separate: rtp/jit statistic 0x0007 (E.12.4) and the
    // inherited nt/jit property 0x0007 (E.11.1).
    assert_eq!(r.item_ids(Statistic, "rtp/jit"), Some((0x000c, 0x0007)));
    assert_eq!(r.item_ids(Property, "rtp/jit"), Some((0x000c, 0x0007)));
    assert_eq!(r.item_ids(Property, "g/cause"), None);
    assert_eq!(r.item_ids(Signal, "al/on"), None);
}

#[test]
fn iq_package_ids() {
    let r = reg();
    // Digest 2.1 / 2.2 (TS 29.334 Tables 5.14.1.1 and 5.14.2.1, IDs cross-checked in
    // Wireshark's package table), and Wireshark's table for the others.
    let rows: &[(&str, u16)] = &[
        ("ipnapt", 0x0099),
        ("gm", 0x008c),
        ("tman", 0x008d),
        ("ipdc", 0x009d),
        ("hangterm", 0x0098),
        ("ds", 0x008b),
        ("rtcph", 0x00b5),
        ("it", 0x0045),
        ("ocp", 0x0051),
        ("chp", 0x0029),
        ("ipra", 0x00e0),
        ("adid", 0x009c),
        ("srtp", 0x0107),  // Wireshark: "Secure RTP Package" H.248.77
        ("seg", 0x00a3),   // Wireshark: "Segmentation Package" H.248.1v3
        ("xdtls", 0x8f01), // digest 2.4 placeholder
    ];
    for &(name, id) in rows {
        assert_eq!(r.package_id(name), Some(id), "{name}");
        assert_eq!(r.package_name(id), name);
    }
    // Digest 0.2 #3: root is 0x0002, not the 0x0051 printed in TS 29.334 (that is ocp).
    assert_eq!(r.package_id("root"), Some(0x0002));
    assert_eq!(r.package_name(0x0051), "ocp");
    // H.248.50 STUN/ICE packages occupy 0x00bd-0x00c5 (Wireshark table).
    for id in 0x00bd..=0x00c5u16 {
        let p = r.package_by_id(id).expect("H.248.50 package");
        assert!(!p.confirmed, "{} text name is a placeholder", p.name);
        assert!(p.source.contains("H.248.50"));
    }
    // Items whose IDs were read in a source.
    assert_eq!(r.item_ids(Event, "it/ito"), Some((0x0045, 0x0001))); // Wireshark 0x00450001 "it/ito"
    assert!(r.item_def(Event, "it/ito").unwrap().confirmed);
    assert_eq!(r.item_ids(Event, "chp/mgcon"), Some((0x0029, 0x0001))); // packet-h248_10.c
    assert_eq!(r.param_id(Event, "chp/mgcon", "reduction"), Some(0x0001));
    assert_eq!(r.item_ids(Event, "hangterm/thb"), Some((0x0098, 0x0001))); // Wireshark 0x00980001
    assert_eq!(r.param_id(Event, "hangterm/thb", "timerx"), Some(0x0001));
}

#[test]
fn placeholders_and_recalled_items_are_unconfirmed() {
    let r = reg();
    let x = r.package_by_name("xdtls").unwrap();
    assert!(!x.confirmed);
    assert!(x.source.contains("digest"), "{}", x.source);
    assert_eq!(r.item_ids(Signal, "xdtls/estab"), Some((0x8f01, 0x0001)));
    assert_eq!(r.item_ids(Event, "xdtls/estfail"), Some((0x8f01, 0x0001)));
    assert_eq!(r.param_id(Event, "xdtls/estfail", "cause"), Some(0x0001));
    let cause = r.param_def(Event, "xdtls/estfail", "cause").unwrap();
    assert_eq!(cause.value_type, ValueType::String);
    assert!(!cause.confirmed);
    for (k, n) in [(Signal, "xdtls/estab"), (Event, "xdtls/estfail")] {
        let d = r.item_def(k, n).unwrap();
        assert!(!d.confirmed, "{n}");
        assert!(
            d.note.as_deref().unwrap_or("").contains("placeholder"),
            "{n}"
        );
    }
    // Recalled Iq items are marked unconfirmed with a note.
    for (k, n) in [
        (Event, "hangterm/thb"),
        (Property, "ipnapt/latch"),
        (Property, "ipdc/realm"),
        (Property, "ds/dscp"),
        (Property, "gm/saf"),
        (Property, "tman/pol"),
        (Property, "rtcph/rtcpa"),
        (Event, "ocp/mg_overload"),
        (Event, "adid/ipstop"),
    ] {
        let d = r.item_def(k, n).unwrap_or_else(|| panic!("{n}"));
        assert!(!d.confirmed, "{n} must be unconfirmed");
        assert!(d.note.is_some(), "{n} needs a note");
    }
    assert!(
        !r.param_def(Event, "hangterm/thb", "timerx")
            .unwrap()
            .confirmed
    );
    // The listing names them.
    let list = r.unconfirmed();
    assert!(
        list.iter()
            .any(|l| l.starts_with("signal xdtls/estab = 0x8f01/0x0001")),
        "{list:#?}"
    );
    assert!(list.iter().any(|l| l.starts_with("package xdtls = 0x8f01")));
    assert!(list.iter().any(|l| l.starts_with("event hangterm/thb")));
    // No Annex E item is listed (only the cg v2 btd parameters are unconfirmed there).
    for l in &list {
        for p in ["g/", "root/", "dd/", "al/", "rtp/", "nt/", "tdmc/"] {
            assert!(!l.contains(&format!(" {p}")), "{l}");
        }
    }
}

#[test]
fn wildcards() {
    let r = reg();
    // H.248.1 A.1 PkgdName: 0xFFFF item = all items; 0xFFFF package only with 0xFFFF item.
    assert_eq!(r.item_ids(Event, "*/*"), Some((WILDCARD_ID, WILDCARD_ID)));
    assert_eq!(r.item_ids(Event, "al/*"), Some((0x0009, WILDCARD_ID)));
    assert_eq!(r.item_ids(Property, "xdtls/*"), Some((0x8f01, WILDCARD_ID)));
    assert_eq!(r.item_ids(Event, "p8f02/*"), Some((0x8f02, WILDCARD_ID)));
    assert_eq!(r.item_ids(Event, "*/on"), None);
    // CHOOSE is not allowed in a PkgdName.
    assert_eq!(r.item_ids(Event, "$/*"), None);
    assert_eq!(r.item_ids(Event, "al/$"), None);
    assert_eq!(
        r.item_name(Event, WILDCARD_ID, WILDCARD_ID).as_deref(),
        Some("*/*")
    );
    assert_eq!(
        r.item_name(Event, 0x0009, WILDCARD_ID).as_deref(),
        Some("al/*")
    );
    assert_eq!(r.item_name(Event, WILDCARD_ID, 0x0004), None);
    assert_eq!(r.param_id(Event, "al/*", "strict"), None);
    assert_eq!(r.param_name(Event, 0x0009, WILDCARD_ID, 1), None);
}

#[test]
fn unknown_ids_pass_through_both_ways() {
    let r = reg();
    // Unknown package and item.
    assert_eq!(
        r.item_name(Event, 0x8f02, 0x0002).as_deref(),
        Some("p8f02/i0002")
    );
    assert_eq!(r.item_ids(Event, "p8f02/i0002"), Some((0x8f02, 0x0002)));
    assert_eq!(r.item_ids(Event, "P8F02/I0002"), Some((0x8f02, 0x0002)));
    // Known package, unknown item (g has no event 0x0003).
    assert_eq!(
        r.item_name(Event, 0x0001, 0x0003).as_deref(),
        Some("g/i0003")
    );
    assert_eq!(r.item_ids(Event, "g/i0003"), Some((0x0001, 0x0003)));
    // The hex form of a known item resolves to the same IDs; the canonical name is the table's.
    assert_eq!(r.item_ids(Event, "p0001/i0001"), Some((0x0001, 0x0001)));
    assert_eq!(
        r.item_name(Event, 0x0001, 0x0001).as_deref(),
        Some("g/cause")
    );
    // Parameters.
    assert_eq!(
        r.param_name(Event, 0x0001, 0x0001, 0x0009).as_deref(),
        Some("i0009")
    );
    assert_eq!(r.param_id(Event, "g/cause", "i0009"), Some(0x0009));
    assert_eq!(r.param_id(Event, "p8f02/i0002", "i00ff"), Some(0x00ff));
    assert_eq!(
        r.param_name(Event, 0x8f02, 0x0002, 0x00ff).as_deref(),
        Some("i00ff")
    );
    // Names that are neither in the table nor in hex form cannot be encoded.
    assert_eq!(r.item_ids(Event, "g/nosuch"), None);
    assert_eq!(r.item_ids(Event, "nosuch/x"), None);
    assert_eq!(r.item_ids(Event, "g/cause/x"), None);
    assert_eq!(r.param_id(Event, "g/cause", "nosuch"), None);

    // Round trip over a grid of IDs, all kinds: ids -> name -> ids, and every name is a valid
    // H.248 text pkgdName (NAME "/" NAME).
    let pkgs = [
        0x0001, 0x0002, 0x0006, 0x0099, 0x00a3, 0x0107, 0x1234, 0x7fff, 0x8000, 0x8f01, 0xfffe,
    ];
    let items = [
        0x0000, 0x0001, 0x0002, 0x0004, 0x0010, 0x0021, 0x7fff, 0x8000, 0xfffe,
    ];
    for kind in ItemKind::ALL {
        for &p in &pkgs {
            for &i in &items {
                let name = r.item_name(kind, p, i).unwrap();
                let (a, b) = name.split_once('/').unwrap();
                assert!(is_valid_name(a) && is_valid_name(b), "{name}");
                assert_eq!(r.item_ids(kind, &name), Some((p, i)), "{kind} {name}");
                for par in [0x0000u16, 0x0001, 0x0003, 0xffff] {
                    let pn = r.param_name(kind, p, i, par).unwrap();
                    assert!(is_valid_name(&pn), "{pn}");
                    assert_eq!(r.param_id(kind, &name, &pn), Some(par), "{name} {pn}");
                }
            }
        }
    }
}

#[test]
fn annex_c_sdp_tags() {
    // RFC 3525 Annex C.11: SDP_V B001 ... SDP_M B00F, in this order.
    let expected = "vosiuepcbzkatrm";
    for (i, c) in expected.chars().enumerate() {
        let t = c.to_string();
        assert_eq!(sdp_tag(&t), Some(0xB001 + i as u16), "{t}");
        assert_eq!(sdp_line_type(0xB001 + i as u16), Some(t.as_str()));
    }
    assert_eq!(SDP_LINE_TYPES.len(), 15);
    // The three tags seen in megaco's BER output (digest 3.5).
    assert_eq!(sdp_tag("v"), Some(0xB001));
    assert_eq!(sdp_tag("c"), Some(0xB008));
    assert_eq!(sdp_tag("m"), Some(0xB00F));
    assert_eq!(sdp_tag("x"), None);
    assert_eq!(sdp_line_type(0xB010), None);
    // C.6 IP (RFC 3525; megaco's names).
    assert_eq!(annex_c_tag("ipv4"), Some(0x6001));
    assert_eq!(annex_c_tag("port"), Some(0x6003));

    // Through the registry: bare names are Annex C properties of package 0x0000.
    let r = reg();
    assert_eq!(r.item_ids(Property, "a"), Some((0x0000, 0xB00C)));
    assert_eq!(r.item_ids(Property, "m"), Some((0x0000, 0xB00F)));
    assert_eq!(r.item_name(Property, 0x0000, 0xB008).as_deref(), Some("c"));
    assert_eq!(
        r.item_name(Property, 0x0000, 0x6004).as_deref(),
        Some("porttype")
    );
    assert_eq!(r.item_ids(Event, "a"), None);
    // Unknown Annex C tags pass through too.
    assert_eq!(
        r.item_name(Property, 0x0000, 0x4001).as_deref(),
        Some("p0000/i4001")
    );
    assert_eq!(r.item_ids(Property, "p0000/i4001"), Some((0x0000, 0x4001)));
}

const REMAP: &str = r#"
[profile]
name = "vendor-x"
peer = "agw1.example.net"

[[package]]
match = "xdtls"
name = "vdtls"
id = 0x9001
confirmed = true
source = "Vendor X Iq profile, table 7"

[[package.item]]
kind = "signal"
match = "estab"
name = "dtlsstart"
id = 0x0010
confirmed = true

[[package.item]]
kind = "event"
match = "estfail"
name = "dtlsfail"
id = 0x0011

[[package.item.param]]
match = "cause"
name = "reason"
id = 0x0002
"#;

#[test]
fn profile_renames_and_reids_xdtls() {
    let r = Registry::with_profile(REMAP).unwrap();
    // Text -> BER.
    assert_eq!(
        r.item_ids(Signal, "vdtls/dtlsstart"),
        Some((0x9001, 0x0010))
    );
    assert_eq!(r.item_ids(Event, "vdtls/dtlsfail"), Some((0x9001, 0x0011)));
    assert_eq!(r.param_id(Event, "vdtls/dtlsfail", "reason"), Some(0x0002));
    // BER -> text.
    assert_eq!(
        r.item_name(Signal, 0x9001, 0x0010).as_deref(),
        Some("vdtls/dtlsstart")
    );
    assert_eq!(
        r.item_name(Event, 0x9001, 0x0011).as_deref(),
        Some("vdtls/dtlsfail")
    );
    assert_eq!(
        r.param_name(Event, 0x9001, 0x0011, 0x0002).as_deref(),
        Some("reason")
    );
    // The old coding is gone (and passes through as unknown).
    assert_eq!(r.item_ids(Signal, "xdtls/estab"), None);
    assert_eq!(
        r.item_name(Signal, 0x8f01, 0x0001).as_deref(),
        Some("p8f01/i0001")
    );
    // Confirmation as the profile says; the event kept its unconfirmed status.
    assert!(r.package_by_name("vdtls").unwrap().confirmed);
    assert!(r.item_def(Signal, "vdtls/dtlsstart").unwrap().confirmed);
    assert!(!r.item_def(Event, "vdtls/dtlsfail").unwrap().confirmed);
    assert_eq!(
        r.package_by_name("vdtls").unwrap().source,
        "Vendor X Iq profile, table 7"
    );
    // Everything else is untouched, and the built-in table is unchanged.
    assert_eq!(r.item_ids(Event, "g/cause"), Some((1, 1)));
    assert_eq!(
        Registry::builtin().item_ids(Signal, "xdtls/estab"),
        Some((0x8f01, 1))
    );
}

#[test]
fn profile_is_deterministic_and_idempotent() {
    let a = Registry::with_profile(REMAP).unwrap();
    let b = Registry::with_profile(REMAP).unwrap();
    assert_eq!(a, b);
    let mut c = a.clone();
    c.apply_profile(REMAP).unwrap();
    assert_eq!(a, c, "applying the same profile twice changes nothing");
    assert_ne!(a, Registry::builtin());
}

#[test]
fn profile_adds_packages_items_and_changes_bases() {
    let text = r#"
[[package]]
name = "tlsbsc"
id = 0x8f10
version = 1
confirmed = false
note = "guess for H.248.90 clause 8"

[[package.item]]
kind = "property"
name = "role"
id = 0x0001
type = "enum"
values = { client = 1, server = 2 }

[[package.item]]
kind = "statistic"
name = "pkts"
id = 0x0002
type = "uint"
min = 0

[[package]]
name = "tlsext"
id = 0x8f11
extends = "tlsbsc"

[[package]]
match = "ipra"
[[package.item]]
kind = "event"
name = "rlmchg"
id = 0x0001
[[package.item.param]]
name = "realms"
id = 0x0001
type = "sublist"
of = "string"

[[package]]
match = "tonedet"
[[package.item]]
kind = "event"
match = "std"
id = 0x0009
"#;
    let r = Registry::with_profile(text).unwrap();
    assert_eq!(r.item_ids(Property, "tlsbsc/role"), Some((0x8f10, 1)));
    let role = r.item_def(Property, "tlsbsc/role").unwrap();
    assert_eq!(role.value_type.enum_value("server"), Some(2));
    assert!(role.confirmed, "new entries default to confirmed");
    assert!(!r.package_by_name("tlsbsc").unwrap().confirmed);
    assert_eq!(
        r.item_ids(Property, "tlsext/role"),
        Some((0x8f11, 1)),
        "inherited"
    );
    assert_eq!(
        r.item_name(Statistic, 0x8f11, 2).as_deref(),
        Some("tlsext/pkts")
    );
    assert_eq!(r.item_ids(Event, "ipra/rlmchg"), Some((0x00e0, 1)));
    assert_eq!(r.param_id(Event, "ipra/rlmchg", "realms"), Some(1));
    // Changing a base item moves it in every extension.
    assert_eq!(r.item_ids(Event, "dd/std"), Some((0x0006, 0x0009)));
    assert_eq!(
        r.item_name(Event, 0x0008, 0x0009).as_deref(),
        Some("cd/std")
    );
}

#[test]
fn example_vendor_profile_loads() {
    let text = include_str!("../profiles/example-vendor.toml");
    let r = Registry::with_profile(text).unwrap();
    assert_eq!(r, Registry::with_profile(text).unwrap());
    // The example maps the DTLS placeholders onto a vendor package and confirms them.
    assert_eq!(r.item_ids(Signal, "xdtls/estab"), None);
    let (p, i) = r.item_ids(Signal, "vdtls/start").unwrap();
    assert_eq!((p, i), (0xfe10, 0x0001));
    assert_eq!(r.item_name(Signal, p, i).as_deref(), Some("vdtls/start"));
    assert_eq!(r.param_id(Event, "vdtls/fail", "reason"), Some(0x0001));
    assert_eq!(r.item_ids(Event, "hangterm/thb"), Some((0x0098, 0x0001)));
    assert!(r.item_def(Event, "hangterm/thb").unwrap().confirmed);
}

fn err(text: &str) -> ProfileError {
    Registry::with_profile(text).expect_err("profile must be refused")
}

#[test]
fn profile_errors() {
    // Not TOML.
    let e = err("[[package]\nname = \"x\"\n");
    assert!(matches!(e, ProfileError::Syntax { .. }), "{e}");
    assert_eq!(e.line(), Some(1), "{e}");
    // Unknown key.
    let e = err("[[package]]\nmatch = \"g\"\ncolour = \"red\"\n");
    assert!(matches!(e, ProfileError::Syntax { .. }), "{e}");
    assert!(e.to_string().contains("colour"), "{e}");
    // Wrong value type.
    let e = err("[[package]]\nname = \"x\"\nid = \"one\"\n");
    assert!(matches!(e, ProfileError::Syntax { .. }), "{e}");

    // Two items of one kind with one ID: g/sc moved onto g/cause's ID.
    let text = "\n\n[[package]]\nmatch = \"g\"\n[[package.item]]\nkind = \"event\"\nmatch = \"sc\"\nid = 0x0001\n";
    let e = err(text);
    assert!(matches!(e, ProfileError::Conflict { .. }), "{e}");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(e.to_string().contains("at line 3"), "{e}");
    assert!(e.to_string().contains("0x0001"), "{e}");
    // ... but the same ID in another kind is fine.
    Registry::with_profile(
        "[[package]]\nmatch = \"g\"\n[[package.item]]\nkind = \"property\"\nname = \"x\"\nid = 1\n",
    )
    .unwrap();
    // An inherited item counts: dd may not reuse tonedet's std ID (0x0001) for an event.
    let e = err(
        "[[package]]\nmatch = \"dd\"\n[[package.item]]\nkind = \"event\"\nname = \"x\"\nid = 1\n",
    );
    assert!(matches!(e, ProfileError::Conflict { .. }), "{e}");
    // Two names for one item name.
    let e = err("[[package]]\nmatch = \"al\"\n[[package.item]]\nkind = \"event\"\nmatch = \"of\"\nname = \"on\"\n");
    assert!(matches!(e, ProfileError::Conflict { .. }), "{e}");
    // Two packages with one ID / one name.
    let e = err("[[package]]\nname = \"foo\"\nid = 0x0001\n");
    assert!(matches!(e, ProfileError::Conflict { .. }), "{e}");
    let e = err("[[package]]\nmatch = \"gm\"\nname = \"tman\"\n");
    assert!(matches!(e, ProfileError::Conflict { .. }), "{e}");
    // Parameters of one item clash.
    let e = err("[[package]]\nmatch = \"g\"\n[[package.item]]\nkind = \"event\"\nmatch = \"sc\"\n[[package.item.param]]\nmatch = \"rid\"\nid = 3\n");
    assert!(matches!(e, ProfileError::Conflict { .. }), "{e}");
    // Broken extends.
    let e = err("[[package]]\nname = \"foo\"\nid = 0x9000\nextends = \"nosuch\"\n");
    assert!(matches!(e, ProfileError::Conflict { .. }), "{e}");
    let e = err("[[package]]\nmatch = \"tonegen\"\nextends = \"dg\"\n");
    assert!(matches!(e, ProfileError::Conflict { .. }), "{e}");

    // Invalid entries, with their line.
    let e = err("# c\n[[package]]\nmatch = \"nosuch\"\nid = 0x9000\n");
    assert!(matches!(e, ProfileError::Invalid { .. }), "{e}");
    assert_eq!(e.line(), Some(2), "{e}");
    let e = err("[[package]]\nname = \"p1234\"\nid = 0x9000\n");
    assert!(matches!(e, ProfileError::Invalid { .. }), "{e}");
    let e = err("[[package]]\nname = \"new\"\n");
    assert!(e.to_string().contains("needs an 'id'"), "{e}");
    for id in ["0x0000", "0xffff", "0x10000", "-1"] {
        let e = err(&format!("[[package]]\nname = \"new\"\nid = {id}\n"));
        assert!(matches!(e, ProfileError::Invalid { .. }), "{id}: {e}");
    }
    let e = err("[[package]]\nname = \"9x\"\nid = 0x9000\n");
    assert!(matches!(e, ProfileError::Invalid { .. }), "{e}");
    let e = err(
        "[[package]]\nmatch = \"g\"\n\n[[package.item]]\nkind = \"gadget\"\nname = \"x\"\nid = 1\n",
    );
    assert!(matches!(e, ProfileError::Invalid { .. }), "{e}");
    assert_eq!(e.line(), Some(4), "{e}");
    let e = err("[[package]]\nmatch = \"g\"\n[[package.item]]\nkind = \"event\"\nname = \"i0007\"\nid = 7\n");
    assert!(matches!(e, ProfileError::Invalid { .. }), "{e}");
    let e = err("[[package]]\nmatch = \"dd\"\n[[package.item]]\nkind = \"event\"\nmatch = \"std\"\nid = 9\n");
    assert!(e.to_string().contains("base package"), "{e}");
    let e = err("[[package]]\nmatch = \"g\"\n[[package.item]]\nkind = \"event\"\nname = \"x\"\nid = 9\ntype = \"enum\"\n");
    assert!(e.to_string().contains("values"), "{e}");
    let e = err("[[package]]\nmatch = \"g\"\n[[package.item]]\nkind = \"event\"\nname = \"x\"\nid = 9\ntype = \"real\"\n");
    assert!(matches!(e, ProfileError::Invalid { .. }), "{e}");
}

#[test]
fn failed_profile_leaves_registry_unchanged() {
    let mut r = Registry::builtin();
    let before = r.clone();
    let bad =
        "[[package]]\nmatch = \"xdtls\"\nname = \"ok\"\n[[package]]\nname = \"foo\"\nid = 0x0001\n";
    assert!(r.apply_profile(bad).is_err());
    assert_eq!(r, before);
    assert_eq!(r.package_id("xdtls"), Some(0x8f01));
}

#[test]
fn builtin_is_consistent_and_shared() {
    let r = Registry::builtin();
    assert_eq!(&r, Registry::shared_builtin());
    // Every item of every package round-trips through its IDs.
    for p in r.packages() {
        for i in &p.items {
            let name = format!("{}/{}", p.name, i.name);
            assert_eq!(r.item_ids(i.kind, &name), Some((p.id, i.id)), "{name}");
            assert_eq!(
                r.item_name(i.kind, p.id, i.id).as_deref(),
                Some(name.as_str())
            );
            for par in &i.params {
                assert_eq!(r.param_id(i.kind, &name, &par.name), Some(par.id));
            }
        }
    }
}
