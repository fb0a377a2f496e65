import Dispatch

extension Executor {
    /// What other threads send the executor's thread, and the semaphore that wakes it.
    ///
    /// Also Swift's executor for the tasks of the executor's host calls (`Core.begin`): a task
    /// that suspends (a request, a read of the store) resumes on the executor's thread, sent by
    /// whichever thread completed what it waited for (an event loop, the store's committer), rather
    /// than in Swift's pool, whose thread would only run the task's end and hand the answer on:
    /// one thread woken fewer for each such call. Work that computes or blocks for long (hashing a
    /// file) leaves the executor's thread on its own (`inSwiftsPool`). Once the thread has ended,
    /// jobs go to Swift's pool, so that a task still in flight finishes.
    final class Inbox: TaskExecutor, @unchecked Sendable {
        private let messages = Locked<(list: [Message], open: Bool)>(([], true))
        let wakeup = DispatchSemaphore(value: 0)

        func post(_ message: Message) {
            let taken = messages.withLock { messages in
                if messages.open { messages.list.append(message) }
                return messages.open
            }
            if taken {
                wakeup.signal()
            } else {
                Self.drop(message)
            }
        }

        /// A message the thread will not take: a job runs in Swift's pool, a question is answered
        /// (no run is here any more), the rest is dropped.
        private static func drop(_ message: Message) {
            switch message {
            case .job(let job): globalConcurrentExecutor.enqueue(ExecutorJob(job))
            case .callInFlight(_, let reply): reply(nil)
            default: break
            }
        }

        /// The messages posted since the last call.
        func take() -> [Message] {
            messages.withLock { messages in
                defer { messages.list.removeAll(keepingCapacity: true) }
                return messages.list
            }
        }

        /// The executor's thread ends: what is posted from now on is dropped (`drop`), as are
        /// the messages left.
        func close() {
            let left = messages.withLock { messages in
                messages.open = false
                defer { messages.list = [] }
                return messages.list
            }
            for message in left { Self.drop(message) }
        }

        func enqueue(_ job: consuming ExecutorJob) {
            post(.job(UnownedJob(job)))
        }
    }
}

/// Runs `work` in Swift's pool whatever executor the calling task prefers: for work that computes
/// or blocks for long (hashing a file), which would otherwise hold up an executor's runs when a
/// host call's task does it (`Executor.Inbox`).
func inSwiftsPool<T, Failure: Error>(_ work: () async throws(Failure) -> T) async throws(Failure) -> T {
    try await withTaskExecutorPreference(globalConcurrentExecutor, operation: work)
}
