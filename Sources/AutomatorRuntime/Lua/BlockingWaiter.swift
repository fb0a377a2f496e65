import Dispatch
import Synchronization

/// Performs a run's host waits on the calling thread, for `Sandbox.run`: one run, nothing else
/// to do meanwhile. A kill (timeout, Ctrl-C) ends the wait with no results, and the run then
/// stops at its next instruction (the kill is set before it resumes).
final class BlockingWaiter: Sendable {
    private let wakeup = DispatchSemaphore(value: 0)
    private let interrupted = Atomic<Bool>(false)

    /// Readies the waiter for a new run: an interrupt of the last run no longer counts.
    func reset() { interrupted.store(false, ordering: .sequentiallyConsistent) }

    /// Wakes a wait in progress, or makes the next one of this run return at once.
    func interrupt() {
        interrupted.store(true, ordering: .sequentiallyConsistent)
        wakeup.signal()
    }

    func perform(_ wait: HostWait) -> Result<[LuaValue], HostError> {
        switch wait {
        case .sleep(let duration):
            let deadline = DispatchTime.now() + .nanoseconds(duration.nanoseconds)
            while !isInterrupted, DispatchTime.now() < deadline { _ = wakeup.wait(timeout: deadline) }
            return .success([])
        case .task(let work), .lookup(let work):
            return waitForCompletion { complete in
                Task {
                    do { complete(.success(try await work())) } catch let error as HostError {
                        complete(.failure(error))
                    } catch {
                        complete(.failure(HostError("\(error)")))
                    }
                }
            }
        case .callback(let start), .event(let start):
            return waitForCompletion(start)
        case .write(let store, let change):
            let write: StoreWrite, results: [LuaValue]
            do { (write, results) = try change() } catch { return .failure(HostError("\(error)")) }
            return waitForCompletion { complete in
                store.write(write) { written in complete(written.map { results }.mapError { HostError("\($0)") }) }
            }
        case .act(let store, let before, let start):
            return waitForCompletion { complete in Executor.Core.act(in: store, before: before, start, complete) }
        }
    }

    private var isInterrupted: Bool { interrupted.load(ordering: .sequentiallyConsistent) }

    private func waitForCompletion(
        _ start: (@escaping @Sendable (Result<[LuaValue], HostError>) -> Void) -> Void
    ) -> Result<[LuaValue], HostError> {
        let outcome = Mutex<Result<[LuaValue], HostError>?>(nil)
        start { result in
            outcome.withLock { if $0 == nil { $0 = result } }
            self.wakeup.signal()
        }
        while true {
            if let result = outcome.withLock({ $0 }) { return result }
            if isInterrupted { return .success([]) }
            wakeup.wait()
        }
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to what `DispatchTime` takes.
    var nanoseconds: Int {
        let (seconds, attoseconds) = components
        return Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
    }
}
