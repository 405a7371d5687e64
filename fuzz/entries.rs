//! The entry of every fuzz target, shared by the targets (`fuzz/fuzz_targets/*.rs`) and by the
//! stable replay test (`tests/fuzz_corpus.rs`), which includes this file by path: each takes
//! arbitrary bytes and feeds them to one parser of untrusted input. The parsers must not panic,
//! hang or allocate without bound on any input; what they return is not looked at.

#![allow(dead_code)]

use std::path::Path;

use gauntlet::model::{Protocol, ResultsFile};
use gauntlet::proto::raw::{h1, h1_parse, h2, h3, qpack};
use gauntlet::scenario::gate::{self, GateContext};
use gauntlet::scenario::{load_str, Overrides};

/// A target's entry: arbitrary bytes in, nothing out.
pub type Entry = fn(&[u8]);

/// Every target by name, as `fuzz/corpus/<name>/` and `fuzz/regressions/<name>/` are named.
pub const TARGETS: [(&str, Entry); 6] = [
    ("scenario", scenario),
    ("gate", gate),
    ("results", results),
    ("h1_response", h1_response),
    ("h2_frames", h2_frames),
    ("h3_frames", h3_frames),
];

/// The scenario loader: YAML, validation and diagnostics rendering. Relative file paths point
/// into a folder that does not exist. A target's host name is looked up (a scenario may not aim
/// load outside private networks), so fuzz this target without a network: see README.
pub fn scenario(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = load_str(
            "fuzz.yaml",
            text,
            Path::new("/nonexistent/gauntlet-fuzz"),
            &Overrides::default(),
        );
    }
}

/// The gate parser, with a context of two targets, candidate and baseline, three protocols and
/// two requests, so that every form of reference can resolve.
pub fn gate(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let targets = ["edge".to_string(), "origin".to_string()];
    let requests = ["home".to_string(), "api".to_string()];
    let ctx = GateContext {
        targets: &targets,
        has_roles: true,
        protocols: &[Protocol::H1, Protocol::H2, Protocol::H3],
        requests: &requests,
    };
    let _ = gate::parse(text, &ctx);
}

/// The results reader (`compare`, `report` and `diff` read results.json files), histograms
/// included.
pub fn results(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ResultsFile::try_from(text);
    }
}

/// The raw HTTP/1 response parser of the probe client (a closed and an open connection, with
/// and without HEAD requests), and the head parser, chunked decoder and strict grammar check
/// the embedded origins use on what they receive.
pub fn h1_response(data: &[u8]) {
    let _ = h1::parse_responses(data, true, |i| i % 2 == 1);
    let _ = h1::parse_responses(data, false, |_| false);
    let _ = h1_parse::parse_head(data);
    let _ = h1_parse::dechunk(data);
    let _ = h1_parse::strict_head_problem(data);
}

/// The HTTP/2 probe client's reader: frames, CONTINUATION and HPACK (loona-hpack) of what a
/// server sends, then the log's summary.
pub fn h2_frames(data: &[u8]) {
    let log = h2::read_frames(data);
    let _ = log.outcome(1);
}

/// The HTTP/3 probe client's reader of a response stream (frames, then QPACK), and the QPACK
/// decoder on the bytes directly.
pub fn h3_frames(data: &[u8]) {
    let mut log = h3::StreamLog::default();
    h3::read_frames(data, &mut log);
    let _ = log.status();
    let _ = qpack::decode(data);
}
