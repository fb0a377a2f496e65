@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// The evaluator that reads playbooks' and mappers' declarations and calls their functions outside
/// the durable runs: one Lua state, used from its own queue, by callers on any thread.
@Suite("The script evaluator: callers on any thread, one Lua state", .timeLimit(.minutes(1)))
struct ScriptEvaluatorTests {
    static let mapper = Array("""
        return mapper { map = function(alert) return { title = alert.subject, type = "phishing" } end }
        """.utf8)

    @Test("Declarations loaded and let go by many tasks at once, while others call a kept one: every call answers")
    func declarationsLetGoAnywhere() async throws {
        let folder = try ScratchFolder()
        let store = try SQLiteStore(folder: folder.path + "/data")
        let evaluator = try ScriptEvaluator(modules: [JSONModule(), IncidentsModule(ledger: IncidentLedger(store: store))])
        let (_, kept) = try await evaluator.declaration("mapper", source: Self.mapper, path: "mappers/mailgw.lua")
        // Each load's declaration is let go on Swift's pool as the next call runs on the
        // evaluator's queue: the catalog does that when ingests load a mapper at once. Freed in
        // place, the registry slots were written beside the calls, and the state broke (a Lua
        // panic aborted the whole process, not one call).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<1_000 {
                        _ = try await evaluator.declaration("mapper", source: Self.mapper, path: "mappers/mailgw.lua")
                        let mapped = try await evaluator.call("map", on: kept, json: #"[{"subject":"Invoice \#(task)-\#(index)"}]"#)
                        #expect(mapped.contains("Invoice \(task)-\(index)"), "\(mapped)")
                    }
                }
            }
            try await group.waitForAll()
        }
        await store.close()
    }

    @Test("An evaluator let go while its declarations are let go on other threads: the state is freed once, after all")
    func letGoTogether() async throws {
        let folder = try ScratchFolder()
        let store = try SQLiteStore(folder: folder.path + "/data")
        let modules: [any HostModule] = [JSONModule(), IncidentsModule(ledger: IncidentLedger(store: store))]
        // `automator run --incident` lets its catalog go at exit: the evaluator with it, and the
        // declarations, whose frees the queue had not run yet. Each let go at once on the pool.
        for round in 0..<400 {
            var evaluator: ScriptEvaluator? = try ScriptEvaluator(modules: modules)
            var declarations: [ScriptEvaluator.Declaration] = []
            for _ in 0..<20 {
                declarations.append(try await evaluator!.declaration("mapper", source: Self.mapper, path: "mappers/mailgw.lua").1)
            }
            let kept = declarations.removeLast()
            let mapped = try await evaluator!.call("map", on: kept, json: #"[{"subject":"Invoice \#(round)"}]"#)
            #expect(mapped.contains("Invoice \(round)"), "\(mapped)")
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [declarations] in withExtendedLifetime(declarations) {} }
                group.addTask { [kept] in withExtendedLifetime(kept) {} }
                declarations = []
                evaluator = nil
            }
        }
        await store.close()
    }
}
