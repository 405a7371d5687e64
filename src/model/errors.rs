//! Error classes: every failed request is counted under exactly one class and a short stable code,
//! never under its message text, so that counts from two runs or two paths line up.

use serde::{Deserialize, Serialize};

/// The class of a failed request.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ErrorClass {
    /// The TCP (or UDP) connection could not be opened: refused, unreachable, DNS, connect timeout.
    Connect,
    /// The TLS (or QUIC crypto) handshake failed: certificate, alert, ALPN refusal.
    Tls,
    /// The request or the handshake did not complete in time.
    Timeout,
    /// The connection was reset or closed before the response was complete.
    Reset,
    /// The peer broke the protocol or negotiated another one: parse errors, GOAWAY, RST_STREAM,
    /// an HTTP/1.1 answer where HTTP/2 was asked for.
    Protocol,
    /// The status code is not one the request accepts.
    Status,
    /// A header or body expectation did not hold.
    Expectation,
    /// A flow step's capture found nothing (no such header, JSON path or match): the rest of
    /// the flow was not sent.
    Capture,
}

impl ErrorClass {
    /// Every class, in report order.
    pub const ALL: [ErrorClass; 8] = [
        ErrorClass::Connect,
        ErrorClass::Tls,
        ErrorClass::Timeout,
        ErrorClass::Reset,
        ErrorClass::Protocol,
        ErrorClass::Status,
        ErrorClass::Expectation,
        ErrorClass::Capture,
    ];

    /// The lower-case name used in results and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Tls => "tls",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Reset => "reset",
            ErrorClass::Protocol => "protocol",
            ErrorClass::Status => "status",
            ErrorClass::Expectation => "expectation",
            ErrorClass::Capture => "capture",
        }
    }

    /// Whether the class is a failed check (status or expectation) rather than a transport fault.
    pub fn is_check(self) -> bool {
        !self.is_transport()
    }

    /// Whether the class is a transport fault (as opposed to a check that did not hold).
    pub fn is_transport(self) -> bool {
        !matches!(
            self,
            ErrorClass::Status | ErrorClass::Expectation | ErrorClass::Capture
        )
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
