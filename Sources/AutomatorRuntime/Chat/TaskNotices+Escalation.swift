import Foundation

/// The escalation stages' part of a look (`chat.tasks.escalate`).
extension TaskNotices {
    /// A stage as a look finds it: the position up to which it told, and the due time before
    /// which a task has reached it (`now - after`).
    struct StageWindow {
        let stage: TaskEscalation
        let told: TaskQuery.DuePosition
        let reached: Date

        /// Whether the stage has yet to tell of `task`, due at `due`: reached, past the position.
        func holds(_ task: IncidentTask, dueAt due: Date) -> Bool {
            due.millisecondsSince1970 < reached.millisecondsSince1970 && told.precedes(task.id, dueAt: due)
        }
    }

    /// Each stage, as `tellOverdue` with the due times moved back by its `after`, in the order of
    /// the stages; returns the failures. A task that a later stage holds too (one look found it
    /// past both: the server was down, the lead changed hands) is told at the furthest stage that
    /// holds it, once; the nearer ones move past it without a post, or the leads would be called
    /// beneath a stale "31m overdue" for tier 1. A stage seen for the first time tells of the
    /// tasks that reach it from then on (as the first start does).
    func tellEscalated(_ settings: TaskNoticeSettings, now: Date) async -> [String] {
        var windows: [StageWindow] = []
        do {
            for stage in settings.escalate {
                let reached = now.addingTimeInterval(-stage.after)
                guard let told = try await position(stage.positionKey, start: { String(reached.millisecondsSince1970) })
                    .flatMap(Self.duePosition)
                else { continue }
                windows.append(StageWindow(stage: stage, told: told, reached: reached))
            }
        } catch { return ["\(error)"] }
        var failures: [String] = []
        var journaled: Set<TaskID> = []
        // Each stage on its own: the stages are the net under the owner's channel, so a channel
        // that fails (tier 1's, renamed) holds no other stage's notice, the leads' least of all.
        for (index, window) in windows.enumerated() {
            do {
                try await tell(window, before: windows[(index + 1)...], settings, now: now, journaled: &journaled)
            } catch {
                if !failures.contains("\(error)") { failures.append("\(error)") }
            }
        }
        return failures
    }

    /// One stage's tasks, in due order, each marked after its post as the others are. A task a
    /// later stage holds is left to it (which tells it now, or once its channel is back): never
    /// told nowhere. The first stage of a look to pass a task says so in its journal.
    private func tell(_ window: StageWindow, before later: ArraySlice<StageWindow>, _ settings: TaskNoticeSettings,
                      now: Date, journaled: inout Set<TaskID>) async throws {
        let query = TaskQuery(status: .open, dueBefore: window.reached, dueAfter: window.told, limit: Self.batch)
        for task in try await tasks.listTasks(query) {
            guard let due = task.dueAt else { continue }
            let further = later.filter { $0.holds(task, dueAt: due) }
            if let furthest = further.last {
                if journaled.insert(task.id).inserted {
                    let passed = [window.stage] + further.dropLast().map(\.stage)
                    try await chat.store.write(.appendJournal([Self.passed(task, passed, toldAt: furthest.stage)]))
                }
            } else {
                try await post(Self.overdue(task, "🚨", by: now.timeIntervalSince(due)), about: task, settings,
                               in: window.stage.channel, mentioning: window.stage.mentions)
            }
            try await chat.store.setChatState(window.stage.positionKey, to: Self.duePosition(task, due: due))
        }
    }

    /// `T-7 Call the user: past the escalation stages 30m, 1h and 2h when a look found it, so told
    /// at 2h only`.
    private static func passed(_ task: IncidentTask, _ stages: [TaskEscalation], toldAt furthest: TaskEscalation)
        -> JournalEntry
    {
        let names = stages.map { DurationText.text($0.after) }
        let last = DurationText.text(furthest.after)
        return JournalEntry(incident: task.incident, actor: "automator", kind: .task,
                            text: "\(task.id) \(task.title): past the escalation stages "
                                + names.joined(separator: ", ") + " and \(last) when a look found it, so told at \(last) only")
    }
}
