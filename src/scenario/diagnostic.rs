//! Scenario errors rendered the way rustc and hurl render them: `--> file:line:column`, the source
//! line, a caret under the offending token, the YAML path, and a hint.
//!
//! The rendering is plain text with no colour so that golden tests compare it exactly.

use std::fmt::Write as _;

use super::spans::Pos;

/// One problem found in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, in one line.
    pub message: String,
    /// The YAML path of the offending node, when known.
    pub path: Option<String>,
    /// Where it is, when known.
    pub pos: Option<Pos>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            path: None,
            pos: None,
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely misspelling.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// How many characters the token at `col` (1-based) of `line` spans, for the caret underline.
fn token_len(line: &str, col: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(col.saturating_sub(1)).collect();
    let Some(&first) = rest.first() else { return 1 };
    if first == '"' || first == '\'' {
        let close = rest[1..].iter().position(|c| *c == first);
        return close.map_or(rest.len(), |i| i + 2);
    }
    if first == '['
        || first == '{'
        || (first == '-' && rest.get(1).is_none_or(|c| c.is_whitespace()))
    {
        return 1;
    }
    // A plain scalar ends at `: ` (a key), at flow punctuation, or at a comment; a colon inside
    // it (a URL, a time) belongs to it.
    let mut n = 0;
    while n < rest.len() {
        let c = rest[n];
        let next_blank = rest.get(n + 1).is_none_or(|c| c.is_whitespace());
        if matches!(c, ',' | ']' | '}')
            || (c == ':' && next_blank)
            || (c == '#' && n > 0 && rest[n - 1].is_whitespace())
        {
            break;
        }
        n += 1;
    }
    while n > 0 && rest[n - 1].is_whitespace() {
        n -= 1;
    }
    n.max(1)
}

/// Renders diagnostics for `file` whose text is `src`.
pub fn render(file: &str, src: &str, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = src.lines().collect();
    for d in diags {
        let _ = writeln!(out, "error: {}", d.message);
        match d.pos {
            Some(pos) => {
                let num = pos.line.to_string();
                let pad = " ".repeat(num.len());
                let _ = writeln!(out, "{pad}--> {file}:{}:{}", pos.line, pos.col);
                if let Some(text) = lines.get(pos.line.wrapping_sub(1)) {
                    let _ = writeln!(out, "{pad} |");
                    let _ = writeln!(out, "{num} | {text}");
                    let caret = "^".repeat(token_len(text, pos.col));
                    let lead = " ".repeat(pos.col.saturating_sub(1));
                    let _ = writeln!(out, "{pad} | {lead}{caret}");
                    let _ = writeln!(out, "{pad} |");
                }
                if let Some(path) = &d.path {
                    let _ = writeln!(out, "{pad} = path: {path}");
                }
                if let Some(hint) = &d.hint {
                    let _ = writeln!(out, "{pad} = help: {hint}");
                }
            }
            None => {
                let _ = writeln!(out, " --> {file}");
                if let Some(path) = &d.path {
                    let _ = writeln!(out, "  = path: {path}");
                }
                if let Some(hint) = &d.hint {
                    let _ = writeln!(out, "  = help: {hint}");
                }
            }
        }
        out.push('\n');
    }
    let n = diags.len();
    let _ = writeln!(
        out,
        "error: {file} is not a valid scenario ({n} error{})",
        if n == 1 { "" } else { "s" }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("rat", &["rate", "model", "stages"]),
            Some("rate")
        );
        assert_eq!(did_you_mean("zzz", &["rate", "model"]), None);
    }

    #[test]
    fn caret_spans_the_token() {
        assert_eq!(token_len("  rat: 100", 3), 3);
        assert_eq!(token_len("  - get: \"/a b\"", 10), 6);
    }
}
