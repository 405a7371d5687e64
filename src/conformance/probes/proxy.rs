//! proxy probes (to be filled).
use super::Probe;
/// The proxy probes.
pub fn probes() -> Vec<Probe> {
    vec![]
}
