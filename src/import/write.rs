//! The scenario an import writes: a comment with the summary, then `name`, one target, `seed`,
//! the `load` section (the recorded mean rate, or the per-second stages of `--timing original`)
//! and one request per group, weighted by its count. Serialised with serde so that every recorded
//! string is quoted as YAML needs; the loader reads it back as any other scenario.

use std::collections::BTreeMap;

use serde::Serialize;

use super::aggregate::Group;
use super::timing::Stage;

#[derive(Serialize)]
struct ScenarioOut<'a> {
    name: &'a str,
    targets: BTreeMap<&'a str, &'a str>,
    seed: u64,
    load: LoadOut,
    requests: Vec<RequestOut<'a>>,
}

#[derive(Serialize)]
struct LoadOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stages: Option<Vec<StageOut>>,
}

#[derive(Serialize)]
struct StageOut {
    /// Seconds (a number: a speed factor makes fractions).
    duration: f64,
    rate: f64,
}

#[derive(Serialize)]
struct RequestOut<'a> {
    name: String,
    weight: u32,
    method: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expect: Option<ExpectOut>,
}

#[derive(Serialize)]
struct ExpectOut {
    status: Vec<u16>,
}

/// How the written scenario paces its requests.
pub enum Load {
    /// The mix at a flat rate for a set time.
    Mix {
        /// Requests per second.
        rate: f64,
        /// Seconds.
        duration_s: u64,
    },
    /// The recorded shape.
    Stages(Vec<Stage>),
}

/// The scenario's text.
pub fn scenario(
    name: &str,
    target: &str,
    summary: &[String],
    load: &Load,
    groups: &[Group],
) -> Result<String, String> {
    // Weights are u32: counts beyond that are scaled down together, keeping every group.
    let max = groups.iter().map(|g| g.count).max().unwrap_or(1);
    let scale = (max as f64 / f64::from(u32::MAX)).max(1.0);
    let requests = groups
        .iter()
        .map(|g| RequestOut {
            name: g.key.clone(),
            weight: ((g.count as f64 / scale).round() as u32).max(1),
            method: &g.method,
            path: &g.target,
            headers: &g.headers,
            body: g.body.as_deref(),
            // The default expectation (2xx or 3xx) holds unless the log recorded otherwise; then
            // the recorded statuses are what the replay expects.
            expect: g
                .statuses
                .keys()
                .any(|s| !(200..400).contains(s))
                .then(|| ExpectOut {
                    status: g.statuses.keys().copied().collect(),
                }),
        })
        .collect();
    let load = match load {
        Load::Mix { rate, duration_s } => LoadOut {
            rate: Some(*rate),
            duration: Some(format!("{duration_s}s")),
            stages: None,
        },
        Load::Stages(s) => LoadOut {
            rate: None,
            duration: None,
            stages: Some(
                s.iter()
                    .map(|s| StageOut {
                        duration: s.duration_s,
                        rate: s.rate,
                    })
                    .collect(),
            ),
        },
    };
    let out = ScenarioOut {
        name,
        targets: BTreeMap::from([("recorded", target)]),
        seed: 1,
        load,
        requests,
    };
    let yaml = serde_saphyr::to_string(&out).map_err(|e| e.to_string())?;
    let mut text = String::from("# Written by `gauntlet import`.\n");
    for l in summary {
        text.push_str("# ");
        text.push_str(&l.replace(['\n', '\r'], " "));
        text.push('\n');
    }
    text.push_str(&yaml);
    Ok(text)
}
