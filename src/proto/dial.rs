//! Opening TCP connections: name resolution, connect timeout, `TCP_NODELAY`, and the
//! classification of what went wrong.

use std::io;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::record::errors::{ErrorClass, RequestError};

/// Classifies an I/O error from connecting.
pub fn connect_error(e: &io::Error) -> RequestError {
    let code = match e.kind() {
        io::ErrorKind::ConnectionRefused => "refused",
        io::ErrorKind::TimedOut => "timeout",
        io::ErrorKind::AddrNotAvailable => "addr-not-available",
        io::ErrorKind::PermissionDenied => "permission-denied",
        io::ErrorKind::NotFound => "dns",
        _ => match e.raw_os_error() {
            Some(101) => "network-unreachable",
            Some(113) => "host-unreachable",
            _ => "io",
        },
    };
    RequestError::new(ErrorClass::Connect, code, e.to_string())
}

/// Connects to `host:port`, trying each resolved address in turn, within `timeout`.
pub async fn tcp(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<(TcpStream, Duration), RequestError> {
    let start = Instant::now();
    let attempt = async {
        let addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| {
            RequestError::new(
                ErrorClass::Connect,
                "dns",
                format!("cannot resolve {host}: {e}"),
            )
        })?;
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    // Latency figures must not include Nagle's delay.
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => last = Some(connect_error(&e)),
            }
        }
        Err(last.unwrap_or_else(|| {
            RequestError::new(
                ErrorClass::Connect,
                "dns",
                format!("{host} resolved to no address"),
            )
        }))
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(s)) => Ok((s, start.elapsed())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(RequestError::new(
            ErrorClass::Timeout,
            "connect",
            format!("no TCP connection to {host}:{port} within {timeout:?}"),
        )),
    }
}
