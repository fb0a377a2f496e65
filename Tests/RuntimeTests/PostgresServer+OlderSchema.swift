import AutomatorRuntime
import Foundation
import TestSupport

extension PostgresServer {
    /// A new database brought to the current schema, then `sql` run in it: what takes it back to
    /// an older version as it shipped (drops what the newer migration added and its row in
    /// `automator_schema`), and the rows that version would have left. Returns where it is and
    /// its name, for `psql`.
    func databaseAtOlderSchema(_ sql: String) async throws -> (location: PostgresLocation, name: String) {
        let url = try makeDatabase()
        let name = String(url.split(separator: "/").last!.split(separator: "?")[0])
        let location = try PostgresLocation(url: url)
        await (try await PostgresStore(location: location)).close()
        try psql(sql, database: name)
        return (location, name)
    }
}
