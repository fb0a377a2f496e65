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
}
