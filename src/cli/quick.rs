//! Quick mode, in the habits of oha and curl: `gauntlet run URL [URL2]` with `-z`, `-q`, `-c`,
//! `-n`, `-H`, `-m`, `-d` (`@file` reads a file), `--http1.1/--http2/--http3`, `--insecure`,
//! `--ca` and `--connect-to`. The flags become a scenario (JSON, which is YAML), validated like a
//! file, so quick runs get the same checks, results and reports; two URLs compare candidate and
//! baseline. `-` reads a scenario from standard input.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::RunArgs;

/// Whether the run's first argument is a URL rather than a scenario file.
pub fn is_url(arg: &str) -> bool {
    ["http://", "https://", "h2c://"]
        .iter()
        .any(|p| arg.starts_with(p))
}

/// `scheme://authority` and `path?query` of a URL given on the command line.
fn split(flag: &str, url: &str) -> Result<(String, String), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("{flag} `{url}`: {e}"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(format!("{flag} `{url}`: write it as http://HOST:PORT/PATH"));
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    Ok((format!("{scheme}://{authority}"), path))
}

/// The body of `-d`: the text, or with `@FILE` the file's (UTF-8) text.
fn body(data: &str, cwd: &Path) -> Result<String, String> {
    match data.strip_prefix('@') {
        Some(file) => crate::model::files::read_text(
            &cwd.join(file),
            "a request body",
            crate::model::files::SCENARIO_CAP,
        )
        .map_err(|e| format!("-d @{file}: {e}")),
        None => Ok(data.to_string()),
    }
}

/// The scenario the flags describe, as JSON text.
pub fn scenario(a: &RunArgs, cwd: &Path) -> Result<String, String> {
    let (base, path) = split("URL", &a.scenario)?;
    let mut headers = Map::new();
    for h in &a.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("-H `{h}`: write it as 'Name: value'"))?;
        headers.insert(name.trim().to_ascii_lowercase(), Value::from(value.trim()));
    }
    let target = |url: String| -> Value {
        let mut t = Map::new();
        t.insert("url".into(), url.into());
        if let Some(c) = &a.connect_to {
            t.insert("connect_to".into(), c.clone().into());
        }
        Value::Object(t)
    };
    let mut targets = Map::new();
    let mut compare = Value::Null;
    match &a.baseline_url {
        Some(second) => {
            let (other, other_path) = split("URL2", second)?;
            if other_path != path {
                return Err(format!(
                    "the two URLs ask for different paths ({path} and {other_path}): a comparison sends the same requests to both"
                ));
            }
            targets.insert("candidate".into(), target(base));
            targets.insert("baseline".into(), target(other));
            compare = json!({ "candidate": "candidate", "baseline": "baseline" });
        }
        None => {
            targets.insert("target".into(), target(base));
        }
    }
    let mut protocols = Vec::new();
    for (on, p) in [(a.http1, "h1"), (a.http2, "h2"), (a.http3, "h3")] {
        if on {
            protocols.push(p);
        }
    }
    if protocols.is_empty() {
        protocols.push("h1");
    }
    let method = match (&a.method, &a.data) {
        (Some(m), _) => m.to_ascii_uppercase(),
        (None, Some(_)) => "POST".to_string(),
        (None, None) => "GET".to_string(),
    };
    let mut request = Map::new();
    request.insert("name".into(), format!("{method} {path}").into());
    request.insert("method".into(), method.into());
    request.insert("path".into(), path.into());
    if !headers.is_empty() {
        request.insert("headers".into(), Value::Object(headers));
    }
    if let Some(d) = &a.data {
        request.insert("body".into(), body(d, cwd)?.into());
    }
    // oha's defaults: 50 requests in flight, for 10 s unless a count is given. `-q`, `-c`, `-z`
    // and `-n` then apply as they do to a scenario file.
    let mut load = json!({ "model": "closed", "concurrency": 50 });
    if a.requests.is_none() {
        load["duration"] = "10s".into();
    }
    let mut s = json!({
        "name": "quick",
        "targets": targets,
        "protocols": protocols,
        "load": load,
        "requests": [Value::Object(request)],
    });
    if !compare.is_null() {
        s["compare"] = compare;
    }
    if a.insecure || a.ca.is_some() {
        let mut tls = Map::new();
        if a.insecure {
            tls.insert("insecure".into(), true.into());
        }
        if let Some(ca) = &a.ca {
            tls.insert("ca".into(), cwd.join(ca).display().to_string().into());
        }
        s["tls"] = Value::Object(tls);
    }
    serde_json::to_string_pretty(&s).map_err(|e| e.to_string())
}

/// The summary `--json` prints on standard output: the verdict, each lane's figures and the
/// comparison's rows, for a script to read without the results file.
pub fn summary(r: &crate::model::results::ResultsFile) -> Value {
    let lanes: Vec<Value> = r
        .lanes
        .iter()
        .map(|l| {
            json!({
                "target": l.target,
                "protocol": l.protocol.as_str(),
                "count": l.summary.count,
                "ok": l.summary.ok,
                "errors": l.summary.errors,
                "error_rate": l.summary.error_rate,
                "rps": l.summary.rps,
                "statuses": l.summary.statuses,
                "latency_us": l.summary.latency_us,
                "not_sent": l.pacing.not_sent,
                "cancelled": l.pacing.cancelled,
            })
        })
        .collect();
    let comparison: Vec<Value> = r
        .comparison
        .iter()
        .flat_map(|c| c.verdicts.iter().filter(|v| v.request.is_none()))
        .map(|v| {
            json!({
                "protocol": v.protocol.as_str(),
                "metric": v.judgement.metric.name(),
                "ratio": v.judgement.estimate,
                "verdict": v.judgement.verdict.name(),
            })
        })
        .collect();
    json!({
        "scenario": r.meta.scenario,
        "exit_code": r.verdict.exit_code,
        "passed": r.verdict.passed,
        "reasons": r.verdict.reasons,
        "warnings": r.verdict.warnings,
        "lanes": lanes,
        "comparison": comparison,
    })
}
