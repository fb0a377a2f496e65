import CPrefetch

/// Fixed-size keys (IPv4 and IPv6 addresses, hashes) to origin references: open addressing with
/// linear probing, keys inline in the slots, at most half full.
///
/// One slot holds the key and its reference side by side, so a hit usually costs one cache
/// miss, and a miss ends at the first empty slot, a few slots on. Built once; never changed.
struct ExactTable<Key: TableKey>: Sendable {
    /// The reference first: a miss reads it and the key's first word from one cache line.
    private struct Slot: BitwiseCopyable {
        /// 0 for an empty slot.
        var ref: UInt32
        var key: Key
    }

    private let slots: TableMemory<Slot>
    private let seed: UInt64
    /// The distinct keys.
    let count: Int

    init(_ records: [(key: Key, origin: UInt32)], lists: inout OriginLists, seed: UInt64) {
        // Half full at most: a miss (most lookups) probes 2.5 slots on average where at 70% it
        // probed 6, each a compare and a branch, and as often a second cache line.
        let capacity = 2 * records.count + 1
        let memory = TableMemory<Slot>(zeroed: capacity)
        let slots = memory.buffer
        var several: [Int: [UInt32]] = [:]
        var count = 0
        for (key, origin) in records {
            var index = FeedHashing.slot(FeedHashing.mix(key.hashWord, seed: seed), capacity: capacity)
            while slots[index].ref != 0 && slots[index].key != key {
                index = index + 1 == capacity ? 0 : index + 1
            }
            if slots[index].ref == 0 {
                slots[index] = Slot(ref: OriginLists.single(origin), key: key)
                count += 1
            } else if slots[index].ref != OriginLists.single(origin) {
                several[index, default: [slots[index].ref - 1]].append(origin)
            }
        }
        for (index, origins) in several { slots[index].ref = lists.ref(for: origins) }
        self.slots = memory
        self.seed = seed
        self.count = count
    }

    /// The reference for `key`, 0 if it is not there.
    @inline(__always)
    func ref(for key: Key) -> UInt32 {
        ref(for: key, from: home(for: key))
    }

    /// The slot where `key`'s probe starts: computed once for a batch's prefetch and its probe.
    @inline(__always)
    func home(for key: Key) -> Int {
        FeedHashing.slot(FeedHashing.mix(key.hashWord, seed: seed), capacity: slots.buffer.count)
    }

    /// Starts reading the slot `home`, so that its cache miss overlaps others' (a batch's).
    @inline(__always)
    func prefetch(_ home: Int) {
        prefetch_read(slots.buffer.baseAddress! + home)
    }

    /// The reference for `key`, whose probe starts at `home` (`home(for: key)`).
    @inline(__always)
    func ref(for key: Key, from home: Int) -> UInt32 {
        let slots = slots.buffer
        var index = home
        while true {
            let slot = slots[index]
            if slot.ref == 0 || slot.key == key { return slot.ref }
            index = index + 1 == slots.count ? 0 : index + 1
        }
    }

    /// Every key and its reference, for a rebuild.
    func forEach(_ body: (Key, UInt32) -> Void) {
        for slot in slots.buffer where slot.ref != 0 { body(slot.key, slot.ref) }
    }
}
