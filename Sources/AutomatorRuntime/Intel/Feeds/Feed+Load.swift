/// What `Feed.load()` read: the entries, and the lines or objects it skipped.
public struct FeedContents: Sendable {
    public var entries: [FeedEntry]
    /// The first 100 problems.
    public var problems: [FeedProblem]
    /// All problems, those beyond the first 100 included.
    public var problemCount: Int
}

extension Feed {
    /// Reads the feed. A broken line or object is skipped and reported; the rest is kept.
    ///
    /// - Throws: `FeedError` when the feed cannot be read at all: the file is missing, a JSON
    ///   feed is not valid JSON, a CSV header lacks a configured column, a MISP manifest is bad.
    public func load() throws(FeedError) -> FeedContents {
        var entries: [FeedEntry] = []
        let problems = try read { entries.append($0) }
        return FeedContents(entries: entries, problems: problems.problems, problemCount: problems.count)
    }

    /// Reads the feed, handing each entry to `emit` as it is read (a large feed never exists
    /// as an array of entries). Throws only before the first entry.
    func read(_ emit: (FeedEntry) -> Void) throws(FeedError) -> ProblemLog {
        var problems = ProblemLog()
        switch format {
        case .text:
            TextFeedParser.parse(try FeedFile.read(path, for: self), file: path, problems: &problems, emit: emit)
        case .csv(let columns):
            try CSVFeedParser(feed: self, columns: columns).parse(try FeedFile.read(path, for: self),
                                                                  problems: &problems, emit: emit)
        case .stix:
            try STIXFeedParser.parse(try FeedFile.read(path, for: self), feed: self, problems: &problems, emit: emit)
        case .misp:
            try MISPFeedParser(feed: self).parse(problems: &problems, emit: emit)
        }
        return problems
    }

    /// The file whose change means the feed changed: for MISP, the manifest (the MISP
    /// server rewrites it whenever an event changes).
    var watchedPath: String {
        format == .misp ? MISPFeedParser.manifestPath(of: path) : path
    }
}
