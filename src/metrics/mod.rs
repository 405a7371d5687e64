//! Watching a run while it lasts, from a thread of its own: `--metrics-addr` serves `/metrics`
//! for Prometheus to scrape, `--remote-write URL` pushes the same series with the remote-write
//! protocol (Prometheus, Thanos Receive), and on a terminal a live view shows each lane and the
//! verdict so far. All read the client threads' figures, published once a second (nothing is
//! added to the per-request path); scrape and push are both computed by [`families::collect`],
//! so they say the same. Series carry `run` and, for a shard, `shard`, so N shards land as one
//! run.

pub mod families;
pub mod remote_write;
pub mod serve;
pub mod so_far;
pub mod terminal;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::Live;
use crate::scenario::Scenario;

/// What the observer was asked to do.
#[derive(Debug, Clone, Default)]
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

/// The observer running beside a run.
pub struct Observer {
    stop: tokio_util::sync::CancellationToken,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Observer {
    /// Binds the metrics address (an error here is the user's to see before the load) and
    /// starts serving, pushing and drawing, as asked.
    pub fn start(
        cfg: Option<MetricsConfig>,
        terminal: bool,
        live: Arc<Live>,
        scenario: Arc<Scenario>,
    ) -> Result<Observer, String> {
        let cfg = cfg.unwrap_or_default();
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
        let ctx = Arc::new(families::Context::for_scenario(scenario.clone()));
        let thread = std::thread::Builder::new()
            .name("gauntlet-observer".into())
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
                    let drawing = async {
                        if !terminal {
                            return;
                        }
                        let total = crate::engine::expected_length(&scenario);
                        let mut view = terminal::Terminal::new(total);
                        // The view ends with the load, even while metrics linger.
                        while !token.is_cancelled()
                            && !live.finished.load(std::sync::atomic::Ordering::Acquire)
                        {
                            view.update(&live, &scenario, &ctx.so_far);
                            tokio::select! {
                                _ = token.cancelled() => {}
                                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                            }
                        }
                        view.finish();
                    };
                    let (a, b, ()) = tokio::join!(serving, pushing, drawing);
                    a.and(b)
                })
            })
            .map_err(|e| e.to_string())?;
        Ok(Observer {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops serving, pushing (after a last push) and drawing; the error of a push that failed.
    pub fn finish(mut self) -> Result<(), String> {
        self.stop.cancel();
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the observer thread panicked".into()),
            None => Ok(()),
        }
    }
}
