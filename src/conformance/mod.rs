//! Conformance: what a response must look like. Per-request expectations live here; protocol
//! probes and the response differential will join them.

pub mod expect;
