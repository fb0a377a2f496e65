package import Foundation
package import Logging

/// Says in the log that requests were refused (no valid API token, a bad Slack signature): a
/// line a minute at most for each kind of refusal, the next one counting those left out. A
/// scanner sending thousands of guesses a second then costs the log a line a minute, and a
/// single refused request, as an integration whose token was revoked sends, is seen at once.
/// The line names the request's path and its sender, never what it carried as a secret.
///
/// ```swift
/// let refusals = RefusedRequests(logger: logger)
/// refusals.note("no valid API token", request: "GET /api/v1/runs", from: "10.0.0.7:51522")
/// ```
package final class RefusedRequests: Sendable {
    /// One line at most in this interval, for each kind of refusal.
    package static let interval: TimeInterval = 60

    private struct Kind {
        /// When its last line was logged.
        var logged: Date
        /// Refused since then and not logged.
        var unlogged: Int
    }

    private let logger: Logger
    private let kinds = Locked<[String: Kind]>([:])

    package init(logger: Logger) { self.logger = logger }

    /// Logs the refusal of `request` (its method and path) from `peer` because `why`, unless a
    /// refusal of that kind was logged less than `interval` ago.
    package func note(_ why: String, request: String, from peer: String?, at now: Date = Date()) {
        let unlogged: Int? = kinds.withLock { kinds in
            if let kind = kinds[why], now.timeIntervalSince(kind.logged) < Self.interval {
                kinds[why]!.unlogged += 1
                return nil
            }
            defer { kinds[why] = Kind(logged: now, unlogged: 0) }
            return kinds[why]?.unlogged ?? 0
        }
        guard let unlogged else { return }
        let more = unlogged == 0 ? "" : " (and \(unlogged.counted("more request")) of this kind since the last line)"
        logger.warning("""
            refused \(request) from \(peer ?? "an unknown address"): \(why)\(more); one line a minute at most for \
            this kind of refusal
            """)
    }
}
