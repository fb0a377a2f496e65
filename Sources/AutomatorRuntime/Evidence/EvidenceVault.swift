import Foundation

/// Evidence files by content: `DATA/evidence/objects/AB/CDEF...`, named by their SHA-256. A file
/// is copied a megabyte at a time while its MD5, SHA-1 and SHA-256 are computed, so a file of
/// gigabytes takes the memory of one chunk; the same content is kept once however often it is
/// added. Objects are written to a temporary name and renamed once whole and synced: a crash
/// leaves no partial object under a hash.
public struct EvidenceVault: Sendable {
    public let folder: String
    static let chunk = 1 << 20

    public init(dataFolder: String) { folder = dataFolder + "/evidence" }

    /// Where collectors drop files for `inc:evidence{ path = ... }`: scripts may name files here
    /// and nowhere else.
    public var inbox: String { folder + "/inbox" }

    public func path(of sha256: String) -> String {
        folder + "/objects/" + sha256.prefix(2) + "/" + sha256.dropFirst(2)
    }

    /// Copies the file at `source` in; its hashes and size.
    public func add(file source: String) throws(EvidenceError) -> (FileHashes, Int64) {
        guard let input = FileHandle(forReadingAtPath: source) else {
            throw EvidenceError(.notFound, "cannot read \(source): check the path and its permissions")
        }
        defer { try? input.close() }
        return try add { () throws(EvidenceError) -> Data? in
            do {
                let data = try input.read(upToCount: Self.chunk)
                return data?.isEmpty == false ? data : nil
            } catch {
                throw EvidenceError(.unavailable, "reading \(source) failed: \(error.localizedDescription)")
            }
        }
    }

    /// Keeps `bytes`; their hashes and size.
    public func add(bytes: [UInt8]) throws(EvidenceError) -> (FileHashes, Int64) {
        var offset = 0
        return try add { () throws(EvidenceError) -> Data? in
            guard offset < bytes.count else { return nil }
            defer { offset += Self.chunk }
            return Data(bytes[offset..<min(offset + Self.chunk, bytes.count)])
        }
    }

    private func add(_ next: () throws(EvidenceError) -> Data?) throws(EvidenceError) -> (FileHashes, Int64) {
        let temporary = folder + "/objects/.incoming-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: folder + "/objects", withIntermediateDirectories: true)
        } catch {
            throw EvidenceError(.unavailable, "cannot create \(folder)/objects: \(error.localizedDescription)")
        }
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
                    throw EvidenceError(.unavailable, "writing the evidence failed (is the disk full?): "
                        + error.localizedDescription)
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

    /// The path of a file named for `inc:evidence{ path = ... }`, if it is in the inbox.
    public func inboxFile(_ name: String) throws(EvidenceError) -> String {
        let resolved = URL(fileURLWithPath: name.hasPrefix("/") ? name : inbox + "/" + name).standardizedFileURL
            .resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: inbox).standardizedFileURL.resolvingSymlinksInPath().path
        guard resolved.hasPrefix(root + "/") else {
            throw EvidenceError(.invalid, "scripts may take evidence files only from \(inbox): copy the file there, "
                + "or use `automator evidence add` for any file")
        }
        return resolved
    }
}

/// Why evidence could not be kept, read or exported; each says what to do.
public struct EvidenceError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable { case invalid, notFound, unavailable, tampered }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
