import Foundation
import TestSupport
import Testing

@Suite("automator incident import: on a folder, and through a server", .timeLimit(.minutes(3)))
struct IncidentImportCommandTests {
    /// TheHive's closed incidents from March: the second line has no close.
    static let history = """
        {"title": "Phishing reported by jdoe", "type": "phishing", "severity": "high", "source": "thehive", "source_ref": "~1", "created_at": "2026-03-02T09:14:00Z", "responded_at": "2026-03-02T09:40:00Z", "closed_at": "2026-03-02T13:05:00Z", "close_reason": "resolved", "resolution": "false_positive"}
        {"title": "Still open there", "type": "phishing", "severity": "low", "source": "thehive", "source_ref": "~2", "created_at": "2026-03-03T10:00:00Z"}
        {"title": "Beaconing from web-03", "type": "malware", "severity": "critical", "source": "thehive", "source_ref": "~3", "created_at": "2026-03-04T08:00:00Z", "closed_at": "2026-03-04T11:00:00Z", "close_reason": "reimaged"}

        """

    @Test("On a folder: the summary, the refused line by its number and exit 1; again, nothing new; the journal says imported; a resolution is kept")
    func onAFolder() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        let file = try folder.write("history.jsonl", Self.history)
        let first = try await AutomatorProcess.run(["incident", "import", file, "--data", data])
        #expect(first.status == 1, "\(first.stderr)")
        #expect(first.stdout.contains("3 lines: 2 new, 0 already there, 1 refused"), "\(first.stdout)")
        #expect(first.stdout.contains(#"line 2: "closed_at": required: only closed incidents are imported"#))
        let again = try await AutomatorProcess.run(["incident", "import", file, "--data", data, "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(summary["new"] as? Int == 0 && summary["already"] as? Int == 2 && summary["refused"] as? Int == 1)
        let shown = try await AutomatorProcess.run(["incident", "show", "INC-2", "--data", data, "--json"])
        let journal = try #require((try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["journal"]
            as? [[String: Any]])
        #expect(journal.first?["kind"] as? String == "imported", "\(shown.stdout)")
        #expect((journal.first?["text"] as? String)?.hasPrefix("imported from \(file): thehive ~3") == true)

        // What TheHive said it was: kept, so that reports count the false positives of before.
        let phishing = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data", data, "--json"])
        let incident = try #require(try JSONSerialization.jsonObject(with: Data(phishing.stdout.utf8)) as? [String: Any])
        #expect(incident["resolution"] as? String == "false_positive", "\(phishing.stdout)")
        #expect((incident["journal"] as? [[String: Any]])?.last?["text"] as? String == "closed as false_positive: resolved")
        let unknown = try await AutomatorProcess.run(["incident", "import", "-", "--data", data], input: Self.history
            .replacingOccurrences(of: #""source_ref": "~1""#, with: #""source_ref": "~9""#)
            .replacingOccurrences(of: #""false_positive""#, with: #""duplicate""#))
        #expect(unknown.status == 1 && unknown.stdout.contains(#"line 1: "resolution": one of "#)
            && unknown.stdout.contains(#"expected, got "duplicate""#), "\(unknown.stdout)")
    }

    @Test("Two imports of one file at once, with no server: both finish, each incident is there once")
    func twoAtOnce() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        let lines = (1...800).map { number in
            #"{"title": "Phishing \#(number)", "type": "phishing", "severity": "low", "source": "thehive", "#
                + #""source_ref": "~\#(number)", "created_at": "2026-03-02T09:14:00Z", "#
                + #""closed_at": "2026-03-02T13:05:00Z", "close_reason": "resolved"}"#
        }
        let file = try folder.write("history.jsonl", lines.joined(separator: "\n") + "\n")
        // The store made first: two processes making one new database at once is another matter.
        _ = try await AutomatorProcess.run(["incident", "import", "-", "--data", data], input: lines[0] + "\n")
        async let first = AutomatorProcess.run(["incident", "import", file, "--data", data, "--json"])
        async let second = AutomatorProcess.run(["incident", "import", file, "--data", data, "--json"])
        var added = 0, already = 0
        for run in try await [first, second] {
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            added += summary["new"] as? Int ?? 0
            already += summary["already"] as? Int ?? 0
        }
        #expect(added == 799 && already == 801)
        let listed = try await AutomatorProcess.run(["incident", "list", "--status", "closed", "--limit", "1000",
                                                     "--data", data, "--json"])
        let answer = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
        let incidents = try #require(answer?["incidents"] as? [[String: Any]], "\(listed.stdout)\(listed.stderr)")
        #expect(Set(incidents.compactMap { $0["source_ref"] as? String }).count == 800 && incidents.count == 800)
    }

    @Test("Through a server: the import goes through its API; a dry run after it finds everything there")
    func throughAServer() async throws {
        let workspace = try IncidentServeTests.Workspace()
        let server = try await workspace.start()
        let data = workspace.data.path
        let imported = try await AutomatorProcess.run(["incident", "import", "-", "--data", data], input: Self.history)
        #expect(imported.status == 1 && imported.stdout.contains("3 lines: 2 new, 0 already there, 1 refused"),
                "\(imported.stdout)\(imported.stderr)")
        let dry = try await AutomatorProcess.run(["incident", "import", "-", "--data", data, "--dry-run"],
                                                 input: Self.history)
        #expect(dry.stdout.contains("3 lines: 0 would be new, 2 already there, 1 refused; a dry run"), "\(dry.stdout)")
        let listed = try await server.call("GET", "/api/v1/incidents?status=closed")
        #expect((listed.json["incidents"] as? [[String: Any]])?.count == 2)
        // No playbook started on them, though the catch-all matches every phishing incident.
        let runs = try await server.call("GET", "/api/v1/runs")
        #expect((runs.json["runs"] as? [Any])?.isEmpty == true, "\(runs.body)")
        let api = try await server.call("POST", "/api/v1/incidents/import?file=again.jsonl&first_line=10",
                                        body: "{\"title\": 1}\n")
        #expect(api.status == 200 && (api.json["refusals"] as? [[String: Any]])?.first?["line"] as? Int == 10, "\(api.body)")
    }

    @Test("A line with invalid UTF-8 is refused with its number, on a folder and through a server alike; the rest is imported")
    func invalidUTF8() async throws {
        // The first line's title has a byte that is no UTF-8 (0xFF), which a String would replace.
        var bytes = Array(Self.history.utf8)
        bytes.replaceSubrange(bytes.firstRange(of: Array("jdoe".utf8))!, with: [0x6A, 0xFF, 0x65])
        let workspace = try IncidentServeTests.Workspace()
        let file = workspace.folder.url.appendingPathComponent("history.jsonl")
        try Data(bytes).write(to: file)
        let onFolder = try await AutomatorProcess.run(["incident", "import", file.path, "--data",
                                                       workspace.folder.url.appendingPathComponent("alone").path])
        let server = try await workspace.start()
        let throughServer = try await AutomatorProcess.run(["incident", "import", file.path, "--data",
                                                            workspace.data.path])
        for run in [onFolder, throughServer] {
            #expect(run.status == 1 && run.stdout.contains("3 lines: 1 new, 0 already there, 2 refused"),
                    "\(run.stdout)\(run.stderr)")
            #expect(run.stdout.contains("line 1: the incident is not valid JSON (Invalid UTF-8"), "\(run.stdout)")
        }
        let listed = try await server.call("GET", "/api/v1/incidents?status=closed")
        #expect((listed.json["incidents"] as? [[String: Any]])?.compactMap { $0["source_ref"] as? String } == ["~3"])
    }
}
