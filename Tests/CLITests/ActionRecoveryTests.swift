import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

@Suite("Actions across a SIGKILL of automator serve", .serialized, .timeLimit(.minutes(3)))
struct ActionRecoveryTests {
    static let firewall = #"""
        return integration {
          name = "Test firewall",
          config = { base_url = { required = true } },
          actions = {
            block_ip = {
              risk = "high", params = { ip = { type = "ip", required = true } },
              run = function(params, context)
                local response = http.post(context.config.base_url .. "/block", json.encode(params),
                                           { headers = { ["idempotency-key"] = context.idempotency_key } })
                return json.decode(response.body)
              end,
            },
          },
        }
        """#

    static let playbook = #"""
        return playbook {
          name = "Block C2",
          match = { type = "c2" },
          run = function(inc)
            local done = actions.run("firewall.block_ip", { ip = "198.51.100.7" }, { incident = inc })
            inc:note("blocked: " .. done.status)
          end,
        }
        """#

    @Test("Approved, sent, killed before the answer was kept: the restart asks nothing and sends once more with the same key")
    func sigkillBetweenApprovalAndAnswer() async throws {
        let keys = Mutex<[String]>([])
        let hanging = Mutex(true)
        let router = Router()
        router.post("/block") { request, _ -> Response in
            let key = request.headers.first(where: { $0.name.canonicalName == "idempotency-key" })?.value ?? ""
            keys.withLock { $0.append(key) }
            if hanging.withLock({ $0 }) { try await Task.sleep(for: .seconds(120)) }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"rule": "r-1"}"#)))
        }
        let firewall = try await LoopbackServer(router)
        defer { firewall.stop() }
        let slack = try await FakeSlack()
        let folder = try TemporaryFolder()
        _ = try folder.write("scripts/integrations/firewall.lua", Self.firewall)
        _ = try folder.write("scripts/playbooks/block.lua", Self.playbook)
        let config = try folder.write("automator.yml", """
            integrations:
              firewall: { base_url: "\(firewall.url)" }
            actions:
              approval: { channel: "#soc" }
            chat:
              roles: { approver: [alice] }
              slack:
                signing_secret: \(FakeSlack.signingSecret)
                bot_token: \(FakeSlack.token)
                api_url: \(slack.apiURL)
            """)
        let data = folder.url.appendingPathComponent("data")
        let scripts = folder.url.appendingPathComponent("scripts")
        let arguments = ["--executors", "1", "--config", config]
        let first = try await ServerProcess.start(data: data, scripts: scripts, arguments: arguments)
        let created = try await first.call("POST", "/api/v1/incidents",
                                           body: #"{"title": "C2 at 198.51.100.7", "type": "c2", "severity": "high"}"#)
        #expect(created.status == 201, "\(created.body)")
        var question: String?
        for _ in 0..<500 where question == nil {
            question = slack.calls("chat.postMessage").lazy.compactMap { post in
                post.body.range(of: "Q-[0-9a-f]{8}", options: .regularExpression).map { String(post.body[$0]) }
            }.first
            try await Task.sleep(for: .milliseconds(20))
        }
        let id = try #require(question)
        #expect(try await first.call("POST", "/api/v1/questions/\(id)/answer", body: #"{"choice": "approve"}"#).status == 200)
        for _ in 0..<500 where keys.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(keys.withLock { $0.count } == 1, "sent, and held by the firewall")
        first.kill()
        #expect(await first.waitForExit() == SIGKILL)

        hanging.withLock { $0 = false }
        let second = try await ServerProcess.start(data: data, scripts: scripts, arguments: arguments)
        var journal = ""
        for _ in 0..<500 where !journal.contains("blocked: done") {
            journal = try await second.call("GET", "/api/v1/incidents/INC-1/journal").body
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(journal.contains("blocked: done"), "\(journal)")
        let sent = keys.withLock { $0 }
        #expect(sent.count == 2 && Set(sent).count == 1, "sent again, with the same idempotency key: \(sent)")
        let questions = slack.calls("chat.postMessage").filter { $0.body.contains("Approve firewall.block_ip") }
        #expect(questions.count == 1, "the approval is not asked again")
        #expect(journal.contains("approved by api"), "\(journal)")
        second.terminate()
        _ = await second.waitForExit()
    }

    @Test("An approval nobody answers times out across restarts of serve: its journal entry is written once")
    func approvalTimeoutJournaledOnce() async throws {
        let folder = try TemporaryFolder()
        _ = try folder.write("scripts/integrations/firewall.lua", Self.firewall)
        _ = try folder.write("scripts/playbooks/block.lua", #"""
            return playbook {
              name = "Block C2",
              match = { type = "c2" },
              run = function(inc)
                local done, why = actions.run("firewall.block_ip", { ip = "198.51.100.7" }, { incident = inc })
                inc:note(done and "blocked" or ("not blocked: " .. why))
              end,
            }
            """#)
        // No chat network: the question is kept unposted, and waits all the same.
        let config = try folder.write("automator.yml", """
            integrations:
              firewall: { base_url: "http://127.0.0.1:9" }
            actions:
              approval: { channel: "#soc", timeout: 2s }
            chat:
              roles: { approver: [alice] }
            """)
        let data = folder.url.appendingPathComponent("data")
        let scripts = folder.url.appendingPathComponent("scripts")
        let arguments = ["--executors", "1", "--config", config]
        let first = try await ServerProcess.start(data: data, scripts: scripts, arguments: arguments)
        #expect(try await first.call("POST", "/api/v1/incidents",
                                     body: #"{"title": "C2 at 198.51.100.7", "type": "c2", "severity": "high"}"#).status == 201)
        var journal = ""
        for _ in 0..<500 where !journal.contains("asked Q-") {
            journal = try await first.call("GET", "/api/v1/incidents/INC-1/journal").body
            try await Task.sleep(for: .milliseconds(20))
        }
        let question = try #require(journal.range(of: "Q-[0-9a-f]{8}", options: .regularExpression).map { String(journal[$0]) })
        first.kill()
        #expect(await first.waitForExit() == SIGKILL)

        // The run waits again after the restart, on the same question and deadline, and is told no.
        let second = try await ServerProcess.start(data: data, scripts: scripts, arguments: arguments)
        for _ in 0..<500 where !journal.contains("not blocked: nobody approved it in time") {
            journal = try await second.call("GET", "/api/v1/incidents/INC-1/journal").body
            try await Task.sleep(for: .milliseconds(20))
        }
        let entry = "\(question) timed out, not approved: nobody answered by "
        #expect(journal.components(separatedBy: entry).count == 2, "once: \(journal)")
        #expect(journal.contains("; asked the role approver in #soc at "), "who was asked, where and when: \(journal)")
        second.terminate()
        _ = await second.waitForExit()

        let third = try await ServerProcess.start(data: data, scripts: scripts, arguments: arguments)
        journal = try await third.call("GET", "/api/v1/incidents/INC-1/journal").body
        #expect(journal.components(separatedBy: entry).count == 2, "still once after another restart: \(journal)")
        #expect(journal.components(separatedBy: "not blocked: nobody approved it in time").count == 2, "\(journal)")
        third.terminate()
        _ = await third.waitForExit()
    }
}
