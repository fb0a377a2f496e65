@testable import AutomatorRuntime
import Testing

@Suite("Sizes for people: bytes, then KiB, MiB, GiB, one decimal under 10")
struct ByteSizeTests {
    @Test("Each unit from its first value; no 1024 of a unit; never 0 of one")
    func units() {
        let shown: [(Int64, String)] = [
            (0, "0 bytes"), (1, "1 byte"), (1023, "1023 bytes"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
            (10_188, "9.9 KiB"), (10_189, "10 KiB"), (1_048_063, "1023 KiB"), (1_048_064, "1.0 MiB"),
            (3_248_158, "3.1 MiB"), (32 << 20, "32 MiB"), (5 << 30, "5.0 GiB"), (3 << 40, "3.0 TiB"),
        ]
        for (bytes, text) in shown { #expect(bytes.byteSize == text, "\(bytes)") }
    }
}
