extension FeedIndex {
    /// Each feed that lists the indicator, as a source: an allowlist (a `benign` feed) wins over
    /// every other verdict. Local feeds are the team's own lists: reliability B.
    public func verdicts(for type: IndicatorType, value: String) -> [SourceVerdict] {
        matches(type, value).map { match in
            let score: Score = switch match.verdict {
            case .malicious: .malicious
            case .suspicious: .suspicious
            case .benign: .benign
            }
            return SourceVerdict(source: "local feed \"\(match.feed.name)\"", score: score, reliability: .b,
                                 reason: match.comment.map { "(\($0))" } ?? "",
                                 allowlisted: match.verdict == .benign)
        }
    }
}
