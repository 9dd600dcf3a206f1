//! Codec benchmarks (text and BER).
//!
//! * `corpus/*`: decode and encode, pretty and compact, over the whole corpus
//!   (`tests/corpus/*.txt`, or the files listed one per line in the file named by
//!   `IQ_BENCH_FILES`); throughput is in messages, so criterion reports time per message as
//!   `time / n`:
//!   - `original_decode`: decode of the file bytes as written;
//!   - `pretty_decode` / `compact_decode`: decode of our own pretty / compact encoding;
//!   - `pretty_encode` / `compact_encode`: encode of the decoded model.
//! * `iq_add_sdp/*`: one typical Iq (TS 23.334) Add with SDP (the first corpus file containing
//!   `UDP/TLS/RTP/SAVPF` whose message is a request with an Add).
//! * `ber/*`: the BER (H.248.1 Annex A) codec over BER messages: by default megaco's BER of
//!   every message megaco can encode (`fuzz/corpus/ber_decode/megaco_*.ber`: its 149 examples
//!   and the corpus files it encodes, generated with `megaco_ber.escript`), or the BER files
//!   listed one per line in the file named by `IQ_BENCH_BER_FILES`; throughput in messages as
//!   for `corpus/*`. Messages that do not decode or whose model does not encode are reported on
//!   stderr and skipped.
//!   - `decode` / `encode`: `decode_message` of the file octets, `encode_message` of the model;
//!   - `decode_via_asn`: the two-pass reference decoder `BinaryCodec::decode_via_asn` (rasn's
//!     BER decoder into the `asn` types, then the mapping), what `decode` was before the
//!     one-pass decoder;
//!   - `asn_decode` / `asn_encode`: the raw ASN.1 layer alone (`decode_ber`, `encode_ber` of
//!     the decoded `MegacoMessage`), i.e. without the model mapping.
//!
//! `cargo bench -p iq-codec --bench codec`; `benches/megaco_compare.sh` (text) and
//! `benches/megaco_compare_ber.sh` (BER) compare with megaco.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iq_codec::binary::{asn, decode_ber, decode_message, encode_ber, encode_message, BinaryCodec};
use iq_codec::model::{Command, MessageBody, Transaction};
use iq_codec::text::{decode, encode, Style};
use iq_codec::Message;
use std::hint::black_box;
use std::path::{Path, PathBuf};

struct Item {
    path: PathBuf,
    original: Vec<u8>,
    msg: Message,
    pretty: String,
    compact: String,
}

/// The files listed one per line in the file named by the environment variable `var`, if set.
fn listed_files(var: &str) -> Option<Vec<PathBuf>> {
    let list = std::env::var_os(var)?;
    let text = std::fs::read_to_string(&list)
        .unwrap_or_else(|e| panic!("{var} {}: {e}", Path::new(&list).display()));
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect(),
    )
}

/// The files of `dir` (relative to the crate) whose name starts with `prefix` and ends with
/// `.ext`, sorted.
fn dir_files(dir: &str, prefix: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    files.sort();
    files
}

fn corpus_files() -> Vec<PathBuf> {
    listed_files("IQ_BENCH_FILES").unwrap_or_else(|| dir_files("tests/corpus", "", "txt"))
}

/// BER inputs: `IQ_BENCH_BER_FILES`, else megaco's BER of the messages it can encode.
fn ber_files() -> Vec<PathBuf> {
    listed_files("IQ_BENCH_BER_FILES")
        .unwrap_or_else(|| dir_files("fuzz/corpus/ber_decode", "megaco_", "ber"))
}

struct BerItem {
    ber: Vec<u8>,
    asn: asn::MegacoMessage,
    msg: Message,
}

/// The BER messages that decode and whose model encodes again (others are reported on stderr
/// and skipped).
fn load_ber() -> Vec<BerItem> {
    let mut items = Vec::new();
    for path in ber_files() {
        let ber = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let msg = match decode_message(&ber) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("skip {}: {e}", path.display());
                continue;
            }
        };
        if let Err(e) = encode_message(&msg) {
            eprintln!("skip {}: {e}", path.display());
            continue;
        }
        let asn = decode_ber(&ber).expect("decode_message succeeded, so decode_ber does");
        items.push(BerItem { ber, asn, msg });
    }
    assert!(!items.is_empty(), "no decodable BER messages");
    items
}

/// The corpus messages that decode (others are reported on stderr and skipped).
fn load_corpus() -> Vec<Item> {
    let mut items = Vec::new();
    for path in corpus_files() {
        let original = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match decode(&original) {
            Ok(msg) => {
                let pretty = encode(&msg, Style::Pretty);
                let compact = encode(&msg, Style::Compact);
                items.push(Item {
                    path,
                    original,
                    msg,
                    pretty,
                    compact,
                });
            }
            Err(e) => eprintln!("skip {}: {e}", path.display()),
        }
    }
    assert!(!items.is_empty(), "no decodable corpus messages");
    items
}

fn is_add_request(m: &Message) -> bool {
    let MessageBody::Transactions(ts) = &m.body else {
        return false;
    };
    ts.iter().any(|t| match t {
        Transaction::Request(r) => r.actions.iter().any(|a| {
            a.commands
                .iter()
                .any(|c| matches!(c.command, Command::Add(_)))
        }),
        _ => false,
    })
}

fn bench_corpus(c: &mut Criterion) {
    let items = load_corpus();
    eprintln!("corpus: {} messages", items.len());
    let mut g = c.benchmark_group("corpus");
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("original_decode", |b| {
        b.iter(|| {
            for it in &items {
                black_box(decode(black_box(&it.original)).is_ok());
            }
        })
    });
    g.bench_function("pretty_decode", |b| {
        b.iter(|| {
            for it in &items {
                black_box(decode(black_box(it.pretty.as_bytes())).is_ok());
            }
        })
    });
    g.bench_function("pretty_encode", |b| {
        b.iter(|| {
            for it in &items {
                black_box(encode(black_box(&it.msg), Style::Pretty));
            }
        })
    });
    g.bench_function("compact_decode", |b| {
        b.iter(|| {
            for it in &items {
                black_box(decode(black_box(it.compact.as_bytes())).is_ok());
            }
        })
    });
    g.bench_function("compact_encode", |b| {
        b.iter(|| {
            for it in &items {
                black_box(encode(black_box(&it.msg), Style::Compact));
            }
        })
    });
    g.finish();

    // One typical Iq Add with SDP.
    let Some(add) = items.iter().find(|it| {
        it.original
            .windows(b"UDP/TLS/RTP/SAVPF".len())
            .any(|w| w == b"UDP/TLS/RTP/SAVPF")
            && is_add_request(&it.msg)
    }) else {
        eprintln!("no Iq Add with SDP in the corpus: iq_add_sdp skipped");
        return;
    };
    eprintln!("iq_add_sdp: {}", add.path.display());
    let mut g = c.benchmark_group("iq_add_sdp");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode", |b| {
        b.iter(|| black_box(decode(black_box(&add.original)).is_ok()))
    });
    g.bench_function("encode_pretty", |b| {
        b.iter(|| black_box(encode(black_box(&add.msg), Style::Pretty)))
    });
    g.bench_function("encode_compact", |b| {
        b.iter(|| black_box(encode(black_box(&add.msg), Style::Compact)))
    });
    g.bench_function("decode_encode_pretty", |b| {
        b.iter(|| {
            let m = decode(black_box(&add.original)).expect("decodes");
            black_box(encode(&m, Style::Pretty))
        })
    });
    g.bench_function("decode_encode_compact", |b| {
        b.iter(|| {
            let m = decode(black_box(&add.original)).expect("decodes");
            black_box(encode(&m, Style::Compact))
        })
    });
    g.finish();
}

fn bench_ber(c: &mut Criterion) {
    let items = load_ber();
    eprintln!("ber: {} messages", items.len());
    let mut g = c.benchmark_group("ber");
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| {
            for it in &items {
                black_box(decode_message(black_box(&it.ber)).is_ok());
            }
        })
    });
    let codec = BinaryCodec::default();
    g.bench_function("decode_via_asn", |b| {
        b.iter(|| {
            for it in &items {
                black_box(codec.decode_via_asn(black_box(&it.ber)).is_ok());
            }
        })
    });
    g.bench_function("encode", |b| {
        b.iter(|| {
            for it in &items {
                let _ = black_box(encode_message(black_box(&it.msg)));
            }
        })
    });
    g.bench_function("asn_decode", |b| {
        b.iter(|| {
            for it in &items {
                black_box(decode_ber(black_box(&it.ber)).is_ok());
            }
        })
    });
    g.bench_function("asn_encode", |b| {
        b.iter(|| {
            for it in &items {
                black_box(encode_ber(black_box(&it.asn)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench_corpus, bench_ber);
criterion_main!(benches);
