//! Conformance: what a response must look like (per-request expectations), how the responses of
//! two paths differ (the differential), and byte- and frame-level protocol probes with an RFC
//! verdict and a parity verdict per path (probes, run, scenario).

pub mod canary;
pub mod check;
pub mod differential;
pub mod probes;
pub mod run;
pub mod scenario;
