import NIOCore

/// Swift's executor for a task that should run on a SwiftNIO event loop: its jobs are the loop's
/// work, so a task that suspends (a commit of the store) resumes on the loop that will write its
/// answer, not in Swift's pool, which would only wake to hand the answer back to the loop.
///
/// ```swift
/// Task.immediate(executorPreference: EventLoopTaskExecutor(channel.eventLoop)) { ... }
/// ```
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
