//! Transports: how one request travels over HTTP/1.1, HTTP/2 or HTTP/3.
//!
//! Every protocol implements the same two traits. [`Transport`] opens a connection (timing the
//! connect and the handshake, and asserting the negotiated protocol); [`Connection`] carries one
//! complete exchange at a time per stream. The engine's worker loop is generic over them and never
//! asks which protocol it drives.

pub mod alt_svc;
pub mod body;
pub mod dial;
pub mod h1;
pub mod h1_wire;
pub mod h2;
pub mod h2_tap;
pub mod h3;
pub mod h3_tap;
pub mod hyper_io;
pub mod raw;
pub mod tls;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;

use crate::record::errors::RequestError;
use crate::record::peer::PeerReport;

pub use crate::model::Protocol;
pub use crate::record::stats::ConnectTimings;
pub use crate::scenario::limits::ClientLimits;

/// Resolves, once the handshake completes, to whether the server accepted 0-RTT early data.
pub type EarlyData = std::pin::Pin<Box<dyn Future<Output = bool>>>;

/// A newly opened connection.
pub struct Connected<C> {
    /// The connection.
    pub conn: C,
    /// How long it took.
    pub timings: ConnectTimings,
    /// Set when requests went out as 0-RTT early data before the handshake finished.
    pub early_data: Option<EarlyData>,
}

/// One complete response, read to its end.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// Time from sending to the response head.
    pub ttfb: Duration,
    /// Body bytes received.
    pub body_len: u64,
    /// The body, when it was asked to be kept.
    pub body: Option<Bytes>,
}

/// Opens connections of one protocol to one target.
pub trait Transport: 'static {
    /// The connection type.
    type Conn: Connection;
    /// Opens a connection; a failure is already classified.
    fn connect(&self) -> impl Future<Output = Result<Connected<Self::Conn>, RequestError>>;
    /// `req` in the form this protocol puts on the wire (HTTP/1.1: origin form with a Host
    /// header). A lane converts its requests once, so that sending one only clones it;
    /// [`Connection::send`] still takes either form (a flow renders its requests anew).
    fn wire_form(&self, req: http::Request<Bytes>) -> http::Request<Bytes> {
        req
    }
}

/// A connection that carries exchanges.
pub trait Connection: 'static {
    /// Whether new requests may still be sent on it: false once it closed, and once the server
    /// announced that it is closing (GOAWAY, `Connection: close`), so that no request is sent
    /// to a connection that will not process it.
    fn is_open(&self) -> bool;
    /// Sends `req` and reads the whole response; keeps the body, up to the cap, when `keep` is
    /// `Some(cap)`.
    fn send(
        &self,
        req: http::Request<Bytes>,
        keep: Option<usize>,
    ) -> impl Future<Output = Result<Exchange, RequestError>> + 'static;
    /// What the server did on this connection so far: control frames and announced limits.
    fn peer_report(&self) -> PeerReport;
    /// Why a request that timed out on this connection never got going, when the connection
    /// can tell: a server that allows no streams is not merely slow.
    fn stall(&self, sending_body: bool) -> Option<RequestError>;
}

/// A `Host` header given by the scenario becomes the `:authority` of HTTP/2 and HTTP/3, which
/// carry the host there instead.
pub fn host_to_authority(mut req: http::Request<Bytes>) -> http::Request<Bytes> {
    if let Some(host) = req.headers_mut().remove(http::header::HOST) {
        let scheme = req.uri().scheme_str().unwrap_or("https").to_string();
        let pq = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        if let Ok(uri) = host
            .to_str()
            .map(|h| format!("{scheme}://{h}{pq}"))
            .unwrap_or_default()
            .parse::<http::Uri>()
        {
            *req.uri_mut() = uri;
        }
    }
    req
}
