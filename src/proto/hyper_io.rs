//! What the HTTP/1.1 and HTTP/2 transports share: opening a TCP or TLS stream with the right ALPN,
//! a local executor for hyper's connection tasks, reading a body to its end, and mapping hyper and
//! h2 errors onto error classes.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_util::either::Either;

use super::{dial, tls, ConnectTimings, Exchange, Protocol};
use crate::record::errors::{ErrorClass, RequestError};

/// A TCP stream, with or without TLS.
pub type Stream = Either<TcpStream, TlsStream<TcpStream>>;

/// Bodies longer than this are counted but only their start is kept for expectations.
pub const MAX_KEPT_BODY: usize = 4 << 20;

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
        tokio::task::spawn_local(fut);
    }
}

/// Reads `body` to its end; returns its length and, when `keep`, its first [`MAX_KEPT_BODY`] bytes.
pub async fn read_body(
    mut body: Incoming,
    keep: bool,
) -> Result<(u64, Option<Bytes>), hyper::Error> {
    let mut len = 0u64;
    let mut kept = keep.then(BytesMut::new);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            len += data.len() as u64;
            if let Some(k) = kept.as_mut() {
                let room = MAX_KEPT_BODY.saturating_sub(k.len());
                k.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
    }
    Ok((len, kept.map(BytesMut::freeze)))
}

/// Sends with `send` (a hyper `send_request` future), times the response head, and reads the
/// body to its end: the exchange as HTTP/1.1 and HTTP/2 both run it.
pub async fn timed_exchange<F>(send: F, keep_body: bool) -> Result<Exchange, RequestError>
where
    F: std::future::Future<Output = Result<http::Response<Incoming>, hyper::Error>>,
{
    let start = std::time::Instant::now();
    let resp = send.await.map_err(|e| classify(&e))?;
    let ttfb = start.elapsed();
    let (parts, body) = resp.into_parts();
    let (body_len, body) = read_body(body, keep_body).await.map_err(|e| classify(&e))?;
    Ok(Exchange {
        status: parts.status.as_u16(),
        headers: parts.headers,
        ttfb,
        body_len,
        body,
    })
}

/// Classifies an error from a hyper connection or exchange.
pub fn classify(e: &hyper::Error) -> RequestError {
    let msg = e.to_string();
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(h2e) = s.downcast_ref::<h2::Error>() {
            if let Some(reason) = h2e.reason() {
                let kind = if h2e.is_go_away() { "goaway" } else { "rst" };
                return RequestError::new(
                    ErrorClass::Protocol,
                    format!("h2:{kind}:{reason:?}"),
                    msg,
                );
            }
            if h2e.is_io() {
                return RequestError::new(ErrorClass::Reset, "io", msg);
            }
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            let code = match io.kind() {
                std::io::ErrorKind::ConnectionReset => "connection-reset",
                std::io::ErrorKind::BrokenPipe => "broken-pipe",
                std::io::ErrorKind::UnexpectedEof => "eof",
                _ => "io",
            };
            return RequestError::new(ErrorClass::Reset, code, msg);
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
    let c = classify(e);
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
