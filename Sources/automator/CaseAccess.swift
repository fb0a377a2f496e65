import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation

/// `--data`, and `--store` for the workers' PostgreSQL: where the case commands (`incident`,
/// `task`, `playbook`, `question`, `runs`, `action`) find a data folder's cases.
struct CaseOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data folder of automator serve.", valueName: "folder"))
    var data = FolderAccess.defaultFolder

    @Option(help: ArgumentHelp(StoreOption.help + " Read there when no automator serve holds --data (the folder "
                               + "then need not exist); default: the PostgreSQL store --data's worker uses, else "
                               + "SQLite in --data.", valueName: "url"))
    var store: String?

    func validate() throws {
        guard let store else { return }
        do { _ = try PostgresLocation(url: store) } catch { throw ValidationError("--store: \(error)") }
    }

    /// What the case commands' `--help` says of a worker that is down, once for all of them.
    static let withoutWorker = """
        On a worker's folder (automator serve --store) whose worker is down, or with --store from \
        any machine, they read the workers' PostgreSQL (lists, incident show, action history) and \
        change nothing: the runs are the workers', and a change made around them would neither \
        stop nor resume them, so the error says to start the worker.
        """

    /// Refuses a data folder that is not there, unless `--store` names the store.
    func requireFolder() throws { if store == nil { try FolderAccess.requireFolder(data) } }
}

/// Where a case command works: the `automator serve` that holds the data folder, through its
/// API; with none, the store itself (`CaseStore`). The one choice of the incident, task,
/// playbook, question, runs and action commands.
enum CaseAccess {
    case server(ServerClient)
    case store(CaseStore)

    static func open(_ options: CaseOptions) async throws(CommandFailure) -> CaseAccess {
        let folder = options.data
        let lock: DataFolderLock?
        if let store = options.store, !Self.isWorker(folder, of: store) {
            // `--store` from a machine with no worker's folder, or beside a folder that is no worker's
            // of that store (the team's SQLite one, say), whose server would answer for another store.
            lock = nil
        } else {
            switch try FolderAccess.open(folder) {
            case .server(let client): return .server(client)
            case .direct(let held): lock = held
            }
        }
        do {
            if let shared = options.store ?? StoreOption.shared(by: folder) {
                let location = try PostgresLocation(url: shared)
                let store = try await CommandStores.postgres(location, dataFolder: folder)
                return .store(CaseStore(store: store, lock: lock, shared: location.description, folder: folder))
            }
            // The store first: it makes the data folder (for `incident create`).
            return .store(CaseStore(store: try CommandStores.sqlite(folder: folder), lock: lock, shared: nil, folder: folder))
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// Whether `folder` is the data folder of a worker of the PostgreSQL store at `url`.
    private static func isWorker(_ folder: String, of url: String) -> Bool {
        guard let own = DataFolder.sharedStore(of: folder).flatMap({ try? PostgresLocation(url: $0) }),
              let given = try? PostgresLocation(url: url)
        else { return false }
        return (own.host, own.port, own.database) == (given.host, given.port, given.database)
    }
}

/// A case command's store when no server answers for the data folder: the folder's SQLite, with
/// the folder's shared lock so that no server starts on it meanwhile, or the workers' PostgreSQL.
///
/// On the folder's SQLite the command does what the server would, and what a run has left goes
/// on at the next `automator serve` (`IncidentBackend`). On PostgreSQL it reads (lists, shows,
/// histories) and changes nothing (`requireWritable`): the runs there are the workers', each
/// leased to the worker that holds it, and a change made around them (an incident closed while
/// its run waits, a question answered, a run killed, an action undone) could neither stop nor
/// resume them.
struct CaseStore {
    typealias Kept = EvidenceStore & ActionStore & ChatStore & IntelStore

    let store: any Kept
    let lock: DataFolderLock?
    /// The workers' PostgreSQL, as its address; nil for the folder's own SQLite.
    let shared: String?
    let folder: String

    /// Refuses `what` (a phrase: "closing INC-7") on the workers' PostgreSQL, saying what to do.
    func requireWritable(_ what: String) throws(CommandFailure) {
        guard let shared else { return }
        throw CommandFailure("no automator serve answers for \(folder), and \(what) is a worker's work: the runs in "
            + "\(shared) are the workers', and a change made around them would neither stop nor resume them. Start "
            + "the worker (automator serve --store \(shared) --data \(folder)) and run this again, or run it on the "
            + "data folder of a worker that is up; reading (list, show, history) works meanwhile")
    }
}
