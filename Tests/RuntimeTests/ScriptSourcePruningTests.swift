@testable import AutomatorRuntime
import Foundation
import GRDB
import Testing
import TestSupport

/// `script_source` keeps each run's source once, by digest (schema v17); deleting runs deletes
/// the sources that no run left names, and only those.
@Suite("Deleted runs take their sources with them when no other run names them", .timeLimit(.minutes(1)))
struct ScriptSourcePruningTests {
    static let watcher = Array("-- the chat watcher\nreturn watch {}\n".utf8)
    static let playbook = Array("-- a playbook\nreturn playbook {}\n".utf8)

    /// Old chat runs of the watcher and of the playbook's source; a playbook's run of that source,
    /// which the chat's retention keeps; a chat run of a third source that has not finished.
    static let writes: [StoreWrite] = {
        var writes: [StoreWrite] = []
        func add(_ index: Int, _ source: [UInt8], entry: String?, finished: Bool) {
            var run = StoreConformance.run(index, source: source)
            run.entry = entry
            writes.append(.createRun(run))
            if finished { writes.append(.updateRun(RunUpdate(run.id, status: .completed, at: StoreConformance.time(10_000)))) }
        }
        for index in 0..<3 { add(index, watcher, entry: "chat:alice", finished: true) }
        add(3, playbook, entry: "chat:alice", finished: true)
        add(4, playbook, entry: "playbook:run", finished: true)
        add(5, Array("return 'waiting'".utf8), entry: "chat:alice", finished: false)
        return writes
    }()

    @Test("The watcher's source goes with its last run; the playbook's and the waiting run's stay", arguments: StoreUnderTest.allCases)
    func pruned(_ kind: StoreUnderTest) async throws {
        let (store, sources) = try await Self.open(kind)
        for result in await StoreConformance.submitAll(Self.writes, to: store) { try result.get() }
        #expect(try await sources() == 3)

        #expect(try await store.deleteFinishedChatRuns(finishedBefore: StoreConformance.time(20_000)) == 4)
        #expect(try await sources() == 2)
        #expect(try await store.loadRun(StoreConformance.run(4).id)?.source == Self.playbook)
        #expect(try await store.loadRun(StoreConformance.run(5).id)?.source == Array("return 'waiting'".utf8))
        // A new run of the pruned source stores it again.
        try await store.write(.createRun(StoreConformance.run(6, source: Self.watcher)))
        #expect(try await store.loadRun(StoreConformance.run(6).id)?.source == Self.watcher)
        #expect(try await sources() == 3)
        await store.close()
    }

    /// A new store of `kind`, and how many sources it keeps.
    static func open(_ kind: StoreUnderTest) async throws -> (any Store, @Sendable () async throws -> Int) {
        switch kind {
        case .sqlite:
            let folder = try ScratchFolder()
            let store = try SQLiteStore(folder: folder.path)
            return (store, {
                withExtendedLifetime(folder) {}
                return try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM script_source") ?? -1 }
            })
        case .postgres:
            let server = try await PostgresServer.shared()
            let location = try PostgresLocation(url: try server.makeDatabase())
            let store = try await PostgresStore(location: location)
            return (store, {
                let count = try server.psql("SELECT count(*) FROM script_source", database: location.database)
                return Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            })
        }
    }
}
