//! Flows end to end against the in-process origin: a three-step session (log in, capture the
//! token, use it) over h1, h2 and h3 with per-step and per-flow figures; data rows taken in
//! order; a capture that finds nothing failing the flow with its own class and a reproducer of
//! the failing step (its captured token redacted); a captured value that cannot go in a header
//! failing its step unsent; an unknown variable refused at validation; and a two-path comparison
//! that judges the flow and its steps.

mod common;

use common::{lane, run, run_saved, TestOrigin};
use gauntlet::origin::OriginConfig;
use gauntlet::record::errors::ErrorClass;
use gauntlet::scenario::{load_str, Overrides};

/// Three steps: the origin answers `/account` with 401 unless the captured token is carried.
fn session(targets: &str, protocols: &str, load: &str) -> String {
    format!(
        r#"
name: flows
targets: {targets}
tls: {{ ca: ca.pem }}
protocols: {protocols}
load: {load}
data: {{ file: users.csv }}
vars: {{ n: {{ sequence: 1 }} }}
requests:
  - name: checkout
    flow:
      - name: login
        post: /login
        headers: {{ content-type: application/json }}
        body: '{{"user":"{{{{user}}}}"}}'
        expect: {{ status: 200 }}
        capture:
          token: {{ json: "$.token" }}
          sid: {{ header: set-cookie, regex: "sid=([^;]+)" }}
      - name: account
        get: "/account?n={{{{n}}}}&sid={{{{sid}}}}"
        headers: {{ authorization: "Bearer {{{{token}}}}" }}
        expect: {{ status: 200, body: {{ regex: '"user":"[a-z]+"' }} }}
        think: 5ms
      - name: echo
        get: "/echo?user={{{{user}}}}&n={{{{n}}}}"
"#
    )
}

fn origin_with_users(record: bool) -> TestOrigin {
    let o = TestOrigin::with(OriginConfig {
        record,
        ..OriginConfig::loopback()
    });
    std::fs::write(o.dir.path().join("users.csv"), "user\nann\nbob\ncyd\n").unwrap();
    o
}

#[test]
fn a_login_flow_carries_its_token_over_h1_h2_and_h3() {
    let o = origin_with_users(true);
    let s = o.scenario(&session(
        &format!("{{ t: \"{}\" }}", o.https()),
        "[h1, h2, h3]",
        "{ model: closed, concurrency: 1, requests: 4, threads: 1 }",
    ));
    let out = run(&s);
    let names: Vec<&str> = s.requests.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "checkout",
            "checkout/login",
            "checkout/account",
            "checkout/echo"
        ]
    );
    for proto in ["h1", "h2", "h3"] {
        let l = lane(&out, "t", proto);
        for (i, name) in names.iter().enumerate() {
            let q = &l.stats.requests[i];
            assert_eq!(q.count, 4, "{proto} {name}: one per iteration");
            assert_eq!(q.ok, 4, "{proto} {name}: {:?}", q.error_examples);
            assert_eq!(
                q.latency.len(),
                4,
                "{proto} {name}: a latency per iteration"
            );
        }
        let total = l.stats.total();
        assert_eq!(
            total.count, 12,
            "{proto}: the flow itself is not counted twice"
        );
        assert!(
            l.stats.requests[0].latency.max() >= l.stats.requests[2].latency.max(),
            "{proto}: a flow lasts at least as long as any of its steps"
        );
    }
    // Rows in order, wrapping, on every lane; the sequence counts iterations from 1.
    let rec = o.origin().recorder().expect("recording");
    for (user, n) in [("ann", 1), ("bob", 2), ("cyd", 3), ("ann", 4)] {
        let seen = rec.mentioning(&format!("/echo?user={user}&n={n}"));
        assert_eq!(seen.len(), 3, "iteration {n} ({user}) once per protocol");
    }
    assert_eq!(
        rec.mentioning("sid=s-bob").len(),
        3,
        "the cookie's sid captured by regex"
    );
}

#[test]
fn a_capture_that_finds_nothing_fails_the_flow_with_a_reproducer_of_its_step() {
    let o = origin_with_users(false);
    let yaml = session(
        &format!("{{ t: \"{}\" }}", o.https()),
        "[h1, h2]",
        "{ model: closed, concurrency: 1, requests: 3, threads: 1 }",
    )
    .replace("json: \"$.token\"", "json: \"$.session.token\"");
    let out = run(&o.scenario(&yaml));
    for proto in ["h1", "h2"] {
        let l = lane(&out, "t", proto);
        let (flow, login, account) = (
            &l.stats.requests[0],
            &l.stats.requests[1],
            &l.stats.requests[2],
        );
        let key = (ErrorClass::Capture, "json:$.session.token".to_string());
        assert_eq!(
            flow.errors.get(&key),
            Some(&3),
            "{proto}: {:?}",
            flow.errors
        );
        assert_eq!(
            login.errors.get(&key),
            Some(&3),
            "{proto}: {:?}",
            login.errors
        );
        assert!(
            flow.error_examples[&key].contains("step `checkout/login`"),
            "{}",
            flow.error_examples[&key]
        );
        assert_eq!(account.count, 0, "{proto}: no step after a failed capture");
        let repro = flow.reproducer.as_deref().expect("a reproducer");
        assert!(repro.contains("/login"), "{repro}");
        assert!(
            repro.contains(r#"{"user":"ann"}"#),
            "the first failing iteration's values: {repro}"
        );
        assert_eq!(login.reproducer.as_deref(), Some(repro));
    }
}

#[test]
fn an_unknown_variable_is_refused_with_the_known_ones() {
    let o = origin_with_users(false);
    let yaml = session(
        &format!("{{ t: \"{}\" }}", o.https()),
        "[h1]",
        "{ model: closed, concurrency: 1, requests: 1 }",
    )
    .replace("Bearer {{token}}", "Bearer {{tokn}}");
    let err = load_str("flows.yaml", &yaml, o.dir.path(), &Overrides::default())
        .expect_err("an unknown variable")
        .to_string();
    assert!(err.contains("unknown variable `{{tokn}}`"), "{err}");
    assert!(
        err.contains("requests[0].flow[1].headers.authorization"),
        "{err}"
    );
    assert!(err.contains("known here: user, n, sid, token"), "{err}");
    // A capture is not known in its own step.
    let early = yaml
        .replace("/account?n=", "/account?t={{token}}&n=")
        .replace("post: /login", "post: /login?t={{token}}");
    let err = load_str("flows.yaml", &early, o.dir.path(), &Overrides::default())
        .expect_err("a capture used before it is taken")
        .to_string();
    assert!(err.contains("requests[0].flow[0].post"), "{err}");
}

#[test]
fn both_paths_of_a_comparison_run_the_flow_and_are_judged_per_step() {
    let o = origin_with_users(true);
    let target = |path: &str| {
        format!(
            "{{ url: \"{}\", headers: {{ x-path: {path} }} }}",
            o.https()
        )
    };
    let yaml = session(
        &format!("{{ cand: {}, base: {} }}", target("cand"), target("base")),
        "[h1]",
        "{ rate: 40, duration: 2s, connections: 2 }",
    ) + "compare: { candidate: cand, baseline: base }\n";
    let (_, r, out) = run_saved(&o, "compare", &yaml);
    // The same data on both paths: iteration n takes row n - 1 (wrapping) on each.
    let users = ["ann", "bob", "cyd"];
    for path in ["cand", "base"] {
        let seen: Vec<(String, usize)> = o
            .origin()
            .recorder()
            .unwrap()
            .mentioning("/echo?user=")
            .into_iter()
            .filter(|q| q.header_values("x-path") == [path.as_bytes()])
            .map(|q| {
                let query = q.target.split_once('?').unwrap().1.to_string();
                let (user, n) = query.split_once("&n=").unwrap();
                (
                    user.trim_start_matches("user=").to_string(),
                    n.parse().unwrap(),
                )
            })
            .collect();
        assert!(seen.len() >= 10, "{path}: {seen:?}");
        for (user, n) in &seen {
            assert_eq!(user, users[(n - 1) % 3], "{path}: iteration {n}");
        }
        assert!(seen.iter().any(|(_, n)| *n == 1), "{path} starts at row 1");
    }
    for l in &r.lanes {
        let names: Vec<(&str, bool)> = l
            .requests
            .iter()
            .map(|q| (q.name.as_str(), q.flow))
            .collect();
        assert_eq!(
            names,
            [
                ("checkout", true),
                ("checkout/login", false),
                ("checkout/account", false),
                ("checkout/echo", false)
            ]
        );
        assert!(l.requests.iter().all(|q| q.summary.errors == 0), "{out}");
    }
    let judged: std::collections::BTreeSet<String> = r
        .comparison
        .as_ref()
        .expect("a comparison")
        .verdicts
        .iter()
        .filter_map(|v| v.request.clone())
        .collect();
    for name in [
        "checkout",
        "checkout/login",
        "checkout/account",
        "checkout/echo",
    ] {
        assert!(judged.contains(name), "{name} judged: {judged:?}");
    }
}

#[test]
fn a_failed_step_reproduces_with_its_values_and_its_captured_token_redacted() {
    let o = origin_with_users(false);
    let yaml = session(
        &format!("{{ t: \"{}\" }}", o.https()),
        "[h1]",
        "{ model: closed, concurrency: 1, requests: 2, threads: 1 }",
    )
    .replace(
        "expect: { status: 200, body:",
        "expect: { status: 201, body:",
    );
    let (code, r, out) = run_saved(&o, "failed-step", &yaml);
    assert_eq!(code, Some(1), "failed requests fail the run: {out}");
    let l = &r.lanes[0];
    let account = l
        .requests
        .iter()
        .find(|q| q.name == "checkout/account")
        .unwrap();
    assert_eq!(account.errors[0].class, ErrorClass::Status, "{out}");
    let repro = &account.reproducer;
    assert!(repro.contains("/account?n=1&sid=s-ann"), "{repro}");
    assert!(repro.contains("authorization: <redacted>"), "{repro}");
    assert!(!repro.contains("tok-ann"), "{repro}");
    let echo = l
        .requests
        .iter()
        .find(|q| q.name == "checkout/echo")
        .unwrap();
    assert_eq!(echo.summary.count, 0, "no step after a failed one");
}

#[test]
fn a_captured_value_that_cannot_go_in_a_header_fails_the_step_before_it_is_sent() {
    let o = origin_with_users(true);
    let s = o.scenario(&format!(
        r#"
name: bad-value
targets: {{ t: "{}" }}
tls: {{ ca: ca.pem }}
load: {{ model: closed, concurrency: 1, requests: 2, threads: 1 }}
requests:
  - name: f
    flow:
      - name: take
        post: /echo
        body: "two\nlines"
        capture: {{ v: {{ json: "$.body" }} }}
      - name: use
        get: /echo?marker=never-sent
        headers: {{ x-value: "{{{{v}}}}" }}
"#,
        o.https()
    ));
    let out = run(&s);
    let l = lane(&out, "t", "h1");
    let key = (ErrorClass::Capture, "template:header".to_string());
    assert_eq!(
        l.stats.requests[2].errors.get(&key),
        Some(&2),
        "{:?}",
        l.stats.requests[2].errors
    );
    assert_eq!(l.stats.requests[0].errors.get(&key), Some(&2));
    assert!(
        o.origin()
            .recorder()
            .unwrap()
            .mentioning("never-sent")
            .is_empty(),
        "the step was not sent"
    );
}
