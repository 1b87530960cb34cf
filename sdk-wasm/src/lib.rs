//! Sightline's browser SDK.
//!
//! `core` is the pure logic (ids, sessions, batching, URL reduction, selectors, scroll
//! milestones, backoff, the viewability rule) and builds and tests on any target. `web` is
//! the browser layer (capture, transport, the JS API) and exists only on wasm32.
//!
//! The wasm build is `no_std` with a panic handler that aborts without formatting: that
//! keeps `core::fmt` and std's panic machinery (most of a naive build's size) out of the
//! download. Native builds (unit tests, clippy) use std as usual.
#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]

extern crate alloc;

pub mod boundary;
pub mod core;

#[cfg(target_arch = "wasm32")]
mod web;

/// Public only so the wasm tests can exercise it directly (under `std` it is not the global
/// allocator).
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod allocator;

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
static ALLOCATOR: allocator::SizeClassAllocator = allocator::SizeClassAllocator::new();

/// No message formatting: a panic (which the code avoids by construction) traps.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}
