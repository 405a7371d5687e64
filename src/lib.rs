//! gauntlet: protocol conformance and load testing of HTTP proxies over HTTP/1.1, HTTP/2 and
//! HTTP/3.
//!
//! The flow is `scenario` (YAML → validated [`scenario::Scenario`]) → `engine` (schedulers,
//! client threads, one worker loop over the `proto` transports) → `record` (histograms, counters,
//! timeline) → `verdict` and `report` (results.json, console). `origin` is the embedded reference
//! server used by tests, demos and the proxies in `ci/`.

pub mod cli;
pub mod compare;
pub mod conformance;
pub mod engine;
pub mod import;
pub mod metrics;
pub mod model;
pub mod origin;
pub mod proto;
pub mod record;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod verdict;
