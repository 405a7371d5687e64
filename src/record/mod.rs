//! Recording: histograms, counters, error classes and the per-second timeline. Each client thread
//! records into its own [`stats::LaneStats`]; they are merged losslessly at the end.

pub mod compact;
pub mod errors;
pub mod peer;
pub mod stats;
pub mod timeline;
