public import Foundation

/// What a waiting run waits on, as `automator runs show` and `GET /api/v1/runs/ID` name it: read
/// from what the store keeps, the things `ShownRunStatus` reads `waiting` from, so that no wait
/// costs a write.
///
/// A sleep whose deadline is ahead is the run's last record, written as it starts: it is what the
/// run waits on now. Otherwise an unanswered question it asked (it blocks until answered), then an
/// open task it created, which it may not wait on yet (a wait on a task is recorded only once
/// answered). A lookup in flight is not here: nothing is written until its answer, and the run
/// reads `running` meanwhile.
public enum RunWait: Sendable, Hashable {
    /// `time.sleep`: the run resumes at `until`, after a restart too.
    case timer(until: Date)
    /// `chat.ask`, `chat.approve` or an action's approval, unanswered.
    case question(ChatQuestionRecord)
    /// A task the run created, open.
    case task(IncidentTask)

    /// What `run` waits on; nil when it does not wait, or when the store cannot tell (a store with
    /// no tasks and questions).
    public static func find(for run: RunRecord, in store: any Store, now: Date = Date()) async throws(StoreError)
        -> RunWait?
    {
        guard run.status == .waiting else { return nil }
        if let last = try await store.hostCalls(of: run.id).last, last.name == ShownRunStatus.sleep,
           let deadline = RecordCoding.deadline(ofSleep: last.result).map(Date.init(millisecondsSince1970:)),
           deadline > now
        {
            return .timer(until: deadline)
        }
        guard let store = store as? any ChatStore else { return nil }
        if let asked = try await store.openQuestions(of: run.incident).first(where: { $0.question.runID == run.id }) {
            return .question(asked.question)
        }
        guard let incident = run.incident else { return nil }
        return try await store.listTasks(TaskQuery(incident: incident, status: .open))
            .first { $0.runID == run.id }.map(RunWait.task)
    }

    /// `{"kind": "timer", "until": ...}`, `{"kind": "question"|"approval", "id", "network",
    /// "channel", "text", "since"}`, `{"kind": "task", "id", "title", "owner", "due", "since"}`.
    public var json: String {
        var object = JSONText.Object()
        switch self {
        case .timer(let until):
            object["kind"] = JSONText.string("timer")
            object["until"] = JSONText.time(until)
        case .question(let question):
            object["kind"] = JSONText.string(question.isApproval ? "approval" : "question")
            object["id"] = JSONText.string(question.id)
            object["network"] = JSONText.string(question.network)
            object["channel"] = JSONText.string(question.channel)
            object["text"] = JSONText.string(question.text)
            object["since"] = JSONText.time(question.askedAt)
        case .task(let task):
            object["kind"] = JSONText.string("task")
            object["id"] = JSONText.string(task.id.description)
            object["title"] = JSONText.string(task.title)
            object["owner"] = task.owner.map(JSONText.string)
            object["due"] = task.dueAt.map(JSONText.time)
            object["since"] = JSONText.time(task.createdAt)
        }
        return object.text
    }
}
