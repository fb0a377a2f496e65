import CPrefetch
import Foundation

/// Text keys (domains, URLs, e-mail addresses, CVEs) to origin references: the distinct texts
/// back to back in one byte array, and open-addressing slots of 12 bytes that point into it.
///
/// A slot keeps 16 bits of the key's hash besides its length, so probing past other keys
/// rarely reads their bytes. The hash function is the caller's: `DomainIndex` needs one it can
/// compute for every parent of a name in one pass.
struct StringTable: Sendable {
    /// The longest text a slot can point to.
    static let maximumLength = Int(UInt16.max)

    private struct Slot: BitwiseCopyable {
        var offset: UInt32
        var length: UInt16
        var check: UInt16
        /// 0 for an empty slot.
        var ref: UInt32
    }

    private let slots: TableMemory<Slot>
    private let bytes: TableMemory<UInt8>
    /// The distinct texts.
    let count: Int

    init(_ records: StringRecords, lists: inout OriginLists,
         hash: (UnsafeBufferPointer<UInt8>) -> UInt64) {
        // Half full at most, as an `ExactTable`: short probe runs for the misses.
        let capacity = 2 * records.count + 1
        let memory = TableMemory<Slot>(zeroed: capacity)
        let slots = memory.buffer
        var bytes: [UInt8] = []
        var several: [Int: [UInt32]] = [:]
        var count = 0
        records.forEach { value, origin in
            let mixed = FeedHashing.mix(hash(value), seed: 0)
            let check = UInt16(truncatingIfNeeded: mixed)
            var index = FeedHashing.slot(mixed, capacity: capacity)
            while slots[index].ref != 0 {
                let slot = slots[index]
                if slot.check == check, Int(slot.length) == value.count,
                   bytes[Int(slot.offset)..<Int(slot.offset) + value.count].elementsEqual(value) { break }
                index = index + 1 == capacity ? 0 : index + 1
            }
            if slots[index].ref == 0 {
                precondition(bytes.count + value.count <= UInt32.max, "more than 4 GiB of feed text")
                slots[index] = Slot(offset: UInt32(bytes.count), length: UInt16(value.count), check: check,
                                    ref: OriginLists.single(origin))
                bytes.append(contentsOf: value)
                count += 1
            } else if slots[index].ref != OriginLists.single(origin) {
                several[index, default: [slots[index].ref - 1]].append(origin)
            }
        }
        for (index, origins) in several { slots[index].ref = lists.ref(for: origins) }
        self.slots = memory
        self.bytes = TableMemory(bytes)
        self.count = count
    }

    /// Where a text's probe starts, and the check its slot holds: from its hash, once for a
    /// first read (`firstRef`) and the comparisons after it (`ref`).
    struct Probe {
        fileprivate var home: Int
        fileprivate var check: UInt16
    }

    /// The probe of a text whose hash (by the function the table was built with) is `hash`.
    @inline(__always)
    func probe(hash: UInt64) -> Probe {
        let mixed = FeedHashing.mix(hash, seed: 0)
        return Probe(home: FeedHashing.slot(mixed, capacity: slots.buffer.count),
                     check: UInt16(truncatingIfNeeded: mixed))
    }

    /// The reference for `value` whose hash is `hash`; 0 if it is not there.
    @inline(__always)
    func ref(for value: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UInt32 {
        ref(for: value, probe(hash: hash))
    }

    /// The reference for `value`, whose probe is `probe`; 0 if it is not there.
    @inline(__always)
    func ref(for value: UnsafeBufferPointer<UInt8>, _ probe: Probe) -> UInt32 {
        let slots = slots.buffer
        var index = probe.home
        while true {
            let slot = slots[index]
            if slot.ref == 0 { return 0 }
            if slot.check == probe.check, Int(slot.length) == value.count,
               Self.equal(bytes.buffer.baseAddress! + Int(slot.offset), value.baseAddress!, count: value.count) {
                return slot.ref
            }
            index = index + 1 == slots.count ? 0 : index + 1
        }
    }

    /// The reference in the first slot `probe` reads: 0 when that slot is empty, which means
    /// the text is not there. A read to issue early, so its cache miss overlaps others.
    @inline(__always)
    func firstRef(_ probe: Probe) -> UInt32 {
        slots.buffer[probe.home].ref
    }

    /// Starts reading the first slot `probe` reads, so that its cache miss overlaps others' (a
    /// batch's).
    @inline(__always)
    func prefetch(_ probe: Probe) {
        prefetch_read(slots.buffer.baseAddress! + probe.home)
    }

    /// Starts reading the text of the first slot `probe` reads, when that slot holds a text of
    /// `length` bytes with the probe's check: most likely the text looked for, whose comparison
    /// then finds it in cache. For a batch, once the slot itself is in cache (`prefetch`).
    @inline(__always)
    func prefetchText(_ probe: Probe, length: Int) {
        let slot = slots.buffer[probe.home]
        if slot.ref != 0, slot.check == probe.check, Int(slot.length) == length {
            prefetch_read(bytes.buffer.baseAddress! + Int(slot.offset))
        }
    }

    /// Eight bytes at a time, inline: `memcmp` was a call through the PLT for a dozen bytes.
    @inline(__always)
    private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        guard count >= 8 else {
            for index in 0..<count where a.load(fromByteOffset: index, as: UInt8.self)
                != b.load(fromByteOffset: index, as: UInt8.self) { return false }
            return true
        }
        var index = 0
        while index + 8 < count {
            if a.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                != b.loadUnaligned(fromByteOffset: index, as: UInt64.self) { return false }
            index += 8
        }
        // The last eight, overlapping those compared already.
        return a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }

    /// Every text and its reference, for a rebuild.
    func forEach(_ body: (UnsafeBufferPointer<UInt8>, UInt32) -> Void) {
        let bytes = UnsafeBufferPointer(bytes.buffer)
        for slot in slots.buffer where slot.ref != 0 {
            body(UnsafeBufferPointer(rebasing: bytes[Int(slot.offset)..<Int(slot.offset) + Int(slot.length)]), slot.ref)
        }
    }
}

/// Texts with their origins, as loaded, before they go into a `StringTable`: one byte array
/// rather than a `String` each.
struct StringRecords: Sendable {
    private var bytes: [UInt8] = []
    private var items: [(offset: UInt32, length: UInt16, origin: UInt32)] = []

    var count: Int { items.count }

    mutating func append(_ value: UnsafeBufferPointer<UInt8>, origin: UInt32) {
        items.append((UInt32(bytes.count), UInt16(value.count), origin))
        bytes.append(contentsOf: value)
    }

    mutating func append(_ value: String, origin: UInt32) {
        var value = value
        value.withUTF8 { append($0, origin: origin) }
    }

    mutating func remapOrigins(_ map: [UInt32]) {
        for index in items.indices { items[index].origin = map[Int(items[index].origin)] }
    }

    func forEach(_ body: (UnsafeBufferPointer<UInt8>, UInt32) -> Void) {
        bytes.withUnsafeBufferPointer { bytes in
            for item in items {
                let start = Int(item.offset)
                body(UnsafeBufferPointer(rebasing: bytes[start..<start + Int(item.length)]), item.origin)
            }
        }
    }
}
