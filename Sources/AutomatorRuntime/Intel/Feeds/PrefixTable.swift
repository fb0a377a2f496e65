import CPrefetch

/// IPv6 network containment by one hash probe per prefix length in use: which listed networks
/// hold an address.
///
/// IPv6 feeds list networks that cluster in a few allocations (`2001::/16`, `2a02::/16`), where
/// a sorted range index finds no bits to spread a directory on and ends in a binary search of
/// several dependent cache misses. Here the address, cut to each prefix length some network
/// has (`/32`, `/48`, `/64`...), is a key in one open-addressing table of every network: the
/// probes do not depend on each other, so their reads overlap, and a table of tens of thousands
/// of networks stays in cache. A lookup costs a probe per distinct length in use, however many
/// networks there are.
///
/// A network's slot refers to its own origins and those of every network holding it, so the
/// longest network that holds an address answers alone; lengths are probed longest first.
struct PrefixTable: Sendable {
    /// A network cut to its length, its length, and the reference (0 for an empty slot).
    private struct Slot: BitwiseCopyable {
        var high: UInt64
        var low: UInt64
        var ref: UInt32
        var length: UInt8
    }

    /// As loaded, for a rebuild.
    let networks: [NetworkRecord<UInt128>]
    private let slots: TableMemory<Slot>
    /// The prefix lengths some network has, longest first, with their masks.
    private let lengths: TableMemory<Length>

    private struct Length: BitwiseCopyable {
        var high: UInt64
        var low: UInt64
        var length: UInt64
    }
    private let seed: UInt64
    /// The distinct networks.
    let count: Int

    init(_ networks: [NetworkRecord<UInt128>], lists: inout OriginLists, seed: UInt64) {
        self.networks = networks
        self.seed = seed
        // Sorted by start, then widest first, so a network comes right after those holding it.
        let sorted = networks.sorted {
            ($0.network, $0.prefixLength, $0.origin) < ($1.network, $1.prefixLength, $1.origin)
        }
        var distinct: [(network: UInt128, length: UInt8, ref: UInt32)] = []
        // The networks holding the current one, innermost last, with all their origins.
        var open: [(network: UInt128, length: UInt8, last: UInt128, origins: [UInt32])] = []
        var index = 0
        while index < sorted.count {
            let record = sorted[index]
            var origins: [UInt32] = []
            while index < sorted.count, sorted[index].network == record.network,
                  sorted[index].prefixLength == record.prefixLength {
                origins.append(sorted[index].origin)
                index += 1
            }
            while let innermost = open.last, innermost.last < record.network { open.removeLast() }
            origins += open.last?.origins ?? []
            open.append((record.network, record.prefixLength, record.last, origins))
            distinct.append((record.network, record.prefixLength, lists.ref(for: origins)))
        }

        // A third full at most: every lookup probes once per length in use, and nearly all of
        // those probes miss; the table is small, so the room costs little.
        let capacity = 3 * distinct.count + 1
        let memory = TableMemory<Slot>(zeroed: capacity)
        for network in distinct {
            let key = IPv6Key(network.network)
            var slot = Self.home(key, UInt64(network.length), seed: seed, capacity: capacity)
            while memory.buffer[slot].ref != 0 { slot = slot + 1 == capacity ? 0 : slot + 1 }
            memory.buffer[slot] = Slot(high: key.high, low: key.low, ref: network.ref, length: network.length)
        }
        slots = memory
        lengths = TableMemory(Set(distinct.map(\.length)).sorted(by: >).map { length in
            let mask = IPv6Key(~(UInt128.max &>> length))
            return Length(high: mask.high, low: mask.low, length: UInt64(length))
        })
        count = distinct.count
    }

    /// The reference of the networks that hold `address`, 0 if none does.
    @inline(__always)
    func ref(containing address: UInt128) -> UInt32 {
        let slots = slots.buffer
        let address = IPv6Key(address)
        for length in lengths.buffer {
            let key = IPv6Key(high: address.high & length.high, low: address.low & length.low)
            var slot = Self.home(key, length.length, seed: seed, capacity: slots.count)
            while true {
                let entry = slots[slot]
                if entry.ref == 0 { break }
                if entry.high == key.high, entry.low == key.low, UInt64(entry.length) == length.length {
                    return entry.ref
                }
                slot = slot + 1 == slots.count ? 0 : slot + 1
            }
        }
        return 0
    }

    /// Starts reading the first slot of each probe `ref(containing: address)` makes, so that
    /// their cache misses overlap others' (a batch's).
    @inline(__always)
    func prefetch(containing address: UInt128) {
        let address = IPv6Key(address)
        for length in lengths.buffer {
            let key = IPv6Key(high: address.high & length.high, low: address.low & length.low)
            prefetch_read(slots.buffer.baseAddress! + Self.home(key, length.length, seed: seed, capacity: slots.buffer.count))
        }
    }

    @inline(__always)
    private static func home(_ key: IPv6Key, _ length: UInt64, seed: UInt64, capacity: Int) -> Int {
        FeedHashing.slot(FeedHashing.mix(key.hashWord &+ length, seed: seed), capacity: capacity)
    }
}
