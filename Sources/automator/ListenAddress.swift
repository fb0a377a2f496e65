import ArgumentParser

/// `--http HOST:PORT`, where `automator serve` listens: `127.0.0.1:8080`, `0.0.0.0:8080`,
/// `[::1]:8080`; port 0 lets the system pick one.
struct ListenAddress {
    var host: String
    var port: Int
}

extension ListenAddress {
    /// Why an argument is no address to listen on, as `--http`'s error ends with it.
    struct Mistake: Error, CustomStringConvertible {
        var description: String
    }

    /// - Throws: `Mistake` saying what is missing or wrong, with an address that would do.
    init(parsing argument: String) throws(Mistake) {
        guard let colon = argument.lastIndex(of: ":") else {
            // A port alone (8080) or a host alone (localhost): the example keeps what was given.
            guard Int(argument) != nil else {
                throw Mistake(description: "give the host and the port: \(argument):8080")
            }
            throw Mistake(description: "give the host and the port: 127.0.0.1:\(argument) (this machine only) or "
                + "0.0.0.0:\(argument) (every interface)")
        }
        let portText = argument[argument.index(after: colon)...]
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw Mistake(description: "the port \"\(portText)\" is not one: a number from 1 to 65535, or 0 to let "
                + "the system pick one")
        }
        var host = String(argument[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw Mistake(description: "an IPv6 address goes in brackets: [\(host)]:\(port)")
        }
        guard !host.isEmpty else {
            throw Mistake(description: "give the host: 127.0.0.1:\(port) (this machine only) or 0.0.0.0:\(port) "
                + "(every interface)")
        }
        self.init(host: host, port: port)
    }
}
