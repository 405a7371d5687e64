//! Raw transports for protocol probes: bytes written verbatim over TCP or TLS (HTTP/1.1), frames
//! written by hand (HTTP/2), and frames on QUIC streams (HTTP/3). hyper, h2 and h3 refuse to
//! send the malformed input probes need, so probes use these; load and positive traffic do not.

pub mod h1;
pub mod h1_parse;
pub mod h2;
pub mod h3;
pub mod qpack;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::proto::{dial, tls};
use crate::record::errors::{ErrorClass, RequestError};
use crate::scenario::validate::parse_target_url;
use crate::scenario::{Endpoint, TargetUrl, TlsOptions};

/// Decoded header fields: names and values as bytes, in order.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// A byte stream, over TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open raw connection.
pub type RawStream = Box<dyn Io>;

/// Where probes go and how they get there.
#[derive(Debug, Clone)]
pub struct RawTarget {
    /// The URL as given.
    pub url: String,
    /// Host to connect to (also the Host / :authority sent).
    pub host: String,
    /// TCP port, and the UDP port for HTTP/3.
    pub port: u16,
    /// Whether the target speaks TLS.
    pub tls: bool,
    /// TLS options (CA, insecure, SNI override).
    pub tls_options: TlsOptions,
    /// CAs trusted besides the options' (the embedded origin's).
    pub extra_ca: Vec<CertificateDer<'static>>,
    /// Connect, handshake and read deadline of each step.
    pub timeout: Duration,
    /// Dial this `host:port` instead of the URL's (Host and SNI stay the URL's).
    pub connect_to: Option<(String, u16)>,
}

impl RawTarget {
    /// A target for an `http://`, `https://` or `h2c://` URL (parsed as scenario targets are).
    pub fn from_url(url: &str, tls_options: TlsOptions, timeout: Duration) -> Result<Self, String> {
        match parse_target_url(url, None)? {
            Endpoint::Url(u) => Ok(RawTarget::new(&u, tls_options, timeout)),
            Endpoint::Embedded => Err("`embedded` names no address here".into()),
        }
    }

    /// A target for a scenario target's URL, `connect_to` included.
    pub fn new(u: &TargetUrl, tls_options: TlsOptions, timeout: Duration) -> Self {
        RawTarget {
            url: u.display(),
            host: u.host.clone(),
            port: u.port,
            tls: u.tls,
            tls_options,
            extra_ca: Vec::new(),
            timeout,
            connect_to: u.connect_to.clone(),
        }
    }

    /// `host:port` as sent in Host and :authority.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Where to connect.
    pub fn dial(&self) -> (&str, u16) {
        match &self.connect_to {
            Some((h, p)) => (h.as_str(), *p),
            None => (self.host.as_str(), self.port),
        }
    }

    /// A rustls configuration offering `alpn`.
    pub fn client_config(&self, alpn: &[u8]) -> Result<Arc<rustls::ClientConfig>, RequestError> {
        tls::client_config(&self.tls_options, &[alpn], &self.extra_ca)
            .map_err(|e| RequestError::new(ErrorClass::Tls, "config", e.to_string()))
    }

    /// Opens a connection, with TLS and ALPN `alpn` when the target is https (the protocol the
    /// server picked is checked).
    pub async fn open(&self, alpn: &[u8]) -> Result<RawStream, RequestError> {
        let (host, port) = self.dial();
        let (tcp, _) = dial::tcp(host, port, self.timeout).await?;
        if !self.tls {
            return Ok(Box::new(tcp));
        }
        let connector = tokio_rustls::TlsConnector::from(self.client_config(alpn)?);
        let name = tls::server_name(&self.tls_options, &self.host)?;
        let (s, _, _) = tls::handshake(&connector, name, tcp, self.timeout).await?;
        tls::check_alpn(&s, alpn)?;
        Ok(Box::new(s))
    }
}

/// How a read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum End {
    /// The peer closed the connection.
    Closed,
    /// The peer reset the connection.
    Reset,
    /// The connection was still open when we stopped reading.
    Open,
}

impl End {
    /// A short word for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            End::Closed => "close",
            End::Reset => "reset",
            End::Open => "open",
        }
    }
}

/// Reads whatever arrives until the peer closes, the deadline passes, or nothing more comes for
/// as long as `patience` says the bytes so far allow (`None`: wait for the deadline).
pub async fn read_until(
    s: &mut RawStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
    mut patience: impl FnMut(&[u8]) -> Option<Duration>,
) -> End {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return End::Open;
        }
        let wait = patience(buf).map_or(deadline - now, |q| q.min(deadline - now));
        match tokio::time::timeout(wait, s.read(&mut chunk)).await {
            Err(_) => return End::Open,
            Ok(Ok(0)) => return End::Closed,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => return End::Reset,
            Ok(Err(_)) => return End::Closed,
        }
    }
}

/// Writes `bytes`, reporting whether the peer still took them (a peer that already closed is an
/// outcome, not an error).
pub async fn write(s: &mut RawStream, bytes: &[u8]) -> bool {
    s.write_all(bytes).await.is_ok() && s.flush().await.is_ok()
}

/// Lower-case hex of `bytes`, the reproducer format.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `bytes` as a printable string with C escapes, for reports.
pub fn escaped(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}
