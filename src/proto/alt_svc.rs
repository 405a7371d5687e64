//! Alt-Svc (RFC 7838): parsing the header, and discovering a target's HTTP/3 endpoint from the
//! header on an HTTP/2 response (`alt_svc: discover`).

use bytes::Bytes;

use super::h2::H2Transport;
use super::hyper_io::StreamDialer;
use super::{Connection, Transport};

/// The first `h3` alternative of an Alt-Svc value: `(host, port)`, the host empty for "same host".
pub fn parse_h3(value: &str) -> Option<(String, u16)> {
    for alt in value.split(',') {
        let first = alt.split(';').next()?.trim();
        let Some((proto, authority)) = first.split_once('=') else {
            continue;
        };
        if proto.trim() != "h3" {
            continue;
        }
        let authority = authority.trim().trim_matches('"');
        let (host, port) = authority.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(port) = port.parse() {
            return Some((host.to_string(), port));
        }
    }
    None
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The Alt-Svc value as received ("" when absent).
    pub header: String,
    /// The HTTP/3 endpoint it advertises.
    pub h3: Option<(String, u16)>,
}

/// Sends `GET uri` over HTTP/2 and reads the Alt-Svc header. Runs on a `LocalSet`.
pub async fn discover(dialer: StreamDialer, uri: http::Uri) -> Result<Discovered, String> {
    let t = H2Transport::new(dialer, crate::proto::ClientLimits::default());
    let c = t.connect().await.map_err(|e| e.to_string())?;
    let mut req = http::Request::new(Bytes::new());
    *req.uri_mut() = uri;
    let ex = c.conn.send(req, None).await.map_err(|e| e.to_string())?;
    let header = ex
        .headers
        .get_all(http::header::ALT_SVC)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Discovered {
        h3: parse_h3(&header),
        header,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_h3;

    #[test]
    fn finds_the_h3_alternative() {
        assert_eq!(
            parse_h3(r#"h3=":8443"; ma=86400"#),
            Some((String::new(), 8443))
        );
        assert_eq!(
            parse_h3(r#"h3-29=":1", h3="alt.example:443"; ma=60"#),
            Some(("alt.example".into(), 443))
        );
        assert_eq!(parse_h3(r#"h3="[::1]:9443""#), Some(("::1".into(), 9443)));
        assert_eq!(parse_h3("clear"), None);
        assert_eq!(parse_h3(r#"h2=":443""#), None);
    }
}
