import Foundation
import GRDB
import Synchronization

/// The connection that writes `SQLiteStore`'s file: a `DatabasePool` of its own, whose readers
/// are never used (the store reads through a read-only pool, which writes nothing as it opens).
/// Opening it writes: GRDB starts an empty WAL with a transaction, as after every close. On a
/// full disk that fails, so a store whose schema is current opens without it and opens it at the
/// next write: the commands that only read work on a full disk, and a server writes again once
/// there is room, with no restart. A backup's (`DataFolder.backupFile`) is never opened: each
/// write is refused with the reason.
final class SQLiteWriter: Sendable {
    private let path: String
    private let configuration: Configuration
    private let durability: SQLiteStore.Durability
    private let opened = Mutex<DatabasePool?>(nil)
    /// Why the file is never written, when it must not be.
    let refusal: StoreError?

    init(path: String, configuration: Configuration, durability: SQLiteStore.Durability, refusal: StoreError? = nil) {
        self.path = path
        self.configuration = configuration
        self.durability = durability
        self.refusal = refusal
    }

    /// The pool, opened now if it is not yet.
    func pool() throws -> DatabasePool {
        if let refusal { throw refusal }
        return try opened.withLock { opened in
            if let opened { return opened }
            let pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets NORMAL when it turns WAL on, after `prepareDatabase`: choose here.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            }
            opened = pool
            return pool
        }
    }

    /// If it was opened: moves the WAL's content into the database file, so that the file alone
    /// is complete (a copy of it is a backup), and closes. Called once the store's readers are
    /// closed. Ignoring a failure of this or of closing loses nothing: every commit is in the WAL,
    /// which SQLite replays at the next open, and the connections close when the pool is released.
    func close() async {
        guard let pool = opened.withLock({ $0 }) else { return }
        _ = try? await pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        try? pool.close()
    }
}
