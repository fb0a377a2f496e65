import ArgumentParser
import AutomatorRuntime
import Logging

/// What scripts may reach through the host modules, for every command that runs Lua.
struct ModuleOptions: ParsableArguments {
    @Option(name: .customLong("allow-http"),
            help: ArgumentHelp("Let scripts' http calls reach this host (any port) or host:port; repeat for more. "
                + "No host is allowed by default.", valueName: "host[:port]"))
    var allowedHTTPHosts: [String] = []

    func validate() throws {
        for host in allowedHTTPHosts where host.isEmpty || host.contains("/") || host.contains("://") {
            throw ValidationError("--allow-http takes a host or host:port, such as api.example.com or 127.0.0.1:8081, not '\(host)'")
        }
    }

    /// - Parameter reputation: where `intel.reputation` asks; nil outside `serve`.
    func modules(logger: Logger, reputation: ReputationService? = nil) -> [any HostModule] {
        StandardModules.all(logger: logger, allowedHTTPHosts: allowedHTTPHosts, reputation: reputation)
    }
}
