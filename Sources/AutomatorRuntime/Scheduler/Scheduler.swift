import Foundation
import Synchronization

/// Several executors, one per core by default, so that runs compute in parallel: each run
/// lives on one executor (one Lua state, one thread) for its whole life.
///
/// ```swift
/// let scheduler = try Scheduler(modules: StandardModules.all(logger: logger))
/// scheduler.start(RunRequest(source: Array(source.utf8), chunkName: "@triage.lua")) { outcome in ... }
/// ```
public final class Scheduler: Sendable {
    private let executors: [Executor]
    /// Which executor holds each live run, so that a kill finds it.
    private let placement = Locked<[RunID: Int]>([:])
    private let turn = Atomic<Int>(0)

    /// - Parameters:
    ///   - name: the executors' threads are named after it (`executor 1`, `executor 2`; alone,
    ///     the name itself).
    ///   - executors: how many; nil for one per core.
    ///   - modules: registered into every executor's state; their functions may be called from
    ///     several threads at once, so what they share must be thread-safe.
    ///   - store: where durable runs are recorded; see `Executor`.
    public init(name: String = "executor", executors count: Int? = nil, modules: [any HostModule],
                modulePaths: [String] = [], limits: Limits = Limits(), store: (any Store)? = nil)
        throws(LuaError)
    {
        var executors: [Executor] = []
        let count = max(1, count ?? ProcessInfo.processInfo.activeProcessorCount)
        for index in 1...count {
            executors.append(try Executor(name: count == 1 ? name : "\(name) \(index)", modules: modules,
                                          modulePaths: modulePaths, limits: limits, store: store))
        }
        self.executors = executors
    }

    public var executorCount: Int { executors.count }

    /// Starts a run on the next executor in turn; see `Executor.start`.
    public func start(_ request: RunRequest, completion: @escaping @Sendable (RunOutcome) -> Void) {
        let index = turn.wrappingAdd(1, ordering: .relaxed).oldValue % executors.count
        let id = request.id
        placement.withLock { $0[id] = index }
        executors[index].start(request) { [self] outcome in
            placement.withLock { $0[id] = nil }
            completion(outcome)
        }
    }

    /// Whether the run is live here (started, not ended).
    public func isRunning(_ id: RunID) -> Bool { placement.withLock { $0[id] != nil } }

    /// The host call the run waits in, asked of the executor that holds it; nil when no executor
    /// here does (it ended, or another worker holds it), or it is not in one.
    public func callInFlight(of id: RunID) async -> HostCallInFlight? {
        guard let index = placement.withLock({ $0[id] }) else { return nil }
        return await withCheckedContinuation { continuation in
            executors[index].callInFlight(of: id) { continuation.resume(returning: $0) }
        }
    }

    /// Stops a run wherever it is; see `Executor.kill`.
    public func kill(_ id: RunID, reason: String = "killed") {
        guard let index = placement.withLock({ $0[id] }) else { return }
        executors[index].kill(id, reason: reason)
    }

    /// Stops every executor; returns when all have ended (see `Executor.shutdown`).
    public func shutdown() {
        for executor in executors { executor.shutdown() }
    }
}
