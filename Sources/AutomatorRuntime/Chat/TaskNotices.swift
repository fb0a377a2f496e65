public import Foundation
public import Logging
import Synchronization

/// Where the bot tells people of their tasks (`chat.tasks`): the channel of each owner that has
/// one, else `channel`; and whom it tells of a task left overdue (`escalate`).
///
/// ```yaml
/// chat:
///   tasks: { channel: "#soc", owners: { tier2: "#soc-tier2", mail-team: "#mail-ops" } }
/// ```
public struct TaskNoticeSettings: Sendable, Hashable {
    public var channel: String
    public var owners: [String: String]
    /// The chat network; the first configured when nil.
    public var network: String?
    /// In the order of their `after`, each longer than the one before.
    public var escalate: [TaskEscalation]

    public init(channel: String, owners: [String: String] = [:], network: String? = nil,
                escalate: [TaskEscalation] = []) {
        self.channel = channel
        self.owners = owners
        self.network = network
        self.escalate = escalate
    }

    func channel(for owner: String?) -> String { owner.flatMap { owners[$0] } ?? channel }
}

/// Chases the tasks: tells the owner's channel of each task a playbook (or anyone) gives, and of
/// each open task once its due time passes, with how to answer it; then, of a task still open,
/// each escalation stage's channel once the task is overdue by the stage's `after` (the furthest
/// stage only, when a look finds it past several). A playbook
/// waiting on a person is only as fast as that person hears of it; `automator task list` is read
/// by nobody at 3 a.m., and neither, at times, is the tier-1 channel.
///
/// What was told is kept in the chat state, in the store: the highest task number told of, the
/// due time up to which overdue tasks were, and each stage's own such due time. A server that
/// starts (or a worker that takes the lead) tells what came meanwhile, once; a server that dies
/// between a post and its mark tells that one again rather than not at all. The first start with
/// `chat.tasks` set tells of what comes from then on, not of every task ever given. Each notice is
/// journaled on its incident.
public final class TaskNotices: Sendable {
    private let settings: Mutex<TaskNoticeSettings?>
    let tasks: any IncidentStore
    let chat: ChatService
    private let logger: Logger
    /// The last failure logged, so that a channel that does not exist is logged once, not every tick.
    private let lastFailure = Mutex<String?>(nil)

    /// The highest task number told of.
    static let toldKey = "tasks.told"
    /// The due time (milliseconds since 1970) up to which the open tasks were told of as overdue.
    static let overdueKey = "tasks.overdue_until"
    /// Tasks read at a time: more wait for the next look.
    static let batch = 100

    public init(settings: TaskNoticeSettings?, tasks: any IncidentStore, chat: ChatService, logger: Logger) {
        self.settings = Mutex(settings)
        self.tasks = tasks
        self.chat = chat
        self.logger = logger
    }

    /// Tells by `settings` from the next look on (serve's SIGHUP), or stops telling when nil.
    public func reconfigure(settings: TaskNoticeSettings?) { self.settings.withLock { $0 = settings } }

    /// Looks every `tick` until cancelled.
    public func run(every tick: Duration = .seconds(2)) async {
        repeat { await look(at: Date()) } while (try? await Task.sleep(for: tick)) != nil
    }

    /// One look, as at `now`: tells of the tasks given since the last look, then of those that
    /// came due, then of those each escalation stage reached. Failures are logged, once while
    /// they last.
    public func look(at now: Date) async {
        guard let settings = settings.withLock({ $0 }) else { return }
        var failures: [String] = []
        do {
            try await tellGiven(settings)
            try await tellOverdue(settings, now: now)
        } catch { failures.append("\(error)") }
        for failure in await tellEscalated(settings, now: now) where !failures.contains(failure) {
            failures.append(failure)
        }
        guard !failures.isEmpty else {
            if lastFailure.withLock({ $0 }) != nil {
                lastFailure.withLock { $0 = nil }
                logger.notice("chat: task notices are posted again")
            }
            return
        }
        let message = failures.joined(separator: "; ")
        guard lastFailure.withLock({ last in defer { last = message }; return last != message }) else { return }
        logger.error("chat: a task notice could not be posted, and is tried again every few seconds: \(message)")
    }

    private func tellGiven(_ settings: TaskNoticeSettings) async throws {
        guard let told = try await position(Self.toldKey, start: { [tasks, logger] in
            let highest = try await tasks.highestNumbers().task
            logger.info("chat: the tasks given from T-\(highest + 1) on are told in chat (chat.tasks)")
            return String(highest)
        }).flatMap(Int.init) else { return }
        for task in try await tasks.listTasks(TaskQuery(after: TaskID(told), limit: Self.batch)) {
            // Answered or cancelled before the look: nobody is to be told of it any more.
            if task.status == .open {
                try await post("📋 \(task.id) for \(Self.owner(task)) on \(task.incident)" + Self.due(task) + ": "
                    + Defanging.text(task.title) + ". " + Self.howToAnswer(task), about: task, settings)
            }
            try await chat.store.setChatState(Self.toldKey, to: String(task.id.number))
        }
    }

    private func tellOverdue(_ settings: TaskNoticeSettings, now: Date) async throws {
        guard let until = try await position(Self.overdueKey, start: { String(now.millisecondsSince1970) })
            .flatMap(Self.duePosition)
        else { return }
        let query = TaskQuery(status: .open, dueBefore: now, dueAfter: until, limit: Self.batch)
        for task in try await tasks.listTasks(query) {
            guard let due = task.dueAt else { continue }
            try await post(Self.overdue(task, "⏰", by: nil), about: task, settings)
            try await chat.store.setChatState(Self.overdueKey, to: Self.duePosition(task, due: due))
        }
    }

    /// A due position as kept: `MILLISECONDS/NUMBER`, the due time of the last task told and its
    /// number, so that a look that ends within tasks due at the same instant (a burst of alerts,
    /// each playbook giving its task "30m") goes on with the rest of them, not past them.
    /// `MILLISECONDS` alone (a first start, or a server before the number was kept) is past
    /// every task due then.
    static func duePosition(_ text: String) -> TaskQuery.DuePosition? {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let millis = parts.first.flatMap({ Int64($0) }) else { return nil }
        return TaskQuery.DuePosition(due: Date(millisecondsSince1970: millis),
                                     task: parts.count == 2 ? Int(parts[1]).map(TaskID.init) : nil)
    }

    static func duePosition(_ task: IncidentTask, due: Date) -> String { "\(due.millisecondsSince1970)/\(task.id.number)" }

    /// The position kept under `key`; the first time, the one `start` gives, kept.
    func position(_ key: String, start: () async throws -> String) async throws -> String? {
        if let kept = try await chat.store.chatState(key) { return kept }
        let first = try await start()
        try await chat.store.setChatState(key, to: first)
        return first
    }

    /// Posts in `channel`, else the owner's.
    func post(_ text: String, about task: IncidentTask, _ settings: TaskNoticeSettings,
              in channel: String? = nil, mentioning mentions: [String] = []) async throws {
        _ = try await chat.post(text, to: channel ?? settings.channel(for: task.owner), on: settings.network,
                                thread: nil, journaling: task.incident, mentioning: mentions)
    }

    /// `⏰ T-7 for tier1 on INC-12 is overdue (due ...): TITLE. Answer: ... Someone else to do it? ...`,
    /// with how long (`is 1h 5m overdue`) when `late` is given.
    static func overdue(_ task: IncidentTask, _ mark: String, by late: Double?) -> String {
        let how = late.map { " " + DurationText.span($0) } ?? ""
        return "\(mark) \(task.id) for \(owner(task)) on \(task.incident) is\(how) overdue" + due(task) + ": "
            + Defanging.text(task.title) + ". " + howToAnswer(task)
            + " Someone else to do it? !task assign \(task.id) NAME"
    }

    /// " (due 2026-12-02 14:30 UTC)", or nothing for a task with no due time.
    private static func due(_ task: IncidentTask) -> String {
        task.dueAt.map { " (due " + ReportText.time($0, in: .gmt) + ")" } ?? ""
    }

    /// Who is asked, defanged: an owner made of alert data (an e-mail address) would be a link.
    private static func owner(_ task: IncidentTask) -> String { task.owner.map(Defanging.text) ?? "anyone" }

    private static func howToAnswer(_ task: IncidentTask) -> String {
        let answer = task.choices.isEmpty ? "" : " " + task.choices.map(Defanging.text).joined(separator: "|")
        return "Answer: !task done \(task.id)\(answer)"
    }
}
