//! The console summary printed at the end of a run: one table row per target × protocol (and per
//! request name when there are several), then errors by class and pacing warnings.

use std::fmt::Write as _;

use super::fmt_us;
use super::json::{LaneJson, ResultsFile, Summary};

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
    }
    let p = &l.pacing;
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
}

/// Renders the summary.
pub fn render(r: &ResultsFile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<5} {:<22} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "target", "proto", "request", "count", "rps", "p50", "p90", "p99", "p99.9", "max", "errors"
    );
    for l in &r.lanes {
        row(
            &mut out,
            &truncate(&l.target, 12),
            &l.protocol,
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
    let m = &r.meta;
    let _ = writeln!(out, "\n{} model, {:.1} s measured ({} s warm-up), {} client threads; latency is from the intended start (coordinated-omission corrected)", m.model, m.measured_s, m.warmup_s, m.threads);
    if r.verdict.passed {
        let _ = writeln!(out, "PASSED");
    } else {
        let _ = writeln!(out, "FAILED (exit {})", r.verdict.exit_code);
        for reason in &r.verdict.reasons {
            let _ = writeln!(out, "  - {reason}");
        }
    }
    out
}
