import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation
import Logging
import Synchronization

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Back up a data folder and restore it, look at a shared PostgreSQL store, or copy a data folder's store into one and back.",
        subcommands: [Backup.self, Restore.self, Check.self, Copy.self]
    )

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a data folder, even while automator serve runs on it, into a new folder a server can start on.",
            discussion: """
                A data folder's parts are needed together: the database, the evidence files it names \
                (DATA/evidence/objects), the journal's signing key (its checkpoints verify with that \
                key only) and the API token. A copy of automator.sqlite alone loses the evidence and \
                the key. The database is copied as one consistent snapshot (SQLite's VACUUM INTO) while \
                serve goes on writing, then the evidence files and the two files beside it.

                The backup is marked as one (BACKUP/backup-of names the folder and the time): it is read \
                (store check, journal verify, incident list, report) but never written, and serve refuses \
                it, since a server on it would resume the runs that were waiting when it was made, which \
                the original's server runs too: their chat posts and actions would happen twice. To \
                restore: stop automator serve on the original for good, run automator store restore \
                --data BACKUP, then start serve with --data on it (or put it where the folder was).

                With a PostgreSQL store (serve --store), back up the database with pg_dump instead (the \
                evidence is in it), and each worker's journal-signing.key; automator store copy \
                --to-folder copies it into a data folder, which needs no PostgreSQL to read.

                Example:
                  automator store backup /backups/automator-$(date +%F) --data ./automator-data
                """
        )

        @Option(help: ArgumentHelp("The data folder to back up.", valueName: "folder"))
        var data = FolderAccess.defaultFolder
        @Argument(help: ArgumentHelp("The backup: a new folder, or an empty one.", valueName: "folder"))
        var destination: String

        func run() async throws {
            try FolderAccess.requireFolder(data)
            let progress = ProgressLine("store backup")
            let copied = try await CommandLogging.exitingOnFailure {
                try FolderBackup.copy(folder: data, to: destination, alongside: [APIToken.fileName],
                                      progress: progress.update)
            }
            print("backed up \(data) into \(destination): the database (\(copied.databaseBytes.byteSize)), "
                + "\(copied.evidenceFiles.counted("evidence file")) "
                + "(\(copied.evidenceBytes.byteSize))" + copied.files.map { ", " + $0 }.joined())
            print("check it: automator store check --data \(destination); automator journal verify --data \(destination)")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a backup a data folder again, that automator serve may start on.",
            discussion: """
                automator store backup marks its copy as a backup, which serve and every command that \
                writes refuse: a server on it would resume the runs that were waiting when it was made, \
                and the server on the original folder runs them too. Restoring removes the mark, once \
                that server is stopped for good: refused while a server on this machine holds the \
                original folder. The runs the backup holds unfinished resume at the next serve's start.

                A copy of a PostgreSQL store (automator store copy --to-folder) is marked the same way, \
                as a backup of the database: restoring it is refused while a worker is connected to the \
                database or holds a run there. Stop every worker for good and copy after that, so that \
                nothing they did is missing: restoring is refused, naming what changed, when the \
                database went on after the copy (its journal, the incident and task numbers, the runs, \
                their steps, the actions), unless --discard-newer says to drop that. A database that \
                cannot be reached is taken at your word.

                Example:
                  automator serve ...                  # on ./automator-data: stopped for good
                  automator store restore --data /backups/automator-2026-11-30
                  automator serve --data /backups/automator-2026-11-30
                """
        )

        @Option(help: ArgumentHelp("The backup to restore.", valueName: "folder"))
        var data: String

        @Flag(help: ArgumentHelp("Restore a copy of a PostgreSQL store although the database went on after it: what "
                                 + "the workers did since is not in the copy, and is dropped with the database."))
        var discardNewer = false

        func run() async throws {
            try FolderAccess.requireFolder(data)
            try await CommandLogging.exitingOnFailure { try UnfinishedCopy.refuse(data) }
            guard let mark = DataFolder.backup(data) else {
                print("\(data) is not marked as a backup: automator serve --data \(data) starts on it as it is")
                return
            }
            let unfinished = (try? SQLiteStore.health(ofFolder: data))?.unfinishedRuns
            try await CommandLogging.exitingOnFailure {
                if case .server(let holder) = DataFolderLock.occupancy(of: mark.original) {
                    throw CommandFailure("automator serve\(holder.map { " (pid \($0.pid))" } ?? "") runs on "
                        + "\(mark.original), which \(data) is a backup of: stop it for good first, or the runs both hold "
                        + "would run twice")
                }
                if PostgresLocation.isPostgres(mark.original) {
                    try await requireNoWorker(on: mark.original)
                    try await requireUnchanged(mark)
                }
                try DataFolder.unmarkBackup(data)
            }
            print("\(data) is a data folder again (a backup of \(mark.original), \(mark.made))")
            print("next: automator serve --data \(data)"
                + (unfinished.map { ", which resumes its \($0.counted("unfinished run"))" } ?? ""))
        }

        /// Refuses while a worker runs on the database that `data` is a copy of (`store copy
        /// --to-folder`): its runs would go on there and here. A database that cannot be reached
        /// is taken at the operator's word, said by restoring: it may be gone for good.
        private func requireNoWorker(on address: String) async throws {
            let health: StoreHealth
            do {
                health = try await PostgresStore.health(of: try PostgresLocation(url: address),
                                                        logger: Logger(label: "automator.store"))
            } catch {
                return CommandLogging.note("\(address) could not be reached to check that no worker runs on it (\(error)): "
                    + "restoring on your word that every worker is stopped for good")
            }
            let workers = Set(health.workers + health.leases.map(\.worker)).sorted()
            guard workers.isEmpty else {
                throw CommandFailure("\(workers.count.counted("worker")) (\(workers.joined(separator: ", "))) "
                    + "\(workers.count == 1 ? "runs" : "run") on \(address), which \(data) is a copy of: stop every worker "
                    + "for good first, then copy again (what they did since this copy is not in it), or the runs both hold "
                    + "would run twice")
            }
        }

        /// Refuses a copy the database went on after (`StorePosition`, kept in its mark): serving it
        /// drops what the workers did since, unless `--discard-newer` says to. A copy made before
        /// the mark kept the position, or a database that cannot be reached, is taken as it is.
        private func requireUnchanged(_ mark: DataFolder.BackupMark) async throws {
            guard let copied = mark.position,
                  let now = try? await PostgresStore.position(of: try PostgresLocation(url: mark.original),
                                                              logger: Logger(label: "automator.store"))
            else { return }
            let changes = copied.changes(to: now)
            guard !changes.isEmpty else { return }
            let changed = changes.joined(separator: ", ")
            if discardNewer {
                return CommandLogging.note("\(mark.original) went on after \(data) was copied (\(changed)): restoring all "
                    + "the same (--discard-newer); what the workers did since is not in \(data)")
            }
            throw CommandFailure("\(mark.original) went on after \(data) was copied (\(changed)): serving the copy would "
                + "drop what the workers did since. Copy again now that they are stopped (automator store copy --store "
                + "\(mark.original) --to-folder NEW), or pass --discard-newer to restore this one all the same")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a data folder's database, or a shared PostgreSQL store's connection, schema and workers' leases.",
            discussion: """
                With --data (a backup before restoring it, or the folder of a serve that will not \
                start): reads its database without changing it, also while serve runs on it, and \
                prints the schema versions, what SQLite's integrity check finds, the incidents and \
                the unfinished runs that serve resumes at its start. Exits 1 when the database is \
                damaged (restore the newest backup), not an Automator database, or a newer automator's. \
                `automator journal verify --data FOLDER` checks the journal's chains and signatures.

                With --store (or --data of a worker on one), prints the server, the schema versions, the unfinished runs each live worker holds, \
                the runs waiting for a worker (a dead worker's, whose lease expired, and a stopped \
                worker's, which it released: a live worker adopts them within a second) and how long \
                the oldest has waited, the workers connected, and the worker that leads (it receives \
                from Matrix, posts the scheduled report and lifts expired actions). Exits 1 when the \
                schema is not this automator's; when runs have waited more than a minute for a worker: \
                then no worker runs on this database (all stopped or dead), or the workers fail to adopt \
                them; or when workers run but none has led for 5 s: they fail to take the lead.

                Examples:
                  automator store check --data /backups/automator-2026-11-30
                  automator store check --store postgres://automator@db.example:5432/automator
                """
        )

        @OptionGroup var place: FolderOrStore

        /// How long the workers may be without a leader before the check fails: one takes the lead
        /// within half a second of the last one's end.
        static let leaderlessGrace: Duration = .seconds(5)

        func run() async throws {
            guard let shared = place.store ?? StoreOption.shared(by: place.data) else { return try checkFolder() }
            var health = try await look(shared)
            // Looked at again while workers run without a leader: one may just have died or stopped.
            let started = ContinuousClock.now
            while health.leader == nil, !health.workers.isEmpty, ContinuousClock.now - started < Self.leaderlessGrace {
                try await Task.sleep(for: .milliseconds(250))
                health = try await look(shared)
            }
            print("server: \(health.server)")
            print("schema: \(health.schema.isEmpty ? "none" : health.schema.joined(separator: ", "))"
                + (health.isSchemaCurrent ? " (current)" : " (not this automator's: run automator migrate)"))
            for (worker, runs) in health.leases { print("worker \(worker): \(runs.counted("run"))") }
            if health.leases.isEmpty { print("no worker holds a run") }
            let workers = health.workers
            print("workers connected: " + (workers.isEmpty ? "none" : workers.joined(separator: ", ")))
            let leaderless = health.leader == nil && !workers.isEmpty
            if let leader = health.leader {
                print("leader: worker \(leader)")
            } else if leaderless {
                let run = workers.count.counted("worker") + (workers.count == 1 ? " runs" : " run")
                print("leader: none for \(Self.leaderlessGrace.components.seconds) s, although \(run): they fail to take "
                    + "the lead (Matrix, the scheduled report and expired actions wait); see their logs")
            } else {
                print("leader: none (no worker runs)")
            }
            // Runs wait a second at most while a worker lives: a minute means that none does (a stop
            // of every worker included: their runs are not moving), or that the workers fail to claim.
            let stale = (health.oldestExpiry ?? 0) > 60
            if health.expired > 0 {
                let why = health.workers.isEmpty ? "no worker adopts them; start automator serve on this store"
                    : "the workers do not adopt them; see their logs"
                print("\(health.expired.counted("run")) waiting for a worker, the oldest for "
                    + String(format: "%.0f s", health.oldestExpiry ?? 0) + (stale ? ": \(why)" : ""))
            }
            if !health.isSchemaCurrent || stale || leaderless { throw ExitCode.failure }
        }

        /// The SQLite database of `--data`, read only.
        private func checkFolder() throws {
            let health: SQLiteHealth
            do { health = try SQLiteStore.health(ofFolder: place.data) } catch {
                CommandLogging.report(error)
                throw ExitCode.failure
            }
            print("database: \(health.path)")
            if let mark = DataFolder.backup(place.data) {
                print("backup of: \(mark.original) (\(mark.made)); automator store restore --data \(place.data) "
                    + "before serving it")
            }
            if health.schema.isEmpty, !health.damage.isEmpty {
                print("schema: not read (the database is damaged)")
            } else {
                print("schema: \(health.schema.isEmpty ? "none" : health.schema.joined(separator: ", "))"
                    + (health.isSchemaCurrent ? " (current)" : " (older: automator serve brings it up to date at its start)"))
            }
            if let incidents = health.incidents, let runs = health.unfinishedRuns {
                print("incidents: \(incidents)")
                print("unfinished runs: \(runs) (automator serve resumes them at its start)")
            }
            guard health.damage.isEmpty else {
                print("integrity: damaged, SQLite says:")
                for line in health.damage.prefix(20) { print("  " + line) }
                if health.damage.count > 20 { print("  ... and \(health.damage.count - 20) more") }
                print("restore the newest backup (automator store backup makes them) rather than serve on this one")
                throw ExitCode.failure
            }
            print("integrity: ok")
        }

        private func look(_ shared: String) async throws -> StoreHealth {
            do {
                return try await PostgresStore.health(of: try PostgresLocation(url: shared), logger: Logger(label: "automator.store"))
            } catch {
                CommandLogging.report(error)
                throw ExitCode.failure
            }
        }
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a data folder's SQLite store into an empty PostgreSQL database, or a PostgreSQL store into a new data folder.",
            discussion: """
                --data FOLDER --store URL: for the day one machine is not enough. Everything the \
                folder's store holds (incidents, tasks, the journal with its hash chains, runs and the \
                waits they are in, actions, evidence files, the chat bot's settings and questions, the \
                intelligence seen) goes into the database, in one transaction with the schema: a copy \
                that fails or is stopped leaves the database as it found it, without even the tables, \
                and can simply be run again. Stop automator serve on the folder first (the copy refuses \
                while it runs), copy, then start the workers with --store and the same --data: the \
                journal's signing key stays in the folder. The folder's automator.sqlite is left as it \
                was: keep it as the backup of the move. The database must be empty (create it with \
                createdb); its schema is made here.

                --store URL --to-folder NEW: the way back, to step down to one machine or to hand an \
                auditor a case history that needs no database. The same things come into a new data \
                folder (the evidence as files under NEW/evidence/objects, each checked against its \
                SHA-256), read from one snapshot while the workers go on: nothing is written to the \
                database. The folder is written beside NEW as .NEW.copying and renamed at the end: a \
                copy that fails or is stopped leaves no NEW, and every command refuses a .NEW.copying a \
                killed one left; copy again, which removes it and starts over (a copy still running \
                into NEW is left alone, and refuses a second one). NEW is a snapshot of the database, marked as a backup of it: journal verify, \
                incident list, report and audit read it, and serve refuses it, since the runs waiting \
                in it are the workers' too, and a server on it would post and act for them a second \
                time. To move to this folder for good: stop every worker, copy, then automator store \
                restore --data NEW (refused while a worker is connected to the database) and serve on \
                it; the incident and task numbers go on after the database's.

                The journal's checkpoints are signed with a worker's journal-signing.key, which stays in \
                the workers' folders: NEW holds none, and journal verify checks each checkpoint against \
                the key it names (the copy prints them; give the one you kept as --public-key). \
                --key-from WORKER_FOLDER brings that worker's key, for a folder that signs on, after \
                checking that it signed every checkpoint. Never give it to a copy for an auditor: \
                whoever holds the key can sign.

                Examples:
                  PGPASSWORD=... automator store copy --data ./automator-data \\
                      --store postgres://automator@db.example:5432/automator
                  automator serve --data ./automator-data \\
                      --store postgres://automator@db.example:5432/automator

                  PGPASSWORD=... automator store copy \\
                      --store postgres://automator@db.example:5432/automator \\
                      --to-folder /cases/automator-2026-12-01
                  automator journal verify --data /cases/automator-2026-12-01 \\
                      --public-key MCowBQYDK2Vw...
                """
        )

        @Option(help: ArgumentHelp("The data folder whose store to copy into the database (default: \(FolderAccess.defaultFolder)).",
                                   valueName: "folder"))
        var data: String?

        @OptionGroup var store: StoreOption

        @Option(help: ArgumentHelp("Copy the database into this new (or empty) data folder instead.", valueName: "folder"))
        var toFolder: String?

        @Option(help: ArgumentHelp("With --to-folder: the worker's data folder whose journal-signing.key the new folder "
                                   + "signs with.", valueName: "folder"))
        var keyFrom: String?

        func validate() throws {
            if toFolder != nil, data != nil {
                throw ValidationError("--data is the folder copied into the database, --to-folder the folder the database "
                    + "is copied into: give one of them")
            }
            if keyFrom != nil, toFolder == nil {
                throw ValidationError("--key-from brings a worker's signing key into the folder of --to-folder")
            }
        }

        func run() async throws {
            if let toFolder { return try await copyToFolder(toFolder) }
            let data = data ?? FolderAccess.defaultFolder
            try FolderAccess.requireFolder(data)
            let file = URL(fileURLWithPath: data).appendingPathComponent(SQLiteStore.fileName).path
            guard FileManager.default.fileExists(atPath: file) else {
                throw ValidationError("\(data) has no store (\(SQLiteStore.fileName)): pass --data with the folder "
                    + "automator serve used")
            }
            let copied = try await CommandLogging.exitingOnFailure {
                // Held to the end: no server starts on the folder and writes what the copy would miss.
                let lock: DataFolderLock?
                switch DataFolderLock.occupancy(of: data) {
                case .server(let holder):
                    throw CommandFailure("automator serve\(holder.map { " (pid \($0.pid))" } ?? "") has \(data): stop "
                        + "it first, so that nothing it writes after the copy starts is left behind")
                case .nobody(let shared):
                    lock = shared
                }
                let progress = CopyProgressLines()
                let copied = try await PostgresStore.copy(folder: data, to: try store.location,
                                                          logger: Logger(label: "automator.store")) {
                    table, done, total in progress.update(table, done, of: total)
                }
                withExtendedLifetime(lock) {}
                return copied
            }
            print("copied \(file) into \(try store.location):")
            Self.printCopied(copied.tables, evidenceFiles: copied.evidenceFiles, bytes: copied.evidenceBytes,
                             journal: copied.journalAfter, source: "the folder")
            print("next: automator serve --data \(data) --store \(try store.location)")
        }

        /// The rows of each table, the evidence files and the journal as verified where they went;
        /// `source` is where they came from.
        static func printCopied(_ tables: [(name: String, rows: Int)], evidenceFiles: Int, bytes: Int64,
                                journal: JournalVerification, source: String)
        {
            let width = tables.map(\.name.count).max() ?? 0
            for (name, rows) in tables {
                print("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(rows.counted("row"))")
            }
            print("  evidence files: \(evidenceFiles) (\(bytes.byteSize))")
            if let problem = journal.problem {
                print("journal: copied as it was in \(source), where it does not verify either: \(problem)")
            } else {
                print("journal: \(journal.entries.counted("entry", "entries")) and "
                    + "\(journal.checkpoints.counted("checkpoint")) verified")
            }
        }
    }
}

/// A line on standard error each time a table passes another 100,000 rows, or the evidence
/// files another 256 MiB: a store of millions of rows takes a minute or more to copy.
final class CopyProgressLines: Sendable {
    private let shown = Mutex<[String: Int64]>([:])

    func update(_ table: String, _ done: Int64, of total: Int64) {
        let files = table == PostgresStore.evidenceFiles
        let step: Int64 = files ? ProgressLine.step : 100_000
        let show = shown.withLock { shown in
            guard done / step > (shown[table] ?? 0) / step else { return false }
            shown[table] = done
            return true
        }
        guard show else { return }
        let amount = files ? "\(done >> 20) of \(total >> 20) MiB" : "\(done) of \(total) rows"
        FileHandle.standardError.write(Data("copying \(table): \(amount) (\(done * 100 / max(total, 1))%)\n".utf8))
    }
}
