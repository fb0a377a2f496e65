/// A feed that lists an indicator, and why.
public struct FeedMatch: Sendable, Hashable, CustomStringConvertible {
    public let feed: Feed
    /// The listing's comment: its line's, CSV column's, STIX name, MISP comment or event info.
    public let comment: String?

    public var verdict: FeedVerdict { feed.verdict }

    /// `feed-name (verdict): comment`.
    public var description: String {
        "\(feed.name) (\(feed.verdict.rawValue))" + (comment.map { ": " + $0 } ?? "")
    }
}

/// Every listing of one indicator, in the order of the feeds, then of each comment's first
/// appearance in its feed; the same feed and comment once, however many entries (an address
/// and a network holding it, a domain and its parent) gave it.
///
/// A view into the index: a lookup that misses, or hits one entry, allocates nothing.
public struct FeedMatches: RandomAccessCollection, Sendable {
    private enum Origins: Sendable {
        /// One table slot's reference (see `OriginLists`).
        case ref(UInt32)
        /// Several entries matched: their origins, ascending.
        case several([UInt32])
    }

    private let storage: FeedIndex.Storage?
    private let origins: Origins
    public let endIndex: Int

    public var startIndex: Int { 0 }

    init(storage: FeedIndex.Storage, ref: UInt32) {
        if ref == 0 {
            (self.storage, origins, endIndex) = (nil, .ref(0), 0)
        } else {
            (self.storage, origins) = (storage, .ref(ref))
            endIndex = ref & OriginLists.listFlag == 0 ? 1 : Int(storage.lists[Int(ref & ~OriginLists.listFlag)])
        }
    }

    init(storage: FeedIndex.Storage, origins: [UInt32]) {
        (self.storage, self.origins, endIndex) = (storage, .several(origins), origins.count)
    }

    public subscript(position: Int) -> FeedMatch {
        precondition(position >= 0 && position < endIndex, "FeedMatches index out of range")
        let storage = storage!
        let id = switch origins {
        case .ref(let ref):
            OriginLists.origins(of: ref, in: storage.lists).dropFirst(position).first!
        case .several(let origins): origins[position]
        }
        let origin = storage.origins[Int(id)]
        return FeedMatch(feed: storage.feeds[Int(origin.feed)], comment: storage.comments[Int(origin.comment)])
    }
}

/// The references a lookup finds (an address and its networks, a domain and its parents),
/// combined into one `FeedMatches`. Holds no array unless more than two entries match, so a
/// lookup allocates and releases nothing of its own.
struct MatchCollector {
    private var first: UInt32 = 0
    private var second: UInt32 = 0
    /// Beyond two (a domain listed at three levels): rare.
    private var rest: [UInt32]?

    @inline(__always)
    mutating func add(_ ref: UInt32) {
        if ref == 0 { return }
        if first == 0 {
            first = ref
        } else if second == 0 {
            second = ref
        } else {
            rest = (rest ?? []) + [ref]
        }
    }

    func matches(in storage: FeedIndex.Storage) -> FeedMatches {
        if second == 0 { return FeedMatches(storage: storage, ref: first) }
        var origins = Array(OriginLists.origins(of: first, in: storage.lists))
        for ref in [second] + (rest ?? []) { origins += OriginLists.origins(of: ref, in: storage.lists) }
        return FeedMatches(storage: storage, origins: Array(Set(origins)).sorted())
    }
}
