//! The HTML report's layout, measured in headless Chromium (issue 15, report v2): for a single
//! run, a two-path comparison, a comparison of saved runs and a conformance run, the test loads
//! the real report, measures where things landed and asserts layout, not pixels:
//! - no chart's legend overlaps its chart, and no chart overlaps another;
//! - every tick label lies inside its chart (the `p99.99` tick is not cut off);
//! - latency axes are logarithmic (tick labels in a constant ratio);
//! - a path has one colour in every chart, and its lines are drawn in it;
//! - the page does not scroll sideways, and the verdict banner is on the first screen, naming
//!   what failed;
//! - the last, partial second does not draw a fall in throughput;
//! - conformance failures come before passes, passes are folded, pass and variant differ.
//!
//! Measuring needs a script in the page, which the report's Content-Security-Policy forbids (and
//! should): the test measures a copy with that one meta element removed. Screenshots of the
//! real pages are left in `target/tmp/screenshots/` for people to look at.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{gauntlet, text};
use serde_json::Value;

/// Collects layout facts on load and leaves them, base64-encoded JSON, in `#layout-facts`.
const PROBE: &str = r#"<script>
window.addEventListener('load', () => {
  const r = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const v = document.getElementById('verdict');
  const facts = { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    banner: r(v), bannerText: v.innerText, charts: [], cells: {}, rows: [], foldedPasses: 0 };
  for (const f of document.querySelectorAll('figure.chart')) {
    const svg = f.querySelector('svg'); const leg = f.querySelector('.legend');
    facts.charts.push({
      cls: f.getAttribute('class'), svg: r(svg), legend: r(leg),
      texts: [...svg.querySelectorAll('text')].map(t => ({ t: t.textContent, b: r(t) })),
      keys: [...leg.querySelectorAll(':scope > span')].filter(s => s.querySelector('.key:not(.shade)'))
        .map(s => ({ t: s.innerText.trim(), c: getComputedStyle(s.querySelector('.key')).borderTopColor })),
      lines: [...svg.querySelectorAll('polyline')].map(p => ({ s: p.getAttribute('stroke'), p: p.getAttribute('points') })),
    });
  }
  for (const cls of ['rfc-pass', 'rfc-variant', 'rfc-fail', 'rfc-error', 'rfc-skipped']) {
    const e = document.querySelector('.' + cls);
    if (e) facts.cells[cls] = getComputedStyle(e).backgroundColor;
  }
  facts.rows = [...document.querySelectorAll('[data-verdict]')].map(e => e.getAttribute('data-verdict'));
  facts.foldedPasses = [...document.querySelectorAll('details [data-verdict="pass"]')].length;
  const pre = document.createElement('pre'); pre.id = 'layout-facts';
  pre.textContent = btoa(unescape(encodeURIComponent(JSON.stringify(facts))));
  document.body.appendChild(pre);
});
</script>"#;

fn shots() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Takes a screenshot of `page` as it is, and measures a copy with the probe script in it.
fn measure(page: &Path, name: &str) -> Value {
    let shot = shots().join(format!("{name}.png"));
    let log = common::chromium::screenshot(page, &shot, (1280, 7000));
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "no screenshot: {log}"
    );
    eprintln!("screenshot: {}", shot.display());
    let html = std::fs::read_to_string(page).unwrap();
    let csp = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = csp + html[csp..].find('>').unwrap() + 1;
    let probed = format!("{}{}", &html[..csp], &html[csp_end..])
        .replace("</body>", &format!("{PROBE}</body>"));
    let copy = page.with_file_name("layout-probe.html");
    std::fs::write(&copy, probed).unwrap();
    let (dom, log) = common::chromium::dom(&copy, (1280, 900));
    let at = dom
        .find("<pre id=\"layout-facts\">")
        .unwrap_or_else(|| panic!("the probe did not run: {log}"));
    let b64 = &dom[at + "<pre id=\"layout-facts\">".len()..];
    let b64 = &b64[..b64.find('<').unwrap()];
    let json = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

fn rect(v: &Value) -> [f64; 4] {
    let a: Vec<f64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    [a[0], a[1], a[2], a[3]]
}

fn overlap(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] < b[2] - 0.5 && b[0] < a[2] - 0.5 && a[1] < b[3] - 0.5 && b[1] < a[3] - 0.5
}

/// `#1f77b4` or `#1F77B4` as Chromium's computed `rgb(31, 119, 180)`.
fn rgb(hex: &str) -> String {
    let h = hex.trim_start_matches('#');
    let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap();
    format!("rgb({}, {}, {})", c(0), c(2), c(4))
}

/// A tick label's value in ms (`0.1 ms`, `2 s`), if it is one.
fn ms(label: &str) -> Option<f64> {
    let (n, unit) = label.trim().split_once(' ')?;
    let n: f64 = n.parse().ok()?;
    match unit {
        "ms" => Some(n),
        "s" => Some(n * 1000.0),
        _ => None,
    }
}

/// Every layout rule that holds for any report with charts; returns the colour of each path.
fn charts_are_laid_out(f: &Value, what: &str) -> BTreeMap<String, String> {
    assert!(
        f["scrollWidth"].as_f64() <= f["innerWidth"].as_f64(),
        "{what}: the page scrolls sideways: {} > {}",
        f["scrollWidth"],
        f["innerWidth"]
    );
    let charts = f["charts"].as_array().unwrap();
    assert!(!charts.is_empty(), "{what}: no chart");
    let mut colours: BTreeMap<String, String> = BTreeMap::new();
    for (i, c) in charts.iter().enumerate() {
        let cls = c["cls"].as_str().unwrap();
        let svg = rect(&c["svg"]);
        let legend = rect(&c["legend"]);
        assert!(
            !overlap(svg, legend),
            "{what}: {cls}: legend {legend:?} covers chart {svg:?}"
        );
        assert!(
            legend[1] >= svg[3] - 0.5,
            "{what}: {cls}: the legend is not under its chart"
        );
        for other in &charts[i + 1..] {
            assert!(
                !overlap(svg, rect(&other["svg"])),
                "{what}: {cls} overlaps {}",
                other["cls"]
            );
        }
        let mut ticks = Vec::new();
        for t in c["texts"].as_array().unwrap() {
            let b = rect(&t["b"]);
            let label = t["t"].as_str().unwrap().trim();
            assert!(
                b[0] >= svg[0] - 0.5
                    && b[2] <= svg[2] + 0.5
                    && b[1] >= svg[1] - 0.5
                    && b[3] <= svg[3] + 0.5,
                "{what}: {cls}: label `{label}` {b:?} is cut off by {svg:?}"
            );
            if let Some(v) = ms(label) {
                ticks.push(((b[1] + b[3]) / 2.0, v));
            }
        }
        if cls.contains("throughput") {
            assert!(ticks.is_empty(), "{what}: throughput is not in ms");
        } else {
            // Log axis: labels from the bottom up grow by one constant ratio, and span at least
            // a decade, so p50 and p99 both read.
            ticks.sort_by(|a, b| b.0.total_cmp(&a.0));
            assert!(ticks.len() >= 2, "{what}: {cls}: y ticks {ticks:?}");
            let ratios: Vec<f64> = ticks.windows(2).map(|w| w[1].1 / w[0].1).collect();
            assert!(
                ratios
                    .iter()
                    .all(|r| (r / ratios[0] - 1.0).abs() < 0.02 && *r > 2.0),
                "{what}: {cls}: not a log axis: {ticks:?}"
            );
            assert!(ticks.last().unwrap().1 / ticks[0].1 >= 10.0 - 1e-9);
        }
        let strokes: BTreeSet<String> = c["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l["s"].as_str())
            .filter(|s| s.starts_with('#'))
            .map(rgb)
            .collect();
        for k in c["keys"].as_array().unwrap() {
            let path = k["t"]
                .as_str()
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string();
            let colour = k["c"].as_str().unwrap().to_string();
            assert!(
                strokes.contains(&colour) || c["texts"].to_string().contains("could not"),
                "{what}: {cls}: {path}'s key is {colour} but no line is: {strokes:?}"
            );
            let prev = colours.entry(path.clone()).or_insert(colour.clone());
            assert_eq!(*prev, colour, "{what}: {path} changes colour in {cls}");
        }
    }
    let distinct: BTreeSet<&String> = colours.values().collect();
    assert_eq!(
        distinct.len(),
        colours.len(),
        "{what}: two paths share a colour: {colours:?}"
    );
    let banner = rect(&f["banner"]);
    assert!(
        banner[1] < 300.0,
        "{what}: the verdict banner is below the first screen"
    );
    colours
}

/// The points of the throughput lines in responses per second, read back through the chart's own
/// y tick labels.
fn throughput_values(f: &Value) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for c in f["charts"].as_array().unwrap() {
        if !c["cls"].as_str().unwrap().contains("throughput") {
            continue;
        }
        // y ticks: the numeric labels that share the leftmost right edge (they are
        // right-aligned against the axis; x labels are centred under it), as (pixel y, value).
        let svg = rect(&c["svg"]);
        let numeric: Vec<([f64; 4], f64)> = c["texts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| Some((rect(&t["b"]), t["t"].as_str()?.trim().parse().ok()?)))
            .collect();
        let edge = numeric.iter().map(|(b, _)| b[2]).fold(f64::MAX, f64::min);
        let ticks: Vec<(f64, f64)> = numeric
            .iter()
            .filter(|(b, _)| (b[2] - edge).abs() < 2.0)
            .map(|(b, v)| ((b[1] + b[3]) / 2.0, *v))
            .collect();
        assert!(ticks.len() >= 2, "y ticks {ticks:?}");
        let (y0, v0) = ticks[0];
        let (y1, v1) = ticks[ticks.len() - 1];
        let per_px = (v1 - v0) / (y0 - y1);
        for l in c["lines"].as_array().unwrap() {
            let (Some(s), Some(p)) = (l["s"].as_str(), l["p"].as_str()) else {
                continue;
            };
            // Grid lines are black at low opacity; path lines carry a path colour.
            if !s.starts_with('#') || s.eq_ignore_ascii_case("#000000") {
                continue;
            }
            let ys: Vec<f64> = p
                .split_whitespace()
                .filter_map(|xy| xy.split_once(',').and_then(|(_, y)| y.parse::<f64>().ok()))
                // Points are in the SVG's own units; the ticks were measured on the page.
                .map(|y| svg[1] + y * (svg[3] - svg[1]) / SVG_HEIGHT)
                .map(|y| v0 + (y0 - y) * per_px)
                .collect();
            out.push(ys);
        }
    }
    out
}

/// The height of every chart in SVG units (`charts::SIZE`).
const SVG_HEIGHT: f64 = 300.0;

fn write(dir: &Path, name: &str, yaml: &str) {
    std::fs::write(dir.join(name), yaml).unwrap();
}

const ONE: &str = "name: single\ntargets: { edge: embedded }\nprotocols: [h1, h2]\nload:\n  stages:\n    - { duration: 1s, rate: 100, warmup: true }\n    - { duration: 4s, rate: 100 }\nrequests:\n  - { name: fast, get: / }\n  - { name: slow, get: /delay/20 }\n";

#[test]
fn a_single_run_report_is_laid_out_with_log_axes_one_colour_per_path_and_no_fall_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "one.yaml", ONE);
    let o = gauntlet(&["run", "one.yaml", "--quiet", "--out", "one"], d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let f = measure(&d.join("one/index.html"), "single-run");
    let colours = charts_are_laid_out(&f, "single run");
    assert_eq!(colours.keys().collect::<Vec<_>>(), ["edge"]);
    // Six charts per protocol: two spectra, latency and throughput over time, TTFB, set-up.
    assert_eq!(f["charts"].as_array().unwrap().len(), 12);
    let lines = throughput_values(&f);
    assert_eq!(lines.len(), 2, "one throughput line per protocol");
    for ys in lines {
        // The plan is 100/s throughout; the last, partial second must not draw a fall.
        let last = *ys.last().unwrap();
        assert!(
            (60.0..140.0).contains(&last),
            "the line ends at {last:.0}/s: {ys:?}"
        );
    }
    assert!(f["bannerText"].as_str().unwrap().contains("PASSED"));
}

const TWO: &str = "name: two\ntargets:\n  new: { url: embedded, headers: { x-gauntlet-extra-delay-ms: \"5\" } }\n  old: embedded\nprotocols: [h1]\ncompare: { candidate: new, baseline: old }\nload:\n  stages:\n    - { duration: 1s, rate: 100, warmup: true }\n    - { duration: 4s, rate: 100 }\nrequests:\n  - { get: /delay/1 }\ngates:\n  - verdict(p50) != worse\n";

#[test]
fn a_comparison_report_names_the_failed_gate_and_keeps_each_path_s_colour() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "two.yaml", TWO);
    let o = gauntlet(&["run", "two.yaml", "--quiet", "--out", "two"], d);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a 5 ms regression on 1 ms: {}",
        text(&o)
    );
    let f = measure(&d.join("two/index.html"), "comparison");
    let colours = charts_are_laid_out(&f, "comparison");
    assert_eq!(colours.keys().collect::<Vec<_>>(), ["new", "old"]);
    let banner = f["bannerText"].as_str().unwrap();
    assert!(
        banner.contains("FAILED") && banner.contains("verdict(p50) != worse"),
        "{banner}"
    );
    // Interleaved paths: each path's rate reads as the planned 100/s, not half of it.
    let lines = throughput_values(&f);
    assert_eq!(lines.len(), 2);
    for ys in lines {
        let mut sorted = ys.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        assert!(
            (75.0..125.0).contains(&median),
            "{median:.0}/s per path: {ys:?}"
        );
    }
}

/// The medians of the throughput lines, in responses per second.
fn median_rates(f: &Value) -> Vec<f64> {
    throughput_values(f)
        .into_iter()
        .map(|mut ys| {
            ys.sort_by(f64::total_cmp);
            ys[ys.len() / 2]
        })
        .collect()
}

#[test]
fn a_saved_comparison_is_titled_with_its_files_and_keeps_each_run_s_clock() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Two two-path runs (interleaved) compared candidate with candidate: each lane keeps its
    // run's turns, so both still read 100/s, not a line jumping between 200 and 0.
    write(
        d,
        "two.yaml",
        &TWO.replace("x-gauntlet-extra-delay-ms: \"5\"", "x-probe: a"),
    );
    for out in ["base", "new"] {
        let o = gauntlet(&["run", "two.yaml", "--quiet", "--out", out], d);
        assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", text(&o));
    }
    let o = gauntlet(
        &[
            "compare",
            "base/results.json",
            "new/results.json",
            "--out",
            "cmp",
            "--base-role",
            "candidate",
        ],
        d,
    );
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", text(&o));
    let f = measure(&d.join("cmp/index.html"), "saved-comparison");
    charts_are_laid_out(&f, "saved comparison");
    let rates = median_rates(&f);
    assert_eq!(rates.len(), 2);
    for m in rates {
        assert!(
            (75.0..125.0).contains(&m),
            "{m:.0}/s: {rates:?}",
            rates = median_rates(&f)
        );
    }
    let html = std::fs::read_to_string(d.join("cmp/index.html")).unwrap();
    let title = &html[html.find("<title>").unwrap()..html.find("</title>").unwrap()];
    assert!(
        title.contains("new/results.json") && title.contains("base/results.json"),
        "{title}"
    );
}

#[test]
fn a_conformance_report_puts_failures_first_and_folds_passes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = gauntlet(
        &[
            "conformance",
            "--target",
            "embedded",
            "--suite",
            "h1,h2",
            "--out",
            "conf",
        ],
        d,
    );
    // The h2 crate's one known failure (see tests/conformance_cli.rs).
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let f = measure(&d.join("conf/index.html"), "conformance");
    assert!(
        f["scrollWidth"].as_f64() <= f["innerWidth"].as_f64(),
        "scrolls sideways"
    );
    assert!(rect(&f["banner"])[1] < 300.0);
    assert!(f["bannerText"]
        .as_str()
        .unwrap()
        .contains("h2.trailers.pseudo-header"));
    let rows: Vec<&str> = f["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let first_pass = rows
        .iter()
        .position(|v| *v == "pass")
        .expect("passes are listed");
    let last_fail = rows
        .iter()
        .rposition(|v| *v == "fail")
        .expect("the failure is listed");
    assert!(last_fail < first_pass, "{rows:?}");
    let passes = rows.iter().filter(|v| **v == "pass").count();
    assert_eq!(
        f["foldedPasses"].as_u64(),
        Some(passes as u64),
        "every pass is folded"
    );
    let cells = &f["cells"];
    assert_ne!(cells["rfc-pass"], cells["rfc-fail"]);
    if cells.get("rfc-variant").is_some() {
        assert_ne!(
            cells["rfc-pass"], cells["rfc-variant"],
            "pass and variant look alike"
        );
    }
}
