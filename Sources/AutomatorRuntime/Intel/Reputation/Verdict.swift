/// How bad a source says an indicator is: the scale users know from XSOAR's DBot score.
public enum Score: Int, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case unknown = 0, benign = 1, suspicious = 2, malicious = 3

    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .benign: "benign"
        case .suspicious: "suspicious"
        case .malicious: "malicious"
        }
    }

    public init?(name: String) {
        guard let score = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = score
    }

    public static func < (lhs: Score, rhs: Score) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How far a source is trusted, from A (completely reliable) to F (reliability cannot be
/// judged), as in the Admiralty code XSOAR uses.
public enum Reliability: String, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case a = "A", b = "B", c = "C", d = "D", e = "E", f = "F"

    /// A, the most reliable, sorts first.
    public static func < (lhs: Reliability, rhs: Reliability) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What one source (a feed, an integration) says of an indicator.
public struct SourceVerdict: Sendable, Hashable, Codable {
    public var source: String
    public var score: Score
    public var reliability: Reliability
    /// For people: `14/92 engines`, `listed in "bad-ips" (C2 of the Acme campaign)`.
    public var reason: String
    /// The source lists it as known good (an allowlist feed): it wins over every other verdict.
    public var allowlisted: Bool
    /// The source could not answer (an error, a timeout): not cached, asked again next time.
    public var failed: Bool
    /// False for an integration not asked at all, failed too: paused after its service failed,
    /// over its quota, or kept from an internal address. A verdict counts it apart.
    public var asked: Bool
    /// The pause it was not asked for, or that its failure began (`IntegrationPause`): a script
    /// tells a channel until when the findings there go unchecked by it.
    public var pause: PauseState?

    /// `VirusTotal 14/92 engines`, `local feed "bad-ips" (C2 of the Acme campaign)`.
    var said: String { reason.isEmpty ? source : source + " " + reason }

    /// - Parameter asked: false for a source not asked (`failed` then too), its `reason` saying
    ///   why in words that follow its name: `paused until 21:06:40 UTC (answered 503 at ...)`.
    public init(source: String, score: Score, reliability: Reliability, reason: String, allowlisted: Bool = false,
                failed: Bool = false, asked: Bool = true, pause: PauseState? = nil)
    {
        self.source = source
        self.score = score
        self.reliability = reliability
        self.reason = reason
        self.allowlisted = allowlisted
        self.failed = failed || !asked
        self.asked = asked
        self.pause = pause
    }
}

/// The verdict on an indicator, from every source that answered, with its reasons.
///
/// An allowlist wins and says so. Otherwise the most reliable sources that know the indicator
/// decide, and among them the worst score: a reliable "malicious" is not outvoted by
/// unreliable "benign" answers, and two equally reliable sources that disagree give the worse.
/// The sources not asked (`SourceVerdict.asked`) are not counted: the summary names them apart.
public struct Verdict: Sendable, Hashable {
    public var score: Score
    /// `malicious: 2 of 3 sources; VirusTotal 14/92 engines; local feed "bad-ips"`;
    /// `unknown: no feed lists it; not asked: VirusTotal, paused until 21:06:40 UTC (timed out
    /// after 30 s at 21:05:40 UTC)`.
    public var summary: String
    public var sources: [SourceVerdict]

    public init(_ sources: [SourceVerdict]) {
        self.sources = sources
        let asked = sources.filter(\.asked)
        let notAsked = sources.filter { !$0.asked }
        if let allow = sources.first(where: \.allowlisted) {
            score = .benign
            let others = sources.filter { !$0.allowlisted && $0.score > .benign }
            summary = "benign: allowlisted by \(allow.said)"
                + (others.isEmpty ? "" : "; wins over " + others.map { "\($0.source) \($0.score.name)" }.joined(separator: ", "))
            return
        }
        let known = sources.filter { $0.score != .unknown }
        guard let best = known.map(\.reliability).min() else {
            score = .unknown
            // Those that could not answer say why, and so do those not asked: "none knows it" is
            // not what they said, and a source paused was not asked at all.
            let failed = asked.filter(\.failed)
            let answered = switch (asked.isEmpty, notAsked.isEmpty) {
            case (false, _): "\(asked.count.counted("source")) asked, none knows it"
            case (true, false): "no feed lists it"
            case (true, true): "no feed lists it, and no integration is set up for it"
            }
            summary = "unknown: " + answered
                + (failed.isEmpty ? "" : "; could not answer: " + failed.map(\.said).joined(separator: "; "))
                + (notAsked.isEmpty ? "" : "; not asked: " + Self.why(notAsked))
            return
        }
        let worst = known.filter { $0.reliability == best }.map(\.score).max()!
        score = worst
        let agreeing = known.filter { $0.score == worst }
        // The verdict stands on those asked; the others are named, their reasons in `sources`.
        summary = "\(worst.name): \(agreeing.count) of \(asked.count.counted("source")); "
            + agreeing.map(\.said).joined(separator: "; ")
            + (notAsked.isEmpty ? "" : "; not asked: " + notAsked.map(\.source).joined(separator: ", "))
    }

    /// `VirusTotal, paused until 21:06:40 UTC (...)`; those with the same reason (an internal
    /// address's, each integration's) named once: `AbuseIPDB and VirusTotal, private address
    /// (10.0.0.0/8), not looked up`.
    private static func why(_ notAsked: [SourceVerdict]) -> String {
        var reasons: [String] = []
        var names: [String: [String]] = [:]
        for source in notAsked {
            if names[source.reason] == nil { reasons.append(source.reason) }
            names[source.reason, default: []].append(source.source)
        }
        return reasons.map { reason in
            let sources = names[reason]!
            let named = sources.count == 1 ? sources[0] : sources.dropLast().joined(separator: ", ") + " and " + sources.last!
            return "\(named), \(reason)"
        }.joined(separator: "; ")
    }
}
