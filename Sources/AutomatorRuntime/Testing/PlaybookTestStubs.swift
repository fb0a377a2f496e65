import Foundation

/// What one playbook test stubbed that the host must know: the answers to tasks, and the
/// virtual clock. The clock moves only when the test says so (a task answered `after` a while,
/// `time.sleep`, `advance`), and when it passes an open incident's SLA the breach happens at
/// once, as the server's timer would make it happen at that moment.
final class PlaybookTestStubs: TaskStandIn {
    let actor = "stub"
    private let store: any IncidentStore
    private let state = Locked(State())

    private struct State {
        var answers: [(title: String, answer: String, after: TimeInterval)] = []
        /// How far the virtual clock moved since the test started.
        var offset: TimeInterval = 0
        /// Incidents breached since the test last asked, so that their hooks run.
        var breached: [IncidentID] = []
    }

    /// The virtual clock's start, the same in every test and every run, so that the times a test
    /// sees (due dates, `time.now()`, `os.date()`) are exact: Monday 5 January 2026, 09:00 UTC.
    /// It stands still unless moved.
    static let start = Date(timeIntervalSince1970: 1_767_603_600)

    init(store: any IncidentStore) { self.store = store }

    var now: Date { Self.start.addingTimeInterval(state.withLock { $0.offset }) }

    /// `stub.task(title, answer, { after = seconds })`: the task whose title is `title`, or
    /// starts with it, gets `answer` once `after` seconds have passed on the virtual clock.
    func answer(_ title: String, with answer: String, after: TimeInterval) {
        state.withLock { $0.answers.append((title, answer, after)) }
    }

    func answer(_ task: IncidentTask) async -> Result<String, HostError> {
        let stub = state.withLock { state in
            state.answers.last { $0.title == task.title } ?? state.answers.last { task.title.hasPrefix($0.title) }
        }
        guard let stub else {
            return .failure(HostError("the playbook waits on task \(task.id) \"\(task.title)\" and the test gives it "
                + "no answer: add stub.task(\"\(task.title)\", \"the answer\") before run(...)"))
        }
        await advance(by: stub.after)
        return .success(stub.answer)
    }

    /// Moves the virtual clock on, breaching the SLA of every open incident it passes.
    func advance(by seconds: TimeInterval) async {
        guard seconds > 0 else { return }
        state.withLock { $0.offset += seconds }
        await breachDue()
    }

    /// Breaches the SLA of every open incident due by the virtual clock: after it moved, or after
    /// a change moved a deadline (a higher severity), as the server's timers do at once.
    func breachDue() async {
        let now = self.now
        let awaiting = (try? await store.listIncidents(IncidentQuery(awaitingSLA: true, limit: 1000))) ?? []
        for incident in awaiting {
            guard let due = incident.slaDueAt, due <= now else { continue }
            var change = IncidentChange(incident.id, at: now)
            change.slaBreachedAt = now
            let entry = JournalEntry(incident: incident.id, at: now, actor: "automator", kind: .sla,
                                     text: "SLA breached: due \(JSONText.time(due).dropFirst().dropLast())")
            guard (try? await store.write(.all([.updateIncident(change), .appendJournal([entry])]))) != nil else { continue }
            state.withLock { $0.breached.append(incident.id) }
        }
    }

    /// The incidents breached since the last call.
    func takeBreaches() -> [IncidentID] {
        state.withLock { state in
            defer { state.breached = [] }
            return state.breached
        }
    }
}
