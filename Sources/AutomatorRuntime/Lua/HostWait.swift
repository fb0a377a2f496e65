/// What a waiting host function waits for. The run is suspended (its coroutine yields to the
/// host) until the wait is over, then resumes with the results as the call's return values,
/// or with the error raised at the call's `file:line:`.
public enum HostWait: Sendable {
    /// Resumes the run after a duration, with no results.
    case sleep(Duration)
    /// Runs `work` as a Swift task; the run resumes with what it returns or throws.
    case task(@Sendable () async throws -> [LuaValue])
    /// Calls `start` with a completion, which may be called at once or later, on any thread,
    /// exactly once.
    case callback(@Sendable (_ complete: @escaping @Sendable (Result<[LuaValue], HostError>) -> Void) -> Void)
    /// Commits `write` to `store`, then resumes the run with `results`; a write the store refuses
    /// (an unknown incident, a task already done) fails the call with the store's reason. In a
    /// durable run on the same store, the write and the call's record commit in one
    /// transaction: the change happens exactly once, however often the run is replayed.
    case write(StoreWrite, in: any Store, results: [LuaValue])
}

/// A host function that suspends the run: it reads its arguments from `call` and says what
/// to wait for. It may throw, as a `HostFunction` does, to fail at once.
public typealias WaitingHostFunction = (LuaCall) throws -> HostWait
