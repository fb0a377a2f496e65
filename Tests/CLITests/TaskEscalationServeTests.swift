import Foundation
import TestSupport
import Testing

/// `chat.tasks.escalate` on `automator serve` against a loopback Slack Web API: a task left open
/// past due is told at each stage once, in the stage's channel with its mention, across a
/// restart; one answered is not; SIGHUP adds a stage. The stages are seconds long here so that a
/// task reaches them while the test waits for the posts (`TaskEscalationTests` takes the hours
/// of a real configuration on a clock of its own).
@Suite("Overdue tasks escalate: each stage's channel told once, with its mention", .serialized, .timeLimit(.minutes(3)))
struct TaskEscalationServeTests {
    /// Stage 1 after 1 s in the owner's channel; stage 2 after 6 s in #secret-ops, notifying the
    /// leads' user group. Five seconds apart, two looks and more (one every 2 s): a look that
    /// finds a task past both tells it at stage 2 only.
    static let twoStages = ##"[{ after: 1s }, { after: 6s, channel: "#secret-ops", mention: "<!subteam^S0LEADS>" }]"##

    /// How long a test waits for the stages' posts: stage 2 comes 9 s after its task is given.
    static let stagesTold: TimeInterval = 40

    /// A folder whose playbook gives tier1 a task due in 3 s and waits on it, and tier2 one due in
    /// 2 s that it answers at once; `chat.tasks` with `escalate`.
    static func folder(slack: FakeSlack, escalate: String) throws -> TemporaryFolder {
        try TaskNoticeServeTests.folder(slack: slack, run: """
            local asked = inc:task{ title = "Ask the reporter", owner = "tier1", due = "3s", choices = { "yes", "no" } }
            local reimage = inc:task{ title = "Reimage the laptop", owner = "tier2", due = "2s" }
            incidents.complete_task(reimage.id, "done")
            asked:wait()
            """, tasks: tasks(escalate))
    }

    /// `chat.tasks` with `escalate`, the list of stages in YAML's flow style.
    static func tasks(_ escalate: String) -> String {
        ##"{ channel: "#soc", owners: { tier2: "#secret-ops" }, escalate: "## + escalate + " }"
    }

    static func escalations(_ posts: [String], of task: String) -> [String] {
        posts.filter { $0.contains("🚨 \(task) ") }
    }

    @Test("A task left open is told at each stage once, in its channel with its mention; one answered is not; a restart repeats none")
    func escalates() async throws {
        let slack = try await FakeSlack()
        let folder = try Self.folder(slack: slack, escalate: Self.twoStages)
        var server = try await TaskNoticeServeTests.serve(folder)
        #expect(try await server.waitForLog("the tasks given from T-1 on are told in chat"), "\(server.log)")
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Is this phishing?", "type": "question", "severity": "low"}"#)
        #expect(created.status == 201, "\(created.body)")

        let told = try await TaskNoticeServeTests.posts(slack, timeout: Self.stagesTold) { Self.escalations($0, of: "T-1").count >= 2 }
        let escalated = Self.escalations(told, of: "T-1")
        try #require(escalated.count == 2, "\(told)")
        #expect(escalated.first?.hasPrefix("C0SOC 🚨 T-1 for tier1 on INC-1 is ") == true && escalated.first?.hasSuffix(
            "Answer: !task done T-1 yes|no Someone else to do it? !task assign T-1 NAME") == true,
                "stage 1 in the owner's channel, how long overdue, how to answer and reassign: \(escalated)")
        #expect(escalated.last?.hasPrefix("G0OPS <!subteam^S0LEADS> 🚨 T-1 for tier1 on INC-1 is ") == true,
                "stage 2 in its channel, the mention as Slack notifies: \(escalated)")
        let overdue = try #require(told.firstIndex { $0.contains("⏰ T-1 ") }, "\(told)")
        #expect(told.firstIndex(of: escalated[0]).map { overdue < $0 } == true, "overdue first, then escalated: \(told)")
        #expect(!told.contains { $0.contains("T-2 ") }, "T-2 was answered at once: \(told)")
        let journaled = try await eventually {
            try await server.journal("INC-1").filter { $0.kind == "chat" && $0.text.hasPrefix("🚨 T-1 for tier1") }.count == 2
        }
        let journal = try await server.journal("INC-1")
        #expect(journaled, "\(journal)")

        // Stopped, an incident made meanwhile by the CLI, started again: its task is escalated,
        // T-1 is not again. T-3's second stage comes after any look that could have retold T-1;
        // a slow start may find T-3 past both stages, told then at the second only.
        server = try await TaskNoticeServeTests.restart(server, creatingIncidentIn: folder)
        let again = try await TaskNoticeServeTests.posts(slack, timeout: Self.stagesTold) {
            Self.escalations($0, of: "T-3").last?.hasPrefix("G0OPS ") == true
        }
        #expect((1...2).contains(Self.escalations(again, of: "T-3").count), "\(again)")
        #expect(Self.escalations(again, of: "T-1").count == 2, "T-1 escalated once a stage: \(again)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("SIGHUP adds a stage: the tasks given after it reach it too")
    func reloadAddsStage() async throws {
        let slack = try await FakeSlack()
        let folder = try Self.folder(slack: slack, escalate: "[{ after: 1s }]")
        let server = try await TaskNoticeServeTests.serve(folder)
        #expect(try await server.waitForLog("the tasks given from T-1 on are told in chat"), "\(server.log)")
        try folder.write("automator.yml", TaskNoticeServeTests.configuration(slack: slack, tasks: Self.tasks(Self.twoStages)))
        server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: chat.tasks changed"), "\(server.log)")
        #expect(try await server.call("POST", "/api/v1/incidents",
                                      body: #"{"title": "Is this phishing?", "type": "question", "severity": "low"}"#).status == 201)
        let told = try await TaskNoticeServeTests.posts(slack, timeout: Self.stagesTold) { Self.escalations($0, of: "T-1").count >= 2 }
        #expect(Self.escalations(told, of: "T-1").map { $0.prefix(5) } == ["C0SOC", "G0OPS"], "\(told)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("A mention Slack does not read as one is refused at start, with its line and the form to write")
    func rawMention() async throws {
        let slack = try await FakeSlack()
        let folder = try Self.folder(slack: slack, escalate: #"[{ after: 2h, mention: "@oncall-lead" }]"#)
        let checked = try await AutomatorProcess.run(["check", "--scripts", "scripts", "--config", "automator.yml"],
                                                     in: folder.url)
        #expect(checked.status == 1)
        #expect(checked.stdout.contains(#"automator.yml:6: chat.tasks.escalate[0].mention: "@oncall-lead" notifies nobody in Slack: write <@U0123ABCD>"#),
                "\(checked.stdout)\(checked.stderr)")
    }
}
