public import Logging

/// What keeps a worker's share of the runs on a store shared by several workers
/// (`LeasingStore`), for as long as it runs: renews this worker's leases, stops here the runs
/// whose lease another worker took, and adopts the runs no worker holds (a dead worker's, whose
/// leases expired, or a stopping worker's, which it released), waking at once when one is released.
///
/// If the store cannot be reached to renew, this worker's leases will expire and other workers
/// will resume its runs: before that can happen (a lease less one period after the last renewal),
/// the keeper stops every run here, so that two workers never act for one run at once.
public struct RunLeaseKeeper: Sendable {
    private let runs: RunService
    private let store: any LeasingStore
    private let logger: Logger

    /// Nil when the service's store is not shared (SQLite): there are no leases to keep.
    public init?(runs: RunService, logger: Logger) {
        guard let store = runs.store as? any LeasingStore else { return nil }
        self.runs = runs
        self.store = store
        self.logger = logger
    }

    /// Three renewals per lease: a late one still arrives before the lease ends.
    private var period: Duration { store.leaseDuration / 3 }

    /// How often to look for runs whose lease expired: at most half a second, so that a dead
    /// worker's runs move within its lease time and a second, whatever the lease time.
    private var claimPeriod: Duration { min(period, .milliseconds(500)) }

    /// Keeps the leases until the task is cancelled.
    public func run() async {
        var renewed = ContinuousClock.now - period
        var failing = false
        while !Task.isCancelled {
            do {
                if ContinuousClock.now - renewed >= period {
                    let before = runs.liveRuns
                    let held = try await store.renewLeases(of: before)
                    renewed = .now
                    runs.abandon(before.subtracting(held))
                }
                // In slices, while there are more: the other workers claim theirs in between.
                var adopted: [UnfinishedRun] = [], claimed = 0
                repeat {
                    let slice = try await runs.adopt(from: store, limit: 64)
                    adopted += slice
                    claimed = slice.count
                } while claimed == 64 && !Task.isCancelled
                for line in Self.adoptionLines(adopted) { logger.info("\(line)") }
                failing = false
            } catch {
                // Said once, not at every try; not at all when the store says itself that its database is away.
                if !failing, !error.isDatabaseAway { logger.warning("could not renew the runs' leases: \(error)") }
                failing = true
                let live = runs.liveRuns
                if !live.isEmpty, ContinuousClock.now - renewed > store.leaseDuration - period {
                    logger.error("""
                        stopping \(live.count.counted("run")) here, whose leases expire before they \
                        can be renewed: a worker resumes them once the store is back
                        """)
                    runs.abandon(live)
                }
            }
            // Until the next claim, or the next renewal if it is due sooner; after a failure, a
            // claim's time: the store may fail at once, and the loop would spin.
            let renewal = failing ? claimPeriod : max(.zero, renewed + period - .now)
            await store.waitForReleasedRuns(timeout: min(claimPeriod, renewal))
        }
    }

    /// What the log says of the runs adopted in one look: a line per worker they came from, so that
    /// the operator learns which worker stopped or died, and that this one took its runs over.
    static func adoptionLines(_ adopted: [UnfinishedRun]) -> [String] {
        var byWorker: [String?: Int] = [:]
        for run in adopted { byWorker[run.previousWorker, default: 0] += 1 }
        return byWorker.sorted { ($0.key ?? "") < ($1.key ?? "") }.map { worker, count in
            let runs = count.counted("run")
            guard let worker else { return "resumed \(runs) that no worker held" }
            return "resumed \(runs) of worker \(worker), whose lease on them ended: it stopped, died or lost the database"
        }
    }
}
