@testable import AutomatorRuntime
import Foundation
import Testing

/// Texts placed against unreadable pages: the last byte right before one, or the first right
/// after one. A decoder that reads a byte outside its text crashes the test instead of passing.
private final class GuardedPages {
    private let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    private let base: UnsafeMutableRawPointer

    init() throws {
        let mapped = mmap(nil, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        base = try #require(mapped == MAP_FAILED ? nil : mapped)
        try #require(mprotect(base, page, PROT_NONE) == 0)
        try #require(mprotect(base + 2 * page, page, PROT_NONE) == 0)
    }

    deinit {
        munmap(base, 3 * page)
    }

    /// `body`'s answers for `bytes` ending at the guard page after, and starting at the one before.
    func both<Result>(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> (Result, Result) {
        (run(bytes, at: base + 2 * page - bytes.count, body), run(bytes, at: base + page, body))
    }

    private func run<Result>(_ bytes: [UInt8], at start: UnsafeMutableRawPointer,
                             _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        bytes.withUnsafeBytes { start.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return body(UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: bytes.count))
    }
}

/// A fast generator for the fuzz (the system's costs a system call a number); its seed is
/// printed with a failure, to replay it. Seeded, the same numbers on every run (`FeedBatchTests`).
struct XorShift64Star: RandomNumberGenerator {
    /// Never 0.
    var state: UInt64

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// The digits as one number, a byte at a time: the reference the SSE2 decoder is compared with.
private func reference(_ text: ArraySlice<UInt8>) -> UInt64? {
    var value: UInt64 = 0
    for byte in text {
        let digit: UInt8
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
        default: return nil
        }
        value = value << 4 | UInt64(digit)
    }
    return value
}

/// A hash's words as its key holds them, nil when `text` is not one.
private func words(_ text: UnsafeBufferPointer<UInt8>) -> [UInt64]? {
    switch text.count {
    case 32: MD5Key(hex: text).map { [$0.a, $0.b] }
    case 40: SHA1Key(hex: text).map { [$0.a, $0.b, UInt64($0.c)] }
    case 64: SHA256Key(hex: text).map { [$0.a, $0.b, $0.c, $0.d] }
    default: SHA512Key(hex: text).map { [$0.a, $0.b, $0.c, $0.d, $0.e, $0.f, $0.g, $0.h] }
    }
}

@Suite("Hex digests decoded in C (SSE2)")
struct HexDigitsTests {
    @Test("Either case; a byte next to a digit range in ASCII, anywhere, is no digit; the wrong length no key")
    func digests() throws {
        let hex = Array("0123456789abcdefABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef".utf8)
        let md5 = try #require(hex[..<32].withUnsafeBufferPointer { words($0) })
        #expect(md5 == [0x0123_4567_89AB_CDEF, 0xABCD_EF01_2345_6789])
        let sha1 = try #require(hex[..<40].withUnsafeBufferPointer { words($0) })
        #expect(sha1 == [0x0123_4567_89AB_CDEF, 0xABCD_EF01_2345_6789, 0xABCD_EF01])
        for position in [0, 7, 8, 15, 16, 31, 32, 35, 39] {
            for byte in Array("/:@G`g ".utf8) + [0, 0x80, 0xB0, 0xFF] {
                var bad = Array(hex[..<40])
                bad[position] = byte
                #expect(bad.withUnsafeBufferPointer { words($0) } == nil, "\(byte) at \(position)")
                if position < 32 {
                    #expect(bad[..<32].withUnsafeBufferPointer { words($0) } == nil, "\(byte) at \(position)")
                }
            }
        }
        #expect(hex[..<31].withUnsafeBufferPointer { MD5Key(hex: $0) } == nil)
        #expect(hex[..<40].withUnsafeBufferPointer { MD5Key(hex: $0) } == nil)
        #expect([UInt8]().withUnsafeBufferPointer { SHA256Key(hex: $0) } == nil)
    }

    @Test("400,000 random digests, half with a byte changed: read as a byte-at-a-time decoder reads them, in bounds")
    func fuzz() throws {
        let pages = try GuardedPages()
        let seed = UInt64.random(in: 1 ... .max)
        var random = XorShift64Star(state: seed)
        let digits = Array("0123456789abcdefABCDEF".utf8)
        let lengths = [32, 40, 64, 128]
        var text = [UInt8](repeating: 0, count: 128)
        var valid = 0
        for _ in 0..<400_000 {
            var bits = random.next()
            let length = lengths[Int(bits & 3)]
            bits >>= 2
            text.removeAll(keepingCapacity: true)
            for _ in 0..<length {
                if bits < 32 { bits = random.next() }
                text.append(digits[Int(bits % 22)])
                bits /= 22
            }
            let change = random.next()
            if change & 1 == 0 { text[Int(change >> 8) % length] = UInt8(truncatingIfNeeded: change >> 1) }
            let parts = stride(from: 0, to: length, by: 16).map { reference(text[$0..<min($0 + 16, length)]) }
            let expected = parts.contains(nil) ? nil : parts.map { $0! }
            let (atEnd, atStart) = pages.both(text, words)
            guard atEnd == expected, atStart == expected else {
                let shown = String(decoding: text, as: UTF8.self).debugDescription
                let got = "\(String(describing: atEnd)) at the end, \(String(describing: atStart)) at the start"
                Issue.record("seed \(seed): \(shown): \(got), expected \(String(describing: expected))")
                return
            }
            valid += expected == nil ? 0 : 1
        }
        // Both answers given, many times.
        #expect((160_000...240_000).contains(valid), "\(valid)")
    }
}
