import Foundation

/// Matrix identifiers: user ids (`@alice:example.org`), room ids (`!abc:example.org`), aliases
/// (`#soc:example.org`), event ids (`$xyz`), content URIs (`mxc://example.org/abc`).
enum MatrixID {
    /// The part before the server name, without the sigil: `alice` for `@alice:example.org`,
    /// `soc` for `#soc:example.org`.
    static func localpart(_ id: String) -> String {
        let rest = id.first.map { "@#!$".contains($0) } == true ? id.dropFirst() : Substring(id)
        return String(rest.prefix { $0 != ":" })
    }

    /// The server name after the first colon: `example.org` for `@alice:example.org` (a server
    /// name may hold a port, `example.org:8448`).
    static func server(_ id: String) -> String {
        id.firstIndex(of: ":").map { String(id[id.index(after: $0)...]) } ?? ""
    }

    /// `id` as one segment of a URL path: every sigil, colon and slash escaped.
    static func segment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: unreserved) ?? id
    }

    /// The server and media id of `mxc://server/media`, or nil for anything else.
    static func media(_ uri: String) -> (server: String, media: String)? {
        guard uri.hasPrefix("mxc://") else { return nil }
        let parts = uri.dropFirst(6).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// RFC 3986's unreserved characters: the only ones left as they are in a path segment or a
    /// query value.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
