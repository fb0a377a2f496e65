/// Why a feed could not be read at all (as opposed to a `FeedProblem`, one line skipped). A
/// `FeedSet` keeps the feed's previous entries when its reload fails this way.
public struct FeedError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One line for a log: the feed, what is wrong and what to do.
    public let description: String

    init(_ feed: Feed, _ message: String) {
        description = "feed \"\(feed.name)\": \(message)"
    }
}
