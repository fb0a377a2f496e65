public import Foundation

/// Where each integration's fetch keeps its cursor (`integration { fetch = { ... } }`), so that a
/// restart, or another worker taking the lead on a shared store, goes on from the last page whose
/// alerts were stored rather than from the service's whole history or from now (a gap).
///
/// ```swift
/// var state = try await store.fetchState("defender") ?? FetchState(name: "defender")
/// state.succeeded(cursor: "2026-05-01T10:00:00Z", at: Date())   // after the page's alerts are stored
/// try await store.keepFetchState(state)
/// ```
public protocol FetchStore: Store {
    /// Every fetch that ran here or on another worker of the store, by name.
    func fetchStates() async throws(StoreError) -> [FetchState]

    /// The fetch named `name` (its integration's); nil before its first run.
    func fetchState(_ name: String) async throws(StoreError) -> FetchState?

    /// Keeps `state` in place of the fetch's previous one.
    func keepFetchState(_ state: FetchState) async throws(StoreError)
}

/// A fetch as the store keeps it: its cursor and how its last runs went.
public struct FetchState: Sendable, Hashable {
    /// The integration's name in the configuration: its file's, `defender`.
    public var name: String
    /// What its `fetch.run` returned with the last page stored; nil before one was.
    public var cursor: String?
    public var lastSuccess: Date?
    /// The first failure since the last success, how many failed since, and the last one's error
    /// (its secrets blanked out); nil, 0 and nil while it succeeds.
    public var failingSince: Date?
    public var failures = 0
    public var lastError: String?

    public init(name: String, cursor: String? = nil, lastSuccess: Date? = nil, failingSince: Date? = nil,
                failures: Int = 0, lastError: String? = nil)
    {
        self.name = name
        self.cursor = cursor
        self.lastSuccess = lastSuccess?.roundedToMilliseconds
        self.failingSince = failingSince?.roundedToMilliseconds
        self.failures = failures
        self.lastError = lastError
    }

    /// A page's alerts were stored: `cursor` is where the next run starts (nil keeps the one it had).
    public mutating func succeeded(cursor next: String?, at now: Date) {
        cursor = next ?? cursor
        lastSuccess = now.roundedToMilliseconds
        failingSince = nil
        failures = 0
        lastError = nil
    }

    /// A run failed with `error`: the cursor stays where it was.
    public mutating func failed(_ error: String, at now: Date) {
        if failingSince == nil { failingSince = now.roundedToMilliseconds }
        failures += 1
        lastError = error
    }
}
