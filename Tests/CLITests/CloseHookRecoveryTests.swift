import Foundation
import TestSupport
import Testing

/// `hooks/incident_closed.lua` across a crash: its run is created in the close's transaction, so a
/// server killed with SIGKILL after the close neither loses it nor starts it twice.
@Suite("The close hook across a SIGKILL of serve", .timeLimit(.minutes(3)))
struct CloseHookRecoveryTests {
    /// The hook tells the loopback server, at the path the incident names, which incident closed
    /// and as what.
    static let hook = """
        local inc = ...
        http.post(inc.fields.url .. inc.fields.path, ("%s %s"):format(inc.id, inc.resolution or "none"))
        """

    /// Closes its incident, then sleeps until the incident's `wake`: the kill comes meanwhile.
    static let closer = """
        return playbook {
          name = "closer",
          match = { type = "closing" },
          run = function(inc)
            inc:close{ reason = "contained", resolution = "true_positive" }
            time.sleep(math.max(0, inc.fields.wake - time.now()))
            inc:note("woke")
          end,
        }
        """

    struct Setup {
        let folder: TemporaryFolder
        let data: URL
        let scripts: URL
        let arguments: [String]

        init(effects: LoopbackServer) throws {
            folder = try TemporaryFolder()
            try folder.write("scripts/hooks/incident_closed.lua", CloseHookRecoveryTests.hook)
            try folder.write("scripts/playbooks/closer.lua", CloseHookRecoveryTests.closer)
            data = folder.url.appendingPathComponent("data")
            scripts = folder.url.appendingPathComponent("scripts")
            arguments = ["--executors", "1", "--allow-http", "127.0.0.1:\(effects.port)"]
        }

        func start() async throws -> ServerProcess {
            try await ServerProcess.start(data: data, scripts: scripts, arguments: arguments)
        }
    }

    /// Opens an incident of `type` whose hook posts to `path`; returns its id.
    static func open(_ type: String, on server: ServerProcess, effects: LoopbackServer, path: String,
                     wake: TimeInterval = 0) async throws -> String
    {
        let answer = try await server.call("POST", "/api/v1/incidents", body: """
            {"title": "hook across a crash", "type": "\(type)", "severity": "high",
             "fields": {"url": "\(effects.url)", "path": "\(path)", "wake": \(wake)}}
            """)
        #expect(answer.status == 201, "\(answer.body)")
        return try #require(answer.json["id"] as? String, "\(answer.body)")
    }

    /// The journal's lines on `id` that say the hook started.
    static func hookStarts(_ id: String, on server: ServerProcess) async throws -> Int {
        let journal = try await server.call("GET", "/api/v1/incidents/\(id)/journal").json["journal"] as? [[String: Any]]
        return (journal ?? []).count { ($0["text"] as? String)?.hasPrefix("hooks/incident_closed.lua started") == true }
    }

    /// The incident's `close_hook`: its run and status.
    static func closeHook(_ id: String, on server: ServerProcess) async throws -> [String: Any] {
        try #require(try await server.call("GET", "/api/v1/incidents/\(id)").json["close_hook"] as? [String: Any])
    }

    /// Returns once the hook's post of `body` reached the loopback server (30 s at most).
    static func waitForEffect(_ body: String, in ledger: EffectLedger) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ledger.count(body) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test("A person's close whose hook is in an HTTP call at SIGKILL: the one hook run resumes and completes")
    func personsClose() async throws {
        let ledger = EffectLedger()
        let effects = try await ledger.server()
        defer { effects.stop() }
        let setup = try Setup(effects: effects)
        let first = try await setup.start()
        let id = try await Self.open("plain", on: first, effects: effects, path: "/slow")
        let closed = try await first.call("PATCH", "/api/v1/incidents/\(id)",
                                          body: #"{"status": "closed", "reason": "a test mail", "resolution": "benign"}"#)
        #expect(closed.status == 200 && closed.json["resolution"] as? String == "benign", "\(closed.body)")
        // The hook's call is held by the loopback server: the kill comes while it is in it.
        try await Self.waitForEffect("\(id) benign", in: ledger)
        #expect(ledger.count("\(id) benign") == 1)
        let run = try #require(try await Self.closeHook(id, on: first)["run"] as? String)
        first.kill()
        #expect(await first.waitForExit() == SIGKILL)

        let second = try await setup.start()
        #expect(try await second.waitForRun(run, timeout: 60)["status"] as? String == "completed")
        #expect(try await Self.closeHook(id, on: second)["run"] as? String == run, "the same run, resumed")
        #expect(try await Self.hookStarts(id, on: second) == 1)
        #expect(ledger.count("\(id) benign") == 2, "its unrecorded call is made again, once")
        second.terminate()
        #expect(await second.waitForExit() == 0)
    }

    @Test("A playbook's close whose run sleeps at SIGKILL: after the restart its replay starts no second hook")
    func playbooksClose() async throws {
        let ledger = EffectLedger()
        let effects = try await ledger.server()
        defer { effects.stop() }
        let setup = try Setup(effects: effects)
        let first = try await setup.start()
        let wake = Date().timeIntervalSince1970 + 10
        let id = try await Self.open("closing", on: first, effects: effects, path: "/effect", wake: wake)
        try await Self.waitForEffect("\(id) true_positive", in: ledger)
        let run = try #require(try await Self.closeHook(id, on: first)["run"] as? String)
        #expect(try await first.waitForRun(run)["status"] as? String == "completed")
        first.kill()
        #expect(await first.waitForExit() == SIGKILL)

        let second = try await setup.start()
        let incident = try await second.call("GET", "/api/v1/incidents/\(id)").json
        let playbookRun = try #require((incident["playbook"] as? [String: Any])?["run"] as? String)
        #expect(try await second.waitForRun(playbookRun, timeout: 60)["status"] as? String == "completed")
        #expect(try await Self.closeHook(id, on: second)["run"] as? String == run)
        #expect(try await Self.hookStarts(id, on: second) == 1)
        #expect(ledger.count("\(id) true_positive") == 1)
        second.terminate()
        #expect(await second.waitForExit() == 0)
    }
}
