//! Clean endings and honest counts (issue 13, group 6): a run bounded by time stops at its
//! deadline, cutting off the requests still in flight (counted as cancelled, never as the
//! target's errors or timeouts, on every protocol); arrivals the client never got to are owed
//! with the lag they built up; an interrupted run owes only what was due before the interrupt.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{lane, run, TestOrigin};

#[test]
fn requests_in_flight_at_the_deadline_are_cancelled_not_timed_out_on_every_protocol() {
    let o = TestOrigin::start();
    // Half the mix takes 5 s against a 1 s run and a 30 s timeout: every one of those is still
    // in flight at the deadline, while the fast half completes.
    let s = o.scenario(&format!(
        "name: deadline\ntargets: {{ t: \"{}\" }}\ntls: {{ ca: ca.pem }}\nprotocols: [h1, h2, h3]\ntimeout: 30s\nload: {{ rate: 20, duration: 1s, connections: 8 }}\nrequests:\n  - {{ name: fast, get: / }}\n  - {{ name: slow, get: /delay/5000 }}\n",
        o.https()
    ));
    let out = run(&s);
    for proto in ["h1", "h2", "h3"] {
        let l = &lane(&out, "t", proto).stats;
        let fast = &l.requests[0];
        let slow = &l.requests[1];
        assert!(fast.ok > 0, "{proto}: {:?}", fast.errors);
        assert_eq!(fast.error_count(), 0, "{proto}: {:?}", fast.errors);
        assert_eq!(slow.count, 0, "{proto}: a slow request was measured");
        assert_eq!(slow.error_count(), 0, "{proto}: {:?}", slow.errors);
        assert!(l.cancelled >= 1, "{proto}: nothing cancelled");
        // Every arrival of the plan is accounted for: measured, cancelled or owed.
        assert_eq!(
            fast.count + slow.count + l.cancelled + l.not_sent,
            20,
            "{proto}"
        );
    }
}

#[test]
fn arrivals_the_client_never_got_to_are_owed_with_their_lag() {
    // A server that accepts and never answers: the 4 connections are taken by the first 4
    // arrivals, so the 6 others (due from 0.8 s on) wait in the queue until the end at 2 s.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        "name: owed\ntargets: {{ t: \"http://127.0.0.1:{port}/\" }}\ntimeout: 30s\nload: {{ rate: 5, duration: 2s, connections: 4 }}\nrequests: [ {{ get: / }} ]\n"
    ));
    let out = run(&s);
    let l = &lane(&out, "t", "h1").stats;
    assert_eq!(l.total().count, 0);
    assert_eq!(l.total().error_count(), 0, "{:?}", l.total().errors);
    assert_eq!(l.cancelled, 4);
    assert_eq!(l.not_sent, 6);
    // The oldest owed arrival was due at 0.8 s and still waiting at 2 s.
    assert!(l.max_lag_us >= 1_000_000, "max lag {}", l.max_lag_us);
}

#[test]
fn an_interrupted_run_owes_only_what_was_due_before_the_interrupt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: long\ntargets: { a: embedded }\nload: { rate: 100, duration: 60s }\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["run", "s.yaml", "--quiet", "--out", "o"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o/results.json")).unwrap())
            .unwrap();
    assert_eq!(r["meta"]["interrupted"], true);
    let l = &r["lanes"][0];
    let count = l["summary"]["count"].as_u64().unwrap();
    let owed = l["pacing"]["not_sent"].as_u64().unwrap();
    // Of the 6,000 planned, the ones due in the ~2 s before the interrupt were sent; the rest of
    // the plan is not owed. A small backlog at the moment of the signal may be.
    assert!(count >= 50, "count {count}");
    assert!(
        owed <= count / 10,
        "{owed} owed of {count} sent: the rest of the plan was counted"
    );
}

#[test]
fn a_rate_far_beyond_the_client_says_how_far_short_it_fell() {
    // A million arrivals a second for a second over one thread and 8 connections: no client
    // sends that, least of all a debug build, so most of the plan is owed. Counts only: how many
    // were sent depends on the machine, but the plan and its accounting do not.
    let o = TestOrigin::start();
    let (_, r, t) = common::run_saved(
        &o,
        "flood",
        &format!(
            "name: flood\ntargets: {{ t: \"{}\" }}\nload: {{ rate: 1000000, duration: 1s, threads: 1 }}\nrequests: [ {{ get: / }} ]\n",
            o.http()
        ),
    );
    let l = &r.lanes[0];
    let plan = l.pacing.plan.expect("an open-model lane reports its plan");
    assert_eq!(plan.planned, 1_000_000, "{t}");
    assert!(plan.sent < plan.planned / 2, "{plan:?}");
    assert_eq!(plan.planned - plan.sent, l.pacing.not_sent, "{plan:?}");
    // Sent is measured, cancelled at the deadline, or failed: nothing else.
    assert_eq!(plan.sent, l.summary.count + l.pacing.cancelled, "{t}");
    assert!(plan.shortfall > 0.5 && plan.short(), "{plan:?}");
    assert!(
        t.contains("planned: ") && t.contains("% short; the client could not keep up"),
        "{t}"
    );
    let html = std::fs::read_to_string(o.dir.path().join("flood-out/index.html")).unwrap();
    assert!(html.contains("% short)"), "the report's pacing panel");
}

#[test]
fn a_rate_the_client_keeps_is_reported_as_kept() {
    let o = TestOrigin::start();
    let (_, r, t) = common::run_saved(
        &o,
        "gentle",
        &format!(
            "name: gentle\ntargets: {{ t: \"{}\" }}\nload: {{ rate: 50, duration: 1s }}\nrequests: [ {{ get: / }} ]\n",
            o.http()
        ),
    );
    let plan = r.lanes[0]
        .pacing
        .plan
        .expect("an open-model lane reports its plan");
    assert_eq!((plan.planned, plan.sent), (50, 50), "{t}");
    assert!(!plan.short() && !t.contains("could not keep up"), "{t}");
}
