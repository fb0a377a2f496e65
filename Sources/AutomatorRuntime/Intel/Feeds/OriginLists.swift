/// Where an indicator is listed: which feed, with which comment.
struct Origin: Hashable, Sendable {
    /// The feed's position in the index's feeds.
    var feed: UInt32
    /// The comment's position in the index's comments (0: none).
    var comment: UInt32
}

/// A table slot's reference to its origins in 32 bits: one origin inline (most indicators are
/// listed once), or a list shared by every indicator listed by the same origins.
///
/// A reference is 0 for nothing, `origin + 1` for one origin, or `listFlag | start` for the list
/// at `start` in `storage` (its count, then its origins in ascending order).
struct OriginLists: Sendable {
    static let listFlag: UInt32 = 1 << 31

    private(set) var storage: [UInt32] = []
    private var interned: [[UInt32]: UInt32] = [:]

    static func single(_ origin: UInt32) -> UInt32 { origin + 1 }

    /// The reference to `origins` (in any order, repeats allowed; not empty).
    mutating func ref(for origins: [UInt32]) -> UInt32 {
        let unique = Array(Set(origins)).sorted()
        if unique.count == 1 { return Self.single(unique[0]) }
        if let ref = interned[unique] { return ref }
        precondition(storage.count < Int(Self.listFlag), "more than 2^31 origin list entries")
        let ref = Self.listFlag | UInt32(storage.count)
        storage.append(UInt32(unique.count))
        storage.append(contentsOf: unique)
        interned[unique] = ref
        return ref
    }

    /// The origins `ref` stands for, in ascending order.
    static func origins(of ref: UInt32, in storage: [UInt32]) -> ArraySlice<UInt32> {
        if ref & listFlag == 0 { return ref == 0 ? [] : [ref - 1] }
        let start = Int(ref & ~listFlag)
        return storage[(start + 1)...(start + Int(storage[start]))]
    }
}
