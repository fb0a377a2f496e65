import Foundation
import GRDB

/// What `automator store check --data` finds in a data folder's database, read only: a backup to
/// restore, or the folder of a serve that will not start, is looked at without being changed.
public struct SQLiteHealth: Sendable {
    /// `DATA/automator.sqlite`.
    public var path: String
    /// The schema versions applied, oldest first.
    public var schema: [String]
    /// Whether they are this automator's: an older schema is brought up to date at serve's start.
    public var isSchemaCurrent: Bool
    /// What SQLite's `integrity_check` found wrong (a damaged page, a broken index); empty when whole.
    public var damage: [String]
    /// The runs serve resumes at its start; nil when the database is damaged (not counted).
    public var unfinishedRuns: Int?
    public var incidents: Int?
}

extension SQLiteStore {
    /// Reads the database of `folder` without opening it as a store: no schema brought up to date,
    /// no write. While serve writes it, the check reads one consistent snapshot.
    ///
    /// - Throws: `StoreError`: the database is not an Automator one, or a newer automator's, or
    ///   it cannot be read.
    public static func health(ofFolder folder: String) throws(StoreError) -> SQLiteHealth {
        try UnfinishedCopy.refuse(folder)
        let path = URL(fileURLWithPath: folder).appendingPathComponent(fileName).path
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                guard try Int32.fetchOne(db, sql: "PRAGMA application_id") == applicationID else {
                    throw StoreError.foreignDatabase(path)
                }
                let migrator = migrator
                let applied = try migrator.appliedIdentifiers(db)
                let unknown = applied.subtracting(migrator.migrations).sorted()
                guard unknown.isEmpty else { throw StoreError.newerSchema(path, unknown: unknown) }
                let schema = migrator.migrations.filter(applied.contains)
                let isCurrent = applied.count == migrator.migrations.count
                let damage = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
                guard damage.isEmpty else {
                    return SQLiteHealth(path: path, schema: schema, isSchemaCurrent: isCurrent, damage: damage)
                }
                let unfinished = RunRecord.Status.allCases.filter { !$0.isFinished }.map(\.rawValue)
                let placeholders = Array(repeating: "?", count: unfinished.count).joined(separator: ", ")
                let runs = try Int.fetchOne(db, sql: "SELECT count(*) FROM run WHERE status IN (\(placeholders))",
                                            arguments: StatementArguments(unfinished)) ?? 0
                return SQLiteHealth(path: path, schema: schema, isSchemaCurrent: isCurrent, damage: [],
                                    unfinishedRuns: runs, incidents: try Int.fetchOne(db, sql: "SELECT count(*) FROM incident") ?? 0)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
            // Damage that stops even the check's reads.
            return SQLiteHealth(path: path, schema: [], isSchemaCurrent: false, damage: [error.message ?? "\(error)"])
        } catch {
            throw storeError(error, path: path)
        }
    }
}
