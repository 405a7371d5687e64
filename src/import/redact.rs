//! Secrets in recorded traffic, replaced by default with environment references
//! (`${GAUNTLET_SECRET_AUTHORIZATION}`) that the scenario loader expands at run time: the values of
//! `authorization`, `proxy-authorization`, `cookie` and `set-cookie`, and of any header, query
//! parameter, form field or JSON member whose name says it holds one (`token`, `key`,
//! `password`, `secret`, `sig`, `session` …). Every recorded value is also made literal for the
//! loader (`${` written `$${`), so a log cannot smuggle in a reference to the importer's
//! environment.

use std::collections::BTreeSet;

/// Whether a header, parameter or field named `name` holds a secret.
pub fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    const ALWAYS: [&str; 4] = [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ];
    const PARTS: [&str; 8] = [
        "token",
        "secret",
        "password",
        "passwd",
        "session",
        "signature",
        "apikey",
        "credential",
    ];
    let words: Vec<&str> = n.split(['-', '_', '.']).collect();
    ALWAYS.contains(&n.as_str())
        || PARTS.iter().any(|p| n.contains(p))
        || words
            .iter()
            .any(|w| matches!(*w, "key" | "sig" | "auth" | "jwt" | "pass" | "pwd"))
}

/// `text` with `${` written `$${`, so the loader reads it back unchanged.
pub fn literal(text: &str) -> String {
    text.replace("${", "$${")
}

/// Replaces secrets with environment references unless `keep`, and remembers which
/// variables the scenario now needs.
#[derive(Debug, Default)]
pub struct Redactor {
    /// Keep recorded secrets as they are (`--keep-secrets`).
    pub keep: bool,
    /// The variables referred to, by name.
    pub variables: BTreeSet<String>,
    /// How many values were replaced.
    pub replaced: u64,
}

impl Redactor {
    /// The reference standing for the secret `name` (`x-api-key` → `${GAUNTLET_SECRET_X_API_KEY}`).
    fn reference(&mut self, name: &str) -> String {
        let var: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        let var = format!("GAUNTLET_SECRET_{var}");
        self.replaced += 1;
        self.variables.insert(var.clone());
        format!("${{{var}}}")
    }

    /// A header's value as the scenario writes it.
    pub fn header(&mut self, name: &str, value: &str) -> String {
        if !self.keep && is_secret(name) {
            self.reference(name)
        } else {
            literal(value)
        }
    }

    /// A request target (path and query) with secret query values replaced.
    pub fn target(&mut self, target: &str) -> String {
        match target.split_once('?') {
            Some((path, query)) => format!("{}?{}", literal(path), self.form(query)),
            None => literal(target),
        }
    }

    /// `a=1&token=x` with secret values replaced.
    fn form(&mut self, query: &str) -> String {
        let parts: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if !self.keep && is_secret(k) => format!("{k}={}", self.reference(k)),
                _ => literal(p),
            })
            .collect();
        parts.join("&")
    }

    /// A body: form fields and JSON members with secret names replaced; other bodies as they are.
    pub fn body(&mut self, mime: &str, body: &str) -> String {
        if self.keep {
            return literal(body);
        }
        if mime.starts_with("application/x-www-form-urlencoded") {
            return self.form(body);
        }
        if mime.contains("json") {
            if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(body) {
                self.json(&mut v);
                if let Ok(text) = serde_json::to_string(&v) {
                    return text;
                }
            }
        }
        literal(body)
    }

    /// Made literal string by string, so that the references put in stay references.
    fn json(&mut self, v: &mut serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    if is_secret(&k) && !x.is_object() && !x.is_array() {
                        x = Value::String(self.reference(&k));
                    } else {
                        self.json(&mut x);
                    }
                    m.insert(literal(&k), x);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.json(x)),
            Value::String(s) => *s = literal(s),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_hold_secrets() {
        for n in [
            "Authorization",
            "cookie",
            "x-api-key",
            "X-Auth-Token",
            "access_token",
            "sig",
            "password",
        ] {
            assert!(is_secret(n), "{n}");
        }
        for n in ["accept", "user-agent", "keyboard", "page", "q", "referer"] {
            assert!(!is_secret(n), "{n}");
        }
    }

    #[test]
    fn values_become_references() {
        let mut r = Redactor::default();
        assert_eq!(
            r.header("Authorization", "Bearer abc"),
            "${GAUNTLET_SECRET_AUTHORIZATION}"
        );
        assert_eq!(
            r.target("/a/${HOME}?page=2&api_key=zzz"),
            "/a/$${HOME}?page=2&api_key=${GAUNTLET_SECRET_API_KEY}"
        );
        assert_eq!(
            r.body("application/json", r#"{"user":"${X}","password":"p"}"#),
            r#"{"password":"${GAUNTLET_SECRET_PASSWORD}","user":"$${X}"}"#
        );
        assert_eq!(r.replaced, 3);
        let mut keep = Redactor {
            keep: true,
            ..Redactor::default()
        };
        assert_eq!(keep.header("cookie", "a=b"), "a=b");
        assert!(keep.variables.is_empty());
    }
}
