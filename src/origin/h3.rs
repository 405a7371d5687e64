//! The origin's HTTP/3 listener: quinn and h3 on the UDP port of the TLS listener, with the same
//! certificate and the same endpoints as HTTP/1.1 and HTTP/2.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use quinn::crypto::rustls::QuicServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::routes::{self, OriginState, MAX_ECHO_BODY};
use super::OriginError;
use crate::proto::tls::{provider, TlsConfigError};

type H3Stream = h3::server::RequestStream<h3_quinn::BidiStream<Bytes>, Bytes>;

/// A QUIC server configuration offering ALPN `h3` with this certificate (also used by test
/// servers that speak HTTP/3 by hand).
pub fn quic_server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<quinn::ServerConfig, OriginError> {
    let mut sc = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsConfigError::from)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(TlsConfigError::from)?;
    sc.alpn_protocols = vec![b"h3".to_vec()];
    // quinn accepts 0-RTT only with an unlimited early-data size.
    sc.max_early_data_size = u32::MAX;
    let crypto = QuicServerConfig::try_from(sc).map_err(|e| OriginError::Cert(e.to_string()))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport.max_concurrent_bidi_streams(256u32.into());
    config.transport_config(Arc::new(transport));
    Ok(config)
}

/// Binds the HTTP/3 endpoint on `addr` (UDP) and serves until `stop`.
pub fn start(
    addr: SocketAddr,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    state: Arc<OriginState>,
    stop: CancellationToken,
    tasks: &TaskTracker,
    max_requests: Option<u64>,
) -> Result<SocketAddr, OriginError> {
    let config = quic_server_config(chain, key)?;
    let endpoint = quinn::Endpoint::server(config, addr)
        .map_err(|source| OriginError::Bind { addr, source })?;
    let bound = endpoint
        .local_addr()
        .map_err(|source| OriginError::Bind { addr, source })?;
    let t2 = tasks.clone();
    tasks.spawn(async move {
        loop {
            let incoming = tokio::select! {
                i = endpoint.accept() => i,
                _ = stop.cancelled() => break,
            };
            let Some(incoming) = incoming else { break };
            t2.spawn(serve_conn(
                incoming,
                state.clone(),
                stop.clone(),
                max_requests,
            ));
        }
        endpoint.close(0u32.into(), b"shutdown");
    });
    Ok(bound)
}

async fn serve_conn(
    incoming: quinn::Incoming,
    state: Arc<OriginState>,
    stop: CancellationToken,
    max_requests: Option<u64>,
) {
    let Ok(conn) = incoming.await else { return };
    let Ok(mut h3c) =
        h3::server::Connection::<_, Bytes>::new(h3_quinn::Connection::new(conn)).await
    else {
        return;
    };
    // This connection's requests: dropping `h3c` closes the connection, so it waits for them.
    let requests = TaskTracker::new();
    let mut accepted = 0u64;
    loop {
        let next = tokio::select! {
            r = h3c.accept() => r,
            _ = stop.cancelled() => break,
        };
        match next {
            Ok(Some(resolver)) => {
                let state = state.clone();
                requests.spawn(async move {
                    if let Ok((req, stream)) = resolver.resolve_request().await {
                        let _ = serve_request(req, stream, state).await;
                    }
                });
                accepted += 1;
                if max_requests == Some(accepted) {
                    // GOAWAY naming the stream after the last accepted one: what is accepted
                    // is served, later streams are rejected with H3_REQUEST_REJECTED.
                    if h3c.shutdown(1).await.is_err() {
                        break;
                    }
                }
            }
            _ => break,
        }
    }
    requests.close();
    tokio::select! {
        _ = requests.wait() => {}
        _ = stop.cancelled() => {}
    }
}

async fn serve_request(
    req: Request<()>,
    mut stream: H3Stream,
    state: Arc<OriginState>,
) -> Result<(), h3::error::StreamError> {
    let mut body = BytesMut::new();
    while let Some(mut chunk) = stream.recv_data().await? {
        let room = MAX_ECHO_BODY
            .saturating_sub(body.len())
            .min(chunk.remaining());
        body.extend_from_slice(&chunk.copy_to_bytes(room));
        chunk.advance(chunk.remaining());
    }
    let Ok(resp) = routes::handle(state, req.map(|()| Full::new(body.freeze()))).await;
    let (mut parts, mut body) = resp.into_parts();
    // hyper adds Content-Length for bodies of known size on HTTP/1.1 and HTTP/2; do the same.
    if let Some(n) = body
        .size_hint()
        .exact()
        .filter(|_| !routes::bodiless(parts.status))
    {
        parts
            .headers
            .entry(http::header::CONTENT_LENGTH)
            .or_insert_with(|| HeaderValue::from(n));
    }
    stream
        .send_response(Response::from_parts(parts, ()))
        .await?;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame;
        match frame.into_data() {
            Ok(data) => stream.send_data(data).await?,
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    stream.send_trailers(trailers).await?;
                }
            }
        }
    }
    stream.finish().await
}
