import Foundation
import TestSupport
import Testing

/// `chat.tasks` on `automator serve` against a loopback Slack Web API: each task given is told in
/// its owner's channel, each open one again when it is overdue, once each across a restart, and
/// the tasks given while no server ran are told at the next start.
@Suite("Chat chases the tasks: new and overdue tasks told in the owner's channel", .serialized, .timeLimit(.minutes(3)))
struct TaskNoticeServeTests {
    /// By default a folder whose playbook gives tier1 a task due in 3 s that names a phishing URL,
    /// and tier2 one due in an hour, then waits on the first; `run` is the playbook's for incidents
    /// of type question, `tasks` the `chat.tasks` section in YAML's flow style.
    static func folder(slack: FakeSlack, run: String = """
        local asked = inc:task{ title = "Ask the reporter about http://evil.example/login", owner = "tier1",
                                due = "3s", choices = { "yes", "no" } }
        inc:task{ title = "Reimage the laptop", owner = "tier2", due = "1h" }
        asked:wait()
        """, tasks: String = ##"{ channel: "#soc", owners: { tier2: "#secret-ops" } }"##) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        try folder.write("scripts/playbooks/ask.lua", """
            return playbook {
              name = "Ask",
              match = { type = "question" },
              run = function(inc)
            \(run)
              end,
            }
            """)
        try folder.write("automator.yml", configuration(slack: slack, tasks: tasks))
        return folder
    }

    /// `chat` on the loopback Slack, `tasks` in YAML's flow style.
    static func configuration(slack: FakeSlack, tasks: String) -> String {
        """
        chat:
          slack:
            signing_secret: \(FakeSlack.signingSecret)
            bot_token: \(FakeSlack.token)
            api_url: \(slack.apiURL)
          tasks: \(tasks)
        """
    }

    static func serve(_ folder: TemporaryFolder) async throws -> ServerProcess {
        try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                      scripts: folder.url.appendingPathComponent("scripts"),
                                      arguments: ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path])
    }

    /// Stops `server`, creates INC-2 on its folder with the CLI (its playbook gives its tasks), and
    /// serves the folder again.
    static func restart(_ server: ServerProcess, creatingIncidentIn folder: TemporaryFolder) async throws -> ServerProcess {
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
        let offline = try await AutomatorProcess.run(["incident", "create", "--title", "Another one", "--type", "question",
                                                      "--severity", "low", "--data", "data", "--scripts", "scripts"],
                                                     in: folder.url)
        #expect(offline.status == 0, "\(offline.stderr)")
        return try await serve(folder)
    }

    /// The bot's posts as "CHANNEL TEXT".
    static func posts(_ slack: FakeSlack, timeout: TimeInterval = 20, until done: @escaping ([String]) -> Bool)
        async throws -> [String]
    {
        try await ChatServeTests.posts(slack, timeout: timeout) { calls in done(calls.map(Self.line)) }.map(Self.line)
    }

    static func line(_ call: FakeSlack.Call) -> String { "\(call.arguments["channel"] ?? "?") \(call.arguments["text"] ?? "")" }

    @Test("New tasks are told in the owner's channel, defanged, with how to answer; an overdue one again; a restart repeats none")
    func chasesTasks() async throws {
        let slack = try await FakeSlack()
        let folder = try Self.folder(slack: slack)
        var server = try await Self.serve(folder)
        #expect(try await server.waitForLog("the tasks given from T-1 on are told in chat"), "\(server.log)")
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Is this phishing?", "type": "question", "severity": "low"}"#)
        #expect(created.status == 201, "\(created.body)")

        let told = try await Self.posts(slack) { $0.count >= 3 }
        #expect(told.count == 3, "\(told)")
        let given = told.filter { !$0.contains("overdue") }
        try #require(given.count == 2, "\(given)")
        #expect(given[0].hasPrefix("C0SOC 📋 T-1 for tier1 on INC-1 (due ")
            && given[0].hasSuffix(" UTC): Ask the reporter about hxxp://evil[.]example/login. Answer: !task done T-1 yes|no"),
                "\(given)")
        #expect(given[1].hasPrefix("G0OPS 📋 T-2 for tier2 on INC-1 (due ") && given[1].hasSuffix(" UTC): Reimage the laptop. "
            + "Answer: !task done T-2"), "tier2's own channel: \(given)")
        let overdue = try #require(told.last)
        #expect(overdue.hasPrefix("C0SOC ⏰ T-1 for tier1 on INC-1 is overdue (due ") && overdue.hasSuffix(
            "Answer: !task done T-1 yes|no Someone else to do it? !task assign T-1 NAME"), "\(overdue)")
        // Journaled after the post: the post seen, its entry may be on its way.
        let journaled = try await eventually {
            try await server.journal("INC-1").filter { $0.kind == "chat" && $0.text.contains("T-1 for tier1") }.count == 2
        }
        let journal = try await server.journal("INC-1")
        #expect(journaled, "\(journal)")

        // Stopped, a task given meanwhile (on the folder, by the CLI), started again: only that one is told.
        server = try await Self.restart(server, creatingIncidentIn: folder)
        let again = try await Self.posts(slack) { $0.count >= 6 }
        let new = again.dropFirst(3).filter { $0.contains("📋") }
        #expect(new.count == 2 && new[0].hasPrefix("C0SOC 📋 T-3 for tier1 on INC-2")
            && new[1].hasPrefix("G0OPS 📋 T-4 for tier2 on INC-2"), "\(again)")
        #expect(again.filter { $0.contains("T-1 ") }.count == 2, "T-1 told once, and once overdue: \(again)")
        #expect(!server.log.contains("are told in chat"), "the position was kept: \(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("A channel that does not exist is logged once, the notices wait for it, and SIGHUP's channel takes them")
    func missingChannel() async throws {
        let slack = try await FakeSlack()
        let folder = try Self.folder(slack: slack)
        let config = try String(contentsOf: folder.url.appendingPathComponent("automator.yml"), encoding: .utf8)
        try folder.write("automator.yml", config.replacingOccurrences(of: ##"channel: "#soc""##, with: ##"channel: "#nowhere""##))
        let server = try await Self.serve(folder)
        #expect(try await server.waitForLog("the tasks given from T-1 on are told in chat"), "\(server.log)")
        #expect(try await server.call("POST", "/api/v1/incidents",
                                      body: #"{"title": "Is this phishing?", "type": "question", "severity": "low"}"#).status == 201)
        #expect(try await server.waitForLog("a task notice could not be posted"), "\(server.log)")
        #expect(slack.calls("chat.postMessage").isEmpty, "T-2's notice waits behind T-1's")

        try folder.write("automator.yml", config)
        server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: chat.tasks changed"), "\(server.log)")
        let told = try await Self.posts(slack) { $0.count >= 3 }
        #expect(told.prefix(2).map { $0.prefix(9) } == ["C0SOC 📋 T", "G0OPS 📋 T"], "\(told)")
        #expect(server.log.components(separatedBy: "a task notice could not be posted").count == 2,
                "the failure logged once however many looks it lasted: \(server.log)")
        #expect(try await server.waitForLog("task notices are posted again"), "\(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }
}
