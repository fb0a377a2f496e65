import AutomatorRuntime
import Logging

/// A sandbox with the standard modules, for tests: runs Lua source and returns its results.
struct SandboxHarness {
    let sandbox: Sandbox

    init(modules: [any HostModule] = [], modulePaths: [String] = []) throws {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        sandbox = try Sandbox(modules: StandardModules.all(logger: logger) + modules, modulePaths: modulePaths)
    }

    /// Runs `source` in a fresh environment.
    @discardableResult
    func run(_ source: String, name: String = "=test", arguments: [LuaValue] = [], limits: Limits = Limits())
        throws(LuaError) -> [LuaValue]
    {
        let environment = try sandbox.makeEnvironment()
        let chunk = try sandbox.load(Array(source.utf8), chunkName: name, in: environment)
        return try sandbox.run(chunk, arguments: arguments, limits: limits)
    }

    /// Runs `source` and returns its first result.
    func value(_ source: String, limits: Limits = Limits()) throws(LuaError) -> LuaValue {
        try run(source, limits: limits).first ?? .nil
    }
}
