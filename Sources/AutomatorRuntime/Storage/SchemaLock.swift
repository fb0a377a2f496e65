import Foundation

/// An exclusive `flock` on `automator.sqlite-schema.lock`, beside the database, held by
/// `SQLiteStore` while it opens the database and reads, makes or brings up to date its schema:
/// another process opening it meanwhile waits, then finds the schema done. Two processes creating
/// one database at once otherwise failed: one found the file locked while the other turned on
/// WAL, or found the other's `grdb_migrations` alone and called the file another program's, or
/// made the tables again (GRDB reads which migrations are applied before the transaction of
/// each). A few milliseconds at each open of a current database. The database file itself is not
/// locked this way: closing any of a process's descriptors on it drops SQLite's own locks there.
/// A folder where the file cannot be made (read only) gets no lock: nothing can be made there.
struct SchemaLock {
    private let descriptor: Int32

    init(beside database: String) {
        descriptor = open(database + "-schema.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        // Interrupted by a signal, it waits again.
        while descriptor >= 0, flock(descriptor, LOCK_EX) != 0, errno == EINTR {}
    }

    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
    }
}
