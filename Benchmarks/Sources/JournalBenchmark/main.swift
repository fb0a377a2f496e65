// The journal's hash chains: what they cost on appends, and how fast a journal verifies.
//
//   swift run -c release --package-path Benchmarks JournalBenchmark [--entries N] [--batch N] [--repetitions N]
//
// (a) plain: journal entries appended with GRDB to the store's own `journal` table (schema of
//     the current version, on a fresh SQLiteStore's file), synchronous = FULL, --batch entries
//     per transaction, the statement the store ran before the chains.
// (b) chained: the same appends with the statements the store runs now (SQLiteStore+Incidents,
//     `append`): the last entry's sequence and chain, the incident's last hash, two SHA-256
//     (JournalChain), and the insert with both. (b)/(a) is the figure: goal at most 1.10.
// (c) for context: the same number of entries through the store itself (`.appendJournal`, 64
//     writers at once, group-committed), entries/s.
// (d) verification: `verifyJournal` over the whole journal, entries/s.
// Entries spread over 1,000 incidents; each in a fresh folder; the median of --repetitions.

import AutomatorRuntime
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

/// Appends with GRDB directly, `chained` or not; seconds.
func direct(chained: Bool) async throws -> Double {
    let (folder, store) = try await freshStore()
    await store.close()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    let queue = try DatabaseQueue(path: folder + "/automator.sqlite", configuration: configuration)
    let start = Date()
    var first = 0
    while first < options.entries {
        let range = first..<min(first + options.batch, options.entries)
        try await queue.write { db in
            for index in range {
                let appended = entry(index)
                if chained {
                    let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT sequence, chain FROM journal ORDER BY sequence DESC LIMIT 1"))
                    let previous = try Data.fetchOne(db.cachedStatement(sql: """
                        SELECT hash FROM journal WHERE incident = ? ORDER BY sequence DESC LIMIT 1
                        """), arguments: [appended.incident.number])
                    var sequenced = appended
                    sequenced.sequence = (last?[0] as Int64? ?? 0) + 1
                    let hash = JournalChain.hash(of: sequenced, after: previous.map(Array.init) ?? JournalChain.origin)
                    let chain = JournalChain.chain(hash, after: (last?[1] as Data?).map(Array.init) ?? JournalChain.origin)
                    try db.cachedStatement(sql: """
                        INSERT INTO journal (sequence, incident, at, actor, kind, text, hash, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """).execute(arguments: [sequenced.sequence, appended.incident.number,
                                                 Int64(appended.at.timeIntervalSince1970 * 1000), appended.actor,
                                                 appended.kind.rawValue, appended.text, Data(hash), Data(chain)])
                } else {
                    try db.cachedStatement(sql: "INSERT INTO journal (incident, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)")
                        .execute(arguments: [appended.incident.number, Int64(appended.at.timeIntervalSince1970 * 1000),
                                             appended.actor, appended.kind.rawValue, appended.text])
                }
            }
        }
        first = range.upperBound
    }
    let seconds = Date().timeIntervalSince(start)
    try queue.close()
    return seconds
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
var plain: [Double] = []
var chained: [Double] = []
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
let ratio = median(chained) / median(plain)
print(String(format: "(a) plain appends:          %9.0f entries/s", rate(median(plain))))
print(String(format: "(b) chained appends:        %9.0f entries/s", rate(median(chained))))
print(String(format: "    (b)/(a) time:           %9.3f   goal <= 1.10  %@", ratio, ratio <= 1.10 ? "PASS" : "MISS"))
print(String(format: "(c) through the store:      %9.0f entries/s (64 writers, group commit)", rate(median(store))))
print(String(format: "(d) verification:           %9.0f entries/s", rate(median(verify))))
print("load average \(String(format: "%.2f", loadAverage()))")

func loadAverage() -> Double {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) > 0 ? loads[0] : -1
}
