import AutomatorRuntime
import Foundation
import GRDB
import Testing

/// A run that acted replays as it ran after the settings change (a restart, a reload): its
/// replay does not check again what its record holds.
@Suite("Actions in a replay: the settings of the run's first life, not today's")
struct ActionReplayTests {
    /// The playbook blocks the address with a standing approval, then waits on a question.
    static let blockThenAsk = """
        local done, why = actions.run("firewall.block_ip", { ip = "198.51.100.7", reason = "C2" }, { incident = inc })
        inc:note("blocked: " .. (done and done.status or why))
        chat.ask("#soc", "Go on?", { "yes" })
        inc:note("then")
        """

    /// The scene's settings, with 198.51.100.0/24 protected since, and approvals asked elsewhere.
    static func changed(approvalRisk: ActionRisk? = .high) -> ActionConfiguration {
        var configuration = ActionTests.configuration()
        configuration.protectedNetworks.append("198.51.100.0/24")
        configuration.approvalChannel = "#changed"
        configuration.approvalTimeout = 600
        configuration.approvalRisk = approvalRisk
        return configuration
    }

    /// Opens an incident for the scene's playbook, stops once the run asked its first question,
    /// does `meanwhile` with the run's id, starts again with `configuration` (the scene's when nil)
    /// and gives `answer`: the responder, the incident, and the run as it ended.
    static func restarted(_ scene: ActionTests.Scene, with configuration: ActionConfiguration? = nil, answer: String,
                          meanwhile: (RunID) async throws -> Void = { _ in }) async throws
        -> (ActionTests.Responder, IncidentID, RunRecord)
    {
        let first = try await scene.responder()
        let (incident, run) = try await first.open()
        let id = try #require(run).id
        _ = try await first.question()
        await first.stop()
        try await meanwhile(id)
        let responder = if let configuration {
            try await ActionTests.Responder(folder: scene.folder, api: scene.api, configuration: configuration)
        } else {
            try await scene.responder()
        }
        await responder.answer(answer)
        await responder.incidents.runs.waitForEnd(id)
        return (responder, incident, try #require(try await responder.incidents.runs.run(id)))
    }

    @Test("An address protected after it was blocked: a waiting run's replay goes on, and nothing is sent again")
    func protectedSince() async throws {
        let scene = try await ActionTests.Scene(approvals: nil)
        try ActionTests.playbook(in: scene.folder, approvals: #"approvals = { "firewall.block_ip" },"#,
                                 running: Self.blockThenAsk)
        let (responder, incident, ended) = try await Self.restarted(scene, with: Self.changed(), answer: "yes")
        #expect(ended.status == .completed, "\(ended.status): \(ended.error ?? "")")
        #expect(try await responder.notes(incident) == ["blocked: done", "then"])
        #expect(scene.firewall.paths == ["/block"], "sent once, in the first life")
        await responder.stop()
    }

    @Test("An approval asked before the approval's channel, timeout and risk changed: answered after the restart, it is the run's")
    func approvalSettingsChanged() async throws {
        let scene = try await ActionTests.Scene(approvals: nil)
        try ActionTests.playbook(in: scene.folder, running: """
            local done, why = actions.run("firewall.block_ip", { ip = "203.0.113.9", reason = "C2" }, { incident = inc })
            inc:note("blocked: " .. (done and done.status or why))
            """)
        // Approvals now for critical risk alone, asked elsewhere with another timeout: the replay
        // waits for the question asked, and the send checks today's settings, which allow it.
        let (responder, incident, ended) = try await Self.restarted(scene, with: Self.changed(approvalRisk: .critical),
                                                                    answer: "approve")
        #expect(ended.status == .completed, "\(ended.status): \(ended.error ?? "")")
        #expect(try await responder.notes(incident) == ["blocked: done"])
        #expect(scene.firewall.paths == ["/block"])
        #expect(try await responder.actions.history(on: incident).first?.approvedBy == "test:alice",
                "approved by the answer to the question asked before the restart")
        await responder.stop()
    }

    @Test("A run recorded before plans were recorded replays with its record, checking the plan again")
    func recordedBeforePlans() async throws {
        let scene = try await ActionTests.Scene(approvals: nil)
        try ActionTests.playbook(in: scene.folder, approvals: #"approvals = { "firewall.block_ip" },"#,
                                 running: Self.blockThenAsk)
        let (responder, incident, ended) = try await Self.restarted(scene, answer: "yes") { _ in
            let queue = try DatabaseQueue(path: scene.folder.path + "/data/automator.sqlite")
            let names = try await queue.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM host_call ORDER BY sequence")
            }
            #expect(names.prefix(2) == ["actions.run", "actions.perform"], "the plan is recorded first: \(names)")
            // The record as a version that did not record the plan left it: the perform is call 1.
            try await queue.write { db in
                try db.execute(sql: "DELETE FROM host_call WHERE name = 'actions.run'")
                // In two steps: the key (run, sequence) is unique at each row's update.
                try db.execute(sql: "UPDATE host_call SET sequence = sequence + 100")
                try db.execute(sql: "UPDATE host_call SET sequence = sequence - 101")
            }
            try queue.close()
        }
        #expect(ended.status == .completed, "\(ended.status): \(ended.error ?? "")")
        #expect(try await responder.notes(incident) == ["blocked: done", "then"])
        #expect(scene.firewall.paths == ["/block"])
        await responder.stop()
    }

    @Test("A refusal is not recorded: the run retried with its script fixed sends the action")
    func refusalRetried() async throws {
        let scene = try await ActionTests.Scene(approvals: nil)
        let responder = try await scene.responder()
        let blocking = { (network: String) in Array("""
            return actions.run("firewall.block_network", { network = "\(network)" }).status
            """.utf8) }
        let run = try await responder.incidents.runs.submit(script: "block.lua", source: blocking("10.0.0.0/16"))
        await responder.incidents.runs.waitForEnd(run.id)
        let refused = try #require(try await responder.incidents.runs.run(run.id))
        #expect(refused.status == .failed && refused.error?.contains("protected network 10.0.0.0/8") == true,
                "\(refused.error ?? "")")
        #expect(try await responder.store.hostCalls(of: run.id).isEmpty)

        _ = try await responder.incidents.runs.retry(run.id, source: blocking("198.51.100.0/24"))
        await responder.incidents.runs.waitForEnd(run.id)
        let retried = try #require(try await responder.incidents.runs.run(run.id))
        #expect(retried.status == .completed && retried.result == #"["done"]"#, "\(retried.status): \(retried.error ?? "")")
        #expect(scene.firewall.paths == ["/block"])
        await responder.stop()
    }

    @Test("An address protected while its approval waited is not blocked when the approval comes after a restart")
    func protectedWhileWaiting() async throws {
        let scene = try await ActionTests.Scene(approvals: nil)
        try ActionTests.playbook(in: scene.folder, running: """
            local done, why = actions.run("firewall.block_ip", { ip = "198.51.100.7", reason = "C2" }, { incident = inc })
            inc:note("blocked: " .. (done and done.status or why))
            """)
        let (responder, incident, ended) = try await Self.restarted(scene, with: Self.changed(), answer: "approve")
        #expect(ended.status == .failed && ended.error?.contains("protected network 198.51.100.0/24") == true,
                "\(ended.status): \(ended.error ?? "")")
        #expect(scene.firewall.paths.isEmpty)
        #expect(try await responder.notes(incident).isEmpty)
        let kept = try await responder.actions.history(on: incident).first
        #expect(kept?.status == .refused && kept?.result?.contains("protected network 198.51.100.0/24") == true,
                "the refusal is kept for the report and the audit: \(String(describing: kept))")
        await responder.stop()
    }
}
