import AutomatorRuntime
import Foundation
import Logging

/// Says in the log once that the store refuses writes (a full disk), and once that it takes them
/// again. `/healthz` and `/metrics` tell the monitoring; the log said nothing while every alert was
/// answered 503, unless a run was suspended, so an operator reading it found no cause. While it
/// refuses, each look tries a write, so that health and the log recover without traffic.
struct StoreWriteWatch {
    let store: any WriteRefusingStore
    let logger: Logger

    /// Looks at the store every `interval` until cancelled.
    func run(every interval: Duration) async {
        var refusingSince: Date?
        while !Task.isCancelled {
            if refusingSince != nil { store.probeWrites() }
            switch (store.writeProblem, refusingSince) {
            case (let problem?, nil):
                refusingSince = Date()
                logger.error("""
                    the store refuses writes: \(problem); new incidents and runs are answered 503 and runs \
                    that write wait, until it takes writes again (the log says when)
                    """)
            case (nil, let since?):
                refusingSince = nil
                logger.notice("the store takes writes again, after \(DurationText.span(Date().timeIntervalSince(since)))")
            default:
                break
            }
            try? await Task.sleep(for: interval)
        }
    }
}
