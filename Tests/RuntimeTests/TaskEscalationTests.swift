import AutomatorRuntime
import Foundation
import Testing
import TestSupport

/// `chat.tasks.escalate`: the stages on a clock of the test's own (`TaskNotices.look(at:)`), so
/// that a task is 30 minutes and 2 hours overdue without waiting; and the configuration's checks.
@Suite("Task escalation: each stage tells each open task once; the configuration's mistakes at their lines")
struct TaskEscalationTests {
    typealias Bot = ChatBotTests.Bot

    static let stages = [TaskEscalation(after: 30 * 60),
                         TaskEscalation(after: 2 * 3600, channel: "#ir", mentions: ["<@U0LEAD>", "<!subteam^S0SOC>"])]

    static func notices(_ bot: Bot, _ settings: TaskNoticeSettings) -> TaskNotices {
        TaskNotices(settings: settings, tasks: bot.store, chat: bot.chat, logger: ChatBotTests.logger)
    }

    static func task(_ number: Int, on incident: IncidentID, owner: String, due: Date) -> IncidentTask {
        IncidentTask(id: TaskID(number), incident: incident, runID: nil, title: "Call the user", owner: owner, dueAt: due)
    }

    /// After a first look (where the positions start), an incident and its T-1 for tier1, due a
    /// minute after that look: the incident, the look's time and the due time. On a whole second, as
    /// the store keeps due times to the millisecond: "31m", not "30m" for 30m 59.9997s.
    static func taskDueInAMinute(_ bot: Bot, _ notices: TaskNotices) async throws -> (IncidentID, Date, Date) {
        let start = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded())
        await notices.look(at: start)
        let incident = try await bot.incidents.create(IncidentDraft(title: "Beacon", type: "malware", severity: .high),
                                                      by: "test", choosingPlaybook: false).incident.id
        let due = start.addingTimeInterval(60)
        try await bot.store.write(.createTask(Self.task(1, on: incident, owner: "tier1", due: due)))
        return (incident, start, due)
    }

    @Test("Overdue by each stage's after, a task is told in its channel with its mention; once, also by another server; not once answered")
    func stages() async throws {
        let bot = try await Bot()
        let settings = TaskNoticeSettings(channel: "#soc", escalate: Self.stages)
        let notices = Self.notices(bot, settings)
        let (incident, start, due) = try await Self.taskDueInAMinute(bot, notices)
        try await bot.store.write(.createTask(Self.task(2, on: incident, owner: "tier2", due: due)))
        await notices.look(at: start)
        #expect(bot.network.takePosts().map { $0.text.prefix(5) } == ["📋 T-1", "📋 T-2"])

        await notices.look(at: due.addingTimeInterval(1))
        #expect(bot.network.takePosts().map { $0.text.prefix(5) } == ["⏰ T-1", "⏰ T-2"])
        // Answered after its overdue notice, before the first stage.
        try await bot.store.write(.completeTask(TaskID(2), answer: "done", by: "alice", at: Date()))

        await notices.look(at: due.addingTimeInterval(30 * 60 - 1))
        #expect(bot.network.takePosts().isEmpty, "not yet 30 minutes overdue")
        await notices.look(at: due.addingTimeInterval(31 * 60))
        let first = bot.network.takePosts()
        #expect(first.map(\.channel) == ["C1"] && first.map(\.mentions) == [[]], "\(first)")
        #expect(first.first?.text == "🚨 T-1 for tier1 on \(incident) is 31m overdue (due \(ReportText.time(due, in: .gmt))): "
            + "Call the user. Answer: !task done T-1 Someone else to do it? !task assign T-1 NAME", "\(first)")
        await notices.look(at: due.addingTimeInterval(31 * 60))
        #expect(bot.network.takePosts().isEmpty, "told at a stage once")

        await notices.look(at: due.addingTimeInterval(2 * 3600 + 5 * 60))
        let second = bot.network.takePosts()
        #expect(second.map(\.channel) == ["C2"] && second.map(\.mentions) == [["<@U0LEAD>", "<!subteam^S0SOC>"]], "\(second)")
        #expect(second.first?.text.hasPrefix("🚨 T-1 for tier1 on \(incident) is 2h 5m overdue (due ") == true, "\(second)")

        // Another server (a restart, a worker taking the lead) knows what was told.
        await Self.notices(bot, settings).look(at: due.addingTimeInterval(5 * 3600))
        #expect(bot.network.takePosts().isEmpty)
        let journal = try await bot.store.journal(of: incident)
        #expect(journal.filter { $0.kind == .chat && $0.text.hasPrefix("🚨 T-1 ") }.count == 2, "\(journal.map(\.text))")
        #expect(!journal.contains { $0.text.contains("<@U0LEAD>") }, "the mention notifies; the journal keeps the notice")
        await bot.stop()
    }

    @Test("A stage is kept by its after: a stage put before it, or its channel changed, tells nothing again")
    func stageEdits() async throws {
        let bot = try await Bot()
        let notices = Self.notices(bot, TaskNoticeSettings(channel: "#soc", escalate: Self.stages))
        let (incident, _, due) = try await Self.taskDueInAMinute(bot, notices)
        await notices.look(at: due.addingTimeInterval(31 * 60))
        await notices.look(at: due.addingTimeInterval(3 * 3600))
        #expect(bot.network.takePosts().map { $0.text.prefix(5) } == ["📋 T-1", "⏰ T-1", "🚨 T-1", "🚨 T-1"])

        // SIGHUP: a stage at 1h before the others, the 2h stage in another channel.
        var edited = Self.stages
        edited[1].channel = "#soc"
        edited.insert(TaskEscalation(after: 3600), at: 1)
        notices.reconfigure(settings: TaskNoticeSettings(channel: "#soc", escalate: edited))
        await notices.look(at: due.addingTimeInterval(3 * 3600 + 1))
        #expect(bot.network.takePosts().isEmpty, "the new stage tells of the tasks that reach it from now on")
        try await bot.store.write(.createTask(Self.task(2, on: incident, owner: "tier1", due: due.addingTimeInterval(3 * 3600))))
        await notices.look(at: due.addingTimeInterval(4 * 3600 + 60))
        let reached = bot.network.takePosts()
        #expect(reached.map { $0.text.prefix(5) } == ["📋 T-2", "⏰ T-2", "🚨 T-2"], "the new 1h, past 30m: \(reached)")
        #expect(reached.last?.text.contains(" is 1h 1m overdue ") == true, "\(reached)")
        await notices.look(at: due.addingTimeInterval(5 * 3600 + 60))
        let moved = bot.network.takePosts()
        #expect(moved.map(\.channel) == ["C1"] && moved.first?.text.hasPrefix("🚨 T-2 ") == true, "2h, in its new channel: \(moved)")
        await bot.stop()
    }

    @Test("A task past several stages when a look first finds it is told at the furthest only, journaled once")
    func severalStagesAtOnce() async throws {
        let bot = try await Bot()
        var stages = Self.stages
        stages.insert(TaskEscalation(after: 3600), at: 1)
        let settings = TaskNoticeSettings(channel: "#soc", escalate: stages)
        let notices = Self.notices(bot, settings)
        let (incident, _, due) = try await Self.taskDueInAMinute(bot, notices)
        // The server down from before T-1 was due until 3 hours after: past 30m, 1h and 2h.
        await notices.look(at: due.addingTimeInterval(3 * 3600))
        let posted = bot.network.takePosts()
        #expect(posted.map { $0.text.prefix(5) } == ["📋 T-1", "⏰ T-1", "🚨 T-1"], "\(posted)")
        #expect(posted.last?.channel == "C2" && posted.last?.mentions == ["<@U0LEAD>", "<!subteam^S0SOC>"], "\(posted)")
        #expect(posted.last?.text.contains(" is 3h overdue ") == true, "\(posted)")

        await notices.look(at: due.addingTimeInterval(3 * 3600 + 1))
        await Self.notices(bot, settings).look(at: due.addingTimeInterval(5 * 3600))
        #expect(bot.network.takePosts().isEmpty, "the nearer stages moved past it")
        let journal = try await bot.store.journal(of: incident)
        #expect(journal.filter { $0.kind == .task && $0.text.contains("escalation") }.map(\.text) == [
            "T-1 Call the user: past the escalation stages 30m, 1h and 2h when a look found it, so told at 2h only",
        ], "\(journal.map(\.text))")
        await bot.stop()
    }

    @Test("A furthest stage whose channel fails holds the task the nearer ones moved past, and tells it once it is back")
    func furthestChannelFails() async throws {
        let bot = try await Bot()
        var stages = [TaskEscalation(after: 30 * 60), TaskEscalation(after: 2 * 3600, channel: "#gone")]
        let notices = Self.notices(bot, TaskNoticeSettings(channel: "#soc", escalate: stages))
        let (_, _, due) = try await Self.taskDueInAMinute(bot, notices)
        await notices.look(at: due.addingTimeInterval(3 * 3600))
        #expect(bot.network.takePosts().map { $0.text.prefix(5) } == ["📋 T-1", "⏰ T-1"], "the 2h stage waits")

        // SIGHUP: the 2h stage's channel put right.
        stages[1].channel = "#ir"
        notices.reconfigure(settings: TaskNoticeSettings(channel: "#soc", escalate: stages))
        await notices.look(at: due.addingTimeInterval(3 * 3600 + 2))
        let told = bot.network.takePosts()
        #expect(told.map(\.channel) == ["C2"] && told.first?.text.hasPrefix("🚨 T-1 ") == true, "\(told)")
        await bot.stop()
    }

    @Test("A channel that fails holds no other stage: the owner's channel gone, the leads are still told")
    func failingChannel() async throws {
        let bot = try await Bot()
        let stages = [TaskEscalation(after: 30 * 60, channel: "#nowhere"), TaskEscalation(after: 3600, channel: "#ir")]
        let notices = Self.notices(bot, TaskNoticeSettings(channel: "#gone", escalate: stages))
        let (_, _, due) = try await Self.taskDueInAMinute(bot, notices)
        await notices.look(at: due.addingTimeInterval(2 * 3600))
        let posted = bot.network.takePosts()
        #expect(posted.map(\.channel) == ["C2"] && posted.first?.text.hasPrefix("🚨 T-1 ") == true, "\(posted)")
        await notices.look(at: due.addingTimeInterval(2 * 3600))
        #expect(bot.network.takePosts().isEmpty, "told once; the owner's notices wait for its channel")
        await bot.stop()
    }

    static func read(_ tasks: String, slack: Bool = true) throws(ConfigurationError) -> TaskNoticeSettings? {
        let folder = try! ScratchFolder()
        let path = folder.path + "/automator.yml"
        let network = slack ? "  slack: { signing_secret: \(String(repeating: "s", count: 32)), bot_token: xoxb-1 }\n"
            : "  matrix: { homeserver: https://matrix.example.org, user: \"@bot:example.org\", access_token: t }\n"
        try! ("chat:\n" + network + "  tasks:\n    channel: \"#soc\"\n" + tasks).write(toFile: path, atomically: true,
                                                                                       encoding: .utf8)
        return try ChatConfiguration(file: path).tasks
    }

    @Test("Tasks due at one instant, more than a look reads: each is told overdue and at its stage once, none skipped")
    func sameDueAcrossLooks() async throws {
        let bot = try await Bot()
        let notices = Self.notices(bot, TaskNoticeSettings(channel: "#soc", escalate: [TaskEscalation(after: 30 * 60)]))
        let (incident, _, due) = try await Self.taskDueInAMinute(bot, notices)
        // A burst of alerts whose playbooks each give a task due "30m": a look reads 100, and the
        // position kept as the last due time alone went past the rest due at that instant.
        let count = 150
        for number in 2...count {
            try await bot.store.write(.createTask(Self.task(number, on: incident, owner: "tier1", due: due)))
        }
        var told: [String: [Int]] = [:]
        for _ in 0..<4 {
            await notices.look(at: due.addingTimeInterval(31 * 60))
            for post in bot.network.takePosts() {
                let words = post.text.split(separator: " ")
                guard words.count > 1, let number = Int(words[1].dropFirst(2)) else { continue }
                told[String(words[0]), default: []].append(number)
            }
        }
        #expect(told["⏰"]?.sorted() == Array(1...count), "\(told["⏰"] ?? [])")
        #expect(told["🚨"]?.sorted() == Array(1...count), "\(told["🚨"] ?? [])")
        await bot.stop()
    }

    @Test("escalate: stages with after, channel and mention; the mention as the network notifies")
    func configuration() throws {
        let settings = try Self.read("""
                escalate:
                  - after: 30m
                  - { after: 2h, channel: "#soc-leads", mention: "<@U0LEAD> <!subteam^S0SOC> <!here>" }
            """)
        #expect(settings?.escalate == [TaskEscalation(after: 1800),
                                       TaskEscalation(after: 7200, channel: "#soc-leads",
                                                      mentions: ["<@U0LEAD>", "<!subteam^S0SOC>", "<!here>"])])
        let matrix = try Self.read("    escalate: [{ after: 1h, mention: \"@lead:example.org\" }]\n", slack: false)
        #expect(matrix?.escalate.first?.mentions == ["@lead:example.org"])
    }

    @Test("Each mistake of escalate at its line: an after of 0 or none, stages out of order, a mention that notifies nobody")
    func configurationErrors() throws {
        do {
            _ = try Self.read("""
                    escalate:
                      - { after: 0 }
                      - { channel: "#soc-leads" }
                      - { after: 2h, mention: "@oncall-lead" }
                      - { after: 1h, mention: "<@U0LEAD>", when: night }
                      - { after: 2h }
                """)
            Issue.record("accepted")
        } catch {
            let problems = error.problems.map { "\($0.line ?? 0): \($0.key ?? ""): \($0.message)" }
            #expect(problems == [
                "6: chat.tasks.escalate[0].after: \(DurationText.expected)",
                "7: chat.tasks.escalate[1].after: missing",
                #"8: chat.tasks.escalate[2].mention: "@oncall-lead" notifies nobody in Slack: write <@U0123ABCD> for a "#
                    + "person (their member id: profile, ⋮, Copy member ID), <!subteam^S0123ABCD> for a user group (its id "
                    + "is in the group's link), or <!here>",
                "9: chat.tasks.escalate[3].when: unknown key: use after, channel, mention",
                "9: chat.tasks.escalate[3].after: the stages go in order, each after a longer time than the one before: "
                    + "this one comes after 2h",
                "10: chat.tasks.escalate[4].after: the stages go in order, each after a longer time than the one before: "
                    + "this one comes after 2h",
            ], "\(problems)")
        }
        #expect(throws: ConfigurationError.self) {
            _ = try Self.read("    escalate: [{ after: 1h, mention: \"<@U0LEAD>\" }]\n", slack: false)
        }
    }
}
