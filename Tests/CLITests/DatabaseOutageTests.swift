import Foundation
import TestSupport
import Testing

/// A real `automator serve --store` whose PostgreSQL (one of the test's own) stops and starts again
/// under it, as a database does at 3 a.m.
@Suite("automator serve while its PostgreSQL is away", .timeLimit(.minutes(5)))
struct DatabaseOutageTests {
    /// `automator serve --store` on a PostgreSQL of the test's own, with an empty scripts folder.
    struct Worker {
        let postgres: PostgresServer
        let store: String
        let folder: TemporaryFolder
        let server: ServerProcess

        /// - Parameter signing: a journal signing key in the data folder, so that the stop signs a checkpoint.
        init(arguments: [String] = [], signing: Bool = false) async throws {
            postgres = try PostgresServer.own()
            store = try postgres.makeDatabase()
            folder = try TemporaryFolder()
            try folder.write("scripts/.keep", "")
            let data = folder.url.appendingPathComponent("data").path
            if signing {
                let made = try await AutomatorProcess.run(["journal", "checkpoint", "--data", data, "--store", store])
                try #require(FileManager.default.fileExists(atPath: data + "/journal-signing.key"), "\(made.stderr)")
            }
            server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"),
                                                   arguments: ["--executors", "1", "--store", store] + arguments)
        }
    }

    @Test("""
        A request fails within seconds saying why, /healthz says so, the log says it once; when the \
        database is back everything works again, a run in flight included; SIGTERM stops it while away
        """)
    func outage() async throws {
        let worker = try await Worker(arguments: ["--lease", "2s"])
        let (postgres, store, server) = (worker.postgres, worker.store, worker.server)
        let kept = try await server.submit(#"{"source": "return 7"}"#)
        _ = try await server.waitForRun(kept)
        let inFlight = try await server.submit(#"{"source": "time.sleep(2) return 42"}"#)

        let logBefore = server.log.count
        try postgres.stop()
        var started = ContinuousClock.now
        // Not `try`: a client gives up after a minute, and the rest is worth checking all the same.
        let failed = try? await server.call("GET", "/api/v1/runs")
        let firstFailure = ContinuousClock.now - started
        #expect(failed?.status == 503, "\(failed?.body ?? "no answer")")
        #expect(firstFailure < .seconds(15), "the first request after the database stopped took \(firstFailure)")
        let error = failed?.json["error"] as? String ?? ""
        #expect(error.contains(store) && error.contains("cannot be reached") && error.contains("nothing stored is lost"),
                "\(error)")

        let health = try await server.call("GET", "/healthz", credentials: .none)
        #expect(health.status == 503)
        #expect(health.json["status"] as? String == "unavailable", "\(health.body)")
        #expect((health.json["reason"] as? String)?.contains(store) == true, "\(health.body)")
        // Prometheus still gets an answer, saying the store is away rather than nothing.
        let metrics = try await server.call("GET", "/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("\nautomator_store_up 0\n"), "\(metrics.body)")
        #expect(!metrics.body.contains("automator_incidents_open{"), "no counts from a store that did not answer")
        // What the log says over some seconds away: once, not at every try.
        try await Task.sleep(for: .seconds(5))
        let away = String(server.log.dropFirst(logBefore)).split(separator: "\n")
        #expect(away.filter { $0.contains(" error ") && $0.contains("cannot be reached") }.count == 1, "\(away)")
        #expect(away.count <= 4, "the log while the database was away:\n\(away.joined(separator: "\n"))")

        try postgres.start()
        started = .now
        while try await server.call("GET", "/api/v1/runs").status != 200 {
            try #require(ContinuousClock.now - started < .seconds(20), "requests still fail after the database is back")
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await server.call("GET", "/healthz", credentials: .none).json["status"] as? String == "ok")
        #expect(try await server.call("GET", "/metrics").body.contains("\nautomator_store_up 1\n"))
        #expect(server.log.contains("answers again"))
        #expect(try await server.waitForRun(kept)["result"] as? [Int] == [7], "what was stored before is there")
        // The run that was waiting when the database went away is resumed from its record.
        let resumed = try await server.waitForRun(inFlight, timeout: 30)
        #expect(resumed["status"] as? String == "completed", "\(resumed)")
        #expect(resumed["result"] as? [Int] == [42], "\(resumed)")

        try postgres.stop()
        try await Self.waitUntilUnhealthy(server)
        let status = await Self.terminate(server, within: .seconds(15))
        #expect(status == 0, "SIGTERM did not stop the server within 15 s while its database was away")
    }

    @Test("A database gone silent (frozen, its connections open) fails a request within seconds, and SIGTERM stops serve")
    func silence() async throws {
        let worker = try await Worker()
        let (postgres, server) = (worker.postgres, worker.server)
        #expect(try await server.call("GET", "/api/v1/runs").status == 200)
        defer { postgres.thaw() }

        postgres.freeze()
        var started = ContinuousClock.now
        let failed = try? await server.call("GET", "/api/v1/runs")
        let firstFailure = ContinuousClock.now - started
        #expect(failed?.status == 503, "\(failed?.body ?? "no answer")")
        #expect(firstFailure < .seconds(15), "the first request after the database froze took \(firstFailure)")
        let health = try? await server.call("GET", "/healthz", credentials: .none)
        #expect(health?.json["status"] as? String == "unavailable", "\(health?.body ?? "no answer")")

        postgres.thaw()
        started = .now
        while try await server.call("GET", "/api/v1/runs").status != 200 {
            try #require(ContinuousClock.now - started < .seconds(20), "requests still fail after the database thawed")
            try await Task.sleep(for: .milliseconds(200))
        }

        postgres.freeze()
        try await Self.waitUntilUnhealthy(server)
        let status = await Self.terminate(server, within: .seconds(15))
        #expect(status == 0, "SIGTERM did not stop the server within 15 s while its database was frozen")
    }

    @Test("A worker stopped after an outage stops as it would before: its runs' leases given up, no errors logged")
    func stopAfterOutage() async throws {
        let worker = try await Worker(arguments: ["--lease", "10s"], signing: true)
        let (postgres, server) = (worker.postgres, worker.server)
        _ = try await server.submit(#"{"source": "time.sleep(60) return 1"}"#)

        try postgres.stop()
        try await Self.waitUntilUnhealthy(server)
        try postgres.start()
        let started = ContinuousClock.now
        while try await server.call("GET", "/api/v1/runs").status != 200 {
            try #require(ContinuousClock.now - started < .seconds(20), "requests still fail after the database is back")
            try await Task.sleep(for: .milliseconds(200))
        }
        let logBefore = server.log.count
        let status = await Self.terminate(server, within: .seconds(15))
        // Once in a loaded CI run the stop outlasted 15 s: the log says where it waited.
        #expect(status == 0, "SIGTERM did not stop the worker within 15 s; its log since:\n\(server.log.dropFirst(logBefore))")
        let stop = String(server.log.dropFirst(logBefore))
        #expect(!stop.contains(" error "), "the stop:\n\(stop)")
        let database = String(worker.store.split(separator: "/").last!.split(separator: "?")[0])
        let held = try postgres.psql("""
            SELECT count(*) FROM run WHERE lease_expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint
            """, database: database)
        #expect(held.hasPrefix("0"), "the run's lease was given up, for another worker to take at once")
    }

    /// Until `/healthz` says that the database is away, 15 s at most (the stop is checked all the same).
    static func waitUntilUnhealthy(_ server: ServerProcess) async throws {
        let started = ContinuousClock.now
        while (try? await server.call("GET", "/healthz", credentials: .none))?.status == 200 {
            guard ContinuousClock.now - started < .seconds(15) else {
                Issue.record("/healthz still says ok 15 s after the database went away")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// SIGTERM, then the exit status; nil when the server had not exited within `limit` (it is
    /// killed then).
    static func terminate(_ server: ServerProcess, within limit: Duration) async -> Int32? {
        server.terminate()
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await server.waitForExit() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let status = await group.next() ?? nil
            group.cancelAll()
            if status == nil { server.kill() }
            return status
        }
    }
}
