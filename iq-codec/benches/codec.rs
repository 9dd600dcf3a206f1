//! Text codec benchmarks.
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
//!
//! `cargo bench -p iq-codec --bench codec`; `benches/megaco_compare.sh` compares with megaco.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
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

fn corpus_files() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("IQ_BENCH_FILES") {
        let text = std::fs::read_to_string(&list)
            .unwrap_or_else(|e| panic!("IQ_BENCH_FILES {}: {e}", Path::new(&list).display()));
        return text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
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

criterion_group!(benches, bench_corpus);
criterion_main!(benches);
