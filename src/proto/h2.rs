//! HTTP/2 over TLS (ALPN `h2`) or cleartext with prior knowledge (h2c), on hyper's client
//! connection API: many concurrent streams share one connection.

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2;
use hyper_util::rt::TokioIo;

use super::hyper_io::{classify, handshake_failed, timed_exchange, LocalExec, StreamDialer};
use super::{host_to_authority, Connected, Connection, Exchange, Protocol, Transport};
use crate::record::errors::RequestError;

/// Opens HTTP/2 connections.
pub struct H2Transport {
    dialer: StreamDialer,
}

impl H2Transport {
    /// A transport over `dialer`.
    pub fn new(dialer: StreamDialer) -> Self {
        H2Transport { dialer }
    }
}

/// One HTTP/2 connection; each exchange clones the sender and opens a stream.
pub struct H2Conn {
    sender: http2::SendRequest<Full<Bytes>>,
}

impl Transport for H2Transport {
    type Conn = H2Conn;

    async fn connect(&self) -> Result<Connected<H2Conn>, RequestError> {
        let (stream, timings) = self.dialer.open().await?;
        let (sender, conn) = http2::Builder::new(LocalExec)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| handshake_failed(Protocol::H2, &e))?;
        tokio::task::spawn_local(async move {
            let _ = conn.await;
        });
        Ok(Connected {
            conn: H2Conn { sender },
            timings,
            early_data: None,
        })
    }
}

impl Connection for H2Conn {
    fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }

    fn send(
        &self,
        req: http::Request<Bytes>,
        keep_body: bool,
    ) -> impl std::future::Future<Output = Result<Exchange, RequestError>> + 'static {
        let mut s = self.sender.clone();
        async move {
            s.ready().await.map_err(|e| classify(&e))?;
            timed_exchange(
                s.send_request(host_to_authority(req).map(Full::new)),
                keep_body,
            )
            .await
        }
    }
}
