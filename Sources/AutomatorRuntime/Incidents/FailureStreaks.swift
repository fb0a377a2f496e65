/// Failures that repeat at every alert, said in the log once: a mapper that fails on a new shape
/// of alert, or its `is_duplicate`, fails them all, and a line (and a traceback) an alert would
/// fill the log, thousands a second from a busy SIEM. A streak is said again when its reason
/// changes, and its end once, with how many failed meanwhile.
///
/// ```swift
/// if streaks.failed(source, .mapperFailed) { logger.warning("...: the next ones are not logged") }
/// if let failed = streaks.ended(source) { logger.info("... again: \(failed) failed meanwhile") }
/// ```
final class FailureStreaks<Reason: Equatable & Sendable>: Sendable {
    private struct Streak {
        var reason: Reason
        var failures: Int
    }

    /// By what fails (a source, a mapper's file).
    private let streaks = Locked<[String: Streak]>([:])

    /// Counts a failure of `key`. Whether the log should say it: the first of a streak, or one
    /// whose reason is not the last one's.
    func failed(_ key: String, _ reason: Reason) -> Bool {
        streaks.withLock { streaks in
            let previous = streaks[key]
            streaks[key] = Streak(reason: reason, failures: (previous?.failures ?? 0) + 1)
            return previous?.reason != reason
        }
    }

    /// Ends the streak of `key`, if there is one: how many failed in it.
    func ended(_ key: String) -> Int? { streaks.withLock { $0.removeValue(forKey: key)?.failures } }
}

/// Why the alerts of a source are kept as unmapped incidents (`IncidentService.ingest`).
enum UnmappedReason: Sendable {
    /// `mappers/SOURCE.lua` is missing or does not load.
    case noMapper
    /// Its `map` raised an error.
    case mapperFailed
    /// Its `map` returned no valid incident.
    case noValidIncident
}
