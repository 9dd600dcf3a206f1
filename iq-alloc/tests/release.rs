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

#[test]
fn freed_burst_goes_back_to_the_system() {
    let before = rss_kib();
    // 256 MiB in 100-byte to 4 KiB blocks, touched so that they are resident.
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
    assert!(
        peak > before + 200 * 1024,
        "the burst is not resident: {before} -> {peak} KiB"
    );
    drop(blocks);
    // Past mimalloc's purge delay (1 s), with no allocation activity: nothing is returned yet.
    std::thread::sleep(Duration::from_millis(1500));
    let idle = rss_kib();
    iq_alloc::release_free_memory();
    let released = rss_kib();
    eprintln!(
        "RSS KiB: before {before}, burst {peak}, freed and idle {idle}, after release_free_memory {released}"
    );
    assert!(
        released < before + 32 * 1024,
        "freed memory still resident after release_free_memory: before {before}, peak {peak}, \
         idle {idle}, after {released} KiB"
    );
}
