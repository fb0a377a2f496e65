import ArgumentParser
import AutomatorRuntime
import Logging

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring a PostgreSQL store's schema up to this version of automator.",
        discussion: """
            Workers do it themselves when they start (one at a time, under a lock); this is for an \
            upgrade done on purpose, before the workers of the new version start. A database written \
            by a newer automator is refused and left as it is.

            Example:
              PGPASSWORD=... automator migrate \\
                  --store postgres://automator@db.example:5432/automator
            """
    )

    @OptionGroup var store: StoreOption

    func run() async throws {
        do {
            let location = try store.location
            let applied = try await PostgresStore.migrate(location, logger: Logger(label: "automator.migrate"))
            print(applied.isEmpty ? "\(location): the schema is current"
                : "\(location): applied \(applied.joined(separator: ", "))")
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }
}
