import Foundation

/// `automator test`: runs the Lua tests of playbooks (`*_test.lua`), each test in a world of its
/// own (`PlaybookTestWorld`), and says which passed and where each failure happened.
///
/// ```swift
/// let runner = PlaybookTestRunner(scripts: "scripts")
/// let report = runner.run(file: "scripts/playbooks/phishing_test.lua")   // blocks
/// ```
public struct PlaybookTestRunner: Sendable {
    /// The folder `require` reads (`require("playbooks.phishing")`), with `sla.lua` and `hooks/`.
    public let scripts: String
    public let limits: Limits
    /// The configuration's `actions` section: protected networks and accounts, the risk that needs
    /// an approval. Tests check a playbook's actions against it, as the server does.
    public let actionPolicy: ActionConfiguration
    /// The configuration's `chat.roles`: who may answer a question asked for roles, and who may
    /// approve; anyone when nil (no configuration given: the test plays the operator).
    public let roles: [String: [String]]?

    public init(scripts: String, limits: Limits = Limits(timeout: .seconds(30)),
                actionPolicy: ActionConfiguration = ActionConfiguration(), roles: [String: [String]]? = nil) {
        self.actionPolicy = actionPolicy
        self.roles = roles
        self.scripts = scripts
        self.limits = limits
    }

    /// The test files under `paths` (files as they are, folders searched for `*_test.lua`), sorted.
    public static func files(in paths: [String]) -> [String] {
        ScriptFiles.find(in: paths) { $0.hasSuffix("_test.lua") }
    }

    /// Runs every test of `file`. Blocks the calling thread: call it from a thread of its own.
    public func run(file: String) -> PlaybookTestReport.File {
        guard let source = FileManager.default.contents(atPath: file).map(Array.init) else {
            return .init(path: file, problem: "cannot read \(file): check that it exists and is readable")
        }
        let actions = PlaybookTestWorld.declaredActions(scripts: scripts)
        let slaPolicy: SLAPolicy
        do { slaPolicy = try PlaybookTestWorld.slaPolicy(scripts: scripts) } catch {
            return .init(path: file, problem: Self.message(error))
        }
        let names: [String]
        do { names = try inWorld(actions, slaPolicy) { try $0.run(file: file, source: source, index: 0, limits: limits) } } catch {
            return .init(path: file, problem: Self.message(error))
        }
        // A file without a test passing would read as tested (`automator test hi.lua`: 0 failed).
        guard !names.isEmpty else {
            return .init(path: file, problem: "\(file) declares no test: a test file calls test(\"what it checks\", "
                + "function() ... end), as in playbooks/phishing_test.lua")
        }
        var cases: [PlaybookTestReport.Case] = []
        for (index, name) in names.enumerated() {
            let started = Date()
            var failure: String?
            do { _ = try inWorld(actions, slaPolicy) { try $0.run(file: file, source: source, index: index + 1, limits: limits) } } catch {
                failure = Self.message(error, in: file)
            }
            cases.append(.init(name: name, failure: failure, seconds: Date().timeIntervalSince(started)))
        }
        return .init(path: file, cases: cases)
    }

    private func inWorld<T>(_ actions: [ActionDeclaration], _ slaPolicy: SLAPolicy,
                            _ body: (PlaybookTestWorld) throws -> T) throws -> T
    {
        let world = try PlaybookTestWorld(scripts: scripts, actions: actions, actionPolicy: actionPolicy,
                                          slaPolicy: slaPolicy, roles: roles)
        defer { world.close() }
        return try body(world)
    }

    /// The error's message; for a failure raised outside the test file (in the playbook, say),
    /// with the line of the test that led to it, from the traceback.
    private static func message(_ error: any Error, in file: String? = nil) -> String {
        guard let error = error as? LuaError else { return "\(error)" }
        guard let file, !error.message.hasPrefix(file + ":") else { return error.message }
        let caller = error.traceback.split(separator: "\n").lazy
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix(file + ":") }
            // "file:12: in local 'body'": the place is enough.
            .map { $0.components(separatedBy: ": in ").first ?? $0 }
        return error.message + (caller.map { "\n  from \($0)" } ?? "")
    }
}
