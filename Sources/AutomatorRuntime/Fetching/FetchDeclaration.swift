import Foundation

/// What an integration's `fetch = { every = "1m", source = "defender", run = ... }` declares: how
/// often `serve` asks the service for new alerts, and the source whose mapper turns them into
/// incidents (the integration's own name when it gives none), as `POST /api/v1/ingest/SOURCE` does.
public struct FetchDeclaration: Sendable, Hashable {
    /// The integration's name in the configuration: its file's, `defender`.
    public var name: String
    public var every: Duration
    public var source: String
    /// `opt_in = true`: run only where the configuration says `fetch: true`. An integration set up
    /// for its actions (crowdstrike.lua's containment) does not start opening incidents from its
    /// alerts when a new version of its file learns to fetch them.
    public var optIn: Bool

    /// The declaration's `fetch` as the inspector gives it (`every` as text), or nil when it has none.
    init?(_ info: [String: Any], integration name: String) {
        guard let fetch = info["fetch"] as? [String: Any],
              let every = (fetch["every"] as? String).flatMap(DurationText.seconds)
        else { return nil }
        self.name = name
        // The declaration refused less than a second as no duration; a second at least, whatever rounding.
        self.every = .milliseconds(max(1000, Int64(every * 1000)))
        source = fetch["source"] as? String ?? name
        optIn = fetch["opt_in"] as? Bool ?? false
    }
}
