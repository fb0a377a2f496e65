// The journal's hash chains: what they cost on appends, and how fast a journal verifies.
//
//   swift run -c release --package-path Benchmarks JournalBenchmark [--entries N] [--batch N] [--repetitions N]
//                                                                    [--only plain|chained]
//
// The figure, appends with the chains against the same appends without them: the append rate at
// most 10% lower, read strictly as at most 1.10 times the wall-clock time (the rate's inverse). This
// process's CPU time, which other processes on a busy machine inflate less, is printed beside it
// as a check, not as the figure. Measured two ways:
// (a)/(b) through the store, as every append in Automator is made: `.appendJournal` from 64 writers
//     at once, one entry each time, group-committed, on a store whose journal appends without the
//     chains (a: `JournalTip(chained: false)`, the statement the store ran before them) or with them (b).
// (c)/(d) the appends alone, the strictest view of the chains' cost: GRDB on the store's file,
//     --batch entries per transaction, without (c) and with (d) the store's `JournalTip` (the
//     remembered tip, the entry's SHA-256, the insert with it, the transaction's link).
// (e) verification: `verifyJournal` over the whole journal, entries/s.
// Synchronous = FULL; entries spread over 1,000 incidents; each measurement in a fresh folder;
// the sides measured in pairs, back to back, the first alternating; the ratios are the median of
// the pairs' (their range printed beside), the rates the median of --repetitions.

import ArgumentParser
@_spi(Benchmarks) import AutomatorRuntime
import BenchSupport
import Foundation
import GRDB

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "JournalBenchmark",
        abstract: "The journal's hash chains: what they cost on appends, and how fast a journal verifies.",
        discussion: """
            Appends with the chains against the same appends without them, measured in pairs: \
            (a)/(b) through the store, from 64 writers at once, group-committed; (c)/(d) the appends \
            alone with GRDB, --batch entries a transaction; (e) verifyJournal over the whole journal. \
            SQLite FULL, a fresh folder each time; prints the ratios (median of the pairs) and rates.
            Goal: the append rate with the chains at most 10% lower, read as at most 1.10 times the \
            wall-clock time; the CPU ratio is printed beside it.

            Example:
              swift build -c release --package-path Benchmarks --product JournalBenchmark
              Benchmarks/.build/release/JournalBenchmark --entries 100000 --repetitions 5
            """
    )

    enum Side: String, ExpressibleByArgument, CaseIterable { case plain, chained }

    @Option(help: "Entries per measurement.") var entries = 100_000
    @Option(help: "Entries per transaction of the appends alone, (c) and (d).") var batch = 64
    @Option(help: "Pairs measured; the medians are the result.") var repetitions = 5
    @Option(help: "Append through the store on this side alone, for a profiler; prints no figure (default: both, compared).")
    var only: Side?

    func validate() throws {
        try requirePositive(["--entries": entries, "--batch": batch, "--repetitions": repetitions])
    }
}

let options = Options.fromCommandLine()
let incidents = 1_000

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// A fresh store's folder with the incidents the entries go to.
func freshStore(chained: Bool = true) async throws -> (folder: String, store: SQLiteStore) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-bench-\(UUID())").path
    let store = try SQLiteStore(folder: folder, journal: JournalTip(chained: chained))
    for number in 1...incidents {
        try await store.write(.createIncident(Incident(id: IncidentID(number), title: "Bench \(number)", type: "bench",
                                                       severity: .low)))
    }
    return (folder, store)
}

func entry(_ index: Int) -> JournalEntry {
    JournalEntry(incident: IncidentID(index % incidents + 1), actor: "playbook run-0123456789abcdef", kind: .note,
                 text: "step \(index): sender domain examp1e-hr.com looked up, 2 of 3 sources malicious")
}

/// Seconds of wall-clock and of this process's CPU time.
struct Cost {
    var wall: Double
    var cpu: Double
}

/// Appends with GRDB directly through a `JournalTip`, `chained` or not.
func direct(chained: Bool) async throws -> Cost {
    let (folder, store) = try await freshStore()
    await store.close()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    let queue = try DatabaseQueue(path: folder + "/automator.sqlite", configuration: configuration)
    let tip = JournalTip(chained: chained)
    let start = (wall: Date(), cpu: processCPU())
    var first = 0
    while first < options.entries {
        let range = first..<min(first + options.batch, options.entries)
        try await queue.write { db in
            tip.begin()
            for index in range {
                var appended = entry(index)
                try tip.append(&appended, to: db)
            }
            try tip.link(db)
        }
        first = range.upperBound
    }
    let cost = Cost(wall: Date().timeIntervalSince(start.wall), cpu: processCPU() - start.cpu)
    try queue.close()
    return cost
}

/// Appends through the store, 64 writers at once, `chained` or not; then, chained and
/// `verifying`, verifies.
func throughStore(chained: Bool, verifying: Bool = true) async throws -> (append: Cost, verify: Double?) {
    let (folder, store) = try await freshStore(chained: chained)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let writers = 64
    let start = (wall: Date(), cpu: processCPU())
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                for index in stride(from: writer, to: options.entries, by: writers) {
                    try await store.write(.appendJournal([entry(index)]))
                }
            }
        }
        try await group.waitForAll()
    }
    let append = Cost(wall: Date().timeIntervalSince(start.wall), cpu: processCPU() - start.cpu)
    guard chained, verifying else {
        await store.close()
        return (append, nil)
    }
    let verifying = Date()
    let verification = try await store.verifyJournal(of: nil)
    let verify = Date().timeIntervalSince(verifying)
    precondition(verification.problem == nil && verification.entries == options.entries, "the journal did not verify")
    await store.close()
    return (append, verify)
}

if let only = options.only {
    for _ in 0..<options.repetitions { _ = try await throughStore(chained: only == .chained, verifying: false) }
    exit(0)
}

print("Journal: \(options.entries) entries over \(incidents) incidents, \(options.batch) per transaction in (c)/(d), "
    + "median of \(options.repetitions); load average \(String(format: "%.2f", loadAverage()))")
var storePlain: [Cost] = []
var storeChained: [Cost] = []
var plain: [Cost] = []
var chained: [Cost] = []
var verify: [Double] = []
for repetition in 0..<options.repetitions {
    // Each pair back to back, the side that goes first alternating: the machine's drift (other
    // processes come and go) touches both sides of a pair alike.
    for chainedFirst in repetition.isMultiple(of: 2) ? [false, true] : [true, false] {
        let (append, verified) = try await throughStore(chained: chainedFirst)
        if chainedFirst {
            storeChained.append(append)
            verify.append(verified ?? 0)
        } else {
            storePlain.append(append)
        }
    }
    for chainedFirst in repetition.isMultiple(of: 2) ? [false, true] : [true, false] {
        let cost = try await direct(chained: chainedFirst)
        if chainedFirst { chained.append(cost) } else { plain.append(cost) }
    }
}
let rate = { (seconds: Double) in Double(options.entries) / seconds }

/// Prints one side's rate and CPU per entry.
func side(_ label: String, _ costs: [Cost]) {
    print(String(format: "%@ %9.0f entries/s, %.2f µs of CPU each", label.padding(toLength: 36, withPad: " ", startingAt: 0),
                 rate(median(costs.map(\.wall))), median(costs.map(\.cpu)) / Double(options.entries) * 1e6))
}

/// Prints the chained side against the plain one, wall and CPU: the median of the pairs' ratios,
/// and their range, which shows how much the machine moved them. The goal is the rate's, so the
/// verdict is the wall-clock time's.
func ratio(_ label: String, _ chained: [Cost], _ plain: [Cost]) {
    let walls = zip(chained, plain).map { $0.wall / $1.wall }
    let cpus = zip(chained, plain).map { $0.cpu / $1.cpu }
    let (wall, cpu) = (median(walls), median(cpus))
    print(String(format: "%@ %9.3f, %.3f   goal: wall <= 1.10  %@  (pairs: wall %.2f-%.2f, CPU %.2f-%.2f)",
                 label.padding(toLength: 36, withPad: " ", startingAt: 0), wall, cpu, wall <= 1.10 ? "PASS" : "MISS",
                 walls.min() ?? 0, walls.max() ?? 0, cpus.min() ?? 0, cpus.max() ?? 0))
}

side("(a) through the store, plain:", storePlain)
side("(b) through the store, chained:", storeChained)
ratio("    (b)/(a), the figure: wall, CPU", storeChained, storePlain)
side("(c) appends alone, plain:", plain)
side("(d) appends alone, chained:", chained)
ratio("    (d)/(c), strictest: wall, CPU", chained, plain)
print(String(format: "(e) verification:                    %9.0f entries/s", rate(median(verify))))
print("load average \(String(format: "%.2f", loadAverage()))")

func loadAverage() -> Double {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) > 0 ? loads[0] : -1
}
