//! Live metrics while a run lasts: `--metrics-addr` serves `/metrics` for Prometheus to scrape,
//! `--remote-write URL` pushes the same series with the remote-write protocol (Prometheus,
//! Thanos Receive). Both read the client threads' figures, published once a second (nothing is
//! added to the per-request path), and both are computed by [`families::collect`], so a scrape
//! and a push of the same moment say the same. Series carry `run` and, for a shard, `shard`, so
//! N shards land as one run.

pub mod families;
pub mod remote_write;
pub mod serve;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::Live;

/// What the exporter was asked to do.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// Serve `/metrics` here.
    pub addr: Option<SocketAddr>,
    /// Keep serving this long after the run, for a last scrape.
    pub linger: Duration,
    /// Push to this remote-write endpoint (`http://host:port/api/v1/write`).
    pub remote_write: Option<http::Uri>,
    /// How often to push.
    pub push_every: Duration,
}

/// The exporter running beside a run, on a thread of its own.
pub struct Exporter {
    stop: tokio_util::sync::CancellationToken,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Exporter {
    /// Binds the address (an error here is the user's to see before the load) and starts.
    pub fn start(
        cfg: MetricsConfig,
        live: Arc<Live>,
        ctx: families::Context,
    ) -> Result<Exporter, String> {
        let listener = match cfg.addr {
            Some(a) => Some(
                std::net::TcpListener::bind(a)
                    .and_then(|l| l.set_nonblocking(true).map(|()| l))
                    .map_err(|e| format!("--metrics-addr {a}: {e}"))?,
            ),
            None => None,
        };
        let stop = tokio_util::sync::CancellationToken::new();
        let token = stop.clone();
        let ctx = Arc::new(ctx);
        let thread = std::thread::Builder::new()
            .name("gauntlet-metrics".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(async move {
                    let serving = async {
                        if let Some(l) = listener {
                            let l =
                                tokio::net::TcpListener::from_std(l).map_err(|e| e.to_string())?;
                            serve::serve(l, live.clone(), ctx.clone(), token.clone()).await;
                        }
                        Ok::<(), String>(())
                    };
                    let pushing = async {
                        match &cfg.remote_write {
                            Some(url) => {
                                remote_write::push_until(url, cfg.push_every, &live, &ctx, &token)
                                    .await
                            }
                            None => Ok(()),
                        }
                    };
                    let (a, b) = tokio::join!(serving, pushing);
                    a.and(b)
                })
            })
            .map_err(|e| e.to_string())?;
        Ok(Exporter {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops serving and pushing (after a last push); the error of a push that failed.
    pub fn finish(mut self) -> Result<(), String> {
        self.stop.cancel();
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the metrics exporter panicked".into()),
            None => Ok(()),
        }
    }
}
