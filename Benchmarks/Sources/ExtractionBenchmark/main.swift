// Indicator extraction against iocextract and ioc-finder: precision, recall and F1 per type on
// a labeled corpus, and throughput (single-threaded MB/s).
//
//   pip install iocextract ioc-finder
//   swift build -c release --package-path Benchmarks --product ExtractionBenchmark
//   Benchmarks/.build/release/ExtractionBenchmark [--corpus FILE] [--python python3]
//       [--megabytes 50] [--sample-kilobytes 200] [--misses]
//
// The corpus (Benchmarks/corpus/extraction/corpus.jsonl, made by generate.py there) holds
// documents and the indicators an analyst wants from each. Scores are per type, micro-averaged
// over documents, on the deduplicated (type, value) pairs. The peers run through peers.py,
// which normalises their values as Automator's are; a type a peer does not extract is shown
// as "-" and left out of the comparison. Automator's throughput is one `Extractor.extract` over
// the corpus repeated to --megabytes; the peers', one call per document over a sample of
// --sample-kilobytes. Goals: Automator's F1 at least the best peer's on every type, and its
// throughput at least 50 times the fastest peer's. --misses lists Automator's errors.

import ArgumentParser
import AutomatorRuntime
import BenchSupport
import Foundation

struct Label: Codable, Hashable {
    var type: String
    var value: String
}

struct Document: Decodable {
    var text: String
    var expected: [Label]
}

struct PeerLine: Decodable {
    var tool: String
    var doc: Int?
    var found: [Label]?
    var bytes: Int?
    var seconds: Double?
    var types: [String]?
}

struct Score {
    var truePositives = 0, falsePositives = 0, falseNegatives = 0
    var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
    var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 1 : Double(a) / Double(b) }

    mutating func add(found: Set<Label>, expected: Set<Label>) {
        truePositives += found.intersection(expected).count
        falsePositives += found.subtracting(expected).count
        falseNegatives += expected.subtracting(found).count
    }
}

/// A tool's scores per type, over the corpus.
func score(_ results: [Set<Label>], against documents: [Document]) -> [String: Score] {
    var scores: [String: Score] = [:]
    for (found, document) in zip(results, documents) {
        for type in IndicatorType.allCases.map(\.rawValue) {
            scores[type, default: Score()].add(
                found: found.filter { $0.type == type }, expected: Set(document.expected.filter { $0.type == type }))
        }
    }
    return scores
}

let corpusFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../corpus/extraction").standardizedFileURL

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ExtractionBenchmark",
        abstract: "Indicator extraction against iocextract and ioc-finder: precision, recall and F1 per type "
            + "on a labeled corpus, and single-threaded MB/s.",
        discussion: """
            Scores are per type, micro-averaged over documents, on the deduplicated (type, value) \
            pairs; the peers run through corpus/extraction/peers.py (pip install iocextract ioc-finder \
            first). Automator's throughput is one Extractor.extract over the corpus repeated to \
            --megabytes; the peers', one call per document over --sample-kilobytes.
            Goals: Automator's F1 at least the best peer's on every type, and its throughput at least \
            50 times the fastest peer's.

            Example:
              swift build -c release --package-path Benchmarks \\
                  --product ExtractionBenchmark
              Benchmarks/.build/release/ExtractionBenchmark --megabytes 50 --misses
            """
    )

    @Option(help: ArgumentHelp("The labeled corpus, one JSON document a line.", valueName: "file"))
    var corpus = corpusFolder.appendingPathComponent("corpus.jsonl").path
    @Option(help: ArgumentHelp("The Python that has iocextract and ioc-finder.", valueName: "path"))
    var python = "python3"
    @Option(help: "Megabytes of text Automator extracts from in one call.") var megabytes = 50
    @Option(help: "Kilobytes of the sample each peer extracts from.") var sampleKilobytes = 200
    @Flag(help: "List Automator's misses and extras, document by document.") var misses = false

    func validate() throws {
        try requirePositive(["--megabytes": megabytes, "--sample-kilobytes": sampleKilobytes])
    }
}

let options = Options.fromCommandLine()
let corpusPath = options.corpus
let python = options.python
let megabytes = options.megabytes
let sampleKilobytes = options.sampleKilobytes

let corpusText = try String(contentsOfFile: corpusPath, encoding: .utf8)
let documents = try corpusText.split(separator: "\n").map { try JSONDecoder().decode(Document.self, from: Data($0.utf8)) }
let labelCount = documents.reduce(0) { $0 + $1.expected.count }
print("Corpus: \(documents.count) documents, \(labelCount) labels (\(corpusPath))")

// Automator: accuracy, then throughput.
let ours = documents.map { document in
    Set(Extractor.extract(document.text.utf8).map { Label(type: $0.type.rawValue, value: $0.value) })
}
var tools: [(name: String, scores: [String: Score], types: Set<String>, megabytesPerSecond: Double)] = []

var big: [UInt8] = []
while big.count < megabytes * 1_000_000 {
    for document in documents {
        big.append(contentsOf: document.text.utf8)
        big.append(UInt8(ascii: "\n"))
    }
}
var best = Double.infinity
for _ in 0..<3 {
    let clock = ContinuousClock()
    let start = clock.now
    let found = Extractor.extract(big)
    best = min(best, seconds(clock.now - start))
    precondition(!found.isEmpty)
}
tools.append(("Automator", score(ours, against: documents), Set(IndicatorType.allCases.map(\.rawValue)),
    Double(big.count) / best / 1e6))

// The peers, through peers.py.
let peers = Process()
peers.executableURL = URL(fileURLWithPath: "/usr/bin/env")
peers.arguments = [python, corpusFolder.appendingPathComponent("peers.py").path, corpusPath,
    "--sample-bytes", String(sampleKilobytes * 1000)]
let output = Pipe()
peers.standardOutput = output
try peers.run()
let peerData = output.fileHandleForReading.readDataToEndOfFile()
peers.waitUntilExit()
guard peers.terminationStatus == 0 else {
    print("peers.py failed (is `pip install iocextract ioc-finder` done?)")
    exit(1)
}
var peerFound: [String: [Set<Label>]] = [:]
var peerSpeed: [String: (Double, Set<String>)] = [:]
var peerOrder: [String] = []
for line in peerData.split(separator: UInt8(ascii: "\n")) {
    let entry = try JSONDecoder().decode(PeerLine.self, from: line)
    if let doc = entry.doc, let found = entry.found {
        if peerFound[entry.tool] == nil {
            peerOrder.append(entry.tool)
            peerFound[entry.tool] = Array(repeating: [], count: documents.count)
        }
        peerFound[entry.tool]![doc] = Set(found)
    } else if let bytes = entry.bytes, let time = entry.seconds {
        peerSpeed[entry.tool] = (Double(bytes) / time / 1e6, Set(entry.types ?? []))
    }
}
for tool in peerOrder {
    let (speed, types) = peerSpeed[tool] ?? (0, [])
    tools.append((tool, score(peerFound[tool]!, against: documents), types, speed))
}

// The table.
func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
func figure(_ value: Double) -> String { String(format: "%.3f", value) }
var header = cell("type", 8)
for tool in tools { header += " | " + cell("\(tool.name) P / R / F1", 23) }
print("\n" + header + " | F1 >= best peer")
print(String(repeating: "-", count: header.count + 18))
var allTypesMet = true
for type in IndicatorType.allCases.map(\.rawValue) {
    var row = cell(type, 8)
    for tool in tools {
        guard tool.types.contains(type), let score = tool.scores[type] else {
            row += " | " + cell("-", 23)
            continue
        }
        row += " | " + cell("\(figure(score.precision)) \(figure(score.recall)) \(figure(score.f1))", 23)
    }
    let bestPeer = tools.dropFirst().filter { $0.types.contains(type) }.compactMap { $0.scores[type]?.f1 }.max() ?? 0
    let met = tools[0].scores[type]!.f1 >= bestPeer
    allTypesMet = allTypesMet && met
    print(row + " | " + (met ? "yes" : "NO") + String(format: " (%.3f vs %.3f)", tools[0].scores[type]!.f1, bestPeer))
}
var speedRow = cell("MB/s", 8)
for tool in tools { speedRow += " | " + cell(String(format: "%.2f", tool.megabytesPerSecond), 23) }
print(speedRow)
let fastestPeer = tools.dropFirst().map(\.megabytesPerSecond).max() ?? 0
let speedup = tools[0].megabytesPerSecond / fastestPeer
print(String(format: "\nAutomator: %.1f MB in one call; peers: %d kB sample, one call per document.", Double(big.count) / 1e6, sampleKilobytes))
print("F1 at least the best peer's on every type: \(allTypesMet ? "yes" : "NO")")
print(String(format: "Speed: %.0fx the fastest peer (goal 50x): %@", speedup, speedup >= 50 ? "yes" : "NO"))

if options.misses {
    for (index, (found, document)) in zip(ours, documents).enumerated() {
        let expected = Set(document.expected)
        let missed = expected.subtracting(found), extra = found.subtracting(expected)
        guard !missed.isEmpty || !extra.isEmpty else { continue }
        print("\n#\(index): \(document.text)")
        for label in missed { print("  missed \(label.type) \(label.value)") }
        for label in extra { print("  extra  \(label.type) \(label.value)") }
    }
}
