//! HdrHistograms of microseconds: 1 µs to 60 s at 3 significant digits, serialized in the
//! compressed V2 form (base64) so that saved results merge and compare without loss.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

/// Highest trackable value: 60 s in µs. Longer values are clamped (and still counted).
pub const MAX_US: u64 = 60_000_000;

/// A latency histogram in microseconds.
pub type Hist = Histogram<u64>;

/// A histogram with the standard bounds and precision.
pub fn new_hist() -> Hist {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("constant histogram bounds are valid")
}

/// A coarser histogram (2 significant digits, 1% steps) for comparison slices, whose percentiles
/// verdicts judge against a 10% tolerance.
pub fn new_coarse_hist() -> Hist {
    Histogram::new_with_bounds(1, MAX_US, 2).expect("constant histogram bounds are valid")
}

/// The coarsest histogram (1 significant digit, steps of at most 1/16) for the per-second
/// timeline, which only charts draw: a seventh of a slice's memory, for every second of a run.
pub fn new_timeline_hist() -> Hist {
    Histogram::new_with_bounds(1, MAX_US, 1).expect("constant histogram bounds are valid")
}

/// Records a duration in µs, clamped to the trackable range.
pub fn record_us(h: &mut Hist, us: u64) {
    h.saturating_record(us.clamp(1, MAX_US));
}

/// Adds `from` into `into`. Both have the same bounds, so this cannot lose counts.
pub fn merge(into: &mut Hist, from: &Hist) {
    into.add(from)
        .expect("histograms with equal bounds always add");
}

/// V2-deflate, base64.
pub fn encode(h: &Hist) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .expect("serializing into memory does not fail");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// Why a stored histogram could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not base64.
    #[error("histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not a V2 histogram.
    #[error("histogram is not in HdrHistogram V2 form: {0:?}")]
    Hdr(hdrhistogram::serialization::DeserializeError),
}

/// Reads back what [`encode`] wrote.
pub fn decode(s: &str) -> Result<Hist, DecodeError> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s)?;
    let h: Hist = Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .map_err(DecodeError::Hdr)?;
    Ok(h)
}

/// The value at a percentile, or 0 for an empty histogram.
pub fn pct(h: &Hist, p: f64) -> u64 {
    if h.is_empty() {
        0
    } else {
        h.value_at_quantile(p / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_count() {
        let mut h = new_hist();
        for v in [1, 50, 999, 12_345, 5_000_000, 90_000_000] {
            record_us(&mut h, v);
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), 6);
        assert_eq!(back.max(), h.max());
        assert_eq!(pct(&back, 50.0), pct(&h, 50.0));
        assert!(
            back.max() <= MAX_US + MAX_US / 1000,
            "clamped to the trackable range"
        );
    }
}
