import Foundation

/// The proxy outbound HTTP goes through, as the environment names it: `HTTPS_PROXY` for
/// `https://` and `wss://`, `HTTP_PROXY` for `http://` and `ws://`, `NO_PROXY` for the hosts
/// reached directly (each also in lower case), read as curl reads them. It applies to the
/// integrations' and playbooks' `http`, Slack (the Web API, files, Socket Mode) and Matrix;
/// loopback is always reached directly. A SOC's network often lets nothing out but through its
/// proxy: without this, no lookup, no chat and no action would leave the building.
///
/// ```sh
/// HTTPS_PROXY=http://proxy.corp:3128 NO_PROXY=.corp,10.0.0.0 automator serve --config automator.yml
/// ```
public struct OutboundProxy: Sendable, Hashable {
    /// A proxy server, and the credentials (`user:password`) it takes, if any.
    public struct Server: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var username: String?
        public var password: String?

        /// Where it is, never its password (for logs and errors).
        public var description: String { "\(host):\(port)" }
    }

    public var https: Server?
    public var http: Server?
    /// `NO_PROXY`'s entries, lower case: a host, a domain (`.corp` or `corp`, with its
    /// subdomains), an address; `*` for every host.
    public var bypass: [String]

    /// The process's environment, read once.
    public static let environment = OutboundProxy(environment: ProcessInfo.processInfo.environment)

    public init(environment: [String: String]) {
        func value(_ name: String) -> String? {
            (environment[name.lowercased()] ?? environment[name]).flatMap { $0.isEmpty ? nil : $0 }
        }
        https = value("HTTPS_PROXY").flatMap(Self.server)
        http = value("HTTP_PROXY").flatMap(Self.server)
        bypass = (value("NO_PROXY") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    /// `http://user:password@proxy.corp:3128`, or `proxy.corp:3128`; 1080 when no port is
    /// given, as curl assumes. Nil for what is not a proxy's address.
    static func server(_ text: String) -> Server? {
        let url = URLComponents(string: text.contains("://") ? text : "http://" + text)
        guard let url, let host = url.host, !host.isEmpty, url.scheme?.lowercased() == "http" else { return nil }
        return Server(host: host, port: url.port ?? 1080, username: url.user?.removingPercentEncoding,
                      password: url.password?.removingPercentEncoding)
    }

    /// The proxy to reach `host` through for `scheme` (`https`, `wss`, `http`, `ws`), or nil to
    /// connect directly.
    public func server(scheme: String, host: String) -> Server? {
        let secure = ["https", "wss"].contains(scheme.lowercased())
        guard let server = secure ? https : http else { return nil }
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if ["localhost", "::1"].contains(name) || name.hasPrefix("127.") { return nil }
        for entry in bypass {
            if entry == "*" { return nil }
            let domain = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if name == domain || name.hasSuffix("." + domain) { return nil }
        }
        return server
    }

    /// `Proxy-Authorization`'s value for a server with credentials.
    static func authorization(_ server: Server) -> String? {
        guard let username = server.username else { return nil }
        return "Basic " + Data("\(username):\(server.password ?? "")".utf8).base64EncodedString()
    }
}
