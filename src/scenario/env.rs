//! `${NAME}` in a scenario's strings: the value of the environment variable NAME, so that tokens
//! and hosts come from the CI job's secrets rather than from the committed file. Expanded after
//! parsing, value by value (never in the YAML text, where a value holding `: ` or a newline could
//! change the document's structure); `$${` writes a literal `${`. A variable that is not set is an
//! error at the value's position, never an empty string.

use super::model::ScenarioFile;

/// `text` with every `${NAME}` replaced through `lookup`; the error names the first variable
/// `lookup` does not know.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail
                .find('}')
                .ok_or_else(|| "`${` without its closing `}`".to_string())?;
            let name = &tail[..end];
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{name}}}` is not a variable name (letters, digits, `_`)"
                ));
            }
            let value = lookup(name)
                .ok_or_else(|| format!("the environment variable `{name}` is not set"))?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands every string of `f` that may carry a value from the environment (target URLs,
/// `connect_to` and headers; request paths, headers and bodies; TLS names and files), each
/// problem returned with its YAML path.
pub fn expand_file(
    f: &mut ScenarioFile,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut one = |path: String, s: &mut String| match expand(s, lookup) {
        Ok(v) => *s = v,
        Err(why) => problems.push((path, why)),
    };
    for (name, t) in f.targets.iter_mut() {
        let p = format!("targets.{name}");
        one(format!("{p}.url"), &mut t.url);
        if let Some(c) = t.connect_to.as_mut() {
            one(format!("{p}.connect_to"), c);
        }
        for (h, v) in t.headers.iter_mut() {
            one(format!("{p}.headers.{h}"), v);
        }
    }
    for (i, r) in f.requests.iter_mut().enumerate() {
        let p = format!("requests[{i}]");
        let paths = [
            ("path", &mut r.path),
            ("get", &mut r.get),
            ("post", &mut r.post),
            ("put", &mut r.put),
            ("delete", &mut r.delete),
            ("patch", &mut r.patch),
            ("head", &mut r.head),
            ("body", &mut r.body),
            ("body_file", &mut r.body_file),
        ];
        for (key, v) in paths {
            if let Some(v) = v.as_mut() {
                one(format!("{p}.{key}"), v);
            }
        }
        for (h, v) in r.headers.iter_mut() {
            one(format!("{p}.headers.{h}"), v);
        }
    }
    if let Some(tls) = f.tls.as_mut() {
        let files = [
            ("ca", &mut tls.ca),
            ("server_name", &mut tls.server_name),
            ("client_cert", &mut tls.client_cert),
            ("client_key", &mut tls.client_key),
        ];
        for (key, v) in files {
            if let Some(v) = v.as_mut() {
                one(format!("tls.{key}"), v);
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cr3t".to_string())
    }

    #[test]
    fn expands_names_and_keeps_what_is_not_a_reference() {
        assert_eq!(expand("Bearer ${TOKEN}", &env).unwrap(), "Bearer s3cr3t");
        assert_eq!(
            expand("$5 and $${TOKEN} and $", &env).unwrap(),
            "$5 and ${TOKEN} and $"
        );
        assert!(expand("${MISSING}", &env)
            .unwrap_err()
            .contains("`MISSING` is not set"));
        assert!(expand("${TOKEN", &env).unwrap_err().contains("closing"));
        assert!(expand("${1X}", &env)
            .unwrap_err()
            .contains("not a variable name"));
    }
}
