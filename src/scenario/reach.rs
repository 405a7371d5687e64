//! Where load may go. Loopback and private networks are the harness's home; any other host must
//! be named in the scenario's `allow_hosts` (or by `--allow-host`), so that a typo in a URL cannot
//! aim a load test at someone else's server.

use std::net::IpAddr;

/// Whether `ip` is loopback or on a private, link-local or unique-local network.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                // Carrier-grade NAT space (RFC 6598) is private in all but name.
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_local(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Why load may not go to `host` (as written in a URL or `connect_to`), or `None` when it may.
/// A name is never looked up here: a lookup is traffic too, and its answer may change before the
/// run. Only `localhost` and names under it (RFC 6761) pass without being allowed; any other name
/// must be in the allowed list, or the target must `connect_to` a local address.
pub fn refusal(host: &str, _port: u16, allow: &[String]) -> Option<String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if allow.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return None;
    }
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return None;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if is_local(ip) => None,
        Ok(_) => Some(format!("{host} is outside loopback and private networks")),
        Err(_) => Some(format!(
            "`{host}` is a name gauntlet does not look up: it may be outside loopback and private networks"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_private_ranges_are_local_and_nothing_else() {
        for local in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.0.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_local(local.parse().unwrap()), "{local}");
        }
        for public in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2001:db8::1",
            "::ffff:1.1.1.1",
        ] {
            assert!(!is_local(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_public_address_needs_to_be_allowed_by_name() {
        // No lookup happens for an address; nothing is sent anywhere.
        assert!(refusal("203.0.113.7", 443, &[]).is_some());
        assert!(refusal("203.0.113.7", 443, &["203.0.113.7".into()]).is_none());
        assert!(refusal("[::1]", 443, &[]).is_none());
        assert!(refusal("localhost", 443, &[]).is_none());
        assert!(refusal("api.localhost", 443, &[]).is_none());
        assert!(refusal("staging.example.net", 443, &[]).is_some());
        assert!(refusal("staging.example.net", 443, &["Staging.example.net".into()]).is_none());
    }
}
