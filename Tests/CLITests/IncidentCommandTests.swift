import Foundation
import GRDB
import Hummingbird
import TestSupport
import Testing

@Suite("automator incident, task and playbook, on the data folder and through a server", .timeLimit(.minutes(2)))
struct IncidentCommandTests {
    /// A playbook that asks one question and closes with the answer.
    static func workspace() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        try folder.write("scripts/playbooks/ask.lua", """
            return playbook {
              name = "Ask", match = { type = "question" },
              run = function(inc)
                inc:note("asking")
                local answer = inc:task{ title = "Yes or no?", owner = "tier1", due = "1h",
                                         choices = { "yes", "no" } }:wait()
                inc:close{ reason = "answered " .. answer }
              end,
            }
            """)
        try folder.write("scripts/playbooks/broken.lua", "return playbook {\n")
        return folder
    }

    @Test("A command that upgrades an older folder's schema says so on standard error, once, in serve's words")
    func schemaUpgrade() async throws {
        let folder = try Self.workspace()
        let data = folder.url.appendingPathComponent("data").path
        let created = try await AutomatorProcess.run(["incident", "create", "--title", "Beacon", "--type", "malware",
                                                      "--severity", "low", "--data", data, "--scripts", "scripts"],
                                                     in: folder.url)
        #expect(created.status == 0 && !created.stderr.contains("upgraded"), "a new folder is made: \(created.stderr)")
        // Back to v20, as the automator before chat_command (v21) left it.
        let database = try DatabaseQueue(path: data + "/automator.sqlite")
        try await database.write { db in
            try db.execute(sql: "DROP TABLE chat_command; DELETE FROM grdb_migrations WHERE identifier = 'v21'")
        }
        try database.close()

        let list = try await AutomatorProcess.run(["incident", "list", "--data", data])
        #expect(list.status == 0 && list.stdout.contains("Beacon"), "\(list.stdout)\(list.stderr)")
        #expect(list.stderr.hasPrefix("""
            note: upgraded the schema of \(data)/automator.sqlite from v20 to v21 for this automator (
            """) && list.stderr.hasSuffix("""
            ): an older one now refuses it, so going back means restoring the backup made before the upgrade

            """) && list.stderr.split(separator: "\n").count == 1, "one line: \(list.stderr)")
        let again = try await AutomatorProcess.run(["incident", "list", "--data", data])
        #expect(again.status == 0 && again.stderr.isEmpty, "upgraded once: \(again.stderr)")
    }

    @Test("With no server, on a full disk: the commands that read work; one that writes says the disk is full",
          .enabled(if: Tmpfs.isAvailable))
    func fullDisk() async throws {
        let folder = try Self.workspace()
        let tmpfs = try Tmpfs(size: "4m")
        let data = tmpfs.path + "/data"
        let create = ["incident", "create", "--title", "Is this fine?", "--type", "question", "--severity", "low",
                      "--data", data, "--scripts", "scripts"]
        let created = try await AutomatorProcess.run(create, in: folder.url)
        #expect(created.status == 0, "\(created.stderr)")
        let file = try folder.write("note.txt", "seen on the proxy")
        let added = try await AutomatorProcess.run(["evidence", "add", "INC-1", file, "--data", data])
        #expect(added.status == 0, "\(added.stderr)")
        tmpfs.fill(tmpfs.path + "/filler")

        for command in [["incident", "list"], ["incident", "show", "INC-1"], ["task", "list"], ["runs", "list"],
                        ["journal", "verify"], ["journal", "show", "INC-1"], ["evidence", "list"], ["report"], ["audit"]]
        {
            let read = try await AutomatorProcess.run(command + ["--data", data])
            #expect(read.status == 0, "\(command): \(read.stderr)")
        }
        let listed = try await AutomatorProcess.run(["task", "list", "--data", data])
        #expect(listed.stdout.contains("Yes or no?"), "\(listed.stdout)")
        let refused = try await AutomatorProcess.run(create, in: folder.url)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the disk holding \(data)/automator.sqlite is full"), "\(refused.stderr)")
    }

    @Test("Two processes opening incidents at once with no server: every incident and task gets a number of its own")
    func twoWritersNumber() async throws {
        let folder = try Self.workspace()
        let create = ["incident", "create", "--type", "question", "--severity", "low", "--data", "data", "--scripts", "scripts"]
        // The store made first: two processes making one new database at once is another matter.
        let first = try await AutomatorProcess.run(create + ["--title", "first"], in: folder.url)
        #expect(first.status == 0, "\(first.stderr)")
        // Each process counted on from what it read at opening, and the second to write failed:
        // "incident INC-5 already exists" (or the task's number, its run then failed).
        let url = folder.url
        @Sendable func writer(_ name: String) async throws -> [String] {
            var failures: [String] = []
            for index in 1...12 {
                let created = try await AutomatorProcess.run(create + ["--title", "\(name) \(index)"], in: url)
                if created.status != 0 { failures.append(created.stderr) }
            }
            return failures
        }
        async let one = writer("one")
        async let two = writer("two")
        let failures = try await one + two
        #expect(failures.isEmpty, "\(failures)")

        let common = ["--data", "data", "--json"]
        let incidents = try await AutomatorProcess.run(["incident", "list", "--limit", "100"] + common, in: folder.url)
        let listed = try #require((try JSONSerialization.jsonObject(with: Data(incidents.stdout.utf8)) as? [String: Any])?["incidents"]
            as? [[String: Any]], "\(incidents.stdout)\(incidents.stderr)")
        #expect(Set(listed.compactMap { $0["id"] as? String }) == Set((1...25).map { "INC-\($0)" }))
        let tasks = try await AutomatorProcess.run(["task", "list"] + common, in: folder.url)
        let open = try #require((try JSONSerialization.jsonObject(with: Data(tasks.stdout.utf8)) as? [String: Any])?["tasks"]
            as? [[String: Any]], "\(tasks.stdout)\(tasks.stderr)")
        #expect(Set(open.compactMap { $0["id"] as? String }) == Set((1...25).map { "T-\($0)" }), "one asked by each run")
    }

    @Test("A playbook whose file is gone while its run waits: playbook list names the run, and how to stop it")
    func unloadedPlaybook() async throws {
        let folder = try Self.workspace()
        let common = ["--data", "data", "--scripts", "scripts"]
        let created = try await AutomatorProcess.run(["incident", "create", "--title", "Still asking", "--type", "question",
                                                      "--severity", "low"] + common, in: folder.url)
        #expect(created.stdout.hasPrefix("INC-1 created"), "\(created.stdout)\(created.stderr)")
        try FileManager.default.moveItem(atPath: folder.url.path + "/scripts/playbooks/ask.lua",
                                         toPath: folder.url.path + "/scripts/ask.lua.old")

        let listed = try await AutomatorProcess.run(["playbook", "list"] + common, in: folder.url)
        #expect(listed.stdout.contains("""
            no longer loaded, their unfinished runs go on with the version they started with (automator runs kill RUN \
            stops one):
              Ask: run-
            """), "\(listed.stdout)")
        #expect(listed.stdout.contains(" (INC-1, waiting, playbooks/ask.lua)\n"), "\(listed.stdout)")
        let json = try await AutomatorProcess.run(["playbook", "list", "--json"] + common, in: folder.url)
        let answer = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let unloaded = try #require(answer?["unloaded"] as? [[String: Any]], "\(json.stdout)")
        #expect(unloaded.first?["name"] as? String == "Ask" && (unloaded.first?["runs"] as? [Any])?.count == 1)
        // With no server no playbook is loaded: the runs commands say nothing of it, rather than null.
        let stored = try await AutomatorProcess.run(["runs", "list", "--json", "--data", "data"], in: folder.url)
        let storedRuns = try JSONSerialization.jsonObject(with: Data(stored.stdout.utf8)) as? [String: Any]
        let storedRun = try #require((storedRuns?["runs"] as? [[String: Any]])?.first, "\(stored.stdout)")
        #expect(storedRun["playbook"] as? String == "Ask" && storedRun["playbook_loaded"] == nil, "\(stored.stdout)")
        let runID = try #require(storedRun["id"] as? String)
        let shown = try await AutomatorProcess.run(["runs", "show", runID, "--json", "--data", "data"], in: folder.url)
        #expect(shown.status == 0 && !shown.stdout.contains("playbook_loaded"), "\(shown.stdout)\(shown.stderr)")

        // serve resumes the run, says so once at its start, and its runs list marks it.
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"))
        #expect(try await server.waitForLog("playbook Ask is no longer loaded"), "\(server.log)")
        #expect(server.log.contains("its unfinished run goes on with the version it started with: run-"), "\(server.log)")
        let runs = try await server.call("GET", "/api/v1/runs").json["runs"] as? [[String: Any]]
        #expect(runs?.first?["playbook"] as? String == "Ask" && runs?.first?["playbook_loaded"] as? Bool == false,
                "\(runs ?? [])")
        let table = try await AutomatorProcess.run(["runs", "list", "--data", "data"], in: folder.url)
        #expect(table.stdout.contains(" playbooks/ask.lua (playbook no longer loaded) "), "\(table.stdout)\(table.stderr)")
        let details = try await AutomatorProcess.run(["runs", "show", runID, "--data", "data"], in: folder.url)
        #expect(details.stdout.contains("script    playbooks/ask.lua (playbook no longer loaded)\n"),
                "runs show marks it as the list does: \(details.stdout)\(details.stderr)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("playbook list shows a refused playbook's mistakes at their lines, as check does, with no traceback")
    func refusedPlaybookLines() async throws {
        let folder = try Self.workspace()
        try folder.write("scripts/playbooks/late.lua", """
            return playbook {
              name = "Late",
              sal = "4h",
              run = function(inc) end,
            }
            """)
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("data"), withIntermediateDirectories: true)
        let common = ["--data", "data", "--scripts", "scripts"]
        let listed = try await AutomatorProcess.run(["playbook", "list"] + common, in: folder.url)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("\n  playbooks/late.lua:3: playbook: unknown field sal (did you mean sla?): "),
                "\(listed.stdout)")
        #expect(listed.stdout.contains("\n  playbooks/broken.lua:2: "), "\(listed.stdout)")
        #expect(!listed.stdout.contains("traceback"), "\(listed.stdout)")

        let json = try await AutomatorProcess.run(["playbook", "list", "--json"] + common, in: folder.url)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let problems = try #require(object?["problems"] as? [[String: Any]])
        let late = try #require(problems.first { $0["file"] as? String == "playbooks/late.lua" })
        #expect(late["line"] as? Int == 3)
        #expect((late["error"] as? String)?.hasPrefix("playbook: unknown field sal (did you mean sla?): ") == true, "\(late)")

        // Listing the playbooks reads the scripts: no data folder is needed, and none is made.
        let noFolder = try await AutomatorProcess.run(["playbook", "list", "--data", "none", "--scripts", "scripts"],
                                                      in: folder.url)
        #expect(noFolder.status == 0 && noFolder.stdout == listed.stdout, "\(noFolder.stdout)\(noFolder.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("none").path))
    }

    @Test("With no server: create, list, show with progress, task list, assign and done, playbook list")
    func onTheFolder() async throws {
        let folder = try Self.workspace()
        let common = ["--data", "data", "--scripts", "scripts"]
        func automator(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(arguments + common, in: folder.url)
        }

        let created = try await automator(["incident", "create", "--title", "Is this fine?", "--type", "question",
                                           "--severity", "low", "--field", "score=97", "--label", "cli"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.hasPrefix(#"INC-1 created (playbook "Ask", run run-"#), "\(created.stdout)")

        let list = try await automator(["incident", "list"])
        #expect(list.stdout.contains("INC-1"), "\(list.stdout)")
        #expect(list.stdout.contains("Is this fine?"))

        let beacon = try await automator(["incident", "create", "--title", "Beacon to 203.0.113.70", "--type", "c2",
                                          "--severity", "high"])
        #expect(beacon.status == 0, "\(beacon.stderr)")
        let mentioning = try await automator(["incident", "list", "--indicator", "203.0.113[.]70"])
        #expect(mentioning.stdout.contains("INC-2") && !mentioning.stdout.contains("INC-1"), "\(mentioning.stdout)")
        let other = try await automator(["incident", "list", "--indicator", "203.0.113.7"])
        #expect(!other.stdout.contains("INC-2"), "an exact match: \(other.stdout)")

        let shown = try await automator(["incident", "show", "INC-1"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("tasks: 0/1 done"), "\(shown.stdout)")
        #expect(shown.stdout.contains("asking"), "the journal is shown: \(shown.stdout)")

        let tasks = try await automator(["task", "list", "--owner", "tier1"])
        #expect(tasks.stdout.contains("T-1"), "\(tasks.stdout)")
        #expect(tasks.stdout.contains("yes, no"))
        // A second run of a playbook beside the one waiting on T-1 would ask tier1 twice.
        let twice = try await automator(["playbook", "run", "Ask", "--incident", "INC-1"])
        #expect(twice.status == 1 && twice.stderr.contains("INC-1's playbook run run-")
            && twice.stderr.contains("is still waiting: wait for it to end, or stop it first (automator runs kill run-"),
                "\(twice.stdout)\(twice.stderr)")
        let unknown = try await automator(["task", "list", "--incident", "INC-999"])
        #expect(unknown.status == 1 && unknown.stderr.contains("there is no incident INC-999"), "not \"no open tasks\": \(unknown.stdout)")

        // Given to bob with no server up: kept in the folder, journaled.
        let given = try await automator(["task", "assign", "T-1", "bob", "--by", "carol"])
        #expect(given.status == 0 && given.stdout == "T-1 given to bob: Yes or no?\n", "\(given.stdout)\(given.stderr)")
        #expect(try await automator(["task", "list", "--owner", "bob"]).stdout.contains("T-1"))
        #expect(try await automator(["incident", "show", "INC-1"]).stdout.contains("given to bob (was tier1)"))
        let nobody = try await automator(["task", "assign", "T-1", ""])
        #expect(nobody.status == 1 && nobody.stderr.contains("a person or a team"), "\(nobody.stderr)")

        let unanswered = try await automator(["task", "done", "T-1"])
        #expect(unanswered.status == 1)
        #expect(unanswered.stderr.contains(#"no answer was given: task T-1 asks for one of "yes", "no""#), "\(unanswered.stderr)")
        let wrong = try await automator(["task", "done", "T-1", "--answer", "maybe"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains(#"one of "yes", "no" expected"#), "\(wrong.stderr)")
        let done = try await automator(["task", "done", "T-1", "--answer", "yes", "--by", "alice"])
        #expect(done.status == 0, "\(done.stderr)")
        #expect(done.stdout.contains("T-1 done: yes"), "\(done.stdout)")
        let late = try await automator(["task", "assign", "T-1", "dave"])
        #expect(late.status == 1 && late.stderr.contains("task T-1 is done: only an open task is given to someone"),
                "\(late.stderr)")

        // Closed with no server while its playbook waits on a person: the run does not wait for
        // the next serve to resume it.
        let asking = try await automator(["incident", "create", "--title", "Still asking", "--type", "question",
                                          "--severity", "low"])
        #expect(asking.stdout.hasPrefix("INC-3 created"), "\(asking.stdout)")
        #expect(try await automator(["incident", "close", "INC-3", "--reason", "asked elsewhere"]).status == 0)
        let stopped = try await automator(["incident", "show", "INC-3"])
        #expect(stopped.stdout.contains("killed") && stopped.stdout.contains("1 cancelled"), "\(stopped.stdout)")
        // Started again on the closed incident, a playbook would give people its tasks once more.
        for again in [["playbook", "run", "Ask", "--incident", "INC-3"], ["incident", "retry", "INC-3"]] {
            let refused = try await automator(again)
            #expect(refused.status == 1 && refused.stderr.contains("INC-3 is closed (asked elsewhere): reopen it first "
                + "(automator incident update INC-3 --status active), then"), "\(again): \(refused.stderr)")
        }
        #expect(try await automator(["task", "list", "--incident", "INC-3"]).stdout.contains("no open tasks"))
        #expect(try await automator(["incident", "update", "INC-3", "--status", "active"]).status == 0)
        let restarted = try await automator(["playbook", "run", "Ask", "--incident", "INC-3"])
        #expect(restarted.status == 0, "reopened, it takes a playbook again: \(restarted.stderr)")
        #expect(try await automator(["incident", "close", "INC-3", "--reason", "asked elsewhere"]).status == 0)
        // The same through the bot in the terminal (`automator chat`, the repository's commands).
        #expect(try await automator(["incident", "create", "--title", "Asking again", "--type", "question",
                                     "--severity", "low"]).stdout.hasPrefix("INC-4 created"))
        let chat = try AutomatorProcess.run(["chat", "--data", "data", "--scripts", ChatServeTests.scripts.path],
                                            in: folder.url, input: "!incident close INC-4 asked elsewhere\n")
        #expect(chat.status == 0, "\(chat.stdout)\(chat.stderr)")
        let closedInChat = try await automator(["incident", "show", "INC-4"])
        #expect(closedInChat.stdout.contains("killed") && closedInChat.stdout.contains("1 cancelled"), "\(closedInChat.stdout)")

        let playbooks = try await automator(["playbook", "list"])
        #expect(playbooks.stdout.contains("Ask"), "\(playbooks.stdout)")
        #expect(playbooks.stdout.contains("playbooks/broken.lua"), "the broken file is listed: \(playbooks.stdout)")

        // A person changes and closes it; each change is journaled, with who made it.
        let updated = try await automator(["incident", "update", "INC-2", "--owner", "alice", "--severity", "critical",
                                           "--label", "vip"])
        #expect(updated.status == 0, "\(updated.stderr)")
        #expect(updated.stdout == "INC-2 new, owner alice, critical, labels vip\n", "\(updated.stdout)")
        let closed = try await automator(["incident", "close", "INC-2", "--reason", "false positive: a scanner we run"])
        #expect(closed.stdout == "INC-2 closed (false positive: a scanner we run), owner alice, critical, labels vip\n",
                "\(closed.stdout)\(closed.stderr)")
        // Closed again, its close time (time to resolve, in reports) would move.
        let again = try await automator(["incident", "close", "INC-2", "--reason", "again"])
        #expect(again.status == 1 && again.stderr.contains("INC-2 is closed already (false positive: a scanner we run): "
            + "reopen it first"), "\(again.stderr)")
        let journal = try await automator(["incident", "show", "INC-2"])
        let lines = journal.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(lines.contains { $0.dropFirst(3).joined(separator: " ") == "update severity=critical, owner=alice, labels=vip" },
                "\(journal.stdout)")
        #expect(lines.contains { $0.dropFirst(3).joined(separator: " ") == "closed closed: false positive: a scanner we run" },
                "\(journal.stdout)")
        let reopened = try await automator(["incident", "update", "INC-2", "--status", "active", "--no-owner"])
        #expect(reopened.stdout == "INC-2 active, owner -, critical, labels vip\n", "\(reopened.stdout)")
        let nothing = try await automator(["incident", "update", "INC-2"])
        #expect(nothing.status == 1 && nothing.stderr.contains("nothing to change"), "\(nothing.stderr)")
        let wrongWay = try await automator(["incident", "update", "INC-2", "--status", "closed"])
        #expect(wrongWay.status == 64 && wrongWay.stderr.contains("automator incident close INC-2 --reason"))
        // Empty values are usage errors in the CLI's words, not the API's JSON example.
        let noReason = try await automator(["incident", "close", "INC-2", "--reason", ""])
        #expect(noReason.status == 64 && noReason.stderr.contains(#"--reason needs a reason, such as --reason "false positive"#)
            && !noReason.stderr.contains("{"), "\(noReason.stderr)")
        let noOwner = try await automator(["incident", "update", "INC-2", "--owner", ""])
        #expect(noOwner.status == 64 && noOwner.stderr.contains("--owner needs a name") && !noOwner.stderr.contains("{"),
                "\(noOwner.stderr)")
        // Severity and status in any case: what creates or changes an incident also finds it; stored lowercase.
        let upper = try await automator(["incident", "update", "INC-2", "--severity", "HIGH", "--status", "Pending"])
        #expect(upper.stdout == "INC-2 pending, owner -, high, labels vip\n", "\(upper.stdout)\(upper.stderr)")
        let found = try await automator(["incident", "list", "--severity", "HIGH", "--status", "PENDING,new"])
        #expect(found.status == 0 && found.stdout.contains("INC-2"), "\(found.stdout)\(found.stderr)")

        let usage = try await automator(["incident", "show", "42x"])
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("INC-42"), "\(usage.stderr)")
        let missing = try await automator(["incident", "show", "INC-9"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("there is no incident INC-9"), "\(missing.stderr)")
    }

    @Test("incident show tells the whole case: its evidence with hashes, collector and custody, its actions with parameters, state and who asked, in text and --json")
    func caseFile() async throws {
        let (folder, data) = try await ActionCommandTests.folderWithIncident()
        let file = try folder.write("mail.eml", "From: payroll@examp1e-hr.test\nSubject: urgent\n")
        let added = try await AutomatorProcess.run(["evidence", "add", "INC-1", file, "--data", data],
                                                   environment: ["USER": "alice"])
        let evidence = try #require(added.stdout.split(separator: " ").first.map(String.init), "\(added.stderr)")
        let sha256 = try #require(added.stdout.firstMatch(of: /sha256 ([0-9a-f]{64})/).map { String($0.output.1) })
        #expect(try await AutomatorProcess.run(["evidence", "get", evidence, "--data", data],
                                               environment: ["USER": "bob"]).status == 0)
        let config = try folder.write("automator.yml", "actions:\n  protected: { networks: [10.0.0.0/8] }\n")
        let planned = try await AutomatorProcess.run(["action", "run", "checkpoint.block_ip", "--param", "ip=198.51.100.7",
                                                      "--param", "reason=C2", "--incident", "INC-1", "--dry-run",
                                                      "--data", data, "--scripts", ActionCommandTests.scripts,
                                                      "--config", config], environment: ["USER": "carol"])
        let action = try #require(planned.stdout.split(separator: " ").first.map(String.init), "\(planned.stderr)")

        let shown = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data", data])
        #expect(shown.status == 0, "\(shown.stderr)")
        let lines = shown.stdout.split(separator: "\n").map(String.init)
        let fileLine = try #require(lines.first { $0.hasPrefix("  \(evidence)") }, "\(shown.stdout)")
        for part in ["mail.eml", String(sha256.prefix(16)) + "…", "46 bytes", "cli:alice", "custody: 2, last viewed by cli:bob"] {
            #expect(fileLine.contains(part), "\(part) in \(fileLine)")
        }
        #expect(lines.contains { $0.hasPrefix("  ID ") && $0.contains("SHA256") && $0.contains("COLLECTED BY") })
        let actionLine = try #require(lines.first { $0.hasPrefix("  \(action)") }, "\(shown.stdout)")
        for part in ["checkpoint.block_ip", "ip=198.51.100.7 reason=C2", "planned", "cli:carol"] {
            #expect(actionLine.contains(part), "\(part) in \(actionLine)")
        }

        let json = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data", data, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let files = try #require(object["evidence"] as? [[String: Any]], "\(json.stdout)")
        #expect(files.first?["sha256"] as? String == sha256 && files.first?["collected_by"] as? String == "cli:alice")
        #expect((files.first?["last_custody"] as? [String: Any])?["actor"] as? String == "cli:bob")
        let actions = try #require(object["actions"] as? [[String: Any]], "\(json.stdout)")
        #expect(actions.first?["id"] as? String == action && actions.first?["requested_by"] as? String == "cli:carol")
        #expect(object["journal"] != nil)
    }

    @Test("A server older than the case file sends no evidence or actions: incident show says so, not \"none\"")
    func olderServerCaseFile() async throws {
        let (folder, data) = try await ActionCommandTests.folderWithIncident()
        defer { withExtendedLifetime(folder) {} }
        let current = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data", data, "--json"])
        var incident = try #require(try JSONSerialization.jsonObject(with: Data(current.stdout.utf8)) as? [String: Any])
        for newer in ["evidence", "actions", "journal"] { incident[newer] = nil }
        let older = String(decoding: try JSONSerialization.data(withJSONObject: incident), as: UTF8.self)
        // Held as a server holds its folder, so that the CLI asks the server named in the file.
        let lock = open(data + "/serve.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        defer { close(lock) }
        try "older-token".write(toFile: data + "/api-token", atomically: true, encoding: .utf8)
        let router = Router()
        router.get("api/v1/incidents/INC-1") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json", .server: "automator/0.0.9"],
                     body: .init(byteBuffer: ByteBuffer(string: older)))
        }
        router.get("api/v1/incidents/INC-1/journal") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: #"{"journal":[],"more":false}"#)))
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let holder = Data(#"{"pid":\#(getpid()),"url":"\#(server.url)"}"#.utf8)
        _ = holder.withUnsafeBytes { pwrite(lock, $0.baseAddress, $0.count, 0) }

        let shown = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data", data])
        #expect(shown.status == 0, "\(shown.stderr)")
        for section in ["evidence", "actions"] {
            let line = try #require(shown.stdout.split(separator: "\n").first { $0.hasPrefix("\(section): ") })
            #expect(line.hasPrefix("\(section): not sent by the server at \(server.url) (automator 0.0.9), which is older "
                + "than the case's \(section): automator ") && line.hasSuffix(" sends it; upgrade the server to see it"),
                    "\(line)")
        }
        #expect(!shown.stdout.contains("evidence: none"))
    }

    @Test("With no server, a new severity moves the SLA from the opening, journaled, as through the API")
    func severityMovesTheSLA() async throws {
        let folder = try Self.workspace()
        try folder.write("scripts/sla.lua", #"return { default = { low = "3d" }, malware = { critical = "30m" } }"#)
        func automator(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(arguments + ["--data", "data", "--scripts", "scripts"], in: folder.url)
        }
        let created = try await automator(["incident", "create", "--title", "sla test", "--type", "malware",
                                           "--severity", "low"])
        #expect(created.status == 0, "\(created.stderr)")
        let updated = try await automator(["incident", "update", "INC-1", "--severity", "critical"])
        #expect(updated.status == 0, "\(updated.stderr)")
        let listed = try await automator(["incident", "list", "--json"])
        let incident = try #require((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["incidents"]
            as? [[String: Any]]).first
        let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let opened = try formatter.parse(try #require(incident?["created_at"] as? String))
        let sla = try #require(incident?["sla"] as? [String: Any])
        #expect(try formatter.parse(try #require(sla["due"] as? String)) == opened.addingTimeInterval(1800), "\(sla)")
        let shown = try await automator(["incident", "show", "INC-1"])
        #expect(shown.stdout.contains(" UTC: critical malware, 30m"), "\(shown.stdout)")
    }

    @Test("incident list --sla lists the incidents in those SLA states now, with no server and through one")
    func slaFilter() async throws {
        let folder = try Self.workspace()
        try folder.write("scripts/sla.lua", #"return { default = { low = "3d", critical = "1s" } }"#)
        let data = folder.url.appendingPathComponent("data").path
        func list(_ arguments: [String], environment: [String: String] = [:]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(["incident", "list"] + arguments + ["--data", data, "--scripts", "scripts"],
                                           in: folder.url, environment: environment)
        }
        for severity in ["low", "critical", "info"] {  // info has no SLA
            let created = try await AutomatorProcess.run(["incident", "create", "--title", severity, "--type", "malware",
                                                          "--severity", severity, "--data", data, "--scripts", "scripts"],
                                                         in: folder.url)
            #expect(created.status == 0, "\(created.stderr)")
        }
        try await Task.sleep(for: .seconds(1.2))  // INC-2's second is gone
        func ids(_ result: AutomatorProcess.Result) -> [String] {
            result.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
                .filter { $0.hasPrefix("INC-") }
        }
        #expect(ids(try await list(["--sla", "breached"])) == ["INC-2"])
        #expect(ids(try await list(["--sla", "on_track,met"])) == ["INC-1"])
        #expect(ids(try await list(["--sla", "AT_RISK"])) == [])
        let dashed = try await list(["--sla", "at-risk"])
        #expect(dashed.status == 64 && dashed.stderr.contains("--sla takes on_track, at_risk, breached, met, comma-separated, "
            + "not 'at-risk'"), "\(dashed.stderr)")

        let server = try await ServerProcess.start(data: URL(fileURLWithPath: data),
                                                   scripts: folder.url.appendingPathComponent("scripts"))
        let through = try await list(["--sla", "on_track,breached"], environment: ["AUTOMATOR_API_TOKEN": server.token])
        #expect(ids(through) == ["INC-2", "INC-1"], "\(through.stdout)\(through.stderr)")
        let unknown = try await server.call("GET", "/api/v1/incidents?sla=late")
        #expect(unknown.status == 400 && unknown.body.contains("unknown sla \\\"late\\\": use on_track, at_risk, breached, met"),
                "\(unknown.body)")
    }

    @Test("A playbook that fails at once is said, with what to do, not only \"created\" or \"running\"; a deleted one is not retried")
    func failingPlaybook() async throws {
        let folder = try Self.workspace()
        try folder.write("scripts/playbooks/fails.lua", """
            return playbook {
              name = "Fails", match = { type = "fails" },
              run = function(inc) error("no such field: inc.fields.sender") end,
            }
            """)
        let created = try await AutomatorProcess.run(["incident", "create", "--title", "Broken", "--type", "fails",
                                                      "--severity", "low", "--data", "data", "--scripts", "scripts"],
                                                     in: folder.url)
        #expect(created.status == 0 && created.stdout.hasPrefix(#"INC-1 created (playbook "Fails", run run-"#), "\(created.stdout)")
        #expect(created.stderr.contains("failed: playbooks/fails.lua:3: no such field: inc.fields.sender")
            && created.stderr.contains("fix the playbook, then automator incident retry INC-1"), "\(created.stderr)")

        // Retried unfixed, it fails again at once: said as for create, not only "running".
        let retried = try await AutomatorProcess.run(["incident", "retry", "INC-1", "--data", "data", "--scripts", "scripts"],
                                                     in: folder.url)
        #expect(retried.stderr.contains("failed: playbooks/fails.lua:3: no such field: inc.fields.sender")
            && retried.stderr.contains("fix the playbook, then automator incident retry INC-1"), "\(retried.stdout)\(retried.stderr)")
        // Deleted, it is not run again from the run's stored copy.
        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("scripts/playbooks/fails.lua"))
        let deleted = try await AutomatorProcess.run(["incident", "retry", "INC-1", "--data", "data", "--scripts", "scripts"],
                                                     in: folder.url)
        #expect(deleted.status == 1 && deleted.stderr.contains("the playbook Fails is no longer in the scripts folder "
            + "(playbooks/fails.lua): restore it, or start another with automator playbook run"), "\(deleted.stderr)")
    }

    static let offline = "no automator serve holds this data folder, and only a server sends actions "
        + "(start automator serve before opening incidents that should act)"

    @Test("With no server, a playbook that would act hears that only a server sends actions, and asks people instead")
    func actionsNeedAServer() async throws {
        let folder = try Self.workspace()
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("scripts/integrations"),
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: PlaybookTrialTests.scripts.appendingPathComponent("integrations/crowdstrike.lua"),
                                         to: folder.url.appendingPathComponent("scripts/integrations/crowdstrike.lua"))
        try folder.write("scripts/playbooks/contain.lua", """
            return playbook {
              name = "Contain", match = { type = "edr" },
              run = function(inc)
                local can, why = actions.available("crowdstrike.contain_host")
                inc:task{ title = "Isolate the host", owner = "tier2", description = tostring(can) .. ": " .. why }
                local sent, refused = pcall(actions.run, "crowdstrike.contain_host", { device_id = "0123abcd" },
                                            { incident = inc })
                inc:note(tostring(refused))
              end,
            }
            """)
        let created = try await AutomatorProcess.run(["incident", "create", "--title", "Beacon", "--type", "edr", "--severity",
                                                      "high", "--data", "data", "--scripts", "scripts"],
                                                     in: folder.url, environment: ["FALCON_CLIENT_ID": "id-of-the-client",
                                                                                   "FALCON_CLIENT_SECRET": "secret-of-the-client"])
        #expect(created.status == 0 && created.stderr.isEmpty, "\(created.stdout)\(created.stderr)")
        let tasks = try await AutomatorProcess.run(["task", "list", "--json", "--data", "data"], in: folder.url)
        #expect(tasks.stdout.contains(#""description":"false: \#(Self.offline)"#), "\(tasks.stdout)")
        let shown = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data", "data"], in: folder.url)
        #expect(shown.stdout.contains("note      actions.run: \(Self.offline)"), "\(shown.stdout)")
    }

    @Test("Killing a playbook's run cancels the tasks it asked: an answer would resume nothing")
    func killedRunCancelsItsTasks() async throws {
        let folder = try Self.workspace()
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"))
        func automator(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(arguments + ["--data", data.path], in: folder.url,
                                           environment: ["AUTOMATOR_API_TOKEN": server.token])
        }
        let created = try await automator(["incident", "create", "--title", "Asked", "--type", "question", "--severity", "low"])
        let run = try #require(created.stdout.firstMatch(of: /run (run-[0-9a-z-]+)/)?.1, "\(created.stdout)")
        _ = try await server.waitForIncident("INC-1") { ($0["tasks"] as? [Any])?.count == 1 }

        let kill = try await automator(["runs", "kill", String(run)])
        #expect(kill.status == 0, "\(kill.stderr)")
        // The reason as given, not where the run happened to be (host code) with a traceback.
        #expect(kill.stdout.contains("error     killed on request\n") && !kill.stdout.contains("[host]"), "\(kill.stdout)")
        let answered = try await automator(["task", "done", "T-1", "--answer", "yes"])
        #expect(answered.status == 1 && answered.stderr.contains("task T-1 was cancelled: the run that asked it was killed"),
                "\(answered.stdout)\(answered.stderr)")
        let shown = try await automator(["incident", "show", "INC-1"])
        #expect(shown.stdout.contains("T-1 Yes or no?: cancelled, its run was killed"), "\(shown.stdout)")
        #expect(shown.stdout.contains("run \(run) killed: killed on request\n"), "\(shown.stdout)")
    }

    @Test("Through the server that holds the folder: the task done on the command line resumes the run at once")
    func throughTheServer() async throws {
        let folder = try Self.workspace()
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"))
        let environment = ["AUTOMATOR_API_TOKEN": server.token, "USER": "dana"]
        func automator(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(arguments + ["--data", data.path], in: folder.url, environment: environment)
        }
        let created = try await automator(["incident", "create", "--title", "Through the API", "--type", "question",
                                           "--severity", "medium"])
        #expect(created.status == 0, "\(created.stderr)")
        _ = try await server.waitForIncident("INC-1") { ($0["tasks"] as? [Any])?.count == 1 }
        let done = try await automator(["task", "done", "T-1", "--answer", "no"])
        #expect(done.status == 0, "\(done.stderr)")
        let closed = try await server.waitForIncident("INC-1") { $0["status"] as? String == "closed" }
        #expect(closed["close_reason"] as? String == "answered no")
        let shown = try await automator(["incident", "show", "INC-1"])
        #expect(shown.stdout.contains("tasks: 1/1 done"), "\(shown.stdout)")
        #expect(shown.stdout.contains("answered no"), "\(shown.stdout)")

        let phish = try await automator(["incident", "create", "--title", "Link to hxxp://evil-login[.]com/x",
                                         "--type", "phishing", "--severity", "low"])
        #expect(phish.status == 0, "\(phish.stderr)")
        let mentioning = try await automator(["incident", "list", "--indicator", "evil-login.com"])
        #expect(mentioning.stdout.contains("INC-2") && !mentioning.stdout.contains("INC-1"), "\(mentioning.stdout)")

        // Changes through the API: PATCH, the same checks and the same journal.
        let assigned = try await automator(["incident", "update", "INC-2", "--owner", "bob"])
        #expect(assigned.stdout == "INC-2 new, owner bob, low\n", "\(assigned.stdout)\(assigned.stderr)")
        let closing = try await automator(["incident", "close", "INC-2", "--reason", "blocked at the proxy"])
        #expect(closing.status == 0, "\(closing.stderr)")
        let patched = try await server.call("PATCH", "/api/v1/incidents/INC-2", body: #"{"severity": "high", "by": "carol"}"#)
        #expect(patched.status == 200 && patched.json["status"] as? String == "closed", "\(patched.body)")
        #expect(patched.json["close_reason"] as? String == "blocked at the proxy")
        for (body, message) in [(#"{"status": "closed"}"#, "closing needs a reason"),
                                (#"{"reason": "x"}"#, #""reason": given only with"#),
                                (#"{"colour": "red"}"#, #""colour": unknown field"#),
                                (#"{"severity": "extreme"}"#, #""severity": one of"#),
                                ("[]", "send a JSON object")] {
            let refused = try await server.call("PATCH", "/api/v1/incidents/INC-2", body: body)
            #expect(refused.status == 400 && (refused.json["error"] as? String)?.contains(message) == true,
                    "\(body): \(refused.body)")
        }
        #expect(try await server.call("PATCH", "/api/v1/incidents/INC-9", body: #"{"owner": "x"}"#).status == 404)
        // The API's filters read severity and status as its changes do, in any case.
        let filtered = try await server.call("GET", "/api/v1/incidents?severity=HIGH&status=Closed")
        #expect(filtered.status == 200 && filtered.body.contains(#""id":"INC-2""#) && !filtered.body.contains(#""id":"INC-1""#),
                "\(filtered.body)")
        let entries = try await server.call("GET", "/api/v1/incidents/INC-2/journal").json["journal"] as? [[String: Any]] ?? []
        // The person at the terminal is cli:dana, as with no server (one name in the audit); an API client is api:.
        #expect(entries.first?["actor"] as? String == "cli:dana", "the creation: \(entries)")
        #expect(entries.suffix(3).map { "\($0["actor"] ?? "") \($0["text"] ?? "")" }
            == ["cli:dana owner=bob", "cli:dana closed: blocked at the proxy", "api:carol severity=high"], "\(entries)")

        // Closed while its playbook waits on a person: the task is cancelled and the run stopped.
        let waiting = try await automator(["incident", "create", "--title", "Still asking", "--type", "question",
                                           "--severity", "low"])
        #expect(waiting.status == 0, "\(waiting.stderr)")
        _ = try await server.waitForIncident("INC-3") { ($0["tasks"] as? [Any])?.count == 1 }
        let dropped = try await automator(["incident", "close", "INC-3", "--reason", "asked elsewhere"])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        let after = try await automator(["incident", "show", "INC-3"])
        #expect(after.stdout.contains("tasks: 0/1 done, 1 cancelled"), "\(after.stdout)")
        #expect(after.stdout.contains("cancelled (cli:dana)"), "\(after.stdout)")
        #expect(after.stdout.contains("killed"), "the playbook's run is stopped: \(after.stdout)")
        let late = try await automator(["task", "done", "T-2", "--answer", "yes"])
        #expect(late.status == 1 && late.stderr.contains("T-2 was cancelled: its incident INC-3 was closed"), "\(late.stderr)")
        let open = try await automator(["task", "list"])
        #expect(!open.stdout.contains("T-2"), "\(open.stdout)")
    }

    @Test("The help's recipe retries every incident whose playbook failed, and only those")
    func retryEveryFailed() async throws {
        let folder = try Self.workspace()
        try folder.write("scripts/playbooks/outage.lua", """
            return playbook {
              name = "Outage", match = { type = "outage" },
              run = function(inc) if inc.severity ~= "low" then error("the API is down") end end,
            }
            """)
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"))
        for severity in ["high", "high", "low"] {
            let created = try await server.call("POST", "/api/v1/incidents",
                                                body: #"{"title": "x", "type": "outage", "severity": "\#(severity)"}"#)
            _ = try await server.waitForRun(try #require(created.json["run"] as? String))
        }
        // Fixed; its priority shows when the server has read it.
        try folder.write("scripts/playbooks/outage.lua", """
            return playbook { name = "Outage", priority = 1, match = { type = "outage" }, run = function(inc) end }
            """)
        for _ in 0..<300 {
            let playbooks = try await server.call("GET", "/api/v1/playbooks").json["playbooks"] as? [[String: Any]]
            if playbooks?.first?["priority"] as? Int == 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        // The recipe as `incident retry --help` prints it, with this build's automator.
        let help = try await AutomatorProcess.run(["incident", "retry", "--help"]).stdout
        let recipe = try #require(help.components(separatedBy: "every incident whose playbook run failed:\n").last)
            .components(separatedBy: "\n\n").first!
        // `automator` on the PATH, on this data folder (xargs runs a program, not a shell function).
        let wrapper = try folder.write("bin/automator", "#!/bin/sh\nexec \"$AUTOMATOR\" \"$@\" --data \"$DATA\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", recipe]
        let path = folder.url.appendingPathComponent("bin").path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")
        shell.environment = AutomatorProcess.environment(adding: ["AUTOMATOR": AutomatorProcess.executable.path,
                                                                  "DATA": data.path, "PATH": path])
        shell.standardOutput = FileHandle.nullDevice
        try shell.run()
        while shell.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(shell.terminationStatus == 0)
        let runs = try await server.call("GET", "/api/v1/runs").json["runs"] as? [[String: Any]] ?? []
        #expect(runs.map { $0["status"] as? String } == ["completed", "completed", "completed"], "\(runs)")
        let failed = try await AutomatorProcess.run(["runs", "list", "--status", "failed", "--data", data.path],
                                                    environment: ["AUTOMATOR_API_TOKEN": server.token])
        #expect(failed.stdout == "no failed runs\n", "\(failed.stdout)")
    }
}
