import Foundation
import Glibc

/// The last incident and task numbers given by any process on a SQLite database, kept beside it
/// (`automator.sqlite-numbers`: two 64-bit integers) under an exclusive `flock`.
///
/// Several commands may write one data folder with no server (`incident create` in two
/// terminals, a command beside `automator chat`), and each counted on from the highest number it
/// found at opening: the second to write took a number stored since ("incident INC-5 already
/// exists"). The lock is held for one `pread` and one `pwrite`, never across a read of the
/// database or anything else that waits, so no process can wait on it for more than those two
/// system calls: a lock held across a read of the highest numbers through the reader pool
/// deadlocked under 256 ingests in flight (docs/ARCHITECTURE.md, "Numbers come from the host").
///
/// The file is made by the first number taken, not when the store opens: a command that only
/// reads (`incident list`, `journal verify` on a backup) leaves the folder as it was. A file
/// deleted or replaced while open is noticed before each number (`isReplaced`): this process
/// numbered on through the file it had open, and a process opening the path made a new one and
/// gave the same numbers. Not `Sendable`: `NumberCounters` keeps it under its mutex.
final class NumbersFile {
    static let suffix = "-numbers"

    private let path: String
    /// The database, which the errors name: what cannot be written is its folder.
    private let database: String
    /// The file open, and which one it is; nil until the first number.
    private var opened: (descriptor: Int32, device: UInt64, inode: UInt64)?

    init(beside database: String) {
        path = database + Self.suffix
        self.database = database
    }

    deinit { close() }

    /// Whether the file open here is no longer the one at the path: deleted, or another put in
    /// its place. False before the first number, or when the path cannot be looked at (the file
    /// open is all there is then).
    var isReplaced: Bool {
        guard let opened else { return false }
        var found = stat()
        guard stat(path, &found) == 0 else { return errno == ENOENT }
        return UInt64(found.st_dev) != opened.device || UInt64(found.st_ino) != opened.inode
    }

    /// Closes the file: the next number opens the one at the path, made anew if it is gone.
    func close() {
        if let opened { Glibc.close(opened.descriptor) }
        opened = nil
    }

    /// Calls `change` with the last numbers given by any process, under the lock, and keeps what
    /// it leaves. `change` must not wait on anything: other processes wait on it.
    func update<T>(_ change: (inout (incident: Int, task: Int)) -> T) throws(StoreError) -> T {
        let descriptor = try open()
        // Interrupted by a signal, it waits again.
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Self.error(errno, database: database, path: path) }
        }
        defer { flock(descriptor, LOCK_UN) }
        var bytes = [Int64](repeating: 0, count: 2)
        // A file shorter than 16 bytes is new: nothing given yet beyond what the database holds.
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw Self.error(errno, database: database, path: path) }
        if count < 16 { bytes = [0, 0] }
        var numbers = (incident: Int(Int64(littleEndian: bytes[0])), task: Int(Int64(littleEndian: bytes[1])))
        let result = change(&numbers)
        let kept = [Int64(numbers.incident).littleEndian, Int64(numbers.task).littleEndian]
        if kept != bytes {
            let written = kept.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            guard written == 16 else { throw Self.error(written < 0 ? errno : ENOSPC, database: database, path: path) }
        }
        return result
    }

    /// The file's descriptor, opened (and made) the first time.
    private func open() throws(StoreError) -> Int32 {
        if let opened { return opened.descriptor }
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        var found = stat()
        guard descriptor >= 0, fstat(descriptor, &found) == 0 else {
            let code = errno
            if descriptor >= 0 { Glibc.close(descriptor) }
            throw Self.error(code, database: database, path: path)
        }
        opened = (descriptor, UInt64(found.st_dev), UInt64(found.st_ino))
        return descriptor
    }

    /// The error a write of the database would give: a folder that cannot be written (a
    /// read-only backup), a full disk.
    private static func error(_ code: Int32, database: String, path: String) -> StoreError {
        let reason = "its record of the last incident and task numbers, \(path), cannot be written: "
            + String(cString: strerror(code))
        return switch code {
        case EACCES, EPERM, EROFS: .readOnly(database, reason: reason)
        case ENOSPC, EDQUOT: .diskFull(database, reason: reason)
        default: .unavailable(database, reason: reason)
        }
    }
}
