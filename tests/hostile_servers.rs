//! Hostile servers on every protocol, one test each (issue 13): over HTTP/2 GOAWAY storms,
//! RST_STREAM on every stream, a header block continued forever, DATA forever; over HTTP/3 a
//! server that stops answering, resets every stream, closes with an application error, sends a
//! huge header section, loses its connections (a stateless reset) or speaks no common version;
//! over TLS an alert mid-handshake, an expired certificate, a wrong name, a client certificate
//! refused. Each run ends within its bounds (a short timeout, a bounded count), every failed
//! request is counted under one class and a short stable code, endless responses end at a limit
//! of the client's rather than in its memory, and a healthy target in the same run is untouched.
//! (A window that never opens and zero allowed streams are in `load_path_errors.rs`.)

mod common;

use common::hostile_h2::{HostileH2, Mode};
use common::hostile_h3::{H3Mode, RawH3};
use common::hostile_tls::{alert_server, Fault, FaultyTls};
use common::{lane, run, TestOrigin};
use gauntlet::engine::RunOutcome;
use gauntlet::record::errors::ErrorClass;
use gauntlet::record::stats::RequestStats;

/// A run against the hostile target `bad` and the healthy embedded origin `good` side by side.
/// `extra_ca` is trusted besides the origin's CA; `body` holds everything after `protocols`.
fn run_beside(
    o: &TestOrigin,
    bad: &str,
    good: &str,
    proto: &str,
    extra_ca: &str,
    body: &str,
) -> RunOutcome {
    std::fs::write(
        o.dir.path().join("all.pem"),
        format!("{}{extra_ca}", o.origin().ca_pem()),
    )
    .unwrap();
    run(&o.scenario(&format!(
        "name: hostile\ntargets:\n  bad: \"{bad}\"\n  good: \"{good}\"\ntls: {{ ca: all.pem }}\nprotocols: [{proto}]\n{body}"
    )))
}

/// Checks that `bad` failed every request (or `failed` of them) under the one (class, code),
/// that `good` passed all of its own, and returns `bad`'s totals.
fn only_error(out: &RunOutcome, proto: &str, class: ErrorClass, code: &str) -> RequestStats {
    let bad = lane(out, "bad", proto).stats.total();
    let keys: Vec<_> = bad.errors.keys().cloned().collect();
    assert_eq!(
        keys,
        [(class, code.to_string())],
        "{:?}",
        bad.error_examples
    );
    assert!(bad.count > 0);
    let good = lane(out, "good", proto).stats.total();
    assert!(good.count > 0);
    assert_eq!(
        good.ok, good.count,
        "healthy target: {:?}",
        good.error_examples
    );
    bad
}

/// How many requests failed, under any code.
fn failed(t: &RequestStats) -> u64 {
    t.errors.values().sum()
}

const FEW: &str = "timeout: 1s\nload: { model: closed, concurrency: 2, requests: 10 }\nrequests: [ { get: / } ]\n";

// ---- HTTP/2 -------------------------------------------------------------------------------

fn h2(mode: Mode, body: &str) -> (RunOutcome, HostileH2) {
    let srv = HostileH2::start(mode);
    let o = TestOrigin::start();
    let out = run_beside(&o, &srv.url(), &o.h2c(), "h2", "", body);
    (out, srv)
}

#[test]
fn a_falling_goaway_storm_leaves_the_request_unprocessed_and_retried_once() {
    let (out, _srv) = h2(
        Mode::GoawayStorm {
            n: 200,
            rising: false,
        },
        FEW,
    );
    let t = only_error(&out, "h2", ErrorClass::Protocol, "h2:goaway:NO_ERROR");
    assert_eq!(t.ok, 0);
    assert_eq!(failed(&t), t.count);
    // Every request was below no GOAWAY: each was retried once on a fresh connection.
    assert_eq!(t.retried, t.count, "retried {}", t.retried);
}

#[test]
fn a_rising_goaway_storm_is_the_server_s_protocol_violation() {
    let (out, _srv) = h2(
        Mode::GoawayStorm {
            n: 200,
            rising: true,
        },
        FEW,
    );
    let t = only_error(
        &out,
        "h2",
        ErrorClass::Protocol,
        "h2:local:protocol-violation",
    );
    assert_eq!(t.ok, 0);
}

#[test]
fn rst_stream_on_every_other_stream_fails_those_and_only_those() {
    let (out, _srv) = h2(
        Mode::RstEvery(2),
        "timeout: 1s\nload: { model: closed, concurrency: 1, requests: 20 }\nrequests: [ { get: / } ]\n",
    );
    let t = only_error(&out, "h2", ErrorClass::Protocol, "h2:rst:INTERNAL_ERROR");
    assert_eq!(t.count, 20);
    assert_eq!((t.ok, failed(&t)), (10, 10), "{:?}", t.errors);
}

#[test]
fn rst_stream_on_every_stream_fails_every_request() {
    let (out, _srv) = h2(Mode::RstEvery(1), FEW);
    let t = only_error(&out, "h2", ErrorClass::Protocol, "h2:rst:INTERNAL_ERROR");
    assert_eq!((t.ok, failed(&t)), (0, t.count));
}

#[test]
fn an_endless_continuation_is_cut_by_our_stack_s_flood_limit() {
    let (out, _srv) = h2(Mode::EndlessContinuation, FEW);
    let t = only_error(&out, "h2", ErrorClass::Protocol, "h2:local:flood");
    assert_eq!(t.ok, 0);
}

#[test]
fn data_forever_ends_at_the_request_timeout_when_nothing_keeps_the_body() {
    let (out, _srv) = h2(
        Mode::DataForever,
        "timeout: 1s\nload: { model: closed, concurrency: 2, requests: 4 }\nrequests: [ { get: / } ]\n",
    );
    let t = only_error(&out, "h2", ErrorClass::Timeout, "request");
    assert_eq!((t.ok, failed(&t)), (0, 4));
}

#[test]
fn data_forever_ends_at_the_body_cap_when_an_expectation_keeps_the_body() {
    let (out, _srv) = h2(
        Mode::DataForever,
        "timeout: 5s\nload: { model: closed, concurrency: 2, requests: 4 }\nrequests: [ { get: /, max_body: 256KiB, expect: { body: { contains: gauntlet } } } ]\n",
    );
    let t = only_error(&out, "h2", ErrorClass::Expectation, "body:over-cap");
    assert_eq!((t.ok, failed(&t)), (0, 4));
}

// ---- HTTP/3 -------------------------------------------------------------------------------

/// Runs `body` over HTTP/3 against a hostile server started on `rt`, beside the origin.
fn h3_run(rt: &tokio::runtime::Runtime, port: u16, ca: &str, body: &str) -> RunOutcome {
    let _guard = rt.enter();
    let o = TestOrigin::start();
    run_beside(
        &o,
        &format!("https://localhost:{port}"),
        &o.https(),
        "h3",
        ca,
        body,
    )
}

fn raw_h3(mode: H3Mode, body: &str) -> RunOutcome {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let srv = rt.block_on(async { RawH3::start(mode) });
    let out = h3_run(&rt, srv.addr.port(), &srv.ca_pem, body);
    drop(srv);
    out
}

#[test]
fn an_h3_server_that_stops_answering_is_a_request_timeout() {
    let out = raw_h3(H3Mode::Silent, FEW);
    let t = only_error(&out, "h3", ErrorClass::Timeout, "request");
    assert_eq!((t.ok, failed(&t)), (0, t.count));
}

#[test]
fn an_h3_server_that_resets_every_stream_is_counted_by_its_code() {
    let out = raw_h3(H3Mode::ResetEvery(0x102), FEW);
    let t = only_error(
        &out,
        "h3",
        ErrorClass::Protocol,
        "h3:reset:H3_INTERNAL_ERROR",
    );
    assert_eq!((t.ok, failed(&t)), (0, t.count));
}

#[test]
fn h3_request_rejected_on_every_stream_is_retried_once_then_counted() {
    let out = raw_h3(H3Mode::ResetEvery(0x10b), FEW);
    let t = only_error(
        &out,
        "h3",
        ErrorClass::Protocol,
        "h3:reset:H3_REQUEST_REJECTED",
    );
    assert_eq!((t.ok, failed(&t)), (0, t.count));
    assert_eq!(t.retried, t.count);
}

#[test]
fn an_h3_close_with_an_application_error_is_counted_by_its_code() {
    let out = raw_h3(H3Mode::CloseWith(0x102), FEW);
    let t = only_error(
        &out,
        "h3",
        ErrorClass::Protocol,
        "h3:closed:H3_INTERNAL_ERROR",
    );
    assert_eq!((t.ok, failed(&t)), (0, t.count));
}

#[test]
fn a_huge_h3_header_section_is_our_limit() {
    let out = raw_h3(H3Mode::HugeHeaders(1 << 20), FEW);
    let t = only_error(
        &out,
        "h3",
        ErrorClass::Protocol,
        "h3:local:header-list-too-large",
    );
    assert_eq!((t.ok, failed(&t)), (0, t.count));
}

#[test]
fn a_stateless_reset_fails_the_request_in_flight_and_the_run_reconnects() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let srv = rt.block_on(async { common::hostile_quic::ResettingH3::start() });
    // A body past QUIC's initial congestion window: see `ResettingH3`.
    let body = "b".repeat(200_000);
    let out = h3_run(
        &rt,
        srv.addr.port(),
        &srv.ca_pem,
        &format!("timeout: 2s\nload: {{ model: closed, concurrency: 1, connections: 1, requests: 10 }}\nrequests: [ {{ post: /, body: {body} }} ]\n"),
    );
    drop(srv);
    let t = only_error(&out, "h3", ErrorClass::Reset, "quic:stateless-reset");
    assert_eq!(t.count, 10);
    // The first request was answered; the second's body drew the reset; the rest ran on a new
    // connection to the server that took the first one's place.
    assert_eq!((t.ok, failed(&t)), (9, 1), "{:?}", t.error_examples);
}

#[test]
fn a_version_negotiation_with_no_common_version_is_its_own_error() {
    let addr = common::hostile_quic::version_negotiator();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let out = h3_run(&rt, addr.port(), "", FEW);
    let t = only_error(&out, "h3", ErrorClass::Protocol, "quic:version-negotiation");
    assert_eq!((t.ok, failed(&t)), (0, t.count));
}

// ---- TLS ----------------------------------------------------------------------------------

/// Runs `FEW` over HTTP/1.1 with TLS against the hostile server, beside the origin's cleartext
/// port; `tls_extra` adds to the scenario's `tls` block.
fn tls_run(port: u16, ca: &str, tls_extra: &str) -> (RunOutcome, TestOrigin) {
    let o = TestOrigin::start();
    // The alert server has no certificate: any CA will do.
    let ca = if ca.is_empty() {
        o.origin().ca_pem()
    } else {
        ca
    };
    std::fs::write(o.dir.path().join("hostile.pem"), ca).unwrap();
    let out = run(&o.scenario(&format!(
        "name: hostile\ntargets:\n  bad: \"https://localhost:{port}\"\n  good: \"{}\"\ntls: {{ ca: hostile.pem{tls_extra} }}\nprotocols: [h1]\n{FEW}",
        o.http()
    )));
    (out, o)
}

#[test]
fn an_alert_mid_handshake_is_a_tls_error_named_by_the_alert() {
    let (out, _o) = tls_run(alert_server().port(), "", "");
    let t = only_error(&out, "h1", ErrorClass::Tls, "tls:alert:handshake-failure");
    assert_eq!((t.ok, failed(&t)), (0, t.count));
}

fn faulty(fault: Fault, tls_extra: &str, code: &str) {
    let srv = FaultyTls::start(fault);
    let (out, _o) = tls_run(srv.addr.port(), &srv.ca_pem, tls_extra);
    let t = only_error(&out, "h1", ErrorClass::Tls, code);
    assert_eq!((t.ok, failed(&t)), (0, t.count));
    // The code is short and stable: no names, dates or Debug dumps in it.
    assert!(t
        .errors
        .keys()
        .all(|(_, c)| c.len() < 40 && !c.contains(['{', '(', ' '])));
}

#[test]
fn an_expired_certificate_has_a_short_stable_code() {
    faulty(Fault::Expired, "", "certificate:expired");
}

#[test]
fn a_certificate_for_another_name_has_a_short_stable_code() {
    faulty(Fault::WrongName, "", "certificate:name-mismatch");
}

#[test]
fn a_server_demanding_a_client_certificate_refuses_a_client_without_one() {
    faulty(
        Fault::RequiresClientCert,
        "",
        "tls:alert:certificate-required",
    );
}

#[test]
fn a_server_demanding_a_client_certificate_refuses_one_from_a_ca_it_does_not_trust() {
    let set = gauntlet::origin::certs::generate(&[]).unwrap();
    let srv = FaultyTls::start(Fault::RequiresClientCert);
    let o = TestOrigin::start();
    let p = o.dir.path();
    std::fs::write(p.join("client.pem"), &set.client_cert_pem).unwrap();
    std::fs::write(p.join("client.key"), &set.client_key_pem).unwrap();
    std::fs::write(p.join("hostile.pem"), &srv.ca_pem).unwrap();
    let out = run(&o.scenario(&format!(
        "name: hostile\ntargets:\n  bad: \"https://localhost:{}\"\n  good: \"{}\"\ntls: {{ ca: hostile.pem, client_cert: client.pem, client_key: client.key }}\nprotocols: [h1]\n{FEW}",
        srv.addr.port(),
        o.http()
    )));
    let t = only_error(&out, "h1", ErrorClass::Tls, "tls:alert:unknown-ca");
    assert_eq!((t.ok, failed(&t)), (0, t.count));
}
