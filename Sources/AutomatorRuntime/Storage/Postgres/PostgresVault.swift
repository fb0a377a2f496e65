import Crypto
import Foundation
import Logging
import PostgresNIO

/// Evidence content in PostgreSQL, for the shared store: every worker reaches it, where each
/// has a data folder of its own.
///
/// A file is cut into chunks of a megabyte, each kept once in `evidence_chunk` under its own
/// SHA-256, and the object is the list of its chunks in `evidence_object` under the file's
/// SHA-256. The file's hash is known only at its end, so chunks are named by theirs: each is
/// stored as it comes (one in memory at a time) and never rewritten under another name. A chunk
/// already stored is not sent again, and the object's row, inserted after its last chunk, is
/// what makes it exist. On reading, each chunk must hash to its name before any byte of it is
/// handed out, and the whole to the object's (`EvidenceVault.read`).
///
/// A file is kept in one transaction, its chunks and its object: an upload cut short (a source
/// that fails, a crash, a lost connection) is rolled back whole. Committed chunk by chunk, it
/// left its chunks behind, named by nothing and never removed: a gigabyte of the database for
/// each interrupted gigabyte. The transaction holds a connection of the pool for the upload.
/// Two uploads at once that share chunks in opposite orders can deadlock; PostgreSQL ends one,
/// whose caller is told and can add the file again.
struct PostgresVault: EvidenceVault {
    /// Where the files go.
    enum Target: Sendable {
        /// The store's pool: each file in a transaction of its own.
        case store(PostgresStore)
        /// A connection in a transaction that its owner commits (`store copy`'s, with the rows):
        /// the files are kept with everything else, or not at all.
        case transaction(PostgresConnection, PostgresLocation, Logger)
    }

    let target: Target

    init(store: PostgresStore) { target = .store(store) }

    init(transaction connection: PostgresConnection, location: PostgresLocation, logger: Logger) {
        target = .transaction(connection, location, logger)
    }

    func keep(_ next: () throws(EvidenceError) -> Data?) async throws(EvidenceError) -> (FileHashes, Int64) {
        let kept = try await access { [ownsTransaction] session -> Result<(FileHashes, Int64), EvidenceError> in
            if ownsTransaction { try await session.changes("BEGIN") }
            do {
                var hasher = FileHashes.Hasher()
                var size: Int64 = 0
                var chunks: [String] = []
                while let data = try next() {
                    hasher.update(data)
                    size += Int64(data.count)
                    let name = FileHashes.hex(SHA256.hash(data: data))
                    if try await session.rows("SELECT 1 FROM evidence_chunk WHERE sha256 = \(name)").isEmpty {
                        try await session.changes("""
                            INSERT INTO evidence_chunk (sha256, data) VALUES (\(name), \(data.buffer))
                            ON CONFLICT (sha256) DO NOTHING
                            """)
                    }
                    chunks.append(name)
                }
                let hashes = hasher.finalize()
                try await session.changes("""
                    INSERT INTO evidence_object (sha256, size, chunks) VALUES (\(hashes.sha256), \(size), \(chunks))
                    ON CONFLICT (sha256) DO NOTHING
                    """)
                if ownsTransaction { try await session.changes("COMMIT") }
                return .success((hashes, size))
            } catch {
                if ownsTransaction { _ = try? await session.changes("ROLLBACK") }
                // The source's own failure is the caller's to read as it was said.
                if let error = error as? EvidenceError { return .failure(error) }
                throw error
            }
        }
        return try kept.get()
    }

    func chunks(of sha256: String, _ body: (Data) async throws(EvidenceError) -> Void) async throws(EvidenceError) {
        let found = try await access { session in
            try await session.rows("SELECT chunks FROM evidence_object WHERE sha256 = \(sha256)").first
                .map { try $0[0].decode([String].self) }
        }
        guard let chunks = found else {
            throw EvidenceError(.notFound, "the database's vault has no object \(sha256): restore the evidence from an "
                + "exported bundle or a backup of the database")
        }
        for (number, name) in chunks.enumerated() {
            let data = try await access { session in
                try await session.rows("SELECT data FROM evidence_chunk WHERE sha256 = \(name)").first
                    .map { Data(try $0[0].decode(ByteBuffer.self).readableBytesView) }
            }
            guard let data else {
                throw EvidenceError(.notFound, "chunk \(number) of \(sha256) (\(name)) is missing from the database's "
                    + "vault: restore the evidence from an exported bundle or a backup of the database")
            }
            let read = FileHashes.hex(SHA256.hash(data: data))
            guard read == name else {
                throw EvidenceError(.tampered, "chunk \(number) of \(sha256) is damaged in the database's vault: it "
                    + "hashes to \(read), not to its name \(name); nothing of it was handed out. Restore the evidence "
                    + "from an exported bundle or a backup of the database")
            }
            try await body(data)
        }
    }

    /// Keeps it: chunks are shared between objects, and an upload in another transaction may rely
    /// on a chunk it found here and did not send again; removing chunks safely would need a lock
    /// that every upload takes. What is left is what a failed write leaves in the database anyway.
    func discard(_ sha256: String) async {}

    /// Whether each file is kept in a transaction of its own.
    private var ownsTransaction: Bool {
        if case .store = target { true } else { false }
    }

    /// Runs `body` on a connection of the store's pool, or on the transaction's; a failure says
    /// what PostgreSQL said.
    private func access<T: Sendable>(_ body: (PostgresSession) async throws -> T) async throws(EvidenceError) -> T {
        switch target {
        case .store(let store):
            do { return try await store.read(body) } catch { throw EvidenceService.error(error) }
        case .transaction(let connection, let location, let logger):
            do { return try await body(PostgresSession(connection, logger: logger)) } catch {
                throw EvidenceService.error(PostgresStore.storeError(error, location: location))
            }
        }
    }
}
