import Foundation
import GRDB
import TestSupport
import Testing

/// `automator store copy`: a data folder's SQLite store into a real PostgreSQL, then the workers on it.
@Suite("automator store copy, from a data folder into a real PostgreSQL", .timeLimit(.minutes(3)))
struct StoreCopyTests {
    /// A data folder with two incidents made by the CLI (one waiting on a person's task, one
    /// closed), a piece of evidence and a signed checkpoint; a database for it.
    struct Workspace {
        let folder: TemporaryFolder
        let postgres: PostgresServer
        let store: String
        var data: String { folder.url.appendingPathComponent("data").path }
        var scripts: URL { folder.url.appendingPathComponent("scripts") }
        var database: String { String(store.split(separator: "/").last!.split(separator: "?").first!) }

        init() async throws {
            folder = try TemporaryFolder()
            postgres = try await PostgresServer.shared()
            store = try postgres.makeDatabase()
            try folder.write("scripts/playbooks/confirm.lua", """
                return playbook {
                  name = "Confirm", match = { type = "confirm" },
                  run = function(inc)
                    inc:note("asking the reporter:\\n\\tfrom C:\\\\Users\\\\ann") -- COPY escapes these
                    local answer = inc:task{ title = "Confirm with the reporter", owner = "tier1" }:wait()
                    inc:close{ reason = "confirmed: " .. answer }
                  end,
                }
                """)
            try await Self.expectSuccess(["incident", "create", "--data", data, "--scripts", scripts.path,
                                    "--title", "Odd login", "--type", "confirm", "--severity", "low"])
            try await Self.expectSuccess(["incident", "create", "--data", data, "--scripts", scripts.path,
                                    "--title", "Printer on fire", "--type", "facilities", "--severity", "high"])
            // Its own scripts, which have no hook: the default, ./scripts, is the repository's when tests run.
            try await Self.expectSuccess(["incident", "close", "INC-2", "--data", data, "--scripts", scripts.path,
                                          "--reason", "not ours"])
            let file = try folder.write("mail.eml", "Subject: win a prize\n\nclick http://bad.example/\n")
            try await Self.expectSuccess(["evidence", "add", "INC-1", file, "--data", data, "--note", "the reported mail"])
            try await Self.expectSuccess(["journal", "checkpoint", "--data", data])
            // The bot's settings: a channel watched, not verbose (SQLite's 1 and 0, PostgreSQL's booleans).
            let chat = try AutomatorProcess.run(["chat", "--data", data, "--scripts", ChatServeTests.scripts.path],
                                                input: "join #soc\nverbose off #soc\n")
            #expect(chat.stdout.contains("Watching #soc."), "\(chat.stdout)\(chat.stderr)")
            try await Self.expectSuccess(["token", "add", "splunk", "--ingest-only", "splunk", "--data", data])
        }

        /// Through `server`: the task INC-1's run waits on is completed and the run closes it; the
        /// next incident opened is numbered `next`, and its task T-2.
        static func goOn(on server: ServerProcess, next: String) async throws {
            let shown = try await server.call("GET", "/api/v1/incidents/INC-1").json
            #expect(shown["title"] as? String == "Odd login", "\(shown)")
            let task = try #require((shown["tasks"] as? [[String: Any]])?.first?["id"] as? String, "\(shown)")
            let done = try await server.call("POST", "/api/v1/tasks/\(task)/complete", body: #"{"answer": "it was me", "by": "ann"}"#)
            #expect(done.status == 200, "\(done.body)")
            let closed = try await SharedServeTests.waitUntilClosed("INC-1", on: server, timeout: 10)
            #expect(closed["close_reason"] as? String == "confirmed: it was me", "\(closed)")
            let opened = try await server.call("POST", "/api/v1/incidents", body: #"{"title": "Again", "type": "confirm", "severity": "low"}"#)
            #expect(opened.json["id"] as? String == next, "\(opened.body)")
            let waiting = try await server.waitForIncident(next) { ($0["tasks"] as? [[String: Any]])?.count == 1 }
            #expect((waiting["tasks"] as? [[String: Any]])?.first?["id"] as? String == "T-2", "\(waiting)")
        }

        /// A capture of 32 distinct megabytes as INC-1's evidence, so that a copy is still at it
        /// when it is killed.
        func addCapture() async throws {
            var capture = Data(count: 32 << 20)
            for megabyte in 0..<32 { capture[megabyte << 20] = UInt8(megabyte) }
            let file = folder.url.appendingPathComponent("capture.pcap")
            try capture.write(to: file)
            try await Self.expectSuccess(["evidence", "add", "INC-1", file.path, "--data", data])
        }

        /// `automator ARGUMENTS` started, its output discarded: to be killed.
        static func start(_ arguments: [String]) throws -> Process {
            let process = Process()
            process.executableURL = AutomatorProcess.executable
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        func psql(_ sql: String) throws -> String {
            try postgres.psql(sql, database: database).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        @discardableResult
        static func expectSuccess(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            let result = try await AutomatorProcess.run(arguments)
            #expect(result.status == 0, "automator \(arguments.joined(separator: " ")): \(result.stderr)")
            return result
        }
    }

    /// How many tables the database has: none after a copy that did not finish.
    static let tables = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"

    @Test("Everything moves, the journal verifies with its checkpoint, and a worker on the database finishes the run that waited")
    func moveAndGoOn() async throws {
        let workspace = try await Workspace()
        let before = try await Workspace.expectSuccess(["incident", "show", "INC-1", "--data", workspace.data]).stdout
        // Where defender.lua's fetch stopped, as the folder's server kept it.
        let folderStore = try DatabaseQueue(path: workspace.data + "/automator.sqlite")
        try await folderStore.write { db in
            try db.execute(sql: "INSERT INTO fetch_cursor (name, cursor) VALUES ('defender', '2026-11-30T02:15:03.1266667Z')")
        }
        try folderStore.close()

        let copy = try await Workspace.expectSuccess(["store", "copy", "--data", workspace.data, "--store", workspace.store])
        #expect(copy.stdout.contains("incident            2 rows"), "\(copy.stdout)")
        #expect(copy.stdout.contains("evidence files: 1"), "\(copy.stdout)")
        #expect(copy.stdout.contains("entries and 1 checkpoint verified"), "\(copy.stdout)")
        // The folder's own store is the backup of the move now: a command on the folder works on
        // the database, and says so, never on the backup by mistake.
        let moved = try await AutomatorProcess.run(["incident", "list", "--data", workspace.data])
        #expect(moved.status == 0 && moved.stdout.contains("INC-1")
                && moved.stderr.contains("working on it there (as --store \(workspace.store))"), "\(moved.stderr)")

        // Row for row: the journal's hashes and links as SQLite had them (a link on each
        // transaction's last entry only).
        let sqlite = try DatabaseQueue(path: workspace.data + "/automator.sqlite")
        let journal = try await sqlite.read { db in
            try Row.fetchAll(db, sql: "SELECT sequence, hash, chain FROM journal ORDER BY sequence")
                .map { "\($0[0] as Int64)|\(($0[1] as Data).hex)|\(($0[2] as Data?)?.hex ?? "")" }
        }
        #expect(journal.count > 5)
        #expect(try workspace.psql("""
            SELECT string_agg(sequence || '|' || encode(hash, 'hex') || '|' || coalesce(encode(chain, 'hex'), ''), ','
                              ORDER BY sequence) FROM journal
            """) == journal.joined(separator: ","))
        #expect(try await Workspace.expectSuccess(["journal", "verify", "--data", workspace.data, "--store", workspace.store])
            .stdout.contains("journal verified: \(journal.count) entries, 1 checkpoint"))

        #expect(try workspace.psql(#"SELECT network, id, watched, "verbose" FROM chat_channel"#) == "console|#soc|t|f")
        #expect(try workspace.psql("SELECT name, ingest_only FROM personal_token") == "splunk|splunk",
                "the webhook's token still posts one source's alerts alone")
        #expect(try workspace.psql("SELECT name, cursor FROM fetch_cursor") == "defender|2026-11-30T02:15:03.1266667Z",
                "the workers' leader fetches on from where the folder's server stopped")

        // Reports and the audit read the database directly: the copied history is theirs.
        let report = try await Workspace.expectSuccess(["report", "--store", workspace.store, "--since", "1d", "--format", "csv"])
        for line in ["type,confirm,opened,1", "type,facilities,opened,1", "status,closed,incidents,1"] {
            #expect(report.stdout.contains(line), "\(line): \(report.stdout)")
        }
        let audit = try await Workspace.expectSuccess(["audit", "--store", workspace.store, "--since", "1d"])
        #expect(audit.stdout.contains("closed: not ours"), "\(audit.stdout)")

        // The evidence file comes back from the database as it was added.
        let list = try await Workspace.expectSuccess(["evidence", "list", "INC-1", "--data", workspace.data, "--store", workspace.store])
        let evidence = try #require(list.stdout.split(separator: "\n").last?.split(separator: " ").first.map(String.init))
        let copied = workspace.folder.url.appendingPathComponent("copied.eml").path
        try await Workspace.expectSuccess(["evidence", "get", evidence, "--data", workspace.data, "--store", workspace.store, "-o", copied])
        #expect(try String(contentsOfFile: copied, encoding: .utf8).contains("click http://bad.example/"))

        // A second copy is refused and changes nothing.
        let again = try await AutomatorProcess.run(["store", "copy", "--data", workspace.data, "--store", workspace.store])
        #expect(again.status == 1)
        #expect(again.stderr.contains("holds data already (in incident, task, journal"), "\(again.stderr)")
        #expect(try workspace.psql("SELECT count(*) FROM journal") == "\(journal.count)")

        // Before any worker: the run waiting on the task waits for one, since it last changed.
        let check = try await AutomatorProcess.run(["store", "check", "--store", workspace.store])
        let waited = check.stdout.firstMatch(of: /1 run waiting for a worker, the oldest for (\d+) s/).map { Int($0.1)! }
        #expect(waited.map { $0 < 300 } == true, "\(check.stdout)")

        // A worker on the database: the run waiting on the task goes on, and numbers follow.
        let worker = try await ServerProcess.start(data: URL(fileURLWithPath: workspace.data), scripts: workspace.scripts,
                                                   arguments: ["--executors", "1", "--store", workspace.store])
        #expect(before.contains("Odd login"))
        try await Workspace.goOn(on: worker, next: "INC-3")

        // The folder is the worker's now: a copy is refused while it runs.
        let other = try workspace.postgres.makeDatabase()
        let held = try await AutomatorProcess.run(["store", "copy", "--data", workspace.data, "--store", other])
        #expect(held.status == 1)
        #expect(held.stderr.contains("stop it first"), "\(held.stderr)")
        worker.terminate()
        #expect(await worker.waitForExit() == 0)
    }

    @Test("A copy killed midway leaves the database as it found it, without even the tables; the next copy moves everything")
    func killedMidway() async throws {
        let workspace = try await Workspace()
        try await workspace.addCapture()
        let copy = try Workspace.start(["store", "copy", "--data", workspace.data, "--store", workspace.store])
        // Killed while a transaction of the copy is writing evidence.
        let writing = """
            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND backend_xid IS NOT NULL AND query LIKE '%evidence_chunk%'
            """
        let deadline = Date().addingTimeInterval(30)
        while try workspace.psql(writing) == "0", copy.isRunning, Date() < deadline { usleep(10_000) }
        #expect(copy.isRunning, "the copy ended before it could be killed")
        kill(copy.processIdentifier, SIGKILL)
        copy.waitUntilExit()
        let others = """
            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
            """
        while try workspace.psql(others) != "0", Date() < deadline { usleep(10_000) }

        #expect(try workspace.psql(Self.tables) == "0")
        let again = try await Workspace.expectSuccess(["store", "copy", "--data", workspace.data,
                                                       "--store", workspace.store])
        #expect(again.stdout.contains("incident            2 rows"), "\(again.stdout)")
        #expect(again.stdout.contains("evidence files: 2"), "\(again.stdout)")
    }

    @Test("A row the database cannot take, or a damaged evidence file, fails the copy and leaves the database as it was")
    func refusals() async throws {
        let workspace = try await Workspace()
        let path = workspace.data + "/automator.sqlite"
        let evidence = try await DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "SELECT sha256 FROM evidence")!
        }
        let object = workspace.data + "/evidence/objects/" + evidence.prefix(2) + "/" + evidence.dropFirst(2)
        let original = try Data(contentsOf: URL(fileURLWithPath: object))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: object)
        try Data("Subject: something else\n".utf8).write(to: URL(fileURLWithPath: object))
        let damaged = try await AutomatorProcess.run(["store", "copy", "--data", workspace.data, "--store", workspace.store])
        #expect(damaged.status == 1)
        #expect(damaged.stderr.contains("is damaged"), "\(damaged.stderr)")
        #expect(try workspace.psql(Self.tables) == "0")
        try original.write(to: URL(fileURLWithPath: object))
        // Nothing was moved: the folder's store is still the one in use.
        #expect(try await AutomatorProcess.run(["incident", "list", "--data", workspace.data]).status == 0)

        // SQLite keeps text in an integer column; PostgreSQL does not.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE incident SET sla_due_at = 'tomorrow' WHERE number = 2")
        }
        let refused = try await AutomatorProcess.run(["store", "copy", "--data", workspace.data, "--store", workspace.store])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("incident.sla_due_at of the row 2 holds \"tomorrow\""), "\(refused.stderr)")
        // Nothing is kept, the evidence copied before the refusal included.
        #expect(try workspace.psql(Self.tables) == "0")

        let missing = try await AutomatorProcess.run(["store", "copy", "--data", workspace.folder.url.path, "--store", workspace.store])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("has no store (automator.sqlite)"), "\(missing.stderr)")
    }
}

private extension Data {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
