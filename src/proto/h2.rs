//! HTTP/2 over TLS (ALPN `h2`) or cleartext with prior knowledge (h2c), on hyper's client
//! connection API: many concurrent streams share one connection. A tap on the byte stream
//! ([`super::h2_tap`]) watches the server's frames, so a GOAWAY stops new requests at once and
//! errors name who raised them.

use std::rc::Rc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2;
use hyper_util::rt::TokioIo;

use super::h2_tap::{H2Seen, Tapped};
use super::hyper_io::{handshake_failed, timed_exchange, LocalExec, StreamDialer};
use super::{
    host_to_authority, ClientLimits, Connected, Connection, Exchange, Protocol, Transport,
};
use crate::record::errors::{ErrorClass, RequestError};
use crate::record::peer::PeerReport;

/// Opens HTTP/2 connections.
pub struct H2Transport {
    dialer: StreamDialer,
    limits: ClientLimits,
}

impl H2Transport {
    /// A transport over `dialer`, enforcing `limits` on the server's frames.
    pub fn new(dialer: StreamDialer, limits: ClientLimits) -> Self {
        H2Transport { dialer, limits }
    }
}

/// One HTTP/2 connection; each exchange clones the sender and opens a stream.
pub struct H2Conn {
    sender: http2::SendRequest<Full<Bytes>>,
    seen: Rc<H2Seen>,
    limits: ClientLimits,
}

impl Transport for H2Transport {
    type Conn = H2Conn;

    async fn connect(&self) -> Result<Connected<H2Conn>, RequestError> {
        let (stream, timings) = self.dialer.open().await?;
        let (io, seen) = Tapped::new(stream);
        let (sender, conn) = http2::Builder::new(LocalExec)
            .max_header_list_size(self.limits.max_header_list_size)
            .max_frame_size(self.limits.max_frame_size)
            .handshake(TokioIo::new(io))
            .await
            .map_err(|e| handshake_failed(Protocol::H2, &e))?;
        tokio::task::spawn_local(async move {
            let _ = conn.await;
        });
        Ok(Connected {
            conn: H2Conn {
                sender,
                seen,
                limits: self.limits,
            },
            timings,
            early_data: None,
        })
    }
}

impl Connection for H2Conn {
    fn is_open(&self) -> bool {
        !self.sender.is_closed() && self.seen.goaway().is_none()
    }

    fn send(
        &self,
        req: http::Request<Bytes>,
        keep: Option<usize>,
    ) -> impl std::future::Future<Output = Result<Exchange, RequestError>> + 'static {
        let seen = self.seen.clone();
        let limit = self.limits.max_header_list_size as usize;
        let head = req.method() == http::Method::HEAD;
        // hyper's HTTP/2 sender is ready whenever its connection is open (`poll_ready` never
        // waits), so the request is handed to the connection here; on a closed connection hyper
        // gives it back unsent, which `timed_exchange` marks unprocessed. hyper's future keeps
        // the request until the response comes: boxed, it is stored once on the heap instead
        // of twice inline (as this future's capture and as `timed_exchange`'s argument, which
        // rustc keeps apart), in the state of every stream in flight (a slot per stream:
        // 100,000 of them at scale).
        let sent = Box::pin(
            self.sender
                .clone()
                .try_send_request(host_to_authority(req).map(Full::new)),
        );
        async move {
            let r = timed_exchange(sent, keep, head).await;
            r.map_err(|mut e| {
                // h2 ends a header block it will not buffer past our header list limit with
                // COMPRESSION_ERROR, ENHANCE_YOUR_CALM (too many CONTINUATION frames) or a
                // refused stream, as it ends a block that does not decode; the tap knows which.
                let local =
                    e.code.starts_with("h2:local:") && e.code != "h2:local:content-length-mismatch";
                if local && seen.largest_header_block() > limit {
                    e.code = "h2:local:header-list-too-large".into();
                    e.message = format!(
                        "a header block of {} bytes passed the {limit}-byte limit \
                         (limits.max_header_list_size); the server sent a valid but large head",
                        seen.largest_header_block()
                    );
                }
                e
            })
        }
    }

    fn peer_report(&self) -> PeerReport {
        self.seen.report()
    }

    fn stall(&self, sending_body: bool) -> Option<RequestError> {
        let limits = self.seen.limits();
        if limits.max_concurrent_streams == Some(0) {
            return Some(RequestError::new(
                ErrorClass::Protocol,
                "h2:no-stream-credit",
                "the server allows no concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS = 0): \
                 the request could never be sent",
            ));
        }
        let starved =
            limits.initial_window_size == Some(0) && self.seen.report().frames.window_update == 0;
        (sending_body && starved).then(|| {
            RequestError::new(
                ErrorClass::Protocol,
                "h2:no-flow-credit",
                "the server's flow-control window is 0 (SETTINGS_INITIAL_WINDOW_SIZE = 0) and it \
                 sent no WINDOW_UPDATE: the request body could never be sent",
            )
        })
    }
}
