import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

/// Effects that runs perform on a loopback HTTP server, counted.
final class EffectLedger: Sendable {
    private let bodies = Mutex<[String: Int]>([:])

    func record(_ body: String) { bodies.withLock { $0[body, default: 0] += 1 } }
    func count(_ body: String) -> Int { bodies.withLock { $0[body] ?? 0 } }
    var total: Int { bodies.withLock { $0.values.reduce(0, +) } }

    /// `POST /effect` counts its body; `POST /slow` counts it too, and holds the first request
    /// of each body for 30 s (the server is killed meanwhile), answering later ones at once.
    func server() async throws -> LoopbackServer {
        let router = Router()
        router.post("/effect") { request, _ -> HTTPResponse.Status in
            self.record(String(buffer: try await request.body.collect(upTo: 1 << 16)))
            return .ok
        }
        router.post("/slow") { request, _ -> HTTPResponse.Status in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            self.record(body)
            if self.count(body) == 1 { try await Task.sleep(for: .seconds(30)) }
            return .ok
        }
        return try await LoopbackServer(router)
    }
}

@Suite("Recovery: a real server killed with SIGKILL loses no run and repeats no recorded effect",
       .timeLimit(.minutes(3)))
struct RecoveryTests {
    @Test("Hundreds of runs asleep or in an HTTP call at SIGKILL all complete once after the restart")
    func sigkill() async throws {
        let folder = try TemporaryFolder()
        let ledger = EffectLedger()
        let effects = try await ledger.server()
        defer { effects.stop() }
        try folder.write("scripts/effects.lua", """
            -- Two effects around a sleep: the kill comes during the sleep.
            local id, url, wake = ...
            local first = http.post(url .. "/effect", id .. " first")
            time.sleep(math.max(0, wake - time.now()))
            local second = http.post(url .. "/effect", id .. " second")
            return first.status, second.status
            """)
        try folder.write("scripts/slow.lua", """
            -- In an HTTP call when the kill comes: never recorded, so made again after the restart.
            local id, url = ...
            return http.post(url .. "/slow", id).status
            """)
        let data = folder.url.appendingPathComponent("data")
        let scripts = folder.url.appendingPathComponent("scripts")
        let arguments = ["--allow-http", "127.0.0.1:\(effects.port)"]
        let first = try await ServerProcess.start(data: data, scripts: scripts, arguments: arguments)

        // The sleepers all wake at one time, well after the kill, however long submitting takes.
        let wake = Date().timeIntervalSince1970 + 20
        let sleepers = (0..<300).map { "sleeper-\($0)" }
        let callers = (0..<50).map { "caller-\($0)" }
        var ids: [String] = []
        for name in sleepers {
            ids.append(try await first.submit(
                #"{"script": "effects.lua", "args": ["\#(name)", "\#(effects.url)", \#(wake)]}"#))
        }
        for name in callers {
            ids.append(try await first.submit(#"{"script": "slow.lua", "args": ["\#(name)", "\#(effects.url)"]}"#))
        }
        // Every first effect performed; its record is durable before the run goes on to sleep,
        // so after a moment each sleeper sleeps with its effect recorded.
        let deadline = ContinuousClock.now + .seconds(30)
        while ledger.total < sleepers.count + callers.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(ledger.total == sleepers.count + callers.count)
        try await Task.sleep(for: .milliseconds(300))
        first.kill()
        #expect(await first.waitForExit() == SIGKILL)

        let second = try await ServerProcess.start(data: data, scripts: scripts, arguments: arguments)
        for id in ids {
            let run = try await second.waitForRun(id, timeout: 60)
            #expect(run["status"] as? String == "completed", "\(run)")
        }
        for name in sleepers {
            #expect(ledger.count("\(name) first") == 1, "a recorded effect was performed again: \(name)")
            #expect(ledger.count("\(name) second") == 1)
        }
        for name in callers {
            #expect(ledger.count(name) == 2, "an unrecorded call is made again, once: \(name)")
        }
        #expect(second.log.contains("resumed \(ids.count) unfinished runs"),
                "\(second.log)")
        second.terminate()
        #expect(await second.waitForExit() == 0)
    }
}
