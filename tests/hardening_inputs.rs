//! Bounded inputs, checked values and output prepared before the load (issue 13, groups 1 to 3),
//! end to end through the binary as a user meets them: each case is refused with exit 2 and a
//! message that says what and where, without reading past a cap, and without sending a request.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{gauntlet, text};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the binary in `dir`, expecting exit 2 and every one of `needles` in standard error.
fn refused(dir: &Path, args: &[&str], needles: &[&str]) -> String {
    let o = gauntlet(args, dir);
    assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", text(&o));
    let e = stderr(&o);
    for n in needles {
        assert!(e.contains(n), "{args:?}: `{n}` missing\n{}", text(&o));
    }
    e
}

/// A listener that counts the connections made to it: the proof that nothing was sent.
fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(s);
        }
    });
    (port, n)
}

/// A scenario `s.yaml` in `dir` whose one target counts the connections made to it.
fn aimed_at_a_counter(dir: &Path) -> (String, Arc<AtomicUsize>) {
    let (port, seen) = counting_listener();
    let name = scenario(
        dir,
        "s.yaml",
        &format!(
            "name: s\ntargets:\n  a: http://127.0.0.1:{port}/\nload: {{ rate: 5, duration: 1s }}\nrequests:\n  - get: /\n"
        ),
    );
    (name, seen)
}

fn scenario(dir: &Path, name: &str, body: &str) -> String {
    std::fs::write(dir.join(name), body).unwrap();
    name.to_string()
}

#[test]
fn special_and_oversized_files_are_refused_without_reading_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    refused(d, &["validate", "/dev/zero"], &["/dev/zero", "a device"]);
    refused(d, &["validate", "."], &["a directory"]);
    refused(d, &["report", "/dev/zero"], &["a device"]);
    refused(d, &["compare", "/dev/zero", "/dev/zero"], &["a device"]);
    // A FIFO would block the reader until a writer came.
    let fifo = d.join("fifo.yaml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    refused(d, &["validate", "fifo.yaml"], &["a FIFO"]);
    // Past the cap: refused by size, however valid the YAML would be.
    let big = format!("name: big\n# {}\n", "x".repeat(5 << 20));
    scenario(d, "big.yaml", &big);
    refused(d, &["validate", "big.yaml"], &["larger than 4 MiB"]);
}

#[test]
fn a_results_file_symlinked_to_a_device_does_not_stall_the_reports_index() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(reports.join("evil")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", reports.join("evil/results.json")).unwrap();
    // Every run under reports/ rebuilds the index, reading each folder's results.json.
    let name = scenario(
        dir.path(),
        "s.yaml",
        "name: s\ntargets: { local: embedded }\nprotocols: [h1]\nload: { rate: 5, duration: 1s }\nrequests:\n  - get: /\n",
    );
    let o = gauntlet(
        &["run", &name, "--quiet", "--out", "reports/ok"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(stderr(&o).contains("reports/index.html"), "{}", text(&o));
    let index = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(!index.contains("evil/index.html"), "{index}");
    assert!(index.contains("ok/index.html"), "{index}");
    refused(
        dir.path(),
        &["report", "reports/evil/results.json"],
        &["a device"],
    );
}

#[test]
fn a_huge_one_line_list_gets_a_budget_message_and_a_window_of_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let list = vec!["{get: /}"; 300_000].join(", ");
    let name = scenario(
        dir.path(),
        "list.yaml",
        &format!(
            "name: x\ntargets: {{ local: embedded }}\nload: {{ rate: 1 }}\nrequests: [{list}]\n"
        ),
    );
    let e = refused(
        dir.path(),
        &["validate", &name],
        &["YAML nodes", "list.yaml:4:"],
    );
    // The 2.7 MB line is shown as a window, not echoed.
    assert!(e.len() < 2_000, "{} bytes of diagnostics:\n{e}", e.len());
}

#[test]
fn text_that_is_not_a_scenario_is_told_where_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("latin1.yaml"),
        b"name: x\ntargets: { local: embedded }\nload: { rate: 1 }\nrequests:\n  - get: /caf\xe9\n",
    )
    .unwrap();
    refused(
        d,
        &["validate", "latin1.yaml"],
        &[
            "0xe9 is not UTF-8",
            "latin1.yaml:5:14",
            "save the file as UTF-8",
        ],
    );
    scenario(d, "empty.yaml", "\n  \n");
    refused(
        d,
        &["validate", "empty.yaml"],
        &["the file is empty", "scenarios/demo.yaml"],
    );
    scenario(
        d,
        "tab.yaml",
        "name: x\ntargets: { local: embedded }\nload: { rate: 1 }\nrequests:\n  - get: /\n\t  weight: 2\n",
    );
    refused(
        d,
        &["validate", "tab.yaml"],
        &["a tab in the indentation", "tab.yaml:6:1", "spaces only"],
    );
}

#[test]
fn ports_outside_1_to_65535_are_errors_never_port_80() {
    let dir = tempfile::tempdir().unwrap();
    for port in ["99999", "65536", "0", "-1", "abc", ""] {
        let name = scenario(
            dir.path(),
            "p.yaml",
            &format!(
                "name: p\ntargets:\n  a: http://127.0.0.1:{port}/\nload: {{ rate: 1, duration: 1s }}\nrequests:\n  - get: /\n"
            ),
        );
        refused(dir.path(), &["validate", &name], &["p.yaml:3:6", "port"]);
    }
}

#[test]
fn flags_are_checked_and_their_diagnostics_point_at_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (name, seen) = aimed_at_a_counter(dir.path());
    let run = |extra: &[&str]| {
        let mut args = vec!["run", name.as_str(), "--quiet"];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (run(&["--rate", "-5"]), vec!["--rate -5", "above zero"]),
        (
            run(&["--rate", "1e300"]),
            vec!["--rate 1e300", "above the limit"],
        ),
        (
            run(&["--concurrency", "0"]),
            vec!["--concurrency 0", "at least 1"],
        ),
        (
            run(&["--concurrency", "4294967295"]),
            vec!["--concurrency", "above the limit"],
        ),
        (run(&["--requests", "-1"]), vec!["--requests -1"]),
        (
            run(&["--duration", "9999h"]),
            vec!["--duration", "longer than the limit"],
        ),
        (
            run(&["--target", "a=http://127.0.0.1:99999/"]),
            vec![
                "port 99999",
                "command line: --target a=http://127.0.0.1:99999/",
            ],
        ),
        (
            run(&["--target", "nope=http://127.0.0.1:1/"]),
            vec!["no target named `nope`", "command line: --target nope="],
        ),
    ];
    for (args, needles) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let e = refused(dir.path(), &args, &needles);
        assert!(
            !e.contains("s.yaml:"),
            "{args:?} points into the file:\n{e}"
        );
    }
    assert_eq!(seen.load(Ordering::SeqCst), 0, "a refused run sent nothing");
}

#[test]
fn an_unwritable_out_fails_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let (name, seen) = aimed_at_a_counter(dir.path());
    std::fs::write(dir.path().join("a-file"), "").unwrap();
    refused(
        dir.path(),
        &["run", &name, "--quiet", "--out", "a-file/run"],
        &["--out a-file/run", "cannot write there"],
    );
    refused(
        dir.path(),
        &["conformance", "--target", "embedded", "--out", "a-file/run"],
        &["--out a-file/run", "cannot write there"],
    );
    assert_eq!(seen.load(Ordering::SeqCst), 0, "nothing was sent");
}

#[test]
fn a_closed_standard_output_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["conformance", "--list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("h1."), "{first}");
    // The reader goes away, as `head -1` does.
    let out = child.wait_with_output().unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{e}");
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn a_host_outside_loopback_and_private_networks_must_be_allowed_by_name() {
    // Only validated and refused here: no test sends anything to a public address.
    let dir = tempfile::tempdir().unwrap();
    let body = |allow: &str| {
        format!(
            "name: p\n{allow}targets:\n  a: http://203.0.113.7:8080/\n  b: {{ url: https://shop.test/, connect_to: 127.0.0.1:9443 }}\n  c: http://staging.example.net:8080/\nload: {{ rate: 1, duration: 1s }}\nrequests:\n  - get: /\n"
        )
    };
    let name = scenario(dir.path(), "p.yaml", &body(""));
    refused(
        dir.path(),
        &["validate", &name],
        &[
            "203.0.113.7 is outside loopback and private networks",
            "p.yaml:3:6",
            "allow_hosts",
        ],
    );
    refused(
        dir.path(),
        &["run", &name, "--quiet"],
        &["outside loopback"],
    );
    refused(
        dir.path(),
        &["conformance", "--target", "http://203.0.113.7:8080/"],
        &[
            "--target http://203.0.113.7:8080/",
            "--allow-host 203.0.113.7",
        ],
    );
    let name = scenario(
        dir.path(),
        "ok.yaml",
        &body("allow_hosts: [203.0.113.7, staging.example.net]\n"),
    );
    let o = gauntlet(&["validate", &name], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The flag adds to the list as the key does.
    let flagged = gauntlet::scenario::Overrides {
        allow_hosts: vec!["203.0.113.7".into(), "staging.example.net".into()],
        ..Default::default()
    };
    gauntlet::scenario::load_str("p.yaml", &body(""), dir.path(), &flagged).unwrap();
}
