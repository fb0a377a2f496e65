public import Foundation
import Synchronization

/// The local feeds, as a `FeedSet` keeps them.
public protocol FeedLookup: Sendable {
    /// The current index, which a reputation call takes once and looks up in without a lock,
    /// and the feeds it lacks because they are still loading (see `FeedSet.lookupIndex()`).
    func lookupIndex() async -> (index: FeedIndex, loading: [Feed])
    /// Each feed's last load, for `/metrics`.
    var statuses: [FeedStatus] { get }
}

/// Is this IP, URL, domain, file or hash bad, and why: the local feeds and every integration
/// that handles the indicator's kind, asked at once, their answers cached in the store (a
/// restart keeps them) for as long as their score says, aggregated into one `Verdict`.
public final class ReputationService: Sendable {
    /// Replaced whole by `reconfigure(feeds:)`; a call takes it once.
    private let feeds: Mutex<(any FeedLookup)?>
    private let integrations: Integrations?
    private let cache: (any IntelStore)?
    /// Seconds a verdict is cached, by score; replaced by `reconfigure(ttl:)`.
    private let ttl: Mutex<[Score: TimeInterval]>

    public init(feeds: (any FeedLookup)?, integrations: Integrations?, cache: (any IntelStore)?,
                ttl: [Score: TimeInterval] = IntelConfiguration().cacheTTL)
    {
        self.feeds = Mutex(feeds)
        self.integrations = integrations
        self.cache = cache
        self.ttl = Mutex(ttl)
    }

    /// Caches the verdicts from now on for `ttl` (serve's SIGHUP, `cache` in the configuration);
    /// those cached already keep the time they were given.
    public func reconfigure(ttl: [Score: TimeInterval]) { self.ttl.withLock { $0 = ttl } }

    /// Looks up in `feeds` from the next call on (serve's SIGHUP, a new list of feeds, loaded
    /// before it is given here); the calls in flight finish on the feeds they took.
    public func reconfigure(feeds: (any FeedLookup)?) { self.feeds.withLock { $0 = feeds } }

    /// Each feed's last load: entries, problems, failures.
    public var feedStatuses: [FeedStatus] { feeds.withLock { $0 }?.statuses ?? [] }

    /// The verdict on `value`, an indicator of `type` in normal form (as `Extractor` gives it).
    /// Feeds are read every time (they are local and may have changed); integrations answer from
    /// the cache while their answers are fresh. The cache speaks only for the integrations in use:
    /// when none looks up this kind, it is not read at all (a read of the store for each message the
    /// chat bot answered from its feeds alone), and an answer cached by an integration since taken
    /// out of the configuration is not heard.
    public func reputation(of type: IndicatorType, _ value: String) async -> Verdict {
        // One index for the call: the indicator and a URL's host are looked up in the same feeds.
        var sources: [SourceVerdict] = []
        if let (index, loading) = await feeds.withLock({ $0 })?.lookupIndex() {
            sources = index.verdicts(for: [(type, value)])[0] + loading.map(FeedIndex.stillLoading)
        }
        if let kind = Self.kind(of: type), let integrations, case let inUse = integrations.sources(for: kind),
           !inUse.isEmpty
        {
            let now = Date()
            let cached = ((try? await cache?.cachedVerdicts(type: type.rawValue, value: value, at: now)) ?? [])
                .filter { inUse.contains($0.source) }
            let fresh = await integrations.reputation(kind: kind, value: value, excluding: Set(cached.map(\.source)))
            let ttl = self.ttl.withLock { $0 }
            let keep = fresh.filter { !$0.failed }.map { ($0, now.addingTimeInterval(ttl[$0.score] ?? 3600)) }
            if let cache, !keep.isEmpty {
                _ = try? await cache.write(.cacheVerdicts(type: type.rawValue, value: value, keep))
            }
            sources += (cached + fresh).sorted { $0.source < $1.source }
        }
        let verdict = Verdict(sources)
        let now = Date()
        // Not waited for: the store applies writes in order, so the note is durable before the
        // record of the call that saw this verdict, and the answer waits for no commit of its own.
        cache?.write(.noteIndicator(SeenIndicator(type: type, value: value, score: verdict.score,
                                                  summary: verdict.summary, firstSeen: now, lastSeen: now))) { _ in }
        return verdict
    }

    /// The verdicts on `indicators`, in their order, all asked at once: a source that is slow or
    /// down (an integration's retries take up to a minute) costs the wait once, not once each.
    public func reputations(of indicators: [(type: IndicatorType, value: String)]) async -> [Verdict] {
        await withTaskGroup(of: (Int, Verdict).self) { group in
            for (index, indicator) in indicators.enumerated() {
                group.addTask { (index, await self.reputation(of: indicator.type, indicator.value)) }
            }
            var verdicts = [Verdict?](repeating: nil, count: indicators.count)
            for await (index, verdict) in group { verdicts[index] = verdict }
            return verdicts.compactMap(\.self)
        }
    }

    /// The verdict on each hash of `bytes` (MD5, SHA-1, SHA-256), and the hashes.
    public func reputation(ofFile bytes: [UInt8]) async -> (hashes: FileHashes, verdict: Verdict) {
        let hashes = FileHashes(bytes)
        var sources: [SourceVerdict] = []
        for (type, value) in [(IndicatorType.sha256, hashes.sha256), (.sha1, hashes.sha1), (.md5, hashes.md5)] {
            for source in await reputation(of: type, value).sources {
                // A source that knows the file by several of its hashes is one source about one
                // file: it does not corroborate itself ("3 of 3 sources" from one feed). Its
                // answer for the strongest hash it knows stands.
                guard let known = sources.firstIndex(where: { $0.source == source.source }) else {
                    sources.append(source)
                    continue
                }
                if sources[known].failed || sources[known].score == .unknown, !source.failed, source.score != .unknown {
                    sources[known] = source
                }
            }
        }
        return (hashes, Verdict(sources))
    }

    /// The kind integrations are asked about for `type`; nil for what they do not look up (CVEs).
    public static func kind(of type: IndicatorType) -> String? {
        switch type {
        case .ipv4, .ipv6: "ip"
        case .domain: "domain"
        case .url: "url"
        case .email: "email"
        case .md5, .sha1, .sha256, .sha512: "file"
        case .cve: nil
        }
    }

    /// The host of a URL in normal form, as a domain or an address.
    static func host(of url: String) -> (type: IndicatorType, value: String)? {
        Extractor.extract(Array(url.utf8)).first { [.domain, .ipv4, .ipv6].contains($0.type) }.map { ($0.type, $0.value) }
    }

    /// What `NormalForms.indicator(_:)` takes, for the error when it finds none: a domain alone is one under
    /// a public suffix, which surprises for names such as `evil.example` or `dc01.corp.local`.
    public static let indicators = "an IP, domain, URL, e-mail address, hash or CVE (a domain ends in a public "
        + "suffix such as .com or .co.uk: internal and reserved names such as dc01.corp.local or evil.example are not "
        + "looked up)"
}
