import Dispatch

/// Runs `body` as a task and blocks the calling thread until it is done: for a thread of its
/// own that must wait for asynchronous work (the group committer of the PostgreSQL store). Never
/// call it from Swift's cooperative pool, whose few threads the task itself may need.
func waitBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws(StoreError) -> T) throws(StoreError) -> T {
    let done = DispatchSemaphore(value: 0)
    let outcome = Locked<Result<T, StoreError>?>(nil)
    Task {
        let result: Result<T, StoreError>
        do throws(StoreError) { result = .success(try await body()) } catch { result = .failure(error) }
        outcome.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    return try outcome.withLock { $0! }.get()
}
