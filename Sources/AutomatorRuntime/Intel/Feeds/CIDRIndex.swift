import CPrefetch

/// A network a feed lists, with its origin.
struct NetworkRecord<Address: FixedWidthInteger & UnsignedInteger & BitwiseCopyable & Sendable>: Sendable {
    /// The first address (no host bits set).
    var network: Address
    /// Shorter than the address width: a single address goes to an `ExactTable`.
    var prefixLength: UInt8
    var origin: UInt32

    var last: Address { network | (Address.max >> prefixLength) }

    func with(origin: UInt32) -> NetworkRecord {
        NetworkRecord(network: network, prefixLength: prefixLength, origin: origin)
    }
}

/// CIDR containment for IPv4 (`UInt32`): which listed networks hold an address. (Single
/// addresses are in an `ExactTable`: one cache miss, where a range search over them all would
/// be two or three in a row. IPv6 networks, which cluster in a few allocations where this
/// directory finds no bits to spread on, are in a `PrefixTable`.)
///
/// Networks either nest or are disjoint, so they cut the address space into non-overlapping
/// ranges, each covered by a fixed set of networks. The index keeps each range's first address
/// (sorted) beside the reference to the origins of every network covering it; a lookup finds
/// the last range starting at or before the address.
///
/// A directory on the bits below the prefix all listed networks share, with about twice as
/// many buckets as ranges (at most 2^18), holds for each bucket the range its first address is
/// in, and that range's reference. Most buckets hold no range boundary, and their lookup ends
/// at the directory: one cache miss. The others search a few ranges, within a line or two.
struct CIDRIndex<Address: FixedWidthInteger & UnsignedInteger & BitwiseCopyable & Sendable>: Sendable {
    /// A range's first address, and the reference of the networks covering it (0 for none).
    private struct Range: BitwiseCopyable {
        var start: Address
        var ref: UInt32
    }

    /// As loaded, for a rebuild.
    let networks: [NetworkRecord<Address>]
    private let ranges: TableMemory<Range>
    /// The first and last address any network covers; nothing is listed outside.
    private let lowest: Address
    private let highest: Address
    /// The bits every listed address has in common, skipped by the directory.
    private let sharedBits: Int
    private let directoryBits: Int
    /// One per bucket, and one more at the end.
    private let directory: TableMemory<Bucket>

    /// The range holding a bucket's first address, and its reference: the answer for the
    /// whole bucket when the next bucket starts in the same range.
    private struct Bucket: BitwiseCopyable {
        var range: UInt32
        var ref: UInt32
    }

    /// The distinct networks.
    let count: Int

    init(_ networks: [NetworkRecord<Address>], lists: inout OriginLists) {
        self.networks = networks
        // Same network listed more than once: one entry with all its origins. Sorted by start,
        // then widest first, so a network comes before those nested in it.
        let sorted = networks.sorted {
            ($0.network, $0.prefixLength, $0.origin) < ($1.network, $1.prefixLength, $1.origin)
        }
        var grouped: [(first: Address, last: Address, origins: [UInt32])] = []
        for record in sorted {
            if let previous = grouped.last, previous.first == record.network, previous.last == record.last {
                grouped[grouped.count - 1].origins.append(record.origin)
            } else {
                grouped.append((record.network, record.last, [record.origin]))
            }
        }

        var ranges: [Range] = []
        func begin(_ start: Address, _ ref: UInt32) {
            if ranges.last?.start == start {
                ranges[ranges.count - 1].ref = ref
                if ranges.count >= 2, ranges[ranges.count - 2].ref == ref { ranges.removeLast() }
            } else if ranges.last?.ref != ref {
                ranges.append(Range(start: start, ref: ref))
            }
        }
        // The networks open around the current one, innermost last, with everything covering it.
        var open: [(last: Address, origins: [UInt32], ref: UInt32)] = []
        func close(before start: Address?) {
            while let innermost = open.last, start.map({ innermost.last < $0 }) ?? true {
                open.removeLast()
                if innermost.last != Address.max { begin(innermost.last + 1, open.last?.ref ?? 0) }
            }
        }
        for network in grouped {
            close(before: network.first)
            let origins = (open.last?.origins ?? []) + network.origins
            let ref = lists.ref(for: origins)
            open.append((network.last, origins, ref))
            begin(network.first, ref)
        }
        close(before: nil)

        self.ranges = TableMemory(ranges)
        count = grouped.count
        lowest = grouped.first?.first ?? Address.max
        highest = grouped.map(\.last).max() ?? 0
        let width = Address.bitWidth
        sharedBits = grouped.isEmpty ? 0 : (lowest ^ highest).leadingZeroBitCount
        directoryBits = max(1, min(18, width - sharedBits, Int.bitWidth - ranges.count.leadingZeroBitCount + 1))
        var directory: [Bucket] = []
        directory.reserveCapacity((1 << directoryBits) + 1)
        let base = sharedBits == 0 ? 0 : lowest & ~(Address.max >> sharedBits)
        var range = 0
        for bucket in 0..<(1 << directoryBits) {
            let first = max(base | Address(bucket) << (width - sharedBits - directoryBits), lowest)
            while range + 1 < ranges.count, ranges[range + 1].start <= first { range += 1 }
            directory.append(Bucket(range: UInt32(range), ref: ranges.isEmpty ? 0 : ranges[range].ref))
        }
        directory.append(Bucket(range: UInt32(max(ranges.count - 1, 0)), ref: 0))
        self.directory = TableMemory(directory)
    }

    /// The reference of the networks that hold `address`, 0 if none does.
    @inline(__always)
    func ref(containing address: Address) -> UInt32 {
        guard address >= lowest, address <= highest else { return 0 }
        let bucket = bucket(of: address)
        let entry = directory.buffer[bucket]
        var low = Int(entry.range)
        var high = Int(directory.buffer[bucket + 1].range)
        if low == high { return entry.ref }
        // The answer is the last range in [low, high] that starts at or before the address.
        let ranges = ranges.buffer
        while low < high {
            let middle = (low + high + 1) / 2
            if ranges[middle].start <= address { low = middle } else { high = middle - 1 }
        }
        return ranges[low].ref
    }

    /// Starts reading the directory entry `ref(containing: address)` reads first, so that its
    /// cache miss overlaps others' (a batch's).
    @inline(__always)
    func prefetch(containing address: Address) {
        guard address >= lowest, address <= highest else { return }
        prefetch_read(directory.buffer.baseAddress! + bucket(of: address))
    }

    /// Starts reading the ranges `ref(containing: address)` searches, if it searches any: for a
    /// batch, once the directory entry is in cache (`prefetch(containing:)`).
    @inline(__always)
    func prefetchRanges(containing address: Address) {
        guard address >= lowest, address <= highest else { return }
        let bucket = bucket(of: address)
        let low = Int(directory.buffer[bucket].range)
        let high = Int(directory.buffer[bucket + 1].range)
        guard low != high else { return }
        prefetch_read(ranges.buffer.baseAddress! + low)
        prefetch_read(ranges.buffer.baseAddress! + high)
    }

    @inline(__always)
    private func bucket(of address: Address) -> Int {
        Int(truncatingIfNeeded: (address &<< sharedBits) &>> (Address.bitWidth - directoryBits))
    }
}
