//! What a conformance run is asked to do, as the scenario and the command line say it: which
//! probes (suites and id prefixes), the operator's policy for fields a proxy adds, and the quirks
//! that accept known differences between two paths. Probe ids are checked against the catalogue
//! by `conformance::check`, one layer up, since the catalogue is code.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::conformance::Suite;

/// Whether a proxy must add `Via` (RFC 9110 §7.6.3 says it must; many deployments turn it off).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ViaPolicy {
    /// Either way: absence is reported as a variant.
    #[default]
    Any,
    /// Via must be added.
    Required,
    /// Via must not be added.
    Forbidden,
}

/// What a proxy must do with `X-Forwarded-For`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum XffPolicy {
    /// Anything: what happened is reported.
    #[default]
    Any,
    /// Keep the client's value and append the client address.
    Append,
    /// Replace the client's value with the client address.
    Replace,
    /// Send none.
    Forbidden,
}

/// The operator's policy for fields a proxy adds.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ProxyPolicy {
    /// Via.
    #[serde(default)]
    pub via: ViaPolicy,
    /// X-Forwarded-For.
    #[serde(default)]
    pub x_forwarded_for: XffPolicy,
}

/// Which probes to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Families (all when empty).
    pub suites: Vec<Suite>,
    /// Only probes whose id starts with one of these (all when empty).
    pub only: Vec<String>,
}

/// A known, accepted deviation of a path.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quirk {
    /// The path's name (a scenario target name such as `nginx`).
    pub path: String,
    /// The probe id.
    pub probe: String,
    /// Why it is accepted.
    pub reason: String,
}

/// A quirks file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quirks {
    /// The accepted deviations.
    pub quirks: Vec<Quirk>,
    /// The file they were read from, for diagnostics.
    #[serde(skip)]
    pub file: String,
}

impl Quirks {
    /// Reads a quirks file; `conformance::check` checks that its probe ids exist.
    pub fn load(path: &Path) -> Result<Quirks, String> {
        let text =
            crate::model::files::read_text(path, "a quirks file", crate::model::files::QUIRKS_CAP)
                .map_err(|e| e.to_string())?;
        let mut q: Quirks =
            serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        q.file = path.display().to_string();
        Ok(q)
    }

    /// The quirk that accepts `probe` on one of `paths`, if any.
    pub fn find(&self, paths: [&str; 2], probe: &str) -> Option<&Quirk> {
        self.quirks
            .iter()
            .find(|q| q.probe == probe && paths.contains(&q.path.as_str()))
    }
}
