import Dispatch
import Foundation

/// Turns writes that arrive one at a time, from many threads, into few transactions: a flush
/// to disk costs the same for one write as for thousands, so each transaction takes every write
/// that is waiting.
///
/// One thread commits. It takes everything queued (up to `maximumBatch`) whenever it is free,
/// so a lone write is committed at once, and under load the writes that arrive while one batch
/// is being flushed form the next batch: batches grow with the load, without a timer. (A delay
/// before flushing would only add latency when idle; when busy the flush in progress is the
/// delay.)
///
/// Each write's completion is called once, on the committing thread, after its batch: with
/// success if the batch committed, with the batch's error if it did not (then nothing of the
/// batch was saved, everything committed before is intact, and the next batch is tried afresh),
/// or with its own error if the commit refused that write alone.
///
/// Sendable by its lock: `state` is only touched with `lock` held.
final class GroupCommitter<Write: Sendable>: @unchecked Sendable {
    typealias Completion = @Sendable (Result<Void, StoreError>) -> Void
    /// Saves a batch in one transaction. Throws if nothing was saved; returns the writes it
    /// refused on their own (by position in the batch), the others being saved.
    typealias Commit = @Sendable (_ batch: [Write]) throws(StoreError) -> [Int: StoreError]

    private struct Pending {
        var write: Write
        var completion: Completion
    }

    private enum SubmitOutcome { case refuse, wakeCommitter, nothing }

    private struct State {
        var queue: [Pending] = []
        /// The committing thread is at work, and will look at the queue again before it stops.
        var draining = false
        var closed = false
        var waitingForIdle: [CheckedContinuation<Void, Never>] = []
    }

    /// An `NSLock` (a plain pthread mutex), not `Synchronization.Mutex`: on Linux, `Mutex` is a
    /// priority-inheritance futex, which hands a contended lock over through the kernel. With
    /// eight threads submitting, the store then spent about 4x the CPU per write and committed a
    /// quarter as many writes per second (StoreBenchmarks: 5 against 20-55 µs of CPU per write).
    private let lock = NSLock()
    private var state = State()
    private let maximumBatch: Int
    private let commit: Commit
    /// Where `drain` runs, one batch at a time.
    private let committerQueue: DispatchQueue

    init(label: String, maximumBatch: Int, commit: @escaping Commit) {
        precondition(maximumBatch > 0, "a batch holds at least one write")
        self.maximumBatch = maximumBatch
        self.commit = commit
        committerQueue = DispatchQueue(label: label, qos: .userInitiated)
    }

    /// Queues `write`; `completion` is called when it is durable or has failed. After `close()`,
    /// fails at once with `.closed`.
    func submit(_ write: Write, completion: @escaping Completion) {
        let next: SubmitOutcome = withState { state in
            guard !state.closed else { return .refuse }
            state.queue.append(Pending(write: write, completion: completion))
            guard !state.draining else { return .nothing }
            state.draining = true
            return .wakeCommitter
        }
        switch next {
        case .refuse: completion(.failure(.closed))
        case .wakeCommitter: committerQueue.async { self.drain() }
        case .nothing: break
        }
    }

    /// Refuses new writes, and returns when those already queued are committed.
    func close() async {
        await withCheckedContinuation { continuation in
            let idle = withState { state in
                state.closed = true
                if state.draining { state.waitingForIdle.append(continuation) }
                return !state.draining
            }
            if idle { continuation.resume() }
        }
    }

    private func withState<T>(_ body: (inout State) -> T) -> T {
        lock.withLock { body(&state) }
    }

    private func drain() {
        while let batch = nextBatch() {
            do {
                let refused = try commit(batch.map(\.write))
                for (index, pending) in batch.enumerated() {
                    pending.completion(refused[index].map { .failure($0) } ?? .success(()))
                }
            } catch {
                for pending in batch { pending.completion(.failure(error)) }
            }
        }
    }

    /// The writes to commit next, or nil when there are none left (then the committer is idle).
    private func nextBatch() -> [Pending]? {
        let (batch, waiting): ([Pending]?, [CheckedContinuation<Void, Never>]) = withState { state in
            if state.queue.isEmpty {
                state.draining = false
                defer { state.waitingForIdle = [] }
                return (nil, state.waitingForIdle)
            }
            if state.queue.count <= maximumBatch {
                defer { state.queue = [] }
                return (state.queue, [])
            }
            defer { state.queue.removeFirst(maximumBatch) }
            return (Array(state.queue.prefix(maximumBatch)), [])
        }
        for continuation in waiting { continuation.resume() }
        return batch
    }
}
