//! The HTML report: one self-contained file (inline CSS and SVG, no script, no external fetch; a
//! Content-Security-Policy forbids both), readable from a CI artifact and offline. Every string
//! that came from a server or a scenario goes through [`esc`].

use std::fmt::Write as _;

use super::charts::{self, css_colour, Series};
use super::{fmt_us, JudgementText};
use crate::model::comparison::{show, Sharing};
use crate::model::hist::{self, Hist};
use crate::model::metric::Metric;
use crate::model::results::{LaneJson, ResultsFile};
use crate::model::Protocol;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 forbids (NUL and the other C0 controls but tab and line ends)
            // would make junit.xml unreadable: shown as U+FFFD instead.
            c if (c.is_control() && !matches!(c, '\t' | '\n' | '\r') && (c as u32) < 0x20)
                || matches!(c, '\u{fffe}' | '\u{ffff}') =>
            {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1100px; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
.banner { padding: 0.8rem 1rem; border-radius: 6px; font-weight: bold; margin: 1rem 0; }
.pass { background: #e3f6e5; color: #1b5e20; } .fail { background: #fdecea; color: #b71c1c; }
.better { background: #c8e6c9; } .same { background: #f1f8e9; } .worse { background: #ffcdd2; }
.inconclusive { background: #fff9c4; }
pre, code { background: #f6f8fa; font-size: 0.8rem; } pre { padding: 0.5rem; overflow-x: auto; white-space: pre-wrap; }
.note { color: #666; font-size: 0.85rem; } .caveat { background: #fff3cd; border-left: 4px solid #b58100; padding: 0.4rem 0.6rem; } svg { display: block; margin: 0.5rem 0; }
"#;

fn lane_latency(l: &LaneJson) -> Hist {
    let mut h = hist::new_hist();
    for r in &l.requests {
        hist::merge(&mut h, &r.histograms.latency_us.0);
    }
    h
}

fn protocols(r: &ResultsFile) -> Vec<Protocol> {
    let mut out: Vec<Protocol> = Vec::new();
    for l in &r.lanes {
        if !out.contains(&l.protocol) {
            out.push(l.protocol);
        }
    }
    out
}

/// Targets in display order: candidate, baseline, then the rest.
fn targets(r: &ResultsFile) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(c) = &r.comparison {
        out.push(c.candidate.clone());
        out.push(c.baseline.clone());
    }
    for l in &r.lanes {
        if !out.contains(&l.target) {
            out.push(l.target.clone());
        }
    }
    out
}

fn banner(out: &mut String, r: &ResultsFile) {
    let v = &r.verdict;
    let class = if v.passed { "pass" } else { "fail" };
    let failed_gates = r.gates.iter().filter(|g| !g.passed).count();
    let _ = write!(
        out,
        "<div class=\"banner {class}\" id=\"verdict\">{} (exit {})",
        v.word(),
        v.exit_code
    );
    if !r.gates.is_empty() {
        let _ = write!(
            out,
            " — {} of {} gate checks passed",
            r.gates.len() - failed_gates,
            r.gates.len()
        );
    }
    out.push_str("</div>\n");
    if !v.reasons.is_empty() {
        out.push_str("<ul>");
        for reason in &v.reasons {
            let _ = write!(out, "<li>{}</li>", esc(reason));
        }
        out.push_str("</ul>\n");
    }
    if !v.warnings.is_empty() {
        out.push_str("<ul class=\"warnings\">");
        for w in &v.warnings {
            let _ = write!(out, "<li>warning: {}</li>", esc(w));
        }
        out.push_str("</ul>\n");
    }
}

fn comparison(out: &mut String, r: &ResultsFile) {
    let Some(c) = &r.comparison else { return };
    for f in &c.forced {
        let _ = writeln!(
            out,
            "<p class=\"note worse\">Compared with --force although the runs differ: {}</p>",
            esc(f)
        );
    }
    let _ = writeln!(
        out,
        "<h2>{} (candidate) vs {} (baseline)</h2>",
        esc(c.names().0),
        esc(c.names().1)
    );
    let _ = writeln!(out, "<p class=\"note\">Fairness: {}; slices of {} s; 95% intervals from a paired bootstrap over slices ({} resamples).</p>", esc(c.fairness.name()), c.slice_s, c.resamples);
    for p in protocols(r) {
        let _ = writeln!(out, "<h3>{}</h3>\n<table class=\"verdicts\"><tr><th class=\"l\">request</th><th class=\"l\">metric</th><th>candidate</th><th>baseline</th><th>ratio</th><th>95% interval</th><th>tolerance</th><th class=\"l\">verdict</th></tr>", esc(p.as_str()));
        for v in c.verdicts.iter().filter(|v| v.protocol == p) {
            let j = &v.judgement;
            let t = JudgementText::of(j);
            let verdict = j.verdict.name();
            let _ = writeln!(
                out,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l {verdict}\">{verdict}{}</td></tr>",
                esc(v.request.as_deref().unwrap_or("(all)")),
                j.metric.name(),
                t.candidate,
                t.baseline,
                t.estimate,
                t.interval,
                t.tolerance,
                esc(&t.needed)
            );
        }
        out.push_str("</table>\n");
    }
    if !c.calibration.is_empty() {
        out.push_str(
            "<p class=\"note\">A/A calibration (the baseline's even slices against its odd ones): ",
        );
        let parts: Vec<String> = c
            .calibration
            .iter()
            .filter(|k| k.judgement.metric == Metric::P99)
            .map(|k| {
                format!(
                    "{} p99 noise floor ±{:.1}%",
                    esc(k.protocol.as_str()),
                    k.noise * 100.0
                )
            })
            .collect();
        out.push_str(&parts.join("; "));
        out.push_str("</p>\n");
    }
}

fn summary_table(out: &mut String, r: &ResultsFile) {
    // A probe-only run has no figures.
    if r.lanes.is_empty() {
        return;
    }
    out.push_str("<h2>Figures</h2>\n<table class=\"summary\"><tr><th class=\"l\">target</th><th class=\"l\">protocol</th><th class=\"l\">request</th><th>count</th><th>rps</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>errors</th><th>error rate</th></tr>\n");
    for l in &r.lanes {
        let rows = std::iter::once(("(all)".to_string(), &l.summary)).chain(
            l.requests
                .iter()
                .filter(|_| l.requests.len() > 1)
                .map(|q| (q.name.clone(), &q.summary)),
        );
        for (name, s) in rows {
            let t = &s.latency_us;
            let _ = writeln!(
                out,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}%</td></tr>",
                esc(&l.target),
                esc(l.protocol.as_str()),
                esc(&name),
                s.count,
                s.rps,
                fmt_us(t.p50),
                fmt_us(t.p90),
                fmt_us(t.p99),
                fmt_us(t.p999),
                fmt_us(t.max),
                s.errors,
                s.error_rate * 100.0
            );
        }
    }
    out.push_str("</table>\n");
}

fn charts_section(out: &mut String, r: &ResultsFile) {
    if r.lanes.is_empty() {
        return;
    }
    let order = targets(r);
    let marks: Vec<f64> = r.meta.stages.iter().skip(1).map(|s| s.start_s).collect();
    let turns = if r
        .comparison
        .as_ref()
        .is_some_and(|c| c.fairness == Sharing::Interleaved)
    {
        2.0
    } else {
        1.0
    };
    let marks: Vec<f64> = marks.iter().map(|m| m * turns).collect();
    out.push_str("<h2>Latency and throughput</h2>\n");
    for p in protocols(r) {
        let lanes: Vec<&LaneJson> = order
            .iter()
            .filter_map(|t| r.lanes.iter().find(|l| &l.target == t && l.protocol == p))
            .collect();
        let spectrum: Vec<Series> = lanes
            .iter()
            .map(|l| Series {
                name: l.target.clone(),
                points: charts::spectrum_points(&lane_latency(l)),
            })
            .collect();
        out.push_str("<div class=\"chart spectrum\">");
        out.push_str(&charts::spectrum(
            &format!("{p}: latency by percentile"),
            &spectrum,
        ));
        out.push_str("</div>\n");
        let over = |pick: &dyn Fn(&crate::model::results::SecondJson) -> f64,
                    suffix: &str|
         -> Vec<Series> {
            lanes
                .iter()
                .map(|l| Series {
                    name: format!("{} {suffix}", l.target),
                    points: l
                        .timeline
                        .iter()
                        .filter(|s| s.requests > 0)
                        .map(|s| (s.t as f64 + 0.5, pick(s)))
                        .collect(),
                })
                .collect()
        };
        let mut lat = over(&|s| s.p50_us as f64 / 1000.0, "p50");
        lat.extend(over(&|s| s.p99_us as f64 / 1000.0, "p99"));
        out.push_str("<div class=\"chart timeline\">");
        out.push_str(&charts::over_time(
            &format!("{p}: latency over time"),
            "latency (ms)",
            &lat,
            r.meta.warmup_s,
            &marks,
        ));
        out.push_str("</div>\n<div class=\"chart throughput\">");
        out.push_str(&charts::over_time(
            &format!("{p}: throughput"),
            "responses/s",
            &over(&|s| s.requests as f64, "rps"),
            r.meta.warmup_s,
            &marks,
        ));
        out.push_str("</div>\n");
    }
    let legend: Vec<String> = order
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "<span style=\"color:{}\">■ {}</span>",
                css_colour(i),
                esc(t)
            )
        })
        .collect();
    let _ = writeln!(out, "<p class=\"note\">{}</p>", legend.join(" "));
}

fn errors_section(out: &mut String, r: &ResultsFile) {
    if r.lanes.is_empty() {
        return;
    }
    out.push_str("<h2>Errors by class</h2>\n");
    let any = r.lanes.iter().any(|l| l.summary.errors > 0);
    if !any {
        out.push_str("<p>No request failed.</p>\n");
        return;
    }
    out.push_str("<table class=\"errors\"><tr><th class=\"l\">target</th><th class=\"l\">protocol</th><th class=\"l\">request</th><th class=\"l\">class</th><th class=\"l\">code</th><th>count</th><th class=\"l\">example</th></tr>\n");
    for l in &r.lanes {
        for q in &l.requests {
            for e in &q.errors {
                let _ = writeln!(out, "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\"><code>{}</code></td><td>{}</td><td class=\"l\">{}</td></tr>", esc(&l.target), esc(l.protocol.as_str()), esc(&q.name), esc(e.class.as_str()), esc(&e.code), e.count, esc(&e.example));
            }
            if !q.errors.is_empty() && !q.reproducer.is_empty() {
                let _ = writeln!(
                    out,
                    "<tr><td colspan=\"7\" class=\"l\">reproduce: <pre>{}</pre></td></tr>",
                    esc(&q.reproducer)
                );
            }
        }
    }
    out.push_str("</table>\n");
}

/// Per lane: connections, how the server ended them, the requests sent again, the control
/// frames it sent and the limits it announced, and any flood warning.
fn connections_section(out: &mut String, r: &ResultsFile) {
    if r.lanes.is_empty() {
        return;
    }
    out.push_str("<h2>Connections and what the server did</h2>\n<table class=\"connections\"><tr><th class=\"l\">target</th><th class=\"l\">protocol</th><th>opened</th><th>failed</th><th>recycled</th><th>retried</th><th>GOAWAY</th><th>SETTINGS</th><th>PING</th><th>WINDOW_UPDATE</th><th>RST_STREAM</th><th class=\"l\">announced limits</th></tr>\n");
    for l in &r.lanes {
        let c = &l.connections;
        let f = &c.control_frames;
        let p = &c.peer_limits;
        let limits: Vec<String> = [
            ("streams", p.max_concurrent_streams),
            ("window", p.initial_window_size),
            ("frame", p.max_frame_size),
            ("header list", p.max_header_list_size),
        ]
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
        .collect();
        let _ = writeln!(out, "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>", esc(&l.target), esc(l.protocol.as_str()), c.opened, c.failed, c.recycled, l.summary.retried, f.goaway, f.settings, f.ping, f.window_update, f.rst_stream, esc(&limits.join(", ")));
        for w in &c.warnings {
            let _ = writeln!(
                out,
                "<tr><td colspan=\"12\" class=\"l worse\">warning: {}</td></tr>",
                esc(w)
            );
        }
    }
    out.push_str("</table>\n<p class=\"note\">Recycled: connections the server ended gracefully (GOAWAY, <code>Connection: close</code>) or on which it refused a request. Retried: requests the server had not processed, sent once more on a fresh connection; each counts once. HTTP/1.1 counts <code>Connection: close</code> as GOAWAY; HTTP/3 counts QUIC PING, MAX_DATA/MAX_STREAM_DATA and RESET_STREAM frames.</p>\n");
}

fn gates_section(out: &mut String, r: &ResultsFile) {
    if r.gates.is_empty() {
        return;
    }
    out.push_str("<h2>Gates</h2>\n<table class=\"gates\"><tr><th class=\"l\">gate</th><th class=\"l\">protocol</th><th>left</th><th>right</th><th class=\"l\">outcome</th></tr>\n");
    for g in &r.gates {
        let (class, word) = if g.passed {
            ("better", "pass")
        } else {
            ("worse", "FAIL")
        };
        let _ = writeln!(out, "<tr><td class=\"l\"><code>{}</code></td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td class=\"l {class}\">{word}{}</td></tr>", esc(&g.gate), esc(g.protocol.map_or("", |p| p.as_str())), esc(&show(&g.lhs)), esc(&show(&g.rhs)), g.note.as_deref().map(|n| format!(": {}", esc(n))).unwrap_or_default());
    }
    out.push_str("</table>\n");
}

fn differences_section(out: &mut String, r: &ResultsFile) {
    let Some(d) = &r.differential else { return };
    out.push_str("<h2>Response differences</h2>\n");
    let _ = writeln!(out, "<p class=\"note\">{} fields compared, {} samples per request, protocol and path; ignored headers: {}.</p>", d.fields_compared, d.samples, esc(&d.ignored_headers.join(", ")));
    if d.differences.is_empty() {
        out.push_str("<p>No difference beyond the baseline's own noise.</p>\n");
        return;
    }
    out.push_str("<table class=\"differences\"><tr><th class=\"l\">protocol</th><th class=\"l\">request</th><th class=\"l\">field</th><th class=\"l\">candidate</th><th class=\"l\">baseline</th><th>differs</th><th>noise</th></tr>\n");
    for x in &d.differences {
        let _ = writeln!(out, "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\"><code>{}</code></td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.0}%</td><td>{:.0}%</td></tr>", esc(x.protocol.as_str()), esc(&x.request), esc(&x.field), esc(&x.candidate), esc(&x.baseline), x.candidate_rate * 100.0, x.noise_rate * 100.0);
        let _ = writeln!(
            out,
            "<tr><td colspan=\"7\" class=\"l\"><pre>{}\n{}</pre></td></tr>",
            esc(&x.reproducers.candidate),
            esc(&x.reproducers.baseline)
        );
    }
    out.push_str("</table>\n");
}

fn environment(out: &mut String, r: &ResultsFile) {
    let m = &r.meta;
    out.push_str("<h2>Environment</h2>\n<table class=\"environment\">");
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
    for (k, v) in rows {
        let _ = write!(
            out,
            "<tr><th class=\"l\">{k}</th><td class=\"l\">{}</td></tr>",
            esc(&v)
        );
    }
    out.push_str("</table>\n");
    let _ = writeln!(
        out,
        "<details><summary>Scenario text</summary><pre>{}</pre></details>",
        esc(&m.scenario_text)
    );
}

/// Renders the whole report.
pub fn render(r: &ResultsFile) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n<title>gauntlet: {}</title>\n<style>{STYLE}</style></head><body>\n<h1>gauntlet: {}</h1>\n<p class=\"note\">{} · {}</p>\n",
        esc(&r.meta.scenario),
        esc(&r.meta.scenario),
        esc(&r.meta.started),
        esc(&r.meta.host)
    );
    banner(&mut out, r);
    for (_, text) in super::caveats(r) {
        let _ = writeln!(out, "<p class=\"caveat\">⚠ {}</p>", esc(text));
    }
    comparison(&mut out, r);
    summary_table(&mut out, r);
    charts_section(&mut out, r);
    gates_section(&mut out, r);
    errors_section(&mut out, r);
    connections_section(&mut out, r);
    differences_section(&mut out, r);
    super::probes::html(&mut out, r);
    environment(&mut out, r);
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
