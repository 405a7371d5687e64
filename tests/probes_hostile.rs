//! Conformance against servers built to fool it: one that accepts and never answers, one that
//! resets, one that sends half a head, one whose head never ends, one that answers a byte per
//! second, and a cleartext HTTP/1.1 server asked for HTTP/2. None of them may yield a PASS: the
//! canary before the probes finds the path unable to serve, the path is an `error`, and the run
//! exits 2, quickly, with the reason on the console.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{gauntlet, text};
use gauntlet::model::conformance::Rfc;
use gauntlet::model::results::read;

/// How a hostile server treats each connection, after reading what the client sends first.
#[derive(Clone, Copy)]
enum Style {
    /// Reads and never answers.
    Silent,
    /// Reads, then resets the connection (SO_LINGER 0).
    Reset,
    /// Sends the first half of a response head, then waits.
    HalfHead,
    /// Sends a status line, then header fields forever (bounded by the test's lifetime).
    EndlessHead,
    /// Sends a well-formed response one byte per second.
    Slowloris,
    /// Answers everything with an HTTP/1.1 response, as a server that speaks no HTTP/2 does.
    Http1Only,
}

fn serve(mut s: TcpStream, style: Style) {
    let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
    let mut buf = [0u8; 4096];
    let _ = s.read(&mut buf);
    let end = Instant::now() + Duration::from_secs(30);
    match style {
        Style::Silent => {
            while Instant::now() < end && s.read(&mut buf).map(|n| n > 0).unwrap_or(true) {}
        }
        Style::Reset => {
            let sock = socket2::SockRef::from(&s);
            let _ = sock.set_linger(Some(Duration::ZERO));
        }
        Style::HalfHead => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-");
            std::thread::sleep(Duration::from_secs(30));
        }
        Style::EndlessHead => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
            while Instant::now() < end && s.write_all(b"X-More: yes\r\n").is_ok() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Style::Slowloris => {
            for b in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" {
                if Instant::now() > end || s.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Style::Http1Only => {
            let _ = s.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    }
}

/// A server of `style` on a loopback port; it lives as long as the test process.
fn hostile(style: Style) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s, style));
        }
    });
    port
}

/// Runs `gauntlet conformance` against the server on `port` with `suite`; returns the exit
/// code, the console and the results file.
fn probe(port: u16, suite: &str) -> (Option<i32>, String, gauntlet::model::results::ResultsFile) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    let o = gauntlet(
        &[
            "conformance",
            "--target",
            &format!("http://127.0.0.1:{port}"),
            "--suite",
            suite,
            "--timeout",
            "2s",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let r = read(&Path::new(&out).join("results.json")).unwrap();
    (o.status.code(), text(&o), r)
}

fn assert_no_pass(style: Style, suite: &str, reason: &str) {
    let started = Instant::now();
    let (code, console, r) = probe(hostile(style), suite);
    let c = r.conformance.as_ref().unwrap();
    let path = &c.paths[0];
    assert_eq!(code, Some(2), "{console}");
    assert!(!r.verdict.passed, "{console}");
    let err = path.error.as_deref().unwrap_or_default();
    assert!(err.contains(reason), "path error `{err}`\n{console}");
    assert!(console.contains(reason), "{console}");
    // Nothing was judged on a path that never served: every probe that could run is an error,
    // with the canary's reason, and none passed.
    assert_eq!(path.judged(), 0, "{console}");
    assert!(path.count(Rfc::Error) > 0, "{console}");
    for p in path.probes.iter().filter(|p| p.verdict == Rfc::Error) {
        assert!(p.why.contains(reason), "{}: {}", p.id, p.why);
    }
    // One canary's timeout decides it, not one timeout per probe.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_server_that_never_answers_is_an_error_not_a_pass() {
    assert_no_pass(Style::Silent, "h1", "no answer to a plain HTTP/1.1 request");
}

#[test]
fn a_server_that_resets_is_an_error_not_a_pass() {
    assert_no_pass(Style::Reset, "h1", "without an answer");
}

#[test]
fn half_a_head_is_an_error_not_a_pass() {
    assert_no_pass(Style::HalfHead, "h1", "no complete answer");
}

#[test]
fn an_endless_head_is_an_error_not_a_pass() {
    assert_no_pass(Style::EndlessHead, "h1", "no complete answer");
}

#[test]
fn a_byte_per_second_is_an_error_not_a_pass() {
    assert_no_pass(Style::Slowloris, "h1", "no complete answer");
}

#[test]
fn http2_probes_against_a_server_without_http2_are_an_error() {
    assert_no_pass(Style::Http1Only, "h2", "does not speak HTTP/2");
}

#[test]
fn a_closed_port_is_an_error_at_once() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, console, r) = probe(port, "h1,h2");
    assert_eq!(code, Some(2), "{console}");
    let e = r.conformance.unwrap().paths[0].error.clone().unwrap();
    assert!(e.contains("canary"), "{e}");
}

/// A proxy with one upstream connection shared by every client, which forwards a GET's head
/// and drops its body: the origin then reads the next client's request as that body, a
/// cross-client desync. Clients are served one at a time; the upstream is reopened when it fails.
fn pooled_body_dropping_proxy(upstream: std::net::SocketAddr) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut up: Option<TcpStream> = None;
        for mut c in l.incoming().flatten() {
            let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut chunk) {
                    Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => break,
                }
            }
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let cl: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + cl {
                match c.read(&mut chunk) {
                    Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => break,
                }
            }
            // The CL.0 mistake, on a shared connection: a GET's body is thrown away while its
            // Content-Length goes on; other bodies are forwarded.
            let send = if head.starts_with("get ") {
                buf[..end + 4].to_vec()
            } else {
                buf.clone()
            };
            for _ in 0..2 {
                let u = match up.as_mut() {
                    Some(u) => u,
                    None => match TcpStream::connect(upstream) {
                        Ok(u) => up.insert(u),
                        Err(_) => break,
                    },
                };
                let _ = u.set_read_timeout(Some(Duration::from_secs(2)));
                let mut answer = Vec::new();
                // A connection that is closed is reopened; one that is only slow is kept, and
                // what it still owes goes to the next client.
                let alive = u.write_all(&send).is_ok()
                    && loop {
                        match u.read(&mut chunk) {
                            Ok(n) if n > 0 => {
                                answer.extend_from_slice(&chunk[..n]);
                                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                                    break true;
                                }
                            }
                            Ok(_) => break false,
                            Err(_) => break true,
                        }
                    };
                if !alive {
                    up = None;
                    continue;
                }
                let _ = c.write_all(&answer);
                break;
            }
        }
    });
    port
}

/// The canary after a probe catches a cross-client desync that the probe's own judge cannot see:
/// the probe that left the shared upstream connection waiting for a body is failed as a desync,
/// with the canary's evidence, and the origin's connections are ended so the run goes on clean.
#[test]
fn a_cross_client_desync_is_caught_by_the_canary_and_pinned_on_the_probe_before_it() {
    use gauntlet::conformance::probes::Suite;
    use gauntlet::conformance::run::{run_path, PathSpec, Selection};
    use gauntlet::proto::raw::RawTarget;
    let (rt, raw) = common::expected::recording_origin();
    let port = pooled_body_dropping_proxy(raw.addr());
    let spec = PathSpec {
        name: "pooled".into(),
        target: RawTarget::from_url(
            &format!("http://127.0.0.1:{port}"),
            Default::default(),
            Duration::from_secs(3),
        )
        .unwrap(),
        origin: Some(raw.recorder().clone()),
        reload: None,
        proxied: true,
        policy: Default::default(),
    };
    let sel = Selection {
        suites: vec![Suite::H1],
        only: vec![
            "h1.smuggling.cl-0".into(),
            "h1.smuggling.0-cl".into(),
            "h1.host.duplicate".into(),
        ],
    };
    let r = rt.block_on(run_path(&spec, &sel, &Default::default()));
    rt.block_on(raw.shutdown());
    let by = |id: &str| r.probes.iter().find(|p| p.id == id).unwrap();
    let p = by("h1.smuggling.cl-0");
    assert_eq!(p.verdict, Rfc::Fail, "{p:?}");
    assert!(
        p.observed.contains("desync") && p.why.contains("cross-client desync"),
        "{p:?}"
    );
    assert!(p.evidence.canary.is_some(), "{p:?}");
    // 0.CL: the proxy did not see the obfuscated length and forwarded the head alone; the
    // origin read the next client's request as the body.
    let p = by("h1.smuggling.0-cl");
    assert_eq!(p.verdict, Rfc::Fail, "{p:?}");
    assert!(p.why.contains("cross-client desync"), "{p:?}");
    // The probe before it, on a clean state, was judged on its own merits.
    let other = by("h1.host.duplicate");
    assert_ne!(other.verdict, Rfc::Error, "{other:?}");
    assert!(r.error.is_none(), "{:?}", r.error);
}
