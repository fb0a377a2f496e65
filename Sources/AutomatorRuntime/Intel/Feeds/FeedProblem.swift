/// A line or object of a feed that was skipped, and why; the rest of the file is used.
public struct FeedProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file, as the feed names it (for MISP, the event file).
    public var file: String
    /// The line, from 1, for text and CSV feeds (a CSV record's first line).
    public var line: Int?
    /// The object, for JSON feeds: a STIX indicator's id, a MISP event's or attribute's uuid.
    public var object: String?
    public var message: String

    public init(file: String, line: Int? = nil, object: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.object = object
        self.message = message
    }

    /// `file:line: message`, or `file: object: message`.
    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        if let object { return "\(file): \(object): \(message)" }
        return "\(file): \(message)"
    }
}

/// The problems of one load: the first `kept` in full, and how many there were in all, so a
/// file in the wrong format (a million broken lines) does not fill memory with reports.
struct ProblemLog: Sendable {
    static let kept = 100

    private(set) var problems: [FeedProblem] = []
    private(set) var count = 0

    mutating func append(_ problem: FeedProblem) {
        count += 1
        if problems.count < Self.kept { problems.append(problem) }
    }
}
