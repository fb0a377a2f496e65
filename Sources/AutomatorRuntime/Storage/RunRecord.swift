public import Foundation

/// A run as the store keeps it: enough to list it, and to execute it again from the start after
/// a crash (its `source` is kept, so a script file edited since does not change a run under way).
///
/// Times are kept to the millisecond: the initializers round them, so a record read back
/// equals the one written.
public struct RunRecord: Sendable, Hashable {
    /// Where a run is in its life. `pending`, `running` and `waiting` are unfinished: after a
    /// crash, such runs are executed again by replay.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Created, not started yet.
        case pending
        /// Computing, or between two steps.
        case running
        /// Suspended in a host call that waits on the outside world (a person, a timer). Runs are
        /// stored `running` while they wait: the stores' reads derive it (`ShownRunStatus`).
        case waiting
        /// The script returned: `result` holds its values.
        case completed
        /// The script raised an error, or hit a limit: `error` says which.
        case failed
        /// Someone stopped the run.
        case killed
        /// A replay met a host call that differs from the recorded one: `error` says which.
        case diverged

        /// Whether the run is over; a finished run has a `finishedAt` and is never replayed.
        public var isFinished: Bool {
            switch self {
            case .pending, .running, .waiting: false
            case .completed, .failed, .killed, .diverged: true
            }
        }
    }

    /// Time-ordered: listing by id lists by creation time.
    public var id: RunID
    /// The script's name or source label, for people (`playbooks/phishing.lua`).
    public var script: String
    /// The Lua source as it was when the run was created.
    public var source: [UInt8]
    /// The run's arguments, as JSON text.
    public var arguments: String
    public var status: Status
    public var createdAt: Date
    public var updatedAt: Date
    /// Set when the status becomes a finished one, cleared if it goes back.
    public var finishedAt: Date?
    /// The script's results, as JSON text, once completed.
    public var result: String?
    /// Why the run failed, was killed or diverged.
    public var error: String?
    /// For a playbook's run, the playbook's function it calls (`run`, `on_sla_breach`) with
    /// the incident; nil for a script, which runs as a whole with `arguments`.
    public var entry: String?
    /// The incident a playbook's run works on.
    public var incident: IncidentID?
    /// For a playbook's run, the playbook's name (`playbook { name = ... }`, else its file), as
    /// `automator incident playbook` takes it: reports count runs by it, so that a playbook moved
    /// to another folder stays one.
    public var playbook: String?

    /// A new pending run.
    public init(id: RunID = .make(), script: String, source: some Collection<UInt8>, arguments: String = "[]",
                entry: String? = nil, incident: IncidentID? = nil, playbook: String? = nil, createdAt: Date = Date())
    {
        let createdAt = createdAt.roundedToMilliseconds
        self.init(id: id, script: script, source: Array(source), arguments: arguments, status: .pending,
                  createdAt: createdAt, updatedAt: createdAt, finishedAt: nil, result: nil, error: nil,
                  entry: entry, incident: incident, playbook: playbook)
    }

    /// A run with every field given, as a store reads it back.
    public init(id: RunID, script: String, source: [UInt8], arguments: String, status: Status, createdAt: Date,
                updatedAt: Date, finishedAt: Date?, result: String?, error: String?, entry: String? = nil,
                incident: IncidentID? = nil, playbook: String? = nil)
    {
        self.id = id
        self.script = script
        self.source = source
        self.arguments = arguments
        self.status = status
        self.createdAt = createdAt.roundedToMilliseconds
        self.updatedAt = updatedAt.roundedToMilliseconds
        self.finishedAt = finishedAt?.roundedToMilliseconds
        self.result = result
        self.error = error
        self.entry = entry
        self.incident = incident
        self.playbook = playbook
    }

    /// The record after `update`, as the store applies it.
    public func applying(_ update: RunUpdate) -> RunRecord {
        var run = self
        run.status = update.status
        run.result = update.result
        run.error = update.error
        run.updatedAt = update.at
        run.finishedAt = update.status.isFinished ? update.at : nil
        return run
    }
}
