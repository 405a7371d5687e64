//! Which header values of a scenario are secrets: those of `authorization`,
//! `proxy-authorization`, `cookie` and `set-cookie` always, and of every header named in
//! `secret_headers`. Their names and the values the scenario sends in them (after `${ENV}`
//! expansion) are what reports redact.

use http::{HeaderName, HeaderValue};

use super::model::ScenarioFile;
use super::validate::Checker;
use super::{Request, Target};
use crate::model::redact::Secrets;

/// The scenario's secrets; a name in `secret_headers` that is not a header name is an error.
pub(super) fn resolve(
    c: &mut Checker<'_>,
    f: &ScenarioFile,
    targets: &[Target],
    requests: &[Request],
) -> Secrets {
    let mut s = Secrets::default();
    for (i, name) in f.secret_headers.iter().enumerate() {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            c.err(
                &format!("secret_headers[{i}]"),
                format!("`{name}` is not a header name"),
                Some("list header names, like `x-api-key`".into()),
            );
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if !s.names.contains(&lower) {
            s.names.push(lower);
        }
    }
    let sent = targets
        .iter()
        .flat_map(|t| t.headers.iter())
        .chain(requests.iter().flat_map(|r| r.headers.iter()));
    for (name, value) in sent {
        if let (true, Some(v)) = (s.is_secret(name.as_str()), text(value)) {
            // `Bearer abc…` is also shown without its scheme (in a log, a token alone).
            let parts =
                std::iter::once(v.clone()).chain(v.split_once(' ').map(|(_, t)| t.to_string()));
            for p in parts {
                if !p.is_empty() && !s.values.contains(&p) {
                    s.values.push(p);
                }
            }
        }
    }
    s
}

fn text(v: &HeaderValue) -> Option<String> {
    v.to_str().ok().map(str::to_string)
}
