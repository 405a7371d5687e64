//! JUnit XML for CI systems: a test case per gate, per expectation (target × protocol × request)
//! and per response difference. A check that did not hold is a `failure`; a transport or harness
//! fault (connect, tls, timeout, reset, protocol) is an `error`.

use std::fmt::Write as _;

use crate::model::comparison::show;
use crate::model::results::ResultsFile;

/// Escapes text for XML element content and attribute values.
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

struct Case {
    class: String,
    name: String,
    /// Seconds, when known.
    time: Option<f64>,
    failure: Option<(String, String)>,
    error: Option<(String, String)>,
}

fn suite(out: &mut String, name: &str, cases: &[Case], caveats: &[(&str, &str)]) {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let errors = cases.iter().filter(|c| c.error.is_some()).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        esc(name),
        cases.len()
    );
    // CI tools show a suite's properties next to its cases: where a reader of a red or green
    // run learns that TLS was not verified.
    if !caveats.is_empty() {
        out.push_str("    <properties>\n");
        for (name, text) in caveats {
            let _ = writeln!(
                out,
                "      <property name=\"{}\" value=\"{}\"/>",
                esc(name),
                esc(text)
            );
        }
        out.push_str("    </properties>\n");
    }
    for c in cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            esc(&c.class),
            esc(&c.name)
        );
        if let Some(t) = c.time {
            let _ = write!(out, " time=\"{t:.3}\"");
        }
        if c.failure.is_none() && c.error.is_none() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        if let Some((m, body)) = &c.failure {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"failure\">{}</failure>",
                esc(m),
                esc(body)
            );
        }
        if let Some((m, body)) = &c.error {
            let _ = writeln!(
                out,
                "      <error message=\"{}\" type=\"error\">{}</error>",
                esc(m),
                esc(body)
            );
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

/// A case per probe per path (a failing RFC verdict is a `failure`, a probe that could not run
/// an `error`), and a case per parity verdict.
fn probe_cases(r: &ResultsFile) -> Vec<Case> {
    use crate::model::conformance::Rfc;
    let Some(c) = &r.conformance else {
        return Vec::new();
    };
    let mut cases = Vec::new();
    for p in &c.paths {
        for x in &p.probes {
            let body = || {
                let rep = x.reproducer.as_ref();
                format!(
                    "{} ({})\nobserved: {}\nsent: {}\nreplay: {}\n{}",
                    x.why,
                    x.rfc_ref,
                    x.observed,
                    rep.map(|r| r.text.as_str()).unwrap_or(""),
                    rep.map(|r| r.replay.as_str()).unwrap_or(""),
                    super::probes::evidence_text(x)
                )
            };
            cases.push(Case {
                class: format!("gauntlet.conformance.{}", p.name),
                name: x.id.clone(),
                time: Some(x.duration_ms as f64 / 1000.0),
                failure: (x.verdict == Rfc::Fail).then(|| (x.why.clone(), body())),
                error: (x.verdict == Rfc::Error).then(|| (x.why.clone(), body())),
            });
        }
    }
    for x in &c.parity {
        cases.push(Case {
            time: None,
            class: "gauntlet.conformance.parity".into(),
            name: x.id.clone(),
            failure: x.failure.then(|| {
                (
                    format!("candidate {} vs baseline {}", x.candidate, x.baseline),
                    "no quirk accepts this difference".into(),
                )
            }),
            error: None,
        });
    }
    cases
}

/// Renders the report.
pub fn render(r: &ResultsFile) -> String {
    let gates: Vec<Case> = r
        .gates
        .iter()
        .map(|g| Case {
            time: None,
            class: "gauntlet.gates".into(),
            name: format!(
                "{}{}",
                g.gate,
                g.protocol
                    .map(|p| p.as_str())
                    .map(|p| format!(" [{p}]"))
                    .unwrap_or_default()
            ),
            // Failing closed on an inconclusive verdict is a check that did not hold; a gate
            // that could not be evaluated at all is a fault.
            failure: (!g.passed && (g.note.is_none() || g.undecided)).then(|| {
                let message = if g.shown.is_empty() {
                    format!("{} vs {}", show(&g.lhs), show(&g.rhs))
                } else {
                    g.shown.clone()
                };
                (message, g.note.clone().unwrap_or_else(|| g.gate.clone()))
            }),
            error: g
                .note
                .clone()
                .filter(|_| !g.undecided)
                .map(|n| (n.clone(), n)),
        })
        .collect();
    let mut expectations = Vec::new();
    for l in &r.lanes {
        for q in &l.requests {
            let (mut checks, mut faults) = (Vec::new(), Vec::new());
            for e in &q.errors {
                let line = format!("{} × {}:{} — {}", e.count, e.class, e.code, e.example);
                if e.class.is_check() {
                    checks.push((e.count, line));
                } else {
                    faults.push((e.count, line));
                }
            }
            let summary = |v: &Vec<(u64, String)>| {
                (!v.is_empty()).then(|| {
                    let failed: u64 = v.iter().map(|(n, _)| n).sum();
                    let lines: Vec<&str> = v.iter().map(|(_, l)| l.as_str()).collect();
                    (
                        format!("{failed} of {} requests", q.summary.count),
                        format!("{}\nreproduce: {}", lines.join("\n"), q.reproducer),
                    )
                })
            };
            expectations.push(Case {
                time: None,
                class: format!("gauntlet.{}.{}", l.target, l.protocol),
                name: q.name.clone(),
                failure: summary(&checks),
                error: summary(&faults),
            });
        }
    }
    let differences: Vec<Case> = r
        .differential
        .iter()
        .flat_map(|d| d.differences.iter())
        .map(|x| Case {
            time: None,
            class: format!("gauntlet.differential.{}", x.protocol),
            name: format!("{} {}", x.request, x.field),
            failure: Some((
                format!("candidate `{}` vs baseline `{}`", x.candidate, x.baseline),
                format!("{}\n{}", x.reproducers.candidate, x.reproducers.baseline),
            )),
            error: None,
        })
        .collect();
    let probes = probe_cases(r);
    let total = gates.len() + expectations.len() + differences.len() + probes.len();
    let count = |f: &dyn Fn(&Case) -> bool| {
        gates
            .iter()
            .chain(&expectations)
            .chain(&differences)
            .chain(&probes)
            .filter(|c| f(c))
            .count()
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"gauntlet {}\" tests=\"{total}\" failures=\"{}\" errors=\"{}\">",
        esc(&r.meta.scenario),
        count(&|c| c.failure.is_some()),
        count(&|c| c.error.is_some())
    );
    let caveats = super::caveats(r);
    suite(&mut out, "gates", &gates, &caveats);
    suite(&mut out, "expectations", &expectations, &caveats);
    suite(&mut out, "differential", &differences, &caveats);
    if r.conformance.is_some() {
        suite(&mut out, "conformance", &probes, &caveats);
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            esc("<script>alert(\"x\")</script> & 'y'\u{0}"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;\u{fffd}"
        );
    }
}
