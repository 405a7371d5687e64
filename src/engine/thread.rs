//! Client threads: each runs a single-threaded tokio runtime with the slots of the connections it
//! was given, records into its own [`LaneStats`], and hands them back when its lanes are done.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::transport::{self, WithTransport};
use super::worker::{slot, ConnCell, Cut, LaneCtx};
use super::{LaneSetup, Live};
use crate::proto::Transport;
use crate::record::stats::LaneStats;

/// How long in-flight requests may still finish after an interruption, or after the run's
/// deadline: the run ends within a second of it, whatever the server holds open.
const GRACE: Duration = Duration::from_millis(600);

/// How often a thread publishes its figures for the live metrics.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// How long slots have to record their cut-off requests before the thread stops waiting.
const CUT_BACKSTOP: Duration = Duration::from_millis(200);

/// The lanes and connections one thread runs: per lane, the slot count of each connection.
pub type ThreadWork = Vec<(Arc<LaneSetup>, Vec<usize>)>;

/// Deals connections round-robin over `threads`, lane by lane, so that every lane is spread over
/// every thread as evenly as its connection count allows.
pub fn distribute(setups: &[(Arc<LaneSetup>, Vec<usize>)], threads: usize) -> Vec<ThreadWork> {
    let mut work: Vec<ThreadWork> = (0..threads).map(|_| Vec::new()).collect();
    let mut next = 0usize;
    for (setup, conns) in setups {
        let mut per: Vec<Vec<usize>> = vec![Vec::new(); threads];
        for &slots in conns {
            per[next % threads].push(slots);
            next += 1;
        }
        for (t, c) in per.into_iter().enumerate() {
            if !c.is_empty() {
                work[t].push((setup.clone(), c));
            }
        }
    }
    work.retain(|w| !w.is_empty());
    work
}

/// Spawns the slots of one lane's connections on this thread.
struct SpawnLane<'a> {
    setup: &'a LaneSetup,
    conns: &'a [usize],
    rec: &'a Rc<RefCell<Vec<LaneStats>>>,
    live: &'a Arc<Live>,
    t0: Instant,
    cut: &'a Rc<Cut>,
    out: &'a mut Vec<JoinHandle<()>>,
}

impl WithTransport for SpawnLane<'_> {
    type Output = ();
    fn with<T: Transport>(self, transport: T) {
        spawn_lane(transport, self);
    }
}

fn spawn_lane<T: Transport>(transport: T, at: SpawnLane<'_>) {
    let SpawnLane {
        setup,
        conns,
        rec,
        live,
        t0,
        cut,
        out,
    } = at;
    // In the form the protocol sends them, once for the lane rather than per request.
    let requests = setup
        .requests
        .iter()
        .map(|r| r.for_transport(&transport))
        .collect();
    let ctx = Rc::new(LaneCtx {
        index: setup.index,
        transport,
        schedule: setup.schedule.clone(),
        requests: Arc::new(requests),
        requests_per_connection: setup.requests_per_connection,
        backoff_on_connect_error: setup.closed_model,
        t0,
        rec: rec.clone(),
        live: live.clone(),
        cut: cut.clone(),
        flow: setup.flow.clone(),
    });
    for &slots in conns {
        let cell = Rc::new(ConnCell::new(rec.clone(), setup.index));
        for _ in 0..slots {
            out.push(tokio::task::spawn_local(slot(ctx.clone(), cell.clone())));
        }
    }
}

/// Turns the spans of the client stacks into no-ops. h2 and quinn open tracing spans for every
/// frame and stream; with no subscriber set, tracing hands each one to the `log` crate instead
/// (its `log` feature, which quinn turns on), at thousands of instructions per request, and
/// nothing here reads them. A subscriber interested in nothing disables them where they are
/// made. One that is already set is left alone.
fn silence_tracing() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ =
            tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    });
}

/// Runs one thread's share of the work; returns its recorders, indexed by lane.
#[allow(clippy::too_many_arguments)]
pub fn run_thread(
    work: ThreadWork,
    index: usize,
    lanes: usize,
    requests: usize,
    t0: Instant,
    deadline: Option<Instant>,
    live: Arc<Live>,
    stop: CancellationToken,
) -> Vec<LaneStats> {
    // A way for the test suite to show that a lost thread fails the run (debug builds only).
    #[cfg(debug_assertions)]
    if std::env::var_os("GAUNTLET_INJECT_THREAD_PANIC").is_some() {
        panic!("injected by GAUNTLET_INJECT_THREAD_PANIC");
    }
    silence_tracing();
    // Full figures only for the lanes this thread runs; the others stay empty.
    let rec = Rc::new(RefCell::new(
        (0..lanes)
            .map(|i| {
                let runs = work.iter().any(|(setup, _)| setup.index == i);
                LaneStats::new(if runs { requests } else { 0 })
            })
            .collect::<Vec<_>>(),
    ));
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Rc::try_unwrap(rec)
            .map(RefCell::into_inner)
            .unwrap_or_default();
    };
    let local = tokio::task::LocalSet::new();
    let cut = CancellationToken::new();
    let slots_cut = Rc::new(Cut::default());
    local.block_on(&rt, async {
        let cutter = cut.clone();
        let slots_cutter = slots_cut.clone();
        let stop_cut = stop.clone();
        tokio::task::spawn_local(async move {
            let after_deadline = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until((d + GRACE).into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = after_deadline => {}
                _ = async { stop_cut.cancelled().await; tokio::time::sleep(GRACE).await } => {}
            }
            slots_cutter.cancel();
            cutter.cancel();
        });
        // For the live metrics: this thread's figures, copied out once a second (a copy per
        // second, nothing per request).
        if live.publish {
            let (rec, live) = (rec.clone(), live.clone());
            tokio::task::spawn_local(async move {
                loop {
                    tokio::time::sleep(PUBLISH_EVERY).await;
                    let copy = rec.borrow().iter().map(LaneStats::live_view).collect();
                    live.store(index, copy);
                }
            });
        }
        let mut handles = Vec::new();
        for (setup, conns) in &work {
            transport::build(
                setup,
                SpawnLane {
                    setup,
                    conns,
                    rec: &rec,
                    live: &live,
                    t0,
                    cut: &slots_cut,
                    out: &mut handles,
                },
            );
        }
        let all = futures_util::future::join_all(handles);
        // A slot cut off records its request and returns; one stuck elsewhere (a connect under
        // way) is dropped with the runtime.
        tokio::select! {
            _ = all => {}
            _ = async { cut.cancelled().await; tokio::time::sleep(CUT_BACKSTOP).await } => {}
        }
    });
    drop(local);
    drop(rt);
    let stats = rec.borrow().clone();
    if live.publish {
        live.store(index, stats.iter().map(LaneStats::live_view).collect());
    }
    stats
}
