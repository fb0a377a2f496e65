import Foundation
import PostgresNIO

/// The fetches' cursors in PostgreSQL (`fetch_cursor`, v23), as in SQLite: the worker that takes
/// the lead goes on from where the last leader stored its last page.
extension PostgresStore: FetchStore {
    public func fetchStates() async throws(StoreError) -> [FetchState] {
        try await read { session in
            try await session.rows("SELECT \(unescaped: Self.fetchColumns) FROM fetch_cursor ORDER BY name")
                .map(Self.fetchStateRow)
        }
    }

    public func fetchState(_ name: String) async throws(StoreError) -> FetchState? {
        try await read { session in
            try await session.rows("SELECT \(unescaped: Self.fetchColumns) FROM fetch_cursor WHERE name = \(name)")
                .first.map(Self.fetchStateRow)
        }
    }

    public func keepFetchState(_ state: FetchState) async throws(StoreError) {
        _ = try await read { session in
            try await session.changes("""
                INSERT INTO fetch_cursor (name, cursor, last_success, failing_since, failures, last_error)
                VALUES (\(state.name), \(state.cursor), \(state.lastSuccess?.millisecondsSince1970),
                        \(state.failingSince?.millisecondsSince1970), \(state.failures), \(state.lastError))
                ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, last_success = excluded.last_success,
                    failing_since = excluded.failing_since, failures = excluded.failures, last_error = excluded.last_error
                """)
        }
    }

    private static let fetchColumns = "name, cursor, last_success, failing_since, failures, last_error"

    private static func fetchStateRow(_ row: PostgresRandomAccessRow) throws -> FetchState {
        FetchState(name: try row[0].decode(String.self), cursor: try row[1].decode(String?.self),
                   lastSuccess: try row.date(2), failingSince: try row.date(3), failures: try row[4].decode(Int.self),
                   lastError: try row[5].decode(String?.self))
    }
}
