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

/// Adds `from` into `into`. Histograms gauntlet made share their bounds, so this loses no count;
/// a value beyond `into`'s range (only a hand-made file has one) is counted at the top.
pub fn merge(into: &mut Hist, from: &Hist) {
    if into.add(from).is_err() {
        for v in from.iter_recorded() {
            into.saturating_record_n(v.value_iterated_to(), v.count_at_value());
        }
    }
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
    /// A header gauntlet never writes: bounds or precision that would make the reader allocate
    /// without limit, or values it could not add to its own histograms.
    #[error("histogram header out of range: {0}")]
    Header(String),
}

/// The V2 cookies (the low byte carries the word size, ignored here).
const V2_COOKIE: u32 = 0x1c84_9303;
const V2_DEFLATE_COOKIE: u32 = 0x1c84_9304;
/// The largest counts payload accepted: a 3-digit histogram of 1 µs–60 s is far smaller.
const MAX_PAYLOAD: u32 = 1 << 24;

/// Checks a V2 (or V2-deflate) header before the reader allocates what it announces: a tampered
/// header could otherwise ask for gigabytes (highest trackable value 2^63, 5 digits).
fn check_header(bytes: &[u8]) -> Result<(), DecodeError> {
    use std::io::Read as _;
    let bad = |m: &str| DecodeError::Header(m.to_string());
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if bytes.len() < 8 {
        return Err(bad("shorter than a header"));
    }
    let mut head = [0u8; 40];
    match be32(bytes) & !0xf0 {
        c if c == V2_DEFLATE_COOKIE & !0xf0 => {
            flate2::read::ZlibDecoder::new(&bytes[8..])
                .read_exact(&mut head)
                .map_err(|e| bad(&format!("compressed header: {e}")))?;
        }
        c if c == V2_COOKIE & !0xf0 => {
            if bytes.len() < 40 {
                return Err(bad("shorter than a header"));
            }
            head.copy_from_slice(&bytes[..40]);
        }
        _ => return Err(bad("not an HdrHistogram V2 cookie")),
    }
    let be64 = |b: &[u8]| u64::from_be_bytes(b[..8].try_into().expect("8 bytes"));
    let (payload, digits) = (be32(&head[4..]), be32(&head[12..]));
    let (lowest, highest) = (be64(&head[16..]), be64(&head[24..]));
    if payload > MAX_PAYLOAD {
        return Err(bad(&format!("payload of {payload} bytes")));
    }
    if !(1..=3).contains(&digits) {
        return Err(bad(&format!("{digits} significant digits")));
    }
    if lowest != 1 || !(2..=MAX_US).contains(&highest) {
        return Err(bad(&format!("bounds {lowest}..{highest} µs")));
    }
    Ok(())
}

/// Reads back what [`encode`] wrote, refusing headers gauntlet never writes.
pub fn decode(s: &str) -> Result<Hist, DecodeError> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s)?;
    check_header(&bytes)?;
    let h: Hist = Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .map_err(DecodeError::Hdr)?;
    Ok(h)
}

/// A histogram as results.json stores it: V2-deflate, base64 on the wire, a [`Hist`] in memory.
/// It is decoded once, when a file is read, and a damaged one fails the read (naming its field),
/// never becoming an empty histogram; within one process it is never encoded and decoded again.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredHist(pub Hist);

impl StoredHist {
    /// An empty histogram at the timeline's precision: the default of a timeline field missing
    /// from an older file (a full-precision one per second of a long run would cost gigabytes).
    pub fn empty_timeline() -> Self {
        StoredHist(new_timeline_hist())
    }
}

impl Default for StoredHist {
    fn default() -> Self {
        StoredHist(new_hist())
    }
}

impl serde::Serialize for StoredHist {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(&self.0))
    }
}

impl<'de> serde::Deserialize<'de> for StoredHist {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode(&text)
            .map(StoredHist)
            .map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for StoredHist {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StoredHist".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "contentEncoding": "base64",
            "description": "An HdrHistogram of microseconds, V2-deflate, base64."
        })
    }
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

    /// A V2-deflate histogram with the header fields replaced, as a tampered file would hold.
    fn tampered(digits: u32, highest: u64) -> String {
        use std::io::{Read as _, Write as _};
        let mut buf = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&new_hist(), &mut buf)
            .unwrap();
        let mut plain = Vec::new();
        flate2::read::ZlibDecoder::new(&buf[8..])
            .read_to_end(&mut plain)
            .unwrap();
        plain[12..16].copy_from_slice(&digits.to_be_bytes());
        plain[24..32].copy_from_slice(&highest.to_be_bytes());
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&plain).unwrap();
        let body = z.finish().unwrap();
        let mut out = buf[..4].to_vec();
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(&body);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    #[test]
    fn a_header_asking_for_gigabytes_is_refused_before_allocating() {
        // 5 digits up to 2^62 would make the reader allocate gigabytes.
        let e = decode(&tampered(5, 1 << 62)).unwrap_err();
        assert!(matches!(e, DecodeError::Header(_)), "{e}");
        let e = decode(&tampered(3, 1 << 62)).unwrap_err();
        assert!(e.to_string().contains("bounds"), "{e}");
        // The untampered form of the same bytes still reads.
        assert!(decode(&tampered(3, MAX_US)).is_ok());
        assert!(decode("AAAA").is_err());
    }

    #[test]
    fn merging_a_wider_histogram_counts_everything() {
        let mut wide = Histogram::<u64>::new_with_bounds(1, 1 << 40, 2).unwrap();
        wide.record(1 << 39).unwrap();
        wide.record(10).unwrap();
        let mut into = new_hist();
        merge(&mut into, &wide);
        assert_eq!(into.len(), 2);
    }
}
