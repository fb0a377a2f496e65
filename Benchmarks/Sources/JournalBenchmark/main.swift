// The journal's hash chains: what they cost on appends, and how fast a journal verifies.
//
//   swift run -c release --package-path Benchmarks JournalBenchmark [--entries N] [--batch N] [--repetitions N]
//
// (a) plain: journal entries appended with GRDB to the store's own `journal` table (schema of
//     the current version, on a fresh SQLiteStore's file), synchronous = FULL, --batch entries
//     per transaction, the statement the store ran before the chains.
// (b) chained: the same appends through the store's own code (`JournalTip`, which the store's
//     writer runs): the sequence, the entry's SHA-256 (`JournalChain`) after the remembered tip,
//     the insert with it, and the transaction's link of the journal's chain. (b)/(a) is the figure, in wall-clock time and in this process's
//     CPU time (which other processes on a busy machine inflate less): goal at most 1.10.
// (c) for context: the same number of entries through the store itself (`.appendJournal`, 64
//     writers at once, group-committed), entries/s.
// (d) verification: `verifyJournal` over the whole journal, entries/s.
// Entries spread over 1,000 incidents; each in a fresh folder; the median of --repetitions.

@_spi(Benchmarks) import AutomatorRuntime
import Foundation
import GRDB

struct Options {
    var entries = 100_000
    var batch = 64
    var repetitions = 5

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let name = iterator.next() {
            guard let value = iterator.next(), let number = Int(value), number > 0 else { fatalError("\(name) needs a number") }
            switch name {
            case "--entries": entries = number
            case "--batch": batch = number
            case "--repetitions": repetitions = number
            default: fatalError("unknown option \(name): --entries N, --batch N, --repetitions N")
            }
        }
    }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let incidents = 1_000

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// A fresh store's folder with the incidents the entries go to.
func freshStore() async throws -> (folder: String, store: SQLiteStore) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-bench-\(UUID())").path
    let store = try SQLiteStore(folder: folder)
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

func processCPU() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Appends with GRDB directly, `chained` (the store's `JournalTip`) or not.
func direct(chained: Bool) async throws -> Cost {
    let (folder, store) = try await freshStore()
    await store.close()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    let queue = try DatabaseQueue(path: folder + "/automator.sqlite", configuration: configuration)
    let tip = JournalTip()
    let start = (wall: Date(), cpu: processCPU())
    var first = 0
    while first < options.entries {
        let range = first..<min(first + options.batch, options.entries)
        try await queue.write { db in
            if chained { try tip.begin(db) }
            for index in range {
                var appended = entry(index)
                if chained {
                    try tip.append(&appended, to: db)
                } else {
                    try db.cachedStatement(sql: "INSERT INTO journal (incident, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)")
                        .execute(arguments: [appended.incident.number, Int64(appended.at.timeIntervalSince1970 * 1000),
                                             appended.actor, appended.kind.rawValue, appended.text])
                }
            }
            if chained { try tip.link(db) }
        }
        first = range.upperBound
    }
    let cost = Cost(wall: Date().timeIntervalSince(start.wall), cpu: processCPU() - start.cpu)
    try queue.close()
    return cost
}

/// Appends through the store, 64 writers at once; then verifies. Seconds of each.
func throughStore() async throws -> (append: Double, verify: Double) {
    let (folder, store) = try await freshStore()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let writers = 64
    let start = Date()
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
    let append = Date().timeIntervalSince(start)
    let verifying = Date()
    let verification = try await store.verifyJournal(of: nil)
    let verify = Date().timeIntervalSince(verifying)
    precondition(verification.problem == nil && verification.entries == options.entries, "the journal did not verify")
    await store.close()
    return (append, verify)
}

print("Journal: \(options.entries) entries over \(incidents) incidents, \(options.batch) per transaction, "
    + "median of \(options.repetitions); load average \(String(format: "%.2f", loadAverage()))")
var plain: [Cost] = []
var chained: [Cost] = []
var store: [Double] = []
var verify: [Double] = []
for _ in 0..<options.repetitions {
    // Alternating, so that the machine's drift touches both alike.
    plain.append(try await direct(chained: false))
    chained.append(try await direct(chained: true))
    let (append, verified) = try await throughStore()
    store.append(append)
    verify.append(verified)
}
let rate = { (seconds: Double) in Double(options.entries) / seconds }
let wall = median(chained.map(\.wall)) / median(plain.map(\.wall))
let cpu = median(chained.map(\.cpu)) / median(plain.map(\.cpu))
print(String(format: "(a) plain appends:          %9.0f entries/s, %.2f µs of CPU each", rate(median(plain.map(\.wall))),
             median(plain.map(\.cpu)) / Double(options.entries) * 1e6))
print(String(format: "(b) chained appends:        %9.0f entries/s, %.2f µs of CPU each", rate(median(chained.map(\.wall))),
             median(chained.map(\.cpu)) / Double(options.entries) * 1e6))
print(String(format: "    (b)/(a) wall, CPU:      %9.3f, %.3f   goal <= 1.10  %@", wall, cpu,
             max(wall, cpu) <= 1.10 ? "PASS" : "MISS"))
print(String(format: "(c) through the store:      %9.0f entries/s (64 writers, group commit)", rate(median(store))))
print(String(format: "(d) verification:           %9.0f entries/s", rate(median(verify))))
print("load average \(String(format: "%.2f", loadAverage()))")

func loadAverage() -> Double {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) > 0 ? loads[0] : -1
}
