import ArgumentParser

/// `--http HOST:PORT`, where `automator serve` listens: `127.0.0.1:8080`, `0.0.0.0:8080`,
/// `[::1]:8080`; port 0 lets the system pick one.
struct ListenAddress: ExpressibleByArgument {
    var host: String
    var port: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
              (0...65535).contains(port)
        else { return nil }
        var host = String(argument[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil  // an IPv6 address goes in brackets
        }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    var defaultValueDescription: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
