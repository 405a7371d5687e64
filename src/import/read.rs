//! Reading a log line by line in bounded memory: a line longer than the cap is skipped without
//! ever being held whole, and a line that is not UTF-8 text (binary junk, a TLS handshake sent to
//! a cleartext port and logged as is) is reported as such instead of failing the read.

use std::io::{self, BufRead};

/// The longest line kept (16 KiB). Everything a group remembers comes from one line, so this
/// also bounds the memory of each group; nginx's own request line limit is 8 KiB by default.
pub const MAX_LINE: usize = 16 * 1024;

/// One line as read.
#[derive(Debug)]
pub enum Line<'a> {
    /// A line of text (without its line ending).
    Text(&'a str),
    /// A line past [`MAX_LINE`]: its first bytes, for the example.
    TooLong(&'a [u8]),
    /// A line that is not UTF-8 or holds control bytes: its bytes.
    NotText(&'a [u8]),
}

/// A line reader over any buffered input.
pub struct Lines<R> {
    input: R,
    buf: Vec<u8>,
    /// The number of the line last returned, from 1.
    pub number: u64,
}

impl<R: BufRead> Lines<R> {
    /// Reads from `input`.
    pub fn new(input: R) -> Self {
        Lines {
            input,
            buf: Vec::with_capacity(1024),
            number: 0,
        }
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (part, used, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], i + 1, true),
                None => (chunk, chunk.len(), false),
            };
            // Past the cap the rest of the line is consumed but not kept.
            let room = (MAX_LINE + 1).saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&part[..part.len().min(room)]);
            too_long |= self.buf.len() > MAX_LINE;
            self.input.consume(used);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        if too_long {
            return Ok(Some(Line::TooLong(&self.buf[..200])));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        let text = std::str::from_utf8(&self.buf)
            .ok()
            .filter(|t| !t.chars().any(|c| c.is_control() && c != '\t'));
        Ok(Some(match text {
            Some(t) => Line::Text(t),
            None => Line::NotText(&self.buf),
        }))
    }
}

/// Up to 200 characters of `bytes` with everything but printable ASCII escaped, for an example
/// shown in a terminal or a YAML comment.
pub fn shown(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(200) {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<String> {
        let mut r = Lines::new(io::BufReader::with_capacity(7, input));
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(match l {
                Line::Text(t) => format!("text:{t}"),
                Line::TooLong(b) => format!("long:{}", b.len()),
                Line::NotText(b) => format!("junk:{}", shown(b)),
            });
        }
        out
    }

    #[test]
    fn lines_across_small_buffers() {
        assert_eq!(
            all(b"abc\r\ndefghijklmnop\n\nlast"),
            ["text:abc", "text:defghijklmnop", "text:", "text:last"]
        );
    }

    #[test]
    fn long_lines_and_junk_are_told_apart() {
        let mut input = vec![b'a'; MAX_LINE + 5];
        input.extend_from_slice(b"\n\x16\x03\x01\xff\nok\n");
        assert_eq!(
            all(&input),
            ["long:200", "junk:\\x16\\x03\\x01\\xff", "text:ok"]
        );
    }

    #[test]
    fn a_line_exactly_at_the_cap_is_kept() {
        let input = vec![b'a'; MAX_LINE];
        assert_eq!(all(&input), [format!("text:{}", "a".repeat(MAX_LINE))]);
    }
}
