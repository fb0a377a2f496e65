import Foundation
import TestSupport
import Testing

@Suite("automator migrate and automator store check, on a real PostgreSQL", .timeLimit(.minutes(1)))
struct StoreCommandTests {
    @Test("migrate brings an empty database to the schema, then says it is current; check reports it, and then the runs a dead worker left")
    func migrateAndCheck() async throws {
        let server = try await PostgresServer.shared()
        let url = try server.makeDatabase()
        let database = String(url.split(separator: "/").last!.split(separator: "?")[0])

        var check = try await AutomatorProcess.run(["store", "check", "--store", url])
        #expect(check.status == 1)
        #expect(check.stdout.contains("schema: none (not this automator's: run automator migrate)"))

        let first = try await AutomatorProcess.run(["migrate", "--store", url])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, v16, v17, v18, v19, v20, v21, v22, v23, v24"))
        #expect(try await AutomatorProcess.run(["migrate", "--store", url]).stdout.contains("the schema is current"))

        check = try await AutomatorProcess.run(["store", "check", "--store", url])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("server: PostgreSQL"))
        #expect(check.stdout.contains("schema: v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, v16, v17, v18, v19, v20, v21, v22, v23, v24 (current)"))
        #expect(check.stdout.contains("no worker holds a run"))
        #expect(check.stdout.contains("workers connected: none\nleader: none (no worker runs)"), "\(check.stdout)")

        // Two runs of a worker alive, one of a worker dead for ten minutes.
        try server.psql("""
            INSERT INTO run (id, script, source, arguments, status, created_at, updated_at, lease_owner, lease_expires_at)
            VALUES ('run-1', 'a.lua', '', '[]', 'running', 0, 0, 'alive', 9e15),
                   ('run-2', 'a.lua', '', '[]', 'waiting', 0, 0, 'alive', 9e15),
                   ('run-3', 'a.lua', '', '[]', 'running', 0, 0, 'dead',
                    (extract(epoch from now()) * 1000)::bigint - 600000)
            """, database: database)
        check = try await AutomatorProcess.run(["store", "check", "--store", url])
        #expect(check.status == 1)
        #expect(check.stdout.contains("worker alive: 2 runs"))
        #expect(check.stdout.contains("1 run waiting for a worker, the oldest for 600 s: no worker adopts them"))
    }

    @Test("A worker connected while none leads is told apart from no worker, and fails the check after a grace period")
    func workerWithoutLeader() async throws {
        let server = try await PostgresServer.shared()
        let url = try server.makeDatabase()
        let database = String(url.split(separator: "/").last!.split(separator: "?")[0])
        #expect(try await AutomatorProcess.run(["migrate", "--store", url]).status == 0)
        // A session named as a worker's that never tries for the lead: a worker whose leading is stuck.
        let stuck = Process()
        stuck.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        stuck.arguments = ["-X", "-q", "-h", server.folder, "-p", String(server.port), "-U", "automator",
                           "-d", "dbname=\(database) application_name='automator stuck-1'", "-c", "SELECT pg_sleep(50)"]
        try stuck.run()
        defer { stuck.terminate() }
        for _ in 0..<100 where try server.psql("""
            SELECT count(*) FROM pg_stat_activity WHERE application_name = 'automator stuck-1'
            """).hasPrefix("0") {
            try await Task.sleep(for: .milliseconds(50))
        }

        let started = ContinuousClock.now
        let check = try await AutomatorProcess.run(["store", "check", "--store", url])
        #expect(ContinuousClock.now - started >= .seconds(5), "a grace period, for a leader that just died")
        #expect(check.status == 1, "\(check.stdout)")
        #expect(check.stdout.contains("workers connected: stuck-1\n"), "\(check.stdout)")
        #expect(check.stdout.contains("leader: none for 5 s, although 1 worker runs: they fail to take the lead"),
                "\(check.stdout)")
        #expect(!check.stdout.contains("no worker runs"), "\(check.stdout)")
    }

    @Test("A password in the address is refused before anything is sent, and an unreachable server is named")
    func refusals() async throws {
        let password = try await AutomatorProcess.run(["store", "check", "--store", "postgres://bob:s3cret@127.0.0.1/db"])
        #expect(password.status == 64)
        #expect(password.stderr.contains("PGPASSWORD"))
        #expect(!password.stderr.contains("s3cret"))

        let unreachable = try await AutomatorProcess.run(["migrate", "--store", "postgres://bob@127.0.0.1:1/db?sslmode=disable"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("could not connect to PostgreSQL at postgres://bob@127.0.0.1:1/db?sslmode=disable "
            + "(127.0.0.1:1: Connection refused): check that the server runs"), "the system's words, not SwiftNIO's: \(unreachable.stderr)")
    }
}
