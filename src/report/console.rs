//! The console summary printed at the end of a run: one table row per target × protocol (and per
//! request name when there are several), then errors by class and pacing warnings.

use std::fmt::Write as _;

use super::{fmt_us, JudgementText};
use crate::model::comparison::show;
use crate::model::metric::Metric;
use crate::model::results::{LaneJson, ResultsFile, Summary};
use crate::model::Protocol;

fn row(out: &mut String, target: &str, proto: &str, name: &str, s: &Summary) {
    let l = &s.latency_us;
    let _ = writeln!(
        out,
        "{target:<12} {proto:<5} {name:<22} {:>9} {:>10.1} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
        s.count,
        s.rps,
        fmt_us(l.p50),
        fmt_us(l.p90),
        fmt_us(l.p99),
        fmt_us(l.p999),
        fmt_us(l.max),
        s.errors
    );
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn lane_notes(out: &mut String, l: &LaneJson) {
    let who = format!("{} {}", l.target, l.protocol);
    for r in &l.requests {
        for e in &r.errors {
            let _ = writeln!(
                out,
                "  {who} {}: {} × {}:{} — {}",
                r.name,
                e.count,
                e.class,
                e.code,
                truncate(&e.example, 120)
            );
        }
        if !r.errors.is_empty() && !r.reproducer.is_empty() {
            let _ = writeln!(out, "    reproduce: {}", r.reproducer);
        }
    }
    let p = &l.pacing;
    if p.cancelled > 0 {
        let _ = writeln!(
            out,
            "  {who}: {} requests in flight at the end were cancelled at the deadline (not errors, not in the latency figures)",
            p.cancelled
        );
    }
    if let Some(k) = p.plan.filter(|k| k.short()) {
        let _ = writeln!(
            out,
            "  {who}: {}; the client could not keep up (more client threads or connections, or a lower rate)",
            k.describe()
        );
    }
    if p.late_starts > 0 || p.not_sent > 0 {
        let _ = writeln!(
            out,
            "  {who}: the client fell behind the rate: {} late starts, max lag {}, {} planned requests not sent (latency is measured from the intended start)",
            p.late_starts,
            fmt_us(p.max_lag_us),
            p.not_sent
        );
    }
    if let Some(a) = &l.alt_svc {
        let _ = match (&a.h3, &a.error) {
            (Some(h3), _) => writeln!(
                out,
                "  {who}: Alt-Svc advertised `{}`; HTTP/3 dialled at {h3}",
                a.header
            ),
            (None, Some(e)) => writeln!(
                out,
                "  {who}: Alt-Svc discovery failed ({e}); HTTP/3 dialled at the URL's port"
            ),
            (None, None) => writeln!(
                out,
                "  {who}: no h3 in Alt-Svc (`{}`); HTTP/3 dialled at the URL's port",
                a.header
            ),
        };
    }
    let c = &l.connections;
    if c.early_data_attempted > 0 {
        let _ = writeln!(
            out,
            "  {who}: 0-RTT early data sent on {} connections, accepted on {}",
            c.early_data_attempted, c.early_data_accepted
        );
    }
    let _ = writeln!(
        out,
        "  {who}: {} connections ({} failed, {} TLS resumed), {:.1} requests per connection, connect p50 {}, handshake p50 {}",
        c.opened,
        c.failed,
        c.resumed,
        c.requests_per_connection,
        fmt_us(c.connect_us.p50),
        fmt_us(c.handshake_us.p50)
    );
    let f = &c.control_frames;
    if c.recycled > 0 || l.summary.retried > 0 || f.goaway > 0 {
        let ended = if l.protocol == Protocol::H1 {
            "Connection: close"
        } else {
            "GOAWAY"
        };
        let _ = writeln!(
            out,
            "  {who}: the server ended connections gracefully: {} {ended}, {} connections recycled, {} requests retried (not processed by the server, sent again)",
            f.goaway, c.recycled, l.summary.retried
        );
    }
    for w in &c.warnings {
        let _ = writeln!(out, "  warning: {who}: {w}");
    }
}

/// The comparison table, the gates and the response differences.
pub fn render_comparison(out: &mut String, r: &ResultsFile) {
    if let Some(c) = &r.comparison {
        let _ = writeln!(
            out,
            "\n{} (candidate) vs {} (baseline): {}, slices of {} s, {} resamples",
            c.names().0,
            c.names().1,
            c.fairness,
            c.slice_s,
            c.resamples
        );
        for f in &c.forced {
            let _ = writeln!(out, "  forced (--force), the runs differ: {f}");
        }
        let _ = writeln!(
            out,
            "{:<5} {:<10} {:>10} {:>10} {:>10} {:>20} {:>9}  verdict",
            "proto", "metric", "candidate", "baseline", "ratio", "95% interval", "tolerance"
        );
        for v in c.verdicts.iter().filter(|v| v.request.is_none()) {
            let j = &v.judgement;
            let t = JudgementText::of(j);
            let _ = writeln!(
                out,
                "{:<5} {:<10} {:>10} {:>10} {:>10} {:>20} {:>9}  {}{}",
                v.protocol,
                j.metric.name(),
                t.candidate,
                t.baseline,
                t.estimate,
                t.interval,
                t.tolerance,
                j.verdict.name(),
                t.needed
            );
        }
        for cal in &c.calibration {
            if cal.judgement.metric == Metric::P99 {
                let _ = writeln!(
                    out,
                    "  A/A calibration {} p99: noise floor ±{:.1}%",
                    cal.protocol,
                    cal.noise * 100.0
                );
            }
        }
    }
    if !r.gates.is_empty() {
        let _ = writeln!(out, "\ngates:");
        for g in &r.gates {
            let on = g
                .protocol
                .map(|p| p.as_str())
                .map(|p| format!(" [{p}]"))
                .unwrap_or_default();
            let detail = g
                .note
                .clone()
                .unwrap_or_else(|| format!("{} vs {}", show(&g.lhs), show(&g.rhs)));
            let _ = writeln!(
                out,
                "  {} {}{on}: {detail}",
                if g.passed { "PASS" } else { "FAIL" },
                g.gate
            );
        }
    }
    if let Some(d) = &r.differential {
        if d.differences.is_empty() {
            let _ = writeln!(
                out,
                "\nresponse differences: none ({} fields compared, {} samples per path)",
                d.fields_compared, d.samples
            );
        } else {
            let _ = writeln!(out, "\nresponse differences ({}):", d.differences.len());
            for x in &d.differences {
                let _ = writeln!(out, "  {} {} {}: candidate `{}` vs baseline `{}` ({:.0}% of samples; baseline vs itself {:.0}%)", x.protocol, x.request, x.field, truncate(&x.candidate, 60), truncate(&x.baseline, 60), x.candidate_rate * 100.0, x.noise_rate * 100.0);
                let _ = writeln!(out, "    candidate: {}", x.reproducers.candidate);
                let _ = writeln!(out, "    baseline:  {}", x.reproducers.baseline);
            }
        }
    }
}

/// What a reader must know before trusting the figures (TLS not verified, secrets shown), one
/// `warning:` line each.
pub fn caveats(r: &ResultsFile) -> String {
    super::caveats(r)
        .iter()
        .map(|(_, text)| format!("warning: {text}\n"))
        .collect()
}

/// Renders the summary.
pub fn render(r: &ResultsFile) -> String {
    let mut out = caveats(r);
    let _ = writeln!(
        out,
        "{:<12} {:<5} {:<22} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "target", "proto", "request", "count", "rps", "p50", "p90", "p99", "p99.9", "max", "errors"
    );
    for l in &r.lanes {
        row(
            &mut out,
            &truncate(&l.target, 12),
            l.protocol.as_str(),
            "(all)",
            &l.summary,
        );
        if l.requests.len() > 1 {
            for q in &l.requests {
                row(&mut out, "", "", &truncate(&q.name, 22), &q.summary);
            }
        }
    }
    out.push('\n');
    for l in &r.lanes {
        lane_notes(&mut out, l);
    }
    render_comparison(&mut out, r);
    let m = &r.meta;
    // Interleaved paths each had their own warm-up turn: the wall warm-up is twice the scenario's.
    let per_path = r
        .comparison
        .as_ref()
        .is_some_and(|c| c.fairness == crate::model::comparison::Sharing::Interleaved);
    let (warmup, each) = if per_path {
        (m.warmup_s / 2.0, " per path")
    } else {
        (m.warmup_s, "")
    };
    let _ = writeln!(out, "\n{} model, {:.1} s measured ({warmup} s warm-up{each}), {} client threads; latency is from the intended start (coordinated-omission corrected)", m.model, m.measured_s, m.threads);
    render_verdict(&mut out, r);
    out
}

/// The verdict line, its reasons and its warnings.
pub fn render_verdict(out: &mut String, r: &ResultsFile) {
    let v = &r.verdict;
    for w in &v.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    if v.passed {
        let _ = writeln!(out, "PASSED");
    } else {
        let _ = writeln!(out, "{} (exit {})", v.word(), v.exit_code);
        for reason in &v.reasons {
            let _ = writeln!(out, "  - {reason}");
        }
    }
}
