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
    /// What keeps the listings readable: the index's storage when one table slot's reference
    /// (`ref`, see `OriginLists`) answers, a `Several` when several entries matched, nil when
    /// none did. One reference, not two: every lookup copies and releases a `FeedMatches`,
    /// and a miss then releases only nil.
    private let owner: (any AnyObject & Sendable)?
    /// Not 0 when `owner` is the storage; 0 when it is a `Several` or nil.
    private let ref: UInt32
    public let endIndex: Int

    public var startIndex: Int { 0 }

    /// Several entries matched: their origins, ascending, and the storage they are in. Rare
    /// (an address and a network holding it both listed), so it may cost an allocation.
    private final class Several: Sendable {
        let storage: FeedIndex.Storage
        let origins: [UInt32]

        init(storage: FeedIndex.Storage, origins: [UInt32]) {
            (self.storage, self.origins) = (storage, origins)
        }
    }

    @inline(__always)
    init(storage: FeedIndex.Storage, ref: UInt32) {
        if ref == 0 {
            (owner, self.ref, endIndex) = (nil, 0, 0)
        } else {
            (owner, self.ref) = (storage, ref)
            endIndex = ref & OriginLists.listFlag == 0 ? 1 : storage.listCount(ref)
        }
    }

    init(storage: FeedIndex.Storage, origins: [UInt32]) {
        (owner, ref, endIndex) = (Several(storage: storage, origins: origins), 0, origins.count)
    }

    public subscript(position: Int) -> FeedMatch {
        precondition(position >= 0 && position < endIndex, "FeedMatches index out of range")
        let storage: FeedIndex.Storage
        let id: UInt32
        if ref != 0 {
            // `ref` is set only with the storage as owner (the initialiser above).
            storage = unsafeDowncast(owner! as AnyObject, to: FeedIndex.Storage.self)
            id = OriginLists.origins(of: ref, in: storage.lists).dropFirst(position).first!
        } else {
            // Not empty (position < endIndex) and no `ref`: the owner is a `Several`.
            let several = unsafeDowncast(owner! as AnyObject, to: Several.self)
            (storage, id) = (several.storage, several.origins[position])
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

    /// Inline for the usual none or one; a call for more.
    @inline(__always)
    func matches(in storage: FeedIndex.Storage) -> FeedMatches {
        if second == 0 { return FeedMatches(storage: storage, ref: first) }
        return merged(in: storage)
    }

    @inline(never)
    private func merged(in storage: FeedIndex.Storage) -> FeedMatches {
        var origins = Array(OriginLists.origins(of: first, in: storage.lists))
        for ref in [second] + (rest ?? []) { origins += OriginLists.origins(of: ref, in: storage.lists) }
        return FeedMatches(storage: storage, origins: Array(Set(origins)).sorted())
    }
}
