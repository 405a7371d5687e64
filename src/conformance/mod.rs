//! Conformance: what a response must look like (per-request expectations), and how the responses
//! of two paths differ (the differential). Protocol probes will join them.

pub mod differential;
pub mod expect;
pub mod probes;
pub mod run;
