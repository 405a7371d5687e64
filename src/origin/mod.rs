//! The embedded reference origin: HTTP/1.1 and h2c on a cleartext listener, HTTP/1.1 and HTTP/2 by
//! ALPN on a TLS listener, with a throwaway CA made at start unless a certificate is given. It runs
//! in-process for tests and `embedded` targets, and as `gauntlet origin` behind real proxies.

pub mod certs;
pub mod delay;
pub mod h3;
pub mod raw;
pub mod recording;
pub mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use http::HeaderValue;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::proto::tls::{load_certs, load_key, provider, TlsConfigError};
use routes::OriginState;

/// Why the origin could not start.
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The certificate could not be made or loaded.
    #[error("certificate: {0}")]
    Cert(String),
    /// TLS setup failed.
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
}

/// Where and how to serve.
#[derive(Debug, Clone, Default)]
pub struct OriginConfig {
    /// Cleartext listener (HTTP/1.1 + h2c).
    pub http: Option<SocketAddr>,
    /// TLS listener (HTTP/1.1 + h2 by ALPN).
    pub https: Option<SocketAddr>,
    /// Certificate chain and key (PEM) instead of a throwaway CA.
    pub cert: Option<(PathBuf, PathBuf)>,
    /// Speak HTTP/1.1 only (no h2c, ALPN `http/1.1` only): a server to test protocol assertions.
    pub http1_only: bool,
    /// Serve HTTP/3 on the UDP port of the TLS listener, and advertise it with Alt-Svc.
    pub h3: bool,
    /// Keep every request the endpoints see, for conformance probes (off for load).
    pub record: bool,
    /// End each connection gracefully after this many requests, as nginx's
    /// `keepalive_requests` does: `Connection: close` on HTTP/1.1, GOAWAY on HTTP/2 and HTTP/3.
    pub max_requests_per_connection: Option<u64>,
}

impl OriginConfig {
    /// Both listeners on loopback, on ports the system picks.
    pub fn loopback() -> Self {
        let any: SocketAddr = "127.0.0.1:0".parse().expect("constant address");
        OriginConfig {
            http: Some(any),
            https: Some(any),
            cert: None,
            http1_only: false,
            h3: true,
            record: false,
            max_requests_per_connection: None,
        }
    }
}

/// A running origin.
pub struct Origin {
    recorder: Option<recording::Recorder>,
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
    h3: Option<SocketAddr>,
    ca_pem: String,
    ca_der: Option<CertificateDer<'static>>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

/// How one connection is served: the listener's options.
#[derive(Clone)]
struct ConnOptions {
    http1_only: bool,
    alt_svc: Option<HeaderValue>,
    max_requests: Option<u64>,
}

async fn serve_conn<S>(io: S, state: Arc<OriginState>, stop: CancellationToken, opts: ConnOptions)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let served = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let limit_reached = Arc::new(tokio::sync::Notify::new());
    let (alt_svc, max, limit2) = (opts.alt_svc, opts.max_requests, limit_reached.clone());
    let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let (state, alt_svc, served, limit) = (
            state.clone(),
            alt_svc.clone(),
            served.clone(),
            limit2.clone(),
        );
        async move {
            let h2 = req.version() == http::Version::HTTP_2;
            let n = served.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let last = max.is_some_and(|m| n >= m);
            let mut resp = routes::handle(state, req).await?;
            if let Some(v) = alt_svc {
                resp.headers_mut().insert(http::header::ALT_SVC, v);
            }
            if last {
                if h2 {
                    limit.notify_one();
                } else {
                    // hyper closes an HTTP/1.1 connection after a response that says so.
                    resp.headers_mut()
                        .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
                }
            }
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if opts.http1_only {
        builder = builder.http1_only();
    }
    let conn = builder.serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = stop.cancelled() => break,
            // HTTP/2: GOAWAY, finish the streams already accepted, then close (hyper sends the
            // two-step GOAWAY of RFC 9113 §6.8).
            _ = limit_reached.notified(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connections waiting to be accepted. Tokio's `bind` queues 1,024; a client opening 10,000 at
/// once overflows that, and every dropped SYN costs its connection a one-second retransmission.
/// The kernel caps it at `net.core.somaxconn` (4,096 by default).
const ACCEPT_BACKLOG: u32 = 4096;

async fn listen(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), OriginError> {
    let bind_err = |source| OriginError::Bind { addr, source };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(bind_err)?;
    // As `TcpListener::bind` does: a restarted origin may take its port back at once.
    socket.set_reuseaddr(true).map_err(bind_err)?;
    socket.bind(addr).map_err(bind_err)?;
    let l = socket.listen(ACCEPT_BACKLOG).map_err(bind_err)?;
    let bound = l.local_addr().map_err(bind_err)?;
    Ok((l, bound))
}

/// Accepts connections until `stop`, handing each to `serve` on a tracked task.
fn accept_loop<F, Fut>(l: TcpListener, stop: &CancellationToken, tasks: &TaskTracker, serve: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (stop, t2) = (stop.clone(), tasks.clone());
    tasks.spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = l.accept() => a,
                _ = stop.cancelled() => break,
            };
            if let Ok((s, _)) = accepted {
                // Latency figures must not include Nagle's delay on the server side either.
                let _ = s.set_nodelay(true);
                t2.spawn(serve(s));
            }
        }
    });
}

impl Origin {
    /// Binds the listeners and starts serving.
    pub async fn start(cfg: OriginConfig) -> Result<Origin, OriginError> {
        let mut state = OriginState::default();
        state.recorder = cfg.record.then(recording::Recorder::default);
        let state = Arc::new(state);
        let h1only = cfg.http1_only;
        let max_requests = cfg.max_requests_per_connection;
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let (chain, key, ca_pem, ca_der) = match &cfg.cert {
            Some((c, k)) => {
                let chain = load_certs(c)?;
                let pem =
                    std::fs::read_to_string(c).map_err(|e| OriginError::Cert(e.to_string()))?;
                (chain, load_key(k)?, pem, None)
            }
            None => {
                let set = certs::generate(&[]).map_err(|e| OriginError::Cert(e.to_string()))?;
                (
                    vec![set.cert_der.clone(), set.ca_der.clone()],
                    set.key(),
                    set.ca_pem.clone(),
                    Some(set.ca_der.clone()),
                )
            }
        };
        let mut http = None;
        if let Some(addr) = cfg.http {
            let (l, bound) = listen(addr).await?;
            http = Some(bound);
            let (state, stop2) = (state.clone(), stop.clone());
            let opts = ConnOptions {
                http1_only: h1only,
                alt_svc: None,
                max_requests,
            };
            accept_loop(l, &stop, &tasks, move |s| {
                serve_conn(s, state.clone(), stop2.clone(), opts.clone())
            });
        }
        let mut https = None;
        let mut h3_addr = None;
        let (h3_chain, h3_key) = (chain.clone(), key.clone_key());
        if let Some(addr) = cfg.https {
            let mut sc = rustls::ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(TlsConfigError::from)?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(TlsConfigError::from)?;
            sc.alpn_protocols = if cfg.http1_only {
                vec![b"http/1.1".to_vec()]
            } else {
                vec![b"h2".to_vec(), b"http/1.1".to_vec()]
            };
            let acceptor = TlsAcceptor::from(Arc::new(sc));
            let want_h3 = cfg.h3 && !cfg.http1_only;
            // HTTP/3 takes the UDP port of the same number as the TLS listener. With port 0 the
            // system picks the TCP port, and its UDP twin may be taken (by any QUIC client's
            // ephemeral socket): then pick another pair.
            let mut attempts = 0;
            let (l, bound, udp) = loop {
                attempts += 1;
                let (l, bound) = listen(addr).await?;
                if !want_h3 {
                    break (l, bound, None);
                }
                match h3::start(
                    bound,
                    h3_chain.clone(),
                    h3_key.clone_key(),
                    state.clone(),
                    stop.clone(),
                    &tasks,
                    max_requests,
                ) {
                    Ok(udp) => break (l, bound, Some(udp)),
                    Err(OriginError::Bind { .. }) if addr.port() == 0 && attempts < 50 => continue,
                    Err(e) => return Err(e),
                }
            };
            https = Some(bound);
            let mut alt_svc = None;
            if let Some(udp) = udp {
                h3_addr = Some(udp);
                alt_svc = HeaderValue::from_str(&format!("h3=\":{}\"; ma=86400", udp.port())).ok();
            }
            let (state, stop2) = (state.clone(), stop.clone());
            let opts = ConnOptions {
                http1_only: h1only,
                alt_svc,
                max_requests,
            };
            accept_loop(l, &stop, &tasks, move |s| {
                let (acceptor, state, stop3, opts) =
                    (acceptor.clone(), state.clone(), stop2.clone(), opts.clone());
                async move {
                    // A client that fails the handshake only loses its own connection.
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(s)).await
                    {
                        serve_conn(tls, state, stop3, opts).await;
                    }
                }
            });
        }
        Ok(Origin {
            recorder: state.recorder.clone(),
            http,
            https,
            h3: h3_addr,
            ca_pem,
            ca_der,
            stop,
            tasks,
        })
    }

    /// Every request that reached the endpoints, when started with `record`.
    pub fn recorder(&self) -> Option<&recording::Recorder> {
        self.recorder.as_ref()
    }

    /// The cleartext address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http.expect("origin started with a cleartext listener")
    }

    /// The TLS address.
    pub fn https_addr(&self) -> SocketAddr {
        self.https.expect("origin started with a TLS listener")
    }

    /// The HTTP/3 (UDP) address, if any.
    pub fn h3(&self) -> Option<SocketAddr> {
        self.h3
    }

    /// The cleartext address, if any.
    pub fn http(&self) -> Option<SocketAddr> {
        self.http
    }

    /// The TLS address, if any.
    pub fn https(&self) -> Option<SocketAddr> {
        self.https
    }

    /// The PEM a client must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA in DER (the throwaway CA, or the given chain's first certificate).
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca_der.clone().unwrap_or_else(|| {
            CertificateDer::pem_slice_iter(self.ca_pem.as_bytes())
                .next()
                .and_then(Result::ok)
                .unwrap_or_else(|| CertificateDer::from(Vec::new()))
        })
    }

    /// The line `gauntlet origin` prints at start.
    pub fn announce(&self) -> serde_json::Value {
        serde_json::json!({
            "http": self.http.map(|a| format!("http://{a}")),
            "https": self.https.map(|a| format!("https://{a}")),
            "h3": self.h3.map(|a| format!("https://{a}")),
        })
    }

    /// Stops accepting, closes connections and waits for the tasks.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.tasks.close();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.tasks.wait()).await;
    }
}

use rustls::pki_types::pem::PemObject as _;
