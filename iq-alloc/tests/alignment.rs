//! [`iq_alloc::Allocator`] sends word-aligned requests to mimalloc's plain functions and the
//! rest to its `_aligned` ones. Whichever path a request takes, the block must have the
//! alignment and the size asked for, and a reallocated block must keep both and its contents.

#[global_allocator]
static GLOBAL: iq_alloc::Allocator = iq_alloc::Allocator;

use std::alloc::{GlobalAlloc, Layout};

#[test]
#[allow(unsafe_code)]
fn every_block_has_the_requested_alignment_and_keeps_it_on_realloc() {
    let a = iq_alloc::Allocator;
    let mut checked = 0;
    for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
        for size in (1..=300).chain([1000, 4095, 4096, 70_000, 1 << 20]) {
            let layout = Layout::from_size_align(size, align).expect("layout");
            // SAFETY: non-zero size; every block is freed with its layout below.
            unsafe {
                for zeroed in [false, true] {
                    let p = if zeroed {
                        a.alloc_zeroed(layout)
                    } else {
                        a.alloc(layout)
                    };
                    assert!(!p.is_null(), "size {size} align {align}");
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    if zeroed {
                        assert!(std::slice::from_raw_parts(p, size).iter().all(|&b| b == 0));
                    }
                    for i in 0..size {
                        *p.add(i) = (i % 251) as u8;
                    }
                    let new_size = size * 3 + 7;
                    let q = a.realloc(p, layout, new_size);
                    assert!(!q.is_null());
                    assert_eq!(q as usize % align, 0, "realloc size {size} align {align}");
                    assert!((0..size).all(|i| *q.add(i) == (i % 251) as u8));
                    a.dealloc(q, Layout::from_size_align(new_size, align).expect("layout"));
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 8 * 305 * 2);
    // And through the global allocator: boxed values of over-aligned types.
    #[repr(align(64))]
    struct Wide(#[allow(dead_code)] [u8; 24]);
    let v: Vec<Box<Wide>> = (0..1000).map(|_| Box::new(Wide([7; 24]))).collect();
    assert!(v.iter().all(|b| (&**b as *const Wide as usize) % 64 == 0));
}
