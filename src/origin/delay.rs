//! The origin's delays (`/delay/{ms}`, `x-gauntlet-extra-delay-ms`), kept to the deadline within
//! the scheduler's wake-up time instead of tokio's timer wheel. Tokio's timer ticks every
//! millisecond and rounds each deadline up to the next tick, so a 10 ms sleep ended 10 to 12 ms
//! later depending on where in the tick the request arrived. That made the reference endpoint
//! itself the largest error in issue 17's overhead figure (wrk measured 11.5 ms on `/delay/10`)
//! and made two clients' latencies differ by their phase against the origin's ticks rather than
//! by their own cost. A timerfd per delay has nanosecond resolution and no timer slack.

use std::time::{Duration, Instant};

/// Waits `d` from now. Without a timerfd (descriptors exhausted), falls back to tokio's timer,
/// which is late by up to two milliseconds but never early.
pub async fn sleep(d: Duration) {
    let deadline = Instant::now() + d;
    if let Ok(delay) = tokio_timerfd::Delay::new(deadline) {
        if delay.await.is_ok() {
            return;
        }
    }
    tokio::time::sleep_until(deadline.into()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delay never ends early, whichever timer served it.
    #[tokio::test]
    async fn never_early() {
        for ms in [0u64, 1, 3] {
            let start = Instant::now();
            sleep(Duration::from_millis(ms)).await;
            assert!(
                start.elapsed() >= Duration::from_millis(ms),
                "{ms} ms ended early"
            );
        }
    }
}
