public import Foundation

/// Where runs and their recorded host calls are kept, so that a run survives a crash: after a
/// restart, each unfinished run is executed again from the start, and its host calls below the
/// recorded count return their recorded results instead of acting again.
///
/// Writes go through one method, `write(_:completion:)`, whose completion says when the write is
/// durable: the scheduler hands a host call's result to the script only then. It takes a
/// callback, not `async`, because the scheduler calls it from its executor threads (not Swift
/// tasks) once per host call: an `async` method would cost a `Task` per call, and a blocking one
/// would stall every run on that executor for a disk flush. Implementations batch the writes
/// that arrive together into one transaction (group commit), so a flush is shared by many runs.
///
/// Reads, run creation and housekeeping are rare by comparison and `async`: the caller is a
/// task (a command, a request handler, recovery at start-up) that may wait, and an `async`
/// requirement suits both the embedded SQLite store (whose reads run on its own threads) and a
/// networked one (PostgreSQL, whose client is asynchronous).
///
/// ```swift
/// let run = RunRecord(script: "phishing.lua", source: source)
/// try await store.write(.createRun(run))
/// store.append(HostCallRecord(runID: run.id, sequence: 1, name: "time.now", argumentsDigest: digest,
///                             result: encoded)) { outcome in
///     // durable (or not): resume the script with the result (or fail the call)
/// }
/// ```
///
/// Every implementation passes the same conformance suite (`Tests/RuntimeTests/StoreConformance.swift`).
public protocol Store: Sendable {
    /// Submits a write; `completion` is called once, on any thread, when it is durable or has
    /// failed. Writes are applied in submission order. Keep `completion` short (hand the result
    /// on): it may run on the thread that commits the next writes.
    func write(_ write: StoreWrite, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void)

    /// The run with this id, or nil if there is none.
    func loadRun(_ id: RunID) async throws(StoreError) -> RunRecord?

    /// Runs, newest first: all of them, or those with `status`; at most `limit`.
    func listRuns(status: RunRecord.Status?, limit: Int) async throws(StoreError) -> [RunRecord]

    /// The newest run of `incident` that calls one of `entries` (an SLA breach's hook), as
    /// `loadRun` gives it; nil if there is none.
    func lastRun(of incident: IncidentID, calling entries: [RunEntry]) async throws(StoreError) -> RunRecord?

    /// The runs to resume after a restart (pending, running, waiting), oldest first, each with
    /// its recorded host calls by sequence: what recovery needs, in one read.
    func unfinishedRuns() async throws(StoreError) -> [UnfinishedRun]

    /// The recorded host calls of a run, by sequence; empty for an unknown run.
    func hostCalls(of run: RunID) async throws(StoreError) -> [HostCallRecord]

    /// Deletes the chat's runs (`chat:` entries: the watcher's, one a message, and the commands')
    /// that finished before `cutoff`, with their host calls; returns how many were deleted. Kept:
    /// unfinished runs, every other entry (reports count playbook runs, and `incident retry`
    /// replays them), and a run that asked a question (reports time the answers by their run).
    func deleteFinishedChatRuns(finishedBefore cutoff: Date) async throws(StoreError) -> Int

    /// Waits for the writes already submitted, then refuses everything (`.closed`).
    func close() async
}

/// A run to resume, and the host calls its earlier lives recorded.
public struct UnfinishedRun: Sendable, Hashable {
    public var run: RunRecord
    public var records: [HostCallRecord]
    /// The worker whose lease on it ended, when another claims it on a shared store
    /// (`LeasingStore.claimRuns`): the log names whose runs moved.
    public var previousWorker: String?

    public init(run: RunRecord, records: [HostCallRecord]) {
        self.run = run
        self.records = records
    }
}

extension Store {
    /// Submits a write and waits until it is durable.
    public func write(_ write: StoreWrite) async throws(StoreError) {
        let result = await withCheckedContinuation { continuation in
            self.write(write) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Records one host call; `completion` says when it is durable (see `write(_:completion:)`).
    public func append(_ record: HostCallRecord,
                       completion: @escaping @Sendable (Result<Void, StoreError>) -> Void)
    {
        write(.appendHostCalls([record]), completion: completion)
    }
}
