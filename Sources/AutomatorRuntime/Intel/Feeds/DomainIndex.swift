/// Domains, matched by suffix: a feed's `example.com` matches `example.com`, `a.example.com`
/// and `a.b.example.com`, never `notexample.com`.
///
/// A lookup walks the name from its end a label at a time; at each label boundary the hash so
/// far is the hash of that parent, which it probes. Only parents of two labels or more (a feed
/// cannot list a bare TLD), and no more than the longest listed domain has, are probed.
struct DomainIndex: Sendable {
    private let table: StringTable
    private let seed: UInt64
    /// The most labels of a listed domain: longer parents are not probed.
    private let maximumLabels: Int

    var count: Int { table.count }

    init(_ records: StringRecords, lists: inout OriginLists, seed: UInt64) {
        var maximumLabels = 0
        records.forEach { value, _ in
            maximumLabels = max(maximumLabels, 1 + value.reduce(0) { $0 + ($1 == UInt8(ascii: ".") ? 1 : 0) })
        }
        table = StringTable(records, lists: &lists) { FeedHashing.domain($0, seed: seed) }
        self.seed = seed
        self.maximumLabels = maximumLabels
    }

    /// A parent of a name that a lookup probes: where it starts in the name, and its probe.
    typealias Parent = (start: Int, probe: StringTable.Probe)

    /// The most parents `parents(of:into:)` writes for one name.
    var maximumParents: Int { max(maximumLabels - 1, 0) }

    /// Adds the reference of `name` and of each of its listed parents to `matches`.
    ///
    /// - Returns: false, having added nothing, when a label it would probe is not ASCII: the
    ///   caller looks up the name's A-labels instead.
    @inline(__always)
    func collect(_ name: UnsafeBufferPointer<UInt8>, into matches: inout MatchCollector) -> Bool {
        withUnsafeTemporaryAllocation(of: Parent.self, capacity: maximumParents) { buffer in
            guard let count = parents(of: name, into: buffer) else { return false }
            collect(name, UnsafeBufferPointer(rebasing: buffer[..<count]), into: &matches)
            return true
        }
    }

    /// The parents of `name` to probe (itself among them), into `parents` (room for
    /// `maximumParents`): their hashes label by label from the end, each parent's probe
    /// computed once, for a first read of every parent's slot (`prefetch`) and the comparisons
    /// after (`collect(_:_:into:)`).
    ///
    /// - Returns: how many, or nil when a label it would probe is not ASCII.
    @inline(__always)
    func parents(of name: UnsafeBufferPointer<UInt8>, into parents: UnsafeMutableBufferPointer<Parent>) -> Int? {
        guard table.count > 0, name.count > 0 else { return 0 }
        var count = 0
        var hash = seed
        var labels = 0
        var bytes: UInt64 = 0
        var end = name.count
        while true {
            let start = FeedHashing.lastDot(in: name, before: end - 1) + 1
            let label = FeedHashing.domainLabel(hash, name, from: start, to: end)
            hash = label.hash
            bytes |= label.bytes
            labels += 1
            if labels >= 2 {
                parents[count] = (start, table.probe(hash: hash))
                count += 1
            }
            if labels == maximumLabels || start == 0 { break }
            end = start
        }
        return bytes & 0x8080_8080_8080_8080 == 0 ? count : nil
    }

    /// Starts reading each parent's first slot, so that their cache misses overlap others'.
    @inline(__always)
    func prefetch(_ parents: UnsafeBufferPointer<Parent>) {
        for parent in parents { table.prefetch(parent.probe) }
    }

    /// Starts reading the text of each of `parents` (of a name of `length` bytes) that is likely
    /// listed: see `StringTable.prefetchText`.
    @inline(__always)
    func prefetchTexts(_ parents: UnsafeBufferPointer<Parent>, length: Int) {
        for parent in parents { table.prefetchText(parent.probe, length: length - parent.start) }
    }

    /// Adds the reference of each of `parents` (of `name`) that is listed to `matches`.
    ///
    /// One read of each parent's first slot, then the comparisons: the reads, cache misses
    /// mostly, are all under way at once rather than one after the other.
    @inline(__always)
    func collect(_ name: UnsafeBufferPointer<UInt8>, _ parents: UnsafeBufferPointer<Parent>,
                 into matches: inout MatchCollector) {
        var occupied: UInt32 = 0
        for parent in parents { occupied |= table.firstRef(parent.probe) }
        guard occupied != 0 else { return }
        for parent in parents {
            matches.add(table.ref(for: UnsafeBufferPointer(rebasing: name[parent.start...]), parent.probe))
        }
    }

    func forEach(_ body: (UnsafeBufferPointer<UInt8>, UInt32) -> Void) {
        table.forEach(body)
    }
}
