//! The Markdown summary for a pull-request comment: the verdict, the figures, the comparison,
//! and what failed. Short on purpose; the HTML report has the rest.

use std::fmt::Write as _;

use super::fmt_us;
use crate::model::comparison::show;
use crate::model::metric::Metric;
use crate::model::results::ResultsFile;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders the summary.
pub fn render(r: &ResultsFile) -> String {
    let mut out = String::new();
    let v = &r.verdict;
    let _ = writeln!(
        out,
        "## gauntlet: {} — {}\n",
        cell(&r.meta.scenario),
        match v.word() {
            "PASSED" => "✅ passed",
            "INCONCLUSIVE" => "⚠️ inconclusive",
            _ => "❌ failed",
        }
    );
    for reason in &v.reasons {
        let _ = writeln!(out, "- {}", cell(reason));
    }
    for w in &v.warnings {
        let _ = writeln!(out, "- ⚠️ {}", cell(w));
    }
    let caveats = super::caveats(r);
    for (_, text) in &caveats {
        let _ = writeln!(out, "- ⚠️ {text}");
    }
    if !v.reasons.is_empty() || !v.warnings.is_empty() || !caveats.is_empty() {
        out.push('\n');
    }
    if !r.lanes.is_empty() {
        out.push_str("| target | proto | count | rps | p50 | p90 | p99 | p99.9 | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    }
    for l in &r.lanes {
        let s = &l.summary;
        let t = &s.latency_us;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} |",
            cell(&l.target),
            l.protocol,
            s.count,
            s.rps,
            fmt_us(t.p50),
            fmt_us(t.p90),
            fmt_us(t.p99),
            fmt_us(t.p999),
            s.errors
        );
    }
    for l in &r.lanes {
        for w in &l.connections.warnings {
            let _ = writeln!(
                out,
                "\n> ⚠️ {} {}: {}",
                cell(&l.target),
                l.protocol,
                cell(w)
            );
        }
    }
    if let Some(c) = &r.comparison {
        let _ = writeln!(
            out,
            "\n### {} (candidate) vs {} (baseline)\n",
            cell(c.names().0),
            cell(c.names().1)
        );
        out.push_str(
            "| proto | metric | ratio | 95% interval | verdict |\n|---|---|---:|---|---|\n",
        );
        for row in c
            .verdicts
            .iter()
            .filter(|v| v.request.is_none() && v.judgement.metric != Metric::Rps)
        {
            let j = &row.judgement;
            let t = super::JudgementText::of(j);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                row.protocol,
                j.metric.name(),
                t.estimate,
                t.interval,
                j.verdict.name()
            );
        }
    }
    let failed: Vec<_> = r.gates.iter().filter(|g| !g.passed).collect();
    if !r.gates.is_empty() {
        let _ = writeln!(
            out,
            "\n**Gates:** {} of {} checks passed.",
            r.gates.len() - failed.len(),
            r.gates.len()
        );
        for g in failed {
            let _ = writeln!(
                out,
                "- `{}`{}: {} vs {}",
                cell(&g.gate),
                g.protocol
                    .map(|p| p.as_str())
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default(),
                show(&g.lhs),
                show(&g.rhs)
            );
        }
    }
    super::probes::markdown(&mut out, r);
    if let Some(d) = &r.differential {
        if !d.differences.is_empty() {
            let _ = writeln!(out, "\n**Response differences:** {}", d.differences.len());
            for x in d.differences.iter().take(10) {
                let _ = writeln!(
                    out,
                    "- {} {} `{}`: `{}` vs `{}`",
                    x.protocol,
                    cell(&x.request),
                    cell(&x.field),
                    cell(&x.candidate),
                    cell(&x.baseline)
                );
            }
        }
    }
    let errors: Vec<String> = r
        .lanes
        .iter()
        .flat_map(|l| {
            l.requests.iter().flat_map(move |q| {
                q.errors.iter().map(move |e| {
                    format!(
                        "- {} {} {}: {} × {}:{}",
                        cell(&l.target),
                        l.protocol,
                        cell(&q.name),
                        e.count,
                        e.class,
                        cell(&e.code)
                    )
                })
            })
        })
        .take(10)
        .collect();
    if !errors.is_empty() {
        out.push_str("\n**Failures:**\n");
        for e in errors {
            let _ = writeln!(out, "{e}");
        }
    }
    let _ = writeln!(
        out,
        "\n<sub>gauntlet {} · scenario {} · {}</sub>",
        r.meta.version,
        &r.meta.scenario_digest.get(..12).unwrap_or(""),
        r.meta
            .commit
            .as_deref()
            .map(|c| format!("commit {c}"))
            .unwrap_or_else(|| "no commit".into())
    );
    out
}
