//! The Grafana dashboard of ci/grafana (issue 14): the fields Grafana needs to import it, every
//! variable it uses defined, every PromQL expression valid (Prometheus's own `promtool` parses
//! them) and naming only series gauntlet exports, with labels those series carry; and panels for
//! rate, latency percentiles from the histograms, errors by class, candidate against baseline and
//! per shard.

use std::collections::BTreeSet;
use std::process::Command;

use gauntlet::engine::Live;
use gauntlet::metrics::families::{collect, Context, Kind};
use serde_json::Value;

fn dashboard() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ci/grafana/gauntlet.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn exprs(d: &Value) -> Vec<String> {
    d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().iter())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect()
}

/// The names a scrape shows: counters with `_total`, histograms as their three series.
fn exported() -> BTreeSet<String> {
    let ctx = Context::new(Vec::new(), Box::new(|_| None));
    let mut out = BTreeSet::new();
    for f in collect(&Live::default(), &ctx) {
        match f.kind {
            Kind::Counter => {
                out.insert(format!("{}_total", f.name));
            }
            Kind::Gauge => {
                out.insert(f.name.to_string());
            }
            Kind::Histogram => {
                for s in ["bucket", "sum", "count"] {
                    out.insert(format!("{}_{s}", f.name));
                }
            }
        }
    }
    out
}

#[test]
fn the_dashboard_has_what_grafana_needs_to_import_it() {
    let d = dashboard();
    for key in ["uid", "title"] {
        assert!(d[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
    }
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 30));
    let panels = d["panels"].as_array().unwrap();
    assert!(panels.len() >= 5);
    let mut ids = BTreeSet::new();
    for p in panels {
        assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate panel id");
        assert!(p["title"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(p["type"], "timeseries");
        for k in ["x", "y", "w", "h"] {
            assert!(p["gridPos"][k].as_u64().is_some(), "gridPos.{k}");
        }
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty());
        for t in targets {
            assert!(t["refId"].as_str().is_some());
            assert!(t["expr"].as_str().is_some());
        }
    }
    // Every variable an expression or a data source uses is defined.
    let defined: BTreeSet<String> = d["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    let text = serde_json::to_string(&d["panels"]).unwrap();
    let used = regex::Regex::new(r"\$\{?([a-z_]+)").unwrap();
    for c in used.captures_iter(&text) {
        assert!(defined.contains(&c[1]), "${} is not defined", &c[1]);
    }
}

#[test]
fn every_expression_names_exported_series_and_their_labels() {
    let d = dashboard();
    let names = exported();
    let labels: BTreeSet<&str> = [
        "le",
        "target",
        "role",
        "protocol",
        "request",
        "outcome",
        "status_class",
        "class",
        "run",
        "shard",
        "instance",
        "job",
    ]
    .into_iter()
    .collect();
    let metric = regex::Regex::new(r"gauntlet_[a-z_]+").unwrap();
    let by = regex::Regex::new(r"by \(([^)]*)\)").unwrap();
    let matcher = regex::Regex::new(r"([a-z_]+)\s*=~?").unwrap();
    let all = exprs(&d);
    for e in &all {
        let found: Vec<&str> = metric.find_iter(e).map(|m| m.as_str()).collect();
        assert!(!found.is_empty(), "{e}: names no gauntlet series");
        for m in found {
            assert!(names.contains(m), "{e}: `{m}` is not exported ({names:?})");
        }
        for c in by.captures_iter(e) {
            for l in c[1].split(',').map(str::trim) {
                assert!(labels.contains(l), "{e}: no series carries `{l}`");
            }
        }
        for c in matcher.captures_iter(e) {
            assert!(labels.contains(&c[1]), "{e}: no series carries `{}`", &c[1]);
        }
    }
    // What the dashboard is for.
    let joined = all.join("\n");
    for needle in [
        "rate(gauntlet_requests_total",
        "histogram_quantile(0.99",
        "gauntlet_errors_total",
        "role=~\"candidate|baseline\"",
        "by (shard)",
        "gauntlet_planned_rate",
    ] {
        assert!(joined.contains(needle), "no panel with {needle}");
    }
}

#[test]
fn promtool_parses_every_expression() {
    let d = dashboard();
    let dir = tempfile::tempdir().unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, e) in exprs(&d).iter().enumerate() {
        // Grafana fills the variables in before Prometheus sees the query.
        let q = e.replace("$run", "demo").replace("$protocol", ".*");
        rules.push_str(&format!(
            "      - record: dashboard:expr_{i}\n        expr: {}\n",
            serde_json::to_string(&q).unwrap()
        ));
    }
    let file = dir.path().join("rules.yml");
    std::fs::write(&file, rules).unwrap();
    let o = Command::new("/usr/bin/promtool")
        .args(["check", "rules"])
        .arg(&file)
        .output()
        .expect("promtool runs (ci/install.sh installs Prometheus)");
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
