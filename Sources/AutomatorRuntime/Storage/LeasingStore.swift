/// A store that several workers share: each unfinished run is leased to one worker at a time,
/// and only that worker may record its host calls and its end. A lease lasts a while and is
/// renewed by its worker; when a worker dies its leases expire, and the other workers take its
/// runs and resume them by replay.
public protocol LeasingStore: Store {
    /// This worker's name in the leases.
    var worker: String { get }

    /// How long a lease lasts unless renewed: after a worker dies, its runs resume elsewhere
    /// within this time (and the time to notice).
    var leaseDuration: Duration { get }

    /// Leases to this worker up to `limit` unfinished runs that no worker holds (their lease
    /// expired or was given up), oldest first, and returns them with their records, to resume.
    /// Workers asking at once get different runs.
    func claimRuns(limit: Int) async throws(StoreError) -> [UnfinishedRun]

    /// Extends this worker's leases on `runs`, the runs it executes; returns those it still holds
    /// (one that expired and was claimed by another worker is lost, and must stop here). A run
    /// leased to this worker but not executed here (stopped, suspended) is not renewed: its
    /// lease expires and a worker claims it.
    func renewLeases(of runs: Set<RunID>) async throws(StoreError) -> Set<RunID>

    /// Gives up this worker's leases at once (a graceful stop) and wakes the other workers, so
    /// that they take the runs without waiting for the leases to expire.
    func releaseLeases() async throws(StoreError)

    /// Gives up this worker's lease on one run that stopped here unfinished (suspended), so that
    /// a worker claims it and resumes it; nothing if another worker holds it.
    func releaseLease(of run: RunID) async throws(StoreError)

    /// The kills asked of `runs` (`StoreWrite.askToKill`) that are unfinished, with their reasons:
    /// the worker that executes a run, or claims it, carries its kill out.
    func killsAsked(of runs: Set<RunID>) async throws(StoreError) -> [RunID: String]

    /// Returns when another worker released runs, or after `timeout`: an idle worker waits here
    /// between two claims.
    func waitForReleasedRuns(timeout: Duration) async

    /// Whether the store can be reached now (`/healthz`): throws why not. Answered from what the
    /// store found within the last second when it has (every statement answered says so), so that
    /// a health check opens no connection of its own on a busy worker.
    func checkAvailability() async throws(StoreError)

    /// Calls `duties` while this worker leads the workers, cancelling them when it stops leading
    /// (its hold on the store was lost), and waits to lead again; returns when the task is
    /// cancelled. One worker at a time leads; when it dies or stops, another takes over within
    /// a third of a lease (half a second at most) and the time the store takes to notice.
    func lead(_ duties: @escaping @Sendable () async -> Void) async

    /// Tells `changed` of each change made by any worker (this one included) that a worker may be
    /// waiting on, as it commits, until the task is cancelled. After a gap in which changes may
    /// have been missed (the first call, a lost connection), `changed` is told `.unknown`.
    func followChanges(_ changed: @escaping @Sendable (SharedChange) async -> Void) async
}

/// A change that workers sharing a store are told of (`LeasingStore.followChanges`): what a run
/// on another worker may be waiting for, or what another worker keeps a copy of.
public enum SharedChange: Sendable, Hashable {
    /// A task was completed, or cancelled with its incident: the run waiting in `t:wait()` goes
    /// on, or fails.
    case taskEnded(TaskID)
    /// A run was asked to stop (`StoreWrite.askToKill`): the worker that executes it kills it.
    case killAsked(RunID)
    /// A question (`chat.ask`, `chat.approve`) was answered.
    case questionAnswered(String)
    /// The bot was told to watch or leave channels of a network.
    case chatChannels(network: String)
    /// Changes may have been missed: everything waited on is to be looked at again.
    case unknown
}
