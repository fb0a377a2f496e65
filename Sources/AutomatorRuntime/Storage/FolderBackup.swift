import Foundation
import GRDB

/// A data folder copied, while `automator serve` goes on writing to it, into a new folder that a
/// server can be started on: a consistent snapshot of the database (SQLite's `VACUUM INTO`, in
/// one read transaction), then the evidence files it names, the journal's signing key (with the
/// keys it replaced, `JournalRetiredKey`) and the API token. A copy of `automator.sqlite` alone loses the evidence and the key, whose
/// checkpoints no other key verifies. The copy is marked as a backup (`DataFolder.backupFile`): read,
/// never written nor served, until `automator store restore` makes it a data folder again.
public enum FolderBackup {
    public struct Copied: Sendable {
        public var databaseBytes: Int64 = 0
        public var evidenceFiles = 0
        public var evidenceBytes: Int64 = 0
        /// The folder's files copied beside the database: the signing key, the token.
        public var files: [String] = []
    }

    /// Copies `folder` into `destination`, a folder that does not exist yet or is empty, with the
    /// signing key and the files `alongside` names (the API token); the lock and a server's
    /// markers stay. `progress` is told the evidence bytes copied so far, of all of them.
    public static func copy(folder: String, to destination: String, alongside: [String],
                            progress: ((Int64, Int64) -> Void)? = nil) throws(StoreError) -> Copied
    {
        func refused(_ reason: String) -> StoreError { .copyRefused(destination, reason: reason) }
        try UnfinishedCopy.refuse(folder)
        if let address = DataFolder.moved(folder) ?? DataFolder.worker(folder) {
            throw refused("\(folder)'s store is the PostgreSQL database \(address): back it up with pg_dump (it holds "
                + "the evidence too), and keep \(JournalSignature.path(in: folder)) with it")
        }
        let database = folder + "/" + SQLiteStore.fileName
        guard FileManager.default.fileExists(atPath: database) else {
            throw refused("\(folder) has no \(SQLiteStore.fileName): pass --data with the folder automator serve uses")
        }
        guard DataFolder.isNewOrEmpty(destination) else {
            throw refused("it is not an empty folder: a backup goes into a new one, so that nothing is mixed with it")
        }
        try DataFolder.prepare(destination)
        // A backup of a backup is one of the same original, which its server may still run.
        let original = DataFolder.backup(folder)?.original ?? URL(fileURLWithPath: folder).standardizedFileURL.path
        try DataFolder.markBackup(destination, of: original)

        var copied = Copied()
        let snapshot = destination + "/" + SQLiteStore.fileName
        // Made first, empty and private: VACUUM INTO fills an empty file and keeps its mode.
        guard FileManager.default.createFile(atPath: snapshot, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw refused("\(snapshot) cannot be written: check the folder's permissions")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            let source = try DatabaseQueue(path: database, configuration: configuration)
            try source.inDatabase { try $0.execute(sql: "VACUUM INTO ?", arguments: [snapshot]) }
            try source.close()
        } catch {
            throw refused("the database could not be read into \(snapshot): \(error)")
        }
        copied.databaseBytes = size(of: snapshot)

        // After the snapshot: every file it names was in the vault before its row was committed,
        // and the vault never removes one, so all are there (and maybe a few newer, unnamed).
        let objects = folder + "/evidence/objects"
        let files = evidenceFiles(in: objects)
        let total = files.reduce(Int64(0)) { $0 + size(of: objects + "/" + $1) }
        for file in files {
            let target = destination + "/evidence/objects/" + file
            do {
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                try FileManager.default.copyItem(atPath: objects + "/" + file, toPath: target)
            } catch {
                throw refused("the evidence file \(objects)/\(file) could not be copied: \(error.localizedDescription)")
            }
            copied.evidenceFiles += 1
            copied.evidenceBytes += size(of: target)
            progress?(copied.evidenceBytes, max(total, copied.evidenceBytes))
        }
        let keys = [JournalSignature.path(in: folder), JournalRetiredKey.path(in: folder)]
            .map { URL(fileURLWithPath: $0).lastPathComponent }
        for name in keys + alongside where FileManager.default.fileExists(atPath: folder + "/" + name) {
            do {
                try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: destination + "/" + name)
            } catch {
                throw refused("\(folder)/\(name) could not be copied: \(error.localizedDescription)")
            }
            copied.files.append(name)
        }
        return copied
    }

    /// The vault's files, as `AB/CDEF…` under `objects`; not the ones still being written.
    private static func evidenceFiles(in objects: String) -> [String] {
        let prefixes = (try? FileManager.default.contentsOfDirectory(atPath: objects)) ?? []
        return prefixes.filter { !$0.hasPrefix(".") && isFolder(objects + "/" + $0) }.sorted().flatMap { prefix in
            ((try? FileManager.default.contentsOfDirectory(atPath: objects + "/" + prefix)) ?? [])
                .filter { !$0.hasPrefix(".") }.sorted().map { prefix + "/" + $0 }
        }
    }

    private static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }

    private static func size(of path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}
