extension FeedIndex {
    /// What the feeds say of each indicator, as sources: its own listings and, for a URL, its
    /// host's (a URL on a listed host or network is as bad as its host). All looked up in one
    /// batch. An allowlist (a `benign` feed) wins over every other verdict; local feeds are the
    /// team's own lists: reliability B.
    ///
    /// - Parameter indicators: each of the type given, in normal form (as `Extractor` gives it).
    /// - Returns: the sources of each indicator, in the same order; empty when no feed lists it.
    public func verdicts(for indicators: [Query]) -> [[SourceVerdict]] {
        var queries = indicators
        /// The position of each URL's host among the queries.
        var hosts: [Int: Int] = [:]
        for (position, indicator) in indicators.enumerated() where indicator.type == .url {
            guard let host = ReputationService.host(of: indicator.value) else { continue }
            hosts[position] = queries.count
            queries.append(host)
        }
        let found = matches(queries)
        return indicators.indices.map { position in
            Self.sources(found[position], host: hosts[position].map { (queries[$0].value, found[$0]) })
        }
    }

    /// What a feed whose first load has not ended says: nothing yet, which is not "not listed".
    /// `failed`, like a source that could not answer: the verdict names it and its reason.
    static func stillLoading(_ feed: Feed) -> SourceVerdict {
        SourceVerdict(source: "local feed \"\(feed.name)\"", score: .unknown, reliability: .b,
                      reason: "still loading since the server started: ask again in a minute", failed: true)
    }

    /// One source a feed, however many of its entries list the indicator (an address and a
    /// network holding it, a URL and its host): a feed does not corroborate itself. Its comments
    /// are that source's reasons: `(range; host)`, `(phishing), lists its host login.evil.top (kit)`.
    private static func sources(_ own: FeedMatches, host: (value: String, matches: FeedMatches)?) -> [SourceVerdict] {
        var listings: [(feed: Feed, comments: [String], hostComments: [String]?)] = []
        func listing(of feed: Feed) -> Int {
            if let index = listings.firstIndex(where: { $0.feed.name == feed.name }) { return index }
            listings.append((feed, [], nil))
            return listings.count - 1
        }
        for match in own {
            let index = listing(of: match.feed)
            if let comment = match.comment { listings[index].comments.append(comment) }
        }
        for match in host.map({ Array($0.matches) }) ?? [] {
            let index = listing(of: match.feed)
            listings[index].hostComments = (listings[index].hostComments ?? []) + (match.comment.map { [$0] } ?? [])
        }
        return listings.map { listing in
            var reasons: [String] = []
            if !listing.comments.isEmpty { reasons.append("(" + listing.comments.joined(separator: "; ") + ")") }
            if let comments = listing.hostComments, let host {
                reasons.append("lists its host \(host.value)"
                    + (comments.isEmpty ? "" : " (" + comments.joined(separator: "; ") + ")"))
            }
            let score: Score = switch listing.feed.verdict {
            case .malicious: .malicious
            case .suspicious: .suspicious
            case .benign: .benign
            }
            return SourceVerdict(source: "local feed \"\(listing.feed.name)\"", score: score, reliability: .b,
                                 reason: reasons.joined(separator: ", "), allowlisted: listing.feed.verdict == .benign)
        }
    }
}
