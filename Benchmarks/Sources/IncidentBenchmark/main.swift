// Incidents end to end, against the raw durable insert rate of the same store, in one run.
//
//   swift run -c release --package-path Benchmarks IncidentBenchmark [--incidents N] [--in-flight N]
//                                                                     [--repetitions N] [--folder DIR]
//
// (a) raw: plain GRDB, the store's own `incident` table, synchronous = FULL, one transaction per
//     1,000 rows: incident rows per second.
// (b) end to end: alerts through `IncidentService.ingest` (the mapper, deduplication by source
//     reference, playbook choice, the incident, its journal and its run created in one
//     transaction), then the playbook: three automated steps (two of them durable updates of
//     the incident), a note and the close, every change recorded and durable before the script
//     goes on, until every run has completed. Incidents per second, and (b)/(a).
// Each in a fresh folder; the median of --repetitions. The goal: (b) >= 5,000 incidents/s.

import ArgumentParser
import AutomatorRuntime
import BenchSupport
import Foundation
import GRDB

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "IncidentBenchmark",
        abstract: "Incidents end to end (ingest, playbook, close) against raw durable inserts of incident rows.",
        discussion: """
            (a) raw: plain GRDB into the store's own incident table, synchronous = FULL, 1,000 rows a \
            transaction. (b) end to end: alerts through IncidentService.ingest, then a playbook of \
            three automated steps, a note and the close, every change durable before the script goes \
            on. Each in a fresh folder; prints both rates and (b)/(a), medians of --repetitions.
            Goal: (b) at least 5,000 incidents/s.

            Example:
              swift build -c release --package-path Benchmarks --product IncidentBenchmark
              Benchmarks/.build/release/IncidentBenchmark \\
                  --incidents 20000 --repetitions 5
            """
    )

    @Option(help: "Incidents per measurement.") var incidents = 20_000
    @Option(help: "Ingests in flight.") var inFlight = 256
    @Option(help: "Measurements; the medians are the result.") var repetitions = 3
    @Option(help: ArgumentHelp("Where the fresh stores go.", valueName: "folder"))
    var folder = FileManager.default.temporaryDirectory.path

    func validate() throws {
        try requirePositive(["--incidents": incidents, "--in-flight": inFlight, "--repetitions": repetitions])
    }
}

let playbook = """
    return playbook {
      name = "Bench phishing",
      match = { type = "phishing" },
      run = function(inc)
        local seen_at = time.now()                                   -- step 1: the clock, recorded
        local domain = inc.fields.sender:match("@(.+)$")
        inc:update{ fields = { domain = domain, seen_at = seen_at } } -- step 2
        inc:update{ owner = "tier1" }                                 -- step 3
        inc:note("sender domain " .. domain)
        inc:close{ reason = "benchmark" }
      end,
    }
    """

let mapper = """
    return mapper {
      map = function(alert)
        return { title = alert.subject, type = "phishing", severity = "high", source_ref = alert.id,
                 fields = { sender = alert.from } }
      end,
    }
    """

func freshFolder(_ options: Options, _ name: String) -> String {
    let path = options.folder + "/automator-incident-bench-\(name)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// (a): incident rows through plain GRDB, 1,000 per transaction, synchronous = FULL.
func raw(_ options: Options) async throws -> Double {
    let folder = freshFolder(options, "raw")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try SQLiteStore(folder: folder)  // the schema
    await store.close()
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    let queue = try DatabaseQueue(path: folder + "/automator.sqlite", configuration: configuration)
    let fields = #"{"sender":"billing@examp1e.com"}"#
    let raw = #"{"id":"A","subject":"Invoice","from":"billing@examp1e.com"}"#
    let started = Date()
    for first in stride(from: 1, through: options.incidents, by: 1000) {
        let last = min(first + 999, options.incidents)
        try await queue.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO incident (number, title, type, severity, status, labels, fields, details, raw, source,
                                      source_ref, created_at, updated_at, alert_count)
                VALUES (?, 'Invoice', 'phishing', 'high', 'new', '[]', ?, '', ?, 'mailgw', ?, ?, ?, 1)
                """)
            for number in first...last {
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                try statement.execute(arguments: [number, fields, raw, "A-\(number)", now, now])
            }
        }
    }
    let seconds = Date().timeIntervalSince(started)
    try queue.close()
    return Double(options.incidents) / seconds
}

/// (b): alerts through ingest and the playbook to the close.
func endToEnd(_ options: Options) async throws -> Double {
    let folder = freshFolder(options, "e2e")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let scripts = folder + "/scripts"
    try FileManager.default.createDirectory(atPath: scripts + "/playbooks", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: scripts + "/mappers", withIntermediateDirectories: true)
    try playbook.write(toFile: scripts + "/playbooks/phishing.lua", atomically: true, encoding: .utf8)
    try mapper.write(toFile: scripts + "/mappers/mailgw.lua", atomically: true, encoding: .utf8)

    let store = try SQLiteStore(folder: folder + "/data")
    let ledger = try await IncidentLedger(store: store)
    let modules = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger)] as [any HostModule]
    let runs = try RunService(store: store, modules: modules)
    let service = try IncidentService(ledger: ledger, runs: runs, scripts: scripts, modules: modules)
    try await service.start()

    let started = Date()
    let next = Counter()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<options.inFlight {
            group.addTask {
                while let index = next.take(below: options.incidents) {
                    let alert = #"{"id":"A-\#(index)","subject":"Invoice \#(index)","from":"billing@examp1e.com"}"#
                    let ingested = try await service.ingest(source: "mailgw", alert: Array(alert.utf8), by: "bench")
                    guard let run = ingested.run else { fatalError("no playbook started for \(ingested.incident.id)") }
                    await runs.waitForEnd(run.id)
                }
            }
        }
        try await group.waitForAll()
    }
    let seconds = Date().timeIntervalSince(started)

    let closed = try await store.listIncidents(IncidentQuery(statuses: [.closed], limit: options.incidents + 1)).count
    guard closed == options.incidents else { fatalError("\(closed) of \(options.incidents) incidents closed") }
    await service.shutdown()
    return Double(options.incidents) / seconds
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value
    }
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let options = Options.fromCommandLine()
print("Incidents: \(options.incidents) per measurement, \(options.inFlight) ingests in flight, "
    + "median of \(options.repetitions), in \(options.folder)")
var raws: [Double] = []
var ends: [Double] = []
for repetition in 1...options.repetitions {
    let a = try await raw(options)
    let b = try await endToEnd(options)
    raws.append(a)
    ends.append(b)
    print(String(format: "  #%d  raw inserts %8.0f rows/s   end to end %7.0f incidents/s   ratio %.3f",
                 repetition, a, b, b / a))
}
print(String(format: "(a) raw durable inserts:      %8.0f incident rows/s", median(raws)))
print(String(format: "(b) end to end, durable:      %8.0f incidents/s (goal: >= 5,000)", median(ends)))
print(String(format: "    ratio (b)/(a), same run:  %.3f", median(ends) / median(raws)))
