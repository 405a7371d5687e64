//! HTTP/3 over QUIC, on quinn with h3 and h3-quinn: many concurrent request streams share one
//! QUIC connection. The QUIC handshake (transport and TLS at once) is timed as the handshake
//! phase; a target that does not answer QUIC is a `protocol` error, never a fallback to h2.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use h3::error::{ConnectionError as H3ConnError, StreamError};
use quinn::crypto::rustls::QuicClientConfig;

use super::body::BodySink;
use super::h3_tap::{H3Seen, TapConn};
use super::{
    host_to_authority, ClientLimits, ConnectTimings, Connected, Connection, EarlyData, Exchange,
    Transport,
};
use crate::record::errors::{ErrorClass, RequestError};
use crate::record::peer::{ControlFrames, PeerReport};

/// How long an idle QUIC connection lives; runs close their connections at the end anyway.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens HTTP/3 connections from one UDP socket per address family.
pub struct H3Transport {
    dial: (String, u16),
    server_name: String,
    config: quinn::ClientConfig,
    timeout: Duration,
    early_data: bool,
    limits: ClientLimits,
    endpoints: RefCell<Vec<(bool, quinn::Endpoint)>>,
}

/// One HTTP/3 connection.
pub struct H3Conn {
    send: h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>,
    quic: quinn::Connection,
    seen: Rc<H3Seen>,
    /// Set when a request was abandoned (its timeout) while still waiting for a stream to open:
    /// the server gave no stream credit.
    starved: Rc<Cell<bool>>,
}

/// Marks its connection starved when dropped before [`OpeningGuard::opened`]: the request's
/// future was abandoned while h3 still waited for QUIC stream credit.
struct OpeningGuard(Option<Rc<Cell<bool>>>);

impl OpeningGuard {
    fn opened(&mut self) {
        self.0 = None;
    }
}

impl Drop for OpeningGuard {
    fn drop(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.set(true);
        }
    }
}

impl Drop for H3Conn {
    fn drop(&mut self) {
        // Peers such as quic-go keep idle connections open; a run closes its own.
        self.quic.close(quinn::VarInt::from_u32(0x100), b"done");
    }
}

impl H3Transport {
    /// A transport for `dial`, verifying the certificate as `server_name`. `tls` must offer ALPN
    /// `h3` and TLS 1.3.
    pub fn new(
        dial: (String, u16),
        server_name: String,
        tls: Arc<rustls::ClientConfig>,
        timeout: Duration,
        early_data: bool,
        limits: ClientLimits,
    ) -> Result<Self, RequestError> {
        let crypto = QuicClientConfig::try_from(tls)
            .map_err(|e| RequestError::new(ErrorClass::Tls, "quic-config", e.to_string()))?;
        let mut config = quinn::ClientConfig::new(Arc::new(crypto));
        let mut transport = quinn::TransportConfig::default();
        transport.max_idle_timeout(Some(
            IDLE_TIMEOUT
                .try_into()
                .expect("30 s is a valid idle timeout"),
        ));
        config.transport_config(Arc::new(transport));
        Ok(H3Transport {
            dial,
            server_name,
            config,
            timeout,
            early_data,
            limits,
            endpoints: RefCell::new(Vec::new()),
        })
    }

    fn endpoint(&self, v6: bool) -> Result<quinn::Endpoint, RequestError> {
        if let Some((_, e)) = self.endpoints.borrow().iter().find(|(f, _)| *f == v6) {
            return Ok(e.clone());
        }
        let bind: SocketAddr = if v6 {
            "[::]:0".parse()
        } else {
            "0.0.0.0:0".parse()
        }
        .expect("constant address");
        let e = quinn::Endpoint::client(bind)
            .map_err(|e| RequestError::new(ErrorClass::Connect, "udp-bind", e.to_string()))?;
        self.endpoints.borrow_mut().push((v6, e.clone()));
        Ok(e)
    }

    async fn resolve(&self) -> Result<SocketAddr, RequestError> {
        let (host, port) = (&self.dial.0, self.dial.1);
        tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| {
                RequestError::new(
                    ErrorClass::Connect,
                    "dns",
                    format!("cannot resolve {host}: {e}"),
                )
            })?
            .next()
            .ok_or_else(|| {
                RequestError::new(
                    ErrorClass::Connect,
                    "dns",
                    format!("{host} resolved to no address"),
                )
            })
    }
}

/// The TLS alert a QUIC CRYPTO_ERROR (0x100 + alert) carries, by name (RFC 9001 §4.8).
fn alert(code: u64) -> String {
    super::tls::alert_name(rustls::AlertDescription::from((code - 0x100) as u8))
}

/// Classifies a QUIC connection error.
pub fn quic_error(e: &quinn::ConnectionError) -> RequestError {
    use quinn::ConnectionError as C;
    let msg = e.to_string();
    match e {
        C::VersionMismatch => {
            RequestError::new(ErrorClass::Protocol, "quic:version-negotiation", msg)
        }
        C::TransportError(t) => {
            let code = u64::from(t.code);
            if (0x100..0x200).contains(&code) {
                RequestError::new(ErrorClass::Tls, format!("quic:crypto:{}", alert(code)), msg)
            } else {
                RequestError::new(
                    ErrorClass::Protocol,
                    format!("quic:transport:{}", t.code),
                    msg,
                )
            }
        }
        C::ConnectionClosed(c) => {
            let code = u64::from(c.error_code);
            let class = if (0x100..0x200).contains(&code) {
                ErrorClass::Tls
            } else {
                ErrorClass::Protocol
            };
            let code = match class {
                ErrorClass::Tls => format!("quic:closed:crypto:{}", alert(code)),
                _ => format!("quic:closed:{}", c.error_code),
            };
            RequestError::new(class, code, msg)
        }
        C::ApplicationClosed(a) => RequestError::new(
            ErrorClass::Protocol,
            format!(
                "h3:closed:{}",
                h3::error::Code::from(a.error_code.into_inner())
            ),
            msg,
        ),
        C::Reset => RequestError::new(ErrorClass::Reset, "quic:stateless-reset", msg),
        C::TimedOut => RequestError::new(ErrorClass::Timeout, "quic:idle", msg),
        C::LocallyClosed => RequestError::new(ErrorClass::Reset, "quic:locally-closed", msg),
        C::CidsExhausted => RequestError::new(ErrorClass::Protocol, "quic:cids-exhausted", msg),
    }
}

fn h3_conn_error(e: &H3ConnError) -> RequestError {
    let msg = e.to_string();
    match e {
        H3ConnError::Local { error, .. } => match error {
            h3::error::LocalError::Application { code, .. } => {
                RequestError::new(ErrorClass::Protocol, format!("h3:local:{code}"), msg)
            }
            _ => RequestError::new(ErrorClass::Reset, "h3:local-closing", msg),
        },
        H3ConnError::Remote { 0: r, .. } => match r {
            h3::quic::ConnectionErrorIncoming::ApplicationClose { error_code } => {
                RequestError::new(
                    ErrorClass::Protocol,
                    format!("h3:closed:{}", h3::error::Code::from(*error_code)),
                    msg,
                )
            }
            h3::quic::ConnectionErrorIncoming::Timeout => {
                RequestError::new(ErrorClass::Timeout, "quic:idle", msg)
            }
            h3::quic::ConnectionErrorIncoming::Undefined(inner) => {
                match inner.downcast_ref::<quinn::ConnectionError>() {
                    Some(q) => quic_error(q),
                    None => RequestError::new(ErrorClass::Protocol, "quic:other", msg),
                }
            }
            _ => RequestError::new(ErrorClass::Protocol, "h3:internal", msg),
        },
        H3ConnError::Timeout { .. } => RequestError::new(ErrorClass::Timeout, "quic:idle", msg),
        _ => RequestError::new(ErrorClass::Protocol, "h3:other", msg),
    }
}

/// Classifies an HTTP/3 stream error: resets and closes carry their named code.
pub fn stream_error(e: &StreamError) -> RequestError {
    let msg = e.to_string();
    match e {
        // Raised by our own h3 stack on the server's bytes, not sent by the server.
        StreamError::StreamError { code, .. } => {
            RequestError::new(ErrorClass::Protocol, format!("h3:local:{code}"), msg)
        }
        StreamError::RemoteTerminate { code, .. } => {
            let e = RequestError::new(ErrorClass::Protocol, format!("h3:reset:{code}"), msg);
            // RFC 9114 §4.1.1: H3_REQUEST_REJECTED means no application processing took place.
            if *code == h3::error::Code::H3_REQUEST_REJECTED {
                e.unprocessed()
            } else {
                e
            }
        }
        StreamError::ConnectionError { 0: c, .. } => h3_conn_error(c),
        StreamError::HeaderTooBig { .. } => {
            RequestError::new(ErrorClass::Protocol, "h3:local:header-list-too-large", msg)
        }
        // The server's GOAWAY arrived before the request left: it never did.
        StreamError::RemoteClosing { .. } => {
            RequestError::new(ErrorClass::Protocol, "h3:goaway", msg).unprocessed()
        }
        _ => RequestError::new(ErrorClass::Protocol, "h3:other", msg),
    }
}

impl Transport for H3Transport {
    type Conn = H3Conn;

    async fn connect(&self) -> Result<Connected<H3Conn>, RequestError> {
        let addr = self.resolve().await?;
        let endpoint = self.endpoint(addr.is_ipv6())?;
        let start = Instant::now();
        let connecting = endpoint
            .connect_with(self.config.clone(), addr, &self.server_name)
            .map_err(|e| RequestError::new(ErrorClass::Connect, "quic-connect", e.to_string()))?;
        let no_answer = || {
            RequestError::new(ErrorClass::Protocol, "quic:no-answer", format!("no QUIC handshake with {addr} within {:?}: does the target serve HTTP/3 on UDP?", self.timeout))
        };
        // With early data, a resumed connection is usable at once (0-RTT); otherwise, and when
        // there is no session to resume, wait for the handshake.
        let (connecting, early) = match self.early_data {
            true => match connecting.into_0rtt() {
                Ok((c, accepted)) => (Ok(c), Some(Box::pin(accepted) as EarlyData)),
                Err(connecting) => (Err(connecting), None),
            },
            false => (Err(connecting), None),
        };
        let quic = match connecting {
            Ok(c) => c,
            Err(connecting) => tokio::time::timeout(self.timeout, connecting)
                .await
                .map_err(|_| no_answer())?
                .map_err(|e| quic_error(&e))?,
        };
        let handshake = start.elapsed();
        let (tapped, seen) = TapConn::new(h3_quinn::Connection::new(quic.clone()));
        let (mut driver, send) = h3::client::builder()
            .max_field_section_size(u64::from(self.limits.max_header_list_size))
            .build(tapped)
            .await
            .map_err(|e| h3_conn_error(&e))?;
        tokio::task::spawn_local(async move {
            let _ = std::future::poll_fn(|cx| driver.poll_close(cx)).await;
        });
        Ok(Connected {
            conn: H3Conn {
                send,
                quic,
                seen,
                starved: Rc::new(Cell::new(false)),
            },
            timings: ConnectTimings {
                connect: Duration::ZERO,
                handshake: Some(handshake),
                resumed: early.is_some(),
            },
            early_data: early,
        })
    }
}

impl Connection for H3Conn {
    fn is_open(&self) -> bool {
        self.quic.close_reason().is_none() && self.seen.goaway().is_none()
    }

    fn send(
        &self,
        req: http::Request<Bytes>,
        keep: Option<usize>,
    ) -> impl std::future::Future<Output = Result<Exchange, RequestError>> + 'static {
        let mut send = self.send.clone();
        let seen = self.seen.clone();
        let mut guard = OpeningGuard(Some(self.starved.clone()));
        async move {
            let (mut parts, body) = host_to_authority(req).into_parts();
            let head = parts.method == http::Method::HEAD;
            // Say how long the body is, as hyper does for h1 and h2: Caddy 2.6 (quic-go) forwards
            // an empty body upstream for an HTTP/3 request body of unknown length.
            if !body.is_empty() {
                parts
                    .headers
                    .entry(http::header::CONTENT_LENGTH)
                    .or_insert_with(|| http::HeaderValue::from(body.len()));
            }
            let start = Instant::now();
            let mut stream = send
                .send_request(http::Request::from_parts(parts, ()))
                .await
                .map_err(|e| stream_error(&e))?;
            guard.opened();
            let id = stream.id().into_inner();
            // A request at or above the GOAWAY's stream id was not processed (RFC 9114 §5.2),
            // whatever ended it: the reset or the connection's close that followed. So was one
            // the server cut with a graceful close (H3_NO_ERROR) before answering: a graceful
            // shutdown finishes the requests it processes, and the GOAWAY before such a close
            // may be lost with the connection before our stack reads it.
            let mut answered = false;
            let classify = |e: &StreamError, answered: bool| {
                let err = stream_error(e);
                let above_goaway = seen.goaway().is_some_and(|g| id >= g);
                let graceful_cut = !answered && err.code == "h3:closed:H3_NO_ERROR";
                if above_goaway || graceful_cut {
                    err.unprocessed()
                } else {
                    err
                }
            };
            if !body.is_empty() {
                stream
                    .send_data(body)
                    .await
                    .map_err(|e| classify(&e, answered))?;
            }
            stream.finish().await.map_err(|e| classify(&e, answered))?;
            let resp = stream
                .recv_response()
                .await
                .map_err(|e| classify(&e, answered))?;
            answered = true;
            let ttfb = start.elapsed();
            let mut sink = BodySink::new(keep);
            while let Some(mut chunk) = stream
                .recv_data()
                .await
                .map_err(|e| classify(&e, answered))?
            {
                while chunk.has_remaining() {
                    let piece = chunk.chunk();
                    let n = piece.len();
                    sink.push(piece)?;
                    chunk.advance(n);
                }
            }
            // Trailers, when the server sends them, end the exchange.
            let _ = stream
                .recv_trailers()
                .await
                .map_err(|e| classify(&e, answered))?;
            let (parts, ()) = resp.into_parts();
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
    }

    fn peer_report(&self) -> PeerReport {
        let rx = self.quic.stats().frame_rx;
        let mut h3 = self.seen.frames();
        // A server that ends a connection gracefully sends GOAWAY and then closes with
        // H3_NO_ERROR; when both arrive together, quinn drops the unread control stream with
        // the connection, and the close is all that is left to count.
        let graceful_close = matches!(
            self.quic.close_reason(),
            Some(quinn::ConnectionError::ApplicationClosed(a))
                if a.error_code.into_inner() == h3::error::Code::H3_NO_ERROR.value()
        );
        if graceful_close && h3.goaway == 0 {
            h3.goaway = 1;
        }
        PeerReport {
            frames: ControlFrames {
                settings: h3.settings,
                goaway: h3.goaway,
                ping: rx.ping,
                window_update: rx.max_data + rx.max_stream_data,
                rst_stream: rx.reset_stream,
            },
            limits: self.seen.limits(),
        }
    }

    fn stall(&self, _sending_body: bool) -> Option<RequestError> {
        self.starved.replace(false).then(|| {
            RequestError::new(
                ErrorClass::Protocol,
                "h3:no-stream-credit",
                "the server granted no stream credit (QUIC MAX_STREAMS): the request could never \
                 open a stream",
            )
        })
    }
}
