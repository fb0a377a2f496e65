import Foundation
import Logging

/// How long a `Retry-After` header asks to wait (RFC 9110 §10.2.3), in either of its forms:
/// delay-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`, or the two obsolete
/// forms a recipient must still read, `Wednesday, 21-Oct-26 07:28:00 GMT` and
/// `Wed Oct 21 07:28:00 2026`).
///
/// ```swift
/// let wait = RetryAfter.wait(response.headers.first(name: "retry-after"), logger: logger) ?? .seconds(1)
/// ```
enum RetryAfter {
    /// The wait `header` asks for from `now`; zero for a date already past. Nil when there is no
    /// header, or one in neither form (logged at debug level), so that the caller waits what it
    /// would without one.
    static func wait(_ header: String?, now: Date = Date(), logger: Logger) -> Duration? {
        guard let header else { return nil }
        let value = header.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(value), seconds.isFinite {
            return .milliseconds(Int64(max(0, min(seconds, 1e9)) * 1000))
        }
        if let date = date(value) {
            return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
        }
        logger.debug("ignoring Retry-After \"\(value.prefix(64))\": neither seconds nor an HTTP-date")
        return nil
    }

    /// The wait until `header`, the epoch second at which a rate-limit window resets, from `now`:
    /// Okta's `X-Rate-Limit-Reset` and CrowdStrike Falcon's `X-RateLimit-RetryAfter`, which their
    /// 429s carry instead of a `Retry-After`. Zero for a
    /// second already past; nil when there is no header or it is not a number.
    static func reset(_ header: String?, now: Date = Date()) -> Duration? {
        guard let header, let epoch = Double(header.trimmingCharacters(in: .whitespaces)), epoch.isFinite else {
            return nil
        }
        return .milliseconds(Int64(max(0, min(epoch - now.timeIntervalSince1970, 1e9)) * 1000))
    }

    /// IMF-fixdate, then RFC 850's and asctime's forms; runs of spaces read as one (asctime pads
    /// a day under 10: `Oct  1`).
    private static func date(_ value: String) -> Date? {
        let single = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: single) { return date }
        }
        return nil
    }
}
