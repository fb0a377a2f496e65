import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

/// Real `automator serve --store` processes on one PostgreSQL (`PostgresServer`), each with a
/// data folder of its own.
@Suite("Several automator serve workers on one PostgreSQL", .timeLimit(.minutes(5)))
struct SharedServeTests {
    /// A scripts folder whose `effect` playbook sleeps (so that runs are in flight), posts the
    /// incident's id to `effects`, and closes the incident; a database for the workers.
    struct Workspace {
        let folder: TemporaryFolder
        let postgres: PostgresServer
        let store: String
        var scripts: URL { folder.url.appendingPathComponent("scripts") }

        /// - Parameter ownServer: a PostgreSQL of the test's own, which it may stop and start again.
        init(effects: String = "http://127.0.0.1:9", ownServer: Bool = false) async throws {
            folder = try TemporaryFolder()
            postgres = ownServer ? try PostgresServer.own() : try await PostgresServer.shared()
            store = try postgres.makeDatabase()
            try folder.write("scripts/playbooks/effect.lua", """
                return playbook {
                  name = "Effect",
                  match = { type = "effect" },
                  run = function(inc)
                    inc:note("started")
                    time.sleep(0.5)
                    local answer = http.post("\(effects)/effect", inc.id)
                    inc:close{ reason = "effect " .. answer.status }
                  end,
                }
                """)
            try folder.write("scripts/playbooks/note.lua", """
                return playbook {
                  name = "Note", match = { type = "note" },
                  run = function(inc)
                    inc:note("checked by a playbook")
                    inc:close{ reason = "noted" }
                  end,
                }
                """)
        }

        /// `automator serve --store` with its own data folder `name`.
        func start(_ name: String, lease: String = "10s") async throws -> ServerProcess {
            try await ServerProcess.start(data: folder.url.appendingPathComponent(name), scripts: scripts,
                                          arguments: ["--executors", "1", "--store", store, "--lease", lease,
                                                      "--allow-http", "127.0.0.1"])
        }

        var database: String { String(store.split(separator: "/").last!.split(separator: "?").first!) }

        /// `sql`'s answer in the workers' database.
        func psql(_ sql: String) throws -> String {
            try postgres.psql(sql, database: database).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// The worker `automator store check` names as the leader, if any.
        func leader() async throws -> String? {
            let check = try await AutomatorProcess.run(["store", "check", "--store", store])
            return check.stdout.split(separator: "\n").first { $0.hasPrefix("leader: worker ") }.map { String($0.dropFirst(15)) }
        }

        /// Polls `leader()` until it is one of `workers`, `timeout` at most; returns the last answer and
        /// how long it took.
        func waitForLeader(among workers: String..., timeout: Duration = .seconds(10)) async throws -> (String?, Duration) {
            let started = ContinuousClock.now
            var now = try await leader()
            while !workers.contains(where: { $0 == now }), ContinuousClock.now - started < timeout {
                try await Task.sleep(for: .milliseconds(100))
                now = try await leader()
            }
            return (now, ContinuousClock.now - started)
        }
    }

    /// The name a worker gives itself in its log.
    static func name(of server: ServerProcess) -> String? {
        server.log.split(separator: "\n").lazy.compactMap { line in
            line.range(of: "worker ").flatMap { start in
                line[start.upperBound...].split(separator: " ").first.map(String.init)
            }
        }.first
    }

    /// Waits until `server`'s log says `count` times that it leads, 10 s at most.
    static func waitUntilLeading(_ server: ServerProcess, count: Int = 1) async throws {
        for _ in 0..<200 where server.log.components(separatedBy: "leads the workers").count - 1 < count {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Polls `GET /api/v1/incidents/ID` on `server` until the incident is closed.
    static func waitUntilClosed(_ id: String, on server: ServerProcess, timeout: TimeInterval = 30) async throws
        -> [String: Any]
    {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let incident = try await server.call("GET", "/api/v1/incidents/\(id)").json
            if incident["status"] as? String == "closed" { return incident }
            guard Date() < deadline else {
                Issue.record("\(id) not closed in \(timeout) s: \(incident)")
                return incident
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test("An incident posted to one worker runs its playbook to the end; another worker sees it, and numbers the next one")
    func twoWorkers() async throws {
        let workspace = try await Workspace()
        let first = try await workspace.start("first"), second = try await workspace.start("second")

        let created = try await first.call("POST", "/api/v1/incidents",
                                           body: #"{"title": "Check me", "type": "note", "severity": "high"}"#)
        #expect(created.status == 201, "\(created.body)")
        let id = try #require(created.json["id"] as? String)
        let closed = try await Self.waitUntilClosed(id, on: second)
        #expect(closed["close_reason"] as? String == "noted", "\(closed)")
        // The run's end is journaled just after the close it made: on a busy machine, a moment later.
        var journal = ""
        for _ in 0..<50 where !journal.contains("completed") {
            journal = try await second.call("GET", "/api/v1/incidents/\(id)/journal").body
            if !journal.contains("completed") { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(journal.contains("checked by a playbook") && journal.contains("completed"), "\(journal)")

        let next = try await second.call("POST", "/api/v1/incidents",
                                         body: #"{"title": "And me", "type": "note", "severity": "low"}"#)
        #expect(next.status == 201 && next.json["id"] as? String != id, "numbers come from the database: \(next.body)")
        let other = try #require(next.json["id"] as? String)
        _ = try await Self.waitUntilClosed(other, on: first)
        #expect(try workspace.psql("SELECT count(*) FROM incident") == "2")
        first.terminate()
        second.terminate()
        #expect(await first.waitForExit() == 0)
        #expect(await second.waitForExit() == 0)
        // With the worker stopped, a command on its folder is not answered from an empty SQLite store
        // made there ("journal verified: 0 entries"): the journal's, evidence's and report's commands
        // read the database, and so do the case commands.
        let folder = workspace.folder.url.appendingPathComponent("first").path
        let verified = try await AutomatorProcess.run(["journal", "verify", "--data", folder])
        #expect(verified.status == 0 && verified.stderr.contains("working on it there (as --store postgres://")
            && !verified.stdout.contains("verified: 0 entries"), "\(verified.stdout)\(verified.stderr)")
        let audit = try await AutomatorProcess.run(["audit", "--data", folder, "--json"])
        #expect(audit.status == 0 && audit.stdout.contains("And me"), "\(audit.stdout)\(audit.stderr)")
        let listed = try await AutomatorProcess.run(["incident", "list", "--data", folder])
        #expect(listed.status == 0 && listed.stderr.contains("working on it there (as --store postgres://")
            && listed.stdout.split(separator: "\n").count == 3, "\(listed.stdout)\(listed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/automator.sqlite"))
    }

    @Test("journal show --follow on a worker's folder goes on when that worker dies, and journal show needs no worker running")
    func followThroughDeath() async throws {
        let workspace = try await Workspace()
        let first = try await workspace.start("first"), second = try await workspace.start("second")
        let created = try await first.call("POST", "/api/v1/incidents",
                                           body: #"{"title": "Beacon from WS-042", "type": "manual", "severity": "high"}"#)
        let id = try #require(created.json["id"] as? String)
        let folder = workspace.folder.url.appendingPathComponent("first").path

        let follow = Process()
        follow.executableURL = AutomatorProcess.executable
        follow.arguments = ["journal", "show", id, "--follow", "--data", folder]
        follow.environment = AutomatorProcess.environment(adding: [:])
        let output = PipeCollector(), errors = PipeCollector()
        follow.standardOutput = output.pipe
        follow.standardError = errors.pipe
        let exit = ExitWatcher(follow)
        try follow.run()
        /// Polls what `follow` printed until it holds `text`, 15 s at most.
        func followed(_ text: String) async throws -> Bool {
            for _ in 0..<150 where !output.textSoFar.contains(text) && !exit.hasExited {
                try await Task.sleep(for: .milliseconds(100))
            }
            return output.textSoFar.contains(text)
        }
        #expect(try await followed("Beacon from WS-042"), "\(output.textSoFar)\(errors.textSoFar)")

        // The worker whose folder it follows dies; the other goes on writing the journal.
        first.kill()
        _ = await first.waitForExit()
        let noted = try await second.call("POST", "/api/v1/incidents/\(id)/journal",
                                          body: #"{"text": "C2 blocked after the first worker died"}"#)
        #expect(noted.status == 201, "\(noted.body)")
        #expect(try await followed("C2 blocked after the first worker died"), "\(output.textSoFar)\(errors.textSoFar)")
        #expect(!exit.hasExited, "\(errors.textSoFar)")
        follow.terminate()
        _ = await exit.status()

        // With no worker running on the folder, the journal is read in the database all the same.
        second.terminate()
        #expect(await second.waitForExit() == 0)
        let shown = try await AutomatorProcess.run(["journal", "show", id, "--data", folder])
        #expect(shown.status == 0 && shown.stdout.contains("C2 blocked after the first worker died"),
                "\(shown.stdout)\(shown.stderr)")
        let elsewhere = try await AutomatorProcess.run(["journal", "show", id, "--store", workspace.store,
                                                        "--data", workspace.folder.url.appendingPathComponent("laptop").path])
        #expect(elsewhere.status == 0 && elsewhere.stdout.contains("Beacon from WS-042"), "\(elsewhere.stdout)\(elsewhere.stderr)")
    }

    @Test("With no worker running, the case commands read a worker's folder, and --store from a machine with none: incidents, the case with its evidence, tasks, runs, questions, actions; a change is refused, saying to start a worker")
    func caseCommandsWithoutWorker() async throws {
        let workspace = try await Workspace()
        let worker = try await workspace.start("first")
        let created = try await worker.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Beacon from WS-042", "type": "note", "severity": "high"}"#)
        let id = try #require(created.json["id"] as? String, "\(created.body)")
        _ = try await Self.waitUntilClosed(id, on: worker)
        let folder = workspace.folder.url.appendingPathComponent("first").path
        let capture = try workspace.folder.write("beacon.pcap", "a capture of the beacon")
        let added = try await AutomatorProcess.run(["evidence", "add", id, capture, "--data", folder])
        #expect(added.status == 0, "\(added.stderr)")
        worker.terminate()
        #expect(await worker.waitForExit() == 0)

        let laptop = workspace.folder.url.appendingPathComponent("laptop").path
        for place in [["--data", folder], ["--store", workspace.store, "--data", laptop]] {
            let listed = try await AutomatorProcess.run(["incident", "list"] + place)
            #expect(listed.status == 0 && listed.stdout.contains("Beacon from WS-042"), "\(place): \(listed.stdout)\(listed.stderr)")
            let shown = try await AutomatorProcess.run(["incident", "show", id] + place)
            #expect(shown.status == 0 && shown.stdout.contains("checked by a playbook") && shown.stdout.contains("beacon.pcap"),
                    "\(place): \(shown.stdout)\(shown.stderr)")
            let runs = try await AutomatorProcess.run(["runs", "list"] + place)
            #expect(runs.status == 0 && runs.stdout.contains("note.lua"), "\(place): \(runs.stdout)\(runs.stderr)")
            for read in [["task", "list", "--all"], ["question", "list"], ["action", "history", "--incident", id]] {
                let answer = try await AutomatorProcess.run(read + place)
                #expect(answer.status == 0, "\(read) \(place): \(answer.stderr)")
            }
            let closed = try await AutomatorProcess.run(["incident", "update", id, "--owner", "alice"] + place)
            #expect(closed.status == 1 && closed.stderr.contains("changing \(id) is a worker's work")
                    && closed.stderr.contains("automator serve --store"), "\(place): \(closed.stderr)")
        }
        let killed = try await AutomatorProcess.run(["runs", "kill", "run-0192c3e4a5b6f7a8b9c0d1e2f3a4", "--data", folder])
        #expect(killed.status == 1 && killed.stderr.contains("reading (list, show, history) works meanwhile"), "\(killed.stderr)")
    }

    @Test("--store beside a folder that is no worker's of that store (the team's SQLite one, its serve up) reads that store, not the folder's server")
    func storeBesideAnotherFolder() async throws {
        let workspace = try await Workspace()
        let worker = try await workspace.start("first")
        #expect(try await worker.call("POST", "/api/v1/incidents",
                                      body: #"{"title": "Shared beacon", "type": "other", "severity": "high"}"#).status == 201)
        let local = workspace.folder.url.appendingPathComponent("local")
        let single = try await ServerProcess.start(data: local, scripts: workspace.scripts)
        #expect(try await single.call("POST", "/api/v1/incidents",
                                      body: #"{"title": "Local only", "type": "other", "severity": "low"}"#).status == 201)
        let shared = try await AutomatorProcess.run(["incident", "list", "--data", local.path, "--store", workspace.store])
        #expect(shared.status == 0 && shared.stdout.contains("Shared beacon") && !shared.stdout.contains("Local only"),
                "\(shared.stdout)\(shared.stderr)")
        let own = try await AutomatorProcess.run(["incident", "list", "--data", local.path])
        #expect(own.stdout.contains("Local only") && !own.stdout.contains("Shared beacon"), "\(own.stdout)\(own.stderr)")
        for server in [single, worker] {
            server.terminate()
            _ = await server.waitForExit()
        }
    }

    @Test("A task completed through one worker resumes the run waiting on another; an SLA breaches once, and the others breach a dead worker's")
    func waitsAndDeadlines() async throws {
        let workspace = try await Workspace()
        try workspace.folder.write("scripts/playbooks/confirm.lua", """
            return playbook {
              name = "Confirm", match = { type = "confirm" },
              run = function(inc)
                local answer = inc:task{ title = "Confirm with the reporter" }:wait()
                inc:close{ reason = "confirmed: " .. answer }
              end,
            }
            """)
        try workspace.folder.write("scripts/playbooks/urgent.lua", """
            return playbook {
              name = "Urgent", match = { type = "outage" }, sla = "2s",
              run = function(inc) inc:task{ title = "Fix it" }:wait() end,
              on_sla_breach = function(inc) inc:note("breached, escalating") end,
            }
            """)
        let first = try await workspace.start("first", lease: "2s"), second = try await workspace.start("second", lease: "2s")

        let created = try await first.call("POST", "/api/v1/incidents",
                                           body: #"{"title": "Odd login", "type": "confirm", "severity": "low"}"#)
        let id = try #require(created.json["id"] as? String, "\(created.body)")
        let waiting = try await second.waitForIncident(id) { ($0["tasks"] as? [[String: Any]])?.count == 1 }
        let task = try #require((waiting["tasks"] as? [[String: Any]])?.first?["id"] as? String)
        let done = try await second.call("POST", "/api/v1/tasks/\(task)/complete", body: #"{"answer": "it was me", "by": "ann"}"#)
        #expect(done.status == 200, "\(done.body)")
        let closed = try await Self.waitUntilClosed(id, on: first, timeout: 5)
        #expect(closed["close_reason"] as? String == "confirmed: it was me", "the run on the first worker went on: \(closed)")

        func breached(_ incident: [String: Any]) -> Bool { (incident["sla"] as? [String: Any])?["state"] as? String == "breached" }
        // Both alive: the opener's timer breaches it, the other worker leaves it alone.
        let outage = try #require(try await first.call("POST", "/api/v1/incidents",
                                                        body: #"{"title": "Site down", "type": "outage", "severity": "critical"}"#)
            .json["id"] as? String)
        _ = try await second.waitForIncident(outage, timeout: 10, until: breached)
        // The opener dies before the deadline: the other worker breaches its incident.
        let orphan = try #require(try await first.call("POST", "/api/v1/incidents",
                                                        body: #"{"title": "Mail down", "type": "outage", "severity": "critical"}"#)
            .json["id"] as? String)
        first.kill()
        _ = try await second.waitForIncident(orphan, timeout: 10, until: breached)
        for incident in [outage, orphan] {
            var entries = try await second.journal(incident)
            for _ in 0..<100 where !entries.contains(where: { $0.text == "breached, escalating" }) {
                try await Task.sleep(for: .milliseconds(50))
                entries = try await second.journal(incident)
            }
            try await Task.sleep(for: .seconds(1.5))
            entries = try await second.journal(incident)
            #expect(entries.filter { $0.kind == "sla" }.count == 1, "\(incident): \(entries)")
            #expect(entries.filter { $0.text == "breached, escalating" }.count == 1, "the hook ran once: \(entries)")
        }
        second.terminate()
        #expect(await second.waitForExit() == 0)
    }

    @Test("Closing an incident through one worker stops its playbook's run on another: killed, not failed by its cancelled task, and the person's close stays")
    func closeStopsRunsElsewhere() async throws {
        let workspace = try await Workspace()
        try workspace.folder.write("scripts/playbooks/slow.lua", """
            return playbook {
              name = "Slow", match = { type = "slow" },
              run = function(inc)
                time.sleep(2)
                inc:note("step 2 computed")
                time.sleep(1)
                inc:note("step 3 computed")
                inc:close{ reason = "closed by the playbook" }
              end,
            }
            """)
        try workspace.folder.write("scripts/playbooks/confirm.lua", """
            return playbook {
              name = "Confirm", match = { type = "confirm" },
              run = function(inc) inc:task{ title = "Confirm with the reporter" }:wait() end,
            }
            """)
        let first = try await workspace.start("first", lease: "2s"), second = try await workspace.start("second", lease: "2s")

        for type in ["slow", "confirm"] {
            // Opened through the second worker, which executes the playbook; closed through the first.
            let created = try await second.call("POST", "/api/v1/incidents",
                                                body: #"{"title": "Odd login", "type": "\#(type)", "severity": "low"}"#)
            let id = try #require(created.json["id"] as? String, "\(created.body)")
            let run = try #require(created.json["run"] as? String, "\(created.body)")
            try await Task.sleep(for: .seconds(1))
            let closed = try await first.call("PATCH", "/api/v1/incidents/\(id)",
                                              body: #"{"status": "closed", "reason": "not needed", "by": "ann"}"#)
            #expect(closed.status == 200, "\(closed.body)")
            let ended = try await first.waitForRun(run, timeout: 5)
            #expect(ended["status"] as? String == "killed" && (ended["error"] as? String)?.hasPrefix("\(id) was closed by ") == true
                    && (ended["error"] as? String)?.contains("ann at ") == true,
                    "\(type): as on one server, not \(ended)")
            // Past the playbook's last step: it took none after the close.
            try await Task.sleep(for: .seconds(2.5))
            let incident = try await first.call("GET", "/api/v1/incidents/\(id)").json
            #expect(incident["close_reason"] as? String == "not needed", "\(incident)")
            #expect(incident["closed_at"] as? String == closed.json["closed_at"] as? String, "\(incident)")
            let texts = try await first.journal(id).map(\.text)
            #expect(!texts.contains { $0.contains("computed") || $0.contains("closed by the playbook") }, "\(texts)")
            #expect(texts.contains("run \(run) killed: \(ended["error"] as? String ?? "")"), "\(texts)")
        }
        first.terminate()
        second.terminate()
        #expect(await first.waitForExit() == 0)
        #expect(await second.waitForExit() == 0)
    }

    @Test("A run is killed through any worker: the one that executes it stops it at once; one that died, the worker that claims it")
    func killThroughAnyWorker() async throws {
        let workspace = try await Workspace()
        let first = try await workspace.start("first", lease: "2s"), second = try await workspace.start("second", lease: "2s")

        let run = try await second.submit(#"{"source": "time.sleep(60)"}"#)
        try await Task.sleep(for: .milliseconds(300))
        // Killed only if the worker executing it was told (NOTIFY): it keeps renewing its lease, so
        // no other claims the run, and the worker asking gives up after a lease and 2 s ("kill
        // asked"). The answer says which happened, where a clock needed an idle machine.
        let killed = try await first.call("POST", "/api/v1/runs/\(run)/kill")
        #expect(killed.status == 200 && killed.json["status"] as? String == "killed"
            && killed.json["error"] as? String == "killed on request", "\(killed.body)")
        let again = try await first.call("POST", "/api/v1/runs/\(run)/kill")
        #expect(again.status == 409 && again.body.contains("has already ended (killed)"), "\(again.body)")

        // Its worker stops answering before it could stop the run, and dies: the kill is kept, and
        // the worker that claims the run kills it instead of resuming it.
        let orphan = try await second.submit(#"{"source": "time.sleep(60)"}"#)
        try await Task.sleep(for: .milliseconds(300))
        second.freeze()
        let asked = try await first.call("POST", "/api/v1/runs/\(orphan)/kill")
        second.kill()
        #expect(asked.status == 200 && asked.json["status"] as? String == "killed", "\(asked.body)")
        try await Task.sleep(for: .seconds(1))
        #expect(try await first.waitForRun(orphan)["status"] as? String == "killed", "not resumed")
        first.terminate()
        #expect(await first.waitForExit() == 0)
    }

    @Test("A leader that freezes with its connections open (a stalled VM) loses the lead within its lease; woken, it does not lead")
    func frozenLeader() async throws {
        let workspace = try await Workspace()
        let first = try await workspace.start("first", lease: "2s")
        try await Self.waitUntilLeading(first)
        let second = try await workspace.start("second", lease: "2s")
        let (firstName, secondName) = (try #require(Self.name(of: first)), try #require(Self.name(of: second)))
        #expect(try await workspace.leader() == firstName, "\(first.log)")

        first.freeze()
        let (now, handover) = try await workspace.waitForLeader(among: secondName)
        #expect(now == secondName, "\(second.log)")
        #expect(handover < .seconds(4), "within the 2 s lease and a second or so: \(handover)")

        first.thaw()
        try await Task.sleep(for: .seconds(1.5))
        #expect(try await workspace.leader() == secondName, "woken, the old leader does not take it back")
        #expect(first.log.contains("stopped leading"), "and it knows: \(first.log)")
        first.terminate()
        second.terminate()
        #expect(await first.waitForExit() == 0)
        #expect(await second.waitForExit() == 0)
    }

    @Test("After PostgreSQL restarts, the worker that did not lead takes the lead when the leader dies, and stops on SIGTERM")
    func failoverAfterRestart() async throws {
        let workspace = try await Workspace(ownServer: true)
        let first = try await workspace.start("first", lease: "2s")
        try await Self.waitUntilLeading(first)
        let second = try await workspace.start("second", lease: "2s")
        let (firstName, secondName) = (try #require(Self.name(of: first)), try #require(Self.name(of: second)))
        #expect(try await workspace.leader() == firstName, "\(first.log)")

        // A fast restart, as `pg_ctl -m fast restart` does: every session ends, the leader's lock with it.
        try workspace.postgres.stop()
        try workspace.postgres.start()
        for worker in [first, second] {
            let started = ContinuousClock.now
            while (try? await worker.call("GET", "/api/v1/runs"))?.status != 200 {
                try #require(ContinuousClock.now - started < .seconds(20), "requests still fail after the restart: \(worker.log)")
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        // One of them leads again; the other waits for the lock.
        let (again, _) = try await workspace.waitForLeader(among: firstName, secondName)
        try #require(again != nil, "no worker leads after the restart")
        let (leader, follower) = again == firstName ? (first, second) : (second, first)
        let followerName = again == firstName ? secondName : firstName

        leader.kill()
        let (now, handover) = try await workspace.waitForLeader(among: followerName)
        #expect(now == followerName, "the other worker never took the lead: \(follower.log)")
        #expect(handover < .seconds(3), "within half a second and store check's polling: \(handover)")

        let stopped = ContinuousClock.now
        let status = await DatabaseOutageTests.terminate(follower, within: .seconds(10))
        #expect(status == 0, "SIGTERM did not stop the worker within 10 s: \(follower.log)")
        #expect(ContinuousClock.now - stopped < .seconds(3), "stopped in \(ContinuousClock.now - stopped)")
        #expect(await leader.waitForExit() == SIGKILL)
    }

    /// A value the tasks of a test share.
    final class Shared<Value: Sendable>: Sendable {
        private let mutex: Mutex<Value>

        init(_ value: Value) { mutex = Mutex(value) }

        func withLock<T: Sendable>(_ body: (inout sending Value) -> sending T) -> T { mutex.withLock(body) }
    }

    /// Counts the effects the playbooks make, by incident: what a loopback ticketing system
    /// would receive.
    final class EffectCounter: Sendable {
        let counts: Shared<[String: Int]>
        /// The idempotency keys each incident's effects carried.
        let keys: Shared<[String: Set<String>]>
        let server: LoopbackServer

        init() async throws {
            let counts = Shared<[String: Int]>([:])
            let keys = Shared<[String: Set<String>]>([:])
            (self.counts, self.keys) = (counts, keys)
            let router = Router()
            router.post("/effect") { request, _ -> HTTPResponse.Status in
                let incident = String(buffer: try await request.body.collect(upTo: 1 << 10))
                let key = request.headers[.init("Idempotency-Key")!] ?? ""
                counts.withLock { $0[incident, default: 0] += 1 }
                keys.withLock { _ = $0[incident, default: []].insert(key) }
                return .ok
            }
            server = try await LoopbackServer(router)
        }
    }

    /// The issue's check, at a size the suite can afford (the full 10,000 incidents is the
    /// SharedServeBenchmark's run, docs/BENCHMARKS.md).
    @Test("Three workers, one SIGKILLed mid-run: every incident completes exactly once, its effect doubled only by the dead worker and with the same idempotency key, the dead one's runs finish on the others")
    func threeWorkersOneKilled() async throws {
        let total = 600
        let effects = try await EffectCounter()
        let workspace = try await Workspace(effects: effects.server.url)
        var started: [ServerProcess] = []
        for index in 0..<3 { started.append(try await workspace.start("worker-\(index)", lease: "2s")) }
        let workers = started, victim = started[0]

        // Posted 24 at a time, in turn to each worker; once half are in, the first worker is killed
        // and the rest go to the other two.
        let killed = Shared(false)
        // The killed worker's runs that were under way, read as it dies: they must finish on the others.
        let orphans = Shared<[String]>([])
        let posted = Shared<[String: Int]>([:])  // incident id -> the worker it was posted to
        let next = Shared(0)
        let (postgres, database) = (workspace.postgres, workspace.database)
        try await withThrowingTaskGroup { group in
            for _ in 0..<24 {
                group.addTask {
                    while true {
                        let index = next.withLock { value -> Int in
                            defer { value += 1 }
                            return value
                        }
                        guard index < total else { return }
                        if index == total / 2 {
                            victim.kill()
                            killed.withLock { $0 = true }
                            let held = try postgres.psql("""
                                SELECT id FROM run WHERE status = 'running' AND lease_owner LIKE '%-\(victim.pid)-%'
                                """, database: database).split(separator: "\n").map(String.init)
                            orphans.withLock { $0 = held }
                        }
                        let worker = killed.withLock { $0 } ? 1 + index % 2 : index % 3
                        let answer: ServerProcess.Answer
                        do {
                            answer = try await workers[worker].call(
                                "POST", "/api/v1/incidents",
                                body: #"{"title": "Effect \#(index)", "type": "effect", "severity": "high"}"#)
                        } catch {
                            // Sent to the worker as it died: its incident may be stored or not.
                            guard worker == 0 else { throw error }
                            continue
                        }
                        guard answer.status == 201, let id = answer.json["id"] as? String else {
                            Issue.record("incident \(index) to worker \(worker): \(answer.status) \(answer.body)")
                            continue
                        }
                        posted.withLock { $0[id] = worker }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await victim.waitForExit() == SIGKILL)
        let orphaned = orphans.withLock { $0 }
        #expect(!orphaned.isEmpty, "the worker was killed mid-run")

        let deadline = Date().addingTimeInterval(120)
        while try workspace.psql("SELECT count(*) FROM run WHERE status <> 'completed'") != "0", Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let ids = posted.withLock { $0 }
        // Created through the API before the kill but not answered (the worker died meanwhile):
        // in the store all the same, run by the others. Every incident created is counted.
        #expect(ids.count >= total - 24, "answered: \(ids.count)")
        let incidents = Int(try workspace.psql("SELECT count(*) FROM incident")) ?? -1
        #expect(incidents >= ids.count)
        let unfinished = try workspace.psql("""
            SELECT id, status, lease_owner, lease_expires_at - (extract(epoch from clock_timestamp()) * 1000)::bigint
            FROM run WHERE status <> 'completed' LIMIT 5
            """)
        let logs = workers.map { $0.log.split(separator: "\n").suffix(15).joined(separator: "\n") }
        #expect(unfinished.isEmpty, "every run ended: \(unfinished); killed: \(victim.pid); \(logs)")
        #expect(try workspace.psql("SELECT count(*) FROM run") == String(incidents), "one run per incident")
        #expect(try workspace.psql("SELECT count(*) FROM incident WHERE status <> 'closed'") == "0")
        #expect(try workspace.psql("""
            SELECT count(*) FROM (SELECT incident FROM journal WHERE kind = 'closed' GROUP BY incident
                                  HAVING count(*) <> 1) twice
            """) == "0", "each incident closed exactly once")
        let orphanList = orphaned.map { "'\($0)'" }.joined(separator: ",")
        #expect(try workspace.psql("""
            SELECT count(*) FROM run WHERE id IN (\(orphanList)) AND status = 'completed'
              AND lease_owner NOT LIKE '%-\(victim.pid)-%'
            """) == String(orphaned.count), "the dead worker's runs finished on the others")

        let counted = effects.counts.withLock { $0 }
        let created = try workspace.psql("SELECT 'INC-' || number FROM incident").split(separator: "\n").map(String.init)
        #expect(created.allSatisfy { counted[$0, default: 0] >= 1 }, "every incident's effect happened")
        #expect(Set(counted.keys).isSubset(of: Set(created)))
        // A SIGKILL between an effect and its record's commit makes the replay act again: only
        // the dead worker's runs may be doubled, and with the same idempotency key.
        let doubled = counted.filter { $0.value > 1 }.map(\.key)
        let victims = Set(ids.filter { $0.value == 0 }.map(\.key)).union(created.filter { ids[$0] == nil })
        #expect(doubled.allSatisfy(victims.contains), "doubled on a live worker: \(doubled)")
        // Sent again, an effect carries the key it carried the first time: a receiver that keeps
        // keys acts once for every incident.
        let keys = effects.keys.withLock { $0 }
        #expect(keys.values.allSatisfy { $0.count == 1 && !$0.contains("") }, "keys: \(keys.filter { $0.value.count != 1 })")
        print("three workers: \(created.count) incidents, \(orphaned.count) resumed after the kill, "
            + "\(doubled.count) effects done twice (\(doubled.sorted()))")
        for worker in workers.dropFirst() { worker.terminate() }
        for worker in workers.dropFirst() { #expect(await worker.waitForExit() == 0) }
        effects.server.stop()
    }

    @Test("A password in --store or the configuration's store is refused, saying where it goes; a wrong address fails at start, naming the server's reason")
    func refusedAddresses() async throws {
        let folder = try TemporaryFolder()
        let withPassword = try await AutomatorProcess.run(["serve", "--data", folder.url.path, "--store",
                                                           "postgres://automator:secret@127.0.0.1:5432/automator"])
        #expect(withPassword.status == 64, "a usage error")
        #expect(withPassword.stderr.contains("PGPASSWORD") && !withPassword.stderr.contains("secret"), "\(withPassword.stderr)")
        let config = try folder.write("automator.yml", "store: postgres://automator:secret@127.0.0.1:5432/automator\n")
        let inConfig = try await AutomatorProcess.run(["serve", "--data", folder.url.path, "--config", config])
        #expect(inConfig.status == 1)
        #expect(inConfig.stderr.contains("automator.yml") && inConfig.stderr.contains("store")
            && inConfig.stderr.contains("PGPASSWORD") && !inConfig.stderr.contains("secret"), "\(inConfig.stderr)")
        let postgres = try await PostgresServer.shared()
        let unknown = try await AutomatorProcess.run([
            "serve", "--data", folder.url.path, "--http", "127.0.0.1:0",
            "--store", "postgres://nobody@127.0.0.1:\(postgres.port)/automator?sslmode=disable",
        ])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("nobody"), "the server's reason: \(unknown.stderr)")
    }
}

extension SharedServeTests {
    @Test("runs show names what a waiting run waits on, on PostgreSQL: through a worker and from the database with none")
    func waitingOn() async throws {
        let workspace = try await Workspace()
        let worker = try await workspace.start("first")
        let sleeping = try await worker.submit(#"{"source": "time.sleep(3600)"}"#)
        let asking = try await worker.submit(#"{"source": "return chat.ask('#soc', 'Is ws-17 yours?', {'yes', 'no'})"}"#)
        for run in [sleeping, asking] { _ = try await worker.waitForRun(run, status: "waiting") }
        let folder = workspace.folder.url.appendingPathComponent("first").path
        for serving in [true, false] {
            if !serving {
                worker.terminate()
                #expect(await worker.waitForExit() == 0)
            }
            let timer = try await AutomatorProcess.run(["runs", "show", sleeping, "--data", folder])
            #expect(timer.stdout.contains(#/status    waiting until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(timer\)\n/#),
                    "\(timer.stdout)\(timer.stderr)")
            let question = try await AutomatorProcess.run(["runs", "show", asking, "--data", folder])
            #expect(question.stdout.contains("status    waiting on question Q-")
                    && question.stdout.contains(" UTC: Is ws-17 yours?\n"), "\(question.stdout)\(question.stderr)")
        }
    }
}

extension SharedServeTests {
    @Test("runs show names the host call a running run is in only through the worker that holds it, on PostgreSQL")
    func inCall() async throws {
        let workspace = try await Workspace()
        let answers = HeldAnswers()
        let service = try await answers.server()
        defer { service.stop() }
        let first = try await workspace.start("first")
        let second = try await workspace.start("second")
        let fetching = try await first.submit(#"{"source": "return http.get(... .. '/held').status", "args": ["\#(service.url)"]}"#)
        try await answers.waitUntilAsked(1)

        let holder = try await first.call("GET", "/api/v1/runs/\(fetching)").json
        #expect((holder["in_call"] as? [String: Any])?["name"] as? String == "http.get", "\(holder)")
        // The other worker does not hold it: it says running, and nothing it would have to guess.
        let other = try await second.call("GET", "/api/v1/runs/\(fetching)").json
        #expect(other["status"] as? String == "running" && other["in_call"] == nil, "\(other)")
        answers.release()
        _ = try await first.waitForRun(fetching, status: "completed")
    }
}
