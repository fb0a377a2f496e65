// The action path against a bare HTTP call to the same loopback API, in durable runs on one store.
//
//   swift run -c release --package-path Benchmarks ActionBenchmark [--calls N] [--runs R] [--folder DIR]
//                                                                  [--only bare|action]
//
// Both sides are playbook-like runs (durable: every host call recorded, SQLite FULL). The bare
// side calls `http.post(URL, body)` N times per run; the action side calls
// `actions.run("bench.block_ip", { ip = ... }, { incident = ... })` N times per run: the checks
// against the declaration and the protected networks, the action's `sending` record (durable
// before it is sent, with what the run had not written: the previous action's outcome), the
// integration's run (which makes the same POST), and its outcome with the journal entry and the
// host call's record (kept for the run's next write). R runs at once on each side. Goal: the
// action path at most 1.2x the bare call's time per call. `--only` runs one side alone, 20 times,
// for a profile (`perf record -g`) of that side.

import ArgumentParser
import AutomatorRuntime
import BenchSupport
import Foundation
import Hummingbird
import Logging

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ActionBenchmark",
        abstract: "The action path (checks, records, journal, the integration's run) against a bare http.post.",
        discussion: """
            Both sides are durable runs on one SQLite store (FULL) that POST to the same loopback \
            API: the bare side with http.post, the action side with actions.run("bench.block_ip", ...). \
            Prints the time and CPU per call of each side, best of 3 alternated, and their ratio.
            Goal: the action path at most 1.2x the bare call's time per call.

            Example:
              swift build -c release --package-path Benchmarks --product ActionBenchmark
              Benchmarks/.build/release/ActionBenchmark --calls 500 --runs 8
            """
    )

    enum Side: String, ExpressibleByArgument, CaseIterable { case bare, action }

    @Option(help: "Calls per run on each side.") var calls = 500
    @Option(help: "Runs at once on each side.") var runs = 8
    @Option(help: ArgumentHelp("Where the store and the integration go (default: a new folder in the temporary directory).",
                               valueName: "folder"))
    var folder: String?
    @Option(help: "Run this side alone, 20 times, for a profile (perf record -g) of it (default: both, compared).")
    var only: Side?

    func validate() throws {
        try requirePositive(["--calls": calls, "--runs": runs])
    }
}

let options = Options.fromCommandLine()
let calls = options.calls
let runs = options.runs
let root = options.folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("action-bench-\(UUID())").path
let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

let router = Router()
router.post("/block") { _, _ -> Response in
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                      onServerRunning: { channel in
                          let port = channel.localAddress?.port ?? 0
                          Task { try await measure(url: "http://127.0.0.1:\(port)") }
                      }, logger: logger)

let integration = """
    return integration {
      name = "Bench firewall",
      config = { base_url = { required = true } },
      actions = {
        block_ip = {
          risk = "high", params = { ip = { type = "ip", required = true }, reason = "string" },
          run = function(params, context)
            local response = http.post(context.config.base_url .. "/block", json.encode(params),
                                       { headers = { ["idempotency-key"] = context.idempotency_key } })
            return json.decode(response.body)
          end,
        },
      },
    }
    """

/// Runs `runs` copies of `source` at once on `service`; returns the wall time, and the CPU time of
/// the whole process meanwhile (the loopback API's included, the same on both sides): on a machine
/// others share, wall times move with their load, CPU times much less.
func timed(_ service: RunService, _ source: String, incident: IncidentID) async throws -> (wall: Duration, cpu: Double) {
    let start = ContinuousClock.now
    let cpuStart = processCPU()
    var ids: [RunID] = []
    for _ in 0..<runs {
        ids.append(try await service.submit(script: "bench.lua", source: Array(source.utf8), incident: incident).id)
    }
    for id in ids { await service.waitForEnd(id) }
    for id in ids {
        let run = try await service.run(id)
        guard run?.status == .completed else { fatalError("run \(id) \(run?.status.rawValue ?? "?"): \(run?.error ?? "")") }
    }
    return (ContinuousClock.now - start, processCPU() - cpuStart)
}

func measure(url: String) async throws {
    try FileManager.default.createDirectory(atPath: root + "/integrations", withIntermediateDirectories: true)
    try integration.write(toFile: root + "/integrations/bench.lua", atomically: true, encoding: .utf8)
    let store = try SQLiteStore(folder: root + "/data")
    let ledger = try await IncidentLedger(store: store)
    let integrations = await Integrations(folder: root + "/integrations", settings: ["bench": .init(values: ["base_url": url])],
                                          environment: [:], logger: logger)
    var configuration = ActionConfiguration()
    configuration.approvalRisk = nil
    configuration.protectedNetworks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    let actions = ActionService(integrations: integrations, store: store, rules: AccessRules(actions: configuration), logger: logger)
    let modules = StandardModules.all(logger: logger, allowedHTTPHosts: [String(url.dropFirst("http://".count))])
        + [IncidentsModule(ledger: ledger), ActionsModule(service: actions)]
    let service = try RunService(store: store, modules: modules, executors: 1)
    let incidents = try IncidentService(ledger: ledger, runs: service, scripts: root + "/none", modules: modules)
    let incident = try await incidents.create(IncidentDraft(title: "bench", type: "bench", severity: .low), by: "bench",
                                              choosingPlaybook: false).incident.id
    let bare = """
        for i = 1, \(calls) do
          local response = http.post("\(url)/block", json.encode({ ip = "198.51.100." .. (i % 250 + 1), reason = "bench" }))
          assert(json.decode(response.body).ok)
        end
        """
    let act = """
        for i = 1, \(calls) do
          local done = actions.run("bench.block_ip", { ip = "198.51.100." .. (i % 250 + 1), reason = "bench" },
                                   { incident = "\(incident)" })
          assert(done.status == "done")
        end
        """
    _ = try await timed(service, bare, incident: incident)  // warm-up: connections, the page cache
    if let side = options.only {
        for _ in 0..<20 { _ = try await timed(service, side == .bare ? bare : act, incident: incident) }
    } else {
        try await compare(service, bare: bare, act: act, incident: incident)
    }
    await incidents.shutdown()
    integrations.shutdown()
    try? FileManager.default.removeItem(atPath: root)
    exit(0)
}

/// Both sides, alternated; prints the best of 3 of each and the ratios.
func compare(_ service: RunService, bare: String, act: String, incident: IncidentID) async throws {
    var bareTimes: [(wall: Double, cpu: Double)] = []
    var actionTimes: [(wall: Double, cpu: Double)] = []
    for _ in 0..<3 {  // alternated, so a slower moment of the machine hits both sides
        let bareTime = try await timed(service, bare, incident: incident)
        bareTimes.append((seconds(bareTime.wall), bareTime.cpu))
        let actionTime = try await timed(service, act, incident: incident)
        actionTimes.append((seconds(actionTime.wall), actionTime.cpu))
    }
    let total = Double(calls * runs)
    let bareBest = bareTimes.map(\.wall).min()!, actionBest = actionTimes.map(\.wall).min()!
    let bareCPU = bareTimes.map(\.cpu).min()!, actionCPU = actionTimes.map(\.cpu).min()!
    print("calls per side: \(calls) in each of \(runs) runs at once, best of 3")
    print(String(format: "bare http.post:  %.1f µs a call (%.0f calls/s), %.1f µs of CPU", bareBest / total * 1e6, total / bareBest,
                 bareCPU / total * 1e6))
    print(String(format: "actions.run:     %.1f µs a call (%.0f calls/s), %.1f µs of CPU", actionBest / total * 1e6,
                 total / actionBest, actionCPU / total * 1e6))
    print(String(format: "ratio: %.2fx (goal at most 1.2x): %@; CPU %.2fx", actionBest / bareBest,
                 actionBest / bareBest <= 1.2 ? "PASS" : "MISS", actionCPU / bareCPU))
}

try await app.runService()
