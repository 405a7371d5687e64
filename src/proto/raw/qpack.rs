//! QPACK as probes need it: field sections encoded as literals with literal names and no
//! Huffman (so the bytes go out as built, and no dynamic table is involved), and a decoder for
//! what servers send back — static-table references and literals, Huffman or not. Probes
//! advertise a dynamic table capacity of 0, so a server may not refer to a dynamic table.

use super::h2::integer;

/// Encodes a field section: the two-byte prefix (no dynamic table), then literal fields.
pub fn encode(fields: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = vec![0, 0];
    for (n, v) in fields {
        // 001N H=0 + 3-bit name length.
        integer(&mut out, 0x20, 3, n.len());
        out.extend_from_slice(n);
        integer(&mut out, 0, 7, v.len());
        out.extend_from_slice(v);
    }
    out
}

/// Why a field section could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QpackError {
    /// The bytes ended inside a representation.
    #[error("truncated field section")]
    Truncated,
    /// A reference to the dynamic table, which we never allowed.
    #[error("dynamic table reference")]
    Dynamic,
    /// A static index past the table.
    #[error("static index {0} out of range")]
    Index(usize),
    /// Huffman data that does not decode.
    #[error("bad Huffman string")]
    Huffman,
}

fn int(buf: &[u8], at: &mut usize, n: u8) -> Result<usize, QpackError> {
    let first = *buf.get(*at).ok_or(QpackError::Truncated)?;
    *at += 1;
    let max = (1usize << n) - 1;
    let mut v = (first as usize) & max;
    if v < max {
        return Ok(v);
    }
    let mut shift = 0;
    loop {
        let b = *buf.get(*at).ok_or(QpackError::Truncated)?;
        *at += 1;
        v += ((b & 0x7f) as usize) << shift;
        shift += 7;
        if b & 0x80 == 0 || shift > 28 {
            return Ok(v);
        }
    }
}

fn string(buf: &[u8], at: &mut usize, n: u8) -> Result<Vec<u8>, QpackError> {
    let huffman = buf.get(*at).ok_or(QpackError::Truncated)? & (1 << n) != 0;
    let len = int(buf, at, n)?;
    let raw = buf.get(*at..*at + len).ok_or(QpackError::Truncated)?;
    *at += len;
    if huffman {
        loona_hpack::huffman::HuffmanDecoder::new()
            .decode(raw)
            .map_err(|_| QpackError::Huffman)
    } else {
        Ok(raw.to_vec())
    }
}

fn entry(i: usize) -> Result<(&'static str, &'static str), QpackError> {
    STATIC.get(i).copied().ok_or(QpackError::Index(i))
}

/// Decodes a field section.
pub fn decode(buf: &[u8]) -> Result<super::Fields, QpackError> {
    let mut at = 0;
    if int(buf, &mut at, 8)? != 0 {
        return Err(QpackError::Dynamic);
    }
    int(buf, &mut at, 7)?;
    let mut out = Vec::new();
    while at < buf.len() {
        let b = buf[at];
        if b & 0x80 != 0 {
            // Indexed field line; T (0x40) must say static.
            if b & 0x40 == 0 {
                return Err(QpackError::Dynamic);
            }
            let (n, v) = entry(int(buf, &mut at, 6)?)?;
            out.push((n.as_bytes().to_vec(), v.as_bytes().to_vec()));
        } else if b & 0x40 != 0 {
            // Literal with name reference; T (0x10) must say static.
            if b & 0x10 == 0 {
                return Err(QpackError::Dynamic);
            }
            let (n, _) = entry(int(buf, &mut at, 4)?)?;
            out.push((n.as_bytes().to_vec(), string(buf, &mut at, 7)?));
        } else if b & 0x20 != 0 {
            // Literal with literal name: H at 0x08, 3-bit length.
            let name = string(buf, &mut at, 3)?;
            out.push((name, string(buf, &mut at, 7)?));
        } else {
            return Err(QpackError::Dynamic);
        }
    }
    Ok(out)
}

/// RFC 9204 Appendix A: the QPACK static table, in index order.
pub const STATIC: [(&str, &str); 99] = [
    (":authority", ""),
    (":path", "/"),
    ("age", "0"),
    ("content-disposition", ""),
    ("content-length", "0"),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("referer", ""),
    ("set-cookie", ""),
    (":method", "CONNECT"),
    (":method", "DELETE"),
    (":method", "GET"),
    (":method", "HEAD"),
    (":method", "OPTIONS"),
    (":method", "POST"),
    (":method", "PUT"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "103"),
    (":status", "200"),
    (":status", "304"),
    (":status", "404"),
    (":status", "503"),
    ("accept", "*/*"),
    ("accept", "application/dns-message"),
    ("accept-encoding", "gzip, deflate, br"),
    ("accept-ranges", "bytes"),
    ("access-control-allow-headers", "cache-control"),
    ("access-control-allow-headers", "content-type"),
    ("access-control-allow-origin", "*"),
    ("cache-control", "max-age=0"),
    ("cache-control", "max-age=2592000"),
    ("cache-control", "max-age=604800"),
    ("cache-control", "no-cache"),
    ("cache-control", "no-store"),
    ("cache-control", "public, max-age=31536000"),
    ("content-encoding", "br"),
    ("content-encoding", "gzip"),
    ("content-type", "application/dns-message"),
    ("content-type", "application/javascript"),
    ("content-type", "application/json"),
    ("content-type", "application/x-www-form-urlencoded"),
    ("content-type", "image/gif"),
    ("content-type", "image/jpeg"),
    ("content-type", "image/png"),
    ("content-type", "text/css"),
    ("content-type", "text/html; charset=utf-8"),
    ("content-type", "text/plain"),
    ("content-type", "text/plain;charset=utf-8"),
    ("range", "bytes=0-"),
    ("strict-transport-security", "max-age=31536000"),
    (
        "strict-transport-security",
        "max-age=31536000; includesubdomains",
    ),
    (
        "strict-transport-security",
        "max-age=31536000; includesubdomains; preload",
    ),
    ("vary", "accept-encoding"),
    ("vary", "origin"),
    ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "1; mode=block"),
    (":status", "100"),
    (":status", "204"),
    (":status", "206"),
    (":status", "302"),
    (":status", "400"),
    (":status", "403"),
    (":status", "421"),
    (":status", "425"),
    (":status", "500"),
    ("accept-language", ""),
    ("access-control-allow-credentials", "FALSE"),
    ("access-control-allow-credentials", "TRUE"),
    ("access-control-allow-headers", "*"),
    ("access-control-allow-methods", "get"),
    ("access-control-allow-methods", "get, post, options"),
    ("access-control-allow-methods", "options"),
    ("access-control-expose-headers", "content-length"),
    ("access-control-request-headers", "content-type"),
    ("access-control-request-method", "get"),
    ("access-control-request-method", "post"),
    ("alt-svc", "clear"),
    ("authorization", ""),
    (
        "content-security-policy",
        "script-src 'none'; object-src 'none'; base-uri 'none'",
    ),
    ("early-data", "1"),
    ("expect-ct", ""),
    ("forwarded", ""),
    ("if-range", ""),
    ("origin", ""),
    ("purpose", "prefetch"),
    ("server", ""),
    ("timing-allow-origin", "*"),
    ("upgrade-insecure-requests", "1"),
    ("user-agent", ""),
    ("x-forwarded-for", ""),
    ("x-frame-options", "deny"),
    ("x-frame-options", "sameorigin"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_round_trip_and_static_refs_decode() {
        let enc = encode(&[(b":status", b"200"), (b"x-a", b"b")]);
        let dec = decode(&enc).unwrap();
        assert_eq!(dec[1], (b"x-a".to_vec(), b"b".to_vec()));
        // Indexed static 25 (:status 200), then name reference 67's name with value "4xx".
        let dec = decode(&[0, 0, 0xc0 | 25, 0x50 | 0x0f, 67 - 15, 3, b'4', b'x', b'x']).unwrap();
        assert_eq!(dec[0], (b":status".to_vec(), b"200".to_vec()));
        assert_eq!(dec[1], (b":status".to_vec(), b"4xx".to_vec()));
        assert_eq!(decode(&[1, 0]), Err(QpackError::Dynamic));
    }
}
