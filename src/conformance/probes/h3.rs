//! HTTP/3 probes (to be filled).
use super::Probe;
/// The HTTP/3 probes.
pub fn probes() -> Vec<Probe> {
    vec![]
}
