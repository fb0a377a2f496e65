import Foundation
import TestSupport
import Testing

@Suite("The bot in Slack, through a real automator serve and a fake Slack on loopback", .timeLimit(.minutes(2)))
struct ChatServeTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    /// A signed `event_callback` of a message by `user` in `channel`.
    static func message(_ text: String, ts: String, channel: String = "C0SOC", user: String = "U0ALICE",
                        event id: String) -> String
    {
        let event: [String: Any] = ["type": "message", "channel": channel, "channel_type": "channel", "user": user,
                                    "text": text, "ts": ts, "event_ts": ts]
        let envelope: [String: Any] = ["type": "event_callback", "team_id": "T0EXAMPLE", "api_app_id": "A0APP",
                                       "event": event, "event_id": id, "event_time": 1_700_000_000]
        return String(decoding: try! JSONSerialization.data(withJSONObject: envelope), as: UTF8.self)
    }

    static func signed(_ body: String) -> [String: String] {
        FakeSlack.signatureHeaders(for: body).merging(["Content-Type": "application/json"]) { $1 }
    }

    /// The messages the bot posted, once `until` holds for them (or after 20 s).
    static func posts(_ slack: FakeSlack, until done: ([FakeSlack.Call]) -> Bool) async throws -> [FakeSlack.Call] {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let posts = slack.calls("chat.postMessage")
            if done(posts) { return posts }
            try await Task.sleep(for: .milliseconds(20))
        }
        return slack.calls("chat.postMessage")
    }

    @Test("A message in a watched channel is checked and answered in its thread; a button approves a waiting run")
    func slack() async throws {
        let slack = try await FakeSlack()
        let folder = try TemporaryFolder()
        try folder.write("feeds/bad.txt", "203.0.113.45 C2 of the Acme campaign\n")
        try folder.write("automator.yml", """
            feeds:
              - { name: bad-ips, path: feeds/bad.txt, verdict: malicious }
            chat:
              roles:
                approver: [alice]
              slack:
                signing_secret: \(FakeSlack.signingSecret)
                bot_token: \(FakeSlack.token)
                api_url: \(slack.apiURL)
            """)
        let server = try await ServerProcess.start(
            data: folder.url.appendingPathComponent("data"), scripts: Self.scripts,
            arguments: ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path])

        // A forged request is refused; Slack's challenge is answered.
        let forged = Self.message("!ip 203.0.113.45", ts: "1700000001.000100", event: "Ev0")
        var headers = Self.signed(forged)
        headers["X-Slack-Signature"] = "v0=" + String(repeating: "0", count: 64)
        #expect(try await server.call("POST", "/slack/events", body: forged, credentials: .none, headers: headers).status == 401)
        let challenge = #"{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#
        let answered = try await server.call("POST", "/slack/events", body: challenge, credentials: .none,
                                             headers: Self.signed(challenge))
        #expect(answered.body.contains("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))

        // A command in the channel, delivered twice by Slack's retry, is answered once in its thread.
        let command = Self.message("!ip 203.0.113.45", ts: "1700000002.000200", event: "Ev1")
        for retry in ["", "1"] {
            var headers = Self.signed(command)
            if !retry.isEmpty { headers["X-Slack-Retry-Num"] = retry }
            #expect(try await server.call("POST", "/slack/events", body: command, credentials: .none, headers: headers)
                .status == 200)
        }
        let answers = try await Self.posts(slack) { !$0.isEmpty }
        #expect(answers.count == 1)
        #expect(answers.first?.arguments["thread_ts"] == "1700000002.000200")
        #expect(answers.first?.arguments["text"]?.contains("malicious") == true)
        #expect(answers.first?.arguments["text"]?.contains("C2 of the Acme campaign") == true)

        // A run asks for an approval: buttons in #soc; bob's click is refused, alice's resumes it.
        let run = try await server.submit(#"{"source": "return chat.approve('#soc', 'Block 203.0.113.45?')"}"#)
        let question = try #require(try await Self.posts(slack) { $0.count == 2 }.last)
        #expect(question.arguments["channel"] == "C0SOC" && question.body.contains("automator.answer."))
        let blocks = try JSONSerialization.jsonObject(with: Data(question.body.utf8)) as? [String: Any]
        let buttons = ((blocks?["blocks"] as? [[String: Any]])?.last?["elements"] as? [[String: Any]]) ?? []
        let approve = try #require(buttons.first { $0["value"] as? String != nil && ($0["value"] as! String).contains("approve") })
        for (user, name) in [("U0BOB", "bob"), ("U0ALICE", "alice")] {
            let payload: [String: Any] = [
                "type": "block_actions", "user": ["id": user, "username": name], "channel": ["id": "C0SOC", "name": "soc"],
                "message": ["ts": "1700000100.000200"], "container": ["message_ts": "1700000100.000200"],
                "actions": [["action_id": approve["action_id"]!, "value": approve["value"]!, "type": "button"]],
            ]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
            let form = "payload=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            var headers = FakeSlack.signatureHeaders(for: form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            #expect(try await server.call("POST", "/slack/interactions", body: form, credentials: .none, headers: headers)
                .status == 200)
            if name == "bob" {
                let refusal = try await Self.posts(slack) { $0.count == 3 }.last?.arguments["text"] ?? ""
                #expect(refusal.contains("only people with the role approver"), "\(refusal)")
            }
        }
        let ended = try await server.waitForRun(run)
        #expect(ended["status"] as? String == "completed", "\(ended)")
        #expect("\(ended["result"] ?? "")".contains("slack:alice"), "\(ended)")
        server.terminate()
        _ = await server.waitForExit()
    }
}
