@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// A store from before resolutions (v23) migrates, its closed incident kept with no resolution,
/// then keeps the resolution a close gives and clears it when the incident is reopened.
@Suite("Incident resolutions, kept from v24", .timeLimit(.minutes(1)))
struct ResolutionMigrationTests {
    /// INC-1 closed and INC-2 open, as v23 kept them.
    private static let incidents = """
        INSERT INTO incident (number, title, type, severity, status, labels, fields, details, created_at, updated_at,
                              closed_at, close_reason, alert_count)
        VALUES (1, 'Scan from the admin VLAN', 'network', 'low', 'closed', '[]', '{}', '', 1000, 2000, 2000,
                'an admin''s scan', 1),
               (2, 'Phishing', 'phishing', 'high', 'active', '[]', '{}', '', 3000, 3000, NULL, NULL, 1);
        """

    static func check(_ store: some IncidentStore) async throws {
        let old = try #require(try await store.loadIncident(IncidentID(1)))
        #expect(old.status == .closed && old.closeReason == "an admin's scan" && old.resolution == nil)
        var close = IncidentChange(IncidentID(2))
        close.status = .closed
        close.closeReason = "a test mail"
        close.resolution = .falsePositive
        try await store.write(close.write(by: "cli:alice"))
        #expect(try await store.loadIncident(IncidentID(2))?.resolution == .falsePositive)
        var reopen = IncidentChange(IncidentID(2))
        reopen.status = .active
        try await store.write(reopen.write(by: "cli:alice"))
        let reopened = try #require(try await store.loadIncident(IncidentID(2)))
        #expect(reopened.resolution == nil && reopened.closeReason == nil, "reopening clears what the close said")
    }

    @Test("SQLite: a store at v23 migrates")
    func sqlite() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/" + SQLiteStore.fileName, version: "v23", sql: Self.incidents)
        let store = try SQLiteStore(folder: scratch.path)
        #expect(store.upgrade?.description == "from v23 to v24")
        try await Self.check(store)
        await store.close()
    }

    @Test("PostgreSQL: a store at v23 migrates")
    func postgres() async throws {
        let (location, _) = try await PostgresServer.shared().databaseAtOlderSchema(
            "ALTER TABLE incident DROP COLUMN resolution; DELETE FROM automator_schema WHERE version = 'v24';"
                + Self.incidents)
        let store = try await PostgresStore(location: location)
        #expect(store.upgrade?.description == "from v23 to v24")
        try await Self.check(store)
        await store.close()
    }
}
