import Dispatch

/// Runs `body` as a task and blocks the calling thread until it is done: for a thread of its own
/// that must wait for asynchronous work (the group committer of the PostgreSQL store, the REPL's
/// and `automator test`'s threads, a command's synchronous `run`). Never call it from Swift's
/// cooperative pool, whose few threads the task itself may need.
public func waitBlocking<T: Sendable, Failure: Error>(_ body: sending @escaping () async throws(Failure) -> T)
    throws(Failure) -> T
{
    let done = DispatchSemaphore(value: 0)
    let outcome = Locked<Result<T, Failure>?>(nil)
    Task {
        let result: Result<T, Failure>
        do throws(Failure) { result = .success(try await body()) } catch { result = .failure(error) }
        outcome.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    return try outcome.withLock { $0! }.get()
}
