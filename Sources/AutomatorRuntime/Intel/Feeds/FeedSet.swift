public import Foundation
public import Logging

/// Feeds loaded at start and reloaded when their files change, with one index over all.
///
/// Files are looked at when the index is asked for, at most once a second (as the playbook
/// catalog does). The changed feeds are read again and the index rebuilt on a thread of the
/// set's own: a feed of a million lines takes seconds, which the thread that noticed the change
/// (an executor's, a request's) would otherwise spend while its other work waits. Lookups answer
/// from the previous version until the new one is swapped in, and the log says when a reload
/// starts and ends. A reload that fails (the file is gone, a JSON feed does not parse) keeps
/// that feed's previous entries and says why, in the log and in its `FeedStatus`; the file is
/// tried again when it changes again.
///
/// For many lookups, take `index` once and look up in it: the index is immutable and needs no
/// lock, where each `matches(_:_:)` on the set takes one to check the files' age.
///
/// ```swift
/// let feeds = FeedSet(feeds: configuration.feeds, logger: logger)
/// let index = feeds.index
/// let listed = index.matches(.domain, "login.evil.example").contains { $0.verdict == .malicious }
/// ```
public final class FeedSet: Sendable {
    /// As given; matches come in this order.
    public let feeds: [Feed]
    private let logger: Logger
    /// How long `lookupIndex()` waits for a first load in the background to end.
    private let firstLoadWait: Duration
    private let state: Locked<State>

    private struct State {
        var index: FeedIndex
        var statuses: [FeedStatus]
        /// Of each feed's watched file when it was last read; nil if it could not be looked at.
        var signatures: [FeedFile.Signature?]
        var checkedAt: ContinuousClock.Instant
        /// A reload is in progress: no other starts, and lookups answer from `index` meanwhile.
        var reloading: Bool
        /// The feeds whose first load, in the background, has not ended: `index` lacks them.
        var loading: [Feed]
    }

    /// When the feeds are first read.
    public enum FirstLoad: Sendable {
        /// Before the initializer returns, on the calling thread: for a command that looks up
        /// and exits.
        case now
        /// On the set's own thread, the initializer returning at once: for a server, which
        /// should not wait for a large feed to listen. A reputation call (`lookupIndex()`) waits
        /// up to `wait` for that load to end, then answers that the feeds are still loading.
        case inBackground(wait: Duration)
    }

    /// Reads every feed, now or in the background. A feed that cannot be read is logged and
    /// reported in `statuses`, and read again once its file changes.
    public init(feeds: [Feed], logger: Logger, firstLoad: FirstLoad = .now) {
        self.feeds = feeds
        self.logger = logger
        let signatures = feeds.map { FeedFile.signature($0.watchedPath) }
        let background: Bool
        switch firstLoad {
        case .now: (firstLoadWait, background) = (.zero, false)
        case .inBackground(let wait): (firstLoadWait, background) = (wait, true)
        }
        state = Locked(State(index: FeedIndex(storage: IndexRecords().build(feeds: feeds)),
                             statuses: feeds.map(FeedStatus.init), signatures: signatures, checkedAt: .now,
                             reloading: !feeds.isEmpty, loading: background ? feeds : []))
        guard !feeds.isEmpty else { return }
        let every = Dictionary(uniqueKeysWithValues: signatures.enumerated().map { ($0.offset, $0.element) })
        if background { startReload(every) } else { reload(every, background: false) }
    }

    /// The current index, after starting a reload of the feeds whose files changed, if a second
    /// has passed since they were last looked at.
    public var index: FeedIndex { lookAtFiles(force: false).index }

    /// The listings of an indicator in the current index: see `FeedIndex.matches(_:_:)`.
    public func matches(_ type: IndicatorType, _ value: String) -> FeedMatches {
        index.matches(type, value)
    }

    /// The index a reputation call looks up in, and the feeds it lacks because their first load
    /// has not ended. While one has not, this waits for it (without holding a thread), up to the
    /// wait `FirstLoad.inBackground` gave.
    public func lookupIndex() async -> (index: FeedIndex, loading: [Feed]) {
        if state.withLock({ !$0.loading.isEmpty }) {
            await wait(atMost: firstLoadWait) { $0.loading.isEmpty }
        }
        // `loading` first: the load that empties it swaps its index in under the same lock.
        let loading = state.withLock { $0.loading }
        return (index, loading)
    }

    /// Each feed's last load: entries, problems, and why the last attempt failed, if it did.
    public var statuses: [FeedStatus] {
        state.withLock { $0.statuses }
    }

    /// Looks at the files now, however recently they were looked at, and returns once the feeds
    /// that changed are reloaded.
    public func refresh() async {
        // A reload in progress may have looked at the files before they changed: look after it.
        while !lookAtFiles(force: true).looked {
            await wait { !$0.reloading }
        }
        await wait { !$0.reloading }
    }

    /// The current index, after looking at the files if a second has passed since the last look
    /// (or `force`) and no reload is in progress, and starting a reload of those that changed.
    /// `looked` says whether this call looked.
    private func lookAtFiles(force: Bool) -> (index: FeedIndex, looked: Bool) {
        let now = ContinuousClock.now
        let (current, signatures) = state.withLock { state -> (FeedIndex, [FeedFile.Signature?]?) in
            guard !state.reloading, force || now - state.checkedAt >= .seconds(1) else { return (state.index, nil) }
            state.reloading = true
            state.checkedAt = now
            return (state.index, state.signatures)
        }
        guard let signatures else { return (current, false) }
        var changed: [Int: FeedFile.Signature?] = [:]
        for (position, feed) in feeds.enumerated() {
            let signature = FeedFile.signature(feed.watchedPath)
            if signature != signatures[position] { changed[position] = signature }
        }
        if changed.isEmpty { state.withLock { $0.reloading = false } } else { startReload(changed) }
        return (current, true)
    }

    /// Runs `reload` on a thread of its own. Not a task: reading and indexing a large feed is
    /// seconds of CPU, which would hold one of the few threads of Swift's concurrency pool (two
    /// on two cores) that the server's requests run on.
    private func startReload(_ changed: [Int: FeedFile.Signature?]) {
        let thread = Thread { [self] in reload(changed, background: true) }
        thread.name = "feeds"
        thread.start()
    }

    /// Reads the feeds at `changed` (with their files' signatures from before the read), rebuilds
    /// the index with them and swaps it in; the feeds that fail keep what the current index has
    /// of them. Logs the start and the end (at `debug` when the caller waits for it, a command).
    private func reload(_ changed: [Int: FeedFile.Signature?], background: Bool) {
        let started = ContinuousClock.now
        let level: Logger.Level = background ? .info : .debug
        let positions = changed.keys.sorted()
        let (current, previous) = state.withLock { ($0.index, $0.statuses) }
        for position in positions {
            let (name, size) = (feeds[position].name, Self.size(feeds[position], changed[position]!))
            let text = previous[position].loadedAt == nil ? "loading feed \(name)\(size)"
                : "reloading feed \(name)\(size), which changed: lookups answer from its previous version until then"
            logger.log(level: level, "\(text)")
        }
        // Each feed into records of its own, then added to the whole: read straight into one, the
        // index of a million entries kept 1.1 bytes more an indicator resident (FeedBenchmark).
        var records = IndexRecords()
        var statuses: [Int: FeedStatus] = [:]
        for position in positions {
            var status = previous[position]
            if let own = Self.load(feeds[position], at: position, into: &status) { records.add(own) }
            statuses[position] = status
        }
        let reloaded = Set(statuses.filter { $0.value.failure == nil }.keys)
        var index = current
        if !reloaded.isEmpty {
            // A feed that failed keeps what the current index has of it.
            records.add(current.storage) { !reloaded.contains($0) }
            index = FeedIndex(storage: records.build(feeds: feeds))
        }
        state.withLock { state in
            state.index = index
            for (position, signature) in changed { state.signatures[position] = signature }
            for (position, status) in statuses { state.statuses[position] = status }
            state.reloading = false
            state.loading = []
        }
        let took = (ContinuousClock.now - started).components
        let seconds = String(format: "%.1f s", Double(took.seconds) + Double(took.attoseconds) / 1e18)
        for position in positions {
            let (name, status, before) = (feeds[position].name, statuses[position]!, previous[position])
            if let failure = status.failure {
                let text = before.loadedAt == nil ? "feed \(name) is not loaded: \(failure)"
                    : "\(failure): the feed keeps the \(status.entryCount.counted("entry", "entries")) of its previous version"
                logger.error("\(text)")
            } else {
                let loaded = before.loadedAt == nil ? "loaded" : "reloaded"
                logger.log(level: level, "feed \(name) \(loaded): \(status.entryCount.counted("entry", "entries")) in \(seconds)")
                for problem in status.problems { logger.warning("feed \(name): \(problem)") }
            }
        }
    }

    /// ` (39.2 MB)`: the size of a feed's file, for the log; nothing for a MISP folder, whose
    /// watched file is its manifest.
    private static func size(_ feed: Feed, _ signature: FeedFile.Signature?) -> String {
        guard feed.format != .misp, let signature else { return "" }
        return " (" + String(format: "%.1f MB", Double(signature.size) / 1_000_000) + ")"
    }

    /// Until `done` holds of the state, or `atMost` has passed. Looks every 20 ms: what it waits
    /// for is a load of seconds, rare (at start, or once a feed changed), and a few wakes a
    /// second then cost nothing beside it.
    private func wait(atMost: Duration? = nil, until done: (State) -> Bool) async {
        let deadline = atMost.map { ContinuousClock.now + $0 }
        while !state.withLock({ done($0) }) {
            if let deadline, ContinuousClock.now >= deadline { return }
            do { try await Task.sleep(for: .milliseconds(20)) } catch { return }  // cancelled
        }
    }

    /// Reads `feed` into fresh records, and notes the outcome in `status`: the new counts, or the
    /// failure (the counts stay those of the load before, whose entries are kept).
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
