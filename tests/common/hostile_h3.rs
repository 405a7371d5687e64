//! Small HTTP/3 servers on real QUIC, each hostile in one way: one that grants no bidirectional
//! stream credit (`MAX_STREAMS` 0), and a raw one (frames by hand, so that it can send what the
//! h3 crate would refuse to) that stops answering after the handshake, resets every request
//! stream, closes the connection with an application error, or sends a huge header section.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use gauntlet::origin::certs;
use gauntlet::proto::raw::h3;

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
                        ::h3::server::Connection::<_, Bytes>::new(h3_quinn::Connection::new(conn))
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

/// What the raw server does with each request stream.
#[derive(Debug, Clone, Copy)]
pub enum H3Mode {
    /// Reads the request and never answers (the connection itself stays up).
    Silent,
    /// Resets the stream (RESET_STREAM and STOP_SENDING) with this HTTP/3 error code.
    ResetEvery(u32),
    /// Closes the whole connection with this application error code.
    CloseWith(u32),
    /// Answers `200` with one header field of this many bytes.
    HugeHeaders(usize),
    /// Answers `200 ok`: the healthy behaviour others are measured against.
    Ok,
}

/// A raw HTTP/3 server: a control stream with SETTINGS, and request streams handled by mode.
pub struct RawH3 {
    pub addr: SocketAddr,
    pub ca_pem: String,
    endpoint: quinn::Endpoint,
}

async fn raw_request(
    conn: quinn::Connection,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
    mode: H3Mode,
) {
    let _ = recv.read_to_end(1 << 20).await;
    let answer = |extra: Option<&[u8]>| {
        let mut fields = vec![(b":status".to_vec(), b"200".to_vec())];
        if let Some(v) = extra {
            fields.push((b"x-large".to_vec(), v.to_vec()));
        }
        let mut out = h3::headers(&fields);
        out.extend(h3::frame(h3::ty::DATA, b"ok"));
        out
    };
    match mode {
        // Holding the stream open is the point: dropping it would finish or reset it.
        H3Mode::Silent => {
            let _ = conn.closed().await;
            drop(send);
        }
        H3Mode::ResetEvery(code) => {
            let _ = send.reset(quinn::VarInt::from_u32(code));
            let _ = recv.stop(quinn::VarInt::from_u32(code));
        }
        H3Mode::CloseWith(code) => conn.close(quinn::VarInt::from_u32(code), b"hostile"),
        H3Mode::HugeHeaders(n) => {
            let _ = send.write_all(&answer(Some(&vec![b'a'; n]))).await;
            let _ = send.finish();
            let _ = send.stopped().await;
        }
        H3Mode::Ok => {
            let _ = send.write_all(&answer(None)).await;
            let _ = send.finish();
            let _ = send.stopped().await;
        }
    }
}

/// Serves one QUIC connection: our control stream, the client's drained, requests by `mode`.
pub async fn raw_connection(conn: quinn::Connection, mode: H3Mode) {
    if let Ok(mut control) = conn.open_uni().await {
        let _ = control.write_all(&h3::control_stream()).await;
        // Held until the connection ends: a control stream that finishes is a connection
        // error (RFC 9114 §6.2.1), and dropping it would finish it.
        let c = conn.clone();
        tokio::spawn(async move {
            c.closed().await;
            drop(control);
        });
    }
    let c2 = conn.clone();
    tokio::spawn(async move {
        while let Ok(mut uni) = c2.accept_uni().await {
            tokio::spawn(async move {
                let mut sink = vec![0u8; 4096];
                while let Ok(Some(_)) = uni.read(&mut sink).await {}
            });
        }
    });
    while let Ok((send, recv)) = conn.accept_bi().await {
        tokio::spawn(raw_request(conn.clone(), send, recv, mode));
    }
}

/// A certificate for loopback names, and a quinn server configuration using it.
pub fn server_config() -> (quinn::ServerConfig, String) {
    let set = certs::generate(&[]).unwrap();
    let config =
        gauntlet::origin::h3::quic_server_config(vec![set.cert_der.clone()], set.key()).unwrap();
    (config, set.ca_pem)
}

impl RawH3 {
    /// Starts on the current tokio runtime.
    pub fn start(mode: H3Mode) -> RawH3 {
        let (config, ca_pem) = server_config();
        let endpoint = quinn::Endpoint::server(config, "127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = endpoint.local_addr().unwrap();
        let e2 = endpoint.clone();
        tokio::spawn(async move {
            while let Some(i) = e2.accept().await {
                tokio::spawn(async move {
                    if let Ok(conn) = i.await {
                        raw_connection(conn, mode).await;
                    }
                });
            }
        });
        RawH3 {
            addr,
            ca_pem,
            endpoint,
        }
    }
}

impl Drop for RawH3 {
    fn drop(&mut self) {
        self.endpoint.close(quinn::VarInt::from_u32(0), b"bye");
    }
}
