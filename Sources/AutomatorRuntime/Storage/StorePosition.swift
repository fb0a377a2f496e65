import Foundation

/// How far a shared store had gone when `automator store copy --to-folder` read it, kept in the
/// copy's backup mark: `store restore` compares it with the database, since serving a copy that
/// the workers went on after drops what they did since (the incidents opened, the runs' steps,
/// the actions sent), and its waiting runs would redo what the workers did.
///
/// What grows as the workers work: the journal (every change to an incident), the numbers given,
/// the runs, their host calls (each step of a playbook), the actions. A lease given up at a
/// worker's stop, or a checkpoint signed then, is no work of theirs, and is not counted.
public struct StorePosition: Codable, Sendable, Equatable {
    /// The last entry of the journal (0 when none).
    public var journal: Int64
    /// The last incident and task numbers given.
    public var incident: Int
    public var task: Int
    public var runs: Int
    public var hostCalls: Int
    public var actions: Int

    /// What differs in `now`, in words, each as "was → is"; empty when the store is where it was.
    public func changes(to now: StorePosition) -> [String] {
        let compared: [(String, Int64, Int64)] = [
            ("the journal's last entry", journal, now.journal),
            ("the last incident number", Int64(incident), Int64(now.incident)),
            ("the last task number", Int64(task), Int64(now.task)),
            ("runs", Int64(runs), Int64(now.runs)),
            ("runs' steps (host calls)", Int64(hostCalls), Int64(now.hostCalls)),
            ("actions", Int64(actions), Int64(now.actions)),
        ]
        return compared.filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) → \($0.2)" }
    }

    /// One line of the backup mark.
    var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    init(journal: Int64, incident: Int, task: Int, runs: Int, hostCalls: Int, actions: Int) {
        (self.journal, self.incident, self.task) = (journal, incident, task)
        (self.runs, self.hostCalls, self.actions) = (runs, hostCalls, actions)
    }

    init?(line: String) {
        guard let read = try? JSONDecoder().decode(Self.self, from: Data(line.utf8)) else { return nil }
        self = read
    }
}
