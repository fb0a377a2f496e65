@testable import AutomatorRuntime
import Foundation
import Testing

/// Values for generated feeds; seeded, so the same feeds and queries on every run.
private extension XorShift64Star {
    mutating func below(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &self) }

    mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &self)! }

    mutating func letters(_ count: Int) -> String {
        String((0..<count).map { _ in pick(Array("abcdefghijklmnopqrstuvwxyz0123456789-")) })
            .replacingOccurrences(of: "-", with: "a", options: .anchored)
    }

    mutating func hex(_ digits: Int) -> String {
        String((0..<digits).map { _ in pick(Array("0123456789abcdef")) })
    }

    mutating func ipv4() -> UInt32 {
        // A few /8s, so random addresses often fall in listed networks.
        UInt32(pick([10, 198, 203])) << 24 | UInt32(truncatingIfNeeded: next()) >> 8
    }

    mutating func ipv6() -> UInt128 {
        UInt128(pick([0x2001_0db8, 0x2a02_0c00])) << 96 | UInt128(next() & 0xFFFF) << 80 | UInt128(next())
    }

    mutating func domain() -> String {
        letters(1 + below(8)) + "." + pick(["com", "net", "co.uk", "example"])
    }
}

@Suite("Feeds: batched lookups")
struct FeedBatchTests {
    private static func text(v4 address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }

    private static func text(v6 address: UInt128) -> String {
        (0..<8).map { String(UInt16(truncatingIfNeeded: address >> (112 - 16 * $0)), radix: 16) }
            .joined(separator: ":")
    }

    /// Two feeds over the same kinds of values (some listed in both, so lookups find lists of
    /// origins and several entries at once), and queries of every type: listed values, values
    /// under listed networks and domains, unlisted ones, and values that are not of their type.
    private static func generate(in folder: String) throws -> (feeds: [Feed], queries: [FeedIndex.Query]) {
        var random = XorShift64Star(state: 5)
        var listed: [[String]] = [[], []]
        var queries: [FeedIndex.Query] = []
        func list(_ value: String, comment: String? = nil) {
            let line = comment.map { value + " # " + $0 } ?? value
            switch random.below(4) {
            case 0: listed[0].append(line); listed[1].append(line)
            case 1: listed[1].append(line)
            default: listed[0].append(line)
            }
        }
        func ask(_ type: IndicatorType, _ value: String) { queries.append((type, value)) }
        for number in 0..<400 {
            let address = random.ipv4()
            list(text(v4: address), comment: number % 3 == 0 ? "scanner \(number % 7)" : nil)
            ask(.ipv4, text(v4: address))
            ask(.ipv4, text(v4: random.ipv4()))
            ask(.ipv6, "::ffff:" + text(v4: address))
            ask(.ipv6, "::ffff:" + text(v4: random.ipv4()))
            let length = 8 + random.below(24)
            let network = random.ipv4() & (UInt32.max << (32 - length))
            list("\(text(v4: network))/\(length)")
            ask(.ipv4, text(v4: network | random.ipv4() & ~(UInt32.max << (32 - length))))

            let v6 = random.ipv6()
            list(text(v6: v6))
            ask(.ipv6, text(v6: v6))
            ask(.ipv6, text(v6: v6).uppercased())
            ask(.ipv6, text(v6: random.ipv6()))
            let v6Length = random.pick([16, 24, 32, 48, 56, 64, 96, 120])
            let v6Network = random.ipv6() & (UInt128.max << (128 - v6Length))
            list("\(text(v6: v6Network))/\(v6Length)")
            ask(.ipv6, text(v6: v6Network | random.ipv6() & ~(UInt128.max << (128 - v6Length))))

            let domain = random.domain()
            list(domain, comment: number % 2 == 0 ? "phishing" : nil)
            ask(.domain, domain)
            ask(.domain, "www." + domain)
            ask(.domain, random.letters(3) + ".a." + domain)
            ask(.domain, random.domain())
            let url = "https://" + random.domain() + "/" + random.letters(1 + random.below(40))
            list(url)
            ask(.url, url)
            ask(.url, url + "x")
            let email = random.letters(5) + "@" + random.domain()
            list(email)
            ask(.email, email)
            ask(.email, "x" + email)
            let cve = "CVE-20\(10 + random.below(15))-\(1000 + random.below(90_000))"
            list(cve)
            ask(.cve, cve)
            ask(.cve, "CVE-1999-\(1000 + random.below(9000))")
            for (type, digits) in [(IndicatorType.md5, 32), (.sha1, 40), (.sha256, 64), (.sha512, 128)] {
                let hash = random.hex(digits)
                list(hash)
                ask(type, hash)
                ask(type, hash.uppercased())
                ask(type, random.hex(digits))
            }
        }
        list("xn--bcher-kva.example")
        ask(.domain, "bücher.example")
        ask(.domain, "shop.bücher.example")
        // Not of their type: nothing, as one at a time.
        for (type, value) in [(IndicatorType.ipv4, "1.2.3"), (.ipv4, "01.2.3.4"), (.ipv4, "2001:db8::1"),
                              (.ipv6, "2001:db8:::1"), (.ipv6, "198.51.100.7"), (.domain, ""), (.domain, ".com"),
                              (.md5, "xyz"), (.md5, String(repeating: "g", count: 32)),
                              (.sha256, String(repeating: "a", count: 63)), (.url, ""), (.cve, "")] {
            ask(type, value)
        }
        queries.shuffle(using: &random)
        let feeds = try (0..<2).map { number in
            let path = folder + "/feed\(number).txt"
            try Data(listed[number].joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
            return Feed(name: "feed\(number)", verdict: number == 0 ? .malicious : .benign, path: path, format: .text)
        }
        return (feeds, queries)
    }

    @Test("A batch answers every lookup as one at a time does: every type, hits and misses, networks, parents")
    func batchEqualsSingle() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("automator-batch-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (feeds, queries) = try Self.generate(in: folder)
        let set = FeedSet(feeds: feeds)
        #expect(set.statuses.allSatisfy { $0.failure == nil && $0.problemCount == 0 })
        let index = set.index

        let single = queries.map { index.matches($0.type, $0.value).map(\.description) }
        // The queries are built to hit and miss in every table: check that they do.
        for type in IndicatorType.allCases {
            let answers = zip(queries, single).filter { $0.0.type == type }.map(\.1)
            #expect(answers.contains { !$0.isEmpty }, "no \(type) hit")
            #expect(answers.contains { $0.isEmpty }, "no \(type) miss")
        }
        #expect(single.contains { $0.count >= 2 }, "no lookup found several listings")

        // Whole, and in pieces that end inside, at, and just past a window.
        var start = 0
        for size in [queries.count, 0, 1, 2, 63, 64, 65, 127, 128, 129, 1000] {
            let end = min(start + size, queries.count)
            let batch = index.matches(Array(queries[start..<end])).map { $0.map(\.description) }
            #expect(batch.count == end - start)
            for (offset, answer) in batch.enumerated() where answer != single[start + offset] {
                Issue.record("\(queries[start + offset]): \(answer) in a batch, \(single[start + offset]) alone")
            }
            start = size == queries.count ? 0 : end
        }
    }

    @Test("A batch on an index with no feeds finds nothing, for every type")
    func emptyIndex() {
        let index = FeedSet(feeds: []).index
        let queries: [FeedIndex.Query] = IndicatorType.allCases.map { ($0, "198.51.100.7") }
            + [(.domain, "a.b.example"), (.md5, String(repeating: "a", count: 32))]
        let found = index.matches(queries)
        #expect(found.count == queries.count)
        #expect(found.allSatisfy { $0.isEmpty })
    }
}
