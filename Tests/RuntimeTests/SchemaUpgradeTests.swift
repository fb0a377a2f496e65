@testable import AutomatorRuntime
import Foundation
import GRDB
import TestSupport
import Testing

/// What opening a store did to its schema, which `serve` logs: an upgrade of an older one, and
/// nothing for a new or a current one.
@Suite("A store says when opening it upgraded an older schema", .timeLimit(.minutes(1)))
struct SchemaUpgradeTests {
    @Test("SQLite: from the version it had to the newest; none when made now or already current")
    func sqlite() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/" + SQLiteStore.fileName, version: "v19", sql: "SELECT 1")
        let upgraded = try SQLiteStore(folder: scratch.path)
        #expect(upgraded.upgrade?.description == "from v19 to \(SQLiteStore.migrator.migrations.last!)")
        await upgraded.close()
        let current = try SQLiteStore(folder: scratch.path)
        #expect(current.upgrade == nil)
        await current.close()
        let made = try SQLiteStore(folder: try ScratchFolder().path)
        #expect(made.upgrade == nil, "a database made now is no upgrade")
        await made.close()
    }

    @Test("PostgreSQL: likewise")
    func postgres() async throws {
        let (location, _) = try await PostgresServer.shared().databaseAtOlderSchema(
            "DROP TABLE chat_command; DELETE FROM automator_schema WHERE version = 'v21';")
        let upgraded = try await PostgresStore(location: location)
        #expect(upgraded.upgrade?.description == "from v20 to v21")
        await upgraded.close()
        let current = try await PostgresStore(location: location)
        #expect(current.upgrade == nil)
        await current.close()
        let made = try await PostgresStore(location: try PostgresLocation(url: try PostgresServer.shared().makeDatabase()))
        #expect(made.upgrade == nil)
        await made.close()
    }
}
