//! The one worker loop. A slot takes a job from its lane's schedule, gets a connection (opening
//! one if needed), runs the exchange under the request's timeout, checks expectations and records
//! the outcome. The loop is generic over [`Transport`], so scheduling (open or closed), stopping
//! (time, count, interruption) and protocol (h1, h2, h3) stay independent of one another.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};

use super::schedule::{Job, Schedule};
use super::Live;
use crate::model::hist;
use crate::proto::{Connection, Exchange, Transport};
use crate::record::errors::{ErrorClass, RequestError};
use crate::record::stats::LaneStats;
use crate::scenario::expect::{Expect, Observed};

/// A request ready to clone onto the wire for one lane.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    /// Method.
    pub method: Method,
    /// Absolute URI (scheme and authority of the target).
    pub uri: Uri,
    /// Headers: the target's, then the request's.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// Timeout of the whole exchange, connection included.
    pub timeout: Duration,
    /// Checks on the response.
    pub expect: Expect,
    /// The cap on a body the checks read.
    pub max_body: usize,
}

impl PreparedRequest {
    /// How much of the body to keep: up to the cap when an expectation reads it, else none.
    pub fn keep(&self) -> Option<usize> {
        self.expect.needs_body().then_some(self.max_body)
    }

    /// A fresh request to send.
    pub fn build(&self) -> http::Request<Bytes> {
        let mut r = http::Request::new(self.body.clone());
        *r.method_mut() = self.method.clone();
        *r.uri_mut() = self.uri.clone();
        *r.headers_mut() = self.headers.clone();
        r
    }
}

/// What one thread needs to run slots of one lane.
pub struct LaneCtx<T: Transport> {
    /// Index of the lane in the thread's recorders.
    pub index: usize,
    /// Opens connections.
    pub transport: T,
    /// The lane's shared schedule.
    pub schedule: Arc<Schedule>,
    /// The lane's requests, indexed like the scenario's.
    pub requests: Arc<Vec<PreparedRequest>>,
    /// Requests per connection before it is replaced.
    pub requests_per_connection: Option<u64>,
    /// Back off after a failed connection attempt (closed model: no pacing would slow it).
    pub backoff_on_connect_error: bool,
    /// Run start, for the timeline.
    pub t0: Instant,
    /// This thread's recorders.
    pub rec: Rc<RefCell<Vec<LaneStats>>>,
    /// Live counters for the progress display.
    pub live: Arc<Live>,
    /// Cancelled when requests still in flight must be cut off: shortly after the run's
    /// deadline, or after an interruption.
    pub cut: tokio_util::sync::CancellationToken,
}

/// A connection as a lane holds it. When the last holder lets go (the cell, and every exchange
/// still in flight on it), what the server did on it is added to the lane's figures: counted
/// then, the frames that arrived while its last requests finished are included.
pub struct Leased<C: Connection> {
    conn: C,
    rec: Rc<RefCell<Vec<LaneStats>>>,
    index: usize,
    /// Set when the server ended it (GOAWAY, `Connection: close`, a close, a refusal).
    recycled: std::cell::Cell<bool>,
}

impl<C: Connection> std::ops::Deref for Leased<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.conn
    }
}

impl<C: Connection> Drop for Leased<C> {
    fn drop(&mut self) {
        let report = self.conn.peer_report();
        self.rec.borrow_mut()[self.index].record_peer(&report, self.recycled.get());
    }
}

struct CellState<C: Connection> {
    conn: Option<Rc<Leased<C>>>,
    used: u64,
}

/// One logical connection of a lane, shared by its slots (one slot for HTTP/1.1, up to
/// `max_streams` for multiplexed protocols). It reconnects when the connection closes, when the
/// server announced its end (GOAWAY, `Connection: close`), or when it has carried its quota of
/// requests.
pub struct ConnCell<C: Connection> {
    state: tokio::sync::Mutex<CellState<C>>,
    rec: Rc<RefCell<Vec<LaneStats>>>,
    index: usize,
}

impl<C: Connection> ConnCell<C> {
    /// An empty cell recording into lane `index` of `rec`; the first request connects.
    pub fn new(rec: Rc<RefCell<Vec<LaneStats>>>, index: usize) -> Self {
        ConnCell {
            state: tokio::sync::Mutex::new(CellState {
                conn: None,
                used: 0,
            }),
            rec,
            index,
        }
    }

    async fn get<T: Transport<Conn = C>>(
        &self,
        ctx: &LaneCtx<T>,
    ) -> Result<Rc<Leased<C>>, RequestError> {
        let mut st = self.state.lock().await;
        let fresh_enough = ctx.requests_per_connection.is_none_or(|n| st.used < n);
        // A retired connection refused work: it is not reused even while its socket is open.
        let open = st
            .conn
            .as_ref()
            .is_some_and(|c| c.is_open() && !c.recycled.get());
        if !(open && fresh_enough) {
            if let Some(old) = st.conn.take() {
                old.recycled.set(!open);
            }
            match ctx.transport.connect().await {
                Ok(c) => {
                    ctx.rec.borrow_mut()[ctx.index].record_connect(&c.timings);
                    if let Some(accepted) = c.early_data {
                        // Known only once the handshake completes, after the first requests left.
                        let (rec, index) = (ctx.rec.clone(), ctx.index);
                        tokio::task::spawn_local(async move {
                            let ok = accepted.await;
                            let mut r = rec.borrow_mut();
                            r[index].early_data_attempted += 1;
                            r[index].early_data_accepted += u64::from(ok);
                        });
                    }
                    st.conn = Some(Rc::new(Leased {
                        conn: c.conn,
                        rec: self.rec.clone(),
                        index: self.index,
                        recycled: std::cell::Cell::new(false),
                    }));
                    st.used = 0;
                }
                Err(e) => {
                    ctx.rec.borrow_mut()[ctx.index].connections_failed += 1;
                    return Err(e);
                }
            }
        }
        st.used += 1;
        Ok(st.conn.clone().expect("a connection was just stored"))
    }

    /// Marks `conn` so that the next request through the cell opens a fresh one: the server
    /// refused work on it. `get` sees the mark under its lock, so a slot holding the lock at
    /// this moment cannot hand the refused connection out again.
    fn retire(&self, conn: &Rc<Leased<C>>) {
        conn.recycled.set(true);
    }
}

/// What one request's attempts used: the connection of the last attempt (to explain a timeout)
/// and whether it was retried.
struct Attempt<C: Connection> {
    conn: Option<Rc<Leased<C>>>,
    retried: bool,
}

/// How many times a request the server did not process is sent in all.
const UNPROCESSED_ATTEMPTS: usize = 3;

async fn exchange<T: Transport>(
    ctx: &LaneCtx<T>,
    cell: &ConnCell<T::Conn>,
    req: &PreparedRequest,
    at: &mut Attempt<T::Conn>,
) -> Result<Exchange, RequestError> {
    let conn = cell.get(ctx).await?;
    at.conn = Some(conn.clone());
    let mut result = conn.send(req.build(), req.keep()).await;
    // The server did not process the request (it never left, or the server refused it or went
    // away before it): it is safe to send again on a fresh connection. A fresh connection can
    // itself be ended at once (a server recycling connections under load), so a few attempts
    // are allowed; past them the failure counts against the target with its own class.
    for _ in 1..UNPROCESSED_ATTEMPTS {
        match &result {
            Err(e) if e.unprocessed => {}
            _ => break,
        }
        cell.retire(at.conn.as_ref().expect("an attempt was made"));
        at.retried = true;
        let conn = cell.get(ctx).await?;
        at.conn = Some(conn.clone());
        result = conn.send(req.build(), req.keep()).await;
    }
    result
}

fn record<T: Transport>(
    ctx: &LaneCtx<T>,
    job: Job,
    from: Instant,
    started: Instant,
    end: Instant,
    outcome: &Result<Exchange, RequestError>,
    retried: bool,
) -> bool {
    let req = &ctx.requests[job.request];
    let checked = outcome.as_ref().map_err(Clone::clone).and_then(|ex| {
        let body = ex.body.as_deref().unwrap_or(&[]);
        req.expect
            .check(&Observed {
                status: ex.status,
                headers: &ex.headers,
                body,
            })
            .map_err(|f| RequestError::new(f.class, f.code, f.message))
    });
    let ok = checked.is_ok();
    let corrected_us = end.duration_since(from).as_micros() as u64;
    let uncorrected_us = end.duration_since(started).as_micros() as u64;
    let mut rec = ctx.rec.borrow_mut();
    let lane = &mut rec[ctx.index];
    let sec = end.duration_since(ctx.t0).as_secs() as usize;
    let bytes = outcome.as_ref().map_or(0, |ex| ex.body_len);
    lane.timeline.record(
        sec,
        outcome.is_ok().then_some((corrected_us, uncorrected_us)),
        ok,
        bytes,
    );
    let stats = &mut lane.requests[job.request];
    if job.warmup {
        stats.warmup += 1;
        return ok;
    }
    stats.count += 1;
    stats.bytes += bytes;
    stats.retried += u64::from(retried);
    if let Ok(ex) = outcome {
        *stats.statuses.entry(ex.status).or_default() += 1;
        hist::record_us(&mut stats.latency, corrected_us);
        hist::record_us(&mut stats.latency_uncorrected, uncorrected_us);
        hist::record_us(&mut stats.ttfb, ex.ttfb.as_micros() as u64);
    }
    // Every lane keeps its slices: a run saved today is compared with `gauntlet compare`
    // tomorrow, and the verdict is judged from slices.
    stats.record_slice(job.slice, outcome.is_ok().then_some(corrected_us), ok);
    match checked {
        Ok(()) => stats.ok += 1,
        Err(e) => stats.record_error(&e),
    }
    if let Some(intended) = job.intended {
        lane.record_lag(started.saturating_duration_since(intended).as_micros() as u64);
    }
    ok
}

/// Runs one slot until its lane is done.
pub async fn slot<T: Transport>(ctx: Rc<LaneCtx<T>>, cell: Rc<ConnCell<T::Conn>>) {
    while let Some(job) = ctx.schedule.next().await {
        let started = Instant::now();
        // Measure from the intended time when late (coordinated omission), from the actual start
        // when the timer woke us a little early.
        let from = job.intended.map_or(started, |t| t.min(started));
        let req = &ctx.requests[job.request];
        ctx.live.inflight.fetch_add(1, Ordering::Relaxed);
        let mut at = Attempt {
            conn: None,
            retried: false,
        };
        // The exchange's future ends with this statement, so a timed-out request's connection
        // can tell below whether it ever got going.
        let res = tokio::select! {
            biased;
            r = tokio::time::timeout(req.timeout, exchange(&ctx, &cell, req, &mut at)) => r,
            // The run is over: the request is neither the target's error nor a sample.
            _ = ctx.cut.cancelled() => {
                ctx.live.inflight.fetch_sub(1, Ordering::Relaxed);
                if !job.warmup {
                    ctx.rec.borrow_mut()[ctx.index].cancelled += 1;
                }
                return;
            }
        };
        let outcome = res.unwrap_or_else(|_| {
            let stalled = at.conn.as_ref().and_then(|c| c.stall(!req.body.is_empty()));
            Err(stalled.unwrap_or_else(|| {
                RequestError::new(
                    ErrorClass::Timeout,
                    "request",
                    format!("no complete response within {:?}", req.timeout),
                )
            }))
        });
        let end = Instant::now();
        ctx.live.inflight.fetch_sub(1, Ordering::Relaxed);
        let ok = record(&ctx, job, from, started, end, &outcome, at.retried);
        ctx.live.done.fetch_add(1, Ordering::Relaxed);
        if !ok {
            ctx.live.errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = &outcome {
            if ctx.backoff_on_connect_error
                && matches!(e.class, ErrorClass::Connect | ErrorClass::Tls)
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}
