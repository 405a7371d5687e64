//! HTTP/1.1 over TCP or TLS, on hyper's client connection API: one exchange at a time per
//! connection, the request in origin form with a Host header.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bytes::Bytes;
use http::header::HOST;
use http::{HeaderValue, Uri};
use http_body_util::Full;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use super::hyper_io::{classify, timed_exchange, Phase, StreamDialer};
use super::{ClientLimits, Connected, Connection, Exchange, Transport};
use crate::record::errors::{ErrorClass, RequestError};
use crate::record::peer::{ControlFrames, PeerReport};

/// Opens HTTP/1.1 connections.
pub struct H1Transport {
    dialer: StreamDialer,
    limits: ClientLimits,
}

impl H1Transport {
    /// A transport over `dialer`; `limits` bounds the response head.
    pub fn new(dialer: StreamDialer, limits: ClientLimits) -> Self {
        H1Transport { dialer, limits }
    }
}

type Sender = http1::SendRequest<Full<Bytes>>;

/// One HTTP/1.1 connection. The sender is taken out for the length of an exchange, which is how
/// the one-at-a-time rule of HTTP/1.1 is kept without holding a borrow across an await.
pub struct H1Conn {
    sender: Rc<RefCell<Option<Sender>>>,
    /// Responses that announced the end of the connection (`Connection: close`).
    closes: Rc<Cell<u64>>,
}

impl Transport for H1Transport {
    type Conn = H1Conn;

    async fn connect(&self) -> Result<Connected<H1Conn>, RequestError> {
        let (stream, timings) = self.dialer.open().await?;
        // hyper's smallest read buffer is 8 KiB; the head must fit in it.
        let buf = (self.limits.max_header_list_size as usize).max(8192);
        let (sender, conn) = http1::Builder::new()
            .max_buf_size(buf)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| classify(&e, Phase::Head))?;
        tokio::task::spawn_local(async move {
            let _ = conn.await;
        });
        Ok(Connected {
            conn: H1Conn {
                sender: Rc::new(RefCell::new(Some(sender))),
                closes: Rc::new(Cell::new(0)),
            },
            timings,
            early_data: None,
        })
    }

    fn wire_form(&self, req: http::Request<Bytes>) -> http::Request<Bytes> {
        origin_form(req)
    }
}

/// Puts a request in origin form with a Host header, as HTTP/1.1 sends it. One already in
/// origin form (a lane's requests are converted once) passes through untouched.
fn origin_form(mut req: http::Request<Bytes>) -> http::Request<Bytes> {
    if req.uri().authority().is_none() {
        return req;
    }
    if !req.headers().contains_key(HOST) {
        if let Some(auth) = req.uri().authority() {
            if let Ok(v) = HeaderValue::from_str(auth.as_str()) {
                req.headers_mut().insert(HOST, v);
            }
        }
    }
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    *req.uri_mut() = pq.parse::<Uri>().unwrap_or_else(|_| Uri::from_static("/"));
    req
}

/// Whether a response ends its connection (`Connection: close`, any case, in a list).
fn announces_close(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::CONNECTION)
        .iter()
        // Every response is asked: a value without the word (`keep-alive`) is not split.
        .filter(|v| {
            v.as_bytes()
                .windows(5)
                .any(|w| w.eq_ignore_ascii_case(b"close"))
        })
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("close"))
}

impl Connection for H1Conn {
    fn is_open(&self) -> bool {
        // The sender is missing when an exchange was cancelled mid-way (a timeout), leaving the
        // connection in an unknown state, and after a response that said `Connection: close`. With one exchange at a
        // time this is only asked between exchanges.
        self.sender
            .borrow()
            .as_ref()
            .is_some_and(|s| !s.is_closed())
    }

    fn send(
        &self,
        req: http::Request<Bytes>,
        keep: Option<usize>,
    ) -> impl std::future::Future<Output = Result<Exchange, RequestError>> + 'static {
        let slot = self.sender.clone();
        let closes = self.closes.clone();
        let taken = slot.borrow_mut().take();
        async move {
            let mut s = taken.ok_or_else(|| {
                RequestError::new(
                    ErrorClass::Protocol,
                    "busy",
                    "an HTTP/1.1 connection was asked for two exchanges at once",
                )
            })?;
            // A connection that closed while idle has not seen the request.
            s.ready()
                .await
                .map_err(|e| classify(&e, Phase::Head).unprocessed())?;
            let ex = {
                let head = req.method() == http::Method::HEAD;
                timed_exchange(
                    s.try_send_request(origin_form(req).map(Full::new)),
                    keep,
                    head,
                )
                .await?
            };
            if announces_close(&ex.headers) {
                // hyper closes the connection after this response. Keeping the sender out makes
                // the next request open a new connection at once, instead of racing the close;
                // the figures count the server's graceful end.
                closes.set(closes.get() + 1);
            } else {
                // Only a complete exchange gives the connection back for the next request.
                *slot.borrow_mut() = Some(s);
            }
            Ok(ex)
        }
    }

    fn peer_report(&self) -> PeerReport {
        PeerReport {
            frames: ControlFrames {
                goaway: self.closes.get(),
                ..ControlFrames::default()
            },
            ..PeerReport::default()
        }
    }

    fn stall(&self, _sending_body: bool) -> Option<RequestError> {
        None
    }
}
