//! Fuzz target `h3_frames`: see `fuzz/entries.rs`.

#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::h3_frames(data));
