import AutomatorRuntime
import Foundation
import Testing

@Suite("The incidents module: objects over recorded host writes", .timeLimit(.minutes(1)))
struct IncidentsModuleTests {
    /// An incident service on a scratch store, with nothing in its scripts folder: playbooks are
    /// given as text.
    struct Desk {
        let folder: ScratchFolder
        let service: IncidentService

        init() async throws {
            folder = try ScratchFolder()
            let store = try SQLiteStore(folder: folder.path + "/data")
            let ledger = IncidentLedger(store: store)
            let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger)]
            service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules, executors: 1),
                                          scripts: folder.path + "/scripts", modules: modules)
        }

        /// Runs `playbook` (the text of a playbook file) on a new incident until it ends.
        func run(_ playbook: String, fields: String = "{}") async throws -> (RunRecord, [JournalEntry]) {
            var draft = IncidentDraft(title: "Invoice", type: "phishing", severity: .medium)
            draft.fields = fields
            let id = try await service.create(draft, by: "test", choosingPlaybook: false).incident.id
            let run = try await service.runPlaybook(file: "playbooks/test.lua", source: Array(playbook.utf8), on: id,
                                                    by: "test")
            await service.runs.waitForEnd(run.id)
            return (try #require(try await service.runs.run(run.id)), try await service.store.journal(of: id))
        }
    }

    @Test("Notes, updates, links and the close change the incident and its journal; the inc table follows")
    func changes() async throws {
        let desk = try await Desk()
        var other = IncidentDraft(title: "Earlier", type: "phishing", severity: .low)
        other.details = "sender billing@examp1e.com"
        (other.source, other.sourceRef) = ("sentinel", "73e01a99")
        _ = try await desk.service.create(other, by: "test", choosingPlaybook: false)
        let (run, journal) = try await desk.run("""
            return playbook {
              name = "t",
              run = function(inc)
                inc:note("first")
                inc:update{ severity = "high", owner = "alice", labels = { "vip" }, fields = { score = 3, gone = json.null } }
                assert(inc.severity == "high" and inc.owner == "alice" and inc.fields.score == 3 and inc.fields.gone == nil)
                assert(not inc:raise("medium", "never lowers"))
                inc:label("vip", "sla-breached")
                assert(#inc.labels == 2 and inc.labels[2] == "sla-breached")
                local seen = incidents.find{ text = "billing@examp1e.com" }
                assert(#seen == 1 and seen[1].title == "Earlier")
                -- The source's own id, exactly: a part of it finds nothing.
                assert(incidents.find{ source_ref = "73e01a99" }[1].id == seen[1].id)
                assert(#incidents.find{ source_ref = "73e01a9" } == 0)
                inc:link(seen[1])
                inc:close{ reason = "duplicate of " .. seen[1].id }
                assert(inc.status == "closed")
                return incidents.get(inc.id).severity, incidents.get("INC-99")
              end,
            }
            """, fields: #"{"gone": true}"#)
        #expect(run.status == .completed, "\(run.error ?? "")")
        #expect(run.result == #"["high",null]"#)
        #expect(journal.map(\.kind) == [.created, .playbook, .note, .update, .update, .link, .closed, .playbook])
        #expect(journal[4].text == "labels=vip,sla-breached")
        #expect(journal[3].text == #"severity=high, owner=alice, labels=vip, fields+={"gone":null,"score":3}"#)
        #expect(journal[2].actor == "playbook \(run.id)")
        let incident = try await desk.service.load(IncidentID(2))
        #expect(incident.status == .closed && incident.closeReason == "duplicate of INC-1")
        #expect(incident.links == [IncidentID(1)])
        #expect(incident.fields == #"{"score":3}"#)
    }

    @Test("A custom field stored as null reads as no field, as after inc:update: the `or` idiom gives its default")
    func nullFields() async throws {
        let desk = try await Desk()
        let (run, _) = try await desk.run("""
            return playbook {
              name = "t",
              run = function(inc)
                return inc.fields.user or "nobody", inc.fields.count, incidents.get(inc.id).fields.user == nil,
                       inc.raw == nil
              end,
            }
            """, fields: #"{"user": null, "count": 2}"#)
        #expect(run.status == .completed, "\(run.error ?? "")")
        #expect(run.result == #"["nobody",2,true,true]"#)
    }

    @Test("Mistakes fail at the playbook's own line, with a message that says what to do")
    func mistakes() async throws {
        let desk = try await Desk()
        let cases: [(String, String)] = [
            ("inc:task{ owner = 'tier1' }", "playbooks/test.lua:3: incidents.task: the task needs a title"),
            ("inc.note('dot')", "playbooks/test.lua:3: call it as inc:note(...), with a colon"),
            ("inc:close{}", "playbooks/test.lua:3: inc:close needs a reason"),
            ("inc:update{ status = 'closed' }", "use inc:close{ reason = ... }"),
            ("inc:update{ colour = 'red' }", "colour cannot be changed"),
            ("inc:task{ title = 'x', due = 'soon' }", "due must be a duration such as 90s"),
            // A due not after now gave a task overdue as it was given; one of centuries overflows the store.
            ("inc:task{ title = 'x', due = -60 }", "playbooks/test.lua:3: incidents.task: due must be a duration such as "
                + "90s, 15m, 4h, 2d or 1w (at most 100 years) or a number of seconds, above 0: the task falls due that "
                + "long after it is given; got -60"),
            ("inc:task{ title = 'x', due = 0 }", "above 0: the task falls due that long after it is given; got 0"),
            ("inc:task{ title = 'x', due = '0m' }", #"got "0m""#),
            ("inc:task{ title = 'x', due = -0.5 }", "got -0.5"),
            ("inc:task{ title = 'x', due = 1e300 }", "got 1e+300"),
            ("inc:task{ title = 'x', due = {} }", "got table"),
            // A misspelt field made a task for no one, or one without its choices, and the run went on.
            ("inc:task{ title = 'x', ownr = 'tier1' }", "playbooks/test.lua:3: incidents.task: unknown field ownr "
                + "(did you mean owner?): a task takes title, owner, due, description, choices"),
            ("inc:task{ title = 'x', choice = { 'a', 'b' } }", "unknown field choice (did you mean choices?)"),
            ("inc:update{ ownr = 'alice' }", "ownr (did you mean owner?) cannot be changed"),
            ("incidents.find{ typ = 'phishing' }", "unknown criterion typ (did you mean type?): use type,"),
            ("incidents.find{ since = 'ages' }", "since must be a duration"),
            // A note is at most 1 MiB: one of 100 MiB made the journal unreadable through a server.
            ("inc:note(('Z'):rep(100 * 1024 * 1024))", "the note is 104857600 bytes, over the limit of 1 MiB (1048576 "
                + "bytes): keep a large text as evidence (inc:evidence in a playbook, automator evidence add) and note its id"),
        ]
        for (line, message) in cases {
            let (run, _) = try await desk.run("return playbook {\n  name = 't', run = function(inc)\n    \(line)\n  end }")
            #expect(run.status == .failed)
            #expect(run.error?.contains(message) == true, "\(line): \(run.error ?? "")")
        }
        let (largest, journal) = try await desk.run(
            "return playbook { name = 't', run = function(inc) inc:note(('Z'):rep(1024 * 1024)) end }")
        #expect(largest.status == .completed, "\(largest.error ?? "")")
        #expect(journal.contains { $0.kind == .note && $0.text.utf8.count == 1 << 20 })
        let (notPlaybook, _) = try await desk.run("return { run = function() end }")
        #expect(notPlaybook.error?.hasPrefix("playbooks/test.lua must return playbook {") == true, "\(notPlaybook.error ?? "")")
    }

    @Test("A change the store refuses is an error the script can catch, and the run goes on")
    func refusedChange() async throws {
        let desk = try await Desk()
        let (run, journal) = try await desk.run("""
            return playbook { name = "t", run = function(inc)
              local ok, message = pcall(inc.link, inc, "INC-99")
              inc:note(message)
              return ok
            end }
            """)
        #expect(run.status == .completed, "\(run.error ?? "")")
        #expect(run.result == "[false]")
        #expect(journal.first { $0.kind == .note }?.text.contains("there is no incident INC-99") == true, "\(journal)")
    }

    @Test("Closing cancels the open tasks and stops the incident's other runs, whoever closes it")
    func closingEndsTheWork() async throws {
        let desk = try await Desk()
        let waiting = """
            return playbook { name = "t", run = function(inc)
              local contain = inc:task{ title = "Contain the host", owner = "tier2", due = "1h" }
              inc:task{ title = "Call the user" }
              contain:wait()
              inc:note("never reached")
            end }
            """
        /// Starts the waiting playbook on a new incident; returns them once both tasks exist.
        func started() async throws -> (IncidentID, RunID) {
            let id = try await desk.service.create(IncidentDraft(title: "Beacon", type: "c2", severity: .high), by: "test",
                                                   choosingPlaybook: false).incident.id
            let run = try await desk.service.runPlaybook(file: "playbooks/test.lua", source: Array(waiting.utf8), on: id,
                                                         by: "test")
            while try await desk.service.store.listTasks(TaskQuery(incident: id)).count < 2 {
                try await Task.sleep(for: .milliseconds(10))
            }
            return (id, run.id)
        }

        // A person closes it: the tasks are cancelled, the playbook's run is stopped, all journaled.
        let (first, firstRun) = try await started()
        #expect(try await desk.service.runs.runs(status: .waiting).map(\.id) == [firstRun], "on its tasks")
        var change = IncidentChange(first)
        change.status = .closed
        change.closeReason = "false positive: our scanner"
        _ = try await desk.service.update(change, by: "cli:alice")
        let stopped = try #require(try await desk.service.runs.run(firstRun))
        #expect(stopped.status == .killed && stopped.error?.hasPrefix("\(first) was closed by cli:alice at ") == true,
                "\(stopped)")
        let tasks = try await desk.service.store.listTasks(TaskQuery(incident: first))
        #expect(tasks.map(\.status) == [.cancelled, .cancelled] && tasks.allSatisfy { $0.completedBy == "cli:alice" })
        let journal = try await desk.service.store.journal(of: first).map(\.text)
        #expect(journal.contains("T-1 Contain the host: cancelled, the incident was closed"), "\(journal)")
        #expect(journal.contains { $0.hasPrefix("run \(firstRun) killed:") && $0.contains("\(first) was closed") }, "\(journal)")
        #expect(!journal.contains("never reached"))
        do {
            _ = try await desk.service.ledger.complete(TaskID(1), answer: "", by: "bob")
            Issue.record("a cancelled task was completed")
        } catch {
            #expect("\(error)".contains("task T-1 was cancelled: its incident \(first) was closed"), "\(error)")
        }

        // Another script closes it (as the bot's `!incident close` does): the same, and the closer goes on.
        let (second, secondRun) = try await started()
        let closer = try await desk.service.runs.submit(script: "close", source: Array("""
            incidents.get("\(second)"):close{ reason = "duplicate" }
            return "closed"
            """.utf8))
        await desk.service.runs.waitForEnd(closer.id)
        #expect(try await desk.service.runs.run(closer.id)?.result == #"["closed"]"#)
        #expect(try await desk.service.runs.run(secondRun)?.status == .killed)
        #expect(try await desk.service.store.listTasks(TaskQuery(incident: second, status: .open)).isEmpty)

        // A playbook that closes its own incident ends as it means to; its open task is cancelled.
        let (run, ownJournal) = try await desk.run("""
            return playbook { name = "t", run = function(inc)
              inc:task{ title = "Review later" }
              inc:close{ reason = "benign" }
              return "done"
            end }
            """)
        #expect(run.status == .completed && run.result == #"["done"]"#, "\(run.error ?? "")")
        #expect(ownJournal.map(\.text).contains { $0.hasSuffix("Review later: cancelled, the incident was closed") }, "\(ownJournal)")
    }

    @Test("A playbook's close that someone else's close beat ends its run killed by that close, not failed")
    func closedFirst() async throws {
        let desk = try await Desk()
        let id = try await desk.service.create(IncidentDraft(title: "Beacon", type: "c2", severity: .high), by: "test",
                                               choosingPlaybook: false).incident.id
        let run = try await desk.service.runPlaybook(file: "playbooks/test.lua", source: Array("""
            return playbook { name = "t", run = function(inc)
              time.sleep(0.5)
              inc:close{ reason = "benign" }
              inc:note("never reached")
            end }
            """.utf8), on: id, by: "test")
        // Closed as another worker closes it: in the store, with no kill heard here before the
        // playbook's own close is refused.
        var change = IncidentChange(id)
        change.status = .closed
        change.closeReason = "false positive"
        let entry = JournalEntry(incident: id, at: change.at, actor: "cli:alice", kind: .closed, text: "closed: false positive")
        try await desk.service.store.write(.all([.updateIncident(change), .appendJournal([entry])]))
        await desk.service.runs.waitForEnd(run.id)

        let ended = try #require(try await desk.service.runs.run(run.id))
        let when = JSONText.time(change.at).dropFirst().dropLast()
        #expect(ended.status == .killed && ended.error == "\(id) was closed by cli:alice at \(when)", "\(ended)")
        let incident = try await desk.service.load(id)
        #expect(incident.closeReason == "false positive" && incident.closedAt == change.at)
        let journal = try await desk.service.store.journal(of: id).map(\.text)
        #expect(!journal.contains("never reached") && journal.last == "run \(run.id) killed: \(ended.error ?? "")",
                "\(journal)")

        // A script on no incident (a chat command's) is no run of it: the refusal is its error.
        let script = try await desk.service.runs.submit(script: "close", source: Array("""
            incidents.get("\(id)"):close{ reason = "again" }
            """.utf8))
        await desk.service.runs.waitForEnd(script.id)
        let refused = try #require(try await desk.service.runs.run(script.id))
        #expect(refused.status == .failed && refused.error?.contains("\(id) is closed already") == true, "\(refused)")
    }
}
