//! Where each node of a YAML document stands: a map from YAML path (`requests[2].expect.status`)
//! to line and column, built from the parser's event stream.
//!
//! serde gives a position for type errors but not for the checks `validate` makes afterwards, and it
//! gives no YAML path at all. One walk over the events answers both questions: the position of a
//! path, and the path at a position.

use serde_saphyr::granit_parser::{Event, Parser};

/// A 1-based line and column in the scenario source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

#[derive(Debug, Clone)]
struct Entry {
    path: String,
    key: Option<Pos>,
    value: Pos,
}

/// Positions of every key and value in a document.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    entries: Vec<Entry>,
}

enum Frame {
    Map {
        path: String,
        key: Option<(String, Pos)>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl SpanIndex {
    /// Indexes `src`. A syntax error stops the walk; what was read before it stays indexed (the
    /// syntax error itself is reported by the deserializer, with its own position).
    pub fn build(src: &str) -> SpanIndex {
        let mut idx = SpanIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(src) {
            let Ok((event, span)) = item else { break };
            let pos = Pos {
                line: span.start.line(),
                col: span.start.col() + 1,
            };
            // Resolve where this node stands: `None` for a mapping key (recorded, not a node).
            let is_node = matches!(
                event,
                Event::Scalar(..)
                    | Event::SequenceStart(..)
                    | Event::MappingStart(..)
                    | Event::Alias(_)
            );
            let mut node_path: Option<(String, Option<Pos>)> = None;
            if is_node {
                match stack.last_mut() {
                    None => node_path = Some((String::new(), None)),
                    Some(Frame::Seq { path, next }) => {
                        node_path = Some((format!("{path}[{next}]"), None));
                        *next += 1;
                    }
                    Some(Frame::Map { path, key }) => match key.take() {
                        Some((k, kpos)) => node_path = Some((join(path, &k), Some(kpos))),
                        None => {
                            let name = match &event {
                                Event::Scalar(v, ..) => v.to_string(),
                                _ => "?".to_string(),
                            };
                            *key = Some((name, pos));
                            // A complex key's children are not indexed; its events are skipped
                            // as ordinary nodes below only for scalars.
                            if !matches!(event, Event::Scalar(..)) {
                                stack.push(Frame::Seq {
                                    path: String::from("?"),
                                    next: 0,
                                });
                            }
                            continue;
                        }
                    },
                }
            }
            match event {
                Event::Scalar(..) | Event::Alias(_) => {
                    if let Some((path, key)) = node_path {
                        idx.entries.push(Entry {
                            path,
                            key,
                            value: pos,
                        });
                    }
                }
                Event::MappingStart(..) => {
                    let (path, key) = node_path.unwrap_or_default();
                    idx.entries.push(Entry {
                        path: path.clone(),
                        key,
                        value: pos,
                    });
                    stack.push(Frame::Map { path, key: None });
                }
                Event::SequenceStart(..) => {
                    let (path, key) = node_path.unwrap_or_default();
                    idx.entries.push(Entry {
                        path: path.clone(),
                        key,
                        value: pos,
                    });
                    stack.push(Frame::Seq { path, next: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        idx
    }

    /// Where the value at `path` starts.
    pub fn value_pos(&self, path: &str) -> Option<Pos> {
        self.entries
            .iter()
            .find(|e| e.path == path)
            .map(|e| e.value)
    }

    /// Where the key of `path` stands (for a map entry), else its value.
    pub fn key_pos(&self, path: &str) -> Option<Pos> {
        self.entries
            .iter()
            .find(|e| e.path == path)
            .map(|e| e.key.unwrap_or(e.value))
    }

    /// The nearest position for `path`: its own, else that of its closest indexed ancestor.
    pub fn nearest_pos(&self, path: &str, key: bool) -> Option<Pos> {
        let mut p = path.to_string();
        loop {
            let found = if key {
                self.key_pos(&p)
            } else {
                self.value_pos(&p)
            };
            if found.is_some() {
                return found;
            }
            let Some(cut) = p.rfind(['.', '[']) else {
                // A missing top-level key: point at the start of the document, where it belongs.
                return self.entries.iter().filter_map(|e| e.key).min();
            };
            p.truncate(cut);
        }
    }

    /// The path of the innermost key or value that starts at or before `pos` on the same line,
    /// else the last one before it: the node a deserializer error at `pos` is about.
    pub fn path_at(&self, pos: Pos) -> Option<&str> {
        let mut best: Option<(Pos, &str)> = None;
        for e in &self.entries {
            for p in [e.key, Some(e.value)].into_iter().flatten() {
                if p <= pos && best.is_none_or(|(b, _)| p >= b) {
                    best = Some((p, &e.path));
                }
            }
        }
        best.map(|(_, path)| path).filter(|p| !p.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "name: x\nload:\n  rate: 5\nrequests:\n  - get: /\n    expect:\n      status: [200, 201]\n";

    #[test]
    fn paths_have_positions() {
        let idx = SpanIndex::build(DOC);
        assert_eq!(idx.value_pos("load.rate"), Some(Pos { line: 3, col: 9 }));
        assert_eq!(idx.key_pos("load.rate"), Some(Pos { line: 3, col: 3 }));
        assert_eq!(
            idx.value_pos("requests[0].expect.status"),
            Some(Pos { line: 7, col: 15 })
        );
        assert_eq!(
            idx.value_pos("requests[0].expect.status[1]"),
            Some(Pos { line: 7, col: 21 })
        );
    }

    #[test]
    fn position_maps_back_to_path() {
        let idx = SpanIndex::build(DOC);
        assert_eq!(idx.path_at(Pos { line: 3, col: 3 }), Some("load.rate"));
        assert_eq!(
            idx.path_at(Pos { line: 7, col: 21 }),
            Some("requests[0].expect.status[1]")
        );
        assert_eq!(
            idx.nearest_pos("load.missing", false),
            Some(Pos { line: 3, col: 3 })
        );
    }
}
