package import Foundation
package import Logging

/// Says in the log that requests were refused (no valid API token, a bad Slack signature): a
/// line a minute at most for each kind of refusal. A scanner sending thousands of guesses a second
/// then costs the log a line a minute, and a single refused request, as an integration whose token
/// was revoked sends, is seen at once. Those left out are counted in a line of their own once the
/// minute is over (or in the next refusal's line, whichever comes first), so that a burst that
/// stops is still counted. A line names the request's path and its sender, never what it carried
/// as a secret.
///
/// ```swift
/// let refusals = RefusedRequests(logger: logger)
/// refusals.note("no valid API token", request: "GET /api/v1/runs", from: "10.0.0.7:51522")
/// ```
package final class RefusedRequests: Sendable {
    private struct Kind {
        /// When its last line was logged.
        var logged: Date
        /// Refused since then and not logged.
        var unlogged: Int
        /// The last of those, named in the line that counts them.
        var last = ""
        /// Whether a line counting them is due at the end of the minute.
        var counting = false
    }

    /// One line at most in this interval, for each kind of refusal.
    private let interval: TimeInterval
    private let logger: Logger
    private let kinds = Locked<[String: Kind]>([:])

    /// - Parameter interval: a minute; shorter in tests.
    package init(logger: Logger, interval: TimeInterval = 60) {
        self.logger = logger
        self.interval = interval
    }

    /// Logs the refusal of `request` (its method and path) from `peer` because `why`, unless a
    /// refusal of that kind was logged less than `interval` ago.
    package func note(_ why: String, request: String, from peer: String?, at now: Date = Date()) {
        let sender = "\(request) from \(peer ?? "an unknown address")"
        let (unlogged, countLater): (Int?, TimeInterval?) = kinds.withLock { kinds in
            if var kind = kinds[why], now.timeIntervalSince(kind.logged) < interval {
                kind.unlogged += 1
                kind.last = sender
                defer { kind.counting = true; kinds[why] = kind }
                return (nil, kind.counting ? nil : kind.logged.addingTimeInterval(interval).timeIntervalSince(now))
            }
            defer { kinds[why] = Kind(logged: now, unlogged: 0) }
            return (kinds[why]?.unlogged ?? 0, nil)
        }
        if let countLater {
            Task { [self] in
                try? await Task.sleep(for: .seconds(countLater))
                count(why)
            }
        }
        guard let unlogged else { return }
        let more = unlogged == 0 ? "" : " (and \(unlogged.counted("more request")) of this kind since the last line)"
        logger.warning("refused \(sender): \(why)\(more); \(Self.oneLine)")
    }

    /// The line that counts the refusals of a kind left out in the minute after its last line,
    /// unless the next refusal's line has counted them.
    private func count(_ why: String) {
        let (unlogged, last): (Int, String) = kinds.withLock { kinds in
            guard var kind = kinds[why], kind.counting else { return (0, "") }
            defer {
                kind.logged = kind.logged.addingTimeInterval(interval)
                (kind.unlogged, kind.counting) = (0, false)
                kinds[why] = kind
            }
            return (kind.unlogged, kind.last)
        }
        guard unlogged > 0 else { return }
        logger.warning("refused \(unlogged.counted("more request")) since the last line: \(why) (the last: \(last)); \(Self.oneLine)")
    }

    private static let oneLine = "one line a minute at most for this kind of refusal"
}
