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

    /// Adds the reference of `name` and of each of its listed parents to `matches`.
    ///
    /// The parents' hashes come first, label by label from the end, then one read of each
    /// parent's first slot, then the comparisons: the reads, cache misses mostly, are all under
    /// way at once rather than one after the other. Each parent's probe is computed once.
    ///
    /// - Returns: false, having added nothing, when a label it would probe is not ASCII: the
    ///   caller looks up the name's A-labels instead.
    @inline(__always)
    func collect(_ name: UnsafeBufferPointer<UInt8>, into matches: inout MatchCollector) -> Bool {
        guard table.count > 0, name.count > 0 else { return true }
        return withUnsafeTemporaryAllocation(of: (start: Int, probe: StringTable.Probe).self,
                                              capacity: maximumLabels) { parents in
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
            guard bytes & 0x8080_8080_8080_8080 == 0 else { return false }
            var occupied: UInt32 = 0
            for parent in parents[..<count] { occupied |= table.firstRef(parent.probe) }
            guard occupied != 0 else { return true }
            for parent in parents[..<count] {
                matches.add(table.ref(for: UnsafeBufferPointer(rebasing: name[parent.start...]), parent.probe))
            }
            return true
        }
    }

    func forEach(_ body: (UnsafeBufferPointer<UInt8>, UInt32) -> Void) {
        table.forEach(body)
    }
}
