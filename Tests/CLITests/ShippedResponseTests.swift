import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

@Suite("The shipped playbooks act through their integrations on automator serve, and undo when people are done",
       .serialized, .timeLimit(.minutes(3)))
struct ShippedResponseTests {
    /// CrowdStrike Falcon's API on loopback: the OAuth2 token, and devices-actions v2, whose
    /// action names it records.
    final class Falcon: Sendable {
        private let actions = Mutex<[String]>([])
        var sent: [String] { actions.withLock { $0 } }

        func start() async throws -> LoopbackServer {
            let router = Router()
            router.post("/oauth2/token") { _, _ -> Response in
                Self.json(#"{"access_token": "falcon-token", "token_type": "bearer", "expires_in": 1799}"#, .created)
            }
            router.post("/devices/entities/devices-actions/v2") { request, _ -> Response in
                let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
                guard request.headers[.authorization] == "Bearer falcon-token" else {
                    return Self.json(#"{"errors": [{"code": 401, "message": "access denied"}]}"#, .unauthorized)
                }
                self.actions.withLock { $0.append("\(request.uri.queryParameters["action_name"] ?? "?") \(body)") }
                return Self.json(#"{"resources": [{"id": "d"}], "errors": []}"#, .accepted)
            }
            return try await LoopbackServer(router)
        }

        static func json(_ text: String, _ status: HTTPResponse.Status) -> Response {
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// Polls `condition` for a few seconds.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<500 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test("malware.lua: an approver's yes contains the host through Falcon, tier 2's cleaning lifts it")
    func malwareContainsAndLifts() async throws {
        let falcon = Falcon()
        let api = try await falcon.start()
        defer { api.stop() }
        let folder = try TemporaryFolder()
        let config = try folder.write("automator.yml", """
            integrations:
              crowdstrike: { base_url: "\(api.url)", client_id: falcon-client, client_secret: falcon-secret }
            actions:
              approval: { risk: high, channel: "#soc", timeout: 1h }
            """)
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: PlaybookTrialTests.scripts,
                                                   arguments: ["--executors", "1", "--config", config])
        let incident = try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent(
            "examples/incidents/malware.json"), encoding: .utf8)
        #expect(try await server.call("POST", "/api/v1/incidents", body: incident).status == 201)

        // The containment is critical: it waits for an approver, and nothing is sent before.
        var question: String?
        #expect(try await Self.eventually {
            let questions = try await server.call("GET", "/api/v1/questions?incident=INC-1").json["questions"] as? [[String: Any]]
            question = questions?.first?["id"] as? String
            return question != nil
        })
        #expect(falcon.sent.isEmpty)
        let answered = try await server.call("POST", "/api/v1/questions/\(try #require(question))/answer",
                                             body: #"{"choice": "approve", "by": "alice"}"#)
        #expect(answered.status == 200, "\(answered.body)")
        #expect(try await Self.eventually { falcon.sent.count == 1 })
        #expect(falcon.sent == [#"contain {"ids":["5e0b8f13-6c24-4a9d-b7e1-92d4f0a3c658"]}"#])

        // No isolation task: only the cleaning, which says the containment is lifted after it.
        var tasks: [[String: Any]] = []
        #expect(try await Self.eventually {
            tasks = try await server.call("GET", "/api/v1/tasks?status=open").json["tasks"] as? [[String: Any]] ?? []
            return !tasks.isEmpty
        })
        #expect(tasks.map { $0["title"] as? String } == ["Reimage or clean WS-FIN-0231"])
        #expect((tasks.first?["description"] as? String)?.contains("Automator lifts the EDR's containment") == true)
        let id = try #require(tasks.first?["id"] as? String)
        #expect(try await server.call("POST", "/api/v1/tasks/\(id)/complete",
                                      body: #"{"answer": "reimaged", "by": "bob"}"#).status == 200)
        #expect(try await Self.eventually { falcon.sent.count == 2 })
        #expect(falcon.sent.last == #"lift_containment {"ids":["5e0b8f13-6c24-4a9d-b7e1-92d4f0a3c658"]}"#)
        #expect(try await Self.eventually {
            try await server.call("GET", "/api/v1/incidents/INC-1").json["status"] as? String == "closed"
        })
        let journal = try await server.call("GET", "/api/v1/incidents/INC-1/journal").body
        #expect(journal.contains("Host WS-FIN-0231 contained by the EDR (ACT-"), "\(journal)")
        #expect(journal.contains("undone by playbook"), "\(journal)")
        server.terminate()
        _ = await server.waitForExit()
    }
}
