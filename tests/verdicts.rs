//! Verdicts fail closed, through the real binary and the embedded origin (both paths in one
//! process, the candidate's requests answered later by `x-gauntlet-extra-delay-ms`):
//! a short run with a large regression is judged `worse` and fails its gate; a gate that meets an
//! inconclusive verdict fails unless inconclusive is allowed; without gates a worse headline
//! metric exits 1 and an inconclusive p50 exits 3; a slice longer than the run, two runs of
//! different scenarios, a damaged histogram and a lost client thread all exit 2.

mod common;

use std::path::{Path, PathBuf};

use common::{gauntlet, text};
use gauntlet::model::results::ResultsFile;

/// A two-path scenario on the embedded origin: the candidate answers `extra_ms` later.
fn two_paths(extra_ms: u32, load: &str, rest: &str) -> String {
    format!(
        "name: paths\ntargets:\n  candidate: {{ url: embedded, headers: {{ x-gauntlet-extra-delay-ms: \"{extra_ms}\" }} }}\n  baseline: embedded\ncompare: {{ candidate: candidate, baseline: baseline, differential: {{ enabled: false }} }}\nload: {load}\nrequests: [ {{ get: /delay/2 }} ]\n{rest}"
    )
}

fn run(dir: &Path, name: &str, yaml: &str, extra: &[&str]) -> (std::process::Output, PathBuf) {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, yaml).unwrap();
    let out_dir = dir.join(format!("out-{name}"));
    let mut args = vec![
        "run",
        p.to_str().unwrap(),
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (gauntlet(&args, dir), out_dir)
}

fn results(dir: &Path) -> ResultsFile {
    gauntlet::model::results::read(&dir.join("results.json")).unwrap()
}

fn p50(r: &ResultsFile) -> &gauntlet::model::comparison::Judgement {
    &r.comparison
        .as_ref()
        .unwrap()
        .verdicts
        .iter()
        .find(|v| v.request.is_none() && v.judgement.metric.name() == "p50")
        .unwrap()
        .judgement
}

#[test]
fn a_four_second_run_with_a_doubled_p50_is_worse_and_its_gate_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (out, o) = run(
        dir.path(),
        "double",
        &two_paths(
            2,
            "{ rate: 100, duration: 4s }",
            "gates: [ \"verdict(p50) != worse\" ]\n",
        ),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r = results(&o);
    let j = p50(&r);
    assert_eq!(j.verdict.name(), "worse", "{j:?}");
    // The slice adapted to the run: 20 pairs of 200 ms, not 4 pairs of 1 s.
    assert_eq!(r.comparison.as_ref().unwrap().slice_s, 0.2);
    assert!(j.slices >= 18, "{j:?}");
    assert!(text(&out).contains("gate `verdict(p50) != worse` failed"));
}

#[test]
fn a_verdict_gate_that_meets_inconclusive_fails_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    // p99.9 needs 10,000 samples per side: a 1 s A/A run at 100/s cannot judge it.
    let yaml = two_paths(
        0,
        "{ rate: 100, duration: 1s }",
        "gates: [ \"verdict(p999) != worse\" ]\n",
    );
    let (out, o) = run(dir.path(), "closed", &yaml, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r = results(&o);
    let g = &r.gates[0];
    assert!(!g.passed);
    let note = g.note.as_deref().unwrap();
    assert!(
        note.contains("inconclusive") && note.contains("per side needed"),
        "{note}"
    );
    assert!(note.contains("--allow-inconclusive"), "{note}");
    let (out, _) = run(dir.path(), "allowed", &yaml, &["--allow-inconclusive"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let allowed = yaml.replace(
        "differential: { enabled: false }",
        "differential: { enabled: false }, allow_inconclusive: true",
    );
    let (out, _) = run(dir.path(), "allowed-in-file", &allowed, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn without_gates_a_worse_headline_exits_1_and_an_undecided_p50_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = run(
        dir.path(),
        "worse",
        &two_paths(2, "{ rate: 100, duration: 3s }", ""),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("p50 over h1") && text(&out).contains("is worse"),
        "{}",
        text(&out)
    );
    // Two slices a side can tell nothing: not a pass, not a failure of the target.
    let (out, o) = run(
        dir.path(),
        "short",
        &two_paths(0, "{ rate: 50, duration: 400ms }", ""),
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let r = results(&o);
    assert_eq!(p50(&r).verdict.name(), "inconclusive");
    assert!(
        text(&out).contains("INCONCLUSIVE (exit 3)"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_slice_longer_than_the_run_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = two_paths(0, "{ rate: 10, duration: 1s }", "")
        .replace("baseline: baseline,", "baseline: baseline, slice: 1h,");
    let (out, o) = run(dir.path(), "slice", &yaml, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("slice.yaml:5:"), "{err}");
    assert!(err.contains("compare.slice"), "{err}");
    assert!(err.contains("longer than the measured run"), "{err}");
    assert!(!o.exists(), "nothing ran");
}

#[test]
fn compare_refuses_runs_that_are_not_comparable_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let (a, ao) = run(
        dir.path(),
        "a",
        &two_paths(0, "{ rate: 50, duration: 1s }", ""),
        &[],
    );
    assert!(matches!(a.status.code(), Some(0 | 3)), "{}", text(&a));
    let (b, bo) = run(
        dir.path(),
        "b",
        &two_paths(0, "{ rate: 80, duration: 1s }", ""),
        &[],
    );
    assert!(matches!(b.status.code(), Some(0 | 3)), "{}", text(&b));
    let (ra, rb) = (ao.join("results.json"), bo.join("results.json"));
    let out = gauntlet(
        &["compare", ra.to_str().unwrap(), rb.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not comparable"), "{err}");
    assert!(err.contains("rate plan"), "{err}");
    assert!(err.contains("scenario"), "{err}");
    let forced = dir.path().join("forced");
    let out = gauntlet(
        &[
            "compare",
            ra.to_str().unwrap(),
            rb.to_str().unwrap(),
            "--force",
            "--out",
            forced.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_ne!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("forced (--force)"), "{}", text(&out));
    let r = results(&forced);
    assert!(!r.comparison.unwrap().forced.is_empty());
}

#[test]
fn a_damaged_histogram_is_an_error_naming_its_field() {
    let dir = tempfile::tempdir().unwrap();
    let (out, o) = run(
        dir.path(),
        "whole",
        &two_paths(0, "{ rate: 50, duration: 1s }", ""),
        &[],
    );
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", text(&out));
    let path = o.join("results.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for lane in v["lanes"].as_array_mut().unwrap() {
        lane["requests"][0]["slices"][0]["latency_us"] = "AAAA".into();
    }
    let damaged = dir.path().join("damaged.json");
    std::fs::write(&damaged, v.to_string()).unwrap();
    let out = gauntlet(
        &["compare", path.to_str().unwrap(), damaged.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lanes[0].requests[0].slices[0].latency_us"),
        "{err}"
    );
    // A header asking for a huge histogram is refused before anything is allocated.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["lanes"][0]["connections"]["connect_hist"] = huge_histogram().into();
    std::fs::write(&damaged, v.to_string()).unwrap();
    let out = gauntlet(&["report", damaged.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lanes[0].connections.connect_hist") && err.contains("out of range"),
        "{err}"
    );
    // Another schema version, and a file that is not ours, are named as such.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["schema_version"] = 99.into();
    std::fs::write(&damaged, v.to_string()).unwrap();
    let out = gauntlet(
        &["compare", path.to_str().unwrap(), damaged.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("schema version 99"), "{}", text(&out));
    std::fs::write(&damaged, r#"{"lanes": []}"#).unwrap();
    let out = gauntlet(&["report", damaged.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not a gauntlet results file"),
        "{}",
        text(&out)
    );
}

/// A V2-deflate histogram whose header announces 5 digits up to 2^62 µs (gigabytes of counts).
fn huge_histogram() -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let mut plain = Vec::new();
    plain.extend_from_slice(&0x1c84_9313u32.to_be_bytes()); // V2 cookie
    plain.extend_from_slice(&0u32.to_be_bytes()); // payload length
    plain.extend_from_slice(&0u32.to_be_bytes()); // normalizing offset
    plain.extend_from_slice(&5u32.to_be_bytes()); // significant digits
    plain.extend_from_slice(&1u64.to_be_bytes()); // lowest
    plain.extend_from_slice(&(1u64 << 62).to_be_bytes()); // highest
    plain.extend_from_slice(&1f64.to_bits().to_be_bytes()); // conversion ratio
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&plain).unwrap();
    let body = z.finish().unwrap();
    let mut out = 0x1c84_9314u32.to_be_bytes().to_vec(); // V2-deflate cookie
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    base64::engine::general_purpose::STANDARD.encode(out)
}

#[test]
fn a_client_thread_that_panics_fails_the_run_as_a_harness_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.yaml");
    std::fs::write(
        &p,
        "name: p\ntargets: { t: embedded }\nload: { rate: 20, duration: 500ms }\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "run",
            p.to_str().unwrap(),
            "--quiet",
            "--out",
            out_dir.to_str().unwrap(),
        ])
        .env("GAUNTLET_INJECT_THREAD_PANIC", "1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let r = results(&out_dir);
    assert!(
        r.verdict.reasons[0].contains("panicked"),
        "{:?}",
        r.verdict.reasons
    );
}
