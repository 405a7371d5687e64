//! `gauntlet conformance` and a scenario's `conformance` section through the real binary:
//! exit codes, results.json against the committed schema, JUnit and Markdown sections, parity
//! between two paths, and the `conformance.failures` gate.

mod common;

use std::path::Path;

use common::{gauntlet, text};
use gauntlet::model::conformance::Rfc;
use gauntlet::model::results::{read, ResultsFile};

fn results(dir: &Path) -> ResultsFile {
    read(&dir.join("results.json")).unwrap()
}

fn validates_against_schema(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("schema/results.schema.json")).unwrap(),
    )
    .unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn probing_the_embedded_origin_fails_only_where_known_and_writes_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    let o = gauntlet(
        &[
            "conformance",
            "--target",
            "embedded",
            "--suite",
            "h1,h2",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    // The one known failure of the h2 crate (README: known failures of our own) makes it exit 1.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r = results(&out);
    let c = r.conformance.as_ref().expect("a conformance section");
    let p = &c.paths[0];
    assert!(p.probes.len() >= 13 + 17, "{}", p.probes.len());
    let failed: Vec<&str> = p.with(Rfc::Fail).map(|x| x.id.as_str()).collect();
    assert_eq!(failed, ["h2.trailers.pseudo-header"]);
    assert_eq!(p.count(Rfc::Error), 0);
    assert!(p.count(Rfc::Pass) > 20);
    validates_against_schema(&out);
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(
        junit
            .matches("classname=\"gauntlet.conformance.target\"")
            .count(),
        p.probes.len()
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("**Conformance probes:** 1 failure(s)"), "{md}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("h1.smuggling.cl-te"));
    // The one failure leads, expanded, and the passes follow folded away.
    let fail = html
        .find("id=\"probe-h2.trailers.pseudo-header\"")
        .expect("an anchor on the failure");
    let folded = html.find("<details class=\"rfc-folded\"><summary>");
    assert!(folded.is_some_and(|f| fail < f), "{html}");
    assert!(html[fail..].contains("<td class=\"l rfc-fail\">fail</td>"));
}

#[test]
fn an_unreachable_target_exits_2_and_a_bad_suite_too() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    // Port 9 on loopback: nothing listens there.
    let o = gauntlet(
        &[
            "conformance",
            "--target",
            "http://127.0.0.1:9",
            "--suite",
            "h1,h2",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let r = results(&out);
    assert!(
        r.verdict.reasons[0].contains("canary before the probes failed")
            && r.verdict.reasons[0].contains("refused"),
        "{:?}",
        r.verdict
    );
    let o = gauntlet(
        &["conformance", "--target", "embedded", "--suite", "h9"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown suite `h9`"));
}

#[test]
fn two_paths_get_a_parity_verdict_per_probe() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    let o = gauntlet(
        &[
            "conformance",
            "--target",
            "new=embedded",
            "--baseline",
            "old=embedded",
            "--suite",
            "h2",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    // Exit 1 for the h2 crate's one known failure, on the candidate; no regression.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let c = results(&out).conformance.unwrap();
    assert_eq!(c.regressions, 0);
    assert_eq!(c.failures, 1);
    assert_eq!(c.paths.len(), 2);
    assert_eq!(c.parity.len(), c.paths[0].probes.len());
    // The same server behind both names: every probe agrees.
    let differ: Vec<_> = c.parity.iter().filter(|p| !p.agree).collect();
    assert!(differ.is_empty(), "{differ:?}");
}

#[test]
fn a_scenario_probes_its_targets_and_gates_on_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.yaml");
    std::fs::write(
        &scenario,
        "name: probes\ntargets: { local: embedded }\nload: { rate: 20, duration: 1s }\nrequests: [ { get: / } ]\nconformance:\n  suites: [h3]\ngates:\n  - conformance.failures == 0\n",
    )
    .unwrap();
    let out = tmp.path().join("r");
    let o = gauntlet(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        tmp.path(),
    );
    let r = results(&out);
    let c = r.conformance.as_ref().expect("probes ran after the load");
    // The embedded origin's HTTP/3 stack accepts a pseudo-header after a regular field (the h3
    // crate cannot tell it the order), so exactly that probe fails, and the gate says so.
    let failed: Vec<_> = c.paths[0]
        .probes
        .iter()
        .filter(|p| p.verdict == Rfc::Fail)
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(failed, ["h3.pseudo.after-regular"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let gate = &r.gates[0];
    assert_eq!(gate.gate, "conformance.failures == 0");
    assert!(!gate.passed);
    assert!(!r.lanes.is_empty(), "the load ran too");
    validates_against_schema(&out);
}

#[test]
fn ctrl_c_while_probing_keeps_the_finished_probes_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "conformance",
            "--target",
            "embedded",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The h1 probes take about a second; the whole suite several.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    let r = results(&out);
    assert!(r.meta.interrupted);
    let c = r.conformance.unwrap();
    assert!(c.interrupted);
    let done = c.paths[0].probes.len();
    let all = gauntlet::conformance::probes::all().len();
    assert!(done > 0 && done < all, "{done} of {all} probes kept");
}

#[test]
fn the_catalogue_lists_every_probe_and_the_recording_origin_prints_what_it_got() {
    let tmp = tempfile::tempdir().unwrap();
    let o = gauntlet(&["conformance", "--list", "--suite", "h1"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let listed = String::from_utf8_lossy(&o.stdout);
    let h1 = gauntlet::conformance::probes::all()
        .into_iter()
        .filter(|p| p.suite == gauntlet::model::conformance::Suite::H1)
        .count();
    assert_eq!(listed.lines().count(), h1);
    assert!(listed.contains("h1.smuggling.cl-te") && listed.contains("RFC 9112 §6.3"));

    // `gauntlet origin --record`: send a CL.TE request by hand, read back its exact bytes.
    use std::io::{BufRead, Read, Write};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["origin", "--no-h3", "--record", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let record = loop {
        let l = lines.next().unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        if let Some(r) = v.get("record") {
            break r
                .as_str()
                .unwrap()
                .trim_start_matches("http://")
                .to_string();
        }
    };
    let sent = b"POST /probe/n/ok HTTP/1.1\r\nHost: a\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled/n HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut s = std::net::TcpStream::connect(&record).unwrap();
    s.write_all(sent).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut answer = [0u8; 512];
    let _ = s.read(&mut answer).unwrap();
    let mut received = Vec::new();
    for _ in 0..2 {
        let v: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        received.push(v["received"].clone());
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    // The lenient origin framed it by Transfer-Encoding: the tail is a request of its own.
    assert_eq!(received[0]["target"], "/probe/n/ok");
    assert!(received[0]["bytes"]
        .as_str()
        .unwrap()
        .contains("Transfer-Encoding: chunked\\r\\n"));
    assert_eq!(received[1]["target"], "/smuggled/n");
}
