//! The memory allocator of `iq-alg` and `iq-agw`, and the call that returns freed memory to the
//! system.
//!
//! Both daemons use mimalloc ([`Allocator`]): they allocate and free many small model objects per
//! request, and mimalloc took about 30% off their CPU per session compared with glibc malloc
//! (BENCHMARKS.md, control plane). mimalloc returns freed pages to the system lazily (after a
//! purge delay, 1 s) and only while the allocating thread keeps allocating; a daemon that goes
//! quiet after a burst would keep the burst's peak as its RSS indefinitely (the test in
//! `tests/release.rs`: 299 MB stay resident after a 256 MiB burst is freed). So each daemon calls
//! [`configure`] once (purge at once: a freed page goes back when it is freed; the CPU per session
//! did not change measurably) and [`release_free_memory`] on a short timer, from its (single)
//! runtime thread: both are [`spawn_release`].
//!
//! [`configure`] also turns transparent huge pages off for the process. mimalloc asks for them
//! on its arenas by default (`madvise(MADV_HUGEPAGE)`, honoured where the kernel's THP mode is
//! `madvise` or `always`), and a 2 MiB huge page stays resident as long as one small block in
//! it lives: the paced 100,000-session soak (BENCHMARKS.md) ended with the AGW 5.6 MB (x1.40)
//! above where it began, with 0.3 MB of live heap, and both daemons showed 2,048 KiB of
//! `AnonHugePages` in `/proc/PID/smaps_rollup` while under load. The daemons' heaps are a few
//! MB; huge pages buy them nothing.

#![deny(unsafe_code)]

/// The global allocator: mimalloc. Each daemon declares
/// `#[global_allocator] static GLOBAL: iq_alloc::Allocator = iq_alloc::Allocator;`.
///
/// Unlike `mimalloc::MiMalloc`, which passes every request to `mi_malloc_aligned`, this asks
/// for an alignment only when the type needs more than every mimalloc block has anyway (a
/// machine word). mimalloc v3's aligned path over-allocates from a larger size class whenever
/// the exact size class has no free block at hand and its size is not a power of two (24, 40,
/// 48 ... bytes: most model structs), and so never starts a page of that class: callgrind
/// counted 2.3 such over-allocations per decoded text message, about 250 instructions of the
/// 9,200 a decode took.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allocator;

/// The alignment of every mimalloc block: block sizes are whole machine words and pages start
/// word-aligned (`_mi_wsize_from_size` in mimalloc's `internal.h`).
const MIN_ALIGN: usize = std::mem::size_of::<usize>();

// SAFETY: all four methods hand the request to mimalloc, whose functions meet the
// `GlobalAlloc` contract: a block of at least `size` octets aligned as asked (the plain
// functions for alignments up to `MIN_ALIGN`, which every block has, the `_aligned` ones
// above it), or null on failure; `mi_free` and `mi_realloc` accept any block from either
// family, and a reallocated block keeps the alignment requested for it.
#[allow(unsafe_code)]
unsafe impl std::alloc::GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: see the impl; `layout.size()` is non-zero by the trait's contract.
        unsafe {
            if layout.align() <= MIN_ALIGN {
                libmimalloc_sys::mi_malloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if layout.align() <= MIN_ALIGN {
                libmimalloc_sys::mi_zalloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from mimalloc.
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; `new_size` is non-zero.
        unsafe {
            if layout.align() <= MIN_ALIGN {
                libmimalloc_sys::mi_realloc(ptr.cast(), new_size).cast()
            } else {
                libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

/// Give memory that is free back to the system (`mi_collect(true)`: the calling thread's heap,
/// including the empty pages it retains per size class for reuse, then the shared arenas).
/// Cheap (a walk over the heap's pages); call it every few seconds from the thread that does
/// the allocating.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointers and has no preconditions: it walks mimalloc's own
    // structures for the calling thread and the process-wide arenas. It is sound to call at
    // any time, from any thread, whether or not mimalloc is the global allocator.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true)
    }
}

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v3 `include/mimalloc.h`; the sys crate
/// names no constant for it). [`configure`] checks the index by the option's documented default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// mimalloc v3's default purge delay, milliseconds.
const DEFAULT_PURGE_DELAY_MS: std::ffi::c_long = 1000;

/// What [`configure`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct Configured {
    /// The purge setting.
    pub purge: Purge,
    /// Whether transparent huge pages are now off for the process (`prctl(PR_SET_THP_DISABLE)`
    /// on Linux; elsewhere there is nothing to turn off).
    pub huge_pages_off: std::io::Result<()>,
}

/// The purge delay [`configure`] left in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purge {
    /// Freed memory is now purged at once.
    PurgeImmediately,
    /// `MIMALLOC_PURGE_DELAY` in the environment set another delay (milliseconds): kept.
    PurgeDelayFromEnvironment(std::ffi::c_long),
}

/// Make mimalloc return freed pages to the system as soon as they are free, unless the
/// environment (`MIMALLOC_PURGE_DELAY`) chose a delay, and turn transparent huge pages off for
/// the process (the crate docs say why). Call once, early.
pub fn configure() -> Configured {
    Configured {
        purge: purge_at_once(),
        huge_pages_off: huge_pages_off(),
    }
}

fn purge_at_once() -> Purge {
    // SAFETY: option getters and setters take and return plain integers; any option index is
    // accepted (out-of-range ones are ignored by mimalloc), and options may be set at any time.
    #[allow(unsafe_code)]
    let current = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
    if current != DEFAULT_PURGE_DELAY_MS {
        return Purge::PurgeDelayFromEnvironment(current);
    }
    // SAFETY: as above.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0)
    };
    Purge::PurgeImmediately
}

/// No transparent huge pages for this process from now on: faults and khugepaged both honour
/// the flag, whatever the system-wide THP mode. (mimalloc itself no longer asks for them: the
/// `no_thp` build feature.)
#[cfg(target_os = "linux")]
fn huge_pages_off() -> std::io::Result<()> {
    nix::sys::prctl::set_thp_disable(true).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn huge_pages_off() -> std::io::Result<()> {
    Ok(())
}

/// The daemons' set-up: [`configure`] (logged), then a task on the current tokio runtime that
/// calls [`release_free_memory`] every `every`, on the runtime's thread.
pub fn spawn_release(every: std::time::Duration) {
    let configured = configure();
    match configured.purge {
        Purge::PurgeDelayFromEnvironment(ms) => {
            tracing::info!(ms, "allocator purge delay from MIMALLOC_PURGE_DELAY")
        }
        Purge::PurgeImmediately => tracing::debug!("allocator returns freed memory at once"),
    }
    if let Err(e) = configured.huge_pages_off {
        tracing::warn!(
            error = %e,
            "could not turn transparent huge pages off; the RSS may stay up to 2 MiB per huge \
             page above the live heap after load"
        );
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            release_free_memory();
        }
    });
}
