//! The load path never invents errors. A server that ends connections gracefully (GOAWAY,
//! `Connection: close`, a per-connection request limit) costs no request: what it did not
//! process is retried once on a fresh connection and counted as retried. Errors say who raised
//! them (`h2:rst:…`/`h2:goaway:…` only for frames the server sent, `h2:local:…` for our own
//! stack's), a server that allows no streams gets its own code rather than a timeout, floods are
//! flagged, and kept bodies are capped. Against small servers written for each case, and the
//! embedded origin with a per-connection limit of its own.

mod common;

use common::hostile_h2::{HostileH2, Mode};
use common::{lane, run, TestOrigin};
use gauntlet::engine::RunOutcome;
use gauntlet::origin::OriginConfig;
use gauntlet::record::errors::ErrorClass;
use gauntlet::record::stats::RequestStats;
use gauntlet::scenario::{load_str, Overrides};

/// Runs `body` (everything after the target) against one h2c target named `t`.
fn run_h2c(url: &str, body: &str) -> RunOutcome {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!("name: hostile\ntargets:\n  t: \"{url}\"\nprotocols: [h2]\n{body}");
    let s = load_str("hostile.yaml", &yaml, dir.path(), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    run(&s)
}

/// The (class, code) of every error of `t`, once each.
fn codes(t: &RequestStats) -> Vec<(ErrorClass, String)> {
    t.errors.keys().cloned().collect()
}

const CLOSED: &str = "load: { model: closed, concurrency: 16, connections: 2, requests: 600 }\nrequests: [ { get: / } ]\n";

#[test]
fn a_graceful_goaway_costs_no_request() {
    let srv = HostileH2::start(Mode::GracefulAfter(25));
    let out = run_h2c(&srv.url(), CLOSED);
    let l = &lane(&out, "t", "h2").stats;
    let t = l.total();
    assert_eq!(t.count, 600);
    assert_eq!(t.ok, 600, "{:?} {:?}", t.errors, t.error_examples);
    // 600 requests at 25 per connection: at least 23 connections ended by the server.
    assert!(l.peer_frames.goaway >= 23, "{:?}", l.peer_frames);
    // At least 24 connections, of which all but each cell's last were replaced: the last of a
    // cell that ends exactly at its 25th request is ended by the server but never replaced.
    assert!(l.recycled >= 22, "recycled {}", l.recycled);
    assert!(l.connections_opened >= 24);
}

#[test]
fn requests_above_the_goaway_s_last_stream_are_retried_on_a_fresh_connection() {
    // The first connection holds 8 requests, then says it processed only the first.
    let srv = HostileH2::start(Mode::GoawayBelowInFlight(8));
    let out = run_h2c(
        &srv.url(),
        "load: { model: closed, concurrency: 8, connections: 1, requests: 100 }\nrequests: [ { get: / } ]\n",
    );
    let l = &lane(&out, "t", "h2").stats;
    let t = l.total();
    assert_eq!(t.count, 100);
    assert_eq!(t.ok, 100, "{:?} {:?}", t.errors, t.error_examples);
    // The first connection answered one request and turned 7 away unprocessed.
    assert!(t.retried >= 7, "retried {}", t.retried);
    assert!(l.recycled >= 1 && l.peer_frames.goaway >= 1);
}

#[test]
fn refused_streams_are_retried_once_and_counted() {
    let srv = HostileH2::start(Mode::RefuseOnFirstConnection(3));
    let out = run_h2c(
        &srv.url(),
        "load: { model: closed, concurrency: 4, connections: 1, requests: 100 }\nrequests: [ { get: / } ]\n",
    );
    let l = &lane(&out, "t", "h2").stats;
    let t = l.total();
    assert_eq!(t.ok, 100, "{:?} {:?}", t.errors, t.error_examples);
    assert!(t.retried >= 1, "retried {}", t.retried);
    assert!(l.peer_frames.rst_stream >= 1, "{:?}", l.peer_frames);
    // The refusing connection was replaced: the retry ran on a fresh one.
    assert!(l.recycled >= 1 && l.connections_opened >= 2);
}

#[test]
fn zero_allowed_streams_is_its_own_error_not_a_timeout() {
    let srv = HostileH2::start(Mode::ZeroStreams);
    let out = run_h2c(
        &srv.url(),
        "timeout: 500ms\nload: { rate: 10, duration: 1s, connections: 1 }\nrequests: [ { get: / } ]\n",
    );
    let l = &lane(&out, "t", "h2").stats;
    let t = l.total();
    assert!(t.count >= 5);
    // A request sent before the server's SETTINGS arrived may be served (streams are
    // unlimited until then); every other one fails with the code that says why.
    assert!(t.ok <= 1, "ok {}", t.ok);
    assert_eq!(
        codes(&t),
        [(ErrorClass::Protocol, "h2:no-stream-credit".to_string())]
    );
    assert_eq!(l.peer_limits.max_concurrent_streams, Some(0));
}

#[test]
fn a_window_that_never_opens_is_its_own_error_for_a_request_with_a_body() {
    let srv = HostileH2::start(Mode::ZeroWindow);
    let out = run_h2c(
        &srv.url(),
        "timeout: 500ms\nload: { rate: 10, duration: 1s, connections: 1 }\nrequests: [ { post: /, body: hello } ]\n",
    );
    let l = &lane(&out, "t", "h2").stats;
    let t = l.total();
    assert!(t.count >= 5);
    assert_eq!(t.ok, 0);
    assert_eq!(
        codes(&t),
        [(ErrorClass::Protocol, "h2:no-flow-credit".to_string())],
        "{:?}",
        t.error_examples
    );
    assert_eq!(l.peer_limits.initial_window_size, Some(0));
    assert_eq!(l.peer_frames.window_update, 0);
}

#[test]
fn a_content_length_that_lies_is_our_stack_s_error_not_a_reset_by_the_server() {
    let srv = HostileH2::start(Mode::ContentLengthMismatch);
    let out = run_h2c(
        &srv.url(),
        "load: { model: closed, concurrency: 2, requests: 20 }\nrequests: [ { get: / } ]\n",
    );
    let l = &lane(&out, "t", "h2").stats;
    let t = l.total();
    assert_eq!(t.count, 20);
    assert_eq!(
        codes(&t),
        [(
            ErrorClass::Protocol,
            "h2:local:content-length-mismatch".to_string()
        )]
    );
    // The server sent no RST_STREAM and no GOAWAY: nothing may say it did.
    assert_eq!(l.peer_frames.rst_stream, 0);
    assert_eq!(l.peer_frames.goaway, 0);
    assert!(t.errors.keys().all(|(_, c)| !c.starts_with("h2:rst:")));
}

#[test]
fn a_204_with_content_length_is_a_protocol_error_not_a_passing_204() {
    let srv = HostileH2::start(Mode::NoContentWithLength);
    let out = run_h2c(
        &srv.url(),
        "load: { model: closed, concurrency: 2, requests: 20 }\nrequests: [ { get: /, expect: { status: 204 } } ]\n",
    );
    let t = lane(&out, "t", "h2").stats.total();
    assert_eq!(t.count, 20);
    assert_eq!(t.ok, 0, "{:?}", t.errors);
    assert!(
        t.errors.keys().all(|(c, _)| *c == ErrorClass::Protocol),
        "{:?}",
        t.errors
    );
}

/// The reference origin keeps the rules it holds servers to: no Content-Length on a 204, no
/// content on a 304 or an answer to HEAD, on every protocol, checked by the same strict client.
#[test]
fn the_embedded_origin_answers_bodiless_statuses_by_the_rules_on_every_protocol() {
    let o = TestOrigin::start();
    let s = o.scenario(&format!(
        "name: bodiless\ntargets: {{ t: \"{}\" }}\ntls: {{ ca: ca.pem }}\nprotocols: [h1, h2, h3]\nload: {{ model: closed, concurrency: 2, requests: 30 }}\nrequests:\n  - {{ get: /status/204, expect: {{ status: 204 }} }}\n  - {{ get: /status/304, expect: {{ status: 304 }} }}\n  - {{ head: /bytes/100, expect: {{ status: 200 }} }}\n",
        o.https()
    ));
    let out = run(&s);
    assert_eq!(out.lanes.len(), 3);
    for l in &out.lanes {
        let t = l.stats.total();
        assert_eq!(t.count, 30, "{}", l.protocol.as_str());
        assert_eq!(t.ok, 30, "{}: {:?}", l.protocol.as_str(), t.error_examples);
    }
}

#[test]
fn a_large_valid_header_block_is_our_limit_and_the_limit_is_a_setting() {
    let srv = HostileH2::start(Mode::LargeHeaders(1 << 20));
    let load = "load: { model: closed, concurrency: 1, requests: 3 }\nrequests: [ { get: / } ]\n";
    let out = run_h2c(&srv.url(), load);
    let t = lane(&out, "t", "h2").stats.total();
    assert_eq!(t.count, 3);
    assert_eq!(
        codes(&t),
        [(
            ErrorClass::Protocol,
            "h2:local:header-list-too-large".to_string()
        )],
        "{:?}",
        t.error_examples
    );
    let raised = run_h2c(
        &srv.url(),
        &format!("limits: {{ max_header_list_size: 2MiB }}\n{load}"),
    );
    let t = lane(&raised, "t", "h2").stats.total();
    assert_eq!(t.ok, 3, "{:?}", t.error_examples);
}

#[test]
fn settings_and_ping_floods_pass_but_are_flagged_in_every_summary() {
    for (mode, kind) in [
        (Mode::SettingsFlood(50), "SETTINGS"),
        (Mode::PingFlood(50), "PING"),
    ] {
        let srv = HostileH2::start(mode);
        let o = TestOrigin::start();
        let path = o.write(
            "flood.yaml",
            &format!(
                "name: flood\ntargets:\n  t: \"{}\"\nprotocols: [h2]\nload: {{ rate: 200, duration: 2s, connections: 1 }}\nrequests: [ {{ get: / }} ]\n",
                srv.url()
            ),
        );
        let dir = o.dir.path().join(format!("out-{kind}"));
        let run = common::gauntlet(
            &[
                "run",
                path.to_str().unwrap(),
                "--quiet",
                "--out",
                dir.to_str().unwrap(),
            ],
            o.dir.path(),
        );
        let text = common::text(&run);
        assert_eq!(run.status.code(), Some(0), "{text}");
        assert!(
            text.contains(&format!("warning: t h2: the server sent {kind} frames")),
            "{text}"
        );
        let r = gauntlet::model::results::read(&dir.join("results.json")).unwrap();
        let c = &r.lanes[0].connections;
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let n = if kind == "PING" {
            c.control_frames.ping
        } else {
            c.control_frames.settings
        };
        assert!(n >= 10_000, "{kind} {n}");
        let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
        assert!(
            md.contains(&format!("the server sent {kind} frames")),
            "{md}"
        );
    }
}

#[test]
fn no_h3_stream_credit_is_its_own_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let srv = rt.block_on(async { common::hostile_h3::NoStreamsH3::start() });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &srv.ca_pem).unwrap();
    let yaml = format!(
        "name: no-credit\ntargets:\n  t: \"https://localhost:{}\"\ntls: {{ ca: ca.pem }}\nprotocols: [h3]\ntimeout: 500ms\nload: {{ rate: 10, duration: 1s, connections: 1 }}\nrequests: [ {{ get: / }} ]\n",
        srv.addr.port()
    );
    let s = load_str("h3.yaml", &yaml, dir.path(), &Overrides::default()).unwrap();
    let out = run(&s);
    let t = lane(&out, "t", "h3").stats.total();
    assert!(t.count >= 5);
    assert_eq!(
        codes(&t),
        [(ErrorClass::Protocol, "h3:no-stream-credit".to_string())],
        "{:?}",
        t.error_examples
    );
    drop(srv);
}

#[test]
fn the_origin_s_own_per_connection_limit_recycles_every_protocol_without_errors() {
    // nginx's default is 1,000 requests a connection; 100 makes every connection end often.
    let o = TestOrigin::with(OriginConfig {
        max_requests_per_connection: Some(100),
        ..OriginConfig::loopback()
    });
    // HTTP/1.1 has one request in flight per connection: 8 of them carry ~200 requests each.
    for (url, protocols, concurrency) in [
        (o.https(), "[h2, h3]", 64),
        (o.h2c(), "[h2]", 64),
        (o.https(), "[h1]", 8),
        (o.http(), "[h1]", 8),
    ] {
        let s = o.scenario(&format!(
            "name: recycling\ntargets:\n  t: \"{url}\"\ntls: {{ ca: ca.pem }}\nprotocols: {protocols}\nload: {{ model: closed, concurrency: {concurrency}, connections: 2, duration: 2s }}\nrequests: [ {{ get: / }} ]\n"
        ));
        let out = run(&s);
        for l in &out.lanes {
            let t = l.stats.total();
            let who = format!("{url} {}", l.protocol.as_str());
            assert!(t.count >= 500, "{who}: {}", t.count);
            assert_eq!(
                t.ok, t.count,
                "{who}: {:?} {:?}",
                t.errors, t.error_examples
            );
            // 100 requests a connection: the server ended many, and the run said so.
            assert!(
                l.stats.recycled >= 3,
                "{who}: recycled {}",
                l.stats.recycled
            );
            assert!(
                l.stats.peer_frames.goaway >= 3,
                "{who}: {:?}",
                l.stats.peer_frames
            );
        }
    }
}

#[test]
fn a_body_past_the_cap_fails_its_expectation_and_the_cap_is_a_setting() {
    let o = TestOrigin::start();
    let yaml = |max: &str| {
        format!(
            "name: cap\ntargets:\n  t: \"{}\"\nload: {{ model: closed, concurrency: 2, requests: 6 }}\nrequests:\n  - {{ get: /bytes/2000000, expect: {{ body: {{ contains: xyz }} }}{max} }}\n",
            o.http()
        )
    };
    let out = run(&o.scenario(&yaml("")));
    let t = lane(&out, "t", "h1").stats.total();
    assert_eq!(t.count, 6);
    assert_eq!(
        codes(&t),
        [(ErrorClass::Expectation, "body:over-cap".to_string())]
    );
    let out = run(&o.scenario(&yaml(", max_body: 4MiB")));
    let t = lane(&out, "t", "h1").stats.total();
    assert_eq!(t.ok, 6, "{:?}", t.error_examples);
}
