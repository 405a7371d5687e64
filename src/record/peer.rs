//! What one connection's server did, gathered by the transports and folded into a lane's
//! figures when the connection is retired; the counted types are the model's.

pub use crate::model::peer::{floods, ControlFrames, PeerLimits};

/// What one connection's server did, read when the connection is retired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerReport {
    /// Control frames received.
    pub frames: ControlFrames,
    /// Limits announced.
    pub limits: PeerLimits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_keep_the_smallest_announced() {
        let mut a = PeerLimits {
            max_concurrent_streams: Some(100),
            ..Default::default()
        };
        a.add(&PeerLimits {
            max_concurrent_streams: Some(0),
            max_frame_size: Some(16384),
            ..Default::default()
        });
        assert_eq!(a.max_concurrent_streams, Some(0));
        assert_eq!(a.max_frame_size, Some(16384));
        assert_eq!(a.initial_window_size, None);
    }

    #[test]
    fn a_flood_needs_both_rate_and_count_per_connection() {
        let f = ControlFrames {
            settings: 20_000,
            ping: 20_000,
            ..Default::default()
        };
        // 20,000 connections of churn in 10 s: one SETTINGS each plus an ACK is no flood.
        assert!(floods(&f, 20_000, 10.0).is_empty());
        // The same frames over 2 connections are.
        let kinds: Vec<_> = floods(&f, 2, 10.0).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, ["SETTINGS", "PING"]);
        // A slow trickle is not.
        assert!(floods(&f, 2, 100.0).is_empty());
    }
}
