//! The one-pass BER decoder (`BinaryCodec::decode`, `src/binary/direct_dec.rs`) against the
//! two-pass reference (`BinaryCodec::decode_via_asn`: rasn's derived decoder into the `asn`
//! types, then `map::Dec`). For every input both must give the same model, or both an error
//! with the same `code` and `transaction_id`; for a mapping error (the reference's BER decode
//! succeeded) also the same `path` and `reason`.
//!
//! Inputs: (a) every file of `fuzz/corpus/ber_decode/` (megaco's BER, our BER of the corpus,
//! fuzz-found inputs; as many as are there: the fuzz-found ones are not tracked); (b) the BER
//! of every text corpus message that encodes, definite and indefinite lengths; (c) mutations
//! of those: every truncation of some, deterministic pseudo-random single-octet changes,
//! insertions and deletions; (d) generated models (`tests/ber_gen`) encoded, with
//! their indefinite form and mutations. Each through the default codec and the corpus codec
//! (other termination ID rules and package table).
//!
//! Known, accepted differences from the reference: none.

mod ber_gen;
mod ber_support;
mod common;

use common::Rng;

use ber_support::{corpus_codec, to_indefinite};
use iq_codec::binary::{decode_ber, BinaryCodec};
use proptest::prelude::*;
use std::path::Path;

#[derive(Default)]
struct Tally {
    ok: usize,
    ber_errors: usize,
    mapping_errors: usize,
    mismatches: Vec<String>,
}

impl Tally {
    fn total(&self) -> usize {
        self.ok + self.ber_errors + self.mapping_errors + self.mismatches.len()
    }

    fn report(&self, what: &str) {
        println!(
            "{what}: {} inputs compared: {} Ok (same model), {} BER errors (same code and \
             transaction), {} mapping errors (same code, transaction, path, reason), {} mismatches",
            self.total(),
            self.ok,
            self.ber_errors,
            self.mapping_errors,
            self.mismatches.len()
        );
        for m in self.mismatches.iter().take(10) {
            println!("  MISMATCH {m}");
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Compares the two decoders on `input`. The reference is `decode_via_asn`, computed here as
/// its two steps (`decode_ber`, then `from_asn`) to know which step failed (the test
/// `reference_is_decode_via_asn` checks that this is `decode_via_asn`).
fn compare(codec: &BinaryCodec, input: &[u8], t: &mut Tally) {
    let new = codec.decode(input);
    let (old, ber_error) = match decode_ber(input) {
        Ok(asn) => (codec.from_asn(&asn), false),
        Err(e) => (Err(e.into()), true),
    };
    match (new, old) {
        (Ok(a), Ok(b)) if a == b => t.ok += 1,
        (Err(a), Err(b)) if a.code == b.code && a.transaction_id == b.transaction_id => {
            if ber_error {
                t.ber_errors += 1;
            } else if a == b {
                t.mapping_errors += 1;
            } else {
                t.mismatches.push(format!(
                    "{}\n    direct:    {a:?}\n    reference: {b:?}",
                    hex(input)
                ));
            }
        }
        (a, b) => t.mismatches.push(format!(
            "{}\n    direct:    {a:?}\n    reference: {b:?}",
            hex(input)
        )),
    }
}

fn codecs() -> [BinaryCodec; 2] {
    [BinaryCodec::default(), corpus_codec()]
}

fn compare_all(input: &[u8], t: &mut Tally) {
    for c in &codecs() {
        compare(c, input, t);
    }
}

fn fuzz_corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/ber_decode");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // A file may go while this runs (a fuzzer merging the corpus).
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// The BER of every corpus message that encodes (corpus codec), then its indefinite form.
fn corpus_ber() -> Vec<Vec<u8>> {
    let codec = corpus_codec();
    let mut out = Vec::new();
    for f in common::corpus_files() {
        let Ok(m) = iq_codec::text::decode(&std::fs::read(&f).unwrap()) else {
            continue;
        };
        if let Ok(b) = codec.encode(&m) {
            out.push(to_indefinite(&b));
            out.push(b);
        }
    }
    out
}

/// `n` single-octet changes of `b` (replace, flip one bit, insert, delete), all compared.
fn mutations(b: &[u8], n: usize, rng: &mut Rng, t: &mut Tally) {
    if b.is_empty() {
        return;
    }
    for _ in 0..n {
        let mut m = b.to_vec();
        let i = rng.below(m.len());
        match rng.below(8) {
            0..=3 => m[i] = rng.next() as u8,
            4 | 5 => m[i] ^= 1 << rng.below(8),
            6 => m.insert(i, rng.next() as u8),
            _ => {
                m.remove(i);
            }
        }
        compare_all(&m, t);
    }
}

#[test]
fn reference_is_decode_via_asn() {
    let c = BinaryCodec::default();
    for b in fuzz_corpus().iter().step_by(11) {
        let two_steps = match decode_ber(b) {
            Ok(asn) => c.from_asn(&asn),
            Err(e) => Err(e.into()),
        };
        assert_eq!(c.decode_via_asn(b), two_steps);
    }
}

#[test]
fn fuzz_corpus_decodes_as_the_reference() {
    let inputs = fuzz_corpus();
    let mut t = Tally::default();
    for b in &inputs {
        compare_all(b, &mut t);
    }
    t.report(&format!("fuzz corpus ({} files, 2 codecs)", inputs.len()));
    assert!(inputs.len() >= 360, "the tracked seeds at least");
    assert!(t.ok > 0 && t.ber_errors > 0);
    assert!(t.mismatches.is_empty());
}

#[test]
fn corpus_ber_decodes_as_the_reference() {
    let inputs = corpus_ber();
    let mut t = Tally::default();
    for b in &inputs {
        compare_all(b, &mut t);
    }
    t.report(&format!(
        "text corpus BER ({} encodings: definite and indefinite, 2 codecs)",
        inputs.len()
    ));
    assert!(inputs.len() > 400);
    assert!(t.ok > 0);
    assert!(t.mismatches.is_empty());
}

#[test]
fn truncations_decode_as_the_reference() {
    let inputs = corpus_ber();
    let megaco: Vec<Vec<u8>> = fuzz_corpus()
        .into_iter()
        .filter(|b| decode_ber(b).is_ok())
        .collect();
    let mut t = Tally::default();
    let mut n = 0;
    // A few dozen messages, spread over both sets, both length forms.
    for b in inputs.iter().step_by(9).chain(megaco.iter().step_by(97)) {
        n += 1;
        for len in 0..b.len() {
            compare_all(&b[..len], &mut t);
        }
    }
    t.report(&format!("every truncation of {n} messages"));
    assert!(n >= 30);
    assert!(t.mismatches.is_empty());
}

#[test]
fn mutations_decode_as_the_reference() {
    let mut rng = Rng(0x1d2c_3b4a_5968_7786);
    let mut t = Tally::default();
    let corpus = corpus_ber();
    let seeds: Vec<Vec<u8>> = fuzz_corpus()
        .into_iter()
        .filter(|b| decode_ber(b).is_ok())
        .step_by(7)
        .chain(corpus)
        .collect();
    for b in &seeds {
        mutations(b, 30, &mut rng, &mut t);
    }
    t.report(&format!(
        "single-octet mutations of {} messages",
        seeds.len()
    ));
    assert!(t.total() > 20_000);
    assert!(t.ok > 0 && t.ber_errors > 0 && t.mapping_errors > 0);
    assert!(t.mismatches.is_empty());
}

#[test]
fn error_inputs_made_by_hand_decode_as_the_reference() {
    let mut t = Tally::default();
    let cases: &[&[u8]] = &[
        &[],
        &[0x30],
        &[0x30, 0x00],
        &[0x30, 0x80, 0x00, 0x00],
        &[0x30, 0x03, 0x02, 0x01],
        &[0x00, 0x00],
        &[0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00],
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        &[0x30, 0xff],
    ];
    for c in cases {
        compare_all(c, &mut t);
    }
    // Deep nesting through the module's recursive path, definite and indefinite.
    let deep = |n: usize| -> Vec<u8> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.extend([0x30, 0x80]);
        }
        for _ in 0..n {
            v.extend([0, 0]);
        }
        v
    };
    for n in [1, 10, 127, 128, 129, 2400] {
        compare_all(&deep(n), &mut t);
    }
    t.report("hand-made inputs");
    assert!(t.mismatches.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn generated_models_decode_as_the_reference(m in ber_gen::message(), seed in any::<u64>()) {
        let c = BinaryCodec::default();
        let ber = c.encode(&m).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut t = Tally::default();
        compare_all(&ber, &mut t);
        compare_all(&to_indefinite(&ber), &mut t);
        mutations(&ber, 20, &mut Rng(seed | 1), &mut t);
        prop_assert!(t.ok >= 2);
        prop_assert!(t.mismatches.is_empty(), "{}", t.mismatches.join("\n"));
    }
}
