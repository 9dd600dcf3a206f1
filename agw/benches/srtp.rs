//! Our in-place SRTP (`iq_agw::media::srtp`) against `rtc-srtp` 0.21 (the webrtc-rs line it
//! replaced, with its default ring crypto provider), protect and unprotect of a 200-octet
//! RTP packet (20 ms audio), `SRTP_AES128_CM_HMAC_SHA1_80` and `SRTP_AEAD_AES_128_GCM`,
//! replay protection on for both receivers. Prints the ratio rtc-srtp / ours per case.
//!
//! Run: `cargo bench -p iq-agw --bench srtp`

use std::path::PathBuf;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use iq_agw::media::srtp::{Context, Direction, Profile};
use rtc_srtp::context::Context as RtcContext;
use rtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use rtc_srtp::protection_profile::ProtectionProfile;

const LEN: usize = 200;
const SSRC: u32 = 0x1234_5678;

fn plain(seq: u16) -> [u8; LEN + 32] {
    let mut p = [0u8; LEN + 32];
    p[0] = 0x80;
    p[1] = 111;
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    p[8..12].copy_from_slice(&SSRC.to_be_bytes());
    for (i, b) in p[12..LEN].iter_mut().enumerate() {
        *b = i as u8;
    }
    p
}

fn cases() -> [(&'static str, Profile, ProtectionProfile); 2] {
    [
        (
            "sha1_80",
            Profile::Aes128CmHmacSha1_80,
            ProtectionProfile::Aes128CmHmacSha1_80,
        ),
        (
            "gcm128",
            Profile::AeadAes128Gcm,
            ProtectionProfile::AeadAes128Gcm,
        ),
    ]
}

fn master(p: Profile) -> (Vec<u8>, Vec<u8>) {
    (
        (0..p.key_len() as u8).map(|i| i * 3 + 1).collect(),
        (0..p.salt_len() as u8).map(|i| i * 5 + 2).collect(),
    )
}

fn rtc(p: Profile, rp: ProtectionProfile, rx: bool) -> RtcContext {
    let provider = rtc_dtls::crypto_provider::default_provider().expect("crypto provider");
    let (k, s) = master(p);
    let (a, b) = if rx {
        (
            Some(srtp_replay_protection(128)),
            Some(srtcp_replay_protection(128)),
        )
    } else {
        (None, None)
    };
    RtcContext::new(&k, &s, rp, a, b, provider.crypto()).expect("rtc-srtp context")
}

fn ours(p: Profile, d: Direction) -> Context {
    let (k, s) = master(p);
    Context::from_master(p, &k, &s, d).expect("context")
}

fn bench(c: &mut Criterion) {
    for (name, p, rp) in cases() {
        let mut g = c.benchmark_group(format!("srtp_protect_{name}"));
        let mut tx = ours(p, Direction::Outbound);
        let mut seq = 0u16;
        let mut buf = [0u8; LEN + 32];
        g.bench_function("ours", |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                buf = plain(seq);
                black_box(tx.protect_rtp(&mut buf, LEN).expect("protect"))
            })
        });
        let mut rtx = rtc(p, rp, false);
        let mut seq = 0u16;
        g.bench_function("rtc_srtp", |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                let pkt = plain(seq);
                black_box(rtx.encrypt_rtp(&pkt[..LEN]).expect("encrypt").len())
            })
        });
        g.finish();

        // Unprotect: a fresh valid packet per iteration (made outside the timing by our
        // sender, from the same master key, so it also checks the two agree).
        let mut g = c.benchmark_group(format!("srtp_unprotect_{name}"));
        let mut tx = ours(p, Direction::Outbound);
        let mut rx = ours(p, Direction::Inbound);
        let mut seq = 0u16;
        g.bench_function("ours", |b| {
            b.iter_batched(
                || {
                    seq = seq.wrapping_add(1);
                    let mut pkt = plain(seq);
                    let n = tx.protect_rtp(&mut pkt, LEN).expect("protect");
                    (pkt, n)
                },
                |(mut pkt, n)| {
                    black_box(rx.unprotect_rtp(&mut pkt[..n]).expect("unprotect"));
                    pkt
                },
                BatchSize::SmallInput,
            )
        });
        let mut tx = ours(p, Direction::Outbound);
        let mut rrx = rtc(p, rp, true);
        let mut seq = 0u16;
        g.bench_function("rtc_srtp", |b| {
            b.iter_batched(
                || {
                    seq = seq.wrapping_add(1);
                    let mut pkt = plain(seq);
                    let n = tx.protect_rtp(&mut pkt, LEN).expect("protect");
                    (pkt, n)
                },
                |(pkt, n)| {
                    let out = rrx.decrypt_rtp(&pkt[..n]).expect("rtc-srtp decrypt");
                    black_box(out.len());
                    drop(out);
                    pkt
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

/// Criterion's output directory (as criterion finds it).
fn criterion_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(h));
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(t).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// Mean time (ns) of `group/bench` from criterion's `estimates.json`.
fn mean_ns(group: &str, bench: &str) -> Option<f64> {
    let path = criterion_dir()?
        .join(group)
        .join(bench)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let after_mean = &text[text.find("\"mean\"")?..];
    let v = &after_mean[after_mean.find("\"point_estimate\":")? + 17..];
    let end = v.find([',', '}'])?;
    v[..end].trim().parse().ok()
}

fn report(_: &mut Criterion) {
    println!("\nSRTP, 200-octet RTP, mean ns per packet (ratio = rtc-srtp / ours):");
    for (name, _, _) in cases() {
        for op in ["protect", "unprotect"] {
            let group = format!("srtp_{op}_{name}");
            match (mean_ns(&group, "ours"), mean_ns(&group, "rtc_srtp")) {
                (Some(o), Some(r)) => println!(
                    "  {op:<9} {name:<8} ours {o:>8.1} ns  rtc-srtp {r:>8.1} ns  ratio {:.2}x",
                    r / o
                ),
                _ => println!("  {op:<9} {name:<8} (no estimates found)"),
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench, report
}
criterion_main!(benches);
