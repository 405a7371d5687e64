//! HTTP/2 probes (to be filled).
use super::Probe;
/// The HTTP/2 probes.
pub fn probes() -> Vec<Probe> {
    vec![]
}
