import ArgumentParser
import AutomatorRuntime
import Foundation
import Logging

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Look at a shared PostgreSQL store.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the connection, the schema version and the workers' leases.",
            discussion: """
                Prints the server, the schema versions, the unfinished runs each live worker holds, \
                the runs whose lease expired (a dead worker's, which the others adopt within a \
                lease time), and the worker that leads (it receives from Matrix, posts the scheduled \
                report and lifts expired actions). Exits 1 when the schema is not this automator's, or when runs have \
                waited more than a minute for a worker: then no worker runs on this database.

                Example:
                  automator store check --store postgres://automator@db.example:5432/automator
                """
        )

        @OptionGroup var store: StoreOption

        func run() async throws {
            let health: StoreHealth
            do {
                health = try await PostgresStore.health(of: try store.location, logger: Logger(label: "automator.store"))
            } catch {
                CommandLogging.report(error)
                throw ExitCode.failure
            }
            print("server: \(health.server)")
            print("schema: \(health.schema.isEmpty ? "none" : health.schema.joined(separator: ", "))"
                + (health.isSchemaCurrent ? " (current)" : " (not this automator's: run automator migrate)"))
            for (worker, runs) in health.leases { print("worker \(worker): \(runs) run\(runs == 1 ? "" : "s")") }
            if health.leases.isEmpty { print("no worker holds a run") }
            print(health.leader.map { "leader: worker \($0)" } ?? "leader: none (no worker runs)")
            let stale = (health.oldestExpiry ?? 0) > 60
            if health.expired > 0 {
                print("\(health.expired) run\(health.expired == 1 ? "" : "s") waiting for a worker, the oldest for "
                    + String(format: "%.0f s", health.oldestExpiry ?? 0)
                    + (stale ? ": no worker adopts them; start automator serve on this store" : ""))
            }
            if !health.isSchemaCurrent || stale { throw ExitCode.failure }
        }
    }
}
