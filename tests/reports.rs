//! Reports from the one results model: the committed JSON Schemas match the types and validate
//! real results and every shipped scenario; JUnit validates against schema/junit.xsd with
//! xmllint; the .hlog reads back to the same counts and percentiles; the Markdown summary matches
//! its golden file; the CI examples call only commands and flags the CLI has; and the HTML report
//! renders in headless Chromium with its charts, no console error, and no injected markup.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{gauntlet, run, text, TestOrigin};
use gauntlet::model::hist;
use gauntlet::model::results::ResultsFile;
use gauntlet::report::{hlog, junit, markdown, publish};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A two-path run against the in-process origin, with gates, failures and a differential.
fn compare_run(o: &TestOrigin, extra_candidate_header: &str) -> ResultsFile {
    let s = o.scenario(&format!(
        r#"
name: report-check
targets:
  candidate: {{ url: "{u}", headers: {{ x-note: '{extra_candidate_header}' }} }}
  baseline: "{u}"
tls: {{ ca: ca.pem }}
protocols: [h1, h2]
compare: {{ candidate: candidate, baseline: baseline, differential: {{ samples: 3 }} }}
load: {{ stages: [ {{ duration: 1s, rate: 100, warmup: true }}, {{ duration: 2s, rate: 200 }} ], connections: 4 }}
requests:
  - {{ name: home, get: / }}
  - {{ name: echo, get: /echo, expect: {{ body: {{ contains: "<script>never</script>" }} }} }}
gates:
  - verdict(p50) != worse
  - differences == 0
"#,
        u = o.https(),
        extra_candidate_header = extra_candidate_header.replace('\'', "''")
    ));
    gauntlet::verdict::results(&s, &run(&s), None, Vec::new(), false)
}

fn schema_of(file: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("schema").join(file)).unwrap())
        .unwrap()
}

#[test]
fn committed_schemas_are_current() {
    for (file, generated) in [
        ("scenario.schema.json", gauntlet::schema::scenario()),
        ("results.schema.json", gauntlet::schema::results()),
    ] {
        let path = root().join("schema").join(file);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, format!("{generated}\n")).unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim_end(),
            generated.trim_end(),
            "{file} is stale: run `gauntlet schema` (UPDATE_GOLDEN=1 cargo test --test reports)"
        );
    }
    let out = gauntlet(&["schema"], root());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        gauntlet::schema::scenario().trim_end()
    );
}

#[test]
fn results_and_scenarios_validate_against_the_committed_schemas() {
    let o = TestOrigin::start();
    let r = compare_run(&o, "plain");
    let value = serde_json::to_value(&r).unwrap();
    let results = jsonschema::validator_for(&schema_of("results.schema.json")).unwrap();
    let errors: Vec<String> = results
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // A document that breaks the schema is caught (the check can fail).
    let mut broken = value.clone();
    broken["schema_version"] = serde_json::json!("one");
    assert!(!results.is_valid(&broken));

    let scenario = jsonschema::validator_for(&schema_of("scenario.schema.json")).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let doc: serde_json::Value =
                serde_saphyr::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            let errors: Vec<String> = scenario
                .iter_errors(&doc)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", p.display());
            n += 1;
        }
    }
    assert!(n >= 2);
    let bad: serde_json::Value = serde_saphyr::from_str(
        "name: x\ntargets: { a: embedded }\nrequests: []\nload: { rat: 5 }\n",
    )
    .unwrap();
    assert!(
        !scenario.is_valid(&bad),
        "unknown keys are refused by the schema too"
    );
}

#[test]
fn junit_validates_with_xmllint_and_counts_failures() {
    let o = TestOrigin::start();
    let r = compare_run(&o, "plain");
    let xml = junit::render(&r);
    let path = o.dir.path().join("junit.xml");
    std::fs::write(&path, &xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(root().join("schema/junit.xsd"))
        .arg(&path)
        .output()
        .expect("xmllint (libxml2-utils) is installed by ci/install.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every lane's echo request failed its body expectation: a failure per lane, no error.
    let failures = xml.matches("<failure ").count();
    let failed_gates = r.gates.iter().filter(|g| !g.passed).count();
    assert_eq!(
        failures,
        failed_gates + r.lanes.len() + r.differential.as_ref().map_or(0, |d| d.differences.len()),
        "{xml}"
    );
    assert_eq!(xml.matches("<error ").count(), 0, "{xml}");
    assert!(
        xml.contains("&lt;script&gt;never&lt;/script&gt;"),
        "strings are escaped in XML too"
    );
}

#[test]
fn hlog_reads_back_to_the_same_counts_and_percentiles() {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;
    let o = TestOrigin::start();
    let r = compare_run(&o, "plain");
    for l in &r.lanes {
        let bytes = hlog::render(&r, l).unwrap();
        let mut merged = hist::new_coarse_hist();
        let mut intervals = 0;
        for entry in IntervalLogIterator::new(&bytes) {
            if let LogEntry::Interval(i) = entry.unwrap() {
                if !i.tag().is_some_and(|t| {
                    t.as_str().ends_with("corrected") && !t.as_str().ends_with("uncorrected")
                }) {
                    continue;
                }
                let raw = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    i.encoded_histogram(),
                )
                .unwrap();
                let h: hist::Hist = Deserializer::new()
                    .deserialize(&mut std::io::Cursor::new(raw))
                    .unwrap();
                hist::merge(&mut merged, &h);
                intervals += 1;
            }
        }
        let mut expected = hist::new_coarse_hist();
        for s in &l.timeline {
            hist::merge(&mut expected, &s.latency_us.0);
        }
        assert_eq!(intervals, l.timeline.len());
        assert_eq!(merged.len(), expected.len());
        assert!(
            merged.len() >= l.summary.count,
            "warm-up included in the log"
        );
        assert_eq!(hist::pct(&merged, 99.0), hist::pct(&expected, 99.0));
        assert_eq!(hist::pct(&merged, 50.0), hist::pct(&expected, 50.0));
    }
}

#[test]
fn python_hdrh_reads_the_hlog_like_the_report() {
    // HdrHistogram's own Python reader (`hdrh` from PyPI, in ci/install.sh's venv), taking the
    // `corrected` intervals past the warm-up: the report's count, and its p99 within the
    // timeline's precision (one significant digit: steps of at most 1/16).
    let python = root().join(".build/venv/bin/python");
    assert!(python.exists(), "run ci/install.sh");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: hlog\ntargets: { a: embedded }\nprotocols: [h2]\nload: { rate: 100, duration: 2s, warmup: 1s }\nrequests: [ { get: /delay/3 } ]\n",
    )
    .unwrap();
    let o = gauntlet(&["run", "s.yaml", "--quiet", "--out", "o"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = gauntlet::model::results::read(&dir.path().join("o/results.json")).unwrap();
    let script = r#"
import sys
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader
ref = HdrHistogram(1, 60000000, 1)
reader = HistogramLogReader(sys.argv[1], ref)
by_tag = {}
while True:
    h = reader.get_next_interval_histogram()
    if h is None:
        break
    t = h.get_tag()
    if t not in by_tag:
        by_tag[t] = HdrHistogram(1, 60000000, 1)
    by_tag[t].add(h)
for t, h in sorted(by_tag.items()):
    print(t, h.get_total_count(), h.get_value_at_percentile(99))
"#;
    let out = Command::new(&python)
        .args([
            "-c",
            script,
            dir.path().join("o/a-h2.hlog").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let tag = |name: &str| -> (u64, u64) {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {text}"));
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|x| x.parse().unwrap())
            .collect();
        (v[0], v[1])
    };
    let s = &r.lanes[0].summary;
    let (corrected, p99) = tag("corrected");
    let (warm, _) = tag("warmup-corrected");
    let (uncorrected, _) = tag("uncorrected");
    assert_eq!(corrected + warm, s.count + s.warmup, "{text}");
    assert_eq!(uncorrected, corrected);
    // Stragglers of the warm-up finishing in its last second are the only difference.
    assert!(
        corrected.abs_diff(s.count) <= 5,
        "{corrected} vs {}: {text}",
        s.count
    );
    let want = s.latency_us.p99 as f64;
    assert!(
        (p99 as f64 - want).abs() / want <= 0.07,
        "p99 {p99} vs report {want}: {text}"
    );
}

#[test]
fn markdown_summary_matches_its_golden_file() {
    let fixture = root().join("tests/fixtures/compare-results.json");
    let r = gauntlet::model::results::read(&fixture).unwrap();
    let rendered = markdown::render(&r);
    let golden = root().join("tests/fixtures/compare-summary.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &rendered).unwrap();
    }
    assert_eq!(rendered, std::fs::read_to_string(&golden).unwrap());
    // `gauntlet report` renders the same from the file alone.
    let out = gauntlet(&["report", fixture.to_str().unwrap()], root());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        rendered,
        "{}",
        text(&out)
    );
}

/// Loads `page` in headless Chromium; returns the DOM after load and what Chromium logged.
fn chromium(page: &Path, screenshot: &Path) -> (String, String) {
    let shot = common::chromium::screenshot(page, screenshot, (1200, 2400));
    let (dom, log) = common::chromium::dom(page, (1200, 2400));
    (dom, format!("{shot}\n{log}"))
}

#[test]
fn the_html_report_renders_in_chromium_with_charts_and_no_injection() {
    let o = TestOrigin::start();
    let evil =
        r#""><img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>"#;
    let r = compare_run(&o, evil);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-check");
    let _ = std::fs::remove_dir_all(&dir);
    publish::write_all(&dir, &r).unwrap();
    let page = dir.join("index.html");
    let source = std::fs::read_to_string(&page).unwrap();
    assert!(
        !source.contains("<script"),
        "the report has no script, and nothing injected one"
    );
    assert!(
        !source.contains("src=\"http")
            && !source.contains("href=\"http")
            && !source.contains("url(http"),
        "no external resource"
    );
    let screenshot = dir.join("report.png");
    let (dom, log) = chromium(&page, &screenshot);
    assert!(
        dom.contains("<title>gauntlet: report-check</title>"),
        "no injected script ran: {}",
        &dom[..dom.len().min(400)]
    );
    assert!(!dom.contains("pwned</title>"));
    assert!(!dom.contains("<img"), "the injected markup stayed text");
    assert!(
        dom.contains("&lt;script&gt;"),
        "the injected text is shown, escaped"
    );
    for class in ["spectrum", "timeline", "throughput"] {
        let charts = dom.matches(&format!("class=\"chart {class}\"")).count();
        assert_eq!(charts, 2, "one {class} chart per protocol");
    }
    let polylines = dom.matches("<polyline").count();
    assert!(
        polylines >= 2 * 3 * 2,
        "every chart draws a line per path: {polylines}"
    );
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Refused to"))
        .collect();
    assert!(console_errors.is_empty(), "{console_errors:?}");
    assert!(
        std::fs::metadata(&screenshot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "screenshot at {}",
        screenshot.display()
    );
    eprintln!("screenshot: {}", screenshot.display());
}
