import CDigest
import Crypto
import Foundation
import Testing

@Suite("SHA-256 in C: the FIPS examples, and swift-crypto's digest for every length, on both paths")
struct DigestTests {
    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Both the chosen path (the CPU's instructions here) and the portable one.
    static func digests(_ bytes: [UInt8]) -> (chosen: String, portable: String) {
        var chosen = [UInt8](repeating: 0, count: 32)
        var portable = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { input in
            cdigest_sha256(input.baseAddress, input.count, &chosen)
            cdigest_sha256_portable(input.baseAddress, input.count, &portable)
        }
        return (hex(chosen), hex(portable))
    }

    @Test("The examples of FIPS 180-4: empty, abc, two blocks, a million a")
    func examples() {
        for (text, expected) in [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (String(repeating: "a", count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ] {
            let (chosen, portable) = Self.digests(Array(text.utf8))
            #expect(chosen == expected && portable == expected, "\(text.prefix(10)): \(chosen), \(portable)")
        }
    }

    @Test("Every length from 0 to 300 bytes, and some long ones, as swift-crypto hashes them")
    func againstSwiftCrypto() {
        var generator = SystemRandomNumberGenerator()
        for size in Array(0...300) + [1_023, 4_096, 65_537] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Self.hex(SHA256.hash(data: bytes))
            let (chosen, portable) = Self.digests(bytes)
            #expect(chosen == expected && portable == expected, "\(size) bytes")
        }
    }

    @Test("The CPU's SHA instructions are used where /proc/cpuinfo lists them")
    func cpuInstructions() throws {
        let flags = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let listed = flags.split(whereSeparator: \.isWhitespace).contains("sha_ni")
        #expect((cdigest_sha256_uses_cpu_instructions() != 0) == listed)
    }
}
