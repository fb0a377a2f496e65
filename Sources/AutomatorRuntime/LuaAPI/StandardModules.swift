public import Logging

/// The host modules every script has.
public enum StandardModules {
    /// - Parameters:
    ///   - allowedHTTPHosts: the hosts `http` may reach (`host` or `host:port`); none by default.
    ///   - reputation: where `intel.reputation` asks; without it, only `intel.extract` works.
    public static func all(logger: Logger, allowedHTTPHosts: [String] = [], reputation: ReputationService? = nil)
        -> [any HostModule]
    {
        [JSONModule(), LogModule(logger: logger), TimeModule(), HTTPModule(allowedHosts: allowedHTTPHosts, logger: logger),
         IntelModule(reputation: reputation)]
    }
}
