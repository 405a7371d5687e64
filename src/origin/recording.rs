//! What an origin received: one record per request, kept in arrival order, shared between the
//! origin's connections and the probes that judge what reached it. The decisive check of a
//! smuggling probe is made here, on the origin's side, not on what the client was told.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

pub use crate::proto::raw::h1_parse::{contains, field_values};

/// One request as an origin parsed it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// Which connection of the origin it came on (numbered from 0 in accept order).
    pub conn: u64,
    /// The request method.
    pub method: String,
    /// The request target as sent (path and query for origin-form).
    pub target: String,
    /// `HTTP/1.1`, `HTTP/1.0`, `HTTP/2`, `HTTP/3`.
    pub version: String,
    /// Header fields in the order received, names as sent.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body, as framed by the origin.
    pub body: Vec<u8>,
    /// The exact bytes of the request head and body (raw HTTP/1 listener only).
    pub raw: Vec<u8>,
    /// The connection ended before the body's end (raw HTTP/1 listener only): a sender that
    /// streamed the head on and then abandoned the request, so `body` is not what was meant.
    pub cut_short: bool,
}

impl Received {
    /// A request as an HTTP/2 or HTTP/3 server decoded it: method and target from the
    /// pseudo-headers, every field (pseudo-headers included) kept in order.
    pub fn from_fields(version: &str, fields: &[(Vec<u8>, Vec<u8>)]) -> Received {
        let pseudo = |n: &[u8]| {
            fields
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        };
        Received {
            method: pseudo(b":method"),
            target: pseudo(b":path"),
            version: version.into(),
            headers: fields
                .iter()
                .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), v.clone()))
                .collect(),
            ..Default::default()
        }
    }

    /// Every value of the header `name` (case-insensitive).
    pub fn header_values(&self, name: &str) -> Vec<&[u8]> {
        field_values(&self.headers, name)
    }

    /// Whether `needle` occurs in the request line or any header (not the body).
    pub fn head_contains(&self, needle: &str) -> bool {
        let n = needle.as_bytes();
        self.target.contains(needle)
            || self
                .headers
                .iter()
                .any(|(k, v)| k.contains(needle) || contains(v, n))
    }
}

/// Something told of every request as it is recorded.
pub type Tap = Arc<dyn Fn(&Received) + Send + Sync>;

/// The shared log of received requests, and the means to end every connection of the origin
/// that records into it.
#[derive(Clone, Default)]
pub struct Recorder(
    Arc<Mutex<Vec<Received>>>,
    Option<Tap>,
    Arc<Mutex<CancellationToken>>,
);

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recorder({} requests)", self.len())
    }
}

impl Recorder {
    /// A recorder that also hands every request to `tap` (`gauntlet origin --record` prints
    /// them).
    pub fn with_tap(tap: Tap) -> Recorder {
        Recorder(Arc::default(), Some(tap), Arc::default())
    }

    /// What a connection accepted now watches: cancelled by [`Recorder::end_connections`].
    pub fn connection_token(&self) -> CancellationToken {
        self.2.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Ends every connection the origin holds now (a proxy's pooled upstream connections
    /// included), so that what one probe left in them cannot reach the next; connections
    /// accepted later are not affected.
    pub fn end_connections(&self) {
        let mut t = self.2.lock().unwrap_or_else(|p| p.into_inner());
        t.cancel();
        *t = CancellationToken::new();
    }

    /// Appends a request.
    pub fn push(&self, r: Received) {
        if let Some(t) = &self.1 {
            t(&r);
        }
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(r);
    }

    /// A copy of every request whose request line or headers mention `needle`.
    pub fn mentioning(&self, needle: &str) -> Vec<Received> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|r| r.head_contains(needle))
            .cloned()
            .collect()
    }

    /// How many requests were recorded.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
