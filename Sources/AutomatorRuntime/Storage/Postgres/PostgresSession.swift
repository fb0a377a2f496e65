import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The statements of one transaction on one connection, each answered whole (the store's
/// statements return a few rows, or a count).
final class PostgresSession {
    let connection: PostgresConnection
    let logger: Logger
    /// The worker whose writes these are, for the leases (the committer's sessions).
    let lease: RunLease?
    /// The journal's last entry and the last hash of each incident appended to, as this
    /// transaction left them: read once under the journal's lock, then carried from one append
    /// to the next instead of read again for each (two round trips an entry). Forgotten when a
    /// savepoint rolls back.
    var journalTip: (sequence: Int64, chain: JournalHash)?
    var journalHeads: [Int: JournalHash] = [:]

    /// Whether a write of several statements runs in a savepoint (`inSavepoint`). Without, a
    /// refused one cannot be undone alone: it fails the transaction (`RefusedWithoutSavepoint`),
    /// which the committer then applies again with savepoints.
    let savepoints: Bool

    init(_ connection: PostgresConnection, lease: RunLease? = nil, savepoints: Bool = true, logger: Logger) {
        self.connection = connection
        self.lease = lease
        self.savepoints = savepoints
        self.logger = logger
    }

    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await answer(to: query).rows.map { $0.makeRandomAccess() }
    }

    /// Runs a statement; returns how many rows it inserted, changed or deleted.
    @discardableResult
    func changes(_ query: PostgresQuery) async throws -> Int {
        try await answer(to: query).metadata.rows ?? 0
    }

    /// A statement in flight cannot be cancelled: a task cancelled meanwhile (a stopping server)
    /// closes the connection instead, or it would wait for a database gone silent as long as the
    /// system keeps the connection, a quarter of an hour.
    ///
    /// And a statement sent on a connection the server has closed (a restart, while the leader's
    /// or a follower's own connection sat between two looks) is never answered: postgres-nio drops
    /// it without failing it once the connection's handlers are gone, and the wait, cancellation
    /// included, lasted for ever. So it is sent from the connection's event loop, where the close
    /// happens too, and only while the connection is open: an open connection fails what it was
    /// sent when it closes.
    private func answer(to query: PostgresQuery) async throws -> PostgresQueryResult {
        let (connection, logger) = (connection, logger)
        let result = connection.eventLoop.flatSubmit { () -> EventLoopFuture<PostgresQueryResult> in
            guard !connection.isClosed else { return connection.eventLoop.makeFailedFuture(ConnectionClosed()) }
            return connection.query(query, logger: logger)
        }
        return try await withTaskCancellationHandler {
            try await result.get()
        } onCancel: { [connection] in
            let closing: EventLoopFuture<Void> = connection.close()
            _ = closing
        }
    }

    /// Runs `body` in a savepoint, undone if it returns a refusal or throws: a write of several
    /// statements is applied whole or not at all while the batch around it goes on. Without
    /// `savepoints`, a refusal fails the transaction instead.
    func inSavepoint(_ body: () async throws -> StoreError?) async throws -> StoreError? {
        guard savepoints else {
            if let refusal = try await body() { throw RefusedWithoutSavepoint(refusal: refusal) }
            return nil
        }
        try await changes("SAVEPOINT automator")
        let refusal: StoreError?
        do { refusal = try await body() } catch {
            forgetJournal()
            _ = try? await changes("ROLLBACK TO automator")
            throw error
        }
        if refusal != nil {
            forgetJournal()
            try await changes("ROLLBACK TO automator")
        }
        try await changes("RELEASE automator")
        return refusal
    }
}

/// The connection was closed before the statement could be sent.
struct ConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the connection closed" }
}

/// A write of several statements was refused in a transaction without savepoints: what it had
/// applied cannot be undone alone, so the transaction is rolled back and applied again with them.
struct RefusedWithoutSavepoint: Error {
    let refusal: StoreError
}

extension PostgresSession {
    func forgetJournal() {
        journalTip = nil
        journalHeads = [:]
    }
}

extension PostgresRandomAccessRow {
    /// The bytes of a `bytea` column.
    func bytes(_ index: Int) throws -> [UInt8] { Array(try self[index].decode(ByteBuffer.self).readableBytesView) }

    /// The bytes of a `bytea` column that may be NULL, as `Data` (the journal's hashes).
    func data(_ index: Int) throws -> Data? { try self[index].decode(ByteBuffer?.self).map { Data($0.readableBytesView) } }

    /// A time kept as milliseconds since 1970.
    func date(_ index: Int) throws -> Date? { try self[index].decode(Int64?.self).map(Date.init(millisecondsSince1970:)) }
}

extension Sequence<UInt8> {
    /// For a `bytea` parameter.
    var buffer: ByteBuffer { ByteBuffer(bytes: self) }
}
