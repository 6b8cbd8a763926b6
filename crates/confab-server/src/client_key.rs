//! Who a request counts against, for the rate limit and the per-client stream cap: an IPv4
//! address, or an IPv6 /64 (one subscriber gets a whole /64, free to rotate through).
//!
//! The address is the TCP peer's, or with `--trust-forwarded-for` the one the reverse proxy
//! appended last to `X-Forwarded-For` (else to `Forwarded`): entries before it were
//! written by the client and prove nothing.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4(Ipv4Addr),
    /// The first 64 bits of an IPv6 address.
    V6Net(u64),
}

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(v4),
                None => ClientKey::V6Net((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::V4(ip) => write!(f, "{ip}"),
            ClientKey::V6Net(net) => write!(f, "{}/64", Ipv6Addr::from((*net as u128) << 64)),
        }
    }
}

/// The key of a request from `peer`.
pub fn client_key(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded: bool,
) -> ClientKey {
    let forwarded = trust_forwarded.then(|| forwarded_client(headers)).flatten();
    forwarded
        .or(peer.map(|p| p.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        .into()
}

/// The last `X-Forwarded-For` entry, or else the last `for=` of `Forwarded`.
fn forwarded_client(headers: &HeaderMap) -> Option<IpAddr> {
    let last_entry = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|e| !e.is_empty())
            .map(str::to_string)
    };
    if let Some(entry) = last_entry("x-forwarded-for") {
        return parse_node(&entry);
    }
    let element = last_entry("forwarded")?;
    let node = element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim())
    })?;
    parse_node(node)
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, optionally
/// quoted (RFC 7239). `unknown` and obfuscated names give `None`.
pub fn parse_node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn peer() -> Option<SocketAddr> {
        Some("10.0.0.9:5000".parse().unwrap())
    }

    #[test]
    fn nodes_with_ports_and_brackets() {
        assert_eq!(parse_node("203.0.113.7"), Some([203, 0, 113, 7].into()));
        assert_eq!(
            parse_node(" 203.0.113.7:4711 "),
            Some([203, 0, 113, 7].into())
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(parse_node("2001:db8::1"), Some(v6));
        assert_eq!(parse_node("[2001:db8::1]:4711"), Some(v6));
        assert_eq!(parse_node("\"[2001:db8::1]:4711\""), Some(v6));
        assert_eq!(parse_node("[2001:db8::1]"), Some(v6));
        assert_eq!(parse_node("unknown"), None);
        assert_eq!(parse_node("_hidden"), None);
    }

    #[test]
    fn forwarded_headers_count_only_when_trusted_and_only_the_last_entry() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7:4711")]);
        assert_eq!(
            client_key(&h, peer(), false),
            ClientKey::V4([10, 0, 0, 9].into())
        );
        assert_eq!(
            client_key(&h, peer(), true),
            ClientKey::V4([203, 0, 113, 7].into())
        );
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "203.0.113.8"),
        ]);
        assert_eq!(
            client_key(&h, peer(), true),
            ClientKey::V4([203, 0, 113, 8].into())
        );
        let h = headers(&[(
            "forwarded",
            "for=1.1.1.1, for=\"[2001:db8:cafe::17]:4711\";proto=https",
        )]);
        assert_eq!(
            client_key(&h, peer(), true),
            ClientKey::from("2001:db8:cafe::99".parse::<IpAddr>().unwrap())
        );
        // Garbage falls back to the peer, never to a shared key.
        let h = headers(&[("x-forwarded-for", "nonsense")]);
        assert_eq!(
            client_key(&h, peer(), true),
            ClientKey::V4([10, 0, 0, 9].into())
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_v4_as_v4() {
        let a = ClientKey::from("2001:db8:1:2:aaaa::1".parse::<IpAddr>().unwrap());
        let b = ClientKey::from("2001:db8:1:2:bbbb::2".parse::<IpAddr>().unwrap());
        let c = ClientKey::from("2001:db8:1:3::1".parse::<IpAddr>().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        let mapped = ClientKey::from("::ffff:192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(mapped, ClientKey::V4([192, 0, 2, 1].into()));
    }
}
