//! Secrets kept out of reports: the values of `authorization`, `proxy-authorization`, `cookie`,
//! `set-cookie` and of the headers a scenario marks secret, wherever a results file carries them
//! (reproducers, differential values, captured bytes, the scenario's own text), and every value
//! the scenario sent in such a header, found anywhere. One pass over the results before any report
//! is rendered, so that every artefact (results.json, HTML, JUnit, Markdown, the console) is
//! redacted alike; `--show-secrets` skips it.

use regex::Regex;
use serde_json::Value;

use super::results::ResultsFile;

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

/// Header names whose values are secret whatever the scenario says.
pub const ALWAYS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// The secrets of a run: header names (lower case) and the values sent in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secrets {
    /// Names whose values are redacted.
    pub names: Vec<String>,
    /// Values sent in those headers, redacted wherever they appear.
    pub values: Vec<String>,
}

impl Default for Secrets {
    fn default() -> Self {
        Secrets {
            names: ALWAYS.iter().map(|s| s.to_string()).collect(),
            values: Vec::new(),
        }
    }
}

impl Secrets {
    /// Whether `name` is a secret header.
    pub fn is_secret(&self, name: &str) -> bool {
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// `name: value` in any text (a curl `-H`, a captured head, a YAML line): the value up to a
    /// line end, a quote or YAML flow punctuation.
    fn pattern(&self) -> Option<Regex> {
        if self.names.is_empty() {
            return None;
        }
        let names: Vec<String> = self.names.iter().map(|n| regex::escape(n)).collect();
        Regex::new(&format!(
            r#"(?i)\b({})(\s*:[ \t]*)(["']?)([^"'\r\n,}}\\]*)"#,
            names.join("|")
        ))
        .ok()
    }

    /// Redacts one string.
    fn text(&self, re: Option<&Regex>, s: &str) -> String {
        let mut out = match re {
            Some(re) => re
                .replace_all(s, |c: &regex::Captures<'_>| {
                    if c[4].trim().is_empty() {
                        c[0].to_string()
                    } else {
                        format!("{}{}{}{REDACTED}", &c[1], &c[2], &c[3])
                    }
                })
                .into_owned(),
            None => s.to_string(),
        };
        // Short values (`1`, `on`) would redact half the report; they are no secret anyway.
        for v in self.values.iter().filter(|v| v.len() >= 6) {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        out
    }

    fn walk(&self, re: Option<&Regex>, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.text(re, s),
            Value::Array(items) => {
                // A header as a pair: ["set-cookie", "id=1"].
                if let [Value::String(n), Value::String(val)] = items.as_mut_slice() {
                    if self.is_secret(n) {
                        *val = REDACTED.into();
                        return;
                    }
                }
                items.iter_mut().for_each(|i| self.walk(re, i));
            }
            Value::Object(map) => {
                // A differential finding on a secret header carries its two values.
                let secret_field = map
                    .get("field")
                    .and_then(Value::as_str)
                    .and_then(|f| f.strip_prefix("header:"))
                    .is_some_and(|h| self.is_secret(h));
                let text_before = map.get("text").cloned();
                for (k, val) in map.iter_mut() {
                    if is_histogram(k) {
                        continue;
                    }
                    let whole = self.is_secret(k)
                        || (secret_field && (k == "candidate" || k == "baseline"));
                    if whole && val.is_string() {
                        *val = Value::String(REDACTED.into());
                    } else {
                        self.walk(re, val);
                    }
                }
                // A capture shows its bytes twice: once the text lost a secret, the hex of the
                // same bytes would still hold it.
                if map.contains_key("hex") && text_before.as_ref() != map.get("text") {
                    map.insert("hex".into(), Value::String(String::new()));
                }
            }
            _ => {}
        }
    }

    /// Redacts every secret in `r`. The digest of the scenario stays that of the file as written.
    pub fn redact(&self, r: &mut ResultsFile) -> Result<(), String> {
        let re = self.pattern();
        let mut v = serde_json::to_value(&*r).map_err(|e| e.to_string())?;
        self.walk(re.as_ref(), &mut v);
        *r = serde_json::from_value(v).map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Fields that hold a histogram (V2-deflate, base64): binary, so never a secret, and a
/// replacement inside one would break its decoding.
fn is_histogram(key: &str) -> bool {
    key.ends_with("_us") || key.ends_with("_hist")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_redacted_in_any_text_and_known_values_anywhere() {
        let s = Secrets {
            names: vec!["authorization".into(), "x-api-key".into()],
            values: vec!["tok-123456".into()],
        };
        let re = s.pattern();
        let t = |x: &str| s.text(re.as_ref(), x);
        assert_eq!(
            t("curl -H 'Authorization: Bearer abc' -H 'x-trace: 1' URL"),
            "curl -H 'Authorization: <redacted>' -H 'x-trace: 1' URL"
        );
        assert_eq!(
            t("headers: { x-api-key: \"k1\", accept: text/html }"),
            "headers: { x-api-key: \"<redacted>\", accept: text/html }"
        );
        assert_eq!(
            t("GET /?t=tok-123456 HTTP/1.1"),
            "GET /?t=<redacted> HTTP/1.1"
        );
        assert_eq!(t("authorization:\r\n"), "authorization:\r\n");
    }

    #[test]
    fn pairs_and_differential_findings_on_secret_headers_are_redacted() {
        let s = Secrets::default();
        let mut v = serde_json::json!({
            "headers": [["set-cookie", "id=9"], ["server", "nginx"]],
            "d": {"field": "header:set-cookie", "candidate": "a=1", "baseline": "a=2"},
            "e": {"field": "header:server", "candidate": "x", "baseline": "y"},
            "cookie": "c=3",
            "capture": {"hex": "436f6f6b69653a20613d31", "text": "Cookie: a=1\\r\\n", "len": 11}
        });
        s.walk(s.pattern().as_ref(), &mut v);
        assert_eq!(v["headers"][0][1], REDACTED);
        assert_eq!(v["headers"][1][1], "nginx");
        assert_eq!(v["d"]["candidate"], REDACTED);
        assert_eq!(v["e"]["candidate"], "x");
        assert_eq!(v["cookie"], REDACTED);
        assert_eq!(v["capture"]["text"], "Cookie: <redacted>\\r\\n");
        assert_eq!(v["capture"]["hex"], "");
    }
}
