//! The direct BER encoder (`BinaryCodec::encode`, model → octets in one pass) against the
//! reference, the two-pass path through the ASN.1 values (`encode_via_asn` =
//! `encode_ber(&to_asn(msg)?)`): the same octets, or the same `EncodeError` (code, path, item,
//! reason, transaction), for
//!
//! 1. every corpus message (`tests/corpus/*.txt`, text-decoded), with the default codec (which
//!    refuses the corpus' text-style termination IDs and invented packages) and with the
//!    corpus codec (`ber_support::corpus_codec`);
//! 2. every model decoded from the BER fuzz corpus (`fuzz/corpus/ber_decode/*`: the tracked
//!    seeds, and the fuzzer's finds where a checkout has them), with the default codec;
//! 3. generated models (`ber_gen`): as generated (BER can express them), and spoiled so the
//!    encoder refuses them, one to three spoils each.
//!
//! Each part prints how many Ok and Err cases it compared; any difference fails the test.

mod ber_gen;
mod ber_support;
mod common;

use iq_codec::binary::{decode_message, BinaryCodec, EncodeError};
use iq_codec::model::Message;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use std::path::Path;

/// Counts of the cases compared and the differences found.
#[derive(Default)]
struct Tally {
    ok: usize,
    err: usize,
    differences: Vec<String>,
}

impl Tally {
    fn compare(&mut self, what: &str, codec: &BinaryCodec, m: &Message) {
        if let Some(d) = difference(codec, m) {
            self.differences.push(format!("{what}: {d}"));
        } else if codec.encode(m).is_ok() {
            self.ok += 1;
        } else {
            self.err += 1;
        }
    }

    fn report(self, part: &str) {
        eprintln!(
            "{part}: {} Ok and {} Err cases identical, {} different",
            self.ok,
            self.err,
            self.differences.len()
        );
        assert!(
            self.differences.is_empty(),
            "{part}: {} difference(s) between the direct encoder and the reference:\n{}",
            self.differences.len(),
            self.differences
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// How the direct encoder and the reference differ on `m`, if they do.
fn difference(codec: &BinaryCodec, m: &Message) -> Option<String> {
    let direct = codec.encode(m);
    let reference = codec.encode_via_asn(m);
    match (&direct, &reference) {
        (Ok(a), Ok(b)) if a == b => None,
        (Ok(a), Ok(b)) => {
            let at = a
                .iter()
                .zip(b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            Some(format!(
                "octets differ at {at} (lengths {} and {}):\n direct    {}\n reference {}",
                a.len(),
                b.len(),
                hex(a),
                hex(b)
            ))
        }
        (Err(a), Err(b)) if same_error(a, b) => None,
        _ => Some(format!("direct {direct:?}\n reference {reference:?}")),
    }
}

fn same_error(a: &EncodeError, b: &EncodeError) -> bool {
    a.code == b.code
        && a.path == b.path
        && a.item == b.item
        && a.transaction_id == b.transaction_id
        && a.reason == b.reason
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn corpus_messages_encode_as_the_reference() {
    let default = BinaryCodec::default();
    let corpus = ber_support::corpus_codec();
    let mut tally = Tally::default();
    let mut undecodable = 0;
    for f in common::corpus_files() {
        let text = std::fs::read(&f).unwrap();
        let Ok(m) = iq_codec::text::decode(&text) else {
            undecodable += 1;
            continue;
        };
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        tally.compare(&format!("{name} (default codec)"), &default, &m);
        tally.compare(&format!("{name} (corpus codec)"), &corpus, &m);
    }
    eprintln!("corpus: {undecodable} file(s) are not messages (error cases of the text codec)");
    tally.report("corpus");
}

#[test]
fn ber_fuzz_corpus_models_encode_as_the_reference() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/ber_decode");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let codec = BinaryCodec::default();
    let mut tally = Tally::default();
    let mut undecodable = 0;
    for f in &files {
        let ber = std::fs::read(f).unwrap();
        let Ok(m) = decode_message(&ber) else {
            undecodable += 1;
            continue;
        };
        tally.compare(&f.file_name().unwrap().to_string_lossy(), &codec, &m);
    }
    eprintln!(
        "BER fuzz corpus: {} files, {undecodable} do not decode to a model",
        files.len()
    );
    tally.report("BER fuzz corpus");
}

/// Runs `cases` models of `strategy` through both encoders.
fn generated(part: &str, cases: u32, strategy: impl Strategy<Value = Message>) {
    let codec = BinaryCodec::default();
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let mut tally = Tally::default();
    for i in 0..cases {
        let m = strategy
            .new_tree(&mut runner)
            .expect("generate a model")
            .current();
        tally.compare(&format!("case {i}: {m:?}"), &codec, &m);
    }
    tally.report(part);
}

#[test]
fn generated_models_encode_as_the_reference() {
    generated("generated models", 1000, ber_gen::message());
}

#[test]
fn spoiled_models_fail_as_the_reference() {
    generated("spoiled models", 2000, ber_gen::spoiled_message());
}
