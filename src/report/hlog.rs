//! HdrHistogram interval logs (`.hlog`), one per target × protocol, in the standard format that
//! HistogramLogProcessor and the Java and Python readers read: the version line, start and base
//! time, the column legend, then per second of the run two intervals, corrected and uncorrected
//! latency in microseconds, each tagged (warm-up seconds tagged apart).

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

/// The log format version HistogramLogProcessor and the Java and Python readers expect.
const FORMAT_VERSION: &str = "1.3";

/// The column header those readers skip (and some tools require).
const LEGEND: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";

/// Writes the interval log of one lane: per second, the corrected and the uncorrected latency,
/// tagged `corrected` and `uncorrected` (`warmup-corrected`, `warmup-uncorrected` for the
/// warm-up), so a reader that takes one tag, past the warm-up, gets what the report shows.
pub fn render(r: &ResultsFile, l: &LaneJson) -> Result<Vec<u8>, String> {
    let start = humantime::parse_rfc3339(&r.meta.started).unwrap_or(UNIX_EPOCH);
    let mut head = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut builder = IntervalLogWriterBuilder::new();
    builder.add_comment(&format!(
        "gauntlet {} {} {} {}: latency in microseconds, tags corrected and uncorrected \
         (warmup- before them for the warm-up)",
        r.meta.version, r.meta.scenario, l.target, l.protocol
    ));
    builder.add_comment(&format!("[Histogram log format version {FORMAT_VERSION}]"));
    builder.with_start_time(start).with_base_time(start);
    let mut body = Vec::new();
    {
        let w = builder
            .begin_log_with(&mut head, &mut serializer)
            .map_err(|e| e.to_string())?;
        drop(w);
    }
    let mut serializer = V2DeflateSerializer::new();
    // Interval_Max in seconds, like the timestamps (the values are microseconds).
    let mut w = IntervalLogWriterBuilder::new()
        .with_max_value_divisor(1e6)
        .begin_log_with(&mut body, &mut serializer)
        .map_err(|e| e.to_string())?;
    for s in &l.timeline {
        let (corrected, uncorrected) = if s.warmup {
            ("warmup-corrected", "warmup-uncorrected")
        } else {
            ("corrected", "uncorrected")
        };
        for (h, tag) in [
            (&s.latency_us, corrected),
            (&s.latency_uncorrected_us, uncorrected),
        ] {
            w.write_histogram(
                &h.0,
                Duration::from_secs(s.t),
                Duration::from_secs(1),
                Tag::new(tag),
            )
            .map_err(|e| format!("{e:?}"))?;
        }
    }
    drop(w);
    // The header lines, the legend, then the intervals.
    let mut out = head;
    out.extend_from_slice(LEGEND.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&body);
    Ok(out)
}
