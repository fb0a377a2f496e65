import Foundation
import TestSupport
import Testing

@Suite("Incidents through a real automator serve: ingest, playbooks, tasks, SLAs", .timeLimit(.minutes(3)))
struct IncidentServeTests {
    /// A scripts folder with playbooks made for these tests, beside a data folder.
    struct Workspace {
        let folder: TemporaryFolder
        var scripts: URL { folder.url.appendingPathComponent("scripts") }
        var data: URL { folder.url.appendingPathComponent("data") }

        init() throws {
            folder = try TemporaryFolder()
            try folder.write("scripts/playbooks/phishing.lua", """
                return playbook {
                  name = "Phishing",
                  match = { type = "phishing", severity = { "high", "critical" } },
                  run = function(inc)
                    inc:note("checking " .. inc.fields.sender)
                    local seen = incidents.find{ text = inc.fields.sender }
                    inc:note(("seen %d times"):format(#seen))
                    local t = inc:task{ title = "Confirm with the reporter", owner = "tier1", due = "2h",
                                        choices = { "phishing", "legitimate" } }
                    local answer = t:wait()
                    inc:update{ fields = { verdict = answer } }
                    inc:close{ reason = "confirmed " .. answer }
                  end,
                }
                """)
            // Lower priority, matches any phishing: the high-severity one above wins for those.
            try folder.write("scripts/playbooks/catch_all.lua", """
                return playbook {
                  name = "Catch-all", match = { type = "phishing" }, priority = -1,
                  run = function(inc) inc:note("catch-all") end,
                }
                """)
            try folder.write("scripts/mappers/mailgw.lua", """
                return mapper {
                  map = function(alert)
                    return { title = alert.subject, type = "phishing", severity = alert.level,
                             source_ref = alert.id, fields = { sender = alert.from } }
                  end,
                  dedup_window = "1h",
                }
                """)
        }

        func start() async throws -> ServerProcess {
            try await ServerProcess.start(data: data, scripts: scripts)
        }
    }

    @Test("An alert is mapped, the matching playbook runs, its task is completed through the API, it closes with its journal")
    func coreLoop() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()

        let alert = #"{"id": "MG-1", "subject": "Invoice overdue", "level": "high", "from": "billing@examp1e.com"}"#
        let ingested = try await server.call("POST", "/api/v1/ingest/mailgw", body: alert)
        #expect(ingested.status == 201, "\(ingested.body)")
        let id = try #require(ingested.json["id"] as? String)
        #expect(id == "INC-1")
        #expect(ingested.json["playbook"] as? String == "Phishing")
        #expect(ingested.headers["location"] == "/api/v1/incidents/INC-1")

        let waiting = try await server.waitForIncident(id) { ($0["tasks"] as? [[String: Any]])?.count == 1 }
        let task = try #require((waiting["tasks"] as? [[String: Any]])?.first)
        #expect(task["title"] as? String == "Confirm with the reporter")
        #expect(task["owner"] as? String == "tier1")
        #expect(task["status"] as? String == "open")
        #expect(waiting["status"] as? String == "active")
        #expect((waiting["raw"] as? [String: Any])?["id"] as? String == "MG-1", "the alert is kept as raw")
        #expect((waiting["playbook"] as? [String: Any])?["status"] as? String == "waiting", "on its task")
        let taskID = try #require(task["id"] as? String)

        #expect(try await server.call("GET", "/api/v1/tasks?incident=INC-999").status == 404)
        let open = try await server.call("GET", "/api/v1/tasks?owner=tier1")
        #expect((open.json["tasks"] as? [[String: Any]])?.map { $0["id"] as? String } == [taskID])

        // Given to bob while the run waits on it: the run goes on waiting, the journal says who gave it.
        let given = try await server.call("PATCH", "/api/v1/tasks/\(taskID)", body: #"{"owner": "bob", "by": "carol"}"#)
        #expect(given.status == 200 && given.json["owner"] as? String == "bob", "\(given.body)")
        let blank = try await server.call("PATCH", "/api/v1/tasks/\(taskID)", body: #"{"owner": " "}"#)
        #expect(blank.status == 400 && blank.body.contains("a person or a team"), "\(blank.body)")
        let misspelt = try await server.call("PATCH", "/api/v1/tasks/\(taskID)", body: #"{"ownr": "bob"}"#)
        #expect(misspelt.status == 400 && misspelt.body.contains("ownr"), "\(misspelt.body)")
        #expect(try await server.call("PATCH", "/api/v1/tasks/T-99", body: #"{"owner": "bob"}"#).status == 404)
        let mine = try await server.call("GET", "/api/v1/tasks?owner=bob")
        #expect((mine.json["tasks"] as? [[String: Any]])?.map { $0["id"] as? String } == [taskID])

        let wrong = try await server.call("POST", "/api/v1/tasks/\(taskID)/complete", body: #"{"answer": "maybe"}"#)
        #expect(wrong.status == 400)
        #expect(wrong.body.contains(#"\"phishing\", \"legitimate\""#), "\(wrong.body)")
        let done = try await server.call("POST", "/api/v1/tasks/\(taskID)/complete",
                                         body: #"{"answer": "phishing", "by": "alice"}"#)
        #expect(done.status == 200, "\(done.body)")
        let again = try await server.call("POST", "/api/v1/tasks/\(taskID)/complete", body: #"{"answer": "phishing"}"#)
        #expect(again.status == 409, "\(again.body)")
        let late = try await server.call("PATCH", "/api/v1/tasks/\(taskID)", body: #"{"owner": "dave"}"#)
        #expect(late.status == 409 && late.body.contains("is done"), "\(late.body)")

        let closed = try await server.waitForIncident(id) { $0["status"] as? String == "closed" }
        #expect(closed["close_reason"] as? String == "confirmed phishing")
        #expect((closed["fields"] as? [String: Any])?["verdict"] as? String == "phishing")
        #expect((closed["progress"] as? [String: Any])?["done"] as? Int == 1)
        let run = try await server.waitForRun(try #require((closed["playbook"] as? [String: Any])?["run"] as? String))
        #expect(run["status"] as? String == "completed")

        let journal = try await server.journal(id)
        #expect(journal.map(\.kind) == ["created", "playbook", "note", "note", "task", "task", "task_done", "update",
                                        "closed", "playbook"], "\(journal)")
        #expect(journal[2].text == "checking billing@examp1e.com")
        #expect(journal[3].text == "seen 1 times")
        #expect(journal[5].actor == "api:carol" && journal[5].text == "\(taskID) Confirm with the reporter: given to bob (was tier1)")
        #expect(journal[6].actor == "api:alice")
        #expect(journal.last?.text.hasSuffix("completed") == true)

        // A medium one goes to the catch-all playbook.
        let medium = try await server.call("POST", "/api/v1/incidents",
                                           body: #"{"title": "Odd mail", "type": "phishing", "severity": "medium"}"#)
        #expect(medium.status == 201, "\(medium.body)")
        #expect(medium.json["playbook"] as? String == "Catch-all")
    }

    @Test("An alert with the source reference of an open incident is linked to it; after the close a new one opens")
    func deduplication() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        let alert = #"{"id": "MG-7", "subject": "Wire transfer", "level": "critical", "from": "ceo@examp1e.com"}"#
        let first = try await server.call("POST", "/api/v1/ingest/mailgw", body: alert)
        #expect(first.status == 201)
        // Several at once: one incident takes them all.
        let repeats = try await withThrowingTaskGroup(of: ServerProcess.Answer.self) { group in
            for _ in 0..<5 { group.addTask { try await server.call("POST", "/api/v1/ingest/mailgw", body: alert) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for answer in repeats {
            #expect(answer.status == 200, "\(answer.body)")
            #expect(answer.json["id"] as? String == "INC-1")
            #expect(answer.json["deduplicated"] as? Bool == true)
        }
        let incident = try await server.call("GET", "/api/v1/incidents/INC-1").json
        #expect(incident["alert_count"] as? Int == 6)
        #expect(try await server.journal("INC-1").filter { $0.kind == "alert" }.count == 5)
        let list = try await server.call("GET", "/api/v1/incidents").json["incidents"] as? [[String: Any]]
        #expect(list?.count == 1)

        // Another reference is another incident.
        let other = try await server.call("POST", "/api/v1/ingest/mailgw", body: alert.replacingOccurrences(of: "MG-7", with: "MG-8"))
        #expect(other.json["id"] as? String == "INC-2")

        // Once INC-1 is closed, the same reference opens a new incident.
        let task = try await server.waitForIncident("INC-1") { ($0["tasks"] as? [[String: Any]])?.count == 1 }
        let taskID = try #require((task["tasks"] as? [[String: Any]])?.first?["id"] as? String)
        _ = try await server.call("POST", "/api/v1/tasks/\(taskID)/complete", body: #"{"answer": "legitimate"}"#)
        _ = try await server.waitForIncident("INC-1") { $0["status"] as? String == "closed" }
        let reopened = try await server.call("POST", "/api/v1/ingest/mailgw", body: alert)
        #expect(reopened.status == 201)
        #expect(reopened.json["id"] as? String == "INC-3")
    }

    /// Opens a high phishing incident from pay@examp1e.com; returns its id once its run waits on T-1.
    static func payrollWaitingOnItsTask(_ server: ServerProcess) async throws -> String {
        let created = try await server.call("POST", "/api/v1/incidents", body: """
            {"title": "Payroll", "type": "phishing", "severity": "high", "fields": {"sender": "pay@examp1e.com"}}
            """)
        let id = try #require(created.json["id"] as? String)
        _ = try await server.waitForIncident(id) { ($0["tasks"] as? [[String: Any]])?.count == 1 }
        return id
    }

    @Test("A run waiting on a task survives a restart; the task completed while the server was down is seen")
    func taskAcrossRestart() async throws {
        let workspace = try Workspace()
        var server = try await workspace.start()
        let id = try await Self.payrollWaitingOnItsTask(server)
        server.terminate()
        #expect(await server.waitForExit() == 0)

        // With no server, the task is completed on the folder's database.
        let done = try await AutomatorProcess.run(["task", "done", "T-1", "--answer", "legitimate",
                                                        "--data", workspace.data.path])
        #expect(done.status == 0, "\(done.stderr)")

        server = try await workspace.start()
        let closed = try await server.waitForIncident(id) { $0["status"] as? String == "closed" }
        #expect(closed["close_reason"] as? String == "confirmed legitimate")
        // Replayed, not repeated: one note of each, one task.
        let journal = try await server.journal(id)
        #expect(journal.filter { $0.kind == "note" }.map(\.text) == ["checking pay@examp1e.com", "seen 1 times"])
        #expect(journal.filter { $0.kind == "task" }.count == 1)
    }

    @Test("A run waiting in a playbook edited, then removed, goes on with the code it started with, across a restart")
    func waitingRunKeepsItsCode() async throws {
        let workspace = try Workspace()
        var server = try await workspace.start()
        let id = try await Self.payrollWaitingOnItsTask(server)
        try workspace.folder.write("scripts/playbooks/phishing.lua", """
            return playbook { name = "Phishing", match = { type = "phishing" },
                              run = function(inc) inc:note("version 2") end }
            """)
        server.terminate()
        #expect(await server.waitForExit() == 0)
        try FileManager.default.removeItem(at: workspace.scripts.appendingPathComponent("playbooks/phishing.lua"))

        server = try await workspace.start()
        let done = try await server.call("POST", "/api/v1/tasks/T-1/complete", body: #"{"answer": "phishing"}"#)
        #expect(done.status == 200, "\(done.body)")
        let closed = try await server.waitForIncident(id) { $0["status"] as? String == "closed" }
        #expect(closed["close_reason"] as? String == "confirmed phishing")
        let journal = try await server.journal(id)
        #expect(journal.filter { $0.kind == "note" }.map(\.text) == ["checking pay@examp1e.com", "seen 1 times"])
    }

    @Test("An SLA that ran out while the server was down is breached at the next start, once, and its hook runs")
    func slaBreachAfterRestart() async throws {
        let workspace = try Workspace()
        try workspace.folder.write("scripts/playbooks/urgent.lua", """
            return playbook {
              name = "Urgent", match = { type = "outage" }, sla = "2s",
              run = function(inc) inc:task{ title = "Fix it" }:wait() end,
              on_sla_breach = function(inc)
                inc:note("breached, escalating")
                inc:update{ owner = "on-call", labels = { "sla-breached" } }
              end,
            }
            """)
        var server = try await workspace.start()
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Site down", "type": "outage", "severity": "critical"}"#)
        let id = try #require(created.json["id"] as? String)
        let fresh = try await server.call("GET", "/api/v1/incidents/\(id)").json
        #expect((fresh["sla"] as? [String: Any])?["state"] as? String == "on_track", "\(fresh)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
        try await Task.sleep(for: .seconds(2.5))

        server = try await workspace.start()
        let breached = try await server.waitForIncident(id) { $0["owner"] as? String == "on-call" }
        #expect((breached["sla"] as? [String: Any])?["state"] as? String == "breached")
        let hook = try await server.waitForIncident(id) {
            (($0["sla"] as? [String: Any])?["hook"] as? [String: Any])?["status"] as? String == "completed"
        }
        #expect(((hook["sla"] as? [String: Any])?["hook"] as? [String: Any])?["script"] as? String == "playbooks/urgent.lua")
        #expect(breached["labels"] as? [String] == ["sla-breached"])
        server.terminate()
        #expect(await server.waitForExit() == 0)

        // Another start does not breach it again.
        server = try await workspace.start()
        try await Task.sleep(for: .seconds(1))
        let journal = try await server.journal(id)
        #expect(journal.filter { $0.kind == "sla" }.count == 1, "\(journal)")
        #expect(journal.filter { $0.text == "breached, escalating" }.count == 1)
    }

    @Test("A breach hook that fails is shown failed, with why, not as a breach handled")
    func failedBreachHook() async throws {
        let workspace = try Workspace()
        try workspace.folder.write("scripts/playbooks/urgent.lua", """
            return playbook {
              name = "Urgent", match = { type = "outage" }, sla = "1s",
              run = function(inc) inc:task{ title = "Fix it" }:wait() end,
              on_sla_breach = function(inc) error("the pager is down") end,
            }
            """)
        let server = try await workspace.start()
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Site down", "type": "outage", "severity": "critical"}"#)
        let id = try #require(created.json["id"] as? String)
        let failed = try await server.waitForIncident(id) {
            (($0["sla"] as? [String: Any])?["hook"] as? [String: Any])?["status"] as? String == "failed"
        }
        let hook = try #require((failed["sla"] as? [String: Any])?["hook"] as? [String: Any])
        let run = try #require(hook["run"] as? String)
        #expect((hook["error"] as? String)?.hasPrefix("playbooks/urgent.lua:4: the pager is down") == true, "\(hook)")

        let shown = try await AutomatorProcess.run(["incident", "show", id, "--data", workspace.data.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("breach    playbooks/urgent.lua, run \(run) failed: playbooks/urgent.lua:4: the pager is down"),
                "\(shown.stdout)")
        #expect(!shown.stdout.contains("handled"), "\(shown.stdout)")
    }

    @Test("A severity changed through the API moves the SLA from the opening; an alert with no mapper is kept, with a warning")
    func slaMovesAndNoMapper() async throws {
        let workspace = try Workspace()
        try workspace.folder.write("scripts/sla.lua", """
            return { default = { critical = "1h", low = "3d" }, malware = { critical = "30m" } }
            """)
        let server = try await workspace.start()
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "sla test", "type": "malware", "severity": "low"}"#)
        let id = try #require(created.json["id"] as? String)
        let patched = try await server.call("PATCH", "/api/v1/incidents/\(id)", body: #"{"severity": "critical", "by": "alice"}"#)
        #expect(patched.status == 200, "\(patched.body)")
        let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let opened = try formatter.parse(try #require(patched.json["created_at"] as? String))
        let sla = try #require(patched.json["sla"] as? [String: Any])
        #expect(try formatter.parse(try #require(sla["due"] as? String)) == opened.addingTimeInterval(1800), "\(sla)")
        #expect(sla["state"] as? String == "on_track")
        let moved = try await server.journal(id).filter { $0.kind == "sla" }.map(\.text)
        #expect(moved.count == 1 && moved.first?.hasSuffix(" UTC: critical malware, 30m") == true, "\(moved)")

        let alert = try await server.call("POST", "/api/v1/ingest/siem", body: #"{"rule": "odd login"}"#)
        #expect(alert.status == 201, "\(alert.body)")
        #expect((alert.json["warning"] as? String)?.contains("scripts/mappers/siem.lua") == true, "\(alert.body)")
        let kept = try #require(alert.json["incident"] as? [String: Any])
        #expect(kept["type"] as? String == "unmapped" && kept["raw"] as? [String: String] == ["rule": "odd login"], "\(kept)")
        #expect(kept["title"] as? String == "An alert from siem that no mapper could read", "there is none: \(kept)")
    }

    @Test("A playbook changed on disk is used for the next incident without a restart")
    func changedPlaybook() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        func note(for title: String) async throws -> String? {
            let created = try await server.call("POST", "/api/v1/incidents",
                                                body: #"{"title": "\#(title)", "type": "scan", "severity": "low"}"#)
            let id = try #require(created.json["id"] as? String)
            _ = try await server.waitForIncident(id) { $0["status"] as? String == "closed" || $0["playbook"] == nil }
            return try await server.journal(id).first { $0.kind == "note" }?.text
        }
        try workspace.folder.write("scripts/playbooks/scan.lua", """
            return playbook { name = "Scan", match = { type = "scan" },
                              run = function(inc) inc:note("version 1") inc:close{ reason = "done" } end }
            """)
        try await Task.sleep(for: .seconds(1.1))
        #expect(try await note(for: "first") == "version 1")
        try workspace.folder.write("scripts/playbooks/scan.lua", """
            return playbook { name = "Scan", match = { type = "scan" },
                              run = function(inc) inc:note("version 2, longer") inc:close{ reason = "done" } end }
            """)
        try await Task.sleep(for: .seconds(1.1))
        #expect(try await note(for: "second") == "version 2, longer")
        let listed = try await server.call("GET", "/api/v1/playbooks").json["playbooks"] as? [[String: Any]]
        #expect(listed?.map { $0["name"] as? String } == ["Phishing", "Scan", "Catch-all"])
    }

    @Test("Bad incidents get 400 naming the field, a 10 MB body 413, unknown things 404, an alert its mapper cannot read is kept; the server keeps working")
    func badInput() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        let cases: [(String, String)] = [
            (#"{"type": "phishing", "severity": "high"}"#, #""title": required"#),
            (#"{"title": 7, "type": "phishing", "severity": "high"}"#, #""title": a string expected"#),
            (#"{"title": "x", "type": "phishing", "severity": "urgent"}"#, #""severity": one of info, low"#),
            (#"{"title": "x", "type": "phishing", "severity": "high", "fields": [1]}"#, #""fields": a JSON object"#),
            (#"{"title": "x", "type": "phishing", "severity": "high", "labels": "a"}"#, #""labels": an array"#),
            (#"{"title": "x", "type": "p", "severity": "high", "colour": "red"}"#, #""colour": unknown field"#),
            (#"{"title": "x""#, "not valid JSON (Unexpected end of file"),
            // Valid JSON nested deeper than the parser goes: said, not "a syntax error" to hunt for.
            (#"{"title": "x", "type": "p", "severity": "low", "fields": {"a": "# + String(repeating: "[", count: 600)
                + String(repeating: "]", count: 600) + "}}", "not valid JSON (Too many nested arrays or dictionaries"),
            ("[1, 2]", "must be a JSON object"),
        ]
        for (body, message) in cases {
            let answer = try await server.call("POST", "/api/v1/incidents", body: body)
            #expect(answer.status == 400, "\(body): \(answer.body)")
            #expect((answer.json["error"] as? String)?.contains(message) == true, "\(body): \(answer.body)")
        }
        let huge = #"{"title": "x", "type": "p", "severity": "low", "details": ""# + String(repeating: "a", count: 10 << 20) + #""}"#
        let tooLarge = try await server.call("POST", "/api/v1/incidents", body: huge)
        #expect(tooLarge.status == 413, "\(tooLarge.body.prefix(200))")
        #expect(tooLarge.body.contains("over the limit"))

        #expect(try await server.call("POST", "/api/v1/ingest/nosuch", body: "{oops").status == 400)
        #expect(try await server.call("POST", "/api/v1/ingest/mailgw", body: "{oops").status == 400)
        // An alert the mapper cannot read is kept, not refused: its sender would drop it.
        let unmapped = try await server.call("POST", "/api/v1/ingest/mailgw", body: #"{"id": "1", "level": "high"}"#)
        #expect(unmapped.status == 201, "\(unmapped.body)")
        let kept = try #require(unmapped.json["incident"] as? [String: Any])
        #expect(kept["type"] as? String == "unmapped" && kept["severity"] as? String == "high", "\(kept)")
        #expect((kept["details"] as? String)?.contains("mappers/mailgw.lua returned no valid incident: \"title\": required")
            == true, "\(kept)")
        #expect(kept["raw"] as? [String: String] == ["id": "1", "level": "high"], "\(kept)")
        #expect(kept["source"] as? String == "mailgw")
        // The next ones from the source fold into it while it is open, each alert whole in its journal.
        let failing = try await server.call("POST", "/api/v1/ingest/mailgw", body: "42")
        #expect(failing.status == 200, "\(failing.body)")
        let folded = try #require(failing.json["incident"] as? [String: Any])
        #expect(folded["id"] as? String == kept["id"] as? String && folded["alert_count"] as? Int == 2, "\(folded)")
        let keptID = try #require(kept["id"] as? String)
        let entries = try await server.call("GET", "/api/v1/incidents/\(keptID)/journal").json["journal"] as? [[String: Any]]
        let last = try #require(entries?.last?["text"] as? String)
        #expect(last.hasPrefix("another alert its mapper could not read: the mapper mappers/mailgw.lua failed: "), "\(last)")
        #expect(last.hasSuffix("\n42"), "the alert is kept whole: \(last)")
        // Closed (the mapper fixed), the next one opens an incident of its own.
        let closed = try await server.call("PATCH", "/api/v1/incidents/\(keptID)",
                                           body: #"{"status": "closed", "reason": "mapper fixed, alerts posted again"}"#)
        #expect(closed.status == 200, "\(closed.body)")
        let again = try await server.call("POST", "/api/v1/ingest/mailgw", body: #"{"id": "2"}"#)
        #expect(again.status == 201 && (again.json["incident"] as? [String: Any])?["id"] as? String != keptID, "\(again.body)")
        #expect(try await server.call("GET", "/api/v1/incidents/INC-999").status == 404)
        #expect(try await server.call("GET", "/api/v1/incidents/nonsense").status == 400)
        #expect(try await server.call("POST", "/api/v1/tasks/T-42/complete", body: "{}").status == 404)
        // Who did it is a name: an empty one was journaled as "api:", a number ignored.
        for (path, body) in [("/api/v1/tasks/T-42/complete", #"{"answer": "yes", "by": ""}"#),
                             ("/api/v1/incidents/INC-999/journal", #"{"text": "x", "by": 123}"#)] {
            let refused = try await server.call("POST", path, body: body)
            #expect(refused.status == 400 && refused.body.contains("names who does it"), "\(path): \(refused.body)")
        }
        // A newline in it would print a forged line in journal show and audit.
        let forged = #"intern\n2026-11-30 19:12:41  cli:soc-lead"#
        for (method, path, body) in [("POST", "/api/v1/incidents/INC-1/journal", #"{"text": "x", "by": "\#(forged)"}"#),
                                     ("PATCH", "/api/v1/incidents/INC-1", #"{"owner": "x", "by": "\#(forged)"}"#)] {
            let refused = try await server.call(method, path, body: body)
            #expect(refused.status == 400 && refused.body.contains("without control characters"), "\(path): \(refused.body)")
        }
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "x", "type": "other", "severity": "low"}"#)
        let unknown = try await server.call("POST", "/api/v1/incidents/INC-1/playbook", body: #"{"name": "Nope"}"#)
        #expect(created.status == 201)
        #expect(unknown.status == 404)
        #expect(unknown.body.contains("the playbooks are Phishing, Catch-all"), "\(unknown.body)")
        // Nothing above was stored but the unmapped alert and the one good incident.
        let list = try await server.call("GET", "/api/v1/incidents").json["incidents"] as? [[String: Any]]
        #expect(list?.compactMap { $0["type"] as? String }.sorted() == ["other", "unmapped", "unmapped"], "\(list ?? [])")
    }

    @Test("A journal larger than one answer of the server is read a page at a time; a note over 1 MiB is refused")
    func largeJournal() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        // Alerts of 2 MB that the mapper cannot read: the first opens an unmapped incident, the
        // others fold into its journal, each whole: 70 MB, more than the 64 MiB the CLI takes in
        // one answer.
        let alert = #"{"blob": ""# + String(repeating: "z", count: 2_000_000) + #""}"#
        let compact = #"{"blob":""# + String(repeating: "z", count: 2_000_000) + #""}"#
        var id = ""
        for _ in 0..<36 {
            let answer = try await server.call("POST", "/api/v1/ingest/mailgw", body: alert)
            #expect([200, 201].contains(answer.status), "\(answer.body.prefix(300))")
            id = (answer.json["incident"] as? [String: Any])?["id"] as? String ?? id
        }
        let folded = "another alert its mapper could not read"

        // The API: pages of about 4 MiB, each alert whole, the next asked after the last sequence.
        var after = 0
        var alerts = 0
        var pages = 0
        while true {
            let page = try await server.call("GET", "/api/v1/incidents/\(id)/journal?after=\(after)")
            #expect(page.status == 200 && page.body.utf8.count < 8 << 20, "\(page.body.prefix(300))")
            let entries = try #require(page.json["journal"] as? [[String: Any]])
            alerts += entries.filter { ($0["text"] as? String)?.hasPrefix(folded) == true }.count
            #expect(entries.allSatisfy { ($0["text"] as? String)?.hasPrefix(folded) != true
                || ($0["text"] as? String)?.hasSuffix("\n" + compact) == true })
            pages += 1
            guard page.json["more"] as? Bool == true, let last = entries.last?["sequence"] as? Int else { break }
            after = last
        }
        #expect(alerts == 35 && pages > 10, "\(alerts) alerts in \(pages) pages")
        let two = try await server.call("GET", "/api/v1/incidents/\(id)/journal?limit=2")
        #expect((two.json["journal"] as? [Any])?.count == 2 && two.json["more"] as? Bool == true, "\(two.body.prefix(300))")
        #expect(try await server.call("GET", "/api/v1/incidents/\(id)/journal?after=x").status == 400)
        #expect(try await server.call("GET", "/api/v1/incidents/\(id)/journal?page=2").status == 400)

        // The CLI reads it all, through the server.
        let shown = try await AutomatorProcess.run(["incident", "show", id, "--data", workspace.data.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.components(separatedBy: folded).count - 1 == 35)
        let json = try await AutomatorProcess.run(["incident", "show", id, "--json", "--data", workspace.data.path])
        let whole = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((whole?["journal"] as? [[String: Any]])?.filter { ($0["text"] as? String)?.hasPrefix(folded) == true }
            .count == 35, "\(json.stderr)")
        let journal = try await AutomatorProcess.run(["journal", "show", id, "--data", workspace.data.path])
        #expect(journal.status == 0, "\(journal.stderr)")
        #expect(journal.stdout.components(separatedBy: folded).count - 1 == 35)

        // A note is at most 1 MiB.
        func note(_ size: Int) async throws -> ServerProcess.Answer {
            try await server.call("POST", "/api/v1/incidents/\(id)/journal",
                                  body: #"{"text": ""# + String(repeating: "n", count: size) + #""}"#)
        }
        #expect(try await note(1 << 20).status == 201)
        let refused = try await note((1 << 20) + 1)
        #expect(refused.status == 400 && refused.body.contains("the note is 1048577 bytes, over the limit of 1 MiB"),
                "\(refused.body.prefix(300))")
    }

    @Test("A playbook that fails halfway shows file:line on its incident; a retry after the fix replays to the step and goes on")
    func failureAndRetry() async throws {
        let workspace = try Workspace()
        let broken = """
            return playbook {
              name = "Flaky", match = { type = "flaky" },
              run = function(inc)
                inc:note("step 1")
                local answer = inc:task{ title = "Approve" }:wait()
                local verdict = nil
                inc:note("step 2: " .. verdict)
                inc:close{ reason = answer }
              end,
            }
            """
        try workspace.folder.write("scripts/playbooks/flaky.lua", broken)
        let server = try await workspace.start()
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "x", "type": "flaky", "severity": "low"}"#)
        let id = try #require(created.json["id"] as? String)
        _ = try await server.waitForIncident(id) { ($0["tasks"] as? [[String: Any]])?.count == 1 }
        _ = try await server.call("POST", "/api/v1/tasks/T-1/complete", body: #"{"answer": "approved"}"#)
        let failed = try await server.waitForIncident(id) {
            ($0["playbook"] as? [String: Any])?["status"] as? String == "failed"
        }
        let error = try #require((failed["playbook"] as? [String: Any])?["error"] as? String)
        #expect(error.hasPrefix("playbooks/flaky.lua:7: attempt to concatenate a nil value (local 'verdict')"), "\(error)")
        let journal = try await server.journal(id)
        #expect(journal.last?.text.contains("failed: playbooks/flaky.lua:7:") == true, "\(journal)")

        try workspace.folder.write("scripts/playbooks/flaky.lua",
                                   broken.replacingOccurrences(of: "local verdict = nil", with: "local verdict = \"ok\""))
        try await Task.sleep(for: .seconds(1.1))
        let retried = try await server.call("POST", "/api/v1/incidents/\(id)/retry")
        #expect(retried.status == 200, "\(retried.body)")
        let closed = try await server.waitForIncident(id) { $0["status"] as? String == "closed" }
        #expect(closed["close_reason"] as? String == "approved")
        let notes = try await server.journal(id).filter { $0.kind == "note" }.map(\.text)
        #expect(notes == ["step 1", "step 2: ok"], "step 1 and the task are replayed, not repeated")
        #expect((closed["tasks"] as? [Any])?.count == 1)
        let again = try await server.call("POST", "/api/v1/incidents/\(id)/retry")
        #expect(again.status == 409, "\(again.body)")
    }

    @Test("With no chat network the log says once per channel that its questions are not posted, not once per question")
    func unpostedQuestionsLoggedOnce() async throws {
        let workspace = try Workspace()
        try workspace.folder.write("scripts/playbooks/ransomware.lua", """
            return playbook {
              name = "Ransomware", match = { type = "ransomware" },
              run = function(inc) chat.approve("#soc", "Isolate the host?") end,
            }
            """)
        let server = try await workspace.start()
        for host in ["ws-1", "ws-2", "ws-3"] {
            let created = try await server.call("POST", "/api/v1/incidents",
                                                body: #"{"title": "Shares encrypted on \#(host)", "type": "ransomware", "severity": "critical"}"#)
            #expect(created.status == 201, "\(created.body)")
        }
        let data = ["--data", workspace.data.path]
        let started = ContinuousClock.now
        while try await AutomatorProcess.run(["question", "list"] + data).stdout.components(separatedBy: "(not posted in #soc)").count < 4 {
            try #require(ContinuousClock.now - started < .seconds(20), "the three questions were never listed")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(server.log.components(separatedBy: "was not posted in #soc (no chat network is configured)").count == 2,
                "\(server.log)")
    }

    @Test("With no chat network a playbook's approval waits: listed, journaled as not posted, answered from the CLI, the run goes on")
    func approvalWithoutChat() async throws {
        let workspace = try Workspace()
        try workspace.folder.write("scripts/playbooks/ransomware.lua", """
            return playbook {
              name = "Ransomware", match = { type = "ransomware" },
              run = function(inc)
                local approved, by = chat.approve("#soc", "Isolate the host?")
                inc:note(("isolation %s by %s"):format(approved and "approved" or "denied", by))
              end,
            }
            """)
        let server = try await workspace.start()
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Shares encrypted", "type": "ransomware", "severity": "critical"}"#)
        let id = try #require(created.json["id"] as? String)
        var questions: [[String: Any]] = []
        var asked: [ServerProcess.Entry] = []
        let started = ContinuousClock.now
        while questions.isEmpty || asked.isEmpty {
            try #require(ContinuousClock.now - started < .seconds(20), "the question was never listed and journaled")
            try await Task.sleep(for: .milliseconds(100))
            questions = try await server.call("GET", "/api/v1/questions?incident=\(id)").json["questions"] as? [[String: Any]] ?? []
            asked = try await server.journal(id).filter { $0.kind == "approval" }
        }
        #expect(questions.count == 1 && questions[0]["posted"] as? Bool == false && questions[0]["incident"] as? String == id,
                "\(questions)")
        let question = try #require(questions.first?["id"] as? String)
        #expect(asked.count == 1 && asked[0].text.contains("not posted (no chat network is configured)")
            && asked[0].text.contains("automator question answer \(question) CHOICE"), "\(asked)")

        let data = ["--data", workspace.data.path]
        let listed = try await AutomatorProcess.run(["question", "list"] + data)
        #expect(listed.status == 0 && listed.stdout.contains(question) && listed.stdout.contains("Isolate the host? (not posted in #soc)"),
                "\(listed.stdout) \(listed.stderr)")
        let waiting = try await AutomatorProcess.run(["question", "show", question] + data)
        #expect(waiting.status == 0 && waiting.stdout.contains("question  Isolate the host?\n")
            && waiting.stdout.contains("choices   approve, deny\nroles     approver\nincident  \(id)\n")
            && waiting.stdout.contains("answer    none yet: automator question answer \(question) CHOICE"),
                "\(waiting.stdout) \(waiting.stderr)")
        let wrong = try await AutomatorProcess.run(["question", "answer", question, "perhaps"] + data)
        #expect(wrong.status == 1 && wrong.stderr.contains("takes one of: approve, deny"), "\(wrong.stderr)")
        let answered = try await AutomatorProcess.run(["question", "answer", question, "Approve", "--by", "alice"] + data)
        #expect(answered.status == 0 && answered.stdout.contains("\(question) answered: approve"), "\(answered.stderr)")
        _ = try await server.waitForIncident(id) { _ in true }
        let started2 = ContinuousClock.now
        while try await !server.journal(id).contains(where: { $0.text == "isolation approved by cli:alice" }) {
            try #require(ContinuousClock.now - started2 < .seconds(20), "the run did not go on after the answer")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await AutomatorProcess.run(["question", "list"] + data).stdout.contains("no open questions"))
        // Answered, it is no longer listed, and still shown: who answered and when.
        let shown = try await AutomatorProcess.run(["question", "show", question] + data)
        #expect(shown.status == 0 && shown.stdout.contains("answer    approve by cli:alice, 20"), "\(shown.stdout) \(shown.stderr)")
        let json = try await server.call("GET", "/api/v1/questions/\(question)")
        #expect(json.status == 200 && json.json["answered_by"] as? String == "cli:alice" && json.json["incident"] as? String == id
                && json.json["answered_at"] is String, "\(json.body)")
        let unknown = try await AutomatorProcess.run(["question", "show", "Q-00000000"] + data)
        #expect(unknown.status == 1 && unknown.stderr.contains("there is no question Q-00000000: automator question list"),
                "\(unknown.stderr)")
        let unknownAnswer = try await AutomatorProcess.run(["question", "answer", "Q-00000000", "approve"] + data)
        #expect(unknownAnswer.status == 1 && unknownAnswer.stderr.contains(
            "there is no question Q-00000000: automator question list"), "an answer to a mistyped id says where the ids are")
        server.terminate()
        _ = await server.waitForExit()
        let onFolder = try await AutomatorProcess.run(["question", "show", question, "--json"] + data)
        #expect(onFolder.status == 0 && onFolder.stdout.contains(#""answered_by":"cli:alice""#), "\(onFolder.stdout) \(onFolder.stderr)")
    }

    @Test("GET /metrics needs the token, and shows the open incident, its waiting run and open task in Prometheus's text format")
    func metrics() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        #expect(try await server.call("GET", "/metrics", credentials: .none).status == 401)
        let alert = #"{"id": "MG-1", "subject": "Invoice overdue", "level": "high", "from": "billing@examp1e.com"}"#
        let id = try #require(try await server.call("POST", "/api/v1/ingest/mailgw", body: alert).json["id"] as? String)
        _ = try await server.waitForIncident(id) { ($0["tasks"] as? [[String: Any]])?.count == 1 }

        let metrics = try await server.call("GET", "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        // Prometheus's own parser, one sample a line: name, labels as JSON, value.
        let parsed = try await AutomatorProcess.python("""
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.argv[1]):
                for sample in family.samples:
                    print(sample.name, json.dumps(sample.labels, sort_keys=True, separators=(",", ":")), sample.value)
            """, arguments: [metrics.body])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let samples = Set(parsed.stdout.split(separator: "\n").map(String.init))
        for expected in [#"automator_store_up {} 1"#,
                         #"automator_incidents_open {"severity":"high","status":"active"} 1"#,
                         #"automator_incidents_open {"severity":"high","status":"new"} 0"#,
                         #"automator_incidents_closed {} 0"#,
                         #"automator_tasks_open {"owner":"tier1"} 1"#,
                         #"automator_tasks_overdue {"owner":"tier1"} 0"#,
                         #"automator_runs {"status":"waiting"} 1"#,
                         #"automator_runs {"status":"failed"} 0"#,
                         #"automator_runs_in_memory {} 1"#,
                         #"automator_questions_open {} 0"#] {
            #expect(samples.contains(expected), "\(expected) in \(metrics.body)")
        }
    }

    @Test("GET /metrics bounds the types and owners it labels by: the playbooks' types and the ten most numerous, the rest as other")
    func metricsBoundFreeTextLabels() async throws {
        let folder = try TemporaryFolder()
        // Every incident gets an SLA and a task whose owner comes from the alert, as a mapper's would.
        for (file, match) in [("everything", "{}, priority = -1"), ("rare", #"{ type = "rare" }"#)] {
            try folder.write("scripts/playbooks/\(file).lua", """
                return playbook {
                  name = "\(file)", match = \(match), sla = "4h",
                  run = function(inc) inc:task{ title = "Look", owner = inc.fields.owner } end,
                }
                """)
        }
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"))
        // Ten types twice (one with the characters a label value escapes), two once, and the
        // playbook's type once: the last kept, the two once counted as other.
        let tens = [#"web "proxy" \ alert"#] + (2...10).map { "type-\($0)" }
        let types = tens + tens + ["type-11", "type-12", "rare"]
        for (number, type) in types.enumerated() {
            let body = try JSONSerialization.data(withJSONObject: [
                "title": "Alert \(number)", "type": type, "severity": "low", "fields": ["owner": "owner of \(type)"],
            ])
            let created = try await server.call("POST", "/api/v1/incidents", body: String(decoding: body, as: UTF8.self))
            #expect(created.status == 201, "\(created.body)")
        }
        let started = ContinuousClock.now
        while try await (server.call("GET", "/api/v1/tasks?status=open&limit=100").json["tasks"] as? [Any])?.count != types.count {
            try #require(ContinuousClock.now - started < .seconds(30), "the playbooks did not open their tasks")
            try await Task.sleep(for: .milliseconds(50))
        }

        let metrics = try await server.call("GET", "/metrics")
        let parsed = try await AutomatorProcess.python("""
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.argv[1]):
                for sample in family.samples:
                    print(json.dumps([sample.name, sample.labels, sample.value]))
            """, arguments: [metrics.body])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let samples = try parsed.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any])
        }
        func values(_ name: String, _ label: String, where other: (String, String)? = nil) -> [String: Double] {
            var values: [String: Double] = [:]
            for sample in samples where sample[0] as? String == name {
                let labels = sample[1] as? [String: String] ?? [:]
                if let other, labels[other.0] != other.1 { continue }
                values[labels[label] ?? "?"] = sample[2] as? Double
            }
            return values
        }
        let onTrack = values("automator_incidents_sla", "type", where: ("state", "on_track"))
        #expect(onTrack == Dictionary(uniqueKeysWithValues: tens.map { ($0, 2.0) }).merging(["rare": 1, "other": 2]) { $1 },
                "\(metrics.body)")
        #expect(values("automator_incidents_sla", "type", where: ("state", "breached")).values.allSatisfy { $0 == 0 })
        let owners = Dictionary(uniqueKeysWithValues: tens.map { ("owner of \($0)", 2.0) }).merging(["other": 3]) { $1 }
        #expect(values("automator_tasks_open", "owner") == owners, "\(metrics.body)")
        #expect(values("automator_tasks_overdue", "owner") == owners.mapValues { _ in 0 }, "\(metrics.body)")
    }
}

extension ServerProcess {
    struct Entry: CustomStringConvertible {
        var kind: String
        var actor: String
        var text: String
        var description: String { "\(kind) \(actor): \(text)" }
    }

    /// Polls the incident until `condition` holds; returns it.
    func waitForIncident(_ id: String, timeout: TimeInterval = 30, until condition: ([String: Any]) -> Bool)
        async throws -> [String: Any]
    {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let incident = try await call("GET", "/api/v1/incidents/\(id)").json
            if condition(incident) { return incident }
            guard Date() < deadline else { throw RunDidNotEnd(id: id, status: "\(incident)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func journal(_ id: String) async throws -> [Entry] {
        let entries = try await call("GET", "/api/v1/incidents/\(id)/journal").json["journal"] as? [[String: Any]] ?? []
        return entries.map { Entry(kind: $0["kind"] as? String ?? "", actor: $0["actor"] as? String ?? "",
                                   text: $0["text"] as? String ?? "") }
    }
}
