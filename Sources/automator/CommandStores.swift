import AutomatorRuntime
import AutomatorServer

/// How the commands open a store: as the runtime does, then saying on standard error that an
/// older schema was upgraded, in serve's words (`SchemaUpgrade.notice`). From then on an older
/// automator refuses the database, and `incident list` on last year's folder did that silently.
enum CommandStores {
    /// The data folder's SQLite store (made if there is none).
    static func sqlite(folder: String, durability: SQLiteStore.Durability = .full) throws(StoreError) -> SQLiteStore {
        let store = try SQLiteStore(folder: folder, durability: durability)
        if let upgrade = store.upgrade { CommandLogging.note(upgrade.notice(of: store.path)) }
        return store
    }

    /// A PostgreSQL store, as a command (no lease) reads it.
    static func postgres(_ location: PostgresLocation, dataFolder: String? = nil) async throws(StoreError)
        -> PostgresStore
    {
        let store = try await PostgresStore(location: location, dataFolder: dataFolder)
        if let upgrade = store.upgrade { CommandLogging.note(upgrade.notice(of: location.description)) }
        return store
    }
}
