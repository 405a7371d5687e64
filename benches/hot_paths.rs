//! Micro-benchmarks of the client's per-request paths (issue 17): building a request, recording
//! one sample, the pacer handing out the next job, and HTTP/1.1's wire (writing a request head,
//! reading a response head, decoding a chunked body). Quick: `cargo bench --bench hot_paths`.
//! Wall-clock figures on a shared machine are noisy; compare them on one machine, one sitting.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::FutureExt as _;
use gauntlet::engine::plan::RatePlan;
use gauntlet::engine::schedule::{Pacing, Schedule, ScheduleConfig, Share};
use gauntlet::engine::worker::PreparedRequest;
use gauntlet::proto::h1::H1Transport;
use gauntlet::proto::hyper_io::StreamDialer;
use gauntlet::proto::{ClientLimits, Protocol};
use gauntlet::record::stats::{LaneStats, Sample};
use gauntlet::scenario::expect::Expect;
use gauntlet::scenario::Stage;
use http::{HeaderMap, HeaderValue, Method, Uri};
use tokio_util::sync::CancellationToken;

fn main() {
    divan::main();
}

fn prepared(headers: usize) -> PreparedRequest {
    let mut map = HeaderMap::new();
    for i in 0..headers {
        map.append(
            http::HeaderName::from_bytes(format!("x-bench-{i}").as_bytes()).expect("a valid name"),
            HeaderValue::from_static("value"),
        );
    }
    PreparedRequest {
        method: Method::GET,
        uri: Uri::from_static("http://127.0.0.1:8080/api/items?page=2"),
        headers: map,
        body: Bytes::new(),
        timeout: Duration::from_secs(10),
        expect: Expect::default(),
        max_body: 1 << 20,
        wire: None,
    }
}

fn h1() -> H1Transport {
    let dialer = StreamDialer::new(
        ("127.0.0.1".into(), 8080),
        None,
        Protocol::H1,
        Duration::from_secs(5),
    );
    H1Transport::new(dialer, ClientLimits::default())
}

/// A request as a lane sends it over HTTP/1.1 (its wire form made once), with 0 and 4 headers
/// of the scenario's own.
#[divan::bench(args = [0, 4])]
fn build_request_h1(bencher: divan::Bencher, headers: usize) {
    let req = prepared(headers).for_transport(&h1());
    bencher.bench_local(|| req.build());
}

/// The same request in absolute form (HTTP/2, HTTP/3, and flows' rendered steps).
#[divan::bench(args = [0, 4])]
fn build_request_absolute(bencher: divan::Bencher, headers: usize) {
    let req = prepared(headers);
    bencher.bench_local(|| req.build());
}

/// One measured sample into a lane's figures: the timeline second and the request's counters,
/// histograms and slice.
#[divan::bench]
fn record_sample(bencher: divan::Bencher) {
    let mut lane = LaneStats::new(1);
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        let latency = 200 + (i * 7919) % 5_000;
        let s = Sample {
            corrected_us: latency,
            uncorrected_us: latency,
            response: Some((200, latency / 2)),
            bytes: 12,
            retried: false,
            slice: (i / 100_000) as u32,
        };
        lane.timeline
            .record((i / 150_000) as usize, Some((latency, latency)), true, 12);
        lane.requests[0].record(&s, Ok(()));
    });
}

fn schedule(pacing: Pacing, t0: Instant) -> Schedule {
    Schedule::new(ScheduleConfig {
        pacing,
        t0,
        limit: None,
        weights: vec![3, 1],
        seed: 1,
        stop: CancellationToken::new(),
        share: Share::Whole,
        slice: Duration::from_secs(1),
        shard: (0, 1),
    })
}

/// The open model's next arrival, every one already due (the plan started long ago), so the
/// figure is the pacer's own work: the plan's arithmetic, the weighted pick, the counters.
#[divan::bench]
fn pacer_next_open(bencher: divan::Bencher) {
    let plan = RatePlan::new(&[Stage {
        duration: Duration::from_secs(4_000),
        rate_start: 1_000_000.0,
        rate_end: 1_000_000.0,
        warmup: false,
    }]);
    let t0 = Instant::now() - Duration::from_secs(2_000);
    let s = schedule(Pacing::Open(plan), t0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let _guard = rt.enter();
    bencher.bench_local(|| s.next().now_or_never().flatten());
}

/// The closed model's next job.
#[divan::bench]
fn pacer_next_closed(bencher: divan::Bencher) {
    let s = schedule(
        Pacing::Closed {
            warmup: Duration::ZERO,
            duration: None,
        },
        Instant::now(),
    );
    bencher.bench_local(|| s.next().now_or_never().flatten());
}

/// Writing a request's HTTP/1.1 head into a connection's reused buffer, with 0 and 4 headers of
/// the scenario's own.
#[divan::bench(args = [0, 4])]
fn h1_encode_request(bencher: divan::Bencher, headers: usize) {
    let req = prepared(headers).for_transport(&h1()).build();
    let mut out = Vec::new();
    bencher.bench_local(|| gauntlet::proto::h1_wire::encode_request(&req, &mut out).closes);
}

/// nginx's answer to `return 200` on the benchmark's configuration, as the client reads it.
const NGINX_200: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 04 Dec 2026 18:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\nhello world\n";

/// Parsing that response's head into a header map sharing the read buffer, and its framing.
#[divan::bench]
fn h1_parse_head(bencher: divan::Bencher) {
    use gauntlet::proto::h1_wire::{framing, parse_head};
    let mut buf = bytes::BytesMut::with_capacity(4096);
    bencher.bench_local(|| {
        buf.clear();
        buf.extend_from_slice(NGINX_200);
        let head = parse_head(&mut buf, 8192, &mut HeaderMap::with_capacity(8))
            .expect("a valid head")
            .expect("a whole head");
        framing(false, &head).expect("a length")
    });
}

/// Decoding a chunked body of three chunks and an empty trailer section.
#[divan::bench]
fn h1_dechunk(bencher: divan::Bencher) {
    use gauntlet::proto::h1_wire::Dechunker;
    const BODY: &[u8] = b"5\r\nhello\r\n6\r\n world\r\n1;ext=1\r\n\n\r\n0\r\n\r\n";
    let mut buf = bytes::BytesMut::with_capacity(256);
    bencher.bench_local(|| {
        buf.clear();
        buf.extend_from_slice(BODY);
        let mut n = 0;
        let mut d = Dechunker::new(8192);
        let done = d.feed(&mut buf, &mut |b| {
            n += b.len();
            Ok(())
        });
        (done.is_ok(), n)
    });
}
