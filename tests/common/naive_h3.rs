//! A deliberately non-conforming HTTP/3 server on real QUIC (quinn), to prove the h3 probes can
//! fail: it reads control streams without checking them, answers every request stream 200 (any
//! frames, any fields, any length), records what it decoded, and closes the connection on
//! reserved (GREASE) frame and stream types instead of ignoring them.

use std::net::SocketAddr;
use std::time::Duration;

use gauntlet::origin::certs;
use gauntlet::origin::recording::{Received, Recorder};
use gauntlet::proto::raw::{h3, qpack};

pub struct NaiveH3 {
    pub addr: SocketAddr,
    pub recorder: Recorder,
    pub ca: rustls::pki_types::CertificateDer<'static>,
    endpoint: quinn::Endpoint,
}

async fn request(
    conn: quinn::Connection,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
    rec: Recorder,
) {
    let Ok(Ok(buf)) = tokio::time::timeout(Duration::from_secs(2), recv.read_to_end(1 << 20)).await
    else {
        return;
    };
    let mut at = 0;
    while let (Some(t), Some(len)) = (
        h3::read_varint(&buf, &mut at),
        h3::read_varint(&buf, &mut at),
    ) {
        let Some(p) = buf.get(at..at + len as usize) else {
            break;
        };
        at += len as usize;
        if t >= 0x21 {
            conn.close(quinn::VarInt::from_u32(0x105), b"unknown frame");
            return;
        }
        if t == 0x1 {
            let fields = qpack::decode(p).unwrap_or_default();
            rec.push(Received::from_fields("HTTP/3", &fields));
        }
    }
    let mut out = h3::headers(&[(b":status".to_vec(), b"200".to_vec())]);
    out.extend(h3::frame(h3::ty::DATA, b"ok"));
    let _ = send.write_all(&out).await;
    let _ = send.finish();
    let _ = send.stopped().await;
}

async fn connection(incoming: quinn::Incoming, rec: Recorder) {
    let Ok(conn) = incoming.await else { return };
    let c2 = conn.clone();
    tokio::spawn(async move {
        while let Ok(mut uni) = c2.accept_uni().await {
            let c3 = c2.clone();
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if uni.read_exact(&mut first).await.is_ok() && first[0] > 0x03 {
                    c3.close(quinn::VarInt::from_u32(0x103), b"unknown stream type");
                    return;
                }
                // Drain without looking.
                let mut sink = vec![0u8; 4096];
                while let Ok(Some(_)) = uni.read(&mut sink).await {}
            });
        }
    });
    while let Ok((send, recv)) = conn.accept_bi().await {
        tokio::spawn(request(conn.clone(), send, recv, rec.clone()));
    }
}

impl NaiveH3 {
    /// Starts on the current tokio runtime.
    pub fn start() -> NaiveH3 {
        let set = certs::generate(&[]).unwrap();
        let config =
            gauntlet::origin::h3::quic_server_config(vec![set.cert_der.clone()], set.key())
                .unwrap();
        let endpoint = quinn::Endpoint::server(config, "127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = endpoint.local_addr().unwrap();
        let recorder = Recorder::default();
        let (e2, rec) = (endpoint.clone(), recorder.clone());
        tokio::spawn(async move {
            while let Some(i) = e2.accept().await {
                tokio::spawn(connection(i, rec.clone()));
            }
        });
        NaiveH3 {
            addr,
            recorder,
            ca: set.ca_der,
            endpoint,
        }
    }
}

impl Drop for NaiveH3 {
    fn drop(&mut self) {
        self.endpoint.close(quinn::VarInt::from_u32(0), b"bye");
    }
}
