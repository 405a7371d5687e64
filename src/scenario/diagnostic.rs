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
    /// The command-line flag that set the value, when one did: the diagnostic then points at
    /// the flag, not into the file.
    pub flag: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            path: None,
            pos: None,
            hint: None,
            flag: None,
        }
    }

    /// Points it at a command-line flag.
    pub fn at_flag(mut self, flag: impl Into<String>) -> Self {
        self.flag = Some(flag.into());
        self.pos = None;
        self
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

/// Widest source line shown, in characters; a longer one is cut to a window around the column.
const WINDOW: usize = 100;

/// `line` cut to at most [`WINDOW`] characters around `col` (1-based), marked `…` where cut, and
/// the column within what is shown: a 50 MB one-line list must not be echoed whole.
fn window(line: &str, col: usize) -> (String, usize) {
    let n = line.chars().count();
    if n <= WINDOW {
        return (line.to_string(), col);
    }
    let start = col
        .saturating_sub(1)
        .saturating_sub(WINDOW / 3)
        .min(n - WINDOW);
    let mut shown: String = line.chars().skip(start).take(WINDOW).collect();
    let mut col = col - start;
    if start > 0 {
        shown.insert(0, '…');
        col += 1;
    }
    if start + WINDOW < n {
        shown.push('…');
    }
    (shown, col)
}

/// Renders diagnostics for `file` whose text is `src`.
pub fn render(file: &str, src: &str, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = src.lines().collect();
    for d in diags {
        let _ = writeln!(out, "error: {}", d.message);
        match d.pos.filter(|_| d.flag.is_none()) {
            Some(pos) => {
                let num = pos.line.to_string();
                let pad = " ".repeat(num.len());
                let _ = writeln!(out, "{pad}--> {file}:{}:{}", pos.line, pos.col);
                if let Some(line) = lines.get(pos.line.wrapping_sub(1)) {
                    let (text, col) = window(line, pos.col);
                    let _ = writeln!(out, "{pad} |");
                    let _ = writeln!(out, "{num} | {text}");
                    let caret = "^".repeat(token_len(&text, col));
                    let lead = " ".repeat(col.saturating_sub(1));
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
                match &d.flag {
                    Some(flag) => writeln!(out, " --> command line: {flag}"),
                    None => writeln!(out, " --> {file}"),
                }
                .ok();
                let by = if d.flag.is_some() {
                    " (set by the flag)"
                } else {
                    ""
                };
                if let Some(path) = &d.path {
                    let _ = writeln!(out, "  = path: {path}{by}");
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
    fn a_long_line_is_shown_as_a_window_around_the_column() {
        let line = format!("k: [{}]", "1, ".repeat(10_000));
        let (shown, col) = window(&line, 20_000);
        assert!(shown.chars().count() <= WINDOW + 2, "{shown}");
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(shown.chars().nth(col - 1), line.chars().nth(19_999));
        assert_eq!(window("short", 2), ("short".to_string(), 2));
    }

    #[test]
    fn caret_spans_the_token() {
        assert_eq!(token_len("  rat: 100", 3), 3);
        assert_eq!(token_len("  - get: \"/a b\"", 10), 6);
    }
}
