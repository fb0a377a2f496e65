import Foundation
import Logging

/// A provider's quotas (VirusTotal's public key: 4 requests a minute and 500 a day): a request
/// over quota waits for a slot when one frees within `longestWait`, and is refused otherwise.
/// A sliding window per quota, so a burst never goes over, whatever the phase of the clock.
///
/// Refused rather than waiting for hours: a daily quota used up would stall a playbook past its
/// SLA and leave the chat bot silent, where an answer saying "not checked, quota used up until
/// 14:02 UTC" lets a person decide.
///
/// The requests are counted in the store when there is one (`IntelStore.takeQuota`): every
/// worker sharing it, and `automator intel lookup` beside a server, then spend one quota between
/// them, and a restart remembers the day's count. In memory otherwise, and while the store fails
/// (lookups go on; the log says so).
actor RateLimiter {
    private let quotas: [QuotaWindow]
    /// The quotas' name in the store: the integration's file name.
    private let key: String
    private let store: (any IntelStore)?
    private let logger: Logger
    /// When the requests counted in memory started (milliseconds since 1970), oldest first.
    private var starts: [Int64] = []
    private var storeFailed = false
    /// How long a request may wait for a slot: a burst over a minute's quota waits its turn, a
    /// day's quota used up answers at once.
    private static let longestWait = Duration.seconds(5)
    /// Until when the log has said the quota is used up: once a window, not once a lookup.
    private var reportedUntil: Date?

    init(_ quotas: [QuotaWindow], key: String, store: (any IntelStore)?, logger: Logger) {
        self.quotas = quotas.filter { $0.requests > 0 }
        self.key = key
        self.store = store
        self.logger = logger
    }

    /// No quota: a request never waits, and need not ask.
    nonisolated var isUnlimited: Bool { quotas.isEmpty }

    /// Whether a request may start.
    enum Permit: Sendable {
        /// Counted: make the request.
        case granted
        /// The task was cancelled while it waited; nothing counted.
        case cancelled
        /// No slot frees within `longestWait`; nothing counted.
        case usedUp(QuotaUsedUp)
    }

    /// Counts a request and grants it, after waiting for a slot if one frees within
    /// `longestWait`; otherwise refuses it at once, saying until when the quota is used up.
    func acquire() async -> Permit {
        let deadline = Date().addingTimeInterval(Double(Self.longestWait.nanoseconds) / 1e9)
        while !Task.isCancelled {
            let now = Date()
            guard let free = await take(at: now) else { return .granted }
            guard free <= deadline else { return .usedUp(usedUp(until: free, at: now)) }
            try? await Task.sleep(for: .milliseconds(max(1, free.millisecondsSince1970 - now.millisecondsSince1970)))
        }
        return .cancelled
    }

    /// Which quota is used up, told to the log once until it frees. The store says only when the
    /// next slot frees, not for which quota: the shortest window that lasts that long is the one
    /// (a wait of hours is the day's quota), which is right but at the very end of a longer window.
    private func usedUp(until free: Date, at now: Date) -> QuotaUsedUp {
        let wait = free.millisecondsSince1970 - now.millisecondsSince1970
        let quota = quotas.sorted { $0.milliseconds < $1.milliseconds }.first { $0.milliseconds >= wait } ?? quotas[0]
        let usedUp = QuotaUsedUp(quota: quota, until: free, now: now)
        if reportedUntil.map({ now >= $0 }) ?? true {
            logger.warning("integration \(key): \(usedUp); its lookups answer unknown until then")
            reportedUntil = free
        }
        return usedUp
    }

    /// Nil when the request is counted; otherwise when to ask again.
    private func take(at now: Date) async -> Date? {
        if let store {
            do throws(StoreError) {
                let free = try await store.takeQuota(key, quotas, at: now)
                if storeFailed { logger.info("integration \(key): its quota is counted in the store again") }
                storeFailed = false
                return free
            } catch {
                if !storeFailed {
                    logger.warning("integration \(key): its quota cannot be counted in the store (\(error)); counted here meanwhile")
                }
                storeFailed = true
            }
        }
        let time = now.millisecondsSince1970
        let longest = quotas.map(\.milliseconds).max() ?? 0
        starts.removeAll { time - $0 >= longest }
        if let free = quotas.firstFree(after: starts, at: time) { return Date(millisecondsSince1970: free) }
        starts.append(time)
        return nil
    }
}

/// At most `requests` in any `milliseconds`.
public struct QuotaWindow: Sendable, Hashable {
    public var requests: Int
    public var milliseconds: Int64

    public init(requests: Int, period: Duration) {
        self.requests = requests
        milliseconds = period.components.seconds * 1000 + period.components.attoseconds / 1_000_000_000_000_000
    }
}

extension QuotaWindow: CustomStringConvertible {
    /// `500 a day`, `4 a minute`, `2 a second`.
    public var description: String {
        switch milliseconds {
        case 86_400_000: "\(requests) a day"
        case 3_600_000: "\(requests) an hour"
        case 60_000: "\(requests) a minute"
        case 1000: "\(requests) a second"
        default: "\(requests) in \(milliseconds) ms"
        }
    }
}

/// A request refused because `quota` has no slot until `until`.
struct QuotaUsedUp: Sendable, CustomStringConvertible {
    var quota: QuotaWindow
    var until: Date
    /// When it was refused, for how long it is to wait.
    var now: Date

    /// `quota of 500 a day used up until 14:02:07 UTC (in 3h 12m)`.
    var description: String {
        let time = until.formatted(Date.ISO8601FormatStyle()).dropFirst(11).prefix(8)
        return "quota of \(quota) used up until \(time) UTC (in \(ReportText.duration(until.timeIntervalSince(now))))"
    }
}

extension [QuotaWindow] {
    /// When a request may start (milliseconds since 1970), given when the earlier ones started
    /// (`starts`, oldest first): nil if it may start `now`.
    func firstFree(after starts: [Int64], at now: Int64) -> Int64? {
        var free: Int64?
        for quota in self {
            let inWindow = starts.filter { now - $0 < quota.milliseconds }
            guard inWindow.count >= quota.requests else { continue }
            let slot = inWindow[inWindow.count - quota.requests] + quota.milliseconds
            free = Swift.max(free ?? slot, slot)
        }
        return free
    }
}
