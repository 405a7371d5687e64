//! Scale of connections (issue 17, item 4), end to end through the binary: `gauntlet origin` and
//! `gauntlet run` both start from a shell whose open-file soft limit is lowered to 1,024, raise
//! it themselves, and hold 2,000 concurrent HTTP/1.1 connections between them without a single
//! "too many open files"; and a run larger than the hard limit says so before it starts. Counts
//! only: no figure here depends on the machine's speed.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use common::text;

const CONNS: u64 = 2_000;

/// The shell's hard open-file limit, which the processes may raise their soft limit to.
fn hard_limit() -> u64 {
    let out = Command::new("bash")
        .args(["-c", "ulimit -Hn"])
        .output()
        .expect("bash runs");
    let s = String::from_utf8_lossy(&out.stdout);
    // "unlimited" is as good as any number.
    s.trim().parse().unwrap_or(u64::MAX)
}

/// `gauntlet ARGS` started from bash after `ulimit PREP`.
fn gauntlet_limited(prep: &str, args: &[&str]) -> Command {
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(format!("ulimit {prep} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args);
    c
}

/// An origin process started with a soft limit of 1,024, and its cleartext URL.
fn origin() -> (Child, String) {
    let mut child = gauntlet_limited("-Sn 1024", &["origin", "--http", "127.0.0.1:0", "--no-h3"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("origin starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("origin announces itself");
    let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    let http = v["http"].as_str().expect("an http URL").to_string();
    (child, http)
}

fn run(prep: &str, dir: &std::path::Path, yaml: &str) -> Output {
    std::fs::write(dir.join("s.yaml"), yaml).unwrap();
    gauntlet_limited(prep, &["run", "s.yaml", "--quiet", "--out", "out"])
        .current_dir(dir)
        .output()
        .expect("gauntlet runs")
}

#[test]
fn two_thousand_http1_connections_from_a_soft_limit_of_1024() {
    // Client and origin each hold 2,000 sockets and some 64 more.
    if hard_limit() < CONNS + 200 {
        eprintln!(
            "skipped: the hard open-file limit ({}) is below {}",
            hard_limit(),
            CONNS + 200
        );
        return;
    }
    let (mut origin, http) = origin();
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        "-Sn 1024",
        dir.path(),
        &format!(
            "name: scale\ntargets: {{ o: \"{http}\" }}\nprotocols: [h1]\nconnect_timeout: 20s\ntimeout: 30s\n\
             load: {{ model: closed, concurrency: {CONNS}, connections: {CONNS}, duration: 3s, threads: 2 }}\n\
             requests: [ {{ get: / }} ]\n"
        ),
    );
    let _ = origin.kill();
    let _ = origin.wait();
    let t = text(&out);
    assert!(!t.contains("open files"), "{t}");
    assert_eq!(out.status.code(), Some(0), "{t}");
    let r = gauntlet::model::results::read(&dir.path().join("out/results.json"))
        .unwrap_or_else(|e| panic!("{e}\n{t}"));
    let l = &r.lanes[0];
    // Every connection was opened and none failed; every slot sent at least one request.
    assert_eq!(l.connections.opened, CONNS, "{t}");
    assert_eq!(l.connections.failed, 0, "{t}");
    assert_eq!(l.summary.errors, 0, "{:?}", l.summary.errors_by_class);
    assert!(
        l.summary.count + l.summary.warmup + l.pacing.cancelled >= CONNS,
        "{} requests",
        l.summary.count
    );
}

#[test]
fn a_run_larger_than_the_hard_limit_says_so_before_it_starts() {
    let (mut origin, http) = origin();
    let dir = tempfile::tempdir().unwrap();
    // `ulimit -n 256` sets both limits: the process cannot raise its own.
    let out = run(
        "-n 256",
        dir.path(),
        &format!(
            "name: toomany\ntargets: {{ o: \"{http}\" }}\nprotocols: [h1]\n\
             load: {{ model: closed, concurrency: 400, connections: 400, duration: 1s, threads: 1 }}\n\
             requests: [ {{ get: / }} ]\n"
        ),
    );
    let _ = origin.kill();
    let _ = origin.wait();
    let t = text(&out);
    assert!(
        t.contains("warning: this run may hold 464 open files")
            && t.contains("may open only 256 (hard limit 256)"),
        "{t}"
    );
}
