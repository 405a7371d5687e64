//! HTTP/1.1 over TCP or TLS, on hyper's client connection API: one exchange at a time per
//! connection, the request in origin form with a Host header.

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use http::header::HOST;
use http::{HeaderValue, Uri};
use http_body_util::Full;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use super::hyper_io::{classify, timed_exchange, StreamDialer};
use super::{Connected, Connection, Exchange, Transport};
use crate::record::errors::{ErrorClass, RequestError};

/// Opens HTTP/1.1 connections.
pub struct H1Transport {
    dialer: StreamDialer,
}

impl H1Transport {
    /// A transport over `dialer`.
    pub fn new(dialer: StreamDialer) -> Self {
        H1Transport { dialer }
    }
}

type Sender = http1::SendRequest<Full<Bytes>>;

/// One HTTP/1.1 connection. The sender is taken out for the length of an exchange, which is how
/// the one-at-a-time rule of HTTP/1.1 is kept without holding a borrow across an await.
pub struct H1Conn {
    sender: Rc<RefCell<Option<Sender>>>,
}

impl Transport for H1Transport {
    type Conn = H1Conn;

    async fn connect(&self) -> Result<Connected<H1Conn>, RequestError> {
        let (stream, timings) = self.dialer.open().await?;
        let (sender, conn) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| classify(&e))?;
        tokio::task::spawn_local(async move {
            let _ = conn.await;
        });
        Ok(Connected {
            conn: H1Conn {
                sender: Rc::new(RefCell::new(Some(sender))),
            },
            timings,
            early_data: None,
        })
    }
}

/// Puts a request in origin form with a Host header, as HTTP/1.1 sends it.
fn origin_form(mut req: http::Request<Bytes>) -> http::Request<Bytes> {
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

impl Connection for H1Conn {
    fn is_open(&self) -> bool {
        // The sender is missing when an exchange was cancelled mid-way (a timeout): the
        // connection is then in an unknown state and must not be reused. With one exchange at a
        // time this is only asked between exchanges.
        self.sender
            .borrow()
            .as_ref()
            .is_some_and(|s| !s.is_closed())
    }

    fn send(
        &self,
        req: http::Request<Bytes>,
        keep_body: bool,
    ) -> impl std::future::Future<Output = Result<Exchange, RequestError>> + 'static {
        let slot = self.sender.clone();
        let taken = slot.borrow_mut().take();
        async move {
            let mut s = taken.ok_or_else(|| {
                RequestError::new(
                    ErrorClass::Protocol,
                    "busy",
                    "an HTTP/1.1 connection was asked for two exchanges at once",
                )
            })?;
            s.ready().await.map_err(|e| classify(&e))?;
            let ex =
                timed_exchange(s.send_request(origin_form(req).map(Full::new)), keep_body).await?;
            // Only a complete exchange gives the connection back for the next request.
            *slot.borrow_mut() = Some(s);
            Ok(ex)
        }
    }
}
