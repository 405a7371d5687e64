//! Flows, resolved: the steps of each flow with their templates and captures, the variables
//! they share, and what fills those variables at the start of every iteration (a data row, the
//! generators). Evaluation lives here too, next to the types, as `expect.rs` does for checks:
//! rendering `{{name}}` templates, taking captures from a response.
//!
//! A flow's entry and its steps are ordinary entries of [`super::Scenario::requests`] (the steps
//! with weight 0, so the schedule never picks them alone): every per-request figure, verdict and
//! report then covers flows and steps with no code of its own.

use std::time::Duration;

use http::{HeaderMap, HeaderName};

use crate::model::seed::splitmix64;

/// Every flow of a scenario and the variables they use.
#[derive(Debug, Clone, Default)]
pub struct Flows {
    /// Variable names; a variable is its index here.
    pub vars: Vec<String>,
    /// Rows feeding some variables, one row per iteration.
    pub data: Option<Data>,
    /// Generated variables.
    pub generators: Vec<(usize, Generator)>,
    /// The flows, in file order.
    pub flows: Vec<Flow>,
}

/// A data file's rows.
#[derive(Debug, Clone)]
pub struct Data {
    /// The variable each column fills.
    pub columns: Vec<usize>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
    /// Drawn from the seed rather than taken in order.
    pub random: bool,
}

/// A generated variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// start, start + 1, … by iteration.
    Sequence(i64),
    /// An integer from the first to the second, both included.
    RandomInt(i64, i64),
    /// A version-4 UUID.
    Uuid,
}

/// One flow: which request entry records it as a whole, and its steps.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Index of the flow's own entry in the scenario's requests.
    pub entry: usize,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One step of a flow.
#[derive(Debug, Clone)]
pub struct Step {
    /// Index of the step's entry in the scenario's requests (method, expectations, timeout).
    pub request: usize,
    /// Path and query.
    pub path: Template,
    /// Headers whose values hold variables (the others are in the request entry).
    pub headers: Vec<(HeaderName, Template)>,
    /// The body, when it holds variables.
    pub body: Option<Template>,
    /// Variables taken from the response.
    pub captures: Vec<Capture>,
    /// Pause after the response.
    pub think: Duration,
}

impl Step {
    /// Whether a capture reads the body (so the body must be kept).
    pub fn needs_body(&self) -> bool {
        self.captures.iter().any(|c| {
            matches!(
                c.source,
                CaptureSource::Json { .. } | CaptureSource::Body(_)
            )
        })
    }
}

/// Text with `{{name}}` holes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(usize),
}

impl Template {
    /// Parses `text`; `lookup` gives a name's variable. The error names the first unknown
    /// variable, or says a hole is not closed.
    pub fn parse(text: &str, lookup: impl Fn(&str) -> Option<usize>) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| {
                format!("`{{{{` at `{}` is never closed by `}}}}`", &rest[open..])
            })?;
            let name = after[..close].trim();
            let var = lookup(name).ok_or_else(|| name.to_string())?;
            parts.push(Part::Var(var));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template(parts))
    }

    /// Whether the text holds no variable.
    pub fn is_literal(&self) -> bool {
        self.0.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// The text with each variable's current value.
    pub fn render(&self, vars: &[String]) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => out.push_str(vars.get(*v).map_or("", String::as_str)),
            }
        }
        out
    }
}

/// One capture: where a variable's value comes from.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The variable it sets.
    pub var: usize,
    /// Where from.
    pub source: CaptureSource,
}

/// Where a capture reads.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// A response header's first value, narrowed by a regular expression when given.
    Header {
        /// The header.
        name: HeaderName,
        /// Its first group (or whole match) is taken.
        regex: Option<regex::Regex>,
    },
    /// A JSONPath into the JSON body.
    Json {
        /// The compiled path.
        path: serde_json_path::JsonPath,
        /// As written, for the error code.
        text: String,
    },
    /// A regular expression over the body.
    Body(regex::Regex),
    /// The status code.
    Status,
}

/// A capture that found nothing: its stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFailure {
    /// `header:NAME`, `json:PATH` or `regex:VAR`.
    pub code: String,
    /// What was missing.
    pub message: String,
}

fn first_group(re: &regex::Regex, text: &str) -> Option<String> {
    let c = re.captures(text)?;
    c.get(1)
        .or_else(|| c.get(0))
        .map(|m| m.as_str().to_string())
}

impl Capture {
    /// The value from a response, or why there is none.
    pub fn take(
        &self,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        names: &[String],
    ) -> Result<String, CaptureFailure> {
        let var = names.get(self.var).map_or("?", String::as_str);
        match &self.source {
            CaptureSource::Status => Ok(status.to_string()),
            CaptureSource::Header { name, regex } => {
                let fail = |why: &str| CaptureFailure {
                    code: format!("header:{name}"),
                    message: format!("capture `{var}`: {why}"),
                };
                let value = headers
                    .get(name)
                    .ok_or_else(|| fail(&format!("the response has no `{name}` header")))?;
                let value = String::from_utf8_lossy(value.as_bytes());
                match regex {
                    None => Ok(value.into_owned()),
                    Some(re) => first_group(re, &value)
                        .ok_or_else(|| fail(&format!("`{re}` does not match the `{name}` header"))),
                }
            }
            CaptureSource::Json { path, text } => {
                let fail = |why: String| CaptureFailure {
                    code: format!("json:{text}"),
                    message: format!("capture `{var}`: {why}"),
                };
                let doc: serde_json::Value = serde_json::from_slice(body)
                    .map_err(|e| fail(format!("the body is not JSON ({e})")))?;
                match path.query(&doc).first() {
                    Some(serde_json::Value::String(s)) => Ok(s.clone()),
                    Some(serde_json::Value::Null) | None => {
                        Err(fail(format!("nothing at `{text}` in the body")))
                    }
                    Some(other) => Ok(other.to_string()),
                }
            }
            CaptureSource::Body(re) => {
                first_group(re, &String::from_utf8_lossy(body)).ok_or_else(|| CaptureFailure {
                    code: format!("regex:{var}"),
                    message: format!("capture `{var}`: `{re}` does not match the body"),
                })
            }
        }
    }
}

impl Flows {
    /// The flow recorded under request entry `request`, if that entry is a flow.
    pub fn of_entry(&self, request: usize) -> Option<&Flow> {
        self.flows.iter().find(|f| f.entry == request)
    }

    /// Whether request entry `request` is a flow or a step of one.
    pub fn involves(&self, request: usize) -> bool {
        self.flows
            .iter()
            .any(|f| f.entry == request || f.steps.iter().any(|s| s.request == request))
    }

    /// The variables at the start of iteration `n` (counted per lane from 0): the data row and
    /// the generators, all drawn from `seed` and `n` only, so both paths of a comparison see the
    /// same values in the same order. Captured variables start empty.
    pub fn start(&self, n: u64, seed: u64) -> Vec<String> {
        let mut vars = vec![String::new(); self.vars.len()];
        if let Some(d) = self.data.as_ref().filter(|d| !d.rows.is_empty()) {
            let len = d.rows.len() as u64;
            let row = if d.random {
                splitmix64(seed ^ splitmix64(n)) % len
            } else {
                n % len
            };
            for (col, v) in d.columns.iter().zip(&d.rows[row as usize]) {
                vars[*col] = v.clone();
            }
        }
        for (var, g) in &self.generators {
            // Each generator draws its own stream: two generators do not move in step.
            let draw = |k: u64| splitmix64(seed ^ splitmix64(n ^ splitmix64(*var as u64 ^ k)));
            vars[*var] = match *g {
                Generator::Sequence(start) => start.wrapping_add(n as i64).to_string(),
                Generator::RandomInt(lo, hi) => {
                    let span = hi.abs_diff(lo).saturating_add(1);
                    lo.wrapping_add((draw(0) % span) as i64).to_string()
                }
                Generator::Uuid => {
                    let mut bytes = [0u8; 16];
                    bytes[..8].copy_from_slice(&draw(1).to_le_bytes());
                    bytes[8..].copy_from_slice(&draw(2).to_le_bytes());
                    uuid::Builder::from_random_bytes(bytes)
                        .into_uuid()
                        .to_string()
                }
            };
        }
        vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<usize> {
        ["user", "token"].iter().position(|n| *n == name)
    }

    #[test]
    fn templates_fill_their_holes_and_name_unknown_variables() {
        let t = Template::parse("/a?u={{ user }}&t={{token}}", lookup).unwrap();
        assert!(!t.is_literal());
        assert_eq!(t.render(&["ann".into(), "x1".into()]), "/a?u=ann&t=x1");
        assert!(Template::parse("/plain", lookup).unwrap().is_literal());
        assert_eq!(Template::parse("{{nope}}", lookup), Err("nope".into()));
        assert!(Template::parse("{{user", lookup)
            .unwrap_err()
            .contains("never closed"));
    }

    #[test]
    fn iterations_take_rows_in_order_and_generators_from_the_seed() {
        let flows = Flows {
            vars: vec!["user".into(), "n".into(), "id".into(), "trace".into()],
            data: Some(Data {
                columns: vec![0],
                rows: vec![vec!["ann".into()], vec!["bob".into()]],
                random: false,
            }),
            generators: vec![
                (1, Generator::RandomInt(1, 3)),
                (2, Generator::Sequence(10)),
                (3, Generator::Uuid),
            ],
            flows: Vec::new(),
        };
        let users: Vec<String> = (0..3).map(|n| flows.start(n, 7)[0].clone()).collect();
        assert_eq!(users, ["ann", "bob", "ann"]);
        let a = flows.start(5, 7);
        assert_eq!(
            a,
            flows.start(5, 7),
            "the same seed and iteration give the same values"
        );
        assert_eq!(a[2], "15");
        let n: i64 = a[1].parse().unwrap();
        assert!((1..=3).contains(&n));
        assert_eq!(uuid::Uuid::parse_str(&a[3]).unwrap().get_version_num(), 4);
        assert_ne!(a[3], flows.start(6, 7)[3]);
    }

    #[test]
    fn random_rows_are_drawn_from_the_seed_alone() {
        let flows = Flows {
            vars: vec!["user".into()],
            data: Some(Data {
                columns: vec![0],
                rows: (0..50).map(|i| vec![format!("u{i}")]).collect(),
                random: true,
            }),
            ..Flows::default()
        };
        let draw = |seed| {
            (0..20)
                .map(|n| flows.start(n, seed)[0].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3), "both paths draw the same rows");
        assert_ne!(draw(3), draw(4), "another seed, other rows");
        let in_order: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
        assert_ne!(draw(3), in_order, "not taken in order");
    }
}
