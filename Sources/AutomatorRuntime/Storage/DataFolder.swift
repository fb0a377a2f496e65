import Foundation

/// The data folder: the SQLite database, the API token, the server's lock, the journal's
/// signing key, the evidence vault, where the store is when it is PostgreSQL's (moved there, or
/// the folder a worker's), and whether the folder is a backup.
public enum DataFolder {
    /// Makes the folder (mode 0700, with its parents) unless it exists; refuses a file.
    public static func prepare(_ folder: String) throws(StoreError) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw .dataFolderIsFile(folder) }
            return
        }
        // `mkdir -p`, by hand: Foundation's error would not say why ("Permission denied").
        var prefix = folder.hasPrefix("/") ? "/" : ""
        for component in folder.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw .cannotCreateDataFolder(folder, reason: String(cString: strerror(errno)))
            }
        }
    }

    /// The file that says the folder's store was moved to PostgreSQL (`automator store copy`), and
    /// where: from then on its `automator.sqlite` is the backup of the move, and opening it as the
    /// store is refused (`SQLiteStore`). Otherwise a server started without `--store`, or a
    /// command with no server on the folder, would work on the old store: an incident opened
    /// there would be lost to the team.
    static let movedFile = "store-moved"

    /// Marks `folder`'s store as moved to `address`.
    static func markMoved(_ folder: String, to address: String) throws(StoreError) {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(movedFile).path
        let text = "\(address)\nmoved by automator store copy at \(Date().formatted(.iso8601))\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw .readOnly(path, reason: "the file that marks the store as moved cannot be written") }
    }

    /// Where `folder`'s store was moved, if it was.
    public static func moved(_ folder: String) -> String? { address(in: folder, movedFile) }

    /// The file that says the folder is a backup (`automator store backup`): of which folder, and
    /// when it was made. A server on a copy resumes the runs that waited when it was made, which
    /// the original's server runs too: each post and action would happen twice, once per folder.
    /// So the store of a marked folder is read and never written (`SQLiteStore`), until
    /// `automator store restore` removes the mark, a deliberate act.
    static let backupFile = "backup-of"

    /// What a backup's mark says.
    public struct BackupMark: Sendable {
        /// The folder backed up, as an absolute path.
        public var original: String
        /// When and where it was made, as the mark says it.
        public var made: String
        /// How far the database had gone, for a copy of one (`store copy --to-folder`).
        public var position: StorePosition?
    }

    /// Marks `folder` as a backup of `original` (a folder, or a PostgreSQL database's address),
    /// made by `command`: the first thing in a new backup, so that one cut short is marked too. A
    /// copy of a database marks it again once read, with how far the database had gone.
    static func markBackup(_ folder: String, of original: String, by command: String = "store backup",
                           at position: StorePosition? = nil) throws(StoreError)
    {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(backupFile).path
        let host = ProcessInfo.processInfo.hostName
        let text = "\(original)\nmade by automator \(command) at \(Date().formatted(.iso8601)) on \(host)\n"
            + (position.map { $0.line + "\n" } ?? "")
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw .readOnly(path, reason: "the file that marks the folder as a backup cannot be written") }
    }

    /// What `folder` is a backup of, if it is one not restored.
    public static func backup(_ folder: String) -> BackupMark? {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(backupFile).path
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        return BackupMark(original: lines.first ?? "another data folder", made: lines.dropFirst().first ?? "at an unknown time",
                          position: lines.dropFirst(2).first.flatMap(StorePosition.init(line:)))
    }

    /// Removes `folder`'s backup mark: its store is the one a server may resume from now on.
    public static func unmarkBackup(_ folder: String) throws(StoreError) {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(backupFile).path
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw .readOnly(path, reason: "the backup's mark cannot be removed (\(error.localizedDescription))")
        }
    }

    /// Whether `path` is free for a new folder: nothing there, or an empty folder. A backup or a
    /// copy goes into a new one, so that nothing is mixed with it.
    static func isNewOrEmpty(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return true }
        return isFolder.boolValue && ((try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty ?? false)
    }

    /// The file that says the folder is a worker's of a PostgreSQL store (`automator serve
    /// --store`), written when the worker starts on a folder with no store of its own. Otherwise
    /// a command on the folder while the worker is stopped opened an empty SQLite store there
    /// and answered from it: `journal verify` verified 0 entries.
    static let workerFile = "store-worker"

    /// Marks `folder` as a worker's of `address`, unless it holds a store of its own (whose
    /// history `automator store copy` would move: it is not hidden). Returns whether it did.
    public static func markWorker(_ folder: String, of address: String) throws(StoreError) -> Bool {
        let own = URL(fileURLWithPath: folder).appendingPathComponent(SQLiteStore.fileName).path
        guard !FileManager.default.fileExists(atPath: own) else { return false }
        let path = URL(fileURLWithPath: folder).appendingPathComponent(workerFile).path
        let text = "\(address)\nthe data folder of a worker of this store (automator serve --store)\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw .readOnly(path, reason: "the file that marks the folder as a worker's cannot be written") }
        return true
    }

    /// The PostgreSQL store `folder` is a worker's of, if it is.
    static func worker(_ folder: String) -> String? { address(in: folder, workerFile) }

    /// The PostgreSQL store whose data `folder` no longer holds: it is a worker's of it, or its
    /// store was moved there.
    public static func sharedStore(of folder: String) -> String? { worker(folder) ?? moved(folder) }

    /// The first line of `file` in `folder`: an address.
    private static func address(in folder: String, _ file: String) -> String? {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(file).path
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "PostgreSQL"
    }
}
