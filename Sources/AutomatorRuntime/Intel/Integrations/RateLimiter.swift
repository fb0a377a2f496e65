import Foundation

/// A provider's quotas (VirusTotal's public key: 4 requests a minute and 500 a day): a request
/// over quota waits for a slot instead of failing. A sliding window per quota, so a burst never
/// goes over, whatever the phase of the clock.
actor RateLimiter {
    struct Quota: Sendable, Hashable {
        var requests: Int
        var period: Duration
    }

    private let quotas: [Quota]
    /// When the requests of the longest period started, oldest first.
    private var starts: [ContinuousClock.Instant] = []

    init(_ quotas: [Quota]) {
        self.quotas = quotas.filter { $0.requests > 0 }
    }

    /// No quota: a request never waits, and need not ask.
    nonisolated var isUnlimited: Bool { quotas.isEmpty }

    /// Returns when a request may start, and counts it.
    func acquire() async {
        let clock = ContinuousClock()
        while true {
            let now = clock.now
            let longest = quotas.map(\.period).max() ?? .zero
            starts.removeAll { now - $0 >= longest }
            var wakeAt: ContinuousClock.Instant?
            for quota in quotas {
                let inWindow = starts.filter { now - $0 < quota.period }
                if inWindow.count >= quota.requests {
                    let free = inWindow[inWindow.count - quota.requests] + quota.period
                    wakeAt = max(wakeAt ?? free, free)
                }
            }
            guard let wakeAt else {
                starts.append(now)
                return
            }
            try? await Task.sleep(until: wakeAt, clock: clock)
        }
    }
}
