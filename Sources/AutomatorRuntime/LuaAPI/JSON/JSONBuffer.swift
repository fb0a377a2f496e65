/// A growable run of bytes owned by one `json.encode` or `json.decode` call: the text being
/// written, or a decoded string that had escapes.
///
/// `[UInt8]` checks uniqueness on every append; this buffer only compares its count with its
/// capacity, which matters when a megabyte of webhook payload goes through it byte by byte.
struct JSONBuffer: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written so far, valid until the next change.
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    mutating func removeAll() { count = 0 }

    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(toHold: 1) }
        base[count] = byte
        count += 1
    }

    mutating func append(_ start: UnsafePointer<UInt8>, count length: Int) {
        if capacity - count < length { grow(toHold: length) }
        (base + count).update(from: start, count: length)
        count += length
    }

    mutating func append(_ text: StaticString) {
        append(text.utf8Start, count: text.utf8CodeUnitCount)
    }

    mutating func append(repeating byte: UInt8, count length: Int) {
        if capacity - count < length { grow(toHold: length) }
        (base + count).update(repeating: byte, count: length)
        count += length
    }

    /// Lets `body` write at most `length` bytes at the end; `body` returns how many it wrote.
    mutating func append(upTo length: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if capacity - count < length { grow(toHold: length) }
        count += body(base + count)
    }

    private mutating func grow(toHold length: Int) {
        let newCapacity = max(capacity * 2, count + length)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}
