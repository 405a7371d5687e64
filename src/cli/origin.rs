//! `gauntlet origin`: the embedded reference origin as a process, and with `--record` the
//! recording raw origin beside it, printing every request it receives.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::cancel_on_signal;
use crate::model::verdict::code;
use crate::origin::{Origin, OriginConfig};

/// `gauntlet origin`.
#[derive(Debug, Args)]
pub struct OriginArgs {
    /// Cleartext listener: HTTP/1.1 and h2c.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// TLS listener: HTTP/1.1 and HTTP/2 by ALPN.
    #[arg(long, value_name = "ADDR")]
    pub https: Option<SocketAddr>,
    /// Certificate chain (PEM) instead of a throwaway CA.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Write the CA certificate clients must trust to this file.
    #[arg(long, value_name = "FILE")]
    pub write_ca: Option<PathBuf>,
    /// Do not serve HTTP/3 on the UDP port of --https.
    #[arg(long)]
    pub no_h3: bool,
    /// Also serve the recording raw origin (HTTP/1.1, lenient, malformed answers on command) on
    /// ADDR, printing every request it receives as a JSON line with its exact bytes.
    #[arg(long, value_name = "ADDR")]
    pub record: Option<SocketAddr>,
    /// End each connection gracefully after N requests, as nginx's `keepalive_requests` does:
    /// `Connection: close` on HTTP/1.1, GOAWAY on HTTP/2 and HTTP/3.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests_per_connection: Option<u64>,
}

/// `gauntlet origin`.
pub fn origin(a: &OriginArgs) -> ExitCode {
    let mut cfg = OriginConfig {
        http: a.http,
        https: a.https,
        cert: a.cert.clone().zip(a.key.clone()),
        http1_only: false,
        h3: !a.no_h3,
        record: false,
        max_requests_per_connection: a.max_requests_per_connection,
    };
    if cfg.http.is_none() && cfg.https.is_none() {
        cfg = OriginConfig {
            cert: cfg.cert,
            max_requests_per_connection: cfg.max_requests_per_connection,
            ..OriginConfig::loopback()
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: runtime: {e}");
            return ExitCode::from(code::HARNESS);
        }
    };
    rt.block_on(async {
        let o = match Origin::start(cfg).await {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(code::HARNESS);
            }
        };
        if let Some(path) = &a.write_ca {
            if let Err(e) = std::fs::write(path, o.ca_pem()) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(code::HARNESS);
            }
        }
        outln!("{}", o.announce());
        let raw = match a.record {
            Some(addr) => {
                let tap: crate::origin::recording::Tap = std::sync::Arc::new(|r| {
                    outln!(
                        "{}",
                        serde_json::json!({ "received": {
                            "conn": r.conn,
                            "method": r.method,
                            "target": r.target,
                            "bytes": crate::proto::raw::escaped(&r.raw),
                        }})
                    );
                });
                let rec = crate::origin::recording::Recorder::with_tap(tap);
                match crate::origin::raw::RawOrigin::start(addr, rec).await {
                    Ok(r) => {
                        outln!(
                            "{}",
                            serde_json::json!({ "record": format!("http://{}", r.addr()) })
                        );
                        Some(r)
                    }
                    Err(e) => {
                        eprintln!("error: --record {addr}: {e}");
                        return ExitCode::from(code::HARNESS);
                    }
                }
            }
            None => None,
        };
        let stop = CancellationToken::new();
        cancel_on_signal(stop.clone());
        stop.cancelled().await;
        if let Some(r) = raw {
            r.shutdown().await;
        }
        o.shutdown().await;
        ExitCode::SUCCESS
    })
}
