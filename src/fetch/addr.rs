//! Which IP addresses a download may connect to.
//!
//! The rule is "public unicast only": anything that IANA lists as a special-purpose block
//! (loopback, private, link-local, shared CGNAT space, documentation, benchmarking,
//! multicast, reserved, ...) is refused, and so is every IPv6 form that merely wraps such an
//! IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:ab:cd::`).
//! IPv6 outside the global-unicast range `2000::/3` is refused outright, so a block we forgot
//! to name errs on the side of refusal.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The special-purpose block `ip` belongs to, or `None` for a public unicast address that a
/// download may connect to.
///
/// The name is for log lines and rejection details ("loopback", "private", ...); it is not a
/// stable machine code.
pub fn address_block(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_block(v4),
        IpAddr::V6(v6) => v6_block(v6),
    }
}

/// `true` when `ip` is a public unicast address (see [`address_block`]).
pub fn is_public_address(ip: IpAddr) -> bool {
    address_block(ip).is_none()
}

/// `(network, prefix length, name)` of the IPv4 special-purpose blocks we refuse.
const V4_BLOCKS: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "this-network"),
    ([10, 0, 0, 0], 8, "private"),
    ([100, 64, 0, 0], 10, "shared-cgnat"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private"),
    ([192, 0, 0, 0], 24, "ietf-protocol-assignments"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 31, 196, 0], 24, "as112"),
    ([192, 52, 193, 0], 24, "amt"),
    ([192, 88, 99, 0], 24, "6to4-relay-anycast"),
    ([192, 168, 0, 0], 16, "private"),
    ([192, 175, 48, 0], 24, "as112"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    // 240.0.0.0/4 "reserved" also covers the limited broadcast 255.255.255.255.
    ([240, 0, 0, 0], 4, "reserved"),
];

fn v4_block(ip: Ipv4Addr) -> Option<&'static str> {
    if ip.is_broadcast() {
        return Some("broadcast");
    }
    let bits = u32::from(ip);
    V4_BLOCKS.iter().find_map(|&(net, len, name)| {
        let mask = u32::MAX << (32 - u32::from(len));
        (bits & mask == u32::from(Ipv4Addr::from(net))).then_some(name)
    })
}

/// `(network, prefix length, name)` of the IPv6 special-purpose blocks we refuse (after the
/// embedded-IPv4 forms are handled).
const V6_BLOCKS: &[(Ipv6Addr, u32, &str)] = &[
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "nat64-local-use",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "discard-only",
    ),
    // 2001::/23 holds Teredo (2001::/32), benchmarking, ORCHID and friends.
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "ietf-protocol-assignments",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique-local",
    ),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local"),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, "site-local"),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

fn v6_in(ip: Ipv6Addr, net: Ipv6Addr, len: u32) -> bool {
    let mask = u128::MAX << (128 - len);
    u128::from(ip) & mask == u128::from(net)
}

fn v6_block(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // ::ffff:a.b.c.d (IPv4-mapped): the kernel connects to the embedded IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_block(v4);
    }
    // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291): never a legitimate destination.
    if bits >> 32 == 0 {
        return Some("ipv4-compatible");
    }
    // 64:ff9b::/96 well-known NAT64 prefix: the translator connects to the embedded address.
    if v6_in(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        // Truncation is the point: the low 32 bits are the embedded IPv4 address.
        #[allow(clippy::cast_possible_truncation)]
        let embedded = Ipv4Addr::from(bits as u32);
        return v4_block(embedded).map(|_| "nat64-embedded-special");
    }
    // 2002::/16 6to4: bits 16..48 carry the IPv4 address of the relay/host.
    if seg[0] == 0x2002 {
        #[allow(clippy::cast_possible_truncation)]
        let embedded = Ipv4Addr::from((bits >> 80) as u32);
        return v4_block(embedded).map(|_| "6to4-embedded-special");
    }
    if let Some(&(_, _, name)) = V6_BLOCKS.iter().find(|&&(net, len, _)| v6_in(ip, net, len)) {
        return Some(name);
    }
    // Everything routable on the public Internet lives in 2000::/3.
    if !v6_in(ip, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3) {
        return Some("not-global-unicast");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_addresses() {
        let table = [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("0.0.0.0", "this-network"),
            ("0.1.2.3", "this-network"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared-cgnat"),
            ("100.127.255.255", "shared-cgnat"),
            ("192.0.0.170", "ietf-protocol-assignments"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:7f00:1", "loopback"),
            ("::ffff:10.1.2.3", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::127.0.0.1", "ipv4-compatible"),
            ("::8.8.8.8", "ipv4-compatible"),
            ("64:ff9b::127.0.0.1", "nat64-embedded-special"),
            ("64:ff9b::a9fe:a9fe", "nat64-embedded-special"),
            ("64:ff9b:1::1", "nat64-local-use"),
            ("2002:7f00:1::", "6to4-embedded-special"),
            ("2002:a00:1::1", "6to4-embedded-special"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("2001::1", "ietf-protocol-assignments"),
            ("100::1", "discard-only"),
            ("4000::1", "not-global-unicast"),
        ];
        for (text, block) in table {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(address_block(ip), Some(block), "{text}");
            assert!(!is_public_address(ip), "{text}");
        }
    }

    #[test]
    fn public_addresses() {
        for text in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.215.14",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "11.0.0.1",
            "223.255.255.254",
            "2606:4700:4700::1111",
            "2a00:1450:4007:80f::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(address_block(ip), None, "{text}");
        }
    }
}
