//! After [`iq_alloc::configure`], nothing the daemons allocate lands on a transparent huge page:
//! a 2 MiB huge page stays resident while any small block in it lives, which is how the paced
//! soak's RSS ended 40% above its start (crate docs). Checked where it shows: the kernel's
//! `AnonHugePages` count for this process, after a burst of small blocks that stays alive.

#[global_allocator]
static GLOBAL: iq_alloc::Allocator = iq_alloc::Allocator;

fn smaps_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/smaps_rollup").expect("/proc/self/smaps_rollup");
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} in smaps_rollup"))
}

/// The kernel's THP mode (`always`, `madvise` or `never`), the bracketed word.
fn thp_mode() -> String {
    let s =
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    s.split('[')
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or("never")
        .to_string()
}

/// One test only in this file's process: the flag and the options are process-wide.
#[test]
fn no_transparent_huge_pages_after_configure() {
    let configured = iq_alloc::configure();
    configured
        .huge_pages_off
        .expect("prctl(PR_SET_THP_DISABLE) refused");
    assert!(
        nix::sys::prctl::get_thp_disable().expect("PR_GET_THP_DISABLE"),
        "the process's THP-disable flag is not set after configure"
    );
    // 128 MiB of small blocks, kept alive (the daemons' allocation pattern, enlarged so that
    // 2 MiB-aligned runs of it exist for the kernel to back with huge pages)
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut total = 0usize;
    let mut n = 0usize;
    while total < 128 << 20 {
        let size = 64 + (n * 389) % 2000;
        blocks.push(vec![n as u8; size]);
        total += size;
        n += 1;
    }
    let huge = smaps_kib("AnonHugePages");
    let rss = smaps_kib("Rss");
    let mode = thp_mode();
    eprintln!(
        "THP mode {mode}: {n} blocks, {} MiB live; RSS {rss} KiB, AnonHugePages {huge} KiB",
        total >> 20
    );
    if mode == "never" {
        eprintln!(
            "NOTE: this kernel's THP mode is `never`: nothing to compare; the check below \
             holds trivially here"
        );
    }
    assert_eq!(
        huge, 0,
        "{huge} KiB of this process is on transparent huge pages (THP mode {mode})"
    );
    drop(blocks);
}
