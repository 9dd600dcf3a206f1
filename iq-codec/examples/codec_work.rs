//! A fixed codec workload for instruction counts (`perf stat -e instructions:u`, `valgrind
//! --tool=callgrind`), which unlike wall-clock timings do not depend on what else runs on the
//! machine. Used for the before/after figures of the codec profile.
//!
//! `cargo run --release -p iq-codec --example codec_work -- OP N`
//!
//! OP: `text-decode` (decode of every corpus file), `pretty-decode`, `compact-decode` (of our
//! pretty / compact encoding of each), `pretty-encode`,
//! `compact-encode`, `ber-decode` (decode_message of megaco's BER files
//! `fuzz/corpus/ber_decode/megaco_*.ber`), `ber-decode-via-asn` (the same through the two-pass
//! reference `BinaryCodec::decode_via_asn`), `ber-encode`, `asn-decode` (decode_ber only),
//! `asn-encode`, `iq-add-decode` / `iq-add-encode` (the Iq Add with SDP of figure 6.2.10.5.1,
//! corpus 139, as the `iq_add_sdp` bench); N rounds over all messages (default 100). Prints
//! the message count and a checksum so that the work cannot be optimised away.

/// mimalloc as iq-alg and iq-agw use it (`iq_alloc`): what the daemons pay per message, and counts
/// that do not hinge on glibc malloc's heap layout (with glibc, the Iq Add decode measured
/// 28,184 or 48,163 instructions per message depending only on where the checkout lived, i.e.
/// on the length of the corpus paths allocated before the loop).
#[global_allocator]
static GLOBAL: iq_alloc::Allocator = iq_alloc::Allocator;

use iq_codec::binary::{decode_ber, decode_message, encode_ber, encode_message, BinaryCodec};
use iq_codec::text::{decode, encode, Style};
use std::path::Path;

fn files(dir: &str, prefix: &str, ext: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("read file"))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let op = args.get(1).map_or("text-decode", String::as_str);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let text: Vec<Vec<u8>> = files("tests/corpus", "", "txt")
        .into_iter()
        .filter(|t| decode(t).is_ok())
        .collect();
    let ber: Vec<Vec<u8>> = files("fuzz/corpus/ber_decode", "megaco_", "ber")
        .into_iter()
        .filter(|b| decode_message(b).is_ok_and(|m| encode_message(&m).is_ok()))
        .collect();
    let models: Vec<_> = text.iter().map(|t| decode(t).expect("decodes")).collect();
    let compact: Vec<String> = models.iter().map(|m| encode(m, Style::Compact)).collect();
    let pretty: Vec<String> = models.iter().map(|m| encode(m, Style::Pretty)).collect();
    let ber_models: Vec<_> = ber
        .iter()
        .map(|b| decode_message(b).expect("decodes"))
        .collect();
    let asn: Vec<_> = ber
        .iter()
        .map(|b| decode_ber(b).expect("decodes"))
        .collect();
    let iq_add = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/139_iq_ue_orig_add_t1_req.txt"),
    )
    .expect("read corpus 139");
    let iq_add_model = decode(&iq_add).expect("corpus 139 decodes");
    let mut sum = 0usize;
    let mut count = 0usize;
    for _ in 0..n {
        match op {
            "text-decode" => text.iter().for_each(|t| sum += decode(t).is_ok() as usize),
            "compact-decode" => compact
                .iter()
                .for_each(|t| sum += decode(t.as_bytes()).is_ok() as usize),
            "pretty-decode" => pretty
                .iter()
                .for_each(|t| sum += decode(t.as_bytes()).is_ok() as usize),
            "pretty-encode" => models
                .iter()
                .for_each(|m| sum += encode(m, Style::Pretty).len()),
            "compact-encode" => models
                .iter()
                .for_each(|m| sum += encode(m, Style::Compact).len()),
            "ber-decode" => ber
                .iter()
                .for_each(|b| sum += decode_message(b).is_ok() as usize),
            "ber-decode-via-asn" => ber
                .iter()
                .for_each(|b| sum += BinaryCodec::default().decode_via_asn(b).is_ok() as usize),
            "ber-encode" => ber_models
                .iter()
                .for_each(|m| sum += encode_message(m).map_or(0, |b| b.len())),
            "asn-decode" => ber
                .iter()
                .for_each(|b| sum += decode_ber(b).is_ok() as usize),
            "asn-encode" => asn.iter().for_each(|a| sum += encode_ber(a).len()),
            "iq-add-decode" => sum += decode(&iq_add).is_ok() as usize,
            "iq-add-encode" => sum += encode(&iq_add_model, Style::Pretty).len(),
            other => {
                eprintln!("unknown OP {other}");
                std::process::exit(2);
            }
        }
        count += match op {
            "text-decode" | "compact-decode" | "pretty-decode" | "pretty-encode"
            | "compact-encode" => text.len(),
            "iq-add-decode" | "iq-add-encode" => 1,
            _ => ber.len(),
        };
    }
    println!("{op}: {count} messages, checksum {sum}");
}
