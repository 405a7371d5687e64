//! Everything rendered from a run, all from the one results model (`results.json`): the wire
//! types, the HTML report with its charts, the console summary and the live progress line.

pub mod charts;
pub mod console;
pub mod hlog;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod progress;
pub mod publish;

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
