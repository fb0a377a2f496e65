import Foundation
import Logging

/// A provider's quotas (VirusTotal's public key: 4 requests a minute and 500 a day): a request
/// over quota waits for a slot instead of failing. A sliding window per quota, so a burst never
/// goes over, whatever the phase of the clock.
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

    init(_ quotas: [QuotaWindow], key: String, store: (any IntelStore)?, logger: Logger) {
        self.quotas = quotas.filter { $0.requests > 0 }
        self.key = key
        self.store = store
        self.logger = logger
    }

    /// No quota: a request never waits, and need not ask.
    nonisolated var isUnlimited: Bool { quotas.isEmpty }

    /// Returns true when a request may start, and counts it; false if the task was cancelled
    /// while it waited (nothing counted: the request is not to be made).
    func acquire() async -> Bool {
        while !Task.isCancelled {
            let now = Date()
            guard let free = await take(at: now) else { return true }
            try? await Task.sleep(for: .milliseconds(max(1, free.millisecondsSince1970 - now.millisecondsSince1970)))
        }
        return false
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
