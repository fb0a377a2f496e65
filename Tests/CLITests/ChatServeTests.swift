import Foundation
import TestSupport
import Testing

@Suite("The bot in Slack, through a real automator serve and a fake Slack on loopback", .timeLimit(.minutes(2)))
struct ChatServeTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    /// A signed `event_callback` of a message by `user` in `channel`.
    static func message(_ text: String, ts: String, channel: String = "C0SOC", user: String = "U0ALICE",
                        event id: String, files: [[String: Any]]? = nil) -> String
    {
        var event: [String: Any] = ["type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
                                    "event_ts": ts, "channel_type": channel.hasPrefix("D") ? "im" : "channel"]
        if let files {
            event["subtype"] = "file_share"
            event["files"] = files
        }
        let envelope: [String: Any] = ["type": "event_callback", "team_id": "T0EXAMPLE", "api_app_id": "A0APP",
                                       "event": event, "event_id": id, "event_time": 1_700_000_000]
        return String(decoding: try! JSONSerialization.data(withJSONObject: envelope), as: UTF8.self)
    }

    static func signed(_ body: String) -> [String: String] {
        FakeSlack.signatureHeaders(for: body).merging(["Content-Type": "application/json"]) { $1 }
    }

    /// The messages the bot posted, once `until` holds for them (or after `timeout` seconds).
    static func posts(_ slack: FakeSlack, timeout: TimeInterval = 20, until done: ([FakeSlack.Call]) -> Bool)
        async throws -> [FakeSlack.Call]
    {
        try await eventually(timeout: timeout, done) { slack.calls("chat.postMessage") }
    }

    /// `read()` once `done` holds for it, or after `timeout` seconds.
    static func eventually<Value>(timeout: TimeInterval, _ done: (Value) -> Bool, _ read: () -> Value) async throws -> Value {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, !done(read()) { try await Task.sleep(for: .milliseconds(20)) }
        return read()
    }

    /// A slash command `/automator TEXT` of alice's in #soc, as Slack's form.
    static func slashCommand(_ text: String, responseURL: String) -> String {
        [("team_id", "T0EXAMPLE"), ("channel_id", "C0SOC"), ("channel_name", "soc"), ("user_id", "U0ALICE"),
         ("user_name", "alice"), ("command", "/automator"), ("text", text), ("response_url", responseURL),
         ("trigger_id", "13345224609.738474920.8088930838d88f008e0")]
            .map { $0 + "=" + $1.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }.joined(separator: "&")
    }

    /// The answers to slash commands, once `until` holds for them (or after `timeout` seconds).
    static func commandAnswers(_ slack: FakeSlack, timeout: TimeInterval = 20,
                               until done: ([FakeSlack.CommandAnswer]) -> Bool) async throws -> [FakeSlack.CommandAnswer]
    {
        try await eventually(timeout: timeout, done) { slack.commandAnswers }
    }

    /// `automator serve` whose configuration has the bad-ips feed and `chat` (the section's body,
    /// indented), and the folder that holds them.
    static func serve(chat: String, environment: [String: String] = [:]) async throws -> (ServerProcess, TemporaryFolder) {
        let folder = try TemporaryFolder()
        try folder.write("feeds/bad.txt", "203.0.113.45 C2 of the Acme campaign\n")
        try folder.write("automator.yml", """
            feeds:
              - { name: bad-ips, path: feeds/bad.txt, verdict: malicious }
            chat:

            """ + chat)
        let server = try await ServerProcess.start(
            data: folder.url.appendingPathComponent("data"), scripts: Self.scripts, environment: environment,
            arguments: ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path])
        return (server, folder)
    }

    /// The approve button of a question the bot posted.
    static func approveButton(of question: FakeSlack.Call) throws -> [String: Any] {
        let blocks = try JSONSerialization.jsonObject(with: Data(question.body.utf8)) as? [String: Any]
        let buttons = ((blocks?["blocks"] as? [[String: Any]])?.last?["elements"] as? [[String: Any]]) ?? []
        return try #require(buttons.first { ($0["value"] as? String)?.contains("approve") == true }, "\(question.body)")
    }

    /// A signed click of `button` in #soc by the Slack user `user` (`name`), as Slack sends it.
    static func click(_ button: [String: Any], by user: String, _ name: String, on server: ServerProcess) async throws
        -> ServerProcess.Answer
    {
        let payload: [String: Any] = [
            "type": "block_actions", "user": ["id": user, "username": name], "channel": ["id": "C0SOC", "name": "soc"],
            "message": ["ts": "1700000100.000200"], "container": ["message_ts": "1700000100.000200"],
            "actions": [["action_id": button["action_id"]!, "value": button["value"]!, "type": "button"]],
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
        let form = "payload=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        var headers = FakeSlack.signatureHeaders(for: form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return try await server.call("POST", "/slack/interactions", body: form, credentials: .none, headers: headers)
    }

    @Test("With no approver named, serve warns at start, a click in Slack is refused saying who answers, and the run waits for the operator's automator question answer")
    func noApprover() async throws {
        let slack = try await FakeSlack()
        let (server, folder) = try await Self.serve(chat: """
              roles:
                analyst: [alice]
              slack:
                signing_secret: \(FakeSlack.signingSecret)
                bot_token: \(FakeSlack.token)
                api_url: \(slack.apiURL)
            """)
        defer { withExtendedLifetime(folder) {} }
        #expect(server.log.contains("chat: chat.roles.approver names no one, so no one in Slack may approve: approvals "
            + "wait for an operator"), "\(server.log)")

        let run = try await server.submit(#"{"source": "return chat.approve('#soc', 'Block 203.0.113.45?')"}"#)
        let question = try #require(try await Self.posts(slack) { $0.count == 1 }.last)
        let id = try #require(question.body.firstMatch(of: /Q-[0-9a-f]{8}/).map { String($0.output) }, "\(question.body)")
        #expect(question.arguments["text"]?.contains("(approver only); no one has that role yet: an operator answers "
            + "with automator question answer \(id) CHOICE (approve or deny)") == true, "\(question.body)")

        // alice is in #soc, and an analyst: her click approves nothing.
        #expect(try await Self.click(try Self.approveButton(of: question), by: "U0ALICE", "alice", on: server).status == 200)
        let refusal = try await Self.posts(slack) { $0.count == 2 }.last?.arguments["text"] ?? ""
        #expect(refusal.contains("alice, no one has the role approver yet: chat.roles.approver in the server's "
            + "configuration (--config) names them; meanwhile an operator answers with automator question answer \(id)"),
                "\(refusal)")
        #expect(try await server.waitForLog("refused to slack:alice, who has no role approver"), "\(server.log)")
        #expect(try await server.call("GET", "/api/v1/runs/\(run)").json["status"] as? String == "waiting")

        let answered = try await AutomatorProcess.run(["question", "answer", id, "approve", "--by", "carol",
                                                       "--data", server.data.path])
        #expect(answered.status == 0, "\(answered.stdout)\(answered.stderr)")
        let ended = try await server.waitForRun(run)
        #expect(ended["status"] as? String == "completed" && "\(ended["result"] ?? "")".contains("cli:carol"), "\(ended)")
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("A message in a watched channel is checked and answered in its thread; a button approves a waiting run")
    func slack() async throws {
        let slack = try await FakeSlack()
        let (server, folder) = try await Self.serve(chat: """
              roles:
                analyst: [alice]
                approver: [alice]
              slack:
                signing_secret: \(FakeSlack.signingSecret)
                bot_token: \(FakeSlack.token)
                api_url: \(slack.apiURL)
            """)
        defer { withExtendedLifetime(folder) {} }

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

        // The same as a slash command: answered to its response_url alone, for alice's eyes.
        let slash = Self.slashCommand("ip 203.0.113.45", responseURL: slack.responseURL("s1"))
        var slashHeaders = FakeSlack.signatureHeaders(for: slash)
        slashHeaders["Content-Type"] = "application/x-www-form-urlencoded"
        #expect(try await server.call("POST", "/slack/commands", body: slash, credentials: .none, headers: slashHeaders)
            .status == 200)
        let ephemeral = try await Self.commandAnswers(slack) { !$0.isEmpty }
        #expect(ephemeral.first?.fields["response_type"] == "ephemeral")
        #expect(ephemeral.first?.fields["text"]?.contains("C2 of the Acme campaign") == true, "\(ephemeral)")
        #expect(slack.calls("chat.postMessage").count == 1, "nothing posted in the channel")

        // A run asks for an approval: buttons in #soc; bob's click is refused, alice's resumes it.
        let run = try await server.submit(#"{"source": "return chat.approve('#soc', 'Block 203.0.113.45?')"}"#)
        let question = try #require(try await Self.posts(slack) { $0.count == 2 }.last)
        #expect(question.arguments["channel"] == "C0SOC" && question.body.contains("automator.answer."))
        let approve = try Self.approveButton(of: question)
        for (user, name) in [("U0BOB", "bob"), ("U0ALICE", "alice")] {
            #expect(try await Self.click(approve, by: user, name, on: server).status == 200)
            if name == "bob" {
                let refusal = try await Self.posts(slack) { $0.count == 3 }.last?.arguments["text"] ?? ""
                #expect(refusal.contains("only people with the role approver"), "\(refusal)")
            }
        }
        let ended = try await server.waitForRun(run)
        #expect(ended["status"] as? String == "completed", "\(ended)")
        #expect("\(ended["result"] ?? "")".contains("slack:alice"), "\(ended)")

        // Another approval, answered through the API by whoever holds its token; once only. The
        // question is found by its text: "alice answered" is posted after her answer is kept, which
        // resumes the first run, so under load it may come after the second question.
        let second = try await server.submit(#"{"source": "return chat.approve('#soc', 'Disable mallory?')"}"#)
        let posted = try await Self.posts(slack) { $0.count == 5 && $0.contains { $0.body.contains("Disable mallory?") } }
        #expect(posted.contains { $0.arguments["text"]?.contains("answered: approve") == true }, "\(posted)")
        let asked = try #require(posted.first { $0.body.contains("Disable mallory?") }, "\(posted)")
        let value = try #require(asked.body.range(of: "Q-[0-9a-f]{8}", options: .regularExpression).map { String(asked.body[$0]) })
        // Marked posted once Slack has it, a commit after the post the test saw.
        var open: [[String: Any]] = []
        #expect(try await TestSupport.eventually {
            open = try await server.call("GET", "/api/v1/questions").json["questions"] as? [[String: Any]] ?? []
            return open.first?["posted"] as? Bool == true
        }, "\(open)")
        #expect(open.map { $0["id"] as? String } == [value], "\(open)")
        let wrong = try await server.call("POST", "/api/v1/questions/\(value)/answer", body: #"{"choice": "perhaps"}"#)
        #expect(wrong.status == 400 && wrong.body.contains("takes one of: approve, deny"), "\(wrong.body)")
        #expect(try await server.call("POST", "/api/v1/questions/Q-00000000/answer", body: #"{"choice": "deny"}"#).status == 404)
        #expect(try await server.call("POST", "/api/v1/questions/\(value)/answer",
                                      body: #"{"choice": "deny", "by": "carol"}"#).status == 200)
        let denied = try await server.waitForRun(second)
        #expect(denied["status"] as? String == "completed" && "\(denied["result"] ?? "")".contains("api:carol"), "\(denied)")
        #expect((try await server.call("GET", "/api/v1/questions").json["questions"] as? [[String: Any]])?.isEmpty == true)
        #expect(try await server.call("POST", "/api/v1/questions/\(value)/answer", body: #"{"choice": "approve"}"#).status == 409)
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("Over Socket Mode, through the company's proxy: no address Slack must reach, the same answers")
    func socketMode() async throws {
        let slack = try await FakeSlack()
        let socket = try await FakeSlackSocket()
        // Names only the proxy can reach: the Web API and the WebSocket go through it, or nowhere.
        slack.state.withLock { $0.socketURL = { "ws://wss-primary.slack.test:\(socket.port)/link/?ticket=1" } }
        let proxy = try await LoopbackProxy()
        let (server, folder) = try await Self.serve(chat: """
              roles: { analyst: [alice] }
              slack:
                bot_token: \(FakeSlack.token)
                app_token: \(FakeSlack.appToken)
                api_url: http://slack.test:\(URL(string: slack.url)!.port!)/api
            """, environment: ["HTTP_PROXY": proxy.url])
        defer { withExtendedLifetime(folder) {} }
        let deadline = Date().addingTimeInterval(20)
        while socket.connections == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(socket.connections == 1)

        let command = Self.message("!ip 203.0.113.45", ts: "1700000002.000200", event: "Ev1")
        try await socket.send(#"{"envelope_id":"env-1","type":"events_api","retry_attempt":0,"payload":\#(command)}"#)
        let answers = try await Self.posts(slack) { !$0.isEmpty }
        #expect(answers.first?.arguments["thread_ts"] == "1700000002.000200")
        #expect(answers.first?.arguments["text"]?.contains("C2 of the Acme campaign") == true, "\(answers)")
        #expect(socket.received.contains(#"{"envelope_id":"env-1"}"#), "\(socket.received)")
        let slash = Self.slashCommand("ip 203.0.113.45", responseURL: "http://slack.test:\(URL(string: slack.url)!.port!)/commands/s1")
        let fields = slash.split(separator: "&").reduce(into: [String: String]()) { fields, pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            fields[String(parts[0])] = String(parts[1]).removingPercentEncoding
        }
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
        try await socket.send(#"{"envelope_id":"env-2","type":"slash_commands","accepts_response_payload":true,"payload":\#(payload)}"#)
        let ephemeral = try await Self.commandAnswers(slack) { !$0.isEmpty }
        #expect(ephemeral.first?.fields["text"]?.contains("C2 of the Acme campaign") == true, "\(ephemeral)")
        #expect(socket.received.contains(#"{"envelope_id":"env-2"}"#), "\(socket.received)")
        #expect(proxy.requests.contains("CONNECT wss-primary.slack.test:\(socket.port) HTTP/1.1"), "\(proxy.requests)")
        #expect(proxy.requests.contains { $0.hasPrefix("CONNECT slack.test:") }, "\(proxy.requests)")
        // Without a signing secret, nothing is taken over HTTP, however it is signed.
        #expect(try await server.call("POST", "/slack/events", body: command, credentials: .none,
                                      headers: Self.signed(command)).status == 401)
        server.terminate()
        _ = await server.waitForExit()
        for _ in 0..<100 where socket.closedByClient == 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(socket.closedByClient == 1, "the connection is closed, with a closing frame, on the way out")
    }

    /// The seed's flow: `join all` and `verbose on` in a direct message, then an IP, a URL, an
    /// uploaded file, an MD5 and a SHA-256 answered with their verdicts; a benign finding in a
    /// channel that is not verbose gets no answer. Bad requests change nothing.
    @Test("join all, verbose on, then each kind of finding answered; silence for benign where not verbose")
    func seedFlow() async throws {
        let slack = try await FakeSlack()
        let folder = try TemporaryFolder()
        let md5 = "44d88612fea8a8f36de82e1278abb02f"
        let sha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
        // The SHA-256 of the fake's report.csv (FakeSlack.report).
        let uploaded = "3650463965fc2ea094f0ff311249d3e3df2c7043d33aabc2ab1ae3f1528b977a"
        try folder.write("feeds/bad.txt", """
            203.0.113.45 C2 of the Acme campaign
            http://login-example.com/reset credential phishing
            \(md5) EICAR test file
            \(sha256) dropper of the Acme campaign
            \(uploaded) report stealer
            """)
        try folder.write("feeds/ours.txt", "192.0.2.0/24 our office\n")
        try folder.write("automator.yml", """
            feeds:
              - { name: bad, path: feeds/bad.txt, verdict: malicious }
              - { name: ours, path: feeds/ours.txt, verdict: allowlist }
            chat:
              roles: { analyst: [alice] }
              slack: { signing_secret: \(FakeSlack.signingSecret), bot_token: \(FakeSlack.token), api_url: "\(slack.apiURL)" }
            """)
        let server = try await ServerProcess.start(
            data: folder.url.appendingPathComponent("data"), scripts: Self.scripts,
            arguments: ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path])
        var events = 0
        /// The bot's answer; nil if none came within `patience` seconds.
        func send(_ text: String, in channel: String, files: [[String: Any]]? = nil, patience: TimeInterval = 20)
            async throws -> String?
        {
            events += 1
            let before = slack.calls("chat.postMessage").count
            let ts = "17000000\(10 + events).000100"
            let body = Self.message(text, ts: ts, channel: channel, event: "Ev\(events)", files: files)
            #expect(try await server.call("POST", "/slack/events", body: body, credentials: .none,
                                          headers: Self.signed(body)).status == 200)
            let posts = try await Self.posts(slack, timeout: patience) { $0.count > before }
            return posts.count > before ? posts[before].arguments["text"] : nil
        }

        #expect(try await send("join all", in: "D0ALICE") == "Watching #secret-ops, #soc.")
        #expect(slack.calls("conversations.join").map { $0.arguments["channel"] ?? "" }.sorted() == ["C0SOC", "G0OPS"])
        // An announcement channel would swallow the verdicts: refused, and left again.
        let news = try await send("join C0NEWS", in: "D0ALICE") ?? ""
        #expect(news.hasPrefix("Could not join C0NEWS: ") && news.contains("the bot may not post in #news (C0NEWS)")
            && news.contains("posting permissions"), "\(news)")
        #expect(slack.calls("conversations.leave").map { $0.arguments["channel"] } == ["C0NEWS"])
        #expect(try await send("verbose on #soc", in: "D0ALICE") == "Verbose on in #soc.")
        let checks: [(String, String)] = [
            ("who is 203.0.113.45?", "C2 of the Acme campaign"),
            ("clicked hxxp://login-example[.]com/reset", "credential phishing"),
            ("sample \(md5)", "EICAR test file"),
            ("and \(sha256)", "dropper of the Acme campaign"),
        ]
        for (text, reason) in checks {
            let answer = try await send(text, in: "C0SOC") ?? ""
            #expect(answer.contains("malicious") && answer.contains(reason), "\(text): \(answer)")
        }
        let file = slack.file("F0REPORT", name: "report.csv", size: FakeSlack.report.count)
        let fileAnswer = try await send("here is the report", in: "C0SOC", files: [file]) ?? ""
        #expect(fileAnswer.contains("report.csv") && fileAnswer.contains("report stealer"), "\(fileAnswer)")
        #expect(try await send("the office is 192.0.2.10", in: "C0SOC")?.contains("benign") == true, "verbose: answered")
        #expect(try await send("the office is 192.0.2.10", in: "G0OPS", patience: 1) == nil, "not verbose: benign is quiet")

        // A stale timestamp and malformed JSON are refused, and nothing is answered.
        let before = slack.calls("chat.postMessage").count
        let stale = Self.message("!ip 203.0.113.45", ts: "1700000099.000100", event: "EvStale")
        var headers = FakeSlack.signatureHeaders(for: stale, at: Date().addingTimeInterval(-600))
        headers["Content-Type"] = "application/json"
        #expect(try await server.call("POST", "/slack/events", body: stale, credentials: .none, headers: headers).status == 401)
        let malformed = #"{"type": "event_callback", "event": {"#
        #expect(try await server.call("POST", "/slack/events", body: malformed, credentials: .none,
                                      headers: Self.signed(malformed)).status == 400)
        try await Task.sleep(for: .milliseconds(300))
        #expect(slack.calls("chat.postMessage").count == before)
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("An edit in a war room: journaled as an edit, what it added answered in the message's thread, the rest not again; <url|label> checks the URL and the label, each indicator once")
    func edits() async throws {
        let slack = try await FakeSlack()
        let (server, folder) = try await Self.serve(chat: """
              roles: { analyst: [alice] }
              slack: { signing_secret: \(FakeSlack.signingSecret), bot_token: \(FakeSlack.token), api_url: "\(slack.apiURL)" }
            """)
        defer { withExtendedLifetime(folder) {} }
        var events = 0
        /// Posts the event, and returns the bot's answers since (once there are `expecting`).
        func send(_ event: [String: Any], expecting: Int = 1) async throws -> [FakeSlack.Call] {
            events += 1
            let before = slack.calls("chat.postMessage").count
            let envelope: [String: Any] = ["type": "event_callback", "team_id": "T0EXAMPLE", "event": event,
                                           "event_id": "Ev\(events)", "event_time": 1_700_000_000]
            let body = String(decoding: try JSONSerialization.data(withJSONObject: envelope), as: UTF8.self)
            #expect(try await server.call("POST", "/slack/events", body: body, credentials: .none,
                                          headers: Self.signed(body)).status == 200)
            return Array(try await Self.posts(slack) { $0.count >= before + expecting }.dropFirst(before))
        }
        func say(_ text: String, in channel: String = "C0SOC", ts: String) async throws -> [FakeSlack.Call] {
            try await send(["type": "message", "channel": channel, "user": "U0ALICE", "text": text, "ts": ts,
                            "channel_type": channel.hasPrefix("D") ? "im" : "channel"])
        }

        _ = try await say("join all", in: "D0ALICE", ts: "1700000001.000100")
        _ = try await say("verbose on #soc", in: "D0ALICE", ts: "1700000002.000100")
        let opened = try await say("!incident new Phishing wave", ts: "1700000003.000100")
        #expect(opened.first?.arguments["text"]?.hasPrefix("Opened INC-1") == true, "\(opened)")

        let seen = "1700000004.000100"
        let first = try await say("the proxy saw 198.51.100.9", ts: seen)
        #expect(first.first?.arguments["text"]?.contains("198.51.100[.]9") == true, "\(first)")
        let edit: [String: Any] = [
            "type": "message", "subtype": "message_changed", "hidden": true, "channel": "C0SOC", "channel_type": "channel",
            "ts": "1700000005.000100",
            "message": ["type": "message", "user": "U0ALICE", "text": "the proxy saw 198.51.100.9 and 203.0.113.45",
                        "ts": seen, "edited": ["user": "U0ALICE", "ts": "1700000005.000100"]] as [String: Any],
            "previous_message": ["type": "message", "user": "U0ALICE", "text": "the proxy saw 198.51.100.9", "ts": seen],
        ]
        let added = try await send(edit)
        #expect(added.count == 1 && added.first?.arguments["thread_ts"] == seen, "in the message's thread: \(added)")
        let text = added.first?.arguments["text"] ?? ""
        #expect(text.contains("203.0.113[.]45") && text.contains("C2 of the Acme campaign"), "\(text)")
        #expect(!text.contains("198.51.100[.]9"), "answered for the message already: \(text)")
        let journal = try await server.call("GET", "/api/v1/incidents/INC-1/journal").json["journal"] as? [[String: Any]]
        #expect(journal?.contains {
            $0["kind"] as? String == "chat" && $0["actor"] as? String == "slack:alice"
                && $0["text"] as? String == "edited: the proxy saw 198.51.100.9 and 203.0.113.45"
        } == true, "\(journal ?? [])")

        let labelled = try await say("reset it at <http://203.0.113.45/reset|the wiki at docs.example.org>",
                                     ts: "1700000006.000100")
        let checked = labelled.first?.arguments["text"]?.split(separator: "\n") ?? []
        #expect(checked.count == 2 && checked[0].contains("`hxxp://203.0.113[.]45/reset`: malicious")
                    && checked[1].contains("`docs.example[.]org`"),
                "the URL with its host's verdict, once, and the label's domain: \(checked)")
        // Slack's own link of a name typed: the label repeats the host, answered once.
        let linked = try await say("see <http://wiki.example.org|wiki.example.org>", ts: "1700000007.000100")
        let once = linked.first?.arguments["text"]?.split(separator: "\n") ?? []
        #expect(once.count == 2 && once[0].contains("`hxxp://wiki.example[.]org`") && once[1].contains("`wiki.example[.]org`"),
                "\(once)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(slack.calls("chat.postMessage").count == 7, "one answer each")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }
}
