//! A small HTTP/3 server on real QUIC that grants no bidirectional stream credit
//! (`MAX_STREAMS` 0): its control streams work, but no request can ever open a stream.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use gauntlet::origin::certs;

pub struct NoStreamsH3 {
    pub addr: SocketAddr,
    pub ca_pem: String,
    endpoint: quinn::Endpoint,
}

impl NoStreamsH3 {
    /// Starts on the current tokio runtime.
    pub fn start() -> NoStreamsH3 {
        let set = certs::generate(&[]).unwrap();
        let mut config =
            gauntlet::origin::h3::quic_server_config(vec![set.cert_der.clone()], set.key())
                .unwrap();
        let mut transport = quinn::TransportConfig::default();
        transport.max_concurrent_bidi_streams(0u32.into());
        config.transport_config(Arc::new(transport));
        let endpoint = quinn::Endpoint::server(config, "127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = endpoint.local_addr().unwrap();
        let e2 = endpoint.clone();
        tokio::spawn(async move {
            while let Some(i) = e2.accept().await {
                tokio::spawn(async move {
                    let Ok(conn) = i.await else { return };
                    let Ok(mut h3c) =
                        h3::server::Connection::<_, Bytes>::new(h3_quinn::Connection::new(conn))
                            .await
                    else {
                        return;
                    };
                    while let Ok(Some(_)) = h3c.accept().await {}
                });
            }
        });
        NoStreamsH3 {
            addr,
            ca_pem: set.ca_pem,
            endpoint,
        }
    }
}

impl Drop for NoStreamsH3 {
    fn drop(&mut self) {
        self.endpoint.close(quinn::VarInt::from_u32(0), b"bye");
    }
}
