public import Foundation

/// Feeds loaded once at start and reloaded when their files change, with one index over all.
///
/// Files are looked at when the index is asked for, at most once a second (as the playbook
/// catalog does), and the changed feeds are read again and the index rebuilt, on the asking
/// thread; other threads go on with the index they have. A reload that fails (the file is
/// gone, a JSON feed does not parse) keeps that feed's previous entries and says why in its
/// `FeedStatus`; the file is tried again when it changes again.
///
/// For many lookups, take `index` once and look up in it: the index is immutable and needs no
/// lock, where each `matches(_:_:)` on the set takes one to check the files' age.
///
/// ```swift
/// let feeds = FeedSet(feeds: configuration.feeds)
/// let index = feeds.index
/// let listed = index.matches(.domain, "login.evil.example").contains { $0.verdict == .malicious }
/// ```
public final class FeedSet: Sendable {
    /// As given; matches come in this order.
    public let feeds: [Feed]
    private let state: Locked<State>

    private struct State {
        var index: FeedIndex
        var statuses: [FeedStatus]
        /// Of each feed's watched file when it was last read; nil if it could not be looked at.
        var signatures: [FeedFile.Signature?]
        var checkedAt: ContinuousClock.Instant
        /// A thread is reading changed feeds: others keep the current index meanwhile.
        var refreshing = false
    }

    /// Loads every feed now. A feed that cannot be read is reported in `statuses` and read
    /// again once its file changes.
    public init(feeds: [Feed]) {
        self.feeds = feeds
        var records = IndexRecords()
        var statuses: [FeedStatus] = []
        var signatures: [FeedFile.Signature?] = []
        for (position, feed) in feeds.enumerated() {
            signatures.append(FeedFile.signature(feed.watchedPath))
            var status = FeedStatus(feed: feed)
            if let fresh = Self.load(feed, at: position, into: &status) { records.add(fresh) }
            statuses.append(status)
        }
        let index = FeedIndex(storage: records.build(feeds: feeds))
        state = Locked(State(index: index, statuses: statuses, signatures: signatures, checkedAt: .now))
    }

    /// The current index, after reloading the feeds whose files changed, if a second has
    /// passed since they were last looked at.
    public var index: FeedIndex { refreshed(force: false) }

    /// The listings of an indicator in the current index: see `FeedIndex.matches(_:_:)`.
    public func matches(_ type: IndicatorType, _ value: String) -> FeedMatches {
        index.matches(type, value)
    }

    /// Each feed's last load: entries, problems, and why the last attempt failed, if it did.
    public var statuses: [FeedStatus] {
        state.withLock { $0.statuses }
    }

    /// Looks at the files now, however recently they were looked at, and reloads those that
    /// changed; returns at once if another thread is doing so.
    public func refresh() {
        _ = refreshed(force: true)
    }

    private func refreshed(force: Bool) -> FeedIndex {
        let now = ContinuousClock.now
        let (current, signatures) = state.withLock { state -> (FeedIndex, [FeedFile.Signature?]?) in
            guard !state.refreshing, force || now - state.checkedAt >= .seconds(1) else { return (state.index, nil) }
            state.refreshing = true
            state.checkedAt = now
            return (state.index, state.signatures)
        }
        guard let signatures else { return current }

        var changed: [Int: FeedFile.Signature?] = [:]
        for (position, feed) in feeds.enumerated() {
            let signature = FeedFile.signature(feed.watchedPath)
            if signature != signatures[position] { changed[position] = signature }
        }
        var statuses: [Int: FeedStatus] = [:]
        var fresh: [IndexRecords] = []
        let previous = state.withLock { $0.statuses }
        for position in changed.keys.sorted() {
            var status = previous[position]
            if let records = Self.load(feeds[position], at: position, into: &status) { fresh.append(records) }
            statuses[position] = status
        }
        var index = current
        if !fresh.isEmpty {
            // The feeds that did not load keep what the current index has of them.
            let reloaded = Set(statuses.filter { $0.value.failure == nil }.keys)
            var records = IndexRecords()
            records.add(current.storage) { !reloaded.contains($0) }
            for load in fresh { records.add(load) }
            index = FeedIndex(storage: records.build(feeds: feeds))
        }
        return state.withLock { state in
            state.index = index
            for (position, signature) in changed { state.signatures[position] = signature }
            for (position, status) in statuses { state.statuses[position] = status }
            state.refreshing = false
            return index
        }
    }

    /// Reads `feed` into fresh records, and notes the outcome in `status`: the new counts,
    /// or the failure (the counts stay those of the load before, whose entries are kept).
    private static func load(_ feed: Feed, at position: Int, into status: inout FeedStatus) -> IndexRecords? {
        var records = IndexRecords()
        var count = 0
        do throws(FeedError) {
            let problems = try feed.read { entry in
                records.add(entry, feed: position)
                count += 1
            }
            status.entryCount = count
            status.problems = problems.problems
            status.problemCount = problems.count
            status.loadedAt = Date()
            status.failure = nil
            return records
        } catch {
            status.failure = error
            return nil
        }
    }
}

/// A feed's last load, as a `FeedSet` keeps it.
public struct FeedStatus: Sendable {
    public let feed: Feed
    /// The entries its last successful load read, which the index holds (repeats included).
    public internal(set) var entryCount = 0
    /// The first 100 lines or objects that load skipped.
    public internal(set) var problems: [FeedProblem] = []
    public internal(set) var problemCount = 0
    /// When that load happened; nil if the feed never loaded.
    public internal(set) var loadedAt: Date?
    /// Why the last attempt to read the feed failed, nil if it did not: the index keeps the
    /// entries of the load before (none if it never loaded).
    public internal(set) var failure: FeedError?

    init(feed: Feed) {
        self.feed = feed
    }
}
