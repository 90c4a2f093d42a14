//! The private-address guard (protection against server-side request forgery): when a server
//! lets its API clients submit store URLs, those URLs must not make it reach its own machine,
//! its private network or a cloud metadata service.
//!
//! - [`forbidden_reason`] classifies one IP address: `None` for a public address, otherwise a
//!   short reason ("loopback", "private network", "link-local / cloud metadata", …).
//! - [`PublicOnlyResolver`] is a reqwest DNS resolver that resolves with the system resolver and
//!   hands reqwest only the public addresses, so the addresses checked are exactly the addresses
//!   connected to, on every new connection (DNS rebinding cannot slip a private address in
//!   between a check and the connection).
//! - [`check_literal_host`] checks URLs whose host is an IP address, which reqwest connects to
//!   without resolving.
//!
//! [`crate::Client::new`] installs both when [`crate::Connection::public_only`] is set (and
//! turns proxies off, so that the address checked is the address connected to).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why `ip` may not be the address of a store, or `None` when it is a public address.
///
/// Refused IPv4 ranges: `0.0.0.0/8` (this network), `127.0.0.0/8` (loopback), `10.0.0.0/8`,
/// `172.16.0.0/12`, `192.168.0.0/16` (private networks), `169.254.0.0/16` (link-local, with the
/// cloud metadata service at `169.254.169.254`), `100.64.0.0/10` (carrier-grade NAT),
/// `192.0.0.0/24` (IETF protocol assignments), `192.0.2.0/24`, `198.51.100.0/24`,
/// `203.0.113.0/24` (documentation), `198.18.0.0/15` (benchmarking), `224.0.0.0/4`
/// (multicast), `240.0.0.0/4` (reserved) and `255.255.255.255` (broadcast).
///
/// IPv6: addresses that embed an IPv4 address are judged by it (IPv4-mapped `::ffff:a.b.c.d`,
/// NAT64 `64:ff9b::/96`, 6to4 `2002::/16`); refused are `::` (unspecified), `::1` (loopback),
/// the deprecated IPv4-compatible `::a.b.c.d`, the rest of `::/8`, local-use NAT64
/// `64:ff9b:1::/48`, discard-only `100::/64`, Teredo `2001::/32`, benchmarking `2001:2::/48`,
/// ORCHID `2001:10::/28` and `2001:20::/28`, documentation `2001:db8::/32` and `3fff::/20`,
/// unique local `fc00::/7` (with AWS's metadata service at `fd00:ec2::254`), site-local
/// `fec0::/10`, link-local `fe80::/10`, multicast `ff00::/8`, and everything else outside
/// the global unicast range `2000::/3`.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

/// Whether `ip` may be the address of a store (the opposite of [`forbidden_reason`]).
pub fn is_public(ip: IpAddr) -> bool {
    forbidden_reason(ip).is_none()
}

fn in_v4(ip: Ipv4Addr, network: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(network)) & mask
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const RANGES: &[([u8; 4], u32, &str)] = &[
        ([0, 0, 0, 0], 8, "this network"),
        ([127, 0, 0, 0], 8, "loopback"),
        ([10, 0, 0, 0], 8, "private network"),
        ([172, 16, 0, 0], 12, "private network"),
        ([192, 168, 0, 0], 16, "private network"),
        ([169, 254, 0, 0], 16, "link-local / cloud metadata"),
        ([100, 64, 0, 0], 10, "carrier-grade NAT"),
        ([192, 0, 0, 0], 24, "IETF protocol assignments"),
        ([192, 0, 2, 0], 24, "documentation"),
        ([198, 51, 100, 0], 24, "documentation"),
        ([203, 0, 113, 0], 24, "documentation"),
        ([198, 18, 0, 0], 15, "benchmarking"),
        ([224, 0, 0, 0], 4, "multicast"),
        ([255, 255, 255, 255], 32, "broadcast"),
        ([240, 0, 0, 0], 4, "reserved"),
    ];
    RANGES
        .iter()
        .find(|(network, prefix, _)| in_v4(ip, *network, *prefix))
        .map(|(_, _, reason)| *reason)
}

fn in_v6(ip: Ipv6Addr, network: [u16; 8], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(network)) & mask
}

/// The IPv4 address in the last 32 bits.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from(u128::from(ip) as u32)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // Addresses that carry an IPv4 address are as reachable as it is.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return forbidden_v4(low_v4(ip));
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        let s = ip.segments();
        let embedded = Ipv4Addr::from(((s[1] as u32) << 16) | s[2] as u32);
        return forbidden_v4(embedded);
    }
    if ip == Ipv6Addr::UNSPECIFIED {
        return Some("unspecified");
    }
    if ip == Ipv6Addr::LOCALHOST {
        return Some("loopback");
    }
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("link-local / cloud metadata");
    }
    const RANGES: &[([u16; 8], u32, &str)] = &[
        ([0, 0, 0, 0, 0, 0, 0, 0], 96, "IPv4-compatible (deprecated)"),
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "private network"),
        ([0, 0, 0, 0, 0, 0, 0, 0], 8, "reserved"),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only"),
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "Teredo tunnel"),
        ([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, "benchmarking"),
        ([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, "reserved"),
        ([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, "reserved"),
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation"),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "private network"),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local"),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast"),
    ];
    if let Some((_, _, reason)) = RANGES
        .iter()
        .find(|(network, prefix, _)| in_v6(ip, *network, *prefix))
    {
        return Some(reason);
    }
    if !in_v6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        return Some("reserved");
    }
    None
}

/// A host that points only to addresses a store may not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForbiddenAddress {
    /// The host as it appears in the store URL (a name, or an IP address, IPv6 in brackets).
    pub host: String,
    /// The (first) forbidden address it points to.
    pub address: IpAddr,
    /// Why the address is refused ([`forbidden_reason`]).
    pub reason: &'static str,
}

impl ForbiddenAddress {
    /// Whether the host is the address itself (an IP literal in the URL) rather than a name.
    pub fn is_literal(&self) -> bool {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            == Ok(self.address)
    }
}

impl fmt::Display for ForbiddenAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_literal() {
            write!(
                f,
                "{} is a {} address, which a store address may not be",
                self.address, self.reason
            )
        } else {
            write!(
                f,
                "{} resolves to {} ({}), which a store address may not point to",
                self.host, self.address, self.reason
            )
        }
    }
}

impl std::error::Error for ForbiddenAddress {}

/// Refuses a URL whose host is a forbidden IP address (reqwest connects to IP literals without
/// asking the resolver). Host names pass: [`PublicOnlyResolver`] checks what they resolve to.
pub fn check_literal_host(url: &Url) -> Result<(), ForbiddenAddress> {
    let address = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(_)) | None => return Ok(()),
    };
    match forbidden_reason(address) {
        Some(reason) => Err(ForbiddenAddress {
            host: url.host_str().unwrap_or_default().to_owned(),
            address,
            reason,
        }),
        None => Ok(()),
    }
}

/// Keeps the public addresses of `host`; fails with the first forbidden one when none is left.
pub fn public_addresses(
    host: &str,
    addresses: impl IntoIterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, ForbiddenAddress> {
    let mut first_forbidden = None;
    let mut kept = Vec::new();
    for address in addresses {
        match forbidden_reason(address.ip()) {
            None => kept.push(address),
            Some(reason) => {
                tracing::debug!(host, address = %address.ip(), reason, "address guard drops an address");
                first_forbidden.get_or_insert((address.ip(), reason));
            }
        }
    }
    match (kept.is_empty(), first_forbidden) {
        (true, Some((address, reason))) => Err(ForbiddenAddress {
            host: host.to_owned(),
            address,
            reason,
        }),
        _ => Ok(kept),
    }
}

/// A reqwest resolver that resolves with the system resolver and returns only public
/// addresses; when a name resolves to forbidden addresses only, the lookup fails with a
/// [`ForbiddenAddress`] (found in the `reqwest::Error`'s source chain).
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let kept = public_addresses(&host, resolved)?;
            if kept.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("failed to lookup address information: no address for {host}"),
                )
                .into());
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// Finds a [`ForbiddenAddress`] in an error's source chain (where reqwest puts a resolver's
/// error).
pub fn find_forbidden<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a ForbiddenAddress> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<ForbiddenAddress>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> Option<&'static str> {
        forbidden_reason(text.parse().unwrap())
    }

    #[test]
    fn forbidden_addresses_are_classified() {
        let table = [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("0.0.0.0", "this network"),
            ("0.1.2.3", "this network"),
            ("10.0.0.1", "private network"),
            ("10.255.255.255", "private network"),
            ("172.16.0.1", "private network"),
            ("172.31.255.255", "private network"),
            ("192.168.1.1", "private network"),
            ("169.254.169.254", "link-local / cloud metadata"),
            ("169.254.0.1", "link-local / cloud metadata"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.255", "carrier-grade NAT"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.254", "reserved"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local / cloud metadata"),
            ("::ffff:10.1.2.3", "private network"),
            ("::127.0.0.1", "IPv4-compatible (deprecated)"),
            ("::8.8.8.8", "IPv4-compatible (deprecated)"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local / cloud metadata"),
            ("64:ff9b:1::1", "private network"),
            ("2002:7f00:1::1", "loopback"),
            ("2002:c0a8:101::", "private network"),
            ("2001::1", "Teredo tunnel"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo tunnel"),
            ("2001:2::1", "benchmarking"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("fc00::1", "private network"),
            ("fd12:3456:789a::1", "private network"),
            ("fd00:ec2::254", "link-local / cloud metadata"),
            ("fd00:ec2::253", "private network"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("ff05::2", "multicast"),
            ("100::1", "discard-only"),
            ("4000::1", "reserved"),
            ("::2:0:0:1", "reserved"),
        ];
        for (address, expected) in table {
            assert_eq!(reason(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for address in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "169.253.255.255",
            "2606:2800:220:1::1",
            "2a00:1450:4007:80e::200e",
            "2001:4860:4860::8888",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
        ] {
            assert_eq!(reason(address), None, "{address}");
            assert!(is_public(address.parse().unwrap()));
        }
    }

    #[test]
    fn literal_hosts_are_checked_and_names_left_to_the_resolver() {
        let check = |u: &str| check_literal_host(&Url::parse(u).unwrap());
        let e = check("http://127.0.0.1:8080/shop/").unwrap_err();
        assert_eq!(e.reason, "loopback");
        assert!(e.is_literal());
        assert_eq!(
            e.to_string(),
            "127.0.0.1 is a loopback address, which a store address may not be"
        );
        let e = check("http://[::ffff:127.0.0.1]/").unwrap_err();
        assert_eq!(e.reason, "loopback");
        assert!(e.is_literal(), "{e:?}");
        // WHATWG URL parsing turns decimal and hex hosts into IPv4 addresses.
        assert_eq!(check("http://2130706433/").unwrap_err().reason, "loopback");
        assert_eq!(check("http://0x7f.1/").unwrap_err().reason, "loopback");
        assert_eq!(
            check("http://[fd00:ec2::254]/").unwrap_err().reason,
            "link-local / cloud metadata"
        );
        assert!(check("https://93.184.216.34/").is_ok());
        assert!(check("https://shop.example/").is_ok());
        assert!(check("http://localhost/").is_ok());
    }

    #[test]
    fn resolved_addresses_keep_the_public_ones() {
        let a = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let kept = public_addresses(
            "shop.example",
            [a("127.0.0.1:0"), a("93.184.216.34:0"), a("[::1]:0")],
        )
        .unwrap();
        assert_eq!(kept, [a("93.184.216.34:0")]);
        let e = public_addresses("shop.example", [a("127.0.0.1:0"), a("[::1]:0")]).unwrap_err();
        assert_eq!(e.address, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert!(!e.is_literal());
        assert_eq!(
            e.to_string(),
            "shop.example resolves to 127.0.0.1 (loopback), which a store address may not point to"
        );
        assert!(public_addresses("shop.example", []).unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_resolver_refuses_localhost() {
        let name: Name = "localhost".parse().unwrap();
        let error = match PublicOnlyResolver.resolve(name).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let forbidden = find_forbidden(error.as_ref()).expect("a ForbiddenAddress");
        assert_eq!(forbidden.host, "localhost");
        assert_eq!(forbidden.reason, "loopback");
    }
}
