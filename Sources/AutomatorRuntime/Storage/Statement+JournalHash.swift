import Foundation
import GRDB
import GRDBSQLite

extension Statement {
    /// Executes the statement with `hash` as its last parameter and `arguments` before it. The
    /// arguments are bound by GRDB (`setUncheckedArguments`, which copies strings where
    /// `execute(arguments:)` lends them for the call, but is GRDB's only way to leave a parameter
    /// to the caller); the hash below GRDB, from its inline bytes, which SQLite copies. As one of
    /// the arguments it would be a `Data`, allocated, boxed and released for every entry appended
    /// (JournalBenchmark).
    func execute(arguments: StatementArguments, hash: JournalHash) throws {
        setUncheckedArguments(arguments)
        let last = sqlite3_bind_parameter_count(sqliteStatement)
        let code = hash.withUnsafeBytes { bytes in
            sqlite3_bind_blob(sqliteStatement, last, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "binding the journal's hash", sql: sql)
        }
        try execute()
    }

    /// SQLite's SQLITE_TRANSIENT, a macro Swift does not import: SQLite copies the bytes at once.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
