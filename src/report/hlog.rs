//! HdrHistogram interval logs (`.hlog`), one per target × protocol, in the standard format that
//! HistogramLogProcessor and other HdrHistogram tools read: one interval per second of the run,
//! corrected latency in microseconds.

use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;

use crate::model::results::{LaneJson, ResultsFile};

/// The file name of a lane's log.
pub fn file_name(l: &LaneJson) -> String {
    let safe = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    format!("{}-{}.hlog", safe(&l.target), safe(l.protocol.as_str()))
}

/// Writes the interval log of one lane.
pub fn render(r: &ResultsFile, l: &LaneJson) -> Result<Vec<u8>, String> {
    let start = humantime::parse_rfc3339(&r.meta.started).unwrap_or(UNIX_EPOCH);
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut builder = IntervalLogWriterBuilder::new();
    builder.add_comment(&format!(
        "gauntlet {} {} {} {}: corrected latency, microseconds",
        r.meta.version, r.meta.scenario, l.target, l.protocol
    ));
    builder.with_start_time(start).with_base_time(start);
    let mut w = builder
        .begin_log_with(&mut out, &mut serializer)
        .map_err(|e| e.to_string())?;
    let tag_text = format!("{}.{}", l.target, l.protocol).replace([',', ' '], "_");
    let tag = Tag::new(&tag_text);
    for s in &l.timeline {
        w.write_histogram(
            &s.latency_us.0,
            Duration::from_secs(s.t),
            Duration::from_secs(1),
            tag,
        )
        .map_err(|e| format!("{e:?}"))?;
    }
    drop(w);
    Ok(out)
}
