public import Foundation

/// One change to the store. Writes are applied in the order they are submitted, each one whole
/// or not at all, and a write that is refused (a duplicate, an unknown run) fails alone: the
/// writes committed with it are not affected.
public indirect enum StoreWrite: Sendable {
    /// Records a new run. Refused (`.conflict`) if the id exists.
    case createRun(RunRecord)
    /// Changes a run's status. Refused (`.notFound`) if the run does not exist.
    case updateRun(RunUpdate)
    /// Records host calls, all or none. Refused (`.conflict`) if a sequence is already
    /// recorded for its run, (`.notFound`) if the run does not exist.
    case appendHostCalls([HostCallRecord])
    /// Starts a finished run again (`running`) with `source`, keeping its first `keepingCalls`
    /// records: a retry replays up to the step that failed and goes on from there.
    case restartRun(RunID, source: [UInt8], keepingCalls: Int, at: Date)
    /// Records a new incident. Refused (`.conflict`) if the id exists.
    case createIncident(Incident)
    /// Records an incident imported from another tool with its journal (`IncidentImport`), unless
    /// an incident with its `source` and `sourceRef` is there: then refused (`.conflict`,
    /// `isAlreadyImported`) with nothing written. The check is in the write's transaction, where
    /// no other import's write can come between it and the insert: two imports of one file at
    /// once add each incident once. On SQLite, a number that another process on the file stored
    /// meanwhile is replaced by the next one free.
    case importIncident(Incident, journal: [JournalEntry])
    /// Refused (`.notFound`) if the incident does not exist. A change that marks the SLA breached
    /// is refused (`.conflict`) if it was marked already or the incident is closed: of the workers
    /// that see a deadline pass, one handles it. A close of an incident closed already is refused
    /// (`.conflict`): the first close's reason and time stay, whoever closes it later (a playbook's
    /// step that was under way, on any worker).
    case updateIncident(IncidentChange)
    /// Links two incidents (either way; linking again changes nothing). Refused (`.notFound`)
    /// if either does not exist.
    case linkIncidents(IncidentID, IncidentID)
    /// Refused (`.conflict`) if the id exists, (`.notFound`) if its incident does not.
    case createTask(IncidentTask)
    /// Marks an open task done. Refused (`.notFound`) for an unknown task, (`.conflict`) for
    /// one already done.
    case completeTask(TaskID, answer: String, by: String, at: Date)
    /// Gives an open task to `owner`. Refused (`.notFound`) for an unknown task, (`.conflict`) for
    /// one no longer open.
    case assignTask(TaskID, owner: String)
    /// Marks open tasks cancelled, each with a journal entry on its incident: an incident's when
    /// it is closed, a run's when it is killed. On a shared store, the other workers are told, as
    /// of a task done.
    case cancelOpenTasks(TaskCancellation, by: String, at: Date)
    /// Asks whoever executes the unfinished runs `scope` names to kill them with `reason`, on a
    /// store that workers share (`LeasingStore`): kept with each run until it ends, and told to the
    /// workers as a task done is, so that the worker executing the run stops it, or the worker that
    /// claims it next if that one died. There, refused (`.notFound`) for an unknown run. Nothing on
    /// a store of one process: its service stops its runs itself once the write that asks commits.
    case askToKill(RunsToKill, reason: String)
    /// Refused (`.notFound`) if an entry's incident does not exist. Each entry is given the next
    /// sequence and its place in the hash chains (`JournalChain`).
    case appendJournal([JournalEntry])
    /// Records evidence kept in the vault, and that it was added. Refused (`.notFound`) if its
    /// incident does not exist.
    case addEvidence(Evidence)
    /// Notes who looked at or exported evidence.
    case noteCustody([CustodyEvent])
    /// Keeps a signed checkpoint of the journal's chain.
    case addCheckpoint(JournalCheckpoint)
    /// Caches sources' answers on an indicator until the dates given, replacing what the same
    /// sources said of it before.
    case cacheVerdicts(type: String, value: String, [(SourceVerdict, expires: Date)])
    /// Notes an indicator looked up and its verdict (the first time it was seen is kept).
    case noteIndicator(SeenIndicator)
    /// Records the bot's settings for a channel, replacing what it had.
    case setChatChannel(ChatChannelSettings)
    /// Keeps an adapter's state under `key` (Matrix's `next_batch`).
    case setChatState(key: String, value: String)
    /// Keeps the text a message was last checked with after an edit, replacing what was kept.
    case keepEditedText(ChatEditedText)
    /// Keeps the conversation a slash command opened, so that any worker answers it while the
    /// network takes its answers.
    case openCommandConversation(ChatCommandConversation)
    /// Records a question a run waits on.
    case askQuestion(ChatQuestionRecord)
    /// Notes the message that asked the question, once posted.
    case questionPosted(id: String, message: String)
    /// Records the answer to an open question. Refused (`.notFound`) for an unknown question,
    /// (`.conflict`) for one already answered.
    case answerQuestion(id: String, choice: String, by: String, at: Date)
    /// Records an action as it is sent (or planned); recording the same id again changes nothing,
    /// so a replayed send keeps its first record. Refused (`.notFound`) if its incident does not exist.
    case recordAction(ActionRecord)
    /// Notes how an action ended (`done` or `failed`), what came back, and when it lifts itself.
    /// Refused (`.notFound`) for an unknown action.
    case finishAction(id: String, status: ActionRecord.Status, result: String, expiresAt: Date?)
    /// Marks a done action undone. Refused (`.notFound`) for an unknown action, (`.conflict`) for
    /// one that is not done.
    case undoAction(id: String, by: String, at: Date)
    /// Several writes, applied together or not at all (the first refusal refuses them all).
    case all([StoreWrite])
}

/// Whose open tasks and questions `StoreWrite.cancelOpenTasks` cancels, and so why.
public enum TaskCancellation: Sendable, Hashable {
    /// The incident's (its runs' questions): it was closed, nobody needs their answers.
    case incidentClosed(IncidentID)
    /// Those the run created or asked: it was killed, nothing waits for their answers.
    case runKilled(RunID)

    var why: String {
        switch self {
        case .incidentClosed: "the incident was closed"
        case .runKilled: "its run was killed"
        }
    }
}

/// Which runs `StoreWrite.askToKill` asks to stop.
public enum RunsToKill: Sendable, Hashable {
    case run(RunID)
    /// The runs working on the incident (it was closed), but the one that closed it and its close
    /// hooks' (`RunEntry.closeHook`), which the close started.
    case incident(IncidentID, except: RunID?)
}

extension StoreWrite {
    /// `writes` as one write: the write itself when there is one, `.all` of them otherwise.
    static func together(_ writes: [StoreWrite]) -> StoreWrite { writes.count == 1 ? writes[0] : .all(writes) }
}
