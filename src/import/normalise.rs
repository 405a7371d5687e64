//! Grouping recorded requests: the path with its variable segments (numbers, UUIDs, long hex
//! strings) replaced by placeholders, so that `/users/123` and `/users/456` are one request
//! `GET /users/{id}`, and the query reduced to its sorted keys, so that `?page=1` and `?page=2`
//! group while `?page=1` and `?q=x` do not. The group's requests are sent to one concrete path
//! seen in the log: a scenario needs a path a server can answer.

/// What a path segment becomes in the group's name.
fn placeholder(seg: &str) -> Option<&'static str> {
    let b = seg.as_bytes();
    if !b.is_empty() && b.iter().all(u8::is_ascii_digit) {
        return Some("{id}");
    }
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if uuid {
        return Some("{uuid}");
    }
    // A hash or object id: long, hexadecimal, with at least one digit (so that a long word made
    // of the letters a-f stays a word).
    if b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) && b.iter().any(u8::is_ascii_digit) {
        return Some("{hex}");
    }
    None
}

/// The group a request belongs to: `METHOD /path/{id}?key1&key2`.
pub fn group_key(method: &str, target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let mut out = String::with_capacity(target.len() + method.len() + 1);
    out.push_str(method);
    out.push(' ');
    let mut first = true;
    for seg in path.split('/') {
        if !first {
            out.push('/');
        }
        first = false;
        out.push_str(placeholder(seg).unwrap_or(seg));
    }
    if let Some(q) = query {
        let mut keys: Vec<&str> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').map_or(p, |(k, _)| k))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        if !keys.is_empty() {
            out.push('?');
            out.push_str(&keys.join("&"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_uuids_and_hashes_group() {
        assert_eq!(group_key("GET", "/users/123"), "GET /users/{id}");
        assert_eq!(
            group_key("GET", "/users/456/orders/9"),
            "GET /users/{id}/orders/{id}"
        );
        assert_eq!(
            group_key("PUT", "/o/0b0e6d1e-8a5c-4f1c-9a6b-3c2d1e0f9a8b"),
            "PUT /o/{uuid}"
        );
        assert_eq!(
            group_key("GET", "/blob/9f86d081884c7d659a2feaa0c55ad015"),
            "GET /blob/{hex}"
        );
        // Words stay words, even hexadecimal-looking ones without a digit.
        assert_eq!(group_key("GET", "/api/v2/facade"), "GET /api/v2/facade");
        assert_eq!(group_key("GET", "/"), "GET /");
    }

    #[test]
    fn queries_group_by_their_keys() {
        assert_eq!(group_key("GET", "/s?q=a&page=2"), "GET /s?page&q");
        assert_eq!(group_key("GET", "/s?page=9&q=b&q=c"), "GET /s?page&q");
        assert_ne!(group_key("GET", "/s?q=a"), group_key("GET", "/s?page=1"));
        assert_eq!(group_key("GET", "/s?"), "GET /s");
    }
}
