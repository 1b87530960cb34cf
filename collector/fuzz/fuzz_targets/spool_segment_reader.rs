//! Spool segment bytes after a crash or disk damage: the reader never panics, never
//! claims more bytes than it was given, and every record it returns re-encodes to a
//! frame that reads back identically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_collector::sinks::spool::codec::{encode_frames, scan};

fuzz_target!(|data: &[u8]| {
    let at_end = scan(data, true);
    assert_eq!(at_end.consumed, data.len(), "at the end everything is consumed");
    let partial = scan(data, false);
    assert!(partial.consumed <= data.len());
    assert!(partial.records.len() <= at_end.records.len());
    let again = encode_frames(&at_end.records);
    let back = scan(&again, true);
    assert_eq!(back.records, at_end.records);
    assert_eq!(back.corrupt, 0);
});
