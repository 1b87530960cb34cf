//! The SDK's pure logic: no DOM, no JS, compiled and unit-tested on the host target.
//! The `web` layer feeds it numbers and strings read from the page and sends what it builds.

pub mod backoff;
pub mod batch;
pub mod config;
pub mod event;
pub mod hex;
pub mod num;
pub mod retry;
pub mod scroll;
pub mod selector;
pub mod session;
pub mod text;
pub mod url;
pub mod viewability;
pub mod wire;
