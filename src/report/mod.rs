//! Everything rendered from a run: the `results.json` wire types, the console summary table and
//! the live progress line.

pub mod console;
pub mod json;
pub mod progress;

/// Formats microseconds for people: `850µs`, `12.3ms`, `1.52s`.
pub fn fmt_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.2}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}
