@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// The actions recorded before `action.ttl_ms` (v20) read back without a ttl, and new ones keep theirs.
@Suite("An action's planned ttl, kept from v20: older actions have none", .timeLimit(.minutes(1)))
struct ActionTTLMigrationTests {
    private static let older = """
        INSERT INTO action (id, key, name, parameters, requested_by, status, at, expires_at)
        VALUES ('ACT-1', 'cli-1', 'firewall.block_ip', '{}', 'cli:alice', 'done', 1000, 87401000);
        """

    static func check(_ store: some ActionStore) async throws {
        let older = try #require(try await store.action("ACT-1"))
        #expect(older.ttl == nil && older.expiresAt == Date(millisecondsSince1970: 87_401_000))
        var planned = ActionRecord(id: "ACT-2", key: "cli-2", name: "firewall.block_ip", parameters: "{}", incident: nil,
                                   requestedBy: "cli:alice", approvedBy: nil, status: .planned, result: "null")
        planned.ttl = 7200
        try await store.write(.recordAction(planned))
        #expect(try await store.action("ACT-2")?.ttl == 7200)
    }

    @Test("SQLite: a store at v19 migrates")
    func sqlite() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/" + SQLiteStore.fileName, version: "v19", sql: Self.older)
        let store = try SQLiteStore(folder: scratch.path)
        try await Self.check(store)
        await store.close()
    }

    @Test("PostgreSQL: a store at v19 migrates")
    func postgres() async throws {
        let (location, _) = try await PostgresServer.shared().databaseAtOlderSchema("""
            ALTER TABLE action DROP COLUMN ttl_ms;
            DELETE FROM automator_schema WHERE version = 'v20';
            """ + Self.older)
        let store = try await PostgresStore(location: location)
        try await Self.check(store)
        await store.close()
    }
}
