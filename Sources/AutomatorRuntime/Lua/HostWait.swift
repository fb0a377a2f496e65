/// What a waiting host function waits for. The run is suspended (its coroutine yields to the
/// host) until the wait is over, then resumes with the results as the call's return values,
/// or with the error raised at the call's `file:line:`.
public enum HostWait: Sendable {
    /// Resumes the run after a duration, with no results.
    case sleep(Duration)
    /// Runs `work` as a Swift task; the run resumes with what it returns or throws.
    case task(@Sendable () async throws -> [LuaValue])
    /// Like `task`, for work that changes nothing outside (a verdict, a search): the run
    /// resumes at once, and in a durable run the outcome is recorded as the clock's is, with the
    /// next call that acts. A crash before that call makes the replay look again, and nothing
    /// outside saw the first answer.
    case lookup(@Sendable () async throws -> [LuaValue])
    /// Calls `start` with a completion, which may be called at once or later, on any thread,
    /// exactly once.
    case callback(@Sendable (_ complete: @escaping @Sendable (Result<[LuaValue], HostError>) -> Void) -> Void)
    /// Like `callback`, for an event that is itself kept elsewhere (a person completing a task):
    /// a stopping executor need not wait for it, since the replay waits again and finds it.
    case event(@Sendable (_ complete: @escaping @Sendable (Result<[LuaValue], HostError>) -> Void) -> Void)
    /// Commits the write `change` makes to `store`, then resumes the run with the results it
    /// made; a write the store refuses (an unknown incident, a task already done) fails the call
    /// with the store's reason. In a durable run on the same store, the write and the call's
    /// record commit in one transaction: the change happens exactly once, however often the run
    /// is replayed. `change` is called only when the call acts (not when a replay hands back its
    /// record), so it may take what must not be taken twice, such as a new task's number; when
    /// taking it fails (a shared store out of reach), the call fails as a write that failed.
    case write(in: any Store, _ change: @Sendable () throws(StoreError) -> (StoreWrite, results: [LuaValue]))
    /// Acts outside (an action sent through an integration): commits `before` to `store` (the
    /// action's `sending` record), then calls `start`, whose completion gives what the store must
    /// keep of the outcome with the call's results, or nil when the effect was interrupted (the
    /// process is stopping: the run is suspended unrecorded, and its replay acts again). In a
    /// durable run on the same store, `before` commits with the records not yet written, and the
    /// outcome is kept as a lookup's is: the run resumes at once, and the outcome's write and the
    /// call's record commit with the run's next write, before its next effect (or with its end).
    case act(in: any Store, before: StoreWrite, _ start: @Sendable (_ complete: @escaping @Sendable (Acted?) -> Void) -> Void)
}

/// What an effect (`HostWait.act`) left: the write that keeps it, and the call's outcome.
public struct Acted: Sendable {
    public var change: StoreWrite
    public var outcome: Result<[LuaValue], HostError>

    public init(change: StoreWrite, outcome: Result<[LuaValue], HostError>) {
        self.change = change
        self.outcome = outcome
    }
}

/// A host function that suspends the run: it reads its arguments from `call` and says what
/// to wait for. It may throw, as a `HostFunction` does, to fail at once.
public typealias WaitingHostFunction = (LuaCall) throws -> HostWait
