//! The typed results model: what a run produced, in the form results.json holds it, and the
//! small vocabulary every layer shares (protocols, error classes, metrics, verdict words). It is
//! the bottom layer: it imports nothing of the crate, the engine produces it, `compare` judges it,
//! `report` renders it, and `verdict` decides the exit code from it.

pub mod comparison;
pub mod conformance;
pub mod differential;
pub mod errors;
pub mod files;
pub mod hist;
pub mod merge;
pub mod metric;
pub mod peer;
pub mod protocol;
pub mod redact;
pub mod results;
pub mod seed;
pub mod verdict;

pub use errors::ErrorClass;
pub use metric::Metric;
pub use protocol::Protocol;
pub use results::ResultsFile;
pub use verdict::{code, Verdict};
