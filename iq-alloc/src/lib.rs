//! The memory allocator of `iq-alg` and `iq-agw`, and the call that returns freed memory to the
//! system.
//!
//! Both daemons use mimalloc ([`Allocator`]): they allocate and free many small model objects per
//! request, and mimalloc took about 30% off their CPU per session compared with glibc malloc
//! (BENCHMARKS.md, control plane). mimalloc returns freed pages to the system lazily (after a
//! purge delay, 1 s) and only while the allocating thread keeps allocating; a daemon that goes
//! quiet after a burst would keep the burst's peak as its RSS indefinitely. So each daemon calls
//! [`release_free_memory`] on a short timer, from its (single) runtime thread.

#![deny(unsafe_code)]

/// The global allocator type; each daemon declares
/// `#[global_allocator] static GLOBAL: iq_alloc::Allocator = iq_alloc::Allocator;`.
pub use mimalloc::MiMalloc as Allocator;

/// Give memory that is free and past its purge delay back to the system (`mi_collect(false)`:
/// the calling thread's heap, then the shared arenas). Cheap when there is nothing to give
/// back; call it every few seconds from the thread that does the allocating.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointers and has no preconditions: it walks mimalloc's own
    // structures for the calling thread and the process-wide arenas. It is sound to call at
    // any time, from any thread, whether or not mimalloc is the global allocator.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(false)
    }
}
