//! The limits gauntlet's own protocol stacks enforce on what a server sends (the scenario's
//! `limits` section), with the defaults a browser-like client would use.

/// Limits gauntlet's own protocol stacks enforce on what a server sends; the scenario's `limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    /// The largest response header list accepted, bytes (HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE,
    /// HTTP/3 SETTINGS_MAX_FIELD_SECTION_SIZE, the HTTP/1.1 head buffer).
    pub max_header_list_size: u32,
    /// The largest HTTP/2 frame accepted (SETTINGS_MAX_FRAME_SIZE).
    pub max_frame_size: u32,
}

impl ClientLimits {
    /// The default header list limit: 256 KiB, as browsers accept.
    pub const DEFAULT_MAX_HEADER_LIST_SIZE: u32 = 256 << 10;
    /// The protocol's own default frame size.
    pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            max_header_list_size: Self::DEFAULT_MAX_HEADER_LIST_SIZE,
            max_frame_size: Self::DEFAULT_MAX_FRAME_SIZE,
        }
    }
}

/// The cap on a kept body when neither the scenario nor the request sets one.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
