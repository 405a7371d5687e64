//! Upper bounds on every number a scenario or a flag sets, checked at validation with the value's
//! position. Each is far above what one load generator can do, and low enough that a typo (an
//! extra digit, a negative read as 2^32) is refused before it exhausts the machine or runs for a
//! week. The schema and the README state the same figures.

use std::time::Duration;

/// Connections per target × protocol.
pub const MAX_CONNECTIONS: u64 = 10_000;
/// Streams in flight per HTTP/2 or HTTP/3 connection.
pub const MAX_STREAMS: u64 = 1_000;
/// Requests in flight per target × protocol (closed model).
pub const MAX_CONCURRENCY: u64 = 100_000;
/// Client threads.
pub const MAX_THREADS: u64 = 256;
/// Measured requests per target × protocol, and requests per connection.
pub const MAX_REQUESTS: u64 = 1_000_000_000;
/// Arrivals per second per target × protocol (open model).
pub const MAX_RATE: f64 = 1_000_000.0;
/// The whole run: warm-up and every stage.
pub const MAX_RUN: Duration = Duration::from_secs(24 * 3600);
/// A request's timeout, the connect timeout, a probe step's.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// Why `v` is above `max`, in words, or `None`.
pub fn above(v: u64, max: u64, unit: &str) -> Option<String> {
    (v > max).then(|| format!("{v} is above the limit of {max} {unit}"))
}

/// A rate as a person wrote it: `1e300`, not three hundred digits.
pub fn show_rate(r: f64) -> String {
    if r.abs() >= 1e9 {
        format!("{r:e}")
    } else {
        format!("{r}")
    }
}

/// Why the rate `r` is not a usable rate, or `None`.
pub fn bad_rate(r: f64) -> Option<String> {
    if !(r.is_finite() && r > 0.0) {
        Some("the rate must be a number above zero (requests per second)".into())
    } else if r > MAX_RATE {
        Some(format!(
            "a rate of {} per second is above the limit of {MAX_RATE}",
            show_rate(r)
        ))
    } else {
        None
    }
}

/// Why the duration `d` is too long for `max`, or `None`.
pub fn too_long(d: Duration, max: Duration) -> Option<String> {
    (d > max).then(|| {
        format!(
            "{} is longer than the limit of {}",
            humantime::format_duration(d),
            humantime::format_duration(max)
        )
    })
}
