public import Foundation
import Crypto

/// Where evidence content is kept, by its SHA-256: the data folder's `FolderVault` beside SQLite,
/// `PostgresVault` in the shared database (which every worker reaches), chosen by the store
/// (`EvidenceStore.evidenceVault`). Both take and give content a chunk at a time, so a file of
/// gigabytes takes the memory of one chunk, and keep the same content once.
public protocol EvidenceVault: Sendable {
    /// Keeps the content `next` yields, until it yields nil; returns once the content is kept
    /// whole under its SHA-256 (a record may name it then: a crash before leaves no object).
    func keep(_ next: () throws(EvidenceError) -> Data?) async throws(EvidenceError) -> (FileHashes, Int64)

    /// Gives the content kept under `sha256` to `body`, a chunk at a time, as stored
    /// (`read(_:_:)` checks it against its name).
    func chunks(of sha256: String, _ body: (Data) async throws(EvidenceError) -> Void) async throws(EvidenceError)

    /// Removes, if it can, the content kept under `sha256` for evidence whose record could not be
    /// written, which no evidence names (the caller has looked): nothing else would remove it.
    func discard(_ sha256: String) async
}

extension EvidenceVault {
    /// A chunk of content at a time, for both kinds.
    static var chunk: Int { 1 << 20 }

    /// Keeps the file at `source`; its hashes and size. `progress` is told the bytes read, of
    /// the file's size, after each chunk. With `expected`, a file that does not hash to it is
    /// refused as `.tampered` and nothing of it is kept (a copy from another vault).
    public func add(file source: LocalPath, expected sha256: String? = nil, progress: EvidenceProgress? = nil)
        async throws(EvidenceError) -> (FileHashes, Int64)
    {
        let input = try FileHandle.evidenceInput(source)
        defer { try? input.close() }
        let total = (try? input.seekToEnd()).map(Int64.init) ?? 0
        try? input.seek(toOffset: 0)
        var done: Int64 = 0
        var hasher = SHA256()
        return try await keep { () throws(EvidenceError) -> Data? in
            let data: Data?
            do { data = try input.read(upToCount: Self.chunk) } catch {
                throw EvidenceError(.unavailable, "reading \(source) failed: \(error.localizedDescription)")
            }
            guard let data, !data.isEmpty else {
                // Thrown before the end, so the vault keeps nothing (`keep` rolls back what it has).
                if let sha256, case let read = FileHashes.hex(hasher.finalize()), read != sha256 {
                    throw EvidenceError(.tampered, "\(source) is damaged: it hashes to \(read), not to its name "
                        + "\(sha256); restore it from an exported bundle or a backup")
                }
                return nil
            }
            if sha256 != nil { hasher.update(data: data) }
            done += Int64(data.count)
            progress?(done, max(total, done))
            return data
        }
    }

    /// Keeps `bytes`; their hashes and size.
    public func add(bytes: [UInt8]) async throws(EvidenceError) -> (FileHashes, Int64) {
        var offset = 0
        return try await keep { () throws(EvidenceError) -> Data? in
            guard offset < bytes.count else { return nil }
            defer { offset += Self.chunk }
            return Data(bytes[offset..<min(offset + Self.chunk, bytes.count)])
        }
    }

    /// Gives the content kept under `sha256` to `body`, a chunk at a time; throws `.tampered`
    /// when what was read does not hash to `sha256`, its name. What `body` was given then is
    /// not the evidence: callers write it somewhere temporary and discard it on a throw.
    public func read(_ sha256: String, _ body: (Data) async throws(EvidenceError) -> Void) async throws(EvidenceError) {
        var hasher = SHA256()
        try await chunks(of: sha256) { data throws(EvidenceError) in
            hasher.update(data: data)
            try await body(data)
        }
        let read = FileHashes.hex(hasher.finalize())
        guard read == sha256 else {
            throw EvidenceError(.tampered, "the vault's copy of \(sha256) is damaged: what was read hashes to \(read), "
                + "not to its name; nothing was handed out. Restore the evidence from an exported bundle or a backup")
        }
    }

    /// Writes the content kept under `sha256` to `path` (replacing it), checked as it is read:
    /// damaged content never reaches `path`.
    public func copy(_ sha256: String, to path: String) async throws(EvidenceError) {
        let temporary = path + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: temporary)
        else { throw EvidenceError(.unavailable, "cannot write \(temporary): check the folder and its permissions") }
        do throws(EvidenceError) {
            defer { try? output.close() }
            try await write(sha256, to: output, named: path)
            do { try output.synchronize() } catch {
                throw EvidenceError(.unavailable, "cannot copy to \(path): \(error.localizedDescription)")
            }
            // rename(2) replaces a file in one step and refuses a folder (EISDIR): a folder given
            // as the output is never emptied to make room.
            guard rename(temporary, path) == 0 else {
                let reason = errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST
                    ? "it is a folder: give a file name, such as \(path)/NAME"
                    : String(cString: strerror(errno))
                throw EvidenceError(.unavailable, "cannot copy to \(path): \(reason)")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Writes the content kept under `sha256` to `output` (`name` says what it is, for errors),
    /// checked as it is read: on a throw, what was written is not the evidence.
    func write(_ sha256: String, to output: FileHandle, named name: String) async throws(EvidenceError) {
        try await read(sha256) { data throws(EvidenceError) in
            do { try output.write(contentsOf: data) } catch {
                throw EvidenceError.writing(name, error, otherwise: "write it to another disk")
            }
        }
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

    /// Writing `path` failed with the file system's `error`. A full disk is named by the path, as
    /// the store's errors name it, with `remedy` beside freeing space.
    static func writing(_ path: String, _ error: any Error, otherwise remedy: String) -> EvidenceError {
        let error = error as NSError
        let full = error.domain == NSCocoaErrorDomain && error.code == CocoaError.fileWriteOutOfSpace.rawValue
            || error.domain == NSPOSIXErrorDomain && error.code == Int(ENOSPC)
        guard full else { return EvidenceError(.unavailable, "writing \(path) failed: \(error.localizedDescription)") }
        return EvidenceError(.unavailable, "the disk holding \(path) is full (\(error.localizedDescription)): free some "
            + "space or \(remedy); nothing of it was kept")
    }
}

extension FileHandle {
    /// A file a person named (evidence to add, a bundle to verify), opened to read by its bytes. A
    /// folder is refused by name: it opens, and reading it fails with a Cocoa error that names nothing.
    static func evidenceInput(_ path: LocalPath) throws(EvidenceError) -> FileHandle {
        let descriptor = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else {
            throw EvidenceError(.notFound, "cannot read \(path): check the path and its permissions")
        }
        let input = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            throw EvidenceError(.invalid, "\(path) is a folder: give a file")
        }
        return input
    }
}
