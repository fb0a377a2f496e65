import Foundation
import TestSupport
import Testing

@Suite("automator incident close: a resolution, and the close hook on a folder with no server", .timeLimit(.minutes(2)))
struct IncidentCloseCommandTests {
    @Test("With no server, close --resolution keeps it, runs the hook once before the command ends, and show says both")
    func closeWithResolution() async throws {
        let folder = try TemporaryFolder()
        try folder.write("scripts/hooks/incident_closed.lua", """
            local inc = ...
            inc:note(("hook saw %s: %s"):format(inc.resolution, inc.close_reason))
            """)
        func automator(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(arguments + ["--data", "data", "--scripts", "scripts"], in: folder.url)
        }
        let created = try await automator(["incident", "create", "--title", "Scan", "--type", "network", "--severity", "low"])
        #expect(created.status == 0, "\(created.stderr)")

        let wrong = try await automator(["incident", "close", "INC-1", "--reason", "a scan", "--resolution", "fp"])
        #expect(wrong.status == 64 && wrong.stderr.contains("true_positive, benign, false_positive, undetermined"),
                "\(wrong.stderr)")

        let closed = try await automator(["incident", "close", "INC-1", "--reason", "an admin's scan", "--resolution", "benign"])
        #expect(closed.stdout == "INC-1 closed as benign (an admin's scan), owner -, low\n", "\(closed.stdout)\(closed.stderr)")
        let shown = try await automator(["incident", "show", "INC-1"])
        #expect(shown.stdout.contains("as benign: an admin's scan"), "\(shown.stdout)")
        #expect(shown.stdout.contains("hooks/incident_closed.lua, run "), "\(shown.stdout)")
        #expect(shown.stdout.contains(" completed"), "\(shown.stdout)")
        #expect(shown.stdout.components(separatedBy: "hook saw benign: an admin's scan").count == 2, "\(shown.stdout)")

        let json = try await automator(["incident", "show", "INC-1", "--json"])
        let incident = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(incident["resolution"] as? String == "benign")
        #expect((incident["close_hook"] as? [String: Any])?["status"] as? String == "completed", "\(json.stdout)")

        let reopened = try await automator(["incident", "update", "INC-1", "--status", "active"])
        #expect(reopened.stdout == "INC-1 active, owner -, low\n", "\(reopened.stdout)")
    }
}
