//! Small frictions a new user met (issue 15, part 6), each end to end through the binary:
//! `report --markdown -` writes to standard output, `report` says what it wrote, `report --index`
//! needs no results file, a saved-run comparison is titled with its files, reports the rate each
//! run had and writes every report, and a two-path warm-up is stated per path.

mod common;

use std::path::Path;

use common::{gauntlet, text};

fn one_run(dir: &Path, out: &str) {
    let o = gauntlet(&["run", "one.yaml", "--quiet", "--out", out], dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("one.yaml"),
        "name: one\ntargets: { a: embedded }\nload: { rate: 100, duration: 3s }\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    dir
}

#[test]
fn report_writes_markdown_to_stdout_says_what_it_wrote_and_indexes_alone() {
    let dir = setup();
    let d = dir.path();
    std::fs::create_dir_all(d.join("reports")).unwrap();
    one_run(d, "reports/r1");
    let o = gauntlet(&["report", "reports/r1/results.json", "--markdown", "-"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("## gauntlet: one"));
    assert!(!d.join("-").exists(), "a file named `-` was written");
    let o = gauntlet(
        &["report", "reports/r1/results.json", "--html", "r.html"],
        d,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote r.html"));
    std::fs::remove_file(d.join("reports/index.html")).ok();
    let o = gauntlet(&["report", "--index", "reports"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(d.join("reports/index.html").exists());
    let o = gauntlet(&["report"], d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_saved_comparison_is_titled_with_its_files_and_keeps_each_run_s_rate() {
    let dir = setup();
    let d = dir.path();
    one_run(d, "base");
    one_run(d, "new");
    let o = gauntlet(
        &[
            "compare",
            "base/results.json",
            "new/results.json",
            "--out",
            "cmp",
        ],
        d,
    );
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("new/results.json (") && out.contains("(candidate) vs base/results.json ("),
        "{out}"
    );
    let rps = out
        .lines()
        .find(|l| l.contains(" rps "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        rps.contains("100.0/s    100.0/s") || rps.matches("100.0/s").count() == 2,
        "{rps}"
    );
    for f in ["results.json", "index.html", "junit.xml", "summary.md"] {
        assert!(d.join("cmp").join(f).exists(), "{f}");
    }
    let html = std::fs::read_to_string(d.join("cmp/index.html")).unwrap();
    assert!(
        html.contains("new/results.json"),
        "the title names the file"
    );
}

#[test]
fn a_two_path_warm_up_is_stated_per_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        "name: paths\ntargets: { new: embedded, old: embedded }\nprotocols: [h2]\nload: { rate: 50, duration: 2s, warmup: 500ms }\ncompare: { candidate: new, baseline: old, fairness: interleaved }\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    let o = gauntlet(&["run", "c.yaml", "--quiet", "--out", "o"], dir.path());
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("(0.5 s warm-up per path)"),
        "{}",
        text(&o)
    );
}

#[test]
fn validate_takes_the_roles_run_takes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("roles.yaml"),
        "name: roles\ntargets: { new: embedded, old: embedded }\nload: { rate: 50, duration: 2s }\ngates: [ \"verdict(p50) != worse\" ]\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    // Without the roles, the error says how to give them.
    let o = gauntlet(&["validate", "roles.yaml"], d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--candidate NAME=URL --baseline NAME=URL"));
    let roles = ["--candidate", "new=embedded", "--baseline", "old=embedded"];
    let o = gauntlet(&[&["validate", "roles.yaml"][..], &roles].concat(), d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A scenario whose targets all come from the flags.
    std::fs::write(
        d.join("bare.yaml"),
        "name: bare\nload: { rate: 50, duration: 2s }\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    let o = gauntlet(&[&["validate", "bare.yaml"][..], &roles].concat(), d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = gauntlet(&["validate", "bare.yaml"], d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least one target is needed"));
}

#[test]
fn p95_is_a_metric_of_results_gates_and_comparisons() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("g.yaml"),
        "name: g\ntargets: { a: embedded }\nload: { rate: 100, duration: 2s }\ngates: [ \"a.p95 <= a.p99\", \"a.p95 >= a.p50\" ]\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    let o = gauntlet(&["run", "g.yaml", "--quiet", "--out", "o"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = gauntlet::model::results::read(&d.join("o/results.json")).unwrap();
    let s = &r.lanes[0].summary.latency_us;
    assert!(s.p95 >= s.p90 && s.p95 <= s.p99 && s.p95 > 0, "{s:?}");
    assert!(r.gates.iter().all(|g| g.passed) && r.gates.len() == 2);
    let o = gauntlet(&["compare", "o/results.json", "o/results.json"], d);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(" p95 "),
        "{}",
        text(&o)
    );
}

#[test]
fn a_saved_two_path_run_compares_with_either_of_its_paths() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("two.yaml"),
        "name: two\ntargets:\n  new: { url: embedded, headers: { x-gauntlet-extra-delay-ms: \"5\" } }\n  old: embedded\nprotocols: [h1]\ncompare: { candidate: new, baseline: old }\nload: { rate: 100, duration: 3s }\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    let o = gauntlet(&["run", "two.yaml", "--quiet", "--out", "main"], d);
    assert_eq!(o.status.code(), Some(1), "5 ms slower: {}", text(&o));
    // The main branch's legacy path against this run's candidate: the same regression.
    let o = gauntlet(&["compare", "main/results.json", "main/results.json"], d);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // The main branch's candidate against the same candidate: nothing changed.
    let o = gauntlet(
        &[
            "compare",
            "main/results.json",
            "main/results.json",
            "--base-role",
            "candidate",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("same"));
}

#[test]
fn validate_takes_the_hosts_run_may_load() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("far.yaml"),
        "name: far\ntargets: { a: \"https://staging.example.net/\" }\nload: { rate: 1, duration: 1s }\nrequests: [ { get: / } ]\n",
    )
    .unwrap();
    let o = gauntlet(&["validate", "far.yaml"], d);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--allow-host"), "{}", text(&o));
    let o = gauntlet(
        &[
            "validate",
            "far.yaml",
            "--allow-host",
            "staging.example.net",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
