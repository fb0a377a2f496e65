import Foundation
import PostgresNIO

/// The run writes, applied inside the committer's transaction; incident writes are in
/// `PostgresStore+Incidents.swift`.
extension PostgresStore {
    static func apply(_ batch: [StoreWrite], to session: PostgresSession) async throws -> [Int: StoreError] {
        // The journal's lock first, for the whole transaction: outside any savepoint (a lock
        // taken in one that is rolled back goes with it, and the next entries appended unlocked
        // gave sequences twice), and before any row, in one order for every worker (a batch that
        // had locked an incident's row and waited for the journal, while the journal's holder
        // waited for that row, was a deadlock).
        if batch.contains(where: \.appendsJournal) {
            try await session.changes("SELECT pg_advisory_xact_lock(\(journalLock))")
        }
        // The sources the batch's runs name, next and in the digests' order, on every worker: two
        // workers storing one new source wait for each other there only, never while one holds a
        // row the other wants (a deadlock).
        try await keep(batch.flatMap(\.sources), in: session)
        var refused: [Int: StoreError] = [:]
        for (index, write) in batch.enumerated() {
            if let error = try await apply(write, to: session) { refused[index] = error }
        }
        return refused
    }

    /// Stores each of `sources` in `script_source` unless it is there.
    private static func keep(_ sources: [[UInt8]], in session: PostgresSession) async throws {
        let byDigest = Dictionary(sources.map { (ScriptSource.digest(of: $0), $0) }) { first, _ in first }
        guard !byDigest.isEmpty else { return }
        // Shared by the workers' batches until they commit; the deletion of the sources no run
        // names takes it alone, so that it never deletes one a run being stored names.
        try await session.changes("SELECT pg_advisory_xact_lock_shared(\(sourceLock))")
        for (digest, source) in byDigest.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            try await session.changes("""
                INSERT INTO script_source (digest, source) VALUES (\(digest.buffer), \(source.buffer))
                ON CONFLICT DO NOTHING
                """)
        }
    }

    static func apply(_ write: StoreWrite, to session: PostgresSession) async throws -> StoreError? {
        switch write {
        case .createRun(let run):
            // The worker that creates a run executes it: it holds its lease from the start.
            let digest = ScriptSource.digest(of: run.source).buffer
            let inserted = try await session.changes("""
                INSERT INTO run (id, script, source, source_digest, arguments, status, created_at, updated_at,
                                 finished_at, result, error, entry, incident, playbook, lease_owner, lease_expires_at)
                VALUES (\(run.id.rawValue), \(run.script), '', \(digest), \(run.arguments), \(run.status.rawValue),
                        \(run.createdAt.millisecondsSince1970), \(run.updatedAt.millisecondsSince1970),
                        \(run.finishedAt?.millisecondsSince1970), \(run.result), \(run.error), \(run.entry),
                        \(run.incident?.number), \(run.playbook), \(session.lease?.worker),
                        \(unescaped: RunLease.now) + \(session.lease?.milliseconds ?? 0))
                ON CONFLICT (id) DO NOTHING
                """)
            if inserted == 0 { return .duplicateRun(run.id) }
        case .updateRun(let update):
            let finishedAt = update.status.isFinished ? update.at.millisecondsSince1970 : nil
            let changed = try await session.changes("""
                UPDATE run SET status = \(update.status.rawValue), result = \(update.result), error = \(update.error),
                               updated_at = \(update.at.millisecondsSince1970), finished_at = \(finishedAt)
                WHERE id = \(update.id.rawValue) AND (lease_owner IS NULL OR lease_owner = \(session.lease?.worker))
                """)
            if changed == 0 { return try await refusal(for: update.id, in: session) }
        case .appendHostCalls(let records):
            guard records.count > 1 else { return try await append(records[0], to: session) }
            return try await session.inSavepoint {
                for record in records {
                    if let refusal = try await append(record, to: session) { return refusal }
                }
                return nil
            }
        case .restartRun(let id, let source, let keepingCalls, let at):
            // A finished run may be retried on any worker, which takes its lease.
            let digest = ScriptSource.digest(of: source).buffer
            let changed = try await session.changes("""
                UPDATE run SET status = 'running', source = '', source_digest = \(digest), result = NULL, error = NULL,
                               updated_at = \(at.millisecondsSince1970), finished_at = NULL,
                               lease_owner = \(session.lease?.worker), kill_reason = NULL,
                               lease_expires_at = \(unescaped: RunLease.now) + \(session.lease?.milliseconds ?? 0)
                WHERE id = \(id.rawValue)
                  AND (lease_owner IS NULL OR lease_owner = \(session.lease?.worker) OR NOT \(unescaped: RunLease.unfinished))
                """)
            if changed == 0 { return try await refusal(for: id, in: session) }
            try await session.changes("""
                DELETE FROM host_call WHERE run_key = (SELECT key FROM run WHERE id = \(id.rawValue))
                AND sequence > \(keepingCalls)
                """)
        case .askToKill(let runs, let reason):
            // The first reason asked stays: the run ends with it.
            let asked = switch runs {
            case .run(let id):
                try await session.rows("""
                    UPDATE run SET kill_reason = coalesce(kill_reason, \(reason))
                    WHERE id = \(id.rawValue) AND \(unescaped: RunLease.unfinished) RETURNING id
                    """)
            case .incident(let incident, let except):
                try await session.rows("""
                    UPDATE run SET kill_reason = coalesce(kill_reason, \(reason))
                    WHERE incident = \(incident.number) AND \(unescaped: RunLease.unfinished)
                      AND id IS DISTINCT FROM \(except?.rawValue)
                      AND entry IS DISTINCT FROM \(RunEntry.closeHook.stored) RETURNING id
                    """)
            }
            if case .run(let id) = runs, asked.isEmpty,
               try await session.rows("SELECT 1 FROM run WHERE id = \(id.rawValue)").isEmpty
            {
                return .runNotFound(id)
            }
            for row in asked { try await notify(.killAsked(RunID(try row[0].decode(String.self))), in: session) }
        case .all(let writes):
            return try await session.inSavepoint {
                for write in writes {
                    if let refusal = try await apply(write, to: session) { return refusal }
                }
                return nil
            }
        case .createIncident, .importIncident, .updateIncident, .linkIncidents, .createTask, .completeTask,
             .assignTask, .cancelOpenTasks, .appendJournal:
            return try await applyIncidentWrite(write, to: session)
        case .addCheckpoint(let checkpoint):
            try await session.changes("""
                INSERT INTO journal_checkpoint (sequence, chain, at, public_key, signature)
                VALUES (\(checkpoint.sequence), \(checkpoint.chain.buffer), \(checkpoint.at.millisecondsSince1970),
                        \(checkpoint.publicKey.buffer), \(checkpoint.signature.buffer))
                ON CONFLICT (sequence) DO UPDATE SET chain = excluded.chain, at = excluded.at,
                    public_key = excluded.public_key, signature = excluded.signature
                """)
        case .cacheVerdicts, .noteIndicator: try await applyIntelWrite(write, to: session)
        case .setChatChannel, .setChatState, .keepEditedText, .openCommandConversation, .askQuestion, .questionPosted,
             .answerQuestion:
            return try await applyChatWrite(write, to: session)
        case .addEvidence, .noteCustody: return try await applyEvidenceWrite(write, to: session)
        case .recordAction, .finishAction, .undoAction: return try await applyActionWrite(write, to: session)
        }
        return nil
    }

    /// Appends one host call; a duplicate or an unknown run is refused without failing a statement.
    private static func append(_ record: HostCallRecord, to session: PostgresSession) async throws -> StoreError? {
        guard record.sequence >= 1 else {
            return .rejected(record.runID, reason: "host call \(record.sequence): sequences start at 1")
        }
        let inserted = try await session.changes("""
            INSERT INTO host_call (run_key, sequence, name, arguments_digest, result, recorded_at)
            SELECT key, \(record.sequence), \(record.name), \(record.argumentsDigest), \(record.result.buffer),
                   \(record.recordedAt.millisecondsSince1970)
            FROM run WHERE id = \(record.runID.rawValue)
              AND (lease_owner IS NULL OR lease_owner = \(session.lease?.worker))
            ON CONFLICT (run_key, sequence) DO NOTHING
            """)
        guard inserted == 0 else { return nil }
        return try await refusal(for: record.runID, in: session)
            ?? .duplicateHostCall(record.runID, sequence: record.sequence)
    }

    /// Why a write to `run` changed nothing: there is no such run, or another worker holds it;
    /// nil when this worker may write it.
    private static func refusal(for run: RunID, in session: PostgresSession) async throws -> StoreError? {
        guard let row = try await session.rows("SELECT lease_owner FROM run WHERE id = \(run.rawValue)").first else {
            return .runNotFound(run)
        }
        let owner = try row[0].decode(String?.self)
        return owner == nil || owner == session.lease?.worker ? nil : .leaseLost(run)
    }
}

extension StoreWrite {
    /// Whether applying it appends to the journal.
    var appendsJournal: Bool {
        switch self {
        // An import appends its journal, and its check that the incident is not there holds under
        // the journal's lock: the other workers' imports wait for this transaction's commit.
        case .appendJournal, .importIncident: true
        case .all(let writes): writes.contains { $0.appendsJournal }
        default: false
        }
    }

    /// The sources of the runs it creates or restarts, which `script_source` must hold first.
    var sources: [[UInt8]] {
        switch self {
        case .createRun(let run): [run.source]
        case .restartRun(_, let source, _, _): [source]
        case .all(let writes): writes.flatMap(\.sources)
        default: []
        }
    }
}
