import Foundation

/// Indicators that name the organisation's own network: private, loopback, link-local,
/// carrier-grade NAT and unique-local addresses, and host names under suffixes that resolve only
/// inside (`dc01.corp.local`). A lookup of one at a third party (VirusTotal and the like) tells
/// it the network's layout, so integrations get them only when the configuration says they run
/// on that network (`integrations.NAME.internal: true`); local feeds still check them. Reserved
/// addresses that are never a remote peer (this network, broadcast, multicast, unspecified) are
/// not sent either: no third party knows anything of them.
///
/// The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are
/// public here: they name no one's network, and examples and tests use them as public addresses.
enum InternalIndicator {
    private static let networks: [(key: IndicatorKey, text: String, kind: String)] = [
        ("10.0.0.0/8", "private"), ("172.16.0.0/12", "private"), ("192.168.0.0/16", "private"),
        ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"), ("100.64.0.0/10", "carrier-grade NAT"),
        ("::1/128", "loopback"), ("fc00::/7", "unique local"), ("fe80::/10", "link-local"),
        ("0.0.0.0/8", "reserved"), ("255.255.255.255/32", "broadcast"), ("224.0.0.0/4", "multicast"),
        ("::/128", "unspecified"), ("ff00::/8", "multicast"),
    ].map { text, kind in (try! IndicatorKey.parse(text, as: .ip), text, kind) }

    /// Suffixes that name no public domain (RFC 6762 `.local`, RFC 8375 `.home.arpa`, ICANN's
    /// reserved `.internal`, and the `.lan` home routers use).
    private static let suffixes = ["local", "internal", "lan", "home.arpa", "localhost"]

    /// Why `value`, an indicator of `kind` (`ip`, `domain`, `url`, `email`), stays inside, short
    /// enough for every chat answer (`private address (10.0.0.0/8)`); nil when it may be sent.
    static func reason(kind: String, value: String) -> String? {
        switch kind {
        case "ip": address(value)
        case "domain": name(value)
        case "email": value.split(separator: "@").last.flatMap { name(String($0)) }
        case "url":
            URLComponents(string: value)?.host.flatMap { host in
                let host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                return address(host) ?? name(host)
            }
        default: nil
        }
    }

    private static func address(_ text: String) -> String? {
        guard let key = try? IndicatorKey.parse(text, as: .ip), key.isSingleAddress,
              let network = networks.first(where: { key.overlaps($0.key) })
        else { return nil }
        return "\(network.kind) address (\(network.text))"
    }

    private static func name(_ text: String) -> String? {
        let name = text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        guard let suffix = suffixes.first(where: { name == $0 || name.hasSuffix("." + $0) }) else { return nil }
        return "internal name (.\(suffix))"
    }
}
