import Foundation
import TestSupport
import Testing

/// `automator store copy --store URL --to-folder NEW`: a real PostgreSQL store back into a data folder.
@Suite("automator store copy --to-folder, from a real PostgreSQL into a new data folder", .timeLimit(.minutes(3)))
struct StoreFolderCopyTests {
    typealias Workspace = StoreCopyTests.Workspace

    /// The workspace's folder moved into its database, with a planned action besides.
    static func moved() async throws -> Workspace {
        let workspace = try await Workspace()
        let config = try workspace.folder.write("automator.yml", """
            integrations:
              checkpoint: { base_url: "http://127.0.0.1:9/web_api", api_key: cp-api-key }
            """)
        try await Workspace.expectSuccess(["action", "run", "checkpoint.block_ip", "--param", "ip=198.51.100.7",
                                           "--incident", "INC-1", "--dry-run", "--data", workspace.data,
                                           "--scripts", ActionCommandTests.scripts, "--config", config])
        try await Workspace.expectSuccess(["store", "copy", "--data", workspace.data, "--store", workspace.store])
        return workspace
    }

    func folder(_ workspace: Workspace, _ name: String) -> String { workspace.folder.url.appendingPathComponent(name).path }

    @Test("Everything comes back: the journal verifies with its checkpoint's key, evidence, actions, a snapshot until restored, then the waiting run goes on and numbers follow the database's")
    func roundTrip() async throws {
        let workspace = try await Self.moved()
        // A number the database gave to a create that failed: the folder does not give it again.
        #expect(try workspace.psql("SELECT nextval('incident_number')") == "3")
        // A worker on the database: the copy reads beside it, and restoring waits for its stop.
        let worker = try await ServerProcess.start(data: URL(fileURLWithPath: workspace.data), scripts: workspace.scripts,
                                                   arguments: ["--executors", "1", "--store", workspace.store])
        _ = try await worker.waitForIncident("INC-1") { ($0["tasks"] as? [[String: Any]])?.count == 1 }
        let copy = folder(workspace, "copy")
        let copied = try await Workspace.expectSuccess(["store", "copy", "--store", workspace.store, "--to-folder", copy])
        #expect(copied.stdout.contains("incident            2 rows"), "\(copied.stdout)")
        #expect(copied.stdout.contains(/\n  action +1 row\n/), "\(copied.stdout)")
        #expect(copied.stdout.contains("evidence files: 1"), "\(copied.stdout)")
        #expect(copied.stdout.contains("entries and 1 checkpoint verified"), "\(copied.stdout)")
        #expect(copied.stdout.contains("(its serve resumes 1 unfinished run)"), "\(copied.stdout)")
        let key = try #require(copied.stdout.firstMatch(of: /checkpoints signed by the key (\S+): 1, the last at entry/)
            .map { String($0.1) }, "\(copied.stdout)")
        #expect(!FileManager.default.fileExists(atPath: copy + "/journal-signing.key"))
        #expect(try workspace.psql("SELECT count(*) FROM automator_schema") != "0", "the database is left as it was")

        // Read as it is: the same incidents, the journal against the kept key, the actions.
        let inDatabase = try await Workspace.expectSuccess(["incident", "list", "--store", workspace.store]).stdout
        #expect(try await Workspace.expectSuccess(["incident", "list", "--data", copy]).stdout == inDatabase)
        let verified = try await Workspace.expectSuccess(["journal", "verify", "--data", copy, "--public-key", key])
        #expect(verified.stdout.contains("journal verified:") && verified.stdout.contains("1 checkpoint"), "\(verified.stdout)")
        let unkeyed = try await Workspace.expectSuccess(["journal", "verify", "--data", copy])
        #expect(unkeyed.stderr.contains("checked against the key they name, \(key)"), "\(unkeyed.stderr)")
        let forged = try await AutomatorProcess.run(["journal", "verify", "--data", copy, "--public-key",
                                                     Data(repeating: 7, count: 32).base64EncodedString()])
        #expect(forged.status == 1 && forged.stdout.contains("is signed by another key"), "\(forged.stdout)")
        let objects = try FileManager.default.subpathsOfDirectory(atPath: copy + "/evidence/objects").filter { $0.count > 3 }
        #expect(objects.count == 1, "\(objects)")
        let actions = try await Workspace.expectSuccess(["action", "history", "--incident", "INC-1", "--data", copy]).stdout
        #expect(actions.contains("planned") && actions.contains("checkpoint.block_ip"), "\(actions)")

        // A snapshot: never written nor served while the workers may go on with its runs.
        let written = try await AutomatorProcess.run(["incident", "create", "--data", copy, "--title", "x", "--type", "y",
                                                      "--severity", "low"])
        #expect(written.status == 1 && written.stderr.contains("is a backup of \(workspace.store) (made by automator "
                + "store copy --to-folder at "), "\(written.stderr)")
        let early = try await AutomatorProcess.run(["store", "restore", "--data", copy])
        #expect(early.status == 1 && early.stderr.contains("1 worker (") && early.stderr.contains("runs on \(workspace.store)"),
                "\(early.stderr)")
        worker.terminate()
        #expect(await worker.waitForExit() == 0)
        let restored = try await AutomatorProcess.run(["store", "restore", "--data", copy])
        #expect(restored.status == 0 && restored.stdout.contains("which resumes its 1 unfinished run"),
                "\(restored.stdout)\(restored.stderr)")

        // The evidence by its hash, as the vault reads it (noting custody: a write).
        let list = try await Workspace.expectSuccess(["evidence", "list", "INC-1", "--data", copy])
        let evidence = try #require(list.stdout.split(separator: "\n").last?.split(separator: " ").first.map(String.init))
        let out = folder(workspace, "mail.out")
        try await Workspace.expectSuccess(["evidence", "get", evidence, "--data", copy, "-o", out])
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains("click http://bad.example/"))

        // Served: the run that waited on the task in SQLite, then in PostgreSQL, finishes; numbers go on.
        let server = try await ServerProcess.start(data: URL(fileURLWithPath: copy), scripts: workspace.scripts)
        try await Workspace.goOn(on: server, next: "INC-4")
        server.terminate()
        #expect(await server.waitForExit() == 0)
        #expect(try await Workspace.expectSuccess(["journal", "verify", "--data", copy, "--public-key", key])
            .stdout.contains("journal verified:"))
    }

    @Test("Restoring a copy the database went on after is refused, naming what changed, unless --discard-newer")
    func restoreAfterTheDatabaseMovedOn() async throws {
        let workspace = try await Self.moved()
        let copy = folder(workspace, "copy")
        try await Workspace.expectSuccess(["store", "copy", "--store", workspace.store, "--to-folder", copy])
        // A worker goes on after the copy: an incident opened, its playbook's run and task.
        let worker = try await ServerProcess.start(data: URL(fileURLWithPath: workspace.data), scripts: workspace.scripts,
                                                   arguments: ["--executors", "1", "--store", workspace.store])
        let opened = try await worker.call("POST", "/api/v1/incidents", body: #"{"title": "Later", "type": "confirm", "severity": "low"}"#)
        let id = try #require(opened.json["id"] as? String, "\(opened.body)")
        _ = try await worker.waitForIncident(id) { ($0["tasks"] as? [[String: Any]])?.count == 1 }
        worker.terminate()
        #expect(await worker.waitForExit() == 0)

        let refused = try await AutomatorProcess.run(["store", "restore", "--data", copy])
        #expect(refused.status == 1 && refused.stderr.contains("\(workspace.store) went on after \(copy) was copied (")
                && refused.stderr.contains("the last incident number 2 → 3") && refused.stderr.contains("the last task number")
                && refused.stderr.contains("runs 3 → 4") && refused.stderr.contains("pass --discard-newer"),
                "\(refused.stderr)")
        #expect(FileManager.default.fileExists(atPath: copy + "/backup-of"), "still a backup")
        // Copied again, now that the worker is stopped: the same place as the database, restored.
        let again = folder(workspace, "again")
        try await Workspace.expectSuccess(["store", "copy", "--store", workspace.store, "--to-folder", again])
        let restored = try await Workspace.expectSuccess(["store", "restore", "--data", again])
        #expect(restored.stderr.isEmpty, "\(restored.stderr)")
        // Or the first copy, told to drop what the database did since.
        let discarded = try await Workspace.expectSuccess(["store", "restore", "--data", copy, "--discard-newer"])
        #expect(discarded.stderr.contains("restoring all the same (--discard-newer)"), "\(discarded.stderr)")
        #expect(!FileManager.default.fileExists(atPath: copy + "/backup-of"))
    }

    @Test("With --key-from, the worker's key comes along once it is the one that signed; another is refused")
    func signingKey() async throws {
        let workspace = try await Self.moved()
        let keyed = folder(workspace, "keyed")
        let copied = try await Workspace.expectSuccess(["store", "copy", "--store", workspace.store, "--to-folder", keyed,
                                                        "--key-from", workspace.data])
        #expect(copied.stdout.contains("signing key: \(workspace.data)/journal-signing.key's"), "\(copied.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyed + "/journal-signing.key"))
                == Data(contentsOf: URL(fileURLWithPath: workspace.data + "/journal-signing.key")))
        let verified = try await Workspace.expectSuccess(["journal", "verify", "--data", keyed])
        #expect(verified.stdout.contains("1 checkpoint") && verified.stderr.isEmpty, "\(verified.stdout)\(verified.stderr)")

        // Another worker's key did not sign the checkpoint: refused, and nothing is left.
        let other = folder(workspace, "other")
        try await Workspace.expectSuccess(["journal", "checkpoint", "--new-key", "--data", other, "--store", workspace.store])
        let wrong = try await AutomatorProcess.run(["store", "copy", "--store", workspace.store, "--to-folder",
                                                    folder(workspace, "wrong"), "--key-from", workspace.data])
        #expect(wrong.status == 1 && wrong.stderr.contains("is signed by the key")
                && wrong.stderr.contains("not by the key of --key-from \(workspace.data)"), "\(wrong.stderr)")
        let none = try await AutomatorProcess.run(["store", "copy", "--store", workspace.store, "--to-folder",
                                                   folder(workspace, "wrong"), "--key-from", workspace.folder.url.path])
        #expect(none.status == 1 && none.stderr.contains("has no journal-signing.key"), "\(none.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.folder.url.path)
            .filter { $0.contains("wrong") }.isEmpty)
    }

    @Test("A folder that is not empty is refused; a copy that fails or is killed midway leaves no folder serve would start on")
    func failures() async throws {
        let workspace = try await Self.moved()
        let busy = folder(workspace, "busy")
        _ = try workspace.folder.write("busy/notes.txt", "mine")
        let refused = try await AutomatorProcess.run(["store", "copy", "--store", workspace.store, "--to-folder", busy])
        #expect(refused.status == 1 && refused.stderr.contains("it is not an empty folder"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: busy) == ["notes.txt"])
        let both = try await AutomatorProcess.run(["store", "copy", "--data", workspace.data, "--store", workspace.store,
                                                   "--to-folder", busy])
        #expect(both.status == 64 && both.stderr.contains("give one of them"), "\(both.stderr)")

        // A damaged chunk of evidence in the database: the copy fails, and no folder is left.
        let copy = folder(workspace, "copy")
        let building = folder(workspace, ".copy.copying")
        let chunk = try workspace.psql("SELECT data FROM evidence_chunk")
        _ = try workspace.psql("UPDATE evidence_chunk SET data = 'forged'::bytea")
        let damaged = try await AutomatorProcess.run(["store", "copy", "--store", workspace.store, "--to-folder", copy])
        #expect(damaged.status == 1 && damaged.stderr.contains("is damaged in the database's vault"), "\(damaged.stderr)")
        #expect(!FileManager.default.fileExists(atPath: copy) && !FileManager.default.fileExists(atPath: building))
        _ = try workspace.psql("UPDATE evidence_chunk SET data = '\(chunk)'::bytea")

        // Killed while it writes the capture: only the temporary folder stays, marked, which every
        // command refuses, saying what it is, and the next copy removes before it starts over.
        try await workspace.addCapture()
        let process = try Workspace.start(["store", "copy", "--store", workspace.store, "--to-folder", copy])
        let incoming = building + "/evidence/objects"
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline,
              ((try? FileManager.default.subpathsOfDirectory(atPath: incoming)) ?? []).filter({ $0.hasSuffix(".partial") }).isEmpty
        {
            usleep(1_000)
        }
        #expect(process.isRunning, "the copy ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: copy))
        let leftover = "\(building) is what an automator store copy --to-folder of \(workspace.store) left when it was "
            + "stopped before its end"
        let again = "Run the copy again (automator store copy --store \(workspace.store) --to-folder \(copy))"
        for command in [["serve", "--data", building, "--http", "127.0.0.1:0", "--scripts", workspace.scripts.path],
                        ["store", "restore", "--data", building], ["incident", "list", "--data", building],
                        ["store", "check", "--data", building], ["store", "backup", "--data", building, folder(workspace, "b")]]
        {
            let refused = try await AutomatorProcess.run(command)
            #expect(refused.status == 1 && refused.stderr.contains(leftover) && refused.stderr.contains(again),
                    "automator \(command.joined(separator: " ")): \(refused.stderr)")
        }
        #expect(CopyPlace.of(building) == .unfinished)
        let whole = try await Workspace.expectSuccess(["store", "copy", "--store", workspace.store, "--to-folder", copy])
        #expect(whole.stderr.contains("note: \(building) was left by a copy stopped before its end: removed, and copied "
                + "anew"), "\(whole.stderr)")
        #expect(whole.stdout.contains("evidence files: 2 (32 MiB)"), "\(whole.stdout)")
        #expect(CopyPlace.of(building) == .absent && CopyPlace.of(copy) == .store)
        try await Workspace.expectSuccess(["incident", "list", "--data", copy])
    }

    @Test("A copy still running is left alone: a second one into the same place is refused, naming it, and the first ends whole")
    func copyRunning() async throws {
        let workspace = try await Self.moved()
        let copy = folder(workspace, "copy")
        let building = folder(workspace, ".copy.copying")
        // Another session holds the evidence table: the copy waits at its first read of it.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        holder.arguments = ["-X", "-q", "-h", workspace.postgres.folder, "-p", String(workspace.postgres.port), "-U",
                            "automator", "-d", "dbname=\(workspace.database) application_name='automator-test holder'",
                            "-c", "BEGIN; LOCK TABLE evidence IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120)"]
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { holder.terminate() }
        let first = try Workspace.start(["store", "copy", "--store", workspace.store, "--to-folder", copy])
        let deadline = Date().addingTimeInterval(60)
        while try workspace.psql("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'evidence'::regclass")
            == "0", first.isRunning, Date() < deadline
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(first.isRunning && CopyPlace.of(building) == .unfinished, "the first copy is not waiting")

        let running = "\(building) is being written by automator store copy --to-folder (pid \(first.processIdentifier))"
        for command in [["store", "copy", "--store", workspace.store, "--to-folder", copy],
                        ["store", "restore", "--data", building], ["incident", "list", "--data", building]]
        {
            let refused = try await AutomatorProcess.run(command)
            #expect(refused.status == 1 && refused.stderr.contains(running)
                    && refused.stderr.contains("wait for it, then use \(copy)"),
                    "automator \(command.joined(separator: " ")): \(refused.stderr)")
        }
        _ = try workspace.psql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
            + "WHERE application_name = 'automator-test holder'")
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(CopyPlace.of(building) == .absent && CopyPlace.of(copy) == .store)
        try await Workspace.expectSuccess(["incident", "list", "--data", copy])
    }
}

/// What is at a path a copy writes: nothing, the folder of a copy not finished, or a finished one.
enum CopyPlace: Equatable {
    case absent, unfinished, store

    static func of(_ path: String) -> CopyPlace {
        guard FileManager.default.fileExists(atPath: path) else { return .absent }
        return FileManager.default.fileExists(atPath: path + "/copy-unfinished") ? .unfinished : .store
    }
}
