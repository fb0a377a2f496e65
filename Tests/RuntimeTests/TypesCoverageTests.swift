@testable import AutomatorRuntime
import Foundation
import Logging
import Testing

/// scripts/types: the LuaLS annotations editors complete from, and `:help` reads, against what
/// the modules really register, both ways: nothing undocumented, nothing documented that is gone.
@Suite("Editor types cover the whole Lua API")
struct TypesCoverageTests {
    static let types = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/types").path
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// The functions of `tables` and the global functions among `functions`, as Lua sees them.
    private static func api(of sandbox: Sandbox, tables: [String], functions: [String]) throws -> Set<String> {
        let listing = """
            local names = {}
            for _, module in ipairs({ \(tables.map { "\"\($0)\"" }.joined(separator: ", ")) }) do
              for key, value in pairs(_G[module]) do
                if type(value) == "function" then names[#names + 1] = module .. "." .. key end
              end
            end
            for _, name in ipairs({ \(functions.map { "\"\($0)\"" }.joined(separator: ", ")) }) do
              if type(_G[name]) == "function" then names[#names + 1] = name end
            end
            return names
            """
        let chunk = try sandbox.load(Array(listing.utf8), chunkName: "=api", in: try sandbox.makeEnvironment())
        guard case .table(let names) = try sandbox.run(chunk).first else { return [] }
        return Set(names.array.compactMap { if case .string(let name) = $0 { name.description } else { nil } })
    }

    /// The documented functions of `tables`, and the documented globals among `functions`.
    private static func documented(_ file: String, tables: [String], functions: [String]) -> Set<String> {
        Set(ReplHelp(typesFile: types + "/" + file).topics.keys.filter { topic in
            tables.contains { topic.hasPrefix($0 + ".") } || functions.contains(topic)
        })
    }

    @Test("Every module function and declaration of a server's scripts is in automator.lua, and nothing else")
    func runtimeAPI() async throws {
        let folder = try ScratchFolder()
        let store = try SQLiteStore(folder: folder.path)
        let ledger = IncidentLedger(store: store)
        let chat = ChatService(store: store, adapters: [], scripts: folder.path)
        let evidence = EvidenceService(store: store, dataFolder: folder.path)
        let sandbox = try Sandbox(modules: StandardModules.all(logger: Self.logger)
            + [IncidentsModule(ledger: ledger), EvidenceModule(service: evidence),
               ChatModule(service: chat, reputation: nil, evidence: evidence), IntegrationsModule()])
        let tables = ["json", "log", "time", "http", "intel", "incidents", "evidence", "chat"]
        let functions = ["playbook", "mapper", "integration", "command", "watch"]
        let real = try Self.api(of: sandbox, tables: tables, functions: functions)
        #expect(real.count > 30)
        let documented = Self.documented("automator.lua", tables: tables, functions: functions)
        #expect(real.subtracting(documented).sorted() == [], "undocumented")
        #expect(documented.subtracting(real).sorted() == [], "documented but not in the API")
        await store.close()
    }

    @Test("Every function of the test API is in automator_test.lua, and nothing else")
    func testAPI() async throws {
        let folder = try ScratchFolder()
        let store = try SQLiteStore(folder: folder.path)
        let stubs = PlaybookTestStubs(store: store)
        let ledger = IncidentLedger(store: store, standIn: stubs)
        let sandbox = try Sandbox(modules: StandardModules.all(logger: Self.logger)
            + [IncidentsModule(ledger: ledger), TestingModule(ledger: ledger, stubs: stubs, actions: [], policy: ActionConfiguration(),
                                                                               roles: nil, records: store)])
        let tables = ["stub", "expect"]
        let functions = TestingModule.globals.subtracting(tables).sorted()
        let real = try Self.api(of: sandbox, tables: tables, functions: functions)
        #expect(real.count > 10)
        #expect(real == Self.documented("automator_test.lua", tables: tables, functions: functions))
        await store.close()
    }
}
