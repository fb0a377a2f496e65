// A report over 1,000,000 incidents, against a plain SQL aggregate over the same rows.
//
//   swift run -c release --package-path Benchmarks ReportBenchmark [--incidents N] [--repetitions N]
//                                                                  [--folder DIR] [--keep]
//
// The store: N incidents over the year before now (8 types, 5 severities; 90% closed after 10
// minutes to 3 days; 80% with an SLA of 4 to 72 hours), each with its playbook's run, 1.2
// tasks and 5 journal entries (created, playbook started, a playbook note, a person's task or
// note for 70% of them, the close), and 50,000 indicators looked up; written with GRDB directly,
// once (kept with --keep, and reused when the folder already holds one of that size).
// (a) the report of the whole year (every incident in the window), through `SQLiteStore.report`;
// (b) the baseline: SELECT type, count(*), avg(closed_at - created_at) FROM incident GROUP BY type.
// Also (c), the everyday report: the last 30 days of the same store. Medians of --repetitions,
// after one warm-up each. Goal: (a) <= 2 s.

import ArgumentParser
import AutomatorRuntime
import BenchSupport
import Foundation
import GRDB

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ReportBenchmark",
        abstract: "A report over 1,000,000 incidents, against a plain SQL aggregate over the same rows.",
        discussion: """
            Writes --incidents incidents over the last year, with their runs, tasks, journal entries \
            and 50,000 indicators, once (reused when the folder already holds a store of that size). \
            (a) the year's report through SQLiteStore.report; (b) the baseline, one GROUP BY over the \
            incident table; (c) the last 30 days' report. Medians of --repetitions after a warm-up.
            Goal: (a) at most 2 s.

            Example:
              swift build -c release --package-path Benchmarks --product ReportBenchmark
              Benchmarks/.build/release/ReportBenchmark \\
                  --incidents 1000000 --repetitions 5 --keep
            """
    )

    @Option(help: "Incidents in the store.") var incidents = 1_000_000
    @Option(help: "Measurements after the warm-up; the medians are the result.") var repetitions = 5
    @Option(help: ArgumentHelp("Where the store goes (in automator-report-bench-N inside it).", valueName: "folder"))
    var folder = FileManager.default.temporaryDirectory.path
    @Flag(help: "Keep the store afterwards, for the next run with the same --incidents.") var keep = false

    func validate() throws {
        try requirePositive(["--incidents": incidents, "--repetitions": repetitions])
    }
}

let options = Options.fromCommandLine()
let folder = options.folder + "/automator-report-bench-\(options.incidents)"
let hour: Int64 = 3_600_000
// Whole hours, so that a kept store's year still ends at the same time.
let end = Int64(Date().timeIntervalSince1970 * 1000) / hour * hour
let start = end - 365 * 24 * hour

/// A deterministic generator: every build of the store is the same.
struct Generator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }
}

func build() throws {
    if FileManager.default.fileExists(atPath: folder + "/automator.sqlite") {
        let queue = try DatabaseQueue(path: folder + "/automator.sqlite")
        let count = try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM incident") } ?? 0
        let last = try queue.read { try Int64.fetchOne($0, sql: "SELECT max(created_at) FROM incident") } ?? 0
        try queue.close()
        if count == options.incidents, last < end { return print("reusing the store in \(folder)") }
        try FileManager.default.removeItem(atPath: folder)
    }
    let began = Date()
    let store = try SQLiteStore(folder: folder)  // the schema
    let types = ["phishing", "malware", "access", "dlp", "vulnerability", "ddos", "insider", "account-takeover"]
    let severities = ["info", "low", "low", "medium", "medium", "medium", "high", "high", "critical"]
    let owners: [String?] = ["tier1", "tier1", "tier1", "tier2", "tier2", "ir", "soc-lead", nil]
    let people = ["cli:alice", "cli:bob", "slack:carol", "slack:dave", "api:ticketing"]
    let semaphore = DispatchSemaphore(value: 0)
    Task {
        await store.close()
        semaphore.signal()
    }
    semaphore.wait()
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
    let queue = try DatabaseQueue(path: folder + "/automator.sqlite", configuration: configuration)
    var random = Generator()
    let spacing = (end - start) / Int64(options.incidents)
    var task = 0
    for first in stride(from: 1, through: options.incidents, by: 50_000) {
        try queue.inTransaction { db in
            let incident = try db.makeStatement(sql: """
                INSERT INTO incident (number, title, type, severity, status, owner, labels, fields, details, source,
                                      source_ref, created_at, updated_at, closed_at, close_reason, playbook, run_id,
                                      sla_due_at, sla_breached_at, alert_count)
                VALUES (?, ?, ?, ?, ?, ?, '[]', '{}', '', 'edr', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                """)
            let run = try db.makeStatement(sql: """
                INSERT INTO run (id, script, source, arguments, status, created_at, updated_at, finished_at, entry, incident)
                VALUES (?, ?, x'', '[]', ?, ?, ?, ?, 'playbook:run', ?)
                """)
            let taskRow = try db.makeStatement(sql: """
                INSERT INTO task (number, incident, title, owner, description, choices, due_at, status, answer,
                                  completed_by, created_at, completed_at)
                VALUES (?, ?, 'Confirm', ?, '', '[]', ?, ?, ?, ?, ?, ?)
                """)
            let journal = try db.makeStatement(sql: "INSERT INTO journal (incident, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)")
            for number in first..<min(first + 50_000, options.incidents + 1) {
                let type = types[random.next(types.count)]
                let created = start + Int64(number - 1) * spacing + Int64(random.next(Int(spacing)))
                let closed: Int64? = random.next(10) < 9 ? created + Int64(600_000 + random.next(3 * 86_400_000)) : nil
                let due: Int64? = random.next(5) < 4 ? created + Int64(4 + random.next(69)) * hour : nil
                let breached: Int64? = due.flatMap { due in (closed ?? end) > due ? due : nil }
                let runID = "run-\(number)"
                let playbook = "playbooks/\(type).lua"
                let status = closed != nil ? "closed" : ["new", "active", "active", "pending"][random.next(4)]
                try incident.execute(arguments: [
                    number, "\(type) alert \(number)", type, severities[random.next(severities.count)], status,
                    owners[random.next(owners.count)], "ref-\(number)", created, closed ?? created, closed,
                    closed == nil ? nil : "resolved", playbook, runID, due, breached,
                ])
                let outcome = closed == nil ? "waiting" : random.next(100) < 96 ? "completed" : "failed"
                try run.execute(arguments: [runID, playbook, outcome, created, closed ?? created,
                                            closed == nil ? nil : closed, number])
                var entries: [(Int64, String, String)] = [
                    (created, "api", "created"), (created, "automator", "playbook"),
                    (created + 2000, "playbook \(playbook) (\(runID))", "note"),
                ]
                for _ in 0..<(random.next(5) == 0 ? 2 : 1) {
                    task += 1
                    let taskCreated = created + 3000
                    let done = closed.map { taskCreated + ($0 - taskCreated) / 2 }
                    try taskRow.execute(arguments: [
                        task, number, owners[random.next(owners.count)], taskCreated + 8 * hour,
                        done == nil ? "open" : "done", done == nil ? nil : "yes", done == nil ? nil : people[random.next(5)],
                        taskCreated, done,
                    ])
                }
                if random.next(10) < 7 {
                    let person = people[random.next(people.count)]
                    entries.append((created + Int64(60_000 + random.next(4 * 3_600_000)), person, "task_done"))
                }
                if let closed { entries.append((closed, random.next(2) == 0 ? "cli:alice" : "automator", "closed")) }
                for (at, actor, kind) in entries {
                    try journal.execute(arguments: [number, at, actor, kind, "\(kind) by \(actor)"])
                }
            }
            return .commit
        }
    }
    try queue.inTransaction { db in
        let seen = try db.makeStatement(sql: """
            INSERT INTO intel_seen (type, value, score, summary, first_seen, last_seen, stix_id) VALUES (?, ?, ?, '', ?, ?, '')
            """)
        for index in 0..<50_000 {
            let at = start + Int64(random.next(365)) * 24 * hour + Int64(random.next(24 * 3_600_000))
            try seen.execute(arguments: ["ipv4", "198.51.\(index / 256).\(index % 256)", random.next(4), at, at])
        }
        return .commit
    }
    try queue.writeWithoutTransaction { try $0.execute(sql: "ANALYZE") }
    try queue.close()
    let size = (try FileManager.default.attributesOfItem(atPath: folder + "/automator.sqlite")[.size] as? Int) ?? 0
    print(String(format: "built %d incidents, %d tasks in %.0f s: %.0f MB", options.incidents, task,
                 Date().timeIntervalSince(began), Double(size) / 1e6))
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// The process's CPU time so far (user and system, every thread), in seconds.
func cpuTime() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Seconds per call of `body`, of the clock and of CPU (which other processes on a busy
/// machine do not inflate): the medians of --repetitions, after a warm-up.
func measure(_ body: () async throws -> Void) async throws -> (median: Double, cpu: Double, all: [Double]) {
    try await body()
    var times: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<options.repetitions {
        let (began, beganCPU) = (DispatchTime.now().uptimeNanoseconds, cpuTime())
        try await body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9)
        cpu.append(cpuTime() - beganCPU)
    }
    return (median(times), median(cpu), times)
}

try build()
let store = try SQLiteStore(folder: folder)
let year = ReportWindow(from: Date(timeIntervalSince1970: Double(start) / 1000),
                        to: Date(timeIntervalSince1970: Double(end) / 1000))
let now = year.to
var report: Report?
let whole = try await measure { report = try await store.report(year, at: now) }
let month = try await measure {
    _ = try await store.report(ReportWindow(from: now.addingTimeInterval(-30 * 86400), to: now), at: now)
}
await store.close()
let queue = try DatabaseQueue(path: folder + "/automator.sqlite")
let baseline = try await measure {
    _ = try queue.read { db in
        try Row.fetchAll(db, sql: "SELECT type, count(*), avg(closed_at - created_at) FROM incident GROUP BY type")
    }
}
try queue.close()
if !options.keep { try FileManager.default.removeItem(atPath: folder) }

let opened = report?.statuses.reduce(0) { $0 + $1.count } ?? 0
print("Report over \(opened) incidents (a year), median of \(options.repetitions), in \(folder)")
print("  runs (a): " + whole.all.map { String(format: "%.3f", $0) }.joined(separator: " ") + " s")
print(String(format: "(a) the report, whole year:   %6.3f s (goal: <= 2 s) %@   CPU %6.3f s", whole.median,
             whole.median <= 2 ? "PASS" : "MISS", whole.cpu))
print(String(format: "(b) SQL aggregate baseline:   %6.3f s                     CPU %6.3f s", baseline.median,
             baseline.cpu))
print(String(format: "    ratio (a)/(b):            %6.2f                       CPU %6.2f", whole.median / baseline.median,
             whole.cpu / baseline.cpu))
print(String(format: "(c) the report, last 30 days: %6.3f s                     CPU %6.3f s", month.median, month.cpu))
