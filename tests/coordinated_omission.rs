//! Coordinated omission: a server-side stall during a fixed-rate run must show in the corrected
//! latency and not in the uncorrected one.
//!
//! Arithmetic. Rate R = 200/s for T = 3 s over one HTTP/1.1 connection: 600 arrivals. At t = 1 s
//! the origin stalls for S = 1 s (`/pause/1000`, sent on a side connection). The R·S = 200
//! arrivals due during the stall queue behind the one request in flight; when the stall ends they
//! go out back to back, so the one due at t = 1 + x completes at about t = 2, a corrected latency
//! of about S − x, spread evenly over (0, S]. They are 200 / 600 = 1/3 of the run, so the top 1 %
//! (6 requests) are the first 6 of them: corrected p99 ≈ S · (1 − 6/200) = 970 ms. Uncorrected,
//! only the single request in flight during the stall waits (≈ 1 s); it is 1/600 < 1 % of the
//! run, so uncorrected p99 stays at the ordinary service time, a few ms.

mod common;

use std::time::Duration;

use common::{run, TestOrigin};
use gauntlet::model::hist::pct;

#[test]
fn a_stall_shows_in_corrected_latency_only() {
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        r#"
name: stall
targets: {{ t: "{}" }}
load: {{ rate: 200, duration: 3s, connections: 1, threads: 1 }}
timeout: 5s
requests:
  - get: /
"#,
        o.http()
    ));
    let addr = o.origin().http_addr();
    o.spawn(async move {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        s.write_all(b"GET /pause/1000 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf).await;
    });
    let out = run(&s);
    let st = &out.lanes[0].stats;
    let t = st.total();
    assert_eq!(
        t.count, 600,
        "every planned arrival was sent: {:?}",
        t.errors
    );
    let p99 = pct(&t.latency, 99.0);
    let p99_uncorrected = pct(&t.latency_uncorrected, 99.0);
    let max = t.latency.max();
    assert!(
        (870_000..=1_070_000).contains(&p99),
        "corrected p99 ≈ 970 ms, got {p99} µs"
    );
    assert!(
        p99_uncorrected < 100_000,
        "uncorrected p99 stays small, got {p99_uncorrected} µs"
    );
    assert!(
        (950_000..=1_150_000).contains(&max),
        "the worst wait is the whole stall, got {max} µs"
    );
    assert!(
        st.late_starts >= 150,
        "the queued arrivals started late: {}",
        st.late_starts
    );
    assert!(
        st.max_lag_us >= 900_000,
        "max lag ≈ the stall: {}",
        st.max_lag_us
    );
}
