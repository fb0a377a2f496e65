import Foundation
import GRDB

extension SQLiteStore {
    /// The `StoreError` for what SQLite, GRDB or the file system said about the database at
    /// `path`.
    static func storeError(_ error: any Error, path: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if error is RowDecodingError { return .notADatabase(path, reason: "\(error)") }
        guard let error = error as? DatabaseError else { return .unavailable(path, reason: "\(error)") }
        let reason = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return .notADatabase(path, reason: reason)
        case .SQLITE_FULL:
            return .diskFull(path, reason: reason)
        case .SQLITE_READONLY, .SQLITE_PERM:
            return .readOnly(path, reason: reason)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .locked(path, reason: reason)
        default:
            // SQLite says "unable to open database file" or "disk I/O error" when it cannot
            // create the WAL beside the database: say so when that is the cause.
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            if !FileManager.default.isWritableFile(atPath: folder) {
                return .readOnly(path, reason: "\(reason); the folder \(folder) is not writable")
            }
            return .unavailable(path, reason: reason)
        }
    }
}
