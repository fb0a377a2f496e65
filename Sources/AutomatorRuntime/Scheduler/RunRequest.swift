/// A run for an executor to start: its script, its arguments, and, for a run resumed after a
/// restart, the host calls its earlier lives recorded.
public struct RunRequest: Sendable {
    public var id: RunID
    public var source: [UInt8]
    /// `@path` for a file (errors then read `path:line:`), `=label` otherwise.
    public var chunkName: String
    /// The script's arguments (`...`), as a JSON array.
    public var arguments: [UInt8]
    /// The run's recorded host calls, by sequence from 1: replayed before it goes on. Used only
    /// by an executor with a store.
    public var records: [HostCallRecord]
    public var entry: RunEntry
    /// Whether its host calls are recorded, on an executor with a store. A run that is not
    /// (the chat watcher's) starts again from the beginning after a crash, and its effects happen
    /// again: what it did before is not known.
    public var recorded: Bool
    /// The worker whose lease on it ended, for a run this worker adopted on a shared store: an
    /// error that depends on the machine (a file of the evidence inbox) names it.
    public var movedFrom: String?

    public init(id: RunID = .make(), source: some Collection<UInt8>, chunkName: String,
                arguments: some Collection<UInt8> = Array("[]".utf8), records: [HostCallRecord] = [],
                entry: RunEntry = .script, recorded: Bool = true)
    {
        self.id = id
        self.source = Array(source)
        self.chunkName = chunkName
        self.arguments = Array(arguments)
        self.records = records
        self.entry = entry
        self.recorded = recorded
    }
}

/// How a run calls its script.
public enum RunEntry: Sendable, Hashable {
    /// The script runs as a whole, with the arguments as `...`.
    case script
    /// The script returns `playbook { ... }`, whose function of this name (`run`,
    /// `on_sla_breach`) is called with the incident object made from the first argument.
    case playbook(String)
    /// The script gets the incident object made from the first argument as `...` (a global hook
    /// such as `hooks/sla_breach.lua`).
    case hook
    /// As `hook`, for `hooks/incident_closed.lua`: told apart from the breach's hook (an incident's
    /// `sla.hook` and `close_hook` are each the last run of theirs), and never stopped by a close
    /// of its incident, which stops the incident's other runs (`RunService.stop(runsOf:)`).
    case closeHook
    /// The script returns `integration { ... }`, whose `reputation` function for the first
    /// argument (`ip`, `domain`, `url`, `file`) is called with the second (the indicator) and the
    /// third (its configuration). Not stored: an integration's run lives only as long as a lookup.
    case reputation
    /// The script returns `integration { ... }`, whose action named by the first argument is
    /// called with the second (its checked parameters) and the third (its context). Not stored:
    /// the run that asked for the action records it.
    case action
    /// The script returns `integration { ... }`, whose `fetch.run` is called with the first
    /// argument (its context) and the second (the cursor it returned last time, or nil). Not
    /// stored: the fetch keeps its cursor once the alerts it returned are stored (`Fetches`).
    case fetch
    /// The script returns `command { ... }` or `watch { ... }`, whose `run` is called with the
    /// chat message object made from the first argument, and the second (the command's words).
    /// The run acts for `actor`, the person who wrote the message.
    case chat(actor: String)

    /// As the store keeps it (`RunRecord.entry`): nil, `playbook:run`, `hook`, `hook:incident_closed`,
    /// `chat:alice`.
    public init(stored: String?) {
        switch stored {
        case nil: self = .script
        case "hook": self = .hook
        case "hook:incident_closed": self = .closeHook
        case "reputation": self = .reputation
        case "action": self = .action
        case "fetch": self = .fetch
        case let text? where text.hasPrefix("chat:"): self = .chat(actor: String(text.dropFirst("chat:".count)))
        case let text?: self = .playbook(String(text.dropFirst("playbook:".count)))
        }
    }

    public var stored: String? {
        switch self {
        case .script: nil
        case .playbook(let function): "playbook:\(function)"
        case .hook: "hook"
        case .closeHook: "hook:incident_closed"
        case .reputation: "reputation"
        case .action: "action"
        case .fetch: "fetch"
        case .chat(let actor): "chat:\(actor)"
        }
    }
}

/// How a run ended, or why it stopped without ending.
public enum RunOutcome: Sendable {
    /// The script returned: its results, as a JSON array.
    case completed(String)
    /// The script failed, a limit or a kill stopped it, or it diverged from its record
    /// (`error.kind` says which).
    case failed(LuaError)
    /// The run stopped before its end: a durable run is still unfinished in its store, and
    /// resumes by replay at the next start.
    case suspended(Suspension)
}

/// Why a run stopped without ending.
public enum Suspension: Sendable, CustomStringConvertible {
    /// The executor stopped (a graceful stop of the process).
    case stopping
    /// A record of its host calls could not be written: the store failed (disk full, read-only).
    case storeFailed(StoreError)

    public var description: String {
        switch self {
        case .stopping: "the executor stopped"
        case .storeFailed(let error): "its host calls could not be recorded (\(error))"
        }
    }
}
