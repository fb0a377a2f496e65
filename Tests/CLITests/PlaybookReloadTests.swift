import Foundation
import Testing

@Suite("A playbook edited under a running automator serve", .timeLimit(.minutes(2)))
struct PlaybookReloadTests {
    static func phishing(_ version: String) -> String {
        """
        return playbook {
          name = "Phishing triage", match = { type = "phishing" },
          run = function(inc) inc:note("\(version)") end,
        }
        """
    }

    /// The playbook `POST /api/v1/incidents` chose for a new phishing incident.
    static func chosen(_ server: ServerProcess) async throws -> String? {
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Invoice", "type": "phishing", "severity": "medium"}"#)
        #expect(created.status == 201, "\(created.body)")
        return created.json["playbook"] as? String
    }

    @Test("""
        An edit that does not load keeps the previous version in use, told once in the log, and in /healthz and \
        /metrics until the file loads; a new file that does not load is named there too
        """)
    func brokenEdit() async throws {
        let folder = try TemporaryFolder()
        let scripts = folder.url.appendingPathComponent("scripts")
        try folder.write("scripts/playbooks/phishing.lua", Self.phishing("v1"))
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"), scripts: scripts)
        #expect(try await Self.chosen(server) == "Phishing triage")
        #expect(try await server.call("GET", "/metrics").body
            .contains(#"automator_playbook_failing{file="playbooks/phishing.lua"} 0"#))

        try folder.write("scripts/playbooks/phishing.lua", "return playbook {\n  name = \"Phishing triage\",\n  match = = 1,\n}\n")
        try folder.write("scripts/playbooks/new.lua", "return playbook {\n  name = \"New\"\n  run = 1,\n}\n")
        let error = "playbooks/phishing.lua:3: unexpected symbol near '='"
        #expect(try await server.waitForLog("playbook did not load again: \(error) (the previous version stays in use "
                                            + "until the file loads)"), "\(server.log)")
        #expect(try await server.waitForLog("playbook not used: playbooks/new.lua:3:"), "\(server.log)")
        #expect(try await Self.chosen(server) == "Phishing triage", "the previous version still runs")

        let health = try await server.call("GET", "/healthz", credentials: .none)
        #expect(health.status == 200 && health.json["status"] as? String == "ok", "\(health.body)")
        let failing = try #require(health.json["playbooks_failing"] as? [[String: Any]], "\(health.body)")
        #expect(failing.map { $0["file"] as? String } == ["playbooks/new.lua", "playbooks/phishing.lua"])
        #expect(failing.last?["line"] as? Int == 3)
        #expect((failing.last?["error"] as? String)?.hasSuffix("(the previous version stays in use until the file loads)")
                == true, "\(health.body)")
        #expect((failing.first?["error"] as? String)?.contains("previous version") == false, "none was in use")
        let metrics = try await server.call("GET", "/metrics").body
        #expect(metrics.contains(#"automator_playbook_failing{file="playbooks/phishing.lua"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"automator_playbook_failing{file="playbooks/new.lua"} 1"#), "\(metrics)")

        // Another file's edit reads the folder again: the broken one is not told about again.
        try folder.write("scripts/playbooks/other.lua", #"return playbook { name = "Other", run = function() end }"#)
        #expect(try await Self.otherLoaded(server))
        #expect(server.log.components(separatedBy: error).count == 2, "told once: \(server.log)")

        // Fixed: its new version is used, and it is no longer failing.
        try folder.write("scripts/playbooks/phishing.lua", Self.phishing("version 2"))
        try FileManager.default.removeItem(at: scripts.appendingPathComponent("playbooks/new.lua"))
        var healthy = try await server.call("GET", "/healthz", credentials: .none)
        for _ in 0..<300 where !((healthy.json["playbooks_failing"] as? [Any])?.isEmpty ?? false) {
            try await Task.sleep(for: .milliseconds(50))
            healthy = try await server.call("GET", "/healthz", credentials: .none)
        }
        #expect((healthy.json["playbooks_failing"] as? [Any])?.isEmpty == true, "\(healthy.body)")
        let after = try await server.call("GET", "/metrics").body
        #expect(after.contains(#"automator_playbook_failing{file="playbooks/phishing.lua"} 0"#), "\(after)")
        #expect(!after.contains("playbooks/new.lua"), "a file gone is no longer counted")
    }

    /// Whether the server lists the playbook Other.
    static func otherLoaded(_ server: ServerProcess) async throws -> Bool {
        for _ in 0..<300 {
            let list = try await server.call("GET", "/api/v1/playbooks").json["playbooks"] as? [[String: Any]] ?? []
            if list.contains(where: { $0["name"] as? String == "Other" }) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
