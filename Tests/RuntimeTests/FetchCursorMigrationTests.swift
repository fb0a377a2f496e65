@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// A store from before fetches (v22) migrates with no cursor, then keeps each fetch's cursor and
/// how its runs went, replacing what it kept before.
@Suite("Fetch cursors, kept from v23", .timeLimit(.minutes(1)))
struct FetchCursorMigrationTests {
    static func check(_ store: some FetchStore) async throws {
        #expect(try await store.fetchStates().isEmpty)
        #expect(try await store.fetchState("defender") == nil)
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        var state = FetchState(name: "defender")
        state.failed("Microsoft Graph, alerts: 401", at: start)
        try await store.keepFetchState(state)
        #expect(try await store.fetchState("defender") == state)
        state.succeeded(cursor: "2026-05-01T10:00:00.1234567Z", at: start.addingTimeInterval(60))
        try await store.keepFetchState(state)
        try await store.keepFetchState(FetchState(name: "crowdstrike", cursor: "page-2"))
        let kept = try await store.fetchStates()
        #expect(kept.map(\.name) == ["crowdstrike", "defender"])
        #expect(kept.last == state)
        #expect(kept.last?.cursor == "2026-05-01T10:00:00.1234567Z" && kept.last?.failures == 0
            && kept.last?.lastError == nil, "a success clears the failure and moves the cursor")
    }

    @Test("SQLite: a store at v22 migrates")
    func sqlite() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/" + SQLiteStore.fileName, version: "v22", sql: "")
        let store = try SQLiteStore(folder: scratch.path)
        #expect(store.upgrade?.description == "from v22 to v24")
        try await Self.check(store)
        await store.close()
    }

    @Test("PostgreSQL: a store at v22 migrates")
    func postgres() async throws {
        let (location, _) = try await PostgresServer.shared().databaseAtOlderSchema(
            "DROP TABLE fetch_cursor; DELETE FROM automator_schema WHERE version = 'v23';")
        let store = try await PostgresStore(location: location)
        #expect(store.upgrade?.description == "from v22 to v23")
        try await Self.check(store)
        await store.close()
    }
}
