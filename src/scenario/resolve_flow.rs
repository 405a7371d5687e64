//! Checks and resolves flows: the variable table (data file columns, generators, captures), each
//! step's templates against the variables known at that step, and each capture's source. Every
//! mistake is reported at its node, like the rest of the file.

use std::path::Path;

use http::HeaderName;

use super::diagnostic::did_you_mean;
use super::flow::{Capture, CaptureSource, Data, Flow, Flows, Generator, Step, Template};
use super::flow_spec::{CaptureSpec, DataOrder, GeneratorSpec};
use super::model::{RequestSpec, ScenarioFile};
use super::validate::{last_line, Checker};
use super::Request;

/// The most rows a data file may hold: they are held in memory for the whole run.
const MAX_ROWS: usize = 1_000_000;

/// The variables that exist before any step runs (data columns, generators), with the data
/// rows and the generators; captures are added as the flows are resolved.
pub(super) fn resolve_vars(c: &mut Checker<'_>, f: &ScenarioFile, dir: &Path) -> Flows {
    let mut flows = Flows::default();
    if let Some(d) = &f.data {
        match read_rows(&dir.join(&d.file)) {
            Ok((_, rows)) if rows.is_empty() => {
                c.err("data.file", format!("`{}` has no rows", d.file), None);
            }
            Ok((names, rows)) => {
                let columns = names.iter().map(|n| var_index(&mut flows, n)).collect();
                flows.data = Some(Data {
                    columns,
                    rows,
                    random: d.order == Some(DataOrder::Random),
                });
            }
            Err(why) => c.err(
                "data.file",
                format!("cannot read `{}`: {why}", d.file),
                Some("a CSV file with a header row, or JSON lines (`.jsonl`), relative to the scenario file".into()),
            ),
        }
    }
    for (name, g) in &f.vars {
        let g = match *g {
            GeneratorSpec::Sequence(start) => Generator::Sequence(start),
            GeneratorSpec::RandomInt([lo, hi]) => {
                if lo > hi {
                    c.err(
                        &format!("vars.{name}.random_int"),
                        format!("the range {lo} to {hi} is empty"),
                        Some("write the smaller bound first, like `[1, 100]`".into()),
                    );
                }
                Generator::RandomInt(lo, hi)
            }
            GeneratorSpec::Uuid => Generator::Uuid,
        };
        let var = var_index(&mut flows, name);
        flows.generators.push((var, g));
    }
    flows
}

fn var_index(flows: &mut Flows, name: &str) -> usize {
    match flows.vars.iter().position(|v| v == name) {
        Some(i) => i,
        None => {
            flows.vars.push(name.to_string());
            flows.vars.len() - 1
        }
    }
}

/// Column names and rows of a CSV file (with a header row) or of JSON lines (one object each).
fn read_rows(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let jsonl = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "ndjson")
    );
    if !jsonl {
        let mut r = csv::Reader::from_path(path).map_err(|e| e.to_string())?;
        let names = r
            .headers()
            .map_err(|e| e.to_string())?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records().take(MAX_ROWS + 1) {
            rows.push(
                rec.map_err(|e| e.to_string())?
                    .iter()
                    .map(str::to_string)
                    .collect(),
            );
        }
        return cap(names, rows);
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut names: Vec<String> = Vec::new();
    let mut objects = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line)
            .map_err(|e| format!("line {}: not a JSON object ({e})", n + 1))?;
        for k in obj.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
        objects.push(obj);
    }
    let rows = objects
        .iter()
        .map(|o| {
            names
                .iter()
                .map(|k| match o.get(k) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Null) | None => String::new(),
                    Some(v) => v.to_string(),
                })
                .collect()
        })
        .collect();
    cap(names, rows)
}

fn cap(
    names: Vec<String>,
    rows: Vec<Vec<String>>,
) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    if rows.len() > MAX_ROWS {
        return Err(format!("more than {MAX_ROWS} rows"));
    }
    Ok((names, rows))
}

/// Reports `data` and `vars` in a scenario with no flow: nothing would read them.
pub(super) fn unused(c: &mut Checker<'_>, f: &ScenarioFile, flows: &Flows) {
    if !flows.flows.is_empty() {
        return;
    }
    for (key, on) in [("data", f.data.is_some()), ("vars", !f.vars.is_empty())] {
        if on {
            c.err_key(
                key,
                format!("`{key}` feeds the variables of flows, and this scenario has none"),
                Some("write the requests that use it as steps of a `flow:`".into()),
            );
        }
    }
}

/// The keys a flow entry does not take: a flow's requests are its steps.
fn request_keys(r: &RequestSpec) -> Vec<&'static str> {
    let set = [
        ("method", r.method.is_some()),
        ("path", r.path.is_some()),
        ("get", r.get.is_some()),
        ("post", r.post.is_some()),
        ("put", r.put.is_some()),
        ("delete", r.delete.is_some()),
        ("patch", r.patch.is_some()),
        ("head", r.head.is_some()),
        ("headers", !r.headers.is_empty()),
        ("body", r.body.is_some()),
        ("body_file", r.body_file.is_some()),
        ("expect", r.expect.is_some()),
        ("capture", !r.capture.is_empty()),
        ("think", r.think.is_some()),
    ];
    set.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect()
}

/// Reports `capture` and `think` on a request that is not a flow step.
pub(super) fn outside_flow(c: &mut Checker<'_>, p: &str, r: &RequestSpec) {
    for (key, on) in [
        ("capture", !r.capture.is_empty()),
        ("think", r.think.is_some()),
    ] {
        if on {
            c.err_key(
                &format!("{p}.{key}"),
                format!("`{key}` belongs to a step of a flow"),
                Some("put the request in a `flow:` list".into()),
            );
        }
    }
}

fn unknown_var(c: &mut Checker<'_>, at: &str, name: &str, known: &[String]) {
    let words: Vec<&str> = known.iter().map(String::as_str).collect();
    let hint = match (known.is_empty(), did_you_mean(name, &words)) {
        (true, _) => {
            "no variable is known here: add `data:`, `vars:`, or a `capture` in an earlier step"
                .into()
        }
        (false, Some(close)) => format!("did you mean `{close}`? known here: {}", known.join(", ")),
        (false, None) => format!("known here: {}", known.join(", ")),
    };
    c.err(at, format!("unknown variable `{{{{{name}}}}}`"), Some(hint));
}

fn template(
    c: &mut Checker<'_>,
    at: &str,
    text: &str,
    flows: &Flows,
    known: &[String],
) -> Template {
    let lookup = |n: &str| {
        known
            .iter()
            .any(|k| k == n)
            .then(|| flows.vars.iter().position(|v| v == n))
            .flatten()
    };
    match Template::parse(text, lookup) {
        Ok(t) => t,
        Err(why) if why.contains("never closed") => {
            c.err(at, why, None);
            Template::default()
        }
        Err(name) => {
            unknown_var(c, at, &name, known);
            Template::default()
        }
    }
}

fn capture_source(c: &mut Checker<'_>, at: &str, s: &CaptureSpec) -> Option<CaptureSource> {
    let regex = match &s.regex {
        Some(re) => match regex::Regex::new(re) {
            Ok(re) => Some(re),
            Err(e) => {
                let why = format!("invalid regular expression: {}", last_line(&e.to_string()));
                c.err(&format!("{at}.regex"), why, None);
                return None;
            }
        },
        None => None,
    };
    match (&s.header, &s.json, regex, s.status) {
        (Some(h), None, regex, false) => match HeaderName::from_bytes(h.as_bytes()) {
            Ok(name) => Some(CaptureSource::Header { name, regex }),
            Err(_) => {
                c.err(
                    &format!("{at}.header"),
                    format!("`{h}` is not a valid header name"),
                    None,
                );
                None
            }
        },
        (None, Some(j), None, false) => match serde_json_path::JsonPath::parse(j) {
            Ok(path) => Some(CaptureSource::Json {
                path,
                text: j.clone(),
            }),
            Err(e) => {
                c.err(
                    &format!("{at}.json"),
                    format!("`{j}` is not a JSONPath: {e}"),
                    Some("write it like `$.token` or `$.items[0].id`".into()),
                );
                None
            }
        },
        (None, None, Some(re), false) => Some(CaptureSource::Body(re)),
        (None, None, None, true) => Some(CaptureSource::Status),
        _ => {
            c.err(
                at,
                "a capture takes one source",
                Some("give `header` (optionally with `regex`), `json`, `regex` over the body, or `status: true`".into()),
            );
            None
        }
    }
}

/// Resolves the flow at `requests[i]`: pushes its entry, then its steps, onto `out`.
/// `request` resolves one step as an ordinary request at a YAML path.
pub(super) fn resolve_flow(
    c: &mut Checker<'_>,
    i: usize,
    r: &RequestSpec,
    steps: &[RequestSpec],
    flows: &mut Flows,
    out: &mut Vec<Request>,
    mut request: impl FnMut(&mut Checker<'_>, &str, &RequestSpec) -> Option<Request>,
) {
    let p = format!("requests[{i}]");
    for key in request_keys(r) {
        c.err_key(
            &format!("{p}.{key}"),
            format!("a flow takes no `{key}`: its requests are its steps"),
            Some("move it into a step of `flow:`".into()),
        );
    }
    let Some(name) = r.name.clone() else {
        c.err(
            &p,
            "a flow needs a `name`",
            Some(
                "it names the flow and prefixes its steps in results, like `checkout/login`".into(),
            ),
        );
        return;
    };
    if steps.is_empty() {
        c.err(&format!("{p}.flow"), "a flow needs at least one step", None);
        return;
    }
    // Variables known before the first step: the data columns and the generators.
    let mut known: Vec<String> = flows.vars.clone();
    let entry = out.len();
    let mut resolved = Vec::new();
    let mut step_requests = Vec::new();
    for (j, s) in steps.iter().enumerate() {
        let sp = format!("{p}.flow[{j}]");
        if s.flow.is_some() {
            c.err_key(
                &format!("{sp}.flow"),
                "a step cannot hold a flow of its own",
                None,
            );
            continue;
        }
        // Templated headers are rendered per iteration; the rest go on the request as usual.
        let mut literal = s.clone();
        literal.headers.retain(|_, v| !v.contains("{{"));
        let Some(mut req) = request(c, &sp, &literal) else {
            continue;
        };
        let path = template(
            c,
            &format!("{sp}.{}", path_key(s)),
            &req.path,
            flows,
            &known,
        );
        let mut headers = Vec::new();
        for (k, v) in s.headers.iter().filter(|(_, v)| v.contains("{{")) {
            let hp = format!("{sp}.headers.{k}");
            match HeaderName::from_bytes(k.as_bytes()) {
                Ok(h) => headers.push((h, template(c, &hp, v, flows, &known))),
                Err(_) => c.err_key(&hp, format!("`{k}` is not a valid header name"), None),
            }
        }
        let body = s
            .body
            .as_deref()
            .filter(|b| b.contains("{{"))
            .map(|b| template(c, &format!("{sp}.body"), b, flows, &known));
        let mut captures = Vec::new();
        for (var, spec) in &s.capture {
            let cp = format!("{sp}.capture.{var}");
            if var.is_empty() || var.contains(['{', '}']) || var.trim() != var {
                c.err_key(
                    &cp,
                    format!("`{var}` cannot name a variable"),
                    Some("use letters, digits and `_`".into()),
                );
                continue;
            }
            if let Some(source) = capture_source(c, &cp, spec) {
                captures.push(Capture {
                    var: var_index(flows, var),
                    source,
                });
            }
        }
        // A capture is known from the next step on.
        known.extend(s.capture.keys().cloned());
        let step_name = s.name.clone().unwrap_or_else(|| req.name.clone());
        req.name = format!("{name}/{step_name}");
        req.weight = 0;
        resolved.push(Step {
            request: entry + 1 + step_requests.len(),
            path,
            headers,
            body,
            captures,
            think: s.think.unwrap_or_default(),
        });
        step_requests.push(req);
    }
    let Some(first) = step_requests.first() else {
        return;
    };
    // The flow's own entry records the whole session; it borrows the first step's request so
    // that its default reproducer is where the session starts.
    let mut whole = first.clone();
    whole.name = name;
    whole.weight = r.weight.unwrap_or(1);
    out.push(whole);
    out.extend(step_requests);
    flows.flows.push(Flow {
        entry,
        steps: resolved,
    });
}

/// The key that holds a step's path, for diagnostics.
fn path_key(s: &RequestSpec) -> &'static str {
    request_keys(s)
        .into_iter()
        .find(|k| ["get", "post", "put", "delete", "patch", "head"].contains(k))
        .unwrap_or("path")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_give_columns_from_their_keys_and_text_for_other_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("users.jsonl");
        std::fs::write(
            &p,
            "{\"user\":\"ann\",\"age\":31}\n\n{\"user\":\"bob\",\"vip\":true}\n",
        )
        .unwrap();
        let (names, rows) = read_rows(&p).unwrap();
        // Keys come in name order (serde_json's map), which is all a column needs.
        assert_eq!(names, ["age", "user", "vip"]);
        assert_eq!(rows, [["31", "ann", ""], ["", "bob", "true"]]);
        std::fs::write(&p, "[1]\n").unwrap();
        assert!(read_rows(&p).unwrap_err().contains("line 1"));
    }

    #[test]
    fn csv_rows_follow_the_header_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("users.csv");
        std::fs::write(&p, "user,pass\nann,x\n\"b,ob\",y\n").unwrap();
        let (names, rows) = read_rows(&p).unwrap();
        assert_eq!(names, ["user", "pass"]);
        assert_eq!(rows, [["ann", "x"], ["b,ob", "y"]]);
    }
}
