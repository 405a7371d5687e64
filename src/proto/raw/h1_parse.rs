//! HTTP/1 wire parsing shared by the raw probe client and the embedded raw and recording origins:
//! a lenient head parser, the framing a permissive back end would pick, and a chunked-body
//! decoder. Lenient on purpose: they must read malformed messages to say what is wrong with them.

/// The largest chunk size [`dechunk`] accepts: a bound on what one hostile message can make us buffer.
pub const MAX_CHUNK: usize = 1 << 20;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// Method.
    pub method: String,
    /// Request target.
    pub target: String,
    /// Protocol version token.
    pub version: String,
    /// Fields in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Bytes of the head including the blank line.
    pub len: usize,
}

/// How a request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Framing {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(usize),
    /// Chunked.
    Chunked,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// What is wrong with a request head by the strict grammar of RFC 9112 §2–§5 (CRLF line ends,
/// a request line of three parts, field names that are non-empty tokens directly followed by a
/// colon, no folded lines, no control characters but HTAB in values), or `None` when nothing
/// is. `raw` may go on past the head; the body is not looked at.
pub fn strict_head_problem(raw: &[u8]) -> Option<String> {
    let Some(end) = find(raw, b"\r\n\r\n") else {
        return Some("the head does not end with CRLF CRLF".into());
    };
    let head = &raw[..end];
    let mut lines = split_crlf(head);
    let first = lines.next().unwrap_or_default();
    if first
        .split(|b| *b == b' ')
        .filter(|p| !p.is_empty())
        .count()
        != 3
        || first.iter().any(|b| b.is_ascii_control())
    {
        return Some(format!(
            "request line `{}` is not METHOD SP TARGET SP VERSION",
            String::from_utf8_lossy(first).escape_debug()
        ));
    }
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    for line in lines {
        if line.contains(&b'\n') || line.contains(&b'\r') {
            return Some(format!(
                "field line `{}` holds a bare CR or LF",
                String::from_utf8_lossy(line).escape_debug()
            ));
        }
        let shown = || String::from_utf8_lossy(line).escape_debug().to_string();
        if matches!(line.first(), Some(b' ' | b'\t')) {
            return Some(format!("field line `{}` is folded (obs-fold)", shown()));
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            return Some(format!("field line `{}` has no colon", shown()));
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(token) {
            return Some(format!(
                "field line `{}` has an empty name or one outside token",
                shown()
            ));
        }
        if line[colon + 1..]
            .iter()
            .any(|b| (b.is_ascii_control() && *b != b'\t') || *b == 0x7f)
        {
            return Some(format!(
                "field `{}` has a control character in its value",
                String::from_utf8_lossy(name)
            ));
        }
    }
    None
}

/// The lines of `b` split at CRLF only (a bare CR or LF stays inside its line).
fn split_crlf(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(b);
    std::iter::from_fn(move || {
        let r = rest?;
        match find(r, b"\r\n") {
            Some(i) => {
                rest = Some(&r[i + 2..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Parses a request head leniently; `None` until the blank line has arrived.
pub fn parse_head(buf: &[u8]) -> Option<Head> {
    let end = match (find(buf, b"\r\n\r\n"), find(buf, b"\n\n")) {
        (Some(a), Some(b)) if b + 2 < a + 4 => b + 2,
        (Some(a), _) => a + 4,
        (None, Some(b)) => b + 2,
        (None, None) => return None,
    };
    let text = &buf[..end];
    let mut lines = text
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let mut parts = first.split(' ').filter(|s| !s.is_empty());
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let version = parts.next().unwrap_or("").to_string();
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if matches!(line[0], b' ' | b'\t') {
            if let Some((_, v)) = headers.last_mut() {
                v.push(b' ');
                v.extend_from_slice(line.trim_ascii());
            }
            continue;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = String::from_utf8_lossy(line[..colon].trim_ascii()).into_owned();
        headers.push((name, line[colon + 1..].trim_ascii().to_vec()));
    }
    Some(Head {
        method,
        target,
        version,
        headers,
        len: end,
    })
}

/// The framing a permissive back end would pick.
pub fn framing(headers: &[(String, Vec<u8>)]) -> Framing {
    let value = |name: &str| {
        field_values(headers, name)
            .into_iter()
            .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    if value("transfer-encoding")
        .iter()
        .any(|v| v.contains("chunked"))
    {
        return Framing::Chunked;
    }
    match value("content-length")
        .iter()
        .find_map(|v| v.trim().parse().ok())
    {
        Some(n) => Framing::Length(n),
        None => Framing::None,
    }
}

/// Decodes a chunked body from the start of `buf`: the body and the bytes consumed, `None` while
/// incomplete, `Err` when the chunk sizes make no sense.
pub fn dechunk(buf: &[u8]) -> Option<Result<(Vec<u8>, usize), ()>> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let nl = find(&buf[at..], b"\n")?;
        let line = String::from_utf8_lossy(&buf[at..at + nl]);
        let size = line.trim().split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            return Some(Err(()));
        };
        at += nl + 1;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let nl = find(&buf[at..], b"\n")?;
                let blank = buf[at..at + nl].trim_ascii().is_empty();
                at += nl + 1;
                if blank {
                    return Some(Ok((body, at)));
                }
            }
        }
        if size > MAX_CHUNK || buf.len() < at + size {
            return if size > MAX_CHUNK {
                Some(Err(()))
            } else {
                None
            };
        }
        body.extend_from_slice(&buf[at..at + size]);
        at += size;
        let nl = find(&buf[at..], b"\n")?;
        at += nl + 1;
    }
}

/// Every value of the field `name` (case-insensitive) in an HTTP/1 field list.
pub fn field_values<'a>(fields: &'a [(String, Vec<u8>)], name: &str) -> Vec<&'a [u8]> {
    fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .collect()
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::strict_head_problem;

    #[test]
    fn the_strict_grammar_finds_what_a_lenient_parser_repairs() {
        let ok = b"GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\tc\r\n\r\nbody";
        assert_eq!(strict_head_problem(ok), None);
        for (bad, why) in [
            (&b"GET /a HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"[..], "folded"),
            (b"GET /a HTTP/1.1\r\n: v\r\n\r\n", "empty name"),
            (b"GET /a HTTP/1.1\r\nX-A : v\r\n\r\n", "outside token"),
            (b"GET /a HTTP/1.1\r\nX-A: a\0b\r\n\r\n", "control character"),
            (
                b"GET /a HTTP/1.1\r\nX-A: a\nX-B: b\r\n\r\n",
                "bare CR or LF",
            ),
            (b"GET /a HTTP/1.1\r\nX-A: a\rb\r\n\r\n", "bare CR or LF"),
            (b"GET /a\r\nX-A: a\r\n\r\n", "request line"),
            (b"GET /a HTTP/1.1\r\nX-A: a\r\n", "CRLF CRLF"),
        ] {
            let p = strict_head_problem(bad).unwrap_or_default();
            assert!(p.contains(why), "{:?}: {p}", String::from_utf8_lossy(bad));
        }
    }
}
