import Foundation
import GRDB
import Synchronization

/// "Seen in": the newest other incident that mentions an indicator, read through the indicator
/// index, four columns of one incident.
extension SQLiteStore {
    public func sighting(of indicator: String, except: IncidentID?) async throws(StoreError) -> Sighting? {
        try await read { db in try Self.sighting(of: indicator, except: except, in: db) }
    }

    /// A read-only connection of the reader's own, opened at its first question: a chat message's
    /// "seen in" is read on the executor's thread, where a read through the pool went to one of
    /// GRDB's reader threads and back (two threads woken a message). A connection and not a copy in
    /// memory: every read sees the last commit, this process's or another's (the CLI on the same
    /// data folder), with nothing to invalidate.
    public func sightingReader() -> (any SightingReader)? { Reader(store: self) }

    static func sighting(of indicator: String, except: IncidentID?, in db: Database) throws -> Sighting? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT number, status, created_at, closed_at FROM incident_indicator
            JOIN incident ON number = incident
            WHERE value = ? AND incident <> ? ORDER BY incident DESC LIMIT 1
            """), arguments: [indicator, except?.number ?? 0])
        else { return nil }
        let number: Int = try row.decode(atIndex: 0)
        let status: String = try row.decode(atIndex: 1)
        guard let known = Incident.Status(rawValue: status) else {
            throw StoreError.unknownValue(status, of: "incident INC-\(number)")
        }
        return Sighting(id: IncidentID(number), status: known,
                        createdAt: Date(millisecondsSince1970: try row.decode(atIndex: 2)),
                        closedAt: (try row.decode(Int64?.self, atIndex: 3)).map(Date.init(millisecondsSince1970:)))
    }

    /// Confined to the thread that asks (a Lua state's): its connection is used by no other.
    private final class Reader: SightingReader {
        private let store: SQLiteStore
        private var connection: DatabaseQueue?

        init(store: SQLiteStore) { self.store = store }

        func sighting(of indicator: String, except: IncidentID?) throws(StoreError) -> Sighting? {
            guard !store.isClosed.load(ordering: .acquiring) else { throw .closed }
            do {
                let connection = try self.connection ?? open()
                // One statement, so one read transaction of its own: no BEGIN and COMMIT around it.
                return try connection.inDatabase { db in try SQLiteStore.sighting(of: indicator, except: except, in: db) }
            } catch {
                throw SQLiteStore.storeError(error, path: store.path)
            }
        }

        private func open() throws -> DatabaseQueue {
            var configuration = Configuration()
            configuration.label = "automator.store.sightings"
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            let opened = try DatabaseQueue(path: store.path, configuration: configuration)
            connection = opened
            return opened
        }
    }
}
