//! Fuzz target `h1_response`: see `fuzz/entries.rs`.

#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::h1_response(data));
