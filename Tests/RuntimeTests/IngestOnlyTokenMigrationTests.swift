@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// A store from before ingest-only tokens (v22) migrates, its tokens kept as they were (none of
/// them ingest-only), and keeps the source of an ingest-only token after.
@Suite("Ingest-only personal tokens, kept from v22", .timeLimit(.minutes(1)))
struct IngestOnlyTokenMigrationTests {
    /// A metrics-only token and an ordinary one, as v21 kept them.
    private static let tokens = """
        INSERT INTO personal_token (sha256, name, created_at, created_by, metrics_only)
        VALUES ('\(String(repeating: "a", count: 64))', 'prometheus', 1000, 'cli:root', true),
               ('\(String(repeating: "b", count: 64))', 'alice', 2000, 'cli:root', false);
        """

    static func check(_ store: some PersonalTokenStore) async throws {
        let kept = try await store.personalTokens()
        #expect(kept.map(\.name) == ["alice", "prometheus"])
        #expect(kept.map(\.metricsOnly) == [false, true])
        #expect(kept.allSatisfy { $0.ingestOnly == nil }, "no token made before v22 may travel in a URL")
        let splunk = PersonalToken.make(name: "splunk", by: "cli:root", ingestOnly: "splunk").token
        try await store.addPersonalToken(splunk)
        #expect(try await store.livePersonalToken(sha256: splunk.sha256)?.ingestOnly == "splunk")
    }

    @Test("SQLite: a store at v21 migrates")
    func sqlite() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/" + SQLiteStore.fileName, version: "v21", sql: Self.tokens)
        let store = try SQLiteStore(folder: scratch.path)
        #expect(store.upgrade?.description == "from v21 to v24")
        try await Self.check(store)
        await store.close()
    }

    @Test("PostgreSQL: a store at v21 migrates")
    func postgres() async throws {
        let (location, _) = try await PostgresServer.shared().databaseAtOlderSchema(
            "ALTER TABLE personal_token DROP COLUMN ingest_only; DELETE FROM automator_schema WHERE version = 'v22';"
                + Self.tokens)
        let store = try await PostgresStore(location: location)
        #expect(store.upgrade?.description == "from v21 to v22")
        try await Self.check(store)
        await store.close()
    }
}
