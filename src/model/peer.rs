//! What the server did on its connections, as opposed to what happened to our requests: control
//! frames it sent (SETTINGS, PING, GOAWAY, WINDOW_UPDATE, RST_STREAM, or their QUIC and HTTP/3
//! counterparts), the limits it announced, and how often it ended a connection gracefully. A
//! server that floods control frames or allows no streams is visible here even when every request
//! passed.

use serde::{Deserialize, Serialize};

/// SETTINGS or PINGs at or above this rate (per second of the run) and this count per connection
/// are flagged as abusive: a server sends one SETTINGS and its ACK per connection, and PINGs
/// rarely.
pub const FLOOD_PER_SECOND: f64 = 1_000.0;

/// See [`FLOOD_PER_SECOND`]: the per-connection part, so that a run with heavy connection churn
/// (each connection's ordinary SETTINGS) is not flagged.
pub const FLOOD_PER_CONNECTION: f64 = 50.0;

/// Control frames received, counted per kind.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ControlFrames {
    /// SETTINGS frames (ACKs included); HTTP/3: the control stream's SETTINGS.
    pub settings: u64,
    /// PING frames (ACKs included); HTTP/3: QUIC PING frames.
    pub ping: u64,
    /// GOAWAY frames (HTTP/2 and HTTP/3; on HTTP/3 also a graceful H3_NO_ERROR close whose
    /// GOAWAY was lost with the connection); HTTP/1.1: responses with `Connection: close`.
    pub goaway: u64,
    /// WINDOW_UPDATE frames; HTTP/3: QUIC MAX_DATA and MAX_STREAM_DATA frames.
    pub window_update: u64,
    /// RST_STREAM frames; HTTP/3: QUIC RESET_STREAM frames.
    pub rst_stream: u64,
}

impl ControlFrames {
    /// Adds `o` into `self`.
    pub fn add(&mut self, o: &ControlFrames) {
        self.settings += o.settings;
        self.ping += o.ping;
        self.goaway += o.goaway;
        self.window_update += o.window_update;
        self.rst_stream += o.rst_stream;
    }
}

/// Limits the server announced (HTTP/2 SETTINGS, HTTP/3 SETTINGS); absent when never announced.
/// Over several connections, the smallest value announced is kept: the limit that bit hardest.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct PeerLimits {
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_streams: Option<u64>,
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_window_size: Option<u64>,
    /// SETTINGS_MAX_FRAME_SIZE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frame_size: Option<u64>,
    /// SETTINGS_MAX_HEADER_LIST_SIZE (HTTP/3: SETTINGS_MAX_FIELD_SECTION_SIZE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_header_list_size: Option<u64>,
}

impl PeerLimits {
    /// Keeps the smaller of each limit.
    pub fn add(&mut self, o: &PeerLimits) {
        self.max_concurrent_streams =
            min_opt(self.max_concurrent_streams, o.max_concurrent_streams);
        self.initial_window_size = min_opt(self.initial_window_size, o.initial_window_size);
        self.max_frame_size = min_opt(self.max_frame_size, o.max_frame_size);
        self.max_header_list_size = min_opt(self.max_header_list_size, o.max_header_list_size);
    }
}

/// Whether the control frames of a lane look like a flood: the kinds that are, with their rate.
pub fn floods(frames: &ControlFrames, connections: u64, seconds: f64) -> Vec<(&'static str, f64)> {
    let conns = connections.max(1) as f64;
    let secs = seconds.max(1.0);
    [("SETTINGS", frames.settings), ("PING", frames.ping)]
        .into_iter()
        .filter_map(|(kind, n)| {
            let rate = n as f64 / secs;
            (rate >= FLOOD_PER_SECOND && n as f64 / conns >= FLOOD_PER_CONNECTION)
                .then_some((kind, rate))
        })
        .collect()
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
