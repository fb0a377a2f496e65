import Foundation
import Logging

/// Everything one playbook test runs in, made fresh for each test: a store in a temporary folder,
/// the incidents over it, the stubs, and a sandbox with the standard modules, `incidents`,
/// `evidence` (kept in that folder) and the test API. Its `run` blocks the calling thread (the sandbox performs host waits by
/// blocking), so it is for a thread of its own, not Swift's cooperative pool.
final class PlaybookTestWorld {
    private let folder: String
    private let store: SQLiteStore
    private let sandbox: Sandbox
    private let scripts: String

    /// - Parameters:
    ///   - actions: the actions the scripts' integrations declare (`declaredActions`), which
    ///     `actions.run`, `stub.action` and `expect.action` check their calls against.
    ///   - actionPolicy: the configuration's rules for them (protected values, approvals).
    ///   - slaPolicy: `sla.lua` and the playbooks' `sla`, which move an incident's deadline when a
    ///     playbook changes its type or severity, as on the server.
    ///   - roles: `chat.roles`, who may answer a question for roles and who may approve; anyone
    ///     when nil, the test playing the operator (`TestingModule.roles`).
    init(scripts: String, actions: [ActionDeclaration], actionPolicy: ActionConfiguration, slaPolicy: SLAPolicy,
         roles: [String: [String]]?) throws {
        self.scripts = scripts
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("automator-test-\(UUID().uuidString)").path
        store = try SQLiteStore(folder: folder, durability: .normal)
        let stubs = PlaybookTestStubs(store: store)
        let ledger = IncidentLedger(store: store, standIn: stubs)
        ledger.slaPolicy.withLock { $0 = slaPolicy }
        // Called on the sandbox's thread, a thread of its own, which may wait.
        ledger.whenSLAMoved { _, _ in waitBlocking { await stubs.breachDue() } }
        let quiet = Logger(label: "automator.test") { _ in SwiftLogNoOpLogHandler() }
        sandbox = try Sandbox(modules: StandardModules.all(logger: quiet)
                                  + [IncidentsModule(ledger: ledger),
                                     TestingModule(ledger: ledger, stubs: stubs, actions: actions, policy: actionPolicy,
                                                   roles: roles, records: store),
                                     EvidenceModule(service: EvidenceService(store: store, dataFolder: folder))],
                              modulePaths: [scripts])
    }

    /// Runs the test file with its `index`-th test (none for 0); returns the names of its tests.
    ///
    /// - Throws: `LuaError`: the test failed (its message says where), or the file did not load.
    func run(file path: String, source: [UInt8], index: Int, limits: Limits) throws(LuaError) -> [String] {
        guard let runFile = sandbox.hostFunction("run_file", of: "testing") else {
            throw LuaError(.runtime, "the testing module did not load")
        }
        let environment = try sandbox.makeEnvironment()
        let test = try sandbox.load(source, chunkName: "@\(path)", in: environment)
        let sla = try script("sla.lua", otherwise: "return {}", in: environment)
        let hook = try script("hooks/sla_breach.lua", otherwise: "", in: environment)
        let closeHook = try script(IncidentClosedHook.path, otherwise: "", in: environment)
        return try sandbox.call(runFile, leading: [.reference(test.reference), .reference(sla.reference),
                                                   .reference(hook.reference), .reference(closeHook.reference)],
                                jsonArguments: Array("[\(index)]".utf8), limits: limits) { stack, first, count throws(LuaError) in
            guard count > 0, case .table(let names) = try stack.value(at: first) else { return [] }
            return names.array.map { if case .string(let name) = $0 { name.description } else { "?" } }
        }
    }

    /// A script of the scripts folder compiled in `environment`, or `fallback` when there is none.
    private func script(_ name: String, otherwise fallback: String, in environment: Environment) throws(LuaError) -> Chunk {
        let path = scripts + "/" + name
        let source = FileManager.default.contents(atPath: path).map { Array($0) } ?? Array(fallback.utf8)
        return try sandbox.load(source, chunkName: "@\(path)", in: environment)
    }

    /// The SLA policy of the scripts folder, read as the server reads it (`PlaybookCatalog`).
    static func slaPolicy(scripts: String) throws(LuaError) -> SLAPolicy {
        let quiet = Logger(label: "automator.test") { _ in SwiftLogNoOpLogHandler() }
        let evaluator = try ScriptEvaluator(modules: StandardModules.all(logger: quiet), modulePaths: [scripts])
        let catalog = PlaybookCatalog(folder: scripts, evaluator: evaluator, logger: quiet)
        return waitBlocking { await catalog.slaPolicy() }
    }

    /// The actions the integrations in the scripts folder declare.
    static func declaredActions(scripts: String) -> [ActionDeclaration] {
        waitBlocking { await Integrations.declaredActions(in: scripts + "/integrations") }
    }

    /// Closes the store and removes its folder.
    func close() {
        waitBlocking { [store] in await store.close() }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
