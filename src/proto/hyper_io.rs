//! What the HTTP/1.1 and HTTP/2 transports share: opening a TCP or TLS stream with the right ALPN,
//! a local executor for hyper's connection tasks, reading a body to its end, and mapping hyper and
//! h2 errors onto error classes.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper::body::Incoming;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_util::either::Either;

use super::body::BodySink;
use super::{dial, tls, ConnectTimings, Exchange, Protocol};
use crate::record::errors::{ErrorClass, RequestError};

/// A TCP stream, with or without TLS.
pub type Stream = Either<TcpStream, TlsStream<TcpStream>>;

/// Opens TCP (and TLS) streams to one target for one protocol.
pub struct StreamDialer {
    /// Where to dial.
    pub dial: (String, u16),
    /// TLS connector and server name, for `https`.
    pub tls: Option<(TlsConnector, ServerName<'static>)>,
    /// The protocol whose ALPN id must be negotiated over TLS.
    pub protocol: Protocol,
    /// Deadline for connect, and again for the handshake.
    pub timeout: Duration,
}

impl StreamDialer {
    /// Builds a dialer; `tls` is the client configuration for `https` targets.
    pub fn new(
        dial: (String, u16),
        tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
        protocol: Protocol,
        timeout: Duration,
    ) -> Self {
        StreamDialer {
            dial,
            tls: tls.map(|(c, n)| (TlsConnector::from(c), n)),
            protocol,
            timeout,
        }
    }

    /// Opens a stream and checks the negotiated protocol.
    pub async fn open(&self) -> Result<(Stream, ConnectTimings), RequestError> {
        let (tcp, connect) = dial::tcp(&self.dial.0, self.dial.1, self.timeout).await?;
        match &self.tls {
            None => Ok((
                Either::Left(tcp),
                ConnectTimings {
                    connect,
                    handshake: None,
                    resumed: false,
                },
            )),
            Some((connector, name)) => {
                let (s, hs, resumed) =
                    tls::handshake(connector, name.clone(), tcp, self.timeout).await?;
                tls::check_alpn(&s, self.protocol.alpn())?;
                Ok((
                    Either::Right(s),
                    ConnectTimings {
                        connect,
                        handshake: Some(hs),
                        resumed,
                    },
                ))
            }
        }
    }
}

/// Runs hyper's per-connection futures on the current thread's `LocalSet`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalExec;

impl<F> hyper::rt::Executor<F> for LocalExec
where
    F: std::future::Future + 'static,
{
    fn execute(&self, fut: F) {
        // Boxed first: hyper's HTTP/2 client spawns a future of several kilobytes for every
        // request, which tokio would otherwise copy into its task and over again when it
        // finishes; one allocation costs less than those copies.
        tokio::task::spawn_local(Box::pin(fut));
    }
}

/// Which part of an exchange an error came from: before the response head or while its body
/// streamed. It tells a malformed response from a body that broke its own framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Sending the request or waiting for the response head.
    Head,
    /// Reading the response body.
    Body,
}

/// The request as hyper hands it back when it never left.
pub type Unsent = hyper::client::conn::TrySendError<http::Request<Full<Bytes>>>;

/// Sends with `send` (a hyper `try_send_request` future), times the response head, and reads the
/// body to its end under `keep`'s cap, and checks its framing (`head`: it answers a HEAD): the
/// exchange as HTTP/1.1 and HTTP/2 both run it. A request
/// hyper gives back unsent is marked unprocessed, so the worker may retry it elsewhere.
pub async fn timed_exchange<F>(
    send: F,
    keep: Option<usize>,
    head: bool,
) -> Result<Exchange, RequestError>
where
    F: std::future::Future<Output = Result<http::Response<Incoming>, Unsent>>,
{
    let start = std::time::Instant::now();
    let resp = send.await.map_err(|mut e| {
        let never_sent = e.take_message().is_some();
        let err = classify(e.error(), Phase::Head);
        if never_sent {
            err.unprocessed()
        } else {
            err
        }
    })?;
    let ttfb = start.elapsed();
    let (parts, mut body) = resp.into_parts();
    let mut sink = BodySink::new(keep);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(|e| classify(&e, Phase::Body))?.into_data() {
            sink.push(&data)?;
        }
    }
    let (body_len, body) = sink.finish();
    super::body::check_framing(head, parts.status.as_u16(), &parts.headers, body_len)?;
    Ok(Exchange {
        status: parts.status.as_u16(),
        headers: parts.headers,
        ttfb,
        body_len,
        body,
    })
}

/// Classifies an HTTP/2 error that carries a reason. Frames the server sent are `h2:rst:…` and
/// `h2:goaway:…`; errors our own HTTP/2 stack raised on the server's bytes are `h2:local:…`,
/// named by the violation, so a report never blames the server for a frame it did not send.
fn classify_h2(h2e: &h2::Error, reason: h2::Reason, phase: Phase, msg: String) -> RequestError {
    use h2::Reason as R;
    if h2e.is_remote() {
        let kind = if h2e.is_go_away() { "goaway" } else { "rst" };
        let e = RequestError::new(ErrorClass::Protocol, format!("h2:{kind}:{reason:?}"), msg);
        // REFUSED_STREAM, and a graceful GOAWAY that ended streams above its last stream id, say
        // the server did not process the request (RFC 9113 §8.7).
        return if reason == R::REFUSED_STREAM || (h2e.is_go_away() && reason == R::NO_ERROR) {
            e.unprocessed()
        } else {
            e
        };
    }
    let (code, what) = match (reason, h2e.is_go_away(), phase) {
        (R::PROTOCOL_ERROR, false, Phase::Body) => (
            "content-length-mismatch",
            "the response's DATA did not add up to its content-length",
        ),
        (R::PROTOCOL_ERROR, false, Phase::Head) => (
            "malformed-response",
            "the response head broke HTTP/2's rules for messages",
        ),
        (R::REFUSED_STREAM, false, _) => (
            "header-list-too-large",
            "the response's header list passed our SETTINGS_MAX_HEADER_LIST_SIZE (max_header_list_size)",
        ),
        (R::FRAME_SIZE_ERROR, _, _) => (
            "frame-size",
            "the server sent a frame over our SETTINGS_MAX_FRAME_SIZE, or bytes that are not HTTP/2 frames",
        ),
        (R::COMPRESSION_ERROR, _, _) => ("compression", "the server's header block did not decode"),
        (R::ENHANCE_YOUR_CALM, _, _) => (
            "flood",
            "the server sent more than our stack bears (a header block continued past its limit, or too many streams to reset)",
        ),
        (R::FLOW_CONTROL_ERROR, _, _) => (
            "flow-control",
            "the server sent more DATA than its flow-control window allowed",
        ),
        (R::PROTOCOL_ERROR, true, _) => (
            "protocol-violation",
            "the server broke HTTP/2's framing rules",
        ),
        _ => ("other", "gauntlet's HTTP/2 stack ended the exchange"),
    };
    RequestError::new(
        ErrorClass::Protocol,
        format!("h2:local:{code}"),
        format!("{what}; gauntlet's HTTP/2 stack sent {reason:?}, the server sent no such frame ({msg})"),
    )
}

/// Classifies an I/O error under an exchange: a TLS alert stays `tls`; bytes that broke
/// HTTP/1.1's body framing (hyper's chunked decoder reports a bad chunk size line as invalid
/// input) are the server's protocol error, not a reset; the rest is the connection failing.
pub(super) fn classify_io(io: &std::io::Error, msg: String) -> RequestError {
    use std::io::ErrorKind as K;
    if let Some(t) = tls::io_tls_error(io) {
        return RequestError {
            message: format!("{msg}: {}", t.message),
            ..t
        };
    }
    let code = match io.kind() {
        K::InvalidInput | K::InvalidData => {
            return RequestError::new(ErrorClass::Protocol, "framing:chunked", msg)
        }
        K::ConnectionReset => "connection-reset",
        K::BrokenPipe => "broken-pipe",
        K::UnexpectedEof => "eof",
        _ => "io",
    };
    RequestError::new(ErrorClass::Reset, code, msg)
}

/// Classifies an error from a hyper connection or exchange.
pub fn classify(e: &hyper::Error, phase: Phase) -> RequestError {
    let msg = e.to_string();
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(h2e) = s.downcast_ref::<h2::Error>() {
            if let Some(reason) = h2e.reason() {
                return classify_h2(h2e, reason, phase, msg);
            }
            if let Some(io) = h2e.get_io() {
                return classify_io(io, msg);
            }
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return classify_io(io, msg);
        }
        src = s.source();
    }
    if e.is_parse() || e.is_parse_status() || e.is_user() {
        RequestError::new(ErrorClass::Protocol, "parse", msg)
    } else if e.is_timeout() {
        RequestError::new(ErrorClass::Timeout, "hyper", msg)
    } else if e.is_incomplete_message() {
        RequestError::new(ErrorClass::Reset, "incomplete", msg)
    } else if e.is_closed() || e.is_canceled() {
        RequestError::new(ErrorClass::Reset, "closed", msg)
    } else {
        RequestError::new(ErrorClass::Protocol, "other", msg)
    }
}

/// Classifies a failed HTTP/2 handshake: a server that does not speak HTTP/2 at all.
pub fn handshake_failed(protocol: Protocol, e: &hyper::Error) -> RequestError {
    let c = classify(e, Phase::Head);
    RequestError::new(
        ErrorClass::Protocol,
        format!("{}-handshake", protocol.as_str()),
        format!(
            "the server did not accept {}: {}",
            protocol.as_str(),
            c.message
        ),
    )
}
