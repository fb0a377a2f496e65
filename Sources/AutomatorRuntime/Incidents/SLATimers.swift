import Foundation

/// The SLA deadlines of open incidents, fired when due. The deadlines live in the store (an
/// incident's `slaDueAt` until `slaBreachedAt` is set); these are their timers in this process,
/// loaded again at every start, so a deadline that passed while no server ran fires at once.
final class SLATimers: Sendable {
    private let due = Locked(TimerHeap<IncidentID>())
    private let loop = Locked<Task<Void, Never>?>(nil)
    /// How often the earliest deadline is looked at: a breach is handled at most this late.
    private static let tick: Duration = .milliseconds(250)

    func schedule(_ incident: IncidentID, at date: Date) {
        due.withLock { $0.insert(incident, at: UInt64(max(0, date.millisecondsSince1970))) }
    }

    func start(_ fire: @escaping @Sendable (IncidentID) async -> Void) {
        let task = Task { [due] in
            while !Task.isCancelled {
                let now = UInt64(max(0, Date().millisecondsSince1970))
                let fired = due.withLock { timers -> [IncidentID] in
                    var fired: [IncidentID] = []
                    while let entry = timers.popDue(now: now) { fired.append(entry.value) }
                    return fired
                }
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
