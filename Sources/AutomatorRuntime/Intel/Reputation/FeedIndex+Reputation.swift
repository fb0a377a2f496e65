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
            var sources = found[position].map(Self.source)
            if let host = hosts[position] {
                sources += found[host].map { match in
                    var onHost = Self.source(match)
                    onHost.reason = "lists its host \(queries[host].value)"
                        + (onHost.reason.isEmpty ? "" : " " + onHost.reason)
                    return onHost
                }
            }
            return sources
        }
    }

    private static func source(_ match: FeedMatch) -> SourceVerdict {
        let score: Score = switch match.verdict {
        case .malicious: .malicious
        case .suspicious: .suspicious
        case .benign: .benign
        }
        return SourceVerdict(source: "local feed \"\(match.feed.name)\"", score: score, reliability: .b,
                             reason: match.comment.map { "(\($0))" } ?? "", allowlisted: match.verdict == .benign)
    }
}
