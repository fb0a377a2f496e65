import Foundation

/// Where a page of the audit ended: `AuditQuery.after` takes it to read the next page, as
/// `GET /api/v1/audit?after=…` and `automator audit --after` take its text (`next`).
///
/// A place in the audit's order, not a count of entries: new entries (newer, at the top) do not
/// move the pages after it, so a month is read whole and once, page by page, while it grows.
/// The order is the time, newest first; at the same millisecond the journal's entries first,
/// latest written first, then the others by their reference (`AuditEntry.reference`).
public struct AuditCursor: Sendable, Hashable, CustomStringConvertible {
    /// Milliseconds since 1970.
    let at: Int64
    /// The journal's sequence of the entry; nil for one the journal does not hold.
    let sequence: Int64?
    /// What the entry is besides the journal (an action's id, a question's); empty for the journal's.
    let reference: String

    init(_ entry: AuditEntry) {
        at = entry.at.millisecondsSince1970
        sequence = entry.sequence
        reference = entry.reference ?? ""
    }

    /// Reads the text of `description`; nil for text that no page gave as its `next`.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        var padded = parts.count == 3 ? String(parts[2]).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/") : ""
        padded += String(repeating: "=", count: (4 - padded.count % 4) % 4)
        guard parts.count == 3, let at = Int64(parts[0]), let reference = Data(base64Encoded: padded)
            .flatMap({ String(data: $0, encoding: .utf8) }), parts[1].isEmpty || Int64(parts[1]) != nil
        else {
            return nil
        }
        self.at = at
        sequence = parts[1].isEmpty ? nil : Int64(parts[1])
        self.reference = reference
    }

    /// `MILLISECONDS.SEQUENCE.REFERENCE`, the reference in URL-safe base64: opaque to its readers,
    /// safe in a URL's query.
    public var description: String {
        let reference = Data(reference.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "\(at).\(sequence.map { "\($0)" } ?? "").\(reference)"
    }

    /// Whether `entry` comes after this place in the audit's order (`AuditQuery.after`).
    func precedes(_ entry: AuditEntry) -> Bool {
        Self.ordered(self, AuditCursor(entry))
    }

    /// Whether `first` comes before `second` in the audit: newer, or at the same millisecond the
    /// journal's first (latest written first), then the others by reference.
    static func ordered(_ first: AuditCursor, _ second: AuditCursor) -> Bool {
        if first.at != second.at { return first.at > second.at }
        switch (first.sequence, second.sequence) {
        case let (first?, second?): return first > second
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return first.reference < second.reference
        }
    }
}
