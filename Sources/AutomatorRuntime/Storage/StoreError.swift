/// Why the store could not do what was asked, and what to do about it.
///
/// `description` is one line fit for a log or for the CLI's `Error:` line: what went wrong,
/// where, and what the user can do next. `kind` is for code that reacts (a scheduler that marks
/// a run failed on `.conflict`, a CLI that exits differently on `.dataFolder`).
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// The family of an error, for code that reacts to it.
    public enum Kind: Sendable, Hashable {
        /// The data folder is missing and cannot be created, or is not a folder.
        case dataFolder
        /// The file is not an Automator database: not SQLite, damaged, or another program's.
        case notADatabase
        /// The database was written by a newer version of Automator.
        case newerVersion
        /// The database or its folder cannot be written.
        case readOnly
        /// The disk is full.
        case diskFull
        /// The database is there but cannot be used right now: locked, I/O error, cannot open.
        case unavailable
        /// The run, incident or task does not exist.
        case notFound
        /// The write repeats something already recorded (a run id, a host call's sequence), or
        /// contradicts it (completing a task that is done).
        case conflict
        /// The store was closed before the request.
        case closed
    }

    private enum Reason: Sendable {
        case dataFolderIsFile(path: String)
        case storeMoved(folder: String, to: String)
        case workerFolder(folder: String, of: String)
        case backupFolder(folder: String, mark: DataFolder.BackupMark)
        case unfinishedCopy(folder: String, state: UnfinishedCopy.State)
        case cannotCreateDataFolder(path: String, reason: String)
        case notADatabase(path: String, reason: String)
        case foreignDatabase(path: String)
        case newerSchema(path: String, unknown: [String])
        case unknownStatus(run: RunID, status: String)
        case unknownValue(value: String, of: String)
        case readOnly(path: String, reason: String)
        case diskFull(path: String, reason: String)
        case locked(path: String, reason: String)
        case unavailable(path: String, reason: String)
        case runNotFound(RunID)
        case duplicateRun(RunID)
        case duplicateHostCall(RunID, sequence: Int)
        case rejected(RunID, reason: String)
        case incidentNotFound(IncidentID)
        case duplicateIncident(IncidentID)
        case alreadyImported(source: String, ref: String)
        case taskNotFound(TaskID)
        case duplicateTask(TaskID)
        case taskAlreadyDone(TaskID)
        case slaHandled(IncidentID)
        case closedAlready(IncidentID)
        case signingKey(path: String, reason: String)
        case questionNotFound(String)
        case questionAnswered(String, answer: String)
        case storeAddress(String, reason: String)
        case serverUnreachable(String, reason: String)
        case serverError(String, reason: String)
        case databaseAway(String, reason: String)
        case leaseLost(RunID)
        case actionNotFound(String)
        case actionNotDone(String, status: String)
        case incidentClosedToActions(IncidentID)
        case tokenExists(String)
        case tokenNotFound(String)
        case copyTargetNotEmpty(String, tables: [String])
        case copyRefused(String, reason: String)
        case closed
    }

    private let reason: Reason

    private init(_ reason: Reason) { self.reason = reason }

    public var kind: Kind {
        switch reason {
        case .dataFolderIsFile, .cannotCreateDataFolder, .storeMoved, .workerFolder, .unfinishedCopy: .dataFolder
        case .notADatabase, .foreignDatabase: .notADatabase
        case .newerSchema, .unknownStatus, .unknownValue: .newerVersion
        case .readOnly, .backupFolder: .readOnly
        case .diskFull: .diskFull
        case .locked, .unavailable, .signingKey, .storeAddress, .serverUnreachable, .serverError,
             .databaseAway: .unavailable
        case .runNotFound, .incidentNotFound, .taskNotFound, .questionNotFound, .actionNotFound, .tokenNotFound:
            .notFound
        case .duplicateRun, .duplicateHostCall, .rejected, .duplicateIncident, .alreadyImported, .duplicateTask,
             .taskAlreadyDone, .slaHandled, .closedAlready, .questionAnswered, .leaseLost, .actionNotDone,
             .incidentClosedToActions, .copyTargetNotEmpty, .copyRefused, .tokenExists:
            .conflict
        case .closed: .closed
        }
    }

    public var description: String {
        switch reason {
        case .dataFolderIsFile(let path):
            "the data folder \(path) is a file, not a folder: move the file aside, or pass --data with another folder"
        case .storeMoved(let folder, let address):
            "the store of \(folder) was moved to \(address) by automator store copy: its automator.sqlite is the "
                + "backup of the move, no longer used. automator serve --store \(address) --data \(folder) works on "
                + "the moved store (and the commands on this folder go through it); to use the folder's own store "
                + "again, remove \(folder)/\(DataFolder.movedFile)"
        case .workerFolder(let folder, let address):
            "\(folder) is the data folder of a worker of \(address) (automator serve --store): its incidents, runs and "
                + "journal are in that database, not in the folder. While the worker runs, the commands on this folder go "
                + "through it: start it again (automator serve --store \(address) --data \(folder)). Meanwhile the "
                + "incident, task, runs, question and action commands (reading), journal, evidence, report and audit read "
                + "the database with this folder or --store \(address), from any machine that reaches it"
        case .backupFolder(let folder, let mark):
            "\(folder) is a backup of \(mark.original) (\(mark.made)): it is read, never written, since a server on it "
                + "would resume the runs that were waiting when it was made, which the server on \(mark.original) runs "
                + "too, and their chat posts and actions would happen twice. To restore it, stop every automator serve on "
                + "\(mark.original) for good, then run automator store restore --data \(folder)"
        case .unfinishedCopy(let folder, .running(let mark)):
            "\(folder) is being written by automator store copy --to-folder (pid \(mark.pid)), a copy of \(mark.source) "
                + "that becomes \(mark.destination) at its end: wait for it, then use \(mark.destination)"
        case .unfinishedCopy(let folder, .stopped(let mark)):
            "\(folder) is what an automator store copy --to-folder of \(mark.source) left when it was stopped before "
                + "its end: it holds part of the store at most. Run the copy again (automator store copy --store "
                + "\(mark.source) --to-folder \(mark.destination)): it removes this folder and starts over"
        case .cannotCreateDataFolder(let path, let reason):
            "could not create the data folder \(path) (\(reason)): create it yourself, or pass --data with a "
                + "folder this user can write"
        case .notADatabase(let path, let reason):
            "the database at \(path) is not a valid Automator database (\(reason)): restore it from a backup or move "
                + "it aside to start empty"
        case .foreignDatabase(let path):
            "the database at \(path) belongs to another program (it has tables but is not an Automator database): "
                + "pass --data with another folder, or move the file aside to start empty"
        case .newerSchema(let path, let unknown):
            "the database at \(path) was written by a newer version of Automator (unknown schema versions: "
                + "\(unknown.joined(separator: ", "))): upgrade automator, or restore a backup made by this version"
        case .unknownStatus(let run, let status):
            "run \(run) has the status '\(status)', which this version of Automator does not know: upgrade automator"
        case .unknownValue(let value, let owner):
            "\(owner) has the value '\(value)', which this version of Automator does not know: upgrade automator"
        case .readOnly(let path, let reason):
            "the database at \(path) cannot be written (\(reason)): make the data folder and its files writable by "
                + "this user (and the disk writable), or pass --data with another folder"
        case .diskFull(let path, let reason):
            "the disk holding \(path) is full (\(reason)): free some space or move the data folder to a larger disk; "
                + "the writes in progress were not saved, everything saved before is intact"
        case .locked(let path, let reason):
            "the database at \(path) is locked by another process (\(reason)): stop the other automator using this "
                + "data folder, or pass --data with another folder"
        case .unavailable(let path, let reason):
            "the database at \(path) cannot be used (\(reason)): check that the disk is healthy and the data folder "
                + "readable and writable by this user"
        case .runNotFound(let run):
            "there is no run \(run): it may have been deleted by housekeeping, or never created"
        case .duplicateRun(let run):
            "run \(run) already exists: make a new id for a new run"
        case .duplicateHostCall(let run, let sequence):
            "host call \(sequence) of run \(run) is already recorded: a replayed call must not be recorded again "
                + "(a bug in the scheduler)"
        case .rejected(let run, let reason):
            "the write for run \(run) was refused (\(reason)): a bug in the caller"
        case .incidentNotFound(let incident):
            "there is no incident \(incident): `automator incident list` shows the incidents"
        case .duplicateIncident(let incident):
            "incident \(incident) already exists: a new incident needs a new number (a bug in the caller)"
        case .alreadyImported(let source, let ref):
            "an incident from \(source) \(ref) is there already (imported before): it is left as it is"
        case .taskNotFound(let task):
            "there is no task \(task): `automator task list` shows the open tasks"
        case .duplicateTask(let task):
            "task \(task) already exists: a new task needs a new number (a bug in the caller)"
        case .taskAlreadyDone(let task):
            "task \(task) is already done: `automator task list --all` shows who completed it and the answer"
        case .slaHandled(let incident):
            "the SLA of \(incident) is handled already: it was marked breached (by another worker perhaps), or the "
                + "incident is closed"
        case .closedAlready(let incident):
            "\(incident) is closed already, and keeps the reason and the time it was closed with: reopen it first "
                + "(automator incident update \(incident) --status active) to close it again"
        case .signingKey(let path, let reason):
            "the journal signing key \(path) \(reason)"
        case .questionNotFound(let id):
            "there is no question \(id) waiting for an answer"
        case .questionAnswered(let id, let answer):
            "question \(id) is already answered (\(answer))"
        case .storeAddress(let address, let reason):
            "the store \(address) cannot be used: \(reason)"
        case .serverUnreachable(let address, let reason):
            "could not connect to PostgreSQL at \(address) (\(reason)): check that the server runs and accepts "
                + "connections from this machine, that the user and the database exist, and the password (PGPASSWORD "
                + "or ~/.pgpass)"
        case .databaseAway(let address, let reason):
            "PostgreSQL at \(address) cannot be reached (\(reason)): nothing stored is lost, and this server works "
                + "again once the database is back, without a restart; check that the database server runs and "
                + "accepts connections from this machine (automator store check --store \(address))"
        case .serverError(let address, let reason):
            "PostgreSQL at \(address) refused the request (\(reason)): `automator store check --store \(address)` "
                + "says whether the schema and the connection are sound"
        case .leaseLost(let run):
            "run \(run) is leased to another worker (this worker's lease expired, or it never had it): only that "
                + "worker may change it now; ask the server that runs it"
        case .actionNotFound(let id):
            "there is no action \(id): `automator action history` lists the actions run"
        case .actionNotDone(let id, let status):
            "action \(id) is \(status), not done: only a done action can be undone"
        case .incidentClosedToActions(let id):
            "\(id) is closed: no action is taken on a closed incident. Reopen it first (automator incident update "
                + "\(id) --status active), if acting is still right"
        case .tokenExists(let name):
            "\(name) has a token already: automator token rotate \(name) makes a new one in its place (the old one "
                + "refused from then on), automator token revoke \(name) only revokes it"
        case .tokenNotFound(let name):
            "\(name) has no live token: automator token list shows the tokens, automator token add \(name) makes one"
        case .copyTargetNotEmpty(let address, let tables):
            "the database \(address) holds data already (in \(tables.joined(separator: ", "))): a copy fills an empty "
                + "database only, so that nothing in it is mixed with or lost under the copy; create a new one "
                + "(createdb) and copy into it"
        case .copyRefused(let address, let reason):
            "could not copy the store (\(address)): \(reason)"
        case .closed:
            "the store is closed: requests after close() are refused (close the store last)"
        }
    }
}

extension StoreError {
    static func dataFolderIsFile(_ path: String) -> StoreError { StoreError(.dataFolderIsFile(path: path)) }
    static func storeMoved(_ folder: String, to address: String) -> StoreError { StoreError(.storeMoved(folder: folder, to: address)) }
    static func workerFolder(_ folder: String, of address: String) -> StoreError {
        StoreError(.workerFolder(folder: folder, of: address))
    }

    static func backupFolder(_ folder: String, mark: DataFolder.BackupMark) -> StoreError {
        StoreError(.backupFolder(folder: folder, mark: mark))
    }

    static func unfinishedCopy(_ folder: String, state: UnfinishedCopy.State) -> StoreError {
        StoreError(.unfinishedCopy(folder: folder, state: state))
    }

    static func cannotCreateDataFolder(_ path: String, reason: String) -> StoreError {
        StoreError(.cannotCreateDataFolder(path: path, reason: reason))
    }

    static func notADatabase(_ path: String, reason: String) -> StoreError {
        StoreError(.notADatabase(path: path, reason: reason))
    }

    static func foreignDatabase(_ path: String) -> StoreError { StoreError(.foreignDatabase(path: path)) }

    static func newerSchema(_ path: String, unknown: [String]) -> StoreError {
        StoreError(.newerSchema(path: path, unknown: unknown))
    }

    static func unknownStatus(_ status: String, run: RunID) -> StoreError {
        StoreError(.unknownStatus(run: run, status: status))
    }

    static func unknownValue(_ value: String, of owner: String) -> StoreError {
        StoreError(.unknownValue(value: value, of: owner))
    }

    static func readOnly(_ path: String, reason: String) -> StoreError {
        StoreError(.readOnly(path: path, reason: reason))
    }

    static func diskFull(_ path: String, reason: String) -> StoreError {
        StoreError(.diskFull(path: path, reason: reason))
    }

    static func incidentNotFound(_ id: IncidentID) -> StoreError { StoreError(.incidentNotFound(id)) }
    static func duplicateIncident(_ id: IncidentID) -> StoreError { StoreError(.duplicateIncident(id)) }
    static func alreadyImported(source: String, ref: String) -> StoreError {
        StoreError(.alreadyImported(source: source, ref: ref))
    }

    /// Whether an import's incident was refused because its `source` and `source_ref` are there.
    var isAlreadyImported: Bool {
        if case .alreadyImported = reason { true } else { false }
    }

    static func taskNotFound(_ id: TaskID) -> StoreError { StoreError(.taskNotFound(id)) }
    static func duplicateTask(_ id: TaskID) -> StoreError { StoreError(.duplicateTask(id)) }
    static func taskAlreadyDone(_ id: TaskID) -> StoreError { StoreError(.taskAlreadyDone(id)) }
    static func slaHandled(_ id: IncidentID) -> StoreError { StoreError(.slaHandled(id)) }

    static func closedAlready(_ id: IncidentID) -> StoreError { StoreError(.closedAlready(id)) }
    static func signingKey(_ path: String, _ reason: String) -> StoreError { StoreError(.signingKey(path: path, reason: reason)) }
    static func questionNotFound(_ id: String) -> StoreError { StoreError(.questionNotFound(id)) }
    static func questionAnswered(_ id: String, answer: String) -> StoreError {
        StoreError(.questionAnswered(id, answer: answer))
    }

    static func actionNotFound(_ id: String) -> StoreError { StoreError(.actionNotFound(id)) }
    static func actionNotDone(_ id: String, status: String) -> StoreError {
        StoreError(.actionNotDone(id, status: status))
    }

    static func incidentClosedToActions(_ id: IncidentID) -> StoreError { StoreError(.incidentClosedToActions(id)) }

    static func tokenExists(_ name: String) -> StoreError { StoreError(.tokenExists(name)) }

    static func tokenNotFound(_ name: String) -> StoreError { StoreError(.tokenNotFound(name)) }

    static func locked(_ path: String, reason: String) -> StoreError { StoreError(.locked(path: path, reason: reason)) }

    static func unavailable(_ path: String, reason: String) -> StoreError {
        StoreError(.unavailable(path: path, reason: reason))
    }

    static func runNotFound(_ run: RunID) -> StoreError { StoreError(.runNotFound(run)) }

    static func duplicateRun(_ run: RunID) -> StoreError { StoreError(.duplicateRun(run)) }

    static func duplicateHostCall(_ run: RunID, sequence: Int) -> StoreError {
        StoreError(.duplicateHostCall(run, sequence: sequence))
    }

    static func rejected(_ run: RunID, reason: String) -> StoreError { StoreError(.rejected(run, reason: reason)) }

    static func storeAddress(_ address: String, reason: String) -> StoreError {
        StoreError(.storeAddress(address, reason: reason))
    }

    static func serverUnreachable(_ address: String, reason: String) -> StoreError {
        StoreError(.serverUnreachable(address, reason: reason))
    }

    /// The database of a running server went away (it answered before): unlike `serverUnreachable`
    /// at the start, nothing of the address, user or password is in question.
    static func databaseAway(_ address: String, reason: String) -> StoreError {
        StoreError(.databaseAway(address, reason: reason))
    }

    /// Whether the store's database went away: the store says so in the log once, and when it is
    /// back, so that what fails meanwhile need not.
    var isDatabaseAway: Bool {
        if case .databaseAway = reason { true } else { false }
    }

    static func serverError(_ address: String, reason: String) -> StoreError {
        StoreError(.serverError(address, reason: reason))
    }

    static func leaseLost(_ run: RunID) -> StoreError { StoreError(.leaseLost(run)) }

    /// Whether another worker holds the run written: only that worker may change it.
    var isLeaseLost: Bool {
        if case .leaseLost = reason { true } else { false }
    }

    static func copyTargetNotEmpty(_ address: String, tables: [String]) -> StoreError {
        StoreError(.copyTargetNotEmpty(address, tables: tables))
    }

    static func copyRefused(_ address: String, reason: String) -> StoreError {
        StoreError(.copyRefused(address, reason: reason))
    }

    static let closed = StoreError(.closed)
}
