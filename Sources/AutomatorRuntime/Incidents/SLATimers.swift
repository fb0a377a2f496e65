import Foundation

/// The SLA deadlines of open incidents, fired when due. The deadlines live in the store (an
/// incident's `slaDueAt` until `slaBreachedAt` is set); these are their timers in this process,
/// loaded again at every start, so a deadline that passed while no server ran fires at once.
///
/// On a store that several workers share, each worker times the incidents it opened, and every
/// second also fires the deadlines no worker handled (`overdue`): the opener's died. The store
/// lets one worker mark a breach, so a deadline fired by two is handled once.
final class SLATimers: Sendable {
    private let due = Locked(TimerHeap<IncidentID>())
    private let loop = Locked<Task<Void, Never>?>(nil)
    /// How often the earliest deadline is looked at: a breach is handled at most this late.
    private static let tick: Duration = .milliseconds(250)

    func schedule(_ incident: IncidentID, at date: Date) {
        due.withLock { $0.insert(incident, at: UInt64(max(0, date.millisecondsSince1970))) }
    }

    /// How often `overdue` is asked, in ticks.
    private static let overdueTicks = 4

    func start(overdue: (@Sendable () async -> [IncidentID])?, _ fire: @escaping @Sendable (IncidentID) async -> Void) {
        let task = Task { [due] in
            var ticks = 0
            while !Task.isCancelled {
                let now = UInt64(max(0, Date().millisecondsSince1970))
                var fired = due.withLock { timers -> [IncidentID] in
                    var fired: [IncidentID] = []
                    while let entry = timers.popDue(now: now) { fired.append(entry.value) }
                    return fired
                }
                ticks += 1
                if let overdue, ticks % Self.overdueTicks == 0 { fired += await overdue() }
                for incident in fired { await fire(incident) }
                try? await Task.sleep(for: Self.tick)
            }
        }
        loop.withLock { $0 = task }
    }

    func stop() async {
        guard let task = loop.withLock({ $0 }) else { return }
        task.cancel()
        await task.value
    }
}
