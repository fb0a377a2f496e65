public import Foundation

/// Where the integrations' answers are cached, so that a restart does not ask again (and spend
/// a quota) what was asked an hour ago.
public protocol IntelStore: Store {
    /// The answers kept for the indicator that have not expired at `now`.
    func cachedVerdicts(type: String, value: String, at now: Date) async throws(StoreError) -> [SourceVerdict]

    /// Every indicator looked up, with its last verdict, in the order they were first seen.
    func seenIndicators() async throws(StoreError) -> [SeenIndicator]

    /// Counts a request against the quotas named `key` (an integration's) at `now` if each has
    /// room, and returns nil; otherwise counts nothing and returns when one will. One at a time
    /// for every process and worker on the store, so that they share the quotas.
    func takeQuota(_ key: String, _ quotas: [QuotaWindow], at now: Date) async throws(StoreError) -> Date?
}

/// An indicator that was looked up, and what its last lookup said.
public struct SeenIndicator: Sendable, Hashable {
    public var type: IndicatorType
    public var value: String
    public var score: Score
    public var summary: String
    public var firstSeen: Date
    public var lastSeen: Date
    /// Its STIX object's UUIDv4, given when it was first seen and kept: every export names it alike.
    public var stixID: String

    public init(type: IndicatorType, value: String, score: Score, summary: String, firstSeen: Date, lastSeen: Date,
                stixID: String = UUID().uuidString.lowercased())
    {
        self.type = type
        self.value = value
        self.score = score
        self.summary = summary
        self.firstSeen = firstSeen.roundedToMilliseconds
        self.lastSeen = lastSeen.roundedToMilliseconds
        self.stixID = stixID
    }
}
