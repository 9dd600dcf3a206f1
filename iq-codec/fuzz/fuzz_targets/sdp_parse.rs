//! Arbitrary text into the SDP model (`iq_codec::sdp`). It must never panic, loop or overflow,
//! and what `parse_all` accepts must keep the model's promises:
//!
//! * lossless: `write_all(parse_all(s)) == s`;
//! * stable: parsing the written text again gives the same model;
//! * the H.248 form: `to_descriptor` then `from_descriptor` gives the same model back;
//! * every typed getter (session and media level) returns `Ok` or `Err`, never panics, and a
//!   typed attribute value it returns is written (`Display`) as text that parses back to the
//!   same value;
//! * `check_strict` returns `Ok` or `Err`.
#![no_main]

use iq_codec::sdp::{Block, Candidate, FingerprintAttr, RtpMap, Sdp};
use libfuzzer_sys::fuzz_target;

/// A typed value's text form parses back to the same value.
fn stable<T, E>(v: &T, parse: impl Fn(&str) -> Result<T, E>, what: &str)
where
    T: PartialEq + std::fmt::Debug + std::fmt::Display,
    E: std::fmt::Debug,
{
    let text = v.to_string();
    match parse(&text) {
        Ok(back) => assert_eq!(&back, v, "{what}: {text:?} reads back differently"),
        Err(e) => panic!("{what}: {v:?} written as {text:?} does not parse: {e:?}"),
    }
}

fn getters(b: &Block) {
    let _ = b.connection();
    let _ = b.bandwidths();
    if let Ok(fps) = b.fingerprints() {
        for f in &fps {
            if !f.is_choose() {
                stable(f, FingerprintAttr::parse, "fingerprint");
            }
        }
    }
    let _ = b.setup();
    let _ = b.tls_id();
    let _ = b.ice_ufrag();
    let _ = b.ice_pwd();
    let _ = b.ice_lite();
    let _ = b.ice_options();
    if let Ok(cs) = b.candidates() {
        for c in &cs {
            stable(c, Candidate::parse, "candidate");
        }
    }
    let _ = b.end_of_candidates();
    let _ = b.rtcp_mux();
    let _ = b.rtcp();
    if let Ok(rs) = b.rtpmaps() {
        for r in &rs {
            stable(r, RtpMap::parse, "rtpmap");
        }
    }
    let _ = b.fmtps();
    let _ = b.rtcp_fbs();
    let _ = b.ptime();
    let _ = b.maxptime();
    let _ = b.direction();
    let _ = b.mid();
    let _ = b.groups();
    let _ = b.msids();
    let _ = b.ssrcs();
    let _ = b.ssrc_groups();
    let _ = b.cryptos();
    let _ = b.sctp_port();
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(all) = Sdp::parse_all(text) else {
        return;
    };
    let written = Sdp::write_all(&all);
    assert_eq!(written, text, "parse_all/write_all is not lossless");
    let again = Sdp::parse_all(&written).expect("the written text parses again");
    assert_eq!(again, all, "the written text parses to another model");
    if !all.is_empty() {
        let d = Sdp::to_descriptor(&all);
        match Sdp::from_descriptor(&d) {
            Ok(back) => assert_eq!(
                Sdp::write_all(&back).lines().collect::<Vec<_>>(),
                written.lines().collect::<Vec<_>>(),
                "descriptor round trip changes the lines"
            ),
            Err(e) => panic!("to_descriptor output does not read back: {e}\n{written:?}"),
        }
    }
    for sdp in &all {
        getters(sdp.session());
        for m in sdp.media() {
            let _ = m.media_line();
            let _ = m.port();
            let _ = m.proto();
            let _ = m.fmts();
            getters(m);
        }
        let _ = sdp.check_strict();
    }
});
