public import Foundation

/// Evidence content in the data folder, for the SQLite store: `DATA/evidence/objects/AB/CDEF...`,
/// named by SHA-256. Objects are written to a temporary name and renamed once whole and synced:
/// a crash leaves no partial object under a hash. What a crash leaves under a temporary name is
/// removed by a later upload once it is a day old (a younger one may be another process's
/// upload in progress, on the same folder).
public struct FolderVault: EvidenceVault {
    /// How old a temporary file must be before an upload takes it for one a crash abandoned.
    static let abandonedAfter: TimeInterval = 24 * 3600

    public let folder: String

    public init(dataFolder: String) { folder = dataFolder + "/evidence" }

    public func path(of sha256: String) -> String {
        folder + "/objects/" + sha256.prefix(2) + "/" + sha256.dropFirst(2)
    }

    public func keep(_ next: () throws(EvidenceError) -> Data?) async throws(EvidenceError) -> (FileHashes, Int64) {
        let temporary = folder + "/objects/.incoming-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: folder + "/objects", withIntermediateDirectories: true)
        } catch {
            throw EvidenceError(.unavailable, "cannot create \(folder)/objects: \(error.localizedDescription)")
        }
        removeAbandonedUploads()
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: temporary)
        else { throw EvidenceError(.unavailable, "cannot write in \(folder)/objects: check the disk and its permissions") }
        var hasher = FileHashes.Hasher()
        var size: Int64 = 0
        do throws(EvidenceError) {
            defer { try? output.close() }
            while let data = try next() {
                hasher.update(data)
                size += Int64(data.count)
                do { try output.write(contentsOf: data) } catch {
                    throw EvidenceError.writing(folder + "/objects", error,
                                                otherwise: "move the data folder to a larger disk")
                }
            }
            do { try output.synchronize() } catch {
                throw EvidenceError(.unavailable, "the evidence could not be synced to disk: \(error.localizedDescription)")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        let hashes = hasher.finalize()
        let final = path(of: hashes.sha256)
        do {
            if FileManager.default.fileExists(atPath: final) {
                try FileManager.default.removeItem(atPath: temporary)
            } else {
                try FileManager.default.createDirectory(atPath: (final as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try FileManager.default.moveItem(atPath: temporary, toPath: final)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw EvidenceError(.unavailable, "the evidence could not be kept as \(final): \(error.localizedDescription)")
        }
        return (hashes, size)
    }

    /// A failure to remove is left for a person to notice: the object is whole, only unnamed.
    public func discard(_ sha256: String) async {
        try? FileManager.default.removeItem(atPath: path(of: sha256))
    }

    /// Removes the temporary files of uploads a crash cut short (one that fails removes its own).
    private func removeAbandonedUploads() {
        let objects = folder + "/objects"
        let files = FileManager.default
        let before = Date(timeIntervalSinceNow: -Self.abandonedAfter)
        for name in (try? files.contentsOfDirectory(atPath: objects)) ?? [] where name.hasPrefix(".incoming-") {
            let path = objects + "/" + name
            if let modified = (try? files.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < before {
                try? files.removeItem(atPath: path)
            }
        }
    }

    public func chunks(of sha256: String, _ body: (Data) async throws(EvidenceError) -> Void) async throws(EvidenceError) {
        let file = path(of: sha256)
        guard let input = FileHandle(forReadingAtPath: file) else {
            throw EvidenceError(.notFound, "cannot read \(file): the vault is missing the object \(sha256); restore it "
                + "from an exported bundle or a backup")
        }
        defer { try? input.close() }
        while true {
            let data: Data?
            do { data = try input.read(upToCount: Self.chunk) } catch {
                throw EvidenceError(.unavailable, "reading \(file) failed: \(error.localizedDescription)")
            }
            guard let data, !data.isEmpty else { return }
            try await body(data)
        }
    }
}
