import Foundation
import Hummingbird
import TestSupport
import Testing

@Suite("Evidence through a real automator serve: a case's files, their custody, their content", .timeLimit(.minutes(3)))
struct EvidenceServeTests {
    @Test("GET …/incidents/ID/evidence lists the files with their hashes and custody; GET /evidence/ID shows the custody, noted as viewed; …/content streams the bytes, noted as exported, by the token's actor; the incident's JSON is the whole case")
    func evidenceRoutes() async throws {
        let firewall = ActionServeTests.FirewallAPI()
        let api = try await firewall.start()
        defer { api.stop() }
        let folder = try TemporaryFolder()
        _ = try folder.write("scripts/integrations/firewall.lua", ActionServeTests.firewall)
        let config = try folder.write("automator.yml", "actions:\n  protected: { networks: [10.0.0.0/8] }\n")
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"),
                                                   environment: ["FW_URL": api.url],
                                                   arguments: ["--executors", "1", "--config", config])
        let alice = try await PersonalTokenServeTests.add("alice", data: data)
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "C2 from web-1", "type": "c2", "severity": "high"}"#)
        let id = try #require(created.json["id"] as? String, "\(created.body)")

        // More than the vault's chunk of 1 MiB, so that the download takes several.
        var content = Data()
        for line in 0..<40_000 { content.append(Data("line \(line) of the proxy log, 198.51.100.7 beaconing\n".utf8)) }
        let file = folder.url.appendingPathComponent("proxy log.txt")
        try content.write(to: file)
        let added = try await AutomatorProcess.run(["evidence", "add", id, file.path, "--data", data.path],
                                                   environment: ["USER": "bob"])
        #expect(added.status == 0, "\(added.stderr)")
        let evidenceID = try #require(added.stdout.split(separator: " ").first.map(String.init))
        let planned = try await server.call("POST", "/api/v1/actions", body: """
            {"name": "firewall.block_ip", "params": {"ip": "198.51.100.7"}, "incident": "\(id)", "dry_run": true}
            """)
        #expect(planned.status == 200 || planned.status == 201, "\(planned.body)")

        let listed = try await server.call("GET", "/api/v1/incidents/\(id)/evidence", credentials: .bearer(alice))
        #expect(listed.status == 200, "\(listed.body)")
        let files = try #require(listed.json["evidence"] as? [[String: Any]], "\(listed.body)")
        #expect(files.count == 1)
        let listedFile = try #require(files.first)
        #expect(listedFile["id"] as? String == evidenceID && listedFile["name"] as? String == "proxy log.txt")
        #expect((listedFile["size"] as? NSNumber)?.intValue == content.count)
        #expect((listedFile["sha256"] as? String)?.count == 64 && listedFile["collected_by"] as? String == "cli:bob")
        #expect((listedFile["custody_events"] as? NSNumber)?.intValue == 1, "\(listed.body)")

        // The incident's JSON carries the same evidence, and the case's actions.
        let incident = try await server.call("GET", "/api/v1/incidents/\(id)").json
        let inCase = try #require(incident["evidence"] as? [[String: Any]], "\(incident)")
        #expect(inCase.first?["sha256"] as? String == listedFile["sha256"] as? String)
        let actions = try #require(incident["actions"] as? [[String: Any]], "\(incident)")
        #expect(actions.map { $0["name"] as? String } == ["firewall.block_ip"] && actions.first?["status"] as? String == "planned",
                "\(actions)")

        let shown = try await server.call("GET", "/api/v1/evidence/\(evidenceID)", credentials: .bearer(alice))
        #expect(shown.status == 200, "\(shown.body)")
        let custody = try #require(shown.json["custody"] as? [[String: Any]], "\(shown.body)")
        #expect(custody.map { "\($0["action"] ?? "") \($0["actor"] ?? "")" } == ["added cli:bob", "viewed api:alice"],
                "\(shown.body)")

        let download = try await server.call("GET", "/api/v1/evidence/\(evidenceID)/content", credentials: .bearer(alice))
        #expect(download.status == 200)
        #expect(Data(download.body.utf8) == content)
        #expect(download.headers["content-length"] == "\(content.count)")
        #expect(download.headers["content-disposition"] == #"attachment; filename="proxy_log.txt"; filename*=UTF-8''proxy%20log.txt"#,
                "\(download.headers)")
        #expect(download.headers["x-evidence-sha256"] == listedFile["sha256"] as? String)
        let after = try await server.call("GET", "/api/v1/incidents/\(id)/evidence").json
        let summary = try #require((after["evidence"] as? [[String: Any]])?.first, "\(after)")
        #expect((summary["custody_events"] as? NSNumber)?.intValue == 3)
        let last = try #require(summary["last_custody"] as? [String: Any], "\(summary)")
        #expect(last["action"] as? String == "exported" && last["actor"] as? String == "api:alice"
                && last["detail"] as? String == "download through the API", "\(last)")
        // The CLI's custody shows the same export.
        let got = try await AutomatorProcess.run(["evidence", "get", evidenceID, "--data", data.path])
        #expect(got.stdout.contains("exported  api:alice"), "\(got.stdout)")

        let unknown = try await server.call("GET", "/api/v1/evidence/EV-000000000000/content")
        #expect(unknown.status == 404 && unknown.body.contains("automator evidence list"), "\(unknown.body)")
        let noIncident = try await server.call("GET", "/api/v1/incidents/INC-999/evidence")
        #expect(noIncident.status == 404, "\(noIncident.body)")
    }
}
