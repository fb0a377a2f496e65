import Foundation
import GRDB

/// The fetches' cursors in the SQLite file (`fetch_cursor`, v23).
extension SQLiteStore: FetchStore {
    public func fetchStates() async throws(StoreError) -> [FetchState] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM fetch_cursor ORDER BY name").map(Self.fetchStateRow) }
    }

    public func fetchState(_ name: String) async throws(StoreError) -> FetchState? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM fetch_cursor WHERE name = ?", arguments: [name]).map(Self.fetchStateRow)
        }
    }

    public func keepFetchState(_ state: FetchState) async throws(StoreError) {
        try await writeAlone { db in
            try db.execute(sql: """
                INSERT INTO fetch_cursor (name, cursor, last_success, failing_since, failures, last_error)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, last_success = excluded.last_success,
                    failing_since = excluded.failing_since, failures = excluded.failures, last_error = excluded.last_error
                """, arguments: [state.name, state.cursor, state.lastSuccess?.millisecondsSince1970,
                                 state.failingSince?.millisecondsSince1970, state.failures, state.lastError])
        }
    }

    private static func fetchStateRow(_ row: Row) -> FetchState {
        FetchState(name: row["name"], cursor: row["cursor"],
                   lastSuccess: (row["last_success"] as Int64?).map(Date.init(millisecondsSince1970:)),
                   failingSince: (row["failing_since"] as Int64?).map(Date.init(millisecondsSince1970:)),
                   failures: row["failures"], lastError: row["last_error"])
    }
}
