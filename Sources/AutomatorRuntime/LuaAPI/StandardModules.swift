public import Logging

/// The host modules every script has.
public enum StandardModules {
    /// - Parameter allowedHTTPHosts: the hosts `http` may reach (`host` or `host:port`); none
    ///   by default.
    public static func all(logger: Logger, allowedHTTPHosts: [String] = []) -> [any HostModule] {
        [JSONModule(), LogModule(logger: logger), TimeModule(), HTTPModule(allowedHosts: allowedHTTPHosts)]
    }
}
