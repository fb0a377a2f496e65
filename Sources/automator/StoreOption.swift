import ArgumentParser
import AutomatorRuntime

/// `--store postgres://USER@HOST:PORT/DATABASE`: the shared PostgreSQL store.
struct StoreOption: ParsableArguments {
    static let help = "The PostgreSQL database, as postgres://USER@HOST:PORT/DATABASE?sslmode=MODE (the password "
        + "from PGPASSWORD or ~/.pgpass, never here)."

    @Option(help: ArgumentHelp(Self.help, valueName: "url"))
    var store: String

    func validate() throws {
        do { _ = try PostgresLocation(url: store) } catch { throw ValidationError("\(error)") }
    }

    var location: PostgresLocation { get throws { try PostgresLocation(url: store) } }

    /// The PostgreSQL store of a worker's folder (or of one whose store was moved), said on
    /// standard error: the folder holds none of it, so a command works where the worker does,
    /// reading or writing.
    static func shared(by folder: String) -> String? {
        guard let shared = DataFolder.sharedStore(of: folder) else { return nil }
        CommandLogging.note("\(folder)'s store is \(shared): working on it there (as --store \(shared))")
        return shared
    }
}

/// `--data`, and `--store` for the workers' PostgreSQL: the commands that work on a store
/// directly, also while automator serve runs (evidence, the journal's verification and
/// checkpoints).
struct FolderOrStore: ParsableArguments {
    @Option(help: ArgumentHelp("The data folder of automator serve (with --store: the signing key's folder).",
                               valueName: "folder"))
    var data = FolderAccess.defaultFolder

    @Option(help: ArgumentHelp(StoreOption.help + " The store of automator serve --store; default: the one --data's "
                               + "worker uses, else SQLite in --data.",
                               valueName: "url"))
    var store: String?

    func validate() throws {
        guard let store else { return try FolderAccess.requireFolder(data) }
        do { _ = try PostgresLocation(url: store) } catch { throw ValidationError("--store: \(error)") }
    }

    /// Runs `body` with the store the options name, closed after; a failure prints `error: ...`
    /// and exits 1. Without `--store`, a worker's folder (or one whose store was moved) is read in
    /// its PostgreSQL store, as its worker reads it: the folder holds none of it.
    func perform<T>(_ body: (any EvidenceStore) async throws -> T) async throws -> T {
        try await CommandLogging.exitingOnFailure {
            let shared = store ?? StoreOption.shared(by: data)
            let opened: any EvidenceStore = if let shared {
                try await CommandStores.postgres(try PostgresLocation(url: shared), dataFolder: data)
            } else {
                try CommandStores.sqlite(folder: data)
            }
            do {
                let result = try await body(opened)
                await opened.close()
                return result
            } catch {
                await opened.close()
                throw error
            }
        }
    }
}
