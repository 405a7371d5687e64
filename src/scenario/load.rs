//! Reading a scenario: YAML text → [`ScenarioFile`] (with serde's positioned errors) → command-line
//! overrides → [`validate::resolve`] → [`Scenario`]. Every failure becomes a list of diagnostics
//! rendered against the source.

use std::path::Path;
use std::time::Duration;

use serde_saphyr::Error as YamlError;

use crate::model::files::{read_text, InputError, SCENARIO_CAP};
use sha2::{Digest, Sha256};

use super::diagnostic::{self, Diagnostic};
use super::model::{CompareSpec, ModelName, ProtocolName, ScenarioFile, StageSpec, TargetSpec};
use super::spans::{Pos, SpanIndex};
use super::validate::{self, hint_for};
use super::{Scenario, Source};

/// Values from the command line that replace the file's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--target NAME=URL`: replace a target's URL.
    pub targets: Vec<(String, String)>,
    /// `--duration`.
    pub duration: Option<Duration>,
    /// `--rate` (switches to the open model).
    pub rate: Option<f64>,
    /// `--concurrency` (switches to the closed model).
    pub concurrency: Option<u32>,
    /// `--requests`.
    pub requests: Option<u64>,
    /// `--threads`.
    pub threads: Option<u32>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--protocol`.
    pub protocols: Option<Vec<ProtocolName>>,
    /// `--candidate NAME=URL`: the target under test (added or replaced).
    pub candidate: Option<(String, String)>,
    /// `--baseline NAME=URL`: the target it is judged against.
    pub baseline: Option<(String, String)>,
    /// `--allow-host HOST`: hosts outside loopback and private networks that may be loaded.
    pub allow_hosts: Vec<String>,
}

impl Overrides {
    /// The YAML paths the flags set, each with the flag as written, so that a problem with a
    /// value points at the flag rather than into the file.
    fn flagged(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        for (n, u) in &self.targets {
            v.push((format!("targets.{n}"), format!("--target {n}={u}")));
        }
        for (flag, given) in [("candidate", &self.candidate), ("baseline", &self.baseline)] {
            if let Some((n, u)) = given {
                v.push((format!("targets.{n}"), format!("--{flag} {n}={u}")));
            }
        }
        let mut one = |path: &str, flag: Option<String>| {
            if let Some(f) = flag {
                v.push((path.to_string(), f));
            }
        };
        one(
            "load.rate",
            self.rate
                .map(|r| format!("--rate {}", super::bounds::show_rate(r))),
        );
        one(
            "load.duration",
            self.duration
                .map(|d| format!("--duration {}", humantime::format_duration(d))),
        );
        one(
            "load.concurrency",
            self.concurrency.map(|c| format!("--concurrency {c}")),
        );
        one(
            "load.requests",
            self.requests.map(|r| format!("--requests {r}")),
        );
        one(
            "protocols",
            self.protocols.as_ref().map(|p| format!("--protocol {p:?}")),
        );
        v
    }

    /// `d` pointed at the flag that set its node, if a flag did.
    fn point_at_flag(&self, mut d: Diagnostic) -> Diagnostic {
        let under = |path: &str, p: &str| {
            path == p || path.starts_with(&format!("{p}.")) || path.starts_with(&format!("{p}["))
        };
        if d.flag.is_none() {
            let hit = d
                .path
                .as_deref()
                .and_then(|path| self.flagged().into_iter().find(|(p, _)| under(path, p)));
            if let Some((_, flag)) = hit {
                d = d.at_flag(flag);
            }
        }
        d
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read (missing, special, too large).
    #[error("{0}")]
    Io(InputError),
    /// The file is not a valid scenario; `rendered` holds the diagnostics as text.
    #[error("{rendered}")]
    Invalid {
        /// The diagnostics.
        diagnostics: Vec<Diagnostic>,
        /// Their rendering against the source.
        rendered: String,
    },
}

/// Reads and validates the scenario at `path`.
pub fn load_file(path: &Path, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    let text = match read_text(path, "a scenario", SCENARIO_CAP) {
        Ok(t) => t,
        Err(InputError::NotUtf8 {
            path,
            line,
            col,
            byte,
            valid,
        }) => {
            // Rendered like any other mistake: the line up to the byte, a caret under it.
            let d = Diagnostic {
                message: format!("the byte 0x{byte:02x} is not UTF-8"),
                path: None,
                pos: Some(Pos { line, col }),
                hint: Some("save the file as UTF-8".into()),
                flag: None,
            };
            return Err(ScenarioError::Invalid {
                rendered: diagnostic::render(&path, &valid, std::slice::from_ref(&d)),
                diagnostics: vec![d],
            });
        }
        Err(e) => return Err(ScenarioError::Io(e)),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    load_str(&path.display().to_string(), &text, dir, overrides)
}

/// Validates scenario `text`, named `name` in diagnostics, with relative paths taken from `dir`.
pub fn load_str(
    name: &str,
    text: &str,
    dir: &Path,
    overrides: &Overrides,
) -> Result<Scenario, ScenarioError> {
    let invalid = |diagnostics: Vec<Diagnostic>| {
        let diagnostics: Vec<Diagnostic> = diagnostics
            .into_iter()
            .map(|d| overrides.point_at_flag(d))
            .collect();
        ScenarioError::Invalid {
            rendered: diagnostic::render(name, text, &diagnostics),
            diagnostics,
        }
    };
    if text.trim().is_empty() {
        return Err(invalid(vec![Diagnostic::new("the file is empty").hint(
            "a scenario needs at least `targets` and `requests`; see scenarios/demo.yaml",
        )]));
    }
    let idx = SpanIndex::build(text);
    let mut file: ScenarioFile = serde_saphyr::from_str(text).map_err(|e| {
        invalid(vec![
            tab_indent(text).unwrap_or_else(|| from_yaml_error(&e, &idx))
        ])
    })?;
    let unset = super::env::expand_file(&mut file, &|name| std::env::var(name).ok());
    if !unset.is_empty() {
        return Err(invalid(
            unset
                .into_iter()
                .map(|(path, message)| Diagnostic {
                    message,
                    pos: idx.nearest_pos(&path, false),
                    path: Some(path),
                    hint: Some(
                        "export the variable before the run (a CI secret, say), or write `$${` for a literal `${`"
                            .into(),
                    ),
                    flag: None,
                })
                .collect(),
        ));
    }
    apply_overrides(&mut file, overrides).map_err(|d| invalid(vec![d]))?;
    let source = Source {
        path: name.to_string(),
        text: text.to_string(),
        digest: hex(&Sha256::digest(text.as_bytes())),
    };
    validate::resolve(&file, &idx, source, dir).map_err(invalid)
}

impl Source {
    /// Problems found after loading, by a layer that knows more than the scenario does (the
    /// probe catalogue), each at its YAML path, rendered like the loader's own.
    pub fn invalid(&self, problems: Vec<(String, String, Option<String>)>) -> ScenarioError {
        let idx = SpanIndex::build(&self.text);
        let diagnostics: Vec<Diagnostic> = problems
            .into_iter()
            .map(|(path, message, hint)| Diagnostic {
                message,
                pos: idx.nearest_pos(&path, false),
                path: Some(path),
                hint,
                flag: None,
            })
            .collect();
        ScenarioError::Invalid {
            rendered: diagnostic::render(&self.path, &self.text, &diagnostics),
            diagnostics,
        }
    }
}

/// The first line indented with a tab, when the YAML did not parse: YAML indents with spaces
/// only, and the parser's own message points elsewhere (often at the line before).
fn tab_indent(text: &str) -> Option<Diagnostic> {
    text.lines().enumerate().find_map(|(i, line)| {
        let lead = line.len() - line.trim_start_matches([' ', '\t']).len();
        let col = line[..lead].find('\t')?;
        Some(Diagnostic {
            message: "a tab in the indentation".into(),
            path: None,
            pos: Some(Pos {
                line: i + 1,
                col: col + 1,
            }),
            hint: Some("YAML indents with spaces only; replace the tab with spaces".into()),
            flag: None,
        })
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn apply_overrides(f: &mut ScenarioFile, o: &Overrides) -> Result<(), Diagnostic> {
    for (name, url) in &o.targets {
        match f.targets.get_mut(name) {
            Some(t) => t.url = url.clone(),
            None => {
                let known: Vec<&str> = f.targets.keys().map(String::as_str).collect();
                return Err(
                    Diagnostic::new(format!("the scenario has no target named `{name}`"))
                        .at_flag(format!("--target {name}={url}"))
                        .hint(hint_for(name, &known)),
                );
            }
        }
    }
    for (role, given) in [("candidate", &o.candidate), ("baseline", &o.baseline)] {
        let Some((name, url)) = given else { continue };
        f.targets
            .entry(name.clone())
            .and_modify(|t| t.url = url.clone())
            .or_insert_with(|| TargetSpec {
                url: url.clone(),
                connect_to: None,
                headers: Default::default(),
            });
        let cmp = f.compare.get_or_insert_with(|| CompareSpec {
            candidate: String::new(),
            baseline: String::new(),
            fairness: None,
            slice: None,
            calibrate: false,
            tolerance: None,
            resamples: None,
            allow_inconclusive: false,
            differential: None,
        });
        if role == "candidate" {
            cmp.candidate = name.clone();
        } else {
            cmp.baseline = name.clone();
        }
    }
    if let Some(cmp) = &f.compare {
        if cmp.candidate.is_empty() || cmp.baseline.is_empty() {
            return Err(Diagnostic::new(
                "--candidate and --baseline go together when the scenario has no `compare` section",
            )
            .at_flag(if o.candidate.is_some() {
                "--candidate"
            } else {
                "--baseline"
            }));
        }
    }
    if o.seed.is_some() {
        f.seed = o.seed;
    }
    f.allow_hosts.extend(o.allow_hosts.iter().cloned());
    if let Some(p) = &o.protocols {
        f.protocols = Some(p.clone());
    }
    let load = f.load.get_or_insert_with(Default::default);
    if let Some(c) = o.concurrency {
        load.model = ModelName::Closed;
        load.concurrency = Some(c);
        load.rate = None;
        load.stages = None;
    }
    if o.rate.is_some() {
        load.model = ModelName::Open;
        load.concurrency = None;
    }
    if o.requests.is_some() {
        load.requests = o.requests;
    }
    if o.threads.is_some() {
        load.threads = o.threads;
    }
    if load.model == ModelName::Open && (o.rate.is_some() || o.duration.is_some()) {
        match load.stages.take() {
            Some(stages) => {
                // Keep the warm-up stages; the flags replace the measured part by one stage.
                let measured: Vec<&StageSpec> = stages.iter().filter(|s| !s.warmup).collect();
                let duration = o
                    .duration
                    .unwrap_or_else(|| measured.iter().map(|s| s.duration).sum());
                let rate = o
                    .rate
                    .or_else(|| measured.last().map(|s| s.ramp_to.unwrap_or(s.rate)))
                    .unwrap_or(1.0);
                let mut kept: Vec<StageSpec> =
                    stages.iter().filter(|s| s.warmup).cloned().collect();
                kept.push(StageSpec {
                    duration,
                    rate,
                    ramp_to: None,
                    warmup: false,
                });
                load.stages = Some(kept);
            }
            None => {
                if o.rate.is_some() {
                    load.rate = o.rate;
                }
                if o.duration.is_some() {
                    load.duration = o.duration;
                }
            }
        }
    } else if o.duration.is_some() {
        load.duration = o.duration;
    }
    Ok(())
}

/// Turns a deserializer error into a diagnostic with a YAML path and, for a misspelt key or
/// value, a "did you mean" hint.
fn from_yaml_error(e: &YamlError, idx: &SpanIndex) -> Diagnostic {
    let pos = e.location().filter(|l| l.line() > 0).map(|l| Pos {
        line: l.line() as usize,
        col: l.column().max(1) as usize,
    });
    let mut path = pos.and_then(|p| idx.path_at(p)).map(str::to_string);
    if let YamlError::SerdeMissingField { field, .. } = e.without_snippet() {
        // The position is inside the mapping that lacks the key: name the key in that mapping.
        let parent = path
            .as_deref()
            .and_then(|p| p.rfind(['.', '[']).map(|i| p[..i].to_string()))
            .unwrap_or_default();
        path = Some(if parent.is_empty() {
            field.to_string()
        } else {
            format!("{parent}.{field}")
        });
    }
    let (message, hint) = match e.without_snippet() {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => (
            format!("unknown key `{field}`"),
            Some(hint_for(field, expected)),
        ),
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            format!("unknown value `{variant}`"),
            Some(hint_for(variant, expected)),
        ),
        YamlError::SerdeMissingField { field, .. } => (format!("missing key `{field}`"), None),
        YamlError::DuplicateMappingKey { key, .. } => (
            match key {
                Some(k) => format!("duplicate key `{k}`"),
                None => "duplicate key".to_string(),
            },
            Some("each key may appear once in a mapping".to_string()),
        ),
        YamlError::Budget { breach, .. } => (
            budget_message(breach),
            Some("a scenario is written by hand or imported; split a file this large".into()),
        ),
        other => (plain_message(other), None),
    };
    let hint = hint.filter(|h| !h.is_empty());
    Diagnostic {
        message,
        path,
        pos,
        hint,
        flag: None,
    }
}

/// A YAML budget breach in words: which limit, and that it is one.
fn budget_message(b: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match b {
        B::Nodes { nodes } => format!(
            "the file holds more than {} YAML nodes, the limit",
            nodes - 1
        ),
        B::Depth { depth } => format!("the file nests {depth} levels deep, past the limit"),
        B::Aliases { .. } | B::Anchors { .. } | B::AliasAnchorRatio { .. } => {
            "the file uses more anchors or aliases than the limit allows".into()
        }
        B::ScalarBytes { .. } => "the file's values hold more bytes than the limit".into(),
        other => format!("the file breaks a YAML size limit ({other:?})"),
    }
}

/// The deserializer's own message, without the position it appends (we print our own).
fn plain_message(e: &YamlError) -> String {
    let opts = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
    let text = e.render_with_options(opts);
    let first = text.lines().next().unwrap_or("").trim();
    let cut = first.find(" at line ").map_or(first, |i| &first[..i]);
    cut.to_string()
}
