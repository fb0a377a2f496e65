import CPrefetch

extension FeedIndex {
    /// An indicator to look up: what `value` is, and the value (as `matches(_:_:)` takes them).
    public typealias Query = (type: IndicatorType, value: String)

    /// How many lookups a batch has under way at once.
    static let batchWindow = 64

    /// The listings of many indicators: the result at each position is what
    /// `matches(_:_:)` gives for the indicator there.
    ///
    /// Much faster than one at a time for more than a few: a lookup is mostly a wait for one
    /// random read of a large table, which one lookup at a time pays in full. Here a window
    /// of indicators is grouped by type; each group is parsed, its table slots computed and
    /// their reads started (prefetched) in a loop of its own, then the reads that depend on
    /// those, and only then is the window probed, group by group, so the reads overlap and no
    /// loop switches on the type.
    ///
    /// ```swift
    /// let found = feeds.index.matches(extracted.map { ($0.type, $0.value) })
    /// for (indicator, matches) in zip(extracted, found) where !matches.isEmpty { print(indicator.value, matches) }
    /// ```
    public func matches(_ indicators: [Query]) -> [FeedMatches] {
        let batch = Batch(storage: storage)
        return indicators.withUnsafeBufferPointer { indicators in
            [FeedMatches](unsafeUninitializedCapacity: indicators.count) { results, initialized in
                var start = 0
                while start < indicators.count {
                    let end = min(start + Self.batchWindow, indicators.count)
                    batch.lookUp(indicators, start..<end, into: results)
                    start = end
                }
                initialized = indicators.count
            }
        }
    }
}

/// The memory of one window of a batch: the window's positions grouped by type, and what the
/// first pass computed for each lookup for the later ones.
private struct Batch: ~Copyable {
    let storage: FeedIndex.Storage
    /// Positions in the window, grouped by type (the order of `group(_:)`).
    private let order: UnsafeMutableBufferPointer<Int>
    /// Where each type's positions start in `order`, and one past the last.
    private let groups: UnsafeMutableBufferPointer<Int>
    /// For each lookup of its type, in the order of `order`: its key and home slot, or a home
    /// of -1 when the value is not of its type.
    private let ipv4: UnsafeMutableBufferPointer<(address: UInt32, home: Int)>
    private let ipv6: UnsafeMutableBufferPointer<(address: UInt128, home: Int)>
    private let md5: UnsafeMutableBufferPointer<(key: MD5Key, home: Int)>
    private let sha1: UnsafeMutableBufferPointer<(key: SHA1Key, home: Int)>
    private let sha256: UnsafeMutableBufferPointer<(key: SHA256Key, home: Int)>
    private let sha512: UnsafeMutableBufferPointer<(key: SHA512Key, home: Int)>
    /// URLs, e-mail addresses and CVEs: the probe of each.
    private let probes: UnsafeMutableBufferPointer<StringTable.Probe>
    /// Domains, URLs, e-mail addresses and CVEs: the length of each.
    private let lengths: UnsafeMutableBufferPointer<Int>
    /// Domains: `maximumParents` places for each, and how many it uses (nil for a name that is
    /// not ASCII, looked up alone).
    private let parents: UnsafeMutableBufferPointer<DomainIndex.Parent>
    private let parentCounts: UnsafeMutableBufferPointer<Int?>

    private static let types = IndicatorType.allCases.count

    init(storage: FeedIndex.Storage) {
        let window = FeedIndex.batchWindow
        self.storage = storage
        order = .allocate(capacity: window)
        groups = .allocate(capacity: Self.types + 1)
        ipv4 = .allocate(capacity: window)
        ipv6 = .allocate(capacity: window)
        md5 = .allocate(capacity: window)
        sha1 = .allocate(capacity: window)
        sha256 = .allocate(capacity: window)
        sha512 = .allocate(capacity: window)
        probes = .allocate(capacity: window)
        lengths = .allocate(capacity: window)
        parents = .allocate(capacity: window * storage.domains.maximumParents)
        parentCounts = .allocate(capacity: window)
    }

    deinit {
        order.deallocate()
        groups.deallocate()
        ipv4.deallocate()
        ipv6.deallocate()
        md5.deallocate()
        sha1.deallocate()
        sha256.deallocate()
        sha512.deallocate()
        probes.deallocate()
        lengths.deallocate()
        parents.deallocate()
        parentCounts.deallocate()
    }

    /// The group of a type: the order in which the passes take the types.
    @inline(__always)
    private static func group(_ type: IndicatorType) -> Int {
        switch type {
        case .ipv4: 0
        case .ipv6: 1
        case .domain: 2
        case .url: 3
        case .email: 4
        case .cve: 5
        case .md5: 6
        case .sha1: 7
        case .sha256: 8
        case .sha512: 9
        }
    }

    /// Looks up `indicators[window]` (at most `batchWindow`) into the same places of `results`.
    func lookUp(_ indicators: UnsafeBufferPointer<FeedIndex.Query>, _ window: Range<Int>,
                into results: UnsafeMutableBufferPointer<FeedMatches>) {
        // Each value's bytes prefetched in the order the values come, before the passes by type
        // read them out of it: a caller's values usually lie in memory in that order (read or
        // extracted so), which the processor's own prefetching follows; read first out of order,
        // each was a cache miss of its own (most of the first pass's time for domains).
        for position in window { FeedIndex.bytes(of: indicators[position].value) { prefetch_read($0.baseAddress) } }
        // A counting sort of the positions by type.
        groups.initialize(repeating: 0)
        for position in window { groups[Self.group(indicators[position].type) + 1] += 1 }
        for group in 0..<Self.types { groups[group + 1] += groups[group] }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.types) { next in
            _ = next.initialize(fromContentsOf: groups[..<Self.types])
            for position in window {
                let group = Self.group(indicators[position].type)
                order[next[group]] = position
                next[group] += 1
            }
        }
        startReads(indicators)
        startSecondReads()
        probe(indicators, into: results)
    }

    /// The positions of the group `group` in `order`.
    @inline(__always)
    private func range(_ group: IndicatorType) -> Range<Int> {
        groups[Self.group(group)]..<groups[Self.group(group) + 1]
    }

    /// The first pass: each value parsed, its slots computed and their reads started.
    private func startReads(_ indicators: UnsafeBufferPointer<FeedIndex.Query>) {
        let storage = storage
        for index in range(.ipv4) {
            let address = FeedIndex.bytes(of: indicators[order[index]].value) { IPAddress.v4($0) }
            guard let address else {
                ipv4[index].home = -1
                continue
            }
            let home = storage.ipv4.home(for: address)
            storage.ipv4.prefetch(home)
            storage.ipv4Networks.prefetch(containing: address)
            ipv4[index] = (address, home)
        }
        for index in range(.ipv6) {
            let address = FeedIndex.bytes(of: indicators[order[index]].value) { IPAddress.v6($0) }
            guard let address else {
                ipv6[index].home = -1
                continue
            }
            let home = storage.ipv6.home(for: IPv6Key(address))
            storage.ipv6.prefetch(home)
            storage.ipv6Networks.prefetch(containing: address)
            ipv6[index] = (address, home)
        }
        let maximumParents = storage.domains.maximumParents
        for index in range(.domain) {
            let parents = UnsafeMutableBufferPointer(rebasing: parents[(index * maximumParents)...]
                .prefix(maximumParents))
            let (count, length) = FeedIndex.bytes(of: indicators[order[index]].value) {
                (storage.domains.parents(of: $0, into: parents), $0.count)
            }
            if let count { storage.domains.prefetch(UnsafeBufferPointer(rebasing: parents[..<count])) }
            parentCounts[index] = count
            lengths[index] = length
        }
        prefetch(range(.url), of: indicators, in: storage.urls)
        prefetch(range(.email), of: indicators, in: storage.emails)
        prefetch(range(.cve), of: indicators, in: storage.cves)
        prefetch(range(.md5), of: indicators, in: storage.md5, into: md5)
        prefetch(range(.sha1), of: indicators, in: storage.sha1, into: sha1)
        prefetch(range(.sha256), of: indicators, in: storage.sha256, into: sha256)
        prefetch(range(.sha512), of: indicators, in: storage.sha512, into: sha512)
    }

    @inline(__always)
    private func prefetch(_ range: Range<Int>, of indicators: UnsafeBufferPointer<FeedIndex.Query>,
                          in table: StringTable) {
        let seed = storage.seed
        for index in range {
            let (probe, length) = FeedIndex.bytes(of: indicators[order[index]].value) {
                (table.probe(hash: FeedHashing.bytes($0, seed: seed)), $0.count)
            }
            table.prefetch(probe)
            probes[index] = probe
            lengths[index] = length
        }
    }

    /// Between the passes: what the first pass started to read is (mostly) in cache by now, and
    /// the reads that depend on it are started: the ranges an IPv4 network directory entry points
    /// to, and the text a slot points to, which a hit compares.
    private func startSecondReads() {
        for index in range(.ipv4) where ipv4[index].home >= 0 {
            storage.ipv4Networks.prefetchRanges(containing: ipv4[index].address)
        }
        let maximumParents = storage.domains.maximumParents
        for index in range(.domain) {
            guard let count = parentCounts[index] else { continue }
            let parents = UnsafeBufferPointer(rebasing: parents[(index * maximumParents)...].prefix(count))
            storage.domains.prefetchTexts(parents, length: lengths[index])
        }
        for index in range(.url) { storage.urls.prefetchText(probes[index], length: lengths[index]) }
        for index in range(.email) { storage.emails.prefetchText(probes[index], length: lengths[index]) }
        for index in range(.cve) { storage.cves.prefetchText(probes[index], length: lengths[index]) }
    }

    @inline(__always)
    private func prefetch<Key: DigestKey>(_ range: Range<Int>, of indicators: UnsafeBufferPointer<FeedIndex.Query>,
                                          in table: ExactTable<Key>,
                                          into keys: UnsafeMutableBufferPointer<(key: Key, home: Int)>) {
        for index in range {
            guard let key = FeedIndex.bytes(of: indicators[order[index]].value, Key.init(hex:)) else {
                keys[index].home = -1
                continue
            }
            let home = table.home(for: key)
            table.prefetch(home)
            keys[index] = (key, home)
        }
    }

    /// The second pass: the slots probed, and each lookup's matches written to its position.
    private func probe(_ indicators: UnsafeBufferPointer<FeedIndex.Query>,
                       into results: UnsafeMutableBufferPointer<FeedMatches>) {
        let storage = storage
        func answer(_ index: Int, _ found: MatchCollector) {
            (results.baseAddress! + order[index]).initialize(to: found.matches(in: storage))
        }
        for index in range(.ipv4) {
            var found = MatchCollector()
            let (address, home) = ipv4[index]
            if home >= 0 {
                let exact = storage.ipv4.ref(for: address, from: home)
                let network = storage.ipv4Networks.ref(containing: address)
                found.add(exact)
                found.add(network)
            }
            answer(index, found)
        }
        for index in range(.ipv6) {
            var found = MatchCollector()
            let (address, home) = ipv6[index]
            if home >= 0 {
                let exact = storage.ipv6.ref(for: IPv6Key(address), from: home)
                let network = storage.ipv6Networks.ref(containing: address)
                found.add(exact)
                found.add(network)
                if let v4 = IPAddress.embeddedV4(address)?.network { FeedIndex.collect(v4: v4, in: storage, into: &found) }
            }
            answer(index, found)
        }
        let maximumParents = storage.domains.maximumParents
        for index in range(.domain) {
            let value = indicators[order[index]].value
            guard let count = parentCounts[index] else {
                // Not ASCII: looked up alone, as its A-labels.
                (results.baseAddress! + order[index]).initialize(to: FeedIndex(storage: storage).matches(.domain, value))
                continue
            }
            var found = MatchCollector()
            let parents = UnsafeBufferPointer(rebasing: parents[(index * maximumParents)...].prefix(count))
            FeedIndex.bytes(of: value) { storage.domains.collect($0, parents, into: &found) }
            answer(index, found)
        }
        probe(range(.url), of: indicators, in: storage.urls, into: results)
        probe(range(.email), of: indicators, in: storage.emails, into: results)
        probe(range(.cve), of: indicators, in: storage.cves, into: results)
        probe(range(.md5), in: storage.md5, md5, into: results)
        probe(range(.sha1), in: storage.sha1, sha1, into: results)
        probe(range(.sha256), in: storage.sha256, sha256, into: results)
        probe(range(.sha512), in: storage.sha512, sha512, into: results)
    }

    @inline(__always)
    private func probe(_ range: Range<Int>, of indicators: UnsafeBufferPointer<FeedIndex.Query>,
                       in table: StringTable, into results: UnsafeMutableBufferPointer<FeedMatches>) {
        for index in range {
            let ref = FeedIndex.bytes(of: indicators[order[index]].value) { table.ref(for: $0, probes[index]) }
            (results.baseAddress! + order[index]).initialize(to: FeedMatches(storage: storage, ref: ref))
        }
    }

    @inline(__always)
    private func probe<Key: DigestKey>(_ range: Range<Int>, in table: ExactTable<Key>,
                                       _ keys: UnsafeMutableBufferPointer<(key: Key, home: Int)>,
                                       into results: UnsafeMutableBufferPointer<FeedMatches>) {
        for index in range {
            let (key, home) = keys[index]
            let ref = home >= 0 ? table.ref(for: key, from: home) : 0
            (results.baseAddress! + order[index]).initialize(to: FeedMatches(storage: storage, ref: ref))
        }
    }
}
