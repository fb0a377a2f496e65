public import Logging

/// The host modules every script has.
public enum StandardModules {
    public static func all(logger: Logger) -> [any HostModule] {
        [JSONModule(), LogModule(logger: logger), TimeModule()]
    }
}
