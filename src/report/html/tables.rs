//! The report's tables: the comparison's verdicts, the figures per lane, gates, errors with their
//! reproducers, response differences and the environment the run was made in.

use maud::{html, Markup};

use super::super::{fmt_us, JudgementText};
use crate::model::comparison::show;
use crate::model::metric::Metric;
use crate::model::results::ResultsFile;

/// The comparison's verdicts, one table per protocol, and the A/A noise floor.
pub fn comparison(r: &ResultsFile) -> Markup {
    let Some(c) = &r.comparison else {
        return html! {};
    };
    let (cand, base) = c.names();
    let floor: Vec<String> = c
        .calibration
        .iter()
        .filter(|k| k.judgement.metric == Metric::P99)
        .map(|k| format!("{} p99 noise floor ±{:.1}%", k.protocol, k.noise * 100.0))
        .collect();
    html! {
        @for f in &c.forced {
            p.note.worse { "Compared with --force although the runs differ: " (f) }
        }
        h2 id="comparison" { (cand) " (candidate) vs " (base) " (baseline)" }
        p.note { "Fairness: " (c.fairness.name()) "; slices of " (c.slice_s) " s; 95% intervals from a paired bootstrap over slices (" (c.resamples) " resamples)." }
        @for p in super::protocols(r) {
            h3 { (p) }
            table.verdicts {
                tr { th.l { "request" } th.l { "metric" } th { "candidate" } th { "baseline" } th { "ratio" } th { "95% interval" } th { "tolerance" } th.l { "verdict" } }
                @for v in c.verdicts.iter().filter(|v| v.protocol == p) {
                    @let j = &v.judgement;
                    @let t = JudgementText::of(j);
                    tr {
                        td.l { (v.request.as_deref().unwrap_or("(all)")) }
                        td.l { (j.metric.name()) }
                        td { (t.candidate) } td { (t.baseline) } td { (t.estimate) }
                        td { (t.interval) } td { (t.tolerance) }
                        td class=(format!("l {}", j.verdict.name())) { (j.verdict.name()) (t.needed) }
                    }
                }
            }
        }
        @if !floor.is_empty() {
            p.note { "A/A calibration (the baseline's even slices against its odd ones): " (floor.join("; ")) }
        }
    }
}

/// Count, rate, corrected percentiles and errors per lane and per request.
pub fn summary(r: &ResultsFile) -> Markup {
    // A probe-only run has no figures.
    if r.lanes.is_empty() {
        return html! {};
    }
    html! {
        h2 id="figures" { "Figures" }
        table.summary {
            tr { th.l { "target" } th.l { "protocol" } th.l { "request" } th { "count" } th { "rps" }
                 th { "p50" } th { "p90" } th { "p95" } th { "p99" } th { "p99.9" } th { "max" } th { "errors" } th { "error rate" } }
            @for l in &r.lanes {
                @let rows = std::iter::once(("(all)", &l.summary)).chain(
                    l.requests.iter().filter(|_| l.requests.len() > 1).map(|q| (q.name.as_str(), &q.summary)));
                @for (name, s) in rows {
                    @let t = &s.latency_us;
                    tr {
                        td.l { (l.target) } td.l { (l.protocol) } td.l { (name) }
                        td { (s.count) } td { (format!("{:.1}", s.rps)) }
                        td { (fmt_us(t.p50)) } td { (fmt_us(t.p90)) } td { (fmt_us(t.p95)) } td { (fmt_us(t.p99)) }
                        td { (fmt_us(t.p999)) } td { (fmt_us(t.max)) }
                        td { (s.errors) } td { (format!("{:.3}%", s.error_rate * 100.0)) }
                    }
                }
            }
        }
        p.note { "Latency is measured from each request's intended start (coordinated-omission corrected); the panels below show the uncorrected figures beside it." }
    }
}

/// Every gate, failed ones marked.
pub fn gates(r: &ResultsFile) -> Markup {
    if r.gates.is_empty() {
        return html! {};
    }
    html! {
        h2 id="gates" { "Gates" }
        table.gates {
            tr { th.l { "gate" } th.l { "protocol" } th { "left" } th { "right" } th.l { "outcome" } }
            @for g in &r.gates {
                tr {
                    td.l { code { (g.gate) } }
                    td.l { (g.protocol.map_or("", |p| p.as_str())) }
                    td { (show(&g.lhs)) } td { (show(&g.rhs)) }
                    @if g.passed { td.l.better { "pass" } }
                    @else { td.l.worse { "FAIL" @if let Some(n) = &g.note { ": " (n) } } }
                }
            }
        }
    }
}

/// Failed requests by class and code, each with an example and a reproducer.
pub fn errors(r: &ResultsFile) -> Markup {
    if r.lanes.is_empty() {
        return html! {};
    }
    let any = r.lanes.iter().any(|l| l.summary.errors > 0);
    html! {
        h2 id="errors" { "Errors by class" }
        @if !any { p { "No request failed." } }
        @else {
            table.errors {
                tr { th.l { "target" } th.l { "protocol" } th.l { "request" } th.l { "class" } th.l { "code" } th { "count" } th.l { "example" } }
                @for l in &r.lanes {
                    @for q in &l.requests {
                        @for e in &q.errors {
                            tr {
                                td.l { (l.target) } td.l { (l.protocol) } td.l { (q.name) }
                                td.l { (e.class.as_str()) } td.l { code { (e.code) } }
                                td { (e.count) } td.l { (e.example) }
                            }
                        }
                        @if !q.errors.is_empty() && !q.reproducer.is_empty() {
                            tr { td.l colspan="7" { "reproduce: " pre { (q.reproducer) } } }
                        }
                    }
                }
            }
        }
    }
}

/// Where the two paths' responses differ beyond the baseline's own noise.
pub fn differences(r: &ResultsFile) -> Markup {
    let Some(d) = &r.differential else {
        return html! {};
    };
    html! {
        h2 id="differences" { "Response differences" }
        p.note { (d.fields_compared) " fields compared, " (d.samples) " samples per request, protocol and path; ignored headers: " (d.ignored_headers.join(", ")) "." }
        @if d.differences.is_empty() { p { "No difference beyond the baseline's own noise." } }
        @else {
            table.differences {
                tr { th.l { "protocol" } th.l { "request" } th.l { "field" } th.l { "candidate" } th.l { "baseline" } th { "differs" } th { "noise" } }
                @for x in &d.differences {
                    tr {
                        td.l { (x.protocol) } td.l { (x.request) } td.l { code { (x.field) } }
                        td.l { (x.candidate) } td.l { (x.baseline) }
                        td { (format!("{:.0}%", x.candidate_rate * 100.0)) } td { (format!("{:.0}%", x.noise_rate * 100.0)) }
                    }
                    tr { td.l colspan="7" { pre { (x.reproducers.candidate) "\n" (x.reproducers.baseline) } } }
                }
            }
        }
    }
}

/// The tool, commit, host, times, model and scenario of the run.
pub fn environment(r: &ResultsFile) -> Markup {
    let m = &r.meta;
    let rows = [
        ("tool", format!("{} {}", m.tool, m.version)),
        (
            "commit",
            m.commit.clone().unwrap_or_else(|| "(not set)".into()),
        ),
        ("host", m.host.clone()),
        ("started", m.started.clone()),
        ("finished", m.finished.clone()),
        (
            "model",
            format!(
                "{}, {:.1} s measured, {} s warm-up, {} client threads",
                m.model, m.measured_s, m.warmup_s, m.threads
            ),
        ),
        ("scenario", format!("{} ({})", m.scenario, m.scenario_path)),
        ("scenario digest", m.scenario_digest.clone()),
    ];
    html! {
        h2 id="environment" { "Environment" }
        table.environment {
            @for (k, v) in &rows { tr { th.l { (k) } td.l { (v) } } }
        }
        details { summary { "Scenario text" } pre { (m.scenario_text) } }
    }
}
