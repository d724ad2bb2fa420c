//! The client address of a request: the connection's peer, or the address a trusted
//! reverse proxy forwarded in `X-Forwarded-For` or `Forwarded` (RFC 7239).
//!
//! Forwarding headers are written by whoever sends the request, so they are read only
//! when the immediate peer is a trusted proxy, and then only as far as the chain of
//! trusted proxies reaches: walking the list right to left (each proxy appends the
//! address it received the request from), trusted proxies are skipped and the first
//! untrusted hop is the client. An entry that is not an address (`unknown`, an
//! obfuscated identifier, garbage) where the walk needs one, or a header that is empty
//! or cannot be read, gives no address rather than a guess.

use http::HeaderMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP network (an address and a prefix length), to name trusted proxies.
///
/// A plain address is a network of one address. Parsed from `"10.0.0.0/8"`,
/// `"fd00::/8"`, `"127.0.0.1"` or `"::1"`; host bits below the prefix are ignored.
///
/// ```
/// use audit_runtime::web::IpNet;
///
/// let net: IpNet = "10.0.0.0/8".parse().unwrap();
/// assert!(net.contains("10.1.2.3".parse().unwrap()));
/// assert!(!net.contains("192.0.2.1".parse().unwrap()));
///
/// let one = IpNet::from(std::net::Ipv4Addr::LOCALHOST);
/// assert!(one.contains("127.0.0.1".parse().unwrap()));
/// assert!("10.0.0.0/33".parse::<IpNet>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// The network of `addr` with a prefix of `prefix` bits (at most 32 for IPv4, 128
    /// for IPv6). An IPv4-mapped IPv6 address (`::ffff:10.0.0.0/104`) is read as the
    /// IPv4 network it maps.
    ///
    /// ```
    /// use audit_runtime::web::IpNet;
    /// use std::net::Ipv4Addr;
    ///
    /// let net = IpNet::new(Ipv4Addr::new(192, 168, 0, 0).into(), 16).unwrap();
    /// assert_eq!(net.to_string(), "192.168.0.0/16");
    /// ```
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, InvalidIpNet> {
        let (addr, prefix) = match addr {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() && prefix >= 96 => {
                (addr.to_canonical(), prefix - 96)
            }
            _ => (addr, prefix),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(InvalidIpNet(format!("{addr}/{prefix}")));
        }
        Ok(Self { addr, prefix })
    }

    /// The network's address as given (IPv4-mapped addresses as IPv4).
    ///
    /// ```
    /// use audit_runtime::web::IpNet;
    ///
    /// let net: IpNet = "10.0.0.0/8".parse().unwrap();
    /// assert_eq!(net.addr().to_string(), "10.0.0.0");
    /// ```
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    ///
    /// ```
    /// use audit_runtime::web::IpNet;
    ///
    /// assert_eq!("10.0.0.0/8".parse::<IpNet>().unwrap().prefix(), 8);
    /// assert_eq!("::1".parse::<IpNet>().unwrap().prefix(), 128);
    /// ```
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `addr` is in this network. IPv4-mapped IPv6 addresses
    /// (`::ffff:127.0.0.1`, what a dual-stack listener reports) count as the IPv4
    /// address they map.
    ///
    /// ```
    /// use audit_runtime::web::IpNet;
    ///
    /// let loopback: IpNet = "127.0.0.0/8".parse().unwrap();
    /// assert!(loopback.contains("::ffff:127.0.0.1".parse().unwrap()));
    /// assert!(!loopback.contains("::1".parse().unwrap()));
    /// ```
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl From<IpAddr> for IpNet {
    fn from(addr: IpAddr) -> Self {
        let addr = addr.to_canonical();
        Self {
            addr,
            prefix: if addr.is_ipv4() { 32 } else { 128 },
        }
    }
}

impl From<Ipv4Addr> for IpNet {
    fn from(addr: Ipv4Addr) -> Self {
        IpAddr::V4(addr).into()
    }
}

impl From<Ipv6Addr> for IpNet {
    fn from(addr: Ipv6Addr) -> Self {
        IpAddr::V6(addr).into()
    }
}

impl FromStr for IpNet {
    type Err = InvalidIpNet;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidIpNet(s.to_owned());
        match s.trim().split_once('/') {
            None => s
                .trim()
                .parse::<IpAddr>()
                .map(Self::from)
                .map_err(|_| invalid()),
            Some((addr, prefix)) => {
                let addr = addr.parse::<IpAddr>().map_err(|_| invalid())?;
                if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid());
                }
                let prefix = prefix.parse::<u8>().map_err(|_| invalid())?;
                Self::new(addr, prefix).map_err(|_| invalid())
            }
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A text that is not an IP network: the error of [`IpNet`]'s `FromStr` and
/// [`IpNet::new`].
///
/// ```
/// use audit_runtime::web::IpNet;
///
/// let error = "10.0.0.0/40".parse::<IpNet>().unwrap_err();
/// assert!(error.to_string().contains("10.0.0.0/40"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an IP network (expected an address such as 10.0.0.1 or a network such as 10.0.0.0/8): {0:?}"
)]
pub struct InvalidIpNet(String);

/// The header a trusted reverse proxy uses to forward the client's address.
///
/// Only one is read: a proxy that appends to one header passes the other through as
/// the client sent it, so reading both would let a client choose its own address.
///
/// ```
/// use audit_runtime::web::{AuditLayer, ProxyHeader};
/// use std::net::Ipv4Addr;
///
/// let layer = AuditLayer::new()
///     .trust_proxy(Ipv4Addr::LOCALHOST)
///     .proxy_header(ProxyHeader::Forwarded);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for="[2001:db8::1]:4711";proto=https` (RFC 7239).
    Forwarded,
}

impl ProxyHeader {
    /// The header's name, in lower case.
    ///
    /// ```
    /// use audit_runtime::web::ProxyHeader;
    ///
    /// assert_eq!(ProxyHeader::default().name(), "x-forwarded-for");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

/// One entry of a forwarding chain: an address, or something that names no address
/// (`unknown`, an obfuscated identifier, garbage).
type Hop = Option<IpAddr>;

/// The client address of a request whose connection came from `peer`.
///
/// - No peer (the server was not started with connect info): no address.
/// - A peer that is not a trusted proxy: the peer.
/// - A trusted peer without the header: the peer (a request the proxy host made).
/// - A trusted peer with the header: walking the header's hops right to left, the first
///   one that is not a trusted proxy, or the leftmost when all of them are; no address
///   when the walk meets an entry that is not an address, or the header is empty or
///   malformed.
pub(crate) fn client_addr(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
    header: ProxyHeader,
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    let is_trusted = |addr: IpAddr| trusted.iter().any(|net| net.contains(addr));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut values = headers.get_all(header.name()).iter().peekable();
    if values.peek().is_none() {
        return Some(peer);
    }
    let mut hops: Vec<Hop> = Vec::new();
    for value in values {
        let text = value.to_str().ok()?;
        match header {
            ProxyHeader::XForwardedFor => hops.extend(x_forwarded_for(text)),
            ProxyHeader::Forwarded => hops.extend(forwarded(text)?),
        }
    }
    let mut leftmost = None;
    for hop in hops.iter().rev() {
        let addr = (*hop)?;
        if !is_trusted(addr) {
            return Some(addr);
        }
        leftmost = Some(addr);
    }
    leftmost
}

/// The hops of one `X-Forwarded-For` value, left to right; empty list elements are
/// skipped, as HTTP lists allow them.
fn x_forwarded_for(value: &str) -> Vec<Hop> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(node)
        .collect()
}

/// The hops of one `Forwarded` value, left to right: each element's `for` parameter.
/// An element without `for` (or with two) names no address; a value that does not
/// follow the header's syntax is `None` as a whole.
fn forwarded(value: &str) -> Option<Vec<Hop>> {
    let mut hops = Vec::new();
    for element in split_outside_quotes(value, ',')? {
        if element.trim().is_empty() {
            continue;
        }
        let mut node_of_element: Option<Hop> = None;
        let mut seen_for = false;
        for pair in split_outside_quotes(&element, ';')? {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let (name, raw) = pair.split_once('=')?;
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return None;
            }
            let value = unquote(raw.trim())?;
            if name.eq_ignore_ascii_case("for") {
                node_of_element = if seen_for {
                    Some(None)
                } else {
                    Some(node(&value))
                };
                seen_for = true;
            }
        }
        hops.push(node_of_element.unwrap_or(None));
    }
    Some(hops)
}

/// Splits `text` at `separator` where it is not inside a quoted string; `None` when a
/// quoted string is not closed.
fn split_outside_quotes(text: &str, separator: char) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
    }
    if quoted || escaped {
        return None;
    }
    parts.push(current);
    Some(parts)
}

/// A parameter value: a token, or a quoted string with its escapes resolved.
fn unquote(raw: &str) -> Option<String> {
    if let Some(inner) = raw.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?),
                '"' => return None,
                c => out.push(c),
            }
        }
        Some(out)
    } else if !raw.is_empty() && raw.bytes().all(is_token_byte) {
        Some(raw.to_owned())
    } else if raw.starts_with('[') && raw.bytes().all(|b| is_token_byte(b) || b"[]:".contains(&b)) {
        // Brackets and colons are not token characters; an unquoted `[2001:db8::1]` is
        // taken leniently as the address it plainly is.
        Some(raw.to_owned())
    } else {
        None
    }
}

/// A `tchar` of RFC 9110.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The address a node names: `192.0.2.43`, `192.0.2.43:47011`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711`, with a numeric or obfuscated (`_abc`) port.
/// `unknown`, obfuscated identifiers (`_hidden`) and anything else name none.
fn node(text: &str) -> Hop {
    let text = text.trim();
    let addr = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        IpAddr::V6(inside.parse::<Ipv6Addr>().ok()?)
    } else if let Ok(addr) = text.parse::<IpAddr>() {
        addr
    } else {
        let (host, port) = text.split_once(':')?;
        if !is_port(port) {
            return None;
        }
        IpAddr::V4(host.parse::<Ipv4Addr>().ok()?)
    };
    Some(addr.to_canonical())
}

/// A port: 1 to 5 digits, or an obfuscated port (`_` and token characters).
fn is_port(text: &str) -> bool {
    let digits = (1..=5).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    let obfuscated = text.len() > 1
        && text.starts_with('_')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    digits || obfuscated
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn headers(name: &str, values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    /// The client address of a request from `peer` through proxies `trusted` with
    /// `X-Forwarded-For` values.
    fn xff(peer: &str, trusted: &[&str], values: &[&str]) -> Option<IpAddr> {
        let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        client_addr(
            Some(ip(peer)),
            &headers("x-forwarded-for", &values),
            &nets(trusted),
            ProxyHeader::XForwardedFor,
        )
    }

    fn fwd(peer: &str, trusted: &[&str], values: &[&str]) -> Option<IpAddr> {
        let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        client_addr(
            Some(ip(peer)),
            &headers("forwarded", &values),
            &nets(trusted),
            ProxyHeader::Forwarded,
        )
    }

    #[test]
    fn nodes_with_ports_brackets_and_ipv6() {
        assert_eq!(node("192.0.2.43"), Some(ip("192.0.2.43")));
        assert_eq!(node(" 192.0.2.43:47011 "), Some(ip("192.0.2.43")));
        assert_eq!(node("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(node("[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(node("[2001:db8::1]:4711"), Some(ip("2001:db8::1")));
        assert_eq!(node("[2001:db8::1]:_port"), Some(ip("2001:db8::1")));
        assert_eq!(node("192.0.2.43:_abc"), Some(ip("192.0.2.43")));
        assert_eq!(node("::ffff:192.0.2.1"), Some(ip("192.0.2.1")));
        for garbage in [
            "",
            "unknown",
            "_hidden",
            "_SEVKISEK",
            "example.com",
            "192.0.2",
            "192.0.2.300",
            "192.0.2.43:",
            "192.0.2.43:123456",
            "192.0.2.43:port",
            "2001:db8::1:4711x",
            "[2001:db8::1",
            "[2001:db8::1]4711",
            "[192.0.2.1]",
            "fe80::1%eth0",
            "1.2.3.4 5.6.7.8",
            "<script>",
        ] {
            assert_eq!(node(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn networks_parse_and_contain() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.255.0.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(!net.contains(ip("::1")));
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        let one: IpNet = "192.0.2.7".parse().unwrap();
        assert_eq!(one.prefix(), 32);
        assert!(one.contains(ip("192.0.2.7")));
        assert!(!one.contains(ip("192.0.2.8")));
        let mapped: IpNet = "::ffff:10.0.0.0/104".parse().unwrap();
        assert_eq!(mapped.to_string(), "10.0.0.0/8");
        assert!("::1".parse::<IpNet>().unwrap().contains(ip("::1")));
        for bad in [
            "",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "::/129",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/8/8",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_headers_say() {
        assert_eq!(
            xff("192.0.2.1", &[], &["203.0.113.7"]),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(
            xff("192.0.2.1", &["10.0.0.0/8"], &["203.0.113.7"]),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(
            fwd("192.0.2.1", &["10.0.0.0/8"], &["for=203.0.113.7"]),
            Some(ip("192.0.2.1"))
        );
        // A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6 addresses.
        assert_eq!(
            xff("::ffff:192.0.2.1", &[], &["203.0.113.7"]),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(
            client_addr(
                None,
                &headers("x-forwarded-for", &[b"203.0.113.7"]),
                &nets(&["0.0.0.0/0"]),
                ProxyHeader::XForwardedFor
            ),
            None,
            "without a peer nothing is known"
        );
    }

    #[test]
    fn x_forwarded_for_chains_are_walked_right_to_left() {
        let trusted = &["10.0.0.0/8", "fd00::/8"];
        assert_eq!(
            xff("10.0.0.1", trusted, &["203.0.113.7"]),
            Some(ip("203.0.113.7"))
        );
        // Spaces, ports and IPv6, with a spoofed entry left of the real client.
        assert_eq!(
            xff(
                "10.0.0.1",
                trusted,
                &["  6.6.6.6 ,203.0.113.7:5123,   10.0.0.9  , 10.2.3.4"]
            ),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            xff("10.0.0.1", trusted, &["2001:db8::1, 10.0.0.2"]),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            xff("10.0.0.1", trusted, &["[2001:db8::1]:4711"]),
            Some(ip("2001:db8::1"))
        );
        // Several header lines form one list, in order.
        assert_eq!(
            xff("10.0.0.1", trusted, &["6.6.6.6, 198.51.100.2", "10.0.0.3"]),
            Some(ip("198.51.100.2"))
        );
        // Empty list elements are skipped.
        assert_eq!(
            xff("10.0.0.1", trusted, &["198.51.100.2,, 10.0.0.3,"]),
            Some(ip("198.51.100.2"))
        );
        // All hops trusted: the leftmost is the origin.
        assert_eq!(
            xff("10.0.0.1", trusted, &["10.9.9.9, 10.0.0.2"]),
            Some(ip("10.9.9.9"))
        );
        // The proxy host itself, without a header.
        assert_eq!(xff("10.0.0.1", trusted, &[]), Some(ip("10.0.0.1")));
        // An IPv4-mapped peer matches an IPv4 network.
        assert_eq!(
            xff("::ffff:10.0.0.1", &["10.0.0.0/8"], &["203.0.113.7"]),
            Some(ip("203.0.113.7"))
        );
    }

    #[test]
    fn empty_unknown_and_garbage_x_forwarded_for_give_no_address() {
        let trusted = &["10.0.0.0/8"];
        for value in [
            "",
            "   ",
            ",",
            "unknown",
            "garbage",
            "203.0.113.7, unknown",
            "203.0.113.7, _hidden, 10.0.0.2",
            "203.0.113.300",
            "203.0.113.7 198.51.100.1",
            "\"203.0.113.7\"",
            "for=203.0.113.7",
        ] {
            assert_eq!(xff("10.0.0.1", trusted, &[value]), None, "{value:?}");
        }
        // Garbage left of the client does not matter: the walk stops at the client.
        assert_eq!(
            xff("10.0.0.1", trusted, &["garbage, unknown, 203.0.113.7"]),
            Some(ip("203.0.113.7"))
        );
        // A value that is not visible ASCII.
        let map = headers("x-forwarded-for", &[b"203.0.113.7\xff"]);
        assert_eq!(
            client_addr(
                Some(ip("10.0.0.1")),
                &map,
                &nets(trusted),
                ProxyHeader::XForwardedFor
            ),
            None
        );
    }

    #[test]
    fn forwarded_elements_and_parameters() {
        let trusted = &["10.0.0.0/8", "192.0.2.43"];
        // RFC 7239's own example: the IPv6 client behind 192.0.2.43.
        assert_eq!(
            fwd(
                "10.0.0.1",
                trusted,
                &["for=\"[2001:db8::1]:4711\";proto=http, for=192.0.2.43"]
            ),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            fwd(
                "10.0.0.1",
                &["10.0.0.0/8"],
                &["for=\"[2001:db8::1]:4711\";proto=http, for=192.0.2.43"]
            ),
            Some(ip("192.0.2.43"))
        );
        // Parameter names are case-insensitive, order and whitespace free.
        assert_eq!(
            fwd(
                "10.0.0.1",
                trusted,
                &["proto=https;By=10.0.0.1; For=\"198.51.100.17:8080\" , for=10.0.0.5"]
            ),
            Some(ip("198.51.100.17"))
        );
        assert_eq!(
            fwd("10.0.0.1", trusted, &["for=198.51.100.17", "for=10.0.0.4"]),
            Some(ip("198.51.100.17"))
        );
        // A quoted string may hold separators.
        assert_eq!(
            fwd(
                "10.0.0.1",
                trusted,
                &["for=198.51.100.17;host=\"a,b;c\";proto=https"]
            ),
            Some(ip("198.51.100.17"))
        );
        // Bare IPv6 inside brackets, unquoted: taken leniently.
        assert_eq!(
            fwd("10.0.0.1", trusted, &["for=[2001:db8::7]"]),
            Some(ip("2001:db8::7"))
        );
    }

    #[test]
    fn forwarded_unknown_obfuscated_and_malformed_give_no_address() {
        let trusted = &["10.0.0.0/8"];
        for value in [
            "",
            " , ",
            "for=unknown",
            "for=_hidden",
            "for=\"_gazonk\"",
            "for=unknown, for=10.0.0.2",
            "by=10.0.0.1;proto=https",
            "for=198.51.100.1;for=198.51.100.2",
            "for=\"198.51.100.1",
            "for=198.51.100.1\"",
            "for=",
            "=198.51.100.1",
            "198.51.100.1",
            "for 198.51.100.1",
            "f(r=198.51.100.1",
            "for=2001:db8::1",
            "for=\"[2001:db8::1\"",
            "for=192.0.2.43:http",
            "garbage",
        ] {
            assert_eq!(fwd("10.0.0.1", trusted, &[value]), None, "{value:?}");
        }
        // Hops left of the client are never read.
        assert_eq!(
            fwd(
                "10.0.0.1",
                trusted,
                &["for=unknown, for=_x, for=198.51.100.1, for=10.0.0.2"]
            ),
            Some(ip("198.51.100.1"))
        );
        // The other header is not read.
        let map = headers("x-forwarded-for", &[b"198.51.100.1"]);
        assert_eq!(
            client_addr(
                Some(ip("10.0.0.1")),
                &map,
                &nets(trusted),
                ProxyHeader::Forwarded
            ),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn arbitrary_header_bytes_never_panic() {
        let samples: &[&[u8]] = &[
            b"\"",
            b"\\",
            b"for=\"\\",
            b"for=\"\\\"",
            b";;;,,,===",
            b"for=[]",
            b"for=\"[]:\"",
            b"[::]:99999",
            b"\x80\x81",
            b"for=\"\xc3\xa9\"",
        ];
        for sample in samples {
            for header in [ProxyHeader::XForwardedFor, ProxyHeader::Forwarded] {
                let map = headers(header.name(), &[sample]);
                let _ = client_addr(Some(ip("10.0.0.1")), &map, &nets(&["10.0.0.0/8"]), header);
            }
        }
    }
}
