//! Error classes: every failed request is counted under exactly one class and a short stable code,
//! never under its message text, so that counts from two runs or two paths line up.

pub use crate::model::errors::ErrorClass;

/// A classified failure of one request or connection attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{class:?} ({code}): {message}")]
pub struct RequestError {
    /// The class it is counted under.
    pub class: ErrorClass,
    /// A short stable code within the class (`refused`, `alpn:http/1.1`, `h2:REFUSED_STREAM`).
    pub code: String,
    /// A human sentence, kept only as an example per code.
    pub message: String,
    /// The server did not process the request, by its own word: the request never left (the
    /// connection was already closing), or the server answered with REFUSED_STREAM,
    /// H3_REQUEST_REJECTED or a graceful GOAWAY whose last stream id is below the request's. Such
    /// a request may be retried on a new connection (RFC 9113 §8.7, RFC 9114 §4.1.1).
    pub unprocessed: bool,
}

impl RequestError {
    /// Builds an error.
    pub fn new(class: ErrorClass, code: impl Into<String>, message: impl Into<String>) -> Self {
        RequestError {
            class,
            code: code.into(),
            message: message.into(),
            unprocessed: false,
        }
    }

    /// Marks the error as one where the server did not process the request.
    pub fn unprocessed(mut self) -> Self {
        self.unprocessed = true;
        self
    }
}
