//! A small size-class allocator for the wasm build (dlmalloc costs ~5.6 KB of code; this
//! costs well under 1 KB). Blocks are powers of two from 16 bytes; a freed block goes on
//! its class's free list and is reused by the next allocation of that class. Fresh blocks
//! are bumped from pages taken with `memory.grow`. Memory is never returned to the
//! browser (wasm cannot shrink memory anyway) and at most 2x a request is used, which suits
//! an SDK whose live data is bounded by its batch and retry limits.
//!
//! Single-threaded by construction (wasm32-unknown-unknown without atomics).

use core::{
    alloc::{GlobalAlloc, Layout},
    cell::UnsafeCell,
    ptr,
};

const MIN_CLASS_SHIFT: u32 = 4; // 16 bytes
const CLASSES: usize = 28; // up to 2^31 bytes
const PAGE: usize = 65_536;

struct State {
    free: [*mut u8; CLASSES],
    bump: usize,
    end: usize,
}

pub struct SizeClassAllocator(UnsafeCell<State>);

impl Default for SizeClassAllocator {
    fn default() -> Self {
        SizeClassAllocator::new()
    }
}

// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread only.
unsafe impl Sync for SizeClassAllocator {}

impl SizeClassAllocator {
    pub const fn new() -> SizeClassAllocator {
        SizeClassAllocator(UnsafeCell::new(State {
            free: [ptr::null_mut(); CLASSES],
            bump: 0,
            end: 0,
        }))
    }
}

/// Class index and block size for a layout.
fn class_of(layout: &Layout) -> Option<(usize, usize)> {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS_SHIFT);
    let block = size.checked_next_power_of_two()?;
    let class = (block.trailing_zeros() - MIN_CLASS_SHIFT) as usize;
    (class < CLASSES).then_some((class, block))
}

unsafe impl GlobalAlloc for SizeClassAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some((class, block)) = class_of(&layout) else {
            return ptr::null_mut();
        };
        // SAFETY: single-threaded; no other reference to the state is live.
        let state = unsafe { &mut *self.0.get() };
        let head = state.free[class];
        if !head.is_null() {
            // SAFETY: free blocks store the next pointer in their first word.
            state.free[class] = unsafe { *(head as *mut *mut u8) };
            return head;
        }
        // Blocks are aligned to their own size (up to a page), which covers any alignment.
        let align = block.min(PAGE);
        let start = (state.bump + align - 1) & !(align - 1);
        let Some(new_end) = start.checked_add(block) else {
            return ptr::null_mut();
        };
        if new_end > state.end {
            let pages = (new_end - state.end).div_ceil(PAGE).max(16);
            let previous = core::arch::wasm32::memory_grow(0, pages);
            if previous == usize::MAX {
                return ptr::null_mut();
            }
            let grown_start = previous * PAGE;
            if grown_start != state.end {
                // First use (or someone else grew memory): start a new region.
                state.bump = grown_start;
                state.end = grown_start + pages * PAGE;
                // SAFETY: recursion with the updated region, which now fits the block.
                return unsafe { self.alloc(layout) };
            }
            state.end += pages * PAGE;
        }
        state.bump = new_end;
        start as *mut u8
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let Some((class, _)) = class_of(&layout) else {
            return;
        };
        // SAFETY: single-threaded; `block` came from `alloc` with this layout's class.
        let state = unsafe { &mut *self.0.get() };
        unsafe { *(block as *mut *mut u8) = state.free[class] };
        state.free[class] = block;
    }
}
