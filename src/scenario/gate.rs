//! Gates: conditions on the run, written k6-style in the scenario and checked at the end.
//!
//! ```text
//! candidate.p99 <= baseline.p99 * 1.10
//! candidate.h3.error_rate < 0.1%
//! baseline.h2.home.p50 < 20ms
//! verdict(p99) != worse
//! differences == 0
//! conformance.regressions == 0
//! ```
//! A reference is `ROLE[.PROTOCOL][.REQUEST].METRIC`, ROLE being `candidate`, `baseline` or a
//! target name. A gate without a protocol must hold for every protocol of the run.

use serde::{Deserialize, Serialize};

use crate::model::metric::{Metric, Verdict};
use crate::model::Protocol;

/// How roles are given: in the file, or by the flags of `run` and `validate`.
const ROLES_HINT: &str = "add `compare: { candidate: NAME, baseline: NAME }`, or give the roles with `--candidate NAME=URL --baseline NAME=URL` (to `run` and to `validate`)";

/// Who a reference is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The compare section's candidate.
    Candidate,
    /// The compare section's baseline.
    Baseline,
    /// A target by name.
    Target(String),
}

/// `ROLE[.PROTOCOL][.REQUEST].METRIC`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRef {
    /// Whose figure.
    pub role: Role,
    /// Which protocol, or every protocol of the run.
    pub protocol: Option<Protocol>,
    /// Which request, or all of them.
    pub request: Option<String>,
    /// Which metric.
    pub metric: Metric,
}

/// `verdict([PROTOCOL.][REQUEST.]METRIC)`.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictRef {
    /// Which protocol, or every protocol.
    pub protocol: Option<Protocol>,
    /// Which request, or all of them together.
    pub request: Option<String>,
    /// Which metric.
    pub metric: Metric,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A metric times a factor.
    Metric(MetricRef, f64),
    /// A constant (latencies in µs, rates as fractions).
    Number(f64),
    /// A verdict.
    Verdict(VerdictRef),
    /// A verdict name.
    VerdictName(Verdict),
    /// The number of response differences.
    Differences,
    /// The number of conformance failures (candidate RFC failures plus parity failures).
    ConformanceFailures,
    /// The number of probes where the candidate does worse than the baseline (no quirk).
    ConformanceRegressions,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Cmp {
    /// Applies the operator.
    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
        }
    }
}

/// A parsed gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// As written.
    pub text: String,
    /// Left side.
    pub lhs: Operand,
    /// Operator.
    pub op: Cmp,
    /// Right side.
    pub rhs: Operand,
}

/// What the parser needs to know about the scenario.
pub struct GateContext<'a> {
    /// Target names.
    pub targets: &'a [String],
    /// Whether a compare section names candidate and baseline.
    pub has_roles: bool,
    /// Protocols of the run.
    pub protocols: &'a [Protocol],
    /// Request names.
    pub requests: &'a [String],
}

/// A gate that cannot be used: what is wrong and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

fn err(message: impl Into<String>, hint: Option<String>) -> GateError {
    GateError {
        message: message.into(),
        hint,
    }
}

fn split_cmp(text: &str) -> Result<(&str, Cmp, &str), GateError> {
    for (tok, op) in [
        ("<=", Cmp::Le),
        (">=", Cmp::Ge),
        ("==", Cmp::Eq),
        ("!=", Cmp::Ne),
        ("<", Cmp::Lt),
        (">", Cmp::Gt),
    ] {
        if let Some(i) = text.find(tok) {
            return Ok((text[..i].trim(), op, text[i + tok.len()..].trim()));
        }
    }
    Err(err(
        format!("`{text}` has no comparison"),
        Some("write it like `candidate.p99 <= baseline.p99 * 1.10`".into()),
    ))
}

/// Parses `12`, `1.5`, `0.1%`, `20ms`, `250us`, `2s` into a plain number (µs for times).
fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix('%') {
        (n, 0.01)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = s.strip_suffix("us").or_else(|| s.strip_suffix("µs")) {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s').filter(|n| n.parse::<f64>().is_ok()) {
        (n, 1e6)
    } else {
        (s, 1.0)
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| v * scale)
}

fn metric(name: &str) -> Result<Metric, GateError> {
    Metric::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Metric::ALL.iter().map(|(n, _)| *n).collect();
        err(
            format!("unknown metric `{name}`"),
            Some(crate::scenario::validate::hint_for(name, &names)),
        )
    })
}

/// Splits `[PROTOCOL.][REQUEST.]METRIC` parts (already without the role).
fn tail(
    parts: &[&str],
    ctx: &GateContext<'_>,
) -> Result<(Option<Protocol>, Option<String>, Metric), GateError> {
    let (last, rest) = parts.split_last().ok_or_else(|| {
        err(
            "a metric is missing",
            Some("end the reference with a metric such as `p99`".into()),
        )
    })?;
    let m = metric(last)?;
    let mut protocol = None;
    let mut request = None;
    let mut rest = rest.to_vec();
    if let Some(first) = rest.first() {
        let p = match *first {
            "h1" => Some(Protocol::H1),
            "h2" => Some(Protocol::H2),
            "h3" => Some(Protocol::H3),
            _ => None,
        };
        if let Some(p) = p {
            if !ctx.protocols.contains(&p) {
                return Err(err(
                    format!("the run does not use `{}`", p.as_str()),
                    Some(format!(
                        "protocols are {}",
                        ctx.protocols
                            .iter()
                            .map(|p| p.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ));
            }
            protocol = Some(p);
            rest.remove(0);
        }
    }
    if !rest.is_empty() {
        let name = rest.join(".");
        if !ctx.requests.contains(&name) {
            let names: Vec<&str> = ctx.requests.iter().map(String::as_str).collect();
            return Err(err(
                format!("no request or protocol named `{name}`"),
                Some(crate::scenario::validate::hint_for(&name, &names)),
            ));
        }
        request = Some(name);
    }
    Ok((protocol, request, m))
}

fn operand(s: &str, ctx: &GateContext<'_>) -> Result<Operand, GateError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(err("a side of the comparison is empty", None));
    }
    if let Some(v) = number(s) {
        return Ok(Operand::Number(v));
    }
    if s == "differences" {
        return Ok(Operand::Differences);
    }
    if s == "conformance.failures" {
        return Ok(Operand::ConformanceFailures);
    }
    if s == "conformance.regressions" {
        return Ok(Operand::ConformanceRegressions);
    }
    if let Some(v) = Verdict::parse(s) {
        return Ok(Operand::VerdictName(v));
    }
    if let Some(inner) = s.strip_prefix("verdict(").and_then(|r| r.strip_suffix(')')) {
        if !ctx.has_roles {
            return Err(err(
                "`verdict(…)` needs a `compare` section with a candidate and a baseline",
                Some(ROLES_HINT.into()),
            ));
        }
        let parts: Vec<&str> = inner.trim().split('.').collect();
        let (protocol, request, metric) = tail(&parts, ctx)?;
        return Ok(Operand::Verdict(VerdictRef {
            protocol,
            request,
            metric,
        }));
    }
    let (reference, factor) = match s.split_once('*') {
        Some((r, f)) => (
            r.trim(),
            number(f).ok_or_else(|| err(format!("`{}` is not a number", f.trim()), None))?,
        ),
        None => match s.split_once('/') {
            Some((r, f)) => (
                r.trim(),
                1.0 / number(f).filter(|v| *v != 0.0).ok_or_else(|| {
                    err(format!("`{}` is not a number other than 0", f.trim()), None)
                })?,
            ),
            None => (s, 1.0),
        },
    };
    let parts: Vec<&str> = reference.split('.').collect();
    let role = match parts[0] {
        "candidate" | "baseline" if !ctx.has_roles => {
            return Err(err(
                format!("`{}` needs a `compare` section", parts[0]),
                Some(format!("{ROLES_HINT}, or name a target")),
            ))
        }
        "candidate" => Role::Candidate,
        "baseline" => Role::Baseline,
        name if ctx.targets.iter().any(|t| t == name) => Role::Target(name.to_string()),
        name => {
            let mut names: Vec<&str> = ctx.targets.iter().map(String::as_str).collect();
            if ctx.has_roles {
                names.extend(["candidate", "baseline"]);
            }
            return Err(err(
                format!("unknown target `{name}`"),
                Some(crate::scenario::validate::hint_for(name, &names)),
            ));
        }
    };
    let (protocol, request, metric) = tail(&parts[1..], ctx)?;
    Ok(Operand::Metric(
        MetricRef {
            role,
            protocol,
            request,
            metric,
        },
        factor,
    ))
}

/// Parses one gate.
pub fn parse(text: &str, ctx: &GateContext<'_>) -> Result<Gate, GateError> {
    let (l, op, r) = split_cmp(text)?;
    let lhs = operand(l, ctx)?;
    let rhs = operand(r, ctx)?;
    let verdictish = |o: &Operand| matches!(o, Operand::Verdict(_) | Operand::VerdictName(_));
    if verdictish(&lhs) != verdictish(&rhs) {
        return Err(err(
            "a verdict can only be compared with a verdict name",
            Some("write `verdict(p99) != worse`".into()),
        ));
    }
    if verdictish(&lhs) && !matches!(op, Cmp::Eq | Cmp::Ne) {
        return Err(err("verdicts compare with `==` or `!=`", None));
    }
    Ok(Gate {
        text: text.to_string(),
        lhs,
        op,
        rhs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> GateContext<'static> {
        static T: [String; 0] = [];
        GateContext {
            targets: &T,
            has_roles: true,
            protocols: &[Protocol::H1, Protocol::H3],
            requests: &[],
        }
    }

    #[test]
    fn parses_the_forms_of_the_design() {
        let g = parse("candidate.p99 <= baseline.p99 * 1.10", &ctx()).unwrap();
        assert_eq!(g.op, Cmp::Le);
        assert!(
            matches!(g.rhs, Operand::Metric(MetricRef { role: Role::Baseline, metric: Metric::P99, .. }, f) if (f - 1.1).abs() < 1e-9)
        );
        let g = parse("candidate.h3.error_rate < 0.1%", &ctx()).unwrap();
        assert!(matches!(
            g.lhs,
            Operand::Metric(
                MetricRef {
                    protocol: Some(Protocol::H3),
                    metric: Metric::ErrorRate,
                    ..
                },
                _
            )
        ));
        assert_eq!(g.rhs, Operand::Number(0.001));
        let g = parse("verdict(p99) != worse", &ctx()).unwrap();
        assert_eq!(g.rhs, Operand::VerdictName(Verdict::Worse));
        assert_eq!(
            parse("baseline.p50 < 20ms", &ctx()).unwrap().rhs,
            Operand::Number(20_000.0)
        );
        assert_eq!(
            parse("differences == 0", &ctx()).unwrap().lhs,
            Operand::Differences
        );
    }

    #[test]
    fn unknown_names_are_errors_with_hints() {
        let e = parse("candidate.p98 < 5ms", &ctx()).unwrap_err();
        assert!(e.message.contains("p98"));
        assert_eq!(e.hint.as_deref(), Some("did you mean `p99`?"));
        assert!(parse("candidate.h2.p99 < 5ms", &ctx())
            .unwrap_err()
            .message
            .contains("does not use `h2`"));
        assert!(parse("candiate.p99 < 5ms", &ctx())
            .unwrap_err()
            .hint
            .unwrap()
            .contains("candidate"));
        assert!(parse("verdict(p99) < worse", &ctx()).is_err());
    }
}
