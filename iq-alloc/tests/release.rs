//! With mimalloc as the allocator, memory freed after a burst stays resident until mimalloc
//! purges it; [`iq_alloc::release_free_memory`] must bring the RSS back near where it was.
//! The burst is what a daemon sees: many small blocks (model objects), all freed.

use std::time::Duration;

#[global_allocator]
static GLOBAL: iq_alloc::Allocator = iq_alloc::Allocator;

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// A burst of small blocks, touched, then freed: (RSS before, at the peak, after the free).
fn burst() -> (u64, u64, u64) {
    let before = rss_kib();
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut total = 0usize;
    let mut n = 0usize;
    while total < 256 << 20 {
        let size = 100 + (n * 397) % 4000;
        blocks.push(vec![n as u8; size]);
        total += size;
        n += 1;
    }
    let peak = rss_kib();
    drop(blocks);
    (before, peak, rss_kib())
}

/// The daemons' set-up: purge at once (the delay is mimalloc's default here, no environment).
/// One test only in this file's process: the option is process-wide.
#[test]
fn freed_burst_goes_back_to_the_system() {
    // Without the option: freed and idle past the purge delay, nothing goes back.
    let (before, peak, freed) = burst();
    assert!(
        peak > before + 200 * 1024,
        "the burst is not resident: {before} -> {peak} KiB"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let idle = rss_kib();
    iq_alloc::release_free_memory();
    let released = rss_kib();
    eprintln!(
        "default purge delay, RSS KiB: before {before}, burst {peak}, freed {freed}, idle 1.5 s {idle}, after release_free_memory {released}"
    );
    assert!(
        idle > before + 200 * 1024,
        "mimalloc returned freed memory while idle ({before} -> {idle} KiB): release_free_memory \
         would not be needed"
    );
    assert!(
        released < before + 32 * 1024,
        "freed memory still resident after release_free_memory: before {before}, peak {peak}, \
         idle {idle}, after {released} KiB"
    );
    // With the daemons' option: back as soon as it is freed.
    let configured = iq_alloc::configure();
    assert_eq!(
        configured.purge,
        iq_alloc::Purge::PurgeImmediately,
        "MIMALLOC_PURGE_DELAY set in the environment?"
    );
    configured
        .huge_pages_off
        .expect("transparent huge pages turned off");
    let (before, peak, freed) = burst();
    eprintln!("purge at once, RSS KiB: before {before}, burst {peak}, freed {freed}");
    assert!(peak > before + 200 * 1024);
    assert!(
        freed < before + 32 * 1024,
        "purge_delay 0: freed memory still resident: before {before}, peak {peak}, after {freed} KiB"
    );
}
