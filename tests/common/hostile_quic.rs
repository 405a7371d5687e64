//! QUIC peers hostile below HTTP/3: a server that loses its connections but keeps its
//! stateless-reset key (a restart, or a load balancer sending packets to another node), so that
//! the client's next packet on an old connection draws a valid stateless reset; and a UDP socket
//! that answers every Initial with a Version Negotiation listing only versions nobody speaks.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gauntlet::proto::raw::h3;

use super::hostile_h3::{raw_connection, server_config, H3Mode};

/// Two quinn endpoints with one reset key behind a UDP relay on one port. The first answers the
/// first request and vanishes (a crash) as the second arrives: from then on the relay
/// sends everything to the second, which knows no connection, answers the old one's packets with
/// a stateless reset, and serves new connections. The requests must carry a body larger than
/// QUIC's initial congestion window (some 15 KB): the client then cannot finish sending it
/// without acknowledgements the first endpoint no longer gets through, so its next packets go to
/// the second, and the reset always meets the request in flight.
pub struct ResettingH3 {
    pub addr: SocketAddr,
    pub ca_pem: String,
    endpoints: Vec<quinn::Endpoint>,
}

/// Connection ids from a counter: unique, and with no key that would tie them to one endpoint.
struct CountedIds;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl quinn::ConnectionIdGenerator for CountedIds {
    fn generate_cid(&mut self) -> quinn::ConnectionId {
        quinn::ConnectionId::new(&NEXT_ID.fetch_add(1, Ordering::Relaxed).to_be_bytes())
    }
    fn cid_len(&self) -> usize {
        8
    }
    fn cid_lifetime(&self) -> Option<Duration> {
        None
    }
}

fn endpoint(config: &quinn::EndpointConfig, server: quinn::ServerConfig) -> quinn::Endpoint {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    quinn::Endpoint::new(
        config.clone(),
        Some(server),
        socket,
        Arc::new(quinn::TokioRuntime),
    )
    .unwrap()
}

impl ResettingH3 {
    /// Starts on the current tokio runtime.
    pub fn start() -> ResettingH3 {
        let (server, ca_pem) = server_config();
        // One reset key for both: the second's resets carry the tokens the first handed out.
        // Random ids, valid to any endpoint: by default each endpoint checks the ids it sees
        // against a key of its own, and drops the others' packets without a reset.
        let mut shared = quinn::EndpointConfig::default();
        shared.cid_generator(|| Box::new(CountedIds));
        let first = endpoint(&shared, server.clone());
        let second = endpoint(&shared, server);
        let switched = Arc::new(AtomicBool::new(false));
        let (e, sw) = (first.clone(), switched.clone());
        tokio::spawn(async move {
            while let Some(i) = e.accept().await {
                let sw = sw.clone();
                tokio::spawn(async move {
                    let Ok(conn) = i.await else { return };
                    // The first request is answered, so the handshake is surely confirmed on
                    // both sides; the second is the moment the first endpoint vanishes.
                    if let Ok((mut send, mut recv)) = conn.accept_bi().await {
                        let _ = recv.read_to_end(1 << 20).await;
                        let mut out = h3::headers(&[(b":status".to_vec(), b"200".to_vec())]);
                        out.extend(h3::frame(h3::ty::DATA, b"ok"));
                        let _ = send.write_all(&out).await;
                        let _ = send.finish();
                    }
                    if let Ok(stream) = conn.accept_bi().await {
                        sw.store(true, Ordering::Relaxed);
                        // Held, not dropped: dropping the last handle would close the connection.
                        conn.closed().await;
                        drop(stream);
                    }
                });
            }
        });
        let e = second.clone();
        tokio::spawn(async move {
            while let Some(i) = e.accept().await {
                tokio::spawn(async move {
                    if let Ok(conn) = i.await {
                        raw_connection(conn, H3Mode::Ok).await;
                    }
                });
            }
        });
        let addr = relay(
            first.local_addr().unwrap(),
            second.local_addr().unwrap(),
            switched,
        );
        ResettingH3 {
            addr,
            ca_pem,
            endpoints: vec![first, second],
        }
    }
}

impl Drop for ResettingH3 {
    fn drop(&mut self) {
        for e in &self.endpoints {
            e.close(quinn::VarInt::from_u32(0), b"bye");
        }
    }
}

/// A UDP relay for one client: its datagrams go to `a`, and answers back to it, until
/// `switched`; then they go to `b`, and `a` is heard no more. Threads on blocking sockets, with
/// read timeouts so that they end.
fn relay(a: SocketAddr, b: SocketAddr, switched: Arc<AtomicBool>) -> SocketAddr {
    let front = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = front.local_addr().unwrap();
    let client: Arc<std::sync::Mutex<Option<SocketAddr>>> = Arc::default();
    let backs: Vec<UdpSocket> = (0..2)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    for (i, back) in backs.iter().enumerate() {
        let (back, front, client) = (
            back.try_clone().unwrap(),
            front.try_clone().unwrap(),
            client.clone(),
        );
        let switched = switched.clone();
        back.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            while let Ok(n) = back.recv(&mut buf) {
                if i == 0 && switched.load(Ordering::Relaxed) {
                    continue;
                }
                if let Some(c) = *client.lock().unwrap() {
                    let _ = front.send_to(&buf[..n], c);
                }
            }
        });
    }
    front
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        while let Ok((n, from)) = front.recv_from(&mut buf) {
            *client.lock().unwrap() = Some(from);
            let (sock, to) = match switched.load(Ordering::Relaxed) {
                false => (&backs[0], a),
                true => (&backs[1], b),
            };
            let _ = sock.send_to(&buf[..n], to);
        }
    });
    addr
}

/// A UDP socket that answers every long-header packet (an Initial) with a Version Negotiation
/// packet offering only versions no client speaks (RFC 9000 §17.2.1).
pub fn version_negotiator() -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let p = &buf[..n];
            if n < 7 || p[0] & 0x80 == 0 {
                continue;
            }
            let dcid_len = p[5] as usize;
            let Some(dcid) = p.get(6..6 + dcid_len) else {
                continue;
            };
            let Some(&scid_len) = p.get(6 + dcid_len) else {
                continue;
            };
            let Some(scid) = p.get(7 + dcid_len..7 + dcid_len + scid_len as usize) else {
                continue;
            };
            // Our connection ids are the client's, swapped; version 0 marks the packet.
            let mut vn = vec![0x80 | 0x2a, 0, 0, 0, 0, scid.len() as u8];
            vn.extend_from_slice(scid);
            vn.push(dcid.len() as u8);
            vn.extend_from_slice(dcid);
            vn.extend_from_slice(&0x1a2a_3a4au32.to_be_bytes());
            vn.extend_from_slice(&0xff00_0017u32.to_be_bytes());
            let _ = sock.send_to(&vn, from);
        }
    });
    addr
}
