// Local threat-intel feeds: lookups per second on one core, and resident bytes per indicator.
//
//   swift build -c release --package-path Benchmarks --product FeedBenchmark
//   Benchmarks/.build/release/FeedBenchmark [--folder DIR]
//
// Writes 1,000,000 indicators, generated from a fixed seed, as the four feed formats into a
// new folder in --folder (the temporary directory by default), removed at the end: IPv4
// addresses and networks and domains as text lists, URLs and MD5s as CSV, SHA-256s as a STIX
// 2.1 bundle, IPv6 addresses and networks as a MISP feed. Then loads them into a FeedSet,
// measuring resident memory (from /proc/self/statm, after returning freed heap to the system)
// before and after; then times lookups of a shuffled mix of hits and misses of every type on
// this one thread, per CPU second of the thread (other processes share the machine): one at a
// time, and the same queries in batches of 4,096 (`FeedIndex.matches` of an array, as
// `automator intel check` looks up), their passes taken in turn. Goals: at least 5,000,000
// lookups/s, at most 100 resident bytes per indicator.
//
// Every lookup goes to a random place in a 40 MB index: at least one cache miss, which the
// last line measures on its own (a chain of dependent reads over 64 MB).

import ArgumentParser
import AutomatorRuntime
import BenchSupport
import Foundation
import Logging

/// SplitMix64: the same feeds and queries on every run.
struct Generator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func letters(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { alphabet[below($0 == 0 ? 26 : alphabet.count)] })
    }

    mutating func hex(_ digits: Int) -> String {
        (0..<(digits / 16)).map { _ in
            let text = String(next(), radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }

    mutating func ipv4() -> UInt32 { UInt32(truncatingIfNeeded: next()) }

    mutating func ipv6() -> UInt128 {
        let prefixes: [UInt128] = [0x2001, 0x2400, 0x2600, 0x2605, 0x2804, 0x2A00, 0x2A02, 0x2C0F]
        return prefixes[below(prefixes.count)] << 112 | UInt128(next() & 0xFFFF_FFFF_FFFF) << 64 | UInt128(next())
    }

    mutating func domain() -> String {
        let suffixes = ["com", "net", "org", "info", "ru", "cn", "top", "xyz", "co.uk", "com.br"]
        let name = letters(6 + below(9)) + "." + suffixes[below(suffixes.count)]
        return below(4) == 0 ? letters(3 + below(6)) + "." + name : name
    }

    mutating func url() -> String {
        let query = below(2) == 0 ? "/" + letters(6) + ".php?id=\(below(100_000))" : ""
        return "http://" + domain() + "/" + letters(8 + below(24)) + query
    }
}

func text(v4 address: UInt32) -> String {
    "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
}

func text(v6 address: UInt128) -> String {
    (0..<8).map { String(UInt16(truncatingIfNeeded: address >> (112 - 16 * $0)), radix: 16) }.joined(separator: ":")
}

/// A lookup to time: half are of values the feeds list (or addresses in listed networks,
/// subdomains of listed domains), half of values they do not.
struct Query {
    var type: IndicatorType
    var value: String
}

/// Writes the feeds into `folder`; returns them and the queries.
func generate(into folder: String) throws -> (feeds: [Feed], queries: [Query]) {
    var random = Generator(state: 2024)
    var hits: [Query] = []
    var misses: [Query] = []
    func sample(_ query: @autoclosure () -> Query, every: Int = 2) {
        if random.below(every) == 0 { hits.append(query()) }
    }
    func write(_ name: String, _ lines: [String]) throws -> String {
        let path = folder + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    // Text: 250,000 IPv4 addresses and 50,000 networks (/16 to /30), Spamhaus-style comments.
    var lines = ["; generated IPv4 list"]
    for _ in 0..<250_000 {
        let address = random.ipv4()
        lines.append(text(v4: address))
        sample(Query(type: .ipv4, value: text(v4: address)))
        misses.append(Query(type: .ipv4, value: text(v4: random.ipv4())))
    }
    for number in 0..<50_000 {
        let length = 16 + random.below(15)
        let network = random.ipv4() & (UInt32.max << (32 - length))
        lines.append("\(text(v4: network))/\(length) ; SBL\(number % 1000)")
        let inside = network | random.ipv4() & ~(UInt32.max << (32 - length))
        sample(Query(type: .ipv4, value: text(v4: inside)))
    }
    let ips = try write("ips.txt", lines)

    // Text: 250,000 domains; looked up as themselves or as subdomains.
    lines = ["# generated domain list"]
    for number in 0..<250_000 {
        let domain = random.domain()
        lines.append(number % 10 == 0 ? domain + " # phishing" : domain)
        sample(Query(type: .domain, value: random.below(2) == 0 ? domain : "www." + domain))
        misses.append(Query(type: .domain, value: "login." + random.domain()))
    }
    let domains = try write("domains.txt", lines)

    // CSV: 100,000 URLs and 80,000 MD5s, typed, with quoted reasons.
    let reasons = ["\"malware download, exe\"", "phishing", "\"C2 \"\"panel\"\"\"", "exploit kit", "spam"]
    lines = ["indicator,type,reason,first_seen"]
    for _ in 0..<100_000 {
        let url = random.url()
        lines.append("\(url),url,\(reasons[random.below(reasons.count)]),2024-05-01")
        sample(Query(type: .url, value: url))
        misses.append(Query(type: .url, value: random.url()))
    }
    for _ in 0..<80_000 {
        let md5 = random.hex(32)
        lines.append("\(md5),md5,\(reasons[random.below(reasons.count)]),2024-05-01")
        sample(Query(type: .md5, value: md5))
        misses.append(Query(type: .md5, value: random.hex(32)))
    }
    let csv = try write("urls.csv", lines)

    // STIX: 150,000 SHA-256 indicators.
    let families = ["Emotet", "QakBot", "IcedID", "AgentTesla", "Formbook", "RedLine", "Remcos", "AsyncRAT"]
    lines = [#"{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": ["#]
    for number in 0..<150_000 {
        let sha256 = random.hex(64)
        lines.append((number == 0 ? "" : ",") + #"{"type": "indicator", "spec_version": "2.1", "id": "indicator--"#
            + "\(UUID())" + #"", "name": ""# + families[random.below(families.count)]
            + #"", "pattern_type": "stix", "pattern": "[file:hashes.'SHA-256' = '"# + sha256
            + #"']", "valid_from": "2024-05-01T00:00:00Z"}"#)
        sample(Query(type: .sha256, value: sha256))
        misses.append(Query(type: .sha256, value: random.hex(64)))
    }
    lines.append("]}")
    let stix = try write("bundle.json", lines)

    // MISP: 100 events of 1,200 attributes, 100,000 IPv6 addresses and 20,000 networks.
    var manifest: [String] = []
    for event in 0..<100 {
        let uuid = UUID().uuidString.lowercased()
        manifest.append("\"\(uuid)\": {\"info\": \"Campaign \(event)\"}")
        var attributes: [String] = []
        for number in 0..<1_200 {
            let value: String
            if number < 1_000 {
                let address = random.ipv6()
                value = text(v6: address)
                sample(Query(type: .ipv6, value: value))
                misses.append(Query(type: .ipv6, value: text(v6: random.ipv6())))
            } else {
                let length = [32, 40, 48, 56, 64][random.below(5)]
                let network = random.ipv6() & (UInt128.max << (128 - length))
                value = "\(text(v6: network))/\(length)"
                sample(Query(type: .ipv6, value: text(v6: network | random.ipv6() & ~(UInt128.max << (128 - length)))))
            }
            attributes.append("{\"uuid\": \"\(UUID())\", \"type\": \"ip-dst\", \"category\": \"Network activity\", "
                + "\"to_ids\": true, \"value\": \"\(value)\", \"comment\": \"\"}")
        }
        _ = try write("misp/\(uuid).json", ["{\"Event\": {\"uuid\": \"\(uuid)\", \"info\": \"Campaign \(event)\", "
            + "\"Attribute\": [" + attributes.joined(separator: ",") + "]}}"])
    }
    _ = try write("misp/manifest.json", ["{" + manifest.joined(separator: ",") + "}"])

    let feeds = [
        Feed(name: "ips", verdict: .malicious, path: ips, format: .text),
        Feed(name: "domains", verdict: .malicious, path: domains, format: .text),
        Feed(name: "urlhaus", verdict: .malicious, path: csv,
             format: .csv(CSVColumns(value: "indicator", type: "type", comment: "reason"))),
        Feed(name: "stix", verdict: .suspicious, path: stix, format: .stix),
        Feed(name: "misp", verdict: .malicious, path: folder + "/misp", format: .misp),
    ]
    // As many misses as hits, shuffled together; then each string copied, in that order, so
    // they lie in memory in the order they are looked up, as a value just extracted from an
    // alert is at hand: the figure is the index's, not a cache miss on the benchmark's heap.
    for index in misses.indices.reversed() { misses.swapAt(index, random.below(index + 1)) }
    var queries = hits + misses.prefix(hits.count)
    for index in queries.indices.reversed() { queries.swapAt(index, random.below(index + 1)) }
    return (feeds, queries.map { Query(type: $0.type, value: String(decoding: Array($0.value.utf8), as: UTF8.self)) })
}

/// glibc's `malloc_trim`, which Swift's Glibc module does not declare.
let mallocTrim = dlsym(nil, "malloc_trim").map { unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self) }

/// Resident bytes, after handing freed heap memory back to the system (glibc keeps it
/// otherwise, and the figure would count what loading freed).
func residentBytes() -> Int {
    _ = mallocTrim?(0)
    let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// CPU seconds this thread has run: on a shared machine, "per core" means per second on it.
func threadSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func grouped(_ value: Int) -> String {
    value.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
}

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "FeedBenchmark",
        abstract: "Local threat-intel feeds: lookups per second on one core, and resident bytes per indicator.",
        discussion: """
            Writes 1,000,000 indicators from a fixed seed as text, CSV, STIX 2.1 and MISP feeds, \
            loads them into a FeedSet (resident memory before and after), then times lookups of a \
            shuffled mix of hits and misses of every type per CPU second of one thread: one at a \
            time, and in batches of 4,096. The last line is a cache miss alone, for comparison.
            Goals: at least 5,000,000 lookups/s, at most 100 resident bytes per indicator.

            Example:
              swift build -c release --package-path Benchmarks --product FeedBenchmark
              Benchmarks/.build/release/FeedBenchmark
            """
    )

    @Option(help: ArgumentHelp("Where the feeds are written (in a new folder inside it, removed at the end).",
                               valueName: "folder"))
    var folder = FileManager.default.temporaryDirectory.path
}

let folder = Options.fromCommandLine().folder + "/automator-feed-benchmark-\(UUID())"
defer { try? FileManager.default.removeItem(atPath: folder) }

var clock = ContinuousClock.now
let (feeds, queries) = try generate(into: folder)
print("generated 1,000,000 indicators in 5 feeds (text, CSV, STIX 2.1, MISP) in "
    + String(format: "%.2f s", seconds(ContinuousClock.now - clock)))

let before = residentBytes()
clock = .now
let set = FeedSet(feeds: feeds, logger: Logger(label: "benchmark") { _ in SwiftLogNoOpLogHandler() })
let loading = ContinuousClock.now - clock
let after = residentBytes()
let statuses = set.statuses
let loaded = statuses.reduce(0) { $0 + $1.entryCount }
for status in statuses where status.failure != nil || status.problemCount > 0 {
    print("  \(status.feed.name): \(status.failure?.description ?? "") \(status.problemCount) problems "
        + (status.problems.first?.description ?? ""))
}
let index = set.index
print("loaded and indexed \(grouped(loaded)) entries (\(grouped(index.count)) distinct) in "
    + String(format: "%.2f s", seconds(loading)))
let bytesPerIndicator = Double(after - before) / Double(loaded)
print(String(format: "resident: %.1f MB more with the index, %.1f bytes per indicator (goal: at most 100): ",
             Double(after - before) / 1e6, bytesPerIndicator) + (bytesPerIndicator <= 100 ? "PASS" : "MISS"))

/// Looks every query up once, as a caller with a list of extracted indicators does; the number
/// of matches.
func lookUp(_ queries: [Query], in index: FeedIndex) -> Int {
    var found = 0
    for query in queries { found += index.matches(query.type, query.value).count }
    return found
}

/// The queries in batches of 4,096, as `automator intel check` looks up a long list.
func batches(_ queries: [Query]) -> [[FeedIndex.Query]] {
    stride(from: 0, to: queries.count, by: 4096).map { start in
        queries[start..<min(start + 4096, queries.count)].map { ($0.type, $0.value) }
    }
}

/// Looks every query up once, a batch at a time; the number of matches.
func lookUp(_ batches: [[FeedIndex.Query]], in index: FeedIndex) -> Int {
    var found = 0
    for batch in batches {
        for matches in index.matches(batch) { found += matches.count }
    }
    return found
}

/// Lookups per CPU second of this thread, one at a time and in batches, over `passes` passes
/// of each taken in turn: the median pass of each, so a pass that shared the core with another
/// process's burst does not decide the figure, and both see the same machine.
func rates(_ queries: [Query], in index: FeedIndex, passes: Int, found: inout Int) -> (single: Double, batch: Double) {
    let batched = batches(queries)
    var single: [Double] = []
    var batch: [Double] = []
    for _ in 0..<passes {
        var start = threadSeconds()
        found += lookUp(queries, in: index)
        single.append(Double(queries.count) / (threadSeconds() - start))
        start = threadSeconds()
        found += lookUp(batched, in: index)
        batch.append(Double(queries.count) / (threadSeconds() - start))
    }
    return (single.sorted()[passes / 2], batch.sorted()[passes / 2])
}

// Lookups: a warm-up pass, then timed passes, on this thread only.
var found = lookUp(queries, in: index)
let batched = batches(queries)
let batchFound = lookUp(batched, in: index)
if batchFound != found { print("batches found \(batchFound) matches, one at a time \(found): the batch is broken") }
let passes = 7
clock = .now
let mixed = rates(queries, in: index, passes: passes, found: &found)
let elapsed = seconds(ContinuousClock.now - clock)
let hitCount = queries.reduce(0) { $0 + (index.matches($1.type, $1.value).isEmpty ? 0 : 1) }
print("lookups, one core, per CPU second, median of \(passes) passes of " + grouped(queries.count)
    + String(format: ", %.0f%% hits, every type; goal: at least 5 M/s:", 100 * Double(hitCount) / Double(queries.count)))
print(String(format: "  one at a time:        %.2f M/s: ", mixed.single / 1e6) + (mixed.single >= 5e6 ? "PASS" : "MISS"))
print(String(format: "  in batches of 4,096:  %.2f M/s: ", mixed.batch / 1e6) + (mixed.batch >= 5e6 ? "PASS" : "MISS")
    + String(format: " (%.2fx; %.2f M/s wall over all passes of both)", mixed.batch / mixed.single,
             Double(2 * passes * queries.count) / elapsed / 1e6))

for type in IndicatorType.allCases {
    let ofType = queries.filter { $0.type == type }
    guard !ofType.isEmpty else { continue }
    let alone = rates(ofType, in: index, passes: passes, found: &found)
    let name = type.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
    print("  " + name + String(format: " %6.2f M/s alone, %6.2f M/s in batches", alone.single / 1e6, alone.batch / 1e6))
}

var start = threadSeconds()
for query in queries { found += set.matches(query.type, query.value).count }
print(String(format: "through FeedSet.matches (a lock and a clock read each): %.2f M/s per CPU second",
             Double(queries.count) / (threadSeconds() - start) / 1e6))
start = threadSeconds()
for batch in batched {
    for matches in set.index.matches(batch) { found += matches.count }
}
print(String(format: "through FeedSet.index once a batch of 4,096, then FeedIndex.matches: %.2f M/s per CPU second",
             Double(queries.count) / (threadSeconds() - start) / 1e6))
start = threadSeconds()
for batch in batched {
    for sources in set.index.verdicts(for: batch) { found += sources.count }
}
print(String(format: "as intel check does, FeedIndex.verdicts (each listing a source with its reason, a URL's host "
    + "extracted and looked up too): %.2f M/s per CPU second", Double(queries.count) / (threadSeconds() - start) / 1e6))
if found == 0 { print("no matches: the benchmark is broken") }

/// Nanoseconds per read in a chain of reads, each at a place the one before gives, over 64 MB:
/// what one cache miss costs on this machine, with nothing to overlap it.
func dependentMiss() -> Double {
    let count = 1 << 24
    var order = Array(0..<UInt32(count))
    var random = Generator(state: 7)
    for index in order.indices.reversed() { order.swapAt(index, random.below(index + 1)) }
    var next = [UInt32](repeating: 0, count: count)
    for index in 0..<count { next[Int(order[index])] = order[(index + 1) % count] }
    let steps = 2_000_000
    var position: UInt32 = 0
    let start = threadSeconds()
    for _ in 0..<steps { position = next[Int(position)] }
    return (threadSeconds() - start) / Double(steps) * 1e9 + (position == .max ? 1 : 0)
}
print(String(format: "a dependent cache miss on this machine: %.0f ns", dependentMiss()))
