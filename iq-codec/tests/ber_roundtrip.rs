//! The BER model codec (`iq_codec::binary::BinaryCodec`) on the whole corpus, no third party.
//!
//! For every corpus file (`tests/corpus/*.txt`):
//! 1. text → model → BER → model must equal the text model, up to ONLY the documented
//!    normalisations N1..N7 of `ber_support::normalise` (each is a property of the binary
//!    encoding, explained in `src/binary/mod.rs`, "Mapping rules"):
//!    N1 an AuditValue/AuditCapability without audit descriptor = the empty descriptor;
//!    N2 audit tokens and N5 runs of empty descriptors in replies are BIT STRINGs (bit order,
//!    no duplicates); N3 NotifyCompletion likewise; N4 `dialplanD` is `dialplan0D` (megaco's
//!    2-octet digit map names); N6 SDP line types are Annex C tags (lower case); N7 an MTP
//!    address with an odd number of hex digits gets a leading 0.
//! 2. BER → model → BER must give the identical octets.
//! 3. The same BER rewritten with indefinite lengths decodes to the same model.
//!
//! Termination IDs use the default mapping plus `ber_support::CORPUS_TERM_IDS` (rules for the
//! corpus' `tdm/trunk1/5`, `rtp/1`, `a4444`, ... styles); the package table is the built-in
//! one plus `ber_support::CORPUS_PROFILE` (IDs for the corpus' invented packages `tst`, `cx`,
//! ...). The files that cannot be encoded with that configuration are listed in
//! [`UNENCODABLE`] with the element the EncodeError must name and why; a listed file that
//! encodes, or an unlisted one that does not, fails the test.

mod ber_support;
mod common;

use ber_support::{corpus_codec, first_difference, normalise, to_indefinite};
use common::corpus_files;
use iq_codec::binary::{decode_ber, encode_ber};

/// Corpus files BER cannot carry with the test mapping and profile, and what the EncodeError
/// names. (The corpus' invented packages and items get IDs from `ber_support::CORPUS_PROFILE`.)
const UNENCODABLE: &[(&str, &str)] = &[
    // A wildcard in the middle of the path: an H.248.1 Annex A.1 wildcard octet names a bit
    // position and covers the id's bits from there to the end of that level (or of all lower
    // levels). The test mapping's `tdm/` rule reads everything after `tdm/` as one 3-octet
    // number without levels, so `*/3` has no level of its own to wildcard (a level-structured
    // mapping, e.g. binary digits, could express it; the corpus' names are not of that form).
    ("084_cmd_wildcard_mid_pathname", "termination ID 'tdm/*/3'"),
    // A decimal with leading zeros: the mapping's rules read canonical decimals, so `rtp/1` and
    // `rtp/00001` would both be the octets of 1 (an id must map back to one text, H.248.1
    // Annex A.1 gives the binary form no text of its own). A rule with fixed digits
    // (`digits = 5`) would cover it, but then not `rtp/1` of the other corpus files.
    ("086_reply_add_local", "termination ID 'rtp/00001'"),
    // A digit map name is ASN.1 `Name` (OCTET STRING SIZE(2), H.248.1 Annex A); the names
    // with a binary form are megaco's `dialplanDD` convention (see `binary::map`), `dp2` is not
    // one of them and no table gives digit map names IDs.
    ("220_v2_modify_embed_digitmap_z", "digit map name 'dp2'"),
];

fn base(p: &std::path::Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn corpus_text_ber_roundtrip() {
    let codec = corpus_codec();
    let files = corpus_files();
    let mut failures = Vec::new();
    let (mut exact, mut normalised, mut unencodable) = (0, 0, 0);
    for f in &files {
        let name = base(f);
        let listed = UNENCODABLE.iter().find(|(n, _)| *n == name);
        let text = match iq_codec::text::decode(&std::fs::read(f).unwrap()) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: text decode failed: {e}"));
                continue;
            }
        };
        let ber = match (codec.encode(&text), listed) {
            (Ok(b), None) => b,
            (Ok(_), Some((_, what))) => {
                failures.push(format!(
                    "{name}: listed as unencodable ({what}) but encodes: remove the entry"
                ));
                continue;
            }
            (Err(e), Some((_, what))) => {
                unencodable += 1;
                if !e.item.contains(what) || e.code != 500 {
                    failures.push(format!(
                        "{name}: expected an EncodeError naming {what} (code 500), got: {e}"
                    ));
                }
                continue;
            }
            (Err(e), None) => {
                failures.push(format!("{name}: cannot encode: {e}"));
                continue;
            }
        };
        let back = match codec.decode(&ber) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: our BER does not decode: {e}"));
                continue;
            }
        };
        if back == text {
            exact += 1;
        } else if back == normalise(&text) {
            normalised += 1;
        } else {
            failures.push(format!(
                "{name}: BER decodes to another model{}",
                first_difference(&normalise(&text), &back)
            ));
            continue;
        }
        match codec.encode(&back) {
            Ok(again) if again == ber => {}
            Ok(again) => failures.push(format!(
                "{name}: BER -> model -> BER changes the octets\n {ber:02x?}\n {again:02x?}"
            )),
            Err(e) => failures.push(format!("{name}: decoded model does not re-encode: {e}")),
        }
        // The raw layer agrees, and indefinite lengths decode to the same model.
        assert_eq!(encode_ber(&decode_ber(&ber).unwrap()), ber, "{name}");
        match codec.decode(&to_indefinite(&ber)) {
            Ok(m) if m == back => {}
            other => failures.push(format!("{name}: indefinite-length form: {other:?}")),
        }
    }
    eprintln!(
        "BER round trip: {} corpus files: {exact} identical models, {normalised} equal after \
         the documented normalisations, {unencodable} unencodable as listed, {} failures",
        files.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(unencodable, UNENCODABLE.len());
    // The corpus exercises the normalisations; a drop to zero would mean they went untested.
    assert!(exact > 150 && normalised > 5, "{exact} {normalised}");
}
